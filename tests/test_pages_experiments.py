"""Issue 11's smaller faults on the Backtest, Experiments and Import pages: a backtest
starts only on its button; runs are compared only on what they share, with a warning
naming what differs; fallbacks (ARIMA's too) are shown; a name clash points to the
delete on the same page; people read model names and series labels."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from core.backtest import store as runs
from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import save_run
from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.text import md
from core.warehouse import DatasetSpec, Warehouse
from tests.conftest import finish_jobs, new_session, open_page, small_frame, store_run


@pytest.fixture
def app(warehouse_env):
    return new_session()


# ---- the Backtest page starts a run on its button only ----
def test_changing_fields_or_pressing_enter_starts_no_backtest(app, warehouse_env):
    at = open_page(app, "pages/backtest.py")
    assert not at.get("form")  # a form would submit on Enter in any text or number field
    at.number_input[0].set_value(7).run()  # what Enter in the horizon field sends: the new value
    next(t for t in at.text_input if t.label == "Run name (optional)").set_value("typed, then Enter").run()
    next(m for m in at.multiselect if m.label == "Models").set_value(["naive", "arima"]).run()
    assert not at.exception
    assert not [s for s in at.status if s.label.startswith(("Running", "Done"))]
    assert any("then **Run backtest**" in i.value for i in at.info)
    warehouse = Warehouse(warehouse_env)
    assert runs.list_runs(warehouse) == []
    warehouse.close()
    # the button alone starts it, with the values typed (a quick model, on one store)
    next(m for m in at.multiselect if m.label == "Models").set_value(["naive"])
    at.multiselect(key="bt_filter_store_id").set_value(["S001"])
    at.number_input[1].set_value(1)
    at.button(key="bt_run").click()
    at.run()
    finish_jobs(at)
    assert at.subheader[0].value == "typed, then Enter"


def test_backtest_models_are_offered_by_name(app):
    at = open_page(app, "pages/backtest.py")
    models = next(m for m in at.multiselect if m.label == "Models")
    assert "Seasonal naive · rule" in models.options and "LightGBM · GBDT" in models.options
    assert not [o for o in models.options if o.startswith(("snaive", "lgbm"))]


# ---- Experiments: compared only on what the runs share ----
@pytest.fixture
def two_horizons(warehouse_env):
    """Two runs of the demo chain's store S001: horizon 7 and horizon 14, 2 folds each."""
    warehouse = Warehouse(warehouse_env)
    a = store_run(warehouse, ("S001",), ("snaive", "ma"), horizon=7, name="run A")
    b = store_run(warehouse, ("S001",), ("snaive", "ma"), horizon=14, name="run B")
    data = {r: (runs.run_forecasts(warehouse, r), runs.run_cutoffs(warehouse, r)) for r in (a, b)}
    warehouse.close()
    return data[a], data[b]


def compare(at, *names):
    at = open_page(at, "pages/experiments.py")
    at.multiselect(key="exp_compare").set_value(list(names)).run()
    assert not at.exception, at.exception
    return at


def test_runs_of_different_horizons_are_compared_on_their_shared_cutoff_and_steps(app, two_horizons):
    (fa, cuts_a), (fb, cuts_b) = two_horizons
    shared_cutoffs = sorted(set(cuts_a) & set(cuts_b))
    assert len(shared_cutoffs) == 1  # h=7: end-14, end-7; h=14: end-28, end-14
    cutoff = pd.Timestamp(shared_cutoffs[0])
    at = compare(app, "run A", "run B")
    warning = next(w.value for w in at.warning if "differ in" in w.value)
    assert md("horizon (run A: 7, run B: 14 periods)") in warning
    assert md(f"cutoffs (run A: {', '.join(f'{c:%Y-%m-%d}' for c in cuts_a)}, "
              f"run B: {', '.join(f'{c:%Y-%m-%d}' for c in cuts_b)})") in warning
    both = set(fa.loc[fa["cutoff"] == cutoff, "unique_id"]) & set(fb.loc[fb["cutoff"] == cutoff, "unique_id"])
    assert len(both) == 48  # 2 of the store's 50 items were discontinued before the cutoff
    assert (f"compared only on what they share: 48 series, 1 cutoff ({cutoff:%Y-%m-%d}) and horizon steps 1–7."
            in warning)
    # WAPE of each run recomputed on that cutoff and those steps only
    table = next(d.value for d in at.dataframe if "Model" in d.value.columns and "run A" in d.value.columns)
    table = table.set_index("Model")
    for name, frame in (("run A", fa), ("run B", fb)):
        part = frame[(frame["cutoff"] == cutoff) & (frame["step"] <= 7) & (frame["model"] == "snaive")]
        expected = (part["forecast"] - part["actual"]).abs().sum() / part["actual"].abs().sum()
        assert table.loc["Seasonal naive", name] == pytest.approx(expected)
    # same cutoff, same dates, same model: the two runs forecast the same thing
    assert table.loc["Seasonal naive", "run A"] == pytest.approx(table.loc["Seasonal naive", "run B"])
    assert table.loc["Seasonal naive", "Δ run B (pp)"] == "no change"
    differences = at.dataframe[1].value
    assert differences.loc["Horizon (periods)"].tolist() == ["7", "14"]
    assert not [i for i in differences.index if "." in i]  # no "split.horizon"


