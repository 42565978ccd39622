"""Refuse hostile workbooks before they are opened, and open the rest in a bounded process."""

from __future__ import annotations

import encodings.cp437  # noqa: F401  (zipfile decodes part names with it: not on the first upload)
import io
import math
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import IO

import pyarrow as pa
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError
from defusedxml.ElementTree import fromstring as safe_fromstring

from dashboard import config
from dashboard.ingest import reader_sandbox, reader_zygote, workbook_reader
from dashboard.ingest.contract import visible

MB = 1024 * 1024

# Limits are settings (config.SETTINGS: O2R_XLSX_*, O2R_MAX_COLUMNS, O2R_MAX_CELL_KB), read per
# upload. Real exports are far inside them: the 50,000-row benchmark tracker unpacks to 23 MB
# in 9 parts at 10:1; calamine took 156 s and 1.2 GB to read a one-million-row, 5 MB workbook,
# so rows are counted from the sheet's XML first.
RATIO_FLOOR_BYTES = 1 * MB
# Parts we read whole to look inside ([Content_Types].xml, xl/workbook.xml) are small.
SMALL_PART_BYTES = 16 * MB
XML_CHUNK_BYTES = 64 * 1024

NESTED_ARCHIVE_SUFFIXES = (".zip", ".xlsx", ".xlsm", ".xlsb", ".xltx", ".xltm", ".docx",
                           ".pptx", ".jar", ".7z", ".gz", ".rar")
XML_SUFFIXES = (".xml", ".rels")  # not .vml (comment boxes): calamine never reads it
FIX_RESAVE = "Open it in Excel, save it as .xlsx and upload again"


class UnreadableFile(ValueError):
    """A file (or a row of it) we cannot read: what is wrong, and how to fix it, in words.

    `row` and `column` say where, when the problem has a place (the row as Excel shows it,
    the column by the user's own header).
    """

    def __init__(self, problem: str, fix: str, *, row: int | None = None, column: str = "",
                 value: str = ""):
        self.problem, self.fix = problem.rstrip(". "), fix.rstrip(". ")
        self.row, self.column, self.value = row, column, value
        super().__init__(f"{self.problem}. {self.fix}.")


# ---------------------------------------------------------------- the archive

def damaged(file_name: str, detail: str = "") -> UnreadableFile:
    return UnreadableFile(
        f"{file_name} could not be read as an Excel workbook: it is not a valid .xlsx "
        f"(damaged or not a workbook{'; ' + detail if detail else ''})", FIX_RESAVE)


