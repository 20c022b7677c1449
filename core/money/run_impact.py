"""The money impact of a stored backtest run: its forecasts and the dataset's sales, orders and
prices read from the warehouse, and priced by ``core.money.impact`` (which is pure).

A national chain's dataset holds some 50 million rows, of which the money needs few: the
days the folds price, with the ``LOOKBACK_WEEKS`` seasons before them that demand on a
stockout day is estimated from (``_recent_frame``), and — where the data records orders —
two columns of every earlier day, the orders and sales today's practice is replayed from
(``_recorded_orders``). They are read in SQL by date and column, so the impact of a run is
the one ``money_impact`` gives on the whole dataset, at a fraction of its reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.backtest import store as runs
from core.backtest.engine import BacktestData
from core.backtest.metrics import CUTOFF
from core.columns import DATE, SERIES_ID, TARGET
from core.data.explore import Scope, scope_condition, target_totals
from core.errors import DatasetNotFoundError
from core.i18n import M_
from core.money.impact import (
    ERRORS,
    LOOKBACK_WEEKS,
    PRICE_NAMES,
    ImpactConfig,
    ImpactResult,
    Progress,
    RecordedOrders,
    money_impact,
)
from core.money.store import impact_key, load_impact, save_impact
from core.warehouse import Dataset, Warehouse
from core.warehouse.store import quote


@dataclass(frozen=True)
class RunImpact:
    run: runs.RunInfo
    dataset: Dataset
    data: BacktestData  # the run's series as the money read them (``_recent_frame``; no rows when it was stored)
    impact: ImpactResult
    forecasts: pd.DataFrame | None = None  # the run's forecasts as read here (None: the impact was stored)


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
    """The money impact of every model of a stored run (``forecasts``: the run's, or some of
    them, when the caller has already read them).

    The impact of the whole run is kept with it (``core.money.store``) and read back as long
    as nothing it is made from changed."""
    run = runs.get_run(warehouse, run_id)
    dataset = _run_dataset(warehouse, run)
    items = warehouse.side_table(dataset, "items")
    key = impact_key(warehouse, run_id, dataset, config, items) if forecasts is None else None
    if key is not None:
        stored = load_impact(warehouse, run_id, key)
        if stored is not None:
            return RunImpact(run=run, dataset=dataset, data=_described(dataset, run.scope, _empty_frame(dataset)),
                             impact=stored)
    read = runs.run_forecast_rows(warehouse, run_id) if forecasts is None else forecasts
    # The run's series as they are in the warehouse now (the same rows, unless the dataset was replaced).
    data, recorded = _impact_data(warehouse, dataset, run.scope, read, config)
    # The whole dataset's sales over each fold's own days, summed as the run's are (fold by fold).
    spans = pd.DataFrame({CUTOFF: read[CUTOFF], DATE: pd.to_datetime(read[DATE])}).groupby(CUTOFF)[DATE].agg(
        ["min", "max"])
    total = sum(target_totals(warehouse, dataset, list(spans.itertuples(index=False, name=None)))
                ) if not read.empty else None
    impact = money_impact(read, data, config, items=items, dataset_sales=total, on_progress=on_progress,
                          recorded=recorded)
    if key is not None:
        save_impact(warehouse, run_id, key, impact)
    return RunImpact(run=run, dataset=dataset, data=data, impact=impact, forecasts=read)


# ---------------------------------------------------------------------------------
# What the money reads of a dataset
# ---------------------------------------------------------------------------------
def _impact_data(warehouse: Warehouse, dataset: Dataset, scope: dict, forecasts: pd.DataFrame,
                 config: ImpactConfig) -> tuple[BacktestData, RecordedOrders | None]:
    """The run's series as ``money_impact`` reads them (``_recent_frame``) and, where the data
    records orders and the shelf is simulated, today's orders and sales from the first day
    (``_recorded_orders``)."""
    spec = dataset.spec
    where = scope_condition(dataset, Scope(filters=dict(scope or {})))
    series = pd.Index(sorted(forecasts[SERIES_ID].unique()), name=SERIES_ID)
    dates = pd.to_datetime(forecasts[DATE])
    days = _dates(warehouse, dataset, where, series)
    frame = _recent_frame(warehouse, dataset, where, _first_needed(days, dates, dataset.freq.season_length),
                          dates.max() if len(dates) else days.max())
    data = _described(dataset, scope, frame)
    if not spec.orders or config.money_model == ERRORS or forecasts.empty:
        return data, None
    last_start = dates.groupby(forecasts[CUTOFF], observed=True).min().max()  # the latest fold's first day
    return data, _recorded_orders(warehouse, dataset, where, series, days[days <= last_start])


def _described(dataset: Dataset, scope: dict, frame: pd.DataFrame) -> BacktestData:
    """``frame`` (rows of the dataset's series in ``scope``) with the roles of its columns."""
    spec = dataset.spec
    return BacktestData(frame=frame, freq=dataset.freq, name=dataset.name, keys=spec.keys, attributes=spec.attributes,
                        exog_known=spec.exog_known, orders=spec.orders, stockout=spec.stockout,
                        dataset_id=dataset.dataset_id, scope={k: tuple(v) for k, v in (scope or {}).items() if v})


def _empty_frame(dataset: Dataset) -> pd.DataFrame:
    """No row of the dataset, with its columns."""
    return pd.DataFrame(columns=[SERIES_ID, *(c for c, _ in dataset.spec.roles())])


def _among(series: pd.Index) -> tuple[str, list]:
    """Rows of the series ``series`` only, as an SQL condition and its bound value."""
    return f"{SERIES_ID} IN (SELECT unnest(?::VARCHAR[]))", [series.astype(str).tolist()]


def _dates(warehouse: Warehouse, dataset: Dataset, where: tuple[list[str], list], series: pd.Index
           ) -> pd.DatetimeIndex:
    """Every date the run's series have a row on, oldest first: the days of ``money_impact``'s
    history, whose positions its estimate of demand on stockout days counts back in."""
    conditions, params = where
    among, value = _among(series)
    frame = warehouse.query(f"SELECT DISTINCT {DATE} FROM {dataset.table_name} "
                            f"WHERE {' AND '.join([*conditions, among])} ORDER BY {DATE}", [*params, *value])
    return pd.DatetimeIndex(pd.to_datetime(frame[DATE]), name=DATE)


def _first_needed(days: pd.DatetimeIndex, dates: pd.Series, season: int) -> pd.Timestamp:
    """The first date ``money_impact`` reads: ``LOOKBACK_WEEKS`` seasons of the series' dates
    before the folds' first forecast day (from the first date when there are fewer)."""
    if days.empty:
        return pd.Timestamp.min
    start = days.searchsorted(dates.min()) if len(dates) else 0
    return days[max(0, start - LOOKBACK_WEEKS * season)]


def _sql(column: str) -> str:
    """A column of a dataset's table in SQL: the canonical names as they are, the others quoted."""
    return column if column in (SERIES_ID, DATE, TARGET) else quote(column)


def _labels(dataset: Dataset) -> list[str]:
    """The columns that name a series and its segments: the id, keys and attributes."""
    return [SERIES_ID, *dataset.spec.keys, *dataset.spec.attributes]


def _recent_frame(warehouse: Warehouse, dataset: Dataset, where: tuple[list[str], list], first: pd.Timestamp,
                  last: pd.Timestamp) -> pd.DataFrame:
    """The rows of the series in scope from ``first`` to ``last``: the columns the money impact
    reads (the series' keys and attributes, the date, the target, prices (``PRICE_NAMES``),
    stockouts and orders, in the table's order), text as categoricals. A series in scope
    without a row there keeps one (its keys and attributes, no date): the errors of a segment
    are pooled by how many series it has in scope (``core.money.impact.segment_of``)."""
    conditions, params = where
    spec = dataset.spec
    wanted = {*_labels(dataset), DATE, TARGET, spec.stockout, spec.orders}
    columns = [SERIES_ID, *(c for c, _ in spec.roles() if c in wanted or c.lower() in PRICE_NAMES)]
    span = [first.date(), last.date()]
    frame = warehouse.query_rows(
        f"SELECT {', '.join(map(_sql, columns))} FROM {dataset.table_name} "
        f"WHERE {' AND '.join([*conditions, f'{DATE} BETWEEN ? AND ?'])}", [*params, *span], text_as_category=True)
    labels = _labels(dataset)
    if not conditions and frame[SERIES_ID].nunique() == dataset.n_series:
        return frame  # every series of the dataset has rows here
    gone = warehouse.query(
        f"SELECT {', '.join(f'any_value({_sql(c)}) AS {_sql(c)}' if c != SERIES_ID else c for c in labels)} "
        f"FROM {dataset.table_name} WHERE {' AND '.join([*conditions, f'{DATE} NOT BETWEEN ? AND ?'])} "
        f"GROUP BY {SERIES_ID}", [*params, *span])
    gone = gone[~gone[SERIES_ID].isin(frame[SERIES_ID].unique())]
    if gone.empty:
        return frame
    gone = gone.reindex(columns=frame.columns).astype({DATE: frame[DATE].dtype})
    for column in labels:  # the text as categoricals of both parts' values, sorted, so that they stack as such
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            values = frame[column].cat.categories.union(pd.Index(gone[column].dropna().unique()))
            frame[column] = frame[column].cat.set_categories(values)
            gone[column] = pd.Categorical(gone[column], categories=values)
    return pd.concat([frame, gone], ignore_index=True)


def _recorded_orders(warehouse: Warehouse, dataset: Dataset, where: tuple[list[str], list], series: pd.Index,
                     days: pd.DatetimeIndex) -> RecordedOrders:
    """The units ordered and sold per day of ``days`` (every date of the series up to the
    latest fold's first day) and series of ``series``: 50 million rows on a national chain,
    read through Arrow batch by batch into the two matrices (the ids looked up once per
    batch's distinct ones, the dates as day numbers), never held as rows."""
    import pyarrow.compute as pc
    conditions, params = where
    epoch = days[0]
    number = days.to_numpy(dtype="datetime64[D]").astype(np.int64) - np.datetime64(epoch, "D").astype(np.int64)
    row_of = np.full(int(number[-1]) + 1, -1, dtype=np.int64)
    row_of[number] = np.arange(len(days))
    orders = np.zeros((len(days), len(series)))
    sales = np.zeros((len(days), len(series)))
    # Every series in scope: those the run never scored (a few) are dropped here, cheaper than a join in SQL.
    sql = (f"SELECT {SERIES_ID}, CAST(date_diff('day', ?, {DATE}) AS BIGINT) AS day, {TARGET}, "
           f"{quote(dataset.spec.orders)} FROM {dataset.table_name} WHERE {' AND '.join([*conditions, f'{DATE} <= ?'])}")
    with warehouse.cursor() as cur:
        for batch in cur.sql(sql, params=[epoch.date(), *params, days[-1].date()]).to_arrow_reader(1 << 20):
            ids = pc.dictionary_encode(batch.column(0))
            column = series.get_indexer(pd.Index(ids.dictionary.to_pylist()))[ids.indices.to_numpy()]
            day = batch.column(1).to_numpy()
            kept = (column >= 0) & (day >= 0)
            row = row_of[day[kept]]
            for matrix, values in ((sales, batch.column(2)), (orders, batch.column(3))):
                matrix[row, column[kept]] = np.nan_to_num(values.to_numpy(zero_copy_only=False).astype(float))[kept]
    return RecordedOrders(days=days, series=series, orders=orders, sales=sales)
