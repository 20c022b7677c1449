"""Forecasts made elsewhere (core.backtest.external): the round trip with a built-in
model's metrics, every validation message with nothing stored, removal, everything
downstream that reads a model of a run, the command line and the Backtest page."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from core.backtest import external
from core.backtest.__main__ import main as cli
from core.backtest.compare import diebold_mariano
from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
from core.backtest.external import ExternalForecastError
from core.backtest.splits import SplitConfig
from core.backtest.store import delete_run, get_run, load_result, run_cutoffs, run_forecasts, run_metrics, save_run
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
from core.warehouse import Warehouse

SMALL = DemoConfig(stores=2, items=6, years=1, seed=5, end_date=REFERENCE_END_DATE)
TABLES = ("run_forecasts", "run_metrics", "run_quantiles", "run_external_models")


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A small demo chain with one stored run (seasonal naive and ETS, 2 folds of 7 days)."""
    path = tmp_path_factory.mktemp("external") / "wh.duckdb"
    warehouse = Warehouse(path)
    dataset = load_demo(warehouse, SMALL)
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=2), models=(ModelSpec.of("snaive"), ModelSpec.of("ets")))
    run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "two models")
    yield warehouse, run_id
    warehouse.close()


def _counts(warehouse: Warehouse, run_id: str) -> dict[str, int]:
    return {t: int(warehouse.query(f"SELECT count(*) AS n FROM {t} WHERE run_id = ?", [run_id])["n"].iloc[0])
            for t in TABLES}


def _file_of(warehouse: Warehouse, run_id: str, model: str = "ets") -> pd.DataFrame:
    """A built-in model's forecasts of the run, as the file an engineer would upload."""
    rows = run_forecasts(warehouse, run_id)
    rows = rows[rows["model"] == model]
    return pd.DataFrame({"series": rows["unique_id"], "date": rows["ds"].dt.strftime("%Y-%m-%d"),
                         "cutoff": rows["cutoff"].dt.strftime("%Y-%m-%d"), "forecast": rows["forecast"]}
                        ).reset_index(drop=True)


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()  # repr of floats: every double read back exactly


def _metrics_of(warehouse: Warehouse, run_id: str, model: str) -> pd.Series:
    m = run_metrics(warehouse, run_id)
    return m[m["model"] == model].set_index(["level", "group", "metric"])["value"].sort_index()


def test_a_built_in_models_forecasts_uploaded_score_exactly_its_metrics_then_are_removed(stored):
    warehouse, run_id = stored
    before = _counts(warehouse, run_id)
    prepared = external.add_external(warehouse, run_id, "ETS again", _csv(_file_of(warehouse, run_id)), "ets.csv",
                                     effort_weeks=3, description="the ETS rows, uploaded")
    assert prepared.model == "ext:ETS again"
    ets, again = _metrics_of(warehouse, run_id, "ets"), _metrics_of(warehouse, run_id, "ext:ETS again")
    assert len(ets) > 100 and ets.index.equals(again.index)
    levels = set(ets.index.get_level_values(0))
    assert {"overall", "fold", "step", "series", "segment:store_id", "segment:category"} <= levels
    # every metric at every level, bit for bit (NaN where the built-in model has NaN)
    assert ((ets == again) | (ets.isna() & again.isna())).all()
    grid = len(run_forecasts(warehouse, run_id).query("model == 'ets'"))
    after = _counts(warehouse, run_id)
    assert after["run_forecasts"] == before["run_forecasts"] + grid
    assert after["run_metrics"] == before["run_metrics"] + len(again)
    assert after["run_quantiles"] == before["run_quantiles"]  # no quantile columns: none stated
    [model] = external.external_models(warehouse, run_id)
    assert (model.name, model.effort_weeks, model.source, model.n_rows) == ("ETS again", 3.0, "ets.csv", grid)
    assert external.effort_weeks(warehouse, run_id) == {"ext:ETS again": 3.0}

    board = load_result(warehouse, run_id).leaderboard().set_index("model")
    assert board.loc["ext:ETS again", "rung"] == "built elsewhere"
    assert board.loc["ext:ETS again", "wape"] == board.loc["ets", "wape"]
    assert np.isnan(board.loc["ext:ETS again", "seconds"])  # it used none of the run's compute
    forecasts = run_forecasts(warehouse, run_id)
    same = diebold_mariano(forecasts, "ext:ETS again", "ets", horizon=7)
    assert same.mean_difference == 0 and same.periods == 14  # 2 folds x 7 dates
    versus = diebold_mariano(forecasts, "ext:ETS again", "snaive", horizon=7)
    assert versus.mean_difference == pytest.approx(diebold_mariano(forecasts, "ets", "snaive", 7).mean_difference)

    external.remove_external(warehouse, run_id, "ETS again")
    assert _counts(warehouse, run_id) == before
    assert external.external_models(warehouse, run_id) == []
    with pytest.raises(ExternalForecastError, match="no forecasts made elsewhere named 'ETS again'"):
        external.remove_external(warehouse, run_id, "ETS again")
    with pytest.raises(ExternalForecastError, match="built-in model of the run"):
        external.remove_external(warehouse, run_id, "ets")


