"""A running app whose code is updated: Streamlit reloads the modules but keeps the warehouse
the code before opened, at the schema it knew. The next page brings it up to this code's
schema instead of querying tables it lacks (a fresh user met ``Table with name reports does
not exist`` on three pages)."""

from __future__ import annotations

from core.warehouse import SCHEMA_VERSION, Warehouse


def test_a_warehouse_opened_by_older_code_is_migrated_before_a_page_uses_it(tmp_path):
    from ui.state import _up_to_date

    warehouse = Warehouse(tmp_path / "wh.duckdb")
    with warehouse.transaction() as cur:  # as the code before the last migration left it
        cur.execute("DROP TABLE reports")
        cur.execute("DELETE FROM schema_version WHERE version = ?", [SCHEMA_VERSION])
    warehouse.schema_version = SCHEMA_VERSION - 1
    assert "reports" not in warehouse.tables()
    assert _up_to_date(warehouse) is warehouse
    assert warehouse.schema_version == SCHEMA_VERSION and "reports" in warehouse.tables()
    assert warehouse.query("SELECT count(*) AS n FROM reports")["n"].iloc[0] == 0
    _up_to_date(warehouse)  # already up to date: nothing runs twice
    assert warehouse.query("SELECT max(version) AS v FROM schema_version")["v"].iloc[0] == SCHEMA_VERSION
    warehouse.close()
