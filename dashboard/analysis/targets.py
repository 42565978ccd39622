"""Quarterly targets for the headline figures, set by the steering group or an administrator;
kept beside the users and the access log, each change logged in the same transaction."""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass

from dashboard.analysis import glance
from dashboard.security import audit
from dashboard.security.audit import Action, Who
from dashboard.security.security_file import connect, reading, transaction, utc_text

SETTERS = ("steering", "admin")
DEFAULT_AMBER_SHARE = 0.8
TABLE = """create table if not exists targets (
    measure text primary key,
    quarterly_target integer not null check (quarterly_target >= 0),
    amber_share real not null check (amber_share > 0 and amber_share <= 1),
    set_by text not null,
    set_at text not null
)"""


class TargetRefused(ValueError):
    """The target could not be set: the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    measure: str
    quarterly_target: int
    amber_share: float
    set_by: str
    set_at: str


def current(path: str | os.PathLike) -> dict[str, Target]:
    """Every target set, by measure (a step of glance.STEPS)."""
    query = "select measure, quarterly_target, amber_share, set_by, set_at from targets"
    try:  # read on every rerun of the Overview: through the connection kept for reads
        with reading(path) as con:
            rows = con.execute(query).fetchall()
    except sqlite3.OperationalError:  # no targets table yet: make it (a write), then read
        with closing(connect(path)) as con:
            con.execute(TABLE)
            rows = con.execute(query).fetchall()
    return {row[0]: Target(*row) for row in rows}


def set_target(path: str | os.PathLike, measure: str, quarterly_target: int | None,
               actor: str, role: str, amber_share: float = DEFAULT_AMBER_SHARE) -> None:
    """Sets (or with None clears) a measure's quarterly target; the change and who made it go
    into the access log in the same transaction, so neither happens without the other."""
    if role not in SETTERS:
        raise TargetRefused(f"The {role} role may not set targets: ask the steering group.")
    if measure not in glance.STEPS:
        raise TargetRefused(f"{measure!r} has no target; choose one of "
                            f"{', '.join(glance.STEPS)}.")
    if quarterly_target is not None and (int(quarterly_target) != quarterly_target
                                         or quarterly_target < 0):
        raise TargetRefused(f"A target is a whole number of people per quarter, not "
                            f"{quarterly_target!r}.")
    if not 0 < amber_share <= 1:
        raise TargetRefused(f"The amber band starts at a share of the target between 0 and 1, "
                            f"not {amber_share!r}.")
    with transaction(path) as con:
        con.execute(TABLE)
        if quarterly_target is None:
            con.execute("delete from targets where measure = ?", (measure,))
        else:
            con.execute("insert into targets values (?, ?, ?, ?, ?) on conflict (measure) do "
                        "update set quarterly_target = excluded.quarterly_target, "
                        "amber_share = excluded.amber_share, set_by = excluded.set_by, "
                        "set_at = excluded.set_at",
                        (measure, int(quarterly_target), float(amber_share), actor,
                         utc_text()))
        audit.record_in(con, Who(actor, role), Action.TARGET_SET, target=measure,
                        detail=json.dumps({"quarterly_target": quarterly_target,
                                           "amber_share": amber_share}))
