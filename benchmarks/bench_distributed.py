"""The backtest here against the same backtest on a Dask LocalCluster: wall time, peak memory, accuracy.

    .venv/bin/python benchmarks/bench_distributed.py                                   # 50,000 series (100 x 500)
    .venv/bin/python benchmarks/bench_distributed.py --stores 10 --items 500 --models naive,snaive,ma,ets,theta,lgbm
    .venv/bin/python benchmarks/bench_distributed.py --stores 10 --items 300 --models glm,lgbm --shards 2,4 --seed-noise

Run anything over 10,000 series alone on the machine: other work distorts the timings.
The chain is generated in memory (not timed); the backtest is 3 folds x 28 days, as the
Backtest page runs it. The cluster is a LocalCluster of ``--workers`` worker processes of
one thread each on this machine (started before the clock), reached through the same
``DaskExecutor`` as a real cluster: every shard is pickled to a worker and its forecasts
back. Peak memory is sampled every 0.2 s as the resident memory of this process and all
its children (the cluster's worker processes). A model's seconds are its compute seconds
(on the cluster: summed over the shards and the worker that fits a global model once per
fold). The accuracy columns check that the cluster's global models (glm, lgbm: one fit per
fold over all shards) forecast as here: the WAPE difference should be 0. ``--seed-noise``
also runs the models locally with another seed: the WAPE difference between two seeds, the
noise any other difference would be judged against.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from distributed import LocalCluster  # noqa: E402

from benchmarks.bench_backtest import chain_data  # noqa: E402
from core.backtest.distributed import DaskExecutor  # noqa: E402
from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, run_backtest  # noqa: E402
from core.backtest.splits import SplitConfig  # noqa: E402
from core.columns import SERIES_ID  # noqa: E402
from core.forecast.registry import DEFAULT_LADDER  # noqa: E402


class PeakMemory:
    """Peak resident memory (GB) of this process and its children while in the block."""

    def __enter__(self) -> PeakMemory:
        self.peak, self._stop = 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in (me, *me.children(recursive=True)):
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total / 1024**3)
            self._stop.wait(0.2)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(data: BacktestData, config: BacktestConfig, executor: DaskExecutor | None = None):
    with PeakMemory() as memory:
        started = time.perf_counter()
        result = run_backtest(data, config, executor=executor)
        wall = time.perf_counter() - started
    return result, wall, memory.peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--models", default=",".join(DEFAULT_LADDER))
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the LocalCluster (1 thread each)")
    parser.add_argument("--shards", default=None,
                        help="shards, or several comma-separated (one cluster run each); default: the cluster's threads")
    parser.add_argument("--lgbm-train-periods", type=int, default=None,
                        help="LightGBM's max_train_periods (default: a year of daily history)")
    parser.add_argument("--seed-noise", action="store_true", help="also run locally with seed 1 (see above)")
    args = parser.parse_args()

    data = chain_data(args.stores, args.items, args.years)
    sales = data.frame
    models = tuple(ModelSpec.of(a, **({"max_train_periods": args.lgbm_train_periods}
                                      if a == "lgbm" and args.lgbm_train_periods else {}))
                   for a in args.models.split(","))
    config = BacktestConfig(split=SplitConfig(horizon=args.horizon, folds=args.folds), models=models)
    n_series = sales[SERIES_ID].nunique()
    print(f"{n_series:,} series, {len(sales):,} rows, {args.folds} folds x {args.horizon} days; "
          f"{psutil.cpu_count()} cores on this machine", flush=True)

    local, local_wall, local_peak = timed(data, config)
    print(f"here: wall {local_wall:.1f} s, peak memory {local_peak:.2f} GB", flush=True)
    noise = None
    if args.seed_noise:
        noise, _, _ = timed(data, BacktestConfig(split=config.split, models=models, seed=1))

    started = time.perf_counter()
    runs = []
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        print(f"LocalCluster of {args.workers} workers started in {time.perf_counter() - started:.1f} s (not timed)",
              flush=True)
        for shards in [int(n) for n in args.shards.split(",")] if args.shards else [None]:
            with DaskExecutor(cluster.scheduler_address, shards=shards) as executor:
                shards = shards or executor.threads()
                remote, remote_wall, remote_peak = timed(data, config, executor)
            print(f"cluster ({shards} shards): wall {remote_wall:.1f} s, peak memory {remote_peak:.2f} GB "
                  f"(this process and the workers)", flush=True)
            runs.append((shards, remote, remote_wall))

    here = local.leaderboard().set_index("model")
    seeded = noise.leaderboard().set_index("model") if noise is not None else None
    per = n_series * args.folds
    for shards, remote, remote_wall in runs:
        there = remote.leaderboard().set_index("model")
        print(f"\nhere against the cluster with {shards} shards")
        print(f"{'model':8s} {'s here':>8s} {'s cluster':>9s} {'WAPE here':>9s} {'WAPE cl.':>9s} {'diff':>8s} "
              f"{'MASE here':>9s} {'MASE cl.':>9s}" + (f" {'WAPE seed1':>10s} {'seed diff':>9s}" if noise else ""))
        for model in here.index:
            a, b = here.loc[model], there.loc[model]
            line = (f"{model:8s} {a.seconds:8.1f} {b.seconds:9.1f} {a.wape:9.4f} {b.wape:9.4f} "
                    f"{b.wape - a.wape:+8.4f} {a.mase:9.4f} {b.mase:9.4f}")
            if seeded is not None:
                line += f" {seeded.loc[model].wape:10.4f} {seeded.loc[model].wape - a.wape:+9.4f}"
            print(line)
        print(f"per series and fold: here {local_wall / per * 1000:.2f} ms wall on {psutil.cpu_count()} cores; "
              f"cluster {remote_wall / per * 1000:.2f} ms wall on {args.workers} workers; models "
              f"{here['seconds'].sum() / per * 1000:.2f} ms here (wall, every core), "
              f"{there['seconds'].sum() / per * 1000:.2f} ms on the workers (summed over shards of one thread each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
