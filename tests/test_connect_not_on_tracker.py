"""A Connect export that does not fit the tracker is held back until confirmed: most of its
people not on the tracker (the latest snapshot in force, as the figures use it), or stored
crimes of people on it moving to IDs that are not (with no tracker in force, any stored crime
given another ID).

Nominal IDs written another way (a prefix, a name beside the ID) join no referral: every
outcome and offending figure of those people would go blank, and the crimes the export shares
with those stored would move to IDs on no tracker. Stored, that could not be withdrawn.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dashboard import __main__ as cli
from dashboard import service
from dashboard.ingest.connect_checks import ConnectDoesNotFit

from conftest import query

CONNECT_HEADER = b"Crime Reference,Nominal ID,Offence Date,Offence Type\n"
TRACKER = (b"Nominal ID,Referral Date,Officer,Referral Source,Status\n"
           b"OLD0,01/04/2022,PC Jones,Probation,Active\n"
           b"OLD1,02/04/2022,PC Jones,Probation,Active\n")


def connect(*rows: tuple[str, str]) -> bytes:
    """A Connect CSV: one (crime reference, nominal ID) per row."""
    return CONNECT_HEADER + b"".join(f"{crime},{nominal},03/04/2022,Theft\n".encode()
                                     for crime, nominal in rows)


def state(db: Path) -> tuple[str, list[tuple]]:
    return hashlib.sha256(db.read_bytes()).hexdigest(), query(db, "select * from uploads")


def problem(info: pytest.ExceptionInfo) -> str:
    return info.value.report.problem_list[0]["problem"]


def crimes(db: Path) -> list[tuple]:
    return query(db, "select crime_reference, nominal_id from crimes order by 1")


def ingest(db: Path, kind: str, data: bytes, as_at: dt.date, **kwargs):
    return service.ingest_bytes(db, kind, f"{kind}.csv", data, as_at=as_at,
                                use_column_map=False, **kwargs)


@pytest.fixture
def db(tmp_path) -> Path:
    """A real tracker snapshot (as at 30/06/2022) of OLD0 and OLD1, and their two crimes."""
    path = tmp_path / "o2r.duckdb"
    ingest(path, "tracker", TRACKER, dt.date(2022, 6, 30))
    ingest(path, "connect", connect(("CR1", "OLD0"), ("CR2", "OLD1")), dt.date(2022, 6, 30))
    return path


def test_held_back_on_the_command_line_until_confirmed(db, tmp_path, capsys):
    path = tmp_path / "connect.csv"
    path.write_bytes(connect(("CR3", "OLD0"), ("CR4", "X-OLD1"), ("CR5", "X-OLD2")))
    before = state(db)
    command = ["ingest", "connect", str(path), "--as-at", "2022-07-31", "--db", str(db)]
    assert cli.main(command) == 1
    err = capsys.readouterr().err
    assert ("Only 1 of the 3 people in connect.csv is on the tracker (snapshot 1, as at "
            "30/06/2022, which the figures use), so the crimes of the other 2 would count in no "
            "figure") in err
    assert "Check that the export writes the nominal IDs as the tracker does" in err
    assert ("If these nominal IDs really are not on the tracker, confirm it: tick the "
            "confirmation on the Data page, or add --confirm to the ingest command") in err
    assert state(db) == before
    assert not list(db.parent.glob("*.writing-*"))

    assert cli.main([*command, "--confirm"]) == 0
    out = capsys.readouterr().out
    assert "3 connect rows accepted" in out
    assert ("Warning: Only 1 of the 3 people in connect.csv is on the tracker (its latest "
            "snapshot in force), so the crimes of the other 2 count in no figure.") in out
    assert query(db, "select count(*) from crimes") == [(5,)]


def test_most_people_on_the_tracker_is_stored_without_a_word(db):
    report = ingest(db, "connect", connect(("CR3", "OLD0"), ("CR4", "OLD1"), ("CR5", "X-OLD2")),
                    dt.date(2022, 7, 31))
    assert report.upload_id == 3
    assert (report.people, report.people_on_tracker) == (3, 2)
    assert report.tracker_match_warning() is None


def test_crimes_an_export_would_move_off_the_tracker_are_counted(db):
    # The same crimes exported again with prefixed IDs: stored, they would leave the
    # figures of the two people on the tracker.
    before = state(db)
    with pytest.raises(ConnectDoesNotFit) as info:
        ingest(db, "connect", connect(("CR1", "WMP-OLD0"), ("CR2", "WMP-OLD1")),
               dt.date(2022, 7, 31))
    assert state(db) == before
    assert problem(info) == (
        "None of the 2 people in connect.csv are on the tracker (snapshot 1, as at "
        "30/06/2022, which the figures use), so the crimes of the other 2 would count in no "
        "figure. 2 crimes already stored against people on the tracker would move to nominal "
        "IDs in connect.csv that are not on it, and leave their figures")
    assert info.value.report.held_back
    assert crimes(db) == [("CR1", "OLD0"), ("CR2", "OLD1")]


def test_most_people_on_the_tracker_but_crimes_moving_off_it_is_held_back(db):
    # Half the people and more match, but a stored crime would leave a person on the tracker.
    with pytest.raises(ConnectDoesNotFit) as info:
        ingest(db, "connect", connect(("CR1", "OLD0"), ("CR2", "WMP-OLD1"), ("CR3", "OLD1")),
               dt.date(2022, 7, 31))
    assert problem(info) == (
        "1 crime already stored against people on the tracker (snapshot 1) would move to "
        "nominal IDs in connect.csv that are not on it, and leave their figures")
    # The same people under two spellings: half on the tracker, and their crimes moving.
    with pytest.raises(ConnectDoesNotFit):
        ingest(db, "connect", connect(("CR1", "OLD0"), ("CR2", "WMP-OLD1"), ("CR3", "WMP-OLD0"),
                                      ("CR4", "OLD1")), dt.date(2022, 7, 31))
    assert crimes(db) == [("CR1", "OLD0"), ("CR2", "OLD1")]


def test_a_crime_moved_onto_the_tracker_is_a_correction_and_stored(db):
    ingest(db, "connect", connect(("CR3", "X-OLD0"), ("CR4", "OLD1")), dt.date(2022, 7, 1))
    report = ingest(db, "connect", connect(("CR3", "OLD0")), dt.date(2022, 7, 31))
    assert report.upload_id == 4 and report.tracker_match_warning() is None
    assert crimes(db)[2] == ("CR3", "OLD0")


def test_the_tracker_is_the_latest_snapshot_the_figures_use(db):
    # The latest snapshot writes the same people WMP-OLD0: the plain IDs of the snapshot
    # before count in no figure now.
    ingest(db, "tracker", TRACKER.replace(b"OLD", b"WMP-OLD"), dt.date(2022, 7, 31))
    with pytest.raises(ConnectDoesNotFit) as info:
        ingest(db, "connect", connect(("CR3", "OLD0"), ("CR4", "OLD1")), dt.date(2022, 7, 31))
    assert problem(info).startswith("None of the 2 people in connect.csv are on the tracker "
                                    "(snapshot 3, as at 31/07/2022")


def test_crimes_kept_from_a_later_export_are_not_counted_as_moved(db):
    # An older export's record of a crime never replaces a later export's (merge_crimes).
    with pytest.raises(ConnectDoesNotFit) as info:
        ingest(db, "connect", connect(("CR1", "WMP-OLD0"), ("CR9", "WMP-OLD1")),
               dt.date(2022, 5, 31))
    assert "already stored" not in problem(info)


def test_with_no_tracker_yet_it_is_stored_and_the_warning_says_to_upload_one(tmp_path):
    path = tmp_path / "o2r.duckdb"
    report = ingest(path, "connect", connect(("CR1", "OLD0")), dt.date(2022, 6, 30))
    assert report.upload_id == 1
    assert report.tracker_match_warning() == (
        "None of the 1 person in connect.csv is on the tracker (its latest snapshot in "
        "force), so the crimes of the other 1 count in no figure. If the nominal IDs are "
        "written differently in the two exports (a prefix, a name beside the ID), correct the "
        "Connect export and upload it again; if no tracker snapshot is in force (none "
        "uploaded, or all withdrawn), upload the tracker.")


def test_with_every_snapshot_withdrawn_a_stored_crime_given_another_id_is_held_back(
        db, security_db):
    service.withdraw_snapshot(db, service.Who("Test admin"), 1, service.WITHDRAWAL_REASONS[0])
    with pytest.raises(ConnectDoesNotFit) as info:
        ingest(db, "connect", connect(("CR1", "WMP-OLD0"), ("CR3", "OLD1")), dt.date(2022, 7, 31))
    assert problem(info) == (
        "1 crime already stored has another nominal ID in connect.csv: storing it moves them "
        "to this file's IDs, and no tracker snapshot is in force to check those IDs against")
    assert info.value.confirm_when() == "the nominal IDs in this file really are right"
    # New crimes only: stored, with the warning.
    report = ingest(db, "connect", connect(("CR3", "OLD1")), dt.date(2022, 7, 31))
    assert "all withdrawn" in report.tracker_match_warning()


def test_the_data_page_stores_it_only_once_confirmed(app_as, db):
    at = app_as("admin", name="Test admin", db=db).run()
    at.switch_page("../pages/data.py").run()
    at.file_uploader[0].set_value(
        ("connect.csv", connect(("CR3", "X-OLD0"), ("CR4", "X-OLD1")), "text/csv")).run()
    at.radio[0].set_value("Connect export").run()
    # Said before the click: the check needs the writer's lock, so it runs as it is stored.
    assert any("an export most of whose people are not on the tracker, or that would move "
               "stored crimes off it, is held back for you to confirm" in c.value
               for c in at.caption)
    next(b for b in at.button if b.label == "Store this upload").click().run()
    assert not at.exception, at.exception
    warning = next(w.value for w in at.warning if "Not stored yet" in w.value).replace("\\", "")
    assert "None of the 2 people in connect.csv are on the tracker (snapshot 1" in warning
    assert at.checkbox[0].label == ("These nominal IDs really are not on the tracker: store "
                                    "this upload")
    assert next(b for b in at.button if b.label == "Store this upload").disabled
    assert query(db, "select count(*) from uploads") == [(2,)]
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label == "Store this upload").click().run()
    assert not at.exception, at.exception
    assert any("Stored: 2 crime records" in s.value for s in at.success)
    assert any("None of the 2 people" in w.value for w in at.warning)
    assert query(db, "select count(*) from crimes") == [(4,)]


def test_the_first_real_export_is_not_held_back_by_the_demo_crimes_it_removes(demo_db):
    # A crime reference the demo data also has, under a real person's ID: the demo goes in the
    # same step, so nothing of it is "moved".
    report = ingest(demo_db, "connect", connect(("20SYN/001005/19", "REAL1")),
                    dt.date(2022, 8, 31))
    assert report.replaced_demo and report.upload_id is not None
    assert crimes(demo_db) == [("20SYN/001005/19", "REAL1")]
