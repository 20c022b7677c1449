"""The first rungs: rules anyone could run in a spreadsheet, and today's practice.

Each works on the whole panel at once; where a series is too short for its rule
(a new item), it falls back to the next simpler rule rather than to nothing, and says
so (a ``Fallback``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from core.columns import Freq
from core.forecast.base import (
    NEVER_SOLD,
    SHORTER_THAN_SEASON,
    Fallback,
    Forecast,
    Forecaster,
    ForecastError,
    ForecastTask,
    LocalForecaster,
    Panel,
    Rung,
    naive_panel,
    reason,
    seasonal_panel,
)
from core.i18n import M_, N_

_MA_WINDOW = {Freq.DAILY: 28, Freq.WEEKLY: 8, Freq.MONTHLY: 6}
_YEAR = {Freq.DAILY: 364, Freq.WEEKLY: 52, Freq.MONTHLY: 12}  # 364 days keeps the weekday


def _seasonal(panel: Panel, steps: int, season: int) -> Forecast:
    """The seasonal naive; series shorter than a season get the naive, and are named."""
    return Forecast(seasonal_panel(panel, steps, season),
                    Fallback.where(panel, panel.lengths < season, "naive", reason(SHORTER_THAN_SEASON, season=season)))


@dataclass(frozen=True)
class Naive(LocalForecaster):
    """The naive forecast: the last value, repeated over the horizon.

    Source: the random-walk benchmark of forecasting (Hyndman & Athanasopoulos, *Forecasting:
    Principles and Practice*, 3rd ed., section 5.2). Cost: one copy of the last column; no fit.
    """

    alias: ClassVar[str] = "naive"
    name: ClassVar[str] = N_("Naive (last value)")
    rung: ClassVar[Rung] = Rung.RULE
    complexity: ClassVar[int] = 1
    summary: ClassVar[str] = N_("Tomorrow sells what today sold: the last value, repeated.")

    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        return Forecast(naive_panel(panel, steps))


@dataclass(frozen=True)
class SeasonalNaive(LocalForecaster):
    """The seasonal naive forecast: the value one season ago (7 days, 52 weeks, 12 months).

    Source: Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed.,
    section 5.2; the scale of MASE (Hyndman & Koehler 2006). Cost: one copy of the last
    season; no fit. Series shorter than a season get the naive and are named.
    """

    alias: ClassVar[str] = "snaive"
    name: ClassVar[str] = N_("Seasonal naive")
    rung: ClassVar[Rung] = Rung.RULE
    complexity: ClassVar[int] = 1
    summary: ClassVar[str] = N_("The same period one season ago: last week's same weekday for daily data, "
                                "last year's for weekly or monthly.")
    season_length: int | None = None

    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        return _seasonal(panel, steps, self.season_length or task.season_length)


@dataclass(frozen=True)
class MovingAverage(LocalForecaster):
    """The mean of the last ``window`` periods (28 days, 8 weeks or 6 months by default), flat.

    Source: the simple moving average of inventory practice (Silver, Pyke & Thomas,
    *Inventory and Production Management in Supply Chains*, 4th ed., ch. 4). Cost: one
    mean per series; no fit.
    """

    alias: ClassVar[str] = "ma"
    name: ClassVar[str] = N_("Moving average")
    rung: ClassVar[Rung] = Rung.RULE
    complexity: ClassVar[int] = 1
    summary: ClassVar[str] = N_("The average of the last few weeks (28 days, 8 weeks or 6 months), flat.")
    window: int | None = None

    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        window = self.window or _MA_WINDOW[task.freq]
        if window < 1:
            raise ForecastError(M_("The moving-average window must be at least 1 period."))
        mean = np.nanmean(panel.last(window), axis=1)  # a series always has its cutoff value
        return Forecast(np.repeat(mean[:, None], steps, axis=1))


@dataclass(frozen=True)
class SameLastYear(LocalForecaster):
    """The same period a year ago (364 days back for daily data, so the weekday is kept).

    Source: the yearly seasonal naive (Hyndman & Athanasopoulos, section 5.2). Cost: one
    copy; no fit. Items younger than a year get the seasonal naive and are named.
    """

    alias: ClassVar[str] = "lastyear"
    name: ClassVar[str] = N_("Same period last year")
    rung: ClassVar[Rung] = Rung.RULE
    complexity: ClassVar[int] = 1
    summary: ClassVar[str] = N_("The same period last year (364 days back for daily data, keeping the weekday); "
                                "items younger than a year use the seasonal naive.")

    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        year = _YEAR[task.freq]
        fallback = _seasonal(panel, steps, task.season_length)
        if steps > year or panel.values.shape[1] < year:
            young = np.ones(len(panel.ids), dtype=bool)
            values = fallback.values
        else:
            # step k (1-based) looks at period cutoff + k - year: column (width - year + k - 1)
            start = panel.values.shape[1] - year
            ago = panel.values[:, start:start + steps]
            young = np.isnan(ago).any(axis=1)
            values = np.where(np.isnan(ago), fallback.values, ago)
        why = "horizon longer than a year" if steps > year else "less than a year of history"  # REASON_TEMPLATES
        short = panel.lengths < task.season_length
        return Forecast(values, Fallback.where(panel, young & ~short, "snaive", why)
                        + Fallback.where(panel, young & short, "naive", why))


def _smooth_demand(panel: Panel, alpha_size: float, alpha_rate: float, tsb: bool) -> np.ndarray:
    """Croston (sizes over intervals) or TSB (sizes times probability), all series at once."""
    values = panel.values
    n = len(values)
    size = np.full(n, np.nan)  # smoothed non-zero demand size
    rate = np.full(n, np.nan)  # Croston: smoothed interval; TSB: smoothed probability of demand
    since = np.ones(n)  # periods since the last demand (Croston)
    for t in range(values.shape[1]):
        y = values[:, t]
        seen = ~np.isnan(y)
        demand = seen & (y > 0)
        first = np.isnan(size) & demand
        size = np.where(first, y, size)
        if tsb:
            starting = seen & np.isnan(rate)
            updated = np.where(seen, rate + alpha_rate * (demand - rate), rate)
            rate = np.where(starting, demand.astype(float), updated)
            size = np.where(demand & ~first, size + alpha_size * (y - size), size)
        else:
            rate = np.where(first, since, rate)
            later = demand & ~first
            size = np.where(later, size + alpha_size * (y - size), size)
            rate = np.where(later, rate + alpha_rate * (since - rate), rate)
            since = np.where(demand, 1.0, since + seen)
    return size * rate if tsb else size / rate  # NaN: a series that never sold


def _flat(panel: Panel, level: np.ndarray, steps: int) -> Forecast:
    """The level repeated; a series that never sold has no demand size to smooth and forecasts 0."""
    never = np.isnan(level)
    return Forecast(np.repeat(np.where(never, 0.0, level)[:, None], steps, axis=1),
                    Fallback.where(panel, never, "zero", NEVER_SOLD))


@dataclass(frozen=True)
class Croston(LocalForecaster):
    """Croston's method for intermittent demand: the smoothed size of a sale over the
    smoothed interval between sales, flat over the horizon.

    Source: Croston (1972), "Forecasting and stock control for intermittent demands",
    Operational Research Quarterly 23(3). Cost: one vectorised pass over the history.
    """

    alias: ClassVar[str] = "croston"
    name: ClassVar[str] = "Croston"
    rung: ClassVar[Rung] = Rung.RULE
    complexity: ClassVar[int] = 2
    summary: ClassVar[str] = N_("Croston's method for slow movers: smoothed size of a sale over smoothed "
                                "interval between sales.")
    alpha: float = 0.1

    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        return _flat(panel, _smooth_demand(panel, self.alpha, self.alpha, tsb=False), steps)


@dataclass(frozen=True)
class TSB(LocalForecaster):
    """Teunter-Syntetos-Babai: the smoothed size of a sale times the smoothed probability
    that a period has one, updated every period, so items that stop selling fade out.

    Source: Teunter, Syntetos & Babai (2011), "Intermittent demand: linking forecasting to
    inventory obsolescence", EJOR 214(3). Cost: one vectorised pass over the history.
    """

    alias: ClassVar[str] = "tsb"
    name: ClassVar[str] = "TSB"
    rung: ClassVar[Rung] = Rung.RULE
    complexity: ClassVar[int] = 2
    summary: ClassVar[str] = N_("Teunter-Syntetos-Babai for slow movers: smoothed size times smoothed probability "
                                "of a sale, so items that stop selling fade out.")
    alpha_size: float = 0.1
    alpha_probability: float = 0.1

    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        return _flat(panel, _smooth_demand(panel, self.alpha_size, self.alpha_probability, tsb=True), steps)


@dataclass(frozen=True)
class CurrentPractice(Forecaster):
    """Today's ordering practice, read as a forecast: the units it ordered for each day.

    Orders for a day are placed before it, so they are known in advance. For items
    whose stock carries over, an order is a top-up, not the whole expectation: judge
    practice on perishables, or in money, where carried stock is counted.

    Source: the dataset's own orders column. Cost: none; it is what the stores already do.
    """

    alias: ClassVar[str] = "practice"
    name: ClassVar[str] = N_("Today's practice")
    rung: ClassVar[Rung] = Rung.PRACTICE
    complexity: ClassVar[int] = 0
    summary: ClassVar[str] = N_("Today's ordering practice: what the stores actually ordered for each day.")

    def _forecast(self, task: ForecastTask) -> Forecast:
        if not task.orders or task.orders not in task.future:
            raise ForecastError(M_(
                "'practice' needs the dataset's column of today's orders; this dataset has none. "
                "Leave it out, or map an orders column at import."
            ))
        return Forecast(task.future[task.orders].to_numpy(dtype=float))

