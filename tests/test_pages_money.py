"""AppTest of the Money page: the model of money fits the data, and settings typed once
are the project's (the Report and Hand-off pages open with them, in a new session)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import save_run
from core.columns import Freq
from core.warehouse import DatasetSpec, Warehouse
from tests.conftest import new_session, store_run

PAGE = "pages/money.py"


def number(at, label: str):
    return next(n for n in at.number_input if n.label == label)


def money_model(at):
    """The "How money is counted" box (its key holds the dataset's id)."""
    return next(s for s in at.selectbox if s.label == "How money is counted")


@pytest.fixture
def demo_with_run(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    store_run(warehouse, ("S001",), ("practice", "snaive", "ma"), horizon=7, name="S001 rules")
    warehouse.close()
    return warehouse_env


def test_settings_typed_on_money_are_the_projects_on_report_and_handoff(demo_with_run):
    at = new_session(PAGE)
    assert not at.error, [e.value for e in at.error]
    assert money_model(at).value == "shelf"  # the demo prices its items: the shelf simulation
    number(at, "Yearly holding cost (% of stock value)").set_value(10.0).run()
    number(at, "Average shelf life (days)").set_value(5).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Days out of stock" == m.label for m in at.metric)
    assert any("14 days of backtest" in m.value for m in at.markdown)  # 2 folds x 7 days
    captions = " ".join(c.value for c in at.caption)
    assert "for the dataset **" in captions and "another dataset has its own" in captions
    assert "Today's practice" in at.dataframe[-1].value["policy"].tolist()  # a label starting a cell

    report = new_session("pages/report.py")  # a new session of the same warehouse
    assert number(report, "Yearly holding cost (% of stock value)").value == 10.0
    assert number(report, "Average shelf life (days)").value == 5

    handoff = new_session("pages/handoff.py")
    assert not [n for n in handoff.number_input if n.label == "Average shelf life (days)"]  # no order quantities yet
    handoff.toggle(key="handoff_orders").set_value(True).run()
    assert number(handoff, "Average shelf life (days)").value == 5
    assert number(handoff, "Yearly holding cost (% of stock value)").value == 10.0


@pytest.fixture
def turnover_with_run(warehouse_env):
    """Monthly turnover of two industries, no prices, no orders; a run of snaive and ma."""
    warehouse = Warehouse(warehouse_env)
    dates = pd.date_range("2015-01-01", periods=72, freq="MS")
    frame = pd.concat([pd.DataFrame({"industry": name, "ds": dates,
                                     "y": level + 10 * np.sin(2 * np.pi * np.arange(72) / 12) + np.arange(72) / 4})
                       for name, level in (("Cafes", 300.0), ("Food", 900.0))], ignore_index=True)
    dataset = warehouse.create_dataset(DatasetSpec(name="turnover", freq=Freq.MONTHLY, keys=("industry",),
                                                   source="test"), frame)
    config = BacktestConfig(split=SplitConfig(horizon=6, folds=3), models=(ModelSpec.of("snaive"), ModelSpec.of("ma")))
    save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "turnover rules")
    warehouse.close()
    return warehouse_env


def test_turnover_is_counted_as_the_cost_of_errors_in_months(turnover_with_run):
    at = new_session(PAGE)
    run_box = at.selectbox(key="money_run_select")
    turnover = next(o for o in run_box.options if "turnover rules" in o)
    run_box.select(turnover).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert money_model(at).value == "errors"
    # A unit is worth ¥1 unless said (a yen of turnover); errors cost 30 % and 10 % of it.
    assert number(at, "What one unit of the target is worth (¥)").value == 1.0
    assert number(at, "Cost of a unit under-forecast (% of its value)").value == 30.0
    assert number(at, "Cost of a unit over-forecast (% of its value)").value == 10.0
    # Months 54-71 of both industries: 1,200 x 18 + 20 x (sin sum -3.732) + 2 x 1,125 / 4 = 22,087.86,
    # x 12 / 18 = ¥14,725 a year at ¥1 a unit: far too little to be a business, so the page warns.
    captions = " ".join(c.value for c in at.caption)
    assert "The data's yearly total at ¥1 a unit: ¥14.7K — if your business is bigger" in captions
    assert [w.value for w in at.warning if "worth only ¥14.7K" in w.value]
    assert not [i for i in at.info if "worth only" in i.value]  # warned once, not again among the notes
    text = " ".join(m.value for m in at.markdown)
    assert "18 months of backtest" in text and "same month last year" in text
    assert "day" not in text.replace("today", "")
    assert not [m for m in at.metric if "out of stock" in m.label]
    captions = " ".join(c.value for c in at.caption)
    infos = [i.value for i in at.info]
    assert sum("cost of forecast errors" in i for i in infos) == 1  # said once, not in a caption as well
    assert "cost of forecast errors" not in captions and "recorded orders" not in captions
    # Savings of the moving average against seasonal naive: a loss has its sign before the ¥.
    savings = next(m for m in at.metric if m.label.startswith("Yearly savings"))
    assert savings.value.startswith(("¥", "−¥"))
    assert "seasonal naive (the same month last year) forecasts" in text


def test_a_value_typed_for_one_dataset_never_carries_over_to_another_in_the_same_session(turnover_with_run):
    warehouse = Warehouse(turnover_with_run)
    chain = next(d for d in warehouse.list_datasets() if d.name != "turnover")
    config = BacktestConfig(split=SplitConfig(horizon=7, folds=2), models=(ModelSpec.of("practice"),
                                                                            ModelSpec.of("snaive")))
    save_run(warehouse, run_backtest(dataset_data(warehouse, chain, {"store_id": ("S001",)}), config), "chain rules")
    warehouse.close()
    at = new_session(PAGE)
    run_box = at.selectbox(key="money_run_select")
    turnover = next(o for o in run_box.options if "turnover rules" in o)
    demo = next(o for o in run_box.options if "chain rules" in o)
    run_box.select(turnover).run()
    number(at, "What one unit of the target is worth (¥)").set_value(100_000_000.0).run()
    assert not at.exception
    # The demo's run, in the same session: its own settings (the shelf), not the turnover's ¥100M a unit.
    at.selectbox(key="money_run_select").select(demo).run()
    assert not at.exception
    assert money_model(at).value == "shelf"
    assert not [n for n in at.number_input if n.label == "What one unit of the target is worth (¥)"]
    assert not [m for m in at.markdown if "T a year" in m.value or "B a year" in m.value]
    # Back on the turnover: the value typed for it is still its own.
    at.selectbox(key="money_run_select").select(turnover).run()
    assert money_model(at).value == "errors"
    assert number(at, "What one unit of the target is worth (¥)").value == 100_000_000.0

    # Turnover in millions at ¥100 a dollar: every figure scales by 10⁸, and the warning goes.
    number(at, "What one unit of the target is worth (¥)").set_value(1e8).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    captions = " ".join(c.value for c in at.caption)
    assert "The data's yearly total at ¥100,000,000 a unit: ¥1.47T" in captions
    assert not [w for w in at.warning if "worth only" in w.value]
    assert "A unit under-forecast costs ¥30,000,000, a unit over-forecast ¥10,000,000." in captions


def test_report_counts_turnover_as_the_cost_of_errors_without_a_visit_to_money(turnover_with_run):
    at = new_session("pages/report.py")
    assert not at.exception, at.exception
    box = next(s for s in at.selectbox if s.key.startswith("report_run_"))
    box.select(next(o for o in box.options if "turnover rules" in o)).run()
    assert not at.exception, at.exception
    assert next(s for s in at.selectbox if s.key.endswith("_money_model")).value == "errors"
    assert not any("no unit price" in e.value for e in at.error)


def test_the_ordering_rule_is_chosen_and_each_models_rules_are_shown_as_computed(demo_with_run):
    """Choosing "the model's quantile" is saved with the project; the table shows, per model,
    the yearly profit under each rule exactly as the money impact computes it."""
    import json

    from core import fmt
    from core.money.impact import QUANTILE, ImpactConfig
    from core.money.run_impact import run_impact
    from ui.money import RULE_CHOICES, RULE_LABEL

    at = new_session(PAGE)
    rule = next(r for r in at.radio if r.label == RULE_LABEL)
    assert rule.value == "normal"  # the default: forecast + safety stock
    rule.set_value(QUANTILE).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    warehouse = Warehouse(demo_with_run)
    try:
        run_id = warehouse.query("SELECT run_id FROM runs")["run_id"].iloc[0]
        stored = warehouse.query("SELECT value FROM project_settings WHERE name LIKE 'impact:%'")["value"]
        assert len(stored) == 1  # saved with the project, for the run's dataset
        config = ImpactConfig.from_dict(json.loads(stored.iloc[0]))
        assert config.ordering_rule == QUANTILE
        rules = run_impact(warehouse, run_id, config).impact.ordering_rules
    finally:
        warehouse.close()
    shown = at.table[0].value
    assert sorted(shown.index) == ["Moving average", "Seasonal naive"]
    for row in rules.itertuples():
        line = shown.loc[fmt.model_name(row.policy)]
        assert line["forecast + safety stock (normal)"] == fmt.yen(row.normal_yearly_profit)
        assert line["the model's quantile"] == fmt.yen(row.quantile_yearly_profit)
        assert line["quantile − normal"] == fmt.yen_change(row.quantile_yearly_profit - row.normal_yearly_profit)
        assert line["earns more"] == {"quantile": "the quantile", "normal": "forecast + safety stock",
                                      "same": "the same"}[row.better]
        assert row.better == ("quantile" if row.quantile_gain > 0 else "normal" if row.quantile_gain < 0 else "same")
        assert "¥" in line["the model's quantile"] and "," in line["the model's quantile"]  # thousands separated
    wins = int((rules["better"] == QUANTILE).sum())
    text = " ".join(m.value for m in at.markdown)
    assert f"The quantile rule earns more for **{wins} of 2** models" in text
    assert "the figures above order up to " + RULE_CHOICES[QUANTILE] in text


def test_a_model_added_to_the_run_elsewhere_is_priced_at_once(demo_with_run):
    """Forecasts made elsewhere added to the run after a session priced it (here from code, as the
    command line does; another tab would do the same) are in the next session's money at once:
    the cached impact is keyed by the run's revision, not its id alone."""
    from core.backtest import external
    from core.backtest.store import run_forecasts

    at = new_session(PAGE)
    assert sorted(at.table[0].value.index) == ["Moving average", "Seasonal naive"]
    warehouse = Warehouse(demo_with_run)
    try:
        run_id = warehouse.query("SELECT run_id FROM runs")["run_id"].iloc[0]
        rows = run_forecasts(warehouse, run_id)
        rows = rows[rows["model"] == "ma"]
        file = pd.DataFrame({"series": rows["unique_id"], "date": rows["ds"].dt.strftime("%Y-%m-%d"),
                             "cutoff": rows["cutoff"].dt.strftime("%Y-%m-%d"), "forecast": rows["forecast"]})
        external.add_external(warehouse, run_id, "Notebook", file.to_csv(index=False).encode(), "nb.csv")
    finally:
        warehouse.close()
    again = new_session(PAGE)
    assert not again.exception
    assert sorted(again.table[0].value.index) == ["Moving average", "Notebook", "Seasonal naive"]


def test_a_level_without_a_quantile_is_said_not_scored_as_a_loss():
    """Too few errors for the level: the quantile rule has no profit there, and the table says so
    rather than naming the normal rule the winner of a comparison that did not take place."""
    from types import SimpleNamespace

    from ui.money import ordering_rules_table

    rules = pd.DataFrame({"policy": ["ets", "ma"], "normal_yearly_profit": [1_000_000.0, 900_000.0],
                          "quantile_yearly_profit": [np.nan, 950_000.0], "quantile_gain": [np.nan, 50_000.0],
                          "better": ["normal", "quantile"]})
    table = ordering_rules_table(SimpleNamespace(ordering_rules=rules))
    assert list(table["earns more"]) == ["no quantile at this level (too few errors)", "the quantile"]
    assert list(table["the model's quantile"]) == ["–", "¥950,000"]


def test_the_split_by_segment_opens_on_the_headlines_model(demo_with_run):
    from core import fmt

    at = new_session(PAGE)
    headline = next(m.label for m in at.metric if m.label.startswith("Yearly savings · "))
    model = next(s for s in at.selectbox if s.label == "Model")
    assert headline == f"Yearly savings · {fmt.model_name(model.value)}"
