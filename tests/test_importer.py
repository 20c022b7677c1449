from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pytest

from core.columns import DATE, TARGET, Freq
from core.data.importer import (
    ColumnMapping,
    Repairs,
    import_table,
    infer_freq,
    parse_dates,
    read_table,
    safe_names,
    suggest_mapping,
    validate,
)
from core.errors import ImportProblemError
from tests.test_warehouse import registry_state


def sales(days: int = 60, stores: tuple[str, ...] = ("渋谷店", "梅田店"), items: tuple[str, ...] = ("弁当", "牛乳"),
          freq: str = "D") -> pd.DataFrame:
    dates = pd.date_range("2025-01-06", periods=days, freq=freq)
    rows = [
        {"店舗": s, "商品": i, "カテゴリ": "惣菜" if i == "弁当" else "日配", "日付": d.strftime("%Y/%m/%d"),
         "販売数": (n * 3 + k) % 11, "特売": int(n % 9 == 0)}
        for k, (s, i) in enumerate((s, i) for s in stores for i in items)
        for n, d in enumerate(dates)
    ]
    return pd.DataFrame(rows)


def as_csv(frame: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False).encode(encoding)


MAPPING = ColumnMapping(keys=("店舗", "商品"), date="日付", target="販売数", attributes=("カテゴリ",),
                        exog_known=("特売",))


def value(report, store: str, item: str, day: str) -> pd.Series:
    return report.frame.set_index(["店舗", "商品", DATE]).loc[(store, item, pd.Timestamp(day))]


def problems_of(frame: pd.DataFrame, mapping: ColumnMapping = MAPPING, repairs: Repairs = Repairs()):
    report = validate(read_table(as_csv(frame), "sales.csv"), mapping, repairs)
    return report, {p.code: p for p in report.problems}


# ---- reading -----------------------------------------------------------------------
def test_reads_utf8_and_shift_jis_csv_alike():
    frame = sales()
    utf8 = read_table(as_csv(frame), "s.csv")
    sjis = read_table(as_csv(frame, "cp932"), "s.csv")
    assert sjis.encoding == "cp932" and utf8.encoding == "utf-8"
    pd.testing.assert_frame_equal(utf8.frame, sjis.frame)
    assert list(sjis.frame.columns) == ["店舗", "商品", "カテゴリ", "日付", "販売数", "特売"]


def test_reads_gzip_parquet_and_excel():
    frame = sales(days=10)
    gz = read_table(gzip.compress(as_csv(frame)), "s.csv.gz").frame
    buf = io.BytesIO()
    frame.to_parquet(buf)
    pq = read_table(buf.getvalue(), "s.parquet").frame
    xbuf = io.BytesIO()
    with pd.ExcelWriter(xbuf, engine="openpyxl") as writer:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(writer, sheet_name="表紙", index=False)
        frame.to_excel(writer, sheet_name="売上", index=False)
    book = read_table(xbuf.getvalue(), "s.xlsx", sheet="売上")
    assert book.sheets == ("表紙", "売上")
    for read in (gz, pq, book.frame):
        assert len(read) == len(frame) and list(read.columns) == list(frame.columns)


def test_semicolon_and_tab_separated_files_are_sniffed():
    frame = sales(days=5)
    for sep in (";", "\t"):
        assert list(read_table(frame.to_csv(index=False, sep=sep).encode(), "s.csv").frame.columns) == list(frame.columns)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.csv", "is empty"),
        (b"   \n", "blank.csv", "is empty"),
        (b"a,b,c\n", "header_only.csv", "no data rows"),
        (b"x" * 2048, "big.csv", "the limit is"),
        (b"not a parquet file", "s.parquet", "not a readable Parquet"),
        (b"not excel", "s.xlsx", "not a readable Excel"),
        (b"a,b\n1,2\n", "s.json", "cannot be imported"),
        (b"\xff\xfe\xfa\x80\x81", "s.csv", "neither UTF-8 nor Shift_JIS"),
        (b"a,a\n1,2\n", "dup.csv", "more than one column called"),
    ],
)
def test_unreadable_files_get_a_clear_message(data, name, message):
    with pytest.raises(ImportProblemError, match=message):
        read_table(data, name, max_mb=0.001 if name == "big.csv" else 200)


