"""The linear model (the simple-model rung): it recovers known effects, agrees with
statsmodels' GLM, reads nothing after the cutoff, refuses bad settings, and sits
between the statistical and the GBDT rung in the ladder, the decision and the PDF."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from core.backtest.splits import SplitConfig, cutoffs, make_task
from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.data.demo import REFERENCE_END_DATE, DemoConfig, generate_chain
from core.forecast.base import FORECAST, ForecastError, ForecastTask, Rung
from core.forecast.features import Design, default_lags
from core.forecast.linear import CAP, LEVEL_OFFSET, LinearFit, LinearModel, glm_irls, linear_features, ridge_log1p
from core.forecast.registry import DEFAULT_LADDER, MODELS, model_info

KEYS, ATTRIBUTES, EXOG = ("store_id", "item_id"), ("region", "category"), ("price", "promo", "holiday")


@pytest.fixture(scope="module")
def chain() -> pd.DataFrame:
    """2 stores x 12 items x 2 years of the demo chain."""
    sales = generate_chain(DemoConfig(stores=2, items=12, years=2, seed=5, end_date=REFERENCE_END_DATE)).sales
    sales[SERIES_ID] = sales["store_id"].astype(str) + "/" + sales["item_id"].astype(str)
    return sales.sort_values([SERIES_ID, DATE], ignore_index=True)


def demo_task(frame: pd.DataFrame, gap: int = 0, horizon: int = 14) -> ForecastTask:
    config = SplitConfig(horizon=horizon, folds=1, gap=gap)
    cutoff = cutoffs(frame[DATE].max(), Freq.DAILY, config)[0]
    return make_task(frame, cutoff, Freq.DAILY, config, keys=KEYS, attributes=ATTRIBUTES, exog_known=EXOG,
                     orders="ordered")[0]


# ---------------------------------------------------------------------------------
# It recovers what it should
# ---------------------------------------------------------------------------------
WEEKDAY = np.array([1.0, 0.9, 0.9, 1.0, 1.2, 1.6, 1.4])  # Monday .. Sunday
PROMO = 1.8


@pytest.fixture(scope="module")
def multiplicative() -> tuple[ForecastTask, pd.DataFrame]:
    """Poisson sales = level x weekday x 1.8 on promotion days, 12 series x 2 years,
    promotions at random (15 % of days), and the task of the last 14 days."""
    rng = np.random.default_rng(3)
    dates = pd.date_range("2023-01-02", periods=730, freq="D")
    level = rng.lognormal(2.0, 0.5, 12)
    promo = rng.random((12, len(dates))) < 0.15
    mean = level[:, None] * WEEKDAY[dates.day_of_week.to_numpy()][None, :] * np.where(promo, PROMO, 1.0)
    frame = pd.DataFrame({SERIES_ID: np.repeat([f"S{i:02d}" for i in range(12)], len(dates)),
                          DATE: np.tile(dates, 12), TARGET: rng.poisson(mean).ravel().astype(float),
                          "promo": promo.ravel().astype(int)})
    config = SplitConfig(horizon=14, folds=1)
    cutoff = cutoffs(frame[DATE].max(), Freq.DAILY, config)[0]
    task, _ = make_task(frame, cutoff, Freq.DAILY, config, exog_known=("promo",))
    return task, frame


def test_recovers_the_promotion_multiplier_and_the_weekday_profile(multiplicative):
    task, _ = multiplicative
    model = LinearModel()
    coefficients = model.coefficients(task)
    assert coefficients.index[0] == "intercept"
    assert np.exp(coefficients["exog_promo"]) == pytest.approx(PROMO, rel=0.05)
    # The weekday profile comes through the weekday dummies and the same-weekday lags together:
    # read it off the forecasts of non-promoted days, relative to each series' Monday.
    out = model.forecast(task).assign(promo=task.future["promo"].to_numpy())
    plain = out[out["promo"] == 0].assign(weekday=lambda f: f[DATE].dt.day_of_week)
    profile = plain.groupby([SERIES_ID, "weekday"])[FORECAST].mean().unstack()
    relative = (profile.div(profile[0], axis=0)).median()
    np.testing.assert_allclose(relative.to_numpy(), WEEKDAY / WEEKDAY[0], rtol=0.06)
    # And the level of each series: the forecasts' means follow the true levels.
    promoted = out["promo"] == 1
    assert out.loc[promoted, FORECAST].sum() / promoted.sum() > 1.5 * out.loc[~promoted, FORECAST].mean()


@pytest.mark.parametrize("power", [1.0, 1.5])
def test_the_irls_fit_is_statsmodels_glm(power):
    """Unpenalised, the fit is the maximum-likelihood GLM: statsmodels' IRLS gives the same."""
    rng = np.random.default_rng(1)
    x = np.column_stack([np.ones(3000), rng.normal(size=(3000, 4))])
    y = rng.poisson(np.exp(x @ np.array([1.0, 0.3, -0.2, 0.1, 0.0]))).astype(float)
    family = sm.families.Poisson() if power == 1.0 else sm.families.Tweedie(var_power=power)
    expected = sm.GLM(y, x, family=family).fit(method="irls", tol=1e-12).params
    np.testing.assert_allclose(glm_irls(x, y, power, 0.0, 50, 1e-14), expected, atol=1e-6)
    # The penalty shrinks every coefficient but the intercept.
    shrunk = glm_irls(x, y, power, 1.0, 50, 1e-14)
    assert (np.abs(shrunk[1:]) < np.abs(expected[1:])).all()