def test_key_columns_lenient_names_parquet_and_stated_quantiles(stored):
    warehouse, run_id = stored
    good = _file_of(warehouse, run_id, "snaive")
    keys = good["series"].str.split("/", expand=True)
    point = good["forecast"]
    stated = {"p2.5": point * 0.3, "q0.1": point * 0.6, "quantile_0.5": point, "P90": point * 1.5 + 1,
              "q_0.975": point * 2 + 2}
    frame = pd.DataFrame({"Store ID": keys[0], "item_id": keys[1], "DS": pd.to_datetime(good["date"]),
                          "cutoff": pd.to_datetime(good["cutoff"]), "yhat": point, **stated, "actual": 0.0})
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    before = _counts(warehouse, run_id)
    prepared = external.add_external(warehouse, run_id, "Quantile net", buffer.getvalue(), "net.parquet")
    try:
        assert prepared.levels == (0.025, 0.1, 0.5, 0.9, 0.975)
        assert any("key columns Store ID, item_id" in n for n in prepared.notes)
        assert any("'actual'" in n for n in prepared.notes)  # left out, and said
        rows = external.run_quantiles(warehouse, run_id, "ext:Quantile net")
        assert len(rows) == 5 * len(good) == _counts(warehouse, run_id)["run_quantiles"] - before["run_quantiles"]
        assert rows[rows["level"] == 0.9]["value"].sum() == pytest.approx((point * 1.5 + 1).sum())
        snaive, net = _metrics_of(warehouse, run_id, "snaive"), _metrics_of(warehouse, run_id, "ext:Quantile net")
        for metric in ("wape", "mase", "rmsse", "bias"):
            assert net[("overall", "", metric)] == snaive[("overall", "", metric)]
        # the spread is scored on the quantiles it states, not on conformal ones
        actual = run_forecasts(warehouse, run_id).query("model == 'snaive'")["actual"].to_numpy()
        inside = (actual >= point * 0.6) & (actual <= point * 1.5 + 1)
        assert net[("overall", "", "coverage_80")] == pytest.approx(inside.mean())
        assert net[("overall", "", "coverage_80")] != snaive[("overall", "", "coverage_80")]
    finally:
        external.remove_external(warehouse, run_id, "ext:Quantile net")
    assert _counts(warehouse, run_id) == before


def _mutations(good: pd.DataFrame, cutoffs: list[pd.Timestamp]) -> dict[str, tuple[bytes, str]]:
    """Each bad file and (a piece of) the message that must name its problem."""
    first = good.iloc[0]
    extra = good.iloc[[0]].assign(series="S999/I999")
    text = good.astype({"forecast": object})
    crossing = good.assign(**{"q0.1": good["forecast"] + 2, "q0.9": good["forecast"] + 1})
    wrong_cutoff = good.assign(cutoff=good["cutoff"].where(good["cutoff"] != good["cutoff"].iloc[0],
                                                           (cutoffs[0] + pd.Timedelta(days=1)).strftime("%Y-%m-%d")))
    two_models = pd.concat([good.assign(model="a"), good.assign(model="b")])
    cases = {
        "missing": (good.drop(index=[0, 1, 2, 3, 4]),
                    f"5 of the run's {len(good):,} rows are missing in 1 series and 1 of the run's 2 cutoffs, e.g. "
                    f"{first['series']} on {first['date']} (cutoff {first['cutoff']})"),
        "extra": (pd.concat([good, extra]),
                  f"1 row(s) are not in the run, e.g. S999/I999 on {first['date']} (cutoff {first['cutoff']}: the run "
                  "scored no such series at this cutoff)"),
        "duplicate": (pd.concat([good, good.iloc[[3]]]),
                      f"1 row(s) repeat a series, cutoff and date already given (row {len(good) + 2:,}: "
                      f"{good.iloc[3]['series']} on {good.iloc[3]['date']} (cutoff {good.iloc[3]['cutoff']})"),
        "text": (text.assign(forecast=text["forecast"].where(text.index != 2, "twelve")),
                 "1 value(s) of 'forecast' are not numbers (row 4: \"twelve\")"),
        "negative": (good.assign(forecast=good["forecast"].where(good.index != 5, -1.5)),
                     "1 value(s) of 'forecast' are negative (row 7: −1.5)"),
        "infinite": (text.assign(forecast=text["forecast"].where(text.index != 6, "inf")),
                     "1 value(s) of 'forecast' are infinite (row 8: \"inf\")"),
        "empty": (good.assign(forecast=good["forecast"].where(good.index != 1)),
                  "1 value(s) of 'forecast' are empty (row 3)"),
        "date": (good.assign(date=good["date"].where(good.index != 0, "someday")),
                 "1 value(s) of 'date' are not dates (row 2: \"someday\")"),
        "cutoff": (wrong_cutoff, f"1 cutoff(s) of the file are not cutoffs of the run: "
                                 f"{cutoffs[0] + pd.Timedelta(days=1):%Y-%m-%d}"),
        "crossing": (crossing, f"{len(good):,} row(s) have quantiles that cross: 'q0.1' above 'q0.9'"),
        "column": (good.rename(columns={"forecast": "value"}), "The file has no column for the forecast"),
        "two models": (two_models, "The file holds the forecasts of 2 models"),
        "ambiguous quantile": (good.assign(q10=1.0), "a q-column gives it as a fraction"),
    }
    return {name: (_csv(frame), message) for name, (frame, message) in cases.items()}


