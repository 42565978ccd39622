"""Table 1 (officers by status) is added up in plain Python: held here to the pandas
pivot_table it replaced, on random caseloads and on every quarter of the demo data."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from dashboard.analysis.caseload import TOTAL, status_order, table_one
from dashboard.security.access import COMMAND_LINE
from dashboard.store import queries


def pivoted(rows: pd.DataFrame) -> pd.DataFrame:
    """table_one as it was (a pandas pivot_table): the oracle."""
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


STATUSES = ["Referral/Waiting", "Active", "Inactive", "Withdrawn", "Not recorded", "Paused",
            "Another"]


@pytest.mark.parametrize("seed", range(20))
def test_table_one_is_the_pivot_it_replaced(seed):
    rng = random.Random(seed)
    for _ in range(50):
        size = rng.randint(1, 30)
        # repeated pairs to add up, ties between officers' totals, statuses outside the list
        rows = pd.DataFrame({"officer": [f"Officer {rng.randint(1, 6)}" for _ in range(size)],
                             "status": [rng.choice(STATUSES) for _ in range(size)],
                             "referrals": [rng.randint(0, 5) for _ in range(size)]})
        if seed % 2:
            rows = rows.astype({"officer": "string[pyarrow]", "status": "string[pyarrow]"})
        pd.testing.assert_frame_equal(table_one(rows), pivoted(rows))


def test_table_one_is_the_pivot_on_every_demo_snapshot(demo_con):
    for snapshot in queries.run(demo_con, COMMAND_LINE, "snapshots")["snapshot_id"]:
        rows = queries.run(demo_con, COMMAND_LINE, "officer_caseload",
                           snapshot_id=int(snapshot))
        pd.testing.assert_frame_equal(table_one(rows), pivoted(rows))
