"""The GO / NO-GO decision: a project's criteria, fixed before any result was known,
evaluated against a stored run and its money impact.

``evaluate_decision`` is a pure function of its inputs and returns a ``Decision``: an
immutable snapshot holding everything the report page and the PDF show — the verdict
and its reasons, each criterion with its evidence, significance, stability, value
against cost, the production-readiness score and the tables behind the charts. It
serialises to JSON and back unchanged (``to_json`` / ``from_json``), so a decision
reads the same years later, whatever happened to the run or the project since.

The offline evidence (the backtest and its money impact) is a promise; the online
evidence (the pilot in a few stores, ``core.pilot.evidence.OnlineEvidence``) tests it.
Criteria on online metrics are evaluated from the pilot's readout; before it they are
"not yet evaluated" (``CriterionResult.pending``) and the verdict is at most a
conditional GO. The snapshot keeps the online evidence as facts (format 2; a format-1
snapshot has none).

Readiness follows the four areas of Google's ML Test Score (Breck et al., 2017: "The
ML Test Score: A Rubric for ML Production Readiness and Technical Debt Reduction"):
data, model, infrastructure, monitoring. Each item scores 0, 0.5 (done by hand,
documented) or 1 (automated, repeated); an area's score is the sum of its items and
the overall score is the *lowest* area, as in the paper.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime

import numpy as np
import pandas as pd

from core import fmt, periods
from core.backtest import accounting
from core.backtest.compare import diebold_mariano
from core.backtest.engine import BacktestResult
from core.backtest.metrics import MODEL
from core.columns import SERIES_ID, Freq
from core.decision import online as pilot
from core.errors import MitoshiError
from core.forecast.base import Rung
from core.forecast.registry import MODELS, is_external
from core.money.impact import ERRORS, NORMAL, PRACTICE, QUANTILE, SHELF, ImpactResult
from core.pilot.evidence import DAYS_PER_YEAR, DESIGNED, NONE, PROFIT, READ, STOCKOUT_DAYS, OnlineEvidence
from core.planning.criteria import (
    BASELINES,
    METRICS,
    MODEL_BASELINES,
    Criterion,
    evaluate_criterion,
    format_value,
    is_online,
)
from core.planning.definition import ProblemDefinition
from core.planning.errors import CriterionError

GO, CONDITIONAL_GO, NO_GO = "GO", "CONDITIONAL GO", "NO-GO"
VERDICTS = (GO, CONDITIONAL_GO, NO_GO)
SNAPSHOT_FORMAT = 2  # 2: the online evidence (``Decision.online``) and pending online criteria
SIGNIFICANCE = 0.05


class DecisionError(MitoshiError):
    """A decision cannot be evaluated as asked; the message says what to do first."""


# ---------------------------------------------------------------------------------
# Readiness: the ML Test Score's four areas, worded for a store x item forecast
# ---------------------------------------------------------------------------------
DATA, MODEL_AREA, INFRA, MONITORING = "Data", "Model", "Infrastructure", "Monitoring"
AREAS = (DATA, MODEL_AREA, INFRA, MONITORING)
SCORES = (0.0, 0.5, 1.0)
SCORE_MEANING = {0.0: "not done", 0.5: "done by hand, documented", 1.0: "automated and repeated"}


@dataclass(frozen=True)
class ReadinessCheck:
    key: str
    area: str
    text: str
    auto: bool = False  # scored from evidence in the warehouse, not by the team


CHECKS: tuple[ReadinessCheck, ...] = (
    ReadinessCheck("schema", DATA, "The data's expectations are written down: each column's role, type and frequency.",
                   auto=True),
    ReadinessCheck("quality", DATA, "Every load is checked: unreadable dates, negatives, duplicates, calendar gaps.",
                   auto=True),
    ReadinessCheck("no_leak", DATA, "Every input is known when the forecast is made (exogenous columns declared "
                   "known in advance; nothing after the cutoff).", auto=True),
    ReadinessCheck("censoring", DATA, "Stockouts are recorded, so censored sales can be told from low demand.",
                   auto=True),
    ReadinessCheck("feed", DATA, "A daily sales and orders feed for production exists and has an owner."),
    ReadinessCheck("privacy", DATA, "Personal and contractual data rules were reviewed for the data used."),
    ReadinessCheck("baseline", MODEL_AREA, "The model is compared with simple baselines (today's practice, seasonal "
                   "naive).", auto=True),
    ReadinessCheck("time_split", MODEL_AREA, "Evaluated on the future only: rolling origin over several folds, never "
                   "a random split.", auto=True),
    ReadinessCheck("significant", MODEL_AREA, "The improvement over the baseline is statistically significant.",
                   auto=True),
    ReadinessCheck("slices", MODEL_AREA, "Quality holds on important slices: every store and category beats the "
                   "baseline.", auto=True),
    ReadinessCheck("reproducible", MODEL_AREA, "Experiments are reproducible: config, data fingerprint and code "
                   "version are stored with each run.", auto=True),
    ReadinessCheck("staleness", MODEL_AREA, "How fast the model goes stale is known, and a retraining cadence is set."),
    ReadinessCheck("batch", INFRA, "The model retrains on all data and writes the next horizon to a batch forecast "
                   "table.", auto=True),
    ReadinessCheck("rollback", INFRA, "Forecast table versions are kept, so the previous one can be served again.",
                   auto=True),
    ReadinessCheck("integration", INFRA, "The pipeline from sales feed to forecast table is tested end to end."),
    ReadinessCheck("canary", INFRA, "A new model's forecasts are checked against the previous version before the "
                   "stores see them."),
    ReadinessCheck("fallback", INFRA, "Ordering falls back to today's practice when the forecast is late or missing."),
    ReadinessCheck("input_monitor", MONITORING, "Input data is monitored: missing days, volumes, new or vanished "
                   "items."),
    ReadinessCheck("accuracy_monitor", MONITORING, "Forecast accuracy (WAPE) against actual sales is tracked every "
                   "week."),
    ReadinessCheck("kpi_monitor", MONITORING, "Stockouts and waste are tracked as the business KPIs the model should "
                   "move."),
    ReadinessCheck("skew", MONITORING, "Training and serving use the same feature code (no skew between backtest "
                   "and production)."),
    ReadinessCheck("alerts", MONITORING, "Alerts with an owner fire when the forecast table is late or looks wrong."),
)
CHECK_BY_KEY = {c.key: c for c in CHECKS}


def score_band(score: float) -> str:
    """The ML Test Score paper's reading of an overall score."""
    if score <= 0:
        return "more of a research project than a production system"
    if score <= 1:
        return "not totally untested, but serious holes in reliability are possible"
    if score <= 2:
        return "a first pass at basic productionisation; more investment may be needed"
    if score <= 3:
        return "reasonably tested; more of it could be automated"
    if score <= 5:
        return "strong automated testing and monitoring, fit for mission-critical use"
    return "exceptional levels of automated testing and monitoring"


# ---------------------------------------------------------------------------------
# The snapshot
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CriterionResult:
    criterion: str  # the criterion as a sentence
    metric: str
    comparator: str
    threshold: float
    baseline: str | None
    note: str  # why this threshold, as the PM wrote it
    measured: float | None
    measured_text: str
    baseline_value: float | None
    passed: bool | None  # None: could not be evaluated (or, when pending, not yet)
    evidence: str
    online: bool = False  # measured by the pilot, not by the backtest
    pending: bool = False  # an online criterion before the pilot's readout: not yet evaluated, neither passed nor failed


@dataclass(frozen=True)
class ReadinessScore:
    key: str
    area: str
    text: str
    score: float
    evidence: str
    auto: bool


