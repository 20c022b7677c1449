"""The simple-model rung: one global linear model over every series.

The talk's rung between statistics and GBDT ("logistic regression and the like"): a
generalised linear model (Nelder & Wedderburn 1972, "Generalized Linear Models", JRSS A
135(3)) fitted to every series at once, on the very leak-free design LightGBM reads
(``core.forecast.features``: lags and rolling statistics at least ``gap + horizon``
periods old, calendar, known-in-advance columns, keys and attributes), so the ladder
shows how much of the trees' gain a linear model already gets.

A linear model needs its features in a linear form, made here from the design:

- lags and rolling means as ``log(x + 0.1)``: with a log link the forecast is then a
  product, ``level^b x weekday effect x promotion effect x ...``, and the lags carry each
  series' own level and weekday profile (``weekday_mean``), so no per-item dummy is
  needed. The small offset keeps a slow mover's level in proportion (``log1p`` made a
  series selling 0.3 a day look like one selling 1: MASE 0.97 against 0.88 on the demo
  chain); rolling standard deviations as ``log1p``. A missing lag (a series younger than
  a year) takes the row's own latest level and gets a 0/1 "missing" column;
- weekday and month as dummies (one column per level but the first); holiday, peak-day
  and day-off flags as they are (counts of days for weekly and monthly data); the day of
  the month, of the year and the week of the year are left to the month dummies and the
  year-ago lags (a straight line in them means nothing);
- known-in-advance numbers as they are, a price as ``log`` (price elasticity), and its
  ratio to the series' usual price as ``log`` too; text columns as dummies;
- keys and attributes as dummies only where they have at most ``max_levels`` values
  (stores, regions, categories), never one per item;
- every column standardised on the training rows, the intercept unpenalised and the
  others under a light ridge (L2) penalty ``alpha``, which keeps nested dummies solvable
  (each store lies in one region: the region's dummies are sums of the stores').

Three fits, chosen by ``family`` and measured in ``benchmarks/bench_linear.py``:

- ``poisson`` (the default): Poisson GLM, log link, by iteratively reweighted least
  squares (IRLS, the algorithm of Nelder & Wedderburn; as statsmodels'
  ``GLM.fit(method="irls")``, here with the ridge penalty in the normal equations);
- ``tweedie``: Tweedie GLM, log link, variance ``mu ** power`` (1 < power < 2: a
  compound Poisson-gamma for counts with many zeros; Jørgensen 1987), the same IRLS;
- ``ridge``: least squares on ``log1p(y)`` in one solve, back-transformed by ``expm1``
  with Duan's (1983) smearing factor for the mean.

Poisson is the default because it was the best or level with the best on both data
sets measured (3 folds x 28 days): on the 500-series demo chain WAPE 0.396, MASE 0.880
(Tweedie 1.2 0.396 / 0.878, Tweedie 1.5 0.397 / 0.874, ridge 0.408 / 0.890; Theta 0.399,
LightGBM 0.379), on the M5 stores WAPE 0.072, MASE 0.812 (Tweedie level, ridge 0.082 /
0.925; Theta 0.082, LightGBM 0.073), and it needs no power to choose. Ridge on ``log1p``
under-forecasts even after smearing (bias -0.20 a row on the demo chain). The penalty:
with none, the nested dummies left the equations singular on 2 of the demo chain's 3
folds; ``alpha = 0.1`` cost 1 to 20 % of WAPE; ``1e-3`` is within 1 % of none where none works.

A series whose training window holds one and the same positive value gets that value
(the naive rule, named as a fallback): shared effects would only move it.

Cost: the design (built once per fold for this model and LightGBM: ``Design.shared``),
its linear form and about five IRLS steps of (features x features) solves: 0.7-0.9 s a
fold on the 500-series demo chain (168,000 training rows x 64 columns) on a busy two-core
machine, a tenth of a second a fold on 13 series. The mean forecast is capped at ten
times the largest training target, so an extreme row cannot overflow ``exp``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import pandas as pd

from core.columns import SERIES_ID
from core.forecast.base import (
    NO_SALE_IN_TRAINING,
    TOO_SHORT_FOR_LAGS,
    Fallback,
    FitError,
    Forecast,
    ForecastError,
    ForecastTask,
    Rung,
    reason,
)
from core.forecast.features import (
    CALENDAR,
    EXOG,
    LAG,
    ROLLING_MEAN,
    ROLLING_STD,
    STATIC,
    TRAIN_ROWS,
    Design,
    check_settings,
    task_train_periods,
)
from core.forecast.global_model import GlobalForecaster
from core.forecast.stats import one_blas_thread
from core.i18n import N_

Family = Literal["poisson", "tweedie", "ridge"]
FAMILIES: tuple[str, ...] = ("poisson", "tweedie", "ridge")
# Calendar columns that enter as dummies, and those a straight line cannot use.
_DUMMY_CALENDAR = ("day_of_week", "month")
_DROPPED_CALENDAR = ("day_of_month", "day_of_year", "week_of_year")
LEVEL_OFFSET = 0.1  # lags and rolling means enter as log(x + LEVEL_OFFSET)
HESSIAN_ROWS = 50_000  # rows of the IRLS curvature sample (every row below twice this)
CAP = 10.0  # the forecast is at most this many times the largest training target


@dataclass(frozen=True)
class LinearModel(GlobalForecaster):
    """One generalised linear model for all series on the features of the GBDT rung
    (see the module's docstring for the features and the fit).

    ``family``: "poisson", "tweedie" or "ridge" (least squares on ``log1p``).
    ``alpha``: ridge penalty per standardised coefficient, relative to the mean IRLS
    weight (0: none). ``max_levels``: a key or attribute with more values is left out.
    Raises ``ForecastError`` for settings no task could use.

    Source: generalised linear models (Nelder & Wedderburn 1972, "Generalized linear
    models", JRSS A 135(3)), fitted by iteratively reweighted least squares with a ridge
    penalty, checked against statsmodels' GLM. Cost: one design matrix per fold (shared
    with LightGBM) and a few least-squares solves on it: about 1 s a fold on 500 series.
    """

    alias: ClassVar[str] = "glm"
    name: ClassVar[str] = N_("Linear model (Poisson GLM)")
    rung: ClassVar[Rung] = Rung.LINEAR
    complexity: ClassVar[int] = 3
    summary: ClassVar[str] = N_(
        "One linear model across all series (a Poisson regression): recent sales times a weekday, month, "
        "holiday, promotion and price effect each, the same effects for every item; cheap, and each "
        "effect can be read off."
    )

    family: Family = "poisson"
    tweedie_variance_power: float = 1.5  # 1 = Poisson, 2 = gamma; used by "tweedie" only
    alpha: float = 1e-3
    max_levels: int = 30
    max_iter: int = 30
    tol: float = 1e-8  # relative change of the deviance that ends the IRLS
    lags: tuple[int, ...] | None = None  # None: ``default_lags`` for the task
    rolling_windows: tuple[int, ...] | None = None  # None: per frequency, as LightGBM
    max_train_periods: int | None = None  # None: per frequency, as LightGBM
    max_train_rows: int | None = TRAIN_ROWS  # a uniform sample of them past it, as LightGBM; None: every row

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ForecastError(f"glm: the family must be one of {', '.join(FAMILIES)}; got '{self.family}'.")
        if not 1 < self.tweedie_variance_power < 2:
            raise ForecastError(f"glm: the Tweedie power must be between 1 (Poisson) and 2 (gamma), "
                                f"exclusive; got {self.tweedie_variance_power}.")
        if not (np.isfinite(self.alpha) and self.alpha >= 0):
            raise ForecastError(f"glm: the ridge penalty alpha must be 0 or more; got {self.alpha}.")
        if self.max_levels < 2:
            raise ForecastError(f"glm: max_levels must be at least 2 (a dummy needs two values); "
                                f"got {self.max_levels}.")
        if self.max_iter < 1 or not self.tol > 0:
            raise ForecastError("glm: use at least 1 iteration and a positive tolerance.")
        check_settings(self.alias, self.lags, self.rolling_windows, self.max_train_periods, self.max_train_rows)

    def reads_exog_known(self) -> bool:
        return True

    def fit_predict(self, design: Design, task: ForecastTask) -> np.ndarray:
        fit, x_future = self._fit_design(design, task)
        with one_blas_thread():
            return fit.predict(x_future)

    def finish(self, task: ForecastTask, values: np.ndarray) -> Forecast:
        return self._constant_series(task, values)

    def _constant_series(self, task: ForecastTask, values: np.ndarray) -> Forecast:
        """A series with one and the same positive value in every period of its training
        window gets that value (the naive rule, named): the shared weekday, holiday and
        price effects learnt from the other series would only move it."""
        periods = task_train_periods(self.max_train_periods, task)
        window = task.panel.last(periods)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a series with no value in the window
            low, high = np.nanmin(window, axis=1), np.nanmax(window, axis=1)
        constant = (low == high) & (high > 0)
        if not constant.any():
            return Forecast(values)
        ids = task.future[SERIES_ID].to_numpy()
        position = pd.Index(task.series_ids).get_indexer(ids)
        rows = constant[position]
        values = np.where(rows, high[position], values)
        return Forecast(values, Fallback.where(task.panel, constant, "naive",
                                               f"the same value in each of its last {periods} periods"))

    def coefficients(self, task: ForecastTask) -> pd.Series:
        """The fitted model of ``task`` as people read it: one coefficient per linear
        feature in its own unit (``intercept`` first), on the log scale of the mean
        (``log1p`` for "ridge"): ``exp`` of a dummy's or a 0/1 flag's coefficient is its
        multiplier of sales (``exog_promo`` 0.59: promotions sell 1.8 times as much).
        Raises ``FitError`` where the forecast would fall back for every series."""
        return self._fit(task)[0].coefficients()

    def _fit(self, task: ForecastTask) -> tuple[LinearFit, np.ndarray]:
        """The fit on the task's training rows, and the future rows' features."""
        return self._fit_design(self.design(task), task)

    def _fit_design(self, design: Design, task: ForecastTask) -> tuple[LinearFit, np.ndarray]:
        """The fit on the design's training rows, and its future rows' features."""
        lags, _windows, periods, _rows = self.design_settings(task)
        if len(design.target) == 0:
            raise FitError(reason(TOO_SHORT_FOR_LAGS, periods=min(lags)))
        y = np.clip(design.target, 0, None)  # a return counts as no sale, as for LightGBM
        if not (y > 0).any():
            raise FitError(reason(NO_SALE_IN_TRAINING, periods=periods))
        x_train, x_future, names = linear_features(design, self.max_levels)
        # One BLAS thread: OpenBLAS's workers made X'WX 10-60x slower on a busy two-core
        # machine (0.1 s on one thread, 2-10 s on two while another process ran).
        with one_blas_thread():
            return LinearFit.fit(self, x_train, y, names), x_future


@dataclass(frozen=True)
class LinearFit:
    """A fitted linear model: coefficients on standardised features (intercept first),
    the standardisation, the ridge fit's smearing factor and the forecast cap."""

    family: str
    names: tuple[str, ...]
    beta: np.ndarray  # (1 + features,)
    center: np.ndarray  # (features,)
    scale: np.ndarray  # (features,)
    cap: float  # the largest mean forecast: CAP x the largest training target
    smear: float = 1.0  # Duan's factor ("ridge" only)

    @classmethod
    def fit(cls, model: LinearModel, x_train: np.ndarray, y: np.ndarray, names: list[str]) -> LinearFit:
        """Standardise on the training rows and fit. ``x_train``: (rows, features) floats;
        ``y``: (rows,) targets >= 0, not all 0."""
        # Feature-major (Fortran order, as ``linear_features`` gives it): each column's
        # statistics and each step's products read contiguous memory.
        columns = np.asfortranarray(x_train).T
        center = columns.mean(axis=1)
        scale = np.sqrt(np.einsum("ij,ij->i", columns, columns) / len(x_train) - center**2)
        scale[~(scale > 0)] = 1.0  # a constant column is left out by ``linear_features``
        z = np.empty((x_train.shape[1] + 1, len(x_train)))
        z[0] = 1.0
        np.divide(columns - center[:, None], scale[:, None], out=z[1:])
        z = z.T
        cap = CAP * float(y.max())
        if model.family == "ridge":
            beta, smear = ridge_log1p(z, y, model.alpha)
            return cls(model.family, tuple(names), beta, center, scale, cap, smear)
        power = 1.0 if model.family == "poisson" else model.tweedie_variance_power
        beta = glm_irls(z, y, power, model.alpha, model.max_iter, model.tol)
        return cls(model.family, tuple(names), beta, center, scale, cap)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Mean forecasts of rows ``x`` (rows, features): >= 0, at most ``cap`` (no ``exp``
        overflow on an extreme row); NaN where a feature is NaN."""
        eta = self.beta[0] + ((x - self.center) / self.scale) @ self.beta[1:]
        if self.family == "ridge":
            return np.clip(np.exp(np.minimum(eta, np.log1p(self.cap))) * self.smear - 1, 0, self.cap)
        return np.minimum(np.exp(np.minimum(eta, np.log(self.cap))), self.cap)

    def coefficients(self) -> pd.Series:
        """Coefficients per feature in its own unit, ``intercept`` first."""
        slopes = self.beta[1:] / self.scale
        intercept = self.beta[0] - float(slopes @ self.center)
        return pd.Series(np.r_[intercept, slopes], index=["intercept", *self.names], name="coefficient")


def linear_features(design: Design, max_levels: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The design in a linear form (see the module's docstring): (train, future, names).

    Train and future are (rows, features) float64 arrays with the same columns; a
    column constant over the training rows is left out (it says nothing there).
    """
    frame = pd.concat([design.train, design.future], ignore_index=True)
    n_train = len(design.train)
    columns: dict[str, np.ndarray] = {}
    levels = [c for c, kind in design.kinds.items() if kind in (LAG, ROLLING_MEAN)]
    logs = {c: np.log(np.clip(frame[c].to_numpy(dtype=float), 0, None) + LEVEL_OFFSET) for c in levels}
    # The row's latest known level: the weekday mean, else the shortest window's mean, else the shortest lag.
    order = sorted(levels, key=lambda c: (c != "weekday_mean", not c.startswith("mean_"), _number(c)))
    latest = np.full(len(frame), np.nan)
    for c in order:
        latest = np.where(np.isnan(latest), logs[c], latest)
    latest = np.nan_to_num(latest, nan=0.0)
    flags: set[bytes] = set()
    for c in levels:
        missing = np.isnan(logs[c])
        columns[f"log_{c}"] = np.where(missing, latest, logs[c])
        # one flag per pattern: the same-weekday lags of a young series go missing together
        if missing[:n_train].any() and (pattern := np.packbits(missing).tobytes()) not in flags:
            flags.add(pattern)
            columns[f"missing_{c}"] = missing.astype(float)
    for c, kind in design.kinds.items():
        values = frame[c]
        if kind == ROLLING_STD:
            columns[f"log1p_{c}"] = np.nan_to_num(np.log1p(np.clip(values.to_numpy(dtype=float), 0, None)))
        elif kind == CALENDAR and c in _DUMMY_CALENDAR:
            columns |= _dummies(c, values.to_numpy(dtype=float).astype(np.int64), max_levels=31)
        elif kind == CALENDAR and c == "days_in_period":
            columns[f"log_{c}"] = np.log(values.to_numpy(dtype=float))
        elif kind == CALENDAR and c not in _DROPPED_CALENDAR:
            columns[c] = values.to_numpy(dtype=float)
        elif kind in (STATIC, EXOG) and isinstance(values.dtype, pd.CategoricalDtype):
            columns |= _dummies(c, values.cat.codes.to_numpy(), max_levels)
        elif kind == EXOG:
            columns |= _exog_number(c, values.to_numpy(dtype=float), n_train)
    names = [n for n, v in columns.items() if np.ptp(v[:n_train]) > 0] if n_train else []
    # Built feature-major and returned transposed (Fortran order): each column is one
    # contiguous copy, and the fit reads columns.
    matrix = np.vstack([columns[n] for n in names]).T if names else np.zeros((len(frame), 0))
    return matrix[:n_train], matrix[n_train:], names


def _number(column: str) -> int:
    """The window or lag of ``mean_28`` / ``lag_35`` (0 for ``weekday_mean``)."""
    tail = column.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _dummies(column: str, codes: np.ndarray, max_levels: int) -> dict[str, np.ndarray]:
    """0/1 columns, one per value but the first (sorted); none for a column with more
    than ``max_levels`` values, or a missing value (code -1) only."""
    values = np.unique(codes[codes >= 0])
    if not 2 <= len(values) <= max_levels:
        return {}
    return {f"{column}={v}": (codes == v).astype(float) for v in values[1:]}


def _exog_number(column: str, values: np.ndarray, n_train: int) -> dict[str, np.ndarray]:
    """A known-in-advance number: prices (and price ratios) as logs, the rest as they are;
    a missing or unusable value takes the training rows' median."""
    if "price" in column.lower():
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(values > 0, np.log(values), np.nan)
        column = f"log_{column}"
    train = values[:n_train]
    fill = np.nanmedian(train) if np.isfinite(train).any() else 0.0
    return {column: np.where(np.isfinite(values), values, fill)}


def glm_irls(x: np.ndarray, y: np.ndarray, power: float, alpha: float, max_iter: int, tol: float) -> np.ndarray:
    """Coefficients of a log-link GLM with variance ``mu ** power`` (1: Poisson, 1 < p < 2:
    Tweedie) under a ridge penalty, by iteratively reweighted least squares.

    ``x``: (rows, k) with an intercept in column 0, which is not penalised. Minimises
    ``deviance / 2 + lambda / 2 * |b[1:]|^2`` with ``lambda = alpha * n * mean(y) ** (2 - p)``
    (alpha times the curvature of the intercept-only fit, so alpha means the same at any
    scale of sales). Each step is the IRLS (Fisher scoring) step of Nelder & Wedderburn
    (1972; McCullagh & Nelder 1989, ch. 2): ``(X'WX + lambda P) step = X'W (z - eta) - lambda P b``
    with weights ``w = mu ** (2 - p)`` and working response ``z = eta + (y - mu) / mu``,
    a step that raises the penalised deviance halved. ``X'WX`` only steers the steps: it
    is summed in float32 over a systematic sample of ``HESSIAN_ROWS`` rows or more (a
    fifth of the time on the demo chain), while the gradient is float64 over every row,
    so the optimum is the exact one. The start is the ridge fit of ``log1p(y)``, which
    leaves about five steps. Raises ``FitError`` when the deviance is not finite.
    """
    n, k = x.shape
    ridge = np.full(k, alpha * n * max(float(y.mean()), 1e-10) ** (2 - power))
    ridge[0] = 0.0
    # The curvature from every ``stride``-th row (at least HESSIAN_ROWS of them), scaled up.
    stride = max(1, n // HESSIAN_ROWS)
    x32 = x[::stride].astype(np.float32)
    scale_up = n / len(x32)
    # Start: least squares of log1p(y) on the sample's X'X (a start only: the steps make it exact).
    gram = (x32.T @ x32).astype(np.float64) * scale_up + np.diag(np.r_[0.0, np.full(k - 1, n * max(alpha, 1e-6))])
    beta = np.linalg.solve(gram, x.T @ np.log1p(y))
    eta = np.minimum(x @ beta, 700.0)
    objective = _deviance(y, eta, power) + (ridge * beta**2).sum()
    for _ in range(max_iter):
        mu = np.exp(eta)
        gradient = x.T @ ((y - mu) * mu ** (1 - power)) - ridge * beta
        w = (mu[::stride] ** (2 - power)).astype(np.float32)
        hessian = ((x32 * w[:, None]).T @ x32).astype(np.float64) * scale_up
        step = np.linalg.solve(hessian + np.diag(ridge), gradient)
        for _halving in range(30):
            candidate = beta + step
            candidate_eta = np.minimum(x @ candidate, 700.0)
            value = _deviance(y, candidate_eta, power) + (ridge * candidate**2).sum()
            if np.isfinite(value) and value <= objective + 1e-12 * abs(objective):
                break
            step = step / 2
        else:  # no step lowers the penalised deviance: converged as far as floats tell
            break
        beta, eta = candidate, candidate_eta
        done = objective - value <= tol * max(value, 1e-12)
        objective = value
        if done:
            break
    if not np.isfinite(objective):
        raise FitError("the linear model's fit gave no finite deviance")
    return beta


def _deviance(y: np.ndarray, eta: np.ndarray, power: float) -> float:
    """Total unit deviance of a log-link Tweedie GLM (power 1: Poisson), >= 0
    (McCullagh & Nelder 1989, table 2.1; Jørgensen 1987 for 1 < power < 2)."""
    mu = np.exp(eta)
    if power == 1.0:
        with np.errstate(divide="ignore", invalid="ignore"):
            y_log_y = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
        return float(2 * (y_log_y - y * eta - y + mu).sum())
    return float(2 * (y ** (2 - power) / ((1 - power) * (2 - power)) - y * mu ** (1 - power) / (1 - power)
                      + mu ** (2 - power) / (2 - power)).sum())


def ridge_log1p(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Ridge regression of ``log1p(y)`` on ``x`` (intercept in column 0, unpenalised) and
    Duan's smearing factor ``mean(exp(residual))``: the mean forecast is then
    ``exp(x b) * smear - 1`` (Duan 1983, JASA 78(383)). ``X'X`` is summed in float32 and
    the solution refined by one float64 step on the residual of the normal equations."""
    n, k = x.shape
    target = np.log1p(y)
    penalty = np.full(k, n * alpha)
    penalty[0] = 0.0
    x32 = x.astype(np.float32)
    gram = (x32.T @ x32).astype(np.float64) + np.diag(penalty)
    beta = np.linalg.solve(gram, x.T @ target)
    beta += np.linalg.solve(gram, x.T @ (target - x @ beta) - penalty * beta)
    smear = float(np.mean(np.exp(target - x @ beta)))
    return beta, smear
