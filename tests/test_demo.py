"""The AI Shop demo chain: shape, determinism, the patterns it must show, the practice."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import pytest

from core.columns import Freq, Role
from core.data.demo import (
    CATEGORY_NAMES,
    LOOKBACK_WEEKS,
    MIN_DISPLAY,
    PERISHABLE_MAX_DAYS,
    REFERENCE_END_DATE,
    DemoChain,
    DemoConfig,
    demo_spec,
    generate_chain,
    load_demo,
    main,
)
from core.errors import MitoshiError
from core.warehouse import Warehouse

SALES_COLUMNS = [
    "store_id", "item_id", "region", "category", "ds", "y",
    "price", "promo", "holiday", "stockout", "ordered",
]
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Pinned: by default a chain ends yesterday, and these tests read its calendar.
SMALL = DemoConfig(stores=3, items=20, years=2, end_date=REFERENCE_END_DATE)
# Big enough that category-level patterns stand out of the noise, still well under a second.
MEDIUM = DemoConfig(stores=6, items=60, years=2, end_date=REFERENCE_END_DATE)


@pytest.fixture(scope="module")
def small() -> DemoChain:
    return generate_chain(SMALL)


@pytest.fixture(scope="module")
def medium() -> DemoChain:
    return generate_chain(MEDIUM)


@pytest.fixture(scope="module")
def uncensored() -> DemoChain:
    """The medium chain ordered so generously that sales almost never hit the stock."""
    return generate_chain(DemoConfig(stores=6, items=60, years=2, buffer=5.0, end_date=REFERENCE_END_DATE))


def established(chain: DemoChain, config: DemoConfig) -> pd.DataFrame:
    """Sales of items on sale for the whole history (no launch or discontinuation inside)."""
    items = chain.items
    whole = (items["launch_date"] < pd.Timestamp(config.start_date)) & items["discontinue_date"].isna()
    return chain.sales[chain.sales["item_id"].isin(items["item_id"][whole])]


def with_location(chain: DemoChain) -> pd.DataFrame:
    return chain.sales.merge(chain.stores[["store_id", "location"]], on="store_id")


def per_day(sales: pd.DataFrame) -> pd.DataFrame:
    """Units a day summed over the given rows, with the day's holiday flag."""
    return sales.groupby("ds").agg(y=("y", "sum"), holiday=("holiday", "max"))


def period_lift(sales: pd.DataFrame, in_period) -> float:
    """Mean units a day in the period over the same weekdays 2-4 weeks before it."""
    daily = per_day(sales)
    days = daily.index[in_period(daily.index)]
    before = pd.DatetimeIndex([d - pd.Timedelta(weeks=k) for d in days for k in (2, 3, 4)])
    before = before[before.isin(daily.index)]
    before = before[~in_period(before) & (daily.loc[before, "holiday"].to_numpy() == 0)]
    return daily.loc[days, "y"].mean() / daily.loc[before, "y"].mean()


def days_of(month: int, first: int, last: int):
    return lambda ds: (ds.month == month) & (ds.day >= first) & (ds.day <= last)


GOLDEN_WEEK = lambda ds: days_of(4, 29, 30)(ds) | days_of(5, 1, 5)(ds)  # noqa: E731
OBON = days_of(8, 13, 16)
YEAR_END = days_of(12, 28, 31)
NEW_YEAR = days_of(1, 1, 3)


# ---------------------------------------------------------------------------------
# Shape
# ---------------------------------------------------------------------------------
def test_sales_columns_and_types(small: DemoChain) -> None:
    sales = small.sales
    assert list(sales.columns) == SALES_COLUMNS
    for column in ("store_id", "item_id", "region", "category"):
        assert isinstance(sales[column].dtype, pd.CategoricalDtype), column
    assert pd.api.types.is_datetime64_dtype(sales["ds"])
    assert (sales["ds"] == sales["ds"].dt.normalize()).all()
    for column in ("y", "price", "ordered"):
        assert sales[column].dtype == np.float64, column
    for column in ("promo", "holiday", "stockout"):
        assert sales[column].dtype == np.int8, column
        assert set(sales[column].unique()) <= {0, 1}
    assert (sales["y"] >= 0).all() and (sales["ordered"] >= 0).all() and (sales["price"] > 0).all()


def test_rows_are_unique_and_sorted_by_series_then_date(small: DemoChain) -> None:
    keys = small.sales[["store_id", "item_id", "ds"]].astype({"store_id": str, "item_id": str})
    assert not keys.duplicated().any()
    pd.testing.assert_frame_equal(keys, keys.sort_values(["store_id", "item_id", "ds"]))


def test_dates_span_years_times_365_days_ending_on_end_date(small: DemoChain) -> None:
    assert small.sales["ds"].max() == pd.Timestamp(SMALL.end_date)
    assert small.sales["ds"].min() == pd.Timestamp(SMALL.end_date - timedelta(days=2 * 365 - 1))
    assert small.sales["ds"].nunique() == 2 * 365


@pytest.mark.parametrize("stores,items", [(1, 1), (2, 7), (5, 30)])
def test_series_are_stores_times_items(stores: int, items: int) -> None:
    chain = generate_chain(DemoConfig(stores=stores, items=items, years=1))
    assert len(chain.stores) == stores and len(chain.items) == items
    assert chain.sales.groupby(["store_id", "item_id"], observed=True).ngroups == stores * items


def test_attributes_are_constant_within_a_series(small: DemoChain) -> None:
    per_series = small.sales.groupby(["store_id", "item_id"], observed=True)[["region", "category"]].nunique()
    assert (per_series == 1).all().all()
    merged = small.sales.merge(small.items[["item_id", "category"]], on="item_id", suffixes=("", "_master"))
    assert (merged["category"].astype(str) == merged["category_master"].astype(str)).all()


