"""Money impact: a run's forecasts turned into orders, stockouts, waste and yen.

Two models of money, named on every result (``ImpactResult.money_model``):

**The shelf simulation** (units of items with prices, costs and shelf lives). For every
model of a stored run, each fold is replayed as if the stores had ordered from that
model's forecasts since the fold's first forecast period: each period the order tops
the shelf up to ``forecast + z(service level) x sigma``, where sigma is the RMSE of
that model's own errors for that series in the run's *other* folds (the safety stock
never sees the errors it has to cover). Stock sells oldest first; perishables (shelf
life up to ``PERISHABLE_MAX_DAYS``) are thrown away when they reach their shelf life;
other stock never expires and costs a yearly holding rate. Where the data records
today's orders, today's practice is replayed from them against the same demand, so
every policy is scored by one simulator:

* sold = min(demand, stock on the shelf); lost = demand - sold, worth its margin;
* waste = units that expire, worth their cost; holding = stock kept overnight;
* profit = sold x (price - cost) - waste cost - holding cost; savings = profit - the
  baseline's profit (today's practice where the data records its orders, else
  seasonal naive).

The order-up-to level follows ``ImpactConfig.ordering_rule``: ``NORMAL`` is the
``forecast + z x sigma`` above, right when errors are normal; ``QUANTILE`` is the model's
own quantile of demand at the service level, ``max(0, forecast + offset)``, the offset
being that quantile of the model's errors for the series in the other folds (cross-
conformal: ``core.backtest.quantiles``, Vovk 2015; Barber et al. 2021), pooled over the
series' segment where it has too few errors of its own. Slow movers and perishables have
skewed, bounded errors that a normal quantile misplaces. Both rules are simulated at every
level; ``ImpactResult.ordering_rules`` says per model which earns more.

Each item's service level ("per item", ``OPTIMAL``) is the candidate level that earned
that item the most *in this simulator* in the run's other folds, never the fold it
is scored on (as sigma is), where that choice validated there (``choose_levels``:
chosen without each of those folds in turn, it beat the level best for all items
together on the fold left out); elsewhere the level best for all items together. A newsvendor critical ratio that charges a
leftover its full cost would be wrong here: a leftover that keeps for days sells
tomorrow (on the M5 stores at 5 days of shelf life it asked for a 33 % level, ran out
on 39-85 % of days and wasted nothing).

Every policy starts a fold with the stock today's practice really had that morning
(its recorded orders and sales replayed from the start of the history), so a model
inherits the shelf it would have found.

Observed sales understate demand on stockout periods. Where the data flags them,
demand on those periods is estimated as the recent same-season demand *above* what
sold out (the mean of a normal truncated at the units sold) — an estimate, reported
with how much it added.

**The cost of forecast errors** (turnover, or units without prices and costs): one
unit of the target is worth ``ErrorCosts.unit_value`` yen; each unit forecast above
the actual costs a share of it (``over_share``: holding, markdown), each unit below
another share (``under_share``: the lost margin), from the forecasts' errors directly,
on the periods every policy forecast; no shelf, stock or order is simulated. Where a
year of the data at that value is under ``PLAUSIBLE_YEARLY_YEN`` the result warns that
the unit's value was likely left at ¥1; over ``PLAUSIBLE_MAX_YEARLY_YEN`` (¥10 trillion)
it warns that the value is too large for what the target counts.

Either way money is annualised from the folds' periods and scaled from the run's
series to the whole dataset by their share of sales.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import pandas as pd

from core import fmt, periods
from core.backtest.engine import BacktestData
from core.backtest.engine import segment_of as engine_segment_of
from core.backtest.metrics import ACTUAL, CUTOFF, FORECAST, MODEL, STEP
from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.errors import MitoshiError
from core.i18n import M_, N_, Fmt, Msg, _, from_json, nM_, render, to_json
from core.money.shelf import Plan, ages_of, replay, replay_recorded

PERISHABLE_MAX_DAYS = 14  # longer shelf lives are treated as never expiring within a fold
LOOKBACK_WEEKS = 8
SERVICE_LEVELS = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)
# Below this a year of the whole dataset, valued at what one unit is worth, is too small
# to be a retailer's business: most likely the unit's value was left at ¥1 for a target
# counted in thousands or millions.
PLAUSIBLE_YEARLY_YEN = 10_000_000
# Above this a year of the whole dataset is more than any retailer's turnover (the largest
# Japanese retail group sells about ¥12 trillion a year): most likely a unit's value meant
# for turnover in millions was kept for a target counted in units.
PLAUSIBLE_MAX_YEARLY_YEN = 10_000_000_000_000
OPTIMAL = "profit-optimal"  # each item's level that earned the most in the simulator, in the other folds
SHELF = "shelf"  # money model: the shelf simulation
ERRORS = "errors"  # money model: the cost of forecast errors
MONEY_MODELS = (SHELF, ERRORS)
PRACTICE = "practice"
# How an order is sized from a forecast (``ImpactConfig.ordering_rule``): up to forecast + z x RMSE
# (a normal safety stock), or up to the model's own conformal quantile at the service level.
NORMAL = "normal"
QUANTILE = "quantile"
ORDERING_RULES = (NORMAL, QUANTILE)
# More periods out of stock than the baseline by more than this share (1 percentage point) is said
# beside a saving (ImpactResult.stockout_tradeoff).
STOCKOUT_TOLERANCE = 0.01
# A progress callback: (share done 0–1, what is being done).
Progress = Callable[[float, str], None]
FALLBACK_BASELINE = "snaive"
PERIODS_PER_YEAR = {Freq.DAILY: 365.0, Freq.WEEKLY: 52.0, Freq.MONTHLY: 12.0}
DAYS_PER_PERIOD = {Freq.DAILY: 1, Freq.WEEKLY: 7, Freq.MONTHLY: 30}
PRICE_NAMES = ("price", "sell_price", "unit_price", "価格", "売価", "単価")


class ImpactInputError(MitoshiError):
    """The money impact cannot be computed as asked; the message says what to give."""


# Text kept as facts (issue 15): notes, labels and sentences that a decision snapshot or a
# published batch stores are ``core.i18n.Msg``; they read in the language current where
# they are shown (``str(msg)`` or ``core.i18n.render``), English by default.
Text = Msg | Fmt | str


def unit_yen_fact(value: float) -> Text:
    """``unit_yen`` as a fact, written when shown: ``¥0.3`` / ``0.3円``, ``¥100,000,000`` /
    ``1.00億円``."""
    if abs(value) < 100:
        return M_("¥{amount}", amount=Fmt("trimmed", float(value), {"digits": 2}))
    return Fmt("yen", float(value))


def unit_yen(value: float) -> str:
    """Yen for one unit, with its fraction where it has one: ``¥0.3``, ``¥30``,
    ``¥100,000,000`` (``fmt.yen`` rounds to whole yen); ``0.3円``, ``1.00億円`` in Japanese."""
    return render(unit_yen_fact(value))


def joined(parts: list[Text]) -> Text:
    """Sentences one after the other, as a fact: a space between them in English, none in
    Japanese."""
    if len(parts) == 1:
        return parts[0]
    return M_("{first} {then}", first=parts[0], then=joined(parts[1:]))


def listing(names: list[Text], last: str = "and") -> Text:
    """``A``, ``A and B``, ``A, B and C`` (``last="or"``: ``A, B or C``) as a fact:
    ``A、BとC`` / ``A、BまたはC`` in Japanese."""
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        if last == "or":
            return M_("{first} or {last}", first=names[0], last=names[1])
        return M_("{first} and {last}", first=names[0], last=names[1])
    return M_("{first}, {rest}", first=names[0], rest=listing(names[1:], last))


def semicolons(parts: list[Text]) -> Text:
    """``A; B; C`` as a fact (``A、B、C`` in Japanese)."""
    return parts[0] if len(parts) == 1 else M_("{first}; {rest}", first=parts[0], rest=semicolons(parts[1:]))


_PERIOD_WORDS = {Freq.DAILY: ("day", "days"), Freq.WEEKLY: ("week", "weeks"), Freq.MONTHLY: ("month", "months")}


def period_words(freq: Freq, plural: bool = True) -> Msg:
    """``core.periods.period_noun`` as a fact (the shared catalog's ``pgettext("period", …)``):
    ``days`` / ``日``."""
    return Msg(_PERIOD_WORDS[Freq(freq)][int(plural)], context="period")


def seasonal_naive_words(freq: Freq) -> Msg:
    """``core.periods.seasonal_naive_label`` as a fact: ``seasonal naive (the same weekday
    last week)``."""
    return Msg("seasonal naive ({rule})", {"rule": Msg(periods._SEASONAL_RULE[Freq(freq)])})


def level_text(level: float) -> str:
    """A service level for people: ``95%``, ``99.5%`` (never rounded to ``100%``)."""
    return f"{round(level * 100, 1):g}%"


def ordering_words(service_level: float | None, rule: str = NORMAL) -> Msg:
    """How stores order under ``rule`` at ``service_level`` (None: each item's best level),
    in words, as a fact: ``a 95% service level`` (the normal safety stock), ``the model's 95%
    quantile``; per item ``each item's best service level in the other folds`` and, under
    the quantile rule, ``…, at the model's quantile``."""
    if service_level is None:
        if rule == QUANTILE:
            return M_("each item's best service level in the other folds, at the model's quantile")
        return M_("each item's best service level in the other folds")
    if rule == QUANTILE:
        return M_("the model's {level} quantile", level=level_text(service_level))
    return M_("a {level} service level", level=level_text(service_level))


def rule_words(rule: str) -> Msg:
    """An ordering rule for people, as a fact: ``forecast + a normal safety stock (z ×
    RMSE)`` or ``the model's own quantile (from its past errors)``."""
    if rule == QUANTILE:
        return M_("the model's own quantile (from its past errors)")
    return M_("forecast + a normal safety stock (z × RMSE)")


@dataclass(frozen=True)
class Economics:
    """Average values for datasets that do not carry them (used only where missing).

    ``holding_rate`` is the yearly cost of keeping stock, as a share of its cost
    (capital, space, shrinkage): 25 % is a common retail rule of thumb.
    """

    unit_price: float | None = None
    unit_cost: float | None = None
    shelf_life_days: int | None = None
    holding_rate: float = 0.25

    def __post_init__(self) -> None:
        problems: list[Text] = []
        if self.unit_price is not None and not self.unit_price > 0:
            problems.append(M_("The average unit price must be above ¥0."))
        if self.unit_cost is not None and not self.unit_cost >= 0:
            problems.append(M_("The average unit cost cannot be negative."))
        if self.unit_price and self.unit_cost is not None and self.unit_cost >= self.unit_price:
            problems.append(M_("The average unit cost must be below the unit price, or nothing sells at a profit."))
        if self.shelf_life_days is not None and not self.shelf_life_days >= 1:
            problems.append(M_("The shelf life must be at least 1 day."))
        if not 0 <= self.holding_rate <= 2:
            problems.append(M_("The yearly holding rate must be between 0 % and 200 % of the stock's cost."))
        if problems:
            raise ImpactInputError(joined(problems))


@dataclass(frozen=True)
class ErrorCosts:
    """What forecast errors cost, for the cost-of-error model of money.

    ``unit_value`` is what one unit of the target is worth in yen: ¥1 for a target in
    yen of turnover, the exchange rate times a million for turnover in millions of
    dollars, an item's price for units. A unit forecast too low (``under_share``) loses
    that share of its value — its gross margin, about 30 % in retail; a unit forecast
    too high (``over_share``) costs that share — holding, markdown and waste, about
    10 %. ``under`` and ``over`` are the resulting yen per unit (share × value).
    """

    unit_value: float = 1.0
    under_share: float = 0.30
    over_share: float = 0.10

    def __post_init__(self) -> None:
        if not self.unit_value > 0:
            raise ImpactInputError(M_("What one unit of the target is worth must be above ¥0 (¥1 for turnover in "
                                      "yen; an item's price for units)."))
        if not (self.over_share >= 0 and self.under_share >= 0) or not (self.over_share + self.under_share > 0):
            raise ImpactInputError(M_("The cost of a unit over-forecast and of a unit under-forecast cannot be "
                                      "negative, and at least one must be above 0 %."))

    @property
    def under(self) -> float:
        """Yen lost per unit forecast too low."""
        return self.under_share * self.unit_value

    @property
    def over(self) -> float:
        """Yen lost per unit forecast too high."""
        return self.over_share * self.unit_value

    @classmethod
    def from_dict(cls, values: dict) -> ErrorCosts:
        """The inverse of ``asdict``; settings stored before the unit's value was asked
        (``{"over": yen, "under": yen}``) read as a unit worth ¥1 with those shares,
        which are the same yen per unit."""
        values = dict(values)
        if {"over", "under"} & set(values) and not {"unit_value", "under_share", "over_share"} & set(values):
            return cls(unit_value=1.0, under_share=float(values.pop("under", 0.30)),
                       over_share=float(values.pop("over", 0.10)), **values)
        return cls(**values)


@dataclass(frozen=True)
class ImpactConfig:
    """How money is counted, and how the stores would order from forecasts.

    ``money_model`` is ``SHELF`` (simulate orders, stock, waste: units of items with
    prices, costs and shelf lives) or ``ERRORS`` (yen per unit over- and under-
    forecast, ``error_costs``). ``service_level`` is the chance a period's demand is
    covered: one level for every item, or ``None`` for each item's level chosen by the
    simulator itself in the run's other folds. ``ordering_rule`` says how an order meets
    that level: ``NORMAL`` tops the shelf up to ``forecast + z(level) x RMSE`` (errors
    assumed normal), ``QUANTILE`` up to the model's own quantile at the level,
    ``max(0, forecast + offset)``, the offset the level's empirical quantile of the
    model's errors in the other folds (cross-conformal, ``core.backtest.quantiles``).
    The result shows both rules either way (``ImpactResult.ordering_rules``); this one
    makes the figures of the summary, the sensitivity and the decision.
    """

    service_level: float | None = None
    economics: Economics = field(default_factory=Economics)
    correct_censoring: bool = True
    sensitivity: tuple[float, ...] = SERVICE_LEVELS
    money_model: str = SHELF
    error_costs: ErrorCosts = field(default_factory=ErrorCosts)
    ordering_rule: str = NORMAL

    def __post_init__(self) -> None:
        levels = (*(() if self.service_level is None else (self.service_level,)), *self.sensitivity)
        for level in levels:
            if not 0.05 <= level <= 0.995:
                raise ImpactInputError(M_("A service level must be between 5 % and 99.5 % (got {level}).",
                                          level=Fmt("pct", float(level))))
        if self.money_model not in MONEY_MODELS:
            raise ImpactInputError(M_("Unknown model of money '{name}': use '{shelf}' (shelf simulation) or "
                                      "'{errors}' (cost of forecast errors).", name=self.money_model, shelf=SHELF,
                                      errors=ERRORS))
        if self.ordering_rule not in ORDERING_RULES:
            raise ImpactInputError(M_("Unknown ordering rule '{name}': use '{normal}' (forecast + a normal safety "
                                      "stock) or '{quantile}' (the model's own quantile).", name=self.ordering_rule,
                                      normal=NORMAL, quantile=QUANTILE))

    @property
    def level_label(self) -> Msg:
        """How the simulated stores order, in words, as a fact: ``a 95% service level``
        (normal safety stock), ``the model's 95% quantile``, ``each item's best service
        level in the other folds`` (with ``, at the model's quantile`` under the quantile
        rule)."""
        if self.money_model == ERRORS:
            return M_("the forecast as it is")
        return ordering_words(self.service_level, self.ordering_rule)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ImpactConfig:
        """The inverse of ``to_dict`` (as stored with a project); settings stored by an
        earlier version read too (costs of errors in yen per unit, fewer service levels).
        Raises ``ImpactInputError`` on values that are not valid settings."""
        try:
            return cls(service_level=values.get("service_level"),
                       economics=Economics(**values.get("economics", {})),
                       correct_censoring=bool(values.get("correct_censoring", True)),
                       # Levels tried since the settings were stored (99.5 %) are tried too.
                       sensitivity=tuple(sorted(set(values.get("sensitivity", ())) | set(SERVICE_LEVELS))),
                       money_model=values.get("money_model", SHELF),
                       error_costs=ErrorCosts.from_dict(values.get("error_costs", {})),
                       # Settings stored before the rule could be chosen ordered at a normal safety stock.
                       ordering_rule=values.get("ordering_rule", NORMAL))
        except (TypeError, ValueError) as error:
            raise ImpactInputError(M_("The stored money settings cannot be read ({error}): type them again.",
                                      error=str(error))) from None


@dataclass(frozen=True)
class Censoring:
    """How far observed sales understate demand in the folds."""

    recorded: bool  # the data flags stockout days
    stockout_days: int
    series_days: int
    corrected: bool
    units_added: float
    observed_units: float
    freq: Freq = Freq.DAILY

    @property
    def share_of_days(self) -> float:
        return self.stockout_days / self.series_days if self.series_days else 0.0

    def sentence(self) -> Msg:
        """What the stockouts do to the money, as a fact (a note of ``ImpactResult.notes``)."""
        days = period_words(self.freq)
        if not self.recorded:
            return M_("This dataset does not record stockout {periods}. Where shelves ran empty, sales understate "
                      "demand, so lost sales are undercounted for every policy.", periods=days)
        parts: list[Text] = [M_(
            "Shelves ran empty on {stockouts:,} of {total:,} {unit} ({share}) in the folds: on those {periods} sales "
            "understate demand.", stockouts=self.stockout_days, total=self.series_days,
            unit=Msg(periods._SERIES_PERIODS[Freq(self.freq)]), share=Fmt("pct", self.share_of_days), periods=days)]
        if self.corrected and self.observed_units:
            parts.append(M_(
                "Demand on them was estimated as the recent {season} demand above what sold out, adding {units:,.0f} "
                "units ({share} of sales) — an estimate; without it today's practice would show no lost sales at "
                "all.", season=Msg(_SEASON[Freq(self.freq)]), units=self.units_added,
                share=Fmt("pct", self.units_added / self.observed_units)))
        elif not self.corrected:
            parts.append(M_("They were not corrected: today's practice shows no lost sales on them, which flatters "
                            "it."))
        return joined(parts)


# The season of the recent demand a stockout's demand is estimated from.
_SEASON = {Freq.DAILY: N_("same-weekday"), Freq.WEEKLY: N_("same-week"), Freq.MONTHLY: N_("same-month")}


@dataclass(frozen=True)
class ImpactResult:
    config: ImpactConfig
    baseline: str  # the policy savings are measured against
    baseline_label: Text  # a fact (``Msg``): ``today's practice``, ``seasonal naive (…) ordering``
    summary: pd.DataFrame  # one row per policy at the chosen service level ("label", "ordering": facts)
    sensitivity: pd.DataFrame  # policy, service_level, yearly money and rates (empty for the cost of errors)
    by_segment: pd.DataFrame  # segment, group, policy, yearly profit and savings
    censoring: Censoring
    # Where prices, costs and shelf lives (or the costs of errors) came from: an English label (a catalog msgid:
    # show it with ``core.i18n.gettext``) -> a fact (``Msg``).
    sources: dict[str, Text]
    n_series: int
    fold_days: int  # series-independent periods simulated (folds x horizon), days only for daily data
    folds: int
    periods_per_year: float
    chain_scale: float  # dataset sales / the run's series' sales over the folds' dates; yearly money includes it
    money_model: str = SHELF  # SHELF or ERRORS: which model of money made these figures
    freq: Freq = Freq.DAILY
    has_orders: bool = False  # the data records today's orders (practice is replayed from them)
    yearly_units: float = math.nan  # the whole dataset's target a year (units of the target), annualised from the folds
    own_fold_series: int = 0  # series scored in one fold of several: their safety stock sees its own errors
    # Per model, the yearly money at the chosen level under the normal and the quantile rule, and which earns more
    # (ORDERING_RULE_COLUMNS; empty for the cost of forecast errors, where nothing is ordered).
    ordering_rules: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(ORDERING_RULE_COLUMNS)))
    quantile_notes: tuple[Text, ...] = ()  # how the quantiles were made (series on their own errors, pooled): facts

    def to_json(self) -> str:
        """The result as JSON that ``from_json`` reads back equal: its tables column by column
        with their dtypes, texts as facts (``core.i18n.to_json``), floats as Python writes
        them (exactly; NaN as ``NaN``)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["config"] = self.config.to_dict()
        data["censoring"] = asdict(self.censoring)
        for name in _TABLES:
            data[name] = _table_json(data[name])
        return json.dumps(to_json(data), ensure_ascii=False, default=_plain_number)

    @classmethod
    def from_json(cls, text: str) -> ImpactResult:
        """A result written by ``to_json``, back as it was."""
        data = json.loads(text)
        tables = {name: _table_from_json(data.pop(name)) for name in _TABLES}
        config, censoring = data.pop("config"), data.pop("censoring")
        data = from_json(data)
        return cls(**{
            **data, **tables, "freq": Freq(data["freq"]), "quantile_notes": tuple(data["quantile_notes"]),
            "censoring": Censoring(**{**censoring, "freq": Freq(censoring["freq"])}),
            "config": ImpactConfig(
                service_level=config["service_level"], economics=Economics(**config["economics"]),
                correct_censoring=config["correct_censoring"], sensitivity=tuple(config["sensitivity"]),
                money_model=config["money_model"], error_costs=ErrorCosts(**config["error_costs"]),
                ordering_rule=config["ordering_rule"])})

    @property
    def yearly_total_yen(self) -> float:
        """The whole dataset's yearly total of the target at what one unit is worth
        (cost-of-error model; NaN for the shelf simulation, which prices items itself)."""
        if self.money_model != ERRORS:
            return math.nan
        return self.yearly_units * self.config.error_costs.unit_value

    @property
    def yearly_total_sentence(self) -> str:
        """``The data's yearly total at ¥1 a unit: ¥360K`` (cost-of-error model), or '', in the
        current language."""
        total = self.yearly_total_yen
        if math.isnan(total):
            return ""
        value = self.config.error_costs.unit_value
        return _("The data's yearly total at {value} a unit: {total}").format(value=unit_yen(value),
                                                                              total=fmt.yen_short(total))

    @property
    def implausibly_large(self) -> Msg | None:
        """A warning when the yearly money is more than any retailer's (the data's yearly
        total at the unit's value above ``PLAUSIBLE_MAX_YEARLY_YEN``); None otherwise."""
        total = self.yearly_total_yen
        if math.isnan(total) or total <= PLAUSIBLE_MAX_YEARLY_YEN:
            return None
        value = self.config.error_costs.unit_value
        return M_("At {value} a unit, a whole year of this dataset is worth {total}, more than any retailer sells in "
                  "a year (¥10 trillion), so every yen figure here is too large. A unit's value meant for turnover "
                  "in millions does not fit a target counted in units of items: set what one unit of the target is "
                  "worth in yen (an item's price for units).", value=unit_yen_fact(value),
                  total=Fmt("yen_short", total))

    @property
    def implausible(self) -> Msg | None:
        """The warning of ``implausibly_small`` or ``implausibly_large``, if either."""
        return self.implausibly_small or self.implausibly_large

    @property
    def implausibly_small(self) -> Msg | None:
        """A warning when the yearly money cannot be a business's (the data's yearly
        total at the unit's value below ``PLAUSIBLE_YEARLY_YEN``); None otherwise."""
        total = self.yearly_total_yen
        if math.isnan(total) or total >= PLAUSIBLE_YEARLY_YEN:
            return None
        value = self.config.error_costs.unit_value
        return M_("At {value} a unit, a whole year of this dataset is worth only {total}, so every yen figure here "
                  "is tiny. If the target is counted in thousands or millions (turnover in millions of a currency), "
                  "or in units of items that have a price, set what one unit of the target is worth in yen: every "
                  "figure scales with it.", value=unit_yen_fact(value), total=Fmt("yen_short", total))

    @property
    def edge_levels(self) -> dict[str, float]:
        """Models whose best single service level (in ``sensitivity``) is the highest or
        lowest level tried: alias -> that level. A level beyond the edge might earn more."""
        if self.sensitivity.empty:
            return {}
        tried = self.sensitivity["service_level"]
        edges = {float(tried.min()), float(tried.max())}
        best = self.sensitivity.loc[self.sensitivity.groupby("policy")["yearly_profit"].idxmax()]
        return {p: float(v) for p, v in zip(best["policy"], best["service_level"], strict=True) if float(v) in edges}

    def row(self, policy: str) -> pd.Series:
        return self.summary.set_index("policy").loc[policy]

    @property
    def quantile_wins(self) -> int:
        """Models that earn more ordering at their own quantile than at forecast + z x RMSE
        (at the chosen level, ``ordering_rules``)."""
        return int((self.ordering_rules["better"] == QUANTILE).sum()) if not self.ordering_rules.empty else 0

    def stockout_tradeoff(self, policy: str, tolerance: float = STOCKOUT_TOLERANCE) -> str | None:
        """A warning when ``policy`` saves money against the baseline with more periods out of
        stock (by more than ``tolerance``, a share: 0.01 = 1 percentage point), else None.

        The shelf simulation counts a lost sale at its margin only; a customer who finds the
        shelf empty and goes elsewhere next time is not in the yen. A saving bought with emptier
        shelves has to say so where the saving is shown. None for the cost-of-error model (no
        shelf is simulated) and where either rate is unknown. In the current language."""
        if self.money_model != SHELF or policy == self.baseline:
            return None
        chosen, base = self.row(policy), self.row(self.baseline)
        rates = (chosen["stockout_rate"], base["stockout_rate"])
        if any(fmt.missing(r) for r in rates) or chosen["yearly_savings"] <= 0 or rates[0] - rates[1] <= tolerance:
            return None
        noun = periods.out_of_stock(self.freq).lower()
        return _("This saving comes with emptier shelves: {noun} go from {base} with {baseline} to {mine} with "
                 "{model}, {change}. The yen count a lost sale at its margin only, not a customer who does not come "
                 "back. Try a higher service level, or fix a GO/NO-GO criterion on stockouts.").format(
            noun=noun, base=fmt.pct(rates[1]), baseline=render(self.baseline_label), mine=fmt.pct(rates[0]),
            model=fmt.model_name(policy), change=fmt.pp_between(rates[0], rates[1]))

    @property
    def backtest_span(self) -> str:
        """The periods scored, in words: ``84 days``, ``18 months``."""
        return periods.span(self.freq, self.fold_days)

    @property
    def money_model_label(self) -> Msg:
        """Which model of money was used, in a phrase a person reads, as a fact."""
        if self.money_model == ERRORS:
            costs = self.config.error_costs
            return M_("the cost of forecast errors: one unit of the target worth {value}; a unit forecast too low "
                      "loses {under_share} of it ({under}), a unit too high costs {over_share} ({over}) (no shelf, "
                      "stock or orders simulated)", value=unit_yen_fact(costs.unit_value),
                      under_share=Fmt("pct", costs.under_share, {"digits": 0}), under=unit_yen_fact(costs.under),
                      over_share=Fmt("pct", costs.over_share, {"digits": 0}), over=unit_yen_fact(costs.over))
        if self.config.ordering_rule == QUANTILE:
            return M_("a shelf simulation: orders up to each model's own quantile of demand (from its errors in the "
                      "other folds), units sold, sales lost to empty shelves and stock thrown away, in yen")
        return M_("a shelf simulation: orders from each forecast plus a safety stock, units sold, sales lost to "
                  "empty shelves and stock thrown away, in yen")

    @property
    def notes(self) -> list[Msg]:
        """What a reader of the money must know, each note a fact (``Msg``) that reads in
        the language current where it is shown."""
        notes = [self.censoring.sentence()] if self.money_model == SHELF or self.censoring.recorded else []
        if self.money_model == ERRORS:
            notes.append(M_("Money is counted as {model}.", model=self.money_model_label))
            if self.implausible:
                notes.append(self.implausible)
        if self.folds == 1 and self.money_model == SHELF:
            notes.append(M_("With a single fold the safety stock and each item's service level are sized on the "
                            "very errors they have to cover: the models' money is an optimistic estimate. Run "
                            "several folds to size them on the others."))
        if self.money_model == SHELF and self.config.ordering_rule == QUANTILE:
            notes.extend(self.quantile_notes)
        if self.own_fold_series and self.money_model == SHELF and self.folds > 1:
            notes.append(M_("{n:,} series were scored in one fold only: their safety stock and service level are "
                            "sized on that fold's own errors (no other fold has any), an optimistic estimate for "
                            "them.", n=self.own_fold_series))
        by_level: dict[float, list[Text]] = {}
        for policy, level in self.edge_levels.items():
            by_level.setdefault(level, []).append(Fmt("model_name", policy))
        for level, names in by_level.items():  # one note per edge, naming every model at it
            if level == self.sensitivity["service_level"].max():
                notes.append(M_("The best single service level for {who} is the highest tried ({level}): one "
                                "beyond it might earn more still.", who=listing(names), level=level_text(level)))
            else:
                notes.append(M_("The best single service level for {who} is the lowest tried ({level}): one "
                                "beyond it might earn more still.", who=listing(names), level=level_text(level)))
        if self.baseline != PRACTICE:
            notes.append(M_("Today's ordering is not recorded in this dataset, so savings are measured against "
                            "{baseline}.", baseline=self.baseline_label))
        if self.chain_scale > 1.0001:
            notes.append(M_("The run covers part of the dataset: chain figures scale the run's money by {scale}×, "
                            "the whole dataset's sales over the run's.", scale=f"{self.chain_scale:.2f}"))
        return notes


