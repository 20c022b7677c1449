"""日本語 and English: the words people read, looked up in gettext catalogs.

Every string shown to a person is written in English in the source and marked for
extraction; the Japanese lives in the catalogs under ``core/i18n/locale/ja/LC_MESSAGES/``
(one ``.po`` file per domain, see ``core.i18n.catalogs``), read with Babel
(``babel.messages.pofile``), so nothing has to be compiled on a fresh machine.

How code speaks:

- ``_("Choose a dataset.")`` — the text in the current language, now.
- ``_("{n:,} series scored").format(n=12)`` — placeholders are ``str.format`` fields,
  named, and the same in both languages (a catalog check refuses a translation whose
  fields differ).
- ``ngettext("{n} store", "{n} stores", n).format(n=n)`` — English plurals; Japanese
  has one form.
- ``pgettext("verdict", "Go")`` — a short word whose translation depends on the place.
- ``N_("Stockout rate")`` — marks a constant (a label in a module-level dict) for the
  catalog without translating it; translate where it is shown: ``_(LABELS[key])``.
- ``M_("The pilot measured {amount} a year.", amount=Fmt("yen_short", 14e6))`` — a
  message *as facts*: a ``Msg`` keeps its English text and its parameters and renders in
  whichever language is current when it is shown. Decisions, stored notes and errors
  keep ``Msg`` so that the same record reads in Japanese or English later
  (``Msg.to_json`` / ``message_from_json``). A parameter is a literal (a name, a number:
  left as it is), a ``Fmt`` (a value formatted by ``core.fmt`` in the language of the
  moment), or another ``Msg``.

The current language is a context variable: the app sets it at the start of every
script run (``ui.i18n``), a command line or a test with ``using("ja")``. Threads
started by a pool do not inherit it: compute facts there, words in the caller.

Nothing here imports Streamlit.
"""

from __future__ import annotations

import contextlib
import functools
import string
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

LANGUAGES = {"ja": "日本語", "en": "English"}
SOURCE = "en"  # the language of the msgids in the source
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_language: ContextVar[str] = ContextVar("mitoshi_language")  # unset in a new thread: see language()
# Where a thread that never chose (a Streamlit widget callback, run before app.py in a fresh
# thread) finds its language: ui.i18n registers the session's choice. None: English.
_fallback: "Callable[[], str | None] | None" = None


def set_fallback(provider) -> None:
    """Register ``provider()`` (a language code or None) for threads that set none."""
    global _fallback
    _fallback = provider


def normalise(code: object) -> str | None:
    """``"ja-JP"``, ``"ja_JP"``, ``"JA"`` → ``"ja"``; ``"en-US"`` → ``"en"``; any other
    (or None) → None."""
    if not code:
        return None
    short = str(code).strip().replace("_", "-").split("-")[0].lower()
    return short if short in LANGUAGES else None


def language() -> str:
    """The current language code: ``"ja"`` or ``"en"``."""
    code = _language.get(None)
    if code is None:
        code = normalise(_fallback() if _fallback is not None else None) or SOURCE
    return code


def set_language(code: str) -> None:
    """Make ``code`` (``ja``/``en``, or a browser locale such as ``ja-JP``) the current
    language of this thread's context. Raises ``ValueError`` for a language Mitoshi
    does not speak."""
    short = normalise(code)
    if short is None:
        raise ValueError(f"Unknown language {code!r}: choose one of {', '.join(LANGUAGES)}.")
    _language.set(short)


@contextlib.contextmanager
def using(code: str) -> Iterator[None]:
    """``with using("ja"): ...`` — the language for a block, restored after it."""
    short = normalise(code)
    if short is None:
        raise ValueError(f"Unknown language {code!r}: choose one of {', '.join(LANGUAGES)}.")
    token = _language.set(short)
    try:
        yield
    finally:
        _language.reset(token)


# ---------------------------------------------------------------------------------
# Catalogs
# ---------------------------------------------------------------------------------
@functools.cache
def catalog(code: str) -> Mapping[tuple[str | None, str], str | tuple[str, ...]]:
    """Every translated message of language ``code`` across the domains: ``(context,
    msgid)`` → ``msgstr`` (a tuple of forms for a plural). Empty and fuzzy entries are left
    out, so their English shows instead of nothing. Read once per process."""
    from babel.messages.pofile import read_po  # Babel, not a hand-made parser

    found: dict[tuple[str | None, str], str | tuple[str, ...]] = {}
    folder = LOCALE_DIR / code / "LC_MESSAGES"
    for path in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        with path.open("rb") as handle:
            for message in read_po(handle, locale=code):
                if not message.id or message.fuzzy:
                    continue
                if isinstance(message.id, tuple):
                    forms = tuple(message.string or ())
                    if forms and all(forms):
                        found[(message.context, message.id[0])] = forms
                elif message.string:
                    found[(message.context, message.id)] = message.string
    return found


def gettext(message: str) -> str:
    """``message`` in the current language (the English itself when no translation)."""
    code = language()
    if code == SOURCE:
        return message
    found = catalog(code).get((None, message))
    return found if isinstance(found, str) else message


_ = gettext


def pgettext(context: str, message: str) -> str:
    """``message`` as translated in ``context`` (a short word that reads differently in
    different places)."""
    code = language()
    if code == SOURCE:
        return message
    found = catalog(code).get((context, message))
    return found if isinstance(found, str) else message


