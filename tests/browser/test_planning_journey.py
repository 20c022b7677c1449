"""A PM plans a PoC in the browser: creates a project, writes the problem definition
in Japanese, maps initiatives and moves one, sets the plan — then reloads and finds
everything where it was, including text typed but not yet saved."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, wait_idle

PROJECT = "弁当の廃棄削減 Bento waste"
PROBLEM = "弁当の廃棄が多く、夕方の値引きでも売れ残る。Too many bento are thrown away every evening."
DECISION = "店長が毎朝10時に弁当の発注数を決める。"


def main(page):
    return page.locator("[data-testid='stMain']")


def go(page, label: str) -> None:
    page.locator("[data-testid='stSidebar']").get_by_role("link", name=label, exact=True).click()
    wait_idle(page)


def fill(page, label: str, text: str, nth: int = 0) -> None:
    """Type into a text field and leave it, as a person does: Streamlit commits on blur."""
    field = main(page).get_by_label(label, exact=True).nth(nth)
    field.click()
    field.fill(text)
    field.press("Tab")
    wait_idle(page)


def choose(page, label: str, option: str, nth: int = 0) -> None:
    main(page).get_by_role("combobox", name=label).nth(nth).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def set_date(page, label: str, nth: int, day: date) -> None:
    """Type a date into Streamlit's segmented date field (year, month, day), then close its calendar."""
    main(page).get_by_role("group", name=label, exact=True).nth(nth).get_by_role("spinbutton").first.click()
    page.keyboard.type(f"{day:%Y%m%d}")
    page.keyboard.press("Escape")
    wait_idle(page)


def shown_date(page, label: str, nth: int) -> str:
    return main(page).get_by_role("group", name=label, exact=True).nth(nth).inner_text().replace("\n", "")


def edit_first_effort(page, value: str) -> None:
    """Type into the first row's effort cell of the initiatives table (a canvas grid:
    select the row's name cell, move right twice, open the cell's editor, type)."""
    grid = main(page).locator("[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # the canvas draws after the element appears
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 120, box["y"] + 35 + 17)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    # Type only once the cell's editor has the focus, and commit only what was typed.
    editing = "() => ['INPUT', 'TEXTAREA'].includes(document.activeElement && document.activeElement.tagName)"
    page.wait_for_function(editing, timeout=10_000)
    page.keyboard.press("Control+A")
    page.keyboard.type(value)
    page.wait_for_function(f"() => document.activeElement.value === {value!r}", timeout=10_000)
    # The grid's number editor takes the typed value a moment after the input shows it: an
    # Enter pressed at once (no person is that fast) commits the old value. Pause as a person does.
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")


def plotted(page) -> dict[str, tuple[str, float]]:
    """Each initiative on the map: its quadrant (the trace) and its effort (x)."""
    traces = page.evaluate("""() => {
        const plot = [...document.querySelectorAll('.js-plotly-plot')]
            .find(p => (p.layout.title.text || '').includes('Effort against impact'));
        // plotly keeps numbers as typed arrays ({dtype, bdata, _inputArray}) or plain arrays
        const values = v => (v && v._inputArray) ? Array.from(v._inputArray) : Array.from(v || []);
        return plot ? plot.data.map(t => ({name: t.name, text: t.text, x: values(t.x)})) : [];
    }""")
    return {text: (trace["name"], x) for trace in traces for text, x in zip(trace["text"] or [], trace["x"] or [],
                                                                          strict=False)}


