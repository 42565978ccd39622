"""Bad and awkward uploads: each is rejected with every problem listed in the user's terms
(Excel row number, their own header, the value, what is wrong, how to fix it), and a
rejected upload changes nothing already stored.

Files are small inline byte strings (XLSX built in memory with xlsxwriter).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import re
import sys
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dashboard import service
from dashboard.ingest.validation import PROBLEM_COLUMNS, UploadRejected, prepare
from dashboard.ingest_command import describe

from conftest import query

AS_AT = dt.date(2022, 7, 31)
D = dt.date

DATE_FIX = "Write dates as dd/mm/yyyy with a four-digit year, e.g. 03/04/2022 for 3 April 2022"
STATUS_FIX = ("Use one of: Referral/Waiting; Active; Inactive; Withdrawn "
              "(or map your own term in the column map file)")
SOURCE_FIX = ("Use one of: O2R officer outreach; Retail business; Neighbourhood policing team; "
              "Probation; Custody; Partner agency; Word of mouth "
              "(or map your own term in the column map file)")
MONEY_FIX = "Write amounts as numbers, e.g. 1234.50 or £1,234.50"

TRACKER_HEADER = b"Nominal ID,Referral Date,Referral Source,Status\n"
CONNECT_HEADER = b"Crime Reference,Nominal ID,Offence Date,Offence Type,Value Stolen\n"
GOOD_TRACKER = (b"Nominal ID,Referral Date,Officer,Referral Source,Status\n"
                b"N100,01/02/2022,PC Jones,Probation,Active\n"
                b"N101,02/02/2022,PC Jones,Custody,Referral/Waiting\n")


# ---------------------------------------------------------------- helpers and fixtures

@pytest.fixture(autouse=True)
def _no_site_settings(monkeypatch):
    """A force's column map or size limit in the environment must not change these tests."""
    monkeypatch.delenv("O2R_COLUMN_MAP", raising=False)
    monkeypatch.delenv("O2R_MAX_UPLOAD_MB", raising=False)


def rejected(kind: str, data: bytes, file_name: str = "upload.csv", **kwargs) -> UploadRejected:
    kwargs.setdefault("use_column_map", False)
    with pytest.raises(UploadRejected) as info:
        prepare(kind, file_name, data, as_at=AS_AT, **kwargs)
    return info.value


def problems(kind: str, data: bytes, file_name: str = "upload.csv", **kwargs) -> list[dict]:
    return rejected(kind, data, file_name, **kwargs).report.problems.to_dict("records")


def accepted(kind: str, data: bytes, file_name: str = "upload.csv", **kwargs):
    kwargs.setdefault("use_column_map", False)
    return prepare(kind, file_name, data, as_at=AS_AT, **kwargs)


def clean_rows(prepared) -> list[dict]:
    return prepared.clean.to_pylist()


def ingest(db: Path, kind: str, data: bytes, file_name: str = "upload.csv", **kwargs):
    kwargs.setdefault("use_column_map", False)
    # These tests store small snapshots over the fixture's; tests/test_ingest_text.py has the
    # tests of the check that refuses a much smaller snapshot.
    kwargs.setdefault("confirmed", True)
    kwargs.setdefault("as_at", AS_AT)
    return service.ingest_bytes(db, kind, file_name, data, uploaded_by="pytest", **kwargs)


def db_state(db: Path) -> tuple[str, dict[str, list[tuple]]]:
    """The database file's hash and the full contents of every table."""
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    tables = {t: query(db, f"select * from {t} order by all")
              for t in ("uploads", "referrals", "crimes", "labels")}
    return digest, tables


@pytest.fixture
def db(tmp_path) -> Path:
    """A database holding one good tracker upload."""
    path = tmp_path / "o2r.duckdb"
    report = ingest(path, "tracker", GOOD_TRACKER, "good_tracker.csv")
    assert report.upload_id == 1 and report.rows == 2
    return path


def assert_rejected_and_unchanged(db: Path, kind: str, data: bytes,
                                  file_name: str = "bad.csv") -> UploadRejected:
    before = db_state(db)
    with pytest.raises(UploadRejected) as info:
        ingest(db, kind, data, file_name)
    assert db_state(db) == before
    assert not list(db.parent.glob("*.writing-*")), "a half-written copy was left behind"
    return info.value


def xlsx_bytes(rows: list[list | None], title_rows: tuple[str | None, ...] = ()) -> bytes:
    """An in-memory workbook: title lines, then the rows; None is a blank row.

    Dates are written as real date cells with a dd/mm/yyyy format.
    """
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Tracker")
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    excel_row = 0
    for title in title_rows:
        if title is not None:
            sheet.write(excel_row, 0, title)
        excel_row += 1
    for row in rows:
        for col, value in enumerate(row or []):
            if isinstance(value, dt.date):
                sheet.write_datetime(excel_row, col, dt.datetime.combine(value, dt.time()),
                                     date_format)
            elif value is not None:
                sheet.write(excel_row, col, value)
        excel_row += 1
    workbook.close()
    return buffer.getvalue()


# ---------------------------------------------------------------- missing columns and values

def test_unchanged_check_is_not_vacuous(db):
    """Control: a good upload does change what db_state sees, so equality means something."""
    before = db_state(db)
    ingest(db, "tracker", TRACKER_HEADER + b"N9,03/04/2022,Probation,Active\n")
    after = db_state(db)
    assert after[0] != before[0]
    assert len(after[1]["referrals"]) == len(before[1]["referrals"]) + 1



def test_tracker_without_referral_source_is_rejected_on_the_header_row(db):
    data = (b"Nominal ID,Referral Date,Officer,Status\n"
            b"N1,03/04/2022,PC Jones,Active\n")
    error = assert_rejected_and_unchanged(db, "tracker", data)
    assert error.report.problems.to_dict("records") == [{
        "row": 1, "column": "referral_source", "value": "",
        "problem": "Required column 'referral_source' was not found in the header row",
        "fix": "Add a column headed 'Referral Source' (or 'Source', 'Referral Route', "
               "'Referred By'), or map your own header to it in the column map file"}]


def test_connect_without_crime_reference_is_rejected_on_the_header_row(db):
    data = b"Nominal ID,Offence Date,Offence Type\nN1,03/04/2022,Theft\n"
    error = assert_rejected_and_unchanged(db, "connect", data)
    assert error.report.problems.to_dict("records") == [{
        "row": 1, "column": "crime_reference", "value": "",
        "problem": "Required column 'crime_reference' was not found in the header row",
        "fix": "Add a column headed 'Crime Reference' (or 'Crime Ref', 'Crime Number', "
               "'Crime No'), or map your own header to it in the column map file"}]


def test_two_headers_meaning_one_column_are_named_with_their_letters(db):
    data = (b"Nominal ID,Referral Date,Officer,Referral Source,Status,Crime Ref,Source\n"
            b"N1,03/04/2022,PC Jones,Probation,Active,,Custody\n")
    error = assert_rejected_and_unchanged(db, "tracker", data)
    assert error.report.problems.to_dict("records") == [{
        "row": 1, "column": "Source", "value": "Source",
        "problem": "Two columns both mean 'referral_source': column D ('Referral Source') and "
                   "column G ('Source')",
        "fix": "Delete or rename one of them"}]


