from __future__ import annotations

import pandas as pd
import pytest

from core.columns import Freq
from core.warehouse import DatasetSpec, Warehouse


@pytest.fixture
def warehouse(tmp_path):
    wh = Warehouse(tmp_path / "test.duckdb")
    yield wh
    wh.close()


def small_frame(stores: int = 2, items: int = 3, days: int = 70, seed: int = 0) -> pd.DataFrame:
    """A tiny canonical long frame: store x item daily sales with a promo flag."""
    rng = pd.Series(range(days))
    dates = pd.date_range("2025-01-01", periods=days, freq="D")
    rows = []
    for s in range(stores):
        for i in range(items):
            rows.append(pd.DataFrame({
                "store": f"S{s}", "item": f"I{i}", "category": "food" if i % 2 else "drink",
                "ds": dates, "y": ((rng * (s + 1) + i + seed) % 7).astype(float), "promo": (rng % 10 == 0).astype(int),
            }))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture
def small_spec() -> DatasetSpec:
    return DatasetSpec(name="small", freq=Freq.DAILY, keys=("store", "item"), attributes=("category",),
                       exog_known=("promo",), source="test")
