"""Batch backtests on any long-format file:

    python -m core.backtest --data FILE --series-cols a,b --date-col d --target-col y --freq D|W|M \\
        --horizon 28 --folds 3 [--step S] --models snaive,ets,theta,lgbm --json OUT.json --forecasts OUT.parquet

The file is read and validated like an import (CSV, Parquet or Excel); the run is stored
in the warehouse ($MITOSHI_WAREHOUSE or --warehouse) and summarised as JSON (run id and,
per model, every metric and its seconds); the long forecasts go to Parquet with columns
series, date, cutoff, actual, model, forecast. Bad arguments or a bad file: one line on
stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, Progress, run_backtest
from core.backtest.splits import SplitConfig
from core.columns import DATE, SERIES_ID, SERIES_SEP, Freq
from core.errors import MitoshiError
from core.forecast.registry import DEFAULT_LADDER, MODELS
from core.importer import ColumnMapping, read_table, validate
from core.warehouse import Warehouse, warehouse_path
from core.warehouse.runs import save_run

PARQUET_COLUMNS = {SERIES_ID: "series", DATE: "date", "cutoff": "cutoff", "actual": "actual", "model": "model",
                   "forecast": "forecast"}


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


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
    report = validate(raw, mapping, name=args.data.name)
    if not report.ok:
        problem = report.problems[0]
        more = f" (+{len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        raise MitoshiError(f"{args.data.name}: {problem.message}{more}")
    frame = report.frame
    keys = report.spec.keys
    joined = frame[list(keys)].astype(str).agg(SERIES_SEP.join, axis=1) if len(keys) > 1 else frame[keys[0]].astype(str)
    frame.insert(0, SERIES_ID, joined)
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
        data = _load(args)
        print(f"{data.name}: {data.frame[SERIES_ID].nunique():,} {data.freq.label} series, {len(data.frame):,} rows",
              file=sys.stderr)

        def report(progress: Progress) -> None:
            print(f"[{progress.done}/{progress.total}] {progress.message}", file=sys.stderr, flush=True)

        result = run_backtest(data, config, on_progress=report)
        warehouse = Warehouse(args.warehouse or warehouse_path())
        try:
            run_id = save_run(warehouse, result, args.name)
        finally:
            warehouse.close()
    except MitoshiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    summary = {"run_id": run_id, **result.summary()}
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    if args.forecasts:
        result.forecasts[list(PARQUET_COLUMNS)].rename(columns=PARQUET_COLUMNS).to_parquet(args.forecasts, index=False)
    board = result.leaderboard()
    print(f"run {run_id} stored in {result.wall_seconds:.1f} s", file=sys.stderr)
    print(board[["model", "rung", "wape", "mase", "rmsse", "bias", "seconds"]].to_string(index=False, float_format="%.3f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
