"""The shelf of the money impact (``core.money.impact``): stock by age, sold oldest first,
perishables thrown away when they reach their shelf life, replayed day after day for many
columns at once (a column is a series, or a fold and series, or one policy's copy of it).

Columns never interact, so they are replayed in blocks of one shelf life each: a block
holds only the ages its items can reach (``rows``): one row of units that never expire,
or ``life`` rows of perishable units by nights on the shelf. A column of a mixed chain
carries no rows it cannot use, each operation runs over contiguous rows of the block, and
a block of ``CHUNK`` columns keeps a day's work in the processor's cache. Stock outside
a block is kept *dense* as ``(ages + 1, columns)``: rows ``0 .. ages - 1`` perishable units
by nights on the shelf, the last row units that never expire.

The arithmetic is the one stock by age has always had here, operation by operation (the
sums in the same order), so the figures are the same to the last bit wherever the stock
has at most 8 ages (shelf lives up to 7 periods).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

CHUNK = 32768  # columns replayed together: a day's vectors stay in the processor's cache
THREADS = min(os.cpu_count() or 1, 4)  # blocks replayed at once
TOTALS = ("ordered", "sold", "lost", "waste", "demand", "revenue", "margin", "lost_margin", "waste_cost",
          "holding_cost", "stockout_days", "days")


def ages_of(shelf: np.ndarray) -> int:
    """The perishable ages a dense stock keeps for shelf lives ``shelf`` (periods, 0 = never
    expires): the longest life."""
    return int(shelf.max()) if shelf.size and shelf.max() > 0 else 0


def shelf_groups(shelf: np.ndarray) -> list[tuple[np.ndarray, int, bool]]:
    """The columns by shelf life: (their indices, rows of a block, perishable), shortest life
    first and the ones that never expire (life 0) first of all."""
    groups = []
    for life in np.unique(shelf):
        groups.append((np.flatnonzero(shelf == life), int(life) if life > 0 else 1, bool(life > 0)))
    return groups


def block_rows(rows: int, perishable: bool, ages: int) -> slice:
    """The rows of a dense stock a block of ``rows`` rows stands for."""
    return slice(0, rows) if perishable else slice(ages, ages + 1)


def on_hand(stock: np.ndarray) -> np.ndarray:
    """Units on the shelf per column of a block: its rows summed youngest first (the order in
    which numpy sums a dense stock's ages when it has at most 8)."""
    units = stock[0].copy()
    for row in stock[1:]:
        units += row
    return units


def sell_and_age(stock: np.ndarray, perishable: bool, order: np.ndarray, demand: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """One period of a block of stock (changed in place): receive ``order``, sell oldest first
    against ``demand``, then age overnight, perishables reaching their shelf life thrown away.
    Returns (sold, expired) per column."""
    if perishable:
        stock[0] += order
    else:
        stock[-1] += order
    if len(stock) == 1:
        units = stock[0]
        sold = np.minimum(demand, units)
        units -= np.clip(sold, 0.0, units)  # nothing is ahead of the only row in the queue
    else:
        # Oldest first: the rows in reverse. Each row sells what demand leaves after the units ahead of it in
        # that queue (one cumulative sum instead of a loop over ages).
        queue = stock[::-1]
        ahead = np.cumsum(queue, axis=0)
        sold = np.minimum(demand, ahead[-1])
        ahead -= queue
        stock -= np.clip(sold[None, :] - ahead, 0.0, queue)[::-1]
    if not perishable:
        return sold, np.zeros(len(order))
    expired = stock[-1].copy()  # the last row's units have reached their shelf life tonight
    if len(stock) > 1:
        stock[1:] = stock[:-1]
    stock[0] = 0.0
    return sold, expired


class Shelf:
    """The stock of columns each with its shelf life (``shelf``, periods; 0 = never expires),
    replayed one period at a time (``day``)."""

    def __init__(self, shelf: np.ndarray, stock: np.ndarray | None = None) -> None:
        self.shelf = np.asarray(shelf)
        self.ages = ages_of(self.shelf)
        if stock is None:
            stock = np.zeros((self.ages + 1, len(self.shelf)))
        self.groups = [(columns, perishable, stock[block_rows(rows, perishable, self.ages)].take(columns, axis=1))
                       for columns, rows, perishable in shelf_groups(self.shelf)]

    @classmethod
    def empty(cls, shelf: np.ndarray) -> Shelf:
        return cls(shelf)

    @property
    def stock(self) -> np.ndarray:
        """The dense stock, (ages + 1, columns)."""
        dense = np.zeros((self.ages + 1, len(self.shelf)))
        for columns, perishable, block in self.groups:
            dense[block_rows(len(block), perishable, self.ages)][:, columns] = block
        return dense

    @property
    def on_hand(self) -> np.ndarray:
        units = np.zeros(len(self.shelf))
        for columns, _, block in self.groups:
            units[columns] = on_hand(block)
        return units

    def day(self, order: np.ndarray, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Receive ``order``, sell oldest first against ``demand``, age overnight.
        Returns (sold, expired)."""
        sold, expired = np.zeros(len(self.shelf)), np.zeros(len(self.shelf))
        for columns, perishable, block in self.groups:
            sold[columns], expired[columns] = sell_and_age(block, perishable, order[columns], demand[columns])
        return sold, expired


def replay_recorded(orders: np.ndarray, sales: np.ndarray, shelf: np.ndarray, periods: int,
                    snapshots: Iterable[int] = ()) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Recorded ``orders`` and ``sales`` (periods x columns) replayed on an empty shelf for
    the first ``periods`` periods: the units thrown away each night (periods x columns) and
    the dense stock at the start of each period of ``snapshots`` (at most ``periods``)."""
    ages = ages_of(shelf)
    wanted = sorted(set(snapshots))
    expired = np.zeros((periods, len(shelf)))
    states = {d: np.zeros((ages + 1, len(shelf))) for d in wanted}
    for columns, rows, perishable in shelf_groups(shelf):
        where = block_rows(rows, perishable, ages)
        stock = np.zeros((rows, len(columns)))
        placed, sold = orders[:periods].take(columns, axis=1), sales[:periods].take(columns, axis=1)
        thrown = np.zeros((periods, len(columns)))
        work = np.empty(len(columns))
        for d in range(periods):
            if d in states:
                states[d][where][:, columns] = stock
            if len(stock) == 1:  # one row: nothing ahead of it in the queue (``sell_and_age``, without copies)
                units = stock[0]
                units += placed[d]
                units -= np.clip(np.minimum(sold[d], units, out=work), 0.0, units, out=work)
                if perishable:
                    thrown[d] = units
                    units[:] = 0.0
            else:
                thrown[d] = sell_and_age(stock, perishable, placed[d], sold[d])[1]
        for d in wanted:
            if d >= periods:
                states[d][where][:, columns] = stock
        expired[:, columns] = thrown
    return expired, states


Plan = Callable[[np.ndarray], np.ndarray]  # the columns of a block -> a policy's (periods, columns) of them


def replay(plans: Sequence[Plan], up_to: bool, initial: np.ndarray, shelf: np.ndarray, demand: np.ndarray,
           on_sale: np.ndarray, price: np.ndarray, cost: np.ndarray, holding: float,
           threads: int = THREADS) -> list[dict[str, np.ndarray]]:
    """Policies replayed over (periods, columns): each period a column on sale orders its
    plan (``up_to``: tops the shelf up to it, ordering whole units; else orders it as it
    is), from the dense stock ``initial``; ``demand``, ``price`` per period and column,
    ``cost`` per column, ``holding`` a period's holding cost as a share of the cost.
    ``plans`` give each policy's plan for the columns of a block (``Plan``), so that no
    policy's plan is ever made for every column at once.

    Returns, per plan, each column's totals (``TOTALS``) over the periods: units ordered,
    sold, lost, thrown away and wanted; revenue, margin, lost margin, waste and holding
    costs (yen); periods out of stock and on sale. Blocks run on ``threads`` threads (numpy
    lets go of the interpreter inside its loops)."""
    n = demand.shape[1]
    totals = [{key: np.zeros(n) for key in TOTALS} for _ in plans]
    ages = len(initial) - 1
    blocks = [(columns[start:start + CHUNK], rows, perishable) for columns, rows, perishable in shelf_groups(shelf)
              for start in range(0, len(columns), CHUNK)]

    def block(cols: np.ndarray, rows: int, perishable: bool) -> None:
        wanted, sale, prices = (values.take(cols, axis=1) for values in (demand, on_sale, price))
        unit_cost = cost[cols]
        margin = prices - unit_cost
        shared = {"demand": _over_periods(wanted), "days": _over_periods(sale), "margin": margin,
                  "gain": np.maximum(margin, 0), "closed": ~sale}
        start = initial[block_rows(rows, perishable, ages)].take(cols, axis=1)
        for plan, out in zip(plans, totals, strict=True):
            got = _policy(plan(cols), up_to, start.copy(), perishable, wanted, sale, prices, unit_cost, holding, shared)
            for key, values in got.items():
                out[key][cols] = values
            out["demand"][cols], out["days"][cols] = shared["demand"], shared["days"]

    if threads > 1 and len(blocks) > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda args: block(*args), blocks))
    else:
        for args in blocks:
            block(*args)
    return totals


def _policy(plan: np.ndarray, up_to: bool, stock: np.ndarray, perishable: bool, wanted: np.ndarray, sale: np.ndarray,
            prices: np.ndarray, unit_cost: np.ndarray, holding: float, shared: dict[str, np.ndarray]
            ) -> dict[str, np.ndarray]:
    """One policy over a block's periods, one after the other: its totals but the demand and
    the periods on sale (``shared``: the block's margins, and where it is not on sale). Every
    total is added period after period, the vectors written in place (a block's columns stay
    in the processor's cache)."""
    width = wanted.shape[1]
    totals = {key: np.zeros(width) for key in TOTALS if key not in ("demand", "days")}
    order, lost, work = np.empty(width), np.empty(width), np.empty(width)
    none = np.zeros(width)
    level = on_hand(stock)
    for d in range(len(wanted)):
        if up_to:  # max(0, ceil(plan - on hand - 1e-9)), in place
            np.subtract(plan[d], level, out=order)
            np.subtract(order, 1e-9, out=order)
            np.ceil(order, out=order)
            np.maximum(order, 0.0, out=order)
        else:
            order[:] = plan[d]
        np.copyto(order, 0.0, where=shared["closed"][d])
        if len(stock) == 1:  # one row: nothing ahead of it in the queue (``sell_and_age``, without copies)
            units = stock[0]
            units += order
            sold = np.minimum(wanted[d], units)
            units -= np.clip(sold, 0.0, units, out=work)
            if perishable:  # all of it reaches its shelf life tonight
                expired = units.copy()
                units[:] = 0.0
            else:
                expired = none
            level = units
        else:
            sold, expired = sell_and_age(stock, perishable, order, wanted[d])
            level = on_hand(stock)
        np.subtract(wanted[d], sold, out=lost)
        totals["ordered"] += order
        totals["sold"] += sold
        totals["lost"] += lost
        totals["waste"] += expired
        totals["revenue"] += np.multiply(sold, prices[d], out=work)
        totals["margin"] += np.multiply(sold, shared["margin"][d], out=work)
        totals["lost_margin"] += np.multiply(lost, shared["gain"][d], out=work)
        totals["waste_cost"] += np.multiply(expired, unit_cost, out=work)
        np.multiply(level, unit_cost, out=work)
        totals["holding_cost"] += np.multiply(work, holding, out=work)
        totals["stockout_days"] += sale[d] & (lost > 1e-9)
    return totals


def _over_periods(values: np.ndarray) -> np.ndarray:
    """Per column, the sum over the periods (rows), added period after period (numpy adds
    the rows of a C-ordered array one after the other)."""
    return np.add.reduce(np.ascontiguousarray(values), axis=0, dtype=float)