@dataclass(frozen=True)
class Decision:
    """One GO / NO-GO decision, exactly as it was taken. Tables are lists of records."""

    decision_id: str
    created_at: str  # ISO time
    verdict: str
    reasons: list[str]
    next_steps: list[str]
    project_id: str
    project_name: str
    definition_version: int
    problem: str
    decision_supported: str
    kpi: str
    value_yen_per_year: float | None
    running_cost_yen_per_year: float | None
    investment_yen: float | None
    run_id: str
    run_name: str
    dataset_name: str
    run_created_at: str
    n_series: int
    horizon: int
    folds: int
    code_version: str
    model: str
    baseline: str
    baseline_label: str
    ordering: str  # how the simulated stores order: service level
    criteria: list[CriterionResult]
    significance: list[dict]
    stability: dict
    value: dict
    money: list[dict]
    money_notes: list[str]
    money_sources: dict[str, str]
    sensitivity: list[dict]
    by_segment: list[dict]
    leaderboard: list[dict]
    readiness: list[ReadinessScore]
    readiness_areas: dict[str, float]
    readiness_overall: float
    risks: list[str]
    notes: str
    format: int = SNAPSHOT_FORMAT
    # Every series accounted for: series the run scored (None: a run stored before it was
    # counted) and, in words, what its folds left out and which models fell back.
    series_scored: int | None = None
    accounting: list[str] = field(default_factory=list)
    # The problem definition's own numbers against the measured ones (none in a snapshot
    # written before they were reconciled): one record per stated number — see
    # ``reconcile`` — the measurement the KPI was read as, and the conditions a broken
    # constraint puts on the verdict, written out.
    stated_vs_measured: list[dict] = field(default_factory=list)
    kpi_measure: str | None = None
    conditions: list[str] = field(default_factory=list)
    # The data's frequency ("D", "W", "M": what a period is) and the model of money the
    # impact used (core.money.impact SHELF or ERRORS); a snapshot written before they were kept
    # is daily and simulated.
    freq: str = "D"
    money_model: str = "shelf"
    # The online evidence as facts (``OnlineEvidence.to_dict``): no pilot, a pilot designed
    # or read out. None in a snapshot written before it was kept (format 1): no evidence.
    online: dict | None = None
    # How the simulated stores sized their orders (core.money.impact NORMAL: forecast + z x RMSE, or QUANTILE: the
    # model's own quantile), which the hand-off follows; a snapshot written before it was kept ordered "normal".
    ordering_rule: str = NORMAL

    @property
    def ordering_words(self) -> str:
        """How the simulated stores ordered, with the rule named: ``the model's 95% quantile``
        (the ordering already names it), ``a 95% service level (normal safety stock)``;
        the ordering as it is under the cost of forecast errors (nothing is ordered)."""
        if self.money_model == ERRORS or self.ordering_rule == QUANTILE:
            return self.ordering
        return f"{self.ordering} (normal safety stock)"

    @property
    def passed(self) -> int:
        return sum(1 for c in self.criteria if c.passed)

    @property
    def pending(self) -> int:
        """Online criteria that wait for the pilot."""
        return sum(1 for c in self.criteria if c.pending)

    @property
    def online_evidence(self) -> OnlineEvidence:
        return pilot.evidence_of(self.online)

    def to_json(self) -> str:
        return json.dumps(_plain(asdict(self)), ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Decision:
        data = json.loads(text)
        if data.get("format", 0) > SNAPSHOT_FORMAT:
            raise DecisionError("This decision was written by a newer Mitoshi; update the app to read it.")
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        data["criteria"] = [CriterionResult(**c) for c in data["criteria"]]
        data["readiness"] = [ReadinessScore(**r) for r in data["readiness"]]
        return cls(**data)


def _plain(value: object) -> object:
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [_plain(r) for r in frame.to_dict(orient="records")]


# ---------------------------------------------------------------------------------
# Inputs and evaluation
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunEvidence:
    """What a stored run says, as the decision needs it."""

    run_id: str
    run_name: str
    dataset_name: str
    created_at: datetime
    code_version: str
    horizon: int
    cutoffs: list[pd.Timestamp]  # every fold's, scored or not (the run's own, not its forecasts')
    n_series: int
    leaderboard: pd.DataFrame  # one row per model: metrics, seconds, rung
    metrics: pd.DataFrame  # long: level, group, model, metric, value
    forecasts: pd.DataFrame  # long: unique_id, ds, cutoff, step, actual, model, forecast
    has_stockouts: bool
    generated_data: bool
    exog_known: tuple[str, ...] = ()
    n_scored: int | None = None  # None: stored before the run counted its series
    excluded: pd.DataFrame = field(default_factory=accounting.empty_excluded)  # cutoff, unique_id, reason
    fallbacks: pd.DataFrame = field(default_factory=accounting.empty_fallbacks)  # model, cutoff, unique_id, rule, reason

    @property
    def folds(self) -> int:
        return len(self.cutoffs)

    def accounting(self) -> list[str]:
        """What the folds left out and which models fell back, in words (none for a run
        stored before it was counted)."""
        if self.n_scored is None:
            return []
        return accounting.sentences(self.excluded, self.fallbacks, self.n_series, self.cutoffs)


@dataclass(frozen=True)
class DecisionInputs:
    project_id: str
    project_name: str
    definition_version: int
    definition: ProblemDefinition
    run: RunEvidence
    impact: ImpactResult
    model: str | None = None  # None: the model that saves the most
    readiness: Mapping[str, float] = field(default_factory=dict)  # the team's scores of the hand-scored checks
    published_versions: int = 0  # batch forecast versions published for the run's dataset
    notes: str = ""
    risks: Sequence[str] = ()  # the team's own, one a line
    online: OnlineEvidence = field(default_factory=OnlineEvidence)  # the project's pilot: none, designed or read


def _contenders(impact: ImpactResult) -> list[str]:
    """The policies that can be taken to production and measured in money: not today's
    practice, and not the baseline the savings are measured against (seasonal naive,
    when the data records no orders), which saves nothing by definition — unless it is
    the run's only model."""
    models = [p for p in impact.summary["policy"] if p != PRACTICE]
    others = [p for p in models if p != impact.baseline]
    return others or models


def best_model(impact: ImpactResult, leaderboard: pd.DataFrame) -> str:
    """The model that saves the most money, among those measured against a baseline
    other than themselves (``_contenders``); WAPE breaks ties."""
    wape = leaderboard.set_index(MODEL)["wape"] if MODEL in leaderboard else pd.Series(dtype=float)
    rows = impact.summary[impact.summary["policy"].isin(_contenders(impact))]
    if rows.empty:
        raise DecisionError("The run has no model besides today's practice: run a backtest with models to compare.")
    ranked = sorted(rows.itertuples(), key=lambda r: (-r.yearly_savings, wape.get(r.policy, math.inf)))
    return ranked[0].policy


# The rules the ladder picks by, in the order it tries them.
FITS, BREAKS, RICHEST = "fits", "breaks a constraint", "saves the most"


@dataclass(frozen=True)
class LadderPick:
    """The model the verdict takes when none is chosen, and why, in words."""

    model: str  # alias
    rule: str  # the rule that picked it, a short plain rule for a label: "the cheapest rung that meets every …"
    note: str | None  # a sentence for the verdict when the ladder stopped below the model that saves the most
    kind: str = FITS  # FITS, BREAKS or RICHEST: which of the ladder's rules picked it

    def label(self) -> str:
        """``Theta (recommended): the cheapest rung that meets every criterion, pays and keeps the constraints``."""
        return f"{fmt.model_name(self.model)} (recommended): {self.rule}"


MODEL_FREE = ("budget",)  # constraints that do not depend on the model (the investment against the budget)


def ladder_pick(impact: ImpactResult, leaderboard: pd.DataFrame, definition: ProblemDefinition) -> LadderPick:
    """The talk's ladder as the default choice, cheapest rung first (the model that saves
    the most first within a rung):

    1. the first model that meets every criterion that can be measured (the project's
       criteria and its KPI target), pays (``_value``: savings above the running cost,
       or above zero without one) and keeps the constraints that depend on the model
       (no more stockouts than the baseline, ``reconcile``);
    2. failing that, the first that meets every criterion and pays but breaks such a
       constraint (the verdict is then CONDITIONAL GO at best, with the condition);
    3. failing that, the model that saves the most.

    The report page preselects this model and the verdict takes it when none is chosen;
    ``LadderPick.rule`` says which rule applied, in words."""
    richest = best_model(impact, leaderboard)
    rungs = leaderboard.set_index(MODEL)["rung"] if "rung" in leaderboard else pd.Series(dtype=str)
    board = leaderboard.set_index(MODEL)
    savings = impact.summary.set_index("policy")["yearly_savings"]
    candidates = [m for m in _contenders(impact) if m in board.index]
    rank = {r: i for i, r in enumerate(RUNG_ORDER)}
    candidates.sort(key=lambda m: (rank.get(rungs.get(m, ""), len(RUNG_ORDER)), -savings[m]))
    breaking: str | None = None
    for model in candidates:
        results = _all_criteria(model, board, impact, definition)
        if not any(r.passed for r in results) or any(r.passed is False for r in results):
            continue
        if not _value(model, impact, definition)["pays"]:
            continue
        broken = [b for b in reconcile(definition, model, board, impact, results).broken if b not in MODEL_FREE]
        if broken:
            breaking = breaking or model
            continue
        rule = "the cheapest rung that meets every criterion, pays and keeps the constraints"
        if model == richest:
            return LadderPick(model, f"{rule}; it also saves the most", None)
        name, rich = fmt.model_name(model), fmt.model_name(richest)
        return LadderPick(model, rule, (
            f"Chosen by the ladder: {name} ({rungs.get(model, '?')}) is the cheapest rung that meets every "
            f"criterion, pays and keeps the constraints. {rich} ({rungs.get(richest, '?')}) would save "
            f"{fmt.yen(savings[richest] - savings[model])} a year more, for the running cost of a "
            f"{rungs.get(richest, 'costlier')} model; choose it on purpose if that pays."))
    if breaking is not None:
        name = fmt.model_name(breaking)
        return LadderPick(breaking, "the cheapest rung that meets every criterion and pays; it breaks a constraint "
                                    "(see the conditions)", (
            f"Chosen by the ladder: {name} ({rungs.get(breaking, '?')}) is the cheapest rung that meets every "
            "criterion and pays; no model that does also keeps the constraints, so the constraint it breaks is a "
            "condition below."), BREAKS)
    return LadderPick(richest, "saves the most (no model meets every criterion and pays)", None, RICHEST)


def _all_criteria(model: str, board: pd.DataFrame, impact: ImpactResult, definition: ProblemDefinition
                  ) -> list[CriterionResult]:
    """The project's offline criteria, then its KPI target (when it states one), for
    ``model``. The online criteria are the pilot's (``_online_criteria``): one model was
    piloted, so they cannot rank the run's models."""
    measured = _measured(model, board, impact, definition)
    results = [_criterion_result(c, model, measured, board, impact, definition) for c in definition.criteria
               if not is_online(c.metric)]
    kpi = kpi_criterion(definition, model, board, impact)
    return results + ([kpi] if kpi is not None else [])


def evaluate_decision(inputs: DecisionInputs, now: datetime | None = None) -> Decision:
    definition, run, impact = inputs.definition, inputs.run, inputs.impact
    if not definition.criteria:
        raise DecisionError("The project has no GO/NO-GO criteria. Fix them on the Problem definition page first — "
                            "before looking at results, so that the results cannot move the goalposts.")
    pick = ladder_pick(impact, run.leaderboard, definition) if inputs.model is None else None
    model = pick.model if pick is not None else inputs.model
    ladder_note = pick.note if pick is not None else None
    if model == PRACTICE:
        raise DecisionError("Today's practice is the baseline, not a model to take to production: choose a model.")
    board = run.leaderboard.set_index(MODEL)
    if model not in board.index or model not in set(impact.summary["policy"]):
        raise DecisionError(f"The run has no model '{model}'; choose one of its models.")

    offline = _all_criteria(model, board, impact, definition)
    online = inputs.online
    criteria = offline + _online_criteria(definition, online)
    significance = _significance(model, run)
    stability = _stability(model, run, impact)
    value = _value(model, impact, definition)
    stated = reconcile(definition, model, board, impact, offline)
    readiness = _readiness(inputs, run, significance, stability, model)
    areas = {a: sum(r.score for r in readiness if r.area == a) for a in AREAS}
    overall = min(areas.values())
    judged = _judged_by_pilot(definition, online, model, run, impact, stated, criteria)
    replaced = {j.replaces: j for j in judged if j.replaces is not None}
    constraints = [c for c in stated.conditions if c not in replaced]  # the pilot's judgement says them instead
    verdict, reasons, steps = _verdict(criteria, significance, stability, value, overall, definition, model,
                                       readiness, constraints, impact, online, judged)
    if ladder_note:
        reasons.insert(0, ladder_note)
    promise = pilot.promise_sentence(online, pilot.promised(online, value["yearly_savings"], model))
    if promise:
        reasons.append(promise)

    summary = impact.summary.copy()
    money = summary[["policy", "label", "ordering", "yearly_profit", "yearly_savings", "yearly_savings_run",
                     "yearly_waste_cost", "yearly_lost_margin", "yearly_holding_cost", "stockout_rate", "fill_rate",
                     "waste_rate"]]
    leaderboard = run.leaderboard.copy()
    if PRACTICE in board.index:
        leaderboard["vs_practice"] = 1 - leaderboard["wape"] / board.loc[PRACTICE, "wape"]
    if "snaive" in board.index:
        leaderboard["vs_snaive"] = 1 - leaderboard["wape"] / board.loc["snaive", "wape"]
    keep = [c for c in (MODEL, "rung", "wape", "mase", "bias", "rmse", "seconds", "vs_practice", "vs_snaive",
                        "effort_weeks")
            if c in leaderboard]
    sensitivity = impact.sensitivity[impact.sensitivity["policy"].isin([model, impact.baseline])]
    segments = impact.by_segment[impact.by_segment["policy"] == model]
    return Decision(
        decision_id=uuid.uuid4().hex[:12], created_at=(now or datetime.now()).isoformat(timespec="seconds"),
        verdict=verdict, reasons=reasons, next_steps=steps,
        project_id=inputs.project_id, project_name=inputs.project_name, definition_version=inputs.definition_version,
        problem=definition.problem, decision_supported=definition.decision,
        kpi=_kpi(definition), value_yen_per_year=definition.value_yen_per_year,
        running_cost_yen_per_year=definition.running_cost_yen_per_year, investment_yen=definition.investment_yen,
        run_id=run.run_id, run_name=run.run_name, dataset_name=run.dataset_name,
        run_created_at=run.created_at.isoformat(timespec="seconds"), n_series=run.n_series, horizon=run.horizon,
        folds=run.folds, code_version=run.code_version, model=model, baseline=impact.baseline,
        baseline_label=impact.baseline_label, ordering=impact.config.level_label, criteria=criteria,
        significance=significance, stability=stability, value=value, money=_records(money),
        money_notes=impact.notes, money_sources=dict(impact.sources), sensitivity=_records(sensitivity),
        by_segment=_records(segments), leaderboard=_records(leaderboard[keep]), readiness=readiness,
        readiness_areas=areas, readiness_overall=overall,
        risks=(stated.risks + _risks(inputs, model, impact, stability, stated.broken, pick)
               + _online_risks(definition, online, model) + [j.risk for j in judged if j.risk]
               + [r.strip() for r in inputs.risks if r.strip()]),
        stated_vs_measured=stated.rows, kpi_measure=stated.kpi_measure,
        conditions=[replaced[c].text if c in replaced else c for c in stated.conditions],
        notes=inputs.notes.strip(), series_scored=run.n_scored, accounting=run.accounting(),
        freq=str(getattr(impact.freq, "value", impact.freq)), money_model=impact.money_model,
        ordering_rule=impact.config.ordering_rule,
        online=_plain(online.to_dict()),
    )


def _online_criteria(definition: ProblemDefinition, evidence: OnlineEvidence) -> list[CriterionResult]:
    """The criteria on online metrics, from the pilot's readout: evaluated on its estimates
    once it is read out (not evaluated when the readout lacks the measure), pending —
    not yet evaluated — before."""
    results = []
    for criterion in definition.online_criteria():
        common = dict(criterion=criterion.describe(), metric=criterion.metric, comparator=criterion.comparator,
                      threshold=criterion.threshold, baseline=criterion.baseline, note=criterion.description,
                      online=True)
        base_value = definition.money_baselines().get(criterion.baseline) if criterion.baseline else None
        if not pilot.finished(evidence):  # before the pilot, or read out before its last day
            results.append(CriterionResult(**common, measured=None, measured_text="not yet (pilot)",
                                           baseline_value=base_value, passed=None, pending=True,
                                           evidence=f"Not yet evaluated: {pilot.waiting(evidence)}"))
            continue
        value, estimate = pilot.value_for(criterion.metric, evidence)
        if estimate is None:
            measure = pilot.MEASURE_LABELS[pilot.SOURCES[criterion.metric][0]].lower()
            results.append(CriterionResult(**common, measured=None, measured_text=fmt.MISSING,
                                           baseline_value=base_value, passed=None,
                                           evidence=f"The pilot's readout has no estimate of {measure}: read it out "
                                                    "with that measure to evaluate this criterion."))
            continue
        try:
            passed, evidence_text = evaluate_criterion(criterion, value, base_value)
        except CriterionError as error:
            results.append(CriterionResult(**common, measured=value, measured_text=_shown(criterion.metric, value),
                                           baseline_value=base_value, passed=None,
                                           evidence=f"{error} {_how_to_measure(criterion)}".strip()))
            continue
        results.append(CriterionResult(**common, measured=value, measured_text=_shown(criterion.metric, value),
                                       baseline_value=base_value, passed=passed,
                                       evidence=f"{evidence_text} {pilot.criterion_source(evidence, estimate)}"))
    return results


def _online_risks(definition: ProblemDefinition, evidence: OnlineEvidence, model: str) -> list[str]:
    """What the online evidence leaves open: no pilot at all (the talk's failure story of
    a model that scored well offline and was never checked online), a pilot that no
    criterion judges, or a pilot of another model than the one decided on."""
    named = bool(definition.online_criteria())
    risks = []
    if evidence.status == NONE and not named:
        risks.append("No online evaluation: the offline promise has not been tested in stores. A model that scores "
                     "well in a backtest can still fail in production; design a pilot in a few stores and add an "
                     "online GO/NO-GO criterion (e.g. the 95% lower bound of online savings > ¥0).")
    elif evidence.status == DESIGNED and not named:
        risks.append(f"The pilot is designed ({pilot.pilot_sentence(evidence)}) but no GO/NO-GO criterion names an "
                     "online measure: after the pilot, this verdict would still rest on the offline promise alone.")
    elif evidence.status == READ and not named:
        risks.append("No GO/NO-GO criterion names an online measure: the pilot's readout is shown but does not decide "
                     "the verdict.")
    piloted = pilot.piloted_model(evidence)
    if evidence.status != NONE and piloted and piloted != model:
        risks.append(f"The pilot's treated stores order from {fmt.model_name(piloted)}'s forecasts; "
                     f"this decision takes {fmt.model_name(model)}: the online evidence is about the other model.")
    return risks


SERVICE, MONEY = "service", "money"  # the kinds of condition a finished pilot judges


@dataclass(frozen=True)
class PilotCondition:
    """A condition of the verdict as a finished pilot judged it: the service constraint
    the offline evidence left to the pilot, or the pilot's savings against the running
    cost and the payback criterion."""

    kind: str  # SERVICE or MONEY
    status: str  # pilot.MET, pilot.FAILED or pilot.OPEN
    text: str  # the condition with the pilot's figures
    replaces: str | None = None  # the offline condition it takes the place of (SERVICE)
    risk: str | None = None  # the same as a risk (MONEY)


def _judged_by_pilot(definition: ProblemDefinition, online: OnlineEvidence, model: str, run: RunEvidence,
                     impact: ImpactResult, stated: Reconciliation, criteria: Sequence[CriterionResult]
                     ) -> list[PilotCondition]:
    """What a finished pilot of ``model`` says of the conditions the offline evidence left
    to it (none before the pilot, for an interim readout, or for a pilot of another
    model: its stores ordered from other forecasts, which says so as a risk)."""
    if not pilot.finished(online) or pilot.piloted_model(online) not in (None, model):
        return []
    judged = []
    if stated.service is not None:
        judged.append(_service_by_pilot(stated.service, online, run, impact, criteria))
    return judged + _money_by_pilot(definition, online)


def tolerated_item_days(service: ServiceBreak, run: RunEvidence, impact: ImpactResult) -> float | None:
    """The rise in stockouts the service constraint tolerates (``SERVICE_SLACK``, a share
    of series-days) as stockout item-days a year for the chain — the unit of the pilot's
    estimate: share × 365 × the chain's series (the run's series × ``chain_scale``). None
    for data that is not daily (a share of series-weeks is no count of item-days)."""
    if Freq(getattr(impact.freq, "value", impact.freq)) != Freq.DAILY:
        return None
    return service.tolerated * DAYS_PER_YEAR * run.n_series * impact.chain_scale


SETTLE = ("Settle it before rolling out: pilot longer or in more stores, or raise the safety stock (a higher service "
          "level) for the items that run out more, publish again and pilot again.")


def _service_by_pilot(service: ServiceBreak, online: OnlineEvidence, run: RunEvidence, impact: ImpactResult,
                      criteria: Sequence[CriterionResult]) -> PilotCondition:
    """The service constraint broken offline, judged by the pilot's stockout item-days:
    by the problem definition's own online stockout criterion when it has one (the
    increase it tolerates), else by ``core.decision.online.stockout_judgement`` with the
    constraint's tolerance (``tolerated_item_days``; none when it cannot be converted)."""
    offline = service.text()
    estimate = online.estimate(STOCKOUT_DAYS)
    if estimate is None:
        return PilotCondition(SERVICE, pilot.OPEN, f"{offline} The pilot's readout has no estimate of stockout "
                              "item-days: read it out with that measure to judge this condition.", offline)
    change = pilot.change_text(estimate)
    kept = f"It was acceptable only if the pilot kept stockouts at or below {service.floor}"
    own = next((c for c in criteria if c.metric == "online_stockout_change" and c.passed is not None), None)
    if own is not None:
        if own.passed:
            return PilotCondition(SERVICE, pilot.MET, f"{service.head} {kept}, and the pilot kept them within the "
                                  f"problem definition's criterion ({own.criterion}): {change}.", offline)
        return PilotCondition(SERVICE, pilot.FAILED, f"{service.head} The pilot confirmed it: {change}, beyond the "
                              f"problem definition's criterion ({own.criterion}). {kept}.", offline)
    tolerated = tolerated_item_days(service, run, impact)
    bound = (f"the {fmt.number(tolerated, 0)} item-days a year the constraint tolerates ({fmt.pp(service.tolerated)} "
             "of the chain's item-days)") if tolerated else None
    status = pilot.stockout_judgement(estimate, tolerated or 0.0)
    if status == pilot.FAILED:
        beyond = f", more than {bound}" if bound else ""
        return PilotCondition(SERVICE, status, f"{service.head} The pilot confirmed it: {change}{beyond}. {kept}.",
                              offline)
    if status == pilot.MET:
        how = "did" if pilot.reading(estimate) == pilot.BETTER else "did, within the tolerance"
        within = f", no more than {bound}" if bound and pilot.reading(estimate) != pilot.BETTER else ""
        return PilotCondition(SERVICE, status, f"{service.head} {kept}, and the pilot {how}: {change}{within}.",
                              offline)
    beyond = f"more than {bound}" if bound else "a rise"
    return PilotCondition(SERVICE, status, f"{service.head} It is acceptable only if the pilot keeps stockouts at or "
                          f"below {service.floor}, and the pilot could not tell: {change}, which does not rule out "
                          f"{beyond}. {SETTLE}", offline)


def _money_by_pilot(definition: ProblemDefinition, online: OnlineEvidence) -> list[PilotCondition]:
    """The pilot's yearly savings (its profit effect for the chain) against the running
    cost, and the payback they imply against the problem definition's payback criterion
    — beside the offline criterion, which stays as measured on the backtest. Each is a
    risk and a condition of the verdict, not a failure."""
    profit, running = online.estimate(PROFIT), definition.running_cost_yen_per_year
    if profit is None or running is None:
        return []
    savings, short = profit.yearly, fmt.yen_short
    net = savings - running
    if net <= 0:
        text = (f"The pilot's {short(savings)} a year does not cover the yearly running cost of {short(running)} "
                f"({short(net, signed=True)} after running costs): at the pilot's rate the model does not pay."
                if savings > 0 else
                f"The pilot measured no savings ({short(savings, signed=True)} a year): nothing covers the yearly "
                f"running cost of {short(running)}.")
        return [_money_condition(text)]
    investment = definition.investment_yen
    payback = next((c for c in definition.criteria if c.metric == "payback_months"), None)
    if investment is None or payback is None:
        return []
    months = investment / (net / 12)
    if evaluate_criterion(payback, months)[0]:
        return []
    return [_money_condition(
        f"The pilot's {short(savings)} a year, {short(net)} after running costs, would pay back the "
        f"{short(investment)} investment in {fmt.months(round(months, 1))}, beyond the "
        f"{fmt.months(payback.threshold)} asked.")]


def _money_condition(sentence: str) -> PilotCondition:
    return PilotCondition(MONEY, pilot.OPEN, f"{sentence} The offline criteria stand on the backtest's figures; "
                          "confirm the business case at the pilot's rate before rolling out.", risk=sentence)


# ---------------------------------------------------------------------------------
# The problem's own numbers against the measured ones
# ---------------------------------------------------------------------------------
AGREES = 0.25  # a stated and a measured level within 25 % of each other are read as the same level
CLAIM_SHORT = 0.5  # measured savings below half the value claimed are a risk
CLAIM_HIGH = 2.0  # and above twice the claim, something to check
SERVICE_SLACK = 0.01  # stockout days may rise by 1 percentage point before the service constraint breaks
KPI_TARGET = "kpi_target"  # the metric of the criterion made from the KPI target

# Status words of a row of the stated-vs-measured table.
AGREE, DIFFER, MET, NOT_MET, UNMEASURED = "agrees", "differs", "met", "not met", "cannot be measured"
SHORT, IN_LINE, ABOVE = "below the claim", "in line", "above the claim"
KEPT, BROKEN = "kept", "broken"


@dataclass(frozen=True)
class KpiMeasure:
    """How a KPI stated in the problem definition is measured on a run."""

    key: str  # loss_rate, loss_yen, stockout_rate, lost_yen, fill_rate, waste_rate, waste_share, waste_yen, wape
    label: str  # the measurement in words
    better: str  # "lower" or "higher"
    yen: bool  # yen a year; otherwise a share (0.06 = 6 %)
    scale: float  # a stated number × scale = the measured unit (0.01 when the KPI is stated in percent)

    def stated(self, value: float | None) -> float | None:
        return None if value is None else value * self.scale

    def text(self, value: float | None) -> str:
        """Yen, or a share with two significant figures below 1 % (``0.012%``)."""
        return fmt.yen(value) if self.yen else fmt.pct_fine(value)

    def label_for(self, freq: Freq | str) -> str:
        """The label in the data's periods: ``share of series-months with a stockout``."""
        return self.label.replace("series-days", periods.series_periods(Freq(freq)))


MEASURES: dict[str, tuple[str, str, bool]] = {
    "loss_rate": ("loss rate: waste cost + margin lost to stockouts, over sales", "lower", False),
    "loss_yen": ("yearly waste cost + margin lost to stockouts", "lower", True),
    "stockout_rate": ("share of series-days with a stockout", "lower", False),
    "lost_yen": ("yearly margin lost to stockouts", "lower", True),
    "fill_rate": ("fill rate: units sold over (estimated) demand", "higher", False),
    "waste_rate": ("waste rate: units thrown away over units ordered", "lower", False),
    "waste_share": ("waste cost over sales", "lower", False),
    "waste_yen": ("yearly waste cost", "lower", True),
    "wape": ("WAPE: total absolute error over total sales", "lower", False),
}
_KPI_WORDS: dict[str, tuple[str, ...]] = {
    "wape": ("wape", "forecast error", "予測誤差"),
    "fill": ("fill rate", "fill-rate", "service level", "充足"),
    "loss": ("loss", "ロス"),
    "stockout": ("stockout", "stock-out", "out of stock", "out-of-stock", "欠品", "品切"),
    "waste": ("waste", "spoil", "廃棄"),
}
_YEN_WORDS = ("¥", "yen", "jpy", "円")
_PERCENT_WORDS = ("%", "percent", "パーセント", "％")
_SHARE_WORDS = (*_PERCENT_WORDS, "share", "rate", "ratio", "fraction", "of sales", "割合", "率")


def kpi_measure(definition: ProblemDefinition) -> tuple[KpiMeasure | None, str]:
    """The measurement a KPI is read as, from its name and unit (English or Japanese):
    a loss rate (waste + lost margin over sales, or in yen), stockouts, waste, fill rate
    or WAPE. Returns the measure and, when there is none, why in words (else "")."""
    name, unit = definition.kpi_name.strip(), definition.kpi_unit.strip()
    if not name:
        return None, "the problem definition names no KPI"
    text, unit_l = f"{name} {unit}".lower(), unit.lower()
    has = {k for k, words in _KPI_WORDS.items() if any(w in text for w in words)}
    yen = any(w in unit_l for w in _YEN_WORDS)
    if unit_l and not yen and not any(w in unit_l for w in _SHARE_WORDS):
        return None, f"its unit '{unit}' is none the run measures (a percentage, a share or yen a year)"
    if "wape" in has:
        key = None if yen else "wape"
    elif "fill" in has:
        key = None if yen else "fill_rate"
    elif "loss" in has or {"stockout", "waste"} <= has:
        key = "loss_yen" if yen else "loss_rate"
    elif "stockout" in has:
        key = "lost_yen" if yen else "stockout_rate"
    elif "waste" in has:
        key = "waste_yen" if yen else "waste_share" if ("sales" in unit_l or "売上" in unit_l) else "waste_rate"
    else:
        return None, ("its name names nothing the run measures (a loss rate, stockouts, waste, fill rate or WAPE); "
                      "measure it in the online evaluation")
    if key is None:
        return None, f"'{name}' is a share, not yen"
    label, better, in_yen = MEASURES[key]
    stated = [v for v in (definition.kpi_current, definition.kpi_target) if v is not None]
    percent = any(w in unit_l for w in _PERCENT_WORDS) or any(abs(v) > 1 for v in stated)
    return KpiMeasure(key, label, better, in_yen, 1.0 if in_yen or not percent else 0.01), ""


def _kpi_value(measure: KpiMeasure, policy: str, board: pd.DataFrame, impact: ImpactResult) -> float | None:
    """The measure for one policy of the run (None when the run has no such number)."""
    if measure.key == "wape":
        return _num(board.loc[policy, "wape"]) if policy in board.index and "wape" in board else None
    if policy not in set(impact.summary["policy"]):
        return None
    row = impact.row(policy)

    def get(column: str) -> float | None:
        return _num(row[column]) if column in row.index else None

    revenue, waste, lost = get("yearly_revenue"), get("yearly_waste_cost"), get("yearly_lost_margin")
    share = (lambda part: part / revenue if part is not None and revenue else None)
    loss = waste + lost if waste is not None and lost is not None else None
    return {"loss_rate": lambda: share(loss), "loss_yen": lambda: loss, "lost_yen": lambda: lost,
            "stockout_rate": lambda: get("stockout_rate"), "fill_rate": lambda: get("fill_rate"),
            "waste_rate": lambda: get("waste_rate"), "waste_share": lambda: share(waste),
            "waste_yen": lambda: waste}[measure.key]()


def _today(measure: KpiMeasure, impact: ImpactResult) -> tuple[str, str]:
    """The policy that is 'today' for a measure, and its label."""
    if measure.key == "wape":
        return PRACTICE, "today's practice"
    return impact.baseline, impact.baseline_label


def _stated_text(definition: ProblemDefinition, value: float | None) -> str:
    if value is None:
        return fmt.MISSING
    unit = definition.kpi_unit.strip()
    number = fmt.trimmed(value, 2)
    if not unit:
        return number
    return f"{number}{unit}" if unit[0] in "%％" else f"{number} {unit}"


def _agree(stated: float, measured: float) -> bool:
    if stated == 0:
        return abs(measured) < 1e-9
    return abs(measured / stated - 1) <= AGREES


def _equivalent(measure: KpiMeasure, today: float, current: float, target: float) -> float | None:
    """The stated target as the change it asks for, on the measured scale: the same
    relative cut of a lower-is-better measure, the same share of a fill rate's shortfall
    closed. None when the stated current value gives no ratio."""
    if measure.better == "lower":
        return today * target / current if current else None
    return 1 - (1 - today) * (1 - target) / (1 - current) if current < 1 else None


def _cut(measure: KpiMeasure, current: float, target: float) -> str:
    """The change a stated target asks for, in words: ``25% lower than today`` (a
    lower-is-better measure), ``50% of today's shortfall closed`` (a fill rate)."""
    if measure.better == "lower":
        change = 1 - target / current if current else 0.0
        return f"{_percent(abs(change))} {'lower' if change >= 0 else 'higher'} than today"
    closed = 1 - (1 - target) / (1 - current) if current < 1 else 0.0
    return f"{_percent(closed)} of today's shortfall closed"


def _percent(share: float) -> str:
    """A relative change without needless decimals: ``25%``, ``12.5%``, ``0.33%``."""
    return fmt.pct_fine(share, 1).replace(".0%", "%")


def _kpi_relative(definition: ProblemDefinition, measure: KpiMeasure, threshold: float) -> str:
    """The KPI target read as the change it asks for, as a criterion is written:
    ``25% lower than today (stated 6% → 4.5%): ≤ 12.5% as measured``."""
    current, target = measure.stated(definition.kpi_current), measure.stated(definition.kpi_target)
    sign = "≤" if measure.better == "lower" else "≥"
    unit = definition.kpi_unit.strip()
    before = (f"{fmt.trimmed(definition.kpi_current, 2)}{unit[0]}" if unit[:1] in ("%", "％") else
              _stated_text(definition, definition.kpi_current))  # "6% → 4.5% of sales", not "6% of sales → …"
    return (f"{_cut(measure, current, target)} (stated {before} → {_stated_text(definition, definition.kpi_target)}): "
            f"{sign} {measure.text(threshold)} as measured")


def kpi_criterion(definition: ProblemDefinition, model: str, board: pd.DataFrame, impact: ImpactResult
                  ) -> CriterionResult | None:
    """The KPI target of the problem definition as a criterion on ``model`` (None when no
    target is stated). When the problem states both the level today and the target, the
    target is always read as the change it asks for (6 % → 4.5 % is a 25 % cut),
    applied to the level measured today (for the baseline): the verdict then moves
    steadily with the measured level, whether the stated and measured levels agree or
    not. The target read as written is given in the criterion's note, for information
    only. A target without a level today is checked as written. A KPI the run cannot
    measure is not evaluated: it weighs in the verdict as an unevaluated criterion."""
    if not definition.kpi_name.strip() or definition.kpi_target is None:
        return None
    measure, why = kpi_measure(definition)
    name, target_text = definition.kpi_name.strip(), _stated_text(definition, definition.kpi_target)
    note = "The KPI target of the problem definition."
    if measure is None:
        return CriterionResult(f"KPI target: {name} → {target_text}", KPI_TARGET, "<=", definition.kpi_target, None,
                               note, None, fmt.MISSING, None, None,
                               f"The run cannot measure this KPI: {why}.")
    sign = "≤" if measure.better == "lower" else "≥"
    lower = measure.better == "lower"
    common = dict(criterion=f"KPI target: {name} {sign} {target_text}", metric=KPI_TARGET,
                  comparator="<=" if lower else ">=", baseline=None)
    who = fmt.model_name(model)
    label = measure.label_for(impact.freq)
    target, current = measure.stated(definition.kpi_target), measure.stated(definition.kpi_current)
    today_policy, today_label = _today(measure, impact)
    value, today = _kpi_value(measure, model, board, impact), _kpi_value(measure, today_policy, board, impact)
    if value is None:
        return CriterionResult(**common, note=note, threshold=target, measured=None, measured_text=fmt.MISSING,
                               baseline_value=today, passed=None,
                               evidence=f"Read as the {label}, which this run does not measure for {who}.")

    def meets(threshold: float) -> bool:
        return value <= threshold + 1e-12 if lower else value >= threshold - 1e-12

    threshold, how = target, f"Read as the {label}."
    if current is not None and today is not None:
        agree = _agree(current, today)
        relative = _equivalent(measure, today, current, target)
        if relative is None and not agree:
            return CriterionResult(**common, note=note, threshold=target, measured=value,
                                   measured_text=measure.text(value), baseline_value=today, passed=None,
                                   evidence=(f"Read as the {label}: measured {measure.text(today)} for "
                                             f"{today_label} against {measure.text(current)} stated, and a target "
                                             "stated from zero cannot be read as a change."))
        if relative is not None:
            threshold = relative
            common["criterion"] = f"KPI target: {name} {_kpi_relative(definition, measure, threshold)}"
            level = (f"agrees with the one measured for {today_label} ({measure.text(today)}, within "
                     f"{fmt.pct(AGREES, 0)})" if agree else
                     f"is not the one measured for {today_label} ({measure.text(today)}): they do not count the "
                     "same thing")
            how += (f" The level stated today ({measure.text(current)}) {level}, so the target is read as the change "
                    f"it asks for ({measure.text(current)} → {measure.text(target)}: "
                    f"{_cut(measure, current, target)}), which on the measured scale is {measure.text(threshold)}.")
            note += (f" Read as written ({sign} {measure.text(target)}), it would be "
                     f"{'met' if meets(target) else 'not met'} ({measure.text(value)} with {who}); for information "
                     "only: the verdict reads the target as the change it asks for.")
        else:  # stated and measured at zero: the target stands as written
            how += f" Measured today ({today_label}): {measure.text(today)}."
    elif today is not None:
        how += f" Measured today ({today_label}): {measure.text(today)}."
    passed = meets(threshold)
    verdict = "met" if passed else "not met"
    return CriterionResult(**common, note=note, threshold=threshold, measured=value,
                           measured_text=measure.text(value), baseline_value=today, passed=passed,
                           evidence=f"{how} With {who}: {measure.text(value)} against {measure.text(threshold)}: "
                                    f"{verdict}.")


def _acting(impact: ImpactResult, name: str) -> str:
    """What a model does in the impact's model of money: ``ordering from ETS`` (the shelf
    simulation) or ``forecasting with ETS`` (the cost of forecast errors)."""
    return f"forecasting with {name}" if impact.money_model == ERRORS else f"ordering from {name}"


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _keep(impact: ImpactResult, them: str, gerund: bool = False) -> str:
    """The way back for some items: ``order them as today`` where today's orders are
    recorded and simulated, else ``keep <the baseline> for them`` (``ordering``,
    ``keeping`` with ``gerund``)."""
    if impact.has_orders and impact.money_model == SHELF:
        return f"{'ordering' if gerund else 'order'} {them} as today"
    return f"{'keeping' if gerund else 'keep'} {impact.baseline_label} for {them}"


@dataclass(frozen=True)
class Reconciliation:
    """Every number the problem definition states, against what the run measured."""

    rows: list[dict]  # item, stated, measured, status, note (texts); stated_value, measured_value (numbers in the
    # measured unit: a share as a fraction, yen; None when the run cannot measure it or the number is not a KPI)
    risks: list[str]
    conditions: list[str]  # a broken constraint, and what makes the verdict acceptable despite it
    kpi_measure: str | None  # the measurement the KPI was read as (a key of MEASURES)
    broken: tuple[str, ...] = ()  # the constraints broken: "service", "budget"
    service: ServiceBreak | None = None  # the service constraint broken, in parts, for the pilot to judge


@dataclass(frozen=True)
class ServiceBreak:
    """The service constraint broken offline — more stockouts than the baseline — in
    parts, so that a finished pilot's readout can judge the condition it puts on the
    verdict (``_service_by_pilot``)."""

    head: str  # "Constraint broken: ordering from ETS runs out of stock on 18.6% of days against … (+2.9 pp)."
    floor: str  # the baseline's stockout rate the pilot must keep to: "15.7%"
    remedy: str  # what to do about it
    tolerated: float  # the rise tolerated (SERVICE_SLACK), as a share of series-periods

    def text(self) -> str:
        """The condition as the offline evidence leaves it to the pilot."""
        return f"{self.head} It is acceptable only if the pilot keeps stockouts at or below {self.floor}: {self.remedy}"


def _row(item: str, stated_value: float | None, stated: str, measured_value: float | None, measured: str,
         status: str, note: str) -> dict:
    return {"item": item, "stated": stated, "measured": measured, "status": status, "note": note,
            "stated_value": _num(stated_value), "measured_value": _num(measured_value)}


def reconcile(definition: ProblemDefinition, model: str, board: pd.DataFrame, impact: ImpactResult,
              criteria: Sequence[CriterionResult]) -> Reconciliation:
    """The problem definition's KPI (today and target), value claimed and constraints,
    each beside what the run measured with ``model``. A stated level that the
    measurement does not match, or savings below half the value claimed, are risks with
    their size; a constraint broken — more stockouts than today (unless a criterion on
    stockouts says how many are acceptable), an investment over the budget — is a
    condition on the verdict, written out."""
    rows: list[dict] = []
    risks: list[str] = []
    conditions: list[str] = []
    broken: list[str] = []
    service: ServiceBreak | None = None
    who = fmt.model_name(model)
    measure, why = kpi_measure(definition) if definition.kpi_name.strip() else (None, "")
    name = definition.kpi_name.strip()
    if name:
        current_text = _stated_text(definition, definition.kpi_current)
        if measure is None:
            rows.append(_row(f"KPI today: {name}", None, current_text, None, fmt.MISSING,
                             UNMEASURED, why[:1].upper() + why[1:] + "."))
            if definition.kpi_target is None:
                risks.append(f"The KPI '{name}' cannot be measured from the run ({why}): nothing here says whether "
                             "it will move.")
        else:
            today_policy, today_label = _today(measure, impact)
            today = _kpi_value(measure, today_policy, board, impact)
            current = measure.stated(definition.kpi_current)
            label = measure.label_for(impact.freq)
            if today is None:
                status, note = UNMEASURED, (f"Read as the {label}; the run does not include {today_label}, so "
                                            "there is nothing to measure it on." if measure.key == "wape" else
                                            f"Read as the {label}, which this run does not measure.")
            elif current is None:
                status, note = fmt.MISSING, f"Read as the {label}, for {today_label}; no level stated."
            else:
                status = AGREE if _agree(current, today) else DIFFER
                note = f"Read as the {label}, for {today_label}."
                if status == DIFFER:
                    ratio = today / current if current else math.inf
                    times = fmt.times(ratio) if math.isfinite(ratio) else "not comparable"
                    note += f" Measured is {times} the stated level."
                    risks.append(
                        f"The problem definition states {name} at {current_text} today; the run measures "
                        f"{measure.text(today)} for {today_label} ({label}; {times} the stated level). They do "
                        "not count the same thing: check how the stated figure is counted before the pilot, which "
                        "should measure the KPI as the business counts it. The KPI target was read as the change it "
                        "asks for.")
            rows.append(_row(f"KPI today: {name}", current, current_text, today, measure.text(today), status, note))
        kpi = next((c for c in criteria if c.metric == KPI_TARGET), None)
        if kpi is not None:
            status = UNMEASURED if kpi.passed is None else MET if kpi.passed else NOT_MET
            stated_target = _stated_text(definition, definition.kpi_target)
            target = measure.stated(definition.kpi_target) if measure else None
            if measure is not None and target is not None and kpi.threshold is not None \
                    and not math.isclose(kpi.threshold, target, rel_tol=1e-9, abs_tol=1e-12):
                # read as the change it asks for: say the threshold applied beside the number stated
                cut = _cut(measure, measure.stated(definition.kpi_current), target)
                sign = "≤" if measure.better == "lower" else "≥"
                stated_target += f": {cut}, so {sign} {measure.text(kpi.threshold)} as measured"
            rows.append(_row(f"KPI target: {name}", target, stated_target, kpi.measured,
                             f"{kpi.measured_text} with {who}" if kpi.measured is not None else fmt.MISSING,
                             status, kpi.evidence))

    claim = definition.value_yen_per_year
    savings = _num(impact.row(model)["yearly_savings"])
    if claim and savings is not None:
        ratio = savings / claim
        status = SHORT if ratio < CLAIM_SHORT else ABOVE if ratio > CLAIM_HIGH else IN_LINE
        saved = f"{fmt.yen(savings)} saved" if savings >= 0 else f"{fmt.yen(-savings)} lost"
        rows.append(_row("Value claimed (¥ a year)", claim, fmt.yen(claim), savings, saved, status,
                         f"Measured savings are {_of_claim(savings, claim)}, against "
                         f"{impact.baseline_label}." if savings > 0 else
                         f"Nothing of the value claimed is measured against {impact.baseline_label}."))
        if savings <= 0:
            change = f"loses {fmt.yen(-savings)} a year" if savings < 0 else "saves nothing"
            risks.append(f"None of the value claimed ({fmt.yen(claim)} a year) is measured: {_acting(impact, who)} "
                         f"{change} against {impact.baseline_label}." if model != impact.baseline else
                         f"None of the value claimed ({fmt.yen(claim)} a year) is measured: the savings are measured "
                         f"against {who} itself.")
        elif ratio < CLAIM_SHORT:
            risks.append(f"Measured savings are {_of_claim(savings, claim)}: {fmt.yen(savings)} a year "
                         f"against {fmt.yen(claim)} ({fmt.yen(claim - savings)} short). Revise the business case, or "
                         "say where the rest is to come from, before promising it.")
        elif ratio > CLAIM_HIGH:
            risks.append(f"Measured savings are {_of_claim(savings, claim)} ({fmt.yen(savings)} against "
                         f"{fmt.yen(claim)} a year): check "
                         + ("the costs of a unit forecast too high and too low" if impact.money_model == ERRORS else
                            "the prices, costs and shelf lives the simulation used")
                         + " before quoting the larger figure.")

    # Constraints. Service: the KPI must not be bought with empty shelves, unless the
    # definition already says how many stockouts are acceptable (a criterion or the KPI).
    covered = any(c.metric == "stockout_rate" for c in definition.criteria) or (
        measure is not None and measure.key in ("stockout_rate", "fill_rate"))
    summary = impact.summary.set_index("policy")
    if not covered and "stockout_rate" in summary and impact.baseline in summary.index:
        base, mine = _num(summary.loc[impact.baseline, "stockout_rate"]), _num(summary.loc[model, "stockout_rate"])
        if base is not None and mine is not None:
            bad = mine > base + SERVICE_SLACK
            days = periods.period_noun(impact.freq, plural=True)
            rows.append(_row(f"Constraint: no more stockouts than {'today' if impact.has_orders else 'the baseline'}",
                             base, f"{fmt.pct(base)} of {days} ({impact.baseline_label})", mine,
                             f"{fmt.pct(mine)} of {days} with {who}", BROKEN if bad else KEPT,
                             f"{fmt.pp(mine - base)} against {impact.baseline_label}; up to "
                             f"{fmt.pp(SERVICE_SLACK)} is tolerated."))
            if bad:
                broken.append("service")
                service = ServiceBreak(
                    head=(f"Constraint broken: {_acting(impact, who)} runs out of stock on {fmt.pct(mine)} of {days} "
                          f"against {fmt.pct(base)} for {impact.baseline_label} ({fmt.pp(mine - base)})."),
                    floor=fmt.pct(base),
                    remedy=(f"raise the safety stock (a higher service level) for the items that run out more, or "
                            f"{_keep(impact, 'them')}, and add a stockout criterion to the problem definition if some "
                            "increase is acceptable."),
                    tolerated=SERVICE_SLACK)
                conditions.append(service.text())
    budget, investment = definition.budget_yen, definition.investment_yen
    if budget and investment is not None:
        bad = investment > budget
        rows.append(_row("Constraint: investment within the budget", budget, fmt.yen(budget), investment,
                         f"{fmt.yen(investment)} (stated)", BROKEN if bad else KEPT,
                         "Both are stated in the problem definition; the run does not measure them."))
        if bad:
            broken.append("budget")
            conditions.append(f"Constraint broken: the initial investment {fmt.yen(investment)} exceeds the budget "
                              f"{fmt.yen(budget)} by {fmt.yen(investment - budget)}. Secure the difference, or cut "
                              "the investment, before starting.")
    return Reconciliation(rows, risks, conditions, measure.key if measure else None, tuple(broken), service)


def _of_claim(savings: float, claim: float) -> str:
    """``35% of the value claimed`` below ten times the claim, ``9,779× the value claimed``
    from there (``fmt.share_of``)."""
    share = fmt.share_of(savings, claim)
    return f"{share} the value claimed" if share.endswith("×") else f"{share} of the value claimed"


def _kpi(definition: ProblemDefinition) -> str:
    if not definition.kpi_name:
        return ""
    unit = f" {definition.kpi_unit}" if definition.kpi_unit else ""
    now = f"today {fmt.number(definition.kpi_current, 2).rstrip('0').rstrip('.')}{unit}" \
        if definition.kpi_current is not None else ""
    target = f"target {fmt.number(definition.kpi_target, 2).rstrip('0').rstrip('.')}{unit}" \
        if definition.kpi_target is not None else ""
    detail = ", ".join(p for p in (now, target) if p)
    return definition.kpi_name + (f" ({detail})" if detail else "")


def _measured(model: str, board: pd.DataFrame, impact: ImpactResult, definition: ProblemDefinition
              ) -> dict[str, dict[str, float | None]]:
    """Every criterion metric's value for the model and for each baseline."""
    values: dict[str, dict[str, float | None]] = {}
    money = impact.summary.set_index("policy")
    running = definition.running_cost_yen_per_year
    for metric in METRICS:
        row: dict[str, float | None] = {}
        if metric in board.columns:
            row[model] = _num(board.loc[model, metric])
            for base in MODEL_BASELINES:
                row[base] = _num(board.loc[base, metric]) if base in board.index else None
        values[metric] = row
    for who in money.index:
        values["stockout_rate"][who] = _num(money.loc[who, "stockout_rate"])
        values["waste_yen_per_year"][who] = _num(money.loc[who, "yearly_waste_cost"])
    savings = _num(money.loc[model, "yearly_savings"])
    values["yearly_savings_yen"][model] = savings
    net = savings - running if running is not None else None
    values["yearly_net_benefit_yen"][model] = net
    investment = definition.investment_yen
    if investment is not None and net is not None:
        values["payback_months"][model] = investment / (net / 12) if net > 0 else math.inf
    for metric in ("yearly_savings_yen", "yearly_net_benefit_yen"):
        values[metric].update(definition.money_baselines())
    return values


def _num(value: object) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _criterion_result(criterion: Criterion, model: str, measured: dict, board: pd.DataFrame, impact: ImpactResult,
                      definition: ProblemDefinition) -> CriterionResult:
    values = measured.get(criterion.metric, {})
    value = values.get(model)
    base_value = values.get(criterion.baseline) if criterion.baseline else None
    common = dict(criterion=criterion.describe(), metric=criterion.metric, comparator=criterion.comparator,
                  threshold=criterion.threshold, baseline=criterion.baseline, note=criterion.description)
    if criterion.metric == "payback_months" and value == math.inf:
        return CriterionResult(**common, measured=None, measured_text="never", baseline_value=None, passed=False,
                               evidence="The yearly net benefit is not positive, so the investment is never paid "
                                        "back: failed.")
    try:
        passed, evidence = evaluate_criterion(criterion, value, base_value)
    except CriterionError as error:
        return CriterionResult(**common, measured=value, measured_text=_shown(criterion.metric, value),
                               baseline_value=base_value, passed=None, evidence=f"{error} {_how_to_measure(criterion)}")
    source = _source(criterion.metric, model, impact)
    if criterion.baseline == PRACTICE and METRICS[criterion.metric].unit not in ("yen", "months") \
            and criterion.metric != "stockout_rate":
        source += (" Today's practice is scored on its recorded orders, which for goods that keep are top-ups "
                   "rather than a forecast of demand: the money impact compares them fairly.")
    return CriterionResult(**common, measured=value, measured_text=_shown(criterion.metric, value),
                           baseline_value=base_value, passed=passed, evidence=f"{evidence} {source}".strip())


def _shown(metric: str, value: float | None) -> str:
    return "–" if value is None else format_value(metric, value)


def _how_to_measure(criterion: Criterion) -> str:
    if criterion.baseline in MODEL_BASELINES:
        return f"Include {criterion.baseline} in the backtest to measure it."
    if criterion.baseline in ("yearly_running_cost", "initial_investment") or criterion.metric in (
            "yearly_net_benefit_yen", "payback_months"):
        return "Give the running cost and the investment on the Problem definition page."
    return ""


def _source(metric: str, model: str, impact: ImpactResult) -> str:
    if METRICS[metric].unit in ("yen", "months"):
        scaled = " scaled to the whole dataset" if impact.chain_scale > 1.0001 else ""
        if impact.money_model == ERRORS:
            return (f"(From the money impact: the cost of {fmt.model_name(model)}'s forecast errors, against "
                    f"{impact.baseline_label}{scaled}.)")
        return (f"(From the money impact: stores ordering from {fmt.model_name(model)}'s forecasts at "
                f"{impact.config.level_label}, against {impact.baseline_label}{scaled}.)")
    if metric == "stockout_rate":
        return "(From the money impact's shelf simulation.)"
    return "(From the backtest over every fold and series.)"


def _significance(model: str, run: RunEvidence) -> list[dict]:
    out = []
    available = set(run.forecasts[MODEL].unique())
    for base in MODEL_BASELINES:
        if base not in available or base == model:
            continue
        test = diebold_mariano(run.forecasts, model, base, run.horizon)
        p = _num(test.p_value)
        verdict = ("significantly better" if test.significant else
                   "not significantly better" if p is not None else "not testable (too few periods)")
        out.append({"model": model, "baseline": base, "baseline_label": BASELINES[base], "p_value": p,
                    "statistic": _num(test.statistic), "periods": test.periods, "significant": test.significant,
                    "statement": f"{fmt.model_name(model)} is {verdict} than {BASELINES[base]} in absolute "
                                 f"error (Diebold–Mariano, one-sided, {fmt.p_phrase(p)}, {test.periods} periods)."})
    return out


def segment_sentence(model: str, stability: dict) -> str:
    """The weakest segment against the baseline, worded by the sign of the change."""
    worst, column = stability["worst_segment"], stability["segment_column"]
    base, model = BASELINES.get(stability["baseline"], stability["baseline"]), fmt.model_name(model)
    change = worst["change"] or 0.0
    against = f"WAPE {fmt.pct(worst['wape'])} against {fmt.pct(worst['baseline_wape'])} for {base}"
    if change < 0:
        return (f"Smallest gain by {column}: {worst['group']}, {against} ({fmt.pct(-change)} lower); {model} beats "
                f"{base} in every {column}." if not stability["segments_worse"] else
                f"Smallest gain by {column}: {worst['group']}, {against} ({fmt.pct(-change)} lower).")
    return (f"Worst {column}: {worst['group']}, {against} ({fmt.pct(change)} higher); "
            f"{stability['segments_worse']} of {stability['segments']} are worse than {base}.")


def _stability(model: str, run: RunEvidence, impact: ImpactResult) -> dict:
    """The worst fold and the worst segment, against the baseline."""
    metrics = run.metrics[run.metrics["metric"] == "wape"]
    base = PRACTICE if PRACTICE in set(metrics[MODEL]) else "snaive"
    folds = metrics[metrics["level"] == "fold"].pivot(index="group", columns=MODEL, values="value")
    result: dict = {"baseline": base, "folds": [], "worst_fold": None, "worst_segment": None, "segments_worse": 0,
                    "segments": 0, "segment_column": None}
    if model in folds:
        for cutoff, row in folds.iterrows():
            result["folds"].append({"cutoff": cutoff, "wape": _num(row[model]),
                                    "baseline_wape": _num(row.get(base)) if base in folds else None})
        worst = max(result["folds"], key=lambda f: f["wape"] if f["wape"] is not None else -1)
        result["worst_fold"] = worst
    seg_levels = [lvl for lvl in metrics["level"].unique() if str(lvl).startswith("segment:")]
    # The finest segment level with a baseline: the last attribute (category) reads best.
    for level in reversed(seg_levels):
        table = metrics[metrics["level"] == level].pivot(index="group", columns=MODEL, values="value")
        if model not in table or base not in table:
            continue
        gap = ((table[model] - table[base]) / table[base]).dropna()
        if gap.empty:
            continue
        worst_group = gap.idxmax()
        result.update(segment_column=level.split(":", 1)[1], segments=int(gap.notna().sum()),
                      segments_worse=int((gap > 0).sum()),
                      worst_segment={"group": str(worst_group), "wape": _num(table.loc[worst_group, model]),
                                     "baseline_wape": _num(table.loc[worst_group, base]),
                                     "change": _num(gap.loc[worst_group])})
        break
    money = impact.by_segment[impact.by_segment["policy"] == model]
    result["money_losing"] = {
        column: [int((part["yearly_savings"] < 0).sum()), int(len(part))]
        for column, part in money.groupby("segment", sort=False) if (part["yearly_savings"] < 0).any()}
    return result


def _value(model: str, impact: ImpactResult, definition: ProblemDefinition) -> dict:
    row = impact.row(model)
    savings = float(row["yearly_savings"])
    running = definition.running_cost_yen_per_year
    investment = definition.investment_yen
    net = savings - running if running is not None else None
    payback = (investment / (net / 12) if net and net > 0 else None) if investment is not None else None
    base = impact.row(impact.baseline)

    def loss_share(r: pd.Series) -> float | None:  # None without sales in yen (the cost of errors)
        lost, revenue = _num(r["yearly_waste_cost"] + r["yearly_lost_margin"]), _num(r["yearly_revenue"])
        return lost / revenue if lost is not None and revenue else None

    return {"yearly_savings": savings, "yearly_savings_run": float(row["yearly_savings_run"]),
            "yearly_sales": float(base["yearly_revenue"]), "loss_share_baseline": loss_share(base),
            "loss_share_model": loss_share(row), "fill_rate_baseline": float(base["fill_rate"]),
            "fill_rate_model": float(row["fill_rate"]),
            "running_cost": running, "net_benefit": net, "investment": investment, "payback_months": payback,
            "value_claimed": definition.value_yen_per_year, "chain_scale": impact.chain_scale,
            # Without a running cost the savings alone must be positive.
            "pays": net > 0 if net is not None else savings > 0}


def _readiness(inputs: DecisionInputs, run: RunEvidence, significance: list[dict], stability: dict, model: str
               ) -> list[ReadinessScore]:
    days = periods.period_noun(inputs.impact.freq, plural=True)
    auto: dict[str, tuple[float, str]] = {
        "schema": (1.0, "The warehouse registry declares every column's role, type and the data's frequency."),
        "quality": (1.0, "Every import runs the quality checks; problems block it or are repaired by choice."),
        "no_leak": (1.0, "The backtest hides everything after each cutoff except columns declared known in advance "
                         "(a contract test proves it for every model)."),
        "censoring": ((1.0, f"Stockout {days} are recorded in the data.") if run.has_stockouts else
                      (0.0, f"The data does not flag stockout {days}: censored sales look like low demand.")),
        "baseline": _baseline_evidence(run),
        "time_split": ((1.0, f"Rolling origin, {run.folds} folds of {run.horizon} periods.") if run.folds >= 2 else
                       (0.5, "Rolling origin with a single fold: one period of evidence.")),
        "significant": _significance_evidence(significance),
        "slices": _slices_evidence(stability),
        "reproducible": (1.0, f"The run stores its config, data fingerprint and code version ({run.code_version})."),
        "batch": _batch_evidence(inputs.published_versions, model),
        "rollback": ((1.0, "Several forecast table versions are kept; any can be served again.")
                     if inputs.published_versions >= 2 else
                     (0.5, "One forecast table version: versions are kept, none to roll back to yet.")
                     if inputs.published_versions == 1 else (0.0, "No forecast table version yet.")),
    }
    scores = []
    for check in CHECKS:
        if check.auto:
            score, evidence = auto[check.key]
        else:
            score = float(inputs.readiness.get(check.key, 0.0))
            if score not in SCORES:
                raise DecisionError(f"A readiness score must be 0, 0.5 or 1 (got {score} for '{check.text}').")
            evidence = f"Scored by the team: {SCORE_MEANING[score]}."
        scores.append(ReadinessScore(check.key, check.area, check.text, score, evidence, check.auto))
    return scores


def _batch_evidence(published_versions: int, model: str) -> tuple[float, str]:
    """The batch check: versions published for the dataset, or why none can be for a
    model made elsewhere (the Hand-off page refuses those, core.handoff.batch)."""
    if is_external(model):
        others = (f" ({published_versions} version(s) of built-in models are published for this dataset)"
                  if published_versions else "")
        return 0.0, (f"Mitoshi cannot publish forecasts made elsewhere{others}: {fmt.model_name(model)}'s must be "
                     "published from where they were made, or choose a built-in model.")
    if published_versions:
        return 1.0, f"{published_versions} batch forecast version(s) published for this dataset."
    return 0.0, "No batch forecast published yet: publish one on the Hand-off page."


def _baseline_evidence(run: RunEvidence) -> tuple[float, str]:
    present = [b for b in MODEL_BASELINES if b in set(run.leaderboard[MODEL])]
    if len(present) == len(MODEL_BASELINES):
        return 1.0, "The run includes today's practice and seasonal naive."
    if present:
        return 0.5, f"The run includes {BASELINES[present[0]]} only."
    return 0.0, "The run has no baseline: add practice and snaive to the backtest."


def _significance_evidence(significance: list[dict]) -> tuple[float, str]:
    if not significance:
        return 0.0, "No baseline in the run to test against."
    good = [s for s in significance if s["significant"]]
    if len(good) == len(significance):
        return 1.0, " ".join(s["statement"] for s in significance)
    return (0.5 if good else 0.0), " ".join(s["statement"] for s in significance)


def _slices_evidence(stability: dict) -> tuple[float, str]:
    worst = stability.get("worst_segment")
    if not worst:
        return 0.0, "No segment-level comparison with a baseline in the run."
    column, base = stability["segment_column"], BASELINES.get(stability["baseline"], stability["baseline"])
    if stability["segments_worse"] == 0:
        return 1.0, f"Every {column} ({stability['segments']}) beats {base}."
    return 0.5, (f"{stability['segments_worse']} of {stability['segments']} {column} values are worse than "
                 f"{base}; the worst is {worst['group']} (WAPE {fmt.pct_change(worst['change'])}).")


def _verdict(criteria: list[CriterionResult], significance: list[dict], stability: dict, value: dict,
             overall: float, definition: ProblemDefinition, model: str, readiness: list[ReadinessScore],
             constraints: Sequence[str] = (), impact: ImpactResult | None = None,
             online: OnlineEvidence | None = None, by_pilot: Sequence[PilotCondition] = ()
             ) -> tuple[str, list[str], list[str]]:
    """NO-GO on a failed criterion (the KPI target and the online criteria included),
    money that does not pay, or a condition the offline evidence left to the pilot that
    the finished pilot failed (``by_pilot``: more stockouts than the service constraint
    tolerates); CONDITIONAL GO when something is open — a criterion not evaluated, an
    online criterion waiting for the pilot, a gain not significant or not stable, low
    readiness, a constraint broken, a condition the pilot left open (its savings below the
    running cost or paying back beyond the payback criterion: a condition, not a NO-GO) —
    each written out; GO otherwise. A condition the pilot met is a reason."""
    online = online or OnlineEvidence()
    name = fmt.model_name(model)
    pending = [c for c in criteria if c.pending]
    judged = [c for c in criteria if not c.pending]
    failed = [c for c in judged if c.passed is False]
    unknown = [c for c in judged if c.passed is None]
    pilot_failed = [j for j in by_pilot if j.status == pilot.FAILED]
    pilot_open = [j for j in by_pilot if j.status == pilot.OPEN]
    pilot_met = [j for j in by_pilot if j.status == pilot.MET]
    reasons: list[str] = []
    if judged and len(unknown) == len(judged):
        return NO_GO, ["No criterion could be measured, so nothing supports a GO: "
                       + " ".join(f"{c.criterion} — {c.evidence}" for c in unknown)], [
            "Give what the criteria need (running cost, investment, baselines in the run) and evaluate again."]
    evaluated = len(judged) - len(unknown)
    passed_text = (f"All {evaluated} evaluated criteria passed" if evaluated else
                   "No criterion can be evaluated before the pilot") if criteria else ""
    money_text = (f"{name} saves {fmt.yen(value['yearly_savings'])} a year"
                  + (f", {fmt.yen(value['net_benefit'])} after running costs" if value["net_benefit"] is not None
                     else "")
                  + (f", paying back in {fmt.months(round(value['payback_months'], 1))}"
                     if value["payback_months"] is not None else "") + ".")
    if pilot_failed and not failed and value["pays"]:
        treated = len(online.treated)
        reasons = [f"Failed in the pilot: {j.text}" for j in pilot_failed]
        reasons.append(f"{passed_text}: {money_text} But the pilot failed a condition the offline evidence left to "
                       f"it, so the verdict is NO-GO for {name} at this ordering.")
        return NO_GO, reasons, [
            f"Do not take {name} to production at this ordering, and do not roll out beyond the pilot's {treated} "
            f"treated store{'s' if treated != 1 else ''}.",
            "Raise the safety stock (a higher service level) for the items that run out more, publish again, and "
            "pilot again."]
    if failed or not value["pays"]:
        reasons += [f"Failed: {c.criterion} — {c.evidence}" for c in failed]
        reasons += [f"Failed in the pilot: {j.text}" for j in pilot_failed]
        acting = _acting(impact, name) if impact is not None else f"ordering from {name}"
        against = impact.baseline_label if impact is not None else "today's practice"
        if not value["pays"] and impact is not None and model == impact.baseline:
            reasons.append(f"It does not pay: the savings are measured against {name} itself, so it saves nothing "
                           "by definition. Choose another model to compare with it.")
        elif not value["pays"] and value["yearly_savings"] < 0:
            reasons.append(f"It does not pay: {acting} loses {fmt.yen(-value['yearly_savings'])} a year against "
                           f"{against}.")
        elif not value["pays"] and value["yearly_savings"] == 0:
            reasons.append(f"It does not pay: {acting} saves nothing against {against}.")
        elif not value["pays"]:
            reasons.append(f"It does not pay: yearly savings {fmt.yen(value['yearly_savings'])} do not cover the "
                           f"yearly running cost {fmt.yen(value['running_cost'])}.")
        steps = ["Do not take this model to production as it is. Giving up is a valid result of a PoC: the criteria "
                 "were fixed up front so that this answer could be trusted.",
                 "If the gap is small, go back down the ladder: a cheaper rule or statistical model, "
                 + ("better features, or more data (promotions, holidays)"
                    if impact is not None and impact.money_model == ERRORS else
                    "a better safety-stock policy, or more data (stockouts, promotions)")
                 + " — then evaluate again against the same criteria."]
        if pilot_failed:
            steps.append("Raise the safety stock (a higher service level) for the items that run out more, publish "
                         "again, and pilot again.")
        return NO_GO, reasons, steps

    conditions: list[str] = list(constraints) + [j.text for j in pilot_open]
    conditions += [f"Not evaluated: {c.criterion} — {c.evidence}" for c in unknown]
    waiting = pilot.waiting_condition([c.criterion for c in pending], online) if pending else None
    if waiting:
        conditions.append(waiting)
    weak = [s for s in significance if not s["significant"]]
    conditions += [f"Not significant: {s['statement']}" for s in weak]
    worst = stability.get("worst_segment")
    if worst and stability["segments_worse"]:
        conditions.append(f"Not stable everywhere: {stability['segments_worse']} of {stability['segments']} "
                          f"{stability['segment_column']} values are worse than "
                          f"{BASELINES.get(stability['baseline'], stability['baseline'])} (worst: {worst['group']}, "
                          f"WAPE {fmt.pct_change(worst['change'])}).")
    if overall <= 1:
        conditions.append(f"Production readiness is low: ML Test Score {fmt.number(overall, 1)} — "
                          f"{score_band(overall)}.")
    reasons.append(f"{passed_text}: {money_text}")
    reasons += [f"Met in the pilot: {j.text}" for j in pilot_met]
    held = bool(pilot_open)  # a finished pilot left a condition open: no rollout yet
    pilot_step = pilot.pilot_step(online, definition.online_plan, held=held)
    if conditions:
        open_checks = [r for r in readiness if r.score < 1 and not r.auto]
        lowest = min(AREAS, key=lambda a: sum(r.score for r in readiness if r.area == a))
        readiness_steps = ([f"Raise the lowest readiness area ({lowest}) first: "
                            + "; ".join(r.text.rstrip(".") for r in open_checks if r.area == lowest)
                            + ". Then evaluate again: the decision is a snapshot."] if overall <= 1 else [])
        steps = [f"Close the conditions first: {c}" for c in conditions
                 if not c.startswith("Production readiness") and c != waiting]
        publish = ("Publish the forecasts as a batch table on the Hand-off page for the rollout."
                   if pilot.finished(online) else "Publish the forecasts as a batch table on the Hand-off page for the pilot.")
        steps = steps + readiness_steps + ([] if pilot.interim(online) or held else [publish]) + [pilot_step]
        return CONDITIONAL_GO, reasons + conditions, steps
    steps = ["Publish the chosen model's forecasts as a batch table (Hand-off page) for the ordering system.",
             pilot_step]
    if not pilot.finished(online):
        steps.append("Decide again after the online evaluation, on the same criteria.")
    return GO, reasons, steps


def _risks(inputs: DecisionInputs, model: str, impact: ImpactResult, stability: dict,
           broken: Sequence[str] = (), pick: LadderPick | None = None) -> list[str]:
    """What could make the evidence wrong or the production run different, in words
    (``broken``: the constraints the reconciliation found broken, said there instead;
    ``pick``: the ladder's pick when the verdict took it, None for a model chosen)."""
    risks = []
    run = inputs.run
    name = fmt.model_name(model)
    censoring = impact.censoring
    if censoring.recorded and censoring.share_of_days > 0.05 and impact.money_model == SHELF:
        risks.append(f"Sales are censored on {fmt.pct(censoring.share_of_days, 0)} of the periods simulated; lost "
                     "sales rest on an estimate of demand on those periods.")
    if not censoring.recorded and impact.money_model == SHELF:
        risks.append("Stockouts are not recorded: lost sales are undercounted for every policy.")
    if run.generated_data:
        risks.append("The data is the generated demo chain: nothing here is a real shop's sales.")
    chosen, base = impact.row(model), impact.row(impact.baseline)
    more = _num(chosen.get("stockout_rate")), _num(base.get("stockout_rate"))
    if "service" not in broken and None not in more and more[0] > more[1] + SERVICE_SLACK:
        days = periods.period_noun(impact.freq, plural=True)
        risks.append(f"{_first_upper(_acting(impact, name))} runs out more often than {impact.baseline_label} "
                     f"({fmt.pct(more[0])} of {days} against {fmt.pct(more[1])}, {fmt.pp(more[0] - more[1])}; demand "
                     f"filled {fmt.pct(chosen['fill_rate'])} against {fmt.pct(base['fill_rate'])}): it saves on waste "
                     "and accepts more empty shelves, which customers notice.")
    risks += _concentration(model, impact)
    risks += _unaccounted(model, run)
    if run.exog_known and MODELS.get(model) is not None and model_reads_exog(model):
        risks.append(f"The backtest gave {name} the known-in-advance column(s) {', '.join(run.exog_known)}; their "
                     "future values are not in the warehouse, so the published batch forecasts are made without them "
                     "and may be less accurate than measured here. Feed planned prices and promotions to production.")
    if pick is not None:
        risks.append(_selection_risk(name, pick))
    cheaper = cheaper_alternative(model, run.leaderboard, impact)
    if cheaper is not None:
        risks.append(cheaper_rung_risk(name, cheaper, impact.money_model))
    rung = run.leaderboard.set_index(MODEL).get("rung", pd.Series(dtype=str)).get(model, "")
    if rung == "GBDT":
        risks.append("A GBDT model needs retraining, feature pipelines and monitoring: more running cost and more "
                     "ways to break than a rule.")
    if is_external(model):
        risks.append(f"{name} was made elsewhere: Mitoshi cannot check that its forecasts did not look ahead (use data "
                     "after a cutoff) — only its maker can — and cannot re-fit it: production needs its maker's "
                     "pipeline, and the effort they stated.")
    if run.folds < 3:
        risks.append(f"Only {run.folds} fold(s) of evidence: results may depend on the season tested.")
    if impact.chain_scale > 1.0001:
        risks.append(f"The run covers part of the dataset; money is scaled by {fmt.number(impact.chain_scale, 2)}× "
                     "to the whole.")
    return risks


def _selection_risk(name: str, pick: LadderPick) -> str:
    """The risk of choosing on the very folds the figures are quoted from, by the rule
    that chose."""
    if pick.kind == RICHEST:
        return (f"{name} was chosen as the one that saves the most, on the same folds its savings are quoted from: "
                "expect a little less in production, and check it in the online evaluation.")
    return (f"{name} was chosen by the ladder ({pick.rule}), on the same folds its scores and savings are quoted "
            "from: a model that only just meets a criterion here may miss it in production; check it in the online "
            "evaluation.")


def _unaccounted(model: str, run: RunEvidence) -> list[str]:
    """Series the evidence says nothing about, and series the chosen model did not forecast itself."""
    out = []
    if run.n_scored is not None and run.n_scored < run.n_series:
        out.append(f"{run.n_series - run.n_scored:,} of the {run.n_series:,} series in the run were never scored "
                   "(see the series accounted for): the evidence says nothing about them.")
    mine = run.fallbacks[run.fallbacks[MODEL] == model]
    if not mine.empty:
        how = "; ".join(f"{part[SERIES_ID].nunique():,} to {accounting.RULE_WORDS.get(rule, rule)} ({reason})"
                        for (rule, reason), part in mine.groupby([accounting.RULE, accounting.REASON]))
        out.append(f"{fmt.model_name(model)} did not forecast every series itself: it fell back for {how}. Its scores and savings "
                   "on those series are the rule's; production needs the same fallback.")
    return out


RUNG_ORDER = tuple(r.value for r in Rung)  # the ladder, cheapest first


def model_reads_exog(alias: str) -> bool:
    """Whether a built-in model reads the known-in-advance columns; False for forecasts
    made elsewhere (Mitoshi does not know what they read) and an alias no model has."""
    cls = None if is_external(alias) else MODELS.get(alias)
    return cls is not None and cls().reads_exog_known()


MATERIAL = 0.001  # savings below 0.1 % of yearly sales are too small to split into shares


def _concentration(model: str, impact: ImpactResult) -> list[str]:
    """Where the savings come from, by the last attribute (category). Shares are given
    only where they mean something: every group gains and the total is material (at
    least 0.1 % of yearly sales). Groups that lose are named when they are a few — keep
    the baseline for those (order them as today, where today's orders are recorded);
    when most groups lose it is the model that falls short, and the sentence says so
    instead of advising exceptions. Worded for the model of money (ordering from a
    model, or forecasting with it)."""
    money = impact.by_segment[impact.by_segment["policy"] == model]
    if money.empty:
        return []
    column = list(dict.fromkeys(money["segment"]))[-1]
    part = money[money["segment"] == column].sort_values("yearly_savings", ascending=False)
    if len(part) < 2:
        return []
    savings = part["yearly_savings"].astype(float)
    total = float(savings.sum())
    revenue = _num(impact.row(impact.baseline).get("yearly_revenue"))
    material = total > 0 and (revenue is None or total >= MATERIAL * revenue)
    losing, gaining = part[savings < 0], part[savings > 0]
    name, against = fmt.model_name(model), impact.baseline_label
    out = []
    top = part.iloc[0]
    if losing.empty and material and top["yearly_savings"] >= 0.5 * total:
        out.append(f"The savings are concentrated: {top['group']} gives {fmt.yen(top['yearly_savings'])} of "
                   f"{fmt.yen(total)} a year ({fmt.pct(top['yearly_savings'] / total, 0)}).")
    if losing.empty:
        return out
    lost, gained = float(-losing["yearly_savings"].sum()), float(gaining["yearly_savings"].sum())
    if len(losing) * 2 > len(part):
        others = len(part) - len(losing)
        rest = ("" if not others else f"; the other {others} gain {fmt.yen(gained)}" if others > 1 else
                f"; the other one gains {fmt.yen(gained)}")
        out.append(f"{_first_upper(_acting(impact, name))} loses against {against} in {len(losing)} of {len(part)} "
                   f"{column} values ({fmt.yen(lost)} a year together{rest}): it is the model that falls short, not "
                   f"a few {column} values, so {_keep(impact, 'some of them', gerund=True)} would not fix it.")
    else:
        named = ", ".join(f"{r.group} loses {fmt.yen(-r.yearly_savings)}" for r in losing.itertuples())
        out.append(f"By {column}, {named} a year against {against} ({len(losing)} of {len(part)}; the others gain "
                   f"{fmt.yen(gained)}): consider {_keep(impact, 'it' if len(losing) == 1 else 'those', gerund=True)}.")
    return out


def cheaper_alternative(model: str, leaderboard: pd.DataFrame, impact: ImpactResult, share: float = 0.9
                        ) -> dict | None:
    """The best model of a cheaper rung when it saves at least ``share`` of what
    ``model`` saves — the talk's "try rules and statistics before GBDT", in yen.
    Returns None or ``{model, rung, yearly_savings, extra, extra_share}``; ``extra``
    (what ``model`` saves beyond it, ¥/year) is negative when the cheaper rung saves more."""
    rungs = leaderboard.set_index(MODEL)["rung"] if "rung" in leaderboard else pd.Series(dtype=str)
    if model not in rungs or rungs[model] not in RUNG_ORDER:
        return None
    savings = impact.summary.set_index("policy")["yearly_savings"]
    if savings.get(model, 0) <= 0:
        return None
    level = RUNG_ORDER.index(rungs[model])
    cheaper = [m for m in savings.index if m in rungs and rungs[m] in RUNG_ORDER[1:level] and m != PRACTICE]
    if not cheaper:
        return None
    best = max(cheaper, key=lambda m: savings[m])
    if savings[best] < share * savings[model]:
        return None
    extra = float(savings[model] - savings[best])
    return {"model": best, "rung": rungs[best], "yearly_savings": float(savings[best]), "extra": extra,
            "extra_share": extra / float(savings[model])}


def cheaper_rung_risk(name: str, cheaper: dict, money_model: str) -> str:
    """The risk sentence for a cheaper rung found by ``cheaper_alternative`` (``name``:
    the chosen model's display name). When the chosen model saves less than the cheaper
    rung — its extra is zero or negative — the sentence says plainly to take the cheaper
    one rather than speak of a negative gain."""
    other = fmt.model_name(cheaper["model"])
    if cheaper["extra"] <= 0:
        more = (f"saves {fmt.yen(-cheaper['extra'])} a year more than {name}" if cheaper["extra"] < 0 else
                f"saves as much as {name}")
        return (f"{other} ({cheaper['rung']}), a cheaper rung, {more} ({fmt.yen(cheaper['yearly_savings'])} "
                f"against {fmt.yen(cheaper['yearly_savings'] + cheaper['extra'])}): take {other} unless {name} "
                "brings something this money does not count.")
    lead = "A cheaper rung does much of the work" if money_model == ERRORS else "The ordering policy does much of the work"
    return (f"{lead}: {other} ({cheaper['rung']}) already saves {fmt.yen(cheaper['yearly_savings'])} a year, and "
            f"{name} adds {fmt.yen(cheaper['extra'])} ({fmt.pct(cheaper['extra_share'])}) over it. The cheapest "
            f"rung that is good enough wins: weigh that gain against what running {name} costs more than {other}.")


def run_evidence(info, result: BacktestResult, has_stockouts: bool, generated: bool,
                 exog_known: tuple[str, ...] = ()) -> RunEvidence:
    """A stored run (``core.backtest.store.RunInfo`` and the result read back with
    ``load_result``) as decision evidence."""
    return RunEvidence(
        run_id=info.run_id, run_name=info.name, dataset_name=info.dataset_name, created_at=info.created_at,
        code_version=info.code_version, horizon=info.config.split.horizon, cutoffs=list(result.cutoffs),
        n_series=info.n_series, leaderboard=result.leaderboard(), metrics=result.metrics, forecasts=result.forecasts,
        has_stockouts=has_stockouts, generated_data=generated, exog_known=tuple(exog_known), n_scored=info.n_scored,
        excluded=result.excluded, fallbacks=result.fallbacks)
