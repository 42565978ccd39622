"""What the browser tests share: a real Streamlit server, Debian's Chromium, and waiting for
the app to settle."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from machine_load import SLOWNESS

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium tries to reach the internet at every start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Waits scale with how busy the machine is, not a fixed 30 s that a loaded machine misses.
SERVER_START_TIMEOUT_S = 60 * SLOWNESS
PAGE_TIMEOUT_MS = int(30_000 * SLOWNESS)


def require_chromium() -> None:
    """Never skipped: bin/setup --with-browser installs it."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is not installed: run bin/setup --with-browser", pytrace=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(app: Path, port: int, cwd: Path, env: dict, log_path: Path,
                     diagnostics: Callable[[], str]) -> Iterator[str]:
    """`streamlit run APP` on 127.0.0.1:PORT, yielding its base URL once /_stcore/health is ok."""
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false",
             # Others may edit the source while tests run: no "File change. Rerun" prompts.
             "--server.fileWatcherType", "none"],
            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_healthy(proc, base, diagnostics)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def wait_until_healthy(proc: subprocess.Popen, base: str, diagnostics: Callable[[], str]) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{diagnostics()}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"streamlit not healthy after {SERVER_START_TIMEOUT_S}s:\n"
                        f"{diagnostics()}")
        time.sleep(0.25)


IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || !document.querySelector('[data-testid="stMain"]')) return false;
    if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
    const status = document.querySelector('[data-testid="stStatusWidget"]');
    if (status && /Running/i.test(status.innerText)) return false;
    // Elements whose frontend code is still loading (charts, data frames) show as skeletons
    // for a moment after the script run has finished.
    return document.querySelector('[data-testid="stSkeleton"]') === null;
}"""


def wait_until_idle(pg, timeout_ms: int = PAGE_TIMEOUT_MS, stable_s: float = 0.3) -> None:
    """Wait until the app is connected, its script run has finished and nothing is still
    loading, and has stayed so for stable_s (stApp's data-test-script-state goes "initial" ->
    "running" -> "notRunning", and a redirect by st.login/st.logout starts a new page)."""
    deadline = time.monotonic() + timeout_ms / 1000
    idle_since = None
    while True:
        now = time.monotonic()
        try:
            idle = pg.evaluate(IDLE_JS)
        except Exception:  # the page navigated away mid-evaluation (a redirect)
            idle = False
        if idle:
            idle_since = idle_since or now
            if now - idle_since >= stable_s:
                return
        else:
            idle_since = None
        if now > deadline:
            raise PlaywrightTimeoutError(f"{pg.url} still running/loading after {timeout_ms} ms")
        time.sleep(0.1)


AXE_SCRIPT = Path(__file__).resolve().parent.parent / ".a11y" / "node_modules" / "axe-core" \
    / "axe.min.js"
AXE_OPTIONS = {
    "runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    # Streamlit's file uploader marks its drop zone role="presentation" but gives it an
    # aria-label; keyboard users reach its own "Browse files" button, which is labelled.
    "rules": {"presentation-role-conflict": {"enabled": False}},
}


def axe_violations(pg) -> list[str]:
    """axe-core's violations on the page as it is now, one line each (rule, impact, where);
    axe is loaded from disk (bin/setup --with-browser), so no network is needed."""
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: run bin/setup --with-browser", pytrace=False)
    if not pg.evaluate("() => typeof window.axe !== 'undefined'"):
        pg.add_script_tag(content=AXE_SCRIPT.read_text(encoding="utf-8"))
    found = pg.evaluate("""options => axe.run(document, options).then(result =>
        result.violations.map(v => `${v.id} (${v.impact}): ${v.help} at ` +
            v.nodes.slice(0, 3).map(n => n.html.slice(0, 160)).join(' | ')))""", AXE_OPTIONS)
    return list(found)


DEMO_BUTTONS = {"steering": "Demo steering-group member", "officer": "Demo officer (Officer 1)",
                "scrutiny": "Demo scrutiny-panel member", "admin": "Demo administrator"}


def sign_in_demo(pg, base_url: str, role: str) -> None:
    """Open the app and sign in with a demo account (a new tab is a new, signed-out session)."""
    pg.goto(base_url + "/")
    wait_until_idle(pg)
    pg.get_by_role("button", name=DEMO_BUTTONS[role]).click()
    # attached, not visible: on a phone the sidebar starts closed
    pg.wait_for_selector('[data-testid="stSidebarNav"]', state="attached",
                         timeout=PAGE_TIMEOUT_MS)
    wait_until_idle(pg)


def open_page(pg, title: str, path: str) -> None:
    """Go to a page by its sidebar link: a page load would start a new, signed-out session."""
    if urlparse(pg.url).path != path:
        pg.locator('[data-testid="stSidebarNav"] a').filter(
            has=pg.get_by_text(title, exact=True)).click()
        pg.wait_for_url(lambda url: urlparse(url).path == path, timeout=PAGE_TIMEOUT_MS)
    wait_until_idle(pg)
