"""Sessions against attack: what a session was shown it may take away only while it is still
signed in as then, and signing in is never let through unlogged nor answered by a traceback."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from contextlib import closing

import pytest
from streamlit.elements.widgets import button

from dashboard import service
from dashboard.security import accounts, audit, sign_in

from conftest import run_cli

REFERRALS = "../pages/referral_list.py"


@pytest.fixture
def handed_over(monkeypatch) -> list:
    """What each download button shown hands over on its click (Streamlit calls it then, in
    another thread and with no rerun): the callables given to Streamlit, newest last."""
    given: list = []
    real = button.marshall_file

    def capture(coordinates, data, *args, **kwargs):
        if callable(data):
            given.append(data)
        return real(coordinates, data, *args, **kwargs)
    monkeypatch.setattr(button, "marshall_file", capture)
    return given


def shown_referrals(app_as, handed_over, **who):
    app = app_as(**who).run()
    app.switch_page(REFERRALS)
    app.run()
    assert not app.exception and handed_over, "the referral list offered its download"
    return app, handed_over[-1]


def exports_logged(path) -> list[tuple[str, str]]:
    log = audit.read_log(path, action="export")
    return list(zip(log["outcome"], log["detail"].fillna(""), strict=True))


def test_a_download_is_handed_over_while_the_session_holds(app_as, handed_over, security_db):
    _, download = shown_referrals(app_as, handed_over, role="steering", name="Steering Sam")
    assert download().startswith(b"\xef\xbb\xbfnominal_id")
    assert exports_logged(security_db) == [("ok", "")]


@pytest.mark.parametrize("ended, why", [
    (lambda app, db: accounts.revoke_user(db, "PC One"), "not active"),
    (lambda app, db: accounts.set_officer_names(db, "PC One", ["Officer 2"]),
     "officer names changed"),
    (lambda app, db: app.session_state[sign_in.SESSION_KEY].update(
        last_activity=dt.datetime.now(dt.UTC) - dt.timedelta(
            minutes=accounts.session_idle_minutes() + 1)), "timed out"),
])
def test_a_download_shown_before_the_session_ended_is_refused_and_logged(
        app_as, handed_over, security_db, ended, why):
    # The page is still on screen; the click reruns nothing, so only the download checks.
    app, download = shown_referrals(app_as, handed_over, role="officer", name="PC One",
                                    officers=("Officer 1",))
    ended(app, security_db)
    with pytest.raises(sign_in.SessionEnded, match=why):
        download()
    [(outcome, detail)] = exports_logged(security_db)
    assert outcome == "refused" and why in detail


def test_a_download_shown_before_signing_out_is_refused(app_as, handed_over, security_db):
    app, download = shown_referrals(app_as, handed_over, role="admin", name="Admin Ann")
    app.button(key="sign_out").click().run()
    with pytest.raises(sign_in.SessionEnded, match="signed out"):
        download()


# --- signing in when the access log cannot be written ---------------------------------------

def log_broken(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise audit.AccessLogError("The access log could not be written (disk full)")
    monkeypatch.setattr(audit, "record", refuse)


def shows_the_sign_in_page_in_words(app) -> str:
    assert not app.exception, [e.value for e in app.exception]
    assert [t.value for t in app.title] == ["Offender to Rehab dashboard"]
    return " ".join(e.value for e in (*app.error, *app.info))


SSO_SECRETS = {"redirect_uri": "http://localhost:8501/oauth2callback",
               "cookie_secret": "not a secret", "client_id": "id",
               "client_secret": "not a secret",
               "server_metadata_url": "http://localhost/.well-known"}


def test_a_single_sign_on_that_cannot_be_logged_does_not_sign_in(app_as, security_db,
                                                                  monkeypatch):
    accounts.add_user(security_db, "Sso Sam", "steering", email="sam@force.example")
    app = app_as(None)
    app.secrets["auth"] = SSO_SECRETS
    app.user = {"is_logged_in": True, "email": "Sam@Force.Example",  # case differs: matched
                "iat": int(time.time())}
    with monkeypatch.context() as patch:
        log_broken(patch)
        app.run()
        assert "could not be recorded" in shows_the_sign_in_page_in_words(app)
        app.run()  # still not in: the session was never opened
        shows_the_sign_in_page_in_words(app)
    app.run()  # the log works again: signed in, and logged
    assert app.session_state[sign_in.SESSION_KEY]["name"] == "Sso Sam"
    log = audit.read_log(security_db, action="sign-in")
    assert list(zip(log["who"], log["outcome"], strict=True)) == [("Sso Sam", "ok")]


def sso_session(app_as, claims: dict):
    """A new session (a reload) in a browser holding a force identity with these claims."""
    app = app_as(None)
    app.secrets["auth"] = SSO_SECRETS
    app.user = {"is_logged_in": True, "email": "sam@force.example", **claims}
    return app.run()


def test_a_force_identity_from_before_the_last_sign_out_is_not_taken_again(app_as,
                                                                             security_db):
    """Streamlit's identity cookie lasts 30 days whatever the dashboard does: after the idle
    timeout, a reload signed whoever was at the keyboard straight back in. An identity issued
    before the account's last sign-out here now needs a fresh sign-in with the force."""
    accounts.add_user(security_db, "Sso Sam", "steering", email="sam@force.example")
    sam = {"iat": int(time.time()) - 600}  # within the idle time-out, well before the sign-out
    app = sso_session(app_as, sam)
    assert app.session_state[sign_in.SESSION_KEY]["name"] == "Sso Sam"
    app.session_state[sign_in.SESSION_KEY]["last_activity"] -= dt.timedelta(hours=2)
    app.run()  # idle past the timeout: signed out, and offered the force sign-in again
    assert "period of inactivity" in shows_the_sign_in_page_in_words(app)
    assert [b.label for b in app.button if b.key == "sso_sign_in"] == ["Sign in again"]

    reload = sso_session(app_as, sam)  # a reload: a new session, the same cookie
    assert sign_in.SIGN_IN_AGAIN in shows_the_sign_in_page_in_words(reload)
    assert sign_in.SESSION_KEY not in reload.session_state
    reload.run()  # and asked once: no loop of refusals, no second entry
    assert sign_in.SESSION_KEY not in reload.session_state

    # signed in with the force again since, by a clock a few seconds behind this server's
    fresh = sso_session(app_as, {"iat": int(time.time()) - 5})
    assert fresh.session_state[sign_in.SESSION_KEY]["name"] == "Sso Sam"
    log = audit.read_log(security_db)
    assert list(zip(log["action"], log["outcome"], log["detail"].fillna(""), strict=True))[::-1] \
        == [("user-add", "ok", "role steering; single sign-on"),
            ("sign-in", "ok", "single sign-on (sam@force.example)"),
            ("sign-out", "ok", "Your session ended after a period of inactivity: please sign "
                               "in again."),
            ("sign-in", "refused", "single sign-on: the force identity predates the last "
                                   "sign-out here; asked to sign in again"),
            ("sign-in", "ok", "single sign-on (sam@force.example)")]


