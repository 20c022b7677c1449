"""日本語 and English on the GO / NO-GO report and its PDF (issue 15): the report page with an
evaluated decision in Japanese with no English left; a decision taken in English printed
in Japanese (headings, verdict, 万円, 年月日, no English sentence), every page rendered and
its text kept apart; Japanese lines broken as a Japanese reader expects."""

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

from core import fmt
from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import save_run
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
from core.decision import pdf_charts
from core.paper import charts as paper_charts
from core.decision.evaluation import decide
from core.decision.pdf import FONT, _document, _wrap, decision_pdf, moment, verdict_text
from core.paper.pdf import atoms
from core.decision.verdict import Decision
from core.i18n import language, using
from core.money.impact import ImpactConfig
from core.planning import store as planning
from core.warehouse import Warehouse
from tests.conftest import japanese as _japanese
from tests.conftest import store_run
from tests.i18n_check import english_left, english_words
from tests.test_decision_online import LOWER, READOUT
from tests.pdf_checks import assert_text_clear, char_boxes, chart_texts

REPORT = "pages/report.py"
# The run's name as its maker typed it, the demo data's column the decision splits by (category), and Streamlit's
# colour directives (:green[✓ 達成]), which are markup.
RUN_NAME = {"two", "stores", "category", "green", "red", "orange", "blue"}
SAMPLE = Path(__file__).parent / "data" / "decision_sample.json"
# Where the Japanese pages are left as PNG for a person to look at.
RENDERED = Path(tempfile.gettempdir()) / "mitoshi-decision-pages-ja"
DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")
MAN_EN = re.compile(r"\d[\d,.]*(万|億)円")


# ---------------------------------------------------------------------------------
# The report page in Japanese
# ---------------------------------------------------------------------------------

@pytest.fixture
def warehouse_with_run(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    store_run(warehouse, ("S001", "S002"), ("practice", "snaive", "ma"), horizon=14, name="two stores")
    warehouse.close()
    return warehouse_env


def test_the_report_page_evaluates_and_shows_a_decision_in_japanese(warehouse_with_run):
    at = _japanese(REPORT)
    assert at.title[0].value == "GO/NO-GOレポート"
    assert any(i.value.startswith("このプロジェクトにはまだ意思決定がありません") for i in at.info)
    assert english_left(at, RUN_NAME) == []  # the evaluation form
    next(b for b in at.button if b.label == "評価して意思決定を保存").click().run()
    assert not at.exception, at.exception
    assert english_left(at, RUN_NAME) == []  # the decision as shown
    banner = next(a.value for a in [*at.success, *at.warning, *at.error] if a.value.startswith("### "))
    assert banner.split("\n")[0] in ("### GO", "### 条件付きGO", "### NO-GO")
    caption = next(c.value for c in at.caption if c.value.startswith("判断日時 "))
    assert DATE.search(caption) and "フォールド" in caption
    savings = next(m for m in at.metric if m.label == "年間削減額")
    assert savings.value.endswith("円") and "¥" not in savings.value
    assert any(s.value.startswith("判断基準：") for s in at.subheader)
    listed = at.dataframe[-1].value
    assert list(listed.columns) == ["判断日時", "判定", "モデル", "実行", "オンライン評価", "意思決定ID"]
    shown = next(s for s in at.selectbox if s.label == "表示する意思決定")
    assert DATE.match(shown.options[0]) and "実行「two stores」" in shown.options[0]
    assert any(b.label == "PDFをダウンロード" for b in at.get("download_button"))


def test_a_decision_taken_in_english_shows_in_japanese_and_back(warehouse_with_run):
    from core.backtest import store as runs

    warehouse = Warehouse(warehouse_with_run)
    project = planning.ensure_example_project(warehouse)
    planning.remember_project(warehouse, project.project_id)
    assert language() == "en"
    decision = decide(warehouse, project.project_id, runs.list_runs(warehouse)[0].run_id, model="ma")
    warehouse.close()
    at = _japanese(REPORT)
    project_name = set(re.findall(r"[A-Za-z]+", decision.project_name))  # the example project's name, as stored
    assert english_left(at, RUN_NAME | project_name) == []
    caption = next(c.value for c in at.caption if c.value.startswith("判断日時 "))
    with using("ja"):
        assert moment(decision.created_at, seconds=True) in caption
    # the same page in English still speaks English
    at.segmented_control(key="lang_switch").select("en").run()
    assert not at.exception, at.exception
    assert any(c.value.startswith("Decided ") for c in at.caption)
    assert any(s.value.startswith("GO/NO-GO criteria:") for s in at.subheader)


# ---------------------------------------------------------------------------------
# The PDF of a decision taken in English, printed in Japanese
# ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def english_decision(tmp_path_factory) -> Decision:
    """A decision taken end to end in English on the demo chain, with a pilot read out."""
    warehouse = Warehouse(tmp_path_factory.mktemp("ja") / "demo.duckdb")
    try:
        load_demo(warehouse, DemoConfig(stores=2, items=12, years=1, end_date=REFERENCE_END_DATE))
        project = planning.ensure_example_project(warehouse)
        latest = planning.latest_definition(warehouse, project.project_id)
        planning.save_definition(warehouse, project.project_id, dataclasses.replace(
            latest.definition, running_cost_yen_per_year=200_000.0, investment_yen=300_000.0,
            criteria=(*latest.definition.criteria, LOWER)), latest.version)
        dataset = warehouse.list_datasets()[0]
        config = BacktestConfig(split=SplitConfig(horizon=14, folds=3),
                                models=tuple(ModelSpec.of(m) for m in ("practice", "snaive", "ma", "ets")))
        run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "pdf in Japanese")
        assert language() == "en"
        return decide(warehouse, project.project_id, run_id, ImpactConfig(), online=READOUT,
                      readiness={"feed": 1.0, "privacy": 0.5, "staleness": 0.5}, notes="店長会議で共有する")
    finally:
        warehouse.close()


