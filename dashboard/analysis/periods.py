"""UK financial-year periods (April to March): labels, bounds and the period before.

A financial year is pandas' fiscal year ending in March (freq 'Q-MAR' for its quarters), which
pandas names by the year it ends in: 2022/23 is its 2023, and Q1 is April to June. The SQL
macros in queries/macros/financial_year.sql compute the same (tests/test_periods.py)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import pandas as pd

FINANCIAL_QUARTERS = "Q-MAR"


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date | None
    end: dt.date | None


ALL_TIME = Period("All time", None, None)


def financial_year_start(day: dt.date) -> int:
    """The calendar year of the 1 April that starts the day's financial year."""
    return pd.Period(day, freq=FINANCIAL_QUARTERS).qyear - 1


def financial_year_label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def financial_year(start_year: int) -> Period:
    year = pd.Period(year=start_year + 1, freq="Y-MAR")
    return Period(financial_year_label(start_year), year.start_time.date(),
                  year.end_time.date())


def financial_quarter(start_year: int, quarter: int) -> Period:
    """Q1 is April to June; Q4 is January to March of the following calendar year."""
    return _quarter(pd.Period(year=start_year + 1, quarter=quarter, freq=FINANCIAL_QUARTERS))


@functools.lru_cache(maxsize=1024)  # pure; asked many times a rerun (Overview)
def quarter_containing(day: dt.date) -> Period:
    """The financial quarter a day falls in: 31 March 2022 is 2021/22 Q4, 1 April 2022 is
    2022/23 Q1."""
    return _quarter(pd.Period(day, freq=FINANCIAL_QUARTERS))


@functools.lru_cache(maxsize=1024)  # pure; asked many times a rerun (Overview)
def shift_quarter(quarter: Period, quarters: int) -> Period:
    """The financial quarter `quarters` after (negative: before) the one starting the period."""
    return _quarter(pd.Period(quarter.start, freq=FINANCIAL_QUARTERS) + quarters)


def _quarter(quarter: pd.Period) -> Period:
    return Period(f"{financial_year_label(quarter.qyear - 1)} Q{quarter.quarter}",
                  quarter.start_time.date(), quarter.end_time.date())


def quick_picks(first: dt.date, last: dt.date) -> list[Period]:
    """All time, then each financial year and quarter the data touches, newest first."""
    return list(_quick_picks(first, last))


# The sidebar asks on every rerun of every session, always for the data's own first and last
# referral dates: working the quarters out through pandas each time cost a millisecond or two.
@functools.lru_cache(maxsize=64)
def _quick_picks(first: dt.date, last: dt.date) -> tuple[Period, ...]:
    picks = [ALL_TIME]
    for year in range(financial_year_start(last), financial_year_start(first) - 1, -1):
        picks.append(financial_year(year))
        for quarter in (4, 3, 2, 1):
            period = financial_quarter(year, quarter)
            if period.start <= last and period.end >= first:
                picks.append(period)
    return tuple(picks)
