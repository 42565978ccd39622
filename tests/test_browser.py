"""Browser tests: the real Streamlit server driven by headless Chromium (Playwright).

Each page is reached by its sidebar link, left to finish its script run, checked for errors,
accessibility and key published figures, and screenshotted to test-artifacts/screenshots/
(git-ignored) so a person can eyeball the renders.

Uses Debian's /usr/bin/chromium; no Playwright browser download is needed or wanted.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import sync_playwright

from browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_BUTTONS,
    PAGE_TIMEOUT_MS,
    axe_violations,
    free_port,
    open_page,
    require_chromium,
    sign_in_demo,
    streamlit_server,
    wait_until_idle,
)
from conftest import ROOT

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


# (url path, sidebar title, texts that must appear in the page's main area).
# Add a row here when a page is added to dashboard/app.py. Texts are looked for in the
# page's visible text and in st.dataframe cells (see page_text); text drawn only on a
# canvas (ECharts charts) or inside a Vega chart cannot be found.
PAGES: list[tuple[str, str, list[str]]] = [
    ("/", "Overview", ["Offender to Rehab: at a glance", "2022/23 Q1", "What changed",
                       "Referrals fell from 41 in 2021/22 Q4 to 40 in 2022/23 Q1"]),
    ("/my-work", "Caseload health", ["Caseload health", "Waiting for first contact",
                                     "413 days"]),
    ("/referral-sources", "Referral sources", ["O2R officer outreach", "36", "Retail business",
                                               "35"]),
    ("/offending-areas", "Offending areas", ["City Centre: entered rehab", "20%",
                                             "3 of 15 assessed", "24 of 45 assessed"]),
    ("/officer-caseloads", "Officer caseloads", ["Officer 1", "43", "136"]),
    ("/journey-flow", "Journey flow", ["Of 136 referred: 85 contacted, 60 assessed, 27 entered "
                                       "rehab, 4 completed 12 weeks"]),
    ("/outcomes", "Outcomes", ["not proven reoffending", "Completed 12 weeks",
                               "Retained 12 weeks or completed"]),
    ("/cost-savings", "Cost savings", ["£760,000", "£1,140,000", "£1,520,000", "£2,280,000"]),
    ("/referrals", "Referrals", ["Referral list", "SYN0"]),
    ("/quarterly-pack", "Quarterly pack", ["Quarterly scrutiny pack", "Referrals received",
                                           "Download the pack (PDF)"]),
    ("/data", "Data", ["Upload an export", "Snapshots and uploads"]),
    ("/access-log", "Access log", ["Access log", "sign-in"]),
    ("/users", "Users", ["Users"]),
    ("/methodology", "Methodology", ["Methodology and definitions"]),
]

require_chromium()


def _screenshot_name(path: str) -> str:
    return path.strip("/") or "overview"


@dataclass
class Server:
    url: str
    log: Path

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's output: the app shows no error details in the browser
        (client.showErrorDetails = "none"), so tracebacks are only found here."""
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError as exc:
            return f"(no server log: {exc})"


@pytest.fixture(scope="module")
def app_server(demo_db_template, tmp_path_factory):
    """A real `streamlit run dashboard/app.py` server over a private copy of the demo DB."""
    workdir = tmp_path_factory.mktemp("browser")
    db = workdir / "o2r.duckdb"
    shutil.copyfile(demo_db_template, db)
    log_path = workdir / "streamlit.log"
    server = Server("", log_path)
    # As a real server runs: the pack's quarters protected in the background from the form on.
    with streamlit_server(ROOT / "dashboard" / "app.py", free_port(), ROOT,
                          {**os.environ, "O2R_DB": str(db), "O2R_PACK_AHEAD": "yes"}, log_path,
                          server.log_tail) as base:
        yield Server(base, log_path)