def test_plan_a_poc_and_find_it_after_a_reload(server, page):
    page.goto(f"{server}/projects")
    wait_idle(page)
    assert main(page).get_by_role("heading", name="Projects", exact=True).is_visible()
    assert "AI Shop demand forecasting" in main(page).inner_text()  # the example of a new warehouse

    # 1. A new, empty project becomes the current one.
    fill(page, "Project name", PROJECT)
    main(page).get_by_role("button", name="Create project").click()
    wait_idle(page)
    page.wait_for_selector(f"text=Created '{PROJECT}'")
    expect(page.get_by_role("combobox", name="Project")).to_have_value(PROJECT)
    screenshot(page, "20_projects")

    # 2. The problem definition, in Japanese, with a GO/NO-GO criterion; then a save.
    go(page, "Problem definition")
    expect(page.get_by_role("combobox", name="Project")).to_have_value(PROJECT)
    fill(page, "Problem statement", PROBLEM)
    fill(page, "KPI", "弁当の廃棄率")
    fill(page, "KPI unit", "%")
    fill(page, "Current value", "8")
    fill(page, "Target", "5")
    fill(page, "Value of solving it (¥ per year)", "12000000")
    fill(page, "How the value was estimated", "弁当の年間売上 4億円 × 廃棄率 3ポイント改善 = 1,200万円")
    fill(page, "What we will not do (one a line)", "価格の最適化\n新商品の予測")
    main(page).get_by_role("button", name="Add a criterion").click()
    wait_idle(page)
    choose(page, "Criterion 1 metric", "WAPE")
    fill(page, "Criterion 1 threshold", "10")
    choose(page, "Criterion 1 baseline", "Today's practice")
    page.wait_for_selector("text=WAPE at least 10% better (lower) than today's practice")
    fill(page, "What changed (optional, kept in the history)", "最初の定義")
    main(page).get_by_role("button", name="Save version 1").click()
    wait_idle(page)
    page.wait_for_selector("text=Saved version 1.")
    assert "¥12,000,000 a year" in main(page).inner_text()
    screenshot(page, "21_problem_definition")

    # 3. Typed but not saved, then the browser reloads: the text is offered back.
    fill(page, "Decision the prediction supports", DECISION)
    page.wait_for_selector("text=kept as a draft")
    page.reload()
    wait_idle(page)
    expect(main(page).get_by_label("Problem statement")).to_have_value(PROBLEM)  # the saved version
    expect(main(page).get_by_label("Decision the prediction supports")).to_have_value("")
    expect(main(page).get_by_text("Unsaved changes", exact=False).first).to_be_visible()
    main(page).get_by_role("button", name="Restore into the form").click()
    page.wait_for_selector("text=Restored the unsaved changes")
    wait_idle(page)
    expect(main(page).get_by_label("Decision the prediction supports")).to_have_value(DECISION)
    main(page).get_by_role("button", name="Save version 2").click()
    wait_idle(page)
    page.wait_for_selector("text=Saved version 2.")

    # 4. Initiatives on the map; one edited in the table moves to another quadrant.
    go(page, "Effort / impact")
    main(page).get_by_role("button", name="Add the talk's 8 retail initiatives").click()
    wait_idle(page)
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace", timeout=30_000)
    before = plotted(page)
    name = "Demand forecasting 需要予測"
    assert before[name] == ("Aim here (MUST)", 12)
    edit_first_effort(page, "40")
    page.wait_for_selector("text=Saved: updated Demand forecasting", timeout=30_000)
    wait_idle(page)
    for _ in range(60):  # the map is drawn again after the message; on a loaded machine, a moment later
        after = plotted(page)
        if after.get(name) != before[name]:
            break
        page.wait_for_timeout(500)
    assert after[name] == ("Wait until you need it", 40)
    assert "Nothing is both little effort and large impact" in main(page).inner_text()
    screenshot(page, "22_effort_impact")

    # 5. The plan: owners, dates, a status and a result, each saved when the field is left.
    go(page, "PoC plan")
    monday = date.today() - timedelta(days=date.today().weekday())
    fill(page, "Owner", "田中 (PM)", nth=0)
    choose(page, "Status", "in progress", nth=0)
    set_date(page, "Start", 0, monday)
    set_date(page, "End", 0, monday + timedelta(days=11))
    fill(page, "Owner", "佐藤 (MLエンジニア)", nth=1)
    set_date(page, "Start", 1, monday + timedelta(days=14))
    set_date(page, "End", 1, monday + timedelta(days=41))
    fill(page, "Result", "季節ナイーブ WAPE 34%、現行 38%", nth=0)
    page.wait_for_selector("text=Now: Current-state survey and problem definition")
    page.wait_for_selector(".js-plotly-plot .barlayer .trace", timeout=30_000)
    assert "PoC plan: phases from survey to GO/NO-GO" in main(page).inner_text()
    assert "田中 (PM)" in main(page).inner_text()
    screenshot(page, "23_poc_plan")

    # 6. A reload, then every page shows what was done.
    page.reload()
    wait_idle(page)
    expect(page.get_by_role("combobox", name="Project")).to_have_value(PROJECT)
    expect(main(page).get_by_label("Owner").nth(1)).to_have_value("佐藤 (MLエンジニア)")
    expect(main(page).get_by_label("Result").nth(0)).to_have_value("季節ナイーブ WAPE 34%、現行 38%")
    assert shown_date(page, "End", 1) == f"{monday + timedelta(days=41):%Y/%m/%d}"
    expect(main(page).get_by_role("combobox", name="Status").nth(0)).to_have_value("in progress")
    go(page, "Problem definition")
    expect(main(page).get_by_label("Problem statement")).to_have_value(PROBLEM)
    expect(main(page).get_by_label("Decision the prediction supports")).to_have_value(DECISION)
    assert "Version 2 of 2" in main(page).inner_text()
    go(page, "Effort / impact")
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace", timeout=30_000)
    assert plotted(page)[name] == ("Wait until you need it", 40)
    go(page, "Projects")
    # The page streams its summaries after the title: wait for the line, as a person would (under load the
    # script can be idle a moment before the last elements reach the browser).
    expect(main(page)).to_contain_text("version 2", timeout=30_000)
