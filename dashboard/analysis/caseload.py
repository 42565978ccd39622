"""Table 1 of the 2022 evaluation: referrals by officer and status, with totals.

Built once, here, for the Officer caseloads page and the quarterly pack alike."""

from __future__ import annotations

import pandas as pd

from dashboard.ingest import contract

TOTAL = "Total"


def not_a_total(label):
    """A stored name that would print as a second total row (an officer or area called
    "Total", stored before the ingest refused the name) marked as the tracker's own."""
    if isinstance(label, str) and label.strip().casefold() == TOTAL.casefold():
        return f"{label} (as recorded)"
    return label


def status_order(statuses: list[str]) -> list[str]:
    """The tracker's statuses in journey order, then any others alphabetically."""
    known = [s for s in (*contract.STATUSES, contract.STATUS_NOT_RECORDED) if s in statuses]
    return known + sorted(s for s in statuses if s not in known)


def table_one_cells(rows: pd.DataFrame, keep: list[bool] | None = None
                    ) -> tuple[list[str], list[str], list[list[int]]] | None:
    """Table 1's officers (biggest caseload first, then by name), statuses (journey order) and
    rows of counts, each row and the last (totals) row ending with its total, from the rows
    `keep` marks (default: all); None if no such row has both an officer and a status."""
    # Added up in plain Python: a pandas pivot_table was 7 ms a table, and the circulated
    # pack builds one for every quarter since the first snapshot.
    cells: dict[str, dict[str, int]] = {}
    for officer, status, referrals, kept in zip(
            rows["officer"].tolist(), rows["status"].tolist(), rows["referrals"].tolist(),
            [True] * len(rows) if keep is None else keep, strict=True):
        if not kept or pd.isna(officer) or pd.isna(status):
            continue
        by_status = cells.setdefault(not_a_total(officer), {})
        by_status[status] = by_status.get(status, 0) + int(referrals)
    if not cells:
        return None
    statuses = status_order(sorted({s for by_status in cells.values() for s in by_status}))
    officers = sorted(sorted(cells), key=lambda officer: -sum(cells[officer].values()))
    table = [[cells[officer].get(status, 0) for status in statuses] for officer in officers]
    table = [[*row, sum(row)] for row in table]
    table.append([sum(column) for column in zip(*table, strict=True)])
    return officers, statuses, table


def table_one(rows: pd.DataFrame) -> pd.DataFrame:
    """Officers (rows, biggest caseload first, then by name) by status (columns, journey
    order), each with its total, from rows of officer, status, referrals (exact counts); a
    row with no officer or status is left out. A pair nobody has is 0."""
    found = table_one_cells(rows)
    if found is None:
        return pd.DataFrame({TOTAL: [0.0]}, index=[TOTAL])
    officers, statuses, table = found
    return pd.DataFrame(table, dtype="int64",
                        index=pd.Index([*officers, TOTAL], dtype=rows["officer"].dtype),
                        columns=pd.Index([*statuses, TOTAL]))