def test_item_master(medium: DemoChain) -> None:
    items = medium.items
    assert list(items.columns) == [
        "item_id", "item_name", "category", "unit_price", "unit_cost",
        "shelf_life_days", "launch_date", "discontinue_date",
    ]
    assert items["item_id"].iloc[0] == "I0001" and items["item_id"].is_unique
    assert set(items["category"].astype(str)) == set(CATEGORY_NAMES)
    assert items["item_name"].is_unique  # a number is added once a category runs out of names
    assert items["item_name"].str.contains(r"[\u3040-\u30ff\u4e00-\u9fff]").all()  # Japanese
    share = items["unit_cost"] / items["unit_price"]
    assert share.between(0.595, 0.755).all()
    shelf = dict(zip(items["category"].astype(str), items["shelf_life_days"], strict=True))
    assert shelf == {"bento": 1, "bread": 2, "dairy": 3, "hot_food": 1, "grocery": 180,
                     "beverages": 365, "daily_goods": 730}


def test_store_master(medium: DemoChain) -> None:
    stores = medium.stores
    assert {"store_id", "store_name", "region", "size"} <= set(stores.columns)
    assert stores["store_id"].tolist() == [f"S{i:03d}" for i in range(1, 7)]
    assert stores["store_name"].str.endswith("店").all() and stores["store_name"].is_unique
    assert stores["size"].between(0.5, 1.5).all()
    assert set(stores["location"]) == {"office", "residential"}
    region = medium.sales.groupby("store_id", observed=True)["region"].first().astype(str)
    assert region.to_dict() == dict(zip(stores["store_id"], stores["region"].astype(str), strict=True))


def test_many_stores_get_numbered_names() -> None:
    stores = generate_chain(DemoConfig(stores=45, items=1, years=1)).stores
    assert stores["store_name"].is_unique
    assert stores["store_name"].str.contains("2号店").any()


# ---------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------
def test_same_config_gives_identical_frames(small: DemoChain) -> None:
    again = generate_chain(SMALL)
    pd.testing.assert_frame_equal(small.sales, again.sales)
    pd.testing.assert_frame_equal(small.items, again.items)
    pd.testing.assert_frame_equal(small.stores, again.stores)


def test_different_seed_gives_different_data(small: DemoChain) -> None:
    other = generate_chain(DemoConfig(stores=3, items=20, years=2, seed=7, end_date=REFERENCE_END_DATE))
    assert not small.items.equals(other.items)
    common = min(len(small.sales), len(other.sales))
    assert not np.array_equal(small.sales["y"].to_numpy()[:common], other.sales["y"].to_numpy()[:common])


# ---------------------------------------------------------------------------------
# Seasonality, holidays and peaks
# ---------------------------------------------------------------------------------
def weekend_ratio(sales: pd.DataFrame) -> float:
    ordinary = sales[sales["holiday"] == 0]
    weekend = ordinary["ds"].dt.day_of_week >= 5
    return ordinary.loc[weekend, "y"].mean() / ordinary.loc[~weekend, "y"].mean()


def test_weekly_seasonality_by_category_and_location(medium: DemoChain) -> None:
    sales = with_location(medium)
    office, category = sales["location"] == "office", sales["category"]
    assert weekend_ratio(sales[office & category.isin(["bento", "hot_food"])]) < 0.7
    assert weekend_ratio(sales[~office & category.isin(["bento", "hot_food"])]) > 1.0
    for name in ("beverages", "daily_goods"):
        assert weekend_ratio(sales[category == name]) > 1.1, name


def test_yearly_seasonality(medium: DemoChain) -> None:
    sales = established(medium, MEDIUM)
    month = sales["ds"].dt.month
    summer, winter = month.isin([7, 8]), month.isin([1, 2])
    seasons = [sales["category"].astype(str), summer.rename("summer"), winter.rename("winter")]
    by_season = sales.groupby(seasons)["y"].mean()

    def summer_over_winter(name: str) -> float:
        return by_season[(name, True, False)] / by_season[(name, False, True)]

    assert summer_over_winter("beverages") > 1.5
    assert summer_over_winter("hot_food") < 0.5
    assert summer_over_winter("bento") < 0.9


def test_holiday_flag_is_the_japanese_calendar(small: DemoChain) -> None:
    flags = small.sales.groupby("ds")["holiday"].agg(["min", "max"])
    assert (flags["min"] == flags["max"]).all()  # a date is a holiday in every store
    japan = holidays.Japan(years=[2024, 2025, 2026])
    expected = pd.Series([int(d.date() in japan) for d in flags.index], index=flags.index)
    assert (flags["max"] == expected).all()
    assert flags.loc["2025-01-01", "max"] == 1 and flags.loc["2025-05-05", "max"] == 1
    assert flags.loc["2025-01-02", "max"] == 0 and flags.loc["2025-08-14", "max"] == 0


def test_offices_buy_less_lunch_on_weekday_holidays(medium: DemoChain) -> None:
    sales = with_location(medium)
    lunch = sales[(sales["location"] == "office") & (sales["category"] == "bento")]
    weekday = lunch["ds"].dt.day_of_week < 5
    holiday = lunch[weekday & (lunch["holiday"] == 1)]["y"].mean()
    assert holiday < 0.75 * lunch[weekday & (lunch["holiday"] == 0)]["y"].mean()


def test_seasonal_peaks_by_category(medium: DemoChain) -> None:
    sales = with_location(medium)
    category, office = sales["category"], sales["location"] == "office"
    assert period_lift(sales[category == "beverages"], GOLDEN_WEEK) > 1.15
    assert period_lift(sales[office & (category == "bento")], GOLDEN_WEEK) < 0.75
    assert period_lift(sales[office & (category == "bento")], OBON) < 0.8
    assert period_lift(sales[category == "beverages"], OBON) > 1.05
    assert period_lift(sales[category == "grocery"], YEAR_END) > 1.15
    assert period_lift(sales[category == "daily_goods"], YEAR_END) > 1.15
    assert period_lift(sales[category == "bread"], NEW_YEAR) < 0.8
    assert period_lift(sales[~office & (category == "hot_food")], NEW_YEAR) > 1.1


