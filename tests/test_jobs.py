"""Long work as jobs: queued, run in a worker process, stored in one transaction, cancelled,
failed with a reason — and nothing half-written either way."""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
from core.backtest.job import BACKTEST, backtest_params, job_title
from core.backtest.splits import SplitConfig
from core.backtest.store import get_run, run_metrics, save_run
from core.handoff.batch import PublishOptions, prepare_batch
from core.handoff.job import PUBLISH, publish_params
from core.handoff.job import job_title as publish_title
from core.handoff.store import batch_forecasts, publish_batch
from core.errors import MitoshiError
from core.i18n import M_, render
from core.jobs import JobRunner, JobState
from core.jobs import store as jobs_store
from core.jobs.runner import OUT, STOPPED_WITH_APP
from core.warehouse import Warehouse
from tests.conftest import small_frame

WAIT = 120


@dataclass(frozen=True)
class SlowJob:
    """A test kind: counts to ``params["steps"]``, a step each 0.1 s, reporting progress;
    ``params["then"]`` says how it ends: "done" (a run row), "error", "die" (killed)."""

    name: str = "slow"
    target: str = "tests.test_jobs:SLOW"
    tables: tuple[str, ...] = ("runs",)

    def prepare(self, warehouse, params, folder: Path) -> None:
        (folder / "prepared").write_text("yes")

    def work(self, params, folder: Path, report, should_stop):
        assert (folder / "prepared").read_text() == "yes"
        steps = params["steps"]
        for step in range(steps):
            if should_stop():
                raise MitoshiError(M_("The backtest was stopped; nothing was stored."))
            report(step / steps, f"step {step}")
            time.sleep(0.1)
        if params["then"] == "error":
            raise MitoshiError(M_("No series has data on the cutoff {cutoff}: use fewer folds or a smaller step.",
                                  cutoff="2025-01-01"))
        if params["then"] == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        out = Warehouse(folder / OUT)
        try:
            with out.transaction() as cur:
                cur.execute("INSERT INTO runs (run_id, name, dataset_id, dataset_name, fingerprint, code_version, freq, "
                            "config, scope, n_series, wall_seconds, created_at) VALUES (?, ?, NULL, 'd', 'f', 'c', "
                            "'D', '{}', '{}', 1, 0.1, now())", [params["run_id"], params["run_id"]])
        finally:
            out.close()
        return params["run_id"], "made one run"


SLOW = SlowJob()


@pytest.fixture
def runner(warehouse):
    runner = JobRunner(warehouse, [BACKTEST, PUBLISH, SLOW], poll=0.05)
    yield runner
    runner.close()


def wait_until(condition, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def run_ids(warehouse: Warehouse) -> list[str]:
    return list(warehouse.query("SELECT run_id FROM runs ORDER BY run_id")["run_id"])


def test_a_backtest_job_stores_the_run_the_engine_makes(warehouse, small_spec, runner):
    dataset = warehouse.create_dataset(small_spec, small_frame(stores=2, items=3, days=70))
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=2), models=(ModelSpec.of("naive"),
                                                                             ModelSpec.of("ma")))
    job_id = runner.submit(BACKTEST.name, backtest_params(dataset.dataset_id, {"store": ("S1",)}, config, "by job"),
                           job_title(dataset.name, config))
    job = runner.wait(job_id, WAIT)
    assert job.state is JobState.DONE, render(job.message)
    assert job.done == 1.0 and job.started_at is not None and job.finished_at >= job.started_at
    run = get_run(warehouse, job.result)
    assert run.name == "by job" and run.n_series == 3 and run.scope == {"store": ["S1"]}
    # the same run as the engine makes here, on the same series: fingerprint, metrics
    local = run_backtest(dataset_data(warehouse, dataset, {"store": ("S1",)}), config)
    assert run.fingerprint == local.fingerprint
    stored = run_metrics(warehouse, job.result, "overall").set_index(["model", "metric"])["value"]
    expected = local.metrics[local.metrics["level"] == "overall"].set_index(["model", "metric"])["value"]
    pd.testing.assert_series_equal(stored.sort_index(), expected.sort_index(), check_names=False, rtol=1e-9)
    assert not any(runner.folder.iterdir()), "the job's folder is removed once it is stored"


def test_jobs_run_one_at_a_time_in_the_order_they_were_queued(warehouse, runner):
    first = runner.submit("slow", {"steps": 15, "then": "done", "run_id": "r1"}, "first")
    second = runner.submit("slow", {"steps": 1, "then": "done", "run_id": "r2"}, "second")
    wait_until(lambda: runner.get(first).state is JobState.RUNNING)
    assert runner.get(second).state is JobState.QUEUED
    wait_until(lambda: runner.get(first).done > 0)
    assert render(runner.get(first).message).startswith("step ")
    assert runner.wait(second).state is JobState.DONE
    one, two = runner.get(first), runner.get(second)
    assert one.finished_at <= two.started_at
    assert run_ids(warehouse) == ["r1", "r2"]
    assert [j.job_id for j in runner.jobs()] == [second, first]  # newest first


def test_a_cancelled_job_stores_nothing_and_the_next_one_runs(warehouse, runner):
    running = runner.submit("slow", {"steps": 600, "then": "done", "run_id": "never"}, "long")
    queued = runner.submit("slow", {"steps": 600, "then": "done", "run_id": "never either"}, "queued")
    after = runner.submit("slow", {"steps": 1, "then": "done", "run_id": "after"}, "after")
    wait_until(lambda: runner.get(running).done > 0)
    assert runner.cancel(queued)
    assert runner.get(queued).state is JobState.CANCELLED
    assert runner.cancel(running)
    assert runner.wait(running, 30).state is JobState.CANCELLED
    assert runner.wait(after).state is JobState.DONE
    assert run_ids(warehouse) == ["after"]
    assert not runner.cancel(after)  # finished: nothing to stop


