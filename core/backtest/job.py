"""A backtest as a job (``core.jobs``): prepared in the app, run in a worker process, stored
in one transaction when it is done.

``params`` (JSON): ``dataset_id``; ``filters`` (segment column -> values in scope);
``config`` (``BacktestConfig.to_dict``); ``name`` (the run's name, or None for a name made
from the dataset and its models). The worker runs on a Dask cluster when the app is given
a scheduler's address (``core.backtest.distributed.scheduler_address``), else here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.backtest.engine import BacktestConfig, BacktestData, Progress, run_backtest
from core.backtest.store import save_run
from core.columns import DATE, Freq
from core.data.explore import Scope, export_frame, in_series_order
from core.i18n import M_, Fmt, Msg
from core.warehouse import Warehouse

DATA, META = "data.parquet", "data.json"
OUT = "out.duckdb"  # core.jobs.runner.OUT: the worker's own warehouse file


def backtest_params(dataset_id: str, filters: Mapping[str, tuple[str, ...]], config: BacktestConfig,
                    name: str | None) -> dict:
    """The job's ``params`` for a backtest of ``config`` on the dataset's series in scope."""
    return {"dataset_id": dataset_id, "filters": {k: list(v) for k, v in filters.items() if v},
            "config": config.to_dict(), "name": name or None}


def job_title(dataset_name: str, config: BacktestConfig, filters: Mapping[str, tuple[str, ...]] | None = None) -> Msg:
    """What the jobs list calls a backtest: its dataset, the series in scope when not all
    ("store_id: S005, S006"), and its models, read in the reader's language."""
    models = Fmt("model_list", [m.alias for m in config.models])
    scope = "; ".join(f"{column}: {', '.join(map(str, values))}" for column, values in (filters or {}).items() if values)
    if scope:
        return M_("Backtest of {dataset} ({scope}): {models}", dataset=dataset_name, scope=scope, models=models)
    return M_("Backtest of {dataset}: {models}", dataset=dataset_name, models=models)


@dataclass(frozen=True)
class BacktestJob:
    name: str = "backtest"
    target: str = "core.backtest.job:BACKTEST"
    tables: tuple[str, ...] = ("runs", "run_*")  # what save_run writes: the run and its tables

    def prepare(self, warehouse: Warehouse, params: Mapping, folder: Path) -> None:
        """In the app: the series in scope to ``data.parquet`` and their roles to ``data.json``.
        Raises ``DatasetNotFoundError`` when the dataset was deleted since the job was queued."""
        dataset = warehouse.get_dataset(params["dataset_id"])
        filters = {k: tuple(v) for k, v in params.get("filters", {}).items()}
        export_frame(warehouse, dataset, Scope(filters=dict(filters)), folder / DATA)
        spec = dataset.spec
        (folder / META).write_text(json.dumps({
            "freq": dataset.freq.value, "name": dataset.name, "keys": list(spec.keys),
            "attributes": list(spec.attributes), "exog_known": list(spec.exog_known), "orders": spec.orders,
            "stockout": spec.stockout, "dataset_id": dataset.dataset_id, "scope": {k: list(v) for k, v in filters.items()},
        }, ensure_ascii=False), encoding="utf-8")

    def work(self, params: Mapping, folder: Path, report: Callable[[float, object], None],
             should_stop: Callable[[], bool]) -> tuple[str, Msg]:
        """In the worker: the backtest, stored as a run in ``folder / OUT``; returns its id."""
        from core.backtest import distributed  # Dask is imported only where a cluster may be used

        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        out = Warehouse(folder / OUT)
        try:
            report(0.0, M_("Loading the series…"))
            frame = in_series_order(out.query_rows("SELECT * FROM read_parquet(?)", [str(folder / DATA)],
                                                    text_as_category=True))
            frame[DATE] = pd.to_datetime(frame[DATE])
            data = BacktestData(
                frame=frame, freq=Freq(meta["freq"]), name=meta["name"], keys=tuple(meta["keys"]),
                attributes=tuple(meta["attributes"]), exog_known=tuple(meta["exog_known"]), orders=meta["orders"],
                stockout=meta["stockout"], dataset_id=meta["dataset_id"],
                scope={k: tuple(v) for k, v in meta["scope"].items()})
            (folder / DATA).unlink()  # read: the disk it held is free for the results
            config = BacktestConfig.from_dict(params["config"])

            def progress(p: Progress) -> None:
                report(0.95 * p.done / max(p.total, 1), p.message)

            address = distributed.scheduler_address()
            with distributed.DaskExecutor(address) if address else nullcontext() as executor:
                result = run_backtest(data, config, on_progress=progress, should_stop=should_stop, executor=executor)
            report(0.96, M_("Saving the run…"))
            run_id = save_run(out, result, params.get("name"))
        finally:
            out.close()
        return run_id, M_("Stored as a run of {models} models.", models=len(config.models))


BACKTEST = BacktestJob()
