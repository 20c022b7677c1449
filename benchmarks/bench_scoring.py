"""Time the backtest's final scoring on a demo chain: point metrics alone against point
metrics plus the spread (conformal quantiles, pinball loss, coverage, calibration).

    .venv/bin/python benchmarks/bench_scoring.py                     # 500 series, 3 folds x 28 days
    .venv/bin/python benchmarks/bench_scoring.py --models naive,snaive,ma,ets,theta,lgbm

The models only supply the rows to score (the cheap ones by default, six of them like the
default ladder); the figures are the best of three runs of ``engine._all_metrics`` on the
same rows in CPU seconds, and the 80 % / 95 % coverage per model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.backtest import engine, quantiles  # noqa: E402
from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, run_backtest  # noqa: E402
from core.backtest.splits import SplitConfig  # noqa: E402
from core.columns import DATE, SERIES_ID, Freq  # noqa: E402
from core.data.demo import REFERENCE_END_DATE, DemoConfig, generate_chain  # noqa: E402


def best_of(n: int, call) -> tuple[float, object]:
    """The least CPU seconds of ``n`` calls (CPU, not wall: steadier on a shared machine), and the result."""
    times, out = [], None
    for _ in range(n):
        tic = time.process_time()
        out = call()
        times.append(time.process_time() - tic)
    return min(times), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--models", default="naive,snaive,ma,croston,theta,ets")
    args = parser.parse_args()
    sales = generate_chain(DemoConfig(stores=args.stores, items=args.items, years=3, end_date=REFERENCE_END_DATE)).sales
    sales.insert(0, SERIES_ID, sales["store_id"].astype(str) + "/" + sales["item_id"].astype(str))
    sales = sales.sort_values([SERIES_ID, DATE]).reset_index(drop=True)
    data = BacktestData(frame=sales, freq=Freq.DAILY, name="bench", keys=("store_id", "item_id"),
                        attributes=("region", "category"), exog_known=("price", "promo", "holiday"),
                        orders="ordered", stockout="stockout")
    config = BacktestConfig(split=SplitConfig(horizon=args.horizon, folds=args.folds),
                            models=tuple(ModelSpec.of(a) for a in args.models.split(",")))
    captured = {}
    original = engine._all_metrics

    def capture(scored, segments, pair, stated=None):
        captured["args"] = (scored, segments, pair)
        return original(scored, segments, pair, stated)

    engine._all_metrics = capture
    try:
        run_backtest(data, config)
    finally:
        engine._all_metrics = original
    scored, segments, pair = captured["args"]
    with_spread, metrics = best_of(3, lambda: original(scored, segments, pair))
    engine.has_quantiles, kept = (lambda frame: True), engine.has_quantiles  # skip the quantiles: points only
    try:
        points_only, _ = best_of(3, lambda: original(scored, segments, pair))
    finally:
        engine.has_quantiles = kept
    of = engine.pooling_map(scored, segments)
    offsets_s, offsets = best_of(3, lambda: quantiles.conformal_offsets(scored, quantiles.LEVELS, of))
    join_s, _ = best_of(3, lambda: quantiles.with_quantiles(scored, offsets))
    print(f"{scored[SERIES_ID].nunique():,} series, {scored['model'].nunique()} models, {len(scored):,} scored rows")
    print(f"scoring: points only {points_only:.2f} s; with the spread {with_spread:.2f} s "
          f"(+{with_spread - points_only:.2f} s: conformal offsets {offsets_s:.2f} s, join {join_s:.2f} s)")
    print("basis of the offsets:", offsets["basis"].value_counts().to_dict())
    overall = metrics[metrics["level"] == "overall"].pivot(index="model", columns="metric", values="value")
    print(f"\n{'model':10s} {'cov 80':>7s} {'cov 95':>7s} {'pinball':>8s} {'width 80':>9s} {'below 0.5':>9s}")
    for model, row in overall.sort_values("pinball").iterrows():
        print(f"{model:10s} {row['coverage_80']:7.1%} {row['coverage_95']:7.1%} {row['pinball']:8.3f} "
              f"{row['width_80']:9.2f} {row['below_0.5']:9.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
