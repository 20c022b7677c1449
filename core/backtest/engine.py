"""Run the ladder over rolling-origin folds and score it.

``run_backtest`` owns the time: it makes each fold's task (history up to the cutoff,
known-in-advance columns after it), asks every model for its forecasts, times them,
joins the actuals and computes every metric at every level. It writes nothing; the
warehouse stores the returned result in one transaction.

Every series is accounted for (``core.backtest.accounting``): the result lists each
series in scope that a fold did not score, with the reason, and each series a model
left to a simple rule, with the rule and the reason.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

import core
from core.backtest import accounting, quantiles
from core.backtest.metrics import (
    ACTUAL,
    CALIBRATION_METRICS,
    CUTOFF,
    FORECAST,
    METRICS,
    MODEL,
    QUANTILE_METRICS,
    SCALE_MASE,
    SCALE_RMSSE,
    STEP,
    evaluate_levels,
    has_quantiles,
    scales,
)
from core.backtest.splits import SplitConfig, check_cutoffs, cutoffs, make_task
from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.data.explore import Scope, dataset_frame
from core.errors import MitoshiError
from core.forecast.base import Forecaster, ForecastTask
from core.forecast.registry import MODELS, make_model, model_info
from core.i18n import M_, Fmt, Msg, render
from core.warehouse import Dataset, Warehouse

log = logging.getLogger(__name__)


class BacktestCancelled(MitoshiError):
    """The user stopped the run; nothing was stored."""


class ModelFailedError(MitoshiError):
    """A model stopped on an error of its own (a bug, not the data or the settings) in one
    fold. The run stops and stores nothing; ``model`` (alias) and ``cutoff`` say where."""

    def __init__(self, message: str | Msg, model: str, cutoff: pd.Timestamp) -> None:
        super().__init__(message)
        self.model, self.cutoff = model, cutoff


@dataclass(frozen=True)
class ModelSpec:
    """A model alias and its settings, as chosen by the user."""

    alias: str
    params: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, alias: str, **params: object) -> ModelSpec:
        return cls(alias, tuple(sorted(params.items())))

    def build(self) -> Forecaster:
        return make_model(self.alias, **dict(self.params))


@dataclass(frozen=True)
class BacktestConfig:
    split: SplitConfig
    models: tuple[ModelSpec, ...]
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.models:
            raise MitoshiError(M_("Choose at least one model to backtest."))
        aliases = [m.alias for m in self.models]
        if len(set(aliases)) != len(aliases):
            raise MitoshiError(M_("A model was chosen twice; each alias can run once per backtest."))
        unknown = [a for a in aliases if a not in MODELS]
        if unknown:
            raise MitoshiError(M_("Unknown model(s) {unknown}. Known models: {known}.", unknown=str(unknown),
                                  known=", ".join(MODELS)))

    def to_dict(self) -> dict:
        return {"split": asdict(self.split), "models": [{"alias": m.alias, "params": dict(m.params)} for m in self.models],
                "seed": self.seed}

    @classmethod
    def from_dict(cls, data: Mapping) -> BacktestConfig:
        return cls(split=SplitConfig(**data["split"]),
                   models=tuple(ModelSpec.of(m["alias"], **m.get("params", {})) for m in data["models"]),
                   seed=data.get("seed", 0))


@dataclass(frozen=True)
class BacktestData:
    """The series to backtest, long and sorted, with the roles of their columns."""

    frame: pd.DataFrame  # unique_id, keys, ds, y, attributes, exogenous, orders, stockout
    freq: Freq
    name: str
    keys: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    exog_known: tuple[str, ...] = ()
    orders: str | None = None
    stockout: str | None = None
    dataset_id: str | None = None
    scope: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def segments(self) -> tuple[str, ...]:
        return self.keys + self.attributes if len(self.keys) > 1 else self.attributes

    @property
    def segment_pair(self) -> tuple[str, str] | None:
        """The two segments of the error heatmap: the first key by the last attribute
        (store x category on a chain), when the data has both."""
        if len(self.keys) > 1 and self.attributes:
            return self.keys[0], self.attributes[-1]
        return None

    def fingerprint(self) -> str:
        """Order-free digest of the series, dates and targets that were backtested."""
        digest = pd.util.hash_pandas_object(self.frame[[SERIES_ID, DATE, TARGET]], index=False).sum()
        return f"{len(self.frame)}-{int(digest) % 2**64:016x}"


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    message: str | Msg  # a fact: ``str(message)`` reads it in the caller's language

    @property
    def text(self) -> str:
        """The message in the current language."""
        return render(self.message)


@dataclass(frozen=True)
class ModelTiming:
    model: str
    cutoff: pd.Timestamp
    seconds: float
    series: int


@dataclass(frozen=True)
class BacktestResult:
    config: BacktestConfig
    data_name: str
    dataset_id: str | None
    fingerprint: str
    code_version: str
    freq: Freq
    n_series: int
    forecasts: pd.DataFrame  # unique_id, ds, cutoff, step, actual, model, forecast
    metrics: pd.DataFrame  # level, group, model, metric, value (long)
    timings: tuple[ModelTiming, ...]
    # every fold's cutoff, oldest first, scored or not: the one source of the fold numbers
    cutoffs: list[pd.Timestamp]
    wall_seconds: float
    scope: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # cutoff, unique_id, reason: series in scope that a fold did not score
    excluded: pd.DataFrame = field(default_factory=accounting.empty_excluded)
    # model, cutoff, unique_id, rule, reason: series a model left to a simple rule
    fallbacks: pd.DataFrame = field(default_factory=accounting.empty_fallbacks)
    # the last date of the backtested data: rows appended after it are not part of what
    # the fingerprint covers (None: a run stored before it was kept)
    data_end: date | None = None

    @property
    def n_scored(self) -> int:
        """Series scored in at least one fold."""
        return self.n_series - len(accounting.never_scored(self.excluded, len(self.cutoffs)))

    def accounting(self) -> list[str]:
        """What was left out and what fell back, in words (the current language)."""
        return accounting.sentences(self.excluded, self.fallbacks, self.n_series, self.cutoffs)

    def accounting_facts(self) -> list[Msg]:
        """``accounting`` as facts, for a record read later in either language."""
        return accounting.sentence_facts(self.excluded, self.fallbacks, self.n_series, self.cutoffs)

    def leaderboard(self) -> pd.DataFrame:
        """Overall metrics, one row per model, with its rung and seconds."""
        overall = self.metrics[self.metrics["level"] == "overall"].pivot(index="model", columns="metric", values="value")
        seconds = pd.Series({t.model: 0.0 for t in self.timings})
        for t in self.timings:
            seconds[t.model] += t.seconds
        overall["seconds"] = seconds
        overall["rung"] = [model_info(m).rung.value for m in overall.index]
        return overall.reset_index().sort_values("wape")

    def summary(self) -> dict:
        """What the command line writes as JSON: per model, every metric and its seconds
        (with the spread's: ``pinball``, ``coverage_80``, ``coverage_95``, ``width_80`` and
        the calibration shares ``below_<level>``); under ``spread`` the quantile levels,
        their method and, for a one-fold run, why there is none; the series left out of
        folds (``excluded``) and the models' fallbacks."""
        board = self.leaderboard().set_index("model")
        return {
            "dataset": self.data_name, "fingerprint": self.fingerprint, "code_version": self.code_version,
            "config": self.config.to_dict(), "series": self.n_series, "series_scored": self.n_scored,
            "wall_seconds": round(self.wall_seconds, 3),
            "models": {m: {k: (None if pd.isna(v) else (v if isinstance(v, str) else float(v)))
                           for k, v in row.items()} for m, row in board.iterrows()},
            "spread": {"levels": list(quantiles.LEVELS), "method": quantiles.METHOD,
                       "no_interval": quantiles.no_interval_reason(len(self.cutoffs), english=True)},
            "excluded": accounting.excluded_summary(self.excluded, self.n_series, self.cutoffs),
            "fallbacks": accounting.fallback_summary(self.fallbacks),
            "accounting": accounting.english_sentences(self.excluded, self.fallbacks, self.n_series, self.cutoffs),
        }


