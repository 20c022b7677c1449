"""Mitoshi entry point: page config, the shared warehouse, and the navigation."""

from __future__ import annotations

import streamlit as st

from core.errors import MitoshiError
from ui.state import get_warehouse, show_error

st.set_page_config(page_title="Mitoshi 見通し", page_icon=":material/visibility:", layout="wide")

try:
    get_warehouse()
except MitoshiError as error:
    show_error(error)
    st.stop()

navigation = st.navigation(
    {
        "Mitoshi": [st.Page("views/home.py", title="Overview", icon=":material/home:", default=True)],
        "1 · Data and current state": [
            st.Page("views/data.py", title="Data", icon=":material/monitoring:", url_path="data"),
            st.Page("views/import_data.py", title="Import & manage", icon=":material/upload_file:", url_path="import"),
        ],
        "2–3 · Problem, initiatives and plan": [
            st.Page("views/projects.py", title="Projects", icon=":material/folder_open:", url_path="projects"),
            st.Page("views/problem.py", title="Problem definition", icon=":material/assignment:", url_path="problem"),
            st.Page("views/effort_impact.py", title="Effort / impact", icon=":material/scatter_plot:",
                    url_path="effort-impact"),
            st.Page("views/poc_plan.py", title="PoC plan", icon=":material/timeline:", url_path="poc-plan"),
        ],
        "4 · Backtests": [
            st.Page("views/backtest.py", title="Backtest", icon=":material/science:", url_path="backtest"),
            st.Page("views/experiments.py", title="Experiments", icon=":material/compare_arrows:",
                    url_path="experiments"),
        ],
        "5 · Money impact": [
            st.Page("views/money.py", title="Money impact", icon=":material/payments:", url_path="money"),
        ],
        "6 · Decision and hand-off": [
            st.Page("views/report.py", title="GO / NO-GO report", icon=":material/gavel:", url_path="report"),
            st.Page("views/handoff.py", title="Hand-off to production", icon=":material/publish:", url_path="handoff"),
        ],
    }
)
navigation.run()
