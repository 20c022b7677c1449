"""Ordering from a model's own quantile instead of forecast + z x RMSE (issue 14, item 3): the
money simulation under both rules, the settings and decision that keep the rule, and the
hand-off's order quantities, against hand-computed cases."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, dataset_data, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import get_run, run_forecasts, save_run
from core.columns import Freq
from core.decision.verdict import Decision
from core.handoff import store as handoff_store
from core.handoff.batch import PublishError, PublishOptions, prepare_batch
from core.money import store as money_store
from core.money.impact import (
    NORMAL,
    QUANTILE,
    ImpactConfig,
    ImpactInputError,
    money_impact,
)
from core.planning import store as planning
from tests.conftest import small_frame

SAMPLE = Path(__file__).parent / "data" / "decision_sample.json"
ITEMS = pd.DataFrame({"item": ["A"], "unit_cost": [60.0], "shelf_life_days": [1]})


def two_folds() -> tuple[pd.DataFrame, BacktestData]:
    """One one-day perishable at ¥100 (cost ¥60), demand 5, 5 | 6, 8 over two 2-day folds.

    The model forecasts 4, 4 in the first fold (errors actual - forecast 1, 1) and 5, 5 in
    the second (errors 1, 3)."""
    dates = pd.date_range("2026-01-01", periods=7, freq="D")
    y = [4.0, 4, 4, 5, 5, 6, 8]
    frame = pd.DataFrame({"unique_id": "A", "item": "A", "ds": dates, "y": y, "ordered": y, "price": 100.0})
    data = BacktestData(frame=frame, freq=Freq.DAILY, name="two folds", keys=("item",), orders="ordered")
    rows = []
    for cutoff, forecast in (("2026-01-03", 4.0), ("2026-01-05", 5.0)):
        cut = pd.Timestamp(cutoff)
        for step in (1, 2):
            ds = cut + pd.Timedelta(days=step)
            actual = y[dates.get_loc(ds)]
            rows += [{"unique_id": "A", "ds": ds, "cutoff": cut, "step": step, "actual": actual, "model": "m",
                      "forecast": forecast},
                     {"unique_id": "A", "ds": ds, "cutoff": cut, "step": step, "actual": actual,
                      "model": "practice", "forecast": actual}]
    return pd.DataFrame(rows), data


def test_the_quantile_rule_orders_up_to_forecast_plus_the_other_folds_quantile():
    """At a 50 % level the normal rule orders the forecast (z = 0): 4, 4 then 5, 5 against
    5, 5, 6, 8 sells 18 and wastes nothing: 18 x ¥40 = ¥720. The quantile rule adds the
    median of the *other* fold's errors (finite-sample rank ⌈3 x 0.5⌉ = 2 of 2): the first
    fold + 3 (the second fold's errors 1, 3), the second + 1 (errors 1, 1). It orders 7, 7,
    then 6, 6: sells 5 + 5 + 6 + 6 = 22, throws 2 + 2 away: 22 x ¥40 - 4 x ¥60 = ¥640."""
    forecasts, data = two_folds()
    quantile = money_impact(forecasts, data, ImpactConfig(service_level=0.5, ordering_rule=QUANTILE), items=ITEMS)
    row = quantile.row("m")
    assert (row["ordered"], row["sold"], row["waste"], row["lost"]) == (26, 22, 4, 2)
    assert row["profit"] == 640 and str(row["ordering"]) == "its 50% quantile"
    assert str(quantile.config.level_label) == "the model's 50% quantile"
    normal = money_impact(forecasts, data, ImpactConfig(service_level=0.5), items=ITEMS)
    assert normal.row("m")["profit"] == 720 and str(normal.row("m")["ordering"]) == "50% service level"
    yearly = 365 / 4  # 4 days simulated
    for result in (quantile, normal):  # both rules, whichever made the summary
        rules = result.ordering_rules.set_index("policy").loc["m"]
        assert rules["normal_yearly_profit"] == pytest.approx(720 * yearly)
        assert rules["quantile_yearly_profit"] == pytest.approx(640 * yearly)
        assert rules["quantile_gain"] == pytest.approx(-80 * yearly) and rules["better"] == NORMAL
        assert result.quantile_wins == 0
    # Savings under each rule are against the same baseline (practice orders the demand exactly: 24 x ¥40).
    rules = quantile.ordering_rules.set_index("policy").loc["m"]
    assert rules["quantile_yearly_savings"] == pytest.approx((640 - 960) * yearly)
    assert rules["normal_yearly_savings"] == pytest.approx((720 - 960) * yearly)
    # The sensitivity follows the chosen rule: at 50 % it is the summary's own figure.
    at_half = quantile.sensitivity.set_index(["policy", "service_level"]).loc[("m", 0.5)]
    assert at_half["yearly_profit"] == pytest.approx(640 * yearly)


def test_each_items_level_is_chosen_under_each_rule_and_both_are_shown():
    forecasts, data = two_folds()
    result = money_impact(forecasts, data, ImpactConfig(ordering_rule=QUANTILE), items=ITEMS)
    assert str(result.config.level_label) == "each item's best service level in the other folds, at the model's quantile"
    assert str(result.row("m")["ordering"]).startswith("profit-optimal per item at its quantile")
    rules = result.ordering_rules
    assert list(rules.columns) == ["policy", "normal_yearly_profit", "quantile_yearly_profit", "normal_yearly_savings",
                                   "quantile_yearly_savings", "quantile_gain", "better"]
    assert rules["policy"].tolist() == ["m"]  # today's practice orders from its records: no rule
    assert rules["quantile_yearly_profit"].iloc[0] == pytest.approx(result.row("m")["yearly_profit"])
    normal = money_impact(forecasts, data, ImpactConfig(), items=ITEMS)
    assert rules["normal_yearly_profit"].iloc[0] == pytest.approx(normal.row("m")["yearly_profit"])


def test_the_rule_round_trips_through_the_settings_and_old_settings_read_as_normal(warehouse):
    config = ImpactConfig(service_level=0.9, ordering_rule=QUANTILE)
    assert ImpactConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    old = config.to_dict()
    del old["ordering_rule"]  # settings stored before the rule could be chosen
    assert ImpactConfig.from_dict(old).ordering_rule == NORMAL
    with pytest.raises(ImpactInputError, match="Unknown ordering rule 'median'"):
        ImpactConfig(ordering_rule="median")
    project = planning.ensure_example_project(warehouse)
    money_store.save_impact_settings(warehouse, project.project_id, config, "d1")
    assert money_store.load_impact_settings(warehouse, project.project_id, "d1").ordering_rule == QUANTILE


def test_an_old_decision_reads_as_normal_and_a_quantile_one_says_so():
    old = Decision.from_json(SAMPLE.read_text(encoding="utf-8"))  # format 1: no rule kept
    assert old.ordering_rule == NORMAL
    assert str(old.ordering_words) == "each item's profit-optimal service level (normal safety stock)"
    quantile = replace(old, ordering_rule=QUANTILE,
                       ordering=ImpactConfig(service_level=0.95, ordering_rule=QUANTILE).level_label)
    back = Decision.from_json(quantile.to_json())
    assert back.ordering_rule == QUANTILE and str(back.ordering_words) == "the model's 95% quantile"
    fixed = replace(old, ordering=ImpactConfig(service_level=0.95).level_label)
    assert str(fixed.ordering_words) == "a 95% service level (normal safety stock)"


# ---------------------------------------------------------------------------------
# The hand-off
# ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Six series of 70 days, naive and seasonal naive over 3 folds of 5 days."""
    from core.warehouse import DatasetSpec, Warehouse

    warehouse = Warehouse(tmp_path_factory.mktemp("rule") / "rule.duckdb")
    spec = DatasetSpec(name="small", freq=Freq.DAILY, keys=("store", "item"), attributes=("category",),
                       source="test")
    dataset = warehouse.create_dataset(spec, small_frame().drop(columns="promo"))
    config = BacktestConfig(split=SplitConfig(horizon=5, folds=3), models=(ModelSpec.of("naive"),
                                                                           ModelSpec.of("snaive")))
    run = get_run(warehouse, save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "tiny"))
    yield warehouse, dataset, run
    warehouse.close()


