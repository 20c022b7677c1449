"""The problem definition: a structured document saved as numbered versions.

A PM writes it before any model runs: the problem, the process and the decision it
touches, the KPI, the value in yen, constraints, data, what will not be done, whether
ML is needed at all, the evaluation plan and the GO/NO-GO criteria. Only the problem
statement is required to save a version — a definition grows over days — and
``readiness`` says what is still missing.

The *form* is the same document as the widgets hold it: lists as one item a line,
percentages as percent, thresholds in the unit people type (see
``criteria.threshold_unit``). ``to_form`` and ``from_form`` convert both ways;
``from_form`` lists every problem at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from core import fmt
from core.planning import needs_ml
from core.planning.criteria import (
    HIGHER,
    METRICS,
    MONEY_BASELINES,
    YEN,
    Criterion,
    criteria_from_json,
    is_online,
    threshold_unit,
)
from core.planning.errors import CriterionError, InvalidInputError
from core.planning.merge import three_way_merge

PROCESSES = ("Ordering 発注", "Delivery 配送", "Purchasing 仕入れ", "Inventory 在庫管理", "Pricing 価格設定",
             "Staffing 人員配置", "Store operations 店舗運営", "Promotion 販促")
MAX_TEXT = 4000


@dataclass(frozen=True)
class ProblemDefinition:
    problem: str = ""
    processes: tuple[str, ...] = ()
    decision: str = ""
    kpi_name: str = ""
    kpi_unit: str = ""
    kpi_current: float | None = None
    kpi_target: float | None = None
    value_yen_per_year: float | None = None
    value_estimate: str = ""
    running_cost_yen_per_year: float | None = None
    investment_yen: float | None = None
    people: str = ""
    timeline: str = ""
    budget_yen: float | None = None
    data_sources: tuple[str, ...] = ()
    out_of_scope: tuple[str, ...] = ()
    checklist: tuple[str, ...] = ()
    offline_metric: str = "wape"
    offline_method: str = ""
    online_plan: str = ""
    criteria: tuple[Criterion, ...] = ()

    def fields(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def money_baselines(self) -> dict[str, float | None]:
        """Values of the money baselines criteria may name, for the GO/NO-GO report."""
        return {"yearly_running_cost": self.running_cost_yen_per_year, "initial_investment": self.investment_yen}

    def offline_criteria(self) -> tuple[Criterion, ...]:
        """The criteria on the evaluation plan's offline metric: its thresholds."""
        return tuple(c for c in self.criteria if c.metric == self.offline_metric)

    def online_criteria(self) -> tuple[Criterion, ...]:
        """The criteria the pilot measures (``criteria.ONLINE`` metrics)."""
        return tuple(c for c in self.criteria if is_online(c.metric))

    def is_empty(self) -> bool:
        return self == ProblemDefinition()


# Labels people see, in the order of the page; diffs and conflicts name fields so.
LABELS: dict[str, str] = {
    "problem": "Problem statement", "processes": "Process affected", "decision": "Decision supported",
    "kpi_name": "KPI", "kpi_unit": "KPI unit", "kpi_current": "KPI current value", "kpi_target": "KPI target",
    "value_yen_per_year": "Value (¥ per year)", "value_estimate": "How the value was estimated",
    "running_cost_yen_per_year": "Yearly running cost (¥)", "investment_yen": "Initial investment (¥)",
    "people": "People", "timeline": "Time", "budget_yen": "Budget (¥)", "data_sources": "Data sources",
    "out_of_scope": "What we will not do", "checklist": "Does this need ML?", "offline_metric": "Offline metric",
    "offline_method": "Offline evaluation", "online_plan": "Online evaluation", "criteria": "GO/NO-GO criteria",
}
_YEN_FIELDS = ("value_yen_per_year", "running_cost_yen_per_year", "investment_yen", "budget_yen")
_NUMBER_FIELDS = (*_YEN_FIELDS, "kpi_current", "kpi_target")
_LINE_FIELDS = ("data_sources", "out_of_scope")
_TEXT_FIELDS = ("problem", "decision", "kpi_name", "kpi_unit", "value_estimate", "people", "timeline",
                "offline_method", "online_plan")


# ---------------------------------------------------------------------------------
# Storage: the criteria are stored apart, so the report reads them without the rest.
# ---------------------------------------------------------------------------------
def content_to_json(definition: ProblemDefinition) -> str:
    data = {k: (list(v) if isinstance(v, tuple) else v) for k, v in definition.fields().items() if k != "criteria"}
    return json.dumps(data, ensure_ascii=False)


def definition_from_json(content: str, criteria: str) -> ProblemDefinition:
    data = json.loads(content or "{}")
    known = {f.name for f in fields(ProblemDefinition)} - {"criteria"}
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in known}
    return ProblemDefinition(**values, criteria=criteria_from_json(criteria))


