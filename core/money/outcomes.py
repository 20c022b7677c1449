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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.backtest.engine import BacktestData
from core.columns import DATE, SERIES_ID
from core.money.impact import Economics, ImpactInputError, recorded_days

STORE = "store"
OUTCOME_COLUMNS = ("profit", "revenue", "waste_cost", "lost_margin", "stockout_days", "units")


def store_day_outcomes(data: BacktestData, items: pd.DataFrame | None, economics: Economics, store_column: str,
                       start: object = None, end: object = None) -> pd.DataFrame:
    """One row per (store, day) with a row of the data: ``store`` (str), ``ds``, then
    ``profit``, ``revenue``, ``waste_cost``, ``lost_margin`` (yen), ``stockout_days``
    (item-days) and ``units`` (units sold), from ``start`` to ``end`` (inclusive dates;
    the whole history when None). Shape: (stores x days with rows, 8), sorted by store
    and day.

    ``store_column`` is the key column naming a store (``store_id`` on the demo chain).
    The shelf is replayed from the first day of ``data`` whatever ``start`` is. Days x
    series matrices summed into days x stores by one matrix product.

    Raises ``ImpactInputError`` when the dataset records no orders, ``store_column`` is
    not one of its columns, or prices, costs or shelf lives are missing and
    ``economics`` gives no averages.
    """
    if store_column not in data.frame.columns:
        raise ImpactInputError(f"The dataset has no column '{store_column}' naming its stores: choose the key column "
                               f"that names a store ({', '.join(data.keys) or 'none is declared'}).")
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
    return frame.sort_values([STORE, DATE], ignore_index=True)
