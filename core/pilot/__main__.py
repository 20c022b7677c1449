"""The pilot from the command line:

    python -m core.pilot design --project NAME|ID [--dataset NAME|ID] [--treated N] [--pin S001,S002]
        [--weeks W] [--pre-weeks 8] [--alpha 0.05] [--power 0.8] [--smallest-effect YEN]
        [--offline-savings YEN --offline-model ALIAS] [--seed 0] [--start YYYY-MM-DD] [--no-save] [--replace] [--json]

``design`` matches treated and control stores on the pre-period, sizes the pilot's length
by a power calculation on the history's store-day profit (``core.pilot.design``) and
stores the design with the project (``--no-save``: print it only). A pre-period holding an
earlier pilot's days is refused (``core.pilot.design.check_earlier_pilots``), and a design
is not saved over a pilot already read out unless ``--replace`` (the decision reads the
newest design's readout). The smallest yearly
effect worth detecting defaults to the offline money estimate: ``--offline-savings``
when given (instant), else the money impact of the project's newest linked run on the
dataset, priced with the project's money settings (``core.money.run_impact``: a shelf
simulation of every model of the run, seconds on the demo chain), taking the model that
saves the most. The decision's chosen model is not read here: the pilot sits below the
decision. ``--json`` prints the stored design as JSON on stdout instead of the summary.

    python -m core.pilot monitor --dataset NAME|ID [--version N] [--stores S001,S002] [--no-money]
        [--fail-on-alert] [--json]

``monitor`` measures a published batch week by week against the actuals appended since
(WAPE, bias and MAE against the backtest's band, alerts, the money realised so far;
``core.pilot.monitor``), stores the result in ``forecast_monitoring`` and prints it;
``--fail-on-alert`` exits with 1 when a week alerts.

    python -m core.pilot simulate --project NAME|ID [--days N] [--batch-version N] [--json]

``simulate`` runs the project's latest design on the generated demo chain (``core.pilot.run``):
the treated stores order from the published batch, the controls keep today's practice, and
the pilot's days (all that remain, or the next ``--days``) are appended to the dataset; it
prints the true effect the demo's counterfactual knows.

    python -m core.pilot readout --project NAME|ID [--level 0.95] [--exclude S003,S004] [--json]

``readout`` reads the latest design's pilot out on its days in the data so far
(difference-in-differences, ``core.pilot.readout``) against the promise of the batch the
treated stores ordered from, and stores the readout with the project for the decision;
``--exclude`` leaves stores out (one that misses days, say: only those stores, not their
pair partners; the readout notes it); ``--json`` prints the stored readout (its
``evidence`` key is what the decision reads).

The warehouse is $MITOSHI_WAREHOUSE or --warehouse. Bad arguments or data: one line on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from core import fmt
from core.backtest.store import get_run
from core.errors import MitoshiError
from core.money.impact import Economics
from core.money.store import load_impact_settings
from core.pilot.design import (
    MAX_WEEKS,
    DesignOptions,
    PilotDesign,
    PilotDesignError,
    design_pilot,
    pilot_history,
    readout_set_aside,
)
from core.pilot.design import store_column as find_store_column
from core.pilot.evidence import OnlineEvidence
from core.pilot.monitor import add_monitor
from core.pilot.readout import effect_sentence, promise_sentence
from core.pilot.run import offline_estimate, pilot_status, project_run, read_out_design, readout_table, simulate_design
from core.pilot.store import EVIDENCE_KEY, json_ready, latest_design, latest_readout, save_design
from core.planning.store import Project, find_project
from core.warehouse import Dataset, Warehouse, warehouse_path


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _share(text: str) -> float:
    """0.05 or 5%."""
    value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    if value >= 1:
        value /= 100  # "5" meant 5 %
    return value


def common() -> argparse.ArgumentParser:
    """The options every command takes (a parent parser)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--warehouse", type=Path, default=None, help="warehouse file (default: $MITOSHI_WAREHOUSE)")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    return p


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core.pilot", description=__doc__.splitlines()[0])
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_design(commands)
    add_monitor(commands, [common()])
    add_simulate(commands)
    add_readout(commands)
    return p


