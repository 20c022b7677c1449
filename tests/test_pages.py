"""Streamlit AppTest for every page: renders without exception on the default
warehouse, and its main interactions change what is shown."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.warehouse import ENV_VAR
from tests.conftest import APP, TIMEOUT, active_jobs, finish_jobs, new_session, open_page


@pytest.fixture
def app(warehouse_env):
    return new_session()


def plotly_titles(at: AppTest) -> list[str]:
    return [json.loads(el.proto.spec)["layout"]["title"]["text"] for el in at.get("plotly_chart")]


def test_first_run_creates_the_demo_chain(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "fresh.duckdb"))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Mitoshi 見通し"
    assert any(m.label == "Series" and m.value == "500" for m in at.metric)


def test_overview_links_to_the_data_pages(app):
    assert "PoC worth taking to production" in app.markdown[0].value
    links = [link.proto.page for link in app.get("page_link")]
    assert any("data" in link for link in links)


def test_data_page_shows_the_demo_chain(app):
    at = open_page(app, "pages/data.py")
    assert at.title[0].value == "Data and current state"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Series"] == "500" and metrics["Stockout share"].endswith("%")
    titles = plotly_titles(at)
    assert any("sold per weekly period" in t for t in titles)
    assert any("ordering practice" in t for t in titles)


def test_data_page_filters_and_splits_change_the_charts(app):
    at = open_page(app, "pages/data.py")
    before = at.get("plotly_chart")[0].proto.spec
    at.multiselect(key=f"filter_{_dataset_id(at)}_category").select("beverages").run()
    at.selectbox(key=f"by_{_dataset_id(at)}").select("store_id").run()
    assert not at.exception
    after = at.get("plotly_chart")[0].proto.spec
    assert after != before and "S001" in after
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Units ordered"] != ""


def _dataset_id(at: AppTest) -> str:
    return at.selectbox(key="dataset_select").value


def test_import_page_imports_a_csv_and_reports_problems(app):
    at = open_page(app, "pages/import.py")
    frame = pd.DataFrame({
        "店舗": ["渋谷"] * 60 + ["梅田"] * 60,
        "日付": list(pd.date_range("2025-01-01", periods=60).strftime("%Y/%m/%d")) * 2,
        "販売数": list(range(60)) * 2,
    })
    frame = frame.drop(index=[5])  # one missing day: must block until the user fills it
    at.file_uploader(key="upload").set_value(("売上.csv", frame.to_csv(index=False).encode("cp932"), "text/csv"))
    at.run()
    assert not at.exception
    assert any("missing inside 1 series" in m.value for m in at.markdown)
    import_button = next(b for b in at.button if b.label == "Import")
    assert import_button.disabled
    fill = next(r for r in at.radio if r.key.startswith("repair_fill_gaps"))
    fill.set_value("zero").run()
    assert any("Filled 1 missing daily period" in i.value for i in at.info)
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    assert any("is in the warehouse: 2 series" in s.value for s in at.success)
    at = open_page(at, "pages/data.py")
    assert {m.label: m.value for m in at.metric}["Series"] == "2"


def test_import_page_explains_an_unreadable_file(app):
    at = open_page(app, "pages/import.py")
    at.file_uploader(key="upload").set_value(("empty.csv", b"a,b\n", "text/csv")).run()
    assert not at.exception
    assert any("no data rows" in e.value for e in at.error)


def test_manage_tab_renames_and_deletes_with_confirmation(app):
    at = open_page(app, "pages/import.py")
    rename = at.get("form")
    assert rename
    name_input = next(t for t in at.text_input if t.label == "New name")
    name_input.set_value("AI商店 デモ")
    next(b for b in at.button if b.label == "Rename").click().run()
    assert not at.exception
    assert "AI商店 デモ" in at.dataframe[0].value["Name"].tolist()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert any("Tick 'Yes, delete it'" in w.value for w in at.warning)
    next(c for c in at.checkbox if c.label == "Yes, delete it").check()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert not at.exception
    assert any("No dataset yet" in i.value for i in at.info)


def run_small_backtest(at: AppTest, name: str, horizon: int = 7, folds: int = 2) -> AppTest:
    at = open_page(at, "pages/backtest.py")
    at.number_input[0].set_value(horizon)
    at.number_input[1].set_value(folds)
    models = next(m for m in at.multiselect if m.label == "Models")
    models.set_value(["practice", "naive", "snaive", "ma"])
    next(t for t in at.text_input if t.label == "Run name (optional)").set_value(name)
    at.button(key="bt_run").click()
    at.run()
    assert not at.exception, at.exception
    return finish_jobs(at)


def test_backtest_page_runs_a_small_ladder_and_shows_results(app):
    at = run_small_backtest(app, "小さな実験")
    assert any("Best model" in m.value for m in at.markdown)
    assert at.subheader[0].value == "小さな実験"
    titles = plotly_titles(at)
    assert any("The ladder" in t for t in titles)
    assert any("WAPE reduction against Seasonal naive" in t for t in titles)
    assert any("by periods ahead" in t for t in titles)
    board = at.dataframe[0].value
    assert set(board["Model"]) == {"Today's practice", "Naive (last value)", "Seasonal naive", "Moving average"}
    assert {"WAPE", "MASE", "sMAPE", "Seconds", "vs Seasonal naive", "vs Today's practice"} <= set(board.columns)


def test_backtest_page_explains_bad_settings(app):
    at = open_page(app, "pages/backtest.py")
    at.number_input[0].set_value(400)  # horizon longer than the history allows with 3 folds
    at.button(key="bt_run").click()
    at.run()
    assert not at.exception
    assert any("too short" in e.value for e in at.error)


def test_experiments_page_compares_two_runs(app):
    at = run_small_backtest(app, "run A", horizon=7)
    at = run_small_backtest(at, "run B", horizon=14)
    at = open_page(at, "pages/experiments.py")
    assert set(at.dataframe[0].value["Name"]) == {"run A", "run B"}
    assert any(c.value.startswith("2 runs stored") for c in at.caption)
    at.multiselect(key="exp_compare").set_value(["run A", "run B"]).run()
    assert not at.exception, at.exception
    assert any("Comparing 2 runs" in s.value for s in at.subheader)
    differences = at.dataframe[1].value
    assert differences.loc["Horizon (periods)"].tolist() == ["7", "14"]
    assert any("lower WAPE in" in m.value for m in at.markdown)
    dm = [d.value for d in at.dataframe if "p-value" in d.value.columns][0]
    assert set(dm["Baseline"]) == {"Seasonal naive", "Today's practice"}


def test_experiments_page_renames_and_deletes_a_run(app):
    at = run_small_backtest(app, "to rename")
    at = open_page(at, "pages/experiments.py")
    assert any(c.value.startswith("1 run stored · best WAPE overall") for c in at.caption)
    next(t for t in at.text_input if t.label == "New name").set_value("renamed run")
    next(b for b in at.button if b.label == "Rename").click().run()
    assert "renamed run" in at.dataframe[0].value["Name"].tolist()
    next(c for c in at.checkbox if c.label == "Yes, delete this run").check()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert not at.exception
    assert any("No run yet" in i.value for i in at.info)


def test_empty_experiments_page_points_to_the_backtest(app):
    at = open_page(app, "pages/experiments.py")
    assert any("No run yet" in i.value for i in at.info)


def test_a_stored_run_leaves_no_cancel_button_and_says_what_was_done(app):
    at = run_small_backtest(app, "stored")
    assert not [b for b in at.button if b.label == "Cancel"] and not at.get("progress")
    assert [s.value for s in at.success] == ["Done in " + at.success[0].value.removeprefix("Done in ")]
    assert ": 4 models × 2 folds, 480 of 500 series scored" in at.success[0].value
    at.run()
    assert not [w for w in at.warning if "nothing" in w.value]
    assert at.subheader[0].value == "stored"
    # the job is listed, done, with what it made
    history = next(d.value for d in at.dataframe if "Job" in d.value.columns)
    assert history["State"].tolist() == ["done"]
    assert history["Job"].iloc[0].startswith("Backtest of AI Shop demo chain: Today's practice, Naive")


def test_a_cancelled_backtest_says_nothing_was_stored(app, warehouse_env):
    from core.warehouse import Warehouse

    at = open_page(app, "pages/backtest.py")
    at.button(key="bt_run").click().run()  # the default ladder on 500 series: a minute or more
    [job_id] = active_jobs(at)
    at.button(key=f"job_cancel_{job_id}").click().run()
    finish_jobs(at, timeout=30)
    assert [w.value for w in at.warning][0] == "The job was cancelled; nothing of it was stored."
    assert "backtest_run_id" not in at.session_state
    warehouse = Warehouse(warehouse_env)
    try:
        assert warehouse.query("SELECT count(*) AS n FROM runs")["n"].iloc[0] == 0
        assert warehouse.query("SELECT state FROM jobs")["state"].tolist() == ["cancelled"]
    finally:
        warehouse.close()


def test_the_leaderboard_is_as_tall_as_its_rows_and_shows_each_rung_in_full(app, monkeypatch):
    import streamlit

    heights = []
    dataframe = streamlit.dataframe

    def spy(data=None, *args, **kwargs):  # AppTest keeps a table's data, not its layout
        if "Rung" in getattr(data, "columns", ()):
            heights.append(kwargs.get("height"))
        return dataframe(data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "dataframe", spy)
    at = run_small_backtest(app, "sized")
    assert heights == ["content"]
    board = next(d for d in at.dataframe if "Rung" in d.value.columns)
    assert json.loads(board.proto.columns)["Rung"]["width"] == "medium"  # "current practice" untruncated


def test_chart_axes_keep_their_ticks_distinct(app):
    # a whole-number tick format read "6, 6, 6, 5" on a WAPE axis between 5.5% and 6.5%
    at = run_small_backtest(app, "ticks")
    formats = {(layout["title"]["text"], axis): layout[axis].get("tickformat")
               for el in at.get("plotly_chart")
               for layout in [json.loads(el.proto.spec)["layout"]]
               for axis in ("yaxis", "yaxis2") if axis in layout}
    assert formats and not [f for f in formats.values() if f and f.endswith("f")], formats
    assert formats[next(k for k in formats if "The ladder" in k[0])] == ",~r"


def test_backtest_page_names_the_model_and_fold_that_failed_and_stores_nothing(app, warehouse_env, monkeypatch,
                                                                             tmp_path):
    from core.backtest.store import list_runs
    from core.warehouse import Warehouse

    # The backtest runs in a worker process: the fault is planted there, by a sitecustomize
    # module that Python imports when the worker starts.
    plant = tmp_path / "plant"
    plant.mkdir()
    (plant / "sitecustomize.py").write_text(
        "from core.forecast.gbdt import LightGBM\n"
        "def broken(self, task):\n"
        "    raise IndexError('index 227 is out of bounds for axis 1 with size 223')\n"
        "LightGBM._forecast = broken\n")
    monkeypatch.setenv("PYTHONPATH", str(plant))
    at = open_page(app, "pages/backtest.py")
    at.number_input[0].set_value(7)
    at.number_input[1].set_value(2)
    next(m for m in at.multiselect if m.label == "Models").set_value(["naive", "lgbm"])
    at.button(key="bt_run").click()
    at.run()
    finish_jobs(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1
    assert "LightGBM failed on fold 1/2 (cutoff " in errors[0]
    assert "IndexError" in errors[0] and "Nothing was stored" in errors[0] and "without LightGBM" in errors[0]
    assert "Traceback" not in errors[0]
    assert "backtest_run_id" not in at.session_state
    warehouse = Warehouse(warehouse_env)
    try:
        assert list_runs(warehouse) == []  # nothing half-written
    finally:
        warehouse.close()
    # As the message says: without LightGBM the same run goes through and is stored.
    next(m for m in at.multiselect if m.label == "Models").set_value(["naive"])
    at.button(key="bt_run").click()
    at.run()
    finish_jobs(at)
    assert not at.error
    assert at.session_state["backtest_run_id"]


# ---- Import page: appending new rows to a dataset (tab "Append new rows") ----
def _open_append_tab(app: AppTest) -> AppTest:
    at = open_page(app, "pages/import.py")
    at.session_state["import_tab"] = "Append new rows"  # the tab as a click on it sets it
    at.run()
    assert not at.exception, at.exception
    return at


def _demo_rows(path, days: list[str], shift: int) -> bytes:
    """The demo chain's rows of ``days``, moved ``shift`` days later, as a chain's export
    names them ('date', 'units sold'); region and category left out (the stored ones hold)."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        table = con.execute("SELECT table_name FROM datasets").fetchone()[0]
        frame = con.execute(f"SELECT store_id, item_id, ds, y, price, promo, holiday, stockout, ordered FROM {table} "
                            f"WHERE ds IN ({', '.join('?' for _ in days)}) ORDER BY store_id, item_id, ds",
                            days).df()
    frame["ds"] = (pd.to_datetime(frame["ds"]) + pd.Timedelta(days=shift)).dt.strftime("%Y-%m-%d")
    return frame.rename(columns={"ds": "date", "y": "units sold"}).to_csv(index=False).encode()


