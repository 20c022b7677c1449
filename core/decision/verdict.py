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

Words are facts (issue 15): every sentence the snapshot keeps — reasons, next steps,
risks, conditions, each criterion's evidence, the readiness evidence, the stated against
measured table's words, the significance statements — is a ``core.i18n.Msg`` (its English
text and its values: amounts as ``Fmt("yen", …)``, shares as ``Fmt("pct", …)``, model
names as ``Fmt("model_name", alias)``), serialised with ``core.i18n.to_json`` (format 3).
The same decision therefore reads in Japanese or English on the page and in the PDF,
whatever the language it was taken in; ``str(msg)`` or ``core.i18n.render`` reads a text
now, ``Decision.in_words`` gives the whole snapshot in the current language. A snapshot
written before (formats 1 and 2) keeps its English sentences as plain strings, which read
as they are. Machine values stay machine values: the verdict (``verdict_label`` words it),
a readiness area, a rung, a status of the stated-against-measured table, table columns.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
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
from core.i18n import M_, N_, Fmt, Msg, _, from_json, nM_, pgettext, render, to_json
from core.money.impact import ERRORS, NORMAL, PRACTICE, QUANTILE, SHELF, ImpactResult
from core.pilot.evidence import DAYS_PER_YEAR, DESIGNED, NONE, PROFIT, READ, STOCKOUT_DAYS, OnlineEvidence
from core.planning.criteria import (
    BASELINES,
    METRICS,
    MODEL_BASELINES,
    Criterion,
    is_online,
    judge,
    value_fact,
)
from core.planning.definition import ProblemDefinition
from core.planning.errors import CriterionError
from core.planning.texts import DEFINITION
from core.planning.texts import fact as _fact

GO, CONDITIONAL_GO, NO_GO = "GO", "CONDITIONAL GO", "NO-GO"
VERDICTS = (GO, CONDITIONAL_GO, NO_GO)
# 2: the online evidence (``Decision.online``) and pending online criteria; 3: texts kept as
# facts (``core.i18n.Msg`` as JSON), read in either language.
SNAPSHOT_FORMAT = 3
SIGNIFICANCE = 0.05
# A text the snapshot keeps: a message as facts, a formatted value, or a plain string (a
# name, what a person typed, or a sentence stored before texts were facts).
Text = Msg | Fmt | str


def user_fact(value: object) -> object:
    """A problem definition's text as the snapshot keeps it: the product's example text as a
    message (it reads in the reader's language), what the PM typed as typed."""
    return _fact(value, DEFINITION)


def verdict_label(verdict: str) -> str:
    """A verdict (a machine value: ``GO``, ``CONDITIONAL GO``, ``NO-GO``) for people, in
    the current language: GO / 条件付きGO / NO-GO. Anything else is returned as it is."""
    if verdict == GO:
        return pgettext("verdict", "GO")
    if verdict == CONDITIONAL_GO:
        return pgettext("verdict", "CONDITIONAL GO")
    if verdict == NO_GO:
        return pgettext("verdict", "NO-GO")
    return str(verdict)


class DecisionError(MitoshiError):
    """A decision cannot be evaluated as asked; the message says what to do first."""


# ---------------------------------------------------------------------------------
# Readiness: the ML Test Score's four areas, worded for a store x item forecast
# ---------------------------------------------------------------------------------
# The areas are machine values and English words the catalogs translate where shown (gettext).
DATA, MODEL_AREA, INFRA, MONITORING = N_("Data"), N_("Model"), N_("Infrastructure"), N_("Monitoring")
AREAS = (DATA, MODEL_AREA, INFRA, MONITORING)
SCORES = (0.0, 0.5, 1.0)
SCORE_MEANING = {0.0: N_("not done"), 0.5: N_("done by hand, documented"), 1.0: N_("automated and repeated")}


@dataclass(frozen=True)
class ReadinessCheck:
    key: str
    area: str
    text: str  # English, a catalog message: show it with gettext
    auto: bool = False  # scored from evidence in the warehouse, not by the team


CHECKS: tuple[ReadinessCheck, ...] = (
    ReadinessCheck("schema", DATA, N_("The data's expectations are written down: each column's role, type and frequency."),
                   auto=True),
    ReadinessCheck("quality", DATA, N_("Every load is checked: unreadable dates, negatives, duplicates, calendar gaps."),
                   auto=True),
    ReadinessCheck("no_leak", DATA, N_("Every input is known when the forecast is made (exogenous columns declared "
                   "known in advance; nothing after the cutoff)."), auto=True),
    ReadinessCheck("censoring", DATA, N_("Stockouts are recorded, so censored sales can be told from low demand."),
                   auto=True),
    ReadinessCheck("feed", DATA, N_("A daily sales and orders feed for production exists and has an owner.")),
    ReadinessCheck("privacy", DATA, N_("Personal and contractual data rules were reviewed for the data used.")),
    ReadinessCheck("baseline", MODEL_AREA, N_("The model is compared with simple baselines (today's practice, seasonal "
                   "naive)."), auto=True),
    ReadinessCheck("time_split", MODEL_AREA, N_("Evaluated on the future only: rolling origin over several folds, never "
                   "a random split."), auto=True),
    ReadinessCheck("significant", MODEL_AREA, N_("The improvement over the baseline is statistically significant."),
                   auto=True),
    ReadinessCheck("slices", MODEL_AREA, N_("Quality holds on important slices: every store and category beats the "
                   "baseline."), auto=True),
    ReadinessCheck("reproducible", MODEL_AREA, N_("Experiments are reproducible: config, data fingerprint and code "
                   "version are stored with each run."), auto=True),
    ReadinessCheck("staleness", MODEL_AREA, N_("How fast the model goes stale is known, and a retraining cadence is set.")),
    ReadinessCheck("batch", INFRA, N_("The model retrains on all data and writes the next horizon to a batch forecast "
                   "table."), auto=True),
    ReadinessCheck("rollback", INFRA, N_("Forecast table versions are kept, so the previous one can be served again."),
                   auto=True),
    ReadinessCheck("integration", INFRA, N_("The pipeline from sales feed to forecast table is tested end to end.")),
    ReadinessCheck("canary", INFRA, N_("A new model's forecasts are checked against the previous version before the "
                   "stores see them.")),
    ReadinessCheck("fallback", INFRA, N_("Ordering falls back to today's practice when the forecast is late or missing.")),
    ReadinessCheck("input_monitor", MONITORING, N_("Input data is monitored: missing days, volumes, new or vanished "
                   "items.")),
    ReadinessCheck("accuracy_monitor", MONITORING, N_("Forecast accuracy (WAPE) against actual sales is tracked every "
                   "week.")),
    ReadinessCheck("kpi_monitor", MONITORING, N_("Stockouts and waste are tracked as the business KPIs the model should "
                   "move.")),
    ReadinessCheck("skew", MONITORING, N_("Training and serving use the same feature code (no skew between backtest "
                   "and production).")),
    ReadinessCheck("alerts", MONITORING, N_("Alerts with an owner fire when the forecast table is late or looks wrong.")),
)
CHECK_BY_KEY = {c.key: c for c in CHECKS}


BANDS = ((0, N_("more of a research project than a production system")),
         (1, N_("not totally untested, but serious holes in reliability are possible")),
         (2, N_("a first pass at basic productionisation; more investment may be needed")),
         (3, N_("reasonably tested; more of it could be automated")),
         (5, N_("strong automated testing and monitoring, fit for mission-critical use")))
TOP_BAND = N_("exceptional levels of automated testing and monitoring")


def score_band_fact(score: float) -> Msg:
    """The ML Test Score paper's reading of an overall score, as a fact."""
    return Msg(next((band for top, band in BANDS if score <= top), TOP_BAND))


def score_band(score: float) -> str:
    """The ML Test Score paper's reading of an overall score, in the current language."""
    return render(score_band_fact(score))


# ---------------------------------------------------------------------------------
# The snapshot
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CriterionResult:
    criterion: Text  # the criterion as a sentence (a fact: ``Criterion.statement``)
    metric: str
    comparator: str
    threshold: float
    baseline: str | None
    note: Text  # why this threshold, as the PM wrote it
    measured: float | None
    measured_text: Text  # the measured value for people (a fact: ``Fmt``/``Msg``)
    baseline_value: float | None
    passed: bool | None  # None: could not be evaluated (or, when pending, not yet)
    evidence: Text  # the arithmetic and where the value comes from, a fact
    online: bool = False  # measured by the pilot, not by the backtest
    pending: bool = False  # an online criterion before the pilot's readout: not yet evaluated, neither passed nor failed


@dataclass(frozen=True)
class ReadinessScore:
    key: str
    area: str  # a machine value (AREAS), an English word the catalogs translate
    text: Text  # the check, a fact
    score: float
    evidence: Text  # a fact
    auto: bool


