"""The A4 document every Mitoshi PDF is printed on, and its text primitives.

Printed copies are often black and white, so fills are light and text is dark. Text is
set in IPAexGothic — shipped by the pinned ``matplotlib-fontja`` package, the charts'
font too — embedded and subset, so Japanese prints, searches and copies on any machine;
DejaVu Sans (shipped with matplotlib) fills in the few symbols it lacks (≥, ≤, ✗).
IPAexGothic has no bold face: emphasis is the same glyphs filled and stroked (``bold``).

Japanese has no spaces: ``wrap`` breaks a line between any two Japanese characters
except where kinsoku forbids it, and never inside a number with its unit (1,921万円,
2026年11月30日). Built on fpdf2 (https://py-pdf.github.io/fpdf2/), imported inside
``document`` so that importing this module stays cheap.
"""

from __future__ import annotations

import importlib.util
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from core import fmt
from core.i18n import _, language

FONT, SYMBOLS = "ipaexg", "dejavu"
MARGIN = 15.0  # mm, every side
# fpdf2 writes the page count wherever this alias stands, in any text: private-use
# characters that nobody types, so that "{nb}" in a project name stays as typed. Three,
# as fpdf2 leaves the width of three digits for "{nb}".
TOTAL_PAGES = "\ue000" * 3
INK = (26, 26, 26)
MUTED = (90, 90, 90)
RULE = (150, 150, 150)
HEADING_FILL = (232, 232, 232)
BODY, SMALL = 9.5, 8.5  # pt
# Where a line may not be broken (Japanese kinsoku): never start a line with a closing
# mark or small kana, never end one with an opening bracket.
NO_LINE_START = set("、。，．・：；？！ー）」』】〕〉》’”ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々,.:;!?)]}%")
NO_LINE_END = set("（「『【〔〈《‘“([{")


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


# ---------------------------------------------------------------------------------
# The document: fonts, running header and footer
# ---------------------------------------------------------------------------------
def document(*, title: str, subject: str, header: str, footer: str, created_at: str):
    """A new A4 portrait ``fpdf.FPDF`` with its first page started: fonts embedded,
    ``header`` over every page but the first, ``footer`` and "page n of N" under every
    page, the metadata (``title``, ``subject``, the current language, ``created_at``: ISO
    text) set. Margins ``MARGIN`` mm; the pages break 18 mm above the foot."""
    from fpdf import FPDF

    class Paper(FPDF):
        def header(self) -> None:
            if self.page_no() == 1:
                return
            self.set_font(FONT, size=7.5)
            self.set_text_color(*MUTED)
            self.set_xy(MARGIN, 8)
            self.cell(0, 4, header)
            self.set_draw_color(*RULE)
            self.set_line_width(0.2)
            self.line(MARGIN, 12.5, self.w - MARGIN, 12.5)
            self.set_xy(MARGIN, MARGIN + 1)
            self.set_text_color(*INK)

        def footer(self) -> None:
            self.set_font(FONT, size=7.5)
            self.set_text_color(*MUTED)
            self.set_draw_color(*RULE)
            self.set_line_width(0.2)
            self.line(MARGIN, self.h - 13, self.w - MARGIN, self.h - 13)
            self.set_xy(MARGIN, self.h - 12)
            self.cell(0, 4, footer)
            self.set_xy(MARGIN, self.h - 12)
            self.cell(0, 4, _("page {page} of {total}").format(page=self.page_no(), total=TOTAL_PAGES), align="R")

    pdf = Paper(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=18)
    pdf.alias_nb_pages(TOTAL_PAGES)
    pdf.add_font(FONT, fname=str(font_path()))
    pdf.add_font(SYMBOLS, fname=str(symbol_font_path()))
    pdf.set_fallback_fonts([SYMBOLS])
    pdf.set_title(title)
    pdf.set_author("Mitoshi")
    pdf.set_lang("ja" if language() == "ja" else "en")
    pdf.set_subject(subject)
    pdf.set_creation_date(created(created_at))
    pdf.add_page()
    pdf.set_font(FONT, size=BODY)
    pdf.set_text_color(*INK)
    return pdf


# ---------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------
@contextmanager
def bold(pdf) -> Iterator[None]:
    """IPAexGothic has no bold face: fill and stroke the glyphs instead."""
    with pdf.local_context(text_mode="FILL_STROKE", line_width=pdf.font_size_pt * 0.012,
                           draw_color=pdf.text_color):
        yield