def test_a_force_identity_older_than_the_idle_timeout_starts_no_session(app_as, security_db):
    """A tab left idle and then reloaded, without the timed-out session ever running again to
    record its end (the review's case): the identity is older than the timeout, so it is not
    taken, whatever the log says. Nor is one with no usable issue time."""
    accounts.add_user(security_db, "Sso Sam", "steering", email="sam@force.example")
    idle = dt.timedelta(minutes=accounts.session_idle_minutes())
    too_old = int(time.time() - idle.total_seconds()) - 5
    in_ten_years = int(time.time()) + 10 * 365 * 86400  # would pass for the cookie's 30 days
    for claims in ({"iat": too_old}, {}, {"iat": None}, {"iat": "1e12"}, {"iat": True},
                   {"iat": 1e300}, {"iat": in_ten_years}):
        app = sso_session(app_as, claims)
        assert sign_in.SIGN_IN_AGAIN in shows_the_sign_in_page_in_words(app), claims
        assert sign_in.SESSION_KEY not in app.session_state
    assert set(audit.read_log(security_db, action="sign-in")["outcome"]) == {"refused"}


def test_signing_out_in_one_tab_ends_the_others_but_a_timeout_does_not(app_as, security_db):
    """Each tab is a session of its own: after Sign out in one, the others stayed signed in,
    so on a shared computer the next person could carry on in a tab left open (the review).
    A tab that merely timed out must not end the ones in use."""
    first = app_as("steering", name="Sam Steering").run()
    second = app_as("steering", name="Sam Steering").run()
    third = app_as("steering", name="Sam Steering").run()
    third.session_state[sign_in.SESSION_KEY]["last_activity"] -= dt.timedelta(hours=2)
    third.run()  # timed out: signed out with a message
    second.run()
    assert sign_in.SESSION_KEY in second.session_state
    first.button(key="sign_out").click().run()
    second.run()
    assert "You signed out in another tab or window" in shows_the_sign_in_page_in_words(second)
    assert sign_in.SESSION_KEY not in second.session_state
    again = app_as("steering", name="Sam Steering").run()  # a new sign-in is not affected
    assert sign_in.SESSION_KEY in again.session_state


