"""Data and current state: a dataset's profile and quality, an explorer, and how
ordering is done today."""

from __future__ import annotations

import streamlit as st

from core import fmt
from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.data import charts as data_charts
from core.data.explore import group_name
from core.data.labels import column_label
from core.errors import MitoshiError
from core.i18n import _, pgettext, render
from core.text import md
from ui import queries
from ui.navigation import stay_in_app
from ui.state import dataset_picker, get_warehouse, show_error, table

stay_in_app()

st.title(_("Data and current state"))
st.caption(_("現状調査 — before any model, look at the data and at how ordering is done today."))

warehouse = get_warehouse()
dataset = dataset_picker(warehouse)
if dataset is None:
    st.stop()
# The source, description and notes are stored as facts (messages) by the import and the demo
# generator, or as plain text by an older warehouse: render() words them in the reader's language.
st.caption(_("**{freq}, {start} → {end}** · {source} · stored {stored}").format(
    freq=dataset.freq.text.capitalize(), start=fmt.date(dataset.start_date), end=fmt.date(dataset.end_date),
    source=md(render(dataset.spec.source)), stored=f"{dataset.created_at:%Y-%m-%d %H:%M}"))
if render(dataset.spec.description):
    with st.expander(_("About this dataset")):
        st.markdown(md(render(dataset.spec.description)))

try:
    facts = queries.profile(dataset.dataset_id)
except MitoshiError as error:
    show_error(error)
    st.stop()

cols = st.columns(4)
cols[0].metric(_("Series"), fmt.count(dataset.n_series))
cols[1].metric(_("Rows"), fmt.count(dataset.n_rows))
cols[2].metric(_("Zero sales"), fmt.pct(facts["zero_share"]), help=_("Share of series-periods with no sales."))
cols[3].metric(
    _("Stockout share"),
    fmt.pct(facts["stockout_share"]) if facts["has_stockouts"] else _("not recorded"),
    help=_("Share of series-periods where the shelf ran empty, so sales understate demand."),
)

with st.expander(_("Data quality"), expanded=False):
    left, right = st.columns(2)
    left.markdown("\n".join("- " + line for line in (
        _("Missing periods inside series: **{n}**").format(n=fmt.count(facts["missing_periods"])),
        _("Series starting late (new items): **{n}**").format(n=fmt.count(facts["late_start"])),
        _("Series ending early (discontinued): **{n}**").format(n=fmt.count(facts["early_end"])),
        _("Shortest series: **{n}** periods (median {median})").format(
            n=fmt.count(facts["shortest"]), median=fmt.count(facts["median_length"])),
        _("Empty targets: **{n}**").format(n=fmt.count(facts["missing_target"])),
    )))
    with right:
        missing = queries.missing_values(dataset.dataset_id)
        table(missing.assign(column=[column_label(dataset, c) for c in missing["column"]])
              .rename(columns={"column": _("Column"), "missing": _("Empty cells")}))
    if dataset.notes:
        st.markdown(_("**Notes stored with the dataset** (repairs chosen at import, how it was made)"))
        st.markdown("\n".join(f"- {md(render(note))}" for note in dataset.notes))

# ---- scope ------------------------------------------------------------------------
segments = list(dataset.segment_columns)
with st.container(border=True):
    filter_cols = st.columns(len(segments) + 1)
    filters = []
    for column, slot in zip(segments, filter_cols, strict=False):
        chosen = slot.multiselect(md(column_label(dataset, column)), queries.segment_values(dataset.dataset_id, column),
                                  key=f"filter_{dataset.dataset_id}_{column}", placeholder=_("all"))
        if chosen:
            filters.append((column, tuple(chosen)))
    filters = tuple(filters)
    # Option labels translated now, in the run's language (a format_func may be called outside the run).
    splits = {None: _("chain total"), **{c: column_label(dataset, c) for c in segments}}
    by = filter_cols[-1].selectbox(_("Split by"), list(splits), format_func=splits.get, key=f"by_{dataset.dataset_id}")

unit = column_label(dataset, TARGET)  # what the target measures, in the user's own words
grains = [g for g in Freq if list(Freq).index(g) >= list(Freq).index(dataset.freq)]

tab_time, tab_season, tab_promo, tab_practice, tab_series, tab_rows = st.tabs(
    [_("Over time"), _("Seasonality"), _("Promotions"), _("Today's ordering"), pgettext("tab", "One series"),
     _("Rows and masters")]
)

with tab_time:
    grain = st.segmented_control(
        _("Period"), grains, default=grains[min(1, len(grains) - 1)], format_func={g: g.text for g in grains}.get,
        key=f"grain_{dataset.dataset_id}",
    ) or grains[0]
    totals = queries.totals_over_time(dataset.dataset_id, filters, by, grain)
    if totals.empty:
        st.info(_("No rows match these filters. Clear a filter to see data."))
    else:
        st.plotly_chart(data_charts.totals_over_time(totals, unit, grain.text), width="stretch")
        if by:
            st.caption(_("The largest groups are shown; the rest are summed into *Other*."))

