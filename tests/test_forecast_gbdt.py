"""The LightGBM forecaster: contract, no look-ahead, that it learns, other frequencies."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.backtest.splits import SplitConfig, cutoffs, make_task
from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.data.demo import REFERENCE_END_DATE, DemoConfig, generate_chain
from core.forecast.base import FORECAST, ForecastError, ForecastTask
from core.forecast.features import Design, calendar_features, default_lags
from core.forecast.gbdt import LightGBM

KEYS, ATTRIBUTES, EXOG = ("store_id", "item_id"), ("region", "category"), ("price", "promo", "holiday")
HORIZON = 28


@pytest.fixture(scope="module")
def chain() -> pd.DataFrame:
    """A small demo chain as the long frame: 60 series x 2 years of daily sales."""
    sales = generate_chain(DemoConfig(stores=3, items=20, years=2, end_date=REFERENCE_END_DATE)).sales
    sales[SERIES_ID] = sales["store_id"].astype(str) + "/" + sales["item_id"].astype(str)
    return sales.sort_values([SERIES_ID, DATE], ignore_index=True)


def demo_task(frame: pd.DataFrame, gap: int = 0, horizon: int = HORIZON) -> tuple[ForecastTask, pd.DataFrame]:
    """The last fold's task (its horizon ends on the last date) and actuals."""
    config = SplitConfig(horizon=horizon, folds=1, gap=gap)
    cutoff = cutoffs(frame[DATE].max(), Freq.DAILY, config)[0]
    return make_task(frame, cutoff, Freq.DAILY, config, keys=KEYS, attributes=ATTRIBUTES, exog_known=EXOG,
                     orders="ordered")


@pytest.fixture(scope="module")
def fold(chain: pd.DataFrame) -> tuple[ForecastTask, pd.DataFrame, pd.DataFrame]:
    task, actuals = demo_task(chain)
    return task, actuals, LightGBM().forecast(task)


def wape(forecast: np.ndarray, actual: np.ndarray) -> float:
    seen = ~np.isnan(actual)
    return float(np.abs(forecast[seen] - actual[seen]).sum() / actual[seen].sum())


def seasonal_naive(task: ForecastTask) -> np.ndarray:
    """Each future date gets the sales of the same weekday in the last week before the cutoff."""
    last_week = task.history.loc[task.history[DATE] > task.cutoff - pd.Timedelta(days=7), [SERIES_ID, DATE, TARGET]]
    last_week = last_week.assign(weekday=last_week[DATE].dt.day_of_week).drop(columns=DATE)
    future = task.future[[SERIES_ID, DATE]].assign(weekday=task.future[DATE].dt.day_of_week)
    return future.merge(last_week, on=[SERIES_ID, "weekday"], how="left")[TARGET].fillna(0.0).to_numpy()


# ---------------------------------------------------------------------------------
# The contract
# ---------------------------------------------------------------------------------
def test_one_finite_non_negative_forecast_per_future_row_in_order(fold):
    task, _, out = fold
    assert list(out.columns) == [SERIES_ID, DATE, FORECAST]
    pd.testing.assert_frame_equal(out[[SERIES_ID, DATE]], task.future[[SERIES_ID, DATE]])
    assert np.isfinite(out[FORECAST]).all() and (out[FORECAST] >= 0).all()
    assert out[FORECAST].std() > 0  # not one constant


def test_same_seed_same_forecasts_and_inputs_untouched(chain, fold):
    _, _, first = fold
    task, _ = demo_task(chain)  # fresh: no model has seen it yet
    history, future = task.history.copy(deep=True), task.future.copy(deep=True)
    again = LightGBM().forecast(task)
    np.testing.assert_array_equal(again[FORECAST].to_numpy(), first[FORECAST].to_numpy())
    pd.testing.assert_frame_equal(task.history, history)
    pd.testing.assert_frame_equal(task.future, future)
    other_seed = LightGBM(seed=7).forecast(task)  # feature_fraction < 1: the seed matters
    assert not np.array_equal(other_seed[FORECAST].to_numpy(), first[FORECAST].to_numpy())


