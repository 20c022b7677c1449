"""Every model Mitoshi knows, by alias. Adding a model: one class, one line here."""

from __future__ import annotations

from core.errors import MitoshiError
from core.forecast.base import Forecaster
from core.forecast.gbdt import LightGBM
from core.forecast.rules import TSB, Croston, CurrentPractice, MovingAverage, Naive, SameLastYear, SeasonalNaive
from core.forecast.stats import ARIMA, ETS, Theta

MODELS: dict[str, type[Forecaster]] = {
    cls.alias: cls
    for cls in (CurrentPractice, Naive, SeasonalNaive, MovingAverage, SameLastYear, Croston, TSB, ETS, Theta, ARIMA,
                LightGBM)
}

# The ladder run by default: rules, then statistics, then GBDT (ARIMA is slower; opt in).
DEFAULT_LADDER: tuple[str, ...] = ("naive", "snaive", "ma", "ets", "theta", "lgbm")


def make_model(alias: str, **params: object) -> Forecaster:
    """A model by alias with its settings; a clear message for an unknown alias or setting."""
    cls = MODELS.get(alias)
    if cls is None:
        raise MitoshiError(f"Unknown model '{alias}'. Known models: {', '.join(MODELS)}.")
    try:
        return cls(**params)
    except TypeError as exc:
        raise MitoshiError(f"Model '{alias}' does not take the settings {sorted(params)}: {exc}.") from exc
