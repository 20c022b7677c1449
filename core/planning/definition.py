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

Stored text fields hold what was typed, the English original of a text the product wrote
(the example project, a process offered) or a sentence kept as facts (a value estimate
written from an initiative). ``shown_definition`` reads a stored definition in the current
language, ``stored_definition`` turns one shown back into what is stored (``texts``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from core import fmt
from core.i18n import M_, N_, Fmt, Msg, from_json, gettext, render, to_json
from core.planning import needs_ml, texts
from core.planning.criteria import (
    HIGHER,
    METRICS,
    MONEY_BASELINES,
    YEN,
    Criterion,
    Labels,
    criteria_from_json,
    is_online,
    threshold_unit,
)
from core.planning.errors import CriterionError, InvalidInputError
from core.planning.merge import three_way_merge

# Offered in the form and stored as written: fixed texts, read in the reader's language (``texts``).
PROCESSES = (N_("Ordering 発注"), N_("Delivery 配送"), N_("Purchasing 仕入れ"), N_("Inventory 在庫管理"),
             N_("Pricing 価格設定"), N_("Staffing 人員配置"), N_("Store operations 店舗運営"), N_("Promotion 販促"))
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


# Labels people see (in the current language: ``LABELS[name]``), in the order of the page;
# diffs and conflicts name fields so.
LABELS = Labels({
    "problem": N_("Problem statement"), "processes": N_("Process affected"), "decision": N_("Decision supported"),
    "kpi_name": "KPI", "kpi_unit": N_("KPI unit"), "kpi_current": N_("KPI current value"),
    "kpi_target": N_("KPI target"), "value_yen_per_year": N_("Value (¥ per year)"),
    "value_estimate": N_("How the value was estimated"), "running_cost_yen_per_year": N_("Yearly running cost (¥)"),
    "investment_yen": N_("Initial investment (¥)"), "people": N_("People"), "timeline": N_("Time"),
    "budget_yen": N_("Budget (¥)"), "data_sources": N_("Data sources"), "out_of_scope": N_("What we will not do"),
    "checklist": N_("Does this need ML?"), "offline_metric": N_("Offline metric"),
    "offline_method": N_("Offline evaluation"), "online_plan": N_("Online evaluation"),
    "criteria": N_("GO/NO-GO criteria"),
})
_YEN_FIELDS = ("value_yen_per_year", "running_cost_yen_per_year", "investment_yen", "budget_yen")
_NUMBER_FIELDS = (*_YEN_FIELDS, "kpi_current", "kpi_target")
_LINE_FIELDS = ("data_sources", "out_of_scope")
_TEXT_FIELDS = ("problem", "decision", "kpi_name", "kpi_unit", "value_estimate", "people", "timeline",
                "offline_method", "online_plan")


# ---------------------------------------------------------------------------------
# Storage: the criteria are stored apart, so the report reads them without the rest.
# ---------------------------------------------------------------------------------
def content_to_json(definition: ProblemDefinition) -> str:
    data = {k: to_json([texts.stored(x, texts.DEFINITION) for x in v] if isinstance(v, tuple)
                       else texts.stored(v, texts.DEFINITION))
            for k, v in definition.fields().items() if k != "criteria"}
    return json.dumps(data, ensure_ascii=False)


def definition_from_json(content: str, criteria: str) -> ProblemDefinition:
    """The definition as stored: a sentence kept as facts is a ``Msg`` (``shown_definition``
    reads it)."""
    data = json.loads(content or "{}")
    known = {f.name for f in fields(ProblemDefinition)} - {"criteria"}
    values = {k: (tuple(v) if isinstance(v, list) else from_json(v)) for k, v in data.items() if k in known}
    return ProblemDefinition(**values, criteria=criteria_from_json(criteria))


# ---------------------------------------------------------------------------------
# The reader's language: fixed texts translated, facts rendered — and back for a save
# ---------------------------------------------------------------------------------
def shown_definition(definition: ProblemDefinition) -> ProblemDefinition:
    """A stored definition as the reader reads it (``texts.shown`` on every text)."""
    values = {}
    for name in (*_TEXT_FIELDS, *_LINE_FIELDS, "processes"):
        value = getattr(definition, name)
        values[name] = (tuple(texts.shown(v, texts.DEFINITION) for v in value) if isinstance(value, tuple)
                        else texts.shown(value, texts.DEFINITION))
    return replace(definition, **values)


def _as_stored(value: object, candidates: tuple[ProblemDefinition | None, ...], name: str) -> object:
    """A text field's value as it is stored: its facts when it reads as a stored
    sentence of one of ``candidates`` (the versions it may have been opened from)."""
    if isinstance(value, texts.Text):
        return value.fact
    for candidate in candidates:
        before = getattr(candidate, name, None) if candidate is not None else None
        if isinstance(before, Msg) and isinstance(value, str) and value == render(before):
            return before
    return texts.stored(value, texts.DEFINITION)


def stored_definition(definition: ProblemDefinition, *candidates: ProblemDefinition | None) -> ProblemDefinition:
    """A definition as shown (in any language) as it is to be stored: fixed texts as their
    originals, sentences kept as facts where they still read as those of ``candidates``."""
    values = {name: _as_stored(getattr(definition, name), candidates, name) for name in _TEXT_FIELDS}
    for name in (*_LINE_FIELDS, "processes"):
        values[name] = tuple(texts.stored(v, texts.DEFINITION) for v in getattr(definition, name))
    return replace(definition, **values)


def form_facts(form: Mapping, *candidates: ProblemDefinition | None) -> dict:
    """A form (a draft) with its texts as stored: it reads the same in the other language."""
    out = dict(form)
    for name in _TEXT_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = to_json(_as_stored(out[name], candidates, name))
    for name in _LINE_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = "\n".join(str(texts.stored(line, texts.DEFINITION)) for line in out[name].split("\n"))
    if isinstance(out.get("processes"), list):
        out["processes"] = [texts.stored(p, texts.DEFINITION) for p in out["processes"]]
    return out


def form_shown(form: Mapping) -> dict:
    """A stored form (a draft) in the current language (``form_facts`` undone)."""
    out = dict(form)
    for name in _TEXT_FIELDS:
        if name in out and out[name] is not None:
            out[name] = texts.shown(out[name], texts.DEFINITION)
    for name in _LINE_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = "\n".join(str(texts.shown(line, texts.DEFINITION)) for line in out[name].split("\n"))
    if isinstance(out.get("processes"), list):
        out["processes"] = [texts.shown(p, texts.DEFINITION) for p in out["processes"]]
    return out


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
    problems: list[Msg] = []
    values: dict[str, object] = {}
    for name in _TEXT_FIELDS:
        typed = form.get(name) or ""
        text = typed if isinstance(typed, texts.Text) and typed == typed.strip() else str(typed).strip()
        if len(text) > MAX_TEXT:
            problems.append(M_("{field} is {length} characters long; keep it under {limit}.", field=_label(name),
                               length=Fmt("count", len(text)), limit=Fmt("count", MAX_TEXT)))
        values[name] = text
    for name in _NUMBER_FIELDS:
        number = form.get(name)
        if number is not None and (not isinstance(number, int | float) or not math.isfinite(number)):
            problems.append(M_("{field} must be a number.", field=_label(name)))
            number = None
        if number is not None and name in _YEN_FIELDS and number < 0:
            problems.append(M_("{field} cannot be negative.", field=_label(name)))
        values[name] = None if number is None else float(number)
    for name in _LINE_FIELDS:
        values[name] = _lines(form.get(name))
    values["processes"] = tuple(p.strip() for p in form.get("processes") or () if p and p.strip())
    checklist = tuple(form.get("checklist") or ())
    unknown = [k for k in checklist if k not in needs_ml.KEYS]
    if unknown:
        problems.append(M_("Unknown checklist item(s): {items}.", items=", ".join(unknown)))
    values["checklist"] = tuple(k for k in needs_ml.KEYS if k in checklist)
    metric = form.get("offline_metric") or ""
    if metric and metric not in METRICS:
        problems.append(M_("Unknown offline metric '{metric}'.", metric=metric))
    elif is_online(metric):
        problems.append(M_("{metric} is measured by the pilot, not offline: choose a backtest metric as the offline "
                           "metric, and name the online one in a GO/NO-GO criterion.", metric=METRICS[metric].fact))
    values["offline_metric"] = metric

    if not values["problem"]:
        problems.append(M_("Describe the problem in a sentence or two (section 1) — it is the one thing a version "
                           "needs."))
    if (values["kpi_current"] is not None or values["kpi_target"] is not None) and not values["kpi_name"]:
        problems.append(M_("Name the KPI whose current value or target you gave."))
    if values["kpi_current"] is not None and values["kpi_current"] == values["kpi_target"]:
        problems.append(M_("The KPI target equals its current value: say what should change."))
    if values["value_yen_per_year"] and not values["value_estimate"]:
        problems.append(M_("Say how the value of {amount} a year was estimated, so others can check it.",
                           amount=Fmt("yen", values["value_yen_per_year"])))

    criteria: list[Criterion] = []
    for number, row in enumerate(form.get("criteria") or (), start=1):
        if _blank(row):
            continue
        try:
            criterion = row_to_criterion(row)
        except CriterionError as error:
            problems.append(M_("GO/NO-GO criterion {number}: {problem}", number=number, problem=error.fact))
            continue
        twin = next((i for i, c in enumerate(criteria, start=1)
                     if (c.metric, c.comparator, c.baseline) == (criterion.metric, criterion.comparator,
                                                                 criterion.baseline)), None)
        if twin is not None:
            problems.append(M_("GO/NO-GO criterion {number} repeats the metric, comparator and baseline of criterion "
                               "{twin}; keep one.", number=number, twin=twin))
            continue
        criteria.append(criterion)
    if problems:
        raise InvalidInputError(M_("The problem definition"), problems)
    return ProblemDefinition(**values, criteria=tuple(criteria))


def _label(name: str) -> Msg:
    """A field's label as facts."""
    return Msg(LABELS.english(name))


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
    _ = gettext
    items = [
        ReadinessItem(_("Problem statement"), bool(d.problem), _("Describe the problem.")),
        ReadinessItem(_("Process affected"), bool(d.processes), _("Choose the process the prediction changes.")),
        ReadinessItem(_("Decision supported"), bool(d.decision), _("Say which decision the prediction supports.")),
        ReadinessItem(_("KPI with current value and target"),
                      bool(d.kpi_name) and d.kpi_current is not None and d.kpi_target is not None,
                      _("Name the KPI and give its current value and target.")),
        ReadinessItem(_("Value in yen per year, and how it was estimated"),
                      bool(d.value_yen_per_year) and bool(d.value_estimate),
                      _("Estimate what solving it is worth a year, and how.")),
        ReadinessItem(_("Constraints: people, time, budget"), bool(d.people and d.timeline and d.budget_yen),
                      _("Say who works on it, by when, and with what budget.")),
        ReadinessItem(_("Data sources"), bool(d.data_sources), _("List the data the PoC will use.")),
        ReadinessItem(_("What we will not do"), bool(d.out_of_scope), _("Decide what is out of scope.")),
        ReadinessItem(_("Does this need ML?"), verdict.kind == needs_ml.ML, verdict.headline),
        ReadinessItem(_("Evaluation plan (offline and online)"),
                      bool(d.offline_metric and d.offline_method and d.online_plan),
                      _("Describe the offline backtest and the online test.")),
        ReadinessItem(_("Offline metric has a threshold"), bool(d.offline_criteria()),
                      _("Add a GO/NO-GO criterion on the offline metric: that is its threshold.")),
        ReadinessItem(_("GO/NO-GO criteria on accuracy and on money"), kinds == {True, False},
                      _("Fix at least one accuracy criterion and one money criterion now, before any result.")),
    ]
    return items


def display(field: str, value: object) -> str:
    """A field's value as a short text for diffs and conflict messages, in the current
    language."""
    if value is None or value == () or value == "":
        return "–"
    if field in _YEN_FIELDS:
        return fmt.yen(value)
    if field in ("kpi_current", "kpi_target"):
        return fmt.number(value, 2).rstrip("0").rstrip(".")
    if field == "criteria":
        return "\n".join(f"{i}. {c.describe()}" for i, c in enumerate(value, start=1))
    if field == "checklist":
        return gettext("{n} of {total} ticked").format(n=len(value), total=len(needs_ml.KEYS))
    if field == "offline_metric":
        return METRICS[value].label if value in METRICS else str(value)
    if isinstance(value, tuple):
        return "\n".join(str(texts.shown(v, texts.DEFINITION)) for v in value)
    return str(texts.shown(value, texts.DEFINITION))


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