def test_one_problem_per_missing_required_column():
    found = problems("connect", b"Nominal ID,Value\nN1,5\n")
    assert [(p["row"], p["column"]) for p in found] == [
        (1, "crime_reference"), (1, "offence_date"), (1, "offence_type")]


def test_missing_required_value(db):
    data = TRACKER_HEADER + b"N1,03/04/2022,Probation,Active\n,04/04/2022,Custody,Active\n"
    error = assert_rejected_and_unchanged(db, "tracker", data)
    assert error.report.problems.to_dict("records") == [{
        "row": 3, "column": "Nominal ID", "value": "", "problem": "Required value is missing",
        "fix": "Enter the nominal id on this row"}]


@pytest.mark.parametrize(("bad_date", "why"), [
    # The fix says to write dd/mm/yyyy, which most of these are: the problem says what else
    # is wrong, or the uploader is sent to correct what is already right.
    ("31/02/2022", ": there is no 31 February in 2022"),
    ("29/02/2023", ": there is no 29 February in 2023"),
    ("12/31/2021", ": dates are read day first, and there is no month 31; if it is written "
                   "month first (US order), the date is 31/12/2021"),
    ("03/04/22", ": its year has two digits, and the century cannot be guessed"),
    ("03-Apr-22", ": its year has two digits, and the century cannot be guessed"),  # Excel's
    ("3 April 22", ": its year has two digits, and the century cannot be guessed"),
    ("03/04/1850", ": the year 1850 is not between 1900 and 2100"),
    ("44562", ": it looks like an Excel date serial number (the date cell was saved as text or "
              "as a number)"),
    ("2022/13/01", ""),
])
def test_unparseable_dates_are_rejected_saying_why(db, bad_date, why):
    data = TRACKER_HEADER + b"N1,03/04/2022,Probation,Active\n" \
        + f"N2,{bad_date},Probation,Active\n".encode()
    error = assert_rejected_and_unchanged(db, "tracker", data)
    assert error.report.problems.to_dict("records") == [{
        "row": 3, "column": "Referral Date", "value": bad_date,
        "problem": f"'{bad_date}' is not a date we can read{why}", "fix": DATE_FIX}]


LONE_RETURN = ("a carriage return on its own (a line break typed or pasted into the cell, not "
               "in quotes) splits the row in two, so the next row holds the rest of it")


def test_a_lone_carriage_return_inside_a_cell_is_named_not_read_as_two_rows(db):
    # Before: "'Prob' is not a recognised referral source", "'ation' has no digits",
    # "'Active' is not a date" and "Required value is missing", never the cause.
    data = (b"Nominal ID,Referral Date,Referral Source,Status,Notes\r\n"
            b"N1,03/04/2022,Probation,Active,\r\nN2,04/04/2022,Prob\ration,Active,\r\n")
    error = assert_rejected_and_unchanged(db, "tracker", data)
    assert error.report.problems.to_dict("records") == [{
        "row": 3, "column": "Referral Source", "value": "",
        "problem": f"bad.csv: row 3 ends inside its 'Referral Source' cell, after 'Prob': "
                   f"{LONE_RETURN}",
        "fix": "Open the file in a text editor and join the two halves of the row (delete the "
               "line break inside the cell), or put that cell in double quotes; if the file "
               "came from a system, export it again"}]


def test_a_lone_carriage_return_in_free_text_is_placed_but_not_quoted(db):
    # One inside quotes is the cell's own (row 2), and no row break.
    data = (b"Nominal ID,Referral Date,Referral Source,Status,Notes\n"
            b'N1,03/04/2022,Probation,Active,"Mr X\rsaid"\n'
            b"N2,04/04/2022,Probation,Active,Mr Y\rrang\n")
    [problem] = assert_rejected_and_unchanged(db, "tracker", data).report.problem_list
    assert (problem["row"], problem["column"]) == (3, "Notes")
    assert problem["problem"] == f"bad.csv: row 3 ends inside its 'Notes' cell: {LONE_RETURN}"
    assert "Mr Y" not in str(problem)


def test_uk_date_is_read_day_first(db):
    ingest(db, "tracker", TRACKER_HEADER + b"N1,03/04/2022,Probation,Active\n")
    assert query(db, "select nominal_id, referral_date from referrals where snapshot_id = 2") \
        == [("N1", D(2022, 4, 3))]


@pytest.mark.parametrize("written", [
    # A records system's timestamps: the date is the day it names, whatever the time.
    "03/04/2022 10:15", "03/04/2022 10:15:00", "03/04/2022 10:15:00.250", "03/04/2022 10:15 PM",
    "03/04/2022 10:15:00 am", "2022-04-03 10:15", "2022-04-03 23:59:59", "2022-04-03T10:15",
    "2022-04-03T10:15:00", "2022-04-03 10:15:00.000", "2022-04-03T10:15:00.123456",
])
def test_a_date_with_a_time_of_day_is_read_as_its_date(db, written):
    ingest(db, "tracker", TRACKER_HEADER + f"N1,{written},Probation,Active\n".encode())
    # and by the strict reader, as text in a workbook cell
    ingest(db, "tracker", xlsx_bytes([TRACKER_HEADER.decode().strip().split(","),
                                      ["N1", written, "Probation", "Active"]]),
           file_name="upload.xlsx")
    assert query(db, "select snapshot_id, referral_date from referrals where snapshot_id > 1") \
        == [(2, D(2022, 4, 3)), (3, D(2022, 4, 3))]


# ---------------------------------------------------------------- vocabularies

def test_values_outside_a_vocabulary_are_rejected(db):
    data = TRACKER_HEADER + b"N1,03/04/2022,Carrier pigeon,Waitlist\n"
    error = assert_rejected_and_unchanged(db, "tracker", data)
    assert error.report.problems.to_dict("records") == [
        {"row": 2, "column": "Referral Source", "value": "Carrier pigeon",
         "problem": "'Carrier pigeon' is not a recognised referral source", "fix": SOURCE_FIX},
        {"row": 2, "column": "Status", "value": "Waitlist",
         "problem": "'Waitlist' is not a recognised status", "fix": STATUS_FIX},
    ]


def test_category_matching_ignores_case_spacing_and_punctuation(db):
    data = (b"Nominal ID,Referral Date,Officer,Referral Source,Status\n"
            b"N1,03/04/2022,OFFICER 1 ,probation,referral / waiting\n"
            b"N2,04/04/2022,Officer 1,CUSTODY,ACTIVE \n")
    ingest(db, "tracker", data)
    assert query(db, "select nominal_id, officer, referral_source, status from referrals "
                     "where snapshot_id = 2 order by nominal_id") == [
        ("N1", "OFFICER 1", "Probation", "Referral/Waiting"),
        ("N2", "OFFICER 1", "Custody", "Active"),
    ]


# ---------------------------------------------------------------- row-level consistency

