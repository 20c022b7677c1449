from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.compare import (
    RunScope,
    changed_actuals,
    config_differences,
    diebold_mariano,
    diebold_mariano_note,
    improvement,
    replaced_data,
    same_data,
    scope_differences,
    scope_key,
    segment_wins,
    shared_forecasts,
    shared_segment_wins,
    shared_segments,
    shared_wape,
)
from core.columns import Freq


def forecasts(noise_model: float, noise_base: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for cutoff in pd.to_datetime(["2025-01-01", "2025-02-01"]):
        for step in range(1, 15):
            for series in range(20):
                actual = 10.0
                rows.append((cutoff, cutoff + pd.Timedelta(days=step), f"s{series}", actual, "m",
                             actual + rng.normal(0, noise_model)))
                rows.append((cutoff, cutoff + pd.Timedelta(days=step), f"s{series}", actual, "base",
                             actual + rng.normal(0, noise_base)))
    return pd.DataFrame(rows, columns=["cutoff", "ds", "unique_id", "actual", "model", "forecast"])


def test_clearly_better_model_is_significant():
    test = diebold_mariano(forecasts(1.0, 3.0), "m", "base", horizon=14)
    assert test.mean_difference < 0 and test.p_value < 0.01 and test.significant and test.periods == 28


def test_equal_models_are_not_significant():
    test = diebold_mariano(forecasts(2.0, 2.0, seed=1), "m", "base", horizon=14)
    assert test.p_value > 0.05 and not test.significant


def test_worse_model_has_a_high_p_value():
    assert diebold_mariano(forecasts(3.0, 1.0), "m", "base", horizon=14, loss="squared").p_value > 0.95


def test_missing_model_is_explained():
    with pytest.raises(ValueError, match="no forecasts"):
        diebold_mariano(forecasts(1, 1), "m", "lgbm", horizon=14)


def test_improvement_over_baseline():
    board = pd.DataFrame({"model": ["snaive", "lgbm"], "wape": [0.5, 0.4]})
    assert improvement(board, "snaive").to_dict() == pytest.approx({"snaive": 0.0, "lgbm": 0.2})
    assert improvement(board, "practice").empty


def test_config_differences_show_only_what_differs():
    a = {"split": {"horizon": 28, "folds": 3}, "models": [{"alias": "snaive", "params": {}}], "seed": 0}
    b = {"split": {"horizon": 28, "folds": 5}, "models": [{"alias": "snaive", "params": {}}], "seed": 0}
    table = config_differences({"run A": a, "run B": b})
    assert table.index.tolist() == ["Folds"] and table.loc["Folds"].tolist() == ["3", "5"]


def test_segment_wins():
    ma = pd.DataFrame({"level": "segment:category", "group": ["bento", "bread"], "model": "x", "metric": "wape",
                       "value": [0.4, 0.3]})
    mb = ma.assign(value=[0.35, 0.5])
    table = segment_wins(ma, mb, "x", "x", "segment:category").set_index("group")
    assert table.loc["bento", "winner"] == "B" and table.loc["bread", "winner"] == "A"


def test_config_differences_name_settings_and_models_for_people():
    a = {"split": {"horizon": 7, "step": None, "train_periods": None},
         "models": [{"alias": "snaive", "params": {}}, {"alias": "ma", "params": {"window": 7}}]}
    b = {"split": {"horizon": 14, "step": 7, "train_periods": None}, "models": [{"alias": "snaive", "params": {}}],
         "scope": {"store_id": ["S001"]}}
    table = config_differences({"A": a, "B": b})
    assert table.index.tolist() == ["Horizon (periods)", "Step between cutoffs (periods)", "Models",
                                    "Scope: store_id"]
    assert table["A"].tolist() == ["7", "= horizon", "Seasonal naive, Moving average (window=7)", ""]
    assert table["B"].tolist() == ["14", "7", "Seasonal naive", "S001"]


def scope(**changes) -> RunScope:
    base = {"dataset": "demo", "dataset_key": "d1", "freq": "daily", "horizon": 7,
            "cutoffs": (pd.Timestamp("2025-01-01"), pd.Timestamp("2025-01-08")), "n_series": 50,
            "segments": ("store_id", "category")}
    return RunScope(**(base | changes))


def test_scope_differences_name_each_difference():
    assert scope_differences({"A": scope(), "B": scope()}) == []
    differ = scope_differences({"A": scope(), "B": scope(dataset="aus", dataset_key="d2", freq="monthly",
                                                          horizon=6, cutoffs=(pd.Timestamp("2024-12-01"),),
                                                          n_series=152, segments=("State",))})
    assert differ == ["dataset (A: demo, B: aus)", "frequency (A: daily, B: monthly)", "horizon (A: 7, B: 6 periods)",
                      "cutoffs (A: 2025-01-01, 2025-01-08, B: 2024-12-01)", "series count (A: 50, B: 152)",
                      "segments (A: store_id, category, B: State)"]


def test_segments_are_offered_only_when_every_run_has_them():
    assert shared_segments({"A": scope(), "B": scope(segments=("category",))}) == ["category"]
    assert shared_segments({"A": scope(), "B": scope(dataset_key="d2")}) == []


def run_forecasts(cutoffs: list[str], horizon: int, series: list[str], error: float) -> pd.DataFrame:
    rows = [(s, pd.Timestamp(c) + pd.Timedelta(days=k), pd.Timestamp(c), k, 10.0, m, 10.0 + error * (m == "ma"))
            for c in cutoffs for k in range(1, horizon + 1) for s in series for m in ("snaive", "ma")]
    return pd.DataFrame(rows, columns=["unique_id", "ds", "cutoff", "step", "actual", "model", "forecast"])


def test_shared_forecasts_keep_only_what_every_run_scored():
    a = run_forecasts(["2025-01-01", "2025-01-08"], 7, ["s1", "s2"], error=2.0)
    b = run_forecasts(["2024-12-25", "2025-01-08"], 14, ["s2", "s3"], error=5.0)
    shared = shared_forecasts({"A": a, "B": b})
    assert (shared.n_series, shared.cutoffs, shared.steps) == (1, (pd.Timestamp("2025-01-08"),), tuple(range(1, 8)))
    assert len(shared.forecasts["A"]) == len(shared.forecasts["B"]) == 7 * 2
    wapes = shared_wape(shared)
    assert wapes.loc["ma"].tolist() == pytest.approx([0.2, 0.5]) and wapes.loc["snaive"].tolist() == [0.0, 0.0]
    wins = shared_segment_wins(shared, "A", "B", "ma", {"s2": "bento"})
    assert wins[["group", "winner"]].values.tolist() == [["bento", "A"]]
    assert wins["delta"].iloc[0] == pytest.approx(0.3)
    assert shared_forecasts({"A": a, "B": run_forecasts(["2025-01-08"], 7, ["x"], 1.0)}).empty


def test_a_dataset_replaced_under_its_id_is_named_and_not_compared():
    same = {"A": scope(fingerprint="500-aa", scope=scope_key({"store_id": ["S001"]})),
            "B": scope(fingerprint="500-aa", scope=scope_key({"store_id": ("S001",)}))}
    assert replaced_data(same) == [] and same_data(same) and scope_differences(same) == []
    replaced = same | {"B": scope(fingerprint="500-bb", scope=scope_key({"store_id": ["S001"]}))}
    assert replaced_data(replaced) == [["A", "B"]] and not same_data(replaced)
    assert scope_differences(replaced) == ["data: demo was replaced between the runs (A: data 500-aa, B: data 500-bb)"]
    assert shared_segments(replaced) == []
    # another scope has another fingerprint anyway: that alone says nothing about the data
    other_scope = same | {"B": scope(fingerprint="400-cc", scope=scope_key({"store_id": ["S002"]}))}
    assert replaced_data(other_scope) == [] and same_data(other_scope)


def test_changed_actuals_count_the_shared_values_that_differ():
    a = run_forecasts(["2025-01-08"], 7, ["s1", "s2"], error=2.0)
    b = a.copy()
    assert changed_actuals(shared_forecasts({"A": a, "B": b})) == 0
    b.loc[(b["unique_id"] == "s2") & (b["step"] <= 3), "actual"] = 11.0  # 3 dates of s2, both models' rows
    assert changed_actuals(shared_forecasts({"A": a, "B": b})) == 3
    assert changed_actuals(shared_forecasts({"A": a, "B": b, "C": a})) == 3


def test_the_diebold_mariano_note_speaks_in_the_data_periods():
    monthly = diebold_mariano_note(Freq.MONTHLY)
    assert "in each month of the run's folds" in monthly and "per series and month" in monthly
    assert "day" not in monthly
    assert "in each day of the run's folds" in diebold_mariano_note(Freq.DAILY)
