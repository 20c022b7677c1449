"""Time every query behind the Data page on a demo chain (uncached, as on first view).

    .venv/bin/python benchmarks/bench_explore.py [--stores 10 --items 50 --years 3]

Each interaction on the page runs at most a handful of these; the target is that one
interaction answers in under a second on the default chain.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.columns import Freq  # noqa: E402
from core.data import explore as ex  # noqa: E402
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo  # noqa: E402
from core.warehouse import Warehouse  # noqa: E402


def timed(fn, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wh = Warehouse(Path(tmp) / "bench.duckdb")
        ds = load_demo(wh, DemoConfig(stores=args.stores, items=args.items, years=args.years,
                                      end_date=REFERENCE_END_DATE))
        print(f"{ds.n_series:,} series, {ds.n_rows:,} rows")
        by_cat = ex.Scope(by="category")
        filtered = ex.Scope(filters={"category": ("beverages",)}, by="store_id")
        first = ex.series_list(wh, ds, ex.Scope())[0]
        queries = {
            "profile": lambda: ex.profile(wh, ds),
            "missing values": lambda: ex.missing_values(wh, ds),
            "segment values (item)": lambda: ex.segment_values(wh, ds, "item_id"),
            "totals weekly, total": lambda: ex.totals_over_time(wh, ds, ex.Scope(), Freq.WEEKLY),
            "totals daily, by category": lambda: ex.totals_over_time(wh, ds, by_cat, Freq.DAILY),
            "totals weekly, beverages by store": lambda: ex.totals_over_time(wh, ds, filtered, Freq.WEEKLY),
            "weekday profile by category": lambda: ex.seasonal_profile(wh, ds, by_cat, "isodow"),
            "month profile by category": lambda: ex.seasonal_profile(wh, ds, by_cat, "month"),
            "promo effect by category": lambda: ex.flag_effect(wh, ds, by_cat, "promo"),
            "practice summary by category": lambda: ex.practice_summary(wh, ds, by_cat),
            "series list": lambda: ex.series_list(wh, ds, ex.Scope()),
            "one series": lambda: ex.series_frame(wh, ds, first),
        }
        total = 0.0
        for name, query in queries.items():
            seconds = timed(query)
            total += seconds
            print(f"{name:38s} {seconds * 1000:8.1f} ms")
        print(f"{'all of them (a cold page view)':38s} {total * 1000:8.1f} ms")
        wh.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
