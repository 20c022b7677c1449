"""The pilot run on the demo chain: treated stores order from the published batch forecast,
control stores keep today's practice, on the days after the data ends.

The demo generator continues its own world (``core.data.demo.continue_chain``): the same
stores, items, calendar and random demand as the history. For the pilot's days each
treated store's series order up to the batch's ``order_quantity`` (forecast + safety
stock), or to its ``forecast`` where the batch has no quantity (the series had no
backtest errors), as ``max(0, ceil(order_up_to) - carried stock)``; every other series,
and a treated series on a day the batch does not cover, orders as today's practice.
Demand, shelf, waste and stockouts follow as on any day, and the rows are appended to the
dataset like a week of real sales would be.

Because the same days can be simulated again with every store on today's practice (the
same demand draws, ``core.data.demo.simulate_continuation``), the pilot's *true* effect
on the demo chain is known exactly: the treated stores' outcomes with the batch minus
without it. ``SimulatedPilot.true_effect`` gives it, for the readout's tests to recover.

The statistics (design, difference-in-differences) are elsewhere: ``core.pilot.design``
and ``core.pilot.readout``. With a user's own data there is nothing to simulate: the
pilot's actuals arrive by appending them (``core.data.importer``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from core.columns import DATE, SERIES_ID, TARGET
from core.data.demo import (
    MAX_EXTEND_DAYS,
    ORDER_UP_TO,
    Continuation,
    is_generated,
    simulate_continuation,
)
from core.errors import MitoshiError
from core.i18n import M_, Fmt
from core.forecast.base import FORECAST
from core.handoff.batch import ORDER_QUANTITY
from core.handoff.store import batch_forecasts, latest_version
from core.money.outcomes import OUTCOME_COLUMNS, STORE
from core.pilot.design import simulated_source, store_names
from core.warehouse import Appended, Dataset, Warehouse

DEMO_STORE_COLUMN = "store_id"  # the key column naming a store on the demo chain


class PilotSimulationError(MitoshiError):
    """A pilot cannot be simulated as asked; the message says why and what to do."""


@dataclass(frozen=True)
class SimulatedPilot:
    """A pilot simulated on the demo chain and appended to it.

    ``targets``: what the treated stores ordered up to (unique_id, ds, order_up_to units).
    ``outcomes`` and ``counterfactual``: one row per store and pilot day (``store``, ``ds``,
    then ``profit``, ``revenue``, ``waste_cost``, ``lost_margin`` in yen, ``stockout_days``
    in item-days, ``units`` sold), with the pilot and with every store on today's practice
    on the same days and demand. They are the simulation's truth: waste and lost sales from
    the true demand and the units really thrown away, priced at the day's price and the
    item master's unit cost (the definitions of ``core.money.outcomes``).
    """

    appended: Appended
    batch_version: int
    store_column: str
    treated: tuple[str, ...]
    control: tuple[str, ...]
    start: date
    end: date
    targets: pd.DataFrame
    outcomes: pd.DataFrame
    counterfactual: pd.DataFrame

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def true_effect(self, measure: str) -> float:
        """The pilot's true average effect on one treated store on one day, in the measure's
        unit (yen, or item-days for ``stockout_days``): the mean over treated store-days of
        the outcome with the batch minus the outcome without it (the average treatment
        effect on the treated, which difference-in-differences estimates)."""
        if measure not in OUTCOME_COLUMNS:
            raise PilotSimulationError(M_("Unknown measure '{measure}'; one of {measures}.", measure=measure,
                                          measures=", ".join(OUTCOME_COLUMNS)))
        treated = self.outcomes[STORE].isin(self.treated)
        with_batch = self.outcomes[treated].set_index([STORE, DATE])[measure]
        without = self.counterfactual.set_index([STORE, DATE])[measure].reindex(with_batch.index)
        return float((with_batch - without).mean())


def simulate_pilot(
    warehouse: Warehouse,
    dataset_id: str,
    store_column: str,
    treated: Sequence[str],
    start: date,
    days: int,
    batch_version: int | None = None,
) -> SimulatedPilot:
    """Run a pilot of ``days`` days from ``start`` on the generated demo chain and append it.

    The stores in ``treated`` (values of ``store_column``, the demo's ``store_id``) order
    from the published batch ``batch_version`` (the newest when None) of the dataset; the
    others keep today's practice. The pilot is the next days: ``start`` must be the day
    after the dataset's last date. The rows are appended in one transaction
    (``Warehouse.append_rows``, logged with the batch and stores as its source).

    Raises ``PilotSimulationError`` (a ``MitoshiError``) when the dataset was imported, not
    generated; when ``store_column`` is not the demo's store key; when ``treated`` is
    empty, names unknown stores or leaves no control store; when ``start`` is not the day
    after the data ends or ``days`` is outside 1..366; when nothing is published for the
    dataset, the batch does not cover the pilot's days, or it has no forecast for a
    treated store.
    """
    dataset = warehouse.get_dataset(dataset_id)
    _check_generated(dataset)
    if store_column != DEMO_STORE_COLUMN:
        raise PilotSimulationError(M_("The demo chain's stores are named by '{demo}', not '{column}'; choose {demo} as "
                                      "the store column.", demo=DEMO_STORE_COLUMN, column=store_column))
    stores = tuple(store_names(warehouse, dataset, DEMO_STORE_COLUMN))
    treated = _check_treated(treated, stores)
    if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or not 1 <= days <= MAX_EXTEND_DAYS:
        raise PilotSimulationError(M_("A simulated pilot lasts 1 to {most} days; got {days}.", most=MAX_EXTEND_DAYS,
                                      days=repr(days)))
    next_day = dataset.end_date + timedelta(days=1)
    if start != next_day:
        raise PilotSimulationError(M_(
            "The pilot is the next days of '{name}', which ends on {end}: it starts on {next}, not {start}. Move the "
            "pilot's start, or extend the demo chain first.", name=dataset.name,
            end=Fmt("date", dataset.end_date.isoformat()), next=Fmt("date", next_day.isoformat()),
            start=Fmt("date", start.isoformat())))
    end = start + timedelta(days=days - 1)
    version, targets = pilot_targets(warehouse, dataset, treated, start, end, batch_version)

    with_batch = simulate_continuation(warehouse, dataset_id, start, days, targets)
    without = simulate_continuation(warehouse, dataset_id, start, days)
    items = warehouse.side_table(dataset, "items")
    appended = warehouse.append_rows(dataset_id, with_batch.sales,
                                     source=simulated_source(treated, version, start, end))
    return SimulatedPilot(
        appended=appended, batch_version=version, store_column=store_column, treated=treated,
        control=tuple(s for s in stores if s not in treated), start=start, end=end, targets=targets,
        outcomes=true_outcomes(with_batch, items), counterfactual=true_outcomes(without, items))


def batch_stores(warehouse: Warehouse, dataset: Dataset, version: int) -> set[str]:
    """The demo stores batch ``version`` of ``dataset`` forecasts for (one query, no rows read)."""
    position = dataset.spec.keys.index(DEMO_STORE_COLUMN) + 1  # DuckDB lists count from 1
    found = warehouse.query(f"SELECT DISTINCT key_values[{position}] AS store FROM batch_forecasts "
                            "WHERE dataset_id = ? AND version = ?", [dataset.dataset_id, version])
    return set(found["store"].astype(str))


def check_batch_stores(treated: Sequence[str], covered: set[str], version: int) -> None:
    """Raise ``PilotSimulationError`` when batch ``version`` (covering the stores ``covered``)
    has no forecast for a treated store."""
    missing = [s for s in treated if s not in covered]
    if missing:
        raise PilotSimulationError(M_(
            "The published batch (version {version}) has no forecasts for store(s) {missing}: it covers {covered}. "
            "Choose treated stores the batch covers, or publish a batch from a backtest of every store.",
            version=version, missing=", ".join(missing), covered=", ".join(sorted(covered))))


def pilot_targets(
    warehouse: Warehouse, dataset: Dataset, treated: Sequence[str], start: date, end: date,
    batch_version: int | None = None,
) -> tuple[int, pd.DataFrame]:
    """The batch version used and the treated stores' order-up-to levels on the pilot's days:
    unique_id, ds, order_up_to (units: the batch's order_quantity, or its forecast where the
    quantity is empty), one row per treated series and day the batch covers.

    Raises ``PilotSimulationError`` when nothing is published, the version does not exist,
    the batch's dates do not cover ``start``..``end`` (say which horizon to publish), or a
    treated store has no forecast in it."""
    newest = latest_version(warehouse, dataset.dataset_id)
    days = (end - start).days + 1
    if newest is None:
        raise PilotSimulationError(M_(
            "No batch forecast has been published for '{name}': publish one with a horizon of at least {days} days on "
            "the Hand-off page, then simulate the pilot.", name=dataset.name, days=days))
    try:
        batch = batch_forecasts(warehouse, dataset.dataset_id, batch_version)
    except MitoshiError as error:
        raise PilotSimulationError(error.args[0] if len(error.args) == 1 else str(error)) from None
    version = int(batch["version"].iloc[0]) if len(batch) else int(batch_version or newest)
    store_position = dataset.spec.keys.index(DEMO_STORE_COLUMN)
    batch_store = batch["key_values"].map(lambda values: str(values[store_position]))
    ds = pd.to_datetime(batch[DATE])
    first, last = ds.min().date(), ds.max().date()
    if first > start or last < end:
        # A batch published now forecasts from the day after the data ends: count the horizon from there.
        horizon = max(days, (end - dataset.end_date).days)
        raise PilotSimulationError(M_(
            "The published batch (version {version}) forecasts {first} to {last}; the pilot runs {start} to {end}. "
            "Publish a batch with a horizon of at least {horizon} days on the Hand-off page, or shorten the pilot.",
            version=version, first=Fmt("date", first.isoformat()), last=Fmt("date", last.isoformat()),
            start=Fmt("date", start.isoformat()), end=Fmt("date", end.isoformat()), horizon=horizon))
    check_batch_stores(treated, set(batch_store), version)
    inside = batch_store.isin(treated).to_numpy() & (ds >= pd.Timestamp(start)).to_numpy() \
        & (ds <= pd.Timestamp(end)).to_numpy()
    chosen = batch[inside]
    quantity = chosen[ORDER_QUANTITY].astype(float)
    targets = pd.DataFrame({
        SERIES_ID: chosen[SERIES_ID].astype(str).to_numpy(),
        DATE: pd.to_datetime(chosen[DATE]).to_numpy(),
        ORDER_UP_TO: quantity.where(quantity.notna(), chosen[FORECAST].astype(float)).to_numpy(),
    })
    return version, targets


def counterfactual_outcomes(warehouse: Warehouse, dataset_id: str, start: date, days: int) -> pd.DataFrame:
    """The per-store-day outcomes (as ``SimulatedPilot.counterfactual``) of days
    ``start``..``start + days - 1`` of a generated dataset with every store on today's
    practice, written nowhere: after a pilot has been appended, its counterfactual.
    Raises ``PilotSimulationError`` for an imported dataset and ``MitoshiError`` for days
    that cannot be simulated (see ``core.data.demo.simulate_continuation``)."""
    dataset = warehouse.get_dataset(dataset_id)
    _check_generated(dataset)
    return true_outcomes(simulate_continuation(warehouse, dataset_id, start, days),
                         warehouse.side_table(dataset, "items"))


def true_outcomes(continuation: Continuation, items: pd.DataFrame) -> pd.DataFrame:
    """Per store and day of a continuation: ``store``, ``ds``, ``profit``, ``revenue``,
    ``waste_cost``, ``lost_margin`` (yen), ``stockout_days`` (item-days), ``units`` — as
    ``core.money.outcomes`` defines them, from the simulation's true demand and waste.

    profit = units sold x price charged - units ordered x unit cost; waste_cost = units
    thrown away x unit cost; lost_margin = (demand - units sold) x max(price - unit cost, 0),
    non-zero on stockout days only; ``items`` is the item master (item_id, unit_cost)."""
    sales, truth = continuation.sales, continuation.truth
    cost = sales["item_id"].astype(str).map(items.set_index("item_id")["unit_cost"].astype(float)).to_numpy()
    price = sales["price"].to_numpy(float)
    sold = sales[TARGET].to_numpy(float)
    revenue = sold * price
    per_row = pd.DataFrame({
        STORE: sales["store_id"].astype(str).to_numpy(), DATE: sales[DATE].to_numpy(),
        "profit": revenue - sales["ordered"].to_numpy(float) * cost,
        "revenue": revenue,
        "waste_cost": truth["wasted"].to_numpy(float) * cost,
        "lost_margin": (truth["demand"].to_numpy(float) - sold) * np.maximum(price - cost, 0.0),
        "stockout_days": sales["stockout"].to_numpy(float),
        "units": sold,
    })
    return per_row.groupby([STORE, DATE], as_index=False, sort=True)[list(OUTCOME_COLUMNS)].sum()


def _check_generated(dataset: Dataset) -> None:
    if not is_generated(dataset):
        raise PilotSimulationError(M_(
            "'{name}' was imported, not generated: a pilot can be simulated only on the demo chain. With your own data "
            "the pilot's orders and sales arrive by appending them from a file (Data page).",
            name=dataset.name)) from None


def _check_treated(treated: Sequence[str], stores: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(treated, str):
        treated = (treated,)
    chosen = tuple(dict.fromkeys(str(s) for s in treated))
    if not chosen:
        raise PilotSimulationError(M_("Choose at least one treated store: the stores that order from the batch."))
    unknown = [s for s in chosen if s not in stores]
    if unknown:
        raise PilotSimulationError(M_("The demo chain has no store(s) {unknown}; its stores are {stores}.",
                                      unknown=", ".join(unknown), stores=", ".join(stores)))
    if len(chosen) == len(stores):
        raise PilotSimulationError(M_("Every store would order from the batch, leaving no control store to compare "
                                      "with; keep at least one store on today's practice."))
    return tuple(s for s in stores if s in chosen)
