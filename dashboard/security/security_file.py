"""The security file: users and the append-only access log, kept in SQLite beside the data.

Why SQLite and not the DuckDB data file: the data file is only ever replaced whole on upload
(copy-on-write) and DuckDB allows one writing process, while the access log is written on every
page view by many Streamlit server threads and by the command line at once. SQLite in WAL mode
with a busy timeout lets all of them append safely, and survives the data file being replaced.

This module owns the file and how the log is stored (the hash chain and the triggers that keep
it append-only). Entries are written through audit.record, which checks the action is declared;
the one exception is the entry this module writes itself on putting back a removed trigger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path

from dashboard import config

BUSY_TIMEOUT_MS = 10_000
SCHEMA_VERSION = 3  # 2: the access log is a hash chain; 3: install_keys
ROLES = ("officer", "steering", "scrutiny", "admin")
SYSTEM = "dashboard (log check)"
PROTECTION_RESTORED = "log-protection-restored"  # declared in audit.Action like every action

# Entry 1 chains from this fixed value, so a log cut short at its start is caught too.
GENESIS_HASH = "0" * 64
LOG_COLUMNS = ("id", "at", "who", "role", "action", "target", "filters", "outcome", "detail")

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
create table if not exists install_keys (
    purpose text primary key,
    secret blob not null
);
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


def security_db_path(override: str | os.PathLike | None = None) -> Path:
    """The security file: an explicit path, else $O2R_SECURITY_DB, else data/o2r-security.sqlite."""
    chosen = (override or config.setting("O2R_SECURITY_DB")
              or config.ROOT / "data" / "o2r-security.sqlite")
    return config.resolved(chosen)


def connect(path: str | os.PathLike, *, shared: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), with the schema in place
    and every protecting trigger of the access log present. `shared`: usable from any thread
    (the caller serialises its use)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Password hashes and who-saw-what: readable by the server's account only. SQLite gives
    # the -wal and -shm files the same permissions as the database file. Only when there is no
    # file yet: closing any descriptor of a file drops every POSIX lock this process holds on
    # it, including those of SQLite connections open on it in other threads (a "disk I/O
    # error" on their next write).
    if not path.exists():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                          check_same_thread=not shared)
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


# Who is signed in is read from the users table on every rerun of every session; opening a
# connection for it (its pragmas and schema check) was most of that read. One connection per
# file is kept for such reads: autocommit, so each statement reads the latest commit (a
# revoked account is seen on its next click), used by one thread at a time, and a file
# replaced at the same path gets a connection of its own. Because one stays open, SQLite's
# write-ahead log stays beside the file while the server runs: copying a file over it then
# mixes the copy with the old log (README: stop the server first), and opening and closing
# the file any other way in this process drops this connection's locks (see connect).
_READERS: dict[tuple[str, int, int], sqlite3.Connection] = {}
_READERS_LOCK = threading.Lock()


@contextmanager
def reading(path: str | os.PathLike) -> Iterator[sqlite3.Connection]:
    """A connection for reads only (never write through it), kept open between uses."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:  # nothing to keep yet: connect() creates it
        with closing(connect(path)) as con:
            yield con
        return
    key = (str(path), stat.st_dev, stat.st_ino)
    with _READERS_LOCK:
        con = _READERS.get(key)
        if con is None:
            if len(_READERS) >= 8:  # files other than the server's own (tests): let them go
                for old in _READERS.values():
                    old.close()
                _READERS.clear()
            con = _READERS[key] = connect(path, shared=True)
        try:
            yield con
        except sqlite3.DatabaseError:
            # A connection that fails is not kept: the next look-up opens a fresh one rather
            # than failing every sign-in check until the server restarts.
            del _READERS[key]
            con.close()
            raise


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
            # Written here, not through audit.record: audit connects through this function.
            append_entry(con, utc_text(), SYSTEM, None, PROTECTION_RESTORED,
                         target=", ".join(missing), outcome="restored",
                         detail="removed outside the dashboard; put back when next opened")
        con.execute(f"pragma user_version = {SCHEMA_VERSION}")
    except BaseException:
        con.rollback()
        raise
    con.commit()


def install_key(con: sqlite3.Connection, purpose: str) -> bytes:
    """This installation's random key for `purpose`, made the first time it is asked for."""
    query = "select secret from install_keys where purpose = ?"
    found = con.execute(query, (purpose,)).fetchone()
    if found is None:  # written once: a write on every call would take the file's write lock
        con.execute("insert or ignore into install_keys (purpose, secret) values (?, ?)",
                    (purpose, os.urandom(32)))
        found = con.execute(query, (purpose,)).fetchone()
    return found[0]


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


def append_entry(con: sqlite3.Connection, at: str, who: str, role: str | None, action: str,
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
