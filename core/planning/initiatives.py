"""Candidate ML initiatives on effort against impact — effort is not value.

Each initiative has an effort (person-weeks), an impact (yen per year at full scale),
a confidence in that impact and a reach (the share of the chain it touches in its
first year). Two scores rank them:

- RICE = impact × reach × confidence ÷ effort: expected first-year yen per person-week;
- ICE = impact score × confidence score × ease score, each 1–10 (impact and ease on
  log scales: ¥1M → 1 and ¥1B → 10; 1 person-week → 10 and 100 → 1), so 1–1,000.

The map's quadrants carry the talk's names. Little effort and large impact: aim here.
A quadrant's value is its English name (a key in tables); ``label`` and ``meaning`` read
it in the current language.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

import pandas as pd

from core import fmt
from core.i18n import M_, N_, Fmt, Msg, gettext
from core.planning import texts
from core.planning.definition import ProblemDefinition
from core.planning.errors import InvalidInputError
from core.text import md

MAX_EFFORT_WEEKS = 1000.0


class Quadrant(StrEnum):
    AIM = N_("Aim here (MUST)")
    WAIT = N_("Wait until you need it")
    START = N_("Low-risk starting point")
    DOUBT = N_("Are you sure?")

    @property
    def priority(self) -> int:
        return {Quadrant.AIM: 0, Quadrant.START: 1, Quadrant.WAIT: 2, Quadrant.DOUBT: 3}[self]

    @property
    def label(self) -> str:
        """The quadrant's name in the current language."""
        return gettext(self.value)

    @property
    def meaning(self) -> str:
        return gettext({Quadrant.AIM: N_("little effort, large impact"), Quadrant.WAIT: N_("huge effort, large impact"),
                        Quadrant.START: N_("little effort, small impact"),
                        Quadrant.DOUBT: N_("huge effort, small impact")}[self])


@dataclass(frozen=True)
class Thresholds:
    """Where the map splits: effort at most ``effort_weeks`` is little; impact at least
    ``impact_yen`` a year is large."""

    effort_weeks: float = 13.0  # a quarter of one person's year
    impact_yen: float = 20_000_000.0

    def __post_init__(self) -> None:
        if not (self.effort_weeks > 0 and self.impact_yen > 0):
            raise InvalidInputError(M_("The thresholds"), [M_("Both thresholds must be above 0.")])


@dataclass(frozen=True)
class Initiative:
    name: str
    description: str = ""
    effort_weeks: float = 1.0
    impact_yen: float = 0.0
    confidence: float = 0.5  # 0..1
    reach: float = 1.0  # 0..1

    def __post_init__(self) -> None:
        problems = initiative_problems(self.name, self.effort_weeks, self.impact_yen, self.confidence, self.reach)
        if problems:
            raise InvalidInputError(M_("The initiative '{name}'", name=(self.name or "").strip() or M_("(no name)")),
                                    problems)
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "description", (self.description or "").strip())
        for name in ("effort_weeks", "impact_yen", "confidence", "reach"):
            object.__setattr__(self, name, float(getattr(self, name)))

    def fields(self) -> dict[str, object]:
        return {"name": self.name, "description": self.description, "effort_weeks": self.effort_weeks,
                "impact_yen": self.impact_yen, "confidence": self.confidence, "reach": self.reach}


