"""The Data page: upload, validate and store an export; snapshots, uploads and data quality."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import xlsxwriter
from streamlit.testing.v1 import AppTest

from dashboard import service
from dashboard.security import security_file
from dashboard.security.access import COMMAND_LINE
from dashboard.store import database, queries

from conftest import fail_to_record

PAGE = "../pages/data.py"

GOOD_TRACKER = (b"Nominal ID,Referral Date,Officer,Referral Source,Offending Area,Status\n"
                b"NEW100,01/08/2022,PC Jones,Probation,Erdington,Active\n"
                b"NEW101,02/08/2022,PC Jones,Custody,Erdington,Referral/Waiting\n")
BAD_TRACKER = (b"Nominal ID,Referral Date,Referral Source,Status\n"
               b"NEW200,31/02/2022,Probation,Active\n")
# A name and free-text notes: both must be dropped, and their values shown nowhere.
NAMED_TRACKER = (b"Nominal ID,Full Name,Referral Date,Referral Source,Status,Notes\n"
                 b"NEW300,Jane Example,01/08/2022,Probation,Active,lives at the hostel\n")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture(autouse=True)
def _no_site_settings(monkeypatch):
    monkeypatch.delenv("O2R_COLUMN_MAP", raising=False)
    monkeypatch.delenv("O2R_MAX_UPLOAD_MB", raising=False)


@pytest.fixture
def page(app_as) -> AppTest:
    at = app_as("admin", name="Test admin").run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def security_path():
    return security_file.security_db_path()


def upload(at: AppTest, name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    at.file_uploader[0].set_value((name, data, mime)).run()
    assert not at.exception, at.exception
    return at


def frame_with(at: AppTest, *columns: str):
    """The first table on the page that has all these columns."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def all_text(at: AppTest) -> str:
    """Every piece of markdown-rendered text on the page (titles, captions, alerts, markdown)."""
    elements = [*at.title, *at.header, *at.subheader, *at.caption, *at.markdown, *at.success,
                *at.info, *at.warning, *at.error]
    return "\n".join(str(e.value) for e in elements)


def test_page_renders_and_lists_the_data_quality_issues(page):
    assert page.title[0].value == "Data"
    issues = frame_with(page, "nominal_id", "issue", "detail")
    assert sorted(zip(issues["nominal_id"], issues["issue"], strict=True)) == [
        (nominal, "Status not recorded")
        for nominal in ["SYN0003", "SYN0023", "SYN0030", "SYN0036", "SYN0038"]]
    counts = frame_with(page, "issue", "referrals")
    assert counts.to_dict("records") == [{"issue": "Status not recorded", "referrals": 5}]
    snapshots = frame_with(page, "snapshot_id", "as_at_date")
    assert list(snapshots["snapshot_id"]) == [5, 4, 3, 2, 1]


def test_valid_tracker_is_checked_then_stored(page, demo_db):
    # The uploader is recorded by the signed-in account's name.
    upload(page, "tracker_august.csv", GOOD_TRACKER)
    assert "storing it adds a tracker snapshot of 2 referrals" in page.success[0].value
    assert not page.error
    matched = frame_with(page, "Your header", "Our column")
    assert dict(zip(matched["Your header"], matched["Our column"], strict=True)) == {
        "Nominal ID": "nominal_id", "Referral Date": "referral_date", "Officer": "officer",
        "Referral Source": "referral_source", "Offending Area": "offending_area",
        "Status": "status"}
    preview = frame_with(page, "source_row", "nominal_id")
    assert list(preview["nominal_id"]) == ["NEW100", "NEW101"]

    # The first real file replaces the demo data: the page says so before it is stored.
    assert any("holds only the synthetic demo data. Storing this file removes it" in w.value
               for w in page.warning)
    store_button = next(b for b in page.button if b.label == "Store this upload")
    store_button.click().run()
    assert not page.exception, page.exception
    stored = f"**Stored: 2 referrals as at {dt.date.today():%d/%m/%Y} (tracker snapshot 7).**"
    assert any(s.value.startswith(stored) for s in page.success)
    assert not any(b.label == "Store this upload" for b in page.button)
    snapshots = frame_with(page, "snapshot_id", "as_at_date")
    assert snapshots.iloc[0][["snapshot_id", "file_name"]].tolist() == [7, "tracker_august.csv"]
    uploads = frame_with(page, "upload_id", "row_count")
    assert uploads[["upload_id", "row_count"]].values.tolist() == [[7, 2]]

    con = database.connect_read_only(demo_db)
    try:
        assert con.execute("select kind, file_name, row_count, as_at_date, uploaded_by "
                           "from uploads where upload_id = 7").fetchall() == [
            ("tracker", "tracker_august.csv", 2, dt.date.today(), "Test admin")]
    finally:
        con.close()

    # The same file again is recognised, and offers nothing to store.
    upload(page, "tracker_august_again.csv", GOOD_TRACKER)
    assert any("already uploaded as upload 7" in i.value for i in page.info)
    assert not any(b.label == "Store this upload" for b in page.button)


