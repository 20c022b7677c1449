"""The backtest on a Dask cluster: the series sharded across workers, the folds unchanged.

``DaskExecutor(address)`` is a ``core.backtest.engine.FoldExecutor``: ``run_backtest(data,
config, executor=DaskExecutor("tcp://scheduler:8786"))`` cuts the series of ``data`` into
shards (whole series, balanced by rows), sends each shard to the cluster, runs
``forecast_folds`` there on the same folds, and combines the parts as one local run would
have made them (``FoldParts.combine``). Scoring and storing stay with the caller, on the
app's machine, next to the one embedded DuckDB warehouse: workers receive series and
return forecasts, they never open the warehouse.

What is the same as a local run: the folds, the accounting of series left out (a shard
that has no series on a cutoff accounts for them as left out, as the whole data would),
the metrics, the stored run, the forecasts. The models that fit each series on its own
(the rules, ETS, Theta, ARIMA) run per shard. A model fitted across series
(``core.forecast.global_model``: LightGBM, the linear model) is fitted ONCE per fold over
all the series, as locally: each shard builds its part of the fold's design on its worker
(features read only the series' own history), the driver draws the training sample over
every shard's trainable rows (the same draw as a local run's), one worker fits on the parts
put together in the local order (series, then date; categoricals with the local
categories) and forecasts every future row, and each shard finishes its own series from
those values (fallbacks, never sold). One exception: a shard none of whose series has a
value on a cutoff sends no training rows for that fold (locally, series that ended before
the cutoff still train). A model's ``seconds`` are its compute seconds summed over the
shards and the fitting worker, not wall time.

The scheduler's address is ``--scheduler`` on the command line, or ``MITOSHI_DASK_SCHEDULER``
(``scheduler_address``) for the app.
"""

from __future__ import annotations

import heapq
import logging
import os
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from core.backtest import accounting
from core.backtest.engine import (
    BacktestCancelled,
    BacktestConfig,
    BacktestData,
    FoldParts,
    ModelFailedError,
    ModelSpec,
    ModelTiming,
    Progress,
    fold_task,
    forecast_folds,
)
from core.backtest.metrics import CUTOFF, FORECAST, MODEL
from core.columns import DATE, SERIES_ID
from core.errors import MitoshiError
from core.forecast.base import ForecastTask
from core.forecast.features import Design, train_sample
from core.forecast.global_model import GlobalForecaster
from core.forecast.registry import MODELS
from core.i18n import M_, Fmt, Msg, nM_

log = logging.getLogger(__name__)

ENV = "MITOSHI_DASK_SCHEDULER"
CONNECT_SECONDS = 5  # how long to try to reach the scheduler before saying it cannot be reached
POLL_SECONDS = 0.2  # how often ``should_stop`` is asked while the shards run


def scheduler_address() -> str | None:
    """The Dask scheduler the app's backtests run on: ``$MITOSHI_DASK_SCHEDULER``
    (e.g. ``tcp://10.0.0.5:8786``), or None (unset or blank) to run them here."""
    return os.environ.get(ENV, "").strip() or None


def shard_series(frame: pd.DataFrame, shards: int) -> list[np.ndarray]:
    """The series of ``frame`` (long, ``unique_id`` column) cut into at most ``shards`` sets
    of whole series with about the same number of rows each: the longest series first,
    each to the shard with the fewest rows so far (ties: the lowest shard), so that every
    shard holds a cross-section of the data rather than a run of neighbouring ids.

    Returns one array of row positions in ``frame`` per non-empty shard, ascending (each
    shard keeps the frame's order). Raises ``ValueError`` for ``shards < 1``."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, not {shards}")
    codes, _ = pd.factorize(frame[SERIES_ID], sort=False)
    rows = np.bincount(codes)
    shards = min(shards, len(rows))
    load = [(0, k) for k in range(shards)]
    shard_of = np.empty(len(rows), dtype=np.int64)
    for series in np.argsort(-rows, kind="stable"):
        total, k = heapq.heappop(load)
        shard_of[series] = k
        heapq.heappush(load, (total + int(rows[series]), k))
    row_shard = shard_of[codes]
    return [np.flatnonzero(row_shard == k) for k in range(shards)]


@dataclass(frozen=True)
class _Failure:
    """A ``MitoshiError`` raised on a worker, carried back as facts: exceptions with their
    own ``__init__`` (``ModelFailedError``) do not survive pickling as themselves."""

    kind: type[MitoshiError]
    message: str | Msg
    attributes: dict = field(default_factory=dict)
    worker_traceback: str = ""

    def error(self) -> MitoshiError:
        error = self.kind.__new__(self.kind)
        Exception.__init__(error, self.message)
        error.__dict__.update(self.attributes)
        return error


def _task_cores(threads: int) -> int:
    """Cores one task may use on this machine when ``threads`` tasks run at once on it."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // max(1, threads))


