"""The job runner: one per warehouse, one job at a time, each in a worker process.

The runner's thread only waits: for a queued job, for its worker process (reading the
progress the worker writes into the job's folder), and then stores what the worker made in
one transaction. The work itself — minutes of forecasting — runs in the worker process
(``core.jobs.worker``), started with ``subprocess`` so that it shares no memory, no lock and
no DuckDB connection with the app: DuckDB lets one process write a file, and that process
is the app.
"""

from __future__ import annotations

import atexit
import importlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd

from core.errors import MitoshiError, WarehouseError
from core.i18n import M_, Msg, language
from core.jobs import store
from core.warehouse import Warehouse, read_text

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]  # the folder holding ``core``: the worker's working directory
OUT = "out.duckdb"  # what a worker made, copied into the warehouse when it is done
Report = Callable[[float, "str | Msg"], None]  # share done (0..1), what is being done


class JobState(StrEnum):
    QUEUED = store.QUEUED
    RUNNING = store.RUNNING
    DONE = store.DONE
    FAILED = store.FAILED
    CANCELLED = store.CANCELLED


ACTIVE = (JobState.QUEUED, JobState.RUNNING)
FINISHED = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class JobKind(Protocol):
    """A kind of long work, offered by a step (``core.backtest.job.BACKTEST``).

    ``name`` is kept in the jobs table; ``target`` ("module:attribute") is how the worker
    process finds the kind; ``tables`` name (or match, "run_*") the tables of the worker's DuckDB file copied
    into the warehouse when the job is done (tables the worker did not make are skipped).
    ``prepare`` runs in the app: it writes into ``folder`` what the worker will read (the
    worker cannot open the warehouse while the app holds it). ``work`` runs in the worker:
    it writes its results into a warehouse file at ``folder / OUT``, reports progress with
    ``report(done, message)``, stops (raising) when ``should_stop()`` says so, and returns
    the result's id (a run id) and a message saying what was made.
    """

    name: str
    target: str
    tables: tuple[str, ...]

    def prepare(self, warehouse: Warehouse, params: Mapping, folder: Path) -> None: ...

    def work(self, params: Mapping, folder: Path, report: Report,
             should_stop: Callable[[], bool]) -> tuple[str, str | Msg]: ...


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str
    title: str | Msg
    params: dict
    state: JobState
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    done: float  # share of the work done, 0..1
    message: str | Msg  # what it is doing; why it failed; what it made
    result: str | None  # e.g. the run id of a finished backtest
    language: str = "en"  # the language of the session that queued it, which its worker speaks

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def seconds(self, now: datetime | None = None) -> float | None:
        """Seconds it has run (or ran); None while queued."""
        if self.started_at is None:
            return None
        end = self.finished_at or now or datetime.now()
        return max(0.0, (end - self.started_at).total_seconds())

    @classmethod
    def from_row(cls, row: pd.Series) -> Job:
        def when(value: object) -> datetime | None:
            return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()

        return cls(job_id=row["job_id"], kind=row["kind"], title=read_text(row["title"]),
                   params=json.loads(row["params"]), state=JobState(row["state"]),
                   created_at=pd.Timestamp(row["created_at"]).to_pydatetime(), started_at=when(row["started_at"]),
                   finished_at=when(row["finished_at"]), done=float(row["done"]),
                   message=read_text(row["message"]), result=None if pd.isna(row["result"]) else row["result"],
                   language=row["language"])


_RUNNERS: weakref.WeakSet[JobRunner] = weakref.WeakSet()
atexit.register(lambda: JobRunner.close_all())

STOPPED_WITH_APP = M_("Mitoshi stopped while this job ran, so it did not finish; nothing of it was stored. "
                      "Start it again.")


