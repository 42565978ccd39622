"""The disclosure audit's arrays against the plain walks they replaced: reader_system.split
finds the same groups, in the same order, with the same sums over the same counts; and
sum_ranges.implied_floors the same floors."""

import math
import random

import numpy as np
import pytest

from dashboard.pack.disclosure_audit import Side, terms
from dashboard.pack.earlier_groups import keys_of
from dashboard.pack.reader_system import SumTerms, split
from dashboard.pack.secondary import hide_beside, lines_of
from dashboard.pack.sum_ranges import implied_floors


def plain_split(signed_sums, values, hidden, left_out, earlier):
    """Each group as (its keys, its sums as {key: coefficient} with their targets, touched)."""
    position = {k: i for i, k in enumerate(hidden)}
    parent = list(range(len(hidden)))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    equations = []
    for signed in signed_sums:
        if signed[-1][0] in left_out:
            continue
        row, constant = {}, 0.0
        for key, sign in signed:
            if key in position:
                row[position[key]] = row.get(position[key], 0.0) + sign
            else:
                constant += sign * values[key]
        if row:
            first, *others = (root(i) for i in row)
            for other in others:
                parent[root(other)] = first
            equations.append((row, -constant, any(k not in earlier for k, _ in signed)))
    members = {}
    for i in range(len(hidden)):
        members.setdefault(root(i), []).append(i)
    groups = []
    for group_root, indices in members.items():  # in the order of each group's first count
        rows = [({hidden[i]: c for i, c in row.items()}, target)
                for row, target, _ in equations if root(next(iter(row))) == group_root]
        touched = any(hidden[i] not in earlier for i in indices) or any(
            touching for row, _, touching in equations if root(next(iter(row))) == group_root)
        groups.append(([hidden[i] for i in indices], rows, touched))
    return groups


def arrays_split(signed_sums, values, hidden, left_out, earlier):
    found = []
    for parts in split(SumTerms(signed_sums, values, earlier), hidden, left_out,
                       np.array([k in earlier for k in hidden], dtype=bool)):
        keys = [hidden[i] for i in parts.members]
        starts = parts.row_starts.tolist()
        rows = [({keys[c]: v for c, v in zip(parts.columns[a:b].tolist(),
                                               parts.coefficients[a:b].tolist(), strict=True)},
                 target) for a, b, target in zip(starts, starts[1:], parts.lower.tolist())]
        assert parts.upper.tolist() == parts.lower.tolist()  # no floors: every sum an equation
        found.append((keys, rows, parts.touched))
    return found


def test_split_finds_the_groups_and_sums_of_the_plain_walk():
    chance = random.Random(11)
    compared = 0
    for _ in range(300):
        keys = [f"k{i}" for i in range(chance.randint(1, 40))]
        values = {k: chance.randint(0, 30) for k in keys}
        sums = []
        for _ in range(chance.randint(0, 25)):
            parts = tuple(chance.choice(keys) for _ in range(chance.randint(1, 5)))  # repeats too
            sums.append((parts, chance.choice(keys)))
        signed = [terms(parts, total) for parts, total in sums]
        hidden = [k for k in keys if chance.random() < 0.5]
        earlier = {k for k in keys if chance.random() < 0.4}
        totals = [one[-1][0] for one in signed]
        left_out = {k for k in totals if k in hidden and chance.random() < 0.2}
        hidden = [k for k in hidden if k not in left_out]
        plain = plain_split(signed, values, hidden, left_out, earlier)
        assert arrays_split(signed, values, hidden, left_out, earlier) == plain
        # each key's sums, as hide_beside looks them up
        index, by_walk = SumTerms(signed, values), lines_of([keys_of(*one) for one in sums])
        assert {k: list(index.get(k)) for k in keys} == {k: by_walk.get(k, []) for k in keys}
        compared += sum(len(rows) > 1 for _, rows, _ in plain)
    assert compared > 100  # groups of several sums, not only single ones


