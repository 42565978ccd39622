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
- each group's program is built once and kept; only the objective changes between solves,
  and HiGHS starts each solve from the last one's basis (primal simplex, which that basis
  suits);
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

import numpy as np

from dashboard.pack.carried_solutions import Solution, completed, kept_solutions
from dashboard.pack.reader_system import GroupParts, SumTerms, split
from dashboard.pack.sum_ranges import TOLERANCE, Limits, implied_floors, one_sum_ranges
from dashboard.pack.warm_start import LastBasis, last_basis, start_from

Sums = Sequence[tuple[tuple[Hashable, ...], Hashable]]
# HiGHS shares one task scheduler between its instances, and instances run from several
# threads at once have been reported to crash it; Streamlit serves each session from its own
# thread, so every audit (its models built, solved and freed) holds this lock. A whole pack's
# audit takes a few tens of milliseconds, so sessions hardly wait.
SOLVER_LOCK = threading.RLock()
# HiGHS's simplex_strategy values
CHOOSE_SIMPLEX, PRIMAL_SIMPLEX = 0, 4
# Solves with random signs, before each count's own (_Group.spread_solutions)
SPREAD_SOLVES = 8
# ... in a group of at least so many counts (fewer are opened as cheaply one by one)
SPREAD_FROM = 24


class SolverGaveUp(RuntimeError):
    """HiGHS neither found a count's least or greatest value nor showed there is none."""


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


