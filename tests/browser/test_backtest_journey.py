"""An ML engineer runs a small ladder in the browser, reads it, and compares two runs."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, wait_idle


def run_ladder(page, server: str, name: str, horizon: str) -> None:
    page.goto(f"{server}/backtest")
    wait_idle(page)
    horizon_input = page.get_by_label("Horizon (daily periods)")
    horizon_input.fill(horizon)
    page.get_by_label("Run name (optional)").fill(name)
    page.get_by_role("button", name="Run backtest").click()
    # the run's own heading: the page shows the dataset's newest run (its own "Best model") until this one is done
    expect(page.locator("[data-testid='stMain']").get_by_role("heading", name=name)).to_be_visible(timeout=120_000)
    wait_idle(page)


def test_run_read_and_compare(server, page):
    run_ladder(page, server, "browser run A", "14")
    main = page.locator("[data-testid='stMain']")
    assert main.get_by_role("heading", name="browser run A").is_visible()
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    assert "The ladder: accuracy against effort" in main.inner_text()
    screenshot(page, "10_backtest_results")

    run_ladder(page, server, "browser run B", "7")
    page.get_by_role("link", name="Experiments").first.click()
    # asked until drawn: right after the click the Backtest page's own heading can still satisfy wait_idle
    expect(page.get_by_role("heading", name="Experiments")).to_be_visible(timeout=30_000)
    wait_idle(page)
    compare = page.get_by_role("combobox", name="Runs to compare (two or more; the first is the reference)")
    for label in ("browser run A", "browser run B"):
        compare.click()
        page.get_by_role("option", name=label).click()
        wait_idle(page)
    page.keyboard.press("Escape")
    page.wait_for_selector("text=Comparing 2 runs", timeout=30_000)
    wait_idle(page)
    assert page.get_by_text("What differs between the configs").is_visible()
    screenshot(page, "11_experiments_compare")


def test_a_backtest_goes_on_through_a_reload_and_then_shows_its_run(server, page):
    """The backtest runs as a job in a worker process: a reload of the page finds it still
    running, with its progress, and then finished, with its run."""
    page.goto(f"{server}/backtest")
    wait_idle(page)
    page.get_by_label("Run name (optional)").fill("through a reload")
    page.get_by_label("Folds").fill("8")  # the default ladder on 8 folds: long enough to reload on any machine
    page.get_by_role("button", name="Run backtest").click()
    page.wait_for_selector("text=running for", timeout=60_000)
    page.reload()
    wait_idle(page)
    main = page.locator("[data-testid='stMain']")
    # the panel is redrawn every second: each is asked until seen
    expect(main.get_by_text("Backtest of AI Shop demo chain").first).to_be_visible(timeout=30_000)
    expect(main.get_by_text("running for")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Cancel")).to_be_visible(timeout=30_000)
    page.wait_for_selector("[data-testid='stProgress']", timeout=30_000)
    screenshot(page, "12_backtest_job_after_reload")
    expect(main.get_by_role("heading", name="through a reload")).to_be_visible(timeout=300_000)
    wait_idle(page)
    assert main.get_by_text("Done in").is_visible()
    assert not page.get_by_role("button", name="Cancel").count()
    page.get_by_text("Backtest jobs of this warehouse").click()
    page.wait_for_timeout(500)
    screenshot(page, "13_backtest_job_done")
