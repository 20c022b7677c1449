"""After launch: a published batch watched against the actuals appended since.

The data are made so that every number is known by hand. Four series (2 stores × 2 items),
daily, twelve Monday-to-Sunday weeks from 2025-01-06: ``y = BASE[weekday] + 2 × series +
e``, with ``e = +1`` in even weeks and ``−1`` in odd ones. Seasonal naive repeats last
week, so each of its errors is ±2: in the backtest (three one-week folds) a week's WAPE is
56 / 560 = 10.0 % (an even week) or 56 / 504 = 11.1 % (an odd one).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from core.backtest.store import get_run
from core.columns import Freq
from core.errors import MitoshiError
from core.handoff import store as handoff_store
from core.handoff.batch import PublishOptions, prepare_batch
from core.pilot import monitor
from core.pilot.monitor import BandConfig, MonitorError
from core.warehouse import DatasetSpec, Warehouse
from tests.conftest import new_session, open_page, store_run

BASE = np.array([10, 12, 14, 16, 18, 20, 22], dtype=float)  # Monday … Sunday
START = pd.Timestamp("2025-01-06")  # a Monday
WEEKS = 12
SERIES = [("S1", "I1"), ("S1", "I2"), ("S2", "I1"), ("S2", "I2")]  # offsets 0, 2, 4, 6
PAGE = "pages/monitoring.py"


def sales(first: pd.Timestamp, days: int, series=SERIES) -> pd.DataFrame:
    """The world's sales from ``first`` for ``days`` days: the pattern above, continued."""
    rows = []
    for k, (store, item) in enumerate(SERIES):
        if (store, item) not in series:
            continue
        for d in range(days):
            day = first + pd.Timedelta(days=d)
            week = (day - START).days // 7
            rows.append({"store_id": store, "item_id": item, "ds": day,
                         "y": BASE[day.weekday()] + 2 * k + (1 if week % 2 == 0 else -1)})
    return pd.DataFrame(rows)


@pytest.fixture
def published(warehouse):
    """The dataset, a stored run of seasonal naive (3 one-week folds) and its batch of 14
    days (2025-03-31 to 2025-04-13) published as version 1."""
    spec = DatasetSpec(name="watched", freq=Freq.DAILY, keys=("store_id", "item_id"), source="test")
    dataset = warehouse.create_dataset(spec, sales(START, WEEKS * 7))
    run_id = store_run(warehouse, ("S1", "S2"), ("snaive",), horizon=7, name="naive weeks", folds=3)
    run = get_run(warehouse, run_id)
    batch = prepare_batch(warehouse, run_id, PublishOptions.from_run(run, "snaive", horizon=14))
    assert handoff_store.publish_batch(warehouse, batch) == 1
    return warehouse, dataset


def append_weeks(warehouse, dataset):
    """Week 1 (from 2025-03-31) as the world goes on; week 2 three days (Mon–Wed) of three
    series, at twice what was forecast: the fourth series (S2/I2) sold nothing on record."""
    warehouse.append_rows(dataset.dataset_id, sales(pd.Timestamp("2025-03-31"), 7), source="week 1")
    forecasts = handoff_store.batch_forecasts(warehouse, dataset.dataset_id, 1)
    drift = forecasts[(forecasts["ds"] >= pd.Timestamp("2025-04-07")) & (forecasts["ds"] <= pd.Timestamp("2025-04-09"))
                      & (forecasts["unique_id"] != "S2/I2")]
    keys = drift["unique_id"].str.split("/", expand=True)
    frame = pd.DataFrame({"store_id": keys[0], "item_id": keys[1], "ds": drift["ds"], "y": 2 * drift["forecast"]})
    warehouse.append_rows(dataset.dataset_id, frame, source="week 2, drifting")
    return frame


def test_periods_are_monday_weeks_for_days_and_themselves_otherwise():
    dates = pd.Series(pd.to_datetime(["2026-11-01", "2026-11-02", "2026-11-08", "2026-11-09"]))
    assert monitor.period_starts(dates, Freq.DAILY).dt.strftime("%Y-%m-%d").tolist() == \
        ["2026-10-26", "2026-11-02", "2026-11-02", "2026-11-09"]
    assert monitor.period_starts(dates, Freq.WEEKLY).tolist() == dates.tolist()


