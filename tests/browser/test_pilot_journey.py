"""The talk's PoC walked in the browser on the demo chain, as a PM and an ML engineer would:
offline backtest → a decision on the offline evidence alone (its online criteria not yet
evaluated, so no GO) → the decided model published with order quantities → a pilot
designed, simulated and read out → the decision again with the online evidence → its PDF
→ the published batch watched against the pilot's days.

On a server and warehouse of its own: the pilot appends days to the demo chain, which the
other journeys (sharing the session ``server``) must not see."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from core.data.demo import DemoConfig, load_demo
from core.pilot.evidence import MEASURE_LABELS, PROFIT, STOCKOUT_DAYS, WASTE_COST
from core.warehouse import Warehouse
from tests.browser.conftest import screenshot, start_app, wait_idle

PROJECT = "AI Shop demand forecasting (AI商店 需要予測)"
VERDICT = re.compile(r"^(GO|CONDITIONAL GO|NO-GO)$")
# The ladder of the journey: today's practice, a rule and a statistical model — seconds on 120 series,
# and still a real choice between rungs.
KEEP = ("Today's practice · current practice", "Seasonal naive · rule", "ETS (exponential smoothing) · statistical")
HORIZON = 28  # days: the backtest's, and the published batch's, which the pilot must fit in
MAX_PILOT_WEEKS = HORIZON // 7
YEN = r"[−+]?¥[\d,.]+[KMB]?"  # fmt.yen_short / fmt.yen
INTERVAL = rf"{YEN}(?:–| to ){YEN}"  # core.pilot.readout.interval_text


@pytest.fixture(scope="module")
def pilot_server(tmp_path_factory):
    """`streamlit run app.py` on a fresh warehouse of this module's own (the first run makes
    the demo chain and the example project)."""
    folder = tmp_path_factory.mktemp("pilot_journey")
    # The chain's ten stores (a pilot needs pairs of them) with fewer items than the default's 50: every
    # step of the journey reads every series, and the journey is about the steps, not the chain's size.
    warehouse = Warehouse(folder / "warehouse.duckdb")
    load_demo(warehouse, DemoConfig(items=12))
    warehouse.close()
    url, proc = start_app(folder / "warehouse.duckdb", folder / "streamlit.log")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


_START = [time.monotonic()]


def shot(page, name: str) -> None:
    """A screenshot of the stage, and the seconds since the last one (shown with ``-s``)."""
    screenshot(page, name)
    now = time.monotonic()
    print(f"{name}: {now - _START[0]:.0f} s")
    _START[0] = now


def main(page):
    return page.locator("[data-testid='stMain']")


def go(page, label: str) -> None:
    page.locator("[data-testid='stSidebar']").get_by_role("link", name=label, exact=True).click()
    wait_idle(page)


def choose_project(page) -> None:
    project = main(page).get_by_role("combobox", name="Project")
    if project.input_value() != PROJECT:
        project.click()
        page.get_by_role("option", name=PROJECT, exact=True).click()
        wait_idle(page)


def type_number(page, label: str, value: int) -> None:
    """Type into a number field and commit it with Enter, as a person does."""
    field = main(page).get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_idle(page)


def grid(page, index: int = 0) -> list[dict[str, str]]:
    """The rows of the ``index``-th data grid of the page as its cells' texts (the grid draws
    on a canvas; Glide Data Grid keeps an accessible copy of the visible cells as a table)."""
    frame = main(page).locator("[data-testid='stDataFrame']").nth(index)
    frame.scroll_into_view_if_needed()
    frame.locator("table tbody tr").first.wait_for(state="attached", timeout=30_000)
    return frame.evaluate("""f => {
        const table = f.querySelector('table');
        const head = [...table.querySelectorAll('thead th')].map(c => c.innerText.trim());
        return [...table.querySelectorAll('tbody tr')].map(r => {
            const cells = [...r.querySelectorAll('td')].map(c => c.innerText.trim());
            return Object.fromEntries(head.map((h, i) => [h, cells[i]]));
        });
    }""")


def evaluate(page) -> dict:
    """Evaluate the project's criteria on the (only) run with the preselected model; what
    the page then shows of the decision."""
    body = main(page)
    # The run's money is computed (or read from the cache) inside the "Evaluate a run" section,
    # which is open until the project's first decision; open it once the page has settled.
    page.wait_for_selector("text=Money impact ready", state="attached", timeout=120_000)
    wait_idle(page)
    if not body.get_by_role("button", name="Evaluate and save the decision").is_visible():
        body.locator("[data-testid='stExpander'] summary").filter(has_text="Evaluate a run").click()
        wait_idle(page)
    page.wait_for_function("() => document.body.innerText.includes('(recommended)')", timeout=120_000)
    wait_idle(page)
    preview = body.inner_text()
    before = re.search(r"· decision ([0-9a-f]{12})", preview)
    body.get_by_role("button", name="Evaluate and save the decision").click()
    page.wait_for_function(
        """(old) => { const m = document.body.innerText.match(/· decision ([0-9a-f]{12})/);
                      return m && m[1] !== old; }""", arg=before.group(1) if before else "", timeout=180_000)
    wait_idle(page)
    text = body.inner_text()
    caption = next(line for line in text.splitlines() if re.search(r"· decision [0-9a-f]{12}", line))
    return {"preview": preview, "text": text, "caption": caption,
            "verdict": body.locator("h3").filter(has_text=VERDICT).first.inner_text().strip(),
            "model": re.search(r"· model (.+?) ·", caption).group(1)}


def online_section(text: str) -> str:
    """The report's online evaluation section, up to the money metrics that follow it."""
    start = text.index("Online evaluation: the pilot in stores")
    return text[start:text.index("Yearly savings", start)]


