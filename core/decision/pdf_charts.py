"""The decision's charts for paper: matplotlib figures rendered to PNG bytes.

Printed reports are often copied in black and white, so nothing here relies on colour
alone: rungs differ by hatch as well as by grey level, the chosen model is named in its
label, every bar and point carries its value, and lines differ by marker and dash.
Text uses the same IPAexGothic font as the PDF (shipped by the ``matplotlib-fontja``
package), with DejaVu Sans — matplotlib's own — for the few symbols it lacks.

matplotlib is imported inside the functions, so importing this module stays cheap;
figures are bare ``Figure`` objects rendered by Agg, never pyplot or a GUI.

Titles, axes, legends and labels are in the language of the moment (``core.i18n``);
amounts on an axis read ``¥20M`` in English, ``2,000万円`` in Japanese.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from core import fmt
from core.forecast.base import Rung
from core.i18n import _, language, ngettext, pgettext
from core.paper.charts import GRID, INK
from core.paper.charts import figure as _figure
from core.paper.charts import png as _png
from core.paper.charts import style as _style
from core.paper.charts import title as _title

# Grey levels far enough apart to tell rungs apart in black and white; each rung has
# its hatch too, and the darkest fill gets a light hatch so that it stays visible.
RUNG_STYLE: dict[str, dict[str, str]] = {
    Rung.PRACTICE: {"color": "#d9d9d9", "hatch": "", "hatchcolor": INK},
    Rung.RULE: {"color": "#b8cfe0", "hatch": "///", "hatchcolor": "#2b2b2b"},
    Rung.STATISTICAL: {"color": "#6f97bd", "hatch": "...", "hatchcolor": "#1a1a1a"},
    Rung.LINEAR: {"color": "#4a6f94", "hatch": "--", "hatchcolor": "#e8e8e8"},
    Rung.GBDT: {"color": "#23456b", "hatch": "xx", "hatchcolor": "#e8e8e8"},
    Rung.EXTERNAL: {"color": "#0d1b2a", "hatch": "++", "hatchcolor": "#e8e8e8"},
}
OTHER_RUNG = {"color": "#a6a6a6", "hatch": "\\\\", "hatchcolor": INK}
RUNG_ORDER = tuple(Rung)
CHOSEN = "#23456b"
OTHER = "#b8cfe0"
NEGATIVE = "#e6e6e6"


def _name(row: dict, key: str = "model") -> str:
    """A policy or model as people read it: its name, never its alias."""
    alias = row.get(key)
    return fmt.policy_name(alias) if alias else ""


def _ladder_rows(leaderboard: list[dict]) -> list[dict]:
    """Cheapest rung first, and within a rung the best model first: the ladder read top-down."""
    rank = {r: i for i, r in enumerate(RUNG_ORDER)}
    return sorted(leaderboard, key=lambda r: (rank.get(r.get("rung"), len(rank)),
                                              r["wape"] if r.get("wape") is not None else math.inf))


def _pct_axis(ax, values: Sequence[float]) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _short_pct(v)))
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    low, high = min([0.0, *values]), max([0.0, *values])
    span = (high - low) or 1.0
    ax.set_xlim(low - (0.2 * span if low < 0 else 0), high + 0.22 * span)


def _label_bars(ax, bars, texts: Sequence[str], values: Sequence[float]) -> None:
    span = abs(ax.get_xlim()[1] - ax.get_xlim()[0])
    for bar, text, value in zip(bars, texts, values, strict=True):
        y = bar.get_y() + bar.get_height() / 2
        # A loss is labelled right of zero too: on the left the label would run into the model's name.
        ax.text(max(value, 0.0) + span * 0.012, y, text, va="center", ha="left", fontsize=7.5)


def improvement_baseline(leaderboard: list[dict]) -> str | None:
    """The baseline the ladder's right-hand chart measures against: today's practice
    where the run has it, else seasonal naive; None when it has neither."""
    for baseline in ("practice", "snaive"):
        if any(r.get(f"vs_{baseline}") is not None for r in leaderboard):
            return baseline
    return None


def ladder_png(leaderboard: list[dict], chosen: str, width_mm: float = 180, height_mm: float = 78) -> bytes:
    """Left: WAPE by model, one hatch per rung. Right: WAPE reduction against today's
    practice (seasonal naive where practice is not in the run); left out when the run
    has neither, rather than drawn empty."""
    rows = [r for r in _ladder_rows(leaderboard) if r.get("wape") is not None]
    baseline = improvement_baseline(rows)
    with _style():
        # The right-hand chart reads its rows from the left one's names: repeating them would squeeze both.
        fig, axes = _figure(width_mm, height_mm, 2 if baseline else 1, width_ratios=(1.6, 1) if baseline else None)
        left = axes[0]
        panel = width_mm * (1.6 / 2.6 if baseline else 1.0)
        labels = [_chosen(_name(r)) if r["model"] == chosen else _name(r) for r in rows]
        y = list(range(len(rows)))
        styles = [RUNG_STYLE.get(r.get("rung"), OTHER_RUNG) for r in rows]
        wape = [r["wape"] for r in rows]
        bars = left.barh(y, wape, edgecolor=INK, linewidth=0.6, height=0.7)
        for bar, style in zip(bars, styles, strict=True):
            bar.set(facecolor=style["color"], hatch=style["hatch"], hatchcolor=style["hatchcolor"])
        left.set_yticks(y, labels)
        left.invert_yaxis()
        _pct_axis(left, wape)
        _label_bars(left, bars, [f"{fmt.pct(w)}  ·  {_cost(r)}" for w, r in zip(wape, rows, strict=True)], wape)
        stated = any(_effort(r) is not None for r in rows)
        _title(left, _("WAPE by model, with fit time or the effort its maker stated (lower is better)") if stated
               else _("WAPE by model, with fit time (lower is better)"), panel)
        left.set_xlabel(_("WAPE: absolute error as a share of sales"))
        rungs = [r for r in RUNG_ORDER if any(row.get("rung") == r for row in rows)]
        handles = [_patch(RUNG_STYLE[r], _("rung: {rung}").format(rung=rung_name(r))) for r in rungs]
        # Up to four rungs fit one row; more (six with a linear model and one made elsewhere) take two rows,
        # which a single row would push past both edges of the picture.
        fig.legend(handles=handles, loc="outside lower center", ncols=_legend_columns(len(handles)),
                   handlelength=2.6, handleheight=1.4, columnspacing=2.0)
        if baseline is None:
            return _png(fig)
        right = axes[1]
        gains = [r.get(f"vs_{baseline}") for r in rows]
        # A model several times worse than the baseline would squash every other bar: its bar stops at −100 %
        # and its label says how far it really goes.
        shown = [max(g, -1.0) if g is not None else 0.0 for g in gains]
        bars = right.barh(y, shown, color=[CHOSEN if r["model"] == chosen else OTHER for r in rows],
                          hatch=["" if g is None or g >= 0 else "///" for g in gains], edgecolor=INK, linewidth=0.6,
                          height=0.7)
        right.set_yticks(y, [""] * len(y))
        right.set_ylim(left.get_ylim())
        _pct_axis(right, shown)
        right.axvline(0, color=INK, linewidth=0.8)
        _label_bars(right, bars, [pgettext("chart", "baseline") if r["model"] == baseline else
                                  fmt.pct_change(g) if g is not None else fmt.MISSING
                                  for g, r in zip(gains, rows, strict=True)], shown)
        _title(right, _("Improvement over today's practice") if baseline == "practice" else
               _("Improvement over seasonal naive"), width_mm - panel)
        right.set_xlabel(_("WAPE reduction (higher is better)"))
        return _png(fig)


def money_png(money: list[dict], chosen: str, baseline_label: str, width_mm: float = 180,
              height_mm: float | None = None, baseline: str = "practice") -> bytes:
    """Yearly savings of every policy against the baseline, one bar each, the full
    width of the page (side by side with another chart, long model names squeeze both).
    The height follows the number of policies unless given."""
    rows = sorted((r for r in money if r.get("yearly_savings") is not None), key=lambda r: -r["yearly_savings"])
    with _style():
        fig, (ax,) = _figure(width_mm, height_mm or money_height(money))
        y = list(range(len(rows)))
        values = [r["yearly_savings"] for r in rows]
        bars = ax.barh(y, values, color=[CHOSEN if r["policy"] == chosen else NEGATIVE if r["yearly_savings"] < 0
                                         else OTHER for r in rows],
                       hatch=["///" if v < 0 else "" for v in values], edgecolor=INK, linewidth=0.6, height=0.7)
        ax.set_yticks(y, [(_chosen(_name(r, "policy")) if r["policy"] == chosen else _name(r, "policy"))
                          for r in rows])
        ax.invert_yaxis()
        _yen_axis(ax, values)
        ax.axvline(0, color=INK, linewidth=0.8)
        _label_bars(ax, bars, [_("the baseline") if r["policy"] == baseline else fmt.yen_change(v, short=True)
                               for r, v in zip(rows, values, strict=True)], values)
        _title(ax, _("Yearly savings against {baseline}").format(baseline=baseline_label), width_mm)
        ax.set_xlabel(_("yen per year (negative: loses money)"))
        return _png(fig)


def money_height(money: list[dict]) -> float:
    """The savings chart's height in mm: room for each policy's bar and the axis."""
    return 24.0 + 7.0 * sum(1 for r in money if r.get("yearly_savings") is not None)


def sensitivity_png(money: list[dict], sensitivity: list[dict], chosen: str, width_mm: float = 180,
                    height_mm: float = 58, period: str = "days") -> bytes | None:
    """The chosen model's yearly savings with one service level for every item, against
    the ordering decided on (dashed); None when the decision recorded no such curve.
    ``period``: what a service level counts ("days", "weeks", "months")."""
    curve = sorted((r for r in sensitivity if r.get("policy") == chosen and r.get("yearly_savings") is not None),
                   key=lambda r: r["service_level"])
    if not curve:
        return None
    with _style():
        fig, (ax,) = _figure(width_mm, height_mm)
        _sensitivity(ax, curve, chosen, next((r for r in money if r.get("policy") == chosen), None), width_mm,
                     period)
        return _png(fig)


def _sensitivity(ax, curve: list[dict], chosen: str, chosen_row: dict | None, width_mm: float, period: str) -> None:
    # Service levels bunch up near 100%: evenly spaced categories read better than a true scale.
    x = list(range(len(curve)))
    savings = [r["yearly_savings"] for r in curve]
    name = fmt.model_name(chosen)
    ax.plot(x, savings, color=CHOSEN, marker="o", markersize=4.5, linewidth=1.6,
            label=_("{model}, one service level for every item").format(model=name))
    best = max(range(len(curve)), key=lambda i: savings[i])
    ax.axhline(0, color=INK, linewidth=0.8)
    decided = chosen_row.get("yearly_savings") if chosen_row else None
    low, top = min([0.0, *savings]), max([0.0, *savings, *([decided] if decided is not None else [])])
    span = (top - low) or 1.0
    # The two labels go on opposite sides of their lines when the lines are close, so they never overlap.
    close = decided is not None and abs(decided - savings[best]) < 0.15 * span
    ax.annotate(_("best single level {level}: {amount}").format(
                level=f"{curve[best]['service_level'] * 100:g}%", amount=fmt.yen_short(savings[best])),
                (best, savings[best]), xytext=(0, -6 if close else 5), textcoords="offset points",
                ha="center" if 0 < best < len(curve) - 1 else "left" if best == 0 else "right",
                va="top" if close else "bottom", fontsize=7,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6}, zorder=4)  # the curve never crosses it
    if decided is not None:
        ax.axhline(decided, color=INK, linestyle=(0, (5, 2.5)), linewidth=1.0)
        ax.annotate(_("as decided: {amount}").format(amount=fmt.yen_short(decided)),
                    (0, decided), xytext=(0, 2.5), textcoords="offset points", fontsize=7, va="bottom", ha="left")
    ax.set_ylim(low - (0.22 if close else 0.05) * span, top + 0.25 * span)
    ax.set_xticks(x, [f"{r['service_level'] * 100:g}%" for r in curve], fontsize=7)
    _yen_ticks(ax.yaxis)
    ax.grid(color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    _title(ax, _("{model}: savings by service level").format(model=name), width_mm)
    ax.set_xlabel(_("target service level ({period} without a stockout)").format(period=period))
    # Where the line and the labels leave room; on white, so that the dashed line never runs through its text.
    ax.legend(loc="best", fontsize=7, handlelength=2.6, frameon=True, facecolor="white", edgecolor="none",
              framealpha=1.0)


def _yen_axis(ax, values: Sequence[float]) -> None:
    _yen_ticks(ax.xaxis)
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    low, high = min([0.0, *values]), max([0.0, *values])
    span = (high - low) or 1.0
    ax.set_xlim(low - (0.05 * span if low < 0 else 0), high + 0.42 * span + (0.25 * span if low < 0 else 0))


def _yen_ticks(axis) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(5))
    axis.set_major_formatter(FuncFormatter(lambda v, _: _short_yen(v)))


def _short_pct(share: float) -> str:
    """Axis ticks: 5%, 2.5%, 0.05%: the decimals a tick needs, never 0%, 0%, 1% on a narrow range."""
    text = f"{abs(share) * 100:.2f}".rstrip("0").rstrip(".")
    return (fmt.MINUS if share < 0 and text != "0" else "") + text + "%"


def _short_yen(value: float) -> str:
    """Axis ticks: ¥20M, −¥5M, ¥1.25M, ¥500k, ¥1.5k: the decimals a tick needs, so that
    ticks 500 apart never both read ¥2k; the sign before the ¥, as ``core.fmt`` writes it.
    In Japanese: 2,000万円, −500万円, 125万円, 1.5億円, 5,000円."""
    sign = fmt.MINUS if value < -1e-9 else ""
    value = abs(value)
    if language() == "ja":
        scale, unit = (1e8, "億円") if value >= 1e8 else (1e4, "万円") if value >= 1e4 else (1.0, "円")
        return f"{sign}{f'{value / scale:,.2f}'.rstrip('0').rstrip('.')}{unit}"
    scale, suffix = (1e6, "M") if value >= 1e6 else (1e3, "k") if value >= 1e3 else (1.0, "")
    digits = f"{value / scale:,.2f}".rstrip("0").rstrip(".")
    return f"{sign}¥{digits}{suffix}"


def _legend_columns(n: int) -> int:
    """Columns of the rung legend: one row up to four entries, else two rows."""
    return n if n <= 4 else math.ceil(n / 2)


def _effort(row: dict) -> float | None:
    """The person-weeks a model's maker stated (models made elsewhere), or None."""
    weeks = row.get("effort_weeks")
    return None if weeks is None or (isinstance(weeks, float) and math.isnan(weeks)) else float(weeks)


