"""GO/NO-GO criteria as data, fixed before any result is known.

A criterion names a metric, a comparator, a threshold and, where it is relative, a
baseline: "WAPE at least 10 % better than today's practice", "yearly savings at least
the yearly running cost", "payback within 18 months". The GO/NO-GO report evaluates
them with ``evaluate_criterion`` on measured values; nothing here knows where those
values come from.

Most metrics are measured offline, by the backtest and its money impact. The ``ONLINE``
ones are measured by the pilot in a few stores (difference-in-differences of treated
against control stores, ``core.pilot``): they stay "not yet evaluated" until the pilot is
read out, and a GO waits for them.

Thresholds are stored in the metric's own unit (WAPE as a fraction, money in yen):

- ``<=``, ``<``, ``>=``, ``>`` without a baseline compare the measured value with the
  threshold; with a baseline, with ``threshold × baseline value`` (1 = the baseline);
- ``improves_by_at_least`` needs a baseline and reads the threshold as a relative
  improvement (0.10 = 10 % better), in the metric's own direction (lower WAPE, higher
  savings, bias closer to zero).

Words are facts: a criterion's sentence (``Criterion.statement``), its evaluation
(``judge``) and its errors are ``core.i18n.Msg``, so a decision that keeps them reads in
either language; ``describe`` and ``evaluate_criterion`` give the same in the current
language. Metric and baseline labels are English in the source and translated where
read (``MetricSpec.label``, ``BASELINES[key]``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core import fmt
from core.i18n import M_, N_, Fmt, Msg, gettext
from core.planning.errors import CriterionError
from core.planning.texts import joined, list_separator

LOWER, HIGHER, ZERO = "lower", "higher", "zero"  # which way a metric is better
FRACTION, RATIO, UNITS, YEN, MONTHS = "fraction", "ratio", "units", "yen", "months"
ITEM_DAYS = "item-days"  # a count of store-item days (with an empty shelf)
OFFLINE, ONLINE = "offline", "online"  # measured by the backtest, or by the pilot in stores

MODEL_BASELINES = ("practice", "snaive")
MONEY_BASELINES = ("yearly_running_cost", "initial_investment")


class Labels(dict):
    """Labels written in English and read in the current language: ``LABELS[key]``,
    ``.get`` and ``.values()`` translate; keys are the machine names."""

    def __getitem__(self, key: str) -> str:
        return gettext(super().__getitem__(key))

    def get(self, key, default=None):
        return self[key] if key in self else default

    def values(self):
        return [self[k] for k in self]

    def items(self):
        return [(k, self[k]) for k in self]

    def english(self, key: str) -> str:
        """The label as written (a catalog msgid), for a message kept as facts."""
        return super().__getitem__(key)


@dataclass(frozen=True)
class MetricSpec:
    name: str
    english: str  # the label as written; ``label`` reads it in the current language
    better: str
    unit: str
    baselines: tuple[str, ...]  # the baselines it may be compared with
    help_text: str = ""
    stage: str = OFFLINE  # OFFLINE: the backtest measures it; ONLINE: the pilot does
    signed: bool = False  # a change, which may be below zero (a threshold too)

    @property
    def label(self) -> str:
        return gettext(self.english)

    @property
    def help(self) -> str:
        return gettext(self.help_text) if self.help_text else ""

    @property
    def fact(self) -> Msg:
        """The label as a message (rendered in the reader's language)."""
        return Msg(self.english)

    @property
    def online(self) -> bool:
        return self.stage == ONLINE


# Adding a metric is one line here.
METRICS: dict[str, MetricSpec] = {m.name: m for m in (
    MetricSpec("wape", "WAPE", LOWER, FRACTION, MODEL_BASELINES, N_("total absolute error ÷ total sales")),
    MetricSpec("smape", "sMAPE", LOWER, FRACTION, MODEL_BASELINES, N_("symmetric mean absolute percentage error")),
    MetricSpec("mase", "MASE", LOWER, RATIO, MODEL_BASELINES, N_("error ÷ in-sample seasonal naive error")),
    MetricSpec("rmsse", "RMSSE", LOWER, RATIO, MODEL_BASELINES, N_("root mean squared scaled error")),
    MetricSpec("mae", "MAE", LOWER, UNITS, MODEL_BASELINES, N_("mean absolute error in units")),
    MetricSpec("rmse", "RMSE", LOWER, UNITS, MODEL_BASELINES, N_("root mean squared error in units")),
    MetricSpec("bias", N_("Bias"), ZERO, UNITS, MODEL_BASELINES, N_("mean of forecast − actual; 0 is unbiased")),
    MetricSpec("stockout_rate", N_("Stockout rate"), LOWER, FRACTION, ("practice",),
               N_("share of store-item-days sold out")),
    MetricSpec("waste_yen_per_year", N_("Yearly waste"), LOWER, YEN, ("practice",),
               N_("cost of unsold goods thrown away")),
    MetricSpec("yearly_savings_yen", N_("Yearly savings"), HIGHER, YEN, MONEY_BASELINES,
               N_("money saved per year against today's practice")),
    MetricSpec("yearly_net_benefit_yen", N_("Yearly net benefit"), HIGHER, YEN, MONEY_BASELINES,
               N_("yearly savings − yearly running cost")),
    MetricSpec("payback_months", N_("Payback period"), LOWER, MONTHS, (),
               N_("months until savings repay the investment")),
    # Measured by the pilot: difference-in-differences of treated against control stores,
    # scaled to the whole chain for a year (core.pilot.evidence).
    MetricSpec("online_yearly_savings", N_("Online yearly savings (pilot)"), HIGHER, YEN, MONEY_BASELINES,
               N_("the pilot's measured profit effect, scaled to the chain for a year (difference-in-differences)"),
               ONLINE, signed=True),
    MetricSpec("online_savings_lower", N_("Online savings, 95% lower bound (pilot)"), HIGHER, YEN, MONEY_BASELINES,
               N_("the lower end of the 95% interval of the pilot's yearly savings; > ¥0 means the pilot shows a "
                  "gain"), ONLINE, signed=True),
    MetricSpec("online_waste_change", N_("Online waste change (pilot)"), LOWER, YEN, (),
               N_("the pilot's measured change in the yearly cost of waste, scaled to the chain; below ¥0 is less "
                  "waste"), ONLINE, signed=True),
    MetricSpec("online_stockout_change", N_("Online stockout change (pilot)"), LOWER, ITEM_DAYS, (),
               N_("the pilot's measured change in store-item days with an empty shelf a year, scaled to the chain; "
                  "below 0 is fewer"), ONLINE, signed=True),
)}
ONLINE_METRICS = tuple(m for m, spec in METRICS.items() if spec.online)
OFFLINE_METRICS = tuple(m for m, spec in METRICS.items() if not spec.online)


def is_online(metric: str) -> bool:
    """Whether the pilot, not the backtest, measures ``metric``."""
    return metric in METRICS and METRICS[metric].online


# The baselines inside a sentence ("… better than today's practice"); BASELINE_NAMES at
# the start of one or alone (an option, a table cell).
BASELINES = Labels({
    "practice": N_("today's practice"),
    "snaive": N_("seasonal naive"),
    "yearly_running_cost": N_("the yearly running cost"),
    "initial_investment": N_("the initial investment"),
})
BASELINE_NAMES = Labels({
    "practice": N_("Today's practice"),
    "snaive": N_("Seasonal naive"),
    "yearly_running_cost": N_("Yearly running cost"),
    "initial_investment": N_("Initial investment"),
})

IMPROVES = "improves_by_at_least"
COMPARATORS = Labels({
    "<=": "≤", "<": "<", ">=": "≥", ">": ">", IMPROVES: N_("improves by at least"),
})
NEGATED = {"<=": ">", "<": ">=", ">=": "<", ">": "<="}  # what holds when a comparison fails
_TOLERANCE = 1e-9  # 0.1 computed as 0.09999999999 still meets "at least 10 %"
UNIT_LABELS = {FRACTION: "%", RATIO: "", UNITS: N_("units"), YEN: "¥", MONTHS: N_("months"),
               ITEM_DAYS: N_("item-days")}


def _share(value: float) -> str:
    """A threshold share without noise: 10%, 12.5%."""
    return f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


def unit_label(metric: str) -> str:
    label = UNIT_LABELS[METRICS[metric].unit]
    return gettext(label) if label else ""


def value_fact(metric: str, value: float) -> object:
    """A value of ``metric`` as facts, formatted where it is read (``format_value``)."""
    spec = METRICS[metric]
    unit = spec.unit
    if unit == FRACTION:
        return Fmt("pct", value)
    if unit == YEN:
        return Fmt("yen", value, {"signed": True} if spec.signed and spec.better == LOWER else {})
    if unit == ITEM_DAYS:
        return M_("{n} item-days", n=Fmt("number", value, {"digits": 0, "signed": True}))
    if unit == MONTHS:
        return Fmt("months", value)
    if unit == UNITS:
        return M_("{n} units", n=Fmt("number", value, {"digits": 2}))
    return Fmt("number", value, {"digits": 3})


def format_value(metric: str, value: float) -> str:
    """A value of ``metric`` for people: 27.0 %, ¥4,800,000, 18 months, 0.912; a change
    (an online measure) ``+¥4,800,000``, ``−1,250 item-days``."""
    return str(value_fact(metric, value))


def _baseline(key: str | None) -> object:
    """A baseline inside a sentence, as facts."""
    return Msg(BASELINES.english(key)) if key in BASELINES else repr(key)


def _subject(key: str) -> Msg:
    """A baseline at the start of a sentence, as facts."""
    return Msg(BASELINE_NAMES.english(key))


@dataclass(frozen=True)
class Criterion:
    """One GO/NO-GO criterion; invalid combinations are refused at construction."""

    metric: str
    comparator: str
    threshold: float
    baseline: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        problems = criterion_problems(self.metric, self.comparator, self.threshold, self.baseline)
        if problems:
            raise CriterionError(joined(problems))
        object.__setattr__(self, "threshold", float(self.threshold))
        object.__setattr__(self, "description", (self.description or "").strip())

    @property
    def spec(self) -> MetricSpec:
        return METRICS[self.metric]

    @property
    def relative(self) -> bool:
        return self.comparator == IMPROVES

    @property
    def unit(self) -> str:
        """The unit of the measured values: %, ¥, months, units, or '' for ratios."""
        return unit_label(self.metric)

    def _label(self) -> Msg:
        return M_("|Bias|") if self.spec.better == ZERO and not self.relative else self.spec.fact

    def statement(self) -> Msg:
        """The criterion as a sentence kept as facts: 'WAPE at least 10% better (lower)
        than today's practice', '年間削減額 ≥ 年間の運用コストの1.5倍'."""
        label = self._label()
        if self.relative:
            share, baseline = _share(self.threshold), _baseline(self.baseline)
            if self.spec.better == LOWER:
                return M_("{metric} at least {share} better (lower) than {baseline}", metric=label, share=share,
                          baseline=baseline)
            if self.spec.better == HIGHER:
                return M_("{metric} at least {share} higher than {baseline}", metric=label, share=share,
                          baseline=baseline)
            return M_("{metric} at least {share} closer to zero than {baseline}", metric=label, share=share,
                      baseline=baseline)
        sign = COMPARATORS.english(self.comparator)
        if self.baseline is None:
            return Msg("{metric} {sign} {value}", {"metric": label, "sign": sign,
                                                   "value": value_fact(self.metric, self.threshold)})
        if self.threshold == 1:
            return Msg("{metric} {sign} {baseline}", {"metric": label, "sign": sign,
                                                      "baseline": _baseline(self.baseline)})
        return M_("{metric} {sign} {factor} × {baseline}", metric=label, sign=sign,
                  factor=fmt.trimmed(self.threshold, 2), baseline=_baseline(self.baseline))

    def describe(self) -> str:
        """The criterion as a sentence in the current language: 'WAPE at least 10% better
        (lower) than today's practice'."""
        return str(self.statement())

    def to_dict(self) -> dict:
        return {"metric": self.metric, "comparator": self.comparator, "threshold": self.threshold,
                "baseline": self.baseline, "description": self.description}

    @classmethod
    def from_dict(cls, data: Mapping) -> Criterion:
        unknown = set(data) - {"metric", "comparator", "threshold", "baseline", "description", "unit"}
        if unknown:
            raise CriterionError(M_("Unknown criterion field(s) {fields}.", fields=Fmt("names", sorted(unknown))))
        try:
            return cls(metric=data["metric"], comparator=data["comparator"], threshold=data["threshold"],
                       baseline=data.get("baseline"), description=data.get("description", ""))
        except KeyError as missing:
            raise CriterionError(M_("A criterion needs a {field}.", field=missing.args[0])) from None


def criterion_problems(metric: str, comparator: str, threshold: float | None, baseline: str | None) -> list[Msg]:
    """Every reason the combination cannot be a criterion (empty when it can), as
    messages."""
    if not metric:
        return [M_("Choose a metric.")]
    if metric not in METRICS:
        return [M_("Unknown metric '{metric}'; choose one of {choices}.", metric=metric, choices=", ".join(METRICS))]
    spec = METRICS[metric]
    label = spec.fact
    problems = []
    if comparator not in COMPARATORS:
        problems.append(M_("Unknown comparator '{comparator}'; choose one of {choices}.", comparator=comparator,
                           choices=", ".join(COMPARATORS)))
    if baseline is not None and baseline not in spec.baselines:
        allowed = (joined([_baseline(b) for b in spec.baselines], list_separator()) if spec.baselines
                   else M_("none"))
        problems.append(M_("{metric} cannot be compared with {baseline} (possible baselines: {allowed}).",
                           metric=label, baseline=_baseline(baseline), allowed=allowed))
    if comparator == IMPROVES and baseline is None:
        problems.append(M_("'{metric} improves by at least' needs a baseline to improve on.", metric=label))
    if spec.better == ZERO and comparator in (">=", ">"):
        problems.append(M_("{metric} is best at zero: use ≤ or < (on its absolute value), or 'improves by at "
                           "least'.", metric=label))
    if threshold is None or not isinstance(threshold, int | float) or not math.isfinite(threshold):
        problems.append(M_("Give {metric} a threshold (a number).", metric=label))
    elif comparator == IMPROVES:
        if threshold <= 0:
            problems.append(M_("An improvement threshold must be above 0 %."))
        elif spec.better != HIGHER and threshold >= 1:
            problems.append(M_("{metric} cannot improve by 100 % or more; use a smaller threshold.", metric=label))
    elif baseline is not None and threshold <= 0:
        problems.append(M_("With a baseline the threshold is a multiple of it (1 = equal to {baseline}); it must be "
                           "above 0.", baseline=_baseline(baseline)))
    elif spec.unit != YEN and not spec.signed and threshold < 0:
        problems.append(M_("A {metric} threshold cannot be negative.", metric=label))
    return problems


def judge(criterion: Criterion, measured: float, baseline_value: float | None = None) -> tuple[bool, Msg]:
    """Whether ``measured`` meets ``criterion``, with the arithmetic in words kept as
    facts (a ``Msg``: a decision keeps it and reads it in either language).

    ``baseline_value`` is the baseline's value of the same metric (today's practice's
    WAPE, the yearly running cost in yen); it is needed exactly when the criterion
    names a baseline. Raises ``CriterionError`` when a value is missing or when a
    relative improvement is undefined (a baseline of 0).
    """
    spec = criterion.spec
    if not _number(measured):
        raise CriterionError(M_("{metric} has not been measured, so '{criterion}' cannot be evaluated.",
                                metric=spec.fact, criterion=criterion.statement()))
    if criterion.baseline is not None and not _number(baseline_value):
        raise CriterionError(M_("{baseline} has no {metric} value, so '{criterion}' cannot be evaluated.",
                                baseline=_subject(criterion.baseline), metric=spec.fact,
                                criterion=criterion.statement()))

    if criterion.relative:
        base = abs(baseline_value) if spec.better == ZERO else baseline_value
        if base == 0:
            raise CriterionError(M_("{baseline} has {metric} 0: an improvement relative to it is undefined; use an "
                                    "absolute threshold instead.", baseline=_subject(criterion.baseline),
                                    metric=spec.fact))
        value = abs(measured) if spec.better == ZERO else measured
        gain = (value - base) / abs(base) if spec.better == HIGHER else (base - value) / abs(base)
        passed = gain >= criterion.threshold - _TOLERANCE
        params = dict(metric=spec.fact, value=value_fact(criterion.metric, measured), gain=Fmt("pct", abs(gain)),
                      baseline=_baseline(criterion.baseline),
                      baseline_value=value_fact(criterion.metric, baseline_value), share=_share(criterion.threshold))
        if gain >= 0:
            if passed:
                return passed, M_("{metric} {value} is {gain} better than {baseline} ({baseline_value}); at least "
                                  "{share} better is needed: passed.", **params)
            return passed, M_("{metric} {value} is {gain} better than {baseline} ({baseline_value}); at least "
                              "{share} better is needed: failed.", **params)
        return passed, M_("{metric} {value} is {gain} worse than {baseline} ({baseline_value}); at least {share} "
                          "better is needed: failed.", **params)

    value = abs(measured) if spec.better == ZERO else measured
    if criterion.baseline is None:
        reference = criterion.threshold
        against = value_fact(criterion.metric, reference)
    else:
        reference = criterion.threshold * baseline_value
        if criterion.threshold == 1:  # the baseline itself: its value once, "(¥6,000,000)"
            against = M_("{baseline} ({value})", baseline=_baseline(criterion.baseline),
                         value=value_fact(criterion.metric, baseline_value))
        else:
            against = M_("{factor} × {baseline} ({factor} × {baseline_value} = {reference})",
                         factor=fmt.trimmed(criterion.threshold, 2), baseline=_baseline(criterion.baseline),
                         baseline_value=value_fact(criterion.metric, baseline_value),
                         reference=value_fact(criterion.metric, reference))
    passed = _compare(value, criterion.comparator, reference)
    label = M_("|Bias|") if spec.better == ZERO else spec.fact
    shown = value_fact(criterion.metric, value)
    if passed:
        return passed, M_("{metric} {value} {sign} {against}: passed.", metric=label, value=shown,
                          sign=COMPARATORS.english(criterion.comparator), against=against)
    # A failed check states the relation that holds, then the one that was needed.
    return passed, M_("{metric} {value} {holds} {against}, not {sign}: failed.", metric=label, value=shown,
                      holds=COMPARATORS.english(NEGATED[criterion.comparator]), against=against,
                      sign=COMPARATORS.english(criterion.comparator))


def evaluate_criterion(criterion: Criterion, measured: float, baseline_value: float | None = None
                       ) -> tuple[bool, str]:
    """``judge`` in the current language: whether ``measured`` meets ``criterion``, and
    why, in a sentence."""
    passed, why = judge(criterion, measured, baseline_value)
    return passed, str(why)


def _compare(value: float, comparator: str, reference: float) -> bool:
    close = math.isclose(value, reference, rel_tol=_TOLERANCE, abs_tol=_TOLERANCE)
    return {"<=": value <= reference or close, "<": value < reference and not close,
            ">=": value >= reference or close, ">": value > reference and not close}[comparator]


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def criteria_to_json(criteria: Iterable[Criterion]) -> str:
    return json.dumps([c.to_dict() for c in criteria], ensure_ascii=False)


def criteria_from_json(text: str) -> tuple[Criterion, ...]:
    try:
        rows = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise CriterionError(M_("The stored criteria are not valid JSON ({problem}).", problem=str(exc))) from exc
    if not isinstance(rows, list):
        raise CriterionError(M_("The stored criteria must be a list."))
    return tuple(Criterion.from_dict(row) for row in rows)


def threshold_unit(metric: str, comparator: str, baseline: str | None) -> tuple[float, str]:
    """How people type a threshold: (factor from the stored value, unit shown).

    WAPE 25 % is typed 25 and stored 0.25; an improvement of 10 % likewise; with a
    baseline an absolute comparator takes a multiple (×); money in yen, payback in months.
    """
    if metric not in METRICS:
        return 1.0, ""
    if comparator == IMPROVES:
        return 100.0, "%"
    if baseline is not None:
        return 1.0, "×"
    unit = METRICS[metric].unit
    return (100.0, "%") if unit == FRACTION else (1.0, unit_label(metric))
