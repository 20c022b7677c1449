"""From the warehouse to a decision: a stored run's evidence and money impact (from
``core.money.run_impact``), and the GO / NO-GO evaluation of a project's criteria against
them, saved as a snapshot.

The pure parts live in ``core.money.impact`` and ``core.decision.verdict``; this module only reads
what they need from the warehouse and writes the result back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import pandas as pd

from core.backtest import external
from core.backtest import store as runs
from core.backtest.engine import BacktestResult, ModelTiming
from core.decision import store as decisions
from core.decision.verdict import (
    Decision,
    DecisionError,
    DecisionInputs,
    LadderPick,
    evaluate_decision,
    ladder_pick,
    run_evidence,
    tested_models,
)
from core.forecast.registry import MODELS, is_external, model_info
from core.i18n import M_, SOURCE, Msg, _, render, using
from core.money.impact import ImpactConfig, ImpactResult, Progress
from core.money.run_impact import run_impact
from core.paper import store as paper_store
from core.pilot import store as pilots
from core.pilot.evidence import OnlineEvidence
from core.planning import store as planning
from core.warehouse import Warehouse


def run_leaderboard(warehouse: Warehouse, run_id: str) -> pd.DataFrame:
    """A stored run's overall metrics, one row per model with its rung (the leaderboard
    the decision reads, without loading the run's forecasts)."""
    overall = runs.run_metrics(warehouse, run_id, "overall")
    if overall.empty:
        return pd.DataFrame(columns=["model", "rung"])
    board = overall.pivot(index="model", columns="metric", values="value")
    board["rung"] = [model_info(m).rung.value if m in MODELS or is_external(m) else "" for m in board.index]
    return board.reset_index().sort_values("wape" if "wape" in board else "model")


def recommended_model(warehouse: Warehouse, project_id: str, run_id: str, impact: ImpactResult) -> LadderPick:
    """The model the verdict takes when none is chosen — ``core.decision.ladder_pick`` on
    the project's latest definition, the run's leaderboard and ``impact`` (which must be
    computed with the settings the decision will use). Raises ``DecisionError`` when the
    project has no definition or the run no model besides today's practice."""
    latest = planning.latest_definition(warehouse, project_id)
    if latest is None:
        raise DecisionError(M_("The project has no problem definition yet: write one on the Problem definition "
                               "page."))
    return ladder_pick(impact, run_leaderboard(warehouse, run_id), latest.definition)


def criteria_moved(warehouse: Warehouse, project_id: str, run: runs.RunInfo) -> Msg | None:
    """A sentence (a fact: ``str()`` reads it) when the criteria in force at the run's
    creation differ from the latest ones: the goalposts moved after the results could be
    seen."""
    history = planning.definition_history(warehouse, project_id)
    earlier = [v for v in history if v.saved_at <= run.created_at]
    if not earlier or not history or earlier[-1].definition.criteria == history[-1].definition.criteria:
        return None
    return M_("The GO/NO-GO criteria were changed after the run was made (version {before} → {after}): were they "
              "moved once its results were known?", before=earlier[-1].version, after=history[-1].version)


def _stored_result(warehouse: Warehouse, run_id: str) -> BacktestResult:
    """The stored run as the decision reads it: ``runs.load_result`` without its forecasts
    (``decide`` reads those it needs) nor its metrics per series, which no part of the
    decision reads (a national chain's run holds millions: ``runs.run_view`` leaves them out)."""
    view = runs.run_view(warehouse, run_id)
    info = view.info
    return BacktestResult(
        config=info.config, data_name=info.dataset_name, dataset_id=info.dataset_id, fingerprint=info.fingerprint,
        code_version=info.code_version, freq=info.freq, n_series=info.n_series, forecasts=pd.DataFrame(),
        metrics=view.metrics,
        timings=tuple(ModelTiming(r.model, pd.Timestamp(r.cutoff), float(r.seconds), int(r.series))
                      for r in view.timings.itertuples()),
        cutoffs=runs.run_cutoffs(warehouse, run_id), wall_seconds=info.wall_seconds,
        scope={k: tuple(v) for k, v in info.scope.items()}, excluded=runs.run_excluded(warehouse, run_id),
        fallbacks=runs.run_fallbacks(warehouse, run_id), data_end=info.data_end)


def _generated(source: object) -> bool:
    """Whether a dataset's source (text, or a message kept as facts) says it was generated
    (the demo chain's "generated: AI Shop demo …"), read in English as it was written."""
    with using(SOURCE):
        return render(source).startswith("generated")


def decide(
    warehouse: Warehouse,
    project_id: str,
    run_id: str,
    config: ImpactConfig = ImpactConfig(),
    model: str | None = None,
    readiness: Mapping[str, float] | None = None,
    notes: str = "",
    risks: Sequence[str] = (),
    on_progress: Progress | None = None,
    online: OnlineEvidence | None = None,
) -> Decision:
    """Evaluate the project's latest criteria against a run and the project's online
    evidence (``online``; by default the project's latest pilot, designed or read out, as
    ``core.pilot.store.online_evidence`` reads it), and store the decision."""
    report = on_progress or (lambda share, text: None)
    project = planning.get_project(warehouse, project_id)
    latest = planning.latest_definition(warehouse, project_id)
    if latest is None:
        raise DecisionError(M_("Project '{name}' has no problem definition yet: write one, with its GO/NO-GO "
                               "criteria, on the Problem definition page before evaluating a run.", name=project.name))
    report(0.0, _("Reading the run"))
    impact = run_impact(warehouse, run_id, config, on_progress=lambda share, text: report(0.05 + 0.75 * share, text))
    report(0.85, _("Testing significance and stability"))
    dataset = impact.dataset
    evidence = run_evidence(impact.run, _stored_result(warehouse, run_id),
                            has_stockouts=impact.data.stockout is not None, generated=_generated(dataset.spec.source),
                            exog_known=impact.data.exog_known)
    stated = external.effort_weeks(warehouse, run_id)
    if stated:  # forecasts made elsewhere: the effort their maker stated is their cost on the decision's ladder
        evidence.leaderboard["effort_weeks"] = evidence.leaderboard["model"].map(stated)
    # The significance tests read the forecasts of the model the verdict takes and of its baselines: those the money
    # read, or only theirs when the money was kept with the run.
    forecasts = impact.forecasts
    if forecasts is None:
        chosen = model or ladder_pick(impact.impact, evidence.leaderboard, latest.definition).model
        forecasts = runs.run_forecast_rows(warehouse, run_id, tested_models(chosen))
    evidence = replace(evidence, forecasts=forecasts)
    moved = criteria_moved(warehouse, project_id, impact.run)
    decision = evaluate_decision(DecisionInputs(
        project_id=project_id, project_name=project.name, definition_version=latest.version,
        definition=latest.definition, run=evidence, impact=impact.impact, model=model,
        readiness=dict(readiness or {}), published_versions=decisions.published_versions(warehouse, dataset.dataset_id),
        notes=notes, risks=[*([moved] if moved else []), *risks],
        online=online if online is not None else pilots.online_evidence(warehouse, project_id)))
    decision = replace(decision, reports=[
        {"kind": r.kind, "version": r.version, "report_id": r.report_id,
         "created_at": r.created_at.isoformat(timespec="seconds")} for r in paper_store.latest_reports(warehouse, project_id)])
    report(0.95, _("Saving the decision"))
    decisions.save_decision(warehouse, decision)
    return decision