@pytest.fixture(scope="module")
def japanese_pdf(english_decision):
    """The PDF built in Japanese (from an English session), and every chart figure drawn for it."""
    figures = []
    original = pdf_charts._png
    pdf_charts._png = lambda fig: figures.append(fig) or original(fig)
    try:
        pdf = decision_pdf(english_decision, "ja")
    finally:
        pdf_charts._png = original
    assert language() == "en"  # building it in Japanese left the caller's language alone
    return pdf, figures


def _lines(pdf: bytes) -> list[str]:
    return [line for page in pypdf.PdfReader(io.BytesIO(pdf)).pages for line in page.extract_text().splitlines()]


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _user_words(d: Decision) -> set[str]:
    """Words of what people typed or the data holds (names, the example's own English
    notes): they stay as written in any language."""
    typed = [d.project_name, d.dataset_name, d.run_name, d.code_version, d.problem, d.decision_supported, d.kpi,
             d.notes, *(c.note for c in d.criteria), str(d.stability.get("segment_column") or "")]
    columns = {"price"}  # the data's own column, named where the money's sources are listed
    return columns | {w for text in typed for w in re.findall(r"[A-Za-z][A-Za-z'’\-]*", str(text))}


def test_the_japanese_pdf_has_japanese_headings_verdict_yen_and_dates(english_decision, japanese_pdf):
    pdf, _ = japanese_pdf
    text = _flat("\n".join(_lines(pdf)))
    for heading in ("判断基準（結果が出る前に確定）", "オンライン評価：店舗でのパイロット", "ラダー：ルール→統計", "有意性と安定性",
                    "効果とコスト", "本番への準備状況（MLテストスコア）", "リスク", "次のステップ", "課題と、それが支える意思決定",
                    "金額の算出方法", "チームのメモ"):
        assert _flat(heading) in text, heading
    with using("ja"):
        verdict = verdict_text(english_decision.verdict)
        savings = fmt.yen(english_decision.value["yearly_savings"])
        decided = moment(english_decision.created_at)
    assert _flat(verdict) in text
    assert MAN_EN.search(savings) and _flat(savings) in text  # 万円, never ¥
    assert DATE.search(decided) and _flat(decided) in text and DATE.search(text)
    assert "2026年11月2日〜2026年11月29日" in text  # the pilot's period
    assert "¥" not in text and "pp" not in re.sub(r"[A-Za-z]{3,}", "", text)
    pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert f"1/{pages}ページ" in text and f"{pages}/{pages}ページ" in text


def test_the_japanese_pdf_has_no_english_sentence(english_decision, japanese_pdf):
    pdf, _ = japanese_pdf
    allowed = _user_words(english_decision)
    left = [(line, words) for line in _lines(pdf) if (words := english_words(line, allowed))]
    assert left == []


