"""Money impact in the browser: choosing a run and how stores would order, computing
the impact with progress, and showing it in yen."""

from __future__ import annotations

import streamlit as st

from core import decision_charts, fmt
from core.errors import MitoshiError
from core.evaluation import run_impact
from core.impact import PRACTICE, Economics, ImpactConfig, ImpactResult
from core.text import md
from core.warehouse import runs
from ui.state import get_warehouse, show_error, table

OPTIMAL_CHOICE = "Profit-optimal per item (recommended)"
FIXED_CHOICE = "One service level for every item"


def run_picker(key: str, label: str = "Backtest run") -> runs.RunInfo | None:
    """A select box over the stored runs, newest first, remembered across pages."""
    stored = runs.list_runs(get_warehouse())
    if not stored:
        st.info("No backtest is stored yet: run the ladder on the **Backtest** page first.", icon=":material/info:")
        st.page_link("views/backtest.py", label="Go to Backtest", icon=":material/science:")
        return None
    by_id = {r.run_id: r for r in stored}
    remembered = st.session_state.get("money_run")
    ids = list(by_id)
    chosen = st.selectbox(label, ids, index=ids.index(remembered) if remembered in by_id else 0, key=key,
                          format_func=lambda i: f"{by_id[i].name} · {by_id[i].dataset_name} · "
                                                f"{by_id[i].n_series:,} series · {by_id[i].created_at:%Y-%m-%d %H:%M}")
    st.session_state["money_run"] = chosen
    return by_id[chosen]


def impact_settings(key: str) -> ImpactConfig | None:
    """How the simulated stores order, and averages for data without prices or costs.
    Returns None (with the reason shown) when the settings cannot be used."""
    a, b = st.columns([2, 1])
    mode = a.radio("How the stores would order from a forecast", [OPTIMAL_CHOICE, FIXED_CHOICE], key=f"{key}_mode",
                   horizontal=True,
                   help="Order = forecast + safety stock, the safety stock from the model's own backtest errors. "
                        "Profit-optimal: each item at its newsvendor level, margin ÷ (margin + what a leftover "
                        "costs) — low for one-day bento, high for drinks that keep.")
    level = None
    if mode == FIXED_CHOICE:
        level = b.select_slider("Service level", [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99], value=0.95,
                                format_func=lambda v: f"{v:.0%}", key=f"{key}_level",
                                help="The share of days whose demand the order covers.")
    with st.expander("Prices, costs, shelf life and demand on stockout days", icon=":material/payments:"):
        st.caption("Taken from the dataset (a price column, an item master with unit_cost and shelf_life_days) "
                   "where it has them. Averages here are used only for what it lacks.")
        c = st.columns(4)
        price = c[0].number_input("Average unit price (¥)", min_value=0.0, value=None, step=10.0, key=f"{key}_price")
        cost = c[1].number_input("Average unit cost (¥)", min_value=0.0, value=None, step=10.0, key=f"{key}_cost")
        shelf = c[2].number_input("Average shelf life (days)", min_value=1, value=None, step=1, key=f"{key}_shelf")
        holding = c[3].number_input("Yearly holding cost (% of stock value)", min_value=0.0, max_value=200.0,
                                    value=25.0, step=5.0, key=f"{key}_holding")
        correct = st.checkbox("Estimate demand on stockout days (sales understate it there)", value=True,
                              key=f"{key}_correct")
    try:
        return ImpactConfig(service_level=level, correct_censoring=correct,
                            economics=Economics(unit_price=price or None, unit_cost=cost,
                                                shelf_life_days=int(shelf) if shelf else None,
                                                holding_rate=holding / 100))
    except MitoshiError as error:
        show_error(error)
        return None


@st.cache_data(show_spinner=False, max_entries=16)
def _cached_impact(run_id: str, config: ImpactConfig, _created: str) -> ImpactResult:
    return run_impact(get_warehouse(), run_id, config).impact


def compute_impact(run: runs.RunInfo, config: ImpactConfig) -> ImpactResult | None:
    """The run's money impact, with progress the first time; None (error shown) when it
    cannot be computed."""
    try:
        with st.status("Turning forecasts into orders, stockouts and waste…", expanded=False) as status:
            result = _cached_impact(run.run_id, config, run.created_at.isoformat())
            status.update(label="Money impact ready", state="complete")
        return result
    except MitoshiError as error:
        show_error(error)
        return None


