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
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core import fmt
from core.planning.errors import CriterionError

LOWER, HIGHER, ZERO = "lower", "higher", "zero"  # which way a metric is better
FRACTION, RATIO, UNITS, YEN, MONTHS = "fraction", "ratio", "units", "yen", "months"
ITEM_DAYS = "item-days"  # a count of store-item days (with an empty shelf)
OFFLINE, ONLINE = "offline", "online"  # measured by the backtest, or by the pilot in stores

MODEL_BASELINES = ("practice", "snaive")
MONEY_BASELINES = ("yearly_running_cost", "initial_investment")


@dataclass(frozen=True)
class MetricSpec:
    name: str
    label: str
    better: str
    unit: str
    baselines: tuple[str, ...]  # the baselines it may be compared with
    help: str = ""
    stage: str = OFFLINE  # OFFLINE: the backtest measures it; ONLINE: the pilot does
    signed: bool = False  # a change, which may be below zero (a threshold too)

    @property
    def online(self) -> bool:
        return self.stage == ONLINE


# Adding a metric is one line here.
METRICS: dict[str, MetricSpec] = {m.name: m for m in (
    MetricSpec("wape", "WAPE", LOWER, FRACTION, MODEL_BASELINES, "total absolute error ÷ total sales"),
    MetricSpec("smape", "sMAPE", LOWER, FRACTION, MODEL_BASELINES, "symmetric mean absolute percentage error"),
    MetricSpec("mase", "MASE", LOWER, RATIO, MODEL_BASELINES, "error ÷ in-sample seasonal naive error"),
    MetricSpec("rmsse", "RMSSE", LOWER, RATIO, MODEL_BASELINES, "root mean squared scaled error"),
    MetricSpec("mae", "MAE", LOWER, UNITS, MODEL_BASELINES, "mean absolute error in units"),
    MetricSpec("rmse", "RMSE", LOWER, UNITS, MODEL_BASELINES, "root mean squared error in units"),
    MetricSpec("bias", "Bias", ZERO, UNITS, MODEL_BASELINES, "mean of forecast − actual; 0 is unbiased"),
    MetricSpec("stockout_rate", "Stockout rate", LOWER, FRACTION, ("practice",), "share of store-item-days sold out"),
    MetricSpec("waste_yen_per_year", "Yearly waste", LOWER, YEN, ("practice",), "cost of unsold goods thrown away"),
    MetricSpec("yearly_savings_yen", "Yearly savings", HIGHER, YEN, MONEY_BASELINES,
               "money saved per year against today's practice"),
    MetricSpec("yearly_net_benefit_yen", "Yearly net benefit", HIGHER, YEN, MONEY_BASELINES,
               "yearly savings − yearly running cost"),
    MetricSpec("payback_months", "Payback period", LOWER, MONTHS, (), "months until savings repay the investment"),
    # Measured by the pilot: difference-in-differences of treated against control stores,
    # scaled to the whole chain for a year (core.pilot.evidence).
    MetricSpec("online_yearly_savings", "Online yearly savings (pilot)", HIGHER, YEN, MONEY_BASELINES,
               "the pilot's measured profit effect, scaled to the chain for a year (difference-in-differences)",
               ONLINE, signed=True),
    MetricSpec("online_savings_lower", "Online savings, 95% lower bound (pilot)", HIGHER, YEN, MONEY_BASELINES,
               "the lower end of the 95% interval of the pilot's yearly savings; > ¥0 means the pilot shows a gain",
               ONLINE, signed=True),
    MetricSpec("online_waste_change", "Online waste change (pilot)", LOWER, YEN, (),
               "the pilot's measured change in the yearly cost of waste, scaled to the chain; below ¥0 is less waste",
               ONLINE, signed=True),
    MetricSpec("online_stockout_change", "Online stockout change (pilot)", LOWER, ITEM_DAYS, (),
               "the pilot's measured change in store-item days with an empty shelf a year, scaled to the chain; "
               "below 0 is fewer", ONLINE, signed=True),
)}
ONLINE_METRICS = tuple(m for m, spec in METRICS.items() if spec.online)
OFFLINE_METRICS = tuple(m for m, spec in METRICS.items() if not spec.online)


def is_online(metric: str) -> bool:
    """Whether the pilot, not the backtest, measures ``metric``."""
    return metric in METRICS and METRICS[metric].online

