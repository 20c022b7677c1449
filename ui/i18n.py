"""The language switch (日本語 / English): which language a script run speaks.

The choice, in order: the address (``?lang=ja``), the choice made earlier in this
session, the one remembered from an earlier visit (a cookie the switch writes), the
browser's language (``st.context.locale``), English. ``app.py`` calls ``choose()``
before anything is drawn; every page then speaks through ``core.i18n``.
"""

from __future__ import annotations

import json

import streamlit as st

from core.i18n import LANGUAGES, SOURCE, _, normalise, set_fallback, set_language

KEY = "lang"  # the session's choice, and the query parameter
_WIDGET = "lang_switch"
COOKIE = "mitoshi_lang"
COOKIE_DAYS = 365
_REMEMBER = "lang_remember"  # the session chose its language (the switch, or ?lang= on arrival)


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
    asked = normalise(st.query_params.get(KEY))
    if asked and KEY not in st.session_state:  # a link or an address typed with ?lang=: a choice to remember
        st.session_state[_REMEMBER] = True
    chosen = asked or normalise(st.session_state.get(KEY)) or _cookie() or _browser() or SOURCE
    st.session_state[KEY] = chosen
    if st.query_params.get(KEY) != chosen:
        st.query_params[KEY] = chosen
    set_language(chosen)
    return chosen


def _session_fallback() -> str | None:
    """The session's language for a thread that set none — a widget callback, which Streamlit
    runs before ``app.py`` (so before ``choose()``) in a fresh thread. None outside a session."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    try:
        return normalise(st.session_state.get(KEY))
    except Exception:  # noqa: BLE001 - no session state behind this thread
        return None


set_fallback(_session_fallback)


def session_language() -> str:
    """The language this session chose on its last run (English before any)."""
    return normalise(st.session_state.get(KEY)) or SOURCE


def _switched() -> None:
    picked = normalise(st.session_state.get(_WIDGET))
    if picked:
        st.session_state[KEY] = picked
        st.query_params[KEY] = picked
        st.session_state[_REMEMBER] = True
        _keep_choices()


def _keep_choices() -> None:
    """Every keyed widget keeps its value across the switch. The browser holds a select box's or a
    multiselect's choice as the option's label, and the labels change with the language: without
    this, the next run would find no option of that label and drop the choice (the Backtest page
    lost every model whose name is translated) or show the old language's label. Setting each value
    again in the callback makes Streamlit send it with the new labels. Buttons (a bool), file
    uploaders (files), data editors and chart selections (mappings) cannot be set and are left as
    they are: Streamlit would refuse the value when the widget is drawn; a box's choice is never
    one of those."""
    from collections.abc import Mapping

    from streamlit.runtime.uploaded_file_manager import UploadedFile

    for key in list(st.session_state.keys()):
        if key in (KEY, _WIDGET, _REMEMBER):
            continue
        value = st.session_state[key]
        items = value if isinstance(value, (list, tuple)) else [value]
        if value is None or any(isinstance(v, (bool, Mapping, UploadedFile)) for v in items):
            continue
        st.session_state[key] = value


def switch() -> None:
    """The sidebar's 日本語 / English control; a change reruns the page in the other
    language and is remembered for the next visit."""
    current = st.session_state.get(KEY, SOURCE)
    st.session_state[_WIDGET] = current
    st.sidebar.segmented_control(_("Language / 言語"), list(LANGUAGES), format_func=LANGUAGES.get, key=_WIDGET,
                                 required=True, on_change=_switched, label_visibility="collapsed")
    # Remember a choice for the next visit to this server; a language only guessed from the browser
    # is not a choice, and writing it would stop the browser's language from ever deciding again.
    if st.session_state.get(_REMEMBER) and _cookie() != current:
        st.sidebar.html(f"<script>document.cookie = {json.dumps(f'{COOKIE}={current}')} + "
                f"'; path=/; max-age={COOKIE_DAYS * 86400}; SameSite=Lax';</script>",
                unsafe_allow_javascript=True, width=1)