def _on_worker(config: BacktestConfig) -> BacktestConfig:
    """LightGBM uses every core of its machine by default; on a worker that runs several
    shards at once, each gets its share (a setting the user gave is kept)."""
    return replace(config, models=tuple(_worker_spec(m) for m in config.models))


def _worker_spec(spec: ModelSpec) -> ModelSpec:
    """``spec`` with LightGBM's threads set to this worker's share of its cores (see ``_on_worker``)."""
    from distributed import get_worker

    if spec.alias != "lgbm":
        return spec
    return ModelSpec.of(spec.alias, **{"n_jobs": _task_cores(get_worker().state.nthreads), **dict(spec.params)})


def _forecast_shard(data: BacktestData, config: BacktestConfig, folds: list[pd.Timestamp],
                    stop_event: str) -> FoldParts | _Failure:
    """Runs on a worker: ``forecast_folds`` on one shard, stopping between models once the
    client sets the run's event. A ``MitoshiError`` comes back as a ``_Failure``."""
    from distributed import Event

    stop = Event(stop_event)
    try:
        return forecast_folds(data, _on_worker(config), folds, should_stop=stop.is_set)
    except MitoshiError as error:
        return _Failure(type(error), error.args[0] if error.args else str(error), dict(error.__dict__),
                        traceback.format_exc())


def is_global(alias: str) -> bool:
    """Whether the model ``alias`` is fitted across series (one model per fold over all of them)."""
    return issubclass(MODELS[alias], GlobalForecaster)


def _model_failed(alias: str, fold: int, folds: int, cutoff: pd.Timestamp, error: Exception) -> ModelFailedError:
    """The ``ModelFailedError`` a local run raises for a model's own fault (``forecast_folds``)."""
    return ModelFailedError(M_(
        "{model} failed on fold {fold}/{folds} (cutoff {cutoff}) with an internal error ({error}). "
        "Nothing was stored. Run the backtest again without {model} (remove it under Models); the "
        "other models are not affected.", model=Fmt("model_name", alias), fold=fold + 1,
        folds=folds, cutoff=f"{cutoff:%Y-%m-%d}", error=f"{type(error).__name__}: {error}"),
        alias, cutoff)


def _failure(error: MitoshiError) -> _Failure:
    return _Failure(type(error), error.args[0] if error.args else str(error), dict(error.__dict__),
                    traceback.format_exc())


DesignKey = tuple  # (lags, windows, training periods, training rows at most): ``GlobalForecaster.design_settings``


@dataclass
class _ShardFold:
    """One shard's fold, kept on its worker between the steps of the global models:
    its task (None: no series of the shard has a value on the cutoff), the rows to score
    (as ``forecast_folds`` makes them), the series it left out, and per design its
    trainable rows per series (``Design.trainable``) with the seconds they took."""

    task: ForecastTask | None
    base: pd.DataFrame | None
    excluded: pd.DataFrame
    keys: dict[str, DesignKey]  # model alias -> its design's settings
    trainable: dict[DesignKey, tuple[np.ndarray, np.ndarray]]
    seconds: dict[DesignKey, float]


