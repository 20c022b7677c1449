"""Errors of the planning pages, each with a message a PM can act on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from core.errors import MitoshiError


class PlanningError(MitoshiError):
    """A planning document cannot be saved or read as asked."""


class ProjectNotFoundError(PlanningError):
    pass


class ProjectExistsError(PlanningError):
    pass


class CriterionError(PlanningError):
    """A GO/NO-GO criterion is malformed, or cannot be evaluated on the values given."""


class InvalidInputError(PlanningError):
    """What the user typed cannot be saved; ``problems`` lists every reason, one a line."""

    def __init__(self, what: str, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{what} was not saved: " + " ".join(self.problems))


def when(moment: datetime, now: datetime | None = None) -> str:
    """'at 10:42' today, 'on 2025-05-01 at 10:42' another day."""
    now = now or datetime.now()
    clock = f"{moment:%H:%M}"
    return f"at {clock}" if moment.date() == now.date() else f"on {moment:%Y-%m-%d} at {clock}"


class ConflictError(PlanningError):
    """Someone saved the same thing since this user opened it, and both changed the
    same fields. Nothing was saved; ``mine`` is what this user tried to save, so the
    page can keep it on screen."""

    def __init__(self, what: str, saved_at: datetime | None, fields: Sequence[str],
                 mine: Mapping[str, object] | None = None, theirs: Mapping[str, object] | None = None,
                 deleted: bool = False) -> None:
        self.what, self.saved_at, self.fields = what, saved_at, tuple(fields)
        self.mine, self.theirs, self.deleted = dict(mine or {}), dict(theirs or {}), deleted
        moment = when(saved_at) if saved_at else "meanwhile"
        if deleted:
            message = (f"Someone deleted {what} {moment} since you opened it, so your change was not saved; "
                       "your values are kept below — add it again if you still need it.")
        else:
            both = ", ".join(self.fields) or "the same fields"
            message = (f"Someone saved {what} {moment} since you opened it, and you both changed {both}. "
                       "Nothing of yours was saved: reload to see their changes — your text is kept below.")
        super().__init__(message)


def conflict_rows(error: ConflictError) -> list[dict[str, str]]:
    """The conflicting fields as rows (field, yours, theirs), to keep the user's text on screen."""
    return [{"field": field, "yours": str(value), "theirs": str(error.theirs.get(field, "–"))}
            for field, value in error.mine.items()]
