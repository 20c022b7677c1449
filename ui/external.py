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
from core.i18n import N_, _, gettext, language, pgettext
from core.text import csv_bytes, md
from core.warehouse import Dataset, Warehouse
from ui.state import get_warehouse, show_error, table

FILE_TYPES = ["csv", "tsv", "txt", "gz", "parquet", "pq", "xlsx", "xlsm", "xls"]
FORMAT = N_(
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
    """Checked once per file, settings and language (its problems and notes are words), not
    on every rerun of the page."""
    digest = hashlib.sha256(data).hexdigest()
    signature = (run_id, name, digest, file_name, effort, description, language())
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
    return _("{name} · {created} · run {run_id}").format(name=run.name, created=f"{run.created_at:%Y-%m-%d %H:%M}",
                                                          run_id=run.run_id)


def external_section(warehouse: Warehouse, dataset: Dataset, run_key: str, key: str = "ext") -> None:
    """Upload, name, effort, description; preview and every validation message; once
    added, the run (``st.session_state[run_key]``) is shown with the new model. Offered
    for any stored run of ``dataset``, the run on show first."""
    stored = [r for r in runs.list_runs(warehouse) if r.dataset_id == dataset.dataset_id]
    added = st.session_state.pop(f"{key}_added", None)
    removed = st.session_state.pop(f"{key}_removed", None)
    if removed:
        st.success(_("Removed **{model}** from the run: its forecasts and metrics are deleted.").format(
            model=md(removed)), icon=":material/check_circle:")
    if added:
        st.success(_("Added **{model}** to the run: the leaderboard above shows it (rung *built elsewhere*).").format(
            model=md(added)), icon=":material/check_circle:")
    # The form's widgets start empty again after an add: their keys carry a generation.
    generation = st.session_state.get(f"{key}_generation", 0)
    form = f"{key}_" if not generation else f"{key}{generation}_"
    with st.expander(_("Add forecasts made elsewhere"), icon=":material/upload_file:"):
        st.markdown(_("The ladder's last rung — *money, stubbornness and a neural network*: forecasts of a model built "
                      "elsewhere (a notebook, another team's model) join a stored run and are scored on its folds, "
                      "metrics and money like its built-in models, on the ladder as **built elsewhere** with the "
                      "effort you state."))
        st.warning(_("{look_ahead} Make each fold's forecasts from the data up to its cutoff only.").format(
            look_ahead=gettext(external.LOOK_AHEAD)), icon=":material/visibility_off:")
        if not stored:
            st.info(_("Run a backtest first: forecasts made elsewhere join a stored run, on its series, cutoffs and "
                      "dates."), icon=":material/info:")
            return
        shown = st.session_state.get(run_key)
        ids = [r.run_id for r in stored]
        run_id = st.selectbox(_("Run"), ids, index=ids.index(shown) if shown in ids else 0, key=f"{key}_run",
                              format_func=lambda r: _run_label(next(x for x in stored if x.run_id == r)))
        st.markdown(gettext(FORMAT))
        try:
            cutoffs = runs.run_cutoffs(warehouse, run_id)
            template = _template(run_id)
        except MitoshiError as error:
            show_error(error)
            return
        st.caption(_("The run's cutoffs: {cutoffs}.").format(cutoffs=", ".join(f"{c:%Y-%m-%d}" for c in cutoffs)))
        st.download_button(_("Download the template (the run's series × cutoff × date)"), template,
                           file_name=f"external_template_{run_id}.csv", mime="text/csv", icon=":material/download:",
                           key=f"{key}_template_{run_id}")
        _existing(warehouse, run_id, key)
        upload = st.file_uploader(_("Forecasts file"), type=FILE_TYPES, key=f"{form}upload")
        a, b = st.columns([2, 1])
        name = a.text_input(_("Name"), max_chars=external.MAX_NAME_CHARS, key=f"{form}name",
                            placeholder=_("e.g. N-BEATS (team B notebook)"))
        effort = b.number_input(_("Effort (person-weeks)"), min_value=0.0, value=None, step=0.5, key=f"{form}effort",
                                help=_("What building the model took, as its maker states it; it is the model's cost "
                                       "on the ladder (it used none of the run's compute seconds)."))
        description = st.text_area(_("Description"), key=f"{form}description",
                                   max_chars=external.MAX_DESCRIPTION_CHARS,
                                   placeholder=_("What the model is, what it reads, where its code lives"))
        if upload is None:
            return
        if not name.strip():
            st.info(_("Name the forecasts to check them against the run."), icon=":material/edit:")
            return
        outcome = _prepared(warehouse, run_id, name, upload.getvalue(), upload.name, effort, description,
                            f"{key}_checked")
        if isinstance(outcome, ExternalForecastError):
            st.error(_("'{file}' cannot join the run as it is — nothing was stored:").format(file=md(upload.name)),
                     icon=":material/error:")
            for problem in outcome.problems:
                st.markdown(f"- {md(problem)}")
            return
        if isinstance(outcome, MitoshiError):
            show_error(outcome)
            return
        _preview(outcome)
        if st.button(_("Add to the run"), type="primary", icon=":material/add:", key=f"{key}_add"):
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
    stated = (_("; quantiles {levels}").format(levels=", ".join(f"{q:g}" for q in prepared.levels))
              if prepared.levels else "")
    st.success(_("Checked: {n:,} forecasts for {series:,} series and {cutoffs:,} cutoffs, every row the run "
                 "scored{stated}. {model} scores WAPE {wape}, MASE {mase}.").format(
                     n=len(forecasts), series=forecasts[SERIES_ID].nunique(), cutoffs=forecasts["cutoff"].nunique(),
                     stated=stated, model=md(prepared.name), wape=fmt.pct(overall.get("wape")),
                     mase=fmt.number(overall.get("mase"), 3)), icon=":material/task_alt:")
    for note in prepared.notes:
        st.caption(f":material/info: {md(note)}")
    rows = forecasts.head(8)[[SERIES_ID, DATE, "cutoff", "forecast", "actual"]].rename(columns={
        SERIES_ID: pgettext("series id", "Series"), DATE: _("Date"), "cutoff": _("Cutoff"), "forecast": _("Forecast"),
        "actual": _("Actual")})
    table(rows)


def _existing(warehouse: Warehouse, run_id: str, key: str) -> None:
    """The run's forecasts made elsewhere, each with a way to remove it."""
    models = external.external_models(warehouse, run_id)
    if not models:
        return
    st.markdown(_("**Made elsewhere, in this run**"))
    levels = {m: ", ".join(f"{q:g}" for q in qs) for m, qs in external.stated_levels(warehouse, run_id).items()}
    table(pd.DataFrame({
        _("Name"): [m.name for m in models],
        _("Effort (person-weeks)"): [m.effort_weeks for m in models],
        _("Quantiles"): [_("stated at {levels}, others cross-conformal").format(levels=levels[m.model])
                         if m.model in levels else _("cross-conformal (none stated)") for m in models],
        _("Forecasts"): [m.n_rows for m in models],
        _("File"): [m.source for m in models],
        _("Description"): [m.description for m in models],
        _("Added"): [m.created_at for m in models],
    }))
    c1, c2 = st.columns([2, 1])
    gone = c1.selectbox(_("Remove"), [m.model for m in models], format_func=fmt.model_name, key=f"{key}_remove_pick",
                        label_visibility="collapsed")
    # As the Experiments page's delete: a tick first, since the model's forecasts and metrics go for good.
    confirm = _("Yes, remove {model} from the run").format(model=fmt.model_name(gone))
    sure = c1.checkbox(confirm, key=f"{key}_remove_sure")
    if c2.button(_("Remove from the run"), icon=":material/delete:", key=f"{key}_remove"):
        if not sure:
            st.warning(_("Tick '{confirm}' to confirm: its forecasts and metrics are deleted.").format(
                confirm=md(confirm)), icon=":material/warning:")
            return
        try:
            external.remove_external(warehouse, run_id, gone)
        except MitoshiError as error:
            show_error(error)
            return
        st.session_state[f"{key}_removed"] = fmt.model_name(gone)
        st.session_state.pop(f"{key}_remove_sure", None)
        st.rerun()
