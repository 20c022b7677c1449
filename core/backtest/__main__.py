"""Batch backtests on any long-format file, and forecasts made elsewhere added to a run:

    python -m core.backtest --data FILE --series-cols a,b --date-col d --target-col y --freq D|W|M \\
        --horizon 28 --folds 3 [--step S] --models snaive,ets,theta,lgbm --json OUT.json --forecasts OUT.parquet \\
        [--repair fill_gaps=zero ...] [--external NAME=FILE [--effort-weeks N] [--description TEXT]] \\
        [--scheduler tcp://HOST:8786]

    python -m core.backtest --run RUN_ID --external NAME=FILE [--effort-weeks N] [--description TEXT] \\
        [--json OUT.json] [--data FILE --series-cols ... --date-col ... --target-col ... --freq ...]

    python -m core.backtest --run RUN_ID --remove-external NAME [--json OUT.json]

The file is read and validated like an import (CSV, Parquet or Excel), with the repairs
the Import page offers given as ``--repair NAME=VALUE``; the importer's notes go to stderr.
The warehouse ($MITOSHI_WAREHOUSE or --warehouse) is opened before any work, so a path
that cannot be written fails at once. The run is summarised as JSON (run id and, per
model, every metric and its seconds) and the long forecasts go to Parquet with columns
series, date, cutoff, actual, model, forecast; both are written even when storing the
run fails. Bad arguments or a bad file: one line on stderr and exit code 2.

``--scheduler tcp://HOST:PORT`` (default ``$MITOSHI_DASK_SCHEDULER``) runs the models on
that Dask cluster, the series sharded across its workers (``core.backtest.distributed``);
the folds, the scoring, the JSON, the Parquet and the stored run are as for a run here. A
scheduler that cannot be reached fails at once, before the file is read.

``--external NAME=FILE`` (repeatable) adds forecasts made elsewhere — a file of series,
date, cutoff, forecast and optional quantile columns (``core.backtest.external``) — to
the run just made, or with ``--run RUN_ID`` to a stored run; they are validated against
the run and scored like its built-in models, and the JSON lists them under ``models``
with every metric (seconds null: they used none of the run's) and under ``external``
with their stated effort and the quantile levels they state (``stated_quantiles``:
scored as stated; their other levels are cross-conformal, as every built-in model's). ``--effort-weeks`` and ``--description`` are given once for
all, or once per ``--external`` in the same order. A run made from a file needs that
file again (``--data`` and its columns) to rebuild the history its scores are scaled
by. Names are compared ignoring case and must differ across all ``--external`` (checked
before any work); every file is validated first, then all are stored in ONE transaction:
all of them or none. ``--remove-external`` names are all checked before any is removed.
Every problem is printed on stderr, with what was (not) stored.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import get_args, get_type_hints

from core.backtest import external
from core.backtest.distributed import ENV as SCHEDULER_ENV
from core.backtest.distributed import DaskExecutor, scheduler_address
from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, Progress, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import get_run, load_result, save_run
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


def _external(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise argparse.ArgumentTypeError(f"--external takes NAME=FILE (e.g. nbeats=forecasts.csv), not '{text}'")
    return name.strip(), Path(path.strip())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core.backtest", description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, help="long-format CSV, Parquet or Excel file")
    p.add_argument("--series-cols", type=_names, help="columns that identify a series, comma-separated")
    p.add_argument("--date-col")
    p.add_argument("--target-col")
    p.add_argument("--freq", choices=[f.value for f in Freq])
    p.add_argument("--horizon", type=int)
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
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help=f"run the models on this Dask cluster, the series sharded across its workers "
                        f"(default: ${SCHEDULER_ENV}; unset: on this machine)")
    p.add_argument("--shards", type=int, default=None,
                   help="with --scheduler: sets of series to cut the data into (default: the cluster's threads)")
    p.add_argument("--run", default=None, metavar="RUN_ID",
                   help="a stored run to add forecasts made elsewhere to (no backtest is run)")
    p.add_argument("--external", type=_external, action="append", default=[], metavar="NAME=FILE",
                   help="forecasts made elsewhere: a file of series, date, cutoff, forecast (and optional quantile "
                        "columns q0.1, q0.9 or p10, p90) scored as model ext:NAME; repeat for several")
    p.add_argument("--effort-weeks", type=float, action="append", default=[], metavar="N",
                   help="the effort the forecasts made elsewhere took, in person-weeks (once, or once per --external)")
    p.add_argument("--description", action="append", default=[], metavar="TEXT",
                   help="what the forecasts made elsewhere are (once, or once per --external)")
    p.add_argument("--remove-external", action="append", default=[], metavar="NAME",
                   help="remove forecasts made elsewhere from the run given by --run")
    return p


def _check(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Combinations argparse cannot check: what a backtest needs, what --run needs."""
    reading = ("data", "series_cols", "date_col", "target_col", "freq")
    if args.run is None:
        absent = [f"--{n.replace('_', '-')}" for n in (*reading, "horizon") if getattr(args, n) is None]
        if absent:
            p.error(f"the following arguments are required without --run: {', '.join(absent)}")
        if args.remove_external:
            p.error("--remove-external needs --run RUN_ID: the run to remove the forecasts from")
        if args.shards is not None and not (args.scheduler or scheduler_address()):
            p.error(f"--shards cuts the series for a Dask cluster: give --scheduler tcp://HOST:PORT "
                    f"(or set {SCHEDULER_ENV})")
    else:
        if args.scheduler:
            p.error("--scheduler runs a backtest on a Dask cluster; --run adds forecasts to a stored run and runs "
                    "none: drop one of them")
        if not args.external and not args.remove_external:
            p.error("--run adds forecasts made elsewhere to a stored run: give --external NAME=FILE "
                    "(or --remove-external NAME)")
        if args.data is not None:
            absent = [f"--{n.replace('_', '-')}" for n in reading[1:] if getattr(args, n) is None]
            if absent:
                p.error(f"--data with --run is read as the run's file: give {', '.join(absent)} too")
    n = len(args.external)
    for flag, values in (("--effort-weeks", args.effort_weeks), ("--description", args.description)):
        if values and not n:
            p.error(f"{flag} describes forecasts made elsewhere: give --external NAME=FILE")
        if len(values) not in (0, 1, n):
            p.error(f"give {flag} once for all, or once per --external ({n}), not {len(values)} times")
    for _, path in args.external:
        if not path.is_file():
            p.error(f"--external: {path}: no such file")
    first: dict[str, str] = {}
    for name, _ in args.external:  # before any work: a backtest of minutes, then a refused name, would be a waste
        if name.casefold() in first:
            p.error(f"--external names '{first[name.casefold()]}' and '{name}' are the same name (names are compared "
                    "ignoring case): give each file its own name")
        first[name.casefold()] = name