def add_design(commands: argparse._SubParsersAction) -> None:
    d = commands.add_parser("design", parents=[common()],
                            help="choose treated and control stores and the pilot's length",
                            description="Match treated and control stores, size the pilot by a power calculation, "
                                        "store the design with the project.")
    d.add_argument("--project", required=True, help="the project's name or id")
    d.add_argument("--dataset", default=None, help="name or id of the dataset (default: the newest linked run's, "
                                                   "or the project's only linked dataset)")
    d.add_argument("--store-column", default=None, help="the key column naming a store (default: found by name)")
    d.add_argument("--treated", type=int, default=None, help="treated stores (default: half the stores, at most 10)")
    d.add_argument("--pin", type=_names, default=(), metavar="S1,S2", help="stores that must be treated")
    d.add_argument("--weeks", type=int, default=None,
                   help=f"the pilot's length, 1-{MAX_WEEKS} (default: the shortest that detects the effect)")
    d.add_argument("--pre-weeks", type=int, default=8, help="weeks before the pilot it is compared with (default 8)")
    d.add_argument("--alpha", type=_share, default=0.05, help="two-sided significance (default 0.05)")
    d.add_argument("--power", type=_share, default=0.8, help="power (default 0.8)")
    d.add_argument("--smallest-effect", type=float, default=None, metavar="YEN",
                   help="smallest yearly effect worth detecting, yen a year (default: the offline estimate)")
    d.add_argument("--offline-savings", type=float, default=None, metavar="YEN",
                   help="the offline estimate of yearly savings (skips pricing the run)")
    d.add_argument("--offline-model", default=None, help="the model the offline estimate is of")
    d.add_argument("--run", default=None, help="the run to price for the offline estimate (default: the project's "
                                               "newest linked run on the dataset)")
    d.add_argument("--seed", type=int, default=0, help="seed of the coin that picks the treated store of each pair")
    d.add_argument("--start", type=date.fromisoformat, default=None,
                   help="the pilot's first day, YYYY-MM-DD (default: the day after the data ends)")
    d.add_argument("--no-save", action="store_true", help="print the design without storing it")
    d.add_argument("--replace", action="store_true",
                   help="save even though the project's current pilot was read out (the decision then reads the "
                        "new design, not that readout)")
    d.set_defaults(handler=run_design)


def _dataset(warehouse: Warehouse, project: Project, text: str | None, run_dataset: str | None) -> Dataset:
    if text:
        dataset = warehouse.find_dataset(text) or next(
            (d for d in warehouse.list_datasets() if d.dataset_id == text), None)
        if dataset is None:
            raise MitoshiError(f"No dataset named '{text}'. Give a dataset's name or id.")
        return dataset
    if run_dataset:
        return warehouse.get_dataset(run_dataset)
    if len(project.dataset_ids) == 1:
        return warehouse.get_dataset(project.dataset_ids[0])
    if not project.dataset_ids:
        raise MitoshiError(f"The project '{project.name}' has no linked dataset or run: give --dataset.")
    raise MitoshiError(f"The project '{project.name}' links {len(project.dataset_ids)} datasets: choose one with "
                       "--dataset.")


