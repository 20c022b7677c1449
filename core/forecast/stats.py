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
import time
import warnings
from collections.abc import Callable, Iterator
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
from core.i18n import N_

# Fitting on the recent past only is a deliberate speed/accuracy trade-off: two
# years of days hold every weekly pattern and a year-on-year repeat, and older
# levels say little about next month. Weekly and monthly series are short: use all.
_RECENT_HISTORY: dict[Freq, int | None] = {Freq.DAILY: 728, Freq.WEEKLY: None, Freq.MONTHLY: None}
# ETS with a weekly season learns nothing more from a second year of days (its season is
# the week, its level and trend follow the recent past) and pays a pass of its time loop
# per period: one year of days fits in half the time, at 0.1 % of WAPE on the demo chain
# (1,000 series, 3 folds: 0.3851 against 0.3843 on two years). Theta keeps two years: on
# one it lost 0.4 % of WAPE there, and it is cheap.
_ETS_HISTORY: dict[Freq, int | None] = {Freq.DAILY: 364, Freq.WEEKLY: None, Freq.MONTHLY: None}
# Fits of least AICc whose forecasts ETS averages (``top_forms`` None): on daily series the
# winner alone scored as well on the demo chain (1,000 series, 3 folds: WAPE 0.3843 against
# 0.3845 for three) at half the cost, which at 50,000 series is minutes; on weekly and
# monthly series the three weighted fits are more accurate (see ``ETS``).
_TOP_FORMS: dict[Freq, int] = {Freq.DAILY: 1, Freq.WEEKLY: 3, Freq.MONTHLY: 3}
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
    outside = t[None, :] >= lengths[:, None]
    columns = np.clip(width - lengths[:, None] + t[None, :], 0, max(width - 1, 0))
    rows = np.take_along_axis(panel.values, columns, axis=1) if width else np.full(outside.shape, np.nan)
    del columns
    rows[outside] = np.nan
    empty = lengths == 0  # a series with no value at all (never given by make_task) is one zero
    if np.count_nonzero(np.isnan(rows)) > np.count_nonzero(outside):  # a missing value inside a series
        rows = pd.DataFrame(rows.T).ffill().fillna(0.0).to_numpy(copy=True).T
        rows[outside] = np.nan
    rows[empty, 0] = 0.0
    # without the missing values to carry (the usual case), no copy but the last: on a national
    # chain each of these (series x two years) matrices is 150 MB per block of series
    return np.ascontiguousarray(rows.T), np.maximum(lengths, 1)


def once_per_task(model: LocalForecaster, panel: Panel, steps: int, task: ForecastTask,
                  fit: Callable[[Panel, int, ForecastTask], Forecast]) -> Forecast:
    """``fit(panel, steps, task)``, computed once per fold: the combination (``comb``)
    reuses the forecasts of the ETS and Theta that ran on the same task. Keyed by the
    model's settings and the block of series (blocks are contiguous runs of ids)."""
    return task.shared(task_key(model, panel, steps), lambda: fit(panel, steps, task))


def task_key(model: LocalForecaster, panel: Panel, steps: int) -> tuple:
    """``once_per_task``'s key of a model's forecasts of a block of series."""
    ids = panel.ids
    return (model, ids[0] if len(ids) else None, ids[-1] if len(ids) else None, len(ids), steps)


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

    See ``smooth_fit``, of which this is the additive-error part.
    """
    fit = smooth_fit(y, lengths, params, start, trend, seasonal)
    return fit.sse, fit.states


@dataclass(frozen=True)
class SmoothFit:
    """What one pass of the recursion gives, per (series, grid point).

    ``sse``: sum of squared one-step errors e = y - yhat (the additive-error likelihood);
    ``rel_sse`` and ``log_yhat``: sum of (e / yhat)^2 and of log|yhat| (the
    multiplicative-error likelihood; None unless asked for); ``states`` after the last value;
    ``normal``: Gauss-Newton's sums (see ``smooth_fit``'s ``gauss_newton``), None unless asked for.
    """

    sse: np.ndarray
    states: States
    rel_sse: np.ndarray | None = None
    log_yhat: np.ndarray | None = None
    normal: tuple[np.ndarray, np.ndarray] | None = None


def smooth_fit(y: np.ndarray, lengths: np.ndarray, params: Smoothing, start: States,
               trend: bool, seasonal: Seasonality, relative: bool = False,
               gauss_newton: np.ndarray | None = None) -> SmoothFit:
    """Run Holt-Winters over every series and grid point (see ``SmoothFit``).

    ``gauss_newton`` (series,) bool: grid column 0 is a base point and the
    others perturbations of it; accumulates, per series, D'D (series, grid - 1, grid - 1)
    and D'r (series, grid - 1) of the residuals r (e, or e / yhat where True) and their
    differences D to column 0 (``estimate_start``), without keeping the residuals.

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
    rel_sse, log_yhat = (np.zeros((n_series, grid)), np.zeros((n_series, grid))) if relative else (None, None)
    if gauss_newton is not None:
        gn_rel = np.asarray(gauss_newton, bool)[order][:, None]
        jtj, jtr = np.zeros((n_series, grid - 1, grid - 1)), np.zeros((n_series, grid - 1))
    decay = (1 - beta) * phi  # what is left of the slope when the level does not move
    mul = seasonal == "mul"
    running = np.searchsorted(-lengths[order], -np.arange(y.shape[0]), side="left")  # series with n > t
    with np.errstate(all="ignore"):  # a diverging grid point gets an infinite error, then loses
        for t, k in enumerate(running):
            obs, l, s, b = y[t, :k, None], level[:k], season[t % m, :k], slope[:k]
            previous = l.copy()
            base = previous + phi[:k] * b if trend else previous
            fitted = base * s if mul else base + s
            error = obs - fitted
            sse[:k] += error * error
            if relative:  # Hyndman et al. (2008) eq. 5.3: e / yhat, and log|yhat| for the Jacobian
                rel = error / fitted
                rel_sse[:k] += rel * rel
                log_yhat[:k] += np.log(np.abs(fitted))
            if gauss_newton is not None:
                r = np.where(gn_rel[:k], error / fitted, error)
                d = r[:, 1:] - r[:, :1]
                jtj[:k] += d[:, :, None] * d[:, None, :]
                jtr[:k] += d * r[:, :1]
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
    return SmoothFit(sse[back], States(level[back], slope[back], season[:, back]),
                     None if rel_sse is None else rel_sse[back], None if log_yhat is None else log_yhat[back],
                     None if gauss_newton is None else (jtj[back], jtr[back]))


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


