"""What each store earned, threw away and lost, day by day, in yen: the outcomes a pilot
is read on (``core.pilot.readout``).

From the recorded history (units sold, units ordered, stockout flags) priced as the money
impact prices it (``core.money.impact.recorded_days``), per store and day:

* ``revenue`` = units sold x the price charged that day (yen);
* ``profit`` = revenue - the cost of the units ordered that day (yen): what was ordered
  and not sold is paid for on the day it arrives, so waste is inside profit already;
  no holding cost is counted;
* ``waste_cost`` = units thrown away that night x unit cost (yen), from the recorded
  orders and sales replayed on the shelf from the first day of the data, oldest first,
  each item at its shelf life (perishables up to ``PERISHABLE_MAX_DAYS``; others never
  expire), so the stock carried into the first day counted is the one the orders left;
* ``lost_margin`` = on stockout days, the estimated demand above what sold x (price -
  cost) (yen): demand is estimated as the money impact does (``_lifted_demand``: the
  recent same-weekday demand above what sold out); NaN where the data records no
  stockouts;
* ``stockout_days`` = item-days with stockout = 1 (NaN where none are recorded);
* ``units`` = units sold.

**A balanced set of series.** A store-day sum counts whatever series have rows that day,
so a series that appears or ends inside the window read (a new item, a delisted one)
shifts the store's average between the pre-period and the pilot although nothing was
done. ``balanced=True`` reads each store on the series with rows from the window's
first day to its last (``balanced_series``) and records which were left out, per store,
in the frame's ``attrs[SERIES_BALANCE]`` (a ``SeriesBalance``), which the pilot's
readout turns into a note; ``series=`` restricts the sums to series given by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

from core.backtest.engine import BacktestData
from core.columns import DATE, SERIES_ID
from core.i18n import M_, Fmt, Msg
from core.money.impact import Economics, ImpactInputError, Text, joined, recorded_days, semicolons

STORE = "store"
OUTCOME_COLUMNS = ("profit", "revenue", "waste_cost", "lost_margin", "stockout_days", "units")
SERIES_BALANCE = "series_balance"  # the key of a balanced frame's attrs holding its SeriesBalance


@dataclass(frozen=True, eq=False)  # compared by identity: pandas compares attrs when it concatenates frames
class SeriesBalance:
    """Which series each store is read on, over the window ``first``..``last`` (dates).

    ``kept``: the series with rows on or before ``first`` and on or after ``last`` (a
    row on both ends of the window: present throughout, so the same series are summed
    before and during a pilot). ``per_store``: one row per store — ``store``, ``series``
    (all of its series in the data), ``kept``, ``appeared`` (first row inside the window,
    after its first day), ``ended`` (last row inside the window, before its last day;
    a series that did both counts as appeared) and ``outside`` (no row in the window) —
    so ``series = kept + appeared + ended + outside`` on every row: every series is
    accounted for. ``left_out``: the appeared and ended series' ids.
    """

    first: date
    last: date
    kept: tuple[str, ...]
    left_out: tuple[str, ...]
    per_store: pd.DataFrame

    def note(self, stores: Sequence[str] | None = None) -> Msg | None:
        """For people, over ``stores`` (all when None), as a fact (``Msg``, stored with a
        readout): ``Each store is read on the series sold throughout 2026-01-05 to 2026-02-01,
        so the same series are summed before and during the pilot: 118 of 120 series. Left
        out, because they appeared or ended in that window: S002 2 (1 appeared, 1 ended). 3
        more series had no row in it.``; None when no series was left out."""
        rows = self.per_store if stores is None else self.per_store[self.per_store[STORE].isin(list(stores))]
        rows = rows.sort_values(STORE)
        left = rows[(rows["appeared"] + rows["ended"]) > 0]
        if left.empty:
            return None
        parts: list[Text] = []
        for r in left.itertuples(index=False):
            if r.appeared and r.ended:
                counts: Text = M_("{appeared} appeared, {ended} ended", appeared=int(r.appeared), ended=int(r.ended))
            elif r.appeared:
                counts = M_("{n} appeared", n=int(r.appeared))
            else:
                counts = M_("{n} ended", n=int(r.ended))
            parts.append(M_("{store} {n} ({counts})", store=r.store, n=int(r.appeared + r.ended), counts=counts))
        outside = int(rows["outside"].sum())
        sentences: list[Text] = [M_(
            "Each store is read on the series sold throughout {first} to {last}, so the same series are summed "
            "before and during the pilot: {kept:,} of {total:,} series. Left out, because they appeared or ended in "
            "that window: {stores}.", first=Fmt("date", self.first.isoformat()),
            last=Fmt("date", self.last.isoformat()), kept=int(rows["kept"].sum()), total=int(rows["series"].sum()),
            stores=semicolons(parts))]
        if outside:
            sentences.append(M_("{n:,} more series had no row in it.", n=outside))
        return joined(sentences)



def balanced_series(data: BacktestData, store_column: str, first: object = None,
                    last: object = None) -> SeriesBalance:
    """The series each store has rows for throughout ``first``..``last`` (inclusive dates,
    clamped to the data's first and last day; the whole history when None) and those
    left out, per store (see ``SeriesBalance``). A series with a row on or before
    ``first`` and one on or after ``last`` is kept; a gap inside the window does not
    drop it (the store did not sell it on those days).

    Raises ``ImpactInputError`` when ``store_column`` is not a column of the data or the
    window ends before it starts.
    """
    _check_store_column(data, store_column)
    frame = data.frame
    dates = pd.to_datetime(frame[DATE])
    start = max(pd.Timestamp(first), dates.min()) if first is not None else dates.min()
    end = min(pd.Timestamp(last), dates.max()) if last is not None else dates.max()
    if start > end:
        raise ImpactInputError(M_("The window to balance the series on ends ({end}) before it starts ({start}): "
                                  "give a first day on or before the last.", end=Fmt("date", end.date().isoformat()),
                                  start=Fmt("date", start.date().isoformat())))
    spans = (pd.DataFrame({SERIES_ID: frame[SERIES_ID].astype(str), STORE: frame[store_column].astype(str),
                           DATE: dates})
             .groupby(SERIES_ID, sort=True).agg(store=(STORE, "first"), begins=(DATE, "min"), ends=(DATE, "max")))
    outside = (spans["ends"] < start) | (spans["begins"] > end)
    appeared = ~outside & (spans["begins"] > start)
    ended = ~outside & ~appeared & (spans["ends"] < end)
    kept = ~outside & ~appeared & ~ended
    per_store = (pd.DataFrame({STORE: spans["store"], "series": 1, "kept": kept.astype(int),
                               "appeared": appeared.astype(int), "ended": ended.astype(int),
                               "outside": outside.astype(int)})
                 .groupby(STORE, sort=True, as_index=False).sum())
    return SeriesBalance(first=start.date(), last=end.date(), kept=tuple(spans.index[kept]),
                         left_out=tuple(spans.index[appeared | ended]), per_store=per_store)


def _check_store_column(data: BacktestData, store_column: str) -> None:
    if store_column not in data.frame.columns:
        if data.keys:
            raise ImpactInputError(M_("The dataset has no column '{column}' naming its stores: choose the key column "
                                      "that names a store ({keys}).", column=store_column, keys=", ".join(data.keys)))
        raise ImpactInputError(M_("The dataset has no column '{column}' naming its stores: choose the key column "
                                  "that names a store (none is declared).", column=store_column))


def store_day_outcomes(data: BacktestData, items: pd.DataFrame | None, economics: Economics, store_column: str,
                       start: object = None, end: object = None, series: Sequence[str] | None = None,
                       balanced: bool = False) -> pd.DataFrame:
    """One row per (store, day) with a row of the data: ``store`` (str), ``ds``, then
    ``profit``, ``revenue``, ``waste_cost``, ``lost_margin`` (yen), ``stockout_days``
    (item-days) and ``units`` (units sold), from ``start`` to ``end`` (inclusive dates;
    the whole history when None). Shape: (stores x days with rows, 8), sorted by store
    and day.

    ``store_column`` is the key column naming a store (``store_id`` on the demo chain).
    The shelf is replayed from the first day of ``data`` whatever ``start`` is. Days x
    series matrices summed into days x stores by one matrix product.

    ``series`` (unique_ids): sum only these series (a store none of them belongs to has no
    rows). ``balanced=True``: sum only the series with rows throughout ``start``..``end``
    (``balanced_series``), and keep the ``SeriesBalance`` in ``frame.attrs[SERIES_BALANCE]``
    (with ``series`` too: the balanced ones among them). For a pilot, give the pre-period's
    first day and the pilot's last as ``start`` and ``end``.

    Raises ``ImpactInputError`` when the dataset records no orders, ``store_column`` is
    not one of its columns, ``series`` names none of the data's series, no series is
    present throughout the window, or prices, costs or shelf lives are missing and
    ``economics`` gives no averages.
    """
    _check_store_column(data, store_column)
    balance = None
    if series is not None:
        wanted = set(map(str, series))
        rows = data.frame[SERIES_ID].astype(str).isin(wanted)
        if not rows.any():
            raise ImpactInputError(M_("None of the series asked for is in the data: give series ids (unique_id) of "
                                      "this dataset."))
        data = replace(data, frame=data.frame[rows])
    if balanced:
        balance = balanced_series(data, store_column, start, end)
        if not balance.kept:
            raise ImpactInputError(M_("No series has rows throughout {first} to {last}: every series appeared or "
                                      "ended in that window. Read a shorter window, or without balancing.",
                                      first=Fmt("date", balance.first.isoformat()),
                                      last=Fmt("date", balance.last.isoformat())))
        data = replace(data, frame=data.frame[data.frame[SERIES_ID].astype(str).isin(set(balance.kept))])
    days = recorded_days(data, items, economics)
    stores_of = (data.frame.drop_duplicates(SERIES_ID).set_index(SERIES_ID)[store_column]
                 .reindex(days.series).astype(str))
    stores = pd.Index(sorted(stores_of.unique()), name=STORE)
    member = np.zeros((len(days.series), len(stores)))  # (series, stores): 1 where the series is the store's
    member[np.arange(len(days.series)), stores.get_indexer(stores_of.to_numpy())] = 1.0

    on_sale = days.on_sale
    cost = days.cost[None, :]
    revenue = days.sales * days.price * on_sale
    lost_units = np.maximum(days.demand - days.sales, 0.0) * (days.stockout > 0) * on_sale
    per_series = {
        "profit": revenue - days.orders * cost,
        "revenue": revenue,
        "waste_cost": days.expired * cost,
        "lost_margin": lost_units * np.maximum(days.price - cost, 0.0),
        "stockout_days": ((days.stockout > 0) & on_sale).astype(float),
        "units": days.sales * on_sale,
    }
    summed = {name: np.nan_to_num(values) @ member for name, values in per_series.items()}  # (days, stores)
    present = (on_sale.astype(float) @ member) > 0

    keep = np.ones(len(days.days), dtype=bool)
    if start is not None:
        keep &= days.days >= pd.Timestamp(start)
    if end is not None:
        keep &= days.days <= pd.Timestamp(end)
    rows, cols = np.nonzero(present & keep[:, None])
    frame = pd.DataFrame({STORE: stores.to_numpy()[cols], DATE: days.days[rows]})
    for name in OUTCOME_COLUMNS:
        frame[name] = summed[name][rows, cols]
    if not days.stockout_recorded:
        frame[["lost_margin", "stockout_days"]] = np.nan
    frame = frame.sort_values([STORE, DATE], ignore_index=True)
    if balance is not None:
        frame.attrs[SERIES_BALANCE] = balance
    return frame
