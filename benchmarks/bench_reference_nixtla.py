"""Time and score the reference: Nixtla's statsforecast + mlforecast cross-validation.

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install -r requirements.txt statsforecast mlforecast
    PYTHONPATH=. /tmp/refvenv/bin/python benchmarks/bench_reference_nixtla.py [--stores 10] [--items 50] [--years 3]

Needs its own virtualenv. statsforecast and mlforecast (and what they pull in: numba,
llvmlite, coreforecast, utilsforecast, ...) are not Mitoshi dependencies and must not
become ones: they are only the yardstick our own backtest engine is measured against,
so they never go into requirements.txt or the project's .venv.

On the AI Shop demo chain (default 10 stores x 50 items x 3 years = 500 daily series)
it runs the reference ladder with Nixtla's own cross-validation, 3 windows of 28 days
every 28 days (``n_windows=3, h=28, step_size=28``):

* statsforecast: SeasonalNaive(7), AutoETS(model="ANA", season_length=7) and the
  standard Theta method ``Theta(season_length=7)`` (statsforecast's "STM"; not
  OptimizedTheta), all in one ``StatsForecast.cross_validation`` call;
* mlforecast: LGBMRegressor (library defaults, n_jobs=2) on lags 28, 35, 42, 49, 56
  and 364 and the date features dayofweek and month (lags >= h: no recursion).

Each library's cross-validation is timed apart: the first call of the process (numba
JIT compilation included) and a second call; statsforecast's second call runs one model
at a time, which splits its seconds between the models. Wall and CPU seconds (this
process and its workers) and the load average are printed: on a shared machine the
wall time grows with the load, CPU time much less. Peak resident memory is read with
getrusage, of this process and of the largest worker statsforecast forks (n_jobs > 1;
numba functions are compiled again in each new worker unless NIXTLA_NUMBA_CACHE is set).

The forecasts are scored with OUR metric code on exactly the rows our engine scores:
for each of our cutoffs (``core.backtest.splits.cutoffs``), the series with a row on the
cutoff date (``make_task``), the dates of the horizon that have an actual, with MASE and
RMSSE scales from that fold's training history (``scales(task.panel.values, 7)``).
Nixtla cuts every series at its own last date, so a series that ended early gets
cutoffs of its own; those rows are not ours and are left out (and counted). The script
checks that Nixtla's cutoffs are our dates for every scored row and that its seasonal
naive equals "the last 7 days repeated" of our panels.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.backtest.metrics import (  # noqa: E402
    ACTUAL, CUTOFF, FORECAST, MODEL, SCALE_MASE, SCALE_RMSSE, STEP, evaluate, scales,
)
from core.backtest.splits import SplitConfig, cutoffs, make_task  # noqa: E402
from core.columns import DATE, SERIES_ID, SERIES_SEP, TARGET, Freq  # noqa: E402
from core.data.demo import REFERENCE_END_DATE, DemoConfig, generate_chain  # noqa: E402

HORIZON, FOLDS, SEASON = 28, 3, 7
LAGS = [28, 35, 42, 49, 56, 364]
DATE_FEATURES = ["dayofweek", "month"]
SPEC_SECONDS = 48  # what the spec says the reference takes in all on a 2-core machine
STATS_MODELS = ("SeasonalNaive", "AutoETS", "Theta")
ML_MODEL = "LGBMRegressor"


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory so far (MB) of this process and of its largest reaped child."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def chain_frame(config: DemoConfig) -> pd.DataFrame:
    """The demo chain's sales, long and sorted by series then date: unique_id, ds, y."""
    sales = generate_chain(config).sales
    frame = pd.DataFrame({
        SERIES_ID: sales["store_id"].astype(str) + SERIES_SEP + sales["item_id"].astype(str),
        DATE: sales[DATE].astype("datetime64[ns]"),
        TARGET: sales[TARGET].astype(float),
    })
    return frame.sort_values([SERIES_ID, DATE], kind="stable").reset_index(drop=True)


