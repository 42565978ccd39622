"""Turn an uploaded file's bytes into a table of text cells with the row numbers Excel shows."""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from dashboard.contract import classify_header
from dashboard.spreadsheet_guard import (
    UnreadableFile,
    cell_text,
    check_xlsx_archive,
    check_xlsx_xml,
    limit,
    parse_in_subprocess,
)

HEADER_SEARCH_ROWS = 30


@dataclass
class RawTable:
    """Cells as text in staging table `raw` (c0..cN); headers as the user wrote them.

    Every line below the header is a row of `raw`, blank ones included, in file order, so a
    row's number as Excel shows it is its rowid + first_data_row.
    """

    headers: list[str]
    header_row: int  # the header's row number as Excel shows it
    data_rows: int

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1


def sniff_kind(file_name: str, data: bytes) -> str:
    """'xlsx' or 'csv' from the content (the file name is only a hint)."""
    name = file_name.lower()
    if not data:
        raise UnreadableFile(f"{file_name} is empty (0 bytes). Export the data again and "
                             "upload the saved file.")
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00" in data[:1 << 20] or \
                name.endswith(".xlsx"):
            raise UnreadableFile(
                f"{file_name} is a password-protected (encrypted) workbook. Open it in Excel, "
                "remove the password (File > Info > Protect Workbook), save and upload again.")
        raise UnreadableFile(
            f"{file_name} is an old-style Excel 97-2003 (.xls) workbook. Open it in Excel and "
            "save it as .xlsx or CSV, then upload that.")
    for magic, what in ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
                        (b"GIF8", "a GIF image"), (b"%PDF", "a PDF document"),
                        (b"\x1f\x8b", "a gzip archive"), (b"Rar!", "a RAR archive")):
        if data.startswith(magic):
            raise UnreadableFile(f"{file_name} is {what}, not a spreadsheet. Upload the tracker "
                                 "or Connect export as .xlsx or .csv.")
    if b"\x00" in data[:65536]:
        raise UnreadableFile(f"{file_name} is not a spreadsheet or a text (CSV) file. Upload "
                             "the export as .xlsx or .csv.")
    return "csv"


def decode_text(file_name: str, data: bytes) -> tuple[str, bool]:
    """The text, and whether it was UTF-8 (else the Windows code page Excel writes, cp1252).

    Any byte-order mark is already removed.
    """
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), False
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"{file_name} is not readable text in UTF-8 or Windows-1252 (byte "
            f"0x{data[exc.start]:02X} at position {exc.start}). Save it from Excel as "
            "'CSV UTF-8 (Comma delimited)' and upload again.") from exc


def find_header(rows: list[list[str]], lookup: dict[str, str]) -> int:
    """Index of the row among the first few that names the most contract columns."""
    best_index, best_score = -1, 0
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = header_score(row, lookup)
        if score > best_score:
            best_index, best_score = index, score
    return best_index


def header_score(row: list[str], lookup: dict[str, str]) -> int:
    """How many different contract columns a row names."""
    return len({name for what, name in (classify_header(c, lookup) for c in row)
                if what == "column"})


def column_text(values: list[object]) -> list[str | None]:
    """A column of cells as text; text cells, blank ones included, pass straight through
    (blanks become nulls later, in SQL)."""
    return [v if type(v) is str else cell_text(v) for v in values]


def load_rows(con: duckdb.DuckDBPyConnection, header_row: int, headers: list[str],
              rows: list[list[object]]) -> int:
    """Stage data rows (already below the header) into `raw`; returns how many were loaded."""
    width = len(headers)
    if rows and all(len(r) >= width for r in rows):
        cells = list(zip(*rows, strict=False))[:width]  # transposes in C, not cell by cell
    else:
        cells = [[r[i] if i < len(r) else None for r in rows] for i in range(width)]
    table = pa.table({f"c{i}": pa.array(column_text(cells[i]) if rows else [], pa.string())
                      for i in range(width)})
    con.register("raw_frame", table)
    con.execute("create or replace temp table raw as select * from raw_frame")
    con.unregister("raw_frame")
    return len(rows)