def fail_to_record_uploads(monkeypatch) -> None:
    """The access log refuses upload entries (a full disk, a locked security file)."""
    from dashboard.security import audit

    fail_to_record(monkeypatch, audit.Action.UPLOAD)


def test_an_upload_the_access_log_cannot_record_is_said_to_be_stored(page, demo_db,
                                                                     monkeypatch):
    """The data is stored before its entry is written (two files, two transactions). When
    the entry failed, the page said "nothing was changed" over a stored snapshot."""
    fail_to_record_uploads(monkeypatch)
    upload(page, "tracker_august.csv", GOOD_TRACKER)
    next(b for b in page.button if b.label == "Store this upload").click().run()
    assert not page.exception, page.exception
    assert "nothing was changed" not in all_text(page)
    assert "was stored as upload 7, but the access log could not record it" in \
        page.error[0].value.replace("\\", "")
    con = database.connect_read_only(demo_db)
    try:
        assert con.execute("select file_name from uploads where upload_id = 7").fetchall() == [
            ("tracker_august.csv",)]
    finally:
        con.close()


def test_a_withdrawal_the_access_log_cannot_record_is_said_to_be_made(page, demo_db,
                                                                      monkeypatch):
    """The page caught only ValueError: a failed entry after the withdrawal was an
    exception on screen over a snapshot already withdrawn."""
    from dashboard.security import audit

    fail_to_record(monkeypatch, audit.Action.SNAPSHOT_WITHDRAW)
    page.selectbox(key="withdraw_id").select(5)
    page.selectbox(key="withdraw_reason").select("Wrong as-at date")
    next(b for b in page.get("form_submit_button")
         if b.label == "Withdraw this snapshot").click().run()
    assert not page.exception, page.exception
    assert page.error[0].value.startswith("Snapshot 5 was withdrawn, but the access log could "
                                          "not record it")
    con = database.connect_read_only(demo_db)
    try:
        assert con.execute("select snapshot_id from snapshot_withdrawals").fetchall() == [(5,)]
    finally:
        con.close()


def test_a_failed_check_or_store_logs_no_cell_of_the_file(page, demo_db, monkeypatch,
                                                          caplog):
    """The page logged each failure whole, and a reader's or DuckDB's message can quote a
    cell (a name): the server log would keep it outside the dashboard's access rules."""
    import duckdb

    cell = "".join(("Ja", "ne R", "oe"))  # not on a line a traceback shows

    def quoting(*args, **kwargs):
        try:
            raise KeyError(cell)
        except KeyError as inner:
            raise duckdb.ConversionException(f"Could not convert string {cell!r}") from inner

    caplog.set_level("ERROR")
    check_upload = service.check_upload
    monkeypatch.setattr(service, "check_upload", quoting)
    upload(page, "tracker.csv", GOOD_TRACKER)
    assert page.error[0].value.startswith("Something went wrong while checking the file")
    monkeypatch.setattr(service, "check_upload", check_upload)
    monkeypatch.setattr(service, "upload", quoting)
    upload(page, "august.csv", GOOD_TRACKER)
    next(b for b in page.button if b.label == "Store this upload").click().run()
    assert page.error[0].value.startswith("Something went wrong while storing the upload")
    assert not page.exception, page.exception
    logged = "\n".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert "validating an upload failed" in logged and "storing an upload failed" in logged
    assert logged.count("_duckdb.ConversionException, raised:") == 2
    assert logged.count("builtins.KeyError, raised:") == 2 and "in quoting" in logged
    assert "Jane" not in logged and "Roe" not in logged


