"""After launch: each published batch watched against the actuals appended since.

A batch (``core.handoff.store``) forecasts the periods after the data it was fitted on; as
the dataset grows (``Warehouse.append_rows``: a week's sales uploaded, or the demo chain
extended), those periods get actuals. ``watch_batch`` joins them and measures, period by
period (Monday-based weeks for daily data; each period for weekly and monthly data):

* **WAPE** — Σ|forecast − actual| / Σ actual over the period's rows with an actual;
* **bias** — Σ(forecast − actual) / Σ actual, a signed share: above 0 the batch forecast
  more than sold (waste), below 0 less (stockouts);
* **MAE** — mean |forecast − actual| in units per series and period;
* the series and rows covered, and every series accounted for: the forecast series with no
  actual in a period on dates the dataset already has (ended, or their sales were not
  appended) and the periods after the dataset's last date (no actuals yet).

**The band** a week is judged against comes from the backtest run that chose the model
(the batch's ``run_id``), from that model's own errors in it. Each fold's forecasts are cut
into the same periods (a fold of 28 days gives 4 weeks), and each such *backtest week* is
resampled: series drawn with replacement, as many as the monitored week covers, the WAPE
and bias of the draw computed; the draws of every backtest week are pooled and the band is
their central ``BandConfig.level`` interval (90 %: the 5th and 95th percentiles). So the
band holds both what varied from fold to fold and week to week, and the sampling spread of a
week of that many series (the bootstrap over series of Efron & Tibshirani, *An Introduction
to the Bootstrap*, 1993, ch. 6; series, not rows, are drawn because a series' days are
correlated). For daily data a partial week (the batch's first days, or actuals that stop
mid-week) is compared with the same weekdays of the backtest weeks that have them all.
Why not the min–max of the run's per-fold WAPE: a fold scores a whole horizon of every
series, and a week of the same series is noisier than its fold; with 2–3 folds the min–max
would flag ordinary weeks. The band is on the conservative side (a backtest week's own noise
is counted again by the resampling), which is the side an alarm should err on. What it
assumes: the backtest's folds are like the weeks after launch (same model, same series);
the published model was refitted on more data and without known-in-advance columns (see
``core.handoff.batch``), and horizon steps are pooled (a week 4 steps out is judged by
the run's weeks at every step).

**Alerts.** A week's WAPE above its band: the forecasts are drifting. Below the band is
good news and shown, not alerted. The bias alerts when it leaves its band away from zero
(more over- or under-forecasting than the backtest ever showed); a bias nearer zero than the
band is not an alarm.

**Money realised so far** (``money_so_far``): on the days with actuals, the recorded profit,
waste, lost margin and stockout days of the batch's stores (``core.money.outcomes``: the
recorded orders replayed on the shelf and priced as the money impact prices them), per store
and day beside the backtest's promise for the model (its money impact's yearly profit per
store and day). Daily data that records orders only; it cannot tell whether a store ordered
from the batch, so a pilot's treated stores are chosen with ``WatchOptions.stores``.

Stored in ``forecast_monitoring`` (migration 9), long: one row per batch, period and
measure (``MEASURES``), ``band_low``/``band_high`` on WAPE and bias, ``alert`` true where
the measure alerts; recomputing a batch replaces its rows in one transaction. Query it as a
table, e.g. every alert of every batch (``EXAMPLE_QUERY``)::

    SELECT m.dataset_id, b.dataset_name, m.version, b.model, m.period_start, m.measure,
           m.value, m.band_low, m.band_high
    FROM forecast_monitoring m
    JOIN forecast_batches b USING (dataset_id, version)
    WHERE m.alert
    ORDER BY m.period_start, b.dataset_name, m.version, m.measure;

and one row per batch and week (``WEEKS_QUERY``) with ``max(value) FILTER (WHERE measure =
'wape')`` and so on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import numpy as np
import pandas as pd

from core import fmt, periods
from core.backtest import store as runs
from core.backtest.engine import dataset_data
from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.errors import MitoshiError, WarehouseError
from core.i18n import M_, Msg, gettext, nM_, ngettext
from core.pilot.design import sentences as together
from core.forecast.base import FORECAST
from core.handoff import store as handoff_store
from core.handoff.batch import ORDER_QUANTITY, STEP
from core.money.impact import PERIODS_PER_YEAR, ImpactConfig
from core.money.outcomes import store_day_outcomes
from core.pilot.evidence import LOST_MARGIN, PROFIT, STOCKOUT_DAYS, WASTE_COST
from core.warehouse import Dataset, Warehouse

ACTUAL = "actual"
PERIOD = "period_start"

# The measures of a period, as stored in forecast_monitoring.measure.
WAPE = "wape"  # share (0.25 = 25 %)
BIAS = "bias"  # signed share of the actuals: Σ(forecast − actual) / Σ actual
MAE = "mae"  # units per series and period
SERIES = "series"  # series with at least one actual in the period
SERIES_FORECAST = "series_forecast"  # series the batch forecast in the period
SERIES_MISSING = "series_missing"  # of which no actual (yet, or ended)
SERIES_SHARE = "series_share"  # SERIES / SERIES_FORECAST
ROWS = "rows"  # series-dates with an actual
DATES = "dates"  # dates of the period with at least one actual
ACTUAL_UNITS = "actual_units"  # Σ actual on the rows covered
FORECAST_UNITS = "forecast_units"  # Σ forecast on the same rows
# Money realised (core.money.outcomes, daily data that records orders), over the batch's stores:
# PROFIT, WASTE_COST, LOST_MARGIN and STOCKOUT_DAYS are the pilot's measures (core.pilot.evidence), summed
# on the period's days with actuals; and:
STORE_DAYS = "store_days"  # stores × days those sums are over
PROFIT_PER_STORE_DAY = "profit_per_store_day"  # yen
PROMISE_PER_STORE_DAY = "promised_profit_per_store_day"  # yen: the backtest's money impact of the model
MONEY_MEASURES = (PROFIT, WASTE_COST, LOST_MARGIN, STOCKOUT_DAYS, STORE_DAYS, PROFIT_PER_STORE_DAY,
                  PROMISE_PER_STORE_DAY)
ERROR_MEASURES = (WAPE, BIAS, MAE, SERIES, SERIES_FORECAST, SERIES_MISSING, SERIES_SHARE, ROWS, DATES,
                  ACTUAL_UNITS, FORECAST_UNITS)  # every watch has these; the money ones where priced
MEASURES = (*ERROR_MEASURES, *MONEY_MEASURES)
BANDED = (WAPE, BIAS)  # the measures with a backtest band

# Status of a period.
COMPLETE = "complete"  # every series and date the batch forecast has its actual
PARTIAL = "partial"  # some actuals
WAITING = "waiting"  # none yet

# Every alert of every watched batch; a test runs it.
EXAMPLE_QUERY = """\
-- Every alert of every watched batch: the weeks whose WAPE or bias left the backtest's band
SELECT m.dataset_id, b.dataset_name, m.version, b.model, m.period_start, m.measure,
       m.value, m.band_low, m.band_high
