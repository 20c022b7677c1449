"""Forecast watch: each published batch against the actuals appended since, week by week."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import fmt
from core.errors import MitoshiError
from core.i18n import gettext as _
from core.handoff import store as handoff_store
from core.pilot import monitor, monitor_charts
from core.text import md
from ui.navigation import stay_in_app
from ui.state import current_dataset, current_project, get_warehouse, set_current_dataset, show_error, table

stay_in_app()

st.title(_("Forecast watch"))
st.caption(_("After launch, a published batch is a promise made in advance: as the weeks' sales are appended, each "
             "week's error is compared with the error the backtest showed for that model. A week above the "
             "backtest's band means the forecasts are drifting."))

warehouse = get_warehouse()
datasets = monitor.watched_datasets(warehouse)
if not datasets:
    st.info(_("Nothing has been published yet: publish a model's forecasts on the **Hand-off to production** page, "
              "then watch them here as the actuals arrive."), icon=":material/info:")
    st.page_link("pages/handoff.py", label=_("Go to Hand-off to production"), icon=":material/publish:")
    st.stop()

ids = [d.dataset_id for d in datasets]
current = current_dataset(warehouse)
left, right = st.columns([2, 3])
dataset_id = left.selectbox(_("Dataset"), ids, index=ids.index(current.dataset_id) if current and current.dataset_id in ids
                            else len(ids) - 1, format_func={d.dataset_id: d.name for d in datasets}.get,
                            key="watch_dataset")
if current is None or dataset_id != current.dataset_id:
    set_current_dataset(dataset_id)
dataset = next(d for d in datasets if d.dataset_id == dataset_id)
batches = handoff_store.list_batches(warehouse, dataset_id).sort_values("version", ascending=False)
labels = {int(b.version): _("Version {version} · {model} · {first} to {last} · published {published}").format(
    version=b.version, model=fmt.model_name(b.model), first=fmt.date(b.first_date), last=fmt.date(b.last_date),
    published=fmt.date(b.created_at)) for b in batches.itertuples()}
version = right.selectbox(_("Batch (newest first)"), list(labels), format_func=labels.get,
                          key=f"watch_version_{dataset_id}")

# The money realised: of the stores that ordered from the batch. When the project's pilot has its treated
# stores order from this batch, those by default (the others keep today's practice); else every store.
project = current_project(warehouse)
pilot = monitor.pilot_stores(warehouse, project.project_id if project else None, dataset_id, version)
stores: tuple[str, ...] = ()
if pilot is not None:
    scopes = {"pilot": _("The pilot's treated stores {stores} (the pilot of {start} to {end})").format(
                  stores=", ".join(pilot.stores), start=fmt.date(pilot.start), end=fmt.date(pilot.end)),
              "all": _("Every store of the batch")}
    scope = st.radio(_("Money realised of"), list(scopes), format_func=scopes.get, horizontal=True,
                     key=f"watch_scope_{dataset_id}_{version}",
                     help=_("In the pilot only the treated stores order from this batch; the other stores keep "
                            "today's practice, so their money says nothing of the batch."))
    stores = pilot.stores if scope == "pilot" else ()

# A watch is measured (and stored) when the page first shows this batch on this data, when
# rows are appended (the dataset's fingerprint changes), on another choice of stores, and on Recompute.
cache_key = f"watch_{dataset_id}_{version}_{','.join(stores)}"
cached = st.session_state.get(cache_key)
recompute = st.button(_("Recompute"), icon=":material/refresh:", key="watch_recompute",
                      help=_("Measure the batch again against the actuals in the warehouse now, and store the result."))
if recompute or cached is None or cached[0] != dataset.fingerprint:
    try:
        with st.spinner(_("Joining the actuals, resampling the backtest's weeks and pricing the money realised…")):
            cached = (dataset.fingerprint, monitor.monitor_batch(warehouse, dataset_id, version,
                                                                 monitor.WatchOptions(stores=stores)))
        st.session_state[cache_key] = cached
    except MitoshiError as error:
        show_error(error)
        st.stop()
watch: monitor.BatchWatch = cached[1]

described = {"model": md(fmt.model_name(watch.model)), "run": md(watch.run_name or watch.run_id), "n": watch.n_series,
             "first": fmt.date(watch.first_date), "last": fmt.date(watch.last_date)}
if watch.data_end:
    st.caption(_("{model} from the backtest run '{run}' · {n:,} series · forecasts {first} to {last} · the data ends "
                 "{end}").format(end=fmt.date(watch.data_end), **described))
else:
    st.caption(_("{model} from the backtest run '{run}' · {n:,} series · forecasts {first} to {last}").format(
        **described))

covered = watch.covered
alerts = watch.alert_sentences()
columns = st.columns(4)
columns[0].metric(_("Weeks with actuals") if watch.freq.value != "M" else _("Months with actuals"),
                  _("{n:,} of {total:,}").format(n=len(covered), total=len(watch.periods)))
latest = covered.iloc[-1] if not covered.empty else None
columns[1].metric(_("Latest WAPE"), fmt.pct(latest["wape"]) if latest is not None else fmt.MISSING,
                  help=_("The last week with actuals; partial when its days or series are not all in."))
columns[2].metric(_("Backtest's band"), monitor.band_range(latest["wape_low"], latest["wape_high"])
                  if latest is not None else fmt.MISSING)
columns[3].metric(_("Alerts"), f"{len(alerts):,}")

for sentence in alerts:
    st.warning(md(sentence), icon=":material/warning:")
for sentence in watch.good_news():
    st.success(md(sentence), icon=":material/check_circle:")
for sentence in watch.coverage_sentences():
    st.info(md(sentence), icon=":material/hourglass_empty:")

if not covered.empty:
    st.plotly_chart(monitor_charts.wape_chart(watch), key="watch_wape_chart")
    st.plotly_chart(monitor_charts.bias_chart(watch), key="watch_bias_chart")

st.subheader(_("Week by week") if watch.freq.value != "M" else _("Month by month"))
STATUS = {"complete": _("complete"), "partial": _("partial"), "waiting": _("no actuals yet")}
rows = []
for row in watch.periods.itertuples():
    waiting = row.status == monitor.WAITING
    alert = [name for name, flag in (("WAPE", row.wape_alert), (_("bias"), row.bias_alert)) if flag]
    of = _("{n:,} of {total:,}")
    record = {
        _("Days with actuals") if watch.freq.value == "D" else _("With actuals"):
            of.format(n=row.dates, total=row.dates_forecast),
        _("Series with actuals"): of.format(n=row.series, total=row.series_forecast),
        "WAPE": fmt.pct(row.wape) if not waiting else "",
        _("Backtest's band"): monitor.band_range(row.wape_low, row.wape_high) if not waiting else "",
        _("Bias"): fmt.pct(row.bias, signed=True) if not waiting else "",
        _("MAE (units)"): fmt.number(row.mae, 2) if not waiting else "",
        _("Sold (units)"): fmt.count(row.actual_units) if not waiting else "",
    }
    if monitor.PROFIT_PER_STORE_DAY in watch.periods:
        value = getattr(row, monitor.PROFIT_PER_STORE_DAY)
        record[_("Profit per store-day")] = "" if fmt.missing(value) else fmt.yen(value)
    # Status and alerts first after the period: on a narrow screen the measures scroll, not the verdict.
    rows.append({_("Period"): watch.period_label(row.period_start), _("Status"): STATUS[row.status],
                 _("Alert"): _(", ").join(alert), **record})
table(pd.DataFrame(rows))
st.caption(md(watch.band_sentence))

money = watch.money_sentences()
if money:
    st.subheader(_("Money realised so far"))
    if stores:
        st.caption(_("Of the pilot's treated stores {stores}: in the pilot only they order from this batch.").format(
            stores=md(", ".join(pilot.stores))))
    for sentence in money:
        st.markdown(md(sentence))

with st.expander(_("Query the watch as a table"), icon=":material/database:"):
    st.markdown(_("Every recompute replaces this batch's rows of the table `forecast_monitoring` (one row per batch, "
                  "week and measure: {measures}). Every alert:").format(
        measures=", ".join(f"`{m}`" for m in monitor.MEASURES)))
    st.code(monitor.EXAMPLE_QUERY, language="sql")
    st.markdown(_("One row per batch and week:"))
    st.code(monitor.WEEKS_QUERY, language="sql")
if watch.computed_at is not None:
    computed = pd.Timestamp(watch.computed_at)
    st.caption(_("Measured and stored {day} {time}.").format(day=fmt.date(computed), time=f"{computed:%H:%M}"))
