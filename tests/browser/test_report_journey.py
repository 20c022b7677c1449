"""A PM goes from the demo chain to a GO/NO-GO PDF in the browser: runs the ladder,
reads the money, evaluates the example project's criteria, sees the verdict and
downloads the PDF — whose text is checked and whose pages are rendered to images."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, screenshot, start_app, wait_idle

PROJECT = "AI Shop demand forecasting (AI商店 需要予測)"
VERDICT = re.compile(r"^(GO|CONDITIONAL GO|NO-GO)$")


def main(page):
    return page.locator("[data-testid='stMain']")


def go(page, label: str) -> None:
    page.locator("[data-testid='stSidebar']").get_by_role("link", name=label, exact=True).click()
    wait_idle(page)


def test_from_the_demo_chain_to_a_pdf(server, page, tmp_path):
    # 1. The ladder, as anyone would run it: default models, two-week horizon.
    page.goto(f"{server}/backtest")
    wait_idle(page)
    page.get_by_label("Horizon (daily periods)").fill("14")
    page.get_by_label("Run name (optional)").fill("decision run")
    page.get_by_role("button", name="Run backtest").click()
    expect(main(page).get_by_role("heading", name="decision run")).to_be_visible(timeout=180_000)  # this run's own
    wait_idle(page)

    # 2. The money: savings against today's practice, in yen.
    go(page, "Money impact")
    page.get_by_role("combobox", name="Backtest run").click()
    page.get_by_role("option", name=re.compile("^decision run")).click()
    wait_idle(page)
    page.wait_for_selector("text=Money impact ready", timeout=120_000)
    wait_idle(page)
    text = main(page).inner_text()
    assert "Yearly savings" in text and "against today's practice" in text and "Shelves ran empty" in text
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    screenshot(page, "30_money_impact")

    # 3. The example project's criteria, fixed up front, against the run.
    go(page, "GO / NO-GO report")
    project = page.get_by_role("combobox", name="Project")
    if project.input_value() != PROJECT:
        project.click()
        page.get_by_role("option", name=PROJECT, exact=True).click()
        wait_idle(page)
    if not main(page).get_by_role("button", name="Evaluate and save the decision").is_visible():
        main(page).get_by_text("Evaluate a run").click()
        wait_idle(page)
    assert "WAPE at least 10% better (lower) than today's practice" in main(page).inner_text()
    main(page).get_by_role("button", name="Evaluate and save the decision").click()
    page.wait_for_selector("text=GO/NO-GO criteria:", timeout=180_000)
    wait_idle(page)
    verdict = main(page).locator("h3").filter(has_text=VERDICT).first.inner_text().strip()
    assert VERDICT.match(verdict), verdict
    assert "Next steps" in main(page).inner_text()
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    screenshot(page, "31_report")

    # 4. The PDF, as the browser downloads it.
    with page.expect_download(timeout=60_000) as download:
        main(page).get_by_role("button", name="Download the PDF").click()
    pdf = tmp_path / "decision.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")

    from pypdf import PdfReader

    reader = PdfReader(pdf)
    text = "\n".join(p.extract_text() or "" for p in reader.pages)
    flat = re.sub(r"\s+", " ", text)
    assert verdict in flat
    assert "AI商店" in flat and "需要予測" in flat
    assert "WAPE at least 10% better" in flat and "Payback period" in flat
    assert f"of {len(reader.pages)}" in flat  # page numbers

    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for number in range(len(document)):
        image = document[number].render(scale=1.4).to_pil()
        assert image.width > 500 and image.height > 700
        image.save(ARTIFACTS / f"32_pdf_page_{number + 1}.png")


# ---------------------------------------------------------------------------------
# One decision on screen: two evaluations in a row, each shown with its own PDF
# ---------------------------------------------------------------------------------
RUNS = {"run A": ("practice", "snaive", "ma"), "run B": ("practice", "naive", "ets")}


@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    """A small demo chain (2 stores × 8 items, one year) with two stored runs of two
    models and today's practice each, made through the API in seconds, then served."""
    from core.data.demo import DemoConfig, load_demo
    from core.planning import store as planning
    from core.warehouse import Warehouse
    from tests.conftest import store_run

    folder = tmp_path_factory.mktemp("report_two")
    warehouse = Warehouse(folder / "warehouse.duckdb")
    load_demo(warehouse, DemoConfig(stores=2, items=8, years=1, seed=5))
    planning.ensure_example_project(warehouse)
    for name, models in RUNS.items():
        store_run(warehouse, ("S001", "S002"), models, horizon=14, name=name)
    warehouse.close()
    url, proc = start_app(folder / "warehouse.duckdb", folder / "streamlit.log")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def _evaluate(page, run: str, other_model: bool) -> dict:
    """Evaluate ``run`` with the preselected model, or with another one (``other_model``),
    and read what the page shows."""
    body = main(page)
    if not body.get_by_role("combobox", name="Backtest run").is_visible():
        body.locator("[data-testid='stExpander'] summary").filter(has_text="Evaluate a run").click()
        wait_idle(page)
    body.get_by_role("combobox", name="Backtest run").click()
    page.get_by_role("option", name=re.compile(f"^{run} ")).click()
    wait_idle(page)
    page.wait_for_selector("text=Money impact ready", timeout=120_000)  # the pick needs the run's money
    wait_idle(page)
    picker = body.get_by_role("combobox", name="Model to take to production")
    page.wait_for_function("() => document.body.innerText.includes('(recommended)')", timeout=120_000)
    model = picker.input_value() if picker.input_value() else None
    if other_model:
        picker.click()
        if not page.get_by_role("option").first.is_visible():
            picker.press("ArrowDown")
        page.wait_for_selector("[role='option']", timeout=30_000)
        names = [o.inner_text().strip() for o in page.get_by_role("option").all()]
        model = next(n for n in names if "(recommended)" not in n)
        page.get_by_role("option", name=model, exact=True).click()
        wait_idle(page)
    before = body.inner_text()
    previous = re.search(r"· decision ([0-9a-f]{12})", before)
    body.get_by_role("button", name="Evaluate and save the decision").click()
    page.wait_for_function(
        """(old) => { const m = document.body.innerText.match(/· decision ([0-9a-f]{12})/);
                      return m && m[1] !== old; }""", arg=previous.group(1) if previous else "", timeout=180_000)
    wait_idle(page)
    text = body.inner_text()
    decision_id = re.search(r"· decision ([0-9a-f]{12})", text).group(1)
    verdict = body.locator("h3").filter(has_text=VERDICT).first.inner_text().strip()
    caption = next(line for line in text.splitlines() if f"decision {decision_id}" in line)
    return {"id": decision_id, "verdict": verdict, "caption": caption, "text": text, "model": model}


