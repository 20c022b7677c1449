"""Time the money impact (core.money.impact.money_impact) of a stored run on the default demo chain.

    .venv/bin/python benchmarks/bench_impact.py [--models practice,naive,snaive,ma,ets,lgbm] [--cache DIR]
    .venv/bin/python benchmarks/bench_impact.py --warehouse FILE [--run ID] [--repeat 3]

Generates the default chain (10 stores x 50 items, 3 years), backtests the ladder once
(not timed; with ``--cache`` the forecasts are kept in DIR and reused, so the impact of
two versions of the code can be timed on the same forecasts), then times the money
impact of every model at each item's chosen level and every fixed level, three times,
and prints the best time and the ranking it gives.

With ``--warehouse FILE`` (e.g. one kept by ``bench_national.py --keep DIR``): times
``core.money.run_impact.run_impact`` of a stored run (``--run``, default the newest) as the
Money page computes it, in a fresh process each time (``--repeat``), on a copy of FILE
(FILE is never written), with the process's peak RSS and where the time went: reading the
run and the data, the quantiles, the shelf.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest  # noqa: E402
from core.backtest.splits import SplitConfig  # noqa: E402
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo  # noqa: E402
from core.money.impact import ImpactConfig, money_impact  # noqa: E402
from core.warehouse import Warehouse  # noqa: E402


# Where the time of a run's money impact goes: (module, function) timed when called.
PHASES = (("core.backtest.store", "run_forecast_rows", "read the forecasts"),
          ("core.money.run_impact", "_impact_data", "read the data"),
          ("core.money.impact", "_quantile_offsets", "quantiles (conformal)"),
          ("core.money.impact", "_error_scale", "errors (RMSE)"),
          ("core.money.impact", "_replay_practice", "today's stock replayed"),
          ("core.money.impact", "replay", "the shelf (every policy)"),
          ("core.money.impact", "choose_levels", "each item's level"))


def one_run(path: str, run_id: str) -> dict:
    """``run_impact`` of ``run_id`` timed in this process, phase by phase (``PHASES``)."""
    import functools
    import importlib
    import resource
    spent: dict[str, float] = {}
    for module, name, label in PHASES:
        owner = importlib.import_module(module)
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, _original=original, _label=label, **kwargs):
            tic = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_label] = spent.get(_label, 0.0) + time.perf_counter() - tic

        setattr(owner, name, timed)
    from core.money.run_impact import run_impact
    warehouse = Warehouse(Path(path))
    tic = time.perf_counter()
    impact = run_impact(warehouse, run_id).impact
    wall = time.perf_counter() - tic
    warehouse.close()
    return {"seconds": wall, "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
            "phases": spent, "policies": len(impact.summary)}


def saved_warehouse(path: Path, run_id: str | None, repeat: int) -> int:
    import shutil
    with tempfile.TemporaryDirectory(prefix="bench-impact-") as tmp:
        copy = Path(tmp) / "w.duckdb"
        shutil.copy(path, copy)
        warehouse = Warehouse(copy)
        runs = warehouse.query("SELECT run_id, n_series FROM runs WHERE run_id = coalesce(?, run_id) "
                               "ORDER BY created_at DESC LIMIT 1", [run_id])
        warehouse.close()
        if runs.empty:
            raise SystemExit(f"no run {run_id or ''} in {path}")
        run_id = str(runs["run_id"].iloc[0])
        print(f"run {run_id}: {int(runs['n_series'].iloc[0]):,} series", flush=True)
        for _ in range(repeat):
            _time_in_fresh_process(copy, run_id)
    return 0


def _time_in_fresh_process(path: Path, run_id: str) -> None:
    import json
    import subprocess
    done = subprocess.run([sys.executable, __file__, "--one", str(path), run_id], capture_output=True, text=True,
                          cwd=ROOT)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit("run_impact failed")
    got = json.loads(done.stdout.strip().splitlines()[-1])
    phases = ", ".join(f"{label} {seconds:.2f}" for label, seconds in got["phases"].items())
    print(f"money {got['seconds']:.2f} s, peak RSS {got['rss_gb']:.2f} GB ({phases})", flush=True)


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        import json
        print(json.dumps(one_run(sys.argv[2], sys.argv[3])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="practice,naive,snaive,ma,ets,lgbm")
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--service-level", type=float, default=None, help="one level for every item (default: "
                        "each item's best level in the other folds)")
    parser.add_argument("--cache", type=Path, default=None, help="folder keeping the backtest's forecasts")
    parser.add_argument("--warehouse", type=Path, default=None, help="time a stored run of this warehouse file")
    parser.add_argument("--run", default=None, help="the run to time (default: the newest)")
    parser.add_argument("--repeat", type=int, default=1, help="fresh processes to time it in")
    args = parser.parse_args()
    if args.warehouse is not None:
        return saved_warehouse(args.warehouse, args.run, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Warehouse(Path(tmp) / "bench.duckdb")
        dataset = load_demo(warehouse, DemoConfig(end_date=REFERENCE_END_DATE))
        data = dataset_data(warehouse, dataset)
        items = warehouse.side_table(dataset, "items")
        cached = args.cache / f"forecasts_{args.models.replace(',', '_')}_{args.folds}x{args.horizon}.parquet" \
            if args.cache else None
        if cached is not None and cached.exists():
            forecasts = pd.read_parquet(cached)
            print(f"backtest: read from {cached}")
        else:
            config = BacktestConfig(split=SplitConfig(horizon=args.horizon, folds=args.folds),
                                    models=tuple(ModelSpec.of(m) for m in args.models.split(",")))
            start = time.perf_counter()
            forecasts = run_backtest(data, config).forecasts
            print(f"backtest ({args.models}; {dataset.n_series} series, {args.folds} x {args.horizon}): "
                  f"{time.perf_counter() - start:.1f} s (not timed below)")
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                forecasts.to_parquet(cached)
        times, cpu = [], []  # wall and this process's CPU time (steadier on a shared machine)
        for _ in range(3):
            start, start_cpu = time.perf_counter(), time.process_time()
            impact = money_impact(forecasts, data, ImpactConfig(service_level=args.service_level), items=items)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        print(f"money impact, {dataset.n_series} series x {args.folds} folds x {args.horizon} days, "
              f"{forecasts['model'].nunique()} policies x {len(impact.config.sensitivity) + 1} levels: "
              f"best {min(times):.2f} s of {', '.join(f'{t:.2f}' for t in times)} (CPU best {min(cpu):.2f} s)")
        for row in impact.summary.itertuples():
            line = (f"  {row.policy:10s} yearly savings ¥{row.yearly_savings:>14,.0f}  waste "
                    f"¥{row.yearly_waste_cost:>12,.0f}  stockout days {row.stockout_rate:.1%}")
            levels = impact.sensitivity[impact.sensitivity["policy"] == row.policy]
            if not levels.empty:  # each item's level (held out) against the best single level (in hindsight)
                best = levels.loc[levels["yearly_profit"].idxmax()]
                line += (f"  | per item ¥{row.yearly_profit:,.0f} vs best single level {best['service_level']:.0%} "
                         f"¥{best['yearly_profit']:,.0f}")
            print(line)
        rules = impact.ordering_rules  # both ordering rules at each item's chosen level
        print(f"ordering rules at {impact.config.level_label}: the quantile rule earns more for "
              f"{impact.quantile_wins} of {len(rules)} models")
        for row in rules.itertuples():
            print(f"  {row.policy:10s} normal ¥{row.normal_yearly_profit:>14,.0f}  quantile "
                  f"¥{row.quantile_yearly_profit:>14,.0f}  gain ¥{row.quantile_gain:>13,.0f}  -> {row.better}")
        warehouse.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