def test_peaks_are_flattened_by_stockouts(medium: DemoChain, uncensored: DemoChain) -> None:
    """Last week's sales + 20 % cannot follow a year-end rush: sales understate it."""
    grocery = [c.sales[c.sales["category"] == "grocery"] for c in (medium, uncensored)]
    censored_lift, demand_lift = (period_lift(g, YEAR_END) for g in grocery)
    assert demand_lift > censored_lift + 0.2
    assert grocery[0].loc[YEAR_END(grocery[0]["ds"].dt), "stockout"].mean() > grocery[0]["stockout"].mean()


# ---------------------------------------------------------------------------------
# Prices and promotions
# ---------------------------------------------------------------------------------
def item_days(chain: DemoChain) -> pd.DataFrame:
    """Price and promotion per item and date (the same in every store)."""
    per_store = chain.sales.groupby(["item_id", "ds"], observed=True)[["price", "promo"]].agg(["min", "max"])
    assert (per_store.xs("min", axis=1, level=1) == per_store.xs("max", axis=1, level=1)).all().all()
    return per_store.xs("min", axis=1, level=1).reset_index()


def regular_price(days: pd.DataFrame) -> pd.Series:
    """The shelf price without promotion on each item-day, filled in over promotions."""
    regular = days["price"].where(days["promo"] == 0)
    return regular.groupby(days["item_id"], observed=True).transform(lambda p: p.ffill().bfill())


def promo_runs(days: pd.DataFrame) -> pd.DataFrame:
    """Each item's runs of consecutive promotion days, with whether they touch an end."""
    days = days.sort_values(["item_id", "ds"])
    item = days["item_id"].astype(str)
    start = (days["promo"] == 1) & ((days["promo"].shift() != 1) | (item != item.shift()))
    run = start.cumsum().where(days["promo"] == 1)
    edges = (item != item.shift()) | (item != item.shift(-1))
    runs = days.assign(run=run, edge=edges).dropna(subset=["run"]).groupby("run")
    return pd.DataFrame({"length": runs.size(), "at_edge": runs["edge"].any()})


def test_promotions_are_runs_of_3_to_7_days_on_a_few_percent_of_days(medium: DemoChain) -> None:
    days = item_days(medium)
    assert 0.02 < days["promo"].mean() < 0.07
    runs = promo_runs(days)
    inner = runs[~runs["at_edge"]]
    assert len(inner) > 50
    assert inner["length"].between(3, 7).all()
    assert set(inner["length"]) == {3, 4, 5, 6, 7}


def test_promotions_cut_the_price_by_10_to_30_percent(medium: DemoChain) -> None:
    days = item_days(medium)
    cut = 1 - days["price"] / regular_price(days)
    promo = days["promo"] == 1
    assert cut[promo].between(0.09, 0.31).all()
    assert (cut[~promo] == 0).all()
    assert cut[promo].min() < 0.13 and cut[promo].max() > 0.27


def test_promotions_lift_demand_by_price_elasticity(uncensored: DemoChain) -> None:
    sales = uncensored.sales
    mean = sales.groupby(["store_id", "item_id"], observed=True)["y"].transform("mean")
    relative = sales["y"] / mean.where(mean > 1)
    lift = relative[sales["promo"] == 1].mean() / relative[sales["promo"] == 0].mean()
    # 10-30 % off at elasticity -1.5 to -3: between 1.17 and 2.9 times the demand.
    assert 1.3 < lift < 2.5


def test_promotions_under_todays_practice_sell_out(medium: DemoChain) -> None:
    """Orders ignore the promotion calendar, so promotions sell more but run out more."""
    sales = medium.sales
    promo = sales["promo"] == 1
    assert sales.loc[promo, "y"].mean() > 1.05 * sales.loc[~promo, "y"].mean()
    assert sales.loc[promo, "stockout"].mean() > sales.loc[~promo, "stockout"].mean() + 0.1


def test_some_items_get_a_permanent_5_to_10_percent_price_rise(medium: DemoChain) -> None:
    days = item_days(medium)
    days["regular"] = regular_price(days)
    by_item = days.sort_values("ds").groupby("item_id", observed=True)["regular"]
    first_last = by_item.agg(["first", "last", "nunique"])
    assert (first_last["nunique"] <= 2).all()
    risen = first_last[first_last["nunique"] == 2]
    assert len(risen) == round(0.2 * MEDIUM.items)
    assert ((risen["last"] / risen["first"] - 1).between(0.045, 0.105)).all()
    master = medium.items.set_index("item_id")["unit_price"]
    assert (master.loc[first_last.index] == first_last["last"]).all()  # unit_price = today's shelf price


# ---------------------------------------------------------------------------------
# Demand shape, slow movers, item life
# ---------------------------------------------------------------------------------
def test_demand_is_overdispersed(uncensored: DemoChain) -> None:
    """Within a series, month and weekday the mean is nearly constant; Poisson would give var ~ mean."""
    sales = uncensored.sales[(uncensored.sales["promo"] == 0) & (uncensored.sales["holiday"] == 0)]
    cells = sales.groupby(
        ["store_id", "item_id", sales["ds"].dt.to_period("M"), sales["ds"].dt.day_of_week], observed=True
    )["y"].agg(["mean", "var", "size"])
    cells = cells[(cells["size"] >= 4) & (cells["mean"] >= 3)]
    assert cells["var"].sum() / cells["mean"].sum() > 1.5


def test_series_levels_vary_lognormally(medium: DemoChain) -> None:
    level = established(medium, MEDIUM).groupby(["store_id", "item_id"], observed=True)["y"].mean()
    busy = level[level > 0.5]
    assert np.log(busy).std() > 0.5  # store size x item popularity spreads levels widely
    store = busy.groupby(level="store_id", observed=True).mean()
    assert store.max() / store.min() > 1.2


def test_about_15_percent_of_items_are_intermittent_slow_movers(medium: DemoChain) -> None:
    stats = medium.sales.groupby(["store_id", "item_id"], observed=True)["y"].agg(
        mean="mean", zeros=lambda y: (y == 0).mean()
    )
    slow = stats["mean"] < 0.5
    assert 0.10 <= slow.mean() <= 0.25
    assert stats.loc[slow, "zeros"].median() > 0.6