def test_repeated_nominal_and_referral_date_names_the_first_row(db):
    data = TRACKER_HEADER + (b"N1,03/04/2022,Probation,Active\n"
                             b"N2,03/04/2022,Probation,Active\n"
                             b"N1,03/04/2022,Custody,Inactive\n")
    error = assert_rejected_and_unchanged(db, "tracker", data)
    assert error.report.problems.to_dict("records") == [{
        "row": 4, "column": "Referral Date", "value": "03/04/2022",
        "problem": "The same nominal ID and referral date as row 2",
        "fix": "Remove the repeated row, or correct the referral date if it is a new referral "
               "(nominal IDs that differ only in capitals or character width are one person)"}]


def test_dates_out_of_order(db):
    data = (b"Nominal ID,Referral Date,Referral Source,First Contact Date,"
            b"Rehab Admission Date,Rehab Facility,Rehab Exit Date,Rehab Exit Reason\n"
            b"N1,03/04/2022,Probation,02/04/2022,,,,\n"
            b"N2,03/04/2022,Probation,,10/05/2022,Hope House,09/05/2022,Completed\n")
    error = assert_rejected_and_unchanged(db, "tracker", data)
    assert error.report.problems.to_dict("records") == [
        {"row": 2, "column": "First Contact Date", "value": "02/04/2022",
         "problem": "First contact date 02/04/2022 is before the referral date (03/04/2022)",
         "fix": "Check both dates: the first contact date cannot come before the referral date"},
        {"row": 3, "column": "Rehab Exit Date", "value": "09/05/2022",
         "problem": "Rehab exit date 09/05/2022 is before the rehab admission date (10/05/2022)",
         "fix": "Check both dates: the rehab exit date cannot come before the rehab admission "
                "date"},
    ]


def test_date_after_the_as_at_date(db):
    data = TRACKER_HEADER + b"N1,31/07/2022,Probation,Active\nN2,01/08/2022,Probation,Active\n"
    error = assert_rejected_and_unchanged(db, "tracker", data)
    assert error.report.problems.to_dict("records") == [{
        "row": 3, "column": "Referral Date", "value": "01/08/2022",
        "problem": "The date 01/08/2022 is after the upload's as-at date",
        "fix": "Correct the date, or upload with a later as-at date"}]


def test_admission_without_facility_and_exit_without_reason(db):
    data = (b"Nominal ID,Referral Date,Referral Source,Rehab Admission Date,Rehab Facility,"
            b"Rehab Exit Date,Rehab Exit Reason\n"
            b"N1,03/04/2022,Probation,10/05/2022,,,\n"
            b"N2,03/04/2022,Probation,10/05/2022,Hope House,20/06/2022,\n")
    error = assert_rejected_and_unchanged(db, "tracker", data)
    assert error.report.problems.to_dict("records") == [
        {"row": 2, "column": "Rehab Facility", "value": "",
         "problem": "A rehab admission date is given but no rehab facility",
         "fix": "Enter the rehab facility the person was admitted to"},
        {"row": 3, "column": "Rehab Exit Reason", "value": "",
         "problem": "A rehab exit date is given but no exit reason",
         "fix": "Enter the exit reason: Completed; Self-discharged; Discharged - rule breach; "
                "Discharged - other"},
    ]


def test_every_problem_is_listed_sorted_by_row(db):
    # Bad cells placed right-to-left so the sort is doing real work.
    data = TRACKER_HEADER + (b"N1,03/04/2022,Probation,Waitlist\n"
                             b"N2,03/04/2022,Probation,Active\n"
                             b"N3,2022/13/01,Probation,Active\n"
                             b",03/04/2022,Carrier pigeon,Active\n")
    error = assert_rejected_and_unchanged(db, "tracker", data)
    found = error.report.problems.to_dict("records")
    assert [(p["row"], p["column"], p["value"]) for p in found] == [
        (2, "Status", "Waitlist"),
        (4, "Referral Date", "2022/13/01"),
        (5, "Nominal ID", ""),
        (5, "Referral Source", "Carrier pigeon"),
    ]
    assert all(p["problem"] and p["fix"] for p in found)
    assert "4 problem(s)" in str(error)


def test_problems_csv_round_trips_through_pandas():
    error = rejected("tracker", TRACKER_HEADER + (b"N1,03/04/2022,Probation,Waitlist\n"
                                                  b"N2,31/02/2022,Probation,Active\n"))
    frame = pd.read_csv(io.BytesIO(error.report.problems_csv()), encoding="utf-8-sig",
                        dtype=str, keep_default_na=False)
    assert list(frame.columns) == PROBLEM_COLUMNS
    assert frame.to_dict("records") == [
        {k: str(v) for k, v in p.items()}
        for p in error.report.problems.to_dict("records")]
    assert len(frame) == 2


# ---------------------------------------------------------------- Connect

def test_connect_duplicate_crime_reference_in_one_file(db):
    data = CONNECT_HEADER + (b"CR1,N1,03/04/2022,Theft,5\n"
                             b"CR2,N1,03/04/2022,Theft,5\n"
                             b"CR1,N2,04/04/2022,Burglary,7\n")
    error = assert_rejected_and_unchanged(db, "connect", data)
    assert error.report.problems.to_dict("records") == [{
        "row": 4, "column": "Crime Reference", "value": "CR1",
        "problem": "The crime reference CR1 also appears on row 2",
        "fix": "Each crime reference may appear once: remove the repeated row"}]


def test_connect_pound_amount_with_thousands_separator_is_stored(db):
    ingest(db, "connect", CONNECT_HEADER + 'CR1,N1,03/04/2022,Theft,"£1,234.50"\n'.encode())
    assert query(db, "select crime_reference, value_stolen_gbp::varchar from crimes") == [
        ("CR1", "1234.50")]


def test_connect_amount_with_letters_is_rejected(db):
    data = CONNECT_HEADER + "CR1,N1,03/04/2022,Theft,£12abc\n".encode()
    error = assert_rejected_and_unchanged(db, "connect", data)
    assert error.report.problems.to_dict("records") == [{
        "row": 2, "column": "Value Stolen", "value": "£12abc",
        "problem": "'£12abc' is not an amount in pounds", "fix": MONEY_FIX}]


def test_second_connect_upload_replaces_overlapping_crimes(db):
    ingest(db, "connect", CONNECT_HEADER + (b"CR1,N1,03/04/2022,Theft,10\n"
                                            b"CR2,N1,04/04/2022,Theft,20\n"), "connect_1.csv")
    ingest(db, "connect", CONNECT_HEADER + (b"CR2,N1,04/04/2022,Burglary,25\n"
                                            b"CR3,N2,05/04/2022,Theft,30\n"), "connect_2.csv")
    assert query(db, "select crime_reference, nominal_id, offence_type, "
                     "value_stolen_gbp::varchar, upload_id from crimes order by 1") == [
        ("CR1", "N1", "Theft", "10.00", 2),
        ("CR2", "N1", "Burglary", "25.00", 3),
        ("CR3", "N2", "Theft", "30.00", 3),
    ]