@dataclass(frozen=True)
class Decision:
    """One GO / NO-GO decision, exactly as it was taken. Tables are lists of records."""

    decision_id: str
    created_at: str  # ISO time
    verdict: str  # GO, CONDITIONAL GO or NO-GO: a machine value (``verdict_label`` words it)
    reasons: list[Text]
    next_steps: list[Text]
    project_id: str
    project_name: str
    definition_version: int
    problem: Text  # the PM's words (a product's example text as a fact)
    decision_supported: Text
    kpi: Text
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
    baseline_label: Text
    ordering: Text  # how the simulated stores order: service level
    criteria: list[CriterionResult]
    significance: list[dict]
    stability: dict
    value: dict
    money: list[dict]
    money_notes: list[Text]
    money_sources: dict[str, Text]
    sensitivity: list[dict]
    by_segment: list[dict]
    leaderboard: list[dict]
    readiness: list[ReadinessScore]
    readiness_areas: dict[str, float]
    readiness_overall: float
    risks: list[Text]
    notes: str
    format: int = SNAPSHOT_FORMAT
    # Every series accounted for: series the run scored (None: a run stored before it was
    # counted) and, in words, what its folds left out and which models fell back.
    series_scored: int | None = None
    accounting: list[Text] = field(default_factory=list)
    # The problem definition's own numbers against the measured ones (none in a snapshot
    # written before they were reconciled): one record per stated number — see
    # ``reconcile`` — the measurement the KPI was read as, and the conditions a broken
    # constraint puts on the verdict, written out.
    stated_vs_measured: list[dict] = field(default_factory=list)
    kpi_measure: str | None = None
    conditions: list[Text] = field(default_factory=list)
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
    # The reports the decision rests on: the project's newest of each kind when it was taken
    # (``core.paper.store``: kind, version, report_id, created_at); none in older snapshots.
    reports: list[dict] = field(default_factory=list)

    @property
    def ordering_words(self) -> Text:
        """How the simulated stores ordered, with the rule named: ``the model's 95% quantile``
        (the ordering already names it), ``a 95% service level (normal safety stock)``;
        the ordering as it is under the cost of forecast errors (nothing is ordered). A fact:
        ``str()`` reads it."""
        if self.money_model == ERRORS or self.ordering_rule == QUANTILE:
            return self.ordering
        return M_("{ordering} (normal safety stock)", ordering=self.ordering)

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
        """The snapshot as JSON: texts as message facts (``core.i18n.to_json``)."""
        data = _shallow(self)
        data["criteria"] = [_shallow(c) for c in self.criteria]
        data["readiness"] = [_shallow(r) for r in self.readiness]
        return json.dumps(_plain(to_json(data)), ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Decision:
        """A stored snapshot back, texts as messages (``core.i18n.from_json``); a snapshot
        written before texts were facts keeps its plain English strings."""
        data = json.loads(text)
        if data.get("format", 0) > SNAPSHOT_FORMAT:
            raise DecisionError(M_("This decision was written by a newer Mitoshi; update the app to read it."))
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        # The online evidence stays as stored (OnlineEvidence.to_dict): OnlineEvidence.from_dict reads it.
        online = {"online": data.pop("online")} if "online" in data else {}
        data = {**from_json(data), **online}
        data["criteria"] = [CriterionResult(**c) for c in data["criteria"]]
        data["readiness"] = [ReadinessScore(**r) for r in data["readiness"]]
        return cls(**data)

    def in_words(self) -> Decision:
        """This decision with every text rendered in the current language (plain strings):
        for a renderer that joins or measures texts, or a test that reads them. Machine
        values (the verdict, areas, statuses, aliases) and the online evidence's facts stay
        as they are."""
        return replace(self, **{f.name: _words(getattr(self, f.name)) for f in fields(self) if f.name != "online"})


def _shallow(value: object) -> dict:
    """A dataclass's fields, one level deep (``asdict`` would take a ``Msg`` apart)."""
    return {f.name: getattr(value, f.name) for f in fields(value)}


def in_words(value: object) -> object:
    """``value`` — a decision, a part of one (a criterion's result, the reconciliation, a
    ladder pick, a table's records) or a list of texts — with every message in it rendered
    in the current language (plain strings); anything else as it is."""
    if isinstance(value, Decision):
        return value.in_words()
    return _words(value)


def _words(value: object) -> object:
    if isinstance(value, Msg | Fmt):
        return render(value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _words(getattr(value, f.name)) for f in fields(value) if f.init})
    if isinstance(value, list | tuple):
        return type(value)(_words(v) for v in value)
    if isinstance(value, dict):
        return {k: _words(v) for k, v in value.items()}
    return value


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
    forecasts: pd.DataFrame  # long: unique_id, ds, cutoff, step, actual, model, forecast (``tested_models``' at least)
    has_stockouts: bool
    generated_data: bool
    exog_known: tuple[str, ...] = ()
    n_scored: int | None = None  # None: stored before the run counted its series
    excluded: pd.DataFrame = field(default_factory=accounting.empty_excluded)  # cutoff, unique_id, reason
    fallbacks: pd.DataFrame = field(default_factory=accounting.empty_fallbacks)  # model, cutoff, unique_id, rule, reason

    @property
    def folds(self) -> int:
        return len(self.cutoffs)

    def accounting(self) -> list[Text]:
        """What the folds left out and which models fell back, in words kept as facts (none
        for a run stored before it was counted)."""
        if self.n_scored is None:
            return []
        return list(accounting.sentence_facts(self.excluded, self.fallbacks, self.n_series, self.cutoffs))


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
    risks: Sequence[Text] = ()  # the team's own, one a line (and Mitoshi's own as facts: ``criteria_moved``)
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
        raise DecisionError(M_("The run has no model besides today's practice: run a backtest with models to "
                               "compare."))
    ranked = sorted(rows.itertuples(), key=lambda r: (-r.yearly_savings, wape.get(r.policy, math.inf)))
    return ranked[0].policy


# The rules the ladder picks by, in the order it tries them.
FITS, BREAKS, RICHEST = "fits", "breaks a constraint", "saves the most"


@dataclass(frozen=True)
class LadderPick:
    """The model the verdict takes when none is chosen, and why, in words kept as facts."""

    model: str  # alias
    rule: Text  # the rule that picked it, a short plain rule for a label: "the cheapest rung that meets every …"
    note: Text | None  # a sentence for the verdict when the ladder stopped below the model that saves the most
    kind: str = FITS  # FITS, BREAKS or RICHEST: which of the ladder's rules picked it

    def label(self) -> str:
        """``Theta (recommended): the cheapest rung that meets every criterion, pays and keeps
        the constraints``, in the current language."""
        return _("{model} (recommended): {rule}").format(model=fmt.model_name(self.model), rule=render(self.rule))


MODEL_FREE = ("budget",)  # constraints that do not depend on the model (the investment against the budget)


def _rung(rung: object) -> Text:
    """A rung of the ladder inside a sentence (``statistical`` / 統計), as a fact."""
    return Msg(rung) if rung in RUNG_ORDER else str(rung)


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
        if model == richest:
            return LadderPick(model, M_("the cheapest rung that meets every criterion, pays and keeps the "
                                        "constraints; it also saves the most"), None)
        rule = M_("the cheapest rung that meets every criterion, pays and keeps the constraints")
        return LadderPick(model, rule, M_(
            "Chosen by the ladder: {model} ({rung}) is the cheapest rung that meets every criterion, pays and keeps "
            "the constraints. {richest} ({richest_rung}) would save {amount} a year more, for the running cost of a "
            "{costlier} model; choose it on purpose if that pays.",
            model=Fmt("model_name", model), rung=_rung(rungs.get(model, "?")), richest=Fmt("model_name", richest),
            richest_rung=_rung(rungs.get(richest, "?")), amount=Fmt("yen", float(savings[richest] - savings[model])),
            costlier=_rung(rungs[richest]) if richest in rungs else M_("costlier")))
    if breaking is not None:
        return LadderPick(breaking, M_("the cheapest rung that meets every criterion and pays; it breaks a "
                                       "constraint (see the conditions)"), M_(
            "Chosen by the ladder: {model} ({rung}) is the cheapest rung that meets every criterion and pays; no "
            "model that does also keeps the constraints, so the constraint it breaks is a condition below.",
            model=Fmt("model_name", breaking), rung=_rung(rungs.get(breaking, "?"))), BREAKS)
    return LadderPick(richest, M_("saves the most (no model meets every criterion and pays)"), None, RICHEST)


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
        raise DecisionError(M_("The project has no GO/NO-GO criteria. Fix them on the Problem definition page "
                               "first — before looking at results, so that the results cannot move the goalposts."))
    pick = ladder_pick(impact, run.leaderboard, definition) if inputs.model is None else None
    model = pick.model if pick is not None else inputs.model
    ladder_note = pick.note if pick is not None else None
    if model == PRACTICE:
        raise DecisionError(M_("Today's practice is the baseline, not a model to take to production: choose a "
                               "model."))
    board = run.leaderboard.set_index(MODEL)
    if model not in board.index or model not in set(impact.summary["policy"]):
        raise DecisionError(M_("The run has no model '{model}'; choose one of its models.", model=model))

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

    def replacement(condition: Text) -> PilotCondition | None:  # the pilot's judgement of an offline condition
        return next((j for j in judged if j.replaces is not None and j.replaces == condition), None)

    constraints = [c for c in stated.conditions if replacement(c) is None]  # the pilot's judgement says them instead
    verdict, reasons, steps = _verdict(criteria, significance, stability, value, overall, definition, model,
                                       readiness, constraints, impact, online, judged)
    if ladder_note:
        reasons.insert(0, ladder_note)
    promise = pilot.promise_fact(online, pilot.promised(online, value["yearly_savings"], model))
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
        problem=user_fact(definition.problem), decision_supported=user_fact(definition.decision),
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
               + [r if isinstance(r, Msg) else r.strip() for r in inputs.risks if render(r).strip()]),
        stated_vs_measured=stated.rows, kpi_measure=stated.kpi_measure,
        conditions=[replacement(c).text if replacement(c) is not None else c for c in stated.conditions],
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
        common = dict(criterion=criterion.statement(), metric=criterion.metric, comparator=criterion.comparator,
                      threshold=criterion.threshold, baseline=criterion.baseline,
                      note=user_fact(criterion.description), online=True)
        base_value = definition.money_baselines().get(criterion.baseline) if criterion.baseline else None
        if not pilot.finished(evidence):  # before the pilot, or read out before its last day
            results.append(CriterionResult(**common, measured=None, measured_text=M_("not yet (pilot)"),
                                           baseline_value=base_value, passed=None, pending=True,
                                           evidence=M_("Not yet evaluated: {why}", why=pilot.waiting_fact(evidence))))
            continue
        value, estimate = pilot.value_for(criterion.metric, evidence)
        if estimate is None:
            results.append(CriterionResult(**common, measured=None, measured_text=fmt.MISSING,
                                           baseline_value=base_value, passed=None,
                                           evidence=M_("The pilot's readout has no estimate of {measure}: read it "
                                                       "out with that measure to evaluate this criterion.",
                                                       measure=Msg(pilot.MEASURE_WORDS[
                                                           pilot.SOURCES[criterion.metric][0]]))))
            continue
        try:
            passed, evidence_text = judge(criterion, value, base_value)
        except CriterionError as error:
            results.append(CriterionResult(**common, measured=value, measured_text=_shown(criterion.metric, value),
                                           baseline_value=base_value, passed=None,
                                           evidence=_then(_error_fact(error), _how_to_measure(criterion))))
            continue
        results.append(CriterionResult(**common, measured=value, measured_text=_shown(criterion.metric, value),
                                       baseline_value=base_value, passed=passed,
                                       evidence=_then(evidence_text, pilot.criterion_source_fact(evidence, estimate))))
    return results


def _then(first: Text, then: Text | None) -> Text:
    """Two sentences one after the other, as a fact (a space between them in English, none
    in Japanese); ``first`` alone when ``then`` is empty."""
    if then is None or not render(then).strip():
        return first
    return M_("{first} {then}", first=first, then=then)


def _error_fact(error: Exception) -> Text:
    """A ``MitoshiError``'s message as the fact it was raised with."""
    return error.args[0] if len(error.args) == 1 and isinstance(error.args[0], Msg | str) else str(error)


def _online_risks(definition: ProblemDefinition, evidence: OnlineEvidence, model: str) -> list[Text]:
    """What the online evidence leaves open: no pilot at all (the talk's failure story of
    a model that scored well offline and was never checked online), a pilot that no
    criterion judges, or a pilot of another model than the one decided on."""
    named = bool(definition.online_criteria())
    risks: list[Text] = []
    if evidence.status == NONE and not named:
        risks.append(M_("No online evaluation: the offline promise has not been tested in stores. A model that scores "
                        "well in a backtest can still fail in production; design a pilot in a few stores and add an "
                        "online GO/NO-GO criterion (e.g. the 95% lower bound of online savings > {zero}).",
                        zero=Fmt("yen", 0.0)))
    elif evidence.status == DESIGNED and not named:
        risks.append(M_("The pilot is designed ({pilot}) but no GO/NO-GO criterion names an online measure: after "
                        "the pilot, this verdict would still rest on the offline promise alone.",
                        pilot=pilot.pilot_fact(evidence)))
    elif evidence.status == READ and not named:
        risks.append(M_("No GO/NO-GO criterion names an online measure: the pilot's readout is shown but does not "
                        "decide the verdict."))
    # a pilot of another model than the one decided on is a condition of the verdict (``_verdict``)
    return risks


