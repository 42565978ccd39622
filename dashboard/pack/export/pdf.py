"""The quarterly scrutiny pack written out: a PDF for the panel and a workbook of its numbers."""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import re
from collections.abc import Iterable
from pathlib import Path
from zoneinfo import ZoneInfo

import altair as alt
import pandas as pd
import vl_convert
import xlsxwriter
from fpdf import FPDF, FontFace

from dashboard.charts import OKABE_ITO
from dashboard.exports import neutralise
from dashboard.pack.model import SECTIONS, Figure, Pack, Table

PROGRAMME = "Offender to Rehab"
FORCE = "West Midlands Police"
DISCLOSURE_LABELS = {"controlled": "For circulation: counts under {threshold} read <{threshold}, "
                                   "counts withheld to protect them [c]",
                     "exact": "Internal: exact counts"}
DIRECTION_WORDS = {"up": "up", "down": "down", "same": "same", "n/a": "n/a"}
ARROWS = {"up": "\u2191", "down": "\u2193", "same": "\u2192"}

# A TTF with £, the en dash and the arrows (fpdf2's core fonts are latin-1 only), shipped in
# the repository so every machine draws the pack the same way (DejaVu's licence allows it:
# fonts/LICENSE-DejaVu.txt).
FONT_DIR = Path(__file__).resolve().parents[2] / "fonts"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
NEEDED_GLYPHS = "£\u2013\u2191\u2193\u2192\u00b7"  # what the pack prints beyond ASCII

# The workbook's own sheets; a table may not take these names.
FIXED_SHEETS = ("Headline", "Trend", "Notes")
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False,
                "strings_to_numbers": False, "nan_inf_to_errors": False}

GREY = (90, 90, 90)
RULE = (200, 200, 200)
HEADING_FILL = (230, 238, 246)
SECTION_FILL = (242, 242, 242)
BLUE = (0, 114, 178)


# ---------------------------------------------------------------- shared formatting


def uk_date(day: dt.date | None) -> str:
    """dd/mm/yyyy, or an empty string for no date."""
    return "" if day is None or pd.isna(day) else day.strftime("%d/%m/%Y")


def uk_datetime(moment: dt.datetime | None) -> str:
    """dd/mm/yyyy HH:MM in UK local time (naive times are taken as already local)."""
    if moment is None or pd.isna(moment):
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo("Europe/London"))
    return moment.strftime("%d/%m/%Y %H:%M")


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B} {day.year}"


def quarter_heading(pack: Pack) -> str:
    """'2022/23 Q1: 1 April to 30 June 2022' (the year once when both ends share it)."""
    if pack.start.year == pack.end.year:
        span = f"{pack.start.day} {pack.start:%B} to {long_date(pack.end)}"
    else:
        span = f"{long_date(pack.start)} to {long_date(pack.end)}"
    return f"{pack.quarter}: {span}"


def disclosure_label(pack: Pack) -> str:
    label = DISCLOSURE_LABELS.get(pack.disclosure, pack.disclosure)
    return label.format(threshold=pack.threshold)


def is_money(column: object) -> bool:
    name = str(column).lower()
    return name.endswith("_gbp") or "£" in name or "(gbp)" in name


def _missing(value: object) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and other things pd.isna answers element-wise
        return False


def cell_text(value: object, money: bool = False) -> str:
    """A table cell as printed: UK dates, thousands separators, £ for money columns."""
    if _missing(value):
        return "\u2013"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return uk_date(value) if value.time() == dt.time(0) else uk_datetime(value)
    if isinstance(value, dt.date):
        return uk_date(value)
    if isinstance(value, (int, float)) or pd.api.types.is_number(value):
        number = float(value)
        if money:
            pounds = round(number)
            return f"-£{-pounds:,}" if pounds < 0 else f"£{pounds:,}"
        if number.is_integer():
            return f"{int(number):,}"
        return f"{number:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def direction_text(direction: str) -> str:
    word = DIRECTION_WORDS.get(direction, direction or "n/a")
    return f"{ARROWS[direction]} {word}" if direction in ARROWS else word


