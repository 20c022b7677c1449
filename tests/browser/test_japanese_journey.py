"""A Japanese PM in a Japanese browser: the app opens in 日本語 with no choice made, and goes from the
Overview through the data, the stored backtest, the money and the GO/NO-GO verdict to the PDF without
meeting an English sentence; the switch to English is kept in the address and remembered for the
next visit; the same decision downloads in either language (issue 15).

The labels the test clicks are looked up in the Japanese catalog, so the test follows the wording."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core import fmt
from core.backtest.compare import window_name
from core.i18n import _, using
from tests.browser.conftest import ARTIFACTS, screenshot, start_app, wait_idle
from tests.i18n_check import english_words

PROJECT_KEY = "example"


def ja(text: str) -> str:
    with using("ja"):
        return _(text)


@pytest.fixture(scope="module")
def ja_server(tmp_path_factory):
    """A small demo chain (2 stores × 8 items, one year) and a stored run of three models and today's
    practice, made through the API in seconds, then served."""
    from core.data.demo import DemoConfig, load_demo
    from core.planning import store as planning
    from core.warehouse import Warehouse
    from tests.conftest import store_run

    folder = tmp_path_factory.mktemp("japanese")
    warehouse = Warehouse(folder / "warehouse.duckdb")
    load_demo(warehouse, DemoConfig(stores=2, items=8, years=1, seed=5))
    planning.ensure_example_project(warehouse)
    store_run(warehouse, ("S001", "S002"), ("practice", "snaive", "ma", "ets"), horizon=14, name="需要予測の比較")
    warehouse.close()
    url, proc = start_app(folder / "warehouse.duckdb", folder / "streamlit.log")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def main(page):
    return page.locator("[data-testid='stMain']")


def sidebar(page):
    return page.locator("[data-testid='stSidebar']")


def go(page, label: str) -> None:
    sidebar(page).get_by_role("link", name=label, exact=True).click()
    wait_idle(page)


def english_lines(text: str) -> list[str]:
    """Lines of a page's text that read as English (two English words or more)."""
    return [line for line in text.splitlines() if len(english_words(line)) >= 2]


