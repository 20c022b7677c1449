"""The pilot's design: which stores try the model (treated), which keep today's practice
(control), for how long, and what is measured.

**Matched pairs, randomised within each pair.** Stores are described by their sales a day
over the pre-period (yen where the data has prices, else units), their size and their
region (from the dataset's store master side table ``stores`` where it has them, else
the dataset's own per-store attributes; sales alone otherwise). Two stores are as far
apart as the Euclidean distance of their standardised sales and size (each divided by
its standard deviation across the chain), plus ``REGION_PENALTY`` when their regions
differ: pairs are exact on region where the chain allows it. Pairs are formed greedily,
closest first, then improved by swaps (two pairs exchanging partners, or a store of a
pair exchanged for one left out) until no swap lowers the total distance: greedy
nearest-neighbour matching balances as well as optimal matching in Austin's comparison
(Austin 2014, *Stat Med* 33:1057), and the swaps take it to a local optimum of the total
without a graph-matching library. Stores the user pins as treated are paired with
controls by an optimal assignment (``scipy.optimize.linear_sum_assignment``, the
Hungarian method). Within each unpinned pair a coin decides which store is treated: a
matched-pair randomised design (Imai, King & Nall 2009), so that no choice of the analyst
decides who gets the model. With few pairs a coin can still put the larger store of most
pairs on one side, so the design rerandomises (Morgan & Rubin 2012, "Rerandomization to
improve covariate balance in experiments", *Ann Stat* 40:1263): of every assignment of
the coins (``MAX_ASSIGNMENTS`` sampled beyond 12 pairs) it keeps those whose
standardised mean differences of sales and size are all below 0.1 (else 0.25, else the
best there are) and draws one of them with the design's ``seed``. The readout's interval,
which ignores the rerandomisation, is then conservative (Morgan & Rubin 2012, §3).

Balance is read from the standardised mean differences of the treated and control
groups, ``(mean_T − mean_C) / sqrt((var_T + var_C) / 2)``: |SMD| < 0.1 is good, < 0.25
acceptable (Austin 2009, *Stat Med* 28:3083; Stuart 2010, *Stat Sci* 25:1).

**Power and duration.** The readout (``core.pilot.readout``) is a difference-in-differences
of the stores' changes: each store's mean daily profit during the pilot (``D`` days) less
its mean over the pre-period (``P = max(pre_days, D)`` days: the readout wants a
pre-period at least as long as the pilot), treated against control, with a classical
interval on ``G − 2`` degrees of freedom (``G`` stores). The power calculation is for that
test. The noise of a store's change is measured on the history by placebo pilots: for
every past window (a start every ``STRIDE_DAYS`` days with ``P`` days before it and ``D``
from it), the variance across the pilot's stores of their changes, averaged over the
windows: ``σ²(D)``. The estimate's standard error is
``SE(D) = σ(D) × sqrt(1/n_T + 1/n_C)`` and the minimum detectable effect at significance
α (two-sided) and power 1 − β is ``MDE(D) = (t_{1−α/2} + t_{1−β}) × SE(D)`` (Bloom 1995,
"Minimum detectable effects", *Evaluation Review* 19:547; Duflo, Glennerster & Kremer
2007, "Using randomization in development economics research"), with Student's t on
``G − 2`` degrees of freedom as the readout's interval has: with 10 stores the normal
quantiles (1.96 + 0.84) would promise more power than they give (t: 2.31 + 0.89); with
many stores t becomes z. The matched pairs balance the groups; the readout does not use
them to narrow its interval, so neither does the power. The MDE is per treated store and
day (yen); a yearly chain effect is that × 365 × the chain's stores. Lengths whose
placebo windows do not fit in the history (fewer than ``MIN_WINDOWS``) take
``σ²(D) = a + b / D`` fitted by non-negative least squares on the lengths that fit, and
are marked extrapolated.

**After an earlier pilot.** The pre-period stands for the stores' ordinary practice, so it
must not hold the days of an earlier pilot on the same data (``earlier_pilots``: on the
generated demo chain the days a simulated pilot appended, named in ``Warehouse.list_appends``
by ``core.pilot.simulate``; on imported data the days in the data of every stored design
on the dataset). A design whose pre-period (or pilot) would hold such days is refused, and
the message says how many ordinary days are in since, how many more are needed, and the
longest pre-period and pilot those days allow. Moving the pre-period back to end before
the earlier pilot was rejected: the readout and the power calculation compare a pilot
with the weeks right before it, and a gap of the earlier pilot's weeks (seasons, prices
moving in between) would be read as the model's effect. Waiting for ordinary days is a
wash-out, as between the periods of a crossover trial (Senn 2002, *Cross-over Trials in
Clinical Research*). Stores treated in an earlier pilot stay eligible; the design names
them (``carry_over_sentence``) since habits or stock kept from that pilot may carry its
effect. The placebo pilots of the power calculation may span an earlier pilot's days;
its effect then adds to the measured spread, which makes the length conservative.

The duration is the shortest whole number of weeks (``MIN_CHOSEN_WEEKS``–``MAX_WEEKS``) whose yearly MDE is
at most the smallest yearly effect worth detecting (by default the offline money
estimate of the chosen model). When none is, the design says so, keeps ``MAX_WEEKS``
and how many treated stores would reach the target then.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from core import fmt
from core.columns import DATE, FREQ_WORDS, TARGET, Freq
from core.errors import MitoshiError
from core.i18n import M_, N_, Fmt, Msg, gettext, language, nM_
from core.money.outcomes import STORE  # "store": the outcomes' store column
from core.pilot.evidence import DAYS_PER_YEAR, LOST_MARGIN, PROFIT, STOCKOUT_DAYS, WASTE_COST
from core.warehouse import Dataset, Warehouse, quote

# The source of the rows a simulated pilot appended (``simulated_source`` writes it, ``simulated_appends`` reads it).
SIMULATED_SOURCE = re.compile(r"^simulated pilot: (?P<stores>.+) ordered from batch version (?P<version>\d+), "
                              r"(?P<start>\d{4}-\d\d-\d\d) to (?P<end>\d{4}-\d\d-\d\d)$")
FORECAST_ERROR = "forecast_error"  # WAPE of the published batch on the treated stores
PILOT_MEASURES = (PROFIT, WASTE_COST, LOST_MARGIN, STOCKOUT_DAYS, FORECAST_ERROR)
MAX_WEEKS = 26
# The shortest pilot the design proposes by itself (a user may still choose 1 week): the treated stores'
# first days sell the stock today's practice ordered, perishables turn over in up to 3 days, and orders follow
# a weekly cycle, so a single week is mostly the changeover, not the new way of ordering.
MIN_CHOSEN_WEEKS = 2
MAX_DEFAULT_TREATED = 10
STRIDE_DAYS = 7  # placebo pilots start a week apart
MIN_WINDOWS = 4  # fewer placebo windows than this and a duration's variance is extrapolated
REGION_PENALTY = 1000.0  # added to the distance of two stores in different regions
SMD_GOOD, SMD_ACCEPTABLE = 0.1, 0.25
MAX_ASSIGNMENTS = 4096  # coin assignments scored for rerandomisation (all of them up to 12 pairs)
# A measure inside a sentence ("No profit recorded for store S001"); English catalog messages.
MEASURE_WORDS = {PROFIT: N_("profit"), WASTE_COST: N_("waste cost"), LOST_MARGIN: N_("lost-sales margin"),
                 STOCKOUT_DAYS: N_("stockout item-days")}
# The grades of ``PilotDesign.smd_grade`` for people; English catalog messages.
SMD_GRADES = {"good": N_("good"), "acceptable": N_("acceptable"), "poor": N_("poor")}

# Column names a store master may use (lower-cased comparison).
STORE_NAMES = ("store", "store_id", "shop", "shop_id", "店舗", "店舗id", "店舗コード")
REGION_NAMES = ("region", "area", "prefecture", "地域", "エリア", "地方")
SIZE_NAMES = ("size", "floor_area", "sales_area", "area_m2", "売場面積", "面積", "規模")
LABEL_NAMES = ("store_name", "name", "店舗名", "店名")
PRICE_NAMES = ("price", "sell_price", "unit_price", "価格", "売価", "単価")


class PilotDesignError(MitoshiError):
    """A pilot cannot be designed as asked; the message says what to change."""


def joined(messages: list) -> object:
    """Several sentences (facts) as one message, each rendered in the language of the
    moment, separated by a space."""
    if len(messages) == 1:
        return messages[0]
    return Msg(" ".join(f"{{p{i}}}" for i in range(len(messages))), {f"p{i}": m for i, m in enumerate(messages)})


def sentences(*parts: str) -> str:
    """Sentences one after another: a space between them in English, none after a Japanese 。."""
    return ("" if language() == "ja" else " ").join(parts)


def length_problem(weeks: object) -> Msg:
    return M_("The pilot's length must be 1 to {most} weeks (got {weeks}).", most=MAX_WEEKS, weeks=weeks)


def day(value: date) -> Fmt:
    """A day people read, as a fact (``2026-11-30`` / ``2026年11月30日`` when shown)."""
    return Fmt("date", value.isoformat())



def simulated_source(treated: tuple[str, ...], version: int, start: date, end: date) -> str:
    """The ``dataset_appends`` source of a simulated pilot's rows: ``simulated pilot: S001,
    S002 ordered from batch version 1, 2026-11-01 to 2026-11-14``."""
    return (f"simulated pilot: {', '.join(treated)} ordered from batch version {version}, "
            f"{start:%Y-%m-%d} to {end:%Y-%m-%d}")


@dataclass(frozen=True)
class SimulatedAppend:
    """One append of a simulated pilot, read back from its source."""

    treated: tuple[str, ...]
    version: int
    start: date
    end: date
    source: str


def simulated_appends(warehouse: Warehouse, dataset_id: str) -> list[SimulatedAppend]:
    """The appends of ``dataset_id`` that a simulated pilot made, newest first (as
    ``Warehouse.list_appends`` lists them); appends of ordinary rows are skipped."""
    found = []
    for source in warehouse.list_appends(dataset_id)["source"]:
        match = SIMULATED_SOURCE.match(str(source))
        if match:
            found.append(SimulatedAppend(treated=tuple(s.strip() for s in match["stores"].split(",")),
                                         version=int(match["version"]), start=date.fromisoformat(match["start"]),
                                         end=date.fromisoformat(match["end"]), source=str(source)))
    return found

# ---------------------------------------------------------------------------------
# Options and results
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DesignOptions:
    """What the user chooses. ``treated``: the number of treated stores (None: as many as
    are pinned, two at least, else half the stores, at most ``MAX_DEFAULT_TREATED``); ``pinned``:
    stores that must be treated; ``weeks``: the pilot's length (None: the shortest that
    detects ``smallest_effect_yearly``); ``pre_weeks``: the pre-period matched on and
    compared against; ``alpha``: two-sided significance; ``power``: 1 − β;
    ``smallest_effect_yearly``: yen a year for the chain (None: the offline estimate);
    ``start``: the pilot's first day (None: the day after the data ends)."""

    treated: int | None = None
    pinned: tuple[str, ...] = ()
    weeks: int | None = None
    pre_weeks: int = 8
    alpha: float = 0.05
    power: float = 0.8
    smallest_effect_yearly: float | None = None
    seed: int = 0
    start: date | None = None

    def __post_init__(self) -> None:
        problems: list[Msg] = []
        if self.treated is not None and self.treated < 2:
            problems.append(M_("A pilot needs at least 2 treated stores (got {n}): with one, no interval can be put on "
                               "its effect.", n=self.treated))
        if self.weeks is not None and not 1 <= self.weeks <= MAX_WEEKS:
            problems.append(length_problem(self.weeks))
        if not 1 <= self.pre_weeks <= 52:
            problems.append(M_("The pre-period must be 1 to 52 weeks (got {n}).", n=self.pre_weeks))
        if not 0 < self.alpha < 0.5:
            problems.append(M_("The significance must be between 0 % and 50 % (got {alpha}); 5 % is usual.",
                               alpha=Fmt("pct", float(self.alpha))))
        if not 0.5 <= self.power < 1:
            problems.append(M_("The power must be at least 50 % and below 100 % (got {power}); 80 % is usual.",
                               power=Fmt("pct", float(self.power))))
        if self.smallest_effect_yearly is not None and not self.smallest_effect_yearly > 0:
            problems.append(M_("The smallest yearly effect worth detecting must be above {zero} (got {effect}).",
                               zero=Fmt("yen", 0.0), effect=Fmt("yen", float(self.smallest_effect_yearly))))
        if len(set(self.pinned)) != len(self.pinned):
            problems.append(M_("A store is pinned as treated twice: name each store once."))
        if self.treated is not None and len(self.pinned) > self.treated:
            problems.append(M_("{pinned} stores are pinned as treated but only {treated} treated stores are asked "
                               "for: ask for more treated stores or pin fewer.", pinned=len(self.pinned),
                               treated=self.treated))
        if problems:
            raise PilotDesignError(joined(problems))

    @property
    def pre_days(self) -> int:
        return self.pre_weeks * 7


