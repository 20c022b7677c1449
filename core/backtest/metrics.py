"""Forecast error metrics, each a small function with one signature.

Every metric takes the scored rows (one per series, date, cutoff and model, with
``actual``, ``forecast`` and the fold's scales) and the columns to group by, and
returns one value per group. Adding a metric is one function and one line in
``METRICS``. MASE and RMSSE are scaled by each series' errors of the naive methods on
that fold's own training data, so a fold never borrows scale from the future.

The spread of a forecast is scored where the rows carry its quantiles (one column per
level of ``core.backtest.quantiles.LEVELS``, ``q0.025`` … ``q0.975``): ``QUANTILE_METRICS``
(scaled pinball loss, coverage of the 80 % and 95 % intervals, the 80 % interval's width)
and ``CALIBRATION_METRICS`` (the share of actuals at or below each quantile). ``evaluate``
adds them when the quantile columns are there; a run with one fold has none
(``quantiles.SINGLE_FOLD``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.backtest.quantiles import INTERVALS, LEVELS, quantile_column
from core.columns import SERIES_ID

ACTUAL, FORECAST, MODEL, CUTOFF, STEP = "actual", "forecast", "model", "cutoff", "step"
SCALE_MASE, SCALE_RMSSE = "scale_mase", "scale_rmsse"
GROUP = "_group"

Metric = Callable[[pd.DataFrame, list[str]], pd.Series]


# --- what each metric sums per row ------------------------------------------------------
#
# Every metric is made from per-group sums of per-row terms: a mean is the sum of its term
# over the rows where the term exists divided by their count; WAPE is a ratio of two sums;
# RMSSE a mean over (series, fold) of the root of a mean. Sums add up, so ``evaluate_levels``
# sums each term once per (model, series, fold) and every coarser level (overall, fold,
# series, segment) from those cells, not from the rows again: on a national chain's run
# (25 million rows) that is one pass over the rows instead of one per level.

def _errors(scored: pd.DataFrame) -> np.ndarray:
    return scored[FORECAST].to_numpy(dtype=float) - scored[ACTUAL].to_numpy(dtype=float)


def _scaled(scored: pd.DataFrame, column: str, errors: np.ndarray) -> np.ndarray:
    scale = scored[column].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, errors / scale, np.nan)


def _smape_rows(scored: pd.DataFrame) -> np.ndarray:
    """sMAPE's term, 0..2; a period where both are 0 counts as no error."""
    denominator = np.abs(scored[ACTUAL].to_numpy(dtype=float)) + np.abs(scored[FORECAST].to_numpy(dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 2 * np.abs(_errors(scored)) / denominator, 0.0)


def _quantiles(scored: pd.DataFrame, level: float) -> np.ndarray:
    return scored[quantile_column(level)].to_numpy(dtype=float)


def _pinball_rows(scored: pd.DataFrame) -> np.ndarray:
    actual = scored[ACTUAL].to_numpy(dtype=float)
    loss = np.zeros(len(scored))
    for level in LEVELS:
        gap = actual - _quantiles(scored, level)
        loss += np.maximum(level * gap, (level - 1) * gap)
    return _scaled(scored, SCALE_MASE, loss / len(LEVELS))


def _inside_rows(scored: pd.DataFrame, interval: int) -> np.ndarray:
    low, high = (_quantiles(scored, level) for level in INTERVALS[interval])
    actual = scored[ACTUAL].to_numpy(dtype=float)
    return np.where(np.isnan(low) | np.isnan(high), np.nan, (actual >= low) & (actual <= high))


def _below_rows(scored: pd.DataFrame, level: float) -> np.ndarray:
    q = _quantiles(scored, level)
    return np.where(np.isnan(q), np.nan, scored[ACTUAL].to_numpy(dtype=float) <= q)


def below_name(level: float) -> str:
    """The calibration metric of a level: 0.9 -> ``below_0.9``."""
    return f"below_{level:g}"


ROW_PREFIX = "_row_"
# The spread's per-row terms, which ``with_row_terms`` can keep as columns.
ROW_TERMS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "pinball": _pinball_rows, "coverage_80": lambda scored: _inside_rows(scored, 80),
    "coverage_95": lambda scored: _inside_rows(scored, 95),
    "width_80": lambda scored: _quantiles(scored, INTERVALS[80][1]) - _quantiles(scored, INTERVALS[80][0]),
} | {below_name(level): (lambda scored, level=level: _below_rows(scored, level)) for level in LEVELS}
# Every per-row term a metric sums.
TERMS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "error": _errors,
    "abs_error": lambda scored: np.abs(_errors(scored)),
    "squared_error": lambda scored: _errors(scored) ** 2,
    "abs_actual": lambda scored: np.abs(scored[ACTUAL].to_numpy(dtype=float)),
    "smape": _smape_rows,
    "mase": lambda scored: _scaled(scored, SCALE_MASE, np.abs(_errors(scored))),
    "rmsse": lambda scored: _scaled(scored, SCALE_RMSSE, _errors(scored) ** 2),
} | ROW_TERMS