def test_identical_scopes_show_no_warning(app, warehouse_env):
    warehouse = Warehouse(warehouse_env)
    store_run(warehouse, ("S001",), ("snaive",), horizon=7, name="first")
    store_run(warehouse, ("S001",), ("snaive", "ma"), horizon=7, name="second")
    warehouse.close()
    at = compare(app, "first", "second")
    assert not [w for w in at.warning if "differ in" in w.value]
    differences = at.dataframe[1].value
    assert differences.loc["Models"].tolist() == ["Seasonal naive", "Seasonal naive, Moving average"]
    # segments are those of both runs; the wins are counted on the shared series
    level = at.selectbox(key="exp_level")
    assert level.options == ["store_id", "item_id", "region", "category"]
    level.set_value("category").run()
    wins = next(d.value for d in at.dataframe if "Category" in d.value.columns)
    assert len(wins) == 7 and set(wins["Lower WAPE"]) == {"Tie"}  # same model, same forecasts
    assert (wins["first"] == wins["second"]).all()


def test_runs_on_different_datasets_are_not_compared_on_errors(app, warehouse_env, small_spec):
    warehouse = Warehouse(warehouse_env)
    store_run(warehouse, ("S001",), ("snaive",), horizon=7, name="demo run")
    dataset = warehouse.create_dataset(small_spec, small_frame())
    from core.backtest.engine import dataset_data

    config = BacktestConfig(split=SplitConfig(horizon=7, folds=1), models=(ModelSpec.of("snaive"),))
    save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "small run")
    warehouse.close()
    at = compare(app, "demo run", "small run")
    warning = next(w.value for w in at.warning if "different data" in w.value)
    assert md("dataset (demo run: AI Shop demo chain, small run: small)") in warning
    assert md("series count (demo run: 50, small run: 6)") in warning
    assert not [d for d in at.dataframe if "Model" in d.value.columns and "demo run" in d.value.columns]
    assert not [s for s in at.selectbox if s.key == "exp_level"]  # no segment of one run only


# ---- fallbacks, ARIMA's too, on both pages ----
def arima_run(warehouse_env) -> str:
    """ARIMA on a constant series (falls back to the naive) and a varying one."""
    days = pd.date_range("2024-01-01", periods=70)
    frame = pd.DataFrame({SERIES_ID: np.repeat(["flat", "busy"], len(days)), DATE: np.tile(days, 2),
                          TARGET: np.r_[np.full(70, 5.0), 10.0 + 3 * (np.arange(70) % 7)]})
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=1), models=(ModelSpec.of("snaive"),
                                                                           ModelSpec.of("arima")))
    warehouse = Warehouse(warehouse_env)
    run_id = save_run(warehouse, run_backtest(BacktestData(frame=frame, freq=Freq.DAILY, name="flat"), config),
                      "arima")
    assert runs.fallback_counts(warehouse)[run_id] == {"arima": 1}
    warehouse.close()
    return run_id


def test_arima_fallbacks_are_shown_on_the_experiments_and_backtest_pages(warehouse_env):
    run_id = arima_run(warehouse_env)
    at = new_session("pages/experiments.py")
    overview = at.dataframe[0].value.set_index("Name")
    assert overview.loc["arima", "Fallbacks"] == "ARIMA: 1 series"
    line = md("ARIMA fell back to the last value (naive) for 1 series in fold 1 (constant history).")
    assert any(line in i.value for i in at.info), [i.value for i in at.info]
    at = open_page(at, "pages/backtest.py")
    at.session_state["backtest_run_id"] = run_id
    at.run()
    assert any(line in i.value for i in at.info)


