"""UK financial-year periods (April to March): labels, bounds and the period before."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date | None
    end: dt.date | None

    def previous(self) -> Period | None:
        """The period of the same length just before this one (None for all time)."""
        if self.start is None or self.end is None:
            return None
        length = self.end - self.start
        end = self.start - dt.timedelta(days=1)
        return Period(f"the previous {length.days + 1} days", end - length, end)


ALL_TIME = Period("All time", None, None)


def financial_year_start(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def financial_year(start_year: int) -> Period:
    return Period(f"{start_year}/{(start_year + 1) % 100:02d}", dt.date(start_year, 4, 1),
                  dt.date(start_year + 1, 3, 31))


def financial_quarter(start_year: int, quarter: int) -> Period:
    """Q1 is April to June; Q4 is January to March of the following calendar year."""
    month = 4 + 3 * (quarter - 1)
    year = start_year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    start = dt.date(year, month, 1)
    next_start = dt.date(year + (month + 2) // 12, (month + 2) % 12 + 1, 1)
    return Period(f"{start_year}/{(start_year + 1) % 100:02d} Q{quarter}", start,
                  next_start - dt.timedelta(days=1))


def quick_picks(first: dt.date, last: dt.date) -> list[Period]:
    """All time, then each financial year and quarter the data touches, newest first."""
    picks = [ALL_TIME]
    for year in range(financial_year_start(last), financial_year_start(first) - 1, -1):
        picks.append(financial_year(year))
        for quarter in (4, 3, 2, 1):
            period = financial_quarter(year, quarter)
            if period.start <= last and period.end >= first:
                picks.append(period)
    return picks