_TABLES = ("summary", "sensitivity", "by_segment", "ordering_rules")  # ImpactResult's tables


def _plain_number(value: object) -> object:
    """A numpy number as the Python number it holds (for ``json.dumps``)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _table_json(frame: pd.DataFrame) -> dict:
    """A table as JSON-ready data: its columns' names, dtypes and values (texts as facts)."""
    return {"columns": [str(c) for c in frame.columns], "dtypes": [str(t) for t in frame.dtypes],
            "values": [to_json(frame[c].tolist()) for c in frame.columns]}


def _table_from_json(data: dict) -> pd.DataFrame:
    """The inverse of ``_table_json``."""
    return pd.DataFrame({c: pd.Series(from_json(v) if t == "object" else v, dtype=object if t == "object" else t)
                         for c, t, v in zip(data["columns"], data["dtypes"], data["values"], strict=True)},
                        columns=data["columns"])


# ---------------------------------------------------------------------------------
# Item economics
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Items:
    cost: np.ndarray  # (series,) yen
    shelf_periods: np.ndarray  # (series,) periods; 0 = never expires
    price_column: str | None
    unit_price: np.ndarray  # (series,) yen, used where there is no price column
    sources: dict[str, Text]  # an English label (a catalog msgid) -> where its values came from (a fact)


