"""Read queries of a dataset: for the Data page (profile, totals over time, seasonal
profiles, promotion effect, today's ordering practice against sales, series labels) and for
the steps after it (``dataset_frame``, the frame a backtest reads; ``target_total``, the
dataset's sales over a span, which the money impact scales to).

Each function builds one statement from small named pieces and runs it through
``Warehouse.query``. Column names come only from the dataset's registered roles;
values chosen in the browser (filters) are bound parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.data import words
from core.errors import WarehouseError
from core.i18n import M_, N_, Fmt, gettext
from core.warehouse.store import Dataset, Warehouse, quote

# The group names the queries give the whole scope and the groups beyond the largest: kept
# in the frames as they are, read in the reader's language through ``group_name``.
TOTAL = N_("Total")
OTHER = N_("Other")
_GRAIN_TRUNC = {Freq.DAILY: "day", Freq.WEEKLY: "week", Freq.MONTHLY: "month"}


@dataclass(frozen=True)
class Scope:
    """Which rows a chart looks at: segment filters and an optional grouping."""

    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by: str | None = None  # a key or attribute column, or None for the chain total
    top: int = 8  # groups beyond the largest ``top`` are summed into "Other"


def group_name(group: object) -> str:
    """A group of a query's result as people read it: the whole scope and the rest of the
    groups in their language ("Total" / 合計), a segment's own value as it is."""
    return gettext(group) if group in (TOTAL, OTHER) else str(group)


def _segment(dataset: Dataset, column: str) -> str:
    if column not in dataset.segment_columns and column != SERIES_ID:
        raise WarehouseError(M_(
            "'{column}' is not a key or attribute of dataset '{name}'; choose one of {columns}.", column=column,
            name=dataset.name, columns=Fmt("names", list(dataset.segment_columns))))
    return quote(column) if column != SERIES_ID else SERIES_ID


def _where(dataset: Dataset, scope: Scope) -> tuple[str, list]:
    clauses, params = [], []
    for column, values in scope.filters.items():
        if values:
            clauses.append(f"list_contains(?, CAST({_segment(dataset, column)} AS VARCHAR))")
            params.append([str(v) for v in values])
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def scope_condition(dataset: Dataset, scope: Scope) -> tuple[list[str], list]:
    """The rows of ``scope``'s series as SQL conditions to AND (none for every series) and
    their bound values: for the queries of the steps after this one that read a dataset's
    rows their own way (``core.money.run_impact``)."""
    where, params = _where(dataset, scope)
    return ([where.removeprefix("WHERE ")] if where else []), params


def _group_expr(dataset: Dataset, scope: Scope) -> str:
    return f"CAST({_segment(dataset, scope.by)} AS VARCHAR)" if scope.by else f"'{TOTAL}'"


def _flag_or_zero(column: str | None) -> str:
    return f"CAST({quote(column)} AS DOUBLE)" if column else "0.0"


def profile(warehouse: Warehouse, dataset: Dataset) -> dict[str, object]:
    """Headline facts of a dataset, for the quality panel."""
    table = dataset.table_name
    step = {Freq.DAILY: "1 day", Freq.WEEKLY: "7 days", Freq.MONTHLY: "1 month"}[dataset.freq]
    row = warehouse.query(
        f"""WITH spans AS (
                SELECT {SERIES_ID}, min({DATE}) AS first, max({DATE}) AS last, count(*) AS n
                FROM {table} GROUP BY {SERIES_ID})
            SELECT
                (SELECT count(*) FROM {table}) AS rows,
                (SELECT count(*) FROM spans) AS series,
                (SELECT avg(CASE WHEN {TARGET} = 0 THEN 1.0 ELSE 0.0 END) FROM {table}) AS zero_share,
                (SELECT count(*) FILTER (WHERE {TARGET} IS NULL OR isnan({TARGET})) FROM {table}) AS missing_target,
                (SELECT avg({_flag_or_zero(dataset.spec.stockout)}) FROM {table}) AS stockout_share,
                (SELECT sum(len(generate_series(first, last, INTERVAL '{step}')) - n) FROM spans) AS missing_periods,
                (SELECT count(*) FILTER (WHERE first > (SELECT min(first) FROM spans)) FROM spans) AS late_start,
                (SELECT count(*) FILTER (WHERE last < (SELECT max(last) FROM spans)) FROM spans) AS early_end,
                (SELECT min(n) FROM spans) AS shortest,
                (SELECT median(n) FROM spans) AS median_length"""
    ).iloc[0]
    facts = {k: (None if pd.isna(v) else v) for k, v in row.items()}
    facts["has_stockouts"] = dataset.spec.stockout is not None
    return facts