def test_new_items_have_no_rows_before_launch(medium: DemoChain) -> None:
    start, end = pd.Timestamp(MEDIUM.start_date), pd.Timestamp(MEDIUM.end_date)
    items = medium.items.set_index("item_id")
    new = items[items["launch_date"] >= start]
    assert len(new) == round(0.10 * MEDIUM.items)
    assert (new["launch_date"] >= end - pd.Timedelta(days=365)).all()
    assert (new["launch_date"] <= end - pd.Timedelta(days=120)).all()
    span = medium.sales.groupby(["item_id", "store_id"], observed=True)["ds"].agg(["min", "max", "size"])
    first = span["min"].groupby(level="item_id", observed=True).agg(["min", "max"])
    assert (first.loc[new.index, "min"] == new["launch_date"]).all()
    assert (first.loc[new.index, "max"] == new["launch_date"]).all()  # in every store the same day
    old = items.index.difference(new.index)
    assert (first.loc[old, "min"] == start).all()
    assert (span["size"] == (span["max"] - span["min"]).dt.days + 1).all()  # no gaps


def test_discontinued_items_have_no_rows_after_discontinuation(medium: DemoChain) -> None:
    start, end = pd.Timestamp(MEDIUM.start_date), pd.Timestamp(MEDIUM.end_date)
    items = medium.items.set_index("item_id")
    gone = items[items["discontinue_date"].notna()]
    assert len(gone) == round(0.05 * MEDIUM.items)
    span = medium.sales.groupby("item_id", observed=True)["ds"].agg(["min", "max"])
    assert (span.loc[gone.index, "max"] == gone["discontinue_date"] - pd.Timedelta(days=1)).all()
    assert ((span.loc[gone.index, "max"] - span.loc[gone.index, "min"]).dt.days + 1 >= 120).all()
    assert (span.loc[items.index.difference(gone.index), "max"] == end).all()
    assert (gone["launch_date"] < start).all()  # launched and discontinued items are distinct


# ---------------------------------------------------------------------------------
# Today's ordering practice
# ---------------------------------------------------------------------------------
def replay_practice(series: pd.DataFrame, shelf_life: int, buffer: float) -> None:
    """Re-run the ordering practice on one series' own sales and orders, and check them.

    An independent, plain-Python statement of the rule: stock by age, sold oldest first,
    perishables thrown away at their shelf life; the order tops the shelf up to the best
    sales of the same weekday over the last LOOKBACK_WEEKS weeks + buffer (rounded up, at least MIN_DISPLAY); sales are capped
    by the stock and flagged as a stockout only when they hit it.
    """
    y = series["y"].to_numpy()
    ordered = series["ordered"].to_numpy()
    stockout = series["stockout"].to_numpy()
    ages: list[float] = []  # units on hand, oldest first
    for d in range(len(series)):
        carried = sum(ages)
        if d >= 7:
            best = max(y[d - 7 * k] for k in range(1, LOOKBACK_WEEKS + 1) if d >= 7 * k)
            target = max(np.ceil(best * (1 + buffer)), MIN_DISPLAY)
            assert ordered[d] == max(0.0, target - carried), f"day {d}"
        available = carried + ordered[d]
        assert y[d] <= available
        if stockout[d]:
            assert y[d] == available, f"day {d}"
        ages.append(ordered[d])
        to_sell = y[d]
        for i, units in enumerate(ages):  # oldest first
            taken = min(units, to_sell)
            ages[i], to_sell = units - taken, to_sell - taken
        if shelf_life <= PERISHABLE_MAX_DAYS:
            ages = ages[-(shelf_life - 1):] if shelf_life > 1 else []  # what reaches its shelf life goes
        else:
            ages = [sum(ages)]


def test_orders_follow_todays_practice(small: DemoChain) -> None:
    shelf = small.items.set_index("item_id")["shelf_life_days"]
    checked = set()
    for (store, item), series in small.sales.groupby(["store_id", "item_id"], observed=True):
        replay_practice(series, int(shelf[item]), SMALL.buffer)
        checked.add(int(shelf[item]))
    assert checked == {1, 2, 3, 180, 365, 730}


def test_replay_catches_a_wrong_order(small: DemoChain) -> None:
    """The replay above can fail: a single changed order breaks it."""
    series = small.sales[(small.sales["store_id"] == "S001") & (small.sales["item_id"] == "I0002")].copy()
    series.iloc[100, series.columns.get_loc("ordered")] += 1
    with pytest.raises(AssertionError):
        replay_practice(series, 365, SMALL.buffer)


def test_stockouts_censor_sales(medium: DemoChain, uncensored: DemoChain) -> None:
    sales = medium.sales
    assert 0.05 < sales["stockout"].mean() < 0.3
    # One-day items: with nothing carried over, a stockout sells exactly what was delivered.
    one_day = sales[sales["category"].isin(["bento", "hot_food"]) & (sales["stockout"] == 1)]
    assert (one_day["y"] == one_day["ordered"]).all()
    # Same demand, generous orders: fewer stockouts and more sold.
    assert uncensored.sales["stockout"].mean() < 0.02
    assert uncensored.sales["y"].sum() > 1.1 * sales["y"].sum()


def test_perishables_are_thrown_away_and_shelf_stable_stock_is_not(medium: DemoChain) -> None:
    sales = medium.sales
    totals = sales.groupby(sales["category"].astype(str))[["y", "ordered"]].sum()
    waste = 1 - totals["y"] / totals["ordered"]
    assert (waste[["bento", "hot_food", "bread", "dairy"]] > 0.03).all()
    assert (waste[["bento", "hot_food"]] > 0.1).all()  # one day on the shelf: the most waste
    # Shelf-stable stock is sold in the end: over two years orders and sales nearly match.
    assert (waste[["grocery", "beverages", "daily_goods"]].abs() < 0.05).all()


