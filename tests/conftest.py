from __future__ import annotations

import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.columns import Freq
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
from core.jobs import JobRunner
from core.warehouse import ENV_VAR, DatasetSpec, Warehouse

APP = Path(__file__).resolve().parent.parent / "app.py"
TIMEOUT = 60


@pytest.fixture(autouse=True)
def _no_job_outlives_its_test():
    """A page test's jobs run in worker processes of the test's own warehouse: stopped with it."""
    yield
    JobRunner.close_all()


@pytest.fixture
def warehouse(tmp_path):
    wh = Warehouse(tmp_path / "test.duckdb")
    yield wh
    wh.close()


def small_frame(stores: int = 2, items: int = 3, days: int = 70, seed: int = 0) -> pd.DataFrame:
    """A tiny canonical long frame: store x item daily sales with a promo flag."""
    rng = pd.Series(range(days))
    dates = pd.date_range("2025-01-01", periods=days, freq="D")
    rows = []
    for s in range(stores):
        for i in range(items):
            rows.append(pd.DataFrame({
                "store": f"S{s}", "item": f"I{i}", "category": "food" if i % 2 else "drink",
                "ds": dates, "y": ((rng * (s + 1) + i + seed) % 7).astype(float), "promo": (rng % 10 == 0).astype(int),
            }))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def small_spec() -> DatasetSpec:
    return DatasetSpec(name="small", freq=Freq.DAILY, keys=("store", "item"), attributes=("category",),
                       exog_known=("promo",), source="test")


# ---- AppTest: every page test runs on its own copy of the default demo warehouse ----
@pytest.fixture(scope="session")
def demo_warehouse_file(tmp_path_factory):
    """The default demo chain, generated once and copied into each test."""
    path = tmp_path_factory.mktemp("wh") / "demo.duckdb"
    warehouse = Warehouse(path)
    load_demo(warehouse, DemoConfig(end_date=REFERENCE_END_DATE))  # pinned: the default ends yesterday
    warehouse.close()
    return path


def use_copy(source, tmp_path, monkeypatch):
    """A copy of the warehouse file ``source`` for one test, made the app's warehouse."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(source, path)
    monkeypatch.setenv(ENV_VAR, str(path))
    return path


@pytest.fixture
def warehouse_env(demo_warehouse_file, tmp_path, monkeypatch):
    return use_copy(demo_warehouse_file, tmp_path, monkeypatch)


def store_run(warehouse: Warehouse, stores: tuple[str, ...], models: tuple[str, ...], horizon: int, name: str,
              folds: int = 2) -> str:
    """Backtest ``models`` on some stores of the warehouse's first dataset and store the run."""
    from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
    from core.backtest.splits import SplitConfig
    from core.backtest.store import save_run

    dataset = warehouse.list_datasets()[0]
    config = BacktestConfig(split=SplitConfig(horizon=horizon, folds=folds),
                            models=tuple(ModelSpec.of(a) for a in models))
    return save_run(warehouse, run_backtest(dataset_data(warehouse, dataset, {"store_id": stores}), config), name)


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def active_jobs(at: AppTest) -> list[str]:
    """The ids of the jobs the page shows as queued or running (each has its Cancel button)."""
    return [b.key.removeprefix("job_cancel_") for b in at.button if (b.key or "").startswith("job_cancel_")]


def finish_jobs(at: AppTest, timeout: float = 240) -> AppTest:
    """Draw the page again until no job is queued or running: a backtest runs in a worker
    process (``core.jobs``), and the page shows its run once the job is done."""
    deadline = time.monotonic() + timeout
    while active_jobs(at):
        assert time.monotonic() < deadline, "the job did not finish in time"
        time.sleep(0.3)
        at.run()
        assert not at.exception, at.exception
    return at


def new_session(page: str | None = None, lang: str | None = None, **state: object) -> AppTest:
    """A new browser session (a tab) on the test's warehouse, opened on ``page``: in ``lang``
    when given (as ``?lang=ja`` opens it), with ``state`` put in its session state first."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if lang is not None:
        at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    for key, value in state.items():
        at.session_state[key] = value
    return open_page(at, page) if page else at


def japanese(page: str, **state: object) -> AppTest:
    """A new session in Japanese on ``page`` (``new_session(page, lang="ja")``)."""
    return new_session(page, lang="ja", **state)
