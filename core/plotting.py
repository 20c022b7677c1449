"""The look every plotly chart of Mitoshi shares: palette, yen and count axes, the base layout.

Pure functions (no Streamlit). Each step draws its own charts in its package's ``charts.py``
(``core/data``, ``core/backtest``, ``core/money``, ``core/decision``, ``core/handoff``,
``core/planning``) on top of these (the PDF's charts are matplotlib: ``core/decision/pdf_charts``). Every
figure has a title and labelled axes with units. Titles, axis titles, group names and keys
may be what users typed or their files hold: they go through ``chart_label``, so Plotly
shows them as text and never as its HTML.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core import fmt
from core.i18n import language
from core.text import chart_label

PALETTE = ("#1f4e79", "#e07b39", "#3a9d5d", "#c23b4e", "#7b5ea7", "#8c6d31", "#2a9df4", "#7f7f7f", "#b5b5b5")


# Value axes: thousands separators and as many decimals as the ticks need (up to six
# significant digits, trailing zeros trimmed): 0, 0.5, 1 or 5.8, 6, 6.2 on a narrow range,
# where a whole-number format repeats 0, 1, 1 or 6, 6, 6.
TICKS = ",~r"


# Axes of counts (stockout days, series): whole numbers only, with thousands separators.
COUNT_TICKS = ",d"


def nice_ticks(low: float, high: float, target: int = 6) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 × a power of ten) covering [low, high], about
    ``target`` of them, 0 among them when the range spans it. An empty or
    reversed range gives the ticks of [low − 1, low + 1]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        low, high = low - 1, low + 1
    raw = (high - low) / max(target - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    # the round step nearest the rough one (by ratio): 5 for 6.7, so that a range gets
    # about ``target`` ticks rather than half as many
    step = min((m * power for m in (1, 2, 2.5, 5, 10)), key=lambda c: abs(math.log(c / raw)))
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [round(i * step, 12) + 0.0 for i in range(first, last + 1)]


# Trailing zeros of a short amount's decimals: ¥2.50M, 5.00万円, 1.50億円.
_TRAILING = re.compile(r"\.?0+(?=[KMBT]?$|[万億兆]円$)")


def yen_tick(value: float, signed: bool = False) -> str:
    """An axis tick in yen: ``¥0``, ``¥500``, ``¥2.5M``, ``−¥5M``, ``+¥20M`` (``signed``): the
    sign before the ¥, no trailing zeros, never ``¥-5M``; in Japanese ``0円``, ``2.5万円``,
    ``−500万円``, ``+2,000万円``."""
    if abs(value) < 0.5:
        return fmt.yen(0)
    text = fmt.yen_short(value, signed=signed)
    if "." in text:
        text = _TRAILING.sub("", text)
    return text


def yen_axis(values: list[float] | pd.Series, signed: bool = False, pad: float = 0.0,
             include_zero: bool = True) -> dict:
    """Plotly axis settings that write yen ticks with ``yen_tick`` (``−¥5M``, ``+¥19.8M``):
    Plotly's own ``tickprefix="¥"`` would put a negative sign after the ¥. ``values``
    are the data the axis shows; ``pad`` widens the range by that share of its span on
    each side (room for bar labels). Returns a dict for ``update_xaxes``/``update_yaxes``
    with ``range``, ``tickvals`` and ``ticktext``."""
    numbers = [float(v) for v in values if not fmt.missing(v)]
    low, high = (min(numbers), max(numbers)) if numbers else (0.0, 1.0)
    if include_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + (abs(low) or 1.0)
    span = high - low
    low = low - pad * span if low < 0 or not include_zero else low
    high = high + pad * span if high > 0 or not include_zero else high
    ticks = nice_ticks(low, high)
    return {"range": [low, high], "tickmode": "array", "tickvals": ticks,
            "ticktext": [yen_tick(t, signed=signed and t != 0) for t in ticks],
            "zeroline": True, "zerolinecolor": "#888"}


def count_axis(values: list[float] | pd.Series) -> dict:
    """Plotly axis settings for counts: whole-number ticks only, one unit apart at least,
    so that a range of 0–2 reads 0, 1, 2 and never 0, 0, 0, 1, 1, 1 or 0.5."""
    numbers = [float(v) for v in values if not fmt.missing(v)]
    top = max(numbers, default=0.0)
    settings: dict = {"tickformat": COUNT_TICKS, "rangemode": "tozero"}
    if top < 10:  # Plotly's own steps would be 0.5 or 0.2 here
        settings |= {"tickmode": "linear", "tick0": 0, "dtick": 1, "range": [0, max(top, 1) * 1.05]}
    return settings


def model_label(alias: object) -> str:
    """A model's name as a Plotly label (``lgbm`` → ``LightGBM``); other names as they are."""
    return chart_label(fmt.model_name(str(alias)))


# Date ticks as a Japanese reader writes dates, by the ticks' spacing ("M1": a month; d3-time-format,
# which Plotly uses: ``%-m`` is the month without a leading zero): 11月30日, 2026年11月, 2026年.
# English keeps Plotly's own ticks (Nov 15 / 2026).
JAPANESE_DATE_TICKS = (
    {"dtickrange": [None, "M1"], "value": "%-m月%-d日"},
    {"dtickrange": ["M1", "M12"], "value": "%Y年%-m月"},
    {"dtickrange": ["M12", None], "value": "%Y年"},
)


def _dated(values: object) -> bool:
    """Whether a trace's x values are dates: datetimes, or ISO date strings (Plotly reads both as dates)."""
    try:
        first = values[0] if values is not None and len(values) else None
    except (TypeError, KeyError):
        return False
    if isinstance(first, (dt.date, np.datetime64)):
        return True
    return isinstance(first, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T].*)?", first) is not None


def japanese_dates(fig: go.Figure) -> go.Figure:
    """In Japanese, the date x axes of ``fig`` (a date axis type, or traces whose x are dates)
    get ticks such as 11月30日 and 2026年11月, and the hover's date 2026年11月30日; a no-op in
    English. Returns ``fig``."""
    if language() != "ja":
        return fig
    dated = fig.layout.xaxis.type == "date" or any(_dated(getattr(t, "x", None)) for t in fig.data)
    if dated:
        fig.update_xaxes(tickformatstops=list(JAPANESE_DATE_TICKS), hoverformat="%Y年%-m月%-d日")
    return fig


def base_layout(fig: go.Figure, title: str, x: str, y: str, height: int = 380) -> go.Figure:
    """Mitoshi's look on ``fig``: the title at the left, axis titles, the legend below the plot,
    thousands separators on the value axis; ``height`` in pixels. Returns ``fig``."""
    fig.update_layout(
        title={"text": chart_label(title), "x": 0, "xanchor": "left"},
        xaxis_title=chart_label(x),
        yaxis_title=chart_label(y),
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        # Below the plot: above it, a legend of many groups wraps into the title.
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "xanchor": "left", "x": 0},
        hovermode="x unified",
        template="plotly_white",
        separators=".,",
    )
    fig.update_yaxes(tickformat=TICKS, rangemode="tozero")
    return japanese_dates(fig)
