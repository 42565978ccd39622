"""Checks every cell of a read file must pass before any rule is applied: the size cap, and in
text files the line breaks an open quote leaves; and the problems reading finds, by row."""

from __future__ import annotations

import re

import pyarrow as pa

from dashboard import config
from dashboard.ingest.contract import classify_header, visible

# Problems listed, per kind of reading problem and in a rejection's report; the rest counted.
MAX_PROBLEMS_LISTED = 200


class RowProblems(Exception):
    """Problems found while reading, each with its row and column (ingest.PROBLEM_COLUMNS);
    `total` counts them all when only the first MAX_PROBLEMS_LISTED of a kind are listed."""

    def __init__(self, problems: list[dict], total: int | None = None):
        super().__init__(f"{total or len(problems)} problem(s) found while reading the file")
        self.problems, self.total = problems, total if total is not None else len(problems)


def check_cells(file_name: str, table: pa.Table, headers: list[str], first_data_row: int,
                lookup: dict[str, str], delimiter: str | None = None) -> None:
    """Refuse cells over the size cap and, in text files (`delimiter` given), line breaks in
    cells of the columns we read (each is one line: the break is a quote left open) and free
    text (notes) holding lines that look like whole rows (rows swallowed by an open quote)."""
    import pyarrow.compute as pc  # the strict reader's alone: a clean CSV's ingest skips it

    max_chars = config.setting("O2R_MAX_CELL_KB") * 1024
    problems: list[dict] = []
    total = 0

    def add(header: str, mask: pa.ChunkedArray, values: pa.ChunkedArray, show, problem,
            fix: str) -> None:
        nonlocal total
        if not pc.any(mask).as_py():
            return
        indices = pc.indices_nonzero(pc.fill_null(mask, False))
        total += len(indices)
        listed = indices.slice(0, MAX_PROBLEMS_LISTED)
        for index, value in zip(listed.to_pylist(), pc.take(values, listed).to_pylist()):
            problems.append({"row": first_data_row + index, "column": header,
                             "value": show(value), "problem": problem(value), "fix": fix})

    for index, header in enumerate(headers):
        column = table.column(index)
        # A cell has no more characters than bytes, and its bytes are known without reading
        # it: characters are counted only in a column with a cell of more bytes than the cap.
        if (pc.max(pc.binary_length(column)).as_py() or 0) > max_chars and \
                (pc.max(lengths := pc.utf8_length(column)).as_py() or 0) > max_chars:
            add(header, pc.greater(lengths, max_chars), lengths, lambda n: f"{n:,} characters",
                lambda n: f"The cell holds {n / 1024:,.0f} KB of text, over the "
                          f"{max_chars // 1024:,} KB a cell may hold",
                "Shorten the cell; notes and other free text are never stored, so they may "
                "simply be deleted")
        if delimiter is None:
            continue
        if classify_header(header, lookup)[0] == "column":
            # Only a break between text: one at the cell's edge (Excel's Alt+Enter after the
            # value) is white space, trimmed like a space.
            add(header, pc.match_substring_regex(column, r"\S\s*[\r\n]\s*\S"), column, shown,
                lambda _: "A line break inside the cell: this column holds one line per row, "
                          "so a quote (\") that opens the cell and is closed rows later has "
                          "joined rows together",
                "Remove the line break, or the stray quote that opens the cell")
        elif len(headers) >= 3:
            other = re.escape(delimiter)
            whole_row = "[\r\n][^\r\n]*" + f"{other}[^\r\n]*" * (len(headers) - 1)
            add(header, pc.match_substring_regex(column, whole_row), column, lambda _: "",
                lambda _: "The cell holds lines that look like whole rows of the file: a "
                          "quote (\") that opens the cell is not closed where it should be, "
                          "so the rows after it were read into this cell",
                "Remove the stray quote at the start of the cell, or close it")
    if problems:
        problems.sort(key=lambda p: p["row"])
        raise RowProblems(problems[:MAX_PROBLEMS_LISTED], total)


def shown(value: str, width: int = 60) -> str:
    """A cell as a problem list shows it: on one line, and no longer than a line."""
    flat = value.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎")
    return flat if len(flat) <= width else flat[:width] + "…"


# A quoted cell, passed over whole (a line break inside quotes is the cell's), or a line end:
# a carriage return on its own is group 1.
QUOTED_OR_LINE_END = re.compile(r'"(?:[^"]|"")*"?|\r\n|\n|(\r)')
LINE_END = re.compile(r"\r\n|\r|\n")

FIX_LONE_RETURN = ("Open the file in a text editor and join the two halves of the row (delete "
                   "the line break inside the cell), or put that cell in double quotes; if the "
                   "file came from a system, export it again")


def refuse_lone_return(file_name: str, text: str, delimiter: str, headers: list[str],
                       header_row: int, lookup: dict[str, str]) -> None:
    """In a file whose lines end in line feeds, a carriage return on its own outside quotes
    that cuts a row short is a line break typed or pasted into a cell. Read as a line end
    it splits the row in two, and the halves are refused as missing and shifted values that
    never name the cause: refused here, by its row. One between whole rows is a line end (a
    file put together from an old Mac's lines and others')."""
    if "\n" not in text or text.count("\r") == text.count("\r\n"):
        return
    row, line_start = 1, 0  # rows as Excel counts them (it splits the row there too)
    for found in QUOTED_OR_LINE_END.finditer(text):
        if not found.group().startswith(("\r", "\n")):
            continue  # a quoted cell
        if found.group(1) and row > header_row and cuts_a_row_short(
                text, line_start, found.start(), delimiter, len(headers)):
            break
        row, line_start = row + 1, found.end()
    else:
        return
    position = found.start()
    column = text.count(delimiter, line_start, position)  # (a quoted delimiter aside)
    header = headers[column] if column < len(headers) else ""
    name = f"'{header}'" if header else f"column {column + 1}"
    if header and classify_header(header, lookup)[0] == "column":
        before = text[line_start:position].rsplit(delimiter, 1)[-1]
        where = f"its {name} cell, after '{visible(before)[:100]}'"
    else:  # free text or a column not read: not repeated back
        where = f"its {name} cell"
    raise RowProblems([{
        "row": row, "column": header, "value": "",
        "problem": f"{file_name}: row {row:,} ends inside {where}: a carriage return on its "
                   "own (a line break typed or pasted into the cell, not in quotes) splits the "
                   "row in two, so the next row holds the rest of it",
        "fix": FIX_LONE_RETURN}])


def cuts_a_row_short(text: str, line_start: int, position: int, delimiter: str,
                     width: int) -> bool:
    """Whether the line before `position` (a carriage return) or the one after it, if not
    blank, has fewer cells than the header: a row split in two, not two rows."""
    if text.count(delimiter, line_start, position) < width - 1:
        return True
    next_end = LINE_END.search(text, position + 1)
    after = text[position + 1:next_end.start() if next_end else len(text)]
    return bool(after.strip()) and after.count(delimiter) < width - 1
