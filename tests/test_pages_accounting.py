"""Every series accounted for, on the pages: the Backtest page's stored run and the
Experiments page show how many series were scored, which were left out and why, and
which models fell back to a simple rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import load_result, save_run
from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.text import md
from core.warehouse import Warehouse
from tests.conftest import finish_jobs, new_session, open_page, store_run

# The demo chain: 20 of its 500 items were discontinued before the last weeks, and 50
# were launched less than a year before its end.
SCORED = "Scored 480 of 500 series in at least one fold."
LEFT_OUT = "20 series left out of every fold: ended before the cutoff."
FELL_BACK = ("Same period last year fell back to the seasonal naive rule for 50 series in every fold (less than a year of "
             "history).")


@pytest.fixture
def app(warehouse_env):
    return new_session()


def run_small_backtest(at: AppTest, name: str, models: list[str], item: str | None = None) -> AppTest:
    """The Backtest page's form: 2 folds of 7 days, these models, all items or one."""
    at = open_page(at, "pages/backtest.py")
    at.number_input[0].set_value(7)
    at.number_input[1].set_value(2)
    next(m for m in at.multiselect if m.label == "Models").set_value(models)
    if item:
        at.multiselect(key="bt_filter_item_id").set_value([item])
    next(t for t in at.text_input if t.label == "Run name (optional)").set_value(name)
    at.button(key="bt_run").click()
    at.run()
    assert not at.exception, at.exception
    return finish_jobs(at)


def accounting_block(at: AppTest) -> str:
    return next(i.value for i in at.info if md("Scored") in i.value)


def test_backtest_page_shows_the_series_left_out_and_the_fallbacks(app):
    at = run_small_backtest(app, "accounted", models=["naive", "snaive", "lastyear"])
    block = accounting_block(at)
    for line in (SCORED, LEFT_OUT, FELL_BACK):
        assert md(line) in block
    assert any("480 of 500 series scored" in c.value for c in at.caption)
    left_out, fallbacks = (d.value for d in at.dataframe if "Which series" in d.value.columns)
    assert left_out["Fold"].tolist() == [1, 2] and set(left_out["Reason"]) == {"ended before the cutoff"}
    assert left_out["Series"].tolist() == [20, 20]
    assert fallbacks[["Model", "Rule", "Series", "Folds"]].values.tolist() == [
        ["Same period last year", "Seasonal naive", 50, "1, 2"]]
    assert not [w for w in at.warning if "fell back for all" in w.value]  # 50 of 480: not the whole fold


def test_a_model_that_forecast_no_series_itself_is_flagged_under_the_leaderboard(warehouse_env):
    # 40 days, one fold of 28: lgbm's lags (28 days or more) leave it nothing to train on
    days = pd.date_range("2024-01-01", periods=40)
    frame = pd.DataFrame({SERIES_ID: np.repeat(["a", "b"], len(days)), DATE: np.tile(days, 2),
                          TARGET: np.r_[10.0 + np.arange(40) % 7, 20.0 + np.arange(40) % 5]})
    config = BacktestConfig(split=SplitConfig(horizon=28, folds=1),
                            models=(ModelSpec.of("snaive"), ModelSpec.of("lgbm")))
    warehouse = Warehouse(warehouse_env)
    save_run(warehouse, run_backtest(BacktestData(frame=frame, freq=Freq.DAILY, name="short"), config), "short")
    warehouse.close()
    at = new_session("pages/experiments.py")
    flag = md("LightGBM fell back for all 2 series in fold 1: its scores there are the simple rules', not its own.")
    assert [w.value for w in at.warning if "fell back for all" in w.value] == [flag]
    block = accounting_block(at)  # the rest of the accounting, without the flag a second time
    assert "fell back for all" not in block
    assert md("Scored 2 of 2 series.") in block and md("LightGBM fell back to") in block


def test_a_run_that_left_nothing_out_says_so_in_one_line(app):
    at = run_small_backtest(app, "one item", models=["naive"], item="I0001")
    assert any("10 of 10 series scored" in c.value for c in at.caption)  # the item in each of 10 stores
    assert any("Every series was scored in every fold" in c.value for c in at.caption)
    assert not [i for i in at.info if md("Scored") in i.value]


def test_experiments_page_counts_scored_series_and_fallbacks(app):
    at = run_small_backtest(app, "with fallbacks", models=["snaive", "lastyear"])
    at = open_page(at, "pages/experiments.py")
    overview = at.dataframe[0].value.set_index("Name")
    assert overview.loc["with fallbacks", "Series"] == 500 and overview.loc["with fallbacks", "Scored"] == 480
    assert overview.loc["with fallbacks", "Fallbacks"] == "Same period last year: 50 series"