def test_a_sign_out_chosen_on_another_computer_gets_no_clock_leeway(app_as, security_db):
    """Sign out removes the force cookie only from the browser it is clicked in: a reload on
    another computer, with an identity issued 20 s before, passed the 60 s leeway meant for
    time-outs and signed back in (the fourth review)."""
    accounts.add_user(security_db, "Sso Sam", "steering", email="sam@force.example")
    shared_pc = {"iat": int(time.time()) - 20}
    tab = sso_session(app_as, shared_pc)
    elsewhere = sso_session(app_as, {"iat": int(time.time())})
    elsewhere.button(key="sign_out").click().run()
    tab.run()  # the open tab ends, and is offered a fresh force sign-in
    assert sign_in.SESSION_KEY not in tab.session_state
    assert [b.label for b in tab.button if b.key == "sso_sign_in"] == ["Sign in again"]
    reload = sso_session(app_as, shared_pc)
    assert sign_in.SIGN_IN_AGAIN in shows_the_sign_in_page_in_words(reload)
    assert sign_in.SESSION_KEY not in reload.session_state


def test_a_session_from_before_sign_in_times_were_kept_ends_on_a_sign_out(app_as,
                                                                          security_db):
    old = app_as("steering", name="Sam Steering").run()
    del old.session_state[sign_in.SESSION_KEY]["signed_in_at"]  # as sessions were before
    app_as("steering", name="Sam Steering").run().button(key="sign_out").click().run()
    old.run()
    assert sign_in.SESSION_KEY not in old.session_state


def test_a_chosen_sign_out_leaves_the_force_account_even_when_the_log_fails(app_as,
                                                                           security_db,
                                                                           monkeypatch):
    """With the access log unwritable, Sign out kept the force cookie, so a reload signed the
    next person straight back in (the review)."""
    import streamlit

    accounts.add_user(security_db, "Sso Sam", "steering", email="sam@force.example")
    app = sso_session(app_as, {"iat": int(time.time())})
    assert app.session_state[sign_in.SESSION_KEY]["name"] == "Sso Sam"
    other_tab = sso_session(app_as, {"iat": int(time.time())})
    left = []
    monkeypatch.setattr(streamlit, "logout", lambda: left.append(True))
    with monkeypatch.context() as patch:
        log_broken(patch)
        app.button(key="sign_out").click().run()
        assert left == [True] and sign_in.SESSION_KEY not in app.session_state
        other_tab.run()  # ended too, though the log holds no sign-out (the fourth review)
        assert sign_in.SESSION_KEY not in other_tab.session_state
    # the log works again; a reload elsewhere, on an identity from before the sign-out
    reload = sso_session(app_as, {"iat": int(time.time()) - 20})
    assert sign_in.SIGN_IN_AGAIN in shows_the_sign_in_page_in_words(reload)