def _cost(row: dict) -> str:
    """What a model's bar is labelled with after its WAPE: its fit time in the run, or —
    for a model made elsewhere, which used none of the run's compute — the person-weeks
    its maker stated (e.g. '2 person-weeks')."""
    seconds, weeks = row.get("seconds"), _effort(row)
    if seconds is not None and isinstance(seconds, float) and math.isnan(seconds):
        seconds = None
    if weeks is not None and seconds is None:
        return ngettext("{n} person-week", "{n} person-weeks", weeks).format(
            n=fmt.number(weeks, 0 if weeks == int(weeks) else 1))
    return _seconds(seconds)


def _seconds(value: float | None) -> str:
    if value is None:
        return fmt.MISSING
    return _("{seconds} s").format(seconds=f"{value:.1f}") if value >= 0.1 else _("< 0.1 s")


def _chosen(name: str) -> str:
    """The chosen model's label on a chart: ``★ ETS (chosen)``."""
    return _("★ {model} (chosen)").format(model=name)


def rung_name(rung: str) -> str:
    from core.decision.pdf import rung_name as name

    return name(rung)


def _patch(style: dict[str, str], label: str):
    from matplotlib.patches import Patch

    return Patch(facecolor=style["color"], hatch=style["hatch"], hatchcolor=style["hatchcolor"], edgecolor=INK,
                 linewidth=0.6, label=label)


