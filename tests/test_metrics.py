"""Metrics against values computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.metrics import METRICS, evaluate, scales


def scored() -> pd.DataFrame:
    # Two series, one fold; errors (forecast - actual): a: +1, -2 ; b: 0, +3
    return pd.DataFrame({
        "unique_id": ["a", "a", "b", "b"],
        "cutoff": pd.Timestamp("2025-01-01"),
        "step": [1, 2, 1, 2],
        "model": "m",
        "actual": [4.0, 6.0, 0.0, 2.0],
        "forecast": [5.0, 4.0, 0.0, 5.0],
        "scale_mase": [2.0, 2.0, 1.0, 1.0],
        "scale_rmsse": [4.0, 4.0, 9.0, 9.0],
    })


def test_overall_metrics_by_hand():
    row = evaluate(scored(), []).iloc[0]
    assert row["mae"] == pytest.approx((1 + 2 + 0 + 3) / 4)
    assert row["rmse"] == pytest.approx(np.sqrt((1 + 4 + 0 + 9) / 4))
    assert row["bias"] == pytest.approx((1 - 2 + 0 + 3) / 4)
    assert row["wape"] == pytest.approx(6 / 12)
    # sMAPE terms: 2*1/9, 2*2/10, 0 (both zero), 2*3/7
    assert row["smape"] == pytest.approx((2 / 9 + 4 / 10 + 0 + 6 / 7) / 4)
    assert row["mase"] == pytest.approx((1 / 2 + 2 / 2 + 0 / 1 + 3 / 1) / 4)
    # RMSSE per series: a: sqrt(((1+4)/2)/4), b: sqrt(((0+9)/2)/9); then the mean
    assert row["rmsse"] == pytest.approx((np.sqrt(2.5 / 4) + np.sqrt(4.5 / 9)) / 2)


def test_grouped_metrics_by_hand():
    table = evaluate(scored(), ["unique_id"]).set_index("unique_id")
    assert table.loc["a", "mae"] == pytest.approx(1.5) and table.loc["b", "mae"] == pytest.approx(1.5)
    assert table.loc["a", "wape"] == pytest.approx(3 / 10) and table.loc["b", "wape"] == pytest.approx(3 / 2)
    assert table.loc["b", "rmsse"] == pytest.approx(np.sqrt(4.5 / 9))
    by_step = evaluate(scored(), ["step"]).set_index("step")
    assert by_step.loc[2, "bias"] == pytest.approx((-2 + 3) / 2)


def test_zero_volume_and_zero_scale_give_missing_not_infinite():
    frame = scored().assign(actual=0.0, scale_mase=0.0, scale_rmsse=0.0)
    row = evaluate(frame, []).iloc[0]
    assert np.isnan(row["wape"]) and np.isnan(row["mase"]) and np.isnan(row["rmsse"])


def test_every_metric_has_one_signature():
    for name, metric in METRICS.items():
        values = metric(scored(), ["model"])
        assert len(values) == 1 and np.isfinite(values.iloc[0]), name


def test_scales_from_the_training_history():
    history = np.array([[np.nan, 1.0, 3.0, 2.0, 6.0], [1.0, 1.0, 1.0, 1.0, 1.0]])
    mase_scale, rmsse_scale = scales(history, season_length=2)
    # series 0: seasonal diffs (m=2): 2-1=1, 6-3=3 -> 2 ; one-step diffs 2, -1, 4 -> mse 21/3
    assert mase_scale[0] == pytest.approx(2.0) and rmsse_scale[0] == pytest.approx(7.0)
    assert mase_scale[1] == 0 and rmsse_scale[1] == 0
    short_mase, _ = scales(np.array([[np.nan, np.nan, np.nan, 2.0, 5.0]]), season_length=4)
    assert short_mase[0] == pytest.approx(3.0)  # too short for a season: one-step naive


def test_a_one_period_history_and_a_never_sold_series_give_missing_scaled_errors_not_infinite():
    # scales: a one-period history has no difference to scale by; a never-sold one scales by 0
    mase_scale, rmsse_scale = scales(np.array([[np.nan, np.nan, 3.0], [0.0, 0.0, 0.0]]), season_length=7)
    assert np.isnan(mase_scale[0]) and np.isnan(rmsse_scale[0]) and mase_scale[1] == rmsse_scale[1] == 0
    frame = scored().assign(scale_mase=[np.nan, np.nan, 0.0, 0.0], scale_rmsse=[np.nan, np.nan, 0.0, 0.0])
    row = evaluate(frame, []).iloc[0]
    assert np.isnan(row["mase"]) and np.isnan(row["rmsse"]) and row["wape"] == pytest.approx(6 / 12)
    # per series, only the series whose scale exists gets a value
    table = evaluate(scored().assign(scale_mase=[2.0, 2.0, 0.0, 0.0]), ["unique_id"]).set_index("unique_id")
    assert table.loc["a", "mase"] == pytest.approx(0.75) and np.isnan(table.loc["b", "mase"])


def with_quantiles_by_hand() -> pd.DataFrame:
    # series a (scale 2): actual 4, 6; series b (scale 1): actual 0, 2; quantiles per row below
    frame = scored()
    frame["q0.025"] = [1.0, 5.0, 0.0, 1.0]
    frame["q0.1"] = [2.0, 5.5, 0.0, 2.0]
    frame["q0.5"] = [4.0, 7.0, 0.0, 4.0]
    frame["q0.9"] = [5.0, 8.0, 1.0, 6.0]
    frame["q0.975"] = [7.0, 9.0, 2.0, 8.0]
    return frame


def test_pinball_loss_and_interval_coverage_by_hand():
    from core.backtest.quantiles import LEVELS

    frame = with_quantiles_by_hand()
    row = evaluate(frame, [], calibration=True).iloc[0]

    def loss(y, q, tau):
        return max(tau * (y - q), (tau - 1) * (y - q))

    # row 1 (y 4, scale 2): 0.025*3 + 0.1*2 + 0 + 0.1*1 + 0.025*3 = 0.45 -> /5 levels /2 scale = 0.045
    assert sum(loss(4.0, q, t) for q, t in zip([1, 2, 4, 5, 7], LEVELS)) == pytest.approx(0.45)
    expected = np.mean([sum(loss(y, q, t) for q, t in zip(qs, LEVELS)) / 5 / s for y, qs, s in [
        (4.0, [1, 2, 4, 5, 7], 2.0), (6.0, [5, 5.5, 7, 8, 9], 2.0), (0.0, [0, 0, 0, 1, 2], 1.0),
        (2.0, [1, 2, 4, 6, 8], 1.0)]])
    assert row["pinball"] == pytest.approx(expected)
    # inside [q0.1, q0.9] (ends included): 4 in [2, 5] yes, 6 in [5.5, 8] yes, 0 in [0, 1] yes, 2 in [2, 6] yes
    assert row["coverage_80"] == 1.0 and row["coverage_95"] == 1.0
    assert row["width_80"] == pytest.approx((3 + 2.5 + 1 + 4) / 4)
    # at or below the median: 4<=4, 6<=7, 0<=0, 2<=4 -> all; below q0.025: 0<=0 only -> 1/4
    assert row["below_0.5"] == 1.0 and row["below_0.025"] == pytest.approx(0.25)
    # a miss below the interval: b's second actual 2 -> 0.5 is outside [2.5, 6]
    frame.loc[3, "q0.1"] = 2.5
    assert evaluate(frame, ["unique_id"]).set_index("unique_id").loc["b", "coverage_80"] == pytest.approx(0.5)


def test_rows_without_quantiles_score_no_spread_and_missing_quantiles_are_left_out():
    assert "pinball" not in evaluate(scored(), []).columns  # no quantile columns: point metrics only
    frame = with_quantiles_by_hand()
    frame.loc[0, ["q0.025", "q0.1", "q0.5", "q0.9", "q0.975"]] = np.nan  # e.g. a series scored in one fold only
    row = evaluate(frame, []).iloc[0]
    assert row["coverage_80"] == 1.0 and row["width_80"] == pytest.approx((2.5 + 1 + 4) / 3)
    assert "below_0.5" not in row  # the calibration shares only where asked for


def test_precomputed_row_terms_give_the_same_scores():
    from core.backtest.metrics import with_row_terms

    frame = with_quantiles_by_hand()
    plain, cached = evaluate(frame, ["unique_id"], calibration=True), evaluate(with_row_terms(frame), ["unique_id"],
                                                                               calibration=True)
    pd.testing.assert_frame_equal(plain, cached)
    assert with_row_terms(scored()) is not None and "_row_pinball" not in with_row_terms(scored())


def test_the_calibration_summary_picks_the_best_among_models_with_a_pinball_loss_and_names_what_is_missing():
    from ui.backtest import spread_summary
    nan = float("nan")
    # a small run: 20 out-of-fold errors, enough for the 80 % interval (9) but not the 95 % one (39): no pinball
    board = pd.DataFrame({"model": ["ets", "snaive"], "pinball": [nan, nan], "coverage_80": [0.7, 0.85],
                          "coverage_95": [nan, nan]})
    series = pd.DataFrame({"level": "series", "group": ["a", "a", "b", "b"], "model": "ets",
                           "metric": ["wape", "pinball", "wape", "pinball"], "value": [0.3, nan, 0.2, nan]})
    text = spread_summary(board, series.iloc[:0])
    assert "lowest pinball loss" not in text and "No model has a pinball loss" in text
    assert "Too few errors for the 95 % interval (39 errors" in text and "80 % interval (9" not in text
    # with a pinball loss: the best among the models that have one, never a model without
    board = board.assign(pinball=[nan, 0.4], coverage_95=[nan, 0.93])
    text = spread_summary(board, series)
    from core import fmt
    assert text.startswith(f"**{fmt.model_name('snaive')}**:")
    assert "93.0%" in text and "lowest pinball loss" in text
    # series scored (a WAPE) without an interval are counted and named (series metrics of a model with pinball)
    scored = series.assign(model="snaive")
    scored.loc[scored["group"] == "b", "value"] = [0.2, 0.5]
    text = spread_summary(board, scored)
    assert "1 series have no interval (a)" in text


def test_every_level_summed_from_series_and_fold_cells_equals_the_rows_grouped_directly():
    """``evaluate_levels`` sums a level whose columns hold one value per (model, series,
    fold) from those cells, and the horizon step from the rows: both give what grouping the
    rows by the level gives (pandas, by hand), a missing segment value in no group."""
    from core.backtest.metrics import evaluate_levels

    rng = np.random.default_rng(5)
    rows = []
    for model in ("a", "b"):
        for s in range(6):
            for cutoff in pd.to_datetime(["2025-01-01", "2025-02-01"]):
                for step in (1, 2, 3):
                    rows.append({"model": model, "unique_id": f"s{s}", "cutoff": cutoff, "step": step,
                                 "segment": [None, "x", "y"][s % 3], "actual": float(rng.integers(0, 5)),
                                 "forecast": float(rng.uniform(0, 5)), "scale_mase": [0.0, 1.5, 2.0][s % 3],
                                 "scale_rmsse": [np.nan, 2.0, 3.0][(s + step) % 3]})
    frame = pd.DataFrame(rows).astype({"model": "category", "unique_id": "category"})
    tables = evaluate_levels(frame, {"overall": ["model"], "segment": ["model", "segment"],
                                     "step": ["model", "step"], "fold": ["model", "cutoff"]})
    frame["abs"] = (frame["forecast"] - frame["actual"]).abs()
    frame["scaled_sq"] = np.where(frame["scale_rmsse"] > 0, (frame["forecast"] - frame["actual"]) ** 2
                                  / frame["scale_rmsse"], np.nan)
    for level, by in (("overall", ["model"]), ("segment", ["model", "segment"]), ("step", ["model", "step"]),
                      ("fold", ["model", "cutoff"])):
        grouped = frame.groupby(by, observed=True)
        expected_mae = grouped["abs"].mean()
        expected_wape = grouped["abs"].sum() / grouped["actual"].sum()
        inner = frame.groupby([*by, "unique_id", "cutoff"] if "cutoff" not in by else [*by, "unique_id"],
                              observed=True)["scaled_sq"].mean().pow(0.5)
        expected_rmsse = inner.groupby(level=list(range(len(by)))).mean()
        table = tables[level].set_index(by)
        assert len(table) == len(expected_mae)  # the missing segment value is no group
        np.testing.assert_allclose(table["mae"].to_numpy(), expected_mae.to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(table["wape"].to_numpy(), expected_wape.to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(table["rmsse"].to_numpy(), expected_rmsse.to_numpy(), rtol=1e-12)
