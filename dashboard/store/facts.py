"""Connect facts: tables counted from the crimes when data lands, so default views read a table
the size of referrals (x areas, months, offence types), not every stored crime. Each is rebuilt
in the same transaction as every upload and withdrawal, and the digest of how they are built is
stored with them: a file whose facts were built another way (an older release, or none) gets
them rebuilt, as the tables are now, before anything reads them.
"""

from __future__ import annotations

import hashlib

import duckdb

from dashboard.store.schema import SCHEMA
from dashboard.store.sql import quote_ident
from dashboard.store.window_facts import REFRESH as WINDOW_FACTS_REFRESH
from dashboard.store.window_facts import refresh_window_facts

FACT_TABLES = ("crime_facts", "window_facts")

# The latest snapshot's people's crimes by offence month, area and type
# (queries/offences_by_area.sql reads it for the whole months of a period).
CRIME_FACTS_REFRESH = """
        insert into crime_facts
        with latest as (
            select upload_id as snapshot_id from uploads
            where kind = 'tracker'
              and upload_id not in (select snapshot_id from snapshot_withdrawals)
            order by as_at_date desc, upload_id desc
            limit 1
        ),
        people as (
            select distinct r.nominal_id, latest.snapshot_id
            from referrals r join latest using (snapshot_id)
        )
        select p.snapshot_id, date_trunc('month', c.offence_date)::date as offence_month,
               c.offence_area, c.offence_type, count(*) as offences,
               sum(c.value_stolen_gbp) as value_stolen_gbp
        from crimes c join people p using (nominal_id)
        group by all
        order by offence_month
"""


def facts_definition() -> str:
    """A digest of how the facts are built: their tables and the SQL that fills them."""
    tables = [statement for statement in SCHEMA
              if any(f"table if not exists {name} " in statement for name in FACT_TABLES)]
    assert len(tables) == len(FACT_TABLES)
    text = "\n".join([*tables, CRIME_FACTS_REFRESH, WINDOW_FACTS_REFRESH])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def facts_current(con: duckdb.DuckDBPyConnection, database: str | None = None) -> bool:
    """Whether the database attached as `database` (else the connection's current one, whose
    name comes from its file's) holds the facts, built as this code builds them."""
    present = {name for (name,) in con.execute(
        "select table_name from duckdb_tables() "
        "where database_name = coalesce($database, current_database())",
        {"database": database}).fetchall()}
    if not {*FACT_TABLES, "facts_built"} <= present:
        return False
    table = "facts_built" if database is None else f"{quote_ident(database)}.facts_built"
    built = con.execute(f"select definition from {table}").fetchall()  # noqa: S608 (a database name from code, quoted)
    return built == [(facts_definition(),)]


def refresh_facts(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild every table of Connect facts (crime_facts, window_facts) for the latest tracker
    snapshot in force, in the same transaction as what changed it, and record how."""
    refresh_crime_facts(con)
    refresh_window_facts(con)
    con.execute("delete from facts_built")
    con.execute("insert into facts_built values ($definition)",
                {"definition": facts_definition()})


def refresh_crime_facts(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild crime_facts for the latest tracker snapshot in force (as
    queries.latest_snapshot_id picks it), in the same transaction as what changed it."""
    con.execute("delete from crime_facts")
    con.execute(CRIME_FACTS_REFRESH)