def test_the_forecast_is_what_the_hand_computation_assumes(published):
    warehouse, dataset = published
    rows = handoff_store.batch_forecasts(warehouse, dataset.dataset_id, 1)
    # Seasonal naive repeats week 11 (odd: e = −1) twice: S1/I1 on Monday forecasts 10 − 1.
    first = rows[rows["unique_id"] == "S1/I1"].iloc[0]
    assert first["ds"] == pd.Timestamp("2025-03-31") and first["forecast"] == 9.0
    assert len(rows) == 4 * 14


def test_nothing_appended_yet_every_week_waits(published):
    warehouse, dataset = published
    watch = monitor.watch_batch(warehouse, dataset.dataset_id)
    assert watch.periods["period_start"].dt.strftime("%Y-%m-%d").tolist() == ["2025-03-31", "2025-04-07"]
    assert watch.periods["status"].tolist() == ["waiting", "waiting"]
    assert watch.periods["series"].tolist() == [0, 0] and watch.periods["wape"].isna().all()
    assert watch.alert_sentences() == [] and watch.last_actual is None
    assert watch.coverage_sentences() == [
        "No actuals yet for this batch (it forecasts 2025-03-31 to 2025-04-13; the data ends 2025-03-30): append the "
        "period's sales on Import & manage, or extend the demo."]


def test_weekly_wape_bias_and_coverage_by_hand(published):
    warehouse, dataset = published
    append_weeks(warehouse, dataset)
    watch = monitor.watch_batch(warehouse, dataset.dataset_id, 1)
    first, second = (row for _, row in watch.periods.iterrows())

    # Week 1: every error is −2 (the batch said week 11, odd; week 12 is even): 56 / 560.
    assert first["status"] == "complete" and first["rows"] == 28 and first["series"] == 4
    assert first["wape"] == pytest.approx(56 / 560) and first["bias"] == pytest.approx(-56 / 560)
    assert first["mae"] == pytest.approx(2.0) and first["actual_units"] == 560
    # Week 2: Monday to Wednesday of S1/I1, S1/I2, S2/I1 at twice the forecast. The forecast
    # is (10, 12, 14) − 1 + offset (0, 2, 4): Σ = 3 × 33 + 3 × 6 = 117; sold 234.
    assert second["status"] == "partial" and second["rows"] == 9 and second["dates"] == 3
    assert second["series"] == 3 and second["series_forecast"] == 4 and second["series_missing"] == 1
    assert second["series_share"] == pytest.approx(0.75)
    assert second["forecast_units"] == 117 and second["actual_units"] == 234
    assert second["wape"] == pytest.approx(0.5) and second["bias"] == pytest.approx(-0.5)
    assert second["mae"] == pytest.approx(13.0)


def test_the_drifting_week_alerts_and_the_good_one_does_not(published):
    warehouse, dataset = published
    append_weeks(warehouse, dataset)
    watch = monitor.watch_batch(warehouse, dataset.dataset_id, 1)
    first, second = (row for _, row in watch.periods.iterrows())
    # The backtest's weeks scored 10.0 % and 11.1 % (bias −10 % and +11 %): week 1 is one of them.
    assert first["wape_low"] < 0.10 < first["wape_high"] and 0.111 < first["wape_high"] < 0.14
    assert first["bias_low"] < -0.10 and first["bias_high"] > 0.11
    assert not first["wape_alert"] and not first["wape_below"] and not first["bias_alert"]
    assert second["wape_alert"] and second["bias_alert"] and second["wape_high"] < 0.2
    assert second["band_weeks"] == 3  # the three folds' weeks, Monday to Wednesday
    alerts = watch.alert_sentences()
    assert alerts[0] == (f"Week of 2025-04-07: WAPE 50% is above the backtest's band "
                         f"{round(second['wape_low'] * 100)}–{round(second['wape_high'] * 100)}%: the forecasts are "
                         "drifting.")
    assert alerts[1].startswith("Week of 2025-04-07: bias −50% is outside the backtest's range −")
    assert alerts[1].endswith("the batch under-forecasts more than in the backtest (expect empty shelves).")
    assert len(alerts) == 2
    assert [name for name, _ in watch.fold_wape] == ["2025-03-09", "2025-03-16", "2025-03-23"]
    assert [round(v, 4) for _, v in watch.fold_wape] == [round(56 / 504, 4), round(56 / 560, 4), round(56 / 504, 4)]


