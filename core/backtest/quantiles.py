"""Forecast quantiles from a model's own out-of-fold errors (conformal prediction).

API::

    LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)   # the levels the backtest scores: 95 % and 80 % intervals, the median
    INTERVALS = {80: (0.1, 0.9), 95: (0.025, 0.975)}
    quantile_column(level) -> str             # 0.9 -> "q0.9"
    conformal_offsets(forecasts, levels=LEVELS, segment_of=None, *, out_of_fold=True, min_errors=None)
        -> DataFrame[model, cutoff, unique_id, level, offset, basis]   # per model, fold and series
    future_offsets(forecasts, levels=LEVELS, segment_of=None, min_errors=None)
        -> DataFrame[model, unique_id, level, offset, basis]           # from ALL the run's folds
    with_quantiles(forecasts, offsets, stated=None) -> forecasts + one column per level ("q0.9", ...)
    own_errors_needed(level) -> int                                    # errors for a series' own basis (default)
    max_level(n_errors) -> float                                       # the highest upper level n errors support
    non_crossing(offsets, levels, axis=-1) -> ndarray                  # monotone in the level, NaN kept
    no_interval_reason(n_folds) -> str | None                          # why a run has no backtest interval
    SINGLE_FOLD                                                        # that reason, for a one-fold run
    METHOD                                                             # the method in a sentence (backtest JSON)

``forecasts`` is the shape of ``run_forecasts``: unique_id, ds, cutoff, step, actual, model,
forecast (one row per series, date, fold and model). The offset of level τ is the τ-quantile
of the model's errors ``actual - forecast``, so ``forecast + offset`` is the forecast's
τ-quantile (clipped at 0: sales are not negative).

**Cross-conformal over folds.** A fold's offsets come from the model's errors in the *other*
folds (Vovk 2015, "Cross-conformal predictors", Ann. Math. Artif. Intell. 74; Barber, Candès,
Ramdas & Tibshirani 2021, "Predictive inference with the jackknife+", Ann. Statist. 49, the
"CV+" interval): the fold's own actuals never enter its quantiles, so its coverage is an
honest out-of-sample figure. Folds are treated as exchangeable, as CV+ does: an early fold
borrows the errors of later folds (what the spread of errors is, not what the sales were).
A run with one fold has no other fold, hence no backtest interval (``SINGLE_FOLD``); its
forecasts *beyond* the run still get offsets from that fold (``future_offsets``).

**Finite-sample quantile** (split conformal, Lei, G'Sell, Rinaldo, Tibshirani & Wasserman
2018, JASA 113): from n errors sorted ascending, the upper level τ ≥ 0.5 is the
⌈(n+1)τ⌉-th smallest and the lower level τ < 0.5 the ⌊(n+1)τ⌋-th. It exists only when that
rank is between 1 and n: n ≥ τ/(1-τ) for an upper level (9 errors for 0.9, 39 for 0.975,
199 for 0.995) and n ≥ 1/τ - 1 for a lower one (9 for 0.1, 39 for 0.025); ``max_level(n)``
is the highest upper level n errors support. Where it does not exist the offset is NaN
("level not available"), never a guess.

**What is guaranteed, and what is not.** For a split-conformal quantile on exchangeable
errors, coverage of at least τ holds. Cross-conformal over folds (CV+) guarantees less:
Barber et al. (2021, Thm. 4) prove a two-sided CV+ interval of nominal 1-α covers at least
1-2α (minus a term in 1/fold size), about 1-α in practice; so each upper level τ here is
*about* τ, with a guarantee only of 1-2(1-τ). Errors pooled over series after scaling
(``segment``, ``all`` below) are not exchangeable with the series' own future errors, and
sales over time are not exchangeable either: for them there is no guarantee at all, only
the backtest's measured coverage (``metrics.coverage_80``, ``coverage_95``).

**Overlapping folds.** When folds overlap (``SplitConfig.step`` below gap + horizon), another
fold's errors on the dates fold f forecasts are errors *on fold f's own actuals*. They are
left out of fold f's pool: every error dated within fold f's forecast dates (its first to its
last date, over all series) is dropped, so a fold's actual sales never set its own interval.
(Dropping every error after fold f's cutoff instead would leave the last fold with the
errors of earlier folds only and the first fold with none at all, while errors on later,
disjoint dates carry no information on fold f's actuals; exchangeability of folds, which CV+
assumes, is kept by the window rule.)

**Basis, per level.** ``series``: the series' own out-of-fold errors, where it has enough
for the level: by default ``own_errors_needed`` (10 errors beyond the quantile: 100 for 0.1
and 0.9, 400 for 0.025 and 0.975, 20 for the median), or ``min_errors`` when given (never
below the finite-sample minimum). Otherwise ``segment``: the errors of every
series of its segment (``segment_of``: unique_id -> label, e.g. the category) pooled, each
divided by its own series' mean absolute out-of-fold error, and the pooled quantile
multiplied back by the series' mean absolute error. That scale is the normalised
nonconformity score of Papadopoulos, Vovk & Gammerman (2011, "Regression conformal
prediction with nearest neighbours", JAIR 40) and Lei et al. (2018, §5.2): it divides by the
model's own typical miss on the series, so a series selling 2 a day and one selling 200 -
and an easy and a hard series of the same size - pool errors of one shape; a scale by sales
volume would leave slow movers' relatively larger misses to widen big sellers' intervals.
Then ``all``: the same pooled over every series (also when ``segment_of`` is None), and
``none`` (offset NaN) where even that pool is too small or the series has no out-of-fold
error at all (it was scored in one fold only). A series whose out-of-fold errors are all 0
pools nothing and gets offset 0.

Measured on the 500-series demo chain (3 folds x 28 days, 56 out-of-fold errors a series;
``benchmarks/bench_scoring.py``): quantiles from each series' own 56 errors held 78 % of
Theta's actuals in the 80 % interval but only 91 % in the 95 % one (7 % below its 2.5 %
quantile: a stockout in one fold is a miss the other folds never showed), while the pooled
normalised errors held 79 % and 94 %, and per-series coverage of the 80 % interval spread
less (sd 5.5 against 7.4 points). Hence the default: a series' own errors only when ten of
them lie beyond the quantile.

Quantiles never cross. The basis is chosen per level, so a series' 0.95 offset may come from
its segment and its 0.9 one from its own errors, and the first can fall below the second:
each (model, fold, series)'s offsets are therefore widened across the levels it has
(``non_crossing``: a running maximum from the median up, minimum from the median down), so
every consumer (the money's order-up-to levels, the hand-off's order quantities) gets offsets
that never decrease in the level; a raised value keeps the basis it was computed on (a 0.95
offset raised to the series' own 0.9 one reads ``series``). After adding the offsets each row's quantiles are sorted once
more (the clip at 0 and a model's stated quantiles can reorder them), the
rearrangement of Chernozhukov, Fernández-Val & Galichon (2010, Econometrica 78), which can
only lower the pinball loss. A model that states its own quantiles (forecasts made elsewhere
with quantile columns, table ``run_quantiles``) keeps them at the levels it states
(``with_quantiles(..., stated=...)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.columns import DATE, SERIES_ID
from core.errors import MitoshiError
from core.i18n import N_, gettext

ACTUAL, FORECAST, MODEL, CUTOFF, LEVEL, OFFSET, BASIS = "actual", "forecast", "model", "cutoff", "level", "offset", \
    "basis"
LEVELS: tuple[float, ...] = (0.025, 0.1, 0.5, 0.9, 0.975)
INTERVALS: dict[int, tuple[float, float]] = {80: (0.1, 0.9), 95: (0.025, 0.975)}
BASES = ("series", "segment", "all", "none")
# In English (the command line's JSON); ``no_interval_reason`` reads it in the current language.
SINGLE_FOLD = N_("A run with one fold has no out-of-fold errors, so its backtest forecasts have no interval to "
                 "score (pinball loss and coverage are missing). Run two folds or more to score the spread of the "
                 "forecasts.")
METHOD = ("cross-conformal over the folds (CV+): each fold's quantiles from the model's errors in the other folds, "
          "per series where it has enough, else pooled by segment on errors scaled by each series' mean absolute error")
TAIL_ERRORS = 10  # errors beyond the quantile a series needs to be its own basis (own_errors_needed)
_EPS = 1e-9  # (n+1)·τ is a float: 10 x 0.9 must be rank 9, not 10


def quantile_column(level: float) -> str:
    """The column of a quantile level: 0.9 -> ``q0.9``, 0.025 -> ``q0.025``."""
    return f"q{level:g}"


def own_errors_needed(level: float) -> int:
    """The fewest out-of-fold errors a series needs to be its own basis at ``level`` by
    default: ``TAIL_ERRORS`` of them beyond the quantile (n·min(τ, 1-τ) ≥ 10: 20 for the
    median, 100 for 0.1 and 0.9, 400 for 0.025 and 0.975), and never fewer than the
    finite-sample minimum. Fewer errors put the quantile on the series' one or two most
    extreme misses, which a stockout or a promotion in one fold decides (see the module
    docstring's measurement)."""
    finite = next(n for n in range(1, 100_000) if 1 <= _ranks(np.array([n]), level)[0] <= n)
    return max(finite, int(np.ceil(TAIL_ERRORS / min(level, 1 - level) - _EPS)))


def max_level(n_errors: int) -> float:
    """The highest upper level whose finite-sample quantile ``n_errors`` errors support:
    n/(n+1) (the ⌈(n+1)τ⌉-th smallest must be at most the n-th); 0.0 for no error. 199
    errors support 0.995, 99 support 0.99, 39 support 0.975."""
    n = int(n_errors)
    return n / (n + 1) if n > 0 else 0.0


def non_crossing(offsets: np.ndarray, levels: Sequence[float], axis: int = -1) -> np.ndarray:
    """``offsets`` made monotone along ``axis`` (one entry per level of ``levels``, ascending)
    by widening: an upper level (≥ 0.5) below a lower upper level is raised to it (a running
    maximum from the median out), a lower level above a higher level is lowered to it (a
    running minimum from the median down). NaN ("level not available") stays NaN and is
    skipped. Widening, not the sort of Chernozhukov et al. (2010), because crossing comes from
    a basis change between levels (a series' own 0.9 quantile, a pooled 0.95 one): the own
    quantile is the better estimate for the series, and sorting would move it to another
    level. Any shape; returns a new float array."""
    values = np.moveaxis(np.asarray(offsets, dtype=float), axis, -1)
    flat = values.reshape(-1, values.shape[-1])
    out = np.take_along_axis(flat, _widening(flat, levels), axis=1)
    return np.moveaxis(np.where(np.isnan(flat), np.nan, out).reshape(values.shape), -1, axis)


def _widening(values: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """(rows, levels) -> for each cell the level column whose value it takes so that the
    row never decreases in the level (see ``non_crossing``); NaN cells point at themselves."""
    rows = np.arange(values.shape[0])
    source = np.tile(np.arange(values.shape[1]), (values.shape[0], 1))
    upper = [j for j, level in enumerate(levels) if level >= 0.5]
    lower = [j for j, level in enumerate(levels) if level < 0.5][::-1]
    anchor = upper[0] if upper else (lower[0] if lower else 0)
    for group, worse in ((upper, np.less), (lower, np.greater)):
        best = np.full(len(rows), anchor)
        for j in group:
            current, kept = values[:, j], values[rows, source[rows, best]]
            replace = ~np.isnan(current) & ~np.isnan(kept) & worse(current, kept)
            source[replace, j] = source[rows, best][replace]
            best = np.where(~np.isnan(current) & ~replace | np.isnan(kept), j, best)
    return source


def no_interval_reason(n_folds: int, english: bool = False) -> str | None:
    """Why the backtest forecasts of a run with ``n_folds`` folds have no interval, in the
    current language (``english``: in English, for the command line's JSON); None when they
    have one."""
    if n_folds >= 2:
        return None
    return SINGLE_FOLD if english else gettext(SINGLE_FOLD)


def conformal_offsets(forecasts: pd.DataFrame, levels: Sequence[float] = LEVELS,
                      segment_of: pd.Series | None = None, *, out_of_fold: bool = True,
                      min_errors: int | None = None) -> pd.DataFrame:
    """Per model, fold (cutoff) and series, the offset to add to the point forecast to get
    its quantile at each level; see the module docstring for the method and its sources.

    ``forecasts``: unique_id, cutoff, actual, model, forecast (the ``run_forecasts`` shape;
    rows without an actual are ignored). ``levels``: in (0, 1). ``segment_of``: unique_id ->
    segment label for pooling (None: pool all series). ``out_of_fold=False`` uses every
    fold's errors, the fold's own included: in-sample, for comparison only. ``min_errors``:
    the fewest out-of-fold errors a series needs to be its own basis (None:
    ``own_errors_needed(level)``; 0: only the finite-sample minimum).

    Returns model, cutoff, unique_id, level, offset (units of the target), basis (``series``,
    ``segment``, ``all`` or ``none`` with offset NaN). Empty when the run has one fold and
    ``out_of_fold`` (``SINGLE_FOLD`` says why). Raises ``MitoshiError`` for missing columns
    or a level outside (0, 1).
    """
    levels = _checked(forecasts, levels, (SERIES_ID, CUTOFF, ACTUAL, MODEL, FORECAST))
    errors = _errors(forecasts)
    folds = np.sort(errors[CUTOFF].unique())
    if out_of_fold and len(folds) < 2:
        return _empty(with_cutoff=True)
    parts = []
    for model, part in errors.groupby(MODEL, sort=True, observed=True):
        cube, series, cutoffs, dates = _cube(part)  # series x folds x errors of a fold (and their dates)
        segments = _segment_codes(series, segment_of)
        for f, cutoff in enumerate(cutoffs):
            present = ~np.all(np.isnan(cube[:, f, :]), axis=1)  # only the series this fold scored
            if out_of_fold:
                pool = np.delete(cube, f, axis=1)
                if dates is not None:  # overlapping folds: no error on a date fold f forecasts
                    when = np.delete(dates, f, axis=1)
                    mine = dates[:, f, :][~np.isnan(cube[:, f, :])]
                    if mine.size:
                        inside = (when >= mine.min()) & (when <= mine.max())
                        if inside.any():
                            pool = np.where(inside, np.nan, pool)
            else:
                pool = cube
            # every series' other folds pool, also a series this fold did not score
            offsets, basis = _offsets(pool.reshape(len(series), -1), levels, segments, min_errors)
            parts.append((model, cutoff, series[present], offsets[present], basis[present]))
    return _long(parts, levels, with_cutoff=True)


def future_offsets(forecasts: pd.DataFrame, levels: Sequence[float] = LEVELS, segment_of: pd.Series | None = None,
                   min_errors: int | None = None) -> pd.DataFrame:
    """Offsets for forecasts beyond the run (the hand-off's batch): from ALL the run's folds,
    every one of them out of sample for a forecast made after the run. Same method, inputs
    and errors as ``conformal_offsets``; a one-fold run works. Returns model, unique_id,
    level, offset, basis (one row per model, series of the run and level)."""
    levels = _checked(forecasts, levels, (SERIES_ID, CUTOFF, ACTUAL, MODEL, FORECAST))
    errors = _errors(forecasts)
    parts = []
    for model, part in errors.groupby(MODEL, sort=True, observed=True):
        cube, series, _, _ = _cube(part)
        offsets, basis = _offsets(cube.reshape(len(series), -1), levels, _segment_codes(series, segment_of),
                                  min_errors)
        parts.append((model, None, series, offsets, basis))
    return _long(parts, levels, with_cutoff=False)


def with_quantiles(forecasts: pd.DataFrame, offsets: pd.DataFrame, stated: pd.DataFrame | None = None
                   ) -> pd.DataFrame:
    """``forecasts`` with one column per level of ``offsets`` (``quantile_column``): max(0,
    forecast + offset), sorted across levels so that quantiles never cross. Offsets with a
    cutoff column (``conformal_offsets``) join on model, unique_id and cutoff; without one
    (``future_offsets``) on model and unique_id. A row with no offset has NaN quantiles.
    ``stated``: quantiles a model gave itself, the ``run_quantiles`` shape (model, unique_id,
    ds, cutoff, level, value); where given, at a level of ``offsets``, they replace the
    conformal value as they are, and the conformal values at the other levels are kept
    between them (stated levels ``offsets`` does not have are ignored)."""
    keys = [MODEL, SERIES_ID] + ([CUTOFF] if CUTOFF in offsets.columns else [])
    levels = sorted(set(offsets[LEVEL].astype(float))) if not offsets.empty else []
    if stated is not None and not stated.empty:
        if levels:  # a stated level the offsets do not score would only push the scored ones around
            stated = stated[stated[LEVEL].astype(float).isin(levels)]
        else:
            levels = sorted(set(stated[LEVEL].astype(float)))
    columns = [quantile_column(level) for level in levels]
    out = forecasts.drop(columns=[c for c in columns if c in forecasts.columns])
    if not levels:
        return out
    values = np.maximum(out[FORECAST].to_numpy(dtype=float)[:, None] + _lookup(out, offsets, keys, levels), 0.0)
    # Rearrangement (Chernozhukov et al. 2010): NaN sorts last, so only rows with every level are sorted.
    complete = ~np.isnan(values).any(axis=1)
    values[complete] = np.sort(values[complete], axis=1)
    if stated is not None and not stated.empty:
        on = [MODEL, SERIES_ID, DATE, CUTOFF]
        own = _keyed(stated, [*on, LEVEL]).set_index([*on, LEVEL])["value"].unstack(LEVEL).reindex(columns=levels)
        own.columns = columns
        match = _keyed(out[on], on).merge(_keyed(own.reset_index(), on), on=on, how="left")[columns].to_numpy(dtype=float)
        fixed = ~np.isnan(match)
        # The levels a model states stay as stated (they were checked not to cross); the conformal
        # ones at the other levels are kept between the stated ones below and above them.
        below = np.maximum.accumulate(np.where(fixed, match, -np.inf), axis=1)
        above = np.minimum.accumulate(np.where(fixed, match, np.inf)[:, ::-1], axis=1)[:, ::-1]
        values = np.where(fixed, match, np.clip(values, below, above))
    return out.assign(**{c: values[:, i] for i, c in enumerate(columns)})


# ---------------------------------------------------------------------------------
# The computation, on numpy
# ---------------------------------------------------------------------------------
def _checked(forecasts: pd.DataFrame, levels: Sequence[float], needed: Sequence[str]) -> tuple[float, ...]:
    missing = [c for c in needed if c not in forecasts.columns]
    if missing:
        raise MitoshiError(f"The forecasts lack the column(s) {missing}: quantiles need the backtest's forecasts "
                           f"with {', '.join(needed)} (the shape of a stored run's forecasts).")
    levels = tuple(sorted({float(level) for level in levels}))
    if not levels or not all(0 < level < 1 for level in levels):
        raise MitoshiError(f"Quantile levels must lie strictly between 0 and 1 (e.g. 0.9 for the 90 % quantile); "
                           f"got {list(levels)}.")
    return levels


def _lookup(rows: pd.DataFrame, offsets: pd.DataFrame, keys: list[str], levels: list[float]) -> np.ndarray:
    """The offset of each row (rows x levels; NaN where none), found by integer codes of the
    keys: a join of a run's forecasts this way costs a fraction of a DataFrame merge."""
    found = np.full((len(rows), len(levels)), np.nan)
    if offsets.empty:
        return found
    own, theirs, shape = [], [], []
    for key in keys:
        categories, own_codes = _factorized(offsets[key], key)
        row_codes, row_values = pd.factorize(rows[key])  # categorical ids: their codes, no string work
        known = categories.get_indexer(_factorized(pd.Series(row_values), key)[0])
        own.append(own_codes)
        theirs.append(np.where(row_codes >= 0, known[np.maximum(row_codes, 0)], -1) if len(known) else
                      np.full(len(rows), -1))
        shape.append(len(categories))
    cells = np.ravel_multi_index(own, shape)  # one number per key tuple, no dense key grid
    unique, slot = np.unique(cells, return_inverse=True)
    table = np.full((len(unique), len(levels)), np.nan)
    table[slot, pd.Index(levels).get_indexer(offsets[LEVEL])] = offsets[OFFSET].to_numpy(dtype=float)
    matched = np.all([c >= 0 for c in theirs], axis=0)
    wanted = np.ravel_multi_index([c[matched] for c in theirs], shape)
    position = np.minimum(np.searchsorted(unique, wanted), len(unique) - 1)
    hit = unique[position] == wanted
    rows_found = found[matched]
    rows_found[hit] = table[position[hit]]
    found[matched] = rows_found
    return found


def _factorized(values: pd.Series, key: str) -> tuple[pd.Index, np.ndarray]:
    """The distinct values of a join key in the key's one dtype, and each value's code."""
    codes, uniques = pd.factorize(values)
    cast = {MODEL: str, SERIES_ID: str, CUTOFF: "datetime64[ns]", DATE: "datetime64[ns]"}[key]
    return pd.Index(np.asarray(uniques)).astype(cast), codes


def _keyed(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """``frame`` with its join keys in one dtype each (text ids, nanosecond dates, float levels),
    whatever the warehouse or the engine gave (categories, microseconds)."""
    cast = {MODEL: str, SERIES_ID: str, CUTOFF: "datetime64[ns]", DATE: "datetime64[ns]", LEVEL: float}
    return frame.astype({k: cast[k] for k in keys if k in frame.columns}) \
        if set(keys) <= set(frame.columns) else frame


def _errors(forecasts: pd.DataFrame) -> pd.DataFrame:
    frame = forecasts[[MODEL, SERIES_ID, CUTOFF, *([DATE] if DATE in forecasts.columns else [])]].copy()
    frame["error"] = forecasts[ACTUAL].to_numpy(dtype=float) - forecasts[FORECAST].to_numpy(dtype=float)
    return frame[~np.isnan(frame["error"].to_numpy())]


def _cube(errors: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """One model's errors as a (series, fold, error) array padded with NaN, its series ids,
    its cutoffs (oldest first) and the errors' dates as the same-shaped array of
    nanoseconds (None when the rows have no ``ds``)."""
    s_codes, series = pd.factorize(errors[SERIES_ID], sort=True)
    f_codes, cutoffs = pd.factorize(errors[CUTOFF], sort=True)
    cell = s_codes.astype(np.int64) * len(cutoffs) + f_codes
    order = np.argsort(cell, kind="stable")
    sorted_cells = cell[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_cells)) + 1]
    sizes = np.diff(np.r_[starts, len(sorted_cells)])
    position = np.arange(len(sorted_cells)) - np.repeat(starts, sizes)
    shape = (len(series), len(cutoffs), int(sizes.max()) if len(sizes) else 0)
    cube = np.full(shape, np.nan)
    where = (s_codes[order], f_codes[order], position)
    cube[where] = errors["error"].to_numpy()[order]
    dates = None
    if DATE in errors.columns:
        dates = np.full(shape, np.iinfo(np.int64).min, dtype=np.int64)  # padding: before every date
        dates[where] = pd.to_datetime(errors[DATE]).to_numpy(dtype="datetime64[ns]").astype(np.int64)[order]
    return cube, np.asarray(series, dtype=object), np.asarray(cutoffs), dates


def _segment_codes(series: np.ndarray, segment_of: pd.Series | None) -> np.ndarray | None:
    """Each series' segment number (-1: none known, pooled with all), or None for no segments."""
    if segment_of is None:
        return None
    labels = pd.Series(series).map(segment_of)
    codes, _ = pd.factorize(labels)  # NaN -> -1
    return codes


def _ranks(n: np.ndarray, level: float) -> np.ndarray:
    """The 1-based rank of the finite-sample conformal quantile among n sorted errors (0 or
    n+1 where it does not exist)."""
    if level >= 0.5:
        return np.ceil((n + 1) * level - _EPS).astype(np.int64)
    return np.floor((n + 1) * level + _EPS).astype(np.int64)


def _pick(sorted_values: np.ndarray, starts: np.ndarray, n: np.ndarray, level: float
          ) -> tuple[np.ndarray, np.ndarray]:
    """The conformal quantile of each group of a flat sorted array: values and whether it exists."""
    rank = _ranks(n, level)
    ok = (rank >= 1) & (rank <= n)
    index = np.where(ok, starts + rank - 1, 0)
    values = sorted_values[index] if len(sorted_values) else np.zeros(len(n))
    return np.where(ok, values, np.nan), ok


def _offsets(errors: np.ndarray, levels: tuple[float, ...], segments: np.ndarray | None,
             min_errors: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (series x levels) and their basis (codes into ``BASES``) from each series'
    errors (series x errors, NaN padded)."""
    n_series, width = errors.shape
    ordered = np.sort(errors, axis=1)  # NaN last
    n = np.sum(~np.isnan(errors), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(n > 0, np.nansum(np.abs(errors), axis=1) / np.maximum(n, 1), np.nan)
    offsets = np.full((n_series, len(levels)), np.nan)
    basis = np.full((n_series, len(levels)), BASES.index("none"), dtype=np.int8)
    own_starts = np.arange(n_series) * width
    pools: dict[str, tuple] = {}  # made when a series first needs one
    for j, level in enumerate(levels):
        own, ok = _pick(ordered.ravel(), own_starts, n, level)
        ok &= n >= (own_errors_needed(level) if min_errors is None else min_errors)
        offsets[ok, j], basis[ok, j] = own[ok], BASES.index("series")
        for name in ("segment", "all") if segments is not None else ("all",):
            codes = segments if name == "segment" else np.zeros(n_series, dtype=np.int64)
            todo = (basis[:, j] == BASES.index("none")) & (n > 0) & (codes >= 0)
            if not todo.any():
                continue
            if name not in pools:
                pools[name] = _pool(errors, scale, codes)
            values, starts, counts = pools[name]
            pooled, exists = _pick(values, starts, counts, level)
            use = todo & exists[np.maximum(codes, 0)]
            offsets[use, j] = np.where(scale[use] > 0, scale[use] * pooled[codes[use]], 0.0)
            basis[use, j] = BASES.index(name)
    # One basis per level makes levels cross (a pooled 0.95 below an own 0.9): widened, each value keeps its basis.
    source = _widening(offsets, levels)
    missing = np.isnan(offsets)
    return (np.where(missing, np.nan, np.take_along_axis(offsets, source, axis=1)),
            np.where(missing, basis, np.take_along_axis(basis, source, axis=1)))


def _pool(errors: np.ndarray, scale: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The errors divided by their series' scale, sorted within each group of series
    (``codes``, -1: in none), with each group's start and size. A series with no scale
    (no error, or every error 0) pools nothing."""
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = (errors / np.where(scale > 0, scale, np.nan)[:, None]).ravel()
    groups = np.repeat(codes, errors.shape[1])
    keep = ~np.isnan(scaled) & (groups >= 0)
    values, groups = scaled[keep], groups[keep]
    # Grouped first (a stable sort of small integers), then each group's slice sorted in
    # place: the same values as sorting by (group, value), at a fraction of two argsorts.
    values = values[np.argsort(groups, kind="stable")]
    counts = np.bincount(groups, minlength=int(codes.max()) + 1 if len(codes) else 0)
    starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    for start, count in zip(starts.tolist(), counts.tolist()):
        if count > 1:
            values[start:start + count].sort()
    return values, starts, counts


def _long(parts: list[tuple], levels: tuple[float, ...], with_cutoff: bool) -> pd.DataFrame:
    """One long frame from each (model, cutoff, series, offsets, basis) part."""
    if not parts:
        return _empty(with_cutoff)
    k = len(levels)
    sizes = [len(series) * k for _, _, series, _, _ in parts]
    frame = {MODEL: np.repeat(np.asarray([model for model, *_ in parts], dtype=object), sizes)}
    if with_cutoff:
        frame[CUTOFF] = np.repeat(np.asarray([pd.Timestamp(c).to_datetime64() for _, c, *_ in parts],
                                             dtype="datetime64[ns]"), sizes)
    frame[SERIES_ID] = np.concatenate([np.repeat(series, k) for _, _, series, _, _ in parts])
    frame[LEVEL] = np.tile(np.asarray(levels, dtype=float), sum(sizes) // k)
    frame[OFFSET] = np.concatenate([offsets.ravel() for *_, offsets, _ in parts])
    frame[BASIS] = pd.Categorical.from_codes(np.concatenate([basis.ravel() for *_, basis in parts]),
                                             categories=list(BASES))
    return pd.DataFrame(frame)


def _empty(with_cutoff: bool) -> pd.DataFrame:
    columns = [MODEL, *([CUTOFF] if with_cutoff else []), SERIES_ID, LEVEL, OFFSET, BASIS]
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == CUTOFF else float if c in (LEVEL, OFFSET)
                                      else object) for c in columns})
