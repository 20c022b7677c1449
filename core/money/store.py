"""What the money keeps in the warehouse: its settings and the impacts computed with them.

Settings typed once are the project's, for one dataset: the money impact's settings
(table ``project_settings`` of migration 8), stored with a project and the dataset they
were typed for, so that the Money, Report and Hand-off pages all start from what was
typed on any of them, in any session — and a unit's value typed for monthly turnover
is never used for another dataset's unit sales.

Rows are keyed by (project_id, name) with name ``impact:<dataset_id>``; a row named
``impact`` (stored before settings were per dataset) is the project's own, read only
where no dataset is named.

A run's money impact is kept with the run (table ``run_impacts``), under a digest of
everything it is made from (``impact_key``): the Money page, the decision and the pilot
read it back instead of simulating a national chain's shelves again (a minute), and
compute it anew as soon as the run's models, the settings, the dataset's rows, its item
master or the code change."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pandas as pd

from core.errors import WarehouseError
from core.i18n import M_
from core.money.impact import ImpactConfig, ImpactInputError, ImpactResult
from core.warehouse.store import Dataset, Warehouse

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


# ---------------------------------------------------------------------------------
# Money impacts stored with their run
# ---------------------------------------------------------------------------------
IMPACTS_TABLE = "run_impacts"  # migration 12 of core.warehouse.store: run_id, key, created_at, impact (JSON)


def impact_key(warehouse: Warehouse, run_id: str, dataset: Dataset, config: ImpactConfig,
               items: pd.DataFrame | None) -> str:
    """What a run's money impact is made from, as a digest: the run and its models (forecasts
    made elsewhere can be added to a run: ``core.backtest.store.run_revision``), the settings,
    the dataset's rows as they are (its fingerprint and counts, and the appends that replaced
    rows in place), its item master, and the code (``code_version``: the app's version and
    commit). An impact stored under the same key is the one computing it again would give."""
    from core.backtest.engine import code_version
    from core.backtest.store import run_revision
    appends = warehouse.query("SELECT count(*) AS n, max(created_at) AS last FROM dataset_appends "
                              "WHERE dataset_id = ?", [dataset.dataset_id]).iloc[0]
    parts = {
        "run": run_id, "revision": run_revision(warehouse, run_id), "settings": config.to_dict(),
        "dataset": [dataset.dataset_id, dataset.fingerprint, dataset.n_rows, dataset.n_series,
                    str(dataset.start_date), str(dataset.end_date), int(appends["n"]), str(appends["last"])],
        "items": None if items is None else
        [list(map(str, items.columns)), int(pd.util.hash_pandas_object(items, index=False).sum())],
        "code": code_version(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def load_impact(warehouse: Warehouse, run_id: str, key: str) -> ImpactResult | None:
    """The money impact stored for ``run_id`` under ``key`` (``impact_key``), or None."""
    rows = warehouse.query(f"SELECT impact FROM {IMPACTS_TABLE} WHERE run_id = ? AND key = ?", [run_id, key])
    return None if rows.empty else ImpactResult.from_json(rows["impact"].iloc[0])


def save_impact(warehouse: Warehouse, run_id: str, key: str, impact: ImpactResult) -> None:
    """Keep ``impact`` with its run under ``key``; impacts of the run under keys that no
    longer hold (older settings are kept: a page switches between them) stay until the run
    is deleted."""
    with warehouse.transaction() as cur:
        cur.execute(f"INSERT OR REPLACE INTO {IMPACTS_TABLE} VALUES (?, ?, ?, ?)",
                    [run_id, key, datetime.now(), impact.to_json()])
