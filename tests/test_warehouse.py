from __future__ import annotations

import threading

import duckdb
import pandas as pd
import pytest

from core.columns import Freq
from core.errors import DatasetExistsError, DatasetNotFoundError, WarehouseError
from core.warehouse import SCHEMA_VERSION, DatasetSpec, Warehouse, check_identifier, migrate
from tests.conftest import small_frame


def registry_state(wh: Warehouse) -> tuple:
    """Everything a failed write must leave untouched."""
    return (
        tuple(wh.tables()),
        tuple(map(tuple, wh.query("SELECT * FROM datasets ORDER BY dataset_id").astype(str).to_numpy())),
        tuple(map(tuple, wh.query("SELECT * FROM dataset_columns ORDER BY ALL").astype(str).to_numpy())),
    )


def test_fresh_warehouse_is_at_latest_schema(warehouse):
    assert warehouse.schema_version == SCHEMA_VERSION
    assert {"datasets", "dataset_columns", "dataset_tables", "schema_version"} <= set(warehouse.tables())


def test_old_warehouse_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    migrate(con, upto=1)  # a warehouse written by the first release
    con.execute(
        "INSERT INTO datasets VALUES ('abc', 'old one', 'D', 'src', '', now(), 1, 2, '2024-01-01', '2024-01-02', 'f', 'obs_abc')"
    )
    con.execute("CREATE TABLE obs_abc AS SELECT 'a' AS unique_id, 'a' AS k, DATE '2024-01-01' AS ds, 1.0 AS y")
    con.execute("INSERT INTO dataset_columns VALUES ('abc', 'k', 'key', 0, 'k')")
    con.close()

    wh = Warehouse(path)
    assert wh.schema_version == SCHEMA_VERSION
    old = wh.find_dataset("old one")
    assert old is not None and old.notes == () and old.side_tables == {} and old.spec.keys == ("k",)
    wh.close()
    assert Warehouse(path).schema_version == SCHEMA_VERSION  # reopening is idempotent