def test_backtest_publish_pilot_readout_decision_pdf_watch(pilot_server, page, tmp_path):
    server = pilot_server
    _START[0] = time.monotonic()
    # 1. Offline evaluation: a small ladder on the whole chain, four weeks ahead.
    page.goto(f"{server}/backtest")
    wait_idle(page, timeout=120_000)  # the first run of a fresh server makes the demo chain
    remove = main(page).get_by_role("button", name=re.compile(r"^Remove .+ · "))  # the chips of the model picker
    remove.first.wait_for(timeout=30_000)
    for label in [r.get_attribute("aria-label").removeprefix("Remove ") for r in remove.all()]:
        if label not in KEEP:
            main(page).get_by_role("button", name=f"Remove {label}", exact=True).click()
            wait_idle(page)
    assert [r.get_attribute("aria-label").removeprefix("Remove ") for r in remove.all()] == list(KEEP)
    type_number(page, "Horizon (daily periods)", HORIZON)
    main(page).get_by_label("Run name (optional)").fill("pilot ladder")
    main(page).get_by_role("button", name="Run backtest").click()
    expect(main(page).get_by_role("heading", name="pilot ladder")).to_be_visible(timeout=120_000)  # this run, not the newest before it
    wait_idle(page)
    assert "3 models × 3 folds" in main(page).inner_text()
    shot(page, "60_pilot_journey_backtest")

    # 2. The decision on the offline evidence alone: the pilot's criteria wait, so no GO yet.
    go(page, "GO / NO-GO report")
    choose_project(page)
    first = evaluate(page)
    assert "no pilot designed yet" in first["preview"]
    assert "The 2 online criteria will be not yet evaluated, and the verdict at most a conditional GO" \
        in first["preview"]
    assert first["verdict"] in ("CONDITIONAL GO", "NO-GO"), first["verdict"]
    assert re.search(r"GO/NO-GO criteria: \d+ of \d+ passed \(2 wait for the pilot\)", first["text"])
    pending = r"not yet evaluated\s+Online (savings, 95% lower bound|yearly savings) \(pilot\)"
    assert len(re.findall(pending, first["text"])) == 2
    assert "Status: no pilot." in online_section(first["text"])
    shot(page, "61_pilot_journey_decision_before")

    # 3. Hand-off: the decided model published with order quantities, profit-optimal per item,
    #    four weeks ahead — the pilot's treated stores will order from it.
    go(page, "Hand-off to production")
    assert f"is {first['verdict']} for {first['model']}" in main(page).inner_text()
    assert main(page).get_by_role("combobox", name="Model (best WAPE first)").input_value().startswith(first["model"])
    type_number(page, "Horizon (daily periods)", HORIZON)
    main(page).get_by_text("Order quantities (forecast + safety stock)").click()
    wait_idle(page)
    assert main(page).get_by_label("profit-optimal per item").is_checked()
    main(page).get_by_role("button", name="Publish").click()
    page.wait_for_selector("text=Published version 1 of", timeout=180_000)
    wait_idle(page)
    published = main(page).inner_text()
    assert re.search(rf"Published version 1 of AI Shop demo chain: [\d,]+ series × {HORIZON} periods from", published)
    shot(page, "62_pilot_journey_published")

    # 4. The pilot: designed from the backtest's promise, at most as long as the batch, saved,
    #    simulated on the demo chain and read out.
    go(page, "Pilot")
    choose_project(page)
    page.wait_for_selector("text=Offline promise:", timeout=120_000)
    wait_idle(page)
    assert main(page).get_by_label("Treated stores", exact=True).input_value() == "5"
    main(page).get_by_role("button", name="Design the pilot").click()
    page.wait_for_selector("text=The designed pilot", timeout=120_000)
    wait_idle(page)
    weeks_field = main(page).get_by_label(re.compile(r"^Pilot length in weeks"))
    chosen = int(re.search(r"chose (\d+)", weeks_field.get_attribute("aria-label")).group(1))
    weeks = min(chosen, MAX_PILOT_WEEKS)
    if weeks != chosen:
        weeks_field.fill(str(weeks))
        weeks_field.press("Enter")
        wait_idle(page)
    main(page).get_by_role("button", name="Save design").click()
    page.wait_for_selector("text=Saved design of", timeout=60_000)
    wait_idle(page)
    text = main(page).inner_text()
    assert f"{weeks} weeks" in text
    assert re.search(rf"Pilot days in the data\s+0 of {7 * weeks}", text)
    assert re.search(r"Published batch\s+v1 · to \d{4}-\d{2}-\d{2}", text)
    pairs = grid(page, 0)
    assert len(pairs) == 5 and [p["Pair"] for p in pairs] == ["1", "2", "3", "4", "5"]
    treated = sorted(p["Treated"].split()[0] for p in pairs)  # "S001 丸の内店": the store id, then its name
    shot(page, "63_pilot_design")

    main(page).get_by_role("button", name="Simulate the pilot on the demo chain").click()
    page.wait_for_selector(f"text=Simulated {7 * weeks} days", timeout=180_000)
    wait_idle(page)
    text = main(page).inner_text()
    assert re.search(rf"Pilot days in the data\s+{7 * weeks} of {7 * weeks}", text)
    assert f"{', '.join(treated)} ordered from batch v1" in text
    shot(page, "64_pilot_run")

    main(page).get_by_role("button", name="Read out the pilot").click()
    page.wait_for_selector("text=The backtest said", timeout=180_000)
    wait_idle(page)
    text = main(page).inner_text()
    sentence = re.search(rf"The backtest said {YEN} a year; the pilot measured {YEN} \(95% interval {INTERVAL}\)\.",
                         text)
    assert sentence, text
    estimates = {r["Measure"]: r for r in grid(page, 1)}  # the grid after the pairs
    assert list(estimates)[0] == MEASURE_LABELS[PROFIT] and set(estimates) <= set(MEASURE_LABELS.values())
    for measure in (PROFIT, WASTE_COST):  # yen a year for the chain, with their intervals
        row = estimates[MEASURE_LABELS[measure]]
        assert re.fullmatch(YEN, row["Yearly for the chain"]) and re.fullmatch(INTERVAL, row["95% interval (yearly)"]), row
    assert estimates[MEASURE_LABELS[STOCKOUT_DAYS]]["Yearly for the chain"].endswith("item-days")
    estimates = list(estimates.values())
    profit_yearly = estimates[0]["Yearly for the chain"]
    assert f"the pilot measured {profit_yearly.lstrip('+')}" in sentence.group(0)
    assert "On the demo chain the truth is known" in text
    shot(page, "65_pilot_readout")

    # 5. The decision again, now with the online evidence, and its PDF.
    go(page, "GO / NO-GO report")
    choose_project(page)
    second = evaluate(page)
    assert "pilot read out" in second["preview"]
    online = online_section(second["text"])
    assert "Status: pilot read out" in online
    assert f"5 treated stores ({', '.join(treated)}) ordering from the published forecasts (batch version 1)" in online
    assert sentence.group(0) in online  # the readout's own sentence, read against the same promise
    assert not re.search(pending, second["text"])
    assert re.search(r"(passed|failed)\s+Online savings, 95% lower bound \(pilot\) > ¥0 — measured [−+]?¥", second["text"])
    assert "(2 wait for the pilot)" not in second["text"]
    rows = next(r for r in (grid(page, i) for i in range(main(page).locator("[data-testid='stDataFrame']").count()))
                if r and "measure" in r[0])
    assert rows[0]["measure"].startswith(MEASURE_LABELS[PROFIT]) and len(rows) >= 3
    profit_row = rows[0]
    assert re.fullmatch(rf"95%: {YEN} to {YEN}", profit_row["interval"]), profit_row
    shot(page, "66_pilot_journey_decision_after")

    with page.expect_download(timeout=60_000) as download:
        main(page).get_by_role("button", name="Download the PDF").click()
    pdf = tmp_path / "decision.pdf"
    download.value.save_as(pdf)
    from pypdf import PdfReader

    flat = re.sub(r"\s+", " ", "\n".join(p.extract_text() or "" for p in PdfReader(pdf).pages))
    assert "Online evaluation: the pilot in stores" in flat
    assert "Pilot read out" in flat
    assert f"Treated stores (5) {', '.join(treated)}" in flat
    assert sentence.group(0) in flat
    for row in rows:  # the page's figures, as the PDF's table prints them
        for cell in (row["measure"], row["yearly effect (chain)"], row["interval"], row["p-value"]):
            assert not cell or cell in flat, (cell, row)
    assert second["verdict"] in flat

    # 6. After launch: the published batch against the pilot's days now in the data.
    go(page, "Forecast watch")
    page.wait_for_selector("text=Week by week", timeout=120_000)
    wait_idle(page)
    text = main(page).inner_text()
    assert re.search(r"Batch \(newest first\)", text)
    weeks_table = grid(page, 0)
    with_actuals = [r for r in weeks_table if r["WAPE"]]
    assert len(with_actuals) >= weeks, weeks_table
    assert all(re.fullmatch(r"\d+(\.\d)?%", r["WAPE"]) for r in with_actuals), weeks_table
    assert re.search(r"Latest WAPE\s+\d+(\.\d)?%", text)
    shot(page, "67_forecast_watch")
