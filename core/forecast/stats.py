"""The statistical rung: exponential smoothing, Theta and ARIMA.

ETS and Theta are fitted to every series and every candidate smoothing parameter at
once: the history is laid out as a (time, series) matrix, each series starting on
row 0, and one numpy recursion runs down the rows with a (series, grid) state. The
only Python loop is over time steps, so Python's overhead is paid once per period,
not once per series and parameter. Picking parameters from a small grid by in-sample
one-step squared error, instead of a continuous optimiser per series, is what makes
that possible; the price is a grid point instead of the exact optimum.

ARIMA is the exception: statsmodels' SARIMAX, one series at a time. It is slow and
opt-in, and a series whose fit fails falls back to the seasonal naive forecast.

A series a model cannot fit gets a simpler rule, named in a ``Fallback``: too short for
the season (ETS's season, ARIMA), constant (ARIMA), a failed fit (ARIMA). A forecast
that diverges to a missing or infinite value is left so: the base gives that series
its fallback rule and names it.
"""

from __future__ import annotations

import ctypes
import itertools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
import scipy

from core.columns import Freq
from core.forecast.base import (
    Fallback,
    Forecast,
    ForecastError,
    ForecastTask,
    LocalForecaster,
    Panel,
    Rung,
    never_sold,
    seasonal_panel,
)

# Fitting on the recent past only is a deliberate speed/accuracy trade-off: two
# years of days hold every weekly pattern and a year-on-year repeat, and older
# levels say little about next month. Weekly and monthly series are short: use all.
_RECENT_HISTORY: dict[Freq, int | None] = {Freq.DAILY: 728, Freq.WEEKLY: None, Freq.MONTHLY: None}
# SARIMAX costs grow with the length of the series: a year of days, three of weeks.
_ARIMA_HISTORY: dict[Freq, int | None] = {Freq.DAILY: 365, Freq.WEEKLY: 156, Freq.MONTHLY: None}
# statsmodels' default of 50 optimiser iterations leaves most seasonal ARMA fits
# short of convergence (they would all fall back); 200 lets typical daily series converge.
_ARIMA_MAXITER = 200

# Grids of smoothing parameters (statsmodels' Holt-Winters parametrisation).
ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8)
BETAS = (0.01, 0.05, 0.15)
GAMMAS = (0.01, 0.05, 0.1, 0.2)
PHIS = (0.8, 0.9, 0.98)
# Theta's SES alpha: a coarse grid over (0, 1], then a fine one around each series' best.
_THETA_COARSE = np.linspace(0.05, 1.0, 20)
_THETA_FINE = np.linspace(-0.05, 0.05, 21)
_CACHE_CELLS = 16_384  # (series x grid) cells per block of the recursion

Seasonality = Literal[None, "add", "mul"]


# --- the data, laid out for a recursion down the time axis --------------------------