def test_a_withdrawal_reason_is_chosen_from_the_list_never_typed(page, demo_db):
    """A typed reason was free text about people's records, kept in the database and the
    access log for good."""
    before = demo_db.read_bytes()
    assert not [t for t in page.text_input if t.key == "withdraw_reason"]
    reasons = page.selectbox(key="withdraw_reason")
    assert reasons.options == list(service.WITHDRAWAL_REASONS) and reasons.value is None
    page.selectbox(key="withdraw_id").select(5)
    next(b for b in page.get("form_submit_button")
         if b.label == "Withdraw this snapshot").click().run()
    assert not page.exception, page.exception
    assert page.error[0].value == "Choose why the snapshot is withdrawn: nothing was changed."
    assert demo_db.read_bytes() == before


def test_a_withdrawal_that_fails_says_so_without_an_exception(page, demo_db, monkeypatch):
    """Only ValueError (no reason, no such snapshot) was caught: a failure of the database
    file itself (a full disk) was an exception on screen."""
    import duckdb

    def full_disk(*args, **kwargs):
        raise duckdb.IOException("No space left on device")

    monkeypatch.setattr(database, "withdraw_snapshot", full_disk)
    before = demo_db.read_bytes()
    page.selectbox(key="withdraw_id").select(5)
    page.selectbox(key="withdraw_reason").select("Wrong as-at date")
    next(b for b in page.get("form_submit_button")
         if b.label == "Withdraw this snapshot").click().run()
    assert not page.exception, page.exception
    assert page.error[0].value.startswith("Something went wrong while withdrawing the "
                                          "snapshot; nothing was changed")
    assert demo_db.read_bytes() == before


def test_a_file_whose_snapshot_was_withdrawn_can_be_stored_again(page, demo_db):
    """A snapshot is withdrawn when it is wrong, most often its as-at date. The same file
    was then "already uploaded ... storing it again would change nothing", on the page and
    in the store, so the right snapshot could not be stored without editing the file."""
    service.ingest_bytes(demo_db, "tracker", "august.csv", GOOD_TRACKER,
                         as_at=dt.date(2022, 8, 5), uploaded_by="pytest")
    service.withdraw_snapshot(demo_db, COMMAND_LINE, 7, "Wrong as-at date")
    upload(page, "august.csv", GOOD_TRACKER)
    next(b for b in page.button if b.label == "Store this upload").click().run()
    assert not page.exception, page.exception
    con = database.connect_read_only(demo_db)
    try:
        assert con.execute("select upload_id, as_at_date from uploads where file_name = "
                           "'august.csv' order by all").fetchall() == [
            (7, dt.date(2022, 8, 5)), (8, dt.date.today())]
    finally:
        con.close()


def test_invalid_tracker_lists_every_problem_and_changes_nothing(page, demo_db):
    before = demo_db.read_bytes()
    upload(page, "bad.csv", BAD_TRACKER)
    assert "rejected: 1 problem(s) found" in page.error[0].value
    problems = frame_with(page, "row", "column", "value", "problem", "fix")
    assert problems[["row", "column", "value"]].to_dict("records") == [
        {"row": 2, "column": "Referral Date", "value": "31/02/2022"}]
    assert problems["problem"].tolist() == [
        "'31/02/2022' is not a date we can read: there is no 31 February in 2022"]
    assert any(b.label == "Download the problems (CSV)" for b in page.get("download_button"))
    assert not any(b.label == "Store this upload" for b in page.button)
    assert demo_db.read_bytes() == before


def test_png_renamed_csv_is_refused_clearly(page, demo_db):
    before = demo_db.read_bytes()
    upload(page, "photo.csv", PNG)
    assert page.error[0].value == "This file could not be used, so nothing was stored."
    assert [t.value for t in page.main.text] == [
        "photo.csv is a PNG image, not a spreadsheet",
        "To fix it: Upload the tracker or Connect export as .xlsx or .csv"]
    assert demo_db.read_bytes() == before


