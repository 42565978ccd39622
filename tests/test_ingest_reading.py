"""Reading an upload: every row accounted for, nothing written to disk, bounded and clear
failures. The files are the demo tracker and Connect export written as CSV, with one fault
put in (tests/malformed_corpus.py has the same builders and many more faults)."""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys
import time

import duckdb
import malformed_corpus as corpus
import pyarrow as pa
import pytest

from dashboard import service
from dashboard.ingest import cell_checks, file_kinds, readers, sheet_cells, spreadsheet_guard
from dashboard.ingest.contract import load_contract
from dashboard.ingest.validation import UploadRejected, prepare

from conftest import digest, run_cli
from machine_load import SLOWNESS

AS_AT = dt.date(2022, 8, 1)
HEADER, ROWS = corpus.tracker_table()
NOTES = HEADER.index("Notes")
OFFICER = HEADER.index("Officer")
FILLED = corpus.filled(ROWS)
TRACKER_CSV = corpus.write_csv(HEADER, ROWS)
C_HEADER, C_ROWS = corpus.connect_table()


@pytest.fixture(autouse=True)
def _no_site_settings(monkeypatch):
    for name in ("O2R_COLUMN_MAP", "O2R_MAX_UPLOAD_MB", "O2R_MAX_COLUMNS", "O2R_MAX_CELL_KB",
                 "O2R_XLSX_MAX_ROWS"):
        monkeypatch.delenv(name, raising=False)


def accepted(data: bytes | str, kind: str = "tracker", file_name: str = "tracker.csv"):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return prepare(kind, file_name, data, as_at=AS_AT, use_column_map=False)


def rejected(data: bytes | str, kind: str = "tracker", file_name: str = "tracker.csv"):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with pytest.raises(UploadRejected) as info:
        prepare(kind, file_name, data, as_at=AS_AT, use_column_map=False)
    return info.value.report


# ---------------------------------------------------------------- every row accounted for

def test_rows_read_stored_and_blank_add_up_to_the_data_lines_in_the_file():
    report = accepted(TRACKER_CSV).report
    data_lines = TRACKER_CSV.count("\n") - 1
    assert data_lines == len(ROWS)
    assert (report.rows_read, report.rows, report.rows_refused) == (len(FILLED), len(FILLED), 0)
    assert report.rows_read + report.blank_rows == data_lines
    assert report.blank_rows == len(ROWS) - len(FILLED) > 0


def test_the_command_line_reports_rows_read_stored_refused_and_blank(demo_db, tmp_path):
    path = tmp_path / "tracker.csv"
    path.write_text(TRACKER_CSV, encoding="utf-8")
    code, out, _ = run_cli("ingest", "tracker", str(path), "--as-at", "2022-08-01",
                           "--db", str(demo_db))
    assert code == 0
    assert (f"Rows read: {len(FILLED)}; stored: {len(FILLED)}; refused: 0; "
            f"{len(ROWS) - len(FILLED)} blank row(s) skipped.") in out


def test_a_rejection_refuses_every_row_and_says_how_many_had_problems():
    rows = [list(row) for row in ROWS]
    for i in FILLED[:3]:
        rows[i][HEADER.index("Referral Date")] = "31/02/2022"
    report = rejected(corpus.write_csv(HEADER, rows))
    assert (report.rows_read, report.rows_refused, report.rows) == (len(FILLED), 3, 0)
    assert f"Rows read: {len(FILLED)}; stored: 0; refused: {len(FILLED)} (3 with problems)" \
        in report.summary()


def test_a_stray_quote_in_notes_no_longer_loses_the_rows_after_it(demo_db):
    # The issue's case: '"Prefers text' in a Notes cell swallowed the next lines, and 133 of
    # 136 referrals were stored with no word.
    row = FILLED[40]
    data = corpus.line_with_raw_cell(HEADER, ROWS, row, NOTES, '"Prefers text')
    before = digest(demo_db)
    with pytest.raises(UploadRejected) as info:
        service.ingest_bytes(demo_db, "tracker", "tracker.csv", data.encode(), as_at=AS_AT,
                             use_column_map=False)
    [problem] = info.value.report.problems.to_dict("records")
    assert (problem["row"], problem["column"]) == (row + 2, "Notes")
    assert problem["problem"].startswith(
        f"tracker.csv: a quote (\") opens the cell in row {row + 2}, column 'Notes', and is "
        "never closed")
    assert "Prefers" not in problem["value"]  # notes are never shown back
    assert digest(demo_db) == before


