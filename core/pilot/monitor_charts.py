"""Charts of the forecast watch (``core.pilot.monitor``): a batch's weekly WAPE and bias
against the backtest's band, alerts marked. Built on ``core.plotting``; no Streamlit.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core import fmt
from core.i18n import gettext as _
from core.pilot.monitor import BatchWatch
from core.plotting import PALETTE, base_layout

BAND_FILL = "rgba(58, 157, 93, 0.18)"  # PALETTE[2], light: the backtest's band
ALERT = PALETTE[3]


def _band(fig: go.Figure, x: pd.Series, low: pd.Series, high: pd.Series, name: str) -> None:
    """The band as a shaded area between ``low`` and ``high`` (drawn as steps per period)."""
    fig.add_trace(go.Scatter(x=x, y=high * 100, mode="lines", line={"width": 0, "shape": "hvh"},
                             hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=x, y=low * 100, mode="lines", line={"width": 0, "shape": "hvh"}, fill="tonexty",
                             fillcolor=BAND_FILL, name=name, hoverinfo="skip"))


def _measure(fig: go.Figure, frame: pd.DataFrame, column: str, alert: str, name: str, signed: bool) -> None:
    text = [_("{value} (band {low} to {high})").format(value=fmt.pct(v, signed=signed),
                                                        low=fmt.pct(lo, 0, signed=signed),
                                                        high=fmt.pct(hi, 0, signed=signed))
            for v, lo, hi in zip(frame[column], frame[f"{column}_low"], frame[f"{column}_high"], strict=True)]
    fig.add_trace(go.Scatter(x=frame["period_start"], y=frame[column] * 100, name=name, mode="lines+markers",
                             line={"color": PALETTE[0], "width": 2}, marker={"size": 7}, text=text,
                             hovertemplate="%{text}<extra></extra>"))
    alerts = frame[frame[alert]]
    if not alerts.empty:
        fig.add_trace(go.Scatter(x=alerts["period_start"], y=alerts[column] * 100, name=_("Alert (outside the band)"),
                                 mode="markers", marker={"color": ALERT, "size": 14, "symbol": "x"},
                                 hoverinfo="skip"))


def _frame(watch: BatchWatch) -> pd.DataFrame:
    return watch.periods[watch.periods["status"] != "waiting"]


def _period_ticks(fig: go.Figure, frame: pd.DataFrame) -> None:
    """One tick per period, at its start: with a few weekly points plotly would tick every day."""
    starts = pd.to_datetime(frame["period_start"])
    fig.update_xaxes(tickvals=starts, ticktext=[fmt.date(d) for d in starts])


def wape_chart(watch: BatchWatch) -> go.Figure:
    """Each covered week's WAPE (%) with the backtest's band shaded and the weeks above it
    marked ×."""
    frame = _frame(watch)
    fig = go.Figure()
    _band(fig, frame["period_start"], frame["wape_low"], frame["wape_high"],
          _("Backtest's band ({level})").format(level=fmt.pct(watch.options.band.level, 0)))
    _measure(fig, frame, "wape", "wape_alert", _("WAPE after launch"), signed=False)
    fig = base_layout(fig, _("WAPE by week: {model}, version {version}").format(model=fmt.model_name(watch.model),
                                                                               version=watch.version),
                      _("Week (its Monday)") if watch.freq.value == "D" else _("Period"), "WAPE (%)", height=380)
    fig.update_yaxes(rangemode="tozero", ticksuffix="%")
    _period_ticks(fig, frame)
    fig.update_layout(legend={"yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1})
    return fig


def bias_chart(watch: BatchWatch) -> go.Figure:
    """Each covered week's bias (% of sales; above 0 forecast more than sold) with the
    backtest's range shaded, zero drawn and the weeks beyond the range marked ×."""
    frame = _frame(watch)
    fig = go.Figure()
    _band(fig, frame["period_start"], frame["bias_low"], frame["bias_high"], _("Backtest's range"))
    _measure(fig, frame, "bias", "bias_alert", _("Bias after launch"), signed=True)
    fig.add_hline(y=0, line={"color": "#999", "width": 1})
    fig = base_layout(fig, _("Bias by week (above 0: forecast more than sold)"),
                      _("Week (its Monday)") if watch.freq.value == "D" else _("Period"), _("Bias (% of sales)"),
                      height=340)
    fig.update_yaxes(ticksuffix="%")
    _period_ticks(fig, frame)
    fig.update_layout(legend={"yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1})
    return fig
