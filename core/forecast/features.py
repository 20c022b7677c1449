"""The features of the global models (LightGBM, the linear model): one leak-free design.

Direct strategy: one model forecasts every date of the horizon from features already
known at the cutoff. Every target lag is at least ``steps = gap + horizon`` periods and
every rolling statistic is taken over the target shifted by ``steps``, so even the last
forecast date uses nothing after the cutoff, and a training row sees its target from
exactly as far back as a forecast does (no train / predict mismatch).

The features are built once per task and vectorised: the target goes into a dense
(series x period) matrix numbered from the cutoff, lags are index look-ups into it and
rolling statistics are differences of its cumulative sums. Looking up by period, not by
row, keeps a lag honest across gaps inside a series.

``Design.build`` gives the raw features as the trees read them (counts, categoricals);
each model turns them into its own form (the linear model: logs, dummies, standardised),
so two models of the ladder always compare on the same information.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import holidays
import numpy as np
import pandas as pd

from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.forecast.base import ForecastError, ForecastTask

DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class FreqDefaults:
    """What "recent", "a year" and "enough history" mean at one frequency."""

    cycle: int  # recent lags step by this, so they keep the weekday of the target
    recent_lags: int  # how many recent lags from the first one at or after ``steps``
    year: int  # periods in a year, rounded to keep the weekday (364 days)
    windows: tuple[int, ...]  # rolling windows over the target shifted by ``steps``
    train_periods: int  # training targets kept before the cutoff


FREQ_DEFAULTS: dict[Freq, FreqDefaults] = {
    # One year of daily targets: every season and holiday once (the 364-day lag still
    # reads the year before). Training time grows with the rows; two years scored only
    # about 0.5 % better WAPE on the demo chain for twice the time, and old years matter
    # less in retail, where assortments and prices move.
    Freq.DAILY: FreqDefaults(cycle=7, recent_lags=5, year=364, windows=(7, 28, 364), train_periods=365),
    Freq.WEEKLY: FreqDefaults(cycle=1, recent_lags=4, year=52, windows=(4, 13, 52), train_periods=156),
    Freq.MONTHLY: FreqDefaults(cycle=1, recent_lags=3, year=12, windows=(3, 6, 12), train_periods=60),
}


# Training rows a global model learns from at most, per fold: past it, a uniform sample of
# the trainable rows (seeded by the task). 100 trees of 31 leaves (at least 100 rows a leaf)
# need far fewer than a million rows, and the trees' time grows with the rows: a national
# chain's 50,000 series hold 18 million rows a fold (10,000 series: 0.6 s a tree on two
# cores). Chains up to about 2,700 series (the 500-series demo chain: 180,000 rows) are not
# sampled.
TRAIN_ROWS = 1_000_000


def default_lags(freq: Freq, steps: int) -> tuple[int, ...]:
    """Lags for a task ``steps`` periods ahead, none shorter than ``steps``.

    Daily: ``steps`` itself (the latest value known), then five same-weekday lags from
    the first multiple of 7 at or after ``steps`` (28, 35, ... 56 for a 28-day horizon),
    and the same weekday a year back (364) or the first multiple of it past ``steps``.
    Weekly and monthly: ``steps`` .. ``steps + 3`` (weeks) or ``+ 2`` (months) and a year.
    """
    spec = FREQ_DEFAULTS[freq]
    first = spec.cycle * -(-steps // spec.cycle)
    recent = {steps, *(first + spec.cycle * k for k in range(spec.recent_lags))}
    return tuple(sorted(recent | {spec.year * -(-steps // spec.year)}))


def check_settings(alias: str, lags: tuple[int, ...] | None, windows: tuple[int, ...] | None,
                   train_periods: int | None, train_rows: int | None = None) -> None:
    """Refuse feature settings no task could use (``ForecastError`` naming the model)."""
    if lags is not None and (not lags or min(lags) < 1):
        raise ForecastError(f"{alias}: lags must be whole periods, at least 1.")
    if windows is not None and (not windows or min(windows) < 1):
        raise ForecastError(f"{alias}: rolling windows must be at least 1 period long.")
    if train_periods is not None and train_periods < 1:
        raise ForecastError(f"{alias}: train on at least 1 period.")
    if train_rows is not None and train_rows < 1:
        raise ForecastError(f"{alias}: train on at least 1 row.")


def task_lags(alias: str, lags: tuple[int, ...] | None, task: ForecastTask) -> tuple[int, ...]:
    """The lags for ``task`` (``default_lags`` when None), sorted; ``ForecastError`` for a lag
    shorter than ``steps``, which would read a target after the cutoff."""
    lags = lags or default_lags(task.freq, task.steps)
    if min(lags) < task.steps:
        raise ForecastError(
            f"{alias}: lag {min(lags)} would look past the cutoff: with a gap of {task.gap} and a horizon "
            f"of {task.horizon}, every lag must be at least {task.steps} periods."
        )
    return tuple(sorted(set(lags)))


def task_windows(windows: tuple[int, ...] | None, task: ForecastTask) -> tuple[int, ...]:
    """The rolling windows for ``task`` (the frequency's defaults when None), sorted."""
    return tuple(sorted(set(windows or FREQ_DEFAULTS[task.freq].windows)))


def task_train_periods(train_periods: int | None, task: ForecastTask) -> int:
    """Training targets kept before the cutoff (the frequency's default when None)."""
    return train_periods or FREQ_DEFAULTS[task.freq].train_periods


# What each feature column is, for a model that transforms them (the linear model).
LAG, ROLLING_MEAN, ROLLING_STD, CALENDAR, STATIC, EXOG = "lag", "rolling mean", "rolling std", "calendar", \
    "static", "exog"


@dataclass(frozen=True)
class Design:
    """Training rows with their targets, and future rows, with the same feature columns.

    ``train``: one row per trainable (series, period) before the cutoff, ``target`` its
    value (float, may be negative for returns); ``future``: one row per ``task.future``
    row, in its order. Columns: ``lag_k`` and (daily) ``weekday_mean``; ``mean_w`` and
    ``std_w``; the calendar (``calendar_features``); ``key_*`` / ``attr_*`` categoricals;
    ``exog_*`` known-in-advance columns (float32, or categoricals for text). With more
    trainable rows than ``max_rows``, ``train`` holds a uniform sample of them (seeded by
    the task), in their order.
    ``kinds`` maps each column to LAG, ROLLING_MEAN, ROLLING_STD, CALENDAR, STATIC or EXOG.
    """

    train: pd.DataFrame
    target: np.ndarray
    future: pd.DataFrame
    kinds: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def shared(
        cls, task: ForecastTask, lags: tuple[int, ...], windows: tuple[int, ...], train_periods: int,
        max_rows: int | None = TRAIN_ROWS,
    ) -> Design:
        """``build``, once per task and settings: the global models of one fold (the linear
        model, then LightGBM, with the same lags, windows and training periods) read one
        design, kept in the task's cache for as long as the fold lasts. Do not modify it."""
        key = ("design", tuple(lags), tuple(windows), train_periods, max_rows)
        return task.shared(key, lambda: cls.build(task, lags, windows, train_periods, max_rows))

    @classmethod
    def trainable(
        cls, task: ForecastTask, lags: tuple[int, ...], windows: tuple[int, ...], train_periods: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The trainable rows of ``task`` per series, before any sample: (series ids, row
        counts), the series in the history's order, only those with a trainable row. A
        model fitted across shards of the series draws one sample over every shard's
        rows (``train_sample``) and builds each shard's part with ``keep``."""
        # kept in the task for the ``build`` of the same shard and fold that follows
        prepared = task.shared(_Matrix.key(lags, windows, train_periods),
                               lambda: _Matrix.of(task, lags, windows, train_periods))
        ids = task.history[SERIES_ID].to_numpy()[prepared.positions[prepared.rows]]
        codes, series = pd.factorize(ids, sort=False)
        return np.asarray(series, dtype=object), np.bincount(codes, minlength=len(series))

    @classmethod
    def build(
        cls, task: ForecastTask, lags: tuple[int, ...], windows: tuple[int, ...], train_periods: int,
        max_rows: int | None = TRAIN_ROWS, keep: np.ndarray | None = None,
    ) -> Design:
        """The design of ``task`` (see the class). ``keep``: ascending positions among the
        task's trainable rows (history order) to train on instead of the seeded sample of
        ``max_rows`` (``max_rows`` is then not read)."""
        key = _Matrix.key(lags, windows, train_periods)
        prepared = (task.shared(key, lambda: None) if task.has_shared(key)
                    else _Matrix.of(task, lags, windows, train_periods))
        history, hist_t, hist_series, fut_series = (task.history, prepared.hist_t, prepared.hist_series,
                                                    prepared.fut_series)
        n_series, fut_t, y, matrix, future = prepared.n_series, prepared.fut_t, prepared.y, prepared.matrix, task.future
        positions, rows = prepared.positions, prepared.rows
        if keep is not None:
            rows = rows[np.asarray(keep, dtype=np.int64)]
        elif (sample := train_sample(len(rows), max_rows, task.seed)) is not None:
            rows = rows[sample]
        series = np.concatenate([hist_series[rows], fut_series])
        periods = np.concatenate([hist_t[rows], fut_t])
        dates = np.concatenate([history[DATE].to_numpy()[positions[rows]].astype("datetime64[ns]"),
                                future[DATE].to_numpy(dtype="datetime64[ns]")])

        rolling = _rolling_features(matrix, series, periods, task.steps, windows)
        groups: list[tuple[str, dict[str, object]]] = [
            (LAG, _lag_features(matrix, series, periods, lags, task.freq)),
            (ROLLING_MEAN, {n: v for n, v in rolling.items() if n.startswith("mean_")}),
            (ROLLING_STD, {n: v for n, v in rolling.items() if n.startswith("std_")}),
            (CALENDAR, calendar_features(task.freq, dates)),
            (STATIC, _static_features(task, positions, future, hist_series, fut_series, n_series, series)),
            (EXOG, _exog_features(task, positions, future, rows, hist_series, n_series, series)),
        ]
        # The trees' column order (lags, then each window's mean and std, calendar, ...).
        columns: dict[str, object] = {**groups[0][1], **rolling, **{n: v for _, g in groups[3:] for n, v in g.items()}}
        kinds = {name: kind for kind, group in groups for name in group}
        frame = pd.DataFrame(columns)
        return cls(
            train=frame.iloc[:len(rows)], target=y[rows],
            future=frame.iloc[len(rows):].reset_index(drop=True), kinds=kinds,
        )


def train_sample(rows: int, max_rows: int | None, seed: int) -> np.ndarray | None:
    """Ascending positions of the ``max_rows`` of ``rows`` trainable rows a global model
    trains on: a uniform sample without replacement seeded by ``seed`` (the task's), or
    None (every row) when there are not more rows than ``max_rows`` or no cap."""
    if max_rows is None or rows <= max_rows:
        return None
    return np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))


