"""Exceptions whose messages a user can act on.

Core raises these; pages catch ``MitoshiError`` and show its message with ``st.error``.
Every message says what is wrong and how to fix it.
"""

from __future__ import annotations


class MitoshiError(Exception):
    """Base class: the message is written for the person using the app."""


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
