"""The pilot from the command line:

    python -m core.pilot design --project NAME|ID [--dataset NAME|ID] [--treated N] [--pin S001,S002]
        [--weeks W] [--pre-weeks 8] [--alpha 0.05] [--power 0.8] [--smallest-effect YEN]
        [--offline-savings YEN --offline-model ALIAS] [--seed 0] [--start YYYY-MM-DD] [--no-save] [--json]

``design`` matches treated and control stores on the pre-period, sizes the pilot's length
by a power calculation on the history's store-day profit (``core.pilot.design``) and
stores the design with the project (``--no-save``: print it only). The smallest yearly
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
from core.money.impact import Economics, ImpactConfig
from core.money.run_impact import run_impact
from core.money.store import load_impact_settings
from core.pilot.design import MAX_WEEKS, DesignOptions, PilotDesign, PilotDesignError, design_pilot, pilot_history
from core.pilot.design import store_column as find_store_column
from core.pilot.monitor import add_monitor
from core.pilot.store import json_ready, save_design
from core.planning.store import Project, list_projects
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
    d.set_defaults(handler=run_design)


def find_project(warehouse: Warehouse, text: str) -> Project:
    """The project with id ``text``, or named ``text`` (case-insensitive), or the one project
    whose name starts with it. Raises ``MitoshiError`` naming the projects otherwise."""
    projects = list_projects(warehouse)
    wanted = text.strip().lower()
    for project in projects:
        if text.strip() == project.project_id or project.name.lower() == wanted:
            return project
    starting = [p for p in projects if p.name.lower().startswith(wanted)]
    if len(starting) == 1:
        return starting[0]
    names = ", ".join(f"'{p.name}'" for p in projects) or "none yet"
    raise MitoshiError(f"No project named '{text}' (projects: {names}). Give a project's name or id.")


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


def _project_run(warehouse: Warehouse, project: Project, dataset_id: str | None) -> str | None:
    """The project's newest linked run (on ``dataset_id`` when given)."""
    runs = [get_run(warehouse, r) for r in project.run_ids]
    runs = [r for r in runs if dataset_id is None or r.dataset_id == dataset_id]
    return max(runs, key=lambda r: r.created_at).run_id if runs else None


def offline_estimate(warehouse: Warehouse, project: Project, run_id: str) -> tuple[float, str]:
    """The yearly savings of the run's model that saves the most, and its alias, from the
    run's money impact priced with the project's money settings for its dataset."""
    run = get_run(warehouse, run_id)
    config = load_impact_settings(warehouse, project.project_id, run.dataset_id) or ImpactConfig()
    impact = run_impact(warehouse, run_id, config).impact
    models = impact.summary[impact.summary["policy"] != impact.baseline]
    if models.empty:
        raise MitoshiError(f"The run '{run.name}' has no model to price: give --offline-savings or --smallest-effect.")
    best = models.loc[models["yearly_savings"].idxmax()]
    return float(best["yearly_savings"]), str(best["policy"])


def design_command(warehouse: Warehouse, args: argparse.Namespace) -> PilotDesign:
    project = find_project(warehouse, args.project)
    run_id = args.run
    dataset_hint = None
    if args.dataset:
        dataset = _dataset(warehouse, project, args.dataset, None)
    else:
        run_id = run_id or _project_run(warehouse, project, None)
        if run_id:
            dataset_hint = get_run(warehouse, run_id).dataset_id
        dataset = _dataset(warehouse, project, None, dataset_hint)
    options = DesignOptions(treated=args.treated, pinned=args.pin, weeks=args.weeks, pre_weeks=args.pre_weeks,
                            alpha=args.alpha, power=args.power, smallest_effect_yearly=args.smallest_effect,
                            seed=args.seed, start=args.start)
    savings, model = args.offline_savings, args.offline_model
    if savings is None:
        run_id = run_id or _project_run(warehouse, project, dataset.dataset_id)
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
    lines.append("standardised mean differences: " + ", ".join(
        f"{name} {value:+.2f} ({design.smd_grade(name)})" for name, value in design.smd.items()))
    return "\n".join(lines)


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