# --- automatic ETS: the form chosen per series by AICc ------------------------------------

# A coarse grid for every candidate form, then two rounds of a finer 3-point grid around each
# series' best parameters of its chosen form (as ``ses_fit`` does for Theta's alpha).
AUTO_ALPHAS = (0.05, 0.2, 0.5, 0.9)
AUTO_BETAS = (0.03, 0.2)
AUTO_GAMMAS = (0.02, 0.15)
AUTO_PHIS = (0.94,)
_REFINE_STEPS = (0.6, 0.3, 0.15, None, 0.15, 0.08)
_PHI_STEPS = (0.04, 0.02, 0.01, None, 0.01, 0.005)
_PHI_RANGE = (0.8, 0.98)  # R forecast::ets's bounds on the damping parameter
_LOG_2PI_E = float(np.log(2 * np.pi) + 1)


@dataclass(frozen=True)
class Form:
    """One ETS form's trend and season (Hyndman et al. 2008's taxonomy, error aside)."""

    trend: bool
    damped: bool
    seasonal: Seasonality

    @property
    def code(self) -> str:
        """The form as in ETS(error, trend, season), without the error: "A,Ad,M"."""
        trend = "Ad" if self.damped else "A" if self.trend else "N"
        return f"{trend},{ {None: 'N', 'add': 'A', 'mul': 'M'}[self.seasonal]}"

    def n_params(self, m: int) -> int:
        """Parameters the likelihood is maximised over, counted as R forecast::ets does:
        smoothing (alpha, beta, gamma, phi as present), initial states (level, trend,
        m - 1 seasonal: the m-th follows from normalisation) and the innovations' variance."""
        smoothing = 1 + self.trend + self.damped + (self.seasonal is not None)
        states = 1 + self.trend + (m - 1 if self.seasonal else 0)
        return smoothing + states + 1


def candidate_forms(trend: str | None, damped: bool, seasonal: str | None) -> tuple[Form, ...]:
    """The forms an ETS setting allows: "auto" trend tries none, additive and additive
    damped; "auto" season tries none, additive and multiplicative."""
    trends = [(False, False), (True, False), (True, True)] if trend == "auto" else [(trend == "add", damped)]
    seasons = [None, "add", "mul"] if seasonal == "auto" else [seasonal]
    return tuple(Form(t, d and t, s) for t, d in trends for s in seasons)


def aicc(minus_two_loglik: np.ndarray, n: np.ndarray, k: int | np.ndarray) -> np.ndarray:
    """AICc = -2 log L + 2k + 2k(k + 1) / (n - k - 1); infinite when n <= k + 1."""
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        correction = np.where(n - k - 1 > 0, 2 * k * (k + 1) / (n - k - 1), np.inf)
    return minus_two_loglik + 2 * k + correction


def minus_two_loglik(fit: SmoothFit, n: np.ndarray, multiplicative: bool) -> np.ndarray:
    """-2 log L of each grid point, the innovations' variance concentrated out
    (Hyndman et al. 2008, section 5.2): n log(SSE / n) + n (1 + log 2 pi) for additive
    errors; for multiplicative errors SSE is of e / yhat and 2 sum log|yhat| is added.
    A grid point that diverged, or a forecast yhat <= 0 under multiplicative errors, is infinite."""
    n = np.asarray(n, dtype=float)[:, None]
    with np.errstate(all="ignore"):
        if multiplicative:
            value = n * np.log(fit.rel_sse / n) + 2 * fit.log_yhat + n * _LOG_2PI_E
        else:
            value = n * np.log(np.maximum(fit.sse, 1e-300) / n) + n * _LOG_2PI_E
    return np.where(np.isfinite(value), value, np.inf)


