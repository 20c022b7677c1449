from __future__ import annotations

import pandas as pd
import pytest

from core.columns import Freq
from core.data import explore as ex
from core.errors import WarehouseError
from core.warehouse import DatasetSpec
from tests.conftest import small_frame


@pytest.fixture
def shop(warehouse):
    """2 stores x 3 items, 70 days from Wednesday 2025-01-01, with orders and stockouts."""
    frame = small_frame()
    frame["ordered"] = frame["y"] + 1
    frame["stockout"] = (frame["y"] == 0).astype(int)
    spec = DatasetSpec(name="shop", freq=Freq.DAILY, keys=("store", "item"), attributes=("category",),
                       exog_known=("promo",), stockout="stockout", orders="ordered")
    return warehouse, warehouse.create_dataset(spec, frame), frame


def test_profile_counts(shop):
    warehouse, dataset, frame = shop
    facts = ex.profile(warehouse, dataset)
    assert facts["rows"] == len(frame) and facts["series"] == 6
    assert facts["zero_share"] == pytest.approx((frame["y"] == 0).mean())
    assert facts["stockout_share"] == pytest.approx(frame["stockout"].mean())
    assert facts["missing_periods"] == 0 and facts["shortest"] == 70


def test_profile_sees_gaps_late_starts_and_early_ends(warehouse, small_spec):
    frame = small_frame()
    first = (frame["store"] == "S0") & (frame["item"] == "I0")
    frame = frame[~(first & frame["ds"].isin(pd.date_range("2025-01-10", periods=3)))]  # a 3-day gap
    frame = frame[~((frame["item"] == "I1") & (frame["ds"] < "2025-01-05"))]  # two late starters
    dataset = warehouse.create_dataset(small_spec, frame)
    facts = ex.profile(warehouse, dataset)
    assert (facts["missing_periods"], facts["late_start"], facts["early_end"]) == (3, 2, 0)


def test_totals_keep_only_complete_periods_and_sum_exactly(shop):
    warehouse, dataset, frame = shop
    weekly = ex.totals_over_time(warehouse, dataset, ex.Scope(), Freq.WEEKLY)
    # 2025-01-01 is a Wednesday: the first and the last (partial) weeks are left out.
    assert weekly["period"].min() == pd.Timestamp("2025-01-06")
    full_weeks = frame[(frame["ds"] >= "2025-01-06") & (frame["ds"] < weekly["period"].max() + pd.Timedelta(days=7))]
    assert weekly["y"].sum() == pytest.approx(full_weeks["y"].sum())
    assert weekly["orders"].sum() == pytest.approx(full_weeks["ordered"].sum())
    daily = ex.totals_over_time(warehouse, dataset, ex.Scope(), Freq.DAILY)
    assert daily["y"].sum() == pytest.approx(frame["y"].sum()) and len(daily) == 70


def test_filters_and_groups(shop):
    warehouse, dataset, frame = shop
    scope = ex.Scope(filters={"store": ("S1",)}, by="category")
    daily = ex.totals_over_time(warehouse, dataset, scope, Freq.DAILY)
    expected = frame[frame["store"] == "S1"].groupby("category")["y"].sum()
    assert daily.groupby("grp")["y"].sum().to_dict() == pytest.approx(expected.to_dict())


def test_small_groups_are_summed_into_other(shop):
    warehouse, dataset, frame = shop
    daily = ex.totals_over_time(warehouse, dataset, ex.Scope(by="item", top=1), Freq.DAILY)
    biggest = frame.groupby("item")["y"].sum().idxmax()
    assert set(daily["grp"]) == {biggest, ex.OTHER}
    assert daily["y"].sum() == pytest.approx(frame["y"].sum())


def test_seasonal_profile_is_a_mean_per_series_period(shop):
    warehouse, dataset, frame = shop
    weekday = ex.seasonal_profile(warehouse, dataset, ex.Scope(), "isodow")
    expected = frame.groupby(frame["ds"].dt.day_of_week + 1)["y"].mean()
    assert weekday.set_index("part")["mean_y"].to_dict() == pytest.approx(expected.to_dict())
    with pytest.raises(WarehouseError):
        ex.seasonal_profile(warehouse, dataset, ex.Scope(), "hour")


def test_flag_effect_compares_each_series_with_itself(shop):
    warehouse, dataset, frame = shop
    effect = ex.flag_effect(warehouse, dataset, ex.Scope(), "promo")
    per = frame.groupby(["store", "item"]).apply(
        lambda g: pd.Series({"on": g.loc[g.promo > 0, "y"].mean(), "off": g.loc[g.promo == 0, "y"].mean()}))
    assert effect["uplift"].iloc[0] == pytest.approx(per["on"].sum() / per["off"].sum() - 1)


def test_practice_summary(shop):
    warehouse, dataset, frame = shop
    summary = ex.practice_summary(warehouse, dataset, ex.Scope())
    assert summary["ordered"].iloc[0] == frame["ordered"].sum()
    assert summary["left_over"].iloc[0] == len(frame)  # ordered is always sold + 1


def test_practice_needs_an_orders_column(warehouse, small_spec):
    dataset = warehouse.create_dataset(small_spec, small_frame())
    with pytest.raises(WarehouseError, match="no column with today's orders"):
        ex.practice_summary(warehouse, dataset, ex.Scope())


def test_unknown_columns_never_reach_sql(shop):
    warehouse, dataset, _ = shop
    with pytest.raises(WarehouseError, match="not a key or attribute"):
        ex.totals_over_time(warehouse, dataset, ex.Scope(by="y; DROP TABLE datasets"), Freq.DAILY)
    with pytest.raises(WarehouseError, match="not a key or attribute"):
        ex.segment_values(warehouse, dataset, "promo")


def test_filter_values_are_bound(shop):
    warehouse, dataset, _ = shop
    scope = ex.Scope(filters={"store": ("S0'); DROP TABLE datasets; --",)})
    assert ex.totals_over_time(warehouse, dataset, scope, Freq.DAILY).empty
    assert "datasets" in warehouse.tables()


def test_series_list_and_frame(shop):
    warehouse, dataset, frame = shop
    ids = ex.series_list(warehouse, dataset, ex.Scope(filters={"category": ("food",)}))
    assert set(ids) == {"S0/I1", "S1/I1"}
    one = ex.series_frame(warehouse, dataset, "S1/I1")
    assert len(one) == 70 and one["ds"].is_monotonic_increasing


def test_series_names_come_from_the_masters(warehouse, small_spec):
    items = pd.DataFrame({"item": ["I0", "I1", "I2"], "item_name": ["幕の内弁当", "緑茶", "食パン"]})
    dataset = warehouse.create_dataset(small_spec, small_frame(), side_tables={"items": items})
    names = ex.series_names(warehouse, dataset)
    assert names["S1/I0"] == "S1 / I0 幕の内弁当" and len(names) == 6


def test_series_names_are_empty_without_masters(shop):
    warehouse, dataset, _ = shop
    assert ex.series_names(warehouse, dataset) == {}