def test_the_ridge_fit_is_least_squares_on_log1p_with_duans_smearing():
    rng = np.random.default_rng(2)
    x = np.column_stack([np.ones(2000), rng.normal(size=(2000, 3))])
    y = rng.poisson(np.exp(x @ np.array([1.5, 0.4, 0.0, -0.3]))).astype(float)
    beta, smear = ridge_log1p(x, y, 0.0)
    expected = np.linalg.lstsq(x, np.log1p(y), rcond=None)[0]
    np.testing.assert_allclose(beta, expected, atol=1e-9)
    assert smear == pytest.approx(np.mean(np.exp(np.log1p(y) - x @ expected)))
    assert smear > 1  # exp of the mean log is below the mean


def test_an_extreme_row_is_capped_not_overflowed():
    fit = LinearFit("poisson", ("a",), np.array([0.0, 50.0]), np.array([0.0]), np.array([1.0]), cap=CAP * 7.0)
    out = fit.predict(np.array([[1e6], [0.0], [np.nan]]))
    assert out[0] == CAP * 7.0 and out[1] == 1.0 and np.isnan(out[2])  # NaN: the base falls back
    ridge = replace(fit, family="ridge", smear=1.1)
    assert ridge.predict(np.array([[1e6]]))[0] == CAP * 7.0


# ---------------------------------------------------------------------------------
# The features in a linear form
# ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def features(chain):
    task = demo_task(chain)
    design = Design.build(task, default_lags(Freq.DAILY, task.steps), (7, 28, 364), 365)
    return task, design


def test_lags_are_logs_weekdays_dummies_and_wide_keys_are_left_out(features):
    task, design = features
    train, future, names = linear_features(design, max_levels=5)
    assert train.shape == (len(design.train), len(names)) and future.shape == (len(task.future), len(names))
    assert np.isfinite(train).all() and np.isfinite(future).all()
    # lags as logs, a missing year-ago lag filled and flagged (some series are younger than a year)
    assert "log_lag_14" in names and "log_weekday_mean" in names and "log_mean_28" in names
    np.testing.assert_allclose(train[:, names.index("log_lag_14")], np.log(design.train["lag_14"].clip(0) + LEVEL_OFFSET),
                               rtol=1e-6)
    assert "missing_lag_364" in names
    # weekday and month dummies without their first level; the day of the year is not a line
    assert [n for n in names if n.startswith("day_of_week=")] == [f"day_of_week={d}" for d in range(1, 7)]
    assert "month=1" not in names and "day_of_year" not in names and "day_of_month" not in names
    # 2 stores: one dummy; 12 items are more than max_levels = 5: none; log price
    assert [n for n in names if n.startswith("key_store_id=")] == ["key_store_id=1"]
    assert not any(n.startswith("key_item_id") for n in names)
    assert "log_exog_price" in names and "exog_promo" in names
    wide = linear_features(design, max_levels=30)[2]
    # 12 items, of which one ended before the training year: 11 trained on, 10 dummies
    assert design.train["key_item_id"].nunique() == 11
    assert sum(n.startswith("key_item_id=") for n in wide) == 10