# ---------------------------------------------------------------------------------
# The form
# ---------------------------------------------------------------------------------
BLANK_CRITERION = {"metric": "", "comparator": "improves_by_at_least", "threshold": None, "baseline": None,
                   "description": ""}


def criterion_to_row(criterion: Criterion) -> dict:
    scale, _ = threshold_unit(criterion.metric, criterion.comparator, criterion.baseline)
    return {"metric": criterion.metric, "comparator": criterion.comparator,
            "threshold": round(criterion.threshold * scale, 10), "baseline": criterion.baseline,
            "description": criterion.description}


def row_to_criterion(row: Mapping) -> Criterion:
    """A form row as a criterion; raises ``CriterionError`` with every problem."""
    metric, comparator, baseline = row.get("metric") or "", row.get("comparator") or "", row.get("baseline") or None
    threshold = row.get("threshold")
    if isinstance(threshold, int | float) and not isinstance(threshold, bool):
        scale, _ = threshold_unit(metric, comparator, baseline)
        threshold = round(float(threshold) / scale, 12)
    return Criterion(metric, comparator, threshold, baseline, row.get("description") or "")


def to_form(definition: ProblemDefinition) -> dict:
    form = {}
    for name, value in definition.fields().items():
        if name in _LINE_FIELDS:
            form[name] = "\n".join(value)
        elif name in _NUMBER_FIELDS:
            form[name] = None if value is None else float(value)
        elif name == "criteria":
            form[name] = [criterion_to_row(c) for c in value]
        elif isinstance(value, tuple):
            form[name] = list(value)
        else:
            form[name] = value
    return form


def _lines(text: str | None) -> tuple[str, ...]:
    return tuple(line.strip().lstrip("-・•*").strip() for line in (text or "").splitlines() if line.strip())


def _blank(row: Mapping) -> bool:
    return not row.get("metric") and row.get("threshold") is None and not (row.get("description") or "").strip()


def from_form(form: Mapping) -> ProblemDefinition:
    """The definition the form describes; ``InvalidInputError`` lists every problem."""
    problems: list[str] = []
    values: dict[str, object] = {}
    for name in _TEXT_FIELDS:
        text = (form.get(name) or "").strip()
        if len(text) > MAX_TEXT:
            problems.append(f"{LABELS[name]} is {len(text):,} characters long; keep it under {MAX_TEXT:,}.")
        values[name] = text
    for name in _NUMBER_FIELDS:
        number = form.get(name)
        if number is not None and (not isinstance(number, int | float) or not math.isfinite(number)):
            problems.append(f"{LABELS[name]} must be a number.")
            number = None
        if number is not None and name in _YEN_FIELDS and number < 0:
            problems.append(f"{LABELS[name]} cannot be negative.")
        values[name] = None if number is None else float(number)
    for name in _LINE_FIELDS:
        values[name] = _lines(form.get(name))
    values["processes"] = tuple(p.strip() for p in form.get("processes") or () if p and p.strip())
    checklist = tuple(form.get("checklist") or ())
    unknown = [k for k in checklist if k not in needs_ml.KEYS]
    if unknown:
        problems.append(f"Unknown checklist item(s): {', '.join(unknown)}.")
    values["checklist"] = tuple(k for k in needs_ml.KEYS if k in checklist)
    metric = form.get("offline_metric") or ""
    if metric and metric not in METRICS:
        problems.append(f"Unknown offline metric '{metric}'.")
    elif is_online(metric):
        problems.append(f"{METRICS[metric].label} is measured by the pilot, not offline: choose a backtest metric "
                        "as the offline metric, and name the online one in a GO/NO-GO criterion.")
    values["offline_metric"] = metric

    if not values["problem"]:
        problems.append("Describe the problem in a sentence or two (section 1) — it is the one thing a version needs.")
    if (values["kpi_current"] is not None or values["kpi_target"] is not None) and not values["kpi_name"]:
        problems.append("Name the KPI whose current value or target you gave.")
    if values["kpi_current"] is not None and values["kpi_current"] == values["kpi_target"]:
        problems.append("The KPI target equals its current value: say what should change.")
    if values["value_yen_per_year"] and not values["value_estimate"]:
        problems.append(f"Say how the value of {fmt.yen(values['value_yen_per_year'])} a year was estimated, so "
                        "others can check it.")

    criteria: list[Criterion] = []
    for number, row in enumerate(form.get("criteria") or (), start=1):
        if _blank(row):
            continue
        try:
            criterion = row_to_criterion(row)
        except CriterionError as error:
            problems.append(f"GO/NO-GO criterion {number}: {error}")
            continue
        twin = next((i for i, c in enumerate(criteria, start=1)
                     if (c.metric, c.comparator, c.baseline) == (criterion.metric, criterion.comparator,
                                                                 criterion.baseline)), None)
        if twin is not None:
            problems.append(f"GO/NO-GO criterion {number} repeats the metric, comparator and baseline of "
                            f"criterion {twin}; keep one.")
            continue
        criteria.append(criterion)
    if problems:
        raise InvalidInputError("The problem definition", problems)
    return ProblemDefinition(**values, criteria=tuple(criteria))


