"""LightGBM: one global gradient-boosted tree model over every series.

Direct strategy: one model forecasts every date of the horizon from features already
known at the cutoff. Every target lag is at least ``steps = gap + horizon`` periods and
every rolling statistic is taken over the target shifted by ``steps``, so even the last
forecast date uses nothing after the cutoff, and a training row sees its target from
exactly as far back as a forecast does (no train / predict mismatch).

The features are built once per task and vectorised: the target goes into a dense
(series x period) matrix numbered from the cutoff, lags are index look-ups into it and
rolling statistics are differences of its cumulative sums. Looking up by period, not by
row, keeps a lag honest across gaps inside a series.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from typing import ClassVar, Literal

import holidays

# LightGBM's OpenMP threads spin while they wait. When another process holds a core (a
# second Streamlit session, a test run) two spinning threads ran 3-5x slower than one;
# passive waiting keeps two threads at least as fast as one. Read when libgomp loads,
# so it is set before lightgbm is imported, and only if the user has not chosen.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import lightgbm as lgb  # noqa: E402
import numpy as np
import pandas as pd

from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.forecast.base import FitError, Forecast, ForecastError, Forecaster, ForecastTask, Rung

Objective = Literal["l2", "poisson", "tweedie"]
_LGB_OBJECTIVE: dict[str, str] = {"l2": "regression", "poisson": "poisson", "tweedie": "tweedie"}
DAY = np.timedelta64(1, "D")
# Histogram bins per feature: 63 builds the data set and trains faster than LightGBM's
# 255 and scored the same on the demo chain (counts and ratios need few cut points),
# and 63 cut points are found as well from 50,000 sampled rows as from all of them.
MAX_BIN, BIN_SAMPLE_ROWS = 63, 50_000


@dataclass(frozen=True)
class _FreqDefaults:
    """What "recent", "a year" and "enough history" mean at one frequency."""

    cycle: int  # recent lags step by this, so they keep the weekday of the target
    recent_lags: int  # how many recent lags from the first one at or after ``steps``
    year: int  # periods in a year, rounded to keep the weekday (364 days)
    windows: tuple[int, ...]  # rolling windows over the target shifted by ``steps``
    train_periods: int  # training targets kept before the cutoff


_DEFAULTS: dict[Freq, _FreqDefaults] = {
    # One year of daily targets: every season and holiday once (the 364-day lag still
    # reads the year before). Training time grows with the rows; two years scored only
    # about 0.5 % better WAPE on the demo chain for twice the time, and old years matter
    # less in retail, where assortments and prices move.
    Freq.DAILY: _FreqDefaults(cycle=7, recent_lags=5, year=364, windows=(7, 28, 364), train_periods=365),
    Freq.WEEKLY: _FreqDefaults(cycle=1, recent_lags=4, year=52, windows=(4, 13, 52), train_periods=156),
    Freq.MONTHLY: _FreqDefaults(cycle=1, recent_lags=3, year=12, windows=(3, 6, 12), train_periods=60),
}


def default_lags(freq: Freq, steps: int) -> tuple[int, ...]:
    """Lags for a task ``steps`` periods ahead, none shorter than ``steps``.

    Daily: ``steps`` itself (the latest value known), then five same-weekday lags from
    the first multiple of 7 at or after ``steps`` (28, 35, ... 56 for a 28-day horizon),
    and the same weekday a year back (364) or the first multiple of it past ``steps``.
    Weekly and monthly: ``steps`` .. ``steps + 3`` (weeks) or ``+ 2`` (months) and a year.
    """
    spec = _DEFAULTS[freq]
    first = spec.cycle * -(-steps // spec.cycle)
    recent = {steps, *(first + spec.cycle * k for k in range(spec.recent_lags))}
    return tuple(sorted(recent | {spec.year * -(-steps // spec.year)}))


@dataclass(frozen=True)
class LightGBM(Forecaster):
    """One LightGBM model for all series, trained on lags, rolling statistics, the
    calendar, the known-in-advance columns and the series' keys and attributes.

    The defaults are sized for a 2-core machine: on the 500-series demo chain a fold
    trains in about two seconds, and more trees or rows buy well under 1 % of WAPE.
    """

    alias: ClassVar[str] = "lgbm"
    name: ClassVar[str] = "LightGBM"
    rung: ClassVar[Rung] = Rung.GBDT
    complexity: ClassVar[int] = 5
    summary: ClassVar[str] = (
        "One gradient-boosted tree model (LightGBM) across all series: learns weekday, season, "
        "holidays, promotions and price from every series at once, new items included."
    )

    # Tweedie: a log link makes weekday x season x promotion effects add up in the
    # trees, and its variance suits counts with many zeros (slow movers) and
    # overdispersion; on the demo chain it beats Poisson and L2 on every fold.
    objective: Objective = "tweedie"
    tweedie_variance_power: float = 1.2  # 1 = Poisson, 2 = gamma
    n_estimators: int = 100
    learning_rate: float = 0.15
    num_leaves: int = 31
    min_child_samples: int = 100
    feature_fraction: float = 0.8
    lags: tuple[int, ...] | None = None  # None: ``default_lags`` for the task
    rolling_windows: tuple[int, ...] | None = None  # None: per frequency, see ``_DEFAULTS``
    max_train_periods: int | None = None  # None: per frequency, see ``_DEFAULTS``
    n_jobs: int | None = None  # None: every core this process may use
    seed: int | None = None  # None: the task's seed

    def __post_init__(self) -> None:
        if self.objective not in _LGB_OBJECTIVE:
            raise ForecastError(
                f"lgbm: the objective must be one of {', '.join(_LGB_OBJECTIVE)}; got '{self.objective}'."
            )
        if self.n_estimators < 1 or self.num_leaves < 2 or self.learning_rate <= 0:
            raise ForecastError("lgbm: use at least 1 tree of at least 2 leaves and a positive learning rate.")
        if not 1 <= self.tweedie_variance_power < 2 or not 0 < self.feature_fraction <= 1:
            raise ForecastError("lgbm: the Tweedie power must be in [1, 2) and the feature fraction in (0, 1].")
        if self.lags is not None and (not self.lags or min(self.lags) < 1):
            raise ForecastError("lgbm: lags must be whole periods, at least 1.")
        if self.rolling_windows is not None and (not self.rolling_windows or min(self.rolling_windows) < 1):
            raise ForecastError("lgbm: rolling windows must be at least 1 period long.")
        if self.max_train_periods is not None and self.max_train_periods < 1:
            raise ForecastError("lgbm: train on at least 1 period.")

    def _forecast(self, task: ForecastTask) -> Forecast:
        lags = self._lags(task)
        design = _Design.build(task, lags, self._windows(task), self._train_periods(task))
        if len(design.target) == 0:
            raise FitError(f"too short for its lags: no series has {min(lags)} periods of history before the cutoff")
        # Log-link objectives need counts: a negative value (a return) counts as no sale.
        target = design.target if self.objective == "l2" else np.clip(design.target, 0, None)
        if self.objective != "l2" and not (target > 0).any():
            # LightGBM would stop with "sum of labels is zero": there is nothing to learn.
            raise FitError(f"no sale in its {self._train_periods(task)} training periods")
        params = self._params(task)
        try:
            data = lgb.Dataset(design.train, label=target, params=params)
            booster = lgb.train(params, data, num_boost_round=self.n_estimators)
            forecast = booster.predict(design.future, num_threads=params["num_threads"])
        except lgb.basic.LightGBMError as error:
            # The data's conditions raise FitError above (a global model: then every series
            # of the fold falls back). What is left is a setting LightGBM refuses or its own
            # failure: the run stops and says so, rather than pass a simple rule off as lgbm.
            raise ForecastError(f"lgbm: LightGBM stopped on the fold with cutoff {task.cutoff:%Y-%m-%d}: "
                                f"{_lightgbm_message(error)}. Check the lgbm settings.") from error
        return Forecast(np.clip(forecast, 0, None))

    def reads_exog_known(self) -> bool:
        return True

    def _lags(self, task: ForecastTask) -> tuple[int, ...]:
        lags = self.lags or default_lags(task.freq, task.steps)
        if min(lags) < task.steps:
            raise ForecastError(
                f"lgbm: lag {min(lags)} would look past the cutoff: with a gap of {task.gap} and a horizon "
                f"of {task.horizon}, every lag must be at least {task.steps} periods."
            )
        return tuple(sorted(set(lags)))

    def _windows(self, task: ForecastTask) -> tuple[int, ...]:
        return tuple(sorted(set(self.rolling_windows or _DEFAULTS[task.freq].windows)))

    def _train_periods(self, task: ForecastTask) -> int:
        return self.max_train_periods or _DEFAULTS[task.freq].train_periods

    def _params(self, task: ForecastTask) -> dict[str, object]:
        params: dict[str, object] = {
            "objective": _LGB_OBJECTIVE[self.objective],
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "max_bin": MAX_BIN,
            "bin_construct_sample_cnt": BIN_SAMPLE_ROWS,
            "seed": task.seed if self.seed is None else self.seed,
            # Same data, seed and thread count: the same forecasts, bit for bit.
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": self.n_jobs or _all_cores(),
            "verbose": -1,
        }
        if self.objective == "tweedie":
            params["tweedie_variance_power"] = self.tweedie_variance_power
        return params


def _lightgbm_message(error: Exception) -> str:
    """LightGBM's message without the C++ source location it ends with."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return re.sub(r"\s+at \S+, line \d+\s*\.?$", "", first)