def price_column(data: BacktestData) -> str | None:
    """The dataset's column of prices charged, if it has one."""
    candidates = [c for c in data.frame.columns if c.lower() in PRICE_NAMES]
    return candidates[0] if candidates else None


def _item_values(data: BacktestData, series: pd.Index, items: pd.DataFrame | None, column: str) -> pd.Series | None:
    """A per-series value from the item master (joined on the key columns they share)."""
    if items is None or column not in items.columns:
        return None
    on = [k for k in data.keys if k in items.columns]
    if not on:
        return None
    keys = data.frame.drop_duplicates(SERIES_ID).set_index(SERIES_ID)[on]
    master = items.drop_duplicates(on).set_index(on)[column]
    joined = keys.join(master, on=on)[column].reindex(series)
    return None if joined.isna().all() else pd.to_numeric(joined, errors="coerce")


# The labels of ``ImpactResult.sources`` (catalog msgids: show them with ``core.i18n.gettext``).
UNIT_PRICE, UNIT_COST, SHELF_LIFE = N_("unit price"), N_("unit cost"), N_("shelf life")
UNIT_VALUE, UNDER_COST, OVER_COST = (N_("what one unit is worth"), N_("cost of a unit under-forecast"),
                                     N_("cost of a unit over-forecast"))
# The section of the Money and Hand-off pages where averages are typed (``ui.money``), named in messages.
SETTINGS_SECTION = N_("Prices, costs, shelf life and demand on stockout days")


