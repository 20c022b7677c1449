"""The forecaster contract: ``ForecastTask`` in, one forecast per future row out.

Every series of the task gets a forecast. A series the model cannot forecast itself
(it never sold, it is too short for the model's season or lags, a fit failed or gave
no finite value) gets a named simple rule instead, and the model says so: each
``Fallback`` names the rule, the reason and the series. ``forecast_with_fallbacks``
returns them with the forecasts, so a backtest can record and show them.
"""

from __future__ import annotations

import os
import re
import string
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import cached_property
from typing import ClassVar, TypeVar

import numpy as np
import pandas as pd

from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.errors import MitoshiError
from core.i18n import M_, N_, Msg, gettext

FORECAST = "forecast"


class ForecastError(MitoshiError):
    """A model could not forecast a task; the message says which and why."""


class FitError(ForecastError):
    """The model cannot be fitted to this task's data (nothing sold, too short, a failed
    fit). Not the user's settings: the base falls back to a simple rule and records why."""


# Why a model left series to a simple rule. A reason is kept in English (runs store it, the
# command line prints it), made from one of these templates, and read back in the reader's
# language by ``reason_fact``.
NEVER_SOLD = N_("never sold")
SHORTER_THAN_SEASON = N_("shorter than a season ({season} periods)")
NO_FINITE_FORECAST = N_("no finite forecast")
COULD_NOT_FIT = N_("could not fit: {error}")
TOO_SHORT_FOR_LAGS = N_("too short for its lags: no series has {periods} periods of history before the cutoff")
NO_SALE_IN_TRAINING = N_("no sale in its {periods} training periods")
REASON_TEMPLATES: tuple[str, ...] = (
    NEVER_SOLD, SHORTER_THAN_SEASON, NO_FINITE_FORECAST, COULD_NOT_FIT, TOO_SHORT_FOR_LAGS, NO_SALE_IN_TRAINING,
    N_("horizon longer than a year"), N_("less than a year of history"),
    N_("shorter than two seasons ({periods} periods)"), N_("constant history"),
    N_("shorter than two seasons plus 10 periods ({periods})"), N_("the fit failed or did not converge"),
    N_("the same value in each of its last {periods} periods"), N_("the linear model's fit gave no finite deviance"),
)
MEMBER_REASON = N_("{model}: {reason}")  # a combination's member's reason, named with the member


def reason(template: str, **values: object) -> str:
    """A reason in English from one of ``REASON_TEMPLATES`` (what a ``Fallback`` and the run
    keep): ``reason(SHORTER_THAN_SEASON, season=7)`` → ``shorter than a season (7 periods)``."""
    return template.format(**values)


def _pattern(template: str) -> re.Pattern:
    parts = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(f"(?P<{name}>.+)")
    return re.compile("".join(parts), re.S)


_PATTERNS = tuple((template, _pattern(template)) for template in REASON_TEMPLATES)


def reason_fact(text: object) -> Msg | str:
    """A stored reason (English, made by ``reason``) as a fact that reads in the current
    language: ``"shorter than a season (7 periods)"`` → ``M_(SHORTER_THAN_SEASON, season="7")``;
    a member's reason of a combination names the member by its name for people. A text no
    template makes (a library's own error message) is returned as it is."""
    text = "" if text is None else str(text)
    for template, pattern in _PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            values = found.groupdict()
            if "error" in values:  # a fit error's own message may be a reason too
                values["error"] = reason_fact(values["error"])
            return M_(template, **values)
    from core.forecast.registry import MODELS  # lazily: the registry imports every model

    for cls in MODELS.values():
        lead = f"{cls.name}: "
        if text.startswith(lead):
            return M_(MEMBER_REASON, model=M_(cls.name), reason=reason_fact(text[len(lead):]))
    return text


@dataclass(frozen=True)
class Fallback:
    """Series a model did not forecast itself, and the simple rule that did instead."""

    rule: str  # the rule's name: "zero", "naive", "snaive", "ses"
    reason: str  # why, in English (``reason``; ``reason_fact`` reads it in any language)
    series: tuple[str, ...]

    @classmethod
    def where(cls, panel: Panel, mask: np.ndarray, rule: str, reason: str) -> tuple[Fallback, ...]:
        """The series of ``panel`` picked by ``mask`` (none: no fallback)."""
        ids = panel.ids[np.asarray(mask, dtype=bool)]
        return (cls(rule, reason, tuple(str(i) for i in ids)),) if len(ids) else ()


