"""Figures of the planning pages: the effort/impact 2×2 and the PoC timeline.

Pure functions of data, on ``core.plotting``: titled, axes labelled with units; what users
typed (initiative names, owners) goes through ``chart_label``. Words are in the current
language.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd
import plotly.graph_objects as go

from core import fmt
from core.i18n import gettext
from core.planning.initiatives import Quadrant, Thresholds
from core.planning.plan import PhaseStatus
from core.plotting import PALETTE, japanese_dates, yen_tick
from core.text import chart_label, chart_labels

QUADRANT_COLOURS = {Quadrant.AIM: PALETTE[2], Quadrant.WAIT: PALETTE[0], Quadrant.START: PALETTE[1],
                    Quadrant.DOUBT: PALETTE[3]}
STATUS_COLOURS = {PhaseStatus.NOT_STARTED: "#b5b5b5", PhaseStatus.IN_PROGRESS: PALETTE[0],
                  PhaseStatus.DONE: PALETTE[2], PhaseStatus.BLOCKED: PALETTE[3]}


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"}, xaxis_title=x, yaxis_title=y, height=height,
        margin={"l": 10, "r": 10, "t": 60, "b": 10}, template="plotly_white", separators=".,", hovermode="closest",
        legend={"orientation": "h", "yanchor": "top", "y": -0.14, "xanchor": "left", "x": 0},
    )
    return fig


def _log_range(values: list[float], below: float, above: float) -> list[float]:
    low, high = math.log10(min(values)), math.log10(max(values))
    return [low - below, high + above]


def _log_ticks(log_range: list[float], steps: tuple[float, ...] = (1, 2, 5)) -> list[float]:
    """1-2-5 ticks inside a log10 range: readable where plotly would label every digit."""
    ticks = [m * 10 ** e for e in range(math.floor(log_range[0]), math.ceil(log_range[1]) + 1) for m in steps]
    return [t for t in ticks if log_range[0] <= math.log10(t) <= log_range[1]]


def effort_impact_map(table: pd.DataFrame, thresholds: Thresholds) -> go.Figure:
    """Initiatives on effort (x, log) against impact (y, log), the four quadrants of the
    talk shaded and named, the split at the movable thresholds; marker size = reach."""
    efforts = [*table["effort_weeks"], thresholds.effort_weeks]
    impacts = [max(v, 1e5) for v in [*table["impact_yen"], thresholds.impact_yen]]
    # Room around the points for their names, and in the corners for the quadrants'.
    x_range, y_range = _log_range(efforts, 0.2, 0.25), _log_range(impacts, 0.3, 0.4)
    x_split, y_split = math.log10(thresholds.effort_weeks), math.log10(thresholds.impact_yen)
    fig = go.Figure()
    corners = {  # quadrant: (x0, x1, y0, y1) in log units, and where its name sits
        Quadrant.AIM: (x_range[0], x_split, y_split, y_range[1], "left", "top"),
        Quadrant.WAIT: (x_split, x_range[1], y_split, y_range[1], "right", "top"),
        Quadrant.START: (x_range[0], x_split, y_range[0], y_split, "left", "bottom"),
        Quadrant.DOUBT: (x_split, x_range[1], y_range[0], y_split, "right", "bottom"),
    }
    for q, (x0, x1, y0, y1, xanchor, yanchor) in corners.items():
        fig.add_shape(type="rect", x0=10 ** x0, x1=10 ** x1, y0=10 ** y0, y1=10 ** y1, layer="below", line_width=0,
                      fillcolor=QUADRANT_COLOURS[q], opacity=0.07)
        fig.add_annotation(x=x0 if xanchor == "left" else x1, y=y1 if yanchor == "top" else y0,
                           xref="x", yref="y", text=f"<b>{q.label}</b><br><i>{q.meaning}</i>", showarrow=False,
                           xanchor=xanchor, yanchor=yanchor, align=xanchor, xshift=6 if xanchor == "left" else -6,
                           yshift=-4 if yanchor == "top" else 4, font={"color": QUADRANT_COLOURS[q], "size": 12})
    fig.add_vline(x=thresholds.effort_weeks, line={"color": "#888", "dash": "dash", "width": 1})
    fig.add_hline(y=thresholds.impact_yen, line={"color": "#888", "dash": "dash", "width": 1})
    _ = gettext
    hover = "<br>".join((
        "<b>%{text}</b>", _("Effort {weeks} person-weeks").format(weeks="%{x:,.1f}"),
        _("Impact {amount} a year").format(amount="%{customdata[0]}"),
        _("Confidence {confidence} · reach {reach}").format(confidence="%{customdata[1]}", reach="%{customdata[2]}"),
        _("RICE {rice} per person-week · ICE {ice}").format(rice="%{customdata[3]}", ice="%{customdata[4]}"),
        _("{quadrant} · rank {rank}").format(quadrant="%{customdata[5]}", rank="%{customdata[6]}"))) + "<extra></extra>"
    for q in Quadrant:
        part = table[table["quadrant"] == q.value]
        if part.empty:
            continue
        fig.add_trace(go.Scatter(
            x=part["effort_weeks"], y=part["impact_yen"].clip(lower=1e5), mode="markers+text", name=q.label,
            text=chart_labels(part["name"]), textfont={"size": 11},
            # Alternate label sides by rank so that neighbours' names do not overprint.
            textposition=["top center" if r % 2 else "bottom center" for r in part["rank"]],
            marker={"color": QUADRANT_COLOURS[q], "size": 10 + 22 * part["reach"], "opacity": 0.85,
                    "line": {"width": 1, "color": "white"}},
            customdata=list(zip(
                [fmt.yen(v) for v in part["impact_yen"]], [fmt.pct(v, 0) for v in part["confidence"]],
                [fmt.pct(v, 0) for v in part["reach"]], [fmt.yen(v) for v in part["rice"]],
                [fmt.count(v) for v in part["ice"]], [q.label] * len(part), part["rank"], strict=True)),
            hovertemplate=hover,
        ))
    fig = _layout(fig, _("Effort against impact: start where effort is little and impact large"),
                  _("Effort (person-weeks, log scale)"), _("Impact (¥ per year, log scale)"), height=560)
    fig.update_xaxes(type="log", range=x_range, tickvals=_log_ticks(x_range), tickformat=",~g", zeroline=False)
    y_ticks = _log_ticks(y_range)
    fig.update_yaxes(type="log", range=y_range, tickvals=y_ticks, ticktext=[yen_tick(t) for t in y_ticks],
                     zeroline=False)
    return fig


def plan_timeline(phases: pd.DataFrame, today: date) -> go.Figure:
    """One bar per phase from start to end, coloured by status, with today marked.
    ``phases`` has columns name, owner, start, end, status (dates may be missing)."""
    _ = gettext
    fig = go.Figure()
    dated = phases.dropna(subset=["start"]).copy()
    dated["end"] = dated["end"].fillna(dated["start"])
    for status in PhaseStatus:
        part = dated[dated["status"] == status.value]
        if part.empty:
            continue
        starts = pd.to_datetime(part["start"])
        ends = pd.to_datetime(part["end"]) + timedelta(days=1)  # the end day is included
        fig.add_trace(go.Bar(
            y=part["name"], x=(ends - starts).dt.total_seconds() * 1000, base=starts, orientation="h",
            name=status.label, marker_color=STATUS_COLOURS[status],
            text=chart_labels(part["owner"]), textposition="auto", insidetextanchor="start", cliponaxis=False,
            customdata=list(zip([fmt.date(d) for d in starts], [fmt.date(d) for d in pd.to_datetime(part["end"])],
                                [chart_label(o) if o else _("no owner") for o in part["owner"]], strict=True)),
            hovertemplate="<b>%{y}</b><br>%{customdata[0]} → %{customdata[1]}<br>%{customdata[2]}<extra>"
                          + status.label + "</extra>",
        ))
    fig.add_vline(x=pd.Timestamp(today).timestamp() * 1000, line={"color": PALETTE[3], "dash": "dot", "width": 1.5})
    fig.add_annotation(x=pd.Timestamp(today), y=1, yref="paper", yanchor="bottom", text=_("today"), showarrow=False,
                       font={"color": PALETTE[3]})
    fig = _layout(fig, _("PoC plan: phases from survey to GO/NO-GO"), _("Date"), _("Phase"), height=320)
    # The legend beside the title: below, it would cover the year under the first date tick.
    fig.update_layout(legend={"orientation": "h", "yanchor": "bottom", "y": 1.06, "xanchor": "right", "x": 1})
    if not dated.empty:  # room after the last bar for an owner's name that does not fit inside it
        first, last = pd.to_datetime(dated["start"]).min(), pd.to_datetime(dated["end"]).max()
        span = max(last - first, pd.Timedelta(days=14))
        fig.update_xaxes(range=[first - span * 0.03, last + span * 0.25])
    fig.update_xaxes(type="date")
    japanese_dates(fig)
    fig.update_yaxes(categoryorder="array", categoryarray=list(phases["name"])[::-1], autorange=True)
    fig.update_layout(barmode="overlay")
    return fig