FROM forecast_monitoring m
JOIN forecast_batches b USING (dataset_id, version)
WHERE m.alert
ORDER BY m.period_start, b.dataset_name, m.version, m.measure;"""

# One row per batch and week, the measures side by side; a test runs it.
WEEKS_QUERY = """\
-- One row per watched batch and week
SELECT dataset_id, version, period_start,
       max(value) FILTER (WHERE measure = 'wape') AS wape,
       max(band_low) FILTER (WHERE measure = 'wape') AS wape_low,
       max(band_high) FILTER (WHERE measure = 'wape') AS wape_high,
       max(value) FILTER (WHERE measure = 'bias') AS bias,
       max(value) FILTER (WHERE measure = 'series') AS series,
       max(value) FILTER (WHERE measure = 'series_missing') AS series_missing,
       bool_or(alert) AS alert
FROM forecast_monitoring
GROUP BY dataset_id, version, period_start
ORDER BY dataset_id, version, period_start;"""


class MonitorError(MitoshiError):
    """A batch cannot be watched as asked; the message says why and what to do."""


@dataclass(frozen=True)
class BandConfig:
    """How the backtest band is made: its coverage, the resamples per backtest week and the
    seed of the draws (the same seed, the same band)."""

    level: float = 0.90
    resamples: int = 400
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.level < 1:
            raise MonitorError(M_("The band's level is a share between 0 and 1 (0.9 for 90 %); got {level}.",
                                  level=self.level))
        if self.resamples < 10:
            raise MonitorError(M_("Resample each backtest week at least 10 times; got {n}.", n=self.resamples))


@dataclass(frozen=True)
class WatchOptions:
    """What a watch measures besides the errors: the band, and the money realised so far
    (``money``), priced with ``impact`` (its economics where the data has no prices) over
    ``stores`` (the key values of the stores that ordered from the batch; empty: every store
    of the batch)."""

    band: BandConfig = field(default_factory=BandConfig)
    money: bool = True
    impact: ImpactConfig = field(default_factory=ImpactConfig)
    stores: tuple[str, ...] = ()


@dataclass(frozen=True)
class Band:
    """The backtest's range of a week's WAPE and bias (shares), and what it was made of."""

    wape_low: float = math.nan
    wape_high: float = math.nan
    bias_low: float = math.nan
    bias_high: float = math.nan
    weeks: int = 0  # backtest weeks (fold × period) pooled; 0: no band


def period_starts(dates: pd.Series, freq: Freq) -> pd.Series:
    """The period each date falls in, as its first day: the Monday of its week for daily
    data (ISO weeks), the date itself for weekly and monthly data (one date a period)."""
    days = pd.to_datetime(dates)
    if Freq(freq) == Freq.DAILY:
        return (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.normalize()
    return days.dt.normalize()


def _per_series(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Σ|error|, Σ error and Σ actual per ``by`` (forecast − actual)."""
    error = rows[FORECAST].to_numpy(float) - rows[ACTUAL].to_numpy(float)
    frame = pd.DataFrame({**{c: rows[c].to_numpy() for c in by}, "abs": np.abs(error), "err": error,
                          ACTUAL: rows[ACTUAL].to_numpy(float)})
    return frame.groupby(by, sort=True)[["abs", "err", ACTUAL]].sum()