def ngettext(singular: str, plural: str, n: float) -> str:
    """The form for ``n``: English has two, Japanese one."""
    code = language()
    if code != SOURCE:
        found = catalog(code).get((None, singular))
        if isinstance(found, tuple) and found:
            return found[0]
        if isinstance(found, str):
            return found
    return singular if n == 1 else plural


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it (module constants)."""
    return message


def fields(message: str) -> set[str]:
    """The ``str.format`` field names of ``message`` (``"{n:,} of {total}"`` → {n, total})."""
    names = set()
    for _literal, name, _spec, _conversion in string.Formatter().parse(message):
        if name is not None:
            names.add(name.split(".")[0].split("[")[0])
    return names


# ---------------------------------------------------------------------------------
# Messages as facts
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fmt:
    """A value to be written by ``core.fmt`` when shown: ``Fmt("yen_short", 1.9e7)``
    reads ``¥19.2M`` in English and ``1,920万円`` in Japanese. ``kind`` names a function
    of ``core.fmt``; ``options`` are its keyword arguments."""

    kind: str
    value: object
    options: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        from core import fmt

        function = getattr(fmt, self.kind, None)
        if function is None or self.kind.startswith("_"):
            raise ValueError(f"core.fmt has no formatter {self.kind!r}")
        return function(self.value, **dict(self.options))

    def to_json(self) -> dict:
        value = self.value
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "item"):  # numpy scalars
            value = value.item()
        return {"fmt": self.kind, "value": value, "options": dict(self.options)}


@dataclass(frozen=True)
class Msg:
    """A sentence kept as facts: its English ``text`` (a catalog msgid with named
    ``str.format`` fields) and the ``params`` that fill them. ``str(msg)`` renders it in
    the current language; ``plural``/``count`` choose an English plural form by the
    parameter named ``count``; ``context`` is a ``pgettext`` context."""

    text: str
    params: Mapping[str, object] = field(default_factory=dict)
    plural: str | None = None
    count: str | None = None
    context: str | None = None

    def __str__(self) -> str:
        return render(self)

    def __hash__(self) -> int:  # its params are a dict: hash what it would store
        import json

        return hash(json.dumps(self.to_json(), sort_keys=True, default=str))

    def __add__(self, other: object) -> str:  # a Msg used like a str still reads
        return str(self) + str(other)

    def __radd__(self, other: object) -> str:
        return str(other) + str(self)

    def to_json(self) -> dict:
        out: dict = {"msg": self.text, "params": {k: to_json(v) for k, v in self.params.items()}}
        for name in ("plural", "count", "context"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


def M_(message: str, **params: object) -> Msg:
    """``Msg(message, params)``: a sentence stored as facts and rendered when shown."""
    return Msg(message, params)


def nM_(singular: str, plural: str, count: str, **params: object) -> Msg:
    """A plural ``Msg``: ``nM_("{n} store", "{n} stores", "n", n=3)`` — ``count`` names the
    parameter that chooses the English form."""
    return Msg(singular, params, plural=plural, count=count)


def render(value: object) -> str:
    """Any text Mitoshi keeps — a ``Msg``, a ``Fmt``, a stored message dict or a plain
    string (left as it is: a name, or a sentence stored before messages were facts) — in
    the current language."""
    if isinstance(value, Msg):
        if value.plural is not None:
            n = value.params.get(value.count or "n", 0)
            template = ngettext(value.text, value.plural, float(n) if isinstance(n, int | float) else 0)
        elif value.context is not None:
            template = pgettext(value.context, value.text)
        else:
            template = gettext(value.text)
        params = {k: _param(v) for k, v in value.params.items()}
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):  # a translation that lost a field: the English never does
            return value.text.format(**params)
    if isinstance(value, Fmt):
        return str(value)
    if isinstance(value, Mapping) and ("msg" in value or "fmt" in value):
        return render(from_json(value))
    return "" if value is None else str(value)


def said(value: object) -> str:
    """Text Mitoshi stored, in the current language: a ``Msg``/``Fmt`` (or its stored form)
    rendered now; a plain string — a sentence or constant stored before it was kept as facts —
    translated when a catalog knows it, else as it is (a name). None is empty."""
    if isinstance(value, str):
        return gettext(value) if value.strip() else value
    return render(value)


def _param(value: object) -> object:
    if isinstance(value, Msg | Fmt) or (isinstance(value, Mapping) and ("msg" in value or "fmt" in value)):
        return render(value)
    if isinstance(value, list | tuple) and any(isinstance(v, Msg | Fmt) for v in value):
        return type(value)(render(v) for v in value)
    return value


def to_json(value: object) -> object:
    """A message, a formatted value, or a structure of them as JSON-ready data (the
    inverse of ``from_json``); anything else is returned as it is."""
    if isinstance(value, Msg | Fmt):
        return value.to_json()
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def from_json(value: object) -> object:
    """Stored data back as ``Msg``/``Fmt`` where it holds them (a dict with ``msg`` or
    ``fmt``), through lists and dicts; strings and numbers unchanged."""
    if isinstance(value, Mapping):
        if "msg" in value and isinstance(value.get("msg"), str) and set(value) <= {
                "msg", "params", "plural", "count", "context"}:
            return Msg(value["msg"], {k: from_json(v) for k, v in (value.get("params") or {}).items()},
                       plural=value.get("plural"), count=value.get("count"), context=value.get("context"))
        if "fmt" in value and set(value) <= {"fmt", "value", "options"}:
            return Fmt(value["fmt"], value.get("value"), dict(value.get("options") or {}))
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


message_from_json = from_json
