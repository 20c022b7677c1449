"""The pilot readout report (issue 17) on a pilot run for real on a small demo chain: a
moving-average run of S001 and S002 published for 14 days, a design pinning them, its 14
days simulated and read out. The PDF's text against the stored readout's figures in English
and Japanese, every page rendered with nothing printed over anything and every chart's text
inside its picture, the refusals without a pilot or a readout, the command line and the
Pilot page's block."""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pypdf
import pypdfium2
import pytest

from core import fmt
from core.backtest.store import get_run
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
from core.decision import pdf_charts
from core.errors import MitoshiError
from core.handoff import store as handoff_store
from core.handoff.batch import PublishOptions, prepare_batch
from core.i18n import using
from core.money.impact import Economics
from core.paper import charts as paper_charts
from core.paper.report import plain_text
from core.pilot.design import DesignOptions, design_pilot, pilot_history
from core.pilot.readout import effect_sentence, interval_text
from core.pilot.run import read_out_design, simulate_design, stored_readout
from core.pilot.store import latest_design, save_design
from core.planning import store as planning
from core.reports.__main__ import main as cli
from core.reports.make import make_report, report_document, report_pdf
from core.reports.pilot import snapshot
from core.warehouse import ENV_VAR, Warehouse
from tests.conftest import new_session, store_run
from tests.pdf_checks import assert_text_clear, char_boxes, chart_texts

RENDERED = Path(tempfile.gettempdir()) / "mitoshi-report-pilot"
PAGE = "pages/pilot.py"


@pytest.fixture(scope="module")
def piloted_file(tmp_path_factory):
    """4 stores x 8 items x 1 year (a pilot needs two pairs), the example project, a pilot
    of S001 and S002 against S003 and S004 from 2026-11-01 to 2026-11-14, simulated and
    read out."""
    path = tmp_path_factory.mktemp("pilot_report") / "piloted.duckdb"
    warehouse = Warehouse(path)
    load_demo(warehouse, DemoConfig(stores=4, items=8, years=1, end_date=REFERENCE_END_DATE))
    project = planning.ensure_example_project(warehouse)
    run_id = store_run(warehouse, ("S001", "S002"), ("practice", "ma"), horizon=14, name="ma two stores")
    handoff_store.publish_batch(warehouse, prepare_batch(warehouse, run_id, PublishOptions.from_run(
        get_run(warehouse, run_id), "ma", horizon=14, service_level=0.9)))
    dataset = warehouse.list_datasets()[0]
    history = pilot_history(warehouse, dataset, "store_id", 28, Economics())
    design = design_pilot(history, DesignOptions(treated=2, pinned=("S001", "S002"), weeks=2, pre_weeks=4,
                                                 smallest_effect_yearly=5e6),
                          project.project_id, dataset.dataset_id, "store_id", 6e6, "ma")
    design = replace(design, design_id=save_design(warehouse, design))
    simulate_design(warehouse, design)
    read_out_design(warehouse, design)
    planning.remember_project(warehouse, project.project_id)
    warehouse.close()
    return path


@pytest.fixture
def piloted(piloted_file, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(piloted_file, path)
    warehouse = Warehouse(path)
    project = planning.list_projects(warehouse)[0]
    design = latest_design(warehouse, project.project_id)
    yield warehouse, project, design, stored_readout(warehouse, design)
    warehouse.close()


@pytest.fixture
def made(piloted):
    """The report made, with its PDF in both languages and every chart figure drawn for them."""
    warehouse, project, design, stored = piloted
    report = make_report(warehouse, "pilot", project.project_id)
    pdfs, figures = {}, {}
    for language in ("en", "ja"):
        drawn = []
        originals = paper_charts.png, pdf_charts._png
        try:
            paper_charts.png = lambda fig, drawn=drawn, png=originals[0]: drawn.append(fig) or png(fig)
            pdf_charts._png = lambda fig, drawn=drawn, png=originals[1]: drawn.append(fig) or png(fig)
            pdfs[language] = report_pdf(report, language)
        finally:
            paper_charts.png, pdf_charts._png = originals
        figures[language] = drawn
    return report, pdfs, figures


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages))


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_snapshot_is_the_stored_readout_and_says_what_it_was_made_from(piloted, made):
    warehouse, project, design, stored = piloted
    report = made[0]
    assert (report.kind, report.version) == ("pilot", 1)
    made_from = report.made_from
    dataset = warehouse.get_dataset(design.dataset_id)
    assert made_from["project"] == project.name
    assert made_from["dataset"] == dataset.name and made_from["dataset_fingerprint"] == dataset.fingerprint
    assert [run["name"] for run in made_from["runs"]] == ["ma two stores"]
    assert get_run(warehouse, made_from["runs"][0]["id"]).name == "ma two stores"  # the piloted batch's run
    assert made_from["pilot"] == f"2026-11-01 – 2026-11-14  ·  {design.design_id}"
    shot = report.snapshot
    assert shot["readout"]["readout_id"] == stored.readout_id and shot["batch"]["model"] == "ma"
    # The groups' means read now are the readout's arithmetic: their difference-in-differences is its estimate.
    periods = shot["outcomes"]["periods"]["profit"]
    did = (periods["treated_during"] - periods["treated_before"]) - (
        periods["control_during"] - periods["control_before"])
    assert did == pytest.approx(stored.readout.estimate("profit").per_store_day)
    weeks = shot["outcomes"]["weeks"]
    assert [w["start"] for w in weeks] == ["2026-10-04", "2026-10-11", "2026-10-18", "2026-10-25", "2026-11-01",
                                           "2026-11-08"]
    assert [w["during"] for w in weeks] == [False] * 4 + [True] * 2


