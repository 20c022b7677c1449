"""The backtest comparison report (issue 17): made from stored runs of the small demo chain,
its PDF's text checked against the snapshot's figures in English and in Japanese, every
page rendered with nothing printed over anything and every chart's text inside its
picture, the command line, and the Experiments page's block."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import numpy as np
import pypdf
import pypdfium2
import pytest

from core import fmt
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
from core.decision import pdf_charts
from core.errors import MitoshiError
from core.i18n import using
from core.paper import charts as paper_charts
from core.planning import store as planning
from core.reports.__main__ import main as cli
from core.reports.make import make_report, report_pdf
from core.warehouse import Warehouse
from tests.conftest import new_session, store_run
from tests.pdf_checks import assert_text_clear, char_boxes, chart_texts

RENDERED = Path(tempfile.gettempdir()) / "mitoshi-report-backtest"


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """The small demo chain, its example project, a four-model run of every series and a
    two-model run of one store at another horizon."""
    path = tmp_path_factory.mktemp("report") / "wh.duckdb"
    warehouse = Warehouse(path)
    load_demo(warehouse, DemoConfig(stores=2, items=8, years=1, end_date=REFERENCE_END_DATE))
    project = planning.ensure_example_project(warehouse) or planning.list_projects(warehouse)[0]
    store_ids = ("S001", "S002")
    full = store_run(warehouse, store_ids, ("practice", "snaive", "ma", "ets"), 14, "four models", folds=3)
    one = store_run(warehouse, store_ids[:1], ("snaive", "ma"), 7, "one store")
    yield warehouse, project, full, one, path
    warehouse.close()


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages))


def squeezed(text: str) -> str:
    """Without any space: a table cell may wrap a name over two lines."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def made(chain):
    """Both runs' report, stored, and its PDF in each language with the chart figures drawn for it."""
    warehouse, project, full, one, _path = chain
    stored = make_report(warehouse, "backtest", project.project_id, {"runs": [full, one]})
    out = {"stored": stored}
    patch = pytest.MonkeyPatch()
    for language in ("en", "ja"):
        figures = []

        def capture(fig, figures=figures, original=paper_charts.png):
            figures.append(fig)
            return original(fig)

        patch.setattr(pdf_charts, "_png", capture)
        patch.setattr(paper_charts, "png", capture)
        out[language] = report_pdf(stored, language)
        out[f"{language}_figures"] = figures
        patch.undo()
    return out


def test_the_snapshot_keeps_numbers_and_names_the_runs(chain, made):
    _warehouse, project, full, one, _path = chain
    stored = made["stored"]
    assert [r["id"] for r in stored.made_from["runs"]] == [full, one]
    assert [r["name"] for r in stored.made_from["runs"]] == ["four models", "one store"]
    assert stored.made_from["project"] == project.name and stored.made_from["dataset"] == "AI Shop demo chain"
    first = stored.snapshot["runs"][0]
    assert [r["model"] for r in first["leaderboard"]][:1] and {r["model"] for r in first["leaderboard"]} == {
        "practice", "snaive", "ma", "ets"}
    assert len(first["by_step"]["ets"]) == 14 and "category" in first["by_segment"]
    assert {(t["model"], t["baseline"]) for t in first["significance"]} >= {("ets", "practice"), ("ets", "snaive")}
    assert stored.snapshot["newest"] is False


def test_the_english_pdf_shows_the_snapshot_s_figures(made):
    stored = made["stored"]
    text, flat = text_of(made["en"]), squeezed(text_of(made["en"]))
    first, second = stored.snapshot["runs"]
    best = first["leaderboard"][0]
    assert squeezed(fmt.model_name(best["model"])) in flat and fmt.pct(best["wape"]) in text
    for row in first["leaderboard"]:
        assert squeezed(fmt.model_name(row["model"])) in flat
        assert fmt.number(row["mase"], 3) in text
    assert "2 backtest runs compared" in text and "What differs between the runs" in text
    assert f"{first['n_scored']} of {first['n_series']} series scored" in text
    test = next(t for t in first["significance"] if t["model"] == best["model"] and t["baseline"] == "snaive")
    assert fmt.p_value(test["p_value"]) in text
    assert fmt.date(first["cutoffs"][-1]) in text
    assert first["id"] in text and second["id"] in text
    assert "Horizon (periods)" in text  # the two runs' horizons differ: 14 and 7
    assert "Error by horizon" in text and "Error by segment" in text and "What was left out" in text


