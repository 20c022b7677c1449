"""Forecast watch: each published batch against the actuals appended since, week by week."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import fmt
from core.errors import MitoshiError
from core.handoff import store as handoff_store
from core.pilot import monitor, monitor_charts
from core.text import md
from ui.navigation import stay_in_app
from ui.state import current_dataset, current_project, get_warehouse, set_current_dataset, show_error, table

stay_in_app()

st.title("Forecast watch")
st.caption("After launch, a published batch is a promise made in advance: as the weeks' sales are appended, each "
           "week's error is compared with the error the backtest showed for that model. A week above the "
           "backtest's band means the forecasts are drifting.")

warehouse = get_warehouse()
datasets = monitor.watched_datasets(warehouse)
if not datasets:
    st.info("Nothing has been published yet: publish a model's forecasts on the **Hand-off to production** page, "
            "then watch them here as the actuals arrive.", icon=":material/info:")
    st.page_link("pages/handoff.py", label="Go to Hand-off to production", icon=":material/publish:")
    st.stop()

ids = [d.dataset_id for d in datasets]
current = current_dataset(warehouse)
left, right = st.columns([2, 3])
dataset_id = left.selectbox("Dataset", ids, index=ids.index(current.dataset_id) if current and current.dataset_id in ids
                            else len(ids) - 1, format_func={d.dataset_id: d.name for d in datasets}.get,
                            key="watch_dataset")
if current is None or dataset_id != current.dataset_id:
    set_current_dataset(dataset_id)
dataset = next(d for d in datasets if d.dataset_id == dataset_id)
batches = handoff_store.list_batches(warehouse, dataset_id).sort_values("version", ascending=False)
labels = {int(b.version): f"Version {b.version} · {fmt.model_name(b.model)} · {pd.Timestamp(b.first_date):%Y-%m-%d} "
                          f"to {pd.Timestamp(b.last_date):%Y-%m-%d} · published {pd.Timestamp(b.created_at):%Y-%m-%d}"
          for b in batches.itertuples()}
version = right.selectbox("Batch (newest first)", list(labels), format_func=labels.get,
                          key=f"watch_version_{dataset_id}")

# The money realised: of the stores that ordered from the batch. When the project's pilot has its treated
# stores order from this batch, those by default (the others keep today's practice); else every store.
project = current_project(warehouse)
pilot = monitor.pilot_stores(warehouse, project.project_id if project else None, dataset_id, version)
stores: tuple[str, ...] = ()
if pilot is not None:
    scopes = {"pilot": f"{pilot.label('The')} (the pilot of {pilot.start:%Y-%m-%d} to {pilot.end:%Y-%m-%d})",
              "all": "Every store of the batch"}
    scope = st.radio("Money realised of", list(scopes), format_func=scopes.get, horizontal=True,
                     key=f"watch_scope_{dataset_id}_{version}",
                     help="In the pilot only the treated stores order from this batch; the other stores keep "
                          "today's practice, so their money says nothing of the batch.")
    stores = pilot.stores if scope == "pilot" else ()

# A watch is measured (and stored) when the page first shows this batch on this data, when
# rows are appended (the dataset's fingerprint changes), on another choice of stores, and on Recompute.
cache_key = f"watch_{dataset_id}_{version}_{','.join(stores)}"
cached = st.session_state.get(cache_key)
recompute = st.button("Recompute", icon=":material/refresh:", key="watch_recompute",
                      help="Measure the batch again against the actuals in the warehouse now, and store the result.")
if recompute or cached is None or cached[0] != dataset.fingerprint:
    try:
        with st.spinner("Joining the actuals, resampling the backtest's weeks and pricing the money realised…"):
            cached = (dataset.fingerprint, monitor.monitor_batch(warehouse, dataset_id, version,
                                                                 monitor.WatchOptions(stores=stores)))
        st.session_state[cache_key] = cached
    except MitoshiError as error:
        show_error(error)
        st.stop()
watch: monitor.BatchWatch = cached[1]

data_end = f" · the data ends {watch.data_end:%Y-%m-%d}" if watch.data_end else ""
st.caption(f"{md(fmt.model_name(watch.model))} from the backtest run '{md(watch.run_name or watch.run_id)}' · "
           f"{watch.n_series:,} series · forecasts {watch.first_date:%Y-%m-%d} to {watch.last_date:%Y-%m-%d}{data_end}")

covered = watch.covered
alerts = watch.alert_sentences()
columns = st.columns(4)
columns[0].metric("Weeks with actuals" if watch.freq.value != "M" else "Months with actuals",
                  f"{len(covered):,} of {len(watch.periods):,}")
latest = covered.iloc[-1] if not covered.empty else None
columns[1].metric("Latest WAPE", fmt.pct(latest["wape"]) if latest is not None else fmt.MISSING,
                  help="The last week with actuals; partial when its days or series are not all in.")
columns[2].metric("Backtest's band", monitor.band_range(latest["wape_low"], latest["wape_high"])
                  if latest is not None else fmt.MISSING)
columns[3].metric("Alerts", f"{len(alerts):,}")

for sentence in alerts:
    st.warning(md(sentence), icon=":material/warning:")
for sentence in watch.good_news():
    st.success(md(sentence), icon=":material/check_circle:")
for sentence in watch.coverage_sentences():
    st.info(md(sentence), icon=":material/hourglass_empty:")

if not covered.empty:
    st.plotly_chart(monitor_charts.wape_chart(watch), key="watch_wape_chart")
    st.plotly_chart(monitor_charts.bias_chart(watch), key="watch_bias_chart")

st.subheader("Week by week" if watch.freq.value != "M" else "Month by month")
rows = []
for row in watch.periods.itertuples():
    waiting = row.status == monitor.WAITING
    alert = [name for name, flag in (("WAPE", row.wape_alert), ("bias", row.bias_alert)) if flag]
    record = {
        "Period": watch.period_label(row.period_start),
        "Days with actuals" if watch.freq.value == "D" else "With actuals":
            f"{row.dates:,} of {row.dates_forecast:,}",
        "Series with actuals": f"{row.series:,} of {row.series_forecast:,}",
        "WAPE": fmt.pct(row.wape) if not waiting else "",
        "Backtest's band": monitor.band_range(row.wape_low, row.wape_high) if not waiting else "",
        "Bias": fmt.pct(row.bias, signed=True) if not waiting else "",
        "MAE (units)": fmt.number(row.mae, 2) if not waiting else "",
        "Sold (units)": fmt.count(row.actual_units) if not waiting else "",
    }
    if monitor.PROFIT_PER_STORE_DAY in watch.periods:
        value = getattr(row, monitor.PROFIT_PER_STORE_DAY)
        record["Profit per store-day"] = "" if fmt.missing(value) else fmt.yen(value)
    # Status and alerts first after the period: on a narrow screen the measures scroll, not the verdict.
    rows.append({"Period": record.pop("Period"),
                 "Status": {"complete": "complete", "partial": "partial", "waiting": "no actuals yet"}[row.status],
                 "Alert": ", ".join(alert), **record})
table(pd.DataFrame(rows))
st.caption(md(watch.band_sentence))

money = watch.money_sentences()
if money:
    st.subheader("Money realised so far")
    if stores:
        st.caption(f"Of {md(pilot.label())}: in the pilot only they order from this batch.")
    for sentence in money:
        st.markdown(md(sentence))

with st.expander("Query the watch as a table", icon=":material/database:"):
    st.markdown("Every recompute replaces this batch's rows of the table `forecast_monitoring` (one row per batch, "
                "week and measure: " + ", ".join(f"`{m}`" for m in monitor.MEASURES) + "). Every alert:")
    st.code(monitor.EXAMPLE_QUERY, language="sql")
    st.markdown("One row per batch and week:")
    st.code(monitor.WEEKS_QUERY, language="sql")
if watch.computed_at is not None:
    st.caption(f"Measured and stored {pd.Timestamp(watch.computed_at):%Y-%m-%d %H:%M}.")
