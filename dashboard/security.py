"""Users and the append-only access log, kept in a SQLite file beside the data.

Why SQLite and not the DuckDB data file: the data file is only ever replaced whole on upload
(copy-on-write) and DuckDB allows one writing process, while the access log is written on every
page view by many Streamlit server threads and by the command line at once. SQLite in WAL mode
with a busy timeout lets all of them append safely, and survives the data file being replaced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dashboard import config

if TYPE_CHECKING:  # loaded by read_log only, so the command line starts quickly
    import pandas as pd

ROLES = ("officer", "steering", "scrutiny", "admin")
MIN_PASSWORD_LENGTH = 8
BUSY_TIMEOUT_MS = 10_000
SCHEMA_VERSION = 2  # 2: the access log is a hash chain
COMMAND_LINE = "command line"
SYSTEM = "dashboard (log check)"
SIGN_IN_REASONS = ("ok", "wrong name or password", "locked", "revoked")


# Entry 1 chains from this fixed value, so a log cut short at its start is caught too.
GENESIS_HASH = "0" * 64
LOG_COLUMNS = ("id", "at", "who", "role", "action", "target", "filters", "outcome", "detail")
# The audit actions, declared once: the Access log page offers these as its filter.
ACTIONS = ("sign-in", "sign-out", "view", "export", "upload", "sign-off", "snapshot-withdraw",
           "user-add", "user-set-password", "user-revoke", "user-list",
           "log-protection-restored", "target-set", "user-reactivate", "user-link")

TABLES = f"""
create table if not exists users (
    name text primary key collate nocase,
    role text not null check (role in ({", ".join(f"'{role}'" for role in ROLES)})),
    password_hash text,
    email text unique collate nocase,
    active integer not null default 1,
    created_at text,
    updated_at text
);
create table if not exists user_officers (
    name text references users(name),
    officer_name text,
    primary key (name, officer_name)
);
create table if not exists access_log (
    id integer primary key autoincrement,
    at text not null,
    who text not null,
    role text,
    action text not null,
    target text,
    filters text,
    outcome text,
    detail text,
    prev_hash text,
    entry_hash text
);
create index if not exists access_log_by_who on access_log (lower(who), action, at);
create index if not exists access_log_by_at on access_log (at);
"""

# SQLite's REPLACE deletes the row it conflicts with without firing delete triggers, so the
# insert trigger is what stops it: an entry must take the next id and carry the last entry's
# hash. REPLACE on an existing id, an explicit id out of turn and an insert without an id
# (SQLite shows it to the trigger as -1) are all refused before any row is touched. The next
# id comes after the highest SQLite ever gave out (sqlite_sequence), not after the last entry
# left: entries deleted from the end then show as a gap before the next one.
TRIGGERS = {
    "access_log_no_update": """
create trigger if not exists access_log_no_update before update on access_log
begin
    select raise(abort, 'access_log is append-only');
end""",
    "access_log_no_delete": """
create trigger if not exists access_log_no_delete before delete on access_log
begin
    select raise(abort, 'access_log is append-only');
end""",
    "access_log_chained_insert": f"""
create trigger if not exists access_log_chained_insert before insert on access_log
when new.id is not max(coalesce((select max(id) from access_log), 0),
                      coalesce((select seq from sqlite_sequence where name = 'access_log'), 0)) + 1
    or new.prev_hash is not coalesce(
        (select entry_hash from access_log order by id desc limit 1), '{GENESIS_HASH}')
    or new.entry_hash is null
begin
    select raise(abort, 'access_log is append-only: next id and last hash only');
end""",  # noqa: S608 (a constant hash, no value from outside)
}

USER_COLUMNS = "name, role, email, active"


class AccessLogError(RuntimeError):
    """The access log could not be written: the view or change must not go ahead."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    officer_names: tuple[str, ...]
    email: str | None
    active: bool


@dataclass(frozen=True)
class SignInResult:
    ok: bool
    user: User | None
    reason: str


