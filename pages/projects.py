"""Projects: one per ML initiative taken from idea to GO/NO-GO, each with its own
definition, initiatives, plan and links to datasets and runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import fmt
from core.backtest import store as runs
from core.errors import MitoshiError
from core.planning import store as planning
from core.planning.definition import readiness
from core.planning.errors import ConflictError, conflict_rows
from core.text import md
from ui.navigation import stay_in_app
from ui.state import PROJECT_KEY, get_warehouse, project_picker, set_current_project, show_error, table

stay_in_app()

st.title("Projects")
st.caption("A project is one ML initiative taken from idea to GO/NO-GO: its problem definition, its candidate "
           "initiatives, its PoC plan, and the datasets and backtest runs it relies on. The project you open is "
           "remembered on every page and on your next visit.")

warehouse = get_warehouse()
flash = st.session_state.pop("projects_flash", None)
if flash:
    st.success(md(flash), icon=":material/check_circle:")

project = project_picker(warehouse)
summaries = planning.project_summaries(warehouse)

if project is not None:
    summary = next(s for s in summaries if s.project.project_id == project.project_id)
    latest = planning.latest_definition(warehouse, project.project_id)
    ready = readiness(latest.definition) if latest else []
    with st.container(border=True):
        st.subheader(md(project.name), anchor=False)
        if project.description:
            st.markdown(md(project.description))
        cols = st.columns(4)
        cols[0].metric("Problem definition", f"version {summary.version}" if summary.version else "not written",
                       help="Saved versions of the problem definition; every save keeps the one before.")
        cols[1].metric("Definition ready", f"{sum(i.done for i in ready)} of {len(ready)}" if ready else "–",
                       help="Parts of the definition filled in: problem, KPI, value, criteria, …")
        cols[2].metric("Initiatives", fmt.count(summary.initiatives))
        cols[3].metric("Plan phases done", f"{summary.phases_done} of {summary.phases}")
        links = st.columns(3)
        links[0].page_link("pages/problem.py", label="Problem definition", icon=":material/assignment:")
        links[1].page_link("pages/effort-impact.py", label="Effort / impact map", icon=":material/scatter_plot:")
        links[2].page_link("pages/poc-plan.py", label="PoC plan", icon=":material/timeline:")

    # The form edits the project as it was when first shown; a save names that revision.
    opened_key = f"project_opened_{project.project_id}"
    name_key = f"project_name_{project.project_id}"
    if opened_key not in st.session_state or name_key not in st.session_state:
        st.session_state[opened_key] = project
    opened: planning.Project = st.session_state[opened_key]
    datasets = {d.dataset_id: d.name for d in warehouse.list_datasets()}
    all_runs = {r.run_id: f"{r.name} ({r.created_at:%Y-%m-%d %H:%M})" for r in runs.list_runs(warehouse)}
    with st.expander("Edit name, description and links", icon=":material/edit:"):
        with st.form(f"edit_project_{project.project_id}"):
            name = st.text_input("Name", value=opened.name, key=name_key, max_chars=planning.MAX_NAME)
            description = st.text_area("Description", value=opened.description, height=90,
                                       key=f"project_description_{project.project_id}")
            linked_datasets = st.multiselect(
                "Datasets this project uses", list(datasets), default=[d for d in opened.dataset_ids if d in datasets],
                format_func=datasets.get, key=f"project_datasets_{project.project_id}")
            linked_runs = st.multiselect(
                "Backtest runs that belong to it", list(all_runs), default=[r for r in opened.run_ids if r in all_runs],
                format_func=all_runs.get, key=f"project_runs_{project.project_id}",
                help="The GO/NO-GO report reads the results of these runs.")
            if st.form_submit_button("Save project", icon=":material/save:"):
                try:
                    saved = planning.update_project(warehouse, opened, name, description, linked_datasets, linked_runs)
                    st.session_state.pop(opened_key, None)
                    st.session_state["projects_flash"] = (
                        "Saved; changes someone made meanwhile to other fields were kept." if saved.merged
                        else "Saved.")
                    st.rerun()
                except ConflictError as error:
                    show_error(error)
                    table(pd.DataFrame(conflict_rows(error)))
                except MitoshiError as error:
                    show_error(error)
        if project.dataset_ids or project.run_ids:
            st.caption("Linked: " + ", ".join([md(datasets[d]) for d in project.dataset_ids if d in datasets]
                                               + [md(all_runs[r]) for r in project.run_ids if r in all_runs]))

st.subheader("All projects")
overview = pd.DataFrame([{
    "project": s.project.name, "description": s.project.description,
    "definition": f"version {s.version}" if s.version else "not written", "last saved": s.saved_at or s.project.updated_at, "initiatives": s.initiatives,
    "phases done": f"{s.phases_done} of {s.phases}", "datasets": len(s.project.dataset_ids),
    "runs": len(s.project.run_ids),
} for s in summaries])
if overview.empty:
    st.info("No project yet: create one below.")
else:
    table(overview, column_config={
        "last saved": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "project": st.column_config.TextColumn(width=300),
        "description": st.column_config.TextColumn(width=180),
    })

new, remove = st.columns(2)
with new.form("new_project", clear_on_submit=True):
    st.markdown("**New project**")
    new_name = st.text_input("Project name", placeholder="e.g. 配送遅延予測 Delivery-delay prediction")
    new_description = st.text_area("What it is about (optional)", height=80)
    start = st.radio("Start from", ["empty", "example"], horizontal=True,
                     format_func={"empty": "An empty project (the talk's phases and ladder only)",
                                  "example": "A copy of the AI Shop example"}.get)
    if st.form_submit_button("Create project", icon=":material/add:", type="primary"):
        try:
            created = planning.create_project(warehouse, new_name, new_description, from_example=start == "example")
            set_current_project(warehouse, created.project_id)
            st.session_state["projects_flash"] = f"Created '{created.name}'; it is now the current project."
            st.rerun()
        except MitoshiError as error:
            show_error(error)

if project is not None:
    with remove.form("delete_project"):
        st.markdown(f"**Delete '{md(project.name)}'** with all its definition versions, initiatives and plan. "
                    "Datasets and runs stay. This cannot be undone.")
        sure = st.checkbox("Yes, delete this project")
        if st.form_submit_button("Delete project", icon=":material/delete:"):
            if not sure:
                st.warning("Tick 'Yes, delete this project' to confirm.")
            else:
                try:
                    planning.delete_project(warehouse, project.project_id)
                    st.session_state.pop(PROJECT_KEY, None)
                    st.query_params.pop("project", None)
                    st.session_state["projects_flash"] = f"Deleted '{project.name}'."
                    st.rerun()
                except MitoshiError as error:
                    show_error(error)
