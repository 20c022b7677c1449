"""Every model Mitoshi knows, by alias. Adding a model: one class, one line here.

Forecasts made elsewhere (the ladder's last rung) are no class: they join a stored run
under an alias ``ext:NAME`` (``core.backtest.external``), and ``model_info`` describes
them as it describes the built-in models, so that pages, charts and the decision read
every model of a run the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import MitoshiError
from core.forecast.base import Forecaster, Rung
from core.forecast.combination import Combination
from core.forecast.gbdt import LightGBM
from core.forecast.linear import LinearModel
from core.forecast.rules import TSB, Croston, CurrentPractice, MovingAverage, Naive, SameLastYear, SeasonalNaive
from core.forecast.stats import ARIMA, ETS, Theta
from core.i18n import M_, N_

MODELS: dict[str, type[Forecaster]] = {
    cls.alias: cls
    for cls in (CurrentPractice, Naive, SeasonalNaive, MovingAverage, SameLastYear, Croston, TSB, ETS, Theta, Combination,
                ARIMA, LinearModel, LightGBM)
}

# The ladder run by default: rules, then statistics, the simple model, then GBDT (ARIMA is slower; opt in).
DEFAULT_LADDER: tuple[str, ...] = ("naive", "snaive", "ma", "ets", "theta", "comb", "glm", "lgbm")

EXTERNAL_PREFIX = "ext:"
EXTERNAL_SUMMARY = N_("Forecasts made elsewhere (a notebook, another team's model) and uploaded to this run: "
                      "scored on the same folds, metrics and money as the built-in models. Mitoshi cannot check "
                      "that they were made without looking ahead.")


@dataclass(frozen=True)
class ModelInfo:
    """What pages, charts and the decision need to know of a model of a run."""

    alias: str
    name: str  # for people, in English (a catalog message: ``core.fmt.model_name`` reads it in the current language)
    rung: Rung
    complexity: int  # 1 (a rule anyone can run) .. 5 (a model to operate)
    summary: str  # in English, a catalog message: show ``gettext(summary)``

    @property
    def external(self) -> bool:
        return self.rung == Rung.EXTERNAL


def is_external(alias: str) -> bool:
    """Whether ``alias`` names forecasts made elsewhere (``ext:NAME``)."""
    return str(alias).startswith(EXTERNAL_PREFIX)


def external_alias(name: str) -> str:
    """The alias of forecasts made elsewhere under a name people gave them."""
    return f"{EXTERNAL_PREFIX}{name.strip()}"


def model_info(alias: str) -> ModelInfo:
    """A built-in model's class attributes, or those of forecasts made elsewhere
    (rung "built elsewhere", complexity 5). Raises ``MitoshiError`` for an unknown alias."""
    alias = str(alias)
    if is_external(alias):
        return ModelInfo(alias, alias[len(EXTERNAL_PREFIX):], Rung.EXTERNAL, 5, EXTERNAL_SUMMARY)
    cls = MODELS.get(alias)
    if cls is None:
        raise MitoshiError(M_("Unknown model '{alias}'. Known models: {known}.", alias=alias, known=", ".join(MODELS)))
    return ModelInfo(alias, cls.name, cls.rung, cls.complexity, cls.summary)


def make_model(alias: str, **params: object) -> Forecaster:
    """A model by alias with its settings; a clear message for an unknown alias or setting."""
    cls = MODELS.get(alias)
    if cls is None:
        raise MitoshiError(M_("Unknown model '{alias}'. Known models: {known}.", alias=alias, known=", ".join(MODELS)))
    try:
        return cls(**params)
    except TypeError as exc:
        raise MitoshiError(f"Model '{alias}' does not take the settings {sorted(params)}: {exc}.") from exc
