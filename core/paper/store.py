"""Stored reports (table ``reports``, migration 13): a snapshot per report, numbered per
project and kind (version 1, 2, …), with what it was made from and when. Shared ground:
the reports (``core.reports``) write them, and the decision names those it rests on.

A stored report never changes: a report made again is a new version, so a PDF passed
around at a meeting can always be traced to the snapshot it printed (its id and version
are in every page's footer)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from core.errors import WarehouseError
from core.i18n import M_, N_
from core.warehouse.store import Warehouse


# The kinds of report, as people name them (``core.reports.kinds`` makes them).
TITLES = {"problem": N_("Problem definition"), "effort-impact": N_("Effort / impact"),
          "backtest": N_("Backtest comparison"), "pilot": N_("Pilot readout")}


class ReportNotFoundError(WarehouseError):
    pass


@dataclass(frozen=True)
class StoredReport:
    report_id: str
    project_id: str
    kind: str
    version: int
    created_at: datetime
    made_from: dict  # project, definition version, run ids, dataset fingerprint, code version…
    snapshot: dict  # what the report shows, in no language

    @property
    def reference(self) -> str:
        """``report 3f2a… v2``: how a printed page names its snapshot."""
        return f"{self.kind} v{self.version} · {self.report_id}"


def _row(row) -> StoredReport:
    return StoredReport(row["report_id"], row["project_id"], row["kind"], int(row["version"]),
                        row["created_at"].to_pydatetime() if hasattr(row["created_at"], "to_pydatetime")
                        else row["created_at"], json.loads(row["made_from"]), json.loads(row["snapshot"]))


def save_report(warehouse: Warehouse, project_id: str, kind: str, made_from: dict, snapshot: dict) -> StoredReport:
    """Store a new version of the project's ``kind`` report; ``made_from`` and ``snapshot``
    must be JSON (``TypeError`` otherwise, before anything is written)."""
    made, shot = json.dumps(made_from, ensure_ascii=False, sort_keys=True), json.dumps(snapshot, ensure_ascii=False)
    report_id = uuid.uuid4().hex[:12]
    with warehouse.transaction() as cur:
        version = cur.execute("SELECT coalesce(max(version), 0) + 1 FROM reports WHERE project_id = ? AND kind = ?",
                              [project_id, kind]).fetchone()[0]
        cur.execute("INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [report_id, project_id, kind, version, datetime.now(), made, shot])
    return get_report(warehouse, report_id)


def get_report(warehouse: Warehouse, report_id: str) -> StoredReport:
    rows = warehouse.query("SELECT * FROM reports WHERE report_id = ?", [report_id])
    if rows.empty:
        raise ReportNotFoundError(M_("No report {report} in this warehouse.", report=report_id))
    return _row(rows.iloc[0])


def latest_report(warehouse: Warehouse, project_id: str, kind: str) -> StoredReport | None:
    """The project's newest ``kind`` report, or None."""
    rows = warehouse.query("SELECT * FROM reports WHERE project_id = ? AND kind = ? ORDER BY version DESC LIMIT 1",
                           [project_id, kind])
    return None if rows.empty else _row(rows.iloc[0])


def list_reports(warehouse: Warehouse, project_id: str) -> list[StoredReport]:
    """The project's reports, newest first."""
    rows = warehouse.query("SELECT * FROM reports WHERE project_id = ? ORDER BY created_at DESC, version DESC",
                           [project_id])
    return [_row(row) for _, row in rows.iterrows()]


def latest_reports(warehouse: Warehouse, project_id: str) -> list[StoredReport]:
    """The project's newest report of each kind, in ``TITLES``' order (kinds never made left out)."""
    newest = {r.kind: r for r in reversed(list_reports(warehouse, project_id))}
    return [newest[kind] for kind in [*TITLES, *sorted(set(newest) - set(TITLES))] if kind in newest]

