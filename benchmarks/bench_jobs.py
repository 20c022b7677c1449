"""What running a backtest as a job costs on top of the backtest: the app's preparing (the
series in scope to Parquet), the worker process (start, read, backtest, store into its own
file) and the app's storing (the worker's tables copied into the warehouse in one
transaction) — each step timed, as ``core.jobs.JobRunner`` runs them.

    .venv/bin/python benchmarks/bench_jobs.py                                  # 500 series, rules
    .venv/bin/python benchmarks/bench_jobs.py --stores 100 --items 500 --models naive,snaive,ma

The chain is generated into a fresh warehouse first (not timed).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.backtest.engine import BacktestConfig, ModelSpec  # noqa: E402
from core.backtest.job import BACKTEST, backtest_params  # noqa: E402
from core.backtest.splits import SplitConfig  # noqa: E402
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo  # noqa: E402
from core.jobs import store as jobs_store  # noqa: E402
from core.jobs.runner import OUT, ROOT  # noqa: E402
from core.warehouse import Warehouse  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--models", default="naive,snaive,ma")
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "job"
        folder.mkdir()
        warehouse = Warehouse(Path(tmp) / "warehouse.duckdb")
        tic = time.perf_counter()
        dataset = load_demo(warehouse, DemoConfig(stores=args.stores, items=args.items, end_date=REFERENCE_END_DATE))
        print(f"{dataset.n_series:,} series, {dataset.n_rows:,} rows generated in {time.perf_counter() - tic:.1f} s "
              "(not part of the job)", flush=True)
        config = BacktestConfig(split=SplitConfig(horizon=args.horizon, folds=args.folds),
                                models=tuple(ModelSpec.of(a) for a in args.models.split(",")))
        params = backtest_params(dataset.dataset_id, {}, config, "bench")
        job_id = jobs_store.insert_job(warehouse, BACKTEST.name, "bench", params)
        jobs_store.start_job(warehouse, job_id, "bench")

        tic = time.perf_counter()
        BACKTEST.prepare(warehouse, params, folder)
        prepare = time.perf_counter() - tic
        (folder / "job.json").write_text(json.dumps({"target": BACKTEST.target, "params": params}))

        tic = time.perf_counter()
        worker = subprocess.run([sys.executable, "-m", "core.jobs.worker", str(folder)], cwd=ROOT,
                                capture_output=True, text=True)
        work = time.perf_counter() - tic
        if worker.returncode != 0:
            print(worker.stdout[-2000:], worker.stderr[-2000:], (folder / "error.json").read_text()
                  if (folder / "error.json").exists() else "")
            return 1
        worker_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
        outcome = json.loads((folder / "result.json").read_text())
        wall = Warehouse(folder / OUT)
        backtest = float(wall.query("SELECT wall_seconds FROM runs")["wall_seconds"].iloc[0])
        rows = int(wall.query("SELECT count(*) AS n FROM run_forecasts")["n"].iloc[0])
        wall.close()

        tic = time.perf_counter()
        jobs_store.store_outcome(warehouse, job_id, folder / OUT, BACKTEST.tables, outcome["result"], "done")
        stored = time.perf_counter() - tic
        app_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        warehouse.close()

    print(f"\n{'step':44s} {'seconds':>8s}")
    print(f"{'app: series in scope to Parquet':44s} {prepare:8.1f}")
    print(f"{'worker: start, read, backtest, store':44s} {work:8.1f}")
    print(f"{'  of which the backtest (run_backtest)':44s} {backtest:8.1f}")
    print(f"{'app: worker tables into the warehouse':44s} {stored:8.1f}")
    overhead = prepare + work - backtest + stored
    print(f"\njob overhead on top of the backtest: {overhead:.1f} s ({rows:,} forecast rows stored); peak RSS: "
          f"worker {worker_rss:.2f} GB, app {app_rss:.2f} GB (the app's includes generating the chain)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
