"""The GO / NO-GO decision on paper: ``decision_pdf(decision)`` returns an A4 PDF.

It renders the same immutable ``Decision`` snapshot as the report page, in the order a
business owner reads it: the verdict and its reasons first, then the criteria fixed up
front, the charts, the statistics, value against cost, production readiness, and the
context (problem, money assumptions, notes) last.

Printed copies are often black and white, so results are words and symbols (✓ passed,
✗ failed), never colour alone; fills are light and text is dark. Text is set in
IPAexGothic — shipped by the pinned ``matplotlib-fontja`` package, the charts' font
too — embedded and subset, so Japanese prints, searches and copies on any machine;
DejaVu Sans (shipped with matplotlib) fills in the few symbols it lacks (≥, ≤, ✗).
IPAexGothic has no bold face: emphasis is the same glyphs filled and stroked.

fpdf2 and matplotlib are imported inside ``decision_pdf``, so importing this module is
cheap for the pages that only offer the download.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from core import fmt, periods
from core.backtest import accounting
from core.columns import Freq
from core.decision import online as pilot
from core.decision.verdict import AREAS, CONDITIONAL_GO, GO, NO_GO, SCORE_MEANING, CriterionResult, Decision, score_band
from core.pilot.evidence import NONE, PROFIT, READ

PRODUCT = "Mitoshi 見通し — GO / NO-GO report"
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
# The verdict box: a light tint behind dark text, told apart in grey by its word and mark.
VERDICT_STYLE = {GO: ("✓", (221, 238, 221)), CONDITIONAL_GO: ("△", (250, 236, 204)), NO_GO: ("✗", (246, 214, 214))}
FAILED_FILL = (240, 240, 240)
RESULT_TEXT = {True: "✓ passed", False: "✗ failed", None: "? not evaluated"}
PENDING_TEXT = "◷ not yet evaluated (pilot)"
SCORE_MARK = {1.0: "● 1  automated", 0.5: "◐ 0.5  by hand", 0.0: "○ 0  not done"}
BODY, SMALL = 9.5, 8.5  # pt
# Where a line may not be broken (Japanese kinsoku): never start a line with a closing
# mark or small kana, never end one with an opening bracket.
NO_LINE_START = set("、。，．・：；？！ー）」』】〕〉》’”ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々,.:;!?)]}%")
NO_LINE_END = set("（「『【〔〈《‘“([{")


def decision_pdf(decision: Decision) -> bytes:
    """The decision as an A4 portrait PDF, ready to print or circulate."""
    from core.decision import pdf_charts

    pdf = _document(decision)
    _title_block(pdf, decision)
    _verdict(pdf, decision)
    _criteria(pdf, decision)
    _stated_vs_measured(pdf, decision)
    _online(pdf, decision, pdf_charts)
    _ladder(pdf, decision, pdf_charts)
    _accounted(pdf, decision)
    _money(pdf, decision, pdf_charts)
    _significance_and_stability(pdf, decision)
    _value(pdf, decision)
    _readiness(pdf, decision)
    _risks_and_steps(pdf, decision)
    _context(pdf, decision)
    _money_assumptions(pdf, decision)
    _notes(pdf, decision)
    return bytes(pdf.output())


# ---------------------------------------------------------------------------------
# The document: fonts, running header and footer, text helpers
# ---------------------------------------------------------------------------------
def _document(decision: Decision):
    from fpdf import FPDF

    from core.decision.pdf_charts import font_path, symbol_font_path

    class Report(FPDF):
        def header(self) -> None:
            if self.page_no() == 1:
                return
            self.set_font(FONT, size=7.5)
            self.set_text_color(*MUTED)
            self.set_xy(MARGIN, 8)
            self.cell(0, 4, f"{decision.project_name}  ·  {decision.verdict}  ·  {_when(decision.created_at)}")
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
            self.cell(0, 4, f"{PRODUCT}  ·  decision {decision.decision_id}")
            self.set_xy(MARGIN, self.h - 12)
            self.cell(0, 4, f"page {self.page_no()} of {TOTAL_PAGES}", align="R")

    pdf = Report(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=18)
    pdf.alias_nb_pages(TOTAL_PAGES)
    pdf.add_font(FONT, fname=str(font_path()))
    pdf.add_font(SYMBOLS, fname=str(symbol_font_path()))
    pdf.set_fallback_fonts([SYMBOLS])
    pdf.set_title(f"GO / NO-GO: {decision.project_name}")
    pdf.set_author("Mitoshi")
    pdf.set_subject(f"Decision {decision.decision_id}: {decision.verdict}")
    pdf.set_creation_date(_created(decision.created_at))
    pdf.add_page()
    pdf.set_font(FONT, size=BODY)
    pdf.set_text_color(*INK)
    return pdf


@contextmanager
def _bold(pdf) -> Iterator[None]:
    """IPAexGothic has no bold face: fill and stroke the glyphs instead."""
    with pdf.local_context(text_mode="FILL_STROKE", line_width=pdf.font_size_pt * 0.012,
                           draw_color=pdf.text_color):
        yield


def _width(pdf) -> float:
    return pdf.w - pdf.l_margin - pdf.r_margin


def _room(pdf, height: float) -> None:
    """Start a new page unless ``height`` mm still fit on this one."""
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def _heading(pdf, text: str, keep: float = 35) -> None:
    """A section title, kept on the same page as the first ``keep`` mm of its content."""
    _room(pdf, keep + 12)
    pdf.ln(4)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=12.5)
    with _bold(pdf):
        pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.35)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(2)
    pdf.set_font(FONT, size=BODY)


def _text(pdf, width: float, text: str, size: float) -> None:
    """``text`` as lines of at most ``width`` mm from the current x, in the current font; then the next line."""
    pdf.multi_cell(width, _line(size), _wrap(pdf, text, width - 2 * pdf.c_margin), align="L", new_x="LMARGIN",
                   new_y="NEXT")


def _paragraph(pdf, text: str, size: float = BODY, color: tuple[int, int, int] = INK) -> None:
    pdf.set_font(FONT, size=size)
    pdf.set_text_color(*color)
    _text(pdf, _width(pdf), text, size)
    pdf.set_text_color(*INK)


def _list(pdf, items: Sequence[str], numbered: bool = False, empty: str = "None.") -> None:
    if not items:
        _paragraph(pdf, empty, color=MUTED)
        return
    pdf.set_font(FONT, size=BODY)
    for i, item in enumerate(items, 1):
        _room(pdf, 2 * _line(BODY))
        pdf.set_x(pdf.l_margin + 1)
        pdf.cell(6, _line(BODY), f"{i}." if numbered else "•")
        _text(pdf, _width(pdf) - 7, item, BODY)
        pdf.ln(0.8)


def _line(size: float) -> float:
    """Line height in mm for a font size in points."""
    return size * 0.3528 * 1.45


def _table(pdf, headings: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float],
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
                   line_height=_line(size), padding=(pad_v, pad_h), borders_layout="HORIZONTAL_LINES",
                   headings_style=FontFace(fill_color=HEADING_FILL, color=INK), first_row_as_headings=bool(headings)
                   ) as table:
        if headings:
            heading = table.row()
            for text, width in zip(headings, widths, strict=True):
                heading.cell(_wrap(pdf, text, width - 2 * pad_h))
        for i, values in enumerate(rows):
            fill = fills[i] if fills else None
            row = table.row()
            for text, width in zip(values, widths, strict=True):
                row.cell(_wrap(pdf, text, width - 2 * pad_h), style=FontFace(fill_color=fill) if fill else None)
    pdf.set_font(FONT, size=BODY)


def _key_values(pdf, pairs: Sequence[tuple[str, str]], key_width: float = 48) -> None:
    _table(pdf, (), pairs, (key_width, _width(pdf) - key_width), size=BODY - 0.5)


# ---------------------------------------------------------------------------------
# Line breaking: Japanese has no spaces, so a line may break between any two
# characters except where kinsoku forbids it; Latin words stay whole.
# ---------------------------------------------------------------------------------
def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF
            or 0x3000 <= code <= 0x303F)


def _atoms(text: str) -> list[str]:
    """Pieces of a paragraph between which a line may break."""
    atoms: list[str] = []
    for char in text:
        if atoms:
            prev = atoms[-1][-1]
            breakable = (char == " " or prev == " " or
                         ((_is_cjk(char) or _is_cjk(prev)) and char not in NO_LINE_START and prev not in NO_LINE_END))
            if not breakable:
                atoms[-1] += char
                continue
        atoms.append(char)
    return atoms


def _wrap(pdf, text: str, width: float) -> str:
    """``text`` with line breaks so that each line fits ``width`` mm in the current font."""
    width -= 0.8  # a margin for rounding: a line fpdf2 found a hair too wide would break again, orphaning a word
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line, used = "", 0.0
        for atom in _atoms(paragraph):
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


# ---------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------
def _title_block(pdf, d: Decision) -> None:
    pdf.set_font(FONT, size=9)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 5, PRODUCT, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=18)
    with _bold(pdf):
        _text(pdf, _width(pdf), d.project_name, 18)
    pdf.ln(1.5)
    rung = next((r.get("rung") for r in d.leaderboard if r.get("model") == d.model), None)
    scored = accounting.scored_phrase(d.series_scored, d.n_series)
    _key_values(pdf, [
        ("Decided", f"{_when(d.created_at)}  (problem definition version {d.definition_version})"),
        ("Run", f"{d.run_name}  ·  run {d.run_id} of {_when(d.run_created_at)}  ·  code {d.code_version}"),
        ("Dataset", f"{d.dataset_name}  ·  {scored}, {d.folds} folds of {periods.span(_freq(d), d.horizon)} "
                    "(rolling origin)"),
        ("Chosen model", _policy_name(d.model) + (f" ({rung})" if rung else "") + f", against {d.baseline_label}; "
                         + (f"stores order at {d.ordering_words}" if not _errors(d) else
                            "money counted as the cost of its forecast errors")),
        ("Decision id", d.decision_id),
    ], key_width=30)


def _verdict(pdf, d: Decision) -> None:
    mark, fill = VERDICT_STYLE.get(d.verdict, ("", (240, 240, 240)))
    evaluated = [c for c in d.criteria if c.passed is not None]
    value = d.value or {}
    unknown = len(d.criteria) - len(evaluated) - d.pending
    open_parts = ([f"{unknown} not evaluated"] if unknown else []) + (
        [f"{d.pending} wait for the pilot"] if d.pending else [])
    facts = [f"{d.passed} of {len(d.criteria)} criteria passed"
             + (f" ({', '.join(open_parts)})" if open_parts else "")]
    savings = value.get("yearly_savings")
    if savings is not None:
        facts.append(f"saves {fmt.yen(savings)} a year" if savings >= 0 else f"loses {fmt.yen(-savings)} a year")
    if value.get("net_benefit") is not None:
        facts.append(f"net {fmt.yen(value['net_benefit'])} a year after running costs")
    if value.get("payback_months") is not None:
        facts.append(f"payback {fmt.months(value['payback_months'])}")
    inner = _width(pdf) - 10
    pdf.set_font(FONT, size=BODY)
    reasons = [_wrap(pdf, r, inner - 6 - 2 * pdf.c_margin) for r in d.reasons]
    facts_text = _wrap(pdf, "  ·  ".join(facts), inner - 2 * pdf.c_margin)
    height = (6 + 14 + _lines(facts_text) * _line(BODY) + 2
              + sum(_lines(r) * _line(BODY) + 1 for r in reasons) + 5)
    pdf.ln(3)
    _room(pdf, height)
    top = pdf.get_y()
    pdf.set_fill_color(*fill)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.9)
    pdf.rect(pdf.l_margin, top, _width(pdf), height, style="DF")
    pdf.set_xy(pdf.l_margin + 5, top + 3)
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 4, "VERDICT  判定", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.set_x(pdf.l_margin + 5)
    pdf.set_font(FONT, size=26)
    with _bold(pdf):
        pdf.cell(0, 14, f"{mark}  {d.verdict}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=BODY)
    pdf.set_x(pdf.l_margin + 5)
    with _bold(pdf):
        pdf.multi_cell(inner, _line(BODY), facts_text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for reason in reasons:
        pdf.set_x(pdf.l_margin + 5)
        pdf.cell(6, _line(BODY), "•")
        pdf.multi_cell(inner - 6, _line(BODY), reason, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.set_y(top + height + 2)


def _lines(text: str) -> int:
    return text.count("\n") + 1


def _criteria(pdf, d: Decision) -> None:
    _heading(pdf, "Criteria, fixed before the results were known")
    if not d.criteria:
        _paragraph(pdf, "The decision has no criteria.", color=MUTED)
        return
    rows = [(PENDING_TEXT if c.pending else RESULT_TEXT[c.passed], _criterion_text(c), c.measured_text or "–",
             c.evidence or "–") for c in d.criteria]
    fills = [FAILED_FILL if c.passed is False else None for c in d.criteria]
    _table(pdf, ("Result", "Criterion (and why, as the PM wrote it)", "Measured", "Evidence"), rows,
           (22, 58, 25, 75), fills=fills)


def _stated_vs_measured(pdf, d: Decision) -> None:
    """The problem definition's own numbers beside what was measured (none in a snapshot
    written before they were reconciled)."""
    if not d.stated_vs_measured:
        return
    _heading(pdf, "The problem's numbers: stated and measured", keep=30)
    rows = [(str(r.get("item") or "–"), str(r.get("stated") or "–"), str(r.get("measured") or "–"),
             str(r.get("status") or "–"), str(r.get("note") or "")) for r in d.stated_vs_measured]
    # Wide enough for a yen amount in the billions on one line: a number is never broken across lines.
    _table(pdf, ("Number", "Stated up front", "Measured", "Result", "Note"), rows, (32, 33, 35, 22, 58))
    if d.conditions:
        pdf.ln(1)
        _list(pdf, d.conditions)


def _online(pdf, d: Decision, charts) -> None:
    """The online evaluation beside the offline evidence: the pilot's status, stores and
    dates; once read out, the promise against the measurement, its estimates and chart."""
    _heading(pdf, "Online evaluation: the pilot in stores", keep=30)
    evidence = d.online_evidence
    if d.online is None:
        _paragraph(pdf, "This decision was taken before Mitoshi kept the online evidence with a decision.", color=MUTED)
        return
    status = pilot.status_label(evidence)
    if evidence.status == NONE:
        _paragraph(pdf, f"Status: {status}. The offline promise has not been tested in stores: a pilot (treated and "
                        "control stores, its length from a power calculation) would test it before the decision is "
                        "final.")
        return
    period = f"{_day(evidence.start)} to {_day(evidence.end)}" + (" (planned)" if evidence.status != READ else "")
    pairs = [("Status", _capital(status)),
             (f"Treated stores ({len(evidence.treated)})", ", ".join(evidence.treated) or "–"),
             (f"Control stores ({len(evidence.control)})", ", ".join(evidence.control) or "–"),
             ("Pilot period", period),
             ("Treated stores order from", "the published forecasts"
              + (f" of {_policy_name(evidence.batch_model)}" if evidence.batch_model else "")
              + (f", batch version {evidence.batch_version}" if evidence.batch_version is not None else "")),
             ("Control stores", "keep today's practice")]
    if evidence.chain_stores:
        pairs.append(("Yearly effects scaled to", f"the chain's {evidence.chain_stores} stores"))
    detectable = pilot.detectable_text(evidence)
    if detectable:
        pairs.append(("Designed to detect", detectable))
    _key_values(pdf, pairs, key_width=44)
    if evidence.status != READ:
        pdf.ln(1)
        _paragraph(pdf, "The online criteria wait for the readout: until then the verdict is at most a conditional "
                        "GO.", size=8.5, color=MUTED)
        return
    sentence = pilot.promise_sentence(evidence, pilot.promised(evidence, (d.value or {}).get("yearly_savings"),
                                                               d.model))
    if sentence:
        pdf.ln(2)
        pdf.set_font(FONT, size=10.5)
        with _bold(pdf):
            _text(pdf, _width(pdf), sentence, 10.5)
        pdf.set_font(FONT, size=BODY)
    rows = pilot.estimate_rows(evidence)
    if rows:
        pdf.ln(1)
        _table(pdf, ("Measure", "Yearly effect (chain)", "Interval", "p-value", "Reading"),
               [(r["measure"], r["yearly"], r["interval"], r["p_value"], r["reading"]) for r in rows],
               (38, 32, 62, 18, 30), align=("L", "R", "L", "R", "L"))
        _paragraph(pdf, "Difference-in-differences of treated against control stores, before against during the "
                        "pilot; intervals from the stores' changes, each store one observation (its days may be as "
                        "correlated as days are). Reading: better or worse when the whole interval is on one side of "
                        "zero.", size=8, color=MUTED)
    profit = evidence.estimate(PROFIT)
    if profit is not None:
        pdf.ln(1)
        width, height = _width(pdf), 52
        offline = pilot.promised(evidence, (d.value or {}).get("yearly_savings"), d.model)
        _figure(pdf, charts.online_png(offline, profit.yearly, profit.low, profit.high, profit.level,
                                       (d.value or {}).get("running_cost"), width, height), width, height,
                "The backtest's yearly savings (a promise: no interval) against the pilot's yearly profit effect "
                f"scaled to the chain, with its {fmt.pct(profit.level, 0)} interval"
                + ("; dashed: the yearly running cost." if (d.value or {}).get("running_cost") is not None else "."))
    if evidence.notes:
        _list(pdf, evidence.notes)


def _day(value) -> str:
    return value.isoformat() if value is not None else "–"


def _freq(d: Decision) -> Freq:
    try:
        return Freq(d.freq)
    except ValueError:
        return Freq.DAILY


def _errors(d: Decision) -> bool:
    """The money was counted as the cost of forecast errors, not by a shelf simulation."""
    return d.money_model == "errors"


def _criterion_text(c: CriterionResult) -> str:
    return f"{c.criterion}\nWhy: {c.note}" if c.note.strip() else c.criterion


def _figure_room(height_mm: float) -> float:
    """The ``keep`` a heading needs for a figure of ``height_mm`` right under it: the
    figure's own room (``_figure``) plus the 13 mm the heading itself takes, so that
    the heading never stays behind at the foot of a page while its figure moves on."""
    return height_mm + 14


def _figure(pdf, png: bytes, width_mm: float, height_mm: float, caption: str) -> None:
    _room(pdf, height_mm + 12)
    pdf.image(io.BytesIO(png), x=pdf.l_margin, y=pdf.get_y(), w=width_mm, h=height_mm)
    pdf.set_y(pdf.get_y() + height_mm + 1)
    _paragraph(pdf, caption, size=8, color=MUTED)


def _ladder(pdf, d: Decision, charts) -> None:
    _heading(pdf, "The ladder: rule → statistical → simple model → GBDT → built elsewhere", keep=_figure_room(78))
    rows = [r for r in d.leaderboard if r.get("wape") is not None]
    if not rows:
        _paragraph(pdf, "The run has no accuracy results to chart.", color=MUTED)
        return
    width, height = _width(pdf), 78
    _figure(pdf, charts.ladder_png(d.leaderboard, d.model, width, height), width, height,
            f"Backtest over {d.folds} folds of {periods.span(_freq(d), d.horizon)}, "
            f"{accounting.scored_phrase(d.series_scored, d.n_series)}. Hatches mark "
            "the rung; the chosen model is starred. The cheapest rung that is good enough wins: a costlier model "
            "must earn its running cost." + _improvement_caption(charts.improvement_baseline(rows)))


def _improvement_caption(baseline: str | None) -> str:
    if baseline == "practice":
        return " Right: WAPE reduction against today's practice."
    if baseline == "snaive":
        return (" Right: WAPE reduction against seasonal naive — today's practice is not in the run, so the chart "
                "against it is left out.")
    return (" The chart of improvement over a baseline is left out: the run has neither today's practice nor "
            "seasonal naive to measure against.")


def _accounted(pdf, d: Decision) -> None:
    """What the folds left out and which models fell back (nothing for an older snapshot)."""
    if not d.accounting:
        return
    _heading(pdf, "Every series accounted for", keep=25)
    _list(pdf, d.accounting)


def _money(pdf, d: Decision, charts) -> None:
    _heading(pdf, "Money: what each forecast's errors would have cost" if _errors(d) else
             "Money: what ordering from each forecast would have saved",
             keep=_figure_room(charts.money_height(d.money)) if d.money else 20)
    if d.money:
        width, height = _width(pdf), charts.money_height(d.money)
        _figure(pdf, charts.money_png(d.money, d.model, d.baseline_label, width, height, d.baseline), width, height,
                (f"The cost of each model's forecast errors over the backtest's "
                 f"{periods.period_noun(_freq(d), plural=True)}, against {d.baseline_label}." if _errors(d) else
                 f"Stores ordering from each model's forecasts, replayed over the backtest's "
                 f"{periods.period_noun(_freq(d), plural=True)} against {d.baseline_label}."))
        curve = charts.sensitivity_png(d.money, d.sensitivity, d.model, width, 58,
                                       period=periods.period_noun(_freq(d), plural=True))
        if curve is not None:
            _figure(pdf, curve, width, 58,
                    f"{fmt.model_name(d.model)} with one service level for every item, against the ordering decided "
                    f"on (dashed: {d.ordering_words}).")
        pdf.ln(1)
        ordered = sorted(d.money, key=lambda r: -(r.get("yearly_savings") or 0))
        orderings = {r.get("ordering") for r in ordered if r.get("policy") != "practice"}
        name = [("★ " if r.get("policy") == d.model else "") + _policy_name(r.get("policy")) for r in ordered]
        money = [(fmt.yen(r.get("yearly_savings")), fmt.yen(r.get("yearly_waste_cost")),
                  fmt.yen(r.get("yearly_lost_margin")), fmt.pct(r.get("stockout_rate"))) for r in ordered]
        heads = (("Yearly savings", "Over-forecast cost / year", "Under-forecast cost / year", "") if _errors(d)
                 else ("Yearly savings", "Waste cost / year", "Lost margin / year",
                       periods.out_of_stock(_freq(d))))
        if _errors(d):  # no shelf, so no stockouts to count: three columns, not a fourth of dashes
            money = [m[:3] for m in money]
            heads = heads[:3]
        if len(orderings) > 1:  # the ordering only earns a column when it differs between policies
            rows = [(n, str(r.get("ordering") or "–"), *m) for n, r, m in zip(name, ordered, money, strict=True)]
            rest = (180 - 34 - 42) / len(heads)
            widths = (34, 42, *([rest] * len(heads)))
            _table(pdf, ("Policy", "Ordering", *heads), rows, widths, align=("L", "L", *("R" * len(heads))))
        else:
            rows = [(n, *m) for n, m in zip(name, money, strict=True)]
            rest = (180 - 56) / len(heads)
            widths = (56, *([rest] * len(heads)))
            _table(pdf, ("Policy", *heads), rows, widths, align=("L", *("R" * len(heads))))
            if orderings and not _errors(d):
                _paragraph(pdf, f"Ordering, for every model: {next(iter(orderings))}.", size=8, color=MUTED)
    else:
        _paragraph(pdf, "No money impact was recorded with this decision.", color=MUTED)


def _significance_and_stability(pdf, d: Decision) -> None:
    _heading(pdf, "Significance and stability")
    if d.significance:
        rows = [(_capital(str(s.get("baseline_label") or s.get("baseline"))),
                 "✓ significant" if s.get("significant") else "✗ not significant", _p_value(s.get("p_value")),
                 f"Diebold–Mariano, one-sided, on absolute error; statistic {fmt.number(s.get('statistic'), 2)}, "
                 f"{fmt.count(s.get('periods'))} periods")
                for s in d.significance]
        _table(pdf, (f"{_policy_name(d.model)} against", "Result", "p-value", "Test"), rows, (38, 34, 20, 88))
    else:
        _paragraph(pdf, "No significance test: the run had no baseline to test against.", color=MUTED)
    pdf.ln(2)
    stability = d.stability or {}
    base = stability.get("baseline") or "the baseline"
    folds = stability.get("folds") or []
    if folds and stability.get("baseline") == d.model:
        _paragraph(pdf, f"The chosen model is the baseline itself ({_policy_name(d.model)}): there is nothing to "
                        "compare fold by fold.", color=MUTED)
    elif folds:
        worst = (stability.get("worst_fold") or {}).get("cutoff")
        rows = [(str(f.get("cutoff")), fmt.pct(f.get("wape")), fmt.pct(f.get("baseline_wape")),
                 fmt.pct_change(_gain(f.get("wape"), f.get("baseline_wape"))),
                 "◀ worst fold" if f.get("cutoff") == worst else "") for f in folds]
        _table(pdf, ("Fold cutoff", f"{_policy_name(d.model)} WAPE", f"{_policy_name(base)} WAPE",
                     "WAPE reduction", ""), rows,
               (36, 30, 30, 30, 54), align=("L", "R", "R", "R", "L"))
    else:
        _paragraph(pdf, "No fold-by-fold results were recorded.", color=MUTED)
    pdf.ln(1)
    _list(pdf, _stability_sentences(_policy_name(d.model), stability),
          empty="No segment-level comparison was recorded.")


def _p_value(p: float | None) -> str:
    return fmt.p_value(p)


def _capital(text: str) -> str:
    """A cell's text with its first letter raised ("today's practice" → "Today's practice")."""
    return text[:1].upper() + text[1:]


