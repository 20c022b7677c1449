"""Settings typed once are the project's: the money impact's settings (table
``project_settings`` of migration 8), stored with a project so that the Money, Report
and Hand-off pages all start from what was typed on any of them, in any session."""

from __future__ import annotations

import json
from datetime import datetime

from core.errors import WarehouseError
from core.impact import ImpactConfig, ImpactInputError
from core.warehouse.store import Warehouse

IMPACT = "impact"  # the row holding a project's ImpactConfig


def save_impact_settings(warehouse: Warehouse, project_id: str, config: ImpactConfig) -> None:
    """Store ``config`` (prices, costs, shelf life, holding, censoring, cost of errors,
    service level) as the project's money settings, replacing the previous ones."""
    if not project_id:
        raise WarehouseError("Money settings belong to a project: choose or create one first.")
    value = json.dumps(config.to_dict(), sort_keys=True)
    with warehouse.transaction() as cur:
        cur.execute("INSERT OR REPLACE INTO project_settings VALUES (?, ?, ?, ?)",
                    [project_id, IMPACT, value, datetime.now()])


def load_impact_settings(warehouse: Warehouse, project_id: str | None) -> ImpactConfig | None:
    """The project's stored money settings; None when none were saved, or when those
    saved can no longer be read (an older layout): the pages then start from defaults."""
    if not project_id:
        return None
    rows = warehouse.query("SELECT value FROM project_settings WHERE project_id = ? AND name = ?",
                           [project_id, IMPACT])
    if rows.empty:
        return None
    try:
        return ImpactConfig.from_dict(json.loads(rows["value"].iloc[0]))
    except (ImpactInputError, ValueError):
        return None
