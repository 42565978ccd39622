"""The bounded reader's hand-over: cells as Arrow text columns, exactly as `cell_text` would
write them one by one; only the columns up to the cap are sent; and the server accepts from
the reader nothing but sound text columns."""

from __future__ import annotations

import datetime as dt
import io
import random
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dashboard.ingest import sheet_cells, spreadsheet_guard, workbook_reader
from dashboard.ingest.validation import UploadRejected, prepare
from dashboard.ingest.workbook_reader import cell_text, text_column

MIXED_VALUES = [None, "", "  ", "text", "Ünïcødé ✓", "2022-02-01", dt.date(2022, 2, 1),
                dt.date(1900, 1, 1), dt.date(9999, 12, 31), dt.datetime(2022, 2, 1),
                dt.datetime(2022, 2, 1, 9, 30, 15), dt.time(9, 30), dt.timedelta(hours=26),
                1.0, 1.5, -0.1, 1e20, 3, True, False]


def reference(values: list[object]) -> list[str | None]:
    """The cell-by-cell conversion the reader used to send: text as it is, the rest by
    cell_text."""
    return [v if type(v) is str else cell_text(v) for v in values]


@pytest.mark.parametrize("kinds", [
    ["text", ""],  # text only (blanks are text)
    [dt.date(2021, 10, 20), ""],  # a date column with blanks
    [dt.date(2021, 10, 20), "", "TBC", None],  # dates, blanks and notes
    MIXED_VALUES,  # anything calamine returns
])
def test_columns_are_written_as_cell_text_writes_each_cell(kinds):
    rng = random.Random(12)
    shared: dict = {}  # as the columns of one sheet share the dates written
    for _ in range(20):
        values = [rng.choice(kinds) for _ in range(rng.randrange(0, 60))]
        if any(isinstance(v, dt.date) for v in kinds):  # many different dates
            values += [dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(40_000))
                       for _ in range(20)]
            rng.shuffle(values)
        assert text_column(values).to_pylist() == reference(values)
        assert text_column(values, shared).to_pylist() == reference(values)


def workbook(rows: list[list[object]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, dates)
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def test_only_the_columns_up_to_the_cap_are_sent_but_the_width_is_the_sheets(monkeypatch):
    monkeypatch.setenv("O2R_MAX_COLUMNS", "3")
    rows = [[f"H{c}" for c in range(8)],
            [dt.datetime(2022, 2, 1), 1.5, 2.0, "x", None, True, "y", "z"]]
    sheet, width = spreadsheet_guard.read_in_subprocess(workbook(rows), 30, 2048)
    assert width == 8
    assert sheet.column_names == ["c0", "c1", "c2", "c3"]
    assert [sheet.column(i).to_pylist() for i in range(4)] == [
        ["H0", "2022-02-01"], ["H1", "1.5"], ["H2", "2"], ["H3", "x"]]


def test_a_sheet_wider_than_the_cap_is_refused_by_its_true_width(monkeypatch):
    monkeypatch.setenv("O2R_MAX_COLUMNS", "5")
    rows = [["Nominal ID", "Referral Date", "Referral Source", "Status"]
            + [f"Extra {n}" for n in range(9)],
            ["N100", dt.datetime(2022, 2, 1), "Probation", "Active"]]
    with pytest.raises(UploadRejected) as rejected:
        prepare("tracker", "t.xlsx", workbook(rows), as_at=dt.date(2022, 7, 31),
                use_column_map=False)
    assert list(rejected.value.report.problems["problem"]) == [
        "t.xlsx has 13 columns in its header row (row 1), more than the 5 an export may have, "
        "so it was not read"]


def stream(table: pa.Table, width: int | None) -> bytes:
    metadata = None if width is None else {"width": str(width)}
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema.with_metadata(metadata)) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def test_the_server_accepts_only_sound_text_columns_from_the_reader():
    genuine = pa.table({"c0": ["Nominal ID", "N1"], "c1": ["Referral Date", "2022-02-01"]})
    table, width = spreadsheet_guard.table_from_reader(stream(genuine, 2), 500)
    assert (table, width) == (genuine, 2)
    bad_utf8 = pa.StringArray.from_buffers(1, pa.py_buffer(b"\x00\x00\x00\x00\x02\x00\x00\x00"),
                                           pa.py_buffer(b"\xff\xfe"))
    for unsound in (stream(genuine, None),  # no width
                    stream(genuine, 3),  # a column missing
                    stream(genuine, -1),
                    stream(genuine, 2**40),
                    stream(pa.table({"c0": [1, 2], "c1": ["a", "b"]}), 2),  # not text
                    stream(pa.table({"c1": ["a"], "c0": ["b"]}), 2),  # columns misnamed
                    stream(pa.table({"c0": bad_utf8}), 1),  # not UTF-8
                    b"garbage", b""):
        with pytest.raises((ValueError, pa.ArrowException)):  # the caller: "too large"
            spreadsheet_guard.table_from_reader(unsound, 500)


def test_a_reader_that_fails_is_named_and_its_password_error_is_clear(monkeypatch):
    command = "import sys; sys.stdout.buffer.write({!r})"
    monkeypatch.setattr(spreadsheet_guard, "READER_COMMAND",
                        command.format(workbook_reader.FAILED + b"bad sheet"))
    with pytest.raises(spreadsheet_guard.UnreadableFile,
                       match=r"could not be read as an Excel workbook \(bad sheet\)"):
        spreadsheet_guard.read_in_subprocess(b"", 30, 2048, file_name="t.xlsx")
    monkeypatch.setattr(spreadsheet_guard, "READER_COMMAND",
                        command.format(workbook_reader.PASSWORD + b"encrypted"))
    with pytest.raises(spreadsheet_guard.UnreadableFile, match="t.xlsx is password-protected"):
        spreadsheet_guard.read_in_subprocess(b"", 30, 2048, file_name="t.xlsx")


@pytest.mark.parametrize("xml", [b'<row r="1">', b"<row>", b"<row/>", b'<x:row r="1">',
                                 b"<ns.1-a:row\n>", b"<rowBreaks>", b"<x:rows>", b"<brow >",
                                 b'<c r="A1"><v>row </v></c>'])
def test_row_tags_are_counted_as_the_one_pattern_counted_them(xml):
    one_pattern = sheet_cells.re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
    sample = (xml + b"<sheetData>") * 3
    assert sheet_cells.count_row_tags(sample) == len(one_pattern.findall(sample))