@dataclass(frozen=True)
class Forecast:
    """What a model returns: the values, and the series for which they come from a
    simpler rule than the model's own (none: the model forecast every series itself)."""

    values: np.ndarray
    fallbacks: tuple[Fallback, ...] = ()


class Rung(StrEnum):
    """The ladder of the talk: try the cheap rungs first. The values are keys (stored in a
    run's leaderboard, compared by the decision); people read ``rung_name``."""

    PRACTICE = "current practice"
    RULE = "rule"
    STATISTICAL = "statistical"
    LINEAR = "simple model"  # the talk's "logistic regression and the like": a global linear model
    GBDT = "GBDT"
    EXTERNAL = "built elsewhere"  # the talk's "money, stubbornness and a neural network": forecasts uploaded


RUNG_NAMES = {Rung.PRACTICE: N_("current practice"), Rung.RULE: N_("rule"), Rung.STATISTICAL: N_("statistical"),
              Rung.LINEAR: N_("simple model"), Rung.GBDT: "GBDT", Rung.EXTERNAL: N_("built elsewhere")}


def rung_name(rung: object) -> str:
    """A rung as people read it, in the current language (``"statistical"`` → 統計); a value
    no rung has is returned as it is."""
    try:
        return gettext(RUNG_NAMES[Rung(str(rung))])
    except ValueError:
        return str(rung)


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
        codes = _positions(pd.Index(ids), history[SERIES_ID])  # -1: a series not forecast (ended earlier)
        keep = codes >= 0
        rows = codes[keep]
        lengths = np.bincount(rows, minlength=len(ids))
        width = int(lengths.max()) if len(lengths) else 0
        values = np.full((len(ids), width), np.nan)
        # column of each row: its position inside its series, counted from the series' end
        small = np.int32 if len(rows) < 2**31 else np.int64  # a national chain's fold: 35 million rows
        at = np.arange(len(rows), dtype=small)
        at -= np.repeat((np.cumsum(lengths) - lengths).astype(small), lengths)
        at += (width - lengths).astype(small)[rows]
        values[rows, at] = history[column].to_numpy(dtype=float)[keep]
        return cls(ids=ids, values=values, lengths=lengths)

    def rows(self, index: np.ndarray) -> Panel:
        """The sub-panel of some series (the width is kept)."""
        return Panel(ids=self.ids[index], values=self.values[index], lengths=self.lengths[index])

    def last(self, n: int) -> np.ndarray:
        """The last ``n`` columns (NaN where a series is shorter)."""
        return self.values[:, -n:] if n <= self.values.shape[1] else np.pad(
            self.values, ((0, 0), (n - self.values.shape[1], 0)), constant_values=np.nan)


