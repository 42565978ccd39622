"""Malformed exports made from the demo data, each with the outcome its kind must have.

    .venv/bin/python tests/malformed_corpus.py OUT_DIR     # writes the files, lists them

tests/test_malformed_corpus.py ingests every case into a copy of a loaded database. Nothing
generated is committed: the cases are built from data/demo/ each time. The hostile workbooks
come from the builders in tests/test_hostile_spreadsheets.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import random
import sys
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import python_calamine
import xlsxwriter

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import test_hostile_spreadsheets as hostile  # noqa: E402

DEMO = ROOT / "data" / "demo"
TRACKER_XLSX = DEMO / "o2r_tracker_synthetic_as_at_2022-07-31.xlsx"
CONNECT_CSV = DEMO / "o2r_connect_synthetic.csv"
TITLE_ROWS = 4  # the demo workbook's title lines and blank row above its header

QUOTE_LEFT_OPEN = r"a quote \(\"\) opens the cell in row \d+.*and is never closed"
TEXT_AFTER_QUOTE = r"has text after its closing quote"
LINE_BREAK = r"A line break inside the cell"
SWALLOWED = r"look like whole rows of the file"
NOT_A_WORKBOOK = r"could not be read as an Excel workbook"
NOT_TEXT = r"is not a spreadsheet or a text \(CSV\) file"
NO_HEADER = r"no header row was found in the first 30 rows"
NOT_A_DATE = r"is not a date we can read"


@dataclass
class Case:
    """One malformed export. `rows` set: it must be stored with that many rows; else it must
    be refused with a message matching `message`, naming `where` (row, column; column "" for
    the row alone) when the problem has a place."""

    kind: str
    file_name: str
    data: bytes
    upload: str = "tracker"
    rows: int | None = None
    message: str | None = None
    where: tuple[int, str] | None = None


# ---------------------------------------------------------------- the demo data as text

def tracker_table() -> tuple[list[str], list[list[str]]]:
    """The demo tracker's header and data rows as an export would write them (UK dates)."""
    sheet = python_calamine.CalamineWorkbook.from_path(TRACKER_XLSX).get_sheet_by_index(0)
    rows = sheet.to_python(skip_empty_area=False)

    def text(value: object) -> str:
        if isinstance(value, dt.date):
            return value.strftime("%d/%m/%Y")
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return "" if value is None else str(value)

    header = [text(c) for c in rows[TITLE_ROWS]]
    return header, [[text(c) for c in row] for row in rows[TITLE_ROWS + 1:]]


def connect_table() -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(CONNECT_CSV.read_bytes().decode("cp1252"), newline="")))
    return rows[0], rows[1:]


def write_csv(header: list[str], rows: list[list[str]], delimiter: str = ",",
              quoting: int = csv.QUOTE_MINIMAL, newline: str = "\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def xlsx(rows: list[list[object]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Tracker")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value not in ("", None):
                sheet.write(r, c, value)
    workbook.close()
    return buffer.getvalue()


def filled(rows: list[list[str]]) -> list[int]:
    """Indices of the data rows that are not blank."""
    return [i for i, row in enumerate(rows) if any(cell.strip() for cell in row)]


def with_cell(rows: list[list[str]], index: int, column: int, value: str) -> list[list[str]]:
    changed = [list(row) for row in rows]
    changed[index][column] = value
    return changed


def line_with_raw_cell(header: list[str], rows: list[list[str]], index: int, column: int,
                       raw: str) -> str:
    """The CSV text with one cell written exactly as `raw` (no quoting applied)."""
    marker = "\x00MARK\x00"
    text = write_csv(header, with_cell(rows, index, column, marker))
    return text.replace(marker, raw)


# ---------------------------------------------------------------- the cases

