"""Backtest: run the ladder rules -> statistics -> GBDT on the future only, and read it."""

from __future__ import annotations

import streamlit as st

from core import fmt
from core.backtest import accounting
from core.backtest.compare import window_name
from core.backtest.engine import BacktestConfig, ModelSpec, fold_cutoffs
from core.backtest.job import BACKTEST, backtest_params, job_title
from core.backtest.splits import SplitConfig
from core.backtest.store import get_run, list_runs, run_fallbacks
from core.columns import SERIES_ID, Freq
from core.errors import MitoshiError
from core.forecast.base import rung_name
from core.forecast.registry import DEFAULT_LADDER, MODELS
from core.jobs import Job
from core.i18n import N_, _, gettext, ngettext
from core.text import md
from ui import jobs, queries
from ui.backtest import ETS_AUTO_HELP, changed_params, ets_option, fallback_text, render_run
from ui.external import external_section
from ui.navigation import stay_in_app
from ui.state import dataset_picker, get_warehouse, show_error

stay_in_app()

RUN_KEY = "backtest_run_id"
DEFAULT_HORIZON = {Freq.DAILY: 28, Freq.WEEKLY: 8, Freq.MONTHLY: 6}
HORIZON_LABELS = {Freq.DAILY: N_("Horizon (daily periods)"), Freq.WEEKLY: N_("Horizon (weekly periods)"),
                  Freq.MONTHLY: N_("Horizon (monthly periods)")}
LGBM_OBJECTIVES = {"tweedie": "Tweedie", "poisson": N_("Poisson"), "l2": N_("squared error (L2)")}


def model_option(alias: str) -> str:
    """A model and its rung; just the model where the two read alike (現行の発注)."""
    name, rung = fmt.model_name(alias), rung_name(MODELS[alias].rung)
    return name if name == rung else f"{name} · {rung}"


def model_help(alias: str) -> str:
    """A model's line of the picker's help: its name, rung and what it does."""
    name, rung = fmt.model_name(alias), rung_name(MODELS[alias].rung)
    summary = gettext(MODELS[alias].summary)
    if name == rung:
        return _("**{model}**: {summary}").format(model=name, summary=summary)
    return _("**{model}** ({rung}): {summary}").format(model=name, rung=rung, summary=summary)


st.title(_("Backtest the ladder"))
st.caption(_("Rules and statistics before GBDT; every fold is judged on dates after its cutoff only — never a "
             "random split. Stop climbing when the next rung does not pay for itself."))

warehouse = get_warehouse()
dataset = dataset_picker(warehouse)
if dataset is None:
    st.stop()

# Plain widgets and one button, not st.form: a form submits when Enter is pressed in any of
# its text or number inputs, which started a run (minutes long with ARIMA) by accident.
with st.container(border=True):
    st.markdown(_("**Series in scope** (empty = all)"))
    segments = list(dataset.segment_columns)
    cols = st.columns(max(1, len(segments)))
    filters = {}
    for column, slot in zip(segments, cols, strict=False):
        chosen = slot.multiselect(md(dataset.label(column)), queries.segment_values(dataset.dataset_id, column),
                                  placeholder=_("all"), key=f"bt_filter_{column}")
        if chosen:
            filters[column] = tuple(chosen)
    st.markdown(_("**Time** — rolling origin: each fold trains on data up to its cutoff and forecasts the next "
                  "periods"))
    a, b, c, d, e = st.columns(5)
    horizon = a.number_input(gettext(HORIZON_LABELS[dataset.freq]), 1, 400, DEFAULT_HORIZON[dataset.freq],
                             key=f"bt_horizon_{dataset.freq.value}")  # its default follows the frequency
    folds = b.number_input(_("Folds"), 1, 12, 3, key="bt_folds")
    step = c.number_input(_("Step between cutoffs (0 = horizon)"), 0, 400, 0, key="bt_cutoff_step")
    gap = d.number_input(_("Gap after cutoff"), 0, 60, 0, key="bt_gap", help=_(
        "Periods between the cutoff and the first forecast, e.g. when orders are placed days ahead."))
    window = e.selectbox(_("Training window"), ["expanding", "sliding"], key="bt_window", format_func=window_name)
    train_periods = st.number_input(_("Sliding window length (periods)"), 10, 5000, 365, key="bt_train_periods",
                                    help=_("Only used with a sliding window.")) if window == "sliding" else None
    st.markdown(_("**Models** — the ladder"))
    available = [a for a in MODELS if a != "practice" or dataset.spec.orders]
    default = [a for a in ("practice", *DEFAULT_LADDER) if a in available]
    chosen_models = st.multiselect(_("Models"), available, default=default, key="bt_models", format_func=model_option,
                                   help="\n\n".join(model_help(a) for a in available), placeholder=_("Choose options"))
    with st.expander(_("Model settings")):
        st.caption(_("Each setting starts at the model's own default, the one `python -m core.backtest` uses."))
        p1, p2, p3 = st.columns(3)
        ma_window = p1.number_input(_("Moving average window (0 = default)"), 0, 400, 0, key="bt_ma_window")
        ets_seasonal = p2.selectbox(_("ETS seasonality"), ["auto", "add", "mul", None], key="bt_ets_seasonal",
                                    format_func=ets_option, help=gettext(ETS_AUTO_HELP))
        ets_trend = p3.selectbox(_("ETS trend"), ["auto", "add", None], key="bt_ets_trend",
                                 format_func=ets_option, help=gettext(ETS_AUTO_HELP))
        q1, q2, q3 = st.columns(3)
        ets_damped = q1.checkbox(_("ETS damped trend"), key="bt_ets_damped", disabled=ets_trend != "add",
                                 help=_("Only with an additive trend chosen; 'automatic' tries the damped trend too."))
        lgbm_objective = q2.selectbox(_("LightGBM objective"), list(LGBM_OBJECTIVES), key="bt_lgbm_objective",
                                      format_func=lambda o: gettext(LGBM_OBJECTIVES[o]))
        lgbm_trees = q3.number_input(_("LightGBM trees (0 = default)"), 0, 5000, 0, key="bt_lgbm_trees")
    name = st.text_input(_("Run name (optional)"), placeholder=_("e.g. ladder, 28 days, all stores"), key="bt_name")
    st.caption(_("Changing a setting (or pressing Enter in a field) starts nothing: only **Run backtest** does."))
    submitted = st.button(_("Run backtest"), type="primary", key="bt_run", icon=":material/play_arrow:")