# The fast path (header first), and the strict reader (a title row above the header).
@pytest.mark.parametrize("title", [b"", b"Connect export, May 2022\n"])
def test_an_older_connect_export_uploaded_later_does_not_undo_a_newer_one(db, title,
                                                                         monkeypatch):
    # An old export uploaded after a newer one put back what the newer one had corrected.
    from dashboard.ingest import validation

    read_fast = []
    real_fast = validation.prepare_fast

    def prepare_fast(*args):
        prepared = real_fast(*args)  # Declined: the strict reader reads the file
        read_fast.append(prepared.report.file_name)
        return prepared
    monkeypatch.setattr(validation, "prepare_fast", prepare_fast)
    newer = CONNECT_HEADER + b"CR1,N1,03/04/2022,Burglary,25\nCR2,N1,04/04/2022,Theft,20\n"
    older = title + CONNECT_HEADER + "CR1,N1,03/04/2022,Theft,£10\n" \
        "CR3,N2,01/04/2022,Theft,5\n".encode()
    ingest(db, "connect", newer, "connect_june.csv", as_at=dt.date(2022, 6, 30))
    report = ingest(db, "connect", older, "connect_may.csv", as_at=dt.date(2022, 5, 31))
    assert report.kept_later == 1
    assert ("connect_may.csv" in read_fast) == (not title)
    assert query(db, "select crime_reference, offence_type, value_stolen_gbp::varchar, "
                     "upload_id from crimes order by 1") == [
        ("CR1", "Burglary", "25.00", 2),  # the June export's record, kept
        ("CR2", "Theft", "20.00", 2),
        ("CR3", "Theft", "5.00", 3),  # only in May's: added
    ]
    assert any("taken later" in line for line in describe(report))
    same_day = ingest(db, "connect", CONNECT_HEADER + b"CR1,N1,03/04/2022,Robbery,30\n",
                      "connect_june_again.csv", as_at=dt.date(2022, 6, 30))
    assert same_day.kept_later == 0  # on the same as-at date, the later upload wins
    assert query(db, "select offence_type from crimes where crime_reference = 'CR1'") == [
        ("Robbery",)]

# ---------------------------------------------------------------- encodings

def test_cp1252_csv_with_pound_and_en_dash(db):
    data = (b"Nominal ID,Referral Date,Referral Source,Offending Area,Status\n"
            b"N1,03/04/2022,Probation,Town Centre \x96 \xa35 zone,Active\n")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really a Windows-1252 file
    ingest(db, "tracker", data)
    assert query(db, "select offending_area from referrals where snapshot_id = 2") == [
        ("Town Centre – £5 zone",)]


ERROR_PROBLEM = ("'{error}' is a spreadsheet error: the formula that should give the {what} "
                 "here failed")
ERROR_FIX = "Correct the formula (or type the value) in the spreadsheet, then export and " \
    "upload again"


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_a_formulas_error_is_refused_once_where_it_is_read(db, form):
    # A lookup that found nothing shows #N/A: saved as CSV it was stored as an area or an
    # officer called "#N/A"; in a workbook it came over as an empty cell, the value lost.
    header = ["Nominal ID", "Referral Date", "Officer", "Referral Source", "Offending Area",
              "First Contact Date", "Notes"]
    rows = [["N1", "03/04/2022", "#N/A", "Probation", "Aston", "#VALUE!", "#REF!"],
            ["N2", "04/04/2022", "PC Jones", "Probation", "#REF!", "05/04/2022", ""]]
    if form == "csv":
        data = "\n".join(",".join(row) for row in [header, *rows]).encode()
    else:
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = book.add_worksheet()
        for r, row in enumerate([header, *rows]):
            for c, value in enumerate(row):
                if value.startswith("#"):  # a formula whose saved result is the error
                    sheet.write_formula(r, c, "=VLOOKUP(1,Z:Z,2,FALSE)", None, value)
                else:
                    sheet.write_string(r, c, value)
        book.close()
        data = buffer.getvalue()
    error = assert_rejected_and_unchanged(db, "tracker", data, f"bad.{form}")
    assert [(p["row"], p["column"], p["value"], p["problem"], p["fix"])
            for p in error.report.problems.to_dict("records")] == [
        (2, "Officer", "#N/A", ERROR_PROBLEM.format(error="#N/A", what="officer"), ERROR_FIX),
        (2, "First Contact Date", "#VALUE!",
         ERROR_PROBLEM.format(error="#VALUE!", what="first contact date"), ERROR_FIX),
        (3, "Offending Area", "#REF!",
         ERROR_PROBLEM.format(error="#REF!", what="offending area"), ERROR_FIX)]


def test_a_date_of_birth_is_never_repeated_back_in_the_problem_list():
    # The list is shown on the Data page and downloaded as a CSV; a date of birth is read
    # only for the age band, and never stored or shown.
    data = (b"Nominal ID,Referral Date,Referral Source,Status,Date of Birth\n"
            b"N1,03/04/2022,Probation,Active,3/12/91\n"
            b"N2,03/04/2022,Probation,Active,31/12/2023\n")
    found = problems("tracker", data)
    assert [(p["row"], p["column"], p["value"], p["problem"]) for p in found] == [
        (2, "Date of Birth", "", "The cell is not a date we can read"),
        (3, "Referral Date", "03/04/2022", "Referral date 03/04/2022 is before the date of "
                                           "birth"),
        (3, "Date of Birth", "", "The date is after the upload's as-at date")]
    assert not any("91" in str(p) or "2023" in str(p) for p in found)


def test_a_hint_in_brackets_does_not_hide_a_header_unless_it_names_someone():
    data = (b"Nominal ID,Referral Date (dd/mm/yyyy),Referral Source,Status,Officer [O2R],"
            b"Nominal (name)\nN1,03/04/2022,Probation,Active,PC Jones,Jane Doe\n")
    prepared = accepted("tracker", data)
    assert prepared.report.matched["Referral Date (dd/mm/yyyy)"] == "referral_date"
    assert prepared.report.matched["Officer [O2R]"] == "officer"
    assert prepared.report.dropped_identifying == ["Nominal (name)"]


def test_a_date_cell_with_fractions_of_a_second_is_read_as_its_date(db):
    # =NOW() or a system's timestamp, formatted to show the date: Excel shows 11/06/2021, and
    # the file was refused 523 times over ("'2021-06-11 14:41:46.667000' is not a date").
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet, dates = book.add_worksheet(), book.add_format({"num_format": "dd/mm/yyyy"})
    for c, value in enumerate(["Nominal ID", "Referral Date", "Referral Source", "Status"]):
        sheet.write_string(0, c, value)
    sheet.write_row(1, 0, ["N1"])
    sheet.write_datetime(1, 1, dt.datetime(2021, 6, 11, 14, 41, 46, 667000), dates)
    sheet.write_row(1, 2, ["Probation", "Active"])
    book.close()
    ingest(db, "tracker", buffer.getvalue(), "tracker.xlsx")
    assert query(db, "select referral_date from referrals where snapshot_id = 2") == [
        (dt.date(2021, 6, 11),)]


