"""reader_system.split against the system worked out term by term, as the audit built it
before: the same groups, in the same order, with the same sums over the same counts."""

import random

import numpy as np

from dashboard.pack.disclosure_audit import terms
from dashboard.pack.reader_system import SumTerms, split


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
                 target) for a, b, target in zip(starts, starts[1:], parts.targets.tolist())]
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
        compared += sum(len(rows) > 1 for _, rows, _ in plain)
    assert compared > 100  # groups of several sums, not only single ones
