"""The pack as an A4 PDF for the scrutiny panel: cover, headline figures, charts, tables, notes."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from fpdf import FPDF, FontFace

from dashboard.pack.export.charts import chart_png, journey_chart, trend_chart
from dashboard.pack.export.formatting import (
    FONT_DIR,
    FONT_FILES,
    FORCE,
    NO_ROWS,
    PROGRAMME,
    TREND_NOTE,
    cell_text,
    direction_text,
    disclosure_label,
    is_missing,
    is_money,
    ordered_figures,
    quarter_heading,
    read_first,
    uk_date,
    uk_datetime,
)
from dashboard.pack.model import Pack

GREY = (90, 90, 90)
RULE = (200, 200, 200)
HEADING_FILL = (230, 238, 246)
SECTION_FILL = (242, 242, 242)
BLUE = (0, 114, 178)


class PackPDF(FPDF):
    """A4 portrait with the pack's quarter and 'Page N of M' in every footer but the cover's."""

    def __init__(self, pack: Pack):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.pack = pack
        for style, name in FONT_FILES.items():
            self.add_font("DejaVu", style, str(FONT_DIR / name))
        self.family = "DejaVu"
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=20)
        self.set_title(f"{PROGRAMME} quarterly scrutiny pack {pack.quarter}")
        self.set_author(FORCE)
        self.set_subject(quarter_heading(pack))
        self.set_lang("en-GB")
        self.set_creation_date(_aware(pack.generated_at))

    def t(self, text: object) -> str:
        return "" if text is None else str(text)

    def font(self, size: float, style: str = "", colour=(0, 0, 0)) -> None:
        self.set_font(self.family, style, size)
        self.set_text_color(*colour)

    def footer(self) -> None:
        if self.page_no() == 1:
            return
        self.set_y(-13)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y() - 1.5, self.w - self.r_margin, self.get_y() - 1.5)
        self.font(8, colour=GREY)
        # The whole disclosure wording is on the cover and each table's note; the footer has room
        # only for which kind of pack this is.
        kind = "For circulation" if self.pack.disclosure == "controlled" else "Internal"
        left = f"{PROGRAMME} scrutiny pack \u00b7 {self.pack.quarter} \u00b7 {kind}"
        self.cell(0, 5, self.t(left), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, self.t(f"Page {self.page_no()} of {{nb}}"), align="R")

    def heading(self, text: str, need: float = 40) -> None:
        """A section heading, on a new page when too little room is left below it."""
        if self.will_page_break(need):
            self.add_page()
        self.ln(3)
        self.font(14, "B", BLUE)
        self.multi_cell(0, 7, self.t(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)

    def subheading(self, text: str, need: float = 30) -> None:
        if self.will_page_break(need):
            self.add_page()
        self.ln(2)
        self.font(11, "B")
        self.multi_cell(0, 6, self.t(text), align="L", new_x="LMARGIN", new_y="NEXT")

    def para(self, text: str, size: float = 9.5, style: str = "", colour=(0, 0, 0),
             height: float = 5) -> None:
        self.font(size, style, colour)
        self.multi_cell(0, height, self.t(text), align="L", new_x="LMARGIN", new_y="NEXT")

    def bullets(self, items: Iterable[str]) -> None:
        self.font(9.5)
        for item in items:
            self.set_x(self.l_margin)
            self.cell(5, 5, self.t("\u2013"))
            self.multi_cell(0, 5, self.t(item), align="L", new_x="LMARGIN", new_y="NEXT")
            self.ln(0.8)

    def grid(self, header: list[str], rows: list[list[str]], numeric: list[bool],
             widths: list[float] | None = None, size: float = 8.5,
             section_rows: dict[int, str] | None = None) -> None:
        """A table that breaks across pages with its header repeated."""
        self.font(size)
        self.set_fill_color(255)  # fpdf2 tables start from the current fill colour
        if widths is None:
            widths = self._widths(header, rows, size)
        total = min(sum(widths), self.epw)
        align = tuple("RIGHT" if n else "LEFT" for n in numeric)
        section_rows = section_rows or {}
        heading_style = FontFace(emphasis="BOLD", fill_color=HEADING_FILL)
        with self.table(width=total, col_widths=widths, align="LEFT", text_align=align,
                        headings_style=heading_style, line_height=size * 0.5,
                        padding=(1.2, 1.5), borders_layout="HORIZONTAL_LINES",
                        repeat_headings=1, first_row_as_headings=True) as table:
            self.set_draw_color(*RULE)
            head = table.row()
            for name in header:
                head.cell(self.t(name))
            for index, cells in enumerate(rows):
                if index in section_rows:
                    row = table.row()
                    row.cell(self.t(section_rows[index]), colspan=len(header), align="LEFT",
                             style=FontFace(emphasis="BOLD", fill_color=SECTION_FILL))
                row = table.row()
                for value in cells:
                    row.cell(self.t(value))

    def _widths(self, header: list[str], rows: list[list[str]], size: float) -> list[float]:
        """Column widths from the content: the longest cell, but at least the longest header
        word, capped so one long column does not starve the rest."""
        self.font(size, "B")
        head = [min(self.get_string_width(self.t(h)), 30) for h in header]
        self.font(size)
        body = [max([self.get_string_width(self.t(r[i])) for r in rows] or [0])
                for i in range(len(header))]
        cap = max(self.epw * 0.45, self.epw / max(len(header), 1))
        widths = [min(max(h, b) + 4, cap) for h, b in zip(head, body)]
        if sum(widths) > self.epw:
            widths = [w * self.epw / sum(widths) for w in widths]
        return widths

    def picture_height(self, png: bytes, max_height: float) -> float:
        """How tall picture() will draw the PNG, in mm."""
        return self._picture_size(png, max_height)[1]

    def _picture_size(self, png: bytes, max_height: float) -> tuple[float, float]:
        from PIL import Image  # Pillow comes with fpdf2
        with Image.open(io.BytesIO(png)) as image:
            ratio = image.height / image.width
        width = min(self.epw, max_height / ratio)
        return width, width * ratio

    def picture(self, png: bytes, alt_text: str, max_height: float) -> None:
        """The PNG at page width (or less, to fit max_height), on a new page if need be."""
        width, height = self._picture_size(png, max_height)
        if self.will_page_break(height):
            self.add_page()
        self.image(io.BytesIO(png), x=self.l_margin, w=width, h=height, alt_text=alt_text)
        self.set_y(self.get_y() + 2)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _cover(pdf: PackPDF, pack: Pack) -> None:
    pdf.add_page()
    pdf.set_fill_color(*BLUE)
    pdf.rect(0, 0, pdf.w, 8, style="F")
    pdf.set_y(45)
    pdf.font(12, colour=GREY)
    pdf.cell(0, 6, pdf.t(FORCE), new_x="LMARGIN", new_y="NEXT")
    pdf.font(30, "B", BLUE)
    pdf.cell(0, 14, pdf.t(PROGRAMME), new_x="LMARGIN", new_y="NEXT")
    pdf.font(20)
    pdf.cell(0, 11, pdf.t("Quarterly scrutiny pack"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.font(14, "B")
    pdf.multi_cell(0, 8, pdf.t(quarter_heading(pack)), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)

    scheme = ("financial year (Q1 = April to June)" if pack.scheme == "financial"
              else "calendar year (Q1 = January to March)" if pack.scheme == "calendar"
              else pack.scheme)
    if pack.snapshot_as_at is not None:
        snapshot = f"as at {uk_date(pack.snapshot_as_at)}"
        if pack.snapshot_id is not None:
            snapshot += f" (tracker snapshot {pack.snapshot_id})"
    else:
        snapshot = "no tracker snapshot for this quarter"
    if pack.signed_off_by:
        signed = pack.signed_off_by
        if pack.signed_off_at is not None:
            signed += f" on {uk_datetime(pack.signed_off_at)}"
    else:
        signed = "Not signed off: draft"
    facts = [
        ("Quarters", scheme),
        ("Stock figures", snapshot),
        ("Connect upload", "none" if pack.connect_upload_id is None
         else f"upload {pack.connect_upload_id}"),
        ("Generated", uk_datetime(pack.generated_at)),
        ("Signed off by", signed),
        ("Disclosure", disclosure_label(pack)),
    ]
    if pack.pack_id is not None:
        facts.append(("Pack reference", str(pack.pack_id)))
    for label, value in facts:
        pdf.font(10.5, "B", GREY)
        pdf.cell(42, 7, pdf.t(label))
        pdf.font(10.5)
        pdf.multi_cell(0, 7, pdf.t(value), align="L", new_x="LMARGIN", new_y="NEXT")

    # What a reader must know before any figure, not only among the caveats at the end.
    for warning in read_first(pack):
        pdf.ln(8)
        pdf.set_fill_color(253, 236, 206)
        pdf.font(10, "B", (120, 60, 0))
        pdf.multi_cell(0, 6, pdf.t(warning), fill=True, padding=3, align="L",
                       new_x="LMARGIN", new_y="NEXT")

    pdf.set_y(-40)
    pdf.font(8.5, colour=GREY)
    pdf.multi_cell(0, 4.5, pdf.t(
        "Each figure's definition and source, the caveats and the cost-model assumptions "
        "are at the end of this pack."), align="L", new_x="LMARGIN", new_y="NEXT")


def _headline(pdf: PackPDF, pack: Pack) -> None:
    pdf.add_page()
    pdf.heading("Headline figures")
    pdf.para("Direction compares this quarter with the previous quarter. "
             f"{disclosure_label(pack)}.", colour=GREY)
    pdf.ln(2)
    header = ["Measure", "This quarter", "Previous quarter", "Same quarter last year",
              "Direction"]
    rows, sections = [], {}
    for section, figures in ordered_figures(pack):
        sections[len(rows)] = section
        for f in figures:
            rows.append([f.measure, f.display or "n/a", f.previous_display or "n/a",
                         f.year_ago_display or "n/a", direction_text(f.direction)])
    if not rows:
        pdf.para("There are no headline figures for this quarter.")
        return
    # Narrow comparison columns suit numbers; long text (a snapshot's name) widens them.
    pdf.font(8.5)
    longest = [max(pdf.get_string_width(pdf.t(r[i])) for r in rows) + 4 for i in range(4)]
    widths = [58, min(max(longest[1], 30), 48), min(max(longest[2], 24), 38),
              min(max(longest[3], 24), 38), 22]
    widths = [w * min(1, pdf.epw / sum(widths)) for w in widths]
    pdf.grid(header, rows, [False, True, True, True, False], widths=widths, size=8.5,
             section_rows=sections)


def _charts(pdf: PackPDF, pack: Pack) -> None:
    journey, trend = journey_chart(pack), trend_chart(pack)
    journey_png = chart_png(journey) if journey is not None else None
    trend_png = chart_png(trend) if trend is not None else None
    if journey_png is None:
        pdf.heading("The journey this quarter")
        pdf.para("No flow figures to draw for this quarter.", colour=GREY)
    else:
        # The heading goes to a new page with its chart rather than be left behind.
        pdf.heading("The journey this quarter", need=pdf.picture_height(journey_png, 90) + 22)
        pdf.para(f"People at each step in {pack.quarter}. A withheld count is shown as its "
                 "symbol (<5 or [c]) with no bar.", colour=GREY)
        pdf.picture(journey_png, f"Bar chart of the journey in {pack.quarter}", max_height=90)
    if trend_png is None:
        pdf.heading("Trends over the last eight quarters")
        pdf.para("No trend data to draw for this pack.", colour=GREY)
    else:
        tall = pdf.eph - 30
        pdf.heading("Trends over the last eight quarters",
                    need=pdf.picture_height(trend_png, tall) + 22)
        pdf.para(TREND_NOTE, colour=GREY)
        pdf.picture(trend_png, "Line charts of each headline measure over eight quarters",
                    max_height=tall)


def _tables(pdf: PackPDF, pack: Pack) -> None:
    for table in pack.tables:
        # A table that would break across a page starts on the next one instead, where it
        # may fit whole: split, its last rows (a total, say) sat alone under a repeated header.
        # Drawn once to see is a quarter of the PDF's time, so only where it may not fit.
        rows = 0 if table.frame is None else len(table.frame)
        if pdf.will_page_break(40 + 2 * 7 * (rows + 1)):
            with pdf.offset_rendering() as trial:
                _table(trial, table)
            if trial.page_break_triggered and pdf.get_y() > pdf.t_margin + 1:
                pdf.add_page()
        _table(pdf, table)


def _table(pdf: PackPDF, table) -> None:
    pdf.heading(table.title or table.name, need=45)
    if table.note:
        pdf.para(table.note, size=9, colour=GREY)
        pdf.ln(1.5)
    frame = table.frame
    if frame is None or frame.empty or len(frame.columns) == 0:
        pdf.para(NO_ROWS, colour=GREY)
        return
    header = [str(c) for c in frame.columns]
    money = [is_money(c) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(
        frame[c]) or _mostly_numbers(frame[c]) for c in frame.columns]
    rows = [[cell_text(v, m) for v, m in zip(record, money)]
            for record in frame.itertuples(index=False, name=None)]
    size = 8.5 if len(header) <= 7 else 7.5 if len(header) <= 10 else 6.5
    pdf.grid(header, rows, numeric, size=size)
    pdf.ln(2)


def _mostly_numbers(column: pd.Series) -> bool:
    """Count columns with "<5" or a symbol ("[c]", "[x]", "[z]") in some cells are object
    columns; they still read as numbers, aligned right with the numbers."""
    values = [v for v in column if not is_missing(v)]
    if not values:
        return False
    numbers = sum(1 for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
                  or pd.api.types.is_number(v) or re.fullmatch(r"<\d+|\[[a-z]\]", str(v)))
    return numbers == len(values)


def _notes(pdf: PackPDF, pack: Pack) -> None:
    pdf.heading("Definitions")
    if not pack.figures:
        pdf.para("No figures, so no definitions.", colour=GREY)
    header = ["Measure", "Definition", "Source"]
    rows = [[f.measure, f.definition, f.source] for f in pack.figures]
    if rows:
        pdf.grid(header, rows, [False, False, False], widths=[45, 85, 44], size=8)
    pdf.heading("Caveats", need=25)
    pdf.bullets(pack.caveats or ["None recorded."])
    if pack.differences:
        pdf.heading("Differences from a re-run on current data", need=25)
        pdf.bullets(pack.differences)
    pdf.heading("Cost-model assumptions", need=25)
    if pack.assumptions:
        pdf.grid(["Assumption", "Value"], [[k, v] for k, v in pack.assumptions.items()],
                 [False, False], widths=[90, 84], size=8.5)
    else:
        pdf.para("None recorded.")


def _render_pdf(pack: Pack, compress: bool = True) -> PackPDF:
    pdf = PackPDF(pack)
    pdf.compress = compress
    _cover(pdf, pack)
    _headline(pdf, pack)
    _charts(pdf, pack)
    _tables(pdf, pack)
    _notes(pdf, pack)
    return pdf


def pdf_bytes(pack: Pack) -> bytes:
    """The pack as an A4 PDF."""
    return bytes(_render_pdf(pack).output())


def write_pdf(pack: Pack, path: Path) -> Path:
    """Writes the pack as an A4 PDF at path; returns the path."""
    path = Path(path)
    path.write_bytes(pdf_bytes(pack))
    return path

