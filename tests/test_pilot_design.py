"""The pilot design: matched pairs randomised within, the power calculation by placebo
pilots, the stored designs and readouts, the command line."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student

from core.pilot import charts
from core.pilot.design import (
    MAX_WEEKS,
    PILOT_MEASURES,
    DesignOptions,
    EarlierPilot,
    PilotDesign,
    PilotDesignError,
    PilotHistory,
    choose_weeks,
    design_pilot,
    earlier_pilots,
    match_pairs,
    mde_by_weeks,
    mde_multiplier,
    pilot_history,
    placebo_variance,
    readout_set_aside,
    redesign_weeks,
    smd,
    store_column,
    store_names,
)
from core.pilot.evidence import DESIGNED, NONE, READ, Estimate, OnlineEvidence
from core.pilot.store import (
    PilotNotFoundError,
    latest_design,
    latest_readout,
    list_designs,
    online_evidence,
    save_design,
    save_pilot_readout,
    save_readout,
)
from core.warehouse import Warehouse
from tests.conftest import store_run

# A hand-checked chain: A-B, C-D and E-F are the close pairs; G and H have no close partner.
STORES = pd.DataFrame({
    "store": list("ABCDEFGH"),
    "sales": [100.0, 102.0, 200.0, 203.0, 300.0, 310.0, 150.0, 400.0],
    "units": [10.0, 10.2, 20.0, 20.3, 30.0, 31.0, 15.0, 40.0],
    "size": [1.0, 1.0, 2.0, 2.0, 3.0, 3.1, 1.5, 4.0],
})


def as_sets(pairs) -> set[frozenset[str]]:
    return {frozenset(p) for p in pairs}


def iid_panel(stores: list[str], days: int, sd: float, seed: int = 1, mean: float = 10_000.0) -> pd.DataFrame:
    """Store-day profit, independent normal draws with ``sd`` around a store's own level."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-01", periods=days, freq="D")
    level = rng.uniform(0.5, 1.5, len(stores)) * mean
    profit = level[:, None] + rng.normal(0.0, sd, (len(stores), days))
    return pd.DataFrame({"store": np.repeat(stores, days), "ds": np.tile(dates, len(stores)),
                         "profit": profit.ravel()})


def history(features: pd.DataFrame = STORES, sd: float = 2_000.0, days: int = 730) -> PilotHistory:
    outcomes = iid_panel(features["store"].tolist(), days, sd)
    return PilotHistory(features=features, outcomes=outcomes, data_end=outcomes["ds"].max().date(),
                        chain_stores=len(features))


# ---------------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------------
def test_the_closest_stores_are_paired_and_one_of_each_pair_is_treated():
    matching = match_pairs(STORES, 3, seed=0)
    assert as_sets(matching.pairs) == {frozenset("AB"), frozenset("CD"), frozenset("EF")}
    treated = {t for t, _ in matching.pairs}
    assert len(treated) == 3 and not treated & {c for _, c in matching.pairs}
    assert matching.method == "greedy"


def test_swaps_improve_on_greedy_pairs():
    # On a line 0, 2, 3, 5 greedy takes (2, 3) first and is left with (0, 5): 1 + 5 = 6;
    # the swap finds (0, 2) and (3, 5): 2 + 2 = 4.
    line = pd.DataFrame({"store": list("PQRS"), "sales": [0.0, 2.0, 3.0, 5.0], "units": [0.0, 2.0, 3.0, 5.0]})
    assert as_sets(match_pairs(line, 2).pairs) == {frozenset("PQ"), frozenset("RS")}


def test_regions_are_matched_exactly_where_possible():
    stores = pd.DataFrame({"store": list("ABCD"), "sales": [100.0, 101.0, 150.0, 152.0], "units": [1.0] * 4,
                           "region": ["east", "west", "east", "west"]})
    assert as_sets(match_pairs(stores, 2).pairs) == {frozenset("AC"), frozenset("BD")}
    # without regions the nearest sales pair up
    assert as_sets(match_pairs(stores.drop(columns="region"), 2).pairs) == {frozenset("AB"), frozenset("CD")}
    # an odd store out per region: the two left over pair across regions
    odd = pd.DataFrame({"store": list("ABCDEF"), "sales": [100.0, 105.0, 300.0, 400.0, 110.0, 500.0],
                        "units": [1.0] * 6, "region": ["east", "east", "west", "north", "east", "west"]})
    pairs = as_sets(match_pairs(odd, 3).pairs)
    assert frozenset("CF") in pairs and frozenset("AB") in pairs and frozenset("DE") in pairs


