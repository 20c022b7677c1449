"""The Backtest page shows how sure each model's forecasts are: the coverage of its 80 %
and 95 % intervals and the calibration chart, read from the run's stored metrics."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from core import fmt
from core.backtest.quantiles import SINGLE_FOLD
from core.backtest.store import run_metrics
from core.warehouse import Warehouse
from tests.conftest import new_session, store_run


@pytest.fixture
def stored(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    try:
        spread = store_run(warehouse, ("S001", "S002"), ("naive", "ma"), horizon=14, name="spread", folds=3)
        single = store_run(warehouse, ("S001",), ("naive",), horizon=7, name="one fold", folds=1)
        overall = run_metrics(warehouse, spread, "overall")
    finally:
        warehouse.close()
    return spread, single, overall


def numbers(values) -> np.ndarray:
    """A Plotly array as sent to the browser: a list, or base64 bytes with their dtype."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values, dtype=float)


def open_run(run_id: str):
    at = new_session()
    at.session_state["backtest_run_id"] = run_id
    at.switch_page("pages/backtest.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_coverage_shown_is_the_stored_coverage_and_the_calibration_chart_is_drawn(stored):
    spread, _, overall = stored
    at = open_run(spread)
    value = overall.set_index(["model", "metric"])["value"]
    table = next(d.value for d in at.dataframe if "80 % interval coverage" in d.value.columns
                 and "Rung" not in d.value.columns)
    assert table["Model"].tolist() == [fmt.model_name(m) for m in
                                       value.xs("pinball", level="metric").sort_values().index]
    for row in table.itertuples(index=False):
        alias = {"Naive (last value)": "naive", "Moving average": "ma"}[row[0]]
        assert row[1] == pytest.approx(value[(alias, "coverage_80")], abs=5e-4)  # shown to 0.1 %
        assert row[2] == pytest.approx(value[(alias, "coverage_95")], abs=5e-4)
    best = value.xs("pinball", level="metric").idxmin()
    sentence = next(m.value for m in at.markdown if "the 80 % interval held" in m.value)
    assert f"**{fmt.pct(value[(best, 'coverage_80')])}** of the actual values (80 % when the interval is right)" in sentence
    assert f"**{fmt.pct(value[(best, 'coverage_95')])}** (95 %)" in sentence
    chart = next(json.loads(el.proto.spec) for el in at.get("plotly_chart")
                 if json.loads(el.proto.spec)["layout"]["title"]["text"].startswith("Calibration"))
    lines = {trace["name"]: trace for trace in chart["data"]}
    assert "calibrated (observed = nominal)" in lines
    ma = lines["Moving average"]
    assert numbers(ma["x"]).tolist() == [2.5, 10.0, 50.0, 90.0, 97.5]
    assert numbers(ma["y"])[3] == pytest.approx(value[("ma", "below_0.9")] * 100)
    board = next(d.value for d in at.dataframe if "Rung" in d.value.columns)
    assert {"Pinball loss", "80 % interval coverage", "95 % interval coverage"} <= set(board.columns)


def test_a_one_fold_run_says_why_it_has_no_interval(stored):
    _, single, _ = stored
    at = open_run(single)
    assert any(SINGLE_FOLD in i.value for i in at.info)
    board = next(d.value for d in at.dataframe if "Rung" in d.value.columns)
    assert "80 % interval coverage" not in board.columns


def test_the_calibration_section_explains_its_terms_generically_and_warns_on_two_folds(stored, warehouse_env):
    from ui.backtest import METRIC_HELP, few_folds_note

    spread, _, _ = stored
    at = open_run(spread)  # 3 folds: no warning
    text = " ".join(c.value for c in at.caption) + " ".join(m.value for m in at.markdown)
    assert "if honest" not in text and "sell nothing" not in text and "category on a chain" not in text
    assert "pinball loss of the run (the quantile forecasts' error, scaled like MASE: lower is better)" in text
    assert "pooled over the segment" in text
    assert not any("2 folds" in w.value for w in at.warning)
    assert METRIC_HELP["pinball"].startswith("Pinball loss: the quantile forecasts' error, scaled like MASE")
    assert few_folds_note(3) is None and few_folds_note(1) is None
    warehouse = Warehouse(warehouse_env)
    try:
        two = store_run(warehouse, ("S001", "S002"), ("naive",), horizon=14, name="two folds", folds=2)
    finally:
        warehouse.close()
    at = open_run(two)
    assert [w.value for w in at.warning if "2 folds" in w.value] == [few_folds_note(2)]
    assert "only the other fold's errors" in few_folds_note(2) and "3 folds or more" in few_folds_note(2)
