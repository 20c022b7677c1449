"""Keep every run of a page inside ``app.py``'s navigation, even on a fresh server's first request.

Why this exists. Mitoshi's pages live in ``pages/`` (the layout Streamlit users and tools
expect) and are registered by ``st.navigation`` in ``app.py``. Streamlit also has an older
multipage mode for apps with a ``pages/`` folder: a process starts in that mode
(``PagesManager.uses_pages_directory`` is set True when the folder exists) and leaves it only
when ``st.navigation`` first runs. So when the very first request a fresh ``streamlit run``
receives is a direct link such as ``/money``, Streamlit runs ``pages/money.py`` on its own,
without ``app.py``: no page config, no warehouse check, no sections in the sidebar.

The fix: every page calls :func:`stay_in_app` before drawing anything. In such an orphan
run it switches Streamlit to navigation mode and runs ``app.py`` in its place, within the same
run, so the widget events the run carries are not lost (a rerun would drop a button's click:
Streamlit's ``AppTest`` starts every run in that mode). ``app.py``'s ``st.navigation`` then
finds the page the request asked for, by its name or its hash, and runs it; inside that run
the page's own call returns at once. In a normal run it does nothing. ``app.py`` needs no
call: when the old mode runs it, its own ``st.navigation`` leaves the mode.

The flag is Streamlit's (1.67), not a public API; ``tests/browser/test_deep_links.py`` starts a
fresh server per page with a direct link as its first request, so an upgrade that changes this
behaviour fails CI instead of reaching users. The same fix without touching the flag would be
a launcher script, but then ``streamlit run app.py`` (what everyone types) would still break.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

APP = Path(__file__).resolve().parent.parent / "app.py"


def stay_in_app() -> None:
    """Run ``app.py`` instead of this page if Streamlit started the page without it.

    Call it first in every file of ``pages/``. Returns normally when the run is already inside
    ``app.py``'s ``st.navigation``; otherwise it runs ``app.py`` (which runs this page) and
    then ends the orphan run with ``st.stop``, so it does not return.
    """
    if not getattr(PagesManager, "uses_pages_directory", False):
        return
    PagesManager.uses_pages_directory = False
    runpy.run_path(str(APP), run_name="__main__")
    st.stop()