def test_the_seed_fixes_which_store_of_each_pair_is_treated():
    first = match_pairs(STORES, 3, seed=7).pairs
    assert match_pairs(STORES, 3, seed=7).pairs == first
    draws = {match_pairs(STORES, 3, seed=s).pairs for s in range(12)}
    assert len(draws) > 1  # other seeds, other coins
    assert all(as_sets(d) == as_sets(first) for d in draws)  # the pairs themselves do not move


def test_the_coins_are_drawn_among_balanced_assignments():
    # Four pairs 40 apart: the treated store the larger in all four would differ by 0.33 SD; the
    # 6 of 16 assignments with two larger stores on each side differ by 0 and are the ones drawn.
    stores = pd.DataFrame({"store": list("ABCDEFGH"), "sales": [100.0, 140.0, 200.0, 240.0, 300.0, 340.0, 400.0,
                                                                440.0], "units": [1.0] * 8})
    drawn = set()
    for seed in range(20):
        matching = match_pairs(stores, 4, seed=seed)
        assert as_sets(matching.pairs) == {frozenset("AB"), frozenset("CD"), frozenset("EF"), frozenset("GH")}
        assert (matching.accepted, matching.considered, matching.smd_limit) == (6, 16, 0.1)
        treated = [t for t, _ in matching.pairs]
        assert abs(smd(stores.set_index("store").loc[treated, "sales"],
                       stores.set_index("store").loc[[c for _, c in matching.pairs], "sales"])) < 0.1
        drawn.add(tuple(treated))
    assert len(drawn) > 2  # still a lottery among the balanced draws


def test_pinned_stores_are_treated_and_get_their_closest_control():
    matching = match_pairs(STORES, 3, pinned=("C",), seed=0)
    assert ("C", "D") in matching.pairs
    assert as_sets(matching.pairs) == {frozenset("AB"), frozenset("CD"), frozenset("EF")}
    assert matching.method == "greedy+assignment"
    only = match_pairs(STORES, 2, pinned=("A", "H"), seed=0)
    assert {t for t, _ in only.pairs} == {"A", "H"} and only.method == "assignment"
    assert dict(only.pairs)["A"] == "B"


def test_matching_refuses_unknown_pins_and_too_many_pairs():
    with pytest.raises(PilotDesignError, match="Pinned store Z not in the data"):
        match_pairs(STORES, 2, pinned=("Z",))
    with pytest.raises(PilotDesignError, match="ask for at most 4 treated stores"):
        match_pairs(STORES, 5)


def test_standardised_mean_difference_by_hand():
    # means 2 and 3, variances 2 and 2: (2 − 3) / sqrt(2) = −0.7071
    assert smd(pd.Series([1.0, 3.0]), pd.Series([2.0, 4.0])) == pytest.approx(-1 / math.sqrt(2))
    assert smd(pd.Series([5.0, 5.0]), pd.Series([5.0, 5.0])) == 0.0


def test_options_refuse_bad_values_with_a_reason():
    for options, message in ((dict(treated=1), "at least 2 treated"), (dict(weeks=27), "1 to 26 weeks"),
                             (dict(alpha=0.7), "significance"), (dict(power=0.3), "power"),
                             (dict(smallest_effect_yearly=0), "above ¥0"),
                             (dict(treated=2, pinned=("A", "B", "C")), "pin fewer")):
        with pytest.raises(PilotDesignError, match=message):
            DesignOptions(**options)