def test_a_run_stored_before_the_counting_says_so(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    store_run(warehouse, ("S001",), ("naive",), horizon=7, name="old")
    with warehouse.transaction() as cur:
        cur.execute("UPDATE runs SET n_scored = NULL")
    warehouse.close()
    at = new_session("pages/experiments.py")
    assert at.dataframe[0].value["Scored"].isna().all()
    assert any("stored before Mitoshi counted" in c.value for c in at.caption)


def test_report_page_shows_the_series_accounted_for_in_the_decision(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    run_id = store_run(warehouse, ("S001", "S002"), ("practice", "snaive", "lastyear"), horizon=14, name="two stores")
    lines = load_result(warehouse, run_id).accounting()
    warehouse.close()
    assert lines[:2] == ["Scored 96 of 100 series in at least one fold.",
                         "4 series left out of every fold: ended before the cutoff."]
    at = new_session("pages/report.py")
    next(b for b in at.button if b.label == "Evaluate and save the decision").click().run()
    assert not at.exception, at.exception
    assert any(s.value == "Every series accounted for" for s in at.subheader)
    shown = "\n".join(m.value for m in at.markdown)
    assert all(md(line) in shown for line in lines)
    assert any("96 of 100 series scored" in c.value for c in at.caption)


def store_frame(warehouse_env, frame: pd.DataFrame, models: tuple[str, ...], horizon: int, folds: int,
                name: str) -> None:
    config = BacktestConfig(split=SplitConfig(horizon=horizon, folds=folds),
                            models=tuple(ModelSpec.of(m) for m in models))
    warehouse = Warehouse(warehouse_env)
    save_run(warehouse, run_backtest(BacktestData(frame=frame, freq=Freq.DAILY, name=name), config), name)
    warehouse.close()


def never_sold(warehouse_env) -> AppTest:
    """A run on two series that never sold, opened on the Experiments page."""
    days = pd.date_range("2024-01-01", periods=60)
    frame = pd.DataFrame({SERIES_ID: np.repeat(["a", "b"], len(days)), DATE: np.tile(days, 2), TARGET: 0.0})
    store_frame(warehouse_env, frame, ("naive", "snaive", "arima"), horizon=7, folds=2, name="never sold")
    return new_session("pages/experiments.py")


def test_no_model_is_named_best_when_nothing_sold(warehouse_env):
    at = never_sold(warehouse_env)
    shown = [m.value for m in at.markdown]
    assert not [m for m in shown if "Best model" in m]
    board = next(d for d in at.dataframe if "Rung" in d.value.columns)
    assert board.value["WAPE"].isna().all() and board.value["MAE"].eq(0).all()
    assert all(d.proto.placeholder == "–" for d in at.dataframe)  # not "None"
    assert ("No model can be ranked: WAPE is undefined for every model because nothing sold on the scored days. "
            "Compare their MAE (units) in the table instead.") in shown


def test_a_best_model_that_fell_back_everywhere_says_so_beside_its_name(warehouse_env):
    # 40 days, one fold of 28: lgbm's lags leave it nothing to train on, so its scores are
    # its fallback rule's, and that rule beats naive on these weekly series
    days = pd.date_range("2024-01-01", periods=40)
    frame = pd.DataFrame({SERIES_ID: np.repeat(["a", "b"], len(days)), DATE: np.tile(days, 2),
                          TARGET: np.r_[10.0 + np.arange(40) % 7, 20.0 + 3 * (np.arange(40) % 7)]})
    store_frame(warehouse_env, frame, ("naive", "lgbm"), horizon=28, folds=1, name="short")
    at = new_session("pages/experiments.py")
    headline = next(m.value for m in at.markdown if "Best model" in m.value)
    assert headline == ("Best model: **LightGBM** (GBDT), WAPE **0.0%** — but LightGBM fell back to a simple rule "
                        "for every series in fold 1: these are the rules' scores, not its own.")


def test_a_new_tab_on_the_backtest_page_shows_the_datasets_newest_run(warehouse_env):
    """A reload, a new tab or a return the next day finds the newest run of the dataset, not an empty page."""
    from core.backtest.store import get_run
    from core.warehouse import Warehouse
    from tests.conftest import new_session, store_run

    warehouse = Warehouse(warehouse_env)
    try:
        store_run(warehouse, ("S001",), ("snaive", "ma"), 7, "older run")
        newest = store_run(warehouse, ("S002",), ("naive", "ma"), 7, "newest run")
        stored = get_run(warehouse, newest).created_at
    finally:
        warehouse.close()
    at = new_session("pages/backtest.py")
    captions = " ".join(c.value for c in at.caption)
    assert f"The newest run of this dataset, stored {stored:%Y-%m-%d %H:%M}." in captions
    shown = " ".join(m.value for m in at.markdown) + " ".join(s.value for s in at.subheader)
    assert "newest run" in shown and "older run" not in shown
    assert not any("then **Run backtest**" in i.value for i in at.info)