def test_an_unlogged_sign_out_ends_only_that_accounts_sessions(app_as, security_db,
                                                                 monkeypatch):
    """Kept by the name as stored: "Émile Roux" and "émile roux" are two accounts (the
    users table folds only A-Z), and one's sign-out ended the other's sessions."""
    first = app_as("steering", name="Émile Roux").run()
    second = app_as("steering", name="émile roux").run()
    log_broken(monkeypatch)
    first.button(key="sign_out").click().run()
    second.run()
    assert second.session_state[sign_in.SESSION_KEY]["name"] == "émile roux"


def test_refused_force_identities_never_lock_the_account(app_as, security_db, monkeypatch):
    """Each refused reload was a failed sign-in, so five reloads of a stale tab locked the
    person's password sign-in for 15 minutes."""
    monkeypatch.delenv("O2R_LOCKOUT_ATTEMPTS", raising=False)
    accounts.add_user(security_db, "Sso Sam", "steering", password="the right password",
                      email="sam@force.example")
    for _ in range(accounts.lockout_attempts() + 1):
        sso_session(app_as, {"iat": 0})
    assert accounts.sign_in(security_db, "Sso Sam", "the right password").ok


@pytest.mark.parametrize("claim", [42, ["sam@force.example"], {"value": "sam@force.example"}])
def test_an_email_claim_that_is_not_text_is_refused_in_words(app_as, security_db, claim):
    # A provider's email claim of another type gave Streamlit's error page.
    accounts.add_user(security_db, "Sso Sam", "steering", email="sam@force.example")
    app = app_as(None)
    app.secrets["auth"] = SSO_SECRETS
    app.user = {"is_logged_in": True, "email": claim, "sub": "subject-1"}
    app.run()
    assert "did not share an email address" in shows_the_sign_in_page_in_words(app)
    assert sign_in.SESSION_KEY not in app.session_state


def test_a_local_sign_in_that_cannot_be_logged_is_refused_in_words(app_as, security_db,
                                                                    monkeypatch):
    accounts.add_user(security_db, "Admin Ann", "admin", password="the right password")
    app = app_as(None).run()

    def unwritable(path):
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(accounts, "transaction", unwritable)
    app.text_input(key="sign_in_name").input("Admin Ann")
    app.text_input(key="sign_in_password").input("the right password")
    app.get("form_submit_button")[0].click()
    app.run()
    assert "could not be recorded" in shows_the_sign_in_page_in_words(app)
    assert sign_in.SESSION_KEY not in app.session_state


def test_a_demo_sign_in_that_cannot_be_logged_is_refused_in_words(app_as, monkeypatch):
    app = app_as(None).run()
    log_broken(monkeypatch)
    app.button(key="demo_officer").click().run()
    assert "could not be recorded" in shows_the_sign_in_page_in_words(app)
    assert sign_in.SESSION_KEY not in app.session_state


def test_a_sign_out_that_cannot_be_logged_still_signs_out(app_as, monkeypatch):
    app = app_as("admin").run()
    log_broken(monkeypatch)
    app.button(key="sign_out").click().run()
    assert "access log could not be written" in shows_the_sign_in_page_in_words(app)
    app.run()
    shows_the_sign_in_page_in_words(app)


def test_a_change_that_cannot_be_logged_is_said_in_words(app_as, security_db, monkeypatch):
    app = app_as("admin", name="Admin Ann").run()
    app.switch_page("../pages/users.py")
    app.run()

    def unwritable(path):
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(accounts, "transaction", unwritable)
    app.button(key="reset_password").click().run()
    assert not app.exception
    assert "could not be recorded in the access log" in app.error[0].value


# --- the command line -----------------------------------------------------------------------