# ---------------------------------------------------------------------------------
# Readiness, diffs, merge
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReadinessItem:
    label: str
    done: bool
    hint: str


def readiness(definition: ProblemDefinition) -> list[ReadinessItem]:
    """What a definition needs before the PoC starts, each with what is missing."""
    d = definition
    verdict = needs_ml.verdict(d.checklist)
    # An online stockout count is no accuracy criterion: only the backtest's metrics count as accuracy.
    kinds = {METRICS[c.metric].unit == YEN or METRICS[c.metric].better == HIGHER for c in d.criteria
             if not is_online(c.metric) or METRICS[c.metric].unit == YEN}
    items = [
        ReadinessItem("Problem statement", bool(d.problem), "Describe the problem."),
        ReadinessItem("Process affected", bool(d.processes), "Choose the process the prediction changes."),
        ReadinessItem("Decision supported", bool(d.decision), "Say which decision the prediction supports."),
        ReadinessItem("KPI with current value and target",
                      bool(d.kpi_name) and d.kpi_current is not None and d.kpi_target is not None,
                      "Name the KPI and give its current value and target."),
        ReadinessItem("Value in yen per year, and how it was estimated",
                      bool(d.value_yen_per_year) and bool(d.value_estimate),
                      "Estimate what solving it is worth a year, and how."),
        ReadinessItem("Constraints: people, time, budget", bool(d.people and d.timeline and d.budget_yen),
                      "Say who works on it, by when, and with what budget."),
        ReadinessItem("Data sources", bool(d.data_sources), "List the data the PoC will use."),
        ReadinessItem("What we will not do", bool(d.out_of_scope), "Decide what is out of scope."),
        ReadinessItem("Does this need ML?", verdict.kind == needs_ml.ML, verdict.headline),
        ReadinessItem("Evaluation plan (offline and online)",
                      bool(d.offline_metric and d.offline_method and d.online_plan),
                      "Describe the offline backtest and the online test."),
        ReadinessItem("Offline metric has a threshold", bool(d.offline_criteria()),
                      "Add a GO/NO-GO criterion on the offline metric: that is its threshold."),
        ReadinessItem("GO/NO-GO criteria on accuracy and on money", kinds == {True, False},
                      "Fix at least one accuracy criterion and one money criterion now, before any result."),
    ]
    return items


def display(field: str, value: object) -> str:
    """A field's value as a short text for diffs and conflict messages."""
    if value is None or value == () or value == "":
        return "–"
    if field in _YEN_FIELDS:
        return fmt.yen(value)
    if field in ("kpi_current", "kpi_target"):
        return fmt.number(value, 2).rstrip("0").rstrip(".")
    if field == "criteria":
        return "\n".join(f"{i}. {c.describe()}" for i, c in enumerate(value, start=1))
    if field == "checklist":
        return f"{len(value)} of {len(needs_ml.KEYS)} ticked"
    if field == "offline_metric":
        return METRICS[value].label if value in METRICS else str(value)
    if isinstance(value, tuple):
        return "\n".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: str
    after: str


def diff(old: ProblemDefinition | None, new: ProblemDefinition) -> list[FieldChange]:
    """The fields that differ from ``old`` to ``new`` (all filled ones when there is no old)."""
    before = (old or ProblemDefinition()).fields()
    return [FieldChange(name, LABELS[name], display(name, before[name]), display(name, value))
            for name, value in new.fields().items() if before[name] != value]


def merge(base: ProblemDefinition, theirs: ProblemDefinition, mine: ProblemDefinition
          ) -> tuple[ProblemDefinition, tuple[str, ...]]:
    """Combine two edits of ``base``; the labels of the fields both changed differently."""
    merged, conflicts = three_way_merge(base.fields(), theirs.fields(), mine.fields())
    return replace(base, **merged), tuple(LABELS[c] for c in conflicts)


def money_criteria_needing(definition: ProblemDefinition) -> list[str]:
    """Money baselines named by a criterion but with no value in the definition."""
    values = definition.money_baselines()
    return sorted({c.baseline for c in definition.criteria if c.baseline in MONEY_BASELINES and not values[c.baseline]})