def _economics(data: BacktestData, series: pd.Index, items: pd.DataFrame | None, economics: Economics) -> _Items:
    sources: dict[str, Text] = {}
    missing: list[str] = []
    column = price_column(data)

    def pick(name: str, average: float | None, label: str) -> np.ndarray:
        shown: Text = ("" if average is None else nM_("{n:,g} day", "{n:,g} days", "n", n=average)
                       if name == "shelf_life_days" else unit_yen_fact(average))
        found = _item_values(data, series, items, name)
        if found is not None and found.notna().all():
            sources[label] = M_("the item master ({column})", column=name)
            return found.to_numpy(float)
        if average is None:
            missing.append(label)
            return np.zeros(len(series))
        if found is not None:
            sources[label] = M_("the item master ({column}), and your average {value} where it has none",
                                column=name, value=shown)
            return found.fillna(average).to_numpy(float)
        sources[label] = M_("your average ({value})", value=shown)
        return np.full(len(series), float(average))

    unit_price = pick("unit_price", economics.unit_price, UNIT_PRICE)
    if column is not None:
        sources[UNIT_PRICE] = M_("the dataset's '{column}' column (the price charged each day)", column=column)
        missing = [m for m in missing if m != UNIT_PRICE]
    cost = pick("unit_cost", economics.unit_cost, UNIT_COST)
    shelf_days = pick("shelf_life_days", economics.shelf_life_days, SHELF_LIFE)
    if missing:
        names: list[Text] = [Msg(m) for m in missing]
        raise ImpactInputError(M_(
            "This dataset has no {missing} for its items. Give an average {wanted} under '{section}', and the money "
            "impact will use them (an item master with unit_price, unit_cost and shelf_life_days columns would give "
            "each item its own).", missing=listing(names, "or"), wanted=listing(names, "and"),
            section=M_(SETTINGS_SECTION)))
    period = DAYS_PER_PERIOD[data.freq]
    shelf = np.where(shelf_days <= PERISHABLE_MAX_DAYS, np.ceil(shelf_days / period), 0).astype(int)
    return _Items(cost=cost, shelf_periods=shelf, price_column=column, unit_price=unit_price, sources=sources)


def _replay_practice(orders: np.ndarray, sales: np.ndarray, shelf: np.ndarray, snapshots: dict[int, int]
                     ) -> dict[int, np.ndarray]:
    """Today's practice replayed from its recorded orders and sales (days x series):
    the shelf's dense stock by age (``core.money.shelf``) at the start of each requested
    day index."""
    wanted = set(snapshots.values())
    return replay_recorded(orders, sales, shelf, max(wanted, default=0), wanted)[1]


@dataclass(frozen=True)
class RecordedDays:
    """A dataset's history as recorded, with what today's practice threw away.

    Days x series matrices (``days``, ``series`` name their rows and columns), every day
    of the data from its first: ``sales`` (units), ``demand`` (units: sales, lifted on
    stockout days by the same censoring correction as the money impact), ``price``
    (yen a unit that day), ``orders`` (units), ``stockout`` (1 where the shelf ran
    empty), ``on_sale`` (the series has a row that day), ``expired`` (units thrown away
    that night: the recorded orders and sales replayed on the shelf from the first day,
    oldest first, each item at its shelf life); ``cost`` (series,) yen a unit.
    """

    days: pd.DatetimeIndex
    series: pd.Index
    sales: np.ndarray
    demand: np.ndarray
    price: np.ndarray
    orders: np.ndarray
    stockout: np.ndarray
    on_sale: np.ndarray
    expired: np.ndarray
    cost: np.ndarray
    stockout_recorded: bool
    sources: dict[str, Text]


def recorded_days(data: BacktestData, items: pd.DataFrame | None, economics: Economics,
                  correct_censoring: bool = True) -> RecordedDays:
    """The recorded history of every series of ``data`` priced as the money impact prices
    it (``_economics``: the item master, the dataset's price column, the averages of
    ``economics``), its waste replayed from the recorded orders (``core.money.shelf``).

    Raises ``ImpactInputError`` when the dataset records no orders, or prices, costs or
    shelf lives are missing and ``economics`` gives no averages."""
    if not data.orders or data.orders not in data.frame.columns:
        raise ImpactInputError(M_("This dataset does not record what was ordered: the pilot's outcome (waste, "
                                  "profit) needs each day's orders. Map the column of ordered units when importing, "
                                  "or append the pilot's rows with their orders."))
    series = pd.Index(sorted(data.frame[SERIES_ID].unique()), name=SERIES_ID)
    items_economics = _economics(data, series, items, economics)
    history = _history(data.frame, data, items_economics, series, correct_censoring)
    orders, sales = history["orders"], history["sales"]
    expired = replay_recorded(orders, sales, items_economics.shelf_periods, len(sales))[0]
    return RecordedDays(
        days=history["days"], series=series, sales=sales, demand=history["demand"],
        price=np.asarray(history["price"], dtype=float), orders=orders, stockout=history["stockout"],
        on_sale=history["on_sale"], expired=expired, cost=items_economics.cost,
        stockout_recorded=bool(history["recorded"]), sources=items_economics.sources)


# ---------------------------------------------------------------------------------
# Demand
# ---------------------------------------------------------------------------------
def _normal_quantile(level: np.ndarray | float) -> np.ndarray:
    """z of the standard normal at ``level`` (``scipy.stats.norm.ppf``, without importing
    scipy.stats: a second of a fresh process)."""
    from scipy.special import ndtri
    return ndtri(level)


def _normal_density(z: np.ndarray) -> np.ndarray:
    """The standard normal's density (``scipy.stats.norm.pdf``, the same arithmetic)."""
    return np.exp(-z**2 / 2.0) / np.sqrt(2 * np.pi)


def _lifted_demand(sales: np.ndarray, stockout: np.ndarray, season: int) -> np.ndarray:
    """Sales, lifted on stockout days to the expected demand given that it exceeded what
    was on the shelf (days x series).

    Demand on a day is taken as normal with the mean and spread of the same season day
    (weekday) over the previous ``LOOKBACK_WEEKS`` seasons (spread at least Poisson's);
    a sell-out says only that demand reached the units sold ``a``, so the estimate is
    the mean of that normal above ``a``: ``mu + sigma x pdf(z) / sf(z)``, z = (a - mu) / sigma.
    Averaging recent days alone would not do: days that did not sell out are the quieter ones.
    """
    from scipy.special import ndtr  # not on opening a page
    total = np.zeros_like(sales)
    squares = np.zeros_like(sales)
    count = np.zeros_like(sales)
    for k in range(1, LOOKBACK_WEEKS + 1):
        shift = k * season
        if shift >= len(sales):
            break
        total[shift:] += sales[:-shift]
        squares[shift:] += sales[:-shift] ** 2
        count[shift:] += 1
    enough = count >= 3
    mean = np.divide(total, count, out=np.zeros_like(total), where=enough)
    variance = np.divide(squares, count, out=np.zeros_like(total), where=enough) - mean**2
    sigma = np.sqrt(np.maximum(variance, np.maximum(mean, 0.5)))
    z = np.clip((sales - mean) / sigma, -8, 8)
    above = mean + sigma * _normal_density(z) / ndtr(-z)  # the normal's density over its survival at z
    lift = (stockout > 0) & enough
    return np.where(lift, np.maximum(sales, above), sales)


# ---------------------------------------------------------------------------------
# The impact of one run
@dataclass(frozen=True)
class RecordedOrders:
    """Today's practice as the data records it, from the data's first day: units ordered and
    sold (days x series, 0 where a series has no row), what the stock each fold starts with is
    replayed from. ``money_impact`` takes it from the data it is given unless the caller read
    it apart (``core.money.run_impact``: the data then holds only the days the folds price)."""

    days: pd.DatetimeIndex  # every date of the series, from the first, up to at least each fold's first day
    series: pd.Index
    orders: np.ndarray
    sales: np.ndarray


# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Folds:
    """Everything per horizon step (rows) and (fold, series) column."""

    columns: pd.MultiIndex  # (cutoff, unique_id)
    series_of_column: np.ndarray  # index into the run's series
    demand: np.ndarray  # (steps, columns)
    observed: np.ndarray  # sales as recorded
    stockout: np.ndarray
    price: np.ndarray
    practice_orders: np.ndarray | None
    on_sale: np.ndarray  # bool: the series has a row that day
    start: dict[pd.Timestamp, pd.Timestamp]  # first forecast day of each fold


