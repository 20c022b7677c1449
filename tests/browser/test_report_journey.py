"""A PM goes from the demo chain to a GO/NO-GO PDF in the browser: runs the ladder,
reads the money, evaluates the example project's criteria, sees the verdict and
downloads the PDF — whose text is checked and whose pages are rendered to images."""

from __future__ import annotations

import re

from tests.browser.conftest import ARTIFACTS, screenshot, wait_idle

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
    page.wait_for_selector("text=Best model", timeout=180_000)
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
