"""National-scale test data (run by hand, not a test): a tracker CSV and a Connect CSV that pass
every contract rule, written by DuckDB SQL (no Python loop over rows).

    .venv/bin/python benchmarks/generate.py --referrals 100000 --crimes 10000000

Deterministic: the same sizes give the same bytes. Rules kept (README, "The data contract"):
one (nominal_id, referral_date) per referral; 60 officers, fewer below 6,000 referrals (a
handful per caseload, never "one value per row"); fixed vocabularies; dates in order (referral
<= contact <= assessment <= admission <= exit) and none after the as-at date; an admission has a
facility, an exit a reason; Connect crime references unique, offence dates up to the as-at
date, UK dd/mm/yyyy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import duckdb

AS_AT = dt.date(2026, 3, 31)
FIRST_REFERRAL = dt.date(2019, 1, 1)
# The longest chain of steps below is 30 + 45 + 60 + 120 days: referrals end early enough
# that every step stays on or before the as-at date.
LAST_REFERRAL = dt.date(2025, 6, 30)
FIRST_OFFENCE = dt.date(2018, 1, 1)
OFFICERS = 60  # at 6,000 referrals and more; fewer below (officers())

AREAS = ["City Centre", "Erdington", "Sutton Coldfield", "Harborne", "Selly Oak", "Northfield",
         "Aston", "Perry Barr", "Small Heath", "Handsworth", "Kings Heath", "Acocks Green",
         "Wolverhampton", "Walsall", "Dudley", "Sandwell", "Solihull", "Coventry"]
SOURCES = ["O2R officer outreach", "Retail business", "Neighbourhood policing team",
           "Probation", "Custody", "Partner agency", "Word of mouth"]
FACILITIES = ["Seasons", "Livingstone House", "Changes UK"]
EXIT_REASONS = ["Completed", "Self-discharged", "Discharged - rule breach",
                "Discharged - other"]
OFFENCE_TYPES = ["Shoplifting", "Shoplifting", "Shoplifting", "Shoplifting",
                 "Theft from the person", "Burglary - business and community",
                 "Criminal damage", "Robbery of personal property", "Other theft"]


def pick(values: list[str], seed: str) -> str:
    """SQL choosing one of `values` from a hash of `seed` (an SQL expression)."""
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"([{listed}])[1 + (hash({seed}) % {len(values)})::int]"


def people(referrals: int) -> int:
    return max(1, referrals * 4 // 5)  # a fifth of referrals are repeat referrals


def officers(referrals: int) -> int:
    """As many officers as keep each caseload a handful of referrals or more, so that even the
    earliest quarter-end snapshot (benchmarks/pack_history.py) passes the ingest's check that
    the officer column is not a list of people: 60 officers over 1,000 referrals failed it."""
    return max(5, min(OFFICERS, referrals // 100))


def tracker_sql(referrals: int) -> str:
    persons = people(referrals)
    windows = -(-referrals // persons)  # most referrals one person can have
    span = (LAST_REFERRAL - FIRST_REFERRAL).days // windows
    return f"""
    with base as (
        select i, i % {persons} as person, i // {persons} as window,
               date '{FIRST_REFERRAL}' + (i // {persons} * {span}
                                         + hash(i, 'day') % {span})::int as referral_date
        from range({referrals}) t(i)
    ),
    steps as (
        select *,
            case when hash(i, 'c') % 10 < 8
                 then referral_date + (hash(i, 'cd') % 31)::int end as contact,
        from base
    ),
    steps2 as (
        select *, case when contact is not null and hash(i, 'a') % 10 < 7
                       then contact + (hash(i, 'ad') % 46)::int end as assessed
        from steps
    ),
    steps3 as (
        select *, case when assessed is not null and hash(i, 'r') % 10 < 4
                       then assessed + (hash(i, 'rd') % 61)::int end as admitted
        from steps2
    ),
    steps4 as (
        select *, case when admitted is not null and hash(i, 'x') % 10 < 6
                       then admitted + (hash(i, 'xd') % 121)::int end as exited
        from steps3
    )
    select
        'NAT' || lpad(person::varchar, 7, '0') as "Nominal ID",
        strftime(referral_date, '%d/%m/%Y') as "Referral Date",
        'Officer ' || (1 + hash(i, 'o') % {officers(referrals)}) as "Officer",
        {pick(SOURCES, "i, 's'")} as "Referral Source",
        {pick(AREAS, "person, 'area'")} as "Offending Area",
        case when exited is not null then 'Inactive'
             when assessed is not null then 'Active'
             else 'Referral/Waiting' end as "Status",
        strftime(contact, '%d/%m/%Y') as "First Contact Date",
        strftime(assessed, '%d/%m/%Y') as "Assessment Date",
        strftime(admitted, '%d/%m/%Y') as "Rehab Admission Date",
        case when admitted is not null then {pick(FACILITIES, "i, 'f'")} end
            as "Rehab Facility",
        strftime(exited, '%d/%m/%Y') as "Rehab Exit Date",
        case when exited is not null then {pick(EXIT_REASONS, "i, 'e'")} end
            as "Rehab Exit Reason"
    from steps4
    order by i
    """


def connect_sql(crimes: int, referrals: int) -> str:
    persons = people(referrals)
    span = (AS_AT - FIRST_OFFENCE).days + 1
    return f"""
    select
        '20NAT/' || lpad(i::varchar, 9, '0') as "Crime Reference",
        'NAT' || lpad((hash(i, 'p') % {persons})::varchar, 7, '0') as "Nominal ID",
        strftime(date '{FIRST_OFFENCE}' + (hash(i, 'd') % {span})::int, '%d/%m/%Y')
            as "Offence Date",
        {pick(OFFENCE_TYPES, "i, 't'")} as "Offence Type",
        {pick(AREAS, "i, 'a'")} as "Offence Area",
        case when hash(i, 'v') % 5 = 0 then null
             else printf('%.2f', (hash(i, 'vv') % 50000) / 100.0) end as "Value Stolen"
    from range({crimes}) t(i)
    order by i
    """


def write(sql: str, path: Path) -> None:
    con = duckdb.connect()
    try:
        con.execute("set preserve_insertion_order = true")
        con.sql(sql).write_csv(str(path), header=True, sep=",")
    finally:
        con.close()


def generate(folder: Path, referrals: int, crimes: int) -> dict[str, Path]:
    """Write tracker_<n>.csv and connect_<m>.csv into folder (reused if already there)."""
    folder.mkdir(parents=True, exist_ok=True)
    tracker = folder / f"tracker_{referrals}.csv"
    connect = folder / f"connect_{crimes}_{referrals}.csv"
    for path, sql in ((tracker, tracker_sql(referrals)), (connect, connect_sql(crimes, referrals))):
        if not path.exists():
            partial = path.with_suffix(".partial")
            write(sql, partial)
            partial.rename(path)
    return {"tracker": tracker, "connect": connect}


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--referrals", type=int, default=100_000)
    args.add_argument("--crimes", type=int, default=10_000_000)
    args.add_argument("--dir", type=Path, default=Path(__file__).parent / "out")
    options = args.parse_args()
    start = time.perf_counter()
    files = generate(options.dir, options.referrals, options.crimes)
    for kind, path in files.items():
        print(f"{kind}: {path} ({path.stat().st_size / 1e6:,.1f} MB)")
    print(f"as at {AS_AT:%d/%m/%Y}; {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