@dataclass(frozen=True)
class _Matrix:
    """The target of ``task`` as a dense (series x period) matrix numbered from the cutoff,
    and its trainable rows: the part of ``Design.build`` that comes before the sample. The
    history rows a feature reads are kept as their positions in ``task.history`` (not as a
    copy of those rows: a national chain's fold holds 35 million of them)."""

    positions: np.ndarray  # positions in ``task.history`` of the rows read (by series, then date)
    hist_t: np.ndarray
    hist_series: np.ndarray
    fut_series: np.ndarray
    n_series: int
    fut_t: np.ndarray
    y: np.ndarray
    matrix: np.ndarray
    rows: np.ndarray  # positions in ``positions`` of the trainable rows

    @staticmethod
    def key(lags: tuple[int, ...], windows: tuple[int, ...], train_periods: int) -> tuple:
        return ("design matrix", tuple(lags), tuple(windows), train_periods)

    @classmethod
    def of(cls, task: ForecastTask, lags: tuple[int, ...], windows: tuple[int, ...], train_periods: int) -> _Matrix:
        timeline = _Timeline(task.freq, task.cutoff)
        # Periods are numbered from the cutoff (0). The oldest one any feature reads:
        first = 1 - train_periods - max(max(lags), task.steps + max(windows) - 1)
        future = task.future
        # Columns of the target matrix come from the dates themselves, never from an assumed
        # grid: a history row after the cutoff (none in a backtest) is not read, and the
        # matrix reaches the last future period however the future's dates were laid out.
        hist_t = timeline.index(task.history[DATE])
        hist_t -= first  # column of the target matrix
        needed = (hist_t >= 0) & (task.history[DATE] <= task.cutoff).to_numpy()
        # 32-bit positions and codes: a national chain's fold reads 35 million rows
        positions = np.flatnonzero(needed).astype(np.int32 if len(needed) < 2**31 else np.int64)
        del needed
        hist_t = hist_t[positions].astype(np.int32)
        hist_series, fut_series, n_series = _series_codes(task.history[SERIES_ID].iloc[positions], future[SERIES_ID])
        hist_series = hist_series.astype(np.int32)
        fut_t = timeline.index(future[DATE]) - first
        y = task.history[TARGET].to_numpy(dtype=float, na_value=np.nan)[positions]
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
        return cls(positions, hist_t, hist_series, fut_series, n_series, fut_t, y, matrix, np.flatnonzero(trainable))


