"""The pilot simulated on the demo chain: treated stores order from the published batch,
control stores keep today's practice, and the counterfactual gives the true effect."""

from __future__ import annotations

import shutil
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import get_run, save_run
from core.data.demo import REFERENCE_END_DATE, DemoConfig, continue_chain, extend_demo, load_demo
from core.handoff import store as handoff_store
from core.handoff.batch import PublishOptions, prepare_batch
from core.money.impact import Economics
from core.money.outcomes import OUTCOME_COLUMNS, store_day_outcomes
from core.pilot.simulate import (
    PilotSimulationError,
    counterfactual_outcomes,
    simulate_pilot,
)
from core.warehouse import Warehouse
from tests.test_demo import carried_into

# 4 stores x 12 items x 1 year; I0001 bento (keeps 1 day), I0002 beverages (never expires).
CHAIN = DemoConfig(stores=4, items=12, years=1, end_date=REFERENCE_END_DATE)
NEXT_DAY = REFERENCE_END_DATE + timedelta(days=1)
HORIZON = 14


@pytest.fixture(scope="module")
def published_file(tmp_path_factory):
    """The chain, a backtest of the moving average, and two published batches: version 1
    for every store at a 90 % service level, version 2 for store S001 only."""
    path = tmp_path_factory.mktemp("pilot") / "pilot.duckdb"
    warehouse = Warehouse(path)
    dataset = load_demo(warehouse, CHAIN)
    config = BacktestConfig(split=SplitConfig(horizon=HORIZON, folds=2), models=(ModelSpec.of("ma"),))
    for scope, level in (({}, 0.9), ({"store_id": ("S001",)}, None)):
        result = run_backtest(dataset_data(warehouse, dataset, scope), config)
        run = get_run(warehouse, save_run(warehouse, result, f"ma {scope}"))
        batch = prepare_batch(warehouse, run.run_id, PublishOptions.from_run(run, "ma", service_level=level))
        handoff_store.publish_batch(warehouse, batch)
    warehouse.close()
    return path