def open_archive(file_name: str, data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # BadZipFile, and struct/OSError/ValueError for odd headers
        raise damaged(file_name) from exc


def check_xlsx_archive(file_name: str, data: bytes) -> None:
    """Refuse a .xlsx whose zip archive is damaged, oversized, a bomb or not a workbook.

    Only the archive's directory is read here; no part is unpacked.
    """
    with open_archive(file_name, data) as archive:
        entries = archive.infolist()
        max_entries = config.setting("O2R_XLSX_MAX_ENTRIES")
        if len(entries) > max_entries:
            raise UnreadableFile(
                f"{file_name} holds {len(entries):,} parts, over the {max_entries:,} a "
                "workbook may have", FIX_RESAVE)
        names = [entry.filename for entry in entries]
        if len(set(names)) != len(names):
            raise damaged(file_name, "a part appears twice")
        check_workbook_parts(file_name, set(names))
        for entry in entries:
            check_entry(file_name, entry)
        total = sum(entry.file_size for entry in entries)
        max_total = config.setting("O2R_XLSX_MAX_UNCOMPRESSED_MB") * MB
        if total > max_total:
            raise UnreadableFile(
                f"{file_name} would unpack to {total / MB:,.0f} MB, over the "
                f"{max_total / MB:,.0f} MB limit for a workbook, so it was not opened",
                "Split the export into smaller date ranges and upload each")


def check_workbook_parts(file_name: str, names: set[str]) -> None:
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise UnreadableFile(f"{file_name} is a zip archive but not an Excel workbook"
                             f"{what_instead(names)}",
                             "Upload the tracker or Connect export saved from Excel as .xlsx, "
                             "or as .csv")
    if "xl/vbaProject.bin" in names:
        raise UnreadableFile(f"{file_name} contains macros",
                             "Save it as a plain .xlsx (Excel Workbook, without macros) and "
                             "upload that")


def what_instead(names: set[str]) -> str:
    """' (it looks like ...)' when the archive is another known kind of document."""
    for part, what in (("xl/workbook.bin", "an Excel binary workbook (.xlsb)"),
                       ("word/document.xml", "a Word document"),
                       ("ppt/presentation.xml", "a PowerPoint presentation"),
                       ("content.xml", "an OpenDocument (.ods) file")):
        if part in names:
            return f" (it looks like {what})"
    return ""


def check_entry(file_name: str, entry: zipfile.ZipInfo) -> None:
    if entry.flag_bits & 0x1:
        raise UnreadableFile(f"{file_name} has password-protected (encrypted) parts",
                             "Remove the password in Excel, save it as .xlsx and upload again")
    if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise damaged(file_name, f"part {entry.filename} uses a compression Excel never writes")
    if entry.filename.lower().endswith(NESTED_ARCHIVE_SUFFIXES):
        raise UnreadableFile(
            f"{file_name} has another archive or document embedded in it "
            f"({entry.filename}), which a tracker or Connect export never has",
            "Copy the data into a new workbook, save it as .xlsx and upload that")
    ratio = entry.file_size / max(entry.compress_size, 1)
    max_ratio = config.setting("O2R_XLSX_MAX_RATIO")
    if entry.file_size >= RATIO_FLOOR_BYTES and ratio > max_ratio:
        raise UnreadableFile(
            f"{file_name} looks like a 'zip bomb': part {entry.filename} would unpack to "
            f"{entry.file_size / MB:,.0f} MB from {entry.compress_size / MB:,.2f} MB "
            f"({ratio:,.0f} to 1; a genuine export is under {max_ratio:,.0f} to 1), so it was "
            "not opened", FIX_RESAVE)


# ---------------------------------------------------------------- the XML inside

class CappedReader:
    """Reads a zip part, refusing more than `cap` bytes actually unpacked (headers can lie)."""

    def __init__(self, stream: IO[bytes], cap: int, file_name: str, part: str):
        self.stream, self.left, self.file_name, self.part = stream, cap, file_name, part

    def read(self, size: int) -> bytes:
        chunk = self.stream.read(min(size, self.left + 1))
        self.left -= len(chunk)
        if self.left < 0:
            raise damaged(self.file_name, f"part {self.part} is larger than the archive says")
        return chunk


class PrologReached(Exception):
    """The root element has started: no DTD, so no entity declarations, can follow."""


class StopAtRoot:
    """Parser target that stops at the root element: a DTD may only come before it."""

    def start(self, tag, attrib):
        raise PrologReached


def check_xlsx_xml(file_name: str, data: bytes) -> None:
    """Refuse a workbook whose XML parts declare a DTD or entities (billion laughs, XXE).

    Every XML part is checked with defusedxml. A DTD may only stand before a document's root
    element, so large parts (sheets, shared strings) are read only up to their root element;
    the small parts we look inside are parsed whole.
    """
    with open_archive(file_name, data) as archive:
        try:
            for entry in archive.infolist():
                if entry.filename in ("[Content_Types].xml", "xl/workbook.xml"):
                    parse_small_part(file_name, archive, entry)
                elif entry.filename.lower().endswith(XML_SUFFIXES):
                    check_prolog(file_name, archive, entry)
        except DefusedXmlException as exc:
            raise UnreadableFile(
                f"{file_name} contains XML entity declarations, which a genuine Excel export "
                "never has (a DTD, as used by 'billion laughs' and external-entity attacks), "
                "so it was not opened", FIX_RESAVE) from exc
        except ParseError as exc:
            raise damaged(file_name, f"its XML is not well-formed ({exc})") from exc
        except UnreadableFile:
            raise
        except Exception as exc:  # zlib.error, BadZipFile (bad CRC), EOFError on damage
            raise damaged(file_name) from exc


def check_first_sheet_shown(file_name: str, data: bytes) -> str | None:
    """The name of the workbook's first sheet, the one read; refused if it is hidden: Excel
    shows the uploader another sheet, and a hidden one is often an old copy or a list of
    terms."""
    with open_archive(file_name, data) as archive:
        try:
            workbook = safe_fromstring(archive.read("xl/workbook.xml"), forbid_dtd=True)
            sheet = next(e for e in workbook.iter() if e.tag.endswith("}sheet"))
        except Exception:  # damage, or no sheet: the reader names it
            return None
    if sheet.get("state") in ("hidden", "veryHidden"):
        raise UnreadableFile(
            f"{file_name}: its first sheet, '{visible(sheet.get('name', ''))}', is hidden in "
            "Excel, and the first sheet is the one read",
            "In Excel, move the sheet with the export to the front (or delete the hidden "
            "sheet), save and upload again")
    return sheet.get("name")


def first_sheet_part(archive: zipfile.ZipFile) -> str | None:
    """The part holding the workbook's first sheet, as its relationships name it."""
    names = set(archive.namelist())
    try:
        workbook = safe_fromstring(archive.read("xl/workbook.xml"), forbid_dtd=True)
        sheet = next(e for e in workbook.iter() if e.tag.endswith("}sheet"))
        rel_id = next(v for k, v in sheet.attrib.items() if k.endswith("}id"))
        rels = safe_fromstring(archive.read("xl/_rels/workbook.xml.rels"), forbid_dtd=True)
        target = next(e.get("Target") for e in rels.iter() if e.get("Id") == rel_id)
    except Exception:  # any oddity: fall back on Excel's usual name
        return "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else None
    part = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return part if part in names else None


def parse_small_part(file_name: str, archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    if entry.file_size > SMALL_PART_BYTES:
        raise damaged(file_name, f"part {entry.filename} is far larger than Excel writes")
    with archive.open(entry) as stream:
        text = CappedReader(stream, SMALL_PART_BYTES, file_name, entry.filename).read(
            SMALL_PART_BYTES + 1)
    safe_fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)


def check_prolog(file_name: str, archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    parser = DefusedXMLParser(target=StopAtRoot(), forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    cap = config.setting("O2R_XLSX_MAX_UNCOMPRESSED_MB") * MB
    with archive.open(entry) as stream:
        reader = CappedReader(stream, cap, file_name, entry.filename)
        try:
            while chunk := reader.read(XML_CHUNK_BYTES):
                parser.feed(chunk)
            parser.close()
        except PrologReached:
            return


# ---------------------------------------------------------------- the bounded reader process

# The reader runs `workbook_reader.serve_one` (as `python -c` would), in a child forked by the
# reader zygote (`reader_zygote`: a process started once that has imported pyarrow and
# calamine), or where the zygote cannot run, in a fresh interpreter. Never a fork of the server:
# the Streamlit server is multi-threaded, and a forked copy could inherit a lock another thread
# held. Not multiprocessing's spawn or forkserver either: both re-run the server's __main__
# (the `streamlit` script, which imports all of Streamlit, ~0.9 s) in every reader.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# calamine counts columns in 32 bits.
MAX_SHEET_WIDTH = 2**32
READER_COMMAND = (f"import sys; sys.path.insert(0, {str(PROJECT_ROOT)!r}); "
                  "from dashboard.ingest.workbook_reader import serve_one; serve_one()")


def read_in_subprocess(data: bytes, timeout_s: float, memory_mb: int, *,
                       file_name: str = "The workbook") -> tuple[pa.Table, int]:
    """The first sheet's cells as text columns c0..cN, read by calamine in a separate
    process, and the sheet's width (columns past O2R_MAX_COLUMNS + 1 are not sent).

    The process may use at most `memory_mb` of address space and `timeout_s` seconds; it is
    killed at the deadline. Whatever happens to it, this process carries on. Text cells come
    back as they are, other cells as `workbook_reader.cell_text` writes them.
    """
    too_big = UnreadableFile(
        f"{file_name} is too large or too complex to read safely within {memory_mb:,} MB / "
        f"{timeout_s:g} s", "Split the export into smaller date ranges and upload each. If "
        "the sheet is small, a stray cell far below or to the right of the data makes it this "
        "large: press Ctrl+End in Excel to find the last cell used, delete the rows and "
        "columns between, save and upload again")
    max_columns = config.setting("O2R_MAX_COLUMNS")
    argv = [str(memory_mb), str(math.ceil(timeout_s) + 1), str(max_columns)]
    try:
        ended, output = run_reader(argv, data, timeout_s)
    except (subprocess.TimeoutExpired, reader_zygote.ReaderTimedOut) as exc:
        raise too_big from exc
    except OSError as exc:
        raise UnreadableFile(f"{file_name} could not be read: the server could not start "
                             f"a reader ({exc})",
                             "Try again; if this persists, tell an administrator") from exc
    if not ended or not output:  # killed by the memory limit, or crashed
        raise too_big
    status, payload = output[:1], memoryview(output)[1:]  # not a copy of the whole stream
    if status == workbook_reader.OK:
        try:
            return table_from_reader(payload, max_columns)
        except Exception as exc:
            raise too_big from exc
    if status == workbook_reader.PASSWORD:
        raise UnreadableFile(f"{file_name} is password-protected",
                             "Remove the password in Excel and upload again")
    if status == workbook_reader.FAILED:
        detail = bytes(payload).decode("utf-8", "replace")[:workbook_reader.ERROR_CHARS]
        raise UnreadableFile(f"{file_name} could not be read as an Excel workbook ({detail})",
                             FIX_RESAVE)
    raise too_big  # out of memory, or not a status the reader sends


def run_reader(argv: list[str], data: bytes,
               timeout_s: float) -> tuple[bool, bytes | memoryview]:
    """READER_COMMAND run on `data`: whether it ended normally (exit status 0), and its
    output; in a child of the zygote, or in a fresh interpreter where there is none."""
    try:
        return reader_zygote.run(READER_COMMAND, argv, data, timeout_s)
    except (reader_zygote.ZygoteUnavailable, OSError):  # no zygote, or two failed to fork
        pass
    # Its stderr is dropped: a panic's backtrace there means nothing to the uploader, and
    # the exit status already says it failed.
    # Its own session and group, ended whole after the read: whatever a reader started must
    # neither outlive it nor hold its output open.
    reader = subprocess.Popen([sys.executable, "-c", READER_COMMAND, *argv],  # a fixed command
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, start_new_session=True,
                              env=reader_zygote.READER_ENVIRONMENT)
    try:
        output, _ = reader.communicate(data, timeout=timeout_s)
    finally:
        reader_zygote.kill_group(reader.pid)
        if reader.poll() is None:
            reader.kill()
        reader.communicate()
    return reader.returncode == 0, output


def table_from_reader(stream: bytes | memoryview, max_columns: int) -> tuple[pa.Table, int]:
    """The reader's Arrow stream as a table of text columns, and the sheet's width.

    The reader has just parsed a hostile file, so its output is checked as untrusted: the
    stream must hold text columns c0..cN, as many as the width says were sent, and every
    buffer must be sound (offsets in bounds, text valid UTF-8) before anything reads it.
    `stream` is no larger than what the reader held within its memory limit.
    """
    with pa.ipc.open_stream(pa.py_buffer(stream)) as source:
        table = source.read_all()
    width = int((table.schema.metadata or {}).get(b"width", b"-1"))
    sent = pa.schema([pa.field(f"c{i}", pa.string())
                      for i in range(min(max(width, 0), max_columns + 1))])
    if not 0 <= width <= MAX_SHEET_WIDTH or table.schema != sent:
        raise ValueError(f"the reader sent an unexpected table: {table.schema}")
    table.validate(full=True)
    reader_sandbox.note_confinement(table.schema.metadata or {})
    return table, width
