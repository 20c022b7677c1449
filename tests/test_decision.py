"""GO / NO-GO evaluation: criteria against a stored run, verdicts, readiness and the
snapshot's round trip through the warehouse."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
from core.backtest.splits import SplitConfig
from core import fmt
from core.decision import AREAS, CHECKS, CONDITIONAL_GO, GO, NO_GO, Decision, DecisionError, score_band
from core.demo import REFERENCE_END_DATE, DemoConfig, load_demo
from core.evaluation import decide, run_impact
from core.impact import ImpactConfig
from core.planning.criteria import Criterion
from core.planning.definition import ProblemDefinition
from core.warehouse import decisions, planning
from core.warehouse.runs import save_run

SMALL = DemoConfig(stores=2, items=8, years=1, seed=5, end_date=REFERENCE_END_DATE)
MANUAL = [c.key for c in CHECKS if not c.auto]


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A small chain with one stored run of practice, snaive, ma and ets."""
    from core.warehouse import Warehouse

    warehouse = Warehouse(tmp_path_factory.mktemp("decision") / "wh.duckdb")
    dataset = load_demo(warehouse, SMALL)
    config = BacktestConfig(split=SplitConfig(horizon=14, folds=2),
                            models=tuple(ModelSpec.of(m) for m in ("practice", "snaive", "ma", "ets")))
    run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "small ladder")
    yield warehouse, run_id
    warehouse.close()


def project_with(warehouse, name: str, *criteria: Criterion, running: float = 1_000_000, investment: float = 0):
    project = planning.create_project(warehouse, name)
    definition = ProblemDefinition(problem="弁当の廃棄を減らす", running_cost_yen_per_year=running,
                                   investment_yen=investment, criteria=criteria)
    planning.save_definition(warehouse, project.project_id, definition, 0, "test")
    return project


def test_passing_criteria_with_low_readiness_is_a_conditional_go(stored):
    warehouse, run_id = stored
    project = project_with(warehouse, "条件付き", Criterion("wape", "improves_by_at_least", 0.05, "snaive"),
                           Criterion("yearly_savings_yen", ">=", 1.0, "yearly_running_cost"), running=0)
    decision = decide(warehouse, project.project_id, run_id)
    assert [c.passed for c in decision.criteria] == [True, True]
    assert decision.verdict == CONDITIONAL_GO  # nothing hand-scored: readiness 0
    assert decision.readiness_overall == min(decision.readiness_areas.values()) == 0
    assert any("readiness" in r for r in decision.reasons)
    assert decision.model in {"ma", "ets", "snaive"} and decision.project_name == "条件付き"
    assert "WAPE" in decision.criteria[0].evidence and "passed" in decision.criteria[0].evidence


def test_full_readiness_and_significant_gains_make_a_go(stored):
    warehouse, run_id = stored
    project = project_with(warehouse, "go", Criterion("wape", "improves_by_at_least", 0.05, "practice"), running=0)
    decision = decide(warehouse, project.project_id, run_id, readiness={k: 1.0 for k in MANUAL})
    if decision.verdict != GO:  # only significance or slices may hold it back on so little data
        assert decision.verdict == CONDITIONAL_GO
        assert all(r.startswith(("All", "Not significant", "Not stable", "Constraint broken")) for r in decision.reasons)
    assert all(area > 1 for area in decision.readiness_areas.values()) or decision.readiness_areas["Infrastructure"]


def test_a_failed_criterion_is_a_no_go_with_the_reason(stored):
    warehouse, run_id = stored
    project = project_with(warehouse, "no-go", Criterion("wape", "<=", 0.01, None, "unrealistic on purpose"))
    decision = decide(warehouse, project.project_id, run_id, readiness={k: 1.0 for k in MANUAL})
    assert decision.verdict == NO_GO
    assert decision.criteria[0].passed is False and "failed" in decision.criteria[0].evidence
    assert decision.reasons[0].startswith("Failed: WAPE ≤ 1.0%")
    assert any("Giving up is a valid result" in step for step in decision.next_steps)


def test_savings_below_the_running_cost_do_not_pay(stored):
    warehouse, run_id = stored
    project = project_with(warehouse, "too dear", Criterion("wape", "improves_by_at_least", 0.01, "snaive"),
                           running=1e12, investment=1e6)
    decision = decide(warehouse, project.project_id, run_id)
    assert decision.verdict == NO_GO and any("does not pay" in r for r in decision.reasons)


