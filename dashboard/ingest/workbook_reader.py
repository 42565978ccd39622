"""What runs inside the bounded reader process: calamine reads a workbook's first sheet, and
the cells go back to the server as Arrow IPC bytes, one text column per sheet column.

The server side (starting this process, its limits, what its output may be) is in
`spreadsheet_guard`. This module imports nothing from the project but `reader_sandbox`
(itself only the standard library and pyseccomp), so the process starts on little more than
pyarrow and python-calamine.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import os
import sys
from operator import itemgetter

MB = 1024 * 1024
# The first byte of the reader's output says what follows it.
OK = b"A"  # an Arrow IPC stream: text columns c0..cN, the sheet's width in its metadata
PASSWORD = b"P"  # calamine's message, UTF-8
OUT_OF_MEMORY = b"M"
FAILED = b"E"  # calamine's message, UTF-8
# How a Rust panic in the reader says it ran out of memory (zlib-rs, the allocator, Vec).
OUT_OF_MEMORY_SIGNS = ("MemError", "memory allocation", "capacity overflow", "out of memory")
ERROR_CHARS = 500
JEMALLOC_CONF, NO_JEMALLOC_THREAD = "JE_ARROW_MALLOC_CONF", "background_thread:false"
# The sandbox's layers applied to this reader (reader_sandbox.confine), told to the server in
# the stream's metadata so that a machine without some of them is noticed.
CONFINED: tuple[str, ...] = ()


class WithoutNumpyOrPandas:
    """Import hook refusing numpy and pandas, which the reader never uses: pyarrow imports
    numpy when it loads (0.06 CPU-s) and pandas on its first array (0.25 CPU-s) if it can,
    on every upload."""

    def find_spec(self, name: str, path=None, target=None):
        if name.partition(".")[0] in ("numpy", "pandas"):
            raise ModuleNotFoundError("the workbook reader does not use it", name=name)


def serve_one() -> None:
    """The reader process: argv memory_mb cpu_s max_columns; the workbook on stdin; the
    result on stdout. An import failing (out of memory, say) ends it with no output."""
    set_limits(int(sys.argv[1]), int(sys.argv[2]))
    # A reader lives for one workbook and its cells hold no reference cycles: the collector's
    # passes over a million cells would cost 0.05 CPU-s at 100,000 rows and free nothing.
    gc.disable()
    sys.meta_path.insert(0, WithoutNumpyOrPandas())
    # No jemalloc background thread (the readers' pool is malloc; jemalloc only loads):
    # its stack and malloc arena count against the address-space limit (the 100,000-row
    # workbook needed 384 MB with them, 256 MB without).
    os.environ[JEMALLOC_CONF] = NO_JEMALLOC_THREAD
    import pyarrow  # noqa: F401  (here, under the limits, before the workbook is read)
    import python_calamine  # noqa: F401

    from dashboard.ingest.reader_sandbox import confine

    global CONFINED
    CONFINED = tuple(confine())  # from here on, no file, network, new process or signal
    out = sys.stdout.buffer
    for part in read_first_sheet(sys.stdin.buffer.read(), int(sys.argv[3])):
        out.write(part)
    out.flush()


def read_first_sheet(data: bytes, max_columns: int) -> list:
    """The first sheet as a status byte and its payload (see OK and the other marks)."""
    try:
        import python_calamine

        try:
            workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
            rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
            return [OK, arrow_stream(rows, max_columns)]
        except python_calamine.PasswordError as exc:
            return [PASSWORD, str(exc)[:ERROR_CHARS].encode()]
        except MemoryError:
            raise
        except BaseException as exc:  # a Rust panic is a BaseException
            # Out of memory, calamine's libraries often panic rather than raise MemoryError.
            if any(sign in str(exc) for sign in OUT_OF_MEMORY_SIGNS):
                return [OUT_OF_MEMORY]
            return [FAILED, str(exc)[:ERROR_CHARS].encode()]
    except MemoryError:
        return [OUT_OF_MEMORY]


def arrow_stream(rows: list[list[object]], max_columns: int):
    """The rows as an Arrow IPC stream of text columns, built column by column.

    Only the first max_columns + 1 columns are built (a sheet wider than the cap is refused
    by its header, whatever the rest holds); the sheet's full width goes in the metadata.
    """
    import pyarrow as pa

    width = max(map(len, rows), default=0)
    if min(map(len, rows), default=0) < width:  # calamine's rows are all as wide as the sheet
        rows = [list(row) + [None] * (width - len(row)) for row in rows]
    kept = min(width, max_columns + 1)
    if kept == width:  # zip transposes the whole sheet at once, a quarter faster
        cells = list(zip(*rows)) if rows else []
    else:  # only the kept columns of a sheet too wide to read
        cells = [list(map(itemgetter(i), rows)) for i in range(kept)]
    written: dict[dt.date, str] = {}  # one for the sheet: its date columns share their days
    columns = [text_column(column, written) for column in cells]
    schema = pa.schema([pa.field(f"c{i}", pa.string()) for i in range(kept)],
                       metadata={"width": str(width), "confined": ",".join(CONFINED)})
    batch = pa.RecordBatch.from_arrays(columns, schema=schema)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue()


def text_column(values: list[object] | tuple[object, ...], written: dict | None = None):
    """One column of cells as text, as `cell_text` makes them, except that text cells (blank
    ones included) pass straight through: blanks become nulls later, in SQL. `written` holds
    the text of the dates written so far (shared by the columns of a sheet)."""
    import pyarrow as pa

    try:
        return pa.array(values, pa.string())  # text only: the common case
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    # Dates, the usual other cells, are written once per day, not once per cell (a tracker's
    # dates fall on a few thousand days: half the time). Only dates are remembered: as keys,
    # True, 1 and 1.0 are one key, but cell_text writes them differently.
    date, written = dt.date, {} if written is None else written
    remembered = written.get

    def write(day: dt.date) -> str:
        text = written[day] = day.isoformat()
        return text

    return pa.array([v if type(v) is str else (remembered(v) or write(v)) if type(v) is date
                     else cell_text(v) for v in values], pa.string())


def cell_text(value: object) -> str | None:
    """One spreadsheet cell as text: dates in ISO form, whole numbers without '.0'."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        # To the second: a time with fractions of a second (=NOW(), a system's timestamp)
        # would read as no date at all, though Excel shows the cell as a plain date.
        return value.date().isoformat() if value.time() == dt.time() \
            else value.isoformat(" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    text = str(value)
    return text if text.strip() else None


def set_limits(memory_mb: int, cpu_s: int) -> None:
    try:
        import resource
    except ImportError:  # not on Windows: the wall-clock timeout still applies
        return
    for which, value in ((resource.RLIMIT_AS, memory_mb * MB),
                         # CPU too, so a reader orphaned by a dying server cannot spin on.
                         (resource.RLIMIT_CPU, cpu_s),
                         (resource.RLIMIT_CORE, 0)):
        hard = resource.getrlimit(which)[1]
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))
