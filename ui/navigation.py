"""Keep every run of a page inside ``app.py``'s navigation, even on a fresh server's first request.

Why this exists. Mitoshi's pages live in ``pages/`` (the layout Streamlit users and tools
expect) and are registered by ``st.navigation`` in ``app.py``. Streamlit also has an older
multipage mode for apps with a ``pages/`` folder: a process starts in that mode
(``PagesManager.uses_pages_directory``, Streamlit 1.67) and leaves it only when
``st.navigation`` first runs. So the first requests a fresh ``streamlit run`` receives, if they
are direct links such as ``/money`` (a bookmark, tabs reconnecting after a restart), run
``pages/money.py`` on its own, without ``app.py``: no page config, no warehouse check, no
sections in the sidebar.

The fix decides per run, not per process: ``app.py`` runs the chosen page through :func:`run`,
which marks the run (a thread-local depth: Streamlit runs each session's script in its own
thread); every page calls :func:`stay_in_app` before drawing anything. A page run without
that mark is an orphan: it executes ``app.py`` in its place, within the same run (so the
widget events the run carries are kept), and ``app.py``'s ``st.navigation`` leaves the old
mode and finds the page the request asked for; then the orphan run ends with ``st.stop``.
The process-wide flag alone would not do: with several tabs opening at once, one session
leaves the old mode while another's page has already started on its own.

Streamlit's ``AppTest`` starts every run in the old mode, so the page tests go through the
orphan path too; ``tests/browser/test_deep_links.py`` starts fresh servers whose first
requests are direct links, and pins Streamlit's behaviour so an upgrade that changes it is
noticed. ``make run`` starts the server through ``ui/serve.py``, which leaves the old mode before
the first session, so there even the first paint is the app's; this guard is what keeps plain
``streamlit run app.py`` right.
"""

from __future__ import annotations

import threading
from pathlib import Path

import streamlit as st

APP = Path(__file__).resolve().parent.parent / "app.py"
_runs = threading.local()


def run(page: st.Page) -> None:
    """Run ``page`` (what ``st.navigation`` returned) as a page of ``app.py``: the pages it
    runs see :func:`stay_in_app` return at once. Call it from ``app.py`` only."""
    _runs.depth = getattr(_runs, "depth", 0) + 1
    try:
        page.run()
    finally:
        _runs.depth -= 1


def stay_in_app() -> None:
    """Run ``app.py`` instead of this page if Streamlit started the page without it.

    Call it first in every file of ``pages/``. Returns at once when the run is inside
    ``app.py``'s navigation; otherwise it runs ``app.py`` (which runs this page) and then ends
    the orphan run with ``st.stop``, so it does not return.
    """
    if getattr(_runs, "depth", 0) > 0:
        return
    # What Streamlit's own Page.run does with a page file; not runpy, which would swap the
    # process-wide sys.modules["__main__"] and sys.argv while other sessions run.
    code = compile(APP.read_bytes(), str(APP), "exec")
    exec(code, {"__name__": "__main__", "__file__": str(APP)})  # noqa: S102
    st.stop()