# ---------------------------------------------------------------------------------
# Warehouse and command line
# ---------------------------------------------------------------------------------
def test_demo_spec_roles() -> None:
    spec = demo_spec(SMALL)
    assert spec.keys == ("store_id", "item_id")
    assert spec.attributes == ("region", "category")
    assert spec.exog_known == ("price", "promo", "holiday")
    assert spec.stockout == "stockout" and spec.orders == "ordered"
    assert spec.freq is Freq.DAILY
    assert str(spec.source) == "generated: AI Shop demo (seed=42, 3 stores x 20 items x 2 years)"  # a message
    assert "ordering" in str(spec.description) and "10%" in str(spec.description)


def test_load_demo_registers_the_dataset() -> None:
    warehouse = Warehouse(":memory:")
    try:
        dataset = load_demo(warehouse, SMALL)
        assert dataset.name == SMALL.name
        assert dataset.n_series == SMALL.stores * SMALL.items
        assert dataset.n_rows == len(generate_chain(SMALL).sales)
        assert dataset.start_date == SMALL.start_date and dataset.end_date == SMALL.end_date
        assert set(dataset.side_tables) == {"items", "stores"}
        assert len(warehouse.side_table(dataset, "items")) == SMALL.items
        assert len(warehouse.side_table(dataset, "stores")) == SMALL.stores
        roles = dict(dataset.spec.roles())
        assert roles["store_id"] is Role.KEY and roles["item_id"] is Role.KEY
        assert roles["region"] is Role.ATTRIBUTE and roles["category"] is Role.ATTRIBUTE
        assert {c for c, r in roles.items() if r is Role.EXOG_KNOWN} == {"price", "promo", "holiday"}
        assert roles["stockout"] is Role.STOCKOUT and roles["ordered"] is Role.ORDERS
        assert any("stockout" in str(note) for note in dataset.notes)  # messages, rendered
        stored = warehouse.query(f"SELECT unique_id, ds FROM {dataset.table_name}")  # storage order
        assert stored["unique_id"].iloc[0] == "S001/I0001"
        # load_demo skips the sort (presorted): the rows must really be in (series, date) order.
        pd.testing.assert_frame_equal(stored, stored.sort_values(["unique_id", "ds"]).reset_index(drop=True))
    finally:
        warehouse.close()


def test_invalid_config_is_refused() -> None:
    bad_configs = (DemoConfig(stores=0), DemoConfig(items=10_000), DemoConfig(years=0), DemoConfig(buffer=-0.1))
    for bad in bad_configs:
        with pytest.raises(MitoshiError):
            generate_chain(bad)


def test_command_line_loads_and_reports(tmp_path, capsys) -> None:
    path = str(tmp_path / "w.duckdb")
    args = ["--stores", "2", "--items", "5", "--years", "1", "--seed", "3", "--warehouse", path]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "10 series" in out and "rows" in out
    # The same name again: a one-line error, non-zero exit.
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "already has a dataset" in err and "\n" not in err
    assert main(["--stores", "0", "--warehouse", path]) == 1
    with pytest.raises(SystemExit):
        main(["--stores", "many"])


def test_core_demo_does_not_import_streamlit() -> None:
    code = "import sys, core.data.demo; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT).returncode == 0


def test_defaults_match_the_brief() -> None:
    config = DemoConfig()
    assert (config.stores, config.items, config.years, config.seed) == (10, 50, 3, 42)
    assert config.buffer == 0.1


def test_by_default_the_chain_ends_yesterday() -> None:
    """Generated today, the default chain's last day of sales is yesterday, so the first
    day forecast from it is today: published forecasts are for the days ahead."""
    today = date.today()
    config = DemoConfig(stores=1, items=2, years=1)
    assert config.end_date == today - timedelta(days=1)
    assert config.start_date == today - timedelta(days=365)
    sales = generate_chain(config).sales
    assert sales["ds"].max() == pd.Timestamp(today - timedelta(days=1))
    assert sales["ds"].nunique() == 365


def test_another_end_date_shifts_the_same_chain_but_follows_its_calendar() -> None:
    """Same seed, end date 100 days later: the same stores, items, prices and promotion
    runs at the same positions of the history, the dates shifted by 100 days; the
    holiday flags follow the new dates, and so some sales differ."""
    later = DemoConfig(stores=3, items=20, years=2, end_date=REFERENCE_END_DATE + timedelta(days=100))
    a, b = generate_chain(SMALL), generate_chain(later)
    pd.testing.assert_frame_equal(a.stores, b.stores)
    shift = pd.Timedelta(days=100)
    pd.testing.assert_frame_equal(a.items.assign(launch_date=a.items["launch_date"] + shift,
                                                 discontinue_date=a.items["discontinue_date"] + shift), b.items)
    assert len(a.sales) == len(b.sales)
    assert ((a.sales["ds"] + shift).to_numpy() == b.sales["ds"].to_numpy()).all()
    for column in ("store_id", "item_id", "price", "promo"):
        pd.testing.assert_series_equal(a.sales[column], b.sales[column])
    japan = holidays.Japan(years=range(2024, 2028))
    assert b.sales.groupby("ds")["holiday"].max().to_dict() == {
        d: int(d.date() in japan) for d in b.sales["ds"].unique()}
    assert (a.sales["holiday"].to_numpy() != b.sales["holiday"].to_numpy()).any()
    assert (a.sales["y"].to_numpy() != b.sales["y"].to_numpy()).any()


def test_the_same_config_with_its_end_date_gives_the_same_frames() -> None:
    config = DemoConfig(stores=2, items=7, years=1, end_date=date(2025, 3, 31))
    a, b = generate_chain(config), generate_chain(config)
    pd.testing.assert_frame_equal(a.sales, b.sales)
    assert a.sales["ds"].max() == pd.Timestamp("2025-03-31")


def test_command_line_takes_an_end_date(tmp_path, capsys) -> None:
    path = str(tmp_path / "w.duckdb")
    assert main(["--stores", "1", "--items", "5", "--years", "1", "--end-date", "2025-06-30",
                 "--warehouse", path]) == 0
    assert "2024-07-01 to 2025-06-30" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--end-date", "30/06/2025", "--warehouse", path])
    assert "is not a date; write it as YYYY-MM-DD" in capsys.readouterr().err


