"""The first sheet's cells before and after calamine reads them: its rows counted in its XML
(so an oversized sheet is refused before it is read), and the cells whose formula failed
(#N/A…) or was never calculated, which calamine hands over empty: shown as Excel shows them,
or refused, where a column is read."""

from __future__ import annotations

import re
from typing import NamedTuple

import pyarrow as pa

from dashboard import config
from dashboard.ingest.cell_checks import MAX_PROBLEMS_LISTED, RowProblems
from dashboard.ingest.contract import classify_header
from dashboard.ingest.spreadsheet_guard import (
    MB,
    CappedReader,
    UnreadableFile,
    check_first_sheet_shown,
    check_xlsx_archive,
    check_xlsx_xml,
    damaged,
    first_sheet_part,
    open_archive,
    read_in_subprocess,
)

ROW_TAG = re.compile(rb"<row[\s>/]")
PREFIXED_ROW_TAG = re.compile(rb"<[A-Za-z_][\w.-]*:row[\s>/]")  # <x:row>, rarely written


def count_row_tags(xml: bytes) -> int:
    """Row tags, with or without a namespace prefix. Two searches, each led by a literal,
    are several times faster than one pattern that tries every '<' of the sheet, and the
    prefixed one runs only when a prefix can be there. Looking for ':' (one byte, memchr)
    first spares most chunks the search for ':row', which costs as much as the count."""
    rows = len(ROW_TAG.findall(xml))
    return rows + len(PREFIXED_ROW_TAG.findall(xml)) if b":" in xml and b":row" in xml \
        else rows


# A cell holding a formula's error (t="e"): Excel shows its value (#N/A, #REF!…), which
# calamine hands over as an empty cell, so the value the formula failed to find would be lost
# without a word.
# (No "/" in the attributes: an empty cell, <c r="A1"/>, must not take the next cell's value.)
# Each attempt stops at the next "<c" or "<" in the attributes, so hostile XML (a million
# "<c" and no "</c>") costs one pass, not one per cell.
ERROR_CELL = re.compile(rb'<c\b([^>/<]*)>(?:(?!</c>|<c\b).)*?<v>([^<]*)</v>', re.DOTALL)
CELL_REFERENCE = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
ERROR_TYPE = re.compile(rb'\bt="e"')
MAX_ERROR_CELLS = 1000  # enough to name every one a person would correct by hand


# A formula cell with no value saved (no <v>, or an empty one not typed as text, which is
# how Excel saves a formula that gives ""): a workbook written by a program that does not
# calculate (a script, some exports). calamine hands it over empty.
UNCALCULATED_CELL = re.compile(
    rb'<c\b([^>/<]*)>\s*<f\b[^>]*(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>')
TEXT_TYPE = re.compile(rb'\bt="(?:str|inlineStr|s)"')


# A formula whose saved value is a plain 0: what XlsxWriter saves for a formula it never
# calculated, in a workbook it marks to be calculated when opened (fullCalcOnLoad).
ZERO_FORMULA_CELL = re.compile(
    rb'<c\b([^>/<]*)>\s*<f\b[^>]*(?:/>|>[^<]*</f>)\s*<v>0</v>\s*</c>')
CALCULATE_ON_LOAD = re.compile(rb'fullCalcOnLoad="(?:1|true)"')


def error_cells_in(xml: bytes, found: dict[tuple[int, int], str | None],
                   values_untrusted: bool = False) -> None:
    """Add the error cells of whole <c> elements in `xml` to `found`: (row as Excel numbers
    it, column from 0) -> the error Excel shows, or None for a formula never calculated
    (`values_untrusted`: the workbook asks to be calculated when opened, so a formula's saved
    0 is no result)."""
    marked = [(attributes, value.decode("utf-8", "replace"))
              for attributes, value in ERROR_CELL.findall(xml) if ERROR_TYPE.search(attributes)
              ] if b't="e"' in xml else []
    if b"<f" in xml:
        marked += [(attributes, None) for attributes in UNCALCULATED_CELL.findall(xml)
                   if not TEXT_TYPE.search(attributes)]
        if values_untrusted:
            marked += [(attributes, None) for attributes in ZERO_FORMULA_CELL.findall(xml)
                       if not TEXT_TYPE.search(attributes)]
    for attributes, value in marked:
        reference = CELL_REFERENCE.search(attributes)
        if reference and len(found) < MAX_ERROR_CELLS:
            column = 0
            for letter in reference.group(1):
                column = column * 26 + letter - ord("A") + 1
            found[(int(reference.group(2)), column - 1)] = value


