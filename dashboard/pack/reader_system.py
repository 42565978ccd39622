"""The reader's linear system for one set of withheld counts, split into groups that no sum
joins, built with arrays.

`Publication.protect` builds this system once per pass, over every sum its history reaches:
at 1,000 referrals over seven years, about 24,000 terms, 55 times for one pack, which cost a
quarter of its audit walked term by term. The sums do not change between passes, only which
counts are withheld, so their terms are laid out in arrays once (`SumTerms`) and each pass's
system is worked out from them (`split`).
"""

from __future__ import annotations

from collections.abc import Container, Hashable, Sequence
from dataclasses import dataclass

import numpy as np


class SumTerms:
    """Every term of a list of sums (disclosure_audit.terms: a key and its sign in
    parts - total = 0), as arrays, with each key's exact value; and which sums have a key
    that is not an earlier one (those a publication's audit is about)."""

    def __init__(self, signed: Sequence[list[tuple[Hashable, float]]],
                 values: dict[Hashable, int], earlier: Container[Hashable] = ()) -> None:
        self.signed = signed
        self._by_key: np.ndarray | None = None  # the terms in their keys' order (get)
        self.index: dict[Hashable, int] = {}
        index = self.index
        count = sum(len(one) for one in signed)
        self.term_key = np.fromiter((index.setdefault(k, len(index)) for one in signed
                                     for k, _ in one), dtype=np.int64, count=count)
        self.term_sign = np.fromiter((sign for one in signed for _, sign in one), dtype=float,
                                     count=count)
        lengths = np.fromiter((len(one) for one in signed), dtype=np.int64, count=len(signed))
        self.term_sum = np.repeat(np.arange(len(signed)), lengths)
        self.last_term = np.cumsum(lengths) - 1  # each sum's (a sum has at least its total)
        self.last_key = self.term_key[self.last_term]
        self.is_last = np.zeros(count, dtype=bool)
        self.is_last[self.last_term] = True
        self.keys = list(index)
        self.value = np.array([float(values[k]) for k in index])
        earlier_key = np.array([k in earlier for k in index], dtype=bool)
        self.touching = np.bincount(self.term_sum, weights=~earlier_key[self.term_key],
                                    minlength=len(signed)) > 0

    def __len__(self) -> int:
        return len(self.signed)

    def get(self, key: Hashable, default: Sequence[int] = ()) -> Sequence[int]:
        """The places of the sums `key` stands on, in order (once for each time it stands
        there), as secondary.lines_of gives them: looked up for the few cells
        secondary.hide_beside starts from, not listed for every key."""
        if self._by_key is None:
            self._by_key = np.argsort(self.term_key, kind="stable")
            self._key_starts = np.searchsorted(self.term_key[self._by_key],
                                               np.arange(len(self.index) + 1))
        at = self.index.get(key)
        if at is None:
            return default
        return self.term_sum[self._by_key[self._key_starts[at]:self._key_starts[at + 1]]
                             ].tolist()


@dataclass
class GroupParts:
    """One group of withheld counts: their places among the hidden ones (ascending), and its
    sums over them (compressed rows: row_starts into columns, the counts' places in the
    group, and coefficients; the least and greatest each sum's terms may add up to: both
    its target, but where a floor was taken out of it)."""

    members: np.ndarray
    row_starts: np.ndarray
    columns: np.ndarray
    coefficients: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    touched: bool


