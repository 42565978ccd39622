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

from collections.abc import Hashable, Sequence
from itertools import islice
from typing import TYPE_CHECKING

from dashboard.pack.disclosure_audit import Side

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

    def take_in(self, history: Publication) -> None:
        """Takes in what the history's publication has gained since the last time."""
        for key in islice(history.values, self.values_count, None):
            self.position[key] = self.values_count
            self.values_count += 1
            if history.earlier.get(key):
                self.withheld[key] = history.earlier[key]
        self.extend(history.sums, history.earlier)

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