def design_command(warehouse: Warehouse, args: argparse.Namespace) -> PilotDesign:
    project = find_project(warehouse, args.project)
    run_id = args.run
    dataset_hint = None
    if args.dataset:
        dataset = _dataset(warehouse, project, args.dataset, None)
    else:
        run_id = run_id or project_run(warehouse, project, None)
        if run_id:
            dataset_hint = get_run(warehouse, run_id).dataset_id
        dataset = _dataset(warehouse, project, None, dataset_hint)
    options = DesignOptions(treated=args.treated, pinned=args.pin, weeks=args.weeks, pre_weeks=args.pre_weeks,
                            alpha=args.alpha, power=args.power, smallest_effect_yearly=args.smallest_effect,
                            seed=args.seed, start=args.start)
    savings, model = args.offline_savings, args.offline_model
    if savings is None:
        run_id = run_id or project_run(warehouse, project, dataset.dataset_id)
        if run_id:
            print(f"pricing run {run_id} for the offline estimate …", file=sys.stderr, flush=True)
            savings, model = offline_estimate(warehouse, project, run_id)
        elif args.smallest_effect is None:
            raise PilotDesignError(f"The project '{project.name}' has no run on '{dataset.name}' to take the offline "
                                   "estimate from: give --smallest-effect YEN or --offline-savings YEN.")
    column = args.store_column or find_store_column(dataset)
    settings = load_impact_settings(warehouse, project.project_id, dataset.dataset_id)
    history = pilot_history(warehouse, dataset, column, options.pre_days,
                            settings.economics if settings else Economics())
    for note in history.notes:
        print(f"note: {note}", file=sys.stderr)
    design = design_pilot(history, options, project.project_id, dataset.dataset_id, column, savings, model)
    set_aside = None if args.no_save or args.replace else readout_set_aside(warehouse, project.project_id)
    if set_aside:
        raise PilotDesignError(f"{set_aside} Give --replace to save the new design anyway, or --no-save to print it "
                               "only.")
    for sentence in filter(None, [design.carry_over_sentence()]):
        print(f"note: {sentence}", file=sys.stderr)
    if not args.no_save:
        design = replace(design, design_id=save_design(warehouse, design))
    return design


