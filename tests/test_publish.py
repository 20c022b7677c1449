"""Publishing the chosen model: next-horizon forecasts written as versioned batches."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, dataset_data, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import get_run, run_metrics, save_run
from core.columns import DATE, SERIES_ID, Freq
from core.data.demo import DemoConfig, load_demo
from core.errors import MitoshiError
from core.handoff import store as handoff_store
from core.handoff.batch import PublishError, PublishOptions, forecast_next, prepare_batch
from tests.conftest import small_frame

SMALL = DemoConfig(stores=2, items=10, years=2, seed=3)
HORIZON = 14


@pytest.fixture
def demo_run(warehouse):
    """The small demo chain and a stored run of practice, two rules and LightGBM on it."""
    dataset = load_demo(warehouse, SMALL)
    models = tuple(ModelSpec.of(a) for a in ("practice", "snaive", "ma", "lgbm"))
    result = run_backtest(dataset_data(warehouse, dataset),
                          BacktestConfig(split=SplitConfig(horizon=HORIZON, folds=2), models=models))
    return warehouse, dataset, get_run(warehouse, save_run(warehouse, result, "publish me"))


def publish_model(warehouse, run, alias: str, **kwargs) -> int:
    batch = prepare_batch(warehouse, run.run_id, PublishOptions.from_run(run, alias, **kwargs))
    return handoff_store.publish_batch(warehouse, batch)


def test_versions_increment_and_old_ones_are_kept(demo_run):
    warehouse, dataset, run = demo_run
    assert publish_model(warehouse, run, "snaive") == 1
    first = handoff_store.batch_forecasts(warehouse, dataset.dataset_id, 1)
    assert publish_model(warehouse, run, "ma") == 2
    batches = handoff_store.list_batches(warehouse, dataset.dataset_id)
    assert batches["version"].tolist() == [2, 1] and batches["model"].tolist() == ["ma", "snaive"]
    assert batches["run_name"].tolist() == ["publish me"] * 2
    pd.testing.assert_frame_equal(handoff_store.batch_forecasts(warehouse, dataset.dataset_id, 1), first)
    assert set(handoff_store.batch_forecasts(warehouse, dataset.dataset_id)["version"]) == {2}  # None: the newest
    latest = warehouse.query("SELECT DISTINCT version, model FROM latest_batch_forecasts")
    assert latest.values.tolist() == [[2, "ma"]]


def test_rows_are_every_series_times_the_horizon_right_after_the_last_date(demo_run):
    warehouse, dataset, run = demo_run
    publish_model(warehouse, run, "lgbm", horizon=10)
    rows = handoff_store.batch_forecasts(warehouse, dataset.dataset_id)
    last = pd.Timestamp(dataset.end_date)
    assert len(rows) == dataset.n_series * 10 == rows[SERIES_ID].nunique() * 10
    expected = pd.date_range(last + pd.Timedelta(days=1), periods=10, freq="D")
    for _, part in rows.groupby(SERIES_ID):
        assert (pd.to_datetime(part[DATE]).to_numpy() == expected.to_numpy()).all()  # no gap, no repeat
        assert part["step"].tolist() == list(range(1, 11))
    assert rows["forecast"].notna().all() and (rows["forecast"] >= 0).all()
    assert rows["order_quantity"].isna().all()  # no service level asked for
    assert rows["key_values"].map(list).iloc[0] == rows[SERIES_ID].iloc[0].split("/")
    header = handoff_store.list_batches(warehouse).iloc[0]
    assert header["created_at"] == rows["created_at"].iloc[0] and rows["created_at"].nunique() == 1
    assert header["trained_until"] == last and header["n_series"] == dataset.n_series


def test_the_model_is_fitted_up_to_the_last_date(demo_run):
    warehouse, dataset, run = demo_run
    publish_model(warehouse, run, "snaive", horizon=7)
    rows = handoff_store.batch_forecasts(warehouse, dataset.dataset_id)
    history = dataset_data(warehouse, dataset).frame
    last_week = history[history[DATE] > pd.Timestamp(dataset.end_date) - pd.Timedelta(days=7)]
    # Seasonal naive repeats the last week of the data: the cutoff is the last date.
    np.testing.assert_array_equal(rows["forecast"].to_numpy(), last_week["y"].clip(lower=0).to_numpy())


def test_known_in_advance_columns_left_out_are_said(demo_run):
    warehouse, dataset, run = demo_run
    publish_model(warehouse, run, "lgbm")
    publish_model(warehouse, run, "snaive")
    batches = handoff_store.list_batches(warehouse).set_index("model")
    assert batches.loc["lgbm", "model_params"]["exog_left_out"] == ["price", "promo", "holiday"]
    assert any("price, promo, holiday" in note for note in map(str, batches.loc["lgbm", "notes"]))
    assert batches.loc["snaive", "model_params"]["exog_left_out"] == []  # a rule never reads them
    assert batches.loc["snaive", "notes"] == []


def test_export_frame_has_the_key_columns_and_reads_back_from_csv(demo_run):
    warehouse, dataset, run = demo_run
    publish_model(warehouse, run, "ma", service_level=0.9)
    export = handoff_store.batch_export(warehouse, dataset.dataset_id)
    assert list(export.columns) == ["store_id", "item_id", "date", "forecast", "order_quantity", "model", "run_id",
                                    "version", "created_at"]
    assert set(export["store_id"]) == {"S001", "S002"} and export["item_id"].str.startswith("I").all()
    back = pd.read_csv(io.BytesIO(export.to_csv(index=False).encode("utf-8-sig")), encoding="utf-8-sig")
    assert list(back.columns) == list(export.columns) and len(back) == len(export)


def test_a_failed_write_leaves_nothing(demo_run):
    warehouse, dataset, run = demo_run
    batch = prepare_batch(warehouse, run.run_id, PublishOptions.from_run(run, "snaive"))
    frame = batch.frame.copy()
    frame.loc[frame.index[-1], DATE] = pd.NaT  # the header is written, then the last row fails
    broken = batch.__class__(**{**batch.__dict__, "frame": frame})
    with pytest.raises(Exception, match="NOT NULL"):
        handoff_store.publish_batch(warehouse, broken)
    assert handoff_store.list_batches(warehouse).empty
    assert warehouse.query("SELECT count(*) AS n FROM forecast_batches")["n"][0] == 0
    assert warehouse.query("SELECT count(*) AS n FROM batch_forecasts")["n"][0] == 0
    assert handoff_store.publish_batch(warehouse, batch) == 1  # the failed attempt used no version


def test_deleting_the_dataset_removes_its_batches_only(demo_run, small_spec):
    warehouse, dataset, run = demo_run
    publish_model(warehouse, run, "snaive")
    publish_model(warehouse, run, "ma")
    other = warehouse.create_dataset(small_spec, small_frame())
    result = run_backtest(dataset_data(warehouse, other),
                          BacktestConfig(split=SplitConfig(horizon=7, folds=1), models=(ModelSpec.of("naive"),)))
    other_run = get_run(warehouse, save_run(warehouse, result))
    publish_model(warehouse, other_run, "naive")
    warehouse.delete_dataset(dataset.dataset_id)
    assert handoff_store.list_batches(warehouse)["dataset_id"].tolist() == [other.dataset_id]
    assert set(warehouse.query("SELECT DISTINCT dataset_id FROM batch_forecasts")["dataset_id"]) == {other.dataset_id}
    with pytest.raises(MitoshiError, match="Nothing has been published"):
        handoff_store.batch_forecasts(warehouse, dataset.dataset_id)
    with pytest.raises(PublishError, match="has been deleted"):  # its run cannot publish any more
        prepare_batch(warehouse, run.run_id, PublishOptions.from_run(run, "snaive"))


def test_practice_and_models_outside_the_run_are_refused(demo_run):
    warehouse, _, run = demo_run
    with pytest.raises(PublishError, match="no orders exist yet"):
        prepare_batch(warehouse, run.run_id, PublishOptions.from_run(run, "practice"))
    with pytest.raises(PublishError, match="did not backtest 'ets'"):
        PublishOptions.from_run(run, "ets")
    with pytest.raises(PublishError, match="service level"):
        PublishOptions.from_run(run, "ma", service_level=1.2)
    with pytest.raises(PublishError, match="not a model of the run"):
        prepare_batch(warehouse, run.run_id, PublishOptions(model=ModelSpec.of("ma", window=3), horizon=7))
    assert handoff_store.list_batches(warehouse).empty


@pytest.mark.parametrize("level", [0.5, 0.95])
def test_order_quantity_is_forecast_plus_safety_stock(demo_run, level):
    warehouse, dataset, run = demo_run
    publish_model(warehouse, run, "ma", service_level=level)
    rows = handoff_store.batch_forecasts(warehouse, dataset.dataset_id)
    assert rows["order_quantity"].notna().all()
    assert (rows["order_quantity"] >= rows["forecast"] - 1e-9).all()
    metrics = run_metrics(warehouse, run.run_id, "series")
    rmse = metrics[(metrics["model"] == "ma") & (metrics["metric"] == "rmse")].set_index("group")["value"]
    one = rows[rows[SERIES_ID] == rows[SERIES_ID].iloc[0]]
    expected = one["forecast"] + norm.ppf(level) * rmse[one[SERIES_ID].iloc[0]]
    np.testing.assert_allclose(one["order_quantity"], expected.clip(lower=0))
    header = handoff_store.list_batches(warehouse).iloc[0]
    assert header["service_level"] == level and any("service level" in n for n in map(str, header["notes"]))


def test_series_that_ended_before_the_last_date_are_not_forecast():
    frame = small_frame()
    frame[SERIES_ID] = frame["store"] + "/" + frame["item"]
    ended = frame[(frame[SERIES_ID] == "S0/I1") & (frame[DATE] > frame[DATE].max() - pd.Timedelta(days=10))].index
    data = BacktestData(frame=frame.drop(index=ended).reset_index(drop=True), freq=Freq.DAILY, name="small",
                        keys=("store", "item"), exog_known=("promo",))
    out, fallbacks = forecast_next(data, PublishOptions(model=ModelSpec.of("naive"), horizon=3))
    assert fallbacks == ()
    assert out[SERIES_ID].nunique() == 5 and "S0/I1" not in set(out[SERIES_ID])
    assert list(out.columns) == [SERIES_ID, "store", "item", DATE, "step", "forecast"]


def test_the_documented_example_query_runs(demo_run):
    warehouse, _, run = demo_run
    publish_model(warehouse, run, "snaive", service_level=0.95)
    publish_model(warehouse, run, "ma", service_level=0.95)
    answer = warehouse.query(handoff_store.EXAMPLE_QUERY)
    assert len(answer) == SMALL.items and set(answer["model"]) == {"ma"} and set(answer["version"]) == {2}
    assert answer["order_quantity"].notna().all()


def test_model_params_round_trip_the_fit(demo_run):
    warehouse, _, run = demo_run
    publish_model(warehouse, run, "ma")
    params = handoff_store.list_batches(warehouse).iloc[0]["model_params"]
    assert params == {"settings": {}, "exog_known": [], "exog_left_out": [], "gap": 0, "window": "expanding",
                      "train_periods": None, "seed": 0, "ordering_rule": None}  # no order quantities, no rule
    assert json.loads(warehouse.query("SELECT model_params FROM forecast_batches")["model_params"][0]) == params


def test_the_readme_shows_the_same_example_query():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert handoff_store.EXAMPLE_QUERY in readme


def test_profit_optimal_order_quantities_follow_each_items_economics(demo_run):
    warehouse, _, run = demo_run
    batch = prepare_batch(warehouse, run.run_id, PublishOptions.from_run(run, "snaive", profit_optimal=True))
    quantities = batch.frame["order_quantity"]
    assert quantities.notna().any() and (quantities.dropna() >= 0).all()
    # The method as it is: levels chosen by the shelf simulation, not a critical ratio.
    method = next(n for n in map(str, batch.notes) if n.startswith("Order quantity = forecast + z"))
    assert "30%, 50%, 70%, 80%, 90%, 95%, 98%, 99%, 99.5% that earned it the most in the shelf simulation" in method
    assert not any("margin ÷" in n for n in map(str, batch.notes))
    below = batch.frame.loc[quantities < batch.frame["forecast"] - 1e-9, "unique_id"].nunique()
    said = [n for n in map(str, batch.notes) if "below their forecast" in n]
    assert said == ([f"{below:,} of {batch.n_series:,} series are ordered below their forecast on purpose (a "
                     "service level under 50 %): in the simulation a leftover cost them more than the sales an "
                     "extra unit would have made."] if below else [])
    fixed = prepare_batch(warehouse, run.run_id, PublishOptions.from_run(run, "snaive", service_level=0.995))
    assert (quantities.fillna(0) <= fixed.frame["order_quantity"].fillna(0) + 1e-9).all()  # never above 99.5 %


def test_a_never_sold_series_is_published_with_its_fallback_named():
    frame = small_frame()
    frame[SERIES_ID] = frame["store"] + "/" + frame["item"]
    frame.loc[frame[SERIES_ID] == "S0/I1", "y"] = 0.0
    data = BacktestData(frame=frame, freq=Freq.DAILY, name="small", keys=("store", "item"))
    out, fallbacks = forecast_next(data, PublishOptions(model=ModelSpec.of("croston"), horizon=3))
    assert [(f.rule, f.series) for f in fallbacks] == [("zero", ("S0/I1",))]
    assert (out.loc[out[SERIES_ID] == "S0/I1", "forecast"] == 0).all() and len(out) == 18


def test_the_csv_rounds_forecasts_for_people_and_the_warehouse_keeps_them_whole():
    from core.handoff.batch import for_csv
    from core.text import csv_bytes

    frame = pd.DataFrame({"store_id": ["S001", "S001"], "item_id": ["I01", "-5"],
                          "date": pd.to_datetime(["2025-05-01", "2025-05-02"]),
                          "forecast": [3.4567891234567891, 0.1 + 0.2], "order_quantity": [5.005000001, np.nan],
                          "model": ["lgbm", "lgbm"], "run_id": ["r1", "r1"], "version": [2, 2]})
    text = csv_bytes(for_csv(frame)).decode("utf-8-sig")
    assert text == ("store_id,item_id,date,forecast,order_quantity,model,run_id,version\n"
                    "S001,I01,2025-05-01,3.46,5.01,lgbm,r1,2\n"
                    "S001,'-5,2025-05-02,0.3,,lgbm,r1,2\n")
    assert frame["forecast"].iloc[0] == 3.4567891234567891  # the frame itself is not rounded


def test_the_published_export_as_csv_has_at_most_two_decimals(demo_run):
    from core.handoff.batch import for_csv
    from core.text import csv_bytes

    warehouse, dataset, run = demo_run
    publish_model(warehouse, run, "ma", service_level=0.9)
    export = handoff_store.batch_export(warehouse, dataset.dataset_id)
    assert (export["forecast"] != export["forecast"].round(2)).any()  # the warehouse keeps full precision
    back = pd.read_csv(io.BytesIO(csv_bytes(for_csv(export))), encoding="utf-8-sig", dtype=str)
    decimals = back[["forecast", "order_quantity"]].stack().str.partition(".")[2].str.len()
    assert len(back) == len(export) and decimals.max() == 2