def test_the_pdf_prints_the_readouts_figures_in_english(piloted, made):
    _warehouse, project, design, stored = piloted
    report, pdfs, _figures = made
    text = text_of(pdfs["en"])
    profit = stored.readout.estimate("profit")
    evidence = stored.evidence
    with using("en"):
        expected = [
            "Pilot readout", project.name, "What the pilot measured", "S001, S002", "S003, S004",
            "2026-11-01 to 2026-11-14", "2026-10-04 to 2026-10-31", "Moving average", "ma two stores",
            fmt.yen_short(profit.yearly, signed=True), interval_text(profit.low, profit.high),
            fmt.yen(profit.per_store_day, signed=True), f"The backtest said {fmt.yen_short(evidence.offline_yearly_savings)}",
            "Treated against control, before and during the pilot", "Difference-in-differences estimates",
            "The offline promise against the online measurement", design.duration_sentence(),
            effect_sentence(stored.readout.estimate("waste_cost")), report.report_id,
            report.made_from["dataset_fingerprint"], "丸の内店"]
    for value in expected:
        assert flat(value) in flat(text), value
    # The page shows the same words as the PDF.
    with using("en"):
        words = plain_text(report_document(report))
    assert fmt.yen_short(profit.yearly, signed=True) in words and "Pilot readout" in words
    for wrong in ("¥-", "¥+", "None", "nan"):
        assert wrong not in text, wrong


def test_the_pdf_prints_the_readout_in_japanese(piloted, made):
    stored = piloted[3]
    text = text_of(made[1]["ja"])
    profit = stored.readout.estimate("profit")
    with using("ja"):
        expected = ["利益", "廃棄ロス額", "2026年11月1日", interval_text(profit.low, profit.high),
                    fmt.yen_short(profit.yearly, signed=True), "実施店舗", "対照店舗", "移動平均"]
        for value in expected:
            assert flat(value) in flat(text), value
    assert not re.search(r"¥\d", text), "yen in Japanese are 円"


@pytest.mark.parametrize("language", ["en", "ja"])
def test_every_page_renders_with_nothing_printed_over_anything(made, language):
    pdf = made[1][language]
    document = pypdfium2.PdfDocument(pdf)
    assert 2 <= len(document) <= 4
    RENDERED.mkdir(exist_ok=True)
    for index in range(len(document)):
        page = document[index]
        page.render(scale=1.4).to_pil().save(RENDERED / f"pilot-{language}-p{index + 1}.png")
        assert page.get_size() == pytest.approx((595.28, 841.89), abs=0.5)  # A4
        boxes = char_boxes(page)
        left, bottom, right, top = (boxes[:, i:i + 1] for i in range(4))
        overlap = ((np.minimum(right, right.T) - np.maximum(left, left.T) > 0.6)
                   & (np.minimum(top, top.T) - np.maximum(bottom, bottom.T) > 0.6))
        np.fill_diagonal(overlap, False)
        # Neighbouring letters of one word may touch ("ff" in a bold heading's "Difference" overlap by 0.7 pt):
        # text printed over other text is never the next character.
        neighbours = np.abs(np.arange(len(boxes))[:, None] - np.arange(len(boxes))[None, :]) == 1
        pairs = np.argwhere(np.triu(overlap & ~neighbours))
        assert len(pairs) == 0, f"page {index + 1}: characters printed over each other at {boxes[pairs[0][0]]}"