# ---------------------------------------------------------------------------------
# No look-ahead
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("gap", [0, 3])
def test_sales_after_the_cutoff_do_not_change_the_forecast(chain, gap):
    task = demo_task(chain, gap=gap, horizon=7)
    before = LinearModel().forecast(task)[FORECAST].to_numpy()
    changed = chain.copy()
    after = changed[DATE] > task.cutoff
    changed.loc[after, TARGET] = changed.loc[after, TARGET] * 10 + 5
    np.testing.assert_array_equal(LinearModel().forecast(demo_task(changed, gap=gap, horizon=7))[FORECAST], before)


def test_training_rows_read_no_sales_within_gap_plus_horizon_of_their_date(chain):
    """The last ``steps - 1`` days before the cutoff are training targets, never training
    features: changing them leaves the linear features of every training row as they were."""
    task = demo_task(chain, gap=2, horizon=7)
    recent = task.history[DATE] > task.cutoff - pd.Timedelta(days=task.steps)
    history = task.history.assign(**{TARGET: np.where(recent, task.history[TARGET] * 10 + 5, task.history[TARGET])})
    lags = default_lags(Freq.DAILY, task.steps)
    (train, future, _), (changed_train, changed_future, _) = (
        linear_features(Design.build(t, lags, (7, 28, 364), 365), 30)
        for t in (task, replace(task, history=history, _cache={})))
    np.testing.assert_array_equal(changed_train, train)
    assert not np.array_equal(changed_future, future)


# ---------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("settings, message", [
    ({"family": "gamma"}, "family must be one of poisson, tweedie, ridge"),
    ({"tweedie_variance_power": 2.0}, "Tweedie power must be between 1"),
    ({"alpha": -1.0}, "alpha must be 0 or more"),
    ({"alpha": float("nan")}, "alpha must be 0 or more"),
    ({"max_levels": 1}, "max_levels must be at least 2"),
    ({"lags": (0, 7)}, "lags must be whole periods"),
    ({"rolling_windows": ()}, "rolling windows"),
    ({"max_iter": 0}, "at least 1 iteration"),
])
def test_bad_settings_are_refused_with_what_to_change(settings, message):
    with pytest.raises(ForecastError, match=message):
        LinearModel(**settings)


def test_a_lag_shorter_than_gap_plus_horizon_is_refused(chain):
    with pytest.raises(ForecastError, match="glm: lag 7 would look past the cutoff.*at least 9 periods"):
        LinearModel(lags=(7, 14)).forecast(demo_task(chain, gap=2, horizon=7))


@pytest.mark.parametrize("family", ["tweedie", "ridge"])
def test_every_family_forecasts_and_promotions_lift_it(multiplicative, family):
    task, _ = multiplicative
    out = LinearModel(family=family).forecast(task)
    assert np.isfinite(out[FORECAST]).all() and (out[FORECAST] >= 0).all()
    promoted = task.future["promo"].to_numpy() == 1
    assert out.loc[promoted, FORECAST].mean() > 1.4 * out.loc[~promoted, FORECAST].mean()


# ---------------------------------------------------------------------------------
# Its rung on the ladder
# ---------------------------------------------------------------------------------
def test_registered_as_the_simple_model_rung_before_gbdt():
    info = model_info("glm")
    assert MODELS["glm"] is LinearModel and info.rung is Rung.LINEAR and info.complexity == 3
    assert info.name == "Linear model (Poisson GLM)" and info.summary
    rungs = list(Rung)
    assert rungs.index(Rung.STATISTICAL) < rungs.index(Rung.LINEAR) < rungs.index(Rung.GBDT)
    assert DEFAULT_LADDER.index("theta") < DEFAULT_LADDER.index("glm") == DEFAULT_LADDER.index("lgbm") - 1


def test_the_pdf_ladder_draws_the_simple_model_between_statistics_and_gbdt():
    from core.decision.pdf_charts import RUNG_STYLE, _ladder_rows

    rows = [{"model": "lgbm", "rung": "GBDT", "wape": 0.30}, {"model": "glm", "rung": "simple model", "wape": 0.31},
            {"model": "theta", "rung": "statistical", "wape": 0.35}, {"model": "snaive", "rung": "rule", "wape": 0.4}]
    assert [r["model"] for r in _ladder_rows(rows)] == ["snaive", "theta", "glm", "lgbm"]
    assert Rung.LINEAR in RUNG_STYLE