@dataclass(frozen=True)
class _Timeline:
    """Periods numbered from the cutoff: 0 is the cutoff, 1 the next period, -1 the one before."""

    freq: Freq
    cutoff: pd.Timestamp

    def index(self, dates: pd.Series) -> np.ndarray:
        values = dates.to_numpy()
        if values.dtype.kind != "M":
            values = values.astype("datetime64[ns]")
        if self.freq == Freq.MONTHLY:
            months = values.astype("datetime64[M]").astype(np.int64)
            return months - np.datetime64(self.cutoff, "M").astype(np.int64)
        days = values.astype("datetime64[D]").view(np.int64)  # one copy, then in place: 49 million dates a fold
        days -= np.datetime64(self.cutoff, "D").astype(np.int64)
        # Weeks keep the cutoff's weekday: a week labelled on another day rounds down.
        return days // 7 if self.freq == Freq.WEEKLY else days


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
    spec = FREQ_DEFAULTS[freq]
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
    # Each running sum is made in place after a leading 0 column of one matrix, the target
    # (missing values as 0) copied in first; the squares' sums reuse it once the means are
    # taken. A national chain's target matrix is 300 MB: copies of the values, of their
    # squares and padded copies of each running sum would triple the peak.
    sums = np.zeros((target.shape[0], target.shape[1] + 1))
    inner = sums[:, 1:]
    missing = np.isnan(target)
    counts = np.zeros(sums.shape, dtype=np.int32)
    np.cumsum(~missing, axis=1, dtype=np.int32, out=counts[:, 1:])
    np.copyto(inner, target)
    inner[missing] = 0.0
    np.cumsum(inner, axis=1, out=inner)
    # exclusive: the window ends at period - steps, and never past the matrix's last column
    end = np.clip(periods - steps + 1, 0, target.shape[1])
    starts = {w: np.clip(end - w, 0, None) for w in windows}
    n = {w: counts[series, end] - counts[series, starts[w]] for w in windows}
    del counts
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = {w: (sums[series, end] - sums[series, starts[w]]) / n[w] for w in windows}
    np.copyto(inner, target)
    inner[missing] = 0.0
    del missing
    np.multiply(inner, inner, out=inner)
    np.cumsum(inner, axis=1, out=inner)
    squares = sums
    features: dict[str, np.ndarray] = {}
    for w in windows:
        with np.errstate(invalid="ignore", divide="ignore"):
            variance = (squares[series, end] - squares[series, starts[w]]) / n[w] - mean[w] ** 2
        features[f"mean_{w}"] = mean[w].astype(np.float32)
        features[f"std_{w}"] = np.sqrt(np.clip(variance, 0, None)).astype(np.float32)
    return features


