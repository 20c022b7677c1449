"""Data and current state: a dataset's profile and quality, an explorer, and how
ordering is done today."""

from __future__ import annotations

import streamlit as st

from core import fmt
from core.columns import DATE, SERIES_ID, TARGET, Freq
from core.data import charts as data_charts
from core.errors import MitoshiError
from core.text import md
from ui import queries
from ui.navigation import stay_in_app
from ui.state import dataset_picker, get_warehouse, show_error, table

stay_in_app()

st.title("Data and current state")
st.caption("現状調査 — before any model, look at the data and at how ordering is done today.")

warehouse = get_warehouse()
dataset = dataset_picker(warehouse)
if dataset is None:
    st.stop()
st.caption(f"**{dataset.freq.label.capitalize()}, {dataset.start_date:%Y-%m-%d} → {dataset.end_date:%Y-%m-%d}** · "
           f"{md(dataset.spec.source)} · stored {dataset.created_at:%Y-%m-%d %H:%M}")
if dataset.spec.description:
    with st.expander("About this dataset"):
        st.markdown(md(dataset.spec.description))

try:
    facts = queries.profile(dataset.dataset_id)
except MitoshiError as error:
    show_error(error)
    st.stop()

cols = st.columns(4)
cols[0].metric("Series", fmt.count(dataset.n_series))
cols[1].metric("Rows", fmt.count(dataset.n_rows))
cols[2].metric("Zero sales", fmt.pct(facts["zero_share"]), help="Share of series-periods with no sales.")
cols[3].metric(
    "Stockout share",
    fmt.pct(facts["stockout_share"]) if facts["has_stockouts"] else "not recorded",
    help="Share of series-periods where the shelf ran empty, so sales understate demand.",
)

with st.expander("Data quality", expanded=False):
    left, right = st.columns(2)
    left.markdown(
        f"- Missing periods inside series: **{fmt.count(facts['missing_periods'])}**\n"
        f"- Series starting late (new items): **{fmt.count(facts['late_start'])}**\n"
        f"- Series ending early (discontinued): **{fmt.count(facts['early_end'])}**\n"
        f"- Shortest series: **{fmt.count(facts['shortest'])}** periods (median "
        f"{fmt.count(facts['median_length'])})\n"
        f"- Empty targets: **{fmt.count(facts['missing_target'])}**"
    )
    with right:
        table(queries.missing_values(dataset.dataset_id))
    if dataset.notes:
        st.markdown("**Notes stored with the dataset** (repairs chosen at import, how it was made)")
        st.markdown("\n".join(f"- {md(note)}" for note in dataset.notes))

# ---- scope ------------------------------------------------------------------------
segments = list(dataset.segment_columns)
with st.container(border=True):
    filter_cols = st.columns(len(segments) + 1)
    filters = []
    for column, slot in zip(segments, filter_cols, strict=False):
        chosen = slot.multiselect(md(dataset.label(column)), queries.segment_values(dataset.dataset_id, column),
                                  key=f"filter_{dataset.dataset_id}_{column}", placeholder="all")
        if chosen:
            filters.append((column, tuple(chosen)))
    filters = tuple(filters)
    by = filter_cols[-1].selectbox(
        "Split by", [None, *segments], format_func=lambda c: "chain total" if c is None else dataset.label(c),
        key=f"by_{dataset.dataset_id}",
    )

unit = dataset.label(TARGET)  # what the target measures, in the user's own words
grains = [g for g in Freq if list(Freq).index(g) >= list(Freq).index(dataset.freq)]

tab_time, tab_season, tab_promo, tab_practice, tab_series, tab_rows = st.tabs(
    ["Over time", "Seasonality", "Promotions", "Today's ordering", "One series", "Rows and masters"]
)

with tab_time:
    grain = st.segmented_control(
        "Period", grains, default=grains[min(1, len(grains) - 1)], format_func=lambda g: g.label,
        key=f"grain_{dataset.dataset_id}",
    ) or grains[0]
    totals = queries.totals_over_time(dataset.dataset_id, filters, by, grain)
    if totals.empty:
        st.info("No rows match these filters. Clear a filter to see data.")
    else:
        st.plotly_chart(data_charts.totals_over_time(totals, unit, grain.label), width="stretch")
        if by:
            st.caption("The largest groups are shown; the rest are summed into *Other*.")

