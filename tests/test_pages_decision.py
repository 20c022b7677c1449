"""AppTest of the Money impact and GO / NO-GO report pages on the demo chain with a stored run."""

from __future__ import annotations

import pytest

from core.decision import store as decisions
from core.warehouse import Warehouse
from tests.conftest import finish_jobs, new_session, store_run

MONEY, REPORT = "pages/money.py", "pages/report.py"


@pytest.fixture
def warehouse_with_run(warehouse_env):
    """The demo chain with a small stored run: two stores' 100 series, practice and three rules."""
    warehouse = Warehouse(warehouse_env)
    store_run(warehouse, ("S001", "S002"), ("practice", "snaive", "ma"), horizon=14, name="two stores")
    warehouse.close()
    return warehouse_env


def test_money_page_without_a_run_points_to_the_backtest(warehouse_env):
    at = new_session(MONEY)
    assert any("No backtest is stored yet" in i.value for i in at.info)


def test_money_page_shows_savings_and_changes_with_the_service_level(warehouse_with_run):
    at = new_session(MONEY)
    assert not at.error, [e.value for e in at.error]
    savings = next(m for m in at.metric if m.label.startswith("Yearly savings"))
    assert savings.value.startswith(("¥", "\u2212¥"))
    assert any("scaled" in m.value for m in at.markdown if "a year" in m.value)  # 2 of 10 stores: scaled to all
    assert any("Shelves ran empty" in i.value for i in at.info)
    at.radio[0].set_value("One service level for every item").run()
    at.select_slider[0].set_value(0.99).run()
    assert not at.exception, at.exception
    assert next(m for m in at.metric if m.label.startswith("Yearly savings")).value != savings.value
    assert any("99% service level" in m.value for m in at.markdown)


def test_money_page_explains_bad_averages(warehouse_with_run):
    at = new_session(MONEY)
    next(n for n in at.number_input if n.label == "Average unit price (¥)").set_value(100.0).run()
    next(n for n in at.number_input if n.label == "Average unit cost (¥)").set_value(150.0).run()
    assert any("below the unit price" in e.value for e in at.error)


def test_report_evaluates_the_example_project_and_keeps_the_decision(warehouse_with_run):
    at = new_session(REPORT)
    assert at.title[0].value == "GO / NO-GO report"
    assert any("No decision yet" in i.value for i in at.info)
    assert any("WAPE at least 10% better" in m.value for m in at.markdown)  # the example's criteria
    at.segmented_control(key=next(s.key for s in at.segmented_control if "feed" in s.key)).set_value(1.0).run()
    next(b for b in at.button if b.label == "Evaluate and save the decision").click().run()
    assert not at.exception, at.exception
    # A NO-GO's banner is an st.error; any other error is a fault.
    assert not [e.value for e in at.error if not e.value.startswith("### NO-GO")]
    banners = [a.value for a in [*at.success, *at.warning, *at.error] if a.value.startswith("### ")]
    assert len(banners) == 1 and banners[0].split("\n")[0] in ("### GO", "### CONDITIONAL GO", "### NO-GO")
    assert any("first written after this run" in c.value for c in at.caption)  # the example was made after the run
    assert any("GO/NO-GO criteria:" in s.value for s in at.subheader)
    warehouse = Warehouse(warehouse_with_run)
    stored = decisions.list_decisions(warehouse)
    decision = decisions.get_decision(warehouse, stored[0].decision_id)
    warehouse.close()
    assert len(stored) == 1 and decision.project_name.startswith("AI Shop")
    assert next(r for r in decision.readiness if r.key == "feed").score == 1.0


def test_report_page_refuses_a_project_without_criteria(warehouse_with_run):
    at = new_session("pages/projects.py")
    at.text_input(key=next(t.key for t in at.text_input if t.label == "Project name")).set_value("空のプロジェクト")
    next(b for b in at.button if b.label == "Create project").click().run()
    at.switch_page(REPORT)
    at.run()
    assert not at.exception, at.exception
    assert any("no GO/NO-GO criteria yet" in w.value for w in at.warning)