@dataclass(frozen=True)
class FoldParts:
    """What the models made over the folds, before scoring: ``scored`` (unique_id, ds,
    cutoff, step, actual, scale_mase, scale_rmsse, segment-free; model, forecast; one row
    per series, date, fold and model; ``forecast_folds`` keeps only the rows with an actual,
    the only ones scored), the models' timings, the series each fold left out
    and the series each model left to a rule (``core.backtest.accounting`` shapes)."""

    scored: pd.DataFrame
    timings: tuple[ModelTiming, ...]
    excluded: pd.DataFrame
    fallbacks: pd.DataFrame

    @classmethod
    def combine(cls, parts: list[FoldParts], folds: list[pd.Timestamp], models: tuple[str, ...]) -> FoldParts:
        """The parts of disjoint sets of series (shards) as one: rows in the order one
        ``forecast_folds`` over all the series gives (fold, model, series, date), and one
        timing per model and fold (seconds and series summed over the shards)."""
        if len(parts) == 1:
            return parts[0]
        scored = pd.concat([p.scored for p in parts], ignore_index=True)
        order = {alias: i for i, alias in enumerate(models)}
        scored = scored.assign(_model=scored[MODEL].map(order)).sort_values(
            [CUTOFF, "_model", SERIES_ID, DATE], kind="stable").drop(columns="_model").reset_index(drop=True)
        seconds: dict[tuple[str, pd.Timestamp], list[float]] = {}
        for timing in (t for p in parts for t in p.timings):
            total = seconds.setdefault((timing.model, timing.cutoff), [0.0, 0])
            total[0] += timing.seconds
            total[1] += timing.series
        timings = tuple(ModelTiming(model, cutoff, *seconds[(model, cutoff)]) for cutoff in folds for model in models
                        if (model, cutoff) in seconds)

        def stacked(frames: list[pd.DataFrame], empty: pd.DataFrame, by: list[str]) -> pd.DataFrame:
            frames = [f for f in frames if not f.empty]
            if not frames:
                return empty
            return pd.concat(frames, ignore_index=True).sort_values(by, kind="stable").reset_index(drop=True)

        return cls(scored=scored, timings=timings,
                   excluded=stacked([p.excluded for p in parts], accounting.empty_excluded(), [CUTOFF, SERIES_ID]),
                   fallbacks=stacked([p.fallbacks for p in parts], accounting.empty_fallbacks(),
                                     [CUTOFF, SERIES_ID]))