def test_hide_beside_on_the_arrays_withholds_the_cell_the_plain_walk_withholds():
    chance = random.Random(17)
    outcomes = {True: 0, False: 0}
    for _ in range(400):
        keys = [f"k{i}" for i in range(chance.randint(1, 40))]
        values = {k: chance.choice((0, 0, 1, 2, 3, 7, 12)) for k in keys}
        sums = [(tuple(chance.choice(keys) for _ in range(chance.randint(1, 5))),
                 chance.choice(keys)) for _ in range(chance.randint(1, 30))]
        # balances (keys on either side) and a balance of nothing (0 = 0) too
        sums += [((chance.choice(keys),), Side((chance.choice(keys), chance.choice(keys))))
                 for _ in range(chance.randint(0, 3))]
        sums += [((), Side(()))] * chance.randint(0, 1)
        chance.shuffle(sums)
        lines = [keys_of(*one) for one in sums]
        earlier = {k for k in keys if chance.random() < 0.3}
        withheld = {k: "<5" for k in keys if chance.random() < chance.choice((0.3, 0.7, 0.95))}
        arrays = SumTerms([terms(*one) for one in sums], values, earlier)
        start = chance.choice([*withheld, *keys])
        by_walk, by_arrays = dict(withheld), dict(withheld)
        found = hide_beside(values, earlier, start, by_walk, lines)
        assert hide_beside(values, earlier, start, by_arrays, lines, arrays) == found
        assert by_arrays == by_walk
        outcomes[found] += 1
    assert min(outcomes.values()) > 50  # cells found near and far, and none left to take


def test_implied_floors_are_those_of_the_plain_walk():
    limits = {"<5": (1, 4), "[c]": (5, None), "[x]": (0, None), "listed": (1, None),
              "held": (0, None)}
    chance = random.Random(5)
    found = 0
    for _ in range(400):
        keys = [f"k{i}" for i in range(chance.randint(2, 30))]
        values = {k: chance.randint(0, 12) for k in keys}
        signed, floors = [], set()
        for n in range(chance.randint(1, 15)):
            parts = [chance.choice(keys) for _ in range(chance.randint(1, 5))]
            if chance.random() < 0.05:  # a balance of nothing (0 = 0)
                signed.append([])
            elif chance.random() < 0.05:  # a floor alone on its sum
                values[f"f{n}"] = 0
                floors.add(f"f{n}")
                signed.append([(f"f{n}", -1.0)])
            elif chance.random() < 0.5:  # a floor: the last key of its one sum
                floor = f"f{n}"
                values[floor] = sum(values[k] for k in parts)
                floors.add(floor)
                signed.append(terms(tuple(parts), floor))
            else:
                signed.append(terms(tuple(parts[:-1]) or (parts[0],), parts[-1]))
        hidden = {k for k in keys if chance.random() < 0.6} | floors
        withheld = {k: chance.choice(["<5", "[c]", "[x]"]) for k in hidden - floors}
        withheld.update({f: chance.choice(["listed", "held"]) for f in floors})
        known = {k: (chance.randint(0, 3), chance.choice([4, 8, math.inf]))
                 for k in hidden if chance.random() < 0.3}
        settled = chance.randint(0, len(signed))
        # a list of sums is walked term by term, as implied_floors always did
        plain = implied_floors(signed, floors, hidden, values, withheld, limits, known, settled)
        assert implied_floors(SumTerms(signed, values), floors, hidden, values, withheld,
                              limits, known, settled) == plain
        found += len(plain)
    assert found > 200
    # a floor alone on its sum, at least 0: implied by nothing at all, as the walk has it
    alone = [[("f", -1.0)]]
    for sums in (alone, SumTerms(alone, {"f": 0})):
        assert implied_floors(sums, {"f"}, {"f"}, {"f": 0}, {"f": "held"}, limits) == {"f"}