def security_db_path(override: str | os.PathLike | None = None) -> Path:
    """The security file: an explicit path, else $O2R_SECURITY_DB, else data/o2r-security.sqlite."""
    chosen = (override or config.setting("O2R_SECURITY_DB")
              or config.ROOT / "data" / "o2r-security.sqlite")
    return Path(chosen).expanduser().resolve()


def lockout_attempts() -> int:
    """How many failed sign-ins in a row lock a name."""
    return config.setting("O2R_LOCKOUT_ATTEMPTS")


def lockout_minutes() -> int:
    """How long, after the last failure, a locked name stays locked."""
    return config.setting("O2R_LOCKOUT_MINUTES")


def session_idle_minutes() -> int:
    """How many idle minutes end a session."""
    return config.setting("O2R_SESSION_IDLE_MINUTES")


def connect(path: str | os.PathLike) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), with the schema in place
    and every protecting trigger of the access log present."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Password hashes and who-saw-what: readable by the server's account only. SQLite gives
    # the -wal and -shm files the same permissions as the database file.
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        con.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
        con.execute("pragma journal_mode = wal")
        con.execute("pragma synchronous = full")  # an audit record survives a power cut
        con.execute("pragma foreign_keys = on")
        if (con.execute("pragma user_version").fetchone()[0] < SCHEMA_VERSION
                or missing_triggers(con)):
            ensure_schema(con)
    except BaseException:
        con.close()
        raise
    return con


def missing_triggers(con: sqlite3.Connection) -> list[str]:
    present = {name for (name,) in con.execute(
        "select name from sqlite_master where type = 'trigger' and tbl_name = 'access_log'")}
    return [name for name in TRIGGERS if name not in present]


def ensure_schema(con: sqlite3.Connection) -> None:
    """Creates what is missing, in one write transaction: the tables; on a log written before
    the hash chain, the hash columns, with its entries chained once as they stand; and any
    trigger someone removed, which is put back and recorded in the log itself."""
    con.execute("begin immediate")
    try:
        version = con.execute("pragma user_version").fetchone()[0]  # another may have won
        for statement in TABLES.split(";"):
            if statement.strip():
                con.execute(statement)
        if version < 2:
            chain_existing_entries(con)
        missing = missing_triggers(con)
        for name in missing:
            con.execute(TRIGGERS[name])
        if missing and version >= SCHEMA_VERSION:
            append_log(con, utc_text(), SYSTEM, None, "log-protection-restored",
                       target=", ".join(missing), outcome="restored",
                       detail="removed outside the dashboard; put back when next opened")
        con.execute(f"pragma user_version = {SCHEMA_VERSION}")
    except BaseException:
        con.rollback()
        raise
    con.commit()


def chain_existing_entries(con: sqlite3.Connection) -> None:
    """Adds the hash columns to a log from before the chain and chains its entries in id order.
    They are vouched for as found at this upgrade: a change made before it cannot be seen."""
    columns = {row[1] for row in con.execute("pragma table_info(access_log)")}
    for column in ("prev_hash", "entry_hash"):
        if column not in columns:
            con.execute(f"alter table access_log add column {column} text")
    con.execute("drop trigger if exists access_log_no_update")  # put back by the caller
    previous = GENESIS_HASH
    for entry in con.execute(f"select {', '.join(LOG_COLUMNS)} from access_log "  # noqa: S608 (identifiers from code, values bound)
                             "order by id").fetchall():
        current = entry_hash(entry, previous)
        con.execute("update access_log set prev_hash = ?, entry_hash = ? where id = ?",
                    (previous, current, entry[0]))
        previous = current


@contextmanager
def transaction(path: str | os.PathLike) -> Iterator[sqlite3.Connection]:
    """A write transaction: the lock is taken at the start, so reads inside it stay true."""
    with closing(connect(path)) as con:
        con.execute("begin immediate")
        try:
            yield con
        except BaseException:
            con.rollback()
            raise
        con.commit()


