"""Who may see what: the one place that decides, applied to every query as it runs.

Each query file declares its access level in a `-- access: LEVEL` line:
- programme: figures about the data itself (snapshot dates); every role.
- referrals: aggregates over referrals; an officer's are limited to their own referrals, the
  scrutiny panel's have small counts suppressed.
- person: one row per person (nominal IDs); officers (their own only), steering, admin.
- admin: administration (the upload log); admin only.
Scoping is bound as a query parameter ($scope_officers), never left to hiding a widget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

ROLES = ("officer", "steering", "scrutiny", "admin")
LEVELS = ("programme", "referrals", "person", "admin")
ALLOWED = {
    "programme": {"officer", "steering", "scrutiny", "admin"},
    "referrals": {"officer", "steering", "scrutiny", "admin"},
    "person": {"officer", "steering", "admin"},
    "admin": {"admin"},
}
SCOPE_PARAMETER = "scope_officers"
SUPPRESS_BELOW = 5  # the scrutiny panel sees counts of 1 to 4 as "<5"
COUNT_COLUMNS = re.compile(
    r"^(referrals|assessed|entered_rehab|completed|attendees|admitted_after_course|offences|"
    r"n_.*|count_.*)$")
LEVEL_LINE = re.compile(r"^--\s*access:\s*([a-z]+)\s*$", re.MULTILINE)
RAW_REFERRALS = re.compile(r"\b(from|join)\s+(o2r\.)?(main\.)?referrals\b", re.IGNORECASE)


@dataclass(frozen=True)
class Viewer:
    """Someone reading data: their role, and for an officer the tracker names that are theirs."""

    name: str
    role: str
    officer_names: tuple[str, ...] = ()
    is_demo: bool = False

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"Unknown role {self.role!r}; roles are {', '.join(ROLES)}")

    @property
    def sees_people(self) -> bool:
        return self.role in ALLOWED["person"]

    def cache_key(self) -> tuple:
        return (self.role, self.officer_names)


# The command line is used by whoever holds the database file itself.
COMMAND_LINE = Viewer("command line", "admin")


class AccessDenied(PermissionError):
    """The viewer's role may not run this query."""


def level_of(sql: str, name: str) -> str:
    match = LEVEL_LINE.search(sql)
    if not match or match.group(1) not in LEVELS:
        raise ValueError(f"queries/{name}.sql has no '-- access: LEVEL' line ({', '.join(LEVELS)})")
    return match.group(1)


def check_query(name: str, sql: str, level: str, parameters: list[str]) -> None:
    """A query that reads referrals must read them through scoped_referrals(..., $scope_officers,
    ...), the one place the scope is applied, and never from the table itself."""
    if level not in ("referrals", "person"):
        return
    if RAW_REFERRALS.search(sql) or "scoped_referrals(" not in sql \
            or SCOPE_PARAMETER not in parameters:
        raise ValueError(f"queries/{name}.sql must read referrals only through "
                         f"scoped_referrals(..., ${SCOPE_PARAMETER}, ...)")


def authorise(viewer: Viewer, name: str, level: str, parameters: list[str],
              params: dict) -> dict:
    """The parameters to bind for this viewer, or AccessDenied."""
    if viewer.role not in ALLOWED[level]:
        raise AccessDenied(f"The {viewer.role} role may not see {name.replace('_', ' ')}")
    if SCOPE_PARAMETER in params:
        raise AccessDenied(f"{SCOPE_PARAMETER} is set by access rules, not by callers")
    bound = dict(params)
    if level in ("referrals", "person"):
        # An officer with no tracker names mapped gets an empty list: they see nothing.
        bound[SCOPE_PARAMETER] = list(viewer.officer_names) if viewer.role == "officer" \
            else None
    return bound


def protect(viewer: Viewer, level: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The result as this viewer may see it: small counts suppressed for the scrutiny panel."""
    if viewer.role != "scrutiny" or level != "referrals":
        return frame
    out = frame.copy()
    for column in out.columns:
        if COUNT_COLUMNS.match(column) and pd.api.types.is_numeric_dtype(out[column]):
            values = out[column].astype("Int64")
            out[column] = values.mask((values > 0) & (values < SUPPRESS_BELOW))
    return out


def format_count(value: object) -> str:
    """A count as shown: thousands separated, '<5' where suppressed."""
    if value is None or pd.isna(value):
        return f"<{SUPPRESS_BELOW}"
    return f"{int(value):,}"
