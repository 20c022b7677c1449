"""Mitoshi entry point: page config, the shared warehouse, and the navigation."""

from __future__ import annotations

import streamlit as st

from core.errors import MitoshiError
from core.i18n import _
from ui import i18n
from ui import navigation as nav
from ui.state import get_warehouse, show_error

i18n.choose()  # before any word is drawn: every page speaks the chosen language
st.set_page_config(page_title=_("Mitoshi 見通し"), page_icon=":material/visibility:", layout="wide")

try:
    get_warehouse()
except MitoshiError as error:
    show_error(error)
    st.stop()

# No url_path: each page's URL is its file name (pages/money.py is /money), the rule Streamlit also uses in
# its pages-folder mode (see ui/navigation.py). A direct link that names no file there would show "Page not
# found" before this file runs, and a page's widgets are keyed by a hash of its URL: the same URL in both
# modes keeps them. Hence file names with hyphens where the URL has them (pages/effort-impact.py).
navigation = st.navigation(
    {
        _("Mitoshi"): [st.Page("pages/home.py", title=_("Overview"), icon=":material/home:", default=True)],
        _("1 · Data and current state"): [
            st.Page("pages/data.py", title=_("Data"), icon=":material/monitoring:"),
            st.Page("pages/import.py", title=_("Import & manage"), icon=":material/upload_file:"),
        ],
        _("2–3 · Problem, initiatives and plan"): [
            st.Page("pages/projects.py", title=_("Projects"), icon=":material/folder_open:"),
            st.Page("pages/problem.py", title=_("Problem definition"), icon=":material/assignment:"),
            st.Page("pages/effort-impact.py", title=_("Effort / impact"), icon=":material/scatter_plot:"),
            st.Page("pages/poc-plan.py", title=_("PoC plan"), icon=":material/timeline:"),
        ],
        _("4 · Backtests"): [
            st.Page("pages/backtest.py", title=_("Backtest"), icon=":material/science:"),
            st.Page("pages/experiments.py", title=_("Experiments"), icon=":material/compare_arrows:"),
        ],
        _("5 · Money impact"): [
            st.Page("pages/money.py", title=_("Money impact"), icon=":material/payments:"),
        ],
        # Online evaluation before the verdict, as in the talk (オンライン評価 → GO/NO GO判断). Its pilot orders
        # from a batch published on the Hand-off page, which therefore is used twice: for the pilot, and after GO.
        _("6 · Online evaluation"): [
            st.Page("pages/pilot.py", title=_("Pilot"), icon=":material/storefront:"),
            st.Page("pages/monitoring.py", title=_("Forecast watch"), icon=":material/radar:"),
        ],
        _("7 · Decision and hand-off"): [
            st.Page("pages/report.py", title=_("GO / NO-GO report"), icon=":material/gavel:"),
            st.Page("pages/handoff.py", title=_("Hand-off to production"), icon=":material/publish:"),
        ],
    },
    expanded=True,  # every step in view: the language switch below it would otherwise fold the menu after ten pages
)
i18n.switch()
nav.run(navigation)  # marks the run as the app's: see ui/navigation.py
