"""The engine, stored runs and the command line."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest

from core.backtest.__main__ import main as cli
from core.backtest.engine import BacktestCancelled, BacktestConfig, ModelSpec, dataset_data, run_backtest
from core.backtest.splits import SplitConfig, cutoffs, make_task
from core.backtest.store import (
    delete_run,
    list_runs,
    load_result,
    rename_run,
    run_forecasts,
    run_view,
    save_run,
    series_metrics,
)
from core.columns import DATE, Freq
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
from core.errors import MitoshiError

SMALL = DemoConfig(stores=2, items=10, years=2, seed=3, end_date=REFERENCE_END_DATE)
LADDER = tuple(ModelSpec.of(a) for a in ("practice", "naive", "snaive", "ma"))


@pytest.fixture
def demo(warehouse):
    return warehouse, load_demo(warehouse, SMALL)


def test_cutoffs_end_the_last_horizon_on_the_last_date():
    last = pd.Timestamp("2025-12-31")
    assert cutoffs(last, Freq.DAILY, SplitConfig(horizon=28, folds=3)) == [
        pd.Timestamp("2025-10-08"), pd.Timestamp("2025-11-05"), pd.Timestamp("2025-12-03")]
    assert cutoffs(last, Freq.DAILY, SplitConfig(horizon=7, folds=2, step=1, gap=2))[-1] == pd.Timestamp("2025-12-22")
    assert cutoffs(pd.Timestamp("2025-12-01"), Freq.MONTHLY, SplitConfig(horizon=3, folds=2)) == [
        pd.Timestamp("2025-06-01"), pd.Timestamp("2025-09-01")]


def test_split_settings_are_checked():
    with pytest.raises(MitoshiError):
        SplitConfig(horizon=0)
    with pytest.raises(MitoshiError, match="sliding window needs"):
        SplitConfig(horizon=7, window="sliding")
    with pytest.raises(MitoshiError, match="Unknown model"):
        BacktestConfig(split=SplitConfig(horizon=7), models=(ModelSpec.of("prophet"),))


def test_backtest_is_time_ordered_and_complete(demo):
    warehouse, dataset = demo
    data = dataset_data(warehouse, dataset)
    config = BacktestConfig(split=SplitConfig(horizon=14, folds=3), models=LADDER)
    result = run_backtest(data, config)
    forecasts = result.forecasts
    assert set(forecasts["model"]) == {"practice", "naive", "snaive", "ma"}
    assert (forecasts[DATE] > forecasts["cutoff"]).all()  # only the future is ever scored
    assert ((forecasts[DATE] - forecasts["cutoff"]).dt.days == forecasts["step"]).all()
    assert forecasts["cutoff"].nunique() == 3 and forecasts["step"].max() == 14
    # actuals are the stored targets
    frame = data.frame.set_index(["unique_id", DATE])["y"]
    sample = forecasts.sample(50, random_state=0)
    assert (frame.loc[list(zip(sample["unique_id"], sample[DATE], strict=True))].to_numpy() == sample["actual"]).all()
    board = result.leaderboard()
    assert list(board.columns[:1]) == ["model"] and board["wape"].is_monotonic_increasing
    assert {"mae", "rmse", "bias", "wape", "smape", "mase", "rmsse", "seconds", "rung"} <= set(board.columns)
    levels = set(result.metrics["level"])
    assert {"overall", "fold", "step", "series", "segment:category", "segment:store_id"} <= levels
    pairs = result.metrics[result.metrics["level"] == "pair:store_id | category"]
    assert set(pairs["group"]) >= {"S001 | bento", "S002 | beverages"}
    # snaive's in-sample MASE scale: its own out-of-sample MASE is near 1 on seasonal data
    assert 0.5 < board.set_index("model").loc["snaive", "mase"] < 2


def test_a_model_reusing_another_models_work_is_charged_its_seconds(demo):
    """The combination reads the fold's ETS and Theta forecasts and LightGBM the linear model's
    design: each is charged what those took, so the ladder's seconds are each model's cost alone."""
    warehouse, dataset = demo
    data = dataset_data(warehouse, dataset)
    task, _ = make_task(data.frame, cutoffs(data.frame[DATE].max(), data.freq, SplitConfig(horizon=7))[0], data.freq,
                        SplitConfig(horizon=7), keys=data.keys, attributes=data.attributes)
    calls = []
    first = task.shared("piece", lambda: calls.append(1) or sum(range(100_000)))
    assert task.take_charged_seconds() == 0.0  # who computes it pays in its own time
    again = task.shared("piece", lambda: calls.append(1) or -1)
    assert first == again == sum(range(100_000)) and calls == [1]
    assert task.take_charged_seconds() == task._cache["piece"].seconds > 0  # who reads it is charged
    assert task.take_charged_seconds() == 0.0  # once
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=1), models=tuple(ModelSpec.of(a) for a in
                                                                                ("ets", "theta", "comb")))
    seconds = {t.model: t.seconds for t in run_backtest(data, config).timings}
    assert seconds["comb"] > 0.5 * (seconds["ets"] + seconds["theta"])  # not the 0.01 s of its mean alone


def test_too_short_history_is_explained(demo):
    warehouse, dataset = demo
    data = dataset_data(warehouse, dataset)
    with pytest.raises(MitoshiError, match="too short"):
        run_backtest(data, BacktestConfig(split=SplitConfig(horizon=300, folds=3), models=LADDER))


def test_a_cutoff_without_any_series_is_refused_before_any_model_runs(demo):
    warehouse, dataset = demo
    data = dataset_data(warehouse, dataset)
    config = BacktestConfig(split=SplitConfig(horizon=14, folds=3), models=LADDER)
    middle = cutoffs(data.frame[DATE].max(), data.freq, config.split)[1]
    holed = replace(data, frame=data.frame[data.frame[DATE] != middle].reset_index(drop=True))
    message = f"No series has data on the cutoff {middle:%Y-%m-%d}: use fewer folds or a smaller step."
    progress = []
    with pytest.raises(MitoshiError, match=message):
        run_backtest(holed, config, on_progress=progress.append)
    assert progress == []  # refused before the first fold's first model
    with pytest.raises(MitoshiError, match=message):  # the same check, for one fold's task
        make_task(holed.frame, middle, data.freq, config.split)


def test_scope_filters_series(demo):
    warehouse, dataset = demo
    data = dataset_data(warehouse, dataset, {"category": ("bento",)})
    assert set(data.frame["category"]) == {"bento"} and data.scope == {"category": ("bento",)}


def test_cancel_stops_and_stores_nothing(demo):
    warehouse, dataset = demo
    data = dataset_data(warehouse, dataset)
    calls = []
    with pytest.raises(BacktestCancelled):
        run_backtest(data, BacktestConfig(split=SplitConfig(horizon=7), models=LADDER),
                     on_progress=calls.append, should_stop=lambda: len(calls) >= 2)
    assert list_runs(warehouse) == []


def test_run_round_trip_rename_delete(demo):
    warehouse, dataset = demo
    result = run_backtest(dataset_data(warehouse, dataset),
                          BacktestConfig(split=SplitConfig(horizon=7, folds=2), models=LADDER))
    run_id = save_run(warehouse, result, "最初の実験")
    back = load_result(warehouse, run_id)
    assert back.config == result.config and back.fingerprint == result.fingerprint
    pd.testing.assert_frame_equal(back.leaderboard().reset_index(drop=True),
                                  result.leaderboard().reset_index(drop=True), check_dtype=False)
    assert len(run_forecasts(warehouse, run_id)) == len(result.forecasts)
    assert list_runs(warehouse)[0].name == "最初の実験" and list_runs(warehouse)[0].dataset_id == dataset.dataset_id
    rename_run(warehouse, run_id, "renamed")
    assert list_runs(warehouse)[0].name == "renamed"
    delete_run(warehouse, run_id)
    assert list_runs(warehouse) == [] and run_forecasts(warehouse, run_id).empty


def test_the_page_reads_a_run_without_its_per_series_metrics_then_one_metric_of_them(demo):
    """What the Backtest page reads (``store.run_view``, ``store.series_metrics``) is the
    stored metrics: every level but per series, then per series one metric at a time."""
    warehouse, dataset = demo
    result = run_backtest(dataset_data(warehouse, dataset),
                          BacktestConfig(split=SplitConfig(horizon=7, folds=2), models=LADDER))
    run_id = save_run(warehouse, result)
    view = run_view(warehouse, run_id)
    order = ["level", "group", "model", "metric"]

    def same(read: pd.DataFrame, expected: pd.DataFrame) -> None:
        pd.testing.assert_frame_equal(read.sort_values(order).reset_index(drop=True),
                                      expected.sort_values(order).reset_index(drop=True), check_dtype=False)

    per_series = result.metrics["level"] == "series"
    assert per_series.any() and view.info.run_id == run_id and len(view.timings) == len(result.timings)
    same(view.metrics, result.metrics[~per_series])
    chosen = result.metrics[per_series & result.metrics["metric"].isin(["wape", "pinball"])]
    same(series_metrics(warehouse, run_id, ("wape", "pinball")), chosen)
    assert series_metrics(warehouse, run_id, ()).empty


def test_a_failed_save_leaves_nothing_half_written(demo):
    warehouse, dataset = demo
    result = run_backtest(dataset_data(warehouse, dataset),
                          BacktestConfig(split=SplitConfig(horizon=7, folds=1), models=LADDER))
    broken = result.__class__(**{**result.__dict__, "metrics": result.metrics.assign(value="not a number")})
    with pytest.raises(Exception):
        save_run(warehouse, broken)
    assert list_runs(warehouse) == []
    assert warehouse.query("SELECT count(*) AS n FROM run_forecasts")["n"][0] == 0


@pytest.fixture
def csv_file(tmp_path, demo):
    warehouse, dataset = demo
    frame = dataset_data(warehouse, dataset).frame[["store_id", "item_id", DATE, "y", "promo"]]
    path = tmp_path / "sales.csv"
    frame.rename(columns={DATE: "day", "y": "units"}).to_csv(path, index=False)
    return path


def test_command_line_writes_json_and_parquet(tmp_path, csv_file, capsys):
    out_json, out_parquet = tmp_path / "out.json", tmp_path / "out.parquet"
    code = cli(["--data", str(csv_file), "--series-cols", "store_id,item_id", "--date-col", "day",
                "--target-col", "units", "--freq", "D", "--horizon", "7", "--folds", "2", "--step", "7",
                "--models", "naive,snaive", "--exog-known", "promo", "--json", str(out_json),
                "--forecasts", str(out_parquet), "--warehouse", str(tmp_path / "wh.duckdb")])
    assert code == 0
    summary = json.loads(out_json.read_text())
    assert summary["run_id"] and set(summary["models"]) == {"naive", "snaive"}
    assert {"wape", "mase", "rmsse", "mae", "rmse", "bias", "smape", "seconds"} <= set(summary["models"]["snaive"])
    forecasts = pd.read_parquet(out_parquet)
    assert list(forecasts.columns) == ["series", "date", "cutoff", "actual", "model", "forecast"]
    assert forecasts["series"].iloc[0].count("/") == 1 and len(forecasts) == 20 * 7 * 2 * 2
    assert "[" in capsys.readouterr().err  # progress on the terminal


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target-col", "nope"], "no column"),
        (["--models", "naive,prophet"], "Unknown model"),
        (["--horizon", "500"], "too short"),
    ],
)
def test_command_line_errors_are_one_line(tmp_path, csv_file, capsys, args, message):
    base = {"--data": str(csv_file), "--series-cols": "store_id,item_id", "--date-col": "day",
            "--target-col": "units", "--freq": "D", "--horizon": "7", "--warehouse": str(tmp_path / "wh.duckdb")}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    code = cli([part for pair in base.items() for part in pair])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error:") and message in err[-1]


def test_command_line_refuses_a_missing_file(tmp_path, capsys):
    code = cli(["--data", str(tmp_path / "none.csv"), "--series-cols", "a", "--date-col", "d", "--target-col", "y",
                "--freq", "D", "--horizon", "7"])
    assert code == 2 and "no such file" in capsys.readouterr().err


def test_a_pair_of_segments_is_named_and_ordered_as_its_text_would_be():
    """The heatmap's pairs are made once per pair present, by code (a national chain's rows
    are tens of millions): each row's "store | category" is the text joined, a row missing
    either value has none, and the categories are sorted as the text's would be."""
    from core.backtest.engine import PAIR_SEP, _pair_column

    store = pd.Series(["S2", "S1", None, "S1", "S10", "S2"], dtype="category")
    category = pd.Series(["bento", "dairy", "bento", None, "bento", "bento"])
    pairs = _pair_column(store, category)
    assert [None if pd.isna(v) else v for v in pairs] == [
        "S2 | bento", "S1 | dairy", None, None, "S10 | bento", "S2 | bento"]
    text = (store.astype(str) + PAIR_SEP + category.astype(str)).astype("category")
    assert list(pairs.categories) == list(text.cat.categories) == ["S1 | dairy", "S10 | bento", "S2 | bento"]