def ordered_figures(pack: Pack) -> list[tuple[str, list[Figure]]]:
    """Figures grouped by section, sections in SECTIONS order, then any others."""
    sections = list(SECTIONS) + [f.section for f in pack.figures if f.section not in SECTIONS]
    groups = []
    for section in dict.fromkeys(sections):
        members = [f for f in pack.figures if f.section == section]
        if members:
            groups.append((section, members))
    return groups


# ---------------------------------------------------------------- charts


def _numeric_trend(pack: Pack) -> pd.DataFrame:
    """The trend with values as numbers (suppressed or text values become gaps)."""
    frame = pack.trend
    if frame is None or frame.empty or not {"quarter", "measure", "value"} <= set(frame):
        return pd.DataFrame(columns=["quarter", "quarter_start", "measure", "value"])
    frame = frame.copy()
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    if "quarter_start" in frame:
        frame["quarter_start"] = pd.to_datetime(frame["quarter_start"]).dt.strftime("%Y-%m-%d")
    else:
        frame["quarter_start"] = frame["quarter"].astype(str)
    frame["quarter"] = frame["quarter"].astype(str)
    frame["measure"] = frame["measure"].astype(str)
    return frame[["quarter", "quarter_start", "measure", "value"]]


def _axis_format(pack: Pack, measure: str, values: pd.Series) -> dict:
    """Axis labels in the measure's own unit, judged from how its figure is printed."""
    shown = next((f.display or "" for f in pack.figures if f.measure == measure), "")
    if "%" in shown or (shown == "" and values.dropna().between(0, 1).all()
                        and not values.dropna().apply(float.is_integer).all()):
        return {"format": ".0%"}
    if shown.startswith(("£", "-£")) or is_money(measure):
        return {"labelExpr": "'£' + format(datum.value, '~s')"}
    if values.max() >= 10_000:
        return {"format": "~s"}
    return {"format": ",d", "tickMinStep": 1}


def trend_chart(pack: Pack) -> alt.ConcatChart | None:
    """Small multiples: each headline measure over the last eight quarters, own y axis."""
    frame = _numeric_trend(pack)
    if frame["value"].notna().sum() == 0:
        return None
    known = [f.measure for f in pack.figures]
    measures = [m for m in known if m in set(frame["measure"])]
    measures += [m for m in dict.fromkeys(frame["measure"]) if m not in measures]
    quarters = (frame.drop_duplicates("quarter").sort_values("quarter_start")["quarter"]
                .tolist())
    panels = []
    for measure in measures:
        part = frame[frame["measure"] == measure]
        if part["value"].notna().sum() == 0:
            continue
        base = alt.Chart(part).encode(
            alt.X("quarter:O").title(None).sort(quarters).scale(domain=quarters)
            .axis(labelAngle=-45, labelFontSize=9),
            alt.Y("value:Q").title(None)
            .scale(**({"zero": True} if part["value"].max() > 0 else {"domain": [0, 1]}))
            .axis(tickCount=4, labelFontSize=9, **_axis_format(pack, measure, part["value"])),
        )
        panels.append((base.mark_line(color=OKABE_ITO[0], strokeWidth=2)
                       + base.mark_point(color=OKABE_ITO[0], filled=True, size=30))
                      .properties(width=225, height=95,
                                  title=alt.Title(measure, fontSize=11, anchor="start")))
    return alt.concat(*panels, columns=2)


def journey_chart(pack: Pack) -> alt.LayerChart | None:
    """Horizontal bars: the quarter's flow figures in journey order, each labelled as printed."""
    flows = [f for f in pack.figures if f.section == SECTIONS[0]]
    if not any(f.value is not None for f in flows):
        return None
    frame = pd.DataFrame({
        "step": [f.measure for f in flows],
        "people": [float(f.value) if f.value is not None else 0.0 for f in flows],
        "label": [f.display or "n/a" for f in flows],
    })
    base = alt.Chart(frame).encode(
        alt.Y("step:N").title(None).sort(frame["step"].tolist()).axis(labelLimit=260,
                                                                        labelFontSize=11),
        alt.X("people:Q").title("People in the quarter").axis(tickMinStep=1, format=",d"),
    )
    bars = base.mark_bar(color=OKABE_ITO[0], height=20)
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(text="label:N")
    return (bars + labels).properties(width=430, height=alt.Step(30))