@pytest.fixture(scope="module")
def browser_context():
    """One browser and one context for the module, so the app's JavaScript bundle is
    fetched once; each test still gets its own tab, hence its own Streamlit session."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()
            browser.close()


@pytest.fixture
def page(browser_context):
    pg = browser_context.new_page()
    try:
        yield pg
    finally:
        pg.close()


# The main area's visible text (not the sidebar, whose links name every page) plus the
# cells of st.dataframe grids: those are drawn on a canvas, and their text lives only in an
# accessibility <table> inside it, which innerText skips.
_TEXT_JS = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    if (!main) return '';
    return [main.innerText, ...[...main.querySelectorAll('canvas table td, canvas table th')]
        .map(cell => cell.textContent)].join('\\n');
}"""


def page_text(pg) -> str:
    return pg.evaluate(_TEXT_JS)


def full_page_screenshot(pg, path: Path) -> None:
    """Streamlit scrolls inside stMain, not the document, so Playwright's full_page alone
    captures one viewport: grow the viewport to the content's height first."""
    size = pg.viewport_size
    height = pg.evaluate("""() => Math.max(document.documentElement.scrollHeight,
        ...[...document.querySelectorAll(
            '[data-testid="stMain"], [data-testid="stSidebarContent"]')]
            .map(e => e.scrollHeight))""")
    height = min(max(int(height), size["height"]), 12_000)
    path.parent.mkdir(parents=True, exist_ok=True)
    if height > size["height"]:
        pg.set_viewport_size({"width": size["width"], "height": height})
        try:
            wait_until_idle(pg)  # charts re-lay themselves out for the new size
            pg.screenshot(path=str(path), full_page=True)
        finally:
            pg.set_viewport_size(size)
    else:
        pg.screenshot(path=str(path), full_page=True)


def errors_shown(pg, server: Server) -> str | None:
    """A Streamlit exception or a traceback on the page, with the server log's tail."""
    exceptions = pg.locator('[data-testid="stException"]')
    if exceptions.count():
        return (f"Streamlit exception on {pg.url}:\n{exceptions.first.inner_text()}\n"
                f"--- server log (tail) ---\n{server.log_tail()}")
    body = pg.inner_text("body")
    return body[:2000] if "Traceback" in body else None


def assert_no_errors(pg, server: Server) -> None:
    shown = errors_shown(pg, server)
    if shown:
        pytest.fail(shown)


def sidebar_titles(pg) -> list[str]:
    links = pg.locator('[data-testid="stSidebarNav"] a')
    # The link text also holds the icon's ligature name on its own line before the title.
    return [links.nth(i).inner_text().strip().split("\n")[-1].strip()
            for i in range(links.count())]


def test_sign_in_page_offers_demo_accounts_and_says_it_is_demo_data(app_server, page):
    page.goto(app_server.url + "/")
    wait_until_idle(page)
    assert not axe_violations(page)
    text = page_text(page)
    assert "SYNTHETIC demo data" in text
    for label in DEMO_BUTTONS.values():
        assert page.get_by_role("button", name=label).count() == 1
    assert "136" not in text  # no figures before signing in
    full_page_screenshot(page, SCREENSHOTS / "sign-in.png")


def test_a_link_to_a_page_signs_in_there_or_says_the_role_may_not_open_it(app_server,
                                                                           browser_context):
    # A link someone was sent, opened signed out: the sign-in form at that address (not
    # Streamlit's "Page not found"), and signing in lands on the page asked for.
    for role, path, title, expected in [
            ("steering", "/referral-sources", "Referral sources", "Referrals by source"),
            ("officer", "/quarterly-pack", "Quarterly pack",
             "Quarterly pack is not open to officers")]:
        pg = browser_context.new_page()  # its own session, signed out
        try:
            pg.goto(app_server.url + path)
            wait_until_idle(pg)
            assert "Page not found" not in pg.inner_text("body"), (role, path)
            pg.get_by_role("button", name=DEMO_BUTTONS[role]).click()
            pg.wait_for_selector('[data-testid="stSidebarNav"]', state="attached",
                                 timeout=PAGE_TIMEOUT_MS)
            body = wait_for_text(pg, expected)
            assert urlparse(pg.url).path == path
            assert pg.locator("h1").first.inner_text() == title
            assert "Page not found" not in pg.inner_text("body"), (role, path)
            if role == "officer":  # nothing of the pack: no quarter to choose, no figure
                assert "Headline figures" not in body and "Caveats" not in body, body
            assert_no_errors(pg, app_server)
        finally:
            pg.close()


