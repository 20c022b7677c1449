"""Plotly charts of a GO / NO-GO decision that are not about money (those are in
``core.money.charts``): the production-readiness score. Built on ``core.plotting``.
"""

from __future__ import annotations

import plotly.graph_objects as go

from core.money.charts import LOSS
from core.plotting import PALETTE, base_layout


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
    fig = base_layout(fig, "Production readiness (ML Test Score): the overall score is the lowest area",
                      "Score (each check 0, 0.5 or 1)", "", height=260)
    fig.update_layout(barmode="overlay", hovermode="closest", showlegend=False)
    fig.update_yaxes(tickformat=None, rangemode="normal", autorange="reversed")
    fig.update_xaxes(range=[0, max(items_per_area.values(), default=1) + 1])
    return fig
