"""The rule rung against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.splits import SplitConfig, make_task
from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.forecast.base import FORECAST, Fallback
from core.forecast.registry import make_model


def task_for(series: dict[str, list[float]], horizon: int = 3, gap: int = 0, freq: Freq = Freq.DAILY):
    """Series ending on the same cutoff; the frame runs ``horizon + gap`` days past it."""
    rows = []
    end = pd.Timestamp("2025-03-31")
    for uid, values in series.items():
        values = list(values) + [0.0] * (horizon + gap)
        dates = pd.date_range(end=end + pd.Timedelta(days=horizon + gap), periods=len(values), freq="D")
        rows.append(pd.DataFrame({SERIES_ID: uid, DATE: dates, TARGET: values}))
    frame = pd.concat(rows, ignore_index=True)
    return make_task(frame, end, freq, SplitConfig(horizon=horizon, gap=gap))[0]


def forecast(alias: str, task, **params) -> dict[str, list[float]]:
    out = make_model(alias, **params).forecast(task)
    return {uid: part[FORECAST].round(6).tolist() for uid, part in out.groupby(SERIES_ID)}


def test_naive_repeats_the_last_value():
    assert forecast("naive", task_for({"a": [1, 2, 7]}))["a"] == [7, 7, 7]


def test_seasonal_naive_repeats_the_last_week_and_falls_back_when_short():
    week = [1, 2, 3, 4, 5, 6, 7]
    result = forecast("snaive", task_for({"a": [9, 9] + week, "new": [4, 5]}, horizon=9))
    assert result["a"] == [1, 2, 3, 4, 5, 6, 7, 1, 2]
    assert result["new"] == [5] * 9  # younger than a week: the last value
    _, fallbacks = make_model("snaive").forecast_with_fallbacks(task_for({"a": [9, 9] + week, "new": [4, 5]}))
    assert fallbacks == (Fallback("naive", "shorter than a season (7 periods)", ("new",)),)


def test_gap_periods_are_skipped():
    week = [1, 2, 3, 4, 5, 6, 7]
    assert forecast("snaive", task_for({"a": week}, horizon=2, gap=3))["a"] == [4, 5]


def test_moving_average():
    assert forecast("ma", task_for({"a": [100, 1, 2, 3, 6]}), window=4)["a"] == [3, 3, 3]


def test_same_last_year_keeps_the_weekday():
    history = list(range(1, 400))  # value = position; 364 back from step k is position len-364+k
    result = forecast("lastyear", task_for({"a": history}))
    assert result["a"] == [history[-364], history[-363], history[-362]]


def test_croston_by_hand():
    # demands 2 (after 2 periods), 4 (after 3 periods); alpha 0.5
    # size: 2 -> 2 + 0.5*(4-2) = 3 ; interval: 2 -> 2 + 0.5*(3-2) = 2.5 ; forecast 3/2.5 = 1.2
    assert forecast("croston", task_for({"a": [0, 2, 0, 0, 4]}), alpha=0.5)["a"] == pytest.approx([1.2] * 3)


def test_tsb_by_hand():
    # p: starts 0 at t0, then 0.5*(1-0)=0.5 at t1, 0.25, 0.125, then 0.125+0.5*(1-0.125)=0.5625
    # size: 2 at t1, 2 + 0.5*(4-2) = 3 at t4 ; forecast 3 * 0.5625
    result = forecast("tsb", task_for({"a": [0, 2, 0, 0, 4]}), alpha_size=0.5, alpha_probability=0.5)
    assert result["a"] == pytest.approx([3 * 0.5625] * 3)


def test_slow_movers_that_never_sold_forecast_zero():
    assert forecast("tsb", task_for({"a": [0, 0, 0]}))["a"] == [0, 0, 0]
    assert forecast("croston", task_for({"a": [0, 0, 0]}))["a"] == [0, 0, 0]


def test_unknown_model_and_bad_setting_are_explained():
    from core.errors import MitoshiError
    with pytest.raises(MitoshiError, match="Unknown model 'prophet'"):
        make_model("prophet")
    with pytest.raises(MitoshiError, match="does not take"):
        make_model("ma", span=3)


def test_practice_without_orders_is_explained():
    from core.forecast.base import ForecastError
    with pytest.raises(ForecastError, match="needs the dataset's column of today's orders"):
        make_model("practice").forecast(task_for({"a": [1, 2, 3]}))


def test_panel_is_right_aligned_with_nan_padding():
    panel = task_for({"a": [1, 2, 3], "b": [5]}).panel
    assert panel.lengths.tolist() == [3, 1]
    assert np.isnan(panel.values[1, :2]).all() and panel.values[1, 2] == 5
