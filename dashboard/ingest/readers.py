"""Turn an uploaded file's bytes into a table of text cells with the row numbers Excel shows.

Everything happens in memory, from the bytes uploaded: no part of an upload is ever written
to a file (a temporary file would hold names and notes, and a crash would leave it behind).
"""

from __future__ import annotations

import csv
import io
import re
import threading
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from dashboard import config
from dashboard.ingest.cell_checks import (
    LINE_END,
    MAX_PROBLEMS_LISTED,
    RowProblems,
    check_cells,
    refuse_lone_return,
)
from dashboard.ingest.contract import classify_header, visible
from dashboard.ingest.file_kinds import decode_text, sniff_kind
from dashboard.ingest.sheet_cells import first_sheet, refuse_uncalculated, with_errors_shown
from dashboard.ingest.spreadsheet_guard import UnreadableFile
from dashboard.ingest.workbook_reader import cell_text
from dashboard.store.sql import install_text_functions

HEADER_SEARCH_ROWS = 30
HEAD_CHARS = 256 * 1024
# Our own cap on a cell is O2R_MAX_CELL_KB, checked after reading with the row and column, so
# the csv module's own limit (131,072 characters, which it reports without either) is lifted.
csv.field_size_limit(2**31 - 1)

FIX_QUOTE = ("Remove the stray quote (\") or close it; a quote inside a cell is written as two "
             "quotes (\"\"). If the file was cut off, export it again")


# One in-memory database per process stages the strict reader's uploads: opening a database
# costs about 0.013 CPU-s (DuckDB builds its catalog of built-in functions), more than
# calamine takes to read a 1,000-row workbook. Each upload reads in a connection of its own,
# whose temp tables, macros and registered frames no other connection sees and which go when
# it closes. No spilling to disk: an upload's cells stay in this process's memory. One
# thread, as the fast path's staging (fast_csv.STAGING_THREADS): CPU time, not wall time, is
# what a shared server runs short of, and a second thread cost 0.004 of the 0.009 CPU-s
# that staging 10,000 rows took.
_staging_database: duckdb.DuckDBPyConnection | None = None
_staging_lock = threading.Lock()


def staging_connection() -> duckdb.DuckDBPyConnection:
    """A new connection of its own, for one upload, to the process's staging database."""
    global _staging_database
    with _staging_lock:
        if _staging_database is not None:
            try:
                con = _staging_database.cursor()
                con.execute("select 1").fetchall()
                return con
            except duckdb.Error:  # a fatal error invalidated the database: open another
                _staging_database = None
        _staging_database = duckdb.connect(":memory:", config={"temp_directory": "",
                                                                "threads": 1})
        # Python functions belong to the database, not to a connection: created once here,
        # so that two uploads starting together do not both try to create them.
        install_text_functions(_staging_database)
        return _staging_database.cursor()


@dataclass
class RawTable:
    """Cells as text in staging table `raw` (c0..cN); headers as the user wrote them.

    Every row below the header is a row of `raw`, blank ones included, in file order, so a
    row's number as Excel shows it is its rowid + first_data_row. Only the columns the
    contract reads hold cells; the others (names, notes, unknown columns) are left null.
    """

    headers: list[str]
    header_row: int  # the header's row number as Excel shows it
    data_rows: int  # rows below the header, blank ones included
    # False only where the file's bytes were seen to hold no refused character (contract
    # FORBIDDEN), so no cell can: the rules then need not look for one cell by cell.
    may_hold_forbidden: bool = True
    # Columns with an empty header cell: position -> rows holding something in it
    unnamed_filled: dict[int, int] = field(default_factory=dict)

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1


def find_header(rows: list[list[str]], lookup: dict[str, str]) -> int:
    """Index of the row among the first few that names the most contract columns."""
    best_index, best_score = -1, 0
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = header_score(row, lookup)
        if score > best_score:
            best_index, best_score = index, score
    return best_index


def header_score(row: list[str], lookup: dict[str, str]) -> int:
    """How many different contract columns a row names (among its first cells only: a
    header wider than the cap is refused anyway, and scoring it whole is slow)."""
    cells = row[:config.setting("O2R_MAX_COLUMNS") + 1]
    return len({name for what, name in (classify_header(c, lookup) for c in cells)
                if what == "column"})


