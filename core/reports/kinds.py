"""The kinds of report, each a pair of functions over a stored snapshot:

- ``snapshot(warehouse, project_id, options) -> (made_from, snapshot)``: what the report
  shows, read from the warehouse now, as JSON in no language (``options``: the kind's own,
  e.g. ``{"runs": [run ids]}`` for the backtest comparison); raises ``MitoshiError`` with
  what is missing and where to make it;
- ``sections(snapshot, made_from) -> (subtitle, sections)``: the report in the language
  of the moment (``core.paper.report`` sections).

A new kind is a module with those two functions and one line in ``KINDS``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.i18n import N_
from core.reports import backtest as backtest_report
from core.reports import effort as effort_report
from core.reports import pilot as pilot_report
from core.reports import problem


@dataclass(frozen=True)
class ReportKind:
    key: str  # as on the command line and in the table ``reports``
    title: str  # N_: the report's name, in the language of the moment with ``_``
    page: str  # the page where its content lives
    snapshot: Callable
    sections: Callable


KINDS: dict[str, ReportKind] = {kind.key: kind for kind in (
    ReportKind("problem", N_("Problem definition"), "problem", problem.snapshot, problem.sections),
    ReportKind("effort-impact", N_("Effort / impact"), "effort-impact", effort_report.snapshot,
               effort_report.sections),
    ReportKind("pilot", N_("Pilot readout"), "pilot", pilot_report.snapshot, pilot_report.sections),
    ReportKind("backtest", N_("Backtest comparison"), "experiments", backtest_report.snapshot,
               backtest_report.sections),
)}
