"""My work: each officer's outstanding referrals on the configured thresholds, oldest first,
their own only; steering and admins see it by officer; every view is logged."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from dashboard import service
from dashboard.analysis import work
from dashboard.security import audit
from dashboard.security.access import COMMAND_LINE, Viewer
from dashboard.store import database, queries
from dashboard.ui import exports, layout

AS_AT = dt.date(2022, 7, 31)
# Days are counted to the as-at date, 31/07/2022.
TRACKER = (
    b"Nominal ID,Referral Date,Officer,Referral Source,Offending Area,Status,First Contact Date,"
    b"Assessment Date,Pre-Admission Course Start,Rehab Admission Date,Rehab Facility,"
    b"Rehab Exit Date,Rehab Exit Reason,Outcome\n"
    # waiting for first contact: 30 and 100 days; a closed one is not work
    b"W1,01/07/2022,PC Jones,Probation,Erdington,Referral/Waiting,,,,,,,,\n"
    b"W2,22/04/2022,PC Jones,Probation,Erdington,Referral/Waiting,,,,,,,,\n"
    b"W3,01/03/2022,PC Jones,Probation,Erdington,Withdrawn,,,,,,,,Not interested\n"
    # assessed with no next step: 61 days (listed) and 11 days (not yet)
    b"A1,01/05/2022,PC Jones,Probation,Erdington,Active,10/05/2022,31/05/2022,,,,,,\n"
    b"A2,01/07/2022,PC Jones,Probation,Erdington,Active,05/07/2022,20/07/2022,,,,,,\n"
    # on a course: not stalled
    b"A3,01/05/2022,PC Jones,Probation,Erdington,Active,10/05/2022,31/05/2022,01/06/2022,,,,,\n"
    # in rehab 91 days (listed) and 30 days (not yet)
    b"R1,01/03/2022,PC Smith,Probation,Erdington,Active,02/03/2022,03/03/2022,,01/05/2022,"
    b"Oak House,,,\n"
    b"R2,01/05/2022,PC Smith,Probation,Erdington,Active,02/05/2022,03/05/2022,,01/07/2022,"
    b"Oak House,,,\n"
    # left rehab 11 days ago, no outcome; one with an outcome is done
    b"L1,01/02/2022,PC Smith,Probation,Erdington,Active,02/02/2022,03/02/2022,,01/04/2022,"
    b"Oak House,20/07/2022,Self-discharged,\n"
    b"L2,01/02/2022,PC Smith,Probation,Erdington,Inactive,02/02/2022,03/02/2022,,01/04/2022,"
    b"Oak House,20/07/2022,Self-discharged,Withdrawn\n"
    # waiting for first contact with PC Smith, and a data-quality problem (no area)
    b"S1,01/06/2022,PC Smith,Probation,,Referral/Waiting,,,,,,,,\n"
)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("work") / "o2r.duckdb"
    service.ingest_bytes(path, "tracker", "work.csv", TRACKER, as_at=AS_AT,
                         use_column_map=False)
    return path


def listed(db, viewer=COMMAND_LINE) -> list[tuple[str, str, int]]:
    con = database.connect_read_only(db)
    try:
        due = queries.run(con, viewer, "my_work", **work.thresholds())
    finally:
        con.close()
    return list(zip(due["work"], due["nominal_id"], due["days_waiting"], strict=True))


def test_each_list_holds_what_waits_too_long_oldest_first(db):
    assert listed(db) == [
        ("awaiting_contact", "W2", 100), ("awaiting_contact", "S1", 60),
        ("awaiting_contact", "W1", 30),
        ("assessed_no_next_step", "A1", 61),
        ("rehab_no_exit", "R1", 91),
        ("left_rehab_no_outcome", "L1", 11),
    ]


def test_the_download_names_each_rows_list_and_keeps_whole_numbers_whole(db):
    con = database.connect_read_only(db)
    try:
        shown = work.outstanding(queries.run(con, COMMAND_LINE, "my_work", **work.thresholds()),
                                 queries.run(con, COMMAND_LINE, "data_quality"), by_officer=True)
    finally:
        con.close()
    rows = list(csv.DictReader(io.StringIO(
        exports.safe_csv(shown.download()).decode("utf-8-sig"))))
    listed = [(r["work"], r["nominal_id"], r["days_waiting"]) for r in rows
              if r["work"] != "Data-quality problem"]
    assert listed == [("Waiting for first contact", "W2", "100"),
                      ("Waiting for first contact", "S1", "60"),
                      ("Waiting for first contact", "W1", "30"),
                      ("Assessed, no course or rehab admission yet", "A1", "61"),
                      ("In rehab too long with no exit recorded", "R1", "91"),
                      ("Left rehab, no outcome recorded", "L1", "11")]
    problems = [r for r in rows if r["work"] == "Data-quality problem"]
    assert problems and all(r["days_waiting"] == "" and r["source_row"].isdigit()
                            for r in problems)


def test_thresholds_are_configurable(db, monkeypatch):
    monkeypatch.setenv("O2R_ASSESSED_STALL_DAYS", "5")
    monkeypatch.setenv("O2R_REHAB_DAYS", "95")
    lists = [(w, n) for w, n, _ in listed(db) if w in ("assessed_no_next_step", "rehab_no_exit")]
    assert lists == [("assessed_no_next_step", "A1"), ("assessed_no_next_step", "A2")]
    monkeypatch.setenv("O2R_REHAB_DAYS", "twelve weeks")
    with pytest.raises(ValueError, match="O2R_REHAB_DAYS is 'twelve weeks'"):
        listed(db)


def test_an_officer_sees_only_their_own(db):
    jones = Viewer("Jones", "officer", officer_names=("PC Jones",))
    assert {n for _, n, _ in listed(db, jones)} == {"W1", "W2", "A1"}
    assert listed(db, Viewer("Nobody", "officer")) == []


def test_an_officer_gets_no_tracker_row_numbers(db):
    """A flagged row's place in the whole tracker told an officer, by the gaps between their
    own rows, how many referrals the other officers had in between (the review)."""
    smith = Viewer("Smith", "officer", officer_names=("PC Smith",))
    con = database.connect_read_only(db)
    try:
        theirs = queries.run(con, smith, "data_quality")
        everyone = queries.run(con, COMMAND_LINE, "data_quality")
        items = queries.run(con, smith, "my_work", **work.thresholds())
    finally:
        con.close()
    assert len(theirs) and theirs["source_row"].isna().all()
    assert everyone["source_row"].notna().all()  # the programme-wide view finds the rows
    download = work.outstanding(items, theirs, by_officer=False).download()
    assert len(download) and "source_row" not in download.columns


def test_health_by_officer_and_age_bands(db, monkeypatch):
    con = database.connect_read_only(db)
    try:
        due = queries.run(con, COMMAND_LINE, "my_work", **work.thresholds())
        problems = queries.run(con, COMMAND_LINE, "data_quality")
        caseload = queries.run(con, COMMAND_LINE, "caseload_history")
    finally:
        con.close()
    health = work.health_by_officer(due, problems, caseload).set_index("Officer")
    assert health.to_dict("index") == {
        "PC Jones": {"Open caseload": 5, "Waiting for first contact": 2,
                     "Waiting over 21 days": 2, "Longest wait (days)": 100,
                     "Assessed, no course or rehab admission yet": 1,
                     "In rehab too long with no exit recorded": 0,
                     "Left rehab, no outcome recorded": 0, "Data-quality problems": 0},
        "PC Smith": {"Open caseload": 4, "Waiting for first contact": 1,
                     "Waiting over 21 days": 1, "Longest wait (days)": 60,
                     "Assessed, no course or rehab admission yet": 0,
                     "In rehab too long with no exit recorded": 1,
                     # R1's long stay is also a data-quality check, and S1 has no area
                     "Left rehab, no outcome recorded": 1, "Data-quality problems": 2},
    }
    bands = work.waiting_age_bands(due)
    assert list(zip(bands["officer"], bands["age_band"], bands["referrals"], strict=True)) == [
        ("PC Jones", "3 to 6 weeks", 1), ("PC Jones", "Over 13 weeks", 1),
        ("PC Smith", "6 to 13 weeks", 1)]
    monkeypatch.setenv("O2R_CONTACT_REFERENCE_DAYS", "45")
    assert work.health_by_officer(due, problems, caseload)["Waiting over 45 days"].tolist() \
        == [1, 1]


def test_an_officer_opens_on_their_work_and_each_view_is_logged(app_as, db, security_db):
    at = app_as("officer", name="Jones", officers=("PC Jones",), db=db)
    at.run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["My work"]
    waiting = at.dataframe[0].value
    assert list(waiting["nominal_id"]) == ["W2", "W1"]
    assert list(waiting["days_waiting"]) == [100, 30]
    assert "officer" not in waiting.columns
    assert "the longest has waited **100 days** (W2)" in at.markdown[0].value
    views = audit.read_log(security_db, who="Jones", action="view")
    assert {"my_work", "data_quality"} <= set(views["target"])


def test_steering_sees_every_officer(app_as, db):
    at = app_as("steering", name="Chair", db=db)
    at.run()
    at.switch_page("../pages/my_work.py")
    at.run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Caseload health"]
    assert list(at.dataframe[0].value["Officer"]) == ["PC Jones", "PC Smith"]
    assert at.get("vega_lite_chart")
    # the bands in the caption from the shortest wait, each once, whichever officer has it
    caption = next(c.value for c in at.caption if c.value.startswith("Referrals waiting"))
    named = [label for _, label in work.AGE_BANDS if f"{label.lower()} " in caption]
    assert sorted(named, key=lambda label: caption.index(f"{label.lower()} ")) == named
    assert len(named) == 3


# Open cases waiting for first contact, as a hand count (my_work.sql's own rule, written again).
WAITING_BY_OFFICER = """
    select officer, count(*) filter (where status in ('Referral/Waiting', 'Active')) as open,
           count(*) filter (where status not in ('Inactive', 'Withdrawn')
                              and (outcome is null or outcome = 'Ongoing engagement')
                              and first_contact_date is null) as waiting
    from referrals
    where snapshot_id = (select max(upload_id) from uploads where kind = 'tracker')
      and ($area::varchar is null or offending_area = $area::varchar)
      and ($source::varchar is null or referral_source = $source::varchar)
    group by officer