def missing_values(warehouse: Warehouse, dataset: Dataset) -> pd.DataFrame:
    """Empty cells per stored column (after import repairs): ``column`` (its warehouse name;
    people read ``core.data.labels.column_label``) and ``missing``."""
    columns = [*dataset.spec.keys, TARGET, *dataset.spec.value_columns()]
    counts = ", ".join(f"count(*) - count({quote(c) if c != TARGET else TARGET})" for c in columns)
    values = warehouse.query(f"SELECT {counts} FROM {dataset.table_name}").iloc[0].to_numpy()
    return pd.DataFrame({"column": columns, "missing": values.astype(int)})


def segment_values(warehouse: Warehouse, dataset: Dataset, column: str, limit: int = 5000) -> list[str]:
    frame = warehouse.query(
        f"SELECT DISTINCT CAST({_segment(dataset, column)} AS VARCHAR) AS v FROM {dataset.table_name} "
        "ORDER BY v LIMIT ?",
        [limit],
    )
    return frame["v"].tolist()


def _top_groups(warehouse: Warehouse, dataset: Dataset, scope: Scope) -> list[str] | None:
    if not scope.by:
        return None
    where, params = _where(dataset, scope)
    frame = warehouse.query(
        f"SELECT {_group_expr(dataset, scope)} AS g, sum({TARGET}) AS total FROM {dataset.table_name} {where} "
        "GROUP BY g ORDER BY total DESC, g",
        params,
    )
    return frame["g"].head(scope.top).tolist() if len(frame) > scope.top else None


def _grouped(warehouse: Warehouse, dataset: Dataset, scope: Scope) -> tuple[str, list]:
    """The group expression, keeping the largest groups and summing the rest into Other."""
    group = _group_expr(dataset, scope)
    top = _top_groups(warehouse, dataset, scope)
    if top is None:
        return group, []
    return f"CASE WHEN list_contains(?, {group}) THEN {group} ELSE '{OTHER}' END", [top]


def totals_over_time(warehouse: Warehouse, dataset: Dataset, scope: Scope, grain: Freq) -> pd.DataFrame:
    """Units per period and group; with orders and stockout counts where the data has them."""
    if list(Freq).index(grain) < list(Freq).index(dataset.freq):
        raise WarehouseError(M_("A {freq} dataset cannot be shown {grain}; choose a coarser grain.",
                                freq=words.freq_word(dataset.freq), grain=words.freq_word(grain)))
    group, group_params = _grouped(warehouse, dataset, scope)
    where, params = _where(dataset, scope)
    orders = f"sum({quote(dataset.spec.orders)})" if dataset.spec.orders else "NULL"
    period = f"date_trunc('{_GRAIN_TRUNC[grain]}', {DATE})"
    return warehouse.query(
        f"""WITH complete AS ({_complete_periods(dataset, grain)})
            SELECT {period} AS period, {group} AS grp,
                   sum({TARGET}) AS y, {orders} AS orders,
                   sum({_flag_or_zero(dataset.spec.stockout)}) AS stockouts,
                   count(DISTINCT {SERIES_ID}) AS series
            FROM {dataset.table_name} {where}
            {"AND" if where else "WHERE"} {period} IN (SELECT period FROM complete)
            GROUP BY period, grp ORDER BY period, grp""",
        group_params + params,
    )


def _complete_periods(dataset: Dataset, grain: Freq) -> str:
    """Periods of ``grain`` that the data covers fully: a week or month cut by the
    first or last date would show as a false drop."""
    period = f"date_trunc('{_GRAIN_TRUNC[grain]}', {DATE})"
    if grain == dataset.freq:
        expected = "1"
    elif dataset.freq == Freq.DAILY:
        expected = "7" if grain == Freq.WEEKLY else "day(last_day(period))"
    else:  # weekly dates into months: a month holds four or five of them
        expected = "4"
    return (f"SELECT {period} AS period FROM {dataset.table_name} GROUP BY period "
            f"HAVING count(DISTINCT {DATE}) >= {expected}")


def seasonal_profile(warehouse: Warehouse, dataset: Dataset, scope: Scope, part: str) -> pd.DataFrame:
    """Average units per series and period by ISO weekday (1 = Monday) or month (1-12).

    Averaging per series-period keeps the profile free of the chain's growth and of
    items entering or leaving the range.
    """
    if part not in ("isodow", "month"):
        raise WarehouseError(M_("A seasonal profile is by 'isodow' (weekday) or 'month'."))
    group, group_params = _grouped(warehouse, dataset, scope)
    where, params = _where(dataset, scope)
    return warehouse.query(
        f"""SELECT date_part('{part}', {DATE}) AS part, {group} AS grp, avg({TARGET}) AS mean_y,
                   count(*) AS n
            FROM {dataset.table_name} {where}
            GROUP BY part, grp ORDER BY grp, part""",
        group_params + params,
    )


