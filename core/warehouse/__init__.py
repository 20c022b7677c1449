"""The warehouse: what every step shares, and nothing of any step.

``store`` owns the one DuckDB connection, the one executor of SQL (``Warehouse.query`` /
``Warehouse.transaction``, bound parameters, quoted identifiers), the schema migrations and
the dataset registry. Each step keeps its own SQL in its package (``core/backtest/store.py``,
``core/decision/store.py``, ...) and runs it through that executor; no module here imports a step.
"""

from core.warehouse.store import (
    DEFAULT_PATH,
    ENV_VAR,
    MIGRATIONS,
    SCHEMA_VERSION,
    SIDE_TABLES,
    Appended,
    Dataset,
    DatasetSpec,
    Warehouse,
    check_identifier,
    migrate,
    quote,
    read_list,
    read_text,
    stored_list,
    stored_text,
    warehouse_path,
)

__all__ = [
    "DEFAULT_PATH", "ENV_VAR", "MIGRATIONS", "SCHEMA_VERSION", "SIDE_TABLES", "Appended", "Dataset", "DatasetSpec",
    "Warehouse", "check_identifier", "migrate", "quote", "read_list", "read_text", "stored_list", "stored_text",
    "warehouse_path",
]
