"""Plotly charts of money impact, drawn from the tables a money impact or a decision
snapshot keeps (lists of records or frames with the same columns), so a page shows a
stored decision exactly as it was taken. Built on ``core.plotting``.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core import fmt, periods
from core.columns import Freq
from core.i18n import _, render
from core.plotting import PALETTE, base_layout, model_label, yen_axis
from core.text import chart_label, chart_labels

GAIN, LOSS, BASE = PALETTE[2], PALETTE[3], "#7f7f7f"


def _labels(values: pd.Series) -> list[str]:
    """Policy labels for people: a model alias by its name, today's practice as it is (a
    fact, a stored message or text, in the current language)."""
    return [label[:1].upper() + label[1:] for label in (model_label(render(v)) for v in values)]


def _short(label: object) -> str:
    """A baseline's label (a fact, a stored message or text) in the current language, without
    its parenthesis: ``seasonal naive`` for ``seasonal naive (the same weekday last week) ordering``."""
    text = render(label)
    cut = min((i for i in (text.find(" ("), text.find("（"), text.find("(")) if i > 0), default=len(text))
    return text[:cut]


def savings_bars(money: pd.DataFrame, baseline_label: str, column: str = "yearly_savings") -> go.Figure:
    """Yearly savings of each policy against the baseline, in yen: bars labelled
    ``+¥19.8M`` / ``−¥12.0K``, the axis in the same form."""
    rows = money[money[column].abs() > 0].sort_values(column) if len(money) > 1 else money
    fig = go.Figure(go.Bar(
        x=rows[column], y=_labels(rows["label"]), orientation="h",
        marker_color=[GAIN if v > 0 else LOSS for v in rows[column]],
        text=[fmt.yen_change(v, short=True) for v in rows[column]], textposition="outside", cliponaxis=False,
        customdata=[[chart_label(render(o)), fmt.yen_change(v)]
                    for o, v in zip(rows["ordering"], rows[column], strict=True)],
        hovertemplate=_("%{y} (%{customdata[0]}): %{customdata[1]} a year") + "<extra></extra>"))
    fig = base_layout(fig, _("Yearly savings against {baseline}").format(baseline=_short(baseline_label)),
                      _("¥ per year (more is better)"), "", height=max(240, 70 + 36 * len(rows)))
    fig.update_xaxes(**yen_axis(rows[column], signed=True, pad=0.35))
    fig.update_yaxes(tickformat=None, rangemode="normal")
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig


def loss_split(money: pd.DataFrame) -> go.Figure:
    """Where each policy loses money: waste thrown away, sales lost to empty shelves, stock held."""
    rows = money.sort_values("yearly_profit")
    fig = go.Figure()
    for column, name, colour, pattern in (("yearly_waste_cost", _("Waste (cost of expired units)"), LOSS, "/"),
                                          ("yearly_lost_margin", _("Lost sales (margin of empty shelves)"),
                                           PALETTE[1], "."),
                                          ("yearly_holding_cost", _("Holding stock"), BASE, "")):
        fig.add_trace(go.Bar(x=rows[column], y=_labels(rows["label"]), orientation="h", name=name,
                             marker={"color": colour, "pattern": {"shape": pattern}},
                             customdata=[fmt.yen(v) for v in rows[column]],
                             hovertemplate=_("%{y}: %{customdata} a year") + "<extra>" + chart_label(name)
                             + "</extra>"))
    fig = base_layout(fig, _("Where the money goes (¥ a year, less is better)"), "", "",
                      height=max(280, 110 + 36 * len(rows)))
    fig.update_layout(barmode="stack", hovermode="closest", legend={"y": -0.2})
    totals = rows[["yearly_waste_cost", "yearly_lost_margin", "yearly_holding_cost"]].sum(axis=1)
    fig.update_xaxes(**yen_axis(totals, pad=0.05))
    fig.update_yaxes(tickformat=None, rangemode="normal")
    return fig


def sensitivity_lines(sensitivity: pd.DataFrame, optimal: pd.DataFrame | None = None,
                      freq: Freq | str = Freq.DAILY) -> go.Figure:
    """Yearly savings of each model at each service level; dashed lines mark what each
    model saves at its items' profit-optimal levels. ``freq`` (the data's) names the
    periods a service level covers: days, weeks or months."""
    days = periods.period_noun(Freq(freq), plural=True)
    fig = go.Figure()
    values = list(sensitivity["yearly_savings"])
    for i, (policy, part) in enumerate(sensitivity.groupby("policy", sort=True)):
        colour = PALETTE[i % len(PALETTE)]
        part = part.sort_values("service_level")
        name = model_label(policy)
        fig.add_trace(go.Scatter(
            x=part["service_level"] * 100, y=part["yearly_savings"], name=name, mode="lines+markers",
            line={"color": colour},
            customdata=[[fmt.yen_change(v), fmt.pct(s), fmt.yen(w)] for v, s, w in
                        zip(part["yearly_savings"], part["stockout_rate"], part["yearly_waste_cost"], strict=True)],
            hovertemplate=_("<b>{name}</b> at %{{x:g}}%: %{{customdata[0]}} a year<br>out of stock "
                            "%{{customdata[1]}} of {periods}, waste %{{customdata[2]}}").format(name=name, periods=days)
            + "<extra></extra>"))
        if optimal is not None and policy in set(optimal["policy"]):
            value = float(optimal.loc[optimal["policy"] == policy, "yearly_savings"].iloc[0])
            values.append(value)
            fig.add_trace(go.Scatter(
                x=[part["service_level"].min() * 100, part["service_level"].max() * 100], y=[value, value],
                mode="lines", line={"color": colour, "dash": "dash", "width": 1}, showlegend=False,
                name=_("{name}, profit-optimal per item").format(name=name),
                hovertemplate=_("<b>{name}</b>, each item at its profit-optimal level: {amount} a year").format(
                    name=name, amount=fmt.yen_change(value)) + "<extra></extra>"))
    fig = base_layout(fig, _("Savings by service level (dashed: profit-optimal per item)"),
                      _("Service level: share of {periods} whose demand the order covers (%)").format(periods=days),
                      _("¥ per year saved"), height=400)
    fig.update_xaxes(ticksuffix="%")
    fig.update_yaxes(**yen_axis(values, signed=True, pad=0.05, include_zero=False))
    fig.update_layout(hovermode="closest")
    return fig


def segment_savings(by_segment: pd.DataFrame, segment: str, model: str, baseline_label: str) -> go.Figure:
    """Yearly savings of ``model`` (alias) per value of ``segment``, sorted, bars from 0 in yen."""
    rows = by_segment[(by_segment["segment"] == segment) & (by_segment["policy"] == model)].sort_values(
        "yearly_savings")
    fig = go.Figure(go.Bar(
        x=rows["yearly_savings"], y=chart_labels(rows["group"].astype(str)), orientation="h",
        marker_color=[GAIN if v > 0 else LOSS for v in rows["yearly_savings"]],
        customdata=[fmt.yen_change(v) for v in rows["yearly_savings"]],
        hovertemplate=_("%{y}: %{customdata} a year") + "<extra></extra>"))
    fig = base_layout(fig, _("Yearly savings of {model} by {segment}, against {baseline}").format(
                          model=fmt.model_name(model), segment=segment, baseline=render(baseline_label)),
                      _("¥ per year"), "", height=max(240, 70 + 24 * len(rows)))
    fig.update_xaxes(**yen_axis(rows["yearly_savings"], signed=True, pad=0.05))
    fig.update_yaxes(tickformat=None, rangemode="normal", type="category")
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig
