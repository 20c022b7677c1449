"""The forecaster contract: ``ForecastTask`` in, one forecast per future row out."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import cached_property
from typing import ClassVar

import numpy as np
import pandas as pd

from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.errors import MitoshiError

FORECAST = "forecast"


class ForecastError(MitoshiError):
    """A model could not forecast a task; the message says which and why."""


class Rung(StrEnum):
    """The ladder of the talk: try the cheap rungs first."""

    PRACTICE = "current practice"
    RULE = "rule"
    STATISTICAL = "statistical"
    GBDT = "GBDT"


@dataclass(frozen=True)
class Panel:
    """The history as a matrix: one row per series, right-aligned on the cutoff.

    ``values[i, -lengths[i]:]`` is series ``ids[i]``'s history, oldest first; the cells
    before it are NaN (the series started later). Local models work on this, so one
    vectorised numpy expression forecasts every series at once.
    """

    ids: np.ndarray
    values: np.ndarray
    lengths: np.ndarray

    @classmethod
    def from_history(cls, history: pd.DataFrame, ids: np.ndarray, column: str = TARGET) -> Panel:
        """Build from long rows sorted by series then date, with no gaps inside a series."""
        codes = pd.Index(ids).get_indexer(history[SERIES_ID])  # -1: a series not forecast (ended earlier)
        lengths = np.bincount(codes[codes >= 0], minlength=len(ids))
        width = int(lengths.max()) if len(lengths) else 0
        values = np.full((len(ids), width), np.nan)
        keep = codes >= 0
        # position of each row inside its series, counted from the series' end
        order = np.arange(keep.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        rows = codes[keep]
        values[rows, width - lengths[rows] + order] = history.loc[keep, column].to_numpy(dtype=float)
        return cls(ids=ids, values=values, lengths=lengths)

    def rows(self, index: np.ndarray) -> Panel:
        """The sub-panel of some series (the width is kept)."""
        return Panel(ids=self.ids[index], values=self.values[index], lengths=self.lengths[index])

    def last(self, n: int) -> np.ndarray:
        """The last ``n`` columns (NaN where a series is shorter)."""
        return self.values[:, -n:] if n <= self.values.shape[1] else np.pad(
            self.values, ((0, 0), (n - self.values.shape[1], 0)), constant_values=np.nan)


@dataclass(frozen=True)
class ForecastTask:
    """What a model may see in one fold, and nothing more.

    ``history`` holds every column of every series up to and including ``cutoff``,
    sorted by series then date. ``future`` holds, for each series active at the cutoff,
    the ``horizon`` dates to forecast (after ``gap`` periods), with only the columns
    known in advance: attributes, the declared known exogenous columns, and today's
    orders (placed before the day, so they are current practice's own forecast).
    """

    history: pd.DataFrame
    future: pd.DataFrame
    freq: Freq
    horizon: int
    cutoff: pd.Timestamp
    gap: int = 0
    keys: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    exog_known: tuple[str, ...] = ()
    orders: str | None = None
    seed: int = 0
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def season_length(self) -> int:
        return self.freq.season_length

    @cached_property
    def series_ids(self) -> np.ndarray:
        """Series to forecast, in the order of ``future`` (sorted)."""
        return self.future[SERIES_ID].drop_duplicates().to_numpy()

    @cached_property
    def panel(self) -> Panel:
        return Panel.from_history(self.history, self.series_ids)

    @cached_property
    def steps(self) -> int:
        """Periods from the cutoff to the last forecast date: gap + horizon."""
        return self.gap + self.horizon


class Forecaster(ABC):
    """Base of every model. Subclasses are frozen dataclasses of their settings.

    ``forecast`` validates the task and the output and calls ``_forecast``; a
    subclass implements only ``_forecast``, returning one value per ``future`` row.
    """

    alias: ClassVar[str]
    rung: ClassVar[Rung]
    complexity: ClassVar[int]  # 1 (a rule anyone can run) .. 5 (a model to operate)
    summary: ClassVar[str]

    def forecast(self, task: ForecastTask) -> pd.DataFrame:
        if task.horizon < 1:
            raise ForecastError(f"{self.alias}: the horizon must be at least 1 period.")
        if task.history.empty:
            raise ForecastError(f"{self.alias}: no history before the cutoff {task.cutoff:%Y-%m-%d}.")
        values = np.asarray(self._forecast(task), dtype=float)
        if values.shape != (len(task.future),):
            raise ForecastError(
                f"{self.alias} returned {values.shape} values for {len(task.future)} future rows."
            )
        if not np.isfinite(values).all():
            raise ForecastError(f"{self.alias} produced missing or infinite forecasts.")
        out = task.future[[SERIES_ID, DATE]].copy()
        out[FORECAST] = values
        return out

    @abstractmethod
    def _forecast(self, task: ForecastTask) -> np.ndarray: ...

    def reads_exog_known(self) -> bool:
        """Whether the model uses the task's known-in-advance columns. Publishing fits
        without them (their future is not in the warehouse) and must say so for the
        models that would have used them."""
        return False

    def params(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)} if hasattr(self, "__dataclass_fields__") else {}

    def __str__(self) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in self.params().items() if v is not None)
        return f"{self.alias}({settings})"


class LocalForecaster(Forecaster):
    """A model fitted to each series on its own, on the numpy panel of the history.

    This base is the orchestrator of local models: it splits a large panel into one
    block of series per core and runs the blocks in threads (numpy releases the GIL
    in the vectorised work), then drops the gap periods and clips at zero.
    """

    parallel_from: ClassVar[int] = 2000  # series; below this, threads cost more than they save

    def _forecast(self, task: ForecastTask) -> np.ndarray:
        panel, workers = task.panel, os.cpu_count() or 1
        if len(panel.ids) < self.parallel_from or workers == 1:
            matrix = self._forecast_panel(panel, task.steps, task)
        else:
            blocks = np.array_split(np.arange(len(panel.ids)), workers)
            with ThreadPoolExecutor(max_workers=workers) as pool:
                parts = list(pool.map(lambda rows: self._forecast_panel(panel.rows(rows), task.steps, task), blocks))
            matrix = np.vstack(parts)
        # Drop the gap periods: the future holds the last ``horizon`` of ``steps``.
        return np.clip(matrix[:, task.gap:], 0, None).ravel()

    @abstractmethod
    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> np.ndarray:
        """(series, steps) forecasts for the periods after the cutoff."""