def test_the_japanese_pdf_is_extractable_with_the_same_figures(made):
    stored = made["stored"]
    flat = squeezed(text_of(made["ja"]))
    first = stored.snapshot["runs"][0]
    with using("ja"):
        names = [squeezed(fmt.model_name(r["model"])) for r in first["leaderboard"]]
        cutoff = fmt.date(first["cutoffs"][0])
        created = fmt.date(first["created_at"][:10])
    assert all(name in flat for name in names), names
    assert "季節ナイーブ" in flat and "現行の発注" in flat
    assert squeezed(cutoff) in flat and "年" in cutoff and squeezed(created) in flat
    assert fmt.pct(first["leaderboard"][0]["wape"]) in flat


@pytest.mark.parametrize("language", ["en", "ja"])
def test_every_page_renders_with_nothing_over_anything(made, language):
    document = pypdfium2.PdfDocument(made[language])
    RENDERED.mkdir(exist_ok=True)
    assert len(document) >= 3
    for index in range(len(document)):
        page = document[index]
        page.render(scale=1.4).to_pil().save(RENDERED / f"{language}-p{index + 1}.png")
        (RENDERED / f"{language}.pdf").write_bytes(made[language])
        image = np.asarray(page.render(scale=0.5).to_pil().convert("L"))
        assert (image < 128).mean() > 0.001, f"page {index + 1} is blank"
        boxes = char_boxes(page)
        left, bottom, right, top = (boxes[:, i:i + 1] for i in range(4))
        overlap = ((np.minimum(right, right.T) - np.maximum(left, left.T) > 0.6)
                   & (np.minimum(top, top.T) - np.maximum(bottom, bottom.T) > 0.6))
        # Neighbours in reading order are one word's glyphs: a kerned pair ("ff" in "differ") may touch by more.
        neighbours = np.abs(np.subtract.outer(np.arange(len(boxes)), np.arange(len(boxes)))) <= 1
        pairs = np.argwhere(np.triu(overlap & ~neighbours))
        assert len(pairs) == 0, f"page {index + 1}: characters printed over each other at {boxes[pairs[0][0]]}"
        width, height = page.get_size()
        assert boxes[:, 0].min() >= 0 and boxes[:, 2].max() <= width and boxes[:, 1].min() >= 0 \
            and boxes[:, 3].max() <= height, f"page {index + 1}: text runs off the page"


@pytest.mark.parametrize("language", ["en", "ja"])
def test_chart_text_stays_inside_its_picture_and_clear_of_other_text(made, language):
    figures = made[f"{language}_figures"]
    assert len(figures) == 4  # per run: the ladder and the error by horizon
    for number, fig in enumerate(figures, 1):
        texts, frame = chart_texts(fig)
        assert_text_clear(texts, frame, f"chart {number}")


def test_without_runs_it_reports_the_newest_and_says_so(chain):
    warehouse, project, _full, one, _path = chain
    stored = make_report(warehouse, "backtest", project.project_id, {})
    assert [r["id"] for r in stored.made_from["runs"]] == [one]  # stored last
    assert "The newest backtest run, one store of" in text_of(report_pdf(stored, "en"))


def test_an_unknown_run_or_no_run_says_what_is_missing(chain, tmp_path):
    warehouse, project, *_ = chain
    with pytest.raises(MitoshiError, match="No run with id 'nope'"):
        make_report(warehouse, "backtest", project.project_id, {"runs": ["nope"]})
    empty = Warehouse(tmp_path / "empty.duckdb")
    try:
        load_demo(empty, DemoConfig(stores=1, items=2, years=1, end_date=REFERENCE_END_DATE))
        other = planning.ensure_example_project(empty) or planning.list_projects(empty)[0]
        with pytest.raises(MitoshiError, match="There is no backtest run to report on yet"):
            make_report(empty, "backtest", other.project_id, {})
    finally:
        empty.close()


def test_the_command_line_writes_the_pdf(chain, tmp_path, capsys):
    warehouse, project, full, one, path = chain
    warehouse.close()  # the command line opens the file itself (the last test of this chain)
    out = tmp_path / "backtest.pdf"
    assert cli(["report", "backtest", "--project", project.name, "--out", str(out), "--run", full, "--run", one,
                "--language", "ja", "--warehouse", str(path)]) == 0
    assert "backtest report v" in capsys.readouterr().out
    flat = squeezed(text_of(out.read_bytes()))
    assert full in flat and one in flat and "季節ナイーブ" in flat


def test_the_experiments_page_makes_the_report_and_offers_it(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    store_run(warehouse, ("S001",), ("snaive", "ma"), 7, "page run")
    warehouse.close()
    at = new_session("pages/experiments.py")
    assert any(s.value == "The backtest comparison report" for s in at.subheader)
    next(b for b in at.button if b.label == "Make the Backtest comparison report").click()
    at.run()
    assert not at.exception, at.exception
    downloads = [b.label for b in at.get("download_button")]
    assert any(label.startswith("Download v1 of ") for label in downloads), downloads
    shown = " ".join(m.value for m in at.markdown)
    assert "Leaderboard" in shown and "Seasonal naive" in shown
