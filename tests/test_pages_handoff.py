"""AppTest of the Hand-off page: it renders on a warehouse with a run, and Publish adds versions."""

from __future__ import annotations

import pytest

from core import fmt
from core.warehouse import Warehouse
from tests.conftest import finish_jobs, new_session, open_page, store_run
from tests.test_pages_money import turnover_with_run  # noqa: F401 (a fixture)

PAGE = "pages/handoff.py"


@pytest.fixture
def warehouse_with_run(warehouse_env):
    """The demo chain with a small stored run: one store's 50 series, practice and three rules."""
    warehouse = Warehouse(warehouse_env)
    store_run(warehouse, ("S001",), ("practice", "naive", "snaive", "ma"), horizon=7, name="S001 rules")
    warehouse.close()
    return warehouse_env


def test_empty_handoff_page_points_to_the_backtest(warehouse_env):
    at = new_session(PAGE)
    assert any("No backtest run yet" in i.value for i in at.info)


def test_handoff_page_publishes_versions(warehouse_with_run):
    at = new_session(PAGE)
    assert at.title[0].value == "Hand-off to production"
    model = at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Model (best WAPE first)"))
    assert model.value != "practice" and "practice" not in model.options[0]
    assert "WAPE" in model.options[0] and "best" in model.options[0]
    name = fmt.model_name(model.value)  # people read names, not aliases
    assert name != model.value and model.options[0].startswith(f"{name} · WAPE")
    assert any(c.value.startswith(":material/info: Not offered for publishing: Today's practice is today's ordering")
               for c in at.caption)
    assert any("Nothing has been published" in i.value for i in at.info)

    finish_jobs(next(b for b in at.button if b.label == "Publish").click().run())
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    versions = at.dataframe[0].value
    # Two of S001's items were discontinued before the last date: not forecast, and said so.
    assert versions["version"].tolist() == [1] and versions["series"].tolist() == [48]
    published = next(d.value for d in at.dataframe if "Job" in d.value.columns)  # the publish ran as a job
    assert published["State"].tolist() == ["done"] and published["Job"].iloc[0].startswith(f"Publish {name} for ")
    assert versions["model"].tolist() == [name]
    assert any("2 series of the run's scope" in c.value for c in at.caption)
    # The demo here ends on 2026-10-31 (pinned): a batch from 2026-11-01 is in the past today.
    assert any("forecasts from 2026-11-01, which is in the past" in w.value for w in at.warning)

    at.toggle(key="handoff_orders").set_value(True).run()
    finish_jobs(next(b for b in at.button if b.label == "Publish").click().run())
    assert not at.exception, at.exception
    versions = at.dataframe[0].value
    assert versions["version"].tolist() == [2, 1]
    assert at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Version")).value == 2
    # Each item's level from the shelf simulation, said as it is done (no critical ratio).
    captions = " ".join(c.value for c in at.caption)
    assert "that earned it the most in the shelf simulation" in captions and "margin ÷" not in captions
    rows = at.dataframe[1].value
    assert {"store_id", "item_id", "date", "forecast", "order quantity"} <= set(rows.columns)
    assert rows["order quantity"].notna().all() and (rows["store_id"] == "S001").all()
    assert at.get("download_button") and at.get("plotly_chart")


def test_handoff_page_is_in_the_navigation(warehouse_with_run):
    at = new_session()
    at = open_page(at, PAGE)
    assert at.title[0].value == "Hand-off to production"


def test_handoff_asks_for_prices_in_a_section_of_its_own_page(turnover_with_run):
    """Turnover has no prices: each item's level needs averages, and the message names
    the section that is right there on the Hand-off page (not on the Money page)."""
    at = new_session(PAGE)
    at.toggle(key="handoff_orders").set_value(True).run()
    section = "Prices, costs, shelf life and demand on stockout days"
    assert section in [e.label for e in at.expander]
    finish_jobs(next(b for b in at.button if b.label == "Publish").click().run())
    assert not at.exception, at.exception
    assert any(section in e.value for e in at.error)
    # Averages typed there are the project's, and the publish then succeeds.
    for label, value in (("Average unit price (¥)", 300.0), ("Average unit cost (¥)", 200.0),
                         ("Average shelf life (days)", 5)):
        next(n for n in at.number_input if n.label == label).set_value(value).run()
    finish_jobs(next(b for b in at.button if b.label == "Publish").click().run())
    assert not at.error, [e.value for e in at.error]
    assert at.dataframe[0].value["version"].tolist() == [1]