def _resample(values: np.ndarray, n: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``resamples`` draws of ``n`` rows of ``values`` (series × [Σ|e|, Σe, Σa]) with
    replacement: the (resamples, 2) WAPE and bias of each draw (NaN where it sold nothing)."""
    out = np.empty((resamples, 3))
    chunk = max(1, 2_000_000 // max(n, 1))  # at most two million draws in memory at a time
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        draws = rng.integers(0, len(values), size=(size, n))
        out[start:start + size] = values[draws].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        volume = np.where(out[:, 2] > 0, out[:, 2], np.nan)
        return np.column_stack([out[:, 0] / volume, out[:, 1] / volume])


def error_band(backtest: pd.DataFrame, freq: Freq, n_series: int, weekdays: frozenset[int] | None = None,
               config: BandConfig = BandConfig()) -> Band:
    """The band of a week of ``n_series`` series from a model's backtest errors.

    ``backtest``: one model's scored rows of a run (``unique_id, ds, cutoff, actual,
    forecast``). Each (cutoff, period) is a backtest week; for daily data with ``weekdays``
    (0 = Monday) only those weekdays count, and only the backtest weeks that have all of
    them (all weeks when none has). Each week's series are resampled ``config.resamples``
    times to ``n_series`` (see the module docstring); the band is the central
    ``config.level`` interval of the pooled draws. An empty ``backtest`` or ``n_series`` 0
    gives a band of NaN with ``weeks`` 0.
    """
    if backtest.empty or n_series < 1:
        return Band()
    rows = backtest.loc[backtest[ACTUAL].notna(), [SERIES_ID, DATE, "cutoff", ACTUAL, FORECAST]].copy()
    rows[DATE] = pd.to_datetime(rows[DATE])
    rows[PERIOD] = period_starts(rows[DATE], freq)
    if Freq(freq) == Freq.DAILY and weekdays:
        rows = rows[rows[DATE].dt.day_of_week.isin(sorted(weekdays))]
        seen = rows.groupby(["cutoff", PERIOD])[DATE].agg(lambda d: frozenset(d.dt.day_of_week))
        whole = seen[seen.map(lambda days: days >= weekdays)].index
        if len(whole):
            rows = rows.set_index(["cutoff", PERIOD]).loc[whole].reset_index()
    if rows.empty:
        return Band()
    sums = _per_series(rows, ["cutoff", PERIOD, SERIES_ID])
    rng = np.random.default_rng(config.seed)
    draws = [_resample(part.to_numpy(), n_series, config.resamples, rng)
             for _, part in sums.groupby(level=["cutoff", PERIOD], sort=True)]
    pooled = np.vstack(draws)
    tail = (1 - config.level) / 2
    with np.errstate(invalid="ignore"):
        wape = pooled[:, 0][~np.isnan(pooled[:, 0])]
        bias = pooled[:, 1][~np.isnan(pooled[:, 1])]
    if not len(wape):
        return Band(weeks=len(draws))
    wape_low, wape_high = np.quantile(wape, [tail, 1 - tail])
    bias_low, bias_high = np.quantile(bias, [tail, 1 - tail])
    return Band(float(wape_low), float(wape_high), float(bias_low), float(bias_high), len(draws))


def measure_periods(rows: pd.DataFrame, freq: Freq) -> pd.DataFrame:
    """Each period's measures from a batch's rows joined to the actuals.

    ``rows``: ``unique_id, ds, forecast`` and ``actual`` (NaN where the dataset has none).
    Returns one row per period of the batch, by date: ``period_start``, ``first_date``,
    ``last_date`` (the batch's dates in it), ``dates_forecast``, ``dates`` (with an actual),
    ``series_forecast``, ``series``, ``series_missing``, ``series_share``, ``rows_forecast``,
    ``rows``, ``actual_units``, ``forecast_units``, ``wape``, ``bias``, ``mae`` (NaN where
    nothing was sold or nothing is known yet) and ``status`` (complete, partial, waiting).
    """
    frame = rows.assign(**{DATE: pd.to_datetime(rows[DATE])})
    frame[PERIOD] = period_starts(frame[DATE], freq)
    covered = frame[frame[ACTUAL].notna()]
    grouped = frame.groupby(PERIOD, sort=True)
    out = pd.DataFrame({
        "first_date": grouped[DATE].min(), "last_date": grouped[DATE].max(),
        "dates_forecast": grouped[DATE].nunique(), "series_forecast": grouped[SERIES_ID].nunique(),
        "rows_forecast": grouped.size(),
    })
    seen = covered.groupby(PERIOD)
    out[DATES] = seen[DATE].nunique().reindex(out.index, fill_value=0)
    out[SERIES] = seen[SERIES_ID].nunique().reindex(out.index, fill_value=0)
    out[ROWS] = seen.size().reindex(out.index, fill_value=0)
    out[SERIES_MISSING] = out["series_forecast"] - out[SERIES]
    out[SERIES_SHARE] = out[SERIES] / out["series_forecast"]
    if covered.empty:
        sums = pd.DataFrame(columns=["abs", "err", ACTUAL], dtype=float)
        forecast_units = pd.Series(dtype=float)
    else:
        sums = _per_series(covered, [PERIOD])
        forecast_units = covered.groupby(PERIOD)[FORECAST].sum()
    sums = sums.reindex(out.index)
    out[ACTUAL_UNITS] = sums[ACTUAL].fillna(0.0)
    out[FORECAST_UNITS] = forecast_units.reindex(out.index).fillna(0.0)
    volume = sums[ACTUAL].where(sums[ACTUAL] > 0)
    out[WAPE] = sums["abs"] / volume
    out[BIAS] = sums["err"] / volume
    out[MAE] = sums["abs"] / out[ROWS].where(out[ROWS] > 0)
    full = (out[ROWS] == out["rows_forecast"])
    out["status"] = np.where(out[ROWS] == 0, WAITING, np.where(full, COMPLETE, PARTIAL))
    out = out.reset_index()
    ints = ["dates_forecast", "series_forecast", "rows_forecast", DATES, SERIES, ROWS, SERIES_MISSING]
    return out.astype({c: "int64" for c in ints})


def judge(periods_frame: pd.DataFrame) -> pd.DataFrame:
    """The alerts of measured periods with their bands (``wape_low`` … ``bias_high``):
    ``wape_alert`` (WAPE above its band), ``wape_below`` (below it: better than the
    backtest), ``bias_alert`` (bias outside its band on the far side from zero)."""
    out = periods_frame.copy()
    wape, bias = out[WAPE], out[BIAS]
    out["wape_alert"] = (wape > out["wape_high"]).fillna(False).astype(bool)
    out["wape_below"] = (wape < out["wape_low"]).fillna(False).astype(bool)
    over = (bias > out["bias_high"]) & (bias > 0)
    under = (bias < out["bias_low"]) & (bias < 0)
    out["bias_alert"] = (over | under).fillna(False).astype(bool)
    return out


@dataclass(frozen=True)
class BatchWatch:
    """One published batch against the actuals so far: its periods, bands and alerts.

    ``periods`` is ``measure_periods``' frame with the band of each period (``wape_low``,
    ``wape_high``, ``bias_low``, ``bias_high``, ``band_weeks``) and ``judge``'s alerts.
    ``missing_series`` are the batch's series with no actual on any date the dataset has
    reached (ended, or their sales not appended); ``data_end`` the dataset's last date.
    """

    dataset_id: str
    dataset_name: str
    version: int
    model: str
    run_id: str
    run_name: str | None  # None: the run has been deleted since
    freq: Freq
    first_date: date  # the batch's first and last date forecast
    last_date: date
    n_series: int  # series in the batch
    data_end: date | None  # the dataset's last date now
    periods: pd.DataFrame
    missing_series: tuple[str, ...]
    fold_wape: tuple[tuple[str, float], ...]  # the run's WAPE of the model per fold (cutoff, share)
    options: WatchOptions = field(default_factory=lambda: WatchOptions())
    money: Money = field(default_factory=lambda: Money())
    computed_at: datetime | None = None

    # -- what a reader sees -------------------------------------------------------
    @property
    def covered(self) -> pd.DataFrame:
        return self.periods[self.periods["status"] != WAITING]

    @property
    def last_actual(self) -> date | None:
        """The last date of the batch with an actual, or None when none has one yet."""
        covered = self.covered
        return None if covered.empty else pd.Timestamp(covered["last_actual"].max()).date()

    def period_label(self, start: object) -> str:
        """``Week of 2026-11-02`` (daily and weekly data) or ``Month of 2026-11``
        (``2026年11月2日の週``, ``2026年11月`` in Japanese)."""
        start = pd.Timestamp(start)
        if self.freq == Freq.MONTHLY:
            return gettext("Month of {year}-{month:02d}").format(year=start.year, month=start.month)
        return gettext("Week of {day}").format(day=fmt.date(start))

    def alert_sentences(self) -> list[str]:
        """One sentence per alert, oldest period first: ``Week of 2026-11-02: WAPE 41% is
        above the backtest's band 28–35%: the forecasts are drifting.``"""
        sentences = []
        for row in self.periods.itertuples():
            label = self.period_label(row.period_start)
            if row.wape_alert:
                sentences.append(gettext("{period}: WAPE {wape} is above the backtest's band {band}: the forecasts are "
                                         "drifting.").format(period=label, wape=fmt.pct(row.wape, 0),
                                                             band=band_range(row.wape_low, row.wape_high)))
            if row.bias_alert:
                values = {"period": label, "bias": fmt.pct(row.bias, 0, signed=True),
                          "band": band_range(row.bias_low, row.bias_high, signed=True)}
                sentences.append((gettext("{period}: bias {bias} is outside the backtest's range {band}: the batch "
                                          "over-forecasts more than in the backtest (expect waste).") if row.bias > 0
                                  else gettext("{period}: bias {bias} is outside the backtest's range {band}: the batch "
                                               "under-forecasts more than in the backtest (expect empty shelves)."))
                                 .format(**values))
        return sentences

    def good_news(self) -> list[str]:
        """One sentence per period whose WAPE is below its band (no alert)."""
        return [gettext("{period}: WAPE {wape} is below the backtest's band {band}: better than the backtest.").format(
                    period=self.period_label(r.period_start), wape=fmt.pct(r.wape, 0),
                    band=band_range(r.wape_low, r.wape_high)) for r in self.periods.itertuples() if r.wape_below]

    def coverage_sentences(self) -> list[str]:
        """What is not covered yet: periods without actuals and series without any."""
        sentences = []
        waiting = self.periods[self.periods["status"] != COMPLETE]
        last = self.last_actual
        if last is None:
            values = {"first": fmt.date(self.first_date), "last": fmt.date(self.last_date)}
            if self.data_end:
                sentences.append(gettext(
                    "No actuals yet for this batch (it forecasts {first} to {last}; the data ends {end}): append the "
                    "period's sales on Import & manage, or extend the demo.").format(end=fmt.date(self.data_end),
                                                                                     **values))
            else:
                sentences.append(gettext(
                    "No actuals yet for this batch (it forecasts {first} to {last}): append the period's sales on "
                    "Import & manage, or extend the demo.").format(**values))
        elif last < self.last_date:
            sentences.append(gettext("No actuals yet after {day} (the batch forecasts up to {last}): append the "
                                     "period's sales on Import & manage, or extend the demo.").format(
                day=fmt.date(last), last=fmt.date(self.last_date)))
        if self.missing_series:
            shown = ", ".join(self.missing_series[:5]) + (" …" if len(self.missing_series) > 5 else "")
            n = len(self.missing_series)
            sentences.append(ngettext(
                "{n:,} of {total:,} series has no actual on any date the data has reached (ended, or its sales were "
                "not appended): {shown}.",
                "{n:,} of {total:,} series have no actual on any date the data has reached (ended, or their sales "
                "were not appended): {shown}.", n).format(n=n, total=self.n_series, shown=shown))
        elif not waiting.empty and last is not None:
            gaps = waiting[(waiting["status"] == PARTIAL) & (waiting[SERIES_MISSING] > 0)]
            for row in gaps.itertuples():
                sentences.append(ngettext("{period}: {n:,} of {total:,} series has no actual yet.",
                                          "{period}: {n:,} of {total:,} series have no actual yet.",
                                          row.series_missing).format(period=self.period_label(row.period_start),
                                                                     n=row.series_missing, total=row.series_forecast))
        return sentences

    @property
    def band_sentence(self) -> str:
        """Where the band comes from, in a sentence."""
        weeks = int(self.periods["band_weeks"].max()) if len(self.periods) else 0
        model = fmt.model_name(self.model)
        if not weeks:
            if self.run_name:
                return gettext("No band: the backtest run '{run}' has no scored errors of {model} to compare "
                               "with.").format(run=self.run_name, model=model)
            return gettext("No band: the backtest run {run} (deleted since) has no scored errors of {model} to compare "
                           "with.").format(run=self.run_id, model=model)
        values = {"level": fmt.pct(self.options.band.level, 0), "model": model, "run": self.run_name, "n": weeks,
                  "folds": gettext(", ").join(fmt.pct(v) for _, v in self.fold_wape)}
        if self.freq == Freq.MONTHLY:
            return gettext("Band: the central {level} of the months of {model} in the backtest run '{run}' ({n:,} fold "
                           "months, each resampled to the monitored period's number of series); its folds scored a "
                           "WAPE of {folds}.").format(**values)
        return gettext("Band: the central {level} of the weeks of {model} in the backtest run '{run}' ({n:,} fold "
                       "weeks, each resampled to the monitored period's number of series); its folds scored a WAPE of "
                       "{folds}.").format(**values)

    def money_sentences(self) -> list[str]:
        """The money realised so far against the backtest's promise, and what was not counted."""
        money = self.money
        sentences = []
        realised = self.periods.dropna(subset=[PROFIT]) if PROFIT in self.periods else self.periods.iloc[:0]
        if not realised.empty:
            store_days = float(realised[STORE_DAYS].sum())
            total = float(realised[PROFIT].sum())
            values = {"per_day": fmt.yen(total / store_days), "store_days": fmt.count(store_days),
                      "total": fmt.yen_short(total)}
            if fmt.missing(money.promise):
                sentences.append(gettext("Realised so far: {per_day} profit per store and day over {store_days} "
                                         "store-days ({total} in all).").format(**values))
                return sentences + [str(note) for note in money.notes]
            values |= {"promise": fmt.yen(money.promise), "model": fmt.model_name(self.model)}
            baseline = str(money.baseline_label) if money.baseline_label else ""
            if not fmt.missing(money.baseline_promise) and baseline:
                text = gettext("Realised so far: {per_day} profit per store and day over {store_days} store-days "
                               "({total} in all); the backtest promised {promise} per store and day with {model} "
                               "({baseline_promise} with {baseline}).").format(
                    baseline_promise=fmt.yen(money.baseline_promise), baseline=baseline, **values)
            else:
                text = gettext("Realised so far: {per_day} profit per store and day over {store_days} store-days "
                               "({total} in all); the backtest promised {promise} per store and day with "
                               "{model}.").format(**values)
            scope = (ngettext("The promise is an average over the backtest's weeks and its {n:,} store, not a forecast "
                              "for these weeks or these stores: seasons and store sizes move both figures.",
                              "The promise is an average over the backtest's weeks and its {n:,} stores, not a "
                              "forecast for these weeks or these stores: seasons and store sizes move both figures.",
                              money.promise_stores).format(n=money.promise_stores)
                     if money.promise_stores else
                     gettext("The promise is an average over the backtest's weeks and its stores, not a forecast for "
                             "these weeks or these stores: seasons and store sizes move both figures."))
            sentences.append(together(text, scope))
        return sentences + [str(note) for note in money.notes]

    # -- stored and exported -------------------------------------------------------
    def to_long(self) -> pd.DataFrame:
        """The rows of ``forecast_monitoring`` for this batch (without ``computed_at``):
        dataset_id, version, period_start, measure, value, band_low, band_high, alert."""
        parts = []
        for measure in MEASURES:
            if measure not in self.periods:
                continue
            low = self.periods[f"{measure}_low"] if measure in BANDED else np.nan
            high = self.periods[f"{measure}_high"] if measure in BANDED else np.nan
            alert = self.periods[f"{measure}_alert"] if measure in BANDED else False
            parts.append(pd.DataFrame({
                "dataset_id": self.dataset_id, "version": self.version,
                PERIOD: pd.to_datetime(self.periods[PERIOD]).dt.date, "measure": measure,
                "value": self.periods[measure].astype(float), "band_low": low, "band_high": high,
                "alert": alert,
            }))
        long = pd.concat(parts, ignore_index=True)
        return long.astype({"value": float, "band_low": float, "band_high": float, "alert": bool})

    def to_dict(self) -> dict:
        """Everything for a JSON reader: the batch, its periods (dates as ISO text, missing
        values as null), the alerts and coverage as sentences."""
        columns = [PERIOD, "first_date", "last_date", "status", *(m for m in MEASURES if m in self.periods),
                   "rows_forecast", "dates_forecast",
                   "wape_low", "wape_high", "bias_low", "bias_high", "wape_alert", "wape_below", "bias_alert"]
        records = []
        for row in self.periods[columns].to_dict("records"):
            records.append({k: (None if fmt.missing(v) else pd.Timestamp(v).date().isoformat()
                                if isinstance(v, pd.Timestamp | datetime | date) else
                                v.item() if isinstance(v, np.generic) else v) for k, v in row.items()})
        return {
            "dataset_id": self.dataset_id, "dataset_name": self.dataset_name, "version": self.version,
            "model": self.model, "run_id": self.run_id, "run_name": self.run_name, "freq": self.freq.value,
            "first_date": self.first_date.isoformat(), "last_date": self.last_date.isoformat(),
            "n_series": self.n_series, "data_end": self.data_end.isoformat() if self.data_end else None,
            "last_actual": self.last_actual.isoformat() if self.last_actual else None,
            "band": {"level": self.options.band.level, "resamples": self.options.band.resamples,
                     "seed": self.options.band.seed,
                     "fold_wape": dict(self.fold_wape), "sentence": self.band_sentence},
            "periods": records, "alerts": self.alert_sentences(), "below_band": self.good_news(),
            "coverage": self.coverage_sentences(), "missing_series": list(self.missing_series),
            "money": {"store_column": self.money.store_column, "stores": list(self.money.stores),
                      "promised_profit_per_store_day": None if fmt.missing(self.money.promise) else self.money.promise,
                      "baseline_profit_per_store_day": None if fmt.missing(self.money.baseline_promise)
                      else self.money.baseline_promise, "baseline": self.money.baseline_label or None,
                      "sentences": self.money_sentences()},
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
        }


