"""Disclosure control: the one module that decides which counts a circulated figure may show.

Everything the scrutiny panel sees is a `Publication`: the exact counts of one quarter (every
table cell, every headline figure, the parts of every rate) and the sums that hold between
them (a table's cells add up to its total, the total is the headline figure, a rate's base is
its reached plus not-reached). `Publication.protect` decides what is withheld:

1. primary: a count from 1 to threshold-1 is shown as "<5";
2. secondary: while a line of a sum has exactly one withheld cell, its smallest non-zero
   shown cell is withheld as well (shown as "[c]"), the GSS rule of thumb;
3. audit: for each withheld cell, the smallest and largest values consistent with everything
   shown are worked out by linear programming (what a reader with a spreadsheet could do);
   if only one whole number fits, one more cell on one of its lines is withheld, and the
   audit runs again.

A reader knows more than the sums: "<5" means 1 to 4, and "[c]" means 5 or more (zeros are
never withheld and a count under 5 would read "<5"), so the audit gives the solver those
bounds too. Rates, totals and comparisons are computed from the exact values and then shown
only where every count they rest on is shown. `docs/disclosure.md` explains the choice.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from itertools import islice

import pandas as pd

from dashboard.pack import disclosure_audit, secondary, sum_ranges, warm_start
from dashboard.pack.disclosure_audit import Side, SumTerms
from dashboard.pack.earlier_groups import EarlierGroups, keys_of
from dashboard.pack.markers import (
    CONTROLLED,
    DEFAULT_THRESHOLD,
    DISCLOSURES,
    EXACT,
    FLOORS,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    SECONDARY,
    TOTAL,
    check,
    count_text,
    is_primary,
    legend,
    primary_marker,
)
from dashboard.pack.protected import Protected

# The markers (markers.py) and a protected publication (protected.py) are read from here, as
# every caller has read them: this module decides, they describe.
__all__ = [
    "CONTROLLED", "DEFAULT_THRESHOLD", "DISCLOSURES", "EXACT", "FLOORS", "NOT_APPLICABLE",
    "NOT_AVAILABLE", "SECONDARY", "TOTAL", "Protected", "Publication", "Side", "audit",
    "bounds", "check", "count_text", "is_primary", "legend", "primary_marker",
]


@dataclass
class Publication:
    """The exact counts a reader sees together, and the sums that hold between them."""

    threshold: int = DEFAULT_THRESHOLD
    values: dict[Hashable, int] = field(default_factory=dict)
    sums: list[tuple[tuple[Hashable, ...], Hashable]] = field(default_factory=list)
    # Counts an earlier publication printed, with their marker there (None: shown): a reader
    # holds them already, so they join the sums, but this publication cannot withhold them.
    earlier: dict[Hashable, str | None] = field(default_factory=dict)
    # When the first `history_sums` sums are a history's, all of earlier counts: the groups
    # their withheld counts form (tables.History keeps them), so the audit need not walk them.
    earlier_groups: EarlierGroups | None = None
    history_sums: int = 0
    history_values: int = 0
    # this publication's floors (no_less_than), with their markers
    floors: dict[Hashable, str] = field(default_factory=dict)
    floor_terms: dict[Hashable, tuple[int, tuple, tuple]] = field(default_factory=dict)
    # once protected after a history: each group its audits looked at, with the solutions
    # kept of it, for the next quarter's audit (carried_solutions; History.record takes them)
    solutions: list[tuple[list, list]] = field(default_factory=list, repr=False, compare=False)

    def count(self, key: Hashable, value: object) -> Hashable:
        """Adds one exact count (the same key twice must carry the same value)."""
        number = int(value)
        if number < 0:
            raise ValueError(f"A count cannot be negative: {key!r} = {number}")
        if key in self.values and self.values[key] != number:
            raise ValueError(f"{key!r} is {self.values[key]} and {number}")
        self.values[key] = number
        return key

    def total(self, parts: Iterable[Hashable], total: Hashable) -> None:
        """Declares that the parts add up to the total (all already counted)."""
        parts = tuple(parts)
        if self._sum_of(parts) != self._sum_of((total,)):
            raise ValueError(f"{parts} do not add up to {total!r}")
        self.sums.append((parts, total))

    def _sum_of(self, keys: tuple[Hashable, ...]) -> int:
        try:  # one pass: a pack declares thousands of sums, some over every quarter so far
            return sum(map(self.values.__getitem__, keys))
        except KeyError:
            raise KeyError(f"Count these first: {[k for k in keys if k not in self.values]}"
                           ) from None

    def printed_before(self, key: Hashable, value: object, marker: str | None) -> Hashable:
        """Adds a count an earlier publication printed, as it printed it (marker or None)."""
        self.count(key, value)
        self.earlier[key] = marker
        return key

    def balance(self, left: Iterable[Hashable], right: Iterable[Hashable]) -> None:
        """Declares that the left keys add up to the same as the right ones (all counted)."""
        left, right = tuple(left), Side(right)
        if self._sum_of(left) != self._sum_of(right):
            raise ValueError(f"{left} and {tuple(right)} do not balance")
        self.sums.append((left, right))

    def no_less_than(self, least: int, keys: Iterable[Hashable],
                     less: Iterable[Hashable] = ()) -> Hashable:
        """Declares what a reader knows without a sum: the keys, less those in `less`, come to
        `least` (0 or 1) or more. Given to the audit as a further count, never printed."""
        keys, less = tuple(keys), tuple(less)
        marker = f"(at least {least})"
        if marker not in FLOORS:
            raise ValueError(f"A floor must be one of {', '.join(FLOORS)}, not {least!r}")
        # Numbered, not named by its keys: every look-up hashes a key, and a history holds
        # thousands of floors (as (quarter, key)), so a nested tuple cost more than the audit.
        floor = ("at least", len(self.floors))
        difference = self._sum_of(keys) - self._sum_of(less)
        if difference < least:
            raise ValueError(f"{keys} less {less} come to {difference}, under {least}")
        self.count(floor, difference)
        self.floors[floor] = marker
        self.floor_terms[floor] = (least, keys, less)
        # the floor is the difference: its sum holds as made, and needs no checking again
        self.sums.append((keys, Side((*less, floor))) if less else (keys, floor))
        return floor

    def implied_floors(self, withheld: dict[Hashable, str]) -> set[Hashable]:
        """This publication's floors that its own sums (but those of earlier counts alone,
        which History.record does not keep) and the markers already imply, as protected
        (`withheld`: its own markers): a reader learns nothing from them. What the history's
        sums allow its counts is taken too, where known: they are audited with the floor."""
        own = [disclosure_audit.terms(parts, total) for parts, total
               in self.sums[self.history_sums:]
               if any(k not in self.earlier for k in keys_of(parts, total))]
        markers = {}
        for signed in own:
            for key, _ in signed:
                marker = self.earlier[key] if key in self.earlier else withheld.get(key)
                if marker:
                    markers[key] = marker
        return sum_ranges.implied_floors(own, set(self.floors), markers, self.values, markers,
                                         _limits(self.threshold), self._history_ranges())

    def _history_ranges(self) -> dict[Hashable, tuple[float, float]] | None:
        """What the history's own sums allow each of its withheld counts, kept as it grew."""
        history = self.history()
        return history.ranges(self.values, _limits(self.threshold), FLOORS) if history else None

    def same(self, one: Hashable, other: Hashable) -> None:
        """Declares two keys to be the same number shown in two places."""
        self.total([one], other)

    def table(self, name: str, counts: pd.DataFrame, *, total_row: bool = False,
              total_column: bool = False) -> None:
        """Adds a table of counts (labels in its index and columns) under keys
        (name, row, column); with totals, the last row / column holds them."""
        self.grid(name, list(counts.index), list(counts.columns),
                  counts.to_numpy().tolist(),  # one array, not a pandas lookup per cell
                  total_row=total_row, total_column=total_column)

    def grid(self, name: str, rows: list[Hashable], columns: list[Hashable],
             cells: list[list[int]], *, total_row: bool = False,
             total_column: bool = False) -> None:
        """table() for counts given as labels and a list of numbers per row."""
        for row, values in zip(rows, cells, strict=True):
            for column, value in zip(columns, values, strict=True):
                self.count((name, row, column), value)
        if total_column:
            for row in rows:
                self.total([(name, row, c) for c in columns[:-1]], (name, row, columns[-1]))
        if total_row:
            for column in columns:
                self.total([(name, r, column) for r in rows[:-1]], (name, rows[-1], column))

    def protect(self, disclosure: str = CONTROLLED) -> Protected:
        """What may be shown: nothing is withheld from an exact (internal) publication.

        A pack's quarters are protected once per version of the data (build.QuarterMemo), so
        a quarter shown again as a later pack's comparison or in its trend is not audited
        again. (A cache keyed on the publication's whole content, as before the memo, cost
        more to key than the audit: the content holds every earlier quarter.)"""
        check(disclosure, self.threshold)
        if disclosure == EXACT:
            return Protected(self, {})
        with disclosure_audit.SOLVER_LOCK:  # the solver's models are freed under it too
            return Protected(self, self._controlled())

    def history(self) -> EarlierGroups | None:
        """The groups of the history this publication starts with, while they are still those
        of exactly its first counts and sums (every earlier count, and sums of them alone)."""
        groups = self.earlier_groups
        if groups is not None and groups.count == self.history_sums \
                and groups.values_count == self.history_values == len(self.earlier):
            return groups
        return None

    def _controlled(self) -> dict[Hashable, str]:
        history = self.history()
        # The earlier counts are the first ones (publication() copies the history in first):
        # where the history is known, only what follows is walked here.
        own = islice(self.values.items(), self.history_values if history else 0, None)
        withheld = {k: primary_marker(self.threshold) for k, v in own
                    if k not in self.earlier and k not in self.floors
                    and is_primary(v, self.threshold)}
        withheld.update(history.withheld if history else
                        {k: marker for k, marker in self.earlier.items() if marker})
        withheld.update(self.floors)
        beyond_reach: set[Hashable] = set()
        # The sums do not change while the markers are chosen: their keys are listed once. A
        # sum of earlier counts alone can never take a new marker (none of them may be
        # withheld again), so widening looks only at the others: a publication carries every
        # earlier quarter's sums, and they would be walked again on every pass.
        audited, signed, open_lines, settled = self._audited(withheld)
        # laid out once for every pass; each key's sums are those of audited_lines too
        sum_terms = SumTerms(signed, self.values, self.earlier)
        known = self._history_ranges() if settled else None
        audited_lines = [keys_of(parts, total) for parts, total in audited]
        on_audited = {k for line in audited_lines for k in line}
        if history:  # in the counts' order, as the audit takes them
            candidates = [*sorted((k for k in on_audited if k in self.earlier),
                                  key=history.position.__getitem__),
                          *islice(self.values, self.history_values, None)]
        else:
            candidates = [k for k in self.values if k not in self.earlier or k in on_audited]
        # A floor only says what the keys it bounds add up to, so a sum with one wholly
        # withheld key beside a floor pins nothing: floors are left out of widening.
        open_lines = [line for line in open_lines if not _on_a_floor(line, withheld)]
        # open, or not pinned, in a pass, so in every later one (seen_open, not_pinned)
        cleared: set[Hashable] = set()
        self.solutions = []  # each pass's, all of them solutions once more is withheld
        # Solutions that open many counts at once (carried from the last quarter, spread)
        # are looked for in the first pass only, in the groups it reaches: at 1,000 referrals
        # over seven years, later passes' 3,100 such solves opened 1,340 counts, where their
        # own solves open about one each (a fifth of a first pack's audit). Exploring each
        # group the first time a quarter's passes reach it cost more solves (1,980 to 1,674).
        explore, start = True, None
        while True:
            secondary.widen(self.values, self.earlier, withheld, open_lines)
            system = _audit(self.values, audited, withheld, self.threshold, self.earlier,
                            candidates, sum_terms, known, settled,
                            *((history.carried, history.position) if history else ((), None)),
                            explore, start)
            explore = False
            determined = next(iter(system.pinned(skip=beyond_reach | cleared,
                                                 unless_zero=_not_available(withheld))), None)
            if history:  # only a history carries them on
                self.solutions += system.solutions_to_carry()
            if determined is None:
                return {k: m for k, m in withheld.items() if k not in self.earlier}
            cleared |= system.seen_open() | system.not_pinned
            start = system.basis()
            # Every line with a withheld count tied to it is audited (_audited).
            if not secondary.hide_beside(self.values, self.earlier, determined, withheld,
                                        audited_lines, sum_terms):
                # Everything tied to it is withheld, yet the markers' own bounds pin it down
                # (four "<5" cells under a total of 4 are each 1): withhold the whole group of
                # figures tied to it as not available, saying nothing of their size. Tied by
                # the sums first; where that is done and a floor still pins it (a row listed
                # because it has something in it), the keys beside it under the floor too.
                tied = self._not_yet_unavailable(determined, withheld, with_floors=False) or \
                    self._not_yet_unavailable(determined, withheld, with_floors=True)
                for key in tied:
                    withheld[key] = NOT_AVAILABLE
                if not tied:  # pinned by earlier figures alone: nothing here can change it
                    beyond_reach.add(determined)

    def _not_yet_unavailable(self, key: Hashable, withheld: dict[Hashable, str],
                             with_floors: bool) -> list[Hashable]:
        """The keys of this publication tied to `key` (through floors too, or not) that are
        not yet withheld as not available (floors aside: they are never printed)."""
        lines = self._lines()
        if not with_floors:
            lines = [line for line in lines if not _on_a_floor(line, withheld)]
        return [k for k in secondary.tied_to(key, lines) if k not in self.earlier
                and withheld.get(k) not in (NOT_AVAILABLE, *FLOORS)]

    def _audited(self, withheld: dict[Hashable, str], afresh: bool = False
                 ) -> tuple[list[tuple[tuple[Hashable, ...], Hashable]], list[list],
                            list[tuple], int]:
        """The sums the audit needs, in order, with their terms (disclosure_audit.terms), the
        keys of the open ones (those with a count of this publication, which alone can take
        a new marker), and how many of the first are the history's (0 when walked afresh).

        What the audit answers depends only on the groups of withheld counts the open sums
        reach; earlier counts elsewhere were audited with the same sums before, and a sum
        with no withheld count is all constants to it. The groups that sums of earlier counts
        alone form never change here (a new marker is always on this publication's counts),
        so they are found once, not on every pass, and taken from the history where it kept
        them (earlier_groups.py), not by walking every earlier quarter's sums again."""
        groups, start = (None, 0) if afresh else (self.history(), self.history_sums)
        if groups is None:
            groups, start = EarlierGroups(), 0
            groups.extend(self.sums, self.earlier)
        open_indices, open_lines = [], []
        for index in range(start, len(self.sums)):
            line = keys_of(*self.sums[index])
            if any(k not in self.earlier for k in line):
                open_indices.append(index)
                open_lines.append(line)
            elif start and any(self.earlier[k] for k in line):
                # a sum of earlier counts after the history's: look at every sum afresh
                return self._audited(withheld, afresh=True)
        reached = {groups.find(k) for line in open_lines for k in line
                   if k in self.earlier and withheld.get(k)}
        indices = sorted({*open_indices, *(i for root in reached
                                           for i in groups.sums_of.get(root, ()))})
        known = len(groups.terms)  # the history's sums' terms, worked out as it grew
        return ([self.sums[i] for i in indices],
                [groups.terms[i] if i < known else disclosure_audit.terms(*self.sums[i])
                 for i in indices], open_lines, sum(i < start for i in indices))

    def _lines(self) -> list[tuple[Hashable, ...]]:
        return [keys_of(parts, total) for parts, total in self.sums]


