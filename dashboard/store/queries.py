"""Run the named queries in queries/*.sql with bound parameters; pages never build SQL."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import TYPE_CHECKING

from dashboard.config import QUERIES_DIR
from dashboard.security import access

if TYPE_CHECKING:  # the command line lists query names without loading DuckDB or pandas
    import duckdb
    import pandas as pd

PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")
COMMON_PARAMETERS = ("from_date", "to_date", "officer", "area", "referral_source",
                     "snapshot_id")
# Parameters that take a list (the pack's stock at several quarter ends in one run).
LIST_PARAMETERS = ("snapshot_ids", "to_dates")


class UnknownQuery(KeyError):
    """No queries/NAME.sql exists."""


def names() -> list[str]:
    """Every named query, alphabetically."""
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


@functools.cache
def sql_text(name: str) -> str:
    path = QUERIES_DIR / f"{name}.sql"
    if name not in names():
        raise UnknownQuery(f"No query named {name!r}; known queries: {', '.join(names())}")
    return path.read_text(encoding="utf-8")


@functools.cache
def scoped_functions() -> dict[str, int]:
    """The functions that apply an officer's scope (access.scoped_functions), from the macros."""
    return access.scoped_functions([path.read_text(encoding="utf-8")
                                    for path in sorted((QUERIES_DIR / "macros").glob("*.sql"))])


@functools.cache
def unscoped_readers() -> frozenset[str]:
    """The macros that read referrals without applying a scope (access.unscoped_readers)."""
    return access.unscoped_readers([path.read_text(encoding="utf-8")
                                    for path in sorted((QUERIES_DIR / "macros").glob("*.sql"))])


def header(name: str) -> dict[str, str]:
    """The query's header lines by key: grain, params and access (`-- key: value`)."""
    out: dict[str, str] = {}
    for line in sql_text(name).splitlines():
        if not line.startswith("--"):
            break
        key, _, value = line[2:].strip().partition(":")
        if key in ("grain", "params", "access") and key not in out:
            out[key] = value.strip()
    return out


def parameters(name: str) -> list[str]:
    """The parameters a query takes, as its `-- params:` line declares them."""
    declared = header(name).get("params", "none")
    return [] if declared == "none" else PARAMETER.findall(declared)


def used_parameters(name: str) -> list[str]:
    """The parameters the query's SQL (its header aside) uses, in order of first use."""
    lines = sql_text(name).splitlines()
    body = "\n".join(lines[next((i for i, line in enumerate(lines)
                                  if not line.startswith("--")), len(lines)):])
    return list(dict.fromkeys(PARAMETER.findall(body)))


@functools.cache
def _check(name: str) -> None:
    """access.check_query, once per query (a refusal is not cached: it is raised every time)."""
    access.check_query(name, sql_text(name), access_level(name), parameters(name),
                       scoped_functions(), unscoped_readers())


def latest_snapshot_id(con: duckdb.DuckDBPyConnection) -> int | None:
    """The newest tracker snapshot still in force, by as-at date (the later upload on a tie)."""
    rows = con.execute("select upload_id from uploads where kind = 'tracker' "
                       "and upload_id not in (select snapshot_id from snapshot_withdrawals) "
                       "order by as_at_date desc, upload_id desc limit 1").fetchall()
    return rows[0][0] if rows else None


@functools.cache  # the text is cached (sql_text): asked on every query lookup of every rerun
def access_level(name: str) -> str:
    return access.level_of(sql_text(name), name)


# run()'s latest_snapshot when the caller does not know it: looked up on the connection.
LOOK_UP = object()


def run(con: duckdb.DuckDBPyConnection, viewer: access.Viewer, name: str, *,
        latest_snapshot: int | None | object = LOOK_UP, **params: object) -> pd.DataFrame:
    """Result of queries/NAME.sql as `viewer` may see it; unspecified parameters are null.

    A snapshot left unspecified is the latest (a list of them, the latest alone):
    `latest_snapshot` where the caller knows it for the data `con` holds (data_access keeps it
    per version of the file), else looked up."""
    wanted = parameters(name)
    level = access_level(name)
    _check(name)
    params = access.authorise(viewer, name, level, wanted, params)
    unknown = set(params) - set(wanted)
    if unknown:
        raise TypeError(f"Query {name!r} takes {wanted}, not {sorted(unknown)}")
    bound = {p: params.get(p) for p in wanted}
    for key in ("snapshot_id", "snapshot_ids"):
        if key in bound and bound[key] is None:
            latest = (latest_snapshot_id(con) if latest_snapshot is LOOK_UP
                      else latest_snapshot)
            bound[key] = latest if key == "snapshot_id" else [latest]
    for key in ("from_date", "to_date"):
        if isinstance(bound.get(key), str):
            bound[key] = dt.date.fromisoformat(bound[key])
    return con.execute(sql_text(name), bound).df()
