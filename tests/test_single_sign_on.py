"""Single sign-on end to end: st.login against a local OpenID Connect provider (oidc_mock).

A real `streamlit run dashboard/app.py` is started in a temporary directory whose
.streamlit/secrets.toml has an [auth] section pointing at the mock provider, and headless
Chromium clicks "Sign in" under "Sign in with your force account". The browser then follows
the real redirects: /auth/login -> the provider's /authorize -> /oauth2callback (where
Streamlit exchanges the code at /token and checks the RS256 id_token and its nonce) -> the
app, which looks the email up in the users table.

Each test has its own browser context, so its own cookies: the identity cookie st.login
sets would otherwise sign the next test in.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

from dashboard.security import accounts, security_file

from browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_TIMEOUT_MS,
    free_port,
    require_chromium,
    streamlit_server,
)
from browser_support import wait_until_idle as settle
from conftest import ROOT
from oidc_mock import OIDCProvider

STREAMLIT_USER_COOKIE = "_streamlit_user"  # the identity cookie st.login sets

SAM = ("Sam Steering", "steering", "sam@force.example")
RITA = ("Rita Revoked", "scrutiny", "rita@force.example")
STRANGER = ("Nobody Known", "nobody@elsewhere.example")
REFUSED_MESSAGE = "not set up for this dashboard"  # what auth says to an unknown email

require_chromium()
try:  # st.login needs Authlib *and* httpx (streamlit[auth]); without httpx /auth/login fails
    import httpx  # noqa: F401
except ModuleNotFoundError:
    pytest.fail("httpx is not installed, so st.login cannot work: install streamlit[auth] "
                "(Authlib and httpx), e.g. add httpx to requirements.txt", pytrace=False)


@dataclass
class Server:
    url: str
    log: Path
    security_db: Path
    provider: OIDCProvider

    def diagnostics(self, chars: int = 4000) -> str:
        """The server log's tail and what the provider saw: the app shows no error details in
        the browser (client.showErrorDetails = "none")."""
        try:
            log = self.log.read_text(errors="replace")[-chars:]
        except OSError as exc:
            log = f"(no server log: {exc})"
        return (f"--- provider requests: {self.provider.paths()}\n"
                f"--- provider errors: {self.provider.errors}\n"
                f"--- streamlit log (tail) ---\n{log}")


def _config_toml() -> str:
    """The project's .streamlit/config.toml, bound to 127.0.0.1 (the redirect URI's host)."""
    text = (ROOT / ".streamlit" / "config.toml").read_text()
    text, count = re.subn(r'(?m)^address\s*=.*$', 'address = "127.0.0.1"', text)
    if not count:
        text = text.replace("[server]", '[server]\naddress = "127.0.0.1"', 1)
    return text


@pytest.fixture(scope="module")
def provider() -> Iterator[OIDCProvider]:
    with OIDCProvider(email=SAM[2], name=SAM[0]) as p:
        yield p


@pytest.fixture(scope="module")
def sso_server(demo_db_template, tmp_path_factory, provider) -> Iterator[Server]:
    """`streamlit run dashboard/app.py` with cwd = a directory holding .streamlit/secrets.toml
    ([auth] -> the mock provider) and a copy of the project's config.toml."""
    workdir = tmp_path_factory.mktemp("sso")
    db = workdir / "o2r.duckdb"
    shutil.copyfile(demo_db_template, db)
    security_db = workdir / "o2r-security.sqlite"
    accounts.add_user(security_db, SAM[0], SAM[1], email=SAM[2])
    accounts.add_user(security_db, RITA[0], RITA[1], email=RITA[2])

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = workdir / ".streamlit"
    settings.mkdir()
    (settings / "config.toml").write_text(_config_toml())
    (settings / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "{base}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        f'client_id = "{provider.client_id}"\n'
        f'client_secret = "{provider.client_secret}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n')

    env = {**os.environ, "O2R_DB": str(db), "O2R_SECURITY_DB": str(security_db),
           # Streamlit fetches the provider's metadata, keys and tokens server-side (httpx):
           # never through a proxy that may be set in the environment.
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    log_path = workdir / "streamlit.log"
    server = Server(base, log_path, security_db, provider)
    with streamlit_server(ROOT / "dashboard" / "app.py", port, workdir, env, log_path,
                          server.diagnostics):
        yield server


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    """A fresh context per test: its own cookie jar, so no identity cookie is carried over."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def wait_until_idle(pg, timeout_ms: int = PAGE_TIMEOUT_MS, stable_s: float = 0.5) -> None:
    # Longer than the page tests' settle time: st.login and st.logout redirect in between.
    settle(pg, timeout_ms, stable_s=stable_s)


def sidebar_text(pg) -> str:
    sidebar = pg.locator('[data-testid="stSidebar"]')
    return sidebar.inner_text() if sidebar.count() else ""


def main_text(pg) -> str:
    return pg.locator('[data-testid="stMain"]').inner_text()


def identity_cookie(pg) -> str | None:
    for cookie in pg.context.cookies():
        if cookie["name"] == STREAMLIT_USER_COOKIE:
            return cookie["value"]
    return None


def open_sign_in_page(pg, server: Server) -> None:
    pg.goto(server.url + "/")
    wait_until_idle(pg)
    assert pg.get_by_text("Sign in with your force account", exact=True).count() == 1, (
        f"no single sign-on section on the sign-in page:\n{main_text(pg)}\n"
        f"{server.diagnostics()}")


def single_sign_on(pg, server: Server, email: str, name: str) -> None:
    """Click "Sign in" under "Sign in with your force account" as this provider user, and
    follow the redirects back to the app."""
    server.provider.set_user(email, name)
    open_sign_in_page(pg, server)
    tokens_before = len(server.provider.issued_id_tokens)
    # Two buttons are labelled "Sign in" (single sign-on, and the local-account form): take the
    # one in the single sign-on section (its widget key is sso_sign_in).
    button = pg.locator(".st-key-sso_sign_in").get_by_role("button", name="Sign in", exact=True)
    assert button.count() == 1, server.diagnostics()
    button.click()
    deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
    while len(server.provider.issued_id_tokens) == tokens_before:
        if time.monotonic() > deadline:
            pytest.fail(f"the provider issued no id_token (browser at {pg.url})\n"
                        f"{server.diagnostics()}")
        time.sleep(0.1)
    pg.wait_for_url(lambda url: urlparse(url).path == "/", timeout=PAGE_TIMEOUT_MS)
    wait_until_idle(pg)


def wait_for_sign_in_page(pg, server: Server) -> None:
    """After st.logout the browser goes /auth/logout -> provider /logout -> /oauth2callback ->
    /: wait until it has come back to a settled sign-in page. A session ended on a page (a
    revoked account's next click) shows the sign-in form at that page's address."""
    deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
    while True:
        wait_until_idle(pg)
        if (pg.get_by_text("Sign in with your force account", exact=True).count() == 1
                and urlparse(pg.url).netloc == urlparse(server.url).netloc
                and not urlparse(pg.url).path.startswith(("/auth", "/oauth2callback"))):
            wait_until_idle(pg, stable_s=1.0)  # a redirect may still be on its way
            if pg.get_by_text("Sign in with your force account", exact=True).count() == 1:
                return
        if time.monotonic() > deadline:
            pytest.fail(f"not back on the sign-in page (at {pg.url}):\n{main_text(pg)}\n"
                        f"{server.diagnostics()}")
        time.sleep(0.2)


def wait_until(condition, what: str, pg, server: Server) -> None:
    deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what} (at {pg.url})\n{server.diagnostics()}")
        time.sleep(0.1)


def access_log(server: Server, who: str) -> list[tuple[str, str]]:
    """(action, outcome) of the access log's rows for who."""
    with closing(security_file.connect(server.security_db)) as con:
        return [tuple(row) for row in con.execute(
            "select action, outcome from access_log where who = ? order by id", (who,))]


def test_known_email_is_signed_in_with_its_role(sso_server, page):
    name, role, email = SAM
    single_sign_on(page, sso_server, email, name)

    assert f"Signed in as {name} ({role})" in sidebar_text(page), (
        f"sidebar: {sidebar_text(page)!r}\nmain: {main_text(page)!r}\n{sso_server.diagnostics()}")
    assert "Offender to Rehab: at a glance" in main_text(page), main_text(page)
    active = page.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')
    assert active.count() == 1 and "Overview" in active.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0, sso_server.diagnostics()
    assert identity_cookie(page), "st.login set no identity cookie"

    # The flow was a real one: Streamlit sent state and nonce, got the state back and accepted
    # an id_token carrying its nonce; it used PKCE (the metadata offers S256).
    authorize = [params for method, path, params in sso_server.provider.requests
                 if path == "/authorize"][-1]
    assert authorize["state"] and authorize["nonce"]
    assert authorize.get("code_challenge_method") == "S256"
    assert sso_server.provider.issued_id_tokens[-1]["nonce"] == authorize["nonce"]
    assert sso_server.provider.issued_id_tokens[-1]["email"] == email
    assert not sso_server.provider.errors

    # Still signed in after moving to another page by its sidebar link.
    page.locator('[data-testid="stSidebarNav"] a').filter(
        has=page.get_by_text("Methodology", exact=True)).click()
    page.wait_for_url(lambda url: urlparse(url).path == "/methodology")
    wait_until_idle(page)
    assert f"Signed in as {name} ({role})" in sidebar_text(page)
    # Logged under the dashboard name, like every later view of theirs.
    assert ("sign-in", "ok") in access_log(sso_server, name)


def sign_out_of_force_account(page, server: Server) -> None:
    page.get_by_role("button", name="Sign out of the force account and try another").click()
    wait_until(lambda: identity_cookie(page) is None, "the identity cookie to be cleared",
               page, server)
    # The dashboard's response clears the cookie and sends the browser on to the provider's
    # logout, which a loaded machine may reach a moment later.
    wait_until(lambda: "/logout" in server.provider.paths(),
               "the provider to be asked to sign the force account out", page, server)
    wait_for_sign_in_page(page, server)


def test_unknown_email_is_refused_told_why_and_logged(sso_server, page):
    name, email = STRANGER
    single_sign_on(page, sso_server, email, name)
    wait_for_sign_in_page(page, sso_server)

    assert "Signed in as" not in sidebar_text(page)
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert "programme overview" not in main_text(page)
    assert REFUSED_MESSAGE in main_text(page), main_text(page)
    assert access_log(sso_server, email) == [("sign-in", "failed")]
    # Reloading does not sign the stranger in; signing out of the force account works.
    page.reload()
    wait_for_sign_in_page(page, sso_server)
    assert "Signed in as" not in sidebar_text(page)
    sign_out_of_force_account(page, sso_server)
    assert "Signed in as" not in sidebar_text(page)


def test_provider_without_email_claim_is_refused_with_a_message(sso_server, page):
    single_sign_on(page, sso_server, None, "No Email Claim")
    assert page.locator('[data-testid="stException"]').count() == 0, sso_server.diagnostics()
    wait_for_sign_in_page(page, sso_server)
    assert "Signed in as" not in sidebar_text(page)
    assert "did not share an email address" in main_text(page)


def test_revoked_while_signed_in_is_signed_out_on_next_click(sso_server, page):
    name, role, email = RITA
    single_sign_on(page, sso_server, email, name)
    assert f"Signed in as {name} ({role})" in sidebar_text(page), (
        f"{sidebar_text(page)!r}\n{sso_server.diagnostics()}")
    assert identity_cookie(page)

    # The identity cookie stays valid for 30 days; revoking must still end the session.
    accounts.revoke_user(sso_server.security_db, name)
    page.locator('[data-testid="stSidebarNav"] a').filter(
        has=page.get_by_text("Methodology", exact=True)).click()
    wait_for_sign_in_page(page, sso_server)

    assert "Signed in as" not in sidebar_text(page)
    assert "Methodology and definitions" not in main_text(page)
    assert "not active" in main_text(page), main_text(page)
    page.reload()  # the force cookie is still valid: the revoked account is refused again
    wait_for_sign_in_page(page, sso_server)
    assert "Signed in as" not in sidebar_text(page)
    sign_out_of_force_account(page, sso_server)
