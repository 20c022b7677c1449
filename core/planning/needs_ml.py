"""Does this problem need machine learning? A short checklist that points to a rule
where a rule would do — the cheapest method first, as the talk insists."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.i18n import N_, gettext

# (key, statement a PM ticks when it holds; translate where shown). The order is the order of the questions.
CHECKLIST: tuple[tuple[str, str], ...] = (
    ("rule_measured", N_("We measured a simple rule or today's practice (e.g. last week's sales + a buffer) on past "
                         "data")),
    ("rule_not_enough", N_("That rule's errors cost more than we can accept")),
    ("scale", N_("The decision is repeated at a scale people cannot tune by hand (many stores × items × days)")),
    ("many_factors", N_("The outcome depends on many interacting factors (calendar, weather, promotions, prices)")),
    ("history", N_("We have enough history with the outcome recorded (a year at least, ideally two or more)")),
    ("feedback", N_("We can check each prediction afterwards (actual sales are recorded)")),
    ("tolerates_errors", N_("The process tolerates some wrong predictions (a person or a rule catches the worst)")),
)
KEYS = tuple(key for key, _ in CHECKLIST)
MISSING = {
    "history": N_("Missing: we have enough history with the outcome recorded (a year at least, ideally two or more). "
                  "Without it a model can neither learn nor be evaluated."),
    "feedback": N_("Missing: we can check each prediction afterwards (actual sales are recorded). Without it a model "
                   "can neither learn nor be evaluated."),
}

RULE, NOT_READY, ML = "rule", "not ready", "ml"


@dataclass(frozen=True)
class Verdict:
    kind: str  # RULE, NOT_READY or ML
    headline: str
    reasons: tuple[str, ...]


def verdict(ticked: Iterable[str]) -> Verdict:
    """What the ticked statements say, in the current language: try a rule, get ready
    first, or a PoC of ML."""
    _ = gettext
    held = set(ticked)
    unknown = held - set(KEYS)
    if unknown:
        raise ValueError(f"Unknown checklist item(s) {sorted(unknown)}")
    if "rule_measured" not in held:
        return Verdict(RULE, _("Try a rule first."), (
            _("Measure today's practice or a simple rule (same weekday last week, a moving average) on past data "
              "before anything else: the Data page shows today's ordering practice against sales, and the backtest "
              "ladder starts with rules. If the rule is good enough, you are done — no model to run or maintain."),))
    if "rule_not_enough" not in held:
        return Verdict(RULE, _("A rule will do."), (
            _("The rule you measured is good enough for now: keep it and spend the effort elsewhere. "
              "Come back when its errors cost more than you can accept."),))
    missing = [_(MISSING[key]) for key, _text in CHECKLIST if key in ("history", "feedback") and key not in held]
    if missing:
        return Verdict(NOT_READY, _("Not ready for ML yet."), tuple(missing))
    reasons = []
    if "scale" not in held and "many_factors" not in held:
        return Verdict(RULE, _("A better rule, or a person, may do."), (
            _("The decision is neither repeated at scale nor driven by many factors: refine the rule "
              "(per category, per weekday) before reaching for a model."),))
    if "tolerates_errors" not in held:
        reasons.append(_("Plan a safeguard: the process does not tolerate wrong predictions yet, so keep a person or "
                         "a rule in the loop (e.g. orders proposed by the model and approved by the store)."))
    return Verdict(ML, _("Machine learning is worth a PoC."), (
        _("A rule was measured and falls short, the decision is repeated at scale or driven by many factors, and the "
          "data to learn and to evaluate exists. Still climb the ladder: statistics before GBDT."), *reasons))
