"""The online evidence in the GO / NO-GO decision: criteria on what the pilot measured,
"not yet evaluated" before it (the verdict at most a conditional GO), evaluated after it,
kept in the snapshot, printed in the PDF and shown on the report page."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pypdf
import pytest

from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import get_run, load_result, save_run
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
from core.decision import online as pilot
from core.decision import pdf_charts
from core.decision import store as decisions
from core.decision import evaluation
from core.decision.pdf import decision_pdf
from core.decision.verdict import (
    CHECKS,
    CONDITIONAL_GO,
    GO,
    NO_GO,
    SNAPSHOT_FORMAT,
    Decision,
    DecisionInputs,
    evaluate_decision,
    run_evidence,
)
from core.errors import MitoshiError
from core.money.run_impact import run_impact
from core.pilot.evidence import DESIGNED, NONE, PROFIT, READ, STOCKOUT_DAYS, WASTE_COST, Estimate, OnlineEvidence
from core.planning import store as planning
from core.planning.criteria import ONLINE_METRICS, Criterion, evaluate_criterion, is_online
from core.planning.definition import ProblemDefinition, from_form, readiness, to_form
from core.planning.errors import CriterionError
from core.warehouse import Warehouse
from tests.conftest import new_session, store_run

SAMPLE = Path(__file__).parent / "data" / "decision_sample.json"  # a format-1 snapshot
MANUAL = {c.key: 1.0 for c in CHECKS if not c.auto}
RUNNING = 6_000_000.0
LOWER = Criterion("online_savings_lower", ">", 0, None, "the pilot must show a gain")
COVERS = Criterion("online_yearly_savings", ">=", 1.0, "yearly_running_cost")
OFFLINE = Criterion("wape", "improves_by_at_least", 0.10, "practice")

TREATED = ("S001", "S002")
CONTROL = tuple(f"S{i:03d}" for i in range(3, 11))
DESIGN = OnlineEvidence(status=DESIGNED, design_id="d1", dataset_id="ds", store_column="store_id", treated=TREATED,
                        control=CONTROL, start=date(2026, 11, 2), end=date(2026, 11, 29), chain_stores=10,
                        offline_yearly_savings=19_200_000.0, offline_model="ets", batch_version=1, batch_model="ets",
                        detectable_yearly=9_660_000.0, power=0.8, alpha=0.05)
PROFIT_GAIN = Estimate(PROFIT, 14e6 / 3650, 14_000_000.0, 6_000_000.0, 22_000_000.0, 0.004)
READOUT = dataclasses.replace(DESIGN, status=READ, readout_id="r1", estimates=(
    PROFIT_GAIN,
    Estimate(WASTE_COST, -2.9e6 / 3650, -2_900_000.0, -4_100_000.0, -1_700_000.0, 0.0002),
    Estimate(STOCKOUT_DAYS, -1825 / 3650, -1825.0, -3000.0, 650.0, 0.21),
))
# The same pilot, whose interval reaches below zero: the gain is not shown.
UNCLEAR = dataclasses.replace(READOUT, estimates=(
    Estimate(PROFIT, 4e6 / 3650, 4_000_000.0, -2_000_000.0, 10_000_000.0, 0.19),))


# ---------------------------------------------------------------------------------
# Criteria on online metrics
# ---------------------------------------------------------------------------------
def test_online_metrics_are_criteria_marked_online():
    assert ONLINE_METRICS == ("online_yearly_savings", "online_savings_lower", "online_waste_change",
                              "online_stockout_change")
    assert all(is_online(m) for m in ONLINE_METRICS) and not is_online("yearly_savings_yen")
    assert LOWER.describe() == "Online savings, 95% lower bound (pilot) > ¥0"
    assert COVERS.describe() == "Online yearly savings (pilot) ≥ the yearly running cost"
    assert evaluate_criterion(COVERS, 14e6, RUNNING) == (
        True, "Online yearly savings (pilot) ¥14,000,000 ≥ the yearly running cost (¥6,000,000): passed.")
    waste = Criterion("online_waste_change", "<", 0)
    assert evaluate_criterion(waste, 1_200_000) == (False, "Online waste change (pilot) +¥1,200,000 ≥ ¥0, not <: failed.")
    stockouts = Criterion("online_stockout_change", "<=", -100)  # a change: a negative threshold is allowed
    assert evaluate_criterion(stockouts, -1250.4) == (
        True, "Online stockout change (pilot) \u22121,250 item-days ≤ \u2212100 item-days: passed.")
    with pytest.raises(CriterionError, match="cannot be compared with"):
        Criterion("online_waste_change", "<=", 1.0, "yearly_running_cost")


def test_the_form_takes_online_criteria_but_not_as_the_offline_metric():
    definition = ProblemDefinition(problem="x", criteria=(OFFLINE, LOWER, COVERS))
    assert from_form(to_form(definition)) == definition
    assert definition.online_criteria() == (LOWER, COVERS)
    ready = {i.label: i.done for i in readiness(dataclasses.replace(
        definition, criteria=(LOWER, Criterion("online_stockout_change", "<=", 0))))}
    assert ready["GO/NO-GO criteria on accuracy and on money"] is False  # stockouts in stores are no accuracy metric
    with pytest.raises(MitoshiError, match="measured by the pilot, not offline"):
        from_form(to_form(dataclasses.replace(definition, offline_metric="online_yearly_savings")))


# ---------------------------------------------------------------------------------
# The verdict, on a run whose offline evidence says GO
# ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def offline_go(tmp_path_factory):
    """Decision inputs whose offline evidence is a GO: ETS forecasts every sale exactly
    (significantly better than today's practice and seasonal naive, in every fold and
    category), saves ¥19.2M a year against a running cost of ¥6M with no more stockouts,
    and the team scored every readiness check."""
    warehouse = Warehouse(tmp_path_factory.mktemp("online") / "wh.duckdb")
    dataset = load_demo(warehouse, DemoConfig(stores=2, items=8, years=1, seed=5, end_date=REFERENCE_END_DATE))
    config = BacktestConfig(split=SplitConfig(horizon=14, folds=2),
                            models=tuple(ModelSpec.of(m) for m in ("practice", "snaive", "ets")))
    run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "offline go")
    result = load_result(warehouse, run_id)
    evidence = run_evidence(get_run(warehouse, run_id), result, has_stockouts=True, generated=False)
    forecasts = evidence.forecasts.copy()
    exact = forecasts["model"] == "ets"
    forecasts.loc[exact, "forecast"] = forecasts.loc[exact, "actual"]
    metrics = evidence.metrics.copy()
    metrics.loc[(metrics["model"] == "ets") & (metrics["metric"] == "wape"), "value"] = 0.0
    board = evidence.leaderboard.copy()
    board.loc[board["model"] == "ets", "wape"] = 0.0
    evidence = dataclasses.replace(evidence, forecasts=forecasts, metrics=metrics, leaderboard=board)
    impact = run_impact(warehouse, run_id).impact
    row = {"label": "", "ordering": "95% service level", "yearly_revenue": 100_000_000.0, "yearly_waste_cost": 1e6,
           "yearly_lost_margin": 1e6, "yearly_holding_cost": 0.0, "stockout_rate": 0.05, "fill_rate": 0.97,
           "waste_rate": 0.05}
    summary = pd.DataFrame([{**row, "policy": "practice", "yearly_profit": 0.0, "yearly_savings": 0.0,
                             "yearly_savings_run": 0.0},
                            {**row, "policy": "ets", "yearly_profit": 19.2e6, "yearly_savings": 19.2e6,
                             "yearly_savings_run": 19.2e6}])
    segments = pd.DataFrame([{"segment": "category", "group": g, "policy": "ets", "yearly_profit": 9.6e6,
                              "yearly_savings": 9.6e6} for g in ("bento", "bread")])
    impact = dataclasses.replace(impact, summary=summary, by_segment=segments, baseline="practice",
                                 baseline_label="today's practice", chain_scale=1.0)
    inputs = DecisionInputs(project_id="p", project_name="オンライン評価", definition_version=1,
                            definition=ProblemDefinition(problem="x", running_cost_yen_per_year=RUNNING,
                                                         online_plan="Two pilot stores for 4 weeks.",
                                                         criteria=(OFFLINE,)),
                            run=evidence, impact=impact, model="ets", readiness=MANUAL, published_versions=2)
    yield inputs
    warehouse.close()


def _decide(inputs: DecisionInputs, *criteria: Criterion, online: OnlineEvidence = OnlineEvidence(),
            facts: bool = False) -> Decision:
    """The decision with its texts in English words (``facts``: as the snapshot keeps them,
    ``core.i18n.Msg``)."""
    definition = dataclasses.replace(inputs.definition, criteria=(OFFLINE, *criteria))
    decision = evaluate_decision(dataclasses.replace(inputs, definition=definition, online=online))
    return decision if facts else decision.in_words()


def decide(*args, **kwargs) -> Decision:
    return evaluation.decide(*args, **kwargs).in_words()


def test_without_online_criteria_or_pilot_the_verdict_is_as_before_with_the_untested_promise_a_risk(offline_go):
    decision = _decide(offline_go)
    assert decision.verdict == GO, decision.reasons
    assert [c.passed for c in decision.criteria] == [True] and decision.pending == 0
    assert ("No online evaluation: the offline promise has not been tested in stores. A model that scores well in a "
            "backtest can still fail in production; design a pilot in a few stores and add an online GO/NO-GO "
            "criterion (e.g. the 95% lower bound of online savings > ¥0).") in decision.risks
    assert decision.next_steps[1] == "Start the online evaluation as planned: Two pilot stores for 4 weeks."
    assert decision.next_steps[2] == "Decide again after the online evaluation, on the same criteria."
    assert decision.online_evidence == OnlineEvidence() and decision.online["status"] == NONE


def test_before_the_pilot_online_criteria_wait_and_cap_the_verdict_at_conditional(offline_go):
    decision = _decide(offline_go, LOWER, COVERS)
    assert decision.verdict == CONDITIONAL_GO  # offline alone is a GO (above)
    online = decision.criteria[1:]
    assert [(c.metric, c.online, c.pending, c.passed, c.measured_text) for c in online] == [
        ("online_savings_lower", True, True, None, "not yet (pilot)"),
        ("online_yearly_savings", True, True, None, "not yet (pilot)")]
    assert decision.passed == 1 and decision.pending == 2
    waiting = ("Not yet evaluated, waiting for the pilot: Online savings, 95% lower bound (pilot) > ¥0; Online yearly "
               "savings (pilot) ≥ the yearly running cost. No pilot is designed yet: design one (treated and control "
               "stores, its length from a power calculation). The verdict is at most a conditional GO until the pilot "
               "is read out.")
    assert waiting in decision.reasons
    assert decision.reasons[0].startswith("All 1 evaluated criteria passed: ETS (exponential smoothing) saves "
                                          "¥19,200,000 a year")
    assert not any("Close the conditions first" in s for s in decision.next_steps)  # the pilot is the step
    assert decision.next_steps[-1] == "Start the online evaluation as planned: Two pilot stores for 4 weeks."
    assert not any(r.startswith("No online evaluation") for r in decision.risks)  # said by the criteria instead


def test_a_designed_pilot_is_named_with_its_stores_and_dates(offline_go):
    decision = _decide(offline_go, LOWER, online=DESIGN)
    assert decision.verdict == CONDITIONAL_GO
    planned = ("2 treated stores (S001, S002) ordering from the published forecasts (batch version 1) against 8 "
               "control stores (S003, S004, S005, S006, S007, S008 and 2 more) keeping today's practice, 2026-11-02 "
               "to 2026-11-29 (planned)")
    assert (f"Not yet evaluated, waiting for the pilot: Online savings, 95% lower bound (pilot) > ¥0. The pilot is "
            f"designed but not read out yet: {planned}. The verdict is at most a conditional GO until the pilot is "
            "read out.") in decision.reasons
    assert decision.criteria[1].evidence == f"Not yet evaluated: The pilot is designed but not read out yet: {planned}."
    assert decision.next_steps[-1] == (f"Run the pilot as designed: {planned}. Then read it out "
                                       "(difference-in-differences of treated against control stores) and decide "
                                       "again on the same criteria.")
    assert not any("Two pilot stores for 4 weeks" in s for s in decision.next_steps)  # what was designed instead


def test_only_online_criteria_before_the_pilot_are_conditional_not_a_no_go(offline_go):
    definition = dataclasses.replace(offline_go.definition, criteria=(LOWER,))
    decision = evaluate_decision(dataclasses.replace(offline_go, definition=definition)).in_words()
    assert decision.verdict == CONDITIONAL_GO
    assert decision.reasons[0].startswith("No criterion can be evaluated before the pilot: ETS")


def test_after_the_pilot_a_lower_bound_above_zero_and_savings_over_the_running_cost_can_be_a_go(offline_go):
    decision = _decide(offline_go, LOWER, COVERS, online=READOUT)
    assert decision.verdict == GO, decision.reasons
    lower, covers = decision.criteria[1:]
    assert (lower.passed, lower.pending, lower.measured) == (True, False, 6_000_000.0)
    assert (covers.passed, covers.measured, covers.baseline_value) == (True, 14_000_000.0, RUNNING)
    source = ("(From the pilot: difference-in-differences of 2 treated against 8 control stores, 2026-11-02 to "
              "2026-11-29, scaled to the chain's 10 stores for a year; 95% interval ¥6,000,000 to ¥22,000,000, "
              "p = 0.004.)")
    assert lower.evidence == f"Online savings, 95% lower bound (pilot) ¥6,000,000 > ¥0: passed. {source}"
    assert decision.reasons[-1] == "The backtest said ¥19.2M a year; the pilot measured ¥14.0M (95% interval ¥6.00M–¥22.0M)."
    assert decision.next_steps[-1] == ("Roll out beyond the pilot's 2 treated stores in stages, and watch the "
                                       "published forecasts against what then sold (the Forecast watch page).")
    assert not any("Decide again after the online evaluation" in s for s in decision.next_steps)


def test_a_pilot_read_out_partway_is_interim_its_criteria_wait_and_the_verdict_is_at_most_conditional(offline_go):
    # 2 of 28 days read: the same estimates as READOUT (a GO once the pilot ends), shown as interim
    partway = dataclasses.replace(READOUT, end=date(2026, 11, 3), days_read=2, days_planned=28)
    assert pilot.interim(partway) and not pilot.finished(partway) and pilot.planned_end(partway) == date(2026, 11, 29)
    decision = _decide(offline_go, LOWER, COVERS, online=partway)
    assert decision.verdict == CONDITIONAL_GO
    assert [(c.pending, c.passed, c.measured_text) for c in decision.criteria[1:]] == [
        (True, None, "not yet (pilot)"), (True, None, "not yet (pilot)")]
    waits = ("The pilot has run 2 of its 28 days (to 2026-11-03; it ends on 2026-11-29): its interim estimates are "
             "shown, but the criteria wait for its last day; read it out again then.")
    assert decision.criteria[1].evidence == f"Not yet evaluated: {waits}"
    assert (f"Not yet evaluated, waiting for the pilot: Online savings, 95% lower bound (pilot) > ¥0; Online yearly "
            f"savings (pilot) ≥ the yearly running cost. {waits} The verdict is at most a conditional GO until the "
            "pilot has run all its days and is read out.") in decision.reasons
    assert decision.reasons[-1] == ("Interim, after 2 of the pilot's 28 days: The backtest said ¥19.2M a year; the "
                                    "pilot measured ¥14.0M (95% interval ¥6.00M–¥22.0M).")
    assert pilot.pilot_sentence(partway).endswith(
        "keeping today's practice, 2026-11-02 to 2026-11-03 (interim: 2 of the 28 planned days, to end on 2026-11-29)")
    assert decision.next_steps[-1] == ("Let the pilot run its remaining 26 days (to 2026-11-29), then read it out "
                                       "again and decide again on the same criteria.")
    assert not any(s.startswith("Publish the forecasts") for s in decision.next_steps)  # published already
    assert decision.online_evidence == partway  # kept in the snapshot as it was: interim
    # all days read: the same readout decides (a GO, as in the test above); older evidence without days: complete
    assert _decide(offline_go, LOWER, COVERS, online=dataclasses.replace(partway, days_read=28)).verdict == GO
    assert pilot.finished(READOUT) and READOUT.days_planned is None


def test_after_the_pilot_a_lower_bound_below_zero_fails_and_the_verdict_follows_the_rules(offline_go):
    decision = _decide(offline_go, LOWER, online=UNCLEAR)
    assert decision.verdict == NO_GO
    assert decision.criteria[1].passed is False
    assert decision.reasons[0].startswith("Failed: Online savings, 95% lower bound (pilot) > ¥0 — Online savings, 95% "
                                          "lower bound (pilot) \u2212¥2,000,000 ≤ ¥0, not >: failed. (From the pilot:")
    assert decision.reasons[-1] == ("The backtest said ¥19.2M a year; the pilot measured ¥4.00M (95% interval "
                                    "\u2212¥2.00M to ¥10.0M).")
    # a criterion on a measure the readout lacks is not evaluated: an open condition, not a failure
    decision = _decide(offline_go, COVERS, Criterion("online_waste_change", "<", 0), online=dataclasses.replace(
        READOUT, estimates=(PROFIT_GAIN,)))
    assert decision.verdict == CONDITIONAL_GO and decision.criteria[2].passed is None
    assert decision.criteria[2].evidence == ("The pilot's readout has no estimate of waste cost: read it out with that "
                                             "measure to evaluate this criterion.")


# ---------------------------------------------------------------------------------
# The conditions the offline evidence leaves to the pilot, judged once it has run
# ---------------------------------------------------------------------------------
# Offline, ETS runs out of stock on 18.6% of days against 15.7% for today's practice: the
# service constraint is broken, and the condition says the pilot must keep stockouts down.
BROKEN_HEAD = ("Constraint broken: ordering from ETS (exponential smoothing) runs out of stock on 18.6% of days "
               "against 15.7% for today's practice (+2.9 pp).")
OFFLINE_CONDITION = (f"{BROKEN_HEAD} It is acceptable only if the pilot keeps stockouts at or below 15.7%: raise the "
                     "safety stock (a higher service level) for the items that run out more, or order them as today, "
                     "and add a stockout criterion to the problem definition if some increase is acceptable.")
# 1 pp of the chain's item-days a year: 0.01 × 365 days × the run's 16 series (2 stores × 8 items)
TOLERATED = "the 58 item-days a year the constraint tolerates (+1.0 pp of the chain's item-days)"
STOCKOUTS_ROSE = Estimate(STOCKOUT_DAYS, 5762 / 3650, 5762.0, 564.0, 10960.0, 0.034)


def _more_stockouts(inputs: DecisionInputs) -> DecisionInputs:
    summary = inputs.impact.summary.copy()
    summary["stockout_rate"] = summary["policy"].map({"practice": 0.157, "ets": 0.186})
    return dataclasses.replace(inputs, impact=dataclasses.replace(inputs.impact, summary=summary))


def test_a_pilot_with_more_stockouts_fails_the_service_condition_and_the_verdict_is_no_go(offline_go):
    inputs = _more_stockouts(offline_go)
    before = _decide(inputs, LOWER, online=DESIGN)  # before the pilot: the condition as the offline evidence left it
    assert before.verdict == CONDITIONAL_GO and OFFLINE_CONDITION in before.reasons
    assert before.conditions == [OFFLINE_CONDITION]
    rose = dataclasses.replace(READOUT, estimates=(PROFIT_GAIN, STOCKOUTS_ROSE))
    assert pilot.reading(STOCKOUTS_ROSE) == "worse" and pilot.stockout_judgement(STOCKOUTS_ROSE, 58.4) == pilot.FAILED
    decision = _decide(inputs, LOWER, online=rose)
    assert decision.verdict == NO_GO, decision.reasons
    assert [c.passed for c in decision.criteria] == [True, True]  # every criterion passed: the pilot's stockouts decide
    judged = (f"{BROKEN_HEAD} The pilot confirmed it: stockout item-days rose by 5,762 a year (95% interval "
              f"564–10,960), p = 0.034, more than {TOLERATED}. It was acceptable only if the pilot kept stockouts at "
              "or below 15.7%.")
    assert decision.reasons[:2] == [
        f"Failed in the pilot: {judged}",
        "All 2 evaluated criteria passed: ETS (exponential smoothing) saves ¥19,200,000 a year, ¥13,200,000 after "
        "running costs. But the pilot failed a condition the offline evidence left to it, so the verdict is NO-GO for "
        "ETS (exponential smoothing) at this ordering."]
    assert OFFLINE_CONDITION not in decision.reasons and decision.conditions == [judged]  # the snapshot's, judged
    assert decision.next_steps == [
        "Do not take ETS (exponential smoothing) to production at this ordering, and do not roll out beyond the "
        "pilot's 2 treated stores.",
        "Raise the safety stock (a higher service level) for the items that run out more, publish again, and pilot "
        "again."]
    assert not any("Roll out" in s for s in decision.next_steps)
    # an interim readout of the same estimates judges nothing yet: the offline condition stands
    partway = dataclasses.replace(rose, end=date(2026, 11, 3), days_read=2, days_planned=28)
    interim = _decide(inputs, LOWER, online=partway)
    assert interim.verdict == CONDITIONAL_GO and interim.conditions == [OFFLINE_CONDITION]
    # the problem definition's own online stockout criterion sets the tolerance: 10,000 item-days a year are accepted
    tolerant = _decide(inputs, LOWER, Criterion("online_stockout_change", "<=", 10_000), online=rose)
    assert tolerant.verdict == GO, tolerant.reasons
    assert (f"Met in the pilot: {BROKEN_HEAD} It was acceptable only if the pilot kept stockouts at or below 15.7%, "
            "and the pilot kept them within the problem definition's criterion (Online stockout change (pilot) ≤ +"
            "10,000 item-days): stockout item-days rose by 5,762 a year (95% interval 564–10,960), p = 0.034."
            ) in tolerant.reasons


def test_a_pilot_that_cannot_tell_leaves_the_service_condition_open_and_holds_the_rollout(offline_go):
    inputs = _more_stockouts(offline_go)
    decision = _decide(inputs, LOWER, online=READOUT)  # stockout item-days −1,825 a year, 95% interval −3,000 to 650
    assert decision.verdict == CONDITIONAL_GO
    still_open = (f"{BROKEN_HEAD} It is acceptable only if the pilot keeps stockouts at or below 15.7%, and the pilot "
                  "could not tell: stockout item-days changed by \u22121,825 a year (95% interval \u22123,000 to 650), "
                  f"p = 0.210, which does not rule out more than {TOLERATED}. Settle it before rolling out: pilot "
                  "longer or in more stores, or raise the safety stock (a higher service level) for the items that run "
                  "out more, publish again and pilot again.")
    assert still_open in decision.reasons and decision.conditions == [still_open]
    assert decision.next_steps == [
        f"Close the conditions first: {still_open}",
        "Do not roll out beyond the pilot's 2 treated stores until the conditions the pilot left open are settled; "
        "then decide again on the same criteria."]
    # fewer stockouts, the whole interval below zero: the condition is met and the verdict a GO
    fewer = dataclasses.replace(READOUT, estimates=(PROFIT_GAIN, Estimate(STOCKOUT_DAYS, -0.5, -1825.0, -3000.0,
                                                                          -650.0, 0.003)))
    met = _decide(inputs, LOWER, online=fewer)
    assert met.verdict == GO, met.reasons
    assert met.reasons[1] == (f"Met in the pilot: {BROKEN_HEAD} It was acceptable only if the pilot kept stockouts at "
                              "or below 15.7%, and the pilot did: stockout item-days fell by 1,825 a year (95% "
                              "interval 650–3,000), p = 0.003.")
    assert met.next_steps[-1].startswith("Roll out beyond the pilot's 2 treated stores in stages")
    # a pilot of another model says nothing of this model's stockouts: the offline condition stands
    other = dataclasses.replace(fewer, batch_model="snaive")
    assert _decide(inputs, LOWER, online=other).conditions == [OFFLINE_CONDITION]


def test_the_pilots_savings_paying_back_beyond_the_criterion_are_a_risk_and_a_condition(offline_go):
    definition = dataclasses.replace(offline_go.definition, investment_yen=15_000_000.0)
    inputs = dataclasses.replace(offline_go, definition=definition)
    payback = Criterion("payback_months", "<=", 18)
    slow = dataclasses.replace(READOUT, estimates=(Estimate(PROFIT, 11.7e6 / 3650, 11_700_000.0, 3_000_000.0,
                                                            20_400_000.0, 0.008),))
    sentence = ("The pilot's ¥11.7M a year, ¥5.70M after running costs, would pay back the ¥15.0M investment in 31.6 "
                "months, beyond the 18 months asked.")
    condition = (f"{sentence} The offline criteria stand on the backtest's figures; confirm the business case at the "
                 "pilot's rate before rolling out.")
    decision = _decide(inputs, LOWER, payback, online=slow)
    assert decision.verdict == CONDITIONAL_GO  # a condition, not a NO-GO: the offline payback criterion passed
    assert [c.passed for c in decision.criteria] == [True, True, True]
    assert decision.reasons[0] == ("All 3 evaluated criteria passed: ETS (exponential smoothing) saves ¥19,200,000 a "
                                   "year, ¥13,200,000 after running costs, paying back in 13.6 months.")
    assert decision.reasons[1] == condition and sentence in decision.risks
    assert decision.next_steps == [
        f"Close the conditions first: {condition}",
        "Do not roll out beyond the pilot's 2 treated stores until the conditions the pilot left open are settled; "
        "then decide again on the same criteria."]
    # an online criterion that fails decides: NO-GO, the payback still a risk
    failing = _decide(inputs, LOWER, payback, Criterion("online_yearly_savings", ">=", 12_000_000.0), online=slow)
    assert failing.verdict == NO_GO and sentence in failing.risks
    # savings below the running cost
    thin = dataclasses.replace(slow, estimates=(Estimate(PROFIT, 4e6 / 3650, 4_000_000.0, 1_000_000.0, 7_000_000.0,
                                                         0.01),))
    below = _decide(inputs, LOWER, online=thin)
    assert below.verdict == CONDITIONAL_GO
    assert ("The pilot's ¥4.00M a year does not cover the yearly running cost of ¥6.00M (\u2212¥2.00M after running "
            "costs): at the pilot's rate the model does not pay.") in below.risks
    # a pilot that pays back within the criterion adds nothing; nor does a decision before the pilot
    fast = dataclasses.replace(slow, estimates=(Estimate(PROFIT, 0.0, 25_000_000.0, 9_000_000.0, 41_000_000.0,
                                                         0.002),))  # ¥19M net: 9.5 months
    assert _decide(inputs, LOWER, payback, online=fast).verdict == GO
    assert not any(r.startswith("The pilot's") for r in _decide(inputs, LOWER, payback, online=DESIGN).risks)


def test_a_pilot_of_another_model_is_a_condition_of_the_verdict(offline_go):
    """A decision on ETS after a pilot of seasonal naive: the pilot's measurement is no evidence for
    ETS, so the verdict says so in its conditions (at most CONDITIONAL GO), not only among the risks
    at the end of the report, where a reader of the verdict box would miss it."""
    condition = ("The pilot tested Seasonal naive's forecasts, not ETS (exponential smoothing)'s: what it measured "
                 "is no evidence for ETS (exponential smoothing). Pilot ETS (exponential smoothing), or decide on "
                 "Seasonal naive.")
    # the batch the treated stores ordered from decides, not the design's promise
    piloted_snaive = dataclasses.replace(READOUT, batch_model="snaive", offline_model="snaive",
                                         offline_yearly_savings=3_100_000.0, offline_ordering="a 90% service level",
                                         design_offline_model="ets", design_offline_yearly_savings=19_200_000.0)
    decision = _decide(offline_go, LOWER, online=piloted_snaive)
    assert decision.verdict == CONDITIONAL_GO
    assert condition in decision.reasons and condition not in decision.risks
    # the readout's promise is the piloted batch's own (¥3.10M), not the decision's ETS ¥19.2M
    assert ("The backtest said ¥3.10M a year; the pilot measured ¥14.0M (95% interval ¥6.00M–¥22.0M)."
            in decision.reasons)
    designed_snaive = dataclasses.replace(READOUT, offline_model="snaive")  # the design priced another model
    assert condition not in _decide(offline_go, LOWER, online=designed_snaive).reasons  # but ETS was piloted
    older = dataclasses.replace(READOUT, offline_model="snaive", batch_model=None)  # stored before batch_model
    assert condition in _decide(offline_go, LOWER, online=older).reasons


def test_bare_forecasts_piloted_have_no_promise_beside_the_measurement(offline_go):
    bare = dataclasses.replace(READOUT, offline_yearly_savings=None, offline_ordering="the bare forecast")
    assert pilot.promised(bare, 19_200_000.0, "ets") is None  # not the decision's own ETS figure either
    decision = _decide(offline_go, LOWER, online=bare)
    assert decision.reasons[-1] == "The pilot measured ¥14.0M a year (95% interval ¥6.00M–¥22.0M)."
    # evidence stored before the ordering was kept falls back on the decision's figure for the same model
    older = dataclasses.replace(READOUT, offline_yearly_savings=None)
    assert pilot.promised(older, 19_200_000.0, "ets") == 19_200_000.0
    assert pilot.promised(older, 19_200_000.0, "snaive") is None


def test_the_snapshot_keeps_the_online_evidence_as_facts(offline_go, tmp_path):
    decision = _decide(offline_go, LOWER, COVERS, online=READOUT, facts=True)
    assert decision.format == SNAPSHOT_FORMAT == 3
    again = Decision.from_json(decision.to_json())
    assert again == decision and again.online_evidence == READOUT
    assert json.loads(decision.to_json())["online"]["treated"] == ["S001", "S002"]
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    decisions.save_decision(warehouse, decision)
    assert decisions.get_decision(warehouse, decision.decision_id).online_evidence == READOUT
    warehouse.close()


def test_an_older_snapshot_has_no_online_evidence_and_still_renders():
    text = SAMPLE.read_text(encoding="utf-8")
    assert json.loads(text)["format"] == 1 and "online" not in json.loads(text)
    old = Decision.from_json(text)
    assert old.online is None and old.online_evidence.status == NONE and old.pending == 0
    pages = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(decision_pdf(old))).pages)
    assert _flat("This decision was taken before Mitoshi kept the online evidence with a decision.") in _flat(pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_pdf_prints_the_online_section_with_its_figures(offline_go):
    decision = _decide(offline_go, LOWER, COVERS, online=READOUT)
    text = _flat("\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(decision_pdf(decision))).pages))
    for expected in ("Online evaluation: the pilot in stores", "Status Pilot read out",
                     "Treated stores (2) S001, S002", "Control stores (8) S003, S004, S005, S006, S007, S008, S009, S010",
                     "Pilot period 2026-11-02 to 2026-11-29",
                     "Treated stores order from the published forecasts of ETS (exponential smoothing), batch version 1",
                     "Designed to detect a yearly effect of ¥9.66M or more (80% power at 5% significance)",
                     "The backtest said ¥19.2M a year; the pilot measured ¥14.0M (95% interval ¥6.00M–¥22.0M).",
                     "Profit +¥14,000,000 95%: ¥6,000,000 to ¥22,000,000 0.004 better",
                     "Waste cost \u2212¥2,900,000 95%: \u2212¥4,100,000 to \u2212¥1,700,000 < 0.001 better",
                     "Stockout item-days \u22121,825 item-days", "no clear change",
                     "✓ passed Online savings, 95% lower bound (pilot) > ¥0"):
        assert _flat(expected) in text, expected
    before = _decide(offline_go, LOWER, online=DESIGN)
    text = _flat("\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(decision_pdf(before))).pages))
    assert _flat("◷ not yet evaluated (pilot)") in text and _flat("2026-11-02 to 2026-11-29 (planned)") in text
    assert _flat("(1 wait for the pilot)") in text


def test_the_online_chart_keeps_its_text_inside_and_apart(monkeypatch):
    from tests.pdf_checks import chart_texts as _texts

    figures = []
    original = pdf_charts._png
    monkeypatch.setattr(pdf_charts, "_png", lambda fig: figures.append(fig) or original(fig))
    for offline, running in ((19.2e6, RUNNING), (None, None), (19.2e6, 30e6), (5.62e6, RUNNING), (6e6, 6.5e6)):
        png = pdf_charts.online_png(offline, 4e6, -2e6, 10e6, 0.95, running, 180, 52)
        assert png.startswith(b"\x89PNG")
    for fig in figures:
        texts, frame = _texts(fig)
        assert any("¥4.00M" in t for t, _ in texts)
        for text, box in texts:
            assert box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1 and box.y0 >= frame.y0 - 1 and \
                box.y1 <= frame.y1 + 1, f"'{text}' is clipped"
        for (a, box_a), (b, box_b) in itertools.combinations(texts, 2):
            overlap = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0), min(box_a.y1, box_b.y1) - max(box_a.y0,
                                                                                                      box_b.y0)
            assert not (overlap[0] > 1 and overlap[1] > 1), f"'{a}' overlaps '{b}'"


def test_estimate_rows_read_each_interval_in_its_good_direction():
    rows = pilot.estimate_rows(READOUT)
    assert [(r["measure"], r["yearly"], r["reading"]) for r in rows] == [
        ("Profit", "+¥14,000,000", "better"), ("Waste cost", "\u2212¥2,900,000", "better"),
        ("Stockout item-days", "\u22121,825 item-days", "no clear change")]
    worse = Estimate(WASTE_COST, 1.0, 3e6, 1e6, 5e6, 0.01)
    assert pilot.reading(worse) == "worse"


# ---------------------------------------------------------------------------------
# The report page: decided before the pilot and again after it
# ---------------------------------------------------------------------------------
def test_the_report_page_shows_the_online_evaluation_and_both_decisions(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    run_id = store_run(warehouse, ("S001", "S002"), ("practice", "snaive", "ma"), horizon=14, name="two stores")
    project = planning.ensure_example_project(warehouse)
    latest = planning.latest_definition(warehouse, project.project_id)
    planning.save_definition(warehouse, project.project_id, dataclasses.replace(
        latest.definition, criteria=(*latest.definition.criteria, LOWER)), latest.version)
    before = decide(warehouse, project.project_id, run_id, online=DESIGN)
    after = decide(warehouse, project.project_id, run_id, online=dataclasses.replace(READOUT, offline_model="ma"))
    warehouse.close()
    assert before.verdict in (CONDITIONAL_GO, NO_GO) and before.criteria[-1].pending
    assert after.criteria[-1].passed is True

    at = new_session("pages/report.py")
    assert not at.exception, at.exception
    assert any(s.value == "Online evaluation: the pilot in stores" for s in at.subheader)
    shown = " ".join(m.value for m in at.markdown)
    assert "The backtest said ¥19.2M a year; the pilot measured ¥14.0M (95% interval ¥6.00M–¥22.0M)." in shown
    # The example's own two online criteria and LOWER.
    assert ("**Online evaluation:** no pilot designed yet. The 3 online criteria will be *not yet evaluated*, and the "
            "verdict at most a conditional GO.") in shown  # the project has no pilot stored: what a new decision reads
    assert "**Status: pilot read out**" in shown and "S001, S002" in shown
    frames = [d.value for d in at.dataframe]
    table = next(f for f in frames if "yearly effect (chain)" in f.columns)
    assert list(table["measure"]) == ["Profit", "Waste cost", "Stockout item-days"]
    assert list(table["p-value"]) == ["0.004", "< 0.001", "0.210"]
    heads = next(f for f in frames if "online" in f.columns)
    assert list(heads["online"]) == ["after the pilot", "before the pilot (designed)"]
    assert list(heads["decision"]) == [after.decision_id, before.decision_id]

    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Show decision")).set_value(
        before.decision_id).run()
    assert not at.exception, at.exception
    assert any("wait for the pilot" in s.value for s in at.subheader)
    assert any("not yet evaluated" in m.value for m in at.markdown)
    assert any("2026-11-02 to 2026-11-29 (planned)" in m.value for m in at.markdown)


def test_the_problem_definition_form_offers_the_online_metrics_with_what_they_mean(warehouse_env):
    at = new_session("pages/problem.py")
    offline = next(s for s in at.selectbox if s.label == "Offline metric")
    assert "WAPE" in offline.options and not any("(pilot)" in o for o in offline.options)  # the backtest's metric
    next(b for b in at.button if b.label == "Add a criterion").click().run()
    metric = [s for s in at.selectbox if s.label.endswith("metric") and s.label.startswith("Criterion")][-1]  # new
    labels = metric.options  # as the box shows them
    assert {"Online yearly savings (pilot)", "Online savings, 95% lower bound (pilot)", "Online waste change (pilot)",
            "Online stockout change (pilot)"} <= set(labels)
    row = metric.label.split(" metric")[0]
    metric.set_value("online_savings_lower")
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == f"{row} comparator")).set_value(">")
    next(n for n in at.number_input if n.label == f"{row} threshold").set_value(0.0)
    at.run()
    assert not at.exception, at.exception
    read = next(c.value for c in at.caption if "Reads: **Online savings" in c.value)  # its help text, as plain text
    assert read.startswith(":material/check: 5. Reads: **Online savings, 95% lower bound (pilot) > ¥0** — measured by "
                           "the pilot")
    assert "the lower end of the 95% interval of the pilot's yearly savings" in read