def _loglik(fit: SmoothFit, n: np.ndarray, multiplicative: np.ndarray) -> np.ndarray:
    """``minus_two_loglik`` with each series' own errors: multiplicative where ``multiplicative``."""
    additive = minus_two_loglik(fit, n, False)
    if not multiplicative.any():
        return additive
    return np.where(multiplicative[:, None], minus_two_loglik(fit, n, True), additive)


def _start(y: np.ndarray, m: int, form: Form) -> States:
    """A form's initial states, shaped for the general recursion of its family: level and
    trend (series, 1), season (m, series, 1); a part the form lacks is zero."""
    if form.seasonal is None and not form.trend:
        start = _ses_start(y)
    else:
        start = initial_states(y, m, form.trend, form.seasonal)
    season = start.season if form.seasonal else np.zeros((m, y.shape[1], 1))
    return States(start.level, start.trend, season)


def _family(form: Form) -> Seasonality:
    """The recursion a form runs in. Every form is the damped additive trend with an
    additive or a multiplicative season, some parameters fixed: no trend is beta = 0 and
    b0 = 0, no damping phi = 1, no season gamma = 0 and s0 = 0. One recursion per family
    costs one pass of the time loop instead of one per form."""
    return "mul" if form.seasonal == "mul" else "add"


def _grid(form: Form) -> np.ndarray:
    """The coarse grid of a form, (grid, 4) rows of (alpha, beta, gamma, phi), without
    combinations outside the usual region (gamma <= 1 - alpha; Hyndman et al. 2008 §10.2)."""
    return np.array([c for c in itertools.product(
        AUTO_ALPHAS, AUTO_BETAS if form.trend else (0.0,), AUTO_GAMMAS if form.seasonal else (0.0,),
        AUTO_PHIS if form.damped else (1.0,)) if c[2] <= 1 - c[0]])


def _free(form: Form) -> np.ndarray:
    """Which of (alpha, beta, gamma, phi) the form estimates."""
    return np.array([True, form.trend, form.seasonal is not None, form.damped])


