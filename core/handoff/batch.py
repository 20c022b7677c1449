"""Publish the chosen model: fit on every date up to the last one, forecast the next horizon.

The talk's first production form of a forecast is a batch job that writes a carefully
designed table; this module makes the rows of one such batch and
``core.handoff.store`` writes them as a new version. The model is the one a stored
backtest run chose, with the settings, window and gap it was evaluated with; only the
cutoff moves, to the dataset's last date.

A dataset grows (rows appended after the run, ``core.data.importer.validate_append``): the
run is checked against the data up to the last date it backtested (``RunInfo.data_end``),
so newer rows do not ask for a new backtest while a changed older row does; the batch is
fitted on every row up to the newest date, as production refits weekly, and says so.

Two honest limits, both written into the batch's notes:

- Known-in-advance columns (planned price, promotion, holiday flags) are not in the
  warehouse beyond the last date, so the published model is fitted without them. A model
  that read them in the backtest (``Forecaster.reads_exog_known``) may forecast less well
  than its leaderboard says; LightGBM still derives the calendar (weekday, Japanese
  holidays and peaks) from the dates themselves.
- A model that needs data nobody has yet is refused: today's practice reads the orders
  placed for each future day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from core import fmt
from core.backtest.engine import BacktestData, ModelSpec, code_version, dataset_data
from core.backtest.external import UNPUBLISHABLE
from core.backtest.splits import SplitConfig, make_task
from core.backtest.store import RunInfo, backtested_until, get_run, run_forecasts, run_metrics
from core.columns import DATE, SERIES_ID, Freq
from core.errors import DatasetNotFoundError, MitoshiError
from core.forecast.base import FORECAST, Fallback, Rung
from core.forecast.registry import MODELS, is_external
from core.money.impact import (
    NORMAL,
    ORDERING_RULES,
    QUANTILE,
    SERVICE_LEVELS,
    Economics,
    ImpactConfig,
    level_text,
    profit_optimal_levels,
    segment_of,
)
from core.warehouse import Warehouse

STEP = "step"
ORDER_QUANTITY = "order_quantity"
# Columns of a batch besides the series keys; a key with one of these names would be
# ambiguous in the exported table.
BATCH_COLUMNS = (SERIES_ID, DATE, STEP, FORECAST, ORDER_QUANTITY, "model", "run_id", "version", "created_at", "date")


# Decimals of a batch written for people (the CSV download): forecasts and order
# quantities in hundredths of a unit; the warehouse keeps full precision.
CSV_DECIMALS = {FORECAST: 2, ORDER_QUANTITY: 2}


def for_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """A batch export (``core.handoff.store.batch_export``) as it is written to a CSV:
    forecast and order_quantity rounded to ``CSV_DECIMALS`` (``3.4567891234567`` →
    ``3.46``), every other column as it is. Returns a new frame."""
    return frame.round({c: d for c, d in CSV_DECIMALS.items() if c in frame.columns})


class PublishError(MitoshiError):
    """A batch cannot be made as asked; the message says why and what to do instead."""


def unpublishable_reason(alias: str) -> str | None:
    """Why a model cannot forecast dates after the data ends, or None when it can."""
    if is_external(alias):
        return f"{fmt.model_name(alias)}: {UNPUBLISHABLE}."
    if alias in MODELS and MODELS[alias].rung is Rung.PRACTICE:
        return (f"{fmt.model_name(alias)} is today's ordering practice: it reads the orders placed for each day, "
                "and no orders exist yet for the days after the data ends. Publish a forecasting model instead.")
    return None


@dataclass(frozen=True)
class PublishOptions:
    """How to fit and forecast for a batch: the model as backtested, and what to produce."""

    model: ModelSpec
    horizon: int
    service_level: float | None = None  # None: no order quantities, unless profit_optimal
    profit_optimal: bool = False  # each item at the level that earned it most in the run's shelf simulation
    economics: Economics = field(default_factory=Economics)  # the project's averages where the data has none
    # How the order meets the level (core.money.impact NORMAL or QUANTILE): forecast + z x RMSE, or the model's own
    # quantile from its errors in all the run's folds (core.backtest.quantiles.future_offsets).
    ordering_rule: str = NORMAL
    gap: int = 0
    window: Literal["expanding", "sliding"] = "expanding"
    train_periods: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if is_external(self.model.alias):
            raise PublishError(unpublishable_reason(self.model.alias))
        if self.model.alias not in MODELS:
            raise PublishError(f"Unknown model '{self.model.alias}'. Known models: {', '.join(MODELS)}.")
        if self.horizon < 1:
            raise PublishError("The horizon must be at least 1 period.")
        if self.service_level is not None and not 0 < self.service_level < 1:
            raise PublishError(
                f"The service level is a probability of not running out, between 0 and 1 (e.g. 0.95); "
                f"got {self.service_level}.")
        if self.ordering_rule not in ORDERING_RULES:
            raise PublishError(f"Unknown ordering rule '{self.ordering_rule}': use '{NORMAL}' (forecast + z × RMSE) "
                               f"or '{QUANTILE}' (the model's own quantile from its backtest errors).")
        # The gap and window are checked by the split they make, with its messages.
        self.split()

    @classmethod
    def from_run(cls, run: RunInfo, alias: str, horizon: int | None = None,
                 service_level: float | None = None, profit_optimal: bool = False,
                 economics: Economics = Economics(), ordering_rule: str = NORMAL) -> PublishOptions:
        """The model ``alias`` with the settings, window, gap and seed it had in ``run``;
        order quantities (when a level is asked) sized by ``ordering_rule``."""
        if is_external(alias):
            raise PublishError(unpublishable_reason(alias))
        spec = next((m for m in run.config.models if m.alias == alias), None)
        if spec is None:
            raise PublishError(
                f"The run '{run.name}' did not backtest '{alias}'; choose one of "
                f"{', '.join(m.alias for m in run.config.models)}, or run a backtest that includes it.")
        split = run.config.split
        return cls(model=spec, horizon=horizon or split.horizon, service_level=service_level,
                   profit_optimal=profit_optimal, economics=economics, ordering_rule=ordering_rule, gap=split.gap,
                   window=split.window, train_periods=split.train_periods, seed=run.config.seed)

    @property
    def orders(self) -> bool:
        """Whether the batch has order quantities (a service level, or each item's)."""
        return self.profit_optimal or self.service_level is not None

    def split(self) -> SplitConfig:
        return SplitConfig(horizon=self.horizon, folds=1, gap=self.gap, window=self.window,
                           train_periods=self.train_periods)


@dataclass(frozen=True)
class BatchForecast:
    """One batch, ready to be written: its rows and everything a reader needs to trust them."""

    dataset_id: str
    dataset_name: str
    key_names: tuple[str, ...]
    run_id: str
    options: PublishOptions
    trained_until: date
    frame: pd.DataFrame  # unique_id, the key columns, ds, step, forecast, order_quantity
    exog_left_out: tuple[str, ...]
    notes: tuple[str, ...]
    code_version: str

    @property
    def n_series(self) -> int:
        return int(self.frame[SERIES_ID].nunique())

    def model_params(self) -> dict[str, object]:
        """Everything needed to fit the same model again, as stored with the batch, and the
        rule its order quantities were sized by (``ordering_rule``: ``normal``, ``quantile``,
        or None when the batch has none)."""
        options = self.options
        return {"settings": dict(options.model.params), "exog_known": [], "exog_left_out": list(self.exog_left_out),
                "gap": options.gap, "window": options.window, "train_periods": options.train_periods,
                "seed": options.seed, "ordering_rule": options.ordering_rule if options.orders else None}


def forecast_next(data: BacktestData, options: PublishOptions) -> tuple[pd.DataFrame, tuple[Fallback, ...]]:
    """The next ``horizon`` periods after the last date, for every series active on it.

    Returns unique_id, the key columns, ds, step (1 = the first period after the last
    date, shifted by the gap) and forecast, sorted by series then date, and the series
    the model could not forecast itself with the rule that did (``Fallback``). Series
    that ended before the last date (discontinued items) get no rows. Known-in-advance
    columns are left out (see the module docstring); forecasts are never negative.
    """
    reason = unpublishable_reason(options.model.alias)
    if reason:
        raise PublishError(reason)
    frame = data.frame
    if frame.empty:
        raise PublishError("There are no series in the run's scope to forecast.")
    clash = sorted(set(data.keys) & set(BATCH_COLUMNS))
    if clash:
        raise PublishError(f"The key column(s) {clash} have the names of columns of the batch table; rename them "
                           "at import to publish this dataset.")
    trained_until = frame[DATE].max()
    # The cutoff is the last date: the task's history is all the data, its future the
    # periods nobody has seen. Orders and known-in-advance columns stay out of both.
    task, _ = make_task(frame, trained_until, data.freq, options.split(), keys=data.keys,
                        attributes=data.attributes, exog_known=(), orders=None, seed=options.seed)
    forecast, fallbacks = options.model.build().forecast_with_fallbacks(task)
    out = task.future[[SERIES_ID, *data.keys, DATE]].copy()
    out[STEP] = np.tile(np.arange(options.gap + 1, options.gap + options.horizon + 1), len(task.series_ids))
    out[FORECAST] = np.clip(forecast[FORECAST].to_numpy(dtype=float), 0, None)
    return out.reset_index(drop=True), fallbacks


def safety_stock(rmse: np.ndarray, service_level: float) -> np.ndarray:
    """Units to hold above the forecast so that demand exceeds it in only ``1 - service_level``
    of periods, if errors are normal with the backtest's RMSE: z × RMSE."""
    from scipy.stats import norm  # scipy.stats takes a second to import: not on opening a page
    return norm.ppf(service_level) * rmse


def prepare_batch(warehouse: Warehouse, run_id: str, options: PublishOptions,
                  on_progress: Callable[[str], None] | None = None) -> BatchForecast:
    """The batch of ``options.model`` from run ``run_id``: its data, forecasts, order
    quantities and notes. Reads the warehouse, writes nothing."""
    report = on_progress or (lambda message: None)
    run = get_run(warehouse, run_id)
    if options.model not in run.config.models:
        raise PublishError(f"'{options.model.alias}' with these settings is not a model of the run '{run.name}'; "
                           "make the options from the run (PublishOptions.from_run).")
    if run.dataset_id is None:
        raise PublishError(f"The run '{run.name}' was made from a file, not from a dataset in the warehouse. "
                           "Import the file on the Import page, backtest it there, and publish that run.")
    try:
        dataset = warehouse.get_dataset(run.dataset_id)
    except DatasetNotFoundError as error:
        raise PublishError(f"The dataset of the run '{run.name}' ({run.dataset_name}) has been deleted since the "
                           "run. Backtest the data you want to publish for, then publish that run.") from error
    report(f"Loading the series of {dataset.name}…")
    data = dataset_data(warehouse, dataset, {k: tuple(v) for k, v in run.scope.items()})
    backtested = backtested_until(warehouse, run)
    seen = data if backtested is None else replace(data, frame=data.frame[data.frame[DATE] <= pd.Timestamp(backtested)])
    if seen.fingerprint() != run.fingerprint:
        until = "" if backtested is None else f" up to {backtested:%Y-%m-%d}, the last date it saw"
        raise PublishError(f"The data in the run's scope{until} is not what the run '{run.name}' backtested "
                           f"(fingerprint {seen.fingerprint()} against {run.fingerprint}): rows it was scored on "
                           "were changed or replaced since. Run the backtest again.")
    trained_until = pd.Timestamp(data.frame[DATE].max())
    report(f"Fitting {fmt.model_name(options.model.alias)} on {data.frame[SERIES_ID].nunique():,} series up to "
           f"{trained_until:%Y-%m-%d} and forecasting {options.horizon} periods…")
    frame, fallbacks = forecast_next(data, options)

    name = fmt.model_name(options.model.alias)
    notes: list[str] = [f"{name} could not forecast {len(f.series):,} series itself ({f.reason}): "
                        f"they got the {f.rule} rule instead." for f in fallbacks]
    if backtested is not None and trained_until.date() > backtested:
        notes.append(_newer_data_note(data.freq, backtested, trained_until.date()))
    exog_left_out = tuple(data.exog_known) if options.model.build().reads_exog_known() else ()
    if exog_left_out:
        notes.append(f"Fitted without the known-in-advance column(s) {', '.join(exog_left_out)}: their values after "
                     f"{trained_until:%Y-%m-%d} are not in the warehouse. The backtest used them, so this forecast "
                     "may be less accurate than the run's leaderboard says.")
    ended = data.frame[SERIES_ID].nunique() - frame[SERIES_ID].nunique()
    if ended:
        notes.append(f"{ended:,} series of the run's scope have no sales on {trained_until:%Y-%m-%d} (ended "
                     "earlier) and are not forecast.")
    frame[ORDER_QUANTITY] = np.nan
    if options.orders:
        mine = run_forecasts(warehouse, run_id)
        mine = mine[mine["model"] == options.model.alias]
    if options.profit_optimal:
        report("Computing each item's profit-optimal service level and order quantities…")
        levels = profit_optimal_levels(mine, data, warehouse.side_table(dataset, "items"),
                                       ImpactConfig(economics=options.economics, ordering_rule=options.ordering_rule))
        frame[ORDER_QUANTITY], note = order_quantity(warehouse, run_id, options.model.alias,
                                                     frame[SERIES_ID].map(levels).to_numpy(float), frame,
                                                     options.ordering_rule, mine, segment_of(data))
        notes.extend(note)
    elif options.service_level is not None:
        report("Computing order quantities from the backtest's errors…")
        frame[ORDER_QUANTITY], note = order_quantity(warehouse, run_id, options.model.alias, options.service_level,
                                                     frame, options.ordering_rule, mine, segment_of(data))
        notes.extend(note)
    return BatchForecast(
        dataset_id=dataset.dataset_id, dataset_name=dataset.name, key_names=dataset.spec.keys, run_id=run_id,
        options=options, trained_until=trained_until.date(), frame=frame, exog_left_out=exog_left_out,
        notes=tuple(notes), code_version=code_version(),
    )


def _newer_data_note(freq: Freq, backtested: date, trained_until: date) -> str:
    """Say that the batch was fitted on rows appended after the backtest, and how many periods."""
    if freq is Freq.MONTHLY:
        n = (trained_until.year - backtested.year) * 12 + trained_until.month - backtested.month
        unit = "month" if n == 1 else "months"
    elif freq is Freq.WEEKLY:
        n, unit = (trained_until - backtested).days // 7, "weeks"
        unit = "week" if n == 1 else unit
    else:
        n, unit = (trained_until - backtested).days, "days"
        unit = "day" if n == 1 else unit
    return (f"Fitted on {n:,} more {unit} than the backtest saw: the run's data ended on {backtested:%Y-%m-%d}, "
            f"this batch is fitted on every row up to {trained_until:%Y-%m-%d}, as the weekly production job refits "
            "on the newest data. The run's errors (and the safety stock made from them) come from the older data.")


def order_quantity(warehouse: Warehouse, run_id: str, alias: str, service_level: float | np.ndarray,
                   frame: pd.DataFrame, rule: str = NORMAL, forecasts: pd.DataFrame | None = None,
                   segments: pd.Series | None = None) -> tuple[np.ndarray, list[str]]:
    """Each row's order quantity (units, clipped at 0; NaN where the series has no
    backtest errors) and the notes that say how it was made.

    ``frame``: the batch's unique_id and forecast; ``service_level``: one level, or one per
    row (each item's). ``rule`` ``NORMAL``: forecast + z(level) × the series' RMSE of this
    model in the run (errors assumed normal). ``QUANTILE``: forecast + the level's offset
    from the model's errors for the series in *all* the run's folds
    (``core.backtest.quantiles.future_offsets``: finite-sample conformal quantile; the
    segment's errors pooled, scaled to the series, where it has too few of its own);
    ``forecasts`` are the run's forecasts of the model (read when None), ``segments``
    unique_id -> segment for pooling.

    A series the run never scored (it started after the first cutoff) gets no order
    quantity rather than one borrowed from other series: an empty cell tells the
    ordering system to decide itself."""
    if rule == QUANTILE:
        if forecasts is None:
            forecasts = run_forecasts(warehouse, run_id)
            forecasts = forecasts[forecasts["model"] == alias]
        quantity, notes, unscored = _quantile_quantity(forecasts, alias, service_level, frame, segments)
        if len(frame) and STEP in forecasts.columns and not forecasts.empty:
            measured = int(forecasts[STEP].max())
            published = int(frame[STEP].max()) if STEP in frame.columns else measured
            if published > measured:
                notes.append(f"The spread was measured on the backtest's {measured:,} periods ahead; this batch "
                             f"reaches {published:,} periods ahead, where misses are likely wider than the "
                             "quantile assumes.")
    else:
        quantity, notes, unscored = _normal_quantity(warehouse, run_id, alias, service_level, frame)
    if np.ndim(service_level):
        levels = np.asarray(service_level)
        below = frame.loc[levels < 0.5, SERIES_ID].nunique()
        if below:
            notes.append(f"{below:,} of {frame[SERIES_ID].nunique():,} series are ordered below their forecast on "
                         "purpose (a service level under 50 %): in the simulation a leftover cost them more than "
                         "the sales an extra unit would have made.")
    if unscored:
        notes.append(f"{unscored:,} series have no backtest errors for {fmt.model_name(alias)} (too new when the "
                     "run was made): their order quantity is empty.")
    return quantity, notes


_PER_ITEM = (f"Each item's level is the one of {', '.join(level_text(v) for v in SERVICE_LEVELS)} that earned it the "
             "most in the shelf simulation of the run's folds (orders, sales, stock carried over, waste, in yen), or "
             "the level best for all items together where its own did no better.")


def _normal_quantity(warehouse: Warehouse, run_id: str, alias: str, service_level: float | np.ndarray,
                     frame: pd.DataFrame) -> tuple[np.ndarray, list[str], int]:
    """Forecast plus safety stock from each series' own backtest RMSE for this model."""
    from scipy.stats import norm  # scipy.stats takes a second to import: not on opening a page
    metrics = run_metrics(warehouse, run_id, level="series")
    rmse = metrics[(metrics["model"] == alias) & (metrics["metric"] == "rmse")].set_index("group")["value"]
    per_row = frame[SERIES_ID].map(rmse).to_numpy(dtype=float)
    quantity = np.clip(frame[FORECAST].to_numpy() + safety_stock(per_row, service_level), 0, None)
    if np.ndim(service_level):
        notes = ["Order quantity = forecast + z × the series' RMSE in the backtest, z from each item's service "
                 f"level; errors assumed normal; not rounded to packs. {_PER_ITEM}"]
    else:
        notes = [f"Order quantity = forecast + {norm.ppf(service_level):.2f} × the series' RMSE in the backtest "
                 f"(service level {service_level:.1%}, errors assumed normal); not rounded to packs."]
    return quantity, notes, int(frame.loc[np.isnan(per_row), SERIES_ID].nunique())


def _quantile_quantity(forecasts: pd.DataFrame, alias: str, service_level: float | np.ndarray,
                       frame: pd.DataFrame, segments: pd.Series | None) -> tuple[np.ndarray, list[str], int]:
    """The model's own quantile at each row's level: forecast + the conformal offset of the
    series from all the run's folds, clipped at 0."""
    from core.backtest.quantiles import future_offsets
    per_row_level = np.broadcast_to(np.asarray(service_level, dtype=float), (len(frame),))
    levels = sorted({round(float(v), 9) for v in per_row_level if not np.isnan(v)})
    offset = np.full(len(frame), np.nan)
    pooled = 0
    if levels and not forecasts.empty:
        found = future_offsets(forecasts, levels, segments)
        found = found[found["model"] == alias]
        table = found.assign(level=found["level"].astype(float).round(9)).set_index([SERIES_ID, "level"])
        keys = pd.MultiIndex.from_arrays([frame[SERIES_ID].astype(str), np.round(per_row_level, 9)])
        offset = table["offset"].reindex(keys).to_numpy(dtype=float)
        used = table["basis"].reindex(keys).to_numpy(dtype=object)
        pooled = int(frame.loc[(used != "series") & ~np.isnan(offset), SERIES_ID].nunique())
    quantity = np.clip(frame[FORECAST].to_numpy(dtype=float) + offset, 0, None)
    folds = int(pd.Series(forecasts["cutoff"]).nunique()) if not forecasts.empty else 0
    scored = set(forecasts.loc[forecasts["actual"].notna(), SERIES_ID].astype(str)) if not forecasts.empty else set()
    has_errors = frame[SERIES_ID].astype(str).isin(scored).to_numpy()
    source = (f"the quantile of {fmt.model_name(alias)}'s errors for the series in all {folds} fold"
              f"{'' if folds == 1 else 's'} of the backtest (conformal; no normal assumption)")
    if np.ndim(service_level):
        notes = [f"Order quantity = forecast + {source}, at each item's service level, clipped at 0; not rounded "
                 f"to packs. {_PER_ITEM}"]
    else:
        notes = [f"Order quantity = forecast + {source}, at the {level_text(float(service_level))} level (the "
                 "model's own quantile), clipped at 0; not rounded to packs."]
    short = np.isnan(offset) & has_errors  # errors, but too few for the level even pooled over every series
    if short.any():
        from core.backtest.quantiles import max_level
        n = int(forecasts["actual"].notna().sum())
        missing = sorted({float(v) for v in per_row_level[short]})
        notes.append(f"{frame.loc[short, SERIES_ID].nunique():,} series have too few backtest errors for a "
                     f"{', '.join(level_text(v) for v in missing)} quantile of {fmt.model_name(alias)}: its {n:,} "
                     f"errors, pooled over every series, support quantiles up to {fmt.pct(np.floor(max_level(n) * 1000) / 1000, 1)}. Their "
                     "order quantity is empty: choose a lower service level, or the normal rule (forecast + z × "
                     "RMSE), which has no such limit.")
    if pooled:
        notes.append(f"{pooled:,} series have too few backtest errors of their own for so rare a quantile: their "
                     "offset pools their segment's (or every series') errors, scaled by the series' typical miss.")
    return quantity, notes, int(frame.loc[np.isnan(offset) & ~has_errors, SERIES_ID].nunique())