# ---- mapping -----------------------------------------------------------------------
def test_suggested_mapping_finds_roles():
    mapping = suggest_mapping(read_table(as_csv(sales()), "s.csv").frame)
    assert mapping.date == "日付" and mapping.target == "販売数"
    assert set(mapping.keys) == {"店舗", "商品"} and mapping.attributes == ("カテゴリ",)
    assert mapping.exog_known == ("特売",)


def test_suggested_mapping_prefers_one_id_column_and_keeps_the_rest_as_attributes():
    frame = pd.DataFrame({"State": ["A", "A", "B", "B"], "Industry": ["x", "x", "x", "x"],
                          "series_id": ["s1", "s1", "s2", "s2"], "Month": ["2020 Jan", "2020 Feb"] * 2,
                          "Turnover": ["1.5", "2", "3", "4"]})
    mapping = suggest_mapping(frame)
    assert mapping.keys == ("series_id",) and set(mapping.attributes) == {"State", "Industry"}
    assert mapping.date == "Month" and mapping.target == "Turnover"


@pytest.mark.parametrize(
    ("values", "expected"),
    [(["2024-04-01", "2024-04-02"], "2024-04-01"), (["2024/04/01", "2024/04/02"], "2024-04-01"),
     (["2024年4月1日", "2024年4月2日"], "2024-04-01"), (["1982 Apr", "1982 May"], "1982-04-01"),
     (["20240401", "20240402"], "2024-04-01")],
)
def test_date_formats(values, expected):
    assert parse_dates(pd.Series(values)).values.iloc[0] == pd.Timestamp(expected)


def test_frequency_is_inferred():
    for freq, expected in (("D", Freq.DAILY), ("7D", Freq.WEEKLY), ("MS", Freq.MONTHLY)):
        dates = pd.Series(pd.date_range("2024-01-01", periods=30, freq=freq))
        assert infer_freq(dates, pd.Series(["a"] * 30)) is expected


def test_safe_names_are_unique_identifiers():
    names = safe_names(["Store ID", "store-id", "2024 sales", "unique_id", "店舗"])
    assert list(names.values()) == ["Store_ID", "store_id_2", "c_2024_sales", "unique_id_2", "店舗"]


# ---- validation: every bad input has its message -----------------------------------
def test_clean_file_passes_and_becomes_canonical():
    report, found = problems_of(sales())
    assert report.ok and not found
    assert report.freq is Freq.DAILY and report.info["series"] == 4
    assert list(report.frame.columns) == ["店舗", "商品", DATE, TARGET, "カテゴリ", "特売"]
    assert report.spec.original_names[TARGET] == "販売数"


def test_date_column_that_is_not_a_date_blocks():
    _, found = problems_of(sales(), ColumnMapping(keys=("店舗", "商品"), date="カテゴリ", target="販売数"))
    assert "does not look like a date" in found["not_a_date"].message
    assert found["not_a_date"].repair is None and len(found["not_a_date"].examples) > 0


def test_unparseable_dates_block_until_dropped():
    frame = sales()
    frame.loc[[3, 70], "日付"] = ["2025/13/45", "someday"]
    _, found = problems_of(frame)
    assert found["bad_dates"].count == 2 and found["bad_dates"].repair == "drop_bad_dates"
    assert set(found["bad_dates"].examples["row"]) == {5, 72}  # file row numbers, header = 1
    report, found = problems_of(frame, repairs=Repairs(drop_bad_dates=True, fill_gaps="zero"))
    assert report.ok and any("Dropped 2 row" in n for n in report.notes)


def test_non_numeric_and_empty_targets():
    frame = sales()
    frame["販売数"] = frame["販売数"].astype(object)
    frame.loc[[0, 1], "販売数"] = ["abc", None]
    _, found = problems_of(frame)
    assert found["bad_targets"].count == 2 and found["bad_targets"].options == ("drop", "zero")
    report, _ = problems_of(frame, repairs=Repairs(bad_targets="zero"))
    assert report.ok and value(report, "渋谷店", "弁当", "2025-01-06")[TARGET] == 0.0
    assert value(report, "渋谷店", "弁当", "2025-01-07")[TARGET] == 0.0


