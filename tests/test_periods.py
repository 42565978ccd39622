"""The financial year is one rule: pandas' Period (Q-MAR) in Python and the macros of
queries/macros/financial_year.sql in SQL agree on every day."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from dashboard.analysis import periods
from dashboard.config import QUERIES_DIR

# four whole financial years and the edges of two more, leap days included
FIRST, LAST = dt.date(2020, 2, 1), dt.date(2024, 4, 30)


@pytest.fixture(scope="module")
def sql_quarters() -> dict[dt.date, tuple]:
    con = duckdb.connect()
    try:
        con.execute((QUERIES_DIR / "macros" / "financial_year.sql").read_text(encoding="utf-8"))
        rows = con.execute(
            "select day::date, fy_start_year(day), fy_quarter(day), "
            "fy_label(fy_start_year(day)), fy_quarter_label(day) "
            "from generate_series($first::date, $last::date, interval 1 day) as t(day)",
            {"first": FIRST, "last": LAST}).fetchall()
    finally:
        con.close()
    return {day: tuple(rest) for day, *rest in rows}


def test_python_and_sql_put_every_day_in_the_same_financial_quarter(sql_quarters):
    assert len(sql_quarters) == (LAST - FIRST).days + 1
    for day, (start_year, _, _, quarter_label) in sql_quarters.items():
        python = periods.quarter_containing(day)
        assert (periods.financial_year_start(day), python.label) == (start_year, quarter_label)
        assert python.start <= day <= python.end
    for start_year, quarter, year_label, _ in set(sql_quarters.values()):
        assert periods.financial_year(start_year).label == year_label
        named = periods.financial_quarter(start_year, quarter)
        assert named.label == f"{year_label} Q{quarter}"
        assert periods.quarter_containing(named.start) == named


@pytest.mark.parametrize(("day", "label", "start", "end"), [
    (dt.date(2022, 3, 31), "2021/22 Q4", dt.date(2022, 1, 1), dt.date(2022, 3, 31)),
    (dt.date(2022, 4, 1), "2022/23 Q1", dt.date(2022, 4, 1), dt.date(2022, 6, 30)),
    (dt.date(2024, 2, 29), "2023/24 Q4", dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
    (dt.date(1999, 12, 31), "1999/00 Q3", dt.date(1999, 10, 1), dt.date(1999, 12, 31)),
])
def test_quarter_bounds(day, label, start, end):
    assert periods.quarter_containing(day) == periods.Period(label, start, end)


def test_years_and_shifts():
    assert periods.financial_year(2022) == periods.Period(
        "2022/23", dt.date(2022, 4, 1), dt.date(2023, 3, 31))
    q4 = periods.financial_quarter(2022, 4)
    assert periods.shift_quarter(q4, 1).label == "2023/24 Q1"
    assert periods.shift_quarter(q4, -7).label == "2021/22 Q1"
    assert periods.shift_quarter(q4, 0) == q4