def split(terms: SumTerms, hidden: Sequence[Hashable], left_out: Container[Hashable] = (),
          hidden_earlier: np.ndarray | None = None,
          floors: dict[Hashable, tuple[float, float | None]] | None = None
          ) -> list[GroupParts]:
    """The system of the sums (but those whose last key is in `left_out`) over the `hidden`
    counts, every other count at its exact value, split into groups no sum joins: in the
    order of each group's first count, each group's counts and sums in their own order (a
    key twice on one sum is one term, its signs added). `hidden_earlier`: which hidden counts
    are earlier ones; a group is touched where one of its counts is not, or one of its sums
    has a key that is not.

    `floors`: hidden counts a reader knows only to lie within limits (low, high or None),
    each the last key of its one sum. Such a count says no more than that its sum's other
    terms add up to within the limits it leaves them, so it is taken out of its sum, which
    keeps those as its least and greatest, and the floor is in no group: the groups'
    programs lose a column each (at 1,000 referrals over seven years, two in five of the
    largest group's), and every other count keeps the same least and greatest value. A
    floor that stands on another sum too stays a column."""
    # only a circulated publication's audit needs them (a page that never builds one is
    # spared the import)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    size = len(hidden)
    if not size:
        return []
    place = np.full(len(terms.index), -1, dtype=np.int64)
    for at, key in enumerate(hidden):
        found = terms.index.get(key)
        if found is not None:
            place[found] = at
    kept = np.ones(len(terms), dtype=bool)
    if left_out:
        dropped = np.array([k in left_out for k in terms.index], dtype=bool)
        kept = ~dropped[terms.last_key] if len(terms.last_key) else kept
    term_place = place[terms.term_key]
    on_hidden = (term_place >= 0) & kept[terms.term_sum]
    bounded = np.zeros(len(terms), dtype=bool)  # the sums whose floor is taken out
    if floors:
        is_floor = np.array([k in floors for k in terms.index], dtype=bool)
        standing = np.bincount(terms.term_key[kept[terms.term_sum]], minlength=len(is_floor))
        bounded = kept & is_floor[terms.last_key] & (standing[terms.last_key] == 1)
        on_hidden[terms.last_term[bounded]] = False
    on_floor = np.zeros(len(terms.term_key), dtype=bool)
    on_floor[terms.last_term[bounded]] = True
    # what the shown counts give each sum, moved to its other side as the target
    targets = -np.bincount(terms.term_sum, weights=np.where(
        on_hidden | on_floor, 0.0, terms.term_sign * terms.value[terms.term_key]),
        minlength=len(terms))
    lower, upper = targets.copy(), targets.copy()
    if bounded.any():  # the rest of the sum = target - sign * floor, floor within its limits
        sign = terms.term_sign[terms.last_term[bounded]]
        limits = [floors[terms.keys[k]] for k in terms.last_key[bounded].tolist()]
        least = np.array([low for low, _ in limits], dtype=float)
        most = np.array([np.inf if high is None else high for _, high in limits], dtype=float)
        with np.errstate(invalid="ignore"):  # never inf - inf: a floor's least is finite
            ends = (targets[bounded] - sign * least, targets[bounded] - sign * most)
        lower[bounded], upper[bounded] = np.minimum(*ends), np.maximum(*ends)
    entry_sum, entry_place = terms.term_sum[on_hidden], term_place[on_hidden]
    combined = entry_sum * max(size, 1) + entry_place
    unique, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    coefficients = np.bincount(inverse, weights=terms.term_sign[on_hidden])
    in_order = np.argsort(first, kind="stable")  # each key where it first stands on its sum
    entry_sum, entry_place = unique[in_order] // max(size, 1), unique[in_order] % max(size, 1)
    coefficients = coefficients[in_order]
    rows, row_first = np.unique(entry_sum, return_index=True)
    # every count of a sum joined to its first
    first_place = entry_place[row_first][np.searchsorted(rows, entry_sum)]
    graph = coo_matrix((np.ones(len(entry_place)), (entry_place, first_place)),
                       shape=(size, size))
    _, label = connected_components(graph, directed=False)
    # groups in the order of their first count
    first_count = np.full(label.max() + 1, size, dtype=np.int64)
    np.minimum.at(first_count, label, np.arange(size))
    rank = np.empty(len(first_count), dtype=np.int64)
    rank[np.argsort(first_count, kind="stable")] = np.arange(len(first_count))
    group = rank[label]
    members_in_order = np.argsort(group, kind="stable")
    sizes = np.bincount(group, minlength=len(first_count))
    local = np.empty(size, dtype=np.int64)
    local[members_in_order] = np.arange(size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    touched = np.zeros(len(first_count), dtype=bool)
    touched[group[entry_place[row_first][terms.touching[rows]]]] = True
    if hidden_earlier is None:
        touched[:] = True
    else:
        touched[group[~hidden_earlier]] = True
    # each group's sums, in order, and their entries
    row_group = group[entry_place[row_first]]
    rows_by_group = np.argsort(row_group, kind="stable")
    row_counts = np.bincount(row_group, minlength=len(first_count))
    row_lengths = np.diff(np.append(row_first, len(entry_sum)))
    entry_group = row_group[np.searchsorted(rows, entry_sum)]
    entries_by_group = np.argsort(entry_group, kind="stable")  # each sum's entries in order
    entry_counts = np.bincount(entry_group, minlength=len(first_count))
    parts = []
    member_at = row_at = entry_at = 0
    taken_out = np.zeros(size, dtype=bool)
    taken_out[place[terms.last_key[bounded]]] = True
    for g in range(len(first_count)):
        members = members_in_order[member_at:member_at + sizes[g]]
        its_rows = rows_by_group[row_at:row_at + row_counts[g]]
        entries = entries_by_group[entry_at:entry_at + entry_counts[g]]
        member_at, row_at, entry_at = (member_at + sizes[g], row_at + row_counts[g],
                                       entry_at + entry_counts[g])
        if len(members) == 1 and taken_out[members[0]]:  # on no sum now
            continue
        parts.append(GroupParts(members, np.concatenate(([0], np.cumsum(row_lengths[its_rows]))),
                                local[entry_place[entries]], coefficients[entries],
                                lower[rows[its_rows]], upper[rows[its_rows]],
                                bool(touched[g])))
    return parts


def parts_of_rows(rows: Sequence[tuple[dict[int, float], float]]) -> GroupParts:
    """A group's sums given as each one's coefficients (by its counts' places) and target."""
    lengths = [len(row) for row, _ in rows]
    return GroupParts(np.array([], dtype=np.int64), np.concatenate(([0], np.cumsum(lengths))),
                      np.array([i for row, _ in rows for i in row], dtype=np.int64),
                      np.array([c for row, _ in rows for c in row.values()], dtype=float),
                      np.array([target for _, target in rows], dtype=float),
                      np.array([target for _, target in rows], dtype=float), True)
