"""Backtest: run the ladder rules -> statistics -> GBDT on the future only, and read it."""

from __future__ import annotations

import streamlit as st

from core.backtest import accounting
from core.backtest.engine import BacktestConfig, ModelSpec, Progress, dataset_data, run_backtest
from core.backtest.splits import SplitConfig
from core.columns import Freq
from core.errors import MitoshiError
from core.forecast.registry import DEFAULT_LADDER, MODELS
from core.text import md
from core.warehouse.runs import save_run
from ui import queries
from ui.run_view import render_run
from ui.state import dataset_picker, get_warehouse, show_error

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

with st.form("backtest"):
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
    horizon = a.number_input(f"Horizon ({dataset.freq.label} periods)", 1, 400, DEFAULT_HORIZON[dataset.freq])
    folds = b.number_input("Folds", 1, 12, 3)
    step = c.number_input("Step between cutoffs (0 = horizon)", 0, 400, 0)
    gap = d.number_input("Gap after cutoff", 0, 60, 0, help="Periods between the cutoff and the first forecast, "
                         "e.g. when orders are placed days ahead.")
    window = e.selectbox("Training window", ["expanding", "sliding"])
    train_periods = st.number_input("Sliding window length (periods)", 10, 5000, 365,
                                    help="Only used with a sliding window.") if window == "sliding" else None
    st.markdown("**Models** — the ladder")
    available = [a for a in MODELS if a != "practice" or dataset.spec.orders]
    default = [a for a in ("practice", *DEFAULT_LADDER) if a in available]
    chosen_models = st.multiselect(
        "Models", available, default=default,
        format_func=lambda a: f"{a} · {MODELS[a].rung.value}", help="\n\n".join(
            f"**{a}** ({MODELS[a].rung.value}): {MODELS[a].summary}" for a in available))
    with st.expander("Model settings"):
        p1, p2, p3 = st.columns(3)
        ma_window = p1.number_input("Moving average window (0 = default)", 0, 400, 0)
        ets_seasonal = p2.selectbox("ETS seasonality", ["add", "mul", None], format_func=lambda v: v or "none")
        ets_trend = p3.selectbox("ETS trend", [None, "add"], format_func=lambda v: v or "none")
        q1, q2, q3 = st.columns(3)
        ets_damped = q1.checkbox("ETS damped trend")
        lgbm_objective = q2.selectbox("LightGBM objective", ["tweedie", "poisson", "l2"])
        lgbm_trees = q3.number_input("LightGBM trees (0 = default)", 0, 5000, 0)
    name = st.text_input("Run name (optional)", placeholder="e.g. ladder, 28 days, all stores")
    submitted = st.form_submit_button("Run backtest", type="primary")


def model_specs() -> tuple[ModelSpec, ...]:
    settings: dict[str, dict] = {
        "ma": {"window": int(ma_window)} if ma_window else {},
        "ets": {"seasonal": ets_seasonal, "trend": ets_trend, "damped": ets_damped and ets_trend is not None},
        "lgbm": {"objective": lgbm_objective} | ({"n_estimators": int(lgbm_trees)} if lgbm_trees else {}),
    }
    return tuple(ModelSpec.of(alias, **settings.get(alias, {})) for alias in chosen_models)


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
            status.update(label=f"Done in {result.wall_seconds:,.1f} s: {len(config.models)} models × "
                                f"{config.split.folds} folds, "
                                f"{accounting.scored_phrase(result.n_scored, result.n_series)}", state="complete",
                          expanded=False)
    except MitoshiError as error:
        st.session_state.pop(PENDING_KEY, None)
        show_error(error)

if st.session_state.get(RUN_KEY):
    st.divider()
    render_run(st.session_state[RUN_KEY], key="bt")
else:
    st.info("Choose the scope, the time settings and the models, then **Run backtest**. Runs are stored and can "
            "be compared on the **Experiments** page.")
