"""A report as a declarative list of sections, and the one renderer that prints it.

A ``Report`` is built from a stored snapshot (``core.reports``) in the language of the
moment: its texts are final strings, its figures PNG bytes, so that the page that shows
it (``ui.reports``) and the PDF (``report_pdf``) render the very same content. Sections:

- ``Heading``: a section title, kept on the page of the first ``keep`` mm of what follows;
- ``Paragraph``: text, muted for captions and notes;
- ``Bullets``: a bulleted or numbered list ("None." when empty);
- ``KeyValues``: label → value rows;
- ``Table``: headings and rows, column widths as shares of the page's width;
- ``Figure``: a chart (PNG) with its caption;
- ``Canvas``: titled boxes in a grid (an ML canvas on one page);
- ``PageBreak``.

Printed on ``core.paper.pdf``'s A4 document: the title block (product, kind, title,
subtitle, what the report was made from and when) first, then the sections.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field

from core.i18n import N_, _, using
from core.paper import pdf as paper

PRODUCT = N_("Mitoshi 見通し")


@dataclass(frozen=True)
class Heading:
    text: str
    keep: float = 35.0  # mm of what follows kept on the heading's page


@dataclass(frozen=True)
class Paragraph:
    text: str
    muted: bool = False


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]
    numbered: bool = False
    empty: str | None = None  # what to say when there are no items (default "None.")


@dataclass(frozen=True)
class KeyValues:
    pairs: tuple[tuple[str, str], ...]
    key_width: float = 48.0  # mm


@dataclass(frozen=True)
class Table:
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # shares of the page's width, summing to at most 1
    align: tuple[str, ...] | None = None  # "L", "R" or "C" per column
    empty: str | None = None  # said instead of a table without rows


@dataclass(frozen=True)
class Figure:
    png: bytes
    height_mm: float
    caption: str = ""


@dataclass(frozen=True)
class Canvas:
    """Titled boxes, ``columns`` to a row, each row as tall as its tallest box."""
    boxes: tuple[tuple[str, str], ...]  # (title, text)
    columns: int = 2


@dataclass(frozen=True)
class PageBreak:
    pass


Section = Heading | Paragraph | Bullets | KeyValues | Table | Figure | Canvas | PageBreak


@dataclass(frozen=True)
class Report:
    """A report ready to print: ``kind`` ("Problem definition"), ``title`` (the project),
    ``subtitle``, ``made_from`` (label → value: project, versions, run ids, fingerprint,
    code version), ``reference`` (the stored report's id and version, in every page's
    footer), ``created_at`` (ISO text) and the ``sections``."""
    kind: str
    title: str
    subtitle: str
    made_from: tuple[tuple[str, str], ...]
    reference: str
    created_at: str
    sections: tuple[Section, ...] = field(default_factory=tuple)


def report_pdf(report: Report, language_code: str | None = None) -> bytes:
    """``report`` as an A4 portrait PDF. ``language_code`` only sets the document's
    language and its fixed words (the sections are already in theirs)."""
    with using(language_code) if language_code else nullcontext():
        pdf = paper.document(
            title=f"{report.kind}: {report.title}", subject=report.subtitle or report.kind,
            header=f"{report.title}  ·  {report.kind}  ·  {paper.moment(report.created_at)}",
            footer=f"{_(PRODUCT)} — {report.kind}  ·  {report.reference}", created_at=report.created_at)
        _title_block(pdf, report)
        for section in report.sections:
            _render(pdf, section)
        return bytes(pdf.output())


def _title_block(pdf, report: Report) -> None:
    pdf.set_font(paper.FONT, size=9)
    pdf.set_text_color(*paper.MUTED)
    pdf.cell(0, 5, f"{_(PRODUCT)} — {report.kind}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*paper.INK)
    pdf.set_font(paper.FONT, size=18)
    with paper.bold(pdf):
        paper.write_lines(pdf, paper.page_width(pdf), report.title, 18)
    if report.subtitle:
        pdf.ln(0.5)
        paper.paragraph(pdf, report.subtitle, size=10.5)
    pdf.ln(1.5)
    if report.made_from:
        paper.key_values(pdf, list(report.made_from), key_width=34)


def _render(pdf, section: Section) -> None:
    width = paper.page_width(pdf)
    if isinstance(section, Heading):
        paper.heading(pdf, section.text, keep=section.keep)
    elif isinstance(section, Paragraph):
        paper.paragraph(pdf, section.text, size=8.5 if section.muted else paper.BODY,
                        color=paper.MUTED if section.muted else paper.INK)
    elif isinstance(section, Bullets):
        paper.bullets(pdf, list(section.items), numbered=section.numbered, empty=section.empty)
    elif isinstance(section, KeyValues):
        paper.key_values(pdf, list(section.pairs), key_width=section.key_width)
    elif isinstance(section, Table):
        if not section.rows:
            paper.paragraph(pdf, section.empty or _("None."), color=paper.MUTED)
            return
        # a hair under the page's width: shares summing to 1 must not overflow it by a rounding error
        paper.table(pdf, section.headings, section.rows, [share * (width - 0.05) for share in section.widths],
                    align=section.align)
    elif isinstance(section, Figure):
        paper.figure(pdf, section.png, width, section.height_mm, section.caption)
    elif isinstance(section, Canvas):
        _canvas(pdf, section, width)
    elif isinstance(section, PageBreak):
        pdf.add_page()
    else:  # pragma: no cover - a new section type without its renderer
        raise TypeError(f"no renderer for {type(section).__name__}")


def _canvas(pdf, canvas: Canvas, width: float) -> None:
    """Boxes with a grey title bar, ``columns`` to a row; a row moves to the next page whole."""
    gap, pad, title_size, size = 3.0, 1.4, 8.6, 8.0
    box = (width - gap * (canvas.columns - 1)) / canvas.columns
    for start in range(0, len(canvas.boxes), canvas.columns):
        row = canvas.boxes[start:start + canvas.columns]
        pdf.set_font(paper.FONT, size=size)
        inner = box - 2 * pad
        # wrapped here as multi_cell will print them (its cell margin inside), so the heights are right
        texts = [paper.wrap(pdf, text or "—", inner - 2 * pdf.c_margin) for _title, text in row]
        title_h = paper.line_height(title_size) + 1.2
        height = max(text.count("\n") + 1 for text in texts) * paper.line_height(size) + title_h + 2 * pad
        paper.make_room(pdf, height + gap)
        top = pdf.get_y()
        for i, ((title, _text), text) in enumerate(zip(row, texts)):
            x = pdf.l_margin + i * (box + gap)
            pdf.set_draw_color(*paper.RULE)
            pdf.set_line_width(0.25)
            pdf.set_fill_color(*paper.HEADING_FILL)
            pdf.rect(x, top, box, title_h, style="F")
            pdf.rect(x, top, box, height)
            pdf.set_xy(x + pad, top + 0.6)
            pdf.set_font(paper.FONT, size=title_size)
            pdf.set_text_color(*paper.INK)
            with paper.bold(pdf):
                pdf.cell(box - 2 * pad, paper.line_height(title_size), paper.wrap(pdf, title, box - 2 * pad)
                         .split("\n")[0])
            pdf.set_xy(x + pad, top + title_h + pad)
            pdf.set_font(paper.FONT, size=size)
            pdf.multi_cell(inner, paper.line_height(size), text, align="L")
        pdf.set_xy(pdf.l_margin, top + height + gap)
    pdf.set_font(paper.FONT, size=paper.BODY)


def plain_text(report: Report) -> str:
    """Every word of ``report`` as plain text, in reading order (tests compare it with the PDF's)."""
    parts: list[str] = [report.kind, report.title, report.subtitle, *(f"{k} {v}" for k, v in report.made_from)]
    for section in report.sections:
        if isinstance(section, (Heading, Paragraph)):
            parts.append(section.text)
        elif isinstance(section, Bullets):
            parts.extend(section.items)
        elif isinstance(section, KeyValues):
            parts.extend(f"{k} {v}" for k, v in section.pairs)
        elif isinstance(section, Table):
            parts.extend(" ".join(row) for row in (section.headings, *section.rows))
        elif isinstance(section, Figure):
            parts.append(section.caption)
        elif isinstance(section, Canvas):
            parts.extend(f"{title} {text}" for title, text in section.boxes)
    return "\n".join(p for p in parts if p)


def share_widths(*weights: float) -> tuple[float, ...]:
    """Column widths as shares of the page from relative ``weights`` (``share_widths(3, 1, 1)``)."""
    total = float(sum(weights))
    return tuple(w / total for w in weights)


def rows_of(rows: Sequence[Sequence[object]]) -> tuple[tuple[str, ...], ...]:
    """Rows as tuples of text (a table's cells are strings)."""
    return tuple(tuple("" if cell is None else str(cell) for cell in row) for row in rows)