with tab_season:
    parts = (["isodow"] if dataset.freq == Freq.DAILY else []) + (["month"] if dataset.freq != Freq.WEEKLY else [])
    if not parts:
        parts = ["month"]
    season_cols = st.columns(len(parts))
    for part, slot in zip(parts, season_cols, strict=True):
        frame = queries.seasonal_profile(dataset.dataset_id, filters, by, part)
        if not frame.empty:
            slot.plotly_chart(data_charts.seasonal_profile(frame, part, unit), width="stretch")
    st.caption(_("Each line is an index of the average {unit} per series and period: 100 is that group's own "
                 "average, so groups of different size can be compared.").format(unit=md(unit)))

with tab_promo:
    flags = [*dataset.spec.exog_known, *dataset.spec.exog_unknown]
    if not flags:
        st.info(_("This dataset has no promotion, price or other exogenous column. Map one at import to see "
                  "its effect here."))
    else:
        default = next((i for i, f in enumerate(flags) if "promo" in f.lower()), 0)
        flag = st.selectbox(_("Column"), flags, index=default, format_func={c: column_label(dataset, c) for c in flags}.get,
                            key=f"flag_{dataset.dataset_id}")
        effect = queries.flag_effect(dataset.dataset_id, filters, by, flag)
        if effect.empty:
            st.info(_("'{column}' is never both on and off within a series in this scope, so its effect cannot be "
                      "measured here.").format(column=md(column_label(dataset, flag))))
        else:
            st.plotly_chart(data_charts.flag_effect(effect, column_label(dataset, flag), unit), width="stretch")
            st.caption(_("Uplift compares each series with itself: its average sales when the column is above 0 "
                         "against when it is 0. Prices fall during promotions, so this mixes both effects."))

with tab_practice:
    if not dataset.spec.orders:
        st.info(_("This dataset has no column with today's orders, so today's ordering practice cannot be shown. "
                  "Map an 'orders' column at import to compare models with current practice later."))
    else:
        summary = queries.practice_summary(dataset.dataset_id, filters, by)
        ordered, sold, left = summary["ordered"].sum(), summary["sold"].sum(), summary["left_over"].sum()
        m = st.columns(4)
        m[0].metric(_("Units ordered"), fmt.count(ordered))
        m[1].metric(_("Units sold"), fmt.count(sold))
        m[2].metric(_("Not sold on the day"), fmt.pct(left / ordered if ordered else None),
                    help=_("Units ordered for a day but not sold that day, as a share of units ordered. For 1-day "
                           "perishables this is waste; other goods stay on the shelf (the Money impact page counts "
                           "what is really thrown away)."))
        m[3].metric(_("Stockout share"), fmt.pct(facts["stockout_share"]) if facts["has_stockouts"] else "–")
        grain = Freq.WEEKLY if dataset.freq == Freq.DAILY else dataset.freq
        practice = queries.totals_over_time(dataset.dataset_id, filters, None, grain)
        st.plotly_chart(data_charts.practice_over_time(practice, unit, grain.text), width="stretch")
        share = _("Stockout share")
        table(
            summary.assign(grp=summary["grp"].map(group_name)).rename(columns={
                "grp": column_label(dataset, by) if by else _("Scope"), "ordered": _("Ordered"), "sold": _("Sold"),
                "left_over": _("Left over"), "stockout_share": share}),
            column_config={share: st.column_config.NumberColumn(format="percent")},
        )
        if facts["has_stockouts"]:
            st.warning(
                _("On {share} of series-days the shelf ran empty: sales on those days are lower than demand. Models "
                  "trained on them learn the censored figure, and money impact must count those lost sales.").format(
                    share=fmt.pct(facts["stockout_share"])), icon=":material/trending_down:",
            )

with tab_series:
    series_ids = queries.series_list(dataset.dataset_id, filters)
    if not series_ids:
        st.info(_("No series match these filters."))
    else:
        names = queries.series_names(dataset.dataset_id)
        sid = st.selectbox(_("Series ({n:,} in scope, largest first)").format(n=len(series_ids)), series_ids,
                           format_func=lambda s: names.get(s, s), key=f"series_{dataset.dataset_id}")
        frame = queries.series_frame(dataset.dataset_id, sid)
        promo = next((c for c in dataset.spec.exog_known if "promo" in c.lower()), None)
        st.plotly_chart(
            data_charts.series_detail(frame, names.get(sid, sid), unit, dataset.spec.orders, dataset.spec.stockout, promo,
                                      window={Freq.DAILY: 91, Freq.WEEKLY: 104, Freq.MONTHLY: 120}[dataset.freq]),
            width="stretch",
        )

with tab_rows:
    st.markdown(_("First rows as stored (`{series_id}` joins the series key; `{date}` is the date, `{target}` the "
                  "target):").format(series_id=SERIES_ID, date=DATE, target=TARGET))
    table(queries.sample_rows(dataset.dataset_id))
    for kind, title in (("items", _("Item master")), ("stores", _("Store master"))):
        master = queries.side_table(dataset.dataset_id, kind) if kind in dataset.side_tables else None
        if master is not None:
            st.markdown(_("**{title}** ({n:,} rows)").format(title=title, n=len(master)))
            table(master)
