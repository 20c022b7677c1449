"""What every PDF's tests check on its pages and charts: the characters a page prints
(pypdfium2), where none may be printed over another, and the text a chart draws
(matplotlib), which must stay inside its picture and clear of the rest."""

from __future__ import annotations

import itertools

import numpy as np


def char_boxes(page) -> np.ndarray:
    """The boxes of the visible characters of a pypdfium2 page: left, bottom, right, top in points."""
    text = page.get_textpage()
    boxes = []
    for i in range(text.count_chars()):
        char = text.get_text_range(i, 1)
        if char.strip():
            boxes.append(text.get_charbox(i, loose=False))
    return np.array(boxes).reshape(-1, 4)


def chart_texts(fig):
    """Every piece of text matplotlib draws in ``fig`` (tick labels within the axes' limits
    included), with its box in pixels; and the figure's box."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)  # a bare Figure has no renderer of its own
    canvas.draw()
    renderer = canvas.get_renderer()
    shown = []
    for ax in fig.axes:
        for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            low, high = sorted(limits)
            for tick in axis.get_major_ticks():
                if low - 1e-9 <= tick.get_loc() <= high + 1e-9 and tick.label1.get_text().strip():
                    shown.append(tick.label1)
    ticks = {id(t) for ax in fig.axes for t in [*ax.get_xticklabels(), *ax.get_yticklabels()]}
    for artist in fig.findobj(Text):
        if id(artist) in ticks or not artist.get_visible() or not artist.get_text().strip():
            continue
        shown.append(artist)
    return [(t.get_text(), t.get_window_extent(renderer)) for t in shown], fig.bbox


def assert_text_clear(texts, frame, where: str = "") -> None:
    """No text of ``texts`` (``chart_texts``) is clipped by ``frame`` (by more than a pixel),
    and no two overlap (by more than a pixel each way); ``where`` names the chart in the message."""
    prefix = f"{where}: " if where else ""
    for text, box in texts:
        assert box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1 and box.y0 >= frame.y0 - 1 and \
            box.y1 <= frame.y1 + 1, f"{prefix}'{text}' is clipped"
    for (a, box_a), (b, box_b) in itertools.combinations(texts, 2):
        width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        assert not (width > 1 and height > 1), f"{prefix}'{a}' overlaps '{b}'"
