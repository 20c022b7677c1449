"""Hand-off to production: publish the chosen model's forecasts as a versioned batch table."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from core import fmt
from core.backtest import store as runs
from core.columns import Freq
from core.decision import store as decisions
from core.errors import MitoshiError
from core.handoff import charts as handoff_charts
from core.handoff import store as handoff_store
from core.handoff.batch import PublishOptions, for_csv, unpublishable_reason
from core.handoff.job import PUBLISH, publish_params
from core.handoff.job import job_title as publish_title
from core.i18n import M_, N_, _, pgettext, render
from core.jobs import Job
from core.money.impact import Economics, joined, rule_words
from core.text import md
from ui import jobs, queries
from ui.backtest import config_summary, leaderboard
from ui.handoff import batch_rule, current_rule, decision_note, ordering_rule_choice, orders_label
from ui.money import handoff_economics
from ui.navigation import stay_in_app
from ui.state import csv_download, get_warehouse, show_error, table

stay_in_app()

def markdown_table(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> str:
    """A Markdown table: unlike a data grid, its long cells wrap and are read in full. A row is
    a name and types (shown as code) and a meaning (a catalog msgid, said in the reader's
    language)."""
    lines = [" | ".join(header), " | ".join("---" for _cell in header)]
    lines += [" | ".join([f"`{name}`", *(f"`{cell}`" for cell in middle), _(meaning).replace("|", "\\|")])
              for name, *middle, meaning in rows]
    return "\n".join(lines)


# History shown before the forecast: three months of days, a year of weeks, two of months.
HISTORY_TAIL = {Freq.DAILY: 91, Freq.WEEKLY: 52, Freq.MONTHLY: 24}

# What the order-level radio offers (the session keeps these English values; people read their translation).
PER_ITEM, ONE_LEVEL = N_("profit-optimal per item"), N_("one level for all")

st.title(_("Hand-off to production"))
st.caption(_("The first production form of a forecast is a batch job writing a carefully designed table. Fit the "
             "chosen model on every date up to the last one, forecast the next periods and publish them as a new "
             "version of the dataset's batch forecasts; older versions are kept."))

warehouse = get_warehouse()
all_runs = runs.list_runs(warehouse)
if not all_runs:
    st.info(_("No backtest run yet: the model to publish is chosen by a backtest. Run one on the **Backtest** page."))
    st.page_link("pages/backtest.py", label=_("Go to Backtest"), icon=":material/science:")
    st.stop()

run_labels = {r.run_id: f"{r.name} · {r.dataset_name} · {r.created_at:%Y-%m-%d %H:%M}" for r in all_runs}
run_id = st.selectbox(_("Backtest run (newest first)"), list(run_labels), format_func=run_labels.get,
                      key="handoff_run")
info = next(r for r in all_runs if r.run_id == run_id)
st.caption(_("{n:,} series · {summary}").format(n=info.n_series, summary=md(config_summary(info))))

board = leaderboard(run_id)
publishable = board[[unpublishable_reason(m) is None for m in board["model"]]].reset_index(drop=True)
wape = dict(zip(publishable["model"], publishable["wape"], strict=True))
# The GO/NO-GO decision taken on this run, if any, names the model to hand off.
taken = next((d for d in decisions.list_decisions(warehouse) if d.run_id == run_id), None)
decision = decisions.get_decision(warehouse, taken.decision_id) if taken else None
banner = st.empty()  # filled once the model to publish is chosen
models = publishable["model"].tolist()
left, middle, right = st.columns(3)


def _model_option(alias: str) -> str:
    if alias == publishable["model"].iloc[0]:
        return _("{model} · WAPE {wape} · best").format(model=fmt.model_name(alias), wape=fmt.pct(wape[alias]))
    return f"{fmt.model_name(alias)} · WAPE {fmt.pct(wape[alias])}"


alias = left.selectbox(
    _("Model (best WAPE first)"), models, key=f"handoff_model_{run_id}",
    index=models.index(decision.model) if decision is not None and decision.model in models else 0,
    format_func=_model_option,
)
if decision is not None:
    note = decision_note(decision, alias, unpublishable_reason(decision.model) is None)
    if decision.verdict == "NO-GO" and alias == decision.model:
        note = render(joined([note, M_("A NO-GO model can still be published, for a test, but not for the stores.")]))
    (banner.warning if decision.verdict == "NO-GO" else banner.info)(note, icon=":material/gavel:")
horizon = middle.number_input(_("Horizon ({freq} periods)").format(freq=info.freq.text), 1, 400,
                              info.config.split.horizon, key=f"handoff_horizon_{run_id}")
with right:
    with_orders = st.toggle(orders_label(current_rule(decision, info)), key="handoff_orders",
                            help=_("Safety stock = z × the series' RMSE of this model in the backtest, z from the "
                                   "service level (normal errors); or, with the quantile rule below, the model's own "
                                   "quantile from its errors in all the run's folds."))
    optimal = st.radio(_("Service level"), [PER_ITEM, ONE_LEVEL], horizontal=True, format_func=_,
                       key="handoff_level_mode", disabled=not with_orders, label_visibility="collapsed",
                       help=_("Profit-optimal: each item at the service level that earned it the most in the money "
                              "impact's simulation of this run, from the project's prices, costs and shelf life.")) \
        == PER_ITEM
    level = st.slider(_("Service level (%)"), 50.0, 99.9, 95.0, 0.1, format="%.1f", key="handoff_level",
                      disabled=not with_orders or optimal,
                      help=_("The share of periods in which the order should cover demand. Under the quantile rule "
                             "a level needs enough backtest errors: n errors (pooled over every series) support "
                             "levels up to n/(n+1) — 99 for 99 %, 199 for 99.5 %, 999 for 99.9 %; a higher level "
                             "leaves the order quantities empty, and the normal rule has no such limit."))
    rule = ordering_rule_choice(decision, info, disabled=not with_orders)
economics = None
if with_orders and optimal:
    # Each item's level is chosen by the money impact's shelf simulation, which prices items from the dataset
    # or from the project's averages: the same section as on the Money page, saved with the project.
    economics = handoff_economics("handoff", info)
for refused in board["model"]:
    reason = unpublishable_reason(refused)
    if reason:
        st.caption(":material/info: " + _("Not offered for publishing: {reason}").format(reason=md(render(reason))))

if st.button(_("Publish"), type="primary", icon=":material/publish:", disabled=alias is None):
    try:
        options = PublishOptions.from_run(info, alias, int(horizon),
                                          level / 100 if with_orders and not optimal else None,
                                          profit_optimal=with_orders and optimal,
                                          economics=economics or Economics(), ordering_rule=rule)
        # The fitting runs as a job in a worker process: a reload or a closed tab does not stop it.
        job_id = jobs.get_runner().submit(PUBLISH.name, publish_params(
            run_id, options, decision.decision_id if decision is not None and decision.model == alias else None),
            publish_title(info.dataset_name, options))
        jobs.watch(PUBLISH.name, job_id)
    except MitoshiError as error:
        show_error(error)


def show_version(job: Job) -> None:
    """Show what was just published (by this session, or found publishing after a reload)."""
    dataset_id, version = job.result.rsplit("/", 1)
    if jobs.started_here(PUBLISH.name, job) or f"handoff_version_{dataset_id}" not in st.session_state:
        st.session_state[f"handoff_version_{dataset_id}"] = int(version)


def published_text(job: Job) -> str:
    version = job.result.rsplit("/", 1)[1]
    options = job.params["options"]
    text = _("Published version {version} of {dataset}: {what}").format(
        version=version, dataset=md(info.dataset_name), what=md(render(job.message)))
    if options["service_level"] is not None or options["profit_optimal"]:
        text = _("{published}, ordering up to {rule}").format(published=text,
                                                              rule=md(rule_words(options["ordering_rule"])))
    return text


jobs.live_jobs(PUBLISH.name, on_done=show_version)
jobs.outcome(PUBLISH.name, published_text)

st.subheader(_("Published versions"))
batches = handoff_store.list_batches(warehouse, info.dataset_id) if info.dataset_id else pd.DataFrame()
if batches.empty:
    st.info(_("Nothing has been published for {dataset} yet: choose the model and **Publish**.").format(
        dataset=md(info.dataset_name)))
else:
    deleted = batches["run_id"].map(lambda r: _("{run} (deleted)").format(run=r))
    overview = batches.assign(run=batches["run_name"].fillna(deleted),
                              model=batches["model"].map(fmt.model_name),
                              ordering=batches["model_params"].map(batch_rule))
    # A table for people: headers in the reader's language, in the data itself.
    headers = {"version": _("version"), "model": _("model"), "run": _("run"), "created_at": _("created"),
               "n_series": _("series"), "first_date": _("first date"), "last_date": _("last date"),
               "horizon": _("horizon"), "service_level": _("service level"), "ordering": _("order quantity up to"),
               "trained_until": _("trained until")}
    table(overview[list(headers)].rename(columns=headers),
          column_config={headers["version"]: st.column_config.NumberColumn(format="%d"),
                         headers["created_at"]: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
                         headers["n_series"]: st.column_config.NumberColumn(format="localized"),
                         headers["first_date"]: st.column_config.DateColumn(format="YYYY-MM-DD"),
                         headers["last_date"]: st.column_config.DateColumn(format="YYYY-MM-DD"),
                         headers["horizon"]: st.column_config.NumberColumn(format="localized"),
                         headers["trained_until"]: st.column_config.DateColumn(format="YYYY-MM-DD"),
                         headers["service_level"]: st.column_config.NumberColumn(format="percent")})
    versions = batches.set_index("version")
    version = st.selectbox(_("Version"), versions.index.tolist(), key=f"handoff_version_{info.dataset_id}",
                           format_func=lambda v: f"v{v} · {fmt.model_name(versions.loc[v, 'model'])} · "
                                                 f"{versions.loc[v, 'created_at']:%Y-%m-%d %H:%M}")
    chosen = versions.loc[version]
    # Data ending yesterday is as fresh as data gets: a batch that starts today is current, one that
    # starts before today has days the stores can no longer order for.
    if pd.Timestamp(chosen["first_date"]) < pd.Timestamp.today().normalize():
        st.warning(_("Version {version} forecasts from {first}, which is in the past: the data ends on {last}. Load "
                     "the latest sales and publish again before the stores order from it.").format(
                         version=version, first=fmt.date(chosen["first_date"]), last=fmt.date(chosen["trained_until"])),
                   icon=":material/event_busy:")
    for note in chosen["notes"]:  # facts, or plain English text for a batch published before they were
        st.caption(f":material/info: {md(render(note))}")

    rows = handoff_store.batch_forecasts(warehouse, info.dataset_id, version)
    names = queries.series_names(info.dataset_id)
    series_ids = rows["unique_id"].drop_duplicates().tolist()
    series_id = st.selectbox(_("Series ({n:,})").format(n=len(series_ids)), series_ids,
                             format_func=lambda s: names.get(s, s), key=f"handoff_series_{info.dataset_id}")
    history = queries.series_frame(info.dataset_id, series_id).tail(HISTORY_TAIL[info.freq])
    title = _("{series} · published forecast v{version} ({model})").format(
        series=names.get(series_id, series_id), version=version, model=fmt.model_name(chosen["model"]))
    st.plotly_chart(handoff_charts.published_forecast(history, rows[rows["unique_id"] == series_id], title,
                                                      pgettext("axis", "units")), width="stretch",
                    key="handoff_chart")

    export = handoff_store.batch_export(warehouse, info.dataset_id, version)
    if len(export) > 200:
        st.markdown(_("**Rows of version {version}** — {n} rows, the first 200 shown").format(
            version=version, n=fmt.count(len(export))))
    else:
        st.markdown(_("**Rows of version {version}** — {n} rows").format(version=version, n=fmt.count(len(export))))
    # Names and headers for people here (the key columns are the data's own); the CSV and the warehouse keep the
    # model's alias and the machine column names, which a downstream system reads.
    shown = export.head(200)
    if "model" in shown.columns:
        shown = shown.assign(model=shown["model"].map(fmt.model_name))
    headers = {"date": _("date"), "forecast": _("forecast"), "order_quantity": _("order quantity"),
               "model": _("model"), "run_id": _("run id"), "version": _("version"), "created_at": _("published at")}
    table(shown.rename(columns=headers), column_config={
        headers["date"]: st.column_config.DateColumn(format="YYYY-MM-DD"),
        headers["created_at"]: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        headers["forecast"]: st.column_config.NumberColumn(format="%.2f"),
        headers["order_quantity"]: st.column_config.NumberColumn(format="%.2f"),
        headers["version"]: st.column_config.NumberColumn(format="%d")})
    slug = re.sub(r"\W+", "_", str(chosen["dataset_name"])).strip("_")
    csv_download(for_csv(export), _("Download version {version} as CSV").format(version=version),
                 f"batch_forecasts_{slug}_v{version}.csv", key="handoff_download")

with st.expander(_("The batch forecast table: what each column means, and how to read it")):
    st.markdown(_("`batch_forecasts` holds one row per series, date and version; the view `latest_batch_forecasts` "
                  "holds the rows of each dataset's newest version, with `dataset_name` and `key_names`."))
    st.markdown(markdown_table((_("column"), _("type"), _("meaning")), handoff_store.BATCH_TABLE_DOC))
    st.markdown(_("`forecast_batches` holds one row per published version:"))
    st.markdown(markdown_table((_("columns"), _("type"), _("meaning")), handoff_store.BATCHES_TABLE_DOC))
    st.markdown(_("What a downstream ordering system runs against the warehouse:"))
    st.code(handoff_store.EXAMPLE_QUERY, language="sql")

jobs.history(PUBLISH.name, _("Publish jobs of this warehouse"), _("Nothing has been published as a job yet."))
