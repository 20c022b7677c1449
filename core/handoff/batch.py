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
from core.forecast.base import FORECAST, Fallback, Rung, reason_fact
from core.forecast.registry import MODELS, is_external
from core.i18n import M_, Fmt, Msg, _, nM_
from core.money.impact import (
    NORMAL,
    ORDERING_RULES,
    QUANTILE,
    SERVICE_LEVELS,
    Economics,
    ImpactConfig,
    Text,
    joined,
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


def unpublishable_reason(alias: str) -> Msg | None:
    """Why a model cannot forecast dates after the data ends (a fact, read in the language
    where it is shown), or None when it can."""
    if is_external(alias):
        return M_("{model}: {reason}.", model=Fmt("model_name", alias), reason=Msg(UNPUBLISHABLE))
    if alias in MODELS and MODELS[alias].rung == Rung.PRACTICE:
        return M_("{model} is today's ordering practice: it reads the orders placed for each day, and no orders "
                  "exist yet for the days after the data ends. Publish a forecasting model instead.",
                  model=Fmt("model_name", alias))
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
            raise PublishError(M_("Unknown model '{alias}'. Known models: {known}.", alias=self.model.alias,
                                  known=", ".join(MODELS)))
        if self.horizon < 1:
            raise PublishError(M_("The horizon must be at least 1 period."))
        if self.service_level is not None and not 0 < self.service_level < 1:
            raise PublishError(M_("The service level is a probability of not running out, between 0 and 1 (e.g. "
                                  "0.95); got {level}.", level=self.service_level))
        if self.ordering_rule not in ORDERING_RULES:
            raise PublishError(M_("Unknown ordering rule '{name}': use '{normal}' (forecast + z × RMSE) or "
                                  "'{quantile}' (the model's own quantile from its backtest errors).",
                                  name=self.ordering_rule, normal=NORMAL, quantile=QUANTILE))
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
            raise PublishError(M_("The run '{run}' did not backtest '{alias}'; choose one of {known}, or run a "
                                  "backtest that includes it.", run=run.name, alias=alias,
                                  known=", ".join(m.alias for m in run.config.models)))
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
    notes: tuple[Text, ...]  # facts (``Msg``), stored with the batch and read in either language
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
        raise PublishError(M_("There are no series in the run's scope to forecast."))
    clash = sorted(set(data.keys) & set(BATCH_COLUMNS))
    if clash:
        raise PublishError(M_("The key column(s) {columns} have the names of columns of the batch table; rename "
                              "them at import to publish this dataset.", columns=str(clash)))
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
    quantities and notes (facts). Reads the warehouse, writes nothing. Progress is said in
    the current language."""
    report = on_progress or (lambda message: None)
    run = get_run(warehouse, run_id)
    if options.model not in run.config.models:
        raise PublishError(M_("'{alias}' with these settings is not a model of the run '{run}'; make the options "
                              "from the run (PublishOptions.from_run).", alias=options.model.alias, run=run.name))
    if run.dataset_id is None:
        raise PublishError(M_("The run '{run}' was made from a file, not from a dataset in the warehouse. Import "
                              "the file on the Import page, backtest it there, and publish that run.", run=run.name))
    try:
        dataset = warehouse.get_dataset(run.dataset_id)
    except DatasetNotFoundError as error:
        raise PublishError(M_("The dataset of the run '{run}' ({dataset}) has been deleted since the run. Backtest "
                              "the data you want to publish for, then publish that run.", run=run.name,
                              dataset=run.dataset_name)) from error
    report(_("Loading the series of {dataset}…").format(dataset=dataset.name))
    data = dataset_data(warehouse, dataset, {k: tuple(v) for k, v in run.scope.items()})
    backtested = backtested_until(warehouse, run)
    seen = data if backtested is None else replace(data, frame=data.frame[data.frame[DATE] <= pd.Timestamp(backtested)])
    if seen.fingerprint() != run.fingerprint:
        fingerprints = {"seen": seen.fingerprint(), "run_fingerprint": run.fingerprint, "run": run.name}
        if backtested is None:
            raise PublishError(M_("The data in the run's scope is not what the run '{run}' backtested (fingerprint "
                                  "{seen} against {run_fingerprint}): rows it was scored on were changed or replaced "
                                  "since. Run the backtest again.", **fingerprints))
        raise PublishError(M_("The data in the run's scope up to {until}, the last date it saw, is not what the run "
                              "'{run}' backtested (fingerprint {seen} against {run_fingerprint}): rows it was scored "
                              "on were changed or replaced since. Run the backtest again.",
                              until=Fmt("date", backtested.isoformat()), **fingerprints))
    trained_until = pd.Timestamp(data.frame[DATE].max())
    report(_("Fitting {model} on {n:,} series up to {until} and forecasting {horizon} periods…").format(
        model=fmt.model_name(options.model.alias), n=data.frame[SERIES_ID].nunique(),
        until=fmt.date(trained_until), horizon=options.horizon))
    frame, fallbacks = forecast_next(data, options)

    name = Fmt("model_name", options.model.alias)
    until = Fmt("date", trained_until.date().isoformat())
    notes: list[Text] = [M_("{model} could not forecast {n:,} series itself ({reason}): they got the {rule} rule "
                            "instead.", model=name, n=len(f.series), reason=reason_fact(f.reason), rule=f.rule)
                         for f in fallbacks]
    if backtested is not None and trained_until.date() > backtested:
        notes.append(_newer_data_note(data.freq, backtested, trained_until.date()))
    exog_left_out = tuple(data.exog_known) if options.model.build().reads_exog_known() else ()
    if exog_left_out:
        notes.append(M_("Fitted without the known-in-advance column(s) {columns}: their values after {until} are "
                        "not in the warehouse. The backtest used them, so this forecast may be less accurate than "
                        "the run's leaderboard says.", columns=", ".join(exog_left_out), until=until))
    ended = data.frame[SERIES_ID].nunique() - frame[SERIES_ID].nunique()
    if ended:
        notes.append(M_("{n:,} series of the run's scope have no sales on {until} (ended earlier) and are not "
                        "forecast.", n=ended, until=until))
    frame[ORDER_QUANTITY] = np.nan
    if options.orders:
        mine = run_forecasts(warehouse, run_id)
        mine = mine[mine["model"] == options.model.alias]
    if options.profit_optimal:
        report(_("Computing each item's profit-optimal service level and order quantities…"))
        levels = profit_optimal_levels(mine, data, warehouse.side_table(dataset, "items"),
                                       ImpactConfig(economics=options.economics, ordering_rule=options.ordering_rule))
        frame[ORDER_QUANTITY], note = order_quantity(warehouse, run_id, options.model.alias,
                                                     frame[SERIES_ID].map(levels).to_numpy(float), frame,
                                                     options.ordering_rule, mine, segment_of(data))
        notes.extend(note)
    elif options.service_level is not None:
        report(_("Computing order quantities from the backtest's errors…"))
        frame[ORDER_QUANTITY], note = order_quantity(warehouse, run_id, options.model.alias, options.service_level,
                                                     frame, options.ordering_rule, mine, segment_of(data))
        notes.extend(note)
    return BatchForecast(
        dataset_id=dataset.dataset_id, dataset_name=dataset.name, key_names=dataset.spec.keys, run_id=run_id,
        options=options, trained_until=trained_until.date(), frame=frame, exog_left_out=exog_left_out,
        notes=tuple(notes), code_version=code_version(),
    )


def _newer_data_note(freq: Freq, backtested: date, trained_until: date) -> Msg:
    """Say that the batch was fitted on rows appended after the backtest, and how many periods (a fact)."""
    if freq == Freq.MONTHLY:
        n = (trained_until.year - backtested.year) * 12 + trained_until.month - backtested.month
        more = nM_("{n:,} more month", "{n:,} more months", "n", n=n)
    elif freq == Freq.WEEKLY:
        more = nM_("{n:,} more week", "{n:,} more weeks", "n", n=(trained_until - backtested).days // 7)
    else:
        more = nM_("{n:,} more day", "{n:,} more days", "n", n=(trained_until - backtested).days)
    return M_("Fitted on {more} than the backtest saw: the run's data ended on {backtested}, this batch is fitted on "
              "every row up to {until}, as the weekly production job refits on the newest data. The run's errors "
              "(and the safety stock made from them) come from the older data.", more=more,
              backtested=Fmt("date", backtested.isoformat()), until=Fmt("date", trained_until.isoformat()))


def order_quantity(warehouse: Warehouse, run_id: str, alias: str, service_level: float | np.ndarray,
                   frame: pd.DataFrame, rule: str = NORMAL, forecasts: pd.DataFrame | None = None,
                   segments: pd.Series | None = None) -> tuple[np.ndarray, list[Text]]:
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
                notes.append(M_("The spread was measured on the backtest's {measured:,} periods ahead; this batch "
                                "reaches {published:,} periods ahead, where misses are likely wider than the "
                                "quantile assumes.", measured=measured, published=published))
    else:
        quantity, notes, unscored = _normal_quantity(warehouse, run_id, alias, service_level, frame)
    if np.ndim(service_level):
        levels = np.asarray(service_level)
        below = frame.loc[levels < 0.5, SERIES_ID].nunique()
        if below:
            notes.append(M_("{below:,} of {total:,} series are ordered below their forecast on purpose (a service "
                            "level under 50 %): in the simulation a leftover cost them more than the sales an extra "
                            "unit would have made.", below=int(below), total=frame[SERIES_ID].nunique()))
    if unscored:
        notes.append(M_("{n:,} series have no backtest errors for {model} (too new when the run was made): their "
                        "order quantity is empty.", n=unscored, model=Fmt("model_name", alias)))
    return quantity, notes


def _per_item() -> Msg:
    """How each item's level was chosen, as a fact."""
    return M_("Each item's level is the one of {levels} that earned it the most in the shelf simulation of the "
              "run's folds (orders, sales, stock carried over, waste, in yen), or the level best for all items "
              "together where its own did no better.", levels=", ".join(level_text(v) for v in SERVICE_LEVELS))


def _normal_quantity(warehouse: Warehouse, run_id: str, alias: str, service_level: float | np.ndarray,
                     frame: pd.DataFrame) -> tuple[np.ndarray, list[Text], int]:
    """Forecast plus safety stock from each series' own backtest RMSE for this model."""
    from scipy.stats import norm  # scipy.stats takes a second to import: not on opening a page
    metrics = run_metrics(warehouse, run_id, level="series")
    rmse = metrics[(metrics["model"] == alias) & (metrics["metric"] == "rmse")].set_index("group")["value"]
    per_row = frame[SERIES_ID].map(rmse).to_numpy(dtype=float)
    quantity = np.clip(frame[FORECAST].to_numpy() + safety_stock(per_row, service_level), 0, None)
    if np.ndim(service_level):
        notes: list[Text] = [joined([M_("Order quantity = forecast + z × the series' RMSE in the backtest, z from "
                                        "each item's service level; errors assumed normal; not rounded to packs."),
                                     _per_item()])]
    else:
        notes = [M_("Order quantity = forecast + {z} × the series' RMSE in the backtest (service level {level}, "
                    "errors assumed normal); not rounded to packs.", z=f"{norm.ppf(service_level):.2f}",
                    level=Fmt("pct", float(service_level)))]
    return quantity, notes, int(frame.loc[np.isnan(per_row), SERIES_ID].nunique())


def _quantile_quantity(forecasts: pd.DataFrame, alias: str, service_level: float | np.ndarray,
                       frame: pd.DataFrame, segments: pd.Series | None) -> tuple[np.ndarray, list[Text], int]:
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
    source = nM_("the quantile of {model}'s errors for the series in all {n} fold of the backtest (conformal; no "
                 "normal assumption)", "the quantile of {model}'s errors for the series in all {n} folds of the "
                 "backtest (conformal; no normal assumption)", "n", model=Fmt("model_name", alias), n=folds)
    if np.ndim(service_level):
        notes: list[Text] = [joined([M_("Order quantity = forecast + {source}, at each item's service level, "
                                        "clipped at 0; not rounded to packs.", source=source), _per_item()])]
    else:
        notes = [M_("Order quantity = forecast + {source}, at the {level} level (the model's own quantile), clipped "
                    "at 0; not rounded to packs.", source=source, level=level_text(float(service_level)))]
    short = np.isnan(offset) & has_errors  # errors, but too few for the level even pooled over every series
    if short.any():
        from core.backtest.quantiles import max_level
        n = int(forecasts["actual"].notna().sum())
        missing = sorted({float(v) for v in per_row_level[short]})
        notes.append(M_("{n:,} series have too few backtest errors for a {levels} quantile of {model}: its "
                        "{errors:,} errors, pooled over every series, support quantiles up to {top}. Their order "
                        "quantity is empty: choose a lower service level, or the normal rule (forecast + z × RMSE), "
                        "which has no such limit.", n=frame.loc[short, SERIES_ID].nunique(),
                        levels=", ".join(level_text(v) for v in missing), model=Fmt("model_name", alias), errors=n,
                        top=Fmt("pct", float(np.floor(max_level(n) * 1000) / 1000))))
    if pooled:
        notes.append(M_("{n:,} series have too few backtest errors of their own for so rare a quantile: their "
                        "offset pools their segment's (or every series') errors, scaled by the series' typical "
                        "miss.", n=pooled))
    return quantity, notes, int(frame.loc[np.isnan(offset) & ~has_errors, SERIES_ID].nunique())
