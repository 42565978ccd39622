"""Sign-in for the app: single sign-on (st.login) or local accounts, and the demo accounts.

Whoever is signed in, their role and officer names are re-read from the users table on every
rerun, so revoking an account takes effect on that person's next click.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from dashboard.security import accounts, audit
from dashboard.security.access import DEMO_VIEWERS, Viewer
from dashboard.security.audit import AccessLogError, Action, Who
from dashboard.security.security_file import security_db_path

T = TypeVar("T")
SESSION_KEY = "signed_in"
SSO_REFUSED = "single_sign_on_refused"
# This session's force-account identity is older than the account's last sign-out here: the
# sign-in page asks for a fresh one (st.login) instead of taking it.
SSO_AGAIN = "single_sign_on_again"
# How far the force's clock may differ from this server's, against a sign-out not chosen
# (a time-out): "Sign in again" just after a time-out was refused while the force's clock ran
# a second behind. No stale identity is this close to one (a time-out comes at least the idle
# time-out after the last sign-in). A chosen sign-out gets no leeway: it removed the cookie
# only from the browser it was made in.
CLOCK_LEEWAY = dt.timedelta(seconds=60)
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
# Chosen sign-outs the access log could not record (the account's name as stored -> when),
# so the account's other sessions in this server process end all the same. Not folded:
# accounts whose names differ beyond A-Z's case ("Émile", "émile") are two.
_UNLOGGED_SIGN_OUTS: dict[str, dt.datetime] = {}
SIGN_IN_AGAIN = ("Please sign in with your force account again: a session here starts only "
                 "from a force sign-in made within the idle time-out, and after your last "
                 "sign-out here.")
NOT_LOGGED = ("Signing in could not be recorded in the access log, so you are not signed in. "
              "Try again, and tell an administrator if it happens again.")


def single_sign_on_configured() -> bool:
    """True when .streamlit/secrets.toml has an [auth] section for st.login."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError):
        return False
    except Exception:  # st.secrets raises its own parse errors for a damaged file
        return False


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def current_viewer(demo_allowed: bool) -> Viewer | None:
    """The signed-in viewer, or None (with the reason in session state for the sign-in page)."""
    session = st.session_state.get(SESSION_KEY)
    if session is None and single_sign_on_configured() and st.user.get("is_logged_in") \
            and SSO_REFUSED not in st.session_state and SSO_AGAIN not in st.session_state:
        session = sign_in_single_sign_on()
    if session is None:
        return None
    if accounts.session_expired(session["last_activity"], now()):
        sign_out("Your session ended after a period of inactivity: please sign in again.",
                 again=True)
        return None
    if session.get("demo"):
        if not demo_allowed:
            sign_out("Demo accounts work only while the dashboard holds demo data.")
            return None
        viewer = DEMO_VIEWERS[session["demo"]]
    else:
        user = accounts.get_user(security_db_path(), session["name"])
        if user is None or not user.active:
            sign_out("Your account is not active: ask an administrator.")
            return None
        if password_changed(session, user):
            sign_out("Your password has been changed: please sign in with the new one.")
            return None
        if signed_out_elsewhere(session, user.name):
            sign_out("You signed out in another tab or window: please sign in again.",
                     again=True)
            return None
        viewer = Viewer(user.name, user.role, tuple(user.officer_names))
    session["last_activity"] = now()
    return viewer


