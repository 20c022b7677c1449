"""The pilot's readout: difference-in-differences of treated against control stores, pre
against during the pilot, on each store's daily outcomes in yen
(``core.money.outcomes.store_day_outcomes``).

**The estimate.** For a measure y (profit, waste cost, lost margin, stockout days, per
store and day) the model is the two-way fixed-effects panel

    y[store, day] = store effect + day effect + beta x treated x during + noise,

and beta, the effect of ordering from the forecast on one treated store on one day, is
fitted by OLS. On a balanced panel (every store has every day) with one start date,
beta is exactly the difference of the stores' mean changes:

    beta = mean over treated stores of (mean during - mean before)
         - mean over control stores of (mean during - mean before),

so the readout fits it on the stores' changes (one row per store: change ~ 1 + treated,
statsmodels OLS), which is the same number as the panel fit
(``tests/test_pilot_readout.py`` checks it against statsmodels' panel OLS).

**The interval** comes from the store-level regression's classical variance, t with
G - 2 degrees of freedom (G stores): the collapsed estimator Bertrand, Duflo &
Mullainathan (2004, "How much should we trust differences-in-differences estimates?")
recommend with few clusters. Collapsing each store's days into one change makes the
inference robust to any correlation of a store's days (weekly patterns, AR noise, a slow
drift), and the common day effects (weather, holidays, chain promotions) cancel in the
difference. It was chosen by measurement (``benchmarks/validate_pilot_coverage.py``: simulated
pilots on a synthetic chain with a known effect, 1,000 or 2,000 per configuration): its
95 % interval covered the truth in 93.6-96.3 % of pilots (Monte Carlo error ±1.4 %) with
2, 3 or 5 of 10 stores treated and 10 of 100, for 28- and 56-day pilots, with an effect
constant across stores or proportional to their size. The panel fit's interval
clustered by store (CR1, t with G - 1 df) covered only 84-86 % with 2 treated stores and
91-93 % with 3: it estimates the treated stores' variance from those two or three alone
(Cameron, Gelbach & Miller 2008, "Bootstrap-based improvements for inference with
clustered errors"; MacKinnon & Webb 2017, "Wild bootstrap inference for wildly different
cluster sizes"). Welch's unequal-variance t covered 90-93 % with 2 treated stores; a
wild cluster restricted bootstrap (Webb weights) 99.3-99.7 % with 2 (intervals too wide)
and 93-95 % with 3.

Assumptions, in plain words: without the pilot, treated and control stores would have
moved together (parallel trends: the pre-trend check reads a placebo pilot in the
pre-period); stores are independent of each other once the chain's common days are
removed; the stores' changes share one spread. The validation's stores differ in size
about 3x and their noise grows with size, and the interval still covered; but when the
treated stores are the chain's largest and the effect grows with size it covered 88-92 %
(the stress rows of the validation): choose treated stores across sizes, not only the
largest. A store is summed over the same series before and during the pilot: a series
that appears or ends in between would move its average with nothing done, so the
outcomes are read on each store's series present throughout
(``core.money.outcomes.store_day_outcomes(..., balanced=True)``; a note lists the
series left out per store).

**Lost-sales margin has no interval.** The margin of the demand a stockout turned away
is not measured: demand on a stockout day is not observed, so ``core.money.outcomes``
estimates it (the recent same-weekday sales, lifted above what sold out, as the money
impact does). On demo chains, where the simulation knows the true demand
(``benchmarks/validate_pilot_coverage.py --seeds 0 --demo 40``: 40 pilots each of 28 days
ordering more than today's practice, 28 days ordering less, 14 days ordering more), the
difference-in-differences of that estimate was 0.36, 0.50 and 0.45 of the true effect on
average, and its interval covered the truth in 22 %, 0 % and 38 % of pilots; profit,
waste cost and stockout days, which are measured (waste is replayed from the recorded
orders and sales, stockout days are counted), covered it in 98/98/98 %, 98/100/98 % and
98/98/90 % (±7 % with 40 pilots). So the readout gives the
lost margin's estimate as an estimate only: no interval, no p-value, no per-store
interval; it is left out of the online evidence the decision reads (no better/worse
reading, no criterion), and the readout's notes say so (``NO_INTERVAL``).

**Per store**: a treated store's own change less the control stores' mean change; its
interval uses the control stores' spread of changes as the spread of one store's
(s_C x sqrt(1 + 1/n_C), t with n_C - 1 df), the idea of Conley & Taber (2011) for
inference with few treated groups.

**Scaled to the chain**: the effect per store-day x 365 days x the chain's stores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial

import numpy as np
import pandas as pd

from core import fmt
from core.columns import DATE
from core.errors import MitoshiError
from core.i18n import M_, N_, Fmt, Msg, from_json, nM_, to_json
from core.money.outcomes import SERIES_BALANCE, STORE
from core.pilot.evidence import (
    DAYS_PER_YEAR,
    GOOD_DIRECTION,
    LOST_MARGIN,
    MEASURE_LABELS,
    MEASURES,
    PROFIT,
    READ,
    Estimate,
    OnlineEvidence,
)

MIN_PRE_DAYS = 14
# Stored with every readout (``PilotReadout.method``); an English catalog message: show it with ``gettext``.
METHOD = N_("difference-in-differences of the stores' mean changes (two-way fixed effects, collapsed per store), "
            "classical interval with t on G − 2 degrees of freedom")
MEASURE_NAMES = MEASURE_LABELS  # the one label map, core.pilot.evidence's (English: show with measure_label)
# Measures estimated from what is not observed: read as an estimate, without an interval
# or p-value, and left out of the decision's evidence (see the module's docstring).
NO_INTERVAL = {LOST_MARGIN: N_("estimated from the demand on stockout days, which is not observed: no interval")}
NO_INTERVAL_NOTE = M_(
    "Lost-sales margin is estimated from the demand on stockout days, which is not observed (the recent "
    "same-weekday sales, lifted above what sold out): on simulated pilots this estimate of the change was a third "
    "to a half of the true change, so it is shown without an interval or p-value and is not read as better or worse; "
    "the decision does not read it. Stockout item-days, which are counted, say whether empty shelves grew rarer.")


class ReadoutInputError(MitoshiError):
    """The pilot cannot be read out as asked; the message says what to give. ``stores``:
    the stores a refusal names because they miss days or rows (the page offers to leave
    them out)."""

    def __init__(self, message: object, stores: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.stores = tuple(stores)


# TRANSLATORS: what separates the items of a list in a sentence ("S001 (2 of 42), S003 (1 of 42)").
LIST_SEPARATOR = N_(", ")


def joined_list(items: Sequence[object]) -> Msg | object:
    """Items (names or facts) as one list, as a fact: ``a, b, c`` (``a、b、c`` in Japanese)."""
    items = list(items)
    if len(items) == 1:
        return items[0]
    return Msg("{sep}".join(f"{{p{i}}}" for i in range(len(items))),
               {"sep": Msg(LIST_SEPARATOR), **{f"p{i}": item for i, item in enumerate(items)}})


def names_text(stores: Sequence[str]) -> Msg | str:
    """Stores named in a sentence, as a fact: ``S001``, ``S001 and S002``, ``S001, S002 and
    S003``."""
    stores = [str(s) for s in stores]
    if len(stores) <= 1:
        return stores[0] if stores else ""
    return M_("{names} and {last}", names=joined_list(stores[:-1]), last=stores[-1])


def joined(messages: Sequence[object]) -> Msg | object:
    """Several sentences (facts) as one message, each rendered in the language of the
    moment, separated by a space."""
    messages = list(messages)
    if len(messages) == 1:
        return messages[0]
    return Msg(" ".join(f"{{p{i}}}" for i in range(len(messages))), {f"p{i}": m for i, m in enumerate(messages)})


@dataclass(frozen=True)
class DidFit:
    """One difference-in-differences estimate: ``estimate`` per store-day (the measure's
    unit), its standard error, the interval [``low``, ``high``] at the level asked, the
    two-sided p-value of no effect, and the t's degrees of freedom."""

    estimate: float
    se: float
    low: float
    high: float
    p_value: float
    df: float


