"""Charts of a dataset (Data page): totals over time, seasonal profiles, the effect of a
flag, today's ordering practice and one series in detail. Built on ``core.plotting``.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core import fmt
from core.columns import DATE, TARGET
from core.data.explore import group_name
from core.i18n import N_, _
from core.plotting import PALETTE, TICKS, base_layout, count_axis
from core.text import chart_label, chart_labels

WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


MONTHS = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"), N_("Jul"), N_("Aug"), N_("Sep"),
          N_("Oct"), N_("Nov"), N_("Dec"))


def _capital(text: str) -> str:
    """The first letter in upper case, as a title starts (a no-op for Japanese)."""
    return text[:1].upper() + text[1:]


def totals_over_time(frame: pd.DataFrame, unit: str, grain_label: str) -> go.Figure:
    """Lines of units per period, one per group. ``unit``: what the target measures, as
    people read it; ``grain_label``: the period's word in the reader's language (``Freq.text``)."""
    fig = go.Figure()
    for i, (group, part) in enumerate(frame.groupby("grp", sort=False)):
        name = chart_label(group_name(group))
        fig.add_trace(go.Scatter(
            x=part["period"], y=part["y"], name=name, mode="lines",
            line={"color": PALETTE[i % len(PALETTE)], "width": 1.6},
            hovertemplate="%{y:,.0f} " + chart_label(unit) + "<extra>" + name + "</extra>",
        ))
    # base_layout gives the date axis Japanese ticks in Japanese (core.plotting.japanese_dates)
    return base_layout(fig, _("{unit} per {grain} period").format(unit=_capital(unit), grain=grain_label),
                       _("Date"), _("{unit} per period").format(unit=unit))


def seasonal_profile(frame: pd.DataFrame, part: str, unit: str) -> go.Figure:
    """Each group's profile as an index: 100 = the group's own average."""
    labels = [_(label) for label in (WEEKDAYS if part == "isodow" else MONTHS)]
    fig = go.Figure()
    for i, (group, rows) in enumerate(frame.groupby("grp", sort=False)):
        rows = rows.sort_values("part")
        index = rows["mean_y"] / rows["mean_y"].mean() * 100
        name = chart_label(group_name(group))
        fig.add_trace(go.Scatter(
            x=[labels[int(p) - 1] for p in rows["part"]], y=index, name=name, mode="lines+markers",
            line={"color": PALETTE[i % len(PALETTE)]},
            customdata=rows["mean_y"],
            hovertemplate=_("index {index} ({mean} {unit} per series and period)").format(
                index="%{y:.0f}", mean="%{customdata:,.2f}", unit=chart_label(unit)) + "<extra>" + name + "</extra>",
        ))
    fig.add_hline(y=100, line={"color": "#999", "dash": "dot"})
    if part == "isodow":
        title = _("{unit} by weekday (index, 100 = the group's average)").format(unit=_capital(unit))
        axis = _("Weekday")
    else:
        title = _("{unit} by month (index, 100 = the group's average)").format(unit=_capital(unit))
        axis = _("Month")
    fig = base_layout(fig, title, axis, _("Index (100 = average)"))
    fig.update_yaxes(tickformat=TICKS, rangemode="normal")
    return fig


def flag_effect(frame: pd.DataFrame, flag: str, unit: str) -> go.Figure:
    """Uplift of mean units per series-period when ``flag`` is on."""
    rows = frame.sort_values("uplift")
    fig = go.Figure(go.Bar(
        x=rows["uplift"] * 100, y=chart_labels(rows["grp"].map(group_name)), orientation="h",
        marker_color=[PALETTE[1] if u >= 0 else PALETTE[3] for u in rows["uplift"]],
        customdata=rows[["mean_off", "mean_on", "periods_on"]],
        text=[fmt.pct_change(u, 0) for u in rows["uplift"]], textposition="outside",
        hovertemplate=_("{off} → {on} per series and period ({periods} periods on)").format(
            off="%{customdata[0]:,.2f}", on="%{customdata[1]:,.2f}", periods="%{customdata[2]:,.0f}")
        + "<extra></extra>",
    ))
    fig = base_layout(fig, _("Uplift of {unit} when '{flag}' is on (within each series)").format(unit=unit, flag=flag),
                      _("Uplift of {unit} (%)").format(unit=unit), "", height=max(260, 60 + 32 * len(rows)))
    fig.update_xaxes(ticksuffix="%", zeroline=True)
    fig.update_yaxes(tickformat=None, rangemode="normal")
    fig.update_layout(hovermode="closest")
    return fig


def practice_over_time(frame: pd.DataFrame, unit: str, grain_label: str) -> go.Figure:
    """Units ordered by today's practice against units sold, and stockout counts."""
    totals = frame.groupby("period", as_index=False)[["y", "orders", "stockouts"]].sum()
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=totals["period"], y=totals["stockouts"], name=_("Stockout series-days"), yaxis="y2",
        marker_color="rgba(194,59,78,0.35)",
        hovertemplate=_("{n} stockouts").format(n="%{y:,.0f}") + "<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=totals["period"], y=totals["orders"], name=_("Ordered (today's practice)"), mode="lines",
        line={"color": PALETTE[1], "width": 1.6},
        hovertemplate=_("{n} ordered").format(n="%{y:,.0f}") + "<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=totals["period"], y=totals["y"], name=_("Sold"), mode="lines",
        line={"color": PALETTE[0], "width": 1.6}, hovertemplate=_("{n} sold").format(n="%{y:,.0f}") + "<extra></extra>",
    ))
    fig = base_layout(fig, _("Today's ordering practice against sales, per {grain} period").format(grain=grain_label),
                      _("Date"), _("{unit} per period").format(unit=unit))
    fig.update_layout(yaxis2={"title": _("Stockouts (series-days)"), "overlaying": "y", "side": "right",
                              "showgrid": False, **count_axis(totals["stockouts"])})
    return fig


