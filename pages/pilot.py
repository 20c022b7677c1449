"""Pilot (online evaluation): design the pilot, run it, read it out, take it to the decision."""

from __future__ import annotations

import streamlit as st

from core.i18n import gettext as _
from ui.navigation import stay_in_app
from ui.pilot import design_section, readout_section, run_section
from ui.reports import report_block
from ui.state import get_warehouse, project_picker

stay_in_app()

st.title(_("Pilot (online evaluation)"))
st.caption(_("オンライン評価 — the backtest's money is a promise made offline. Before the GO/NO-GO, a few stores order "
             "from the model's published forecasts for some weeks while matched stores keep today's practice; how the "
             "two groups changed against the weeks before (difference-in-differences) measures what the model really "
             "earns in the stores, with an interval."))

warehouse = get_warehouse()
project = project_picker(warehouse)
if project is None:
    st.stop()

st.header(_("1 · Design"), divider="gray", anchor=False)
design = design_section(warehouse, project)
if design is None:
    st.info(_("Design the pilot above and save it: the run and the readout follow from the saved design."),
            icon=":material/info:")
    st.stop()

st.header(_("2 · Run"), divider="gray", anchor=False)
status = run_section(warehouse, design)

st.header(_("3 · Readout"), divider="gray", anchor=False)
readout_section(warehouse, design, status)
st.page_link("pages/report.py", label=_("Next: take the GO/NO-GO decision with the online evidence"),
             icon=":material/gavel:")

report_block("pilot", project.project_id, key="pilot", title=_("The pilot readout report"),
             caption=_("The latest readout of the saved design on A4, for the people who will not open the app: the "
                       "design, treated against control, each estimate with its interval, and the backtest's promise "
                       "beside what the stores measured."))