def test_handoff_publishes_the_decided_model_and_records_the_decision(warehouse_with_run):
    from core.backtest import store as runs
    from core.decision.evaluation import decide
    from core.planning import store as planning

    warehouse = Warehouse(warehouse_with_run)
    project = planning.ensure_example_project(warehouse)
    run_id = runs.list_runs(warehouse)[0].run_id
    decision = decide(warehouse, project.project_id, run_id, model="snaive")
    warehouse.close()

    at = new_session("pages/handoff.py")
    assert any("GO / NO-GO decision" in a.value for a in [*at.info, *at.warning])
    model = at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Model (best WAPE first)"))
    assert model.value == "snaive"
    finish_jobs(next(b for b in at.button if b.label == "Publish").click().run())
    assert not at.exception and not at.error, [e.value for e in at.error]
    warehouse = Warehouse(warehouse_with_run)
    recorded = warehouse.query("SELECT decision_id FROM forecast_batches")
    warehouse.close()
    assert recorded["decision_id"].tolist() == [decision.decision_id]


def test_report_warns_when_the_criteria_moved_after_the_run(warehouse_env):
    from core.planning import store as planning
    from core.planning.criteria import Criterion
    from core.planning.definition import ProblemDefinition

    warehouse = Warehouse(warehouse_env)
    project = planning.create_project(warehouse, "moved goalposts")
    first = ProblemDefinition(criteria=(Criterion("wape", "improves_by_at_least", 0.2, "practice"),))
    planning.save_definition(warehouse, project.project_id, first, 0)
    store_run(warehouse, ("S001",), ("practice", "snaive"), horizon=7, name="after v1")
    moved = ProblemDefinition(criteria=(Criterion("wape", "improves_by_at_least", 0.05, "practice"),))
    planning.save_definition(warehouse, project.project_id, moved, 1, "lowered after seeing the results")
    planning.remember_project(warehouse, project.project_id)
    warehouse.close()
    at = new_session(REPORT)
    assert any("changed after the run was made (version 1 → 2)" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "Evaluate and save the decision").click().run()
    assert not at.exception and all(e.value.startswith("### ") for e in at.error)  # only a NO-GO banner
    assert any("changed after the run was made" in m.value for m in at.markdown)  # among the decision's risks


def test_poc_plan_shows_what_each_rung_achieved_in_the_latest_decision(warehouse_with_run):
    from core.backtest import store as runs
    from core.decision.evaluation import decide
    from core.planning import store as planning

    warehouse = Warehouse(warehouse_with_run)
    project = planning.ensure_example_project(warehouse)
    decide(warehouse, project.project_id, runs.list_runs(warehouse)[0].run_id)
    warehouse.close()
    at = new_session("pages/poc-plan.py")
    assert not at.exception
    evidence = next(i.value for i in at.info if "Measured by the decision" in i.value)
    assert "**rule**: best" in evidence and "the ladder stopped at" in evidence


def _evaluate(at):
    next(b for b in at.button if b.label == "Evaluate and save the decision").click().run()
    assert not at.exception, at.exception
    return next(c.value for c in at.caption if c.value.startswith("Decided "))


