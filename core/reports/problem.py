"""The problem definition report: the talk's 課題定義 and やらないこと on one A4 page, in
the manner of an ML canvas (Louis Dorard's Machine Learning Canvas: https://www.ownml.co/machine-learning-canvas):
the problem, the decision it supports, the KPI today and its target, the value and how
it was estimated, the constraints, what we will not do, the data, the evaluation plan,
then the GO/NO-GO criteria fixed up front.

The snapshot keeps the definition's latest version as stored (``core.planning``: texts
as originals and facts), so the report reads in either language."""

from __future__ import annotations

from core import fmt
from core.errors import MitoshiError
from core.i18n import M_, _
from core.paper.report import Canvas, Heading, Paragraph, Section, Table, share_widths
from core.planning import definition as definitions
from core.planning import store as planning
from core.planning.criteria import METRICS, criteria_to_json
from core.warehouse.store import Warehouse


def snapshot(warehouse: Warehouse, project_id: str, options: dict) -> tuple[dict, dict]:
    """(made_from, snapshot) of the project's latest problem definition. Raises
    ``MitoshiError`` when none was saved yet."""
    project = planning.get_project(warehouse, project_id)
    latest = planning.stored_latest_definition(warehouse, project_id)
    if latest is None:
        raise MitoshiError(M_("The project '{project}' has no problem definition yet: write and save one on the "
                              "Problem definition page first.", project=project.name))
    made_from = {"project": project.name, "definition_version": latest.version,
                 "definition_saved_at": latest.saved_at.isoformat(timespec="seconds")}
    shot = {"content": definitions.content_to_json(latest.definition),
            "criteria": criteria_to_json(latest.definition.criteria)}
    return made_from, shot


def sections(shot: dict, made_from: dict) -> tuple[str, tuple[Section, ...]]:
    """(subtitle, sections) of the report in the current language."""
    d = definitions.shown_definition(definitions.definition_from_json(shot["content"], shot["criteria"]))
    label = definitions.LABELS.__getitem__

    def show(field: str) -> str:
        value = getattr(d, field)
        return "" if value in (None, "", ()) else definitions.display(field, value)

    def lines(*parts: tuple[str, str]) -> str:
        return "\n".join(f"{name}: {value}" for name, value in parts if value)

    kpi = d.kpi_name or _("not set")
    unit = f" {d.kpi_unit}" if d.kpi_unit else ""
    today = show("kpi_current") + unit if d.kpi_current is not None else _("not measured")
    target = show("kpi_target") + unit if d.kpi_target is not None else _("not set")
    boxes = (
        (label("problem"), d.problem),
        (label("decision"), "\n".join(part for part in (d.decision, lines((label("processes"), ", ".join(
            show("processes").split("\n")))) if d.processes else "") if part)),
        (_("KPI: today → target"), _("{kpi}: {today} → {target}").format(kpi=kpi, today=today, target=target)),
        (_("Value"), lines((_("per year"), show("value_yen_per_year")), (_("how estimated"), show("value_estimate")),
                           (_("running cost a year"), show("running_cost_yen_per_year")),
                           (_("initial investment"), show("investment_yen")))),
        (_("Constraints"), lines((label("people"), d.people), (label("timeline"), d.timeline),
                                 (label("budget_yen"), show("budget_yen")))),
        (label("out_of_scope"), "\n".join(f"• {item}" for item in (show("out_of_scope").split("\n")
                                                                   if d.out_of_scope else ())) or _("Not written.")),
        (label("data_sources"), "\n".join(f"• {item}" for item in (show("data_sources").split("\n")
                                                                   if d.data_sources else ())) or _("Not written.")),
        (_("Evaluation plan"), lines(
            (label("offline_metric"), METRICS[d.offline_metric].label if d.offline_metric in METRICS else ""),
            (label("offline_method"), d.offline_method), (label("online_plan"), d.online_plan))),
    )
    rows = tuple((str(i), c.describe(), c.description or "") for i, c in enumerate(d.criteria, start=1))
    subtitle = _("Problem definition, version {version} of {when}").format(
        version=made_from.get("definition_version"), when=fmt.date(made_from.get("definition_saved_at", "")[:10]))
    return subtitle, (
        Canvas(tuple((title, text) for title, text in boxes), columns=2),
        Heading(_("GO / NO-GO criteria, fixed up front"), keep=20),
        Table((_("#"), _("criterion"), _("why")), rows, share_widths(0.5, 6, 4), empty=_(
            "No criterion fixed yet: the decision will have nothing to be judged against.")),
        Paragraph(_("Fixed before any model runs: the GO / NO-GO report judges the chosen model against these, "
                    "as they stood when the decision was taken."), muted=True),
    )