def _all_cores() -> int:
    """Cores this process may run on (the affinity mask, where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# ---------------------------------------------------------------------------------
# The design matrix
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Design:
    """Training rows with their targets, and future rows, with the same feature columns."""

    train: pd.DataFrame
    target: np.ndarray
    future: pd.DataFrame

    @classmethod
    def build(
        cls, task: ForecastTask, lags: tuple[int, ...], windows: tuple[int, ...], train_periods: int
    ) -> _Design:
        timeline = _Timeline(task.freq, task.cutoff)
        # Periods are numbered from the cutoff (0). The oldest one any feature reads:
        first = 1 - train_periods - max(max(lags), task.steps + max(windows) - 1)
        future = task.future
        # Columns of the target matrix come from the dates themselves, never from an assumed
        # grid: a history row after the cutoff (none in a backtest) is not read, and the
        # matrix reaches the last future period however the future's dates were laid out.
        hist_t = timeline.index(task.history[DATE]) - first  # column of the target matrix
        needed = (hist_t >= 0) & (task.history[DATE] <= task.cutoff).to_numpy()
        history, hist_t = task.history.loc[needed], hist_t[needed]
        hist_series, fut_series, n_series = _series_codes(history[SERIES_ID], future[SERIES_ID])
        fut_t = timeline.index(future[DATE]) - first
        y = history[TARGET].to_numpy(dtype=float, na_value=np.nan)
        width = max(task.steps - first, int(fut_t.max()) if len(fut_t) else 0) + 1
        matrix = np.full((n_series, width), np.nan)
        matrix[hist_series, hist_t] = y

        # Trainable: a known target inside the training window whose shortest lag is
        # known too (drops each series' warm-up rows, whose features are mostly missing).
        shortest = hist_t - min(lags)
        trainable = (
            (hist_t + first > -train_periods) & ~np.isnan(y)
            & ~np.isnan(_take(matrix, hist_series, shortest))
        )
        rows = np.flatnonzero(trainable)
        series = np.concatenate([hist_series[rows], fut_series])
        periods = np.concatenate([hist_t[rows], fut_t])
        dates = np.concatenate([history[DATE].to_numpy(dtype="datetime64[ns]")[rows],
                                future[DATE].to_numpy(dtype="datetime64[ns]")])

        columns: dict[str, object] = {
            **_lag_features(matrix, series, periods, lags, task.freq),
            **_rolling_features(matrix, series, periods, task.steps, windows),
            **_calendar_features(task.freq, dates),
            **_static_features(task, history, future, hist_series, fut_series, n_series, series),
            **_exog_features(task, history, future, rows, hist_series, n_series, series),
        }
        frame = pd.DataFrame(columns)
        return cls(
            train=frame.iloc[:len(rows)], target=y[rows],
            future=frame.iloc[len(rows):].reset_index(drop=True),
        )


@dataclass(frozen=True)
class _Timeline:
    """Periods numbered from the cutoff: 0 is the cutoff, 1 the next period, -1 the one before."""

    freq: Freq
    cutoff: pd.Timestamp

    def index(self, dates: pd.Series) -> np.ndarray:
        values = dates.to_numpy(dtype="datetime64[ns]")
        if self.freq is Freq.MONTHLY:
            months = values.astype("datetime64[M]").astype(np.int64)
            return months - np.datetime64(self.cutoff, "M").astype(np.int64)
        days = (values.astype("datetime64[D]") - np.datetime64(self.cutoff, "D")).astype(np.int64)
        # Weeks keep the cutoff's weekday: a week labelled on another day rounds down.
        return days // 7 if self.freq is Freq.WEEKLY else days


def _series_codes(history_ids: pd.Series, future_ids: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Row of the target matrix of each history and future row."""
    hist_codes, known = pd.factorize(history_ids)
    fut_codes = pd.Index(known).get_indexer(future_ids)
    unseen = fut_codes < 0
    if unseen.any():  # a series without history still gets a (blank) row of its own
        extra_codes, extra = pd.factorize(future_ids[unseen])
        fut_codes[unseen] = len(known) + extra_codes
        return hist_codes, fut_codes, len(known) + len(extra)
    return hist_codes, fut_codes, len(known)


