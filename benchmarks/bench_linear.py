"""Which linear model for the simple-model rung: Poisson GLM, Tweedie GLM or ridge on log1p?

    .venv/bin/python benchmarks/bench_linear.py                 # demo chain (500 series) and M5 stores
    .venv/bin/python benchmarks/bench_linear.py --data m5       # one of them

Each fit of ``core.forecast.linear.LinearModel`` runs the backtest exactly as the
Backtest page does (3 folds x 28 days, expanding window) on the same design as LightGBM,
next to the seasonal naive, Theta and LightGBM for reference, and prints WAPE, MASE,
bias and the model's seconds for the 3 folds. The data:

- ``demo``: the AI Shop demo chain, 10 stores x 50 items x 3 years of daily sales
  (generated in memory, as benchmarks/bench_backtest.py);
- ``m5``: /work/shared/data/m5_store_daily.csv.gz (or ``--m5 PATH``), the M5
  competition's Walmart sales summed per store and per state: 13 daily series
  (columns series_id, level, state_id, store_id, date, sales).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, run_backtest  # noqa: E402
from core.backtest.splits import SplitConfig  # noqa: E402
from core.columns import DATE, SERIES_ID, TARGET, Freq  # noqa: E402
from core.data.demo import REFERENCE_END_DATE, DemoConfig, generate_chain  # noqa: E402

M5 = Path("/work/shared/data/m5_store_daily.csv.gz")
REFERENCES = ("snaive", "theta", "lgbm")
VARIANTS: dict[str, dict[str, object]] = {
    "poisson": {"family": "poisson"},
    "poisson a=0": {"family": "poisson", "alpha": 0.0},
    "poisson a=0.1": {"family": "poisson", "alpha": 0.1},
    "tweedie p=1.2": {"family": "tweedie", "tweedie_variance_power": 1.2},
    "tweedie p=1.5": {"family": "tweedie", "tweedie_variance_power": 1.5},
    "ridge log1p": {"family": "ridge"},
}


def demo_data() -> BacktestData:
    sales = generate_chain(DemoConfig(stores=10, items=50, years=3, end_date=REFERENCE_END_DATE)).sales
    sales.insert(0, SERIES_ID, sales["store_id"].astype(str) + "/" + sales["item_id"].astype(str))
    sales = sales.sort_values([SERIES_ID, DATE]).reset_index(drop=True)
    return BacktestData(frame=sales, freq=Freq.DAILY, name="demo", keys=("store_id", "item_id"),
                        attributes=("region", "category"), exog_known=("price", "promo", "holiday"),
                        orders="ordered", stockout="stockout")


def m5_data(path: Path) -> BacktestData:
    frame = pd.read_csv(path, parse_dates=["date"])
    frame = frame.rename(columns={"series_id": SERIES_ID, "date": DATE, "sales": TARGET})
    frame[TARGET] = frame[TARGET].astype(float)
    frame = frame.sort_values([SERIES_ID, DATE]).reset_index(drop=True)
    return BacktestData(frame=frame, freq=Freq.DAILY, name="m5", attributes=("level", "state_id", "store_id"))


def scores(data: BacktestData, split: SplitConfig, specs: tuple[ModelSpec, ...]) -> pd.DataFrame:
    result = run_backtest(data, BacktestConfig(split=split, models=specs))
    board = result.leaderboard().set_index("model")
    # (series, fold) pairs a model left to a simple rule (never sold, no finite forecast)
    fell_back = result.fallbacks.groupby("model").size()
    return board.assign(fallbacks=fell_back.reindex(board.index, fill_value=0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("demo", "m5", "both"), default="both")
    parser.add_argument("--m5", type=Path, default=M5)
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    split = SplitConfig(horizon=args.horizon, folds=args.folds)
    sets = {"demo": demo_data, "m5": lambda: m5_data(args.m5)}
    for name in (("demo", "m5") if args.data == "both" else (args.data,)):
        data = sets[name]()
        print(f"\n{name}: {data.frame[SERIES_ID].nunique():,} series, {len(data.frame):,} rows, "
              f"{args.folds} folds x {args.horizon} periods")
        print(f"{'model':16s} {'WAPE':>7s} {'MASE':>7s} {'bias':>9s} {'seconds':>8s} {'fallbacks':>9s}")
        started = time.perf_counter()
        board = scores(data, split, tuple(ModelSpec.of(a) for a in REFERENCES))
        rows = [(alias, board.loc[alias]) for alias in REFERENCES]
        for label, params in VARIANTS.items():
            rows.append((f"glm {label}", scores(data, split, (ModelSpec.of("glm", **params),)).loc["glm"]))
        for label, row in rows:
            print(f"{label:16s} {row.wape:7.4f} {row.mase:7.4f} {row.bias:9.3f} {row.seconds:8.2f} "
                  f"{int(row.fallbacks):9d}")
        print(f"({time.perf_counter() - started:.0f} s for the table)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
