"""The effort / impact report (issue 17): the map, the ranking with RICE and ICE, and the
initiative chosen to start with (the one last made the problem definition), made from a
stored snapshot of a small demo chain and read back from the PDF in English and Japanese;
every page rendered, its text kept apart and the map's text inside its picture; made
from its page and from the command line."""

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
from core.errors import MitoshiError
from core.i18n import M_, language, using
from core.paper import charts
from core.planning import store as planning
from core.planning import texts
from core.planning.initiatives import to_definition
from core.reports import effort
from core.reports.__main__ import main
from core.reports.make import make_report, report_pdf
from core.paper.store import get_report, latest_report
from core.warehouse import Warehouse
from tests.conftest import new_session
from tests.pdf_checks import assert_text_clear, char_boxes, chart_texts

KIND = "effort-impact"
CHOSEN = "Delivery-delay prediction 配送遅延予測"  # the example's second, not the ranking's first
# Where the pages are left as PNG for a person to look at.
RENDERED = Path(tempfile.gettempdir()) / "mitoshi-report-effort"


def choose(warehouse: Warehouse, project_id: str, name: str) -> None:
    """What "Make it the problem definition" on the Effort / impact page does."""
    item = next(s.item for s in planning.list_initiatives(warehouse, project_id) if s.item.name == name)
    latest = planning.latest_definition(warehouse, project_id)
    planning.save_definition(warehouse, project_id, to_definition(latest.definition, item), latest.version,
                             M_("From the initiative '{name}'", name=texts.fact(item.name, texts.INITIATIVE)))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("effort") / "demo.duckdb"
    warehouse = Warehouse(path)
    load_demo(warehouse, DemoConfig(stores=2, items=8, years=1, end_date=REFERENCE_END_DATE))
    project = planning.ensure_example_project(warehouse)
    not_chosen = make_report(warehouse, KIND, project.project_id)
    choose(warehouse, project.project_id, CHOSEN)
    chosen = make_report(warehouse, KIND, project.project_id)
    yield warehouse, path, project, not_chosen, chosen
    warehouse.close()


def page_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_snapshot_keeps_the_initiatives_ranked_and_the_chosen_one(demo):
    warehouse, _path, project, not_chosen, chosen = demo
    shot = get_report(warehouse, chosen.report_id).snapshot  # as stored, read back
    rows = shot["initiatives"]
    assert len(rows) == 8 and [r["rank"] for r in rows] == list(range(1, 9))
    assert rows[0]["name"] == "Demand forecasting 需要予測" and rows[0]["quadrant"] == "Aim here (MUST)"
    assert rows[0]["rice"] == pytest.approx(60_000_000 * 0.8 * 0.7 / 12)
    assert shot["thresholds"] == {"effort_weeks": 13.0, "impact_yen": 20_000_000.0}
    picked = shot["chosen"]
    assert picked["name"] == CHOSEN and picked["key"] == rows[1]["key"] and picked["still_the_problem"]
    assert picked["version"] == picked["latest_version"] == 2
    assert chosen.made_from["definition_version"] == 2 and chosen.made_from["project"] == project.name
    assert get_report(warehouse, not_chosen.report_id).snapshot["chosen"] is None
    # in no language: made in Japanese, the same snapshot
    with using("ja"):
        made_from, again = effort.snapshot(warehouse, project.project_id, {})
    assert language() == "en"
    assert again["initiatives"] == shot["initiatives"] and again["chosen"] == shot["chosen"]


def test_the_english_pdf_shows_the_map_the_ranking_and_the_chosen_initiative(demo):
    warehouse, _path, project, _not_chosen, chosen = demo
    shot = chosen.snapshot
    text = flat(page_text(report_pdf(chosen, "en")))
    first, second = shot["initiatives"][:2]
    for expected in (project.name, "The chosen initiative", "Delivery-delay prediction 配送遅延予測",
                     "Made the problem definition in version 2 of " + fmt.date(shot["chosen"]["saved_at"]),
                     "Low-risk starting point (little effort, small impact), rank 2 of 8",
                     "8 person-weeks for ¥10,000,000 a year at full scale",
                     "60% sure of the impact, reaching 40% of the chain",
                     f"RICE {fmt.yen(second['rice'])} per person-week · ICE {fmt.count(second['ice'])}",
                     "8 candidate initiatives as of", "at most 13 person-weeks", "at least ¥20,000,000 a year",
                     "The map", "Where to start", "Start with Demand forecasting 需要予測",
                     "The ranking", "RICE, ¥ per person-week", "¥60,000,000", fmt.yen(first["rice"]),
                     "¥2,800,000", fmt.count(first["ice"]), "Aim here (MUST)", "Are you sure?",
                     "Crime-prevention analysis 防犯分析", "¥8,000"):
        assert flat(expected) in text, expected
    assert "**" not in text and "\\" not in text  # the recommendation's Markdown is not printed


def test_before_any_choice_the_report_says_so_and_names_the_ranking_s_first(demo):
    _warehouse, _path, _project, not_chosen, _chosen = demo
    text = flat(page_text(report_pdf(not_chosen, "en")))
    assert flat("Not chosen yet: no initiative has been made the project's problem definition") in text
    assert flat("The ranking puts Demand forecasting 需要予測 first.") in text
    assert flat("12 person-weeks for ¥60,000,000 a year at full scale") in text


def test_the_japanese_pdf_reads_in_japanese_with_its_figures(demo):
    _warehouse, _path, _project, _not_chosen, chosen = demo
    first = chosen.snapshot["initiatives"][0]
    pdf = report_pdf(chosen, "ja")
    assert language() == "en"
    text = flat(page_text(pdf))
    with using("ja"):
        rice, saved = fmt.yen(first["rice"]), fmt.date(chosen.snapshot["chosen"]["saved_at"])
    assert rice == "280万円"
    for expected in ("配送遅延予測", "需要予測から始めましょう", "6,000万円", rice, "2,000万円", saved, "ここを狙う",
                     "8,000円", "1/2ページ"):
        assert flat(expected) in text, expected
    assert not re.search(r"¥\d", text)  # every amount in 円, never ¥