def band_range(low: float, high: float, signed: bool = False) -> str:
    """``28–35%``, ``−11% to +13%`` (signed), or an en dash when there is no band."""
    if fmt.missing(low) or fmt.missing(high):
        return fmt.MISSING
    if signed:
        return f"{fmt.pct(low, 0, signed=True)} to {fmt.pct(high, 0, signed=True)}"
    return f"{fmt.pct(low, 0)[:-1]}–{fmt.pct(high, 0)}"


# ---------------------------------------------------------------------------------
# Money realised so far
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Money:
    """The money side of a watch: per period the recorded outcomes of the batch's stores
    (``periods``: period_start and ``MONEY_MEASURES`` but the promise), the backtest's promise
    per store and day for the model and for its baseline (yen; NaN when not priced), and
    notes on what could not be counted."""

    periods: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[PERIOD]))
    store_column: str | None = None
    stores: tuple[str, ...] = ()
    promise: float = math.nan  # the model's profit per store and day in the backtest's money impact
    baseline_promise: float = math.nan
    baseline_label: object = ""  # a fact (``Msg``) from the money impact: ``str()`` reads it
    notes: tuple[Msg | str, ...] = ()  # facts: ``str(note)`` reads it in the current language
    promise_stores: int = 0  # the stores of the backtest run the promise is averaged over