def sign_in_single_sign_on() -> dict | None:
    """Match the force account st.login signed in to a dashboard user, by email alone."""
    email = st.user.get("email")
    if not isinstance(email, str):  # a provider's claim of another type names no address
        email = None
    user = accounts.get_user_by_email(security_db_path(), email) if email else None
    if user is None or not user.active:
        reason = ("Your force account did not share an email address with the dashboard."
                  if not email else "Your force account is not set up for this dashboard, or "
                  "has been revoked: ask an administrator.")
        try:
            audit.record(Who(email or f"single sign-on subject {st.user.get('sub')}"),
                         Action.SIGN_IN, outcome="failed", detail="single sign-on: " + reason)
        except AccessLogError:
            pass  # refused all the same
        refuse_single_sign_on(reason)
        return None
    stale = why_identity_is_stale(user.name)
    if stale:
        try:  # e.g. someone reloading a browser left signed in: worth seeing in the log
            # "refused", not "failed": a reload is no guess, and must not lock the account.
            audit.record(Who(user.name, user.role), Action.SIGN_IN, outcome="refused",
                         detail=f"single sign-on: {stale}; asked to sign in again")
        except AccessLogError:
            pass  # refused all the same
        st.session_state[SSO_AGAIN] = True
        st.session_state["sign_in_message"] = SIGN_IN_AGAIN
        return None
    # Recorded before the session exists: a sign-in that cannot be logged does not happen
    # (the next click tries again).
    try:
        audit.record(Who(user.name, user.role), Action.SIGN_IN, outcome="ok",
                     detail=f"single sign-on ({email})")
    except AccessLogError:
        st.session_state["sign_in_message"] = NOT_LOGGED
        return None
    session = {"name": user.name, "via": "sso", "last_activity": now(), "signed_in_at": now()}
    st.session_state[SESSION_KEY] = session
    return session