def check_width(file_name: str, headers: list[str], header_row: int) -> None:
    max_columns = config.setting("O2R_MAX_COLUMNS")
    if len(headers) > max_columns:
        raise UnreadableFile(
            f"{file_name} has {len(headers):,} columns in its header row (row {header_row}), "
            f"more than the {max_columns:,} an export may have, so it was not read",
            "Delete the columns you do not need (the tracker has about 20) and upload again; "
            "an administrator can raise O2R_MAX_COLUMNS", row=header_row)


# ---------------------------------------------------------------- workbooks

def read_xlsx(con: duckdb.DuckDBPyConnection, file_name: str, data: bytes,
              lookup: dict[str, str]) -> RawTable:
    sheet, width, sheet_name, errors = first_sheet(file_name, data)
    head = [list(row) for row in zip(*(column.to_pylist() for column in
                                       sheet.slice(0, HEADER_SEARCH_ROWS).columns))]
    header_index = find_header([[cell_text(c) or "" for c in row] for row in head], lookup)
    if header_index < 0:
        raise UnreadableFile(*no_header_message(file_name, sheet_name or ""))
    # The header is as wide as the sheet, though columns past the cap were not sent.
    check_width(file_name, range(width), header_index + 1)
    headers = [(cell_text(h) or "").strip() for h in head[header_index]]
    refuse_uncalculated(errors, headers, header_index + 2, lookup)
    table = with_errors_shown(sheet.slice(header_index + 1), errors, header_index + 2)
    check_cells(file_name, table, headers, header_index + 2, lookup)
    unnamed = stage(con, table, headers, lookup)
    return RawTable(headers, header_index + 1, table.num_rows, unnamed_filled=unnamed)


def column_text(values: list[object]) -> list[str | None]:
    """A column of cells as text; text cells, blank ones included, pass straight through
    (blanks become nulls later, in SQL)."""
    return [v if type(v) is str else cell_text(v) for v in values]


def rows_table(rows: list[list[object]], width: int) -> pa.Table:
    """Rows of cells (already below the header) as a table of text columns c0..c{width-1}."""
    if rows and all(len(r) >= width for r in rows):
        cells = list(zip(*rows, strict=False))[:width]  # transposes in C, not cell by cell
    else:
        cells = [[r[i] if i < len(r) else None for r in rows] for i in range(width)]
    return pa.table({f"c{i}": pa.array(column_text(cells[i]) if rows else [], pa.string())
                     for i in range(width)})


def stage(con: duckdb.DuckDBPyConnection, table: pa.Table, headers: list[str],
          lookup: dict[str, str]) -> dict[int, int]:
    """Copy into `raw` only the columns the contract reads; the rest (names, notes, unknown
    columns) become null, so they never reach DuckDB, whose memory may spill to disk. Returns,
    for each column whose header cell is empty, how many rows hold something in it."""
    kinds = [classify_header(header, lookup)[0] for header in headers]
    columns = [table.column(i) if kind == "column" else pa.nulls(table.num_rows, pa.string())
               for i, kind in enumerate(kinds)]
    unnamed = {i: pc.sum(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(table.column(i))),
                                    0)).as_py() or 0
               for i, kind in enumerate(kinds) if kind == "blank" and i < table.num_columns}
    staged = pa.table(columns, names=[f"c{i}" for i in range(len(headers))])
    con.register("raw_frame", staged)
    con.execute("create or replace temp table raw as select * from raw_frame")
    con.unregister("raw_frame")
    return {i: filled for i, filled in unnamed.items() if filled}


# ---------------------------------------------------------------- text (CSV, tab-delimited)

def read_csv(con: duckdb.DuckDBPyConnection, file_name: str, data: bytes,
             lookup: dict[str, str]) -> RawTable:
    text, utf8 = decode_text(file_name, data)
    delimiter, head_rows, header_index = best_delimiter(text[:HEAD_CHARS], lookup)
    if header_index < 0:
        raise UnreadableFile(*no_header_message(file_name))
    check_width(file_name, head_rows[header_index], header_index + 1)
    headers = [h.strip() for h in head_rows[header_index]]
    refuse_lone_return(file_name, text, delimiter, headers, header_index + 1, lookup)
    body = utf8 if utf8 is not None else text.encode("utf-8")
    table = None
    if header_index == 0 and quotes_are_simple(body, delimiter):
        table = read_regular(body, delimiter, head_rows[0])
    if table is None:
        table = read_carefully(file_name, text, delimiter, header_index, headers)
    # A cell can hold a line break only if the file has more lines than rows.
    records = header_index + 1 + table.num_rows
    check_cells(file_name, table, headers, header_index + 2, lookup,
                delimiter if count_lines(body) > records else None)
    unnamed = stage(con, table, headers, lookup)
    return RawTable(headers, header_index + 1, table.num_rows, unnamed_filled=unnamed)


