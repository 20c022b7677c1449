"""Time the backtest ladder on a demo chain: wall time, peak memory, accuracy per model.

    .venv/bin/python benchmarks/bench_backtest.py                       # default ladder, 500 series
    .venv/bin/python benchmarks/bench_backtest.py --stores 100 --items 500 --models naive,snaive,ma,lgbm

The chain is generated in memory (not timed); the backtest is 3 folds x 28 days by
default, exactly as the Backtest page and the command line run it. The reference for
the default chain is Nixtla's statsforecast + mlforecast doing the equivalent
cross-validation (benchmarks/bench_reference_nixtla.py).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, Progress, run_backtest  # noqa: E402
from core.backtest.splits import SplitConfig  # noqa: E402
from core.columns import DATE, SERIES_ID, Freq  # noqa: E402
from core.data.demo import REFERENCE_END_DATE, DemoConfig, generate_chain  # noqa: E402
from core.forecast.registry import DEFAULT_LADDER  # noqa: E402


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def chain_data(stores: int, items: int, years: int) -> BacktestData:
    """The demo chain generated in memory (not stored), as the Backtest page backtests it."""
    sales = generate_chain(DemoConfig(stores=stores, items=items, years=years, end_date=REFERENCE_END_DATE)).sales
    sales.insert(0, SERIES_ID, sales["store_id"].astype(str) + "/" + sales["item_id"].astype(str))
    sales = sales.sort_values([SERIES_ID, DATE]).reset_index(drop=True)
    # text as the warehouse gives it to a backtest: categoricals with sorted categories
    text = [c for c in sales.columns if pd.api.types.is_string_dtype(sales[c]) or isinstance(sales[c].dtype, pd.CategoricalDtype)]
    sales = sales.astype({c: pd.CategoricalDtype(sorted(sales[c].dropna().unique())) for c in text})
    return BacktestData(frame=sales, freq=Freq.DAILY, name="bench", keys=("store_id", "item_id"),
                        attributes=("region", "category"), exog_known=("price", "promo", "holiday"),
                        orders="ordered", stockout="stockout")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--models", default=",".join(DEFAULT_LADDER))
    parser.add_argument("--lgbm-train-periods", type=int, default=None,
                        help="LightGBM's max_train_periods (default: a year of daily history)")
    args = parser.parse_args()

    data = chain_data(args.stores, args.items, args.years)
    sales = data.frame
    config = BacktestConfig(split=SplitConfig(horizon=args.horizon, folds=args.folds),
                            models=tuple(ModelSpec.of(a, **({"max_train_periods": args.lgbm_train_periods}
                                                            if a == "lgbm" and args.lgbm_train_periods else {}))
                                         for a in args.models.split(",")))
    print(f"{sales[SERIES_ID].nunique():,} series, {len(sales):,} rows; peak RSS after generation "
          f"{peak_rss_gb():.2f} GB", flush=True)

    marks: list[tuple[float, str]] = []

    def progress(p: Progress) -> None:
        marks.append((time.perf_counter(), p.message))
        print(f"  [{p.done}/{p.total}] {p.message}", flush=True)

    started = time.perf_counter()
    result = run_backtest(data, config, on_progress=progress)
    wall = time.perf_counter() - started
    board = result.leaderboard()
    print(f"\n{'model':10s} {'rung':18s} {'seconds':>8s} {'WAPE':>7s} {'MASE':>7s} {'RMSSE':>7s} {'bias':>7s}")
    for row in board.itertuples():
        print(f"{row.model:10s} {row.rung:18s} {row.seconds:8.2f} {row.wape:7.3f} {row.mase:7.3f} "
              f"{row.rmsse:7.3f} {row.bias:7.3f}")
    scoring = time.perf_counter() - marks[-1][0]
    print(f"\nwall time {wall:.1f} s (models {board['seconds'].sum():.1f} s, tasks and scoring "
          f"{wall - board['seconds'].sum():.1f} s, of which final scoring {scoring:.1f} s); "
          f"peak RSS {peak_rss_gb():.2f} GB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