def _fit_in_blocks(y: np.ndarray, lengths: np.ndarray, params: np.ndarray, start: States, seasonal: Seasonality,
                   relative: bool, gauss_newton: np.ndarray | None = None) -> SmoothFit:
    """``smooth_fit`` of the general recursion (damped trend, ``seasonal`` season) with
    (series, grid, 4) parameters and (series, grid) initial states, over blocks of series
    whose (series x grid) states fit in the CPU cache."""
    n, grid = params.shape[:2]
    parts = []
    for rows in np.array_split(np.arange(n), max(1, -(-n * grid // _CACHE_CELLS))):
        smoothing = Smoothing(*(params[rows, :, k] for k in range(4)))
        sub = States(start.level[rows], start.trend[rows], start.season[:, rows])
        parts.append(smooth_fit(y[:int(lengths[rows].max()), rows], lengths[rows], smoothing, sub, True, seasonal,
                                relative, None if gauss_newton is None else gauss_newton[rows]))
    if len(parts) == 1:
        return parts[0]
    normal = None if gauss_newton is None else tuple(np.concatenate([p.normal[k] for p in parts]) for k in (0, 1))
    cat = lambda name: None if getattr(parts[0], name) is None else np.vstack([getattr(p, name) for p in parts])  # noqa: E731
    states = States(np.vstack([p.states.level for p in parts]), np.vstack([p.states.trend for p in parts]),
                    np.concatenate([p.states.season for p in parts], axis=1))
    return SmoothFit(cat("sse"), states, cat("rel_sse"), cat("log_yhat"), normal)


def estimate_start(y: np.ndarray, lengths: np.ndarray, params: np.ndarray, start: States, forms: list[Form],
                   seasonal: Seasonality, multiplicative: np.ndarray) -> tuple[States, np.ndarray]:
    """Initial states (l0, b0, s0 .. s_{m-1}) of least one-step squared residual, given each
    series' smoothing parameters (series, 4) and form (Hyndman et al. 2008, section 5.1:
    with additive errors and season the residuals are linear in the initial states, so
    least squares gives them exactly; FPP3 section 8.6).

    One Gauss-Newton step from ``start``: the residuals' derivative along each state a
    series' form estimates (level; trend if it has one; m - 1 seasonal directions that keep
    the season's sum, R forecast::ets's normalisation) comes from one recursion with one
    grid column per state, exact for the linear forms. Residuals are e, or e / yhat for
    multiplicative errors (where the step is Gauss-Newton's on the relative errors, then
    checked against the likelihood). Each series keeps the best of its old start, the full
    step and half of it by the likelihood: (the states, shaped as ``start``: (series, 1);
    their -2 log L, (series,)). The sums of squares and products are accumulated down the
    recursion (``smooth_fit``'s ``gauss_newton``): no residual is kept.
    """
    y = y[:int(lengths.max())]
    n, m = len(lengths), start.season.shape[0]
    p = 2 + (m - 1 if m > 1 else 0)
    inside = np.arange(y.shape[0])[:, None] < lengths[None, :]
    scale = np.maximum(np.where(inside, np.abs(y), 0.0).sum(axis=0) / lengths, 1e-6)
    free = np.zeros((n, p), bool)
    free[:, 0] = True
    free[:, 1] = [f.trend for f in forms]
    free[:, 2:] = np.array([f.seasonal is not None for f in forms])[:, None]
    delta = np.empty((n, p))
    delta[:, :2] = 1e-3 * scale[:, None]
    delta[:, 2:] = 1e-3 if seasonal == "mul" else 1e-3 * scale[:, None]
    moves = np.zeros((n, p, 2 + m))  # (series, direction, state): level, trend, season 0..m-1
    moves[:, 0, 0] = moves[:, 1, 1] = 1.0
    for j in range(m - 1 if m > 1 else 0):
        moves[:, 2 + j, 2 + j], moves[:, 2 + j, 1 + m] = 1.0, -1.0
    x0 = np.concatenate([start.level, start.trend, start.season[:, :, 0].T], axis=1)  # (series, 2 + m)
    probe = x0[:, None, :] + np.concatenate([np.zeros((n, 1, 2 + m)), delta[:, :, None] * moves], axis=1)
    as_states = lambda x: States(x[..., 0], x[..., 1], np.moveaxis(x[..., 2:], -1, 0))  # noqa: E731
    grid = np.broadcast_to(params[:, None, :], (n, p + 1, 4))
    with np.errstate(all="ignore"):
        dtd, dtr = _fit_in_blocks(y, lengths, grid, as_states(probe), seasonal, False,
                                  gauss_newton=np.asarray(multiplicative, bool)).normal
        both = free[:, :, None] & free[:, None, :]
        normal = np.where(both, dtd / delta[:, :, None] / delta[:, None, :], 0.0)  # J'J, J = D / delta
        rhs = np.where(free, -dtr / delta, 0.0)
        norm = np.sqrt(np.diagonal(normal, axis1=1, axis2=2))
        norm = np.where(norm > 0, norm, 1.0)
        scaled = normal / norm[:, :, None] / norm[:, None, :] + 1e-9 * np.eye(p)
        solvable = np.isfinite(scaled).all(axis=(1, 2)) & np.isfinite(rhs).all(axis=1)
        step = np.zeros((n, p))
        step[solvable] = np.linalg.solve(scaled[solvable], (rhs / norm)[solvable][..., None])[..., 0]
        step = np.where(free, step / norm, 0.0)
        change = np.einsum("np,nps->ns", step, moves)
        tries = x0[:, None, :] + np.array([0.0, 1.0, 0.5])[None, :, None] * change[:, None, :]
        tries = np.where(np.isfinite(tries), tries, x0[:, None, :])
        fit = _fit_in_blocks(y, lengths, np.broadcast_to(params[:, None, :], (n, 3, 4)), as_states(tries),
                             seasonal, bool(multiplicative.any()))
        value = _loglik(fit, lengths, multiplicative)
        best = np.argmin(value, axis=1)
    chosen = tries[np.arange(n), best]
    return States(chosen[:, :1], chosen[:, 1:2], chosen[:, 2:].T[:, :, None]), value[np.arange(n), best]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _star(centre: np.ndarray, free: np.ndarray, step: float, phi_step: float) -> np.ndarray:
    """(series, 9, 4) parameters: each series' centre, and one step down and up along each
    parameter its form estimates (a compass search; logit scale for alpha, beta, gamma,
    phi within R forecast::ets's bounds); a parameter not estimated stays as it is."""
    moves = np.vstack([np.zeros(4), np.eye(4), -np.eye(4)])  # (9, 4)
    moves = moves[None, :, :] * free[:, None, :]  # (series, 9, 4)
    out = np.empty(moves.shape)
    logistic = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    for k in range(3):
        out[..., k] = np.where(free[:, None, k], logistic(_logit(centre[:, None, k]) + step * moves[..., k]),
                               centre[:, None, k])
    out[..., 3] = np.where(free[:, None, 3], np.clip(centre[:, None, 3] + phi_step * moves[..., 3], *_PHI_RANGE),
                           centre[:, None, 3])
    out[..., 2] = np.minimum(out[..., 2], np.where(free[:, None, 2], np.maximum(1 - out[..., 0], 1e-4), 0.0))
    return out


@dataclass(frozen=True)
class AutoFit:
    """Automatic ETS of every series: forecasts (series, steps), each series' chosen form
    (an index into ``forms``), whether its errors are multiplicative, and its AICc."""

    forecasts: np.ndarray
    forms: tuple[Form, ...]
    chosen: np.ndarray
    multiplicative: np.ndarray
    aicc: np.ndarray
    alternatives: tuple[np.ndarray, ...] = ()

    def codes(self) -> list[str]:
        """ETS(error, trend, season) of every series: "M,Ad,M"."""
        return [f"{'M' if mul else 'A'},{self.forms[c].code}" for c, mul in zip(self.chosen, self.multiplicative)]


def auto_ets(y: np.ndarray, lengths: np.ndarray, steps: int, m: int, forms: tuple[Form, ...],
             errors: Literal["add", "auto"] = "auto", subsets: tuple[tuple[int, ...], ...] = (),
             top: int = 1) -> AutoFit:
    """ETS with its form chosen per series by AICc (Hyndman, Koehler, Snyder & Grose 2002;
    Hyndman et al. 2008, "Forecasting with exponential smoothing", ch. 7; R forecast::ets).

    ``y`` is (time, series), left-aligned; every series must hold two full seasons when a
    form has a trend or a season (the caller gives shorter ones simple smoothing). Each
    form is fitted on a coarse grid of smoothing parameters by maximum likelihood with
    additive and, on positive series when ``errors="auto"``, multiplicative errors
    (the same point forecasts, another likelihood); the form and error with the least
    AICc win, their initial states from the two-season heuristic of ``initial_states``
    (SES: the first value). Then the winner is refined (``_refine``): three rounds of a
    compass search around its parameters, its initial states estimated by least squares
    (``estimate_start``), counted as parameters as R does, two more rounds. Multiplicative
    seasons are tried on positive series only. All forms of a family (additive or
    multiplicative season) run in one recursion (``_family``).

    ``top`` > 1: the ``top`` fits (form and error) of least AICc are refined and their
    forecasts averaged with Akaike weights exp(-delta AICc / 2) (Kolassa 2011, "Combining
    exponential smoothing forecasts using Akaike weights", IJF 27(2)), instead of the
    winner's alone; ``chosen`` stays the coarse winner, ``aicc`` is the least refined one.

    ``subsets``: groups of form indices whose own winner per series is also refined and
    returned in ``AutoFit.alternatives`` (e.g. the damped forms: automatic damped ETS as a
    by-product); a series whose subset winner is the overall winner costs nothing more.
    """
    n_series = len(lengths)
    pos = positive(y, lengths)
    mul_errors = errors == "auto"
    scores = np.full((n_series, len(forms), 2), np.inf)
    centres = np.zeros((n_series, len(forms), 2, 4))
    levels, trends = np.zeros((n_series, len(forms), 2)), np.zeros((n_series, len(forms), 2))
    seasons = np.zeros((m, n_series, len(forms), 2))
    for family in ("add", "mul"):
        members = [f for f, form in enumerate(forms) if _family(form) == family]
        if not members:
            continue
        grids = [_grid(forms[f]) for f in members]
        params = np.vstack(grids)
        owner = np.repeat(np.arange(len(members)), [len(g) for g in grids])
        for relative in ((False, True) if mul_errors else (False,)):
            rows = np.ones(n_series, bool) if not mul_errors else pos == relative
            if family == "mul":
                rows &= pos
            rows = np.flatnonzero(rows)
            if not len(rows):
                continue
            starts = [_start(y[:, rows], m, forms[f]) for f in members]
            start = States(np.hstack([st.level for st in starts])[:, owner],
                           np.hstack([st.trend for st in starts])[:, owner],
                           np.concatenate([st.season for st in starts], axis=2)[:, :, owner])
            grid = np.broadcast_to(params[None], (len(rows), *params.shape))
            fit = _fit_in_blocks(y[:, rows], lengths[rows], grid, start, family, relative)
            at = np.arange(len(rows))
            for e in ((0, 1) if relative else (0,)):
                value = minus_two_loglik(fit, lengths[rows], e == 1)
                for i, f in enumerate(members):
                    cells = np.flatnonzero(owner == i)
                    best = cells[np.argmin(value[:, cells], axis=1)]
                    scores[rows, f, e] = aicc(value[at, best], lengths[rows], forms[f].n_params(m))
                    centres[rows, f, e] = params[best]
                    levels[rows, f, e] = starts[i].level[:, 0]
                    trends[rows, f, e] = starts[i].trend[:, 0]
                    seasons[:, rows, f, e] = starts[i].season[:, :, 0]
    at = np.arange(n_series)

    def best_of(allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each series' (form, multiplicative errors) of least AICc among the ``allowed`` forms."""
        flat = np.where(allowed[None, :, None], scores, np.inf).reshape(n_series, -1)
        pick = np.argmin(flat, axis=1)  # a series where every form diverged keeps the first allowed form
        pick = np.where(np.isfinite(flat[at, pick]), pick, 2 * int(np.argmax(allowed)))
        return pick // 2, pick % 2 == 1

    chosen, mul = best_of(np.ones(len(forms), bool))
    # the fits to refine: every series' winner, its runners-up (``top``), then each subset's winner where it differs
    series, form, error, differing, runners = [at], [chosen], [mul], [], []
    taken = np.zeros(scores.shape, bool)
    taken[at, chosen, mul.astype(int)] = True
    for _ in range(top - 1):
        flat = np.where(taken, np.inf, scores).reshape(n_series, -1)
        pick = np.argmin(flat, axis=1)
        rows = np.flatnonzero(np.isfinite(flat[at, pick]))
        taken[rows, (pick // 2)[rows], (pick % 2)[rows]] = True
        series.append(rows), form.append((pick // 2)[rows]), error.append((pick % 2 == 1)[rows]), runners.append(rows)
    for subset in subsets:
        own, own_mul = best_of(np.isin(np.arange(len(forms)), subset))
        differ = np.flatnonzero((own != chosen) | (own_mul != mul))
        series.append(differ), form.append(own[differ]), error.append(own_mul[differ]), differing.append(differ)
    series, form, error = np.concatenate(series), np.concatenate(form), np.concatenate(error)
    cell = (series, form, error.astype(int))
    out, score = _refine(y[:, series], lengths[series], steps, m, [forms[f] for f in form], error, centres[cell],
                         States(levels[cell][:, None], trends[cell][:, None], seasons[(slice(None), *cell)][:, :, None]))
    # the refined fits of each series, weighted by exp(-AICc / 2) (Akaike weights; Kolassa 2011)
    weight = np.zeros(len(series))
    best = np.full(n_series, np.inf)
    np.minimum.at(best, series[:n_series + sum(map(len, runners))], score[:n_series + sum(map(len, runners))])
    fits = slice(0, n_series + sum(map(len, runners)))
    finite = np.isfinite(score[fits]) & np.isfinite(out[fits]).all(axis=1)
    weight[fits] = np.where(finite, np.exp(-0.5 * (score[fits] - best[series[fits]])), 0.0)
    weight[:n_series] = np.where(np.isfinite(best), weight[:n_series], 1.0)  # every fit diverged: the winner's
    total = np.zeros((n_series, steps))
    np.add.at(total, series[fits], weight[fits, None] * np.where(weight[fits, None] > 0, out[fits], 0.0))
    forecasts = total / np.bincount(series[fits], weight[fits], minlength=n_series)[:, None]
    alternatives, cursor = [], fits.stop
    for differ in differing:
        alternative = out[:n_series].copy()
        alternative[differ] = out[cursor:cursor + len(differ)]
        alternatives.append(alternative)
        cursor += len(differ)
    return AutoFit(forecasts, forms, chosen, mul, best if top > 1 else score[:n_series], tuple(alternatives))


def _refine(y: np.ndarray, lengths: np.ndarray, steps: int, m: int, forms: list[Form], mul: np.ndarray,
            centre: np.ndarray, start: States) -> tuple[np.ndarray, np.ndarray]:
    """Refine each series' fit of its own form (``forms[i]``, multiplicative errors where
    ``mul``) from its coarse parameters ``centre`` (series, 4) and initial states: compass
    search rounds (``_REFINE_STEPS``) and, at ``None``, the initial states by least squares
    (``estimate_start``). (forecasts (series, steps), AICc (series,))."""
    n_series = len(lengths)
    centre = centre.copy()
    out, score = np.empty((n_series, steps)), np.full(n_series, np.inf)
    families = np.array([_family(f) for f in forms], dtype=object)
    k_all = np.array([f.n_params(m) for f in forms])
    for family in ("add", "mul"):
        # one recursion per family: its series with additive and multiplicative errors together
        rows = np.flatnonzero(families == family)
        if not len(rows):
            continue
        relative = bool(mul[rows].any())
        first = States(start.level[rows], start.trend[rows], start.season[:, rows])
        free = np.array([_free(forms[i]) for i in rows])
        at = np.arange(len(rows))
        for step, phi_step in zip(_REFINE_STEPS, _PHI_STEPS):
            if step is None:
                first, _ = estimate_start(y[:, rows], lengths[rows], centre[rows], first, [forms[i] for i in rows],
                                          family, mul[rows])
                continue
            grid = _star(centre[rows], free, step, phi_step)
            fit = _fit_in_blocks(y[:, rows], lengths[rows], grid, first, family, relative)
            value = _loglik(fit, lengths[rows], mul[rows])
            best = np.argmin(value, axis=1)
            centre[rows] = grid[at, best]
            score[rows] = np.minimum(score[rows], aicc(value[at, best], lengths[rows], k_all[rows]))
        out[rows] = project(fit.states.select(best), lengths[rows], centre[rows, 3], steps, family)
    return out, score


@dataclass(frozen=True)
class ETS(LocalForecaster):
    """Exponential smoothing (ETS), its form chosen per series by AICc; all series at once.

    By default (``trend="auto"``, ``seasonal="auto"``) every series gets the form with
    the least AICc among trend none / additive / additive damped and season none /
    additive / multiplicative (multiplicative on positive series only), with additive
    or multiplicative errors: the automatic ETS of Hyndman, Koehler, Snyder & Grose
    (2002) and R's forecast::ets, fitted on grids of smoothing parameters instead of by
    an optimiser (``auto_ets``). ``trend="add"`` or ``None`` and ``seasonal="add"``,
    ``"mul"`` or ``None`` fix that part; a fully fixed form (both set) is plain
    Holt-Winters with the parameters of least squared error on a grid, as before.

    Series shorter than two seasons get simple exponential smoothing (no trend, no
    season: too little data to initialise them), named as a fallback. A fixed
    multiplicative season is used only for series positive throughout the fitted
    window; a series with a zero gets the additive season instead, because a
    multiplicative factor learnt from a zero is zero for good.

    The automatic forms' initial states (level, trend, m - 1 seasonal) are estimated by
    least squares for the refined fits (``estimate_start``), as R estimates them with the
    smoothing parameters; the fixed forms keep the two-season heuristic. ``top_forms``
    fits of least AICc are refined and their forecasts averaged with Akaike weights
    (Kolassa 2011); ``top_forms=1`` is R's selection of the best form alone. By default
    (None) weekly and monthly series average 3, daily series take the winner alone.
    Measured (benchmarks/bench_statistical_accuracy.py, sMAPE %, one origin), selection
    -> 3 forms weighted: M3 monthly 14.27 -> 13.98, tourism 19.07 -> 18.88, aus_retail
    5.60 -> 5.58, M5 stores 8.01 -> 7.97; on the daily demo chain (1,000 series, 3 folds
    of 28 days) WAPE 0.3843 -> 0.3845 for twice the time, which a national chain of
    50,000 series counts in minutes. Daily series are fitted on their last year
    (``max_history`` None), weekly and monthly ones on all their history.

    Source: Hyndman, Koehler, Snyder & Grose (2002), "A state space framework for automatic
    forecasting using exponential smoothing methods", IJF 18(3); Hyndman, Koehler, Ord &
    Snyder (2008), "Forecasting with exponential smoothing" (ch. 5 and 7); R forecast::ets;
    Kolassa (2011), "Combining exponential smoothing forecasts using Akaike weights", IJF 27(2).

    Cost: one numpy recursion down the time axis per family (additive or multiplicative
    season) and round: about 90 grid points over the nine forms, then, for each of the
    ``top_forms`` fits, five rounds of 9 points and one of m + 2 plus one of 3 to estimate
    its initial states. On the daily demo chain about 1 s per 1,000 series and fold (one
    year, the winner alone; 3.8 s with two years and three forms); M3 monthly's 1,428
    series about 1 s.
    """

    alias: ClassVar[str] = "ets"
    name: ClassVar[str] = N_("ETS (exponential smoothing)")
    rung: ClassVar[Rung] = Rung.STATISTICAL
    complexity: ClassVar[int] = 2
    summary: ClassVar[str] = N_("Exponential smoothing: a level, a trend if the series has one, and a weekly or "
                                "yearly pattern if it has one, each updated a little with every new period; the "
                                "form is chosen per series by an information criterion (AICc).")

    trend: Literal[None, "add", "auto"] = "auto"
    damped: bool = False
    seasonal: Literal[None, "add", "mul", "auto"] = "auto"
    errors: Literal["add", "auto"] = "auto"
    season_length: int | None = None
    max_history: int | None = None  # None: per frequency, ``_ETS_HISTORY``
    top_forms: int | None = None  # None: per frequency, ``_TOP_FORMS``

    def __post_init__(self) -> None:
        if self.trend not in (None, "add", "auto") or self.seasonal not in (None, "add", "mul", "auto"):
            raise ForecastError(f"ets: trend must be None, 'add' or 'auto', seasonal None, 'add', 'mul' or 'auto' "
                                f"(got {self.trend!r}, {self.seasonal!r}).")
        if self.errors not in ("add", "auto"):
            raise ForecastError(f"ets: errors must be 'add' or 'auto' (got {self.errors!r}).")
        _check_counts(self.alias, season_length=self.season_length, max_history=self.max_history,
                      top_forms=self.top_forms)

    @property
    def automatic(self) -> bool:
        return "auto" in (self.trend, self.seasonal)

    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        return once_per_task(self, panel, steps, task, self._fit)

    def _fit(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        m = self.season_length or task.season_length
        history = _pick(self.max_history, _ETS_HISTORY, task)
        if self.automatic:
            return self._automatic(panel, steps, m, history, self.top_forms or _TOP_FORMS[task.freq])[0]
        y, lengths = left_align(panel, history)
        out = np.empty((len(lengths), steps))
        groups = self._groups(y, lengths, m)
        short = groups["short"][2]
        for trend, seasonal, rows in groups.values():
            if rows.any():
                out[rows] = _fit_holt_winters(y[:lengths[rows].max(), rows], lengths[rows], steps, m,
                                              trend, self.damped and trend, seasonal)
        return Forecast(out, Fallback.where(panel, short, "ses", f"shorter than two seasons ({2 * m} periods)"))

    def _automatic(self, panel: Panel, steps: int, m: int, history: int | None, top: int,
                   with_damped: bool = False) -> tuple[Forecast, ...]:
        """Automatic ETS of this setting's candidate forms (``auto_ets``); with ``with_damped``
        also the automatic damped ETS (the winner among the damped forms), from the same fit."""
        y, lengths = left_align(panel, history)
        forms = candidate_forms(self.trend, self.damped, self.seasonal if m > 1 else None)
        needs_seasons = any(f.trend or f.seasonal for f in forms)
        short = lengths < 2 * m if needs_seasons else np.zeros(len(lengths), bool)
        pos = positive(y, lengths)
        # a series with a zero or a negative value gets the additive season where a form has the multiplicative
        additive = tuple(dict.fromkeys(Form(f.trend, f.damped, "add" if f.seasonal == "mul" else f.seasonal)
                                       for f in forms))
        outs = [np.empty((len(lengths), steps)) for _ in range(1 + with_damped)]
        for rows, allowed in ((~short & pos, forms), (~short & ~pos, additive)):
            if rows.any():
                subsets = (tuple(i for i, f in enumerate(allowed) if f.damped),) if with_damped else ()
                fit = auto_ets(y[:lengths[rows].max(), rows], lengths[rows], steps, m, allowed, self.errors, subsets,
                               top)
                for out, values in zip(outs, (fit.forecasts, *fit.alternatives)):
                    out[rows] = values
        if short.any():
            ses = _fit_holt_winters(y[:lengths[short].max(), short], lengths[short], steps, m, False, False, None)
            for out in outs:
                out[short] = ses
        fallbacks = Fallback.where(panel, short, "ses", f"shorter than two seasons ({2 * m} periods)")
        return tuple(Forecast(out, fallbacks) for out in outs)

    def prefetch_with_damped(self, damped: ETS, panel: Panel, steps: int, task: ForecastTask) -> None:
        """Compute this automatic ETS and the automatic ``damped`` ETS (the same setting with
        ``trend="add", damped=True, top_forms=1``: its best damped form) of the fold in one fit, for ``once_per_task`` to reuse,
        unless either already ran: the damped forms' coarse grid is part of this model's,
        and a series whose overall winner is damped costs nothing more (``auto_ets``'s subsets)."""
        expected = ETS(trend="add", damped=True, seasonal="auto", errors=self.errors,
                       season_length=self.season_length, max_history=self.max_history, top_forms=1)
        if (self.trend, self.seasonal) != ("auto", "auto") or damped != expected:
            raise ForecastError("ets: only automatic ETS pairs with the automatic damped ETS of the same settings.")
        keys = [task_key(model, panel, steps) for model in (self, damped)]
        if any(task.has_shared(key) for key in keys):
            return
        tic = time.perf_counter()
        both = self._automatic(panel, steps, self.season_length or task.season_length,
                               _pick(self.max_history, _ETS_HISTORY, task), self.top_forms or _TOP_FORMS[task.freq],
                               with_damped=True)
        seconds = time.perf_counter() - tic
        for key, forecast, share in zip(keys, both, (seconds, 0.0), strict=True):  # the damped forms came free
            task.put_shared(key, forecast, share)

    def _groups(self, y: np.ndarray, lengths: np.ndarray, m: int) -> dict[str, tuple[bool, Seasonality, np.ndarray]]:
        """Which series get which fixed model, by name: (trend, season, mask of series), masks disjoint.

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

    Source: Assimakopoulos & Nikolopoulos (2000), "The theta model: a decomposition
    approach to forecasting", IJF 16(4); Hyndman & Billah (2003), "Unmasking the Theta
    method", IJF 19(2); R forecast::thetaf; statsmodels ThetaModel.

    Cost: two vectorised SES passes over a 20- and a 21-point alpha grid, plus one classical
    decomposition: about a tenth of automatic ETS.
    """

    alias: ClassVar[str] = "theta"
    name: ClassVar[str] = N_("Theta")
    rung: ClassVar[Rung] = Rung.STATISTICAL
    complexity: ClassVar[int] = 2
    summary: ClassVar[str] = N_("The Theta method: a smoothed level plus half the long-run trend, with the "
                                "weekly or yearly pattern taken out first and put back after.")

    deseasonalize: bool | None = None
    season_length: int | None = None
    max_history: int | None = None

    def __post_init__(self) -> None:
        _check_counts(self.alias, season_length=self.season_length, max_history=self.max_history)

    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        return once_per_task(self, panel, steps, task, self._fit)

    def _fit(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
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

    Source: Box & Jenkins (1970), "Time series analysis: forecasting and control"; the
    state-space likelihood of statsmodels' SARIMAX (Durbin & Koopman 2012).

    Cost: one numerical likelihood maximisation per series, in Python: about 0.1-1 s per
    daily series, hundreds of times automatic ETS per series.
    """

    alias: ClassVar[str] = "arima"
    name: ClassVar[str] = "ARIMA"
    rung: ClassVar[Rung] = Rung.STATISTICAL
    complexity: ClassVar[int] = 3
    summary: ClassVar[str] = N_("Seasonal ARIMA: each period explained by the last few periods, the same "
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