@dataclass(frozen=True)
class PairBalance:
    """One matched pair as a PM compares it: store, label, region, size and sales a day
    (``sales``: yen a day where the data has prices, else units; ``units``: units a day)
    over the pre-period, treated and control side by side."""

    pair: int  # 1, 2, ...
    treated: str
    control: str
    treated_label: str
    control_label: str
    treated_region: str | None
    control_region: str | None
    treated_size: float | None
    control_size: float | None
    treated_sales: float
    control_sales: float
    treated_units: float
    control_units: float
    pinned: bool = False  # the treated store was pinned by the user, not drawn

    @property
    def same_region(self) -> bool | None:
        if self.treated_region is None or self.control_region is None:
            return None
        return self.treated_region == self.control_region


@dataclass(frozen=True)
class MdePoint:
    """The minimum detectable effect of a pilot of ``weeks`` weeks compared with the
    ``pre_days`` before it: per treated store and day (yen) and for the chain a year
    (yen); ``sd_change`` the standard deviation across stores of a store's change of mean
    daily profit (yen), from ``windows`` placebo pilots (``extrapolated`` where fewer than
    ``MIN_WINDOWS`` fitted in the history)."""

    weeks: int
    mde_store_day: float
    mde_yearly: float
    sd_change: float
    pre_days: int
    windows: int
    extrapolated: bool = False


@dataclass(frozen=True)
class EarlierPilot:
    """An earlier pilot whose days are in the data: ``start`` to ``end`` (inclusive, the
    days present), the stores ``treated`` then, and what it is known from (``source``: a
    simulated pilot's append, or a stored design and its date)."""

    start: date
    end: date
    treated: tuple[str, ...]
    source: str

    def describe(self) -> Msg:
        """``2026-11-01 to 2026-11-14 (S001, S002 treated)``, as a fact."""
        return M_("{start} to {end} ({stores} treated)", start=day(self.start), end=day(self.end),
                  stores=", ".join(self.treated))