BASELINES: dict[str, str] = {
    "practice": "today's practice",
    "snaive": "seasonal naive",
    "yearly_running_cost": "the yearly running cost",
    "initial_investment": "the initial investment",
}

IMPROVES = "improves_by_at_least"
COMPARATORS: dict[str, str] = {
    "<=": "≤", "<": "<", ">=": "≥", ">": ">", IMPROVES: "improves by at least",
}
NEGATED = {"<=": ">", "<": ">=", ">=": "<", ">": "<="}  # what holds when a comparison fails
_TOLERANCE = 1e-9  # 0.1 computed as 0.09999999999 still meets "at least 10 %"


def _share(value: float) -> str:
    """A threshold share without noise: 10%, 12.5%."""
    return f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


def unit_label(metric: str) -> str:
    return {FRACTION: "%", RATIO: "", UNITS: "units", YEN: "¥", MONTHS: "months",
            ITEM_DAYS: "item-days"}[METRICS[metric].unit]


def format_value(metric: str, value: float) -> str:
    """A value of ``metric`` for people: 27.0 %, ¥4,800,000, 18 months, 0.912; a change
    (an online measure) ``+¥4,800,000``, ``−1,250 item-days``."""
    spec = METRICS[metric]
    unit = spec.unit
    if unit == FRACTION:
        return fmt.pct(value)
    if unit == YEN:
        return fmt.yen(value, signed=spec.signed and spec.better == LOWER)
    if unit == ITEM_DAYS:
        return f"{fmt.number(value, 0, signed=True)} item-days"
    if unit == MONTHS:
        return fmt.months(value)
    if unit == UNITS:
        return f"{fmt.number(value, 2)} units"
    return fmt.number(value, 3)


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
            raise CriterionError(" ".join(problems))
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

    def describe(self) -> str:
        """The criterion as a sentence: 'WAPE at least 10.0 % better than today's practice'."""
        label = ("|Bias|" if self.spec.better == ZERO and not self.relative else self.spec.label)
        if self.relative:
            way = {LOWER: "better (lower)", HIGHER: "higher", ZERO: "closer to zero"}[self.spec.better]
            return f"{label} at least {_share(self.threshold)} {way} than {BASELINES[self.baseline]}"
        sign = COMPARATORS[self.comparator]
        if self.baseline is None:
            return f"{label} {sign} {format_value(self.metric, self.threshold)}"
        factor = "" if self.threshold == 1 else f"{fmt.trimmed(self.threshold, 2)} × "
        return f"{label} {sign} {factor}{BASELINES[self.baseline]}"

    def to_dict(self) -> dict:
        return {"metric": self.metric, "comparator": self.comparator, "threshold": self.threshold,
                "baseline": self.baseline, "description": self.description}

    @classmethod
    def from_dict(cls, data: Mapping) -> Criterion:
        unknown = set(data) - {"metric", "comparator", "threshold", "baseline", "description", "unit"}
        if unknown:
            raise CriterionError(f"Unknown criterion field(s) {sorted(unknown)}.")
        try:
            return cls(metric=data["metric"], comparator=data["comparator"], threshold=data["threshold"],
                       baseline=data.get("baseline"), description=data.get("description", ""))
        except KeyError as missing:
            raise CriterionError(f"A criterion needs a {missing.args[0]}.") from None