@dataclass(frozen=True)
class PilotStores:
    """The treated stores of a project's pilot that order (or ordered) from a batch:
    ``stores`` (key values), the pilot's first and last days, its design."""

    stores: tuple[str, ...]
    start: date
    end: date
    design_id: str

    def label(self, article: str = "the") -> str:
        """``the pilot's treated stores S001, S003`` (``article`` "The" to start a sentence)."""
        return f"{article} pilot's treated stores {', '.join(self.stores)}"


def pilot_stores(warehouse: Warehouse, project_id: str | None, dataset_id: str, version: int) -> PilotStores | None:
    """The treated stores of ``project_id``'s latest pilot design when it is on ``dataset_id``
    and its treated stores order from batch ``version`` (``core.pilot.run.pilot_batch_version``:
    the batch a simulated pilot's rows name, else the newest batch covering the pilot's first
    day); None otherwise (no project, no design, another dataset or batch, a design this
    version cannot read)."""
    from core.pilot.run import pilot_batch_version
    from core.pilot.store import latest_design

    if not project_id:
        return None
    try:
        design = latest_design(warehouse, project_id)
    except MitoshiError:
        return None
    if design is None or design.dataset_id != dataset_id or not design.treated:
        return None
    if pilot_batch_version(warehouse, design) != version:
        return None
    return PilotStores(stores=tuple(design.treated), start=design.start, end=design.end,
                       design_id=str(design.design_id))


