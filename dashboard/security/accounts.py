"""Accounts: users with Argon2 passwords and their roles, signing in with lock-out, and idle
expiry. Every change of an account is recorded in the access log in the same transaction."""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import hmac
import os
import sqlite3
import unicodedata
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dashboard import config
from dashboard.security import audit, officer_links
from dashboard.security.access import DEMO_UPLOADER, DEMO_VIEWERS
from dashboard.security.audit import AccessLogError, Action, Actor, Who
from dashboard.security.officer_links import refuse_shared_officer_names, refuse_unallocated
from dashboard.security.security_file import (
    ROLES,
    connect,
    install_key,
    reading,
    transaction,
    utc_text,
)

MIN_PASSWORD_LENGTH = 8
COMMAND_LINE = "command line"
SIGN_IN_REASONS = ("ok", "wrong name or password", "locked", "revoked")
USER_COLUMNS = "name, role, email, active"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    officer_names: tuple[str, ...]
    email: str | None
    active: bool
    # Changes whenever the password does (password_stamp): a session signed in with the old
    # one ends. Not part of what a user is, so two readings compare equal across a change.
    password_stamp: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SignInResult:
    ok: bool
    user: User | None
    reason: str


def login_name() -> str:
    """The operating system's name for whoever runs the command line."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown login"


def lockout_attempts() -> int:
    """How many failed sign-ins in a row lock a name."""
    return config.setting("O2R_LOCKOUT_ATTEMPTS")


def lockout_minutes() -> int:
    """How long, after the last failure, a locked name stays locked."""
    return config.setting("O2R_LOCKOUT_MINUTES")


def session_idle_minutes() -> int:
    """How many idle minutes end a session."""
    return config.setting("O2R_SESSION_IDLE_MINUTES")


def session_expired(last_activity: dt.datetime, now: dt.datetime | None = None) -> bool:
    """True when the session has been idle for session_idle_minutes() or more."""
    now = now or dt.datetime.now(dt.UTC)
    idle = now.astimezone(dt.UTC) - last_activity.astimezone(dt.UTC)
    return idle >= dt.timedelta(minutes=session_idle_minutes())


# Users -------------------------------------------------------------------------------------

@cache
def hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def dummy_hash() -> str:
    """A hash no password matches, verified for unknown names so they take as long as known."""
    return hasher().hash(os.urandom(32).hex())


def hash_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"A password must have at least {MIN_PASSWORD_LENGTH} characters")
    return hasher().hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return hasher().verify(password_hash or dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def clean_user(name: str, role: str, officer_names: Sequence[str],
               email: str | None) -> tuple[str, tuple[str, ...], str | None]:
    """The stripped name, officer names and email, or ValueError saying what is wrong."""
    name = (name or "").strip()
    if not name:
        raise ValueError("A user needs a name")
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; roles are {', '.join(ROLES)}")
    if isinstance(officer_names, str):
        officer_names = [officer_names]
    officers = tuple(dict.fromkeys(o.strip() for o in officer_names if o and o.strip()))
    if role == "officer" and not officers:
        raise ValueError(f"Officer {name!r} needs at least one officer name: the name(s) the "
                         "tracker uses for them, e.g. --officer \"Officer 1\"")
    if role != "officer" and officers:
        raise ValueError(f"Only officers have officer names; {name!r} is {role}")
    refuse_unallocated(officers)
    email = (email or "").strip() or None
    if email is not None and ("@" not in email or any(c.isspace() for c in email)):
        raise ValueError(f"{email!r} is not an email address")
    for what, text in (("name", name), *(("officer name", o) for o in officers),
                       ("email", email or "")):
        if any(unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp")
               for c in text):
            # A line break, terminal escape or right-to-left override would garble or disguise
            # the name in the access log, the Users page and `users list` on a terminal.
            raise ValueError(f"The {what} {text!r} holds a control or invisible character: "
                             "type it again")
    return name, officers, email


def acting(con: sqlite3.Connection, actor: str | Actor) -> Actor:
    """Who made a change: a signed-in viewer as they are, a name with the role of its account
    (the command line has none)."""
    if not isinstance(actor, str):
        return actor
    row = con.execute("select role from users where name = ?", (actor,)).fetchone()
    return Who(actor, row[0] if row else None)


def find_user(con: sqlite3.Connection, name_or_email: str, *, email_only: bool = False
              ) -> tuple[User, str | None] | None:
    """The user and their password hash; a name match wins over an email match."""
    key = (name_or_email or "").strip()
    if email_only:
        row = con.execute(f"select {USER_COLUMNS}, password_hash from users where email = ?",  # noqa: S608 (identifiers from code, values bound)
                          (key,)).fetchone()
    else:
        row = con.execute(
            f"select {USER_COLUMNS}, password_hash from users where name = ? or email = ? "  # noqa: S608 (identifiers from code, values bound)
            "order by name = ? desc limit 1", (key, key, key)).fetchone()
    if row is None:
        return None
    officers = tuple(o for (o,) in con.execute(
        "select officer_name from user_officers where name = ? order by rowid", (row[0],)))
    return User(row[0], row[1], officers, row[2], bool(row[3]), password_stamp(row[4])), row[4]


def password_stamp(password_hash: str | None) -> str | None:
    """A short digest of the stored hash: it says whether the password changed, not what it is."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16] if password_hash else None