@pytest.fixture
def published(published_file, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(published_file, path)
    warehouse = Warehouse(path)
    yield warehouse, warehouse.list_datasets()[0]
    warehouse.close()


def rows_of(warehouse: Warehouse, dataset_id: str, series: str) -> pd.DataFrame:
    table = warehouse.get_dataset(dataset_id).table_name
    return warehouse.query(f"SELECT * FROM {table} WHERE unique_id = ? ORDER BY ds", [series])


def test_treated_stores_order_from_the_batch_and_controls_keep_the_practice(published) -> None:
    warehouse, dataset = published
    pilot = simulate_pilot(warehouse, dataset.dataset_id, "store_id", ["S003", "S001"], NEXT_DAY, 7, batch_version=1)
    assert pilot.treated == ("S001", "S003") and pilot.control == ("S002", "S004")
    assert (pilot.start, pilot.end, pilot.days, pilot.batch_version) == (NEXT_DAY, NEXT_DAY + timedelta(days=6), 7, 1)
    assert pilot.appended.start_date == NEXT_DAY and pilot.appended.end_date == pilot.end
    assert pilot.appended.dataset.end_date == pilot.end
    assert pilot.appended.source == ("simulated pilot: S001, S003 ordered from batch version 1, 2026-11-01 to "
                                     "2026-11-07")
    assert pilot.appended.n_rows == 4 * 12 * 7 - 4 * 7 * int(
        (warehouse.side_table(dataset, "items")["discontinue_date"].notna()).sum())


def test_treated_orders_are_the_batch_quantity_less_the_carried_stock(published) -> None:
    warehouse, dataset = published
    batch = handoff_store.batch_forecasts(warehouse, dataset.dataset_id, 1)
    pilot = simulate_pilot(warehouse, dataset.dataset_id, "store_id", ["S002"], NEXT_DAY, 7, batch_version=1)
    quantity = batch.set_index(["unique_id", "ds"])["order_quantity"]
    # A one-day item carries nothing: it orders the quantity rounded up.
    bento = rows_of(warehouse, dataset.dataset_id, "S002/I0001")
    pilot_days = bento["ds"] >= pd.Timestamp(NEXT_DAY)
    wanted = np.ceil([quantity[("S002/I0001", d)] for d in bento.loc[pilot_days, "ds"]])
    assert bento.loc[pilot_days, "ordered"].tolist() == wanted.tolist()
    # A drink that never expires orders what the shelf lacks of it.
    drink = rows_of(warehouse, dataset.dataset_id, "S002/I0002")
    carried = carried_into(drink, 365)[-7:]
    up_to = np.ceil([quantity[("S002/I0002", d)] for d in drink["ds"].iloc[-7:]])
    assert drink["ordered"].iloc[-7:].tolist() == np.maximum(up_to - carried, 0).tolist()
    assert pilot.targets.loc[pilot.targets["unique_id"] == "S002/I0002", "order_up_to"].tolist() == pytest.approx(
        [quantity[("S002/I0002", d)] for d in drink["ds"].iloc[-7:]])
    # A control store's rows are today's practice, as if there were no pilot.
    control = rows_of(warehouse, dataset.dataset_id, "S001/I0001")
    practice = continue_chain(CHAIN, 7).sales
    practice = practice[(practice["store_id"] == "S001") & (practice["item_id"] == "I0001")]
    assert control["ordered"].iloc[-7:].tolist() == practice["ordered"].tolist()


def test_the_true_effect_is_the_treated_stores_with_the_batch_less_without(published) -> None:
    warehouse, dataset = published
    pilot = simulate_pilot(warehouse, dataset.dataset_id, "store_id", ["S002", "S004"], NEXT_DAY, 14, batch_version=1)
    with_batch = pilot.outcomes.set_index(["store", "ds"])
    without = pilot.counterfactual.set_index(["store", "ds"])
    assert len(with_batch) == len(without) == 4 * 14
    # Control stores are the same in both worlds; treated stores differ.
    controls = with_batch.index.get_level_values("store").isin(["S001", "S003"])
    pd.testing.assert_frame_equal(with_batch[controls], without[controls])
    assert not with_batch[~controls].equals(without[~controls])
    for measure in OUTCOME_COLUMNS:
        expected = (with_batch.loc[~controls, measure] - without.loc[~controls, measure]).mean()
        assert pilot.true_effect(measure) == pytest.approx(expected)
    # The same counterfactual can be asked for after the pilot was appended.
    again = counterfactual_outcomes(warehouse, dataset.dataset_id, NEXT_DAY, 14)
    pd.testing.assert_frame_equal(again, pilot.counterfactual)
    with pytest.raises(PilotSimulationError, match="Unknown measure 'margin'"):
        pilot.true_effect("margin")


def test_the_recorded_outcomes_match_the_simulations_truth(published) -> None:
    """What the readout measures from the appended rows (core.money.outcomes: profit and
    waste replayed from the recorded orders) is the simulation's own truth."""
    warehouse, dataset = published
    pilot = simulate_pilot(warehouse, dataset.dataset_id, "store_id", ["S001"], NEXT_DAY, 7)
    grown = warehouse.get_dataset(dataset.dataset_id)
    measured = store_day_outcomes(dataset_data(warehouse, grown), warehouse.side_table(grown, "items"), Economics(),
                                  "store_id", start=NEXT_DAY).set_index(["store", "ds"])
    truth = pilot.outcomes.set_index(["store", "ds"])
    for measure in ("profit", "revenue", "waste_cost", "stockout_days", "units"):
        # (the warehouse reads dates back in microseconds, the generator makes them in seconds)
        pd.testing.assert_series_equal(measured[measure], truth[measure], check_names=False, check_index_type=False)
    # Lost sales are estimated from censored sales by the readout, known exactly here.
    assert (truth["lost_margin"] > 0).any()


def test_a_later_extension_starts_from_the_shelf_the_pilot_left(published) -> None:
    warehouse, dataset = published
    pilot = simulate_pilot(warehouse, dataset.dataset_id, "store_id", ["S001"], NEXT_DAY, 7)
    # Version 2 has no order quantities (no service level): the treated store orders up to the forecast.
    batch = handoff_store.batch_forecasts(warehouse, dataset.dataset_id, 2)
    assert pilot.batch_version == 2 and batch["order_quantity"].isna().all()
    in_pilot = batch[batch["ds"] <= pd.Timestamp(pilot.end)]
    assert pilot.targets["order_up_to"].tolist() == in_pilot["forecast"].tolist()
    extend_demo(warehouse, dataset.dataset_id, 7)
    drink = rows_of(warehouse, dataset.dataset_id, "S001/I0002")
    carried = carried_into(drink, 365)[-7:]
    # After the pilot the practice is back: the best same weekday of 3 weeks + 10 %, less what is on the shelf.
    y = drink["y"].to_numpy()
    n = len(drink)
    best = [max(y[d - 7], y[d - 14], y[d - 21]) for d in range(n - 7, n)]
    target = np.maximum(np.ceil(np.array(best) * 1.1), 1)
    assert drink["ordered"].iloc[-7:].tolist() == np.maximum(target - carried, 0).tolist()


def test_refusals_say_what_to_do(published, warehouse, small_spec) -> None:
    published_warehouse, dataset = published
    wid = dataset.dataset_id

    def refused(match: str, **changes) -> None:
        arguments = {"store_column": "store_id", "treated": ["S001"], "start": NEXT_DAY, "days": 7} | changes
        with pytest.raises(PilotSimulationError, match=match):
            simulate_pilot(published_warehouse, wid, **arguments)

    refused("Publish a batch with a horizon of at least 21 days on the Hand-off page", days=21)
    refused("it starts on 2026-11-01, not 2026-11-08", start=NEXT_DAY + timedelta(days=7))
    refused("it starts on 2026-11-01, not 2026-10-01", start=REFERENCE_END_DATE - timedelta(days=30))
    refused("no forecasts for store\\(s\\) S002: it covers S001", treated=["S002"], batch_version=2)
    refused("Version 7 of this dataset's batch forecasts does not exist", batch_version=7)
    refused("no store\\(s\\) S009", treated=["S009"])
    refused("leaving no control store", treated=["S001", "S002", "S003", "S004"])
    refused("at least one treated store", treated=[])
    refused("stores are named by 'store_id', not 'region'", store_column="region")
    refused("lasts 1 to 366 days", days=0)
    assert published_warehouse.get_dataset(wid).n_rows == dataset.n_rows  # nothing appended

    fresh = load_demo(warehouse, DemoConfig(stores=2, items=3, years=1, end_date=REFERENCE_END_DATE, name="fresh"))
    with pytest.raises(PilotSimulationError, match="No batch forecast has been published for 'fresh': publish one "
                                                   "with a horizon of at least 7 days on the Hand-off page"):
        simulate_pilot(warehouse, fresh.dataset_id, "store_id", ["S001"], NEXT_DAY, 7)
    imported = warehouse.create_dataset(small_spec, pd.DataFrame({
        "store": ["S0"] * 3, "item": ["I0"] * 3, "category": "food", "ds": pd.date_range("2025-01-01", periods=3),
        "y": [1.0, 2.0, 3.0], "promo": 0}))
    with pytest.raises(PilotSimulationError, match="'small' was imported, not generated"):
        simulate_pilot(warehouse, imported.dataset_id, "store", ["S0"], pd.Timestamp("2025-01-04").date(), 7)