def _history(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Replaced" in d.value.columns)


def test_append_tab_appends_a_file_then_refuses_or_replaces_overlapping_dates(app, warehouse_env):
    from core.data.demo import REFERENCE_END_DATE

    at = _open_append_tab(app)
    assert any("None yet" in c.value for c in at.caption)
    end = REFERENCE_END_DATE
    last = str(end)
    active = _demo_rows(warehouse_env, [last], 0).count(b"\n") - 1  # series sold on the last day
    at.file_uploader(key="append_upload").set_value(("week.csv", _demo_rows(warehouse_env, [last], 1), "text/csv"))
    at.run()
    assert not at.exception, at.exception
    day = end + pd.Timedelta(days=1)
    assert any(s.value.startswith(f"Ready to append {active:,} daily rows of {active:,} series, {day:%Y-%m-%d} → "
                                  f"{day:%Y-%m-%d}.") for s in at.success)
    next(b for b in at.button if b.label == "Append").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith(f"Appended {active:,} rows of {active:,} series, {day:%Y-%m-%d} → {day:%Y-%m-%d}.")
               for s in at.success)
    history = _history(at)
    assert history["Rows"].tolist() == [active] and history["Source"].tolist() == ["appended: week.csv"]

    # The stored last day and one more: the overlap is shown before anything is written.
    at.file_uploader(key="append_upload").set_value(
        ("two.csv", _demo_rows(warehouse_env, [str(end - pd.Timedelta(days=1)), last], 2), "text/csv"))
    at.run()
    assert not at.exception, at.exception
    assert any(w.value.startswith(f"{active:,} of these rows have a series and date the dataset already holds "
                                  f"({day:%Y-%m-%d} → {day:%Y-%m-%d})") for w in at.warning)
    append = next(b for b in at.button if b.label == "Append")
    assert append.disabled  # refuse is the default
    next(r for r in at.radio if r.label == "When dates overlap").set_value("replace").run()
    next(b for b in at.button if b.label == "Append").click().run()
    assert not at.exception, at.exception
    assert any(f"replacing {active:,} stored rows" in s.value for s in at.success)
    assert _history(at)["Replaced"].tolist() == [active, 0]  # newest first