def test_a_batch_from_today_on_data_ending_yesterday_is_current(tmp_path, monkeypatch):
    """Data that ends yesterday is as fresh as data gets: its batch starts today, and the page
    must not call it out of date (it did, with ``<=`` today)."""
    import datetime

    from core.data.demo import DemoConfig, load_demo
    from core.warehouse import ENV_VAR

    path = tmp_path / "warehouse.duckdb"
    warehouse = Warehouse(path)
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    load_demo(warehouse, DemoConfig(stores=1, items=3, years=1, seed=5, end_date=yesterday))
    store_run(warehouse, ("S001",), ("naive", "snaive"), horizon=7, name="fresh")
    warehouse.close()
    monkeypatch.setenv(ENV_VAR, str(path))
    at = new_session(PAGE)
    finish_jobs(next(b for b in at.button if b.label == "Publish").click().run())
    assert not at.exception, at.exception
    rows = at.dataframe[1].value
    assert str(rows["date"].min())[:10] == str(datetime.date.today())
    assert not [w.value for w in at.warning if "in the past" in w.value]


def test_publishing_follows_the_decisions_ordering_rule_and_says_so(warehouse_with_run):
    """A decision taken ordering at the model's quantile: the page offers that rule first,
    publishes order quantities = forecast + the model's offset from all the run's folds,
    and the versions table says which rule made them."""
    from dataclasses import replace
    from pathlib import Path

    import numpy as np

    from core.backtest import store as runs
    from core.backtest.engine import dataset_data
    from core.backtest.quantiles import future_offsets
    from core.decision import store as decisions
    from core.decision.verdict import Decision
    from core.handoff import store as handoff_store
    from core.money.impact import QUANTILE, ImpactConfig, rule_words, segment_of
    from core.planning import store as planning

    warehouse = Warehouse(warehouse_with_run)
    project = planning.ensure_example_project(warehouse)
    run = runs.list_runs(warehouse)[0]
    sample = Decision.from_json((Path(__file__).parent / "data" / "decision_sample.json").read_text("utf-8"))
    decision = replace(sample, project_id=project.project_id, run_id=run.run_id, model="ma", verdict="GO",
                       ordering_rule=QUANTILE,
                       ordering=ImpactConfig(service_level=0.95, ordering_rule=QUANTILE).level_label)
    decisions.save_decision(warehouse, decision)
    warehouse.close()

    at = new_session(PAGE)
    assert at.radio(key=f"handoff_rule_{run.run_id}").value == QUANTILE  # the decision's rule
    at.toggle(key="handoff_orders").set_value(True).run()
    at.radio(key="handoff_level_mode").set_value("one level for all").run()  # the slider's 95 %
    assert any("follows the GO / NO-GO decision on this run" in c.value for c in at.caption)
    finish_jobs(next(b for b in at.button if b.label == "Publish").click().run())
    assert not at.exception and not at.error, [e.value for e in at.error]
    versions = at.dataframe[0].value
    assert versions["model"].tolist() == ["Moving average"]
    assert versions["order quantity up to"].tolist() == [str(rule_words(QUANTILE))]

    warehouse = Warehouse(warehouse_with_run)
    try:
        dataset = warehouse.get_dataset(run.dataset_id)
        rows = handoff_store.batch_forecasts(warehouse, dataset.dataset_id)
        forecasts = runs.run_forecasts(warehouse, run.run_id)
        data = dataset_data(warehouse, dataset, run.scope)
        offsets = future_offsets(forecasts[forecasts["model"] == "ma"], (0.95,), segment_of(data))
        header = handoff_store.list_batches(warehouse, dataset.dataset_id).iloc[0]
    finally:
        warehouse.close()
    assert header["model_params"]["ordering_rule"] == QUANTILE and header["decision_id"] == decision.decision_id
    assert header["service_level"] == 0.95
    expected = (rows["forecast"] + rows["unique_id"].map(offsets.set_index("unique_id")["offset"])).clip(lower=0)
    assert rows["order_quantity"].notna().all()
    np.testing.assert_allclose(rows["order_quantity"], expected)


