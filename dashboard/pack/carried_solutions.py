"""Solutions of one quarter's audit carried into the next quarter's.

A circulated quarter is audited with every earlier quarter as its pack printed it, so each
quarter's audit looks again at every earlier withheld count its sums reach: on a small
programme, whose counts are mostly withheld, one group of them spans the whole history, and
each quarter solved it again from nothing (a first pack at 1,000 referrals over seven years
spent half its audit re-opening earlier counts).

Every solution an audit finds is a set of values a reader cannot rule out. The next quarter
adds counts and sums, so an old solution is no longer a whole one; but where values for the
new counts can be found that, beside it, satisfy every sum, it is a solution of the new
quarter's program too, and it shows open every earlier count it shows open. Finding those
values is one small program over the new counts alone (the earlier ones fixed), solved again
for each carried solution with only the sums' targets changed. A completed solution is used
only once it has been checked against every sum of the group and every count's limits, so a
solution that no longer fits is passed over, never trusted: which counts are pinned never
depends on what is carried, only how many solves it takes to tell.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from dashboard.pack.sum_ranges import TOLERANCE

if TYPE_CHECKING:
    from dashboard.pack.group_program import GroupProgram

# A solution: the places of the counts it moves from their exact values, and their values
# there (every other count of the publication at its exact value). An audit's are placed by
# its group's counts; a history's by its counts' order (EarlierGroups.position).
Solution = tuple[np.ndarray, np.ndarray]
DUAL_SIMPLEX = 1  # HiGHS's simplex_strategy: only the targets change between solves
MOST_KEPT = 16  # solutions kept of a group's audit: each carried one costs a solve


def kept_solutions(group: GroupProgram) -> list[Solution]:
    """A few of the group's solutions (Audit._saw) that, each beside the exact counts, show
    open as many counts as the solutions do, chosen greedily."""
    if not group.solutions:
        return []
    seen = np.array(group.solutions)
    opens = np.ceil(np.minimum(seen, group.exact) - TOLERANCE) < np.floor(
        np.maximum(seen, group.exact) + TOLERANCE)
    left = opens.any(axis=0)
    kept = []
    while left.any() and len(kept) < MOST_KEPT:
        gains = np.count_nonzero(opens & left, axis=1)
        best = int(np.argmax(gains))
        if not gains[best]:
            break
        left &= ~opens[best]
        moved = np.nonzero(np.abs(seen[best] - group.exact) > TOLERANCE)[0]
        kept.append((moved, seen[best][moved]))
    return kept


def in_history(keys: Sequence[Hashable], kept: list[Solution], place: dict[Hashable, int]
               ) -> tuple[list[Solution], np.ndarray]:
    """A group's kept solutions placed by the history's counts (`place`: each count's
    place there, under the name the history gives it; a count it does not keep, a floor it
    found implied, is left out), and the places of the group's counts."""
    at = np.array([place.get(k, -1) for k in keys], dtype=np.int64)
    placed = []
    for moved, values in kept:
        where = at[moved]
        placed.append((where[where >= 0], values[where >= 0]))
    return placed, at[at >= 0]


def completed(group: GroupProgram, carried: Sequence[Solution], place: dict[Hashable, int],
              seen_open: np.ndarray | None = None) -> Iterable[np.ndarray]:
    """Each carried solution (placed by the history's counts, `place`) that moves a count of
    `group`, with values for the group's counts the history does not hold, where some fit:
    every sum of the group and every limit checked. `seen_open`: which of the group's counts
    an earlier pass saw open; a solution moving only those is passed over (it could show
    open only this quarter's counts beside them, which the counts' own solves look at)."""
    if not carried or group.row_count() < 2:  # one sum is worked out without the solver
        return
    at = np.array([place.get(k, -1) for k in group.keys], dtype=np.int64)
    free = at < 0
    if free.all():
        return
    index_of = np.full(max(len(place), int(at.max()) + 1), -1, dtype=np.int64)
    index_of[at[~free]] = np.nonzero(~free)[0]
    rows_at = np.repeat(np.arange(group.row_count()), np.diff(group.row_starts))
    columns, coefficients = group.columns, group.coefficients
    lower = np.array([float(low) for low, _ in group.limits])
    upper = np.array([np.inf if high is None else float(high) for _, high in group.limits])
    on_free = free[columns]
    with_free = np.zeros(group.row_count(), dtype=bool)
    with_free[rows_at[on_free]] = True
    program = None
    for places, moved_to in carried:
        index = index_of[places[places < len(index_of)]]
        mine = index >= 0
        if not mine.any() or (seen_open is not None and seen_open[index[mine]].all()):
            continue
        values = group.exact.copy()
        values[index[mine]] = moved_to[places < len(index_of)][mine]
        if free.any():
            program = program or _FreeCounts(group, free, with_free, rows_at)
            fixed_part = np.bincount(rows_at, coefficients * values[columns] * ~on_free,
                                     minlength=group.row_count())
            found = program.solve(group.lower - fixed_part, group.upper - fixed_part)
            if found is None:
                continue
            values[free] = found
        # Trusted only once checked: every sum of the group holds and every count is within
        # what its marker says.
        sums = np.bincount(rows_at, coefficients * values[columns],
                           minlength=group.row_count())
        every_sum = np.all(sums >= group.lower - TOLERANCE) and \
            np.all(sums <= group.upper + TOLERANCE)
        if every_sum and np.all(values >= lower - TOLERANCE) and \
                np.all(values <= upper + TOLERANCE):
            yield values


class _FreeCounts:
    """The group's program over the counts that are not earlier ones, the others fixed: the
    sums with such a count, their targets less what the fixed counts give."""

    def __init__(self, group: GroupProgram, free: np.ndarray, with_free: np.ndarray,
                 rows_at: np.ndarray) -> None:
        import highspy

        self.model = model = highspy.Highs()
        model.setOptionValue("output_flag", False)
        model.setOptionValue("presolve", "off")
        model.setOptionValue("simplex_strategy", DUAL_SIMPLEX)
        inf = highspy.kHighsInf
        free_at = np.cumsum(free) - 1  # each free count's column
        size = int(free.sum())
        lower = [float(low) for (low, _), f in zip(group.limits, free) if f]
        upper = [inf if high is None else float(high)
                 for (_, high), f in zip(group.limits, free) if f]
        none = np.array([], dtype=np.int32)
        model.addCols(size, np.zeros(size), np.array(lower), np.array(upper), 0, none, none,
                      np.array([]))
        self.rows = np.nonzero(with_free)[0]
        # the entries on a free count, in the sums' order (each sum's in its own order)
        entry = free[group.columns] & with_free[rows_at]
        columns = free_at[group.columns[entry]].astype(np.int32)
        coefficients = group.coefficients[entry].astype(float)
        per_row = np.bincount(rows_at[entry], minlength=group.row_count())[self.rows]
        starts = (np.cumsum(per_row) - per_row).astype(np.int32)
        zeros = np.zeros(len(self.rows))
        model.addRows(len(self.rows), zeros, zeros, len(columns), starts, columns,
                      coefficients)
        self.indices = np.arange(len(self.rows), dtype=np.int32)
        self.optimal = highspy.HighsModelStatus.kOptimal

    def solve(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray | None:
        """Values of the free counts meeting the sums' targets (what is left of them for
        those counts: from lower to upper), or None where there are none."""
        self.model.changeRowsBounds(len(self.rows), self.indices, lower[self.rows],
                                    upper[self.rows])
        self.model.run()
        if self.model.getModelStatus() != self.optimal:
            return None
        return np.asarray(self.model.getSolution().col_value)
