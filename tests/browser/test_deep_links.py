"""A direct link is the first thing a fresh server sees: every page still opens inside ``app.py``.

With a ``pages/`` folder, Streamlit (1.67) starts each process in its old pages-folder mode, so
the first request a fresh ``streamlit run app.py`` receives, if it is a link such as ``/money``,
would run ``pages/money.py`` without ``app.py``: no page config, the sidebar listing raw file
names ("app", "backtest", "data" …) instead of the journey's sections. ``ui.navigation.stay_in_app``,
first in every page, hands such a run back to ``app.py``. These tests prove it for every page
registered in ``app.py``, each on its own fresh server; for links opened together on one fresh
server (the race a process-wide switch would lose); and pin Streamlit's behaviour on a bare app
without the guard, so an upgrade that changes it is noticed.

Cost: one server per page (a process that imports the app's libraries: about 5 s of CPU each).
Servers are started a few pages ahead of the test that reads them and their first request is
sent ahead too, so two cores stay busy instead of the tests waiting for one server at a time.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.warehouse import ENV_VAR
from tests.browser.conftest import ROOT, _free_port, screenshot, wait_idle

APP = ROOT / "app.py"
APP_TITLE = "Mitoshi 見通し"  # app.py's st.set_page_config(page_title=…)
AHEAD = 3  # pages whose first request is in flight while one is checked
START_TIMEOUT = 120_000  # ms: a fresh server's first run imports everything, on a busy machine
CHECK_TIMEOUT = 30_000  # ms: each expectation once the page has rendered


@dataclass(frozen=True)
class Entry:
    """One page as ``app.py`` registers it: ``st.Page(file, title=…)`` in ``section``."""

    section: str
    file: str  # "pages/money.py"
    title: str  # the nav label, "Money impact"
    default: bool
    url_path: str | None

    @property
    def stem(self) -> str:
        return Path(self.file).stem

    @property
    def path(self) -> str:
        """The page's direct link: "" for the default page, else its url_path or file name."""
        return "" if self.default else (self.url_path or self.stem)

    @property
    def heading(self) -> str:
        """The page's ``st.title("…")``, read from its source (the h1 it must show)."""
        tree = ast.parse((ROOT / self.file).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "title"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                return node.args[0].value
        raise AssertionError(f"{self.file} has no st.title(\"…\") with a literal text; this test reads the page's "
                             "h1 from it. Give the page a literal title or teach Entry.heading where it is.")


def registered_pages() -> tuple[list[str], list[Entry]]:
    """The sections and pages of ``app.py``'s ``st.navigation({section: [st.Page(…), …], …})``, read
    from its source (not by running it) so the test follows whatever ``app.py`` registers."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr == "navigation"]
    if len(calls) != 1 or not calls[0].args or not isinstance(calls[0].args[0], ast.Dict):
        raise AssertionError("app.py should call st.navigation once with a literal {section: [st.Page(...)]} dict; "
                             "update registered_pages() in tests/browser/test_deep_links.py to its new shape.")
    sections, entries = [], []
    for key, value in zip(calls[0].args[0].keys, calls[0].args[0].values):
        section = ast.literal_eval(key)
        sections.append(section)
        for page in value.elts:
            keywords = {k.arg: ast.literal_eval(k.value) for k in page.keywords
                        if k.arg in ("title", "default", "url_path")}
            entries.append(Entry(section, ast.literal_eval(page.args[0]), keywords["title"],
                                 bool(keywords.get("default", False)), keywords.get("url_path")))
    return sections, entries


SECTIONS, PAGES = registered_pages()


def test_every_page_file_is_registered_in_app_py():
    """A file added to pages/ but not to app.py's navigation would escape the deep-link test below."""
    registered = sorted(e.file for e in PAGES)
    on_disk = sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))
    assert registered == on_disk
    assert sum(e.default for e in PAGES) == 1
    assert [e.stem for e in PAGES if e.default] == ["home"]
    assert SECTIONS[1] == "1 · Data and current state" and SECTIONS[-1] == "6 · Decision and hand-off"


# ---------------------------------------------------------------------------------
# Fresh servers, one per page
# ---------------------------------------------------------------------------------
def _launch(script: Path, log: Path, env: dict[str, str]) -> tuple[str, subprocess.Popen]:
    """``streamlit run script`` in the background; (url, process). No file watcher: it does not
    change how a request is routed, and a dozen watchers on a tree being edited cost CPU."""
    port = _free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
             "--server.headless", "true", "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
            cwd=script.parent, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    return f"http://127.0.0.1:{port}", proc


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    """Until the server answers its health check (which runs no script, so it stays fresh)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    raise AssertionError(f"streamlit at {url} did not start in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _new_tab(browser):
    """A tab of its own, as the conftest's ``page`` fixture makes them."""
    return browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP").new_page()


