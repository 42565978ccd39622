"""Quarters of a UK financial year (Q1 = April to June) or of a calendar year.

The arithmetic (which quarter a day falls in, a quarter n on or back) is pandas' `Period`
with a year ending in March (`Q-MAR`) or December; the financial quarter's label and bounds
are periods.py's, as everywhere else in the dashboard."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import pandas as pd

from dashboard.analysis import periods

FINANCIAL, CALENDAR = "financial", "calendar"
SCHEMES = (FINANCIAL, CALENDAR)
FREQUENCY = {FINANCIAL: "Q-MAR", CALENDAR: "Q-DEC"}


@dataclass(frozen=True, order=True)
class Quarter:
    """A quarter of a UK financial year (Q1 = April-June) or of a calendar year."""

    scheme: str
    year: int  # financial: the year its financial year starts in; calendar: the year
    number: int  # 1 to 4

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"Quarter scheme must be one of {', '.join(SCHEMES)}, "
                             f"not {self.scheme!r}")
        if self.number not in (1, 2, 3, 4):
            raise ValueError(f"A quarter is numbered 1 to 4, not {self.number}")

    # pandas names a financial year by the March it ends in (2023Q1 is April-June 2022); a
    # Quarter, like its label 2022/23 Q1, by the April it starts in.

    @classmethod
    def of(cls, scheme: str, quarter: pd.Period) -> Quarter:
        year = quarter.qyear - 1 if scheme == FINANCIAL else quarter.qyear
        return cls(scheme, year, quarter.quarter)

    @property
    def pandas_period(self) -> pd.Period:
        year = self.year + 1 if self.scheme == FINANCIAL else self.year
        return pd.Period(year=year, quarter=self.number, freq=FREQUENCY[self.scheme])

    @property
    def period(self) -> periods.Period:
        return _period(self)

    @property
    def label(self) -> str:
        return self.period.label

    @property
    def start(self) -> dt.date:
        return self.period.start

    @property
    def end(self) -> dt.date:
        return self.period.end

    def shift(self, quarters: int) -> Quarter:
        """The quarter `quarters` on (negative: back) in the same scheme."""
        return Quarter.of(self.scheme, self.pandas_period + quarters)

    def previous(self) -> Quarter:
        return self.shift(-1)

    def year_ago(self) -> Quarter:
        return self.shift(-4)


def quarter_containing(day: dt.date, scheme: str = FINANCIAL) -> Quarter:
    """The quarter a date falls in: 31 March 2022 is 2021/22 Q4, 1 April 2022 is 2022/23 Q1."""
    if scheme not in SCHEMES:
        raise ValueError(f"Quarter scheme must be one of {', '.join(SCHEMES)}, not {scheme!r}")
    return Quarter.of(scheme, pd.Period(day, freq=FREQUENCY[scheme]))


def newest_first(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from `last` back to `first` (none if `first` comes after `last`)."""
    return [last.shift(-back) for back in range((last.pandas_period - first.pandas_period).n + 1)]


FINANCIAL_LABEL = re.compile(r"^\s*(\d{4})\s*/\s*(\d{2}|\d{4})\s*[- ]?\s*q([1-4])\s*$", re.I)
CALENDAR_LABEL = re.compile(r"^\s*(\d{4})\s*[- ]?\s*q([1-4])\s*$", re.I)


@functools.lru_cache(maxsize=1024)
def _period(quarter: Quarter) -> periods.Period:
    """The quarter's label and bounds, worked out once (pandas' Period costs 0.1 ms, and a
    pack asks a quarter's label, start or end some twenty times)."""
    if quarter.scheme == FINANCIAL:
        return periods.financial_quarter(quarter.year, quarter.number)
    bounds = quarter.pandas_period
    return periods.Period(f"{quarter.year} Q{quarter.number}", bounds.start_time.date(),
                          bounds.end_time.date())


def parse_quarter(text: str | Quarter, scheme: str | None = None) -> Quarter:
    """'2022/23 Q1' or '2022/23-Q1' (financial), '2022 Q2' or '2022-Q2' (calendar).

    The label says its scheme; a `scheme` that disagrees is an error rather than a guess."""
    if isinstance(text, Quarter):
        quarter = text
    elif match := FINANCIAL_LABEL.match(text):
        first, second, number = match.groups()
        expected = int(first) + 1
        if int(second) != (expected % 100 if len(second) == 2 else expected):
            raise ValueError(f"{text!r}: a financial year runs from one year into the next, "
                             f"e.g. {first}/{expected % 100:02d}")
        quarter = Quarter(FINANCIAL, int(first), int(number))
    elif match := CALENDAR_LABEL.match(text):
        quarter = Quarter(CALENDAR, int(match.group(1)), int(match.group(2)))
    else:
        raise ValueError(f"{text!r} is not a quarter: write 2022/23 Q1 (financial year, "
                         "Q1 = April to June) or 2022 Q2 (calendar year)")
    if scheme is not None and scheme != quarter.scheme:
        example = ("2022/23 Q1" if scheme == FINANCIAL else "2022 Q2")
        raise ValueError(f"{quarter.label} is a {quarter.scheme} quarter, not a {scheme} one: "
                         f"write it like {example}")
    return quarter


def comparison_quarters(quarter: str | Quarter, scheme: str = FINANCIAL
                        ) -> tuple[Quarter, Quarter]:
    """(the previous quarter, the same quarter a year before)."""
    quarter = parse_quarter(quarter, scheme)
    return quarter.previous(), quarter.year_ago()