def did_fit(changes: np.ndarray, treated: np.ndarray, level: float = 0.95) -> DidFit:
    """The difference-in-differences estimate from each store's change.

    ``changes`` (stores,): a store's mean during the pilot less its mean before;
    ``treated`` (stores,) bool. OLS of change ~ 1 + treated (statsmodels), classical
    variance, t with G - 2 df (see the module's docstring for why). Needs at least one
    store in each group and three in all.
    """
    import statsmodels.api as sm  # statsmodels takes a second to import: not on opening a page

    changes = np.asarray(changes, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    if treated.all() or not treated.any() or len(changes) < 3:
        raise ReadoutInputError(M_("A difference-in-differences needs treated and control stores, three at least."))
    fit = sm.OLS(changes, np.column_stack([np.ones(len(changes)), treated.astype(float)])).fit()
    estimate, se = float(fit.params[1]), float(fit.bse[1])
    tiny = 1e-9 * max(1.0, float(np.abs(changes).max()))  # rounding, not a difference
    if not se > tiny:  # every store in a group changed alike: no spread to measure
        if abs(estimate) <= tiny:
            return DidFit(0.0, 0.0, 0.0, 0.0, 1.0, float(fit.df_resid))
        return DidFit(estimate, 0.0, estimate, estimate, 0.0, float(fit.df_resid))
    low, high = (float(v) for v in fit.conf_int(alpha=1 - level)[1])
    return DidFit(estimate, se, low, high, float(fit.pvalues[1]), float(fit.df_resid))


def store_fits(changes: np.ndarray, treated: np.ndarray, level: float = 0.95) -> list[DidFit]:
    """Each treated store's own difference-in-differences against the control mean, in
    the order of the treated stores: its change less the control stores' mean change,
    the interval from the control stores' spread (s_C x sqrt(1 + 1/n_C), t with n_C - 1
    df). Needs two control stores."""
    # Student's t from scipy.special (what scipy.stats.t's ppf and sf call; the same values):
    # scipy.stats takes most of a second to import, which a printed report would pay.
    from scipy.special import stdtr, stdtrit

    changes = np.asarray(changes, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    control = changes[~treated]
    if len(control) < 2:
        raise ReadoutInputError(M_("A treated store's own effect needs two control stores to measure the spread."))
    df = len(control) - 1
    se = float(control.std(ddof=1) * math.sqrt(1 + 1 / len(control)))
    q = float(stdtrit(df, 0.5 + level / 2))
    fits = []
    for value in changes[treated] - control.mean():
        p = float(2 * stdtr(df, -abs(value) / se)) if se > 0 else (1.0 if value == 0 else 0.0)
        fits.append(DidFit(float(value), se, float(value - q * se), float(value + q * se), p, float(df)))
    return fits


@dataclass(frozen=True)
class PilotReadout:
    """A pilot read out.

    ``overall``: one row per measure — measure, per_store_day (the measure's unit per
    treated store and day), se, low, high (per store-day), yearly, yearly_low,
    yearly_high (× 365 × ``chain_stores``), p_value, df. ``per_store``: one row per
    treated store and measure — store, measure, per_store_day, low, high, p_value,
    yearly (× 365, one store). ``balance``: per measure the treated and control stores'
    mean per store-day before the pilot and their difference. ``pre_trend``: per measure
    the difference-in-differences of a placebo pilot in the pre-period (its second half
    against its first), per_store_day, low, high, p_value: an interval far from 0 says
    the stores did not move together before the pilot. A ``NO_INTERVAL`` measure (lost-sales
    margin) has its estimates only: se, low, high, their yearly bounds and p_value are NaN
    in every table.
    """

    overall: pd.DataFrame
    per_store: pd.DataFrame
    balance: pd.DataFrame
    pre_trend: pd.DataFrame
    treated: tuple[str, ...]
    control: tuple[str, ...]
    pre: tuple[date, date]  # first and last day of the pre-period read
    during: tuple[date, date]  # first and last day of the pilot read
    chain_stores: int
    level: float = 0.95
    method: str = METHOD
    notes: tuple[Msg | str, ...] = field(default_factory=tuple)  # facts (a readout stored before: English text)

    @property
    def pilot_days(self) -> int:
        return (self.during[1] - self.during[0]).days + 1

    def estimate(self, measure: str) -> Estimate | None:
        rows = self.overall[self.overall["measure"] == measure]
        if rows.empty:
            return None
        row = rows.iloc[0]
        return Estimate(measure=measure, per_store_day=float(row["per_store_day"]), yearly=float(row["yearly"]),
                        low=float(row["yearly_low"]), high=float(row["yearly_high"]), p_value=float(row["p_value"]),
                        level=self.level)

    @property
    def pre_trend_ok(self) -> bool:
        """The placebo pilot's profit interval contains 0: the stores moved together before."""
        rows = self.pre_trend[self.pre_trend["measure"] == PROFIT]
        return rows.empty or bool((rows["low"] <= 0).iloc[0] and (rows["high"] >= 0).iloc[0])

    def to_evidence(self, design_id: str | None = None, readout_id: str | None = None, dataset_id: str | None = None,
                    store_column: str | None = None, offline_yearly_savings: float | None = None,
                    offline_model: str | None = None, batch_version: int | None = None) -> OnlineEvidence:
        """The readout as the decision reads it (status READ): the estimates with an
        interval only (``NO_INTERVAL`` measures are left out; the notes say why)."""
        return OnlineEvidence(
            status=READ, design_id=design_id, readout_id=readout_id, dataset_id=dataset_id, store_column=store_column,
            treated=self.treated, control=self.control, start=self.during[0], end=self.during[1],
            chain_stores=self.chain_stores,
            estimates=tuple(e for e in (self.estimate(m) for m in MEASURES if m not in NO_INTERVAL) if e is not None),
            offline_yearly_savings=offline_yearly_savings, offline_model=offline_model, batch_version=batch_version,
            notes=self.notes)

    def to_dict(self) -> dict:
        """JSON-ready (the inverse of ``from_dict``)."""
        def records(frame: pd.DataFrame) -> list[dict]:
            return [{k: (None if fmt.missing(v) else v) for k, v in r.items()} for r in frame.to_dict("records")]
        return {"overall": records(self.overall), "per_store": records(self.per_store),
                "balance": records(self.balance), "pre_trend": records(self.pre_trend),
                "treated": list(self.treated), "control": list(self.control),
                "pre": [d.isoformat() for d in self.pre], "during": [d.isoformat() for d in self.during],
                "chain_stores": self.chain_stores, "level": self.level, "method": self.method,
                "notes": [to_json(n) for n in self.notes]}

    @classmethod
    def from_dict(cls, values: dict) -> PilotReadout:
        def frame(key: str) -> pd.DataFrame:
            return pd.DataFrame.from_records(values.get(key, [])).astype(
                {c: float for c in ("per_store_day", "se", "low", "high", "yearly", "yearly_low", "yearly_high",
                                    "p_value", "df", "treated_mean", "control_mean", "difference")
                 if c in {k for r in values.get(key, []) for k in r}})
        return cls(overall=frame("overall"), per_store=frame("per_store"), balance=frame("balance"),
                   pre_trend=frame("pre_trend"), treated=tuple(values["treated"]), control=tuple(values["control"]),
                   pre=tuple(date.fromisoformat(d) for d in values["pre"]),
                   during=tuple(date.fromisoformat(d) for d in values["during"]),
                   chain_stores=int(values["chain_stores"]), level=float(values.get("level", 0.95)),
                   method=values.get("method", METHOD),
                   notes=tuple(from_json(n) for n in values.get("notes", ())))  # old rows: plain English


def _day(value: object) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def read_out(outcomes: pd.DataFrame, treated: Sequence[str], control: Sequence[str],
             pre: tuple[object, object], during: tuple[object, object], chain_stores: int,
             level: float = 0.95) -> PilotReadout:
    """Read a pilot out: the difference-in-differences of every measure of
    ``core.pilot.evidence.MEASURES`` that ``outcomes`` has (one row per store and day:
    ``store``, ``ds`` and the measures, as ``store_day_outcomes`` makes them).

    ``treated`` and ``control`` name stores; ``pre`` and ``during`` are (first, last)
    days, inclusive, of the pre-period and of the pilot (days after the data's last are
    not read: a running pilot is read on its days so far); ``chain_stores`` the stores
    yearly effects are scaled to; ``level`` the intervals' confidence (0.95). See the
    module's docstring for the estimator and its assumptions. Measures of ``NO_INTERVAL``
    (lost-sales margin, estimated from unobserved demand) are estimated without interval
    or p-value, and a note says so. Outcomes made with ``store_day_outcomes(...,
    balanced=True)`` (each store on the series present throughout both periods) carry
    which series were left out; a note says how many, in which stores.

    Raises ``ReadoutInputError`` when no treated or no control store is in the data, a
    store is both, the pilot has no day in the data, the pre-period is shorter than the
    pilot or than ``MIN_PRE_DAYS`` days or overlaps it, or a store misses days.
    """
    if not 0.5 <= level < 1:
        raise ReadoutInputError(M_("The confidence level must be between 50 % and 100 % (got {level}).", level=level))
    if chain_stores < 1:
        raise ReadoutInputError(M_("The chain must have at least one store to scale the yearly effect to."))
    treated, control = tuple(dict.fromkeys(map(str, treated))), tuple(dict.fromkeys(map(str, control)))
    both = sorted(set(treated) & set(control))
    if both:
        raise ReadoutInputError(M_("{stores} cannot be both treated and control: choose one group for each store.",
                                   stores=names_text(both)))
    pre_start, pre_end = map(_day, pre)
    start, end = map(_day, during)
    if pre_start > pre_end or start > end:
        raise ReadoutInputError(M_("A period's first day must come before its last day."))
    if pre_end >= start:
        raise ReadoutInputError(M_("The pre-period must end before the pilot starts ({start}); it ends on {end}.",
                                   start=Fmt("date", start.date().isoformat()),
                                   end=Fmt("date", pre_end.date().isoformat())))
    series_balance = outcomes.attrs.get(SERIES_BALANCE)  # set by store_day_outcomes(..., balanced=True)
    frame = outcomes.assign(**{STORE: outcomes[STORE].astype(str), DATE: pd.to_datetime(outcomes[DATE])})
    present = set(frame[STORE])
    for group, names in (("treated", treated), ("control", control)):
        if not names:
            raise ReadoutInputError(
                M_("The pilot has no treated store: a difference-in-differences compares treated stores with control "
                   "stores.") if group == "treated" else
                M_("The pilot has no control store: a difference-in-differences compares treated stores with control "
                   "stores."))
        if not set(names) & present:
            raise ReadoutInputError(
                M_("None of the treated stores ({stores}) is in the data: check the store names, or append the "
                   "pilot's rows.", stores=names_text(names)) if group == "treated" else
                M_("None of the control stores ({stores}) is in the data: check the store names, or append the "
                   "pilot's rows.", stores=names_text(names)))
    missing_stores = [s for s in (*treated, *control) if s not in present]
    if missing_stores:
        raise ReadoutInputError(
            nM_("{stores} is not in the data: append their rows, or leave them out of the pilot.",
                "{stores} are not in the data: append their rows, or leave them out of the pilot.", "n",
                stores=names_text(missing_stores), n=len(missing_stores)),
            stores=tuple(missing_stores))
    if len(treated) + len(control) < 3:
        raise ReadoutInputError(M_("A difference-in-differences with an interval needs three stores at least (one "
                                   "treated and two control, or two and one)."))
    stores = (*treated, *control)
    frame = frame[frame[STORE].isin(stores)]
    during_days = pd.DatetimeIndex(sorted(frame.loc[frame[DATE].between(start, end), DATE].unique()))
    if during_days.empty:
        last = frame[DATE].max()
        raise ReadoutInputError(M_("The data has no day of the pilot yet (it starts on {start}; the data ends on "
                                   "{end}): append the pilot's rows first.",
                                   start=Fmt("date", start.date().isoformat()),
                                   end=Fmt("date", last.date().isoformat())))
    pre_days = pd.DatetimeIndex(sorted(frame.loc[frame[DATE].between(pre_start, pre_end), DATE].unique()))
    needed = max(MIN_PRE_DAYS, len(during_days))
    if len(pre_days) < needed:
        raise ReadoutInputError(M_(
            "The pre-period has {n} days of data, fewer than the {needed} needed (at least as many as the pilot's "
            "{pilot} and at least {least}): start it earlier.", n=len(pre_days), needed=needed,
            pilot=len(during_days), least=MIN_PRE_DAYS))
    days = pre_days.append(during_days)
    frame = frame[frame[DATE].isin(days)]
    counts = frame.groupby(STORE).size().reindex(list(stores), fill_value=0)
    short = counts[counts < len(days)]
    if not short.empty or frame.duplicated([STORE, DATE]).any():
        if short.empty:
            raise ReadoutInputError(M_("Every store needs one row for every day read; some rows are duplicated. "
                                       "Merge them (one row per store, series and day)."))
        detail = joined_list([M_("{store} ({n} of {days})", store=s, n=len(days) - n, days=len(days))
                              for s, n in short.items()])
        raise ReadoutInputError(M_("Every store needs one row for every day read; days are missing for {detail}. "
                                   "Append the missing days, or leave those stores out.", detail=detail),
                                stores=tuple(short.index))

    is_treated = np.array([s in treated for s in stores])
    measures = [m for m in MEASURES if m in frame.columns and frame[m].notna().any()]
    notes: list[Msg | str] = [M_("{measure} is not recorded in this data, so it is not read.",
                                 measure=Msg(MEASURE_NAMES[m])) for m in MEASURES if m not in measures]
    scale = DAYS_PER_YEAR * chain_stores
    overall, per_store, balance, pre_trend = [], [], [], []
    half = len(pre_days) // 2
    placebo_before, placebo_after = pre_days[len(pre_days) - 2 * half:len(pre_days) - half], pre_days[-half:]
    for measure in measures:
        wide = frame.pivot(index=DATE, columns=STORE, values=measure).reindex(columns=list(stores)).fillna(0.0)
        before, after = wide.loc[pre_days].mean(), wide.loc[during_days].mean()
        changes = (after - before).to_numpy()
        fit = _shown(measure, did_fit(changes, is_treated, level))
        overall.append({"measure": measure, "per_store_day": fit.estimate, "se": fit.se, "low": fit.low,
                        "high": fit.high, "yearly": fit.estimate * scale, "yearly_low": fit.low * scale,
                        "yearly_high": fit.high * scale, "p_value": fit.p_value, "df": fit.df})
        if (~is_treated).sum() >= 2:
            for store, own in zip(treated, map(partial(_shown, measure), store_fits(changes, is_treated, level)),
                                  strict=True):
                per_store.append({STORE: store, "measure": measure, "per_store_day": own.estimate, "low": own.low,
                                  "high": own.high, "p_value": own.p_value, "yearly": own.estimate * DAYS_PER_YEAR})
        treated_mean, control_mean = float(before[is_treated].mean()), float(before[~is_treated].mean())
        balance.append({"measure": measure, "treated_mean": treated_mean, "control_mean": control_mean,
                        "difference": treated_mean - control_mean})
        placebo = _shown(measure, did_fit((wide.loc[placebo_after].mean() - wide.loc[placebo_before].mean()).to_numpy(),
                                          is_treated, level))
        pre_trend.append({"measure": measure, "per_store_day": placebo.estimate, "low": placebo.low,
                          "high": placebo.high, "p_value": placebo.p_value})
    if any(m in NO_INTERVAL for m in measures):
        notes.append(NO_INTERVAL_NOTE)
    series_note = series_balance.note(stores) if series_balance is not None else None
    if series_note:
        notes.append(series_note)
    if (~is_treated).sum() < 2:
        notes.append(M_("With one control store no treated store's own effect can be given an interval."))
    readout = PilotReadout(
        overall=pd.DataFrame(overall), per_store=pd.DataFrame(per_store, columns=[
            STORE, "measure", "per_store_day", "low", "high", "p_value", "yearly"]),
        balance=pd.DataFrame(balance), pre_trend=pd.DataFrame(pre_trend), treated=treated, control=control,
        pre=(pre_days[0].date(), pre_days[-1].date()), during=(during_days[0].date(), during_days[-1].date()),
        chain_stores=int(chain_stores), level=level, notes=tuple(notes))
    if not readout.pre_trend_ok:
        readout = PilotReadout(**{**readout.__dict__, "notes": (*readout.notes, M_(
            "Before the pilot the treated stores' profit already moved apart from the control stores' (a placebo "
            "pilot in the pre-period finds an effect): the difference-in-differences may mistake that trend for the "
            "forecast's effect."))})
    return readout


def _shown(measure: str, fit: DidFit) -> DidFit:
    """The fit as the readout gives it: a ``NO_INTERVAL`` measure keeps its estimate only
    (se, bounds and p-value NaN)."""
    if measure not in NO_INTERVAL:
        return fit
    return DidFit(fit.estimate, math.nan, math.nan, math.nan, math.nan, fit.df)


def interval_message(low: float, high: float) -> Msg:
    """``¥6.00M–¥22.0M``; ``−¥2.00M to ¥22.0M`` when a bound is negative (a dash would
    read as a minus); ``600万円〜2,200万円`` in Japanese. A fact: rendered when shown."""
    bounds = {"low": Fmt("yen_short", float(low)), "high": Fmt("yen_short", float(high))}
    return M_("{low}–{high}", **bounds) if low >= 0 else M_("{low} to {high}", **bounds)


def interval_text(low: float, high: float) -> str:
    """``interval_message`` in the current language."""
    return str(interval_message(low, high))


def _level(level: float) -> Fmt:
    return Fmt("pct", float(level), {"digits": 0})


def promise_message(measured: Estimate, offline_yearly: float | None = None) -> Msg:
    """The offline promise beside the online measurement, for people (yearly, for the
    whole chain), as a fact: ``The backtest said ¥19.0M a year; the pilot measured ¥14.0M
    (95% interval ¥6.00M–¥22.0M).`` Without an offline figure: ``The pilot measured
    ¥14.0M a year (95% interval ¥6.00M–¥22.0M).``"""
    values = {"measured": Fmt("yen_short", float(measured.yearly)), "level": _level(measured.level),
              "interval": interval_message(measured.low, measured.high)}
    if offline_yearly is None or fmt.missing(offline_yearly):
        return M_("The pilot measured {measured} a year ({level} interval {interval}).", **values)
    return M_("The backtest said {promised} a year; the pilot measured {measured} ({level} interval {interval}).",
              promised=Fmt("yen_short", float(offline_yearly)), **values)


def promise_sentence(measured: Estimate, offline_yearly: float | None = None) -> str:
    """``promise_message`` in the current language."""
    return str(promise_message(measured, offline_yearly))


def effect_message(estimate: Estimate) -> Msg:
    """Whether a measure moved the good way, for people, the interval in the sentence's own
    direction, as a fact: ``Waste cost fell by ¥2.10M a year (95% interval: by
    ¥0.80M–¥3.40M).``; ``Profit rose by ¥1.00M a year (95% interval: by ¥0.20M–¥1.80M):
    the wrong way.`` when the measure moved against its good direction; an interval across
    zero reads ``Profit: no change the pilot could tell from noise (95% interval −¥1.00M to
    ¥2.00M a year).``; a ``NO_INTERVAL`` measure reads ``Lost-sales margin fell by an
    estimated ¥1.20M a year (estimated from the demand on stockout days, which is not
    observed: no interval).``"""
    label = MEASURE_NAMES.get(estimate.measure)
    name = Msg(label) if label is not None else estimate.measure
    level = _level(estimate.level)
    if estimate.measure in NO_INTERVAL or fmt.missing(estimate.low) or fmt.missing(estimate.high):
        reason = Msg(NO_INTERVAL.get(estimate.measure, N_("no interval")))
        if fmt.missing(estimate.yearly) or estimate.yearly == 0:
            return M_("{measure}: no change estimated ({reason}).", measure=name, reason=reason)
        amount = _value(estimate.measure, abs(estimate.yearly))
        if estimate.yearly > 0:
            return M_("{measure} rose by an estimated {amount} a year ({reason}).", measure=name, amount=amount,
                      reason=reason)
        return M_("{measure} fell by an estimated {amount} a year ({reason}).", measure=name, amount=amount,
                  reason=reason)
    if estimate.low <= 0 <= estimate.high:
        return M_("{measure}: no change the pilot could tell from noise ({level} interval {interval} a year).",
                  measure=name, level=level, interval=_value_interval(estimate))
    good = np.sign(estimate.yearly) == GOOD_DIRECTION.get(estimate.measure, 1)
    near, far = sorted((abs(estimate.low), abs(estimate.high)))
    values = {"measure": name, "amount": _value(estimate.measure, abs(estimate.yearly)), "level": level,
              "range": _value_range(estimate.measure, near, far)}
    if estimate.yearly > 0:
        return (M_("{measure} rose by {amount} a year ({level} interval: by {range}).", **values) if good else
                M_("{measure} rose by {amount} a year ({level} interval: by {range}): the wrong way.", **values))
    return (M_("{measure} fell by {amount} a year ({level} interval: by {range}).", **values) if good else
            M_("{measure} fell by {amount} a year ({level} interval: by {range}): the wrong way.", **values))


def effect_sentence(estimate: Estimate) -> str:
    """``effect_message`` in the current language."""
    return str(effect_message(estimate))


def item_days(value: float, digits: int = 0, signed: bool = False) -> Msg:
    """``1,250 item-days`` (stockout item-days), as a fact."""
    return M_("{n} item-days", n=Fmt("number", float(value), {"digits": digits, "signed": signed}))


def _value(measure: str, value: float) -> Msg | Fmt:
    return item_days(value) if measure == "stockout_days" else Fmt("yen_short", float(value))


def _value_range(measure: str, low: float, high: float) -> Msg:
    """Two magnitudes of one sign: ``¥1.62M–¥2.21M``, ``120–340 item-days``."""
    if measure == "stockout_days":
        return M_("{low}–{high} item-days", low=Fmt("number", float(low), {"digits": 0}),
                  high=Fmt("number", float(high), {"digits": 0}))
    return M_("{low}–{high}", low=Fmt("yen_short", float(low)), high=Fmt("yen_short", float(high)))


def _value_interval(estimate: Estimate) -> Msg:
    if estimate.measure == "stockout_days":
        return M_("{low} to {high} item-days", low=Fmt("number", float(estimate.low), {"digits": 0}),
                  high=Fmt("number", float(estimate.high), {"digits": 0}))
    return interval_message(estimate.low, estimate.high)