def _policy_name(policy: str | None) -> str:
    return fmt.policy_name(policy)


def _gain(value: float | None, baseline: float | None) -> float | None:
    """WAPE reduction: the share of the baseline's error removed."""
    if value is None or not baseline:
        return None
    return 1 - value / baseline


def _stability_sentences(model: str, stability: dict) -> list[str]:
    out = []
    base = _policy_name(stability.get("baseline")) if stability.get("baseline") else "the baseline"
    column = stability.get("segment_column")
    worst = stability.get("worst_segment")
    if worst and column:
        worse = stability.get("segments_worse") or 0
        total = stability.get("segments") or 0
        out.append(f"By {column}: {model} beats {base} in every one of {total} values." if worse == 0 else
                   f"By {column}: {worse} of {total} values are worse than {base}.")
        change = worst.get("change") or 0.0
        out.append(f"Its smallest gain by {column} is {worst.get('group')}: WAPE {fmt.pct(worst.get('wape'))} against "
                   f"{fmt.pct(worst.get('baseline_wape'))} for {base} ({fmt.pct(-change)} lower)." if change < 0 else
                   f"Its worst {column} is {worst.get('group')}: WAPE {fmt.pct(worst.get('wape'))} against "
                   f"{fmt.pct(worst.get('baseline_wape'))} for {base} ({fmt.pct(change)} higher).")
    for segment, (losing, count) in (stability.get("money_losing") or {}).items():
        out.append(f"In money, {losing} of {count} {segment} values lose against {base}.")
    if stability.get("baseline") and model == _policy_name(stability.get("baseline")):
        return []  # the chosen model is the baseline: every comparison with itself is empty
    return out


