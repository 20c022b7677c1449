"""A user types Markdown and HTML into a project's name, description and an initiative:
the browser shows it as typed, fetches nothing from the outside server and links nowhere."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, wait_idle
from tests.browser.test_planning_journey import fill, go, main

IMG = "![x](http://evil.example/x.png)"
LINK = '<a href="http://evil.example">click</a>'
NAME = f"{IMG} **bold** {LINK}"
DESCRIPTION = f"{LINK}\n- not a list\nwww.evil.example :red[plain]"


def outside(page) -> dict[str, list[str]]:
    """Images, links and bold text that the typed words could have become."""
    return page.evaluate("""() => {
        const main = document.querySelector("[data-testid='stMain']");
        const evil = s => (s || '').includes('evil');
        return {
            images: [...main.querySelectorAll('img')].map(i => i.src).filter(evil),
            links: [...main.querySelectorAll('a')].map(a => a.href).filter(evil),
            bold: [...main.querySelectorAll('strong')].map(b => b.innerText).filter(t => t.trim() === 'bold'),
        };
    }""")


def test_typed_markdown_and_html_stay_text(server, page):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url) if "evil" in request.url else None)
    page.goto(f"{server}/projects")
    wait_idle(page)
    fill(page, "Project name", NAME)
    fill(page, "What it is about (optional)", DESCRIPTION)
    main(page).get_by_role("button", name="Create project").click()
    wait_idle(page)
    expect(page.get_by_role("combobox", name="Project")).to_have_value(NAME)
    # The page's text without the invisible word joiners that keep addresses from becoming links.
    page.wait_for_function("text => document.querySelector(\"[data-testid='stMain']\").innerText"
                           ".replaceAll('\\u2060', '').includes(text)", arg=f"Created '{NAME}'")
    headings = [h.replace("\u2060", "") for h in main(page).get_by_role("heading").all_inner_texts()]
    assert NAME in headings
    text = main(page).inner_text().replace("\u2060", "")
    assert LINK in text and "- not a list" in text and "www.evil.example :red[plain]" in text
    assert outside(page) == {"images": [], "links": [], "bold": []}
    screenshot(page, "90_typed_markdown_is_text")

    go(page, "Effort / impact")
    main(page).get_by_role("button", name="Add the talk's 8 retail initiatives").click()
    wait_idle(page)
    assert outside(page) == {"images": [], "links": [], "bold": []}
    chart_links = page.evaluate("() => document.querySelectorAll('.js-plotly-plot a').length")
    assert chart_links == 0
    assert requests == []

    # Leave the warehouse as the other journeys expect it: the example project current.
    go(page, "Projects")
    main(page).get_by_text("Yes, delete this project").click()
    main(page).get_by_role("button", name="Delete project").click()
    wait_idle(page)
    page.wait_for_function("text => document.querySelector(\"[data-testid='stMain']\").innerText"
                           ".replaceAll('\\u2060', '').includes(text)", arg=f"Deleted '{NAME}'")
    assert requests == []
