"""Texts Mitoshi itself writes into a project's editable fields, read in the reader's
language while nobody has changed them (issue 15).

Two kinds:

- **Fixed texts** — the AI Shop example project (``example``), the ladder every new
  project starts with (``plan.default_ladder``) and the processes offered
  (``definition.PROCESSES``). They are stored as their English original, exactly what a
  warehouse held before the language switch, so an existing warehouse needs nothing.
  They are marked for the catalog where they are written (``N_``). ``shown`` gives a
  stored value in the current language when it is one of them — the English original
  or its Japanese translation — and the value as typed otherwise; ``stored`` maps a value
  shown in either language back to the original before a save. An untouched field
  therefore stays the product's and keeps following the reader's language; a field the
  user edited is kept as typed, in whatever language it was typed.
- **Composed sentences** — a value estimate written from an initiative, a version's note
  ("merged with version 2"): stored as facts (``core.i18n.Msg`` as JSON). ``Text`` is
  such a sentence rendered in the current language: a ``str`` (it reads, compares and
  slices as the text it shows) that keeps its facts, so that saving it again stores the
  facts, not the words of one language.

Nothing here imports Streamlit.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

from core.i18n import LANGUAGES, SOURCE, Msg, catalog, from_json, gettext, pgettext, render


class Text(str):
    """A sentence kept as facts (``fact``: a ``Msg``), rendered in the language current
    when it was made. ``Text(M_("…", x=1))``."""

    fact: object

    def __new__(cls, fact: object) -> Text:
        text = super().__new__(cls, render(fact))
        text.fact = fact
        return text


def is_fact(value: object) -> bool:
    """A message kept as facts (a ``Msg``, or its JSON form)."""
    return isinstance(value, Msg) or (isinstance(value, Mapping) and "msg" in value)


# ---------------------------------------------------------------------------------
# Fixed texts
# ---------------------------------------------------------------------------------
# The fields fixed texts are written into; a text is recognised only in its own kind of field,
# so that what a user types elsewhere is never taken for one.
PROJECT, DEFINITION, INITIATIVE, PHASE, STEP = "project", "definition", "initiative", "phase", "step"
GROUPS = (PROJECT, DEFINITION, INITIATIVE, PHASE, STEP)


@functools.cache
def originals(group: str | None = None) -> frozenset[str]:
    """The fixed texts the product writes into one kind of field (``group``; every kind
    when None), in English."""
    if group is None:
        return frozenset().union(*(originals(g) for g in GROUPS))
    from datetime import date

    from core.planning import example  # lazily: example imports the modules that import this one
    from core.planning.definition import PROCESSES
    from core.planning.plan import default_ladder

    found: set[str] = set()
    if group == PROJECT:
        found = {example.NAME, example.DESCRIPTION}
    elif group == INITIATIVE:
        for item in example.initiatives():
            found |= {item.name, item.description}
    elif group == DEFINITION:
        definition = example.definition()
        found = set(PROCESSES)
        for name, value in definition.fields().items():
            if name in ("checklist", "offline_metric", "criteria"):  # keys and criteria are no texts
                continue
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, tuple):
                found |= {v for v in value if isinstance(v, str)}
    elif group == PHASE:
        for phase in example.phases(date(2026, 1, 5)):
            found |= {phase.owner, phase.notes}
    elif group == STEP:
        for step in (*default_ladder(), *example.ladder()):
            found |= {step.methods, step.stop_rule, step.result}
    else:
        raise ValueError(f"Unknown group of fixed texts {group!r}")
    return frozenset(found - {""})


@functools.cache
def _by_translation(code: str, group: str | None) -> Mapping[str, str]:
    """Language ``code``'s translation of each fixed text of ``group`` → its English original."""
    translated = catalog(code)
    out: dict[str, str] = {}
    for text in sorted(originals(group)):
        shown = translated.get((None, text))
        if isinstance(shown, str) and shown != text:
            out.setdefault(shown, text)
    return out


def original(value: object, group: str | None = None) -> str | None:
    """The English original of a fixed text of ``group``, given in any language; None for
    anything else (what a user typed)."""
    if not isinstance(value, str) or isinstance(value, Text):
        return None
    if value in originals(group):
        return value
    for code in LANGUAGES:
        if code != SOURCE and value in _by_translation(code, group):
            return _by_translation(code, group)[value]
    return None


def shown(value: object, group: str | None = None) -> object:
    """A stored value as the reader reads it: a fixed text of ``group`` in the current
    language, facts rendered (as a ``Text``), anything else as it is."""
    if isinstance(value, Text):
        return Text(value.fact)
    if is_fact(value):
        return Text(from_json(value))
    found = original(value, group)
    return gettext(found) if found is not None else value


def stored(value: object, group: str | None = None) -> object:
    """A value as it is to be stored: a fixed text of ``group`` (shown in any language) as
    its English original, a ``Text`` as its facts, anything else as it is."""
    if isinstance(value, Text):
        return value.fact
    found = original(value, group)
    return found if found is not None else value


def fact(value: object, group: str | None = None) -> object:
    """A value to put in a ``Msg`` as a parameter: a fixed text of ``group`` as a message
    (so it is rendered in the language of whoever reads the Msg), a ``Text`` as its facts,
    anything else (a name the user typed) as it is."""
    if isinstance(value, Text):
        return value.fact
    found = original(value, group)
    return Msg(found) if found is not None and "{" not in found else value


# ---------------------------------------------------------------------------------
# Lists in a sentence
# ---------------------------------------------------------------------------------
LIST_CONTEXT = "list separator"


def separator() -> str:
    """What separates the items of a list in a sentence: ``, `` / ``、``."""
    return pgettext("list separator", ", ")


def listed(items: Iterable[object]) -> str:
    """Items (names, messages) as a list in a sentence of the current language."""
    return separator().join(render(i) for i in items)


def joined(parts: Iterable[object], separator_fact: object = " ") -> Msg:
    """Several messages (or texts) as one message, rendered part by part when shown; the
    separator is a literal or a message (``list_separator()`` for a list)."""
    parts = list(parts)
    params = {f"p{i}": p for i, p in enumerate(parts)}
    params["s"] = separator_fact
    return Msg("{s}".join(f"{{p{i}}}" for i in range(len(parts))), params)


def list_separator() -> Msg:
    """The list separator as facts (a ``Msg`` rendered ``, `` / ``、``)."""
    return Msg(", ", context=LIST_CONTEXT)