def money_impact(
    forecasts: pd.DataFrame,
    data: BacktestData,
    config: ImpactConfig = ImpactConfig(),
    items: pd.DataFrame | None = None,
    dataset_sales: float | None = None,
    on_progress: Progress | None = None,
    recorded: RecordedOrders | None = None,
) -> ImpactResult:
    """The money impact of every model in a run's long ``forecasts`` (unique_id, ds,
    cutoff, step, actual, model, forecast) on the series of ``data``.

    ``items`` is the dataset's item master, if any; ``dataset_sales`` the whole
    dataset's sales over the folds' dates (to scale the run's series to the chain).
    ``recorded``: today's orders and sales from the data's first day, when ``data`` holds
    only the days the folds price and the ``LOOKBACK_WEEKS`` seasons before them (every
    day of ``data`` otherwise).
    ``config.money_model`` chooses the shelf simulation or the cost of forecast errors
    (see the module's docstring). Raises ``ImpactInputError`` when the run has nothing
    to compare, or the shelf simulation lacks prices, costs or shelf lives.
    """
    report = on_progress or (lambda share, text: None)
    if forecasts.empty:
        raise ImpactInputError(M_("The run has no forecasts to turn into money."))
    models = [m for m in forecasts[MODEL].unique() if m != PRACTICE]
    if not models:
        raise ImpactInputError(M_("The run has only today's practice: run a backtest with at least one model "
                                  "besides practice to see what ordering from a forecast would change."))
    has_orders = data.orders is not None and data.orders in data.frame.columns
    baseline = PRACTICE if has_orders else FALLBACK_BASELINE
    if not has_orders and baseline not in models:
        raise ImpactInputError(M_(
            "This dataset does not record today's orders, and the run has no seasonal naive (snaive) to stand in "
            "for them: run a backtest that includes snaive to measure savings against."))
    baseline_label = _baseline_label(data.freq, config.money_model, has_orders)
    if config.money_model == ERRORS:
        return _error_impact(forecasts, data, config, models, baseline, baseline_label, has_orders, dataset_sales)

    levels = tuple(sorted(set(config.sensitivity) | set(SERVICE_LEVELS) | ({config.service_level} - {None})))
    sim = _simulation(forecasts, data, config, items, has_orders, levels, recorded=recorded)
    folds, economics = sim.folds, sim.economics
    if config.ordering_rule == QUANTILE and config.service_level is not None:
        at = sim.offset_levels.index(config.service_level)
        for model in models:
            if sim.quantile_missing(model)[at].any():
                raise ImpactInputError(M_(
                    "{model} has no {level} quantile: {supported}. Choose a lower service level, each item's "
                    "profit-optimal level, or the normal rule (forecast + z x RMSE), or run more folds or a longer "
                    "horizon.", model=Fmt("model_name", model), level=level_text(config.service_level),
                    supported=supported_level_words(forecasts[forecasts[MODEL] != PRACTICE], model)))
    censoring = Censoring(
        recorded=sim.history["recorded"], stockout_days=int((folds.stockout * folds.on_sale).sum()),
        series_days=int(folds.on_sale.sum()), corrected=sim.history["recorded"] and config.correct_censoring,
        units_added=float(((folds.demand - folds.observed) * folds.on_sale).sum()),
        observed_units=float((folds.observed * folds.on_sale).sum()), freq=data.freq)
    yearly = sim.periods_per_year / sim.fold_days

    policies: dict[tuple[str, float | str | None, str], dict[str, np.ndarray]] = {}
    if has_orders:
        policies[(PRACTICE, None, NORMAL)] = sim.order_as_recorded(folds.practice_orders)
    rule = config.ordering_rule
    chosen_level = OPTIMAL if config.service_level is None else config.service_level
    levels = sim.offset_levels
    leave_out = sim.n_folds > 1
    n_columns = len(folds.columns)
    z = _normal_quantile(np.asarray(levels))
    for i, model in enumerate(models):
        report(0.15 + 0.8 * i / len(models),
               _("Ordering from the forecasts of {model}").format(model=fmt.model_name(model)))
        # Every level under both rules in one pass of the simulator.
        targets = [sim.target_normal(model, np.full(n_columns, z[j])) for j in range(len(levels))]
        targets += [sim.target_quantile(model, np.full(n_columns, j)) for j in range(len(levels))]
        replayed = sim.order_up_to(targets)
        for j, level in enumerate(levels):
            policies[(model, level, NORMAL)] = replayed[j]
            policies[(model, level, QUANTILE)] = replayed[len(levels) + j]
        # Each item's level under each rule: the one that earned it the most in the other folds, in this very
        # simulator.
        best = []
        for each in ORDERING_RULES:
            profits = np.vstack([_profit(policies[(model, level, each)]) for level in levels])
            if each == QUANTILE:  # a level with no quantile is not a candidate
                profits = np.where(sim.quantile_missing(model), np.nan, profits)
            choice = choose_levels(profits, sim.fold_of_column, folds.series_of_column, leave_out=leave_out)
            best.append(sim.target_normal(model, z[choice]) if each == NORMAL else sim.target_quantile(model, choice))
        for each, totals in zip(ORDERING_RULES, sim.order_up_to(best), strict=True):
            policies[(model, OPTIMAL, each)] = totals
    report(0.97, _("Adding up"))
    scale = (dataset_sales / censoring.observed_units) if dataset_sales and censoring.observed_units else 1.0
    chosen = {m: policies[(m, chosen_level, rule)] for m in models}
    if has_orders:
        chosen = {PRACTICE: policies[(PRACTICE, None, NORMAL)], **chosen}
    base_profit = float(_profit(chosen[baseline]).sum())
    summary = pd.DataFrame([_row(p, None if p == PRACTICE else chosen_level, totals, yearly, base_profit, scale,
                                 rule) for p, totals in chosen.items()])
    summary.insert(1, "label", summary["policy"].map(_label))
    shown = [OPTIMAL, *sorted(set(config.sensitivity) | ({config.service_level} - {None}))]
    def available(m: str, level: float, each: str) -> bool:
        return each != QUANTILE or not sim.quantile_missing(m)[sim.offset_levels.index(level)].any()

    sensitivity = pd.DataFrame([_row(m, level, policies[(m, level, rule)], yearly, base_profit, scale, rule)
                                for m in models for level in shown if level != OPTIMAL and available(m, level, rule)],
                               columns=list(SENSITIVITY_COLUMNS))
    rules = pd.DataFrame([{
        "policy": m,
        **{f"{each}_yearly_profit": float(_profit(policies[(m, chosen_level, each)]).sum()) * yearly * scale
           if chosen_level == OPTIMAL or available(m, chosen_level, each) else math.nan
           for each in ORDERING_RULES}} for m in models])
    for each in ORDERING_RULES:
        rules[f"{each}_yearly_savings"] = rules[f"{each}_yearly_profit"] - base_profit * yearly * scale
    rules["quantile_gain"] = rules[f"{QUANTILE}_yearly_profit"] - rules[f"{NORMAL}_yearly_profit"]
    rules["better"] = np.where(rules["quantile_gain"] > 0, QUANTILE,
                               np.where((rules["quantile_gain"] < 0) | rules[f"{QUANTILE}_yearly_profit"].isna(),
                                        NORMAL, "same"))  # no quantile at the level: only the normal rule orders
    return ImpactResult(
        config=config, baseline=baseline, baseline_label=baseline_label,
        summary=summary.sort_values("yearly_profit", ascending=False, ignore_index=True),
        sensitivity=sensitivity[list(SENSITIVITY_COLUMNS)],
        by_segment=_by_segment(chosen, baseline, folds.series_of_column, data, sim.series, yearly * scale),
        censoring=censoring, sources=economics.sources, n_series=len(sim.series), fold_days=sim.fold_days,
        folds=sim.n_folds, periods_per_year=sim.periods_per_year, chain_scale=scale, money_model=SHELF,
        freq=data.freq, has_orders=has_orders, yearly_units=censoring.observed_units * yearly * scale,
        own_fold_series=_scored_in_one_fold(forecasts) if sim.n_folds > 1 else 0,
        ordering_rules=rules[list(ORDERING_RULE_COLUMNS)].sort_values("policy", key=_by_profit(summary),
                                                                      ignore_index=True),
        quantile_notes=sim.offset_notes,
    )


def _by_profit(summary: pd.DataFrame) -> Callable[[pd.Series], pd.Series]:
    """A sort key putting policies in the summary's order (most profitable first)."""
    order = {p: i for i, p in enumerate(summary.sort_values("yearly_profit", ascending=False)["policy"])}
    return lambda policies: policies.map(order)


def _label(policy: str) -> Text:
    """A policy's label in the summary: today's practice as a fact, a model by its alias."""
    return M_("today's practice") if policy == PRACTICE else policy


def _baseline_label(freq: Freq, money_model: str, has_orders: bool) -> Msg:
    """What savings are measured against, in words, as a fact: today's practice where the
    data records its orders; otherwise seasonal naive, as the stores' ordering (shelf
    simulation) or as forecasts (cost of forecast errors, where nothing is ordered)."""
    if has_orders:
        return M_("today's practice")
    if money_model == ERRORS:
        return M_("{baseline} forecasts", baseline=seasonal_naive_words(freq))
    return M_("{baseline} ordering", baseline=seasonal_naive_words(freq))


def _scored_in_one_fold(forecasts: pd.DataFrame) -> int:
    """Series whose forecasts have an actual in exactly one fold (cutoff)."""
    scored = (forecasts[ACTUAL].notna() & (forecasts[MODEL] != PRACTICE)).to_numpy()
    series, names = _codes(forecasts[SERIES_ID])
    fold, cutoffs = _codes(forecasts[CUTOFF])
    seen = np.zeros((len(names), len(cutoffs)), dtype=bool)
    seen[series[scored], fold[scored]] = True
    return int((seen.sum(axis=1) == 1).sum())


# ImpactResult.ordering_rules: per model, yearly money at the chosen level under each rule (savings against the
# result's baseline as it orders in the summary), the quantile rule's gain and which rule earns more.
ORDERING_RULE_COLUMNS = ("policy", "normal_yearly_profit", "quantile_yearly_profit", "normal_yearly_savings",
                         "quantile_yearly_savings", "quantile_gain", "better")
SENSITIVITY_COLUMNS = ("policy", "service_level", "yearly_profit", "yearly_savings", "stockout_rate", "fill_rate",
                       "yearly_waste_cost", "yearly_lost_margin")


@dataclass
class _Simulation:
    """A run's folds ready to be replayed by the shelf simulator, policy after policy."""

    folds: _Folds
    economics: _Items
    history: dict
    series: pd.Index
    initial: np.ndarray  # (ages + 1, columns): the dense stock each fold starts with (core.money.shelf)
    wide: dict[str, np.ndarray]  # model -> (steps, columns) forecasts
    errors: dict[str, np.ndarray]  # model -> (columns,) RMSE in the other folds
    holding: float  # holding cost per period, share of the unit cost
    periods_per_year: float
    offset_levels: tuple[float, ...] = SERVICE_LEVELS  # the levels of ``offsets``, ascending
    offsets: dict[str, np.ndarray] = field(default_factory=dict)  # model -> (levels, columns) conformal offsets
    offset_notes: tuple[str, ...] = ()

    @property
    def fold_of_column(self) -> np.ndarray:
        return self.folds.columns.codes[0]

    @property
    def n_folds(self) -> int:
        return int(self.folds.columns.get_level_values(0).nunique())

    @property
    def fold_days(self) -> int:
        return self.folds.demand.shape[0] * self.n_folds

    def target_normal(self, model: str, z: np.ndarray) -> Plan:
        """The level orders top the shelf up to under the normal rule, forecast + z x sigma
        (``z`` per column), for the columns of a block (``core.money.shelf.Plan``)."""
        wide, errors = self.wide[model], self.errors[model]
        return lambda cols: wide.take(cols, axis=1) + z[cols][None, :] * errors[cols][None, :]

    def target_quantile(self, model: str, level_index: np.ndarray) -> Plan:
        """The model's own quantile at each column's level (an index into ``offset_levels``),
        max(0, forecast + the conformal offset), for the columns of a block."""
        wide = self.wide[model]
        # A level not available (NaN) is simulated at the forecast; its profits are masked (``quantile_missing``).
        offsets = np.nan_to_num(self.offsets[model][level_index, np.arange(len(level_index))], nan=0.0)
        return lambda cols: np.maximum(wide.take(cols, axis=1) + offsets[cols][None, :], 0.0)

    def quantile_missing(self, model: str) -> np.ndarray:
        """(levels, columns): True where the model has no quantile at the level (too few errors)."""
        return np.isnan(self.offsets[model])

    def order_up_to(self, targets: list[Plan]) -> list[dict[str, np.ndarray]]:
        """Each policy of ``targets`` (levels to top the shelf up to each period) replayed:
        each column's totals (``core.money.shelf.replay``)."""
        return self._replay(targets, up_to=True)

    def order_as_recorded(self, orders: np.ndarray) -> dict[str, np.ndarray]:
        """The folds replayed ordering ``orders`` ((steps, columns), today's practice) as they are."""
        return self._replay([lambda cols: orders.take(cols, axis=1)], up_to=False)[0]

    def _replay(self, plans: list[Plan], up_to: bool) -> list[dict[str, np.ndarray]]:
        folds, of = self.folds, self.folds.series_of_column
        return replay(plans, up_to, self.initial, self.economics.shelf_periods[of], folds.demand, folds.on_sale,
                      folds.price, self.economics.cost[of], self.holding)


def _simulation(forecasts: pd.DataFrame, data: BacktestData, config: ImpactConfig, items: pd.DataFrame | None,
                has_orders: bool, levels: tuple[float, ...] = SERVICE_LEVELS, quantiles: bool = True,
                recorded: RecordedOrders | None = None) -> _Simulation:
    series = pd.Index(sorted(forecasts[SERIES_ID].unique()), name=SERIES_ID)
    frame = data.frame[data.frame[SERIES_ID].isin(series)]
    economics = _economics(data, series, items, config.economics)
    history = _history(frame, data, economics, series, config.correct_censoring)
    folds = _folds(forecasts, history, series)
    initial = np.zeros((ages_of(economics.shelf_periods) + 1, len(folds.columns)))
    if has_orders:  # each fold starts with the stock today's practice had that morning
        if recorded is None:
            recorded = RecordedOrders(history["days"], series, history["orders"], history["sales"])
        starts = {c: recorded.days.get_loc(s) for c, s in folds.start.items()}
        states = _replay_practice(*_aligned(recorded, series), economics.shelf_periods, starts)
        for fold, cutoff in enumerate(folds.columns.levels[0]):
            mine = np.flatnonzero(folds.columns.codes[0] == fold)
            initial[:, mine] = states[starts[cutoff]].take(folds.series_of_column[mine], axis=1)
    periods_per_year = PERIODS_PER_YEAR[data.freq]
    steps = folds.demand.shape[0]
    first_step = int(forecasts[STEP].min())
    models = [m for m in forecasts[MODEL].unique() if m != PRACTICE]
    by_model = _by_model(forecasts, models)
    wide = {m: _wide(rows, folds.columns, steps, first_step) for m, rows in by_model.items()}
    levels = tuple(sorted(levels))
    offsets, notes = _quantile_offsets(by_model, data, folds.columns, levels) if quantiles else ({}, ())
    return _Simulation(folds=folds, economics=economics, history=history, series=series, initial=initial, wide=wide,
                       errors=_error_scale(forecasts, folds.columns), holding=config.economics.holding_rate /
                       periods_per_year, periods_per_year=periods_per_year, offset_levels=levels, offsets=offsets,
                       offset_notes=notes)


