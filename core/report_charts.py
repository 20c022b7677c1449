"""The decision's charts for paper: matplotlib figures rendered to PNG bytes.

Printed reports are often copied in black and white, so nothing here relies on colour
alone: rungs differ by hatch as well as by grey level, the chosen model is named in its
label, every bar and point carries its value, and lines differ by marker and dash.
Text uses the same IPAexGothic font as the PDF (shipped by the ``matplotlib-fontja``
package), with DejaVu Sans — matplotlib's own — for the few symbols it lacks.

matplotlib is imported inside the functions, so importing this module stays cheap;
figures are bare ``Figure`` objects rendered by Agg, never pyplot or a GUI.
"""

from __future__ import annotations

import importlib.util
import io
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from core import fmt
from core.forecast.base import Rung

DPI = 200
INK = "#1a1a1a"
MUTED = "#595959"
GRID = "#d0d0d0"
# Grey levels far enough apart to tell rungs apart in black and white; each rung has
# its hatch too, and the darkest fill gets a light hatch so that it stays visible.
RUNG_STYLE: dict[str, dict[str, str]] = {
    Rung.PRACTICE: {"color": "#d9d9d9", "hatch": "", "hatchcolor": INK},
    Rung.RULE: {"color": "#b8cfe0", "hatch": "///", "hatchcolor": "#2b2b2b"},
    Rung.STATISTICAL: {"color": "#6f97bd", "hatch": "...", "hatchcolor": "#1a1a1a"},
    Rung.GBDT: {"color": "#23456b", "hatch": "xx", "hatchcolor": "#e8e8e8"},
}
OTHER_RUNG = {"color": "#a6a6a6", "hatch": "\\\\", "hatchcolor": INK}
RUNG_ORDER = tuple(Rung)
CHOSEN = "#23456b"
OTHER = "#b8cfe0"
NEGATIVE = "#e6e6e6"


def font_path() -> Path:
    """IPAexGothic as installed by the pinned ``matplotlib-fontja`` package (not imported: it restyles matplotlib)."""
    spec = importlib.util.find_spec("matplotlib_fontja")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The Japanese font package is missing: install requirements.txt (matplotlib-fontja).")
    return Path(next(iter(spec.submodule_search_locations))) / "fonts" / "ipaexg.ttf"