def left_align(panel: Panel, max_history: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The last ``max_history`` values of each series as a (time, series) matrix.

    Row 0 is each series' first kept value; rows after a series' end are NaN. A
    missing value inside a series (none after import) carries the previous one.
    """
    width = panel.values.shape[1]
    lengths = np.minimum(panel.lengths, max_history or width).astype(int)
    t = np.arange(max(int(lengths.max(initial=0)), 1))
    inside = t[None, :] < lengths[:, None]
    columns = np.clip(width - lengths[:, None] + t[None, :], 0, max(width - 1, 0))
    rows = np.take_along_axis(panel.values, columns, axis=1) if width else np.full(inside.shape, np.nan)
    rows = pd.DataFrame(np.where(inside, rows, np.nan).T).ffill().fillna(0.0).to_numpy()
    # a series with no value at all (never given by make_task) is one zero
    lengths = np.maximum(lengths, 1)
    return np.where(t[:, None] < lengths[None, :], rows, np.nan), lengths


def _check_counts(alias: str, **settings: int | None) -> None:
    for name, value in settings.items():
        if value is not None and value < 1:
            raise ForecastError(f"{alias}: {name} must be at least 1 (got {value}).")


def _pick(history: int | None, defaults: dict[Freq, int | None], task: ForecastTask) -> int | None:
    return history if history is not None else defaults[task.freq]


# --- Holt-Winters exponential smoothing, vectorised ------------------------------------

@dataclass(frozen=True)
class Smoothing:
    """Smoothing parameters, each broadcastable to (series, grid)."""

    alpha: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    phi: np.ndarray

    @classmethod
    def grid(cls, trend: bool, damped: bool, seasonal: bool) -> Smoothing:
        """Every combination of the grids a model needs, as (1, grid) rows."""
        combos = np.array(list(itertools.product(
            ALPHAS, BETAS if trend else (0.0,), GAMMAS if seasonal else (0.0,), PHIS if damped else (1.0,),
        )))
        return cls(*(combos[:, k][None, :] for k in range(4)))


@dataclass(frozen=True)
class States:
    """Holt-Winters states after the last observation.

    ``season[j]`` is the factor of the periods ``t`` with ``t % m == j``, ``t``
    counted from each series' first value. Shapes: level and trend (series, grid),
    season (m, series, grid).
    """

    level: np.ndarray
    trend: np.ndarray
    season: np.ndarray

    def select(self, best: np.ndarray) -> States:
        """The states of one grid point per series, as a grid of one."""
        rows = np.arange(len(best))
        return States(self.level[rows, best][:, None], self.trend[rows, best][:, None],
                      self.season[:, rows, best][:, :, None])


def initial_states(y: np.ndarray, m: int, trend: bool, seasonal: Seasonality) -> States:
    """The usual heuristic from the first two full seasons (every series has them).

    Trend: the change between the two seasons' means, per period. Level: the first
    season's mean moved back by the trend to just before the first value. Season:
    each period's average difference (or ratio) to that trend line, normalised.
    """
    first, second = y[:m], y[m:2 * m]
    mean1, mean2 = first.mean(axis=0), second.mean(axis=0)
    slope = (mean2 - mean1) / m if trend else np.zeros_like(mean1)
    level = mean1 - (m + 1) / 2 * slope
    line = level + slope * np.arange(1, 2 * m + 1)[:, None]
    if seasonal == "mul":
        # a steep fall can take the line below zero early on: keep ratios positive
        ratios = y[:2 * m] / np.maximum(line, 0.1 * np.minimum(mean1, mean2))
        season = (ratios[:m] + ratios[m:]) / 2
        season = season / season.mean(axis=0)
    elif seasonal == "add":
        gaps = y[:2 * m] - line
        season = (gaps[:m] + gaps[m:]) / 2
        season = season - season.mean(axis=0)
    else:
        season = np.zeros((1, y.shape[1]))
    return States(level[:, None], slope[:, None], season[:, :, None])


def smooth(y: np.ndarray, lengths: np.ndarray, params: Smoothing, start: States,
           trend: bool, seasonal: Seasonality) -> tuple[np.ndarray, States]:
    """Run Holt-Winters over every series and grid point; (sum of squared errors, states).

    ``y`` is (time, series), left-aligned. The recursion is statsmodels' (additive or
    damped trend; additive or multiplicative season) in error-correction form. Series
    are sorted longest first so the ones still running are a prefix of the rows:
    each step updates that prefix in place and leaves finished series untouched.
    """
    n_series = y.shape[1]
    values = (params.alpha, params.beta, params.gamma, params.phi)
    grid = np.broadcast_shapes(*(np.shape(p) for p in values), (1, 1))[-1]
    order = np.argsort(-lengths, kind="stable")
    y = y[:, order]
    alpha, beta, gamma, phi = (np.broadcast_to(p, (n_series, grid))[order] for p in values)
    level = np.broadcast_to(start.level, (n_series, grid))[order]
    slope = np.broadcast_to(start.trend, (n_series, grid))[order]
    m = start.season.shape[0]
    season = np.broadcast_to(start.season, (m, n_series, grid))[:, order]
    sse = np.zeros((n_series, grid))
    decay = (1 - beta) * phi  # what is left of the slope when the level does not move
    mul = seasonal == "mul"
    running = np.searchsorted(-lengths[order], -np.arange(y.shape[0]), side="left")  # series with n > t
    with np.errstate(all="ignore"):  # a diverging grid point gets an infinite error, then loses
        for t, k in enumerate(running):
            obs, l, s, b = y[t, :k, None], level[:k], season[t % m, :k], slope[:k]
            previous = l.copy()
            base = previous + phi[:k] * b if trend else previous
            error = obs - (base * s if mul else base + s)
            sse[:k] += error * error
            step = alpha[:k] * error
            if mul:
                step /= s
            np.add(base, step, out=l)
            if seasonal:
                change = gamma[:k] * error
                if mul:
                    change /= base
                s += change
            if trend:  # b = beta * (l - previous) + (1 - beta) * phi * b, without temporaries
                b *= decay[:k]
                previous -= l
                previous *= beta[:k]
                b -= previous
    back = np.argsort(order)
    return sse[back], States(level[back], slope[back], season[:, back])


def project(states: States, lengths: np.ndarray, phi: np.ndarray, steps: int,
            seasonal: Seasonality) -> np.ndarray:
    """(series, steps) forecasts from a grid of one: level + damped trend, with the season."""
    h = np.arange(1, steps + 1)
    damping = np.cumsum(np.asarray(phi, dtype=float).reshape(-1, 1) ** h, axis=1)  # phi + ... + phi^h
    base = states.level + damping * states.trend
    m = states.season.shape[0]
    slot = (lengths[:, None] - 1 + h[None, :]) % m
    factor = states.season[slot, np.arange(len(lengths))[:, None], 0]
    return base * factor if seasonal == "mul" else base + factor


def holt_winters_forecast(y: np.ndarray, lengths: np.ndarray, steps: int, params: Smoothing, start: States,
                          trend: bool, seasonal: Seasonality) -> np.ndarray:
    """Forecasts with fixed parameters and initial states (one grid point)."""
    _, states = smooth(y, lengths, params, start, trend, seasonal)
    return project(states, lengths, np.broadcast_to(params.phi, (len(lengths), 1)), steps, seasonal)


def _fit_holt_winters(y: np.ndarray, lengths: np.ndarray, steps: int, m: int, trend: bool, damped: bool,
                      seasonal: Seasonality) -> np.ndarray:
    """Best grid point per series by in-sample one-step squared error, then forecast.

    Large grids run in blocks of series: state arrays that fit in the CPU cache make
    each step faster than one pass over all series at once.
    """
    params = Smoothing.grid(trend, damped, seasonal is not None)
    block = max(1, _CACHE_CELLS // params.alpha.size)
    return np.vstack([_fit_block(y[:, rows], lengths[rows], steps, m, trend, seasonal, params)
                      for rows in np.array_split(np.arange(len(lengths)), -(-len(lengths) // block))])


def _fit_block(y: np.ndarray, lengths: np.ndarray, steps: int, m: int, trend: bool, seasonal: Seasonality,
               params: Smoothing) -> np.ndarray:
    if seasonal is None and not trend:
        start = _ses_start(y)
    else:
        start = initial_states(y, m, trend, seasonal)
    sse, states = smooth(y, lengths, params, start, trend, seasonal)
    best = np.argmin(np.where(np.isfinite(sse), sse, np.inf), axis=1)
    phi = np.broadcast_to(params.phi, sse.shape)[np.arange(len(best)), best]
    return project(states.select(best), lengths, phi, steps, seasonal)


def _ses_start(y: np.ndarray) -> States:
    """SES initialised on the first value (as statsmodels' ThetaModel does)."""
    return States(y[:1].T.copy(), np.zeros((y.shape[1], 1)), np.zeros((1, y.shape[1], 1)))


def positive(y: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Series positive throughout their history."""
    inside = np.arange(y.shape[0])[:, None] < lengths[None, :]
    return (np.where(inside, y, 1.0) > 0).all(axis=0)


@dataclass(frozen=True)
class ETS(LocalForecaster):
    """Holt-Winters exponential smoothing, parameters from a grid, all series at once.

    Series shorter than two seasons get simple exponential smoothing (no trend, no
    season: too little data to initialise them). Multiplicative seasonality is used
    only for series that are positive throughout the fitted window; a series with a
    zero gets the additive season instead, because a multiplicative factor learnt
    from a zero is zero for good and dividing by it breaks the recursion.
    """

    alias: ClassVar[str] = "ets"
    name: ClassVar[str] = "ETS (exponential smoothing)"
    rung: ClassVar[Rung] = Rung.STATISTICAL
    complexity: ClassVar[int] = 2
    summary: ClassVar[str] = ("Exponential smoothing (Holt-Winters): a level, optionally a trend, and a "
                              "weekly or yearly pattern, each updated a little with every new period.")

    trend: Literal[None, "add"] = None
    damped: bool = False
    seasonal: Seasonality = "add"
    season_length: int | None = None
    max_history: int | None = None

    def __post_init__(self) -> None:
        if self.trend not in (None, "add") or self.seasonal not in (None, "add", "mul"):
            raise ForecastError(f"ets: trend must be None or 'add', seasonal None, 'add' or 'mul' "
                                f"(got {self.trend!r}, {self.seasonal!r}).")
        _check_counts(self.alias, season_length=self.season_length, max_history=self.max_history)

    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        y, lengths = left_align(panel, _pick(self.max_history, _RECENT_HISTORY, task))
        m = self.season_length or task.season_length
        out = np.empty((len(lengths), steps))
        groups = self._groups(y, lengths, m)
        for trend, seasonal, rows in groups.values():
            if rows.any():
                out[rows] = _fit_holt_winters(y[:lengths[rows].max(), rows], lengths[rows], steps, m,
                                              trend, self.damped and trend, seasonal)
        return Forecast(out, Fallback.where(panel, groups["short"][2], "ses",
                                            f"shorter than two seasons ({2 * m} periods)"))

    def _groups(self, y: np.ndarray, lengths: np.ndarray, m: int) -> dict[str, tuple[bool, Seasonality, np.ndarray]]:
        """Which series get which model, by name: (trend, season, mask of series), masks disjoint.

        "short": too short to initialise a trend or season, simple exponential smoothing
        instead (a fallback); "mul": the multiplicative season, on positive series;
        "model": the model as set (simple exponential smoothing itself has no "short").
        """
        trend = self.trend == "add"
        full = lengths >= 2 * m if trend or self.seasonal else np.ones(len(lengths), bool)
        mul = full & positive(y, lengths) if self.seasonal == "mul" else np.zeros(len(lengths), bool)
        return {
            "short": (False, None, ~full),
            "mul": (trend, "mul", mul),
            "model": (trend, None if self.seasonal is None else "add", full & ~mul),
        }


# --- Theta ---------------------------------------------------------------------------

def is_seasonal(y: np.ndarray, lengths: np.ndarray, m: int) -> np.ndarray:
    """R forecast::thetaf's test: is the autocorrelation at lag m significant at 90%?

    |r_m| / sqrt((1 + 2 sum_{k<m} r_k^2) / n) > 1.645, on non-constant series longer
    than two seasons.
    """
    if m < 2:
        return np.zeros(len(lengths), bool)
    inside = np.arange(y.shape[0])[:, None] < lengths[None, :]
    x = np.where(inside, y, 0.0)
    x = np.where(inside, x - x.sum(axis=0) / lengths, 0.0)
    variance = (x * x).sum(axis=0)
    varies = variance > 1e-12 * (1 + np.abs(y[0]) ** 2) * lengths
    with np.errstate(all="ignore"):
        r = np.array([(x[:-k] * x[k:]).sum(axis=0) for k in range(1, m + 1)]) / variance
        stat = np.abs(r[-1]) / np.sqrt((1 + 2 * (r[:-1] ** 2).sum(axis=0)) / lengths)
    return (lengths > 2 * m) & varies & (stat > 1.6448536269514722)


def seasonal_indices(y: np.ndarray, lengths: np.ndarray, m: int, multiplicative: np.ndarray) -> np.ndarray:
    """Classical decomposition's (m, series) seasonal indices, as statsmodels' seasonal_decompose.

    Trend: the centred moving average of one season (2 x m when m is even). Index of
    phase j (periods t % m == j, t from each series' start): the mean ratio (or
    difference) of the values to the trend, normalised to average 1 (or 0).
    """
    n_time, half = y.shape[0], m // 2
    total = np.vstack([np.zeros((1, y.shape[1])), np.cumsum(np.nan_to_num(y), axis=0)])
    t = np.arange(n_time)

    def window_sum(first: np.ndarray, last: np.ndarray) -> np.ndarray:  # sum of rows first..last
        return total[np.clip(last + 1, 0, n_time)] - total[np.clip(first, 0, n_time)]

    if m % 2:
        trend = window_sum(t - half, t + half) / m
    else:  # the mean of the two m-period windows around t
        trend = (window_sum(t - half, t + half - 1) + window_sum(t - half + 1, t + half)) / (2 * m)
    centred = (t[:, None] >= half) & (t[:, None] < lengths[None, :] - half)
    with np.errstate(all="ignore"):
        detrended = np.where(centred, np.where(multiplicative, y / trend, y - trend), np.nan)
    rows = -(-n_time // m) * m
    padded = np.vstack([detrended, np.full((rows - n_time, y.shape[1]), np.nan)])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a phase never seen gives NaN: the caller drops it
        index = np.nanmean(padded.reshape(rows // m, m, -1), axis=0)
        return np.where(multiplicative, index / index.mean(axis=0), index - index.mean(axis=0))


def deseasonalisation(y: np.ndarray, lengths: np.ndarray, m: int,
                      seasonal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(m, series) seasonal indices and which series use them multiplicatively.

    statsmodels' "auto": multiplicative for series positive throughout, additive
    otherwise, and additive when a multiplicative index comes out non-positive.
    Series not seasonal (or whose indices cannot be estimated) get additive zeros.
    """
    mul = seasonal & positive(y, lengths)
    if not seasonal.any():
        return np.zeros((max(m, 1), len(lengths))), mul
    index = seasonal_indices(y, lengths, m, mul)
    non_positive = mul & (index <= 0).any(axis=0)
    if non_positive.any():
        mul &= ~non_positive
        index = np.where(non_positive, seasonal_indices(y, lengths, m, mul), index)
    usable = seasonal & np.isfinite(index).all(axis=0)
    return np.where(usable, index, 0.0), mul & usable


def ols_slope(y: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Least-squares slope of each series on 0, 1, ..., n-1 (0 for a single value)."""
    t = np.arange(y.shape[0], dtype=float)[:, None]
    inside = t < lengths[None, :]
    y_mean = np.where(inside, y, 0.0).sum(axis=0) / lengths
    dt = np.where(inside, t - (lengths - 1) / 2, 0.0)
    spread = (dt * dt).sum(axis=0)
    covariance = (dt * np.where(inside, y - y_mean, 0.0)).sum(axis=0)
    return np.divide(covariance, spread, out=np.zeros_like(covariance), where=spread > 0)


def ses_fit(y: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SES from the first value, alpha by least squares; (alpha, final level) per series.

    Two grid passes, both vectorised: 20 alphas over (0, 1], then 21 around each
    series' best, 0.005 apart.
    """
    zero, start = np.zeros((1, 1)), _ses_start(y)
    sse, _ = smooth(y, lengths, Smoothing(_THETA_COARSE[None, :], zero, zero, zero + 1), start, False, None)
    best = _THETA_COARSE[np.argmin(np.where(np.isfinite(sse), sse, np.inf), axis=1)]
    fine = np.clip(best[:, None] + _THETA_FINE[None, :], 0.001, 1.0)
    sse, states = smooth(y, lengths, Smoothing(fine, zero, zero, zero + 1), start, False, None)
    pick = np.argmin(np.where(np.isfinite(sse), sse, np.inf), axis=1)
    rows = np.arange(len(pick))
    return fine[rows, pick], states.level[rows, pick]


def theta_forecast(y: np.ndarray, lengths: np.ndarray, steps: int, alpha: np.ndarray,
                   level: np.ndarray) -> np.ndarray:
    """statsmodels ThetaModel's forecast (theta = 2) of seasonally adjusted series.

    SES level + b0 / 2 * (h - 1 + 1/alpha - (1 - alpha)^n / alpha), b0 the OLS slope.
    """
    h = np.arange(steps)[None, :]
    a, n = alpha[:, None], lengths[:, None]
    drift = ols_slope(y, lengths)[:, None] / 2
    return level[:, None] + drift * (h + 1 / a - (1 - a) ** n / a)


def theta_panel(y: np.ndarray, lengths: np.ndarray, steps: int, m: int, seasonal: np.ndarray,
                alpha: np.ndarray | None = None) -> np.ndarray:
    """Theta forecasts: deseasonalise the seasonal series, Theta, reseasonalise.

    ``alpha`` fixes SES's parameter per series (None: least squares).
    """
    index, mul = deseasonalisation(y, lengths, m, seasonal)
    within = index[np.arange(y.shape[0]) % index.shape[0]]
    with np.errstate(all="ignore"):
        adjusted = np.where(mul, y / within, y - within)
    if alpha is None:
        alpha, level = ses_fit(adjusted, lengths)
    else:
        zero = np.zeros((1, 1))
        _, states = smooth(adjusted, lengths, Smoothing(np.asarray(alpha, float)[:, None], zero, zero, zero + 1),
                           _ses_start(adjusted), False, None)
        level = states.level[:, 0]
    out = theta_forecast(adjusted, lengths, steps, alpha, level)
    ahead = index[(lengths[:, None] + np.arange(steps)) % index.shape[0], np.arange(len(lengths))[:, None]]
    return np.where(mul[:, None], out * ahead, out + ahead)


@dataclass(frozen=True)
class Theta(LocalForecaster):
    """The standard Theta method (Assimakopoulos & Nikolopoulos 2000; Hyndman & Billah 2003).

    As R's forecast::thetaf and statsmodels' ThetaModel: deseasonalise by classical
    decomposition when the series is seasonal (``deseasonalize=None`` runs thetaf's
    90% autocorrelation test at lag m; True/False force it, given two full seasons),
    then SES plus half the OLS trend, then reseasonalise.
    """

    alias: ClassVar[str] = "theta"
    name: ClassVar[str] = "Theta"
    rung: ClassVar[Rung] = Rung.STATISTICAL
    complexity: ClassVar[int] = 2
    summary: ClassVar[str] = ("The Theta method: a smoothed level plus half the long-run trend, with the "
                              "weekly or yearly pattern taken out first and put back after.")

    deseasonalize: bool | None = None
    season_length: int | None = None
    max_history: int | None = None

    def __post_init__(self) -> None:
        _check_counts(self.alias, season_length=self.season_length, max_history=self.max_history)

    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        y, lengths = left_align(panel, _pick(self.max_history, _RECENT_HISTORY, task))
        m = self.season_length or task.season_length
        return Forecast(theta_panel(y, lengths, steps, m, self._seasonal(y, lengths, m)))

    def _seasonal(self, y: np.ndarray, lengths: np.ndarray, m: int) -> np.ndarray:
        if self.deseasonalize is None:
            return is_seasonal(y, lengths, m)
        return np.full(len(lengths), self.deseasonalize and m > 1) & (lengths >= 2 * m)


# --- ARIMA ---------------------------------------------------------------------------

def known_exog(task: ForecastTask, panel: Panel, steps: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Numeric known-in-advance columns: history (series, width, k), future (series, steps, k).

    The future frame holds the horizon after the gap; the gap's periods take the
    first future value. With regression on ARMA errors those values only move the
    gap's forecasts, which are dropped, so the choice does not matter.
    """
    names = [c for c in task.exog_known if c in task.history and c in task.future
             and (pd.api.types.is_numeric_dtype(task.history[c]) or pd.api.types.is_bool_dtype(task.history[c]))]
    n_series, width = panel.values.shape
    past = np.zeros((n_series, width, len(names)))
    ahead = np.zeros((n_series, steps, len(names)))
    for j, name in enumerate(names):
        values = Panel.from_history(task.history, panel.ids, name).values
        past[:, :, j] = pd.DataFrame(values.T).ffill().fillna(0.0).to_numpy().T
        future = task.future[name].to_numpy(dtype=float).reshape(n_series, task.horizon)
        ahead[:, :, j] = np.hstack([np.repeat(future[:, :1], task.gap, axis=1), future])
    return past, ahead, names


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run this thread's BLAS/LAPACK calls on one thread, then restore the setting.

    SARIMAX makes thousands of LAPACK calls on tiny matrices; OpenBLAS's worker
    threads only add wake-up costs, and on a busy two-core machine a fit gets 10-30x
    slower. Applies to the OpenBLAS bundled in numpy's and scipy's wheels; elsewhere
    (another BLAS, another platform) it does nothing.
    """
    libraries = []
    for package in (np, scipy):
        for path in sorted((Path(package.__file__).parent.parent / f"{package.__name__}.libs").glob("*openblas*")):
            try:
                libraries.append(ctypes.CDLL(str(path)).openblas_set_num_threads_local)
            except (OSError, AttributeError):
                continue
    previous = [set_threads(1) for set_threads in libraries]
    try:
        yield
    finally:
        for set_threads, threads in zip(libraries, previous):
            set_threads(threads)


def fit_sarimax(y: np.ndarray, past: np.ndarray | None, ahead: np.ndarray | None, steps: int,
                order: tuple[int, int, int], seasonal_order: tuple[int, int, int, int]) -> np.ndarray | None:
    """One series' SARIMAX forecast, or None when the fit fails or does not converge.

    Undifferenced models get a constant (sales are not centred on zero); exogenous
    columns constant over the window are dropped (their effect cannot be learnt).
    """
    # statsmodels takes over a second to import and only ARIMA needs it: imported on the first fit, so
    # that opening the app (every page imports the model registry) does not wait for it.
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    if past is not None:
        varies = past.std(axis=0) > 0
        past, ahead = (past[:, varies], ahead[:, varies]) if varies.any() else (None, None)
    trend = "c" if order[1] == 0 and seasonal_order[1] == 0 else "n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # start-parameter notices are routine ...
        warnings.simplefilter("error", ConvergenceWarning)  # ... a fit that did not converge is not
        try:
            model = SARIMAX(y, exog=past, order=order, seasonal_order=seasonal_order, trend=trend)
            result = model.fit(disp=False, maxiter=_ARIMA_MAXITER)
            forecast = np.asarray(result.forecast(steps, exog=ahead), dtype=float)
        except (ConvergenceWarning, np.linalg.LinAlgError, ValueError):
            return None
    return forecast if np.isfinite(forecast).all() else None


def arima_panel(panel: Panel, steps: int, m: int, order: tuple[int, int, int],
                seasonal_order: tuple[int, int, int, int], max_history: int | None,
                exog: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, tuple[Fallback, ...]]:
    """(series, steps) SARIMAX forecasts and the series that fell back to a simple rule.

    A constant series forecasts its value (the naive, or zero for a series that never
    sold: ARMA cannot be fitted to it). A series too short for the model (fewer than two
    seasons plus ten periods) or whose fit fails gets the seasonal naive.
    """
    width = panel.values.shape[1]
    lengths = np.minimum(panel.lengths, max_history or width)
    # the fitted window, and the seasonal naive on it for the series that fall back
    window = Panel(ids=panel.ids, values=np.nan_to_num(panel.values), lengths=lengths)
    out = seasonal_panel(window, steps, m)
    needed = 2 * seasonal_order[3] + 10
    constant, short, failed = (np.zeros(len(panel.ids), dtype=bool) for _ in range(3))
    never = never_sold(panel)
    for i, length in enumerate(lengths):
        y = window.values[i, width - max(int(length), 1):]
        if np.ptp(y) == 0:
            out[i], constant[i] = y[-1], True
            continue
        if len(y) < needed:
            short[i] = True
            continue
        past, ahead = (exog[0][i, width - len(y):], exog[1][i]) if exog is not None else (None, None)
        forecast = fit_sarimax(y, past, ahead, steps, order, seasonal_order)
        if forecast is None:
            failed[i] = True
        else:
            out[i] = forecast
    return out, (Fallback.where(panel, constant & never, "zero", "never sold")
                 + Fallback.where(panel, constant & ~never, "naive", "constant history")
                 + Fallback.where(panel, short, "snaive", f"shorter than two seasons plus 10 periods ({needed})")
                 + Fallback.where(panel, failed, "snaive", "the fit failed or did not converge"))


@dataclass(frozen=True)
class ARIMA(LocalForecaster):
    """Seasonal ARIMA with the known-in-advance columns as regressors (statsmodels SARIMAX).

    One fit per series: slow, so not in the default ladder. A series whose fit raises
    or does not converge gets the seasonal naive forecast, and is named as a fallback.
    """

    alias: ClassVar[str] = "arima"
    name: ClassVar[str] = "ARIMA"
    rung: ClassVar[Rung] = Rung.STATISTICAL
    complexity: ClassVar[int] = 3
    summary: ClassVar[str] = ("Seasonal ARIMA: each period explained by the last few periods, the same "
                              "period a season ago, and planned promotions or prices; one fit per series.")
    # Its warning capture and one-thread BLAS setting are process-wide: never split into threads.
    parallel_from: ClassVar[int] = 2**62

    order: tuple[int, int, int] = (1, 0, 1)
    seasonal_order: tuple[int, int, int, int] | None = None
    use_exog: bool = True
    max_history: int | None = None

    def __post_init__(self) -> None:
        if len(self.order) != 3 or (self.seasonal_order is not None and len(self.seasonal_order) != 4):
            raise ForecastError("arima: order is (p, d, q) and seasonal_order (P, D, Q, m).")
        _check_counts(self.alias, max_history=self.max_history)

    def reads_exog_known(self) -> bool:
        return self.use_exog

    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        m = task.season_length
        seasonal_order = tuple(self.seasonal_order) if self.seasonal_order is not None else (1, 0, 1, m)
        exog = None
        if self.use_exog and task.exog_known:
            past, ahead, names = known_exog(task, panel, steps)
            exog = (past, ahead) if names else None
        with one_blas_thread():
            out, fallbacks = arima_panel(panel, steps, seasonal_order[3] or m, tuple(self.order), seasonal_order,
                                         _pick(self.max_history, _ARIMA_HISTORY, task), exog)
        return Forecast(out, fallbacks)