def test_floors_taken_out_of_their_sums_leave_every_other_count_its_range():
    # A floor (a never-printed count a reader knows only to be at least 0 or 1, the last key
    # of its one sum) is taken out of the audit's programs, its sum keeping the range it
    # leaves the others. Every other withheld count's least and greatest are those of the
    # program with the floor as a count of its own (scipy, from scratch).
    from scipy.optimize import linprog

    from dashboard.pack.disclosure_audit import SOLVER_LOCK, Audit
    from dashboard.pack.markers import FLOORS

    limits = {"<5": (1, 4), "[c]": (5, None), "[x]": (0, None), **FLOORS}
    at_least_0, at_least_1 = FLOORS
    chance = random.Random(3)
    compared = taken_out = 0
    for _ in range(80):
        rows, columns = chance.randint(2, 4), chance.randint(2, 4)
        cells = {(r, c): chance.choice([0, 1, 2, 3, 6, 9]) for r in range(rows)
                 for c in range(columns)}
        values, sums = dict(cells), []
        for r in range(rows):
            values[("row", r)] = sum(cells[r, c] for c in range(columns))
            sums.append((tuple((r, c) for c in range(columns)), ("row", r)))
        for c in range(columns):
            values[("column", c)] = sum(cells[r, c] for r in range(rows))
            sums.append((tuple((r, c) for r in range(rows)), ("column", c)))
        # "[x]" says nothing of a count's size: a floor above such counts alone says more
        withheld = {k: "[x]" if v == 0 or chance.random() < 0.5 else "<5" if v <= 4 else "[c]"
                    for k, v in cells.items() if chance.random() < 0.7}
        unsized = sorted(k for k, marker in withheld.items() if marker == "[x]")
        floors = []
        for n in range(chance.randint(1, 4)):
            pool = unsized if len(unsized) >= 2 and chance.random() < 0.8 else sorted(cells)
            parts = tuple(chance.sample(pool, chance.randint(2, min(4, len(pool)))))
            values[("floor", n)] = sum(values[k] for k in parts)
            sums.append((parts, ("floor", n)))
            floors.append(("floor", n))
        withheld.update({f: at_least_1 if values[f] >= 1 and chance.random() < 0.8
                         else at_least_0 for f in floors})
        if not any(k not in floors for k in withheld):
            continue
        hidden = [k for k in values if k in withheld]
        column = {k: i for i, k in enumerate(hidden)}
        equations, targets = [], []
        for parts, total in sums:
            row, constant = [0.0] * len(hidden), 0.0
            for key, sign in terms(parts, total):
                if key in column:
                    row[column[key]] += sign
                else:
                    constant += sign * values[key]
            if any(row):
                equations.append(row)
                targets.append(-constant)
        bounds = [limits[withheld[k]] for k in hidden]
        with SOLVER_LOCK:
            audit = Audit(values, sums, withheld, limits, floors=FLOORS)
            implied = implied_floors([terms(*one) for one in sums], set(floors), set(hidden),
                                     values, withheld, limits)
            # neither left out (implied by the other sums) nor a count of any group
            taken_out += sum(f not in implied and f not in audit.group_of for f in floors)
            for key in hidden:
                if key in floors:
                    continue
                expected = []
                for sign in (1.0, -1.0):
                    objective = [0.0] * len(hidden)
                    objective[column[key]] = sign
                    result = linprog(objective, A_eq=equations, b_eq=targets, bounds=bounds,
                                     method="highs")
                    expected.append(sign * result.fun if result.status == 0 else math.inf)
                assert audit.bounds(key) == (pytest.approx(expected[0]),
                                             pytest.approx(expected[1])), key
                compared += 1
            del audit
    assert compared > 200 and taken_out > 20


def test_a_floor_on_a_second_sum_stays_a_count():
    # Outside what Publication.no_less_than makes, but split must not take such a floor out.
    values = {"a": 2, "b": 3, "f": 5, "g": 7}
    signed = [terms(("a", "b"), "f"), terms(("f", "a"), "g")]
    hidden = ["a", "b", "f"]
    parts, = split(SumTerms(signed, values), hidden, floors={"f": (1, None)})
    assert parts.members.tolist() == [0, 1, 2] and len(parts.lower) == 2
    assert parts.lower.tolist() == parts.upper.tolist() == [0.0, 7.0]
    # on its one sum alone, it is taken out: the sum keeps a + b >= 1, f is in no group
    first, = split(SumTerms(signed[:1], values), hidden, floors={"f": (1, None)})
    assert first.members.tolist() == [0, 1]
    assert first.lower.tolist() == [1.0] and first.upper.tolist() == [math.inf]


