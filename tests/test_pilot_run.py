"""A designed pilot run end to end on the demo warehouse: design → publish → simulate (part,
then the rest) → read out → the decision's online evidence; and the refusals on the way."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import timedelta

import pandas as pd
import pytest

from core import fmt
from core.backtest.store import get_run, list_runs
from core.data.demo import REFERENCE_END_DATE
from core.decision import online
from core.i18n import render
from core.handoff import store as handoff_store
from core.handoff.batch import PublishOptions, prepare_batch
from core.money.impact import Economics
from core.money.run_impact import run_impact
from core.pilot.design import DesignOptions, design_pilot, pilot_history
from core.pilot.evidence import DESIGNED, LOST_MARGIN, MEASURES, PROFIT, READ
from core.pilot.readout import ReadoutInputError, read_out
from core.pilot.run import (
    PilotRunError,
    design_outcomes,
    offline_estimate,
    pilot_batch_version,
    pilot_status,
    piloted_promise,
    read_out_design,
    readout_table,
    simulate_design,
    simulated_batches,
    stored_readout,
)
from core.pilot.store import latest_design, latest_readout, online_evidence, save_design
from core.planning.store import create_project, list_projects
from core.warehouse import Warehouse
from tests.conftest import store_run

TREATED = ("S001", "S002")  # pinned: the batch below is published for these two stores only
START = REFERENCE_END_DATE + timedelta(days=1)


def _design(warehouse: Warehouse, project_id: str, weeks: int = 2):
    dataset = warehouse.list_datasets()[0]
    history = pilot_history(warehouse, dataset, "store_id", 28, Economics())
    options = DesignOptions(treated=2, pinned=TREATED, weeks=weeks, pre_weeks=4, smallest_effect_yearly=5e6)
    design = design_pilot(history, options, project_id, dataset.dataset_id, "store_id", 4e6, "ma")
    return replace(design, design_id=save_design(warehouse, design))


@pytest.fixture(scope="module")
def designed_file(demo_warehouse_file, tmp_path_factory):
    """The demo chain with a project, a two-week pilot design (S001 and S002 treated) and a
    moving-average run of those two stores — nothing published yet."""
    path = tmp_path_factory.mktemp("pilot_run") / "designed.duckdb"
    shutil.copy(demo_warehouse_file, path)
    warehouse = Warehouse(path)
    project = create_project(warehouse, "Pilot run")
    _design(warehouse, project.project_id)
    store_run(warehouse, TREATED, ("practice", "ma"), horizon=7, name="ma two stores")
    warehouse.close()
    return path


@pytest.fixture
def designed(designed_file, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(designed_file, path)
    warehouse = Warehouse(path)
    project = next(p for p in list_projects(warehouse) if p.name == "Pilot run")
    yield warehouse, project, latest_design(warehouse, project.project_id)
    warehouse.close()


def publish(warehouse: Warehouse, horizon: int) -> int:
    run = next(r for r in list_runs(warehouse) if r.name == "ma two stores")
    batch = prepare_batch(warehouse, run.run_id, PublishOptions.from_run(get_run(warehouse, run.run_id), "ma",
                                                                          horizon=horizon, service_level=0.9))
    return handoff_store.publish_batch(warehouse, batch)


def test_design_publish_simulate_and_read_out_a_pilot_as_it_runs(designed) -> None:
    warehouse, project, design = designed
    assert (design.treated, design.start, design.days) == (TREATED, START, 14)
    assert online_evidence(warehouse, project.project_id).status == DESIGNED

    status = pilot_status(warehouse, design)
    assert (status.days_present, status.days_planned, status.horizon_needed) == (0, 14, 14)
    assert status.batch_version is None and "horizon of at least 14 days on the Hand-off page" in \
        status.simulation_blocker()
    version = publish(warehouse, 14)
    status = pilot_status(warehouse, design)
    assert status.covered and status.simulation_blocker() is None
    assert status.batch_ordered_share == 1.0 and status.batch_warning() is None
    assert (status.batch_first, status.batch_last) == (START, START + timedelta(days=13))

    first = simulate_design(warehouse, design, days=5)
    assert (first.start, first.end, first.batch_version) == (START, START + timedelta(days=4), version)
    status = pilot_status(warehouse, design)
    assert (status.days_present, status.days_remaining, status.running) == (5, 9, True)
    assert status.sentence() == ("The pilot runs 2026-11-01 to 2026-11-14: 5 of its 14 days are in the data "
                                 "(to 2026-11-05); 9 to go.")

    readout, readout_id = read_out_design(warehouse, design)
    assert readout.pilot_days == 5 and readout.during == (START, START + timedelta(days=4))
    assert readout.pre == (START - timedelta(days=28), START - timedelta(days=1))
    assert str(readout.notes[0]).startswith("Read on 5 of the 14 planned days (to 2026-11-05): the pilot is still running")
    # an interim readout: the decision leaves the online criteria pending (core.decision.online.interim)
    evidence = online_evidence(warehouse, project.project_id)
    assert (evidence.status, evidence.days_read, evidence.days_planned) == (READ, 5, 14)
    assert (evidence.start, evidence.end) == (START, START + timedelta(days=4))
    assert online.interim(evidence) and online.planned_end(evidence) == design.end

    newer = publish(warehouse, 9)  # a refit in the middle of the pilot: the treated stores keep their batch
    assert pilot_status(warehouse, design).batch_version == version
    rest = simulate_design(warehouse, design)
    assert (rest.start, rest.end, rest.days, rest.batch_version) == (START + timedelta(days=5), design.end, 9, version)
    assert newer == version + 1 and simulated_batches(warehouse, design) == {version: (START, design.end)}
    assert pilot_status(warehouse, design).complete
    assert pilot_batch_version(warehouse, design) == version

    readout, readout_id = read_out_design(warehouse, design)
    assert readout.pilot_days == 14 and not any(str(n).startswith("Read on") for n in readout.notes)
    # The stored readout is exactly what the decision reads.
    evidence = online_evidence(warehouse, project.project_id)
    assert evidence.status == READ and evidence.readout_id == readout_id and evidence.design_id == design.design_id
    assert (evidence.treated, evidence.control) == (design.treated, design.control)
    assert (evidence.start, evidence.end, evidence.chain_stores) == (START, design.end, 10)
    assert (evidence.days_read, evidence.days_planned) == (14, 14) and online.finished(evidence)
    # The promise is the piloted batch's own: MA at one 90% level for every item, from the run it was published
    # from, as that run's money impact prices it (its sensitivity row at 90%), not the design's ¥4M.
    run = next(r for r in list_runs(warehouse) if r.name == "ma two stores")
    sensitivity = run_impact(warehouse, run.run_id).impact.sensitivity.set_index(["policy", "service_level"])
    at_90 = float(sensitivity.loc[("ma", 0.9), "yearly_savings"])
    assert evidence.offline_yearly_savings == pytest.approx(at_90, rel=1e-9)
    assert fmt.yen_short(evidence.offline_yearly_savings) == "\u2212¥8.53M"
    assert (evidence.offline_model, str(evidence.offline_ordering), evidence.batch_version) == \
        ("ma", "a 90% service level", version)
    assert (evidence.design_offline_yearly_savings, evidence.design_offline_model) == (4e6, "ma")
    assert readout.notes[-1] == evidence.notes[-1]  # the note as facts, stored and read back alike
    assert str(evidence.notes[-1]) == (
        "The treated stores ordered from batch v1, Moving average at a 90% service level; the pilot is read against "
        "that batch's own backtest promise, \u2212¥8.53M a year, not the design's promise (¥4.00M a year, Moving "
        "average).")
    assert evidence.batch_model == "ma"  # the model the treated stores ordered from, read from the batch
    assert (evidence.detectable_yearly, evidence.power, evidence.alpha) == (design.mde_yearly, 0.8, 0.05)
    stored = latest_readout(warehouse, project.project_id)
    overall = {row["measure"]: row for row in stored["overall"]}
    # lost-sales margin has no interval (core.pilot.readout.NO_INTERVAL): the decision does not read it
    assert [e.measure for e in evidence.estimates] == [m for m in MEASURES if m != LOST_MARGIN]
    for estimate in evidence.estimates:
        row = overall[estimate.measure]
        assert (estimate.per_store_day, estimate.yearly, estimate.low, estimate.high, estimate.p_value) == \
            (row["per_store_day"], row["yearly"], row["yearly_low"], row["yearly_high"], row["p_value"])
        assert estimate.yearly == pytest.approx(estimate.per_store_day * 365 * 10)
    # The same numbers as the readout computed directly on the design's outcomes.
    direct = read_out(design_outcomes(warehouse, design), design.treated, design.control,
                      (design.pre_start, START - timedelta(days=1)), (START, design.end), 10)
    assert direct.estimate(PROFIT).yearly == pytest.approx(evidence.estimate(PROFIT).yearly, rel=1e-12)
    again = stored_readout(warehouse, design)
    assert again.readout_id == readout_id and again.evidence == evidence
    assert list(readout_table(again.readout)["Measure"]) == ["Profit", "Waste cost", "Lost-sales margin",
                                                           "Stockout item-days"]

    with pytest.raises(PilotRunError, match="All 14 days of the pilot are in the data already: read it out"):
        simulate_design(warehouse, design)


def test_a_batch_too_short_says_which_horizon_to_publish(designed) -> None:
    warehouse, _, design = designed
    publish(warehouse, 7)
    status = pilot_status(warehouse, design)
    assert not status.covered
    assert status.simulation_blocker() == (
        "The published batch (version 1) forecasts 2026-11-01 to 2026-11-07; the pilot's days still to run are "
        "2026-11-01 to 2026-11-14. Publish a batch with a horizon of at least 14 days on the Hand-off page (it "
        "forecasts from the day after the data ends).")
    with pytest.raises(PilotRunError, match="horizon of at least 14 days"):
        simulate_design(warehouse, design)
    assert warehouse.get_dataset(design.dataset_id).end_date == REFERENCE_END_DATE  # nothing appended

    # Started on that short batch anyway (named), the pilot keeps it: a newer batch does not take over halfway.
    simulate_design(warehouse, design, days=5, batch_version=1)
    assert simulated_batches(warehouse, design) == {1: (START, START + timedelta(days=4))}
    publish(warehouse, 9)  # v2 covers the 9 days left
    status = pilot_status(warehouse, design)
    assert status.batch_version == 1 and status.simulation_blocker() == (
        "The pilot's batch v1 forecasts 2026-11-01 to 2026-11-07; its days still to run are 2026-11-06 to 2026-11-14, "
        "and a pilot orders from one batch (its first days ordered from this one): read out the days it has, or "
        "design the pilot again and publish once, with a horizon covering the whole pilot, before it starts.")
    with pytest.raises(PilotRunError, match="read out the days it has, or design the pilot again"):
        simulate_design(warehouse, design)
    with pytest.raises(PilotRunError) as refused:
        simulate_design(warehouse, design, batch_version=2)
    assert str(refused.value) == (
        "The pilot's days 2026-11-01 to 2026-11-05 ordered from batch v1; a pilot orders from one batch, or its "
        "readout would measure a mix of two forecasts against one promise. Simulate its other days from v1, or "
        "design the pilot again and publish once, with a horizon covering the whole pilot, before it starts.")
    assert warehouse.get_dataset(design.dataset_id).end_date == START + timedelta(days=4)  # nothing more appended
    assert pilot_batch_version(warehouse, design) == 1


def test_refusals(designed) -> None:
    warehouse, project, design = designed
    with pytest.raises(ReadoutInputError, match="no day of the pilot yet"):
        read_out_design(warehouse, design)
    assert online_evidence(warehouse, project.project_id).status == DESIGNED  # nothing stored
    with pytest.raises(PilotRunError, match="Save the pilot design first"):
        read_out_design(warehouse, replace(design, design_id=None))
    with pytest.raises(PilotRunError, match="Save the pilot design first"):
        simulate_design(warehouse, replace(design, design_id=None))
    publish(warehouse, 14)
    with pytest.raises(PilotRunError, match="choose 1 to 14, not 15"):
        simulate_design(warehouse, design, days=15)
    later = replace(design, start=START + timedelta(days=3))
    assert "extend the demo chain by 3 days first" in pilot_status(warehouse, later).simulation_blocker()


def test_imported_data_counts_its_appended_days_and_is_not_simulated(designed, small_spec) -> None:
    from tests.conftest import small_frame

    warehouse, project, demo_design = designed
    frame = small_frame(stores=4, items=2, days=70)
    dataset = warehouse.create_dataset(small_spec, frame[frame["ds"] < "2025-03-05"])  # 63 days of history
    design = replace(demo_design, dataset_id=dataset.dataset_id, store_column="store", treated=("S0", "S1"),
                     control=("S2", "S3"), pairs=(("S0", "S2"), ("S1", "S3")), start=dataset.end_date
                     + timedelta(days=1), days=7, design_id=None)
    design = replace(design, design_id=save_design(warehouse, design))
    assert design.start == pd.Timestamp("2025-03-05").date()
    warehouse.append_rows(dataset.dataset_id, frame[frame["ds"].between("2025-03-05", "2025-03-07")])
    status = pilot_status(warehouse, design)
    assert (status.generated, status.days_present, status.days_planned, status.running) == (False, 3, 7, True)
    assert "was imported, not generated" in status.simulation_blocker()
    with pytest.raises(PilotRunError, match="appending them on Import & manage"):
        simulate_design(warehouse, design)
    # Nothing was published for those days: no store had a forecast to order from, nothing to read out.
    with pytest.raises(PilotRunError, match=r"No batch published for 'small' covers the pilot's first day "
                                            r"\(2025-03-05\): the treated stores had no forecast to order from"):
        read_out_design(warehouse, design)


def test_days_the_demo_chain_was_extended_by_are_not_a_pilot(designed) -> None:
    """A pilot's days added as ordinary days (--extend, not a simulation) are refused at readout."""
    from core.data.demo import extend_demo

    warehouse, project, design = designed
    extend_demo(warehouse, design.dataset_id, 7)
    with pytest.raises(PilotRunError, match="7 of the pilot's 7 days in 'AI Shop demo chain' are ordinary days "
                                            r"of the demo chain \(its history, or days it was extended by\)"):
        read_out_design(warehouse, design)
    assert online_evidence(warehouse, project.project_id).status == DESIGNED  # nothing stored