def symbol_font_path() -> Path:
    """DejaVu Sans, shipped with matplotlib: ≥, ≤ and ✗, which IPAexGothic lacks."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


@cache
def _register_fonts() -> None:
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font_path()))


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    _register_fonts()
    rc = {"font.family": ["IPAexGothic", "DejaVu Sans"], "font.size": 8.5, "axes.edgecolor": MUTED,
          "axes.labelcolor": INK, "axes.titlesize": 9.5, "axes.titlelocation": "left",
          "axes.spines.top": False, "axes.spines.right": False, "xtick.color": INK, "ytick.color": INK,
          "text.color": INK, "hatch.linewidth": 0.6, "legend.frameon": False, "legend.fontsize": 7.5,
          "axes.unicode_minus": False}
    with matplotlib.rc_context(rc):
        yield


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _figure(width_mm: float, height_mm: float, columns: int = 1, width_ratios: Sequence[float] | None = None):
    # A bare Figure, not pyplot: no global figure registry and no GUI backend, safe in the app's threads.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_mm / 25.4, height_mm / 25.4), layout="constrained")
    axes = fig.subplots(1, columns, width_ratios=width_ratios, squeeze=False)[0]
    return fig, list(axes)


def _ladder_rows(leaderboard: list[dict]) -> list[dict]:
    """Cheapest rung first, and within a rung the best model first: the ladder read top-down."""
    rank = {r: i for i, r in enumerate(RUNG_ORDER)}
    return sorted(leaderboard, key=lambda r: (rank.get(r.get("rung"), len(rank)),
                                              r["wape"] if r.get("wape") is not None else math.inf))


def _pct_axis(ax, values: Sequence[float]) -> None:
    from matplotlib.ticker import FuncFormatter

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
        if value >= 0:
            ax.text(value + span * 0.012, y, text, va="center", ha="left", fontsize=7.5)
        else:
            ax.text(value - span * 0.012, y, text, va="center", ha="right", fontsize=7.5)


def ladder_png(leaderboard: list[dict], chosen: str, width_mm: float = 180, height_mm: float = 78) -> bytes:
    """Left: WAPE by model, one hatch per rung. Right: WAPE reduction against today's practice."""
    rows = [r for r in _ladder_rows(leaderboard) if r.get("wape") is not None]
    with _style():
        fig, (left, right) = _figure(width_mm, height_mm, 2, width_ratios=(1.15, 1))
        labels = [f"★ {r['model']} (chosen)" if r["model"] == chosen else r["model"] for r in rows]
        y = list(range(len(rows)))
        styles = [RUNG_STYLE.get(r.get("rung"), OTHER_RUNG) for r in rows]
        wape = [r["wape"] for r in rows]
        bars = left.barh(y, wape, edgecolor=INK, linewidth=0.6, height=0.7)
        for bar, style in zip(bars, styles, strict=True):
            bar.set(facecolor=style["color"], hatch=style["hatch"], hatchcolor=style["hatchcolor"])
        left.set_yticks(y, labels)
        left.invert_yaxis()
        _pct_axis(left, wape)
        _label_bars(left, bars, [f"{fmt.pct(w)}  ·  {_seconds(r.get('seconds'))}" for w, r in zip(wape, rows,
                                                                                                 strict=True)], wape)
        left.set_title("WAPE by model, with fit time (lower is better)")
        left.set_xlabel("WAPE: absolute error as a share of sales")
        rungs = [r for r in RUNG_ORDER if any(row.get("rung") == r for row in rows)]
        handles = [_patch(RUNG_STYLE[r], f"rung: {r}") for r in rungs]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), handlelength=2.6,
                   handleheight=1.4, columnspacing=2.0)

        gains = [r.get("vs_practice") for r in rows]
        shown = [g if g is not None else 0.0 for g in gains]
        bars = right.barh(y, shown, color=[CHOSEN if r["model"] == chosen else OTHER for r in rows],
                          hatch=["" if g is None or g >= 0 else "///" for g in gains], edgecolor=INK, linewidth=0.6,
                          height=0.7)
        right.set_yticks(y, labels)
        right.invert_yaxis()
        _pct_axis(right, shown)
        right.axvline(0, color=INK, linewidth=0.8)
        _label_bars(right, bars, [fmt.pct(g, signed=True) if g is not None else "–" for g in gains], shown)
        right.set_title("Improvement over today's practice")
        right.set_xlabel("WAPE reduction (higher is better)")
        return _png(fig)


def money_png(money: list[dict], sensitivity: list[dict], chosen: str, baseline_label: str,
              width_mm: float = 180, height_mm: float = 72) -> bytes:
    """Left: yearly savings of every policy against the baseline. Right: the chosen model's savings by service level."""
    rows = sorted((r for r in money if r.get("yearly_savings") is not None), key=lambda r: -r["yearly_savings"])
    curve = sorted((r for r in sensitivity if r.get("policy") == chosen and r.get("yearly_savings") is not None),
                   key=lambda r: r["service_level"])
    with _style():
        fig, axes = _figure(width_mm, height_mm, 2 if curve else 1, width_ratios=(1.15, 1) if curve else None)
        left = axes[0]
        y = list(range(len(rows)))
        values = [r["yearly_savings"] for r in rows]
        bars = left.barh(y, values, color=[CHOSEN if r["policy"] == chosen else NEGATIVE if r["yearly_savings"] < 0
                                           else OTHER for r in rows],
                         hatch=["///" if v < 0 else "" for v in values], edgecolor=INK, linewidth=0.6, height=0.7)
        left.set_yticks(y, [(f"★ {r['label']} (chosen)" if r["policy"] == chosen else r["label"]) for r in rows])
        left.invert_yaxis()
        _yen_axis(left, values)
        left.axvline(0, color=INK, linewidth=0.8)
        _label_bars(left, bars, [fmt.yen(v) for v in values], values)
        left.set_title(f"Yearly savings against {baseline_label}")
        left.set_xlabel("yen per year (negative: loses money)")
        if curve:
            _sensitivity(axes[1], curve, chosen, next((r for r in money if r.get("policy") == chosen), None))
        return _png(fig)


