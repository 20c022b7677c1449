"""Settings typed once are the project's, for one dataset: the money impact's settings
(table ``project_settings`` of migration 8), stored with a project and the dataset they
were typed for, so that the Money, Report and Hand-off pages all start from what was
typed on any of them, in any session — and a unit's value typed for monthly turnover
is never used for another dataset's unit sales.

Rows are keyed by (project_id, name) with name ``impact:<dataset_id>``; a row named
``impact`` (stored before settings were per dataset) is the project's own, read only
where no dataset is named."""

from __future__ import annotations

import json
from datetime import datetime

from core.errors import WarehouseError
from core.i18n import M_
from core.money.impact import ImpactConfig, ImpactInputError
from core.warehouse.store import Warehouse

IMPACT = "impact"  # the row holding a project's ImpactConfig (with ":<dataset_id>" for a dataset's)


def settings_name(dataset_id: str | None) -> str:
    """The ``name`` of the row holding the money settings for ``dataset_id`` (the
    project's own row, ``impact``, when None)."""
    return IMPACT if not dataset_id else f"{IMPACT}:{dataset_id}"


def save_impact_settings(warehouse: Warehouse, project_id: str, config: ImpactConfig,
                         dataset_id: str | None = None) -> None:
    """Store ``config`` (prices, costs, shelf life, holding, censoring, cost of errors,
    service level, ordering rule) as the project's money settings for ``dataset_id``, replacing the
    previous ones for that dataset. Raises ``WarehouseError`` without a project."""
    if not project_id:
        raise WarehouseError(M_("Money settings belong to a project: choose or create one first."))
    value = json.dumps(config.to_dict(), sort_keys=True)
    with warehouse.transaction() as cur:
        cur.execute("INSERT OR REPLACE INTO project_settings VALUES (?, ?, ?, ?)",
                    [project_id, settings_name(dataset_id), value, datetime.now()])


def load_impact_settings(warehouse: Warehouse, project_id: str | None,
                         dataset_id: str | None = None) -> ImpactConfig | None:
    """The project's stored money settings for ``dataset_id`` (the project's own row
    when None); None when none were saved for it, or when those saved can no longer be
    read (an older layout): the pages then start from the dataset's defaults."""
    if not project_id:
        return None
    rows = warehouse.query("SELECT value FROM project_settings WHERE project_id = ? AND name = ?",
                           [project_id, settings_name(dataset_id)])
    if rows.empty:
        return None
    try:
        return ImpactConfig.from_dict(json.loads(rows["value"].iloc[0]))
    except (ImpactInputError, ValueError):
        return None
