"""Plotly charts of a pilot design, drawn from the stored ``PilotDesign`` alone (so a page
shows a stored design as it was made), and of its readout, drawn from the stored
``PilotReadout``. Built on ``core.plotting``."""

from __future__ import annotations

import plotly.graph_objects as go

from core import fmt
from core.pilot.design import MAX_WEEKS, PilotDesign
from core.pilot.evidence import PROFIT, STOCKOUT_DAYS
from core.pilot.readout import MEASURE_NAMES, PilotReadout
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
    pairs = [f"{chart_label(f'Pair {p}')}<br>{chart_label(t)}<br>{chart_label(c)}" for p, t, c in
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
    fig.update_xaxes(type="category", tickangle=0)
    return fig


# ---------------------------------------------------------------------------------
# The readout
# ---------------------------------------------------------------------------------
PROMISE, MEASURED = PALETTE[0], PALETTE[1]


def promise_chart(readout: PilotReadout, offline_yearly: float | None, offline_model: str | None = None) -> go.Figure:
    """The offline promise beside the online measurement of profit, yearly for the chain
    (yen a year): the backtest's money impact as one bar, the pilot's difference-in-
    differences estimate as a bar with its interval (``readout.level``) as an error bar,
    zero drawn. Without an offline figure only the measurement is drawn."""
    estimate = readout.estimate(PROFIT)
    fig = go.Figure()
    values: list[float] = []
    if offline_yearly is not None and not fmt.missing(offline_yearly):
        label = (f"Backtest (offline): {fmt.yen_short(offline_yearly)}"
                 + (f"<br>{chart_label(fmt.model_name(offline_model))}" if offline_model else ""))
        fig.add_trace(go.Bar(
            x=[label], y=[offline_yearly], name="The backtest's promise", marker_color=PROMISE,
            hovertemplate=f"The backtest said {fmt.yen_short(offline_yearly)} a year<extra></extra>"))
        values.append(offline_yearly)
    if estimate is not None:
        level = fmt.pct(readout.level, 0)
        fig.add_trace(go.Bar(
            x=[f"Pilot (online): {fmt.yen_short(estimate.yearly)}<br>{readout.pilot_days} days, {level} interval"],
            y=[estimate.yearly], name="The pilot's measurement", marker_color=MEASURED,
            error_y={"type": "data", "symmetric": False, "array": [estimate.high - estimate.yearly],
                     "arrayminus": [estimate.yearly - estimate.low], "color": "#333", "thickness": 1.5, "width": 12},
            hovertemplate=(f"The pilot measured {fmt.yen_short(estimate.yearly)} a year<br>{level} interval "
                           f"{fmt.yen_short(estimate.low)} to {fmt.yen_short(estimate.high)}<extra></extra>")))
        values += [estimate.low, estimate.high]
    fig = base_layout(fig, f"Profit a year for the chain ({readout.chain_stores} stores): promised and measured",
                      "", "¥ a year", height=380)
    fig.update_yaxes(**yen_axis(values, signed=True, pad=0.08))
    fig.update_layout(showlegend=False, hovermode="closest", bargap=0.5)
    return fig


def store_effects_chart(readout: PilotReadout, measure: str = PROFIT) -> go.Figure:
    """Each treated store's own effect per day (its change less the control stores' mean
    change; yen, or item-days for stockout days) with its interval, beside the pilot's
    overall estimate: one marker and error bar per store, a dashed line at the overall."""
    rows = readout.per_store[readout.per_store["measure"] == measure]
    overall = readout.overall.set_index("measure").loc[measure] if measure in set(readout.overall["measure"]) \
        else None
    days = measure == STOCKOUT_DAYS
    shown = (lambda v: f"{fmt.number(v, 2, signed=True)} item-days") if days else (lambda v: fmt.yen(v, signed=True))
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=rows["store"], y=rows["per_store_day"], mode="markers", name="A treated store's own effect",
        marker={"color": MEASURED, "size": 11},
        error_y={"type": "data", "symmetric": False, "array": rows["high"] - rows["per_store_day"],
                 "arrayminus": rows["per_store_day"] - rows["low"], "color": MEASURED, "thickness": 1.5},
        customdata=[[shown(v), shown(lo), shown(hi)] for v, lo, hi in
                    zip(rows["per_store_day"], rows["low"], rows["high"], strict=True)],
        hovertemplate="<b>%{x}</b>: %{customdata[0]} a day<br>interval %{customdata[1]} to %{customdata[2]}"
                      "<extra></extra>"))
    values = [*rows["low"], *rows["high"]]
    if overall is not None:
        fig.add_hline(y=float(overall["per_store_day"]), line={"color": PROMISE, "dash": "dash"})
        # Named in the legend: a label on the line sat on the first store's error bar.
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line={"color": PROMISE, "dash": "dash"},
                                 name=f"All treated stores: {shown(float(overall['per_store_day']))}"))
        values.append(float(overall["per_store_day"]))
    name = MEASURE_NAMES.get(measure, measure)
    fig = base_layout(fig, f"{name}: each treated store's effect a day, against the control stores", "",
                      "Item-days a day" if days else "¥ a store-day", height=360)
    if not days:
        fig.update_yaxes(**yen_axis(values, signed=True, pad=0.08))
    fig.update_xaxes(type="category")
    fig.update_layout(showlegend=True, hovermode="closest",
                      legend={"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0})
    return fig