def add_user(path: str | os.PathLike, name: str, role: str, password: str | None = None,
             officer_names: Sequence[str] = (), email: str | None = None, *,
             actor: str | Actor = COMMAND_LINE) -> User:
    """Creates a user and returns it. No password means single sign-on only."""
    name, officers, email = clean_user(name, role, officer_names, email)
    if name.casefold() in {n.casefold() for n in (*(v.name for v in DEMO_VIEWERS.values()),
                                                   DEMO_UPLOADER)}:
        # A demo sign-out, logged under this name, would end the real account's sessions.
        raise ValueError(f"{name!r} is a demo account's name: choose another")
    password_hash = None if password is None else hash_password(password)
    moment = dt.datetime.now(dt.UTC)
    now = utc_text(moment)
    with transaction(path) as con:
        for key in filter(None, (name, email)):
            if find_user(con, key) is not None:
                raise ValueError(f"There is already a user with the name or email {key!r}")
        refuse_shared_officer_names(con, name, officers)
        con.execute("insert into users (name, role, password_hash, email, active, created_at, "
                    "updated_at) values (?, ?, ?, ?, 1, ?, ?)",
                    (name, role, password_hash, email, now, now))
        con.executemany("insert into user_officers (name, officer_name) values (?, ?)",
                        [(name, officer) for officer in officers])
        audit.record_in(con, acting(con, actor), Action.USER_ADD, target=name, at=moment,
                        detail=f"role {role}; "
                        + ("password" if password_hash else "single sign-on")
                        + (f"; officer names {officer_links.listed(officers)}" if officers
                           else ""))
        return find_user(con, name)[0]


def existing_name(con: sqlite3.Connection, name: str) -> str:
    found = find_user(con, name)
    if found is None:
        raise ValueError(f"There is no user {name!r}")
    return found[0].name


def set_password(path: str | os.PathLike, name: str, password: str, *,
                 actor: str | Actor = COMMAND_LINE) -> None:
    """Replaces a user's password."""
    password_hash = hash_password(password)
    moment = dt.datetime.now(dt.UTC)
    now = utc_text(moment)
    with transaction(path) as con:
        name = existing_name(con, name)
        con.execute("update users set password_hash = ?, updated_at = ? where name = ?",
                    (password_hash, now, name))
        audit.record_in(con, acting(con, actor), Action.USER_SET_PASSWORD, target=name,
                        at=moment)


def revoke_user(path: str | os.PathLike, name: str, *,
                actor: str | Actor = COMMAND_LINE) -> None:
    """Deactivates a user; the row stays so the access log still names them."""
    _set_active(path, name, False, actor)


def reactivate_user(path: str | os.PathLike, name: str, *,
                    actor: str | Actor = COMMAND_LINE) -> None:
    """Lets a revoked user sign in again, with the role and officer names they had."""
    _set_active(path, name, True, actor)


def _set_active(path: str | os.PathLike, name: str, active: bool,
                actor: str | Actor) -> None:
    moment = dt.datetime.now(dt.UTC)
    now = utc_text(moment)
    with transaction(path) as con:
        name = existing_name(con, name)
        if active:  # their names may have been linked to someone else while revoked
            officers = find_user(con, name)[0].officer_names
            refuse_unallocated(officers)
            refuse_shared_officer_names(con, name, officers)
        con.execute("update users set active = ?, updated_at = ? where name = ?",
                    (int(active), now, name))
        audit.record_in(con, acting(con, actor),
                        Action.USER_REACTIVATE if active else Action.USER_REVOKE, target=name,
                        at=moment)


def set_officer_names(path: str | os.PathLike, name: str, officer_names: Sequence[str], *,
                      actor: str | Actor = COMMAND_LINE) -> User:
    """Replaces the tracker officer names an officer's account sees (their own referrals)."""
    moment = dt.datetime.now(dt.UTC)
    now = utc_text(moment)
    with transaction(path) as con:
        user = find_user(con, existing_name(con, name))[0]
        _, officers, _ = clean_user(user.name, user.role, officer_names, user.email)
        if user.active:
            refuse_shared_officer_names(con, user.name, officers)
        con.execute("delete from user_officers where name = ?", (user.name,))
        con.executemany("insert into user_officers (name, officer_name) values (?, ?)",
                        [(user.name, officer) for officer in officers])
        con.execute("update users set updated_at = ? where name = ?", (now, user.name))
        audit.record_in(con, acting(con, actor), Action.USER_LINK, target=user.name,
                        detail=f"officer names {officer_links.listed(officers)}", at=moment)
        return find_user(con, user.name)[0]


def get_user(path: str | os.PathLike, name_or_email: str) -> User | None:
    """The user with this name or email (either case), or None. Not logged: called per rerun."""
    with reading(path) as con:
        found = find_user(con, name_or_email)
    return found[0] if found else None


