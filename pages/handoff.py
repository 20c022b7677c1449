"""Hand-off to production: publish the chosen model's forecasts as a versioned batch table."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from core import fmt
from core.backtest import store as runs
from core.columns import DATE, Freq
from core.decision import store as decisions
from core.errors import MitoshiError
from core.handoff import charts as handoff_charts
from core.handoff import store as handoff_store
from core.handoff.batch import PublishOptions, for_csv, prepare_batch, unpublishable_reason
from core.money.impact import Economics, rule_words
from core.text import md
from ui import queries
from ui.backtest import config_summary, leaderboard
from ui.handoff import batch_rule, current_rule, decision_note, orders_label, ordering_rule_choice
from ui.money import handoff_economics
from ui.navigation import stay_in_app
from ui.state import csv_download, get_warehouse, show_error, table

stay_in_app()

def markdown_table(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> str:
    """A Markdown table: unlike a data grid, its long cells wrap and are read in full."""
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    lines += [" | ".join([f"`{name}`", *(cell.replace("|", "\\|") for cell in rest)]) for name, *rest in rows]
    return "\n".join(lines)


# History shown before the forecast: three months of days, a year of weeks, two of months.
HISTORY_TAIL = {Freq.DAILY: 91, Freq.WEEKLY: 52, Freq.MONTHLY: 24}

st.title("Hand-off to production")
st.caption("The first production form of a forecast is a batch job writing a carefully designed table. Fit the "
           "chosen model on every date up to the last one, forecast the next periods and publish them as a new "
           "version of the dataset's batch forecasts; older versions are kept.")

warehouse = get_warehouse()
all_runs = runs.list_runs(warehouse)
if not all_runs:
    st.info("No backtest run yet: the model to publish is chosen by a backtest. Run one on the **Backtest** page.")
    st.page_link("pages/backtest.py", label="Go to Backtest", icon=":material/science:")
    st.stop()

run_labels = {r.run_id: f"{r.name} · {r.dataset_name} · {r.created_at:%Y-%m-%d %H:%M}" for r in all_runs}
run_id = st.selectbox("Backtest run (newest first)", list(run_labels), format_func=run_labels.get, key="handoff_run")
info = next(r for r in all_runs if r.run_id == run_id)
st.caption(f"{info.n_series:,} series · {md(config_summary(info))}")

board = leaderboard(run_id)
publishable = board[[unpublishable_reason(m) is None for m in board["model"]]].reset_index(drop=True)
wape = dict(zip(publishable["model"], publishable["wape"], strict=True))
# The GO/NO-GO decision taken on this run, if any, names the model to hand off.
taken = next((d for d in decisions.list_decisions(warehouse) if d.run_id == run_id), None)
decision = decisions.get_decision(warehouse, taken.decision_id) if taken else None
banner = st.empty()  # filled once the model to publish is chosen
models = publishable["model"].tolist()
left, middle, right = st.columns(3)
alias = left.selectbox(
    "Model (best WAPE first)", models, key=f"handoff_model_{run_id}",
    index=models.index(decision.model) if decision is not None and decision.model in models else 0,
    format_func=lambda m: f"{fmt.model_name(m)} · WAPE {fmt.pct(wape[m])}"
    + (" · best" if m == publishable["model"].iloc[0] else ""),
)
if decision is not None:
    (banner.warning if decision.verdict == "NO-GO" else banner.info)(
        decision_note(decision, alias, unpublishable_reason(decision.model) is None)
        + (" A NO-GO model can still be published, for a test, but not for the stores." if
           decision.verdict == "NO-GO" and alias == decision.model else ""), icon=":material/gavel:")
horizon = middle.number_input(f"Horizon ({info.freq.label} periods)", 1, 400, info.config.split.horizon,
                              key=f"handoff_horizon_{run_id}")
with right:
    with_orders = st.toggle(orders_label(current_rule(decision, info)), key="handoff_orders",
                            help="Safety stock = z × the series' RMSE of this model in the backtest, z from the "
                                 "service level (normal errors); or, with the quantile rule below, the model's own "
                                 "quantile from its errors in all the run's folds.")
    optimal = st.radio("Service level", ["profit-optimal per item", "one level for all"], horizontal=True,
                       key="handoff_level_mode", disabled=not with_orders, label_visibility="collapsed",
                       help="Profit-optimal: each item at the service level that earned it the most in the money "
                            "impact's simulation of this run, from the project's prices, costs and shelf life.") \
        == "profit-optimal per item"
    level = st.slider("Service level (%)", 50.0, 99.9, 95.0, 0.1, format="%.1f", key="handoff_level",
                      disabled=not with_orders or optimal,
                      help="The share of periods in which the order should cover demand. Under the quantile rule "
                           "a level needs enough backtest errors: n errors (pooled over every series) support "
                           "levels up to n/(n+1) — 99 for 99 %, 199 for 99.5 %, 999 for 99.9 %; a higher level "
                           "leaves the order quantities empty, and the normal rule has no such limit.")
    rule = ordering_rule_choice(decision, info, disabled=not with_orders)
economics = None
if with_orders and optimal:
    # Each item's level is chosen by the money impact's shelf simulation, which prices items from the dataset
    # or from the project's averages: the same section as on the Money page, saved with the project.
    economics = handoff_economics("handoff", info)
for refused in board["model"]:
    reason = unpublishable_reason(refused)
    if reason:
        st.caption(f":material/info: Not offered for publishing: {reason}")

if st.button("Publish", type="primary", icon=":material/publish:", disabled=alias is None):
    try:
        options = PublishOptions.from_run(info, alias, int(horizon),
                                          level / 100 if with_orders and not optimal else None,
                                          profit_optimal=with_orders and optimal,
                                          economics=economics or Economics(), ordering_rule=rule)
        with st.status(f"Publishing {md(fmt.model_name(alias))}…", expanded=True) as status:
            batch = prepare_batch(warehouse, run_id, options, on_progress=lambda message: st.write(md(message)))
            st.write("Writing the new version in one transaction…")
            version = handoff_store.publish_batch(warehouse, batch, decision_id=decision.decision_id
                                                  if decision is not None and decision.model == alias else None)
            status.update(label=f"Published version {version} of {md(batch.dataset_name)}: "
                                f"{batch.n_series:,} series × "
                                f"{options.horizon} periods from {batch.frame[DATE].min():%Y-%m-%d}"
                                + (f", ordering up to {rule_words(options.ordering_rule)}" if options.orders else ""),
                          state="complete", expanded=False)
        st.session_state[f"handoff_version_{batch.dataset_id}"] = version  # show what was just published
    except MitoshiError as error:
        show_error(error)

st.subheader("Published versions")
batches = handoff_store.list_batches(warehouse, info.dataset_id) if info.dataset_id else pd.DataFrame()
if batches.empty:
    st.info(f"Nothing has been published for {md(info.dataset_name)} yet: choose the model and **Publish**.")
else:
    overview = batches.assign(run=batches["run_name"].fillna(batches["run_id"] + " (deleted)"),
                              model=batches["model"].map(fmt.model_name),
                              ordering=batches["model_params"].map(batch_rule))
    table(overview[["version", "model", "run", "created_at", "n_series", "first_date", "last_date", "horizon",
                    "service_level", "ordering", "trained_until"]],
          column_config={"created_at": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm:ss"),
                         "n_series": st.column_config.NumberColumn("series", format="localized"),
                         "first_date": st.column_config.DateColumn("first date", format="YYYY-MM-DD"),
                         "last_date": st.column_config.DateColumn("last date", format="YYYY-MM-DD"),
                         "trained_until": st.column_config.DateColumn("trained until", format="YYYY-MM-DD"),
                         "service_level": st.column_config.NumberColumn("service level", format="percent"),
                         "ordering": st.column_config.TextColumn("order quantity up to")})
    versions = batches.set_index("version")
    version = st.selectbox("Version", versions.index.tolist(), key=f"handoff_version_{info.dataset_id}",
                           format_func=lambda v: f"v{v} · {fmt.model_name(versions.loc[v, 'model'])} · "
                                                 f"{versions.loc[v, 'created_at']:%Y-%m-%d %H:%M}")
    chosen = versions.loc[version]
    # Data ending yesterday is as fresh as data gets: a batch that starts today is current, one that
    # starts before today has days the stores can no longer order for.
    if pd.Timestamp(chosen["first_date"]) < pd.Timestamp.today().normalize():
        st.warning(f"Version {version} forecasts from {pd.Timestamp(chosen['first_date']):%Y-%m-%d}, which is in "
                   f"the past: the data ends on {pd.Timestamp(chosen['trained_until']):%Y-%m-%d}. Load "
                   "the latest sales and publish again before the stores order from it.", icon=":material/event_busy:")
    for note in chosen["notes"]:
        st.caption(f":material/info: {md(note)}")

    rows = handoff_store.batch_forecasts(warehouse, info.dataset_id, version)
    names = queries.series_names(info.dataset_id)
    series_ids = rows["unique_id"].drop_duplicates().tolist()
    series_id = st.selectbox(f"Series ({len(series_ids):,})", series_ids, format_func=lambda s: names.get(s, s),
                             key=f"handoff_series_{info.dataset_id}")
    history = queries.series_frame(info.dataset_id, series_id).tail(HISTORY_TAIL[info.freq])
    st.plotly_chart(handoff_charts.published_forecast(history, rows[rows["unique_id"] == series_id],
                                                      f"{names.get(series_id, series_id)} · published forecast "
                                                      f"v{version} ({fmt.model_name(chosen['model'])})", "units"),
                    width="stretch", key="handoff_chart")

    export = handoff_store.batch_export(warehouse, info.dataset_id, version)
    st.markdown(f"**Rows of version {version}** — {fmt.count(len(export))} rows"
                + (", the first 200 shown" if len(export) > 200 else ""))
    # Names for people here; the CSV and the warehouse keep the model's alias.
    shown = export.head(200)
    if "model" in shown.columns:
        shown = shown.assign(model=shown["model"].map(fmt.model_name))
    table(shown, column_config={
        "created_at": st.column_config.DatetimeColumn("created_at", format="YYYY-MM-DD HH:mm:ss"),
        "forecast": st.column_config.NumberColumn(format="%.2f"),
        "order_quantity": st.column_config.NumberColumn(format="%.2f"),
        "version": st.column_config.NumberColumn(format="%d")})
    slug = re.sub(r"\W+", "_", str(chosen["dataset_name"])).strip("_")
    csv_download(for_csv(export), f"Download version {version} as CSV", f"batch_forecasts_{slug}_v{version}.csv",
                 key="handoff_download")

with st.expander("The batch forecast table: what each column means, and how to read it"):
    st.markdown("`batch_forecasts` holds one row per series, date and version; the view `latest_batch_forecasts` "
                "holds the rows of each dataset's newest version, with `dataset_name` and `key_names`.")
    st.markdown(markdown_table(("column", "type", "meaning"), handoff_store.BATCH_TABLE_DOC))
    st.markdown("`forecast_batches` holds one row per published version:")
    st.markdown(markdown_table(("columns", "type", "meaning"), handoff_store.BATCHES_TABLE_DOC))
    st.markdown("What a downstream ordering system runs against the warehouse:")
    st.code(handoff_store.EXAMPLE_QUERY, language="sql")