class Fleet:
    """One fresh ``streamlit run app.py`` per page, each on its own copy of the warehouse (DuckDB
    lets one process write a file). The servers of the next pages start, and the browser sends
    their first request, while the current one is checked; a tab's first request is its page's
    direct link and nothing else has reached that server before it."""

    def __init__(self, browser, warehouse: Path, folder: Path, order: list[Entry]):
        self.browser, self.warehouse, self.folder, self.order = browser, warehouse, folder, order
        self.servers: dict[str, tuple[str, subprocess.Popen, Path]] = {}
        self.tabs: dict[str, object] = {}

    def _start(self, entry: Entry) -> None:
        if entry.stem in self.servers:
            return
        copy = self.folder / f"{entry.stem}.duckdb"
        shutil.copy(self.warehouse, copy)
        log = self.folder / f"{entry.stem}.log"
        url, proc = _launch(APP, log, {ENV_VAR: str(copy)})
        self.servers[entry.stem] = (url, proc, log)

    def _open(self, entry: Entry) -> None:
        if entry.stem in self.tabs:
            return
        url, proc, log = self.servers[entry.stem]
        _wait_healthy(url, proc, log)
        tab = _new_tab(self.browser)
        tab.goto(f"{url}/{entry.path}", wait_until="commit")  # the rest loads while other pages are checked
        self.tabs[entry.stem] = tab

    def tab(self, entry: Entry):
        """The tab whose first request was ``entry``'s direct link; starts the next ones."""
        at = self.order.index(entry)
        for following in self.order[at:at + AHEAD + 1]:
            self._start(following)
        for following in self.order[at:at + AHEAD]:
            self._open(following)
        return self.tabs[entry.stem]

    def url(self, entry: Entry) -> str:
        return self.servers[entry.stem][0]

    def done(self, entry: Entry) -> None:
        """Close the page's tab and stop its server (waited for at the end, not now)."""
        tab = self.tabs.pop(entry.stem, None)
        if tab is not None:
            tab.context.close()
        if entry.stem in self.servers:
            self.servers[entry.stem][1].terminate()

    def close(self) -> None:
        for tab in self.tabs.values():
            tab.context.close()
        for _, proc, _ in self.servers.values():
            proc.terminate()
        for _, proc, _ in self.servers.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory) -> Path:
    """A small demo chain (1 store × 3 items, one year), made once in under a second. An empty
    warehouse would make each server generate the full demo chain on its first run."""
    from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
    from core.warehouse import Warehouse

    path = tmp_path_factory.mktemp("deep_links") / "warehouse.duckdb"
    warehouse = Warehouse(path)
    load_demo(warehouse, DemoConfig(stores=1, items=3, years=1, seed=5, end_date=REFERENCE_END_DATE))
    warehouse.close()
    return path


@pytest.fixture(scope="module")
def fleet(browser, small_warehouse, tmp_path_factory, request):
    # Only the pages this session will check (a -k run starts no server it does not read).
    chosen = {item.callspec.params["entry"] for item in request.session.items
              if getattr(item, "originalname", "") == "test_a_fresh_servers_first_request_opens_the_page_in_the_app"}
    fleet = Fleet(browser, small_warehouse, tmp_path_factory.mktemp("fleet"), [e for e in PAGES if e in chosen])
    yield fleet
    fleet.close()


def check_in_app(tab, entry: Entry, url: str, shot: str = "50_deep_link") -> None:
    """``tab`` shows ``entry`` inside ``app.py``: the app's title, its sections and page labels in
    the sidebar (not file names), the page's item active, its h1, no exception; a screenshot."""
    try:
        wait_idle(tab, timeout=START_TIMEOUT)
        orphan = (f"/{entry.path} on a fresh server did not run inside app.py ({entry.file} ran on its own, "
                  "Streamlit's pages-folder mode): is ui.navigation.stay_in_app() the first call of the page, "
                  "and does it still work with this Streamlit version?")
        expect(tab, orphan).to_have_title(APP_TITLE, timeout=CHECK_TIMEOUT)
        nav = tab.locator("[data-testid='stSidebarNav']")
        expect(nav.locator("[data-testid='stNavSectionHeader']"), orphan).to_have_text(
            [re.compile(rf"^\s*{re.escape(s)}") for s in SECTIONS], timeout=CHECK_TIMEOUT)  # then its icon
        expect(nav.get_by_role("link", name="app", exact=True), orphan).to_have_count(0)
        expect(nav.locator("[data-testid='stSidebarNavLink']"), orphan).to_have_text(
            [re.compile(rf"{re.escape(e.title)}\s*$") for e in PAGES], timeout=CHECK_TIMEOUT)  # after its icon
        active = nav.locator("a[aria-current='page']")
        expect(active).to_have_count(1, timeout=CHECK_TIMEOUT)
        expect(active).to_have_text(re.compile(rf"{re.escape(entry.title)}\s*$"))
        expect(tab.locator("[data-testid='stMain'] h1").first).to_have_text(entry.heading, timeout=CHECK_TIMEOUT)
        expect(tab.locator("[data-testid='stException']")).to_have_count(0)
        expect(tab).to_have_url(re.compile(rf"^{re.escape(url)}/{re.escape(entry.path)}(\?.*)?$"))
        screenshot(tab, f"{shot}_{entry.stem}", max_height=1000)  # the first screen (nav, title): taller costs seconds
    except AssertionError:
        screenshot(tab, f"failed_{shot}_{entry.stem}")
        raise