def texts_missing(pg, texts, seconds: float) -> tuple[list[str], str]:
    """Which of `texts` the page still lacks once all are in it or `seconds` have passed,
    and the page's text then."""
    deadline = time.monotonic() + seconds
    while True:
        body = page_text(pg)
        missing = [t for t in texts if t not in body]
        if not missing or time.monotonic() > deadline:
            return missing, body
        time.sleep(0.25)


def test_every_page_renders_reached_by_its_sidebar_link(app_server, page):
    # One administrator's session walks the whole sidebar, as a person would, rather than
    # signing in afresh for each page: every page's figures, errors, accessibility and
    # screenshot, and the link marked current; every page is checked before any failure is
    # reported.
    sign_in_demo(page, app_server.url, "admin")
    titles = sidebar_titles(page)
    missing_links = [t for _, t, _ in PAGES if t not in titles]
    assert not missing_links, (f"no sidebar link for {missing_links}; sidebar links: {titles}"
                               f"\n--- server log (tail) ---\n{app_server.log_tail()}")
    problems: dict[str, list[str]] = {}
    # Overview is where signing in lands; it is checked there and again on the way back.
    for path, title, expected in [*PAGES, PAGES[0]]:
        link = page.locator('[data-testid="stSidebarNav"] a').filter(
            has=page.get_by_text(title, exact=True))
        assert link.count() == 1, f"no single sidebar link titled {title!r}"
        try:
            if urlparse(page.url).path != path:
                link.click()
                page.wait_for_url(lambda url, p=path: urlparse(url).path == p,
                                  timeout=PAGE_TIMEOUT_MS)
            wait_until_idle(page)
        except PlaywrightTimeoutError as exc:  # reported with the rest; the walk goes on
            problems[f"{title} ({path})"] = [f"not reached or still loading: {exc}"]
            continue
        found = []
        active = page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')
        if active.count() != 1 or title not in active.inner_text():
            marked = [active.nth(i).inner_text() for i in range(active.count())]
            found.append(f"the sidebar marks {marked} as current")
        # a short grace period: grid cells can be filled in just after loading ends
        missing, _ = texts_missing(page, expected, seconds=3)
        if missing:
            found.append(f"missing {missing!r}")
        shown = errors_shown(page, app_server)
        if shown:
            found.append(shown)
        found += axe_violations(page)
        full_page_screenshot(page, SCREENSHOTS / f"{_screenshot_name(path)}.png")
        if found:
            problems.setdefault(f"{title} ({path})", []).extend(found)
    # The pack was protected ahead from the sign-in form on (by the Quarterly pack's turn in
    # the walk at the latest); a failure there is logged, never shown.
    assert "could not be built ahead" not in app_server.log_tail(100_000), app_server.log_tail()
    assert not problems, problems


# ------------------------------------------------------------------ each role's main task


def wait_for_text(pg, *texts: str, seconds: float = 20) -> str:
    """The page's text once every one of `texts` is in it (a loaded machine may be slow)."""
    missing, body = texts_missing(pg, texts, seconds)
    assert not missing, f"{pg.url} is missing {missing!r}"
    return body


FOCUSED_WIDGET_JS = """() => {
    const box = document.activeElement && document.activeElement.closest(
        '[data-testid="stSelectbox"]');
    return box ? box.innerText.split('\\n')[0] : null;
}"""


def presses_to_reach_the_period_filter(pg) -> int:
    """Keys pressed from the top of the page ("Skip to main content" is the first Tab stop;
    Enter follows it) until the Period filter has the focus."""
    pg.evaluate("""() => { const start = document.createElement('button');
        document.body.prepend(start); start.focus(); start.remove(); }""")
    pg.keyboard.press("Tab")
    assert "Skip to main content" in pg.evaluate("() => document.activeElement.innerText")
    pg.keyboard.press("Enter")
    for presses in range(3, 12):
        pg.keyboard.press("Tab")
        if pg.evaluate(FOCUSED_WIDGET_JS) == "Period":
            return presses
    return presses + 1


