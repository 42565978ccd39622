"""What each sum, taken alone, allows each withheld count: the disclosure audit's cheap look
before it solves anything.

A cell is no more than its shown total less the least the other cells on its sum can be, and
no less than the total less their greatest. Worked out for one sum at a time, these ranges
are wider than the linear programs' (disclosure_audit), never narrower, which is all the uses
here need: a group that is one sum is solved by them exactly; and a floor (a never-printed
count a reader knows to be at least 0 or 1) that the ranges already imply says nothing more,
so the audit can leave it out of the programs it solves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Container, Hashable, Sequence
from itertools import compress

import numpy as np

from dashboard.pack.reader_system import SumTerms

Limits = tuple[float, float | None]
# What "narrowed to one whole number" allows for the solver's rounding.
TOLERANCE = 1e-6


def one_sum_ranges(row: dict[int, float], target: float, limits: Sequence[Limits],
                   most: float | None = None) -> list[tuple[float, float]]:
    """Each count's least and greatest value under one sum (row . x = target, or from target
    to `most` where a floor was taken out of it: reader_system.split): what the sum leaves
    once every other count takes any value in its own range, within its own range."""
    most = target if most is None else most
    # Each count's own part of the sum at its least and greatest (an unbounded count's
    # part is infinite on one side); the others' part is the whole less its own.
    parts = {}
    for at, coefficient in row.items():
        if coefficient:
            low, high = limits[at]
            ends = (coefficient * low, coefficient * (math.inf if high is None else high))
            parts[at] = (min(ends), max(ends))
    finite_least = sum(least for least, _ in parts.values() if not math.isinf(least))
    finite_greatest = sum(greatest for _, greatest in parts.values()
                          if not math.isinf(greatest))
    unbounded_below = sum(math.isinf(least) for least, _ in parts.values())
    unbounded_above = sum(math.isinf(greatest) for _, greatest in parts.values())
    ranges = []
    for at, (low, high) in enumerate(limits):
        low, high = float(low), math.inf if high is None else float(high)
        if at in parts:
            own_least, own_greatest = parts[at]
            others_least = -math.inf if unbounded_below - math.isinf(own_least) else \
                finite_least - (0.0 if math.isinf(own_least) else own_least)
            others_greatest = math.inf if unbounded_above - math.isinf(own_greatest) else \
                finite_greatest - (0.0 if math.isinf(own_greatest) else own_greatest)
            coefficient = row[at]
            ends = ((target - others_greatest) / coefficient,
                    (most - others_least) / coefficient)
            low, high = max(low, min(ends)), min(high, max(ends))
        ranges.append((low, high))
    return ranges


def implied_floors(signed_sums: Sequence[list[tuple[Hashable, float]]] | SumTerms,
                   floors: set[Hashable], hidden: set[Hashable] | dict,
                   values: dict[Hashable, int], withheld: dict[Hashable, str],
                   limits: dict[str, Limits],
                   known: dict[Hashable, tuple[float, float]] | None = None,
                   settled: int = 0) -> set[Hashable]:
    """The floors whose sum says nothing that the other sums, taken one at a time, and the
    markers do not: a row listed with a "<5" in it has at least 1 anyway; an area's referrals
    since the first quarter, every column total shown, are far more than its assessments
    however its withheld cells lie. A floor is the last key of its one sum
    (disclosure.Publication.no_less_than), so leaving such sums out of a reader's system
    changes no count's bounds, and most groups stay one sum each (solved without the
    solver). `known`: the ranges the first `settled` sums allow (those of a history, which
    every later quarter would otherwise work out again; earlier_groups.EarlierGroups).
    signed_sums: the sums' terms, or laid out as arrays (reader_system.SumTerms) where the
    caller keeps them from one audit to the next."""
    signed = signed_sums.signed if isinstance(signed_sums, SumTerms) else signed_sums
    ranges = ranges_each_sum_allows(signed[settled:], floors, hidden, values, withheld, limits)
    known = known or {}

    def range_of(key: Hashable) -> tuple[float, float]:
        now, before = ranges.get(key), known.get(key)
        if now is None:
            return before or marker_range(limits, withheld, key)
        if before is None:
            return now
        return max(now[0], before[0]), min(now[1], before[1])

    if not isinstance(signed_sums, SumTerms):  # a quarter's own sums: too few for arrays
        return {one[-1][0] for one in signed
                if one and one[-1][0] in floors
                and _least_of_floor(one, hidden, values, range_of)
                >= limits[withheld[one[-1][0]]][0] - TOLERANCE}
    # Each floor's least value: its sum's other terms, each at its end that makes the floor
    # least (a shown count at its value), added in the sum's order (as _least_of_floor).
    sums = signed_sums
    is_floor = sums.marks(floors)
    on_floor = is_floor[sums.last_key][sums.term_sum] & ~sums.is_last
    weight = -sums.term_sign / sums.term_sign[sums.last_term[sums.term_sum]]
    low, high = sums.value.copy(), sums.value.copy()
    # the withheld counts on a floor's sum, each at the ends of its range (range_of: the
    # history's, narrowed by this publication's sums; its marker's where neither has one)
    on_a_floor_sum = np.unique(sums.term_key[on_floor])
    at = on_a_floor_sum[sums.marks(hidden)[on_a_floor_sum]]
    if len(at):
        known_low, known_high = sums.by_number(known, keep=True)
        now_low, now_high = sums.by_number(ranges)
        low[at], high[at] = np.fmax(known_low[at], now_low[at]), np.fmin(known_high[at],
                                                                         now_high[at])
        for k in at[np.isnan(low[at])].tolist():
            low[k], high[k] = marker_range(limits, withheld, sums.keys[k])
    term_key = sums.term_key
    with np.errstate(invalid="ignore"):  # a shown count is never unbounded
        part = np.where(weight > 0, weight * low[term_key], weight * high[term_key])
    least = np.bincount(sums.term_sum[on_floor], weights=part[on_floor], minlength=len(sums))
    floor_sums = np.nonzero(is_floor[sums.last_key])[0]
    floors_here = [sums.keys[k] for k in sums.last_key[floor_sums].tolist()]
    floors_least = np.fromiter((limits[withheld[k]][0] for k in floors_here), dtype=float,
                               count=len(floors_here))
    return set(compress(floors_here, (least[floor_sums] >= floors_least - TOLERANCE).tolist()))


def _least_of_floor(signed: list[tuple[Hashable, float]], hidden: Container[Hashable],
                    values: dict[Hashable, int],
                    range_of: Callable[[Hashable], tuple[float, float]]) -> float:
    """A floor's least value: the other terms of its sum (it is the last), each at its end
    that makes the floor least, a shown count at its value."""
    least, (_, own) = 0.0, signed[-1]
    for key, sign in signed[:-1]:
        weight = -sign / own
        if key not in hidden:
            least += weight * values[key]
            continue
        low, high = range_of(key)
        least += weight * (low if weight > 0 else high)
    return least


def marker_range(limits: dict[str, Limits], withheld: dict[Hashable, str], key: Hashable
                 ) -> tuple[float, float]:
    """What a withheld count's marker alone allows."""
    low, high = limits[withheld[key]]
    return float(low), math.inf if high is None else float(high)


