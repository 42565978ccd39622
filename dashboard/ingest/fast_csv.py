"""The fast path for clean text (CSV) uploads: the contract's columns only, streamed from the
file (or the uploaded bytes) into DuckDB, never the whole file in Python.

It reads what the strict reader (dashboard/ingest/readers.py) would read for a clean file: it takes
the same decisions on the same evidence (the header, the encoding, whether the quotes are
simple) and reads only files where every row is one line and every quote opens or closes a
cell, which Arrow's CSV reader (the strict reader's own for such files) and DuckDB's, in
strict mode, split alike; names, PNC IDs and notes are parsed past, never staged. Whenever
the file is anything else (another encoding, a header below row 1, an odd quote, a line break
inside a cell, a row of another width, a line long enough to hold an over-size cell) it
declines, and the strict reader reads the file and reports its problems.
tests/test_fast_csv.py checks both readers agree on every file of the malformed corpus.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from dashboard import config
from dashboard.ingest.contract import classify_header
from dashboard.ingest.file_kinds import BYTE_ORDER_MARKS, sniff_kind, utf8_evidence
from dashboard.ingest.readers import HEAD_CHARS, best_delimiter
from dashboard.ingest.spreadsheet_guard import UnreadableFile

UTF8_MARK = b"\xef\xbb\xbf"
# sniff_kind looks at the first MiB; HEAD_CHARS characters are at most 4 bytes each.
HEAD_BYTES = max(1 << 20, 4 * HEAD_CHARS + len(UTF8_MARK))
CHUNK_BYTES = 4 << 20
# Arrow hands DuckDB the file in blocks of this size, so the file is never whole in memory.
BLOCK_BYTES = 1 << 20
STAGING_PREFIX = "o2r-staging-"
# DuckDB's memory for staging and storing an upload, STAGING_MEMORY_PER_FILE_BYTE times the
# file's size within these bounds: beyond it, its work spills to the private staging folder
# (which holds only the contract's columns and is removed when done). DuckDB's own load of a
# file into a table peaks at about 2.5x the file's size at 72 MB and 0.7x at 720 MB; at 72 MB,
# 1.5x the file (not 1x) spares the sort and the staged rows most of their spilling (~0.15
# CPU-s of 3), for ~25 MiB more at the peak. One thread: CPU time, not wall time, is what a
# shared server runs short of, and each thread reserves its own buffers (two threads ran out
# of 64 MiB on a small file of non-Latin text).
STAGING_MEMORY_MIB = (64, 320)
STAGING_MEMORY_PER_FILE_BYTE = 1.5
STAGING_THREADS = 1
# Once the staged rows are stored, the Connect facts are rebuilt on the same instance: their
# window counts (store/window_facts.py) hash one group per referral and offence type, which
# at 100,000 referrals needs about 400 MiB not to spill, so the staged rows are dropped and
# the instance gets this much. At 10,000,000 crimes the rebuild took 10.1 CPU-s under 320
# MiB, 8.8 under 384 and 7.9 under 448, the whole ingest's peak 532, 563 and 613 MiB
# (DuckDB's own load of the file: 420-540): 384 keeps the peak well within 1.5x of it.
FACTS_MEMORY_MIB = 384


class Declined(Exception):
    """The fast path does not read this file; the strict reader does."""


@dataclass
class Scan:
    """What one pass over the bytes learns (the text after any byte-order mark)."""

    sha256: str
    lines: int  # as readers.count_lines counts them
    longest_line: int  # in bytes, line end included
    quotes_simple: bool  # as readers.quotes_are_simple decides
    may_hold_forbidden: bool  # a character contract.FORBIDDEN refuses may be in the text
    # False where every byte is ASCII and no space is next to a delimiter, quote, line end or
    # the file's edge, so no cell starts or ends with white space trim() removes.
    cells_may_need_trim: bool = True


# contract.FORBIDDEN's characters as UTF-8 bytes (C1 controls, the line and paragraph
# separators and the text-direction characters); in cp1252 only the C0 controls and DEL can
# occur, as the Python codec refuses its five undefined bytes. Two patterns, each starting with
# a fixed byte, which re finds by a fast scan: as one pattern of alternatives it tried every
# position, 8x slower, and a file with a pound sign in every block paid that throughout (0.6
# CPU-s at a million rows).
FORBIDDEN_UTF8 = (re.compile(rb"\xc2[\x80-\x9f]"),
                  re.compile(rb"\xe2(?:\x80[\xa8-\xae]|\x81[\xa6-\xa9])"))


def chunks(source: bytes | Path) -> Iterator[bytes | memoryview]:
    if isinstance(source, Path):
        with open(source, "rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk
    else:
        view = memoryview(source)
        for start in range(0, len(view), CHUNK_BYTES):
            yield view[start:start + CHUNK_BYTES]


def head_of(source: bytes | Path) -> bytes:
    if isinstance(source, Path):
        with open(source, "rb") as handle:
            return handle.read(HEAD_BYTES)
    return bytes(source[:HEAD_BYTES])


def scan(source: bytes | Path, delimiter: str, encoding: str) -> Scan:
    """Hash the file and check, block by block, that its text is all in `encoding`, how many
    lines it has, its longest line, and whether its quotes are simple (as
    readers.quotes_are_simple decides)."""
    digest, decoder = hashlib.sha256(), codecs.getincrementaldecoder(encoding)("strict")
    bounds = np.frombuffer(b'"' + delimiter.encode() + b"\r\n", dtype=np.uint8)
    offset, last_line_end, longest, quotes = 0, -1, 0, 0
    newlines = returns = pairs = 0
    previous = b""  # the last two bytes before this block, for quotes on a block's edge
    simple, forbidden, untrimmed = True, False, False
    utf8_characters = cp1252_bytes = 0
    # The byte-order mark is not part of the text (it may span blocks, if they are tiny).
    mark = len(UTF8_MARK) if encoding == "utf-8" and head_of(source).startswith(UTF8_MARK) \
        else 0
    try:
        for block in chunks(source):
            digest.update(block)
            chunk = bytes(block)
            if mark:
                cut = min(mark, len(chunk))
                chunk, mark = chunk[cut:], mark - cut
            decoder.decode(chunk)
            window = previous + chunk  # with the bytes before it, for what spans the edge
            if encoding == "cp1252":  # mostly UTF-8 after all? (file_kinds.mostly_utf8)
                characters, stray = utf8_evidence(chunk)  # (a pair across blocks: no matter)
                utf8_characters, cp1252_bytes = utf8_characters + characters, cp1252_bytes + stray
            octets = np.frombuffer(chunk, dtype=np.uint8)
            ends = np.flatnonzero(octets == 10)
            if ends.size:
                ends += offset
                longest = max(longest, int(ends[0]) - last_line_end,
                              int(np.diff(ends).max()) if ends.size > 1 else 0)
                last_line_end = int(ends[-1])
            newlines += int(ends.size)
            block_returns = chunk.count(b"\r")
            returns += block_returns
            if not forbidden:
                # Bytes below 32 other than tab, line feed and carriage return, or DEL (tabs
                # are counted only if there are such bytes: each count is a pass).
                controls = np.count_nonzero(octets < 32) - int(ends.size) - block_returns
                forbidden = bool(controls and controls - chunk.count(b"\t")) or (
                    b"\x7f" in chunk) or (
                    encoding == "utf-8" and any(pattern.search(window)
                                                for pattern in FORBIDDEN_UTF8))
            if block_returns or previous.endswith(b"\r"):
                pairs += chunk.count(b"\r\n") + (previous.endswith(b"\r")
                                                  and chunk.startswith(b"\n"))
            if not untrimmed:
                untrimmed = int(octets.max(initial=0)) > 127 or spaces_at_edges_in(
                    window, len(previous), bounds, at_start=offset == 0)
            found = chunk.count(b'"')
            quotes += found
            # A quote in the last byte before this block is judged now, with its neighbour.
            if simple and (found or previous.endswith(b'"')):
                simple = quotes_simple_in(window, len(previous), bounds, at_start=offset == 0)
            previous = (previous + chunk[:2])[-2:] if len(chunk) < 2 else chunk[-2:]
            offset += len(chunk)
        decoder.decode(b"", final=True)
        if utf8_characters > cp1252_bytes:
            raise Declined("UTF-8 but for a few bytes: the strict reader says where")
    except UnicodeDecodeError as exc:
        raise Declined(f"not {encoding} text throughout") from exc
    if returns != pairs:
        raise Declined("a carriage return ends a line on its own")
    longest = max(longest, offset - 1 - last_line_end)
    lines = newlines + (1 if offset and last_line_end != offset - 1 else 0)
    # The last byte's quote was left to the next block; at the end of the file it is fine.
    untrimmed = untrimmed or previous.endswith((b" ", b"\t"))  # the last cell's end
    return Scan(digest.hexdigest(), lines, longest, simple and quotes % 2 == 0, forbidden,
                untrimmed)


BLANKS = np.frombuffer(b" \t", dtype=np.uint8)  # white space a cell's edge may hold in a line


def quotes_simple_in(window: bytes, start: int, bounds: np.ndarray, at_start: bool) -> bool:
    """No quote from `start` on (the last byte's aside: its neighbour is in the next block)
    has text on both sides. The first byte of the file counts as a boundary."""
    octets = np.frombuffer(window, dtype=np.uint8)
    quotes = np.flatnonzero(octets == ord('"'))
    quotes = quotes[quotes >= max(start - 1, 0)] if start else quotes
    before_ok = np.isin(octets[np.maximum(quotes - 1, 0)], bounds)
    if at_start:
        before_ok |= quotes == 0
    after = np.minimum(quotes + 1, len(octets) - 1)
    after_ok = np.isin(octets[after], bounds) | (quotes == len(octets) - 1)
    return not np.any(~before_ok & ~after_ok)


def spaces_at_edges_in(window: bytes, start: int, bounds: np.ndarray, at_start: bool) -> bool:
    """A space or tab (not the delimiter) from `start` on (the last byte's aside, as for
    quotes_simple_in) next to a delimiter, quote or line end, or first in the file: a cell may
    start or end with it."""
    octets = np.frombuffer(window, dtype=np.uint8)
    blanks = np.setdiff1d(BLANKS, bounds)
    spaces = np.flatnonzero(np.isin(octets, blanks))
    spaces = spaces[spaces >= max(start - 1, 0)] if start else spaces
    if not spaces.size:
        return False
    before = np.isin(octets[np.maximum(spaces - 1, 0)], bounds)
    if at_start:
        before |= spaces == 0
    last = len(octets) - 1
    after = np.isin(octets[np.minimum(spaces + 1, last)], bounds) & (spaces != last)
    return bool(np.any(before | after))


def header(file_name: str, source: bytes | Path, lookup: dict[str, str]
           ) -> tuple[str, list[str], str]:
    """(delimiter, the header row's cells, encoding) as readers.read_csv finds them, or
    Declined if it would find them anywhere but the file's first row.

    The encoding is UTF-8 if the first MiB is (scan then declines a file that is not UTF-8
    further on), else cp1252, as file_kinds.decode_text decides for the whole file."""
    head = head_of(source)
    try:
        if sniff_kind(file_name, head) != "csv":
            raise Declined("a workbook")
    except UnreadableFile as exc:
        raise Declined(str(exc)) from exc
    marks = [mark for mark, _, _ in BYTE_ORDER_MARKS if head.startswith(mark)]
    if marks and marks[0] != UTF8_MARK:
        raise Declined("UTF-16 or UTF-32 text")
    body = head[len(UTF8_MARK):] if marks else head
    try:
        text, encoding = codecs.getincrementaldecoder("utf-8")("strict").decode(body), "utf-8"
    except UnicodeDecodeError:
        if marks:
            raise Declined("a UTF-8 byte-order mark on text that is not UTF-8") from None
        try:
            text, encoding = body.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as exc:
            raise Declined("neither UTF-8 nor cp1252 text") from exc
    delimiter, rows, header_index = best_delimiter(text[:HEAD_CHARS], lookup)
    if header_index != 0:
        raise Declined("the header is not the first row")
    if len(rows[0]) > config.setting("O2R_MAX_COLUMNS"):
        raise Declined("too many columns")
    if any("\n" in cell or "\r" in cell for cell in rows[0]):
        raise Declined("a line break in the header (DuckDB's reader skips one line)")
    # readers.read_regular takes a file whose first row, as Arrow reads it, is the header.
    complete = body[:body.rfind(b"\n") + 1] if len(head) == HEAD_BYTES else body
    try:
        first = pacsv.read_csv(pa.BufferReader(complete), read_options=read_options(
            len(rows[0]), encoding), parse_options=parse_options(delimiter),
            convert_options=convert_options([f"c{i}" for i in range(len(rows[0]))]))
    except pa.ArrowException as exc:
        raise Declined("the first rows are not as wide as the header") from exc
    if first.num_rows == 0 or [column[0].as_py() for column in first.columns] != rows[0]:
        raise Declined("Arrow reads another header")
    return delimiter, rows[0], encoding


def read_options(width: int, encoding: str) -> pacsv.ReadOptions:
    # Arrow decodes cp1252 with Python's codec, block by block, as file_kinds.decode_text does.
    return pacsv.ReadOptions(column_names=[f"c{i}" for i in range(width)],
                             block_size=BLOCK_BYTES, use_threads=False,
                             encoding="utf8" if encoding == "utf-8" else encoding)


def parse_options(delimiter: str) -> pacsv.ParseOptions:
    # As readers.read_regular parses.
    return pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                              ignore_empty_lines=False)


def convert_options(names: list[str]) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(include_columns=names,
                                column_types=dict.fromkeys(names, pa.string()),
                                strings_can_be_null=False, quoted_strings_can_be_null=False)


@dataclass
class Layout:
    """What the fast path knows of a file before reading its rows."""

    headers: list[str]  # the header row's cells, stripped
    delimiter: str
    encoding: str
    width: int  # cells in the header row
    kept: list[int]  # the positions of the contract's columns: only these are read
    scanned: Scan


def open_csv(file_name: str, source: bytes | Path, lookup: dict[str, str]) -> Layout:
    """The file's layout, from its header and one scan of its bytes, or Declined."""
    delimiter, cells, encoding = header(file_name, source, lookup)
    headers = [c.strip() for c in cells]
    kept = [i for i, h in enumerate(headers) if classify_header(h, lookup)[0] == "column"]
    if not kept:  # (Arrow would read every column)
        raise Declined("no column of the contract")
    scanned = scan(source, delimiter, encoding)
    if not scanned.quotes_simple:
        raise Declined("quotes the careful reader reads")
    if scanned.longest_line > config.setting("O2R_MAX_CELL_KB") * 1024:
        raise Declined("a line long enough to hold an over-size cell")
    return Layout(headers, delimiter, encoding, len(cells), kept, scanned)


@contextlib.contextmanager
def data_cells(con: duckdb.DuckDBPyConnection, source: bytes | Path, layout: Layout
               ) -> Iterator[tuple[str, dict]]:
    """SQL for the file's data rows, as columns c{i} of the contract's columns only (the
    others, names and notes among them, are parsed past, never staged), and its parameters.
    A row of another width is an error when they are read.

    A UTF-8 file on disk is read by DuckDB's own reader; the page's bytes in memory, and
    cp1252 text (which Arrow decodes with Python's codec, as file_kinds.decode_text does), by
    Arrow's, the strict reader's own (readers.read_regular), block by block."""
    if isinstance(source, Path) and layout.encoding == "utf-8":
        yield duckdb_cells(source, layout)
        return
    opened = pacsv.open_csv(pa.BufferReader(source) if isinstance(source, bytes) else
                            str(source), read_options=read_options(layout.width,
                                                                   layout.encoding),
                            parse_options=parse_options(layout.delimiter),
                            convert_options=convert_options([f"c{i}" for i in layout.kept]))
    con.register("upload_cells", pa.RecordBatchReader.from_batches(
        opened.schema, without_first_row(opened)))
    try:
        yield "upload_cells", {}
    finally:
        con.unregister("upload_cells")


def duckdb_cells(path: Path, layout: Layout) -> tuple[str, dict]:
    """The data rows of a UTF-8 file on disk, by DuckDB's own reader (its buffers count in
    its memory limit). Only for files whose quotes are simple and whose every row is one
    line, where it splits rows and cells as Arrow does; any row of another width, or a quote
    it would read otherwise, is an error (strict mode), so the file is declined."""
    columns = {f"c{i}": "VARCHAR" for i in range(layout.width)}
    selected = ", ".join(f"c{i}" for i in layout.kept)
    return (f"(select {selected} from read_csv($path, delim = $delim, "  # noqa: S608 - generated column names
            "quote = '\"', escape = '\"', header = false, skip = 1, columns = $columns, "
            "auto_detect = false, strict_mode = true, null_padding = false, "
            "ignore_errors = false, encoding = 'utf-8', max_line_size = $max_line))",
            {"path": str(path), "delim": layout.delimiter, "columns": columns,
             "max_line": config.setting("O2R_MAX_CELL_KB") * 1024 + 2})


def without_first_row(reader: pacsv.CSVStreamingReader) -> Iterator[pa.RecordBatch]:
    skip = 1
    for batch in reader:
        if skip:
            taken = min(skip, batch.num_rows)
            batch, skip = batch.slice(taken), skip - taken
        yield batch


def staging_connection(folder: Path, size: int) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB database whose memory is limited (for a file of `size` bytes):
    beyond it, it spills to the private staging folder (only the contract's columns are
    ever staged)."""
    low, high = STAGING_MEMORY_MIB
    limit = min(max(int(size * STAGING_MEMORY_PER_FILE_BYTE) >> 20, low), high)
    return duckdb.connect(":memory:", config={
        "memory_limit": f"{limit}MiB", "temp_directory": str(folder / "spill"),
        "threads": STAGING_THREADS})


def staged_rows_stored(con: duckdb.DuckDBPyConnection) -> None:
    """The staged rows are stored: drop them, letting their memory and spill go, and give
    what the store does next (the facts' rebuild) FACTS_MEMORY_MIB."""
    con.execute("drop view if exists temp.clean")
    con.execute("drop view if exists temp.typed")
    con.execute("drop table if exists temp.typed_rows")
    con.execute("set memory_limit = $limit", {"limit": f"{int(FACTS_MEMORY_MIB)}MiB"})


def new_staging_folder() -> Path:
    """A private folder for one upload's staging database (removed by the caller); folders
    left by a process that was killed are removed first."""
    temp = Path(tempfile.gettempdir())
    for folder in temp.glob(f"{STAGING_PREFIX}*-*"):
        pid = folder.name[len(STAGING_PREFIX):].split("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-"))
