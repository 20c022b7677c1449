"""Charts of backtest runs: the ladder (accuracy against effort), improvement over a
baseline, error by horizon and segment, the error distribution and forecasts against
actuals. Built on ``core.plotting``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core import fmt
from core.backtest.metrics import PERCENT_METRICS
from core.columns import DATE, TARGET
from core.forecast.base import Rung, rung_name
from core.i18n import N_, gettext, ngettext
from core.plotting import COUNT_TICKS, PALETTE, TICKS, base_layout, model_label
from core.text import chart_label, chart_labels

RUNG_COLOURS = {"current practice": "#7f7f7f", "rule": "#3a9d5d", "statistical": "#1f4e79", "simple model": "#8e6bbf",
                "GBDT": "#e07b39", "built elsewhere": "#b5384a"}


RUNG_ORDER = tuple(r.value for r in Rung)  # the ladder, cheapest first

# One colour per model, the same on every chart of a run and on every run: fixed per built-in
# alias (a model added to a run moves no other model's colour, as colouring by position in the
# run did), none of them grey (the greys are the diagonal, the baselines and the actuals).
MODEL_COLOURS = {"practice": "#8c6d31", "naive": "#17becf", "snaive": "#2ca02c", "ma": "#bcbd22",
                 "lastyear": "#d4a017", "croston": "#e377c2", "tsb": "#ff9896", "ets": "#1f4e79",
                 "theta": "#2a9df4", "comb": "#6a3d9a", "arima": "#c23b4e", "glm": "#00838f", "lgbm": "#e07b39"}
# Models made elsewhere and any alias not above: picked by a checksum of the alias (stable
# across sessions and runs, unlike Python's salted hash()).
OTHER_COLOURS = ("#b5384a", "#5e3c99", "#1b9e77", "#e7298a", "#66a61e", "#a6761d", "#386cb0", "#f0027f")


def model_colour(alias: str) -> str:
    """The colour of model ``alias`` on every backtest chart (hex): ``MODEL_COLOURS`` for
    the built-in models, else one of ``OTHER_COLOURS`` chosen by the alias's CRC-32."""
    return MODEL_COLOURS.get(str(alias)) or OTHER_COLOURS[zlib.crc32(str(alias).encode()) % len(OTHER_COLOURS)]


METRIC_LABELS = {"wape": "WAPE (%)", "smape": "sMAPE (%)", "mase": N_("MASE (1 = in-sample seasonal naive)"),
                 "rmsse": N_("RMSSE (1 = in-sample naive)"), "mae": N_("MAE (units)"), "rmse": N_("RMSE (units)"),
                 "bias": N_("Bias (units, forecast − actual)"), "pinball": N_("Pinball loss (scaled like MASE)"),
                 "coverage_80": N_("80 % interval coverage (%)"), "coverage_95": N_("95 % interval coverage (%)"),
                 "width_80": N_("80 % interval width (units)")}


def metric_label(metric: str) -> str:
    """A metric's axis title with its unit: ``WAPE (%)``, ``MASE (1 = in-sample seasonal naive)``,
    in the current language."""
    return gettext(METRIC_LABELS[metric]) if metric in METRIC_LABELS else fmt.metric_name(metric)


def _metric_values(values: pd.Series, metric: str) -> pd.Series:
    return values * 100 if metric in PERCENT_METRICS else values