def test_a_file_cut_off_inside_a_quoted_cell_is_refused_at_the_row_where_the_cell_starts():
    text = corpus.write_csv(HEADER, ROWS, quoting=csv.QUOTE_ALL)
    lines = text.splitlines(keepends=True)
    row = FILLED[2]
    cut = "".join(lines[:row + 1]) + lines[row + 1][:4]  # inside the Nominal ID cell
    [problem] = rejected(cut).problems.to_dict("records")
    assert (problem["row"], problem["column"]) == (row + 2, "Nominal ID")
    assert "is never closed" in problem["problem"]
    assert "If the file was cut off, export it again" in problem["fix"]


def test_a_quote_closed_rows_later_in_a_one_line_column_is_refused_with_its_row():
    row = FILLED[5]
    text = corpus.write_csv(HEADER, corpus.with_cell(corpus.with_cell(ROWS, row, OFFICER, "\x01"),
                                                     row + 2, OFFICER, "\x02"))
    text = text.replace("\x01", '"Officer 1').replace("\x02", 'Officer 2"')
    found = rejected(text).problems.to_dict("records")
    assert [(p["row"], p["column"]) for p in found] == [(row + 2, "Officer")]
    assert found[0]["problem"].startswith("A line break inside the cell")
    assert found[0]["value"].startswith("Officer 1,")  # shown on one line, shortened
    assert found[0]["value"].endswith("…") and "\n" not in found[0]["value"]
    assert cell_checks.shown("one\r\ntwo\nthree") == "one⏎two⏎three"


def test_line_breaks_in_notes_are_free_text_and_the_rows_still_add_up():
    rows = corpus.with_cell(ROWS, FILLED[0], NOTES, "Called twice.\nNo answer, left a message")
    text = corpus.write_csv(HEADER, rows)
    report = accepted(text).report
    assert report.rows_read + report.blank_rows == len(ROWS)
    assert text.count("\n") - 1 == len(ROWS) + 1  # one more line than rows


# ---------------------------------------------------------------- nothing written to disk

@pytest.fixture
def file_writes():
    """Every file or temporary file/folder this process opens for writing, while the test runs."""
    seen: list[tuple] = []
    recording = [True]

    def hook(event: str, args: tuple) -> None:
        if not recording[0]:
            return
        if event == "open" and len(args) >= 3:
            path, mode, flags = args[0], args[1], args[2]
            writing = (mode and any(m in str(mode) for m in "wax+")) or \
                (isinstance(flags, int) and flags & 0o3)  # O_WRONLY | O_RDWR
            if writing and isinstance(path, str | bytes) and path != os.devnull:
                seen.append((event, path))  # not a pipe's descriptor, nor /dev/null
        elif event in ("tempfile.mkstemp", "tempfile.mkdtemp", "os.mkdir"):
            seen.append((event, args[0] if args else None))

    sys.addaudithook(hook)  # cannot be removed: it stops recording at the end of the test
    yield seen
    recording[0] = False


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-32",
                                      "xlsx"])
def test_reading_an_upload_writes_no_file_whatever_its_encoding(encoding, file_writes):
    if encoding == "xlsx":
        data = corpus.TRACKER_XLSX.read_bytes()
    else:
        data = TRACKER_CSV.replace(",", "\t").encode(encoding) if encoding.startswith("utf-")\
            and encoding != "utf-8" and encoding != "utf-8-sig" else TRACKER_CSV.encode(encoding)
    assert accepted(data, file_name=f"tracker.{encoding}").report.rows == len(FILLED)
    assert file_writes == []


def test_staging_holds_only_the_columns_the_contract_reads(monkeypatch):
    # DuckDB may spill its memory to disk; names, PNC IDs and notes never reach it.
    staged = {}
    original = readers.stage

    def spy(con, table, headers, lookup):
        original(con, table, headers, lookup)
        staged.update(con.sql("select * from raw").to_arrow_table().to_pydict())

    monkeypatch.setattr(readers, "stage", spy)
    accepted(TRACKER_CSV)
    for header in ("Name", "PNC ID", "Notes"):
        assert set(staged[f"c{HEADER.index(header)}"]) == {None}
    assert set(staged[f"c{OFFICER}"]) > {"Officer 1"}