# ---------------------------------------------------------------------------------
# Power
# ---------------------------------------------------------------------------------
def test_the_mde_matches_the_analytic_value_on_independent_profits():
    # 60 stores, 30 treated and 30 control, iid profit with sd 2,000: a store's change of mean
    # has variance σ² (1/D + 1/P), P = max(56, D), and MDE = (t_{.975} + t_{.8}) × sqrt(that ×
    # (1/30 + 1/30)) on 58 df.
    stores = tuple(f"S{i:02d}" for i in range(60))
    panel = iid_panel(list(stores), 1460, sd=2_000.0, seed=3)
    table = placebo_variance(panel, stores, pre_days=56, weeks=range(1, 27))
    assert not table["extrapolated"].any()
    assert table.set_index("weeks")["pre_days"].loc[[4, 8, 9, 26]].tolist() == [56, 56, 63, 182]
    points = mde_by_weeks(table, 30, 30, 0.05, 0.8, chain_stores=60)
    m = student.ppf(0.975, 58) + student.ppf(0.8, 58)
    assert mde_multiplier(0.05, 0.8, 58) == pytest.approx(m)
    assert mde_multiplier(0.05, 0.8, 8) == pytest.approx(2.306 + 0.889, abs=0.001)  # 5 + 5 stores
    for weeks in (1, 4, 12, 26):
        days = 7 * weeks
        analytic = m * math.sqrt(2_000.0 ** 2 * (1 / days + 1 / max(56, days)) * (2 / 30))
        point = next(p for p in points if p.weeks == weeks)
        assert point.mde_store_day == pytest.approx(analytic, rel=0.10)
        assert point.mde_yearly == pytest.approx(point.mde_store_day * 365 * 60)


def test_lengths_too_long_for_the_history_are_extrapolated_and_marked():
    stores = tuple(f"S{i}" for i in range(8))
    panel = iid_panel(list(stores), 200, sd=1_000.0)
    table = placebo_variance(panel, stores, pre_days=28)
    # a pre-period as long as the pilot and 4 windows a week apart fit 2D + 21 <= 200 days: 12 weeks
    assert table.loc[table["weeks"] <= 12, "extrapolated"].eq(False).all()
    assert table.loc[table["weeks"] > 12, "extrapolated"].all()
    assert table["variance"].notna().all() and (table["variance"] > 0).all()
    with pytest.raises(PilotDesignError, match="too short"):
        placebo_variance(iid_panel(list(stores), 60, sd=1.0), stores, pre_days=56)
    with pytest.raises(PilotDesignError, match="No profit recorded for store Z"):
        placebo_variance(panel, ("S0", "Z"), pre_days=28)


def test_the_duration_is_the_shortest_that_meets_the_target():
    points = design_pilot(history(), DesignOptions(treated=3, smallest_effect_yearly=1e12), "p", "d", "store")
    table = points.mde_table().set_index("weeks")["mde_yearly"]
    target = (table[3] + table[4]) / 2  # between 3 and 4 weeks
    assert table[3] > target >= table[4]
    design = design_pilot(history(), DesignOptions(treated=3, smallest_effect_yearly=target), "p", "d", "store")
    assert design.weeks == 4 and design.days == 28 and design.meets_target
    assert choose_weeks(design.mde_yearly_by_weeks, target) == 4
    assert design.start == design.data_end + timedelta(days=1)
    assert design.end == design.start + timedelta(days=27) and design.pre_days == 56
    assert "4 weeks with 3 treated and 3 control stores" in design.duration_sentence()
    # a length chosen by the user is kept, and says whether it meets the target
    short = design_pilot(history(), DesignOptions(treated=3, weeks=2, smallest_effect_yearly=target), "p", "d",
                         "store")
    assert short.weeks == 2 and not short.meets_target
    assert redesign_weeks(short, 4).meets_target
    assert redesign_weeks(short, 12).pre_days == 84  # the pre-period is at least as long as the pilot


def test_no_duration_suffices_says_so_and_what_it_would_take():
    design = design_pilot(history(), DesignOptions(treated=3, smallest_effect_yearly=1_000.0), "p", "d", "store",
                          offline_yearly_savings=5e6, offline_model="lgbm")
    assert not design.meets_target and design.weeks == MAX_WEEKS
    at_max = design.point(MAX_WEEKS).mde_yearly
    assert design.treated_needed == math.ceil(3 * (at_max / 1_000.0) ** 2)
    sentence = design.duration_sentence()
    assert sentence.startswith("No pilot of up to 26 weeks with 3 treated stores detects ¥1.00K a year")
    assert "half the chain" in sentence  # millions of stores would be needed, more than the chain has