def _pdf(page, tmp_path, decision_id: str) -> tuple[str, str]:
    from pypdf import PdfReader

    with page.expect_download(timeout=60_000) as download:
        main(page).get_by_role("button", name="Download the PDF").click()
    path = tmp_path / f"{decision_id}.pdf"
    download.value.save_as(path)
    first_page = PdfReader(path).pages[0].extract_text() or ""
    return download.value.suggested_filename, re.sub(r"\s+", " ", first_page)


def test_the_report_shows_the_decision_just_evaluated_and_its_pdf(small_server, page, tmp_path):
    page.goto(f"{small_server}/report")
    wait_idle(page)
    project = page.get_by_role("combobox", name="Project")
    if project.input_value() != PROJECT:
        project.click()
        page.get_by_role("option", name=PROJECT, exact=True).click()
        wait_idle(page)

    first = _evaluate(page, "run A", other_model=False)
    name, pdf_text = _pdf(page, tmp_path, first["id"])
    assert name.endswith(f"-{first['id']}.pdf")
    assert first["id"] in pdf_text and first["verdict"] in pdf_text
    assert "stated in the problem definition" in first["text"] and "KPI today" in first["text"]

    # another run and another model: the page, its id and its PDF follow
    second = _evaluate(page, "run B", other_model=True)
    assert second["id"] != first["id"]
    assert "run B" in second["caption"] and f"model {second['model']}" in second["caption"]
    assert "run A" not in second["caption"]
    name, pdf_text = _pdf(page, tmp_path, second["id"])
    assert name.endswith(f"-{second['id']}.pdf")
    assert second["id"] in pdf_text and first["id"] not in pdf_text and second["verdict"] in pdf_text
    screenshot(page, "33_report_second_decision")