@pytest.mark.parametrize("as_user", [None, "Steering Sam"])
def test_person_level_rows_read_on_the_command_line_are_logged_with_the_login(
        demo_db, security_db, as_user):
    accounts.add_user(security_db, "Steering Sam", "steering", password="long enough password")
    code, out, _ = run_cli("query", "referral_list", "--param", "officer=Officer 1",
                           "--db", str(demo_db), *(["--as-user", as_user] if as_user else []))
    assert code == 0 and "SYN" in out
    [entry] = audit.read_log(security_db, action="view").itertuples()
    ran_it = f"command line ({accounts.login_name()})"
    assert (entry.who, entry.target, entry.detail) == (as_user or ran_it, "referral_list", ran_it)
    assert "Officer 1" in entry.filters


# --- names --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, officers, email", [
    ("Eve\nAdmin Ann", ("Officer 1",), None),
    ("Eve \x1b[2J\x1b[1;1H", ("Officer 1",), None),          # a terminal's clear-screen
    ("Eve", ("Officer 1\u202e2 recifO",), None),              # right-to-left override
    ("Eve", ("Officer 1",), "eve\u200b@force.example"),       # zero-width space
])
def test_names_with_control_or_invisible_characters_are_refused(security_db, name, officers,
                                                                 email):
    with pytest.raises(ValueError, match="control or invisible character"):
        accounts.add_user(security_db, name, "officer", officer_names=officers, email=email)
    accounts.add_user(security_db, "Eve", "officer", officer_names=["Officer 1"])
    with pytest.raises(ValueError, match="control or invisible character"):
        accounts.set_officer_names(security_db, "Eve", [*officers, "Officer\r1"])
    code, _, err = run_cli("users", "add", "Eve\tTwo", "--role", "admin", "--no-password",
                           "--security-db", str(security_db))
    assert code == 2 and "control or invisible character" in err
    assert [(u.name, u.officer_names) for u in accounts.list_users(security_db)] == [
        ("Eve", ("Officer 1",))]


HOSTILE_NAME = "[Ann](javascript:alert(1)) **Admin**"


def shown_text(app) -> list[str]:
    return [e.value for kind in ("success", "error", "markdown")
            for e in app.get(kind) if isinstance(getattr(e, "value", None), str)]


def test_names_on_the_users_page_are_shown_never_interpreted(app_as, security_db):
    app = app_as("admin", name="Admin Ann").run()
    app.switch_page("../pages/users.py").run()
    app.text_input(key="add_name").input(HOSTILE_NAME)
    app.selectbox(key="add_role").select("officer")
    app.text_area(key="add_officers").input("<img src=x onerror=alert(1)>")
    next(b for b in app.button if b.label == "Add the user").click().run()
    shown = shown_text(app)  # "Added ..."
    app.selectbox(key="change_user").select(HOSTILE_NAME).run()
    shown += shown_text(app)  # its status line, with its officer names
    app.text_input(key="add_name").input(HOSTILE_NAME)  # again: refused, naming it
    next(b for b in app.button if b.label == "Add the user").click().run()
    shown += shown_text(app)
    assert [v.split(" ")[0] for v in shown if "javascript" in v] == ["Added", "Not"]
    assert any("onerror" in value for value in shown)
    for value in shown:
        assert not re.search(r"(?<!\\)\]\(javascript|(?<!\\)\*\*Admin|(?<!\\)<img", value), value


def test_a_person_level_query_refused_on_the_command_line_is_no_view(demo_db, security_db):
    accounts.add_user(security_db, "Panel Pat", "scrutiny", password="long enough password")
    accounts.add_user(security_db, "PC One", "officer", officer_names=["Officer 1"],
                      password="long enough password")
    for user, params in (("Panel Pat", []), ("PC One", ["--param", "snapshot_id=1"])):
        code, out, _ = run_cli("query", "referral_list", "--as-user", user, *params,
                               "--db", str(demo_db))
        assert code == 4 and not out
    assert audit.read_log(security_db, action="view").empty


