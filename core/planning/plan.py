"""The PoC plan: the talk's four phases with owners and dates, and the ladder of
methods to try — rules and statistics, a simple model, GBDT, or give up — each with
the rule that says when to stop climbing."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from core.planning.errors import InvalidInputError

MAX_TIMEBOX_WEEKS = 104


class PhaseStatus(StrEnum):
    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    DONE = "done"
    BLOCKED = "blocked"


class StepStatus(StrEnum):
    NOT_TRIED = "not tried"
    TRYING = "trying"
    ENOUGH = "stopped here: good enough"
    NEXT = "moved on: not good enough"
    GAVE_UP = "gave up"


# (key, English name, Japanese name) in the order of the talk.
PHASES: tuple[tuple[str, str, str], ...] = (
    ("survey", "Current-state survey and problem definition", "現状調査・課題定義"),
    ("offline", "Offline evaluation", "オフライン評価"),
    ("online", "Online evaluation", "オンライン評価"),
    ("decision", "GO/NO-GO decision", "GO/NO-GO判断"),
)
PHASE_NAMES = {key: f"{en} {ja}" for key, en, ja in PHASES}
PHASE_LINES = {key: f"{en}<br>{ja}" for key, en, ja in PHASES}  # for chart axes


@dataclass(frozen=True)
class Phase:
    key: str
    owner: str = ""
    start: date | None = None
    end: date | None = None
    status: PhaseStatus = PhaseStatus.NOT_STARTED
    notes: str = ""

    def __post_init__(self) -> None:
        problems = []
        if self.key not in PHASE_NAMES:
            problems.append(f"Unknown phase '{self.key}'.")
        if self.start and self.end and self.end < self.start:
            problems.append(f"it ends ({self.end:%Y-%m-%d}) before it starts ({self.start:%Y-%m-%d}).")
        try:
            object.__setattr__(self, "status", PhaseStatus(self.status))
        except ValueError:
            problems.append(f"unknown status '{self.status}'.")
        if problems:
            raise InvalidInputError(f"The phase '{PHASE_NAMES.get(self.key, self.key)}'", problems)
        object.__setattr__(self, "owner", (self.owner or "").strip())
        object.__setattr__(self, "notes", (self.notes or "").strip())

    @property
    def name(self) -> str:
        return PHASE_NAMES[self.key]

    @property
    def label_lines(self) -> str:
        return PHASE_LINES[self.key]

    def fields(self) -> dict[str, object]:
        return {"owner": self.owner, "start": self.start, "end": self.end, "status": self.status, "notes": self.notes}


LADDER: tuple[tuple[str, str], ...] = (
    ("rules", "Rules and statistics ルール・統計"),
    ("simple", "Simple model シンプルなモデル"),
    ("gbdt", "GBDT"),
    ("give_up", "Give up 諦める"),
)
LADDER_NAMES = dict(LADDER)


@dataclass(frozen=True)
class LadderStep:
    key: str
    methods: str = ""
    stop_rule: str = ""
    timebox_weeks: float | None = None
    status: StepStatus = StepStatus.NOT_TRIED
    result: str = ""

    def __post_init__(self) -> None:
        problems = []
        if self.key not in LADDER_NAMES:
            problems.append(f"Unknown ladder step '{self.key}'.")
        if not (self.stop_rule or "").strip():
            problems.append("it needs a stop rule: say when you stop at this step instead of climbing.")
        weeks = self.timebox_weeks
        if weeks is not None and not (isinstance(weeks, int | float) and math.isfinite(weeks)
                                      and 0 <= weeks <= MAX_TIMEBOX_WEEKS):
            problems.append(f"the time box must be between 0 and {MAX_TIMEBOX_WEEKS} weeks.")
        try:
            object.__setattr__(self, "status", StepStatus(self.status))
        except ValueError:
            problems.append(f"unknown status '{self.status}'.")
        if problems:
            raise InvalidInputError(f"The ladder step '{LADDER_NAMES.get(self.key, self.key)}'", problems)
        for name in ("methods", "stop_rule", "result"):
            object.__setattr__(self, name, (getattr(self, name) or "").strip())
        if weeks is not None:
            object.__setattr__(self, "timebox_weeks", float(weeks))

    @property
    def name(self) -> str:
        return LADDER_NAMES[self.key]

    def fields(self) -> dict[str, object]:
        return {"methods": self.methods, "stop_rule": self.stop_rule, "timebox_weeks": self.timebox_weeks,
                "status": self.status, "result": self.result}


FIELD_LABELS = {"owner": "owner", "start": "start", "end": "end", "status": "status", "notes": "notes",
                "methods": "methods", "stop_rule": "stop rule", "timebox_weeks": "time box", "result": "result"}


def default_phases() -> tuple[Phase, ...]:
    return tuple(Phase(key) for key, _, _ in PHASES)


def default_ladder() -> tuple[LadderStep, ...]:
    return (
        LadderStep("rules", "Today's practice, naive, seasonal naive, moving average, same period last year; "
                   "then ETS and Theta",
                   "Stop here if the best rule or statistical model meets every GO criterion: it is the cheapest to "
                   "run, explain and maintain.", 2),
        LadderStep("simple", "A simple model with the known drivers: SARIMAX or a linear model on price, promotion "
                   "and calendar",
                   "Stop if it is not at least 5 % better (WAPE) than the best rule — the gain would not pay for "
                   "the model.", 2),
        LadderStep("gbdt", "GBDT (LightGBM) on all series at once with calendar, price, promotion and lag features",
                   "Stop if its gain over the simple model does not pay its extra yearly running cost (retraining, "
                   "feature pipelines, monitoring).", 3),
        LadderStep("give_up", "Keep today's practice; write down what was learned and what data would change the "
                   "answer",
                   "If no step meets the GO/NO-GO criteria within its time box, stop the PoC: giving up is a valid "
                   "result.", 0),
    )


def plan_warnings(phases: Sequence[Phase], today: date) -> list[str]:
    """What a PM should look at in the plan; it is saved all the same."""
    warnings = []
    for earlier, later in zip(phases, phases[1:], strict=False):
        if earlier.end and later.start and later.start < earlier.end:
            warnings.append(f"'{later.name}' starts before '{earlier.name}' ends.")
    for phase in phases:
        if phase.end and phase.end < today and phase.status != PhaseStatus.DONE:
            warnings.append(f"'{phase.name}' should have ended on {phase.end:%Y-%m-%d} and is {phase.status.value}.")
        if phase.status != PhaseStatus.NOT_STARTED and not phase.owner:
            warnings.append(f"'{phase.name}' is {phase.status.value} but has no owner.")
    return warnings


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    current: Phase | None  # the phase in progress, else the next one not done
    first_day: date | None
    last_day: date | None


def progress(phases: Sequence[Phase]) -> Progress:
    done = sum(p.status == PhaseStatus.DONE for p in phases)
    current = next((p for p in phases if p.status in (PhaseStatus.IN_PROGRESS, PhaseStatus.BLOCKED)), None)
    current = current or next((p for p in phases if p.status != PhaseStatus.DONE), None)
    starts = [p.start for p in phases if p.start]
    ends = [p.end or p.start for p in phases if p.end or p.start]
    return Progress(done, len(phases), current, min(starts) if starts else None, max(ends) if ends else None)


def ladder_position(steps: Sequence[LadderStep]) -> str:
    """Where the ladder stands, in a sentence."""
    stopped = next((s for s in steps if s.status in (StepStatus.ENOUGH, StepStatus.GAVE_UP)), None)
    if stopped is not None:
        return ("Gave up: today's practice stays." if stopped.status == StepStatus.GAVE_UP
                else f"Stopped at '{stopped.name}': good enough.")
    trying = next((s for s in steps if s.status == StepStatus.TRYING), None)
    if trying is not None:
        return f"Trying '{trying.name}'."
    if all(s.status == StepStatus.NOT_TRIED for s in steps):
        return "Nothing tried yet: start with rules and statistics."
    upcoming = next((s for s in steps if s.status == StepStatus.NOT_TRIED), None)
    return f"Next: '{upcoming.name}'." if upcoming else "Every step was tried."
