"""Plotly charts of a pilot design, drawn from the stored ``PilotDesign`` alone (so a page
shows a stored design as it was made). Built on ``core.plotting``."""

from __future__ import annotations

import plotly.graph_objects as go

from core import fmt
from core.pilot.design import MAX_WEEKS, PilotDesign
from core.plotting import PALETTE, base_layout, yen_axis
from core.text import chart_label

TREATED, CONTROL, TARGET_LINE = PALETTE[1], PALETTE[0], PALETTE[3]


def mde_chart(design: PilotDesign) -> go.Figure:
    """The smallest yearly effect the pilot can detect (yen a year for the chain) against its
    length in weeks, the smallest effect worth detecting as a horizontal line and the
    chosen length marked. Lengths whose variance was extrapolated (too long for the
    history's placebo pilots) are drawn hollow."""
    table = design.mde_table()
    target = design.smallest_effect_yearly
    level = f"{fmt.pct(design.power, 0)} power, {fmt.pct(design.alpha, 0)} significance"
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=table["weeks"], y=table["mde_yearly"], mode="lines+markers", name="Smallest detectable effect",
        line={"color": PALETTE[0]},
        marker={"symbol": ["circle-open" if e else "circle" for e in table["extrapolated"]], "size": 7},
        customdata=[[fmt.yen_short(v), fmt.yen(d), " (extrapolated)" if e else ""] for v, d, e in
                    zip(table["mde_yearly"], table["mde_store_day"], table["extrapolated"], strict=True)],
        hovertemplate=("%{x} weeks: detects %{customdata[0]} a year or more%{customdata[2]}<br>"
                       "(%{customdata[1]} per treated store and day)<extra></extra>")))
    fig.add_trace(go.Scatter(
        x=[1, MAX_WEEKS], y=[target, target], mode="lines", name="Smallest effect worth detecting",
        line={"color": TARGET_LINE, "dash": "dash"},
        hovertemplate=f"Worth detecting: {fmt.yen_short(target)} a year<extra></extra>"))
    chosen = design.point(design.weeks)
    fig.add_trace(go.Scatter(
        x=[design.weeks], y=[chosen.mde_yearly], mode="markers+text", name=f"Chosen: {design.weeks} weeks",
        marker={"color": PALETTE[2] if design.meets_target else TARGET_LINE, "size": 14, "symbol": "star"},
        text=[f"{design.weeks} weeks"], textposition="top right", cliponaxis=False,
        hovertemplate=(f"Chosen: {design.weeks} weeks, detects {fmt.yen_short(chosen.mde_yearly)} a year or more"
                       "<extra></extra>")))
    k = len(design.pairs)
    fig = base_layout(fig, f"Smallest yearly effect the pilot detects ({k} treated, {k} control stores, {level})",
                      "Pilot length (weeks)", "¥ a year for the chain", height=400)
    fig.update_xaxes(tickmode="linear", tick0=0, dtick=2 if MAX_WEEKS > 13 else 1, range=[0.5, MAX_WEEKS + 0.5])
    fig.update_yaxes(**yen_axis([*table["mde_yearly"], target], pad=0.05))
    fig.update_layout(hovermode="closest")
    return fig


def balance_chart(design: PilotDesign) -> go.Figure:
    """Treated against control sales a day over the pre-period, pair by pair (yen, or units
    where the data has no prices): bars side by side, one group per pair, labelled with
    both stores."""
    table = design.balance_table()
    yen = design.sales_unit == "yen"
    pairs = [chart_label(f"Pair {p}: {t} / {c}") for p, t, c in
             zip(table["pair"], table["treated_label"], table["control_label"], strict=True)]

    def shown(value: float) -> str:
        return fmt.yen(value) if yen else f"{fmt.number(value)} units"

    fig = go.Figure()
    for side, colour, name in (("treated", TREATED, "Treated (orders from the model)"),
                               ("control", CONTROL, "Control (today's practice)")):
        fig.add_trace(go.Bar(
            x=pairs, y=table[f"{side}_sales"], name=name, marker_color=colour,
            customdata=[[chart_label(label), shown(v), "" if fmt.missing(r) else chart_label(r),
                         "" if fmt.missing(s) else f", size {fmt.trimmed(s, 2)}"]
                        for label, v, r, s in zip(table[f"{side}_label"], table[f"{side}_sales"],
                                                  table[f"{side}_region"], table[f"{side}_size"], strict=True)],
            hovertemplate=f"<b>%{{customdata[0]}}</b> ({side}): %{{customdata[1]}} a day<br>"
                          "%{customdata[2]}%{customdata[3]}<extra></extra>"))
    weeks = design.pre_days // 7
    unit = "¥ of sales a day" if yen else "Units sold a day"
    fig = base_layout(fig, f"Treated and control stores, pair by pair: sales a day over the last {weeks} weeks",
                      "", unit, height=380)
    fig.update_layout(barmode="group", hovermode="closest")
    if yen:
        fig.update_yaxes(**yen_axis([*table["treated_sales"], *table["control_sales"]], pad=0.05))
    fig.update_xaxes(type="category")
    return fig
