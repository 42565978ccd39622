"""One group of withheld counts that sums join, and the linear programs over it: the least and
greatest value a reader can give each of its counts (disclosure_audit.Audit asks; this builds
the solver's model once for the group and solves it, or works a one-sum group out without
it)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable

import numpy as np

from dashboard.pack.reader_system import GroupParts
from dashboard.pack.sum_ranges import TOLERANCE, Limits, one_sum_ranges
from dashboard.pack.warm_start import LastBasis, start_from

# HiGHS's simplex_strategy values
CHOOSE_SIMPLEX, PRIMAL_SIMPLEX = 0, 4
# Solves with random signs, before each count's own (GroupProgram.spread_solutions)
SPREAD_SOLVES = 8
# ... in a group of at least so many counts (fewer are opened as cheaply one by one)
SPREAD_FROM = 24


class SolverGaveUp(RuntimeError):
    """HiGHS neither found a count's least or greatest value nor showed there is none."""


class GroupProgram:
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