def test_components_are_scipys_connected_components():
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from dashboard.pack.reader_system import components

    chance = np.random.default_rng(2)
    for _ in range(300):
        size = int(chance.integers(1, 200))
        links = int(chance.integers(0, 2 * size))
        one, other = chance.integers(0, size, links), chance.integers(0, size, links)
        if chance.random() < 0.3:  # long chains, as a history's floors make
            one = np.arange(size - 1)
            other = one + 1
            keep = chance.random(size - 1) < 0.9
            order = chance.permutation(int(keep.sum()))  # the links in any order
            one, other = one[keep][order], other[keep][order]
        found = components(size, one, other)
        _, expected = connected_components(coo_matrix(
            (np.ones(len(one)), (one, other)), shape=(size, size)), directed=False)
        # the same partition (labels may be numbered otherwise)
        pairs = set(zip(found.tolist(), expected.tolist(), strict=True))
        assert len(pairs) == len(set(found.tolist())) == len(set(expected.tolist()))
        assert sorted(set(found.tolist())) == list(range(len(set(found.tolist()))))


def test_a_balance_of_nothing_is_no_sum():
    # Publication.balance([], []) is accepted (0 = 0): the audit reads it as saying nothing.
    from dashboard.pack.disclosure_audit import SOLVER_LOCK, Audit, Side
    from dashboard.pack.markers import FLOORS

    at_least_1 = list(FLOORS)[1]
    limits = {"<5": (1, 4), **FLOORS}
    values = {"a": 2, "b": 3, "f": 5, "t": 5}
    for sums in ([((), Side(()))], [((), Side(())), (("a", "b"), "t")],
                 [(("a", "b"), "f"), ((), Side(())), (("a", "b"), "t")]):
        with SOLVER_LOCK:
            audit = Audit(values, sums, {"a": "<5", "b": "<5", "f": at_least_1}, limits,
                          floors=FLOORS)
            assert list(audit.pinned()) == []
            del audit


def test_keys_are_numbered_as_they_first_stand_on_a_sum_and_ranges_laid_out_by_number():
    values = {"a": 1, "b": 2, "c": 3, "z": 0}
    sums = SumTerms([terms(("b", "a"), "c"), terms(("a",), "a")], values)
    assert sums.index == {"b": 0, "a": 1, "c": 2}
    # a key on no sum is -1; any iterable of keys
    assert sums.numbers(k for k in ("c", "z", "b")).tolist() == [2, -1, 0]
    assert sums.marks({"a", "z"}).tolist() == [False, True, False, False]
    known = {"a": (0.0, 4.0), "z": (1.0, 2.0)}
    low, high = sums.by_number(known, keep=True)
    assert (low[1], high[1]) == (0.0, 4.0) and np.isnan(low[[0, 2]]).all()
    now_low, now_high = sums.by_number({"b": (5.0, math.inf)})
    assert (now_low[0], now_high[0]) == (5.0, math.inf) and np.isnan(now_high[1:]).all()
    # the kept layout is the same dictionary's, never another's with other ranges
    assert sums.by_number(known, keep=True)[0] is low
    other_low, _ = sums.by_number({"a": (2.0, 3.0)}, keep=True)
    again, _ = sums.by_number(known)
    assert other_low[1] == 2.0 and again is not low and again[1] == 0.0
    # ranges that grow in place (as the history's do) are laid out again, never stale
    kept, _ = sums.by_number(known, keep=True)
    known["b"] = (1.0, 3.0)
    grown_low, grown_high = sums.by_number(known, keep=True)
    assert grown_low is not kept and (grown_low[0], grown_high[0]) == (1.0, 3.0)
