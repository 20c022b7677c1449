"""Every series accounted for: what a backtest leaves out of a fold and why, which model
fell back to which rule for which series, in the JSON, in the warehouse, and nothing
stored when storing fails."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from core.backtest import accounting
from core.backtest.accounting import ENDED_EARLY, NO_ACTUAL, OFF_GRID, STARTED_LATE
from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import (
    delete_run,
    fallback_counts,
    get_run,
    list_runs,
    load_result,
    run_cutoffs,
    save_run,
)
from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.decision.verdict import run_evidence
from core.errors import WarehouseError
from core.forecast.base import ForecastError
from core.warehouse import SCHEMA_VERSION, Warehouse, migrate

DAYS = pd.date_range("2024-01-01", periods=120, freq="D")


def frame_of(series: dict[str, pd.Series]) -> pd.DataFrame:
    """A long frame from {id: target indexed by date}, sorted as the engine expects."""
    parts = [pd.DataFrame({SERIES_ID: uid, DATE: values.index, TARGET: values.to_numpy(dtype=float)})
             for uid, values in series.items()]
    return pd.concat(parts, ignore_index=True).sort_values([SERIES_ID, DATE]).reset_index(drop=True)


def backtest(frame: pd.DataFrame, models: tuple[str, ...], freq: Freq = Freq.DAILY, horizon: int = 7,
             folds: int = 2):
    config = BacktestConfig(split=SplitConfig(horizon=horizon, folds=folds),
                            models=tuple(ModelSpec.of(m) for m in models))
    return run_backtest(BacktestData(frame=frame, freq=freq, name="case"), config)


def weekday_pattern(days: pd.DatetimeIndex) -> pd.Series:
    return pd.Series(10.0 + 5 * (days.day_of_week >= 5) + np.arange(len(days)) % 3, index=days)


# --- never sold --------------------------------------------------------------------------
def test_never_sold_items_get_forecasts_and_the_fallback_is_recorded():
    frame = frame_of({"dead1": pd.Series(0.0, index=DAYS), "dead2": pd.Series(0.0, index=DAYS)})
    result = backtest(frame, ("snaive", "lgbm"))
    forecasts = result.forecasts
    # both models forecast both items in both folds, and the forecast is 0
    assert forecasts.groupby("model")[[SERIES_ID, "cutoff"]].nunique().to_dict() == {
        SERIES_ID: {"lgbm": 2, "snaive": 2}, "cutoff": {"lgbm": 2, "snaive": 2}}
    assert (forecasts["forecast"] == 0).all() and len(forecasts) == 2 * 2 * 7 * 2
    # lgbm had nothing to learn from: it fell back, for 2 series in each of the 2 folds
    summary = json.loads(json.dumps(result.summary(), allow_nan=False))
    assert summary["fallbacks"] == {"lgbm": [{"rule": "zero", "reason": "never sold", "series": 2, "folds": 2,
                                              "ids": ["dead1", "dead2"]}]}
    assert len(result.fallbacks) == 4 and set(result.fallbacks["model"]) == {"lgbm"}
    assert summary["series"] == summary["series_scored"] == 2 and summary["excluded"]["left_out"] == 0
    # WAPE, MASE and RMSSE are undefined on nothing sold: empty, not infinite
    for model in ("snaive", "lgbm"):
        assert summary["models"][model]["wape"] is None
        assert summary["models"][model]["mase"] is None and summary["models"][model]["rmsse"] is None
        assert summary["models"][model]["mae"] == 0.0
    assert "LightGBM fell back to a zero forecast for 2 series in every fold (never sold)." in summary["accounting"]
    # lgbm forecast none of them itself: said right after the count, not lost among the rules
    assert summary["accounting"][:2] == [
        "Scored 2 of 2 series.",
        "LightGBM fell back for all 2 series in every fold: its scores there are the simple rules', not its own."]
    assert accounting.whole_fold_fallbacks(result.excluded, result.fallbacks, 2, result.cutoffs) == {
        "lgbm": {1: 2, 2: 2}}


def test_slow_movers_never_sold_single_sale_and_regular():
    single = pd.Series(0.0, index=DAYS)
    single.iloc[60] = 4.0
    frame = frame_of({"dead": pd.Series(0.0, index=DAYS), "once": single, "regular": weekday_pattern(DAYS)})
    models = ("naive", "snaive", "ma", "croston", "tsb", "ets", "theta", "lgbm")
    result = backtest(frame, models)
    forecasts = result.forecasts
    assert set(forecasts["model"]) == set(models) and np.isfinite(forecasts["forecast"]).all()
    assert (forecasts.groupby("model")[SERIES_ID].nunique() == 3).all()
    dead = forecasts[forecasts[SERIES_ID] == "dead"].groupby("model")["forecast"].max()
    assert (dead == 0).all()
    # Croston and TSB cannot smooth a demand size that never happened, and lgbm, which learns
    # from the two that sold, would sell some: zero, named; the others forecast 0 themselves
    fallbacks = accounting.fallback_summary(result.fallbacks)
    assert fallbacks == {m: [{"rule": "zero", "reason": "never sold", "series": 1, "folds": 2, "ids": ["dead"]}]
                         for m in ("croston", "tsb", "lgbm")}
    # per series: WAPE is undefined where nothing sold in the horizon, MASE and RMSSE where
    # the history never moved; defined for the single sale's series (its history moved)
    per_series = result.metrics[(result.metrics["level"] == "series") & (result.metrics["model"] == "snaive")]
    value = per_series.set_index(["group", "metric"])["value"]
    assert np.isnan(value["dead", "wape"]) and np.isnan(value["dead", "mase"]) and np.isnan(value["dead", "rmsse"])
    assert np.isnan(value["once", "wape"]) and value["once", "mase"] == 0.0 and value["once", "rmsse"] == 0.0
    assert value["regular", "wape"] > 0
    assert not np.isinf(result.metrics["value"].astype(float)).any()


# --- left out of a fold ------------------------------------------------------------------
def test_weekly_series_on_another_weekday_are_listed_not_dropped_silently():
    sundays = pd.date_range("2023-01-01", periods=104, freq="W-SUN")
    fridays = pd.date_range("2023-01-06", periods=104, freq="W-FRI")
    frame = frame_of({"A": pd.Series(50.0 + np.arange(104) % 4, index=sundays),
                      "B": pd.Series(30.0 + np.arange(104) % 5, index=fridays)})
    result = backtest(frame, ("snaive",), freq=Freq.WEEKLY, horizon=4, folds=3)
    # the cutoffs follow the last date (B's Friday): A has no value on any of them
    assert set(result.forecasts[SERIES_ID]) == {"B"}
    summary = result.summary()
    assert summary["series"] == 2 and summary["series_scored"] == 1
    excluded = summary["excluded"]
    assert excluded["by_reason"] == {OFF_GRID: 3} and excluded["never_scored"] == ["A"]
    assert [f["cutoff"] for f in excluded["folds"]] == ["2024-10-04", "2024-11-01", "2024-11-29"]
    assert all(f["scored"] == 1 and f["left_out"] == {OFF_GRID: ["A"]} for f in excluded["folds"])
    assert summary["accounting"][:2] == [
        "Scored 1 of 2 series in at least one fold.",
        "1 series left out of every fold: no value on the cutoff date (its dates are off the fold's grid "
        "(another weekday?) or that period is missing)."]


def test_series_that_start_late_or_end_early_are_left_out_of_the_right_folds():
    # 100 days to 2024-04-09; 3 folds of 7 days: cutoffs 03-19, 03-26, 04-02
    days = DAYS[:100]
    full = weekday_pattern(days)
    series = {
        "full": full,
        "late": full[full.index >= "2024-03-22"],  # not yet sold at the first cutoff
        "early": full[full.index <= "2024-03-24"],  # scored in fold 1, gone before the others
        "stops": full[full.index <= "2024-03-26"],  # forecast on its last day, nothing to score
        "gap": full.drop(pd.Timestamp("2024-04-02")),  # no value on the last cutoff
    }
    result = backtest(frame_of(series), ("naive", "snaive"), folds=3)
    cutoffs = [pd.Timestamp(d) for d in ("2024-03-19", "2024-03-26", "2024-04-02")]
    assert result.cutoffs == cutoffs
    expected = {
        (cutoffs[0], "late", STARTED_LATE),
        (cutoffs[1], "early", ENDED_EARLY), (cutoffs[1], "stops", NO_ACTUAL),
        (cutoffs[2], "early", ENDED_EARLY), (cutoffs[2], "stops", ENDED_EARLY), (cutoffs[2], "gap", OFF_GRID),
    }
    assert set(result.excluded.itertuples(index=False, name=None)) == expected
    # the forecasts hold exactly the other (series, fold) pairs, for every model
    scored = set(result.forecasts[["cutoff", SERIES_ID]].drop_duplicates().itertuples(index=False, name=None))
    every = {(c, s) for c in cutoffs for s in series}
    assert scored == every - {(c, s) for c, s, _ in expected}
    summary = result.summary()["excluded"]
    assert summary["by_reason"] == {STARTED_LATE: 1, ENDED_EARLY: 3, NO_ACTUAL: 1, OFF_GRID: 1}
    assert [f["scored"] for f in summary["folds"]] == [4, 3, 2] and summary["never_scored"] == []
    assert summary["folds"][2]["left_out"] == {ENDED_EARLY: ["early", "stops"], OFF_GRID: ["gap"]}
    # 'late' has 5 days of history at the second cutoff: snaive falls back to naive there only
    assert result.summary()["fallbacks"] == {"snaive": [{
        "rule": "naive", "reason": "shorter than a season (7 periods)", "series": 1, "folds": 1, "ids": ["late"]}]}
    assert result.accounting() == [
        "Scored 5 of 5 series.",
        "1 series left out of fold 1: started after the cutoff.",
        "2 series left out of folds 2 and 3: ended before the cutoff.",
        "1 series left out of fold 3: no value on the cutoff date (its dates are off the fold's grid (another "
        "weekday?) or that period is missing).",
        "1 series left out of fold 2: no actual on the forecast dates (it ended at the cutoff, or its dates are off "
        "the grid).",
        "Seasonal naive fell back to the last value (naive) for 1 series in fold 2 (shorter than a season (7 periods)).",
    ]


def test_a_fold_where_nothing_is_scored_keeps_its_number_everywhere(warehouse):
    # days to 2024-04-29; 2 folds of 7 days, 14 days apart: cutoffs 04-08 and 04-22. No
    # series has a value on the first fold's forecast dates, so it scores nothing and has
    # no forecast rows: its cutoff comes from the run, not from what was scored.
    first, second = pd.Timestamp("2024-04-08"), pd.Timestamp("2024-04-22")
    hole = pd.date_range(first + pd.Timedelta(days=1), periods=7)
    series = {uid: weekday_pattern(DAYS).drop(hole) * scale for uid, scale in (("a", 1), ("b", 2))}
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=2, step=14), models=(ModelSpec.of("naive"),))
    result = run_backtest(BacktestData(frame=frame_of(series), freq=Freq.DAILY, name="hole"), config)
    assert result.cutoffs == [first, second] and set(result.forecasts["cutoff"]) == {second}
    assert set(result.excluded.itertuples(index=False, name=None)) == {(first, "a", NO_ACTUAL), (first, "b", NO_ACTUAL)}
    lines = ["Scored 2 of 2 series.",
             "2 series left out of fold 1: no actual on the forecast dates (it ended at the cutoff, or its dates are "
             "off the grid)."]
    assert result.accounting() == lines and result.n_scored == 2
    folds = result.summary()["excluded"]["folds"]
    assert [(f["fold"], f["cutoff"], f["scored"]) for f in folds] == [(1, "2024-04-08", 0), (2, "2024-04-22", 2)]
    # stored and read back, and as the evidence of a decision: the same two folds
    run_id = save_run(warehouse, result, "hole")
    assert run_cutoffs(warehouse, run_id) == [first, second]
    back = load_result(warehouse, run_id)
    assert back.cutoffs == [first, second] and back.accounting() == lines
    evidence = run_evidence(get_run(warehouse, run_id), back, has_stockouts=False, generated=False)
    assert evidence.folds == 2 and [str(s) for s in evidence.accounting()] == lines


def test_lgbm_too_short_for_its_lags_falls_back_for_the_fold():
    days = DAYS[:40]
    frame = frame_of({"a": weekday_pattern(days), "b": weekday_pattern(days) * 2})
    result = backtest(frame, ("lgbm",), horizon=28, folds=1)  # lags of 28 days or more: nothing to train on
    assert len(result.forecasts) == 2 * 28 and np.isfinite(result.forecasts["forecast"]).all()
    (entry,) = result.summary()["fallbacks"]["lgbm"]
    assert entry["rule"] == "snaive" and entry["series"] == 2 and entry["reason"].startswith(
        "could not fit: too short for its lags")
    assert result.accounting()[1] == ("LightGBM fell back for all 2 series in fold 1: its scores there are the simple "
                                      "rules', not its own.")


def test_a_model_that_fell_back_for_only_some_series_of_each_fold_is_not_flagged_whole():
    # cutoffs 04-15 and 04-22; 'late' starts on 04-12: 4 days at the first cutoff, shorter
    # than a season, so snaive falls back to the naive for it there, and not for 'regular'
    frame = frame_of({"late": weekday_pattern(DAYS[102:]), "regular": weekday_pattern(DAYS)})
    result = backtest(frame, ("snaive",), folds=2)
    assert set(result.fallbacks[[SERIES_ID, "cutoff"]].itertuples(index=False, name=None)) == {
        ("late", result.cutoffs[0])}
    assert accounting.whole_fold_fallbacks(result.excluded, result.fallbacks, 2, result.cutoffs) == {}
    assert not any("fell back for all" in line for line in result.accounting())
    # with 'regular' left out of the first fold, 'late' is all that fold forecast
    excluded = pd.concat([result.excluded, pd.DataFrame(
        {"cutoff": [result.cutoffs[0]], SERIES_ID: ["regular"], "reason": [ENDED_EARLY]})], ignore_index=True)
    assert accounting.whole_fold_fallbacks(excluded, result.fallbacks, 2, result.cutoffs) == {"snaive": {1: 1}}
    assert accounting.whole_fold_sentences(excluded, result.fallbacks, 2, result.cutoffs) == [
        "Seasonal naive fell back for all 1 series in fold 1: its scores there are the simple rules', not its own."]
    # a series forecast but with no actual still counts among the series the fold forecast
    no_actual = excluded.assign(reason=NO_ACTUAL)
    assert accounting.whole_fold_fallbacks(no_actual, result.fallbacks, 2, result.cutoffs) == {}


def test_a_setting_lightgbm_refuses_stops_the_run_instead_of_a_fallback_named_lgbm():
    frame = frame_of({"a": weekday_pattern(DAYS), "b": weekday_pattern(DAYS) * 2})
    with pytest.raises(ForecastError, match=r"lgbm: LightGBM stopped on the fold with cutoff 2024-04-15: "
                                            r"Check failed: \(num_leaves\) <= \(131072\)\. Check the lgbm settings"):
        run_backtest(BacktestData(frame=frame, freq=Freq.DAILY, name="case"), BacktestConfig(
            split=SplitConfig(horizon=7, folds=2), models=(ModelSpec.of("snaive"), ModelSpec.of("lgbm", num_leaves=200_000))))


def test_the_captions_count_the_series_scored_in_one_phrase():
    assert accounting.scored_phrase(480, 500) == "480 of 500 series scored"
    assert accounting.scored_phrase(1234, 1234) == "1,234 of 1,234 series scored"
    assert accounting.scored_phrase(None, 1500) == "1,500 series"  # stored before the series were counted


# --- stored with the run -----------------------------------------------------------------
@pytest.fixture
def late_and_never(warehouse):
    frame = frame_of({"dead": pd.Series(0.0, index=DAYS), "late": weekday_pattern(DAYS[60:]),
                      "regular": weekday_pattern(DAYS)})
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=2), models=(ModelSpec.of("croston"),))
    data = BacktestData(frame=frame, freq=Freq.DAILY, name="stored")
    return warehouse, run_backtest(data, config)


def test_left_out_series_and_fallbacks_are_stored_and_read_back(late_and_never):
    warehouse, result = late_and_never
    run_id = save_run(warehouse, result, "accounted")
    assert get_run(warehouse, run_id).n_scored == 3
    back = load_result(warehouse, run_id)
    pd.testing.assert_frame_equal(back.excluded, result.excluded)
    pd.testing.assert_frame_equal(back.fallbacks.reset_index(drop=True),
                                  result.fallbacks.sort_values(["cutoff"]).reset_index(drop=True))
    assert back.summary()["fallbacks"] == result.summary()["fallbacks"] != {}
    assert back.accounting() == result.accounting()
    delete_run(warehouse, run_id)
    for table in ("run_excluded", "run_fallbacks"):
        assert warehouse.query(f"SELECT count(*) AS n FROM {table}")["n"][0] == 0


def test_the_fallbacks_of_every_stored_run_are_counted_in_one_query(late_and_never):
    warehouse, result = late_and_never  # croston: 'dead' never sold, zero in both folds
    first = save_run(warehouse, result, "croston")
    # cutoffs 04-15 and 04-22: 'late' (from 04-12) is shorter than a season in the first
    # fold only; no series has a year of history for lastyear; naive never falls back
    frame = frame_of({"dead": pd.Series(0.0, index=DAYS), "late": weekday_pattern(DAYS[102:]),
                      "regular": weekday_pattern(DAYS)})
    second = save_run(warehouse, backtest(frame, ("naive", "snaive", "lastyear")), "three models")
    save_run(warehouse, backtest(frame, ("naive",)), "no fallback")
    counts = fallback_counts(warehouse)
    assert counts == {first: {"croston": 1}, second: {"lastyear": 3, "snaive": 1}}
    # what reading each run's fallbacks back would have counted
    for run_id, by_model in counts.items():
        assert load_result(warehouse, run_id).fallbacks.groupby("model")[SERIES_ID].nunique().to_dict() == by_model
    delete_run(warehouse, second)
    assert fallback_counts(warehouse) == {first: {"croston": 1}}


def table_counts(warehouse: Warehouse) -> dict[str, int]:
    return {t: int(warehouse.query(f'SELECT count(*) AS n FROM "{t}"')["n"][0]) for t in warehouse.tables()}


def test_a_run_whose_storing_fails_leaves_the_warehouse_exactly_as_it_was(late_and_never):
    warehouse, result = late_and_never
    save_run(warehouse, result, "a first run")  # something to keep
    before = table_counts(warehouse)
    # the last insert (the fallbacks) fails: runs, timings, forecasts, metrics and
    # left-out series were already written inside the transaction
    broken = result.__class__(**{**result.__dict__, "fallbacks": result.fallbacks.assign(reason=None)})
    with pytest.raises(WarehouseError, match="could not be stored, and nothing of it was"):
        save_run(warehouse, broken, "broken")
    assert table_counts(warehouse) == before
    assert [r.name for r in list_runs(warehouse)] == ["a first run"]


def test_a_warehouse_from_before_the_accounting_opens_with_its_runs(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    migrate(con, upto=6)
    con.execute("INSERT INTO runs VALUES ('r1', 'old run', NULL, 'old', 'f', 'v', 'D', ?, '{}', 500, 1.5, now())",
                [json.dumps({"split": {"horizon": 7, "folds": 1}, "models": [{"alias": "naive"}]})])
    con.execute("INSERT INTO run_timings VALUES ('r1', 'naive', DATE '2024-01-01', 0.1, 500)")
    con.close()
    warehouse = Warehouse(path)
    try:
        assert warehouse.schema_version == SCHEMA_VERSION
        info = get_run(warehouse, "r1")
        assert info.n_series == 500 and info.n_scored is None  # not counted back then
        result = load_result(warehouse, "r1")
        assert result.excluded.empty and result.fallbacks.empty
    finally:
        warehouse.close()


def test_the_tables_name_series_by_their_labels_and_rules_in_words():
    cutoffs = ["2024-03-01", "2024-03-08"]
    excluded = pd.DataFrame({"cutoff": pd.to_datetime(["2024-03-01", "2024-03-01", "2024-03-08"]),
                             SERIES_ID: ["S2/I1", "S1/I1", "S2/I1"], "reason": [ENDED_EARLY] * 3})
    fallbacks = pd.DataFrame({"model": ["ARIMA", "ARIMA", "Same period last year"],
                              "cutoff": pd.to_datetime(["2024-03-01", "2024-03-08", "2024-03-08"]),
                              SERIES_ID: ["S1/I1", "S1/I1", "S9/I9"], "rule": ["naive", "naive", "snaive"],
                              "reason": ["constant history", "constant history", "less than a year of history"]})
    labels = {"S1/I1": "Tokyo · bento", "S2/I1": "Osaka · bento"}  # S9/I9 has no label: its id stays
    left = accounting.left_out_table(excluded, cutoffs, labels)
    assert list(left.columns) == ["Fold", "Cutoff", "Reason", "Series", "Which series"]
    assert left.values.tolist() == [[1, pd.Timestamp("2024-03-01"), ENDED_EARLY, 2, "Osaka · bento, Tokyo · bento"],
                                    [2, pd.Timestamp("2024-03-08"), ENDED_EARLY, 1, "Osaka · bento"]]
    fell = accounting.fallback_table(fallbacks, cutoffs, labels)
    assert list(fell.columns) == ["Model", "Rule", "Reason", "Series", "Folds", "Which series"]
    assert fell.values.tolist() == [
        ["ARIMA", "Naive (last value)", "constant history", 1, "1, 2", "Tokyo · bento"],
        ["Same period last year", "Seasonal naive", "less than a year of history", 1, "2", "S9/I9"]]
    # without labels (a dataset with no attribute or name), the ids; past 30, how many more
    many = pd.DataFrame({"cutoff": pd.Timestamp("2024-03-01"), SERIES_ID: [f"s{i:02d}" for i in range(32)],
                         "reason": STARTED_LATE})
    (row,) = accounting.left_out_table(many, cutoffs).to_dict("records")
    assert row["Series"] == 32 and row["Which series"].endswith("s29 … and 2 more")
    assert row["Which series"].startswith("s00, s01, ")