def build() -> list[Case]:
    header, rows = tracker_table()
    at = {name: header.index(name) for name in header}
    notes, officer = at["Notes"], at["Officer"]
    stored = len(filled(rows))
    picks = [i for i in filled(rows)][::23][:6]  # spread over the file
    base = write_csv(header, rows)
    cases: list[Case] = []

    def add(kind: str, ext: str, data: bytes | str, **expect) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        cases.append(Case(kind, f"{len(cases):03d}-{kind}.{ext}", data, **expect))

    # Quotes left open: the rows after them must not vanish into one cell.
    for i in picks[:5]:
        add("stray-quote-to-end", "csv", line_with_raw_cell(header, rows, i, notes,
                                                            '"Prefers text'),
            message=QUOTE_LEFT_OPEN, where=(i + 2, "Notes"))
    for i in picks[:3]:
        text = line_with_raw_cell(header, with_cell(rows, i + 3, notes, "Said, hello"), i,
                                  notes, '"Prefers text')
        add("stray-quote-closed-later", "csv", text, message=TEXT_AFTER_QUOTE,
            where=(i + 2, "Notes"))
    for i in picks[:3]:
        # The stray quote is closed cleanly three rows on (a cell ending in an inch mark).
        text = write_csv(header, with_cell(with_cell(rows, i, notes, "\x01"), i + 3, notes,
                                           "\x02"))
        text = text.replace("\x01", '"Prefers text').replace("\x02", "He is 5'10\"")
        add("stray-quote-swallows-rows", "csv", text, message=SWALLOWED,
            where=(i + 2, "Notes"))
    for i in picks[:2]:
        add("stray-quote-one-line-column", "csv",
            line_with_raw_cell(header, rows, i, officer, '"Officer 1'),
            message=QUOTE_LEFT_OPEN, where=(i + 2, "Officer"))
    for i in picks[2:4]:
        text = write_csv(header, with_cell(with_cell(rows, i, officer, "\x01"), i + 2,
                                           at["Referral Source Detail"], "\x02"))
        text = text.replace("\x01", '"Officer 1').replace("\x02", 'Co-op"')
        add("stray-quote-one-line-column", "csv", text,
            message=r"cells but the header has|A line break inside", where=(i + 2, ""))

    # Cut off: inside a quoted cell, inside a plain cell, at a row's end; workbooks anywhere.
    quoted = write_csv(header, rows, quoting=csv.QUOTE_ALL)
    quoted_lines = quoted.splitlines(keepends=True)
    for i, column in [(picks[0], notes), (picks[1], notes), (picks[2], officer),
                      (picks[3], at["Status"]), (picks[4], notes), (len(rows) - 1, notes)]:
        line = quoted_lines[i + 1]
        tail = '"' + '","'.join(rows[i][column:]) + '"\n'
        cell_start = len(line) - len(tail)
        cut = "".join(quoted_lines[:i + 1]) + line[:cell_start + 1 + min(3, len(rows[i][column]))]
        add("truncated-in-quoted-cell", "csv", cut, message=QUOTE_LEFT_OPEN,
            where=(i + 2, header[column]))
    plain_lines = base.splitlines(keepends=True)
    for i in picks:
        line = plain_lines[i + 1]
        date = rows[i][at["Referral Date"]]
        cut = "".join(plain_lines[:i + 1]) + line[:line.index("," + date) + 1 + len(date) - 3]
        add("truncated-mid-row", "csv", cut, message=NOT_A_DATE, where=(i + 2, "Referral Date"))
    for keep in (1, 20, 68, 120, len(rows) - 1):
        add("truncated-at-row-end", "csv", "".join(plain_lines[:keep + 1]),
            rows=len(filled(rows[:keep])))
    workbook = TRACKER_XLSX.read_bytes()
    for fraction in (0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 0.999):
        add("truncated-workbook", "xlsx", workbook[:int(len(workbook) * fraction)],
            message=NOT_A_WORKBOOK)

    # Encodings: what Excel and other tools write is read; junk is refused with a fix.
    tabbed = write_csv(header, rows, delimiter="\t", newline="\r\n")
    for encoding, text in [("utf-8", base), ("utf-8-sig", base), ("cp1252", base),
                           ("utf-16", tabbed), ("utf-16", base), ("utf-32", tabbed)]:
        add("encoding-read", "csv" if "\t" not in text[:200] else "txt", text.encode(encoding),
            rows=stored)
    for encoding, bom in [("utf-16-be", b"\xfe\xff"), ("utf-32-be", b"\x00\x00\xfe\xff")]:
        add("encoding-read", "txt", bom + tabbed.encode(encoding), rows=stored)
    add("encoding-read", "csv", base.replace("–", "-").encode("latin-1"), rows=stored)
    for junk in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"):
        data = line_with_raw_cell(header, rows, picks[1], notes, "@@").encode("cp1252")
        add("encoding-junk", "csv", data.replace(b"@@", b"Caf" + junk),
            message=r"not readable text in UTF-8 or Windows-1252")
    # Latin-1 bytes in an otherwise UTF-8 file: read as Windows-1252 for them, the file's
    # accented names were stored garbled, so it is refused with the line to retype.
    for junk in ("Café", "naïve", "Zoë"):
        data = line_with_raw_cell(header, rows, picks[2], notes, "@@").encode("utf-8")
        add("encoding-latin1-in-utf8", "csv", data.replace(b"@@", junk.encode("latin-1")),
            message=r"mixes two text encodings: it is UTF-8 text, but byte 0x[0-9A-F]{2} on "
                    r"line \d+ of the file is not UTF-8")
    utf16 = tabbed.encode("utf-16")
    add("encoding-damaged", "txt", utf16[:-1], message=r"is not UTF-16 text")
    add("encoding-damaged", "txt", tabbed.encode("utf-16-le"), message=NOT_TEXT)
    add("encoding-damaged", "txt", tabbed.encode("utf-32")[:-2], message=r"is not UTF-32 text")

    # Delimiters and line endings.
    for delimiter in (";", "\t", "|"):
        add("delimiter", "csv", write_csv(header, rows, delimiter=delimiter), rows=stored)
    add("delimiter-unknown", "csv", write_csv(header, rows, delimiter=":"), message=NO_HEADER)
    for name, newline in (("crlf", "\r\n"), ("bare-cr", "\r")):
        add(f"line-endings-{name}", "csv", write_csv(header, rows, newline=newline),
            rows=stored)
    mixed = "".join(line.rstrip("\n") + ("\r\n" if n % 2 else "\r" if n % 3 else "\n")
                    for n, line in enumerate(plain_lines))
    add("line-endings-mixed", "csv", mixed, rows=stored)

    # Line breaks inside quoted cells: fine in free text, refused in one-line columns.
    for name, text in (("lf", "line one\nline two"), ("crlf", "line one\r\nline two"),
                       ("cr", "line one\rline two")):
        changed = [with_cell(rows, i, notes, text)[i] if i in picks else row
                   for i, row in enumerate(rows)]
        add(f"multi-line-notes-{name}", "csv",
            write_csv(header, changed, quoting=csv.QUOTE_ALL), rows=stored)
    for i, column in zip(picks, ["Officer", "Status", "Nominal ID", "Referral Date",
                                 "Referral Source"], strict=False):
        value = rows[i][at[column]]
        add("line-break-in-one-line-column", "csv",
            write_csv(header, with_cell(rows, i, at[column], value[:2] + "\n" + value[2:])),
            message=LINE_BREAK, where=(i + 2, column))

    # Sizes: cells and columns over the caps are refused before heavy work.
    for i, column, size in ((picks[0], "Notes", 200_000), (picks[3], "Notes", 1_000_000),
                            (picks[1], "Officer", 300_000)):
        add("huge-cell", "csv", write_csv(header, with_cell(rows, i, at[column], "x" * size)),
            message=r"KB of text, over the 128 KB a cell may hold", where=(i + 2, column))
    add("large-cell-under-cap", "csv",
        write_csv(header, with_cell(rows, picks[0], notes, "x" * 100_000)), rows=stored)
    for width in (501, 2_000, 16_400):
        extra = [f"Extra {n}" for n in range(width - len(header))]
        add("many-columns", "csv", write_csv(header + extra, rows),
            message=rf"has {width:,} columns in its header row")
    extra = [f"Extra {n}" for n in range(400 - len(header))]
    add("many-columns-under-cap", "csv", write_csv(header + extra, rows), rows=stored)

    # Headers: repeated, shifted, missing, buried.
    for original, repeat in (("First Contact Date", "Referral Date"), ("Name", "Nominal ID")):
        changed = [repeat if h == original else h for h in header]
        add("duplicate-header", "csv", write_csv(changed, rows),
            message=r"Two columns both mean", where=(1, repeat))
    add("shifted-header", "csv", write_csv([""] + header, rows), message=NOT_A_DATE,
        where=(2, "Referral Date"))
    for i in picks[1:3]:
        shifted = [with_cell(rows, i, 0, "," + rows[i][0])[i] if n == i else row
                   for n, row in enumerate(rows)]
        text = write_csv(header, shifted).replace('",' + rows[i][0] + '"', "," + rows[i][0])
        add("shifted-row", "csv", text,
            message=r"cells but the header has|Required value is missing",
            where=(i + 2, ""))
    titled = "Offender to Rehab tracker\nAs at 31/07/2022\n\n" + base
    add("title-lines-above-header", "csv", titled, rows=stored)
    add("header-too-far-down", "csv", "Title\n" * 35 + base, message=NO_HEADER)
    for column in ("Referral Source", "Nominal ID"):
        keep = [n for n, h in enumerate(header) if h != column]
        add("missing-column", "csv",
            write_csv([header[n] for n in keep], [[row[n] for n in keep] for row in rows]),
            message=rf"Required column '{column.lower().replace(' ', '_')}' was not found",
            where=(1, column.lower().replace(" ", "_")))

    # Values: formulas are stored as text (neutralised on export), serial dates refused.
    for formula in ('=HYPERLINK("http://example.org","x")', "@SUM(A1:A9)", "+44 121 000",
                    "-1+2"):
        changed = [with_cell(rows, i, notes, formula)[i] if i in picks else row
                   for i, row in enumerate(rows)]
        changed[picks[0]][at["Referral Source Detail"]] = formula
        add("formula", "csv", write_csv(header, changed), rows=stored)
    for i in picks[:3]:
        add("excel-serial-date", "csv",
            write_csv(header, with_cell(rows, i, at["Referral Date"], "44562")),
            message=r"'44562' is not a date we can read", where=(i + 2, "Referral Date"))
    for name, control in (("ansi-escape", "\x1b[31mred\x1b[0m"), ("bell", "ring\x07"),
                          ("next-line", "one\x85two"), ("form-feed", "a\x0bb\x0cc")):
        changed = [with_cell(rows, i, notes, control)[i] if i in picks else row
                   for i, row in enumerate(rows)]
        add(f"control-characters-{name}", "csv", write_csv(header, changed), rows=stored)
    # A zero byte in a dropped column is one control character more; in a column that is
    # read it is refused with its row and column, as the others are.
    add("control-characters-nul", "csv",
        line_with_raw_cell(header, rows, picks[0], notes, "a\x00b"), rows=stored)
    add("control-characters-nul-in-a-read-column", "csv",
        line_with_raw_cell(header, rows, picks[0], officer, "a\x00b"),
        message=r"contains an invisible control", where=(picks[0] + 2, "Officer"))
    for script, text in (("arabic", "ملاحظة"), ("chinese", "备注"), ("devanagari", "टिप्पणी"),
                         ("cyrillic", "Заметка"), ("hebrew", "הערה"), ("greek", "Σημείωση"),
                         ("thai", "หมายเหตุ"), ("emoji", "note 📝")):
        changed = [with_cell(rows, i, notes, text)[i] if i in picks else row
                   for i, row in enumerate(rows)]
        add(f"script-{script}", "csv", write_csv(header, changed), rows=stored)

    # Hostile and mislabelled files.
    genuine = hostile.tracker_xlsx()
    for megabytes in (100, 600):
        add("zip-bomb", "xlsx", hostile.bomb_xlsx(megabytes), message=r"looks like a 'zip bomb'")
    for part in (hostile.STRINGS, hostile.SHEET, "xl/workbook.xml"):
        add("billion-laughs", "xlsx", hostile.with_doctype(genuine, part),
            message=r"contains XML entity declarations")
    add("billion-laughs", "xlsx", hostile.replace_parts(genuine,
                                                        {hostile.STRINGS: hostile.BILLION_LAUGHS}),
        message=r"contains XML entity declarations")
    add("external-entity", "xlsx", hostile.replace_parts(genuine, {hostile.STRINGS: hostile.XXE}),
        message=r"contains XML entity declarations")
    encrypted = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(120)
                 + "EncryptionInfo".encode("utf-16-le") + bytes(120))
    add("encrypted-workbook", "xlsx", encrypted, message=r"password-protected")
    add("encrypted-workbook", "xlsx", hostile.with_flag_bit(genuine, 0x1),
        message=r"password-protected")
    add("macro-workbook", "xlsm", hostile.replace_parts(
        genuine, {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + bytes(60)}),
        message=r"contains macros")
    add("nested-archive", "xlsx", hostile.replace_parts(genuine, {"xl/embed.zip": genuine}),
        message=r"has another archive or document embedded")
    add("xml-not-well-formed", "xlsx",
        hostile.replace_parts(genuine, {"xl/workbook.xml": b"<workbook><sheets>"}),
        message=NOT_A_WORKBOOK)
    add("workbook-too-many-rows", "xlsx", million_row_workbook(genuine),
        message=r"more than 200,000 rows in its first sheet")
    for name, data, message in [
            ("png.xlsx", hostile.PNG_1X1, r"is a PNG image"),
            ("jpeg.csv", b"\xff\xd8\xff\xe0" + bytes(64), r"is a JPEG image"),
            ("pdf.csv", b"%PDF-1.7\n" + bytes(64), r"is a PDF document"),
            ("gzip.csv", gzip.compress(base.encode()), r"is a gzip archive"),
            ("xls.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200),
             r"password-protected|Excel 97-2003"),
            ("xls.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), r"Excel 97-2003"),
            ("docx.xlsx", hostile.hand_zip({"[Content_Types].xml": hostile.deflated(b"<Types/>"),
                                            "word/document.xml": hostile.deflated(b"<d/>")}),
             r"it looks like a Word document"),
            ("zip.xlsx", plain_zip(), r"is a zip archive but not an Excel workbook")]:
        stem, ext = name.split(".")
        add(f"renamed-{stem}", ext, data, message=message)
    add("renamed-xlsx-as-csv", "csv", genuine, rows=2)
    add("renamed-csv-as-xlsx", "xlsx", base, rows=stored)

    # Empty, blank and header-only files.
    add("empty", "csv", b"", message=r"is empty \(0 bytes\)")
    add("empty", "xlsx", b"", message=r"is empty \(0 bytes\)")
    for blank in (b"\n\n\n", b"\xef\xbb\xbf", b"   \r\n  "):
        add("blank", "csv", blank, message=NO_HEADER)
    no_rows = r"has a header row \(row 1\) but no data rows"
    add("header-only", "csv", write_csv(header, []), message=no_rows)
    add("header-only", "csv", write_csv(header, [[""] * len(header)] * 3), message=no_rows)
    add("header-only", "xlsx", xlsx([header]), message=no_rows)
    rng = random.Random(7)
    for size in (100, 5_000):
        add("binary-garbage", "csv", b"\x00" + rng.randbytes(size), message=NOT_TEXT)

    # Connect exports.
    c_header, c_rows = connect_table()
    c_at = {name: c_header.index(name) for name in c_header}
    c_base = write_csv(c_header, c_rows)
    add("connect-read", "csv", c_base, upload="connect", rows=len(c_rows))
    add("connect-read", "txt", write_csv(c_header, c_rows, "\t", newline="\r\n").encode("utf-16"),
        upload="connect", rows=len(c_rows))
    for i, value in ((10, "£999999999999999999999999.99"), (200, "9" * 40)):
        add("huge-value-stolen", "csv",
            write_csv(c_header, with_cell(c_rows, i, c_at["Value Stolen"], value)),
            upload="connect", message=r"is not an amount in pounds",
            where=(i + 2, "Value Stolen"))
    every_bad = [with_cell([row], 0, c_at["Offence Date"], "31/02/2022")[0] for row in c_rows]
    add("many-problems", "csv", write_csv(c_header, every_bad), upload="connect",
        message=rf"{len(c_rows):,} problem\(s\) found \(the first 200 are listed\)")
    for i in (5, 500):
        cut = c_base.splitlines(keepends=True)
        line = cut[i + 1]
        add("connect-truncated-mid-row", "csv", "".join(cut[:i + 1]) + line[:len(line) // 3],
            upload="connect", message=r"Required value is missing|is not a date",
            where=(i + 2, ""))
    return cases


def million_row_workbook(genuine: bytes) -> bytes:
    """The genuine tracker with a first sheet of a million one-cell rows (5 MB packed)."""
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n)
                    for n in range(1, 1_000_001))
    sheet = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
             b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             + rows + b"</sheetData></worksheet>")
    return hostile.replace_parts(genuine, {hostile.SHEET: sheet})


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", "Nominal ID,Referral Date\nN1,01/02/2022\n")
    return buffer.getvalue()


def write(cases: list[Case], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for case in cases:
        path = folder / case.file_name
        path.write_bytes(case.data)
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    cases = build()
    write(cases, Path(argv[0]))
    kinds = Counter(case.kind for case in cases)
    for kind, count in sorted(kinds.items()):
        print(f"{count:4d}  {kind}")
    print(f"{len(cases)} files of {len(kinds)} kinds in {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
