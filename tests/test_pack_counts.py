"""A quarter's count tables are keyed from plain lists, their frames made only when printed:
held here to the keys, labels and numbers of the frames the pack prints, on random caseloads
shaped as quarter_caseload returns them and on every demo snapshot."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pandas as pd
import pytest

from dashboard.pack.counts import counts_frame, counts_of, counts_table
from dashboard.pack.disclosure import TOTAL
from dashboard.pack.tables import caseload_counts, caseload_frame
from dashboard.security.access import COMMAND_LINE
from dashboard.store import queries

STATUSES = ["Referral/Waiting", "Active", "Inactive", "Withdrawn", "Not recorded", None]
# names whose order by text differs from their order ignoring case or accents
OFFICERS = ["Officer 1", "Officer 2", "Officer 10", "new recruit", "Ólafur", "Unallocated", None]


def as_listed(counts) -> tuple:
    return counts.rows, counts.columns, counts.cells


def as_printed(frame: pd.DataFrame) -> tuple:
    return as_listed(counts_of(frame))


def caseload_rows(pairs: dict[tuple, int]) -> pd.DataFrame:
    """quarter_caseload's rows for these (officer, status) counts: every pair, each officer's
    total, each status's total and the grand total (grouping sets; a total's label is null)."""
    rows = [(o, s, False, False, n) for (o, s), n in pairs.items()]
    for officer in dict.fromkeys(o for o, _ in pairs):
        rows.append((officer, None, False, True,
                     sum(n for (o, _), n in pairs.items() if o == officer)))
    for status in dict.fromkeys(s for _, s in pairs):
        rows.append((None, status, True, False,
                     sum(n for (_, s), n in pairs.items() if s == status)))
    rows.append((None, None, True, True, sum(pairs.values())))
    return pd.DataFrame(rows, columns=["officer", "status", "is_all_officers",
                                       "is_all_statuses", "referrals"])


@pytest.mark.parametrize("seed", range(10))
def test_caseload_is_keyed_as_the_printed_table_shows_it(seed):
    rng = random.Random(seed)
    officers = [*OFFICERS, TOTAL] if seed % 3 == 0 else OFFICERS  # an officer named Total
    for _ in range(40):
        pairs = {(rng.choice(officers), rng.choice(STATUSES)): rng.randint(1, 9)
                 for _ in range(rng.randint(0, 12))}
        rows = caseload_rows(pairs)
        counts = caseload_counts(rows)
        printed = caseload_frame(rows)
        assert as_listed(counts) == as_printed(printed), pairs
        pd.testing.assert_frame_equal(counts.frame, printed)


def test_caseload_is_keyed_as_printed_on_every_demo_snapshot(demo_con):
    for snapshot in queries.run(demo_con, COMMAND_LINE, "snapshots")["snapshot_id"]:
        rows = queries.run(demo_con, COMMAND_LINE, "quarter_caseload",
                           snapshot_id=int(snapshot))
        assert as_listed(caseload_counts(rows)) == as_printed(caseload_frame(rows))


@pytest.mark.parametrize("labels", [
    ["Aston", "Erdington", TOTAL],
    [TOTAL],
    [],
    ["Aston", None, TOTAL],                        # a null label: NaN, as the frame has it
    [np.str_("Aston"), "Erdington", TOTAL],        # not plain text: as the frame has it
])
def test_a_count_table_is_keyed_as_its_frame(labels):
    # columns not in alphabetical order: their order is the keys' order
    columns = {"Rehab admissions": [np.int64(2 * i) for i in range(len(labels))],
               "Referrals received": [float(i) for i in range(len(labels))],
               "Police assessments": [True] * len(labels)}
    counts = counts_table(labels, columns, "area")
    frame = counts_frame(labels, columns, "area")
    got, expected = as_listed(counts), as_printed(frame)
    # NaN is not equal to itself: compare the labels' text
    assert (repr(got[0]), got[1:]) == (repr(expected[0]), expected[1:])
    assert all(type(value) is int for row in counts.cells for value in row)
    pd.testing.assert_frame_equal(counts.frame, frame)


def test_a_total_row_is_never_counted_as_an_officer_s_caseload():
    # Were quarter_caseload to label its total rows, they would still be left out.
    rows = pd.DataFrame([("A", "Active", False, False, 3), ("A", "Active", False, True, 3),
                         ("A", "Active", True, False, 3), ("A", "Active", True, True, 3)],
                        columns=["officer", "status", "is_all_officers", "is_all_statuses",
                                 "referrals"])
    counts = caseload_counts(rows)
    assert as_listed(counts) == (["A", TOTAL], ["Active", TOTAL], [[3, 3], [3, 3]])
    assert as_listed(counts) == as_printed(caseload_frame(rows))


def test_count_tables_pickle_whichever_way_they_were_made():
    for counts in (counts_table(["Aston", TOTAL], {"Referrals received": [1, 1]}),
                   counts_table(["Aston", None], {"Referrals received": [1, 1]})):
        again = pickle.loads(pickle.dumps(counts))
        assert repr(as_listed(again)) == repr(as_listed(counts))  # NaN: compared as text
        pd.testing.assert_frame_equal(again.frame, counts.frame)


def test_a_count_table_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError):
        counts_table(["Aston", TOTAL], {"Referrals received": [1, 2, 3]})