def test_each_problem_is_named_with_its_fix_and_nothing_is_stored(stored):
    warehouse, run_id = stored
    good = _file_of(warehouse, run_id)
    before = _counts(warehouse, run_id)
    for name, (data, message) in _mutations(good, run_cutoffs(warehouse, run_id)).items():
        with pytest.raises(ExternalForecastError) as caught:
            external.add_external(warehouse, run_id, "bad", data, f"{name}.csv")
        assert any(message in p for p in caught.value.problems), (name, caught.value.problems)
        assert str(caught.value).endswith("Nothing was stored.")
        assert _counts(warehouse, run_id) == before, name


def test_names_and_efforts_are_checked(stored):
    warehouse, run_id = stored
    data = _csv(_file_of(warehouse, run_id))
    before = _counts(warehouse, run_id)
    for name, effort, message in (("", None, "Give the forecasts a name"),
                                  ("Seasonal naive", None, "is the name of a built-in model"),
                                  ("ets", None, "is the name of a built-in model"),
                                  ("ok", -2, "person-weeks, a number of 0 or more"),
                                  ("two\nlines", None, "give it on one line")):
        with pytest.raises(ExternalForecastError, match=message):
            external.add_external(warehouse, run_id, name, data, "f.csv", effort_weeks=effort)
    assert _counts(warehouse, run_id) == before
    external.add_external(warehouse, run_id, "Taken", data, "f.csv")
    try:
        with pytest.raises(ExternalForecastError, match="already has forecasts named 'Taken'"):
            external.add_external(warehouse, run_id, "taken", data, "f.csv")
    finally:
        external.remove_external(warehouse, run_id, "Taken")


def test_a_changed_history_is_refused_and_a_deleted_run_takes_its_external_rows(tmp_path):
    source = Warehouse(tmp_path / "wh.duckdb")
    dataset = load_demo(source, DemoConfig(stores=1, items=3, years=1, seed=2, end_date=REFERENCE_END_DATE))
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=2), models=(ModelSpec.of("naive"),))
    run_id = save_run(source, run_backtest(dataset_data(source, dataset), config))
    data = _csv(_file_of(source, run_id, "naive"))
    other = dataset_data(source, dataset)
    other = other.__class__(**{**other.__dict__, "frame": other.frame.assign(y=other.frame["y"] + 1)})
    with pytest.raises(ExternalForecastError, match="not those the run .* backtested"):
        external.prepare_external(source, run_id, "n", data, "n.csv", series_data=other)
    external.add_external(source, run_id, "n", data, "n.csv")
    delete_run(source, run_id)
    assert all(source.query(f"SELECT count(*) AS n FROM {t}")["n"].iloc[0] == 0 for t in TABLES)
    source.close()


def test_template_lists_the_runs_grid_without_actuals(stored):
    warehouse, run_id = stored
    template = external.template(warehouse, run_id)
    grid = _file_of(warehouse, run_id)
    assert list(template.columns) == ["series", "date", "cutoff", "forecast"]
    assert len(template) == len(grid) and template["forecast"].isna().all()
    assert set(zip(template["series"], template["date"], strict=True)) == set(zip(grid["series"], grid["date"],
                                                                                  strict=True))


