"""Rolling-origin splits: the backtest owns the time.

A fold is a cutoff date. A model sees every row at or before the cutoff and, after
it, only the columns declared known in advance. Nothing else after a cutoff exists
for that fold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.errors import MitoshiError
from core.forecast.base import ForecastTask
from core.i18n import M_, Fmt


@dataclass(frozen=True)
class SplitConfig:
    horizon: int
    folds: int = 3
    step: int | None = None  # periods between cutoffs; default: the horizon
    gap: int = 0  # periods between the cutoff and the first forecast
    window: Literal["expanding", "sliding"] = "expanding"
    train_periods: int | None = None  # sliding window length (periods before the cutoff)

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise MitoshiError(M_("The horizon must be at least 1 period."))
        if self.folds < 1:
            raise MitoshiError(M_("Use at least 1 fold."))
        if self.step is not None and self.step < 1:
            raise MitoshiError(M_("The step between folds must be at least 1 period."))
        if self.gap < 0:
            raise MitoshiError(M_("The gap cannot be negative."))
        if self.window == "sliding" and not self.train_periods:
            raise MitoshiError(M_("A sliding window needs its length (train periods)."))


def period_offset(freq: Freq, n: int) -> pd.DateOffset:
    return {Freq.DAILY: pd.DateOffset(days=n), Freq.WEEKLY: pd.DateOffset(weeks=n),
            Freq.MONTHLY: pd.DateOffset(months=n)}[freq]


def cutoffs(last_date: pd.Timestamp, freq: Freq, config: SplitConfig) -> list[pd.Timestamp]:
    """Cutoffs, oldest first; the last fold's horizon ends on the last date."""
    step = config.step or config.horizon
    last_cutoff = pd.Timestamp(last_date) - period_offset(freq, config.gap + config.horizon)
    return [last_cutoff - period_offset(freq, step * k) for k in reversed(range(config.folds))]


def check_cutoffs(frame: pd.DataFrame, cutoffs: Sequence[pd.Timestamp]) -> None:
    """Refuse a cutoff on which no series has a value: its fold would forecast nothing.

    The backtest calls it once for all its cutoffs before any model runs, and
    ``make_task`` for its own one.
    """
    dates = frame[DATE]
    for cutoff in cutoffs:
        if not (dates == cutoff).any():
            raise MitoshiError(M_("No series has data on the cutoff {cutoff}: use fewer folds or a smaller step.",
                                  cutoff=Fmt("date", f"{pd.Timestamp(cutoff):%Y-%m-%d}")))


def make_task(
    frame: pd.DataFrame,
    cutoff: pd.Timestamp,
    freq: Freq,
    config: SplitConfig,
    keys: tuple[str, ...] = (),
    attributes: tuple[str, ...] = (),
    exog_known: tuple[str, ...] = (),
    orders: str | None = None,
    seed: int = 0,
) -> tuple[ForecastTask, pd.DataFrame]:
    """The task of one fold, and the actuals it is scored on.

    ``frame`` is long (unique_id, ds, y, ...) and sorted by series then date. Series
    forecast are those with a value on the cutoff date (active then). The future holds
    the horizon's dates after ``gap`` periods, with known-in-advance columns only; the
    actuals hold the target on those dates (missing where a series ended early).
    """
    cutoff = pd.Timestamp(cutoff)
    check_cutoffs(frame, [cutoff])
    start = None
    if config.window == "sliding":
        start = cutoff - period_offset(freq, config.train_periods - 1)
    in_history = frame[DATE] <= cutoff
    if start is not None:
        in_history &= frame[DATE] >= start
    history = frame.loc[in_history]
    active = history.loc[history[DATE] == cutoff, SERIES_ID].to_numpy()
    dates = pd.date_range(cutoff + period_offset(freq, config.gap + 1), periods=config.horizon,
                          freq=freq.pandas_freq if freq != Freq.WEEKLY else pd.DateOffset(weeks=1))
    ids = np.sort(active)
    future = pd.DataFrame({SERIES_ID: np.repeat(ids, len(dates)), DATE: np.tile(dates.to_numpy(), len(ids))})
    visible = [c for c in (*keys, *attributes, *exog_known, *([orders] if orders else [])) if c in frame.columns]
    later = frame.loc[(frame[DATE] > cutoff) & frame[SERIES_ID].isin(ids), [SERIES_ID, DATE, TARGET, *visible]]
    future = future.merge(later, on=[SERIES_ID, DATE], how="left")
    static = [c for c in (*keys, *attributes) if c in frame.columns]
    if static:  # series descriptors hold on every future date, even past a series' end
        # only the columns it reads: a copy of every column of the history would double a fold's memory
        last = history.loc[history[SERIES_ID].isin(ids), [SERIES_ID, *static]].groupby(
            SERIES_ID, observed=True)[static].last()
        future = future.drop(columns=static).join(last, on=SERIES_ID)
    actuals = future[[SERIES_ID, DATE, TARGET]].copy()
    future = future.drop(columns=[TARGET])
    for column in (*exog_known, *([orders] if orders else [])):
        if column in future and future[column].isna().any():
            # A known-in-advance value missing after a series' end: carry the last one.
            future[column] = future.groupby(SERIES_ID)[column].ffill().fillna(0.0)
    task = ForecastTask(
        history=history.reset_index(drop=True), future=future.reset_index(drop=True), freq=freq,
        horizon=config.horizon, cutoff=cutoff, gap=config.gap, keys=keys, attributes=attributes,
        exog_known=exog_known, orders=orders, seed=seed,
    )
    return task, actuals.reset_index(drop=True)
