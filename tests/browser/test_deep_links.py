"""A direct link is the first thing a fresh server sees: every page still opens inside ``app.py``.

With a ``pages/`` folder, Streamlit (1.67) starts each process in its old pages-folder mode, so
the first request a fresh ``streamlit run app.py`` receives, if it is a link such as ``/money``,
would run ``pages/money.py`` without ``app.py``: no page config, the sidebar listing raw file
names ("app", "backtest", "data" …) instead of the journey's sections. ``ui.navigation.stay_in_app``,
first in every page, hands such a run back to ``app.py``. These tests prove it for every page
registered in ``app.py``: every page's link among the first requests of one fresh server, all
opened together (tabs reconnecting after a restart; the race a process-wide switch would lose),
and three pages each alone as a fresh server's very first request; and pin Streamlit's behaviour
on a bare app without the guard, so an upgrade that changes it is noticed.

Cost: a server is a process that imports the app's libraries (about 5 s of CPU), so five servers
in all rather than one per page. Servers of the lone pages are started ahead of the test that
reads them and their first request is sent ahead too, so two cores stay busy.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.warehouse import ENV_VAR
from tests.browser.conftest import ROOT, launch, screenshot, wait_healthy, wait_idle

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
                    and node.args and isinstance(_unwrap(node.args[0]), ast.Constant)):
                return _unwrap(node.args[0]).value
        raise AssertionError(f"{self.file} has no st.title(\"…\") with a literal text; this test reads the page's "
                             "h1 from it. Give the page a literal title or teach Entry.heading where it is.")


def _unwrap(node: ast.AST) -> ast.AST:
    """``_("Overview")`` → the literal inside: the English the test's English browser reads."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_" and node.args:
        return node.args[0]
    return node


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
        section = ast.literal_eval(_unwrap(key))
        sections.append(section)
        for page in value.elts:
            keywords = {k.arg: ast.literal_eval(_unwrap(k.value)) for k in page.keywords
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
    assert SECTIONS[1] == "1 · Data and current state" and SECTIONS[-2] == "6 · Online evaluation" \
        and SECTIONS[-1] == "7 · Decision and hand-off"


# ---------------------------------------------------------------------------------
# Fresh servers, one per page
# ---------------------------------------------------------------------------------
# Records whether the sidebar ever listed Streamlit's raw file names (a link named "app"), however
# briefly: the final state alone would not show a flash before app.py took over.
SAW_RAW_NAV = """
window.__sawRawNav = false;
new MutationObserver(() => {
  for (const link of document.querySelectorAll("[data-testid='stSidebarNavLink']")) {
    if (link.textContent.trim() === "app") { window.__sawRawNav = true; }
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def _new_tab(browser):
    """A tab of its own, as the conftest's ``page`` fixture makes them, watching its sidebar."""
    tab = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()
    tab.add_init_script(SAW_RAW_NAV)
    return tab


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
        url, proc = launch(APP, log, {ENV_VAR: str(copy)})
        self.servers[entry.stem] = (url, proc, log)

    def _open(self, entry: Entry) -> None:
        if entry.stem in self.tabs:
            return
        url, proc, log = self.servers[entry.stem]
        wait_healthy(url, proc, log)
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


# A fresh server costs about 5 s of CPU, so not every page gets one of its own: three pages are
# each alone a fresh server's very first request (the default page "/", a page whose URL is its
# file name, one whose file name carries the URL's hyphen), and every other page is among the
# first requests of one more fresh server, all opened together. That every page is guarded the
# same way is also checked on the source, by test_every_page_calls_stay_in_app_before_anything_else.
ALONE = [e for e in PAGES if e.stem in ("home", "money", "effort-impact")]
TOGETHER = [e for e in PAGES if e not in ALONE]


def test_every_page_is_checked_in_the_browser():
    assert [e.stem for e in ALONE] == ["home", "effort-impact", "money"]
    assert len(ALONE) + len(TOGETHER) == len(PAGES) == len(list((ROOT / "pages").glob("*.py")))


@pytest.mark.parametrize("entry", PAGES, ids=[e.stem for e in PAGES])
def test_every_page_calls_stay_in_app_before_anything_else(entry):
    """The first statement of every page after its imports (and its docstring) is
    ``stay_in_app()``: nothing is drawn or read before an orphan run is handed to app.py."""
    body = ast.parse((ROOT / entry.file).read_text(encoding="utf-8")).body
    rest = [n for n in body if not isinstance(n, (ast.Import, ast.ImportFrom))
            and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    first = rest[0] if rest else None
    assert (isinstance(first, ast.Expr) and isinstance(first.value, ast.Call)
            and getattr(first.value.func, "id", None) == "stay_in_app" and not first.value.args), \
        f"{entry.file}: the first statement after the imports must be stay_in_app() (ui/navigation.py)"
    imports = [n for n in body if isinstance(n, ast.ImportFrom) and n.module == "ui.navigation"]
    assert any(a.name == "stay_in_app" for n in imports for a in n.names), entry.file


@pytest.mark.parametrize("entry", ALONE, ids=[e.stem for e in ALONE])
def test_a_fresh_servers_first_request_opens_the_page_in_the_app(fleet, entry):
    try:
        check_in_app(fleet.tab(entry), entry, fleet.url(entry))
    finally:
        fleet.done(entry)


def test_links_opened_together_on_a_fresh_server_each_open_in_the_app(browser, small_warehouse, tmp_path):
    """Direct links sent at once as the first requests of one fresh server (tabs reconnecting after
    a restart, bookmarks opened together): the runs overlap, so one leaves Streamlit's old mode
    while others have already started in it."""
    chosen = TOGETHER
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(small_warehouse, copy)
    log = tmp_path / "streamlit.log"
    url, proc = launch(APP, log, {ENV_VAR: str(copy)})
    tabs = []
    try:
        wait_healthy(url, proc, log)
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


def test_the_launcher_starts_in_navigation_mode_so_a_link_never_shows_file_names(browser, small_warehouse, tmp_path):
    """``make run`` starts ``python -m ui.serve``: a fresh server's first request, a direct link,
    is the app's page from the first paint, without the moment of Streamlit's raw file list that
    ``stay_in_app`` alone cannot prevent (the pin below shows the recorder sees such a list)."""
    entry = next(e for e in PAGES if e.stem == "backtest")
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(small_warehouse, copy)
    log = tmp_path / "streamlit.log"
    url, proc = launch(APP, log, {ENV_VAR: str(copy)}, launcher=True)
    tab = _new_tab(browser)
    try:
        wait_healthy(url, proc, log)
        tab.goto(f"{url}/{entry.path}", wait_until="commit")
        check_in_app(tab, entry, url, shot="53_deep_link_launcher")
        assert tab.evaluate("window.__sawRawNav") is False, "the sidebar listed Streamlit's raw file names"
    finally:
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
    url, proc = launch(tmp_path / "app.py", log, {})
    tab = _new_tab(browser)
    try:
        wait_healthy(url, proc, log)
        tab.goto(f"{url}/a")
        wait_idle(tab, timeout=START_TIMEOUT)
        nav = tab.locator("[data-testid='stSidebarNav']")
        # The page ran, but on its own: the sidebar lists the files, app.py's section and config are absent.
        expect(tab.locator("[data-testid='stMain'] h1"), PIN_CHANGED).to_have_text("Page a ran", timeout=CHECK_TIMEOUT)
        expect(nav.get_by_role("link", name="app", exact=True), PIN_CHANGED).to_be_visible(timeout=CHECK_TIMEOUT)
        expect(nav.get_by_role("link", name="a", exact=True), PIN_CHANGED).to_be_visible()
        expect(nav, PIN_CHANGED).not_to_contain_text("Pin section")
        expect(tab, PIN_CHANGED).not_to_have_title("Pin app")
        assert tab.evaluate("window.__sawRawNav") is True, "the recorder of raw file lists saw none"
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
