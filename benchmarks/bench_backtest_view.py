"""Time opening a stored 500-series run, as the Backtest and Experiments pages do.

    .venv/bin/python benchmarks/bench_backtest_view.py

Runs the default ladder once on the default demo chain into a temporary warehouse,
then times (cold caches, a fresh app session each time) the Backtest page rendering
that stored run: every table and chart is read back from the warehouse.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest  # noqa: E402
from core.backtest.splits import SplitConfig  # noqa: E402
from core.backtest.store import save_run  # noqa: E402
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo  # noqa: E402
from core.forecast.registry import DEFAULT_LADDER  # noqa: E402
from core.warehouse import ENV_VAR, Warehouse  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        warehouse = Warehouse(path)
        dataset = load_demo(warehouse, DemoConfig(end_date=REFERENCE_END_DATE))
        config = BacktestConfig(split=SplitConfig(horizon=28, folds=3),
                                models=tuple(ModelSpec.of(a) for a in ("practice", *DEFAULT_LADDER)))
        result = run_backtest(dataset_data(warehouse, dataset), config)
        run_id = save_run(warehouse, result, "bench run")
        warehouse.close()
        print(f"stored run {run_id}: {result.n_series} series, {len(result.forecasts):,} forecasts, "
              f"{len(result.metrics):,} metric rows")

        os.environ[ENV_VAR] = str(path)
        from streamlit.testing.v1 import AppTest

        times = []
        for _ in range(3):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            at.run()
            at.switch_page("pages/backtest.py")
            at.session_state["backtest_run_id"] = run_id
            start = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - start)
            assert not at.exception, at.exception
            from ui import backtest as backtest_view
            for cached in (backtest_view._metrics, backtest_view._timings, backtest_view._series_forecasts,
                           backtest_view._series_history):
                cached.clear()
        print("open the stored run (Backtest page, cold caches): " + ", ".join(f"{t:.2f} s" for t in times)
              + f"; median {statistics.median(times):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
