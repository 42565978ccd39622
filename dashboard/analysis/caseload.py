"""Table 1 of the 2022 evaluation: referrals by officer and status, with totals.

Built once, here, for the Officer caseloads page and the quarterly pack alike."""

from __future__ import annotations

import pandas as pd

from dashboard.ingest import contract

TOTAL = "Total"


def status_order(statuses: list[str]) -> list[str]:
    """The tracker's statuses in journey order, then any others alphabetically."""
    known = [s for s in (*contract.STATUSES, contract.STATUS_NOT_RECORDED) if s in statuses]
    return known + sorted(s for s in statuses if s not in known)


def table_one(rows: pd.DataFrame) -> pd.DataFrame:
    """Officers (rows, biggest caseload first) by status (columns, journey order), each with
    its total, from rows of officer, status, referrals (exact counts). A pair nobody has is 0."""
    counts = rows.pivot_table(index="officer", columns="status", values="referrals",
                              aggfunc="sum", fill_value=0).astype("int64")
    counts = counts.reindex(columns=status_order(list(counts.columns)))
    counts = counts.loc[counts.sum(axis=1).sort_index().sort_values(
        ascending=False, kind="stable").index]
    counts[TOTAL] = counts.sum(axis=1)
    counts.loc[TOTAL] = counts.sum(axis=0)
    counts.index.name = None
    counts.columns.name = None
    return counts