def utc_text(moment: dt.datetime | None = None) -> str:
    """A moment as fixed-width UTC ISO text, so text order is time order. Naive means local."""
    moment = moment or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def entry_hash(entry: Sequence[object], prev_hash: str) -> str:
    """The SHA-256 (hex) of an entry's values, in LOG_COLUMNS order, and the hash before it."""
    canonical = json.dumps([*entry, prev_hash], separators=(",", ":"), default=repr)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append_log(con: sqlite3.Connection, at: str, who: str, role: str | None, action: str,
               target: str | None = None, filters: object = None, outcome: str | None = "ok",
               detail: str | None = None) -> None:
    """Appends one entry chained to the last. Call inside a write transaction (`transaction`
    begins immediate), so no other writer can slip in between reading the last hash and
    inserting."""
    filters_json = None if filters is None else json.dumps(filters, default=str, sort_keys=True)
    last = con.execute("select id, entry_hash from access_log order by id desc limit 1").fetchone()
    given_out = con.execute("select seq from sqlite_sequence where name = 'access_log'"
                            ).fetchone()
    entry_id = max(last[0] if last else 0, given_out[0] if given_out else 0) + 1
    prev_hash = (last[1] if last else None) or GENESIS_HASH  # as the insert trigger reads it
    entry = (entry_id, at, who, role, action, target, filters_json, outcome, detail)
    con.execute(f"insert into access_log ({', '.join(LOG_COLUMNS)}, prev_hash, entry_hash) "  # noqa: S608 (identifiers from code, values bound)
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*entry, prev_hash, entry_hash(entry, prev_hash)))


def log_event(path: str | os.PathLike, who: str, role: str | None, action: str,
              target: str | None = None, filters: object = None, outcome: str | None = "ok",
              detail: str | None = None) -> None:
    """Appends one entry to the access log; raises AccessLogError if it could not be written."""
    try:
        with transaction(path) as con:
            append_log(con, utc_text(), who, role, action, target, filters, outcome, detail)
    except (sqlite3.Error, OSError, TypeError, ValueError) as exc:
        raise AccessLogError(f"The access log could not be written ({exc}); nothing was "
                             "shown.") from exc


def read_log(path: str | os.PathLike, who: str | None = None, action: str | None = None,
             since: dt.datetime | dt.date | None = None,
             until: dt.datetime | dt.date | None = None, limit: int = 10000) -> pd.DataFrame:
    """Log entries, newest first. `who` ignores case; since is inclusive, until exclusive; a
    date (not a datetime) means that whole day in UTC."""
    where, params = [], []
    if who is not None:
        where.append("lower(who) = lower(?)")
        params.append(who)
    if action is not None:
        where.append("action = ?")
        params.append(action)
    if since is not None:
        where.append("at >= ?")
        params.append(bound_text(since, day_end=False))
    if until is not None:
        where.append("at < ?")
        params.append(bound_text(until, day_end=True))
    sql = (f"select {', '.join(LOG_COLUMNS)} from access_log"  # noqa: S608 (identifiers from code, values bound)
           + (" where " + " and ".join(where) if where else "")
           + " order by at desc, id desc limit ?")
    with closing(connect(path)) as con:
        rows = con.execute(sql, [*params, int(limit)]).fetchall()
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(LOG_COLUMNS))
    frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
    return frame


def bound_text(moment: dt.datetime | dt.date, day_end: bool) -> str:
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment + dt.timedelta(days=int(day_end)), dt.time(),
                                     tzinfo=dt.UTC)
    return utc_text(moment)


@dataclass(frozen=True)
class LogCheck:
    """What a walk along the access log's hash chain found."""
    entries: int
    last_id: int | None
    last_hash: str
    breaks: tuple[str, ...]  # one sentence per broken entry, oldest first (the first few)
    break_count: int
    restored: tuple[int, ...]  # entries recording a protecting trigger found removed

    @property
    def intact(self) -> bool:
        return self.break_count == 0


