"""GO / NO-GO decisions in the warehouse: immutable snapshots (table ``decisions`` of
migration 5). There is no update: a new evaluation is a new decision, and the
history of a project's decisions is the list of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.decision.verdict import Decision
from core.errors import WarehouseError
from core.i18n import M_
from core.warehouse.store import Warehouse


@dataclass(frozen=True)
class DecisionInfo:
    decision_id: str
    project_id: str
    run_id: str
    verdict: str
    created_at: datetime


def save_decision(warehouse: Warehouse, decision: Decision) -> str:
    with warehouse.transaction() as cur:
        cur.execute("INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?)",
                    [decision.decision_id, decision.project_id, decision.run_id, decision.verdict,
                     datetime.fromisoformat(decision.created_at), decision.to_json()])
    return decision.decision_id


def get_decision(warehouse: Warehouse, decision_id: str) -> Decision:
    rows = warehouse.query("SELECT snapshot FROM decisions WHERE decision_id = ?", [decision_id])
    if rows.empty:
        raise WarehouseError(M_("No decision with id '{decision_id}'.", decision_id=decision_id))
    return Decision.from_json(rows["snapshot"].iloc[0])


def list_decisions(warehouse: Warehouse, project_id: str | None = None) -> list[DecisionInfo]:
    """Newest first (two taken in the same second: the later inserted first); all projects' when
    ``project_id`` is None."""
    where, params = ("WHERE project_id = ?", [project_id]) if project_id else ("", [])
    rows = warehouse.query(f"SELECT decision_id, project_id, run_id, verdict, created_at FROM decisions {where} "
                           "ORDER BY created_at DESC, rowid DESC", params)
    return [DecisionInfo(r.decision_id, r.project_id, r.run_id, r.verdict, pd.Timestamp(r.created_at).to_pydatetime())
            for r in rows.itertuples()]


def published_versions(warehouse: Warehouse, dataset_id: str | None) -> int:
    """How many batch forecast versions were published for a dataset."""
    if dataset_id is None:
        return 0
    rows = warehouse.query("SELECT count(*) AS n FROM forecast_batches WHERE dataset_id = ?", [dataset_id])
    return int(rows["n"].iloc[0])
