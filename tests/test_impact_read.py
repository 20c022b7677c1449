"""The money impact of a stored run as ``run_impact`` reads it: only the days the folds price
(and, before them, today's orders and sales), and a stored impact read back. Every figure
must be the one ``money_impact`` gives on the whole dataset, to the last bit."""

from __future__ import annotations

import json
from dataclasses import fields, replace

import numpy as np
import pandas as pd
import pytest

from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import delete_run, run_forecasts, save_run
from core.columns import DATE, SERIES_ID
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
from core.decision import evaluation
from core.money import store as money_store
from core.money.impact import ERRORS, QUANTILE, ErrorCosts, ImpactConfig, ImpactResult, money_impact
from core.money.run_impact import run_impact
from core.planning import store as planning
from core.warehouse import Warehouse

CONFIGS = {
    "each item's level": ImpactConfig(),
    "95% quantile": ImpactConfig(service_level=0.95, ordering_rule=QUANTILE),
    "uncorrected": ImpactConfig(service_level=0.8, correct_censoring=False),
    "cost of errors": ImpactConfig(money_model=ERRORS, error_costs=ErrorCosts(unit_value=300.0)),
}


def ragged(warehouse: Warehouse, demo, orders: bool):
    """The demo chain ``demo`` with eight series that end long before the folds (some
    categories then have fewer than five series in the folds but not in scope: the errors
    are pooled by the series in scope) and two that start late; without orders and stockouts
    unless ``orders``."""
    data = dataset_data(warehouse, demo)
    ids = data.frame[SERIES_ID].astype(str).to_numpy()
    series = sorted(set(ids))
    last = data.frame[DATE].max()
    drop = (np.isin(ids, series[:8]) & (data.frame[DATE] > last - pd.Timedelta(days=120)).to_numpy()) | (
        np.isin(ids, series[8:10]) & (data.frame[DATE] < last - pd.Timedelta(days=200)).to_numpy())
    frame = data.frame[~drop].drop(columns=[SERIES_ID]).reset_index(drop=True)
    spec = replace(demo.spec, name=f"ragged {orders}")
    if not orders:
        frame = frame.drop(columns=[spec.orders, spec.stockout])
        spec = replace(spec, orders=None, stockout=None)
    return warehouse.create_dataset(spec, frame, side_tables={"items": warehouse.side_table(demo, "items")})


def backtest(warehouse: Warehouse, dataset, scope=None, folds: int = 3) -> str:
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=folds),
                            models=tuple(ModelSpec.of(m) for m in ("naive", "snaive", "ma")))
    return save_run(warehouse, run_backtest(dataset_data(warehouse, dataset, scope), config), "ragged")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    warehouse = Warehouse(tmp_path_factory.mktemp("read") / "wh.duckdb")
    demo = load_demo(warehouse, DemoConfig(stores=3, items=20, years=1, seed=3, end_date=REFERENCE_END_DATE))
    with_orders, without = ragged(warehouse, demo, True), ragged(warehouse, demo, False)
    made = {"scoped, with orders": (with_orders, backtest(warehouse, with_orders, {"store_id": ("S001", "S002")})),
            "one fold": (with_orders, backtest(warehouse, with_orders, folds=1)),
            "without orders": (without, backtest(warehouse, without))}
    yield warehouse, made
    warehouse.close()


def assert_same(one: ImpactResult, other: ImpactResult) -> None:
    """Every field equal: the tables to the last bit, the facts as facts."""
    for field in fields(one):
        mine, theirs = getattr(one, field.name), getattr(other, field.name)
        if isinstance(mine, pd.DataFrame):
            pd.testing.assert_frame_equal(mine, theirs, check_exact=True)
        else:
            assert mine == theirs, field.name


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
@pytest.mark.parametrize("which", ["scoped, with orders", "one fold", "without orders"])
def test_a_runs_money_reads_only_what_it_prices_and_gives_the_whole_datasets_figures(runs, which, config):
    """run_impact reads the folds' days (with eight seasons before them) and today's orders
    apart; money_impact on every row of the run's scope gives the same figures — with series
    that ended before the folds (still counted when errors are pooled by segment), series that
    started late, a scope, one fold, no recorded orders."""
    warehouse, made = runs
    dataset, run_id = made[which]
    scope = {"store_id": ("S001", "S002")} if which.startswith("scoped") else None
    read = run_impact(warehouse, run_id, config)
    assert len(read.data.frame) < len(dataset_data(warehouse, dataset, scope).frame) / 2
    whole = dataset_data(warehouse, dataset, scope)
    forecasts = run_forecasts(warehouse, run_id)
    days = pd.to_datetime(forecasts[DATE])
    from core.data.explore import target_total
    total = sum(target_total(warehouse, dataset, d.min(), d.max()) for _, d in days.groupby(forecasts["cutoff"]))
    expected = money_impact(forecasts, whole, config, items=warehouse.side_table(dataset, "items"),
                            dataset_sales=total)
    assert_same(read.impact, expected)


