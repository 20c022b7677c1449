"""A person brings their chain's own exports: Japanese Excel's Shift_JIS with "1,157" thousands,
and a US system's month-first dates. The page reads them right and says what it decided."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, wait_idle
from tests.test_export_cases import thousands_sjis, us_month_first


def _upload(server, page, path):
    page.goto(f"{server}/import")
    wait_idle(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
    page.get_by_text("Ready:").wait_for(timeout=60_000)
    wait_idle(page)


def _delete(server, page, name: str) -> None:
    """Delete an imported dataset on the Manage tab, as a user tidies up (the next journeys
    expect the demo chain to be the newest dataset)."""
    page.goto(f"{server}/import")
    wait_idle(page)
    page.get_by_role("tab", name="Manage datasets").click()
    page.get_by_role("combobox", name="Dataset").click()
    page.get_by_role("option", name=name, exact=True).click()
    wait_idle(page)
    page.get_by_text("Yes, delete it").click()
    page.get_by_role("button", name="Delete").click()
    wait_idle(page)
    page.get_by_role("tab", name="Manage datasets").click()
    expect(page.get_by_role("option", name=name, exact=True)).to_have_count(0, timeout=30_000)


def test_excel_thousands_and_us_dates_are_read_right_and_explained(server, page, tmp_path):
    data, truth = thousands_sjis(tmp_path)
    _upload(server, page, data)
    main = page.locator("[data-testid='stMain']")
    assert main.get_by_text("Ready: 2 daily series, 240 rows, 2024-01-01 → 2024-04-29.").is_visible()
    assert main.get_by_text("written with thousands separators were read as numbers").is_visible()
    assert main.get_by_text("Shift_JIS").first.is_visible()
    screenshot(page, "40_import_thousands")
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("is in the warehouse: 2 series, 240 rows.").wait_for(timeout=60_000)

    _upload(server, page, us_month_first(tmp_path))
    assert main.get_by_text("Ready: 2 monthly series, 72 rows, 2022-01-01 → 2024-12-01.").is_visible()
    assert main.get_by_text("was read month-first").is_visible()
    screenshot(page, "41_import_us_months")
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("is in the warehouse: 2 series, 72 rows.").wait_for(timeout=60_000)

    _delete(server, page, "us_monthly")
    _delete(server, page, "sales_sjis_thousands")
    # The page reruns after the delete: wait for the box to show what is left, not only for the script to idle.
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value(re.compile("AI Shop demo chain"),
                                                                       timeout=30_000)
