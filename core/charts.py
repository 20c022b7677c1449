"""Plotly figures built from the frames the warehouse returns.

Pure functions of data (no Streamlit), so that the pages and, later, the PDF report
draw the same pictures. Every figure has a title and labelled axes with units. Titles,
axis titles, group names and keys may be what users typed or their files hold: they go
through ``chart_label``, so Plotly shows them as text and never as its HTML.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core import fmt
from core.backtest.metrics import PERCENT_METRICS
from core.columns import DATE, TARGET
from core.forecast.base import Rung
from core.text import chart_label, chart_labels

PALETTE = ("#1f4e79", "#e07b39", "#3a9d5d", "#c23b4e", "#7b5ea7", "#8c6d31", "#2a9df4", "#7f7f7f", "#b5b5b5")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
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


_TRAILING = re.compile(r"\.?0+(?=[KMBT]?$)")


def yen_tick(value: float, signed: bool = False) -> str:
    """An axis tick in yen: ``¥0``, ``¥500``, ``¥2.5M``, ``−¥5M``, ``+¥20M`` (``signed``): the
    sign before the ¥, no trailing zeros, never ``¥-5M``."""
    if abs(value) < 0.5:
        return "¥0"
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


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 380) -> go.Figure:
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
    return fig


def totals_over_time(frame: pd.DataFrame, unit: str, grain_label: str) -> go.Figure:
    """Lines of units per period, one per group."""
    fig = go.Figure()
    for i, (group, part) in enumerate(frame.groupby("grp", sort=False)):
        fig.add_trace(go.Scatter(
            x=part["period"], y=part["y"], name=chart_label(group), mode="lines",
            line={"color": PALETTE[i % len(PALETTE)], "width": 1.6},
            hovertemplate="%{y:,.0f} " + chart_label(unit) + "<extra>" + chart_label(group) + "</extra>",
        ))
    return _layout(fig, f"{unit[:1].upper() + unit[1:]} per {grain_label} period", "Date", f"{unit} per period")


def seasonal_profile(frame: pd.DataFrame, part: str, unit: str) -> go.Figure:
    """Each group's profile as an index: 100 = the group's own average."""
    labels = WEEKDAYS if part == "isodow" else MONTHS
    fig = go.Figure()
    for i, (group, rows) in enumerate(frame.groupby("grp", sort=False)):
        rows = rows.sort_values("part")
        index = rows["mean_y"] / rows["mean_y"].mean() * 100
        fig.add_trace(go.Scatter(
            x=[labels[int(p) - 1] for p in rows["part"]], y=index, name=chart_label(group), mode="lines+markers",
            line={"color": PALETTE[i % len(PALETTE)]},
            customdata=rows["mean_y"],
            hovertemplate="index %{y:.0f} (%{customdata:,.2f} " + chart_label(unit) + " per series and period)"
                          "<extra>" + chart_label(group) + "</extra>",
        ))
    fig.add_hline(y=100, line={"color": "#999", "dash": "dot"})
    what = "weekday" if part == "isodow" else "month"
    fig = _layout(fig, f"{unit[:1].upper() + unit[1:]} by {what} (index, 100 = the group's average)",
                  what.capitalize(), "Index (100 = average)")
    fig.update_yaxes(tickformat=TICKS, rangemode="normal")
    return fig


def flag_effect(frame: pd.DataFrame, flag: str, unit: str) -> go.Figure:
    """Uplift of mean units per series-period when ``flag`` is on."""
    rows = frame.sort_values("uplift")
    fig = go.Figure(go.Bar(
        x=rows["uplift"] * 100, y=chart_labels(rows["grp"].astype(str)), orientation="h",
        marker_color=[PALETTE[1] if u >= 0 else PALETTE[3] for u in rows["uplift"]],
        customdata=rows[["mean_off", "mean_on", "periods_on"]],
        text=[fmt.pct_change(u, 0) for u in rows["uplift"]], textposition="outside",
        hovertemplate="%{customdata[0]:,.2f} → %{customdata[1]:,.2f} per series and period "
                      "(%{customdata[2]:,.0f} periods on)<extra></extra>",
    ))
    fig = _layout(fig, f"Uplift of {unit} when '{flag}' is on (within each series)", f"Uplift of {unit} (%)", "",
                  height=max(260, 60 + 32 * len(rows)))
    fig.update_xaxes(ticksuffix="%", zeroline=True)
    fig.update_yaxes(tickformat=None, rangemode="normal")
    fig.update_layout(hovermode="closest")
    return fig


def practice_over_time(frame: pd.DataFrame, unit: str, grain_label: str) -> go.Figure:
    """Units ordered by today's practice against units sold, and stockout counts."""
    totals = frame.groupby("period", as_index=False)[["y", "orders", "stockouts"]].sum()
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=totals["period"], y=totals["stockouts"], name="Stockout series-days", yaxis="y2",
        marker_color="rgba(194,59,78,0.35)", hovertemplate="%{y:,.0f} stockouts<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=totals["period"], y=totals["orders"], name="Ordered (today's practice)", mode="lines",
        line={"color": PALETTE[1], "width": 1.6}, hovertemplate="%{y:,.0f} ordered<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=totals["period"], y=totals["y"], name="Sold", mode="lines",
        line={"color": PALETTE[0], "width": 1.6}, hovertemplate="%{y:,.0f} sold<extra></extra>",
    ))
    fig = _layout(fig, f"Today's ordering practice against sales, per {grain_label} period", "Date",
                  f"{unit} per period")
    fig.update_layout(yaxis2={"title": "Stockouts (series-days)", "overlaying": "y", "side": "right",
                              "showgrid": False, **count_axis(totals["stockouts"])})
    return fig