def test_the_design_shared_with_the_linear_model_gives_the_same_forecasts(chain, fold):
    """The linear model builds the fold's design first and LightGBM reads it from the task's
    cache: the forecasts are those of a design of its own, bit for bit."""
    from core.forecast.linear import LinearModel

    _, _, alone = fold
    task, _ = demo_task(chain)
    LinearModel().forecast(task)
    assert any(key[0] == "design" for key in task._cache)
    np.testing.assert_array_equal(LightGBM().forecast(task)[FORECAST].to_numpy(), alone[FORECAST].to_numpy())


def test_settings_are_checked():
    with pytest.raises(ForecastError, match="objective"):
        LightGBM(objective="huber")
    with pytest.raises(ForecastError, match="lags"):
        LightGBM(lags=(0, 7))
    assert str(LightGBM()).startswith("lgbm(objective=tweedie")


@pytest.mark.parametrize("freq, steps", [(Freq.DAILY, 1), (Freq.DAILY, 28), (Freq.DAILY, 30), (Freq.DAILY, 400),
                                         (Freq.WEEKLY, 8), (Freq.WEEKLY, 60), (Freq.MONTHLY, 6)])
def test_default_lags_never_reach_past_the_cutoff(freq, steps):
    lags = default_lags(freq, steps)
    assert min(lags) == steps
    assert max(lags) >= {Freq.DAILY: 364, Freq.WEEKLY: 52, Freq.MONTHLY: 12}[freq]


def test_default_daily_lags_keep_the_weekday():
    assert default_lags(Freq.DAILY, 28) == (28, 35, 42, 49, 56, 364)
    assert default_lags(Freq.DAILY, 30) == (30, 35, 42, 49, 56, 63, 364)


# ---------------------------------------------------------------------------------
# No look-ahead
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("gap", [0, 3])
def test_sales_after_the_cutoff_do_not_change_the_forecast(chain, gap):
    task, _ = demo_task(chain, gap=gap, horizon=7)
    before = LightGBM().forecast(task)[FORECAST].to_numpy()
    changed = chain.copy()
    after = changed[DATE] > task.cutoff
    changed.loc[after, TARGET] = changed.loc[after, TARGET] * 10 + 5
    task_changed, _ = demo_task(changed, gap=gap, horizon=7)
    np.testing.assert_array_equal(LightGBM().forecast(task_changed)[FORECAST].to_numpy(), before)


def test_sales_on_the_cutoff_do_change_the_forecast(chain, fold):
    task, _, out = fold
    changed = chain.copy()
    on_cutoff = changed[DATE] == task.cutoff
    changed.loc[on_cutoff, TARGET] = changed.loc[on_cutoff, TARGET] * 10 + 5
    changed_out = LightGBM().forecast(demo_task(changed)[0])
    last_date = out[DATE] == out[DATE].max()  # its shortest lag reads the cutoff itself
    assert not np.allclose(changed_out.loc[last_date, FORECAST], out.loc[last_date, FORECAST])


@pytest.mark.parametrize("gap", [0, 3])
def test_training_features_only_read_sales_gap_plus_horizon_before_their_date(chain, gap):
    """A training row at date d may read sales up to d - steps only, as a forecast must:
    sales in the last ``steps - 1`` days before the cutoff are targets, never features."""
    task, _ = demo_task(chain, gap=gap, horizon=7)
    model = LightGBM()
    recent = task.history[DATE] > task.cutoff - pd.Timedelta(days=task.steps)
    history = task.history.assign(**{TARGET: np.where(recent, task.history[TARGET] * 10 + 5, task.history[TARGET])})
    changed_task = replace(task, history=history, _cache={})
    design, changed = (Design.build(t, model._lags(t), model._windows(t), model._train_periods(t))
                       for t in (task, changed_task))
    pd.testing.assert_frame_equal(changed.train, design.train)
    assert not np.array_equal(changed.target, design.target)
    assert not changed.future.equals(design.future)  # the forecasts do read them


