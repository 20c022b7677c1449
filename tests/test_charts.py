"""The figures people read in charts: yen with the sign before the ¥, models and metrics
by name, counts on whole-number ticks, segment errors as sorted bars from 0."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from core.backtest import charts as backtest_charts
from core.data import charts as data_charts
from core.money import charts as money_charts
from core.planning.charts import effort_impact_map
from core.planning.initiatives import Thresholds, score_table
from core.plotting import count_axis, nice_ticks, yen_axis, yen_tick

MINUS = "\u2212"


def text_of(fig) -> str:
    """Every string of the figure as Plotly receives it (not escaped to ASCII)."""
    return json.dumps(json.loads(pio.to_json(fig)), ensure_ascii=False)


def assert_no_bad_forms(fig) -> None:
    text = text_of(fig)
    for bad in ("¥-", "¥+", "¥" + MINUS, "-¥", "lgbm", "snaive", "−0.0%", "-0.0%"):
        assert bad not in text, (bad, text[:400])


# ---------------------------------------------------------------------------------
# Ticks
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "signed", "text"), [
    (0, False, "¥0"), (0, True, "¥0"), (500, False, "¥500"), (1000, False, "¥1K"), (1500, False, "¥1.5K"),
    (2_500_000, False, "¥2.5M"), (1_250_000, False, "¥1.25M"), (-5_000_000, False, MINUS + "¥5M"),
    (19_800_000, True, "+¥19.8M"), (-12_000, True, MINUS + "¥12K"), (1e9, False, "¥1B"),
])
def test_yen_ticks_put_the_sign_before_the_yen(value, signed, text):
    assert yen_tick(value, signed) == text


def test_nice_ticks_are_round_and_cover_the_range():
    assert nice_ticks(0, 3) == [0, 0.5, 1, 1.5, 2, 2.5, 3]
    assert nice_ticks(0, 10) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(-2e6, 20e6) == [0, 5e6, 10e6, 15e6, 20e6]
    assert nice_ticks(-11_966, 0) == [-10_000, -7_500, -5_000, -2_500, 0]
    assert nice_ticks(0, 0.4) == [0, 0.1, 0.2, 0.3, 0.4]


def test_yen_axis_writes_its_own_tick_text():
    axis = yen_axis([-11_966, 20_000], signed=True)
    assert axis["tickvals"] == [-10_000, -5_000, 0, 5_000, 10_000, 15_000, 20_000]
    assert axis["ticktext"] == [MINUS + "¥10K", MINUS + "¥5K", "¥0", "+¥5K", "+¥10K", "+¥15K", "+¥20K"]
    assert axis["range"] == [-11_966, 20_000]


def test_count_axes_never_repeat_a_tick():
    small = count_axis([0, 1, 2])
    assert small["tickformat"] == ",d" and small["dtick"] == 1 and small["range"][0] == 0
    assert "dtick" not in count_axis([0, 40, 250])  # Plotly's own steps are whole numbers there


# ---------------------------------------------------------------------------------
# Money charts
# ---------------------------------------------------------------------------------
@pytest.fixture
def money():
    return pd.DataFrame({
        "policy": ["practice", "lgbm", "snaive"], "label": ["today's practice", "lgbm", "snaive"],
        "ordering": ["as recorded", "forecast + safety stock", "forecast + safety stock"],
        "yearly_savings": [0.0, 19_800_000.0, -11_966.0], "yearly_profit": [1e8, 1.198e8, 9.99e7],
        "yearly_waste_cost": [3e6, 1e6, 3.2e6], "yearly_lost_margin": [2e6, 1.5e6, 1.9e6],
        "yearly_holding_cost": [1e5, 2e5, 1e5],
    })


def test_savings_bars_sign_before_the_yen_and_name_the_models(money):
    fig = money_charts.savings_bars(money, "today's practice (as recorded)")
    bar = fig.data[0]
    assert list(bar.y) == ["Seasonal naive", "LightGBM"]  # sorted, the zero row left out
    assert list(bar.text) == [MINUS + "¥12.0K", "+¥19.8M"]
    assert [row[1] for row in bar.customdata] == [MINUS + "¥11,966", "+¥19,800,000"]
    ticks = list(fig.layout.xaxis.ticktext)
    assert ticks == [MINUS + "¥5M", "¥0", "+¥5M", "+¥10M", "+¥15M", "+¥20M", "+¥25M"]
    assert fig.layout.xaxis.tickprefix is None
    assert_no_bad_forms(fig)


def test_loss_split_and_segment_savings_write_yen_for_people(money):
    split = money_charts.loss_split(money)
    assert list(split.data[0].y) == ["Seasonal naive", "Today's practice", "LightGBM"]
    assert split.data[0].customdata[0] == "¥3,200,000"
    assert list(split.layout.xaxis.ticktext)[:2] == ["¥0", "¥1M"]
    assert_no_bad_forms(split)
    by_segment = pd.DataFrame({"segment": "category", "group": ["dairy", "bakery", "drinks"], "policy": "lgbm",
                               "yearly_savings": [-950_000.0, 2_000_000.0, 0.4]})
    fig = money_charts.segment_savings(by_segment, "category", "lgbm", "today's practice")
    assert list(fig.data[0].y) == ["dairy", "drinks", "bakery"]
    assert list(fig.data[0].customdata) == [MINUS + "¥950,000", "no change", "+¥2,000,000"]
    assert fig.layout.title.text.startswith("Yearly savings of LightGBM by category")
    assert MINUS + "¥500K" in fig.layout.xaxis.ticktext
    assert_no_bad_forms(fig)


def test_sensitivity_lines_hover_in_yen_and_percent():
    sensitivity = pd.DataFrame({"policy": ["lgbm"] * 2 + ["snaive"] * 2, "service_level": [0.8, 0.95] * 2,
                                "yearly_savings": [-27_215_086.0, 5e6, -1e6, 2e6],
                                "stockout_rate": [0.1234, 0.05, 0.2, 0.1], "yearly_waste_cost": [1e6, 2e6, 1e6, 1e6]})
    optimal = pd.DataFrame({"policy": ["lgbm"], "yearly_savings": [6e6]})
    fig = money_charts.sensitivity_lines(sensitivity, optimal)
    assert [t.name for t in fig.data if t.showlegend is not False] == ["LightGBM", "Seasonal naive"]
    assert list(fig.data[0].customdata[0]) == [MINUS + "¥27,215,086", "12.3%", "¥1,000,000"]
    assert "+¥6,000,000 a year" in fig.data[1].hovertemplate
    assert list(fig.layout.yaxis.ticktext) == [MINUS + "¥20M", MINUS + "¥10M", "¥0"]
    assert_no_bad_forms(fig)


# ---------------------------------------------------------------------------------
# Backtest charts
# ---------------------------------------------------------------------------------
def test_segment_errors_are_sorted_bars_from_zero():
    frame = pd.DataFrame({"model": "lgbm", "x": ["drinks", "dairy", "bakery"], "group": ["drinks", "dairy", "bakery"],
                          "value": [0.31, 0.52, 0.254]})
    fig = backtest_charts.metric_lines(frame, "x", "wape", "WAPE of lgbm by category", "category")
    assert [t.type for t in fig.data] == ["bar"]
    bar = fig.data[0]
    assert list(bar.y) == ["bakery", "drinks", "dairy"]  # worst at the top of a horizontal bar chart
    assert list(bar.text) == ["25.4%", "31.0%", "52.0%"]
    assert bar.name == "LightGBM"
    assert fig.layout.xaxis.range[0] == 0 and fig.layout.xaxis.title.text == "WAPE (&#37;)"
    assert list(fig.layout.yaxis.categoryarray) == ["bakery", "drinks", "dairy"]


def test_metric_lines_name_models_and_count_steps_in_whole_numbers():
    frame = pd.DataFrame({"model": ["lgbm"] * 3 + ["snaive"] * 3, "step": [1, 2, 3] * 2,
                          "value": [0.2, 0.25, 0.3, 0.3, 0.31, 0.33]})
    fig = backtest_charts.metric_lines(frame, "step", "smape", "sMAPE by periods ahead", "Periods after the cutoff")
    assert [t.name for t in fig.data] == ["LightGBM", "Seasonal naive"]
    assert fig.layout.yaxis.title.text == "sMAPE (&#37;)"  # Plotly shows it as %
    assert fig.layout.xaxis.dtick == 1 and fig.layout.xaxis.tickformat == ",d"


def test_improvement_bars_and_ladder_read_model_names():
    gains = pd.Series({"snaive": 0.0, "lgbm": 0.123, "ma": -0.034, "ets": 0.0001})
    fig = backtest_charts.improvement_bars(gains, "snaive")
    bar = fig.data[0]
    assert list(bar.y) == ["Moving average", "ETS (exponential smoothing)", "LightGBM"]
    assert list(bar.text) == [MINUS + "3.4%", "no change", "+12.3%"]
    assert list(bar.customdata) == ["WAPE 3.4% higher than Seasonal naive", "WAPE the same as Seasonal naive",
                                    "WAPE 12.3% lower than Seasonal naive"]
    assert fig.layout.title.text == "WAPE reduction against Seasonal naive"
    assert_no_bad_forms(fig)
    board = pd.DataFrame({"model": ["snaive", "lgbm"], "rung": ["rule", "GBDT"], "wape": [0.3, 0.25],
                          "mase": [1.0, 0.8], "seconds": [0.1, 5.0]})
    ladder = backtest_charts.ladder(board, {"snaive": 1, "lgbm": 4})
    assert [list(t.text) for t in ladder.data[1:]] == [["Seasonal naive"], ["LightGBM"]]


def test_stockouts_are_counted_on_whole_number_ticks():
    frame = pd.DataFrame({"period": pd.date_range("2025-01-06", periods=3, freq="W-MON"), "y": [10.0, 12, 9],
                          "orders": [11.0, 12, 10], "stockouts": [0, 1, 2]})
    fig = data_charts.practice_over_time(frame, "units sold", "weekly")
    assert fig.layout.yaxis2.tickformat == ",d" and fig.layout.yaxis2.dtick == 1


def test_uplift_labels_write_no_change_for_zero():
    frame = pd.DataFrame({"grp": ["a", "b"], "uplift": [0.001, 0.25], "mean_off": [1.0, 1.0],
                          "mean_on": [1.0, 1.25], "periods_on": [3, 4]})
    fig = data_charts.flag_effect(frame, "promo", "units")
    assert list(fig.data[0].text) == ["no change", "+25%"]


def test_effort_impact_ticks_in_short_yen():
    from core.planning import example

    items = [(str(n), i) for n, i in enumerate(example.initiatives())]
    fig = effort_impact_map(score_table(items, Thresholds()), Thresholds())
    ticks = list(fig.layout.yaxis.ticktext)
    assert ticks[:3] == ["¥5M", "¥10M", "¥20M"] and all(t.startswith("¥") for t in ticks)


def test_ladder_labels_of_points_close_together_go_to_different_sides():
    from core.backtest.charts import _label_positions

    # Three fast models with nearly the same WAPE (within 1.5 % of the range), and one far away.
    positions = _label_positions(np.log10([0.01, 0.012, 0.011, 3.0]), np.array([40.0, 40.2, 40.3, 60.0]))
    assert positions == ["top center", "bottom center", "middle right", "top center"]


def test_models_keep_one_colour_on_every_backtest_chart_none_of_them_grey():
    from core.backtest.charts import MODEL_COLOURS, model_colour
    from core.forecast.registry import MODELS

    assert set(MODELS) <= set(MODEL_COLOURS) and len(set(MODEL_COLOURS.values())) == len(MODEL_COLOURS)
    greys = {"#999999", "#7f7f7f", "#b5b5b5", "#bbbbbb", "#888888", "#222222"}
    overall = pd.DataFrame({"model": ["ma", "ma", "ets", "ets"], "metric": ["below_0.1", "below_0.9"] * 2,
                            "value": [0.12, 0.85, 0.08, 0.93]})
    fig = backtest_charts.calibration(overall)
    colours = {t.name: t.line.color for t in fig.data}
    assert colours.pop("calibrated (observed = nominal)") == "#999999"
    assert colours == {"ETS (exponential smoothing)": MODEL_COLOURS["ets"], "Moving average": MODEL_COLOURS["ma"]}
    assert not set(colours.values()) & greys
    more = backtest_charts.calibration(pd.concat([overall, overall.assign(model="arima")]))
    assert {t.name: t.line.color for t in more.data[1:]} == colours | {"ARIMA": MODEL_COLOURS["arima"]}
    lines = backtest_charts.metric_lines(pd.DataFrame({"model": ["ets", "ma"], "step": [1, 1], "value": [0.3, 0.4]}),
                                         "step", "wape", "t", "x")
    assert [t.line.color for t in lines.data] == [MODEL_COLOURS["ets"], MODEL_COLOURS["ma"]]  # as on calibration
    assert model_colour("ext:Vendor") == model_colour("ext:Vendor") and model_colour("ext:Vendor") not in greys


def test_ladder_best_line_climbs_rung_by_rung_labels_stay_inside_and_size_is_explained():
    board = pd.DataFrame({"model": ["lgbm", "glm", "comb", "ets", "ma", "practice"],
                          "rung": ["GBDT", "simple model", "statistical", "statistical", "rule", "current practice"],
                          "wape": [0.385, 0.405, 0.41, 0.416, 0.42, 0.59],
                          "mase": [0.8] * 6, "seconds": [11.0, 3.5, 6.0, 0.3, 0.01, 0.02]})
    fig = backtest_charts.ladder(board, {"lgbm": 4, "glm": 3, "comb": 2, "ets": 2, "ma": 1, "practice": 1})
    best = fig.data[0]
    # practice, rule, statistical, simple model, GBDT: ladder order even where seconds go back left
    assert list(best.x) == [0.02, 0.01, 6.0, 3.5, 11.0]
    assert list(np.round(best.y, 1)) == [59.0, 42.0, 41.0, 40.5, 38.5]
    assert best.marker.symbol == "arrow" and best.marker.angleref == "previous"
    positions = {t: p for trace in fig.data[1:] for t, p in zip(trace.text, trace.textposition, strict=True)}
    # labels over or under their own markers, the axis reaching right enough for the rightmost ones
    assert positions["Combination (ETS, Theta)"] == "top center" and positions["LightGBM"] == "top center"
    assert all(trace.cliponaxis is False for trace in fig.data[1:])
    assert "bubble size: complexity (1–5)" in fig.layout.xaxis.title.text
    assert fig.layout.xaxis.range[1] == pytest.approx(np.log10(11.0) + 0.8)