def test_append_tab_refuses_a_file_for_another_dataset_with_its_reason(app):
    at = _open_append_tab(app)
    frame = pd.DataFrame({"shop": ["渋谷"] * 3, "date": ["2030-01-01", "2030-01-02", "2030-01-03"],
                          "units sold": [1, 2, 3]})
    at.file_uploader(key="append_upload").set_value(("other.csv", frame.to_csv(index=False).encode(), "text/csv"))
    at.run()
    assert not at.exception, at.exception
    assert any("1 problem(s) block the append" in e.value for e in at.error), [e.value for e in at.error]
    assert any("The file has no column 'store\\_id', 'item\\_id'" in m.value for m in at.markdown)  # as markdown
    assert not any(b.label == "Append" for b in at.button)


def test_append_tab_extends_the_demo_chain(app):
    from core.data.demo import REFERENCE_END_DATE

    at = _open_append_tab(app)
    at.number_input(key="extend_days").set_value(3)
    at.run()
    next(b for b in at.button if b.label == "Extend the demo chain by 3 days").click().run()
    assert not at.exception, at.exception
    first, last = REFERENCE_END_DATE + pd.Timedelta(days=1), REFERENCE_END_DATE + pd.Timedelta(days=3)
    assert any(f"{first:%Y-%m-%d} → {last:%Y-%m-%d}" in s.value and s.value.startswith("Appended ")
               for s in at.success)
    history = _history(at)
    assert history["From"].tolist() == [pd.Timestamp(first)] and history["To"].tolist() == [pd.Timestamp(last)]


