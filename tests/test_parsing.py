"""Dates, numbers and keys as retail systems and Excel export them (core.data.parsing and
the importer's use of it), and the command line's handling of a bad warehouse and repairs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.backtest import __main__ as cli
from core.columns import Freq, series_ids
from core.data.importer import ColumnMapping, RawTable, Repairs, import_table, suggest_mapping, validate
from core.data.parsing import parse_dates, parse_numbers
from core.errors import ImportProblemError, MitoshiError
from core.warehouse import Warehouse
from core.warehouse.store import series_id_sql


def raw(frame: pd.DataFrame, delimiter: str | None = ",") -> RawTable:
    return RawTable(frame=frame, file_name="t.csv", size_bytes=1, delimiter=delimiter)


def daily(n: int = 70, keys=("S1",), start="2024-01-01") -> pd.DataFrame:
    dates = pd.date_range(start, periods=n).strftime("%Y-%m-%d")
    return pd.DataFrame({"store": np.repeat(keys, n), "date": np.tile(dates, len(keys)),
                         "units": np.tile(np.arange(n) % 7 + 1, len(keys)).astype(str)})


# --- dates -------------------------------------------------------------------------
def test_day_month_order_follows_the_regular_grid():
    months = pd.date_range("2022-01-01", periods=36, freq="MS")
    us = pd.Series([f"{d.month}/1/{d.year}" for d in months])
    parsed = parse_dates(us, column="month")
    assert parsed.values.tolist() == list(months)
    assert "month-first" in parsed.note and "2/1/2022 is 1 February 2022" in parsed.note
    days = pd.date_range("2022-01-01", periods=40)
    european = pd.Series([f"{d.day:02d}/{d.month:02d}/{d.year}" for d in days])
    parsed = parse_dates(european, column="day")
    assert parsed.values.tolist() == list(days) and "day-first" in parsed.note


def test_day_month_order_uses_the_frequency_when_given():
    # 1st to 12th of each month, daily: day-first is the grid, month-first would not be.
    days = [d for d in pd.date_range("2024-01-01", "2024-06-30") if d.day <= 12]
    text = pd.Series([f"{d.day}/{d.month}/{d.year}" for d in days])
    parsed = parse_dates(text, Freq.DAILY, pd.Series(["a"] * len(text)))
    assert parsed.values.iloc[1] == pd.Timestamp("2024-01-02")


def test_excel_serial_days_and_japanese_forms():
    serial = parse_dates(pd.Series([45292, 45293, 45294]), column="d")
    assert serial.values.tolist() == list(pd.date_range("2024-01-01", periods=3))
    assert "Excel serial" in serial.note
    assert parse_dates(pd.Series(["45292", "45293"])).values.iloc[1] == pd.Timestamp("2024-01-02")
    assert parse_dates(pd.Series(["20240401", "20240402"])).values.iloc[0] == pd.Timestamp("2024-04-01")
    assert parse_dates(pd.Series(["2024/04/01(月)", "2024/04/02(火)"])).values.iloc[1] == pd.Timestamp("2024-04-02")
    assert parse_dates(pd.Series(["令和6年4月1日", "令和元年5月1日"])).values.tolist() == [
        pd.Timestamp("2024-04-01"), pd.Timestamp("2019-05-01")]


def test_offsets_keep_each_rows_local_day_across_summer_time():
    days = pd.date_range("2024-03-28", periods=6, tz="Europe/Berlin")  # summer time starts 03-31
    parsed = parse_dates(pd.Series([d.isoformat() for d in days]), column="date")
    assert parsed.values.tolist() == list(pd.date_range("2024-03-28", periods=6))
    assert "+01:00, +02:00" in parsed.note


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Europe/Berlin", "America/New_York"])
def test_utc_timestamps_of_local_midnights_are_converted_to_their_zone(zone):
    days = pd.date_range("2024-03-25", periods=14, tz=zone)
    text = pd.Series(days.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"))
    parsed = parse_dates(text, column="date")
    assert parsed.values.tolist() == list(days.tz_localize(None))  # never one day early
    assert zone in parsed.note
    typed = parse_dates(pd.Series(days.tz_convert("UTC")), column="date")  # Parquet timestamp[UTC]
    assert typed.values.tolist() == list(days.tz_localize(None))


def test_weekly_series_on_different_weekdays_share_one_grid():
    sunday = pd.date_range("2023-01-01", periods=30, freq="W-SUN")
    friday = pd.date_range("2023-01-06", periods=30, freq="W-FRI")
    frame = pd.DataFrame({"store": ["A"] * 30 + ["B"] * 30,
                          "week": [d.strftime("%Y-%m-%d") for d in (*sunday, *friday)], "units": "5"})
    report = validate(raw(frame), ColumnMapping(keys=("store",), date="week", target="units"))
    assert report.ok and report.freq is Freq.WEEKLY
    by_store = report.frame.groupby("store")["ds"]
    assert by_store.min().tolist() == [pd.Timestamp("2022-12-26"), pd.Timestamp("2023-01-02")]
    assert set(report.frame["ds"].dt.day_of_week) == {0}
    assert any("Sunday (1 series), Friday (1 series)" in n for n in report.notes)


def test_month_end_dates_stay_monthly():
    ends = pd.date_range("2022-01-31", periods=30, freq="ME").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"item": "X", "month": ends, "qty": "3"})
    report = validate(raw(frame), ColumnMapping(keys=("item",), date="month", target="qty"))
    assert report.ok and report.freq is Freq.MONTHLY
    assert report.frame["ds"].iloc[1] == pd.Timestamp("2022-02-01")


# --- numbers -----------------------------------------------------------------------
def test_numbers_as_excel_and_retail_systems_write_them():
    parsed = parse_numbers(pd.Series(["833", "1,157", "1 157", "1\u00a0157", "１２３", "¥1,200", "￥300", "12円", ""]),
                           column="units")
    assert parsed.values.tolist()[:8] == [833, 1157, 1157, 1157, 123, 1200, 300, 12]
    assert np.isnan(parsed.values.iloc[8])
    assert "thousands separators" in parsed.note and "1,157" in parsed.note


@pytest.mark.parametrize("text", ["inf", "Infinity", "-inf", "NaN", "nan", "1e400", "abc", "1,15"])
def test_infinities_overflows_and_text_are_not_numbers(text):
    assert parse_numbers(pd.Series(["5", text])).values.isna().tolist() == [False, True]


def test_decimal_commas_in_semicolon_files():
    parsed = parse_numbers(pd.Series(["12,5", "1.234,5", "3"]), decimal_comma=True)
    assert parsed.values.tolist() == [12.5, 1234.5, 3.0] and "decimal commas" in parsed.note
    # Without a decimal comma in the column, a point is a decimal point.
    assert parse_numbers(pd.Series(["12.5", "3"]), decimal_comma=True).values.tolist() == [12.5, 3.0]
    frame = pd.DataFrame({"store": "S", "date": pd.date_range("2024-01-01", periods=60).strftime("%d.%m.%Y"),
                          "units": "3,5", "price": "1,99"})
    report = validate(raw(frame, ";"), ColumnMapping(keys=("store",), date="date", target="units",
                                                    exog_known=("price",)))
    assert report.ok
    assert report.frame["y"].iloc[0] == 3.5 and report.frame["price"].iloc[0] == 1.99


def test_a_repair_never_counts_readable_numbers_as_zero():
    frame = daily(60)
    frame.loc[5, "units"] = "1,157"
    frame.loc[6, "units"] = "n/a"
    report = validate(raw(frame), ColumnMapping(keys=("store",), date="date", target="units"),
                      Repairs(bad_targets="zero"))
    assert report.ok
    assert report.frame["y"].iloc[5] == 1157 and report.frame["y"].iloc[6] == 0
    assert any("Set 1 empty or non-numeric" in n for n in report.notes)


def test_infinite_sales_are_refused_like_any_non_number():
    frame = daily(60)
    frame.loc[3, "units"] = "inf"
    frame.loc[4, "units"] = "1e400"
    report = validate(raw(frame), ColumnMapping(keys=("store",), date="date", target="units"))
    assert [p.code for p in report.problems] == ["bad_targets"] and report.problems[0].count == 2


# --- keys --------------------------------------------------------------------------
def test_key_values_that_look_missing_are_values():
    frame = daily(60, keys=("NA", "null", "None", "N/A"))
    report = validate(raw(frame), ColumnMapping(keys=("store",), date="date", target="units"))
    assert report.ok and report.info["series"] == 4
    assert sorted(report.frame["store"].unique()) == ["N/A", "NA", "None", "null"]


def test_keys_holding_the_separator_stay_distinct_series(tmp_path):
    frame = pd.concat([daily(60).assign(a="a/b", b="c"), daily(60).assign(a="a", b="b/c")], ignore_index=True)
    mapping = ColumnMapping(keys=("a", "b"), date="date", target="units")
    report = validate(raw(frame.drop(columns="store")), mapping)
    assert report.ok and report.info["series"] == 2
    warehouse = Warehouse(tmp_path / "w.duckdb")
    dataset = import_table(warehouse, raw(frame.drop(columns="store")), mapping, name="slashes")
    assert dataset.n_series == 2
    stored = warehouse.query(f"SELECT DISTINCT unique_id FROM {dataset.table_name} ORDER BY 1")["unique_id"].tolist()
    assert stored == sorted(series_ids(pd.DataFrame({"a": ["a/b", "a"], "b": ["c", "b/c"]}), ["a", "b"]).tolist())
    warehouse.close()


def test_columns_named_like_internal_ones(tmp_path):
    frame = daily(60).rename(columns={"store": "unique_id", "date": "ds", "units": "sales"}).assign(y="grocery")
    mapping = ColumnMapping(keys=("unique_id",), date="ds", target="sales", attributes=("y",))
    warehouse = Warehouse(tmp_path / "w.duckdb")
    dataset = import_table(warehouse, raw(frame), mapping, name="internal names")
    stored = warehouse.query(f"SELECT * FROM {dataset.table_name} ORDER BY ds")
    assert stored["y"].sum() == frame["sales"].astype(float).sum()
    assert set(stored["y_2"]) == {"grocery"} and dataset.n_rows == 60
    warehouse.close()


def test_repairs_that_drop_every_row_block_with_a_clear_problem():
    frame = daily(60)
    frame["store"] = ""
    report = validate(raw(frame), ColumnMapping(keys=("store",), date="date", target="units"),
                      Repairs(drop_missing_keys=True))
    assert [p.code for p in report.problems] == ["no_rows_left"]
    frame = daily(60)
    frame["units"] = "x"
    frame.loc[0, "units"] = "1"
    report = validate(raw(frame), ColumnMapping(keys=("store",), date="date", target="units"),
                      Repairs(bad_targets="drop"))
    assert not report.ok and report.problems


def test_a_failed_import_leaves_the_warehouse_as_it_was(tmp_path):
    warehouse = Warehouse(tmp_path / "w.duckdb")
    import_table(warehouse, raw(daily(60)), ColumnMapping(keys=("store",), date="date", target="units"), name="a")
    tables = warehouse.query("SELECT table_name FROM information_schema.tables ORDER BY 1")
    bad = daily(60)
    bad.loc[3, "units"] = "inf"
    with pytest.raises(ImportProblemError):
        import_table(warehouse, raw(bad), ColumnMapping(keys=("store",), date="date", target="units"), name="b")
    with pytest.raises(MitoshiError):  # same name
        import_table(warehouse, raw(daily(60)), ColumnMapping(keys=("store",), date="date", target="units"), name="a")
    assert warehouse.query("SELECT table_name FROM information_schema.tables ORDER BY 1").equals(tables)
    assert [d.name for d in warehouse.list_datasets()] == ["a"]
    warehouse.close()


# --- the command line --------------------------------------------------------------
def _args(tmp_path, data, *extra):
    return ["--data", str(data), "--series-cols", "store", "--date-col", "date", "--target-col", "units",
            "--freq", "D", "--horizon", "7", "--folds", "2", "--models", "naive", "--json", str(tmp_path / "o.json"),
            "--forecasts", str(tmp_path / "o.parquet"), *extra]


def test_cli_refuses_an_unwritable_warehouse_before_reading(tmp_path, capsys, monkeypatch):
    (tmp_path / "afile").write_text("x")
    read = []
    monkeypatch.setattr(cli, "_load", lambda args: read.append(1))
    code = cli.main(_args(tmp_path, tmp_path / "missing.csv", "--warehouse", str(tmp_path / "afile" / "w.duckdb")))
    assert code == 2 and read == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Cannot create the warehouse" in err


def test_cli_repairs_and_notes(tmp_path, capsys):
    frame = daily(70).drop(index=[10, 11])  # two missing days
    frame.loc[20, "units"] = "1,157"
    data = tmp_path / "gaps.csv"
    frame.to_csv(data, index=False)
    warehouse = str(tmp_path / "w.duckdb")
    assert cli.main(_args(tmp_path, data, "--warehouse", warehouse)) == 2
    err = capsys.readouterr().err
    assert "--repair fill_gaps=zero|interpolate" in err and "thousands separators" in err
    assert cli.main(_args(tmp_path, data, "--warehouse", warehouse, "--repair", "fill_gaps=zero")) == 0
    assert "Filled 2 missing daily period(s) with 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(_args(tmp_path, data, "--repair", "fill_gaps=nonsense"))


def test_cli_writes_its_outputs_when_storing_fails(tmp_path, capsys, monkeypatch):
    data = tmp_path / "d.csv"
    daily(70).to_csv(data, index=False)

    def broken(*args, **kwargs):
        raise cli.MitoshiError("The run could not be stored: disk full.")

    monkeypatch.setattr(cli, "save_run", broken)
    assert cli.main(_args(tmp_path, data, "--warehouse", str(tmp_path / "w.duckdb"))) == 2
    summary = json.loads((tmp_path / "o.json").read_text())
    assert summary["run_id"] is None and summary["series"] == 1
    assert len(pd.read_parquet(tmp_path / "o.parquet")) == 14  # 2 folds x 7 days
    assert "disk full" in capsys.readouterr().err


def test_numeric_keys_typed_as_floats_stay_whole_numbers():
    frame = daily(60)
    frame["store"] = 1001.0
    report = validate(raw(frame), ColumnMapping(keys=("store",), date="date", target="units"))
    assert report.ok and set(report.frame["store"]) == {"1001"}


def test_a_target_that_reads_as_text_is_never_also_suggested_as_a_key():
    frame = pd.DataFrame({"store": ["a", "b"] * 30, "date": pd.date_range("2024-01-01", periods=60).astype(str),
                          "units": ["x"] * 60})
    mapping = suggest_mapping(frame)
    assert mapping.target not in mapping.keys + mapping.attributes and mapping.date not in mapping.keys


def test_utc_noon_keeps_the_written_date():
    # 12:00Z is midnight in no zone people mean: it is the convention for a date without a zone.
    text = pd.Series([f"2024-04-{d:02d}T12:00:00Z" for d in range(10, 20)])
    parsed = parse_dates(text, column="date")
    assert parsed.values.tolist() == list(pd.date_range("2024-04-10", periods=10))
    assert "12:00" in parsed.note


def test_utc_midnights_in_a_zone_behind_utc_keep_the_same_day_and_say_so():
    days = pd.date_range("2024-01-01", periods=5, tz="America/New_York")
    parsed = parse_dates(pd.Series(days.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")), column="date")
    assert parsed.values.tolist() == list(days.tz_localize(None))
    assert "America/New_York" in parsed.note and "one day early" not in parsed.note


def test_thousands_points_in_semicolon_files():
    # Continental Excel writes 1157 as 1.157 under #.##0; 0.500 and 1.25 are decimals.
    assert parse_numbers(pd.Series(["12", "1.157", "980"]), decimal_comma=True).values.tolist() == [12, 1157, 980]
    assert parse_numbers(pd.Series(["0.500", "1.250"]), decimal_comma=True).values.tolist() == [0.5, 1.25]
    assert parse_numbers(pd.Series(["1.25", "3"]), decimal_comma=True).values.tolist() == [1.25, 3.0]
    assert parse_numbers(pd.Series(["12", "1.157"]), decimal_comma=False).values.tolist() == [12, 1.157]


def test_excel_serials_with_a_time_of_day_keep_it():
    parsed = parse_dates(pd.Series([45383.375, 45384.375]), column="d")
    assert parsed.values.tolist() == [pd.Timestamp("2024-04-01 09:00"), pd.Timestamp("2024-04-02 09:00")]


@pytest.mark.parametrize("values", [
    (["a/b", "c"], ["a", "b/c"]), (["a\\", "b"], ["a", "\\b"]), (["x\\/", "y"], ["x", "\\/y"]),
    (["", "/"], ["/", ""]), (["NA", "店舗/1"], ["NA/店舗", "1"]),
])
def test_series_ids_in_python_and_sql_agree_and_stay_unique(values):
    frame = pd.DataFrame({"a": [values[0][0], values[1][0]], "b": [values[0][1], values[1][1]]})
    ids = series_ids(frame, ["a", "b"]).tolist()
    assert len(set(ids)) == 2
    warehouse = Warehouse(":memory:")
    with warehouse.cursor() as cur:
        cur.register("keys_frame", frame)
        sql = cur.execute(f"SELECT {series_id_sql(['a', 'b'])} FROM keys_frame").fetchall()
    assert [row[0] for row in sql] == ids
    warehouse.close()


def test_no_repair_fills_a_calendar_the_data_never_had():
    # Monthly quantities forced to daily: filling would invent 1,400 zero days; refused, no repair.
    months = pd.date_range("2022-01-01", periods=36, freq="MS")
    frame = pd.DataFrame({"item": "X1", "month": [f"{d.month}/1/{d.year}" for d in months], "qty": "200"})
    mapping = ColumnMapping(keys=("item",), date="month", target="qty", freq=Freq.DAILY)
    report = validate(raw(frame), mapping, Repairs(fill_gaps="zero"))
    assert [p.code for p in report.problems] == ["gaps_exceed_data"]
    assert report.problems[0].repair is None and report.problems[0].message.startswith("706 daily period(s)")
    assert report.frame is None


def test_a_warehouse_path_that_is_not_duckdb_is_refused(tmp_path):
    other = tmp_path / "summary.json"
    other.write_text("{}")
    with pytest.raises(MitoshiError, match="not a DuckDB warehouse"):
        Warehouse(other)
    assert other.read_text() == "{}"
    with pytest.raises(MitoshiError, match="is a folder"):
        Warehouse(tmp_path)
