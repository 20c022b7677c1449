"""The style of the charts printed in Mitoshi's PDFs: matplotlib figures rendered to PNG bytes.

Printed reports are often copied in black and white, so a chart never relies on colour
alone (hatches, markers, values written on bars). Text uses the same IPAexGothic font as
the PDF (``core.paper.pdf.font_path``), with DejaVu Sans for the few symbols it lacks.
matplotlib is imported inside the functions, so importing this module stays cheap;
figures are bare ``Figure`` objects rendered by Agg, never pyplot or a GUI.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache

from core.paper.pdf import font_path

DPI = 200
INK = "#1a1a1a"
MUTED = "#595959"
GRID = "#d0d0d0"


@cache
def register_fonts() -> None:
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font_path()))


@contextmanager
def style() -> Iterator[None]:
    import matplotlib

    register_fonts()
    rc = {"font.family": ["IPAexGothic", "DejaVu Sans"], "font.size": 8.5, "axes.edgecolor": MUTED,
          "axes.labelcolor": INK, "axes.titlesize": 9.5, "axes.titlelocation": "left",
          "axes.spines.top": False, "axes.spines.right": False, "xtick.color": INK, "ytick.color": INK,
          "text.color": INK, "hatch.linewidth": 0.6, "legend.frameon": False, "legend.fontsize": 7.5,
          "axes.unicode_minus": False}
    with matplotlib.rc_context(rc):
        yield


def png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def figure(width_mm: float, height_mm: float, columns: int = 1, width_ratios: Sequence[float] | None = None):
    # A bare Figure, not pyplot: no global figure registry and no GUI backend, safe in the app's threads.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_mm / 25.4, height_mm / 25.4), layout="constrained")
    axes = fig.subplots(1, columns, width_ratios=width_ratios, squeeze=False)[0]
    return fig, list(axes)


def title(ax, text: str, width_mm: float) -> None:
    """A title wrapped to the width of its axes (about 1.9 mm a character at 9.5 pt; a
    Japanese character is a full em, counted as one and a half), so that the titles of
    two charts side by side never run into each other."""
    ax.set_title(fill(text, max(int(width_mm / 2.4), 18)))


def wide(char: str) -> bool:
    return ord(char) >= 0x2E80  # Japanese characters and full-width forms: a full em


def fill(text: str, width: int) -> str:
    """``text`` in lines of at most ``width`` Latin characters' room: English is wrapped
    at spaces (``textwrap``); Japanese, which has none, between characters where the
    PDF's line breaking allows it (``core.paper.pdf.atoms``), counting each Japanese
    character as one and a half."""
    import textwrap

    if not any(wide(c) for c in text):
        return textwrap.fill(text, width)
    from core.paper.pdf import atoms

    lines, line, used = [], "", 0.0
    for atom in atoms(text):
        size = sum(1.5 if wide(c) else 1.0 for c in atom)
        if line and used + size > width:
            lines.append(line.rstrip())
            line, used = "", 0.0
        if not line and atom == " ":
            continue
        line, used = line + atom, used + size
    lines.append(line.rstrip())
    return "\n".join(lines)