def test_target_that_is_not_a_number_blocks():
    _, found = problems_of(sales(), ColumnMapping(keys=("店舗",), date="日付", target="商品"))
    assert "cannot be the target" in found["target_not_numeric"].message


def test_negative_targets_block_until_repaired():
    frame = sales()
    frame.loc[5, "販売数"] = -3
    _, found = problems_of(frame)
    assert found["negative_targets"].count == 1
    report, _ = problems_of(frame, repairs=Repairs(negatives="zero"))
    assert report.ok and report.frame[TARGET].min() == 0


def test_duplicate_rows_block_until_merged():
    frame = pd.concat([sales(), sales().iloc[[0, 1]]], ignore_index=True)
    _, found = problems_of(frame)
    assert found["duplicates"].count == 4 and found["duplicates"].repair == "duplicates"
    report, _ = problems_of(frame, repairs=Repairs(duplicates="sum"))
    merged, original = value(report, "渋谷店", "弁当", "2025-01-07"), sales().iloc[1]
    assert report.ok and merged[TARGET] == 2 * original["販売数"] == 6 and merged["特売"] == original["特売"]


def test_calendar_gaps_block_until_filled():
    frame = sales().drop(index=[10, 11, 12])
    _, found = problems_of(frame)
    assert found["gaps"].count == 3 and "missing" in found["gaps"].message
    report, _ = problems_of(frame, repairs=Repairs(fill_gaps="zero"))
    assert report.ok and len(report.frame) == len(sales())
    filled = value(report, "渋谷店", "弁当", "2025-01-16")
    assert filled[TARGET] == 0 and filled["カテゴリ"] == "惣菜" and filled["特売"] == 0
    report, _ = problems_of(frame, repairs=Repairs(fill_gaps="interpolate"))
    # day 9 sold (3*9) % 11 = 5 and day 13 sold (3*13) % 11 = 6: a straight line between them
    assert [value(report, "渋谷店", "弁当", d)[TARGET] for d in ("2025-01-16", "2025-01-17", "2025-01-18")] == \
        pytest.approx([5.25, 5.5, 5.75])


def test_short_series_block_until_dropped():
    frame = pd.concat([sales(days=80), sales(days=20, stores=("新店",))], ignore_index=True)
    _, found = problems_of(frame)
    assert found["short_series"].count == 2 and "fewer than 56" in found["short_series"].message
    report, _ = problems_of(frame, repairs=Repairs(drop_short_series=True))
    assert report.ok and report.info["series"] == 4


def test_all_series_short_blocks_without_repair():
    _, found = problems_of(sales(days=20))
    assert found["all_short"].repair is None


def test_missing_keys_block_until_dropped():
    frame = sales()
    frame.loc[0, "店舗"] = None
    _, found = problems_of(frame)
    assert found["missing_keys"].count == 1
    report, _ = problems_of(frame, repairs=Repairs(drop_missing_keys=True, fill_gaps="zero"))
    assert report.ok


def test_attribute_that_varies_within_a_series_blocks():
    frame = sales()
    frame.loc[3, "カテゴリ"] = "別"
    _, found = problems_of(frame)
    assert "changes within 1 series" in found["attribute_varies"].message


def test_text_in_an_exogenous_column_blocks_but_yes_no_is_understood():
    frame = sales()
    frame["特売"] = frame["特売"].map({0: "no", 1: "yes"})
    report, _ = problems_of(frame)
    assert report.ok and set(report.frame["特売"]) == {0.0, 1.0}
    frame.loc[2, "特売"] = "maybe"
    _, found = problems_of(frame)
    assert "'maybe'" in found["exog_not_numeric"].message


def test_weekly_dates_on_mixed_weekdays_block_until_aligned():
    frame = sales(days=40, freq="7D")
    shifted = pd.to_datetime(frame["日付"]).copy()
    shifted.iloc[5] += pd.Timedelta(days=2)
    frame["日付"] = shifted.dt.strftime("%Y-%m-%d")
    _, found = problems_of(frame)
    assert found["off_grid"].count == 1
    report, _ = problems_of(frame, repairs=Repairs(align_dates=True))
    assert report.ok and report.freq is Freq.WEEKLY


