"""Batch backtests on any long-format file:

    python -m core.backtest --data FILE --series-cols a,b --date-col d --target-col y --freq D|W|M \\
        --horizon 28 --folds 3 [--step S] --models snaive,ets,theta,lgbm --json OUT.json --forecasts OUT.parquet \\
        [--repair fill_gaps=zero ...]

The file is read and validated like an import (CSV, Parquet or Excel), with the repairs
the Import page offers given as ``--repair NAME=VALUE``; the importer's notes go to stderr.
The warehouse ($MITOSHI_WAREHOUSE or --warehouse) is opened before any work, so a path
that cannot be written fails at once. The run is summarised as JSON (run id and, per
model, every metric and its seconds) and the long forecasts go to Parquet with columns
series, date, cutoff, actual, model, forecast; both are written even when storing the
run fails. Bad arguments or a bad file: one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import get_args, get_type_hints

from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, Progress, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import save_run
from core.columns import DATE, SERIES_ID, Freq, series_ids
from core.data.importer import ColumnMapping, Repairs, read_table, validate
from core.errors import MitoshiError
from core.forecast.registry import DEFAULT_LADDER, MODELS
from core.warehouse import Warehouse, warehouse_path

PARQUET_COLUMNS = {SERIES_ID: "series", DATE: "date", "cutoff": "cutoff", "actual": "actual", "model": "model",
                   "forecast": "forecast"}


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def repair_choices() -> dict[str, tuple[str, ...]]:
    """Each repair of the Import page and the values ``--repair NAME=VALUE`` takes for it."""
    choices = {}
    for name, hint in get_type_hints(Repairs).items():  # bool, or Literal[...] | None
        options = tuple(value for arg in get_args(hint) for value in get_args(arg) if isinstance(value, str))
        choices[name] = options or ("yes",)
    return choices


def _repair(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    choices = repair_choices()
    name, value = name.strip(), value.strip() or "yes"
    if name not in choices:
        raise argparse.ArgumentTypeError(
            f"unknown repair '{name}'; known: " + ", ".join(f"{n}={'|'.join(v)}" for n, v in choices.items()))
    if choices[name] == ("yes",):
        if value.lower() not in ("yes", "true", "1"):
            raise argparse.ArgumentTypeError(f"--repair {name} takes no value other than yes")
        return name, True
    if value not in choices[name]:
        raise argparse.ArgumentTypeError(f"--repair {name}= takes one of {', '.join(choices[name])}, not '{value}'")
    return name, value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core.backtest", description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path, help="long-format CSV, Parquet or Excel file")
    p.add_argument("--series-cols", required=True, type=_names, help="columns that identify a series, comma-separated")
    p.add_argument("--date-col", required=True)
    p.add_argument("--target-col", required=True)
    p.add_argument("--freq", required=True, choices=[f.value for f in Freq])
    p.add_argument("--horizon", required=True, type=int)
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--step", type=int, default=None, help="periods between cutoffs (default: the horizon)")
    p.add_argument("--gap", type=int, default=0, help="periods between a cutoff and its first forecast")
    p.add_argument("--models", type=_names, default=DEFAULT_LADDER,
                   help=f"comma-separated aliases of {', '.join(MODELS)} (default: {','.join(DEFAULT_LADDER)})")
    p.add_argument("--exog-known", type=_names, default=(), help="columns known in advance (price, promo, ...)")
    p.add_argument("--repair", type=_repair, action="append", default=[], metavar="NAME=VALUE",
                   help="a repair the Import page offers, e.g. fill_gaps=zero or drop_short_series=yes; "
                        "repeat for several (names: " + ", ".join(repair_choices()) + ")")
    p.add_argument("--json", type=Path, help="write the summary here")
    p.add_argument("--forecasts", type=Path, help="write the long forecasts here (Parquet)")
    p.add_argument("--warehouse", type=Path, default=None, help="warehouse file (default: $MITOSHI_WAREHOUSE)")
    p.add_argument("--name", default=None, help="name of the stored run")
    return p


def _load(args: argparse.Namespace) -> BacktestData:
    if not args.data.is_file():
        raise MitoshiError(f"{args.data}: no such file.")
    raw = read_table(args.data.read_bytes(), args.data.name)
    mapping = ColumnMapping(keys=args.series_cols, date=args.date_col, target=args.target_col,
                            exog_known=args.exog_known, freq=Freq(args.freq))
    report = validate(raw, mapping, Repairs(**dict(args.repair)), name=args.data.name)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if not report.ok:
        problem = report.problems[0]
        more = f" (+{len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        more += " Once repaired, later checks may find more."
        fix = ""
        if problem.repair:
            fix = f" To repair: --repair {problem.repair}={'|'.join(repair_choices()[problem.repair])}."
        raise MitoshiError(f"{args.data.name}: {problem.message}{fix}{more}")
    frame = report.frame
    keys = report.spec.keys
    frame.insert(0, SERIES_ID, series_ids(frame, keys))
    frame = frame.sort_values([SERIES_ID, DATE]).reset_index(drop=True)
    return BacktestData(frame=frame, freq=report.freq, name=args.data.name, keys=keys,
                        exog_known=report.spec.exog_known)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = BacktestConfig(
            split=SplitConfig(horizon=args.horizon, folds=args.folds, step=args.step, gap=args.gap),
            models=tuple(ModelSpec.of(alias) for alias in args.models),
        )
        # Open the warehouse first: a path that cannot be written fails before minutes of work.
        warehouse = Warehouse(args.warehouse or warehouse_path())
    except MitoshiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        data = _load(args)
        print(f"{data.name}: {data.frame[SERIES_ID].nunique():,} {data.freq.label} series, {len(data.frame):,} rows",
              file=sys.stderr)

        def report(progress: Progress) -> None:
            print(f"[{progress.done}/{progress.total}] {progress.message}", file=sys.stderr, flush=True)

        result = run_backtest(data, config, on_progress=report)
        for sentence in result.accounting():
            print(f"accounted: {sentence}", file=sys.stderr)
        # The results are written before storing, so a failed store loses nothing computed;
        # the JSON gets its run id once the run is stored.
        summary = {"run_id": None, **result.summary()}
        _write_json(args, summary)
        if args.forecasts:
            result.forecasts[list(PARQUET_COLUMNS)].rename(columns=PARQUET_COLUMNS).to_parquet(args.forecasts,
                                                                                                index=False)
        run_id = save_run(warehouse, result, args.name)
    except MitoshiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        warehouse.close()
    _write_json(args, summary | {"run_id": run_id})
    board = result.leaderboard()
    print(f"run {run_id} stored in {result.wall_seconds:.1f} s", file=sys.stderr)
    print(board[["model", "rung", "wape", "mase", "rmsse", "bias", "seconds"]].to_string(index=False, float_format="%.3f"))
    return 0


def _write_json(args: argparse.Namespace, summary: dict) -> None:
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    raise SystemExit(main())