def page_width(pdf) -> float:
    return pdf.w - pdf.l_margin - pdf.r_margin


def make_room(pdf, height: float) -> None:
    """Start a new page unless ``height`` mm still fit on this one."""
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def heading(pdf, text: str, keep: float = 35) -> None:
    """A section title, kept on the same page as the first ``keep`` mm of its content."""
    make_room(pdf, keep + 12)
    pdf.ln(4)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=12.5)
    with bold(pdf):  # a long title (a run's generated name) wraps instead of running off the page
        pdf.multi_cell(0, 7, wrap(pdf, text, page_width(pdf) - 2 * pdf.c_margin), align="L", new_x="LMARGIN",
                       new_y="NEXT")
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.35)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(2)
    pdf.set_font(FONT, size=BODY)


def write_lines(pdf, width: float, text: str, size: float) -> None:
    """``text`` as lines of at most ``width`` mm from the current x, in the current font; then the next line."""
    pdf.multi_cell(width, line_height(size), wrap(pdf, text, width - 2 * pdf.c_margin), align="L", new_x="LMARGIN",
                   new_y="NEXT")


def paragraph(pdf, text: str, size: float = BODY, color: tuple[int, int, int] = INK) -> None:
    pdf.set_font(FONT, size=size)
    pdf.set_text_color(*color)
    write_lines(pdf, page_width(pdf), text, size)
    pdf.set_text_color(*INK)


def bullets(pdf, items: Sequence[str], numbered: bool = False, empty: str | None = None) -> None:
    """Texts (already in the current language) as a bulleted or numbered list; ``empty``
    (default "None.") when there are none."""
    if not items:
        paragraph(pdf, _("None.") if empty is None else empty, color=MUTED)
        return
    pdf.set_font(FONT, size=BODY)
    for i, item in enumerate(items, 1):
        make_room(pdf, 2 * line_height(BODY))
        pdf.set_x(pdf.l_margin + 1)
        pdf.cell(6, line_height(BODY), f"{i}." if numbered else "•")
        write_lines(pdf, page_width(pdf) - 7, str(item), BODY)
        pdf.ln(0.8)


def line_height(size: float) -> float:
    """Line height in mm for a font size in points."""
    return size * 0.3528 * 1.45


def table(pdf, headings: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float],
           align: Sequence[str] | None = None, fills: Sequence[tuple[int, int, int] | None] | None = None,
           size: float = SMALL) -> None:
    """A table with light horizontal rules; long text, Japanese too, wraps inside its cell."""
    from fpdf.fonts import FontFace

    pad_v, pad_h = 1.1, 1.4
    pdf.set_font(FONT, size=size)
    pdf.set_fill_color(255, 255, 255)  # fpdf2 fills body cells with the current fill colour
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    align = align or ["L"] * len(widths)
    with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", text_align=align, v_align="TOP",
                   line_height=line_height(size), padding=(pad_v, pad_h), borders_layout="HORIZONTAL_LINES",
                   headings_style=FontFace(fill_color=HEADING_FILL, color=INK), first_row_as_headings=bool(headings)
                   ) as table:
        if headings:
            heading = table.row()
            for text, width in zip(headings, widths, strict=True):
                heading.cell(wrap(pdf, text, width - 2 * pad_h))
        for i, values in enumerate(rows):
            fill = fills[i] if fills else None
            row = table.row()
            for text, width in zip(values, widths, strict=True):
                row.cell(wrap(pdf, text, width - 2 * pad_h), style=FontFace(fill_color=fill) if fill else None)
    pdf.set_font(FONT, size=BODY)


def key_values(pdf, pairs: Sequence[tuple[str, str]], key_width: float = 48) -> None:
    table(pdf, (), pairs, (key_width, page_width(pdf) - key_width), size=BODY - 0.5)


# ---------------------------------------------------------------------------------
# Line breaking: Japanese has no spaces, so a line may break between any two
# characters except where kinsoku forbids it; Latin words stay whole, and so does a
# number with the Japanese unit or word it touches (1,921万円, 2026年11月30日, 18か月).
# ---------------------------------------------------------------------------------
def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF
            or 0x3000 <= code <= 0x303F)