def test_series_not_covered_are_counted_and_named(published):
    warehouse, dataset = published
    append_weeks(warehouse, dataset)
    watch = monitor.watch_batch(warehouse, dataset.dataset_id, 1)
    assert watch.data_end == pd.Timestamp("2025-04-09").date() and watch.last_actual == watch.data_end
    assert watch.missing_series == ()  # S2/I2 sold in week 1: it is late, not gone
    assert watch.coverage_sentences() == [
        "No actuals yet after 2025-04-09 (the batch forecasts up to 2025-04-13): append the period's sales on Import "
        "& manage, or extend the demo.",
        "Week of 2025-04-07: 1 of 4 series has no actual yet."]


def test_a_series_with_no_actual_at_all_is_named(published):
    warehouse, dataset = published
    week = sales(pd.Timestamp("2025-03-31"), 7, series=SERIES[:3])
    warehouse.append_rows(dataset.dataset_id, week)
    watch = monitor.watch_batch(warehouse, dataset.dataset_id)
    assert watch.missing_series == ("S2/I2",)
    assert "1 of 4 series has no actual on any date the data has reached (ended, or its sales were not appended): " \
           "S2/I2." in watch.coverage_sentences()
    # Three series: 3 × 7 × 2 = 42 over the three's sales, Σ(BASE + offset + 1) = 3 × 119 + 7 × 6.
    assert watch.periods["wape"].iloc[0] == pytest.approx(42 / (3 * 119 + 42))


def test_stored_rows_replace_on_recompute_and_other_versions_stay(published):
    warehouse, dataset = published
    run = get_run(warehouse, handoff_store.list_batches(warehouse)["run_id"].iloc[0])
    batch = prepare_batch(warehouse, run.run_id, PublishOptions.from_run(run, "snaive", horizon=7))
    assert handoff_store.publish_batch(warehouse, batch) == 2
    frame = append_weeks(warehouse, dataset)

    saved = monitor.monitor_batch(warehouse, dataset.dataset_id, 1)
    monitor.monitor_batch(warehouse, dataset.dataset_id, 2)
    stored = monitor.stored_monitoring(warehouse, dataset.dataset_id, 1)
    assert len(stored) == 2 * len(monitor.ERROR_MEASURES) and saved.computed_at is not None
    assert len(monitor.stored_monitoring(warehouse, dataset.dataset_id, 2)) == len(monitor.ERROR_MEASURES)
    wape = stored[stored["measure"] == "wape"].set_index("period_start")
    assert wape["value"].tolist() == pytest.approx([0.1, 0.5]) and wape["alert"].tolist() == [False, True]
    assert wape["band_low"].notna().all() and stored.loc[stored["measure"] == "rows", "band_low"].isna().all()
    alerts = warehouse.query(monitor.EXAMPLE_QUERY)
    assert alerts[["version", "measure"]].values.tolist() == [[1, "bias"], [1, "wape"]]
    assert set(alerts["dataset_name"]) == {"watched"} and set(alerts["model"]) == {"snaive"}

    # The rest of week 2 arrives (Thursday to Sunday, the same three series, as forecast).
    forecasts = handoff_store.batch_forecasts(warehouse, dataset.dataset_id, 1)
    rest = forecasts[(forecasts["ds"] >= pd.Timestamp("2025-04-10")) & (forecasts["unique_id"] != "S2/I2")]
    keys = rest["unique_id"].str.split("/", expand=True)
    warehouse.append_rows(dataset.dataset_id, pd.DataFrame({"store_id": keys[0], "item_id": keys[1],
                                                            "ds": rest["ds"], "y": rest["forecast"]}))
    again = monitor.monitor_batch(warehouse, dataset.dataset_id, 1)
    stored = monitor.stored_monitoring(warehouse, dataset.dataset_id, 1)
    assert len(stored) == 2 * len(monitor.ERROR_MEASURES)  # replaced, not added
    week2 = stored[stored["period_start"] == pd.Timestamp("2025-04-07")].set_index("measure")["value"]
    assert week2["rows"] == 21 and week2["dates"] == 7
    assert week2["wape"] == pytest.approx(117 / (234 + rest["forecast"].sum()))
    assert stored["computed_at"].nunique() == 1 and stored["computed_at"].iloc[0] == again.computed_at
    assert len(monitor.stored_monitoring(warehouse, dataset.dataset_id, 2)) == len(monitor.ERROR_MEASURES)
    weeks = warehouse.query(monitor.WEEKS_QUERY)
    assert weeks[["version", "series", "series_missing"]].values.tolist() == [[1, 4, 0], [1, 3, 1], [2, 4, 0]]
    assert len(frame) == 9