def flag_effect(warehouse: Warehouse, dataset: Dataset, scope: Scope, flag: str) -> pd.DataFrame:
    """Mean units per series-period with ``flag`` on against off, per group, and the uplift.

    Compared within each series (its own on/off average) so that items that are
    promoted more often do not bias the result.
    """
    if flag not in dataset.spec.exog_known + dataset.spec.exog_unknown:
        raise WarehouseError(M_("'{flag}' is not an exogenous column of '{name}'.", flag=flag, name=dataset.name))
    group, group_params = _grouped(warehouse, dataset, scope)
    where, params = _where(dataset, scope)
    return warehouse.query(
        f"""WITH per_series AS (
                SELECT {SERIES_ID}, {group} AS grp,
                       avg({TARGET}) FILTER (WHERE {quote(flag)} > 0) AS on_y,
                       avg({TARGET}) FILTER (WHERE {quote(flag)} = 0) AS off_y,
                       count(*) FILTER (WHERE {quote(flag)} > 0) AS on_n
                FROM {dataset.table_name} {where}
                GROUP BY {SERIES_ID}, grp)
            SELECT grp, sum(on_n) AS periods_on, count(*) AS series,
                   avg(on_y) AS mean_on, avg(off_y) AS mean_off,
                   sum(on_y) / nullif(sum(off_y), 0) - 1 AS uplift
            FROM per_series WHERE on_y IS NOT NULL AND off_y IS NOT NULL
            GROUP BY grp ORDER BY uplift DESC""",
        group_params + params,
    )


def practice_summary(warehouse: Warehouse, dataset: Dataset, scope: Scope) -> pd.DataFrame:
    """Today's ordering practice against sales, per group: units ordered, sold, left
    over (ordered but not sold that day) and the share of stockout days."""
    if not dataset.spec.orders:
        raise WarehouseError(M_("Dataset '{name}' has no column with today's orders.", name=dataset.name))
    group, group_params = _grouped(warehouse, dataset, scope)
    where, params = _where(dataset, scope)
    orders = quote(dataset.spec.orders)
    return warehouse.query(
        f"""SELECT {group} AS grp, sum({orders}) AS ordered, sum({TARGET}) AS sold,
                   sum(greatest({orders} - {TARGET}, 0)) AS left_over,
                   avg({_flag_or_zero(dataset.spec.stockout)}) AS stockout_share
            FROM {dataset.table_name} {where}
            GROUP BY grp ORDER BY sold DESC""",
        group_params + params,
    )


def series_list(warehouse: Warehouse, dataset: Dataset, scope: Scope, limit: int = 2000) -> list[str]:
    """Series ids in scope, largest first."""
    where, params = _where(dataset, scope)
    frame = warehouse.query(
        f"SELECT {SERIES_ID} AS s FROM {dataset.table_name} {where} GROUP BY s ORDER BY sum({TARGET}) DESC, s LIMIT ?",
        params + [limit],
    )
    return frame["s"].tolist()


def series_frame(warehouse: Warehouse, dataset: Dataset, series_id: str) -> pd.DataFrame:
    """Every stored column of one series, by date."""
    return warehouse.query(
        f"SELECT * FROM {dataset.table_name} WHERE {SERIES_ID} = ? ORDER BY {DATE}", [series_id]
    )


def sample_rows(warehouse: Warehouse, dataset: Dataset, limit: int = 200) -> pd.DataFrame:
    return warehouse.query(f"SELECT * FROM {dataset.table_name} ORDER BY {SERIES_ID}, {DATE} LIMIT ?", [limit])


def series_names(warehouse: Warehouse, dataset: Dataset) -> dict[str, str]:
    """Series id -> label joining each key with its name from a master table
    ("S001 渋谷店 / I0001 幕の内弁当"); empty when no master names the keys."""
    parts, joins = [], []
    for key in dataset.spec.keys:
        part = f"CAST(o.{quote(key)} AS VARCHAR)"
        master = _master_naming(warehouse, dataset, key)
        if master:
            table, name, alias = *master, f"m{len(joins)}"
            joins.append(f"LEFT JOIN {table} {alias} ON CAST({alias}.{quote(key)} AS VARCHAR) = {part}")
            part = f"{part} || ' ' || coalesce(CAST({alias}.{quote(name)} AS VARCHAR), '')"
        parts.append(part)
    if not joins:
        return {}
    label = " || ' / ' || ".join(parts)
    # the keys of each series first (one row per series), then the masters: joining and
    # formatting every stored row took 5 s on a national chain's 49 million
    keys = "".join(f", any_value({quote(key)}) AS {quote(key)}" for key in dataset.spec.keys)
    frame = warehouse.query(
        f"SELECT o.{SERIES_ID} AS s, {label} AS label "
        f"FROM (SELECT {SERIES_ID}{keys} FROM {dataset.table_name} GROUP BY {SERIES_ID}) o {' '.join(joins)}"
    )
    return dict(zip(frame["s"], frame["label"], strict=True))