def test_the_offline_estimate_is_the_default_target_and_must_be_a_saving():
    design = design_pilot(history(), DesignOptions(treated=3), "p", "d", "store", offline_yearly_savings=2e7,
                          offline_model="lgbm")
    assert design.smallest_effect_yearly == 2e7 and design.offline_model == "lgbm"
    assert design.measures == PILOT_MEASURES
    with pytest.raises(PilotDesignError, match="nothing to detect"):
        design_pilot(history(), DesignOptions(treated=3), "p", "d", "store", offline_yearly_savings=-5e5)
    with pytest.raises(PilotDesignError, match="smallest yearly effect"):
        design_pilot(history(), DesignOptions(treated=3), "p", "d", "store")


def test_the_default_is_half_the_stores_at_most_ten():
    many = pd.DataFrame({"store": [f"S{i:02d}" for i in range(30)], "sales": np.arange(30.0) * 10 + 100,
                         "units": np.arange(30.0)})
    design = design_pilot(history(many, days=400), DesignOptions(smallest_effect_yearly=1e9), "p", "d", "store")
    assert len(design.treated) == 10 == len(design.control)
    assert len(design_pilot(history(), DesignOptions(smallest_effect_yearly=1e9), "p", "d", "store").pairs) == 4
    # pinned stores alone are the treated ones unless more are asked for
    pinned = design_pilot(history(), DesignOptions(pinned=("A", "H"), smallest_effect_yearly=1e9), "p", "d", "store")
    assert pinned.treated == ("A", "H") and pinned.matching == "assignment"
    assert [b.pinned for b in pinned.balance] == [True, True]
    more = design_pilot(history(), DesignOptions(pinned=("C",), treated=3, smallest_effect_yearly=1e9), "p", "d",
                        "store")
    assert "C" in more.treated and len(more.treated) == 3 and ("C", "D") in more.pairs


# ---------------------------------------------------------------------------------
# Storage and evidence
# ---------------------------------------------------------------------------------
def a_design(project: str = "proj") -> PilotDesign:
    return design_pilot(history(STORES.assign(region=["e", "e", "w", "w", "e", "e", "w", "w"])),
                        DesignOptions(treated=3, smallest_effect_yearly=5e7), project, "ds1", "store",
                        offline_yearly_savings=5e7, offline_model="lgbm")


def test_a_design_round_trips_through_a_dict_and_the_warehouse(warehouse):
    design = a_design()
    assert PilotDesign.from_dict(json.loads(json.dumps(design.to_dict()))) == design
    assert latest_design(warehouse, "proj") is None
    first = save_design(warehouse, design)
    stored = latest_design(warehouse, "proj")
    assert stored.design_id == first and stored == design.__class__(**{**design.__dict__, "design_id": first})
    second = save_design(warehouse, redesign_weeks(design, 6))
    assert latest_design(warehouse, "proj").design_id == second and latest_design(warehouse, "proj").weeks == 6
    assert [d.design_id for d in list_designs(warehouse, "proj")] == [second, first]  # versions kept
    assert latest_design(warehouse, "other") is None


def evidence_of(design: PilotDesign) -> OnlineEvidence:
    return OnlineEvidence(status=READ, dataset_id=design.dataset_id, store_column="store", treated=design.treated,
                          control=design.control, start=design.start, end=design.end, chain_stores=8,
                          estimates=(Estimate("profit", 1_500.0, 4.4e6, 1.0e6, 7.8e6, 0.01),),
                          offline_yearly_savings=5e7, offline_model="lgbm")


def test_online_evidence_goes_from_none_to_designed_to_read(warehouse):
    assert online_evidence(warehouse, "proj").status == NONE
    assert online_evidence(warehouse, None).status == NONE
    design = a_design()
    design_id = save_design(warehouse, design)
    designed = online_evidence(warehouse, "proj")
    assert designed.status == DESIGNED and designed.design_id == design_id
    assert designed.treated == design.treated and designed.control == design.control
    assert designed.start == design.start and designed.end == design.start + timedelta(days=design.days - 1)
    assert designed.offline_yearly_savings == 5e7 and designed.chain_stores == 8 and not designed.estimates

    evidence = evidence_of(design)
    readout_id = save_readout(warehouse, "proj", design_id,
                              {"evidence": evidence.to_dict(), "per_store": [{"store": "A", "effect": np.float64(3)}],
                               "read_on": date(2026, 12, 1), "p": math.nan})
    read = online_evidence(warehouse, "proj")
    assert read.status == READ and read.readout_id == readout_id and read.design_id == design_id
    assert read.estimate("profit").yearly == 4.4e6 and read.estimate("profit").low == 1.0e6
    stored = latest_readout(warehouse, "proj")
    assert stored["readout_id"] == readout_id and stored["read_on"] == "2026-12-01" and stored["p"] is None
    assert stored["per_store"] == [{"store": "A", "effect": 3.0}]

    # a newer design is a new pilot: designed again, its predecessor's readout kept but not current
    save_design(warehouse, redesign_weeks(design, 8))
    assert online_evidence(warehouse, "proj").status == DESIGNED
    assert latest_readout(warehouse, "proj") is None
    assert latest_readout(warehouse, "proj", design_id)["readout_id"] == readout_id