def check_xlsx_rows(file_name: str, data: bytes) -> dict[tuple[int, int], str | None]:
    """Refuse a workbook whose first sheet has more rows than we read, counting its row tags
    as the XML is unpacked (without parsing it), and stopping as soon as the limit is passed;
    return its cells holding a formula's error (see error_cells_in)."""
    max_rows = config.setting("O2R_XLSX_MAX_ROWS")
    errors: dict[tuple[int, int], str | None] = {}
    with open_archive(file_name, data) as archive:
        part = first_sheet_part(archive)
        if part is None:
            return errors  # calamine will say the workbook has no sheet
        rows, tail, unfinished = 0, b"", b""
        try:
            untrusted = bool(CALCULATE_ON_LOAD.search(archive.read("xl/workbook.xml")))
        except KeyError:  # no workbook part: calamine will say so
            untrusted = False
        try:
            with archive.open(part) as stream:
                reader = CappedReader(stream, config.setting("O2R_XLSX_MAX_UNCOMPRESSED_MB") * MB,
                                      file_name, part)
                while chunk := reader.read(MB):
                    window = tail + chunk
                    # Tags wholly inside the carried tail were counted with the last chunk.
                    rows += count_row_tags(window) - count_row_tags(tail)
                    tail = window[-16:]
                    if rows > max_rows:
                        break
                    # Most sheets have no error cell and no formula: one search for each
                    # finds that.
                    if unfinished or b't="e"' in chunk or b"<f" in chunk:
                        cells = unfinished + chunk
                        end = cells.rfind(b"</c>") + len(b"</c>")
                        error_cells_in(cells[:end], errors, untrusted)
                        rest = cells[end:]
                        unfinished = rest[-MB:] if b't="e"' in rest or b"<f" in rest else b""
        except UnreadableFile:
            raise
        except Exception as exc:  # zlib.error, BadZipFile (bad CRC), EOFError on damage
            raise damaged(file_name) from exc
    if rows > max_rows:
        raise UnreadableFile(
            f"{file_name} has more than {max_rows:,} rows in its first sheet, more than a "
            "workbook upload may have, so it was not read",
            "Save the sheet as CSV (a CSV upload has no row limit) or split the export into "
            "smaller date ranges, and upload that")
    return errors


def refuse_uncalculated(errors: dict[tuple[int, int], str | None], headers: list[str],
                        first_row: int, lookup: dict[str, str]) -> None:
    """RowProblems for each formula never calculated (no value saved) in a column that is
    read: its value is not in the file, and it would be taken as empty."""
    found = sorted((row, column) for (row, column), error in errors.items()
                   if error is None and row >= first_row and column < len(headers)
                   and classify_header(headers[column], lookup)[0] == "column")
    if found:
        raise RowProblems([{
            "row": row, "column": headers[column], "value": "",
            "problem": "The cell holds a formula whose result was never worked out (the "
                       "workbook was saved by a program that does not calculate), so its "
                       "value is not in the file",
            "fix": "Open the workbook in Excel, let it calculate (Formulas > Calculate Now), "
                   "save it and upload again"} for row, column in found[:MAX_PROBLEMS_LISTED]],
            len(found))


def with_errors_shown(table: pa.Table, errors: dict[tuple[int, int], str | None],
                      first_row: int) -> pa.Table:
    """`table` (rows from Excel's row `first_row` on) with each error cell holding the error
    Excel shows, so the rules refuse it where it is read."""
    by_column: dict[int, dict[int, str]] = {}
    for (row, column), error in errors.items():
        if error is not None and row >= first_row and column < table.num_columns:
            by_column.setdefault(column, {})[row - first_row] = error
    for column, shown in by_column.items():
        values = table.column(column).to_pylist()
        for index, error in shown.items():
            if index < len(values):
                values[index] = error
        table = table.set_column(column, table.column_names[column],
                                 pa.array(values, pa.string()))
    return table


class Sheet(NamedTuple):
    cells: pa.Table  # text columns, as column_text makes them
    width: int
    name: str | None
    # (Excel row, column) -> the error shown ("#N/A"…), or None for a formula never calculated
    errors: dict[tuple[int, int], str | None]


def first_sheet(file_name: str, data: bytes) -> Sheet:
    """The first sheet's cells as text columns (as column_text would make them), in Arrow,
    its width, its name and its cells holding a formula's error (which calamine hands over
    empty); UnreadableFile if it cannot be read safely.

    Hostile archives and XML are refused before calamine sees the bytes, and calamine runs
    in a separate process with a memory and time limit, so no workbook can take the server.
    Every read of an uploaded workbook comes here (upload_hints too)."""
    check_xlsx_archive(file_name, data)
    check_xlsx_xml(file_name, data)
    name = check_first_sheet_shown(file_name, data)
    errors = check_xlsx_rows(file_name, data)
    cells, width = read_in_subprocess(data, config.setting("O2R_XLSX_TIMEOUT_S"),
                                      config.setting("O2R_XLSX_MEMORY_MB"), file_name=file_name)
    return Sheet(cells, width, name, errors)
