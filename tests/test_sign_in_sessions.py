"""Sessions against attack: what a session was shown it may take away only while it is still
signed in as then, and signing in is never let through unlogged nor answered by a traceback."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.elements.widgets import button

from dashboard.security import accounts, audit, sign_in

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
