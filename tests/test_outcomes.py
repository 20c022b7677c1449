"""Store-day outcomes in yen against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.backtest.engine import BacktestData
from core.columns import Freq
from core.money.impact import Economics, ImpactInputError
from core.money.outcomes import STORE, store_day_outcomes

ITEMS = pd.DataFrame({"item_id": ["A", "B"], "unit_price": [100.0, 200.0], "unit_cost": [60.0, 150.0],
                      "shelf_life_days": [1, 2]})


def two_items(orders: bool = True) -> BacktestData:
    """One store, item A (¥100, cost ¥60, keeps 1 day; ¥80 on day 3) and item B (¥200,
    cost ¥150, keeps 2 days), five days."""
    dates = pd.date_range("2026-03-02", periods=5, freq="D")
    a = pd.DataFrame({"item_id": "A", "ds": dates, "y": [5.0, 3, 5, 4, 5], "ordered": [5.0, 5, 5, 5, 5],
                      "stockout": [1, 0, 1, 0, 1], "price": [100.0, 100, 80, 100, 100]})
    b = pd.DataFrame({"item_id": "B", "ds": dates, "y": [2.0, 1, 3, 1, 2], "ordered": [4.0, 0, 4, 0, 4],
                      "stockout": 0, "price": 200.0})
    frame = pd.concat([a, b], ignore_index=True).assign(store_id="S1")
    frame["unique_id"] = frame["store_id"] + "/" + frame["item_id"]
    if not orders:
        frame = frame.drop(columns="ordered")
    return BacktestData(frame=frame, freq=Freq.DAILY, name="two items", keys=("store_id", "item_id"),
                        orders="ordered" if orders else None, stockout="stockout")


def test_profit_waste_and_stockout_days_by_hand():
    out = store_day_outcomes(two_items(), ITEMS, Economics(), "store_id")
    assert list(out[STORE]) == ["S1"] * 5
    # Day 1: A sells 5 x ¥100 for 5 x ¥60; B sells 2 x ¥200 for 4 x ¥150 ordered.
    assert out["revenue"].tolist() == [900.0, 500.0, 1000.0, 600.0, 900.0]
    assert out["profit"].tolist() == [0.0, 200.0, 100.0, 300.0, 0.0]
    # A throws 2 away on day 2 and 1 on day 4 (keeps one day); B's day-1 leftovers (2, of
    # which 1 sells on day 2) reach their second night on day 2: 1 thrown away.
    assert out["waste_cost"].tolist() == [0.0, 2 * 60 + 150.0, 0.0, 60.0, 0.0]
    assert out["stockout_days"].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert out["units"].tolist() == [7.0, 4.0, 8.0, 5.0, 7.0]
    # Under three weeks of history no demand is estimated above what sold out.
    assert out["lost_margin"].tolist() == [0.0] * 5


def test_the_shelf_is_replayed_from_the_first_day_whatever_the_window():
    out = store_day_outcomes(two_items(), ITEMS, Economics(), "store_id", start="2026-03-03", end="2026-03-05")
    assert out["ds"].dt.day.tolist() == [3, 4, 5]
    assert out["waste_cost"].tolist() == [270.0, 0.0, 60.0]  # B's day-2 waste was ordered on day 1


def test_lost_margin_is_the_estimated_demand_above_sales_at_its_margin():
    dates = pd.date_range("2026-01-05", periods=29, freq="D")
    sales = np.full(29, 10.0)
    stockout = np.zeros(29, int)
    stockout[-1] = 1
    frame = pd.DataFrame({"unique_id": "S1/A", "store_id": "S1", "item_id": "A", "ds": dates, "y": sales,
                          "ordered": 10.0, "stockout": stockout, "price": 100.0})
    data = BacktestData(frame=frame, freq=Freq.DAILY, name="one", keys=("store_id", "item_id"), orders="ordered",
                        stockout="stockout")
    out = store_day_outcomes(data, ITEMS, Economics(), "store_id")
    # Four past same weekdays sold 10 with no spread: sigma = sqrt(10) (Poisson's), and demand
    # above 10 is 10 + sqrt(10) x pdf(0) / sf(0); each unit loses ¥100 - ¥60.
    lifted = 10 + np.sqrt(10) * stats.norm.pdf(0) / stats.norm.sf(0)
    assert out["lost_margin"].iloc[-1] == pytest.approx((lifted - 10) * 40)
    assert out["lost_margin"].iloc[:-1].sum() == 0
    assert out["profit"].iloc[0] == 10 * 100 - 10 * 60


def test_stores_are_summed_separately_and_missing_days_are_not_invented():
    data = two_items()
    other = data.frame[data.frame["item_id"] == "A"].iloc[:3].assign(store_id="S2", unique_id="S2/A")
    frame = pd.concat([data.frame, other], ignore_index=True)
    data = BacktestData(frame=frame, freq=Freq.DAILY, name="two stores", keys=("store_id", "item_id"),
                        orders="ordered", stockout="stockout")
    out = store_day_outcomes(data, ITEMS, Economics(), "store_id")
    assert out.groupby(STORE).size().to_dict() == {"S1": 5, "S2": 3}
    s2 = out[out[STORE] == "S2"]
    assert s2["profit"].tolist() == [200.0, 0.0, 100.0]
    assert out.loc[out[STORE] == "S1", "profit"].tolist() == [0.0, 200.0, 100.0, 300.0, 0.0]


def test_without_stockout_flags_lost_margin_and_stockout_days_are_unknown():
    data = two_items()
    data = BacktestData(frame=data.frame.drop(columns="stockout"), freq=Freq.DAILY, name="x",
                        keys=data.keys, orders="ordered")
    out = store_day_outcomes(data, ITEMS, Economics(), "store_id")
    assert out["lost_margin"].isna().all() and out["stockout_days"].isna().all()
    assert out["profit"].sum() == 600.0


def test_refusals_say_what_to_give():
    with pytest.raises(ImpactInputError, match="does not record what was ordered"):
        store_day_outcomes(two_items(orders=False), ITEMS, Economics(), "store_id")
    with pytest.raises(ImpactInputError, match="no column 'shop'"):
        store_day_outcomes(two_items(), ITEMS, Economics(), "shop")
    with pytest.raises(ImpactInputError, match="unit cost"):
        store_day_outcomes(two_items(), None, Economics(), "store_id")


def test_two_rows_of_a_series_on_one_date_are_refused():
    data = two_items()
    frame = pd.concat([data.frame, data.frame.iloc[[0]]], ignore_index=True)
    data = BacktestData(frame=frame, freq=Freq.DAILY, name="x", keys=data.keys, orders="ordered",
                        stockout="stockout")
    with pytest.raises(ImpactInputError, match="two rows on the same date"):
        store_day_outcomes(data, ITEMS, Economics(), "store_id")