class JobRunner:
    """Runs the warehouse's queued jobs, one at a time, each in a worker process.

    ``kinds``: the kinds it can run, by name. ``folder``: where each job gets a folder while
    it runs (default: ``<warehouse>.jobs`` beside the warehouse file). ``poll``: seconds
    between looks at a running worker. Jobs left running by an app that stopped are marked
    failed when a runner starts; queued ones are run.
    """

    def __init__(self, warehouse: Warehouse, kinds: Iterable[JobKind], folder: Path | None = None,
                 poll: float = 0.3) -> None:
        self.warehouse = warehouse
        self.kinds = {kind.name: kind for kind in kinds}
        base = Path(warehouse.path)
        self.folder = Path(folder) if folder else base.with_name(f"{base.name}.jobs")
        self.poll = poll
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        self._cancel: set[str] = set()
        self._storing: str | None = None
        self._process: subprocess.Popen | None = None
        store.fail_orphans(warehouse, STOPPED_WITH_APP)
        self._clear_folders(keep={j.job_id for j in self.jobs() if j.state is JobState.QUEUED})
        self._thread = threading.Thread(target=self._loop, name="mitoshi-jobs", daemon=True)
        self._thread.start()
        _RUNNERS.add(self)

    @staticmethod
    def close_all() -> None:
        """Close every runner of this process (at exit: no worker outlives the app)."""
        for runner in list(_RUNNERS):
            runner.close()

    # ---- what the app calls ----
    def submit(self, kind: str, params: Mapping, title: str | Msg) -> str:
        """Queue a job; returns its id. It starts when the jobs before it are finished, and
        speaks the language current now (what it names and notes, e.g. a run's default name)."""
        if kind not in self.kinds:
            raise MitoshiError(M_("Unknown kind of job '{kind}'.", kind=kind))
        job_id = store.insert_job(self.warehouse, kind, title, dict(params), language())
        self._wake.set()
        return job_id

    def cancel(self, job_id: str) -> bool:
        """Stop a queued or running job; nothing of it is stored. False when it had already
        finished or its results are being stored."""
        with self._lock:
            if self._storing == job_id:
                return False
            if store.end_job(self.warehouse, job_id, store.CANCELLED, M_("Cancelled; nothing was stored."),
                             (store.QUEUED,)):
                return True
            if self.get(job_id).state is JobState.RUNNING:
                self._cancel.add(job_id)
                self._wake.set()
                return True
        return False

    def get(self, job_id: str) -> Job:
        rows = store.job_row(self.warehouse, job_id)
        if rows.empty:
            raise WarehouseError(M_("No job with id '{job_id}'.", job_id=job_id))
        return Job.from_row(rows.iloc[0])

    def jobs(self, kind: str | None = None, limit: int = 50) -> list[Job]:
        """The warehouse's jobs, newest first."""
        return [Job.from_row(row) for _, row in store.job_rows(self.warehouse, kind, limit).iterrows()]

    def wait(self, job_id: str, timeout: float = 600.0) -> Job:
        """The job once it has finished (or as it is after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if not job.active or time.monotonic() > deadline:
                return job
            time.sleep(min(self.poll, 0.2))

    def close(self) -> None:
        """Stop the runner; a running job is stopped and marked failed."""
        _RUNNERS.discard(self)
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
        self._thread.join(timeout=10)

    # ---- the runner's thread ----
    def _loop(self) -> None:
        while not self._closed:
            try:
                rows = store.oldest_queued(self.warehouse)
            except duckdb.Error:  # the warehouse was closed under us: nothing more to run
                return
            if rows.empty:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            job = Job.from_row(rows.iloc[0])
            try:
                self._run(job)
            except duckdb.ConnectionException:
                return
            except Exception:  # never let one job stop the runner: it is failed with its reason
                log.exception("Job %s stopped on an unexpected error", job.job_id)
                try:
                    store.end_job(self.warehouse, job.job_id, store.FAILED, M_(
                        "The job stopped on an unexpected error in Mitoshi; nothing was stored. Start it again."),
                        (store.RUNNING, store.QUEUED))
                except duckdb.Error:
                    return

    def _run(self, job: Job) -> None:
        kind = self.kinds.get(job.kind)
        if kind is None:
            store.end_job(self.warehouse, job.job_id, store.FAILED,
                          M_("This app cannot run jobs of kind '{kind}'.", kind=job.kind), (store.QUEUED,))
            return
        if not store.start_job(self.warehouse, job.job_id, f"{socket.gethostname()}:{os.getpid()}"):
            return  # cancelled while queued
        folder = self.folder / job.job_id
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        try:
            self._prepare_and_watch(job, kind, folder)
        finally:
            self._process = None
            with self._lock:
                self._cancel.discard(job.job_id)
                self._storing = None
            shutil.rmtree(folder, ignore_errors=True)

    def _prepare_and_watch(self, job: Job, kind: JobKind, folder: Path) -> None:
        try:
            store.set_progress(self.warehouse, job.job_id, 0.0, M_("Preparing the data…"))
            kind.prepare(self.warehouse, job.params, folder)
        except MitoshiError as error:
            self._fail(job.job_id, error.args[0] if len(error.args) == 1 else str(error))
            return
        (folder / "job.json").write_text(json.dumps({"target": kind.target, "params": job.params,
                                                     "language": job.language}), encoding="utf-8")
        store.set_progress(self.warehouse, job.job_id, 0.0, M_("Starting the worker process…"))
        with open(folder / "worker.log", "wb") as output:
            self._process = process = subprocess.Popen(
                [sys.executable, "-m", "core.jobs.worker", str(folder)], cwd=ROOT, stdout=output,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                            os.environ.get("PYTHONPATH")]))})
        seen = None
        asked_to_stop = None
        while process.poll() is None:
            if self._closed:
                process.kill()
                process.wait()
                self._fail(job.job_id, STOPPED_WITH_APP)
                return
            if job.job_id in self._cancel:
                if asked_to_stop is None:  # a worker between two steps stops by itself and cleanly
                    (folder / "cancel").touch()
                    asked_to_stop = time.monotonic()
                elif time.monotonic() - asked_to_stop > 5:
                    process.send_signal(signal.SIGKILL)
            seen = self._progress(job.job_id, folder, seen)
            self._wake.wait(self.poll)
            self._wake.clear()
        if self._closed:
            self._fail(job.job_id, STOPPED_WITH_APP)
            return
        with self._lock:
            if job.job_id in self._cancel:
                store.end_job(self.warehouse, job.job_id, store.CANCELLED, M_("Cancelled; nothing was stored."),
                              (store.RUNNING,))
                return
            self._storing = job.job_id
        outcome = _read_json(folder / "result.json")
        if process.returncode == 0 and outcome is not None:
            store.set_progress(self.warehouse, job.job_id, 0.99, M_("Storing the results…"))
            try:
                store.store_outcome(self.warehouse, job.job_id, folder / OUT, kind.tables, outcome["result"],
                                    read_text(outcome["message"]), getattr(kind, "store", None))
            except (duckdb.Error, MitoshiError) as error:
                log.exception("Storing job %s failed", job.job_id)
                self._fail(job.job_id, M_("The results could not be stored, and nothing of them was: {error}",
                                          error=str(error).splitlines()[0]))
            return
        failure = _read_json(folder / "error.json")
        if failure is not None:
            self._fail(job.job_id, read_text(failure["message"]))
            return
        self._fail(job.job_id, _death(process.returncode, folder / "worker.log"))

    def _progress(self, job_id: str, folder: Path, seen: tuple | None) -> tuple | None:
        progress = _read_json(folder / "progress.json")
        if progress is None:
            return seen
        now = (progress["done"], progress["message"])
        if now != seen:
            store.set_progress(self.warehouse, job_id, progress["done"], read_text(progress["message"]))
        return now

    def _fail(self, job_id: str, message: str | Msg) -> None:
        store.end_job(self.warehouse, job_id, store.FAILED, message, (store.RUNNING,))

    def _clear_folders(self, keep: set[str]) -> None:
        if self.folder.is_dir():
            for child in self.folder.iterdir():
                if child.name not in keep:
                    shutil.rmtree(child, ignore_errors=True)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _death(code: int | None, log_file: Path) -> Msg:
    """Why a worker stopped without a word: killed (the system's memory), or an exit code."""
    try:
        last = [line for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        last = []
    detail = last[-1][:300] if last else ""
    if code is not None and code < 0:
        return M_("The worker process was killed (signal {signal}), most often because the machine ran out of "
                  "memory; nothing was stored. Narrow the scope (fewer stores or items) or choose fewer models, "
                  "and start it again. {detail}", signal=-code, detail=detail)
    return M_("The worker process stopped (exit code {code}) before it finished; nothing was stored. {detail}",
              code=code, detail=detail)


def load_kind(target: str) -> JobKind:
    """The kind a worker runs: ``"module:attribute"``."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)
