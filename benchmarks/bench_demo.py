"""Time generating the AI Shop demo chain and loading it into a fresh warehouse.

    .venv/bin/python benchmarks/bench_demo.py [--stores 100] [--items 500] [--years 3] [--seed 42]

Generation and loading are timed apart (wall seconds); the script also prints the rows
and series stored, the peak resident memory of the process after each step and the
size of the warehouse file. The target is generate + load under 60 s for the default
100 stores x 500 items x 3 years on a 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.data.demo import REFERENCE_END_DATE, DemoConfig, generate_chain, store_chain  # noqa: E402
from core.warehouse import Warehouse  # noqa: E402

TARGET_SECONDS = 60


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    config = DemoConfig(stores=args.stores, items=args.items, years=args.years, seed=args.seed,
                        end_date=REFERENCE_END_DATE)

    t0 = time.perf_counter()
    chain = generate_chain(config)
    generate_s = time.perf_counter() - t0
    print(f"generate: {generate_s:.1f} s, {len(chain.sales):,} rows, "
          f"{chain.sales.memory_usage().sum() / 1024**3:.2f} GB frame, peak RSS {peak_rss_gb():.2f} GB", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        warehouse = Warehouse(path)
        t1 = time.perf_counter()
        dataset = store_chain(warehouse, chain, config)
        load_s = time.perf_counter() - t1
        warehouse.close()
        size_mb = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 1024**2
    print(f"load:     {load_s:.1f} s, {dataset.n_rows:,} rows, {dataset.n_series:,} series, "
          f"peak RSS {peak_rss_gb():.2f} GB, warehouse file {size_mb:.0f} MB")
    total = generate_s + load_s
    verdict = "within" if total < TARGET_SECONDS else "OVER"
    print(f"total:    {total:.1f} s ({verdict} the {TARGET_SECONDS} s target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
