"""Which withheld counts of earlier quarters their sums join, kept as the history grows.

A circulated quarter's publication carries every earlier quarter as its pack printed it. The
audit of a new quarter needs, of all those earlier sums, only the ones in groups of earlier
withheld counts that a sum of the new quarter reaches (disclosure.Publication._audited).
Finding those groups afresh walked every earlier sum for every quarter, so the first pack on
a long history cost the square of its age. The history's sums and markers never change once
recorded, so the groups are extended quarter by quarter here instead, and a publication asks
only for the groups its own sums reach.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Hashable, Sequence
from itertools import islice
from typing import TYPE_CHECKING

import numpy as np

from dashboard.pack.carried_solutions import Solution, in_history
from dashboard.pack.disclosure_audit import Side, terms
from dashboard.pack.sum_ranges import Limits, ranges_each_sum_allows

if TYPE_CHECKING:
    from dashboard.pack.disclosure import Publication


def keys_of(parts: tuple[Hashable, ...], total: Hashable) -> tuple[Hashable, ...]:
    """A sum's keys, as disclosure_audit.terms lists them (without their signs)."""
    return (*parts, *total) if isinstance(total, Side) else (*parts, total)


class EarlierGroups:
    """Union-find over the withheld counts of a history's sums: for each group, the indices
    of the sums that join it (a sum with no withheld count is in none); with the history's
    withheld counts and each count's place among its counts, for the same reason."""

    def __init__(self) -> None:
        self.parent: dict[Hashable, Hashable] = {}
        self.sums_of: dict[Hashable, list[int]] = {}  # by each group's root
        self.count = 0  # how many of the history's sums have been looked at
        self.values_count = 0  # and how many of its counts
        self.withheld: dict[Hashable, str] = {}  # its counts' markers, where withheld
        self.position: dict[Hashable, int] = {}  # each count's place, in order
        # each sum's keys with their signs (disclosure_audit.terms), in the sums' order: every
        # later quarter's audit reads the history's again
        self.terms: list[list[tuple[Hashable, float]]] = []
        # by the markers' limits: how many sums were narrowed by, and each withheld count's
        # range so far (ranges)
        self._ranges: dict[frozenset, tuple[int, dict]] = {}
        # solutions of the last audits of each group, as the history names its counts, for
        # the next quarter's audit (carried_solutions)
        self.carried: list[Solution] = []

    def carry(self, groups: list[tuple[list[Hashable], list[Solution]]],
              name: Callable[[Hashable], Hashable]) -> None:
        """Takes the solutions a quarter's audit kept (Publication.solutions: each group it
        looked at, with its counts, under their names there: `name` gives the history's),
        in place of those that move a count of those groups; the others' are kept."""
        solutions, looked_at = [], np.zeros(self.values_count, dtype=bool)
        for keys, kept in groups:
            placed, places = in_history([name(k) for k in keys], kept, self.position)
            solutions += placed
            looked_at[places] = True
        self.carried = [s for s in self.carried if not looked_at[s[0]].any()] + solutions

    def take_in(self, history: Publication) -> None:
        """Takes in what the history's publication has gained since the last time."""
        for key in islice(history.values, self.values_count, None):
            self.position[key] = self.values_count
            self.values_count += 1
            if history.earlier.get(key):
                self.withheld[key] = history.earlier[key]
        self.extend(history.sums, history.earlier)

    def ranges(self, values: dict[Hashable, int], limits: dict[str, Limits],
               floors: Container[str]) -> dict[Hashable, tuple[float, float]]:
        """Each withheld count's range as the history's sums, each taken alone, allow
        (sum_ranges.implied_floors); `values` hold the history's counts, `floors` the
        floors' markers. Worked out once, and for what each later quarter adds: a history's
        counts and markers never change once recorded (tables.History), so the ranges are
        kept by the markers' limits alone."""
        by = frozenset(limits.items())
        done, found = self._ranges.get(by, (0, {}))
        if done < self.count:
            new = self.terms[done:self.count]
            ranges_each_sum_allows(new, {line[-1][0] for line in new
                                          if line and self.withheld.get(line[-1][0]) in floors},
                                    self.withheld, values, self.withheld, limits, found)
            self._ranges[by] = (self.count, found)
        return found

    def find(self, key: Hashable) -> Hashable:
        parent = self.parent
        while parent.get(key, key) != key:
            parent[key] = parent.get(parent[key], parent[key])
            key = parent[key]
        return key

    def extend(self, sums: Sequence[tuple[tuple[Hashable, ...], Hashable]],
               markers: dict[Hashable, str | None]) -> None:
        """Takes in the sums from the last one looked at on. `markers` holds each earlier
        count's marker (None where it was shown); a sum with any other count is passed over
        (it is not one of earlier counts alone)."""
        for index in range(self.count, len(sums)):
            self.terms.append(terms(*sums[index]))
            line = keys_of(*sums[index])
            if not all(k in markers for k in line):
                continue
            hidden = [k for k in line if markers[k]]
            if not hidden:
                continue
            root = self.find(hidden[0])
            for other in hidden[1:]:
                root = self._union(root, self.find(other))
            self.sums_of.setdefault(root, []).append(index)
        self.count = len(sums)

    def _union(self, one: Hashable, other: Hashable) -> Hashable:
        if one == other:
            return one
        mine, theirs = self.sums_of.get(one, []), self.sums_of.get(other, [])
        if len(mine) < len(theirs):
            one, other, mine, theirs = other, one, theirs, mine
        self.parent[other] = one
        if theirs:
            mine.extend(theirs)
            self.sums_of[one] = mine
            del self.sums_of[other]
        return one