def _present(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def initiative_problems(name: str | None, effort: float | None, impact: float | None, confidence: float | None,
                        reach: float | None) -> list[Msg]:
    problems = []
    if not (name or "").strip():
        problems.append(M_("Give it a name."))
    if not _present(effort) or effort <= 0:
        problems.append(M_("Effort must be above 0 person-weeks."))
    elif effort > MAX_EFFORT_WEEKS:
        problems.append(M_("Effort above {limit} person-weeks is not a PoC; split it.",
                           limit=Fmt("count", MAX_EFFORT_WEEKS)))
    if not _present(impact) or impact < 0:
        problems.append(M_("Impact must be 0 yen a year or more."))
    if not _present(confidence) or not 0 <= confidence <= 1:
        problems.append(M_("Confidence must be between 0 % and 100 %."))
    if not _present(reach) or not 0 <= reach <= 1:
        problems.append(M_("Reach must be between 0 % and 100 %."))
    return problems


# ---------------------------------------------------------------------------------
# Scores and quadrants
# ---------------------------------------------------------------------------------
def rice(initiative: Initiative) -> float:
    """Expected first-year yen per person-week: impact × reach × confidence ÷ effort."""
    i = initiative
    return i.impact_yen * i.reach * i.confidence / i.effort_weeks


def impact_score(impact_yen: float) -> float:
    """1–10 on a log scale: ¥1M a year or less → 1, ¥1B or more → 10."""
    if impact_yen <= 0:
        return 1.0
    return min(10.0, max(1.0, 1 + 9 * (math.log10(impact_yen) - 6) / 3))


def ease_score(effort_weeks: float) -> float:
    """1–10 on a log scale: 1 person-week or less → 10, 100 or more → 1."""
    return min(10.0, max(1.0, 10 - 9 * math.log10(effort_weeks) / 2))


def ice(initiative: Initiative) -> float:
    return impact_score(initiative.impact_yen) * (initiative.confidence * 10) * ease_score(initiative.effort_weeks)


def quadrant(initiative: Initiative, thresholds: Thresholds) -> Quadrant:
    little = initiative.effort_weeks <= thresholds.effort_weeks
    large = initiative.impact_yen >= thresholds.impact_yen
    if little:
        return Quadrant.AIM if large else Quadrant.START
    return Quadrant.WAIT if large else Quadrant.DOUBT


SCORE_COLUMNS = ("key", "name", "description", "effort_weeks", "impact_yen", "confidence", "reach", "rice", "ice",
                 "quadrant", "rank")


def score_table(items: Sequence[tuple[str, Initiative]], thresholds: Thresholds) -> pd.DataFrame:
    """One row per initiative with its scores and quadrant, ranked: the quadrants in
    the order aim here, low-risk start, wait, are you sure; then by RICE."""
    rows = [{"key": key, **i.fields(), "rice": rice(i), "ice": ice(i), "quadrant": quadrant(i, thresholds).value}
            for key, i in items]
    table = pd.DataFrame(rows, columns=list(SCORE_COLUMNS[:-1]))
    if table.empty:
        return table.assign(rank=pd.Series(dtype="int64"))
    order = table["quadrant"].map(lambda q: Quadrant(q).priority)
    table = table.assign(_order=order).sort_values(["_order", "rice", "name"], ascending=[True, False, True])
    return table.drop(columns="_order").assign(rank=range(1, len(table) + 1)).reset_index(drop=True)


def recommendation(table: pd.DataFrame) -> list[str]:
    """The ranked table in sentences a PM can act on, in the current language (Markdown;
    the names are text)."""
    _ = gettext
    if table.empty:
        return [_("Add candidate initiatives to see where to start.")]
    by = {q: table[table["quadrant"] == q.value] for q in Quadrant}
    lines = []
    aim = by[Quadrant.AIM]
    if not aim.empty:
        top = aim.iloc[0]
        lines.append(_("**Start with {name}**: little effort ({weeks} person-weeks) and large impact ({amount} a year "
                       "at full scale) — RICE {rice} per person-week, ICE {ice}.").format(
            name=md(top["name"]), weeks=fmt.trimmed(top["effort_weeks"], 1), amount=fmt.yen(top["impact_yen"]),
            rice=fmt.yen(top["rice"]), ice=fmt.count(top["ice"])))
        if len(aim) > 1:
            lines.append(_("Also aim here: {names}.").format(
                names=texts.separator().join(f"**{md(n)}**" for n in aim["name"].iloc[1:])))
    else:
        lines.append(_("Nothing is both little effort and large impact. Start small with a low-risk starting point to "
                       "learn, or look again at the estimates — effort is not value."))
    for q, text in ((Quadrant.START, N_("Low-risk starting points, to learn on or to fill gaps: {names}.")),
                    (Quadrant.WAIT, N_("Wait until you need them (large, but a huge effort): {names}.")),
                    (Quadrant.DOUBT, N_("Are you sure? A huge effort for a small impact: drop them unless the "
                                        "estimates change: {names}."))):
        if not by[q].empty:
            lines.append(_(text).format(names=texts.separator().join(map(md, by[q]["name"]))))
    return lines


# ---------------------------------------------------------------------------------
# The table the page edits: confidence and reach in percent
# ---------------------------------------------------------------------------------
EDIT_COLUMNS = ("name", "description", "effort_weeks", "impact_yen", "confidence_pct", "reach_pct")


def editor_frame(items: Sequence[tuple[str, Initiative]]) -> pd.DataFrame:
    """The editable table. Rows are numbered 0..n-1 (new rows need no index) and carry
    their initiative's key in a ``key`` column the page hides."""
    rows = [{"key": key, "name": i.name, "description": i.description, "effort_weeks": i.effort_weeks,
             "impact_yen": i.impact_yen, "confidence_pct": round(i.confidence * 100, 6),
             "reach_pct": round(i.reach * 100, 6)} for key, i in items]
    return pd.DataFrame(rows, columns=["key", *EDIT_COLUMNS])


@dataclass(frozen=True)
class EditorChanges:
    added: tuple[Initiative, ...] = ()
    updated: tuple[tuple[str, Initiative], ...] = ()
    deleted: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()  # rows not saved yet, each with what they need
    problems: tuple[str, ...] = ()  # edits that cannot be saved as typed

    @property
    def any(self) -> bool:
        return bool(self.added or self.updated or self.deleted)


def _value(row: Mapping, column: str) -> object:
    value = row.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _from_row(row: Mapping) -> Initiative:
    confidence, reach = _value(row, "confidence_pct"), _value(row, "reach_pct")
    return Initiative(
        name=str(_value(row, "name") or ""), description=str(_value(row, "description") or ""),
        effort_weeks=_value(row, "effort_weeks"), impact_yen=_value(row, "impact_yen"),
        confidence=None if confidence is None else float(confidence) / 100,
        reach=None if reach is None else float(reach) / 100,
    )


def editor_changes(opened: Mapping[str, Initiative], edited: pd.DataFrame) -> EditorChanges:
    """What the user did to the table (``editor_frame``'s shape, as edited): rows added,
    changed and deleted since it was opened. Rows that cannot be saved yet are reported,
    not guessed at (in the current language)."""
    _ = gettext
    added, updated, waiting, problems = [], [], [], []
    for position, values in enumerate(edited.to_dict("records"), start=1):
        key = values.get("key")
        is_new = not isinstance(key, str) or key not in opened
        if is_new and all(_value(values, c) is None for c in EDIT_COLUMNS):
            waiting.append(_("Row {n} is empty: type a name, an effort and an impact to add it.").format(n=position))
            continue
        try:
            initiative = _from_row(values)
        except InvalidInputError as error:
            label = str(_value(values, "name") or "").strip() or _("row {n}").format(n=position)
            if is_new:
                waiting.append(_("New row '{name}' is not saved yet: {problems}").format(
                    name=label, problems=" ".join(error.problems)))
            else:
                problems.append(_("'{name}' was not saved: {problems}").format(
                    name=label, problems=" ".join(error.problems)))
            continue
        if is_new:
            added.append(initiative)
        elif initiative != opened[key]:
            updated.append((key, initiative))
    kept = set(edited["key"]) if "key" in edited else set()
    deleted = tuple(key for key in opened if key not in kept)
    return EditorChanges(tuple(added), tuple(updated), deleted, tuple(waiting), tuple(problems))


def to_definition(current: ProblemDefinition, initiative: Initiative) -> ProblemDefinition:
    """The project's definition with this initiative as its problem: the problem
    statement and the value come from the initiative, everything else stays. What is
    written is kept as facts (``texts.Text``), so it reads in either language until edited."""
    name = texts.fact(initiative.name, texts.INITIATIVE)
    description = texts.fact(initiative.description, texts.INITIATIVE)
    if isinstance(name, str) and (not initiative.description or isinstance(description, str)):
        statement = initiative.name + (f": {initiative.description}" if initiative.description else "")
    else:
        statement = texts.Text(M_("{name}: {description}", name=name, description=description)
                               if initiative.description else name)
    weeks = Fmt("trimmed", initiative.effort_weeks, {"digits": 1})
    estimate = texts.Text(M_(
        "From the effort/impact map: {amount} a year at full scale, {confidence} confidence, reaching {reach} of the "
        "chain in the first year; effort about {weeks} person-weeks.", amount=Fmt("yen", initiative.impact_yen),
        confidence=Fmt("pct", initiative.confidence, {"digits": 0}),
        reach=Fmt("pct", initiative.reach, {"digits": 0}), weeks=weeks))
    timeline = current.timeline or texts.Text(M_("About {weeks} person-weeks estimated on the effort/impact map",
                                                 weeks=weeks))
    return replace(current, problem=statement, value_yen_per_year=initiative.impact_yen, value_estimate=estimate,
                   timeline=timeline)
