"""offending_windows reads each referral's window counts from window_facts (counted when data
lands), and offending_windows_by_type counts every offence type at once; both give exactly what
counting every stored crime gave, type by type: the query as it was before the facts
(tests/offending_windows_from_crimes.sql) is the reference, on the demo data and on a random
data set with offences on every window's edges, for every window length the page offers,
offence type, filter, officer scope, an older snapshot and a withdrawn one. time_to_first_offence
reads the first offence after each exit from the same facts, against its own query as it was
(tests/time_to_first_offence_from_crimes.sql)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard.analysis import outcomes, value_lenses
from dashboard.security.access import COMMAND_LINE, Viewer, authorise
from dashboard.store import database, facts, queries
from dashboard.store.window_facts import WINDOW_DAYS

HERE = Path(__file__).parent
FROM_CRIMES = (HERE / "offending_windows_from_crimes.sql").read_text()
FIRST_FROM_CRIMES = (HERE / "time_to_first_offence_from_crimes.sql").read_text()
NAME = "offending_windows"
FIRST = "time_to_first_offence"


def counted_from_crimes(con, viewer, name=NAME, sql=FROM_CRIMES, **params) -> pd.DataFrame:
    bound = authorise(viewer, name, "referrals", queries.parameters(name), params)
    bound = {p: bound.get(p) for p in queries.parameters(name)}
    if bound["snapshot_id"] is None:
        bound["snapshot_id"] = queries.latest_snapshot_id(con)
    return con.execute(sql, bound).df()


def assert_first_offences_same(con, viewer=COMMAND_LINE, **params) -> pd.DataFrame:
    fast = queries.run(con, viewer, FIRST, **params)
    pd.testing.assert_frame_equal(
        fast, counted_from_crimes(con, viewer, FIRST, FIRST_FROM_CRIMES, **params),
        check_exact=True, obj=f"{FIRST} {params}")
    return fast


def assert_same(con, viewer=COMMAND_LINE, **params) -> pd.DataFrame:
    fast = queries.run(con, viewer, NAME, **params)
    pd.testing.assert_frame_equal(fast, counted_from_crimes(con, viewer, **params),
                                  check_exact=True, obj=str(params))
    return fast


def assert_same_by_type(con, types, viewer=COMMAND_LINE, **params) -> None:
    together = queries.run(con, viewer, "offending_windows_by_type", offence_types=types,
                           **params)
    assert list(together.columns) == ["offence_type", *queries.run(con, viewer, NAME).columns]
    for offence_type, rows in value_lenses.split_by_type(together, types).items():
        pd.testing.assert_frame_equal(
            rows, counted_from_crimes(con, viewer, offence_type=offence_type, **params),
            check_exact=True, obj=f"{offence_type} {params}")


def lengths(before, after_referral, after_exit) -> dict:
    return {"before_days": before, "after_referral_days": after_referral,
            "after_exit_days": after_exit}


# Every length the page offers in each window, each beside other lengths in the others.
COMBINATIONS = [(d,) * 3 for d in WINDOW_DAYS] + [
    tuple(WINDOW_DAYS[(i + k) % 4] for k in range(3)) for i in range(4)]


# ---- the demo data ---------------------------------------------------------------------------

def test_demo_every_length_the_page_offers(demo_con):
    for combination in COMBINATIONS:
        assert_same(demo_con, **lengths(*combination))


def test_demo_filters_types_and_scope(demo_con):
    types = [t for (t,) in demo_con.execute("select distinct offence_type from crimes "
                                            "order by 1").fetchall()]
    officer, area, source = demo_con.execute(
        "select officer, offending_area, referral_source from referrals "
        "where offending_area is not null limit 1").fetchall()[0]
    assert len(types) > 1
    offended = 0
    for offence_type in [None, *types]:
        rows = assert_same(demo_con, offence_type=offence_type)
        offended += int(rows["offences"].sum())
        assert_same(demo_con, offence_type=offence_type, **lengths(91, 730, 365))
    assert offended > 0  # the demo has offences in its windows: the comparison means something
    for params in ({"officer": officer}, {"area": area}, {"referral_source": source},
                   {"from_date": dt.date(2021, 4, 1), "to_date": dt.date(2022, 3, 31)},
                   {"from_date": dt.date(2021, 5, 17)}):
        assert_same(demo_con, **params)
    assert_same(demo_con, Viewer("PC", "officer", (officer,)))
    assert assert_same(demo_con, Viewer("PC None", "officer", ())).empty


def test_demo_time_to_first_offence(demo_con):
    officer, area = demo_con.execute("select officer, offending_area from referrals "
                                     "where offending_area is not null limit 1").fetchall()[0]
    assert assert_first_offences_same(demo_con)["has_offended"].any()
    for params in ({"officer": officer}, {"area": area},
                   {"from_date": dt.date(2021, 4, 1), "to_date": dt.date(2022, 3, 31)}):
        assert_first_offences_same(demo_con, **params)
    assert_first_offences_same(demo_con, Viewer("PC", "officer", (officer,)))
    assert assert_first_offences_same(demo_con, Viewer("PC None", "officer", ())).empty


def test_demo_every_type_at_once(demo_con):
    types = [t for (t,) in demo_con.execute("select distinct offence_type from crimes "
                                            "order by 1").fetchall()]
    officer, area = demo_con.execute("select officer, offending_area from referrals "
                                     "where offending_area is not null limit 1").fetchall()[0]
    assert_same_by_type(demo_con, [*types, "No such type"])
    for combination in COMBINATIONS[:5]:
        assert_same_by_type(demo_con, types, **lengths(*combination))
    assert_same_by_type(demo_con, types, **lengths(100, 182, 182))
    for params in ({"officer": officer}, {"area": area},
                   {"from_date": dt.date(2021, 4, 1), "to_date": dt.date(2022, 3, 31)}):
        assert_same_by_type(demo_con, types, **params)
    assert_same_by_type(demo_con, types, Viewer("PC", "officer", (officer,)))
    assert_same_by_type(demo_con, types, Viewer("PC None", "officer", ()))


def test_demo_other_lengths_are_counted_from_the_crimes(demo_con):
    assert_same(demo_con, **lengths(100, 182, 182))
    assert_same(demo_con, **lengths(365, 30, 400))


def test_demo_after_a_withdrawal(demo_db):
    con = database.connect_read_only(demo_db)
    latest = queries.latest_snapshot_id(con)
    con.close()
    database.withdraw_snapshot(demo_db, latest, "pytest", "Wrong as-at date")
    con = database.connect_read_only(demo_db)
    try:
        assert queries.latest_snapshot_id(con) != latest
        assert_same(con)
        assert_same(con, offence_type="Shoplifting")
        assert_same_by_type(con, ["Shoplifting", "Burglary"])
        assert_first_offences_same(con)
        assert_first_offences_same(con, snapshot_id=latest)
        # the withdrawn snapshot is read by no figure, facts or not
        assert assert_same(con, snapshot_id=latest)["referrals"].sum() == 0
    finally:
        con.close()


# ---- a random data set, offences on the edges of every window -------------------------------

TYPES = ("Shoplifting", "Burglary", "Criminal damage")
EDGES = sorted({e for d in WINDOW_DAYS for e in (-d - 1, -d, -d + 1, d - 1, d, d + 1)}
               | {-1, 0, 1, 2})


def random_db(path: Path, seed: int) -> Path:
    """Two tracker snapshots (the later one in force) and two Connect uploads, written
    directly, then the facts rebuilt as every upload rebuilds them."""
    rng = random.Random(seed)
    start = dt.date(2020, 1, 1)
    connect_as_at = dt.date(2023, 6, 30)
    referrals, crimes = [], []
    for person in range(40):
        nominal = f"N{person:03d}"
        for _ in range(rng.choice((1, 1, 2))):
            referral = start + dt.timedelta(days=rng.randrange(0, 1100))
            admission = exit_date = reason = None
            shape = rng.random()
            if shape < 0.6:
                admission = referral + dt.timedelta(days=rng.randrange(0, 200))
                if shape < 0.45:
                    exit_date = admission + dt.timedelta(days=rng.randrange(0, 120))
                    reason = rng.choice(("Completed", "Self-discharged", None))
            elif shape < 0.65:  # an exit date with no admission: no rehab window, an after one
                exit_date = referral + dt.timedelta(days=rng.randrange(0, 300))
            referrals.append((nominal, referral, admission, exit_date, reason,
                              rng.choice(("Officer 1", "Officer 2")),
                              rng.choice(("Custody", "Probation")),
                              rng.choice(("North", "South", None))))
            anchors = [referral] + [d for d in (admission, exit_date) if d is not None]
            for anchor in anchors:
                for edge in rng.sample(EDGES, 8):
                    crimes.append((nominal, anchor + dt.timedelta(days=edge)))
            for _ in range(rng.randrange(0, 6)):
                crimes.append((nominal, start + dt.timedelta(days=rng.randrange(-800, 1800))))
    crimes.append(("NOBODY", start))  # someone never referred
    with database.writing(path) as con:
        con.execute("insert into uploads values (1, 'tracker', 't1.csv', 'a', '2023-01-31', 0, "
                    "now()::timestamp, 'pytest', false), (2, 'tracker', 't2.csv', 'b', "
                    "'2023-05-31', 0, now()::timestamp, 'pytest', false), (3, 'connect', "
                    "'c1.csv', 'c', '2023-03-31', 0, now()::timestamp, 'pytest', false), "
                    "(4, 'connect', 'c2.csv', 'd', $as_at, 0, now()::timestamp, 'pytest', "
                    "false)", {"as_at": connect_as_at})
        stored = pd.DataFrame(
            [(snapshot, row + 2, *referral) for snapshot, kept in ((1, 0.8), (2, 1.0))
             for row, referral in enumerate(referrals) if rng.random() <= kept],
            columns=["snapshot_id", "source_row", "nominal_id", "referral_date",
                     "rehab_admission_date", "rehab_exit_date", "rehab_exit_reason", "officer",
                     "referral_source", "offending_area"]).drop_duplicates(
            ["snapshot_id", "nominal_id", "referral_date"])
        con.register("stored", stored)
        con.execute("insert into referrals by name select *, 'Active' as status, "
                    "referral_date as assessment_date from stored")
        kept_crimes = pd.DataFrame(
            [(f"C{number}", nominal, offence_date, rng.choice(TYPES), "North",
              rng.choice((None, rng.randrange(1, 50000) / 100)), rng.choice((3, 4)))
             for number, (nominal, offence_date) in enumerate(crimes)
             if offence_date <= connect_as_at],
            columns=["crime_reference", "nominal_id", "offence_date", "offence_type",
                     "offence_area", "value_stolen_gbp", "upload_id"])
        con.register("kept_crimes", kept_crimes)
        con.execute("insert into crimes by name select * from kept_crimes")
        database.refresh_facts(con)
    return path


@pytest.fixture(scope="module", params=[1, 2])
def random_con(request, tmp_path_factory):
    db = random_db(tmp_path_factory.mktemp("windows") / "o2r.duckdb", request.param)
    con = database.connect_read_only(db)
    yield con
    con.close()


def test_random_every_length_and_type(random_con):
    assert random_con.execute("select count(*) from window_facts").fetchall()[0][0] > 0
    for combination in COMBINATIONS:
        assert_same(random_con, **lengths(*combination))
        assert_same(random_con, offence_type=TYPES[0], **lengths(*combination))
        assert_same_by_type(random_con, list(TYPES), **lengths(*combination))


def test_random_filters_scope_and_the_older_snapshot(random_con):
    for params in ({"officer": "Officer 2"}, {"area": "North"}, {"referral_source": "Custody"},
                   {"from_date": dt.date(2021, 1, 1), "to_date": dt.date(2021, 12, 31)},
                   {"snapshot_id": 1}, {"snapshot_id": 1, "offence_type": TYPES[1]}):
        assert_same(random_con, **params)
    assert_same(random_con, Viewer("PC", "officer", ("Officer 1",)))
    assert_same(random_con, Viewer("PC", "officer", ("Officer 1",)), offence_type=TYPES[2])
    for params in ({"officer": "Officer 2"}, {"snapshot_id": 1}):
        assert_same_by_type(random_con, list(TYPES), **params)
    assert_same_by_type(random_con, list(TYPES), Viewer("PC", "officer", ("Officer 1",)))
    for params in ({}, {"officer": "Officer 2"}, {"snapshot_id": 1},
                   {"from_date": dt.date(2021, 1, 1), "to_date": dt.date(2022, 6, 30)}):
        assert_first_offences_same(random_con, **params)
    assert_first_offences_same(random_con, Viewer("PC", "officer", ("Officer 1",)))


def test_the_facts_are_what_the_default_view_reads(demo_db):
    """Spoiling the facts changes the default view, not a length they do not hold: the fast
    path is really taken, and only where it fits."""
    con = database.connect_read_only(demo_db)
    before = queries.run(con, COMMAND_LINE, NAME)
    other = queries.run(con, COMMAND_LINE, NAME, **lengths(100, 182, 182))
    types = ["Shoplifting"]
    by_type = queries.run(con, COMMAND_LINE, "offending_windows_by_type", offence_types=types)
    first = queries.run(con, COMMAND_LINE, FIRST)
    con.close()
    with database.writing(demo_db) as con:
        con.execute("update window_facts set before_365 = before_365 + 1, "
                    "first_offence_after_exit = null")
    con = database.connect_read_only(demo_db)
    try:
        spoiled = queries.run(con, COMMAND_LINE, NAME)
        assert spoiled["offences"].sum() > before["offences"].sum()
        assert queries.run(con, COMMAND_LINE, "offending_windows_by_type",
                           offence_types=types)["offences"].sum() > by_type["offences"].sum()
        assert first["has_offended"].any()
        assert not queries.run(con, COMMAND_LINE, FIRST)["has_offended"].any()
        pd.testing.assert_frame_equal(queries.run(con, COMMAND_LINE, NAME,
                                                  **lengths(100, 182, 182)), other)
    finally:
        con.close()


def test_a_database_from_before_window_facts_gets_them_on_opening(demo_db):
    with database.writing(demo_db) as con:
        con.execute("drop table window_facts")
    con = database.connect_read_only(demo_db)
    try:
        assert con.execute("select count(*) from window_facts").fetchall()[0][0] > 0
        assert_same(con)
    finally:
        con.close()


def test_the_facts_hold_the_lengths_the_page_offers():
    """A length the Outcomes page offers but window_facts does not hold would still be right
    (counted from the crimes), only slow: keep the two lists the same."""
    assert WINDOW_DAYS == tuple(outcomes.WINDOW_MONTHS.values())
    for name in (NAME, "offending_windows_by_type"):
        assert queries.sql_text(name).count(
            "in (" + ", ".join(str(d) for d in WINDOW_DAYS) + ")") == 3, name


def test_facts_built_another_way_are_rebuilt_before_anything_reads_them(demo_db):
    # An older release's facts (or ones whose definition changed since) must never be read as
    # if this code had built them.
    db = demo_db  # a copy of its own
    con = database.connect_read_only(db)
    expected = con.execute("select * from o2r.window_facts order by all").fetchall()
    con.close()
    assert expected
    with duckdb.connect(str(db)) as raw:
        raw.execute("update facts_built set definition = 'an older definition'")
        raw.execute("delete from window_facts")
        raw.execute("delete from crime_facts")
    con = database.connect_read_only(db)
    assert con.execute("select * from o2r.window_facts order by all").fetchall() == expected
    assert con.execute("select count(*) from o2r.crime_facts").fetchone()[0] > 0
    assert facts.facts_current(con, "o2r")
    con.close()
