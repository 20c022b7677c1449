"""The jobs table: SQL built by small named functions, run through the warehouse's executor."""

from __future__ import annotations

import fnmatch
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from core.errors import WarehouseError
from core.i18n import M_, Msg
from core.warehouse import Warehouse, check_identifier, quote, stored_text

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"


def insert_job(warehouse: Warehouse, kind: str, title: str | Msg, params: dict, language: str = "en") -> str:
    """Queue a job; ``language``: the one its worker speaks (a run's default name, its notes)."""
    job_id = uuid.uuid4().hex[:12]
    with warehouse.transaction() as cur:
        cur.execute("INSERT INTO jobs (job_id, kind, title, params, state, created_at, language) "
                    "VALUES (?, ?, ?, ?, ?, now(), ?)",
                    [job_id, kind, stored_text(title), json.dumps(params, ensure_ascii=False, default=str), QUEUED,
                     language])
    return job_id


def job_rows(warehouse: Warehouse, kind: str | None = None, limit: int = 50) -> pd.DataFrame:
    """Newest first."""
    where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
    return warehouse.query(f"SELECT * FROM jobs {where} ORDER BY created_at DESC, job_id LIMIT ?", [*params, limit])


def job_row(warehouse: Warehouse, job_id: str) -> pd.DataFrame:
    return warehouse.query("SELECT * FROM jobs WHERE job_id = ?", [job_id])


def oldest_queued(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.query("SELECT * FROM jobs WHERE state = ? ORDER BY created_at, job_id LIMIT 1", [QUEUED])


def start_job(warehouse: Warehouse, job_id: str, owner: str) -> bool:
    """Queued -> running; False when the job is no longer queued (cancelled meanwhile)."""
    with warehouse.transaction() as cur:
        return bool(cur.execute(
            "UPDATE jobs SET state = ?, started_at = now(), owner = ?, done = 0 WHERE job_id = ? AND state = ? "
            "RETURNING job_id", [RUNNING, owner, job_id, QUEUED]).fetchall())


def set_progress(warehouse: Warehouse, job_id: str, done: float, message: str | Msg) -> None:
    with warehouse.transaction() as cur:
        cur.execute("UPDATE jobs SET done = ?, message = ? WHERE job_id = ? AND state = ?",
                    [float(done), stored_text(message), job_id, RUNNING])


def end_job(warehouse: Warehouse, job_id: str, state: str, message: str | Msg, from_states: tuple[str, ...]) -> bool:
    """Mark the job ``state`` (failed, cancelled) with its reason, if it is in ``from_states``."""
    marks = ", ".join("?" for _ in from_states)
    with warehouse.transaction() as cur:
        return bool(cur.execute(
            f"UPDATE jobs SET state = ?, message = ?, finished_at = now() WHERE job_id = ? AND state IN ({marks}) "
            "RETURNING job_id", [state, stored_text(message), job_id, *from_states]).fetchall())


def fail_orphans(warehouse: Warehouse, message: str | Msg) -> int:
    """Jobs left running by an app that stopped: failed, with ``message``."""
    with warehouse.transaction() as cur:
        return len(cur.execute("UPDATE jobs SET state = ?, message = ?, finished_at = now() WHERE state = ? "
                               "RETURNING job_id", [FAILED, stored_text(message), RUNNING]).fetchall())


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def store_outcome(warehouse: Warehouse, job_id: str, out: Path, tables: tuple[str, ...], result: str,
                  message: str | Msg, store: Callable[[duckdb.DuckDBPyConnection, str], str] | None = None) -> str:
    """Copy the tables of the worker's DuckDB file ``out`` whose names match ``tables``
    (names or ``fnmatch`` patterns, "run_*") into the warehouse (by column name)
    and mark the job done, in one transaction: all of it or, if the job is no longer running
    or a copy fails, none of it (``WarehouseError``). ``store(cursor, attached name)``, when
    given, copies instead, in the same transaction, and returns the result (a version number
    taken at that moment). Returns the result."""
    alias = check_identifier(f"job_{job_id}")
    with warehouse.cursor() as cur:
        cur.execute(f"ATTACH {_literal(out)} AS {alias} (READ_ONLY)")
    try:
        with warehouse.transaction() as cur:
            if store is not None:
                result = store(cur, alias)
            else:
                present = cur.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ?",
                                      [alias]).df()["table_name"]
                for table in sorted(t for t in present if any(fnmatch.fnmatchcase(t, p) for p in tables)):
                    name = quote(check_identifier(table))
                    cur.execute(f"INSERT INTO {name} BY NAME SELECT * FROM {alias}.{name}")
            if not cur.execute("UPDATE jobs SET state = ?, result = ?, message = ?, done = 1, finished_at = now() "
                               "WHERE job_id = ? AND state = ? RETURNING job_id",
                               [DONE, result, stored_text(message), job_id, RUNNING]).fetchall():
                raise WarehouseError(M_("The job was stopped before its results were stored; nothing was stored."))
    finally:
        with warehouse.cursor() as cur:
            cur.execute(f"DETACH {alias}")
    return result


def slice_of_warehouse(warehouse: Warehouse, path: Path, dataset_id: str, run_id: str | None = None) -> None:
    """A warehouse file at ``path`` holding what work on one dataset (and one run of it) reads:
    every table's rows of that dataset and run (tables with a ``dataset_id`` or ``run_id``
    column are narrowed to them), the dataset's own tables (its rows and side tables), and the
    small tables of no dataset (projects, settings) whole; no jobs. A worker process opens it
    as its warehouse, since only one process may open the app's (``core.jobs``)."""
    Warehouse(path).close()  # every table of the schema, empty
    alias = check_identifier(f"slice_{uuid.uuid4().hex[:8]}")
    with warehouse.cursor() as cur:
        cur.execute(f"ATTACH {_literal(path)} AS {alias}")
    try:
        with warehouse.transaction() as cur:
            columns = cur.execute(
                "SELECT table_name, list(column_name) AS columns FROM duckdb_columns() WHERE database_name = "
                "current_database() AND schema_name = 'main' AND table_name IN (SELECT table_name FROM "
                "duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main') "
                "GROUP BY table_name").df()
            own = set(cur.execute("SELECT table_name FROM datasets WHERE dataset_id = ? UNION SELECT table_name FROM "
                                  "dataset_tables WHERE dataset_id = ?", [dataset_id, dataset_id]).df()["table_name"])
            schema = set(cur.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ?",
                                     [alias]).df()["table_name"])
            for table, names in zip(columns["table_name"], columns["columns"], strict=True):
                name = quote(check_identifier(table))
                if table in own:
                    cur.execute(f"CREATE TABLE {alias}.{name} AS SELECT * FROM {name}")
                    continue
                if table not in schema or table in ("jobs", "schema_version"):
                    continue  # another dataset's rows, or the queue itself
                where, params = [], []
                if "dataset_id" in names:
                    where.append("dataset_id = ?")
                    params.append(dataset_id)
                if "run_id" in names:
                    where.append("run_id = ?" if run_id else "FALSE")
                    params += [run_id] if run_id else []
                clause = f" WHERE {' AND '.join(where)}" if where else ""
                cur.execute(f"INSERT INTO {alias}.{name} BY NAME SELECT * FROM {name}{clause}", params)
    finally:
        with warehouse.cursor() as cur:
            cur.execute(f"DETACH {alias}")
