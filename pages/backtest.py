"""Backtest: run the ladder rules -> statistics -> GBDT on the future only, and read it."""

from __future__ import annotations

import logging

import streamlit as st

from core import fmt
from core.backtest import accounting
from core.backtest.engine import BacktestConfig, ModelSpec, Progress, dataset_data, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import save_run
from core.columns import SERIES_ID, Freq
from core.errors import MitoshiError
from core.forecast.registry import DEFAULT_LADDER, MODELS
from core.text import md
from ui import queries
from ui.backtest import ETS_AUTO_HELP, ETS_SEASONAL, ETS_TREND, changed_params, fallback_text, render_run
from ui.external import external_section
from ui.navigation import stay_in_app
from ui.state import dataset_picker, get_warehouse, show_error

stay_in_app()

RUN_KEY = "backtest_run_id"
PENDING_KEY = "backtest_pending"
DEFAULT_HORIZON = {Freq.DAILY: 28, Freq.WEEKLY: 8, Freq.MONTHLY: 6}

st.title("Backtest the ladder")
st.caption("Rules and statistics before GBDT; every fold is judged on dates after its cutoff only — never a "
           "random split. Stop climbing when the next rung does not pay for itself.")

warehouse = get_warehouse()
dataset = dataset_picker(warehouse)
if dataset is None:
    st.stop()

# Plain widgets and one button, not st.form: a form submits when Enter is pressed in any of
# its text or number inputs, which started a run (minutes long with ARIMA) by accident.
with st.container(border=True):
    st.markdown("**Series in scope** (empty = all)")
    segments = list(dataset.segment_columns)
    cols = st.columns(max(1, len(segments)))
    filters = {}
    for column, slot in zip(segments, cols, strict=False):
        chosen = slot.multiselect(md(dataset.label(column)), queries.segment_values(dataset.dataset_id, column),
                                  placeholder="all", key=f"bt_filter_{column}")
        if chosen:
            filters[column] = tuple(chosen)
    st.markdown("**Time** — rolling origin: each fold trains on data up to its cutoff and forecasts the next periods")
    a, b, c, d, e = st.columns(5)
    horizon = a.number_input(f"Horizon ({dataset.freq.label} periods)", 1, 400, DEFAULT_HORIZON[dataset.freq],
                             key=f"bt_horizon_{dataset.freq.value}")  # its default follows the frequency
    folds = b.number_input("Folds", 1, 12, 3, key="bt_folds")
    step = c.number_input("Step between cutoffs (0 = horizon)", 0, 400, 0, key="bt_cutoff_step")
    gap = d.number_input("Gap after cutoff", 0, 60, 0, key="bt_gap", help="Periods between the cutoff and the "
                         "first forecast, e.g. when orders are placed days ahead.")
    window = e.selectbox("Training window", ["expanding", "sliding"], key="bt_window")
    train_periods = st.number_input("Sliding window length (periods)", 10, 5000, 365, key="bt_train_periods",
                                    help="Only used with a sliding window.") if window == "sliding" else None
    st.markdown("**Models** — the ladder")
    available = [a for a in MODELS if a != "practice" or dataset.spec.orders]
    default = [a for a in ("practice", *DEFAULT_LADDER) if a in available]
    chosen_models = st.multiselect(
        "Models", available, default=default, key="bt_models",
        format_func=lambda a: f"{fmt.model_name(a)} · {MODELS[a].rung.value}", help="\n\n".join(
            f"**{fmt.model_name(a)}** ({MODELS[a].rung.value}): {MODELS[a].summary}" for a in available))
    with st.expander("Model settings"):
        st.caption("Each setting starts at the model's own default, the one `python -m core.backtest` uses.")
        p1, p2, p3 = st.columns(3)
        ma_window = p1.number_input("Moving average window (0 = default)", 0, 400, 0, key="bt_ma_window")
        ets_seasonal = p2.selectbox("ETS seasonality", ["auto", "add", "mul", None], key="bt_ets_seasonal",
                                    format_func=ETS_SEASONAL.get, help=ETS_AUTO_HELP)
        ets_trend = p3.selectbox("ETS trend", ["auto", "add", None], key="bt_ets_trend",
                                 format_func=ETS_TREND.get, help=ETS_AUTO_HELP)
        q1, q2, q3 = st.columns(3)
        ets_damped = q1.checkbox("ETS damped trend", key="bt_ets_damped", disabled=ets_trend != "add",
                                 help="Only with an additive trend chosen; 'automatic' tries the damped trend too.")
        lgbm_objective = q2.selectbox("LightGBM objective", ["tweedie", "poisson", "l2"], key="bt_lgbm_objective",
                                      format_func={"tweedie": "Tweedie", "poisson": "Poisson",
                                                   "l2": "squared error (L2)"}.get)
        lgbm_trees = q3.number_input("LightGBM trees (0 = default)", 0, 5000, 0, key="bt_lgbm_trees")
    name = st.text_input("Run name (optional)", placeholder="e.g. ladder, 28 days, all stores", key="bt_name")
    st.caption("Changing a setting (or pressing Enter in a field) starts nothing: only **Run backtest** does.")
    submitted = st.button("Run backtest", type="primary", key="bt_run", icon=":material/play_arrow:")