@pytest.mark.parametrize("language", ["en", "ja"])
def test_chart_text_stays_inside_its_picture_and_clear_of_other_text(made, language):
    figures = made[2][language]
    assert len(figures) == 2  # treated against control, and the promise against the measurement
    for number, fig in enumerate(figures, 1):
        texts, frame = chart_texts(fig)
        assert_text_clear(texts, frame, f"chart {number}")
        for ax in fig.axes:
            assert ax.lines, f"an empty chart: {ax.get_title(loc='left')!r}"
    # Groups told apart without colour: by dash and marker.
    treated, control = [line for line in figures[0].axes[0].lines if line.get_marker() not in (None, "None", "")]
    assert treated.get_linestyle() != control.get_linestyle() and treated.get_marker() != control.get_marker()


def test_without_a_pilot_or_a_readout_the_report_says_what_to_do(piloted):
    warehouse, _project, design, _stored = piloted
    empty = planning.create_project(warehouse, "No pilot yet")
    with pytest.raises(MitoshiError, match="has no pilot yet: design one and save it on the Pilot page"):
        snapshot(warehouse, empty.project_id, {})
    save_design(warehouse, replace(design, project_id=empty.project_id, design_id=None))
    with pytest.raises(MitoshiError, match="has no readout yet: run it and read it out on the Pilot page"):
        make_report(warehouse, "pilot", empty.project_id)


def test_the_command_line_prints_the_pilot_report(piloted_file, tmp_path, capsys):
    path = tmp_path / "cli.duckdb"
    shutil.copy(piloted_file, path)
    warehouse = Warehouse(path)
    project = planning.list_projects(warehouse)[0]
    profit = stored_readout(warehouse, latest_design(warehouse, project.project_id)).readout.estimate("profit")
    empty = planning.create_project(warehouse, "Empty")
    warehouse.close()
    out = tmp_path / "out" / "pilot.pdf"
    assert cli(["report", "pilot", "--project", project.name, "--out", str(out), "--language", "ja",
                "--warehouse", str(path)]) == 0
    assert "pilot report v1" in capsys.readouterr().out
    with using("ja"):
        assert flat(interval_text(profit.low, profit.high)) in flat(text_of(out.read_bytes()))
    assert cli(["report", "pilot", "--project", empty.project_id, "--out", str(tmp_path / "e.pdf"),
                "--warehouse", str(path)]) == 2
    assert "has no pilot yet" in capsys.readouterr().err
    assert not (tmp_path / "e.pdf").exists()


def test_the_pilot_page_makes_the_report_and_offers_it(piloted_file, tmp_path, monkeypatch):
    path = tmp_path / "page.duckdb"
    shutil.copy(piloted_file, path)
    monkeypatch.setenv(ENV_VAR, str(path))
    at = new_session(PAGE)
    assert not [b for b in at.get("download_button") if b.label.startswith("Download v")]
    next(b for b in at.button if b.label == "Make the Pilot readout report").click()
    at.run()
    assert not at.exception, at.exception
    downloads = [b.label for b in at.get("download_button")]
    assert any(label.startswith("Download v1 of ") for label in downloads), downloads
    shown = " ".join(m.value for m in at.markdown)
    assert "What the pilot measured" in shown and "The offline promise against the online measurement" in shown


def test_the_groups_table_and_the_estimates_print_the_same_difference_in_differences(piloted, made):
    """The groups' means give the estimate up to a rounding: the table prints the stored estimate, so the
    two tables never read 8.38 and 8.37 for one number."""
    from core.paper.report import Table

    with using("en"):
        tables = [s for s in report_document(made[0]).sections if isinstance(s, Table)]
    groups = next(t for t in tables if t.headings[-1] == "Difference in differences")
    estimates = next(t for t in tables if "Effect per treated store-day" in t.headings)
    effect = estimates.headings.index("Effect per treated store-day")
    by_measure = {row[0]: row[effect] for row in estimates.rows}
    assert sum(row[0] in by_measure for row in groups.rows) >= 3  # profit, waste cost, stockout item-days…
    for row in groups.rows:
        if row[0] in by_measure:
            assert re.sub(r"[^\d.,+−-]", "", row[-1]) == re.sub(r"[^\d.,+−-]", "", by_measure[row[0]]), row[0]
