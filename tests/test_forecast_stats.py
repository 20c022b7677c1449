"""The statistical rung: ETS, Theta, ARIMA and their combination against statsmodels, known structure, edges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.theta import ThetaModel
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from core.backtest.splits import SplitConfig, make_task
from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.forecast.base import FORECAST, Fallback, ForecastError, ForecastTask, Panel
from core.forecast.combination import Combination
from core.forecast.stats import (
    ARIMA,
    ETS,
    Form,
    Smoothing,
    States,
    Theta,
    aicc,
    arima_panel,
    auto_ets,
    candidate_forms,
    estimate_start,
    holt_winters_forecast,
    initial_states,
    is_seasonal,
    minus_two_loglik,
    ses_fit,
    smooth,
    smooth_fit,
    task_key,
    theta_panel,
)

WEEK = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.5, 0.7])  # a weekday pattern averaging 1


def task_of(series: dict[str, np.ndarray], horizon: int = 14, gap: int = 0, freq: Freq = Freq.DAILY,
            exog: dict[str, dict[str, np.ndarray]] | None = None) -> ForecastTask:
    """A one-fold task whose cutoff is the last value of every series.

    Shorter series start later (NaN padding in the panel). ``exog[column][id]`` holds
    the series' history followed by its ``gap + horizon`` future values.
    """
    longest = max(len(v) for v in series.values())
    offsets = {Freq.DAILY: pd.DateOffset(days=1), Freq.WEEKLY: pd.DateOffset(weeks=1),
               Freq.MONTHLY: pd.DateOffset(months=1)}
    dates = pd.date_range("2023-01-02", periods=longest + gap + horizon, freq=offsets[freq])
    frames = []
    for name, values in series.items():
        start = longest - len(values)
        frame = pd.DataFrame({SERIES_ID: name, DATE: dates[start:],
                              TARGET: np.r_[np.asarray(values, float), np.full(gap + horizon, np.nan)]})
        for column, by_series in (exog or {}).items():
            frame[column] = np.asarray(by_series[name], float)[-len(frame):]
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True).sort_values([SERIES_ID, DATE], ignore_index=True)
    task, _ = make_task(frame, dates[longest - 1], freq,
                        SplitConfig(horizon=horizon, gap=gap), exog_known=tuple(exog or ()))
    return task


def forecast_matrix(model, task: ForecastTask) -> np.ndarray:
    return model.forecast(task)[FORECAST].to_numpy().reshape(len(task.series_ids), task.horizon)


def noisy_seasonal(n: int, seed: int, level: float = 20.0, slope: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (level + slope * t) * WEEK[t % 7] + rng.normal(0, 1, n)


# --- correctness against statsmodels on fixed parameters ---------------------------------

@pytest.mark.parametrize("trend, damped, seasonal", [
    (False, False, "add"), (False, False, "mul"), (True, False, "add"),
    (True, True, "mul"), (True, True, None), (False, False, None),
])
def test_ets_recursion_matches_statsmodels(trend, damped, seasonal):
    y = noisy_seasonal(60, seed=1)
    m, steps, n = 7, 16, len(y)
    start = initial_states(y[:, None], m, trend, seasonal)
    alpha, beta, gamma, phi = 0.3, 0.1 if trend else 0.0, 0.15 if seasonal else 0.0, 0.9 if damped else 1.0
    params = Smoothing(*(np.array([[v]]) for v in (alpha, beta, gamma, phi)))
    mine = holt_winters_forecast(y[:, None], np.array([n]), steps, params, start, trend, seasonal)[0]
    sse, _ = smooth(y[:, None], np.array([n]), params, start, trend, seasonal)

    known = {"initial_level": start.level[0, 0]}
    fixed = {"smoothing_level": alpha}
    if trend:
        known["initial_trend"], fixed["smoothing_trend"] = start.trend[0, 0], beta
    if seasonal:
        known["initial_seasonal"], fixed["smoothing_seasonal"] = start.season[:, 0, 0], gamma
    if damped:
        fixed["damping_trend"] = phi
    fit = ExponentialSmoothing(y, trend="add" if trend else None, damped_trend=damped, seasonal=seasonal,
                               seasonal_periods=m if seasonal else None, initialization_method="known",
                               **known).fit(optimized=False, **fixed)

    assert sse[0, 0] == pytest.approx(fit.sse, rel=1e-9)
    # Hyndman's forecast from statsmodels' own final states: l + (phi + ... + phi^h) b + s[T + h - m(k + 1)]
    h = np.arange(1, steps + 1)
    expected = fit.level[-1] + np.cumsum(phi ** h) * (fit.trend[-1] if trend else 0.0)
    if seasonal:
        last_season = fit.season[-m:][(h - 1) % m]
        expected = expected * last_season if seasonal == "mul" else expected + last_season
    np.testing.assert_allclose(mine, expected, atol=1e-6)
    # statsmodels' .forecast itself agrees except at multiples of m, where it reuses the factor of
    # the season before (statsmodels issue #9538); elsewhere it is the same number.
    off_season = h % m != 0 if seasonal else np.ones(steps, bool)
    np.testing.assert_allclose(mine[off_season], fit.forecast(steps)[off_season], atol=1e-6)


@pytest.mark.parametrize("deseasonalize, zeros", [(False, False), (True, False), (True, True), (False, True)])
def test_theta_matches_statsmodels_with_its_alpha(deseasonalize, zeros):
    y = noisy_seasonal(90, seed=2)
    if zeros:  # zeros make the decomposition additive, as statsmodels' "auto"
        y[::5] = 0.0
    fit = ThetaModel(y, period=7, deseasonalize=deseasonalize, use_test=False).fit()
    mine = theta_panel(y[:, None], np.array([len(y)]), 20, 7, np.array([deseasonalize]),
                       alpha=np.array([fit.params["alpha"]]))[0]
    np.testing.assert_allclose(mine, fit.forecast(20).to_numpy(), atol=1e-9)


def test_ses_alpha_fits_at_least_as_well_as_statsmodels():
    rng = np.random.default_rng(3)
    y = np.stack([np.cumsum(rng.normal(0, 1, 120)) + 50, rng.poisson(4, 120), noisy_seasonal(120, seed=4)], axis=1)
    lengths = np.full(3, 120)
    alpha, _ = ses_fit(y, lengths)
    theirs = np.array([ThetaModel(y[:, i], period=7, deseasonalize=False).fit().params["alpha"] for i in range(3)])

    def sse(a: np.ndarray) -> np.ndarray:
        start = States(y[:1].T.copy(), np.zeros((3, 1)), np.zeros((1, 3, 1)))
        zero = np.zeros((1, 1))
        return smooth(y, lengths, Smoothing(a[:, None], zero, zero, zero + 1), start, False, None)[0][:, 0]

    assert (sse(alpha) <= sse(theirs) * 1.001).all()


def test_seasonality_test_separates_weekly_pattern_from_noise():
    rng = np.random.default_rng(5)
    y = np.stack([noisy_seasonal(140, seed=6), rng.normal(10, 1, 140), np.full(140, 3.0), noisy_seasonal(140, 7)], 1)
    lengths = np.array([140, 140, 140, 14])  # the last one is too short to test
    assert is_seasonal(y, lengths, 7).tolist() == [True, False, False, False]


# --- known structure -----------------------------------------------------------------------

@pytest.mark.parametrize("model", [ETS(), ETS(trend=None, seasonal="add"), ETS(trend=None, seasonal="mul"), Theta(),
                                   Combination()], ids=str)
def test_noiseless_season_is_continued(model):
    t = np.arange(70 + 14)
    truth = 10 * WEEK[t % 7]
    forecast = forecast_matrix(model, task_of({"a": truth[:70]}))[0]
    np.testing.assert_allclose(forecast, truth[70:], atol=1e-8)


def test_ets_with_trend_extrapolates_a_line_and_a_trending_season():
    t = np.arange(80 + 14)
    line, trending = 5 + 2.0 * t, 50 + 0.5 * t + 10 * (WEEK[t % 7] - 1)
    np.testing.assert_allclose(forecast_matrix(ETS(trend="add", seasonal=None), task_of({"a": line[:80]}))[0],
                               line[80:], atol=1e-8)
    np.testing.assert_allclose(forecast_matrix(ETS(trend="add"), task_of({"a": trending[:80]}))[0],
                               trending[80:], atol=1e-8)
    damped = forecast_matrix(ETS(trend="add", damped=True, seasonal=None), task_of({"a": line[:80]}))[0]
    assert (np.diff(damped) > 0).all() and (np.diff(damped, 2) < 0).all()  # still rising, ever less


def test_theta_extrapolates_half_the_slope_of_a_line():
    line = 5 + 2.0 * np.arange(80)
    forecast = forecast_matrix(Theta(), task_of({"a": line}))[0]
    # Theta = SES (alpha = 1 on a line: the last value) plus half the OLS slope per period
    np.testing.assert_allclose(forecast, line[-1] + 1.0 * np.arange(1, 15), atol=1e-8)


# --- vectorised == per series --------------------------------------------------------------

PANEL = {
    "a": noisy_seasonal(200, seed=10),
    "b": noisy_seasonal(90, seed=11, level=5, slope=-0.03),
    "c": np.random.default_rng(12).poisson(2, 150).astype(float),
    "d": noisy_seasonal(10, seed=13),
    "e": np.random.default_rng(14).gamma(2, 3, 120),
}


@pytest.mark.parametrize("model", [ETS(), ETS(trend=None, seasonal="add"), ETS(seasonal="mul"),
                                   ETS(trend="add", damped=True), Theta(), Combination(),
                                   ETS(max_history=60), Theta(max_history=60)], ids=str)
def test_panel_equals_each_series_alone(model):
    together = forecast_matrix(model, task_of(PANEL))
    alone = np.vstack([forecast_matrix(model, task_of({name: values})) for name, values in PANEL.items()])
    np.testing.assert_allclose(together, alone, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("model", [ETS(), Theta()], ids=str)
def test_max_history_fits_the_recent_past_only(model):
    long = PANEL["a"]
    limited = type(model)(max_history=60)
    np.testing.assert_allclose(forecast_matrix(limited, task_of({"a": long})),
                               forecast_matrix(model, task_of({"a": long[-60:]})), rtol=1e-12)


@pytest.mark.parametrize("model", [ETS(), Theta()], ids=str)
def test_gap_periods_are_dropped(model):
    with_gap = forecast_matrix(model, task_of(PANEL, horizon=7, gap=3))
    without = forecast_matrix(model, task_of(PANEL, horizon=10))
    np.testing.assert_allclose(with_gap, without[:, 3:], rtol=1e-12)


# --- edge cases ----------------------------------------------------------------------------

EDGES = {
    "one": np.array([4.0]),
    "three": np.array([1.0, 0.0, 2.0]),
    "short": np.arange(10, dtype=float),
    "zeros": np.zeros(100),
    "constant": np.full(100, 5.0),
    "intermittent": np.where(np.arange(100) % 6 == 0, 3.0, 0.0),
    "long": noisy_seasonal(100, seed=20),
}


@pytest.mark.parametrize("model", [ETS(), ETS(trend=None, seasonal="add"), ETS(seasonal="mul"), ETS(trend="add", damped=True),
                                   Combination(),
                                   ETS(trend="add", seasonal=None), ETS(seasonal=None), Theta(),
                                   Theta(deseasonalize=True), ARIMA()], ids=str)
def test_edge_cases_give_finite_sensible_forecasts(model):
    task = task_of(EDGES)
    history = task.history.copy(deep=True), task.future.copy(deep=True)
    result = forecast_matrix(model, task)
    pd.testing.assert_frame_equal(task.history, history[0])
    pd.testing.assert_frame_equal(task.future, history[1])
    assert np.isfinite(result).all() and (result >= 0).all()
    rows = dict(zip(task.series_ids, result))
    np.testing.assert_allclose(rows["one"], 4.0)
    np.testing.assert_allclose(rows["zeros"], 0.0, atol=1e-12)
    np.testing.assert_allclose(rows["constant"], 5.0, atol=1e-9)
    np.testing.assert_array_equal(result, forecast_matrix(model, task))  # deterministic


def test_short_weekly_series_fall_back_to_ses():
    y = np.random.default_rng(21).poisson(20, 60).astype(float)  # under two years of weeks
    forecast = forecast_matrix(ETS(trend="add"), task_of({"a": y}, freq=Freq.WEEKLY))[0]
    assert np.ptp(forecast) == pytest.approx(0.0) and y.min() <= forecast[0] <= y.max()


def test_bad_settings_are_refused():
    with pytest.raises(ForecastError):
        ETS(seasonal="multiplicative")
    with pytest.raises(ForecastError):
        Theta(max_history=0)
    with pytest.raises(ForecastError):
        ARIMA(order=(1, 1))


# --- ARIMA ---------------------------------------------------------------------------------

def promo_series(seed: int, n: int, future: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    promo = np.r_[(rng.random(n) < 0.15).astype(float), future]
    t = np.arange(n)
    y = 30 * WEEK[t % 7] + 25 * promo[:n] + rng.normal(0, 2, n)
    return y, promo


def test_arima_forecasts_react_to_future_promotions():
    future = np.zeros(14)
    future[[2, 9]] = 1.0
    y, promo = promo_series(30, 150, future)
    with_promo = forecast_matrix(ARIMA(), task_of({"a": y}, exog={"promo": {"a": promo}}))[0]
    no_promo = np.r_[promo[:150], np.zeros(14)]
    without = forecast_matrix(ARIMA(), task_of({"a": y}, exog={"promo": {"a": no_promo}}))[0]
    uplift = with_promo - without
    assert 18 < uplift[2] < 32 and 18 < uplift[9] < 32
    np.testing.assert_allclose(np.delete(uplift, [2, 9]), 0.0, atol=1e-6)
    ignored = forecast_matrix(ARIMA(use_exog=False), task_of({"a": y}, exog={"promo": {"a": promo}}))[0]
    assert abs(ignored[2] - ignored[1]) < 18  # no promo effect without the regressor


def test_arima_falls_back_to_seasonal_naive_when_too_short():
    values = np.array([[np.nan, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]])
    panel = Panel(ids=np.array(["a"]), values=values, lengths=np.array([8]))
    out, fallbacks = arima_panel(panel, 9, 7, (1, 0, 1), (1, 0, 1, 7), None, None)
    assert fallbacks == (Fallback("snaive", "shorter than two seasons plus 10 periods (24)", ("a",)),)
    np.testing.assert_array_equal(out[0], [2, 3, 4, 5, 6, 7, 8, 2, 3])


# --- automatic ETS: the form chosen by AICc --------------------------------------------------

MONTHS = np.arange(96)


@pytest.fixture(scope="module")
def chosen() -> dict[str, str]:
    """ETS(error, trend, season) chosen for series whose structure is known."""
    rng = np.random.default_rng(40)
    series = {
        "noise": 100 + rng.normal(0, 5, 96),
        "trend": 50 + 2.0 * MONTHS + rng.normal(0, 1, 96),
        "season": 100 + 20 * np.sin(2 * np.pi * MONTHS / 12) + rng.normal(0, 2, 96),
        "both": (100 + 1.5 * MONTHS) * (1 + 0.2 * np.sin(2 * np.pi * MONTHS / 12)) + rng.normal(0, 2, 96),
    }
    y = np.column_stack(list(series.values()))
    fit = auto_ets(y, np.full(len(series), 96), 12, 12, candidate_forms("auto", False, "auto"))
    assert np.isfinite(fit.forecasts).all() and np.isfinite(fit.aicc).all()
    return dict(zip(series, fit.codes()))


def test_auto_ets_picks_the_form_the_series_needs(chosen):
    assert chosen["noise"].endswith(",N,N")  # white noise: no trend, no season
    assert chosen["trend"].split(",")[1] in ("A", "Ad") and chosen["trend"].endswith(",N")
    assert chosen["season"].split(",")[1] == "N" and chosen["season"][-1] in "AM"
    trend, season = chosen["both"].split(",")[1:]
    assert trend in ("A", "Ad") and season in ("A", "M")


def test_candidate_forms_and_parameter_counts():
    assert [f.code for f in candidate_forms("auto", False, "auto")] == [
        "N,N", "N,A", "N,M", "A,N", "A,A", "A,M", "Ad,N", "Ad,A", "Ad,M"]
    assert [f.code for f in candidate_forms("add", True, "auto")] == ["Ad,N", "Ad,A", "Ad,M"]
    assert [f.code for f in candidate_forms(None, False, "mul")] == ["N,M"]
    # as R forecast::ets: smoothing parameters + initial states (m - 1 seasonal) + the variance
    assert Form(False, False, None).n_params(12) == 3  # alpha, l0, sigma
    assert Form(True, True, "mul").n_params(12) == 4 + 2 + 11 + 1


@pytest.mark.parametrize("error", ["add", "mul"])
def test_likelihood_and_aicc_match_statsmodels_ets(error):
    y = 100 + 0.5 * MONTHS + 10 * np.sin(2 * np.pi * MONTHS / 12) + np.random.default_rng(1).normal(0, 2, 96)
    # statsmodels' likelihood at given parameters and initial states (fitting it takes seconds)
    season = 10 * np.sin(2 * np.pi * np.arange(12) / 12)
    theirs = ETSModel(y, error=error, trend="add", seasonal="add", seasonal_periods=12).smooth(
        np.r_[0.3, 0.06, 0.1, 100.0, 0.5, season])
    a = theirs.smoothing_level  # statsmodels' beta is Hyndman's (alpha * beta*), ours the Holt-Winters beta*
    params = Smoothing(*(np.array([[v]]) for v in (a, theirs.smoothing_trend / a, theirs.smoothing_seasonal, 1.0)))
    start = States(np.array([[theirs.initial_level]]), np.array([[theirs.initial_trend]]),
                   np.asarray(theirs.initial_seasonal, float)[:, None, None])
    fit = smooth_fit(y[:, None], np.array([96]), params, start, True, "add", relative=True)
    mine = minus_two_loglik(fit, np.array([96]), error == "mul")[0, 0]
    assert -mine / 2 == pytest.approx(theirs.llf, rel=1e-9)
    # statsmodels counts all 12 initial seasonal states, R (and we) 11: one more parameter there
    assert theirs.df_model == Form(True, False, "add").n_params(12) + 1
    assert aicc(mine, 96, theirs.df_model) == pytest.approx(theirs.aicc, rel=1e-9)


def test_fixed_forms_are_unchanged_by_the_automatic_default():
    task = task_of(PANEL)
    fixed = forecast_matrix(ETS(trend=None, seasonal="add"), task)
    grid = Smoothing.grid(False, False, True)
    assert grid.alpha.size == 28  # the fixed form still fits its own grid by least squares
    auto = forecast_matrix(ETS(), task)
    assert fixed.shape == auto.shape and np.isfinite(auto).all()


def test_zeros_get_an_additive_season_when_the_multiplicative_is_asked():
    y = noisy_seasonal(120, seed=41)
    y[::9] = 0.0
    forecast = forecast_matrix(ETS(trend=None, seasonal="mul"), task_of({"a": y}))[0]
    additive = forecast_matrix(ETS(trend=None, seasonal="add"), task_of({"a": y}))[0]
    assert np.isfinite(forecast).all() and np.ptp(forecast) > 1  # still seasonal
    assert np.abs(forecast - additive).max() < 0.5 * np.ptp(additive)


SEASON12 = 8 * np.sin(2 * np.pi * np.arange(12) / 12)  # sums to zero


def _sse_at(y: np.ndarray, params: np.ndarray, start: States, seasonal: str) -> np.ndarray:
    smoothing = Smoothing(*(params[:, k:k + 1] for k in range(4)))
    return smooth_fit(y, np.full(y.shape[1], len(y)), smoothing, start, True, seasonal).sse[:, 0]


def test_initial_states_of_a_noiseless_series_are_recovered_exactly():
    # ETS(A,A,A) without noise is a line plus the season: its one-step errors are zero from the true start
    y = (10 + 0.5 * MONTHS + SEASON12[MONTHS % 12])[:, None]
    params = np.array([[0.3, 0.1, 0.1, 1.0]])
    wrong = States(np.array([[12.0]]), np.array([[0.0]]), np.zeros((12, 1, 1)))
    assert _sse_at(y, params, wrong, "add")[0] > 100.0
    start, value = estimate_start(y, np.array([96]), params, wrong, [Form(True, False, "add")], "add",
                                  np.array([False]))
    assert start.level[0, 0] == pytest.approx(9.5, abs=1e-6)  # l0 + b0 = y_0 - s_0
    assert start.trend[0, 0] == pytest.approx(0.5, abs=1e-6)
    np.testing.assert_allclose(start.season[:, 0, 0], SEASON12, atol=1e-6)
    assert _sse_at(y, params, start, "add")[0] < 1e-12 and value.shape == (1,)


@pytest.mark.parametrize("form, seasonal", [(Form(True, True, "add"), "add"), (Form(False, False, None), "add"),
                                            (Form(True, False, "mul"), "mul")])
def test_estimated_initial_states_minimise_the_squared_errors(form, seasonal):
    rng = np.random.default_rng(7)
    y = np.column_stack([(50 + 0.3 * MONTHS + SEASON12[MONTHS % 12]) * (1 + 0.02 * k) + rng.normal(0, 2, 96)
                         for k in range(3)])
    params = np.tile([0.2, 0.1 if form.trend else 0.0, 0.1 if form.seasonal else 0.0, 0.9 if form.damped else 1.0],
                     (3, 1))
    first = initial_states(y, 12, form.trend, form.seasonal)
    if not form.seasonal:
        first = States(first.level, first.trend, np.zeros((12, 3, 1)))
    start, _ = estimate_start(y, np.full(3, 96), params, first, [form] * 3, seasonal, np.zeros(3, bool))
    assert (_sse_at(y, params, start, seasonal) < _sse_at(y, params, first, seasonal)).all()
    # the minimum of the sum of squared errors (additive season: exact; multiplicative: one
    # Gauss-Newton step, within 0.1 %): moving any state it estimates makes it no better
    best = _sse_at(y, params, start, seasonal) * (1 - 1e-3 if seasonal == "mul" else 1 - 1e-12)
    for shift in (-0.05, 0.05):
        assert (best <= _sse_at(y, params, States(start.level + shift, start.trend, start.season), seasonal)).all()
        if form.trend:
            moved = States(start.level, start.trend + shift / 10, start.season)
            assert (best <= _sse_at(y, params, moved, seasonal)).all()
        if form.seasonal:
            season = start.season.copy()
            season[3] += shift / 20
            season[7] -= shift / 20  # the season keeps its sum
            assert (best <= _sse_at(y, params, States(start.level, start.trend, season), seasonal)).all()
    if not form.trend:
        np.testing.assert_array_equal(start.trend, 0.0)  # a state the form lacks stays zero
    if not form.seasonal:
        np.testing.assert_array_equal(start.season, 0.0)


def test_damped_ets_from_the_automatic_fit_equals_its_own_fit():
    task = task_of({f"s{k}": noisy_seasonal(120, seed=50 + k, slope=0.02 * k) for k in range(6)})
    damped = ETS(trend="add", damped=True, seasonal="auto", top_forms=1)
    alone = forecast_matrix(damped, task), forecast_matrix(ETS(), task)
    fresh = task_of({f"s{k}": noisy_seasonal(120, seed=50 + k, slope=0.02 * k) for k in range(6)})
    panel = fresh.panel
    ETS().prefetch_with_damped(damped, panel, fresh.horizon, fresh)
    assert task_key(damped, panel, fresh.horizon) in fresh._cache and task_key(ETS(), panel, fresh.horizon) in fresh._cache
    np.testing.assert_allclose(forecast_matrix(damped, fresh), alone[0], rtol=1e-9)
    np.testing.assert_allclose(forecast_matrix(ETS(), fresh), alone[1], rtol=1e-9)
    with pytest.raises(ForecastError, match="damped"):
        ETS().prefetch_with_damped(ETS(trend="add", damped=True, seasonal="add"), panel, fresh.horizon, fresh)


def test_akaike_weights_average_the_refined_best_forms():
    rng = np.random.default_rng(11)
    y = np.column_stack([100 + 0.4 * MONTHS + SEASON12[MONTHS % 12] + rng.normal(0, 3, 96) for _ in range(3)])
    forms = candidate_forms("auto", False, "auto")
    one, three = (auto_ets(y, np.full(3, 96), 12, 12, forms, top=k) for k in (1, 3))
    np.testing.assert_array_equal(one.chosen, three.chosen)
    assert (three.aicc <= one.aicc + 1e-9).all()  # the least refined AICc of the three includes the winner's
    assert not np.allclose(one.forecasts, three.forecasts)  # the runners-up carry weight
    # no further from the winner than the spread of the three fits: a weighted mean
    assert np.isfinite(three.forecasts).all() and np.abs(three.forecasts - one.forecasts).max() < 5
    with pytest.raises(ForecastError, match="top_forms"):
        ETS(top_forms=0)


# --- the combination -----------------------------------------------------------------------

@pytest.mark.parametrize("how", ["mean", "median"])
def test_combination_is_the_mean_or_median_of_its_members(how):
    task = task_of(PANEL)
    members = [forecast_matrix(ETS(), task), forecast_matrix(Theta(), task),
               forecast_matrix(ETS(trend="add", damped=True, seasonal="auto", top_forms=1), task)]
    combined = forecast_matrix(Combination(members=("ets", "theta", "damped"), how=how), task)
    expected = np.mean(members, axis=0) if how == "mean" else np.median(members, axis=0)
    np.testing.assert_allclose(combined, expected, rtol=1e-12)
    np.testing.assert_allclose(forecast_matrix(Combination(), task), np.mean(members[:2], axis=0), rtol=1e-12)


def test_combination_names_its_members_fallbacks():
    task = task_of({"long": noisy_seasonal(100, seed=42), "short": noisy_seasonal(10, seed=43)})
    _, fallbacks = Combination().forecast_with_fallbacks(task)
    assert fallbacks == (Fallback("ses", "ETS (exponential smoothing): shorter than two seasons (14 periods)",
                                  ("short",)),)
    _, own = ETS().forecast_with_fallbacks(task)
    assert own == (Fallback("ses", "shorter than two seasons (14 periods)", ("short",)),)


def test_combination_settings_are_checked():
    with pytest.raises(ForecastError, match="members"):
        Combination(members=("ets",))
    with pytest.raises(ForecastError, match="members"):
        Combination(members=("ets", "arima"))
    with pytest.raises(ForecastError, match="how"):
        Combination(how="trimmed")
