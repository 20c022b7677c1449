"""Forecast error metrics, each a small function with one signature.

Every metric takes the scored rows (one per series, date, cutoff and model, with
``actual``, ``forecast`` and the fold's scales) and the columns to group by, and
returns one value per group. Adding a metric is one function and one line in
``METRICS``. MASE and RMSSE are scaled by each series' errors of the naive methods on
that fold's own training data, so a fold never borrows scale from the future.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from core.columns import SERIES_ID

ACTUAL, FORECAST, MODEL, CUTOFF, STEP = "actual", "forecast", "model", "cutoff", "step"
SCALE_MASE, SCALE_RMSSE = "scale_mase", "scale_rmsse"

Metric = Callable[[pd.DataFrame, list[str]], pd.Series]


def _grouped(scored: pd.DataFrame, by: list[str], values: pd.Series):
    return values.groupby([scored[c] for c in by], sort=True, observed=True) if by else values.groupby(
        np.zeros(len(values), dtype=int))


def mae(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Mean absolute error, in units."""
    return _grouped(scored, by, (scored[FORECAST] - scored[ACTUAL]).abs()).mean()


def rmse(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Root mean squared error, in units: punishes large misses."""
    return np.sqrt(_grouped(scored, by, (scored[FORECAST] - scored[ACTUAL]) ** 2).mean())


def bias(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Mean of forecast minus actual, in units: above 0 over-forecasts (waste), below 0
    under-forecasts (stockouts)."""
    return _grouped(scored, by, scored[FORECAST] - scored[ACTUAL]).mean()


def wape(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Weighted absolute percentage error: total absolute error over total actual."""
    errors = _grouped(scored, by, (scored[FORECAST] - scored[ACTUAL]).abs()).sum()
    volume = _grouped(scored, by, scored[ACTUAL].abs()).sum()
    return errors / volume.replace(0, np.nan)


def smape(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Symmetric MAPE, 0..2 (shown as %); a period where both are 0 counts as no error."""
    denominator = scored[ACTUAL].abs() + scored[FORECAST].abs()
    terms = 2 * (scored[FORECAST] - scored[ACTUAL]).abs() / denominator.replace(0, np.nan)
    return _grouped(scored, by, terms.fillna(0.0)).mean()


def mase(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Mean absolute scaled error: MAE over the in-sample seasonal-naive MAE of the
    series on the fold's training data; below 1 beats that naive method. Series with
    a zero scale (constant history) are left out."""
    scaled = (scored[FORECAST] - scored[ACTUAL]).abs() / scored[SCALE_MASE].replace(0, np.nan)
    return _grouped(scored, by, scaled).mean()


def rmsse(scored: pd.DataFrame, by: list[str]) -> pd.Series:
    """Root mean squared scaled error (the M5 competition's): per series, RMSE over the
    in-sample one-step naive RMSE on the fold's training data; averaged over series."""
    scaled = (scored[FORECAST] - scored[ACTUAL]) ** 2 / scored[SCALE_RMSSE].replace(0, np.nan)
    per_series = np.sqrt(_grouped(scored, [*by, SERIES_ID, CUTOFF], scaled).mean())
    if not by:
        return pd.Series([per_series.mean()], index=[0])
    return per_series.groupby(level=list(range(len(by))), observed=True).mean()


METRICS: dict[str, Metric] = {
    "mae": mae, "rmse": rmse, "bias": bias, "wape": wape, "smape": smape, "mase": mase, "rmsse": rmsse,
}
# Metrics read as a share (shown as %) rather than in units or as a ratio to naive.
PERCENT_METRICS = frozenset({"wape", "smape"})


def evaluate(scored: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Every metric per group: one row per group, one column per metric."""
    table = pd.DataFrame({name: metric(scored, by) for name, metric in METRICS.items()})
    if by:
        table.index.names = by
        return table.reset_index()
    return table.reset_index(drop=True)


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