def test_a_project_without_initiatives_is_told_where_to_add_them(demo):
    warehouse, *_ = demo
    empty = planning.create_project(warehouse, "No initiatives yet")
    with pytest.raises(MitoshiError, match="add initiatives on the Effort / impact page first"):
        make_report(warehouse, KIND, empty.project_id)


@pytest.fixture(scope="module")
def rendered(demo):
    """The chosen report in both languages, and the map figures drawn for them."""
    _warehouse, _path, _project, not_chosen, chosen = demo
    out, original = {}, charts.png
    for name, stored, lang in (("en", chosen, "en"), ("ja", chosen, "ja"), ("none", not_chosen, "en")):
        figures = []
        charts.png = lambda fig, figures=figures: figures.append(fig) or original(fig)
        try:
            out[name] = (report_pdf(stored, lang), figures)
        finally:
            charts.png = original
    return out


@pytest.mark.parametrize("name", ["en", "ja", "none"])
def test_every_page_renders_with_its_text_apart(rendered, name):
    pdf, _figures = rendered[name]
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 2
    RENDERED.mkdir(exist_ok=True)
    for index in range(len(document)):
        page = document[index]
        image = page.render(scale=1.4).to_pil()
        image.save(RENDERED / f"{name}-p{index + 1}.png")
        assert (np.asarray(image.convert("L")) < 128).mean() > 0.001, f"page {index + 1} is blank"
        boxes = char_boxes(page)
        left, bottom, right, top = (boxes[:, i:i + 1] for i in range(4))
        overlap = ((np.minimum(right, right.T) - np.maximum(left, left.T) > 0.6)
                   & (np.minimum(top, top.T) - np.maximum(bottom, bottom.T) > 0.6))
        np.fill_diagonal(overlap, False)
        # Neighbours in one word may touch: the font's "f" reaches over the next letter ("effort" at 10.5 pt).
        neighbours = np.arange(len(boxes) - 1)
        overlap[neighbours, neighbours + 1] = overlap[neighbours + 1, neighbours] = False
        assert not overlap.any(), f"page {index + 1}: characters printed over each other"


@pytest.mark.parametrize("name", ["en", "ja", "none"])
def test_the_map_names_every_initiative_inside_its_picture_and_clear_of_other_text(rendered, name):
    _pdf, figures = rendered[name]
    assert len(figures) == 1
    texts_, frame = chart_texts(figures[0])
    shown = " ".join(t for t, _box in texts_)
    for rank in range(1, 9):
        assert re.search(rf"(^|\s){rank}  \S", shown), rank  # every initiative, numbered by rank
    assert_text_clear(texts_, frame)


def test_the_map_places_names_among_crowded_points():
    """Twelve initiatives, several on top of one another: every name still clear of the rest."""
    from core.planning.initiatives import Initiative, Thresholds, score_table

    items = [(f"k{i}", Initiative(f"Initiative number {i} 施策{i}", "", effort, impact, 0.5, reach))
             for i, (effort, impact, reach) in enumerate([(4, 3e7, 1), (4.2, 3.1e7, 0.2), (4.4, 2.9e7, 0.5),
                                                          (12, 2e7, 1), (13, 2e7, 0.3), (60, 9e7, 0.9),
                                                          (62, 8.5e7, 0.1), (2, 1e6, 0.4), (2, 0, 0.4),
                                                          (300, 5e8, 1), (1, 1e9, 0.7), (20, 5e6, 0.5)])]
    rows = score_table(items, Thresholds()).to_dict("records")
    figures, original = [], charts.png
    charts.png = lambda fig: figures.append(fig) or original(fig)
    try:
        effort.map_png(rows, Thresholds(), chosen_key="k3")
    finally:
        charts.png = original
    texts_, frame = chart_texts(figures[0])
    assert_text_clear(texts_, frame)


def test_the_command_line_writes_the_pdf(demo, tmp_path, capsys):
    warehouse, path, project, _not_chosen, _chosen = demo
    out = tmp_path / "effort.pdf"
    before = latest_report(warehouse, project.project_id, KIND)
    assert main(["report", KIND, "--project", project.name, "--out", str(out), "--warehouse", str(path),
                 "--language", "ja"]) == 0
    said = capsys.readouterr().out
    if before is None:
        assert "effort-impact report v1" in said
    else:  # nothing changed since the newest version: it is printed, not copied into a new one
        assert f"effort-impact report v{before.version} ({before.report_id})" in said
    text = flat(page_text(out.read_bytes()))
    assert "配送遅延予測" in text and "6,000万円" in text
    empty = planning.create_project(warehouse, "Nothing to map")
    assert main(["report", KIND, "--project", empty.name, "--out", str(tmp_path / "no.pdf"),
                 "--warehouse", str(path)]) == 2
    assert "add initiatives on the Effort / impact page first" in capsys.readouterr().err
    assert not (tmp_path / "no.pdf").exists()


def test_the_page_makes_the_report_and_offers_it(warehouse_env):
    at = new_session("pages/effort-impact.py")
    make = next(b for b in at.button if b.label == "Make the Effort / impact report")
    make.click().run()
    assert not at.exception, at.exception
    download = [b for b in at.get("download_button") if b.label.startswith("Download v1 of ")]
    assert download, [b.label for b in at.get("download_button")]
    assert any(e.label.startswith("What the Effort / impact report v1 shows") for e in at.expander)