def test_a_users_file_that_cannot_be_read_lets_nobody_in_and_says_so(app_as, monkeypatch):
    app = app_as("steering", name="Steering Sam").run()

    def unreadable(*args, **kwargs):
        raise sqlite3.DatabaseError("file is not a database")
    monkeypatch.setattr(accounts, "get_user", unreadable)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert "cannot read its users and access log file" in app.error[0].value
    assert not app.title and not app.dataframe and not app.get("vega_lite_chart")


# --- demo accounts: one click, no password, for whoever reaches the sign-in page -----------

def test_a_demo_administrator_can_neither_see_nor_change_the_real_accounts(app_as,
                                                                          security_db):
    accounts.add_user(security_db, "Admin Ann", "admin", password="the real admin password",
                      email="ann@force.example")
    accounts.sign_in(security_db, "Admin Ann", "the real admin password")
    app = app_as("admin").run()  # the demo administrator
    app.switch_page("../pages/users.py").run()
    assert not app.exception and not app.dataframe
    assert "cannot see or change" in app.info[0].value
    assert not [b for b in app.button if b.key in ("reset_password", "revoke_user")]
    demo = sign_in.DEMO_VIEWERS["admin"]
    for change in (lambda: service.set_password(demo, "Admin Ann", "chosen by the visitor"),
                   lambda: service.add_user(demo, "Visitor", "admin", "chosen by the visitor"),
                   lambda: service.revoke_user(demo, "Admin Ann"),
                   lambda: service.list_users(demo)):
        with pytest.raises(service.DemoRefused):
            change()
    assert not accounts.sign_in(security_db, "Admin Ann", "chosen by the visitor").ok
    assert [u.name for u in accounts.list_users(security_db)] == ["Admin Ann"]

    app.switch_page("../pages/access_log.py").run()  # the real staff's entries are not shown
    assert not app.exception
    shown = app.dataframe[0].value.to_csv()
    assert "Admin Ann" not in shown and "ann@force.example" not in shown


def test_a_demo_account_cannot_set_the_programmes_targets(app_as, security_db):
    from dashboard.analysis import targets

    app = app_as("steering").run()  # the demo steering-group member, on the Overview
    assert not app.exception
    assert not [b for b in app.button if b.label == "Save the target"]
    assert any("demo account cannot set them" in c.value for c in app.caption)
    with pytest.raises(targets.TargetRefused, match="demo account"):
        service.set_target(sign_in.DEMO_VIEWERS["steering"], "Referrals", 40)
    assert not targets.current(security_db)


def test_a_demo_administrator_cannot_sign_off_a_pack(app_as, demo_db):
    app = app_as("admin").run()
    app.switch_page("../pages/quarterly_pack.py").run()
    assert not app.exception
    assert not [b for b in app.button if b.key == "pack_sign_off"]
    assert any("cannot sign off" in c.value for c in app.caption)
    from dashboard import pack

    issued = pack.issue(demo_db, sign_in.DEMO_VIEWERS["admin"], pack.parse_quarter("2022/23-Q1"),
                        "financial", "controlled")
    with pytest.raises(service.DemoRefused):
        service.sign_off_pack(demo_db, sign_in.DEMO_VIEWERS["admin"], issued)
    assert pack.issue(demo_db, sign_in.DEMO_VIEWERS["admin"], pack.parse_quarter("2022/23-Q1"),
                      "financial", "controlled").signed_off_at is None


# --- the lock-out ---------------------------------------------------------------------------

def test_every_spelling_that_reaches_an_account_counts_against_its_one_lock(security_db,
                                                                           monkeypatch):
    monkeypatch.setenv("O2R_LOCKOUT_ATTEMPTS", "3")
    accounts.add_user(security_db, "Admin Ann", "admin", password="the right password",
                      email="ann@force.example")
    for spelling in ("ADMIN ANN", "  admin ann\u00a0", "Ann@Force.Example"):
        assert accounts.sign_in(security_db, spelling, "a guess").reason == \
            "wrong name or password"
    assert accounts.sign_in(security_db, "Admin Ann", "the right password").reason == "locked"
    # and a name that only looks like it is another name: it cannot sign in to the account
    assert accounts.sign_in(security_db, "Admin\u200bAnn", "the right password").reason == \
        "wrong name or password"


