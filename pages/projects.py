"""Projects: one per ML initiative taken from idea to GO/NO-GO, each with its own
definition, initiatives, plan and links to datasets and runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import fmt
from core.backtest import store as runs
from core.errors import MitoshiError
from core.i18n import N_
from core.i18n import gettext as _
from core.i18n import language
from core.planning import store as planning
from core.planning import texts
from core.planning.definition import readiness
from core.planning.errors import ConflictError, conflict_rows
from core.text import md
from ui.navigation import stay_in_app
from ui.state import PROJECT_KEY, get_warehouse, project_picker, set_current_project, show_error, table

stay_in_app()

st.title(_("Projects"))
st.caption(_("A project is one ML initiative taken from idea to GO/NO-GO: its problem definition, its candidate "
             "initiatives, its PoC plan, and the datasets and backtest runs it relies on. The project you open is "
             "remembered on every page and on your next visit."))

warehouse = get_warehouse()
flash = st.session_state.pop("projects_flash", None)
if flash:
    st.success(md(flash), icon=":material/check_circle:")

project = project_picker(warehouse)
summaries = planning.project_summaries(warehouse)


def version_text(version: int) -> str:
    return _("version {version}").format(version=version) if version else _("not written")


def of(done: int, total: int) -> str:
    return _("{done} of {total}").format(done=done, total=total)


if project is not None:
    summary = next(s for s in summaries if s.project.project_id == project.project_id)
    latest = planning.latest_definition(warehouse, project.project_id)
    ready = readiness(latest.definition) if latest else []
    with st.container(border=True):
        st.subheader(md(project.name), anchor=False)
        if project.description:
            st.markdown(md(project.description))
        cols = st.columns(4)
        cols[0].metric(_("Problem definition"), version_text(summary.version),
                       help=_("Saved versions of the problem definition; every save keeps the one before."))
        cols[1].metric(_("Definition ready"), of(sum(i.done for i in ready), len(ready)) if ready else "–",
                       help=_("Parts of the definition filled in: problem, KPI, value, criteria, …"))
        cols[2].metric(_("Initiatives"), fmt.count(summary.initiatives))
        cols[3].metric(_("Plan phases done"), of(summary.phases_done, summary.phases))
        links = st.columns(3)
        links[0].page_link("pages/problem.py", label=_("Problem definition"), icon=":material/assignment:")
        links[1].page_link("pages/effort-impact.py", label=_("Effort / impact map"), icon=":material/scatter_plot:")
        links[2].page_link("pages/poc-plan.py", label=_("PoC plan"), icon=":material/timeline:")

    # The form edits the project as it was when first shown; a save names that revision.
    # Its widgets are keyed by the language too: a switch shows the name anew in it.
    opened_key = f"project_opened_{project.project_id}"
    name_key = f"project_name_{project.project_id}_{language()}"
    if opened_key not in st.session_state or name_key not in st.session_state:
        st.session_state[opened_key] = project
    opened: planning.Project = st.session_state[opened_key]
    datasets = {d.dataset_id: d.name for d in warehouse.list_datasets()}
    all_runs = {r.run_id: f"{r.name} ({fmt.date(r.created_at)} {r.created_at:%H:%M})"
                for r in runs.list_runs(warehouse)}
    with st.expander(_("Edit name, description and links"), icon=":material/edit:"):
        with st.form(f"edit_project_{project.project_id}"):
            name = st.text_input(_("Name"), value=opened.name, key=name_key, max_chars=planning.MAX_NAME)
            description = st.text_area(_("Description"), value=opened.description, height=90,
                                       key=f"project_description_{project.project_id}_{language()}")
            linked_datasets = st.multiselect(
                _("Datasets this project uses"), list(datasets),
                default=[d for d in opened.dataset_ids if d in datasets], format_func=datasets.get,
                key=f"project_datasets_{project.project_id}", placeholder=_("Choose options"))
            linked_runs = st.multiselect(
                _("Backtest runs that belong to it"), list(all_runs),
                default=[r for r in opened.run_ids if r in all_runs], format_func=all_runs.get,
                key=f"project_runs_{project.project_id}",
                help=_("The GO/NO-GO report reads the results of these runs."), placeholder=_("Choose options"))
            if st.form_submit_button(_("Save project"), icon=":material/save:"):
                try:
                    saved = planning.update_project(warehouse, opened, name, description, linked_datasets, linked_runs)
                    st.session_state.pop(opened_key, None)
                    st.session_state["projects_flash"] = (
                        _("Saved; changes someone made meanwhile to other fields were kept.") if saved.merged
                        else _("Saved."))
                    st.rerun()
                except ConflictError as error:
                    show_error(error)
                    table(pd.DataFrame(conflict_rows(error)))
                except MitoshiError as error:
                    show_error(error)
        if project.dataset_ids or project.run_ids:
            st.caption(_("Linked: {items}").format(items=texts.separator().join(
                [md(datasets[d]) for d in project.dataset_ids if d in datasets]
                + [md(all_runs[r]) for r in project.run_ids if r in all_runs])))

# The overview's columns: English names, shown in the reader's language.
HEADS = {"project": N_("project"), "description": N_("description"), "definition": N_("definition"),
         "last saved": N_("last saved"), "initiatives": N_("initiatives"), "phases done": N_("phases done"),
         "datasets": N_("datasets"), "runs": N_("runs")}
heads = {k: _(v) for k, v in HEADS.items()}
st.subheader(_("All projects"))
overview = pd.DataFrame([{
    heads["project"]: s.project.name, heads["description"]: s.project.description,
    heads["definition"]: version_text(s.version), heads["last saved"]: s.saved_at or s.project.updated_at,
    heads["initiatives"]: s.initiatives, heads["phases done"]: of(s.phases_done, s.phases),
    heads["datasets"]: len(s.project.dataset_ids), heads["runs"]: len(s.project.run_ids),
} for s in summaries])
if overview.empty:
    st.info(_("No project yet: create one below."))
else:
    table(overview, column_config={
        heads["last saved"]: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        heads["project"]: st.column_config.TextColumn(width=300),
        heads["description"]: st.column_config.TextColumn(width=180),
    })

new, remove = st.columns(2)
STARTS = {"empty": N_("An empty project (the talk's phases and ladder only)"),
          "example": N_("A copy of the AI Shop example")}
with new.form("new_project", clear_on_submit=True):
    st.markdown(_("**New project**"))
    new_name = st.text_input(_("Project name"), placeholder=_("e.g. 配送遅延予測 Delivery-delay prediction"))
    new_description = st.text_area(_("What it is about (optional)"), height=80)
    # Labels worded now: a format_func is also called outside the script run.
    start = st.radio(_("Start from"), list(STARTS), horizontal=True,
                     format_func={k: _(v) for k, v in STARTS.items()}.get)
    if st.form_submit_button(_("Create project"), icon=":material/add:", type="primary"):
        try:
            created = planning.create_project(warehouse, new_name, new_description, from_example=start == "example")
            set_current_project(warehouse, created.project_id)
            st.session_state["projects_flash"] = _("Created '{name}'; it is now the current project.").format(
                name=created.name)
            st.rerun()
        except MitoshiError as error:
            show_error(error)

if project is not None:
    with remove.form("delete_project"):
        st.markdown(_("**Delete '{name}'** with all its definition versions, initiatives and plan. Datasets and runs "
                      "stay. This cannot be undone.").format(name=md(project.name)))
        sure = st.checkbox(_("Yes, delete this project"))
        if st.form_submit_button(_("Delete project"), icon=":material/delete:"):
            if not sure:
                st.warning(_("Tick 'Yes, delete this project' to confirm."))
            else:
                try:
                    planning.delete_project(warehouse, project.project_id)
                    st.session_state.pop(PROJECT_KEY, None)
                    st.query_params.pop("project", None)
                    st.session_state["projects_flash"] = _("Deleted '{name}'.").format(name=project.name)
                    st.rerun()
                except MitoshiError as error:
                    show_error(error)
