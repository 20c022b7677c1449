"""Backtest runs in the warehouse: written in one transaction, read back as they were,
with every series accounted for (the series each fold left out, the models' fallbacks)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd

from core.backtest import accounting
from core.backtest.engine import BacktestConfig, BacktestResult, ModelTiming
from core.columns import Freq
from core.errors import WarehouseError
from core.i18n import M_, Fmt, Msg, from_json, render, to_json
from core.warehouse.store import Warehouse


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    name: str
    dataset_id: str | None
    dataset_name: str
    fingerprint: str
    code_version: str
    freq: Freq
    config: BacktestConfig
    scope: dict
    n_series: int
    wall_seconds: float
    created_at: datetime
    n_scored: int | None = None  # series scored in at least one fold; None: stored before it was counted
    # the last date of the data the run backtested; None: stored before it was kept (see ``backtested_until``)
    data_end: date | None = None


def save_run(warehouse: Warehouse, result: BacktestResult, name: str | None = None) -> str:
    """Store a finished backtest; all of it or, on any error, none of it."""
    run_id = uuid.uuid4().hex[:12]
    # A run without a name is named for people: its dataset and its models' names (never their aliases), kept as
    # facts so that it reads in the reader's language (``shown_run_name``), whatever the language it was made in.
    label = name.strip() if name and name.strip() else json.dumps(to_json(M_(
        "{data} · {models}", data=result.data_name, models=Fmt("model_list", [m.alias for m in result.config.models]))),
        ensure_ascii=False)
    timings = pd.DataFrame([{"run_id": run_id, "model": t.model, "cutoff": t.cutoff, "seconds": t.seconds,
                             "series": t.series} for t in result.timings])
    forecasts = result.forecasts.assign(run_id=run_id)[
        ["run_id", "unique_id", "ds", "cutoff", "step", "actual", "model", "forecast"]]
    metrics = result.metrics.assign(run_id=run_id)[["run_id", "level", "group", "model", "metric", "value"]]
    excluded = result.excluded.assign(run_id=run_id)[["run_id", *accounting.EXCLUDED_COLUMNS]]
    fallbacks = result.fallbacks.assign(run_id=run_id)[["run_id", *accounting.FALLBACK_COLUMNS]]
    try:
        with warehouse.transaction() as cur:
            cur.execute(
                "INSERT INTO runs (run_id, name, dataset_id, dataset_name, fingerprint, code_version, freq, config, "
                "scope, n_series, wall_seconds, created_at, n_scored, data_end) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, ?)",
                [run_id, label, result.dataset_id, result.data_name, result.fingerprint, result.code_version,
                 result.freq.value, json.dumps(result.config.to_dict()),
                 json.dumps({k: list(v) for k, v in result.scope.items()}, ensure_ascii=False),
                 result.n_series, result.wall_seconds, result.n_scored, result.data_end],
            )
            for table, frame in (("run_timings", timings), ("run_forecasts", forecasts), ("run_metrics", metrics),
                                 ("run_excluded", excluded), ("run_fallbacks", fallbacks)):
                if frame.empty:
                    continue
                # Registered for the life of this cursor, which the transaction closes: an
                # unregister after a failed insert would raise "transaction is aborted" and
                # hide the error that says what went wrong.
                view = f"incoming_{table}_{run_id}"
                cur.register(view, frame)
                cur.execute(f"INSERT INTO {table} SELECT * FROM {view}")
    except duckdb.Error as error:
        raise WarehouseError(M_("The run could not be stored, and nothing of it was: {error}",
                                error=str(error).splitlines()[0])) from error
    return run_id


def list_runs(warehouse: Warehouse) -> list[RunInfo]:
    rows = warehouse.query("SELECT * FROM runs ORDER BY created_at DESC, rowid DESC")
    return [_info(row) for _, row in rows.iterrows()]


def get_run(warehouse: Warehouse, run_id: str) -> RunInfo:
    rows = warehouse.query("SELECT * FROM runs WHERE run_id = ?", [run_id])
    if rows.empty:
        raise WarehouseError(M_("No run with id '{run_id}'; it may have been deleted.", run_id=run_id))
    return _info(rows.iloc[0])


def shown_run_name(stored: object) -> str:
    """A run's name as stored, for people: a name the product gave (facts, ``save_run``) in the current
    language; a name typed, or given before names were kept as facts, as it is."""
    text = "" if stored is None or (isinstance(stored, float) and pd.isna(stored)) else str(stored)
    if text.startswith("{"):
        try:
            message = from_json(json.loads(text))
        except ValueError:
            return text
        if isinstance(message, Msg):
            return render(message)
    return text


def _info(row: pd.Series) -> RunInfo:
    return RunInfo(
        run_id=row["run_id"], name=shown_run_name(row["name"]), dataset_id=row["dataset_id"], dataset_name=row["dataset_name"],
        fingerprint=row["fingerprint"], code_version=row["code_version"], freq=Freq(row["freq"]),
        config=BacktestConfig.from_dict(json.loads(row["config"])), scope=json.loads(row["scope"]),
        n_series=int(row["n_series"]), wall_seconds=float(row["wall_seconds"]),
        created_at=pd.Timestamp(row["created_at"]).to_pydatetime(),
        n_scored=None if pd.isna(row["n_scored"]) else int(row["n_scored"]),
        data_end=None if pd.isna(row["data_end"]) else pd.Timestamp(row["data_end"]).date(),
    )


SERIES_LEVEL = "series"


@dataclass(frozen=True)
class RunView:
    """What the Backtest page reads to show a stored run: the run, its metrics at every
    level but per series (overall, fold, step, segments: a few thousand rows however many
    series the run has) and its models' timings. Per-series metrics are read one metric
    at a time (``series_metrics``): a national chain's run holds millions of them."""

    info: RunInfo
    metrics: pd.DataFrame  # level, group, model, metric, value; no "series" level
    timings: pd.DataFrame  # model, cutoff, seconds, series


