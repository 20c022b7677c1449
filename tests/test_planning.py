"""Core planning logic: criteria as data, the definition form, the checklist, scores
and quadrants of initiatives, the plan, and the three-way merge. No warehouse."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from core.planning import example, needs_ml
from core.planning.charts import effort_impact_map, plan_timeline
from core.planning.criteria import (
    Criterion,
    criteria_from_json,
    criteria_to_json,
    evaluate_criterion,
    threshold_unit,
)
from core.planning.definition import (
    BLANK_CRITERION,
    ProblemDefinition,
    content_to_json,
    definition_from_json,
    diff,
    from_form,
    merge,
    readiness,
    to_form,
)
from core.planning.errors import CriterionError, InvalidInputError
from core.planning.initiatives import (
    Initiative,
    Quadrant,
    Thresholds,
    editor_changes,
    editor_frame,
    ease_score,
    ice,
    impact_score,
    quadrant,
    recommendation,
    rice,
    score_table,
    to_definition,
)
from core.planning.merge import three_way_merge
from core.planning.plan import (
    LadderStep,
    Phase,
    PhaseStatus,
    StepStatus,
    default_ladder,
    ladder_position,
    plan_warnings,
    progress,
)


# ---------------------------------------------------------------------------------
# Criteria
# ---------------------------------------------------------------------------------
def test_relative_improvement_on_a_lower_is_better_metric():
    c = Criterion("wape", "improves_by_at_least", 0.10, "practice")
    passed, why = evaluate_criterion(c, 0.27, 0.32)  # (0.32 - 0.27) / 0.32 = 15.625 %
    assert passed
    assert why == ("WAPE 27.0% is 15.6% better than today's practice (32.0%); at least 10% better is needed: "
                   "passed.")
    passed, why = evaluate_criterion(c, 0.30, 0.32)  # 6.25 %
    assert not passed and "6.3% better" in why and why.endswith("failed.")
    passed, why = evaluate_criterion(c, 0.35, 0.32)  # worse: -9.4 %
    assert not passed and "9.4% worse" in why


def test_exactly_at_the_threshold_passes_despite_float_noise():
    c = Criterion("wape", "improves_by_at_least", 0.10, "snaive")
    assert (0.3 - 0.27) / 0.3 < 0.1  # 0.09999999999999995 in floating point
    assert evaluate_criterion(c, 0.27, 0.30)[0]


def test_money_criterion_against_a_multiple_of_the_running_cost():
    c = Criterion("yearly_savings_yen", ">=", 1.0, "yearly_running_cost")
    passed, why = evaluate_criterion(c, 12_000_000, 4_800_000)
    # the baseline itself: its value once, never "(¥4,800,000 = ¥4,800,000)"
    assert passed and why == "Yearly savings ¥12,000,000 ≥ the yearly running cost (¥4,800,000): passed."
    c2 = Criterion("yearly_savings_yen", ">=", 3.0, "yearly_running_cost")  # 3 × 4.8M = 14.4M
    passed, why = evaluate_criterion(c2, 12_000_000, 4_800_000)
    # a failed check says the relation that holds, never "¥12,000,000 ≥ ¥14,400,000: failed"
    assert not passed and why == ("Yearly savings ¥12,000,000 < 3 × the yearly running cost "
                                  "(3 × ¥4,800,000 = ¥14,400,000), not ≥: failed.")
    c3 = Criterion("yearly_savings_yen", ">=", 1.25, "yearly_running_cost")
    assert evaluate_criterion(c3, -27_215_086, 6_000_000)[1] == (
        "Yearly savings −¥27,215,086 < 1.25 × the yearly running cost (1.25 × ¥6,000,000 = ¥7,500,000), not ≥: "
        "failed.")


def test_absolute_thresholds_and_strict_comparators():
    payback = Criterion("payback_months", "<=", 18)
    assert evaluate_criterion(payback, 18)[0]
    assert not evaluate_criterion(payback, 20)[0]
    assert evaluate_criterion(payback, 17.5)[1] == "Payback period 17.5 months ≤ 18 months: passed."
    strict = Criterion("payback_months", "<", 18)
    assert not evaluate_criterion(strict, 18)[0]
    assert evaluate_criterion(Criterion("wape", ">", 0.2), 0.25)[0]


def test_bias_is_judged_by_its_distance_from_zero():
    relative = Criterion("bias", "improves_by_at_least", 0.5, "practice")
    passed, why = evaluate_criterion(relative, -1.0, 3.0)  # (3 - 1) / 3 = 66.7 %
    assert passed and "66.7% better" in why
    absolute = Criterion("bias", "<=", 0.5)
    assert evaluate_criterion(absolute, -0.4)[0]
    assert not evaluate_criterion(absolute, -0.6)[0]
    assert absolute.describe() == "|Bias| ≤ 0.50 units"


def test_higher_is_better_relative_improvement():
    c = Criterion("yearly_net_benefit_yen", "improves_by_at_least", 0.5, "initial_investment")
    assert evaluate_criterion(c, 30_000_000, 20_000_000)[0]  # +50 %
    assert not evaluate_criterion(c, 29_000_000, 20_000_000)[0]


def test_evaluation_refuses_missing_values_and_a_zero_baseline():
    c = Criterion("wape", "improves_by_at_least", 0.1, "practice")
    with pytest.raises(CriterionError, match="has not been measured"):
        evaluate_criterion(c, float("nan"), 0.3)
    with pytest.raises(CriterionError, match="no WAPE value"):
        evaluate_criterion(c, 0.3, None)
    with pytest.raises(CriterionError, match="undefined"):
        evaluate_criterion(c, 0.3, 0.0)


@pytest.mark.parametrize(("args", "message"), [
    (("nope", "<=", 1.0, None), "Unknown metric"),
    (("", "<=", 1.0, None), "Choose a metric"),
    (("wape", "~", 1.0, None), "Unknown comparator"),
    (("wape", "improves_by_at_least", 0.1, None), "needs a baseline"),
    (("wape", "improves_by_at_least", 1.2, "practice"), "cannot improve by 100 %"),
    (("wape", "improves_by_at_least", 0.0, "practice"), "above 0 %"),
    (("yearly_savings_yen", ">=", 1.0, "practice"), "cannot be compared with today's practice"),
    (("payback_months", "<=", 18.0, "snaive"), "possible baselines: none"),
    (("bias", ">=", 1.0, None), "best at zero"),
    (("wape", "<=", float("inf"), None), "threshold"),
    (("wape", "<=", -0.1, None), "cannot be negative"),
])
def test_invalid_criteria_are_refused_with_a_reason(args, message):
    with pytest.raises(CriterionError, match=message):
        Criterion(*args)


def test_criteria_round_trip_through_json_with_japanese_text():
    criteria = example.definition().criteria
    text = criteria_to_json(criteria)
    assert "予測誤差" in text  # stored readable, not as \\u escapes
    assert criteria_from_json(text) == criteria
    with pytest.raises(CriterionError, match="Unknown criterion field"):
        Criterion.from_dict({"metric": "wape", "comparator": "<=", "threshold": 0.3, "colour": "red"})
    with pytest.raises(CriterionError, match="needs a threshold"):
        Criterion.from_dict({"metric": "wape", "comparator": "<="})
    with pytest.raises(CriterionError, match="not valid JSON"):
        criteria_from_json("[{")


def test_descriptions_read_like_the_issue():
    assert Criterion("wape", "improves_by_at_least", 0.1, "practice").describe() == \
        "WAPE at least 10% better (lower) than today's practice"
    assert Criterion("yearly_savings_yen", ">", 1, "yearly_running_cost").describe() == \
        "Yearly savings > the yearly running cost"
    assert Criterion("yearly_savings_yen", ">=", 1.5, "yearly_running_cost").describe() == \
        "Yearly savings ≥ 1.5 × the yearly running cost"
    assert Criterion("wape", "<=", 0.25).describe() == "WAPE ≤ 25.0%"


def test_thresholds_are_typed_in_the_unit_people_use():
    assert Criterion("yearly_savings_yen", ">=", 1.0, "yearly_running_cost").unit == "¥"
    assert threshold_unit("wape", "<=", None) == (100.0, "%")
    assert threshold_unit("wape", "improves_by_at_least", "practice") == (100.0, "%")
    assert threshold_unit("yearly_savings_yen", ">=", "yearly_running_cost") == (1.0, "×")
    assert threshold_unit("payback_months", "<=", None) == (1.0, "months")


# ---------------------------------------------------------------------------------
# Problem definition
# ---------------------------------------------------------------------------------
def test_the_form_round_trips_the_example_exactly():
    definition = example.definition()
    form = to_form(definition)
    assert form["criteria"][0]["threshold"] == 10  # typed as percent
    assert from_form(form) == definition
    assert definition_from_json(content_to_json(definition), criteria_to_json(definition.criteria)) == definition


def test_from_form_lists_every_problem_at_once():
    form = to_form(ProblemDefinition())
    form.update(kpi_target=4.5, value_yen_per_year=1_000_000.0, budget_yen=-5.0, criteria=[
        {**BLANK_CRITERION, "metric": "wape", "threshold": 150.0, "baseline": "practice"},
        {**BLANK_CRITERION, "metric": "wape", "threshold": 10.0, "baseline": "practice"},
        {**BLANK_CRITERION, "metric": "wape", "threshold": 5.0, "baseline": "practice"},
        dict(BLANK_CRITERION),  # a blank row is ignored
    ])
    with pytest.raises(InvalidInputError) as caught:
        from_form(form)
    problems = caught.value.problems
    assert any("Describe the problem" in p for p in problems)
    assert any("Name the KPI" in p for p in problems)
    assert any("Budget (¥) cannot be negative" in p for p in problems)
    assert any("how the value of ¥1,000,000" in p for p in problems)
    assert any(p.startswith("GO/NO-GO criterion 1:") and "100 %" in p for p in problems)
    assert any(p.startswith("GO/NO-GO criterion 3 repeats") for p in problems)
    assert len(problems) == 6


def test_lines_and_japanese_text_survive_the_form():
    form = to_form(ProblemDefinition())
    form.update(problem="  発注が属人化している  ", data_sources="・POS売上\n\n- 発注実績 \n", processes=["発注", " "],
                checklist=["history", "rule_measured"])
    definition = from_form(form)
    assert definition.problem == "発注が属人化している"
    assert definition.data_sources == ("POS売上", "発注実績")
    assert definition.processes == ("発注",)
    assert definition.checklist == ("rule_measured", "history")  # checklist order, not click order


def test_readiness_of_an_empty_and_of_the_example_definition():
    assert all(item.done for item in readiness(example.definition()))
    empty = readiness(ProblemDefinition(problem="x"))
    assert sum(i.done for i in empty) == 1
    assert next(i for i in empty if i.label == "Does this need ML?").hint == "Try a rule first."


def test_diff_names_the_fields_that_changed():
    old = example.definition()
    new = replace(old, kpi_target=4.0, criteria=old.criteria[:1])
    changes = {c.label: c for c in diff(old, new)}
    assert set(changes) == {"KPI target", "GO/NO-GO criteria"}
    assert changes["KPI target"].before == "4.5" and changes["KPI target"].after == "4"
    assert "payback" not in changes["GO/NO-GO criteria"].after.lower()


def test_merge_keeps_both_sides_or_names_the_conflict():
    base = example.definition()
    theirs = replace(base, kpi_target=4.0)
    mine = replace(base, problem="新しい課題")
    merged, conflicts = merge(base, theirs, mine)
    assert conflicts == () and merged.kpi_target == 4.0 and merged.problem == "新しい課題"
    _, conflicts = merge(base, theirs, replace(base, kpi_target=3.0))
    assert conflicts == ("KPI target",)
    merged, conflicts = merge(base, theirs, replace(base, kpi_target=4.0))  # same change twice: no conflict
    assert conflicts == () and merged == theirs


def test_three_way_merge_on_plain_fields():
    merged, conflicts = three_way_merge({"a": 1, "b": 1, "c": 1}, {"a": 2, "b": 1, "c": 3}, {"a": 1, "b": 5, "c": 4})
    assert merged == {"a": 2, "b": 5, "c": 4} and conflicts == ("c",)


# ---------------------------------------------------------------------------------
# Does this need ML?
# ---------------------------------------------------------------------------------
def test_checklist_points_to_a_rule_first():
    assert needs_ml.verdict([]).headline == "Try a rule first."
    assert needs_ml.verdict(["rule_measured"]).headline == "A rule will do."
    assert needs_ml.verdict(["rule_measured", "rule_not_enough", "scale"]).kind == needs_ml.NOT_READY
    assert needs_ml.verdict(["rule_measured", "rule_not_enough", "history", "feedback"]).kind == needs_ml.RULE
    ml = needs_ml.verdict(["rule_measured", "rule_not_enough", "scale", "history", "feedback"])
    assert ml.kind == needs_ml.ML and any("safeguard" in r for r in ml.reasons)
    assert len(needs_ml.verdict(needs_ml.KEYS).reasons) == 1
    with pytest.raises(ValueError):
        needs_ml.verdict(["nope"])


# ---------------------------------------------------------------------------------
# Initiatives
# ---------------------------------------------------------------------------------
def test_scores_by_hand():
    i = Initiative("需要予測", effort_weeks=12, impact_yen=60_000_000, confidence=0.7, reach=0.8)
    assert rice(i) == pytest.approx(60_000_000 * 0.8 * 0.7 / 12)  # ¥2.8M per person-week
    assert impact_score(1_000_000) == 1 and impact_score(1e9) == 10 and impact_score(1e7) == pytest.approx(4)
    assert impact_score(0) == 1 and impact_score(1e12) == 10
    assert ease_score(1) == 10 and ease_score(100) == 1 and ease_score(10) == pytest.approx(5.5)
    expected = (1 + 9 * (math.log10(6e7) - 6) / 3) * 7 * (10 - 9 * math.log10(12) / 2)
    assert ice(i) == pytest.approx(expected)


def test_quadrants_use_the_talks_names_and_inclusive_thresholds():
    t = Thresholds(effort_weeks=10, impact_yen=20_000_000)
    assert quadrant(Initiative("a", effort_weeks=10, impact_yen=20_000_000), t) is Quadrant.AIM
    assert quadrant(Initiative("b", effort_weeks=11, impact_yen=20_000_000), t) is Quadrant.WAIT
    assert quadrant(Initiative("c", effort_weeks=2, impact_yen=1), t) is Quadrant.START
    assert quadrant(Initiative("d", effort_weeks=50, impact_yen=1), t) is Quadrant.DOUBT
    assert Quadrant.AIM.value == "Aim here (MUST)" and Quadrant.DOUBT.value == "Are you sure?"


def test_the_example_ranks_demand_forecasting_first():
    items = [(str(n), i) for n, i in enumerate(example.initiatives())]
    assert len(items) == 8
    table = score_table(items, Thresholds())
    assert table.iloc[0]["name"].startswith("Demand forecasting")
    assert list(table["rank"]) == list(range(1, 9))
    assert set(table["quadrant"]) == {q.value for q in Quadrant}
    lines = recommendation(table)
    assert lines[0].startswith("**Start with Demand forecasting")
    assert any(line.startswith("Are you sure?") for line in lines)
    # Moving a threshold moves initiatives between quadrants.
    tighter = score_table(items, Thresholds(effort_weeks=10, impact_yen=20_000_000))
    assert tighter.iloc[0]["quadrant"] == Quadrant.START.value
    assert recommendation(tighter)[0].startswith("Nothing is both little effort and large impact")
    assert recommendation(score_table([], Thresholds())) == ["Add candidate initiatives to see where to start."]


def test_invalid_initiatives_are_refused():
    with pytest.raises(InvalidInputError, match="Effort must be above 0"):
        Initiative("x", effort_weeks=0)
    with pytest.raises(InvalidInputError, match="Confidence must be between"):
        Initiative("x", confidence=1.5)
    with pytest.raises(InvalidInputError, match="Give it a name"):
        Initiative("  ")


def test_editor_changes_find_added_updated_deleted_and_incomplete_rows():
    opened = {"a": Initiative("A", effort_weeks=4, impact_yen=1e7),
              "b": Initiative("B", effort_weeks=8, impact_yen=2e7),
              "c": Initiative("C", effort_weeks=2, impact_yen=1e6)}
    frame = editor_frame(list(opened.items()))
    assert list(frame.index) == [0, 1, 2] and frame.loc[0, "confidence_pct"] == 50
    edited = frame.copy()
    edited.loc[0, "effort_weeks"] = 30.0  # A moves
    edited = edited[edited["key"] != "c"]  # C deleted
    new_rows = pd.DataFrame([
        {"key": None, "name": "発注自動化", "description": "", "effort_weeks": 26.0, "impact_yen": 4.5e7,
         "confidence_pct": 50.0, "reach_pct": 80.0},
        {"key": None, "name": "half", "description": None, "effort_weeks": None, "impact_yen": None,
         "confidence_pct": 50.0, "reach_pct": 100.0},
    ])
    changes = editor_changes(opened, pd.concat([edited, new_rows], ignore_index=True))
    assert [k for k, _ in changes.updated] == ["a"] and changes.updated[0][1].effort_weeks == 30
    assert changes.deleted == ("c",)
    assert [i.name for i in changes.added] == ["発注自動化"] and changes.added[0].reach == 0.8
    assert len(changes.waiting) == 1 and "'half' is not saved yet" in changes.waiting[0]  # the page waits for it
    bad = frame.copy()
    bad.loc[1, "name"] = ""
    assert "not saved" in editor_changes(opened, bad).problems[0]
    assert not editor_changes(opened, frame).any


def test_an_initiative_becomes_the_problem_and_keeps_the_rest():
    current = example.definition()
    chosen = example.initiatives()[1]
    definition = to_definition(current, chosen)
    assert definition.problem.startswith("Delivery-delay prediction 配送遅延予測: 配送の遅れ")
    assert definition.value_yen_per_year == 10_000_000 and "60% confidence" in definition.value_estimate
    assert definition.criteria == current.criteria and definition.timeline == current.timeline
    assert "8 person-weeks" in to_definition(ProblemDefinition(), chosen).timeline


# ---------------------------------------------------------------------------------
# Plan
# ---------------------------------------------------------------------------------
def test_phases_validate_dates_and_report_progress():
    with pytest.raises(InvalidInputError, match="ends .* before it starts"):
        Phase("offline", start=date(2025, 5, 1), end=date(2025, 4, 1))
    phases = example.phases(date(2025, 4, 16))
    assert phases[0].start == date(2025, 4, 14) - pd.Timedelta(weeks=2).to_pytimedelta()
    state = progress(phases)
    assert (state.done, state.total, state.current.key) == (0, 4, "survey")
    assert state.last_day == phases[-1].end
    late = plan_warnings(phases, today=date(2025, 6, 1))
    assert any("should have ended" in w for w in late)
    overlap = replace(phases[1], start=phases[0].start)
    assert any("starts before" in w for w in plan_warnings([phases[0], overlap], date(2025, 4, 1)))
    assert any("has no owner" in w for w in plan_warnings([Phase("online", status=PhaseStatus.DONE)], date.today()))


def test_every_ladder_step_needs_a_stop_rule():
    assert [s.key for s in default_ladder()] == ["rules", "simple", "gbdt", "give_up"]
    assert all(s.stop_rule for s in default_ladder())
    with pytest.raises(InvalidInputError, match="needs a stop rule"):
        LadderStep("gbdt", stop_rule=" ")
    with pytest.raises(InvalidInputError, match="time box"):
        LadderStep("gbdt", stop_rule="x", timebox_weeks=-1)
    steps = list(default_ladder())
    assert ladder_position(steps).startswith("Nothing tried yet")
    steps[0] = replace(steps[0], status=StepStatus.NEXT)
    steps[1] = replace(steps[1], status=StepStatus.TRYING)
    assert ladder_position(steps) == "Trying 'Simple model シンプルなモデル'."
    steps[3] = replace(steps[3], status=StepStatus.GAVE_UP)
    assert ladder_position(steps) == "Gave up: today's practice stays."


def test_charts_have_titles_and_labelled_axes():
    items = [(str(n), i) for n, i in enumerate(example.initiatives())]
    fig = effort_impact_map(score_table(items, Thresholds()), Thresholds())
    assert fig.layout.title.text.startswith("Effort against impact")
    assert "person-weeks" in fig.layout.xaxis.title.text and "¥ per year" in fig.layout.yaxis.title.text
    notes = " ".join(a.text for a in fig.layout.annotations)
    assert all(q.value in notes for q in Quadrant)
    assert sum(len(t.x) for t in fig.data) == 8
    phases = example.phases(date(2025, 4, 16))
    frame = pd.DataFrame([{"name": p.label_lines, "owner": p.owner, "start": p.start, "end": p.end,
                           "status": p.status.value} for p in phases])
    timeline = plan_timeline(frame, date(2025, 4, 16))
    assert timeline.layout.title.text.startswith("PoC plan") and timeline.layout.xaxis.title.text == "Date"
    assert {t.name for t in timeline.data} == {"in progress", "not started"}


def test_half_a_person_week_is_written_as_such():
    from core.planning.initiatives import Initiative, recommendation, to_definition

    quick = Initiative(name="Reorder rule", effort_weeks=0.5, impact_yen=30_000_000, confidence=0.8, reach=0.5)
    lines = recommendation(score_table([("k", quick)], Thresholds()))
    assert "little effort (0.5 person-weeks)" in lines[0]
    assert to_definition(ProblemDefinition(), quick).timeline.startswith("About 0.5 person-weeks")