def test_an_end_date_that_is_not_a_date_is_refused() -> None:
    with pytest.raises(MitoshiError, match="end date must be a date"):
        generate_chain(DemoConfig(stores=1, items=1, years=1, end_date="2026-10-31"))


# ---------------------------------------------------------------------------------
# Continuing the chain (issue 13): the days after the history, in the same world
# ---------------------------------------------------------------------------------
from core.data.demo import (  # noqa: E402  (this block's own imports, kept with it)
    MAX_EXTEND_DAYS,
    NotGeneratedError,
    continue_chain,
    extend_demo,
    simulate_continuation,
)

# 3 stores x 6 items x 1 year: I0001 bento (keeps 1 day), I0002 beverages (never expires).
TINY = DemoConfig(stores=3, items=6, years=1, end_date=REFERENCE_END_DATE)
NEXT_DAY = REFERENCE_END_DATE + timedelta(days=1)


@pytest.fixture
def tiny_warehouse():
    warehouse = Warehouse(":memory:")
    dataset = load_demo(warehouse, TINY)
    yield warehouse, dataset
    warehouse.close()


def stored(warehouse: Warehouse, dataset_id: str) -> pd.DataFrame:
    """Every stored row of the dataset, by series then date."""
    table = warehouse.get_dataset(dataset_id).table_name
    return warehouse.query(f"SELECT * FROM {table} ORDER BY unique_id, ds")


def one_series(sales: pd.DataFrame, store: str, item: str) -> pd.DataFrame:
    rows = sales[(sales["store_id"].astype(str) == store) & (sales["item_id"].astype(str) == item)]
    return rows.sort_values("ds").reset_index(drop=True)


def test_the_generators_settings_are_stored_with_the_dataset(tiny_warehouse) -> None:
    warehouse, dataset = tiny_warehouse
    assert dataset.generator == {"generator": "core.data.demo", "format": 1, "stores": 3, "items": 6, "years": 1,
                                 "seed": 42, "end_date": "2026-10-31", "name": "AI Shop demo chain", "buffer": 0.1}
    assert DemoConfig.from_generator(dataset.generator) == TINY
    with pytest.raises(MitoshiError, match="format 2"):
        DemoConfig.from_generator({**dataset.generator, "format": 2})
    with pytest.raises(MitoshiError, match="incomplete or damaged"):
        DemoConfig.from_generator({k: v for k, v in dataset.generator.items() if k != "seed"})


def test_a_continuation_leaves_the_history_byte_identical(tiny_warehouse) -> None:
    warehouse, dataset = tiny_warehouse
    before = stored(warehouse, dataset.dataset_id)
    appended = extend_demo(warehouse, dataset.dataset_id, 10)
    after = stored(warehouse, dataset.dataset_id)
    pd.testing.assert_frame_equal(after[after["ds"] <= pd.Timestamp(REFERENCE_END_DATE)].reset_index(drop=True),
                                  before)
    assert len(after) == len(before) + appended.n_rows
    assert warehouse.get_dataset(dataset.dataset_id).fingerprint != dataset.fingerprint


def test_seven_then_seven_days_give_the_rows_of_fourteen(tiny_warehouse) -> None:
    warehouse, dataset = tiny_warehouse
    extend_demo(warehouse, dataset.dataset_id, 7)
    extend_demo(warehouse, dataset.dataset_id, 7)
    at_once = Warehouse(":memory:")
    try:
        extend_demo(at_once, load_demo(at_once, TINY).dataset_id, 14)
        pd.testing.assert_frame_equal(stored(warehouse, dataset.dataset_id),
                                      stored(at_once, at_once.list_datasets()[0].dataset_id))
    finally:
        at_once.close()
    # And without a warehouse: continue_chain's 7 + 7 (the second replaying the first's orders) = 14.
    first = continue_chain(TINY, 7)
    second = continue_chain(TINY, 7, first_day=NEXT_DAY + timedelta(days=7), placed=first.sales)
    both = pd.concat([first.sales, second.sales]).sort_values(["store_id", "item_id", "ds"], ignore_index=True)
    pd.testing.assert_frame_equal(both, continue_chain(TINY, 14).sales.reset_index(drop=True))


def test_a_continuation_is_deterministic_per_seed() -> None:
    a, b = continue_chain(TINY, 21), continue_chain(TINY, 21)
    pd.testing.assert_frame_equal(a.sales, b.sales)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    other = continue_chain(DemoConfig(stores=3, items=6, years=1, seed=7, end_date=REFERENCE_END_DATE), 21)
    assert (other.truth["demand"].to_numpy() != a.truth["demand"].to_numpy()).any()
    assert a.first_day == NEXT_DAY and a.last_day == NEXT_DAY + timedelta(days=20) and a.n_days == 21


def test_the_continuation_is_the_same_world() -> None:
    """Same stores, items, regions, categories and prices; the calendar of the new dates;
    demand neither jumps nor collapses at the boundary."""
    history = generate_chain(TINY).sales
    later = continue_chain(TINY, 28).sales
    assert list(later.columns) == SALES_COLUMNS
    last = history[history["ds"] == history["ds"].max()].reset_index(drop=True)
    first = later[later["ds"] == later["ds"].min()].reset_index(drop=True)
    for column in ("store_id", "item_id", "region", "category"):
        assert first[column].astype(str).tolist() == last[column].astype(str).tolist()
    regular = first["price"].where(first["promo"] == 0)
    assert (regular.dropna() == last["price"].where(last["promo"] == 0)[regular.notna()]).all()
    japan = holidays.Japan(years=[2026])
    assert later.groupby("ds")["holiday"].max().to_dict() == {d: int(d.date() in japan) for d in later["ds"].unique()}
    assert later.loc[later["ds"] == pd.Timestamp("2026-11-03"), "holiday"].eq(1).all()  # 文化の日
    ratio = later["y"].sum() / history[history["ds"] > pd.Timestamp(REFERENCE_END_DATE - timedelta(days=28))]["y"].sum()
    assert 0.8 < ratio < 1.25