def online_png(offline: float | None, measured: float, low: float, high: float, level: float = 0.95,
               running_cost: float | None = None, width_mm: float = 180, height_mm: float = 52) -> bytes:
    """The offline promise (the backtest's yearly savings: a diamond, no interval) against
    the pilot's yearly profit effect scaled to the chain (a dot with its ``level``
    interval as a bar), in yen a year; the running cost dashed when known. Every point
    carries its value, so it reads in black and white."""
    rows = ([(_("Backtest (offline promise)"), offline, None)] if offline is not None else []) + [
        (_("Pilot (online, {level} interval)").format(level=fmt.pct(level, 0)), measured, (low, high))]
    with _style():
        fig, (ax,) = _figure(width_mm, height_mm)
        y = list(range(len(rows)))
        for row, (_label, value, band) in zip(y, rows, strict=True):
            if band:
                ax.errorbar([value], [row], xerr=[[value - band[0]], [band[1] - value]], fmt="o", color=CHOSEN,
                            ecolor=INK, elinewidth=1.4, capsize=5, markersize=7, zorder=3)
                text = _("{amount}  ({low} to {high})").format(amount=fmt.yen_short(value),
                                                                low=fmt.yen_short(band[0]), high=fmt.yen_short(band[1]))
            else:
                ax.plot([value], [row], marker="D", color="#7f7f7f", markeredgecolor=INK, markersize=7,
                        linestyle="none", zorder=3)
                text = fmt.yen_short(value)
            # On white, so that the running cost's dashed line never runs through the figures.
            ax.annotate(text, (value, row), xytext=(0, 7), textcoords="offset points", ha="center", va="bottom",
                        fontsize=7.5, bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6}, zorder=4)
        values = [v for _label, v, _band in rows] + [low, high] + ([running_cost] if running_cost is not None else [])
        lowest, highest = min([0.0, *values]), max([0.0, *values])
        span = (highest - lowest) or 1.0
        ax.set_xlim(lowest - 0.15 * span, highest + 0.15 * span)
        ax.axvline(0, color=INK, linewidth=0.8)
        if running_cost is not None:
            ax.axvline(running_cost, color=INK, linestyle=(0, (5, 2.5)), linewidth=1.0)
            right = running_cost > (lowest + highest) / 2  # its label on the side with room
            ax.annotate(_("running cost {amount}").format(amount=fmt.yen_short(running_cost)), (running_cost, 1),
                        xycoords=("data", "axes fraction"), xytext=(-3 if right else 3, -2), textcoords="offset points",
                        ha="right" if right else "left", va="top", fontsize=7)
        ax.set_yticks(y, [label for label, _value, _band in rows])
        ax.set_ylim(len(rows) - 0.4, -0.7)
        _yen_ticks(ax.xaxis)
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        _title(ax, _("The backtest's promise against the pilot's measurement (yearly savings)"), width_mm)
        ax.set_xlabel(_("yen per year"))
        return _png(fig)