def ladder(board: pd.DataFrame, complexity: dict[str, int],
           effort: Mapping[str, float | None] | None = None) -> go.Figure:
    """Accuracy against effort, one point per model, coloured by rung: is the next rung worth it?

    ``board``: one row per model with model (alias), rung, wape, mase and seconds (compute,
    all folds). Forecasts made elsewhere (rung "built elsewhere") used no compute seconds
    of the run: they are drawn one decade right of the slowest built-in model, past a
    dotted line, labelled with the effort their maker stated (``effort``: alias →
    person-weeks, None when not stated), because that effort, not seconds, is their cost.
    """
    fig = go.Figure()
    rows = board.assign(rank=board["rung"].map({r: i for i, r in enumerate(RUNG_ORDER)}),
                        complexity=board["model"].map(complexity)).sort_values(["rank", "seconds"])
    elsewhere = (rows["rung"] == Rung.EXTERNAL.value).to_numpy()
    timed = rows.loc[~elsewhere, "seconds"].clip(lower=1e-3).dropna()
    edge = 10 ** (np.ceil(np.log10(float(timed.max()))) + 1) if len(timed) else 10.0
    rows = rows.assign(x=np.where(elsewhere, edge, rows["seconds"].clip(lower=1e-3)))
    weeks = [(effort or {}).get(m) for m in rows["model"]]
    rows = rows.assign(label=[model_label(m) + (f" · {_weeks(w)}" if out else "")
                              for m, w, out in zip(rows["model"], weeks, elsewhere, strict=True)],
                       effort_text=[_weeks(w) for w in weeks])
    # The best of each rung joined rung by rung, cheapest rung first (arrows point up the
    # ladder): it goes left where a higher rung's best model is faster than the rung below's.
    best = rows.dropna(subset=["wape"]).sort_values(["rank", "wape"], kind="stable").drop_duplicates("rank")
    fig.add_trace(go.Scatter(
        x=best["x"], y=best["wape"] * 100, mode="lines+markers", name=gettext("best of each rung, up the ladder"),
        line={"color": "#bbbbbb", "dash": "dot"}, hoverinfo="skip",
        marker={"symbol": "arrow", "angleref": "previous", "size": 9, "color": "#bbbbbb",
                "opacity": [0.0] + [1.0] * (len(best) - 1)}))
    log_x = np.log10(rows["x"].to_numpy(float))
    positions = _label_positions(log_x, (rows["wape"] * 100).to_numpy(float))
    # A label stays over or under its own marker, never pushed left onto a neighbour (a fresh user read
    # "LightGBM" as the name of the bubble left of it): the axis reaches far enough right for the
    # rightmost labels instead. Only a label that would reach right of its marker there is turned left.
    right = log_x >= log_x.max(initial=0.0) - 0.5
    positions = [_leftward(p) if r and p.endswith("right") else p for p, r in zip(positions, right, strict=True)]
    rows = rows.assign(position=np.where(elsewhere, "top left", positions))
    for rung in RUNG_ORDER:
        part = rows[rows["rung"] == rung]
        if part.empty:
            continue
        cost = (gettext("made elsewhere: no compute seconds in this run<br>stated effort {effort}").format(
            effort="%{customdata[2]}") if rung == Rung.EXTERNAL.value
            else gettext("{seconds} s compute").format(seconds="%{x:,.2f}"))
        complexity = gettext("complexity {level}/5").format(level="%{customdata[1]}")
        fig.add_trace(go.Scatter(
            x=part["x"], y=part["wape"] * 100, mode="markers+text", name=rung_name(rung),
            text=part["label"].tolist(), textposition=part["position"].tolist(),
            cliponaxis=False,
            marker={"color": RUNG_COLOURS[rung], "size": 10 + 4 * part["complexity"].fillna(1), "line": {"width": 0}},
            customdata=part[["mase", "complexity", "effort_text"]],
            hovertemplate="<b>%{text}</b><br>WAPE %{y:.1f}%<br>MASE %{customdata[0]:.3f}<br>"
                          f"{cost}<br>{complexity}<extra></extra>",
        ))
    fig = base_layout(fig, gettext("The ladder: accuracy against effort (lower and further left is better)"),
                      gettext("Compute seconds, all folds (log scale) · bubble size: complexity (1–5)"), "WAPE (%)",
                      height=420)
    if elsewhere.any():
        line = edge / 10 ** 0.5  # half a decade left of the models made elsewhere
        fig.add_shape(type="line", x0=line, x1=line, yref="paper", y0=0, y1=1,
                      line={"color": "#bbbbbb", "dash": "dot", "width": 1})
        # On a log axis an annotation's x is the decade (log10), not the value.
        fig.add_annotation(x=np.log10(line), y=1, yref="paper", xanchor="right", yanchor="top", showarrow=False,
                           text=gettext("built elsewhere: effort in person-weeks, not seconds →"),
                           font={"size": 11, "color": "#777777"})
    fig.update_xaxes(type="log", dtick=1, tickformat="~g")  # one tick per decade
    if not elsewhere.any() and len(rows):  # room on both sides for the labels of the outermost points
        fig.update_xaxes(range=[float(np.nanmin(log_x)) - 0.6, float(np.nanmax(log_x)) + 0.8])
    if elsewhere.any():  # seconds are ticked only where there are seconds, left of the dotted line
        low = np.floor(np.log10(float(rows["x"].min())))
        fig.update_xaxes(range=[low - 0.5, np.log10(edge) + 0.3],
                         tickvals=[10.0 ** k for k in range(int(low), int(np.log10(edge)))])
    fig.update_yaxes(tickformat=TICKS, rangemode="normal")
    fig.update_layout(hovermode="closest")
    return fig