def test_columns_not_known_in_advance_are_not_used(chain, fold):
    task, _, out = fold
    changed = chain.assign(stockout=1 - chain["stockout"], ordered=chain["ordered"] * 3 + 1)
    changed_out = LightGBM().forecast(demo_task(changed)[0])
    np.testing.assert_array_equal(changed_out[FORECAST].to_numpy(), out[FORECAST].to_numpy())


def test_a_lag_shorter_than_gap_plus_horizon_is_refused(chain):
    task, _ = demo_task(chain, gap=2, horizon=7)
    with pytest.raises(ForecastError, match="at least 9 periods"):
        LightGBM(lags=(7, 14)).forecast(task)


# ---------------------------------------------------------------------------------
# It learns
# ---------------------------------------------------------------------------------
def test_beats_the_seasonal_naive_by_a_clear_margin(fold):
    task, actuals, out = fold
    actual = actuals[TARGET].to_numpy(dtype=float)
    model, naive = wape(out[FORECAST].to_numpy(), actual), wape(seasonal_naive(task), actual)
    assert model < 0.9 * naive, (model, naive)


def test_promotion_days_get_higher_forecasts(fold):
    task, _, out = fold
    by_promo = out.assign(promo=task.future["promo"].to_numpy()).groupby([SERIES_ID, "promo"])[FORECAST].mean()
    lift = (by_promo.xs(1, level="promo") / by_promo.xs(0, level="promo")).dropna()
    assert len(lift) >= 5  # enough promoted series in the horizon to judge
    assert lift.mean() > 1.1, lift.describe()


def test_office_stores_sell_less_food_on_a_holiday_monday(fold):
    """Sports Day (2026-10-12) falls in the horizon: office-area stores (S001, S003) sell
    bento and hot food like on a Sunday, and the forecast should know it."""
    task, _, out = fold
    future = task.future
    food = out.loc[future["store_id"].isin(["S001", "S003"]) & future["category"].isin(["bento", "hot_food"])]
    mondays = food.loc[food[DATE].dt.day_of_week == 0].groupby(DATE)[FORECAST].sum()
    holiday = future.loc[future["holiday"] == 1, DATE].unique()
    assert len(holiday) == 1 and holiday[0] in mondays.index
    assert mondays[holiday[0]] < 0.85 * mondays.drop(holiday[0]).mean(), mondays


def test_a_series_without_a_year_of_history_is_forecast(chain, fold):
    task, _, out = fold
    young = task.history.groupby(SERIES_ID)[DATE].min() > task.cutoff - pd.Timedelta(days=364)
    assert young.any()
    assert (out.loc[out[SERIES_ID].isin(young.index[young]), FORECAST] > 0).any()


# ---------------------------------------------------------------------------------
# The calendar
# ---------------------------------------------------------------------------------
def calendar(freq: Freq, cutoff: str, periods: int) -> pd.DataFrame:
    """Calendar features of the ``periods`` periods after ``cutoff``."""
    offset = {Freq.DAILY: pd.DateOffset(days=1), Freq.WEEKLY: pd.DateOffset(weeks=1),
              Freq.MONTHLY: pd.DateOffset(months=1)}
    dates = pd.date_range(pd.Timestamp(cutoff) + offset[freq], periods=periods, freq=offset[freq])
    return pd.DataFrame(calendar_features(freq, dates.to_numpy()))


def test_daily_calendar_knows_golden_week_and_its_substitute_holiday():
    days = calendar(Freq.DAILY, "2026-04-28", 8)  # Wed 2026-04-29 .. Wed 2026-05-06
    assert days["day_of_week"].tolist() == [2, 3, 4, 5, 6, 0, 1, 2]
    assert days["day_of_month"].tolist() == [29, 30, 1, 2, 3, 4, 5, 6]
    assert days["golden_week"].tolist() == [1, 1, 1, 1, 1, 1, 1, 0]
    # Showa Day, then Constitution, Greenery and Children's Day, and May 6 for the Sunday.
    assert days["jp_holiday"].tolist() == [1, 0, 0, 0, 1, 1, 1, 1]
    assert days["day_off"].tolist() == [1, 1, 1, 1, 1, 1, 1, 1]


