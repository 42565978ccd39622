"""The reader's linear system for one set of withheld counts, split into groups that no sum
joins, built with arrays.

`Publication.protect` builds this system once per pass, over every sum its history reaches:
at 1,000 referrals over seven years, about 24,000 terms, 55 times for one pack, which cost a
quarter of its audit walked term by term. The sums do not change between passes, only which
counts are withheld, so their terms are laid out in arrays once (`SumTerms`) and each pass's
system is worked out from them (`split`).
"""

from __future__ import annotations

from collections.abc import Collection, Container, Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, count, repeat

import numpy as np


class SumTerms:
    """Every term of a list of sums (disclosure_audit.terms: a key and its sign in
    parts - total = 0), as arrays, with each key's exact value; and which sums have a key
    that is not an earlier one (those a publication's audit is about)."""

    def __init__(self, signed: Sequence[list[tuple[Hashable, float]]],
                 values: dict[Hashable, int], earlier: Container[Hashable] = ()) -> None:
        self.signed = signed
        self._by_key: np.ndarray | None = None  # the terms in their keys' order (get)
        self._by_number: tuple[dict, tuple[np.ndarray, np.ndarray]] | None = None
        # (each quarter lays out some 20,000 terms at 1,000 referrals over seven years: as
        # lists and lookups in C, not a generator a term)
        pairs = list(chain.from_iterable(signed))
        term_keys = [k for k, _ in pairs]
        # numbered in the order each key first stands on a sum
        self.index: dict[Hashable, int] = dict(zip(dict.fromkeys(term_keys), count()))
        index = self.index
        self.term_key = np.fromiter(map(index.__getitem__, term_keys), dtype=np.int64,
                                    count=len(pairs))
        self.term_sign = np.array([sign for _, sign in pairs], dtype=float)
        lengths = np.fromiter(map(len, signed), dtype=np.int64, count=len(signed))
        self.term_sum = np.repeat(np.arange(len(signed)), lengths)
        # Each sum's last term and key. A sum with no terms (a balance of nothing, 0 = 0) has
        # none: its last key is one past the keys, which no mark ever holds (marks).
        has_terms = lengths > 0
        self.last_term = np.maximum(np.cumsum(lengths) - 1, 0)
        self.last_key = np.full(len(signed), len(index), dtype=np.int64)
        self.last_key[has_terms] = self.term_key[self.last_term[has_terms]]
        self.is_last = np.zeros(len(pairs), dtype=bool)
        self.is_last[self.last_term[has_terms]] = True
        self.keys = list(index)
        self.value = np.fromiter(map(values.__getitem__, self.keys), dtype=float,
                                 count=len(index))
        earlier_key = np.fromiter(map(earlier.__contains__, self.keys), dtype=bool,
                                  count=len(index))
        self.touching = np.bincount(self.term_sum, weights=~earlier_key[self.term_key],
                                    minlength=len(signed)) > 0
        self.earlier_key = earlier_key
        self.sum_starts = np.concatenate(([0], np.cumsum(lengths)))

    def __len__(self) -> int:
        return len(self.signed)

    def marks(self, keys: Container[Hashable] | dict) -> np.ndarray:
        """Which of the keys (in their numbering, and one more for a sum with no last key)
        are among `keys`."""
        found = np.zeros(len(self.index) + 1, dtype=bool)
        numbered = self.numbers(keys)
        found[numbered[numbered >= 0]] = True
        return found

    def numbers(self, keys: Iterable[Hashable]) -> np.ndarray:
        """Each key's number, -1 for a key on none of the sums (dictionary lookups in C:
        a pass numbers a few thousand keys, several times)."""
        if not isinstance(keys, Collection):
            keys = list(keys)
        return np.fromiter(map(self.index.get, keys, repeat(-1)), dtype=np.int64,
                           count=len(keys))

    def by_number(self, ranges: dict[Hashable, tuple[float, float]], keep: bool = False
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Each key's least and greatest in `ranges`, by its number (NaN where it has
        none). keep: kept, with a copy of `ranges`, for the next call with equal ranges (a
        quarter's passes ask for the history's, every pass). Compared by content, not by
        identity: the history's ranges are one dictionary that grows in place
        (EarlierGroups.ranges), and arrays laid out before would be stale."""
        if self._by_number is not None and self._by_number[0] == ranges:
            return self._by_number[1]
        low, high = np.full(len(self.index), np.nan), np.full(len(self.index), np.nan)
        numbered = self.numbers(ranges)
        if len(numbered):
            ends = np.array(list(ranges.values()), dtype=float)
            on_sums = numbered >= 0
            low[numbered[on_sums]], high[numbered[on_sums]] = ends[on_sums].T
        if keep:
            self._by_number = (dict(ranges), (low, high))
        return low, high

    def get(self, key: Hashable, default: Sequence[int] = ()) -> Sequence[int]:
        """The places of the sums `key` stands on, in order (once for each time it stands
        there), as secondary.lines_of gives them, from the same layout by key that sums_on
        reads."""
        at = self.index.get(key)
        if at is None:
            return default
        self._by_key_laid_out()
        start, end = self._key_starts[at:at + 2].tolist()
        return self.term_sum[self._by_key[start:end]].tolist()

    def _by_key_laid_out(self) -> None:
        if self._by_key is None:
            self._by_key = np.argsort(self.term_key, kind="stable")
            self._key_starts = np.searchsorted(self.term_key[self._by_key],
                                               np.arange(len(self.index) + 1))

    def sums_on(self, keys: np.ndarray) -> np.ndarray:
        """The places of the sums any of `keys` (in their numbering) stands on, ascending."""
        self._by_key_laid_out()
        return np.unique(self.term_sum[self._by_key[_ranges(self._key_starts, keys)]])

    def keys_on(self, sums: np.ndarray) -> np.ndarray:
        """The keys (in their numbering) of the terms of `sums`, a key once for each term."""
        return self.term_key[_ranges(self.sum_starts, sums)]


def _ranges(starts: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The positions from starts[i] up to starts[i + 1] for each i in `at`, one after the
    other."""
    first, lengths = starts[at], starts[at + 1] - starts[at]
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(first, lengths) + offsets


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
    sums: np.ndarray | None = None  # the places of its sums among all of them


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
    size = len(hidden)
    if not size:
        return []
    place = np.full(len(terms.index), -1, dtype=np.int64)
    numbered = terms.numbers(hidden)
    on_sums = numbered >= 0  # a hidden count on no sum is a group of its own
    place[numbered[on_sums]] = np.nonzero(on_sums)[0]
    kept = np.ones(len(terms), dtype=bool)
    if left_out:
        kept = ~terms.marks(left_out)[terms.last_key]
    term_place = place[terms.term_key]
    on_hidden = (term_place >= 0) & kept[terms.term_sum]
    bounded = np.zeros(len(terms), dtype=bool)  # the sums whose floor is taken out
    if floors:
        is_floor = terms.marks(floors)
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
    combined = entry_sum * size + entry_place
    unique, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    coefficients = np.bincount(inverse, weights=terms.term_sign[on_hidden])
    in_order = np.argsort(first, kind="stable")  # each key where it first stands on its sum
    entry_sum, entry_place = unique[in_order] // size, unique[in_order] % size
    coefficients = coefficients[in_order]
    rows, row_first = np.unique(entry_sum, return_index=True)
    # every count of a sum joined to its first
    first_place = entry_place[row_first][np.searchsorted(rows, entry_sum)]
    label = components(size, entry_place, first_place)
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
    # everything in the groups' order once, so that each group takes slices
    row_ids = rows[rows_by_group]
    row_lower, row_upper = lower[row_ids], upper[row_ids]
    entry_starts = np.concatenate(([0], np.cumsum(row_lengths[rows_by_group])))
    entry_columns = local[entry_place[entries_by_group]]
    entry_coefficients = coefficients[entries_by_group]
    # A floor taken out of its one sum is on no sum now, a group of its own with nothing to
    # solve: most of a long history's groups (a thousand a pass), so they are dropped here,
    # with arrays, before the loop.
    member_starts, row_starts = np.cumsum(sizes) - sizes, np.cumsum(row_counts) - row_counts
    entry_group_starts = np.cumsum(entry_counts) - entry_counts
    taken_out = np.zeros(size, dtype=bool)
    floor_places = place[terms.last_key[bounded]]
    taken_out[floor_places[floor_places >= 0]] = True
    groups_kept = (sizes > 1) | ~taken_out[members_in_order[member_starts]]
    parts = []
    # plain numbers for the loop (a numpy scalar a step costs more than the step)
    for member_at, members_here, row_at, rows_here, entry_at, entries_here, is_touched in zip(
            *(column[groups_kept].tolist() for column in (
                member_starts, sizes, row_starts, row_counts, entry_group_starts, entry_counts,
                touched)), strict=True):
        row_end, entry_end = row_at + rows_here, entry_at + entries_here
        parts.append(GroupParts(members_in_order[member_at:member_at + members_here],
                                entry_starts[row_at:row_end + 1] - entry_at,
                                entry_columns[entry_at:entry_end],
                                entry_coefficients[entry_at:entry_end],
                                row_lower[row_at:row_end], row_upper[row_at:row_end],
                                is_touched, row_ids[row_at:row_end]))
    return parts