def chart_png(chart: alt.TopLevelMixin) -> bytes:
    """A PNG of the chart drawn offline; the data travels inside the spec."""
    spec = chart.to_dict()  # inline values (Altair may put them under top-level "datasets")
    config = spec.setdefault("config", {})
    config.setdefault("background", "white")
    _register_chart_fonts()
    config.setdefault("font", "DejaVu Sans")  # the PDF's own font, so chart text matches
    return vl_convert.vegalite_to_png(spec, scale=2)


# ---------------------------------------------------------------- PDF


@functools.cache
def _register_chart_fonts() -> None:
    vl_convert.register_font_directory(str(FONT_DIR))


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

    if pack.disclosure == "exact":
        pdf.ln(8)
        pdf.set_fill_color(253, 236, 206)
        pdf.font(10, "B", (120, 60, 0))
        pdf.multi_cell(0, 6, pdf.t("Internal only: this pack shows exact counts, including "
                                   f"counts under {pack.threshold}. Do not circulate."),
                       fill=True, padding=3, align="L", new_x="LMARGIN", new_y="NEXT")

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
        pdf.para("Each panel has its own scale. A gap is a quarter whose figure was "
                 "withheld (<5 or [c]) or is not available.", colour=GREY)
        pdf.picture(trend_png, "Line charts of each headline measure over eight quarters",
                    max_height=tall)


def _tables(pdf: PackPDF, pack: Pack) -> None:
    for table in pack.tables:
        pdf.heading(table.title or table.name, need=45)
        if table.note:
            pdf.para(table.note, size=9, colour=GREY)
            pdf.ln(1.5)
        frame = table.frame
        if frame is None or frame.empty or len(frame.columns) == 0:
            pdf.para("No rows for this quarter.", colour=GREY)
            continue
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
    """Count columns with "<5" cells are object columns; they still read as numbers."""
    values = [v for v in column if not _missing(v)]
    if not values:
        return False
    numbers = sum(1 for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
                  or pd.api.types.is_number(v) or re.fullmatch(r"<\d+", str(v)))
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


# ---------------------------------------------------------------- XLSX


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
        if _missing(value):
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
                shown = f"{number:.1%}" if percent else cell_text(number, money)
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
    for section, figures in ordered_figures(pack):
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
            sheet.write(row, 6, direction_text(f.direction))
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
    money = [is_money(c) for c in frame.columns]
    for r, record in enumerate(frame.itertuples(index=False, name=None), start=4):
        for c, value in enumerate(record):
            sheet.write(r, c, value, money=money[c])
    if frame.empty:
        sheet.write(4, 0, "No rows for this quarter.")
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
        if _missing(value) and not _missing(record.get("display")):
            value = record["display"]  # a suppressed quarter reads "<5", as printed
        for c, cell in enumerate([record.get("quarter"), start, record.get("measure"), value]):
            sheet.write(r, c, cell)
    sheet.fit()
    sheet.ws.set_column(1, 1, 13)


def _notes_sheet(book, formats, pack: Pack) -> None:
    sheet = _Sheet(book, "Notes", formats, wrap=[1, 2])
    sheet.header(0, ["Item", "Detail", "More"])
    rows: list[tuple] = [
        ("Programme", f"{PROGRAMME} ({FORCE})"),
        ("Pack", "Quarterly scrutiny pack"),
        ("Quarter", quarter_heading(pack)),
        ("Quarter starts", pack.start),
        ("Quarter ends", pack.end),
        ("Quarters are", pack.scheme),
        ("Tracker snapshot", pack.snapshot_id),
        ("Snapshot as at", pack.snapshot_as_at),
        ("Connect upload", pack.connect_upload_id),
        ("Generated", pack.generated_at),
        ("Disclosure", disclosure_label(pack)),
        ("Suppression threshold", pack.threshold if pack.disclosure == "controlled" else None),
        ("Signed off by", pack.signed_off_by or "Not signed off: draft"),
        ("Signed off at", pack.signed_off_at),
        ("Pack reference", pack.pack_id),
    ]
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
    book.set_properties({"title": f"{PROGRAMME} quarterly scrutiny pack {pack.quarter}",
                         "company": FORCE, "created": pack.generated_at.replace(tzinfo=None)})
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