def test_a_failed_store_keeps_the_old_rows(published):
    warehouse, dataset = published
    append_weeks(warehouse, dataset)
    monitor.monitor_batch(warehouse, dataset.dataset_id, 1)
    watch = monitor.watch_batch(warehouse, dataset.dataset_id, 1)
    broken = monitor.BatchWatch(**{**watch.__dict__, "periods": watch.periods.assign(period_start=pd.NaT)})
    with pytest.raises(Exception, match="NOT NULL"):
        monitor.save_watch(warehouse, broken)
    assert len(monitor.stored_monitoring(warehouse, dataset.dataset_id, 1)) == 2 * len(monitor.ERROR_MEASURES)


def test_the_band_is_the_same_for_the_same_seed_and_wider_for_fewer_series(published):
    warehouse, dataset = published
    errors = monitor._backtest_errors(warehouse, get_run(warehouse, handoff_store.list_batches(warehouse)
                                                         ["run_id"].iloc[0]).run_id, "snaive", set())
    one = monitor.error_band(errors, Freq.DAILY, 1)
    four = monitor.error_band(errors, Freq.DAILY, 4)
    many = monitor.error_band(errors, Freq.DAILY, 400)
    assert four == monitor.error_band(errors, Freq.DAILY, 4) and four.weeks == 3
    assert one.wape_high - one.wape_low > four.wape_high - four.wape_low > many.wape_high - many.wape_low
    # With 400 series a week's WAPE is its backtest week's: the band spans 10.0 % to 11.1 %.
    assert many.wape_low == pytest.approx(0.1, abs=0.003) and many.wape_high == pytest.approx(56 / 504, abs=0.003)
    assert monitor.error_band(errors.iloc[:0], Freq.DAILY, 4).weeks == 0


def test_bad_requests_say_what_to_do(published, warehouse):
    _, dataset = published
    with pytest.raises(MonitorError, match="Version 7 .* does not exist; the published versions are 1"):
        monitor.watch_batch(warehouse, dataset.dataset_id, 7)
    other = warehouse.create_dataset(DatasetSpec(name="unpublished", freq=Freq.DAILY, keys=("store_id", "item_id")),
                                     sales(START, 70))
    with pytest.raises(MonitorError, match="Nothing has been published for this dataset yet"):
        monitor.watch_batch(warehouse, other.dataset_id)
    with pytest.raises(MonitorError, match="between 0 and 1"):
        BandConfig(level=90)