def test_steering_this_quarter_against_last_and_where_people_drop_out(app_server, page):
    sign_in_demo(page, app_server.url, "steering")
    body = wait_for_text(page, "2022/23 Q1", "What changed", "on 2021/22 Q4",
                         "Assessed rose from 10 in 2021/22 Q4 to 27 in 2022/23 Q1")
    assert "likely range" in body
    assert not axe_violations(page)
    assert presses_to_reach_the_period_filter(page) <= 4
    open_page(page, "Journey flow", "/journey-flow")
    wait_for_text(page, "Of 136 referred: 85 contacted, 60 assessed")
    assert not axe_violations(page)
    # A year chosen, then a page without the filter bar: the bar is gone there, and the
    # choice is still made when the steering member comes back.
    period = page.locator('[data-testid="stSelectbox"]').filter(has_text="Period")
    period.locator("input").click()
    page.get_by_role("option", name="2021/22", exact=True).click()
    wait_until_idle(page)
    assert "period=2021%2F22" in page.url
    chosen = re.search(r"Of [\d,]+ referred: [^\n]*", wait_for_text(page, "Of ")).group()
    assert chosen.startswith("Of ") and not chosen.startswith("Of 136 ")
    open_page(page, "Methodology", "/methodology")
    assert period.count() == 0
    open_page(page, "Journey flow", "/journey-flow")
    assert "2021/22" in period.inner_text() + period.locator("input").input_value()
    assert "period=2021%2F22" in page.url
    wait_for_text(page, chosen)
    assert_no_errors(page, app_server)


def test_scrutiny_q1_figures_and_the_pdf(app_server, page):
    sign_in_demo(page, app_server.url, "scrutiny")
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Quarter").locator(
        "input").click()
    page.get_by_role("option", name="2022/23 Q1", exact=True).click()
    wait_until_idle(page)
    wait_for_text(page, "Quarterly scrutiny pack", "2022/23 Q1", "Referrals received")
    assert not axe_violations(page)
    with page.expect_download(timeout=120_000) as started:
        page.get_by_role("button", name="Download the pack (PDF)").click()
    assert Path(started.value.path()).read_bytes().startswith(b"%PDF")
    open_page(page, "Methodology", "/methodology")
    assert not axe_violations(page)


def test_officer_on_a_phone_sees_who_has_waited_longest(app_server, browser_context):
    phone = browser_context.browser.new_context(viewport={"width": 390, "height": 844})
    phone.set_default_timeout(PAGE_TIMEOUT_MS)
    page = phone.new_page()
    try:
        sign_in_demo(page, app_server.url, "officer")
        # an officer opens on their own work: the longest wait first, nobody else's
        body = wait_for_text(page, "My work", "the longest has waited 353 days (SYN0019)",
                             "Waiting for first contact (8)")
        assert "Officer 2" not in body
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert not page.locator('[data-testid="stSidebar"][aria-expanded="true"]').count()
        assert not axe_violations(page)
        full_page_screenshot(page, SCREENSHOTS / "my-work-phone.png")
    finally:
        phone.close()