def _take(matrix: np.ndarray, series: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """``matrix[series, periods]``, NaN where the period falls outside the matrix (before
    its first column or after its last): a value nobody recorded is missing, not an error."""
    inside = (periods >= 0) & (periods < matrix.shape[1])
    return np.where(inside, matrix[series, np.clip(periods, 0, matrix.shape[1] - 1)], np.nan)


def _lag_features(
    target: np.ndarray, series: np.ndarray, periods: np.ndarray, lags: tuple[int, ...], freq: Freq
) -> dict[str, np.ndarray]:
    """Each lag (``lag_k``), and for daily data the mean of the recent same-weekday lags
    (``weekday_mean``): the series' own weekday level, which the trees would otherwise
    have to piece together from many splits."""
    features = {f"lag_{k}": _take(target, series, periods - k) for k in lags}
    spec = _DEFAULTS[freq]
    same_weekday = [features[f"lag_{k}"] for k in lags if spec.cycle > 1 and k % spec.cycle == 0 and k < spec.year]
    if len(same_weekday) > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all lags missing: NaN is the answer
            features["weekday_mean"] = np.nanmean(np.column_stack(same_weekday), axis=1)
    return {name: values.astype(np.float32) for name, values in features.items()}


def _rolling_features(
    target: np.ndarray, series: np.ndarray, periods: np.ndarray, steps: int, windows: tuple[int, ...]
) -> dict[str, np.ndarray]:
    """Mean and standard deviation of the last ``w`` targets known ``steps`` periods earlier.

    Differences of cumulative sums (with a leading 0 column) give every window of every
    row at once; missing targets count neither in the sum nor in the count.
    """
    known = ~np.isnan(target)
    values = np.where(known, target, 0.0)
    sums, squares, counts = (
        np.pad(np.cumsum(m, axis=1, dtype=dtype), ((0, 0), (1, 0)))
        for m, dtype in ((values, np.float64), (values**2, np.float64), (known, np.int32))
    )
    # exclusive: the window ends at period - steps, and never past the matrix's last column
    end = np.clip(periods - steps + 1, 0, target.shape[1])
    features: dict[str, np.ndarray] = {}
    for w in windows:
        start = np.clip(end - w, 0, None)
        n = counts[series, end] - counts[series, start]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (sums[series, end] - sums[series, start]) / n
            variance = (squares[series, end] - squares[series, start]) / n - mean**2
        features[f"mean_{w}"] = mean.astype(np.float32)
        features[f"std_{w}"] = np.sqrt(np.clip(variance, 0, None)).astype(np.float32)
    return features


def _calendar_features(freq: Freq, dates: np.ndarray) -> dict[str, np.ndarray]:
    """Calendar of each row, read from the row's own date (``datetime64``, one per row).

    A day is its date; a week the 7 days from its date (a week dated by its start, as the
    importer dates weeks by their Monday); a month the calendar month the date falls in.
    Computed once per distinct date, then looked up, so it holds whatever weekday the
    weeks are dated by and however many periods are missing between two dates — nothing
    is inferred from a row's position on an assumed grid. Returns float32 arrays, one
    value per row: ``month``; daily ``day_of_week`` (0 = Monday), ``day_of_month``,
    ``day_of_year``, ``week_of_year`` (ISO); weekly ``week_of_year``; monthly
    ``days_in_period``; and, per period, the number of days of each kind of
    ``_japanese_days`` (a 0/1 flag for daily data).
    """
    unique, inverse = np.unique(np.asarray(dates, dtype="datetime64[D]"), return_inverse=True)
    if not len(unique):
        return {}
    if freq is Freq.MONTHLY:
        begin = unique.astype("datetime64[M]").astype("datetime64[D]")
        end = (unique.astype("datetime64[M]") + 1).astype("datetime64[D]")
    else:
        begin = unique
        end = unique + (7 if freq is Freq.WEEKLY else 1) * DAY
    starts = pd.DatetimeIndex(begin)
    table: dict[str, np.ndarray] = {"month": starts.month.to_numpy()}
    if freq is Freq.DAILY:
        table |= {
            "day_of_week": starts.day_of_week.to_numpy(),
            "day_of_month": starts.day.to_numpy(),
            "day_of_year": starts.day_of_year.to_numpy(),
            "week_of_year": starts.isocalendar().week.to_numpy(dtype=np.int64),
        }
    elif freq is Freq.WEEKLY:
        table["week_of_year"] = starts.isocalendar().week.to_numpy(dtype=np.int64)
    else:
        table["days_in_period"] = (end - begin).astype(np.int64)
    # Days of each kind within a period: differences of running counts over every day
    # from the first period's start to the last one's end (periods may overlap or skip).
    days = np.arange(begin.min(), end.max())
    at_begin, at_end = (begin - days[0]).astype(np.int64), (end - days[0]).astype(np.int64)
    for name, flag in _japanese_days(days).items():
        running = np.concatenate([[0], np.cumsum(flag, dtype=np.int64)])
        table[name] = running[at_end] - running[at_begin]
    return {name: values[inverse].astype(np.float32) for name, values in table.items()}


def _japanese_days(days: np.ndarray) -> dict[str, np.ndarray]:
    """Public holidays, the peak periods of Japanese retail and days off, per day."""
    index = pd.DatetimeIndex(days)
    month, day = index.month.to_numpy(), index.day.to_numpy()
    years = range(int(index.year.min()), int(index.year.max()) + 1)
    holiday = np.isin(days, np.array(list(holidays.Japan(years=years)), dtype="datetime64[D]"))
    peaks = {
        "golden_week": ((month == 4) & (day >= 29)) | ((month == 5) & (day <= 5)),
        "obon": (month == 8) & (day >= 13) & (day <= 16),
        "year_end": (month == 12) & (day >= 28),
        "new_year": (month == 1) & (day <= 3),
    }
    off = holiday | (index.day_of_week.to_numpy() >= 5) | np.logical_or.reduce(list(peaks.values()))
    return {"jp_holiday": holiday, **peaks, "day_off": off}


def _static_features(
    task: ForecastTask, history: pd.DataFrame, future: pd.DataFrame,
    hist_series: np.ndarray, fut_series: np.ndarray, n_series: int, series: np.ndarray,
) -> dict[str, pd.Categorical]:
    """Keys and attributes as categoricals (``key_*``, ``attr_*``), coded in sorted order.

    They hold for a whole series, so they are read once per series (the future's value
    over the history's) and broadcast to the rows.
    """
    roles = {**{c: "attr" for c in task.attributes}, **{c: "key" for c in task.keys}}
    hist_rows, fut_rows = _run_starts(hist_series), _run_starts(fut_series)
    features: dict[str, pd.Categorical] = {}
    for column, role in roles.items():
        if column not in history or column not in future:
            continue
        per_series = np.full(n_series, None, dtype=object)
        per_series[hist_series[hist_rows]] = history[column].iloc[hist_rows].to_numpy(dtype=object)
        per_series[fut_series[fut_rows]] = future[column].iloc[fut_rows].to_numpy(dtype=object)
        codes, categories = pd.factorize(pd.Series(per_series), sort=True)
        features[f"{role}_{column}"] = pd.Categorical.from_codes(codes[series], categories=categories)
    return features


def _run_starts(codes: np.ndarray) -> np.ndarray:
    """Rows where a run of one series starts: one row per series, as rows are sorted by series."""
    return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([], dtype=np.int64)


def _exog_features(
    task: ForecastTask, history: pd.DataFrame, future: pd.DataFrame, rows: np.ndarray,
    hist_series: np.ndarray, n_series: int, series: np.ndarray,
) -> dict[str, object]:
    """Known-in-advance columns (``exog_*``): the history's values to train, the future's to forecast.

    A price-like column (its name says "price") also enters relative to the series'
    median price in the history: a promotion or a price rise then shows as the same
    ratio for a 100-yen drink and a 600-yen bento.
    """
    features: dict[str, object] = {}
    for column in dict.fromkeys(task.exog_known):
        if column not in history or column not in future:
            continue
        past, ahead = history[column].iloc[rows], future[column]
        if not pd.api.types.is_numeric_dtype(past):  # text labels: a categorical
            codes, categories = pd.factorize(pd.concat([past, ahead], ignore_index=True), sort=True)
            features[f"exog_{column}"] = pd.Categorical.from_codes(codes, categories=categories)
            continue
        values = np.concatenate([
            past.to_numpy(dtype=float, na_value=np.nan), ahead.to_numpy(dtype=float, na_value=np.nan)
        ])
        features[f"exog_{column}"] = values.astype(np.float32)
        if "price" in column.lower():
            usual = history[column].astype(float).groupby(hist_series).median()
            typical = usual.reindex(range(n_series)).to_numpy(dtype=float, na_value=np.nan)[series]
            with np.errstate(invalid="ignore", divide="ignore"):
                features[f"exog_{column}_relative"] = (values / typical).astype(np.float32)
    return features