def test_quantile_order_quantities_are_forecast_plus_the_offset_from_all_folds(tiny_run):
    """Every series has 15 errors (3 folds x 5 days), too few of its own for an 80 %
    quantile (ten must lie beyond it): errors are pooled, each divided by its own series'
    mean absolute error. The category has 4 drinks and 2 foods, fewer than 5 series a value
    (``engine.MIN_SEGMENT_SERIES``), so all 6 series pool their 90 errors; the 80 % quantile
    is the ⌈91 x 0.8⌉ = 73rd smallest, times the series' own mean absolute error, added to
    each day's forecast (clipped at 0)."""
    warehouse, dataset, run = tiny_run
    options = PublishOptions.from_run(run, "naive", horizon=4, service_level=0.8, ordering_rule=QUANTILE)
    batch = prepare_batch(warehouse, run.run_id, options)
    mine = run_forecasts(warehouse, run.run_id)
    mine = mine[mine["model"] == "naive"].assign(error=lambda f: f["actual"] - f["forecast"])
    assert mine.groupby("unique_id").size().eq(15).all()
    scale = mine["error"].abs().groupby(mine["unique_id"]).mean()
    scaled = np.sort((mine["error"] / mine["unique_id"].map(scale)).to_numpy())
    assert len(scaled) == 90
    series = batch.frame["unique_id"]
    offset = series.map(scale) * scaled[73 - 1]
    np.testing.assert_allclose(batch.frame["order_quantity"], (batch.frame["forecast"] + offset).clip(lower=0))
    assert len(batch.frame) == 6 * 4 and (offset > 0).all()
    assert batch.model_params()["ordering_rule"] == QUANTILE
    assert any(n.startswith("Order quantity = forecast + the quantile of Naive") and "all 3 folds" in n
               and "at the 80% level" in n for n in map(str, batch.notes))
    assert "6 series have too few backtest errors of their own" in " ".join(map(str, batch.notes))
    version = handoff_store.publish_batch(warehouse, batch)
    header = handoff_store.list_batches(warehouse, dataset.dataset_id).set_index("version").loc[version]
    assert header["model_params"]["ordering_rule"] == QUANTILE and header["service_level"] == 0.8
    stored = handoff_store.batch_forecasts(warehouse, dataset.dataset_id, version)
    np.testing.assert_allclose(stored["order_quantity"], batch.frame["order_quantity"])


