"""Making a report and reading one back: ``make_report`` snapshots what the warehouse
holds now and stores it as the next version; ``report_document`` turns a stored report
into the ``core.paper.report.Report`` the page shows and the PDF prints; ``report_pdf``
prints it."""

from __future__ import annotations

import json
from contextlib import nullcontext

from core.errors import MitoshiError
from core.i18n import M_, _, using
from core.paper import report as paper_report
from core.paper.pdf import moment
from core.paper.store import StoredReport, latest_report, save_report
from core.planning import texts
from core.reports.kinds import KINDS, ReportKind
from core.warehouse.store import Warehouse


def kind_of(key: str) -> ReportKind:
    """The kind named ``key``; ``MitoshiError`` naming the known ones otherwise."""
    try:
        return KINDS[key]
    except KeyError:
        raise MitoshiError(M_("There is no report '{kind}'. Choose one of: {kinds}.", kind=key,
                              kinds=", ".join(KINDS))) from None


def code_version() -> str:
    from core.backtest.engine import code_version as version
    return version()


def make_report(warehouse: Warehouse, kind: str, project_id: str, options: dict | None = None) -> StoredReport:
    """Snapshot the project's ``kind`` report now and store it as its next version (one
    transaction); when nothing it shows or is made from changed since the newest version,
    that version is returned instead of a copy of it. Raises ``MitoshiError`` when what the
    report needs is missing."""
    spec = kind_of(kind)
    made_from, shot = spec.snapshot(warehouse, project_id, dict(options or {}))
    # the project's name as stored (the example's is a fixed text, shown in the reader's language)
    made_from = {**made_from, "project": texts.stored(made_from.get("project", ""), texts.PROJECT),
                 "code_version": code_version()}
    newest = latest_report(warehouse, project_id, kind)
    if newest is not None and (newest.made_from, newest.snapshot) == _as_stored(made_from, shot):
        return newest
    return save_report(warehouse, project_id, kind, made_from, shot)


def _as_stored(made_from: dict, shot: dict) -> tuple[dict, dict]:
    """What the table would give back for these (tuples as lists, keys as text)."""
    return json.loads(json.dumps(made_from, ensure_ascii=False)), json.loads(json.dumps(shot, ensure_ascii=False))


# What a report was made from, in the order people read it: the keys a kind may set (the project is
# the report's title).
MADE_FROM = ("definition_version", "runs", "dataset", "dataset_fingerprint", "pilot", "code_version")


def _made_from(stored: StoredReport) -> tuple[tuple[str, str], ...]:
    made = stored.made_from
    labels = {"definition_version": _("Problem definition"), "runs": _("Backtest runs"),
              "dataset": _("Dataset"), "dataset_fingerprint": _("Data fingerprint"), "pilot": _("Pilot"),
              "code_version": _("Code")}
    pairs: list[tuple[str, str]] = []
    for key in MADE_FROM:
        value = made.get(key)
        if value in (None, "", []):
            continue
        if key == "definition_version":
            when = made.get("definition_saved_at")
            value = _("version {version}").format(version=value) + (
                _(" of {when}").format(when=moment(when)) if when else "")
        elif key == "runs":
            value = "\n".join(f"{run.get('name', '')}  ·  {run.get('id', '')}" for run in value)
        pairs.append((labels[key], str(value)))
    pairs.append((_("Made"), _("{when}  ·  {kind} version {version}  ·  report {report}").format(
        when=moment(stored.created_at.isoformat()), kind=_(kind_of(stored.kind).title), version=stored.version,
        report=stored.report_id)))
    return tuple(pairs)


def report_document(stored: StoredReport) -> paper_report.Report:
    """The stored report as sections in the current language."""
    spec = kind_of(stored.kind)
    subtitle, sections = spec.sections(stored.snapshot, stored.made_from)
    return paper_report.Report(
        kind=_(spec.title), title=str(texts.shown(stored.made_from.get("project", ""), texts.PROJECT)),
        subtitle=subtitle,
        made_from=_made_from(stored), reference=_("{kind} v{version} · report {report}").format(
            kind=_(spec.title), version=stored.version, report=stored.report_id),
        created_at=stored.created_at.isoformat(timespec="seconds"), sections=tuple(sections))


def report_pdf(stored: StoredReport, language_code: str | None = None) -> bytes:
    """The stored report as an A4 PDF in ``language_code`` (default: the current language)."""
    with using(language_code) if language_code else nullcontext():
        return paper_report.report_pdf(report_document(stored))


def file_name(stored: StoredReport, language_code: str) -> str:
    """``mitoshi-problem-v3-2026-12-01.pdf`` (``-ja`` before ``.pdf`` in Japanese)."""
    return (f"mitoshi-{stored.kind}-v{stored.version}-{stored.created_at.date().isoformat()}"
            f"{'' if language_code == 'en' else '-' + language_code}.pdf")