def test_each_upload_stages_in_a_connection_no_other_upload_sees_and_nothing_spills():
    # One staging database serves every upload (opening one costs more CPU than reading a
    # small workbook); an upload's cells are its own connection's, and go when it closes.
    lookup = load_contract("tracker").header_lookup()
    first, second = readers.staging_connection(), readers.staging_connection()
    readers.read_table(first, "a.xlsx", corpus.TRACKER_XLSX.read_bytes(), lookup)
    readers.read_table(second, "b.csv", TRACKER_CSV.encode(), lookup)
    assert first.sql("select count(*) from raw").fetchall() == [(len(ROWS),)]
    first.execute("create temp table marker as select 1")
    with pytest.raises(duckdb.CatalogException):
        second.sql("select * from marker")
    first.close()
    third = readers.staging_connection()
    with pytest.raises(duckdb.CatalogException):
        third.sql("select * from raw")
    assert third.sql("select current_setting('temp_directory')").fetchall() == [("",)]
    second.close()
    third.close()


# ---------------------------------------------------------------- bounded and clear failures

def test_a_file_with_16400_columns_is_refused_at_once_in_one_short_message():
    wide = corpus.write_csv(HEADER + [f"Column {n}" for n in range(16_400 - len(HEADER))],
                            [row + [""] * (16_400 - len(HEADER)) for row in ROWS[:5]])
    started = time.perf_counter()
    report = rejected(wide)
    assert time.perf_counter() - started < 3 * SLOWNESS
    [problem] = report.problems.to_dict("records")
    assert problem["problem"] == ("tracker.csv has 16,400 columns in its header row (row 1), "
                                  "more than the 500 an export may have, so it was not read")
    assert problem["fix"].startswith("Delete the columns you do not need")
    assert len(report.summary()) < 200


def test_a_cell_over_128_kb_is_refused_with_its_row_and_column_not_a_crash():
    row = FILLED[7]
    found = rejected(corpus.write_csv(HEADER, corpus.with_cell(ROWS, row, NOTES, "x" * 140_000))
                     ).problems.to_dict("records")
    assert found == [{"row": row + 2, "column": "Notes", "value": "140,000 characters",
                      "problem": "The cell holds 137 KB of text, over the 128 KB a cell may hold",
                      "fix": "Shorten the cell; notes and other free text are never stored, so "
                             "they may simply be deleted"}]


def test_the_cell_cap_counts_characters_not_bytes():
    # 100,000 two-byte characters (195 KB of UTF-8) are within 128 KB of text; 140,000 are not.
    lookup = load_contract("tracker").header_lookup()
    within = pa.table({"c0": ["a", "é" * 100_000]})
    cell_checks.check_cells("t.xlsx", within, ["Notes"], 2, lookup)
    over = pa.table({"c0": ["é" * 140_000, "a"]})
    with pytest.raises(cell_checks.RowProblems) as info:
        cell_checks.check_cells("t.xlsx", over, ["Notes"], 2, lookup)
    assert [(p["row"], p["value"]) for p in info.value.problems] == [(2, "140,000 characters")]

def test_the_cell_and_column_caps_can_be_changed_by_the_environment(monkeypatch):
    monkeypatch.setenv("O2R_MAX_COLUMNS", "10")
    assert "more than the 10 an export may have" in rejected(TRACKER_CSV).problems["problem"][0]
    monkeypatch.setenv("O2R_MAX_COLUMNS", "500")
    monkeypatch.setenv("O2R_MAX_CELL_KB", "1")
    text = corpus.write_csv(HEADER, corpus.with_cell(ROWS, FILLED[0], NOTES, "y" * 2000))
    assert rejected(text).problems["row"].tolist() == [FILLED[0] + 2]