class _Group:
    """Withheld counts joined by sums, and the equations between them (compressed rows, as
    reader_system.split gives them; the solver's model built on first use)."""

    def __init__(self, keys: list[Hashable], parts: GroupParts, limits: list[Limits]) -> None:
        self.keys = keys
        self.row_starts, self.columns = parts.row_starts, parts.columns
        self.coefficients, self.lower, self.upper = parts.coefficients, parts.lower, parts.upper
        self.limits = limits
        self._model = None
        self.sums = parts.sums
        self.start: LastBasis | None = None  # the last pass's basis (warm_start)
        self._ranges: list[tuple[float, float]] | None = None
        self.looked_over = False  # looked at in this audit (its solutions then carried on)
        self.looked_at: list[int] = []  # its counts a pass of Audit.pinned looks at
        # the least and greatest value each count has been seen to take, and the solutions
        # seen (Audit._saw)
        self.exact = self.seen_low = self.seen_high = np.array([])
        self.solutions: list[np.ndarray] = []

    def row_count(self) -> int:
        return len(self.lower)

    def _highs(self):
        import highspy  # only a circulated publication needs the solver

        model = highspy.Highs()
        model.setOptionValue("output_flag", False)
        # Only the objective changes between solves, so the last basis stays feasible: primal
        # simplex goes on from it in a few iterations, where the default (dual, after a
        # presolve) took about ten times as many; the same optima, at a third of the time.
        # (The first solve starts from the last pass's basis, warm_start, which the changes
        # between passes may have left infeasible: the simplex's first phase mends it.)
        model.setOptionValue("presolve", "off")
        model.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
        inf = highspy.kHighsInf
        size = len(self.keys)
        lower = np.array([float(low) for low, _ in self.limits])
        upper = np.array([inf if high is None else float(high) for _, high in self.limits])
        none = np.array([], dtype=np.int32)
        model.addCols(size, np.zeros(size), lower, upper, 0, none, none, np.array([]))
        model.addRows(self.row_count(), self.lower.astype(float), self.upper.astype(float),
                      len(self.columns),
                      self.row_starts[:-1].astype(np.int32), self.columns.astype(np.int32),
                      self.coefficients.astype(float))
        start_from(model, self, self.start)
        self._indices = np.arange(size, dtype=np.int32)
        self._optimal = highspy.HighsModelStatus.kOptimal
        self._unbounded = (highspy.HighsModelStatus.kUnbounded,
                           highspy.HighsModelStatus.kUnboundedOrInfeasible)
        return model

    def extreme(self, index: int, sign: float) -> tuple[float | None, np.ndarray | None]:
        """The least (sign 1) or greatest (sign -1) value of one count, and a solution that
        reaches it where one was found (None where the value was worked out without one);
        (None, None) where there is no optimum (no greatest value: unbounded)."""
        if not self.row_count():  # a count on no sum with another withheld one: its marker's range
            low, high = self.limits[index]
            value = low if sign > 0 else high
            return (None, None) if value is None else (float(value), np.array([float(value)]))
        if self.row_count() == 1:
            return self._on_one_sum(index, sign), None
        if self._model is None:
            self._model = self._highs()
        objective = np.zeros(len(self.keys))
        objective[index] = sign
        self._model.changeColsCost(len(self.keys), self._indices, objective)
        self._model.run()
        # The exact counts satisfy every sum, so the program always has a solution, and it
        # can lack an optimum only where the count has no upper limit and is maximised. Any
        # other answer is the solver giving up, never "no greatest value", which would call
        # the count safe: it is solved again from scratch by the default method.
        may_be_unbounded = sign < 0 and self.limits[index][1] is None
        if not self._answered(may_be_unbounded):
            self._model.clearSolver()
            self._model.setOptionValue("simplex_strategy", CHOOSE_SIMPLEX)
            self._model.setOptionValue("presolve", "choose")
            self._model.run()
            self._model.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
            self._model.setOptionValue("presolve", "off")
            if not self._answered(may_be_unbounded):
                raise SolverGaveUp(f"{self.keys[index]!r}: {self._model.getModelStatus()}")
        if self._model.getModelStatus() != self._optimal:
            return None, None
        return (sign * self._model.getInfo().objective_function_value,
                np.asarray(self._model.getSolution().col_value))

    def _answered(self, may_be_unbounded: bool) -> bool:
        status = self._model.getModelStatus()
        return status == self._optimal or (may_be_unbounded and status in self._unbounded)

    def spread_solutions(self) -> Iterable[np.ndarray]:
        """Solutions far apart, found before any count's own solves: each moves many counts
        at once, so most are seen open without solves of their own (a group spanning a long
        history took a thousand solves, most of them to open one count each). Each pushes
        only the counts still to be seen open, each a random way (pushing every count of the
        group took more iterations to open fewer of them), and they stop once few are left:
        the caller sees each solution (Audit._saw) before the next is asked for. Which
        counts are pinned does not depend on them, only how many solves it takes to tell."""
        looked_at = np.array(self.looked_at, dtype=np.int64)

        def still_closed() -> np.ndarray:
            return looked_at[np.ceil(self.seen_low[looked_at] - TOLERANCE) >= np.floor(
                self.seen_high[looked_at] + TOLERANCE)]

        still = still_closed()
        if self.row_count() < 2 or len(still) < SPREAD_FROM:  # few: one by one
            return
        if self._model is None:
            self._model = self._highs()
        signs = np.random.default_rng(0)  # the same solves, run to run
        size = len(self.keys)
        for _ in range(SPREAD_SOLVES):
            objective = np.zeros(size)
            objective[still] = signs.choice((-1.0, 1.0), len(still))
            self._model.changeColsCost(size, self._indices, objective)
            self._model.run()
            if self._model.getModelStatus() == self._optimal:
                yield np.asarray(self._model.getSolution().col_value)
            still = still_closed()
            if len(still) < SPREAD_FROM:
                return

    def _on_one_sum(self, index: int, sign: float) -> float | None:
        """extreme()'s value where the group is one sum (see _ranges_on_one_sum); None where
        there is no greatest value, or no value at all, as for the solver."""
        if self._ranges is None:
            self._ranges = self._ranges_on_one_sum()
        low, high = self._ranges[index]
        if low > high + TOLERANCE:
            return None
        value = low if sign > 0 else high
        return None if math.isinf(value) else value

    def _ranges_on_one_sum(self) -> list[tuple[float, float]]:
        """Each count's least and greatest value where the group is one sum (one_sum_ranges).
        Most groups of a pack's tables are one row or column and its total; a program built
        and solved for each of them was half of what the audit cost."""
        row = dict(zip(self.columns.tolist(), self.coefficients.tolist()))
        return one_sum_ranges(row, float(self.lower[0]), self.limits, float(self.upper[0]))


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
        hidden = [k for k in (values if candidates is None else candidates) if k in withheld]
        self.floors = {k for k in hidden if withheld[k] in floors} if floors else set()
        if not isinstance(signed, SumTerms):
            signed = [terms(parts, total) for parts, total in sums] if signed is None else signed
            signed = SumTerms(signed, values, earlier)
        sum_terms, left_out = signed, set()
        if self.floors:
            left_out = implied_floors(sum_terms, self.floors, set(hidden), values,
                                      withheld, limits, known, settled)
            if left_out:  # each the last key of its one sum, left out with it
                hidden = [k for k in hidden if k not in left_out]
        self.group_of: dict[Hashable, tuple[_Group, int]] = {}
        self.untouched = set()
        for parts in split(sum_terms, hidden, left_out,
                           np.fromiter((k in earlier for k in hidden), dtype=bool,
                                       count=len(hidden)),
                           {k: limits[withheld[k]] for k in self.floors if k not in left_out}):
            keys = [hidden[i] for i in parts.members]
            group = _Group(keys, parts, [limits[withheld[k]] for k in keys])
            group.start = start
            for local, key in enumerate(keys):
                self.group_of[key] = (group, local)
            # Counts printed earlier whose sums this publication leaves as they were were
            # audited with those sums before: only groups it touches can be narrowed now.
            if not parts.touched:
                self.untouched.update(keys)
        # the floors split took out of their sums are in no group, as those left out above:
        # neither is among the counts whose bounds the audit answers
        self.hidden = [k for k in hidden if k in self.group_of]
        # The exact counts are themselves values a reader cannot rule out.
        for group in self._groups():
            group.exact = np.fromiter((values[k] for k in group.keys), dtype=float,
                                      count=len(group.keys))
            group.seen_low, group.seen_high = group.exact.copy(), group.exact.copy()

    def _groups(self) -> list[_Group]:
        return list({id(g): g for g, _ in self.group_of.values()}.values())

    @staticmethod
    def _saw(group: _Group, solution: np.ndarray) -> None:
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
        for group in self._groups():
            two_numbers = np.ceil(group.seen_low - TOLERANCE) < np.floor(
                group.seen_high + TOLERANCE)
            opened.update(k for k, is_open in zip(group.keys, two_numbers) if is_open)
        return opened

    def basis(self) -> LastBasis:
        """The final basis of each program this audit built, for the next pass to start
        from (warm_start)."""
        return last_basis(self._groups())

    def solutions_to_carry(self) -> list[tuple[list[Hashable], list[Solution]]]:
        """For each group looked at, its counts and the solutions to carry into the next
        quarter's audit (carried_solutions.kept_solutions)."""
        return [(group.keys, kept_solutions(group)) for group in self._groups()
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