def test_the_monitor_command_prints_json_and_stores(published):
    warehouse, dataset = published
    append_weeks(warehouse, dataset)
    lines: list[str] = []
    args = SimpleNamespace(dataset="watched", version=1, json=True, stores="", no_money=False, fail_on_alert=True)
    assert monitor.run_monitor(warehouse, args, write=lines.append) == 1  # a week alerts
    data = json.loads(lines[0])
    assert data["version"] == 1 and data["model"] == "snaive" and len(data["alerts"]) == 2
    assert [p["period_start"] for p in data["periods"]] == ["2025-03-31", "2025-04-07"]
    assert data["periods"][1]["wape"] == pytest.approx(0.5) and data["periods"][0]["wape_alert"] is False
    # This dataset records no orders: no money, and said so.
    assert data["money"]["sentences"] == [
        "Money realised is not counted: This dataset does not record what was ordered: the pilot's outcome (waste, "
        "profit) needs each day's orders. Map the column of ordered units when importing, or append the pilot's rows "
        "with their orders."]
    assert len(monitor.stored_monitoring(warehouse, dataset.dataset_id, 1)) == 2 * len(monitor.ERROR_MEASURES)
    assert monitor.run_monitor(warehouse, SimpleNamespace(**{**args.__dict__, "json": False, "fail_on_alert": False}),
                               write=lines.append) == 0
    assert lines[-1].splitlines()[2] == ("  Week of 2025-03-31: WAPE 10.0% (band 10–12%), bias −10.0%, MAE 2.00, "
                                         "4 of 4 series, 7 of 7 days")
    with pytest.raises(MitoshiError, match="No dataset called 'nope'. Datasets with published batches: 'watched'"):
        monitor.run_monitor(warehouse, SimpleNamespace(dataset="nope", version=None, json=False))


def test_money_realised_on_the_demo_chain_against_the_promise(warehouse):
    """The small demo chain: a batch with order quantities, a week of the same world in which
    store S001 orders up to them; the money is the stores' recorded outcomes that week."""
    from core.backtest.engine import dataset_data
    from core.data.demo import REFERENCE_END_DATE, DemoConfig, extend_demo, load_demo
    from core.money.impact import Economics, ImpactConfig
    from core.money.outcomes import store_day_outcomes
    from core.money.run_impact import run_impact

    dataset = load_demo(warehouse, DemoConfig(stores=2, items=10, years=2, seed=3, end_date=REFERENCE_END_DATE))
    run_id = store_run(warehouse, ("S001", "S002"), ("snaive",), horizon=7, name="demo naive")
    run = get_run(warehouse, run_id)
    batch = prepare_batch(warehouse, run_id, PublishOptions.from_run(run, "snaive", horizon=14, service_level=0.9))
    handoff_store.publish_batch(warehouse, batch)
    rows = handoff_store.batch_forecasts(warehouse, dataset.dataset_id)
    targets = rows[rows["unique_id"].str.startswith("S001/")][["unique_id", "ds", "order_quantity"]]
    extend_demo(warehouse, dataset.dataset_id, 7, targets=targets.rename(columns={"order_quantity": "order_up_to"}))

    watch = monitor.monitor_batch(warehouse, dataset.dataset_id, options=monitor.WatchOptions(stores=("S001",)))
    assert watch.money.stores == ("S001",) and watch.money.store_column == "store_id"
    # 2026-11-01 is a Sunday: its week starts on 2026-10-26; then Monday 11-02 to Saturday 11-07.
    covered = watch.periods[watch.periods["status"] != "waiting"]
    assert covered["period_start"].dt.strftime("%Y-%m-%d").tolist() == ["2026-10-26", "2026-11-02"]
    assert covered["store_days"].tolist() == [1, 6]
    data = dataset_data(warehouse, warehouse.get_dataset(dataset.dataset_id), {"store_id": ("S001",)})
    direct = store_day_outcomes(data, warehouse.side_table(dataset, "items"), Economics(), "store_id",
                                start="2026-11-01", end="2026-11-07")
    assert covered["profit"].sum() == pytest.approx(direct["profit"].sum())
    assert covered["waste_cost"].sum() == pytest.approx(direct["waste_cost"].sum())
    impact = run_impact(warehouse, run_id, ImpactConfig()).impact
    promised = impact.row("snaive")["yearly_profit"] / (365 * 2 * impact.chain_scale)
    assert watch.money.promise == pytest.approx(promised)
    sentence = watch.money_sentences()[0]
    assert sentence.startswith("Realised so far: ¥") and "over 7 store-days" in sentence
    assert "the backtest promised ¥" in sentence and "with Seasonal naive" in sentence
    stored = monitor.stored_monitoring(warehouse, dataset.dataset_id)
    profit = stored[stored["measure"] == "profit"].dropna(subset=["value"])
    assert profit["value"].sum() == pytest.approx(direct["profit"].sum())


