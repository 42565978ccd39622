"""Connect facts pre-aggregated when data lands give exactly what counting every stored crime
gives, for every filter and period (whole months, part months, no period), and stay right
when the snapshot in force changes; crimes are stored in offence-date order."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.security.access import COMMAND_LINE, Viewer
from dashboard.store import database, queries

# What offences_by_area counted before crime_facts: every stored crime, joined to people.
COUNTING_EVERY_CRIME = """
with people as (
    select distinct nominal_id
    from scoped_referrals($snapshot_id, $scope_officers, $officer, null, $referral_source)
)
select coalesce(c.offence_area, 'Not recorded') as offence_area, c.offence_type,
       count(*) as offences, coalesce(sum(c.value_stolen_gbp), 0)::double as value_stolen_gbp
from crimes c join people p using (nominal_id)
where ($from_date::date is null or c.offence_date >= $from_date::date)
  and ($to_date::date is null or c.offence_date <= $to_date::date)
  and ($area::varchar is null or c.offence_area = $area::varchar)
group by all
order by offences desc, offence_area, offence_type
"""

PERIODS = [
    (None, None),
    (dt.date(2022, 4, 1), dt.date(2023, 3, 31)),     # a financial year: whole months
    (dt.date(2022, 7, 1), dt.date(2022, 9, 30)),     # a quarter
    (dt.date(2022, 5, 17), dt.date(2022, 11, 3)),    # custom: part months at both ends
    (dt.date(2022, 6, 10), dt.date(2022, 6, 20)),    # inside one month
    (dt.date(2022, 2, 15), None),
    (None, dt.date(2022, 8, 14)),
]


def counted_directly(con, viewer, **params):
    bound = queries.access.authorise(viewer, "offences_by_area", "referrals",
                                     queries.parameters("offences_by_area"), params)
    bound = {p: bound.get(p) for p in queries.parameters("offences_by_area")}
    if bound["snapshot_id"] is None:
        bound["snapshot_id"] = queries.latest_snapshot_id(con)
    return con.execute(COUNTING_EVERY_CRIME, bound).df()


def assert_same(con, viewer, **params):
    fast = queries.run(con, viewer, "offences_by_area", **params)
    slow = counted_directly(con, viewer, **params)
    assert not slow.empty or params.get("to_date") is not None
    assert fast.to_dict("records") == slow.to_dict("records"), params


@pytest.mark.parametrize(("from_date", "to_date"), PERIODS)
def test_facts_equal_counting_every_crime(demo_con, from_date, to_date):
    area = demo_con.execute("select offence_area from crimes where offence_area is not null "
                            "limit 1").fetchall()[0][0]
    officer, source = demo_con.execute("select officer, referral_source from referrals "
                                       "limit 1").fetchall()[0]
    period = {"from_date": from_date, "to_date": to_date}
    for viewer, extra in ((COMMAND_LINE, {}), (COMMAND_LINE, {"area": area}),
                          (COMMAND_LINE, {"officer": officer}),
                          (COMMAND_LINE, {"referral_source": source}),
                          (Viewer("PC", "officer", (officer,)), {})):
        assert_same(demo_con, viewer, **period, **extra)


def test_facts_follow_the_snapshot_in_force(demo_db):
    con = database.connect_read_only(demo_db)
    latest = queries.latest_snapshot_id(con)
    con.close()
    database.withdraw_snapshot(demo_db, latest, "pytest", "Wrong as-at date")
    con = database.connect_read_only(demo_db)
    try:
        assert queries.latest_snapshot_id(con) != latest
        assert con.execute("select distinct snapshot_id from crime_facts").fetchall() == [
            (queries.latest_snapshot_id(con),)]
        for from_date, to_date in PERIODS[:4]:
            assert_same(con, COMMAND_LINE, from_date=from_date, to_date=to_date)
    finally:
        con.close()


def test_a_database_from_before_crime_facts_gets_them_on_opening(demo_db):
    with database.writing(demo_db) as con:
        con.execute("drop table crime_facts")
    con = database.connect_read_only(demo_db)
    try:
        assert con.execute("select count(*) from crime_facts").fetchall()[0][0] > 0
        assert_same(con, COMMAND_LINE)
    finally:
        con.close()


def test_crimes_are_stored_in_offence_date_order(demo_con):
    unordered = demo_con.execute("""
        select count(*) from (
            select upload_id, offence_date,
                   lag(offence_date) over (partition by upload_id order by rowid) as before
            from crimes)
        where offence_date < before""").fetchall()[0][0]
    assert unordered == 0
