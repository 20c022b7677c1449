"""The PoC plan: the talk's four phases with owners and dates, and the ladder of
methods to try — rules and statistics, a simple model, GBDT, or give up — each with
the rule that says when to stop climbing.

Statuses are stored by their English value and read with ``label``; phase and step
names are English in the source (with the talk's Japanese term) and read in the current
language through ``name``. The default ladder's texts are fixed texts (``texts``): stored in
English, shown in the reader's language until edited.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from core import fmt
from core.i18n import M_, N_, Fmt, Msg, gettext
from core.planning.errors import InvalidInputError

MAX_TIMEBOX_WEEKS = 104


class PhaseStatus(StrEnum):
    NOT_STARTED = N_("not started")
    IN_PROGRESS = N_("in progress")
    DONE = N_("done")
    BLOCKED = N_("blocked")

    @property
    def label(self) -> str:
        return gettext(self.value)


class StepStatus(StrEnum):
    NOT_TRIED = N_("not tried")
    TRYING = N_("trying")
    ENOUGH = N_("stopped here: good enough")
    NEXT = N_("moved on: not good enough")
    GAVE_UP = N_("gave up")

    @property
    def label(self) -> str:
        return gettext(self.value)


# (key, name, name on two lines for chart axes) in the order of the talk; English with the
# talk's Japanese term, Japanese alone.
PHASES: tuple[tuple[str, str, str], ...] = (
    ("survey", N_("Current-state survey and problem definition 現状調査・課題定義"),
     N_("Current-state survey and problem definition<br>現状調査・課題定義")),
    ("offline", N_("Offline evaluation オフライン評価"), N_("Offline evaluation<br>オフライン評価")),
    ("online", N_("Online evaluation オンライン評価"), N_("Online evaluation<br>オンライン評価")),
    ("decision", N_("GO/NO-GO decision GO/NO-GO判断"), N_("GO/NO-GO decision<br>GO/NO-GO判断")),
)
PHASE_NAMES = {key: name for key, name, _lines in PHASES}  # English: translate where shown (``Phase.name``)
PHASE_LINES = {key: lines for key, _name, lines in PHASES}


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
            problems.append(M_("Unknown phase '{key}'.", key=self.key))
        if self.start and self.end and self.end < self.start:
            problems.append(M_("it ends ({end}) before it starts ({start}).", end=Fmt("date", self.end.isoformat()),
                               start=Fmt("date", self.start.isoformat())))
        try:
            object.__setattr__(self, "status", PhaseStatus(self.status))
        except ValueError:
            problems.append(M_("unknown status '{status}'.", status=str(self.status)))
        if problems:
            name = Msg(PHASE_NAMES[self.key]) if self.key in PHASE_NAMES else self.key
            raise InvalidInputError(M_("The phase '{name}'", name=name), problems)
        object.__setattr__(self, "owner", (self.owner or "").strip())
        object.__setattr__(self, "notes", (self.notes or "").strip())

    @property
    def name(self) -> str:
        """The phase's name in the current language."""
        return gettext(PHASE_NAMES[self.key])

    @property
    def label_lines(self) -> str:
        return gettext(PHASE_LINES[self.key])

    def fields(self) -> dict[str, object]:
        return {"owner": self.owner, "start": self.start, "end": self.end, "status": self.status, "notes": self.notes}