def _term(scored: pd.DataFrame, name: str) -> np.ndarray:
    """A term's per-row values: from ``with_row_terms``'s column when the rows carry it."""
    column = ROW_PREFIX + name
    return scored[column].to_numpy(dtype=float) if column in scored.columns else TERMS[name](scored)


@dataclass
class _Sums:
    """Per group of one level: each term's sum over the rows where it exists and their count,
    and RMSSE's per-(series, fold) roots with the group each belongs to."""

    total: dict[str, np.ndarray]
    count: dict[str, np.ndarray]
    roots: np.ndarray | None = None
    root_owner: np.ndarray | None = None

    def mean(self, term: str) -> np.ndarray:
        count = self.count[term]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, self.total[term] / np.maximum(count, 1), np.nan)


def _mean_of(term: str) -> Callable[[_Sums], np.ndarray]:
    return lambda sums: sums.mean(term)


def _wape(sums: _Sums) -> np.ndarray:
    volume = sums.total["abs_actual"]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(volume != 0, sums.total["abs_error"] / np.where(volume != 0, volume, 1), np.nan)


def _rmsse(sums: _Sums) -> np.ndarray:
    n = len(sums.total["rmsse"])
    present = ~np.isnan(sums.roots)
    totals = np.bincount(sums.root_owner, weights=np.where(present, sums.roots, 0.0), minlength=n)
    counts = np.bincount(sums.root_owner, weights=present, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)


# metric -> (the terms it sums, how the sums make it)
_FORMS: dict[str, tuple[tuple[str, ...], Callable[[_Sums], np.ndarray]]] = {
    "mae": (("abs_error",), _mean_of("abs_error")),
    "rmse": (("squared_error",), lambda sums: np.sqrt(sums.mean("squared_error"))),
    "bias": (("error",), _mean_of("error")),
    "wape": (("abs_error", "abs_actual"), _wape),
    "smape": (("smape",), _mean_of("smape")),
    "mase": (("mase",), _mean_of("mase")),
    "rmsse": (("rmsse",), _rmsse),
} | {name: ((name,), _mean_of(name)) for name in ROW_TERMS}


def _metric(name: str) -> Metric:
    def metric(scored: pd.DataFrame, by: list[str]) -> pd.Series:
        table = evaluate_levels(scored, {"": by}, names=(name,))[""]
        index = pd.MultiIndex.from_frame(table[by]) if len(by) > 1 else (
            pd.Index(table[by[0]], name=by[0]) if by else pd.RangeIndex(len(table)))
        return pd.Series(table[name].to_numpy(), index=index, name=name)

    metric.__name__ = name
    return metric


mae = _metric("mae")
mae.__doc__ = "Mean absolute error, in units."
rmse = _metric("rmse")
rmse.__doc__ = "Root mean squared error, in units: punishes large misses."
bias = _metric("bias")
bias.__doc__ = ("Mean of forecast minus actual, in units: above 0 over-forecasts (waste), below 0 under-forecasts "
                "(stockouts).")