def read_xlsx(con: duckdb.DuckDBPyConnection, file_name: str, data: bytes,
              lookup: dict[str, str]) -> RawTable:
    # Hostile archives and XML are refused before calamine sees the bytes, and calamine runs
    # in a separate process with a memory and time limit, so no workbook can take the server.
    check_xlsx_archive(file_name, data)
    check_xlsx_xml(file_name, data)
    # as_text: cells come back as column_text would make them, so far less to unpickle.
    cells = parse_in_subprocess(data, limit("O2R_XLSX_TIMEOUT_S", float),
                                limit("O2R_XLSX_MEMORY_MB"), file_name=file_name, as_text=True)
    text_rows = [[cell_text(c) or "" for c in row] for row in cells[:HEADER_SEARCH_ROWS]]
    header_index = find_header(text_rows, lookup)
    if header_index < 0:
        raise UnreadableFile(no_header_message(file_name))
    headers = [h.strip() for h in text_rows[header_index]]
    count = load_rows(con, header_index + 1, headers, cells[header_index + 1:])
    return RawTable(headers, header_index + 1, count)


def read_csv(con: duckdb.DuckDBPyConnection, file_name: str, data: bytes,
             lookup: dict[str, str], source_path: Path | None = None) -> RawTable:
    has_bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if has_bom else data
    text, is_utf8 = decode_text(file_name, body)
    head = text[:256 * 1024]
    delimiter, head_rows, header_index = best_delimiter(head, lookup)
    if header_index < 0:
        raise UnreadableFile(no_header_message(file_name))
    headers = [h.strip() for h in head_rows[header_index]]
    if b"\n\n" in body or b"\n\r\n" in body or header_index > 0:
        # DuckDB's reader skips empty lines, which would shift the row numbers we report.
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        count = load_rows(con, header_index + 1, headers, rows[header_index + 1:])
        return RawTable(headers, header_index + 1, count)
    if is_utf8 and not has_bom and source_path is not None:
        count = bulk_load_csv(con, source_path, delimiter, len(headers))
    else:
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / "upload.csv"
            copy.write_bytes(body if is_utf8 else text.encode("utf-8"))
            count = bulk_load_csv(con, copy, delimiter, len(headers))
    return RawTable(headers, 1, count)


def best_delimiter(head: str, lookup: dict[str, str]) -> tuple[str, list[list[str]], int]:
    """The delimiter under which a header row names the most contract columns."""
    best = (",", [], -1, 0)
    for delimiter in (",", ";", "\t", "|"):
        rows = list(csv.reader(io.StringIO(head), delimiter=delimiter))[:HEADER_SEARCH_ROWS]
        index = find_header(rows, lookup)
        score = header_score(rows[index], lookup) if index >= 0 else 0
        if score > best[3]:
            best = (delimiter, rows, index, score)
    return best[0], best[1], best[2]


def bulk_load_csv(con: duckdb.DuckDBPyConnection, path: Path, delimiter: str,
                  width: int) -> int:
    """Large files: DuckDB's own reader; rows stay in file order, so rowid gives the row."""
    columns = {f"c{i}": "VARCHAR" for i in range(width)}
    try:
        con.execute(
            "create or replace temp table raw as select * from read_csv($path, header=false,"
            " skip=1, columns=$columns, delim=$delim, quote='\"', escape='\"', auto_detect=false,"
            " strict_mode=false, null_padding=false, all_varchar=true)",
            {"path": str(path), "columns": columns, "delim": delimiter})
    except duckdb.Error as exc:
        raise UnreadableFile(f"The CSV file could not be read: {str(exc).splitlines()[0]}. Check "
                             "that every row has the same number of columns as the header.") \
            from exc
    return con.execute("select count(*) from raw").fetchall()[0][0]


def no_header_message(file_name: str) -> str:
    return (f"{file_name}: no header row was found in the first {HEADER_SEARCH_ROWS} rows. The "
            "export needs a row of column headers such as 'Nominal ID' and 'Referral Date'; if "
            "your headers have other names, map them in the column map file (see README).")


def read_table(con: duckdb.DuckDBPyConnection, file_name: str, data: bytes,
               lookup: dict[str, str], source_path: Path | None = None) -> RawTable:
    """Stage the file's cells into `raw` on `con` and return its headers.

    `source_path`, if given, is a file holding exactly `data`: DuckDB may read it directly.
    """
    if sniff_kind(file_name, data) == "xlsx":
        return read_xlsx(con, file_name, data, lookup)
    return read_csv(con, file_name, data, lookup, source_path)
