"""The disclosure audit's linear programming: how far a reader can narrow each withheld count.

A reader of a protected publication knows every shown count, every sum between counts and
what each marker says of the count behind it (a range of whole numbers). For a withheld
count, the least and greatest values consistent with all of that are two linear programs; if
only one whole number lies between them, the count is pinned down (disclosed).

Solving them one `scipy.optimize.linprog` call at a time cost about 1.6 ms each, nearly all
of it set-up, and a pack's eight quarters need a few thousand. Here, with the same solver
(HiGHS, through `highspy`), and the same answers:

- the withheld counts are split into groups that no sum joins (each table with its totals,
  usually): a group's least and greatest values do not depend on any other group, so each
  group is its own small program;
- each group's program (`group_program.GroupProgram`) is built once and kept; only the
  objective changes between solves, and HiGHS starts each solve from the last one's basis
  (primal simplex, which that basis suits);
- every solution found is a set of values a reader cannot rule out, for every count of its
  group at once, as are the exact counts themselves: a count seen at two values far enough
  apart that two whole numbers lie between them cannot be pinned, so its own solves are
  skipped; a large group is first solved a few times towards random directions, which sees
  most of its counts open at once (where enough of them are still to be looked at);
- withholding more only widens the values a reader cannot rule out, so a count seen open in
  one of `Publication.protect`'s passes is not looked at in the passes after (`Audit.seen_open`),
  and solutions that move many counts at once are looked for in its first pass only
  (`explore`);
- `Audit.pinned` stops at the first pinned count, which is all `Publication.protect` needs
  to choose what to withhold next.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Hashable, Iterable, Sequence
from itertools import compress, filterfalse, repeat

import numpy as np

from dashboard.pack.carried_solutions import Solution, completed, kept_solutions
from dashboard.pack.group_program import GroupProgram, SolverGaveUp
from dashboard.pack.reader_system import SumTerms, split
from dashboard.pack.sum_ranges import TOLERANCE, Limits, implied_floors
from dashboard.pack.warm_start import LastBasis, last_basis

Sums = Sequence[tuple[tuple[Hashable, ...], Hashable]]
# HiGHS shares one task scheduler between its instances, and instances run from several
# threads at once have been reported to crash it; Streamlit serves each session from its own
# thread, so every audit (its models built, solved and freed) holds this lock. A whole pack's
# audit takes a few tens of milliseconds, so sessions hardly wait.
SOLVER_LOCK = threading.RLock()


class Side(tuple):
    """The other side of a balance: keys whose sum equals the parts' sum (in a sum, where a
    total key usually stands)."""


def terms(parts: tuple[Hashable, ...], total: Hashable) -> list[tuple[Hashable, float]]:
    """A sum's keys with their signs in the equation parts - total = 0."""
    signed = [(k, 1.0) for k in parts]  # lists, not generators: a pack takes tens of thousands
    if isinstance(total, Side):
        signed += [(k, -1.0) for k in total]
    else:
        signed.append((total, -1.0))
    return signed


def one_whole_number(low: float, high: float) -> bool:
    """Whether only one whole number (or none) lies from low to high."""
    if math.isinf(high):
        return False
    return math.ceil(low - TOLERANCE) >= math.floor(high + TOLERANCE)


