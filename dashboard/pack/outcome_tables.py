"""The outcome tables (issue 10) in a quarter's publication: the same measures as the Outcomes
page, with every sum and floor a reader knows, protected with the quarter's other counts."""

from __future__ import annotations

from collections.abc import Hashable

import pandas as pd

from dashboard.pack import disclosure as rules
from dashboard.pack.counts import Counts, counts_table
from dashboard.pack.disclosure import TOTAL
from dashboard.pack.gathering import QuarterData
from dashboard.pack.model import Table
from dashboard.pack.tables import (
    History,
    QuarterFigures,
    at_least_where_it_holds,
    figure_key,
    publication,
)

EXIT_OUTCOMES_TABLE, RETENTION_TABLE = "Outcomes after rehab", "Retention"
LEFT, FOLLOWED, NO_OFFENCE, OFFENCE, NOT_YET = (
    "Left rehab", "Followed up 6 months", "No recorded offence", "Recorded offence",
    "Not yet followed up")
RETAINED, LEFT_BEFORE, STILL_IN = ("Stayed 12 weeks or completed", "Left before 12 weeks",
                                   "Still in rehab, under 12 weeks")
ADMITTED_ROW, EXITED_ROW = "Admitted in the quarter", "Left rehab in the quarter"


def outcome_counts(data: QuarterData) -> dict[str, Counts]:
    """The quarter's exits by way of leaving, followed up for six months or not, with or
    without a police-recorded offence; and its admissions by whether they stayed 12 weeks."""
    exits = data.exit_outcomes
    # Both ways of leaving together: split by way of leaving, the cells pin each other down.
    left, followed, without = (sum(int(v) for v in exits[column])
                               for column in ("exits", "followed_up", "without_offence"))
    table = counts_table([EXITED_ROW], {
        LEFT: [left], FOLLOWED: [followed], NO_OFFENCE: [without],
        OFFENCE: [followed - without], NOT_YET: [left - followed]})
    retained, left_before, still = (int(data.retention[column][0])  # a row a quarter
                                    for column in ("retained", "left_early", "still_in"))
    retention = counts_table([ADMITTED_ROW], {
        RETAINED: [retained], LEFT_BEFORE: [left_before], STILL_IN: [still],
        TOTAL: [retained + left_before + still]})
    return {EXIT_OUTCOMES_TABLE: table, RETENTION_TABLE: retention}


def add_outcomes(out: rules.Publication, counts: dict[str, Counts]) -> None:
    """Puts the outcome tables in the quarter's publication with every sum a reader knows:
    a row's exits are followed up or not, the followed up did or did not offend, the rows add
    up to Total, and the exits and admissions are the quarter's headline figures."""
    exits = counts[EXIT_OUTCOMES_TABLE]
    out.grid(EXIT_OUTCOMES_TABLE, exits.rows, exits.columns, exits.cells)

    def key(column: str) -> tuple:
        return (EXIT_OUTCOMES_TABLE, EXITED_ROW, column)
    out.total([key(FOLLOWED), key(NOT_YET)], key(LEFT))
    out.total([key(NO_OFFENCE), key(OFFENCE)], key(FOLLOWED))
    out.total([figure_key("Completions of 12 weeks"), figure_key("Early discharges")], key(LEFT))
    retention = counts[RETENTION_TABLE]
    out.grid(RETENTION_TABLE, retention.rows, retention.columns, retention.cells,
             total_column=True)
    if figure_key("Rehab admissions") in out.values:
        out.same((RETENTION_TABLE, ADMITTED_ROW, TOTAL), figure_key("Rehab admissions"))


def retention_floors(out: rules.Publication, history: History) -> None:
    """What a reader knows of the Retention table from other quarters (found by the review
    of 01/12; a built tracker's 2021/22 Q3 Stayed "[c]" and Left before "<5" were pinned at
    6 and 1): everyone who completed was retained in their admission quarter, that quarter
    or earlier, so the retained since the first quarter are at least the completions since;
    and everyone who left before 12 weeks (84 days, under a quarter) was an early discharge
    in their admission quarter or the next, so the early discharges since the first quarter
    are at least those who left before 12 weeks up to the quarter before. Each is declared
    where the exact counts bear it out."""
    def since(key: Hashable, last: bool = True) -> list[Hashable]:
        return [*((q, key) for q in history.quarters), *([key] if last else [])]

    retained = since((RETENTION_TABLE, ADMITTED_ROW, RETAINED))
    completed = since(figure_key("Completions of 12 weeks"))
    discharged = since(figure_key("Early discharges"))
    left_early = since((RETENTION_TABLE, ADMITTED_ROW, LEFT_BEFORE), last=False)
    # And quarter by quarter: those who left before 12 weeks are in their admission quarter's
    # early discharges and the next's; in its own alone where the data ends with the quarter
    # (a reader sees that in Data coverage; declared here wherever it holds).
    left_now = (RETENTION_TABLE, ADMITTED_ROW, LEFT_BEFORE)
    early_now = figure_key("Early discharges")
    last = history.quarters[-1] if history.quarters else None
    windows = [([early_now], [left_now])]
    if last is not None:
        windows.append(([(last, early_now), early_now], [(last, left_now)]))
    for more, fewer in ((retained, completed), (discharged, left_early), *windows):
        at_least_where_it_holds(out, more, fewer)


def protect_quarter_with_outcomes(data: QuarterData, how: str, threshold: int,
                                  history: History | None = None) -> QuarterFigures:
    """One quarter's figures and its outcome tables, protected together, once (after every
    quarter before it: `history`)."""
    published, counts = publication(data, threshold, history, how == rules.CONTROLLED)
    extra = outcome_counts(data)
    add_outcomes(published, extra)
    if history is not None and how == rules.CONTROLLED:
        retention_floors(published, history)
    return QuarterFigures(data, {**counts, **extra}, published.protect(how))


def outcome_tables(now: QuarterFigures) -> list[Table]:
    """The outcome tables as printed in the pack."""
    return [
        Table(EXIT_OUTCOMES_TABLE, "Rehab exits in the quarter: police-recorded offending in "
              "the 6 months after", "By exit date. Followed up: the whole 6 months after exit "
              "(exit + 1 to exit + 182 days) falls on or before the latest Connect upload's "
              "as-at date; the others are not counted yet, never as no offence. Police-"
              "recorded offending in Connect, not proven reoffending; this programme's own "
              "measure, aligned with NDTMS but not the same.",
              labelled(now.table(EXIT_OUTCOMES_TABLE), "Exits")),
        Table(RETENTION_TABLE, "Rehab admissions in the quarter: retained 12 weeks or "
              "completed", "By admission date: stayed at least 84 days or left with exit "
              "reason Completed (NDTMS-aligned); still in rehab under 84 days are not yet "
              "known.", labelled(now.table(RETENTION_TABLE), "Admissions")),
    ]


def labelled(shown: pd.DataFrame, label: str) -> pd.DataFrame:
    """A shown table with its row labels as its first column, as the pack prints it."""
    frame = shown.rename_axis(label).reset_index()
    frame[label] = frame[label].astype("str")
    return frame