SERVICE, MONEY = "service", "money"  # the kinds of condition a finished pilot judges


@dataclass(frozen=True)
class PilotCondition:
    """A condition of the verdict as a finished pilot judged it: the service constraint
    the offline evidence left to the pilot, or the pilot's savings against the running
    cost and the payback criterion."""

    kind: str  # SERVICE or MONEY
    status: str  # pilot.MET, pilot.FAILED or pilot.OPEN
    text: Text  # the condition with the pilot's figures, a fact
    replaces: Text | None = None  # the offline condition it takes the place of (SERVICE)
    risk: Text | None = None  # the same as a risk (MONEY)


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


SETTLE = N_("Settle it before rolling out: pilot longer or in more stores, or raise the safety stock (a higher "
            "service level) for the items that run out more, publish again and pilot again.")


def _service_by_pilot(service: ServiceBreak, online: OnlineEvidence, run: RunEvidence, impact: ImpactResult,
                      criteria: Sequence[CriterionResult]) -> PilotCondition:
    """The service constraint broken offline, judged by the pilot's stockout item-days:
    by the problem definition's own online stockout criterion when it has one (the
    increase it tolerates), else by ``core.decision.online.stockout_judgement`` with the
    constraint's tolerance (``tolerated_item_days``; none when it cannot be converted)."""
    offline = service.text()
    estimate = online.estimate(STOCKOUT_DAYS)
    if estimate is None:
        return PilotCondition(SERVICE, pilot.OPEN, M_(
            "{offline} The pilot's readout has no estimate of stockout item-days: read it out with that measure to "
            "judge this condition.", offline=offline), offline)
    values = dict(head=service.head, floor=service.floor, change=pilot.change_fact(estimate))
    own = next((c for c in criteria if c.metric == "online_stockout_change" and c.passed is not None), None)
    if own is not None:
        if own.passed:
            return PilotCondition(SERVICE, pilot.MET, M_(
                "{head} It was acceptable only if the pilot kept stockouts at or below {floor}, and the pilot kept "
                "them within the problem definition's criterion ({criterion}): {change}.", criterion=own.criterion,
                **values), offline)
        return PilotCondition(SERVICE, pilot.FAILED, M_(
            "{head} The pilot confirmed it: {change}, beyond the problem definition's criterion ({criterion}). It was "
            "acceptable only if the pilot kept stockouts at or below {floor}.", criterion=own.criterion, **values),
            offline)
    tolerated = tolerated_item_days(service, run, impact)
    bound = M_("the {n} item-days a year the constraint tolerates ({points} of the chain's item-days)",
               n=Fmt("number", float(tolerated), {"digits": 0}),
               points=Fmt("pp", float(service.tolerated))) if tolerated else None
    status = pilot.stockout_judgement(estimate, tolerated or 0.0)
    if status == pilot.FAILED:
        if bound is not None:
            text = M_("{head} The pilot confirmed it: {change}, more than {bound}. It was acceptable only if the pilot "
                      "kept stockouts at or below {floor}.", bound=bound, **values)
        else:
            text = M_("{head} The pilot confirmed it: {change}. It was acceptable only if the pilot kept stockouts at "
                      "or below {floor}.", **values)
        return PilotCondition(SERVICE, status, text, offline)
    if status == pilot.MET:
        if pilot.reading(estimate) == pilot.BETTER:
            text = M_("{head} It was acceptable only if the pilot kept stockouts at or below {floor}, and the pilot "
                      "did: {change}.", **values)
        elif bound is not None:
            text = M_("{head} It was acceptable only if the pilot kept stockouts at or below {floor}, and the pilot "
                      "did, within the tolerance: {change}, no more than {bound}.", bound=bound, **values)
        else:
            text = M_("{head} It was acceptable only if the pilot kept stockouts at or below {floor}, and the pilot "
                      "did, within the tolerance: {change}.", **values)
        return PilotCondition(SERVICE, status, text, offline)
    if bound is not None:
        text = M_("{head} It is acceptable only if the pilot keeps stockouts at or below {floor}, and the pilot could "
                  "not tell: {change}, which does not rule out more than {bound}. {settle}", bound=bound,
                  settle=Msg(SETTLE), **values)
    else:
        text = M_("{head} It is acceptable only if the pilot keeps stockouts at or below {floor}, and the pilot could "
                  "not tell: {change}, which does not rule out a rise. {settle}", settle=Msg(SETTLE), **values)
    return PilotCondition(SERVICE, status, text, offline)


def _money_by_pilot(definition: ProblemDefinition, online: OnlineEvidence) -> list[PilotCondition]:
    """The pilot's yearly savings (its profit effect for the chain) against the running
    cost, and the payback they imply against the problem definition's payback criterion
    — beside the offline criterion, which stays as measured on the backtest. Each is a
    risk and a condition of the verdict, not a failure."""
    profit, running = online.estimate(PROFIT), definition.running_cost_yen_per_year
    if profit is None or running is None:
        return []
    savings = float(profit.yearly)
    net = savings - running

    def short(value: float, signed: bool = False) -> Fmt:
        return Fmt("yen_short", float(value), {"signed": True} if signed else {})

    if net <= 0:
        text = (M_("The pilot's {savings} a year does not cover the yearly running cost of {running} ({net} after "
                   "running costs): at the pilot's rate the model does not pay.", savings=short(savings),
                   running=short(running), net=short(net, signed=True))
                if savings > 0 else
                M_("The pilot measured no savings ({savings} a year): nothing covers the yearly running cost of "
                   "{running}.", savings=short(savings, signed=True), running=short(running)))
        return [_money_condition(text)]
    investment = definition.investment_yen
    payback = next((c for c in definition.criteria if c.metric == "payback_months"), None)
    if investment is None or payback is None:
        return []
    months = investment / (net / 12)
    if judge(payback, months)[0]:
        return []
    return [_money_condition(M_(
        "The pilot's {savings} a year, {net} after running costs, would pay back the {investment} investment in "
        "{months}, beyond the {asked} asked.", savings=short(savings), net=short(net), investment=short(investment),
        months=Fmt("months", round(months, 1)), asked=Fmt("months", float(payback.threshold))))]


def _money_condition(sentence: Msg) -> PilotCondition:
    return PilotCondition(MONEY, pilot.OPEN, M_(
        "{sentence} The offline criteria stand on the backtest's figures; confirm the business case at the pilot's "
        "rate before rolling out.", sentence=sentence), risk=sentence)


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
    label: str  # the measurement in words (English, a catalog message; ``label_for`` gives it as a fact)
    better: str  # "lower" or "higher"
    yen: bool  # yen a year; otherwise a share (0.06 = 6 %)
    scale: float  # a stated number × scale = the measured unit (0.01 when the KPI is stated in percent)

    def stated(self, value: float | None) -> float | None:
        return None if value is None else value * self.scale

    def text(self, value: float | None) -> Fmt:
        """Yen, or a share with two significant figures below 1 % (``0.012%``), as a fact
        (``str()`` writes it)."""
        return Fmt("yen", _num(value)) if self.yen else Fmt("pct_fine", _num(value))

    def label_for(self, freq: Freq | str) -> Msg:
        """The label in the data's periods, as a fact: ``share of series-months with a stockout``."""
        if "{unit}" in self.label:
            return Msg(self.label, {"unit": Msg(periods._SERIES_PERIODS[Freq(freq)])})
        return Msg(self.label)