def _positions(index: pd.Index, values: pd.Series) -> np.ndarray:
    """``index.get_indexer(values)``, with 32-bit codes: a categorical's categories are looked
    up once each, not once per row."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        at = np.append(index.get_indexer(values.cat.categories), -1).astype(np.int32)
        return at[values.cat.codes.to_numpy()]
    return index.get_indexer(values)


def naive_panel(panel: Panel, steps: int) -> np.ndarray:
    """The last value, repeated."""
    return np.repeat(panel.values[:, -1:], steps, axis=1)


def seasonal_panel(panel: Panel, steps: int, season: int) -> np.ndarray:
    """Repeat the last full season; series shorter than a season repeat their last value."""
    tiled = np.tile(panel.last(season), (1, -(-steps // season)))[:, :steps]
    short = (panel.lengths < season)[:, None]
    return np.where(short, naive_panel(panel, steps), tiled)


def never_sold(panel: Panel) -> np.ndarray:
    """Series without a single sale in their history."""
    with np.errstate(invalid="ignore"):
        return ~(panel.values > 0).any(axis=1)


def fallback_rule(panel: Panel, steps: int, season: int) -> tuple[np.ndarray, np.ndarray]:
    """The simple rule a model falls back to: (series, steps) forecasts and each series' rule.

    Zero for a series that never sold; otherwise the seasonal naive, or the naive
    (last value) for a series shorter than a season. A missing value inside a series
    carries the previous one, so the rule always gives a number.
    """
    values = pd.DataFrame(panel.values.T).ffill().to_numpy().T if panel.values.size else panel.values
    filled = Panel(ids=panel.ids, values=np.nan_to_num(values, nan=0.0), lengths=panel.lengths)
    never, short = never_sold(panel), panel.lengths < season
    forecasts = np.where(never[:, None], 0.0, seasonal_panel(filled, steps, season))
    return forecasts, np.where(never, "zero", np.where(short, "naive", "snaive"))


T = TypeVar("T")
_CHARGED = ("seconds charged for shared pieces",)


@dataclass(frozen=True)
class _Shared:
    value: object
    seconds: float


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

    def shared(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per task (one fold): the models of a fold that need the same
        piece — the combination its members' forecasts, the linear model and LightGBM one
        design matrix — compute it once. A model that reads a piece another model computed
        is charged the seconds it took (``take_charged_seconds``), so that each model's
        timing on the ladder is what it costs when run alone, not a free ride."""
        hit = self._cache.get(key)
        if hit is None:
            tic = time.perf_counter()
            value = compute()
            return self._cache.setdefault(key, _Shared(value, time.perf_counter() - tic)).value
        self._cache.setdefault(_CHARGED, []).append(hit.seconds)  # append is atomic: blocks run in threads
        return hit.value

    def put_shared(self, key: Hashable, value: object, seconds: float) -> None:
        """Store a piece computed together with another (one fit giving two models' forecasts)."""
        self._cache.setdefault(key, _Shared(value, seconds))

    def has_shared(self, key: Hashable) -> bool:
        return key in self._cache

    def take_charged_seconds(self) -> float:
        """The seconds of shared pieces read since the last call (see ``shared``), and reset."""
        return float(sum(self._cache.pop(_CHARGED, ())))

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
    subclass implements only ``_forecast``, returning a ``Forecast``: one value per
    ``future`` row, and the series that fell back.
    """

    alias: ClassVar[str]  # for the CLI, the warehouse and code
    name: ClassVar[str]  # for people: pages, charts, the PDF
    rung: ClassVar[Rung]
    complexity: ClassVar[int]  # 1 (a rule anyone can run) .. 5 (a model to operate)
    summary: ClassVar[str]

    # Errors that mean "this data cannot be fitted", not "these settings are wrong": the
    # series get the fallback rule instead of stopping the run.
    fit_errors: ClassVar[tuple[type[Exception], ...]] = (FitError, np.linalg.LinAlgError, FloatingPointError)

    def forecast(self, task: ForecastTask) -> pd.DataFrame:
        """One forecast per ``future`` row (see ``forecast_with_fallbacks``)."""
        return self.forecast_with_fallbacks(task)[0]

    def forecast_with_fallbacks(self, task: ForecastTask) -> tuple[pd.DataFrame, tuple[Fallback, ...]]:
        """The forecasts, and the series that got a simple rule instead of the model.

        A model that cannot be fitted to the task (one of ``fit_errors``) and a series
        with a missing or infinite forecast fall back to ``fallback_rule``; a series
        that never sold gets zero. Wrong settings still raise ``ForecastError``.
        """
        if task.horizon < 1:
            raise ForecastError(M_("{model}: the horizon must be at least 1 period.", model=self.alias))
        if task.history.empty:
            raise ForecastError(M_("{model}: no history before the cutoff {cutoff}.", model=self.alias,
                                   cutoff=f"{task.cutoff:%Y-%m-%d}"))
        try:
            result = self._forecast(task)
            failure = NO_FINITE_FORECAST
        except self.fit_errors as error:
            # English, as every stored reason (``reason_fact`` reads it in the reader's language)
            message = error.args[0] if isinstance(error, FitError) and len(error.args) == 1 else error
            result, failure = Forecast(np.full(len(task.future), np.nan)), reason(COULD_NOT_FIT, error=message)
        values, fallbacks = np.asarray(result.values, dtype=float), result.fallbacks
        if values.shape != (len(task.future),):
            raise ForecastError(
                f"{self.alias} returned {values.shape} values for {len(task.future)} future rows."
            )
        if not np.isfinite(values).all():
            values, fallbacks = self._fall_back(task, values, fallbacks, failure)
        values, fallbacks = self._zero_never_sold(task, values, fallbacks)
        out = task.future[[SERIES_ID, DATE]].copy()
        out[FORECAST] = values
        return out, tuple(f for f in fallbacks if f.series)

    @staticmethod
    def _zero_never_sold(task: ForecastTask, values: np.ndarray,
                         fallbacks: tuple[Fallback, ...]) -> tuple[np.ndarray, tuple[Fallback, ...]]:
        """A series that never sold in its history is forecast 0 by every model. A global
        model (LightGBM) learns from the other series and would otherwise sell what never
        sold; the series it forecast otherwise are recorded as falling back to zero."""
        never = never_sold(task.panel)
        if not never.any():
            return values, fallbacks
        ids = task.future[SERIES_ID].to_numpy()
        rows = pd.Index(task.series_ids[never]).get_indexer(ids) >= 0
        changed = pd.unique(ids[rows & (values != 0)])
        if not len(changed):
            return values, fallbacks
        taken = {str(i) for i in changed}
        kept = tuple(Fallback(f.rule, f.reason, tuple(s for s in f.series if s not in taken)) for f in fallbacks)
        zero = Fallback("zero", NEVER_SOLD, tuple(str(i) for i in changed))
        return np.where(rows, 0.0, values), tuple(f for f in kept if f.series) + (zero,)

    def _fall_back(self, task: ForecastTask, values: np.ndarray, fallbacks: tuple[Fallback, ...],
                   reason: str) -> tuple[np.ndarray, tuple[Fallback, ...]]:
        """The fallback rule for every series with a missing or infinite forecast."""
        ids = task.future[SERIES_ID].to_numpy()
        failed = pd.unique(ids[~np.isfinite(values)])
        panel = task.panel.rows(pd.Index(task.series_ids).get_indexer(failed))
        rule_values, rules = fallback_rule(panel, task.steps, task.season_length)
        rows = np.flatnonzero(pd.Index(failed).get_indexer(ids) >= 0)
        position = task.future.groupby(SERIES_ID, sort=False).cumcount().to_numpy()[rows]
        values = values.copy()
        values[rows] = rule_values[pd.Index(failed).get_indexer(ids[rows]), task.gap + position]
        taken = set(str(i) for i in failed)
        kept = tuple(Fallback(f.rule, f.reason, tuple(s for s in f.series if s not in taken)) for f in fallbacks)
        new = tuple(f for rule in ("zero", "snaive", "naive")
                    for f in Fallback.where(panel, rules == rule, rule, NEVER_SOLD if rule == "zero" else reason))
        return values, kept + new

    @abstractmethod
    def _forecast(self, task: ForecastTask) -> Forecast:
        """One value per ``future`` row, naming the series that fell back."""

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
    block of series per core (more, of ``block_series`` at most, on a large panel) and runs
    the blocks in threads (numpy releases the GIL in the vectorised work), then drops the
    gap periods and clips at zero.
    """

    parallel_from: ClassVar[int] = 2000  # series; below this, threads cost more than they save
    # series per block at most: a block's work holds several (series x history) matrices at
    # once, two years of 25,000 series (half a national chain) are 150 MB each
    block_series: ClassVar[int] = 5000

    def _forecast(self, task: ForecastTask) -> Forecast:
        panel, workers = task.panel, os.cpu_count() or 1
        if len(panel.ids) < self.parallel_from or workers == 1:
            parts = [self._forecast_panel(panel, task.steps, task)]
        else:
            blocks = np.array_split(np.arange(len(panel.ids)), max(workers, -(-len(panel.ids) // self.block_series)))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                parts = list(pool.map(lambda rows: self._forecast_panel(panel.rows(rows), task.steps, task), blocks))
        matrix = parts[0].values if len(parts) == 1 else np.vstack([p.values for p in parts])
        # Drop the gap periods: the future holds the last ``horizon`` of ``steps``.
        return Forecast(np.clip(matrix[:, task.gap:], 0, None).ravel(), merge(f for p in parts for f in p.fallbacks))

    @abstractmethod
    def _forecast_panel(self, panel: Panel, steps: int, task: ForecastTask) -> Forecast:
        """(series, steps) forecasts for the periods after the cutoff, naming the series
        that fell back."""


def merge(fallbacks) -> tuple[Fallback, ...]:
    """One ``Fallback`` per rule and reason (blocks of one panel report separately)."""
    merged: dict[tuple[str, str], list[str]] = {}
    for f in fallbacks:
        merged.setdefault((f.rule, f.reason), []).extend(f.series)
    return tuple(Fallback(rule, reason, tuple(series)) for (rule, reason), series in merged.items() if series)