def test_payback_that_never_comes_fails_and_missing_money_is_not_evaluated(stored):
    warehouse, run_id = stored
    project = project_with(warehouse, "payback", Criterion("payback_months", "<=", 18),
                           Criterion("stockout_rate", "<=", 1.0, "practice"), running=1e12, investment=1e6)
    decision = decide(warehouse, project.project_id, run_id)
    assert decision.criteria[0].passed is False and decision.criteria[0].measured_text == "never"
    project = planning.create_project(warehouse, "no money")
    planning.save_definition(warehouse, project.project_id, ProblemDefinition(
        criteria=(Criterion("yearly_net_benefit_yen", ">", 0),)), 0)
    decision = decide(warehouse, project.project_id, run_id)
    assert decision.criteria[0].passed is None and "running cost" in decision.criteria[0].evidence
    assert decision.verdict == NO_GO  # nothing measured supports a GO


def test_criteria_must_be_fixed_before_evaluating(stored):
    warehouse, run_id = stored
    empty = planning.create_project(warehouse, "empty")
    with pytest.raises(DecisionError, match="no problem definition"):
        decide(warehouse, empty.project_id, run_id)
    planning.save_definition(warehouse, empty.project_id, ProblemDefinition(problem="x"), 0)
    with pytest.raises(DecisionError, match="no GO/NO-GO criteria"):
        decide(warehouse, empty.project_id, run_id)


def test_readiness_scores_are_zero_half_or_one(stored):
    warehouse, run_id = stored
    project = project_with(warehouse, "bad score", Criterion("wape", "<=", 0.9))
    with pytest.raises(DecisionError, match="0, 0.5 or 1"):
        decide(warehouse, project.project_id, run_id, readiness={MANUAL[0]: 0.7})


def test_snapshot_round_trips_and_is_kept_in_the_history(stored):
    warehouse, run_id = stored
    project = project_with(warehouse, "履歴 history", Criterion("wape", "<=", 0.9))
    first = decide(warehouse, project.project_id, run_id, notes="最初の判断", risks=["店長の抵抗 resistance"])
    second = decide(warehouse, project.project_id, run_id, config=ImpactConfig(service_level=0.9), model="ma")
    assert Decision.from_json(first.to_json()) == first
    assert decisions.get_decision(warehouse, first.decision_id) == first
    listed = decisions.list_decisions(warehouse, project.project_id)
    assert {d.decision_id for d in listed} == {first.decision_id, second.decision_id}
    assert second.model == "ma" and second.ordering == "a 90% service level"
    assert "店長の抵抗 resistance" in first.risks and first.notes == "最初の判断"
    assert set(first.readiness_areas) == set(AREAS)


def test_money_impact_of_a_stored_run_reads_the_item_master(stored):
    warehouse, run_id = stored
    impact = run_impact(warehouse, run_id).impact
    assert impact.sources["unit cost"].startswith("the item master")
    assert set(impact.summary["policy"]) == {"practice", "snaive", "ma", "ets"}
    assert impact.censoring.recorded and impact.chain_scale == pytest.approx(1.0)


def test_score_bands_follow_the_paper():
    assert "research project" in score_band(0)
    assert "first pass" in score_band(1.5)
    assert "exceptional" in score_band(6)


def test_a_newer_snapshot_format_is_refused(stored):
    warehouse, run_id = stored
    project = project_with(warehouse, "future", Criterion("wape", "<=", 0.9))
    decision = decide(warehouse, project.project_id, run_id)
    with pytest.raises(DecisionError, match="newer Mitoshi"):
        Decision.from_json(replace(decision, format=99).to_json())


def test_a_cheaper_rung_that_saves_nearly_as_much_is_named(stored):
    warehouse, run_id = stored
    impact = run_impact(warehouse, run_id).impact
    from core.decision import cheaper_alternative
    from core.warehouse.runs import load_result

    board = load_result(warehouse, run_id).leaderboard()
    savings = impact.summary.set_index("policy")["yearly_savings"]
    found = cheaper_alternative("ets", board, impact, share=0.0)
    rules = [m for m in ("snaive", "ma") if m in savings]
    if savings["ets"] > 0:
        assert found is not None and found["model"] == max(rules, key=lambda m: savings[m])
        assert found["extra"] == pytest.approx(savings["ets"] - savings[found["model"]])
    assert cheaper_alternative("ma", board, impact, share=0.0) is None  # no cheaper rung than a rule
    assert cheaper_alternative("ets", board, impact, share=10.0) is None  # never 10 x as much


