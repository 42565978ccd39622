"""The pack's numbers as an Excel workbook: the headline figures, each table, the trend, notes."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import xlsxwriter

from dashboard.pack.export import formatting
from dashboard.pack.model import Pack, Table
from dashboard.ui.exports import neutralise

# The workbook's own sheets; a table may not take these names.
FIXED_SHEETS = ("Headline", "Trend", "Notes")
# in_memory: xlsxwriter otherwise writes each sheet to a temporary file while the pack is
# assembled, leaving its figures (small counts too, in the exact pack) on the server's disk.
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False,
                "strings_to_numbers": False, "nan_inf_to_errors": False, "in_memory": True}


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique (case-insensitively) Excel sheet name of at most 31 characters."""
    clean = re.sub(r"[\[\]:*?/\\\x00-\x1f]", " ", str(name or ""))
    clean = re.sub(r"\s+", " ", clean).strip().strip("'").strip() or "Table"
    if clean.lower() == "history":  # reserved by Excel
        clean = "History table"
    candidate, n = clean[:31].rstrip(), 1
    while candidate.lower() in taken:
        n += 1
        suffix = f" ({n})"
        candidate = clean[:31 - len(suffix)].rstrip() + suffix
    taken.add(candidate.lower())
    return candidate


class _Sheet:
    """One worksheet: writes typed cells and remembers how wide each column needs to be."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, formats: dict,
                 wrap: Iterable[int] = ()):
        self.ws = book.add_worksheet(name)
        self.f = formats
        self.wrap = set(wrap)  # columns whose text wraps (a column format alone would not)
        self.widths: dict[int, int] = {}

    def write(self, row: int, col: int, value: object, fmt=None, money: bool = False,
              percent: bool = False) -> None:
        ws, f = self.ws, self.f
        shown = value
        if fmt is None and col in self.wrap:
            fmt = f["wrap"]
        if formatting.is_missing(value):
            ws.write_blank(row, col, None, fmt)
            shown = ""
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, (pd.Timestamp, dt.datetime)):
            moment = value.to_pydatetime() if isinstance(value, pd.Timestamp) else value
            moment = moment.replace(tzinfo=None)
            timed = moment.time() != dt.time(0)
            ws.write_datetime(row, col, moment, f["datetime"] if timed else f["date"])
            shown = "00/00/0000 00:00" if timed else "00/00/0000"
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, dt.datetime.combine(value, dt.time(0)), f["date"])
            shown = "00/00/0000"
        elif isinstance(value, (int, float)) or pd.api.types.is_number(value):
            number = float(value) if not isinstance(value, int) else value
            if isinstance(number, float) and not math.isfinite(number):
                ws.write_string(row, col, str(value), fmt)
            else:
                if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
                    number = int(number)
                fmt = f["money"] if money else f["percent"] if percent else fmt
                ws.write_number(row, col, number, fmt)
                shown = f"{number:.1%}" if percent else formatting.cell_text(number, money)
        else:
            text = str(neutralise(str(value)))
            ws.write_string(row, col, text, fmt)
            shown = text
        longest = max((len(line) for line in str(shown).splitlines()), default=0)
        self.widths[col] = max(self.widths.get(col, 0), longest)

    def header(self, row: int, names: list[str]) -> None:
        for col, name in enumerate(names):
            self.write(row, col, str(name), self.f["header"])
        self.ws.freeze_panes(row + 1, 0)

    def fit(self, caps: dict[int, int] | None = None) -> None:
        """Column widths from the content, capped (text in wrapped columns wraps at the cap)."""
        caps = caps or {}
        for col, width in self.widths.items():
            self.ws.set_column(col, col, min(max(width + 2, 8), caps.get(col, 50)))


def _formats(book: xlsxwriter.Workbook) -> dict:
    return {
        "header": book.add_format({"bold": True, "bg_color": "#E6EEF6", "bottom": 1,
                                   "text_wrap": True, "valign": "top"}),
        "title": book.add_format({"bold": True, "font_size": 13}),
        "note": book.add_format({"italic": True, "font_color": "#555555"}),
        "bold": book.add_format({"bold": True}),
        "date": book.add_format({"num_format": "dd/mm/yyyy", "align": "left"}),
        "datetime": book.add_format({"num_format": "dd/mm/yyyy hh:mm", "align": "left"}),
        "money": book.add_format({"num_format": "£#,##0"}),
        "percent": book.add_format({"num_format": "0.0%"}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
    }


def _figure_cell(value: float | None, display: str) -> object:
    """A number when there is one, else the text as printed ("<5", "n/a")."""
    return value if value is not None else (display or "n/a")


def _headline_sheet(book, formats, pack: Pack) -> None:
    sheet = _Sheet(book, "Headline", formats, wrap=[2])
    header = ["Section", "Measure", "Definition", "This quarter", "Previous quarter",
              "Same quarter last year", "Direction (vs previous quarter)", "Source",
              "This quarter as printed"]
    sheet.header(0, header)
    row = 1
    for section, figures in formatting.ordered_figures(pack):
        for f in figures:
            display = f.display or ""
            money = display.startswith(("£", "-£"))
            percent = "%" in display and all(v is None or abs(v) <= 1
                                                for v in (f.value, f.previous, f.year_ago))
            values = [section, f.measure, f.definition]
            for col, value in enumerate(values):
                sheet.write(row, col, value)
            for col, (value, printed) in enumerate(
                    [(f.value, f.display), (f.previous, f.previous_display),
                     (f.year_ago, f.year_ago_display)], start=3):
                sheet.write(row, col, _figure_cell(value, printed), money=money,
                            percent=percent)
            sheet.write(row, 6, formatting.direction_text(f.direction))
            sheet.write(row, 7, f.source)
            sheet.write(row, 8, display)
            row += 1
    sheet.fit(caps={2: 60, 7: 40})
    sheet.ws.set_column(3, 5, 14)


def _table_sheet(book, formats, table: Table, name: str) -> None:
    sheet = _Sheet(book, name, formats)
    sheet.ws.write_string(0, 0, str(neutralise(table.title or table.name)), formats["title"])
    if table.note:
        sheet.ws.write_string(1, 0, str(neutralise(table.note)), formats["note"])
    frame = table.frame if table.frame is not None else pd.DataFrame()
    sheet.header(3, [str(c) for c in frame.columns] or ["No rows for this quarter"])
    money = [formatting.is_money(c) for c in frame.columns]
    for r, record in enumerate(frame.itertuples(index=False, name=None), start=4):
        for c, value in enumerate(record):
            sheet.write(r, c, value, money=money[c])
    if frame.empty:
        sheet.write(4, 0, formatting.NO_ROWS)
    sheet.fit()


def _trend_sheet(book, formats, pack: Pack) -> None:
    sheet = _Sheet(book, "Trend", formats)
    sheet.header(0, ["Quarter", "Quarter start", "Measure", "Value"])
    frame = pack.trend if pack.trend is not None else pd.DataFrame()
    for r, record in enumerate(frame.to_dict("records"), start=1):
        start = record.get("quarter_start")
        if isinstance(start, str):
            start = pd.to_datetime(start, errors="coerce")
        value = record.get("value")
        if formatting.is_missing(value) and not formatting.is_missing(record.get("display")):
            value = record["display"]  # a suppressed quarter reads "<5", as printed
        for c, cell in enumerate([record.get("quarter"), start, record.get("measure"), value]):
            sheet.write(r, c, cell)
    sheet.fit()
    sheet.ws.set_column(1, 1, 13)


def _notes_sheet(book, formats, pack: Pack) -> None:
    sheet = _Sheet(book, "Notes", formats, wrap=[1, 2])
    sheet.header(0, ["Item", "Detail", "More"])
    rows: list[tuple] = [
        ("Programme", f"{formatting.PROGRAMME} ({formatting.FORCE})"),
        ("Pack", "Quarterly scrutiny pack"),
        ("Quarter", formatting.quarter_heading(pack)),
        ("Quarter starts", pack.start),
        ("Quarter ends", pack.end),
        ("Quarters are", pack.scheme),
        ("Tracker snapshot", pack.snapshot_id),
        ("Snapshot as at", pack.snapshot_as_at),
        ("Connect upload", pack.connect_upload_id),
        ("Generated", pack.generated_at),
        ("Disclosure", formatting.disclosure_label(pack)),
        ("Suppression threshold", pack.threshold if pack.disclosure == "controlled" else None),
        ("Signed off by", pack.signed_off_by or "Not signed off: draft"),
        ("Signed off at", pack.signed_off_at),
        ("Pack reference", pack.pack_id),
    ]
    rows[3:3] = [("Read first", warning) for warning in formatting.read_first(pack)]
    rows.append(())
    rows.append(("Assumptions",))
    rows += [("", key, value) for key, value in pack.assumptions.items()]
    rows.append(())
    rows.append(("Caveats",))
    rows += [("", caveat) for caveat in pack.caveats]
    if pack.differences:
        rows.append(())
        rows.append(("Differences from a re-run",))
        rows += [("", difference) for difference in pack.differences]
    rows.append(())
    rows.append(("Definitions",))
    rows += [("", f.measure, f.definition) for f in pack.figures]
    for r, cells in enumerate(rows, start=1):
        for c, value in enumerate(cells):
            bold = c == 0 and len(cells) == 1
            sheet.write(r, c, value, formats["bold"] if bold else None)
    sheet.fit(caps={0: 24, 1: 70, 2: 80})


def _write_workbook(pack: Pack, target) -> None:
    book = xlsxwriter.Workbook(target, XLSX_OPTIONS)
    book.set_properties({
        "title": f"{formatting.PROGRAMME} quarterly scrutiny pack {pack.quarter}",
        "company": formatting.FORCE, "created": pack.generated_at.replace(tzinfo=None)})
    formats = _formats(book)
    _headline_sheet(book, formats, pack)
    taken = {name.lower() for name in FIXED_SHEETS}
    for table in pack.tables:
        _table_sheet(book, formats, table, sheet_name(table.name, taken))
    _trend_sheet(book, formats, pack)
    _notes_sheet(book, formats, pack)
    book.close()


def xlsx_bytes(pack: Pack) -> bytes:
    """The pack's numbers as an .xlsx workbook."""
    buffer = io.BytesIO()
    _write_workbook(pack, buffer)
    return buffer.getvalue()


def write_xlsx(pack: Pack, path: Path) -> Path:
    """Writes the pack's numbers as an .xlsx workbook at path; returns the path."""
    path = Path(path)
    path.write_bytes(xlsx_bytes(pack))
    return path