def verify_log(path: str | os.PathLike, max_listed: int = 50) -> LogCheck:
    """Walks the log in id order, checking each entry's hash against its content and its link
    to the entry before, and that none is missing from the end (SQLite remembers the highest
    id it ever gave out)."""
    breaks: list[str] = []
    count = entries = 0
    restored: list[int] = []
    previous_id, previous_hash = 0, GENESIS_HASH
    with closing(connect(path)) as con:
        con.execute("begin")  # one snapshot, whatever is appended meanwhile
        rows = con.execute(f"select {', '.join(LOG_COLUMNS)}, prev_hash, entry_hash "  # noqa: S608 (identifiers from code, values bound)
                           "from access_log order by id")
        for row in rows:
            entry, prev_hash, stored_hash = row[:-2], row[-2], row[-1]
            problems = entry_problems(entry, prev_hash, stored_hash, previous_id, previous_hash)
            if problems:
                count += 1
                if len(breaks) < max_listed:
                    breaks.append(f"Entry {entry[0]}: " + "; ".join(problems) + ".")
            if entry[4] == "log-protection-restored":
                restored.append(entry[0])
            entries += 1
            # as append_log reads it, so one entry stripped of its hash is one break, not two
            previous_id, previous_hash = entry[0], stored_hash or GENESIS_HASH
        highest = con.execute("select seq from sqlite_sequence where name = 'access_log'"
                              ).fetchone()
        con.rollback()
    if highest and highest[0] > previous_id:
        count += 1
        breaks.append(f"The end of the log: it stops at entry {previous_id}, but it once reached "
                      f"entry {highest[0]}, so {span(previous_id + 1, highest[0])} "
                      f"{'was' if highest[0] == previous_id + 1 else 'were'} deleted.")
    return LogCheck(entries, previous_id or None, previous_hash, tuple(breaks), count,
                    tuple(restored))


def entry_problems(entry: Sequence[object], prev_hash: str | None, stored_hash: str | None,
                   previous_id: int, previous_hash: str | None) -> list[str]:
    """What is wrong with one entry, in words (nothing when it is sound)."""
    entry_id = entry[0]
    problems = []
    if not isinstance(entry_id, int) or entry_id <= previous_id:
        problems.append(f"its id {entry_id!r} is out of order")
    elif entry_id > previous_id + 1:
        follows = f"it follows entry {previous_id}" if previous_id else "it is the first entry"
        problems.append(f"{follows}, so {span(previous_id + 1, entry_id - 1)} before it "
                        f"{'is' if entry_id == previous_id + 2 else 'are'} missing (deleted)")
    elif prev_hash != previous_hash:
        problems.append(
            "it does not carry the log's start value, as the first entry must"
            if previous_id == 0 else
            f"it does not carry the hash of entry {previous_id}, so entry {previous_id} was "
            "changed or replaced after this entry was written")
    if stored_hash is None or prev_hash is None:
        problems.append("it has no hash: it was written without the dashboard")
    elif entry_hash(entry, prev_hash) != stored_hash:
        problems.append("its content does not match its hash: it was changed after it was "
                        "written, or written without the dashboard")
    return problems


def span(first: int, last: int) -> str:
    return f"entry {first}" if first == last else f"entries {first} to {last}"


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
    email = (email or "").strip() or None
    if email is not None and ("@" not in email or any(c.isspace() for c in email)):
        raise ValueError(f"{email!r} is not an email address")
    return name, officers, email


def actor_role(con: sqlite3.Connection, actor: str) -> str | None:
    row = con.execute("select role from users where name = ?", (actor,)).fetchone()
    return row[0] if row else None


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
    return User(row[0], row[1], officers, row[2], bool(row[3])), row[4]


def add_user(path: str | os.PathLike, name: str, role: str, password: str | None = None,
             officer_names: Sequence[str] = (), email: str | None = None, *,
             actor: str = COMMAND_LINE) -> User:
    """Creates a user and returns it. No password means single sign-on only."""
    name, officers, email = clean_user(name, role, officer_names, email)
    password_hash = None if password is None else hash_password(password)
    now = utc_text()
    with transaction(path) as con:
        for key in filter(None, (name, email)):
            if find_user(con, key) is not None:
                raise ValueError(f"There is already a user with the name or email {key!r}")
        con.execute("insert into users (name, role, password_hash, email, active, created_at, "
                    "updated_at) values (?, ?, ?, ?, 1, ?, ?)",
                    (name, role, password_hash, email, now, now))
        con.executemany("insert into user_officers (name, officer_name) values (?, ?)",
                        [(name, officer) for officer in officers])
        append_log(con, now, actor, actor_role(con, actor), "user-add", target=name,
                   detail=f"role {role}; " + ("password" if password_hash else "single sign-on")
                   + (f"; officer names {', '.join(officers)}" if officers else ""))
        return find_user(con, name)[0]