@dataclass(frozen=True)
class PilotDesign:
    """A stored pilot design. ``pairs`` are (treated, control) store keys; ``balance`` one
    row per pair; ``smd`` the standardised mean differences treated − control of
    ``sales`` and (where known) ``size``; ``start`` the pilot's first day, ``days`` its
    length, ``pre_days`` the pre-period before ``start`` it is compared with (at least
    ``days``);
    ``mde_yearly_by_weeks`` the yearly MDE of each length from 1 to ``MAX_WEEKS`` weeks;
    ``meets_target`` whether the chosen length detects ``smallest_effect_yearly``, and if
    not ``treated_needed`` the treated stores that would at ``MAX_WEEKS`` weeks (an
    approximation: the MDE falls with the square root of the stores)."""

    project_id: str
    dataset_id: str
    store_column: str
    treated: tuple[str, ...]
    control: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    balance: tuple[PairBalance, ...]
    smd: dict[str, float]
    start: date
    days: int
    pre_days: int
    alpha: float
    power: float
    smallest_effect_yearly: float
    mde_yearly_by_weeks: tuple[MdePoint, ...]
    measures: tuple[str, ...]
    offline_yearly_savings: float | None
    offline_model: str | None
    seed: int
    created_at: datetime
    chain_stores: int
    sales_unit: str = "yen"  # "yen" or "units": what ``sales`` in the balance counts
    matching: str = "greedy"  # "greedy" (closest pairs first, improved by swaps) or "assignment" (pinned)
    meets_target: bool = True
    treated_needed: int | None = None
    data_end: date | None = None
    smd_limit: float | None = SMD_GOOD  # rerandomisation: the |SMD| every accepted assignment is under (None: best)
    accepted_assignments: int = 1  # coin assignments under ``smd_limit``, one of which was drawn
    considered_assignments: int = 1  # coin assignments scored
    design_id: str | None = None  # set when stored
    dataset_name: str = ""  # the dataset's name when designed (kept to name it once it is deleted)
    earlier_pilots: tuple[EarlierPilot, ...] = ()  # pilots whose days were in the data when designed

    # -- derived ------------------------------------------------------------------
    @property
    def weeks(self) -> int:
        return self.days // 7

    @property
    def end(self) -> date:
        """The pilot's last day (inclusive)."""
        return self.start + timedelta(days=self.days - 1)

    @property
    def pre_start(self) -> date:
        return self.start - timedelta(days=self.pre_days)

    @property
    def mde_yearly(self) -> float:
        """The yearly chain MDE at the chosen length (yen)."""
        return self.point(self.weeks).mde_yearly

    def point(self, weeks: int) -> MdePoint:
        return next(p for p in self.mde_yearly_by_weeks if p.weeks == weeks)

    def mde_table(self) -> pd.DataFrame:
        """weeks, mde_store_day, mde_yearly, sd_change, pre_days, windows, extrapolated (one row a week)."""
        return pd.DataFrame([asdict(p) for p in self.mde_yearly_by_weeks])

    def balance_table(self) -> pd.DataFrame:
        """One row per pair, the columns of ``PairBalance`` plus ``same_region``."""
        return pd.DataFrame([asdict(b) | {"same_region": b.same_region} for b in self.balance])

    def smd_grade(self, name: str) -> str:
        """``good`` (|SMD| < 0.1), ``acceptable`` (< 0.25) or ``poor`` for one SMD (a key:
        ``SMD_GRADES`` names it for people)."""
        value = abs(self.smd[name])
        return "good" if value < SMD_GOOD else "acceptable" if value < SMD_ACCEPTABLE else "poor"

    def assignment_sentence(self) -> str:
        """How the treated store of each pair was chosen, in a sentence a PM reads (in the
        current language)."""
        pinned = sum(b.pinned for b in self.balance)
        if pinned == len(self.balance):
            return gettext("Every treated store was pinned; each control is the closest store to its treated one.")
        values = {"seed": self.seed, "accepted": self.accepted_assignments, "considered": self.considered_assignments}
        if self.smd_limit is None:
            if pinned:
                return gettext(
                    "The treated store of each unpinned pair was drawn by lot (seed {seed}) among the {accepted} of "
                    "{considered} possible draws with the smallest difference in sales and size between the groups "
                    "(none was below 0.25).").format(**values)
            return gettext(
                "The treated store of each pair was drawn by lot (seed {seed}) among the {accepted} of {considered} "
                "possible draws with the smallest difference in sales and size between the groups (none was below "
                "0.25).").format(**values)
        values["limit"] = f"{self.smd_limit:g}"
        if pinned:
            return gettext(
                "The treated store of each unpinned pair was drawn by lot (seed {seed}) among the {accepted} of "
                "{considered} possible draws whose groups differ in sales and size by less than {limit} standard "
                "deviations.").format(**values)
        return gettext(
            "The treated store of each pair was drawn by lot (seed {seed}) among the {accepted} of {considered} "
            "possible draws whose groups differ in sales and size by less than {limit} standard "
            "deviations.").format(**values)

    def carried_over(self) -> dict[str, EarlierPilot]:
        """The design's stores (treated or control) that an earlier pilot treated, each with
        the latest such pilot."""
        found: dict[str, EarlierPilot] = {}
        for pilot in sorted(self.earlier_pilots, key=lambda p: p.start):
            for store in pilot.treated:
                if store in self.treated or store in self.control:
                    found[store] = pilot
        return found

    def carry_over_sentence(self) -> str | None:
        """Which of the design's stores an earlier pilot treated, and what that means, in a
        sentence a PM reads; None when none did."""
        found = self.carried_over()
        if not found:
            return None
        parts = []
        for store, pilot in sorted(found.items()):
            values = {"store": store, "start": fmt.date(pilot.start), "end": fmt.date(pilot.end)}
            parts.append((gettext("{store} (treated here) was treated in the pilot of {start} to {end}")
                          if store in self.treated else
                          gettext("{store} (a control here) was treated in the pilot of {start} to {end}"))
                         .format(**values))
        return gettext("{stores}. A store may carry an earlier pilot's effect (habits its staff kept, stock ordered "
                       "then): a control that carries it makes the measured difference smaller, a treated store that "
                       "does makes its change smaller. Pin such stores as treated, or read their own effects in the "
                       "readout's per-store table.").format(stores=gettext("; ").join(parts))

    def duration_sentence(self) -> str:
        """What the power calculation says, in a sentence a PM reads."""
        k = len(self.pairs)
        target = fmt.yen_short(self.smallest_effect_yearly)
        level = gettext("{power} power at {alpha} significance").format(power=fmt.pct(self.power, 0),
                                                                         alpha=fmt.pct(self.alpha, 0))
        if self.meets_target:
            return gettext("{weeks} weeks with {k} treated and {k} control stores detect a yearly effect of {mde} or "
                           "more ({level}), at most the {target} worth detecting.").format(
                weeks=self.weeks, k=k, mde=fmt.yen_short(self.mde_yearly), level=level, target=target)
        at_max = fmt.yen_short(self.point(MAX_WEEKS).mde_yearly)
        need = self.treated_needed
        half = self.chain_stores // 2
        if need is not None and need <= half:
            more = gettext("To detect {target}, about {need} treated stores and as many controls would detect it in "
                           "{most} weeks.").format(target=target, need=need, most=MAX_WEEKS)
        else:
            more = gettext("To detect {target}, even {half} treated stores (half the chain) would not detect it in "
                           "{most} weeks: a smaller pilot can only confirm a larger effect.").format(
                target=target, half=half, most=MAX_WEEKS)
        lead = gettext("No pilot of up to {most} weeks with {k} treated stores detects {target} a year ({level}): at "
                       "{most} weeks the smallest detectable yearly effect is {at_max}.").format(
            most=MAX_WEEKS, k=k, target=target, level=level, at_max=at_max)
        if self.weeks == MAX_WEEKS:
            return sentences(lead, more)
        chosen = gettext("At {weeks} weeks the smallest detectable yearly effect is {mde}.").format(
            weeks=self.weeks, mde=fmt.yen_short(self.mde_yearly))
        return sentences(lead, chosen, more)

    # -- storage ------------------------------------------------------------------
    def to_dict(self) -> dict:
        values = asdict(self)
        for key in ("start", "data_end"):
            values[key] = None if values[key] is None else values[key].isoformat()
        values["earlier_pilots"] = [p | {"start": p["start"].isoformat(), "end": p["end"].isoformat(),
                                         "treated": list(p["treated"])} for p in values["earlier_pilots"]]
        values["created_at"] = self.created_at.isoformat()
        values["pairs"] = [list(p) for p in self.pairs]
        return values

    @classmethod
    def from_dict(cls, values: dict) -> PilotDesign:
        values = dict(values)
        values["start"] = date.fromisoformat(values["start"])
        values["data_end"] = None if values.get("data_end") is None else date.fromisoformat(values["data_end"])
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        values["pairs"] = tuple(tuple(p) for p in values["pairs"])
        values["balance"] = tuple(PairBalance(**b) for b in values["balance"])
        values["mde_yearly_by_weeks"] = tuple(MdePoint(**p) for p in values["mde_yearly_by_weeks"])
        values["earlier_pilots"] = tuple(
            EarlierPilot(start=date.fromisoformat(str(p["start"])), end=date.fromisoformat(str(p["end"])),
                         treated=tuple(p["treated"]), source=p["source"]) for p in values.get("earlier_pilots", ()))
        for key in ("treated", "control", "measures"):
            values[key] = tuple(values[key])
        # an infinite SMD (constant groups) is stored as null
        values["smd"] = {k: math.nan if v is None else float(v) for k, v in values["smd"].items()}
        return cls(**values)


