"""Time the money impact (core.money.impact.money_impact) of a stored run on the default demo chain.

    .venv/bin/python benchmarks/bench_impact.py [--models practice,naive,snaive,ma,ets,lgbm] [--cache DIR]

Generates the default chain (10 stores x 50 items, 3 years), backtests the ladder once
(not timed; with ``--cache`` the forecasts are kept in DIR and reused, so the impact of
two versions of the code can be timed on the same forecasts), then times the money
impact of every model at each item's chosen level and every fixed level, three times,
and prints the best time and the ranking it gives.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="practice,naive,snaive,ma,ets,lgbm")
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--service-level", type=float, default=None, help="one level for every item (default: "
                        "each item's best level in the other folds)")
    parser.add_argument("--cache", type=Path, default=None, help="folder keeping the backtest's forecasts")
    args = parser.parse_args()
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
