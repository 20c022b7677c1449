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