def test_a_failed_arima_fit_is_recorded_with_the_run_not_only_logged(warehouse_env, monkeypatch):
    import core.forecast.stats as stats

    monkeypatch.setattr(stats, "fit_sarimax", lambda *args, **kwargs: None)  # every fit fails
    days = pd.date_range("2024-01-01", periods=70)
    frame = pd.DataFrame({SERIES_ID: np.repeat(["a", "b"], len(days)), DATE: np.tile(days, 2),
                          TARGET: np.r_[10.0 + np.arange(70) % 7, 20.0 + 3 * (np.arange(70) % 5)]})
    result = run_backtest(BacktestData(frame=frame, freq=Freq.DAILY, name="fails"),
                          BacktestConfig(split=SplitConfig(horizon=7, folds=2), models=(ModelSpec.of("arima"),)))
    assert sorted(result.fallbacks[["unique_id", "rule", "reason"]].drop_duplicates().itertuples(index=False)) == [
        ("a", "snaive", "the fit failed or did not converge"), ("b", "snaive", "the fit failed or did not converge")]
    warehouse = Warehouse(warehouse_env)
    run_id = save_run(warehouse, result, "failed fits")
    assert runs.fallback_counts(warehouse)[run_id] == {"arima": 2}
    warehouse.close()


# ---- names people read ----
def test_experiments_name_models_and_write_p_values(app, two_horizons):
    at = open_page(app, "pages/experiments.py")
    overview = at.dataframe[0].value.set_index("Name")
    assert overview.loc["run A", "Models"] == "Moving average, Seasonal naive" or \
        overview.loc["run A", "Models"] == "Seasonal naive, Moving average"
    assert overview.loc["run A", "Best model"] in {"Moving average", "Seasonal naive"}
    dm = next(d.value for d in at.dataframe if "p-value" in d.value.columns)
    assert set(dm["Model"]) | set(dm["Baseline"]) == {"Moving average", "Seasonal naive"}
    assert all(p == "< 0.001" or (len(p) == 5 and p.startswith(("0.", "1."))) for p in dm["p-value"])


def test_segment_errors_are_sorted_bars_from_zero_and_series_are_labelled(app, warehouse_env):
    warehouse = Warehouse(warehouse_env)
    store_run(warehouse, ("S001",), ("snaive",), horizon=7, name="labelled")
    warehouse.close()
    at = new_session("pages/experiments.py")
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    by_category = next(c for c in charts if c["layout"]["title"]["text"].startswith("WAPE of Seasonal naive by category"))
    assert {t["type"] for t in by_category["data"]} == {"bar"}
    bars = by_category["data"][0]
    assert bars["orientation"] == "h" and by_category["layout"]["xaxis"]["range"][0] == 0
    order = by_category["layout"]["yaxis"]["categoryarray"]
    values = dict(zip(bars["y"], (float(t.rstrip("%")) for t in bars["text"]), strict=True))
    assert [values[c] for c in order] == sorted(values.values())  # worst at the top
    assert len(order) == 7  # the seven categories
    series = at.selectbox(key="exp_series")  # AppTest holds the options as shown
    assert len(series.options) == 48 and all(o.startswith("S001 丸の内店 / I0") for o in series.options)
    assert series.value.startswith("S001/I0")  # the id stays the value


# ---- an import clash points to the delete on this page ----
def test_a_name_clash_points_to_the_delete_on_the_import_page(app):
    at = open_page(app, "pages/import.py")
    frame = pd.DataFrame({"store": ["A"] * 60, "date": pd.date_range("2025-01-01", periods=60).strftime("%Y-%m-%d"),
                          "units": range(60)})
    at.file_uploader(key="upload").set_value(("sales.csv", frame.to_csv(index=False).encode(), "text/csv")).run()
    name = next(t for t in at.text_input if t.label == "Dataset name")
    name.set_value("AI Shop demo chain").run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    message = next(e.value for e in at.error if "already exists" in e.value)
    assert message == ("A dataset called 'AI Shop demo chain' already exists. Type another name in **Dataset name** "
                       "above, or delete the old one on the **Manage datasets** tab of this page (tick 'Yes, delete "
                       "it', then **Delete**) and import again.")
    assert "Data page" not in message
    # the same for a demo chain generated under a taken name, said before generating
    next(t for t in at.text_input if t.label == "Name").set_value("AI Shop demo chain")
    next(b for b in at.button if b.label == "Generate and store").click().run()
    assert any("Type another name in **Name** above, or delete the old one on the **Manage datasets** tab"
               in e.value for e in at.error)
    assert not [s for s in at.status if s.label.startswith("Generating")]


# ---- a walk of the Backtest and Experiments pages on monthly data, read as a person reads them ----
ALIASES = ("snaive", "lgbm", "ets", "ma", "arima", "practice", "lastyear")  # lowercase words; "naive" below