def existing_name(con: sqlite3.Connection, name: str) -> str:
    found = find_user(con, name)
    if found is None:
        raise ValueError(f"There is no user {name!r}")
    return found[0].name


def set_password(path: str | os.PathLike, name: str, password: str, *,
                 actor: str = COMMAND_LINE) -> None:
    """Replaces a user's password."""
    password_hash = hash_password(password)
    now = utc_text()
    with transaction(path) as con:
        name = existing_name(con, name)
        con.execute("update users set password_hash = ?, updated_at = ? where name = ?",
                    (password_hash, now, name))
        append_log(con, now, actor, actor_role(con, actor), "user-set-password", target=name)


def revoke_user(path: str | os.PathLike, name: str, *, actor: str = COMMAND_LINE) -> None:
    """Deactivates a user; the row stays so the access log still names them."""
    _set_active(path, name, False, actor)


def reactivate_user(path: str | os.PathLike, name: str, *, actor: str = COMMAND_LINE) -> None:
    """Lets a revoked user sign in again, with the role and officer names they had."""
    _set_active(path, name, True, actor)


def _set_active(path: str | os.PathLike, name: str, active: bool, actor: str) -> None:
    now = utc_text()
    with transaction(path) as con:
        name = existing_name(con, name)
        con.execute("update users set active = ?, updated_at = ? where name = ?",
                    (int(active), now, name))
        append_log(con, now, actor, actor_role(con, actor),
                   "user-reactivate" if active else "user-revoke", target=name)


def set_officer_names(path: str | os.PathLike, name: str, officer_names: Sequence[str], *,
                      actor: str = COMMAND_LINE) -> User:
    """Replaces the tracker officer names an officer's account sees (their own referrals)."""
    now = utc_text()
    with transaction(path) as con:
        user = find_user(con, existing_name(con, name))[0]
        _, officers, _ = clean_user(user.name, user.role, officer_names, user.email)
        con.execute("delete from user_officers where name = ?", (user.name,))
        con.executemany("insert into user_officers (name, officer_name) values (?, ?)",
                        [(user.name, officer) for officer in officers])
        con.execute("update users set updated_at = ? where name = ?", (now, user.name))
        append_log(con, now, actor, actor_role(con, actor), "user-link", target=user.name,
                   detail=f"officer names {', '.join(officers)}")
        return find_user(con, user.name)[0]


def get_user(path: str | os.PathLike, name_or_email: str) -> User | None:
    """The user with this name or email (either case), or None. Not logged: called per rerun."""
    with closing(connect(path)) as con:
        found = find_user(con, name_or_email)
    return found[0] if found else None


def get_user_by_email(path: str | os.PathLike, email: str) -> User | None:
    """The user whose email this is (single sign-on matches on email alone), or None."""
    with closing(connect(path)) as con:
        found = find_user(con, email, email_only=True)
    return found[0] if found else None


def list_users(path: str | os.PathLike, *, actor: str = COMMAND_LINE) -> list[User]:
    """Every user, revoked ones included, by name."""
    with transaction(path) as con:
        names = [n for (n,) in con.execute("select name from users order by name collate nocase")]
        users = [find_user(con, n)[0] for n in names]
        append_log(con, utc_text(), actor, actor_role(con, actor), "user-list")
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
        key = found[0].name if found else (name or "").strip()[:254]
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
            append_log(con, utc_text(now), key, user.role if user else None, "sign-in",
                       outcome=outcome, detail=detail or (reason if reason != "ok" else None))
    except sqlite3.Error as exc:
        raise AccessLogError(f"The sign-in could not be logged ({exc}); try again.") from exc
    return SignInResult(reason == "ok", user if reason == "ok" else None, reason)