# ---- the page ----
@pytest.fixture
def demo_watched(warehouse_env):
    """The demo chain, a run of seasonal naive on S001, its 14-day batch, and the week after
    the data in which S001 sold three times what it did (appended over the real week)."""
    from core.data.demo import extend_demo

    warehouse = Warehouse(warehouse_env)
    dataset = warehouse.list_datasets()[0]
    run_id = store_run(warehouse, ("S001",), ("snaive",), horizon=7, name="S001 naive")
    run = get_run(warehouse, run_id)
    handoff_store.publish_batch(warehouse, prepare_batch(warehouse, run_id,
                                                         PublishOptions.from_run(run, "snaive", horizon=14)))
    extend_demo(warehouse, dataset.dataset_id, 7)
    week = warehouse.query(f"SELECT * FROM {dataset.table_name} WHERE ds > DATE '2026-10-31' AND store_id = 'S001'")
    warehouse.append_rows(dataset.dataset_id, week.assign(y=3 * week["y"]), replace=True, source="a drifting week")
    warehouse.close()
    return warehouse_env


def test_the_page_shows_the_drift_the_band_and_what_is_missing(demo_watched):
    at = open_page(new_session(), PAGE)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Forecast watch"
    warnings = [w.value.replace("\\", "") for w in at.warning]  # Markdown escapes (core.text.md) dropped
    assert any(w.startswith("Week of 2026-11-02: WAPE ") and "is above the backtest's band" in w
               and w.endswith("the forecasts are drifting.") for w in warnings), warnings
    assert any("No actuals yet after 2026-11-07 (the batch forecasts up to 2026-11-14)" in i.value.replace("\\", "")
               for i in at.info)
    weeks = at.dataframe[0].value
    assert weeks["Period"].tolist() == ["Week of 2026-10-26", "Week of 2026-11-02", "Week of 2026-11-09"]
    assert weeks["Days with actuals"].tolist() == ["1 of 1", "6 of 7", "0 of 6"]
    assert weeks["Status"].tolist() == ["complete", "partial", "no actuals yet"]
    assert weeks["Alert"].iloc[1].startswith("WAPE") and weeks["WAPE"].iloc[1].endswith("%")
    assert weeks["Profit per store-day"].iloc[1].startswith("¥")
    assert len(at.get("plotly_chart")) == 2
    assert any(m.value.replace("\\", "").startswith("Realised so far: ¥") for m in at.markdown)

    warehouse = Warehouse(demo_watched)
    stored = warehouse.query(monitor.EXAMPLE_QUERY)
    warehouse.close()
    assert "wape" in set(stored["measure"]) and set(stored["version"]) == {1}
    next(b for b in at.button if b.label == "Recompute").click().run()
    assert not at.exception and not at.error
    assert any("is above the backtest's band" in w.value for w in at.warning)


def test_the_page_points_to_the_handoff_when_nothing_is_published(warehouse_env):
    at = open_page(new_session(), PAGE)
    assert any("Nothing has been published yet" in i.value for i in at.info)