def _each(values: list, n: int, default: object) -> list:
    return values * n if len(values) == 1 else (values or [default] * n)


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
    p = parser()
    args = p.parse_args(argv)
    _check(p, args)
    try:
        config = None if args.run else BacktestConfig(
            split=SplitConfig(horizon=args.horizon, folds=args.folds, step=args.step, gap=args.gap),
            models=tuple(ModelSpec.of(alias) for alias in args.models),
        )
        # Open the warehouse first: a path that cannot be written fails before minutes of work.
        warehouse = Warehouse(args.warehouse or warehouse_path())
    except MitoshiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    executor = None
    address = None if args.run else (args.scheduler or scheduler_address())
    if address:  # a cluster that cannot be reached fails before the file is read, too
        try:
            executor = DaskExecutor(address, shards=args.shards)
        except MitoshiError as error:
            warehouse.close()
            print(f"error: {error}", file=sys.stderr)
            return 2
        workers, threads = len(executor.client.nthreads()), executor.threads()
        print(f"models run on the Dask cluster at {address}: {workers} worker{'s' * (workers != 1)}, "
              f"{threads} thread{'s' * (threads != 1)}", file=sys.stderr)
    made, removed, stage = None, [], "add"
    try:
        if args.run:
            get_run(warehouse, args.run)
            run_id, data = args.run, (_load(args) if args.data else None)
            stage = "remove"
            removed = external.remove_externals(warehouse, run_id, args.remove_external)
            for alias in removed:
                print(f"removed {alias} from run {run_id}", file=sys.stderr)
            stage = "add"
        else:
            data = _load(args)
            run_id = made = _backtest(args, config, data, warehouse, executor)
        _add_externals(args, warehouse, run_id, data)
        result = load_result(warehouse, run_id)
        summary = {"run_id": run_id, **result.summary(), "external": _external_summary(warehouse, run_id)}
    except external.ExternalForecastError as error:
        for problem in error.problems:  # every problem of the file, one a line
            print(f"error: {problem}", file=sys.stderr)
        print(f"error: {_what_was_stored(stage, made, removed)}", file=sys.stderr)
        return 2
    except MitoshiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        warehouse.close()
        if executor is not None:
            executor.close()
    _write_json(args, summary)
    board = result.leaderboard()
    print(board[["model", "rung", "wape", "mase", "rmsse", "bias", "seconds"]].to_string(index=False, float_format="%.3f"))
    return 0