wape = _metric("wape")
wape.__doc__ = "Weighted absolute percentage error: total absolute error over total actual."
smape = _metric("smape")
smape.__doc__ = "Symmetric MAPE, 0..2 (shown as %); a period where both are 0 counts as no error."
mase = _metric("mase")
mase.__doc__ = """Mean absolute scaled error: MAE over the in-sample seasonal-naive MAE of the
    series on the fold's training data; below 1 beats that naive method. Series with
    a zero scale (constant history) are left out."""
rmsse = _metric("rmsse")
rmsse.__doc__ = """Root mean squared scaled error (the M5 competition's): per series, RMSE over the
    in-sample one-step naive RMSE on the fold's training data; averaged over series."""
pinball = _metric("pinball")
pinball.__doc__ = """Scaled pinball (quantile) loss, averaged over the levels of ``LEVELS``: per row and
    level τ, max(τ·(y - q), (τ - 1)·(y - q)) for the actual y and the quantile q, divided
    like MASE by the series' in-sample seasonal-naive MAE on the fold's training data, so it
    compares across series (the M5 uncertainty competition's scaled pinball loss, Makridakis,
    Spiliotis & Assimakopoulos 2022, IJF 38, with MASE's scale). Lower is better; at the
    median alone it is half the MASE. Rows without quantiles are left out."""
coverage_80 = _metric("coverage_80")
coverage_80.__doc__ = """Share of actuals inside the 80 % interval (the 0.1 and 0.9 quantiles, ends included);
    0.80 is calibrated, below it the interval is too narrow, above too wide."""
coverage_95 = _metric("coverage_95")
coverage_95.__doc__ = "Share of actuals inside the 95 % interval (the 0.025 and 0.975 quantiles, ends included)."
width_80 = _metric("width_80")
width_80.__doc__ = """Mean width of the 80 % interval (0.9 quantile minus 0.1 quantile), in units: at equal
    coverage, narrower is sharper (Gneiting, Balabdaoui & Raftery 2007, JRSS B 69)."""


METRICS: dict[str, Metric] = {
    "mae": mae, "rmse": rmse, "bias": bias, "wape": wape, "smape": smape, "mase": mase, "rmsse": rmsse,
}
QUANTILE_METRICS: dict[str, Metric] = {
    "pinball": pinball, "coverage_80": coverage_80, "coverage_95": coverage_95, "width_80": width_80,
}
CALIBRATION_METRICS: dict[str, Metric] = {below_name(level): _metric(below_name(level)) for level in LEVELS}


def with_row_terms(scored: pd.DataFrame) -> pd.DataFrame:
    """``scored`` with the per-row terms of the spread metrics as columns (``_row_pinball``,
    ...), computed once: scoring a run at nine levels then only averages them. Rows without
    quantiles are returned as they are."""
    if not has_quantiles(scored):
        return scored
    return scored.assign(**{ROW_PREFIX + name: terms(scored) for name, terms in ROW_TERMS.items()})


PERCENT_METRICS = frozenset({"wape", "smape", "coverage_80", "coverage_95", *CALIBRATION_METRICS})


def has_quantiles(scored: pd.DataFrame) -> bool:
    """Whether the rows carry a quantile column for every level of ``LEVELS``."""
    return all(quantile_column(level) in scored.columns for level in LEVELS)