def test_downstream_reads_an_external_model_like_any_other(stored):
    from core.backtest import charts
    from core.decision.evaluation import run_leaderboard
    from core.decision.verdict import RUNG_ORDER, model_reads_exog
    from core.handoff.batch import PublishError, PublishOptions, unpublishable_reason

    warehouse, run_id = stored
    external.add_external(warehouse, run_id, "Deep", _csv(_file_of(warehouse, run_id)), "deep.csv", effort_weeks=6)
    try:
        board = run_leaderboard(warehouse, run_id).set_index("model")
        assert board.loc["ext:Deep", "rung"] == "built elsewhere" == RUNG_ORDER[-1]  # the costliest rung
        assert model_reads_exog("ext:Deep") is False
        reason = unpublishable_reason("ext:Deep")
        assert str(reason).startswith("Deep: forecasts made elsewhere cannot be re-fitted by Mitoshi: publish them from "
                                      "where they were made, or choose a built-in model")
        with pytest.raises(PublishError, match="cannot be re-fitted"):
            PublishOptions.from_run(get_run(warehouse, run_id), "ext:Deep")
        leaderboard = load_result(warehouse, run_id).leaderboard()
        fig = charts.ladder(leaderboard, {m: 1 for m in leaderboard["model"]}, external.effort_weeks(warehouse, run_id))
        [drawn] = [t for t in fig.data if t.name == "built elsewhere"]
        slowest = leaderboard["seconds"].max()
        assert list(drawn.text) == ["Deep · 6 person-weeks"]
        assert drawn.x[0] >= 10 * slowest  # right of every built-in model: it has no seconds
        assert "no compute seconds" in drawn.hovertemplate
        assert max(fig.layout.xaxis.tickvals) < drawn.x[0]  # no seconds ticked where there are none
    finally:
        external.remove_external(warehouse, run_id, "Deep")


def test_money_prices_an_external_model(stored):
    from core.money.run_impact import run_impact

    warehouse, run_id = stored
    external.add_external(warehouse, run_id, "Deep", _csv(_file_of(warehouse, run_id)), "deep.csv")
    try:
        summary = run_impact(warehouse, run_id).impact.summary.set_index("policy")
        assert "ext:Deep" in summary.index
        numbers = summary.select_dtypes("number").columns
        pd.testing.assert_series_equal(summary.loc["ext:Deep", numbers], summary.loc["ets", numbers], check_names=False)
    finally:
        external.remove_external(warehouse, run_id, "Deep")


def test_the_decision_prefers_the_cheaper_rung_and_names_the_look_ahead_risk(stored):
    from core.decision.evaluation import decide, run_leaderboard
    from core.decision.verdict import ladder_pick
    from core.money.impact import ImpactConfig
    from core.money.run_impact import run_impact
    from core.planning import store as planning
    from core.planning.criteria import Criterion
    from core.planning.definition import ProblemDefinition

    warehouse, run_id = stored
    project = planning.create_project(warehouse, "made elsewhere")
    definition = ProblemDefinition(problem="弁当の廃棄を減らす", running_cost_yen_per_year=0, criteria=(
        Criterion("wape", "improves_by_at_least", 0.001, "snaive"),))
    planning.save_definition(warehouse, project.project_id, definition, 0, "test")
    external.add_external(warehouse, run_id, "Deep", _csv(_file_of(warehouse, run_id)), "deep.csv", effort_weeks=6)
    errors = ImpactConfig(service_level=0.9, sensitivity=(0.9,))  # one level: one simulation per model
    try:
        # The same forecasts as ETS, hence the same money: the ladder takes the cheaper rung.
        impact = run_impact(warehouse, run_id, errors).impact
        assert ladder_pick(impact, run_leaderboard(warehouse, run_id), definition).model == "ets"
        chosen = decide(warehouse, project.project_id, run_id, errors, model="ext:Deep").in_words()  # texts as words
        assert chosen.model == "ext:Deep"
        # the decision keeps the effort its maker stated, for its ladder
        efforts = {row["model"]: row.get("effort_weeks") for row in chosen.leaderboard}
        assert efforts["ext:Deep"] == 6.0 and efforts["ets"] is None
        assert any("Deep was made elsewhere: Mitoshi cannot check that its forecasts did not look ahead" in r
                   for r in chosen.risks)
    finally:
        external.remove_external(warehouse, run_id, "Deep")


def test_names_differing_only_in_case_are_one_name_even_when_saved_together(stored):
    warehouse, run_id = stored
    data = _csv(_file_of(warehouse, run_id))
    before = _counts(warehouse, run_id)
    upper = external.prepare_external(warehouse, run_id, "Case", data, "a.csv")
    lower = external.prepare_external(warehouse, run_id, "case", data, "b.csv")  # both checked before either is saved
    with pytest.raises(ExternalForecastError, match="'Case' and 'case' would have the same name"):
        external.save_externals(warehouse, [upper, lower])
    assert _counts(warehouse, run_id) == before  # all or nothing: not even 'Case'
    external.save_external(warehouse, upper)
    try:
        with pytest.raises(ExternalForecastError, match="already has forecasts named 'Case' .*ignoring case"):
            external.save_external(warehouse, lower)
        other = external.prepare_external(warehouse, run_id, "Other", data, "c.csv")
        with pytest.raises(ExternalForecastError, match="already has forecasts named 'Case'"):
            external.save_externals(warehouse, [other, lower])
        assert [m.name for m in external.external_models(warehouse, run_id)] == ["Case"]  # 'Other' neither
        # removal finds the name in any case, and checks every name before removing any
        with pytest.raises(ExternalForecastError, match="no forecasts made elsewhere named 'nope'"):
            external.remove_externals(warehouse, run_id, ["CASE", "nope"])
        assert [m.name for m in external.external_models(warehouse, run_id)] == ["Case"]
    finally:
        assert external.remove_externals(warehouse, run_id, ["CASE"]) == ["ext:Case"]
    assert _counts(warehouse, run_id) == before


