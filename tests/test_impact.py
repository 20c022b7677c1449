"""Money impact: the shelf simulator and the money arithmetic against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.engine import BacktestData
from core.columns import Freq
from core.impact import (
    Economics,
    ImpactConfig,
    ImpactInputError,
    _lifted_demand,
    _Shelf,
    money_impact,
)


def shelf(life: int) -> _Shelf:
    return _Shelf.empty(np.array([life]))


def day(s: _Shelf, order: float, demand: float) -> tuple[float, float]:
    sold, expired = s.day(np.array([float(order)]), np.array([float(demand)]))
    return float(sold[0]), float(expired[0])


def test_one_day_perishables_are_thrown_away_each_night():
    s = shelf(1)
    assert day(s, 10, 7) == (7, 3)
    assert s.on_hand[0] == 0
    assert day(s, 5, 8) == (5, 0)  # a stockout: 3 units of demand lost


def test_stock_sells_oldest_first_and_expires_at_its_shelf_life():
    s = shelf(2)
    assert day(s, 10, 4) == (4, 0)  # 6 units age one night
    assert day(s, 3, 5) == (5, 1)  # 5 of the 6 old ones sell; the last old one reaches 2 nights: waste
    assert s.on_hand[0] == 3  # the fresh delivery is kept
    assert day(s, 0, 1) == (1, 2)  # now those reach 2 nights too


def test_goods_that_keep_never_expire():
    s = shelf(0)
    assert day(s, 10, 2) == (2, 0)
    for _ in range(30):
        day(s, 0, 0)
    assert s.on_hand[0] == 8


def test_stockout_days_are_lifted_above_what_sold_and_other_days_are_not():
    days = 7 * 9
    sales = np.full((days, 1), 10.0)
    sales[::7] = [[8], [12], [9], [11], [10], [8], [12], [10], [6]]  # one weekday varies
    stockout = np.zeros_like(sales)
    stockout[-7] = 1  # the last such weekday sold out at 6
    lifted = _lifted_demand(sales, stockout, 7)
    assert lifted[-7, 0] > 10  # demand above what the weekday usually sells, since it sold out at 6
    assert np.array_equal(lifted[stockout == 0], sales[stockout == 0])


def tiny(orders: bool = True, price_in_data: bool = True) -> BacktestData:
    """One perishable item: 3 quiet days of history, then a 2-day fold."""
    dates = pd.date_range("2026-01-01", periods=5, freq="D")
    frame = pd.DataFrame({"unique_id": "A", "item": "A", "ds": dates, "y": [4.0, 4, 4, 5, 5]})
    if orders:
        frame["ordered"] = [4.0, 4, 4, 8, 4]
    if price_in_data:
        frame["price"] = 100.0
    return BacktestData(frame=frame, freq=Freq.DAILY, name="tiny", keys=("item",),
                        orders="ordered" if orders else None)


ITEMS = pd.DataFrame({"item": ["A"], "unit_cost": [60.0], "shelf_life_days": [1]})


def forecasts(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for model, fc in values.items():
        for step, (ds, f) in enumerate(zip(pd.date_range("2026-01-04", periods=2), fc, strict=True), start=1):
            rows.append({"unique_id": "A", "ds": ds, "cutoff": pd.Timestamp("2026-01-03"), "step": step,
                         "actual": 5.0, "model": model, "forecast": f})
    return pd.DataFrame(rows)


def test_money_against_a_hand_computed_case():
    """Practice orders 8 then 4 against demand 5 and 5; the model forecasts 5 and 5 exactly.

    Practice: day 1 sells 5, throws 3 away (3 x ¥60 = ¥180); day 2 sells 4, loses 1
    (margin ¥40). Profit = 9 x ¥40 - ¥180 = ¥180. The model's errors are zero, so its
    safety stock is zero: it orders 5 and 5, sells all, wastes nothing: 10 x ¥40 = ¥400.
    Savings ¥220 over 2 days = ¥40,150 a year."""
    result = money_impact(forecasts({"m": [5, 5]}), tiny(), ImpactConfig(service_level=0.9), items=ITEMS)
    practice, model = result.row("practice"), result.row("m")
    assert (practice["ordered"], practice["sold"], practice["lost"], practice["waste"]) == (12, 9, 1, 3)
    assert practice["waste_cost"] == 180 and practice["lost_margin"] == 40 and practice["profit"] == 180
    assert (model["ordered"], model["sold"], model["lost"], model["waste"]) == (10, 10, 0, 0)
    assert model["profit"] == 400
    assert model["yearly_savings"] == pytest.approx(220 * 365 / 2)
    assert practice["stockout_rate"] == 0.5 and model["stockout_rate"] == 0
    assert practice["fill_rate"] == pytest.approx(0.9)
    assert result.baseline == "practice" and result.chain_scale == 1.0


def test_safety_stock_comes_from_the_models_own_errors():
    """A model 2 units short each day: its RMSE is 2, so at a 50 % service level it
    orders its forecast (3), and at 97 % (z = 1.88) 3 + 3.76, so 7 whole units."""
    low = money_impact(forecasts({"m": [3, 3]}), tiny(), ImpactConfig(service_level=0.5), items=ITEMS).row("m")
    assert low["ordered"] == 6 and low["lost"] == 4
    high = money_impact(forecasts({"m": [3, 3]}), tiny(), ImpactConfig(service_level=0.97), items=ITEMS).row("m")
    assert high["ordered"] == 14 and high["waste"] == 4 and high["lost"] == 0


def test_profit_optimal_level_is_the_newsvendor_ratio():
    """Price ¥100, cost ¥60, one-day life: the critical ratio is 40 / 100 = 0.4, so z < 0:
    with an RMSE of 2 the target is 3 + ppf(0.4) x 2 = 2.49, ordered as 3 a day (whole
    units, rounded up) — where a 90 % level would order 3 + 1.28 x 2 = 5.56, so 6."""
    result = money_impact(forecasts({"m": [3, 3]}), tiny(), ImpactConfig(service_level=None), items=ITEMS)
    assert result.row("m")["ordered"] == 6
    assert money_impact(forecasts({"m": [3, 3]}), tiny(), ImpactConfig(service_level=0.9),
                        items=ITEMS).row("m")["ordered"] == 12
    assert "profit-optimal" in result.row("m")["ordering"]


def test_sensitivity_covers_every_level_and_saves_less_when_overstocking():
    result = money_impact(forecasts({"m": [5, 5]}), tiny(), ImpactConfig(), items=ITEMS)
    levels = result.sensitivity[result.sensitivity["policy"] == "m"]["service_level"].tolist()
    assert levels == sorted(ImpactConfig().sensitivity)


def test_average_economics_stand_in_for_missing_item_data():
    data = tiny(price_in_data=False)
    with pytest.raises(ImpactInputError, match="unit price, unit cost or shelf life"):
        money_impact(forecasts({"m": [5, 5]}), data)
    result = money_impact(forecasts({"m": [5, 5]}), data,
                          ImpactConfig(service_level=0.9, economics=Economics(100, 60, 1)))
    assert result.row("m")["profit"] == 400 and "your average" in result.sources["unit cost"]


def test_without_recorded_orders_savings_are_against_seasonal_naive():
    data = tiny(orders=False)
    with pytest.raises(ImpactInputError, match="snaive"):
        money_impact(forecasts({"m": [5, 5]}), data, items=ITEMS)
    result = money_impact(forecasts({"m": [5, 5], "snaive": [4, 4]}), data, ImpactConfig(service_level=0.9),
                          items=ITEMS)
    assert result.baseline == "snaive" and "practice" not in set(result.summary["policy"])
    assert result.row("snaive")["yearly_savings"] == 0 and result.row("m")["yearly_savings"] > 0
    assert any("not recorded" in note for note in result.notes)


def test_bad_settings_are_refused_with_a_reason():
    with pytest.raises(ImpactInputError, match="below the unit price"):
        Economics(unit_price=100, unit_cost=150)
    with pytest.raises(ImpactInputError, match="service level"):
        ImpactConfig(service_level=1.0)


def test_a_gap_after_the_cutoff_simulates_only_the_forecast_days():
    """The hand-computed case again, forecast with a one-day gap (cutoff a day earlier,
    steps 2 and 3): the same two days, the same money, the same year."""
    gapped = forecasts({"m": [5, 5]}).assign(cutoff=pd.Timestamp("2026-01-02"), step=lambda f: f["step"] + 1)
    result = money_impact(gapped, tiny(), ImpactConfig(service_level=0.9), items=ITEMS)
    practice, model = result.row("practice"), result.row("m")
    assert (practice["ordered"], practice["sold"], practice["waste"]) == (12, 9, 3)
    assert model["yearly_savings"] == pytest.approx(220 * 365 / 2) and result.fold_days == 2


def test_a_run_of_practice_alone_is_refused_with_a_reason():
    with pytest.raises(ImpactInputError, match="at least one model besides practice"):
        money_impact(forecasts({"practice": [8, 4]}), tiny(), items=ITEMS)


def test_yearly_money_is_scaled_to_the_whole_dataset_and_the_run_share_kept():
    result = money_impact(forecasts({"m": [5, 5]}), tiny(), ImpactConfig(service_level=0.9), items=ITEMS,
                          dataset_sales=40.0)  # the run's 10 units are a quarter of the dataset's sales
    model = result.row("m")
    assert result.chain_scale == 4
    assert model["yearly_savings_run"] == pytest.approx(220 * 365 / 2)
    assert model["yearly_savings"] == pytest.approx(4 * 220 * 365 / 2)
    assert model["yearly_profit"] == pytest.approx(4 * 400 * 365 / 2)
