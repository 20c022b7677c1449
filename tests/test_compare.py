from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.compare import config_differences, diebold_mariano, improvement, segment_wins


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
    assert table.index.tolist() == ["split.folds"] and table.loc["split.folds"].tolist() == ["3", "5"]


def test_segment_wins():
    ma = pd.DataFrame({"level": "segment:category", "group": ["bento", "bread"], "model": "x", "metric": "wape",
                       "value": [0.4, 0.3]})
    mb = ma.assign(value=[0.35, 0.5])
    table = segment_wins(ma, mb, "x", "x", "segment:category").set_index("group")
    assert table.loc["bento", "winner"] == "B" and table.loc["bread", "winner"] == "A"