def _weeks(value: float | None) -> str:
    """``6 person-weeks``, ``1 person-week``, ``0.5 person-weeks``."""
    if value is None:
        return gettext("effort not stated")
    return ngettext("{n} person-week", "{n} person-weeks", float(value)).format(n=fmt.trimmed(value, 1))


def _leftward(position: str) -> str:
    """A label position that does not reach right of its marker: "top center" -> "top left"."""
    vertical = position.split()[0]
    return f"{vertical} left"


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
    hover = [gettext("WAPE the same as {model}").format(model=base) if fmt.pct_change(g) == fmt.no_change()
             else (gettext("WAPE {pct} lower than {model}") if g > 0 else gettext("WAPE {pct} higher than {model}"))
             .format(pct=fmt.pct(abs(g)), model=base) for g in rows]
    fig = go.Figure(go.Bar(
        x=rows * 100, y=[model_label(m) for m in rows.index], orientation="h",
        marker_color=[PALETTE[2] if g > 0 else PALETTE[3] for g in rows],
        text=[fmt.pct_change(g) for g in rows], textposition="outside", cliponaxis=False,
        customdata=hover, hovertemplate="%{y}: %{customdata}<extra></extra>",
    ))
    span = max(float((rows.abs() * 100).max()) if len(rows) else 1.0, 1.0)
    low = min(float(rows.min() * 100), 0.0) if len(rows) else 0.0
    fig = base_layout(fig, gettext("WAPE reduction against {model}").format(model=fmt.model_name(baseline)),
                      gettext("Lower WAPE than {model} (%)").format(model=fmt.model_name(baseline)), "",
                      height=max(240, 60 + 34 * len(rows)))
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
    for model, part in frame.groupby("model", sort=True):
        part = part.sort_values(x)
        fig.add_trace(go.Scatter(x=part[x], y=_metric_values(part["value"], metric), name=model_label(model),
                                 mode="lines+markers", line={"color": model_colour(model)}))
    fig = base_layout(fig, title, x_label, metric_label(metric))
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
    for model, part in frame.groupby("model", sort=True):
        part = part.set_index("group").reindex(order.index).dropna(subset=["value"]).reset_index()
        values = _metric_values(part["value"], metric)
        texts = [fmt.pct(v, digits) if metric in PERCENT_METRICS else fmt.number(v, digits)
                 for v in part["value"]]
        fig.add_trace(go.Bar(
            x=values, y=chart_labels(part["group"].astype(str)), orientation="h", name=model_label(model),
            marker_color=model_colour(model), text=texts, textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra>" + model_label(model) + "</extra>",
        ))
    fig = base_layout(fig, title, metric_label(metric), segment_label,
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
    fig = base_layout(fig, gettext("{metric} of {model} by {rows} and {columns}").format(
                          metric=metric_label(metric), model=fmt.model_name(model), rows=rows_label, columns=cols_label),
                      cols_label, rows_label, height=max(320, 80 + 26 * len(values)))
    fig.update_yaxes(tickformat=None, rangemode="normal", autorange="reversed")
    fig.update_layout(hovermode="closest")
    return fig


def error_distribution(frame: pd.DataFrame, metric: str) -> go.Figure:
    """Per-series values of ``metric``, one box per model."""
    fig = go.Figure()
    for model, part in frame.groupby("model", sort=True):
        fig.add_trace(go.Box(y=_metric_values(part["value"], metric), name=model_label(model), boxpoints="outliers",
                             marker_color=model_colour(model)))
    fig = base_layout(fig, gettext("Distribution of per-series {metric}").format(metric=metric_label(metric)),
                      gettext("Model"), metric_label(metric))
    fig.update_yaxes(tickformat=TICKS, rangemode="normal")
    fig.update_layout(showlegend=False, hovermode="closest")
    return fig


def forecast_vs_actual(history: pd.DataFrame, forecasts: pd.DataFrame, title: str, y_label: str) -> go.Figure:
    """Actuals (before and during the folds) with each model's forecast per fold and the cutoffs marked;
    ``y_label``: the value axis's title ("units per period")."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=history[DATE], y=history[TARGET], name=gettext("Actual"), mode="lines",
                             line={"color": "#222222", "width": 1.4}))
    for model, part in forecasts.groupby("model", sort=True):
        colour = model_colour(model)
        for j, (_, fold) in enumerate(part.groupby("cutoff", sort=True)):
            fig.add_trace(go.Scatter(x=fold[DATE], y=fold["forecast"], name=model_label(model), legendgroup=str(model),
                                     showlegend=j == 0, mode="lines", line={"color": colour, "width": 1.6}))
    for cutoff in sorted(forecasts["cutoff"].unique()):
        fig.add_vline(x=pd.Timestamp(cutoff), line={"color": "#999", "dash": "dash", "width": 1})
    fig = base_layout(fig, title, gettext("Date (dashed lines: fold cutoffs)"), y_label, height=420)
    return fig


# ---------------------------------------------------------------------------------
# The spread of the forecasts: calibration (issue 14)
# ---------------------------------------------------------------------------------
def calibration(overall: pd.DataFrame) -> go.Figure:
    """Is each model's spread honest? For each quantile level (x, nominal %) the share of
    actual values at or below the model's quantile (y, observed %), one line per model, and
    the diagonal where a calibrated model lies: a point below it means the quantile was too
    low (more sales above it than it promised), above it too high.

    ``overall``: the run's overall metrics, long (model alias, metric, value); the points are
    the calibration shares ``below_<level>`` (``core.backtest.metrics.CALIBRATION_METRICS``,
    fractions). A model without them is left out; no model: an empty chart that says so."""
    below = overall[overall["metric"].astype(str).str.startswith("below_")]
    below = below.assign(level=below["metric"].str.removeprefix("below_").astype(float) * 100,
                         observed=below["value"].astype(float) * 100).dropna(subset=["observed"])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 100], y=[0, 100], mode="lines", name=gettext("calibrated (observed = nominal)"),
                             line={"color": "#999999", "dash": "dash"}, hoverinfo="skip"))
    for model, part in below.groupby("model", sort=True):
        part = part.sort_values("level")
        name = model_label(model)
        hover = [gettext("{model}: {share} of actual values at or below its {level}% quantile (calibrated: "
                         "{level}%)").format(model=name, share=fmt.pct(o / 100), level=fmt.trimmed(lv, 1))
                 for lv, o in zip(part["level"], part["observed"], strict=True)]
        fig.add_trace(go.Scatter(x=part["level"], y=part["observed"], mode="lines+markers", name=name,
                                 line={"color": model_colour(model)}, customdata=hover,
                                 hovertemplate="%{customdata}<extra></extra>"))
    title = (gettext("Calibration: share of actual values at or below each forecast quantile") if len(below) else
             gettext("Calibration: no quantiles in this run"))
    fig = base_layout(fig, title, gettext("Quantile level (nominal %)"), gettext("Actual values at or below it (%)"),
                      height=420)
    ticks = sorted(set(below["level"])) or [2.5, 10, 50, 90, 97.5]
    fig.update_xaxes(range=[0, 100], tickmode="array", tickvals=ticks, ticktext=[f"{fmt.trimmed(t, 1)}%" for t in ticks])
    fig.update_yaxes(range=[0, 100], ticksuffix="%", tickformat=TICKS)
    fig.update_layout(hovermode="closest")
    return fig
