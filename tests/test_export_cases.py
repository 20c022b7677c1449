"""The five kinds of export that misled Mitoshi (weekly series on different weekdays, never-sold
items, US month-first dates, Excel thousands separators in Shift_JIS, ISO timestamps with
offsets), regenerated here and run through the command line with their right values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.backtest.__main__ import main
from core.columns import Freq
from core.data.importer import ColumnMapping, read_table, validate

HV = {"D": (7, 2), "W": (4, 3), "M": (6, 2)}


def _csv(path: Path, frame: pd.DataFrame, encoding: str = "utf-8") -> Path:
    path.write_bytes(frame.to_csv(index=False).encode(encoding))
    return path


def _run(tmp_path: Path, data: Path, keys: str, date: str, target: str, freq: str, models: str = "snaive",
         extra: tuple[str, ...] = ()) -> tuple[int, pd.DataFrame | None, dict | None]:
    horizon, folds = HV[freq]
    out_json, out_pq = tmp_path / "run.json", tmp_path / "run.parquet"
    code = main(["--data", str(data), "--series-cols", keys, "--date-col", date, "--target-col", target,
                 "--freq", freq, "--horizon", str(horizon), "--folds", str(folds), "--models", models,
                 "--json", str(out_json), "--forecasts", str(out_pq), "--warehouse", str(tmp_path / "w.duckdb"),
                 *extra])
    if code != 0:
        return code, None, None
    return code, pd.read_parquet(out_pq), json.loads(out_json.read_text())


def weekly_mixed_weekdays(path: Path) -> Path:
    """Store A dates its weeks by Sunday, store B by Friday; each clean on its own."""
    rng = np.random.default_rng(1)
    a = pd.DataFrame({"store": "A", "week": pd.date_range("2023-01-01", periods=104, freq="W-SUN")})
    b = pd.DataFrame({"store": "B", "week": pd.date_range("2023-01-06", periods=104, freq="W-FRI")})
    frame = pd.concat([a, b], ignore_index=True)
    frame["week"] = frame["week"].dt.strftime("%Y-%m-%d")
    frame["units"] = rng.poisson(50, len(frame))
    return _csv(path / "weekly_mixed_anchor.csv", frame)


def test_weekly_series_on_different_weekdays_are_scored_in_every_fold(tmp_path, capsys):
    code, fc, info = _run(tmp_path, weekly_mixed_weekdays(tmp_path), "store", "week", "units", "W")
    assert code == 0
    assert fc.groupby("cutoff")["series"].nunique().tolist() == [2, 2, 2]
    assert info["series"] == 2
    # Both stores' weeks moved to the Monday that starts them: Sunday 2023-01-01 is in the
    # week of Monday 2022-12-26, Friday 2023-01-06 in that of Monday 2023-01-02.
    assert set(pd.to_datetime(fc["date"]).dt.day_of_week) == {0}
    err = capsys.readouterr().err
    assert "Sunday (1 series), Friday (1 series)" in err
    assert info["series_scored"] == 2 and info["excluded"]["left_out"] == 0
    assert "accounted: " in err


def never_sold(path: Path) -> Path:
    dates = pd.date_range("2024-01-01", periods=90).strftime("%Y-%m-%d")
    frame = pd.DataFrame({"item": np.repeat(["dead1", "dead2"], 90), "date": np.tile(dates, 2), "units": 0})
    return _csv(path / "never_sold.csv", frame)


def test_never_sold_items_are_forecast_by_every_model(tmp_path):
    code, fc, info = _run(tmp_path, never_sold(tmp_path), "item", "date", "units", "D", "snaive,lgbm")
    assert code == 0
    assert set(fc["model"]) == {"snaive", "lgbm"}
    assert fc["forecast"].abs().max() < 1e-6
    for model in ("snaive", "lgbm"):
        assert info["models"][model]["wape"] is None  # undefined on zero actuals, not inf
    assert info["fallbacks"]["lgbm"][0]["series"] == 2


def us_month_first(path: Path) -> Path:
    rng = np.random.default_rng(2)
    months = pd.date_range("2022-01-01", periods=36, freq="MS")
    frame = pd.DataFrame({"item": np.repeat(["X1", "X2"], 36),
                          "month": np.tile([f"{d.month}/1/{d.year}" for d in months], 2),
                          "qty": rng.integers(150, 300, 72)})
    return _csv(path / "us_monthly.csv", frame)


def test_us_month_first_dates_are_read_month_first(tmp_path, capsys):
    code, fc, info = _run(tmp_path, us_month_first(tmp_path), "item", "month", "qty", "M")
    assert code == 0
    assert pd.to_datetime(fc["date"]).max() == pd.Timestamp("2024-12-01")
    assert info["series"] == 2 and len(fc) == 2 * 2 * 6  # 2 items x 2 folds x 6 months, nothing zero-filled
    assert "read month-first" in capsys.readouterr().err
    # 36 monthly periods per item, 2022-01 to 2024-12: the importer's frame.
    raw = read_table(us_month_first(tmp_path).read_bytes(), "us_monthly.csv")
    report = validate(raw, ColumnMapping(keys=("item",), date="month", target="qty"))
    assert report.freq is Freq.MONTHLY and report.frame.groupby("item")["ds"].agg(["size", "min", "max"]).values.tolist() \
        == [[36, pd.Timestamp("2022-01-01"), pd.Timestamp("2024-12-01")]] * 2


def thousands_sjis(path: Path) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(3)
    dates = pd.date_range("2024-01-01", periods=120)
    weekend = np.tile(dates.day_of_week >= 5, 2)
    units = np.where(weekend, rng.integers(1100, 1300, 240), rng.integers(800, 950, 240))
    frame = pd.DataFrame({"店舗": np.repeat(["新宿店", "梅田店"], 120), "日付": np.tile(dates.strftime("%Y/%m/%d"), 2),
                          "販売数量": [f"{u:,}" for u in units]})  # Excel's #,##0: "1,157"
    return _csv(path / "sales_sjis_thousands.csv", frame, "cp932"), pd.DataFrame(
        {"date": np.tile(dates, 2), "units": units})


def test_thousands_separators_in_shift_jis_keep_their_values(tmp_path, capsys):
    data, truth = thousands_sjis(tmp_path)
    code, fc, _ = _run(tmp_path, data, "店舗", "日付", "販売数量", "D")
    assert code == 0
    assert fc["actual"].max() == truth.loc[truth["date"].isin(pd.to_datetime(fc["date"])), "units"].max() >= 1100
    assert "thousands separators" in capsys.readouterr().err


def offsets(path: Path, zone: str) -> Path:
    days = pd.date_range("2024-01-01", periods=120, tz=zone)
    frame = pd.DataFrame({"store": np.repeat(["S1", "S2"], 120),
                          "date": np.tile([d.isoformat() for d in days], 2),
                          "sales": np.tile(np.where(days.day_of_week == 5, 60, 25), 2)})  # Saturday peak
    return _csv(path / "offsets.csv", frame)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Europe/Berlin"])
def test_iso_timestamps_with_offsets_keep_their_local_day(tmp_path, zone):
    code, fc, _ = _run(tmp_path, offsets(tmp_path, zone), "store", "date", "sales", "D")
    assert code == 0
    dates = pd.to_datetime(fc["date"])
    assert dates.max() == pd.Timestamp("2024-04-29")
    assert (fc.loc[dates.dt.day_of_week == 5, "actual"] == 60).all()  # the peak stays on Saturday


def slow_movers(path: Path) -> Path:
    """One never-sold item, one with a single sale, one regular."""
    dates = pd.date_range("2024-01-01", periods=90)
    regular = np.random.default_rng(4).poisson(11, 90)
    one_sale = np.zeros(90, dtype=int)
    one_sale[39] = 2
    frame = pd.DataFrame({"item": np.repeat(["dead", "one_sale", "regular"], 90),
                          "date": np.tile(dates.strftime("%Y-%m-%d"), 3),
                          "units": np.concatenate([np.zeros(90, dtype=int), one_sale, regular])})
    return _csv(path / "slow_movers.csv", frame)


def test_a_never_sold_item_among_selling_ones_is_forecast_zero_by_every_model(tmp_path):
    code, fc, info = _run(tmp_path, slow_movers(tmp_path), "item", "date", "units", "D", "snaive,croston,lgbm")
    assert code == 0
    dead = fc[fc["series"] == "dead"]
    assert set(dead["model"]) == {"snaive", "croston", "lgbm"} and (dead["forecast"] == 0).all()
    assert {(f["rule"], f["reason"], f["series"]) for f in info["fallbacks"]["lgbm"]} == {("zero", "never sold", 1)}


def test_weekly_series_on_different_weekdays_imported_then_backtested_on_the_default_ladder(tmp_path, warehouse):
    """As the Import and Backtest pages do it: read, suggest the roles, import (both stores'
    weeks moved to their Monday), then the default ladder over 3 folds of 8 weeks."""
    from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
    from core.backtest.splits import SplitConfig
    from core.data.importer import import_table, suggest_mapping
    from core.forecast.registry import DEFAULT_LADDER

    path = weekly_mixed_weekdays(tmp_path)
    raw = read_table(path.read_bytes(), path.name)
    dataset = import_table(warehouse, raw, suggest_mapping(raw.frame, raw.decimal_comma), name="weekly anchors")
    assert dataset.freq is Freq.WEEKLY
    config = BacktestConfig(split=SplitConfig(horizon=8, folds=3),
                            models=tuple(ModelSpec.of(a) for a in DEFAULT_LADDER))
    result = run_backtest(dataset_data(warehouse, dataset), config)
    assert [f"{c:%Y-%m-%d}" for c in result.cutoffs] == ["2024-07-08", "2024-09-02", "2024-10-28"]
    per_fold = result.forecasts.groupby(["model", "cutoff"])["unique_id"].nunique()
    assert set(per_fold.index.get_level_values("model")) == set(DEFAULT_LADDER)
    assert (per_fold == 2).all() and len(per_fold) == len(DEFAULT_LADDER) * 3
    lgbm = result.forecasts[result.forecasts["model"] == "lgbm"]
    # Both stores in every fold, 8 weeks each, except store A's last week (it ends a week earlier).
    assert len(lgbm) == 3 * 2 * 8 - 1 and lgbm["forecast"].between(20, 90).all()
    assert result.fallbacks[result.fallbacks["model"] == "lgbm"].empty
    assert result.n_scored == result.n_series == 2