def _value(pdf, d: Decision) -> None:
    _heading(pdf, "Value against cost")
    v = d.value or {}
    claimed, savings = v.get("value_claimed"), v.get("yearly_savings")
    scale = v.get("chain_scale")
    pairs = [
        ("Yearly savings", fmt.yen(savings) + (f"  (the run's {fmt.yen(v.get('yearly_savings_run'))} scaled "
                                               f"{fmt.number(scale, 2)}× to the whole dataset)"
                                               if scale and scale > 1.0001 else "")),
        ("Running cost per year", fmt.yen(v.get("running_cost"))),
        ("Net benefit per year", fmt.yen(v.get("net_benefit"))),
        ("Initial investment", fmt.yen(v.get("investment"))),
        ("Payback", fmt.months(v.get("payback_months")) if v.get("payback_months") is not None
         else "never" if v.get("investment") is not None and v.get("net_benefit") is not None else "–"),
        ("Value claimed up front", fmt.yen(claimed) + (
            f" a year; measured savings are {fmt.share_of(savings, claimed)} of it"
            if claimed and savings is not None else "")),
        ("Does it pay?", _pays(v)),
    ]
    if not fmt.missing(v.get("yearly_sales")) and v.get("yearly_sales"):
        pairs.insert(-1, ("Yearly sales in the data", fmt.yen(v["yearly_sales"]) + " (the scale the value claimed "
                                                                                   "should be read against)"))
    if not _errors(d) and not fmt.missing(v.get("loss_share_baseline")) and not fmt.missing(v.get("loss_share_model")):
        pairs.insert(-1, ("Waste + stockout loss", f"{fmt.pct_fine(v['loss_share_baseline'])} of sales today → "
                                                   f"{fmt.pct_fine(v['loss_share_model'])} with {_policy_name(d.model)}; "
                                                   "demand filled "
                                                   f"{fmt.pct(v.get('fill_rate_baseline'))} → "
                                                   f"{fmt.pct(v.get('fill_rate_model'))}"))
    _key_values(pdf, pairs)


