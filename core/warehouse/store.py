"""The embedded DuckDB warehouse: the one place that owns the connection and runs SQL.

Every statement of Mitoshi is executed here, through ``Warehouse.query`` and
``Warehouse.transaction``: the schema and the dataset registry are this module's; each
step builds its own statements in its ``store.py`` (``core/backtest/store.py``, ...) and
runs them through this executor. User values are always bound parameters; identifiers
that come from a user's file (column names) are checked against an allow-list pattern and
quoted; table names are made by this module only.
One connection is opened per warehouse file and each call works on its own
``cursor()``, so Streamlit sessions on several threads can share it safely.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.columns import DATE, SERIES_ESCAPE, SERIES_ID, SERIES_SEP, TARGET, Freq, Role
from core.errors import AppendOverlapError, DatasetExistsError, DatasetNotFoundError, WarehouseError
from core.i18n import M_, Fmt, Msg, from_json, pgettext, to_json

ENV_VAR = "MITOSHI_WAREHOUSE"
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data" / "mitoshi.duckdb"

# Column names from a user's file: letters (any script), digits and underscores,
# not starting with a digit. The importer renames everything else onto this.
_IDENTIFIER = re.compile(r"^[^\W\d]\w{0,62}$")
# Side tables a dataset may carry besides its observations.
SIDE_TABLES = ("items", "stores")
_RESERVED = {SERIES_ID, DATE, TARGET}


def warehouse_path() -> Path:
    """Where the warehouse lives: $MITOSHI_WAREHOUSE, else data/mitoshi.duckdb."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