class FakeReadout:
    """What ``save_pilot_readout`` asks of a ``PilotReadout``: ``to_dict`` and ``to_evidence``."""

    def __init__(self, evidence: OnlineEvidence) -> None:
        self.evidence = evidence

    def to_dict(self) -> dict:
        return {"treated": list(self.evidence.treated), "overall": [{"measure": "profit", "yearly": 4.4e6}]}

    def to_evidence(self, **ids) -> OnlineEvidence:
        return OnlineEvidence(**{**self.evidence.__dict__, **ids})


def test_a_readout_is_stored_with_the_evidence_of_its_design(warehouse):
    design = a_design()
    with pytest.raises(PilotNotFoundError, match="Store the pilot design"):
        save_pilot_readout(warehouse, design, FakeReadout(evidence_of(design)))
    design_id = save_design(warehouse, design)
    stored = latest_design(warehouse, "proj")
    readout_id = save_pilot_readout(warehouse, stored, FakeReadout(evidence_of(design)), batch_version=3)
    read = online_evidence(warehouse, "proj")
    assert (read.status, read.design_id, read.readout_id) == (READ, design_id, readout_id)
    assert (read.offline_yearly_savings, read.offline_model, read.batch_version) == (5e7, "lgbm", 3)
    assert latest_readout(warehouse, "proj")["overall"] == [{"measure": "profit", "yearly": 4.4e6}]


def test_a_readout_names_a_design_of_its_project(warehouse):
    design_id = save_design(warehouse, a_design())
    with pytest.raises(PilotNotFoundError, match="not one of this project's"):
        save_readout(warehouse, "other project", design_id, {"evidence": {}})
    with pytest.raises(PilotNotFoundError):
        save_readout(warehouse, "proj", "no such design", {})


# ---------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------
def test_the_charts_show_the_mde_the_target_and_each_pair():
    design = a_design()
    fig = charts.mde_chart(design)
    curve, target, chosen = fig.data
    assert list(curve.x) == list(range(1, 27))
    assert list(target.y) == [5e7, 5e7]
    assert list(chosen.x) == [design.weeks] and chosen.y[0] == pytest.approx(design.mde_yearly)
    assert all(text.startswith(("¥", "−¥")) for text in fig.layout.yaxis.ticktext)
    bars = charts.balance_chart(design)
    assert [b.name.split(" ")[0] for b in bars.data] == ["Treated", "Control"]
    assert len(bars.data[0].x) == 3 and list(bars.data[0].y) == [b.treated_sales for b in design.balance]