def test_promotion_runs_cross_the_boundary_with_the_historys_rules() -> None:
    """Over the history and a year after it, every run lasts 3-7 days and runs are at
    least PROMO_MIN_GAP + 1 days apart: runs under way at the end finish, new ones keep
    the history's rhythm (a few % of days)."""
    config = DemoConfig(stores=1, items=200, years=1, end_date=REFERENCE_END_DATE)  # 5 runs under way at the end
    history, later = generate_chain(config).sales, continue_chain(config, MAX_EXTEND_DAYS).sales
    both = pd.concat([history, later]).sort_values(["item_id", "ds"])
    assert 0.02 < later["promo"].mean() < 0.06
    crossing = 0
    for _, item in both.groupby("item_id", observed=True):
        promo = item["promo"].to_numpy()
        edges = np.flatnonzero(np.diff(np.r_[0, promo, 0]))
        starts, ends = edges[::2], edges[1::2]
        interior = (starts > 0) & (ends < len(promo))
        assert ((ends - starts)[interior] >= 3).all() and ((ends - starts)[interior] <= 7).all()
        assert (starts[1:] - ends[:-1] >= 15).all()
        boundary = (item["ds"] <= pd.Timestamp(REFERENCE_END_DATE)).sum()
        crossing += int(((starts < boundary) & (ends > boundary)).sum())
    assert crossing >= 1  # some run was under way at the end of the history and finished after it


def test_discontinued_items_stay_off_sale_and_the_others_on() -> None:
    config = DemoConfig(stores=2, items=40, years=2, end_date=REFERENCE_END_DATE)
    chain = generate_chain(config)
    gone = set(chain.items.loc[chain.items["discontinue_date"].notna(), "item_id"])
    assert gone
    later = continue_chain(config, 14).sales
    assert set(later["item_id"].astype(str)) == set(chain.items["item_id"]) - gone
    assert len(later) == config.stores * (config.items - len(gone)) * 14


def test_todays_practice_carries_on_from_the_stored_history() -> None:
    """History and continuation replayed together follow the practice every day (the
    independent replay above), and the first continued day of a one-day item orders the
    best of the same weekday over the last three weeks + 10 %, rounded up."""
    history, later = generate_chain(TINY), continue_chain(TINY, 28)
    both = pd.concat([history.sales, later.sales]).sort_values(["store_id", "item_id", "ds"])
    shelf = history.items.set_index("item_id")["shelf_life_days"]
    for (_, item), series in both.groupby(["store_id", "item_id"], observed=True):
        replay_practice(series.reset_index(drop=True), int(shelf[item]), TINY.buffer)
    bento = one_series(history.sales, "S002", "I0001")
    weeks = [bento["y"].iloc[-7 * k] for k in (1, 2, 3)]  # the same weekday 1, 2, 3 weeks before the next day
    expected = max(np.ceil(max(weeks) * 1.1), MIN_DISPLAY)
    assert one_series(later.sales, "S002", "I0001")["ordered"].iloc[0] == expected


def carried_into(series: pd.DataFrame, shelf_life: int) -> np.ndarray:
    """Units on the shelf each morning before the delivery, replayed from a series' stored
    orders and sales (oldest first; perishables thrown away at their shelf life)."""
    ages: list[float] = []
    carried = np.zeros(len(series))
    for d, (ordered, sold) in enumerate(zip(series["ordered"], series["y"], strict=True)):
        carried[d] = sum(ages)
        ages.append(ordered)
        for i, units in enumerate(ages):
            taken = min(units, sold)
            ages[i], sold = units - taken, sold - taken
        if shelf_life <= PERISHABLE_MAX_DAYS:
            ages = ages[-(shelf_life - 1):] if shelf_life > 1 else []
        else:
            ages = [sum(ages)]
    return carried


def test_targets_are_honoured_on_their_series_and_days_only() -> None:
    history = generate_chain(TINY).sales
    days = pd.date_range(NEXT_DAY, periods=5)
    targets = pd.concat([
        pd.DataFrame({"store_id": "S001", "item_id": "I0001", "ds": days, "order_up_to": [7.2, 0.0, 12, np.nan, 3.01]}),
        pd.DataFrame({"unique_id": "S001/I0002", "ds": days, "order_up_to": [0.5, 40, 40, 80.5, 2]}),
    ])
    plain, treated = continue_chain(TINY, 14), continue_chain(TINY, 14, targets=targets)
    pd.testing.assert_series_equal(plain.truth["demand"], treated.truth["demand"])  # the same demand draws
    bento = one_series(treated.sales, "S001", "I0001")
    # Keeps one day: nothing is carried, so the order is the target rounded up.
    assert bento["ordered"].iloc[:5].tolist()[:3] == [8.0, 0.0, 12.0]
    assert bento["ordered"].iloc[4] == 4.0
    assert bento["ordered"].iloc[3] == one_series(plain.sales, "S001", "I0001")["ordered"].iloc[3]  # NaN: practice
    drinks = pd.concat([one_series(history, "S001", "I0002"), one_series(treated.sales, "S001", "I0002")],
                       ignore_index=True)
    carried = carried_into(drinks, 365)[-14:]
    expected = np.maximum(np.ceil([0.5, 40, 40, 80.5, 2]) - carried[:5], 0)
    assert drinks["ordered"].iloc[-14:-9].tolist() == expected.tolist()
    assert carried[0] > 0 and expected[0] == 0 and expected.max() > 0  # hand-checked both ways
    # Every series without targets is untouched: its rows are the practice's.
    others = ~(treated.sales["store_id"].astype(str).eq("S001") & treated.sales["item_id"].astype(str).isin(
        ["I0001", "I0002"]))
    pd.testing.assert_frame_equal(treated.sales[others], plain.sales[others])
    # Sales are what the shelf could serve of the same demand.
    served = one_series(treated.sales.assign(demand=treated.truth["demand"]), "S001", "I0001")
    assert (served["y"] == np.minimum(served["demand"], served["ordered"])).all()
    # What a one-day item does not sell is thrown away that night.
    thrown = one_series(treated.sales.assign(wasted=treated.truth["wasted"]), "S001", "I0001")
    assert (thrown["wasted"] == thrown["ordered"] - thrown["y"]).all() and thrown["wasted"].iloc[0] == 8 - bento["y"][0]