def calendar_features(freq: Freq, dates: np.ndarray) -> dict[str, np.ndarray]:
    """Calendar of each row, read from the row's own date (``datetime64``, one per row).

    A day is its date; a week the 7 days from its date (a week dated by its start, as the
    importer dates weeks by their Monday); a month the calendar month the date falls in.
    Computed once per distinct date, then looked up, so it holds whatever weekday the
    weeks are dated by and however many periods are missing between two dates — nothing
    is inferred from a row's position on an assumed grid. Returns float32 arrays, one
    value per row: ``month``; daily ``day_of_week`` (0 = Monday), ``day_of_month``,
    ``day_of_year``, ``week_of_year`` (ISO); weekly ``week_of_year``; monthly
    ``days_in_period``; and, per period, the number of days of each kind of
    ``japanese_days`` (a 0/1 flag for daily data).
    """
    unique, inverse = np.unique(np.asarray(dates, dtype="datetime64[D]"), return_inverse=True)
    if not len(unique):
        return {}
    if freq == Freq.MONTHLY:
        begin = unique.astype("datetime64[M]").astype("datetime64[D]")
        end = (unique.astype("datetime64[M]") + 1).astype("datetime64[D]")
    else:
        begin = unique
        end = unique + (7 if freq == Freq.WEEKLY else 1) * DAY
    starts = pd.DatetimeIndex(begin)
    table: dict[str, np.ndarray] = {"month": starts.month.to_numpy()}
    if freq == Freq.DAILY:
        table |= {
            "day_of_week": starts.day_of_week.to_numpy(),
            "day_of_month": starts.day.to_numpy(),
            "day_of_year": starts.day_of_year.to_numpy(),
            "week_of_year": starts.isocalendar().week.to_numpy(dtype=np.int64),
        }
    elif freq == Freq.WEEKLY:
        table["week_of_year"] = starts.isocalendar().week.to_numpy(dtype=np.int64)
    else:
        table["days_in_period"] = (end - begin).astype(np.int64)
    # Days of each kind within a period: differences of running counts over every day
    # from the first period's start to the last one's end (periods may overlap or skip).
    days = np.arange(begin.min(), end.max())
    at_begin, at_end = (begin - days[0]).astype(np.int64), (end - days[0]).astype(np.int64)
    for name, flag in japanese_days(days).items():
        running = np.concatenate([[0], np.cumsum(flag, dtype=np.int64)])
        table[name] = running[at_end] - running[at_begin]
    return {name: values[inverse].astype(np.float32) for name, values in table.items()}


