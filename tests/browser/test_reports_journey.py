"""A PoC team prints its documents in the browser (issue 17): each report is made on the
page where its content lives, downloaded as the browser downloads it, and its text read
back; the PDF says what it was made from, and a second one is the next version."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import screenshot, wait_idle

PROJECT = "AI Shop demand forecasting (AI商店 需要予測)"


def main(page):
    return page.locator("[data-testid='stMain']")


def download(page, label: re.Pattern, into) -> str:
    """Click the download button whose label matches ``label``; the PDF's text, flattened."""
    button = main(page).get_by_role("button", name=label)
    expect(button).to_be_visible(timeout=60_000)
    with page.expect_download(timeout=60_000) as done:
        button.click()
    done.value.save_as(into)
    assert into.read_bytes().startswith(b"%PDF")
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(into).pages))


def make_on(page, url: str, report: str):
    """Open ``url`` on the example project and click "Make the ``report`` report"; the button."""
    page.goto(url)
    wait_idle(page)
    project = page.get_by_role("combobox", name="Project")
    if project.input_value() != PROJECT:
        project.click()
        page.get_by_role("option", name=PROJECT, exact=True).click()
        wait_idle(page)
    make = main(page).get_by_role("button", name=f"Make the {report} report")
    make.scroll_into_view_if_needed()
    make.click()
    wait_idle(page)
    return make


def test_the_problem_definition_prints_from_its_page(server, page, tmp_path):
    make = make_on(page, f"{server}/problem", "Problem definition")
    first = download(page, re.compile(r"^Download v\d+ of "), tmp_path / "problem.pdf")
    version = int(re.search(r"Problem definition v(\d+)", first).group(1))
    for expected in ("Problem definition", PROJECT, "¥60,000,000", "What we will not do",
                     "GO / NO-GO criteria, fixed up front", "WAPE at least 10% better (lower) than today's practice"):
        assert expected in first, expected
    screenshot(page, "40_problem_report")
    # made again with nothing changed: the same version, said so
    make.click()
    wait_idle(page)
    expect(main(page).get_by_text(f"Nothing it shows has changed since version {version}")).to_be_visible()
    second = download(page, re.compile(rf"^Download v{version} of "), tmp_path / "problem-2.pdf")
    assert f"Problem definition v{version}" in second


def test_the_effort_impact_map_prints_from_its_page(server, page, tmp_path):
    make_on(page, f"{server}/effort-impact", "Effort / impact")
    text = download(page, re.compile(r"^Download v\d+ of "), tmp_path / "effort.pdf")
    for expected in ("Effort / impact", PROJECT, "RICE", "ICE", "Demand forecasting"):
        assert expected in text, expected
    screenshot(page, "41_effort_impact_report")
