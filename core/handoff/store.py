"""Published batch forecasts: versioned per dataset, written in one transaction, never overwritten.

``forecast_batches`` holds one row per published version (what was fitted, on what,
by which run); ``batch_forecasts`` its rows; the view ``latest_batch_forecasts`` the rows
of each dataset's newest version, which is what a downstream ordering system reads.
"""

from __future__ import annotations

import json

import pandas as pd

from core.backtest.store import shown_run_name
from core.columns import DATE, SERIES_ID
from core.errors import WarehouseError
from core.forecast.base import FORECAST
from core.handoff.batch import ORDER_QUANTITY, STEP, BatchForecast
from core.i18n import M_, N_, from_json, to_json
from core.warehouse.store import Warehouse, quote

# The documentation of both tables, shown on the hand-off page and kept in step with the README: column names and
# types as the warehouse has them, meanings in English (catalog msgids: the page shows them with gettext).
BATCH_TABLE_DOC: tuple[tuple[str, str, str], ...] = (
    ("dataset_id", "VARCHAR", N_("The dataset the forecasts are for.")),
    ("version", "INTEGER", N_("1, 2, 3 … per dataset; each publication adds one and keeps the older ones.")),
    ("unique_id", "VARCHAR", N_("The series: its key values joined by '/' (e.g. S001/I0001).")),
    ("key_values", "VARCHAR[]", N_("The key values, in the order of the batch's key_names (e.g. ['S001', 'I0001'] "
                                   "for ['store_id', 'item_id']); key_values[1] is the first in SQL.")),
    ("ds", "DATE", N_("The date forecast: the first period after the last date of the data, onwards.")),
    ("step", "INTEGER", N_("Periods after the last date of the data (1 = the next period).")),
    ("forecast", "DOUBLE", N_("Expected units sold in that period; never negative, not rounded.")),
    ("order_quantity", "DOUBLE", N_("The quantity to order up to at the batch's service level, by the batch's "
                                    "ordering rule (model_params.ordering_rule): 'normal', forecast + z × the "
                                    "series' RMSE in the backtest; 'quantile', the model's own quantile, forecast + "
                                    "the conformal offset from its errors in every fold of the backtest. Empty when "
                                    "no service level was asked for, or the series has no backtest errors. Not "
                                    "rounded to packs or minimum orders.")),
    ("model", "VARCHAR", N_("The model's alias (e.g. lgbm, ets, snaive).")),
    ("run_id", "VARCHAR", N_("The backtest run that chose and evaluated the model.")),
    ("created_at", "TIMESTAMP", N_("When the version was published (the same for all its rows).")),
)
BATCHES_TABLE_DOC: tuple[tuple[str, str, str], ...] = (
    ("dataset_id, version", "VARCHAR, INTEGER", N_("The batch (primary key).")),
    ("dataset_name", "VARCHAR", N_("The dataset's name when it was published.")),
    ("model, model_params", "VARCHAR, JSON", N_("The model and how it was fitted: its settings, the known-in-advance "
                                                "columns used and left out, gap, window and seed; and ordering_rule, "
                                                "the rule of order_quantity ('normal' or 'quantile').")),
    ("run_id, decision_id", "VARCHAR", N_("The backtest run, and the GO/NO-GO decision when there is one.")),
    ("key_names", "VARCHAR[]", N_("The names of the series key columns, e.g. ['store_id', 'item_id'].")),
    ("trained_until", "DATE", N_("The last date of the data the model was fitted on.")),
    ("horizon, service_level", "INTEGER, DOUBLE", N_("Periods forecast; the one service level of order_quantity "
                                                     "(empty when none, or per item: profit-optimal, see notes).")),
    ("n_series, code_version, created_at", "BIGINT, VARCHAR, TIMESTAMP", N_("Series forecast, app version, when.")),
    ("notes", "JSON", N_("What a reader must know, e.g. columns left out because their future is not known. Each note "
                         "is kept as facts (its English text under msg, its values under params), so that it reads in "
                         "either language; notes published before are plain English text.")),
)

# What a downstream ordering system runs (shown on the page and in the README; a test runs it).
EXAMPLE_QUERY = """\
-- Order proposals of store S001 for today, from the newest published version
SELECT key_values[2] AS item_id, forecast, order_quantity, model, version, created_at
FROM latest_batch_forecasts
WHERE dataset_name = 'AI Shop demo chain'
  AND key_values[1] = 'S001'
  AND ds = current_date
ORDER BY item_id;"""