@dataclass(frozen=True)
class _DesignPart:
    """A shard's part of a fold's design, with the series of each training and future row."""

    design: Design
    train_ids: np.ndarray
    future_ids: np.ndarray
    seconds: float


@dataclass(frozen=True)
class _Fitted:
    """A global model's one fit of a fold: its forecast of each part's future rows (in the
    part's order), or the fit error every series falls back on; its compute seconds."""

    values: list[np.ndarray] | None
    error: BaseException | None
    seconds: float
    design_seconds: float  # the parts' building, summed over the shards


def _prepare_fold(data: BacktestData, config: BacktestConfig, cutoff: pd.Timestamp) -> _ShardFold | _Failure:
    """Runs on a worker: the fold's task of one shard, and its trainable rows per design.
    ``config`` holds the global models only."""
    frame = data.frame
    spans = accounting.series_spans(frame)
    empty = np.array([], dtype=object)
    if not (frame[DATE] == cutoff).any():
        return _ShardFold(None, None, accounting.left_out(spans, cutoff, empty, empty), {}, {}, {})
    try:
        task, base, left_out = fold_task(data, config, cutoff, spans)  # as ``forecast_folds`` makes it
        fold = _ShardFold(task, base, left_out, {}, {}, {})
        for spec in config.models:
            key = fold.keys[spec.alias] = spec.build().design_settings(task)
            if key not in fold.trainable:
                tic = time.perf_counter()
                fold.trainable[key] = Design.trainable(task, *key[:3])
                fold.seconds[key] = time.perf_counter() - tic
        return fold
    except MitoshiError as error:
        return _failure(error)


def _trainable(fold: _ShardFold | _Failure) -> tuple | _Failure:
    """Runs on a worker: what the driver needs of a shard's fold to draw the training sample
    (designs' settings per model, trainable rows and their seconds per design, the task
    without its rows, the series left out)."""
    if isinstance(fold, _Failure):
        return fold
    context = None if fold.task is None else replace(fold.task, history=fold.task.history.iloc[:0],
                                                     future=fold.task.future.iloc[:0], _cache={})
    return fold.keys, fold.trainable, fold.seconds, context, fold.excluded


def _design_part(fold: _ShardFold, key: DesignKey, keep: np.ndarray | None) -> _DesignPart | _Failure:
    """Runs on a worker: the shard's part of the fold's design, its training rows ``keep``
    (positions among its trainable rows; None: all)."""
    tic = time.perf_counter()
    try:
        design = Design.build(fold.task, *key[:3], keep=keep if keep is not None else np.arange(
            int(fold.trainable[key][1].sum())))
    except MitoshiError as error:
        return _failure(error)
    ids, counts = fold.trainable[key]
    train_ids = np.repeat(ids, counts)
    if keep is not None:
        train_ids = train_ids[keep]
    return _DesignPart(design, train_ids, fold.task.future[SERIES_ID].to_numpy(), time.perf_counter() - tic)


def _assemble(parts: list[_DesignPart], order: pd.Index) -> tuple[Design, list[np.ndarray]]:
    """The parts as one design, rows in the local order (``order``: the series in the
    data's order; a series' rows stay in date order) and each categorical column with the
    categories a local design gives it (the sorted union); and, per part, the positions
    of its future rows in the design's future."""
    trains, futures = [p.design.train for p in parts], [p.design.future for p in parts]
    for column in parts[0].design.train.columns:
        if isinstance(trains[0][column].dtype, pd.CategoricalDtype):
            known = np.concatenate([np.asarray(f[column].cat.categories, dtype=object) for f in (*trains, *futures)])
            categories = pd.factorize(pd.Series(known), sort=True)[1]  # as ``Design.build`` sorts them
            trains = [t.assign(**{column: t[column].cat.set_categories(categories)}) for t in trains]
            futures = [f.assign(**{column: f[column].cat.set_categories(categories)}) for f in futures]

    def in_order(frames: list[pd.DataFrame], ids: list[np.ndarray]) -> tuple[pd.DataFrame, np.ndarray]:
        rows = np.argsort(order.get_indexer(np.concatenate(ids)), kind="stable")
        return pd.concat(frames, ignore_index=True).iloc[rows].reset_index(drop=True), rows

    train, train_rows = in_order(trains, [p.train_ids for p in parts])
    future, future_rows = in_order(futures, [p.future_ids for p in parts])
    target = np.concatenate([p.design.target for p in parts])[train_rows]
    at = np.empty(len(future_rows), dtype=np.int64)
    at[future_rows] = np.arange(len(future_rows))  # where each part's row went
    bounds = np.cumsum([0, *(len(f) for f in futures)])
    return (Design(train=train, target=target, future=future, kinds=parts[0].design.kinds),
            [at[bounds[k]:bounds[k + 1]] for k in range(len(parts))])