LADDER: tuple[tuple[str, str], ...] = (
    ("rules", N_("Rules and statistics ルール・統計")),
    ("simple", N_("Simple model シンプルなモデル")),
    ("gbdt", "GBDT"),
    ("give_up", N_("Give up 諦める")),
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
            problems.append(M_("Unknown ladder step '{key}'.", key=self.key))
        if not (self.stop_rule or "").strip():
            problems.append(M_("it needs a stop rule: say when you stop at this step instead of climbing."))
        weeks = self.timebox_weeks
        if weeks is not None and not (isinstance(weeks, int | float) and math.isfinite(weeks)
                                      and 0 <= weeks <= MAX_TIMEBOX_WEEKS):
            problems.append(M_("the time box must be between 0 and {limit} weeks.", limit=MAX_TIMEBOX_WEEKS))
        try:
            object.__setattr__(self, "status", StepStatus(self.status))
        except ValueError:
            problems.append(M_("unknown status '{status}'.", status=str(self.status)))
        if problems:
            name = Msg(LADDER_NAMES[self.key]) if self.key in LADDER_NAMES else self.key
            raise InvalidInputError(M_("The ladder step '{name}'", name=name), problems)
        for name in ("methods", "stop_rule", "result"):
            object.__setattr__(self, name, (getattr(self, name) or "").strip())
        if weeks is not None:
            object.__setattr__(self, "timebox_weeks", float(weeks))

    @property
    def name(self) -> str:
        """The step's name in the current language."""
        return gettext(LADDER_NAMES[self.key])

    def fields(self) -> dict[str, object]:
        return {"methods": self.methods, "stop_rule": self.stop_rule, "timebox_weeks": self.timebox_weeks,
                "status": self.status, "result": self.result}


# The fields as conflicts name them (English; translated where shown).
FIELD_LABELS = {"owner": N_("owner"), "start": N_("start"), "end": N_("end"), "status": N_("status"),
                "notes": N_("notes"), "methods": N_("methods"), "stop_rule": N_("stop rule"),
                "timebox_weeks": N_("time box"), "result": N_("result")}


def default_phases() -> tuple[Phase, ...]:
    return tuple(Phase(key) for key, _, _ in PHASES)


def default_ladder() -> tuple[LadderStep, ...]:
    """The ladder every project starts with; its texts are fixed texts (stored in English,
    read in the reader's language until edited)."""
    return (
        LadderStep("rules", N_("Today's practice, naive, seasonal naive, moving average, same period last year; "
                               "then ETS and Theta"),
                   N_("Stop here if the best rule or statistical model meets every GO criterion: it is the cheapest "
                      "to run, explain and maintain."), 2),
        LadderStep("simple", N_("A simple model with the known drivers: SARIMAX or a linear model on price, "
                                "promotion and calendar"),
                   N_("Stop if it is not at least 5 % better (WAPE) than the best rule — the gain would not pay for "
                      "the model."), 2),
        LadderStep("gbdt", N_("GBDT (LightGBM) on all series at once with calendar, price, promotion and lag "
                              "features"),
                   N_("Stop if its gain over the simple model does not pay its extra yearly running cost "
                      "(retraining, feature pipelines, monitoring)."), 3),
        LadderStep("give_up", N_("Keep today's practice; write down what was learned and what data would change the "
                                 "answer"),
                   N_("If no step meets the GO/NO-GO criteria within its time box, stop the PoC: giving up is a "
                      "valid result."), 0),
    )


def plan_warnings(phases: Sequence[Phase], today: date) -> list[str]:
    """What a PM should look at in the plan (in the current language); it is saved all the
    same."""
    _ = gettext
    warnings = []
    for earlier, later in zip(phases, phases[1:], strict=False):
        if earlier.end and later.start and later.start < earlier.end:
            warnings.append(_("'{later}' starts before '{earlier}' ends.").format(later=later.name,
                                                                                 earlier=earlier.name))
    for phase in phases:
        if phase.end and phase.end < today and phase.status != PhaseStatus.DONE:
            warnings.append(_("'{phase}' should have ended on {day} and is {status}.").format(
                phase=phase.name, day=fmt.date(phase.end), status=phase.status.label))
        if phase.status != PhaseStatus.NOT_STARTED and not phase.owner:
            warnings.append(_("'{phase}' is {status} but has no owner.").format(phase=phase.name,
                                                                              status=phase.status.label))
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
    """Where the ladder stands, in a sentence of the current language."""
    _ = gettext
    stopped = next((s for s in steps if s.status in (StepStatus.ENOUGH, StepStatus.GAVE_UP)), None)
    if stopped is not None:
        return (_("Gave up: today's practice stays.") if stopped.status == StepStatus.GAVE_UP
                else _("Stopped at '{step}': good enough.").format(step=stopped.name))
    trying = next((s for s in steps if s.status == StepStatus.TRYING), None)
    if trying is not None:
        return _("Trying '{step}'.").format(step=trying.name)
    if all(s.status == StepStatus.NOT_TRIED for s in steps):
        return _("Nothing tried yet: start with rules and statistics.")
    upcoming = next((s for s in steps if s.status == StepStatus.NOT_TRIED), None)
    return _("Next: '{step}'.").format(step=upcoming.name) if upcoming else _("Every step was tried.")
