"""Conformal quantiles from out-of-fold errors, and the scores of a forecast's spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest import quantiles as q
from core.errors import MitoshiError


def run(n_series: int = 40, folds: int = 4, horizon: int = 14, seed: int = 0, sd=None) -> pd.DataFrame:
    """A synthetic run: forecast 100, actual = 100 + normal noise with a known sd per series."""
    rng = np.random.default_rng(seed)
    ids = [f"s{i:02d}" for i in range(n_series)]
    cutoffs = pd.date_range("2024-01-07", periods=folds, freq=f"{horizon}D")
    frame = pd.MultiIndex.from_product([["m"], ids, cutoffs, range(1, horizon + 1)],
                                       names=["model", "unique_id", "cutoff", "step"]).to_frame(index=False)
    frame["ds"] = frame["cutoff"] + pd.to_timedelta(frame["step"], "D")
    sds = np.repeat(np.linspace(2.0, 20.0, n_series) if sd is None else sd, folds * horizon)
    frame["forecast"] = 100.0
    frame["actual"] = 100.0 + rng.normal(0.0, 1.0, len(frame)) * sds
    return frame


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    return run()


def coverage(frame: pd.DataFrame, low: float, high: float) -> float:
    inside = (frame["actual"] >= frame[q.quantile_column(low)]) & (frame["actual"] <= frame[q.quantile_column(high)])
    return float(inside[frame[q.quantile_column(low)].notna()].mean())


def test_the_80_and_95_percent_intervals_cover_about_80_and_95_percent_out_of_fold(synthetic):
    offsets = q.conformal_offsets(synthetic, q.LEVELS, min_errors=0)
    # 40 series x 4 folds x 5 levels, every one from the series' own 42 out-of-fold errors
    assert len(offsets) == 40 * 4 * 5 and set(offsets["basis"]) == {"series"}
    scored = q.with_quantiles(synthetic, offsets)
    assert coverage(scored, 0.1, 0.9) == pytest.approx(0.80, abs=0.03)
    assert coverage(scored, 0.025, 0.975) == pytest.approx(0.95, abs=0.02)
    assert (scored["actual"] <= scored["q0.5"]).mean() == pytest.approx(0.5, abs=0.03)
    # by default only the median has enough (20) of a series' own errors; the rest pool all series'
    pooled = q.conformal_offsets(synthetic, q.LEVELS)
    assert pooled.groupby("level")["basis"].agg(set).to_dict() == {
        0.025: {"all"}, 0.1: {"all"}, 0.5: {"series"}, 0.9: {"all"}, 0.975: {"all"}}
    assert coverage(q.with_quantiles(synthetic, pooled), 0.1, 0.9) == pytest.approx(0.80, abs=0.03)
    # the 0.9 offset over each series' sd: the normal quantile at rank ceil(43 x 0.9) = 39 of 42, about 1.32
    upper = offsets[offsets["level"] == 0.9].assign(sd=lambda f: 2.0 + 18.0 * f["unique_id"].str[1:].astype(int) / 39)
    assert (upper["offset"] / upper["sd"]).mean() == pytest.approx(1.32, rel=0.1)


def test_the_finite_sample_rank_and_the_errors_a_level_needs():
    # from the errors 1..9 (n = 9): 0.9 is the ceil(10 x 0.9) = 9th smallest; 0.1 the floor(10 x 0.1) = 1st
    frame = run(n_series=1, folds=2, horizon=9, sd=np.array([0.0]))
    frame.loc[frame["cutoff"] == frame["cutoff"].max(), "actual"] = 100.0 + np.arange(1, 10)
    offsets = q.conformal_offsets(frame, (0.1, 0.5, 0.9, 0.975), min_errors=0).query(
        "cutoff == cutoff.min()").set_index("level")
    assert offsets.loc[0.9, "offset"] == 9 and offsets.loc[0.1, "offset"] == 1 and offsets.loc[0.5, "offset"] == 5
    # 0.975 needs 39 errors; one series alone has no pool bigger than its own 9: no interval at that level
    assert offsets.loc[0.975, "basis"] == "none" and np.isnan(offsets.loc[0.975, "offset"])
    assert (offsets.loc[[0.1, 0.5, 0.9], "basis"] == "series").all()


def test_a_series_too_short_for_a_level_pools_its_segment_with_errors_scaled_by_each_series_mae():
    # 3 folds x 7 days: 14 out-of-fold errors per series, enough for 0.1/0.9 (9) but not 0.025/0.975 (39)
    frame = run(n_series=12, folds=3, horizon=7, seed=1)
    segments = pd.Series(["a"] * 6 + ["b"] * 6, index=[f"s{i:02d}" for i in range(12)])
    offsets = q.conformal_offsets(frame, q.LEVELS, segments, min_errors=0)
    basis = offsets.groupby("level")["basis"].agg(set)
    assert basis[0.1] == basis[0.5] == basis[0.9] == {"series"}
    # 6 series x 14 = 84 pooled errors per segment; where that pooled 0.975 fell below the series' own 0.9 (a
    # basis change crosses levels) it was raised to it, and reads the basis of that value
    assert basis[0.025] == basis[0.975] == {"segment", "series"}
    wide = offsets.pivot_table(index=["cutoff", "unique_id"], columns="level", values="offset")
    raised = offsets[(offsets["level"] == 0.975) & (offsets["basis"] == "series")].set_index(["cutoff", "unique_id"])
    assert 0 < len(raised) < 36 and (raised["offset"] == wide.loc[raised.index, 0.9]).all()
    # by hand, fold 1 of s00: its pool is segment a's errors of folds 2-3, each divided by its series' MAE there
    errors = frame.assign(e=frame["actual"] - frame["forecast"])
    first = frame["cutoff"].min()
    others = errors[(errors["cutoff"] != first) & errors["unique_id"].isin(segments.index[:6])]
    mae = others.groupby("unique_id")["e"].apply(lambda e: e.abs().mean())
    pooled = np.sort((others["e"] / others["unique_id"].map(mae)).to_numpy())
    rank = int(np.ceil(85 * 0.975))  # n = 84
    expected = max(mae["s00"] * pooled[rank - 1], offsets.query(
        "unique_id == 's00' and level == 0.9 and cutoff == @first")["offset"].iloc[0])
    got = offsets.query("unique_id == 's00' and level == 0.975 and cutoff == @first")["offset"].iloc[0]
    assert got == pytest.approx(expected)
    # without segments the pool is every series ("all"); with min_errors above 14, every level pools
    assert set(q.conformal_offsets(frame, (0.975,))["basis"]) == {"all"}
    assert set(q.conformal_offsets(frame, q.LEVELS, segments, min_errors=20)["basis"]) == {"segment"}
    # by default a series needs 10 errors beyond the quantile: 14 errors are its own only at no level
    assert set(q.conformal_offsets(frame, q.LEVELS, segments)["basis"]) == {"segment"}
    assert [q.own_errors_needed(level) for level in q.LEVELS] == [400, 100, 20, 100, 400]


def test_out_of_fold_offsets_never_see_the_folds_own_actuals(synthetic):
    before = q.conformal_offsets(synthetic, q.LEVELS)
    changed = synthetic.copy()
    last = changed["cutoff"] == changed["cutoff"].max()
    changed.loc[last, "actual"] = changed.loc[last, "actual"] * 3 + 50  # the last fold's sales, wildly different
    after = q.conformal_offsets(changed, q.LEVELS)
    own = before["cutoff"] == before["cutoff"].max()
    pd.testing.assert_frame_equal(before[own].reset_index(drop=True), after[own].reset_index(drop=True))
    assert not np.allclose(before.loc[~own, "offset"], after.loc[~own, "offset"])  # the other folds use it
    # in-fold (for comparison only) does see it
    in_fold = q.conformal_offsets(changed, q.LEVELS, out_of_fold=False)
    assert not np.allclose(in_fold[own]["offset"].to_numpy(), before[own]["offset"].to_numpy())


def test_a_single_fold_run_has_no_backtest_interval_but_its_future_forecasts_do():
    frame = run(n_series=3, folds=1, horizon=40)
    assert q.conformal_offsets(frame, q.LEVELS).empty
    assert q.no_interval_reason(1) == q.SINGLE_FOLD and "one fold" in q.SINGLE_FOLD and q.no_interval_reason(2) is None
    scored = q.with_quantiles(frame, q.conformal_offsets(frame, q.LEVELS))
    assert "q0.9" not in scored  # nothing passed off as an out-of-fold interval
    future = q.future_offsets(frame, q.LEVELS, min_errors=0)
    assert len(future) == 3 * 5 and set(future["basis"]) == {"series"}  # 40 errors each: enough for 0.975


def test_future_offsets_use_every_fold_and_join_on_model_and_series(synthetic):
    future = q.future_offsets(synthetic, (0.9,), min_errors=0)
    e = synthetic[synthetic["unique_id"] == "s05"].eval("actual - forecast").sort_values().to_numpy()
    assert future.set_index("unique_id").loc["s05", "offset"] == pytest.approx(e[int(np.ceil(57 * 0.9)) - 1])
    batch = pd.DataFrame({"model": "m", "unique_id": ["s05", "zz"], "forecast": [10.0, 5.0]})
    with_q = q.with_quantiles(batch, future)
    assert with_q["q0.9"].iloc[0] == pytest.approx(max(0.0, 10.0 + e[52 - 1]))
    assert np.isnan(with_q["q0.9"].iloc[1])  # a series the run never scored has no offset


def test_quantiles_are_clipped_at_zero_sorted_and_stated_ones_win(synthetic):
    offsets = pd.DataFrame({"model": "m", "unique_id": "s00", "level": [0.1, 0.9], "offset": [-500.0, 3.0],
                            "basis": "series"})
    rows = synthetic.head(2)
    out = q.with_quantiles(rows, offsets)
    assert (out["q0.1"] == 0).all() and (out["q0.9"] == 103).all()
    stated = pd.DataFrame({"model": "m", "unique_id": "s00", "ds": rows["ds"].iloc[0], "cutoff": rows["cutoff"].iloc[0],
                           "level": [0.9, 0.975], "value": [120.0, 130.0]})
    out = q.with_quantiles(rows, offsets, stated=stated)
    assert out["q0.9"].tolist() == [120.0, 103.0]  # stated for the first date only
    assert "q0.975" not in out  # a level the offsets do not score is not added by a stated one


def test_stated_quantiles_stay_as_stated_and_the_conformal_ones_keep_between_them(synthetic):
    """A model states 0.1 and 0.9; its 0.025, 0.5 and 0.975 are conformal. The stated ones are
    scored exactly as given, never swapped with a conformal one by the rearrangement; a conformal
    one that would cross them is held at the stated bound."""
    offsets = pd.DataFrame({"model": "m", "unique_id": "s00", "level": [0.025, 0.1, 0.5, 0.9, 0.975],
                            "offset": [-30.0, -20.0, 0.0, 20.0, 30.0], "basis": "series"})
    rows = synthetic.head(1)  # forecast 100
    stated = pd.DataFrame({"model": "m", "unique_id": "s00", "ds": rows["ds"].iloc[0], "cutoff": rows["cutoff"].iloc[0],
                           "level": [0.1, 0.9], "value": [60.0, 110.0]})
    out = q.with_quantiles(rows, offsets, stated=stated).iloc[0]
    assert [out[f"q{level:g}"] for level in q.LEVELS] == [60.0, 60.0, 100.0, 110.0, 130.0]


def test_bad_input_says_what_is_wrong():
    with pytest.raises(MitoshiError, match="between 0 and 1"):
        q.conformal_offsets(run(n_series=1, folds=2), (0.9, 1.0))
    with pytest.raises(MitoshiError, match="actual"):
        q.conformal_offsets(run(n_series=1, folds=2).drop(columns="actual"), q.LEVELS)


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory):
    from core.backtest.engine import dataset_data
    from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
    from core.warehouse import Warehouse

    warehouse = Warehouse(tmp_path_factory.mktemp("q") / "q.duckdb")
    dataset = load_demo(warehouse, DemoConfig(stores=2, items=6, years=1, seed=5, end_date=REFERENCE_END_DATE))
    yield warehouse, dataset_data(warehouse, dataset)
    warehouse.close()


def test_the_backtest_scores_the_spread_per_model_fold_and_segment_and_stores_it(demo_data):
    from core.backtest.engine import BacktestConfig, ModelSpec, run_backtest, segment_of
    from core.backtest.splits import SplitConfig
    from core.backtest.store import load_result, save_run

    warehouse, data = demo_data
    config = BacktestConfig(split=SplitConfig(horizon=14, folds=3), models=(ModelSpec.of("naive"), ModelSpec.of("ma")))
    result = run_backtest(data, config)
    m = result.metrics
    for level in ("overall", "fold", "step", "series", "segment:category"):
        assert {"pinball", "coverage_80", "coverage_95", "width_80"} <= set(m[m["level"] == level]["metric"]), level
    assert set(m[m["level"] == "overall"]["metric"]) >= {"below_0.025", "below_0.5", "below_0.975"}
    assert "below_0.5" not in set(m[m["level"] == "series"]["metric"])  # calibration: overall and segments only
    # the stored coverage is the share of actuals inside the model's out-of-fold interval, recomputed here
    offsets = q.conformal_offsets(result.forecasts, q.LEVELS, segment_of(data))
    rows = q.with_quantiles(result.forecasts, offsets)
    for model, part in rows.groupby("model"):
        stored = m.query("level == 'overall' and model == @model and metric == 'coverage_80'")["value"].iloc[0]
        assert stored == pytest.approx(coverage(part, 0.1, 0.9))
    summary = result.summary()
    assert set(summary["models"]["ma"]) >= {"pinball", "coverage_80", "coverage_95"}
    assert summary["spread"]["levels"] == list(q.LEVELS) and summary["spread"]["no_interval"] is None
    # stored and read back as it was
    again = load_result(warehouse, save_run(warehouse, result)).metrics
    assert len(again[again["metric"] == "coverage_95"]) == len(m[m["metric"] == "coverage_95"])


def test_a_one_fold_backtest_says_why_it_has_no_interval(demo_data):
    from core.backtest.engine import BacktestConfig, ModelSpec, run_backtest
    from core.backtest.splits import SplitConfig

    _, data = demo_data
    result = run_backtest(data, BacktestConfig(split=SplitConfig(horizon=14, folds=1), models=(ModelSpec.of("naive"),)))
    assert not {"pinball", "coverage_80"} & set(result.metrics["metric"])
    assert result.summary()["spread"]["no_interval"] == q.SINGLE_FOLD


def test_offsets_never_decrease_in_the_level_even_where_the_basis_changes_between_levels():
    # Series "a" has 120 out-of-fold errors: enough of its own for 0.9 (100), too few for 0.95 (200), so its 0.9
    # offset is its own (+10, a skewed error) and its 0.95 one the pool's (scaled normal errors, about 2 x its MAE
    # = 5.4): the pooled 0.95 offset fell below its own 0.9 one before the levels were widened (raised to it).
    rng = np.random.default_rng(3)
    frame = run(n_series=20, folds=3, horizon=60, sd=np.ones(20))
    skewed = np.where(rng.random(180) < 0.15, 10.0, -1.0)
    frame.loc[frame["unique_id"] == "s00", "actual"] = 100.0 + skewed
    levels = (0.5, 0.9, 0.95, 0.975)
    for offsets in (q.conformal_offsets(frame, levels), q.future_offsets(frame, levels)):
        keys = [c for c in ("model", "cutoff", "unique_id") if c in offsets.columns]
        wide = offsets.pivot_table(index=keys, columns="level", values="offset")
        assert (np.diff(wide.to_numpy(), axis=1) >= 0).all()
        a = offsets[offsets["unique_id"] == "s00"].groupby("level")["offset"].first()
        assert a[0.5] == -1.0 and a[0.9] == a[0.95] == a[0.975] == 10.0  # the pool's 0.95 was 5.4
        # a raised value keeps the basis it was computed on: the series' own errors
        basis = offsets[offsets["unique_id"] == "s00"].groupby("level")["basis"].first()
        assert basis[0.9] == basis[0.95] == "series"


def test_non_crossing_widens_from_the_median_out_and_keeps_nan_in_place():
    levels = (0.1, 0.5, 0.9, 0.95, 0.99)
    values = np.array([[-1.0, 0.0, 3.0, 2.0, np.nan], [np.nan] * 5, [1.0, 0.0, 2.0, np.nan, 1.0],
                       [np.nan, 0.0, np.nan, 4.0, 5.0]])
    expected = np.array([[-1.0, 0.0, 3.0, 3.0, np.nan], [np.nan] * 5, [0.0, 0.0, 2.0, np.nan, 2.0],
                         [np.nan, 0.0, np.nan, 4.0, 5.0]])
    np.testing.assert_array_equal(q.non_crossing(values, levels), expected)
    np.testing.assert_array_equal(q.non_crossing(values.T, levels, axis=0), expected.T)
    assert q.max_level(199) == pytest.approx(0.995) and q.max_level(39) == pytest.approx(0.975)
    assert q.max_level(0) == 0.0


def test_overlapping_folds_never_pool_errors_on_the_folds_own_dates():
    # step 7 < horizon 28: fold 1 (cutoff Jan 14) forecasts Jan 15 - Feb 11, dates that folds 0 and 2 forecast
    # too. Changing the actual sales on fold 1's dates (in every fold's rows, as the data would) must not move
    # fold 1's offsets; it moves the other folds' (those dates are in their pools where outside their window).
    ids = [f"s{i}" for i in range(30)]
    cutoffs = pd.date_range("2024-01-07", periods=4, freq="7D")
    frame = pd.MultiIndex.from_product([["m"], ids, cutoffs, range(1, 29)],
                                       names=["model", "unique_id", "cutoff", "step"]).to_frame(index=False)
    frame["ds"] = frame["cutoff"] + pd.to_timedelta(frame["step"], "D")
    rng = np.random.default_rng(1)
    days = pd.date_range("2024-01-08", "2024-03-10", freq="D")
    sales = pd.DataFrame(rng.normal(0, 1, (len(ids), len(days))), index=ids, columns=days).stack()
    frame["forecast"] = 0.0
    frame["actual"] = sales.reindex(pd.MultiIndex.from_arrays([frame["unique_id"], frame["ds"]])).to_numpy()
    fold1 = frame.loc[frame["cutoff"] == cutoffs[1], "ds"]
    changed = frame.assign(actual=np.where(frame["ds"].between(fold1.min(), fold1.max()), frame["actual"] * 5,
                                           frame["actual"]))
    before, after = (q.conformal_offsets(f, (0.1, 0.5, 0.9), min_errors=0).set_index(["cutoff", "unique_id", "level"])
                     ["offset"] for f in (frame, changed))
    assert before.notna().all()
    np.testing.assert_allclose(after.loc[cutoffs[1]], before.loc[cutoffs[1]])
    # fold 3 (Feb 4 - Mar 3) pools fold 0's errors on Jan 8-14... and fold 1's dates before Feb 4: they moved
    assert not np.allclose(after.loc[cutoffs[3]], before.loc[cutoffs[3]])
    # without ds (an old caller) the rule cannot apply, and fold 1's offsets see its own actuals
    no_dates = [q.conformal_offsets(f.drop(columns="ds"), (0.9,), min_errors=0).set_index(["cutoff", "unique_id"])
                ["offset"] for f in (frame, changed)]
    assert not np.allclose(no_dates[1].loc[cutoffs[1]], no_dates[0].loc[cutoffs[1]])


def test_the_pooling_segment_has_several_series_per_value_else_all_series_pool():
    from core.backtest.engine import MIN_SEGMENT_SERIES, pooling_map, pooling_segment
    assert MIN_SEGMENT_SERIES == 5
    # 12 series: "category" has 6 + 4 + 2 series per value (median 4), "colour" unique per series, "store" 6 + 6
    frame = pd.DataFrame({"unique_id": [f"s{i:02d}" for i in range(12)],
                          "store": ["A"] * 6 + ["B"] * 6,
                          "category": ["x"] * 6 + ["y"] * 4 + ["z"] * 2,
                          "colour": [f"c{i}" for i in range(12)]})
    assert pooling_segment(("store", "category", "colour"), frame) == "store"  # last column with >= 5 per value
    assert pooling_segment(("colour",), frame) is None
    assert pooling_map(frame, ("colour",)) is None
    # a value with fewer than 5 series pools with every series (NaN), the others on their own
    of = pooling_map(frame.assign(category=["x"] * 6 + ["y"] * 5 + ["z"]), ("category",))
    assert of.isna().sum() == 1 and of["s11"] is np.nan or pd.isna(of["s11"])
    assert of.dropna().value_counts().to_dict() == {"x": 6, "y": 5}
    # a series alone in its value pools every series' errors ("all"), not its own
    run_ = run(n_series=12, folds=3, horizon=7, seed=2)
    offsets = q.conformal_offsets(run_, (0.975,), of)
    assert offsets.groupby("unique_id")["basis"].first().to_dict() == {
        **{f"s{i:02d}": "segment" for i in range(11)}, "s11": "all"}
