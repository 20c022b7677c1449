"""The pilot readout: difference-in-differences against hand-computed panels, a seeded pilot
with a known effect, and the refusals."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.money.outcomes import SERIES_BALANCE, SeriesBalance
from core.pilot.evidence import MEASURE_LABELS, MEASURES, PROFIT, READ, Estimate, OnlineEvidence
from core.pilot.readout import (
    MEASURE_NAMES,
    NO_INTERVAL_NOTE,
    PilotReadout,
    ReadoutInputError,
    did_fit,
    effect_sentence,
    promise_sentence,
    read_out,
)

PRE = ("2026-01-05", "2026-01-18")  # 14 days
DURING = ("2026-01-19", "2026-02-01")  # 14 days


def panel(levels: dict[str, tuple[float, float]], days: int = 28, first: str = "2026-01-05",
          split: int = 14) -> pd.DataFrame:
    """Store-day outcomes: each store's profit at one level before day ``split`` and
    another after, plus a day pattern common to every store (which must cancel)."""
    dates = pd.date_range(first, periods=days, freq="D")
    common = 50.0 * np.sin(np.arange(days))  # weather, weekdays: the same for every store
    rows = []
    for store, (before, after) in levels.items():
        profit = np.where(np.arange(days) < split, before, after) + common
        rows.append(pd.DataFrame({"store": store, "ds": dates, "profit": profit, "waste_cost": 10.0,
                                  "lost_margin": np.nan, "stockout_days": 3.0}))
    return pd.concat(rows, ignore_index=True)


def hand_panel() -> pd.DataFrame:
    # Changes: T1 +30, C1 +10, C2 +6.
    return panel({"T1": (100.0, 130.0), "C1": (80.0, 90.0), "C2": (110.0, 116.0)})


def test_a_two_by_two_difference_in_differences_by_hand():
    readout = read_out(hand_panel(), ["T1"], ["C1", "C2"], PRE, DURING, chain_stores=10)
    row = readout.overall.set_index("measure").loc[PROFIT]
    assert row["per_store_day"] == pytest.approx(22.0)  # 30 - (10 + 6) / 2
    # One control residual each side of its mean (±2), the treated store alone: SSR 8 on
    # 1 df, se = sqrt(8 x (1/1 + 1/2)) = sqrt(12); t with 3 - 2 = 1 df.
    assert row["se"] == pytest.approx(np.sqrt(12))
    assert row["df"] == 1
    q = stats.t.ppf(0.975, 1)
    assert (row["low"], row["high"]) == pytest.approx((22 - q * np.sqrt(12), 22 + q * np.sqrt(12)))
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(22 / np.sqrt(12), 1))
    assert row["yearly"] == pytest.approx(22 * 365 * 10)
    assert row["yearly_low"] == pytest.approx(row["low"] * 3650)
    # A measure that did not move has no effect; one the data lacks is not read.
    assert readout.overall.set_index("measure").loc["waste_cost", "per_store_day"] == 0
    assert "lost_margin" not in set(readout.overall["measure"])
    assert tuple(map(str, readout.notes)) == ("Lost-sales margin is not recorded in this data, so it is not read.",)
    assert MEASURE_NAMES is MEASURE_LABELS  # one label map for the readout and the decision
    # Per store: T1's change less the control mean, the controls' spread as its own.
    own = readout.per_store[readout.per_store["measure"] == PROFIT].iloc[0]
    assert own["store"] == "T1" and own["per_store_day"] == pytest.approx(22.0)
    spread = np.std([10.0, 6.0], ddof=1) * np.sqrt(1 + 1 / 2)
    assert own["high"] - own["low"] == pytest.approx(2 * q * spread)
    assert own["yearly"] == pytest.approx(22 * 365)
    # Before the pilot: treated 100 against (80 + 110) / 2 = 95, each plus the same day pattern.
    balance = readout.balance.set_index("measure").loc[PROFIT]
    assert balance["difference"] == pytest.approx(5.0)
    assert balance["treated_mean"] - balance["control_mean"] == pytest.approx(5.0)
    # The placebo pilot in the pre-period: nobody moved, so no effect and the check passes.
    placebo = readout.pre_trend.set_index("measure").loc[PROFIT]
    assert placebo["per_store_day"] == pytest.approx(0.0, abs=1e-9) and readout.pre_trend_ok
    assert readout.pre == (date(2026, 1, 5), date(2026, 1, 18))
    assert readout.during == (date(2026, 1, 19), date(2026, 2, 1)) and readout.pilot_days == 14


def test_the_collapsed_fit_is_the_panel_fit_with_store_and_day_fixed_effects():
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(3)
    stores = [f"S{i}" for i in range(6)]
    dates = pd.date_range("2026-01-05", periods=28, freq="D")
    frame = pd.DataFrame([(s, d) for s in stores for d in dates], columns=["store", "ds"])
    frame["profit"] = rng.normal(1000, 200, len(frame)) + frame["store"].str[1:].astype(int) * 100
    treated = ["S0", "S3"]
    frame["effect"] = (frame["store"].isin(treated) & (frame["ds"] >= pd.Timestamp(DURING[0]))).astype(float)
    fit = smf.ols("profit ~ C(store) + C(ds) + effect", data=frame).fit(
        cov_type="cluster", cov_kwds={"groups": frame["store"].str[1:].astype(int)}, use_t=True)
    readout = read_out(frame, treated, ["S1", "S2", "S4", "S5"], PRE, DURING, chain_stores=6)
    assert readout.overall.set_index("measure").loc[PROFIT, "per_store_day"] == pytest.approx(fit.params["effect"])


def test_a_seeded_pilot_recovers_its_known_effect_inside_its_interval():
    rng = np.random.default_rng(20260)
    stores = [f"S{i:02d}" for i in range(10)]
    size = rng.lognormal(0, 0.3, len(stores))
    dates = pd.date_range("2026-01-05", periods=84, freq="D")
    chain = 1 + 0.1 * rng.standard_normal(len(dates))  # chain-wide days
    weekday = np.array([0.97, 0.98, 0.96, 0.93, 0.97, 1.07, 1.12])[dates.day_of_week]
    truth = 1500.0
    treated = ["S01", "S04", "S07"]
    rows = []
    for s, store in enumerate(stores):
        noise = np.zeros(len(dates))
        for d in range(len(dates)):  # AR(1) within the store
            noise[d] = 0.3 * (noise[d - 1] if d else 0) + rng.normal(0, 1500 * size[s] ** 0.6)
        profit = 8000 * size[s] * weekday * chain + noise
        if store in treated:
            profit[56:] += truth
        rows.append(pd.DataFrame({"store": store, "ds": dates, "profit": profit}))
    outcomes = pd.concat(rows, ignore_index=True)
    readout = read_out(outcomes, treated, [s for s in stores if s not in treated], ("2026-01-05", "2026-03-01"),
                       ("2026-03-02", "2026-03-29"), chain_stores=10)
    row = readout.overall.set_index("measure").loc[PROFIT]
    assert row["low"] <= truth <= row["high"]
    assert row["low"] > 0 and row["p_value"] < 0.05  # the sign is recovered
    assert abs(row["per_store_day"] - truth) < 0.5 * truth
    assert row["yearly"] == pytest.approx(row["per_store_day"] * 3650)
    assert readout.pre_trend_ok
    assert len(readout.per_store) == 3


def test_the_readout_becomes_the_decisions_online_evidence_and_round_trips():
    readout = read_out(hand_panel(), ["T1"], ["C1", "C2"], PRE, DURING, chain_stores=10)
    evidence = readout.to_evidence(design_id="d1", readout_id="r1", dataset_id="ds", store_column="store_id",
                                   offline_yearly_savings=19e6, offline_model="lgbm", batch_version=2)
    assert evidence.status == READ and evidence.treated == ("T1",) and evidence.control == ("C1", "C2")
    assert (evidence.start, evidence.end) == (date(2026, 1, 19), date(2026, 2, 1))
    assert [e.measure for e in evidence.estimates] == [m for m in MEASURES if m != "lost_margin"]
    profit = evidence.estimate(PROFIT)
    assert profit.yearly == pytest.approx(22 * 3650) and profit.low == pytest.approx(readout.overall["yearly_low"][0])
    assert OnlineEvidence.from_dict(evidence.to_dict()) == evidence
    again = PilotReadout.from_dict(readout.to_dict())
    pd.testing.assert_frame_equal(again.overall, readout.overall)
    pd.testing.assert_frame_equal(again.per_store, readout.per_store)
    assert again.pre == readout.pre and again.notes == readout.notes


def test_sentences_put_the_promise_beside_the_measurement():
    measured = Estimate(measure=PROFIT, per_store_day=3836.0, yearly=14e6, low=6e6, high=22e6, p_value=0.01)
    assert promise_sentence(measured, 19e6) == ("The backtest said ¥19.0M a year; the pilot measured ¥14.0M "
                                                "(95% interval ¥6.00M–¥22.0M).")
    assert promise_sentence(measured) == "The pilot measured ¥14.0M a year (95% interval ¥6.00M–¥22.0M)."
    unsure = Estimate(measure=PROFIT, per_store_day=1.0, yearly=3e6, low=-2e6, high=8e6, p_value=0.3)
    assert "−¥2.00M to ¥8.00M" in promise_sentence(unsure, 19e6)
    waste = Estimate(measure="waste_cost", per_store_day=-500.0, yearly=-2.1e6, low=-3.4e6, high=-0.8e6,
                     p_value=0.001)
    # The interval in the sentence's own direction: fell by ¥800K to ¥3.40M, not "−¥3.40M to −¥800K".
    assert effect_sentence(waste) == "Waste cost fell by ¥2.10M a year (95% interval: by ¥800K–¥3.40M)."
    stockouts = Estimate(measure="stockout_days", per_store_day=0.34, yearly=1250.0, low=300.0, high=2200.0,
                         p_value=0.01)
    assert effect_sentence(stockouts) == ("Stockout item-days rose by 1,250 item-days a year (95% interval: by "
                                          "300–2,200 item-days): the wrong way.")
    assert effect_sentence(unsure).startswith("Profit: no change the pilot could tell from noise")


def test_series_left_out_of_a_balanced_read_are_noted_for_the_pilots_stores():
    outcomes = hand_panel()
    outcomes.attrs[SERIES_BALANCE] = SeriesBalance(
        first=date(2026, 1, 5), last=date(2026, 2, 1), kept=("T1/A", "C1/A", "C2/A", "X/A"),
        left_out=("C1/B", "X/B"), per_store=pd.DataFrame({
            "store": ["C1", "C2", "T1", "X"], "series": [3, 1, 1, 2], "kept": [1, 1, 1, 1], "appeared": [0, 0, 0, 1],
            "ended": [1, 0, 0, 0], "outside": [1, 0, 0, 0]}))
    readout = read_out(outcomes, ["T1"], ["C1", "C2"], PRE, DURING, chain_stores=10)
    # Store X is not in the pilot: neither its series nor its left-out one are counted.
    assert str(readout.notes[-1]) == (
        "Each store is read on the series sold throughout 2026-01-05 to 2026-02-01, so the same series are summed "
        "before and during the pilot: 3 of 5 series. Left out, because they appeared or ended in that window: C1 1 "
        "(1 ended). 1 more series had no row in it.")
    assert tuple(map(str, read_out(hand_panel(), ["T1"], ["C1", "C2"], PRE, DURING, chain_stores=10).notes)) == (
        "Lost-sales margin is not recorded in this data, so it is not read.",)


def test_did_fit_needs_both_groups():
    with pytest.raises(ReadoutInputError, match="treated and control"):
        did_fit(np.array([1.0, 2.0, 3.0]), np.array([True, True, True]))


@pytest.mark.parametrize(("change", "message"), [
    (dict(treated=["T9"]), "None of the treated stores"),
    (dict(control=[]), "no control store"),
    (dict(control=["C1", "C9"]), "C9 is not in the data"),
    (dict(control=["C1", "T1"]), "cannot be both treated and control"),
    (dict(during=("2026-03-01", "2026-03-28")), "no day of the pilot yet"),
    (dict(pre=("2026-01-10", "2026-01-18")), "9 days of data, fewer than the 14 needed"),
    (dict(pre=("2026-01-05", "2026-01-20")), "must end before the pilot starts"),
])
def test_refusals_say_what_is_wrong(change, message):
    args = dict(outcomes=hand_panel(), treated=["T1"], control=["C1", "C2"], pre=PRE, during=DURING, chain_stores=10)
    args.update(change)
    with pytest.raises(ReadoutInputError, match=message):
        read_out(**args)


def test_a_pre_period_shorter_than_the_pilot_is_refused():
    outcomes = panel({"T1": (100.0, 130.0), "C1": (80.0, 90.0), "C2": (110.0, 116.0)}, days=34, split=14)
    with pytest.raises(ReadoutInputError, match="14 days of data, fewer than the 20 needed"):
        read_out(outcomes, ["T1"], ["C1", "C2"], PRE, ("2026-01-19", "2026-02-07"), chain_stores=10)


def test_stores_missing_days_are_refused():
    outcomes = hand_panel()
    outcomes = outcomes.drop(outcomes.index[(outcomes["store"] == "C2") & (outcomes["ds"] == "2026-01-20")])
    with pytest.raises(ReadoutInputError, match=r"days are missing for C2 \(1 of 28\)"):
        read_out(outcomes, ["T1"], ["C1", "C2"], PRE, DURING, chain_stores=10)


def test_on_the_demo_chain_the_interval_covers_the_pilots_exact_true_effect():
    """Three of ten stores order up to a batch (each series' mean of its last four same
    weekdays + 20 %) for 28 days; the same days simulated with every store on today's
    practice (the counterfactual: same demand) give the exact true effect."""
    from datetime import timedelta

    from core.backtest.engine import BacktestData
    from core.columns import DATE, Freq
    from core.data.demo import REFERENCE_END_DATE, DemoConfig, continue_chain, generate_chain
    from core.money.impact import Economics
    from core.money.outcomes import store_day_outcomes
    from core.pilot.simulate import true_outcomes

    config = DemoConfig(stores=10, items=30, years=1, seed=42, end_date=REFERENCE_END_DATE)
    chain = generate_chain(config)
    history = chain.sales
    treated = ["S002", "S005", "S009"]
    days = pd.date_range(REFERENCE_END_DATE + timedelta(days=1), periods=28, freq="D")
    recent = history[history[DATE] > days[0] - pd.Timedelta(days=29)]
    level = (recent.assign(weekday=recent[DATE].dt.day_of_week)
             .groupby(["store_id", "item_id", "weekday"])["y"].mean().rename("level").reset_index())
    grid = level[level["store_id"].isin(treated)].merge(
        pd.DataFrame({DATE: days, "weekday": days.day_of_week}), on="weekday")
    targets = grid.assign(order_up_to=np.ceil(grid["level"] * 1.2 + 1))[["store_id", "item_id", DATE, "order_up_to"]]
    pilot, counterfactual = continue_chain(config, 28, targets=targets), continue_chain(config, 28)

    def outcomes(rows: pd.DataFrame) -> pd.DataFrame:
        frame = pd.concat([history, rows], ignore_index=True)
        frame["unique_id"] = frame["store_id"].astype(str) + "/" + frame["item_id"].astype(str)
        data = BacktestData(frame=frame, freq=Freq.DAILY, name="demo", keys=("store_id", "item_id"),
                            orders="ordered", stockout="stockout")
        return store_day_outcomes(data, chain.items, Economics(), "store_id", start=days[0] - pd.Timedelta(days=56))

    measured, without = outcomes(pilot.sales), outcomes(counterfactual.sales)
    effect = measured.set_index(["store", DATE]) - without.set_index(["store", DATE])
    during = effect[effect.index.get_level_values(DATE) >= days[0]]
    on_treated = during.index.get_level_values("store").isin(treated)
    assert (during[~on_treated] == 0).all().all()  # control stores kept today's practice: nothing changed
    # The exact truth: the simulation's own demand and waste, with the pilot less without it.
    exact = (true_outcomes(pilot, chain.items).set_index(["store", DATE])
             - true_outcomes(counterfactual, chain.items).set_index(["store", DATE]))
    truth = exact[exact.index.get_level_values("store").isin(treated)].mean()
    # The replayed waste is the generator's own count of units thrown away.
    wasted = pilot.truth.merge(chain.items[["item_id", "unit_cost"]], on="item_id")
    wasted = (wasted["wasted"] * wasted["unit_cost"]).groupby([wasted["store_id"], wasted[DATE]]).sum()
    pilot_days = measured[measured[DATE] >= days[0]].set_index(["store", DATE])["waste_cost"]
    assert np.array_equal(pilot_days.to_numpy(), wasted.reindex(pilot_days.index).to_numpy())

    readout = read_out(measured, treated, [s for s in sorted(set(measured["store"])) if s not in treated],
                       (days[0] - pd.Timedelta(days=56), days[0] - pd.Timedelta(days=1)), (days[0], days[-1]),
                       chain_stores=10)
    rows = readout.overall.set_index("measure")
    assert truth["profit"] > 0
    # Measured outcomes: the interval covers the exact true effect.
    for measure in ("profit", "waste_cost", "stockout_days"):
        assert rows.loc[measure, "low"] <= truth[measure] <= rows.loc[measure, "high"], measure
    # Lost margin rests on demand nobody saw on stockout days: its estimate falls well short
    # of the truth, so it is given without interval or p-value and the decision never reads it.
    lost = rows.loc["lost_margin"]
    assert truth["lost_margin"] == pytest.approx(43226 / 84)  # ¥43,226 over 3 stores x 28 days
    assert lost["per_store_day"] == pytest.approx(240.922, abs=1e-3)  # 47 % of it
    assert lost[["se", "low", "high", "yearly_low", "yearly_high", "p_value"]].isna().all()
    assert readout.per_store.loc[readout.per_store["measure"] == "lost_margin", ["low", "high"]].isna().all().all()
    assert NO_INTERVAL_NOTE in readout.notes
    assert [e.measure for e in readout.to_evidence().estimates] == ["profit", "waste_cost", "stockout_days"]
    assert effect_sentence(readout.estimate("lost_margin")) == (
        "Lost-sales margin rose by an estimated ¥879K a year (estimated from the demand on stockout days, which is "
        "not observed: no interval).")
    assert readout.pilot_days == 28 and readout.pre_trend_ok