def _backtest(args: argparse.Namespace, config: BacktestConfig, data: BacktestData, warehouse: Warehouse,
              executor: DaskExecutor | None = None) -> str:
    """Run and store the backtest (its models here, or on ``executor``'s cluster); the JSON
    and Parquet are written before storing, so a failed store loses nothing computed (the
    JSON gets its run id once the run is stored)."""
    print(f"{data.name}: {data.frame[SERIES_ID].nunique():,} {data.freq.label} series, {len(data.frame):,} rows",
          file=sys.stderr)

    def report(progress: Progress) -> None:
        print(f"[{progress.done}/{progress.total}] {progress.message}", file=sys.stderr, flush=True)

    result = run_backtest(data, config, on_progress=report, executor=executor)
    for sentence in result.accounting():
        print(f"accounted: {sentence}", file=sys.stderr)
    _write_json(args, {"run_id": None, **result.summary()})
    if args.forecasts:
        result.forecasts[list(PARQUET_COLUMNS)].rename(columns=PARQUET_COLUMNS).to_parquet(args.forecasts, index=False)
    run_id = save_run(warehouse, result, args.name)
    _write_json(args, {"run_id": run_id, **result.summary()})
    print(f"run {run_id} stored in {result.wall_seconds:.1f} s", file=sys.stderr)
    return run_id


def _what_was_stored(stage: str, made: str | None, removed: Sequence[str]) -> str:
    """The last line after refused forecasts: what the call did and did not store, truly."""
    if stage == "remove":
        return "Nothing was removed from the run, and nothing of the forecasts made elsewhere was stored."
    said = "Nothing of the forecasts made elsewhere was stored"
    if removed:
        said += f" ({', '.join(removed)} {'was' if len(removed) == 1 else 'were'} removed from the run before)"
    if made:
        said += f"; the backtest itself was stored as run {made}, without them"
    return said + "."


def _add_externals(args: argparse.Namespace, warehouse: Warehouse, run_id: str, data: BacktestData | None) -> None:
    """Validate every --external file against the run, then store them all in one
    transaction: all of them or none."""
    n = len(args.external)
    prepared, problems = [], []
    for (name, path), weeks, text in zip(args.external, _each(args.effort_weeks, n, None),
                                         _each(args.description, n, ""), strict=True):
        try:
            prepared.append(external.prepare_external(warehouse, run_id, name, path.read_bytes(), path.name,
                                                      effort_weeks=weeks, description=text, series_data=data))
        except external.ExternalForecastError as error:  # every file's problems, not only the first file's
            problems.extend(f"{name} ({path.name}): {problem}" if n > 1 else problem for problem in error.problems)
    if problems:
        raise external.ExternalForecastError(problems)
    for one in prepared:
        for note in one.notes:
            print(f"note: {one.name}: {note}", file=sys.stderr)
    external.save_externals(warehouse, prepared)
    for one in prepared:
        print(f"added {one.model} to run {run_id}: {len(one.forecasts):,} forecasts"
              + (f", quantiles {', '.join(f'{q:g}' for q in one.levels)}" if one.levels else ""), file=sys.stderr)
    if prepared:
        print(f"note: {external.LOOK_AHEAD}", file=sys.stderr)


def _external_summary(warehouse: Warehouse, run_id: str) -> dict:
    """The run's forecasts made elsewhere as the JSON lists them, by alias."""
    levels = {m: list(qs) for m, qs in external.stated_levels(warehouse, run_id).items()}
    return {m.model: {"name": m.name, "effort_weeks": m.effort_weeks, "description": m.description,
                      "source": m.source, "rows": m.n_rows, "stated_quantiles": levels.get(m.model, [])}
            for m in external.external_models(warehouse, run_id)}


def _write_json(args: argparse.Namespace, summary: dict) -> None:
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    raise SystemExit(main())