def _latin(char: str) -> bool:
    """A letter, digit or sign of a Latin word or a number (``1,921``, ``+2.3``, ``WAPE``)."""
    return char.isascii() and (char.isalnum() or char in "+-.,%") or char in "¥−×"


# A number with the Japanese units and counters it carries, kept on one line: 1,921万円, 13か月,
# 2026年11月30日, +2.3ポイント, 2人週.
_AMOUNT = re.compile(r"(?:[−+\-]?¥?\d[\d,.]*%?(?:か月|万円|億円|兆円|円|ポイント|人週|年|月|日|週|件|店舗|秒|点|倍|期間|区分"
                     r"|フォールド|系列)?)+")


def _kana_or_kanji(char: str) -> bool:
    """A Japanese letter (not a punctuation mark or bracket): a Latin word touching it stays with it."""
    return _is_cjk(char) and unicodedata.category(char).startswith("L")


def atoms(text: str) -> list[str]:
    """Pieces of a paragraph between which a line may break."""
    glued = {i for match in _AMOUNT.finditer(text) for i in range(match.start() + 1, match.end())}
    atoms: list[str] = []
    for index, char in enumerate(text):
        if atoms:
            prev = atoms[-1][-1]
            touching = (_latin(prev) and _kana_or_kanji(char)) or (_kana_or_kanji(prev) and _latin(char))
            breakable = (char == " " or prev == " " or
                         ((_is_cjk(char) or _is_cjk(prev)) and not touching and index not in glued
                          and char not in NO_LINE_START and prev not in NO_LINE_END))
            if not breakable:
                atoms[-1] += char
                continue
        atoms.append(char)
    return atoms


def wrap(pdf, text: str, width: float) -> str:
    """``text`` with line breaks so that each line fits ``width`` mm in the current font."""
    width -= 0.8  # a margin for rounding: a line fpdf2 found a hair too wide would break again, orphaning a word
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line, used = "", 0.0
        for atom in atoms(paragraph):
            size = pdf.get_string_width(atom)
            if line and used + size > width:
                lines.append(line.rstrip())
                line, used = "", 0.0
            if not line and atom == " ":
                continue
            if size > width:  # a word wider than the whole line: break it anywhere
                for char in atom:
                    char_size = pdf.get_string_width(char)
                    if line and used + char_size > width:
                        lines.append(line)
                        line, used = "", 0.0
                    line, used = line + char, used + char_size
                continue
            line, used = line + atom, used + size
        lines.append(line.rstrip())
    return "\n".join(lines)


def figure_room(height_mm: float) -> float:
    """The ``keep`` a heading needs for a figure of ``height_mm`` right under it: the
    figure's own room (``figure``) plus the 13 mm the heading itself takes, so that
    the heading never stays behind at the foot of a page while its figure moves on."""
    return height_mm + 14


def figure(pdf, png: bytes, width_mm: float, height_mm: float, caption: str) -> None:
    make_room(pdf, height_mm + 12)
    pdf.image(io.BytesIO(png), x=pdf.l_margin, y=pdf.get_y(), w=width_mm, h=height_mm)
    pdf.set_y(pdf.get_y() + height_mm + 1)
    paragraph(pdf, caption, size=8, color=MUTED)


def moment(value: object, seconds: bool = False) -> str:
    """A time a decision was taken or a definition saved: ``2026-11-30 13:33`` in
    English (``2026-11-30 13:33:16`` with ``seconds``), ``2026年11月30日 13:33`` in
    Japanese. Takes a datetime or ISO text; anything unreadable is shown as it is."""
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return str(value or "") or fmt.MISSING
    clock = when.strftime("%H:%M:%S" if seconds else "%H:%M")
    return f"{fmt.date(when)} {clock}"


def listing(items) -> str:
    """Items in a run of text: ``a, b, c`` / ``a、b、c``."""
    return ("、" if language() == "ja" else ", ").join(str(i) for i in items)


def sentences(*parts: str) -> str:
    """Sentences one after another: a space between them in English, none in Japanese."""
    return ("" if language() == "ja" else " ").join(p.strip() for p in parts if p and p.strip())


def created(iso: str) -> datetime:
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return datetime.now().astimezone()
    return moment if moment.tzinfo else moment.astimezone()