def test_report_preselects_the_ladders_model_and_shows_the_decision_just_taken(warehouse_with_run):
    from core.backtest import store as runs
    from core.decision.evaluation import recommended_model
    from core.money.impact import ImpactConfig
    from core.money.run_impact import run_impact
    from core.planning import store as planning

    warehouse = Warehouse(warehouse_with_run)
    project = planning.ensure_example_project(warehouse)
    run_id = runs.list_runs(warehouse)[0].run_id
    pick = recommended_model(warehouse, project.project_id, run_id, run_impact(warehouse, run_id, ImpactConfig()).impact)
    warehouse.close()

    at = new_session(REPORT)
    picker = next(s for s in at.selectbox if s.label == "Model to take to production")
    assert picker.value == pick.model and picker.index == 0
    assert picker.format_func(picker.value) == pick.label()
    assert pick.label().startswith(f"{fmt_name(pick.model)} (recommended): the cheapest rung") or \
        pick.label() == f"{fmt_name(pick.model)} (recommended): saves the most (no model meets every criterion and pays)"
    first = _evaluate(at)
    # the table of the problem's own numbers: the example states a loss rate of 6 % → 4.5 % and ¥60M a year
    table_md = next(m.value for m in at.markdown if "stated in the problem definition" in m.value).replace("\\", "")
    assert "KPI today: 廃棄・欠品ロス率 Waste and stockout loss" in table_md and "6% of sales" in table_md
    assert "KPI target" in table_md and "4.5% of sales" in table_md and "¥60,000,000" in table_md
    assert f"model **{md_name(pick.model)}**" in first

    # a second decision on another model: the page shows it, not the first
    other = next(o for o in next(s for s in at.selectbox if s.label == "Model to take to production").options
                 if "(recommended)" not in o)
    picker = next(s for s in at.selectbox if s.label == "Model to take to production")
    alias = next(a for a in ("snaive", "ma") if picker.format_func(a) == other)
    picker.set_value(alias).run()
    second = _evaluate(at)
    warehouse = Warehouse(warehouse_with_run)
    stored = decisions.list_decisions(warehouse, project.project_id)
    shown = [decisions.get_decision(warehouse, d.decision_id) for d in stored if d.decision_id in second]
    earlier = [d for d in stored if d.decision_id in first]
    warehouse.close()
    assert len(stored) == 2 and len(shown) == 1 and len(earlier) == 1 and shown[0] != earlier[0]
    decision = shown[0]  # the caption names the second decision, on the model chosen
    assert decision.model == alias and f"model **{md_name(alias)}**" in second
    shown = next(s for s in at.selectbox if s.label == "Show decision")
    assert shown.value == decision.decision_id
    # the decisions list tells the two apart: model, run name and whether a pilot was read, in the table and the
    # box's labels
    labels = list(shown.options)  # as the box shows them, newest first
    assert labels[0].split(" · ")[1:] == [decision.verdict, fmt_name(alias), "run “two stores”", "before any pilot",
                                          decision.decision_id]
    assert labels[1].split(" · ")[2:4] == [fmt_name(pick.model), "run “two stores”"]
    listed = at.dataframe[-1].value
    assert list(listed.columns) == ["decided", "verdict", "model", "run", "online", "decision"]
    assert list(listed["model"]) == [fmt_name(alias), fmt_name(pick.model)]
    assert list(listed["run"]) == ["two stores", "two stores"]
    assert any(b.label == "Download the PDF" for b in at.get("download_button"))


def fmt_name(alias: str) -> str:
    from core import fmt

    return fmt.model_name(alias)


def md_name(alias: str) -> str:
    from core import fmt
    from core.text import md

    return md(fmt.model_name(alias))


def test_report_speaks_in_the_datas_periods_and_model_of_money(warehouse_with_run):
    """A daily shelf decision reads 'days' and 'ordering at'; the same snapshot as a
    monthly cost-of-error decision reads 'months' and 'the cost of forecast errors', and
    the worst fold names its baseline for people, never by alias."""
    from dataclasses import replace

    from core.backtest import store as runs
    from core.decision.evaluation import decide
    from core.planning import store as planning

    warehouse = Warehouse(warehouse_with_run)
    project = planning.ensure_example_project(warehouse)
    planning.remember_project(warehouse, project.project_id)
    daily = decide(warehouse, project.project_id, runs.list_runs(warehouse)[0].run_id, model="ma")
    warehouse.close()
    at = new_session(REPORT)
    caption = next(c.value for c in at.caption if c.value.startswith("Decided "))
    assert f"2 folds × 14 days) · model **Moving average** · ordering at {daily.ordering_words} ·" in caption
    worst = next(m.value for m in at.markdown if m.value.startswith("- Worst fold: cutoff "))
    assert "(Today's practice: " in worst and "practice:" not in worst.replace("Today's practice:", "")

    monthly = replace(daily, decision_id="monthly00001", created_at="2099-01-01T00:00:00", freq="M",
                      money_model="errors", horizon=3,
                      value={**daily.value, "loss_share_baseline": None, "loss_share_model": None})
    warehouse = Warehouse(warehouse_with_run)
    decisions.save_decision(warehouse, monthly)
    warehouse.close()
    at = new_session(REPORT)
    caption = next(c.value for c in at.caption if c.value.startswith("Decided "))
    assert "decision monthly00001" in caption
    assert ("2 folds × 3 months) · model **Moving average** · money: the cost of forecast errors · decision "
            "monthly00001") in caption
    assert not any(m.label == "Waste + stockout loss, share of sales" for m in at.metric)