def test_rows_are_stored_by_column_name_not_position(stored):
    warehouse, run_id = stored
    good = _file_of(warehouse, run_id, "snaive").assign(**{"q0.1": lambda f: f["forecast"] * 0.5})
    prepared = external.prepare_external(warehouse, run_id, "Shuffled", _csv(good), "s.csv")
    shuffled = replace(prepared, forecasts=prepared.forecasts[prepared.forecasts.columns[::-1]],
                       metrics=prepared.metrics[prepared.metrics.columns[::-1]],
                       quantiles=prepared.quantiles[prepared.quantiles.columns[::-1]])
    external.save_external(warehouse, shuffled)
    try:
        stored_metrics = _metrics_of(warehouse, run_id, "ext:Shuffled")
        expected = prepared.metrics.set_index(["level", "group", "metric"])["value"].sort_index()
        assert ((stored_metrics == expected) | (stored_metrics.isna() & expected.isna())).all()
        rows = run_forecasts(warehouse, run_id).query("model == 'ext:Shuffled'")
        assert rows["forecast"].sum() == pytest.approx(good["forecast"].sum())
        assert external.run_quantiles(warehouse, run_id, "ext:Shuffled")["value"].sum() == pytest.approx(
            (good["forecast"] * 0.5).sum())
    finally:
        external.remove_external(warehouse, run_id, "Shuffled")


def test_quantiles_at_levels_the_backtest_does_not_score_are_left_out_and_said(stored):
    warehouse, run_id = stored
    good = _file_of(warehouse, run_id, "snaive")
    point = good["forecast"]
    snaive = _metrics_of(warehouse, run_id, "snaive")
    before = _counts(warehouse, run_id)
    # p5/p95 only: none of the scored levels is stated, so the spread is the conformal one, undistorted
    wide = good.assign(p5=point * 0.1, p95=point * 5 + 50)
    prepared = external.add_external(warehouse, run_id, "Wide", _csv(wide), "wide.csv")
    try:
        assert prepared.levels == () and len(prepared.quantiles) == 0
        assert external.spread_note(warehouse, run_id) is None
        assert _counts(warehouse, run_id)["run_quantiles"] == before["run_quantiles"]
        [note] = [n for n in prepared.notes if "'p5' (0.05), 'p95' (0.95)" in n]
        assert "scores quantiles at 0.025, 0.1, 0.5, 0.9, 0.975 only" in note
        net = _metrics_of(warehouse, run_id, "ext:Wide")
        for metric in ("coverage_80", "coverage_95", "pinball", "width_80"):
            assert net[("overall", "", metric)] == pytest.approx(snaive[("overall", "", metric)]), metric
    finally:
        external.remove_external(warehouse, run_id, "Wide")
    # p5, p10, p90, p95: the scored levels 0.1 and 0.9 are stored and scored as stated, the others left out
    mixed = good.assign(p5=point * 0.1, p10=point * 0.6, p90=point * 1.5 + 1, p95=point * 5 + 50)
    prepared = external.add_external(warehouse, run_id, "Mixed", _csv(mixed), "mixed.csv")
    try:
        assert prepared.levels == (0.1, 0.9)
        stored_levels = external.run_quantiles(warehouse, run_id, "ext:Mixed")["level"]
        assert sorted(stored_levels.unique()) == [0.1, 0.9] and len(stored_levels) == 2 * len(good)
        assert any("Stated quantiles at 0.1, 0.9 (from 'p10', 'p90') are scored as stated" in n and
                   "at 0.025, 0.5, 0.975 they get cross-conformal quantiles" in n for n in prepared.notes)
        assert not any("'p10'" in n and "Left out" in n for n in prepared.notes)
        assert any("'p5' (0.05), 'p95' (0.95)" in n for n in prepared.notes)
        assert external.stated_levels(warehouse, run_id) == {"ext:Mixed": (0.1, 0.9)}
        assert external.spread_note(warehouse, run_id) == (
            "Quantiles made elsewhere are scored as their makers state them: Mixed at 0.1, 0.9. Their other levels, "
            "and every other model's, are cross-conformal.")
    finally:
        external.remove_external(warehouse, run_id, "Mixed")


@pytest.fixture(scope="module")
def october(tmp_path_factory):
    """A daily run whose cutoffs (3 and 10 October 2026) read as dates either way round."""
    path = tmp_path_factory.mktemp("october") / "wh.duckdb"
    warehouse = Warehouse(path)
    dataset = load_demo(warehouse, DemoConfig(stores=1, items=3, years=1, seed=2, end_date=date(2026, 10, 17)))
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=2), models=(ModelSpec.of("naive"),))
    run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config))
    yield warehouse, path, run_id
    warehouse.close()


