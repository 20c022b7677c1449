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
from collections.abc import Callable

import numpy as np
import pandas as pd

from core.backtest.quantiles import INTERVALS, LEVELS, quantile_column
from core.columns import SERIES_ID

ACTUAL, FORECAST, MODEL, CUTOFF, STEP = "actual", "forecast", "model", "cutoff", "step"
SCALE_MASE, SCALE_RMSSE = "scale_mase", "scale_rmsse"
GROUP = "_group"

Metric = Callable[[pd.DataFrame, list[str]], pd.Series]


class _Groups:
    """Integer group ids of the rows, with sums and means done by ``np.bincount``."""

    def __init__(self, scored: pd.DataFrame, by: list[str]) -> None:
        if not by:
            self.ids, self.index = np.zeros(len(scored), dtype=np.intp), pd.RangeIndex(1)
        elif by == [GROUP]:  # already numbered by evaluate()
            self.ids = scored[GROUP].to_numpy()
            self.index = pd.RangeIndex(int(self.ids.max()) + 1 if len(self.ids) else 0)
        else:
            grouped = scored.groupby(by, observed=True, sort=True)
            self.ids, self.index = grouped.ngroup().to_numpy(), grouped.size().index
        self.n = len(self.index)

    def within(self, codes: np.ndarray) -> _Groups:
        """The groups split by an integer code of the rows (each (group, code) pair a group
        of its own, numbered in order of first appearance): a hash of two integers, not a
        group-by of the columns again."""
        span = int(codes.max()) + 1 if len(codes) else 1
        ids, uniques = pd.factorize(self.ids.astype(np.int64) * span + codes.astype(np.int64))
        other = object.__new__(_Groups)
        other.ids, other.index, other.n = ids, pd.RangeIndex(len(uniques)), len(uniques)
        return other

    def regroup(self, ids: np.ndarray) -> _Groups:
        """The same groups over other items, given each item's group id."""
        other = object.__new__(_Groups)
        other.ids, other.index, other.n = ids, self.index, self.n
        return other

    def sum(self, values: pd.Series | np.ndarray) -> pd.Series:
        values = np.asarray(values, dtype=float)
        return pd.Series(np.bincount(self.ids, weights=np.nan_to_num(values), minlength=self.n), index=self.index)

    def mean(self, values: pd.Series | np.ndarray) -> pd.Series:
        """Mean of the non-missing values of each group (NaN for a group with none)."""
        values = np.asarray(values, dtype=float)
        present = ~np.isnan(values)
        # weights instead of boolean indexing: no copy of the ids, twice as fast on a run's rows
        totals = np.bincount(self.ids, weights=np.where(present, values, 0.0), minlength=self.n)
        counts = np.bincount(self.ids, weights=present, minlength=self.n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return pd.Series(np.where(counts > 0, totals / np.maximum(counts, 1), np.nan), index=self.index)


SERIES_FOLD = "_series_fold"


def _series_folds(scored: pd.DataFrame) -> np.ndarray:
    """An integer per (series, cutoff) of the rows: ``evaluate``'s column when the rows carry it."""
    if SERIES_FOLD in scored.columns:
        return scored[SERIES_FOLD].to_numpy()
    return scored.groupby([SERIES_ID, CUTOFF], observed=True, sort=False).ngroup().to_numpy()


def _errors(scored: pd.DataFrame) -> np.ndarray:
    return scored[FORECAST].to_numpy(dtype=float) - scored[ACTUAL].to_numpy(dtype=float)


def mae(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Mean absolute error, in units."""
    return _Groups(scored, by).mean(np.abs(_errors(scored)))


def rmse(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Root mean squared error, in units: punishes large misses."""
    return np.sqrt(_Groups(scored, by).mean(_errors(scored) ** 2))


def bias(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Mean of forecast minus actual, in units: above 0 over-forecasts (waste), below 0
    under-forecasts (stockouts)."""
    return _Groups(scored, by).mean(_errors(scored))


def wape(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Weighted absolute percentage error: total absolute error over total actual."""
    groups = _Groups(scored, by)
    volume = groups.sum(np.abs(scored[ACTUAL].to_numpy(dtype=float)))
    return groups.sum(np.abs(_errors(scored))) / volume.replace(0, np.nan)


def smape(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Symmetric MAPE, 0..2 (shown as %); a period where both are 0 counts as no error."""
    denominator = np.abs(scored[ACTUAL].to_numpy(dtype=float)) + np.abs(scored[FORECAST].to_numpy(dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(denominator > 0, 2 * np.abs(_errors(scored)) / denominator, 0.0)
    return _Groups(scored, by).mean(terms)


def _scaled(scored: pd.DataFrame, column: str, errors: np.ndarray) -> np.ndarray:
    scale = scored[column].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, errors / scale, np.nan)


def mase(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Mean absolute scaled error: MAE over the in-sample seasonal-naive MAE of the
    series on the fold's training data; below 1 beats that naive method. Series with
    a zero scale (constant history) are left out."""
    return _Groups(scored, by).mean(_scaled(scored, SCALE_MASE, np.abs(_errors(scored))))


def rmsse(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Root mean squared scaled error (the M5 competition's): per series, RMSE over the
    in-sample one-step naive RMSE on the fold's training data; averaged over series."""
    outer = _Groups(scored, by)
    inner = outer.within(_series_folds(scored))
    per_series = np.sqrt(inner.mean(_scaled(scored, SCALE_RMSSE, _errors(scored) ** 2)).to_numpy())
    owner = np.empty(inner.n, dtype=np.intp)
    owner[inner.ids] = outer.ids  # all rows of one (series, fold) share their outer group
    return outer.regroup(owner).mean(per_series)


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


def _terms(scored: pd.DataFrame, name: str) -> np.ndarray:
    """The per-row terms a spread metric averages: from ``with_row_terms``'s column when the
    rows carry it, else computed."""
    column = ROW_PREFIX + name
    return scored[column].to_numpy(dtype=float) if column in scored.columns else ROW_TERMS[name](scored)


def pinball(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Scaled pinball (quantile) loss, averaged over the levels of ``LEVELS``: per row and
    level τ, max(τ·(y - q), (τ - 1)·(y - q)) for the actual y and the quantile q, divided
    like MASE by the series' in-sample seasonal-naive MAE on the fold's training data, so it
    compares across series (the M5 uncertainty competition's scaled pinball loss, Makridakis,
    Spiliotis & Assimakopoulos 2022, IJF 38, with MASE's scale). Lower is better; at the
    median alone it is half the MASE. Rows without quantiles are left out."""
    return _Groups(scored, by).mean(_terms(scored, "pinball"))


def coverage_80(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Share of actuals inside the 80 % interval (the 0.1 and 0.9 quantiles, ends included);
    0.80 is calibrated, below it the interval is too narrow, above too wide."""
    return _Groups(scored, by).mean(_terms(scored, "coverage_80"))


def coverage_95(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Share of actuals inside the 95 % interval (the 0.025 and 0.975 quantiles, ends included)."""
    return _Groups(scored, by).mean(_terms(scored, "coverage_95"))


def width_80(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Mean width of the 80 % interval (0.9 quantile minus 0.1 quantile), in units: at equal
    coverage, narrower is sharper (Gneiting, Balabdaoui & Raftery 2007, JRSS B 69)."""
    return _Groups(scored, by).mean(_terms(scored, "width_80"))


def _below(level: float) -> Metric:
    def below(scored: pd.DataFrame, by: list[str]) -> pd.Series:
        return _Groups(scored, by).mean(_terms(scored, below_name(level)))

    below.__doc__ = (f"Share of actuals at or below the {level:g} quantile: {level:.1%} for a calibrated forecast "
                     "(the calibration chart's points).")
    return below


def below_name(level: float) -> str:
    """The calibration metric of a level: 0.9 -> ``below_0.9``."""
    return f"below_{level:g}"


METRICS: dict[str, Metric] = {
    "mae": mae, "rmse": rmse, "bias": bias, "wape": wape, "smape": smape, "mase": mase, "rmsse": rmsse,
}
QUANTILE_METRICS: dict[str, Metric] = {
    "pinball": pinball, "coverage_80": coverage_80, "coverage_95": coverage_95, "width_80": width_80,
}
CALIBRATION_METRICS: dict[str, Metric] = {below_name(level): _below(level) for level in LEVELS}
ROW_PREFIX = "_row_"
ROW_TERMS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "pinball": _pinball_rows, "coverage_80": lambda scored: _inside_rows(scored, 80),
    "coverage_95": lambda scored: _inside_rows(scored, 95),
    "width_80": lambda scored: _quantiles(scored, INTERVALS[80][1]) - _quantiles(scored, INTERVALS[80][0]),
} | {below_name(level): (lambda scored, level=level: _below_rows(scored, level)) for level in LEVELS}


def with_row_terms(scored: pd.DataFrame) -> pd.DataFrame:
    """``scored`` with the per-row terms of the spread metrics as columns (``_row_pinball``,
    ...), computed once: scoring a run at nine levels then only averages them. Rows without
    quantiles are returned as they are."""
    if not has_quantiles(scored):
        return scored
    return scored.assign(**{ROW_PREFIX + name: terms(scored) for name, terms in ROW_TERMS.items()})


# Metrics read as a share (shown as %) rather than in units or as a ratio to naive.
PERCENT_METRICS = frozenset({"wape", "smape", "coverage_80", "coverage_95", *CALIBRATION_METRICS})


def has_quantiles(scored: pd.DataFrame) -> bool:
    """Whether the rows carry a quantile column for every level of ``LEVELS``."""
    return all(quantile_column(level) in scored.columns for level in LEVELS)


def evaluate(scored: pd.DataFrame, by: list[str], calibration: bool = False) -> pd.DataFrame:
    """Every metric per group: one row per group, one column per metric; with the quantile
    metrics (and, if ``calibration``, the calibration shares) when the rows have quantiles."""
    metrics = dict(METRICS)
    if has_quantiles(scored):
        metrics |= QUANTILE_METRICS | (CALIBRATION_METRICS if calibration else {})
    if not by:
        return pd.DataFrame({name: metric(scored, []) for name, metric in metrics.items()}).reset_index(drop=True)
    # Factorise the groups once; every metric then groups by one integer column.
    ids, index = group_codes(scored, by)
    numbered = scored.assign(**{GROUP: ids})
    if SERIES_FOLD not in numbered.columns:
        numbered[SERIES_FOLD] = _series_folds(scored)
    table = pd.DataFrame({name: metric(numbered, [GROUP]).to_numpy() for name, metric in metrics.items()},
                         index=index)
    return table.reset_index()


def group_codes(scored: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.Index]:
    """Each row's group of ``by`` numbered 0.. in sorted order of the groups, and the groups
    (an index of their values): what ``groupby(by, observed=True, sort=True)`` gives by
    ``ngroup`` and its index, from each column's codes (a categorical's own; other columns
    factorized, sorted) combined into one integer, which is much faster on millions of rows."""
    codes, levels = [], []
    for column in by:
        values = scored[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            code, level = values.cat.codes.to_numpy().astype(np.int64), values.cat.categories
        else:
            code, level = pd.factorize(values, sort=True)
            code = code.astype(np.int64)
        if (code < 0).any() or np.prod([max(len(v), 1) for v in (*levels, level)], dtype=float) > 2.0**62:
            # a missing key (pandas drops such rows), or too many combinations for one integer
            grouped = scored.groupby(by, observed=True, sort=True)
            return grouped.ngroup().to_numpy(), grouped.size().index
        codes.append(code)
        levels.append(level)
    key = np.zeros(len(scored), dtype=np.int64)
    for code, level in zip(codes, levels):
        key = key * max(len(level), 1) + code
    ids, uniques = pd.factorize(key, sort=True)
    parts, rest = [], uniques
    for level in reversed(levels):
        size = max(len(level), 1)
        parts.append(level.take(rest % size) if len(level) else level)
        rest = rest // size
    parts.reverse()
    index = pd.MultiIndex.from_arrays(parts, names=by) if len(by) > 1 else pd.Index(parts[0], name=by[0])
    return ids.astype(np.intp), index


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