def _pays(value: dict) -> str:
    if value.get("net_benefit") is None:
        return "– the running cost was not given"
    if value.get("pays"):
        return "✓ yes: the savings cover the running cost"
    return "✗ no: the savings do not cover the running cost"


def _readiness(pdf, d: Decision) -> None:
    _heading(pdf, "Production readiness (ML Test Score)", keep=60)
    _paragraph(pdf, "Each check scores 1 (" + SCORE_MEANING[1.0] + "), 0.5 (" + SCORE_MEANING[0.5] + ") or 0 ("
               + SCORE_MEANING[0.0] + "). An area's score is the sum of its checks; the overall score is the lowest "
               "area (Breck et al., 2017).", size=8.5, color=MUTED)
    pdf.ln(1)
    rows = []
    for area in AREAS:
        items = [r for r in d.readiness if r.area == area]
        total = d.readiness_areas.get(area)
        rows.append((area, f"{fmt.number(total, 1)} of {len(items)}",
                     " ".join(SCORE_MARK.get(r.score, "?")[0] for r in items)))
    _table(pdf, ("Area", "Score", "Checks (● automated, ◐ by hand, ○ not done)"), rows, (40, 30, 110),
           size=BODY - 0.5)
    lowest = [a for a in AREAS if d.readiness_areas.get(a) == d.readiness_overall]
    pdf.ln(2)
    pdf.set_font(FONT, size=10.5)
    with _bold(pdf):
        _text(pdf, _width(pdf), f"Overall ML Test Score: {fmt.number(d.readiness_overall, 1)}"
              + (f" (lowest: {', '.join(lowest)})" if lowest else "") + " — " + score_band(d.readiness_overall) + ".",
              10.5)
    pdf.ln(2)
    if d.readiness:
        rows = [(r.area, r.text, SCORE_MARK.get(r.score, fmt.number(r.score, 1)), r.evidence) for r in d.readiness]
        _table(pdf, ("Area", "Check", "Score", "Evidence"), rows, (23, 71, 25, 61), size=8)