def test_weekly_and_monthly_calendars_count_days():
    weeks = calendar(Freq.WEEKLY, "2025-12-22", 3)  # the 7 days from Mon 12-29, 2026-01-05, 01-12
    assert weeks["year_end"].tolist() == [3, 0, 0] and weeks["new_year"].tolist() == [3, 0, 0]
    assert weeks["jp_holiday"].tolist() == [1, 0, 1]  # New Year's Day; Coming of Age Day (01-12)
    assert weeks["day_off"].tolist() == [7, 2, 3]  # the year end and New Year; weekends; + Jan 12
    months = calendar(Freq.MONTHLY, "2026-01-01", 2)
    assert months["days_in_period"].tolist() == [28, 31] and months["month"].tolist() == [2, 3]


# ---------------------------------------------------------------------------------
# Weekly and monthly data
# ---------------------------------------------------------------------------------
def synthetic(freq: Freq, periods: int, series: int = 20, seed: int = 0) -> pd.DataFrame:
    """Poisson sales with a per-series level, a yearly cycle and promotions that double them."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2020-01-06", periods=periods, freq="7D" if freq is Freq.WEEKLY else "MS")
    level = rng.lognormal(2.0, 0.6, series)
    promo = rng.random((series, periods)) < 0.15
    season = 1 + 0.4 * np.sin(2 * np.pi * dates.day_of_year.to_numpy() / 365.25)
    mean = level[:, None] * season[None, :] * np.where(promo, 2.0, 1.0)
    return pd.DataFrame({
        SERIES_ID: np.repeat([f"S{i:02d}" for i in range(series)], periods),
        "group": np.repeat([f"G{i % 3}" for i in range(series)], periods),
        DATE: np.tile(dates, series),
        TARGET: rng.poisson(mean).ravel().astype(float),
        "promo": promo.ravel().astype(int),
    })


@pytest.mark.parametrize("freq, periods, horizon, gap", [(Freq.WEEKLY, 160, 8, 0), (Freq.WEEKLY, 160, 4, 2),
                                                        (Freq.MONTHLY, 60, 6, 0)])
def test_weekly_and_monthly_forecasts_follow_level_and_promotions(freq, periods, horizon, gap):
    frame = synthetic(freq, periods)
    config = SplitConfig(horizon=horizon, folds=1, gap=gap)
    cutoff = cutoffs(frame[DATE].max(), freq, config)[0]
    task, actuals = make_task(frame, cutoff, freq, config, attributes=("group",), exog_known=("promo",))
    out = LightGBM().forecast(task)
    assert len(out) == len(task.future) == 20 * horizon
    assert out[DATE].min() > cutoff and np.isfinite(out[FORECAST]).all()
    # Bigger series get bigger forecasts, promoted periods bigger than the others.
    per_series = out.groupby(SERIES_ID)[FORECAST].mean()
    level = frame.groupby(SERIES_ID)[TARGET].mean()
    assert np.corrcoef(per_series, level.loc[per_series.index])[0, 1] > 0.9
    relative = out[FORECAST] / out[SERIES_ID].map(per_series)
    promoted = task.future["promo"].to_numpy() == 1
    assert relative[promoted].mean() > relative[~promoted].mean()
    # And nothing after the cutoff leaks in.
    changed = frame.assign(**{TARGET: np.where(frame[DATE] > cutoff, 1000.0, frame[TARGET])})
    changed_task, _ = make_task(changed, cutoff, freq, config, attributes=("group",), exog_known=("promo",))
    np.testing.assert_array_equal(LightGBM().forecast(changed_task)[FORECAST], out[FORECAST])


# ---------------------------------------------------------------------------------
# Weekly dates off the cutoff's grid
# ---------------------------------------------------------------------------------
def test_a_weeks_calendar_is_read_from_its_own_date_whatever_weekday_dates_it():
    # The 7 days from Sunday 2025-12-28 hold 4 year-end days and 3 of New Year; from
    # Monday 12-29, 3 and 3; from Friday 2026-01-02, 0 year-end, 2 New Year days.
    dates = pd.to_datetime(["2025-12-28", "2025-12-29", "2026-01-02", "2025-12-28"]).to_numpy()
    weeks = pd.DataFrame(calendar_features(Freq.WEEKLY, dates))
    assert weeks["year_end"].tolist() == [4, 3, 0, 4]
    assert weeks["new_year"].tolist() == [3, 3, 2, 3]
    assert weeks["week_of_year"].tolist() == [52, 1, 1, 52]


def test_weekly_series_dated_on_other_weekdays_and_a_future_past_the_horizon_are_forecast():
    """Series dated by their Sunday and by their Friday, a Monday cutoff, and a future that
    skips two weeks (its last date 6 weeks out for a 4-week horizon): the matrix is sized by the
    dates, not by an assumed grid, so every row is forecast from history only."""
    rng = np.random.default_rng(5)
    cutoff = pd.Timestamp("2024-07-08")  # a Monday
    history = pd.concat([
        pd.DataFrame({SERIES_ID: "A", DATE: pd.date_range(end="2024-07-07", periods=80, freq="W-SUN")}),
        pd.DataFrame({SERIES_ID: "B", DATE: pd.date_range(end="2024-07-05", periods=80, freq="W-FRI")}),
    ], ignore_index=True)
    history[TARGET] = rng.poisson(np.where(history[SERIES_ID] == "A", 50, 10)).astype(float)
    ahead = pd.to_timedelta([7, 14, 21, 42], unit="D")
    future = pd.DataFrame({SERIES_ID: np.repeat(["A", "B"], 4),
                           DATE: np.concatenate([(pd.Timestamp("2024-07-07") + ahead).to_numpy(),
                                                 (pd.Timestamp("2024-07-05") + ahead).to_numpy()])})
    task = ForecastTask(history=history, future=future, freq=Freq.WEEKLY, horizon=4, cutoff=cutoff)
    out = LightGBM(min_child_samples=5).forecast(task)
    assert len(out) == 8 and np.isfinite(out[FORECAST]).all()
    per_series = out.groupby(SERIES_ID)[FORECAST].mean()
    assert 35 < per_series["A"] < 65 and 3 < per_series["B"] < 20
    # Nothing after the cutoff is read: a history row dated after it changes nothing.
    leaked = pd.concat([history, pd.DataFrame({SERIES_ID: ["A"], DATE: [pd.Timestamp("2024-07-14")],
                                               TARGET: [10_000.0]})]).sort_values([SERIES_ID, DATE])
    np.testing.assert_array_equal(
        LightGBM(min_child_samples=5).forecast(replace(task, history=leaked.reset_index(drop=True)))[FORECAST],
        out[FORECAST])


def test_series_medians_are_the_same_taken_a_block_of_series_at_a_time(monkeypatch):
    """The price's usual level per series (``features._series_medians``) is taken a block of
    whole series at a time on a national chain: whatever the block, every series' median is
    the one a single group-by gives, and a series without rows has none."""
    import numpy as np
    import pandas as pd

    from core.forecast import features

    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 40, 120)
    series = np.repeat(np.arange(120), lengths)
    column = pd.Series(np.where(rng.random(len(series)) < 0.1, np.nan, rng.gamma(2.0, 100.0, len(series))))
    positions = np.arange(len(series))
    expected = column.groupby(series).median().reindex(range(122)).to_numpy()
    for block in (1, 17, 500, 10**6):
        monkeypatch.setattr(features, "MEDIAN_BLOCK_ROWS", block)
        got = features._series_medians(column, positions, series, 122)
        np.testing.assert_allclose(got, expected, equal_nan=True)
    assert np.isnan(got[120:]).all()