def test_a_job_that_fails_says_why_and_stores_nothing(warehouse, runner):
    job = runner.wait(runner.submit("slow", {"steps": 2, "then": "error", "run_id": "x"}, "fails"))
    assert job.state is JobState.FAILED
    assert render(job.message) == ("No series has data on the cutoff 2025-01-01: use fewer folds or a smaller step.")
    assert run_ids(warehouse) == []


def test_a_worker_that_is_killed_is_a_failed_job_with_its_reason(warehouse, runner):
    job = runner.wait(runner.submit("slow", {"steps": 2, "then": "die", "run_id": "x"}, "dies"))
    assert job.state is JobState.FAILED
    assert "killed (signal 9)" in render(job.message) and "ran out of memory" in render(job.message)
    assert run_ids(warehouse) == []


def test_a_backtest_of_a_deleted_dataset_fails_with_a_reason(warehouse, small_spec, runner):
    dataset = warehouse.create_dataset(small_spec, small_frame())
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=1), models=(ModelSpec.of("naive"),))
    params = backtest_params(dataset.dataset_id, {}, config, None)
    warehouse.delete_dataset(dataset.dataset_id)
    job = runner.wait(runner.submit(BACKTEST.name, params, job_title(dataset.name, config)))
    assert job.state is JobState.FAILED and dataset.dataset_id in render(job.message)


def test_a_job_left_running_by_a_stopped_app_is_failed_and_queued_ones_run(tmp_path):
    path = tmp_path / "wh.duckdb"
    warehouse = Warehouse(path)
    try:
        orphan = jobs_store.insert_job(warehouse, "slow", "orphan", {})
        assert jobs_store.start_job(warehouse, orphan, "gone:1")
        waiting = jobs_store.insert_job(warehouse, "slow", "waiting", {"steps": 1, "then": "done", "run_id": "w"})
        runner = JobRunner(warehouse, [SLOW], poll=0.05)
        try:
            job = runner.get(orphan)
            assert job.state is JobState.FAILED and job.message == STOPPED_WITH_APP
            assert runner.wait(waiting).state is JobState.DONE
            assert run_ids(warehouse) == ["w"]
        finally:
            runner.close()
    finally:
        warehouse.close()


def test_results_of_a_job_no_longer_running_are_not_stored(warehouse, tmp_path):
    out = Warehouse(tmp_path / OUT)
    with out.transaction() as cur:
        cur.execute("INSERT INTO runs (run_id, name, dataset_id, dataset_name, fingerprint, code_version, freq, config, "
                    "scope, n_series, wall_seconds, created_at) VALUES ('r', 'r', NULL, 'd', 'f', 'c', 'D', '{}', "
                    "'{}', 1, 0.1, now())")
    out.close()
    job_id = jobs_store.insert_job(warehouse, "slow", "t", {})
    jobs_store.end_job(warehouse, job_id, jobs_store.CANCELLED, "cancelled", (jobs_store.QUEUED,))
    with pytest.raises(MitoshiError, match="stopped before its results were stored"):
        jobs_store.store_outcome(warehouse, job_id, tmp_path / OUT, ("runs", "run_*"), "r", "done")
    assert run_ids(warehouse) == []
    assert json.loads(warehouse.query("SELECT params FROM jobs")["params"].iloc[0]) == {}


def test_a_publish_job_stores_the_next_version_as_publishing_here_would(warehouse, small_spec, runner):
    dataset = warehouse.create_dataset(small_spec, small_frame(stores=2, items=3, days=70))
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=2), models=(ModelSpec.of("naive"), ModelSpec.of("ma")))
    run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config))
    options = PublishOptions.from_run(get_run(warehouse, run_id), "ma", service_level=0.9)
    here = publish_batch(warehouse, prepare_batch(warehouse, run_id, options))
    job = runner.wait(runner.submit(PUBLISH.name, publish_params(run_id, options, None),
                                    publish_title(dataset.name, options)))
    assert job.state is JobState.DONE, render(job.message)
    assert (here, job.result) == (1, f"{dataset.dataset_id}/2")
    assert render(job.message) == "6 series × 7 periods from 2025-03-12"
    first, second = (batch_forecasts(warehouse, dataset.dataset_id, v) for v in (1, 2))
    columns = ["unique_id", "ds", "step", "forecast", "order_quantity", "model", "run_id"]
    assert len(second) == 6 * 7
    pd.testing.assert_frame_equal(first[columns], second[columns])
    batches = warehouse.query("SELECT version, model, n_series, service_level FROM forecast_batches ORDER BY version")
    assert batches.to_dict("records") == [{"version": v, "model": "ma", "n_series": 6, "service_level": 0.9}
                                          for v in (1, 2)]


def test_a_job_speaks_the_language_of_the_session_that_queued_it(warehouse, small_spec, runner):
    from core.i18n import using

    dataset = warehouse.create_dataset(small_spec, small_frame(stores=1, items=2, days=40))
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=1), models=(ModelSpec.of("naive"), ModelSpec.of("ma")))
    with using("ja"):
        job_id = runner.submit(BACKTEST.name, backtest_params(dataset.dataset_id, {}, config, None),
                               job_title(dataset.name, config))
    job = runner.wait(job_id)
    assert job.language == "ja" and job.state is JobState.DONE
    # its default name is kept as facts: it reads in the reader's language, whichever language made it
    assert get_run(warehouse, job.result).name == "small · Naive (last value), Moving average"
    with using("ja"):
        assert get_run(warehouse, job.result).name == "small · ナイーブ（直近の値）、移動平均"