def test_python_m_core_pilot_monitor(published, capsys):
    from core.pilot.__main__ import main

    warehouse, dataset = published
    append_weeks(warehouse, dataset)
    path = str(warehouse.path)
    warehouse.close()
    assert main(["monitor", "--dataset", "watched", "--version", "1", "--json", "--warehouse", path]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["periods"][1]["wape_alert"] is True and data["missing_series"] == []
    assert main(["monitor", "--dataset", "watched", "--fail-on-alert", "--no-money", "--warehouse", path]) == 1
    assert "ALERT Week of 2025-04-07: WAPE 50%" in capsys.readouterr().out
    assert main(["monitor", "--dataset", "watched", "--version", "3", "--warehouse", path]) == 2
    assert "Version 3 of this dataset's batch forecasts does not exist" in capsys.readouterr().err


@pytest.fixture
def pilot_watched(warehouse_env):
    """The demo chain, seasonal naive on S001 and S002 published for 14 days (version 1), the
    week after the data appended, and the example project's pilot treating S001 and S003 from
    2026-11-01 (of the batch's stores only S001 orders from it)."""
    from datetime import date

    from core.data.demo import extend_demo
    from core.pilot.design import DesignOptions, design_pilot, pilot_history
    from core.pilot.store import save_design
    from core.planning import store as planning

    warehouse = Warehouse(warehouse_env)
    try:
        dataset = warehouse.list_datasets()[0]
        run_id = store_run(warehouse, ("S001", "S002"), ("snaive",), horizon=7, name="naive two")
        run = get_run(warehouse, run_id)
        handoff_store.publish_batch(warehouse, prepare_batch(
            warehouse, run_id, PublishOptions.from_run(run, "snaive", horizon=14, service_level=0.9)))
        extend_demo(warehouse, dataset.dataset_id, 7)
        planning.ensure_example_project(warehouse)
        project = planning.list_projects(warehouse)[0]
        planning.remember_project(warehouse, project.project_id)
        history = pilot_history(warehouse, warehouse.get_dataset(dataset.dataset_id), "store_id", 28)
        design = design_pilot(history, DesignOptions(treated=2, pinned=("S001", "S003"), weeks=2, pre_weeks=4,
                                                     smallest_effect_yearly=5e6, start=date(2026, 11, 1)),
                              project.project_id, dataset.dataset_id, "store_id")
        design_id = save_design(warehouse, design)
        found = monitor.pilot_stores(warehouse, project.project_id, dataset.dataset_id, 1)
        assert found == monitor.PilotStores(("S001", "S003"), date(2026, 11, 1), date(2026, 11, 14), design_id)
        assert monitor.pilot_stores(warehouse, project.project_id, dataset.dataset_id, 2) is None
        assert monitor.pilot_stores(warehouse, None, dataset.dataset_id, 1) is None
        assert monitor.pilot_stores(warehouse, project.project_id, "another", 1) is None
    finally:
        warehouse.close()
    return warehouse_env


def test_the_watch_counts_the_pilots_treated_stores_money_by_default(pilot_watched):
    at = open_page(new_session(), PAGE)
    assert not at.exception and not at.error, [e.value for e in at.error]
    scope = at.radio(key="watch_scope_" + at.selectbox(key="watch_dataset").value + "_1")
    assert scope.value == "pilot" and scope.options == [
        "The pilot's treated stores S001, S003 (the pilot of 2026-11-01 to 2026-11-14)", "Every store of the batch"]
    money = [m.value.replace("\\", "") for m in at.markdown if "Realised so far" in m.value.replace("\\", "")]
    assert len(money) == 1 and "over 7 store-days" in money[0]  # S001 alone: S003 has no series in the batch
    assert money[0].endswith("The promise is an average over the backtest's weeks and its 2 stores, not a forecast "
                             "for these weeks or these stores: seasons and store sizes move both figures.")
    assert any(c.value.replace("\\", "") == "Of the pilot's treated stores S001, S003: in the pilot only they order "
                                            "from this batch." for c in at.caption)
    assert any("Recorded outcomes of 1 store (S001)" in m.value.replace("\\", "") for m in at.markdown)

    scope.set_value("all").run()
    assert not at.exception and not at.error
    money = [m.value.replace("\\", "") for m in at.markdown if "Realised so far" in m.value.replace("\\", "")]
    assert len(money) == 1 and "over 14 store-days" in money[0]  # S001 and S002, 7 days each
    assert any("Recorded outcomes of 2 stores (S001, S002)" in m.value.replace("\\", "") for m in at.markdown)