def test_extend_demo_appends_the_next_days(tiny_warehouse) -> None:
    warehouse, dataset = tiny_warehouse
    appended = extend_demo(warehouse, dataset.dataset_id, 7)
    assert (appended.start_date, appended.end_date) == (NEXT_DAY, NEXT_DAY + timedelta(days=6))
    assert appended.n_rows == TINY.stores * TINY.items * 7 and appended.n_replaced == 0
    assert appended.n_series == TINY.stores * TINY.items and appended.n_new_series == 0
    assert appended.dataset.end_date == NEXT_DAY + timedelta(days=6)
    assert appended.dataset.n_rows == dataset.n_rows + appended.n_rows
    again = extend_demo(warehouse, dataset.dataset_id, 3, source="three more")
    assert again.start_date == NEXT_DAY + timedelta(days=7)
    log = warehouse.list_appends(dataset.dataset_id)
    assert [str(s) for s in log["source"]] == ["three more", "demo generator: 7 more days"]
    assert log["n_rows"].tolist() == [TINY.stores * TINY.items * 3, TINY.stores * TINY.items * 7]


def test_the_counterfactual_is_simulated_without_being_written(tiny_warehouse) -> None:
    warehouse, dataset = tiny_warehouse
    targets = pd.DataFrame({"unique_id": "S003/I0001", "ds": pd.date_range(NEXT_DAY, periods=7), "order_up_to": 30.0})
    extend_demo(warehouse, dataset.dataset_id, 7, targets=targets)
    rows = stored(warehouse, dataset.dataset_id)
    assert (rows.loc[(rows["unique_id"] == "S003/I0001") & (rows["ds"] >= pd.Timestamp(NEXT_DAY)), "ordered"]
            == 30).all()
    counterfactual = simulate_continuation(warehouse, dataset.dataset_id, NEXT_DAY, 7)
    pd.testing.assert_frame_equal(counterfactual.sales, continue_chain(TINY, 7).sales)
    pd.testing.assert_frame_equal(stored(warehouse, dataset.dataset_id), rows)  # nothing written
    # A later continuation starts from the shelf the treated days left (their stored orders replayed).
    later = extend_demo(warehouse, dataset.dataset_id, 7)
    placed = rows[rows["ds"] >= pd.Timestamp(NEXT_DAY)]
    expected = continue_chain(TINY, 7, first_day=NEXT_DAY + timedelta(days=7), placed=placed).sales
    assert later.n_rows == len(expected)
    got = stored(warehouse, dataset.dataset_id)
    got = got[got["ds"] > pd.Timestamp(NEXT_DAY + timedelta(days=6))]
    assert got["ordered"].tolist() == expected["ordered"].tolist()
    assert got["ordered"].tolist() != continue_chain(TINY, 7, first_day=NEXT_DAY + timedelta(days=7)
                                                     ).sales["ordered"].tolist()


def test_continuations_that_make_no_sense_are_refused(tiny_warehouse) -> None:
    warehouse, dataset = tiny_warehouse
    for days in (0, -3, MAX_EXTEND_DAYS + 1, 2.5):
        with pytest.raises(MitoshiError, match="extended by 1 to 366 days at a time"):
            extend_demo(warehouse, dataset.dataset_id, days)
    with pytest.raises(MitoshiError, match="2026-10-31 is inside it"):
        continue_chain(TINY, 7, first_day=REFERENCE_END_DATE)
    with pytest.raises(MitoshiError, match=r"name series the demo chain does not have \(e.g. S009/I0001\)"):
        continue_chain(TINY, 7, targets=pd.DataFrame({"unique_id": ["S009/I0001"], "ds": [NEXT_DAY],
                                                      "order_up_to": [3.0]}))
    with pytest.raises(MitoshiError, match="repeat a series and day"):
        continue_chain(TINY, 7, targets=pd.DataFrame({"unique_id": ["S001/I0001"] * 2, "ds": [NEXT_DAY] * 2,
                                                      "order_up_to": [3.0, 4.0]}))
    with pytest.raises(MitoshiError, match="would leave a gap"):
        simulate_continuation(warehouse, dataset.dataset_id, NEXT_DAY + timedelta(days=1), 7)
    with pytest.raises(MitoshiError, match="only the days after it can be simulated again"):
        simulate_continuation(warehouse, dataset.dataset_id, REFERENCE_END_DATE, 7)
    assert warehouse.get_dataset(dataset.dataset_id).n_rows == dataset.n_rows  # nothing was written


def test_an_imported_dataset_cannot_be_extended(warehouse, small_spec) -> None:
    from tests.conftest import small_frame

    imported = warehouse.create_dataset(small_spec, small_frame())
    with pytest.raises(NotGeneratedError, match="'small' was imported, not generated.*Append its new rows from a"):
        extend_demo(warehouse, imported.dataset_id, 7)


def test_command_line_extends_a_generated_dataset(tmp_path, capsys) -> None:
    path = str(tmp_path / "w.duckdb")
    assert main(["--stores", "2", "--items", "5", "--years", "1", "--end-date", "2025-06-30", "--name", "tiny",
                 "--warehouse", path]) == 0
    capsys.readouterr()
    assert main(["--extend", "14", "--dataset", "tiny", "--warehouse", path]) == 0
    assert "Appended 140 rows of 10 series, 2025-07-01 to 2025-07-14" in capsys.readouterr().out
    assert main(["--extend", "400", "--dataset", "tiny", "--warehouse", path]) == 1
    assert "1 to 366 days" in capsys.readouterr().err
    assert main(["--extend", "3", "--dataset", "nothing", "--warehouse", path]) == 1
    assert "has no dataset called 'nothing' (it has 'tiny')" in capsys.readouterr().err