class FoldExecutor(Protocol):
    """Runs ``forecast_folds`` somewhere else (``core.backtest.distributed``)."""

    def forecast(self, data: BacktestData, config: BacktestConfig, folds: list[pd.Timestamp],
                 on_progress: Callable[[Progress], None] | None,
                 should_stop: Callable[[], bool] | None) -> FoldParts: ...


def fold_task(data: BacktestData, config: BacktestConfig, cutoff: pd.Timestamp,
              spans: pd.DataFrame) -> tuple[ForecastTask, pd.DataFrame, pd.DataFrame]:
    """One fold of ``data``: the models' task, the rows its forecasts are scored on (unique_id,
    ds, actual, scale_mase, scale_rmsse, cutoff, step; one per series and forecast date), and
    the series of ``spans`` (``accounting.series_spans``) the fold leaves out, with the reason.
    ``data`` must have a value on ``cutoff`` (``make_task`` refuses a fold with none)."""
    task, actuals = make_task(data.frame, cutoff, data.freq, config.split, keys=data.keys,
                              attributes=data.attributes, exog_known=data.exog_known, orders=data.orders,
                              seed=config.seed)
    mase_scale, rmsse_scale = scales(task.panel.values, task.season_length)
    fold_scales = pd.DataFrame({SERIES_ID: task.series_ids, SCALE_MASE: mase_scale, SCALE_RMSSE: rmsse_scale})
    base = actuals.rename(columns={TARGET: ACTUAL}).merge(fold_scales, on=SERIES_ID)
    base[CUTOFF] = cutoff
    base[STEP] = np.tile(np.arange(config.split.gap + 1, config.split.gap + config.split.horizon + 1),
                         len(task.series_ids))
    with_actual = base.loc[base[ACTUAL].notna(), SERIES_ID].unique()
    return task, base, accounting.left_out(spans, cutoff, task.series_ids, with_actual)


