"""Exceptions whose messages a user can act on.

Core raises these; pages catch ``MitoshiError`` and show its message with ``st.error``.
Every message says what is wrong and how to fix it.

A message is a ``core.i18n.Msg`` (its English text and its values as parameters:
``MitoshiError(M_("No column {column} in {file}.", column=c, file=f))``) or plain text;
``str(error)`` reads it in the language current where it is shown, so an error raised
by a worker or stored reads in the user's language.
"""

from __future__ import annotations

from core.i18n import render


class MitoshiError(Exception):
    """Base class: the message is written for the person using the app."""

    def __str__(self) -> str:
        return render(self.args[0]) if len(self.args) == 1 else super().__str__()


class WarehouseError(MitoshiError):
    """The warehouse refused an operation (bad name, missing dataset, ...)."""


class DatasetExistsError(WarehouseError):
    pass


class DatasetNotFoundError(WarehouseError):
    pass


class ImportProblemError(MitoshiError):
    """A file cannot be imported as it is; ``problems`` says why, row by row."""

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class AppendOverlapError(WarehouseError):
    """Rows to append have series and dates the dataset already holds; the user chooses to
    append only the new dates or to replace the stored rows."""

    def __init__(self, message: str, overlap: int = 0, first: object = None, last: object = None) -> None:
        super().__init__(message)
        self.overlap, self.first, self.last = overlap, first, last
