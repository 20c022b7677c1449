"""Time every report (issue 17: each under 3 seconds on the demo chain), as the page makes
it and as the command line does.

    .venv/bin/python benchmarks/bench_reports.py                       # the default demo chain
    .venv/bin/python benchmarks/bench_reports.py --warehouse FILE --project NAME [--run ID]

Without ``--warehouse``: generates the default AI Shop chain (10 stores x 50 items) into a
temporary warehouse with its example project, stores a backtest of the default ladder
and a two-week pilot of the moving average with its readout (not timed).
Then, for each kind of ``core.reports.kinds.KINDS``, in English and in Japanese:

- make: ``make_report`` (the snapshot read from the warehouse and stored);
- PDF: ``report_pdf`` of the stored snapshot (the first PDF of the process pays the fonts' import);
- command line: ``python -m core.reports report KIND ...`` in a fresh process, end to end.

A kind that cannot be made on this warehouse prints its reason instead of a time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.errors import MitoshiError  # noqa: E402
from core.i18n import using  # noqa: E402
from core.reports.kinds import KINDS  # noqa: E402
from core.reports.make import make_report, report_pdf  # noqa: E402
from core.warehouse import Warehouse  # noqa: E402


def demo_warehouse(folder: Path) -> tuple[Path, str, str]:
    """The default chain, its example project and a stored default-ladder run: (file, project id, run id)."""
    from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
    from core.backtest.splits import SplitConfig
    from core.backtest.store import save_run
    from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
    from core.planning import store as planning
    path = folder / "bench.duckdb"
    warehouse = Warehouse(path)
    dataset = load_demo(warehouse, DemoConfig(end_date=REFERENCE_END_DATE))
    project = planning.ensure_example_project(warehouse)
    config = BacktestConfig(split=SplitConfig(horizon=28, folds=3),
                            models=tuple(ModelSpec.of(m) for m in ("practice", "naive", "snaive", "ma", "ets", "lgbm")))
    tic = time.perf_counter()
    run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "bench reports")
    print(f"set-up: {dataset.n_series} series, default ladder backtest {time.perf_counter() - tic:.1f} s (not timed)")
    tic = time.perf_counter()
    pilot(warehouse, project.project_id, run_id)
    print(f"set-up: a 2-week pilot of the moving average published, simulated and read out {time.perf_counter() - tic:.1f} s "
          "(not timed)")
    warehouse.close()
    return path, project.project_id, run_id


def pilot(warehouse: Warehouse, project_id: str, run_id: str) -> None:
    """The moving average's forecasts published for 28 days, a pilot of two stores for two weeks designed on
    them, simulated on the demo chain and read out (as the Pilot page does)."""
    from dataclasses import replace

    from core.backtest.store import get_run
    from core.handoff import store as handoff_store
    from core.handoff.batch import PublishOptions, prepare_batch
    from core.money.impact import Economics
    from core.pilot.design import DesignOptions, design_pilot, pilot_history
    from core.pilot.run import read_out_design, simulate_design
    from core.pilot.store import save_design
    handoff_store.publish_batch(warehouse, prepare_batch(warehouse, run_id, PublishOptions.from_run(
        get_run(warehouse, run_id), "ma", horizon=28, service_level=0.9)))
    dataset = warehouse.list_datasets()[0]
    history = pilot_history(warehouse, dataset, "store_id", 28, Economics())
    design = design_pilot(history, DesignOptions(treated=2, weeks=2, pre_weeks=4, smallest_effect_yearly=5e6),
                          project_id, dataset.dataset_id, "store_id", 6e6, "ma")
    design = replace(design, design_id=save_design(warehouse, design))
    simulate_design(warehouse, design)
    read_out_design(warehouse, design)


def time_reports(path: Path, project: str, run_id: str | None) -> int:
    warehouse = Warehouse(path)
    from core.reports.__main__ import _project_id
    project_id = _project_id(warehouse, project)
    options = {"runs": [run_id]} if run_id else {}
    slowest = 0.0
    print(f"{'report':22s} {'lang':4s} {'make':>7s} {'PDF':>7s} {'pages':>5s} {'KiB':>5s}")
    for kind in KINDS:
        for language in ("en", "ja"):
            with using(language):
                tic = time.perf_counter()
                try:
                    stored = make_report(warehouse, kind, project_id, options if kind == "backtest" else {})
                except MitoshiError as error:
                    print(f"{kind:22s} {language:4s} not made: {error}")
                    break
                made = time.perf_counter() - tic
                tic = time.perf_counter()
                pdf = report_pdf(stored)
                printed = time.perf_counter() - tic
            pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
            slowest = max(slowest, made + printed)
            print(f"{kind:22s} {language:4s} {made:6.2f}s {printed:6.2f}s {pages:5d} {len(pdf) / 1024:5.0f}")
    warehouse.close()
    print(f"slowest report (make + PDF, in the app's process): {slowest:.2f} s (target 3 s)")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in KINDS:
            command = [sys.executable, "-m", "core.reports", "report", kind, "--project", project_id, "--out",
                       str(Path(tmp) / f"{kind}.pdf"), "--warehouse", str(path)]
            if kind == "backtest" and run_id:
                command += ["--run", run_id]
            tic = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
            wall = time.perf_counter() - tic
            said = (done.stdout or done.stderr).strip().splitlines()[-1] if (done.stdout or done.stderr) else ""
            print(f"command line {kind:14s} {wall:6.2f} s (a fresh process, imports included): {said}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=None)
    parser.add_argument("--project", default=None, help="name or id (with --warehouse)")
    parser.add_argument("--run", default=None, help="the run of the backtest comparison (default: the newest)")
    args = parser.parse_args()
    if args.warehouse:
        if not args.project:
            parser.error("--project is needed with --warehouse")
        return time_reports(args.warehouse, args.project, args.run)
    with tempfile.TemporaryDirectory() as tmp:
        path, project_id, run_id = demo_warehouse(Path(tmp))
        return time_reports(path, project_id, run_id)


if __name__ == "__main__":
    sys.exit(main())