def components(size: int, one: np.ndarray, other: np.ndarray) -> np.ndarray:
    """A label for each of `size` points (0, 1, ...), the same for two exactly where a chain of
    the links one[i]-other[i] joins them: each link's two roots hooked onto the smaller, then
    every point pointed at its root, until every link's ends share one (a few rounds, each
    over every link at once). As scipy's connected_components, whose import alone cost a
    first pack 0.08 CPU-s."""
    label = np.arange(size)
    while True:
        low = np.minimum(label[one], label[other])
        np.minimum.at(label, label[one], low)
        np.minimum.at(label, label[other], low)
        while True:  # each point to its root
            root = label[label]
            if np.array_equal(root, label):
                break
            label = root
        if np.array_equal(label[one], label[other]):
            return np.unique(label, return_inverse=True)[1]  # numbered from 0, no gaps


def parts_of_rows(rows: Sequence[tuple[dict[int, float], float]]) -> GroupParts:
    """A group's sums given as each one's coefficients (by its counts' places) and target."""
    lengths = [len(row) for row, _ in rows]
    return GroupParts(np.array([], dtype=np.int64), np.concatenate(([0], np.cumsum(lengths))),
                      np.array([i for row, _ in rows for i in row], dtype=np.int64),
                      np.array([c for row, _ in rows for c in row.values()], dtype=float),
                      np.array([target for _, target in rows], dtype=float),
                      np.array([target for _, target in rows], dtype=float), True)