def _fit_global(spec: ModelSpec, context: ForecastTask, parts: list[_DesignPart | _Failure],
                order: pd.Index) -> _Fitted | _Failure | Exception:
    """Runs on one worker: the model of ``spec`` fitted once on the shards' design parts put
    together, its forecast of every part's future rows. A fit error (every series falls
    back) comes back in ``_Fitted``, a ``MitoshiError`` as a ``_Failure``, the model's own
    fault as the exception."""
    failed = [p for p in parts if isinstance(p, _Failure)]
    if failed:
        return failed[0]
    model = _worker_spec(spec).build()
    design_seconds = sum(p.seconds for p in parts)
    tic = time.perf_counter()
    design, positions = _assemble(parts, order)
    try:
        values = model.fit_predict(design, context)
    except model.fit_errors as error:
        return _Fitted(None, error, time.perf_counter() - tic, design_seconds)
    except MitoshiError as error:
        return _failure(error)
    except Exception as error:  # noqa: BLE001 - the driver names the model and the fold
        log.exception("%s failed on the fold with cutoff %s", spec.alias, context.cutoff)
        return error
    return _Fitted([values[at] for at in positions], None, time.perf_counter() - tic, design_seconds)


def _finish_fold(fold: _ShardFold, config: BacktestConfig, fitted: list[_Fitted],
                 part: int) -> FoldParts | _Failure | tuple[str, Exception]:
    """Runs on a worker: the global models' forecasts of one shard's fold (which has series
    on the cutoff) from their one fit each (``part``: the shard's place among the fit's
    parts), as ``forecast_folds`` gives them; no series left out (see ``_trainable``)."""
    scored_parts, timings, fallbacks = [], [], []
    for spec, fit in zip(config.models, fitted, strict=True):
        model = spec.build()
        tic = time.perf_counter()
        try:
            forecast, fell_back = model.forecast_predicted(fold.task, fit.error if fit.error is not None
                                                           else fit.values[part])
        except MitoshiError as error:
            return _failure(error)
        except Exception as error:  # noqa: BLE001 - the driver names the model and the fold
            log.exception("%s failed on the fold with cutoff %s", spec.alias, fold.task.cutoff)
            return spec.alias, error
        timings.append(ModelTiming(spec.alias, fold.task.cutoff, time.perf_counter() - tic,
                                   len(fold.task.series_ids)))
        rows = accounting.fallback_rows(spec.alias, fold.task.cutoff, fell_back)
        if rows is not None:
            fallbacks.append(rows)
        scored = fold.base.copy()
        scored[MODEL] = spec.alias
        scored[FORECAST] = forecast[FORECAST].to_numpy()
        scored_parts.append(scored)
    return FoldParts(pd.concat(scored_parts, ignore_index=True), tuple(timings), accounting.empty_excluded(),
                     pd.concat(fallbacks, ignore_index=True) if fallbacks else accounting.empty_fallbacks())


