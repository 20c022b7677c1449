"""Appending actuals to a stored dataset: the file's checks (``validate_append``), the
append itself through the warehouse, and publishing a run after its dataset grew."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from core.backtest.compare import RunScope, grown_data, replaced_data, same_data, scope_differences
from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import backtested_until, get_run, save_run
from core.columns import DATE, TARGET, Freq
from core.data.importer import (
    ColumnMapping,
    Repairs,
    append_columns,
    append_table,
    import_table,
    read_table,
    validate_append,
)
from core.errors import AppendOverlapError, ImportProblemError
from core.handoff.batch import PublishError, PublishOptions, prepare_batch

START = pd.Timestamp("2025-01-01")
DAYS = 70  # 2025-01-01 .. 2025-03-11
END = START + pd.Timedelta(days=DAYS - 1)
SERIES = [("S1", "A"), ("S1", "B"), ("S2", "A"), ("S2", "B")]


def history_rows(dates: pd.DatetimeIndex, series=SERIES) -> pd.DataFrame:
    """Store x item daily sales as a chain exports them: its own column names, text dates."""
    rows = [{"Store": s, "Item": i, "Category": "food" if i == "A" else "drink", "Date": d.strftime("%Y/%m/%d"),
             "Units Sold": float((d - START).days % 7 + n), "Price": 100 + n}
            for n, (s, i) in enumerate(series) for d in dates]
    return pd.DataFrame(rows)


def csv(frame: pd.DataFrame, name: str = "week.csv", sep: str = ","):
    return read_table(frame.to_csv(index=False, sep=sep).encode(), name)


@pytest.fixture
def dataset(warehouse):
    """'sales': 4 daily series, 2025-01-01 .. 2025-03-11, imported from a CSV."""
    raw = csv(history_rows(pd.date_range(START, END)), "sales.csv")
    mapping = ColumnMapping(keys=("Store", "Item"), date="Date", target="Units Sold", attributes=("Category",),
                            exog_known=("Price",))
    return import_table(warehouse, raw, mapping)


def new_rows(first: str, days: int, series=SERIES, **columns) -> pd.DataFrame:
    frame = history_rows(pd.date_range(first, periods=days), series)
    return frame.assign(**columns)


def codes(report) -> list[str]:
    return [p.code for p in report.problems]


# ---- matching the file's columns ---------------------------------------------------
def test_columns_match_by_the_names_the_user_knows(dataset):
    matched = append_columns(["store", "ITEM", "date", "units_sold", " Price ", "memo"], dataset)
    assert matched.found == {"Store": "store", "Item": "ITEM", DATE: "date", TARGET: "units_sold",
                             "Price": " Price "}
    assert matched.missing == ("Category",)
    assert matched.ignored == ("memo",)


def test_a_week_with_other_spelling_and_decimal_commas_is_ready(warehouse, dataset):
    frame = new_rows("2025-03-12", 5).rename(columns={"Store": "store", "Item": "ITEM", "Units Sold": "units_sold"})
    frame["units_sold"] = "3,5"
    frame["memo"] = "checked"
    report = validate_append(warehouse, dataset, csv(frame, sep=";"))
    assert report.ok, report.problems
    assert report.info == {"rows": 20, "series": 4, "new_series": 0, "start": date(2025, 3, 12),
                           "end": date(2025, 3, 16), "frequency": "daily", "overlap": 0, "overlap_changed": 0,
                           "overlap_first": None, "overlap_last": None}
    assert list(report.frame.columns) == ["Store", "Item", DATE, TARGET, "Category", "Price"]
    assert report.frame[TARGET].eq(3.5).all()
    assert report.frame.loc[report.frame["Item"] == "A", "Category"].eq("food").all()
    assert any("memo are not in 'sales' and are ignored" in n for n in report.notes)
    assert report.warnings == ()


# ---- refusals ----------------------------------------------------------------------
def test_a_file_without_a_key_date_or_target_column_is_refused(warehouse, dataset):
    report = validate_append(warehouse, dataset, csv(new_rows("2025-03-12", 3).drop(columns=["Item", "Units Sold"])))
    assert codes(report) == ["missing_columns"]
    assert "The file has no column 'Item', 'Units Sold'" in report.problems[0].message
    assert report.frame is None


def test_a_file_without_a_value_column_is_refused(warehouse, dataset):
    report = validate_append(warehouse, dataset, csv(new_rows("2025-03-12", 3).drop(columns=["Price"])))
    assert codes(report) == ["missing_value_columns"]
    assert "no column 'Price', which every row of 'sales' has" in report.problems[0].message


def test_dates_before_the_dataset_starts_are_refused(warehouse, dataset):
    report = validate_append(warehouse, dataset, csv(new_rows("2024-12-30", 4)))
    assert codes(report) == ["before_start"]
    problem = report.problems[0]
    assert problem.count == 8  # 2 days x 4 series
    assert "before 'sales' starts (2025-01-01): from 2024-12-30 to 2024-12-31" in problem.message


def test_a_weekly_file_for_a_daily_dataset_is_refused(warehouse, dataset):
    frame = history_rows(pd.date_range("2025-03-17", periods=4, freq="7D"))
    report = validate_append(warehouse, dataset, csv(frame))
    assert codes(report) == ["wrong_freq"]
    assert "The file's dates are weekly" in report.problems[0].message
    assert "'sales' is daily" in report.problems[0].message


def test_negative_targets_block_unless_repaired(warehouse, dataset):
    frame = new_rows("2025-03-12", 3)
    frame.loc[0, "Units Sold"] = -2
    assert codes(validate_append(warehouse, dataset, csv(frame))) == ["negative_targets"]
    report = validate_append(warehouse, dataset, csv(frame), Repairs(negatives="zero"))
    assert report.ok and report.frame[TARGET].min() == 0.0 and report.info["rows"] == 12


def test_duplicates_are_merged_as_an_import_merges_them(warehouse, dataset):
    frame = new_rows("2025-03-12", 3)
    frame = pd.concat([frame, frame.iloc[[0]].assign(**{"Units Sold": 10.0})], ignore_index=True)
    assert codes(validate_append(warehouse, dataset, csv(frame))) == ["duplicates"]
    report = validate_append(warehouse, dataset, csv(frame), Repairs(duplicates="sum"))
    assert report.ok and report.info["rows"] == 12
    first = report.frame[(report.frame["Store"] == "S1") & (report.frame["Item"] == "A")].iloc[0]
    assert first[DATE] == pd.Timestamp("2025-03-12") and first[TARGET] == frame.iloc[0]["Units Sold"] + 10.0


def test_a_gap_inside_the_file_is_filled_as_an_import_fills_it(warehouse, dataset):
    frame = new_rows("2025-03-12", 5)
    frame = frame[~((frame["Store"] == "S2") & (frame["Item"] == "B") & (frame["Date"] == "2025/03/14"))]
    report = validate_append(warehouse, dataset, csv(frame))
    assert codes(report) == ["gaps"] and report.problems[0].count == 1
    report = validate_append(warehouse, dataset, csv(frame), Repairs(fill_gaps="zero"))
    assert report.ok and report.info["rows"] == 20
    filled = report.frame[(report.frame["Store"] == "S2") & (report.frame["Item"] == "B")
                          & (report.frame[DATE] == "2025-03-14")]
    assert filled[TARGET].tolist() == [0.0] and filled["Price"].tolist() == [0.0]


def test_a_gap_after_the_dataset_ends_blocks_and_is_filled_on_request(warehouse, dataset):
    frame = new_rows("2025-03-14", 3)  # 2025-03-12 and 03-13 are missing
    report = validate_append(warehouse, dataset, csv(frame))
    assert codes(report) == ["gap_after_end"]
    problem = report.problems[0]
    assert problem.count == 8 and problem.repair == "fill_gaps"
    assert "no rows from 2025-03-12 to 2025-03-13" in problem.message
    assert problem.examples["missing periods"].tolist() == [2, 2, 2, 2]

    report = validate_append(warehouse, dataset, csv(frame), Repairs(fill_gaps="interpolate"))
    assert report.ok and report.info["rows"] == 20 and report.info["start"] == date(2025, 3, 12)
    # S1/A: stored 2025-03-11 is day 69 -> 69 % 7 = 6; the file's 2025-03-14 is day 72 -> 2.
    s1a = report.frame[(report.frame["Store"] == "S1") & (report.frame["Item"] == "A")]
    assert s1a[TARGET].round(6).tolist() == [pytest.approx(6 + (2 - 6) / 3), pytest.approx(6 + 2 * (2 - 6) / 3),
                                             2.0, 3.0, 4.0]
    assert any("Filled 8 missing daily period(s) between the dataset's end and the file's start "
               "(2025-03-12 to 2025-03-13, 4 series)" in n for n in report.notes)
    assert report.warnings == ()
    # A file of new series only leaves the dates in between to no series: said, not blocked.
    report = validate_append(warehouse, dataset, csv(new_rows("2025-03-14", 3, [("S3", "A")])))
    assert report.ok and report.info["new_series"] == 1
    assert report.warnings[0] == ("The file starts on 2025-03-14, more than one daily period after 'sales' ends "
                                  "(2025-03-11): no series has rows from 2025-03-12 to 2025-03-13.")
    assert report.warnings[1].startswith("4 of the 4 series with rows on the dataset's last date (2025-03-11) are "
                                         "not in the file (for example S1/A, S1/B, S2/A)")


def test_new_series_need_their_attributes_and_old_ones_keep_theirs(warehouse, dataset):
    series = [*SERIES, ("S3", "A")]
    with_category = validate_append(warehouse, dataset, csv(new_rows("2025-03-12", 2, series)))
    assert with_category.ok and with_category.info["new_series"] == 1 and with_category.info["series"] == 5

    without = new_rows("2025-03-12", 2, series).drop(columns=["Category"])
    report = validate_append(warehouse, dataset, csv(without))
    assert codes(report) == ["new_series_attributes"]
    assert "1 series are new to 'sales' and the file has no column 'Category'" in report.problems[0].message

    report = validate_append(warehouse, dataset, csv(new_rows("2025-03-12", 2).drop(columns=["Category"])))
    assert report.ok
    assert report.frame.groupby("Item")["Category"].unique().map(list).to_dict() == {"A": ["food"], "B": ["drink"]}


def test_a_changed_attribute_is_refused(warehouse, dataset):
    frame = new_rows("2025-03-12", 2)
    frame.loc[frame["Item"] == "A", "Category"] = "bento"
    report = validate_append(warehouse, dataset, csv(frame))
    assert codes(report) == ["attribute_changed"]
    assert report.problems[0].count == 2
    assert set(report.problems[0].examples["in the dataset"]) == {"food"}


def test_overlap_with_stored_dates_is_counted_before_appending(warehouse, dataset):
    frame = new_rows("2025-03-10", 5)  # 03-10 and 03-11 are stored
    frame.loc[(frame["Store"] == "S1") & (frame["Date"] == "2025/03/10"), "Units Sold"] = 99.0
    report = validate_append(warehouse, dataset, csv(frame))
    assert report.ok
    info = report.info
    assert (info["overlap"], info["overlap_changed"]) == (8, 2)
    assert (info["overlap_first"], info["overlap_last"]) == (date(2025, 3, 10), date(2025, 3, 11))


def test_series_the_file_does_not_continue_are_warned_about(warehouse, dataset):
    report = validate_append(warehouse, dataset, csv(new_rows("2025-03-12", 2, SERIES[:2])))
    assert report.ok
    assert report.warnings == ("2 of the 4 series with rows on the dataset's last date (2025-03-11) are not in the "
                               "file (for example S2/A, S2/B): they will end on 2025-03-11, and a batch published "
                               "afterwards will not forecast them, unless their rows are appended too.",)


def test_weekly_rows_must_fall_on_the_dataset_weekday(warehouse):
    sundays = pd.date_range("2024-01-07", periods=30, freq="7D")
    raw = csv(history_rows(sundays), "weekly.csv")
    mapping = ColumnMapping(keys=("Store", "Item"), date="Date", target="Units Sold", attributes=("Category",),
                            exog_known=("Price",))
    weekly = import_table(warehouse, raw, mapping)
    assert weekly.freq is Freq.WEEKLY and weekly.end_date == date(2024, 7, 28)
    mondays = history_rows(pd.date_range("2024-07-29", periods=2, freq="7D"))
    report = validate_append(warehouse, weekly, csv(mondays))
    assert codes(report) == ["off_grid"]
    assert "dated by their Sunday" in report.problems[0].message
    report = validate_append(warehouse, weekly, csv(mondays), Repairs(align_dates=True))
    assert report.ok
    assert sorted(report.frame[DATE].unique()) == [pd.Timestamp("2024-08-04"), pd.Timestamp("2024-08-11")]
    assert report.info["overlap"] == 0


# ---- the append, through the warehouse -------------------------------------------
def test_append_updates_the_dataset_as_if_imported_whole(warehouse, dataset):
    appended = append_table(warehouse, dataset, csv(new_rows("2025-03-12", 5)))
    after = appended.dataset
    assert (appended.n_rows, appended.n_replaced, appended.n_series, appended.n_new_series) == (20, 0, 4, 0)
    assert (after.n_rows, after.n_series, after.start_date, after.end_date) == (300, 4, date(2025, 1, 1),
                                                                                 date(2025, 3, 16))
    whole = import_table(warehouse, csv(history_rows(pd.date_range(START, periods=DAYS + 5)), "whole.csv"),
                         ColumnMapping(keys=("Store", "Item"), date="Date", target="Units Sold",
                                       attributes=("Category",), exog_known=("Price",)))
    assert after.fingerprint == whole.fingerprint != dataset.fingerprint
    history = warehouse.list_appends(dataset.dataset_id)
    assert len(history) == 1
    row = history.iloc[0]
    assert (str(row["source"]), row["n_rows"], row["n_replaced"]) == ("appended: week.csv", 20, 0)  # a message
    assert (pd.Timestamp(row["start_date"]).date(), pd.Timestamp(row["end_date"]).date()) == (date(2025, 3, 12),
                                                                                             date(2025, 3, 16))


def test_overlapping_rows_are_refused_then_replace_the_stored_ones(warehouse, dataset):
    frame = new_rows("2025-03-10", 4).assign(**{"Units Sold": 50.0})
    with pytest.raises(AppendOverlapError) as refused:
        append_table(warehouse, dataset, csv(frame))
    assert refused.value.overlap == 8
    assert warehouse.get_dataset(dataset.dataset_id).n_rows == 280  # nothing written
    appended = append_table(warehouse, dataset, csv(frame), replace=True)
    assert (appended.n_rows, appended.n_replaced) == (16, 8)
    assert appended.dataset.n_rows == 288 and appended.dataset.end_date == date(2025, 3, 13)
    stored = warehouse.query(f'SELECT y FROM {dataset.table_name} WHERE ds >= ?', [date(2025, 3, 10)])
    assert stored["y"].eq(50.0).all() and len(stored) == 16
    assert warehouse.list_appends(dataset.dataset_id)["n_replaced"].tolist() == [8]


def test_a_blocked_append_raises_with_its_problems(warehouse, dataset):
    with pytest.raises(ImportProblemError, match="Not appended: 8 row"):
        append_table(warehouse, dataset, csv(new_rows("2024-12-30", 4)))
    assert warehouse.list_appends(dataset.dataset_id).empty


# ---- publishing after the dataset grew ---------------------------------------------
def backtest(warehouse, dataset) -> str:
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=2), models=(ModelSpec.of("snaive"),))
    return save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "before the append")


def test_runs_remember_the_last_date_they_backtested(warehouse, dataset):
    run = get_run(warehouse, backtest(warehouse, dataset))
    assert run.data_end == date(2025, 3, 11)
    assert backtested_until(warehouse, run) == date(2025, 3, 11)
    warehouse.query("UPDATE runs SET data_end = NULL WHERE run_id = ?", [run.run_id])
    old = get_run(warehouse, run.run_id)
    assert old.data_end is None and backtested_until(warehouse, old) == date(2025, 3, 11)  # its last forecast date


def test_a_run_publishes_after_rows_are_appended_and_says_so(warehouse, dataset):
    run_id = backtest(warehouse, dataset)
    append_table(warehouse, dataset, csv(new_rows("2025-03-12", 5)))
    options = PublishOptions.from_run(get_run(warehouse, run_id), "snaive")
    batch = prepare_batch(warehouse, run_id, options)
    assert batch.trained_until == date(2025, 3, 16)
    assert batch.frame[DATE].min() == pd.Timestamp("2025-03-17") and batch.n_series == 4
    assert any(n.startswith("Fitted on 5 more days than the backtest saw: the run's data ended on 2025-03-11")
               for n in map(str, batch.notes))
    # A run stored before data_end was kept is checked up to its last forecast date.
    warehouse.query("UPDATE runs SET data_end = NULL WHERE run_id = ?", [run_id])
    assert prepare_batch(warehouse, run_id, options).trained_until == date(2025, 3, 16)


def test_a_changed_historical_row_still_asks_for_a_new_backtest(warehouse, dataset):
    run_id = backtest(warehouse, dataset)
    append_table(warehouse, dataset, csv(new_rows("2025-03-12", 5)))
    correction = new_rows("2025-02-01", 1, SERIES[:1]).assign(**{"Units Sold": 40.0})
    append_table(warehouse, dataset, csv(correction, "correction.csv"), replace=True)
    with pytest.raises(PublishError, match="up to 2025-03-11, the last date it saw.*Run the backtest again"):
        prepare_batch(warehouse, run_id, PublishOptions.from_run(get_run(warehouse, run_id), "snaive"))


def test_runs_before_and_after_an_append_read_as_grown_not_replaced():
    base = RunScope(dataset="sales", dataset_key="d1", freq="daily", horizon=7, cutoffs=(), n_series=4,
                    fingerprint="280-aa", data_end=date(2025, 3, 11))
    later = replace(base, fingerprint="300-bb", data_end=date(2025, 3, 16))
    scopes = {"A": base, "B": later}
    assert replaced_data(scopes) == [] and grown_data(scopes) == [["A", "B"]] and same_data(scopes)
    assert "data: sales grew between the runs (A: up to 2025-03-11, B: up to 2025-03-16)" in scope_differences(scopes)
    # The same end and another fingerprint is still a replacement.
    assert replaced_data({"A": base, "B": replace(base, fingerprint="280-cc")}) == [["A", "B"]]


def test_a_backtest_reads_appended_rows_in_series_order(warehouse, dataset):
    """Appended rows are stored after the old ones; a backtest's reader reads the table as it
    is stored and must still give every series' rows together, oldest first, as a sorted
    query gives them (``explore.in_series_order``), and the same frame after a re-import."""
    from core.data.explore import Scope, dataset_frame

    after = append_table(warehouse, dataset, csv(new_rows("2025-03-12", 5))).dataset
    stored = warehouse.query(f"SELECT unique_id, ds FROM {after.table_name}")
    assert not stored.equals(stored.sort_values(["unique_id", "ds"], ignore_index=True))  # out of order as stored
    frame = dataset_frame(warehouse, after, Scope())
    assert len(frame) == 300 and frame.index.equals(pd.RangeIndex(300))
    expected = warehouse.query(f"SELECT * FROM {after.table_name} ORDER BY unique_id, ds")
    assert frame["unique_id"].astype(str).tolist() == expected["unique_id"].tolist()
    assert frame["ds"].tolist() == expected["ds"].tolist()
    assert frame["y"].tolist() == expected["y"].tolist()
    assert frame.loc[frame["unique_id"] == frame["unique_id"].iloc[0], "ds"].iloc[-1] == pd.Timestamp("2025-03-16")


def test_a_dataset_read_before_the_code_was_reloaded_still_appends(warehouse, dataset):
    """Streamlit reloads every module of the app when a source file changes, while the cached
    warehouse keeps the datasets it read: their ``Freq`` is then a member of the class as it
    was before the reload. A daily file for a daily dataset must still be ready to append
    (frequencies compare by value, never by identity), as a fresh user saw it refused with
    "the file's dates are daily, but the dataset is daily"."""
    import importlib.util

    import core.columns

    spec = importlib.util.spec_from_file_location("columns_before_reload", core.columns.__file__)
    before_reload = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(before_reload)  # the same source, another class: as after Streamlit's reload
    old = replace(dataset, spec=replace(dataset.spec, freq=before_reload.Freq.DAILY))
    assert old.freq is not Freq.DAILY and old.freq == Freq.DAILY
    report = validate_append(warehouse, old, csv(new_rows("2025-03-12", 3)))
    assert report.ok, report.problems
