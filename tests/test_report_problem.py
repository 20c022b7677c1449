"""The report mechanism (core.reports, core.paper.report) and its first kind, the problem
definition: stored snapshots numbered per project and kind, the PDF's text against the
snapshot's figures in both languages, one A4 page with nothing printed over anything,
the command line, and the Problem page's block."""

from __future__ import annotations

import dataclasses
import io
import re
import tempfile
from pathlib import Path

import numpy as np
import pypdf
import pypdfium2
import pytest

from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
from core.errors import MitoshiError
from core.i18n import using
from core.paper import report as paper
from core.planning import store as planning
from core.paper import store as reports
from core.reports.__main__ import main as cli
from core.reports.make import file_name, make_report, report_document, report_pdf
from core.warehouse import Warehouse
from tests.conftest import new_session

RENDERED = Path(tempfile.gettempdir()) / "mitoshi-report-pages"


@pytest.fixture
def example(tmp_path):
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    load_demo(warehouse, DemoConfig(stores=2, items=8, years=1, end_date=REFERENCE_END_DATE))
    project = planning.ensure_example_project(warehouse)
    yield warehouse, project
    warehouse.close()


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages))


def overlapping_characters(page) -> int:
    """How many pairs of characters on ``page`` are printed over each other (glyphs of one
    word touch; printed over each other they overlap by more than 0.6 pt)."""
    text = page.get_textpage()
    boxes = np.array([text.get_charbox(i, loose=False) for i in range(text.count_chars())
                      if text.get_text_range(i, 1).strip()]).reshape(-1, 4)
    left, bottom, right, top = (boxes[:, i:i + 1] for i in range(4))
    overlap = ((np.minimum(right, right.T) - np.maximum(left, left.T) > 0.6)
               & (np.minimum(top, top.T) - np.maximum(bottom, bottom.T) > 0.6))
    np.fill_diagonal(overlap, False)
    return int(np.triu(overlap).sum())


def test_reports_are_numbered_per_project_and_kind_and_never_change(example):
    warehouse, project = example
    first = make_report(warehouse, "problem", project.project_id)
    assert (first.kind, first.version) == ("problem", 1)
    assert first.made_from["definition_version"] == 1 and first.made_from["project"] == project.name
    assert first.made_from["code_version"].startswith("0.")
    # the definition changes: a new report shows it, the first keeps what it showed
    latest = planning.latest_definition(warehouse, project.project_id)
    planning.save_definition(warehouse, project.project_id, dataclasses.replace(
        latest.definition, value_yen_per_year=72_000_000.0), latest.version)
    second = make_report(warehouse, "problem", project.project_id)
    assert second.version == 2 and second.made_from["definition_version"] == 2
    assert reports.latest_report(warehouse, project.project_id, "problem").report_id == second.report_id
    assert [r.version for r in reports.list_reports(warehouse, project.project_id)] == [2, 1]
    assert "¥60,000,000" in text_of(report_pdf(reports.get_report(warehouse, first.report_id), "en"))
    assert "¥72,000,000" in text_of(report_pdf(second, "en"))
    assert file_name(second, "ja") == f"mitoshi-problem-v2-{second.created_at.date().isoformat()}-ja.pdf"
    # deleting the project deletes its reports
    planning.delete_project(warehouse, project.project_id)
    assert reports.list_reports(warehouse, project.project_id) == []


def test_the_problem_report_prints_the_definition_and_its_criteria_in_either_language(example):
    warehouse, project = example
    stored = make_report(warehouse, "problem", project.project_id)
    definition = planning.latest_definition(warehouse, project.project_id).definition
    english = text_of(report_pdf(stored, "en"))
    for expected in ("Problem definition", "version 1", "¥60,000,000", "¥6,000,000", "¥15,000,000",
                     "What we will not do", "GO / NO-GO criteria, fixed up front", stored.report_id,
                     "WAPE at least 10% better (lower) than today's practice", "Price optimisation"):
        assert expected in english, expected
    assert len(definition.criteria) == 6
    with using("ja"):
        japanese = text_of(report_pdf(stored))
        assert planning.latest_definition(warehouse, project.project_id).definition.criteria[0].describe() in japanese
    for expected in ("6,000万円", "600万円", "1,500万円", "価格の最適化", "AI商店 需要予測"):
        assert expected in japanese, expected
    # the page shows the same report: its words are the PDF's
    document = report_document(stored)
    assert document.kind == "Problem definition" and document.title == project.name
    assert "¥60,000,000" in paper.plain_text(document)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_problem_report_fits_its_pages_with_nothing_printed_over_anything(example, language):
    warehouse, project = example
    pdf = report_pdf(make_report(warehouse, "problem", project.project_id), language)
    document = pypdfium2.PdfDocument(pdf)
    # The example's texts are bilingual in English (two languages' worth of words): two pages at most.
    assert len(document) == (1 if language == "ja" else 2)
    RENDERED.mkdir(exist_ok=True)
    for index in range(len(document)):
        page = document[index]
        page.render(scale=1.4).to_pil().save(RENDERED / f"problem-{language}-p{index + 1}.png")
        assert page.get_size() == pytest.approx((595.28, 841.89), abs=0.5)  # A4
        assert overlapping_characters(page) == 0, f"page {index + 1}"