with tab_season:
    parts = (["isodow"] if dataset.freq is Freq.DAILY else []) + (["month"] if dataset.freq is not Freq.WEEKLY else [])
    if not parts:
        parts = ["month"]
    season_cols = st.columns(len(parts))
    for part, slot in zip(parts, season_cols, strict=True):
        frame = queries.seasonal_profile(dataset.dataset_id, filters, by, part)
        if not frame.empty:
            slot.plotly_chart(data_charts.seasonal_profile(frame, part, unit), width="stretch")
    st.caption(f"Each line is an index of the average {md(unit)} per series and period: 100 is that group's own "
               "average, so groups of different size can be compared.")

with tab_promo:
    flags = [*dataset.spec.exog_known, *dataset.spec.exog_unknown]
    if not flags:
        st.info("This dataset has no promotion, price or other exogenous column. Map one at import to see "
                "its effect here.")
    else:
        default = next((i for i, f in enumerate(flags) if "promo" in f.lower()), 0)
        flag = st.selectbox("Column", flags, index=default, format_func=dataset.label, key=f"flag_{dataset.dataset_id}")
        effect = queries.flag_effect(dataset.dataset_id, filters, by, flag)
        if effect.empty:
            st.info(f"'{md(dataset.label(flag))}' is never both on and off within a series in this scope, so its "
                    "effect cannot be measured here.")
        else:
            st.plotly_chart(data_charts.flag_effect(effect, dataset.label(flag), unit), width="stretch")
            st.caption("Uplift compares each series with itself: its average sales when the column is above 0 "
                       "against when it is 0. Prices fall during promotions, so this mixes both effects.")

with tab_practice:
    if not dataset.spec.orders:
        st.info("This dataset has no column with today's orders, so today's ordering practice cannot be shown. "
                "Map an 'orders' column at import to compare models with current practice later.")
    else:
        summary = queries.practice_summary(dataset.dataset_id, filters, by)
        ordered, sold, left = summary["ordered"].sum(), summary["sold"].sum(), summary["left_over"].sum()
        m = st.columns(4)
        m[0].metric("Units ordered", fmt.count(ordered))
        m[1].metric("Units sold", fmt.count(sold))
        m[2].metric("Not sold on the day", fmt.pct(left / ordered if ordered else None),
                    help="Units ordered for a day but not sold that day, as a share of units ordered. For 1-day "
                         "perishables this is waste; other goods stay on the shelf (the Money impact page counts "
                         "what is really thrown away).")
        m[3].metric("Stockout share", fmt.pct(facts["stockout_share"]) if facts["has_stockouts"] else "–")
        grain = Freq.WEEKLY if dataset.freq is Freq.DAILY else dataset.freq
        practice = queries.totals_over_time(dataset.dataset_id, filters, None, grain)
        st.plotly_chart(data_charts.practice_over_time(practice, unit, grain.label), width="stretch")
        table(
            summary.rename(columns={"grp": dataset.label(by) if by else "scope", "left_over": "left over",
                                    "stockout_share": "stockout share"}),
            column_config={"stockout share": st.column_config.NumberColumn(format="percent")},
        )
        if facts["has_stockouts"]:
            st.warning(
                f"On {fmt.pct(facts['stockout_share'])} of series-days the shelf ran empty: sales on those days "
                "are lower than demand. Models trained on them learn the censored figure, and money impact "
                "must count those lost sales.", icon=":material/trending_down:",
            )

with tab_series:
    series_ids = queries.series_list(dataset.dataset_id, filters)
    if not series_ids:
        st.info("No series match these filters.")
    else:
        names = queries.series_names(dataset.dataset_id)
        sid = st.selectbox(f"Series ({len(series_ids):,} in scope, largest first)", series_ids,
                           format_func=lambda s: names.get(s, s), key=f"series_{dataset.dataset_id}")
        frame = queries.series_frame(dataset.dataset_id, sid)
        promo = next((c for c in dataset.spec.exog_known if "promo" in c.lower()), None)
        st.plotly_chart(
            data_charts.series_detail(frame, names.get(sid, sid), unit, dataset.spec.orders, dataset.spec.stockout, promo,
                                      window={Freq.DAILY: 91, Freq.WEEKLY: 104, Freq.MONTHLY: 120}[dataset.freq]),
            width="stretch",
        )

with tab_rows:
    st.markdown(f"First rows as stored (`{SERIES_ID}` joins the series key; `{DATE}` is the date, "
                f"`{TARGET}` the target):")
    table(queries.sample_rows(dataset.dataset_id))
    for kind, title in (("items", "Item master"), ("stores", "Store master")):
        master = queries.side_table(dataset.dataset_id, kind) if kind in dataset.side_tables else None
        if master is not None:
            st.markdown(f"**{title}** ({len(master):,} rows)")
            table(master)