class Audit:
    """The reader's linear system for one publication with one set of withheld counts."""

    def __init__(self, values: dict[Hashable, int], sums: Sums,
                 withheld: dict[Hashable, str], limits: dict[str, Limits],
                 earlier: Iterable[Hashable] = (),
                 candidates: Iterable[Hashable] | None = None,
                 floors: Iterable[str] = (),
                 signed: list[list[tuple[Hashable, float]]] | SumTerms | None = None,
                 known: dict[Hashable, tuple[float, float]] | None = None,
                 settled: int = 0, carried: Sequence[Solution] = (),
                 place: dict[Hashable, int] | None = None, explore: bool = True,
                 start: LastBasis | None = None) -> None:
        """candidates: the keys, in the values' order, that may be withheld and matter here
        (default: every key); an earlier count on none of the sums can be left out, since
        it cannot be narrowed now (see untouched). floors: the markers of keys that are never
        printed, each the total of one sum that a reader knows only to be at least so much
        (disclosure.FLOORS); they are never reported as pinned. signed: the sums' terms, laid
        out as arrays (reader_system.SumTerms) where the caller keeps them from one audit to
        the next. known, settled: see
        sum_ranges.implied_floors. carried, place: solutions of the last quarter's audit,
        placed by the history's counts (carried_solutions). explore: whether a group is first
        looked at through solutions that move many of its counts at once (the carried ones,
        completed, then spread ones: _shown_open), or through its counts' own solves alone.
        start: the last pass's basis, which its programs start from (warm_start)."""
        if not isinstance(earlier, (set, frozenset, dict)):
            earlier = set(earlier)
        self.carried, self.place = carried, place or {}
        self.explore = explore
        # pinned()'s skip: counts an earlier pass saw open (or found beyond reach)
        self.seen_before: set[Hashable] = set()
        # Counts pinned() found not pinned. Withholding more only lets a reader's values
        # range further, so they stay so in Publication.protect's passes after: as with
        # seen_open, but counts no solution shows open too (pinned at 0 where that is
        # allowed, without a greatest value, alone on one sum).
        self.not_pinned: set[Hashable] = set()
        # (filter and map: each pass of Publication.protect walks a few thousand keys so)
        hidden = list(filter(withheld.__contains__, values if candidates is None else candidates))
        floors = set(floors or ())
        self.floors = set(compress(hidden, map(floors.__contains__, map(
            withheld.__getitem__, hidden)))) if floors else set()
        if not isinstance(signed, SumTerms):
            signed = [terms(parts, total) for parts, total in sums] if signed is None else signed
            signed = SumTerms(signed, values, earlier)
        sum_terms, left_out = signed, set()
        if self.floors:
            left_out = implied_floors(sum_terms, self.floors, set(hidden), values,
                                      withheld, limits, known, settled)
            if left_out:  # each the last key of its one sum, left out with it
                hidden = list(filterfalse(left_out.__contains__, hidden))
        self.group_of: dict[Hashable, tuple[GroupProgram, int]] = {}
        self.untouched = set()
        self.groups: list[GroupProgram] = []
        for parts in split(sum_terms, hidden, left_out,
                           np.fromiter(map(earlier.__contains__, hidden), dtype=bool,
                                       count=len(hidden)),
                           {k: limits[withheld[k]] for k in self.floors if k not in left_out}):
            keys = [hidden[i] for i in parts.members.tolist()]
            group = GroupProgram(keys, parts,
                                 list(map(limits.__getitem__, map(withheld.__getitem__, keys))))
            group.start = start
            self.groups.append(group)
            self.group_of.update(zip(keys, zip(repeat(group), range(len(keys)))))
            # Counts printed earlier whose sums this publication leaves as they were were
            # audited with those sums before: only groups it touches can be narrowed now.
            if not parts.touched:
                self.untouched.update(keys)
            # The exact counts are themselves values a reader cannot rule out.
            group.exact = np.fromiter(map(values.__getitem__, keys), dtype=float,
                                      count=len(keys))
            group.seen_low, group.seen_high = group.exact.copy(), group.exact.copy()
        # the floors split took out of their sums are in no group, as those left out above:
        # neither is among the counts whose bounds the audit answers
        self.hidden = list(filter(self.group_of.__contains__, hidden))

    @staticmethod
    def _saw(group: GroupProgram, solution: np.ndarray) -> None:
        group.solutions.append(solution)
        np.minimum(group.seen_low, solution, out=group.seen_low)
        np.maximum(group.seen_high, solution, out=group.seen_high)

    def _shown_open(self, key: Hashable) -> bool:
        """Two whole numbers lie between values the count has been seen to take."""
        group, index = self.group_of[key]
        if not group.looked_over and group.row_count():
            if self.explore:
                seen_open = np.array([k in self.seen_before for k in group.keys]) \
                    if self.seen_before else None
                for solution in completed(group, self.carried, self.place, seen_open):
                    self._saw(group, solution)
                for solution in group.spread_solutions():
                    self._saw(group, solution)
            group.looked_over = True
        return not one_whole_number(group.seen_low[index], group.seen_high[index])

    def seen_open(self) -> set[Hashable]:
        """The counts seen open so far (_shown_open). They stay open whatever is withheld
        next: a count withheld, or a marker widened to "[x]", only lets a reader's values
        range further (every solution seen still fits, the newly withheld count at its exact
        value), so Publication.protect does not look at them again in the passes after."""
        opened = set()
        for group in self.groups:
            two_numbers = np.ceil(group.seen_low - TOLERANCE) < np.floor(
                group.seen_high + TOLERANCE)
            opened.update(k for k, is_open in zip(group.keys, two_numbers) if is_open)
        return opened

    def basis(self) -> LastBasis:
        """The final basis of each program this audit built, for the next pass to start
        from (warm_start)."""
        return last_basis(self.groups)

    def solutions_to_carry(self) -> list[tuple[list[Hashable], list[Solution]]]:
        """For each group looked at, its counts and the solutions to carry into the next
        quarter's audit (carried_solutions.kept_solutions)."""
        return [(group.keys, kept_solutions(group)) for group in self.groups
                if group.looked_over]

    def bounds(self, key: Hashable) -> tuple[float, float]:
        """The least and greatest value of a withheld count consistent with what is shown."""
        group, index = self.group_of[key]
        found = []
        for sign in (1.0, -1.0):
            value, solution = group.extreme(index, sign)  # SolverGaveUp: no bound to give
            if solution is not None:
                self._saw(group, solution)
            found.append(value if value is not None else
                         (float("inf") if sign < 0 else group.limits[index][0]))
        return found[0], found[1]

    def is_pinned(self, key: Hashable, unless_zero: bool = False) -> bool:
        """Whether a reader can narrow the count to one whole number (unless_zero: to one
        above 0). A count the solver gives up on is taken as pinned: more is withheld, never
        less."""
        try:
            return self._pinned(key, unless_zero)
        except SolverGaveUp:
            return True

    def _pinned(self, key: Hashable, unless_zero: bool) -> bool:
        if self._shown_open(key):
            return False
        group, index = self.group_of[key]
        high, solution = group.extreme(index, -1.0)
        if high is None:  # no greatest value
            return False
        if unless_zero and high < 1 - TOLERANCE:
            return False
        if solution is not None:
            self._saw(group, solution)
            if self._shown_open(key):
                return False
        low, solution = group.extreme(index, 1.0)
        if low is None:
            low = group.limits[index][0]
        elif solution is not None:
            self._saw(group, solution)
        return one_whole_number(low, high)

    def pinned(self, skip: Iterable[Hashable] = (), unless_zero: Iterable[Hashable] = ()
               ) -> Iterable[Hashable]:
        """The pinned counts in the publication's order, found one at a time; those in
        `unless_zero` only where pinned above 0. Those found not pinned are kept
        (not_pinned)."""
        self.seen_before = skip = set(skip)
        skip, unless_zero = skip | self.untouched | self.floors, set(unless_zero)
        looked_at = [k for k in self.hidden if k not in skip]
        for key in looked_at:  # a group with few left to look at is not worth spreading
            group, index = self.group_of[key]
            group.looked_at.append(index)
        for key in looked_at:
            if self.is_pinned(key, key in unless_zero):
                yield key
            else:
                self.not_pinned.add(key)