def forecast_folds(
    data: BacktestData,
    config: BacktestConfig,
    folds: list[pd.Timestamp],
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FoldParts:
    """Every model of ``config`` on every fold of ``data`` (all its series, or one shard of
    them): the models' forecasts beside the actuals and the scales of the scaled errors,
    before any scoring. A fold on whose cutoff none of these series has a value (possible
    in a shard, never in the whole data: ``run_backtest`` checks) only accounts for its
    series as left out. Raises as ``run_backtest`` does."""
    frame = data.frame
    models = [spec.build() for spec in config.models]
    total = len(folds) * len(models)
    spans = accounting.series_spans(frame)
    scored_parts, timings, excluded, fallbacks = [], [], [], []
    for f, cutoff in enumerate(folds):
        if not (frame[DATE] == cutoff).any():
            excluded.append(accounting.left_out(spans, cutoff, np.array([], dtype=object), np.array([], dtype=object)))
            continue
        task, base, left_out = fold_task(data, config, cutoff, spans)
        excluded.append(left_out)
        # Only rows with an actual are scored (a series that ended inside the horizon has none):
        # dropped here, once per fold, not from the stacked rows of every model afterwards.
        with_actual = base[ACTUAL].notna().to_numpy()
        if not with_actual.all():
            base = base.loc[with_actual].reset_index(drop=True)
        for m, model in enumerate(models):
            if should_stop is not None and should_stop():
                raise BacktestCancelled(M_("The backtest was stopped; nothing was stored."))
            if on_progress:
                on_progress(Progress(f * len(models) + m, total, M_(
                    "fold {fold}/{folds} (cutoff {cutoff}): {model}", fold=f + 1, folds=len(folds),
                    cutoff=f"{cutoff:%Y-%m-%d}", model=Fmt("model_name", model.alias))))
            tic = time.perf_counter()
            task.take_charged_seconds()  # what an earlier model read is not this one's
            try:
                forecast, fell_back = model.forecast_with_fallbacks(task)
            except MitoshiError:
                raise  # its message already says what is wrong and how to fix it
            except Exception as error:  # a model's own fault: say which model, which fold, what to do
                log.exception("%s failed on the fold with cutoff %s", model.alias, cutoff)
                raise ModelFailedError(M_(
                    "{model} failed on fold {fold}/{folds} (cutoff {cutoff}) with an internal error ({error}). "
                    "Nothing was stored. Run the backtest again without {model} (remove it under Models); the "
                    "other models are not affected.", model=Fmt("model_name", model.alias), fold=f + 1,
                    folds=len(folds), cutoff=f"{cutoff:%Y-%m-%d}", error=f"{type(error).__name__}: {error}"),
                    model.alias, cutoff,
                ) from error
            # its cost when run alone: pieces it reuses from another model of the fold are charged to it too
            seconds = time.perf_counter() - tic + task.take_charged_seconds()
            timings.append(ModelTiming(model.alias, cutoff, seconds, len(task.series_ids)))
            fallbacks.append(accounting.fallback_rows(model.alias, cutoff, fell_back))
            scored_parts.append((base, model.alias, forecast[FORECAST].to_numpy()[with_actual]))
        del task, base  # before the next fold's task is made: two folds' histories at once would not fit a national chain
        release_freed_memory()
    fallbacks = [f for f in fallbacks if f is not None]
    excluded = [e for e in excluded if not e.empty]
    return FoldParts(
        scored=_stacked(scored_parts), timings=tuple(timings),
        excluded=pd.concat(excluded, ignore_index=True) if excluded else accounting.empty_excluded(),
        fallbacks=pd.concat(fallbacks, ignore_index=True) if fallbacks else accounting.empty_fallbacks(),
    )


def _stacked(parts: list[tuple[pd.DataFrame, str, np.ndarray]]) -> pd.DataFrame:
    """The scored rows of every (fold, model): each fold's base rows (``fold_task``) with the
    model's alias and forecasts, one under the other, in the order of ``parts``. Made column by
    column, one allocation each, instead of a copy of the base per model and a concat of
    them all (twice the memory of the result, gigabytes on a national chain)."""
    if not parts:
        return pd.DataFrame(columns=[SERIES_ID, DATE, ACTUAL, SCALE_MASE, SCALE_RMSSE, CUTOFF, STEP, MODEL, FORECAST])
    columns = {column: pd.concat([base[column] for base, _, _ in parts], ignore_index=True)
               for column in parts[0][0].columns}
    columns[MODEL] = np.repeat(np.array([alias for _, alias, _ in parts], dtype=object),
                               [len(base) for base, _, _ in parts])
    columns[FORECAST] = np.concatenate([values for _, _, values in parts])
    return pd.DataFrame(columns)


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_freed_memory() -> None:
    """Give the memory a fold freed back to the operating system: glibc's allocator keeps
    freed blocks of its heaps (one per thread that allocated) for reuse, so a national chain's
    process grew by about 1 GB over three folds without using it. ``malloc_trim(0)`` (glibc;
    Dask's documentation gives the same remedy for its workers) returns them; elsewhere
    (another C library) nothing is done."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@lru_cache(maxsize=1)
def code_version() -> str:
    """The app version and, when run from a git checkout, its commit."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                                cwd=Path(__file__).resolve().parent, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "no-git"
    return f"{core.__version__}+{commit}"


def fold_cutoffs(first_date: object, last_date: object, freq: Freq, split: SplitConfig) -> list[pd.Timestamp]:
    """The folds' cutoffs, oldest first, of data from ``first_date`` to ``last_date``;
    ``MitoshiError`` when the first would fall on or before the data's start (the history is
    too short for these settings). The Backtest page asks before it queues a run."""
    folds = cutoffs(pd.Timestamp(last_date), freq, split)
    if folds[0] <= pd.Timestamp(first_date):
        raise MitoshiError(M_(
            "The history is too short for {folds} folds of {horizon} periods: the first cutoff would be {cutoff}, "
            "before the data starts. Use fewer folds, a shorter horizon or step.", folds=split.folds,
            horizon=split.horizon, cutoff=Fmt("date", f"{folds[0]:%Y-%m-%d}")))
    return folds


def run_backtest(
    data: BacktestData,
    config: BacktestConfig,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    executor: FoldExecutor | None = None,
) -> BacktestResult:
    """Backtest every model of ``config`` on ``data``; see the module docstring.

    Raises ``MitoshiError`` for data or settings that cannot be backtested,
    ``BacktestCancelled`` when ``should_stop`` says so, and ``ModelFailedError`` (naming
    the model and the fold) when a model fails with an error that is not a
    ``MitoshiError``. Nothing is written either way: the caller stores the result.

    ``executor``: where the models run; None runs them here, on every series at once
    (``forecast_folds``); ``core.backtest.distributed.DaskExecutor`` shards the series
    across a Dask cluster. The folds, the scoring and the result are the same.
    """
    started = time.perf_counter()
    frame = data.frame
    if frame.empty:
        raise MitoshiError(M_("There are no series to backtest: widen the scope."))
    folds = fold_cutoffs(frame[DATE].min(), frame[DATE].max(), data.freq, config.split)
    check_cutoffs(frame, folds)  # before any model runs, not half way through the run
    if executor is None:
        parts = forecast_folds(data, config, folds, on_progress, should_stop)
    else:
        parts = executor.forecast(data, config, folds, on_progress, should_stop)
    total = len(folds) * len(config.models)
    if on_progress:
        on_progress(Progress(total, total, M_("scoring")))
    release_freed_memory()
    scored = parts.scored
    if scored[ACTUAL].isna().any():  # a series that ended inside the horizon has nothing to score
        scored = scored[scored[ACTUAL].notna()]
    if scored.empty:
        raise MitoshiError(M_("No series has an actual on any fold's forecast dates, so there is nothing to score: "
                              "use fewer folds or a shorter horizon."))
    metrics = score_forecasts(scored, data)
    forecasts = scored[[SERIES_ID, DATE, CUTOFF, STEP, ACTUAL, MODEL, FORECAST]].reset_index(drop=True)
    return BacktestResult(
        config=config, data_name=data.name, dataset_id=data.dataset_id, fingerprint=data.fingerprint(),
        code_version=code_version(), freq=data.freq, n_series=int(frame[SERIES_ID].nunique()), forecasts=forecasts,
        metrics=metrics, timings=parts.timings, cutoffs=list(folds), wall_seconds=time.perf_counter() - started,
        scope=data.scope,
        excluded=parts.excluded, fallbacks=parts.fallbacks,
        data_end=pd.Timestamp(frame[DATE].max()).date(),
    )


def score_forecasts(scored: pd.DataFrame, data: BacktestData, stated: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every metric of every model in ``scored``, as ``run_backtest`` scores its models —
    the one scoring of the engine and of forecasts made elsewhere
    (``core.backtest.external``).

    ``scored``: unique_id, ds, cutoff, step, actual, model, forecast, scale_mase,
    scale_rmsse, one row per series, date, fold and model with an actual. ``data``: the
    series backtested (its segment columns and heatmap pair). ``stated``: quantiles a
    model states itself, the ``run_quantiles`` shape (model, unique_id, ds, cutoff, level,
    value), at levels of ``quantiles.LEVELS``; they replace the cross-conformal quantiles
    at those levels. Returns level, group, model, metric, value (long): overall, per fold,
    step, series, segment and pair of segments; metrics from ``core.backtest.metrics``.
    """
    return _all_metrics(_with_segments(scored, data), data.segments, data.segment_pair, stated=stated)


def _with_segments(scored: pd.DataFrame, data: BacktestData) -> pd.DataFrame:
    if not data.segments:
        return scored
    lookup = data.frame.groupby(SERIES_ID, sort=False, observed=True)[list(data.segments)].first()
    # each row's series looked up by position: a join would copy every column of millions of rows
    # and categoricals taken by code: a text value per row would make tens of millions of strings
    at = lookup.index.get_indexer(scored[SERIES_ID])
    columns = {}
    for column in data.segments:
        values = lookup[column].astype("category")
        codes = np.append(values.cat.codes.to_numpy(), -1)[at]  # -1: a series not in the data has none
        columns[column] = pd.Categorical.from_codes(codes, categories=values.cat.categories)
    return scored.assign(**columns)


PAIR_SEP = " | "


def _pair_column(first: pd.Series, second: pd.Series) -> pd.Categorical:
    """Each row's pair of two segment values, "S001 | bento", as a categorical with its
    categories sorted: the text made once per pair present, not once per row (tens of
    millions on a national chain). A row missing either value has no pair (NaN)."""
    a, b = first.astype("category"), second.astype("category")
    names_a, names_b = a.cat.categories.astype(str), b.cat.categories.astype(str)
    codes_a, codes_b = a.cat.codes.to_numpy(dtype=np.int64), b.cat.codes.to_numpy(dtype=np.int64)
    key = np.where((codes_a >= 0) & (codes_b >= 0), codes_a * len(names_b) + codes_b, -1)
    pairs, uniques = pd.factorize(key)
    valid = np.flatnonzero(uniques >= 0)
    labels = np.array([f"{names_a[u // len(names_b)]}{PAIR_SEP}{names_b[u % len(names_b)]}" for u in uniques[valid]],
                      dtype=object)
    order = np.argsort(labels, kind="stable")
    mapping = np.full(len(uniques), -1, dtype=np.int64)
    mapping[valid[order]] = np.arange(len(order))
    return pd.Categorical.from_codes(mapping[pairs], categories=pd.Index(labels[order], dtype="str"))


def _series_pairs(scored: pd.DataFrame, pair: tuple[str, str]) -> pd.Categorical:
    """``_pair_column`` of each row of ``scored`` (``unique_id`` a categorical), made once per
    series and taken by the rows' series codes: the segments are the series' own, and a
    national chain has 50,000 series but 24 million scored rows."""
    codes = scored[SERIES_ID].cat.codes.to_numpy()
    at = np.full(len(scored[SERIES_ID].cat.categories) + 1, -1, dtype=np.int64)
    at[codes] = np.arange(len(codes))  # a row of each series (any: its segments are the series')
    present = np.flatnonzero(at[:-1] >= 0)
    per_series = _pair_column(scored[pair[0]].iloc[at[present]].reset_index(drop=True),
                              scored[pair[1]].iloc[at[present]].reset_index(drop=True))
    of_code = np.full(len(at), -1, dtype=np.int64)
    of_code[present] = per_series.codes
    return pd.Categorical.from_codes(of_code[codes], categories=per_series.categories)


MIN_SEGMENT_SERIES = 5  # series a segment value needs to pool errors of its own (else: every series' pool)


def pooling_segment(segments: tuple[str, ...], frame: pd.DataFrame) -> str | None:
    """The segment whose series pool their errors for a conformal quantile when a series has
    too few of its own (``core.backtest.quantiles``): the last segment column (the category
    on a chain: items of one category sell alike) whose values hold, at the median, at least
    ``MIN_SEGMENT_SERIES`` series each in ``frame`` (unique_id plus the segment columns). A
    column with one or a few series per value (the store on a two-store chain is fine, an
    item attribute unique to each series is not) would pool a series with itself, so it is
    skipped; None when no column qualifies (pool all series)."""
    for column in reversed(segments):
        if column in frame.columns:
            per_value = frame.groupby(column, observed=True)[SERIES_ID].nunique()
            if len(per_value) and per_value.median() >= MIN_SEGMENT_SERIES:
                return column
    return None


def pooling_map(frame: pd.DataFrame, segments: tuple[str, ...]) -> pd.Series | None:
    """unique_id -> its value of ``pooling_segment`` (NaN where that value has fewer than
    ``MIN_SEGMENT_SERIES`` series: such a series pools with all series), or None to pool
    all series."""
    column = pooling_segment(segments, frame)
    if column is None:
        return None
    of = frame.groupby(SERIES_ID, sort=False, observed=True)[column].first()
    sizes = of.astype(str).map(of.astype(str).value_counts())
    return of.astype(object).where(sizes >= MIN_SEGMENT_SERIES)


def segment_of(data: BacktestData) -> pd.Series | None:
    """unique_id -> the pooling segment's value (``pooling_map``), for
    ``quantiles.conformal_offsets`` and ``quantiles.future_offsets`` on this data (None: pool
    all series)."""
    return pooling_map(data.frame, data.segments)


def _all_metrics(scored: pd.DataFrame, segments: tuple[str, ...], pair: tuple[str, str] | None,
                 stated: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every metric per model: overall, per fold, per horizon step, per series, per
    segment, and per pair of segments (group "S001 | bento") for the heatmap.

    The spread is scored too: rows without quantile columns get them from each model's
    out-of-fold errors (``quantiles.conformal_offsets``, pooled by ``pooling_segment``),
    or from ``stated`` (the ``run_quantiles`` shape) at the levels a model states itself;
    a run with one fold has none, so no pinball loss or coverage. The calibration shares
    (``metrics.CALIBRATION_METRICS``) are kept overall and per segment only."""
    # Categorical keys make the group-bys below faster.
    scored = scored.astype({column: "category" for column in (MODEL, SERIES_ID, *segments)})
    of = None if has_quantiles(scored) else pooling_map(scored, segments)
    levels = {"overall": [], "fold": [CUTOFF], "step": [STEP], "series": [SERIES_ID]}
    levels |= {f"segment:{column}": [column] for column in segments}
    if pair:
        name = f"{pair[0]}{PAIR_SEP}{pair[1]}"
        scored[name] = _series_pairs(scored, pair)
        levels[f"pair:{name}"] = [name]
    calibration = [level for level in levels if level == "overall" or level.startswith("segment:")]
    # One model at a time: every group of every level is one model's, and so are its conformal
    # quantiles, so the quantile columns are only ever made for one model's rows (a national
    # chain's six models hold 24 million rows). Each level's table is the models' tables one
    # under the other, in the order one scoring of all the rows gives (by model, then group).
    tables: dict[str, list[pd.DataFrame]] = {level: [] for level in levels}
    codes = scored[MODEL].cat.codes.to_numpy()
    for code, model in enumerate(scored[MODEL].cat.categories):
        rows = scored.iloc[np.flatnonzero(codes == code)]
        if rows.empty:
            continue
        if of is not None:
            own = None if stated is None else stated[stated[MODEL].astype(str) == str(model)]
            rows = quantiles.with_quantiles(rows, quantiles.conformal_offsets(rows, quantiles.LEVELS, of), stated=own)
        for level, table in evaluate_levels(rows, {level: [MODEL, *by] for level, by in levels.items()},
                                            calibration=calibration).items():
            tables[level].append(table)
        del rows
    order = [*METRICS, *QUANTILE_METRICS, *CALIBRATION_METRICS]
    parts = []
    for level, by in levels.items():
        table = pd.concat(tables[level], ignore_index=True)
        table = table[[*[MODEL, *by], *[m for m in order if m in table.columns]]]
        group = table[by[0]].astype(str) if by else pd.Series("", index=table.index)
        if by == [CUTOFF]:
            group = pd.to_datetime(table[CUTOFF]).dt.strftime("%Y-%m-%d")
        table[MODEL] = table[MODEL].astype(str)
        long = table.drop(columns=by).assign(level=level, group=group.to_numpy()).melt(
            id_vars=["level", "group", MODEL], var_name="metric", value_name="value")
        parts.append(long)
    return pd.concat(parts, ignore_index=True)[["level", "group", MODEL, "metric", "value"]]


def dataset_data(
    warehouse: Warehouse, dataset: Dataset, filters: Mapping[str, tuple[str, ...]] | None = None
) -> BacktestData:
    """The series of a stored dataset (optionally filtered by key or attribute values)."""
    frame = dataset_frame(warehouse, dataset, Scope(filters=dict(filters or {})))
    frame[DATE] = pd.to_datetime(frame[DATE])
    spec = dataset.spec
    return BacktestData(
        frame=frame, freq=dataset.freq, name=dataset.name, keys=spec.keys, attributes=spec.attributes,
        exog_known=spec.exog_known, orders=spec.orders, stockout=spec.stockout, dataset_id=dataset.dataset_id,
        scope={k: tuple(v) for k, v in (filters or {}).items() if v},
    )