def test_the_cutoffs_are_read_in_the_day_month_order_of_the_dates(october):
    warehouse, _, run_id = october
    assert [f"{c:%m/%d}" for c in run_cutoffs(warehouse, run_id)] == ["10/03", "10/10"]
    good = _file_of(warehouse, run_id, "naive")
    us = good.assign(date=pd.to_datetime(good["date"]).dt.strftime("%m/%d/%Y"),
                     cutoff=pd.to_datetime(good["cutoff"]).dt.strftime("%m/%d/%Y"))
    prepared = external.prepare_external(warehouse, run_id, "US", _csv(us), "us.csv")
    assert prepared.overall["wape"] == _metrics_of(warehouse, run_id, "naive")[("overall", "", "wape")]
    assert any("month-first" in n and "'cutoff' was read in the same order" in n for n in prepared.notes)


def test_dates_and_cutoffs_shifted_by_a_constant_are_named_as_such(october):
    warehouse, _, run_id = october
    good = _file_of(warehouse, run_id, "naive")
    later = good.assign(date=(pd.to_datetime(good["date"]) + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d"),
                        cutoff=(pd.to_datetime(good["cutoff"]) + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d"))
    with pytest.raises(ExternalForecastError) as caught:
        external.prepare_external(warehouse, run_id, "Late", _csv(later), "late.csv")
    assert caught.value.problems[0].startswith("Your cutoffs are 1 day after the run's (e.g. 2026-10-04; the run's "
                                               "include 2026-10-03). Move every cutoff 1 day earlier")


def test_week_labels_on_another_weekday_and_lost_leading_zeros_get_their_own_hint():
    from core.columns import Freq

    mondays = pd.date_range("2026-01-05", periods=8, freq="W-MON")
    grid = pd.DataFrame({"unique_id": "A/000", "ds": mondays[4:], "cutoff": mondays[3]})
    sundays = grid.assign(ds=grid["ds"] + pd.Timedelta(days=6), cutoff=grid["cutoff"] + pd.Timedelta(days=6))
    hints = external._label_hints(sundays, grid, [mondays[3]], Freq.WEEKLY)
    assert hints[0] == ("Your dates are 6 days after the run's (Sundays where the run's are Mondays): the run's weeks "
                        "are labelled by their Monday, e.g. 2026-02-02. Move every date 6 days earlier, as the "
                        "template writes them.")
    assert hints[1].startswith("Your cutoffs are 6 days after the run's (Sundays where the run's are Mondays)")
    assert external._label_hints(grid, grid, [mondays[3]], Freq.WEEKLY) == []
    month_ends = pd.DataFrame({"unique_id": "A", "ds": pd.date_range("2026-01-31", periods=3, freq="ME"),
                               "cutoff": pd.Timestamp("2025-12-31")})
    starts = month_ends.assign(ds=pd.date_range("2026-01-01", periods=3, freq="MS"), cutoff=pd.Timestamp("2025-12-01"))
    [dates, cutoffs] = external._label_hints(month_ends, starts, [pd.Timestamp("2025-12-01")], Freq.MONTHLY)
    assert "the run labels each month by its first day (e.g. 2026-01-01)" in dates and "cutoffs" in cutoffs
    hint = external._zeros_hint(pd.Series(["A/0", "A/7", "B/12"]), pd.Series(["A/000", "A/007", "B/012"]))
    assert hint.startswith("3 series id(s) of the file are the run's only without their leading zeros ('A/0' is "
                           "'A/000' in the run; 'A/7' is 'A/007' in the run")
    assert external._zeros_hint(pd.Series(["C/1"]), pd.Series(["A/000"])) is None


# ---------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------
def test_command_line_names_are_one_name_in_any_case_and_stored_all_or_nothing(october, tmp_path, capsys):
    warehouse, path, run_id = october
    good = _file_of(warehouse, run_id, "naive")
    a, b, bad = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "bad.csv"
    good.to_csv(a, index=False)
    good.to_csv(b, index=False)
    good.iloc[2:].to_csv(bad, index=False)
    for second in ("dup", "DUP"):
        with pytest.raises(SystemExit) as stop:
            cli(["--run", run_id, "--external", f"dup={a}", "--external", f"{second}={b}", "--warehouse",
                 str(path)])
        assert stop.value.code == 2
        assert f"names 'dup' and '{second}' are the same name" in capsys.readouterr().err
    # a valid file and a refused one: neither is stored, and the message says so, with each file's problems
    assert cli(["--run", run_id, "--external", f"good={a}", "--external", f"bad={bad}", "--warehouse",
                str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad (bad.csv): 2 of the run's" in err
    assert err.strip().endswith("error: Nothing of the forecasts made elsewhere was stored.")
    assert external.external_models(warehouse, run_id) == []
    assert cli(["--run", run_id, "--external", f"one={a}", "--external", f"two={b}", "--warehouse",
                str(path)]) == 0
    # removing a name the run has and one it lacks removes neither
    assert cli(["--run", run_id, "--remove-external", "ONE", "--remove-external", "three", "--warehouse",
                str(path)]) == 2
    assert "Nothing was removed from the run" in capsys.readouterr().err
    assert [m.name for m in external.external_models(warehouse, run_id)] == ["one", "two"]
    external.remove_externals(warehouse, run_id, ["one", "two"])

def test_command_line_round_trip(tmp_path, capsys):
    source = Warehouse(tmp_path / "demo.duckdb")
    dataset = load_demo(source, DemoConfig(stores=1, items=4, years=1, seed=1, end_date=REFERENCE_END_DATE))
    frame = dataset_data(source, dataset).frame
    source.close()
    data = tmp_path / "sales.csv"
    frame[["store_id", "item_id", "ds", "y"]].to_csv(data, index=False)
    wh, out, parquet = tmp_path / "cli.duckdb", tmp_path / "run.json", tmp_path / "run.parquet"
    reading = ["--data", str(data), "--series-cols", "store_id,item_id", "--date-col", "ds", "--target-col", "y",
               "--freq", "D"]
    assert cli([*reading, "--horizon", "7", "--folds", "2", "--models", "naive,snaive", "--json", str(out),
                "--forecasts", str(parquet), "--warehouse", str(wh)]) == 0
    run_id = json.loads(out.read_text())["run_id"]
    rows = pd.read_parquet(parquet).query("model == 'snaive'")[["series", "date", "cutoff", "forecast"]]
    upload = tmp_path / "copy.csv"
    rows.to_csv(upload, index=False)

    # A run made from a file needs that file to rebuild its history.
    assert cli(["--run", run_id, "--external", f"copy={upload}", "--warehouse", str(wh)]) == 2
    assert "was made from the file 'sales.csv'" in capsys.readouterr().err

    assert cli(["--run", run_id, *reading, "--external", f"copy={upload}", "--effort-weeks", "2",
                "--description", "snaive, again", "--json", str(out), "--warehouse", str(wh)]) == 0
    summary = json.loads(out.read_text())
    copied, snaive = summary["models"]["ext:copy"], summary["models"]["snaive"]
    assert copied["rung"] == "built elsewhere" and copied["seconds"] is None
    assert {k: v for k, v in copied.items() if k not in ("rung", "seconds")} == \
        {k: v for k, v in snaive.items() if k not in ("rung", "seconds")}
    assert summary["external"]["ext:copy"] == {"name": "copy", "effort_weeks": 2.0, "description": "snaive, again",
                                               "source": "copy.csv", "rows": len(rows), "stated_quantiles": []}
    assert "ext:copy" in capsys.readouterr().out  # the leaderboard on stdout

    bad = tmp_path / "bad.csv"
    rows.iloc[3:].to_csv(bad, index=False)
    assert cli(["--run", run_id, *reading, "--external", f"bad={bad}", "--warehouse", str(wh)]) == 2
    err = capsys.readouterr().err
    assert f"3 of the run's {len(rows):,} rows are missing" in err
    assert "Nothing of the forecasts made elsewhere was stored." in err

    assert cli(["--run", run_id, "--remove-external", "copy", "--json", str(out), "--warehouse", str(wh)]) == 0
    assert set(json.loads(out.read_text())["models"]) == {"naive", "snaive"}


def test_command_line_checks_its_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli(["--run", "abc"])
    assert stop.value.code == 2 and "give --external NAME=FILE" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["--run", "abc", "--external", "nofile"])
    assert "NAME=FILE" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["--run", "abc", "--external", f"a={tmp_path / 'none.csv'}"])
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["--data", "x.csv"])
    assert "required without --run" in capsys.readouterr().err


# ---------------------------------------------------------------------------------
# The Backtest page
# ---------------------------------------------------------------------------------
def test_backtest_page_adds_forecasts_made_elsewhere(warehouse_env):
    from tests.conftest import new_session, store_run

    warehouse = Warehouse(warehouse_env)
    run_id = store_run(warehouse, ("S001",), ("snaive", "ets"), horizon=7, name="for the engineer")
    good = _file_of(warehouse, run_id)
    warehouse.close()
    at = new_session("pages/backtest.py")
    assert any(external.LOOK_AHEAD in w.value for w in at.warning)
    assert at.selectbox(key="ext_run").value == run_id  # the newest run of the dataset, first
    template = next(b for b in at.get("download_button") if b.proto.label.startswith("Download the template"))
    assert template is not None
    at.text_input(key="ext_name").input("Team B").run()
    at.number_input(key="ext_effort").set_value(4.0).run()
    at.file_uploader(key="ext_upload").set_value(("bad.csv", _csv(good.iloc[2:]), "text/csv")).run()
    assert not at.exception
    assert any("cannot join the run as it is — nothing was stored" in e.value for e in at.error)
    assert any(f"2 of the run's {len(good):,} rows are missing" in m.value for m in at.markdown)
    assert not [b for b in at.button if b.key == "ext_add"]

    at.file_uploader(key="ext_upload").set_value(("good.csv", _csv(good), "text/csv")).run()
    assert any(f"Checked: {len(good):,} forecasts" in s.value for s in at.success)
    at.button(key="ext_add").click().run()
    assert not at.exception
    assert at.session_state["backtest_run_id"] == run_id
    assert any("Added **Team B** to the run" in s.value for s in at.success)
    board = next(d.value for d in at.dataframe if "Rung" in d.value.columns)
    row = board[board["Model"] == "Team B"]
    assert list(row["Rung"]) == ["built elsewhere"]
    made = next(d.value for d in at.dataframe if "Quantiles" in d.value.columns)
    assert list(made["Quantiles"]) == ["cross-conformal (none stated)"]
    ets = board[board["Model"] == "ETS (exponential smoothing)"]
    assert row["WAPE"].iloc[0] == ets["WAPE"].iloc[0]


def test_a_forecast_column_matched_leniently_is_named_in_the_notes(stored):
    warehouse, run_id = stored
    good = _file_of(warehouse, run_id, "snaive")
    for column in ("prediction", "yhat", "Y_hat"):
        prepared = external.prepare_external(warehouse, run_id, "Lenient", _csv(good.rename(
            columns={"forecast": column})), "lenient.csv")
        assert f"Read the column '{column}' as the forecast." in prepared.notes
        assert prepared.forecasts["forecast"].sum() == pytest.approx(good["forecast"].sum())
    plain = external.prepare_external(warehouse, run_id, "Plain", _csv(good), "plain.csv")
    assert not [n for n in plain.notes if "as the forecast" in n]


def test_removing_a_model_made_elsewhere_asks_for_a_tick_then_says_it_is_done(warehouse_env):
    from tests.conftest import new_session, store_run

    warehouse = Warehouse(warehouse_env)
    try:
        run_id = store_run(warehouse, ("S001",), ("snaive", "ets"), horizon=7, name="to prune")
        external.add_external(warehouse, run_id, "Team C", _csv(_file_of(warehouse, run_id)), "c.csv")
    finally:
        warehouse.close()
    at = new_session()
    at.session_state["backtest_run_id"] = run_id
    at.switch_page("pages/backtest.py").run()
    at.button(key="ext_remove").click().run()
    assert any("Tick 'Yes, remove Team C from the run' to confirm" in w.value for w in at.warning)
    assert "Team C" in next(d.value for d in at.dataframe if "Rung" in d.value.columns)["Model"].tolist()
    at.checkbox(key="ext_remove_sure").check().run()
    assert at.checkbox(key="ext_remove_sure").label == "Yes, remove Team C from the run"
    at.button(key="ext_remove").click().run()
    assert not at.exception
    assert any("Removed **Team C** from the run" in s.value for s in at.success)
    assert "Team C" not in next(d.value for d in at.dataframe if "Rung" in d.value.columns)["Model"].tolist()
    warehouse = Warehouse(warehouse_env)
    try:
        assert external.external_models(warehouse, run_id) == []
    finally:
        warehouse.close()


def test_a_decision_on_a_model_made_elsewhere_says_it_cannot_be_published_here(stored):
    """The readiness check does not send the user to the Hand-off page, which refuses such
    models."""
    from core.decision.evaluation import decide
    from core.money.impact import ImpactConfig
    from core.planning import store as planning
    from core.planning.criteria import Criterion
    from core.planning.definition import ProblemDefinition

    warehouse, run_id = stored
    project = planning.create_project(warehouse, "made elsewhere, batch")
    definition = ProblemDefinition(problem="弁当の廃棄を減らす", running_cost_yen_per_year=0, criteria=(
        Criterion("wape", "improves_by_at_least", 0.001, "snaive"),))
    planning.save_definition(warehouse, project.project_id, definition, 0, "test")
    external.add_external(warehouse, run_id, "Deep", _csv(_file_of(warehouse, run_id)), "deep.csv", effort_weeks=6)
    try:
        chosen = decide(warehouse, project.project_id, run_id, ImpactConfig(service_level=0.9, sensitivity=(0.9,)),
                        model="ext:Deep").in_words()  # the snapshot's texts (facts) as words
        batch = next(r for r in chosen.readiness if r.key == "batch")
        assert batch.score == 0.0
        assert batch.evidence == ("Mitoshi cannot publish forecasts made elsewhere: Deep's must be published from "
                                  "where they were made, or choose a built-in model.")
        assert not any("Hand-off" in r.evidence for r in chosen.readiness)
    finally:
        external.remove_external(warehouse, run_id, "Deep")
