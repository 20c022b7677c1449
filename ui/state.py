"""Streamlit glue shared by the pages: the one warehouse, the current dataset, errors.

Kept out of core on purpose: this is the only module besides the pages that
imports Streamlit.
"""

from __future__ import annotations

import threading

import pandas as pd
import streamlit as st

from core import fmt
from core.data.demo import DemoConfig, load_demo
from core.errors import MitoshiError
from core.i18n import N_, _, render
from core.planning import store as planning
from core.text import csv_bytes, md
from core.warehouse import SCHEMA_VERSION, Dataset, Warehouse, migrate, warehouse_path

DATASET_KEY = "dataset_id"
PROJECT_KEY = "project_id"
_PICKER = "project_select"


# The spinner's words follow the reader's language, so the cache's own spinner (its text fixed
# when this module is imported) is off; get_warehouse shows one while a warehouse is opened.
@st.cache_resource(show_spinner=False)
def _open(path: str) -> Warehouse:
    warehouse = Warehouse(path)
    if not warehouse.list_datasets():
        load_demo(warehouse, DemoConfig())
    # The example project with its criteria, now: made on the first visit to a project's page instead, its
    # criteria read as written after any backtest run before that ("criteria moved after the run").
    planning.ensure_example_project(warehouse)
    return warehouse


_opened: set[str] = set()  # paths _open has returned a warehouse for in this process


_migrating = threading.Lock()


def _up_to_date(warehouse: Warehouse) -> Warehouse:
    """The warehouse with this code's schema: when the app's code is updated under a running
    server, Streamlit reloads the modules but keeps the warehouse opened (and migrated) by the
    code before, whose pages would then query tables it does not have yet."""
    if warehouse.schema_version < SCHEMA_VERSION:
        with _migrating, warehouse.cursor() as cur:
            warehouse.schema_version = migrate(cur)
    return warehouse


def get_warehouse() -> Warehouse:
    """The process-wide warehouse; every session shares it through cursors. The first call for
    a path (which may generate the demo chain) shows a spinner; later ones draw nothing."""
    path = str(warehouse_path())
    if path in _opened:
        return _up_to_date(_open(path))
    with st.spinner(_("Opening the warehouse (on the first run this generates the AI Shop demo chain)…")):
        warehouse = _open(path)
    _opened.add(path)
    return _up_to_date(warehouse)


def current_dataset(warehouse: Warehouse) -> Dataset | None:
    """The dataset chosen last, remembered in the session and in the address bar."""
    datasets = warehouse.list_datasets()
    if not datasets:
        return None
    by_id = {d.dataset_id: d for d in datasets}
    chosen = st.session_state.get(DATASET_KEY) or st.query_params.get("dataset")
    # With no choice yet, the newest: a user who just imported a file means that one.
    return by_id.get(chosen, datasets[-1])


def set_current_dataset(dataset_id: str) -> None:
    st.session_state[DATASET_KEY] = dataset_id
    st.query_params["dataset"] = dataset_id


def dataset_picker(warehouse: Warehouse, label: str | None = None) -> Dataset | None:
    """A select box over the registered datasets that keeps the choice across pages; ``label``
    defaults to "Dataset" in the reader's language."""
    datasets = warehouse.list_datasets()
    if not datasets:
        st.info(_("The warehouse holds no dataset yet. Import one on the **Import** page."))
        return None
    current = current_dataset(warehouse)
    ids = [d.dataset_id for d in datasets]
    names = {d.dataset_id: _("{name} · {n:,} series · {freq}").format(name=d.name, n=d.n_series, freq=d.freq.text)
             for d in datasets}
    chosen = st.selectbox(_("Dataset") if label is None else label, ids, index=ids.index(current.dataset_id), format_func=names.get, key="dataset_select")
    if chosen != st.session_state.get(DATASET_KEY):
        set_current_dataset(chosen)
    return next(d for d in datasets if d.dataset_id == chosen)


def current_project(warehouse: Warehouse) -> planning.Project | None:
    """The project chosen last: in this session, in the address bar (?project=), or the
    one opened last in the warehouse. A new warehouse has the AI Shop example (``_open``)."""
    projects = planning.list_projects(warehouse)
    if not projects:
        return None
    by_id = {p.project_id: p for p in projects}
    candidates = (st.session_state.get(PROJECT_KEY), st.query_params.get("project"),
                  planning.last_project_id(warehouse))
    chosen = next((by_id[c] for c in candidates if c in by_id), projects[-1])
    st.session_state[PROJECT_KEY] = chosen.project_id
    if st.query_params.get("project") != chosen.project_id:
        st.query_params["project"] = chosen.project_id  # a reload or a shared link opens the same project
    return chosen