# ---------------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Matching:
    """Pairs (treated, control), and how they were formed: ``accepted`` of ``considered``
    coin assignments had every |SMD| below ``smd_limit`` (None: none did, the best were
    kept) and one of them was drawn."""

    pairs: tuple[tuple[str, str], ...]
    pinned: frozenset[str]
    method: str
    smd_limit: float | None = SMD_GOOD
    accepted: int = 1
    considered: int = 1


def _standardised(features: pd.DataFrame) -> np.ndarray:
    """(stores, features) of sales and size (where known), each over its SD across stores."""
    columns = ["sales"] + (["size"] if "size" in features and features["size"].notna().all() else [])
    values = features[columns].to_numpy(dtype=float)
    sd = values.std(axis=0, ddof=1) if len(values) > 1 else np.ones(values.shape[1])
    return values / np.where(sd > 0, sd, 1.0)


def distances(features: pd.DataFrame) -> np.ndarray:
    """(stores, stores) distances: Euclidean on standardised sales and size, plus
    ``REGION_PENALTY`` between stores of different regions (where regions are known).
    ``features``: one row per store, ``sales`` (and optional ``size``, ``region``)."""
    z = _standardised(features)
    dist = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=2))
    if "region" in features and features["region"].notna().all():
        region = features["region"].astype(str).to_numpy()
        dist = dist + REGION_PENALTY * (region[:, None] != region[None, :])
    return dist


def _improve(pairs: list[tuple[int, int]], free: set[int], dist: np.ndarray) -> list[tuple[int, int]]:
    """Swaps until none lowers the total distance: two pairs exchanging partners, or a
    store of a pair replaced by a store left out. Each accepted swap lowers the total, so
    this ends."""
    improved = True
    while improved:
        improved = False
        for i in range(len(pairs)):
            for j in range(i + 1, len(pairs)):
                (a, b), (c, d) = pairs[i], pairs[j]
                now = dist[a, b] + dist[c, d]
                for new in (((a, c), (b, d)), ((a, d), (b, c))):
                    if dist[new[0]] + dist[new[1]] < now - 1e-12:
                        pairs[i], pairs[j] = new
                        improved = True
                        break
                if improved:
                    break
            if improved:
                break
            a, b = pairs[i]
            for u in sorted(free):
                if dist[u, b] < dist[a, b] - 1e-12:
                    pairs[i] = (u, b)
                    free = (free - {u}) | {a}
                    improved = True
                    break
                if dist[a, u] < dist[a, b] - 1e-12:
                    pairs[i] = (a, u)
                    free = (free - {u}) | {b}
                    improved = True
                    break
            if improved:
                break
    return pairs