def test_offline_estimate_is_the_best_models_yearly_savings(designed) -> None:
    from core.money.run_impact import run_impact

    warehouse, project, _ = designed
    run_id = store_run(warehouse, ("S003",), ("practice", "snaive", "ma"), horizon=7, name="three")
    impact = run_impact(warehouse, run_id).impact
    models = impact.summary[impact.summary["policy"] != "practice"].set_index("policy")["yearly_savings"]
    assert offline_estimate(warehouse, project, run_id) == (float(models.max()), str(models.idxmax()))
    assert offline_estimate(warehouse, project, run_id, impact) == (float(models.max()), str(models.idxmax()))
    # Once a model of the run is published, the pilot will test that one: its promise, not the best saver's.
    other = next(m for m in ("snaive", "ma") if m != models.idxmax())
    batch = prepare_batch(warehouse, run_id, PublishOptions.from_run(get_run(warehouse, run_id), other, horizon=7,
                                                                      service_level=0.9))
    handoff_store.publish_batch(warehouse, batch)
    assert offline_estimate(warehouse, project, run_id, impact) == (float(models[other]), other)


def test_command_line_simulates_and_reads_out_the_latest_design(designed, capsys) -> None:
    from core.pilot.__main__ import main

    warehouse, project, design = designed
    publish(warehouse, 14)
    path = str(warehouse.path)
    warehouse.close()
    assert main(["simulate", "--warehouse", path, "--project", "Pilot run", "--days", "7", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["start"], out["end"], out["days"], out["days_present"]) == ("2026-11-01", "2026-11-07", 7, 7)
    assert out["treated"] == list(TREATED) and out["control"] == list(design.control)
    assert set(out["true_effect_per_store_day"]) == set(MEASURES)

    assert main(["readout", "--warehouse", path, "--project", "Pilot run", "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    assert stored["design_id"] == design.design_id and stored["evidence"]["status"] == READ
    assert pd.Timestamp(stored["during"][1]).date() == START + timedelta(days=6)

    assert main(["readout", "--warehouse", path, "--project", "Pilot run"]) == 0
    text = capsys.readouterr().out
    # the promise of the batch piloted (MA at 90%), not the design's ¥4M
    assert "The backtest said \u2212¥8.53M a year; the pilot measured" in text and "note: Read on 7 of the 14" in text

    # A control store misses a pilot day: the readout refuses, and reads the others with --exclude.
    missing, partner = design.pairs[0][1], design.pairs[0][0]
    warehouse = Warehouse(path)
    table = warehouse.get_dataset(design.dataset_id).table_name
    with warehouse.transaction() as cur:
        cur.execute(f'DELETE FROM "{table}" WHERE store_id = ? AND ds = ?', [missing, START + timedelta(days=2)])
    warehouse.close()
    assert main(["readout", "--warehouse", path, "--project", "Pilot run"]) == 2
    assert f"days are missing for {missing} (1 of 35)" in capsys.readouterr().err
    assert main(["readout", "--warehouse", path, "--project", "Pilot run", "--exclude", f"{missing}, S099"]) == 2
    assert capsys.readouterr().err == f"error: S099 is not in the pilot: leave out only its stores " \
        f"({', '.join((*design.treated, *design.control))}).\n"
    assert main(["readout", "--warehouse", path, "--project", "Pilot run", "--exclude", missing, "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    control = [s for s in design.control if s != missing]
    assert stored["control"] == stored["evidence"]["control"] == control and len(control) == 1  # of 2 paired
    assert stored["evidence"]["treated"] == list(TREATED)
    assert stored["notes"][1] == stored["evidence"]["notes"][1]  # stored as facts (core.i18n.to_json)
    assert render(stored["notes"][1]) == (
        f"Left out of this readout: {missing} (control, paired with {partner}, which stays in). Only the stores named "
        "are left out, not their pair partners: the difference-in-differences compares the treated stores' mean "
        "change with the control stores', which needs no pairs, and keeping a partner keeps its data; the two "
        "groups are less alike than designed (see the balance before the pilot), and with fewer stores the "
        "interval is wider.")
    assert render(stored["notes"][0]).startswith("Read on 7 of the 14 planned days")
    assert [row["df"] for row in stored["overall"] if row["measure"] == "profit"] == [1.0]  # 3 stores − 2
    assert "With one control store no treated store's own effect can be given an interval." in map(render,
                                                                                                  stored["notes"])

    assert main(["simulate", "--warehouse", path, "--project", "Pilot run"]) == 0
    assert "all 14 days are in the data" in capsys.readouterr().out
    assert main(["simulate", "--warehouse", path, "--project", "Pilot run"]) == 2
    assert "All 14 days of the pilot are in the data already" in capsys.readouterr().err


def test_a_batch_without_order_quantities_is_a_poor_test_and_says_so(designed) -> None:
    """Bare forecasts cover demand on about half the days: not what the money impact priced."""
    warehouse, _, design = designed
    run = next(r for r in list_runs(warehouse) if r.name == "ma two stores")
    batch = prepare_batch(warehouse, run.run_id, PublishOptions.from_run(get_run(warehouse, run.run_id), "ma",
                                                                          horizon=14))
    handoff_store.publish_batch(warehouse, batch)
    status = pilot_status(warehouse, design)
    assert status.simulation_blocker() is None and status.batch_ordered_share == 0.0
    assert status.batch_warning().startswith("The published batch v1 has no order quantities: the treated stores "
                                             "would order the bare forecast")


def test_the_promise_is_the_piloted_batchs_model_at_its_ordering(designed) -> None:
    """Profit-optimal per item: the run's summary row (as the design priced it, so no note when the
    model is the design's too); another model than the design's: noted; bare forecasts: not priced."""
    from core.pilot.store import PilotedPromise

    warehouse, _, design = designed
    run = next(r for r in list_runs(warehouse) if r.name == "ma two stores")
    info = get_run(warehouse, run.run_id)
    optimal = handoff_store.publish_batch(warehouse, prepare_batch(warehouse, run.run_id, PublishOptions.from_run(
        info, "ma", horizon=14, profit_optimal=True)))
    bare = handoff_store.publish_batch(warehouse, prepare_batch(warehouse, run.run_id, PublishOptions.from_run(
        info, "ma", horizon=14)))
    summary = run_impact(warehouse, run.run_id).impact.summary.set_index("policy")
    promise, note = piloted_promise(warehouse, design, optimal)
    assert (promise.model, str(promise.ordering)) == ("ma", "profit-optimal per item") and note is None
    assert promise.yearly_savings == pytest.approx(float(summary.loc["ma", "yearly_savings"]), rel=1e-9)

    other = replace(design, offline_model="snaive", offline_yearly_savings=2e7)
    promise, note = piloted_promise(warehouse, other, optimal)
    assert str(note) == (f"The treated stores ordered from batch v1, Moving average at profit-optimal per item; the pilot "
                    f"is read against that batch's own backtest promise, {fmt.yen_short(promise.yearly_savings)} a "
                    "year, not the design's promise (¥20.0M a year, Seasonal naive).")

    promise, note = piloted_promise(warehouse, design, bare)
    assert (promise.model, promise.yearly_savings, str(promise.ordering), str(note)) == ("ma", None, "the bare forecast", (
        "The treated stores ordered the bare forecasts of batch v2 (Moving average, no order quantities): the money "
        "impact prices ordering with safety stock, not bare forecasts, so no backtest figure is set beside the "
        "pilot's measurement (the design's promise (¥4.00M a year, Moving average) was for ordering with safety "
        "stock)."))
    # no batch known: the design's own promise
    assert piloted_promise(warehouse, design, None) == (PilotedPromise("ma", 4e6), None)


def test_leaving_out_stores_keeps_a_treated_and_three_stores(designed) -> None:
    warehouse, _, design = designed
    with pytest.raises(PilotRunError, match=r"Leaving out S001, S002 leaves 0 treated and 2 control stores; a difference-in-differences"):
        read_out_design(warehouse, design, exclude=("S001", "S002"))