def test_the_normal_rule_is_kept_and_an_unknown_rule_refused(tiny_run):
    warehouse, _, run = tiny_run
    batch = prepare_batch(warehouse, run.run_id, PublishOptions.from_run(run, "naive", horizon=2, service_level=0.8))
    assert batch.model_params()["ordering_rule"] == NORMAL
    assert any(n.startswith("Order quantity = forecast + 0.84 × the series' RMSE") for n in map(str, batch.notes))
    with pytest.raises(PublishError, match="Unknown ordering rule 'mean'"):
        PublishOptions.from_run(run, "naive", service_level=0.8, ordering_rule="mean")


def test_a_level_the_errors_cannot_support_is_not_available_not_an_offset_of_zero():
    """two_folds() has 2 errors in the other fold: a finite-sample quantile exists only up to
    2/3 (⌈3τ⌉ ≤ 2), even after the fold's own errors fill in (4 errors: up to 80 %). A
    fixed 99.5 % quantile is refused with the level and what the errors support (rounded down); each
    item's choice never lands on a level without a quantile; the notes name them."""
    forecasts, data = two_folds()
    with pytest.raises(ImpactInputError, match=r"no 99.5% quantile: its 2 errors in the other folds.*up to 66.6%.*"
                                               r"normal rule"):
        money_impact(forecasts, data, ImpactConfig(service_level=0.995, ordering_rule=QUANTILE), items=ITEMS)
    from core.money.impact import _simulation
    sim = _simulation(forecasts, data, ImpactConfig(ordering_rule=QUANTILE), ITEMS, True,
                      (0.3, 0.5, 0.7, 0.8, 0.9, 0.995))
    offsets = sim.offsets["m"]
    # 0.5 out of fold (+3 then +1, see above), 0.7/0.8 from the 4 in-sample errors (3rd, 4th of 1, 1, 1, 3);
    # 0.3 (rank ⌊5 x 0.3⌋ = 1 of 4: 1), 0.9 and 0.995 none
    np.testing.assert_array_equal(np.isnan(offsets).all(axis=1), [False, False, False, False, True, True])
    assert (np.diff(offsets[:4], axis=0) >= 0).all()
    result = money_impact(forecasts, data, ImpactConfig(ordering_rule=QUANTILE), items=ITEMS)
    assert any("m has no 90%, 95%, 98%, 99%, 99.5% quantile" in note and "left out" in note for note in map(str, result.notes))
    # the normal rule at 99.5 % still works; its quantile counterpart is not available, so normal is the better rule
    normal = money_impact(forecasts, data, ImpactConfig(service_level=0.995), items=ITEMS)
    rules = normal.ordering_rules.set_index("policy").loc["m"]
    assert np.isnan(rules["quantile_yearly_profit"]) and rules["better"] == NORMAL


def test_a_level_too_rare_for_the_errors_says_so_and_names_the_level(tiny_run):
    """The tiny run has 90 errors of Naive: quantiles up to 90/91 = 98.9 %. At 99.5 % every
    series has errors but too few: the note says so (not "too new") and suggests the normal
    rule; a longer horizon than the backtest's 5 days is said too."""
    warehouse, _, run = tiny_run
    options = PublishOptions.from_run(run, "naive", horizon=7, service_level=0.995, ordering_rule=QUANTILE)
    batch = prepare_batch(warehouse, run.run_id, options)
    assert batch.frame["order_quantity"].isna().all()
    text = " ".join(map(str, batch.notes))
    assert "too new" not in text
    assert ("6 series have too few backtest errors for a 99.5% quantile of Naive (last value): its 90 errors, pooled over every "
            "series, support quantiles up to 98.9%") in text and "normal rule" in text
    assert "measured on the backtest's 5 periods ahead; this batch reaches 7 periods ahead" in text
    # money and hand-off: order-up-to levels never decrease in the level
    levels = (0.5, 0.8, 0.9, 0.95, 0.98)
    frames = [prepare_batch(warehouse, run.run_id, PublishOptions.from_run(
        run, "naive", horizon=3, service_level=level, ordering_rule=QUANTILE)).frame["order_quantity"].to_numpy()
        for level in levels]
    assert (np.diff(np.vstack(frames), axis=0) >= -1e-9).all()
