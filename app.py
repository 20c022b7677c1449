"""Mitoshi entry point: page config, the shared warehouse, and the navigation."""

from __future__ import annotations

import streamlit as st

from core.errors import MitoshiError
from ui import navigation as nav
from ui.state import get_warehouse, show_error

st.set_page_config(page_title="Mitoshi 見通し", page_icon=":material/visibility:", layout="wide")

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
        "Mitoshi": [st.Page("pages/home.py", title="Overview", icon=":material/home:", default=True)],
        "1 · Data and current state": [
            st.Page("pages/data.py", title="Data", icon=":material/monitoring:"),
            st.Page("pages/import.py", title="Import & manage", icon=":material/upload_file:"),
        ],
        "2–3 · Problem, initiatives and plan": [
            st.Page("pages/projects.py", title="Projects", icon=":material/folder_open:"),
            st.Page("pages/problem.py", title="Problem definition", icon=":material/assignment:"),
            st.Page("pages/effort-impact.py", title="Effort / impact", icon=":material/scatter_plot:"),
            st.Page("pages/poc-plan.py", title="PoC plan", icon=":material/timeline:"),
        ],
        "4 · Backtests": [
            st.Page("pages/backtest.py", title="Backtest", icon=":material/science:"),
            st.Page("pages/experiments.py", title="Experiments", icon=":material/compare_arrows:"),
        ],
        "5 · Money impact": [
            st.Page("pages/money.py", title="Money impact", icon=":material/payments:"),
        ],
        # Online evaluation before the verdict, as in the talk (オンライン評価 → GO/NO GO判断). Its pilot orders
        # from a batch published on the Hand-off page, which therefore is used twice: for the pilot, and after GO.
        "6 · Online evaluation": [
            st.Page("pages/pilot.py", title="Pilot", icon=":material/storefront:"),
            st.Page("pages/monitoring.py", title="Forecast watch", icon=":material/radar:"),
        ],
        "7 · Decision and hand-off": [
            st.Page("pages/report.py", title="GO / NO-GO report", icon=":material/gavel:"),
            st.Page("pages/handoff.py", title="Hand-off to production", icon=":material/publish:"),
        ],
    }
)
nav.run(navigation)  # marks the run as the app's: see ui/navigation.py
