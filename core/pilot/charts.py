"""Plotly charts of a pilot design, drawn from the stored ``PilotDesign`` alone (so a page
shows a stored design as it was made), and of its readout, drawn from the stored
``PilotReadout``. Built on ``core.plotting``."""

from __future__ import annotations

import plotly.graph_objects as go

from core import fmt
from core.i18n import gettext as _
from core.pilot.design import MAX_WEEKS, PilotDesign
from core.pilot.evidence import PROFIT, STOCKOUT_DAYS, measure_label
from core.pilot.readout import PilotReadout, item_days
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
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=table["weeks"], y=table["mde_yearly"], mode="lines+markers", name=_("Smallest detectable effect"),
        line={"color": PALETTE[0]},
        marker={"symbol": ["circle-open" if e else "circle" for e in table["extrapolated"]], "size": 7},
        customdata=[[_("{weeks} weeks: detects {mde} a year or more").format(weeks=w, mde=fmt.yen_short(v))
                     + (_(" (extrapolated)") if e else ""),
                     _("({per_day} per treated store and day)").format(per_day=fmt.yen(d))] for w, v, d, e in
                    zip(table["weeks"], table["mde_yearly"], table["mde_store_day"], table["extrapolated"],
                        strict=True)],
        hovertemplate="%{customdata[0]}<br>%{customdata[1]}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=[1, MAX_WEEKS], y=[target, target], mode="lines", name=_("Smallest effect worth detecting"),
        line={"color": TARGET_LINE, "dash": "dash"},
        hovertemplate=_("Worth detecting: {amount} a year").format(amount=fmt.yen_short(target)) + "<extra></extra>"))
    chosen = design.point(design.weeks)
    weeks = _("{n} weeks").format(n=design.weeks)
    fig.add_trace(go.Scatter(
        x=[design.weeks], y=[chosen.mde_yearly], mode="markers+text",
        name=_("Chosen: {weeks}").format(weeks=weeks),
        marker={"color": PALETTE[2] if design.meets_target else TARGET_LINE, "size": 14, "symbol": "star"},
        text=[weeks], textposition="top right", cliponaxis=False,
        hovertemplate=_("Chosen: {weeks}, detects {mde} a year or more").format(
            weeks=weeks, mde=fmt.yen_short(chosen.mde_yearly)) + "<extra></extra>"))
    k = len(design.pairs)
    title = _("Smallest yearly effect the pilot detects ({k} treated, {k} control stores, {power} power, {alpha} "
              "significance)").format(k=k, power=fmt.pct(design.power, 0), alpha=fmt.pct(design.alpha, 0))
    fig = base_layout(fig, title, _("Pilot length (weeks)"), _("¥ a year for the chain"), height=400)
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
    pairs = [f"{chart_label(_('Pair {n}').format(n=p))}<br>{chart_label(t)}<br>{chart_label(c)}" for p, t, c in
             zip(table["pair"], table["treated_label"], table["control_label"], strict=True)]

    def shown(value: float) -> str:
        return fmt.yen(value) if yen else _("{n} units").format(n=fmt.number(value))

    fig = go.Figure()
    for side, colour, name, role in (("treated", TREATED, _("Treated (orders from the model)"), _("treated")),
                                     ("control", CONTROL, _("Control (today's practice)"), _("control"))):
        fig.add_trace(go.Bar(
            x=pairs, y=table[f"{side}_sales"], name=name, marker_color=colour,
            customdata=[[_("{store} ({role}): {sales} a day").format(store=chart_label(label), role=role,
                                                                        sales=shown(v)),
                         "" if fmt.missing(r) else chart_label(r),
                         "" if fmt.missing(s) else _(", size {size}").format(size=fmt.trimmed(s, 2))]
                        for label, v, r, s in zip(table[f"{side}_label"], table[f"{side}_sales"],
                                                  table[f"{side}_region"], table[f"{side}_size"], strict=True)],
            hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}%{customdata[2]}<extra></extra>"))
    weeks = design.pre_days // 7
    unit = _("¥ of sales a day") if yen else _("Units sold a day")
    fig = base_layout(fig, _("Treated and control stores, pair by pair: sales a day over the last {weeks} "
                             "weeks").format(weeks=weeks), "", unit, height=380)
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
        label = (chart_label(_("Backtest (offline): {amount}").format(amount=fmt.yen_short(offline_yearly)))
                 + (f"<br>{chart_label(fmt.model_name(offline_model))}" if offline_model else ""))
        fig.add_trace(go.Bar(
            x=[label], y=[offline_yearly], name=_("The backtest's promise"), marker_color=PROMISE,
            hovertemplate=chart_label(_("The backtest said {amount} a year").format(
                amount=fmt.yen_short(offline_yearly))) + "<extra></extra>"))
        values.append(offline_yearly)
    if estimate is not None:
        level = fmt.pct(readout.level, 0)
        fig.add_trace(go.Bar(
            x=[chart_label(_("Pilot (online): {amount}").format(amount=fmt.yen_short(estimate.yearly))) + "<br>"
               + chart_label(_("{days} days, {level} interval").format(days=readout.pilot_days, level=level))],
            y=[estimate.yearly], name=_("The pilot's measurement"), marker_color=MEASURED,
            error_y={"type": "data", "symmetric": False, "array": [estimate.high - estimate.yearly],
                     "arrayminus": [estimate.yearly - estimate.low], "color": "#333", "thickness": 1.5, "width": 12},
            hovertemplate=chart_label(_("The pilot measured {amount} a year").format(
                amount=fmt.yen_short(estimate.yearly))) + "<br>" + chart_label(_(
                    "{level} interval {low} to {high}").format(level=level, low=fmt.yen_short(estimate.low),
                                                               high=fmt.yen_short(estimate.high)))
            + "<extra></extra>"))
        values += [estimate.low, estimate.high]
    fig = base_layout(fig, _("Profit a year for the chain ({n} stores): promised and measured").format(
        n=readout.chain_stores), "", _("¥ a year"), height=380)
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
    shown = (lambda v: str(item_days(v, 2, signed=True))) if days else (lambda v: fmt.yen(v, signed=True))
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=rows["store"], y=rows["per_store_day"], mode="markers", name=_("A treated store's own effect"),
        marker={"color": MEASURED, "size": 11},
        error_y={"type": "data", "symmetric": False, "array": rows["high"] - rows["per_store_day"],
                 "arrayminus": rows["per_store_day"] - rows["low"], "color": MEASURED, "thickness": 1.5},
        customdata=[[chart_label(_("{effect} a day").format(effect=shown(v))),
                     chart_label(_("interval {low} to {high}").format(low=shown(lo), high=shown(hi)))]
                    for v, lo, hi in zip(rows["per_store_day"], rows["low"], rows["high"], strict=True)],
        hovertemplate="<b>%{x}</b>: %{customdata[0]}<br>%{customdata[1]}<extra></extra>"))
    values = [*rows["low"], *rows["high"]]
    if overall is not None:
        fig.add_hline(y=float(overall["per_store_day"]), line={"color": PROMISE, "dash": "dash"})
        # Named in the legend: a label on the line sat on the first store's error bar.
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line={"color": PROMISE, "dash": "dash"},
                                 name=_("All treated stores: {effect}").format(
                                     effect=shown(float(overall["per_store_day"])))))
        values.append(float(overall["per_store_day"]))
    fig = base_layout(fig, _("{measure}: each treated store's effect a day, against the control stores").format(
        measure=measure_label(measure)), "", _("Item-days a day") if days else _("¥ a store-day"), height=360)
    if not days:
        fig.update_yaxes(**yen_axis(values, signed=True, pad=0.08))
    fig.update_xaxes(type="category")
    fig.update_layout(showlegend=True, hovermode="closest",
                      legend={"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0})
    return fig
