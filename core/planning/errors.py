"""Errors of the planning pages, each with a message a PM can act on.

Messages are facts (``core.i18n.Msg``): they read in the language of the page that shows
them, with their values (a name, an amount, a date) filled in there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from core import fmt
from core.errors import MitoshiError
from core.i18n import M_, N_, Msg, gettext, render
from core.planning.texts import joined, listed


class PlanningError(MitoshiError):
    """A planning document cannot be saved or read as asked."""


class ProjectNotFoundError(PlanningError):
    pass


class ProjectExistsError(PlanningError):
    pass


class CriterionError(PlanningError):
    """A GO/NO-GO criterion is malformed, or cannot be evaluated on the values given."""

    @property
    def fact(self) -> object:
        """The message as facts, to be put in another message."""
        return self.args[0] if len(self.args) == 1 else str(self)


class InvalidInputError(PlanningError):
    """What the user typed cannot be saved; ``problems`` lists every reason, one a line,
    in the current language (``facts``: the same as messages)."""

    def __init__(self, what: object, problems: Sequence[object]) -> None:
        self.what = what
        self.facts = tuple(problems)
        super().__init__(M_("{what} was not saved: {problems}", what=what, problems=joined(self.facts)))

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(render(p) for p in self.facts)


def when(moment: datetime, now: datetime | None = None) -> str:
    """'at 10:42' today, 'on 2025-05-01 at 10:42' another day (Japanese: 10:42,
    2025年5月1日 10:42)."""
    now = now or datetime.now()
    clock = f"{moment:%H:%M}"
    if moment.date() == now.date():
        return gettext("at {clock}").format(clock=clock)
    return gettext("on {day} at {clock}").format(day=fmt.date(moment), clock=clock)


class ConflictError(PlanningError):
    """Someone saved the same thing since this user opened it, and both changed the
    same fields. Nothing was saved; ``mine`` is what this user tried to save, so the
    page can keep it on screen. ``fields`` and the keys of ``mine`` and ``theirs`` are
    the fields' English labels (translated where shown: ``conflict_rows``)."""

    def __init__(self, what: object, saved_at: datetime | None, fields: Sequence[str],
                 mine: Mapping[str, object] | None = None, theirs: Mapping[str, object] | None = None,
                 deleted: bool = False) -> None:
        self.what, self.saved_at, self.fields = what, saved_at, tuple(fields)
        self.mine, self.theirs, self.deleted = dict(mine or {}), dict(theirs or {}), deleted
        super().__init__(what)

    def __str__(self) -> str:
        moment = when(self.saved_at) if self.saved_at else gettext("meanwhile")
        if self.deleted:
            return gettext("Someone deleted {what} {moment} since you opened it, so your change was not saved; "
                           "your values are kept below — add it again if you still need it.").format(
                what=render(self.what), moment=moment)
        both = listed(Msg(f) for f in self.fields) or gettext("the same fields")
        return gettext("Someone saved {what} {moment} since you opened it, and you both changed {both}. Nothing of "
                       "yours was saved: reload to see their changes — your text is kept below.").format(
            what=render(self.what), moment=moment, both=both)


# The columns of the table of conflicting values.
FIELD, YOURS, THEIRS = N_("field"), N_("yours"), N_("theirs")


def conflict_rows(error: ConflictError) -> list[dict[str, str]]:
    """The conflicting fields as rows (field, yours, theirs; headers in the current
    language), to keep the user's text on screen."""
    return [{gettext(FIELD): gettext(field), gettext(YOURS): render(value),
             gettext(THEIRS): render(error.theirs.get(field, "–"))}
            for field, value in error.mine.items()]