def run_design(warehouse: Warehouse, args: argparse.Namespace) -> int:
    design = design_command(warehouse, args)
    if args.json:
        print(json.dumps(json_ready(design.to_dict() | {
            "sentence": design.duration_sentence(), "weeks": design.weeks, "end": design.end,
            "mde_yearly": design.mde_yearly}), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(summary(design))
    return 0


def summary(design: PilotDesign) -> str:
    """The design as a person reads it in a terminal."""
    lines = [f"pilot design {design.design_id or '(not stored)'}: {design.weeks} weeks, {design.start} to "
             f"{design.end}, compared with the {design.pre_days} days before",
             design.duration_sentence()]
    if design.offline_yearly_savings is not None:
        lines.append(f"offline estimate: {fmt.yen_short(design.offline_yearly_savings)} a year"
                     + (f" ({fmt.model_name(design.offline_model)})" if design.offline_model else ""))
    lines.append("pairs (treated / control, sales a day"
                 + (", yen" if design.sales_unit == "yen" else ", units") + "):")
    for b in design.balance:
        sales = fmt.yen if design.sales_unit == "yen" else fmt.number
        region = f"  {b.treated_region} / {b.control_region}" if b.treated_region else ""
        size = f"  size {b.treated_size:g} / {b.control_size:g}" if b.treated_size is not None else ""
        lines.append(f"  {b.pair}. {b.treated_label} / {b.control_label}{region}{size}  "
                     f"{sales(b.treated_sales)} / {sales(b.control_sales)}{'  (pinned)' if b.pinned else ''}")
    lines.append(design.assignment_sentence())
    lines.append("standardised mean differences: " + ", ".join(
        f"{name} {value:+.2f} ({design.smd_grade(name)})" for name, value in design.smd.items()))
    return "\n".join(lines)


def add_simulate(commands: argparse._SubParsersAction) -> None:
    s = commands.add_parser("simulate", parents=[common()],
                            help="run the project's latest pilot design on the demo chain",
                            description="Simulate the latest pilot design of the project on the generated demo chain: "
                                        "treated stores order from the published batch, controls keep today's "
                                        "practice; the days are appended to the dataset.")
    s.add_argument("--project", required=True, help="the project's name or id")
    s.add_argument("--days", type=int, default=None, help="simulate only the next DAYS of the pilot (default: all "
                                                          "that remain)")
    s.add_argument("--batch-version", type=int, default=None, help="the published batch to order from (default: "
                                                                   "the newest)")
    s.set_defaults(handler=run_simulate)


def add_readout(commands: argparse._SubParsersAction) -> None:
    r = commands.add_parser("readout", parents=[common()], help="read the project's pilot out and store the readout",
                            description="Difference-in-differences of the treated against the control stores, "
                                        "pre against during the pilot (its days in the data so far), stored with "
                                        "the project for the decision.")
    r.add_argument("--project", required=True, help="the project's name or id")
    r.add_argument("--level", type=_share, default=0.95, help="the intervals' confidence (default 0.95)")
    r.add_argument("--exclude", type=_names, default=(), metavar="S1,S2",
                   help="stores left out of this readout (one missing days, say); only those, not their pair "
                        "partners; noted in the readout")
    r.set_defaults(handler=run_readout)


def _latest_design(warehouse: Warehouse, text: str) -> PilotDesign:
    project = find_project(warehouse, text)
    design = latest_design(warehouse, project.project_id)
    if design is None:
        raise MitoshiError(f"The project '{project.name}' has no pilot design yet: run python -m core.pilot design "
                           f"--project '{project.name}' first.")
    return design


def run_simulate(warehouse: Warehouse, args: argparse.Namespace) -> int:
    design = _latest_design(warehouse, args.project)
    print(f"simulating the pilot of design {design.design_id} …", file=sys.stderr, flush=True)
    pilot = simulate_design(warehouse, design, args.days, args.batch_version)
    truth = {m: pilot.true_effect(m) for m in ("profit", "waste_cost", "lost_margin", "stockout_days")}
    status = pilot_status(warehouse, design)
    if args.json:
        print(json.dumps(json_ready({
            "design_id": design.design_id, "batch_version": pilot.batch_version, "treated": pilot.treated,
            "control": design.control, "start": pilot.start, "end": pilot.end, "days": pilot.days,
            "rows_appended": pilot.appended.n_rows, "true_effect_per_store_day": truth,
            "days_present": status.days_present, "days_planned": status.days_planned,
            "status": status.sentence()}), indent=2, ensure_ascii=False, allow_nan=False))
        return 0
    print(f"{', '.join(pilot.treated)} ordered from batch version {pilot.batch_version}, {pilot.start} to {pilot.end} "
          f"({pilot.days} days, {fmt.count(pilot.appended.n_rows)} rows appended); the design's controls "
          f"{', '.join(design.control)} and every other store kept today's practice")
    print("true effect per treated store-day (against the same days on today's practice): "
          f"profit {fmt.yen(truth['profit'], signed=True)}, waste {fmt.yen(truth['waste_cost'], signed=True)}, "
          f"lost margin {fmt.yen(truth['lost_margin'], signed=True)}, stockout item-days "
          f"{fmt.number(truth['stockout_days'], 2, signed=True)}")
    print(status.sentence())
    return 0


def run_readout(warehouse: Warehouse, args: argparse.Namespace) -> int:
    design = _latest_design(warehouse, args.project)
    readout, readout_id = read_out_design(warehouse, design, args.level, args.exclude)
    if args.json:
        stored = latest_readout(warehouse, design.project_id, design.design_id)
        print(json.dumps(json_ready(stored), indent=2, ensure_ascii=False, allow_nan=False))
        return 0
    print(f"readout {readout_id} of design {design.design_id}: {readout.pilot_days} pilot days "
          f"({readout.during[0]} to {readout.during[1]}) against {readout.pre[0]} to {readout.pre[1]}; treated "
          f"{', '.join(readout.treated)}, control {', '.join(readout.control)}")
    stored = latest_readout(warehouse, design.project_id, design.design_id)
    evidence = OnlineEvidence.from_dict(stored[EVIDENCE_KEY])
    profit = readout.estimate("profit")
    if profit is not None:  # against the promise of what was piloted (the batch's model and ordering)
        print(promise_sentence(profit, evidence.offline_yearly_savings))
    for measure in ("waste_cost", "lost_margin", "stockout_days"):
        estimate = readout.estimate(measure)
        if estimate is not None:
            print(effect_sentence(estimate))
    print(readout_table(readout).to_string(index=False))
    for note in readout.notes:
        print(f"note: {note}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        warehouse = Warehouse(args.warehouse or warehouse_path())
    except MitoshiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        return args.handler(warehouse, args)
    except MitoshiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        warehouse.close()


if __name__ == "__main__":
    raise SystemExit(main())
