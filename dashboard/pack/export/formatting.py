"""What the PDF and the workbook print alike: dates, cells, directions, the pack's titles, and
the fonts the pack is drawn in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard.pack.model import SECTIONS, Figure, Pack

PROGRAMME = "Offender to Rehab"
FORCE = "West Midlands Police"
DISCLOSURE_LABELS = {"controlled": "For circulation: counts under {threshold} read <{threshold}, "
                                   "counts withheld to protect them [c]",
                     "exact": "Internal: exact counts"}
DIRECTION_WORDS = {"up": "up", "down": "down", "same": "same", "n/a": "n/a",
                   "incomplete": "n/a (part quarter)"}
# Under the trend, in the PDF and on the page: a missing point otherwise reads as no data.
TREND_NOTE = ("Each panel has its own scale. A gap is a quarter whose figure was withheld "
              "(<5 or [c]), is not available, or is counted only part of the way through "
              "(a quarter not yet over in the data).")
ARROWS = {"up": "\u2191", "down": "\u2193", "same": "\u2192"}
NO_ROWS = "No rows for this quarter."  # an empty table, in the PDF and on the page

# A TTF with £, the en dash and the arrows (fpdf2's core fonts are latin-1 only), shipped in
# the repository so every machine draws the pack the same way (DejaVu's licence allows it:
# fonts/LICENSE-DejaVu.txt).
FONT_DIR = Path(__file__).resolve().parents[2] / "fonts"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
NEEDED_GLYPHS = "£\u2013\u2191\u2193\u2192\u00b7"  # what the pack prints beyond ASCII


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


def is_missing(value: object) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and other things pd.isna answers element-wise
        return False


def cell_text(value: object, money: bool = False) -> str:
    """A table cell as printed: UK dates, thousands separators, £ for money columns."""
    if is_missing(value):
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


def read_first(pack: Pack) -> list[str]:
    """What a reader must know before any figure: the PDF's cover and the workbook's notes
    say it first, not only among the caveats at the end."""
    out = []
    if pack.demo:
        out.append("Synthetic demo data: these figures are not about real people.")
    if pack.part_quarter_to is not None:
        out.append(f"Part quarter: the data runs only to {uk_date(pack.part_quarter_to)}. "
                   "Flows, rates and cost savings count only that far, so they are not rated "
                   "against the previous quarter, and the trend leaves this quarter out.")
    if pack.disclosure == "exact":
        out.append("Internal only: this pack shows exact counts, including counts under "
                   f"{pack.threshold}. Do not circulate.")
    return out


def ordered_figures(pack: Pack) -> list[tuple[str, list[Figure]]]:
    """Figures grouped by section, sections in SECTIONS order, then any others."""
    sections = list(SECTIONS) + [f.section for f in pack.figures if f.section not in SECTIONS]
    groups = []
    for section in dict.fromkeys(sections):
        members = [f for f in pack.figures if f.section == section]
        if members:
            groups.append((section, members))
    return groups