def uncalculated(workbook: bytes) -> bytes:
    """The workbook with its formulas' saved results taken out, as a program that does not
    calculate saves them (xlsxwriter saves 0)."""
    source, out = zipfile.ZipFile(io.BytesIO(workbook)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                part = re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1", part)
            target.writestr(item, part)
    return out.getvalue()


@pytest.mark.parametrize("saved", ["no value", "XlsxWriter's 0"])
def test_a_formula_never_calculated_is_refused_where_it_is_read(db, saved):
    # Its value is not in the file: 85 first-contact dates were stored as blank (no value
    # saved), and every offending area as "0" (XlsxWriter saves 0, and marks the workbook to
    # be calculated when opened).
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate([["Nominal ID", "Referral Date", "Referral Source", "Status",
                              "First Contact Date", "Notes"],
                             ["N1", "03/04/2022", "Probation", "Active", None, None]]):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write_string(r, c, value)
    sheet.write_formula(1, 4, '=B2&""')
    sheet.write_formula(1, 5, '="see "&A2')  # a column not read: no matter
    book.close()
    workbook = buffer.getvalue()
    error = assert_rejected_and_unchanged(
        db, "tracker", uncalculated(workbook) if saved == "no value" else workbook, "bad.xlsx")
    assert error.report.problems.to_dict("records") == [{
        "row": 2, "column": "First Contact Date", "value": "",
        "problem": "The cell holds a formula whose result was never worked out (the workbook "
                   "was saved by a program that does not calculate), so its value is not in "
                   "the file",
        "fix": "Open the workbook in Excel, let it calculate (Formulas > Calculate Now), save "
               "it and upload again"}]


@pytest.mark.parametrize("kind", ["tracker", "connect"])
def test_utf8_text_with_one_windows_byte_is_refused_not_read_as_windows_text(db, kind):
    # Read as Windows-1252 for the one stray byte, every accented name was stored garbled
    # ("PC ZoÃ« Oâ€™Brien"), and split from its earlier spelling.
    if kind == "tracker":
        data = ("Nominal ID,Referral Date,Officer,Referral Source,Status,Notes\n"
                "N1,03/04/2022,PC Zoë O’Brien,Probation,Active,\n"
                "N2,04/04/2022,PC Zoë O’Brien,Probation,Active,paid £5\n").encode()
    else:  # the fast path, which reads Connect exports, is declined and the reader says why
        data = ("Crime Reference,Nominal ID,Offence Date,Offence Type,Offence Area\n"
                "CR1,N1,03/04/2022,Théft,Acocks Green\nCR2,N2,04/04/2022,Theft,Sélly Oak £\n"
                ).encode()
    data = data.replace("£".encode(), b"\xa3")
    error = assert_rejected_and_unchanged(db, kind, data)
    assert error.report.problems.to_dict("records") == [{
        "row": None, "column": "", "value": "",
        "problem": "bad.csv mixes two text encodings: it is UTF-8 text, but byte 0xA3 on line "
                   "3 of the file is not UTF-8 (a character such as £ or an accented letter "
                   "pasted in from another program)",
        "fix": "Retype that character on line 3, or open the file in Excel and save it as "
               "'CSV UTF-8 (Comma delimited)', then upload again"}]


def test_windows_text_where_an_accented_capital_meets_a_symbol_is_still_windows_text(db):
    # "É’" reads as a UTF-8 character: taken as a sign of mixed encodings, it refused genuine
    # Windows-1252 files (every en dash and £ in them not UTF-8).
    data = ("Nominal ID,Referral Date,Referral Source,Referral Source Detail,Status,Notes\n"
            "N1,03/04/2022,Retail business,CAFÉ’S – Bull Street,Active,paid £5\n"
            "N2,04/04/2022,Probation,Probation – Aston,Active,\n").encode("cp1252")
    ingest(db, "tracker", data)
    assert query(db, "select referral_source_detail from referrals where snapshot_id = 2 "
                     "order by 1") == [("CAFÉ’S – Bull Street",), ("Probation – Aston",)]


def test_utf8_bom_header_is_recognised():
    prepared = accepted("tracker", b"\xef\xbb\xbf" + TRACKER_HEADER
                        + b"N1,03/04/2022,Probation,Active\n")
    assert prepared.report.matched == {
        "Nominal ID": "nominal_id", "Referral Date": "referral_date",
        "Referral Source": "referral_source", "Status": "status"}
    assert [(r["nominal_id"], r["referral_date"]) for r in clean_rows(prepared)] == [
        ("N1", D(2022, 4, 3))]


# ---------------------------------------------------------------- XLSX layout and row numbers

XLSX_HEADER = ["Nominal ID", "Referral Date", "Referral Source", "Status"]
XLSX_TITLES = ("Offender to Rehab tracker", "As at 31/07/2022", None)  # rows 1-3


def test_xlsx_with_title_lines_and_date_cells_is_accepted():
    data = xlsx_bytes([XLSX_HEADER,
                       [1001, D(2022, 4, 3), "Probation", "Active"],
                       None,
                       [1002, D(2022, 4, 4), "Custody", "Inactive"]], XLSX_TITLES)
    prepared = accepted("tracker", data, "tracker.xlsx")
    assert prepared.report.header_row == 4
    assert [(r["source_row"], r["nominal_id"], r["referral_date"])
            for r in clean_rows(prepared)] == [(5, "1001", D(2022, 4, 3)),
                                               (7, "1002", D(2022, 4, 4))]


def test_xlsx_problem_rows_match_excel_despite_titles_and_blank_row(db):
    data = xlsx_bytes([XLSX_HEADER,                                   # row 4
                       [1001, D(2022, 4, 3), "Probation", "Active"],  # row 5
                       None,                                          # row 6, blank
                       [1002, D(2022, 4, 4), "Carrier pigeon", "Active"],  # row 7
                       [1003, D(2022, 8, 1), "Probation", "Active"]],      # row 8
                      XLSX_TITLES)
    error = assert_rejected_and_unchanged(db, "tracker", data, "tracker.xlsx")
    assert error.report.problems.to_dict("records") == [
        {"row": 7, "column": "Referral Source", "value": "Carrier pigeon",
         "problem": "'Carrier pigeon' is not a recognised referral source", "fix": SOURCE_FIX},
        {"row": 8, "column": "Referral Date", "value": "2022-08-01",
         "problem": "The date 01/08/2022 is after the upload's as-at date",
         "fix": "Correct the date, or upload with a later as-at date"},
    ]


@pytest.mark.parametrize("blank_line", [b"\n", b",,,\n"], ids=["empty-line", "empty-cells"])
def test_csv_blank_row_does_not_shift_row_numbers(blank_line):
    data = TRACKER_HEADER + b"N1,03/04/2022,Probation,Active\n" + blank_line \
        + b"N2,03/04/2022,Probation,Waitlist\n"
    assert [(p["row"], p["value"]) for p in problems("tracker", data)] == [(4, "Waitlist")]


def test_csv_title_lines_shift_row_numbers():
    data = b"Offender to Rehab tracker\n\n" + TRACKER_HEADER \
        + b"N1,03/04/2022,Probation,Active\nN2,03/04/2022,Probation,Waitlist\n"
    assert [(p["row"], p["column"], p["value"]) for p in problems("tracker", data)] == [
        (5, "Status", "Waitlist")]


def test_csv_title_line_with_semicolon_does_not_confuse_the_delimiter():
    data = b"O2R tracker; exported 31/07/2022\n\n" + TRACKER_HEADER \
        + b"N1,03/04/2022,Probation,Active\n"
    assert accepted("tracker", data).report.header_row == 3


# ---------------------------------------------------------------- headers

@pytest.mark.parametrize("header", ["REFERRAL DATE", "referral_date", "Referral Date",
                                    " referral-date "])
def test_headers_match_regardless_of_case_spacing_and_punctuation(header):
    data = f"Nominal Ref,{header},Referral Source,Status\n".encode() \
        + b"N1,03/04/2022,Probation,Active\n"
    prepared = accepted("tracker", data)
    assert prepared.report.matched == {
        "Nominal Ref": "nominal_id", header.strip(): "referral_date",
        "Referral Source": "referral_source", "Status": "status"}
    assert [(r["nominal_id"], r["referral_date"]) for r in clean_rows(prepared)] == [
        ("N1", D(2022, 4, 3))]


def test_identifying_columns_are_dropped_and_unknown_columns_warned(db):
    data = (b"Nominal ID,Name,Date of Birth,PNC ID,Address,Notes,Favourite Colour,"
            b"Referral Date,Referral Source,Status\n"
            b"N1,John Smith,01/01/1990,12/345678A,1 Acacia Avenue,Likes cats,Blue,"
            b"03/04/2022,Probation,Active\n")
    report = ingest(db, "tracker", data)
    assert report.dropped_identifying == ["Name", "Date of Birth", "PNC ID", "Address", "Notes"]
    assert report.ignored_unknown == ["Favourite Colour"]
    assert report.warnings == ["Ignored columns not in the data contract: Favourite Colour"]
    # Only the age band derived from the date of birth is kept.
    assert query(db, "select nominal_id, age_band from referrals where snapshot_id = 2") == [
        ("N1", "30-39")]
    columns = {name for (name,) in query(
        db, "select column_name from information_schema.columns")}
    assert not columns & {"name", "date_of_birth", "pnc_id", "address", "notes"}
    raw = db.read_bytes()
    for secret in (b"John Smith", b"12/345678A", b"Acacia", b"Likes cats"):
        assert secret not in raw



def test_who_referred_and_where_an_offence_happened_are_not_stored_under_other_names(db):
    # "Referrer" (a column of who referred: people's names) was read as the referral source's
    # detail, and Connect's "Location" (an address) as the offence area; "Tel. No" and
    # "Mobile No." were listed as unknown rather than as identifying.
    # Nor the tracker's "Offending Location" (addresses) as its area, nor Connect's "Offence
    # Description" (the free-text account, with names) as the offence type.
    tracker = (b"Nominal ID,Referrer,Tel. No,Mobile No.,Referral Date,Referral Source,Status,"
               b"Offending Location\n"
               b"N1,Mrs Jane Doe (mother),0121 496 0000,07700 900000,03/04/2022,Probation,"
               b"Active,12 Elm Road B23 4QT\n")
    report = ingest(db, "tracker", tracker)
    assert report.dropped_identifying == ["Referrer", "Tel. No", "Mobile No.",
                                          "Offending Location"]
    assert query(db, "select referral_source_detail, offending_area from referrals "
                     "where snapshot_id = 2") == [(None, None)]
    connect = (b"Crime Reference,Nominal ID,Offence Date,Offence Type,Location,"
               b"Offence Description\n"
               b"CR1,N1,03/04/2022,Theft,14 Acacia Avenue B1 1AA,Suspect Ann Roe took razors\n")
    report = ingest(db, "connect", connect)
    assert report.dropped_identifying == ["Location", "Offence Description"]
    assert query(db, "select offence_area, offence_type from crimes") == [(None, "Theft")]
    raw = db.read_bytes()
    for secret in (b"Jane Doe", b"0121 496", b"07700", b"Acacia", b"Elm Road", b"Ann Roe"):
        assert secret not in raw


def test_a_merged_rehab_heading_is_not_taken_for_the_facility(db):
    # A workbook's one "Rehab" heading over the rehab columns took its first column (a date)
    # as the facility; the columns beneath it are now ignored, and listed as such.
    data = (b"Nominal ID,Referral Date,Referral Source,Status,Rehab,,,Outcome\n"
            b"N1,03/04/2022,Probation,Active,19/07/2022,02/08/2022,Livingstone House,\n")
    report = ingest(db, "tracker", data)
    assert "Rehab" in report.ignored_unknown
    assert query(db, "select rehab_facility from referrals where snapshot_id = 2") == [(None,)]
    assert ("Not read, as they have no header: columns F (after 'Rehab', 1 row), G (1 row). "
            "If one holds a column the dashboard reads (a date, the facility…), give it its "
            "header and upload again") in report.warnings


@pytest.mark.parametrize("kind", ["tracker", "connect"])
def test_a_column_whose_header_cell_is_empty_is_named_as_not_read(db, kind):
    # Its values (85 first-contact dates, in the case found) were dropped without a word.
    # Empty columns under empty header cells are only the sheet's edge; the last one here
    # holds something.
    data = {"tracker": b"Nominal ID,Referral Date,Referral Source,,Status,,,\n"
                       b"N1,03/04/2022,Probation,05/05/2022,Active,,,x\n"
                       b"N2,04/04/2022,Probation,06/05/2022,Active,, ,\n",
            "connect": b"Crime Reference,Nominal ID,Offence Date,,Offence Type,,,\n"
                       b"CR1,N1,03/04/2022,05/05/2022,Theft,,,x\n"
                       b"CR2,N2,04/04/2022,06/05/2022,Theft,, ,\n"}[kind]
    report = ingest(db, kind, data)
    assert [w for w in report.warnings if w.startswith("Not read")] == [
        "Not read, as they have no header: columns D (after 'Referral Source', 2 rows), H (1 "
        "row). If one holds a column the dashboard reads (a date, the facility…), give it its "
        "header and upload again"
        .replace("Referral Source", "Offence Date" if kind == "connect" else "Referral Source")]


def test_a_nominal_column_of_names_is_refused_not_stored_as_ids(db):
    # A Connect export's "Nominal" column can show the person's name: it was stored as the ID.
    data = (b"Crime Reference,Nominal,Offence Date,Offence Type\n"
            b"CR1,SMITH John,03/04/2022,Theft\nCR2,NAT0001082,04/04/2022,Theft\n")
    error = assert_rejected_and_unchanged(db, "connect", data)
    assert error.report.problems.to_dict("records") == [{
        "row": 2, "column": "Nominal", "value": "SMITH John",
        "problem": "'SMITH John' has no digits, so it is not a nominal ID (is this column "
                   "people's names?)",
        "fix": "Upload the column that holds each person's nominal ID (a reference with "
               "numbers in it), never their name"}]
    assert b"SMITH" not in db.read_bytes()


@pytest.mark.parametrize("nominal", ["SMITH, John (SYN0048)", "SMITH (SYN0048)",
                                     "(SYN0048) Smith", "Smith, J 48"])
def test_a_nominal_column_of_names_with_ids_is_refused_too(db, nominal):
    # With the ID beside the name there are digits, so the rule above let the name through.
    data = ("Crime Reference,Nominal,Offence Date,Offence Type\n"
            f'CR1,"{nominal}",03/04/2022,Theft\nCR2,NAT0001082,04/04/2022,Theft\n').encode()
    error = assert_rejected_and_unchanged(db, "connect", data)
    assert error.report.problems.to_dict("records") == [{
        "row": 2, "column": "Nominal", "value": nominal,
        "problem": f"'{nominal}' has a name in it, so it is not stored as a nominal ID (is "
                   "this column the nominal's name and ID together?)",
        "fix": "Upload the column that holds each person's nominal ID alone (such as "
               "SYN0048), never their name"}]


@pytest.mark.parametrize("nominal", ["SYN 0048", "WMP ABC123", "N/100/22", "Syn0048",
                                     "Nat 0001083", "Niche 1234567", "Custody 12365",
                                     "NOM ID 12345", "WMP NOM 12346", "SYN0051 (old)",
                                     "PNC 99/731602Y", "ID: 12349"])
def test_ids_with_spaces_or_letters_are_not_taken_for_names(db, nominal):
    data = ("Crime Reference,Nominal,Offence Date,Offence Type\n"
            f'CR1,"{nominal}",03/04/2022,Theft\n').encode()
    assert ingest(db, "connect", data).rows == 1


SURNAMES = ["SMITH", "JONES", "TAYLOR", "BROWN", "KHAN", "PATEL", "WILLIAMS", "DAVIES",
            "EVANS", "THOMAS", "JOHNSON", "ROBERTS", "WALKER", "WRIGHT", "ROBINSON",
            "THOMPSON", "WHITE", "HUGHES", "EDWARDS", "GREEN", "HALL", "WOOD", "HARRIS",
            "LEWIS", "MARTIN"]


@pytest.mark.parametrize(("form", "refused"), [
    ("SYN{i:04d} {surname}", True),      # a name beside each reference, differing row to row
    ("{surname} SYN{i:04d}", True),
    ("NICHE {i:07d}", False),            # a records system's prefix, the same on every row
    ("WM/{i:05d}/22", False),
])
def test_a_nominal_column_with_names_beside_the_references_is_refused_as_a_whole(
        db, form, refused):
    # Row by row a surname in capitals beside the reference looks like a prefix; the column
    # as a whole tells them apart: a prefix repeats, names differ.
    rows = "".join(f"CR{i},{form.format(i=i, surname=surname)},03/04/2022,Theft\n"
                   for i, surname in enumerate(SURNAMES))
    data = ("Crime Reference,Nominal,Offence Date,Offence Type\n" + rows).encode()
    if not refused:
        assert ingest(db, "connect", data).rows == len(SURNAMES)
        return
    error = assert_rejected_and_unchanged(db, "connect", data)
    assert error.report.problems.to_dict("records") == [{
        "row": None, "column": "Nominal", "value": "",
        "problem": "In bad.csv, 25 nominal IDs in the column 'Nominal' carry words beside "
                   "their references, 25 different words in all. A records system's prefix is "
                   "the same from row to row; words that differ are people's names, so nothing "
                   "in it was stored",
        "fix": "Upload the column that holds each person's nominal ID alone (such as "
               "SYN0048), never their name"}]
    assert b"WILLIAMS" not in db.read_bytes()


# ---------------------------------------------------------------- files that are not data

NOT_DATA = {
    "empty": ("tracker.xlsx", b"", "is empty (0 bytes)"),
    "png-renamed-xlsx": ("tracker.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(64), "is a PNG image"),
    "header-only-csv": ("tracker.csv", TRACKER_HEADER, "has a header row (row 1) but no data rows"),
    "encrypted-workbook": (
        "tracker.xlsx",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(120) + "EncryptionInfo".encode("utf-16-le")
        + bytes(120),
        "password-protected (encrypted) workbook"),
    "binary-garbage": ("tracker.csv", random.Random(0).randbytes(4096),
                       "is not a spreadsheet or a text (CSV) file"),
    "truncated-zip": ("tracker.xlsx", b"PK\x03\x04" + b"junk" * 20,
                      "could not be read as an Excel workbook"),
}


@pytest.mark.parametrize("case", NOT_DATA.values(), ids=NOT_DATA.keys())
def test_non_data_files_get_one_clear_message(db, case):
    file_name, data, phrase = case
    error = assert_rejected_and_unchanged(db, "tracker", data, file_name)
    found = error.report.problems.to_dict("records")
    assert len(found) == 1
    assert found[0]["row"] is None
    assert phrase in found[0]["problem"]
    assert found[0]["fix"]
    for text in (found[0]["problem"], found[0]["fix"], str(error)):
        assert "Traceback" not in text and 'File "' not in text


def test_truncated_real_workbook_gets_one_clear_message():
    whole = xlsx_bytes([XLSX_HEADER, [1001, D(2022, 4, 3), "Probation", "Active"]])
    found = problems("tracker", whole[: len(whole) // 2], "tracker.xlsx")
    assert len(found) == 1
    assert "could not be read as an Excel workbook" in found[0]["problem"]
    assert "Traceback" not in found[0]["problem"]


def test_file_over_the_size_limit():
    data = TRACKER_HEADER + b"N1,03/04/2022,Probation,Active\n" * 10
    found = problems("tracker", data, max_bytes=100)
    assert len(found) == 1
    assert found[0]["row"] is None
    assert "limit" in found[0]["problem"]
    assert "O2R_MAX_UPLOAD_MB" in found[0]["fix"]


def test_size_limit_message_distinguishes_file_size_from_limit():
    data = TRACKER_HEADER + b"N1,03/04/2022,Probation,Active\n" * 10
    problem = problems("tracker", data, max_bytes=100)[0]["problem"]
    assert "0.0 MB, over the 0 MB" not in problem


# ---------------------------------------------------------------- column map

COLUMN_MAP = """
[tracker.headers]
"Ref Number" = "nominal_id"
"When Referred" = "referral_date"
"How They Came To Us" = "referral_source"
"Where Are They Now" = "status"

[tracker.values.status]
"On the list" = "Referral/Waiting"
"Engaged" = "Active"

[tracker.values.referral_source]
"Jail" = "Custody"
"""

FORCE_OWN_FILE = (b"Ref Number,When Referred,How They Came To Us,Where Are They Now\n"
                  b"N1,03/04/2022,Jail,On the list\n"
                  b"N2,04/04/2022,Probation,engaged\n")


def test_column_map_lets_a_force_use_its_own_headers_and_terms(db, tmp_path):
    map_file = tmp_path / "column_map.toml"
    map_file.write_text(COLUMN_MAP, encoding="utf-8")
    # Without the map the file means nothing to us ...
    assert "no header row was found" in problems("tracker", FORCE_OWN_FILE)[0]["problem"]
    # ... with it, the same bytes are accepted and stored in our terms.
    ingest(db, "tracker", FORCE_OWN_FILE, use_column_map=True, map_file=map_file)
    assert query(db, "select nominal_id, referral_date, referral_source, status from referrals "
                     "where snapshot_id = 2 order by nominal_id") == [
        ("N1", D(2022, 4, 3), "Custody", "Referral/Waiting"),
        ("N2", D(2022, 4, 4), "Probation", "Active"),
    ]


def test_column_map_naming_an_unknown_column_is_rejected(tmp_path):
    map_file = tmp_path / "column_map.toml"
    map_file.write_text('[tracker.headers]\n"Ref Number" = "nominal_number"\n', encoding="utf-8")
    found = problems("tracker", FORCE_OWN_FILE, use_column_map=True, map_file=map_file)
    assert len(found) == 1
    assert "'nominal_number', which is not one of" in found[0]["problem"]
    assert found[0]["fix"] == "Correct the column map file"


@pytest.mark.parametrize(("toml", "says"), [
    (b'[tracker.headers]\n"Caf\xe9 Ref" = "nominal_id"\n', "is not UTF-8 text"),
    (b'tracker = "headers"\n', "[tracker] must be a table"),
    (b"[tracker]\nheaders = 3\n", "[tracker.headers] must be a table"),
    (b'[tracker.headers]\n"Ref Number" = ["nominal_id"]\n', "which is not one of"),
    (b"[tracker.values]\nstatus = 1\n", "[tracker.values.status] must be a table"),
])
def test_a_column_map_of_the_wrong_shape_is_named_with_a_fix_not_a_crash(tmp_path, toml, says):
    """A map file saved from Notepad in Windows-1252, or with a line written at the wrong
    level, raised UnicodeDecodeError, AttributeError or TypeError: on the Data page a
    "something went wrong" without the file or a fix, on the command line the raw error."""
    map_file = tmp_path / "column_map.toml"
    map_file.write_bytes(toml)
    found = problems("tracker", FORCE_OWN_FILE, use_column_map=True, map_file=map_file)
    assert len(found) == 1
    assert str(map_file) in found[0]["problem"] and says in found[0]["problem"]
    assert found[0]["fix"] == "Correct the column map file"


@pytest.mark.parametrize(("kind", "header", "column"), [
    ("tracker", "Full Name", "referral_source_detail"),
    ("tracker", "Surname", "nominal_id"),
    ("tracker", "Case Notes", "offending_area"),
    ("tracker", "Officer Notes", "officer"),
    ("tracker", "Client Name", "officer"),
    ("tracker", "D.O.B.", "referral_date"),
    ("tracker", "Date of Birth", "first_contact_date"),
    ("connect", "Home Address", "offence_area"),
    ("connect", "Offender Name", "offence_type"),
])
def test_a_column_map_cannot_store_a_name_birth_date_address_or_notes(tmp_path, kind,
                                                                       header, column):
    """The contract drops these columns however they are spelt; a map naming one of them
    for a stored column stored it (a "Full Name" mapped to referral_source_detail was kept
    against every referral). Refused before the file is read, so nothing is stored."""
    map_file = tmp_path / "column_map.toml"
    map_file.write_text(f'[{kind}.headers]\n"{header}" = "{column}"\n', encoding="utf-8")
    data = (f"Nominal ID,Referral Date,Referral Source,{header}\n"
            "N1,03/04/2022,Probation,John Smith\n").encode()
    found = problems(kind, data, use_column_map=True, map_file=map_file)
    assert len(found) == 1
    assert f"maps {header!r} to {column!r}, but {header!r} is a column that identifies a " \
           "person" in found[0]["problem"]
    assert found[0]["fix"] == "Correct the column map file"


def test_a_column_map_may_still_name_the_officer_column_by_the_officers_name(db, tmp_path):
    map_file = tmp_path / "column_map.toml"
    map_file.write_text('[tracker.headers]\n"Case Officer Name" = "officer"\n'
                        '"Birth Date" = "date_of_birth"\n', encoding="utf-8")
    ingest(db, "tracker", b"Nominal ID,Referral Date,Referral Source,Case Officer Name\n"
                          b"N1,03/04/2022,Probation,PC Jones\n",
           use_column_map=True, map_file=map_file)
    assert query(db, "select officer from referrals where snapshot_id = 2") == [("PC Jones",)]


def test_a_zero_byte_in_a_cell_is_a_control_character_not_a_file_that_is_not_text():
    """One zero byte in the first 64 KB of a CSV (a damaged or pasted cell) made the whole
    file "not a spreadsheet or a text (CSV) file. Fix: Upload the export as .xlsx or .csv",
    with no row or column, to someone who had uploaded a CSV."""
    header = b"Nominal ID,Referral Date,Referral Source,Officer,Notes\n"
    assert accepted("tracker", header + b"N1,03/04/2022,Probation,PC 1,a\x00b\n").report.rows == 1
    found = problems("tracker", header + b"N1,03/04/2022,Probation,PC\x001,\n")
    assert [(p["row"], p["column"], p["value"], p["fix"]) for p in found] == [
        (2, "Officer", "PC<U+0000>1", "Delete the cell's text and type it again by hand: such "
         "characters come from text pasted out of another program or from a damaged export")]


# ---------------------------------------------------------------- bugs found

def test_money_comma_not_in_thousands_position_is_rejected():
    found = problems("connect", CONNECT_HEADER + b'CR1,N1,03/04/2022,Theft,"12,50"\n')
    assert [(p["row"], p["column"], p["value"]) for p in found] == [(2, "Value Stolen", "12,50")]


def test_punctuation_only_offence_type_is_rejected_not_a_database_error(db):
    data = CONNECT_HEADER + b"CR1,N1,03/04/2022,-,5\n"
    error = assert_rejected_and_unchanged(db, "connect", data)
    assert [(p["row"], p["column"], p["value"]) for p in
            error.report.problems.to_dict("records")] == [(2, "Offence Type", "-")]


def test_punctuation_only_offence_type_still_leaves_the_database_unchanged(db):
    """Whether rejected or (bug above) failing in the store, the live file is unchanged."""
    before = db_state(db)
    with pytest.raises((UploadRejected, duckdb.Error)):
        ingest(db, "connect", CONNECT_HEADER + b"CR1,N1,03/04/2022,-,5\n")
    assert db_state(db) == before
    assert not list(db.parent.glob("*.writing-*"))


def test_blank_crime_references_are_not_reported_as_duplicates():
    found = problems("connect", CONNECT_HEADER + (b",N1,03/04/2022,Theft,1\n"
                                                  b",N1,03/04/2022,Theft,1\n"))
    assert [(p["row"], p["problem"]) for p in found] == [
        (2, "Required value is missing"), (3, "Required value is missing")]