def test_admin_uploads_a_tracker_and_sees_it_stored(demo_db, browser_context, tmp_path):
    """On its own server: once real data is stored the demo accounts stop working, so the
    administrator signs in with a local account."""
    from dashboard.security import accounts

    security_path = tmp_path / "security.sqlite"
    accounts.add_user(security_path, "Ada Admin", "admin", password="correct horse battery")
    log_path = tmp_path / "streamlit.log"
    # As a real server runs: the pack's quarters protected in the background from the form on.
    env = {**os.environ, "O2R_DB": str(demo_db), "O2R_SECURITY_DB": str(security_path),
           "O2R_PACK_AHEAD": "yes"}
    with streamlit_server(ROOT / "dashboard" / "app.py", free_port(), ROOT, env, log_path,
                          lambda: log_path.read_text(errors="replace")[-4000:]) as base:
        server = Server(base, log_path)
        page = browser_context.new_page()
        try:
            page.goto(base + "/")
            wait_until_idle(page)
            page.get_by_label("Name").fill("Ada Admin")
            page.get_by_label("Password", exact=True).fill("correct horse battery")
            page.get_by_role("button", name="Sign in", exact=True).click()
            page.wait_for_selector('[data-testid="stSidebarNav"]', state="attached")
            open_page(page, "Data", "/data")
            tracker = tmp_path / "tracker.csv"
            tracker.write_bytes(b"O2R tracker as at 31/08/2022\n"
                                b"Nominal ID,Referral Date,Officer,Referral Source,Status\n"
                                b"AUG1,01/08/2022,Officer 1,Custody,Active\n")
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
                str(tracker))
            wait_until_idle(page)
            wait_for_text(page, "Read from the file's title lines: as at 31/08/2022",
                          "storing it adds a tracker snapshot of 1 referrals as at 31/08/2022")
            assert not axe_violations(page)
            page.get_by_role("button", name="Store this upload").click()
            wait_until_idle(page)
            body = page_text(page)
            if "Not stored yet" in body:  # a much smaller snapshot is confirmed first
                page.locator('[data-testid="stCheckbox"]').filter(
                    has_text="really has 1 referrals").locator("label").click()
                wait_until_idle(page)
                page.get_by_role("button", name="Store this snapshot").click()
                wait_until_idle(page)
            wait_for_text(page, "Stored: 1 referrals as at 31/08/2022 (tracker snapshot")
            assert_no_errors(page, server)
        finally:
            page.close()


# The administrator sees every page (the walk above checks each link); the others:
@pytest.mark.parametrize(("role", "visible", "hidden"), [
    ("officer", ["Overview", "Journey flow", "Referrals", "Officer caseloads"],
     ["Quarterly pack", "Data", "Access log", "Users"]),
    ("steering", ["Overview", "Journey flow", "Referrals", "Quarterly pack"],
     ["Data", "Access log", "Users"]),
    ("scrutiny", ["Quarterly pack", "Methodology"],
     ["Overview", "Journey flow", "Offending areas", "Officer caseloads", "Referrals", "Data",
      "Access log", "Users"]),
])
def test_each_role_walks_its_own_pages_and_axe_finds_nothing(app_server, page, role, visible,
                                                             hidden):
    # Every page as administrator is checked above; here each other role signs in once and
    # walks its own navigation as it sees the pages (an officer's own figures, the panel's
    # pack): the pages it should and should not have, what it is shown, errors and axe.
    sign_in_demo(page, app_server.url, role)
    titles = sidebar_titles(page)
    assert all(v in titles for v in visible), titles
    assert not [h for h in hidden if h in titles], titles
    if role == "scrutiny":
        # The pack is the panel's first page, so signing in lands on it, at the root.
        wait_until_idle(page)
        assert urlparse(page.url).path == "/", page.url
        wait_for_text(page, "Quarterly scrutiny pack")
    problems = {}
    for title in titles:
        page.locator('[data-testid="stSidebarNav"] a').filter(
            has=page.get_by_text(title, exact=True)).click()
        # the page clicked is the one read, not the last one still on screen
        page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]').filter(
            has=page.get_by_text(title, exact=True)).wait_for(timeout=PAGE_TIMEOUT_MS)
        wait_until_idle(page)
        assert_no_errors(page, app_server)
        if role == "officer" and title == "Officer caseloads":
            text = wait_for_text(page, "Officer 1", "43")
            assert "Officer 2" not in text and "New recruit" not in text
        if role == "scrutiny" and title == "Quarterly pack":
            text = wait_for_text(page, "Quarterly scrutiny pack", "<5", "[c]")
            assert "SYN0" not in text
        found = axe_violations(page)
        if found:
            problems[title] = found
    assert not problems, problems