def test_newer_warehouse_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "new.duckdb"
    con = duckdb.connect(str(path))
    migrate(con)
    con.execute("INSERT INTO schema_version VALUES (?, now())", [SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(WarehouseError, match="newer Mitoshi"):
        Warehouse(path)


def test_create_read_rename_delete_round_trip(warehouse, small_spec):
    frame = small_frame()
    before = registry_state(warehouse)
    dataset = warehouse.create_dataset(small_spec, frame, side_tables={"items": pd.DataFrame({"item": ["I0"]})},
                                       notes=["filled 2 gaps"])
    assert (dataset.n_series, dataset.n_rows) == (6, len(frame))
    assert dataset.spec.keys == ("store", "item") and dataset.spec.attributes == ("category",)
    assert dataset.spec.exog_known == ("promo",) and dataset.freq is Freq.DAILY
    assert dataset.notes == ("filled 2 gaps",)
    stored = warehouse.query(f"SELECT * FROM {dataset.table_name} ORDER BY unique_id, ds")
    assert stored["unique_id"].iloc[0] == "S0/I0"
    assert stored["y"].sum() == pytest.approx(frame["y"].sum())
    assert warehouse.side_table(dataset, "items")["item"].tolist() == ["I0"]

    renamed = warehouse.rename_dataset(dataset.dataset_id, "店舗別 売上")
    assert warehouse.find_dataset("店舗別 売上").dataset_id == renamed.dataset_id
    warehouse.delete_dataset(dataset.dataset_id)
    assert registry_state(warehouse) == before
    with pytest.raises(DatasetNotFoundError):
        warehouse.get_dataset(dataset.dataset_id)


def test_a_large_read_through_arrow_gives_the_frame_query_gives(warehouse, small_spec):
    """``query_rows`` (a dataset's series, millions of rows) reads through Arrow: the same
    values and types as ``query``, dates as datetime64[us], user values bound."""
    frame = small_frame()
    dataset = warehouse.create_dataset(small_spec, frame)
    sql = f"SELECT * FROM {dataset.table_name} WHERE store = ? ORDER BY unique_id, ds"
    through_arrow = warehouse.query_rows(sql, ["S0"])
    assert len(through_arrow) and (through_arrow["store"] == "S0").all()
    assert through_arrow["ds"].dtype == "datetime64[us]"
    pd.testing.assert_frame_equal(through_arrow, warehouse.query(sql, ["S0"]))


def test_datasets_live_side_by_side(warehouse, small_spec):
    first = warehouse.create_dataset(small_spec, small_frame())
    second = warehouse.create_dataset(DatasetSpec(**{**small_spec.__dict__, "name": "other"}), small_frame(seed=3))
    assert first.table_name != second.table_name
    assert [d.name for d in warehouse.list_datasets()] == ["small", "other"]
    assert first.fingerprint != second.fingerprint


def test_fingerprint_depends_on_the_data_only(tmp_path, small_spec):
    a = Warehouse(tmp_path / "a.duckdb").create_dataset(small_spec, small_frame())
    b = Warehouse(tmp_path / "b.duckdb").create_dataset(small_spec, small_frame().sample(frac=1, random_state=1))
    assert a.fingerprint == b.fingerprint


def test_duplicate_name_is_refused_and_nothing_changes(warehouse, small_spec):
    warehouse.create_dataset(small_spec, small_frame())
    before = registry_state(warehouse)
    with pytest.raises(DatasetExistsError, match="already exists"):
        warehouse.create_dataset(small_spec, small_frame())
    assert registry_state(warehouse) == before


def test_failure_half_way_leaves_the_warehouse_as_it_was(warehouse, small_spec):
    before = registry_state(warehouse)
    bad_side = pd.DataFrame({"bad name!": [1]})  # refused only after the observations table was made
    with pytest.raises(WarehouseError):
        warehouse.create_dataset(small_spec, small_frame(), side_tables={"items": bad_side})
    assert registry_state(warehouse) == before


@pytest.mark.parametrize("name", ['x"; DROP TABLE datasets; --', "1abc", "", "unique_id", "a b", "y"])
def test_unsafe_identifiers_are_refused(name):
    with pytest.raises(WarehouseError):
        check_identifier(name)


def test_japanese_identifiers_are_allowed():
    assert check_identifier("店舗") == "店舗"


def test_user_values_are_bound_not_spliced(warehouse, small_spec):
    name = "x'); DROP TABLE datasets; --"
    warehouse.create_dataset(DatasetSpec(**{**small_spec.__dict__, "name": name}), small_frame())
    assert warehouse.find_dataset(name).name == name
    assert "datasets" in warehouse.tables()


def test_concurrent_readers_share_one_connection(warehouse, small_spec):
    dataset = warehouse.create_dataset(small_spec, small_frame())
    results, errors = [], []

    def read() -> None:
        try:
            for _ in range(20):
                results.append(int(warehouse.query(f"SELECT count(*) AS n FROM {dataset.table_name}")["n"][0]))
        except Exception as exc:  # collected so the main thread can fail the test
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == [dataset.n_rows] * 80


def test_missing_spec_columns_are_reported(warehouse, small_spec):
    with pytest.raises(WarehouseError, match="no column"):
        warehouse.create_dataset(small_spec, small_frame().drop(columns=["promo"]))


def test_categorical_attributes_are_stored_as_text(warehouse, small_spec):
    frame = small_frame().astype({"category": "category", "store": "category"})
    dataset = warehouse.create_dataset(small_spec, frame, side_tables={"items": frame[["item", "category"]]})
    types = warehouse.query(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE column_name IN ('category', 'store')"
    )
    assert set(types["data_type"]) == {"VARCHAR"}, types
    assert dataset.n_series == 6


def test_text_read_as_categories_in_batches_keeps_every_value(warehouse, small_spec, monkeypatch):
    """``query_rows(..., text_as_category=True)`` (a backtest's read) reads in batches and
    dictionary-encodes each batch's text: across batch boundaries the values, their order,
    missing text and the fingerprint's digest are those of a plain read, and the categories
    are sorted as a group-by on the text sorts them."""
    import core.warehouse.store as store

    frame = small_frame(stores=3, items=4, days=20)
    frame.loc[frame.index % 7 == 0, "category"] = None
    dataset = warehouse.create_dataset(small_spec, frame)
    sql = f"SELECT * FROM {dataset.table_name} ORDER BY ds DESC, unique_id"  # categories not in first-seen order
    plain = warehouse.query_rows(sql)
    monkeypatch.setattr(store, "READ_BATCH_ROWS", 25)  # 240 rows: 10 batches
    coded = warehouse.query_rows(sql, text_as_category=True)
    for column in ("unique_id", "store", "item", "category"):
        assert isinstance(coded[column].dtype, pd.CategoricalDtype)
        assert list(coded[column].cat.categories) == sorted(plain[column].dropna().unique())
        assert coded[column].astype(object).where(coded[column].notna(), None).tolist() == \
            plain[column].astype(object).where(plain[column].notna(), None).tolist()
    assert coded["category"].isna().sum() == frame["category"].isna().sum() > 0
    pd.testing.assert_frame_equal(coded.drop(columns=["unique_id", "store", "item", "category"]),
                                  plain.drop(columns=["unique_id", "store", "item", "category"]))
    digest = lambda f: pd.util.hash_pandas_object(f[["unique_id", "ds", "y"]], index=False).sum()  # noqa: E731
    assert digest(coded) == digest(plain)
    empty = warehouse.query_rows(f"SELECT * FROM {dataset.table_name} WHERE store = ?", ["nowhere"],
                                 text_as_category=True)
    assert empty.empty and list(empty.columns) == list(plain.columns)
    assert isinstance(empty["unique_id"].dtype, pd.CategoricalDtype) and empty["ds"].dtype == "datetime64[us]"