def monthly_runs(warehouse_env) -> tuple[str, str]:
    """Two runs on a small monthly turnover dataset (4 series by state and industry, 60
    months, one with a gap so a fold leaves it out): Seasonal naive and Moving average,
    then Seasonal naive and ETS, horizon 6, 2 folds."""
    months = pd.date_range("2019-01-01", periods=60, freq="MS")
    rows = []
    for i, (state, industry) in enumerate([("NSW", "Cafes"), ("NSW", "Food"), ("VIC", "Cafes"), ("VIC", "Food")]):
        level = 100.0 * (i + 1) + 10 * np.sin(np.arange(60) * 2 * np.pi / 12) + np.arange(60)
        kept = months if i < 3 else months[:-8]  # VIC Food ended eight months early
        rows.append(pd.DataFrame({"series_code": f"A{i}", "state": state, "industry": industry, DATE: kept,
                                  TARGET: level[:len(kept)]}))
    spec = DatasetSpec(name="monthly turnover", freq=Freq.MONTHLY, keys=("series_code",),
                       attributes=("state", "industry"), source="test")
    warehouse = Warehouse(warehouse_env)
    dataset = warehouse.create_dataset(spec, pd.concat(rows, ignore_index=True))
    from core.backtest.engine import dataset_data

    ids = []
    for name, models in (("monthly A", ("snaive", "ma")), ("monthly B", ("snaive", "ets"))):
        config = BacktestConfig(split=SplitConfig(horizon=6, folds=2), models=tuple(ModelSpec.of(m) for m in models))
        ids.append(save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), name))
    warehouse.close()
    return ids[0], ids[1]


def page_text(at) -> list[str]:
    """Every text a person reads on the page: headings, paragraphs, notes, table headers and
    cells, options, chart titles and axes."""
    texts = [e.value for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error")
             for e in getattr(at, kind)]
    for frame in at.dataframe:
        texts += [str(c) for c in frame.value.columns]
        texts += [v for v in frame.value.astype(object).to_numpy().ravel() if isinstance(v, str)]  # missing: "–"
        assert frame.proto.placeholder == "–", list(frame.value.columns)
        texts += [str(i) for i in frame.value.index if not isinstance(i, int)]
    for widget in (*at.selectbox, *at.multiselect):
        texts.append(widget.label)
        if "Dataset" not in widget.label:  # the demo chain, daily, is on the list beside the monthly data
            texts += [str(o) for o in widget.options]
    for chart in at.get("plotly_chart"):
        layout = json.loads(chart.proto.spec)["layout"]
        texts += [str(layout.get(axis, {}).get("title", {}).get("text", "")) for axis in ("title", "xaxis", "yaxis")]
    return texts


def assert_written_for_people(texts: list[str]) -> None:
    words = {w for text in texts for w in re.findall(r"[A-Za-z_]+", text)}
    assert not words & set(ALIASES), sorted(words & set(ALIASES))
    bare_naive = [t for t in texts if re.search(r"(?<!Seasonal )(?<!\()\bnaive\b", t)]  # a rule, not "(naive)"
    assert not bare_naive, bare_naive
    assert not [t for t in texts if t in ("None", "nan", "NaN", "NaT")]
    days = [t for t in texts if re.search(r"\bdays?\b|\bdaily\b|weekday", t)]
    assert not days, days
    assert not [t for t in texts if t in ("mean |error| difference", "model", "baseline", "verdict", "name",
                                          "wape", "mase", "smape", "rmse", "mae", "bias", "lower WAPE", "ids")]


