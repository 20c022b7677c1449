"""GO / NO-GO evaluation: criteria against a stored run, verdicts, readiness and the
snapshot's round trip through the warehouse."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pandas as pd
import pytest

from core import fmt
from core.backtest import accounting
from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import save_run
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
from core.decision import store as decisions
from core.decision import evaluation
from core.decision.verdict import AREAS, CHECKS, CONDITIONAL_GO, GO, NO_GO, Decision, DecisionError, score_band
from core.money.impact import ImpactConfig
from core.money.run_impact import run_impact
from core.planning import store as planning
from core.planning.criteria import Criterion
from core.planning.definition import ProblemDefinition

def decide(*args, **kwargs) -> Decision:
    """``core.decision.evaluation.decide`` with the decision's texts in words: a snapshot
    keeps its sentences as facts (``core.i18n.Msg``), read here in English."""
    return evaluation.decide(*args, **kwargs).in_words()


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
        assert all(r.startswith(("All", "Not significant", "Not stable", "Constraint broken", "Chosen by the ladder"))
                   for r in decision.reasons), decision.reasons
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
    first = evaluation.decide(warehouse, project.project_id, run_id, notes="最初の判断", risks=["店長の抵抗 resistance"])
    second = decide(warehouse, project.project_id, run_id, config=ImpactConfig(service_level=0.9), model="ma")
    assert Decision.from_json(first.to_json()) == first  # its texts as facts, read back as facts
    assert decisions.get_decision(warehouse, first.decision_id) == first
    listed = decisions.list_decisions(warehouse, project.project_id)
    assert {d.decision_id for d in listed} == {first.decision_id, second.decision_id}
    assert second.model == "ma" and second.ordering == "a 90% service level"
    assert "店長の抵抗 resistance" in first.risks and first.notes == "最初の判断"
    assert set(first.readiness_areas) == set(AREAS)


def test_two_decisions_in_the_same_second_list_the_later_first(stored):
    warehouse, run_id = stored
    project = project_with(warehouse, "same second", Criterion("wape", "<=", 0.9))
    first = decide(warehouse, project.project_id, run_id)
    for n in range(4):  # the ids are random: without an order of insertion, a tie would be a coin
        later = replace(first, decision_id=f"later{n}{first.decision_id[6:]}", notes=f"later {n}")  # never the first's hex id
        decisions.save_decision(warehouse, later)
        assert decisions.list_decisions(warehouse, project.project_id)[0].decision_id == later.decision_id


def test_money_impact_of_a_stored_run_reads_the_item_master(stored):
    warehouse, run_id = stored
    impact = run_impact(warehouse, run_id).impact
    assert str(impact.sources["unit cost"]).startswith("the item master")
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
    from core.backtest.store import load_result
    from core.decision.verdict import cheaper_alternative

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
    # the run's accounting, as core.backtest.accounting words it
    assert decision.accounting[0] == "Scored 16 of 16 series." and len(decision.accounting) == 3
    assert all("16 series in every fold" in line for line in decision.accounting[1:])
    assert ("Same period last year did not forecast every series itself: it fell back for 16 to "
            f"{accounting.RULE_WORDS['snaive']} (less than a year of history). Its scores and savings on those series "
            "are the rule's; production needs the same fallback.") in decision.risks
    assert Decision.from_json(decision.to_json()) == decision
    # a snapshot written before the accounting reads back without it
    old = json.loads(decision.to_json())
    del old["series_scored"], old["accounting"]
    assert Decision.from_json(json.dumps(old)).accounting == []


# ---------------------------------------------------------------------------------
# The problem's own numbers against the measured ones
# ---------------------------------------------------------------------------------
from core.decision import verdict  # noqa: E402
from core.decision.verdict import (  # noqa: E402
    BROKEN,
    DIFFER,
    MET,
    NOT_MET,
    SHORT,
    UNMEASURED,
    in_words,
    kpi_measure,
)


# The verdict's parts keep their texts as facts (core.i18n.Msg): read here in English words.
def _concentration(*args, **kwargs):
    return in_words(verdict._concentration(*args, **kwargs))


def kpi_criterion(*args, **kwargs):
    return in_words(verdict.kpi_criterion(*args, **kwargs))


def ladder_pick(*args, **kwargs):
    return in_words(verdict.ladder_pick(*args, **kwargs))


def reconcile(*args, **kwargs):
    return in_words(verdict.reconcile(*args, **kwargs))


@pytest.mark.parametrize(("name", "unit", "current", "key", "scale"), [
    ("廃棄・欠品ロス率 Waste and stockout loss", "% of sales", 6.0, "loss_rate", 0.01),
    ("Waste and stockouts", "", 0.06, "loss_rate", 1.0),
    ("ロス額 Loss", "円/年", 5e7, "loss_yen", 1.0),
    ("欠品率 Stockout rate", "%", 15.0, "stockout_rate", 0.01),
    ("Fill rate", "", 0.92, "fill_rate", 1.0),
    ("Waste", "¥ a year", 3e6, "waste_yen", 1.0),
    ("Waste", "% of sales", 2.0, "waste_share", 0.01),
    ("廃棄率", "", 3.0, "waste_rate", 0.01),
    ("Forecast error (WAPE)", "%", 40.0, "wape", 0.01),
])
def test_a_kpi_is_read_as_a_measurement_from_its_name_and_unit(name, unit, current, key, scale):
    measure, why = kpi_measure(ProblemDefinition(kpi_name=name, kpi_unit=unit, kpi_current=current))
    assert (measure.key, measure.scale, why) == (key, scale, "")


def test_a_kpi_the_run_cannot_measure_says_why():
    measure, why = kpi_measure(ProblemDefinition(kpi_name="Customer satisfaction", kpi_unit="points"))
    assert measure is None and why == "its unit 'points' is none the run measures (a percentage, a share or yen a year)"
    measure, why = kpi_measure(ProblemDefinition(kpi_name="NPS"))
    assert measure is None and why.startswith("its name names nothing the run measures")


def _constructed(stored):
    """The stored run's impact with a summary of known numbers: today's practice loses
    16.6 % of sales (waste ¥100,000 + lost margin ¥66,000 of ¥1,000,000) and runs out on
    15.4 % of days; theta loses 9.7 % (¥40,000 + ¥57,000), runs out on 23.2 % and saves
    ¥19.2M a year."""
    from core.backtest.store import load_result

    warehouse, run_id = stored
    impact = run_impact(warehouse, run_id).impact
    summary = pd.DataFrame([
        {"policy": "practice", "label": "today's practice", "ordering": "its recorded orders", "yearly_profit": 0.0,
         "yearly_savings": 0.0, "yearly_savings_run": 0.0, "yearly_revenue": 1_000_000.0,
         "yearly_waste_cost": 100_000.0, "yearly_lost_margin": 66_000.0, "yearly_holding_cost": 0.0,
         "stockout_rate": 0.154, "fill_rate": 0.95, "waste_rate": 0.10},
        {"policy": "ets", "label": "ets", "ordering": "95% service level", "yearly_profit": 19_200_000.0,
         "yearly_savings": 19_200_000.0, "yearly_savings_run": 19_200_000.0, "yearly_revenue": 1_000_000.0,
         "yearly_waste_cost": 40_000.0, "yearly_lost_margin": 57_000.0, "yearly_holding_cost": 0.0,
         "stockout_rate": 0.232, "fill_rate": 0.90, "waste_rate": 0.04},
    ])
    board = load_result(warehouse, run_id).leaderboard().set_index("model")
    return replace(impact, summary=summary, baseline="practice", baseline_label="today's practice"), board


LOSS = ProblemDefinition(problem="x", kpi_name="廃棄・欠品ロス率 Waste and stockout loss", kpi_unit="% of sales",
                         kpi_current=6.0, kpi_target=4.5, value_yen_per_year=60_000_000, investment_yen=15_000_000,
                         budget_yen=10_000_000, criteria=(Criterion("wape", "<=", 0.9),))


def test_the_kpi_target_is_read_as_the_cut_it_asks_for_when_the_levels_differ(stored):
    impact, board = _constructed(stored)
    kpi = kpi_criterion(LOSS, "ets", board, impact)
    # stated 6 % today, measured 16.6 %: the 25 % cut asked for is 12.45 % on the measured scale; ets has 9.7 %
    assert kpi.metric == "kpi_target" and kpi.passed is True
    assert kpi.threshold == pytest.approx(0.166 * 4.5 / 6) and kpi.measured == pytest.approx(0.097)
    assert kpi.measured_text == "9.7%" and kpi.baseline_value == pytest.approx(0.166)
    # the sentence states the threshold applied, never "≤ 4.5%" beside a measured 9.7% that passed
    assert kpi.criterion == ("KPI target: 廃棄・欠品ロス率 Waste and stockout loss 25% lower than today (stated 6% → "
                             "4.5% of sales): ≤ 12.5% as measured")
    assert "(6.0% → 4.5%: 25% lower than today), which on the measured scale is 12.5%" in kpi.evidence
    assert kpi.evidence.endswith("With ETS (exponential smoothing): 9.7% against 12.5%: met.")
    assert kpi.note == ("The KPI target of the problem definition. Read as written (≤ 4.5%), it would be not met (9.7% "
                        "with ETS (exponential smoothing)); for information only: the verdict reads the target as the "
                        "change it asks for.")
    # stated near the measured level, the target is still the cut it asks for: 16 % → 4.5 % is 71.9 % lower
    same = replace(LOSS, kpi_current=16.0)
    kpi = kpi_criterion(same, "ets", board, impact)
    assert kpi.passed is False and kpi.threshold == pytest.approx(0.166 * 4.5 / 16)
    assert kpi.criterion.endswith("71.9% lower than today (stated 16% → 4.5% of sales): ≤ 4.7% as measured")
    assert ("The level stated today (16.0%) agrees with the one measured for today's practice (16.6%, within 25%), so "
            "the target is read as the change it asks for (16.0% → 4.5%: 71.9% lower than today), which on the measured scale "
            "is 4.7%.") in kpi.evidence
    assert kpi.evidence.endswith("9.7% against 4.7%: not met.")


def test_stated_numbers_sit_beside_the_measured_ones(stored):
    impact, board = _constructed(stored)
    criteria = [kpi_criterion(LOSS, "ets", board, impact)]
    result = reconcile(LOSS, "ets", board, impact, criteria)
    rows = {r["item"].split(":")[0]: r for r in result.rows}
    today = rows["KPI today"]
    assert (today["stated"], today["measured"], today["status"]) == ("6% of sales", "16.6%", DIFFER)
    assert today["stated_value"] == pytest.approx(0.06) and today["measured_value"] == pytest.approx(0.166)
    assert "Measured is 2.8× the stated level." in today["note"]
    target = rows["KPI target"]
    assert (target["stated"], target["measured"], target["status"]) == (
        "4.5% of sales: 25% lower than today, so ≤ 12.5% as measured", "9.7% with ETS (exponential smoothing)", MET)
    value = rows["Value claimed (¥ a year)"]
    assert (value["stated"], value["measured"], value["status"]) == ("¥60,000,000", "¥19,200,000 saved", SHORT)
    assert ("Measured savings are 32% of the value claimed: ¥19,200,000 a year against ¥60,000,000 (¥40,800,000 "
            "short).") in " ".join(result.risks)
    service = next(r for r in result.rows if r["item"] == "Constraint: no more stockouts than today")
    assert (service["stated"], service["measured"], service["status"]) == (
        "15.4% of days (today's practice)", "23.2% of days with ETS (exponential smoothing)", BROKEN)
    budget = next(r for r in result.rows if r["item"] == "Constraint: investment within the budget")
    assert budget["status"] == BROKEN
    assert result.broken == ("service", "budget") and result.kpi_measure == "loss_rate"
    assert result.conditions[0].startswith(
        "Constraint broken: ordering from ETS (exponential smoothing) runs out of stock on 23.2% of days against "
        "15.4% for today's practice (+7.8 pp). It is acceptable only if the pilot keeps stockouts at or below 15.4%")
    assert result.conditions[1] == ("Constraint broken: the initial investment ¥15,000,000 exceeds the budget "
                                    "¥10,000,000 by ¥5,000,000. Secure the difference, or cut the investment, before "
                                    "starting.")
    # a criterion on stockouts says how many are acceptable: no implicit service constraint then
    allowed = replace(LOSS, criteria=(Criterion("stockout_rate", "<=", 1.6, "practice"),))
    assert "service" not in reconcile(allowed, "ets", board, impact, criteria).broken


def test_an_unmeasurable_kpi_target_is_an_unevaluated_criterion(stored):
    impact, board = _constructed(stored)
    definition = replace(LOSS, kpi_name="Customer satisfaction", kpi_unit="points", kpi_current=3.9, kpi_target=4.2)
    kpi = kpi_criterion(definition, "ets", board, impact)
    assert kpi.passed is None and kpi.measured_text == "–"
    assert kpi.evidence == ("The run cannot measure this KPI: its unit 'points' is none the run measures (a "
                            "percentage, a share or yen a year).")
    rows = reconcile(definition, "ets", board, impact, [kpi]).rows
    assert [r["status"] for r in rows[:2]] == [UNMEASURED, UNMEASURED]


def test_a_kpi_target_missed_is_a_failed_criterion_and_a_no_go(stored):
    warehouse, run_id = stored
    project = planning.create_project(warehouse, "kpi missed")
    planning.save_definition(warehouse, project.project_id, ProblemDefinition(
        problem="x", kpi_name="Loss rate", kpi_unit="% of sales", kpi_target=0.1,
        criteria=(Criterion("wape", "<=", 0.99),)), 0)
    decision = decide(warehouse, project.project_id, run_id, model="ets", readiness={k: 1.0 for k in MANUAL})
    assert decision.verdict == NO_GO and decision.kpi_measure == "loss_rate"
    kpi = decision.criteria[-1]
    assert kpi.metric == "kpi_target" and kpi.passed is False
    assert kpi.measured == pytest.approx(decision.value["loss_share_model"])
    assert any(r.startswith("Failed: KPI target: Loss rate ≤ 0.1% of sales") for r in decision.reasons)
    today, target = decision.stated_vs_measured[:2]
    assert (today["item"], today["stated"], today["measured"]) == (
        "KPI today: Loss rate", "–", fmt.pct(decision.value["loss_share_baseline"]))
    assert (target["item"], target["stated"], target["status"]) == ("KPI target: Loss rate", "0.1% of sales", NOT_MET)
    assert Decision.from_json(decision.to_json()) == decision


def test_a_broken_constraint_caps_the_verdict_at_conditional_with_the_condition_written_out(stored):
    warehouse, run_id = stored
    project = planning.create_project(warehouse, "budget")
    planning.save_definition(warehouse, project.project_id, ProblemDefinition(
        problem="x", investment_yen=2_000_000, budget_yen=1_000_000, running_cost_yen_per_year=0,
        criteria=(Criterion("wape", "<=", 0.99), Criterion("stockout_rate", "<=", 10, "practice"))), 0)
    decision = decide(warehouse, project.project_id, run_id, readiness={k: 1.0 for k in MANUAL})
    assert decision.verdict in (CONDITIONAL_GO, NO_GO)
    condition = ("Constraint broken: the initial investment ¥2,000,000 exceeds the budget ¥1,000,000 by ¥1,000,000. "
                 "Secure the difference, or cut the investment, before starting.")
    assert decision.conditions == [condition]
    if decision.verdict == CONDITIONAL_GO:
        assert condition in decision.reasons
        assert f"Close the conditions first: {condition}" in decision.next_steps


def test_an_old_snapshot_without_the_reconciliation_still_reads(stored):
    warehouse, run_id = stored
    project = project_with(warehouse, "old snapshot", Criterion("wape", "<=", 0.9))
    old = json.loads(decide(warehouse, project.project_id, run_id).to_json())
    del old["stated_vs_measured"], old["kpi_measure"], old["conditions"]
    decision = Decision.from_json(json.dumps(old))
    assert decision.stated_vs_measured == [] and decision.kpi_measure is None and decision.conditions == []


def test_the_ladder_pick_names_its_rule_and_is_the_verdicts_model(stored):
    warehouse, run_id = stored
    from core.decision.evaluation import recommended_model

    project = project_with(warehouse, "pick", Criterion("wape", "<=", 0.95), running=0)
    impact = run_impact(warehouse, run_id).impact
    pick = in_words(recommended_model(warehouse, project.project_id, run_id, impact))
    decision = decide(warehouse, project.project_id, run_id)
    assert decision.model == pick.model
    assert pick.label().startswith(f"{fmt.model_name(pick.model)} (recommended): the cheapest rung that meets every "
                                   "criterion")
    nothing = project_with(warehouse, "pick none", Criterion("wape", "<=", 0.01), running=0)
    pick = in_words(recommended_model(warehouse, nothing.project_id, run_id, impact))
    assert pick.rule == "saves the most (no model meets every criterion and pays)"
    assert pick.model == ladder_pick(impact, load_board(warehouse, run_id), ProblemDefinition(
        criteria=(Criterion("wape", "<=", 0.01),))).model


def load_board(warehouse, run_id):
    from core.backtest.store import load_result

    return load_result(warehouse, run_id).leaderboard()


def _segments(impact, savings: dict[str, float]):
    frame = pd.DataFrame([{"segment": "category", "group": g, "policy": "ets", "yearly_profit": v,
                           "yearly_savings": v} for g, v in savings.items()])
    return replace(impact, by_segment=frame)


def test_concentration_gives_shares_only_where_they_mean_something(stored):
    impact, _ = _constructed(stored)  # yearly sales ¥1,000,000: material from ¥1,000
    # the case: ¥2,559 of ¥235 — groups lose, so no share; most lose, so it is the model
    out = _concentration("ets", _segments(impact, {"a": 2559, "b": -1000, "c": -1324}))
    assert out == ["Ordering from ETS (exponential smoothing) loses against today's practice in 2 of 3 category "
                   "values (¥2,324 a year together; the other one gains ¥2,559): it is the model that falls short, not "
                   "a few category values, so ordering some of them as today would not fix it."]
    out = _concentration("ets", _segments(impact, {"a": 5000, "b": 4000, "dairy": -50}))
    assert out == ["By category, dairy loses ¥50 a year against today's practice (1 of 3; the others gain ¥9,000): "
                   "consider ordering it as today."]
    out = _concentration("ets", _segments(impact, {"a": 8000, "b": 2000}))
    assert out == ["The savings are concentrated: a gives ¥8,000 of ¥10,000 a year (80%)."]
    assert _concentration("ets", _segments(impact, {"a": 800, "b": 100})) == []  # ¥900 of ¥1M in sales: immaterial


# ---------------------------------------------------------------------------------
# The KPI target is always the change it asks for; the ladder's pick pays and keeps the
# constraints; words follow the model of money and the data's periods
# ---------------------------------------------------------------------------------
from core.columns import Freq  # noqa: E402
from core.decision.verdict import BREAKS, FITS, RICHEST, DecisionInputs, run_evidence  # noqa: E402
from core.money.impact import ERRORS  # noqa: E402


def evaluate_decision(*args, **kwargs) -> Decision:
    return verdict.evaluate_decision(*args, **kwargs).in_words()


def _policy(policy: str, savings: float, *, waste: float = 40_000.0, lost: float = 57_000.0, stockouts: float = 0.154,
            revenue: float = 1_000_000.0) -> dict:
    return {"policy": policy, "label": policy, "ordering": "95% service level", "yearly_profit": savings,
            "yearly_savings": savings, "yearly_savings_run": savings, "yearly_revenue": revenue,
            "yearly_waste_cost": waste, "yearly_lost_margin": lost, "yearly_holding_cost": 0.0,
            "stockout_rate": stockouts, "fill_rate": 0.9, "waste_rate": 0.04}


def _with(stored, *rows: dict, **changes):
    """The stored run's impact with the summary ``rows`` (today's practice first)."""
    impact, board = _constructed(stored)
    return replace(impact, summary=pd.DataFrame(list(rows)), **changes), board


@pytest.mark.parametrize(("measured_today", "threshold", "passed", "agrees"), [
    (0.074, 0.074 * 0.75, False, True),   # within the 25 % band: still the 25 % cut, 5.55 %
    (0.076, 0.076 * 0.75, True, False),   # just outside it: the same rule, 5.7 %
])
def test_the_kpi_target_is_the_cut_it_asks_for_on_both_sides_of_the_band(stored, measured_today, threshold, passed,
                                                                         agrees):
    # stated 6 % → 4.5 %; ETS loses 5.6 % of sales. A better baseline never gets a laxer target.
    impact, board = _with(stored, _policy("practice", 0.0, waste=measured_today * 1e6 - 30_000, lost=30_000.0),
                          _policy("ets", 1e6, waste=26_000.0, lost=30_000.0))
    kpi = kpi_criterion(LOSS, "ets", board, impact)
    assert kpi.threshold == pytest.approx(threshold) and kpi.passed is passed
    assert kpi.baseline_value == pytest.approx(measured_today) and kpi.measured == pytest.approx(0.056)
    level = (f"agrees with the one measured for today's practice ({fmt.pct(measured_today)}, within 25%)" if agrees
             else f"is not the one measured for today's practice ({fmt.pct(measured_today)}): they do not count the "
                  "same thing")
    applied = "5.5%" if agrees else "5.7%"  # 5.55 % is 5.549999… in floating point
    assert (f"The level stated today (6.0%) {level}, so the target is read as the change it asks for (6.0% → 4.5%: "
            f"25% lower than today), which on the measured scale is {applied}.") in kpi.evidence
    assert kpi.criterion.endswith(f"25% lower than today (stated 6% → 4.5% of sales): ≤ {applied} as measured")
    # read as written, 4.5 % is missed either way: information only
    assert kpi.note == ("The KPI target of the problem definition. Read as written (≤ 4.5%), it would be not met (5.6% "
                        "with ETS (exponential smoothing)); for information only: the verdict reads the target as the "
                        "change it asks for.")


def test_a_kpi_target_without_a_level_today_is_checked_as_written(stored):
    impact, board = _constructed(stored)
    kpi = kpi_criterion(replace(LOSS, kpi_current=None), "ets", board, impact)
    assert kpi.threshold == pytest.approx(0.045) and kpi.passed is False
    assert kpi.note == "The KPI target of the problem definition."
    assert kpi.evidence == ("Read as the loss rate: waste cost + margin lost to stockouts, over sales. Measured today "
                            "(today's practice): 16.6%. With ETS (exponential smoothing): 9.7% against 4.5%: not met.")


WAPE_ONLY = ProblemDefinition(problem="x", running_cost_yen_per_year=1_000_000, criteria=(Criterion("wape", "<=", 0.99),))


def test_the_ladder_passes_over_a_model_that_does_not_pay_or_runs_out_more(stored):
    # snaive and ma are rules, ets statistics; with no money criterion only the ladder's own rule keeps money in view
    practice = _policy("practice", 0.0)
    snaive = _policy("snaive", 500_000.0)  # does not cover the running cost of ¥1M
    ma = _policy("ma", 2_000_000.0, stockouts=0.20)  # pays, but runs out 4.6 pp more often than today
    ets = _policy("ets", 3_000_000.0)
    impact, board = _with(stored, practice, snaive, ma, ets)
    pick = ladder_pick(impact, board.reset_index(), WAPE_ONLY)
    assert (pick.model, pick.kind, pick.note) == ("ets", FITS, None)
    assert pick.label() == ("ETS (exponential smoothing) (recommended): the cheapest rung that meets every criterion, "
                            "pays and keeps the constraints; it also saves the most")

    # ma keeps the constraints now: the cheapest rung wins, and says what the richer model would add
    impact, board = _with(stored, practice, snaive, _policy("ma", 2_000_000.0), ets)
    pick = ladder_pick(impact, board.reset_index(), WAPE_ONLY)
    assert (pick.model, pick.kind, pick.rule) == (
        "ma", FITS, "the cheapest rung that meets every criterion, pays and keeps the constraints")
    assert pick.note == ("Chosen by the ladder: Moving average (rule) is the cheapest rung that meets every criterion, "
                         "pays and keeps the constraints. ETS (exponential smoothing) (statistical) would save "
                         "¥1,000,000 a year more, for the running cost of a statistical model; choose it on purpose if "
                         "that pays.")

    # every model that pays runs out more: the cheapest of them, the constraint a condition
    impact, board = _with(stored, practice, snaive, ma, _policy("ets", 3_000_000.0, stockouts=0.3))
    pick = ladder_pick(impact, board.reset_index(), WAPE_ONLY)
    assert (pick.model, pick.kind) == ("ma", BREAKS)
    assert pick.label() == ("Moving average (recommended): the cheapest rung that meets every criterion and pays; it "
                            "breaks a constraint (see the conditions)")

    # none pays: the one that saves the most
    impact, board = _with(stored, practice, snaive, _policy("ma", 600_000.0), _policy("ets", 900_000.0))
    pick = ladder_pick(impact, board.reset_index(), WAPE_ONLY)
    assert (pick.model, pick.kind, pick.rule) == (
        "ets", RICHEST, "saves the most (no model meets every criterion and pays)")


def test_a_budget_over_the_investment_does_not_move_the_ladder(stored):
    """The budget is the same for every model: it is a condition, not a reason to pick another."""
    impact, board = _with(stored, _policy("practice", 0.0), _policy("ma", 2_000_000.0), _policy("ets", 3_000_000.0))
    over = replace(WAPE_ONLY, investment_yen=2_000_000, budget_yen=1_000_000)
    assert ladder_pick(impact, board.reset_index(), over).kind == FITS


def _inputs(stored, impact, definition, model=None) -> DecisionInputs:
    from core.backtest.store import get_run, load_result

    warehouse, run_id = stored
    evidence = run_evidence(get_run(warehouse, run_id), load_result(warehouse, run_id), has_stockouts=True,
                            generated=True)
    return DecisionInputs(project_id="p", project_name="words", definition_version=1, definition=definition,
                          run=evidence, impact=impact, model=model)


def test_the_risk_of_choosing_on_the_same_folds_names_the_rule_that_chose(stored):
    practice, snaive = _policy("practice", 0.0), _policy("snaive", 500_000.0)
    impact, _ = _with(stored, practice, snaive, _policy("ma", 2_000_000.0), _policy("ets", 3_000_000.0))
    decision = evaluate_decision(_inputs(stored, impact, WAPE_ONLY))
    assert decision.model == "ma"
    assert ("Moving average was chosen by the ladder (the cheapest rung that meets every criterion, pays and keeps the "
            "constraints), on the same folds its scores and savings are quoted from: a model that only just meets a "
            "criterion here may miss it in production; check it in the online evaluation.") in decision.risks
    impact, _ = _with(stored, practice, snaive, _policy("ma", 600_000.0), _policy("ets", 900_000.0))
    decision = evaluate_decision(_inputs(stored, impact, WAPE_ONLY))
    assert decision.model == "ets" and decision.verdict == NO_GO
    assert ("ETS (exponential smoothing) was chosen as the one that saves the most, on the same folds its savings are "
            "quoted from: expect a little less in production, and check it in the online evaluation.") in decision.risks
    chosen = evaluate_decision(_inputs(stored, impact, WAPE_ONLY, model="ets"))
    assert not any("on the same folds" in r for r in chosen.risks)  # chosen by a person, not by these folds


MONTHLY_BASELINE = "seasonal naive (the same month last year) forecasts"


def _monthly_errors(stored, naive: float, by_industry: dict[str, float]):
    """A monthly cost-of-error impact on turnover without orders, against seasonal naive."""
    rows = [_policy("snaive", 0.0, waste=3e6, lost=5e6, stockouts=math.nan, revenue=math.nan),
            _policy("ets", naive, waste=3e6, lost=5e6, stockouts=math.nan, revenue=math.nan)]
    segments = pd.DataFrame([{"segment": "Industry", "group": g, "policy": "ets", "yearly_profit": v,
                              "yearly_savings": v} for g, v in by_industry.items()])
    return _with(stored, *rows, money_model=ERRORS, freq=Freq.MONTHLY, has_orders=False, baseline="snaive",
                 baseline_label=MONTHLY_BASELINE, by_segment=segments)


def test_a_monthly_cost_of_error_decision_speaks_of_forecasts_and_months(stored):
    impact, _ = _monthly_errors(stored, -1_500_000.0, {f"Industry {i}": -75_000.0 for i in range(20)})
    decision = evaluate_decision(_inputs(stored, impact, WAPE_ONLY, model="ets"))
    assert decision.verdict == NO_GO
    assert ("It does not pay: forecasting with ETS (exponential smoothing) loses ¥1,500,000 a year against seasonal "
            "naive (the same month last year) forecasts.") in decision.reasons
    assert ("Forecasting with ETS (exponential smoothing) loses against seasonal naive (the same month last year) "
            "forecasts in 20 of 20 Industry values (¥1,500,000 a year together): it is the model that falls short, "
            "not a few Industry values, so keeping seasonal naive (the same month last year) forecasts for some of "
            "them would not fix it.") in decision.risks
    text = " ".join([*decision.reasons, *decision.risks, *decision.conditions,
                     *(c.evidence for c in decision.criteria), *(r["note"] for r in decision.stated_vs_measured)])
    for word in ("ordering", "as today", "of days", "lost sales", "Stockouts are not recorded"):
        assert word not in text, word
    # a few losing industries: keep the baseline for those
    impact, _ = _monthly_errors(stored, 1_000_000.0, {"Food": 1_200_000.0, "Clothing": 400_000.0,
                                                      "Department stores": -600_000.0})
    assert _concentration("ets", impact) == [
        "By Industry, Department stores loses ¥600,000 a year against seasonal naive (the same month last year) "
        "forecasts (1 of 3; the others gain ¥1,600,000): consider keeping seasonal naive (the same month last year) "
        "forecasts for it."]
    # a money criterion says where its figure comes from
    money = replace(WAPE_ONLY, criteria=(Criterion("yearly_savings_yen", ">=", 1.0, "yearly_running_cost"),))
    decision = evaluate_decision(_inputs(stored, impact, money, model="ets"))
    assert decision.criteria[0].evidence.endswith(
        "(From the money impact: the cost of ETS (exponential smoothing)'s forecast errors, against seasonal naive "
        "(the same month last year) forecasts.)")


def test_a_daily_shelf_decision_speaks_of_orders_and_days(stored):
    impact, board = _with(stored, _policy("practice", 0.0, stockouts=0.154),
                          _policy("ets", -250_000.0, stockouts=0.232))
    decision = evaluate_decision(_inputs(stored, impact, WAPE_ONLY, model="ets"))
    assert ("It does not pay: ordering from ETS (exponential smoothing) loses ¥250,000 a year against today's "
            "practice.") in decision.reasons
    service = next(r for r in decision.stated_vs_measured if r["item"] == "Constraint: no more stockouts than today")
    assert (service["stated"], service["measured"]) == (
        "15.4% of days (today's practice)", "23.2% of days with ETS (exponential smoothing)")
    assert decision.conditions[0] == (
        "Constraint broken: ordering from ETS (exponential smoothing) runs out of stock on 23.2% of days against "
        "15.4% for today's practice (+7.8 pp). It is acceptable only if the pilot keeps stockouts at or below 15.4%: "
        "raise the safety stock (a higher service level) for the items that run out more, or order them as today, "
        "and add a stockout criterion to the problem definition if some increase is acceptable.")
    # weekly data without orders: weeks, and the baseline instead of today
    weekly = replace(impact, freq=Freq.WEEKLY, has_orders=False,
                     baseline_label="seasonal naive (the same week last year) ordering")
    result = reconcile(WAPE_ONLY, "ets", board, weekly, [])
    service = next(r for r in result.rows if r["item"] == "Constraint: no more stockouts than the baseline")
    assert service["measured"] == "23.2% of weeks with ETS (exponential smoothing)"
    assert result.conditions[0] == (
        "Constraint broken: ordering from ETS (exponential smoothing) runs out of stock on 23.2% of weeks against "
        "15.4% for seasonal naive (the same week last year) ordering (+7.8 pp). It is acceptable only if the pilot "
        "keeps stockouts at or below 15.4%: raise the safety stock (a higher service level) for the items that run "
        "out more, or keep seasonal naive (the same week last year) ordering for them, and add a stockout criterion "
        "to the problem definition if some increase is acceptable.")


def test_the_baseline_itself_is_no_candidate_and_saves_nothing_by_definition(stored):
    """Without recorded orders seasonal naive is the baseline: it saves ¥0 against itself,
    more than a model that loses, yet it is no answer to 'does the model pay'."""
    impact, board = _monthly_errors(stored, -1_500_000.0, {"Food": -1_500_000.0, "Clothing": 0.0})
    pick = ladder_pick(impact, board.reset_index(), WAPE_ONLY)
    assert (pick.model, pick.kind) == ("ets", RICHEST)
    decision = evaluate_decision(_inputs(stored, impact, replace(WAPE_ONLY, value_yen_per_year=5e7), model="snaive"))
    assert decision.verdict == NO_GO
    assert ("It does not pay: the savings are measured against Seasonal naive itself, so it saves nothing by "
            "definition. Choose another model to compare with it.") in decision.reasons
    assert ("None of the value claimed (¥50,000,000 a year) is measured: the savings are measured against Seasonal "
            "naive itself.") in decision.risks
    claim = next(r for r in decision.stated_vs_measured if r["item"] == "Value claimed (¥ a year)")
    assert (claim["measured"], claim["note"]) == (
        "¥0 saved", "Nothing of the value claimed is measured against seasonal naive (the same month last year) "
                    "forecasts.")
    assert any(s.startswith("If the gap is small, go back down the ladder: a cheaper rule or statistical model, "
                            "better features, or more data (promotions, holidays)") for s in decision.next_steps)


def test_small_kpi_levels_keep_their_digits_and_large_shares_of_the_claim_are_multiples(stored):
    # M5-like: stated 6 % → 4.5 %, measured 0.025 % today (¥250 of ¥1M sales) and 0.012 % with ETS
    impact, board = _with(stored, _policy("practice", 0.0, waste=150.0, lost=100.0),
                          _policy("ets", 19_200_000.0, waste=70.0, lost=50.0))
    kpi = kpi_criterion(LOSS, "ets", board, impact)
    assert kpi.threshold == pytest.approx(0.00025 * 0.75) and kpi.passed is True
    assert kpi.measured_text == "0.012%"
    assert kpi.criterion.endswith("25% lower than today (stated 6% → 4.5% of sales): ≤ 0.019% as measured")
    assert kpi.evidence.endswith("With ETS (exponential smoothing): 0.012% against 0.019%: met.")
    result = reconcile(replace(LOSS, value_yen_per_year=1_000), "ets", board, impact, [kpi])
    today = next(r for r in result.rows if r["item"].startswith("KPI today"))
    assert today["measured"] == "0.025%" and "Measured is 0.0042× the stated level." in today["note"]
    claim = next(r for r in result.rows if r["item"] == "Value claimed (¥ a year)")
    assert claim["note"] == "Measured savings are 19,200× the value claimed, against today's practice."
    assert any(r.startswith("Measured savings are 19,200× the value claimed (¥19,200,000 against ¥1,000 a year)")
               for r in result.risks)
    # below ten times the claim, a percentage without decimals, the same in the table and the risks
    result = reconcile(replace(LOSS, value_yen_per_year=7_000_000), "ets", board, impact, [kpi])
    claim = next(r for r in result.rows if r["item"] == "Value claimed (¥ a year)")
    assert claim["note"] == "Measured savings are 274% of the value claimed, against today's practice."
    assert any(r.startswith("Measured savings are 274% of the value claimed (¥19,200,000") for r in result.risks)


def test_a_cheaper_rung_that_saves_more_is_said_plainly(stored):
    """Choosing ets when ma (a cheaper rung) saves more: no 'adds −¥…' gain, but 'take ma'."""
    warehouse, run_id = stored
    impact = run_impact(warehouse, run_id).impact
    from core.backtest.store import load_result
    from core.decision.verdict import cheaper_alternative, cheaper_rung_risk

    board = load_result(warehouse, run_id).leaderboard()
    summary = impact.summary.copy()
    summary["yearly_savings"] = summary["policy"].map({"ets": 1_000_000.0, "ma": 1_200_000.0, "snaive": 300_000.0,
                                                       "practice": 0.0})
    found = cheaper_alternative("ets", board, replace(impact, summary=summary))
    assert found["model"] == "ma" and found["extra"] == pytest.approx(-200_000)
    text = cheaper_rung_risk("ETS", found, impact.money_model)
    assert text == (f"Moving average ({found['rung']}), a cheaper rung, saves ¥200,000 a year more than ETS "
                    "(¥1,200,000 against ¥1,000,000): take Moving average unless ETS brings something this money "
                    "does not count.")
    assert "adds" not in text and "−" not in text
    summary["yearly_savings"] = summary["policy"].map({"ets": 1_000_000.0, "ma": 950_000.0, "snaive": 0.0,
                                                       "practice": 0.0})
    gain = cheaper_rung_risk("ETS", cheaper_alternative("ets", board, replace(impact, summary=summary)),
                             impact.money_model)
    assert "ETS adds ¥50,000 (5.0%) over it" in gain