def test_only_the_first_200_problems_are_listed_with_a_count_of_the_rest(demo_db, tmp_path):
    rows = [corpus.with_cell([row], 0, C_HEADER.index("Offence Date"), "31/02/2022")[0]
            for row in C_ROWS]
    path = tmp_path / "connect.csv"
    path.write_text(corpus.write_csv(C_HEADER, rows), encoding="utf-8")
    code, _, err = run_cli("ingest", "connect", str(path), "--db", str(demo_db))
    assert code == 1
    listed = [line for line in err.splitlines() if line.startswith("  row ")]
    assert len(listed) == 200
    assert f"  ... and {len(C_ROWS) - 200:,} more problem(s), not listed" in err
    assert err.startswith(f"connect.csv was rejected: {len(C_ROWS):,} problem(s) found (the "
                          "first 200 are listed).")


def test_a_million_row_workbook_is_refused_from_its_sheet_before_it_is_read():
    data = corpus.million_row_workbook(spreadsheet_guard_tracker())
    assert len(data) < 8 * 1024 * 1024
    started = time.perf_counter()
    report = rejected(data, file_name="tracker.xlsx")
    assert time.perf_counter() - started < 10 * SLOWNESS
    assert "has more than 200,000 rows in its first sheet" in report.problems["problem"][0]
    assert "Save the sheet as CSV" in report.problems["fix"][0]


def spreadsheet_guard_tracker() -> bytes:
    return corpus.hostile.tracker_xlsx()


def test_workbook_rows_are_counted_exactly_across_chunks(monkeypatch):
    rows = b"".join(b'<row r="%d" spans="1:1"><c r="A%d"><v>1</v></c></row>' % (n, n)
                    for n in range(1, 70_001))  # about 3.5 MB: several 1 MB chunks
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main"><sheetData>' + rows + b"</sheetData></worksheet>")
    data = corpus.hostile.replace_parts(spreadsheet_guard_tracker(), {corpus.hostile.SHEET: sheet})
    monkeypatch.setenv("O2R_XLSX_MAX_ROWS", "70000")
    sheet_cells.check_xlsx_rows("t.xlsx", data)
    monkeypatch.setenv("O2R_XLSX_MAX_ROWS", "69999")
    with pytest.raises(spreadsheet_guard.UnreadableFile, match="more than 69,999 rows"):
        sheet_cells.check_xlsx_rows("t.xlsx", data)


@pytest.mark.parametrize("encoding,mark", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                           ("utf-32-le", b"\xff\xfe\x00\x00"),
                                           ("utf-32-be", b"\x00\x00\xfe\xff")])
def test_unicode_text_with_a_byte_order_mark_reads_as_the_utf8_file_does(encoding, mark):
    # Excel's "Unicode text" is UTF-16 with a byte-order mark, tab-delimited, CRLF.
    text = corpus.write_csv(HEADER, ROWS, delimiter="\t", newline="\r\n")
    expected = accepted(TRACKER_CSV).clean.to_pylist()
    assert accepted(mark + text.encode(encoding), file_name="tracker.txt").clean.to_pylist() \
        == expected


def test_bare_cr_line_endings_read_as_newlines_do():
    expected = accepted(TRACKER_CSV).clean.to_pylist()
    assert accepted(TRACKER_CSV.replace("\n", "\r")).clean.to_pylist() == expected


def test_a_huge_value_stolen_is_not_an_amount_and_shows_no_sql():
    rows = corpus.with_cell(C_ROWS, 3, C_HEADER.index("Value Stolen"), "9" * 40)
    [problem] = rejected(corpus.write_csv(C_HEADER, rows), "connect", "connect.csv"
                         ).problems.to_dict("records")
    assert (problem["row"], problem["column"]) == (5, "Value Stolen")
    assert problem["problem"] == f"'{'9' * 40}' is not an amount in pounds"
    for word in ("CAST", "DECIMAL", "select", "Conversion"):
        assert word not in problem["problem"] + problem["fix"]


def test_a_damaged_utf16_file_gets_a_message_with_a_fix():
    data = corpus.write_csv(HEADER, ROWS[:3]).encode("utf-16")[:-1]
    [problem] = rejected(data, file_name="tracker.txt").problems.to_dict("records")
    assert problem["problem"].startswith("tracker.txt starts with a UTF-16 byte-order mark but "
                                         "is not UTF-16 text")
    assert problem["fix"] == ("Save it from Excel again as 'CSV UTF-8 (Comma delimited)' and "
                              "upload that")
    assert file_kinds.sniff_kind("t.txt", data) == "csv"