def count_lines(body: bytes) -> int:
    """Lines as the CSV readers count them: any of \\r\\n, \\n and \\r ends one."""
    ends = body.count(b"\n") + body.count(b"\r") - body.count(b"\r\n")
    return ends + (1 if body and not body.endswith((b"\n", b"\r")) else 0)


def best_delimiter(head: str, lookup: dict[str, str]) -> tuple[str, list[list[str]], int]:
    """The delimiter under which a header row names the most contract columns."""
    best = (",", [], -1, 0)
    for delimiter in (",", ";", "\t", "|"):
        reader = csv.reader(io.StringIO(head, newline=""), delimiter=delimiter)
        rows = []
        try:
            for row in reader:
                rows.append(row)
                if len(rows) == HEADER_SEARCH_ROWS:
                    break
        except csv.Error:
            pass  # a quoting fault near the top: the careful read reports it with its row
        index = find_header(rows, lookup)
        score = header_score(rows[index], lookup) if index >= 0 else 0
        if score > best[3]:
            best = (delimiter, rows, index, score)
    return best[0], best[1], best[2]


def quotes_are_simple(body: bytes, delimiter: str) -> bool:
    """Whether every quote can only open or close a cell, so the fast, lenient reader splits
    the file into the rows the strict one would. An odd number of quotes means one is left
    open; a quote with text on both sides is stray (or text follows a closing quote). What
    is left (text after an empty quoted cell, "") changes one cell's value, never the rows:
    rows swallowed into a cell are caught by check_cells."""
    count = body.count(b'"')
    if count == 0:
        return True
    if count % 2:
        return False
    # Vectorised (a regex over every byte of a 66 MB file takes a second).
    octets = np.frombuffer(body, dtype=np.uint8)
    quotes = np.flatnonzero(octets == ord('"'))
    bounds = (b'"' + delimiter.encode() + b"\r\n")
    before = np.isin(octets[np.maximum(quotes - 1, 0)], list(bounds)) | (quotes == 0)
    after = np.isin(octets[np.minimum(quotes + 1, len(octets) - 1)], list(bounds)) | \
        (quotes == len(octets) - 1)
    return not np.any(~before & ~after)


def read_regular(body: bytes, delimiter: str, header: list[str]) -> pa.Table | None:
    """The data rows by Arrow's CSV reader, straight from the bytes in memory; None if any row
    is not as wide as the header (the careful reader then says which)."""
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except pa.ArrowException:  # a row of another width, mostly: the careful reader says
        return None
    if table.num_rows == 0 or [table.column(i)[0].as_py() for i in range(len(names))] != header:
        return None
    return table.slice(1)


def read_carefully(file_name: str, text: str, delimiter: str, header_index: int,
                   headers: list[str]) -> pa.Table:
    """The data rows by Python's csv module in strict mode: a quote left open, or text after
    a closing quote, is refused with its row rather than read as it happens to fall."""
    records: list[list[str]] = []
    try:
        records.extend(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                                  strict=True))
    except csv.Error as exc:
        raise quoting_problem(file_name, text, delimiter, len(records), header_index,
                              headers) from exc
    rows = records[header_index + 1:]
    width = len(headers)
    too_wide = [(index, row) for index, row in enumerate(rows)
                if len(row) > width and any(cell.strip() for cell in row[width:])]
    if too_wide:
        # The cells past the header's last column show where the row split: most often a
        # delimiter inside a cell that is not quoted ("Ladywood, Birmingham").
        raise RowProblems([{
            "row": header_index + 2 + index, "column": "", "value": beyond,
            "problem": f"The row has {len(row):,} cells but the header has {width:,}, so its "
                       "cells may be shifted (a stray quote or delimiter in it or just above "
                       f"it); past the last column it has '{beyond}'",
            "fix": "Check the row in a text editor: remove the stray quote or delimiter, or "
                   "quote the cell that contains it"}
            for index, row in too_wide[:MAX_PROBLEMS_LISTED]
            for beyond in [visible(delimiter.join(row[width:]))[:200]]], len(too_wide))
    return rows_table(rows, width)


