"""The language switch (日本語 / English): which language a script run speaks.

The choice, in order: the address (``?lang=ja``), the choice made earlier in this
session, the one remembered from an earlier visit (a cookie the switch writes), the
browser's language (``st.context.locale``), English. ``app.py`` calls ``choose()``
before anything is drawn; every page then speaks through ``core.i18n``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import streamlit as st

from core.i18n import LANGUAGES, SOURCE, _, normalise, set_language, using

P = ParamSpec("P")
R = TypeVar("R")

KEY = "lang"  # the session's choice, and the query parameter
_WIDGET = "lang_switch"
COOKIE = "mitoshi_lang"
COOKIE_DAYS = 365


def _cookie() -> str | None:
    try:
        return normalise(st.context.cookies.get(COOKIE))
    except Exception:  # noqa: BLE001 - no browser behind the run (AppTest): nothing remembered
        return None


def _browser() -> str | None:
    try:
        return normalise(st.context.locale)
    except Exception:  # noqa: BLE001
        return None


def choose() -> str:
    """The run's language, made current for ``core.i18n`` and kept in the session and the
    address."""
    chosen = (normalise(st.query_params.get(KEY)) or normalise(st.session_state.get(KEY)) or _cookie()
              or _browser() or SOURCE)
    st.session_state[KEY] = chosen
    if st.query_params.get(KEY) != chosen:
        st.query_params[KEY] = chosen
    set_language(chosen)
    return chosen


def session_language() -> str:
    """The language this session chose on its last run (English before any)."""
    return normalise(st.session_state.get(KEY)) or SOURCE


def speaking(callback: Callable[P, R]) -> Callable[P, R]:
    """A widget callback (``on_click``, ``on_change``) that words text in the session's
    language. Streamlit runs callbacks before ``app.py`` (so before ``choose()``), in a thread
    of its own where ``core.i18n`` still speaks English: a callback that keeps a sentence (a
    flash message, ``str(error)``) would keep it in English. Keeping the message as facts
    (the error or a ``Msg``) and wording it when shown is better still."""
    @functools.wraps(callback)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        with using(session_language()):
            return callback(*args, **kwargs)
    return call


def _switched() -> None:
    picked = normalise(st.session_state.get(_WIDGET))
    if picked:
        st.session_state[KEY] = picked
        st.query_params[KEY] = picked


def switch() -> None:
    """The sidebar's 日本語 / English control; a change reruns the page in the other
    language and is remembered for the next visit."""
    current = st.session_state.get(KEY, SOURCE)
    st.session_state[_WIDGET] = current
    st.sidebar.segmented_control(_("Language / 言語"), list(LANGUAGES), format_func=LANGUAGES.get, key=_WIDGET,
                                 required=True, on_change=_switched, label_visibility="collapsed")
    if _cookie() != current:  # remember the choice for the next visit to this server
        st.sidebar.html(f"<script>document.cookie = {json.dumps(f'{COOKIE}={current}')} + "
                f"'; path=/; max-age={COOKIE_DAYS * 86400}; SameSite=Lax';</script>",
                unsafe_allow_javascript=True, width=1)