def last_sign_out(path: str | os.PathLike, name: str, *, chosen_only: bool = False
                  ) -> dt.datetime | None:
    """When the account `name` last signed out or was signed out (timed out, revoked), or
    None; `chosen_only`: only when they clicked Sign out (an entry with no detail)."""
    with reading(path) as con:
        (ended,) = con.execute(
            "select max(at) from access_log where lower(who) = lower(?) and action = ? "
            "and (detail is null or not ?)", (name, Action.SIGN_OUT.value, chosen_only)
        ).fetchone()
    return dt.datetime.fromisoformat(ended) if ended else None


def get_user_by_email(path: str | os.PathLike, email: str) -> User | None:
    """The user whose email this is (single sign-on matches on email alone), or None."""
    with reading(path) as con:
        found = find_user(con, email, email_only=True)
    return found[0] if found else None


def list_users(path: str | os.PathLike, *, actor: str | Actor = COMMAND_LINE) -> list[User]:
    """Every user, revoked ones included, by name."""
    with transaction(path) as con:
        names = [n for (n,) in con.execute("select name from users order by name collate nocase")]
        users = [find_user(con, n)[0] for n in names]
        audit.record_in(con, acting(con, actor), Action.USER_LIST)
    return users


# Signing in --------------------------------------------------------------------------------

def locked(con: sqlite3.Connection, key: str, now: dt.datetime) -> bool:
    """True after lockout_attempts() failures in a row within lockout_minutes() of each other,
    until lockout_minutes() have passed since the last. Attempts refused as locked don't count,
    so a lock cannot be extended by hammering it."""
    attempts, window = lockout_attempts(), dt.timedelta(minutes=lockout_minutes())
    rows = con.execute(
        "select at, outcome from access_log where lower(who) = lower(?) and action = 'sign-in' "
        "and outcome in ('ok', 'failed') order by at desc, id desc limit ?",
        (key, attempts)).fetchall()
    if len(rows) < attempts or any(outcome != "failed" for _, outcome in rows):
        return False
    last, first = (dt.datetime.fromisoformat(rows[i][0]) for i in (0, -1))
    return last - first <= window and now - last < window


def sign_in(path: str | os.PathLike, name: str, password: str,
            now: dt.datetime | None = None) -> SignInResult:
    """Checks a name (or email) and password; every attempt is logged. Never says whether a
    name exists: unknown names cost the same hash check and lock out the same way."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    with closing(connect(path)) as con:
        found = find_user(con, name)
        key = found[0].name if found else unknown_name_tag(con, name)
        if locked(con, key, now):  # skip the costly hash check while locked
            return record_sign_in(path, key, found, "locked", now)
    user, password_hash = found or (None, None)
    matches = password_matches(password_hash, password or "")
    if not matches:
        return record_sign_in(path, key, found, "wrong name or password", now,
                              "wrong password" if password_hash else
                              "no password (single sign-on only)" if found else "unknown name")
    if not user.active:
        return record_sign_in(path, key, found, "revoked", now)
    return record_sign_in(path, key, found, "ok", now, new_hash=rehashed(password_hash, password))


def unknown_name_tag(con: sqlite3.Connection, typed: str) -> str:
    """How the access log names a sign-in under a name no account has. Not as typed: people
    type their password into the name box, and the log is read by every administrator. A
    keyed digest instead (the key is this installation's own), so the tries of one name are
    seen together and lock out together, and the text cannot be read back or guessed from the
    log alone."""
    folded = unicodedata.normalize("NFKC", (typed or "").strip()).casefold()
    digest = hmac.new(install_key(con, "unknown sign-in names"), folded.encode(), "sha256")
    return f"unknown name #{digest.hexdigest()[:12]}"


def rehashed(password_hash: str, password: str) -> str | None:
    """A fresh hash if the stored one used weaker settings than today's."""
    return hasher().hash(password) if hasher().check_needs_rehash(password_hash) else None


def record_sign_in(path: str | os.PathLike, key: str, found: tuple[User, str | None] | None,
                   reason: str, now: dt.datetime, detail: str | None = None,
                   new_hash: str | None = None) -> SignInResult:
    """Logs the attempt and returns its result. The lock is checked again inside the write
    transaction, so attempts made in parallel cannot get more than lockout_attempts() answers."""
    user = found[0] if found else None
    try:
        with transaction(path) as con:
            if reason != "locked" and locked(con, key, now):
                reason, detail = "locked", None
            outcome = {"ok": "ok", "locked": "locked"}.get(reason, "failed")
            if new_hash and reason == "ok":
                con.execute("update users set password_hash = ? where name = ?",
                            (new_hash, user.name))
            audit.record_in(con, Who(key, user.role if user else None), Action.SIGN_IN,
                            outcome=outcome, at=now,
                            detail=detail or (reason if reason != "ok" else None))
    except sqlite3.Error as exc:
        raise AccessLogError(f"The sign-in could not be logged ({exc}); try again.") from exc
    if new_hash and reason == "ok":
        user = replace(user, password_stamp=password_stamp(new_hash))
    return SignInResult(reason == "ok", user if reason == "ok" else None, reason)