def series_attributes(warehouse: Warehouse, dataset: Dataset, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per series: ``SERIES_ID`` and ``columns`` (keys or attributes; default the
    dataset's attributes, in their declared order) as text, each its first non-missing
    value (attributes are constant within a series), sorted by series id. For
    ``core.data.labels.series_labels`` and for grouping a run's series by segment.

    Raises ``WarehouseError`` naming the columns to choose from when a column is not a
    key or attribute of the dataset (e.g. a segment a stored run has metrics for, on a
    dataset changed since): callers that take columns from a run catch it."""
    chosen = dataset.spec.attributes if columns is None else columns
    columns = "".join(f", CAST(any_value({_segment(dataset, c)}) AS VARCHAR) AS {quote(c)}" for c in chosen)
    return warehouse.query(
        f"SELECT {SERIES_ID}{columns} FROM {dataset.table_name} GROUP BY {SERIES_ID} ORDER BY {SERIES_ID}"
    )


def _master_naming(warehouse: Warehouse, dataset: Dataset, key: str) -> tuple[str, str] | None:
    """(table, name column) of a side table that holds ``key`` and a ``*_name`` column."""
    for table in dataset.side_tables.values():
        columns = warehouse.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        )["column_name"].tolist()
        names = [c for c in columns if c.endswith("_name")]
        if key in columns and names:
            preferred = key.removesuffix("_id") + "_name"
            return table, preferred if preferred in names else names[0]
    return None


def dataset_frame(warehouse: Warehouse, dataset: Dataset, scope: Scope) -> pd.DataFrame:
    """Every stored column of the series in scope, sorted by series then date; text columns
    (the series id, keys, attributes) as categoricals (``Warehouse.query_rows``)."""
    where, params = _where(dataset, scope)
    # A dataset is stored in series order (``Warehouse.create_dataset``): read as stored and
    # sorted here only if an append left rows out of order; DuckDB's sort of a national chain's
    # 50 million rows would take 30 s and 13 GB.
    return in_series_order(warehouse.query_rows(f"SELECT * FROM {dataset.table_name} {where}", params,
                                                text_as_category=True))


def in_series_order(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a dataset's rows: ``unique_id`` a categorical with sorted categories, as
    ``Warehouse.query_rows(..., text_as_category=True)`` reads it) sorted by series then date,
    with a fresh index; returned as it is when it already is, which a linear check of its
    codes and dates tells without sorting."""
    codes = frame[SERIES_ID].cat.codes.to_numpy()
    days = frame[DATE].to_numpy()
    if len(frame) < 2 or bool(np.all((codes[1:] > codes[:-1]) | ((codes[1:] == codes[:-1]) & (days[1:] > days[:-1])))):
        return frame
    return frame.sort_values([SERIES_ID, DATE], ignore_index=True, kind="stable")


def export_frame(warehouse: Warehouse, dataset: Dataset, scope: Scope, path: Path) -> None:
    """``dataset_frame``'s rows written to the Parquet file ``path`` by DuckDB, without passing
    through this process's memory: what a worker process reads (``core.jobs``), since only
    one process may open the warehouse."""
    where, params = _where(dataset, scope)
    target = "'" + str(path).replace("'", "''") + "'"
    with warehouse.cursor() as cur:
        # as stored (in series order but for appends: the reader calls ``in_series_order``)
        cur.execute(f"COPY (SELECT * FROM {dataset.table_name} {where}) TO {target} (FORMAT parquet)", params)


def target_total(warehouse: Warehouse, dataset: Dataset, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """The whole dataset's target summed over [start, end] (money impact scales the run's
    series to the chain with it)."""
    rows = warehouse.query(f"SELECT coalesce(sum({TARGET}), 0) AS total FROM {dataset.table_name} "
                           f"WHERE {DATE} BETWEEN ? AND ?", [start.date(), end.date()])
    return float(rows["total"].iloc[0])


def target_totals(warehouse: Warehouse, dataset: Dataset, spans: list[tuple[pd.Timestamp, pd.Timestamp]]
                  ) -> list[float]:
    """``target_total`` over each of ``spans`` (start, end), in one pass over the rows (a
    national chain's table is stored by series, so each span alone reads every row)."""
    if not spans:
        return []
    sums = ", ".join(f"coalesce(sum({TARGET}) FILTER (WHERE {DATE} BETWEEN ? AND ?), 0) AS total_{i}"
                     for i in range(len(spans)))
    rows = warehouse.query(f"SELECT {sums} FROM {dataset.table_name}",
                           [d for start, end in spans for d in (start.date(), end.date())])
    return [float(v) for v in rows.iloc[0]]