"""


@pytest.mark.parametrize(("area", "source"), [("City Centre", None), (None, "Retail business")])
def test_caseload_health_follows_the_area_and_source_filters(app_as, demo_db, area, source):
    # Every column of one officer's row counts the same referrals: the open caseload was the
    # area's alone while the lists beside it held every area's, so an officer could show more
    # referrals waiting for first contact than in their whole caseload.
    at = app_as("steering", name="Chair")
    at.run()
    at.selectbox(key="filter_area").select(area or "All")
    at.selectbox(key="filter_source").select(source or "All")
    at.switch_page("../pages/my_work.py")
    at.run()
    assert not at.exception and not at.error
    con = database.connect_read_only(demo_db)
    try:
        counted = con.execute(WAITING_BY_OFFICER, {"area": area, "source": source}).df()
        waiting = at.dataframe[1].value
        outside = con.execute(
            "select count(*) from referrals where snapshot_id = (select max(upload_id) from "
            "uploads where kind = 'tracker') and nominal_id in (select unnest($ids)) and not ("
            "($area::varchar is null or offending_area = $area::varchar) and "
            "($source::varchar is null or referral_source = $source::varchar))",
            {"ids": list(waiting["nominal_id"]), "area": area, "source": source}
        ).fetchall()[0][0]
    finally:
        con.close()
    health = at.dataframe[0].value.set_index("Officer")
    counted = counted.set_index("officer").reindex(health.index, fill_value=0)
    assert health["Open caseload"].tolist() == counted["open"].tolist()
    assert health["Waiting for first contact"].tolist() == counted["waiting"].tolist()
    assert len(waiting) == counted["waiting"].sum() and outside == 0
    assert f"**{counted['waiting'].sum():,}** waiting for first contact" in at.markdown[0].value


def test_caseload_health_says_why_a_referral_with_no_status_is_listed_but_not_open(app_as):
    # The demo's Former officer left five referrals with no status and no first contact: the
    # row read "open caseload 0, 5 waiting for first contact" with nothing to reconcile them.
    at = app_as("steering", name="Chair")
    at.run()
    at.switch_page("../pages/my_work.py")
    at.run()
    assert not at.exception
    former = at.dataframe[0].value.set_index("Officer").loc["Former officer"]
    assert (former["Open caseload"], former["Waiting for first contact"]) == (0, 5)
    assert former["Data-quality problems"] >= 5
    assert any("one whose status is not recorded is listed (and is a data-quality problem) but "
               "is not in the open caseload" in caption.value for caption in at.caption)


def test_long_lists_are_shown_in_blocks(app_as, demo_db, monkeypatch):
    # At national scale a list can hold tens of thousands of referrals: each is sent a block
    # at a time, in the list's own order, and the download keeps every row.
    monkeypatch.setattr(layout, "GRID_BLOCK_ROWS", 4)
    downloads = {}
    real_logged_csv = exports.logged_csv
    monkeypatch.setattr(exports, "logged_csv", lambda frame, name, *args, **kwargs:
                        downloads.update({name: frame}) or real_logged_csv(frame, name, *args,
                                                                           **kwargs))
    con = database.connect_read_only(demo_db)
    try:
        expected = work.outstanding(queries.run(con, COMMAND_LINE, "my_work",
                                                **work.thresholds()),
                                    queries.run(con, COMMAND_LINE, "data_quality"),
                                    by_officer=True)
    finally:
        con.close()
    at = app_as("steering").run()
    at.switch_page("../pages/my_work.py").run()
    long_lists = {w.key: expected.lists[w.key].column("nominal_id").to_pylist()
                  for w in work.WORK_LISTS if expected.lists[w.key].num_rows > 4}
    long_lists |= {"problems": expected.problems.column("nominal_id").to_pylist()}
    assert len(long_lists) >= 2
    for key, ids in long_lists.items():
        blocks = at.selectbox(key=f"my_work_rows_{key}")
        assert len(blocks.options) == -(-len(ids) // 4)
        blocks.set_value(4).run()
        assert not at.exception
        assert any(grid.value["nominal_id"].tolist() == ids[4:8] for grid in at.dataframe
                   if "nominal_id" in grid.value.columns), key
    assert not any(len(grid.value) > 4 for grid in at.dataframe[1:])  # the health table first
    assert len(downloads["my_work"]()) == len(expected.download())


def test_the_query_gives_the_lists_in_the_pages_order(db):
    # The page cuts the rows into its lists where list_order steps up; a list the query put
    # in another place would be shown under the wrong title.
    con = database.connect_read_only(db)
    try:
        rows = queries.run(con, COMMAND_LINE, "my_work")
    finally:
        con.close()
    assert rows["list_order"].is_monotonic_increasing
    assert set(zip(rows["list_order"], rows["work"])) == {
        (at, w.key) for at, w in enumerate(work.WORK_LISTS, start=1)}
    shown = work.outstanding(rows, rows.iloc[:0].assign(issue=[], detail=[]), by_officer=True)
    for w in work.WORK_LISTS:
        assert shown.lists[w.key].num_rows == (rows["work"] == w.key).sum() > 0


def test_tallies_and_bands_match_a_plain_count(demo_db):
    con = database.connect_read_only(demo_db)
    try:
        due = queries.run(con, COMMAND_LINE, "my_work", **work.thresholds())
        problems = queries.run(con, COMMAND_LINE, "data_quality")
    finally:
        con.close()
    tallies = work.officer_tallies(due, problems)
    counted = due.groupby(["officer", "work"]).size().unstack(fill_value=0).reindex(
        index=tallies.index, columns=[w.key for w in work.WORK_LISTS], fill_value=0)
    assert tallies[counted.columns].to_dict() == counted.to_dict()
    waiting = due[due["work"] == "awaiting_contact"]
    assert tallies["longest"].dropna().to_dict() == \
        waiting.groupby("officer")["days_waiting"].max().astype(float).to_dict()
    assert tallies["over_reference"].to_dict() == (
        waiting["days_waiting"] > work.contact_reference()).groupby(waiting["officer"]).sum() \
        .reindex(tallies.index, fill_value=0).to_dict()
    assert tallies["problems"].to_dict() == problems.groupby("officer").size().reindex(
        tallies.index, fill_value=0).to_dict()
    bands = work.waiting_age_bands(due)
    labels = [label for _, label in work.AGE_BANDS]
    by_hand = waiting.assign(age_band=[
        next(label for upper, label in work.AGE_BANDS if upper is None or days <= upper)
        for days in waiting["days_waiting"]]).groupby(["officer", "age_band"]).size()
    assert {(o, b): n for o, b, n in bands[["officer", "age_band", "referrals"]].itertuples(
        index=False)} == by_hand.to_dict()
    assert list(zip(bands["officer"], bands["band_order"], strict=True)) == sorted(
        zip(bands["officer"], bands["age_band"].map(labels.index), strict=True))


def test_officers_are_listed_as_people_read_their_names(db):
    # Text order put Officer 10 and Officer 11 between Officer 1 and Officer 2.
    names = ["Officer 10", "Officer 2", "Former officer", "Officer 1", "officer 11", "PC Ali"]
    assert sorted(names, key=work.as_people_read_it) == [
        "Former officer", "Officer 1", "Officer 2", "Officer 10", "officer 11", "PC Ali"]
    con = database.connect_read_only(db)
    try:
        frames = [queries.run(con, COMMAND_LINE, "my_work", **work.thresholds()),
                  queries.run(con, COMMAND_LINE, "data_quality"),
                  queries.run(con, COMMAND_LINE, "caseload_history")]
    finally:
        con.close()
    renamed = {"PC Jones": "Officer 10", "PC Smith": "Officer 2"}
    frames = [f.assign(officer=f["officer"].replace(renamed)) for f in frames]
    assert work.health_by_officer(*frames)["Officer"].tolist() == ["Officer 2", "Officer 10"]