# ---------------------------------------------------------------------------------
# The demo chain and the command line
# ---------------------------------------------------------------------------------
def test_a_design_on_the_demo_chain_is_balanced(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    try:
        dataset = warehouse.list_datasets()[0]
        column = store_column(dataset)
        assert column == "store_id"
        found = pilot_history(warehouse, dataset, column, 56)
        assert len(found.features) == 10 and {"region", "size", "label"} <= set(found.features.columns)
        assert found.sales_unit == "yen" and found.chain_stores == 10
        design = design_pilot(found, DesignOptions(), "p", dataset.dataset_id, column, offline_yearly_savings=1.5e7)
    finally:
        warehouse.close()
    assert len(design.treated) == 5 == len(design.control)
    assert len(set(design.treated) | set(design.control)) == 10
    assert abs(design.smd["sales"]) < 0.25 and abs(design.smd["size"]) < 0.25
    assert design.smd_limit == 0.25 and 1 <= design.accepted_assignments < design.considered_assignments == 32
    assert "possible draws whose groups differ in sales and size by less than 0.25" in design.assignment_sentence()
    assert design.start == dataset.end_date + timedelta(days=1)
    same = sum(bool(b.same_region) for b in design.balance)
    assert same == 3  # 関東, 関西 and 九州 each hold a pair; 中部 and 北海道 have one store each
    assert 1 <= design.weeks <= MAX_WEEKS and design.point(design.weeks).windows > 100


def test_the_command_line_designs_and_stores_a_pilot(warehouse_env, capsys):
    from core.pilot.__main__ import main
    from core.planning.store import create_project, update_project

    warehouse = Warehouse(warehouse_env)
    project = create_project(warehouse, "Pilot CLI")
    dataset = warehouse.list_datasets()[0]
    update_project(warehouse, project, project.name, "", (dataset.dataset_id,), ())
    warehouse.close()

    code = main(["design", "--warehouse", str(warehouse_env), "--project", "pilot cli", "--treated", "4",
                 "--smallest-effect", "20000000", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and len(out["treated"]) == 4 and out["smallest_effect_yearly"] == 2e7
    warehouse = Warehouse(warehouse_env)
    try:
        assert latest_design(warehouse, project.project_id).design_id == out["design_id"]
    finally:
        warehouse.close()

    assert main(["design", "--warehouse", str(warehouse_env), "--project", "no such"]) == 2
    assert "No project named 'no such'" in capsys.readouterr().err
    assert main(["design", "--warehouse", str(warehouse_env), "--project", "Pilot CLI"]) == 2
    assert "--smallest-effect" in capsys.readouterr().err  # no run to take the offline estimate from


def test_the_command_line_takes_the_offline_estimate_from_the_projects_run(warehouse_env, capsys):
    from core.money.run_impact import run_impact
    from core.pilot.__main__ import main
    from core.planning.store import create_project, update_project

    warehouse = Warehouse(warehouse_env)
    try:
        run_id = store_run(warehouse, ("S001", "S002"), ("snaive", "ets"), 14, "pilot run")
        project = create_project(warehouse, "Pilot offline")
        update_project(warehouse, project, project.name, "", (), (run_id,))
        impact = run_impact(warehouse, run_id).impact
    finally:
        warehouse.close()
    models = impact.summary[impact.summary["policy"] != impact.baseline]
    best = models.loc[models["yearly_savings"].idxmax()]

    code = main(["design", "--warehouse", str(warehouse_env), "--project", "Pilot offline", "--weeks", "6",
                 "--no-save", "--json"])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert code == 0 and "pricing run" in captured.err
    assert out["offline_model"] == best["policy"]
    assert out["offline_yearly_savings"] == pytest.approx(best["yearly_savings"])
    assert out["smallest_effect_yearly"] == pytest.approx(best["yearly_savings"])
    assert out["weeks"] == 6 and out["days"] == 42 and out["design_id"] is None


def test_a_design_this_version_cannot_read_says_to_design_again(warehouse):
    from datetime import datetime

    from core.errors import WarehouseError

    with warehouse.transaction() as cur:
        cur.execute("INSERT INTO pilot_designs VALUES ('old', 'proj', 'ds1', ?, ?)",
                    [datetime(2026, 1, 2, 3, 4), json.dumps({"treated": ["A"]})])
    with pytest.raises(WarehouseError, match="stored on 2026-01-02 03:04 cannot be read .* design the pilot again"):
        latest_design(warehouse, "proj")


def test_the_design_never_proposes_a_single_week():
    """A week is mostly the changeover from the practice's stock: the proposed length is at least two,
    even when one week would detect the target; a user may still choose one."""
    huge = design_pilot(history(), DesignOptions(treated=3, smallest_effect_yearly=1e15), "p", "d", "store")
    assert huge.point(1).mde_yearly <= 1e15
    assert huge.weeks == 2 and huge.meets_target
    chosen = design_pilot(history(), DesignOptions(treated=3, weeks=1, smallest_effect_yearly=1e15), "p", "d", "store")
    assert chosen.weeks == 1


def test_store_names_are_the_distinct_values_of_the_store_key(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    try:
        dataset = warehouse.list_datasets()[0]
        assert store_names(warehouse, dataset, "store_id") == [f"S{i:03d}" for i in range(1, 11)]
        with pytest.raises(PilotDesignError, match="'region' is not a key of 'AI Shop demo chain': choose one of "
                                                   "store_id, item_id"):
            store_names(warehouse, dataset, "region")
    finally:
        warehouse.close()


# ---------------------------------------------------------------------------------
# After an earlier pilot
# ---------------------------------------------------------------------------------
def test_a_pre_period_holding_an_earlier_pilot_is_refused_with_the_days_needed():
    # history() ends on 2023-12-31; a pilot treated A and C on its last two weeks.
    just_ran = EarlierPilot(date(2023, 12, 18), date(2023, 12, 31), ("A", "C"), "simulated pilot: …")
    past = replace(history(), earlier_pilots=(just_ran,), dataset_name="Chain")
    with pytest.raises(PilotDesignError) as refused:
        design_pilot(past, DesignOptions(treated=3, weeks=2, smallest_effect_yearly=5e7), "p", "d", "store")
    assert str(refused.value) == (
        "The pre-period of this pilot, 2023-11-06 to 2023-12-31, holds the days of an earlier pilot on 'Chain', "
        "2023-12-18 to 2023-12-31 (A, C treated): on them the treated stores ordered from the model, so they are not "
        "ordinary days before the new pilot. The new pilot needs 56 ordinary days after 2023-12-31; 0 are in the "
        "data. Add 56 more days of today's practice (on the demo chain: extend it on Import & manage; with your own "
        "data: append them), then design again.")

    earlier = EarlierPilot(date(2023, 11, 1), date(2023, 11, 14), ("A", "C"), "simulated pilot: …")
    past = replace(history(), earlier_pilots=(earlier,))
    with pytest.raises(PilotDesignError, match=r"needs 56 ordinary days after 2023-11-14; 47 are in the data\. Add 9 "
                                               r"more days .* Or compare with the 6 weeks of ordinary days already "
                                               r"in: a pre-period and a pilot of at most 6 weeks each\.$"):
        design_pilot(past, DesignOptions(treated=3, weeks=2, smallest_effect_yearly=5e7), "p", "d", "store")
    design = design_pilot(past, DesignOptions(treated=3, weeks=2, pre_weeks=6, smallest_effect_yearly=5e7),
                          "p", "d", "store")
    assert design.pre_start == date(2023, 11, 20) and design.earlier_pilots == (earlier,)
    # A longer pilot compares with as many weeks before: 7 weeks reach back into the earlier pilot.
    with pytest.raises(PilotDesignError, match="pre-period of this pilot, 2023-11-13 to 2023-12-31, holds"):
        redesign_weeks(design, 7)
    assert redesign_weeks(design, 6).pre_start == date(2023, 11, 20)
    with pytest.raises(PilotDesignError, match="overlap an earlier pilot, 2023-11-01 to 2023-11-14 .* cannot be in "
                                               "two pilots on the same days"):
        design_pilot(past, DesignOptions(treated=3, weeks=2, pre_weeks=1, smallest_effect_yearly=5e7,
                                         start=date(2023, 11, 10)), "p", "d", "store")


def test_stores_an_earlier_pilot_treated_are_named_in_the_design():
    earlier = EarlierPilot(date(2023, 11, 1), date(2023, 11, 14), ("A", "C", "Z"), "simulated pilot: …")
    design = design_pilot(replace(history(), earlier_pilots=(earlier,), dataset_name="Chain"),
                          DesignOptions(treated=3, weeks=2, pre_weeks=6, smallest_effect_yearly=5e7), "p", "d",
                          "store")
    roles = {s: "treated" if s in design.treated else "a control" for s in ("A", "C")}
    assert set(design.carried_over()) == {"A", "C"}  # Z is not in the new pilot
    assert design.carry_over_sentence() == (
        f"A ({roles['A']} here) was treated in the pilot of 2023-11-01 to 2023-11-14; C ({roles['C']} here) was "
        "treated in the pilot of 2023-11-01 to 2023-11-14. A store may carry an earlier pilot's effect (habits its "
        "staff kept, stock ordered then): a control that carries it makes the measured difference smaller, a "
        "treated store that does makes its change smaller. Pin such stores as treated, or read their own effects "
        "in the readout's per-store table.")
    again = PilotDesign.from_dict(json.loads(json.dumps(design.to_dict())))
    assert again == design and again.dataset_name == "Chain" and again.earlier_pilots == (earlier,)
    old = {k: v for k, v in design.to_dict().items() if k not in ("dataset_name", "earlier_pilots")}
    assert PilotDesign.from_dict(old).dataset_name == "" and PilotDesign.from_dict(old).earlier_pilots == ()
    assert a_design().carry_over_sentence() is None


def _append_days(warehouse: Warehouse, dataset, first: date, days: int, source: str) -> None:
    """Copy the last ``days`` days of the dataset to ``first``.. and append them with ``source``."""
    from core.warehouse import quote

    frame = warehouse.query(f"SELECT * FROM {quote(dataset.table_name)} WHERE ds > ?",
                            [dataset.end_date - timedelta(days=days)])
    frame["ds"] = pd.to_datetime(frame["ds"]) + pd.Timedelta(days=(first - dataset.end_date).days + days - 1)
    warehouse.append_rows(dataset.dataset_id, frame, source=source)


def test_a_simulated_pilots_days_are_an_earlier_pilot_of_the_demo_chain(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    try:
        dataset = warehouse.list_datasets()[0]  # the demo chain ends on 2026-10-31
        _append_days(warehouse, dataset, date(2026, 11, 1), 7,
                     "simulated pilot: S001, S002 ordered from batch version 1, 2026-11-01 to 2026-11-07")
        dataset = warehouse.get_dataset(dataset.dataset_id)
        _append_days(warehouse, dataset, date(2026, 11, 8), 7,
                     "simulated pilot: S001, S002 ordered from batch version 1, 2026-11-08 to 2026-11-14")
        dataset = warehouse.get_dataset(dataset.dataset_id)
        found = earlier_pilots(warehouse, dataset)
        assert [(p.start, p.end, p.treated) for p in found] == [(date(2026, 11, 1), date(2026, 11, 14),
                                                                 ("S001", "S002"))]
        past = pilot_history(warehouse, dataset, "store_id", 56)
        assert past.dataset_name == "AI Shop demo chain" and past.earlier_pilots == found
        with pytest.raises(PilotDesignError, match=r"^The pre-period of this pilot, 2026-09-20 to 2026-11-14, holds "
                                                   r"the days of an earlier pilot on 'AI Shop demo chain', 2026-11-01 "
                                                   r"to 2026-11-14 \(S001, S002 treated\)"):
            design_pilot(past, DesignOptions(weeks=2), "p", dataset.dataset_id, "store_id", 1.5e7)
    finally:
        warehouse.close()


def test_saving_over_a_read_out_pilot_needs_replace_on_the_command_line(warehouse_env, capsys):
    from core.pilot.__main__ import main
    from core.planning.store import create_project, update_project

    warehouse = Warehouse(warehouse_env)
    try:
        project = create_project(warehouse, "Pilot replace")
        dataset = warehouse.list_datasets()[0]
        update_project(warehouse, project, project.name, "", (dataset.dataset_id,), ())
        design = replace(a_design(project.project_id), start=date(2026, 11, 1), days=14)
        design_id = save_design(warehouse, design)
        assert readout_set_aside(warehouse, project.project_id) is None  # designed, not read out
        save_readout(warehouse, project.project_id, design_id, {"evidence": {}})
        sentence = readout_set_aside(warehouse, project.project_id)
    finally:
        warehouse.close()
    assert sentence.startswith(f"The project's pilot of 2026-11-01 to 2026-11-14 ({', '.join(design.treated)} "
                               "treated) was read out on ")
    assert sentence.endswith("The GO/NO-GO decision reads the newest design's readout: saving a new design sets "
                             "that readout aside, and the decision has no measured pilot until the new one is read "
                             "out.")
    args = ["design", "--warehouse", str(warehouse_env), "--project", "Pilot replace", "--treated", "2",
            "--weeks", "2", "--smallest-effect", "20000000"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert sentence in err and err.strip().endswith("Give --replace to save the new design anyway, or --no-save to "
                                                    "print it only.")
    assert main([*args, "--no-save"]) == 0
    capsys.readouterr()
    assert main([*args, "--replace", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    warehouse = Warehouse(warehouse_env)
    try:
        assert [d.design_id for d in list_designs(warehouse, project.project_id)] == [out["design_id"], design_id]
    finally:
        warehouse.close()