def test_a_decision_on_a_model_mitoshi_cannot_publish_is_not_claimed_for_the_batch(warehouse_with_run):
    """The decision chose a model made elsewhere; the picker offers the run's own models:
    the banner says the batch will not record the decision, and it does not. The order
    toggle's label follows the ordering rule."""
    from dataclasses import replace
    from pathlib import Path

    from core.backtest import store as runs
    from core.decision import store as decisions
    from core.decision.verdict import Decision
    from core.handoff import store as handoff_store
    from core.money.impact import NORMAL, QUANTILE, ImpactConfig
    from core.planning import store as planning

    warehouse = Warehouse(warehouse_with_run)
    project = planning.ensure_example_project(warehouse)
    run = runs.list_runs(warehouse)[0]
    sample = Decision.from_json((Path(__file__).parent / "data" / "decision_sample.json").read_text("utf-8"))
    decision = replace(sample, project_id=project.project_id, run_id=run.run_id, model="ext:SameWeekday4 mean",
                       verdict="CONDITIONAL GO", ordering_rule=QUANTILE,
                       ordering=ImpactConfig(service_level=0.95, ordering_rule=QUANTILE).level_label)
    decisions.save_decision(warehouse, decision)
    warehouse.close()

    at = new_session(PAGE)
    alias = at.selectbox(key=f"handoff_model_{run.run_id}").value
    name = fmt_name(alias)
    banner = next(i.value for i in at.info if "GO / NO-GO decision" in i.value)
    assert "is **CONDITIONAL GO** for **SameWeekday4 mean**, which Mitoshi cannot publish." in banner
    assert f"You are publishing **{name}** instead: the batch will not record the decision." in banner
    assert "records the decision with the batch" not in banner
    assert at.toggle(key="handoff_orders").label == "Order quantities (the model's quantile)"
    at.toggle(key="handoff_orders").set_value(True).run()
    at.radio(key=f"handoff_rule_{run.run_id}").set_value(NORMAL).run()
    assert at.toggle(key="handoff_orders").label == "Order quantities (forecast + safety stock)"
    finish_jobs(next(b for b in at.button if b.label == "Publish").click().run())
    assert not at.exception and not at.error, [e.value for e in at.error]
    warehouse = Warehouse(warehouse_with_run)
    try:
        header = handoff_store.list_batches(warehouse, run.dataset_id).iloc[0]
    finally:
        warehouse.close()
    assert header["model"] == alias and header["decision_id"] is None


def fmt_name(alias: str) -> str:
    from core import fmt

    return fmt.model_name(alias)


def test_the_banner_says_when_the_model_published_is_not_the_decisions():
    from pathlib import Path

    from core.decision.verdict import Decision
    from ui.handoff import decision_note

    sample = Decision.from_json((Path(__file__).parent / "data" / "decision_sample.json").read_text("utf-8"))
    from dataclasses import replace

    decision = replace(sample, model="ets", verdict="GO", created_at="2026-11-30T17:26:42")
    head = f"The GO / NO-GO decision of 2026-11-30 17:26:42 on this run ({decision.project_name}) is **GO** for **ETS (exponential smoothing)**"
    assert decision_note(decision, "ets", True) == head + "; publishing it records the decision with the batch."
    assert decision_note(decision, "ma", True) == (head + ". You are publishing **Moving average** instead: the batch "
                                                   "will not record the decision. Choose ETS (exponential smoothing) to record it.")