def _fact(error: Exception) -> object:
    """An error's message as a fact (its ``Msg`` when it has one)."""
    return error.args[0] if len(error.args) == 1 else str(error)


def money_so_far(warehouse: Warehouse, dataset: Dataset, run_id: str, model: str, rows: pd.DataFrame,
                 options: WatchOptions) -> Money:
    """The recorded profit, waste, lost margin and stockout days of the stores the batch
    covers (``options.stores`` when given), on the days of each period with actuals, from
    ``core.money.outcomes.store_day_outcomes`` (the recorded orders replayed on the shelf,
    priced from the item master or ``options.impact.economics``); and the backtest's promise:
    the model's yearly profit in the run's money impact (``core.money.run_impact``, a shelf
    simulation) per store and day of the run's scope.

    What it cannot see: whether a store ordered from the batch; these are the stores'
    outcomes whatever they ordered. Only daily data that records orders is priced; anything
    else returns a ``Money`` with a note saying why."""
    from core.money.impact import ImpactInputError
    from core.money.run_impact import run_impact
    from core.pilot.design import store_column

    if not options.money:
        return Money()
    if dataset.freq != Freq.DAILY:
        return Money(notes=(M_("Money realised is counted for daily data only (the shelf is replayed day by day)."),))
    covered = rows[rows[ACTUAL].notna()]
    if covered.empty:
        return Money()
    try:
        column = store_column(dataset)
        run = runs.get_run(warehouse, run_id)
    except MitoshiError as error:
        return Money(notes=(M_("Money realised is not counted: {error}", error=_fact(error)),))
    scope = dataset_data(warehouse, dataset, run.scope)
    batch_series = set(rows[SERIES_ID])
    batch_stores = sorted(scope.frame.loc[scope.frame[SERIES_ID].isin(batch_series), column].astype(str).unique())
    stores = tuple(s for s in options.stores if s in batch_stores) if options.stores else tuple(batch_stores)
    if not stores:
        return Money(store_column=column, notes=(M_("None of the stores chosen ({stores}) has series in this batch.",
                                                     stores=", ".join(options.stores)),))
    data = replace(scope, frame=scope.frame[scope.frame[column].astype(str).isin(stores)])
    days = pd.to_datetime(covered[DATE])
    try:
        outcomes = store_day_outcomes(data, warehouse.side_table(dataset, "items"), options.impact.economics,
                                      column, start=days.min(), end=days.max())
    except ImpactInputError as error:
        return Money(store_column=column, stores=stores,
                     notes=(M_("Money realised is not counted: {error}", error=_fact(error)),))
    outcomes = outcomes[outcomes[DATE].isin(set(days))]
    outcomes[PERIOD] = period_starts(outcomes[DATE], dataset.freq)
    grouped = outcomes.groupby(PERIOD)
    periods_frame = grouped[[PROFIT, WASTE_COST, LOST_MARGIN, STOCKOUT_DAYS]].sum(min_count=1)
    periods_frame[STORE_DAYS] = grouped.size()
    periods_frame[PROFIT_PER_STORE_DAY] = periods_frame[PROFIT] / periods_frame[STORE_DAYS]
    notes: list[Msg] = [nM_("Recorded outcomes of {n:,} store ({stores}), whatever they ordered: the batch's money "
                            "shows in them only where the stores ordered from it.",
                            "Recorded outcomes of {n:,} stores ({stores}), whatever they ordered: the batch's money "
                            "shows in them only where the stores ordered from it.", "n", n=len(stores),
                            stores=", ".join(stores[:6]) + (" …" if len(stores) > 6 else ""))]

    promise = baseline = math.nan
    label = ""
    try:
        impact = run_impact(warehouse, run_id, options.impact).impact
    except MitoshiError as error:
        notes.append(M_("The backtest's promise is not priced: {error}", error=_fact(error)))
    else:
        n_stores = scope.frame[column].nunique()
        per_store_day = PERIODS_PER_YEAR[dataset.freq] * n_stores * max(impact.chain_scale, 1e-12)
        summary = impact.summary.set_index("policy")
        if model in summary.index:
            promise = float(summary.loc[model, "yearly_profit"]) / per_store_day
        if impact.baseline in summary.index:
            baseline = float(summary.loc[impact.baseline, "yearly_profit"]) / per_store_day
        label = impact.baseline_label
        notes.append(M_("The promise is the backtest's shelf simulation (its profit also charges holding stock); "
                        "the realised profit is revenue less the cost of what was ordered, as recorded."))
    return Money(periods=periods_frame.reset_index(), store_column=column, stores=stores, promise=promise,
                 baseline_promise=baseline, baseline_label=label, notes=tuple(notes),
                 promise_stores=int(scope.frame[column].nunique()))