def run_view(warehouse: Warehouse, run_id: str) -> RunView:
    """The stored run as the Backtest page shows it (``ui.backtest.render_run``)."""
    metrics = warehouse.query('SELECT level, "group", model, metric, value FROM run_metrics '
                              "WHERE run_id = ? AND level <> ?", [run_id, SERIES_LEVEL])
    return RunView(get_run(warehouse, run_id), metrics, run_timings(warehouse, run_id))


def series_metrics(warehouse: Warehouse, run_id: str, metrics: tuple[str, ...]) -> pd.DataFrame:
    """The run's per-series values of ``metrics`` only: level, group (the series), model,
    metric, value."""
    if not metrics:
        return pd.DataFrame(columns=["level", "group", "model", "metric", "value"])
    marks = ", ".join("?" for _ in metrics)
    return warehouse.query('SELECT level, "group", model, metric, value FROM run_metrics '
                           f"WHERE run_id = ? AND level = ? AND metric IN ({marks})",
                           [run_id, SERIES_LEVEL, *metrics])


def backtested_until(warehouse: Warehouse, run: RunInfo) -> date | None:
    """The last date of the data ``run`` backtested: ``run.data_end``, or for a run stored
    before it was kept, the last date the run forecast (its last fold ends on the data's
    last date). None for a run with no forecast stored."""
    if run.data_end is not None:
        return run.data_end
    last = warehouse.query("SELECT max(ds) AS last FROM run_forecasts WHERE run_id = ?", [run.run_id])["last"].iloc[0]
    return None if pd.isna(last) else pd.Timestamp(last).date()


def run_revision(warehouse: Warehouse, run_id: str) -> str:
    """A token that changes whenever the run's set of models changes (forecasts made elsewhere
    added or removed, ``core.backtest.external``): the pages key their cached reads of a run's
    metrics, forecasts and money by it, so that a change made on another page, in another tab
    or from the command line is seen at once."""
    row = warehouse.query("SELECT count(*) AS n, max(created_at) AS last FROM run_external_models WHERE run_id = ?",
                          [run_id]).iloc[0]
    return f"{int(row['n'])}:{'' if pd.isna(row['last']) else pd.Timestamp(row['last']).isoformat()}"


def run_metrics(warehouse: Warehouse, run_id: str, level: str | None = None) -> pd.DataFrame:
    if level is None:
        return warehouse.query('SELECT level, "group", model, metric, value FROM run_metrics WHERE run_id = ?', [run_id])
    return warehouse.query(
        'SELECT level, "group", model, metric, value FROM run_metrics WHERE run_id = ? AND level = ?', [run_id, level])


def run_timings(warehouse: Warehouse, run_id: str) -> pd.DataFrame:
    return warehouse.query("SELECT model, cutoff, seconds, series FROM run_timings WHERE run_id = ? ORDER BY cutoff, model",
                           [run_id])


def run_cutoffs(warehouse: Warehouse, run_id: str) -> list[pd.Timestamp]:
    """The run's cutoffs, oldest first: every fold, including one where nothing was scored
    (each model's timing is stored for every fold; forecasts only where there was an actual)."""
    frame = warehouse.query("SELECT DISTINCT cutoff FROM run_timings WHERE run_id = ? ORDER BY cutoff", [run_id])
    return [pd.Timestamp(c) for c in frame["cutoff"]]


def run_forecasts(warehouse: Warehouse, run_id: str, series_id: str | None = None) -> pd.DataFrame:
    if series_id is None:
        return warehouse.query(
            "SELECT unique_id, ds, cutoff, step, actual, model, forecast FROM run_forecasts WHERE run_id = ? "
            "ORDER BY model, unique_id, cutoff, ds", [run_id])
    return warehouse.query(
        "SELECT unique_id, ds, cutoff, step, actual, model, forecast FROM run_forecasts "
        "WHERE run_id = ? AND unique_id = ? ORDER BY model, cutoff, ds", [run_id, series_id])


