"""Publishing a batch as a job (``core.jobs``): the chosen model is fitted on every series
and forecasts the next periods in a worker process, and the batch becomes the dataset's
next version in one transaction when it is done.

``params`` (JSON): ``run_id``; ``options`` (``options_to_dict``); ``decision_id`` (the
decision the batch follows, or None). The worker reads a slice of the warehouse — the
run's dataset and the run (``core.jobs.store.slice_of_warehouse``) — since only the app
may open the warehouse; the version number is taken when the batch is stored, so that two
publishes never share one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from core.backtest.engine import ModelSpec
from core.backtest.store import get_run
from core.columns import DATE
from core.handoff.batch import PublishOptions, prepare_batch
from core.handoff.store import publish_batch
from core.i18n import M_, Fmt, Msg
from core.jobs.store import slice_of_warehouse
from core.money.impact import Economics
from core.warehouse import Warehouse

SLICE, OUT = "in.duckdb", "out.duckdb"


def options_to_dict(options: PublishOptions) -> dict:
    data = asdict(options)
    data["model"] = {"alias": options.model.alias, "params": dict(options.model.params)}
    return data


def options_from_dict(data: Mapping) -> PublishOptions:
    values = dict(data)
    values["model"] = ModelSpec.of(data["model"]["alias"], **data["model"].get("params", {}))
    values["economics"] = Economics(**data["economics"])
    return PublishOptions(**values)


def publish_params(run_id: str, options: PublishOptions, decision_id: str | None) -> dict:
    return {"run_id": run_id, "options": options_to_dict(options), "decision_id": decision_id}


def job_title(dataset_name: str, options: PublishOptions) -> Msg:
    return M_("Publish {model} for {dataset}", model=Fmt("model_name", options.model.alias), dataset=dataset_name)


@dataclass(frozen=True)
class PublishJob:
    name: str = "publish"
    target: str = "core.handoff.job:PUBLISH"
    tables: tuple[str, ...] = ("forecast_batches", "batch_forecasts")

    def prepare(self, warehouse: Warehouse, params: Mapping, folder: Path) -> None:
        """In the app: the run's dataset and the run, as a warehouse file of their own."""
        run = get_run(warehouse, params["run_id"])
        if run.dataset_id is None:  # prepare_batch says why it cannot be published
            slice_of_warehouse(warehouse, folder / SLICE, "", run.run_id)
            return
        slice_of_warehouse(warehouse, folder / SLICE, run.dataset_id, run.run_id)

    def work(self, params: Mapping, folder: Path, report: Callable[[float, object], None],
             should_stop: Callable[[], bool]) -> tuple[str, Msg]:
        """In the worker: the batch, written as version 1 of the worker's own file (renumbered when stored)."""
        source = Warehouse(folder / SLICE)
        try:
            options = options_from_dict(params["options"])
            batch = prepare_batch(source, params["run_id"], options, on_progress=lambda message: report(0.3, message))
        finally:
            source.close()
        report(0.95, M_("Writing the new version in one transaction…"))
        out = Warehouse(folder / OUT)
        try:
            publish_batch(out, batch, decision_id=params.get("decision_id"))
        finally:
            out.close()
        published = {"dataset": batch.dataset_name, "n": batch.n_series, "horizon": options.horizon,
                     "first": Fmt("date", f"{batch.frame[DATE].min():%Y-%m-%d}")}
        return batch.dataset_id, M_("{n:,} series × {horizon} periods from {first}", **published)

    def store(self, cur: duckdb.DuckDBPyConnection, source: str) -> str:
        """Inside the runner's transaction: the batch as the dataset's next version; returns
        "dataset_id/version"."""
        dataset_id = cur.execute(f"SELECT dataset_id FROM {source}.forecast_batches").fetchone()[0]
        version = cur.execute("SELECT coalesce(max(version), 0) + 1 FROM forecast_batches WHERE dataset_id = ?",
                              [dataset_id]).fetchone()[0]
        for table in self.tables:
            cur.execute(f"INSERT INTO {table} BY NAME SELECT * REPLACE (CAST(? AS INTEGER) AS version) "
                        f"FROM {source}.{table}", [version])
        return f"{dataset_id}/{version}"


PUBLISH = PublishJob()