# ---------------------------------------------------------------------------------
# Reading the warehouse
# ---------------------------------------------------------------------------------
def _batch_header(warehouse: Warehouse, dataset_id: str, version: int | None) -> pd.Series:
    batches = handoff_store.list_batches(warehouse, dataset_id)
    if batches.empty:
        raise MonitorError(M_("Nothing has been published for this dataset yet: publish a model on the Hand-off page "
                              "first, then watch it here as its actuals arrive."))
    if version is None:
        return batches.sort_values("version").iloc[-1]
    found = batches[batches["version"] == int(version)]
    if found.empty:
        raise MonitorError(M_("Version {version} of this dataset's batch forecasts does not exist; the published "
                              "versions are {versions}.", version=version,
                              versions=", ".join(map(str, sorted(batches["version"])))))
    return found.iloc[0]


def batch_actuals(warehouse: Warehouse, dataset: Dataset, version: int) -> pd.DataFrame:
    """A batch's rows with the dataset's actual of each series and date, as stored now:
    unique_id, ds, step, forecast, order_quantity, actual (NaN where the dataset has none)."""
    return warehouse.query(
        f"""SELECT b.{SERIES_ID}, b.{DATE}, b.{STEP}, b.{FORECAST}, b.{ORDER_QUANTITY}, o.{TARGET} AS {ACTUAL}
            FROM batch_forecasts b
            LEFT JOIN {dataset.table_name} o ON o.{SERIES_ID} = b.{SERIES_ID} AND o.{DATE} = b.{DATE}
            WHERE b.dataset_id = ? AND b.version = ?
            ORDER BY b.{SERIES_ID}, b.{DATE}""",
        [dataset.dataset_id, int(version)],
    )


def _backtest_errors(warehouse: Warehouse, run_id: str, model: str, series: set[str]) -> pd.DataFrame:
    """The model's scored rows in the run, on the batch's series (all the run's when it
    shares none of them); empty when the run was deleted."""
    forecasts = runs.run_forecasts(warehouse, run_id)
    mine = forecasts[forecasts["model"] == model]
    shared = mine[mine[SERIES_ID].isin(series)]
    return shared if not shared.empty else mine


def _fold_wape(warehouse: Warehouse, run_id: str, model: str) -> tuple[tuple[str, float], ...]:
    folds = runs.run_metrics(warehouse, run_id, level="fold")
    mine = folds[(folds["model"] == model) & (folds["metric"] == "wape")].sort_values("group")
    return tuple((str(g), float(v)) for g, v in zip(mine["group"], mine["value"], strict=True) if not fmt.missing(v))


def watch_batch(warehouse: Warehouse, dataset_id: str, version: int | None = None,
                options: WatchOptions = WatchOptions()) -> BatchWatch:
    """One batch (the newest when ``version`` is None) against the dataset's actuals now.

    Reads the batch, the dataset's rows on its series and dates, and the backtest run's
    errors of the batch's model, and prices the money realised (``money_so_far``, unless
    ``options.money`` is off); writes nothing (``monitor_batch`` stores the result).
    Raises ``MonitorError`` when the dataset has no such batch, and
    ``DatasetNotFoundError`` when the dataset is gone.
    """
    dataset = warehouse.get_dataset(dataset_id)
    header = _batch_header(warehouse, dataset_id, version)
    version, model, run_id = int(header["version"]), str(header["model"]), str(header["run_id"])
    rows = batch_actuals(warehouse, dataset, version)
    measured = measure_periods(rows, dataset.freq)
    covered = rows[rows[ACTUAL].notna()].assign(**{DATE: lambda f: pd.to_datetime(f[DATE])})
    covered[PERIOD] = period_starts(covered[DATE], dataset.freq)
    last_actual = covered.groupby(PERIOD)[DATE].max()
    measured["last_actual"] = pd.to_datetime(last_actual.reindex(measured[PERIOD]).to_numpy())

    backtest = _backtest_errors(warehouse, run_id, model, set(rows[SERIES_ID]))
    bands: dict[tuple[int, frozenset[int] | None], Band] = {}
    found = []
    for row in measured.itertuples():
        part = covered[covered[PERIOD] == row.period_start]
        weekdays = frozenset(part[DATE].dt.day_of_week) if dataset.freq == Freq.DAILY else None
        key = (int(row.series), weekdays)
        if key not in bands:
            bands[key] = error_band(backtest, dataset.freq, int(row.series), weekdays, options.band)
        found.append(bands[key])
    measured["wape_low"] = [b.wape_low for b in found]
    measured["wape_high"] = [b.wape_high for b in found]
    measured["bias_low"] = [b.bias_low for b in found]
    measured["bias_high"] = [b.bias_high for b in found]
    measured["band_weeks"] = [b.weeks for b in found]
    judged = judge(measured)
    money = money_so_far(warehouse, dataset, run_id, model, rows, options)
    if not money.periods.empty:
        judged = judged.merge(money.periods, on=PERIOD, how="left")
        judged[PROMISE_PER_STORE_DAY] = money.promise

    # Series with no actual on any date up to the dataset's last date: ended, or not appended.
    data_end = pd.Timestamp(dataset.end_date) if dataset.end_date else None
    reached = rows[pd.to_datetime(rows[DATE]) <= data_end] if data_end is not None else rows.iloc[:0]
    with_actual = set(reached.loc[reached[ACTUAL].notna(), SERIES_ID])
    missing = tuple(sorted(set(reached[SERIES_ID]) - with_actual))
    return BatchWatch(
        dataset_id=dataset_id, dataset_name=dataset.name, version=version, model=model, run_id=run_id,
        run_name=None if fmt.missing(header["run_name"]) else str(header["run_name"]), freq=dataset.freq,
        first_date=pd.Timestamp(header["first_date"]).date(), last_date=pd.Timestamp(header["last_date"]).date(),
        n_series=int(rows[SERIES_ID].nunique()), data_end=dataset.end_date, periods=judged,
        missing_series=missing if with_actual else (), fold_wape=_fold_wape(warehouse, run_id, model),
        options=options, money=money,
    )


