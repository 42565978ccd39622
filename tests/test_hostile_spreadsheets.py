"""Hostile and oversized workbooks are refused with one clear message, and the server lives.

Every file is built in memory: a small genuine tracker written by xlsxwriter, with one part
swapped for something hostile, or a zip archive written by hand.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pyarrow as pa
import pytest
import python_calamine
import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dashboard import config
from dashboard.ingest import readers, sheet_cells, spreadsheet_guard
from dashboard.ingest.validation import UploadRejected, prepare
from dashboard.ingest.workbook_reader import cell_text

from conftest import ROOT
from machine_load import SLOWNESS

DEMO_TRACKER = ROOT / "data" / "demo" / "o2r_tracker_synthetic_as_at_2022-07-31.xlsx"
AS_AT = dt.date(2022, 7, 31)
MB = 1024 * 1024
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
PNG_1X1 = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44"
                        "ae426082")


@pytest.fixture(autouse=True)
def _no_site_settings(monkeypatch):
    """A force's settings in the environment must not change these tests."""
    for name in ("O2R_COLUMN_MAP", "O2R_MAX_UPLOAD_MB", "O2R_XLSX_MAX_ENTRIES",
                 "O2R_XLSX_MAX_UNCOMPRESSED_MB", "O2R_XLSX_MAX_RATIO", "O2R_XLSX_TIMEOUT_S",
                 "O2R_XLSX_MEMORY_MB"):
        monkeypatch.delenv(name, raising=False)


# ---------------------------------------------------------------- building workbooks

def tracker_xlsx(far_cell: bool = False) -> bytes:
    """A genuine two-row tracker; `far_cell` adds a cell at XFD1048576, Excel's last."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Tracker")
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    rows = [["Nominal ID", "Referral Date", "Referral Source", "Status"],
            ["N100", dt.datetime(2022, 2, 1), "Probation", "Active"],
            ["N101", dt.datetime(2022, 2, 2), "Custody", "Referral/Waiting"]]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, date_format)
            else:
                sheet.write(r, c, value)
    if far_cell:
        sheet.write(1048575, 16383, "x")
    workbook.close()
    return buffer.getvalue()


def replace_parts(xlsx: bytes, parts: dict[str, bytes]) -> bytes:
    """The workbook with some parts replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            if entry.filename not in parts:
                target.writestr(entry.filename, source.read(entry))
        for name, body in parts.items():
            target.writestr(name, body)
    return out.getvalue()


def hand_zip(parts: dict[str, tuple[bytes, int, int]], flags: int = 0) -> bytes:
    """A zip written by hand: name -> (deflated body, crc32, unpacked size), all `flags`."""
    out, central = io.BytesIO(), []
    for name, (body, crc, size) in parts.items():
        offset, encoded = out.tell(), name.encode()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, 8, 0, 0x21, crc,
                              len(body), size, len(encoded), 0) + encoded + body)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, 8, 0, 0x21,
                                   crc, len(body), size, len(encoded), 0, 0, 0, 0, 0, offset)
                       + encoded)
    directory, start = b"".join(central), out.tell()
    out.write(directory + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(parts), len(parts),
                                      len(directory), start, 0))
    return out.getvalue()


def deflated(raw: bytes) -> tuple[bytes, int, int]:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(raw) + packer.flush(), zlib.crc32(raw), len(raw)


def deflated_zeros(megabytes: int) -> tuple[bytes, int, int]:
    """A real deflate stream of that many MB of zeros, made without compressing them all.

    One megabyte is compressed and flushed to a byte boundary with no back-references, so
    the same block repeated is a valid stream of many megabytes.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(bytes(MB)) + packer.flush(zlib.Z_FULL_FLUSH)
    crc, zeros = 0, bytes(MB)
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    return block * megabytes + zlib.compressobj(9, zlib.DEFLATED, -15).flush(), crc, \
        megabytes * MB


def bomb_xlsx(megabytes: int) -> bytes:
    """The genuine tracker's parts, but its sheet is `megabytes` MB of zeros."""
    with zipfile.ZipFile(io.BytesIO(tracker_xlsx())) as source:
        parts = {entry.filename: deflated(source.read(entry)) for entry in source.infolist()}
    parts[SHEET] = deflated_zeros(megabytes)
    return hand_zip(parts)


BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE sst [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1"
 uniqueCount="1"><si><t>&lol9;</t></si></sst>"""

XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE sst [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1"
 uniqueCount="1"><si><t>&secret;</t></si></sst>"""


def with_doctype(xlsx: bytes, part: str, encoding: str = "utf-8") -> bytes:
    """The workbook with an entity-declaring DTD put in front of one part's root element."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source:
        text = source.read(part).decode("utf-8")
    body = text.split("?>", 1)[1].lstrip()
    root = body[1:].split()[0].rstrip(">")
    text = (f'<?xml version="1.0" encoding="{encoding}"?>\n'
            f'<!DOCTYPE {root} [<!ENTITY x "xxxxxxxxxx">]>\n{body}')
    return replace_parts(xlsx, {part: text.encode(encoding)})


def with_flag_bit(archive: bytes, bit: int) -> bytes:
    """The archive with a general-purpose flag bit set on every entry (local and central)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as source:
        parts = {entry.filename: deflated(source.read(entry)) for entry in source.infolist()}
    return hand_zip(parts, flags=bit)


def problem_of(file_name: str, data: bytes) -> str:
    """The one problem an upload was rejected for, and its fix: 'problem. Fix: fix'."""
    with pytest.raises(UploadRejected) as info:
        prepare("tracker", file_name, data, as_at=AS_AT, use_column_map=False)
    found = info.value.report.problems
    assert len(found) == 1
    problem = found["problem"][0]
    for text in (problem, found["fix"][0], str(info.value)):
        assert "Traceback" not in text and 'File "' not in text
    assert found["fix"][0] and found["fix"][0] != "See the message"
    return f"{problem}. Fix: {found['fix'][0]}"


def accepted_rows(file_name: str, data: bytes) -> list[dict]:
    return prepare("tracker", file_name, data, as_at=AS_AT, use_column_map=False).clean.to_pylist()


# ---------------------------------------------------------------- archives

def test_zip_bomb_is_refused_from_its_directory_without_unpacking():
    data = bomb_xlsx(600)
    assert len(data) < 1 * MB
    started = time.perf_counter()
    problem = problem_of("tracker.xlsx", data)
    assert time.perf_counter() - started < 2 * SLOWNESS
    assert "looks like a 'zip bomb': part xl/worksheets/sheet1.xml would unpack to 600 MB" \
        in problem


def test_unpacked_size_limit_holds_whatever_the_ratio(monkeypatch):
    monkeypatch.setenv("O2R_XLSX_MAX_RATIO", "5000")
    problem = problem_of("tracker.xlsx", bomb_xlsx(600))
    assert "would unpack to 600 MB, over the 500 MB limit" in problem


def test_zip_bomb_under_the_size_limit_is_refused_by_its_compression_ratio():
    problem = problem_of("tracker.xlsx", bomb_xlsx(20))
    assert "looks like a 'zip bomb'" in problem
    assert SHEET in problem


def test_size_limit_can_be_lowered_by_the_environment(monkeypatch):
    monkeypatch.setenv("O2R_XLSX_MAX_UNCOMPRESSED_MB", "10")
    monkeypatch.setenv("O2R_XLSX_MAX_RATIO", "5000")
    assert "over the 10 MB limit" in problem_of("tracker.xlsx", bomb_xlsx(20))


def test_too_many_parts(monkeypatch):
    monkeypatch.setenv("O2R_XLSX_MAX_ENTRIES", "5")
    assert "over the 5 a workbook may have" in problem_of("tracker.xlsx", tracker_xlsx())


def test_nested_archive_is_refused():
    inner = replace_parts(tracker_xlsx(), {})
    data = replace_parts(tracker_xlsx(), {"xl/embeddings/Microsoft_Excel_Worksheet.xlsx": inner})
    assert "has another archive or document embedded in it" in problem_of("tracker.xlsx", data)


def test_encrypted_zip_entries_are_refused():
    data = with_flag_bit(tracker_xlsx(), 0x1)
    assert "password-protected (encrypted) parts" in problem_of("tracker.xlsx", data)


def test_plain_zip_renamed_xlsx_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", "Nominal ID,Referral Date\nN1,01/02/2022\n")
    assert "is a zip archive but not an Excel workbook" in problem_of("tracker.xlsx",
                                                                       buffer.getvalue())


def test_word_document_is_named_as_such():
    data = hand_zip({"[Content_Types].xml": deflated(b"<Types/>"),
                     "word/document.xml": deflated(b"<document/>")})
    assert "(it looks like a Word document)" in problem_of("tracker.xlsx", data)


def test_macro_enabled_workbook_is_refused():
    data = replace_parts(tracker_xlsx(), {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + bytes(60)})
    assert "contains macros" in problem_of("tracker.xlsm", data)


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.99])
def test_truncated_zip(cut):
    whole = tracker_xlsx()
    problem = problem_of("tracker.xlsx", whole[: int(len(whole) * cut)])
    assert "not a valid .xlsx (damaged or not a workbook)" in problem
    assert "could not be read as an Excel workbook" in problem  # the message before this guard


