"""A combination of the statistical rung's forecasts: the mean (or median) of its members.

Combining forecasts of different methods is one of the most robust findings of the
forecasting competitions: in M3 (Makridakis & Hibon 2000) and M4 (Makridakis, Spiliotis &
Assimakopoulos 2020) simple averages of exponential smoothing and Theta beat most single
methods (M4's benchmark "Comb" is the mean of SES, Holt and damped trend; Petropoulos &
Svetunkov 2020's "SCUM" the median of ETS, CES, ARIMA and optimised Theta). ARIMA is left
out: one statsmodels fit per series is too slow for the default ladder.

Measured (benchmarks/bench_statistical_accuracy.py, one origin, sMAPE %): the mean of ETS
and Theta, the default, is better than either member on M3 monthly (13.56), tourism
monthly and aus_retail and between them on the 13 M5 store series; adding automatic damped
ETS (``members=("ets", "theta", "damped")``) is better on the three monthly sets (M3 13.53)
and worse on the M5 series (8.2 against 7.9), so it is an option, not the default.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from core.forecast.base import Fallback, Forecast, ForecastError, ForecastTask, LocalForecaster, Panel, Rung
from core.forecast.stats import ETS, Theta
from core.i18n import N_

# The members a combination may name, each with its settings.
MEMBERS: dict[str, LocalForecaster] = {
    "ets": ETS(),
    "theta": Theta(),
    "damped": ETS(trend="add", damped=True, seasonal="auto", top_forms=1),
}


@dataclass(frozen=True)
class Combination(LocalForecaster):
    """The mean (``how="median"``: median) of the members' forecasts, per series and period.

    Members (``MEMBERS``): ``ets`` (automatic ETS, its form chosen by AICc), ``theta``
    (the standard Theta method), ``damped`` (ETS with a damped trend, its season chosen
    by AICc). Each member's forecasts are clipped at zero first, so the combination is
    the mean of the forecasts the members report. A series a member could not forecast
    (no finite value) is the mean of the others. Fallbacks of a member (a series too
    short for ETS's season gets simple exponential smoothing) are named with the member.

    Source: Makridakis & Hibon (2000), "The M3-Competition: results, conclusions and
    implications", IJF 16(4); Makridakis, Spiliotis & Assimakopoulos (2020), "The M4
    Competition: 100,000 time series and 61 forecasting methods", IJF 36(1); Petropoulos &
    Svetunkov (2020), "A simple combination of univariate models", IJF 36(1).

    Cost: the members' own, computed once: on a fold where ETS and Theta already ran
    (the default ladder), their forecasts are reused and the combination costs nothing
    more than the mean. With both ``ets`` and ``damped``, the damped ETS comes from ETS's
    own fit (``ETS.prefetch_with_damped``) when the combination runs first on the fold.
    """

    alias: ClassVar[str] = "comb"
    name: ClassVar[str] = N_("Combination (ETS, Theta)")
    rung: ClassVar[Rung] = Rung.STATISTICAL
    complexity: ClassVar[int] = 2
    summary: ClassVar[str] = N_("The average of the statistical models' forecasts (exponential smoothing and Theta): "
                                "averaging methods that err differently won the large forecasting competitions.")

    members: tuple[str, ...] = ("ets", "theta")
    how: Literal["mean", "median"] = "mean"

    def __post_init__(self) -> None:
        unknown = [m for m in self.members if m not in MEMBERS]
        if unknown or len(self.members) < 2 or len(set(self.members)) < len(self.members):
            raise ForecastError(f"comb: members must be two or more different ones of {', '.join(MEMBERS)} "
                                f"(got {', '.join(map(str, self.members)) or 'none'}).")
        if self.how not in ("mean", "median"):
            raise ForecastError(f"comb: how must be 'mean' or 'median' (got {self.how!r}).")

    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        if "ets" in self.members and "damped" in self.members:  # both from one fit
            MEMBERS["ets"].prefetch_with_damped(MEMBERS["damped"], panel, steps, task)
        parts = [MEMBERS[m]._forecast_panel(panel, steps, task) for m in self.members]
        stacked = np.clip(np.stack([p.values for p in parts]), 0, None)
        stacked = np.where(np.isfinite(stacked), stacked, np.nan)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a series no member forecast: NaN, the base falls back
            values = np.nanmean(stacked, axis=0) if self.how == "mean" else np.nanmedian(stacked, axis=0)
        fallbacks = tuple(Fallback(f.rule, f"{MEMBERS[m].name}: {f.reason}", f.series)
                          for m, p in zip(self.members, parts) for f in p.fallbacks)
        return Forecast(values, fallbacks)