def test_every_japanese_page_renders_with_its_text_apart(japanese_pdf):
    pdf, figures = japanese_pdf
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) >= 4
    RENDERED.mkdir(exist_ok=True)
    for index in range(len(document)):
        page = document[index]
        image = page.render(scale=1.4).to_pil()
        image.save(RENDERED / f"p{index + 1}.png")
        assert (np.asarray(image.convert("L")) < 128).mean() > 0.001, f"page {index + 1} is blank"
        assert DATE.search(page.get_textpage().get_text_range()) or index > 0  # the first page's date extracts
        boxes = char_boxes(page)
        left, bottom, right, top = (boxes[:, i:i + 1] for i in range(4))
        overlap = ((np.minimum(right, right.T) - np.maximum(left, left.T) > 0.6)
                   & (np.minimum(top, top.T) - np.maximum(bottom, bottom.T) > 0.6))
        np.fill_diagonal(overlap, False)
        assert not overlap.any(), f"page {index + 1}: characters printed over each other"
    # Every chart's Japanese text stays inside its picture and clear of the rest.
    assert figures
    for number, fig in enumerate(figures, 1):
        texts, frame = chart_texts(fig)
        assert any(re.search(r"[ぁ-んァ-ン一-龥]", t) for t, _ in texts), f"chart {number} has no Japanese"
        assert_text_clear(texts, frame, f"chart {number}")


def test_an_older_snapshot_prints_in_japanese_with_its_own_sentences():
    old = Decision.from_json(SAMPLE.read_text(encoding="utf-8"))
    text = _flat("\n".join(_lines(decision_pdf(old, "ja"))))
    assert _flat("判断基準（結果が出る前に確定）") in text and "1,984万円" in text
    assert _flat(old.reasons[0]) in text  # a sentence stored as English before decisions kept facts
    english = _flat("\n".join(_lines(decision_pdf(old))))
    assert "¥19,835,966" in english and "判断基準（結果" not in english


# ---------------------------------------------------------------------------------
# Japanese line breaking
# ---------------------------------------------------------------------------------
def test_a_japanese_line_breaks_between_characters_but_never_inside_an_amount_or_a_date():
    pieces = atoms("投資回収期間 13か月、2026年11月30日に1,921万円の削減（+2.3ポイント）。LightGBMの予測")
    for whole in ("13か月、", "2026年11月30日", "1,921万円", "（+2.3ポイント）。", "LightGBMの"):
        assert any(whole in piece for piece in pieces), whole
    assert "投" in pieces and "予" in pieces  # Japanese breaks between its characters
    assert not any(p.startswith(("、", "。", "）")) for p in pieces)  # kinsoku: no line starts with a closing mark

    pdf = _document(Decision.from_json(SAMPLE.read_text(encoding="utf-8")))
    pdf.set_font(FONT, size=9.5)
    sentence = "全体のスコアは最も低い領域のスコアです。年間削減額は1,921万円、判断日時は2026年11月30日です。" * 3
    for width in (40, 55, 70):
        lines = _wrap(pdf, sentence, width).split("\n")
        assert len(lines) > 1 and "".join(lines) == sentence  # nothing added or lost
        assert all(pdf.get_string_width(line) <= width for line in lines)
        assert "1,921万円" in _flat("\n".join(lines)) and all("1,921万円" in line or "1,921" not in line
                                                            for line in lines)
        assert all("2026年11月30日" in line or "2026" not in line for line in lines)
        assert not any(line.startswith(("、", "。")) for line in lines)


def test_chart_titles_in_japanese_wrap_to_their_width():
    title = paper_charts.fill("バックテストの見込みとパイロットの実測（年間削減額）と、運用コストの比較", 30)
    assert "\n" in title and all(sum(1.5 if ord(c) >= 0x2E80 else 1 for c in line) <= 30
                                 for line in title.split("\n"))
    assert paper_charts.fill("WAPE by model, with fit time (lower is better)", 30) == \
        "WAPE by model, with fit time\n(lower is better)"  # English wraps at spaces, as before
    with using("ja"):
        assert [pdf_charts._short_yen(v) for v in (0, 5e6, 12.5e6, -5e6, 1.5e8, 5000)] == \
            ["0円", "500万円", "1,250万円", "−500万円", "1.5億円", "5,000円"]
    assert pdf_charts._short_yen(5e6) == "¥5M"
