"""A model fitted once across every series of a task (LightGBM, the linear model), in three steps.

``design(task)`` builds the task's feature rows (``core.forecast.features.Design``);
``fit_predict(design, task)`` fits the one model on the design's training rows and
forecasts its future rows; ``finish(task, values)`` turns those values into the task's
``Forecast`` per series (the linear model's constant series, for instance). Locally
``_forecast`` is the three in a row. On a Dask cluster (``core.backtest.distributed``)
each shard of the series builds its own design part, one worker fits on the parts put
together in the order a local design has, and each shard finishes its own series from
the values sent back (``forecast_predicted``): the same model, the same forecasts.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from core.forecast.base import Fallback, Forecast, Forecaster, ForecastTask
from core.forecast.features import Design, task_lags, task_train_periods, task_windows

_PREDICTED = "predicted elsewhere"


class GlobalForecaster(Forecaster):
    """Base of the models fitted across series. Subclasses set ``lags``,
    ``rolling_windows``, ``max_train_periods`` and ``max_train_rows`` (dataclass fields)
    and implement ``fit_predict``."""

    def design_settings(self, task: ForecastTask) -> tuple[tuple[int, ...], tuple[int, ...], int, int | None]:
        """(lags, rolling windows, training periods, training rows at most) of ``task``'s
        design; ``ForecastError`` for a lag shorter than the task's gap + horizon."""
        return (task_lags(self.alias, self.lags, task), task_windows(self.rolling_windows, task),
                task_train_periods(self.max_train_periods, task), self.max_train_rows)

    def design(self, task: ForecastTask) -> Design:
        """The task's design, shared with the other global models of the fold that use the same settings."""
        return Design.shared(task, *self.design_settings(task))

    @abstractmethod
    def fit_predict(self, design: Design, task: ForecastTask) -> np.ndarray:
        """The model fitted on ``design.train`` / ``design.target``, and its forecast of
        each ``design.future`` row: (rows,) floats. ``task`` gives the fold's settings
        only (cutoff, frequency, seed), not its rows. Raises ``FitError`` where every
        series must fall back, ``ForecastError`` for settings the model refuses."""

    def finish(self, task: ForecastTask, values: np.ndarray) -> Forecast:
        """The forecast of ``task`` from the model's values of its future rows (in the
        future's order). Default: the values as they are, no fallback."""
        return Forecast(values)

    def _forecast(self, task: ForecastTask) -> Forecast:
        if task.has_shared((_PREDICTED, self.alias)):
            outcome = task.shared((_PREDICTED, self.alias), lambda: None)
            if isinstance(outcome, BaseException):
                raise outcome
            return self.finish(task, outcome)
        design = self.design(task)
        return self.finish(task, self.fit_predict(design, task))

    def forecast_predicted(self, task: ForecastTask,
                           outcome: np.ndarray | BaseException) -> tuple[object, tuple[Fallback, ...]]:
        """``forecast_with_fallbacks`` of ``task`` from ``outcome``, what ``fit_predict``
        gave elsewhere for this task's future rows ((rows,) floats, in the future's order)
        or raised there (one of ``fit_errors``: every series falls back, as locally)."""
        task.put_shared((_PREDICTED, self.alias), outcome, 0.0)
        try:
            return self.forecast_with_fallbacks(task)
        finally:
            task.take_charged_seconds()


__all__ = ["GlobalForecaster"]
