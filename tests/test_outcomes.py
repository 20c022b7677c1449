"""Store-day outcomes in yen against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.backtest.engine import BacktestData
from core.columns import Freq
from core.money.impact import Economics, ImpactInputError
from core.money.outcomes import SERIES_BALANCE, STORE, balanced_series, store_day_outcomes

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


def staggered() -> BacktestData:
    """Three stores over the five days of ``two_items``: S1 sells A throughout and B on days
    1-3 only (B ended); S2 sells A from day 3 (A appeared) and B throughout; S3 sells A
    throughout and B on day 1 only."""
    base = two_items().frame
    spans = {("S1", "A"): (1, 5), ("S1", "B"): (1, 3), ("S2", "A"): (3, 5), ("S2", "B"): (1, 5),
             ("S3", "A"): (1, 5), ("S3", "B"): (1, 1)}
    parts = []
    for (store, item), (first, last) in spans.items():
        rows = base[base["item_id"] == item].iloc[first - 1:last]
        parts.append(rows.assign(store_id=store, unique_id=f"{store}/{item}"))
    return BacktestData(frame=pd.concat(parts, ignore_index=True), freq=Freq.DAILY, name="staggered",
                        keys=("store_id", "item_id"), orders="ordered", stockout="stockout")


def test_a_balanced_read_sums_each_store_over_the_series_present_throughout():
    data = staggered()
    balance = balanced_series(data, "store_id", "2026-03-03", "2026-03-06")
    assert balance.kept == ("S1/A", "S2/B", "S3/A")
    assert balance.left_out == ("S1/B", "S2/A")
    assert balance.per_store.to_dict("records") == [
        {"store": "S1", "series": 2, "kept": 1, "appeared": 0, "ended": 1, "outside": 0},
        {"store": "S2", "series": 2, "kept": 1, "appeared": 1, "ended": 0, "outside": 0},
        {"store": "S3", "series": 2, "kept": 1, "appeared": 0, "ended": 0, "outside": 1}]
    assert str(balance.note()) == (
        "Each store is read on the series sold throughout 2026-03-03 to 2026-03-06, so the same series are summed "
        "before and during the pilot: 3 of 6 series. Left out, because they appeared or ended in that window: "
        "S1 1 (1 ended); S2 1 (1 appeared). 1 more series had no row in it.")
    assert balance.note(["S3"]) is None

    out = store_day_outcomes(data, ITEMS, Economics(), "store_id", start="2026-03-03", end="2026-03-06",
                             balanced=True)
    profit = out.pivot(index="ds", columns=STORE, values="profit")
    # A's profit on days 2-5 is 0, 100, 100, 200 (see the hand case above); B's 200, 0, 200, -200.
    assert profit["S1"].tolist() == [0.0, 100.0, 100.0, 200.0]  # A alone: B's rows until day 3 are not summed
    assert profit["S2"].tolist() == [200.0, 0.0, 200.0, -200.0]  # B alone: A appearing on day 3 is not summed
    assert profit["S3"].tolist() == [0.0, 100.0, 100.0, 200.0]
    assert out.attrs[SERIES_BALANCE].left_out == ("S1/B", "S2/A")
    # Unbalanced, S1's day 2 counts B's ¥200 too, and S2 starts counting A on day 3.
    unbalanced = store_day_outcomes(data, ITEMS, Economics(), "store_id", start="2026-03-03", end="2026-03-06")
    assert unbalanced.pivot(index="ds", columns=STORE, values="profit")["S1"].tolist() == [200.0, 100.0, 100.0, 200.0]
    assert SERIES_BALANCE not in unbalanced.attrs


def test_outcomes_can_be_restricted_to_given_series():
    out = store_day_outcomes(staggered(), ITEMS, Economics(), "store_id", series=["S1/A", "S2/B"])
    assert out.groupby(STORE)["profit"].apply(list).to_dict() == {
        "S1": [200.0, 0.0, 100.0, 100.0, 200.0], "S2": [-200.0, 200.0, 0.0, 200.0, -200.0]}
    with pytest.raises(ImpactInputError, match="None of the series asked for"):
        store_day_outcomes(staggered(), ITEMS, Economics(), "store_id", series=["S9/A"])
    with pytest.raises(ImpactInputError, match="ends .* before it starts"):
        balanced_series(staggered(), "store_id", "2026-03-05", "2026-03-03")
