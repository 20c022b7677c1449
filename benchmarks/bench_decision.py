"""Time the road from a stored run to a GO/NO-GO decision (and its PDF).

    .venv/bin/python benchmarks/bench_decision.py [--models practice,naive,snaive,ma,ets,theta,lgbm]
    .venv/bin/python benchmarks/bench_decision.py --warehouse FILE [--run ID]

Without ``--warehouse``: generates the default chain into a temporary warehouse, runs the
ladder (not timed as part of the decision), then times in this process what the pages do:
the money impact of every model, the evaluation of the example project's criteria and the
PDF of the snapshot.

With ``--warehouse FILE`` (e.g. one kept by ``bench_national.py --keep DIR``): times a
stored run (``--run``, default the newest) of a copy of FILE (FILE is never written), each
step in a fresh process as issue 16 asks, with its peak RSS:

- money: ``core.money.run_impact.run_impact`` computed (nothing stored yet);
- money again: read back (the impact kept with the run: ``core.money.store``);
- decision: ``core.decision.evaluation.decide`` on the example project, after the money
  (as the Report page, which shows the money first);
- decision alone: ``decide`` on a fresh copy, the impact computed inside it.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))



def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _money(path: str, run_id: str) -> dict:
    from core.money.run_impact import run_impact
    from core.warehouse import Warehouse
    warehouse = Warehouse(Path(path))
    tic = time.perf_counter()
    impact = run_impact(warehouse, run_id)
    wall = time.perf_counter() - tic
    warehouse.close()
    return {"seconds": wall, "rss_gb": peak_rss_gb(), "stored": impact.forecasts is None,
            "policies": len(impact.impact.summary)}


def _decision(path: str, run_id: str) -> dict:
    from core.decision.evaluation import decide
    from core.planning import store as planning
    from core.warehouse import Warehouse
    warehouse = Warehouse(Path(path))
    # the example project: made on the warehouse's first visit, found on a kept warehouse's next
    project = planning.ensure_example_project(warehouse) or planning.list_projects(warehouse)[0]
    tic = time.perf_counter()
    made = decide(warehouse, project.project_id, run_id)
    wall = time.perf_counter() - tic
    warehouse.close()
    return {"seconds": wall, "rss_gb": peak_rss_gb(), "verdict": str(made.verdict), "model": made.model,
            "savings": made.value.get("yearly_savings")}


STEPS = {"money": _money, "decision": _decision}


def in_fresh_process(step: str, path: str, run_id: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--step", step, path, run_id], capture_output=True, text=True,
                          cwd=ROOT)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"step {step} failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _copy(source: Path, folder: Path, name: str) -> str:
    """A copy of ``source`` in ``folder`` (opening it migrates it, as the app would)."""
    path = folder / name
    shutil.copy(source, path)
    return str(path)


def saved_warehouse(source: Path, run_id: str | None) -> int:
    import duckdb
    con = duckdb.connect(str(source), read_only=True)
    row = con.execute("SELECT run_id, n_series FROM runs WHERE run_id = coalesce(?, run_id) "
                      "ORDER BY created_at DESC LIMIT 1", [run_id]).fetchone()
    if row is None:
        raise SystemExit(f"no run {run_id or ''} in {source}")
    rows = con.execute("SELECT count(*) FROM run_forecasts WHERE run_id = ?", [row[0]]).fetchone()[0]
    con.close()
    run_id = row[0]
    print(f"run {run_id}: {row[1]:,} series, {rows:,} forecasts", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-decision-") as tmp:
        first = _copy(source, Path(tmp), "a.duckdb")
        for label, step in (("money", "money"), ("money again", "money"), ("decision after the money", "decision")):
            got = in_fresh_process(step, first, run_id)
            print(f"{label:26s} {got['seconds']:7.2f} s  peak RSS {got['rss_gb']:.2f} GB"
                  + (" (stored impact read back)" if got.get("stored") else "")
                  + (f"  -> {got['verdict']}, {got['model']}" if step == "decision" else ""), flush=True)
        Path(first).unlink()
        alone = _copy(source, Path(tmp), "b.duckdb")
        got = in_fresh_process("decision", alone, run_id)
        print(f"{'decision alone':26s} {got['seconds']:7.2f} s  peak RSS {got['rss_gb']:.2f} GB  -> {got['verdict']}, "
              f"{got['model']}", flush=True)
    return 0


def demo_chain(models: str, horizon: int, folds: int) -> int:
    from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
    from core.backtest.splits import SplitConfig
    from core.backtest.store import save_run
    from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
    from core.decision.evaluation import decide
    from core.decision.pdf import decision_pdf
    from core.money.run_impact import run_impact
    from core.planning import store as planning
    from core.warehouse import Warehouse
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Warehouse(Path(tmp) / "bench.duckdb")
        dataset = load_demo(warehouse, DemoConfig(end_date=REFERENCE_END_DATE))
        config = BacktestConfig(split=SplitConfig(horizon=horizon, folds=folds),
                                models=tuple(ModelSpec.of(m) for m in models.split(",")))
        start = time.perf_counter()
        run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "bench")
        print(f"backtest ({models}; {dataset.n_series} series, {folds} x {horizon}): "
              f"{time.perf_counter() - start:.1f} s (not part of the decision)")
        project = planning.ensure_example_project(warehouse)

        start = time.perf_counter()
        impact = run_impact(warehouse, run_id).impact
        print(f"money impact of {len(impact.summary)} policies x {len(impact.config.sensitivity) + 1} ordering "
              f"levels: {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        decision = decide(warehouse, project.project_id, run_id)
        print(f"evaluate and save the decision: {time.perf_counter() - start:.2f} s -> {decision.verdict}, "
              f"{decision.model} saves ¥{decision.value['yearly_savings']:,.0f} a year")
        start = time.perf_counter()
        pdf = decision_pdf(decision)
        print(f"PDF (first in this process, imports included): {time.perf_counter() - start:.2f} s, "
              f"{len(pdf) / 1024:.0f} KiB")
        warehouse.close()
    return 0


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--step":
        step, path, run_id = sys.argv[2:5]
        print(json.dumps(STEPS[step](path, run_id)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="practice,naive,snaive,ma,ets,theta,lgbm")
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--warehouse", type=Path, default=None, help="time a stored run of a copy of this file")
    parser.add_argument("--run", default=None, help="the run to time (default: the newest)")
    args = parser.parse_args()
    if args.warehouse is not None:
        return saved_warehouse(args.warehouse, args.run)
    return demo_chain(args.models, args.horizon, args.folds)


if __name__ == "__main__":
    sys.exit(main())