def model_specs() -> tuple[ModelSpec, ...]:
    settings: dict[str, dict] = {
        "ma": {"window": int(ma_window)} if ma_window else {},
        "ets": {"seasonal": ets_seasonal, "trend": ets_trend, "damped": bool(ets_damped) and ets_trend == "add"},
        "lgbm": {"objective": lgbm_objective} | ({"n_estimators": int(lgbm_trees)} if lgbm_trees else {}),
    }
    # Only what differs from the model's defaults is stored: the page's default ladder is the command line's.
    return tuple(ModelSpec.of(alias, **changed_params(alias, settings.get(alias, {}))) for alias in chosen_models)


if submitted:
    try:
        config = BacktestConfig(
            split=SplitConfig(horizon=int(horizon), folds=int(folds), step=int(step) or None, gap=int(gap),
                              window=window, train_periods=int(train_periods) if train_periods else None),
            models=model_specs(),
        )
        if dataset.start_date and dataset.end_date:  # settings the history cannot hold: said now, not after a queue
            fold_cutoffs(dataset.start_date, dataset.end_date, dataset.freq, config.split)
        job_id = jobs.get_runner().submit(BACKTEST.name, backtest_params(dataset.dataset_id, filters, config, name),
                                          job_title(dataset.name, config, filters))
        jobs.watch(BACKTEST.name, job_id)
    except MitoshiError as error:
        show_error(error)


def open_run(job: Job) -> None:
    """A finished backtest opens: this session's own, or one found running after a reload when no run is shown
    (another user's run does not replace the one being read)."""
    if jobs.started_here(BACKTEST.name, job) or not st.session_state.get(RUN_KEY):
        st.session_state[RUN_KEY] = job.result


def done_text(job: Job) -> str:
    """What a finished backtest made: its time, models, folds and series scored, and which models fell back."""
    info = get_run(warehouse, job.result)
    folds_run = info.config.split.folds
    done = ngettext("Done in {seconds} s: {models} models × {folds} fold, {scored}",
                    "Done in {seconds} s: {models} models × {folds} folds, {scored}", folds_run
                    ).format(seconds=f"{info.wall_seconds:,.1f}", models=len(info.config.models), folds=folds_run,
                             scored=accounting.scored_phrase(info.n_scored, info.n_series))
    fell_back = fallback_text(run_fallbacks(warehouse, job.result).groupby("model")[SERIES_ID].nunique().to_dict())
    if fell_back:
        done = _("{done} · fell back to a simple rule: {models}").format(done=done, models=fell_back)
    return done


# The backtest runs as a job in a worker process: a reload or a closed tab finds it here, running or done.
jobs.live_jobs(BACKTEST.name, on_done=open_run)
jobs.outcome(BACKTEST.name, done_text)

if st.session_state.get(RUN_KEY):
    st.divider()
    render_run(st.session_state[RUN_KEY], key="bt")
elif not jobs.any_active(BACKTEST.name):  # a run under way shows here once it is done
    # A new tab, or a return the next day: the dataset's newest run, rather than an empty page that hides it.
    newest = next((r for r in list_runs(warehouse) if r.dataset_id == dataset.dataset_id), None)
    if newest is None:
        st.info(_("Choose the scope, the time settings and the models, then **Run backtest**. Runs are stored and "
                  "can be compared on the **Experiments** page."))
    else:
        st.divider()
        st.caption(_("The newest run of this dataset, stored {when}. **Run backtest** above makes another; the "
                     "**Experiments** page compares them.").format(when=fmt.date(newest.created_at) + " "
                                                                   + f"{newest.created_at:%H:%M}"))
        render_run(newest.run_id, key="bt_newest")

external_section(warehouse, dataset, RUN_KEY)  # forecasts made elsewhere join a stored run

jobs.history(BACKTEST.name, _("Backtest jobs of this warehouse"), _("No backtest has been started yet."))