def test_overlapping_folds_scale_to_the_dataset_by_each_folds_own_days(stored):
    """A run over every series has a chain scale of 1 whatever its step between folds."""
    warehouse, _ = stored
    dataset = warehouse.list_datasets()[0]
    config = BacktestConfig(split=SplitConfig(horizon=14, folds=3, step=5),
                            models=tuple(ModelSpec.of(m) for m in ("practice", "snaive", "ma")))
    run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "overlapping")
    assert run_impact(warehouse, run_id).impact.chain_scale == pytest.approx(1.0)


def test_losing_money_without_a_running_cost_is_a_no_go(stored):
    warehouse, run_id = stored
    project = planning.create_project(warehouse, "no running cost")
    planning.save_definition(warehouse, project.project_id, ProblemDefinition(
        criteria=(Criterion("wape", "<=", 0.99),)), 0)
    # At a 99 % service level perishables are over-ordered: snaive loses money against practice.
    decision = decide(warehouse, project.project_id, run_id, config=ImpactConfig(service_level=0.99), model="snaive",
                      readiness={k: 1.0 for k in MANUAL})
    if decision.value["yearly_savings"] < 0:
        assert decision.verdict == NO_GO and any("loses" in r for r in decision.reasons)
    else:
        assert decision.verdict in (GO, CONDITIONAL_GO)


def test_nothing_measured_is_a_no_go(stored):
    warehouse, run_id = stored
    project = planning.create_project(warehouse, "unmeasured")
    planning.save_definition(warehouse, project.project_id, ProblemDefinition(
        criteria=(Criterion("yearly_net_benefit_yen", ">", 0),)), 0)
    decision = decide(warehouse, project.project_id, run_id)
    assert decision.verdict == NO_GO and decision.reasons[0].startswith("No criterion could be measured")


def test_practice_cannot_be_the_model_taken_to_production(stored):
    warehouse, run_id = stored
    project = project_with(warehouse, "practice model", Criterion("wape", "<=", 0.9))
    with pytest.raises(DecisionError, match="baseline, not a model"):
        decide(warehouse, project.project_id, run_id, model="practice")


def test_the_ladder_stops_at_the_cheapest_rung_that_meets_every_criterion(stored):
    warehouse, run_id = stored
    project = project_with(warehouse, "ladder", Criterion("wape", "<=", 0.95), running=0)
    decision = decide(warehouse, project.project_id, run_id)
    rungs = {row["model"]: row["rung"] for row in decision.leaderboard}
    assert rungs[decision.model] == "rule"  # a rule meets WAPE <= 95 %: no statistics needed
    savings = {row["policy"]: row["yearly_savings"] for row in decision.money}
    richest = max((m for m in savings if m != "practice"), key=savings.get)
    if richest != decision.model:
        assert decision.reasons[0].startswith(f"Chosen by the ladder: {fmt.model_name(decision.model)} (rule)")
    chosen = decide(warehouse, project.project_id, run_id, model="ets")
    assert chosen.model == "ets" and not chosen.reasons[0].startswith("Chosen by the ladder")


def test_the_decision_accounts_for_every_series_and_names_the_chosen_models_fallbacks(stored):
    warehouse, _ = stored
    dataset = warehouse.list_datasets()[0]
    config = BacktestConfig(split=SplitConfig(horizon=14, folds=2),
                            models=tuple(ModelSpec.of(m) for m in ("practice", "snaive", "lastyear")))
    run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "a year of data")
    project = project_with(warehouse, "accounted", Criterion("wape", "<=", 0.9))
    decision = decide(warehouse, project.project_id, run_id, model="lastyear")
    # one year of data: last year's rule had no year to look back on, for any of the 16 series
    assert decision.series_scored == decision.n_series == 16
    assert decision.accounting == [
        "Scored 16 of 16 series.",
        "lastyear fell back for all 16 series in every fold: its scores there are the simple rules', not its own.",
        "lastyear fell back to seasonal naive for 16 series in every fold (less than a year of history)."]
    assert ("Same period last year did not forecast every series itself: it fell back for 16 to seasonal naive (less than a year "
            "of history). Its scores and savings on those series are the rule's; production needs the same "
            "fallback.") in decision.risks
    assert Decision.from_json(decision.to_json()) == decision
    # a snapshot written before the accounting reads back without it
    old = json.loads(decision.to_json())
    del old["series_scored"], old["accounting"]
    assert Decision.from_json(json.dumps(old)).accounting == []
