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
the metrics, the stored run. The models that fit each series on its own (the rules, ETS,
Theta, ARIMA) give the same forecasts; a model fitted across series (LightGBM, the linear
model) is fitted once per shard, on that shard's series — see the README's section on Dask
for how its accuracy compares with one model over all series. A model's ``seconds`` are
its compute seconds summed over the shards, not wall time.

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

from core.backtest.engine import (
    BacktestCancelled,
    BacktestConfig,
    BacktestData,
    FoldParts,
    ModelSpec,
    Progress,
    forecast_folds,
)
from core.columns import SERIES_ID
from core.errors import MitoshiError
from core.i18n import M_, Msg

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
    from distributed import get_worker

    cores = _task_cores(get_worker().state.nthreads)
    models = tuple(ModelSpec.of(m.alias, **{"n_jobs": cores, **dict(m.params)}) if m.alias == "lgbm" else m
                   for m in config.models)
    return replace(config, models=models)


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
        """``forecast_folds`` of ``data`` on the cluster, as one local run would return it.
        Progress is counted in shards done."""
        from distributed import Event

        threads = self.threads()
        if not threads:
            raise MitoshiError(M_(
                "The Dask scheduler at {address} has no workers. Start some on the machines that should run the "
                "models (dask worker {address}), with the same code and requirements as this app.",
                address=self.address))
        positions = shard_series(data.frame, self.shards or threads)
        total = len(positions)
        stop = Event(f"mitoshi-stop-{uuid.uuid4().hex}", client=self.client)
        if on_progress:
            on_progress(Progress(0, total, M_(
                "{series} series sent in {shards} shards to the Dask cluster at {address}",
                series=f"{data.frame[SERIES_ID].nunique():,}", shards=total, address=self.address)))
        pending: set = set()
        sent: list = []
        futures: list = []
        try:
            shards = [replace(data, frame=data.frame.iloc[rows].reset_index(drop=True)) for rows in positions]
            # One scattered shard per future: each task runs where its shard already is.
            sent = self.client.scatter(shards, hash=False)
            del shards
            futures = [self.client.submit(_forecast_shard, shard, config, folds, stop.name, pure=False,
                                          key=f"mitoshi-shard-{k}-{uuid.uuid4().hex}")
                       for k, shard in enumerate(sent)]
            index = {future.key: k for k, future in enumerate(futures)}
            pending, parts, done = set(futures), {}, 0
            while pending:
                if should_stop is not None and should_stop():
                    raise BacktestCancelled(M_("The backtest was stopped; nothing was stored."))
                finished = {future for future in pending if future.done()}
                if not finished:
                    time.sleep(POLL_SECONDS)
                    continue
                pending -= finished
                for future in finished:
                    part = self._part(future)
                    if isinstance(part, _Failure):
                        log.error("A shard failed on the Dask cluster at %s:\n%s", self.address,
                                  part.worker_traceback)
                        raise part.error()
                    parts[index[future.key]] = part
                    done += 1
                    if on_progress:
                        on_progress(Progress(done, total, M_(
                            "{done}/{shards} shards done on the Dask cluster", done=done, shards=total)))
        except BaseException:
            if pending:  # the event stays set: a running shard stops at its next model, a waiting one never starts
                stop.set()
            # every future of the run, done or not: the traceback holding them must not keep them on the cluster
            self.client.cancel([*futures, *sent])
            raise
        stop.clear()  # nothing reads it any more: the scheduler forgets it
        return FoldParts.combine([parts[k] for k in range(total)], folds, tuple(m.alias for m in config.models))

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


__all__ = ["ENV", "DaskExecutor", "scheduler_address", "shard_series"]
