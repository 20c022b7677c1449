"""The backtest on a Dask cluster (``core.backtest.distributed``) against the same backtest run here.

One LocalCluster of two worker processes for the module: processes, not threads, so that
every shard, result and error really crosses a process boundary as on a real cluster.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
from distributed import LocalCluster

from core.backtest import accounting, distributed
from core.backtest.__main__ import main as cli
from core.backtest.distributed import ENV, DaskExecutor, scheduler_address, shard_series
from core.backtest.engine import (
    BacktestCancelled,
    BacktestConfig,
    BacktestData,
    ModelFailedError,
    ModelSpec,
    run_backtest,
)
from core.backtest.splits import SplitConfig, cutoffs
from core.backtest.store import load_result
from core.columns import DATE, SERIES_ID, Freq
from core.data.demo import REFERENCE_END_DATE, DemoConfig, generate_chain
from core.errors import MitoshiError
from core.i18n import using
from core.warehouse import Warehouse

LOCAL_MODELS = tuple(ModelSpec.of(a) for a in ("naive", "snaive", "ma", "ets", "theta"))
SPLIT = SplitConfig(horizon=14, folds=3)


@contextmanager
def main_not_rerun():
    """The worker processes are spawned, and a spawned process runs the parent's ``__main__``
    file again: under pytest, after a page test in the same process, that is an AppTest
    script that only runs inside Streamlit ("name '__args' is not defined", "Nanny failed to
    start"). Without a ``__file__`` the main module is not run again."""
    main = sys.modules["__main__"]
    path = main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        if path is not None:
            main.__file__ = path


@pytest.fixture(scope="module")
def cluster():
    with main_not_rerun(), LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                        dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def executor(cluster):
    with DaskExecutor(cluster.scheduler_address, shards=2) as one:
        yield one


def chain_data(late: int = 0) -> BacktestData:
    """The seeded demo chain of 2 stores x 5 items over a year; ``late`` series (the last
    ones) start 7 days before the last cutoff, after the first two cutoffs."""
    sales = generate_chain(DemoConfig(stores=2, items=5, years=1, seed=3, end_date=REFERENCE_END_DATE)).sales
    sales.insert(0, SERIES_ID, sales["store_id"].astype(str) + "/" + sales["item_id"].astype(str))
    sales = sales.sort_values([SERIES_ID, DATE]).reset_index(drop=True)
    if late:
        start = cutoffs(sales[DATE].max(), Freq.DAILY, SPLIT)[-1] - pd.Timedelta(days=6)
        ids = sorted(sales[SERIES_ID].unique())[-late:]
        sales = sales[~(sales[SERIES_ID].isin(ids) & (sales[DATE] < start))].reset_index(drop=True)
    return BacktestData(frame=sales, freq=Freq.DAILY, name="demo", keys=("store_id", "item_id"),
                        attributes=("region", "category"), exog_known=("price", "promo", "holiday"),
                        orders="ordered", stockout="stockout")


def assert_same_run(local, remote) -> None:
    pd.testing.assert_frame_equal(remote.forecasts, local.forecasts)
    pd.testing.assert_frame_equal(remote.metrics, local.metrics)
    pd.testing.assert_frame_equal(remote.excluded, local.excluded)
    pd.testing.assert_frame_equal(remote.fallbacks, local.fallbacks)
    assert remote.cutoffs == local.cutoffs and remote.n_series == local.n_series
    assert remote.fingerprint == local.fingerprint
    assert [(t.model, t.cutoff, t.series) for t in remote.timings] == [(t.model, t.cutoff, t.series)
                                                                         for t in local.timings]


def test_shards_hold_whole_series_balanced_by_rows():
    frame = pd.DataFrame({SERIES_ID: np.repeat(["a", "b", "c", "d", "e"], [10, 8, 6, 4, 2]), DATE: 0})
    shards = shard_series(frame, 2)
    ids = [sorted(set(frame[SERIES_ID].iloc[rows])) for rows in shards]
    assert ids == [["a", "d", "e"], ["b", "c"]]  # 16 rows and 14: longest first, each to the lighter shard
    assert sorted(np.concatenate(shards)) == list(range(30))
    assert all((np.diff(rows) > 0).all() for rows in shards)  # the frame's order kept
    assert len(shard_series(frame, 9)) == 5  # never an empty shard


def test_local_models_give_the_same_run_on_the_cluster(executor):
    data = chain_data()
    config = BacktestConfig(split=SPLIT, models=LOCAL_MODELS)
    local = run_backtest(data, config)
    seen = []
    remote = run_backtest(data, config, on_progress=lambda p: seen.append((p.done, p.total)), executor=executor)
    assert_same_run(local, remote)
    assert len(remote.forecasts) == 10 * 3 * 14 * 5  # series x folds x horizon x models
    assert remote.forecasts["forecast"].sum() == pytest.approx(local.forecasts["forecast"].sum(), rel=0, abs=0)
    assert seen[:3] == [(0, 2), (1, 2), (2, 2)]  # then the engine's scoring
    # seconds are the shards' compute summed, per model and fold
    assert all(t.seconds > 0 for t in remote.timings)


def test_three_uneven_shards_give_the_same_run(cluster):
    data = chain_data()
    config = BacktestConfig(split=SPLIT, models=LOCAL_MODELS[:3])
    with DaskExecutor(cluster.scheduler_address, shards=3) as three:
        assert_same_run(run_backtest(data, config), run_backtest(data, config, executor=three))


def test_global_models_are_fitted_once_over_all_shards_and_forecast_as_a_local_run(executor):
    # two series start late: a fold where they are not yet active, series of unequal length
    data = chain_data(late=2)
    config = BacktestConfig(split=SPLIT, models=(ModelSpec.of("glm"), ModelSpec.of("lgbm")))
    local = run_backtest(data, config)
    remote = run_backtest(data, config, executor=executor)
    for model in ("glm", "lgbm"):
        here, there = (run.forecasts.loc[run.forecasts["model"] == model, "forecast"].to_numpy()
                       for run in (local, remote))
        np.testing.assert_allclose(there, here, rtol=0, atol=0)
    assert_same_run(local, remote)  # the metrics and the series left out too
    assert len(remote.excluded) == 4 and remote.n_scored == 10
    assert all(t.seconds > 0 for t in remote.timings)


def test_a_sampled_global_model_draws_the_local_sample_over_all_shards(cluster):
    # 500 training rows of about 3,000 a fold: the sample is drawn over every shard's rows
    # as a local run draws it, with uneven shards and a per-series model beside
    data = chain_data()
    config = BacktestConfig(split=SPLIT, seed=5, models=(
        ModelSpec.of("naive"), ModelSpec.of("glm", max_train_rows=500),
        ModelSpec.of("lgbm", max_train_rows=500, min_child_samples=20)))
    local = run_backtest(data, config)
    with DaskExecutor(cluster.scheduler_address, shards=3) as three:
        remote = run_backtest(data, config, executor=three)
    assert_same_run(local, remote)
    forecasts = remote.forecasts["forecast"]
    assert len(forecasts) == 10 * 3 * 14 * 3 and forecasts.notna().all()
    wape = remote.leaderboard().set_index("model")["wape"]
    assert wape["lgbm"] == local.leaderboard().set_index("model")["wape"]["lgbm"] < wape["naive"]


def test_a_global_model_that_cannot_fit_falls_back_on_the_cluster_as_a_local_run(executor):
    data = chain_data()  # a year of history: no row has a 400-day lag to learn from
    config = BacktestConfig(split=SPLIT, models=(ModelSpec.of("lgbm", lags=(400,)),))
    local = run_backtest(data, config)
    remote = run_backtest(data, config, executor=executor)
    assert_same_run(local, remote)
    assert set(remote.fallbacks["reason"]) == {
        "could not fit: too short for its lags: no series has 400 periods of history before the cutoff"}
    assert remote.fallbacks[SERIES_ID].nunique() == 10


def test_a_shard_with_no_series_on_a_cutoff_accounts_for_them_as_a_local_run(executor):
    data = chain_data(late=2)
    folds = cutoffs(data.frame[DATE].max(), Freq.DAILY, SPLIT)
    late_ids = sorted(data.frame[SERIES_ID].unique())[-2:]
    # nine shards: the eight whole-year series one each, the two short late ones together in
    # the ninth, which has no series at all on the first two cutoffs
    shards = [sorted(set(data.frame[SERIES_ID].iloc[rows])) for rows in shard_series(data.frame, 9)]
    assert shards[-1] == late_ids and all(len(ids) == 1 for ids in shards[:-1])
    config = BacktestConfig(split=SPLIT, models=LOCAL_MODELS[:3])
    local = run_backtest(data, config)
    with DaskExecutor(executor.address, shards=9) as nine:
        remote = run_backtest(data, config, executor=nine)
    assert_same_run(local, remote)
    late = remote.excluded[remote.excluded["reason"] == accounting.STARTED_LATE]
    assert len(remote.excluded) == len(late) == 4  # the 2 late series on the 2 folds before they start
    assert set(late["cutoff"]) == set(folds[:2]) and set(late[SERIES_ID]) == set(late_ids)
    assert remote.n_scored == 10
    assert len(remote.forecasts) == (8 * 3 + 2) * 14 * 3  # series forecast per fold x horizon x models


def test_a_model_error_on_a_worker_is_the_error_of_a_local_run(executor, monkeypatch):
    def broken(self, task):
        if task.cutoff == fail_on:
            raise ZeroDivisionError("float division by zero")
        return original(self, task)

    from core.forecast.stats import Theta

    data = chain_data()
    fail_on = cutoffs(data.frame[DATE].max(), Freq.DAILY, SPLIT)[1]
    original = Theta.forecast_with_fallbacks
    config = BacktestConfig(split=SPLIT, models=(ModelSpec.of("naive"), ModelSpec.of("theta")))
    monkeypatch.setattr(Theta, "forecast_with_fallbacks", broken)
    with pytest.raises(ModelFailedError) as here:
        run_backtest(data, config)
    monkeypatch.undo()

    def break_theta(fail_on=fail_on):  # the same fault, in each worker's process
        from core.forecast.stats import Theta

        original = Theta.forecast_with_fallbacks
        Theta._unbroken = original

        def broken(self, task):
            if task.cutoff == fail_on:
                raise ZeroDivisionError("float division by zero")
            return original(self, task)

        Theta.forecast_with_fallbacks = broken

    def mend_theta():
        from core.forecast.stats import Theta

        Theta.forecast_with_fallbacks = Theta._unbroken

    executor.client.run(break_theta)
    try:
        with pytest.raises(ModelFailedError) as there:
            run_backtest(data, config, executor=executor)
    finally:
        executor.client.run(mend_theta)
    assert (there.value.model, there.value.cutoff) == ("theta", fail_on) == (here.value.model, here.value.cutoff)
    assert str(there.value) == str(here.value)
    assert "Theta failed on fold 2/3" in str(there.value) and "ZeroDivisionError" in str(there.value)
    with using("ja"):  # a fact, rendered in the reader's language
        assert str(there.value) == str(here.value) != str(MitoshiError(there.value.args[0].text))


def test_stopping_cancels_the_shards_and_stores_nothing(executor):
    data = chain_data()
    config = BacktestConfig(split=SPLIT, models=LOCAL_MODELS)
    asked = []

    def stop_after_sending() -> bool:
        asked.append(1)
        return len(asked) > 1

    started = time.perf_counter()
    with pytest.raises(BacktestCancelled):
        run_backtest(data, config, should_stop=stop_after_sending, executor=executor)
    assert time.perf_counter() - started < 10
    # nothing of the run is left on the cluster: shards and their tasks released
    for _ in range(50):
        keys = executor.client.run_on_scheduler(lambda dask_scheduler: [k for k in dask_scheduler.tasks
                                                                        if "mitoshi" in str(k)])
        if not keys:
            break
        time.sleep(0.1)
    assert keys == []
    # and the cluster runs the next backtest as before
    again = run_backtest(data, BacktestConfig(split=SPLIT, models=LOCAL_MODELS[:1]), executor=executor)
    assert again.forecasts["cutoff"].nunique() == 3


def test_workers_that_cannot_import_mitoshi_say_how_to_start_them(executor, monkeypatch):
    """What a worker started outside the checkout sends back (seen by a new user following
    the README): ModuleNotFoundError from unpickling a shard's task."""
    from core.backtest import distributed

    def unpicklable(self, local):
        raise ModuleNotFoundError("No module named 'core'")

    monkeypatch.setattr(distributed._Run, "results", unpicklable)
    with pytest.raises(MitoshiError) as raised:
        run_backtest(chain_data(), BacktestConfig(split=SPLIT, models=LOCAL_MODELS[:1]), executor=executor)
    assert str(raised.value).startswith(f"The Dask cluster at {executor.address} cannot import Mitoshi's code "
                                        "(No module named 'core'); nothing was stored. Start the scheduler and the "
                                        "workers from a checkout of the same version with PYTHONPATH set to it")


def test_an_unreachable_scheduler_says_which_address_and_what_to_do(monkeypatch):
    monkeypatch.setattr(distributed, "CONNECT_SECONDS", 1)  # the test's patience, not the app's (5 s)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    started = time.perf_counter()
    with pytest.raises(MitoshiError) as error:
        DaskExecutor(address)
    assert time.perf_counter() - started < 10
    assert address in str(error.value) and "within 1 s" in str(error.value) and "dask scheduler" in str(error.value)
    assert "MITOSHI_DASK_SCHEDULER" in str(error.value)


def test_the_apps_setting_is_an_environment_variable(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert scheduler_address() is None
    monkeypatch.setenv(ENV, "  ")
    assert scheduler_address() is None
    monkeypatch.setenv(ENV, " tcp://10.0.0.5:8786 ")
    assert scheduler_address() == "tcp://10.0.0.5:8786"


def test_the_command_line_runs_on_the_scheduler_and_stores_the_same_run(executor, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    sales = chain_data().frame
    csv = tmp_path / "chain.csv"
    sales[["store_id", "item_id", DATE, "y"]].to_csv(csv, index=False)
    common = ["--data", str(csv), "--series-cols", "store_id,item_id", "--date-col", DATE, "--target-col", "y",
              "--freq", "D", "--horizon", "14", "--folds", "2", "--models", "naive,snaive,theta"]
    runs = {}
    for where, extra in (("here", []), ("cluster", ["--scheduler", executor.address, "--shards", "3"])):
        out, parquet = tmp_path / f"{where}.json", tmp_path / f"{where}.parquet"
        assert cli([*common, *extra, "--json", str(out), "--forecasts", str(parquet),
                    "--warehouse", str(tmp_path / f"{where}.duckdb")]) == 0
        runs[where] = json.loads(out.read_text()), pd.read_parquet(parquet), tmp_path / f"{where}.duckdb"
    assert f"Dask cluster at {executor.address}: 2 workers, 2 threads" in capsys.readouterr().err
    (here, here_rows, _), (there, there_rows, stored) = runs["here"], runs["cluster"]
    pd.testing.assert_frame_equal(there_rows, here_rows)
    assert len(there_rows) == 10 * 2 * 14 * 3
    for model in ("naive", "snaive", "theta"):
        assert {k: v for k, v in there["models"][model].items() if k != "seconds"} == {
            k: v for k, v in here["models"][model].items() if k != "seconds"}
    warehouse = Warehouse(stored)
    try:  # stored as a local run is: every forecast row
        assert len(load_result(warehouse, there["run_id"]).forecasts) == len(here_rows)
    finally:
        warehouse.close()


def test_the_command_line_stops_at_once_on_an_unreachable_scheduler(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(distributed, "CONNECT_SECONDS", 1)
    code = cli(["--data", str(tmp_path / "never-read.csv"), "--series-cols", "a", "--date-col", "d",
                "--target-col", "y", "--freq", "D", "--horizon", "7", "--scheduler", "tcp://127.0.0.1:9",
                "--warehouse", str(tmp_path / "wh.duckdb")])
    err = capsys.readouterr().err
    assert code == 2 and "error: The Dask scheduler at tcp://127.0.0.1:9 could not be reached" in err
    assert "no such file" not in err  # refused before the file is read