# --- a password reset ends the sessions signed in with the old password ---------------------

def signed_in_through_the_page(app_as, name: str, password: str):
    app = app_as(None).run()
    app.text_input(key="sign_in_name").input(name)
    app.text_input(key="sign_in_password").input(password)
    app.get("form_submit_button")[0].click()
    return app.run()


def test_a_password_reset_ends_the_sessions_signed_in_with_the_old_one(app_as, security_db,
                                                                       handed_over):
    accounts.add_user(security_db, "Steering Sam", "steering", password="the old password")
    app = signed_in_through_the_page(app_as, "Steering Sam", "the old password")
    app.switch_page(REFERRALS)
    app.run()
    assert [t.value for t in app.title] == ["Referral list"]
    download = handed_over[-1]
    accounts.set_password(security_db, "Steering Sam", "a new password")
    with pytest.raises(sign_in.SessionEnded, match="password was changed"):
        download()
    app.run()
    assert "password has been changed" in shows_the_sign_in_page_in_words(app)


def test_a_stronger_hash_made_at_sign_in_keeps_the_session(app_as, security_db):
    from argon2 import PasswordHasher

    accounts.add_user(security_db, "Steering Sam", "steering", password="the password")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("the password")
    with closing(sqlite3.connect(security_db)) as con, con:
        con.execute("update users set password_hash = ? where name = 'Steering Sam'", (weak,))
    app = signed_in_through_the_page(app_as, "Steering Sam", "the password")
    app.run()  # the hash was made again with today's settings as they signed in
    assert [t.value for t in app.title] == ["Offender to Rehab: at a glance"]


def test_a_hostile_name_typed_at_sign_in_never_reaches_the_log(security_db,
                                                                monkeypatch):
    monkeypatch.setenv("O2R_LOCKOUT_ATTEMPTS", "2")
    typed = "Eve\x1b]0;owned\x07\r\n2026-12-01 admin sign-in ok\u202e"
    for _ in range(2):
        assert accounts.sign_in(security_db, typed, "a guess").reason == "wrong name or password"
    assert accounts.sign_in(security_db, typed, "a guess").reason == "locked"  # one key still
    (who,) = set(audit.read_log(security_db, action="sign-in")["who"])
    assert who.startswith("unknown name #") and who.isprintable()  # nothing of it as typed


def test_a_demo_administrator_can_check_a_file_but_neither_store_it_nor_withdraw(app_as,
                                                                              demo_db):
    # One click with no password while the data is the demo: the first file it stored became
    # the dashboard's real data for everyone (and ended the demo), and a withdrawal changed the
    # demo everyone shares.
    before = demo_db.read_bytes()
    app = app_as("admin").run()
    app.switch_page("../pages/data.py").run()
    app.file_uploader[0].set_value((
        "tracker.csv", b"Nominal ID,Referral Date,Referral Source,Status\n"
                       b"AUG1,01/08/2022,Custody,Active\n", "text/csv")).run()
    assert not app.exception
    assert any("The file is valid" in s.value for s in app.success)  # checked, as anyone may
    assert not [b for b in app.button if b.label == "Store this upload"]
    assert any(service.DEMO_STORE == i.value for i in app.info)
    assert not [f for f in app.get("form") if f.form_id == "withdraw_snapshot"]
    assert any(service.DEMO_WITHDRAW == c.value for c in app.caption)
    demo = sign_in.DEMO_VIEWERS["admin"]
    with pytest.raises(service.DemoRefused):
        service.withdraw_snapshot(demo_db, demo, 5, "Wrong as-at date")
    prepared = service.check_upload("tracker", "t.csv", b"Nominal ID,Referral Date,Referral "
                                    b"Source,Status\nAUG1,01/08/2022,Custody,Active\n")
    with pytest.raises(service.DemoRefused):
        service.store_upload(demo_db, prepared, demo)
    assert demo_db.read_bytes() == before