def why_identity_is_stale(name: str) -> str | None:
    """Why the force-account identity this browser holds (st.user, from Streamlit's cookie)
    may not start a session for the account `name`, or None if it may. The cookie lasts 30
    days whatever happens here, so a reload after the idle time-out signed whoever was at the
    keyboard straight back in, even when the timed-out session never ran again to record its
    end. An identity starts a session only if the force issued it (the ID token's `iat`)
    within the idle time-out, and after the account's last sign-out here."""
    issued = st.user.get("iat")  # seconds: a claim OpenID Connect requires in an ID token
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        return "the force identity has no issue time"
    try:
        issued_at = dt.datetime.fromtimestamp(issued, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return "the force identity's issue time is not a time"
    if issued_at > now() + CLOCK_LEEWAY:
        return "the force identity's issue time is in the future"
    if accounts.session_expired(issued_at, now()):
        return "the force identity was issued longer ago than the idle time-out"
    path = security_db_path()
    chosen = last_chosen_sign_out(name, path)
    if chosen > EARLIEST and issued < int(chosen.timestamp()):
        # No leeway: the cookie of a sign-out chosen on another computer is still on this one.
        return "the force identity predates the last sign-out here"
    ended = accounts.last_sign_out(path, name)
    if ended is not None and issued_at < ended - CLOCK_LEEWAY:
        return "the force identity predates the last sign-out here"
    return None


def refuse_single_sign_on(reason: str) -> None:
    # The identity provider's cookie would sign them straight back in: remember the refusal
    # for this session and let the sign-in page offer to sign out of the force account.
    st.session_state[SSO_REFUSED] = True
    st.session_state["sign_in_message"] = reason


def sign_in_local(name: str, password: str) -> str | None:
    """Signs in with a local account; returns the reason on failure."""
    try:
        result = accounts.sign_in(security_db_path(), name, password)
    except (AccessLogError, sqlite3.Error):
        return NOT_LOGGED
    if not result.ok:
        return {"locked": "Too many failed attempts: this account is locked for "
                          f"{accounts.lockout_minutes()} minutes.",
                "revoked": "This account is not active: ask an administrator."
                }.get(result.reason, "Wrong name or password.")
    st.session_state[SESSION_KEY] = {"name": result.user.name, "via": "local",
                                     "password_stamp": result.user.password_stamp,
                                     "last_activity": now(), "signed_in_at": now()}
    return None


def sign_in_demo(role: str) -> str | None:
    """Signs in with a demo account; returns the reason on failure."""
    viewer = DEMO_VIEWERS[role]
    try:
        audit.record(viewer, Action.SIGN_IN, outcome="ok", detail="demo account")
    except AccessLogError:
        return NOT_LOGGED
    st.session_state[SESSION_KEY] = {"name": viewer.name, "demo": role, "via": "demo",
                                     "last_activity": now()}
    return None


class SessionEnded(PermissionError):
    """The session that offered something (a download) no longer may have it."""


def while_signed_in(work: Callable[[], T], target: str) -> Callable[[], T]:
    """work, to be called later outside this script run: a download button's click hands its
    file over in another thread, with no rerun, so nothing else checks the session then. It
    runs only while this session is still signed in as now: not signed out, not idle past the
    timeout, the account still active with the same role and officer names (the file was made
    for those). Otherwise the refusal is logged and SessionEnded raised, so nothing is given."""
    session = st.session_state.get(SESSION_KEY)
    viewer = st.session_state.get("viewer")
    path = security_db_path()

    def guarded() -> T:
        refusal = why_not_still(session, viewer, path)
        if refusal:
            audit.record(viewer or Who("not signed in"), Action.EXPORT, target=target,
                         outcome="refused", detail=refusal, path=path)
            raise SessionEnded(refusal)
        return work()
    return guarded


def why_not_still(session: dict | None, viewer: Viewer | None, path) -> str | None:
    """Why a session (the dict kept in session state, updated on each click) no longer has
    what it had as `viewer`, or None while it does."""
    if session is None or viewer is None or session.get("ended"):
        return "signed out"
    if accounts.session_expired(session["last_activity"], now()):
        return "the session had timed out"
    if session.get("demo"):  # the demo viewers never change, and show synthetic data only
        return None
    user = accounts.get_user(path, session["name"])
    if user is None or not user.active:
        return "the account is not active"
    if password_changed(session, user):
        return "the account's password was changed"
    if signed_out_elsewhere(session, user.name, path):
        return "the account signed out in another tab or window"
    if Viewer(user.name, user.role, tuple(user.officer_names)) != viewer:
        return "the account's role or officer names changed"
    return None


def signed_out_elsewhere(session: dict, name: str, path=None) -> bool:
    """Whether the account clicked Sign out, in another tab or window, after this session
    signed in: on a shared computer the next person could carry on in a tab left open. Only a
    chosen sign-out counts; a tab that timed out ends no other."""
    # A session from before sessions kept this counts as the oldest: any sign-out ends it.
    return last_chosen_sign_out(name, path) > session.get("signed_in_at", EARLIEST)


def last_chosen_sign_out(name: str, path=None) -> dt.datetime:
    """When the account last clicked Sign out, logged or not (EARLIEST if never)."""
    return max(accounts.last_sign_out(path or security_db_path(), name, chosen_only=True)
               or EARLIEST, _UNLOGGED_SIGN_OUTS.get(name, EARLIEST))


def password_changed(session: dict, user: accounts.User) -> bool:
    """Whether a session signed in with a password is older than the account's password now:
    an administrator resets a password to shut out whoever else knew it."""
    return "password_stamp" in session and session["password_stamp"] != user.password_stamp


def sign_out(message: str | None = None, *, again: bool = False) -> None:
    """Ends the session, saying `message` on the sign-in page; no message: the person chose
    to sign out. `again`: a single sign-on session is offered a fresh sign-in with the force
    account (a timeout), not a sign-out of it (a refusal)."""
    chosen = message is None
    session = st.session_state.pop(SESSION_KEY, None)
    if session:
        session["ended"] = True  # for anything offered before, still holding it (while_signed_in)
        try:
            audit.record(Who(session["name"]), Action.SIGN_OUT, outcome="ok", detail=message)
        except AccessLogError:  # signed out all the same: ending a session is the safe side
            if chosen:  # the account's other tabs on this server end all the same
                _UNLOGGED_SIGN_OUTS[session["name"]] = now()
            message = (message or "You are signed out.") + (
                " The access log could not be written: please tell an administrator.")
    if message:
        st.session_state["sign_in_message"] = message
    if session and session.get("via") == "sso":
        if again:
            st.session_state[SSO_AGAIN] = True
        elif chosen:  # even when the log could not record it: the force cookie must go
            st.logout()
        else:  # refused: say why before leaving the force account
            refuse_single_sign_on(message)
