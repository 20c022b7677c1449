"""The warehouse layer: the only code in Mitoshi that holds SQL.

``store`` owns the DuckDB connection, the schema migrations and the dataset registry;
``explore`` builds the read queries of the Data page. Both run every statement through
``Warehouse.query`` / ``Warehouse.transaction`` with bound parameters.
"""

from core.warehouse.store import (
    DEFAULT_PATH,
    ENV_VAR,
    MIGRATIONS,
    SCHEMA_VERSION,
    SIDE_TABLES,
    Dataset,
    DatasetSpec,
    Warehouse,
    check_identifier,
    migrate,
    quote,
    warehouse_path,
)

__all__ = [
    "DEFAULT_PATH", "ENV_VAR", "MIGRATIONS", "SCHEMA_VERSION", "SIDE_TABLES", "Dataset", "DatasetSpec",
    "Warehouse", "check_identifier", "migrate", "quote", "warehouse_path",
]
