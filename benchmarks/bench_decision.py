"""Time the road from a stored run to a GO/NO-GO PDF on the default demo chain.

    .venv/bin/python benchmarks/bench_decision.py [--models practice,naive,snaive,ma,ets,theta,lgbm]

Generates the default chain into a temporary warehouse, runs the ladder (not timed as
part of the decision), then times what the pages do: the money impact of every model,
the evaluation of the example project's criteria (which recomputes the impact and
saves the snapshot) and the PDF of the snapshot.
"""

from __future__ import annotations

import argparse
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
from core.decision.evaluation import decide  # noqa: E402
from core.decision.pdf import decision_pdf  # noqa: E402
from core.money.run_impact import run_impact  # noqa: E402
from core.planning import store as planning  # noqa: E402
from core.warehouse import Warehouse  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="practice,naive,snaive,ma,ets,theta,lgbm")
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Warehouse(Path(tmp) / "bench.duckdb")
        dataset = load_demo(warehouse, DemoConfig(end_date=REFERENCE_END_DATE))
        config = BacktestConfig(split=SplitConfig(horizon=args.horizon, folds=args.folds),
                                models=tuple(ModelSpec.of(m) for m in args.models.split(",")))
        start = time.perf_counter()
        run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "bench")
        print(f"backtest ({args.models}; {dataset.n_series} series, {args.folds} x {args.horizon}): "
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


if __name__ == "__main__":
    sys.exit(main())