# ---------------------------------------------------------------------------------
# Storing
# ---------------------------------------------------------------------------------
def save_watch(warehouse: Warehouse, watch: BatchWatch) -> BatchWatch:
    """Replace the batch's rows in ``forecast_monitoring`` with ``watch``'s, in one
    transaction (a failure leaves the old rows); returns ``watch`` with its ``computed_at``."""
    long = watch.to_long()
    view = f"incoming_monitoring_{watch.dataset_id}_{watch.version}"
    with warehouse.transaction() as cur:
        cur.execute("DELETE FROM forecast_monitoring WHERE dataset_id = ? AND version = ?",
                    [watch.dataset_id, watch.version])
        cur.register(view, long)
        cur.execute(
            f"""INSERT INTO forecast_monitoring (dataset_id, version, period_start, measure, value, band_low,
                    band_high, alert, computed_at)
                SELECT dataset_id, version, CAST(period_start AS DATE), measure, value, band_low, band_high, alert,
                       now()
                FROM {view}""")
        computed = cur.execute("SELECT max(computed_at) FROM forecast_monitoring WHERE dataset_id = ? AND version = ?",
                               [watch.dataset_id, watch.version]).fetchone()[0]
    return replace(watch, computed_at=computed)


def monitor_batch(warehouse: Warehouse, dataset_id: str, version: int | None = None,
                  options: WatchOptions = WatchOptions()) -> BatchWatch:
    """``watch_batch`` and ``save_watch``: the batch measured now and stored."""
    return save_watch(warehouse, watch_batch(warehouse, dataset_id, version, options))


def stored_monitoring(warehouse: Warehouse, dataset_id: str | None = None,
                      version: int | None = None) -> pd.DataFrame:
    """The stored rows of ``forecast_monitoring`` (of a dataset, of one of its versions),
    by dataset, version, period and measure."""
    where, params = [], []
    if dataset_id is not None:
        where.append("dataset_id = ?")
        params.append(dataset_id)
    if version is not None:
        where.append("version = ?")
        params.append(int(version))
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return warehouse.query(
        f"""SELECT dataset_id, version, period_start, measure, value, band_low, band_high, alert, computed_at
            FROM forecast_monitoring {clause}
            ORDER BY dataset_id, version, period_start, measure""", params)


def watched_datasets(warehouse: Warehouse) -> list[Dataset]:
    """The datasets with at least one published batch, in the registry's order."""
    published = set(handoff_store.list_batches(warehouse)["dataset_id"])
    return [d for d in warehouse.list_datasets() if d.dataset_id in published]


# ---------------------------------------------------------------------------------
# The command line: ``python -m core.pilot monitor`` (``add_monitor`` on its subparsers)
# ---------------------------------------------------------------------------------
def add_monitor(commands, parents: list) -> None:
    """The ``monitor`` command on ``python -m core.pilot``'s subparsers (``parents``: the
    options every command takes, ``--warehouse`` and ``--json``)."""
    m = commands.add_parser(
        "monitor", parents=parents, help="watch a published batch against the actuals appended since",
        description="Measure a published batch's WAPE, bias and MAE week by week against the actuals appended "
                    "since, with the backtest's band and the money realised; store the result in "
                    "forecast_monitoring.")
    m.add_argument("--dataset", required=True, help="the dataset's name or id")
    m.add_argument("--version", type=int, default=None, help="the batch's version (default: the newest)")
    m.add_argument("--stores", default="", metavar="S1,S2",
                   help="the stores that ordered from the batch, for the money (default: every store of the batch)")
    m.add_argument("--no-money", action="store_true", help="skip the money realised (errors only, faster)")
    m.add_argument("--fail-on-alert", action="store_true", help="exit with code 1 when a week alerts")
    m.set_defaults(handler=run_monitor)


def run_monitor(warehouse: Warehouse, args, write: Callable[[str], None] = print) -> int:
    """``monitor --dataset NAME|ID [--version N] [--stores S1,S2] [--no-money] [--json]
    [--fail-on-alert]``: measure the batch, store the result, print it (a summary, or the
    JSON of ``BatchWatch.to_dict``). Returns the exit code: 0, or 1 when a week alerts and
    ``--fail-on-alert`` was given (a scheduler can act on it). Raises ``MitoshiError`` with
    a message for the person on bad input."""
    import json

    dataset = warehouse.find_dataset(args.dataset) or next(
        (d for d in warehouse.list_datasets() if d.dataset_id == args.dataset), None)
    if dataset is None:
        names = ", ".join(f"'{d.name}'" for d in watched_datasets(warehouse)) or "none"
        raise WarehouseError(f"No dataset called '{args.dataset}'. Datasets with published batches: {names}.")
    stores = tuple(s.strip() for s in (getattr(args, "stores", "") or "").split(",") if s.strip())
    options = WatchOptions(money=not getattr(args, "no_money", False), stores=stores)
    watch = monitor_batch(warehouse, dataset.dataset_id, args.version, options)
    if getattr(args, "json", False):
        write(json.dumps(watch.to_dict(), indent=2, ensure_ascii=False))
    else:
        write(summary_text(watch))
    return 1 if getattr(args, "fail_on_alert", False) and watch.alert_sentences() else 0


def summary_text(watch: BatchWatch) -> str:
    """The watch as lines of text: the batch, one line per period, alerts and coverage."""
    lines = [f"{watch.dataset_name} · version {watch.version} · {fmt.model_name(watch.model)} · forecasts "
             f"{watch.first_date:%Y-%m-%d} to {watch.last_date:%Y-%m-%d} · {watch.n_series:,} series",
             watch.band_sentence]
    for row in watch.periods.itertuples():
        if row.status == WAITING:
            lines.append(f"  {watch.period_label(row.period_start)}: no actuals yet")
            continue
        lines.append(f"  {watch.period_label(row.period_start)}: WAPE {fmt.pct(row.wape)} (band "
                     f"{band_range(row.wape_low, row.wape_high)}), bias {fmt.pct(row.bias, signed=True)}, MAE "
                     f"{fmt.number(row.mae, 2)}, {row.series:,} of {row.series_forecast:,} series, "
                     f"{row.dates:,} of {row.dates_forecast:,} {periods.period_noun(watch.freq, plural=True)}")
    lines += [f"ALERT {s}" for s in watch.alert_sentences()]
    lines += watch.good_news() + watch.coverage_sentences() + watch.money_sentences()
    return "\n".join(lines)
