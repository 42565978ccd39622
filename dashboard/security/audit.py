"""The access log: the actions it records, declared once; `record`, the one way an entry is
written; reading it back; and the walk along its hash chain that shows any entry changed,
removed or slipped in."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple, Protocol

from dashboard.security import security_file
from dashboard.security.security_file import GENESIS_HASH, LOG_COLUMNS, entry_hash

if TYPE_CHECKING:  # loaded by read_log only, so the command line starts quickly
    import pandas as pd


class Action(StrEnum):
    """Every action the access log records: its name, what it means, and what the entry's
    target, filters, outcome and detail hold. The Access log page offers these as its filter."""

    def __new__(cls, name: str, meaning: str, details: str) -> Action:
        member = str.__new__(cls, name)
        member._value_ = name
        member.meaning = meaning
        member.details = details
        return member

    SIGN_IN = ("sign-in", "an attempt to sign in: with a password, by single sign-on or to a "
               "demo account", "who: the account's name, 'unknown name #' and a digest for a "
               "name no account has (never the text typed), or the email single sign-on gave; "
               "outcome: ok, failed, locked, or refused (a force sign-in too old to start a "
               "session: asked to sign in again); detail: why, or how they signed in")
    SIGN_OUT = ("sign-out", "a session ended: signed out, timed out or refused",
                "detail: what they were told, if anything")
    VIEW = ("view", "rows about people were shown", "target: the query; filters: its "
            "parameters; detail: 'command line (their login)' when asked there")
    EXPORT = ("export", "a download was handed over: a CSV, or the pack's PDF or workbook",
              "target: the file name; filters: the filter bar at the time; outcome: ok, or "
              "refused when the session had ended, been revoked or changed role or officer "
              "names since the button was shown (detail: which)")
    UPLOAD = ("upload", "an export was stored: a tracker snapshot or Connect crimes",
              "target: the file name; detail: kind, upload id, rows and as-at date")
    SIGN_OFF = ("sign-off", "a quarterly pack was signed off and frozen",
                "target: the pack id; detail: the quarter and the disclosure")
    SNAPSHOT_WITHDRAW = ("snapshot-withdraw", "a tracker snapshot was withdrawn: kept, but no "
                         "figure uses it", "target: the snapshot; detail: why")
    USER_ADD = ("user-add", "an account was added", "target: the user; detail: role, password "
                "or single sign-on, officer names")
    USER_SET_PASSWORD = ("user-set-password", "an account's password was set or reset",
                         "target: the user (the password is never recorded)")
    USER_REVOKE = ("user-revoke", "an account was revoked: it can no longer sign in",
                   "target: the user")
    USER_REACTIVATE = ("user-reactivate", "a revoked account may sign in again",
                       "target: the user")
    USER_LINK = ("user-link", "the tracker names an officer's account sees were changed",
                 "target: the user; detail: the officer names")
    USER_LIST = ("user-list", "the list of accounts was read", "nothing more")
    TARGET_SET = ("target-set", "a quarterly target was set or cleared",
                  "target: the figure; detail: the target and the amber share, as JSON")
    LOG_PROTECTION_RESTORED = (
        security_file.PROTECTION_RESTORED, "a trigger protecting this log was found removed and "
        "put back", "who: the dashboard; target: the triggers put back")


ACTIONS = tuple(action.value for action in Action)


class Actor(Protocol):
    name: str
    role: str | None


class Who(NamedTuple):
    """Someone acting who is not a signed-in viewer: a name typed at sign-in, the command line."""

    name: str
    role: str | None = None


class AccessLogError(RuntimeError):
    """The access log could not be written: the view or change must not go ahead."""


def declared(action: Action | str) -> Action:
    """The declared action of this name; ValueError for one not declared."""
    try:
        return Action(action)
    except ValueError:
        raise ValueError(f"{action!r} is not an action the access log records; declare it in "
                         "audit.Action") from None


def record_in(con: sqlite3.Connection, actor: Actor, action: Action | str, *,
              target: str | None = None, filters: object = None, outcome: str | None = "ok",
              detail: str | None = None, at: dt.datetime | None = None) -> None:
    """Records an action inside a write transaction of the security file (`security_file.
    transaction`), so the change it describes and its entry stand or fall together."""
    security_file.append_entry(con, security_file.utc_text(at), actor.name, actor.role,
                          declared(action).value, target, filters, outcome, detail)


def record(actor: Actor, action: Action | str, *, target: str | None = None,
           filters: object = None, outcome: str | None = "ok", detail: str | None = None,
           path: str | os.PathLike | None = None) -> None:
    """Records one action in the access log (the security file at `path`, else the one
    configured); raises AccessLogError if it could not be written, so the caller shows or hands
    over nothing."""
    action = declared(action)
    try:
        with security_file.transaction(path or security_file.security_db_path()) as con:
            record_in(con, actor, action, target=target, filters=filters, outcome=outcome,
                      detail=detail)
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
        params.append(str(action))
    if since is not None:
        where.append("at >= ?")
        params.append(bound_text(since, day_end=False))
    if until is not None:
        where.append("at < ?")
        params.append(bound_text(until, day_end=True))
    sql = (f"select {', '.join(LOG_COLUMNS)} from access_log"  # noqa: S608 (identifiers from code, values bound)
           + (" where " + " and ".join(where) if where else "")
           + " order by at desc, id desc limit ?")
    with closing(security_file.connect(path)) as con:
        rows = con.execute(sql, [*params, int(limit)]).fetchall()
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(LOG_COLUMNS))
    frame["at"] = pd.to_datetime(frame["at"], utc=True, format="ISO8601")
    return frame


def bound_text(moment: dt.datetime | dt.date, day_end: bool) -> str:
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment + dt.timedelta(days=int(day_end)), dt.time(),
                                     tzinfo=dt.UTC)
    return security_file.utc_text(moment)


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
    with closing(security_file.connect(path)) as con:
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
            if entry[4] == Action.LOG_PROTECTION_RESTORED:
                restored.append(entry[0])
            entries += 1
            # as append_entry reads it, so one entry stripped of its hash is one break, not two
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


def filters_in_words(filters: object) -> str:
    """A view's filters as the log keeps them (JSON text) in words, for the Access log page:
    "from date: 01/04/2022; officer: Officer 1"; none (null, NaN, {}) is blank."""
    if not isinstance(filters, str) or not filters:
        return ""
    try:
        values = json.loads(filters)
    except ValueError:
        return filters
    if not isinstance(values, dict):
        return filters
    return "; ".join(f"{key.replace('_', ' ')}: {_in_words(key, value)}"
                     for key, value in values.items() if value is not None)


def _in_words(key: str, value: object) -> str:
    """A date (a key ending in "date", kept as YYYY-MM-DD) in UK order; a list or mapping as
    JSON, not as Python writes it; anything else as it is."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if key.endswith("date") and isinstance(value, str) and len(value) == 10 \
            and value[4] == value[7] == "-":
        try:
            return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            pass
    return str(value)