def _sensitivity(ax, curve: list[dict], chosen: str, chosen_row: dict | None) -> None:
    # Service levels bunch up near 100%: evenly spaced categories read better than a true scale.
    x = list(range(len(curve)))
    savings = [r["yearly_savings"] for r in curve]
    ax.plot(x, savings, color=CHOSEN, marker="o", markersize=4.5, linewidth=1.6,
            label=f"{chosen}, one service level for every item")
    best = max(range(len(curve)), key=lambda i: savings[i])
    ax.annotate(f"best single level {fmt.pct(curve[best]['service_level'], 0)}: {fmt.yen(savings[best])}",
                (best, savings[best]), xytext=(5, 5), textcoords="offset points", ha="left", va="bottom",
                fontsize=7)
    ax.axhline(0, color=INK, linewidth=0.8)
    top = max(savings)
    decided = chosen_row.get("yearly_savings") if chosen_row else None
    if decided is not None:
        ax.axhline(decided, color=INK, linestyle=(0, (5, 2.5)), linewidth=1.0)
        ax.annotate(f"as decided ({chosen_row.get('ordering') or 'its own ordering'}): {fmt.yen(decided)}",
                    (len(curve) - 1, decided), xytext=(0, 2.5), textcoords="offset points", fontsize=7, va="bottom",
                    ha="right")
        top = max(top, decided)
    low = min([0.0, *savings])
    ax.set_ylim(low - 0.05 * (top - low), top + 0.22 * (top - low))
    ax.set_xticks(x, [f"{r['service_level'] * 100:g}%" for r in curve], fontsize=7)
    _yen_ticks(ax.yaxis)
    ax.grid(color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_title(f"{chosen}: savings by service level")
    ax.set_xlabel("target service level (days without a stockout)")
    ax.legend(loc="lower left", fontsize=7, handlelength=2.6)


def _yen_axis(ax, values: Sequence[float]) -> None:
    _yen_ticks(ax.xaxis)
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    low, high = min([0.0, *values]), max([0.0, *values])
    span = (high - low) or 1.0
    ax.set_xlim(low - (0.35 * span if low < 0 else 0), high + 0.42 * span)


def _yen_ticks(axis) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(5))
    axis.set_major_formatter(FuncFormatter(lambda v, _: _short_yen(v)))


def _short_pct(share: float) -> str:
    """Axis ticks: 5%, 2.5%, 0.05%: the decimals a tick needs, never 0%, 0%, 1% on a narrow range."""
    text = f"{share * 100:.2f}".rstrip("0").rstrip(".")
    return ("0" if text == "-0" else text) + "%"


def _short_yen(value: float) -> str:
    """Axis ticks: ¥20M, -¥5M, ¥1.25M, ¥500k, ¥1.5k: the decimals a tick needs, so that
    ticks 500 apart never both read ¥2k."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    scale, suffix = (1e6, "M") if value >= 1e6 else (1e3, "k") if value >= 1e3 else (1.0, "")
    digits = f"{value / scale:,.2f}".rstrip("0").rstrip(".")
    return f"{sign}¥{digits}{suffix}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f} s" if value >= 0.1 else "< 0.1 s"


def _patch(style: dict[str, str], label: str):
    from matplotlib.patches import Patch

    return Patch(facecolor=style["color"], hatch=style["hatch"], hatchcolor=style["hatchcolor"], edgecolor=INK,
                 linewidth=0.6, label=label)
