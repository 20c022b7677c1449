"""The Backtest page's "Add forecasts made elsewhere": an ML engineer uploads a model's
backtest forecasts made in a notebook (the ladder's last rung), Mitoshi checks them
against a stored run and, once added, scores them like the run's built-in models.
The work is ``core.backtest.external``; this is its glue."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from core import fmt
from core.backtest import external
from core.backtest import store as runs
from core.backtest.external import ExternalForecastError, PreparedExternal
from core.columns import DATE, SERIES_ID
from core.errors import MitoshiError
from core.text import csv_bytes, md
from core.warehouse import Dataset, Warehouse
from ui.state import get_warehouse, show_error, table

FILE_TYPES = ["csv", "tsv", "txt", "gz", "parquet", "pq", "xlsx", "xlsm", "xls"]
FORMAT = (
    "One row per series, cutoff and date the run scored — the template below lists them — with the columns "
    "`series` (the run's series id; or the dataset's key columns), `date` (the date forecast), `cutoff` (the last "
    "date of history the forecast was made from) and `forecast` (units). Optional quantiles, one column per level: "
    "`q0.1`, `q0.9` (the level as a fraction) or `p10`, `p90` (as a percent), at the levels the backtest scores "
    "(2.5 %, 10 %, 50 %, 90 %, 97.5 %; columns at other levels are left out, and the page says so). Quantiles you "
    "state are scored as you state them; at the levels you do not state, your forecasts get cross-conformal ones "
    "from their own errors in the other folds, like every built-in model. Also read: `unique_id`, `ds`, `yhat`. "
    "CSV, Parquet or Excel."
)



@st.cache_data(show_spinner=False, max_entries=8)
def _template(run_id: str) -> bytes:
    """The run's template as CSV: a run's grid never changes (its built-in rows are fixed)."""
    return csv_bytes(external.template(get_warehouse(), run_id))


def _prepared(warehouse: Warehouse, run_id: str, name: str, data: bytes, file_name: str, effort: float | None,
              description: str, key: str) -> PreparedExternal | ExternalForecastError | MitoshiError:
    """Checked once per file and settings, not on every rerun of the page."""
    digest = hashlib.sha256(data).hexdigest()
    signature = (run_id, name, digest, file_name, effort, description)
    memo = st.session_state.get(key)
    if memo is None or memo[0] != signature:
        try:
            outcome = external.prepare_external(warehouse, run_id, name, data, file_name, effort, description)
        except MitoshiError as error:
            outcome = error
        memo = (signature, outcome)
        st.session_state[key] = memo
    return memo[1]


def _run_label(run: runs.RunInfo) -> str:
    return f"{run.name} · {run.created_at:%Y-%m-%d %H:%M} · run {run.run_id}"


def external_section(warehouse: Warehouse, dataset: Dataset, run_key: str, key: str = "ext") -> None:
    """Upload, name, effort, description; preview and every validation message; once
    added, the run (``st.session_state[run_key]``) is shown with the new model. Offered
    for any stored run of ``dataset``, the run on show first."""
    stored = [r for r in runs.list_runs(warehouse) if r.dataset_id == dataset.dataset_id]
    added = st.session_state.pop(f"{key}_added", None)
    removed = st.session_state.pop(f"{key}_removed", None)
    if removed:
        st.success(f"Removed **{md(removed)}** from the run: its forecasts and metrics are deleted.",
                   icon=":material/check_circle:")
    if added:
        st.success(f"Added **{md(added)}** to the run: the leaderboard above shows it (rung *built elsewhere*).",
                   icon=":material/check_circle:")
    # The form's widgets start empty again after an add: their keys carry a generation.
    generation = st.session_state.get(f"{key}_generation", 0)
    form = f"{key}_" if not generation else f"{key}{generation}_"
    with st.expander("Add forecasts made elsewhere", icon=":material/upload_file:"):
        st.markdown("The ladder's last rung — *money, stubbornness and a neural network*: forecasts of a model built "
                    "elsewhere (a notebook, another team's model) join a stored run and are scored on its folds, "
                    "metrics and money like its built-in models, on the ladder as **built elsewhere** with the effort "
                    "you state.")
        st.warning(external.LOOK_AHEAD + " Make each fold's forecasts from the data up to its cutoff only.",
                   icon=":material/visibility_off:")
        if not stored:
            st.info("Run a backtest first: forecasts made elsewhere join a stored run, on its series, cutoffs and "
                    "dates.", icon=":material/info:")
            return
        shown = st.session_state.get(run_key)
        ids = [r.run_id for r in stored]
        run_id = st.selectbox("Run", ids, index=ids.index(shown) if shown in ids else 0, key=f"{key}_run",
                              format_func=lambda r: _run_label(next(x for x in stored if x.run_id == r)))
        st.markdown(FORMAT)
        try:
            cutoffs = runs.run_cutoffs(warehouse, run_id)
            template = _template(run_id)
        except MitoshiError as error:
            show_error(error)
            return
        st.caption(f"The run's cutoffs: {', '.join(f'{c:%Y-%m-%d}' for c in cutoffs)}.")
        st.download_button("Download the template (the run's series × cutoff × date)", template,
                           file_name=f"external_template_{run_id}.csv", mime="text/csv", icon=":material/download:",
                           key=f"{key}_template_{run_id}")
        _existing(warehouse, run_id, key)
        upload = st.file_uploader("Forecasts file", type=FILE_TYPES, key=f"{form}upload")
        a, b = st.columns([2, 1])
        name = a.text_input("Name", max_chars=external.MAX_NAME_CHARS, key=f"{form}name",
                            placeholder="e.g. N-BEATS (team B notebook)")
        effort = b.number_input("Effort (person-weeks)", min_value=0.0, value=None, step=0.5, key=f"{form}effort",
                                help="What building the model took, as its maker states it; it is the model's cost "
                                     "on the ladder (it used none of the run's compute seconds).")
        description = st.text_area("Description", key=f"{form}description", max_chars=external.MAX_DESCRIPTION_CHARS,
                                   placeholder="What the model is, what it reads, where its code lives")
        if upload is None:
            return
        if not name.strip():
            st.info("Name the forecasts to check them against the run.", icon=":material/edit:")
            return
        outcome = _prepared(warehouse, run_id, name, upload.getvalue(), upload.name, effort, description,
                            f"{key}_checked")
        if isinstance(outcome, ExternalForecastError):
            st.error(f"'{md(upload.name)}' cannot join the run as it is — nothing was stored:", icon=":material/error:")
            for problem in outcome.problems:
                st.markdown(f"- {md(problem)}")
            return
        if isinstance(outcome, MitoshiError):
            show_error(outcome)
            return
        _preview(outcome)
        if st.button("Add to the run", type="primary", icon=":material/add:", key=f"{key}_add"):
            try:
                external.save_external(warehouse, outcome)
            except MitoshiError as error:
                show_error(error)
                return
            st.session_state.pop(f"{key}_checked", None)
            st.session_state[run_key] = run_id
            st.session_state[f"{key}_added"] = outcome.name
            st.session_state[f"{key}_generation"] = generation + 1
            st.rerun()


def _preview(prepared: PreparedExternal) -> None:
    overall = prepared.overall
    forecasts = prepared.forecasts
    stated = f"; quantiles {', '.join(f'{q:g}' for q in prepared.levels)}" if prepared.levels else ""
    st.success(f"Checked: {len(forecasts):,} forecasts for {forecasts[SERIES_ID].nunique():,} series and "
               f"{forecasts['cutoff'].nunique():,} cutoffs, every row the run scored{stated}. "
               f"{md(prepared.name)} scores WAPE {fmt.pct(overall.get('wape'))}, MASE "
               f"{fmt.number(overall.get('mase'), 3)}.", icon=":material/task_alt:")
    for note in prepared.notes:
        st.caption(f":material/info: {md(note)}")
    rows = forecasts.head(8)[[SERIES_ID, DATE, "cutoff", "forecast", "actual"]].rename(columns={
        SERIES_ID: "Series", DATE: "Date", "cutoff": "Cutoff", "forecast": "Forecast", "actual": "Actual"})
    table(rows)


def _existing(warehouse: Warehouse, run_id: str, key: str) -> None:
    """The run's forecasts made elsewhere, each with a way to remove it."""
    models = external.external_models(warehouse, run_id)
    if not models:
        return
    st.markdown("**Made elsewhere, in this run**")
    levels = {m: ", ".join(f"{q:g}" for q in qs) for m, qs in external.stated_levels(warehouse, run_id).items()}
    table(pd.DataFrame({
        "Name": [m.name for m in models],
        "Effort (person-weeks)": [m.effort_weeks for m in models],
        "Quantiles": [f"stated at {levels[m.model]}, others cross-conformal" if m.model in levels else
                      "cross-conformal (none stated)" for m in models],
        "Forecasts": [m.n_rows for m in models],
        "File": [m.source for m in models],
        "Description": [m.description for m in models],
        "Added": [m.created_at for m in models],
    }))
    c1, c2 = st.columns([2, 1])
    gone = c1.selectbox("Remove", [m.model for m in models], format_func=fmt.model_name, key=f"{key}_remove_pick",
                        label_visibility="collapsed")
    # As the Experiments page's delete: a tick first, since the model's forecasts and metrics go for good.
    confirm = f"Yes, remove {fmt.model_name(gone)} from the run"
    sure = c1.checkbox(confirm, key=f"{key}_remove_sure")
    if c2.button("Remove from the run", icon=":material/delete:", key=f"{key}_remove"):
        if not sure:
            st.warning(f"Tick '{md(confirm)}' to confirm: its forecasts and metrics are deleted.",
                       icon=":material/warning:")
            return
        try:
            external.remove_external(warehouse, run_id, gone)
        except MitoshiError as error:
            show_error(error)
            return
        st.session_state[f"{key}_removed"] = fmt.model_name(gone)
        st.session_state.pop(f"{key}_remove_sure", None)
        st.rerun()