def test_a_monthly_run_reads_in_months_with_names_and_labels(warehouse_env):
    a, b = monthly_runs(warehouse_env)
    at = new_session("pages/backtest.py")
    at.session_state["backtest_run_id"] = a
    at.run()
    assert not at.exception, at.exception
    assert_written_for_people(page_text(at))
    left_out = next(d.value for d in at.dataframe if "Which series" in d.value.columns)
    assert left_out["Which series"].tolist() == ["VIC · Food"] * len(left_out)  # its state and industry, not A3
    assert any("horizon 6 months, 2 folds, step 6 months" in c.value for c in at.caption)

    at = compare(at, "monthly A", "monthly B")
    at.selectbox(key="exp_open").set_value(a)
    at.selectbox(key="exp_dm_run").set_value(a).run()
    texts = page_text(at)
    assert_written_for_people(texts)
    note = next(c.value for c in at.caption if "One-sided test" in c.value)
    assert "in each month of the run's folds" in note and "per series and month" in note
    dm = next(d.value for d in at.dataframe if "p-value" in d.value.columns)
    assert list(dm.columns) == ["Model", "Baseline", "MAE difference (per series and month, data's units)",
                                "DM statistic", "p-value", "Verdict"]
    assert set(dm["Model"]) == {"Moving average"} and set(dm["Baseline"]) == {"Seasonal naive"}
    overview = at.dataframe[0].value
    assert list(overview.columns[:6]) == ["Name", "Dataset", "Created", "Frequency", "Series", "Scored"]
    assert set(overview["Frequency"]) == {"monthly"} and set(overview["Series"]) == {4}
    wapes = next(d.value for d in at.dataframe if "Model" in d.value.columns and "monthly A" in d.value.columns)
    wapes = wapes.set_index("Model")
    assert set(wapes.index) == {"Seasonal naive", "ETS (exponential smoothing)", "Moving average"}
    assert wapes.loc["Seasonal naive", "monthly A"] == pytest.approx(wapes.loc["Seasonal naive", "monthly B"])
    assert wapes.loc["Seasonal naive", "Δ monthly B (pp)"] == "no change"
    assert pd.isna(wapes.loc["Moving average", "monthly B"])  # not in run B: blank, not "None"
    level = at.selectbox(key="exp_level")
    assert level.options == ["state", "industry"]
    wins = next(d.value for d in at.dataframe if "State" in d.value.columns)
    assert wins["State"].tolist() == ["NSW", "VIC"] and set(wins["Lower WAPE"]) == {"Tie"}


def test_runs_on_data_changed_under_the_same_dataset_are_not_compared_on_errors(app, warehouse_env):
    warehouse = Warehouse(warehouse_env)
    first = store_run(warehouse, ("S001",), ("snaive",), horizon=7, name="before")
    dataset = warehouse.list_datasets()[0]
    with warehouse.transaction() as cur:  # the same dataset id, other sales: as if imported again
        cur.execute(f"UPDATE {dataset.table_name} SET y = y + 1 WHERE store_id = 'S001'")
    second = store_run(warehouse, ("S001",), ("snaive",), horizon=7, name="after")
    fingerprints = [runs.get_run(warehouse, r).fingerprint for r in (first, second)]
    warehouse.close()
    assert fingerprints[0] != fingerprints[1]
    at = compare(app, "before", "after")
    warning = next(w.value for w in at.warning if "different data" in w.value)
    assert md(f"data: AI Shop demo chain was replaced between the runs (before: data {fingerprints[0]}, "
              f"after: data {fingerprints[1]})") in warning
    assert not [d for d in at.dataframe if "Model" in d.value.columns and "before" in d.value.columns]
    assert not [s for s in at.selectbox if s.key == "exp_level"]


def test_a_segment_column_gone_from_the_dataset_is_said_not_raised(app, warehouse_env):
    warehouse = Warehouse(warehouse_env)
    store_run(warehouse, ("S001",), ("snaive",), horizon=7, name="first")
    store_run(warehouse, ("S001",), ("snaive",), horizon=7, name="second")
    dataset = warehouse.list_datasets()[0]
    with warehouse.transaction() as cur:  # the column the runs segmented by is no longer the dataset's
        cur.execute("DELETE FROM dataset_columns WHERE dataset_id = ? AND column_name = 'category'",
                    [dataset.dataset_id])
    warehouse.close()
    import streamlit

    streamlit.cache_data.clear()  # the copied demo keeps its dataset id: an earlier test's grouping is cached
    at = compare(app, "first", "second")
    at.selectbox(key="exp_level").set_value("category").run()
    assert not at.exception, at.exception
    assert any("The dataset 'AI Shop demo chain' no longer has a column 'category'" in i.value for i in at.info)
    assert not [d for d in at.dataframe if "Category" in d.value.columns]


def test_the_demo_accounting_tables_name_series_by_their_masters(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    run_id = store_run(warehouse, ("S001", "S002"), ("snaive", "lastyear"), horizon=14, name="two stores")
    warehouse.close()
    at = new_session("pages/backtest.py")
    at.session_state["backtest_run_id"] = run_id
    at.run()
    assert not at.exception, at.exception
    left_out, fell_back = (d.value for d in at.dataframe if "Which series" in d.value.columns)
    assert left_out["Series"].tolist() == [4, 4]
    names = left_out["Which series"].iloc[0].split(", ")
    assert len(names) == 4 and all(name.startswith(("S001 丸の内店 / I", "S002 ")) for name in names)
    assert fell_back[["Model", "Rule"]].values.tolist() == [["Same period last year", "Seasonal naive"]]
    assert "S001/I" not in fell_back["Which series"].iloc[0]