def render_impact(impact: ImpactResult, key: str) -> None:
    summary = impact.summary
    models = summary[summary["policy"] != impact.baseline]
    best = models.sort_values("yearly_savings", ascending=False).iloc[0] if not models.empty else None
    base = impact.row(impact.baseline)
    if best is not None:
        cols = st.columns(4)
        cols[0].metric(f"Yearly savings · {best['policy']}", fmt.yen(best["yearly_savings"]),
                       help=f"Against {impact.baseline_label}, for the whole dataset, ordering at "
                            f"{impact.config.level_label}.")
        cols[1].metric("Waste a year", fmt.yen(best["yearly_waste_cost"]),
                       delta=fmt.yen((best["yearly_waste_cost"] - base["yearly_waste_cost"])),
                       delta_color="inverse")
        cols[2].metric("Lost sales margin a year", fmt.yen(best["yearly_lost_margin"]),
                       delta=fmt.yen((best["yearly_lost_margin"] - base["yearly_lost_margin"])),
                       delta_color="inverse")
        cols[3].metric("Days out of stock", fmt.pct(best["stockout_rate"]),
                       delta=fmt.pct(best["stockout_rate"] - base["stockout_rate"], signed=True),
                       delta_color="inverse")
        verdict = "saves" if best["yearly_savings"] > 0 else "loses"
        st.markdown(f"Ordering from **{best['policy']}** at {impact.config.level_label} **{verdict} "
                    f"{fmt.yen(abs(best['yearly_savings']))} a year** against {impact.baseline_label} "
                    f"({impact.n_series:,} series, {impact.fold_days} days of backtest, annualised"
                    + (f", scaled {impact.chain_scale:.2f}× to the whole dataset" if impact.chain_scale > 1.0001
                       else "") + ").")
    for note in impact.notes:
        st.info(md(note), icon=":material/info:")
    left, right = st.columns(2)
    left.plotly_chart(decision_charts.savings_bars(summary, impact.baseline_label), width="stretch",
                      key=f"{key}_savings")
    right.plotly_chart(decision_charts.loss_split(summary), width="stretch", key=f"{key}_split")
    optimal = summary if impact.config.service_level is None else None
    st.plotly_chart(decision_charts.sensitivity_lines(impact.sensitivity, optimal), width="stretch",
                    key=f"{key}_sensitivity")
    if not impact.by_segment.empty:
        a, b = st.columns(2)
        segment = a.selectbox("Split by", list(dict.fromkeys(impact.by_segment["segment"])), key=f"{key}_segment")
        choices = [p for p in summary["policy"] if p != impact.baseline]
        model = b.selectbox("Model", choices, key=f"{key}_segment_model") if choices else None
        if model:
            st.plotly_chart(decision_charts.segment_savings(impact.by_segment, segment, model, impact.baseline_label),
                            width="stretch", key=f"{key}_by_segment")
    st.markdown("**Every policy** (units: the run's series over the backtest's days; yearly money: the whole "
                "dataset, annualised)")
    units = ["ordered", "sold", "lost", "waste"]
    shown = summary[["label", "yearly_savings", "yearly_profit", "yearly_waste_cost", "yearly_lost_margin",
                     "stockout_rate", "fill_rate", "waste_rate", *units]].round({u: 0 for u in units})
    table(shown, column_config={
        "label": st.column_config.TextColumn("policy"),
        **{c: st.column_config.NumberColumn(c.replace("_", " "), format="percent")
           for c in ("stockout_rate", "fill_rate", "waste_rate")},
        **{c: st.column_config.NumberColumn(c.replace("_", " "), format="yen")
           for c in ("yearly_profit", "yearly_waste_cost", "yearly_lost_margin", "yearly_savings")},
    })
    st.caption("Sources: " + "; ".join(f"{md(k)} from {md(v)}" for k, v in impact.sources.items()) + ". "
               "Profit = units sold × (price − cost) − waste × cost − holding cost. "
               f"{'Today’s practice is replayed from its recorded orders. ' if impact.baseline == PRACTICE else ''}"
               "Every policy starts each fold with the stock practice really had.")