def set_current_project(warehouse: Warehouse, project_id: str) -> None:
    st.session_state[PROJECT_KEY] = project_id
    st.query_params["project"] = project_id
    planning.remember_project(warehouse, project_id)


def project_picker(warehouse: Warehouse) -> planning.Project | None:
    """A select box over the projects that keeps the choice across pages and visits."""
    current = current_project(warehouse)
    if current is None:
        st.info(_("There is no project yet. Create one on the **Projects** page."), icon=":material/info:")
        st.page_link("pages/projects.py", label=_("Go to Projects"), icon=":material/folder_open:")
        return None
    projects = {p.project_id: p for p in planning.list_projects(warehouse)}
    ids = list(projects)
    # Keyed by the current project: a project chosen elsewhere (created, deleted, another
    # page) gets a fresh box showing it, never a stale value the browser still holds.
    key = f"{_PICKER}_{current.project_id}"
    st.selectbox(_("Project"), ids, index=ids.index(current.project_id), format_func=lambda i: projects[i].name,
                 key=key, on_change=lambda: set_current_project(warehouse, st.session_state[key]))
    return current


_KEPT = {
    "table": N_("**Your edit, kept** — the table now shows their values; type yours again if you still want it:"),
    "form": N_("**Your edit, kept** — the form now shows their values; type yours again if you still want it:"),
}


def saved_conflict(conflict_key: str, shown_in: str, key: str) -> None:
    """A save refused because someone else saved the same field first: their values are
    shown in ``shown_in`` ("table", "form"), the user's edit is listed to type again."""
    conflict = st.session_state.get(conflict_key)
    if not conflict:
        return
    st.error(md(render(conflict["message"])), icon=":material/sync_problem:")
    if conflict["rows"]:
        st.markdown(_(_KEPT[shown_in]))
        table(pd.DataFrame(conflict["rows"]))
    st.button(_("Dismiss"), on_click=lambda: st.session_state.pop(conflict_key, None), icon=":material/close:", key=key)


def show_error(error: MitoshiError) -> None:
    """Core's messages are plain text that may quote a name or a value from a file; ``str(error)``
    words them in the reader's language (``core.errors``)."""
    st.error(md(str(error)), icon=":material/error:")


def csv_download(frame: pd.DataFrame, label: str, file_name: str, key: str) -> None:
    """A CSV of ``frame`` to open in Excel: text cells that would run as formulas are
    neutralised (``core.text.csv_bytes``). The tables' own export is switched off in
    .streamlit/config.toml (client.disableDataExport) because it writes them as they are."""
    st.download_button(label, csv_bytes(frame), file_name=file_name, mime="text/csv", icon=":material/download:",
                       key=key)


def table(frame: pd.DataFrame, **kwargs) -> None:
    """st.dataframe with dates shown as dates, numbers with thousands separators and a
    missing value as "–", as the headlines say it (Streamlit's own placeholder is "None")."""
    config = {}
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            config[column] = st.column_config.DateColumn(format="YYYY-MM-DD")
        elif pd.api.types.is_float_dtype(frame[column]) or pd.api.types.is_integer_dtype(frame[column]):
            config[column] = st.column_config.NumberColumn(format="localized")
    config.update(kwargs.pop("column_config", {}))
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config, **{"placeholder": "–"} | kwargs)


def change_metric(where, label: str, value: str, change: float | None, text: str, better: str = "up",
                  help: str | None = None) -> None:
    """``st.metric`` with a change written by ``core.fmt`` (``+¥1,234``, ``−2.1 pp``,
    "no change"): Streamlit reads the direction from a leading ASCII "-", which the
    typographic minus is not, so the arrow and colour are set from the number itself.
    ``better`` is the direction that is good news ("up", "down")."""
    if change is None or text in (fmt.no_change(), fmt.MISSING):
        where.metric(label, value, delta=text if change is not None else None, delta_color="off",
                     delta_arrow="off", help=help)
        return
    up = change > 0
    good = up == (better == "up")
    where.metric(label, value, delta=text, delta_color="green" if good else "red", delta_arrow="up" if up else "down",
                 help=help)