def test_the_decision_stops_at_the_linear_model_when_it_meets_what_lgbm_meets(tmp_path):
    """The talk's ladder: when the simple model meets every criterion GBDT meets, it is the pick."""
    from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
    from core.backtest.store import save_run
    from core.data.demo import load_demo
    from core.decision.evaluation import decide
    from core.planning import store as planning
    from core.planning.criteria import Criterion
    from core.planning.definition import ProblemDefinition
    from core.warehouse import Warehouse

    warehouse = Warehouse(tmp_path / "wh.duckdb")
    try:
        dataset = load_demo(warehouse, DemoConfig(stores=2, items=8, years=1, seed=5, end_date=REFERENCE_END_DATE))
        config = BacktestConfig(split=SplitConfig(horizon=14, folds=2),
                                models=tuple(ModelSpec.of(m) for m in ("practice", "glm", "lgbm")))
        run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "linear ladder")
        project = planning.create_project(warehouse, "linear")
        planning.save_definition(warehouse, project.project_id, ProblemDefinition(
            problem="発注を楽にする", running_cost_yen_per_year=0, criteria=(Criterion("wape", "<=", 0.95),)), 0, "test")
        decision = decide(warehouse, project.project_id, run_id)
        rows = {row["model"]: row for row in decision.leaderboard}
        assert rows["glm"]["rung"] == "simple model" and rows["lgbm"]["rung"] == "GBDT"
        assert rows["glm"]["wape"] <= 0.95 and rows["lgbm"]["wape"] <= 0.95  # both meet the criterion
        savings = {row["policy"]: row["yearly_savings"] for row in decision.money}
        assert savings["glm"] > 0 and savings["lgbm"] > 0  # and both pay
        assert decision.model == "glm"
    finally:
        warehouse.close()


@pytest.mark.parametrize("freq, periods, horizon", [(Freq.WEEKLY, 160, 8), (Freq.MONTHLY, 60, 6)])
def test_weekly_and_monthly_forecasts_follow_level_and_promotions(freq, periods, horizon):
    from tests.test_forecast_gbdt import synthetic  # Poisson sales: level x yearly cycle x 2 on promotion

    frame = synthetic(freq, periods)
    config = SplitConfig(horizon=horizon, folds=1)
    cutoff = cutoffs(frame[DATE].max(), freq, config)[0]
    task, _ = make_task(frame, cutoff, freq, config, attributes=("group",), exog_known=("promo",))
    model = LinearModel()
    out = model.forecast(task)
    assert len(out) == 20 * horizon and np.isfinite(out[FORECAST]).all()
    per_series = out.groupby(SERIES_ID)[FORECAST].mean()
    level = frame.groupby(SERIES_ID)[TARGET].mean()
    assert np.corrcoef(per_series, level.loc[per_series.index])[0, 1] > 0.9
    assert np.exp(model.coefficients(task)["exog_promo"]) == pytest.approx(2.0, rel=0.15)


def test_a_design_past_its_row_limit_trains_on_a_seeded_sample_of_its_rows(chain):
    """A national chain's fold holds millions of trainable rows: past ``max_rows`` the
    global models learn from a uniform sample of them, the same rows for the same task,
    each with the features it has in the full design; the future rows are all there."""
    task = demo_task(chain)
    lags = default_lags(Freq.DAILY, task.steps)
    full = Design.build(task, lags, (7, 28, 364), 365, max_rows=None)
    limit = len(full.train) // 3
    sampled, again = (Design.build(task, lags, (7, 28, 364), 365, max_rows=limit) for _ in range(2))
    assert len(sampled.train) == len(sampled.target) == limit
    pd.testing.assert_frame_equal(sampled.train, again.train)
    pd.testing.assert_frame_equal(sampled.future, full.future)
    # each sampled row is a row of the full design, with its target, in the design's order
    keys = ["lag_14", "mean_7", "day_of_year", "key_store_id", "key_item_id"]
    lookup = full.train[keys].astype(str).agg("|".join, axis=1)
    position = pd.Index(lookup).get_indexer(sampled.train[keys].astype(str).agg("|".join, axis=1))
    assert (position >= 0).all() and (np.diff(position) > 0).all()
    np.testing.assert_array_equal(sampled.target, full.target[position])
    # the default limit leaves the demo chain's rows as they are
    assert len(Design.build(task, lags, (7, 28, 364), 365).train) == len(full.train)
