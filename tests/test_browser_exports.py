"""In the browser: the data grid offers no download of its own, and the dashboard's download
makes its /media/... URL only when clicked, logs it, and lets it lapse soon after.

Uses Debian's /usr/bin/chromium, as the other browser tests do."""

from __future__ import annotations

import os
import re
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import sync_playwright

from dashboard.security import audit

from browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_TIMEOUT_MS,
    free_port,
    open_page,
    require_chromium,
    sign_in_demo,
    streamlit_server,
    wait_until_idle,
)
from conftest import ROOT

# A file lasts at least half this after it is made: time for a loaded machine to fetch it.
URL_SECONDS = 8
MEDIA_FILE = re.compile(r"/media/[0-9a-f]{16,}")

require_chromium()


@pytest.fixture(scope="module")
def server(demo_db_template, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("browser-exports")
    db, log = workdir / "o2r.duckdb", workdir / "o2r-security.sqlite"
    shutil.copyfile(demo_db_template, db)
    server_log = workdir / "streamlit.log"
    # cwd is the repository, so its .streamlit/config.toml (disableDataExport) is the one read
    with streamlit_server(ROOT / "dashboard" / "app.py", free_port(), ROOT,
                          {**os.environ, "O2R_DB": str(db), "O2R_SECURITY_DB": str(log),
                           "O2R_DOWNLOAD_URL_SECONDS": str(URL_SECONDS)}, server_log,
                          lambda: server_log.read_text(errors="replace")[-4000:]) as base:
        yield base, log, server_log


@pytest.fixture
def referrals_page(server):
    base = server[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                      accept_downloads=True)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        page = context.new_page()
        try:
            sign_in_demo(page, base, "steering")
            open_page(page, "Referrals", "/referrals")
            yield page
        finally:
            context.close()
            browser.close()


def toolbar_buttons(page) -> list[str]:
    """The labels of the grid's own toolbar, which shows while the pointer is over it."""
    page.locator('[data-testid="stDataFrame"]').first.hover()
    toolbar = page.locator('[data-testid="stElementToolbar"] button')
    toolbar.first.wait_for(state="visible")
    return toolbar.evaluate_all("buttons => buttons.map(b => b.getAttribute('aria-label'))")


def download(page, label: str, server):
    """Clicks the download button and returns the browser's download; if none comes,
    fails with what the button and the server said."""
    try:
        with page.expect_download() as started:
            page.get_by_role("button", name=label).click()
    except PlaywrightTimeoutError:
        said = page.locator('[data-testid="stDownloadButtonError"]').all_inner_texts()
        pytest.fail(f"no download from {label!r}; the button said {said}; the server's log "
                    f"ends:\n{server[2].read_text(errors='replace')[-4000:]}")
    return started.value


def fetch(url: str) -> int:
    """The status of a GET with no cookies: what anyone else holding the URL would get."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_referral_grid_has_no_download_of_its_own(referrals_page):
    labels = toolbar_buttons(referrals_page)
    assert "Search" in labels  # the toolbar is there ...
    assert "Download as CSV" not in labels  # ... without its unlogged download


def test_a_download_url_exists_only_after_a_logged_click_and_lapses(referrals_page, server):
    _, log, _ = server
    assert not MEDIA_FILE.search(referrals_page.content())  # nothing to fetch before a click
    assert audit.read_log(log, action="export").empty
    saved = download(referrals_page, "Download the data (CSV)", server)
    assert Path(saved.path()).read_bytes().startswith(b"\xef\xbb\xbfnominal_id,")
    exports = audit.read_log(log, action="export")
    assert exports[["who", "role", "target"]].values.tolist() == [
        ["Demo steering-group member", "steering", "referral_list.csv"]]
    assert MEDIA_FILE.search(saved.url)
    deadline = time.monotonic() + URL_SECONDS + 10
    while fetch(saved.url) == 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert fetch(saved.url) == 404


def test_the_pack_files_are_made_on_the_click_and_logged(referrals_page, server):
    _, log, _ = server
    page = referrals_page
    page.locator('[data-testid="stSidebarNav"] a').filter(
        has=page.get_by_text("Quarterly pack", exact=True)).click()
    page.wait_for_url(lambda url: urlparse(url).path == "/quarterly-pack")
    wait_until_idle(page)
    assert not MEDIA_FILE.search(page.content())  # no file rendered or served before a click
    before = len(audit.read_log(log, action="export"))
    for label, start in (("Download the pack (PDF)", b"%PDF-"), ("Download the pack (Excel)",
                                                                  b"PK")):
        assert Path(download(page, label, server).path()).read_bytes().startswith(start)
    targets = audit.read_log(log, action="export")["target"].tolist()
    assert len(targets) == before + 2
    assert sorted(t.rsplit(".", 1)[-1] for t in targets[:2]) == ["pdf", "xlsx"]  # newest first
    assert all(t.startswith("o2r-pack-") for t in targets[:2])