def evaluate(scored: pd.DataFrame, by: list[str], calibration: bool = False) -> pd.DataFrame:
    """Every metric per group: one row per group, one column per metric; with the quantile
    metrics (and, if ``calibration``, the calibration shares) when the rows have quantiles."""
    return evaluate_levels(scored, {"": by}, calibration=("",) if calibration else ())[""]


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """A column's integer codes in sorted order of its values (-1: missing) and the values."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64), values.cat.categories
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), pd.Index(uniques)


def _combine(codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    key = np.zeros(len(codes[0]) if codes else 0, dtype=np.int64)
    for code, size in zip(codes, sizes):
        key = key * max(size, 1) + code
    return key


def _first_rows(ids: np.ndarray) -> np.ndarray:
    """The first row of each id, for ids numbered in order of first appearance (``pd.factorize``)."""
    if not len(ids):
        return np.array([], dtype=np.intp)
    running = np.maximum.accumulate(ids)
    return np.flatnonzero(np.r_[True, running[1:] > running[:-1]])


@dataclass
class _Level:
    """One level's groups over the units it is summed from (cells or rows)."""

    by: list[str]
    ids: np.ndarray  # group of each unit, -1 for a unit left out (a missing key)
    index: pd.Index
    on_cells: bool
    inner: np.ndarray | None = None  # RMSSE's (group, series, fold) of each unit
    inner_owner: np.ndarray | None = None


def _level(frame: pd.DataFrame, by: list[str], on_cells: bool) -> _Level:
    """The groups of ``by`` over ``frame``'s rows, numbered in sorted order of their values
    (as ``groupby(by, observed=True, sort=True)``); a row with a missing key belongs to none."""
    if not by:
        return _Level(by, np.zeros(len(frame), dtype=np.int64), pd.RangeIndex(1), on_cells)
    coded = [_codes(frame[column]) for column in by]
    missing = np.logical_or.reduce([c < 0 for c, _ in coded])
    sizes = [max(len(levels), 1) for _, levels in coded]
    if np.prod(sizes, dtype=float) > 2.0**62:  # too many combinations for one integer: pandas numbers them
        grouped = frame.groupby(by, observed=True, sort=True)
        return _Level(by, grouped.ngroup().fillna(-1).to_numpy().astype(np.int64), grouped.size().index, on_cells)
    key = _combine([np.where(missing, 0, c) for c, _ in coded], sizes)
    ids, uniques = pd.factorize(np.where(missing, -1, key), sort=True, use_na_sentinel=False)
    if missing.any():  # the -1 key sorts first: take it out
        ids, uniques = ids - 1, uniques[1:]
    parts, rest = [], uniques
    for (_, levels), size in zip(reversed(coded), reversed(sizes)):
        parts.append(levels.take(rest % size) if len(levels) else levels)
        rest = rest // size
    parts.reverse()
    index = pd.MultiIndex.from_arrays(parts, names=by) if len(by) > 1 else pd.Index(parts[0], name=by[0])
    return _Level(by, ids.astype(np.int64), index, on_cells)