def check_identifier(name: str) -> str:
    """Return ``name`` if it is safe to use as a column name, else raise."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name) or name.lower() in _RESERVED:
        raise WarehouseError(M_(
            "'{name}' cannot be used as a column name: use letters, digits and '_' "
            "(not starting with a digit, at most 63 characters, not {reserved}).", name=name,
            reserved=Fmt("names", sorted(_RESERVED))))
    return name


def quote(name: str) -> str:
    return '"' + check_identifier(name) + '"'


def _check_is_duckdb(path: Path) -> None:
    """Refuse an existing file that is not a DuckDB database: DuckDB would open a CSV or
    JSON file as a read-only view and a run 'stored' there would be lost without a word."""
    if str(path) == ":memory:" or not path.exists():
        return
    if path.is_dir():
        raise WarehouseError(M_("The warehouse {path} is a folder; give a file path such as {example} "
                                "(--warehouse, or {variable}).", path=str(path),
                                example=str(path / "mitoshi.duckdb"), variable=ENV_VAR))
    with open(path, "rb") as handle:
        header = handle.read(12)
    if header and header[8:12] != b"DUCK":  # DuckDB's magic bytes follow an 8-byte checksum
        raise WarehouseError(M_("{path} exists and is not a DuckDB warehouse; Mitoshi will not write into it. "
                                "Choose a new file or an existing warehouse (--warehouse, or {variable}).",
                                path=str(path), variable=ENV_VAR))


def series_id_sql(keys: Sequence[str]) -> str:
    """The SQL expression of ``core.columns.series_ids``: keys joined by '/', each value's
    '/' and '\\' escaped when there are several keys, so the id is unique per key tuple."""
    if len(keys) == 1:
        return f"CAST({quote(keys[0])} AS VARCHAR)"
    esc, sep = SERIES_ESCAPE, SERIES_SEP
    parts = [f"replace(replace(CAST({quote(k)} AS VARCHAR), '{esc}', '{esc * 2}'), '{sep}', '{esc}{sep}')"
             for k in keys]
    return f" || '{sep}' || ".join(parts)


# ---------------------------------------------------------------------------------
# Schema migrations. Append only: a released migration is never edited, so that a
# warehouse written by any older version opens in this one.
# ---------------------------------------------------------------------------------
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the dataset registry.
    (
        """CREATE TABLE datasets (
            dataset_id VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL UNIQUE,
            freq VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            description VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            n_series BIGINT NOT NULL,
            n_rows BIGINT NOT NULL,
            start_date DATE,
            end_date DATE,
            fingerprint VARCHAR NOT NULL,
            table_name VARCHAR NOT NULL
        )""",
        """CREATE TABLE dataset_columns (
            dataset_id VARCHAR NOT NULL,
            column_name VARCHAR NOT NULL,
            role VARCHAR NOT NULL,
            position INTEGER NOT NULL,
            original_name VARCHAR NOT NULL,
            PRIMARY KEY (dataset_id, column_name)
        )""",
    ),
    # 2: side tables (item and store masters) and the import's quality notes.
    (
        """CREATE TABLE dataset_tables (
            dataset_id VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            table_name VARCHAR NOT NULL,
            PRIMARY KEY (dataset_id, kind)
        )""",
        "ALTER TABLE datasets ADD COLUMN notes VARCHAR DEFAULT '[]'",
    ),
    # 3: backtest runs (experiments): config, provenance, timings, forecasts, metrics.
    (
        """CREATE TABLE runs (
            run_id VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL,
            dataset_id VARCHAR,
            dataset_name VARCHAR NOT NULL,
            fingerprint VARCHAR NOT NULL,
            code_version VARCHAR NOT NULL,
            freq VARCHAR NOT NULL,
            config VARCHAR NOT NULL,
            scope VARCHAR NOT NULL,
            n_series BIGINT NOT NULL,
            wall_seconds DOUBLE NOT NULL,
            created_at TIMESTAMP NOT NULL
        )""",
        """CREATE TABLE run_timings (
            run_id VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            cutoff DATE NOT NULL,
            seconds DOUBLE NOT NULL,
            series BIGINT NOT NULL,
            PRIMARY KEY (run_id, model, cutoff)
        )""",
        """CREATE TABLE run_forecasts (
            run_id VARCHAR NOT NULL,
            unique_id VARCHAR NOT NULL,
            ds DATE NOT NULL,
            cutoff DATE NOT NULL,
            step INTEGER NOT NULL,
            actual DOUBLE NOT NULL,
            model VARCHAR NOT NULL,
            forecast DOUBLE NOT NULL
        )""",
        """CREATE TABLE run_metrics (
            run_id VARCHAR NOT NULL,
            level VARCHAR NOT NULL,
            "group" VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            metric VARCHAR NOT NULL,
            value DOUBLE
        )""",
    ),
    # 4: planning (core/planning/store.py): projects and their links, problem-definition
    # versions and unsaved drafts, initiatives, PoC phases and ladder steps. Editable rows
    # carry a revision for optimistic saves.
    (
        """CREATE TABLE projects (
            project_id VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL,
            description VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            revision INTEGER NOT NULL,
            effort_threshold_weeks DOUBLE NOT NULL,
            impact_threshold_yen DOUBLE NOT NULL
        )""",
        """CREATE TABLE project_links (
            project_id VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            target_id VARCHAR NOT NULL,
            linked_at TIMESTAMP NOT NULL
        )""",
        """CREATE TABLE problem_versions (
            project_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            saved_at TIMESTAMP NOT NULL,
            note VARCHAR NOT NULL,
            content VARCHAR NOT NULL,
            criteria VARCHAR NOT NULL,
            PRIMARY KEY (project_id, version)
        )""",
        """CREATE TABLE problem_drafts (
            draft_id VARCHAR PRIMARY KEY,
            project_id VARCHAR NOT NULL,
            base_version INTEGER NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            form VARCHAR NOT NULL
        )""",
        """CREATE TABLE initiatives (
            project_id VARCHAR NOT NULL,
            initiative_id VARCHAR NOT NULL,
            position INTEGER NOT NULL,
            name VARCHAR NOT NULL,
            description VARCHAR NOT NULL,
            effort_weeks DOUBLE NOT NULL,
            impact_yen DOUBLE NOT NULL,
            confidence DOUBLE NOT NULL,
            reach DOUBLE NOT NULL,
            revision INTEGER NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            PRIMARY KEY (project_id, initiative_id)
        )""",
        """CREATE TABLE plan_phases (
            project_id VARCHAR NOT NULL,
            phase_key VARCHAR NOT NULL,
            position INTEGER NOT NULL,
            owner VARCHAR NOT NULL,
            start_date DATE,
            end_date DATE,
            status VARCHAR NOT NULL,
            notes VARCHAR NOT NULL,
            revision INTEGER NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            PRIMARY KEY (project_id, phase_key)
        )""",
        """CREATE TABLE ladder_steps (
            project_id VARCHAR NOT NULL,
            step_key VARCHAR NOT NULL,
            position INTEGER NOT NULL,
            methods VARCHAR NOT NULL,
            stop_rule VARCHAR NOT NULL,
            timebox_weeks DOUBLE,
            status VARCHAR NOT NULL,
            result VARCHAR NOT NULL,
            revision INTEGER NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            PRIMARY KEY (project_id, step_key)
        )""",
        """CREATE TABLE planning_settings (
            key VARCHAR PRIMARY KEY,
            value VARCHAR NOT NULL
        )""",
    ),
    # 5: GO/NO-GO decisions (immutable snapshots: the JSON holds everything the report
    # and the PDF show, so a later change to the run or the project never alters one),
    # and the hand-off to production: versioned batch forecasts (core/handoff/store.py).
    (
        """CREATE TABLE decisions (
            decision_id VARCHAR PRIMARY KEY,
            project_id VARCHAR NOT NULL,
            run_id VARCHAR NOT NULL,
            verdict VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            snapshot VARCHAR NOT NULL
        )""",
        """CREATE TABLE forecast_batches (
            dataset_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            dataset_name VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            model_params VARCHAR NOT NULL,
            run_id VARCHAR,
            decision_id VARCHAR,
            key_names VARCHAR[] NOT NULL,
            trained_until DATE NOT NULL,
            horizon INTEGER NOT NULL,
            service_level DOUBLE,
            n_series BIGINT NOT NULL,
            code_version VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (dataset_id, version)
        )""",
        """CREATE TABLE batch_forecasts (
            dataset_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            unique_id VARCHAR NOT NULL,
            key_values VARCHAR[] NOT NULL,
            ds DATE NOT NULL,
            step INTEGER NOT NULL,
            forecast DOUBLE NOT NULL,
            order_quantity DOUBLE,
            model VARCHAR NOT NULL,
            run_id VARCHAR,
            created_at TIMESTAMP NOT NULL
        )""",
    ),
    # 6: what a reader of a published batch must know (e.g. known-in-advance columns left
    # out because their future is not in the warehouse), and the newest version of each
    # dataset's batch as one view, so a downstream system never has to find the version.
    (
        "ALTER TABLE forecast_batches ADD COLUMN notes VARCHAR DEFAULT '[]'",
        """CREATE VIEW latest_batch_forecasts AS
           SELECT b.dataset_name, b.key_names, f.*
           FROM batch_forecasts f
           JOIN forecast_batches b ON b.dataset_id = f.dataset_id AND b.version = f.version
           WHERE (f.dataset_id, f.version) IN (
               SELECT dataset_id, max(version) FROM forecast_batches GROUP BY dataset_id)""",
    ),
    # 7: every series accounted for (core/backtest/accounting.py): the series each fold of a
    # run left out and why, the series each model left to a simple rule, and how many
    # series a run scored (NULL for runs stored before it was counted).
    (
        "ALTER TABLE runs ADD COLUMN n_scored BIGINT",
        """CREATE TABLE run_excluded (
            run_id VARCHAR NOT NULL,
            cutoff DATE NOT NULL,
            unique_id VARCHAR NOT NULL,
            reason VARCHAR NOT NULL
        )""",
        """CREATE TABLE run_fallbacks (
            run_id VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            cutoff DATE NOT NULL,
            unique_id VARCHAR NOT NULL,
            rule VARCHAR NOT NULL,
            reason VARCHAR NOT NULL
        )""",
    ),
    # 8: settings typed once are the project's (core/money/store.py): the money
    # impact's prices, costs, shelf life, holding, censoring and cost-of-error choices,
    # as JSON, one row per project and kind of setting.
    (
        """CREATE TABLE project_settings (
            project_id VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            value VARCHAR NOT NULL,
            saved_at TIMESTAMP NOT NULL,
            PRIMARY KEY (project_id, name)
        )""",
    ),
    # 9: online evaluation. Datasets grow (rows appended after the import, each append
    # logged); a generated dataset keeps its generator's settings so that it can be
    # continued; a run keeps the last date of the data it backtested, so that rows appended
    # later do not read as a replaced dataset. Pilot designs and readouts are versioned JSON
    # per project (core/pilot/store.py); the watch on published batches is long: one row
    # per batch, period and measure (core/pilot/monitor.py).
    (
        "ALTER TABLE datasets ADD COLUMN generator VARCHAR",
        """CREATE TABLE dataset_appends (
            append_id VARCHAR PRIMARY KEY,
            dataset_id VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            source VARCHAR NOT NULL,
            n_rows BIGINT NOT NULL,
            n_replaced BIGINT NOT NULL,
            n_series BIGINT NOT NULL,
            n_new_series BIGINT NOT NULL,
            start_date DATE NOT NULL,
            end_date DATE NOT NULL,
            fingerprint_before VARCHAR NOT NULL,
            fingerprint_after VARCHAR NOT NULL
        )""",
        "ALTER TABLE runs ADD COLUMN data_end DATE",
        """CREATE TABLE pilot_designs (
            design_id VARCHAR PRIMARY KEY,
            project_id VARCHAR NOT NULL,
            dataset_id VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            design VARCHAR NOT NULL
        )""",
        """CREATE TABLE pilot_readouts (
            readout_id VARCHAR PRIMARY KEY,
            project_id VARCHAR NOT NULL,
            design_id VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            readout VARCHAR NOT NULL
        )""",
        """CREATE TABLE forecast_monitoring (
            dataset_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            period_start DATE NOT NULL,
            measure VARCHAR NOT NULL,
            value DOUBLE,
            band_low DOUBLE,
            band_high DOUBLE,
            alert BOOLEAN NOT NULL,
            computed_at TIMESTAMP NOT NULL,
            PRIMARY KEY (dataset_id, version, period_start, measure)
        )""",
    ),
    # 10: the whole ladder (issue 14). Forecasts made elsewhere join a stored run as a model
    # of its own (core/backtest/external.py): who named it, the effort it took and the file it
    # came from; their rows go to run_forecasts like any model's. A model that states its own
    # quantiles (an external file's quantile columns, LightGBM's quantile objectives) stores
    # them long; the conformal quantiles of every other model are derived from the run's
    # out-of-fold errors (core/backtest/quantiles.py) and need no table.
    (
        """CREATE TABLE run_external_models (
            run_id VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            effort_weeks DOUBLE,
            description VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            n_rows BIGINT NOT NULL,
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (run_id, model)
        )""",
        """CREATE TABLE run_quantiles (
            run_id VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            unique_id VARCHAR NOT NULL,
            ds DATE NOT NULL,
            cutoff DATE NOT NULL,
            level DOUBLE NOT NULL,
            value DOUBLE NOT NULL
        )""",
    ),
    # Long work runs as a job in a worker process (core.jobs): queued, running, then done,
    # failed or cancelled; what it made is stored in one transaction when it is done.
    (
        """CREATE TABLE jobs (
            job_id VARCHAR PRIMARY KEY,
            kind VARCHAR NOT NULL,
            title VARCHAR NOT NULL,
            params VARCHAR NOT NULL,
            state VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            started_at TIMESTAMP,
            finished_at TIMESTAMP,
            done DOUBLE NOT NULL DEFAULT 0,
            message VARCHAR,
            result VARCHAR,
            owner VARCHAR,
            language VARCHAR NOT NULL DEFAULT 'en'
        )""",
    ),
    # A run's money impact is kept with it (core.money.store), under a digest of what it
    # is made from: the decision and the pilot read it back instead of simulating again.
    (
        """CREATE TABLE run_impacts (
            run_id VARCHAR NOT NULL,
            key VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            impact VARCHAR NOT NULL,
            PRIMARY KEY (run_id, key)
        )""",
    ),
    # Reports (core.reports): a snapshot of what a report shows, numbered per project and
    # kind, with what it was made from; the page and the PDF render the same snapshot.
    (
        """CREATE TABLE reports (
            report_id VARCHAR PRIMARY KEY,
            project_id VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL,
            made_from VARCHAR NOT NULL,
            snapshot VARCHAR NOT NULL,
            UNIQUE (project_id, kind, version)
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(con: duckdb.DuckDBPyConnection, upto: int = SCHEMA_VERSION) -> int:
    """Bring the schema to version ``upto``; each migration is its own transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)"
    )
    current = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise WarehouseError(M_(
            "This warehouse was written by a newer Mitoshi (schema {current}, this app knows "
            "{known}). Update the app, or point {variable} at another file.", current=int(current),
            known=SCHEMA_VERSION, variable=ENV_VAR))
    for version in range(current + 1, upto + 1):
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in MIGRATIONS[version - 1]:
                con.execute(statement)
            con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return max(current, upto)


# ---------------------------------------------------------------------------------
# Text kept as facts
# ---------------------------------------------------------------------------------
# A dataset's source and description, its notes and an append's source are read by people
# in either language: a step may give a ``core.i18n.Msg`` (or ``Fmt``), stored as its JSON
# and read back as a ``Msg``, rendered (``core.i18n.render``) where it is shown. Plain text
# (a file's name, an older warehouse's English) is stored and read as it is.
def stored_text(value: object) -> str:
    """``value`` as the text a VARCHAR column keeps: a ``Msg``/``Fmt`` as its JSON, else the
    text itself."""
    if isinstance(value, Msg | Fmt):
        return json.dumps(to_json(value), ensure_ascii=False)
    return "" if value is None else str(value)


def read_text(stored: object) -> str | Msg | Fmt:
    """What ``stored_text`` kept: the ``Msg``/``Fmt`` back, or the plain text as it is."""
    if not isinstance(stored, str):
        return "" if stored is None or stored != stored else str(stored)
    if stored.startswith('{"msg"') or stored.startswith('{"fmt"'):
        try:
            value = from_json(json.loads(stored))
        except ValueError:
            return stored
        if isinstance(value, Msg | Fmt):
            return value
    return stored


def stored_list(values: Sequence[object]) -> str:
    """A list of notes (text or ``Msg``) as the JSON a column keeps."""
    return json.dumps(to_json(list(values)), ensure_ascii=False)


def read_list(stored: object) -> tuple:
    """The notes ``stored_list`` kept: plain text as it is, messages as ``Msg``."""
    if not isinstance(stored, str) or not stored:
        return ()
    return tuple(from_json(json.loads(stored)))


# ---------------------------------------------------------------------------------
# Dataset description
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetSpec:
    """What the columns of a dataset mean, given when it is created."""

    name: str
    freq: Freq
    keys: tuple[str, ...]
    attributes: tuple[str, ...] = ()
    exog_known: tuple[str, ...] = ()
    exog_unknown: tuple[str, ...] = ()
    stockout: str | None = None
    orders: str | None = None
    source: str | Msg = ""  # where the data came from: text, or a Msg (see stored_text)
    description: str | Msg = ""
    # sanitised name -> name in the user's file, for display
    original_names: Mapping[str, str] = field(default_factory=dict)

    def roles(self) -> list[tuple[str, Role]]:
        pairs = [(k, Role.KEY) for k in self.keys]
        pairs += [(DATE, Role.DATE), (TARGET, Role.TARGET)]
        pairs += [(c, Role.ATTRIBUTE) for c in self.attributes]
        pairs += [(c, Role.EXOG_KNOWN) for c in self.exog_known]
        pairs += [(c, Role.EXOG_UNKNOWN) for c in self.exog_unknown]
        if self.stockout:
            pairs.append((self.stockout, Role.STOCKOUT))
        if self.orders:
            pairs.append((self.orders, Role.ORDERS))
        return pairs

    def value_columns(self) -> list[str]:
        """Columns besides keys, date and target, in storage order."""
        return [c for c, r in self.roles() if r not in (Role.KEY, Role.DATE, Role.TARGET)]


@dataclass(frozen=True)
class Dataset:
    """A registered dataset, as read back from the warehouse."""

    dataset_id: str
    name: str
    spec: DatasetSpec
    created_at: datetime
    n_series: int
    n_rows: int
    start_date: date | None
    end_date: date | None
    fingerprint: str
    table_name: str
    side_tables: Mapping[str, str]
    notes: tuple[str | Msg, ...]  # the import's notes: text, or Msg to render when shown
    generator: Mapping[str, object] | None = None  # a generated dataset's settings (JSON values); None if imported

    @property
    def freq(self) -> Freq:
        return self.spec.freq

    @property
    def segment_columns(self) -> tuple[str, ...]:
        """Columns one can group series by: the keys and the static attributes."""
        return self.spec.keys + self.spec.attributes

    def label(self, column: str) -> str:
        """The column's name as the user knows it; the date and target columns of a file that
        named neither are called so in the reader's language."""
        known = self.spec.original_names.get(column)
        if known:
            return known
        if column == DATE:
            return pgettext("column", "date")
        if column == TARGET:
            return pgettext("column", "target")
        return column


def _plain_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as plain text, so that stored tables hold VARCHAR, not ENUM."""
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    return frame.astype({c: str for c in categorical}) if categorical else frame


def _canonical_columns(spec: DatasetSpec) -> str:
    """The SELECT list that stores a frame's columns as a dataset keeps them: the series id made
    from the keys, keys and attributes as text (pandas categoricals arrive as enums), the date
    as DATE and the target as DOUBLE."""
    return ", ".join(
        [f"{series_id_sql(spec.keys)} AS {SERIES_ID}"]
        + [f"CAST({quote(k)} AS VARCHAR) AS {quote(k)}" for k in spec.keys]
        + [f"CAST({DATE} AS DATE) AS {DATE}", f"CAST({TARGET} AS DOUBLE) AS {TARGET}"]
        + [f"CAST({quote(c)} AS VARCHAR) AS {quote(c)}" if c in spec.attributes else quote(c)
           for c in spec.value_columns()]
    )


def _table_stats(cur: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int, date | None, date | None, str]:
    """Series, rows, first and last date, and the fingerprint of a dataset's table.

    The fingerprint is order-free (a sum of row hashes over series, date and target), so
    the same rows stored in another order, or appended in pieces, have the same one."""
    n_series, n_rows, start, end, digest = cur.execute(
        f"""SELECT count(DISTINCT {SERIES_ID}), count(*), min({DATE}), max({DATE}),
                   coalesce(sum(hash({SERIES_ID}, {DATE}, {TARGET})::HUGEINT) % 18446744073709551616, 0)
            FROM {table}"""
    ).fetchone()
    return n_series, n_rows, start, end, f"{n_rows}-{int(digest):016x}"


@dataclass(frozen=True)
class Appended:
    """What one append did to a dataset (also kept in ``dataset_appends``)."""

    append_id: str
    dataset: Dataset  # as it is after the append
    n_rows: int  # rows written
    n_replaced: int  # rows that had the same series and date before, now replaced
    n_series: int  # series the appended rows belong to
    n_new_series: int  # of which the dataset did not have before
    start_date: date
    end_date: date
    source: str


# ---------------------------------------------------------------------------------
# The warehouse
# ---------------------------------------------------------------------------------
READ_BATCH_ROWS = 1_000_000  # rows per batch of ``Warehouse.query_rows(..., text_as_category=True)``


def _frame_in_batches(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """The rows of ``relation`` as a frame whose text columns are categoricals with sorted
    categories, read in batches of ``READ_BATCH_ROWS``: each batch's text is dictionary-encoded
    (pyarrow's ``dictionary_encode``) and its other columns converted as Arrow's ``to_pandas``
    converts them, so neither the text nor an Arrow copy of the whole result is ever held.
    The columns are put together one at a time, each column's batches freed as it is."""
    reader = relation.to_arrow_reader(READ_BATCH_ROWS)
    names = reader.schema.names
    text = {name for name, type_ in zip(names, reader.schema.types)
            if pa.types.is_string(type_) or pa.types.is_large_string(type_)}
    parts: dict[str, list] = {name: [] for name in names}
    for batch in reader:
        plain = batch.select([name for name in names if name not in text])
        converted = plain.to_pandas(date_as_object=False) if plain.num_columns else None
        for name in names:
            if name in text:
                encoded = pc.dictionary_encode(batch.column(name))
                parts[name].append((encoded.indices.fill_null(-1).to_numpy(), encoded.dictionary.to_pylist()))
            else:
                parts[name].append(converted[name].to_numpy())
        del converted
    if not any(parts.values()):  # no row: the columns' own types, text as (empty) categoricals
        empty = reader.schema.empty_table().to_pandas(date_as_object=False)
        return empty.astype({name: "category" for name in text})
    columns: dict[str, object] = {}
    for name in names:
        pieces = parts.pop(name)
        if name in text:
            categories = pd.Index(sorted({value for _, dictionary in pieces for value in dictionary}), dtype="str")
            codes = [np.append(categories.get_indexer(pd.Index(dictionary, dtype="str")), -1).astype(np.int32)[indices]
                     for indices, dictionary in pieces]  # -1 (a missing value) stays -1
            columns[name] = pd.Categorical.from_codes(np.concatenate(codes), categories=categories)
        else:
            columns[name] = np.concatenate(pieces)
        del pieces
    pa.default_memory_pool().release_unused()  # Arrow's allocator keeps what the batches freed: hand it back
    return pd.DataFrame(columns, copy=False)


class Warehouse:
    """One DuckDB file holding datasets side by side, and later runs and decisions."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else warehouse_path()
        _check_is_duckdb(self.path)
        try:
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.path))
        except OSError as exc:
            raise WarehouseError(M_(
                "Cannot create the warehouse {path}: its folder cannot be made or written "
                "({reason}). Choose a writable path (--warehouse, or {variable}).", path=str(self.path),
                reason=str(exc.strerror or exc), variable=ENV_VAR)) from exc
        except duckdb.IOException as exc:
            raise WarehouseError(M_(
                "Cannot open the warehouse {path}: {reason}. Another Mitoshi may be using it, or it is not a "
                "DuckDB file; close it or set {variable} to another file.", path=str(self.path),
                reason=str(exc).splitlines()[0], variable=ENV_VAR)) from exc
        except duckdb.Error as exc:
            raise WarehouseError(M_(
                "Cannot open the warehouse {path}: {reason}. Set {variable} (or --warehouse) to another file.",
                path=str(self.path), reason=str(exc).splitlines()[0], variable=ENV_VAR)) from exc
        self._write_lock = threading.Lock()
        self.schema_version = migrate(self._con)

    def close(self) -> None:
        self._con.close()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: on any exception the warehouse is left as it was."""
        with self._write_lock, self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: Sequence | Mapping | None = None) -> pd.DataFrame:
        with self.cursor() as cur:
            return cur.execute(sql, params or []).df()

    def query_rows(self, sql: str, params: Sequence | Mapping | None = None,
                   text_as_category: bool = False) -> pd.DataFrame:
        """``query`` for millions of rows (a dataset's series): the result goes through Arrow,
        so text reaches its Arrow-backed columns without a Python object per value on the way,
        which less than halves the peak memory of reading a national chain's 50 million rows.
        The same frame as ``query`` gives (dates as ``datetime64[us]``).

        ``text_as_category``: every text column as a pandas categorical, its categories sorted
        (as a group-by on the text would order them). The rows are read in batches, and each
        batch's text is dictionary-encoded by Arrow as it arrives, so the text is never held
        whole: a series id repeated on a thousand days is kept once, with a code per row. A
        national chain's frame takes 2.1 GB instead of 4.5, and reading it peaks at 5.3 GB
        instead of 13. Values, order and ``pd.util.hash_pandas_object`` digests are those of
        the text."""
        with self.cursor() as cur:
            relation = cur.sql(sql, params=params or None)
            if text_as_category:
                frame = _frame_in_batches(relation)
            else:
                table = relation.to_arrow_table()
                frame = table.to_pandas(date_as_object=False)
                del table
        for column in frame.columns:
            if frame[column].dtype.kind == "M" and frame[column].dtype != "datetime64[us]":
                frame[column] = frame[column].astype("datetime64[us]")
        return frame

    def tables(self) -> list[str]:
        frame = self.query("SELECT table_name FROM information_schema.tables ORDER BY table_name")
        return frame["table_name"].tolist()

    # -- datasets ------------------------------------------------------------------
    def create_dataset(
        self,
        spec: DatasetSpec,
        frame: pd.DataFrame,
        side_tables: Mapping[str, pd.DataFrame] | None = None,
        notes: Sequence[str] = (),
        presorted: bool = False,
        generator: Mapping[str, object] | None = None,
    ) -> Dataset:
        """Store ``frame`` (canonical long shape) as a new dataset, atomically.

        ``frame`` holds the key columns, ``ds``, ``y`` and the value columns of
        ``spec``. The series id is made here by joining the keys. Rows are stored by
        series then date; a caller that already has them in that order says
        ``presorted`` and spares the sort (gigabytes at 50,000 series). Nothing is
        written unless everything is.
        """
        name = spec.name.strip()
        if not name:
            raise WarehouseError(M_("Give the dataset a name."))
        if not spec.keys:
            raise WarehouseError(M_("Choose at least one column that identifies a series."))
        columns = [*spec.keys, DATE, TARGET, *spec.value_columns()]
        for column in [*spec.keys, *spec.value_columns()]:
            check_identifier(column)
        if len(set(columns)) != len(columns):
            raise WarehouseError(M_("Each column can have only one role; a column was chosen twice."))
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise WarehouseError(M_("The data has no column(s) {columns} named in the spec.", columns=str(missing)))
        unknown_side = set(side_tables or {}) - set(SIDE_TABLES)
        if unknown_side:
            raise WarehouseError(M_("Unknown side table(s) {tables}; allowed: {allowed}.",
                                    tables=Fmt("names", sorted(unknown_side)), allowed=Fmt("names", list(SIDE_TABLES))))
        if self.find_dataset(name) is not None:
            raise DatasetExistsError(M_(
                "A dataset called '{name}' already exists. Choose another name, or delete the old one first.",
                name=name))

        dataset_id = uuid.uuid4().hex[:12]
        table = f"obs_{dataset_id}"
        select_cols = _canonical_columns(spec)
        order = "" if presorted else f"ORDER BY {SERIES_ID}, {DATE}"
        view = f"incoming_{dataset_id}"
        with self.transaction() as cur:
            cur.register(view, frame)
            try:
                cur.execute(
                    f"CREATE TABLE {table} AS SELECT {select_cols} FROM {view} {order}"
                )
            finally:
                cur.unregister(view)
            n_series, n_rows, start, end, fingerprint = _table_stats(cur, table)
            cur.execute(
                """INSERT INTO datasets (dataset_id, name, freq, source, description, created_at,
                       n_series, n_rows, start_date, end_date, fingerprint, table_name, notes, generator)
                   VALUES (?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?)""",
                [dataset_id, name, spec.freq.value, stored_text(spec.source), stored_text(spec.description),
                 n_series, n_rows, start, end, fingerprint, table, stored_list(notes),
                 None if generator is None else json.dumps(dict(generator), ensure_ascii=False)],
            )
            cur.executemany(
                "INSERT INTO dataset_columns VALUES (?, ?, ?, ?, ?)",
                [
                    [dataset_id, col, role.value, pos, spec.original_names.get(col, col)]
                    for pos, (col, role) in enumerate(spec.roles())
                ],
            )
            for kind, side in (side_tables or {}).items():
                for column in side.columns:
                    check_identifier(column)
                side_name = f"{kind}_{dataset_id}"
                side_view = f"incoming_{side_name}"
                cur.register(side_view, _plain_text(side))
                try:
                    cur.execute(f"CREATE TABLE {side_name} AS SELECT * FROM {side_view}")
                finally:
                    cur.unregister(side_view)
                cur.execute("INSERT INTO dataset_tables VALUES (?, ?, ?)", [dataset_id, kind, side_name])
        return self.get_dataset(dataset_id)

    def append_rows(self, dataset_id: str, frame: pd.DataFrame, replace: bool = False, source: str = "") -> Appended:
        """Add ``frame``'s rows to a dataset, atomically, and log the append.

        ``frame`` has the dataset's columns (keys, ``ds``, ``y`` and every value column of its
        spec; value columns may be empty) in its canonical shape, already validated (see
        ``core.data.importer.validate_append``). Rows whose series and date the dataset
        already has are refused with ``AppendOverlapError`` (their count and dates in the
        message) unless ``replace``: then the stored rows are deleted and the new ones
        written in the same transaction. Series the dataset did not have are added. The
        dataset's counts, dates and fingerprint are recomputed. Nothing is written unless
        everything is.
        """
        dataset = self.get_dataset(dataset_id)
        spec = dataset.spec
        columns = [*spec.keys, DATE, TARGET, *spec.value_columns()]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise WarehouseError(M_("The rows to append to '{name}' have no column(s) {columns}; every column "
                                    "of the dataset is needed (value columns may be empty).", name=dataset.name,
                                    columns=str(missing)))
        if frame.empty:
            raise WarehouseError(M_("There are no rows to append to '{name}'.", name=dataset.name))
        table = dataset.table_name
        select_cols = _canonical_columns(spec)
        append_id = uuid.uuid4().hex[:12]
        view, staged = f"incoming_{append_id}", f"staged_{append_id}"
        with self.transaction() as cur:
            cur.register(view, _plain_text(frame[columns]))
            try:
                cur.execute(f"CREATE TEMP TABLE {staged} AS SELECT {select_cols} FROM {view}")
            finally:
                cur.unregister(view)
            try:
                duplicated = cur.execute(
                    f"SELECT count(*) - count(DISTINCT ({SERIES_ID}, {DATE})) FROM {staged}").fetchone()[0]
                if duplicated:
                    raise WarehouseError(M_("The rows to append have {n:,} repeated series and dates; merge "
                                            "them first (one row per series and date).", n=int(duplicated)))
                overlap, first, last = cur.execute(
                    f"SELECT count(*), min(s.{DATE}), max(s.{DATE}) FROM {staged} s JOIN {table} t "
                    f"USING ({SERIES_ID}, {DATE})").fetchone()
                if overlap and not replace:
                    raise AppendOverlapError(M_(
                        "{n:,} of the rows to append have a series and date '{name}' already holds "
                        "({first} to {last}). Append only the new dates, or choose to replace "
                        "the stored rows with these.", n=int(overlap), name=dataset.name,
                        first=Fmt("date", pd.Timestamp(first).date().isoformat()),
                        last=Fmt("date", pd.Timestamp(last).date().isoformat())),
                        overlap=int(overlap), first=first, last=last)
                n_series, n_new = cur.execute(
                    f"SELECT count(DISTINCT {SERIES_ID}), count(DISTINCT {SERIES_ID}) FILTER (WHERE {SERIES_ID} NOT IN "
                    f"(SELECT DISTINCT {SERIES_ID} FROM {table})) FROM {staged}").fetchone()
                start, end, n_rows = cur.execute(f"SELECT min({DATE}), max({DATE}), count(*) FROM {staged}").fetchone()
                if overlap:
                    cur.execute(f"DELETE FROM {table} WHERE ({SERIES_ID}, {DATE}) IN "
                                f"(SELECT ({SERIES_ID}, {DATE}) FROM {staged})")
                names = ", ".join([SERIES_ID, *(c if c in _RESERVED else quote(c) for c in columns)])
                cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staged} ORDER BY {SERIES_ID}, {DATE}")
            finally:
                cur.execute(f"DROP TABLE IF EXISTS {staged}")
            all_series, all_rows, first_date, last_date, fingerprint = _table_stats(cur, table)
            cur.execute("UPDATE datasets SET n_series = ?, n_rows = ?, start_date = ?, end_date = ?, fingerprint = ? "
                        "WHERE dataset_id = ?", [all_series, all_rows, first_date, last_date, fingerprint, dataset_id])
            cur.execute("INSERT INTO dataset_appends VALUES (?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [append_id, dataset_id, stored_text(source), n_rows, overlap, n_series, n_new, start, end,
                         dataset.fingerprint, fingerprint])
        return Appended(append_id=append_id, dataset=self.get_dataset(dataset_id), n_rows=int(n_rows),
                        n_replaced=int(overlap), n_series=int(n_series), n_new_series=int(n_new),
                        start_date=pd.Timestamp(start).date(), end_date=pd.Timestamp(end).date(), source=source)

    def list_appends(self, dataset_id: str) -> pd.DataFrame:
        """The appends made to a dataset, newest first: append_id, created_at, source, n_rows,
        n_replaced, n_series, n_new_series, start_date, end_date."""
        appends = self.query("SELECT append_id, created_at, source, n_rows, n_replaced, n_series, n_new_series, "
                             "start_date, end_date FROM dataset_appends WHERE dataset_id = ? "
                             "ORDER BY created_at DESC, rowid DESC", [dataset_id])
        appends["source"] = appends["source"].map(read_text).astype(object)
        return appends

    def list_datasets(self) -> list[Dataset]:
        ids = self.query("SELECT dataset_id FROM datasets ORDER BY created_at, name")["dataset_id"]
        return [self.get_dataset(i) for i in ids]

    def find_dataset(self, name: str) -> Dataset | None:
        found = self.query("SELECT dataset_id FROM datasets WHERE name = ?", [name.strip()])
        return self.get_dataset(found["dataset_id"].iloc[0]) if len(found) else None

    def get_dataset(self, dataset_id: str) -> Dataset:
        rows = self.query("SELECT * FROM datasets WHERE dataset_id = ?", [dataset_id])
        if rows.empty:
            raise DatasetNotFoundError(M_(
                "No dataset with id '{dataset_id}' in the warehouse; it may have been deleted. "
                "Pick another dataset.", dataset_id=dataset_id))
        row = rows.iloc[0]
        cols = self.query(
            "SELECT column_name, role, original_name FROM dataset_columns WHERE dataset_id = ? ORDER BY position",
            [dataset_id],
        )
        by_role: dict[str, list[str]] = {}
        for column, role in zip(cols["column_name"], cols["role"], strict=True):
            by_role.setdefault(role, []).append(column)
        side = self.query("SELECT kind, table_name FROM dataset_tables WHERE dataset_id = ?", [dataset_id])
        spec = DatasetSpec(
            name=row["name"],
            freq=Freq(row["freq"]),
            keys=tuple(by_role.get(Role.KEY, [])),
            attributes=tuple(by_role.get(Role.ATTRIBUTE, [])),
            exog_known=tuple(by_role.get(Role.EXOG_KNOWN, [])),
            exog_unknown=tuple(by_role.get(Role.EXOG_UNKNOWN, [])),
            stockout=(by_role.get(Role.STOCKOUT) or [None])[0],
            orders=(by_role.get(Role.ORDERS) or [None])[0],
            source=read_text(row["source"]),
            description=read_text(row["description"]),
            original_names=dict(zip(cols["column_name"], cols["original_name"], strict=True)),
        )
        return Dataset(
            dataset_id=dataset_id,
            name=row["name"],
            spec=spec,
            created_at=row["created_at"].to_pydatetime(),
            n_series=int(row["n_series"]),
            n_rows=int(row["n_rows"]),
            start_date=None if pd.isna(row["start_date"]) else pd.Timestamp(row["start_date"]).date(),
            end_date=None if pd.isna(row["end_date"]) else pd.Timestamp(row["end_date"]).date(),
            fingerprint=row["fingerprint"],
            table_name=row["table_name"],
            side_tables=dict(zip(side["kind"], side["table_name"], strict=True)),
            notes=read_list(row["notes"]),
            generator=None if pd.isna(row["generator"]) else json.loads(row["generator"]),
        )

    def delete_dataset(self, dataset_id: str) -> None:
        dataset = self.get_dataset(dataset_id)
        with self.transaction() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {dataset.table_name}")
            for side in dataset.side_tables.values():
                cur.execute(f"DROP TABLE IF EXISTS {side}")
            # Published batches go with their data: a forecast of series that no longer
            # exist in the warehouse would be read downstream as if it were current.
            for registry in ("batch_forecasts", "forecast_batches", "forecast_monitoring", "dataset_appends",
                             "dataset_tables", "dataset_columns", "datasets"):
                cur.execute(f"DELETE FROM {registry} WHERE dataset_id = ?", [dataset_id])

    def rename_dataset(self, dataset_id: str, new_name: str) -> Dataset:
        new_name = new_name.strip()
        if not new_name:
            raise WarehouseError(M_("Give the dataset a name."))
        other = self.find_dataset(new_name)
        if other is not None and other.dataset_id != dataset_id:
            raise DatasetExistsError(M_("A dataset called '{name}' already exists; choose another name.",
                                        name=new_name))
        self.get_dataset(dataset_id)
        with self.transaction() as cur:
            cur.execute("UPDATE datasets SET name = ? WHERE dataset_id = ?", [new_name, dataset_id])
        return self.get_dataset(dataset_id)

    def side_table(self, dataset: Dataset, kind: str) -> pd.DataFrame | None:
        table = dataset.side_tables.get(kind)
        return None if table is None else self.query(f"SELECT * FROM {table}")
