"""The money impact of a stored backtest run: its forecasts and the dataset's sales, orders and
prices read from the warehouse, and priced by ``core.money.impact`` (which is pure)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.backtest import store as runs
from core.backtest.engine import BacktestData, dataset_data
from core.backtest.metrics import CUTOFF
from core.columns import DATE
from core.data.explore import target_total
from core.errors import DatasetNotFoundError
from core.i18n import M_
from core.money.impact import ImpactConfig, ImpactResult, Progress, money_impact
from core.warehouse import Dataset, Warehouse


@dataclass(frozen=True)
class RunImpact:
    run: runs.RunInfo
    dataset: Dataset
    data: BacktestData
    impact: ImpactResult


def _run_dataset(warehouse: Warehouse, run: runs.RunInfo) -> Dataset:
    if run.dataset_id is None:
        raise DatasetNotFoundError(M_("The run '{run}' has no dataset in the warehouse to price its orders with.",
                                      run=run.name))
    try:
        return warehouse.get_dataset(run.dataset_id)
    except DatasetNotFoundError:
        raise DatasetNotFoundError(M_(
            "The dataset of run '{run}' ('{dataset}') was deleted: the money impact needs its sales, orders and "
            "prices. Import it again and run a new backtest.", run=run.name, dataset=run.dataset_name)) from None


def run_impact(warehouse: Warehouse, run_id: str, config: ImpactConfig = ImpactConfig(),
               on_progress: Progress | None = None, forecasts: pd.DataFrame | None = None) -> RunImpact:
    """The money impact of every model of a stored run (``forecasts``: the run's, when
    the caller has already read them)."""
    run = runs.get_run(warehouse, run_id)
    dataset = _run_dataset(warehouse, run)
    # The run's series as they are in the warehouse now (the same rows, unless the dataset was replaced).
    data = dataset_data(warehouse, dataset, run.scope)
    if forecasts is None:
        forecasts = runs.run_forecasts(warehouse, run_id)
    # The whole dataset's sales over each fold's own days, summed as the run's are (fold by fold).
    dates = pd.to_datetime(forecasts[DATE])
    total = sum(target_total(warehouse, dataset, days.min(), days.max())
                for _, days in dates.groupby(forecasts[CUTOFF])) if not forecasts.empty else None
    impact = money_impact(forecasts, data, config, items=warehouse.side_table(dataset, "items"),
                          dataset_sales=total, on_progress=on_progress)
    return RunImpact(run=run, dataset=dataset, data=data, impact=impact)