def model_specs() -> tuple[ModelSpec, ...]:
    settings: dict[str, dict] = {
        "ma": {"window": int(ma_window)} if ma_window else {},
        "ets": {"seasonal": ets_seasonal, "trend": ets_trend, "damped": bool(ets_damped) and ets_trend == "add"},
        "lgbm": {"objective": lgbm_objective} | ({"n_estimators": int(lgbm_trees)} if lgbm_trees else {}),
    }
    # Only what differs from the model's defaults is stored: the page's default ladder is the command line's.
    return tuple(ModelSpec.of(alias, **changed_params(alias, settings.get(alias, {}))) for alias in chosen_models)


# Set while a run is under way and cleared the moment it is stored: a Cancel that reruns the
# page after the run was stored must not say that nothing was.
if st.session_state.get("cancel_backtest") and st.session_state.pop(PENDING_KEY, False):
    st.warning("The backtest was cancelled; nothing was stored.", icon=":material/cancel:")

if submitted:
    try:
        config = BacktestConfig(
            split=SplitConfig(horizon=int(horizon), folds=int(folds), step=int(step) or None, gap=int(gap),
                              window=window, train_periods=int(train_periods) if train_periods else None),
            models=model_specs(),
        )
        st.session_state[PENDING_KEY] = True
        with st.status("Running the backtest…", expanded=True) as status:
            cancel = st.empty()
            cancel.button("Cancel", key="cancel_backtest", help="Stops the run; nothing is stored.")
            bar = st.progress(0.0, text="Loading the series…")
            data = dataset_data(warehouse, dataset, filters)

            def report(progress: Progress) -> None:
                bar.progress(progress.done / progress.total, text=progress.message)

            result = run_backtest(data, config, on_progress=report)
            cancel.empty()  # the save is one transaction: a Cancel could no longer stop it
            bar.progress(1.0, text="Saving the run…")
            run_id = save_run(warehouse, result, name or None)
            st.session_state[RUN_KEY] = run_id
            st.session_state.pop(PENDING_KEY, None)
            bar.empty()
            fell_back = fallback_text(result.fallbacks.groupby("model")[SERIES_ID].nunique().to_dict())
            status.update(label=f"Done in {result.wall_seconds:,.1f} s: {len(config.models)} models × "
                                f"{config.split.folds} folds, "
                                f"{accounting.scored_phrase(result.n_scored, result.n_series)}"
                                + (f" · fell back to a simple rule: {fell_back}" if fell_back else ""),
                          state="complete", expanded=False)
    except MitoshiError as error:  # a model's own failure arrives here too, naming the model and the fold
        st.session_state.pop(PENDING_KEY, None)
        show_error(error)
    except Exception as error:  # never a traceback: say what stopped and that nothing was stored
        logging.getLogger(__name__).exception("The backtest stopped on an unexpected error")
        st.session_state.pop(PENDING_KEY, None)
        st.error(f"The backtest stopped on an unexpected error ({type(error).__name__}: {md(error)}). Nothing was "
                 "stored. Try again with fewer models to find the one that fails.", icon=":material/error:")

if st.session_state.get(RUN_KEY):
    st.divider()
    render_run(st.session_state[RUN_KEY], key="bt")
else:
    st.info("Choose the scope, the time settings and the models, then **Run backtest**. Runs are stored and can "
            "be compared on the **Experiments** page.")

external_section(warehouse, dataset, RUN_KEY)  # forecasts made elsewhere join a stored run