def test_part_named_twice_is_refused():
    # Which copy a reader takes differs between zip libraries: the one checked must be read.
    with zipfile.ZipFile(io.BytesIO(tracker_xlsx())) as source:
        parts = [(entry.filename, source.read(entry)) for entry in source.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target, \
            pytest.warns(UserWarning, match="Duplicate name"):
        for name, body in [*parts, (STRINGS, BILLION_LAUGHS)]:
            target.writestr(name, body)
    assert "a part appears twice" in problem_of("tracker.xlsx", buffer.getvalue())


# ---------------------------------------------------------------- XML inside

ENTITIES = "contains XML entity declarations, which a genuine Excel export never has"


def test_billion_laughs_in_shared_strings():
    data = replace_parts(tracker_xlsx(), {STRINGS: BILLION_LAUGHS})
    assert ENTITIES in problem_of("tracker.xlsx", data)


def test_external_entity_naming_etc_passwd():
    problem = problem_of("tracker.xlsx", replace_parts(tracker_xlsx(), {STRINGS: XXE}))
    assert ENTITIES in problem
    assert "root:" not in problem


@pytest.mark.parametrize("part", ["[Content_Types].xml", "xl/workbook.xml", SHEET, STRINGS,
                                  "xl/styles.xml", "xl/_rels/workbook.xml.rels"])
def test_dtd_in_any_part_is_refused(part):
    assert ENTITIES in problem_of("tracker.xlsx", with_doctype(tracker_xlsx(), part))


def test_dtd_in_utf16_part_is_refused():
    # The check parses XML rather than looking for bytes, so an encoding cannot hide a DTD.
    data = with_doctype(tracker_xlsx(), STRINGS, encoding="utf-16")
    assert ENTITIES in problem_of("tracker.xlsx", data)


def test_xml_that_is_not_well_formed_is_damaged():
    data = replace_parts(tracker_xlsx(), {"xl/workbook.xml": b"<workbook><sheets>"})
    assert "not a valid .xlsx (damaged or not a workbook" in problem_of("tracker.xlsx", data)


# ---------------------------------------------------------------- the reader process

def test_huge_declared_dimension_with_one_cell_reads_normally():
    genuine = tracker_xlsx()
    with zipfile.ZipFile(io.BytesIO(genuine)) as source:
        sheet = source.read(SHEET)
    assert b'<dimension ref="A1:D3"/>' in sheet
    huge = replace_parts(genuine, {SHEET: sheet.replace(b'<dimension ref="A1:D3"/>',
                                                       b'<dimension ref="A1:XFD1048576"/>')})
    assert accepted_rows("tracker.xlsx", huge) == accepted_rows("tracker.xlsx", genuine)


def test_cells_spanning_the_whole_sheet_are_too_large_and_the_server_survives(monkeypatch):
    # Read whole, A1 to XFD1048576 is 17 billion cells: calamine aborts (or would exhaust
    # memory), which in the server's own process would end the server.
    monkeypatch.setenv("O2R_XLSX_MEMORY_MB", "512")
    problem = problem_of("tracker.xlsx", tracker_xlsx(far_cell=True))
    assert "too large or too complex to read safely within 512 MB / 60 s" in problem
    assert "Split the export" in problem
    # A two-row sheet with one stray cell far away: splitting the dates would not help.
    assert "press Ctrl+End in Excel to find the last cell used" in problem
    assert len(accepted_rows("tracker.xlsx", tracker_xlsx())) == 2


def test_reader_timeout_is_clear_and_the_server_survives(monkeypatch):
    # 1 ms: a child of the warm reader zygote reads the demo tracker in about 10 ms.
    monkeypatch.setenv("O2R_XLSX_TIMEOUT_S", "0.001")
    started = time.perf_counter()
    problem = problem_of("tracker.xlsx", DEMO_TRACKER.read_bytes())
    assert time.perf_counter() - started < 5 * SLOWNESS
    assert "too large or too complex to read safely within 2,048 MB / 0.001 s" in problem
    monkeypatch.delenv("O2R_XLSX_TIMEOUT_S")
    assert len(accepted_rows("tracker.xlsx", tracker_xlsx())) == 2


def test_reader_out_of_memory_is_clear():
    with pytest.raises(readers.UnreadableFile, match="too large or too complex to read safely "
                                                     "within 1 MB"):
        spreadsheet_guard.read_in_subprocess(tracker_xlsx(), timeout_s=30, memory_mb=1)


# ---------------------------------------------------------------- genuine files still read

def test_xlsx_named_csv_is_read_as_xlsx():
    assert accepted_rows("tracker.csv", tracker_xlsx()) == accepted_rows("tracker.xlsx",
                                                                         tracker_xlsx())


def test_genuine_workbook_features_are_not_mistaken_for_attacks():
    # Cell comments (VML), a picture, a table, a chart, a second sheet: all ordinary.
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Tracker")
    sheet.add_table("A1:D3", {"columns": [{"header": h} for h in
                                          ("Nominal ID", "Referral Date", "Referral Source",
                                           "Status")],
                              "data": [["N100", "01/02/2022", "Probation", "Active"],
                                       ["N101", "02/02/2022", "Custody", "Referral/Waiting"]]})
    sheet.write_comment("A2", "Checked by PC Jones")
    sheet.insert_image("F2", "logo.png", {"image_data": io.BytesIO(PNG_1X1)})
    chart = workbook.add_chart({"type": "column"})
    chart.add_series({"values": "=Tracker!$A$2:$A$3"})
    sheet.insert_chart("F8", chart)
    workbook.add_worksheet("Notes").write(0, 0, "Exported from the force system")
    workbook.define_name("Referrals", "=Tracker!$A$1:$D$3")
    workbook.close()
    assert len(accepted_rows("tracker.xlsx", buffer.getvalue())) == 2


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_first_sheet_is_refused_by_name_not_read(state):
    """The first sheet is the one read. Hidden, it held last quarter's tracker, which was
    stored as this one while Excel showed the uploader the current sheet."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    old = workbook.add_worksheet("Old copy")
    shown = workbook.add_worksheet("Tracker")
    for sheet, nominal in ((old, "N1"), (shown, "N2")):
        for col, (header, value) in enumerate([("Nominal ID", nominal),
                                               ("Referral Date", "01/02/2022"),
                                               ("Referral Source", "Probation")]):
            sheet.write(0, col, header)
            sheet.write(1, col, value)
    shown.activate()
    old.hide()  # xlsxwriter writes "hidden"; "veryHidden" is set only by a macro
    workbook.close()
    data = replace_parts(buffer.getvalue(), {"xl/workbook.xml": zipfile.ZipFile(
        buffer).read("xl/workbook.xml").replace(b'state="hidden"', f'state="{state}"'.encode())})
    assert problem_of("tracker.xlsx", data) == (
        "tracker.xlsx: its first sheet, 'Old copy', is hidden in Excel, and the first sheet is "
        "the one read. Fix: In Excel, move the sheet with the export to the front (or delete "
        "the hidden sheet), save and upload again")


def test_a_workbook_with_its_export_on_another_sheet_is_told_which_sheet_was_read():
    """Only the first sheet is read; with a summary sheet in front, the message said no header
    was found and to map the headers, which would not help: it names the sheet, and the fix."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.add_worksheet("Summary").write(0, 0, "Totals only")
    tracker = workbook.add_worksheet("Tracker")
    tracker.write_row(0, 0, ["Nominal ID", "Referral Date", "Referral Source"])
    tracker.write_row(1, 0, ["N1", "01/02/2022", "Probation"])
    workbook.close()
    assert problem_of("tracker.xlsx", buffer.getvalue()) == (
        "tracker.xlsx: no header row was found in the first 30 rows of its first sheet, "
        "'Summary' (the one read). Fix: The export needs a row of column headers such as "
        "'Nominal ID' and 'Referral Date'; if your headers have other names, map them in the "
        "column map file (see README); if the export is on another sheet, move that sheet to "
        "the front in Excel, save and upload again")


def test_demo_tracker_reads_exactly_as_calamine_reads_it_in_process(monkeypatch):
    data = DEMO_TRACKER.read_bytes()
    in_process = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)) \
        .get_sheet_by_index(0).to_python(skip_empty_area=False)
    sheet, width = spreadsheet_guard.read_in_subprocess(data, 60, 2048)
    # Column by column, each cell as the reader's text: text as it is, the rest as cell_text.
    assert width == len(in_process[0]) == sheet.num_columns
    assert [sheet.column(i).to_pylist() for i in range(width)] == [
        [v if type(v) is str else cell_text(v) for v in column] for column in zip(*in_process)]
    guarded = accepted_rows(DEMO_TRACKER.name, data)
    monkeypatch.setattr(sheet_cells, "read_in_subprocess", lambda *a, **k: (
        pa.table({f"c{i}": [v if type(v) is str else cell_text(v) for v in column]
                  for i, column in enumerate(zip(*in_process))}), width))
    assert accepted_rows(DEMO_TRACKER.name, data) == guarded
    assert len(guarded) > 100


def test_limits_read_from_the_environment_fall_back_on_nonsense(monkeypatch):
    monkeypatch.setenv("O2R_XLSX_MAX_RATIO", "lots")
    assert config.setting("O2R_XLSX_MAX_RATIO") == 200
    monkeypatch.setenv("O2R_XLSX_MEMORY_MB", "512.5")
    assert config.setting("O2R_XLSX_MEMORY_MB") == 512


def test_reader_output_that_is_not_sound_text_columns_is_refused(monkeypatch):
    # The reader has just parsed a hostile file: what it sends back is checked as untrusted.
    monkeypatch.setattr(spreadsheet_guard, "READER_COMMAND",
                        "import sys; sys.stdout.buffer.write(b'A' + bytes(range(256)))")
    with pytest.raises(readers.UnreadableFile, match="too large or too complex to read"):
        spreadsheet_guard.read_in_subprocess(tracker_xlsx(), 30, 2048)