def test_a_key_that_identifies_rows_not_series_is_explained():
    frame = sales()
    frame["row_id"] = range(len(frame))
    _, found = problems_of(frame, ColumnMapping(keys=("row_id",), date="日付", target="販売数"))
    assert "seems to identify rows" in found["one_row_per_series"].message


def test_irregular_dates_ask_for_the_frequency():
    frame = sales(days=80)
    frame = frame[pd.to_datetime(frame["日付"]).dt.day % 3 == 0]  # every third day, month ends irregular
    _, found = problems_of(frame)
    assert "Choose the frequency yourself" in found["unknown_freq"].message


def test_mapping_errors_are_refused():
    raw = read_table(as_csv(sales()), "s.csv")
    with pytest.raises(ImportProblemError, match="two roles"):
        validate(raw, ColumnMapping(keys=("店舗",), date="日付", target="販売数", exog_known=("販売数",)))
    with pytest.raises(ImportProblemError, match="no column"):
        validate(raw, ColumnMapping(keys=("nope",), date="日付", target="販売数"))
    with pytest.raises(ImportProblemError, match="identifies a series"):
        validate(raw, ColumnMapping(keys=(), date="日付", target="販売数"))


def test_a_file_with_no_dates_or_no_numbers_is_refused_for_that_reason():
    """A file without any date column, or without any number: the refusal says so first (it said
    "choose a column that identifies a series"), whatever the mapping."""
    raw = read_table(b"name,comment\nfoo,hello\nbar,world\n", "notes.csv")
    report = validate(raw, suggest_mapping(raw.frame))
    [problem] = report.problems
    assert problem.code == "no_dates" and problem.count == 2 and not report.ok
    assert problem.message.startswith("No column of the file reads as dates (columns: name, comment)")
    assert problem.examples["row"].tolist() == [2, 3] and problem.examples["name"].tolist() == ["foo", "bar"]
    raw = read_table(b"store,day,note\nA,2024-01-01,x\nA,2024-01-02,y\n", "no_sales.csv")
    [problem] = validate(raw, ColumnMapping(keys=("store",), date="day", target="note")).problems
    assert problem.code == "no_numbers"
    assert problem.message.startswith("No column of the file holds numbers (columns: store, day, note)")


# ---- importing ---------------------------------------------------------------------
def test_import_stores_the_dataset_with_its_roles(warehouse):
    raw = read_table(as_csv(sales(), "cp932"), "売上.csv")
    dataset = import_table(warehouse, raw, MAPPING, name="AI商店 売上")
    assert dataset.n_series == 4 and dataset.freq is Freq.DAILY
    assert dataset.spec.keys == ("店舗", "商品") and dataset.spec.exog_known == ("特売",)
    assert dataset.label(TARGET) == "販売数" and "cp932" in str(dataset.spec.source)  # a message, rendered


@pytest.mark.parametrize(
    "breaker",
    [
        lambda f: f.assign(日付="not a date"),
        lambda f: f.drop(index=[10]),
        lambda f: pd.concat([f, f.iloc[[0]]]),
        lambda f: f.assign(販売数=-f["販売数"] - 1),
    ],
)
def test_a_blocked_import_leaves_the_warehouse_unchanged(warehouse, breaker):
    import_table(warehouse, read_table(as_csv(sales()), "first.csv"), MAPPING, name="first")
    before = registry_state(warehouse)
    with pytest.raises(ImportProblemError) as raised:
        import_table(warehouse, read_table(as_csv(breaker(sales())), "bad.csv"), MAPPING, name="second")
    assert raised.value.problems and str(raised.value).startswith("Not imported:")
    assert registry_state(warehouse) == before


def test_import_under_an_existing_name_is_refused_and_changes_nothing(warehouse):
    raw = read_table(as_csv(sales()), "s.csv")
    import_table(warehouse, raw, MAPPING, name="same")
    before = registry_state(warehouse)
    with pytest.raises(Exception, match="already exists"):
        import_table(warehouse, raw, MAPPING, name="same")
    assert registry_state(warehouse) == before


