"""What a file says about itself before it is checked: the as-at date in its title lines or
name, and which kind of export its header looks like. Only hints: the uploader confirms."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import threading
from dataclasses import dataclass

from dashboard.ingest import contract

HEAD_ROWS = 15
HEAD_BYTES = 64 * 1024
KIND_NAMES = {"tracker": "tracker", "connect": "Connect export"}
MONTHS = {name: number for number, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"), start=1)}
MONTH_NAMES = "|".join([*MONTHS, *(m[:3] for m in MONTHS), "sept"])
# Day first, as UK exports write them; or ISO; or "31 July 2022".
DATE = (r"(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})"
        r"|(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
        rf"|(?P<wd>\d{{1,2}})(?:st|nd|rd|th)?[ _\-]+(?P<wm>{MONTH_NAMES})[a-z]*"
        r"[ _\-,]+(?P<wy>\d{4})")
AS_AT = re.compile(rf"as[ _\-]*(?:at|of)[ _\-:]*(?:{DATE})", re.IGNORECASE)


@dataclass(frozen=True)
class Hints:
    as_at: dt.date | None
    as_at_from: str | None      # "title lines" or "file name"
    looks_like: str | None      # "tracker" or "connect", from the header


# The Data page asks again on every rerun, and a workbook is read in a separate process:
# the hints of the last few files, by name and content (a date and a kind: nothing personal).
_RECENT: dict[tuple[str, str], Hints] = {}
RECENT_FILES = 16
_RECENT_LOCK = threading.Lock()


def read(file_name: str, data: bytes) -> Hints:
    """The hints in a file's name and first rows; never raises on a file it cannot read."""
    key = (file_name, hashlib.sha256(data).hexdigest())
    with _RECENT_LOCK:
        known = _RECENT.get(key)
    if known is None:
        try:
            known = read_afresh(file_name, data)
        except Exception:  # a hint is optional: the page must open whatever the file holds
            known = Hints(None, None, None)
        with _RECENT_LOCK:  # sessions run in threads of their own
            while len(_RECENT) >= RECENT_FILES:
                del _RECENT[next(iter(_RECENT))]
            _RECENT[key] = known
    return known


def read_afresh(file_name: str, data: bytes) -> Hints:
    try:
        rows = head_rows(file_name, data)
    except Exception:  # a hint is optional; the full check reports what is wrong
        rows = []
    header_index, looks_like = best_header(rows)
    title_text = " ".join(" ".join(row) for row in rows[:max(header_index, 0)])
    for text, where in ((title_text, "title lines"), (file_name, "file name")):
        found = as_at_date(text)
        if found:
            return Hints(found, where, looks_like)
    return Hints(None, None, looks_like)


def head_rows(file_name: str, data: bytes) -> list[list[str]]:
    if file_name.lower().endswith(".xlsx") or data[:2] == b"PK":
        # Read as the full check reads it, never by calamine in this process: a 5 KB
        # workbook with a cell at Excel's last row and column made calamine abort the server.
        from dashboard.ingest.sheet_cells import first_sheet

        sheet = first_sheet(file_name, data).cells
        head = sheet.slice(0, HEAD_ROWS)
        return [[cell or "" for cell in row]
                for row in zip(*(column.to_pylist() for column in head.columns))]
    head = data[:HEAD_BYTES]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = head.decode("utf-16", errors="ignore")
    else:
        try:
            text = head.decode("utf-8-sig")
        except UnicodeDecodeError as exc:  # cut mid-character, or Windows-1252
            text = head[:exc.start].decode("utf-8-sig") if exc.start > len(head) - 4 \
                else head.decode("cp1252", errors="replace")
    lines = text.splitlines()[:HEAD_ROWS]
    delimiter = max(",;\t|", key=lambda d: sum(line.count(d) for line in lines))
    return list(csv.reader(lines, delimiter=delimiter))


def best_header(rows: list[list[str]]) -> tuple[int, str | None]:
    """The row that names most contract columns, and the kind whose columns it names (two at
    least, and more than the other kind's)."""
    lookups = {kind: contract.load_contract(kind).header_lookup() for kind in contract.CONTRACTS}
    best = (-1, None, 1)
    for index, row in enumerate(rows):
        scores = {kind: len({name for what, name in
                             (contract.classify_header(cell, lookup) for cell in row)
                             if what == "column"}) for kind, lookup in lookups.items()}
        kind = max(scores, key=scores.get)
        ties = sorted(scores.values())[-2:]
        if scores[kind] > best[2] and ties[0] != ties[1]:
            best = (index, kind, scores[kind])
    return best[0], best[1]


def as_at_date(text: str) -> dt.date | None:
    match = AS_AT.search(text)
    if not match:
        return None
    parts = match.groupdict()
    try:
        if parts["y"]:
            return dt.date(int(parts["y"]), int(parts["m"]), int(parts["d"]))
        if parts["iy"]:
            return dt.date(int(parts["iy"]), int(parts["im"]), int(parts["id"]))
        # The pattern ignores case the Unicode way: "ſep" (a long s) matches and names no
        # month here.
        month = next((n for name, n in MONTHS.items()
                      if name.startswith(parts["wm"].lower()[:3])), None)
        return dt.date(int(parts["wy"]), month, int(parts["wd"])) if month else None
    except ValueError:  # 31/02/2022: no such day, so no hint
        return None