def evaluate_levels(scored: pd.DataFrame, levels: Mapping[str, list[str]], calibration: Collection[str] = (),
                    names: tuple[str, ...] | None = None) -> dict[str, pd.DataFrame]:
    """``evaluate`` at several levels at once: {level name: one row per group of its ``by``
    columns, one column per metric}; ``calibration``: the level names that also get the
    calibration shares; ``names``: only these metrics.

    Each term is computed once for all levels. Where the rows hold series and folds, every
    level whose columns hold one value per (model, series, fold) — overall, fold, series,
    segments — is summed from those cells' sums; the others (the horizon step) from the rows.
    """
    quantiles = has_quantiles(scored)
    wanted = {level: list(names) if names is not None else [
        *METRICS, *(QUANTILE_METRICS if quantiles else ()), *(CALIBRATION_METRICS if quantiles and level in
                                                               calibration else ())] for level in levels}
    terms = list(dict.fromkeys(t for metrics in wanted.values() for m in metrics for t in _FORMS[m][0]))
    need_roots = any("rmsse" in metrics for metrics in wanted.values())
    n = len(scored)
    has_cells = SERIES_ID in scored.columns and CUTOFF in scored.columns
    series_fold = cells = first = None
    if has_cells or need_roots:
        sf_codes = [_codes(scored[c]) for c in (SERIES_ID, CUTOFF)]
        series_fold = pd.factorize(_combine([c for c, _ in sf_codes], [len(v) for _, v in sf_codes]))[0]
    if has_cells and n:
        cell_columns = [c for c in (MODEL, SERIES_ID, CUTOFF) if c in scored.columns]
        coded = [_codes(scored[c]) for c in cell_columns]
        cells = pd.factorize(_combine([c for c, _ in coded], [len(v) for _, v in coded]))[0]
        first = _first_rows(cells)
    plan: dict[str, _Level] = {}
    for name, by in levels.items():
        on_cells = cells is not None and all(_constant_in_cells(scored[c], cells, first) for c in by)
        plan[name] = _level(scored.iloc[first] if on_cells else scored, by, on_cells)
    # (series, fold) of each unit: RMSSE's inner groups are (group, series, fold)
    unit_sf = {True: series_fold[first] if cells is not None else None, False: series_fold}
    for level in plan.values():
        if need_roots:
            sf = unit_sf[level.on_cells]
            span = int(sf.max()) + 1 if len(sf) else 1
            inner, uniques = pd.factorize(np.where(level.ids < 0, -1, level.ids * span + sf))
            level.inner, level.inner_owner = inner, np.where(uniques < 0, -1, uniques // span)

    totals = {name: {} for name in plan}
    counts = {name: {} for name in plan}
    inner_sums: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    n_cells = len(first) if cells is not None else 0
    for term in terms:
        values = _term(scored, term)
        present = ~np.isnan(values)
        values = np.where(present, values, 0.0)
        unit = {False: (values, present.astype(float))}
        if cells is not None:
            unit[True] = (np.bincount(cells, weights=values, minlength=n_cells),
                          np.bincount(cells, weights=present, minlength=n_cells))
        for name, level in plan.items():
            total, count = unit[level.on_cells]
            keep = level.ids >= 0
            size = len(level.index)
            totals[name][term] = np.bincount(level.ids[keep], weights=total[keep], minlength=size)
            counts[name][term] = np.bincount(level.ids[keep], weights=count[keep], minlength=size)
            if term == "rmsse" and need_roots:
                inner_n = int(level.inner.max()) + 1 if len(level.inner) else 0
                inner_sums[name] = (np.bincount(level.inner, weights=total, minlength=inner_n),
                                    np.bincount(level.inner, weights=count, minlength=inner_n))
    out = {}
    for name, level in plan.items():
        sums = _Sums(totals[name], counts[name])
        if name in inner_sums:
            total, count = inner_sums[name]
            with np.errstate(invalid="ignore", divide="ignore"):
                roots = np.sqrt(np.where(count > 0, total / np.maximum(count, 1), np.nan))
            keep = level.inner_owner >= 0
            sums.roots, sums.root_owner = roots[keep], level.inner_owner[keep]
        table = pd.DataFrame({m: _FORMS[m][1](sums) for m in wanted[name]}, index=level.index)
        out[name] = table.reset_index(drop=not level.by)
    return out


def _constant_in_cells(values: pd.Series, cells: np.ndarray, first: np.ndarray) -> bool:
    """Whether a column holds one value in each cell (its first row's)."""
    codes, _ = _codes(values)
    return bool((codes == codes[first][cells]).all())


def scales(panel_values: np.ndarray, season_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-series MASE and RMSSE scales from a (series, time) history matrix (NaN-padded).

    MASE: mean |y_t - y_{t-m}| (m falls back to 1 when a series is shorter than m+1).
    RMSSE: mean (y_t - y_{t-1})^2.
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: a one-point history
        one_step = np.diff(panel_values, axis=1)
        naive_mse = np.nanmean(one_step**2, axis=1) if one_step.size else np.full(len(panel_values), np.nan)
        naive_mae = np.nanmean(np.abs(one_step), axis=1) if one_step.size else naive_mse
        if panel_values.shape[1] > season_length:
            seasonal = panel_values[:, season_length:] - panel_values[:, :-season_length]
            seasonal_mae = np.nanmean(np.abs(seasonal), axis=1)
        else:
            seasonal_mae = np.full(len(panel_values), np.nan)
    seasonal_mae = np.where(np.isnan(seasonal_mae), naive_mae, seasonal_mae)
    return seasonal_mae, naive_mse
