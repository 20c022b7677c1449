"""A person opens Mitoshi for the first time and looks at the demo chain's data."""

from __future__ import annotations

from tests.browser.conftest import screenshot, wait_idle


def test_data_page_shows_the_demo_chain(server, page):
    page.goto(server)
    wait_idle(page)
    assert page.get_by_role("heading", name="Mitoshi 見通し").is_visible()
    screenshot(page, "01_overview")

    page.get_by_role("link", name="Data", exact=True).first.click()
    wait_idle(page)
    main = page.locator("[data-testid='stMain']")
    assert main.get_by_role("heading", name="Data and current state").is_visible()
    assert "AI Shop demo chain" in page.get_by_role("combobox", name="Dataset").input_value()
    charts = page.locator("[data-testid='stPlotlyChart']")
    charts.first.wait_for(timeout=30_000)
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace", timeout=30_000)
    assert "sold per weekly period" in charts.first.inner_text()
    screenshot(page, "02_data")

    page.get_by_role("tab", name="Today's ordering").click()
    page.wait_for_timeout(800)
    assert page.get_by_text("Units ordered").is_visible()
    screenshot(page, "03_practice")