def test_a_japanese_pm_goes_from_the_overview_to_the_pdf(ja_server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
    page = context.new_page()

    # 1. The browser's language decides: Japanese, kept in the address.
    page.goto(ja_server)
    wait_idle(page)
    assert "lang=ja" in page.url
    nav = sidebar(page).inner_text()
    for title in ("Overview", "Data", "Backtest", "Money impact", "GO / NO-GO report"):
        assert ja(title) in nav and ja(title) != title, title
    assert english_lines(main(page).inner_text()) == []
    screenshot(page, "70_ja_overview")
    # a language only guessed from the browser is not remembered: the browser keeps deciding
    assert [c for c in context.cookies() if c["name"] == "mitoshi_lang"] == []

    # 2. The data and the stored run, in Japanese.
    go(page, ja("Data"))
    assert english_lines(main(page).inner_text()) == []
    go(page, ja("Experiments"))
    expect(main(page)).to_contain_text("需要予測の比較", timeout=60_000)
    assert english_lines(main(page).inner_text()) == []

    # 3. The money in 円 with 万.
    go(page, ja("Money impact"))
    runs = page.get_by_role("combobox", name=ja("Backtest run"))
    expect(runs).to_be_visible(timeout=90_000)
    runs.click()
    page.get_by_role("option", name=re.compile("^需要予測の比較")).click()
    wait_idle(page)
    page.wait_for_selector(f"text={ja('Money impact ready')}", timeout=120_000)
    wait_idle(page)
    text = main(page).inner_text()
    assert re.search(r"[\d,.]+万円", text), text[:2000]
    assert "¥" not in text
    assert english_lines(text) == []
    screenshot(page, "71_ja_money")

    # 4. The verdict, evaluated in Japanese.
    go(page, ja("GO / NO-GO report"))
    body = main(page)
    if not body.get_by_role("button", name=ja("Evaluate and save the decision")).is_visible():
        body.get_by_text(ja("Evaluate a run")).click()
        wait_idle(page)
    runs = body.get_by_role("combobox", name=ja("Backtest run"))
    expect(runs).to_be_visible(timeout=90_000)  # the Report page draws its picker late on a loaded machine
    runs.click()
    page.get_by_role("option", name=re.compile("^需要予測の比較")).click()
    wait_idle(page)
    page.wait_for_selector(f"text={ja('Money impact ready')}", timeout=120_000)
    wait_idle(page)
    body.get_by_role("button", name=ja("Evaluate and save the decision")).click()
    page.wait_for_function("() => /[0-9a-f]{12}/.test(document.querySelector('[data-testid=stMain]').innerText)"
                           " && !document.querySelector('[data-testid=stSpinner]')", timeout=180_000)
    wait_idle(page)
    text = body.inner_text()
    verdicts = [ja("GO"), ja("CONDITIONAL GO"), ja("NO-GO")]
    assert any(v in text for v in verdicts), text[:1500]
    assert english_lines(text) == []
    screenshot(page, "72_ja_report")

    # 5. The PDF, in Japanese: extractable text, 万円, 年月日, no English sentence.
    with page.expect_download(timeout=60_000) as download:
        body.get_by_role("button", name=ja("Download the PDF")).click()
    pdf = tmp_path / "decision_ja.pdf"
    download.value.save_as(pdf)
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    pdf_text = "\n".join(p.extract_text() or "" for p in reader.pages)
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", pdf_text)
    assert "万円" in pdf_text
    assert any(v in pdf_text for v in verdicts)
    left = english_lines(pdf_text)
    assert left == [], left[:10]
    import pypdfium2

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    document = pypdfium2.PdfDocument(str(pdf))
    for number in range(len(document)):
        document[number].render(scale=1.4).to_pil().save(ARTIFACTS / f"73_ja_pdf_page_{number + 1}.png")

    # 6. English on request: the address says so, and the next visit remembers it.
    sidebar(page).get_by_role("radio", name="English").click() if sidebar(page).get_by_role(
        "radio", name="English").count() else sidebar(page).get_by_text("English", exact=True).click()
    wait_idle(page)
    assert "lang=en" in page.url
    assert "GO / NO-GO report" in sidebar(page).inner_text()
    with page.expect_download(timeout=60_000) as download:  # the same decision, now in English
        main(page).get_by_role("button", name="Download the PDF").click()
    english_pdf = tmp_path / "decision_en.pdf"
    download.value.save_as(english_pdf)
    english_text = "\n".join(p.extract_text() or "" for p in PdfReader(english_pdf).pages)
    assert "Next steps" in english_text and "万円" not in english_text

    again = context.new_page()  # a new visit from the same browser, with no ?lang
    again.goto(ja_server)
    wait_idle(again)
    assert "lang=en" in again.url
    assert "Overview" in sidebar(again).inner_text()
    assert [c["value"] for c in context.cookies() if c["name"] == "mitoshi_lang"] == ["en"]
    context.close()


def test_a_switch_of_language_keeps_the_choices_made_on_the_page(ja_server, page):
    """The browser holds a multiselect's or a select box's choice as its option's label: a switch of
    language used to drop every model whose name is translated (only LightGBM, the same in both, was
    left) and to keep the old language's label in a select box."""
    page.goto(f"{ja_server}/backtest?lang=en")
    wait_idle(page)
    picker = main(page).locator(".st-key-bt_models")  # the Models box (the newest run shown below has its own)
    window = main(page).get_by_role("combobox", name="Training window")
    window.click()
    page.get_by_role("option", name="sliding").click()
    wait_idle(page)
    models = ("practice", "naive", "snaive", "ma", "ets", "theta", "glm", "lgbm")
    with using("en"):
        english = [fmt.model_name(m) for m in models]
    with using("ja"):
        japanese = [fmt.model_name(m) for m in models]
        sliding = window_name("sliding")
    assert all(name in picker.inner_text() for name in english), picker.inner_text()

    sidebar(page).get_by_text("日本語", exact=True).click()
    wait_idle(page)
    for name in japanese:  # asked until the switch's rerun has drawn the page again
        expect(picker).to_contain_text(name, timeout=30_000)
    assert main(page).get_by_role("combobox", name=ja("Training window")).input_value() == sliding
    sidebar(page).get_by_text("English", exact=True).click()
    wait_idle(page)
    for name in english:
        expect(picker).to_contain_text(name, timeout=30_000)
    assert window.input_value() == "sliding"