def series_detail(frame: pd.DataFrame, title: str, unit: str, orders: str | None, stockout: str | None,
                  promo: str | None, window: int = 91) -> go.Figure:
    """One series: sales, orders, promotion periods shaded and stockout days marked."""
    fig = go.Figure()
    if promo and promo in frame:
        on = frame.loc[frame[promo] > 0, DATE]
        fig.add_trace(go.Bar(
            x=on, y=[frame[TARGET].max() * 1.05] * len(on), name=_("{column} on").format(column=chart_label(promo)),
            marker_color="rgba(58,157,93,0.18)",
            hoverinfo="skip", width=86_400_000,
        ))
    fig.add_trace(go.Scatter(x=frame[DATE], y=frame[TARGET], name=_("Sold"), mode="lines",
                             line={"color": PALETTE[0], "width": 1.4}))
    if orders and orders in frame:
        fig.add_trace(go.Scatter(x=frame[DATE], y=frame[orders], name=_("Ordered (today's practice)"),
                                 mode="lines", line={"color": PALETTE[1], "width": 1.2, "shape": "hv"}))
    if stockout and stockout in frame:
        out = frame[frame[stockout] > 0]
        fig.add_trace(go.Scatter(x=out[DATE], y=out[TARGET], name=_("Stockout (sales censored)"), mode="markers",
                                 marker={"color": PALETTE[3], "size": 6, "symbol": "x"}))
    fig = base_layout(fig, title, _("Date"), _("{unit} per period").format(unit=unit), height=460)
    # Four entries fit beside the title; below, they would collide with the range slider.
    fig.update_layout(barmode="overlay", legend={"yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1})
    if len(frame) > window:
        # Open on the most recent periods, where weekdays, promotions and stockouts are
        # readable; the slider under the chart reaches the whole history.
        fig.update_xaxes(range=[frame[DATE].iloc[-window], frame[DATE].iloc[-1]],
                         rangeslider={"visible": True, "thickness": 0.08})
    return fig