def test_a_report_made_again_with_nothing_changed_is_the_same_version(example):
    warehouse, project = example
    first = make_report(warehouse, "problem", project.project_id)
    again = make_report(warehouse, "problem", project.project_id)
    assert (again.report_id, again.version) == (first.report_id, 1)
    assert [r.version for r in reports.list_reports(warehouse, project.project_id)] == [1]


def test_a_project_without_a_definition_gets_a_reason_not_a_report(example):
    warehouse, _ = example
    empty = planning.create_project(warehouse, "Nothing written yet")
    with pytest.raises(MitoshiError, match="has no problem definition yet"):
        make_report(warehouse, "problem", empty.project_id)
    assert reports.list_reports(warehouse, empty.project_id) == []
    with pytest.raises(MitoshiError, match="There is no report 'canvas'"):
        make_report(warehouse, "canvas", empty.project_id)


def test_the_command_line_prints_a_report_and_says_what_is_wrong(example, tmp_path, capsys):
    warehouse, project = example
    path = warehouse.path
    warehouse.close()
    out = tmp_path / "out" / "problem.pdf"
    assert cli(["report", "problem", "--project", project.name, "--out", str(out), "--language", "ja",
                "--warehouse", str(path)]) == 0
    assert "6,000万円" in text_of(out.read_bytes())
    assert "problem report v1" in capsys.readouterr().out
    assert cli(["list", "--project", project.project_id, "--warehouse", str(path)]) == 0
    assert re.search(r"problem\s+v1\s", capsys.readouterr().out)
    # the example by the start of its name, as the README writes it; every project's reports without --project
    assert cli(["report", "problem", "--project", "AI Shop demand forecasting", "--out", str(out),
                "--warehouse", str(path)]) == 0
    assert "problem report v1" in capsys.readouterr().out  # nothing changed: the same version
    assert cli(["list", "--warehouse", str(path)]) == 0
    assert capsys.readouterr().out.startswith(project.name + "\n")
    # an --out that cannot be written is refused before anything is stored
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SystemExit, match="cannot write"):
        cli(["report", "problem", "--project", project.name, "--out", str(blocker / "x.pdf"), "--warehouse", str(path)])
    with pytest.raises(SystemExit, match="No project named 'Nobody'"):
        cli(["report", "problem", "--project", "Nobody", "--out", str(out), "--warehouse", str(path)])
    reopened = Warehouse(path)
    empty = planning.create_project(reopened, "Empty")
    reopened.close()
    assert cli(["report", "problem", "--project", empty.project_id, "--out", str(tmp_path / "e.pdf"),
                "--warehouse", str(path)]) == 2
    assert "has no problem definition yet" in capsys.readouterr().err
    assert not (tmp_path / "e.pdf").exists() and not list(tmp_path.glob("*.partial"))


def test_the_problem_page_makes_the_report_and_offers_it(warehouse_env):
    at = new_session("pages/problem.py")
    assert not at.get("download_button") or all("Download v" not in b.label for b in at.get("download_button"))
    next(b for b in at.button if b.label == "Make the Problem definition report").click()
    at.run()
    assert not at.exception, at.exception
    downloads = [b.label for b in at.get("download_button")]
    assert any(label.startswith("Download v1 of ") for label in downloads), downloads
    shown = " ".join(m.value for m in at.markdown)
    assert "GO / NO-GO criteria, fixed up front" in shown and "Problem statement" in shown


def test_the_decision_names_the_reports_it_rests_on(example):
    from core.decision import store as decisions
    from core.decision.evaluation import decide
    from core.decision.pdf import decision_pdf
    from tests.conftest import store_run

    warehouse, project = example
    run_id = store_run(warehouse, ("S001",), ("practice", "snaive", "ma"), 14, "rests on")
    before = decide(warehouse, project.project_id, run_id)
    assert before.reports == []
    assert "No report of the project was made before this decision" in text_of(decision_pdf(before, "en"))
    make_report(warehouse, "problem", project.project_id)
    latest = planning.latest_definition(warehouse, project.project_id)
    planning.save_definition(warehouse, project.project_id, dataclasses.replace(
        latest.definition, value_yen_per_year=61_000_000.0), latest.version)  # a change: a second version
    newest = make_report(warehouse, "problem", project.project_id)
    after = decide(warehouse, project.project_id, run_id)
    assert after.reports == [{"kind": "problem", "version": 2, "report_id": newest.report_id,
                              "created_at": newest.created_at.isoformat(timespec="seconds")}]
    assert decisions.get_decision(warehouse, after.decision_id).reports == after.reports  # kept in the snapshot
    printed = text_of(decision_pdf(after, "en"))
    assert "The reports it rests on Problem definition version 2 of" in printed and newest.report_id in printed


def test_a_report_made_in_japanese_prints_in_english_with_the_project_named_in_english(example):
    warehouse, project = example
    with using("ja"):
        stored = make_report(warehouse, "problem", project.project_id)
        assert report_document(stored).title == "AI商店 需要予測"
    assert stored.made_from["project"] == "AI Shop demand forecasting (AI商店 需要予測)"  # as stored: in no language
    assert report_document(stored).title == "AI Shop demand forecasting (AI商店 需要予測)"
    assert "Problem definition, version 1 of" in text_of(report_pdf(stored, "en"))