def japanese_days(days: np.ndarray) -> dict[str, np.ndarray]:
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
    task: ForecastTask, positions: np.ndarray, future: pd.DataFrame,
    hist_series: np.ndarray, fut_series: np.ndarray, n_series: int, series: np.ndarray,
) -> dict[str, pd.Categorical]:
    """Keys and attributes as categoricals (``key_*``, ``attr_*``), coded in sorted order.

    They hold for a whole series, so they are read once per series (the future's value
    over the history's) and broadcast to the rows.
    """
    roles = {**{c: "attr" for c in task.attributes}, **{c: "key" for c in task.keys}}
    history = task.history
    hist_rows, fut_rows = positions[_run_starts(hist_series)], _run_starts(fut_series)
    hist_at = hist_series[_run_starts(hist_series)]
    features: dict[str, pd.Categorical] = {}
    for column, role in roles.items():
        if column not in history or column not in future:
            continue
        per_series = np.full(n_series, None, dtype=object)
        per_series[hist_at] = history[column].iloc[hist_rows].to_numpy(dtype=object)
        per_series[fut_series[fut_rows]] = future[column].iloc[fut_rows].to_numpy(dtype=object)
        codes, categories = pd.factorize(pd.Series(per_series), sort=True)
        features[f"{role}_{column}"] = pd.Categorical.from_codes(codes[series], categories=categories)
    return features


def _run_starts(codes: np.ndarray) -> np.ndarray:
    """Rows where a run of one series starts: one row per series, as rows are sorted by series."""
    return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([], dtype=np.int64)


def _exog_features(
    task: ForecastTask, positions: np.ndarray, future: pd.DataFrame, rows: np.ndarray,
    hist_series: np.ndarray, n_series: int, series: np.ndarray,
) -> dict[str, object]:
    """Known-in-advance columns (``exog_*``): the history's values to train, the future's to forecast.

    A price-like column (its name says "price") also enters relative to the series'
    median price in the history: a promotion or a price rise then shows as the same
    ratio for a 100-yen drink and a 600-yen bento.
    """
    features: dict[str, object] = {}
    history = task.history
    for column in dict.fromkeys(task.exog_known):
        if column not in history or column not in future:
            continue
        past, ahead = history[column].iloc[positions[rows]], future[column]
        if not pd.api.types.is_numeric_dtype(past):  # text labels: a categorical
            codes, categories = pd.factorize(pd.concat([past, ahead], ignore_index=True), sort=True)
            features[f"exog_{column}"] = pd.Categorical.from_codes(codes, categories=categories)
            continue
        values = np.concatenate([
            past.to_numpy(dtype=float, na_value=np.nan), ahead.to_numpy(dtype=float, na_value=np.nan)
        ])
        features[f"exog_{column}"] = values.astype(np.float32)
        if "price" in column.lower():
            typical = _series_medians(history[column], positions, hist_series, n_series)[series]
            with np.errstate(invalid="ignore", divide="ignore"):
                features[f"exog_{column}_relative"] = (values / typical).astype(np.float32)
    return features


MEDIAN_BLOCK_ROWS = 2_000_000  # rows per group-by of ``_series_medians``


def _series_medians(column: pd.Series, positions: np.ndarray, series: np.ndarray, n_series: int) -> np.ndarray:
    """The median of ``column`` at ``positions`` per series (``series``: each position's row
    of the target matrix, in runs: the history is sorted by series), NaN for a series with
    none. Taken a block of whole series at a time (about ``MEDIAN_BLOCK_ROWS`` rows): one
    group-by over a national chain's 35 million rows sorts them all at once (1 GB)."""
    medians = np.full(n_series, np.nan)
    starts = np.r_[_run_starts(series), len(series)]  # a block ends where a series starts
    bounds = np.unique(np.r_[starts[np.searchsorted(starts, np.arange(0, len(series), MEDIAN_BLOCK_ROWS))], len(series)])
    for begin, end in zip(bounds[:-1], bounds[1:]):
        values = column.iloc[positions[begin:end]].to_numpy(dtype=float, na_value=np.nan)
        usual = pd.Series(values).groupby(series[begin:end]).median()
        medians[usual.index.to_numpy()] = usual.to_numpy()
    return medians