def _risks_and_steps(pdf, d: Decision) -> None:
    _heading(pdf, "Risks")
    _list(pdf, d.risks, empty="No risks were recorded.")
    _heading(pdf, "Next steps")
    _list(pdf, d.next_steps, numbered=True, empty="No next steps were recorded.")


def _context(pdf, d: Decision) -> None:
    _heading(pdf, "The problem and the decision it supports")
    _key_values(pdf, [
        ("Problem", d.problem or "–"),
        ("Decision supported", d.decision_supported or "–"),
        ("KPI", d.kpi or "–"),
        ("Value claimed per year", fmt.yen(d.value_yen_per_year)),
        ("Running cost per year", fmt.yen(d.running_cost_yen_per_year)),
        ("Initial investment", fmt.yen(d.investment_yen)),
    ])


def _money_assumptions(pdf, d: Decision) -> None:
    _heading(pdf, "How the money was computed")
    if _errors(d):
        _paragraph(pdf, "No shelf is simulated: each model's forecast errors are priced directly (see the settings "
                        f"below), and savings are measured against {d.baseline_label}.")
    elif d.baseline == "practice":
        _paragraph(pdf, f"Simulated stores order from each model's forecasts at {d.ordering_words}; "
                        f"{d.baseline_label} is replayed from its recorded orders.")
    else:
        _paragraph(pdf, f"Simulated stores order from each model's forecasts at {d.ordering_words}. The data records "
                        f"no orders, so savings are measured against {d.baseline_label}, ordered the same way.")
    pdf.ln(1)
    _list(pdf, d.money_notes, empty="No notes on the money impact.")
    if d.money_sources:
        pdf.ln(1)
        _key_values(pdf, [(k[:1].upper() + k[1:], v) for k, v in d.money_sources.items()], key_width=30)


def _notes(pdf, d: Decision) -> None:
    if not d.notes.strip():
        return  # no page for an empty section
    _heading(pdf, "The team's notes", keep=6)
    _paragraph(pdf, d.notes, color=INK)


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(iso) or "–"


def _created(iso: str) -> datetime:
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return datetime.now().astimezone()
    return moment if moment.tzinfo else moment.astimezone()