# ---- a hierarchy in one file: sums of other series ---------------------------------
def hierarchy(days: int = 90) -> pd.DataFrame:
    """Three stores of one state, two of another, and each state's total beside them (as M5's file is)."""
    rng = np.random.default_rng(4)
    dates = pd.date_range("2025-01-06", periods=days, freq="D")
    stores = {"CA_1": "CA", "CA_2": "CA", "CA_3": "CA", "TX_1": "TX", "TX_2": "TX"}
    rows = {s: rng.integers(0, 40, days) for s in stores}
    frame = [pd.DataFrame({"series_id": s, "level": "store", "state_id": st, "date": dates, "sales": v})
             for s, st, v in ((s, stores[s], rows[s]) for s in stores)]
    for state in ("CA", "TX"):
        total = sum(rows[s] for s in stores if stores[s] == state)
        frame.append(pd.DataFrame({"series_id": state, "level": "state", "state_id": state, "date": dates,
                                   "sales": total}))
    return pd.concat(frame, ignore_index=True).assign(date=lambda f: f["date"].dt.strftime("%Y-%m-%d"))


HIERARCHY = ColumnMapping(keys=("series_id",), date="date", target="sales", attributes=("level", "state_id"))


def test_series_that_are_sums_of_others_block_the_import_until_left_out_or_kept():
    report, found = problems_of(hierarchy(), HIERARCHY)
    assert not report.ok and set(found) == {"aggregate_series"}
    problem = found["aggregate_series"]
    assert problem.count == 2 and problem.repair == "aggregates" and problem.options == ("drop", "keep")
    assert problem.examples.to_dict("records") == [
        {"series_id": "CA", "sum of": "the 3 other series with state_id 'CA'"},
        {"series_id": "TX", "sum of": "the 2 other series with state_id 'TX'"}]
    left_out, _ = problems_of(hierarchy(), HIERARCHY, Repairs(aggregates="drop"))
    assert left_out.ok and sorted(left_out.frame["series_id"].unique()) == ["CA_1", "CA_2", "CA_3", "TX_1", "TX_2"]
    assert left_out.notes[-1].startswith("Left out 2 series that are sums of other series")
    kept, _ = problems_of(hierarchy(), HIERARCHY, Repairs(aggregates="keep"))
    assert kept.ok and kept.frame["series_id"].nunique() == 7
    assert any(n.startswith("Kept 2 series that are sums of other series") for n in kept.notes)


def test_a_chain_total_and_an_all_items_row_are_found_without_an_attribute_naming_them():
    # the chain's total beside its stores (no attribute groups them), and an "ALL" item in each store
    frame = hierarchy().query("level == 'store'")
    chain = frame.groupby("date", as_index=False)["sales"].sum().assign(series_id="chain", level="chain",
                                                                          state_id="-")
    _, found = problems_of(pd.concat([frame, chain], ignore_index=True), HIERARCHY)
    assert found["aggregate_series"].examples.to_dict("records") == [{"series_id": "chain",
                                                                      "sum of": "every other series"}]
    items = sales(stores=("渋谷店", "梅田店"), items=("弁当", "牛乳", "パン"))
    all_items = items.groupby(["店舗", "日付"], as_index=False)["販売数"].sum().assign(商品="ALL", カテゴリ="全体",
                                                                                     特売=0)
    _, found = problems_of(pd.concat([items, all_items], ignore_index=True))
    assert sorted(found["aggregate_series"].examples["商品"]) == ["ALL", "ALL"]


def test_series_that_only_look_alike_are_not_called_sums():
    # the generated sales, and a file of slow movers mostly at zero: no series is half of its group's total
    assert "aggregate_series" not in problems_of(sales(items=("弁当", "牛乳", "パン")))[1]
    zeros = sales(items=("弁当", "牛乳", "パン")).assign(販売数=lambda f: (f.index % 17 == 0).astype(int))
    assert "aggregate_series" not in problems_of(zeros)[1]