def test_an_impact_round_trips_through_json(runs):
    warehouse, made = runs
    for config in CONFIGS.values():
        impact = run_impact(warehouse, made["scoped, with orders"][1], config).impact
        assert_same(ImpactResult.from_json(impact.to_json()), impact)
        assert [str(n) for n in ImpactResult.from_json(impact.to_json()).notes] == [str(n) for n in impact.notes]


@pytest.fixture
def keeping(tmp_path):
    """A warehouse that keeps money impacts, with a run."""
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    dataset = load_demo(warehouse, DemoConfig(stores=2, items=8, years=1, seed=5, end_date=REFERENCE_END_DATE))
    config = BacktestConfig(split=SplitConfig(horizon=14, folds=2),
                            models=tuple(ModelSpec.of(m) for m in ("practice", "snaive", "ma")))
    run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "kept")
    yield warehouse, dataset, run_id
    warehouse.close()


def stored_rows(warehouse: Warehouse) -> int:
    return int(warehouse.query("SELECT count(*) AS n FROM run_impacts")["n"].iloc[0])


def test_a_runs_impact_is_kept_and_read_back_until_what_it_is_made_of_changes(keeping):
    warehouse, dataset, run_id = keeping
    first = run_impact(warehouse, run_id)
    assert first.forecasts is not None and stored_rows(warehouse) == 1
    again = run_impact(warehouse, run_id)
    assert again.forecasts is None  # read back, not simulated
    assert_same(again.impact, first.impact)
    # other settings: another impact, the first one kept
    other = run_impact(warehouse, run_id, ImpactConfig(service_level=0.9))
    assert other.forecasts is not None and stored_rows(warehouse) == 2
    # a caller's own forecasts (some models only) are never stored nor answered from the store
    mine = run_forecasts(warehouse, run_id)
    partial = run_impact(warehouse, run_id, forecasts=mine[mine["model"].isin(["practice", "snaive"])])
    assert partial.forecasts is not None and set(partial.impact.summary["policy"]) == {"practice", "snaive"}
    assert stored_rows(warehouse) == 2
    # the data changes (rows appended): computed again
    frame = dataset_data(warehouse, dataset).frame
    tail = frame[frame[DATE] == frame[DATE].max()].drop(columns=[SERIES_ID]).assign(
        **{DATE: frame[DATE].max() + pd.Timedelta(days=1)})
    warehouse.append_rows(dataset.dataset_id, tail)
    assert run_impact(warehouse, run_id).forecasts is not None and stored_rows(warehouse) == 3
    # deleting the run deletes what was kept with it
    delete_run(warehouse, run_id)
    assert stored_rows(warehouse) == 0


def test_a_decision_on_a_kept_impact_is_the_decision_on_a_computed_one(keeping):
    warehouse, _, run_id = keeping
    project = planning.ensure_example_project(warehouse)

    def snapshot() -> dict:
        made = json.loads(evaluation.decide(warehouse, project.project_id, run_id).to_json())
        return {k: v for k, v in made.items() if k not in ("decision_id", "created_at")}

    computed = snapshot()  # nothing kept yet: computed, then kept
    assert stored_rows(warehouse) == 1
    assert snapshot() == computed  # on the kept impact, the significance tests reading their models only
    with warehouse.transaction() as cur:
        cur.execute("DELETE FROM run_impacts")
    assert snapshot() == computed


def test_the_datasets_sales_over_each_folds_days_are_summed_in_one_pass(runs):
    from core.data.explore import target_total, target_totals
    warehouse, made = runs
    dataset = made["scoped, with orders"][0]
    spans = [(pd.Timestamp(REFERENCE_END_DATE) - pd.Timedelta(days=d + 6), pd.Timestamp(REFERENCE_END_DATE) -
              pd.Timedelta(days=d)) for d in (0, 7, 30, 3000)]
    assert target_totals(warehouse, dataset, spans) == [target_total(warehouse, dataset, *span) for span in spans]
    assert target_totals(warehouse, dataset, []) == []