def our_folds(frame: pd.DataFrame, split: SplitConfig) -> tuple[list[pd.Timestamp], pd.DataFrame]:
    """Our cutoffs and the rows our engine scores, with the fold's scales (as run_backtest)."""
    folds = cutoffs(frame[DATE].max(), Freq.DAILY, split)
    parts = []
    for cutoff in folds:
        task, actuals = make_task(frame, cutoff, Freq.DAILY, split)
        mase_scale, rmsse_scale = scales(task.panel.values, SEASON)
        fold_scales = pd.DataFrame({SERIES_ID: task.series_ids, SCALE_MASE: mase_scale, SCALE_RMSSE: rmsse_scale})
        base = actuals.rename(columns={TARGET: ACTUAL}).merge(fold_scales, on=SERIES_ID)
        base[CUTOFF] = cutoff
        base[STEP] = np.tile(np.arange(split.gap + 1, split.gap + split.horizon + 1), len(task.series_ids))
        # Our seasonal naive, for the alignment check: the last week of the panel, repeated.
        last_week = task.panel.last(SEASON)
        base["check_snaive"] = last_week[:, np.arange(split.horizon) % SEASON].ravel()
        parts.append(base)
    base = pd.concat(parts, ignore_index=True)
    base[CUTOFF] = base[CUTOFF].astype("datetime64[ns]")
    base[DATE] = base[DATE].astype("datetime64[ns]")
    return folds, base[base[ACTUAL].notna()].reset_index(drop=True)


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and its reaped children so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, run) -> tuple[pd.DataFrame, tuple[float, float]]:
    """Run, print wall and CPU seconds, the load and the peak memory; return (result, (wall, CPU))."""
    tic, cpu = time.perf_counter(), cpu_seconds()
    out = run()
    seconds, cpu = time.perf_counter() - tic, cpu_seconds() - cpu
    own, child = peak_rss_mb()
    print(f"  {label:<34} {seconds:7.1f} s wall {cpu:7.1f} s CPU  load {os.getloadavg()[0]:4.1f}  "
          f"peak RSS {own:5.0f} MB (worker {child:4.0f} MB)", flush=True)
    return out, (seconds, cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=2, help="statsforecast n_jobs and LightGBM n_jobs")
    parser.add_argument("--no-warm", action="store_true", help="skip the second (warm) calls")
    parser.add_argument("--out", type=Path, help="write the scored rows (Parquet) here")
    args = parser.parse_args()
    started = time.perf_counter()
    warnings.filterwarnings("ignore", category=FutureWarning)
    # Expected: lag 364 is missing in every series' first year (LightGBM takes NaN).
    warnings.filterwarnings("ignore", message="Found null values in lag")
    # Expected too, and counted below: series younger than a year have no training row.
    warnings.filterwarnings("ignore", message="The following series were dropped completely")

    config = DemoConfig(stores=args.stores, items=args.items, years=args.years, seed=args.seed,
                        end_date=REFERENCE_END_DATE)
    split = SplitConfig(horizon=HORIZON, folds=FOLDS)
    frame = chain_frame(config)
    folds, base = our_folds(frame, split)
    ends = frame.groupby(SERIES_ID, sort=False)[DATE].max()
    ended = int((ends < frame[DATE].max()).sum())
    print(f"chain: {frame[SERIES_ID].nunique()} series, {len(frame):,} rows, {frame[DATE].min():%Y-%m-%d} .. "
          f"{frame[DATE].max():%Y-%m-%d}; {ended} series end before the last date")
    print(f"our cutoffs: {', '.join(f'{c:%Y-%m-%d}' for c in folds)}; rows we score: {len(base):,} "
          f"({base.groupby(CUTOFF)[SERIES_ID].nunique().tolist()} series per fold)")
    own, _ = peak_rss_mb()
    print(f"cpu cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} (other processes compete above "
          f"{os.cpu_count()}), peak RSS after data prep {own:.0f} MB\n", flush=True)

    cv_args = dict(h=HORIZON, n_windows=FOLDS, step_size=HORIZON)
    timings: dict[str, dict[str, tuple[float, float]]] = {}  # library -> call -> (wall, CPU)

    tic = time.perf_counter()
    import lightgbm as lgb
    from mlforecast import MLForecast
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, SeasonalNaive, Theta
    import_s = time.perf_counter() - tic
    versions = {p: version(p) for p in ("statsforecast", "mlforecast", "numba", "coreforecast", "utilsforecast",
                                        "lightgbm", "pandas", "numpy")}
    listed = ", ".join(f"{name} {v}" for name, v in versions.items())
    print(f"import statsforecast + mlforecast: {import_s:.1f} s  ({listed})")

    def stats_models(only: str | None = None) -> list:
        models = {"SeasonalNaive": SeasonalNaive(season_length=SEASON),
                  "AutoETS": AutoETS(model="ANA", season_length=SEASON),
                  "Theta": Theta(season_length=SEASON)}
        return [m for name, m in models.items() if only in (None, name)]

    def run_stats(only: str | None = None) -> pd.DataFrame:
        sf = StatsForecast(models=stats_models(only), freq="D", n_jobs=args.jobs)
        return sf.cross_validation(df=frame, **cv_args)

    def run_ml() -> pd.DataFrame:
        model = lgb.LGBMRegressor(n_jobs=args.jobs, random_state=0, verbosity=-1)
        mlf = MLForecast(models={ML_MODEL: model}, freq="D", lags=LAGS, date_features=DATE_FEATURES)
        return mlf.cross_validation(df=frame, static_features=[], **cv_args)

    print("cross-validation (n_windows=3, h=28, step_size=28):")
    stats_cv, first_stats = timed("statsforecast, first call", run_stats)
    ml_cv, first_ml = timed("mlforecast, first call", run_ml)
    timings["statsforecast"], timings["mlforecast"] = {"first": first_stats}, {"first": first_ml}
    per_model: dict[str, tuple[float, float]] = {}
    if not args.no_warm:
        # statsforecast's warm call is made one model at a time, to split its time between them.
        same = True
        for name in STATS_MODELS:
            warm, per_model[name] = timed(f"statsforecast, second: {name}", lambda name=name: run_stats(name))
            same &= np.allclose(warm[name], stats_cv[name])
        timings["statsforecast"]["warm"] = tuple(np.sum([per_model[m] for m in STATS_MODELS], axis=0))
        warm_ml, timings["mlforecast"]["warm"] = timed("mlforecast, second call", run_ml)
        per_model[ML_MODEL] = timings["mlforecast"]["warm"]
        print(f"  second calls reproduce the first: {same and np.allclose(warm_ml[ML_MODEL], ml_cv[ML_MODEL])}")

    # --- align with our folds -------------------------------------------------------
    nixtla = stats_cv.merge(ml_cv[[SERIES_ID, DATE, CUTOFF, ML_MODEL]], on=[SERIES_ID, DATE, CUTOFF], how="outer")
    for column in (DATE, CUTOFF):
        nixtla[column] = nixtla[column].astype("datetime64[ns]")
    full = ends.index[ends == frame[DATE].max()]
    nixtla_cutoffs = sorted(nixtla.loc[nixtla[SERIES_ID].isin(full), CUTOFF].unique())
    print(f"\nNixtla cutoffs of the series that reach the last date: "
          f"{', '.join(f'{pd.Timestamp(c):%Y-%m-%d}' for c in nixtla_cutoffs)} "
          f"-> {'same as ours' if [pd.Timestamp(c) for c in nixtla_cutoffs] == folds else 'DIFFERENT from ours'}")
    merged = base.merge(nixtla, on=[SERIES_ID, DATE, CUTOFF], how="left", indicator=True)
    missing = int((merged["_merge"] != "both").sum())
    extra = len(nixtla) - int((merged["_merge"] == "both").sum())
    extra_series = nixtla.loc[~nixtla.set_index([SERIES_ID, DATE, CUTOFF]).index.isin(
        base.set_index([SERIES_ID, DATE, CUTOFF]).index), SERIES_ID].nunique()
    print(f"rows: ours {len(base):,}, Nixtla {len(nixtla):,}; ours without a Nixtla forecast: {missing}; "
          f"Nixtla rows left out (not scored by our engine): {extra:,} of {extra_series} series")
    merged = merged[merged["_merge"] == "both"].drop(columns="_merge")
    if missing:
        print("  WARNING: some of our rows have no Nixtla forecast; the scores below cover fewer rows than ours")
    starts = frame.groupby(SERIES_ID, sort=False)[DATE].min()
    young = [int(((c - starts[ends >= c]).dt.days < max(LAGS)).sum()) for c in folds]
    print(f"series younger than {max(LAGS) + 1} days at the cutoff (mlforecast drops every training row of theirs, "
          f"lag {max(LAGS)} being missing; they are still forecast): {young} per fold")
    print(f"actuals agree: {np.allclose(merged[ACTUAL], merged[TARGET])}; "
          f"Nixtla SeasonalNaive == our last-week-repeated: max |diff| = "
          f"{np.nanmax(np.abs(merged['SeasonalNaive'] - merged['check_snaive'])):.2g}")

    # --- score with our metric code -------------------------------------------------
    keep = [SERIES_ID, DATE, CUTOFF, STEP, ACTUAL, SCALE_MASE, SCALE_RMSSE]
    scored = pd.concat([merged[keep].assign(**{MODEL: name, FORECAST: merged[name].to_numpy()})
                        for name in (*STATS_MODELS, ML_MODEL)], ignore_index=True)
    if args.out:
        scored.to_parquet(args.out, index=False)
        print(f"scored rows written to {args.out}")
    negative = scored.groupby(MODEL, sort=False)[FORECAST].apply(lambda f: (f < 0).mean())
    table = evaluate(scored, [MODEL]).set_index(MODEL).loc[list((*STATS_MODELS, ML_MODEL))]
    clipped = evaluate(scored.assign(**{FORECAST: scored[FORECAST].clip(lower=0)}), [MODEL]).set_index(MODEL)

    library_of = {**{m: "statsforecast" for m in STATS_MODELS}, ML_MODEL: "mlforecast"}
    print(f"\n{'model':<15} {'library':<14} {'seconds':>8} {'CPU s':>7} {'WAPE':>7} {'MASE':>7} {'RMSSE':>7} "
          f"{'bias':>7}"
          f"   {'<0 fc':>6} {'WAPE>=0':>8} {'MASE>=0':>8}")
    for name, row in table.iterrows():
        seconds = f"{per_model[name][0]:8.1f} {per_model[name][1]:7.1f}" if name in per_model else f"{'-':>8} {'-':>7}"
        print(f"{name:<15} {library_of[name]:<14} {seconds} {row['wape']:7.1%} {row['mase']:7.3f} "
              f"{row['rmsse']:7.3f} {row['bias']:7.3f}   {negative[name]:6.1%} {clipped.loc[name, 'wape']:8.1%} "
              f"{clipped.loc[name, 'mase']:8.3f}")
    print("(seconds, CPU s: wall and CPU seconds of the second call, that model alone; <0 fc: share of negative "
          "forecasts; WAPE>=0 / MASE>=0: forecasts clipped at 0 as our engine does)")

    print(f"\n{'library':<14} {'1st wall':>9} {'1st CPU':>8} {'2nd wall':>9} {'2nd CPU':>8}")
    for library, t in timings.items():
        warm = f"{t['warm'][0]:8.1f}s {t['warm'][1]:7.1f}s" if "warm" in t else f"{'-':>9} {'-':>8}"
        print(f"{library:<14} {t['first'][0]:8.1f}s {t['first'][1]:7.1f}s {warm}")
    wall, cpu = (sum(t["first"][i] for t in timings.values()) for i in (0, 1))
    own, child = peak_rss_mb()
    print(f"reference in all (first calls): {wall:.1f} s wall, {wall + import_s:.1f} s with the imports "
          f"(spec: about {SPEC_SECONDS} s); {cpu:.1f} CPU seconds, {cpu / max(args.jobs, 1):.1f} s "
          f"per core over {max(args.jobs, 1)} core(s) (an idle machine's wall time, roughly; under load "
          f"LightGBM's waiting threads spin and add CPU)")
    if not args.no_warm:
        print(f"reference in all (second calls): {sum(t['warm'][0] for t in timings.values()):.1f} s wall, "
              f"{sum(t['warm'][1] for t in timings.values()):.1f} CPU seconds")
    print(f"peak RSS: this process {own:.0f} MB, largest worker {child:.0f} MB; "
          f"script wall time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