def run_forecast_rows(warehouse: Warehouse, run_id: str, models: Sequence[str] | None = None) -> pd.DataFrame:
    """``run_forecasts`` of a whole run (of ``models`` only, when given) as a national chain's
    money and decision read them: the same rows and columns, through Arrow with the series
    and the models as categoricals (``Warehouse.query_rows``), model after model (sorted), a
    model's rows in the order they were stored (DuckDB keeps it where no order is asked for):
    the same order at every read, without DuckDB sorting millions of rows (a sort by model
    alone would leave a model's rows in any order, which moves float sums in the last bit)."""
    where, params = "run_id = ?", [run_id]
    if models is not None:
        where, params = where + " AND list_contains(?, model)", [*params, list(models)]
    frame = warehouse.query_rows(
        f"SELECT unique_id, ds, cutoff, step, actual, model, forecast FROM run_forecasts WHERE {where}", params,
        text_as_category=True)
    codes = frame["model"].cat.codes.to_numpy()
    if len(codes) < 2 or bool(np.all(codes[1:] >= codes[:-1])):
        return frame
    order = np.argsort(codes, kind="stable")
    # Column by column: each stays one contiguous array (a frame's take makes 2-D blocks slower to read).
    return pd.DataFrame({column: frame[column].take(order).reset_index(drop=True) for column in frame.columns})


def run_excluded(warehouse: Warehouse, run_id: str) -> pd.DataFrame:
    """Series in scope that a fold of the run did not score: cutoff, unique_id, reason."""
    frame = warehouse.query("SELECT cutoff, unique_id, reason FROM run_excluded WHERE run_id = ? "
                            "ORDER BY cutoff, reason, unique_id", [run_id])
    return frame.astype({"cutoff": "datetime64[ns]"})


def run_fallbacks(warehouse: Warehouse, run_id: str) -> pd.DataFrame:
    """Series a model of the run left to a simple rule: model, cutoff, unique_id, rule, reason."""
    frame = warehouse.query("SELECT model, cutoff, unique_id, rule, reason FROM run_fallbacks WHERE run_id = ? "
                            "ORDER BY model, cutoff, rule, reason, unique_id", [run_id])
    return frame.astype({"cutoff": "datetime64[ns]"})


def fallback_counts(warehouse: Warehouse) -> dict[str, dict[str, int]]:
    """Series each model of every stored run left to a simple rule in any fold, in one
    grouped query: {run_id: {model: series}}, models in alphabetical order; a run whose
    models forecast every series themselves is absent. (No user value: nothing to bind.)"""
    frame = warehouse.query("SELECT run_id, model, count(DISTINCT unique_id) AS series FROM run_fallbacks "
                            "GROUP BY run_id, model ORDER BY run_id, model")
    counts: dict[str, dict[str, int]] = {}
    for run_id, model, series in frame.itertuples(index=False, name=None):
        counts.setdefault(str(run_id), {})[str(model)] = int(series)
    return counts


def load_result(warehouse: Warehouse, run_id: str) -> BacktestResult:
    """The stored run as a result object, exactly as it was saved."""
    info = get_run(warehouse, run_id)
    timings = run_timings(warehouse, run_id)
    return BacktestResult(
        config=info.config, data_name=info.dataset_name, dataset_id=info.dataset_id, fingerprint=info.fingerprint,
        code_version=info.code_version, freq=info.freq, n_series=info.n_series,
        forecasts=run_forecasts(warehouse, run_id), metrics=run_metrics(warehouse, run_id),
        timings=tuple(ModelTiming(r.model, pd.Timestamp(r.cutoff), float(r.seconds), int(r.series))
                      for r in timings.itertuples()),
        cutoffs=run_cutoffs(warehouse, run_id),
        wall_seconds=info.wall_seconds, scope={k: tuple(v) for k, v in info.scope.items()},
        excluded=run_excluded(warehouse, run_id), fallbacks=run_fallbacks(warehouse, run_id),
        data_end=info.data_end,
    )


def rename_run(warehouse: Warehouse, run_id: str, name: str) -> None:
    if not name.strip():
        raise WarehouseError(M_("Give the run a name."))
    get_run(warehouse, run_id)
    with warehouse.transaction() as cur:
        cur.execute("UPDATE runs SET name = ? WHERE run_id = ?", [name.strip(), run_id])


def delete_run(warehouse: Warehouse, run_id: str) -> None:
    get_run(warehouse, run_id)
    with warehouse.transaction() as cur:
        for table in ("run_forecasts", "run_metrics", "run_timings", "run_excluded", "run_fallbacks",
                      "run_external_models", "run_quantiles", "run_impacts", "runs"):
            cur.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