def publish_batch(warehouse: Warehouse, batch: BatchForecast, decision_id: str | None = None) -> int:
    """Write ``batch`` as the dataset's next version and return it; all of it or, on any error, none."""
    keys = [quote(k) for k in batch.key_names]  # validated: they become column names on export
    # Keys travel under positional names, so that a key called like a batch column cannot clash.
    rows = pd.DataFrame({
        SERIES_ID: batch.frame[SERIES_ID].astype(str), DATE: pd.to_datetime(batch.frame[DATE]),
        STEP: batch.frame[STEP].astype("int32"), FORECAST: batch.frame[FORECAST].astype(float),
        ORDER_QUANTITY: batch.frame[ORDER_QUANTITY].astype(float),
        **{f"k{i}": batch.frame[k].astype(str) for i, k in enumerate(batch.key_names)},
    })
    key_list = "[" + ", ".join(f"k{i}" for i in range(len(keys))) + "]"
    options = batch.options
    view = f"incoming_batch_{batch.dataset_id}"
    with warehouse.transaction() as cur:
        version = cur.execute("SELECT coalesce(max(version), 0) + 1 FROM forecast_batches WHERE dataset_id = ?",
                              [batch.dataset_id]).fetchone()[0]
        # now() is the transaction's start: one created_at for the batch and all its rows.
        cur.execute(
            """INSERT INTO forecast_batches (dataset_id, version, dataset_name, model, model_params, run_id,
                   decision_id, key_names, trained_until, horizon, service_level, n_series, code_version,
                   created_at, notes)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?)""",
            [batch.dataset_id, version, batch.dataset_name, options.model.alias,
             json.dumps(batch.model_params(), ensure_ascii=False), batch.run_id, decision_id, list(batch.key_names),
             batch.trained_until, options.horizon, options.service_level, batch.n_series, batch.code_version,
             json.dumps(to_json(list(batch.notes)), ensure_ascii=False)],
        )
        # The registration lives as long as this cursor, which the transaction closes. No
        # unregister in a `finally`: after a failed insert it would raise "transaction is
        # aborted" and hide the error that says what went wrong.
        cur.register(view, rows)
        cur.execute(
            f"""INSERT INTO batch_forecasts (dataset_id, version, unique_id, key_values, ds, step, forecast,
                    order_quantity, model, run_id, created_at)
                SELECT ?, ?, {SERIES_ID}, {key_list}, CAST({DATE} AS DATE), {STEP}, {FORECAST}, {ORDER_QUANTITY},
                       ?, ?, now()
                FROM {view} ORDER BY {SERIES_ID}, {DATE}""",
            [batch.dataset_id, version, options.model.alias, batch.run_id],
        )
    return int(version)


def list_batches(warehouse: Warehouse, dataset_id: str | None = None) -> pd.DataFrame:
    """Every published version (of one dataset, or all), newest first, with its date range
    and the name of its run (empty when the run has been deleted since). ``notes`` are facts
    (``core.i18n.Msg``; plain English text for a batch published before they were kept as
    facts): show them with ``core.i18n.render``."""
    where, params = ("WHERE b.dataset_id = ?", [dataset_id]) if dataset_id is not None else ("", [])
    frame = warehouse.query(
        f"""SELECT b.dataset_id, b.dataset_name, b.version, b.model, b.run_id, r.name AS run_name, b.created_at,
                   b.n_series, f.first_date, f.last_date, b.horizon, b.trained_until, b.service_level,
                   b.key_names, b.model_params, b.decision_id, b.code_version, b.notes
            FROM forecast_batches b
            JOIN (SELECT dataset_id, version, min(ds) AS first_date, max(ds) AS last_date
                  FROM batch_forecasts GROUP BY dataset_id, version) f
              ON f.dataset_id = b.dataset_id AND f.version = b.version
            LEFT JOIN runs r ON r.run_id = b.run_id
            {where}
            ORDER BY b.created_at DESC, b.dataset_name, b.version DESC""",
        params,
    )
    frame["notes"] = frame["notes"].map(lambda text: from_json(json.loads(text or "[]")))
    frame["run_name"] = frame["run_name"].map(shown_run_name)  # a name the product gave reads in either language
    frame["model_params"] = frame["model_params"].map(json.loads)
    return frame


def latest_version(warehouse: Warehouse, dataset_id: str) -> int | None:
    found = warehouse.query("SELECT max(version) AS v FROM forecast_batches WHERE dataset_id = ?", [dataset_id])
    value = found["v"].iloc[0]
    return None if pd.isna(value) else int(value)


def _version(warehouse: Warehouse, dataset_id: str, version: int | None) -> tuple[int, list[str]]:
    """The version asked for (the newest when None) and its key names; a clear error if there is none."""
    if version is None:
        version = latest_version(warehouse, dataset_id)
        if version is None:
            raise WarehouseError(M_("Nothing has been published for this dataset yet: publish a model on the "
                                    "Hand-off page first."))
    found = warehouse.query("SELECT key_names FROM forecast_batches WHERE dataset_id = ? AND version = ?",
                            [dataset_id, version])
    if found.empty:
        newest = latest_version(warehouse, dataset_id)
        if newest is None:
            raise WarehouseError(M_("Version {version} of this dataset's batch forecasts does not exist; none has "
                                    "been published.", version=version))
        raise WarehouseError(M_("Version {version} of this dataset's batch forecasts does not exist; the newest is "
                                "{newest}.", version=version, newest=newest))
    return version, list(found["key_names"].iloc[0])


def batch_forecasts(warehouse: Warehouse, dataset_id: str, version: int | None = None) -> pd.DataFrame:
    """The rows of one version (the newest when None), by series then date, as stored."""
    version, _ = _version(warehouse, dataset_id, version)
    return warehouse.query(
        "SELECT unique_id, key_values, ds, step, forecast, order_quantity, model, run_id, version, created_at "
        "FROM batch_forecasts WHERE dataset_id = ? AND version = ? ORDER BY unique_id, ds",
        [dataset_id, version],
    )


def batch_export(warehouse: Warehouse, dataset_id: str, version: int | None = None) -> pd.DataFrame:
    """One version ready for a CSV: each key in its own named column (store_id, item_id, …),
    then date, forecast, order_quantity, model, run_id, version, created_at."""
    version, key_names = _version(warehouse, dataset_id, version)
    keys = ", ".join(f"key_values[{i + 1}] AS {quote(name)}" for i, name in enumerate(key_names))
    return warehouse.query(
        f"""SELECT {keys}, ds AS date, forecast, order_quantity, model, run_id, version, created_at
            FROM batch_forecasts WHERE dataset_id = ? AND version = ? ORDER BY unique_id, ds""",
        [dataset_id, version],
    )
