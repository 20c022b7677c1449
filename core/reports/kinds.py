"""The kinds of report, each a pair of functions over a stored snapshot:

- ``snapshot(warehouse, project_id, options) -> (made_from, snapshot)``: what the report
  shows, read from the warehouse now, as JSON in no language (``options``: the kind's own,
  e.g. ``{"runs": [run ids]}`` for the backtest comparison); raises ``MitoshiError`` with
  what is missing and where to make it;
- ``sections(snapshot, made_from) -> (subtitle, sections)``: the report in the language
  of the moment (``core.paper.report`` sections).

A new kind is a module with those two functions and one line in ``KINDS``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from core.paper.store import TITLES


@dataclass(frozen=True)
class ReportKind:
    key: str  # as on the command line and in the table ``reports``
    title: str  # core.paper.store.TITLES: the report's name, in the language of the moment with ``_``
    page: str  # the page where its content lives
    module: str  # the module under core.reports with its ``snapshot`` and ``sections``, imported when first used

    @property
    def snapshot(self) -> Callable:
        return importlib.import_module(f"core.reports.{self.module}").snapshot

    @property
    def sections(self) -> Callable:
        return importlib.import_module(f"core.reports.{self.module}").sections


# Imported when used, so that printing one report does not import every step the others read
# (the backtest engine and LightGBM for a problem definition): the command line starts faster.
KINDS: dict[str, ReportKind] = {kind.key: kind for kind in (
    ReportKind("problem", TITLES["problem"], "problem", "problem"),
    ReportKind("effort-impact", TITLES["effort-impact"], "effort-impact", "effort"),
    ReportKind("backtest", TITLES["backtest"], "experiments", "backtest"),
    ReportKind("pilot", TITLES["pilot"], "pilot", "pilot"),
)}
