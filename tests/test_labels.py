"""Series are labelled for people by what they are, not by their ids."""

from __future__ import annotations

import pandas as pd

from core.columns import SERIES_ID, Freq
from core.data import explore
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
from core.data.labels import series_labels
from core.warehouse import DatasetSpec


def test_attributes_that_tell_series_apart_are_the_label():
    attributes = pd.DataFrame({SERIES_ID: ["A3349398A", "A3349849A"],
                               "State": ["New South Wales", "Australian Capital Territory"],
                               "Industry": ["Cafes", "Cafes"]})
    assert series_labels(attributes) == {"A3349398A": "New South Wales · Cafes",
                                         "A3349849A": "Australian Capital Territory · Cafes"}


def test_shared_attributes_give_way_to_master_names_or_keep_the_id():
    attributes = pd.DataFrame({SERIES_ID: ["S1/I1", "S2/I1", "S2/I2"], "category": ["bento", "bento", "bread"]})
    names = {"S1/I1": "S1 丸の内店 / I1 幕の内弁当"}
    assert series_labels(attributes, names) == {"S1/I1": "S1 丸の内店 / I1 幕の内弁当", "S2/I1": "bento (S2/I1)",
                                                "S2/I2": "bread (S2/I2)"}


def test_no_attributes_and_no_names_leave_the_id_and_missing_values_are_left_out():
    assert series_labels(pd.DataFrame({SERIES_ID: ["a", "b"]}), ids=["c"]) == {"a": "a", "b": "b", "c": "c"}
    attributes = pd.DataFrame({SERIES_ID: ["a", "b"], "state": ["NSW", None], "industry": ["Cafes", "Food"]})
    assert series_labels(attributes) == {"a": "NSW · Cafes", "b": "Food"}


def test_labels_from_the_warehouse_follow_the_declared_attributes(warehouse):
    frame = pd.DataFrame({"series_id": ["A3349398A"] * 30 + ["A3349849A"] * 30,
                          "State": ["New South Wales"] * 30 + ["Victoria"] * 30,
                          "Industry": ["Cafes, restaurants and catering services"] * 60,
                          "ds": list(pd.date_range("2020-01-01", periods=30, freq="MS")) * 2, "y": 1.0})
    spec = DatasetSpec(name="aus", freq=Freq.MONTHLY, keys=("series_id",), attributes=("State", "Industry"))
    dataset = warehouse.create_dataset(spec, frame)
    attributes = explore.series_attributes(warehouse, dataset)
    assert list(attributes.columns) == [SERIES_ID, "State", "Industry"] and len(attributes) == 2
    labels = series_labels(attributes, explore.series_names(warehouse, dataset))
    assert labels["A3349398A"] == "New South Wales · Cafes, restaurants and catering services"
    assert explore.series_attributes(warehouse, dataset, ("series_id",))["series_id"].tolist() == [
        "A3349398A", "A3349849A"]


def test_the_demo_chain_is_labelled_by_its_masters(warehouse):
    dataset = load_demo(warehouse, DemoConfig(stores=2, items=7, years=1, end_date=REFERENCE_END_DATE))
    labels = series_labels(explore.series_attributes(warehouse, dataset), explore.series_names(warehouse, dataset))
    assert len(labels) == 14
    assert labels["S001/I0001"] == "S001 丸の内店 / I0001 幕の内弁当"  # region · category is shared by stores