def test_identifying_columns_are_dropped_and_uploaded_text_is_never_markdown(page):
    name = "[click](https://example.invalid)**bold**.csv"
    upload(page, name, NAMED_TRACKER)
    dropped = frame_with(page, "Dropped column", "Why")
    assert dropped.to_dict("records") == [
        {"Dropped column": "Full Name",
         "Why": "never stored: identifies a person or is free text"},
        {"Dropped column": "Notes", "Why": "never stored: identifies a person or is free text"}]
    preview = frame_with(page, "source_row", "nominal_id")
    assert "Jane Example" not in preview.to_csv()
    text = all_text(page)
    for uploaded_text in ("example.invalid", "Jane Example", "hostel", "Full Name"):
        assert uploaded_text not in text


def test_xlsx_upload_is_read(page):
    book = io.BytesIO()
    with xlsxwriter.Workbook(book, {"in_memory": True}) as workbook:
        sheet = workbook.add_worksheet("Tracker")
        for row, line in enumerate(GOOD_TRACKER.decode().splitlines()):
            sheet.write_row(row, 0, line.split(","))
    upload(page, "tracker.xlsx", book.getvalue(),
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "storing it adds a tracker snapshot of 2 referrals" in page.success[0].value
    assert list(frame_with(page, "source_row", "nominal_id")["nominal_id"]) == ["NEW100",
                                                                                "NEW101"]


def test_kind_and_date_changes_revalidate(page):
    upload(page, "tracker_august.csv", GOOD_TRACKER)
    assert page.success
    page.date_input[0].set_value(dt.date(2022, 7, 31)).run()
    # Referral dates in August are now after the as-at date.
    assert "rejected: 2 problem(s) found" in page.error[0].value
    page.radio[0].set_value("Connect export").run()
    # A tracker checked as a Connect export is named for what it is, not listed row by row.
    assert page.error[0].value.startswith(
        "**This looks like a tracker, not a Connect export**")
    assert not any(set(d.value.columns) >= {"row", "problem"} for d in page.dataframe)


def test_the_as_at_date_and_kind_come_from_the_file(page):
    upload(page, "o2r_tracker_export.csv",
           b"O2R tracker as at 31/07/2022\n\n" + GOOD_TRACKER.replace(b"/08/", b"/07/"))
    assert page.date_input[0].value == dt.date(2022, 7, 31)
    assert "Read from the file's title lines: as at 31/07/2022" in page.info[0].value
    assert "as at 31/07/2022" in page.success[0].value
    upload(page, "connect.csv", b"Crime Reference,Nominal ID,Offence Date,Offence Type\n"
                                b"CR1,NEW100,01/07/2022,Shoplifting\n")
    assert page.radio[0].value == "Connect export"
    assert any("does not say its as-at date" in w.value for w in page.warning)
    page.radio[0].set_value("Tracker").run()
    assert page.error[0].value.startswith(
        "**This looks like a Connect export, not a tracker**")


# ---------------------------------------------------------------- the data-quality query

QUALITY_TRACKER = (
    b"Nominal ID,Referral Date,Officer,Referral Source,Offending Area,Status,First Contact Date,"
    b"Assessment Date,Rehab Admission Date,Rehab Facility,Rehab Exit Date,Rehab Exit Reason,"
    b"Outcome\n"
    b"Q1,01/02/2022,PC Jones,Probation,Erdington,Active,02/02/2022,03/02/2022,,,,,\n"
    b"Q2,02/02/2022,PC Jones,Probation,Erdington,Inactive,02/02/2022,03/02/2022,01/03/2022,"
    b"Oak House,,Completed,\n"
    b"Q3,03/02/2022,PC Jones,Probation,Erdington,Active,04/02/2022,,,,,,Withdrawn\n"
    b"Q4,04/02/2022,PC Jones,Probation,Erdington,Referral/Waiting,05/02/2022,06/02/2022,,,,,\n"
    b"Q5,05/02/2022,PC Jones,Probation,Erdington,Active,06/02/2022,,01/07/2022,Oak House,,,\n"
    b"Q6,06/02/2022,PC Jones,Probation,Erdington,Active,,07/02/2022,01/07/2022,Oak House,,,\n"
    b"Q7,07/02/2022,PC Jones,Probation,Erdington,Active,08/02/2022,09/02/2022,01/04/2022,"
    b"Oak House,,,\n"
    b"Q8,08/02/2022,PC Jones,Probation,Erdington,Active,09/02/2022,10/02/2022,08/05/2022,"
    b"Oak House,,,\n"
    b"Q9,09/02/2022,,Probation,,,,,,,,,\n"
)


def test_data_quality_finds_each_kind_of_issue_once(tmp_path):
    db = tmp_path / "quality.duckdb"
    service.ingest_bytes(db, "tracker", "quality.csv", QUALITY_TRACKER,
                         as_at=dt.date(2022, 7, 31), use_column_map=False)
    con = database.connect_read_only(db)
    try:
        found = queries.run(con, COMMAND_LINE, "data_quality")
    finally:
        con.close()
    assert sorted(zip(found["nominal_id"], found["issue"], found["detail"], strict=True)) == [
        ("Q2", "Exit reason but no exit date", "Exit reason Completed, no rehab exit date"),
        ("Q3", "Active but outcome says the case ended", "Status Active, outcome Withdrawn"),
        ("Q4", "Referral/Waiting but already assessed or admitted",
         "Status Referral/Waiting; assessed 06/02/2022"),
        ("Q5", "Admitted to rehab with no police assessment date",
         "Admitted to rehab 01/07/2022"),
        ("Q6", "Admitted to rehab with no first contact date", "Admitted to rehab 01/07/2022"),
        ("Q7", "In rehab for more than 12 weeks",
         "Admitted 01/04/2022, no exit date: 121 days by the as-at date 31/07/2022"),
        # Q8 has been in rehab exactly 84 days: not yet more than 12 weeks.
        ("Q9", "No offending area", "Offending area is blank"),
        ("Q9", "Officer unallocated", "No officer assigned"),
        ("Q9", "Status not recorded", "Status is blank"),
    ]
    assert list(found["source_row"][found["nominal_id"] == "Q9"]) == [10, 10, 10]


def test_an_older_connect_export_stored_on_the_page_says_what_it_left_as_it_was(
        real_history_db, page):
    demo_db = real_history_db
    # The demo's Connect upload is as at 31/07/2022: a June export must not undo it.
    upload(page, "connect_june.csv", b"Crime Reference,Nominal ID,Offence Date,Offence Type\n"
                                     b"20SYN/001005/19,NEW100,01/01/2019,Robbery\n"
                                     b"CR-NEW-1,NEW100,01/06/2022,Shoplifting\n")
    page.radio[0].set_value("Connect export").run()
    page.date_input[0].set_value(dt.date(2022, 6, 30)).run()
    next(b for b in page.button if b.label == "Store this upload").click().run()
    assert not page.exception, page.exception
    # NEW100 is on no tracker snapshot: held back until confirmed (test_connect_not_on_tracker)
    assert any("Not stored yet: None of the 1 person" in w.value.replace("\\", "")
               for w in page.warning)
    page.checkbox[0].check().run()
    next(b for b in page.button if b.label == "Store this upload").click().run()
    assert not page.exception, page.exception
    assert any("1 of these crime references were already stored from a Connect export taken "
               "later" in info.value for info in page.info)
    # NEW100 is on no tracker snapshot: its crimes count in no figure, and the page says so
    # (the file's name escaped, never read as Markdown)
    assert [w.value.replace("\\", "") for w in page.warning if "count in no figure" in w.value] == [
        "None of the 1 person in connect_june.csv is on the tracker (its latest snapshot in "
        "force), so the crimes of the other 1 count in no figure. If the nominal IDs are "
        "written differently in the two exports (a prefix, a name beside the ID), correct the "
        "Connect export and upload it again; if no tracker snapshot is in force (none "
        "uploaded, or all withdrawn), upload the tracker."]
    con = database.connect_read_only(demo_db)
    try:
        assert con.execute("select offence_type from crimes "
                           "where crime_reference = '20SYN/001005/19'").fetchall() == [
            ("Shoplifting",)]
        assert con.execute("select count(*) from crimes where crime_reference = 'CR-NEW-1'"
                           ).fetchall() == [(1,)]
    finally:
        con.close()
