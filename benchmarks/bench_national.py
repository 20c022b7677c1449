"""Time a national chain end to end: backtest, store, open on the Backtest page, money, decision.

    .venv/bin/python benchmarks/bench_national.py                                 # 100 stores x 500 items
    .venv/bin/python benchmarks/bench_national.py --stores 10 --items 50          # the default chain, quick
    .venv/bin/python benchmarks/bench_national.py --keep /tmp/national            # keep the warehouse and its run

Generates the demo chain into a fresh warehouse file in a temporary directory (timed
apart), then runs each step in a fresh process of its own, so that one step's memory
(the generation's, the backtest's) never counts in another's peak:

- backtest: the series read from the warehouse as the Backtest page reads them, then
  ``run_backtest`` (wall and the process's peak RSS), then ``save_run`` (timed apart);
- open: the reads the Backtest page makes to show the stored run (``ui.backtest.render_run``:
  the run, its metrics but per series, the per-series values of the chosen metric (WAPE)
  and of the spread's summary, timings, cutoffs, left-out series and fallbacks, the series'
  labels, the worst series' forecasts and history), through the core functions those call;
- money: ``core.money.run_impact.run_impact`` as the Money page computes it;
- decision: ``core.decision.evaluation.decide`` on the example project, as the Report page does:
  after the money, which that page shows first and which is kept with the run (a decision
  with no money kept computes it first: ``bench_decision.py --warehouse`` times both).

Prints each figure and, at the end, a table of figure against the issue's targets (#16).
Other work on the machine disturbs the timings: run big chains under ``flock``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ISSUE_LADDER = "naive,snaive,ma,ets,theta,lgbm"
# figure -> (target, unit): the issue's targets on the 2-core machine
TARGETS = {"backtest_s": (360.0, "s"), "backtest_rss_gb": (8.0, "GB"), "open_s": (3.0, "s"),
           "money_s": (60.0, "s"), "decision_s": (30.0, "s")}


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _warehouse(path: str):
    from core.warehouse import Warehouse
    return Warehouse(Path(path))


def generate(path: str, stores: int, items: int) -> dict:
    from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
    warehouse = _warehouse(path)
    tic = time.perf_counter()
    dataset = load_demo(warehouse, DemoConfig(stores=stores, items=items, end_date=REFERENCE_END_DATE))
    figures = {"generate_s": time.perf_counter() - tic, "series": dataset.n_series, "dataset_id": dataset.dataset_id}
    warehouse.close()
    return figures


def backtest(path: str, dataset_id: str, models: str, horizon: int, folds: int) -> dict:
    from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
    from core.backtest.splits import SplitConfig
    from core.backtest.store import save_run
    warehouse = _warehouse(path)
    tic = time.perf_counter()
    data = dataset_data(warehouse, warehouse.get_dataset(dataset_id))
    read = time.perf_counter() - tic
    config = BacktestConfig(split=SplitConfig(horizon=horizon, folds=folds),
                            models=tuple(ModelSpec.of(m) for m in models.split(",")))
    tic = time.perf_counter()
    result = run_backtest(data, config)
    wall = time.perf_counter() - tic
    rss = peak_rss_gb()
    del data
    tic = time.perf_counter()
    run_id = save_run(warehouse, result, "national")
    store = time.perf_counter() - tic
    board = result.leaderboard()
    seconds = {m: round(float(s), 1) for m, s in zip(board["model"], board["seconds"])}
    accuracy = {m: {"wape": round(float(w), 4), "mase": round(float(s), 4)}
                for m, w, s in zip(board["model"], board["wape"], board["mase"])}
    warehouse.close()
    return {"read_s": read, "backtest_s": wall, "backtest_rss_gb": rss, "store_s": store, "run_id": run_id,
            "forecast_rows": len(result.forecasts), "metric_rows": len(result.metrics),
            "model_seconds": seconds, "accuracy": accuracy, "store_rss_gb": peak_rss_gb()}


def open_run(path: str, run_id: str) -> dict:
    """The reads of ``ui.backtest.render_run`` (and its leaderboard), the worst series chosen."""
    from core.backtest import external
    from core.backtest import store as runs
    from core.data import explore
    from core.data.labels import series_labels
    warehouse = _warehouse(path)
    tic = time.perf_counter()
    view = runs.run_view(warehouse, run_id)
    info = view.info
    runs.run_revision(warehouse, run_id)
    excluded, fallbacks = runs.run_excluded(warehouse, run_id), runs.run_fallbacks(warehouse, run_id)
    cutoffs = runs.run_cutoffs(warehouse, run_id)
    external.effort_weeks(warehouse, run_id)
    external.spread_note(warehouse, run_id)
    dataset = warehouse.get_dataset(info.dataset_id)
    labels = series_labels(explore.series_attributes(warehouse, dataset), explore.series_names(warehouse, dataset))
    series = runs.series_metrics(warehouse, run_id, ("wape",))  # the chosen metric's tabs
    runs.series_metrics(warehouse, run_id, ("wape", "pinball"))  # the spread's summary
    worst = series.groupby("group")["value"].mean().sort_values(ascending=False).index[0]
    forecasts = runs.run_forecasts(warehouse, run_id, worst)
    history = explore.series_frame(warehouse, dataset, worst)
    wall = time.perf_counter() - tic
    warehouse.close()
    return {"open_s": wall, "open_rss_gb": peak_rss_gb(), "open_metric_rows": len(view.metrics) + len(series),
            "open_detail": f"{len(cutoffs)} folds, {len(excluded)} left out, {len(fallbacks)} fallbacks, "
                           f"{len(labels):,} labels, {len(forecasts)} forecasts and {len(history)} days of the "
                           f"worst series"}


def money(path: str, run_id: str) -> dict:
    from core.money.run_impact import run_impact
    warehouse = _warehouse(path)
    tic = time.perf_counter()
    impact = run_impact(warehouse, run_id).impact
    wall = time.perf_counter() - tic
    warehouse.close()
    return {"money_s": wall, "money_rss_gb": peak_rss_gb(), "money_policies": len(impact.summary)}


def decision(path: str, run_id: str) -> dict:
    from core.decision.evaluation import decide
    from core.planning import store as planning
    warehouse = _warehouse(path)
    # the example project: made on the warehouse's first visit, found on a kept warehouse's next
    project = planning.ensure_example_project(warehouse) or planning.list_projects(warehouse)[0]
    tic = time.perf_counter()
    made = decide(warehouse, project.project_id, run_id)
    wall = time.perf_counter() - tic
    warehouse.close()
    return {"decision_s": wall, "decision_rss_gb": peak_rss_gb(), "verdict": str(made.verdict)}


STEPS = {"generate": generate, "backtest": backtest, "open": open_run, "money": money, "decision": decision}


def in_fresh_process(step: str, *args: object) -> dict:
    """Run one step in a new Python process; its figures come back as JSON on the last line."""
    done = subprocess.run([sys.executable, __file__, "--step", step, *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"step {step} failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--step":
        step, args = sys.argv[2], sys.argv[3:]
        args = [int(a) if a.isdigit() else a for a in args]
        print(json.dumps(STEPS[step](*args)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--models", default=ISSUE_LADDER, help=f"aliases, comma-separated (default {ISSUE_LADDER})")
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--skip", default="", help="steps after the backtest to leave out: open,money,decision")
    parser.add_argument("--keep", default=None, metavar="DIR",
                        help="write the warehouse into DIR and keep it (to time the later steps again)")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
    with (contextlib.nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory(prefix="national-")) as tmp:
        path = str(Path(tmp) / "national.duckdb")
        figures = in_fresh_process("generate", path, args.stores, args.items)
        print(f"{figures['series']:,} series generated and stored in {figures['generate_s']:.1f} s", flush=True)
        figures |= in_fresh_process("backtest", path, figures["dataset_id"], args.models, args.horizon, args.folds)
        print(f"read {figures['read_s']:.1f} s; backtest {figures['backtest_s']:.1f} s, peak RSS "
              f"{figures['backtest_rss_gb']:.2f} GB; store {figures['store_s']:.1f} s "
              f"({figures['forecast_rows']:,} forecasts, {figures['metric_rows']:,} metrics)", flush=True)
        print(f"{'model':10s} {'seconds':>8s} {'WAPE':>7s} {'MASE':>7s}")
        for model, acc in figures["accuracy"].items():
            print(f"{model:10s} {figures['model_seconds'][model]:8.1f} {acc['wape']:7.4f} {acc['mase']:7.4f}")
        for step, args_ in (("open", (path, figures["run_id"])), ("money", (path, figures["run_id"])),
                            ("decision", (path, figures["run_id"]))):
            if step in skip:
                continue
            figures |= in_fresh_process(step, *args_)
            print(f"{step}: {figures[f'{step}_s']:.2f} s, peak RSS {figures[f'{step}_rss_gb']:.2f} GB"
                  + (f" ({figures['open_detail']})" if step == "open" else ""), flush=True)
    print(f"\n{'figure':22s} {'measured':>10s} {'target':>10s}  met")
    for name, (target, unit) in TARGETS.items():
        if name in figures:
            value = figures[name]
            print(f"{name:22s} {value:9.2f}{unit[0]} {target:9.1f}{unit[0]}  {'yes' if value <= target else 'NO'}")
    print(f"(store {figures['store_s']:.1f} s; models {args.models}; {args.folds} folds x {args.horizon} days)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