def ranges_each_sum_allows(signed_sums: Sequence[list[tuple[Hashable, float]]],
                           floors: Container[Hashable], hidden: set[Hashable] | dict,
                           values: dict[Hashable, int], withheld: dict[Hashable, str],
                           limits: dict[str, Limits],
                           ranges: dict[Hashable, tuple[float, float]] | None = None
                           ) -> dict[Hashable, tuple[float, float]]:
    """The range of each withheld count on a sum without a floor: its marker's, narrowed by
    each such sum taken alone (a cell is no more than its shown total less the least of the
    others); into `ranges` where given (a count not on any is left to its marker)."""
    ranges = {} if ranges is None else ranges
    for signed in signed_sums:
        if not signed or signed[-1][0] in floors:  # a balance of nothing says nothing
            continue
        keys, row, constant = {}, {}, 0.0
        for key, sign in signed:
            if key in hidden:
                at = keys.setdefault(key, len(keys))
                row[at] = row.get(at, 0.0) + sign
            else:
                constant += sign * values[key]
        if not keys:
            continue
        own = [limits[withheld[key]] for key in keys]
        for key, (low, high) in zip(keys, one_sum_ranges(row, -constant, own), strict=True):
            was_low, was_high = ranges.get(key) or marker_range(limits, withheld, key)
            ranges[key] = (max(was_low, low), min(was_high, high))
    return ranges
