"""The quarterly pack's outcome tables: the Outcomes page's measures for the quarter, tied to
its headline figures (the subtraction attack in test_scrutiny_disclosure.py reads them)."""

from __future__ import annotations

import pytest

from dashboard import pack
from dashboard.security.access import COMMAND_LINE, Viewer
from dashboard.store import queries

QUARTERS = ["2021/22 Q2", "2021/22 Q3", "2021/22 Q4", "2022/23 Q1"]


def table(built: pack.Pack, name: str):
    frame = next(t for t in built.tables if t.name == name).frame
    return frame.set_index(frame.columns[0])


@pytest.mark.parametrize("label", QUARTERS)
def test_exact_outcome_tables_are_the_quarters_exits_and_admissions(demo_con, label):
    built = pack.build_pack(demo_con, COMMAND_LINE, label, disclosure="exact")
    figures = {f.measure: f.value for f in built.figures}
    exits = table(built, pack.EXIT_OUTCOMES_TABLE).iloc[0]
    quarter = pack.parse_quarter(label)
    rows = queries.run(demo_con, COMMAND_LINE, "quarter_exit_outcomes",
                       from_date=quarter.start, to_date=quarter.end)
    assert exits[pack.LEFT] == rows["exits"].sum() == \
        figures["Completions of 12 weeks"] + figures["Early discharges"]
    assert exits[pack.FOLLOWED] == rows["followed_up"].sum()
    assert exits[pack.NO_OFFENCE] == rows["without_offence"].sum()
    assert exits[pack.FOLLOWED] + exits[pack.NOT_YET] == exits[pack.LEFT]
    retention = table(built, pack.RETENTION_TABLE).iloc[0]
    stays = queries.run(demo_con, COMMAND_LINE, "rehab_stays", from_date=quarter.start,
                        to_date=quarter.end)
    assert retention["Total"] == stays["admissions"].sum() == figures["Rehab admissions"]


def test_the_circulated_outcome_tables_hide_small_counts(demo_con):
    shown = []
    for label in QUARTERS:
        controlled = pack.build_pack(demo_con, Viewer("Panel", "scrutiny"), label)
        exact = pack.build_pack(demo_con, COMMAND_LINE, label, disclosure="exact")
        for name in (pack.EXIT_OUTCOMES_TABLE, pack.RETENTION_TABLE):
            cells = table(controlled, name).to_numpy().ravel()
            truth = table(exact, name).to_numpy().ravel()
            for cell, value in zip(cells, truth, strict=True):
                assert (cell == "<5") == (1 <= value <= 4), (label, name)
                shown.append(cell)
    assert "<5" in shown and any(isinstance(c, int) and c >= 5 for c in shown)
