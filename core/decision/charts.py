"""Plotly charts of a GO / NO-GO decision that are not about the offline money (that is in
``core.money.charts``): the production-readiness score, and the offline promise against
the pilot's measurement. Built on ``core.plotting``.
"""

from __future__ import annotations

import plotly.graph_objects as go

from core import fmt
from core.i18n import _, gettext
from core.money.charts import LOSS
from core.plotting import PALETTE, base_layout, yen_axis
from core.text import chart_label

INK = "#1a1a1a"


def readiness_bars(areas: dict[str, float], items_per_area: dict[str, int]) -> go.Figure:
    """Each area's score out of its number of checks; the overall score is the lowest.
    ``areas`` are keyed by the areas' English names (as a snapshot keeps them): shown in
    the current language."""
    names = list(areas)
    shown = [chart_label(gettext(a)) for a in names]
    lowest = min(areas.values()) if areas else 0
    fig = go.Figure()
    fig.add_trace(go.Bar(x=[items_per_area.get(a, 0) for a in names], y=shown, orientation="h",
                         name=_("possible"), marker={"color": "#e8e8e8"}, hoverinfo="skip"))
    fig.add_trace(go.Bar(x=[areas[a] for a in names], y=shown, orientation="h", name=_("scored"),
                         marker={"color": [LOSS if areas[a] == lowest else PALETTE[0] for a in names]},
                         text=[f"{areas[a]:g} / {items_per_area.get(a, 0)}" for a in names], textposition="outside",
                         cliponaxis=False, hovertemplate="%{y}: %{x:g}<extra></extra>"))
    fig = base_layout(fig, _("Production readiness (ML Test Score): the overall score is the lowest area"),
                      _("Score (each check 0, 0.5 or 1)"), "", height=260)
    fig.update_layout(barmode="overlay", hovermode="closest", showlegend=False)
    fig.update_yaxes(tickformat=None, rangemode="normal", autorange="reversed")
    fig.update_xaxes(range=[0, max(items_per_area.values(), default=1) + 1])
    return fig


def promise_vs_pilot(offline: float | None, measured: float, low: float, high: float, level: float = 0.95,
                     running_cost: float | None = None) -> go.Figure:
    """The offline promise (the backtest's yearly savings) beside the online measurement
    (the pilot's yearly profit effect scaled to the chain, with its ``level`` interval
    from ``low`` to ``high``), all in yen a year; the yearly running cost as a dashed line
    when it is known. The promise is a point: the backtest gives no interval."""
    rows = ([(_("Backtest (offline promise)"), offline, None)] if offline is not None else []) + [
        (_("Pilot (online, {level} interval)").format(level=fmt.pct(level, 0)), measured, (low, high))]
    fig = go.Figure()
    for label, value, band in rows:
        error = ({"type": "data", "symmetric": False, "array": [band[1] - value], "arrayminus": [value - band[0]],
                  "color": INK, "thickness": 1.6, "width": 8} if band else None)
        text = (_("{amount}  ({low} to {high})").format(amount=fmt.yen_short(value), low=fmt.yen_short(band[0]),
                                                        high=fmt.yen_short(band[1])) if band else fmt.yen_short(value))
        fig.add_trace(go.Scatter(
            x=[value], y=[label], mode="markers+text", error_x=error, text=[text], textposition="top center",
            marker={"size": 13, "color": PALETTE[0] if band else "#7f7f7f", "symbol": "circle" if band else "diamond"},
            name=label, hovertemplate=f"{chart_label(label)}: {chart_label(text)}<extra></extra>", cliponaxis=False))
    values = [v for _, v, _ in rows] + [low, high] + ([running_cost] if running_cost is not None else [])
    if running_cost is not None:
        fig.add_vline(x=running_cost, line_dash="dash", line_color=LOSS,
                      annotation_text=chart_label(_("running cost {amount}").format(
                          amount=fmt.yen_short(running_cost))),
                      annotation_position="bottom right")
    fig = base_layout(fig, _("The backtest's promise against the pilot's measurement (yearly savings)"),
                      _("yen a year"), "", height=260)
    fig.update_layout(hovermode="closest", showlegend=False)
    fig.update_xaxes(**yen_axis(values, pad=0.12))
    fig.update_yaxes(tickformat=None, rangemode="normal", autorange="reversed")
    return fig
