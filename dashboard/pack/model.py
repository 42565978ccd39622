"""The quarterly scrutiny pack as data: what the preview page, the PDF and the workbook show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from dashboard.analysis.measures import SECTIONS as SECTIONS  # the pack's sections, in order


@dataclass(frozen=True)
class Figure:
    """One headline figure with its comparisons; *_display is exactly what is printed."""

    section: str              # one of SECTIONS
    measure: str              # e.g. "Referrals received"
    definition: str           # one line: what is counted and by which date
    value: float | None       # None when suppressed or not applicable
    display: str              # e.g. "42", "<5", "45% (95% CI 33% to 58%)", "£760,000"
    previous: float | None    # the previous quarter
    previous_display: str
    year_ago: float | None    # the same quarter a year before
    year_ago_display: str
    # Against the previous quarter: "up", "down", "same", "n/a", or "incomplete" (flows counted
    # only part of the way through the quarter, figures.INCOMPLETE).
    direction: str
    source: str               # e.g. "tracker snapshot 5 (as at 31/07/2022)"


@dataclass(frozen=True)
class Table:
    """A table for the pack: a title, a note, and a frame whose cells are already final
    (numbers as numbers, suppressed cells as the text "<5")."""

    name: str                 # short, safe for a sheet name: letters, digits, spaces
    title: str
    note: str
    frame: pd.DataFrame


@dataclass
class Pack:
    quarter: str                          # "2022/23 Q1"
    start: dt.date
    end: dt.date
    scheme: str                           # "financial" (Q1 = April-June) or "calendar"
    snapshot_id: int | None               # the tracker snapshot the stock figures come from
    snapshot_as_at: dt.date | None
    connect_upload_id: int | None
    generated_at: dt.datetime
    disclosure: str                       # "exact" (internal) or "controlled" (circulation)
    threshold: int                        # counts from 1 to threshold-1 shown as "<threshold"
    figures: list[Figure]
    tables: list[Table]
    trend: pd.DataFrame                   # quarter, quarter_start, measure, value (last 8)
    assumptions: dict[str, str]           # cost-model inputs, as printed
    caveats: list[str]                    # plain sentences: small numbers, data quality
    signed_off_by: str | None = None
    signed_off_at: dt.datetime | None = None
    pack_id: int | None = None            # set once signed off and stored
    # The tracker snapshot the flows are counted from, when it is before the quarter's end
    # (the quarter is not over in the data); None when the quarter is whole.
    part_quarter_to: dt.date | None = None
    demo: bool = False                    # built from the synthetic demo data
    differences: list[str] = field(default_factory=list)  # frozen vs a re-run on current data