def criterion_problems(metric: str, comparator: str, threshold: float | None, baseline: str | None) -> list[str]:
    """Every reason the combination cannot be a criterion (empty when it can)."""
    if not metric:
        return ["Choose a metric."]
    if metric not in METRICS:
        return [f"Unknown metric '{metric}'; choose one of {', '.join(METRICS)}."]
    spec = METRICS[metric]
    problems = []
    if comparator not in COMPARATORS:
        problems.append(f"Unknown comparator '{comparator}'; choose one of {', '.join(COMPARATORS)}.")
    if baseline is not None and baseline not in spec.baselines:
        allowed = ", ".join(BASELINES[b] for b in spec.baselines) or "none"
        problems.append(f"{spec.label} cannot be compared with {BASELINES.get(baseline, repr(baseline))} "
                        f"(possible baselines: {allowed}).")
    if comparator == IMPROVES and baseline is None:
        problems.append(f"'{spec.label} improves by at least' needs a baseline to improve on.")
    if spec.better == ZERO and comparator in (">=", ">"):
        problems.append(f"{spec.label} is best at zero: use ≤ or < (on its absolute value), or 'improves by at least'.")
    if threshold is None or not isinstance(threshold, int | float) or not math.isfinite(threshold):
        problems.append(f"Give {spec.label} a threshold (a number).")
    elif comparator == IMPROVES:
        if threshold <= 0:
            problems.append("An improvement threshold must be above 0 %.")
        elif spec.better != HIGHER and threshold >= 1:
            problems.append(f"{spec.label} cannot improve by 100 % or more; use a smaller threshold.")
    elif baseline is not None and threshold <= 0:
        problems.append(f"With a baseline the threshold is a multiple of it (1 = equal to {BASELINES[baseline]}); "
                        "it must be above 0.")
    elif spec.unit != YEN and not spec.signed and threshold < 0:
        problems.append(f"A {spec.label} threshold cannot be negative.")
    return problems


def evaluate_criterion(criterion: Criterion, measured: float, baseline_value: float | None = None
                       ) -> tuple[bool, str]:
    """Whether ``measured`` meets ``criterion``, with the arithmetic in words.

    ``baseline_value`` is the baseline's value of the same metric (today's practice's
    WAPE, the yearly running cost in yen); it is needed exactly when the criterion
    names a baseline. Raises ``CriterionError`` when a value is missing or when a
    relative improvement is undefined (a baseline of 0).
    """
    spec = criterion.spec
    if not _number(measured):
        raise CriterionError(f"{spec.label} has not been measured, so '{criterion.describe()}' cannot be evaluated.")
    if criterion.baseline is not None and not _number(baseline_value):
        raise CriterionError(f"{BASELINES[criterion.baseline].capitalize()} has no {spec.label} value, so "
                             f"'{criterion.describe()}' cannot be evaluated.")
    shown = format_value(criterion.metric, measured)

    if criterion.relative:
        base = abs(baseline_value) if spec.better == ZERO else baseline_value
        if base == 0:
            raise CriterionError(f"{BASELINES[criterion.baseline].capitalize()} has {spec.label} 0: an improvement "
                                 "relative to it is undefined; use an absolute threshold instead.")
        value = abs(measured) if spec.better == ZERO else measured
        gain = (value - base) / abs(base) if spec.better == HIGHER else (base - value) / abs(base)
        passed = gain >= criterion.threshold - _TOLERANCE
        word = "better" if gain >= 0 else "worse"
        explanation = (f"{spec.label} {shown} is {fmt.pct(abs(gain))} {word} than {BASELINES[criterion.baseline]} "
                       f"({format_value(criterion.metric, baseline_value)}); at least {_share(criterion.threshold)} "
                       f"better is needed")
        return passed, f"{explanation}: {'passed' if passed else 'failed'}."

    value = abs(measured) if spec.better == ZERO else measured
    if criterion.baseline is None:
        reference = criterion.threshold
        against = format_value(criterion.metric, reference)
    else:
        reference = criterion.threshold * baseline_value
        if criterion.threshold == 1:  # the baseline itself: its value once, "(¥6,000,000)"
            against = f"{BASELINES[criterion.baseline]} ({format_value(criterion.metric, baseline_value)})"
        else:
            factor = f"{fmt.trimmed(criterion.threshold, 2)} × "
            against = (f"{factor}{BASELINES[criterion.baseline]} ({factor}"
                       f"{format_value(criterion.metric, baseline_value)} = "
                       f"{format_value(criterion.metric, reference)})")
    passed = _compare(value, criterion.comparator, reference)
    label = "|Bias|" if spec.better == ZERO else spec.label
    shown = format_value(criterion.metric, value)
    if passed:
        return passed, f"{label} {shown} {COMPARATORS[criterion.comparator]} {against}: passed."
    # A failed check states the relation that holds, then the one that was needed.
    return passed, (f"{label} {shown} {COMPARATORS[NEGATED[criterion.comparator]]} {against}, not "
                    f"{COMPARATORS[criterion.comparator]}: failed.")


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
        raise CriterionError(f"The stored criteria are not valid JSON ({exc}).") from exc
    if not isinstance(rows, list):
        raise CriterionError("The stored criteria must be a list.")
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