def _global_keeps(trainable: list[tuple[np.ndarray, np.ndarray] | None], order: pd.Index, max_rows: int | None,
                  seed: int) -> list[np.ndarray | None]:
    """Per shard, the positions among its trainable rows that a local run's sample takes
    (``train_sample`` over every shard's rows in the local order: series in the data's
    order, then date); None for every shard when every row is kept."""
    ids = [t[0] if t is not None else np.array([], dtype=object) for t in trainable]
    counts = [t[1] if t is not None else np.array([], dtype=np.int64) for t in trainable]
    total = int(sum(c.sum() for c in counts))
    sample = train_sample(total, max_rows, seed)
    if sample is None:
        return [None] * len(trainable)
    shard = np.repeat(np.arange(len(ids)), [len(i) for i in ids])
    start_in_shard = np.concatenate([np.cumsum(c) - c for c in counts])  # first trainable row of each series
    every = np.concatenate(counts)
    series = np.argsort(order.get_indexer(np.concatenate(ids)), kind="stable")  # the local order
    start = np.cumsum(every[series]) - every[series]  # ... and each series' first row in it
    at = np.searchsorted(start, sample, side="right") - 1
    which = series[at]
    position = start_in_shard[which] + (sample - start[at])
    return [np.sort(position[shard[which] == k]) for k in range(len(ids))]


