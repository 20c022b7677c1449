"""The GO / NO-GO decision on paper: one snapshot in, a readable A4 PDF out."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pypdf
import pypdfium2
import pytest

from core.decision.pdf import FONT, _document, _wrap, decision_pdf
from core.decision.verdict import NO_GO, Decision

SAMPLE = Path(__file__).parent / "data" / "decision_sample.json"


@pytest.fixture(scope="module")
def sample() -> Decision:
    return Decision.from_json(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sample_pdf(sample) -> bytes:
    return decision_pdf(sample)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """Whitespace removed: a sentence wrapped over lines or table cells still matches."""
    return re.sub(r"\s+", "", text)


def test_is_a_pdf_with_numbered_pages(sample_pdf):
    assert sample_pdf.startswith(b"%PDF")
    texts = page_texts(sample_pdf)
    assert len(texts) >= 2
    for number, text in enumerate(texts, 1):
        assert f"page {number} of {len(texts)}" in text


def test_text_holds_the_verdict_criteria_model_and_japanese(sample, sample_pdf):
    text = flat("\n".join(page_texts(sample_pdf)))
    assert flat(sample.verdict) in text
    for criterion in sample.criteria:
        assert flat(criterion.criterion) in text
        assert flat(criterion.note) in text  # the PM's note, in Japanese
    assert flat("Chosen model LightGBM") in text and sample.model == "lgbm"  # its name, not its alias
    assert "需要予測" in sample.project_name and flat(sample.project_name) in text
    assert flat(sample.problem) in text  # a long Japanese paragraph, wrapped inside a table cell
    assert sample.decision_id in text


def test_money_is_in_yen_and_percent_with_one_decimal(sample, sample_pdf):
    text = "\n".join(page_texts(sample_pdf))
    assert "¥19,835,966" in text
    assert "37.9%" in text


def test_no_go_shows_no_go_and_failed(sample):
    failed = dataclasses.replace(sample.criteria[0], passed=False,
                                 evidence="WAPE 37.9% is only 3.0% better than today's practice: failed.")
    decision = dataclasses.replace(sample, verdict=NO_GO, criteria=[failed, *sample.criteria[1:]],
                                   reasons=[f"Failed: {failed.criterion} — {failed.evidence}"])
    text = "\n".join(page_texts(decision_pdf(decision)))
    assert "NO-GO" in text
    assert "failed" in text
    assert "CONDITIONAL GO" not in text.split("Criteria")[0]


def test_empty_lists_still_render(sample):
    decision = dataclasses.replace(sample, risks=[], significance=[], sensitivity=[], next_steps=[], reasons=[],
                                   money_notes=[], money_sources={}, stability={}, by_segment=[], notes="",
                                   value_yen_per_year=None, running_cost_yen_per_year=None, investment_yen=None,
                                   value={"yearly_savings": None, "running_cost": None, "net_benefit": None,
                                          "investment": None, "payback_months": None, "pays": True})
    pdf = decision_pdf(decision)
    text = "\n".join(page_texts(pdf))
    assert "No risks were recorded." in text
    assert "No significance test" in text
    assert "–" in text  # missing money shows as a dash, not None or nan
    assert "None" not in text and "nan" not in text


def test_team_notes_in_japanese_render(sample):
    notes = "店長会議で説明済み。パイロット店舗は渋谷店と横浜店を予定しています。" * 4
    text = flat("\n".join(page_texts(decision_pdf(dataclasses.replace(sample, notes=notes)))))
    assert flat(notes) in text


def test_every_page_renders_to_an_image(sample_pdf):
    document = pypdfium2.PdfDocument(sample_pdf)
    assert len(document) >= 2
    for page in document:
        image = page.render(scale=1.0).to_pil()  # at half scale a page of small text alone renders grey
        assert image.width > 100 and image.height > 100
        assert image.convert("L").getextrema()[0] < 100  # something dark was drawn: text, not a blank page


def test_long_japanese_wraps_inside_the_width_and_never_starts_a_line_with_a_closing_mark(sample):
    pdf = _document(sample)
    pdf.set_font(FONT, size=8.5)
    text = sample.next_steps[-1]  # Japanese without spaces, then English
    lines = _wrap(pdf, text, 60).split("\n")
    assert len(lines) > 3
    assert all(pdf.get_string_width(line) <= 60 for line in lines)
    assert not [line for line in lines if line[:1] in "、。）」,."]
    assert flat("".join(lines)) == flat(text)  # nothing lost or added but line breaks


def test_the_series_accounted_for_are_printed(sample):
    lines = ["Scored 498 of 500 series in at least one fold.",
             "2 series left out of fold 1: started after the cutoff.",
             "lgbm fell back to a zero forecast for 3 series in every fold (never sold)."]
    text = flat("".join(page_texts(decision_pdf(dataclasses.replace(sample, series_scored=498, n_series=500,
                                                                    accounting=lines)))))
    assert flat("498 of 500 series scored") in text and flat("Every series accounted for") in text
    assert all(flat(line) in text for line in lines)
    # a snapshot from before the counting prints the series as it did
    older = flat("".join(page_texts(decision_pdf(dataclasses.replace(sample, series_scored=None, accounting=[])))))
    assert flat(f"{sample.n_series:,} series") in older and flat("Every series accounted for") not in older


def test_axis_ticks_keep_the_decimals_they_need():
    from core.decision.pdf_charts import _short_pct, _short_yen

    assert [_short_yen(v) for v in (500, 1000, 1500, 2000, 1_250_000, 20e6, -5e6)] == [
        "¥500", "¥1k", "¥1.5k", "¥2k", "¥1.25M", "¥20M", "\u2212¥5M"]
    assert [_short_pct(v) for v in (0, 0.0005, 0.025, 0.3, -0.05, -1e-5)] == ["0%", "0.05%", "2.5%", "30%", "\u22125%", "0%"]


def test_the_money_heading_never_stays_behind_without_its_chart(sample, monkeypatch):
    """Eleven policies make a tall savings chart: wherever the section starts on a page,
    its heading lands on the page its chart is drawn on (it was left alone at a page's
    foot when the heading kept a fixed 90 mm)."""
    from dataclasses import replace
    from types import SimpleNamespace

    from core.decision import pdf as report
    from core.decision import pdf_charts

    row = next(r for r in sample.money if r.get("yearly_savings") is not None)
    money = list(sample.money) + [{**row, "policy": f"extra{i}", "label": f"extra{i}"} for i in range(11)]
    decision = replace(sample, money=money)
    height = pdf_charts.money_height(money)
    assert height > 90  # taller than the old fixed keep
    png = pdf_charts.money_png(money[:2], decision.model, decision.baseline_label, 50, 30, decision.baseline)
    charts = SimpleNamespace(money_height=pdf_charts.money_height, money_png=lambda *a, **k: png,
                             sensitivity_png=lambda *a, **k: None)
    pages = []
    heading = report._heading
    monkeypatch.setattr(report, "_heading", lambda pdf, *a, **k: (heading(pdf, *a, **k), pages.append(pdf.page_no())))
    pdf = report._document(decision)
    pdf.add_page()
    bottom = pdf.page_break_trigger
    # room for the old 90 mm but not the chart; room for neither; room for both
    for room in (height + 20, 60, height + 40):
        pages.clear()
        pdf.add_page()
        start = pdf.page_no()
        pdf.set_y(bottom - room)
        draw = pdf.image
        pdf.image = lambda *a, draw=draw, **k: (pages.append(pdf.page_no()), draw(*a, **k))[1]
        report._money(pdf, decision, charts)
        pdf.image = draw
        heading_page, chart_page = pages[0], pages[1]
        assert heading_page == chart_page, f"{room} mm left: the heading on page {heading_page}, its chart on the next"
        assert heading_page == (start if room > height + 25 else start + 1)
