"""Problem definition: a structured form saved as numbered versions, with the
GO/NO-GO criteria fixed before any result is known.

What is typed is kept as a draft in the warehouse as soon as a field is left, so a
reload or a second tab never loses it; "Save version" turns it into the next version.
The editor's state and actions live in ui/planning_editor.py, the sections in
ui/planning_form.py.
"""

from __future__ import annotations

import streamlit as st

from core.i18n import gettext as _
from ui import planning_form as section
from ui.navigation import stay_in_app
from ui.planning_editor import ProblemEditor
from ui.reports import report_block
from ui.state import get_warehouse, project_picker

stay_in_app()

st.title(_("Problem definition"))
st.caption(_("Start from a problem that can be evaluated, know its value in money, and decide what not to do. Fix the "
             "GO/NO-GO criteria now, before any result is known — the GO/NO-GO report checks them. Every save is a "
             "new version; nothing is overwritten."))

warehouse = get_warehouse()
project = project_picker(warehouse)
if project is None:
    st.stop()
editor = ProblemEditor(warehouse, project)

# Notices: the outcome of the last action, a conflict or a newer version, other drafts.
section.flash(editor)
section.conflict_or_newer_version(editor)
section.other_drafts(editor)
status = st.container()  # filled once the form is read

# The form.
form = {
    **section.problem_section(editor),
    **section.kpi_section(editor),
    **section.scope_section(editor),
    **section.needs_ml_section(editor),
}
evaluation, threshold_slot = section.evaluation_section(editor)
form |= evaluation
form |= section.criteria_section(editor)
with threshold_slot:
    section.offline_threshold(form)

section.save_bar(editor, form)
editor.keep_draft(form)
with status:
    section.status_block(editor, form)

section.version_history(editor)

report_block("problem", project.project_id, key="problem", title=_("The one-page report for the kick-off"),
             caption=_("The latest saved version on one A4 page, in the manner of an ML canvas: the problem, the "
                       "decision it supports, the KPI, the value, the constraints, what we will not do, the data, the "
                       "evaluation plan and the GO/NO-GO criteria. A draft not yet saved is not in it."))
