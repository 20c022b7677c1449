"""Does this problem need machine learning? A short checklist that points to a rule
where a rule would do — the cheapest method first, as the talk insists."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# (key, statement a PM ticks when it holds). The order is the order of the questions.
CHECKLIST: tuple[tuple[str, str], ...] = (
    ("rule_measured", "We measured a simple rule or today's practice (e.g. last week's sales + a buffer) on past data"),
    ("rule_not_enough", "That rule's errors cost more than we can accept"),
    ("scale", "The decision is repeated at a scale people cannot tune by hand (many stores × items × days)"),
    ("many_factors", "The outcome depends on many interacting factors (calendar, weather, promotions, prices)"),
    ("history", "We have enough history with the outcome recorded (a year at least, ideally two or more)"),
    ("feedback", "We can check each prediction afterwards (actual sales are recorded)"),
    ("tolerates_errors", "The process tolerates some wrong predictions (a person or a rule catches the worst)"),
)
KEYS = tuple(key for key, _ in CHECKLIST)

RULE, NOT_READY, ML = "rule", "not ready", "ml"


@dataclass(frozen=True)
class Verdict:
    kind: str  # RULE, NOT_READY or ML
    headline: str
    reasons: tuple[str, ...]


def verdict(ticked: Iterable[str]) -> Verdict:
    """What the ticked statements say: try a rule, get ready first, or a PoC of ML."""
    held = set(ticked)
    unknown = held - set(KEYS)
    if unknown:
        raise ValueError(f"Unknown checklist item(s) {sorted(unknown)}")
    if "rule_measured" not in held:
        return Verdict(RULE, "Try a rule first.", (
            "Measure today's practice or a simple rule (same weekday last week, a moving average) on past data "
            "before anything else: the Data page shows today's ordering practice against sales, and the backtest "
            "ladder starts with rules. If the rule is good enough, you are done — no model to run or maintain.",))
    if "rule_not_enough" not in held:
        return Verdict(RULE, "A rule will do.", (
            "The rule you measured is good enough for now: keep it and spend the effort elsewhere. "
            "Come back when its errors cost more than you can accept.",))
    missing = [text for key, text in CHECKLIST if key in ("history", "feedback") and key not in held]
    if missing:
        return Verdict(NOT_READY, "Not ready for ML yet.", tuple(
            f"Missing: {text.lower()}. Without it a model can neither learn nor be evaluated." for text in missing))
    reasons = []
    if "scale" not in held and "many_factors" not in held:
        return Verdict(RULE, "A better rule, or a person, may do.", (
            "The decision is neither repeated at scale nor driven by many factors: refine the rule "
            "(per category, per weekday) before reaching for a model.",))
    if "tolerates_errors" not in held:
        reasons.append("Plan a safeguard: the process does not tolerate wrong predictions yet, so keep a person or a "
                       "rule in the loop (e.g. orders proposed by the model and approved by the store).")
    return Verdict(ML, "Machine learning is worth a PoC.", (
        "A rule was measured and falls short, the decision is repeated at scale or driven by many factors, and the "
        "data to learn and to evaluate exists. Still climb the ladder: statistics before GBDT.", *reasons))