MEASURES: dict[str, tuple[str, str, bool]] = {
    "loss_rate": (N_("loss rate: waste cost + margin lost to stockouts, over sales"), "lower", False),
    "loss_yen": (N_("yearly waste cost + margin lost to stockouts"), "lower", True),
    "stockout_rate": (N_("share of {unit} with a stockout"), "lower", False),
    "lost_yen": (N_("yearly margin lost to stockouts"), "lower", True),
    "fill_rate": (N_("fill rate: units sold over (estimated) demand"), "higher", False),
    "waste_rate": (N_("waste rate: units thrown away over units ordered"), "lower", False),
    "waste_share": (N_("waste cost over sales"), "lower", False),
    "waste_yen": (N_("yearly waste cost"), "lower", True),
    "wape": (N_("WAPE: total absolute error over total sales"), "lower", False),
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
# Why a KPI cannot be measured (``kpi_measure_fact``).
NO_KPI, NO_UNIT, NO_NAME, NOT_YEN = "no kpi", "unit", "name", "not yen"


def kpi_measure_fact(definition: ProblemDefinition) -> tuple[KpiMeasure | None, Msg | None]:
    """The measurement a KPI is read as, from its name and unit (English or Japanese):
    a loss rate (waste + lost margin over sales, or in yen), stockouts, waste, fill rate
    or WAPE. Returns the measure and, when there is none, why (a fact, starting in lower
    case; else None)."""
    measure, reason = _kpi_measure(definition)
    return measure, (_why_unmeasured(reason, definition) if measure is None else None)


def kpi_measure(definition: ProblemDefinition) -> tuple[KpiMeasure | None, str]:
    """``kpi_measure_fact`` with the reason in words of the current language ("" when the
    KPI is measured)."""
    measure, why = kpi_measure_fact(definition)
    return measure, "" if why is None else render(why)


def _kpi_measure(definition: ProblemDefinition) -> tuple[KpiMeasure | None, str]:
    """The measure, or None and why (``NO_KPI``, ``NO_UNIT``, ``NO_NAME``, ``NOT_YEN``)."""
    name, unit = definition.kpi_name.strip(), definition.kpi_unit.strip()
    if not name:
        return None, NO_KPI
    text, unit_l = f"{name} {unit}".lower(), unit.lower()
    has = {k for k, words in _KPI_WORDS.items() if any(w in text for w in words)}
    yen = any(w in unit_l for w in _YEN_WORDS)
    if unit_l and not yen and not any(w in unit_l for w in _SHARE_WORDS):
        return None, NO_UNIT
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
        return None, NO_NAME
    if key is None:
        return None, NOT_YEN
    label, better, in_yen = MEASURES[key]
    stated = [v for v in (definition.kpi_current, definition.kpi_target) if v is not None]
    percent = any(w in unit_l for w in _PERCENT_WORDS) or any(abs(v) > 1 for v in stated)
    return KpiMeasure(key, label, better, in_yen, 1.0 if in_yen or not percent else 0.01), ""


def _why_unmeasured(reason: str, definition: ProblemDefinition, start: bool = False) -> Msg:
    """Why the run cannot measure the KPI, as a fact: in lower case inside a sentence, as
    a sentence of its own (capitalised, with its full stop) with ``start``."""
    name, unit = user_fact(definition.kpi_name.strip()), user_fact(definition.kpi_unit.strip())
    if reason == NO_KPI:
        return M_("The problem definition names no KPI.") if start else M_("the problem definition names no KPI")
    if reason == NO_UNIT:
        if start:
            return M_("Its unit '{unit}' is none the run measures (a percentage, a share or yen a year).", unit=unit)
        return M_("its unit '{unit}' is none the run measures (a percentage, a share or yen a year)", unit=unit)
    if reason == NO_NAME:
        if start:
            return M_("Its name names nothing the run measures (a loss rate, stockouts, waste, fill rate or WAPE); "
                      "measure it in the online evaluation.")
        return M_("its name names nothing the run measures (a loss rate, stockouts, waste, fill rate or WAPE); "
                  "measure it in the online evaluation")
    if start:
        return M_("'{name}' is a share, not yen.", name=name)
    return M_("'{name}' is a share, not yen", name=name)


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


def _today(measure: KpiMeasure, impact: ImpactResult) -> tuple[str, Text]:
    """The policy that is 'today' for a measure, and its label (a fact)."""
    if measure.key == "wape":
        return PRACTICE, M_("today's practice")
    return impact.baseline, impact.baseline_label


def _stated_text(definition: ProblemDefinition, value: float | None) -> Text:
    """A number the problem definition states, with its unit as the PM wrote it (a fact)."""
    if value is None:
        return fmt.MISSING
    unit = definition.kpi_unit.strip()
    number = fmt.trimmed(value, 2)
    if not unit:
        return number
    # Templates without words: the unit (the PM's own, or the example's as a fact) follows the number.
    return Msg("{number}{unit}" if unit[0] in "%％" else "{number} {unit}", {"number": number,
                                                                          "unit": user_fact(unit)})


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


def _cut(measure: KpiMeasure, current: float, target: float) -> Msg:
    """The change a stated target asks for, in words, as a fact: ``25% lower than today``
    (a lower-is-better measure), ``50% of today's shortfall closed`` (a fill rate)."""
    if measure.better == "lower":
        change = 1 - target / current if current else 0.0
        if change >= 0:
            return M_("{change} lower than today", change=_percent(abs(change)))
        return M_("{change} higher than today", change=_percent(abs(change)))
    closed = 1 - (1 - target) / (1 - current) if current < 1 else 0.0
    return M_("{share} of today's shortfall closed", share=_percent(closed))


def _percent(share: float) -> str:
    """A relative change without needless decimals: ``25%``, ``12.5%``, ``0.33%`` (the
    same in every language)."""
    return fmt.pct_fine(share, 1).replace(".0%", "%")


def _kpi_relative(definition: ProblemDefinition, measure: KpiMeasure, threshold: float) -> Msg:
    """The KPI target read as the change it asks for, as a criterion is written, as a
    fact: ``25% lower than today (stated 6% → 4.5%): ≤ 12.5% as measured``."""
    current, target = measure.stated(definition.kpi_current), measure.stated(definition.kpi_target)
    unit = definition.kpi_unit.strip()
    before = (f"{fmt.trimmed(definition.kpi_current, 2)}{unit[0]}" if unit[:1] in ("%", "％") else
              _stated_text(definition, definition.kpi_current))  # "6% → 4.5% of sales", not "6% of sales → …"
    return M_("{cut} (stated {before} → {after}): {sign} {threshold} as measured", cut=_cut(measure, current, target),
              before=before, after=_stated_text(definition, definition.kpi_target),
              sign="≤" if measure.better == "lower" else "≥", threshold=measure.text(threshold))


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
    measure, why = kpi_measure_fact(definition)
    name, target_text = user_fact(definition.kpi_name.strip()), _stated_text(definition, definition.kpi_target)
    note: Text = M_("The KPI target of the problem definition.")
    if measure is None:
        return CriterionResult(M_("KPI target: {name} → {target}", name=name, target=target_text), KPI_TARGET, "<=",
                               definition.kpi_target, None, note, None, fmt.MISSING, None, None,
                               M_("The run cannot measure this KPI: {why}.", why=why))
    sign = "≤" if measure.better == "lower" else "≥"
    lower = measure.better == "lower"
    common = dict(criterion=M_("KPI target: {name} {sign} {target}", name=name, sign=sign, target=target_text),
                  metric=KPI_TARGET, comparator="<=" if lower else ">=", baseline=None)
    who = Fmt("model_name", model)
    label = measure.label_for(impact.freq)
    target, current = measure.stated(definition.kpi_target), measure.stated(definition.kpi_current)
    today_policy, today_label = _today(measure, impact)
    value, today = _kpi_value(measure, model, board, impact), _kpi_value(measure, today_policy, board, impact)
    if value is None:
        return CriterionResult(**common, note=note, threshold=target, measured=None, measured_text=fmt.MISSING,
                               baseline_value=today, passed=None,
                               evidence=M_("Read as the {label}, which this run does not measure for {model}.",
                                           label=label, model=who))

    def meets(threshold: float) -> bool:
        return value <= threshold + 1e-12 if lower else value >= threshold - 1e-12

    threshold, how = target, M_("Read as the {label}.", label=label)
    if current is not None and today is not None:
        agree = _agree(current, today)
        relative = _equivalent(measure, today, current, target)
        if relative is None and not agree:
            return CriterionResult(**common, note=note, threshold=target, measured=value,
                                   measured_text=measure.text(value), baseline_value=today, passed=None,
                                   evidence=M_("Read as the {label}: measured {today} for {today_label} against "
                                               "{current} stated, and a target stated from zero cannot be read as a "
                                               "change.", label=label, today=measure.text(today),
                                               today_label=today_label, current=measure.text(current)))
        if relative is not None:
            threshold = relative
            common["criterion"] = M_("KPI target: {name} {relative}", name=name,
                                     relative=_kpi_relative(definition, measure, threshold))
            values = dict(label=label, current=measure.text(current), today_label=today_label,
                          today=measure.text(today), target=measure.text(target),
                          cut=_cut(measure, current, target), threshold=measure.text(threshold))
            if agree:
                how = M_("Read as the {label}. The level stated today ({current}) agrees with the one measured for "
                         "{today_label} ({today}, within {agrees}), so the target is read as the change it asks for "
                         "({current} → {target}: {cut}), which on the measured scale is {threshold}.",
                         agrees=Fmt("pct", AGREES, {"digits": 0}), **values)
            else:
                how = M_("Read as the {label}. The level stated today ({current}) is not the one measured for "
                         "{today_label} ({today}): they do not count the same thing, so the target is read as the "
                         "change it asks for ({current} → {target}: {cut}), which on the measured scale is "
                         "{threshold}.", **values)
            written = dict(sign=sign, target=measure.text(target), value=measure.text(value), model=who)
            note = (M_("The KPI target of the problem definition. Read as written ({sign} {target}), it would be met "
                       "({value} with {model}); for information only: the verdict reads the target as the change it "
                       "asks for.", **written) if meets(target) else
                    M_("The KPI target of the problem definition. Read as written ({sign} {target}), it would be not "
                       "met ({value} with {model}); for information only: the verdict reads the target as the change "
                       "it asks for.", **written))
        else:  # stated and measured at zero: the target stands as written
            how = M_("Read as the {label}. Measured today ({today_label}): {today}.", label=label,
                     today_label=today_label, today=measure.text(today))
    elif today is not None:
        how = M_("Read as the {label}. Measured today ({today_label}): {today}.", label=label,
                 today_label=today_label, today=measure.text(today))
    passed = meets(threshold)
    result = dict(how=how, model=who, value=measure.text(value), threshold=measure.text(threshold))
    return CriterionResult(**common, note=note, threshold=threshold, measured=value,
                           measured_text=measure.text(value), baseline_value=today, passed=passed,
                           evidence=(M_("{how} With {model}: {value} against {threshold}: met.", **result) if passed
                                     else M_("{how} With {model}: {value} against {threshold}: not met.", **result)))


def _acting(impact: ImpactResult, name: Text, start: bool = False) -> Msg:
    """What a model does in the impact's model of money, as a fact: ``ordering from ETS``
    (the shelf simulation) or ``forecasting with ETS`` (the cost of forecast errors);
    ``Ordering from ETS`` at the start of a sentence (``start``)."""
    if impact.money_model == ERRORS:
        return M_("Forecasting with {model}", model=name) if start else M_("forecasting with {model}", model=name)
    return M_("Ordering from {model}", model=name) if start else M_("ordering from {model}", model=name)


def _keep(impact: ImpactResult, them: str, gerund: bool = False) -> Msg:
    """The way back for some items, as a fact: ``order them as today`` where today's
    orders are recorded and simulated, else ``keep <the baseline> for them``
    (``ordering``, ``keeping`` with ``gerund``). ``them``: ``them``, ``it``, ``those`` or
    ``some of them``."""
    base = impact.baseline_label
    if impact.has_orders and impact.money_model == SHELF:
        if not gerund:
            return M_("order them as today")
        if them == "it":
            return M_("ordering it as today")
        if them == "those":
            return M_("ordering those as today")
        return M_("ordering some of them as today")
    if not gerund:
        return M_("keep {baseline} for them", baseline=base)
    if them == "it":
        return M_("keeping {baseline} for it", baseline=base)
    if them == "those":
        return M_("keeping {baseline} for those", baseline=base)
    return M_("keeping {baseline} for some of them", baseline=base)


@dataclass(frozen=True)
class Reconciliation:
    """Every number the problem definition states, against what the run measured."""

    rows: list[dict]  # item, stated, measured, note (texts, facts), status (a machine value: AGREE … BROKEN);
    # stated_value, measured_value (numbers in the measured unit: a share as a fraction, yen; None when the run
    # cannot measure it or the number is not a KPI)
    risks: list[Text]
    conditions: list[Text]  # a broken constraint, and what makes the verdict acceptable despite it
    kpi_measure: str | None  # the measurement the KPI was read as (a key of MEASURES)
    broken: tuple[str, ...] = ()  # the constraints broken: "service", "budget"
    service: ServiceBreak | None = None  # the service constraint broken, in parts, for the pilot to judge


@dataclass(frozen=True)
class ServiceBreak:
    """The service constraint broken offline — more stockouts than the baseline — in
    parts (facts), so that a finished pilot's readout can judge the condition it puts on
    the verdict (``_service_by_pilot``)."""

    head: Text  # "Constraint broken: ordering from ETS runs out of stock on 18.6% of days against … (+2.9 pp)."
    floor: Text  # the baseline's stockout rate the pilot must keep to: "15.7%"
    remedy: Text  # what to do about it
    tolerated: float  # the rise tolerated (SERVICE_SLACK), as a share of series-periods

    def text(self) -> Msg:
        """The condition as the offline evidence leaves it to the pilot."""
        return M_("{head} It is acceptable only if the pilot keeps stockouts at or below {floor}: {remedy}",
                  head=self.head, floor=self.floor, remedy=self.remedy)


def _row(item: Text, stated_value: float | None, stated: Text, measured_value: float | None, measured: Text,
         status: str, note: Text) -> dict:
    return {"item": item, "stated": stated, "measured": measured, "status": status, "note": note,
            "stated_value": _num(stated_value), "measured_value": _num(measured_value)}


def _periods(freq: Freq | str) -> Msg:
    """The data's periods in a sentence (``days`` / 日), as a fact."""
    return Msg({Freq.DAILY: "days", Freq.WEEKLY: "weeks", Freq.MONTHLY: "months"}[Freq(freq)], context="period")


def reconcile(definition: ProblemDefinition, model: str, board: pd.DataFrame, impact: ImpactResult,
              criteria: Sequence[CriterionResult]) -> Reconciliation:
    """The problem definition's KPI (today and target), value claimed and constraints,
    each beside what the run measured with ``model``. A stated level that the
    measurement does not match, or savings below half the value claimed, are risks with
    their size; a constraint broken — more stockouts than today (unless a criterion on
    stockouts says how many are acceptable), an investment over the budget — is a
    condition on the verdict, written out. Every text is a fact."""
    rows: list[dict] = []
    risks: list[Text] = []
    conditions: list[Text] = []
    broken: list[str] = []
    service: ServiceBreak | None = None
    who = Fmt("model_name", model)
    measure, reason = _kpi_measure(definition) if definition.kpi_name.strip() else (None, "")
    name = user_fact(definition.kpi_name.strip())
    if definition.kpi_name.strip():
        current_text = _stated_text(definition, definition.kpi_current)
        if measure is None:
            rows.append(_row(M_("KPI today: {name}", name=name), None, current_text, None, fmt.MISSING,
                             UNMEASURED, _why_unmeasured(reason, definition, start=True)))
            if definition.kpi_target is None:
                risks.append(M_("The KPI '{name}' cannot be measured from the run ({why}): nothing here says whether "
                                "it will move.", name=name, why=_why_unmeasured(reason, definition)))
        else:
            today_policy, today_label = _today(measure, impact)
            today = _kpi_value(measure, today_policy, board, impact)
            current = measure.stated(definition.kpi_current)
            label = measure.label_for(impact.freq)
            if today is None:
                status = UNMEASURED
                note: Text = (M_("Read as the {label}; the run does not include {today_label}, so there is nothing "
                                 "to measure it on.", label=label, today_label=today_label)
                              if measure.key == "wape" else
                              M_("Read as the {label}, which this run does not measure.", label=label))
            elif current is None:
                status, note = fmt.MISSING, M_("Read as the {label}, for {today_label}; no level stated.",
                                               label=label, today_label=today_label)
            else:
                status = AGREE if _agree(current, today) else DIFFER
                note = M_("Read as the {label}, for {today_label}.", label=label, today_label=today_label)
                if status == DIFFER:
                    ratio = today / current if current else math.inf
                    times = Fmt("times", ratio) if math.isfinite(ratio) else M_("not comparable")
                    note = M_("Read as the {label}, for {today_label}. Measured is {times} the stated level.",
                              label=label, today_label=today_label, times=times)
                    risks.append(M_(
                        "The problem definition states {name} at {current} today; the run measures {today} for "
                        "{today_label} ({label}; {times} the stated level). They do not count the same thing: check "
                        "how the stated figure is counted before the pilot, which should measure the KPI as the "
                        "business counts it. The KPI target was read as the change it asks for.", name=name,
                        current=current_text, today=measure.text(today), today_label=today_label, label=label,
                        times=times))
            rows.append(_row(M_("KPI today: {name}", name=name), current, current_text, today,
                             measure.text(today), status, note))
        kpi = next((c for c in criteria if c.metric == KPI_TARGET), None)
        if kpi is not None:
            status = UNMEASURED if kpi.passed is None else MET if kpi.passed else NOT_MET
            stated_target: Text = _stated_text(definition, definition.kpi_target)
            target = measure.stated(definition.kpi_target) if measure else None
            if measure is not None and target is not None and kpi.threshold is not None \
                    and not math.isclose(kpi.threshold, target, rel_tol=1e-9, abs_tol=1e-12):
                # read as the change it asks for: say the threshold applied beside the number stated
                stated_target = M_("{stated}: {cut}, so {sign} {threshold} as measured", stated=stated_target,
                                   cut=_cut(measure, measure.stated(definition.kpi_current), target),
                                   sign="≤" if measure.better == "lower" else "≥",
                                   threshold=measure.text(kpi.threshold))
            rows.append(_row(M_("KPI target: {name}", name=name), target, stated_target, kpi.measured,
                             M_("{value} with {model}", value=kpi.measured_text, model=who)
                             if kpi.measured is not None else fmt.MISSING, status, kpi.evidence))

    claim = definition.value_yen_per_year
    savings = _num(impact.row(model)["yearly_savings"])
    if claim and savings is not None:
        ratio = savings / claim
        status = SHORT if ratio < CLAIM_SHORT else ABOVE if ratio > CLAIM_HIGH else IN_LINE
        saved = (M_("{amount} saved", amount=Fmt("yen", savings)) if savings >= 0 else
                 M_("{amount} lost", amount=Fmt("yen", -savings)))
        rows.append(_row(M_("Value claimed (¥ a year)"), claim, Fmt("yen", float(claim)), savings, saved, status,
                         M_("Measured savings are {share}, against {baseline}.", share=_of_claim(savings, claim),
                            baseline=impact.baseline_label) if savings > 0 else
                         M_("Nothing of the value claimed is measured against {baseline}.",
                            baseline=impact.baseline_label)))
        values = dict(claim=Fmt("yen", float(claim)), baseline=impact.baseline_label)
        if savings <= 0 and model != impact.baseline:
            acting = _acting(impact, who)
            risks.append(M_("None of the value claimed ({claim} a year) is measured: {acting} loses {amount} a year "
                            "against {baseline}.", acting=acting, amount=Fmt("yen", -savings), **values)
                         if savings < 0 else
                         M_("None of the value claimed ({claim} a year) is measured: {acting} saves nothing against "
                            "{baseline}.", acting=acting, **values))
        elif savings <= 0:
            risks.append(M_("None of the value claimed ({claim} a year) is measured: the savings are measured against "
                            "{model} itself.", claim=Fmt("yen", float(claim)), model=who))
        elif ratio < CLAIM_SHORT:
            risks.append(M_("Measured savings are {share}: {savings} a year against {claim} ({gap} short). Revise the "
                            "business case, or say where the rest is to come from, before promising it.",
                            share=_of_claim(savings, claim), savings=Fmt("yen", savings), claim=Fmt("yen", float(claim)),
                            gap=Fmt("yen", claim - savings)))
        elif ratio > CLAIM_HIGH:
            values = dict(share=_of_claim(savings, claim), savings=Fmt("yen", savings), claim=Fmt("yen", float(claim)))
            risks.append(M_("Measured savings are {share} ({savings} against {claim} a year): check the costs of a "
                            "unit forecast too high and too low before quoting the larger figure.", **values)
                         if impact.money_model == ERRORS else
                         M_("Measured savings are {share} ({savings} against {claim} a year): check the prices, costs "
                            "and shelf lives the simulation used before quoting the larger figure.", **values))

    # Constraints. Service: the KPI must not be bought with empty shelves, unless the
    # definition already says how many stockouts are acceptable (a criterion or the KPI).
    covered = any(c.metric == "stockout_rate" for c in definition.criteria) or (
        measure is not None and measure.key in ("stockout_rate", "fill_rate"))
    summary = impact.summary.set_index("policy")
    if not covered and "stockout_rate" in summary and impact.baseline in summary.index:
        base, mine = _num(summary.loc[impact.baseline, "stockout_rate"]), _num(summary.loc[model, "stockout_rate"])
        if base is not None and mine is not None:
            bad = mine > base + SERVICE_SLACK
            days = _periods(impact.freq)
            rows.append(_row(M_("Constraint: no more stockouts than today") if impact.has_orders else
                             M_("Constraint: no more stockouts than the baseline"),
                             base, M_("{share} of {periods} ({baseline})", share=Fmt("pct", base), periods=days,
                                      baseline=impact.baseline_label), mine,
                             M_("{share} of {periods} with {model}", share=Fmt("pct", mine), periods=days, model=who),
                             BROKEN if bad else KEPT,
                             M_("{change} against {baseline}; up to {tolerated} is tolerated.",
                                change=Fmt("pp", mine - base), baseline=impact.baseline_label,
                                tolerated=Fmt("pp", SERVICE_SLACK))))
            if bad:
                broken.append("service")
                service = ServiceBreak(
                    head=M_("Constraint broken: {acting} runs out of stock on {mine} of {periods} against {base} for "
                            "{baseline} ({change}).", acting=_acting(impact, who), mine=Fmt("pct", mine),
                            periods=days, base=Fmt("pct", base), baseline=impact.baseline_label,
                            change=Fmt("pp", mine - base)),
                    floor=Fmt("pct", base),
                    remedy=M_("raise the safety stock (a higher service level) for the items that run out more, or "
                              "{keep}, and add a stockout criterion to the problem definition if some increase is "
                              "acceptable.", keep=_keep(impact, "them")),
                    tolerated=SERVICE_SLACK)
                conditions.append(service.text())
    budget, investment = definition.budget_yen, definition.investment_yen
    if budget and investment is not None:
        bad = investment > budget
        rows.append(_row(M_("Constraint: investment within the budget"), budget, Fmt("yen", float(budget)), investment,
                         M_("{amount} (stated)", amount=Fmt("yen", float(investment))), BROKEN if bad else KEPT,
                         M_("Both are stated in the problem definition; the run does not measure them.")))
        if bad:
            broken.append("budget")
            conditions.append(M_("Constraint broken: the initial investment {investment} exceeds the budget {budget} "
                                 "by {excess}. Secure the difference, or cut the investment, before starting.",
                                 investment=Fmt("yen", float(investment)), budget=Fmt("yen", float(budget)),
                                 excess=Fmt("yen", float(investment - budget))))
    return Reconciliation(rows, risks, conditions, measure.key if measure else None, tuple(broken), service)


def _of_claim(savings: float, claim: float) -> Msg:
    """``35% of the value claimed`` below ten times the claim, ``9,779× the value claimed``
    from there (``fmt.share_of``), as a fact."""
    share = Fmt("share_of", float(savings), {"whole": float(claim)})
    if fmt.share_of(savings, claim).endswith("×"):  # a multiple (the same in every language)
        return M_("{share} the value claimed", share=share)
    return M_("{share} of the value claimed", share=share)


def _kpi(definition: ProblemDefinition) -> Text:
    """The KPI as the problem definition states it, with its levels today and targeted (a fact)."""
    if not definition.kpi_name:
        return ""
    name, unit = user_fact(definition.kpi_name), user_fact(definition.kpi_unit) if definition.kpi_unit else ""

    def level(value: float) -> Text:
        number = fmt.number(value, 2).rstrip('0').rstrip('.')
        return Msg("{number} {unit}", {"number": number, "unit": unit}) if unit else number

    now, target = definition.kpi_current, definition.kpi_target
    if now is not None and target is not None:
        return M_("{name} (today {current}, target {target})", name=name, current=level(now), target=level(target))
    if now is not None:
        return M_("{name} (today {current})", name=name, current=level(now))
    if target is not None:
        return M_("{name} (target {target})", name=name, target=level(target))
    return name


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
    common = dict(criterion=criterion.statement(), metric=criterion.metric, comparator=criterion.comparator,
                  threshold=criterion.threshold, baseline=criterion.baseline, note=user_fact(criterion.description))
    if criterion.metric == "payback_months" and value == math.inf:
        return CriterionResult(**common, measured=None, measured_text=M_("never"), baseline_value=None, passed=False,
                               evidence=M_("The yearly net benefit is not positive, so the investment is never paid "
                                           "back: failed."))
    try:
        passed, evidence = judge(criterion, value, base_value)
    except CriterionError as error:
        return CriterionResult(**common, measured=value, measured_text=_shown(criterion.metric, value),
                               baseline_value=base_value, passed=None,
                               evidence=_then(_error_fact(error), _how_to_measure(criterion)))
    source = _source(criterion.metric, model, impact)
    if criterion.baseline == PRACTICE and METRICS[criterion.metric].unit not in ("yen", "months") \
            and criterion.metric != "stockout_rate":
        source = M_("{source} Today's practice is scored on its recorded orders, which for goods that keep are "
                    "top-ups rather than a forecast of demand: the money impact compares them fairly.", source=source)
    return CriterionResult(**common, measured=value, measured_text=_shown(criterion.metric, value),
                           baseline_value=base_value, passed=passed, evidence=_then(evidence, source))


def _shown(metric: str, value: float | None) -> Text:
    """A measured value for people, as a fact (an en dash when missing)."""
    return "–" if value is None else value_fact(metric, value)


def _how_to_measure(criterion: Criterion) -> Text:
    if criterion.baseline in MODEL_BASELINES:
        if criterion.baseline == "practice":  # a rung only a dataset with recorded orders has
            return M_("Include {baseline} in the backtest to measure it: it needs the orders placed today, an "
                      "orders column in the dataset.", baseline=Fmt("model_name", criterion.baseline))
        return M_("Include {baseline} in the backtest to measure it.", baseline=Fmt("model_name", criterion.baseline))
    if criterion.baseline in ("yearly_running_cost", "initial_investment") or criterion.metric in (
            "yearly_net_benefit_yen", "payback_months"):
        return M_("Give the running cost and the investment on the Problem definition page.")
    return ""


def _source(metric: str, model: str, impact: ImpactResult) -> Msg:
    """Where a criterion's value comes from, for its evidence line, as a fact."""
    if METRICS[metric].unit in ("yen", "months"):
        values = dict(model=Fmt("model_name", model), baseline=impact.baseline_label)
        scaled = impact.chain_scale > 1.0001
        if impact.money_model == ERRORS:
            if scaled:
                return M_("(From the money impact: the cost of {model}'s forecast errors, against {baseline} scaled "
                          "to the whole dataset.)", **values)
            return M_("(From the money impact: the cost of {model}'s forecast errors, against {baseline}.)", **values)
        if scaled:
            return M_("(From the money impact: stores ordering from {model}'s forecasts at {ordering}, against "
                      "{baseline} scaled to the whole dataset.)", ordering=impact.config.level_label, **values)
        return M_("(From the money impact: stores ordering from {model}'s forecasts at {ordering}, against "
                  "{baseline}.)", ordering=impact.config.level_label, **values)
    if metric == "stockout_rate":
        return M_("(From the money impact's shelf simulation.)")
    return M_("(From the backtest over every fold and series.)")


def tested_models(model: str) -> tuple[str, ...]:
    """The models whose forecasts the decision's significance tests read (``RunEvidence.forecasts``
    needs no other): ``model`` and the baselines it is tested against."""
    return (model, *(base for base in MODEL_BASELINES if base != model))


def _significance(model: str, run: RunEvidence) -> list[dict]:
    out = []
    available = set(run.forecasts[MODEL].unique())
    for base in MODEL_BASELINES:
        if base not in available or base == model:
            continue
        test = diebold_mariano(run.forecasts, model, base, run.horizon)
        p = _num(test.p_value)
        values = dict(model=Fmt("model_name", model), baseline=_baseline(base), p=Fmt("p_phrase", p),
                      periods=int(test.periods))
        if test.significant:
            statement = M_("{model} is significantly better than {baseline} in absolute error (Diebold–Mariano, "
                           "one-sided, {p}, {periods} periods).", **values)
        elif p is not None:
            statement = M_("{model} is not significantly better than {baseline} in absolute error (Diebold–Mariano, "
                           "one-sided, {p}, {periods} periods).", **values)
        else:
            statement = M_("{model} is not testable (too few periods) than {baseline} in absolute error "
                           "(Diebold–Mariano, one-sided, {p}, {periods} periods).", **values)
        out.append({"model": model, "baseline": base, "baseline_label": _baseline(base), "p_value": p,
                    "statistic": _num(test.statistic), "periods": test.periods, "significant": test.significant,
                    "statement": statement})
    return out


def _baseline(key: str) -> Text:
    """A baseline inside a sentence (``today's practice``), as a fact."""
    return Msg(BASELINES.english(key)) if key in BASELINES else str(key)


def segment_fact(model: str, stability: dict) -> Msg:
    """The weakest segment against the baseline, worded by the sign of the change, as a fact."""
    worst, column = stability["worst_segment"], stability["segment_column"]
    change = worst["change"] or 0.0
    values = dict(column=column, group=worst["group"], wape=Fmt("pct", _num(worst["wape"])),
                  base_wape=Fmt("pct", _num(worst["baseline_wape"])),
                  baseline=_baseline(stability["baseline"]), model=Fmt("model_name", model))
    if change < 0:
        if not stability["segments_worse"]:
            return M_("Smallest gain by {column}: {group}, WAPE {wape} against {base_wape} for {baseline} ({change} "
                      "lower); {model} beats {baseline} in every {column}.", change=Fmt("pct", -change), **values)
        return M_("Smallest gain by {column}: {group}, WAPE {wape} against {base_wape} for {baseline} ({change} "
                  "lower).", change=Fmt("pct", -change), **values)
    return M_("Worst {column}: {group}, WAPE {wape} against {base_wape} for {baseline} ({change} higher); {worse} of "
              "{segments} are worse than {baseline}.", change=Fmt("pct", change), worse=stability["segments_worse"],
              segments=stability["segments"], **values)


def segment_sentence(model: str, stability: dict) -> str:
    """``segment_fact`` in the current language."""
    return render(segment_fact(model, stability))


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
    days = _periods(inputs.impact.freq)
    auto: dict[str, tuple[float, Text]] = {
        "schema": (1.0, M_("The warehouse registry declares every column's role, type and the data's frequency.")),
        "quality": (1.0, M_("Every import runs the quality checks; problems block it or are repaired by choice.")),
        "no_leak": (1.0, M_("The backtest hides everything after each cutoff except columns declared known in "
                            "advance (a contract test proves it for every model).")),
        "censoring": ((1.0, M_("Stockout {periods} are recorded in the data.", periods=days)) if run.has_stockouts else
                      (0.0, M_("The data does not flag stockout {periods}: censored sales look like low demand.",
                               periods=days))),
        "baseline": _baseline_evidence(run),
        "time_split": ((1.0, M_("Rolling origin, {folds} folds of {horizon} periods.", folds=run.folds,
                                horizon=run.horizon)) if run.folds >= 2 else
                       (0.5, M_("Rolling origin with a single fold: one period of evidence."))),
        "significant": _significance_evidence(significance),
        "slices": _slices_evidence(stability),
        "reproducible": (1.0, M_("The run stores its config, data fingerprint and code version ({version}).",
                                 version=run.code_version)),
        "batch": _batch_evidence(inputs.published_versions, model),
        "rollback": ((1.0, M_("Several forecast table versions are kept; any can be served again."))
                     if inputs.published_versions >= 2 else
                     (0.5, M_("One forecast table version: versions are kept, none to roll back to yet."))
                     if inputs.published_versions == 1 else (0.0, M_("No forecast table version yet."))),
    }
    scores = []
    for check in CHECKS:
        if check.auto:
            score, evidence = auto[check.key]
        else:
            score = float(inputs.readiness.get(check.key, 0.0))
            if score not in SCORES:
                raise DecisionError(M_("A readiness score must be 0, 0.5 or 1 (got {score} for '{check}').",
                                       score=score, check=Msg(check.text)))
            evidence = M_("Scored by the team: {meaning}.", meaning=Msg(SCORE_MEANING[score]))
        scores.append(ReadinessScore(check.key, check.area, Msg(check.text), score, evidence, check.auto))
    return scores


def _batch_evidence(published_versions: int, model: str) -> tuple[float, Text]:
    """The batch check: versions published for the dataset, or why none can be for a
    model made elsewhere (the Hand-off page refuses those, core.handoff.batch)."""
    if is_external(model):
        if published_versions:
            return 0.0, nM_("Mitoshi cannot publish forecasts made elsewhere ({n} version of built-in models is "
                            "published for this dataset): {model}'s must be published from where they were made, or "
                            "choose a built-in model.",
                            "Mitoshi cannot publish forecasts made elsewhere ({n} versions of built-in models are "
                            "published for this dataset): {model}'s must be published from where they were made, or "
                            "choose a built-in model.", "n", n=published_versions, model=Fmt("model_name", model))
        return 0.0, M_("Mitoshi cannot publish forecasts made elsewhere: {model}'s must be published from where they "
                       "were made, or choose a built-in model.", model=Fmt("model_name", model))
    if published_versions:
        return 1.0, nM_("{n} batch forecast version published for this dataset.",
                        "{n} batch forecast versions published for this dataset.", "n", n=published_versions)
    return 0.0, M_("No batch forecast published yet: publish one on the Hand-off page.")


def _baseline_evidence(run: RunEvidence) -> tuple[float, Text]:
    present = [b for b in MODEL_BASELINES if b in set(run.leaderboard[MODEL])]
    if len(present) == len(MODEL_BASELINES):
        return 1.0, M_("The run includes today's practice and seasonal naive.")
    if present:
        return 0.5, M_("The run includes {baseline} only.", baseline=_baseline(present[0]))
    return 0.0, M_("The run has no baseline: add {practice} (with the orders placed today, an orders column in the "
                   "dataset) and {snaive} to the backtest.", practice=Fmt("model_name", "practice"),
                   snaive=Fmt("model_name", "snaive"))


def _significance_evidence(significance: list[dict]) -> tuple[float, Text]:
    if not significance:
        return 0.0, M_("No baseline in the run to test against.")
    good = [s for s in significance if s["significant"]]
    statements = _sentences([s["statement"] for s in significance])
    if len(good) == len(significance):
        return 1.0, statements
    return (0.5 if good else 0.0), statements


def _sentences(parts: Sequence[Text]) -> Text:
    """Sentences one after the other, as a fact (a space between them in English)."""
    parts = list(parts)
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else _then(parts[0], _sentences(parts[1:]))


def _slices_evidence(stability: dict) -> tuple[float, Text]:
    worst = stability.get("worst_segment")
    if not worst:
        return 0.0, M_("No segment-level comparison with a baseline in the run.")
    column, base = stability["segment_column"], _baseline(stability["baseline"])
    if stability["segments_worse"] == 0:
        return 1.0, M_("Every {column} ({segments}) beats {baseline}.", column=column,
                       segments=stability["segments"], baseline=base)
    return 0.5, M_("{worse} of {segments} {column} values are worse than {baseline}; the worst is {group} (WAPE "
                   "{change}).", worse=stability["segments_worse"], segments=stability["segments"], column=column,
                   baseline=base, group=worst["group"], change=Fmt("pct_change", _num(worst["change"])))


RAISE_SAFETY_STOCK = N_("Raise the safety stock (a higher service level) for the items that run out more, publish "
                        "again, and pilot again.")


def _verdict(criteria: list[CriterionResult], significance: list[dict], stability: dict, value: dict,
             overall: float, definition: ProblemDefinition, model: str, readiness: list[ReadinessScore],
             constraints: Sequence[Text] = (), impact: ImpactResult | None = None,
             online: OnlineEvidence | None = None, by_pilot: Sequence[PilotCondition] = ()
             ) -> tuple[str, list[Text], list[Text]]:
    """NO-GO on a failed criterion (the KPI target and the online criteria included),
    money that does not pay, or a condition the offline evidence left to the pilot that
    the finished pilot failed (``by_pilot``: more stockouts than the service constraint
    tolerates); CONDITIONAL GO when something is open — a criterion not evaluated, an
    online criterion waiting for the pilot, a gain not significant or not stable, low
    readiness, a constraint broken, a condition the pilot left open (its savings below the
    running cost or paying back beyond the payback criterion: a condition, not a NO-GO) —
    each written out; GO otherwise. A condition the pilot met is a reason. Reasons and
    steps are facts."""
    online = online or OnlineEvidence()
    name = Fmt("model_name", model)
    pending = [c for c in criteria if c.pending]
    judged = [c for c in criteria if not c.pending]
    failed = [c for c in judged if c.passed is False]
    unknown = [c for c in judged if c.passed is None]
    pilot_failed = [j for j in by_pilot if j.status == pilot.FAILED]
    pilot_open = [j for j in by_pilot if j.status == pilot.OPEN]
    pilot_met = [j for j in by_pilot if j.status == pilot.MET]
    reasons: list[Text] = []
    if judged and len(unknown) == len(judged):
        return NO_GO, [M_("No criterion could be measured, so nothing supports a GO: {criteria}", criteria=_sentences(
            [M_("{criterion} — {evidence}", criterion=c.criterion, evidence=c.evidence) for c in unknown]))], [
            M_("Give what the criteria need (running cost, investment, baselines in the run) and evaluate again.")]
    evaluated = len(judged) - len(unknown)
    passed_text = ((M_("All {n} evaluated criteria passed", n=evaluated) if evaluated else
                    M_("No criterion can be evaluated before the pilot")) if criteria else None)
    money = dict(model=name, savings=Fmt("yen", float(value["yearly_savings"])))
    if value["net_benefit"] is not None and value["payback_months"] is not None:
        money_text = M_("{model} saves {savings} a year, {net} after running costs, paying back in {months}.",
                        net=Fmt("yen", float(value["net_benefit"])),
                        months=Fmt("months", round(value["payback_months"], 1)), **money)
    elif value["net_benefit"] is not None:
        money_text = M_("{model} saves {savings} a year, {net} after running costs.",
                        net=Fmt("yen", float(value["net_benefit"])), **money)
    elif value["payback_months"] is not None:
        money_text = M_("{model} saves {savings} a year, paying back in {months}.",
                        months=Fmt("months", round(value["payback_months"], 1)), **money)
    else:
        money_text = M_("{model} saves {savings} a year.", **money)
    summary = M_("{passed}: {money}", passed=passed_text, money=money_text) if passed_text is not None else money_text
    if pilot_failed and not failed and value["pays"]:
        treated = len(online.treated)
        reasons = [M_("Failed in the pilot: {condition}", condition=j.text) for j in pilot_failed]
        reasons.append(M_("{summary} But the pilot failed a condition the offline evidence left to it, so the verdict "
                          "is NO-GO for {model} at this ordering.", summary=summary, model=name))
        return NO_GO, reasons, [
            nM_("Do not take {model} to production at this ordering, and do not roll out beyond the pilot's {n} "
                "treated store.",
                "Do not take {model} to production at this ordering, and do not roll out beyond the pilot's {n} "
                "treated stores.", "n", model=name, n=treated),
            Msg(RAISE_SAFETY_STOCK)]
    if failed or not value["pays"]:
        reasons += [M_("Failed: {criterion} — {evidence}", criterion=c.criterion, evidence=c.evidence) for c in failed]
        reasons += [M_("Failed in the pilot: {condition}", condition=j.text) for j in pilot_failed]
        acting = _acting(impact, name) if impact is not None else M_("ordering from {model}", model=name)
        against = impact.baseline_label if impact is not None else M_("today's practice")
        if not value["pays"] and impact is not None and model == impact.baseline:
            reasons.append(M_("It does not pay: the savings are measured against {model} itself, so it saves nothing "
                              "by definition. Choose another model to compare with it.", model=name))
        elif not value["pays"] and value["yearly_savings"] < 0:
            reasons.append(M_("It does not pay: {acting} loses {amount} a year against {baseline}.", acting=acting,
                              amount=Fmt("yen", -float(value["yearly_savings"])), baseline=against))
        elif not value["pays"] and value["yearly_savings"] == 0:
            reasons.append(M_("It does not pay: {acting} saves nothing against {baseline}.", acting=acting,
                              baseline=against))
        elif not value["pays"]:
            reasons.append(M_("It does not pay: yearly savings {savings} do not cover the yearly running cost "
                              "{running}.", savings=Fmt("yen", float(value["yearly_savings"])),
                              running=Fmt("yen", _num(value["running_cost"]))))
        steps: list[Text] = [
            M_("Do not take this model to production as it is. Giving up is a valid result of a PoC: the criteria "
               "were fixed up front so that this answer could be trusted."),
            M_("If the gap is small, go back down the ladder: a cheaper rule or statistical model, better features, "
               "or more data (promotions, holidays) — then evaluate again against the same criteria.")
            if impact is not None and impact.money_model == ERRORS else
            M_("If the gap is small, go back down the ladder: a cheaper rule or statistical model, a better "
               "safety-stock policy, or more data (stockouts, promotions) — then evaluate again against the same "
               "criteria.")]
        if pilot_failed:
            steps.append(Msg(RAISE_SAFETY_STOCK))
        return NO_GO, reasons, steps

    conditions: list[Text] = list(constraints) + [j.text for j in pilot_open]
    piloted = pilot.piloted_model(online)
    if online.status != NONE and piloted and piloted != model:  # the pilot's evidence is about another model
        conditions.append(M_("The pilot tested {piloted}'s forecasts, not {model}'s: what it measured is no evidence "
                             "for {model}. Pilot {model}, or decide on {piloted}.",
                             piloted=Fmt("model_name", piloted), model=name))
    conditions += [M_("Not evaluated: {criterion} — {evidence}", criterion=c.criterion, evidence=c.evidence)
                   for c in unknown]
    waiting = pilot.waiting_condition_fact([c.criterion for c in pending], online) if pending else None
    if waiting is not None:
        conditions.append(waiting)
    weak = [s for s in significance if not s["significant"]]
    conditions += [M_("Not significant: {statement}", statement=s["statement"]) for s in weak]
    worst = stability.get("worst_segment")
    if worst and stability["segments_worse"]:
        conditions.append(M_("Not stable everywhere: {worse} of {segments} {column} values are worse than {baseline} "
                             "(worst: {group}, WAPE {change}).", worse=stability["segments_worse"],
                             segments=stability["segments"], column=stability["segment_column"],
                             baseline=_baseline(stability["baseline"]), group=worst["group"],
                             change=Fmt("pct_change", _num(worst["change"]))))
    low_readiness = None
    if overall <= 1:
        low_readiness = M_("Production readiness is low: ML Test Score {score} — {band}.",
                           score=Fmt("number", float(overall), {"digits": 1}), band=score_band_fact(overall))
        conditions.append(low_readiness)
    reasons.append(summary)
    reasons += [M_("Met in the pilot: {condition}", condition=j.text) for j in pilot_met]
    held = bool(pilot_open)  # a finished pilot left a condition open: no rollout yet
    pilot_step = pilot.pilot_step_fact(online, user_fact(definition.online_plan), held=held)
    if conditions:
        open_checks = [r for r in readiness if r.score < 1 and not r.auto]
        lowest = min(AREAS, key=lambda a: sum(r.score for r in readiness if r.area == a))
        readiness_steps: list[Text] = ([M_(
            "Raise the lowest readiness area ({area}) first: {checks} Then evaluate again: the decision is a "
            "snapshot.", area=Msg(lowest), checks=_sentences([r.text for r in open_checks if r.area == lowest]))]
            if overall <= 1 else [])
        steps = [M_("Close the conditions first: {condition}", condition=c) for c in conditions
                 if c is not low_readiness and c is not waiting]
        publish = (M_("Publish the forecasts as a batch table on the Hand-off page for the rollout.")
                   if pilot.finished(online) else
                   M_("Publish the forecasts as a batch table on the Hand-off page for the pilot."))
        steps = steps + readiness_steps + ([] if pilot.interim(online) or held else [publish]) + [pilot_step]
        return CONDITIONAL_GO, reasons + conditions, steps
    steps = [M_("Publish the chosen model's forecasts as a batch table (Hand-off page) for the ordering system."),
             pilot_step]
    if not pilot.finished(online):
        steps.append(M_("Decide again after the online evaluation, on the same criteria."))
    return GO, reasons, steps


def _risks(inputs: DecisionInputs, model: str, impact: ImpactResult, stability: dict,
           broken: Sequence[str] = (), pick: LadderPick | None = None) -> list[Text]:
    """What could make the evidence wrong or the production run different, in words kept
    as facts (``broken``: the constraints the reconciliation found broken, said there
    instead; ``pick``: the ladder's pick when the verdict took it, None for a model chosen)."""
    risks: list[Text] = []
    run = inputs.run
    name = Fmt("model_name", model)
    censoring = impact.censoring
    if censoring.recorded and censoring.share_of_days > 0.05 and impact.money_model == SHELF:
        risks.append(M_("Sales are censored on {share} of the periods simulated; lost sales rest on an estimate of "
                        "demand on those periods.", share=Fmt("pct", float(censoring.share_of_days), {"digits": 0})))
    if not censoring.recorded and impact.money_model == SHELF:
        risks.append(M_("Stockouts are not recorded: lost sales are undercounted for every policy."))
    if run.generated_data:
        risks.append(M_("The data is the generated demo chain: nothing here is a real shop's sales."))
    chosen, base = impact.row(model), impact.row(impact.baseline)
    more = _num(chosen.get("stockout_rate")), _num(base.get("stockout_rate"))
    if "service" not in broken and None not in more and more[0] > more[1] + SERVICE_SLACK:
        risks.append(M_("{acting} runs out more often than {baseline} ({mine} of {periods} against {base}, {change}; "
                        "demand filled {filled} against {base_filled}): it saves on waste and accepts more empty "
                        "shelves, which customers notice.", acting=_acting(impact, name, start=True),
                        baseline=impact.baseline_label, mine=Fmt("pct", more[0]), periods=_periods(impact.freq),
                        base=Fmt("pct", more[1]), change=Fmt("pp", more[0] - more[1]),
                        filled=Fmt("pct", _num(chosen["fill_rate"])), base_filled=Fmt("pct", _num(base["fill_rate"]))))
    risks += _concentration(model, impact)
    risks += _unaccounted(model, run)
    if run.exog_known and MODELS.get(model) is not None and model_reads_exog(model):
        risks.append(M_("The backtest gave {model} the known-in-advance column(s) {columns}; their future values are "
                        "not in the warehouse, so the published batch forecasts are made without them and may be "
                        "less accurate than measured here. Feed planned prices and promotions to production.",
                        model=name, columns=", ".join(run.exog_known)))
    if pick is not None:
        risks.append(_selection_risk(name, pick))
    cheaper = cheaper_alternative(model, run.leaderboard, impact)
    if cheaper is not None:
        risks.append(cheaper_rung_fact(name, cheaper, impact.money_model))
    rung = run.leaderboard.set_index(MODEL).get("rung", pd.Series(dtype=str)).get(model, "")
    if rung == "GBDT":
        risks.append(M_("A GBDT model needs retraining, feature pipelines and monitoring: more running cost and more "
                        "ways to break than a rule."))
    if is_external(model):
        risks.append(M_("{model} was made elsewhere: Mitoshi cannot check that its forecasts did not look ahead (use "
                        "data after a cutoff) — only its maker can — and cannot re-fit it: production needs its "
                        "maker's pipeline, and the effort they stated.", model=name))
    if run.folds < 3:
        risks.append(nM_("Only {n} fold of evidence: results may depend on the season tested.",
                         "Only {n} folds of evidence: results may depend on the season tested.", "n", n=run.folds))
    if impact.chain_scale > 1.0001:
        risks.append(M_("The run covers part of the dataset; money is scaled by {scale}× to the whole.",
                        scale=Fmt("number", float(impact.chain_scale), {"digits": 2})))
    return risks


def _selection_risk(name: Text, pick: LadderPick) -> Msg:
    """The risk of choosing on the very folds the figures are quoted from, by the rule
    that chose."""
    if pick.kind == RICHEST:
        return M_("{model} was chosen as the one that saves the most, on the same folds its savings are quoted from: "
                  "expect a little less in production, and check it in the online evaluation.", model=name)
    return M_("{model} was chosen by the ladder ({rule}), on the same folds its scores and savings are quoted from: a "
              "model that only just meets a criterion here may miss it in production; check it in the online "
              "evaluation.", model=name, rule=pick.rule)


def _unaccounted(model: str, run: RunEvidence) -> list[Text]:
    """Series the evidence says nothing about, and series the chosen model did not forecast itself."""
    out: list[Text] = []
    if run.n_scored is not None and run.n_scored < run.n_series:
        out.append(M_("{missing:,} of the {n:,} series in the run were never scored (see the series accounted for): "
                      "the evidence says nothing about them.", missing=int(run.n_series - run.n_scored),
                      n=int(run.n_series)))
    mine = run.fallbacks[run.fallbacks[MODEL] == model]
    if not mine.empty:
        how = _series_of([M_("{n:,} to {rule} ({reason})", n=int(part[SERIES_ID].nunique()),
                             rule=accounting.rule_fact(rule), reason=accounting.reason_fact(reason))
                          for (rule, reason), part in mine.groupby([accounting.RULE, accounting.REASON])])
        out.append(M_("{model} did not forecast every series itself: it fell back for {how}. Its scores and savings "
                      "on those series are the rule's; production needs the same fallback.",
                      model=Fmt("model_name", model), how=how))
    return out


def _series_of(items: list[Text]) -> Text:
    """Items one after another with a semicolon between them (``a; b; c``), as a fact."""
    if len(items) <= 1:
        return items[0] if items else ""
    return M_("{first}; {rest}", first=items[0], rest=_series_of(items[1:]))


RUNG_ORDER = tuple(r.value for r in Rung)  # the ladder, cheapest first


def model_reads_exog(alias: str) -> bool:
    """Whether a built-in model reads the known-in-advance columns; False for forecasts
    made elsewhere (Mitoshi does not know what they read) and an alias no model has."""
    cls = None if is_external(alias) else MODELS.get(alias)
    return cls is not None and cls().reads_exog_known()


MATERIAL = 0.001  # savings below 0.1 % of yearly sales are too small to split into shares


def _concentration(model: str, impact: ImpactResult) -> list[Text]:
    """Where the savings come from, by the last attribute (category). Shares are given
    only where they mean something: every group gains and the total is material (at
    least 0.1 % of yearly sales). Groups that lose are named when they are a few — keep
    the baseline for those (order them as today, where today's orders are recorded);
    when most groups lose it is the model that falls short, and the sentence says so
    instead of advising exceptions. Worded for the model of money (ordering from a
    model, or forecasting with it), as facts."""
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
    name, against = Fmt("model_name", model), impact.baseline_label
    out: list[Text] = []
    top = part.iloc[0]
    if losing.empty and material and top["yearly_savings"] >= 0.5 * total:
        out.append(M_("The savings are concentrated: {group} gives {amount} of {total} a year ({share}).",
                      group=str(top["group"]), amount=Fmt("yen", float(top["yearly_savings"])),
                      total=Fmt("yen", total),
                      share=Fmt("pct", float(top["yearly_savings"]) / total, {"digits": 0})))
    if losing.empty:
        return out
    lost, gained = float(-losing["yearly_savings"].sum()), float(gaining["yearly_savings"].sum())
    if len(losing) * 2 > len(part):
        others = len(part) - len(losing)
        values = dict(acting=_acting(impact, name, start=True), baseline=against, losing=len(losing),
                      total=len(part), column=column, lost=Fmt("yen", lost),
                      keep=_keep(impact, "some of them", gerund=True))
        if not others:
            out.append(M_("{acting} loses against {baseline} in {losing} of {total} {column} values ({lost} a year "
                          "together): it is the model that falls short, not a few {column} values, so {keep} would "
                          "not fix it.", **values))
        elif others == 1:
            out.append(M_("{acting} loses against {baseline} in {losing} of {total} {column} values ({lost} a year "
                          "together; the other one gains {gained}): it is the model that falls short, not a few "
                          "{column} values, so {keep} would not fix it.", gained=Fmt("yen", gained), **values))
        else:
            out.append(M_("{acting} loses against {baseline} in {losing} of {total} {column} values ({lost} a year "
                          "together; the other {others} gain {gained}): it is the model that falls short, not a few "
                          "{column} values, so {keep} would not fix it.", others=others, gained=Fmt("yen", gained),
                          **values))
    else:
        named = _list_of([M_("{group} loses {amount}", group=str(r.group), amount=Fmt("yen", float(-r.yearly_savings)))
                          for r in losing.itertuples()])
        out.append(M_("By {column}, {named} a year against {baseline} ({losing} of {total}; the others gain "
                      "{gained}): consider {keep}.", column=column, named=named, baseline=against,
                      losing=len(losing), total=len(part), gained=Fmt("yen", gained),
                      keep=_keep(impact, "it" if len(losing) == 1 else "those", gerund=True)))
    return out


def _list_of(items: list[Text]) -> Text:
    """Items one after another with a comma between them (``a, b, c``), as a fact."""
    if len(items) <= 1:
        return items[0] if items else ""
    return M_("{first}, {rest}", first=items[0], rest=_list_of(items[1:]))


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


def cheaper_rung_fact(name: Text, cheaper: dict, money_model: str) -> Msg:
    """The risk sentence for a cheaper rung found by ``cheaper_alternative`` (``name``:
    the chosen model, its display name or ``Fmt("model_name", alias)``), as a fact. When
    the chosen model saves less than the cheaper rung — its extra is zero or negative —
    the sentence says plainly to take the cheaper one rather than speak of a negative gain."""
    values = dict(model=name, other=Fmt("model_name", cheaper["model"]), rung=_rung(cheaper["rung"]),
                  savings=Fmt("yen", float(cheaper["yearly_savings"])))
    if cheaper["extra"] <= 0:
        mine = Fmt("yen", float(cheaper["yearly_savings"] + cheaper["extra"]))
        if cheaper["extra"] < 0:
            return M_("{other} ({rung}), a cheaper rung, saves {more} a year more than {model} ({savings} against "
                      "{mine}): take {other} unless {model} brings something this money does not count.",
                      more=Fmt("yen", -float(cheaper["extra"])), mine=mine, **values)
        return M_("{other} ({rung}), a cheaper rung, saves as much as {model} ({savings} against {mine}): take {other} "
                  "unless {model} brings something this money does not count.", mine=mine, **values)
    values.update(extra=Fmt("yen", float(cheaper["extra"])), share=Fmt("pct", float(cheaper["extra_share"])))
    if money_model == ERRORS:
        return M_("A cheaper rung does much of the work: {other} ({rung}) already saves {savings} a year, and {model} "
                  "adds {extra} ({share}) over it. The cheapest rung that is good enough wins: weigh that gain "
                  "against what running {model} costs more than {other}.", **values)
    return M_("The ordering policy does much of the work: {other} ({rung}) already saves {savings} a year, and "
              "{model} adds {extra} ({share}) over it. The cheapest rung that is good enough wins: weigh that gain "
              "against what running {model} costs more than {other}.", **values)


def cheaper_rung_risk(name: str, cheaper: dict, money_model: str) -> str:
    """``cheaper_rung_fact`` in the current language."""
    return render(cheaper_rung_fact(name, cheaper, money_model))


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
