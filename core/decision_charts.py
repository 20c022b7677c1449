"""Plotly charts of money impact and of a GO / NO-GO decision, drawn from the tables a
decision snapshot keeps (lists of records or frames with the same columns), so the
page shows a stored decision exactly as it was taken."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.charts import PALETTE, _layout
from core.text import chart_labels

GAIN, LOSS, BASE = PALETTE[2], PALETTE[3], "#7f7f7f"


def _yen_axis(fig: go.Figure, axis: str = "x") -> None:
    update = fig.update_xaxes if axis == "x" else fig.update_yaxes
    update(tickprefix="¥", tickformat="~s", zeroline=True, zerolinecolor="#888")


def savings_bars(money: pd.DataFrame, baseline_label: str, column: str = "yearly_savings") -> go.Figure:
    """Yearly savings of each policy against the baseline, in yen."""
    rows = money[money[column].abs() > 0].sort_values(column) if len(money) > 1 else money
    fig = go.Figure(go.Bar(
        x=rows[column], y=rows["label"], orientation="h",
        marker_color=[GAIN if v > 0 else LOSS for v in rows[column]],
        text=[f"¥{v / 1e6:+,.1f}M" for v in rows[column]], textposition="outside", cliponaxis=False,
        customdata=rows[["ordering"]], hovertemplate="%{y} (%{customdata[0]}): %{x:,.0f} ¥ a year<extra></extra>"))
    span = float(rows[column].abs().max()) if len(rows) else 1.0
    fig = _layout(fig, f"Yearly savings against {baseline_label.split(' (')[0]}", "¥ per year (more is better)", "",
                  height=max(240, 70 + 36 * len(rows)))
    _yen_axis(fig)
    low = min(float(rows[column].min()) if len(rows) else 0.0, 0.0)
    fig.update_xaxes(range=[low - 0.35 * span if low < 0 else 0, max(float(rows[column].max()), 0.0) + 0.35 * span])
    fig.update_yaxes(tickformat=None, rangemode="normal")
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig


def loss_split(money: pd.DataFrame) -> go.Figure:
    """Where each policy loses money: waste thrown away, sales lost to empty shelves, stock held."""
    rows = money.sort_values("yearly_profit")
    fig = go.Figure()
    for column, name, colour, pattern in (("yearly_waste_cost", "Waste (cost of expired units)", LOSS, "/"),
                                          ("yearly_lost_margin", "Lost sales (margin of empty shelves)", PALETTE[1],
                                           "."),
                                          ("yearly_holding_cost", "Holding stock", BASE, "")):
        fig.add_trace(go.Bar(x=rows[column], y=rows["label"], orientation="h", name=name,
                             marker={"color": colour, "pattern": {"shape": pattern}},
                             hovertemplate="%{y}: %{x:,.0f} ¥ a year<extra>" + name + "</extra>"))
    fig = _layout(fig, "Where the money goes (¥ a year, less is better)", "", "",
                  height=max(280, 110 + 36 * len(rows)))
    fig.update_layout(barmode="stack", hovermode="closest", legend={"y": -0.2})
    _yen_axis(fig)
    fig.update_yaxes(tickformat=None, rangemode="normal")
    return fig


def sensitivity_lines(sensitivity: pd.DataFrame, optimal: pd.DataFrame | None = None) -> go.Figure:
    """Yearly savings of each model at each service level; dashed lines mark what each
    model saves at its items' profit-optimal levels."""
    fig = go.Figure()
    for i, (policy, part) in enumerate(sensitivity.groupby("policy", sort=True)):
        colour = PALETTE[i % len(PALETTE)]
        part = part.sort_values("service_level")
        fig.add_trace(go.Scatter(
            x=part["service_level"] * 100, y=part["yearly_savings"], name=str(policy), mode="lines+markers",
            line={"color": colour}, customdata=part[["stockout_rate", "yearly_waste_cost"]],
            hovertemplate=(f"<b>{policy}</b> at %{{x:.0f}}%: %{{y:,.0f}} ¥ a year<br>out of stock "
                           "%{customdata[0]:.1%} of days, waste %{customdata[1]:,.0f} ¥<extra></extra>")))
        if optimal is not None and policy in set(optimal["policy"]):
            value = float(optimal.loc[optimal["policy"] == policy, "yearly_savings"].iloc[0])
            fig.add_trace(go.Scatter(
                x=[part["service_level"].min() * 100, part["service_level"].max() * 100], y=[value, value],
                mode="lines", line={"color": colour, "dash": "dash", "width": 1}, showlegend=False,
                name=f"{policy}, profit-optimal per item",
                hovertemplate=f"<b>{policy}</b>, each item at its profit-optimal level: %{{y:,.0f}} ¥ a year"
                              "<extra></extra>"))
    fig = _layout(fig, "Savings by service level (dashed: profit-optimal per item)",
                  "Service level: share of days whose demand the order covers (%)", "¥ per year saved", height=400)
    fig.update_xaxes(ticksuffix="%")
    fig.update_yaxes(tickprefix="¥", tickformat="~s", rangemode="normal", zeroline=True, zerolinecolor="#888")
    fig.update_layout(hovermode="closest")
    return fig


def segment_savings(by_segment: pd.DataFrame, segment: str, model: str, baseline_label: str) -> go.Figure:
    rows = by_segment[(by_segment["segment"] == segment) & (by_segment["policy"] == model)].sort_values(
        "yearly_savings")
    fig = go.Figure(go.Bar(
        x=rows["yearly_savings"], y=chart_labels(rows["group"].astype(str)), orientation="h",
        marker_color=[GAIN if v > 0 else LOSS for v in rows["yearly_savings"]],
        hovertemplate="%{y}: %{x:,.0f} ¥ a year<extra></extra>"))
    fig = _layout(fig, f"Yearly savings of {model} by {segment}, against {baseline_label}", "¥ per year", "",
                  height=max(240, 70 + 24 * len(rows)))
    _yen_axis(fig)
    fig.update_yaxes(tickformat=None, rangemode="normal", type="category")
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig


def readiness_bars(areas: dict[str, float], items_per_area: dict[str, int]) -> go.Figure:
    """Each area's score out of its number of checks; the overall score is the lowest."""
    names = list(areas)
    lowest = min(areas.values()) if areas else 0
    fig = go.Figure()
    fig.add_trace(go.Bar(x=[items_per_area[a] for a in names], y=names, orientation="h", name="possible",
                         marker={"color": "#e8e8e8"}, hoverinfo="skip"))
    fig.add_trace(go.Bar(x=[areas[a] for a in names], y=names, orientation="h", name="scored",
                         marker={"color": [LOSS if areas[a] == lowest else PALETTE[0] for a in names]},
                         text=[f"{areas[a]:g} / {items_per_area[a]}" for a in names], textposition="outside",
                         cliponaxis=False, hovertemplate="%{y}: %{x:g}<extra></extra>"))
    fig = _layout(fig, "Production readiness (ML Test Score): the overall score is the lowest area",
                  "Score (each check 0, 0.5 or 1)", "", height=260)
    fig.update_layout(barmode="overlay", hovermode="closest", showlegend=False)
    fig.update_yaxes(tickformat=None, rangemode="normal", autorange="reversed")
    fig.update_xaxes(range=[0, max(items_per_area.values(), default=1) + 1])
    return fig