def test_the_pages_default_ladder_is_the_command_lines_and_ets_chooses_its_form(app, warehouse_env):
    """Left on its defaults, the page asks for every model with its class defaults (ETS
    automatic by AICc), so no params are stored; a fixed ETS form stores only what differs."""
    from core.backtest.engine import BacktestConfig
    from core.forecast.registry import DEFAULT_LADDER
    from core.forecast.stats import ETS
    from core.warehouse import Warehouse

    def asked() -> list[BacktestConfig]:  # what the page queued, oldest first
        warehouse = Warehouse(warehouse_env)
        try:
            params = warehouse.query("SELECT params FROM jobs ORDER BY created_at")["params"]
        finally:
            warehouse.close()
        return [BacktestConfig.from_dict(json.loads(p)["config"]) for p in params]

    at = open_page(app, "pages/backtest.py")
    assert at.selectbox(key="bt_ets_trend").value == "auto"
    assert at.selectbox(key="bt_ets_seasonal").value == "auto"
    assert at.checkbox(key="bt_ets_damped").disabled
    at.button(key="bt_run").click().run()
    specs = {m.alias: m for m in asked()[0].models}
    assert [a for a in specs if a != "practice"] == list(DEFAULT_LADDER)
    assert all(spec.params == () for spec in specs.values())
    assert specs["ets"].build() == ETS() and ETS().trend == "auto" and ETS().seasonal == "auto"
    at.selectbox(key="bt_ets_trend").set_value("add").run()
    assert not at.checkbox(key="bt_ets_damped").disabled
    at.checkbox(key="bt_ets_damped").check()
    at.button(key="bt_run").click().run()
    second = asked()[1]
    assert dict(second.models[[m.alias for m in second.models].index("ets")].params) == {
        "trend": "add", "damped": True}
    assert len(active_jobs(at)) == 2  # the first runs, the second waits for it


def test_leaderboard_percentages_have_one_decimal_each_rounded_not_cut(app):
    # "40.9%" next to "38.73%" and "6%" next to "6.38%": each percent column now shows one decimal
    from core.backtest.metrics import PERCENT_METRICS
    from ui.backtest import PERCENT_STEP, rounded_percent

    assert rounded_percent(pd.DataFrame({"WAPE": [0.06385, 0.40949]}), ["WAPE"])["WAPE"].tolist() == [0.064, 0.409]
    at = run_small_backtest(app, "decimals")
    board = next(d for d in at.dataframe if "Rung" in d.value.columns)
    config = json.loads(board.proto.columns)
    percent = [c for c in board.value.columns if c.startswith("vs ") or c in {"WAPE", "sMAPE"}]
    assert {"WAPE", "sMAPE", "vs Seasonal naive"} <= set(percent)
    assert "wape" in PERCENT_METRICS
    for column in percent:
        assert {k: config[column]["type_config"].get(k) for k in ("format", "step")} == {
            "format": "percent", "step": PERCENT_STEP}, column
        values = board.value[column].dropna()
        assert (values.round(3) == values).all(), column  # rounded to the shown 0.1 %, so Streamlit's cut is exact


def test_a_new_session_finds_the_running_backtest_and_then_its_run(app):
    """What a reload or a second tab does: the job runs on in its worker process, the new
    session shows it with its Cancel, and then opens its run."""
    at = open_page(app, "pages/backtest.py")
    at.number_input[0].set_value(7)
    next(m for m in at.multiselect if m.label == "Models").set_value(["naive", "snaive", "ets"])
    next(t for t in at.text_input if t.label == "Run name (optional)").set_value("found again")
    at.button(key="bt_run").click().run()
    [job_id] = active_jobs(at)
    again = new_session("pages/backtest.py")
    assert active_jobs(again) == [job_id]
    assert any(m.value.startswith(":material/play_circle: **Backtest of AI Shop demo chain")
               and "Naive (last value), Seasonal naive, ETS (exponential smoothing)** — running for 0:" in m.value
               for m in again.markdown)
    finish_jobs(again)
    assert again.subheader[0].value == "found again"
    assert again.success[0].value.startswith("Done in ")


def test_import_page_asks_what_to_do_with_series_that_are_sums_of_others(app):
    """A file with states beside their stores (as M5's is): the import waits for a choice, and leaving
    the states out imports the stores alone."""
    from tests.test_importer import hierarchy

    at = open_page(app, "pages/import.py")
    at.file_uploader(key="upload").set_value(("m5_like.csv", hierarchy().to_csv(index=False).encode(), "text/csv"))
    at.run()
    assert not at.exception
    assert any("2 series are the sums of other series in the file" in m.value for m in at.markdown)
    assert next(b for b in at.button if b.label == "Import").disabled
    choice = next(r for r in at.radio if r.key.startswith("repair_aggregates"))
    assert choice.label == "Series that are sums of others"
    choice.set_value("drop").run()
    assert any("Left out 2 series that are sums of other series" in i.value for i in at.info)
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    assert any("is in the warehouse: 5 series" in s.value for s in at.success)