def _by_model(forecasts: pd.DataFrame, models: list[str]) -> dict[str, pd.DataFrame]:
    """Each model's rows of ``forecasts``: slices where the rows come model by model
    (``core.backtest.store.run_forecast_rows``), no copy of a national chain's millions."""
    model, names = _codes(forecasts[MODEL])
    if len(model) and isinstance(forecasts[MODEL].dtype, pd.CategoricalDtype) and bool(np.all(model[1:] >= model[:-1])):
        edges = np.searchsorted(model, np.arange(len(names) + 1))
        rows = {str(name): forecasts.iloc[edges[i]:edges[i + 1]] for i, name in enumerate(names)}
        return {m: rows[m] for m in models}
    return {m: forecasts[forecasts[MODEL] == m] for m in models}


def _aligned(recorded: RecordedOrders, series: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """``recorded``'s orders and sales with one column per series of ``series`` (0 for one it lacks)."""
    if recorded.series.equals(series):
        return recorded.orders, recorded.sales
    at = recorded.series.get_indexer(series)

    def take(matrix: np.ndarray) -> np.ndarray:
        return np.where(at >= 0, matrix.take(np.maximum(at, 0), axis=1), 0.0)

    return take(recorded.orders), take(recorded.sales)


def _positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Each value's position in ``index`` (-1 where it is not there), looked up once per
    distinct value (a run's series or cutoffs repeat over millions of rows)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
    else:
        codes, uniques = pd.factorize(values)
    at = index.get_indexer(pd.to_datetime(uniques) if isinstance(index, pd.DatetimeIndex) else pd.Index(uniques))
    return np.where(codes >= 0, at[np.maximum(codes, 0)] if len(at) else -1, -1)


def _column_of(cutoffs: pd.Series, series: pd.Series, columns: pd.MultiIndex) -> np.ndarray:
    """Each row's position in ``columns`` ((cutoff, series)), -1 where the run has no such
    column."""
    fold, at = _positions(cutoffs, columns.levels[0]), _positions(series, columns.levels[1])
    grid = np.full((len(columns.levels[0]), len(columns.levels[1])), -1, dtype=np.int64)
    grid[columns.codes[0], columns.codes[1]] = np.arange(len(columns))
    found = (fold >= 0) & (at >= 0)
    return np.where(found, grid[np.maximum(fold, 0), np.maximum(at, 0)], -1)


def _scored_columns(rows: pd.DataFrame, columns: pd.MultiIndex) -> np.ndarray:
    """(columns,): True where ``rows`` (one model's forecasts) have an error (an actual and a
    forecast) in the column's fold and series."""
    scored = (rows[ACTUAL].notna() & rows[FORECAST].notna()).to_numpy()
    col = _column_of(rows[CUTOFF], rows[SERIES_ID], columns)[scored]
    out = np.zeros(len(columns), dtype=bool)
    out[col[col >= 0]] = True
    return out


def segment_of(data: BacktestData) -> pd.Series | None:
    """Each series' segment for pooling the errors of series with too few of their own
    (``core.backtest.quantiles``): the backtest's own (``core.backtest.engine.segment_of``,
    the category on a chain), so that the quantiles the money orders at and the hand-off
    publishes are the ones the backtest scored. None when the data has no segment; NaN for a
    series whose segment value has too few series to pool on its own (it pools all series)."""
    segments = engine_segment_of(data)
    return None if segments is None else segments.where(segments.isna(), segments.astype(str))


def _quantile_offsets(by_model: dict[str, pd.DataFrame], data: BacktestData, columns: pd.MultiIndex,
                      levels: tuple[float, ...]) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """Per model (``by_model``: each model's forecasts), (levels, columns) offsets to add to
    the forecast for the model's own quantile at each level, from its errors in the other
    folds (cross-conformal, ``core.backtest.quantiles.conformal_offsets``; a series with too
    few errors of its own borrows its segment's, ``segment_of``).

    As the normal rule's RMSE does (``_error_scale``), a run of one fold, or a series
    scored in one fold only, falls back to the fold's own errors (in sample: an optimistic
    estimate, which the result's notes say). A level with too few errors even pooled over
    every series has no quantile: its offset stays NaN ("not available"), the per-item
    choice leaves it out (``choose_levels``), a fixed service level there is refused
    (``money_impact``) and the notes name it. Offsets never decrease in the level
    (``quantiles.non_crossing``). Made model by model: each model's errors are pooled on
    their own anyway, and a national chain's 25 million rows are never grouped at once."""
    from core.backtest.quantiles import conformal_offsets, future_offsets, non_crossing
    if not by_model:
        return {}, ()
    segments = segment_of(data)
    models = sorted(by_model)
    table = np.full((len(models), len(levels), len(columns)), np.nan)
    wanted = np.round(np.asarray(levels, dtype=float), 9)

    def located(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Each row's level (a position in ``levels``, -1: none of them) and offset."""
        level = np.round(rows["level"].to_numpy(dtype=float), 9)
        row = np.minimum(np.searchsorted(wanted, level), len(wanted) - 1)
        return np.where(wanted[row] == level, row, -1), rows["offset"].to_numpy(dtype=float)

    found = []
    for i, model in enumerate(models):
        mine = conformal_offsets(by_model[model], levels, segments, out_of_fold=True)
        mine = mine[mine["offset"].notna()]
        found.append(mine)
        row, values = located(mine)
        col = _column_of(mine[CUTOFF], mine[SERIES_ID], columns)
        kept = (col >= 0) & (row >= 0)
        table[i, row[kept], col[kept]] = values[kept]
        if np.isnan(table[i]).any():
            # A fold's own errors where no other fold has any: the offsets from every fold's errors (in sample,
            # the same for each fold: ``conformal_offsets(out_of_fold=False)`` without making them once a fold),
            # for the folds where the model scored the series.
            own = future_offsets(by_model[model], levels, segments)
            own = own[own["offset"].notna()]
            series = columns.levels[1]
            row, values = located(own)
            at = _positions(own[SERIES_ID], series)
            kept = (row >= 0) & (at >= 0)
            spread = np.full((len(levels), len(series)), np.nan)
            spread[row[kept], at[kept]] = values[kept]
            spread = np.where(_scored_columns(by_model[model], columns)[None, :], spread[:, columns.codes[1]], np.nan)
            table[i] = np.where(np.isnan(table[i]), spread, table[i])
    # The in-sample fill may cross the out-of-fold levels: widen again (core.backtest.quantiles.non_crossing).
    table = non_crossing(table, levels, axis=1)
    # NaN stays: "level not available" (too few errors even pooled over every series), never an offset of 0.
    found = pd.concat(found, ignore_index=True)
    return {m: table[i] for i, m in enumerate(models)}, _basis_notes(found) + _missing_notes(table, models, levels,
                                                                                               by_model)


def _missing_notes(table: np.ndarray, models: list[str], levels: tuple[float, ...],
                   by_model: dict[str, pd.DataFrame]) -> tuple[Msg, ...]:
    """Per model, the levels with no quantile for some (fold, series) (``table`` is (models,
    levels, columns) with NaN there), with the highest level its errors support (facts)."""
    notes = []
    for i, model in enumerate(models):
        missing = [level for j, level in enumerate(levels) if np.isnan(table[i, j]).any()]
        if missing:
            notes.append(M_("{model} has no {levels} quantile for some items: {supported}. Those levels are left "
                            "out of each item's choice of level under the quantile rule.",
                            model=Fmt("model_name", model), levels=", ".join(level_text(v) for v in missing),
                            supported=supported_level_words(by_model[model], model)))
    return tuple(notes)


def supported_level_words(forecasts: pd.DataFrame, model: str) -> Msg:
    """What a model's out-of-fold errors in ``forecasts`` can support, in words (a fact):
    ``its 342 errors in the other folds, pooled over every series, support quantiles up to
    99.7 %``. A fold's pool is the other folds' errors, so the smallest pool over the folds
    counts."""
    from core.backtest.quantiles import max_level
    mine = forecasts[(forecasts[MODEL] == model) & forecasts["actual"].notna()]
    per_fold = mine.groupby(CUTOFF).size()
    n = int(per_fold.sum() - per_fold.max()) if len(per_fold) > 1 else int(per_fold.sum())
    return M_("its {n:,} errors in the other folds, pooled over every series, support quantiles up to {level} (a "
              "{top} quantile needs 199)", n=n, level=Fmt("pct", float(np.floor(max_level(n) * 1000) / 1000)),
              top=level_text(0.995))


def _basis_notes(found: pd.DataFrame) -> tuple[Msg, ...]:
    """What the quantiles rest on, in a sentence: at which levels some series have too
    few errors of their own (a 99 % quantile needs 99 errors) and borrow their segment's
    (or every series') errors, scaled to the series; () when every series has its own."""
    if found.empty or "basis" not in found.columns:
        return ()
    own = (found["basis"] == "series").groupby(found["level"]).mean()
    short = own[own < 1]
    if short.empty:
        return ()
    if (own == 0).all():
        return (M_("Every series' quantiles come from its segment's errors in the other folds, pooled and scaled by "
                   "the series' typical miss: no series has enough errors of its own for a quantile of its own (ten "
                   "beyond it)."),)
    parts: list[Text] = [M_("{level} ({share} of them)", level=level_text(level),
                            share=Fmt("pct", float(1 - share), {"digits": 0})) for level, share in short.items()]
    return (M_("The models' quantiles come from each series' own errors in the other folds where it has enough for "
               "the level; otherwise from its segment's errors pooled, scaled by the series' typical miss. Series "
               "short of their own errors, by level: {parts}.", parts=_commas(parts)),)


def _commas(parts: list[Text]) -> Text:
    """``A, B, C`` as a fact (``A、B、C`` in Japanese)."""
    return parts[0] if len(parts) == 1 else M_("{first}, {rest}", first=parts[0], rest=_commas(parts[1:]))


NOISE_SHARE = 0.001  # an item's gain over the common level below 0.1 % of its profit is noise


def _best_levels(per: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, int]:
    """Over the folds ``train`` (bool, folds) of ``per`` (levels, series, folds): each
    series' best level (series,) and the best level for all series together."""
    summed = per[:, :, train].sum(axis=2)  # (levels, series)
    return summed.argmax(axis=0), int(summed.sum(axis=1).argmax())


def choose_levels(profits: np.ndarray, fold_of_column: np.ndarray, series_of_column: np.ndarray,
                  leave_out: bool = True) -> np.ndarray:
    """Each (fold, series) column's service level, as an index into the candidate levels.

    ``profits`` is (levels, columns): the simulated profit of each candidate level in
    each column; ``fold_of_column`` and ``series_of_column`` (columns,) number them from
    0; a NaN profit marks a level not available in the column (no quantile at it: too few
    errors) and that level is never chosen for the column's series. The folds a column's level is chosen from are the *other* folds (``leave_out``;
    every fold otherwise, as for ordering from now on). There the level best for every
    series together (the *common* level) is the default; an item keeps its own best
    level only where that choice *validated*: chosen again without each of those folds
    in turn and scored on the fold left out, it beat the common level chosen the same
    way, in every such fold, by more than noise (``NOISE_SHARE`` of the item's profit).
    With a single fold to choose from there is nothing to validate on: the common level.

    Why validated (nested cross-validation, as in Varma & Simon 2006): an item's own
    argmax over two or three folds always "beats" the common level on those very folds,
    and the profit is lopsided in the level — a level too low loses a day's margin on
    every stockout, one too high costs a little holding — so a noisy own choice loses.
    On the M5 stores at a 5-day shelf life the unvalidated choice lost ¥0.1-0.4M a year
    to the common level for four of six models; validated, it earns what the common
    level earns there, and still earns ~17 % more on the demo chain, where bento and
    drinks want very different levels.
    """
    n_levels = profits.shape[0]
    n_series = int(series_of_column.max()) + 1 if series_of_column.size else 0
    n_folds = int(fold_of_column.max()) + 1 if fold_of_column.size else 0
    per = np.zeros((n_levels, n_series, n_folds))
    for level in range(n_levels):
        np.add.at(per[level], (series_of_column, fold_of_column), profits[level])
    per = np.where(np.isnan(per), -np.inf, per)  # NaN profit: the level is not available there
    series = np.arange(n_series)
    choice = np.zeros((n_series, n_folds), dtype=int)
    for fold in range(n_folds):
        train = np.ones(n_folds, dtype=bool)
        if leave_out and n_folds > 1:
            train[fold] = False
        own, common = _best_levels(per, train)
        validated = np.zeros(n_series, dtype=bool)
        tried = False
        for held in np.flatnonzero(train):
            inner = train.copy()
            inner[held] = False
            if not inner.any():
                continue
            inner_own, inner_common = _best_levels(per, inner)
            with np.errstate(invalid="ignore"):  # -inf - -inf where no level is available
                gain = per[inner_own, series, held] - per[inner_common, series, held]
                won = gain > NOISE_SHARE * np.abs(per[inner_common, series, held])
            validated = won if not tried else validated & won
            tried = True
        choice[:, fold] = np.where(validated, own, common)
    return choice[series_of_column, fold_of_column]


def profit_optimal_levels(forecasts: pd.DataFrame, data: BacktestData, items: pd.DataFrame | None = None,
                          config: ImpactConfig = ImpactConfig()) -> pd.Series:
    """Each series' service level for ordering from now on (as the hand-off does): the
    candidate level (``SERVICE_LEVELS``) that earned it the most in the shelf
    simulation over *every* fold of the run, for the one model of ``forecasts`` (the
    run's long forecasts of that model) where that choice validated on the folds
    (``choose_levels``), else the level best for all series together. Series the run never scored are not in the result.
    The orders are sized by ``config.ordering_rule``: forecast + z x RMSE, or the model's own
    quantile at each level (``ImpactConfig``).

    Raises ``ImpactInputError`` when prices, costs or shelf lives are missing and
    ``config.economics`` gives no averages."""
    models = [m for m in forecasts[MODEL].unique() if m != PRACTICE]
    if len(models) != 1:
        raise ImpactInputError(M_("Choosing service levels needs the forecasts of one model, not {n}.",
                                  n=len(models)))
    has_orders = data.orders is not None and data.orders in data.frame.columns
    sim = _simulation(forecasts[forecasts[MODEL] == models[0]], data, config, items, has_orders,
                      quantiles=config.ordering_rule == QUANTILE)
    levels = np.asarray(sim.offset_levels)
    n_columns = len(sim.folds.columns)
    if config.ordering_rule == QUANTILE:
        targets = [sim.target_quantile(models[0], np.full(n_columns, j)) for j in range(len(levels))]
    else:
        targets = [sim.target_normal(models[0], np.full(n_columns, _normal_quantile(level))) for level in levels]
    profits = np.vstack([_profit(totals) for totals in sim.order_up_to(targets)])
    choice = choose_levels(profits, sim.fold_of_column, sim.folds.series_of_column, leave_out=False)
    per_series = pd.Series(levels[choice], index=sim.series[sim.folds.series_of_column])
    return per_series.groupby(level=0).first().rename("service_level").rename_axis(SERIES_ID)


def _practice_rows(forecasts: pd.DataFrame, data: BacktestData) -> pd.DataFrame:
    """Today's practice as forecasts on the run's (series, date, cutoff) cells, read from the
    data's orders column, for a run that did not backtest ``practice`` (the shelf simulation
    reads the same orders from the data too). Cells without a recorded order are left out."""
    grid = forecasts[forecasts[MODEL] == forecasts[MODEL].iloc[0]].drop(columns=[FORECAST])
    orders = data.frame[[SERIES_ID, DATE, data.orders]].rename(columns={data.orders: FORECAST})
    grid = grid.assign(**{DATE: pd.to_datetime(grid[DATE])}).merge(
        orders.assign(**{DATE: pd.to_datetime(orders[DATE])}), on=[SERIES_ID, DATE], how="inner")
    return grid.assign(**{MODEL: PRACTICE}).dropna(subset=[FORECAST])[list(forecasts.columns)]


def _error_impact(forecasts: pd.DataFrame, data: BacktestData, config: ImpactConfig, models: list[str],
                  baseline: str, baseline_label: str, has_orders: bool, dataset_sales: float | None) -> ImpactResult:
    """The cost of forecast errors: ``over`` yen a unit above the actual, ``under`` yen a
    unit below, summed over the (fold, series, step) cells that *every* policy forecast
    and that have an actual (as ``core.backtest.compare.shared_forecasts`` does for
    runs: a policy with fewer cells would otherwise cost less); profit is minus that
    cost, so savings are the baseline's cost less the model's. Sales, and so the scale
    to the whole dataset, are taken from those shared cells. Today's practice, where
    the data records orders, is scored on its orders as its forecast."""
    costs = config.error_costs
    if has_orders and PRACTICE not in set(forecasts[MODEL]):
        forecasts = pd.concat([forecasts, _practice_rows(forecasts, data)], ignore_index=True)
    policies = [*([PRACTICE] if has_orders else []), *models]
    rows = forecasts[forecasts[MODEL].isin(policies) & forecasts[ACTUAL].notna() & forecasts[FORECAST].notna()]
    key = [SERIES_ID, CUTOFF, STEP]
    shared = rows.groupby(key, observed=True)[MODEL].transform("nunique") == len(policies)
    rows = rows[shared]
    if rows.empty:
        raise ImpactInputError(M_("No period of the run has a forecast of every model and an actual to score it "
                                  "on: run the backtest again on folds with sales."))
    forecast = np.maximum(rows[FORECAST].to_numpy(float), 0.0)
    actual = rows[ACTUAL].to_numpy(float)
    over, under = np.maximum(forecast - actual, 0.0), np.maximum(actual - forecast, 0.0)
    cutoffs = pd.to_datetime(rows[CUTOFF])
    columns = pd.MultiIndex.from_arrays([cutoffs, rows[SERIES_ID]]).unique().sort_values()
    series = pd.Index(sorted(rows[SERIES_ID].unique()), name=SERIES_ID)
    n_folds = int(cutoffs.nunique())
    fold_days = int(rows[STEP].max() - rows[STEP].min() + 1) * n_folds
    periods_per_year = PERIODS_PER_YEAR[data.freq]
    yearly = periods_per_year / fold_days
    col = columns.get_indexer(pd.MultiIndex.from_arrays([cutoffs, rows[SERIES_ID]]))
    per_policy: dict[str, dict[str, np.ndarray]] = {}
    for policy in policies:
        mine = (rows[MODEL] == policy).to_numpy()

        def summed(values: np.ndarray, mine: np.ndarray = mine) -> np.ndarray:
            return np.bincount(col[mine], weights=values[mine], minlength=len(columns))

        over_cost, under_cost = summed(over * costs.over), summed(under * costs.under)
        per_policy[policy] = {
            "ordered": summed(forecast), "sold": summed(np.minimum(forecast, actual)), "lost": summed(under),
            "waste": summed(over), "demand": summed(actual), "revenue": np.full(len(columns), np.nan),
            # profit = margin - waste cost - holding: minus the cost of both kinds of error
            "margin": -under_cost, "lost_margin": under_cost, "waste_cost": over_cost,
            "holding_cost": np.zeros(len(columns)), "stockout_days": np.zeros(len(columns)),
            "days": np.zeros(len(columns))}
    observed = float(per_policy[policies[0]]["demand"].sum())  # the same cells for every policy
    scale = dataset_sales / observed if dataset_sales and observed else 1.0
    base_profit = float(_profit(per_policy[baseline]).sum())
    summary = pd.DataFrame([_row(p, None, t, yearly, base_profit, scale) for p, t in per_policy.items()])
    summary["ordering"] = summary["policy"].map(lambda p: M_("its recorded orders") if p == PRACTICE
                                                else M_("its forecast"))
    summary["stockout_rate"] = np.nan  # no shelf is simulated: there is no stockout to count
    summary["yearly_revenue"] = np.nan
    summary.insert(1, "label", summary["policy"].map(_label))
    series_of_column = series.get_indexer(columns.get_level_values(1))
    censoring = Censoring(recorded=data.stockout is not None and data.stockout in data.frame.columns,
                          stockout_days=0, series_days=len(rows) // max(len(policies), 1), corrected=False,
                          units_added=0.0, observed_units=observed, freq=data.freq)
    return ImpactResult(
        config=config, baseline=baseline, baseline_label=baseline_label,
        summary=summary.sort_values("yearly_profit", ascending=False, ignore_index=True),
        sensitivity=pd.DataFrame(columns=list(SENSITIVITY_COLUMNS)),
        by_segment=_by_segment(per_policy, baseline, series_of_column, data, series, yearly * scale),
        censoring=censoring, sources={
            UNIT_VALUE: M_("your setting ({value})", value=unit_yen_fact(costs.unit_value)),
            UNDER_COST: M_("your setting ({share} of it, {value})", share=Fmt("pct", costs.under_share, {"digits": 0}),
                           value=unit_yen_fact(costs.under)),
            OVER_COST: M_("your setting ({share} of it, {value})", share=Fmt("pct", costs.over_share, {"digits": 0}),
                          value=unit_yen_fact(costs.over))},
        n_series=len(series), fold_days=fold_days, folds=n_folds, periods_per_year=periods_per_year,
        chain_scale=scale, money_model=ERRORS, freq=data.freq, has_orders=has_orders,
        yearly_units=observed * yearly * scale,
    )


def _profit(totals: dict[str, np.ndarray]) -> np.ndarray:
    return totals["margin"] - totals["waste_cost"] - totals["holding_cost"]


def _row(policy: str, level: float | str | None, totals: dict[str, np.ndarray], yearly: float, base_profit: float,
         scale: float, rule: str = NORMAL) -> dict:
    total = {k: float(v.sum()) for k, v in totals.items()}
    profit = float(_profit(totals).sum())
    return {
        "policy": policy,
        "ordering": _ordering(level, rule),
        "service_level": level if isinstance(level, float) else math.nan,
        "ordered": total["ordered"], "sold": total["sold"], "lost": total["lost"], "waste": total["waste"],
        "demand": total["demand"], "revenue": total["revenue"], "lost_margin": total["lost_margin"],
        "waste_cost": total["waste_cost"], "holding_cost": total["holding_cost"], "profit": profit,
        "stockout_rate": total["stockout_days"] / total["days"] if total["days"] else math.nan,
        "fill_rate": total["sold"] / total["demand"] if total["demand"] else math.nan,
        "waste_rate": total["waste"] / total["ordered"] if total["ordered"] else math.nan,
        # Yearly money is for the whole dataset: the run's days annualised, its series scaled by sales.
        "yearly_revenue": total["revenue"] * yearly * scale,
        "yearly_profit": profit * yearly * scale,
        "yearly_waste_cost": total["waste_cost"] * yearly * scale,
        "yearly_lost_margin": total["lost_margin"] * yearly * scale,
        "yearly_holding_cost": total["holding_cost"] * yearly * scale,
        "yearly_savings": (profit - base_profit) * yearly * scale,
        "yearly_savings_run": (profit - base_profit) * yearly,
    }


def _ordering(level: float | str | None, rule: str) -> Msg:
    """How a policy of the summary orders, as a fact: ``its recorded orders``, ``95% service
    level``, ``its 95% quantile``, ``profit-optimal per item (its best level in the other folds)``."""
    if level is None:
        return M_("its recorded orders")
    if level == OPTIMAL:
        if rule == QUANTILE:
            return M_("profit-optimal per item at its quantile (its best level in the other folds)")
        return M_("profit-optimal per item (its best level in the other folds)")
    if rule == QUANTILE:
        return M_("its {level} quantile", level=level_text(level))
    return M_("{level} service level", level=level_text(level))


def _by_segment(chosen: dict[str, dict[str, np.ndarray]], baseline: str, series_of_column: np.ndarray,
                data: BacktestData,
                series: pd.Index, yearly: float) -> pd.DataFrame:
    # Stores, regions, categories: the first key (when there are several) and the attributes, not every item.
    wanted = (data.keys[:1] if len(data.keys) > 1 else ()) + tuple(data.attributes)
    segments = [s for s in wanted if s in data.frame.columns]
    if not segments:
        return pd.DataFrame(columns=["segment", "group", "policy", "yearly_profit", "yearly_savings"])
    attributes = data.frame.drop_duplicates(SERIES_ID).set_index(SERIES_ID).reindex(series)[segments]
    base = _profit(chosen[baseline])
    parts = []
    for policy, totals in chosen.items():
        profit = _profit(totals)
        for segment in segments:
            groups = attributes[segment].astype(str).to_numpy()[series_of_column]
            frame = pd.DataFrame({"group": groups, "profit": profit, "base": base, "waste_cost": totals["waste_cost"],
                                  "lost_margin": totals["lost_margin"]})
            summed = frame.groupby("group", observed=True).sum()
            parts.append(pd.DataFrame({
                "segment": segment, "group": summed.index, "policy": policy,
                "yearly_profit": summed["profit"].to_numpy() * yearly,
                "yearly_savings": (summed["profit"] - summed["base"]).to_numpy() * yearly,
                "yearly_waste_cost": summed["waste_cost"].to_numpy() * yearly,
                "yearly_lost_margin": summed["lost_margin"].to_numpy() * yearly,
            }))
    return pd.concat(parts, ignore_index=True)


def _history(frame: pd.DataFrame, data: BacktestData, economics: _Items, series: pd.Index, correct: bool) -> dict:
    """Days x series matrices of the whole history: sales, demand, price, orders."""
    days = pd.DatetimeIndex(sorted(frame[DATE].unique()))
    # Cells by position (what frame.pivot did, 5x faster on millions of rows).
    row, col = days.get_indexer(frame[DATE]), series.get_indexer(frame[SERIES_ID])
    kept = col >= 0
    row, col = row[kept], col[kept]
    if len(row) and np.bincount(row.astype(np.int64) * len(series) + col).max() > 1:
        raise ImpactInputError(M_("Some series have two rows on the same date: keep one row per series and date."))

    def pivot(column: str) -> np.ndarray:
        out = np.full((len(days), len(series)), np.nan)
        out[row, col] = frame[column].to_numpy(dtype=float, na_value=np.nan)[kept]
        return out

    sales = pivot(TARGET)
    on_sale = ~np.isnan(sales)
    sales = np.nan_to_num(sales)
    recorded = data.stockout is not None and data.stockout in frame.columns
    stockout = np.nan_to_num(pivot(data.stockout)) if recorded else np.zeros_like(sales)
    demand = _lifted_demand(sales, stockout, data.freq.season_length) if recorded and correct else sales
    if economics.price_column is not None:
        price = pivot(economics.price_column)
        price = np.where(np.isnan(price), economics.unit_price[None, :], price)
        if (on_sale & ~(price > 0)).any() and not economics.unit_price.any():
            raise ImpactInputError(M_("Some rows have no price in '{column}': fill them, or give an average unit "
                                      "price for the days without one.", column=economics.price_column))
    else:
        price = np.broadcast_to(economics.unit_price[None, :], sales.shape)
    orders = np.nan_to_num(pivot(data.orders)) if data.orders and data.orders in frame.columns else None
    return {"days": days, "sales": sales, "demand": demand, "price": price, "orders": orders, "on_sale": on_sale,
            "stockout": stockout, "recorded": recorded}


def _folds(forecasts: pd.DataFrame, history: dict, series: pd.Index) -> _Folds:
    """The run's (fold, series, step) grid, filled from the history's matrices."""
    grid = forecasts[forecasts[MODEL] == forecasts[MODEL].iloc[0]][[CUTOFF, SERIES_ID, STEP, DATE]]
    grid = grid.assign(**{CUTOFF: pd.to_datetime(grid[CUTOFF]), DATE: pd.to_datetime(grid[DATE])})
    columns = pd.MultiIndex.from_frame(grid[[CUTOFF, SERIES_ID]].drop_duplicates().sort_values([CUTOFF, SERIES_ID]))
    # With a gap the first forecast step is gap + 1: the simulation starts on it.
    first = int(grid[STEP].min())
    steps = int(grid[STEP].max()) - first + 1
    col = columns.get_indexer(pd.MultiIndex.from_frame(grid[[CUTOFF, SERIES_ID]]))
    row = grid[STEP].to_numpy() - first
    day = history["days"].get_indexer(grid[DATE])
    series_of_column = series.get_indexer(columns.get_level_values(1))
    s = series_of_column[col]
    valid = day >= 0

    def take(matrix: np.ndarray | None) -> np.ndarray | None:
        if matrix is None:
            return None
        out = np.zeros((steps, len(columns)))
        out[row[valid], col[valid]] = matrix[day[valid], s[valid]]
        return out

    return _Folds(
        columns=columns, series_of_column=series_of_column, demand=take(history["demand"]),
        observed=take(history["sales"]), stockout=take(history["stockout"]), price=take(np.asarray(history["price"])),
        practice_orders=take(history["orders"]), on_sale=take(history["on_sale"].astype(float)) > 0,
        start=grid.groupby(CUTOFF)[DATE].min().to_dict(),
    )


def _wide(rows: pd.DataFrame, columns: pd.MultiIndex, steps: int, first: int) -> np.ndarray:
    """One model's forecasts as (steps, columns) from step ``first``; none where it has no row."""
    out = np.zeros((steps, len(columns)))
    col = columns.get_indexer(pd.MultiIndex.from_arrays([pd.to_datetime(rows[CUTOFF]), rows[SERIES_ID]]))
    out[rows[STEP].to_numpy() - first, col] = np.maximum(rows[FORECAST].to_numpy(float), 0.0)
    return out


def _error_scale(forecasts: pd.DataFrame, columns: pd.MultiIndex) -> dict[str, np.ndarray]:
    """Per model and (fold, series): the RMSE of the model's errors for the series in
    the other folds (in all folds when the run has only one), over the rows that have
    an actual (a missing actual is no error of size 0).

    A series scored in one fold only keeps that fold's own errors rather than a pooled
    RMSE of the other series: series differ in scale by orders of magnitude (40 against
    240 units a day), so another series' errors would size its safety stock wrongly;
    the result's notes count such series (``ImpactResult.own_fold_series``)."""
    # Summed by model, series and fold on their codes (a national chain's 25 million rows: a group-by of them
    # takes seconds), the folds in date order.
    scored = (forecasts[ACTUAL].notna() & forecasts[FORECAST].notna()).to_numpy()
    model, models = _codes(forecasts[MODEL])
    series, names = _codes(forecasts[SERIES_ID])
    fold, cutoffs = _codes(pd.to_datetime(forecasts[CUTOFF]), sort=True)
    shape = (len(models), len(names), len(cutoffs))
    cell = np.ravel_multi_index((model[scored], series[scored], fold[scored]), shape)
    squares = ((forecasts[FORECAST] - forecasts[ACTUAL]) ** 2).to_numpy()[scored]
    per_fold = np.bincount(cell, weights=squares, minlength=int(np.prod(shape))).reshape(shape)
    count = np.bincount(cell, minlength=int(np.prod(shape))).reshape(shape)
    per_series, count_series = per_fold.sum(axis=2, keepdims=True), count.sum(axis=2, keepdims=True)
    others, count_others = per_series - per_fold, count_series - count
    # A single fold, or a series scored in one fold only: its own errors are all there is.
    alone = count_others == 0
    others, count_others = np.where(alone, per_series, others), np.where(alone, count_series, count_others)
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse = np.where((count > 0) & (count_others > 0), np.sqrt(others / count_others), 0.0)
    at = names.get_indexer(columns.levels[1])[columns.codes[1]]
    when = cutoffs.get_indexer(pd.to_datetime(columns.levels[0]))[columns.codes[0]]
    known = (at >= 0) & (when >= 0)
    return {str(models[i]): np.where(known, rmse[i, np.maximum(at, 0), np.maximum(when, 0)], 0.0)
            for i in range(len(models)) if count[i].any()}


def _codes(values: pd.Series, sort: bool = False) -> tuple[np.ndarray, pd.Index]:
    """Each value's code and the distinct values the codes number (a categorical's own;
    ``sort``: in ascending order)."""
    if isinstance(values.dtype, pd.CategoricalDtype) and not sort:
        return values.cat.codes.to_numpy(), values.cat.categories
    codes, uniques = pd.factorize(values, sort=sort)
    return codes, pd.Index(uniques)
