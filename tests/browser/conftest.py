"""Real Chromium against a real `streamlit run`, on a warehouse of the test's own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.warehouse import ENV_VAR

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(script: Path, log: Path, env: dict[str, str], launcher: bool = False) -> tuple[str, subprocess.Popen]:
    """``streamlit run script`` in the background, its output in ``log``; (url, process). With
    ``launcher``, ``python -m ui.serve`` (what ``make run`` starts) runs ``app.py`` instead. No file
    watcher: it does not change how a request is routed, and many watchers on a tree being edited
    cost CPU."""
    port = _free_port()
    command = ["-m", "ui.serve"] if launcher else ["-m", "streamlit", "run", str(script)]
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, *command, "--server.port", str(port),
             "--server.headless", "true", "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
            cwd=script.parent, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    return f"http://127.0.0.1:{port}", proc


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    """Until the server answers its health check (which runs no script, so it stays fresh);
    stops the server and raises with its log when it does not start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"streamlit at {url} did not start in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def start_app(warehouse: Path, log: Path) -> tuple[str, subprocess.Popen]:
    """``streamlit run app.py`` on ``warehouse``, started and healthy; (url, process)."""
    url, proc = launch(ROOT / "app.py", log, {ENV_VAR: str(warehouse)})
    wait_healthy(url, proc, log)
    return url, proc


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """`streamlit run app.py` on a fresh warehouse holding the demo chain's ten stores with 12 items
    each instead of 50: the journeys run the default ladder (eight models) several times, and are
    about the steps a person takes, not the chain's size (the first run's own generation of the
    default chain is covered by the page tests and the deep-link journeys' fresh servers)."""
    from core.data.demo import DemoConfig, load_demo
    from core.warehouse import Warehouse

    path = tmp_path_factory.mktemp("browser") / "warehouse.duckdb"
    warehouse = Warehouse(path)
    load_demo(warehouse, DemoConfig(items=12))
    warehouse.close()
    url, proc = start_app(path, tmp_path_factory.mktemp("log") / "streamlit.log")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium) first.")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.failed_call = report.failed
    return report


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    yield page
    if getattr(request.node, "failed_call", False):  # what the page showed when the journey failed
        screenshot(page, f"failed_{request.node.name}")
    context.close()


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until the app has rendered and its script is no longer running."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_function(
        """() => {
            const app = document.querySelector("[data-testid='stApp']");
            return app && app.getAttribute('data-test-script-state') !== 'running'
                && !document.querySelector("[data-testid='stSpinner']")
                && document.querySelector("[data-testid='stMain'] h1");
        }""",
        timeout=timeout,
    )
    page.wait_for_timeout(300)


def screenshot(page, name: str, max_height: int = 5000) -> Path:
    """The whole page: Streamlit scrolls inside its main element, so the viewport is
    stretched to the content's height for the shot, then restored."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stMainBlockContainer]')]"
        ".map(e => e.scrollHeight), document.body.scrollHeight)")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), max_height)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path
