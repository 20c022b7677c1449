"""Charts of the hand-off: a published batch forecast after the history it continues.
Built on ``core.plotting``.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.columns import DATE, TARGET
from core.i18n import _
from core.plotting import PALETTE, base_layout


def published_forecast(history: pd.DataFrame, forecast: pd.DataFrame, title: str, unit: str) -> go.Figure:
    """The last periods of one series, then its published forecast and, when there is one,
    the order quantity; the last date of the data marked. ``title`` and ``unit`` are said
    as given (the caller words them)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=history[DATE], y=history[TARGET], name=_("Sold"), mode="lines",
                             line={"color": PALETTE[0], "width": 1.4},
                             hovertemplate=_("%{y:,.0f} sold") + "<extra></extra>"))
    fig.add_trace(go.Scatter(x=forecast[DATE], y=forecast["forecast"], name=_("Forecast (published)"),
                             mode="lines+markers", line={"color": PALETTE[1], "width": 2}, marker={"size": 4},
                             hovertemplate=_("%{y:,.1f} forecast") + "<extra></extra>"))
    if forecast["order_quantity"].notna().any():
        fig.add_trace(go.Scatter(x=forecast[DATE], y=forecast["order_quantity"], name=_("Order quantity"),
                                 mode="lines", line={"color": PALETTE[2], "width": 1.6, "dash": "dash"},
                                 hovertemplate=_("%{y:,.1f} to order") + "<extra></extra>"))
    if not history.empty:
        fig.add_vline(x=pd.Timestamp(history[DATE].max()), line={"color": "#999", "dash": "dash", "width": 1})
    fig = base_layout(fig, title, _("Date (dashed line: last date of the data)"),
                      _("{unit} per period").format(unit=unit), height=420)
    # Three entries fit beside the title; below the plot they would run into the axis title.
    fig.update_layout(legend={"yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1})
    return fig