def quoting_problem(file_name: str, text: str, delimiter: str, record_index: int,
                    header_index: int, headers: list[str]) -> UnreadableFile:
    """Where the csv module stopped: the cell whose quote was never closed, or that has
    text after its closing quote, by its row as Excel counts rows and its column."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    for _ in range(record_index):
        next(reader)
    start = line_offset(text, reader.line_num)
    column, opened_line, left_open = locate_quote(text, start, delimiter)
    row = record_index + 1
    name = headers[column] if record_index > header_index and column < len(headers) \
        else f"column {column + 1}"
    line = reader.line_num + 1 + opened_line
    where = f"row {row}" + (f" (line {line:,} of the file)" if line != row else "")
    if left_open:
        rest = text.count("\n", start) + text.count("\r", start) - text.count("\r\n", start)
        problem = (f"{file_name}: a quote (\") opens the cell in {where}, column '{name}', and "
                   f"is never closed, so the rest of the file ({rest:,} line break(s)) would be "
                   "read into that one cell")
    else:
        problem = (f"{file_name}: the quoted cell that starts in {where}, column '{name}', has "
                   "text after its closing quote (\"), so its rows cannot be told apart")
    return UnreadableFile(problem, FIX_QUOTE, row=row, column=name)


def line_offset(text: str, lines: int) -> int:
    """Where line `lines` + 1 starts (any of \\r\\n, \\n, \\r ends a line)."""
    offset = 0
    for _ in range(lines):
        found = LINE_END.search(text, offset)
        if found is None:
            return len(text)
        offset = found.end()
    return offset


QUOTED = re.compile(r'"(?:[^"]|"")*(")?')


def locate_quote(text: str, start: int, delimiter: str) -> tuple[int, int, bool]:
    """(column, lines into the record, left open) of the first cell from `start` that
    is quoted and either never closed or followed by text."""
    unquoted = re.compile(f"[^{re.escape(delimiter)}\\r\\n]+")
    column, lines, position, cell_start = 0, 0, start, True
    while position < len(text):
        char = text[position]
        if char == '"' and cell_start:
            quoted = QUOTED.match(text, position)
            if quoted.group(1) is None:
                return column, lines, True
            position = quoted.end()
            if position < len(text) and text[position] not in (delimiter, "\r", "\n"):
                return column, lines, False
            lines += len(LINE_END.findall(quoted.group()))
            cell_start = False
        elif char == delimiter:
            column, position, cell_start = column + 1, position + 1, True
        elif char in "\r\n":
            # The record ended cleanly; the fault is in a later one (not expected).
            return column, lines, False
        else:
            position = unquoted.match(text, position).end()
            cell_start = False
    return column, lines, False


def no_header_message(file_name: str, sheet: str | None = None) -> tuple[str, str]:
    """For a workbook, `sheet` names the sheet read: the export may be on another one."""
    where = "" if sheet is None else (f" of its first sheet, '{visible(sheet)}' (the one read)"
                                      if sheet else " of its first sheet (the one read)")
    elsewhere = "" if sheet is None else ("; if the export is on another sheet, move that "
                                          "sheet to the front in Excel, save and upload again")
    return (f"{file_name}: no header row was found in the first {HEADER_SEARCH_ROWS} rows"
            f"{where}",
            "The export needs a row of column headers such as 'Nominal ID' and 'Referral "
            "Date'; if your headers have other names, map them in the column map file (see "
            f"README){elsewhere}")


def read_table(con: duckdb.DuckDBPyConnection, file_name: str, data: bytes,
               lookup: dict[str, str]) -> RawTable:
    """Stage the file's cells into `raw` on `con` and return its headers."""
    if sniff_kind(file_name, data) == "xlsx":
        return read_xlsx(con, file_name, data, lookup)
    return read_csv(con, file_name, data, lookup)