def _limits(threshold: int) -> dict[str, tuple[int, int | None]]:
    """What a reader knows of a withheld count from its marker."""
    return {primary_marker(threshold): (1, threshold - 1), SECONDARY: (threshold, None),
            NOT_AVAILABLE: (0, None), **FLOORS}


def _audit(values: dict[Hashable, int], sums: list[tuple[tuple[Hashable, ...], Hashable]],
           withheld: dict[Hashable, str], threshold: int, earlier: Iterable[Hashable] = (),
           candidates: Iterable[Hashable] | None = None, signed: list | None = None,
           known: dict | None = None, settled: int = 0, carried: list = (),
           place: dict | None = None, explore: bool = True,
           start: warm_start.LastBasis | None = None) -> disclosure_audit.Audit:
    return disclosure_audit.Audit(values, sums, withheld, _limits(threshold), earlier,
                                  candidates, FLOORS, signed, known, settled, carried, place,
                                  explore, start)


def _on_a_floor(line: tuple[Hashable, ...], withheld: dict[Hashable, str]) -> bool:
    return any(withheld.get(k) in FLOORS for k in line)


def _not_available(withheld: dict[Hashable, str]) -> list[Hashable]:
    # A group withheld in full ([x]) may still be pinned at a true zero its own sums force,
    # which says nothing about anyone; pinned above zero (by a floor), it says how many.
    return [k for k, marker in withheld.items() if marker == NOT_AVAILABLE]


def audit(values: dict[Hashable, int], sums: list[tuple[tuple[Hashable, ...], Hashable]],
          withheld: dict[Hashable, str], threshold: int) -> list[Hashable]:
    """The withheld keys whose value a reader can work out from what is shown, the sums and
    what the markers say (primary 1..threshold-1, secondary threshold or more)."""
    with disclosure_audit.SOLVER_LOCK:  # the solver's models are freed under the lock too
        found = list(_audit(values, sums, withheld, threshold)
                     .pinned(unless_zero=_not_available(withheld)))
    return found


def bounds(values: dict[Hashable, int], sums: list[tuple[tuple[Hashable, ...], Hashable]],
           withheld: dict[Hashable, str], threshold: int
           ) -> dict[Hashable, tuple[float, float]]:
    """For each withheld key, the least and greatest value consistent with what is shown;
    floors (never printed) only where the audit keeps them as counts (Audit.hidden)."""
    with disclosure_audit.SOLVER_LOCK:
        system = _audit(values, sums, withheld, threshold)
        found = {k: system.bounds(k) for k in system.hidden}
        del system  # its models freed under the lock
    return found