@pytest.mark.parametrize("entry", PAGES, ids=[e.stem for e in PAGES])
def test_a_fresh_servers_first_request_opens_the_page_in_the_app(fleet, entry):
    try:
        check_in_app(fleet.tab(entry), entry, fleet.url(entry))
    finally:
        fleet.done(entry)


def test_links_opened_together_on_a_fresh_server_each_open_in_the_app(browser, small_warehouse, tmp_path):
    """Tabs reconnecting after a restart, or a few bookmarks opened at once: the first requests
    overlap, so one run leaves Streamlit's old mode while the others have already started in it."""
    chosen = [e for e in PAGES if not e.default][-3:]
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(small_warehouse, copy)
    log = tmp_path / "streamlit.log"
    url, proc = _launch(APP, log, {ENV_VAR: str(copy)})
    tabs = []
    try:
        _wait_healthy(url, proc, log)
        for entry in chosen:
            tabs.append(_new_tab(browser))
            tabs[-1].goto(f"{url}/{entry.path}", wait_until="commit")
        for tab, entry in zip(tabs, chosen):
            check_in_app(tab, entry, url, shot="52_deep_links_together")
    finally:
        for tab in tabs:
            tab.context.close()
        proc.terminate()
        proc.wait(timeout=20)


# ---------------------------------------------------------------------------------
# The pin: Streamlit's own behaviour, on a bare app whose page has no guard
# ---------------------------------------------------------------------------------
PIN_APP = """\
import streamlit as st

st.set_page_config(page_title="Pin app")
# Two pages: with one, Streamlit shows no navigation at all.
st.navigation({"Pin section": [st.Page("pages/a.py", title="Page A"), st.Page("pages/b.py", title="Page B")]}).run()
"""
PIN_PAGE = """\
import streamlit as st

st.title("Page {name} ran")
"""
PIN_CHANGED = ("Streamlit changed the pages-folder behaviour that ui/navigation.py works around: a fresh server's "
               "first request to a page of pages/ no longer runs that page without the main script. Check whether "
               "ui.navigation.stay_in_app is still needed (maybe drop it) or still works (the deep-link tests above), "
               "then update this pin.")


def test_pin_streamlit_runs_a_deep_link_without_the_main_script_on_a_fresh_server(browser, tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text(PIN_APP, encoding="utf-8")
    for name in ("a", "b"):
        (tmp_path / "pages" / f"{name}.py").write_text(PIN_PAGE.format(name=name), encoding="utf-8")
    log = tmp_path / "streamlit.log"
    url, proc = _launch(tmp_path / "app.py", log, {})
    tab = _new_tab(browser)
    try:
        _wait_healthy(url, proc, log)
        tab.goto(f"{url}/a")
        wait_idle(tab, timeout=START_TIMEOUT)
        nav = tab.locator("[data-testid='stSidebarNav']")
        # The page ran, but on its own: the sidebar lists the files, app.py's section and config are absent.
        expect(tab.locator("[data-testid='stMain'] h1"), PIN_CHANGED).to_have_text("Page a ran", timeout=CHECK_TIMEOUT)
        expect(nav.get_by_role("link", name="app", exact=True), PIN_CHANGED).to_be_visible(timeout=CHECK_TIMEOUT)
        expect(nav.get_by_role("link", name="a", exact=True), PIN_CHANGED).to_be_visible()
        expect(nav, PIN_CHANGED).not_to_contain_text("Pin section")
        expect(tab, PIN_CHANGED).not_to_have_title("Pin app")
        screenshot(tab, "51_deep_link_pin_orphan")

        # Control: the same server runs app.py for "/", whose st.navigation leaves the mode for the
        # whole process, so the same link now opens inside the app.
        control = ("The pin's bare app does not work as a Streamlit app should; the pin above proves nothing "
                   "until it does.")
        tab.goto(url)
        wait_idle(tab, timeout=START_TIMEOUT)
        expect(nav, control).to_contain_text("Pin section", timeout=CHECK_TIMEOUT)
        expect(tab, control).to_have_title("Pin app")
        tab.goto(f"{url}/a")
        wait_idle(tab, timeout=START_TIMEOUT)
        expect(nav, control).to_contain_text("Pin section", timeout=CHECK_TIMEOUT)
        expect(nav.get_by_role("link", name="Page A", exact=True), control).to_be_visible()
        expect(nav.get_by_role("link", name="app", exact=True), control).to_have_count(0)
    except AssertionError:
        screenshot(tab, "failed_deep_link_pin")
        raise
    finally:
        tab.context.close()
        proc.terminate()
        proc.wait(timeout=20)