def match_pairs(features: pd.DataFrame, n_pairs: int, pinned: tuple[str, ...] = (), seed: int = 0) -> Matching:
    """Matched pairs of stores, one store of each treated.

    ``features``: one row per store with ``store`` (key, str), ``sales`` (a day) and
    optionally ``size`` and ``region``. Pinned stores are treated and paired with the
    closest controls by an optimal assignment (Hungarian method, scipy); the other
    ``n_pairs − len(pinned)`` pairs are formed greedily among the remaining stores,
    closest first, improved by swaps (``_improve``), and within each a coin (numpy
    ``default_rng(seed)``, pairs in the order of their stores' keys) picks the treated
    store. Returns the pairs as (treated, control), ordered by the treated store's key.
    Raises ``PilotDesignError`` when there are too few stores or a pinned store is unknown.
    """
    from scipy.optimize import linear_sum_assignment

    stores = features["store"].astype(str).tolist()
    unknown = [s for s in pinned if s not in stores]
    if unknown:
        raise PilotDesignError(nM_("Pinned store {unknown} not in the data: pin stores among {stores}.",
                                   "Pinned stores {unknown} not in the data: pin stores among {stores}.", "n",
                                   unknown=", ".join(unknown), n=len(unknown),
                                   stores=", ".join(stores[:12]) + (" …" if len(stores) > 12 else "")))
    if 2 * n_pairs > len(stores):
        raise PilotDesignError(M_("{n} treated stores need {n} controls, {all} stores in all, but the data has "
                                  "{stores}: ask for at most {most} treated stores.", n=n_pairs, all=2 * n_pairs,
                                  stores=len(stores), most=len(stores) // 2))
    dist = distances(features)
    index = {s: i for i, s in enumerate(stores)}
    chosen: list[tuple[int, int]] = []
    taken: set[int] = set()
    if pinned:
        rows = [index[s] for s in pinned]
        others = [i for i in range(len(stores)) if i not in rows]
        cost = dist[np.ix_(rows, others)]
        r, c = linear_sum_assignment(cost)
        chosen = [(rows[i], others[j]) for i, j in zip(r, c, strict=True)]
        taken = {i for pair in chosen for i in pair}

    free = {i for i in range(len(stores)) if i not in taken}
    drawn: list[tuple[int, int]] = []
    candidates = sorted((dist[i, j], stores[i], stores[j], i, j) for i in free for j in free if i < j)
    for _, _, _, i, j in candidates:
        if len(drawn) == n_pairs - len(chosen):
            break
        if i in free and j in free:
            drawn.append((i, j))
            free -= {i, j}
    drawn = _improve(drawn, free, dist)

    ordered = sorted((tuple(sorted((stores[i], stores[j]))) for i, j in drawn))
    fixed = [(stores[i], stores[j]) for i, j in chosen]
    flips, limit, accepted, considered = _rerandomise(features, ordered, fixed, np.random.default_rng(seed))
    pairs = [(a, b) if flip == 0 else (b, a) for (a, b), flip in zip(ordered, flips, strict=True)] + fixed
    pairs.sort()
    method = "assignment" if pinned and not drawn else "greedy+assignment" if pinned else "greedy"
    return Matching(pairs=tuple(pairs), pinned=frozenset(pinned), method=method, smd_limit=limit,
                    accepted=accepted, considered=considered)


def _rerandomise(features: pd.DataFrame, ordered: list[tuple[str, str]], fixed: list[tuple[str, str]],
                 rng: np.random.Generator) -> tuple[np.ndarray, float | None, int, int]:
    """Which store of each of the ``ordered`` pairs is treated (0: the first): every coin
    assignment (a sample of ``MAX_ASSIGNMENTS`` beyond), with the ``fixed`` (treated,
    control) pairs, scored by its largest |SMD| over sales and size; one is drawn with
    ``rng`` among those under ``SMD_GOOD``, else under ``SMD_ACCEPTABLE``, else among
    the best (Morgan & Rubin 2012). Returns the flips, the limit used (None: the best),
    the assignments accepted and considered."""
    k = len(ordered)
    if k == 0:
        return np.zeros(0, dtype=int), None, 1, 1
    if 2 ** k <= MAX_ASSIGNMENTS:
        options = (np.arange(2 ** k)[:, None] >> np.arange(k)[None, :]) & 1
    else:
        options = np.unique(rng.integers(0, 2, (MAX_ASSIGNMENTS, k)), axis=0)
    f = features.assign(store=features["store"].astype(str)).set_index("store")
    columns = ["sales"] + (["size"] if "size" in f and f["size"].notna().all() else [])
    score = np.zeros(len(options))
    for column in columns:
        first = f.loc[[a for a, _ in ordered], column].to_numpy(dtype=float)
        second = f.loc[[b for _, b in ordered], column].to_numpy(dtype=float)
        treated = np.where(options == 0, first, second)
        control = np.where(options == 0, second, first)
        if fixed:
            treated = np.hstack([treated, np.tile(f.loc[[t for t, _ in fixed], column].to_numpy(float),
                                                  (len(options), 1))])
            control = np.hstack([control, np.tile(f.loc[[c for _, c in fixed], column].to_numpy(float),
                                                  (len(options), 1))])
        n = treated.shape[1]
        spread = np.sqrt(((treated.var(axis=1, ddof=1) if n > 1 else 0) + (control.var(axis=1, ddof=1) if n > 1
                                                                            else 0)) / 2)
        diff = treated.mean(axis=1) - control.mean(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(spread > 0, np.abs(diff) / np.where(spread > 0, spread, 1),
                             np.where(np.abs(diff) < 1e-12, 0.0, np.inf))
        score = np.maximum(score, value)
    for limit in (SMD_GOOD, SMD_ACCEPTABLE):
        ok = np.flatnonzero(score < limit)
        if len(ok):
            break
    else:
        limit, ok = None, np.flatnonzero(score <= score.min() + 1e-12)
    return options[rng.choice(ok)], limit, len(ok), len(options)


def smd(treated: pd.Series, control: pd.Series) -> float:
    """Standardised mean difference (mean_T − mean_C) / sqrt((var_T + var_C) / 2), the
    variances with ddof 1 (Austin 2009). 0 when both groups are constant and equal;
    ±inf when constant and different."""
    t, c = treated.astype(float), control.astype(float)
    diff = t.mean() - c.mean()
    var = (t.var(ddof=1) if len(t) > 1 else 0.0) + (c.var(ddof=1) if len(c) > 1 else 0.0)
    sd = math.sqrt(var / 2)
    if sd == 0:
        return 0.0 if abs(diff) < 1e-12 else math.copysign(math.inf, diff)
    return float(diff / sd)


def balance(features: pd.DataFrame, matching: Matching) -> tuple[tuple[PairBalance, ...], dict[str, float]]:
    """The balance rows of ``matching`` and the SMDs of ``sales`` and (where known) ``size``."""
    f = features.assign(store=features["store"].astype(str)).set_index("store")
    has_region = "region" in f and f["region"].notna().all()
    has_size = "size" in f and f["size"].notna().all()

    def value(store: str, column: str, present: bool = True) -> object:
        if not present:
            return None
        v = f.at[store, column]
        return str(v) if column in ("region", "label") else float(v)

    rows = []
    for n, (t, c) in enumerate(matching.pairs, start=1):
        rows.append(PairBalance(
            pair=n, treated=t, control=c,
            treated_label=value(t, "label") if "label" in f else t,
            control_label=value(c, "label") if "label" in f else c,
            treated_region=value(t, "region", has_region), control_region=value(c, "region", has_region),
            treated_size=value(t, "size", has_size), control_size=value(c, "size", has_size),
            treated_sales=value(t, "sales"), control_sales=value(c, "sales"),
            treated_units=value(t, "units"), control_units=value(c, "units"),
            pinned=t in matching.pinned))
    treated = [t for t, _ in matching.pairs]
    control = [c for _, c in matching.pairs]
    smds = {"sales": smd(f.loc[treated, "sales"], f.loc[control, "sales"])}
    if has_size:
        smds["size"] = smd(f.loc[treated, "size"], f.loc[control, "size"])
    return tuple(rows), smds


# ---------------------------------------------------------------------------------
# Power
# ---------------------------------------------------------------------------------
def _panel(outcomes: pd.DataFrame, measure: str) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """(stores, days) of ``measure`` on every calendar day from the first to the last (NaN
    where a store has no row)."""
    frame = outcomes.assign(**{STORE: outcomes[STORE].astype(str), DATE: pd.to_datetime(outcomes[DATE])})
    wide = frame.pivot_table(index=STORE, columns=DATE, values=measure, aggfunc="sum")
    days = pd.date_range(wide.columns.min(), wide.columns.max(), freq="D")
    return wide.reindex(columns=days), days


def placebo_variance(outcomes: pd.DataFrame, stores: tuple[str, ...], pre_days: int,
                     weeks: range = range(1, MAX_WEEKS + 1), measure: str = PROFIT) -> pd.DataFrame:
    """The spread across stores of a store's change of ``measure`` with no pilot, from
    placebo pilots on the history.

    ``outcomes``: one row per (``store``, ``ds``) with ``measure`` (yen a day, as
    ``core.money.outcomes.store_day_outcomes`` gives it); ``stores``: the pilot's treated
    and control stores. For each length ``D = 7w``, its pre-period ``P = max(pre_days, D)``
    (the readout compares a pilot with a pre-period at least as long), and each start
    ``s`` (every ``STRIDE_DAYS`` back from the last possible one), each store's change of
    mean ``measure`` from ``[s − P, s)`` to ``[s, s + D)``; the variance across the stores
    (ddof 1: the chain's common change is no noise for a difference-in-differences),
    averaged over the windows. Returns weeks, pre_days, variance (yen² per store-day),
    windows (placebo starts used) and extrapolated (``a + b / D`` fitted by NNLS where
    fewer than ``MIN_WINDOWS`` windows fit). Raises ``PilotDesignError`` when a store has
    no outcome or the history fits fewer than two lengths."""
    from scipy.optimize import nnls

    wide, days = _panel(outcomes, measure)
    missing = sorted(set(stores) - set(wide.index))
    if missing:
        raise PilotDesignError(nM_("No {measure} recorded for store {stores} in the history: choose stores that have "
                                   "sales.", "No {measure} recorded for stores {stores} in the history: choose stores "
                                   "that have sales.", "n", measure=Msg(MEASURE_WORDS.get(measure, measure)),
                                   stores=", ".join(missing), n=len(missing)))
    values = wide.loc[list(stores)].to_numpy(dtype=float)
    present = np.isfinite(values)
    sums = np.concatenate([np.zeros((len(values), 1)), np.cumsum(np.where(present, values, 0.0), axis=1)], axis=1)
    counts = np.concatenate([np.zeros((len(values), 1)), np.cumsum(present, axis=1)], axis=1)
    n_days = len(days)

    def means(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:  # (stores, windows)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (sums[:, hi] - sums[:, lo]) / (counts[:, hi] - counts[:, lo])

    records = []
    for w in weeks:
        d = 7 * w
        p = max(pre_days, d)
        starts = np.arange(n_days - d, p - 1, -STRIDE_DAYS)
        record = {"weeks": w, "pre_days": p, "variance": math.nan, "windows": 0}
        if len(starts):
            change = means(starts, starts + d) - means(starts - p, starts)
            used = np.isfinite(change).all(axis=0)
            if used.any():
                record |= {"variance": float(np.mean(np.var(change[:, used], axis=0, ddof=1))),
                           "windows": int(used.sum())}
        records.append(record)
    table = pd.DataFrame(records)
    table["extrapolated"] = table["windows"] < MIN_WINDOWS
    fitted = table[~table["extrapolated"]]
    if len(fitted) < 2:
        need = pre_days + 14 + (MIN_WINDOWS - 1) * STRIDE_DAYS
        raise PilotDesignError(M_(
            "The history ({n} days) is too short to measure how profit varies between stores: placebo pilots of a "
            "{pre}-day pre-period and 1 and 2 weeks need at least {need} days. Shorten the pre-period or append more "
            "history.", n=n_days, pre=pre_days, need=need))
    if table["extrapolated"].any():
        design = np.column_stack([np.ones(len(fitted)), 1.0 / (7 * fitted["weeks"].to_numpy())])
        coef, _ = nnls(design, fitted["variance"].to_numpy())
        out = table["extrapolated"]
        table.loc[out, "variance"] = coef[0] + coef[1] / (7 * table.loc[out, "weeks"].to_numpy())
    return table


def mde_multiplier(alpha: float, power: float, df: int) -> float:
    """``t_{1−α/2, df} + t_{power, df}`` (Bloom 1995): the MDE in standard errors for a
    two-sided test at ``alpha`` with ``power`` (≈ 2.80 for many degrees of freedom at
    5 % and 80 %; 3.07 on 8, a pilot of 5 treated and 5 control stores)."""
    from scipy.stats import t

    df = max(df, 1)
    return float(t.ppf(1 - alpha / 2, df) + t.ppf(power, df))


def mde_by_weeks(variance: pd.DataFrame, n_treated: int, n_control: int, alpha: float, power: float,
                 chain_stores: int) -> tuple[MdePoint, ...]:
    """Each length's MDE from ``placebo_variance``'s table: per store-day
    ``M × sqrt(σ² (1/n_T + 1/n_C))`` with ``M`` on ``n_T + n_C − 2`` degrees of freedom
    (the readout's t), and yearly × ``DAYS_PER_YEAR`` × ``chain_stores`` (yen)."""
    m = mde_multiplier(alpha, power, n_treated + n_control - 2)
    points = []
    for r in variance.itertuples(index=False):
        per_day = m * math.sqrt(r.variance * (1 / n_treated + 1 / n_control))
        points.append(MdePoint(weeks=int(r.weeks), mde_store_day=per_day,
                               mde_yearly=per_day * DAYS_PER_YEAR * chain_stores, sd_change=math.sqrt(r.variance),
                               pre_days=int(r.pre_days), windows=int(r.windows), extrapolated=bool(r.extrapolated)))
    return tuple(points)


def choose_weeks(points: tuple[MdePoint, ...], target_yearly: float) -> int | None:
    """The shortest length (weeks), at least ``MIN_CHOSEN_WEEKS``, whose yearly MDE is at most
    ``target_yearly``; None if none."""
    return next((p.weeks for p in sorted(points, key=lambda p: p.weeks)
                 if p.weeks >= MIN_CHOSEN_WEEKS and p.mde_yearly <= target_yearly), None)


def treated_needed(point: MdePoint, n_treated: int, target_yearly: float) -> int:
    """Treated stores (with as many controls) that would bring ``point``'s MDE down to
    ``target_yearly``: the MDE falls with the square root of the stores (the t
    multiplier's small change ignored)."""
    return math.ceil(n_treated * (point.mde_yearly / target_yearly) ** 2)


# ---------------------------------------------------------------------------------
# The design
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PilotHistory:
    """What a design is computed from. ``features``: one row per store — ``store``
    (str), ``sales`` (yen a day, or units where ``sales_unit`` is "units"), ``units``
    (units a day), optional ``size``, ``region`` and ``label`` — over the pre-period;
    ``outcomes``: one row per (``store``, ``ds``) with ``profit`` (yen), the whole
    history; ``data_end``: the last day of the data; ``chain_stores``: stores of the
    chain (yearly effects scale to them); ``earlier_pilots``: pilots whose days are in the
    data (a new pilot's pre-period must not hold them)."""

    features: pd.DataFrame
    outcomes: pd.DataFrame
    data_end: date
    chain_stores: int
    sales_unit: str = "yen"
    notes: tuple[Msg, ...] = field(default_factory=tuple)  # facts: ``str(note)`` reads it in the current language
    dataset_name: str = ""
    earlier_pilots: tuple[EarlierPilot, ...] = ()  # ``earlier_pilots`` of the dataset


def design_pilot(history: PilotHistory, options: DesignOptions, project_id: str, dataset_id: str,
                 store_column: str, offline_yearly_savings: float | None = None,
                 offline_model: str | None = None) -> PilotDesign:
    """A matched-pair randomised pilot and its length from a power calculation (module
    docstring). ``offline_yearly_savings`` (yen a year, the money impact of
    ``offline_model``) is the smallest effect worth detecting unless the options give one.
    Raises ``PilotDesignError`` when there are too few stores, no positive effect to size
    the pilot on, or too short a history."""
    stores = history.features["store"].astype(str).tolist()
    if len(stores) < 4:
        raise PilotDesignError(M_("A pilot needs at least 4 stores (2 treated, 2 control); the data has {n}.",
                                  n=len(stores)))
    target = options.smallest_effect_yearly
    if target is None:
        if offline_yearly_savings is None:
            raise PilotDesignError(M_("Give the smallest yearly effect worth detecting, or price a backtest run on the "
                                      "Money page first: its yearly savings are the default."))
        if not offline_yearly_savings > 0:
            raise PilotDesignError(M_(
                "The offline estimate saves {amount} a year, nothing to detect: give the smallest yearly effect worth "
                "detecting by hand.", amount=Fmt("yen_change", float(offline_yearly_savings), {"short": True})))
        target = float(offline_yearly_savings)
    default = max(len(options.pinned), 2) if options.pinned else min(len(stores) // 2, MAX_DEFAULT_TREATED)
    n_pairs = options.treated or default
    if n_pairs < 2:
        raise PilotDesignError(M_("A pilot needs at least 2 treated stores: with one, no interval can be put on its "
                                  "effect."))
    matching = match_pairs(history.features, n_pairs, options.pinned, options.seed)
    rows, smds = balance(history.features, matching)
    stores_in = tuple(s for pair in matching.pairs for s in pair)
    variance = placebo_variance(history.outcomes, stores_in, options.pre_days)
    points = mde_by_weeks(variance, n_pairs, n_pairs, options.alpha, options.power, history.chain_stores)
    shortest = choose_weeks(points, target)
    weeks = options.weeks or shortest or MAX_WEEKS
    chosen = next(p for p in points if p.weeks == weeks)
    meets = chosen.mde_yearly <= target
    at_max = next(p for p in points if p.weeks == MAX_WEEKS)
    needed = None if shortest is not None else treated_needed(at_max, n_pairs, target)
    start = options.start or history.data_end + timedelta(days=1)
    check_earlier_pilots(history.earlier_pilots, start, 7 * weeks, chosen.pre_days, history.dataset_name)
    return PilotDesign(
        project_id=project_id, dataset_id=dataset_id, store_column=store_column,
        treated=tuple(t for t, _ in matching.pairs), control=tuple(c for _, c in matching.pairs),
        pairs=matching.pairs, balance=rows, smd=smds,
        start=start, days=7 * weeks, pre_days=chosen.pre_days,
        alpha=options.alpha, power=options.power, smallest_effect_yearly=target, mde_yearly_by_weeks=points,
        measures=PILOT_MEASURES, offline_yearly_savings=offline_yearly_savings, offline_model=offline_model,
        seed=options.seed, created_at=datetime.now().replace(microsecond=0), chain_stores=history.chain_stores,
        sales_unit=history.sales_unit, matching=matching.method, meets_target=meets, treated_needed=needed,
        data_end=history.data_end, smd_limit=matching.smd_limit, accepted_assignments=matching.accepted,
        considered_assignments=matching.considered, dataset_name=history.dataset_name,
        earlier_pilots=history.earlier_pilots,
    )


def redesign_weeks(design: PilotDesign, weeks: int) -> PilotDesign:
    """The same design at another length (its MDE table already holds every length).
    Raises ``PilotDesignError`` for a length outside 1..``MAX_WEEKS`` or whose pre-period
    would hold an earlier pilot's days (``check_earlier_pilots``)."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise PilotDesignError(length_problem(weeks))
    point = design.point(weeks)
    check_earlier_pilots(design.earlier_pilots, design.start, 7 * weeks, point.pre_days, design.dataset_name)
    return replace(design, days=7 * weeks, pre_days=point.pre_days,
                   meets_target=point.mde_yearly <= design.smallest_effect_yearly, design_id=None)


def check_earlier_pilots(earlier: tuple[EarlierPilot, ...], start: date, days: int, pre_days: int,
                         dataset_name: str = "") -> None:
    """Refuse a pilot from ``start`` (``days`` long) compared with the ``pre_days`` before it
    when that pre-period or the pilot holds an earlier pilot's days (module docstring).
    The message names the earlier pilot, the ordinary days in since, the days still needed
    and the longest pre-period and pilot the days in allow. Raises ``PilotDesignError``."""
    pre_start, end = start - timedelta(days=pre_days), start + timedelta(days=days - 1)
    clashing = [p for p in earlier if p.start <= end and p.end >= pre_start]
    if not clashing:
        return
    last = max(clashing, key=lambda p: p.end)
    if last.end >= start:
        values = {"start": day(start), "earlier": last.describe()}
        raise PilotDesignError(
            M_("The pilot's days from {start} overlap an earlier pilot on '{dataset}', {earlier}: a store cannot be in "
               "two pilots on the same days. Start the new pilot after it.", dataset=dataset_name, **values)
            if dataset_name else
            M_("The pilot's days from {start} overlap an earlier pilot, {earlier}: a store cannot be in two pilots on "
               "the same days. Start the new pilot after it.", **values))
    clean = (start - last.end).days - 1  # ordinary days between the earlier pilot and the new one
    weeks_in = clean // 7
    values = {"first": day(pre_start), "last": day(start - timedelta(days=1)), "earlier": last.describe(),
              "needed": pre_days, "after": day(last.end), "n": clean, "more": pre_days - clean}
    problem = (
        nM_("The pre-period of this pilot, {first} to {last}, holds the days of an earlier pilot on '{dataset}', "
            "{earlier}: on them the treated stores ordered from the model, so they are not ordinary days before the "
            "new pilot. The new pilot needs {needed} ordinary days after {after}; {n} is in the data. Add {more} more "
            "days of today's practice (on the demo chain: extend it on Import & manage; with your own data: append "
            "them), then design again.",
            "The pre-period of this pilot, {first} to {last}, holds the days of an earlier pilot on '{dataset}', "
            "{earlier}: on them the treated stores ordered from the model, so they are not ordinary days before the "
            "new pilot. The new pilot needs {needed} ordinary days after {after}; {n} are in the data. Add {more} "
            "more days of today's practice (on the demo chain: extend it on Import & manage; with your own data: "
            "append them), then design again.", "n", dataset=dataset_name, **values)
        if dataset_name else
        nM_("The pre-period of this pilot, {first} to {last}, holds the days of an earlier pilot, {earlier}: on them "
            "the treated stores ordered from the model, so they are not ordinary days before the new pilot. The new "
            "pilot needs {needed} ordinary days after {after}; {n} is in the data. Add {more} more days of today's "
            "practice (on the demo chain: extend it on Import & manage; with your own data: append them), then "
            "design again.",
            "The pre-period of this pilot, {first} to {last}, holds the days of an earlier pilot, {earlier}: on them "
            "the treated stores ordered from the model, so they are not ordinary days before the new pilot. The new "
            "pilot needs {needed} ordinary days after {after}; {n} are in the data. Add {more} more days of today's "
            "practice (on the demo chain: extend it on Import & manage; with your own data: append them), then "
            "design again.", "n", **values))
    if weeks_in < 1:
        raise PilotDesignError(problem)
    raise PilotDesignError(joined([problem, nM_(
        "Or compare with the {n} week of ordinary days already in: a pre-period and a pilot of at most {n} week each.",
        "Or compare with the {n} weeks of ordinary days already in: a pre-period and a pilot of at most {n} weeks "
        "each.", "n", n=weeks_in)]))


def earlier_pilots(warehouse: Warehouse, dataset: Dataset) -> tuple[EarlierPilot, ...]:
    """The pilots whose days are in ``dataset``, oldest first. On the generated demo chain:
    the days each simulated pilot appended (``Warehouse.list_appends``, source
    ``simulated pilot: S001, S002 ordered from batch version 1, 2026-11-01 to 2026-11-14``,
    as ``core.pilot.simulate`` writes it; pieces of one pilot simulated a few days at a
    time are joined). On imported data: every stored design on the dataset (any project)
    with days in the data, from its start to its last day present — its days arrive by
    appending, and nothing else says whether they were the pilot's."""
    from core.data.demo import is_generated

    found: list[EarlierPilot] = []
    if is_generated(dataset):
        found = [EarlierPilot(start=a.start, end=a.end, treated=a.treated, source=a.source)
                 for a in simulated_appends(warehouse, dataset.dataset_id)]
    else:
        rows = warehouse.query("SELECT design_id, created_at, design FROM pilot_designs WHERE dataset_id = ? "
                               "ORDER BY created_at", [dataset.dataset_id])
        table = quote(dataset.table_name)
        for row in rows.itertuples(index=False):
            try:
                values = json.loads(row.design)
                start = date.fromisoformat(values["start"])
                end = start + timedelta(days=int(values["days"]) - 1)
                treated = tuple(values["treated"])
            except (KeyError, TypeError, ValueError):
                continue  # a design this version cannot read: the Pilot page says so
            last = warehouse.query(f"SELECT max({DATE}) AS last FROM {table} WHERE {DATE} BETWEEN ? AND ?",
                                   [start, end])["last"].iloc[0]
            if pd.notna(last):
                found.append(EarlierPilot(start=start, end=pd.Timestamp(last).date(), treated=treated,
                                          source=f"pilot design of {pd.Timestamp(row.created_at):%Y-%m-%d %H:%M}"))
    joined: list[EarlierPilot] = []
    for pilot in sorted(found, key=lambda p: (p.start, p.end)):
        if joined and joined[-1].treated == pilot.treated and pilot.start <= joined[-1].end + timedelta(days=1):
            joined[-1] = replace(joined[-1], end=max(joined[-1].end, pilot.end))
        else:
            joined.append(pilot)
    return tuple(joined)


def readout_set_aside(warehouse: Warehouse, project_id: str) -> str | None:
    """Why saving a new design for ``project_id`` needs the user's confirmation: the
    project's newest design has a stored readout, and the decision reads the newest
    design's readout (``core.pilot.store.online_evidence``), so a new design sets it aside
    until its own pilot is read out. The sentence names the pilot and the readout; None
    when the newest design has no readout (nothing is set aside)."""
    from core.pilot.store import latest_design, latest_readout

    design = latest_design(warehouse, project_id)
    readout = latest_readout(warehouse, project_id, design.design_id) if design is not None else None
    if readout is None:
        return None
    read = datetime.fromisoformat(str(readout["created_at"]))
    return gettext("The project's pilot of {start} to {end} ({stores} treated) was read out on {read} {time}. The "
                   "GO/NO-GO decision reads the newest design's readout: saving a new design sets that readout aside, "
                   "and the decision has no measured pilot until the new one is read out.").format(
        start=fmt.date(design.start), end=fmt.date(design.end), stores=", ".join(design.treated),
        read=fmt.date(read.date()), time=f"{read:%H:%M}")


# ---------------------------------------------------------------------------------
# Reading the history from the warehouse
# ---------------------------------------------------------------------------------
def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def not_a_key(column: str, dataset: Dataset) -> Msg:
    return M_("'{column}' is not a key of '{name}': choose one of {keys}.", column=column, name=dataset.name,
              keys=", ".join(dataset.spec.keys))


def store_column(dataset: Dataset) -> str:
    """The key column that names a store: one named like a store (``store_id``, ``店舗``…),
    else the key the ``stores`` side table shares, else the first of several keys.
    Raises ``PilotDesignError`` for a dataset with a single key (no stores to split)."""
    keys = list(dataset.spec.keys)
    found = _find(keys, STORE_NAMES)
    if found:
        return found
    if len(keys) > 1:
        return keys[0]
    raise PilotDesignError(M_("The dataset '{name}' has one key ({keys}): a pilot needs a key column naming the store "
                              "each series belongs to.", name=dataset.name, keys=", ".join(keys)))


def store_features(warehouse: Warehouse, dataset: Dataset, store_col: str, pre_days: int,
                   end: date | None = None) -> tuple[pd.DataFrame, str, tuple[str, ...]]:
    """One row per store: ``store``, ``units`` (a day), ``sales`` (yen a day where the data
    has a price column, else units a day), ``size``, ``region`` and ``label`` where the
    ``stores`` side table (or a per-store attribute, for the region) has them, over the
    ``pre_days`` days up to ``end`` (default: the data's last day). Returns the frame, the
    unit of ``sales`` ("yen" or "units") and notes on what was missing."""
    if dataset.freq != Freq.DAILY:
        raise PilotDesignError(M_("The dataset '{name}' is {freq}: a pilot is designed on daily sales. Import daily "
                                  "data.", name=dataset.name, freq=Msg(FREQ_WORDS[dataset.freq.value])))
    if store_col not in dataset.spec.keys:
        raise PilotDesignError(not_a_key(store_col, dataset))
    end = end or dataset.end_date
    first = end - timedelta(days=pre_days - 1)
    columns = list(dataset.spec.value_columns())
    price = _find(columns, PRICE_NAMES)
    yen = f"sum({TARGET} * {quote(price)})" if price else "NULL"
    table = quote(dataset.table_name)
    frame = warehouse.query(
        f"""SELECT CAST({quote(store_col)} AS VARCHAR) AS store, sum({TARGET}) AS units, {yen} AS yen
            FROM {table} WHERE {DATE} BETWEEN ? AND ? GROUP BY 1 ORDER BY 1""", [first, end])
    days = (end - first).days + 1
    notes: list[Msg] = []
    frame["units"] = frame["units"].astype(float) / days
    if price:
        frame["sales"] = frame["yen"].astype(float) / days
        unit = "yen"
    else:
        frame["sales"] = frame["units"]
        unit = "units"
        notes.append(M_("The data has no price column: stores are matched on units sold a day."))
    frame = frame.drop(columns="yen")
    master = warehouse.side_table(dataset, "stores")
    if master is not None and store_col in master.columns:
        master = master.assign(store=master[store_col].astype(str))
        for name, names in (("region", REGION_NAMES), ("size", SIZE_NAMES), ("label", LABEL_NAMES)):
            column = _find([c for c in master.columns if c not in (store_col, "store")], names)
            if column:
                frame[name] = frame["store"].map(master.set_index("store")[column])
    if "region" not in frame:
        attribute = _find(list(dataset.spec.attributes), REGION_NAMES)
        if attribute:
            per_store = warehouse.query(
                f"""SELECT CAST({quote(store_col)} AS VARCHAR) AS store, min(CAST({quote(attribute)} AS VARCHAR)) AS
                           region, count(DISTINCT {quote(attribute)}) AS n
                    FROM {table} GROUP BY 1""")
            if (per_store["n"] == 1).all():
                frame["region"] = frame["store"].map(per_store.set_index("store")["region"])
    if "size" in frame:
        frame["size"] = pd.to_numeric(frame["size"], errors="coerce")
        if frame["size"].isna().any():
            frame = frame.drop(columns="size")
    if "size" not in frame:
        notes.append(M_("No store size is recorded: stores are matched on sales (and region) only."))
    if "region" in frame and frame["region"].isna().any():
        frame = frame.drop(columns="region")
    if "region" not in frame:
        notes.append(M_("No store region is recorded: pairs are not matched on region."))
    if "label" in frame:
        frame["label"] = [f"{s} {n}" if isinstance(n, str) and n else s for s, n in zip(frame["store"], frame["label"],
                                                                                     strict=True)]
    return frame, unit, tuple(notes)


def store_names(warehouse: Warehouse, dataset: Dataset, column: str) -> list[str]:
    """The stores of ``dataset``: the distinct values of its key ``column`` as text, sorted.
    Raises ``PilotDesignError`` when ``column`` is not one of its keys."""
    if column not in dataset.spec.keys:
        raise PilotDesignError(not_a_key(column, dataset))
    frame = warehouse.query(f"SELECT DISTINCT CAST({quote(column)} AS VARCHAR) AS s FROM "
                            f"{quote(dataset.table_name)} ORDER BY 1")
    return frame["s"].tolist()


def pilot_history(warehouse: Warehouse, dataset: Dataset, store_col: str, pre_days: int,
                  economics: object = None) -> PilotHistory:
    """The features and the store-day profit of a stored dataset (profit by
    ``core.money.outcomes.store_day_outcomes``, priced with ``economics``, a
    ``core.money.impact.Economics``: default averages where the data lacks prices)."""
    from core.backtest.engine import dataset_data
    from core.money.impact import Economics, ImpactInputError
    from core.money.outcomes import store_day_outcomes

    features, unit, notes = store_features(warehouse, dataset, store_col, pre_days)
    data = dataset_data(warehouse, dataset)
    try:
        outcomes = store_day_outcomes(data, warehouse.side_table(dataset, "items"), economics or Economics(),
                                      store_col)
    except ImpactInputError as error:
        raise PilotDesignError(M_("The store-day profit the pilot is sized on cannot be computed: {error}",
                                  error=error.args[0] if len(error.args) == 1 else str(error))) from None
    return PilotHistory(features=features, outcomes=outcomes, data_end=dataset.end_date,
                        chain_stores=len(features), sales_unit=unit, notes=notes, dataset_name=dataset.name,
                        earlier_pilots=earlier_pilots(warehouse, dataset))