class DaskExecutor:
    """Runs a backtest's folds on the Dask cluster at ``address`` (``tcp://host:port``).

    ``shards``: how many sets of whole series the data is cut into (default: the
    cluster's threads, asked when a run starts; never more than the series). Connecting
    happens here, at once: a scheduler that cannot be reached within ``CONNECT_SECONDS``
    raises ``MitoshiError`` naming the address. Use as a context manager, or ``close()``.

    ``forecast`` raises what a local run raises: ``ModelFailedError`` and every other
    ``MitoshiError`` of a worker as themselves, ``BacktestCancelled`` when ``should_stop``
    says so (the shards are cancelled and stop at their next model); a worker lost
    (killed, out of memory) or the scheduler lost raises ``MitoshiError``.
    """

    def __init__(self, address: str, shards: int | None = None) -> None:
        from distributed import Client

        if shards is not None and shards < 1:
            raise MitoshiError(M_("The number of shards must be at least 1; got {shards}.", shards=shards))
        self.address, self.shards = address, shards
        try:
            self.client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            log.info("Dask scheduler %s not reached: %s", address, error)
            raise MitoshiError(M_(
                "The Dask scheduler at {address} could not be reached within {seconds} s. Start it there "
                "(dask scheduler) with workers (dask worker {address}), correct the address (--scheduler or "
                "MITOSHI_DASK_SCHEDULER, e.g. tcp://10.0.0.5:8786), or leave it unset to run the backtest on "
                "this machine.", address=address, seconds=CONNECT_SECONDS)) from None

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def threads(self) -> int:
        """Threads of the cluster's workers now (0: no worker)."""
        return sum(self.client.nthreads().values())

    def forecast(self, data: BacktestData, config: BacktestConfig, folds: list[pd.Timestamp],
                 on_progress: Callable[[Progress], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> FoldParts:
        """``forecast_folds`` of ``data`` on the cluster, as one local run would return it:
        the models fitted per series run per shard, each global model is fitted once per
        fold over all the shards (see the module). Progress is counted in shards done (the
        per-series models) and global models' folds done."""
        from distributed import Event

        threads = self.threads()
        if not threads:
            raise MitoshiError(M_(
                "The Dask scheduler at {address} has no workers. Start some on the machines that should run the "
                "models (dask worker {address}), with the same code and requirements as this app.",
                address=self.address))
        positions = shard_series(data.frame, self.shards or threads)
        local_specs = tuple(m for m in config.models if not is_global(m.alias))
        global_specs = tuple(m for m in config.models if is_global(m.alias))
        total = (len(positions) if local_specs else 0) + len(folds) * len(global_specs)
        stop = Event(f"mitoshi-stop-{uuid.uuid4().hex}", client=self.client)
        if on_progress:
            on_progress(Progress(0, total, nM_(
                "{series} series sent in {shards} shard to the Dask cluster at {address}",
                "{series} series sent in {shards} shards to the Dask cluster at {address}", "shards",
                series=f"{data.frame[SERIES_ID].nunique():,}", shards=len(positions), address=self.address)))
        run = _Run(self, should_stop, on_progress, total, len(positions))
        try:
            shards = [replace(data, frame=data.frame.iloc[rows].reset_index(drop=True)) for rows in positions]
            # One scattered shard per future: each task runs where its shard already is.
            sent = self.client.scatter(shards, hash=False)
            run.futures.extend(sent)
            del shards
            local = []
            if local_specs:
                local = [run.submit(_forecast_shard, shard, replace(config, models=local_specs), folds, stop.name)
                         for shard in sent]
                run.count_shards(local)
            parts, excluded = [], []
            if global_specs:
                order = pd.Index(pd.unique(data.frame[SERIES_ID]))  # the local order of the series
                for f, cutoff in enumerate(folds):
                    fold_parts, fold_excluded = run.global_fold(sent, replace(config, models=global_specs), order,
                                                                folds, f)
                    parts += fold_parts
                    excluded += fold_excluded
            parts = run.results(local) + parts
        except Exception as error:
            self._stop_run(run, stop)
            if isinstance(error, MitoshiError) or "No module named" not in str(error):
                raise
            # The workers (or the scheduler) were started where Mitoshi's code cannot be imported.
            raise MitoshiError(M_(
                "The Dask cluster at {address} cannot import Mitoshi's code ({error}); nothing was stored. Start the "
                "scheduler and the workers from a checkout of the same version with PYTHONPATH set to it (see the "
                "README, Beyond one machine: Dask).", address=self.address,
                error=str(error).splitlines()[0][:200])) from error
        except BaseException:
            self._stop_run(run, stop)
            raise
        stop.clear()  # nothing reads it any more: the scheduler forgets it
        self.client.cancel(run.futures)
        combined = FoldParts.combine(parts, folds, tuple(m.alias for m in config.models))
        if local_specs:
            return combined
        frames = [e for e in excluded if not e.empty]  # no per-series model accounted for them
        return replace(combined, excluded=pd.concat(frames, ignore_index=True).sort_values(
            [CUTOFF, SERIES_ID], kind="stable").reset_index(drop=True) if frames else accounting.empty_excluded())

    def _stop_run(self, run: _Run, stop) -> None:
        if run.running():  # the event stays set: a running shard stops at its next model, a waiting one never starts
            stop.set()
        # every future of the run, done or not: the traceback holding them must not keep them on the cluster
        self.client.cancel(run.futures)

    def _part(self, future) -> FoldParts | _Failure:
        """A finished shard's parts; a lost worker or scheduler as a ``MitoshiError``."""
        from distributed import KilledWorker
        from distributed.comm import CommClosedError

        try:
            return future.result()
        except KilledWorker as error:
            raise MitoshiError(M_(
                "A Dask worker died while running a shard of the backtest ({error}); nothing was stored. It is "
                "often out of memory: give the workers more memory, or cut the series into more shards.",
                error=str(error))) from error
        except (CommClosedError, OSError) as error:
            raise MitoshiError(M_(
                "The connection to the Dask scheduler at {address} was lost during the backtest ({error}); nothing "
                "was stored. Check that the scheduler is running, then run the backtest again.",
                address=self.address, error=str(error))) from error


class _Run:
    """One backtest's futures on the cluster, its progress and its stop."""

    def __init__(self, executor: DaskExecutor, should_stop: Callable[[], bool] | None,
                 on_progress: Callable[[Progress], None] | None, total: int, shards: int) -> None:
        self.executor, self.should_stop, self.on_progress = executor, should_stop, on_progress
        self.total, self.shards, self.done = total, shards, 0
        self.futures: list = []  # every future of the run, to cancel
        self._counted: set = set()  # the per-series models' shards, counted as they finish
        self._shards_done = 0

    def submit(self, function: Callable, *args: object):
        future = self.executor.client.submit(function, *args, pure=False,
                                             key=f"mitoshi-{function.__name__.strip('_')}-{uuid.uuid4().hex}")
        self.futures.append(future)
        return future

    def running(self) -> bool:
        return any(not future.done() for future in self.futures)

    def count_shards(self, futures: list) -> None:
        self._counted |= set(futures)

    def _progress(self, message: Msg) -> None:
        if self.on_progress:
            self.on_progress(Progress(self.done, self.total, message))

    def results(self, futures: list) -> list:
        """The futures' results in their order, once all are done; a ``_Failure`` raised as
        its error; ``BacktestCancelled`` when the run is to stop. Counts shards as they finish."""
        while True:
            if self.should_stop is not None and self.should_stop():
                raise BacktestCancelled(M_("The backtest was stopped; nothing was stored."))
            for future in [f for f in self._counted if f.done()]:
                self._result(future)  # a failed shard stops the run at once
                self._counted.discard(future)
                self.done += 1
                self._shards_done += 1
                self._progress(M_("{done}/{shards} shards done on the Dask cluster", done=self._shards_done,
                                  shards=self.shards))
            if all(future.done() for future in futures):
                return [self._result(future) for future in futures]
            time.sleep(POLL_SECONDS)

    def _result(self, future):
        result = self.executor._part(future)
        if isinstance(result, _Failure):
            log.error("A shard failed on the Dask cluster at %s:\n%s", self.executor.address, result.worker_traceback)
            raise result.error()
        return result

    def global_fold(self, sent: list, config: BacktestConfig, order: pd.Index, folds: list[pd.Timestamp],
                    f: int) -> tuple[list[FoldParts], list[pd.DataFrame]]:
        """The global models of ``config`` on fold ``f``: one fit each over every shard's
        design part. Returns the shards' parts and the series each shard left out."""
        cutoff = folds[f]
        prepared = [self.submit(_prepare_fold, shard, config, cutoff) for shard in sent]
        summaries = self.results([self.submit(_trainable, fold) for fold in prepared])
        excluded = [summary[4] for summary in summaries]
        active = [k for k, summary in enumerate(summaries) if summary[3] is not None]
        if not active:  # never for the whole data: ``run_backtest`` checks the cutoffs
            return [], excluded
        keys, context = summaries[active[0]][0], summaries[active[0]][3]
        designs, counting = {}, {}
        for key in dict.fromkeys(keys.values()):
            keeps = _global_keeps([summaries[k][1][key] for k in active], order, key[3], config.seed)
            designs[key] = [self.submit(_design_part, prepared[k], key, keep) for k, keep in zip(active, keeps)]
            counting[key] = sum(summaries[k][2][key] for k in active)
        fits = [self.submit(_fit_global, spec, context, designs[keys[spec.alias]], order) for spec in config.models]
        fitted = self.results(fits)
        for spec, fit in zip(config.models, fitted, strict=True):
            if isinstance(fit, BaseException):
                raise _model_failed(spec.alias, f, len(folds), cutoff, fit)
        finished = self.results([self.submit(_finish_fold, prepared[k], config, fits, i)
                                 for i, k in enumerate(active)])
        parts = []
        for part in finished:
            if isinstance(part, tuple):
                raise _model_failed(part[0], f, len(folds), cutoff, part[1])
            parts.append(part)
        # the fit, its design and the counting of its rows: charged to the model, as a local run charges them
        extra = {spec.alias: fit.seconds + fit.design_seconds + counting[keys[spec.alias]]
                 for spec, fit in zip(config.models, fitted, strict=True)}
        parts[0] = replace(parts[0], timings=tuple(replace(t, seconds=t.seconds + extra[t.model])
                                                   for t in parts[0].timings))
        self.executor.client.cancel([*prepared, *(d for ds in designs.values() for d in ds), *fits])
        self.done += len(config.models)
        self._progress(M_("fold {fold}/{folds}: {models} fitted once over all shards on the Dask cluster",
                          fold=f + 1, folds=len(folds), models=", ".join(m.alias for m in config.models)))
        return parts, excluded


__all__ = ["ENV", "DaskExecutor", "is_global", "scheduler_address", "shard_series"]