def series_detail(frame: pd.DataFrame, title: str, unit: str, orders: str | None, stockout: str | None,
                  promo: str | None, window: int = 91) -> go.Figure:
    """One series: sales, orders, promotion periods shaded and stockout days marked."""
    fig = go.Figure()
    if promo and promo in frame:
        on = frame.loc[frame[promo] > 0, DATE]
        fig.add_trace(go.Bar(
            x=on, y=[frame[TARGET].max() * 1.05] * len(on), name=chart_label(f"{promo} on"),
            marker_color="rgba(58,157,93,0.18)",
            hoverinfo="skip", width=86_400_000,
        ))
    fig.add_trace(go.Scatter(x=frame[DATE], y=frame[TARGET], name="Sold", mode="lines",
                             line={"color": PALETTE[0], "width": 1.4}))
    if orders and orders in frame:
        fig.add_trace(go.Scatter(x=frame[DATE], y=frame[orders], name="Ordered (today's practice)",
                                 mode="lines", line={"color": PALETTE[1], "width": 1.2, "shape": "hv"}))
    if stockout and stockout in frame:
        out = frame[frame[stockout] > 0]
        fig.add_trace(go.Scatter(x=out[DATE], y=out[TARGET], name="Stockout (sales censored)", mode="markers",
                                 marker={"color": PALETTE[3], "size": 6, "symbol": "x"}))
    fig = _layout(fig, title, "Date", f"{unit} per period", height=460)
    # Four entries fit beside the title; below, they would collide with the range slider.
    fig.update_layout(barmode="overlay", legend={"yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1})
    if len(frame) > window:
        # Open on the most recent periods, where weekdays, promotions and stockouts are
        # readable; the slider under the chart reaches the whole history.
        fig.update_xaxes(range=[frame[DATE].iloc[-window], frame[DATE].iloc[-1]],
                         rangeslider={"visible": True, "thickness": 0.08})
    return fig


# ---------------------------------------------------------------------------------
# Backtest runs
# ---------------------------------------------------------------------------------
RUNG_COLOURS = {"current practice": "#7f7f7f", "rule": "#3a9d5d", "statistical": "#1f4e79", "GBDT": "#e07b39"}
RUNG_ORDER = tuple(r.value for r in Rung)  # the ladder, cheapest first
METRIC_LABELS = {"wape": "WAPE (%)", "smape": "sMAPE (%)", "mase": "MASE (1 = in-sample seasonal naive)",
                 "rmsse": "RMSSE (1 = in-sample naive)", "mae": "MAE (units)", "rmse": "RMSE (units)",
                 "bias": "Bias (units, forecast − actual)"}


def metric_label(metric: str) -> str:
    """A metric's axis title with its unit: ``WAPE (%)``, ``MASE (1 = in-sample seasonal naive)``."""
    return METRIC_LABELS.get(metric, fmt.metric_name(metric))


def _metric_values(values: pd.Series, metric: str) -> pd.Series:
    return values * 100 if metric in PERCENT_METRICS else values


def ladder(board: pd.DataFrame, complexity: dict[str, int]) -> go.Figure:
    """Accuracy against effort, one point per model, coloured by rung: is the next rung worth it?"""
    fig = go.Figure()
    rows = board.assign(rank=board["rung"].map({r: i for i, r in enumerate(RUNG_ORDER)}),
                        complexity=board["model"].map(complexity)).sort_values(["rank", "seconds"])
    best = rows.groupby("rank", as_index=False).apply(lambda g: g.nsmallest(1, "wape"), include_groups=False)
    fig.add_trace(go.Scatter(
        x=best["seconds"].clip(lower=1e-3), y=best["wape"] * 100, mode="lines", name="best of each rung",
        line={"color": "#bbbbbb", "dash": "dot"}, hoverinfo="skip"))
    positions = _label_positions(np.log10(rows["seconds"].clip(lower=1e-3).to_numpy(float)),
                                 (rows["wape"] * 100).to_numpy(float))
    rows = rows.assign(position=positions)
    for rung in RUNG_ORDER:
        part = rows[rows["rung"] == rung]
        if part.empty:
            continue
        fig.add_trace(go.Scatter(
            x=part["seconds"].clip(lower=1e-3), y=part["wape"] * 100, mode="markers+text", name=rung,
            text=[model_label(m) for m in part["model"]], textposition=part["position"].tolist(),
            marker={"color": RUNG_COLOURS[rung], "size": 10 + 4 * part["complexity"].fillna(1), "line": {"width": 0}},
            customdata=part[["mase", "complexity"]],
            hovertemplate="<b>%{text}</b><br>WAPE %{y:.1f}%<br>MASE %{customdata[0]:.3f}<br>"
                          "%{x:,.2f} s compute<br>complexity %{customdata[1]}/5<extra></extra>",
        ))
    fig = _layout(fig, "The ladder: accuracy against effort (lower and further left is better)",
                  "Compute seconds, all folds (log scale)", "WAPE (%)", height=420)
    fig.update_xaxes(type="log", dtick=1, tickformat="~g")  # one tick per decade
    fig.update_yaxes(tickformat=TICKS, rangemode="normal")
    fig.update_layout(hovermode="closest")
    return fig


LABEL_POSITIONS = ("top center", "bottom center", "middle right", "middle left", "top right", "bottom left")


def _label_positions(x: np.ndarray, y: np.ndarray) -> list[str]:
    """Where each point's label goes so that labels of points close together do not
    print over each other: a point near one already placed (within 0.35 decades of x
    and 8 % of the y range) takes the next free position around its marker."""
    finite = y[np.isfinite(y)]  # a run where nothing sold has no WAPE at all
    span = float(finite.max() - finite.min()) if len(finite) else 0.0
    near_y = 0.08 * span if span > 0 else 1.0
    placed: list[tuple[float, float, str]] = []
    out = []
    for xi, yi in zip(x, y, strict=True):
        taken = {pos for xj, yj, pos in placed if abs(xi - xj) < 0.35 and abs(yi - yj) < near_y}
        position = next((p for p in LABEL_POSITIONS if p not in taken), LABEL_POSITIONS[0])
        placed.append((xi, yi, position))
        out.append(position)
    return out


def improvement_bars(gains: pd.Series, baseline: str) -> go.Figure:
    """WAPE reduction of each model against a baseline (a share: 0.12 = 12 % lower WAPE),
    indexed by model alias; bars labelled ``+12.0%`` / ``−3.4%``, models by name."""
    rows = gains.drop(baseline, errors="ignore").sort_values()
    base = model_label(baseline)
    hover = [f"WAPE {fmt.pct(abs(g))} {'lower' if g > 0 else 'higher'} than {base}"
             if fmt.pct_change(g) != fmt.NO_CHANGE else f"WAPE the same as {base}" for g in rows]
    fig = go.Figure(go.Bar(
        x=rows * 100, y=[model_label(m) for m in rows.index], orientation="h",
        marker_color=[PALETTE[2] if g > 0 else PALETTE[3] for g in rows],
        text=[fmt.pct_change(g) for g in rows], textposition="outside", cliponaxis=False,
        customdata=hover, hovertemplate="%{y}: %{customdata}<extra></extra>",
    ))
    span = max(float((rows.abs() * 100).max()) if len(rows) else 1.0, 1.0)
    low = min(float(rows.min() * 100), 0.0) if len(rows) else 0.0
    fig = _layout(fig, f"WAPE reduction against {fmt.model_name(baseline)}",
                  f"Lower WAPE than {fmt.model_name(baseline)} (%)", "", height=max(240, 60 + 34 * len(rows)))
    # Room beyond the longest bar on each side for its label.
    fig.update_xaxes(tickformat=TICKS, ticksuffix="%", zeroline=True, zerolinecolor="#888",
                     range=[low - 0.3 * span if low < 0 else 0, max(float(rows.max() * 100), 0.0) + 0.3 * span])
    fig.update_yaxes(tickformat=None, rangemode="normal")
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig


def metric_lines(frame: pd.DataFrame, x: str, metric: str, title: str, x_label: str) -> go.Figure:
    """One line per model of ``metric`` against ``x`` (horizon step, fold cutoff).

    ``frame`` has columns model (alias), ``x`` and value (the metric in its own unit,
    WAPE as a fraction). When ``x`` holds text (segment values: categories, stores)
    there is no order to join with a line: the values are drawn as bars from 0,
    sorted (``segment_bars``)."""
    if pd.api.types.is_string_dtype(frame[x]) or pd.api.types.is_object_dtype(frame[x]):
        return segment_bars(frame.assign(group=frame[x])[["model", "group", "value"]], metric, title, x_label)
    fig = go.Figure()
    for i, (model, part) in enumerate(frame.groupby("model", sort=True)):
        part = part.sort_values(x)
        fig.add_trace(go.Scatter(x=part[x], y=_metric_values(part["value"], metric), name=model_label(model),
                                 mode="lines+markers", line={"color": PALETTE[i % len(PALETTE)]}))
    fig = _layout(fig, title, x_label, metric_label(metric))
    fig.update_yaxes(tickformat=TICKS, rangemode="normal")
    if pd.api.types.is_integer_dtype(frame[x]) and len(frame):  # periods ahead: 1, 2, 3, never 1.5
        fig.update_xaxes(tickformat=COUNT_TICKS, **({"tickmode": "linear", "tick0": 1, "dtick": 1}
                                                    if frame[x].max() - frame[x].min() < 10 else {}))
    return fig


def segment_bars(frame: pd.DataFrame, metric: str, title: str, segment_label: str) -> go.Figure:
    """``metric`` per segment value (category, store…) as horizontal bars from 0, the
    worst at the top; one colour per model when there are several (grouped bars,
    segments sorted by their mean). ``frame`` has columns model (alias), group (the
    segment value) and value (the metric in its own unit, WAPE as a fraction)."""
    order = frame.groupby("group")["value"].mean().sort_values()  # best at the bottom, worst at the top
    fig = go.Figure()
    digits = 1 if metric in PERCENT_METRICS else 3
    for i, (model, part) in enumerate(frame.groupby("model", sort=True)):
        part = part.set_index("group").reindex(order.index).dropna(subset=["value"]).reset_index()
        values = _metric_values(part["value"], metric)
        texts = [fmt.pct(v, digits) if metric in PERCENT_METRICS else fmt.number(v, digits)
                 for v in part["value"]]
        fig.add_trace(go.Bar(
            x=values, y=chart_labels(part["group"].astype(str)), orientation="h", name=model_label(model),
            marker_color=PALETTE[i % len(PALETTE)], text=texts, textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra>" + model_label(model) + "</extra>",
        ))
    fig = _layout(fig, title, metric_label(metric), segment_label,
                  height=max(260, 70 + 26 * len(order) * max(frame["model"].nunique(), 1)))
    top = float(_metric_values(frame["value"], metric).max()) if len(frame) else 1.0
    fig.update_xaxes(tickformat=TICKS, range=[min(0.0, float(_metric_values(frame["value"], metric).min())),
                                              max(top, 0.0) * 1.18 or 1.0],
                     ticksuffix="%" if metric in PERCENT_METRICS else "", zeroline=True, zerolinecolor="#888")
    fig.update_yaxes(tickformat=None, rangemode="normal", type="category",
                     categoryorder="array", categoryarray=list(chart_labels(order.index.astype(str).to_series())))
    fig.update_layout(hovermode="closest", barmode="group", showlegend=frame["model"].nunique() > 1)
    return fig


def segment_heatmap(frame: pd.DataFrame, rows_label: str, cols_label: str, metric: str, model: str) -> go.Figure:
    """``metric`` of one model per pair of segments; ``frame`` has columns row, col, value."""
    table = frame.pivot(index="row", columns="col", values="value")
    values = _metric_values(table, metric)
    fig = go.Figure(go.Heatmap(
        z=values.to_numpy(), x=[chart_label(c) for c in values.columns], y=[chart_label(r) for r in values.index],
        colorscale="Blues",
        colorbar={"title": metric_label(metric)},
        text=[[("" if pd.isna(v) else f"{v:.0f}" if metric in PERCENT_METRICS else f"{v:.2f}") for v in row]
              for row in values.to_numpy()],
        texttemplate="%{text}",
        hovertemplate=(f"{chart_label(rows_label)} %{{y}} · {chart_label(cols_label)} %{{x}}: "
                       "%{z:.2f}<extra></extra>"),
    ))
    fig = _layout(fig, f"{metric_label(metric)} of {fmt.model_name(model)} by {rows_label} and {cols_label}",
                  cols_label, rows_label, height=max(320, 80 + 26 * len(values)))
    fig.update_yaxes(tickformat=None, rangemode="normal", autorange="reversed")
    fig.update_layout(hovermode="closest")
    return fig


def error_distribution(frame: pd.DataFrame, metric: str) -> go.Figure:
    """Per-series values of ``metric``, one box per model."""
    fig = go.Figure()
    for i, (model, part) in enumerate(frame.groupby("model", sort=True)):
        fig.add_trace(go.Box(y=_metric_values(part["value"], metric), name=model_label(model), boxpoints="outliers",
                             marker_color=PALETTE[i % len(PALETTE)]))
    fig = _layout(fig, f"Distribution of per-series {metric_label(metric)}", "Model",
                  metric_label(metric))
    fig.update_yaxes(tickformat=TICKS, rangemode="normal")
    fig.update_layout(showlegend=False, hovermode="closest")
    return fig


def forecast_vs_actual(history: pd.DataFrame, forecasts: pd.DataFrame, title: str, unit: str) -> go.Figure:
    """Actuals (before and during the folds) with each model's forecast per fold and the cutoffs marked."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=history[DATE], y=history[TARGET], name="Actual", mode="lines",
                             line={"color": "#222222", "width": 1.4}))
    for i, (model, part) in enumerate(forecasts.groupby("model", sort=True)):
        colour = PALETTE[(i + 1) % len(PALETTE)]
        for j, (_, fold) in enumerate(part.groupby("cutoff", sort=True)):
            fig.add_trace(go.Scatter(x=fold[DATE], y=fold["forecast"], name=model_label(model), legendgroup=str(model),
                                     showlegend=j == 0, mode="lines", line={"color": colour, "width": 1.6}))
    for cutoff in sorted(forecasts["cutoff"].unique()):
        fig.add_vline(x=pd.Timestamp(cutoff), line={"color": "#999", "dash": "dash", "width": 1})
    fig = _layout(fig, title, "Date (dashed lines: fold cutoffs)", f"{unit} per period", height=420)
    return fig


def published_forecast(history: pd.DataFrame, forecast: pd.DataFrame, title: str, unit: str) -> go.Figure:
    """The last periods of one series, then its published forecast and, when there is one,
    the order quantity; the last date of the data marked."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=history[DATE], y=history[TARGET], name="Sold", mode="lines",
                             line={"color": PALETTE[0], "width": 1.4},
                             hovertemplate="%{y:,.0f} sold<extra></extra>"))
    fig.add_trace(go.Scatter(x=forecast[DATE], y=forecast["forecast"], name="Forecast (published)",
                             mode="lines+markers", line={"color": PALETTE[1], "width": 2}, marker={"size": 4},
                             hovertemplate="%{y:,.1f} forecast<extra></extra>"))
    if forecast["order_quantity"].notna().any():
        fig.add_trace(go.Scatter(x=forecast[DATE], y=forecast["order_quantity"], name="Order quantity",
                                 mode="lines", line={"color": PALETTE[2], "width": 1.6, "dash": "dash"},
                                 hovertemplate="%{y:,.1f} to order<extra></extra>"))
    if not history.empty:
        fig.add_vline(x=pd.Timestamp(history[DATE].max()), line={"color": "#999", "dash": "dash", "width": 1})
    fig = _layout(fig, title, "Date (dashed line: last date of the data)", f"{unit} per period", height=420)
    # Three entries fit beside the title; below the plot they would run into the axis title.
    fig.update_layout(legend={"yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1})
    return fig
