"""The fast disclosure audit withholds exactly what the first, plain one did.

`reference_protect` below is the engine's protection as it was before the audit was made
cheap: every withheld cell's least and greatest value solved one linear program at a time
with scipy's `linprog`, over the whole publication. Every quarter's publication of the demo
data and of the one-officer `small_db` is protected both ways, and the markers must match."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from scipy.optimize import linprog

from dashboard import pack
from dashboard.pack import disclosure, disclosure_audit, group_program, secondary
from dashboard.pack.disclosure import (
    FLOORS,
    NOT_AVAILABLE,
    SECONDARY,
    Protected,
    Publication,
    primary_marker,
)
from dashboard.pack.disclosure_audit import SOLVER_LOCK, Audit, SolverGaveUp, terms
from dashboard.pack.earlier_groups import keys_of
from dashboard.pack.group_program import GroupProgram
from dashboard.pack.reader_system import parts_of_rows
from dashboard.pack.sum_ranges import implied_floors, ranges_each_sum_allows
from dashboard.security.access import Viewer
from dashboard.store import database
from tests.test_scrutiny_disclosure import demo_quarters

# Circulated packs of every quarter, the part quarter too: a steering member may have them
# (the panel only whole quarters).
CIRCULATED = Viewer("Chair", "steering")


def equations(values, sums, column):
    """The sums touching the withheld keys (`column`: each one's place), as rows and targets
    of a linear program; every other key is a constant."""
    rows, targets = [], []
    for parts, total in sums:
        signed = terms(parts, total)  # a balance has cells on both sides
        if not any(k in column for k, _ in signed):
            continue
        row, constant = [0.0] * len(column), 0.0
        for key, sign in signed:
            if key in column:
                row[column[key]] += sign
            else:
                constant += sign * values[key]
        rows.append(row)
        targets.append(-constant)
    return rows, targets


def reference_bounds(values, sums, withheld, threshold, only=None):
    """Each withheld key's least and greatest value (those in `only`, where given)."""
    hidden = [k for k in values if k in withheld]
    column = {k: i for i, k in enumerate(hidden)}
    rows, targets = equations(values, sums, column)
    known = {primary_marker(threshold): (1, threshold - 1), SECONDARY: (threshold, None),
             NOT_AVAILABLE: (0, None), **FLOORS}
    limits = [known[withheld[k]] for k in hidden]
    out = {}
    for key, index in column.items():
        if only is not None and key not in only:
            continue
        found = []
        for sign in (1.0, -1.0):
            objective = [0.0] * len(hidden)
            objective[index] = sign
            result = linprog(objective, A_eq=rows or None, b_eq=targets or None, bounds=limits,
                             method="highs")
            found.append(sign * result.fun if result.status == 0 else
                         (float("inf") if sign < 0 else limits[index][0]))
        out[key] = (found[0], found[1])
    return out


def reference_audit(values, sums, withheld, threshold):
    def one_whole_number(low, high):
        return not math.isinf(high) and math.ceil(low - 1e-6) >= math.floor(high + 1e-6)
    if not any(k in withheld for k in values):
        return []
    # a floor is never printed; a cell withheld as not available matters pinned above 0
    return [k for k, (low, high) in reference_bounds(values, sums, withheld, threshold).items()
            if one_whole_number(low, high) and withheld[k] not in FLOORS
            and (withheld[k] != NOT_AVAILABLE or high >= 1 - 1e-6)]


def reference_protect(publication: Publication) -> dict:
    """Publication.protect(CONTROLLED) as it was: the whole audit rerun after each change."""
    earlier = publication.earlier  # printed by the last quarter's pack: never withheld here
    withheld = {k: primary_marker(publication.threshold) for k, v in publication.values.items()
                if k not in earlier and k not in publication.floors
                and disclosure.is_primary(v, publication.threshold)}
    withheld.update({k: marker for k, marker in earlier.items() if marker})
    withheld.update(publication.floors)
    beyond_reach = set()
    lines = publication._lines()  # every sum, those of earlier counts alone too
    without_floors = [line for line in lines if not any(withheld.get(k) in FLOORS
                                                        for k in line)]
    while True:
        secondary.widen(publication.values, earlier, withheld, without_floors)
        determined = [k for k in reference_audit(publication.values, publication.sums,
                                                 withheld, publication.threshold)
                      if k not in beyond_reach]
        if not determined:
            return {k: marker for k, marker in withheld.items() if k not in earlier}
        if not secondary.hide_beside(publication.values, earlier, determined[0], withheld,
                                     lines):
            tied = [k for k in secondary.tied_to(determined[0], without_floors)
                    if k not in earlier and withheld.get(k) not in (NOT_AVAILABLE, *FLOORS)
                    ] or [k for k in secondary.tied_to(determined[0], lines)
                          if k not in earlier and withheld.get(k) not in (NOT_AVAILABLE, *FLOORS)]
            for key in tied:
                withheld[key] = NOT_AVAILABLE
            if not tied:
                beyond_reach.add(determined[0])


def content_key(publication: Publication) -> tuple:
    """Everything a publication's protection depends on, in order."""
    return (publication.threshold, tuple(publication.values.items()), tuple(publication.sums),
            tuple(publication.earlier.items()))


def publications_of(db) -> list[Publication]:
    """Every distinct quarter's publication that the panel's packs protect."""
    seen: dict = {}
    real_protect = Publication.protect

    def recording(self, how=disclosure.CONTROLLED):
        seen.setdefault(content_key(self), copy.deepcopy(self))
        return real_protect(self, how)

    con = database.connect_read_only(db)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Publication, "protect", recording)
            for label in demo_quarters(con):
                pack.build_pack(con, CIRCULATED, label)
    finally:
        con.close()
    return list(seen.values())


@pytest.fixture(scope="module")
def demo_publications(demo_db_template):
    return publications_of(demo_db_template)


@pytest.fixture(scope="module")
def small_publications(small_db):
    return publications_of(small_db)


def assert_same_markers(publications: list[Publication]) -> None:
    assert publications
    for publication in publications:
        fast = publication.protect().withheld
        assert fast == reference_protect(publication)
        assert publication.protect().withheld == fast  # protecting changes nothing in it


def test_demo_quarters_withhold_what_the_plain_audit_withheld(demo_publications):
    assert any(len(p.values) > 50 for p in demo_publications)
    assert any(marker == SECONDARY for p in demo_publications
               for marker in reference_protect(p).values())
    assert_same_markers(demo_publications)


def test_small_db_quarters_withhold_what_the_plain_audit_withheld(small_publications):
    assert_same_markers(small_publications)


def test_a_changed_figure_is_protected_afresh(demo_publications):
    publication = copy.deepcopy(max(demo_publications, key=lambda p: len(p.values)))
    before = publication.protect().withheld
    key = next(k for k, v in publication.values.items()
               if v == 0 and k not in publication.earlier
               and not any(k in (*parts, total) for parts, total in publication.sums))
    publication.values[key] = 2  # a lone count, tied to no sum: now primary
    after = publication.protect()
    assert isinstance(after, Protected)
    assert after.withheld == {**before, key: "<5"}
    assert after.withheld == reference_protect(publication)


def random_publication(seed: int) -> Publication:
    """Two linked tables of small counts with row and column totals sharing a grand total:
    small enough that pinned cells, and groups withheld whole, come up often."""
    import random

    import pandas as pd

    chance = random.Random(seed)
    rows, columns = chance.randint(1, 4), chance.randint(1, 3)
    cells = [[chance.choice([0, 0, 1, 1, 2, 3, 4, 5, 6, 9, 14]) for _ in range(columns)]
             for _ in range(rows)]
    frame = pd.DataFrame(cells, index=[f"r{i}" for i in range(rows)],
                         columns=[f"c{j}" for j in range(columns)])
    frame["Total"] = frame.sum(axis=1)
    frame.loc["Total"] = frame.sum(axis=0)
    publication = Publication(chance.choice([3, 5]))
    publication.table("a", frame, total_row=True, total_column=True)
    split = frame.loc[frame.index[:-1], ["Total"]].copy()
    other = [chance.randint(0, int(v)) for v in split["Total"]]
    by_kind = pd.DataFrame({"x": other, "y": [int(v) - o for v, o in zip(split["Total"], other,
                                                                          strict=True)]},
                           index=split.index)
    by_kind.loc["Total"] = by_kind.sum(axis=0)
    publication.table("b", by_kind, total_row=True)
    for row in split.index:
        publication.total([("b", row, "x"), ("b", row, "y")], ("a", row, "Total"))
    return publication


def test_random_tables_withhold_what_the_plain_audit_withheld():
    markers = set()
    for seed in range(30):
        publication = random_publication(seed)
        expected = reference_protect(publication)
        assert publication.protect().withheld == expected, seed
        markers |= set(expected.values())
    assert markers == {"<5", "<3", SECONDARY, NOT_AVAILABLE}


def test_sessions_protecting_at_once_get_the_same_markers():
    from concurrent.futures import ThreadPoolExecutor

    publications = [random_publication(seed) for seed in range(60, 80)]
    expected = [reference_protect(p) for p in publications]
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(lambda p: p.protect().withheld, publications))
    assert found == expected


def test_the_groups_a_history_keeps_are_those_its_sums_give(demo_publications):
    # The audit takes earlier quarters' sums from the groups History extends quarter by
    # quarter: they must be exactly the groups found afresh from the publication's own sums.
    from dashboard.pack.earlier_groups import EarlierGroups

    kept = [p for p in demo_publications if p.earlier_groups is not None and p.history_sums]
    assert len(kept) > 3
    for publication in kept:
        fresh = EarlierGroups()
        fresh.extend(publication.sums[:publication.history_sums], publication.earlier)
        groups = publication.earlier_groups
        assert publication.history() is groups  # the audit takes the history's groups
        assert groups.count == fresh.count == publication.history_sums
        assert list(groups.position) == list(publication.values)[:publication.history_values]
        assert groups.withheld == {k: m for k, m in publication.earlier.items() if m}

        def partition(found):
            return {frozenset(found.sums_of[root]) for root in found.sums_of}
        assert partition(groups) == partition(fresh)
        withheld = {k: m for k, m in publication.earlier.items() if m}
        with_history = publication._audited(withheld)
        copied = copy.deepcopy(publication)
        copied.earlier_groups = None
        assert copied._audited(withheld)[:3] == with_history[:3]  # the sums, not how found
        assert copied._controlled() == publication._controlled()
        # The terms and single-sum ranges it kept as it grew are those of its sums afresh.
        history_terms = [terms(*line) for line in publication.sums[:publication.history_sums]]
        assert groups.terms == history_terms
        limits = disclosure._limits(publication.threshold)
        floors = {line[-1][0] for line in history_terms
                  if groups.withheld.get(line[-1][0]) in disclosure.FLOORS}
        assert groups.ranges(publication.values, limits, disclosure.FLOORS) == \
            ranges_each_sum_allows(history_terms, floors, groups.withheld, publication.values,
                                   groups.withheld, limits)


def test_a_group_of_one_sum_has_the_range_the_solver_finds():
    # A group of one sum is worked out from the other counts' ranges, not solved; the same sum
    # given twice makes a group the solver takes, with the same answer to find.
    import random

    chance = random.Random(7)
    compared = unbounded = 0
    for _ in range(400):
        size = chance.randint(1, 6)
        values = [chance.randint(0, 12) for _ in range(size)]
        signs = [chance.choice([1.0, 1.0, -1.0, 0.0]) for _ in range(size)]
        row = {i: sign for i, sign in enumerate(signs)}
        target = float(sum(sign * value for sign, value in zip(signs, values, strict=True)))
        limits = [chance.choice([(1, 4), (5, None), (0, None), (1, 2)]) for _ in range(size)]
        limits = [(low, high) if low <= value and (high is None or value <= high)
                  else (0, None) for (low, high), value in zip(limits, values, strict=True)]
        keys = [f"k{i}" for i in range(size)]
        by_sum = GroupProgram(keys, parts_of_rows([(row, target)]), limits)
        by_solver = GroupProgram(keys, parts_of_rows([(row, target), (dict(row), target)]), limits)
        with SOLVER_LOCK:
            for index in range(size):
                for sign in (1.0, -1.0):
                    worked_out, _ = by_sum.extreme(index, sign)
                    solved, _ = by_solver.extreme(index, sign)
                    assert (worked_out is None) == (solved is None), (row, limits, index, sign)
                    if solved is None:
                        unbounded += 1
                    else:
                        assert worked_out == pytest.approx(solved, abs=1e-6)
                        compared += 1
            del by_solver  # its model freed under the lock
    assert compared > 1000 and unbounded > 100


class _GivingUpOnce:
    """A solver that reports it gave up on its next solve, as HiGHS may (kUnknown); with
    `always`, on every solve."""

    def __init__(self, model, always: bool = False) -> None:
        self.model, self.gave_up, self.cleared, self.always = model, False, 0, always

    def __getattr__(self, name):
        return getattr(self.model, name)

    def getModelStatus(self):
        import highspy

        if self.always or not self.gave_up:
            self.gave_up = True
            return highspy.HighsModelStatus.kUnknown
        return self.model.getModelStatus()

    def clearSolver(self):
        self.cleared += 1
        return self.model.clearSolver()


def test_a_solve_the_solver_gives_up_on_is_solved_again_not_taken_as_no_bound():
    # "No greatest value" would call the count safe: a solve that neither found an optimum nor
    # showed there is none is run again from scratch.
    rows = [({0: 1.0, 1: 1.0, 2: 1.0}, 7.0), ({0: 1.0, 1: -1.0}, 0.0)]
    limits = [(1, 4), (1, 4), (0, None)]
    with SOLVER_LOCK:
        plain = GroupProgram(["a", "b", "c"], parts_of_rows(rows), limits)
        expected = [plain.extreme(index, sign) for index in range(3) for sign in (1.0, -1.0)]
        shaky = GroupProgram(["a", "b", "c"], parts_of_rows(rows), limits)
        shaky.extreme(0, 1.0)  # builds its model
        found = []
        for index in range(3):
            for sign in (1.0, -1.0):
                shaky._model = _GivingUpOnce(shaky._model.model if isinstance(
                    shaky._model, _GivingUpOnce) else shaky._model)
                found.append(shaky.extreme(index, sign))
                assert shaky._model.cleared == 1
        assert [value for value, _ in found] == pytest.approx(
            [value for value, _ in expected])
        assert expected[1][0] == pytest.approx(3.5) and expected[4][0] == pytest.approx(0.0)
        del plain, shaky


def test_a_count_the_solver_cannot_bound_is_taken_as_pinned():
    # Four withheld cells under shown totals, tied by four sums: were a failed solve read as
    # "no greatest value", the count would be called safe. It is taken as pinned instead, so
    # the caller withholds more.
    values = {"a": 2, "b": 3, "c": 9, "d": 8, "ab": 5, "cd": 17, "ac": 11, "bd": 11}
    sums = [(("a", "b"), "ab"), (("c", "d"), "cd"), (("a", "c"), "ac"), (("b", "d"), "bd")]
    withheld = {"a": "<5", "b": "<5", "c": "[c]", "d": "[c]"}
    limits = {"<5": (1, 4), "[c]": (5, None)}
    with SOLVER_LOCK:
        audit = Audit(values, sums, withheld, limits)
        group, _ = audit.group_of["a"]
        assert group.row_count() > 1  # solved by HiGHS, not worked out from one sum
        group.extreme(0, 1.0)  # builds its model
        group._model = _GivingUpOnce(group._model, always=True)
        group.looked_over = True  # no spreading solves: the count's own solves decide
        assert audit.is_pinned("a")
        with pytest.raises(SolverGaveUp):  # no bounds to report, rather than the widest
            audit.bounds("a")
        del audit, group


def least_of(publication: Publication, markers: dict, plus: tuple, minus: tuple) -> float:
    """The least the `plus` counts less the `minus` ones can come to, under every sum of the
    publication without a floor and what each marker says (a reader's system, floors aside)."""
    limits = disclosure._limits(publication.threshold)
    sums = [(parts, total) for parts, total in publication.sums
            if not any(markers.get(k) in disclosure.FLOORS for k in keys_of(parts, total))]
    hidden = sorted({k for line in sums for k in keys_of(*line) if k in markers}
                    | {k for k in (*plus, *minus) if k in markers}, key=repr)
    column = {k: i for i, k in enumerate(hidden)}
    rows, targets = equations(publication.values, sums, column)
    objective, constant = [0.0] * len(hidden), 0.0
    for keys, sign in ((plus, 1.0), (minus, -1.0)):
        for key in keys:
            if key in column:
                objective[column[key]] += sign
            else:
                constant += sign * publication.values[key]
    result = linprog(objective, A_eq=rows or None, b_eq=targets or None,
                     bounds=[limits[markers[k]] for k in hidden], method="highs")
    assert result.status == 0, result.message
    return result.fun + constant


def test_floors_the_history_leaves_out_are_implied_by_what_it_keeps(demo_publications):
    # A quarter's floor is left out of the history where the history's own sums already imply
    # it: the least its keys can come to under every other sum (no floor) is at its floor.
    checked = 0
    for publication in demo_publications:
        if publication.history() is None or not publication.floors:
            continue
        withheld = publication.protect().withheld
        left_out = publication.implied_floors(withheld)
        copied = copy.deepcopy(publication)
        copied.earlier_groups = None  # the quarter's own sums alone, as before 03/12
        assert copied.implied_floors(withheld) <= left_out
        markers = {**{k: m for k, m in publication.earlier.items() if m}, **withheld}
        for floor in left_out:
            least, keys, less = publication.floor_terms[floor]
            assert least_of(publication, markers, keys, less) >= least - 1e-6, floor
            checked += 1
        # the audit's own look at the floors, with the history's ranges, is the same as
        # working every sum out again
        audited, signed, _, settled = publication._audited(dict(markers))
        hidden = {k for line in signed for k, _ in line if k in markers}
        floors = {k for k in hidden if markers[k] in disclosure.FLOORS}
        limits = disclosure._limits(publication.threshold)
        known = publication.history().ranges(publication.values, limits, disclosure.FLOORS)
        assert implied_floors(signed, floors, hidden, publication.values, markers, limits,
                              known, settled) == \
            implied_floors(signed, floors, hidden, publication.values, markers, limits)
    assert checked > 20


def test_random_tables_withhold_what_the_plain_audit_withheld_with_spreading_solves(
        monkeypatch):
    # The random tables' groups are small: solved towards random directions first all the
    # same, they must withhold what the plain audit withheld.
    monkeypatch.setattr(group_program, "SPREAD_FROM", 2)
    spread, real_spread = [], GroupProgram.spread_solutions

    def counted(self):
        for solution in real_spread(self):
            spread.append(len(solution))
            yield solution
    monkeypatch.setattr(GroupProgram, "spread_solutions", counted)
    assert_same_markers([random_publication(seed) for seed in range(30)])
    assert len(spread) > 50


def test_counts_seen_open_in_a_pass_are_open_then_and_in_the_last_pass(
        monkeypatch, demo_publications):
    # Publication.protect does not look again at a count seen open in an earlier pass
    # (Audit.seen_open): withholding more only lets a reader's values range further. Each
    # count so carried is open, by the plain audit's own linear programs, under the markers
    # of the pass that saw it and under the last pass's (the widest); and the carrying
    # happens.
    monkeypatch.setattr(group_program, "SPREAD_FROM", 2)
    passes, real_audit, real_seen_open = [], disclosure._audit, Audit.seen_open

    def audit_recorded(values, sums, withheld, *args):
        passes.append([dict(withheld), set()])
        return real_audit(values, sums, withheld, *args)

    def seen_open_recorded(self):
        passes[-1][1] = real_seen_open(self)
        return passes[-1][1]
    monkeypatch.setattr(disclosure, "_audit", audit_recorded)
    monkeypatch.setattr(Audit, "seen_open", seen_open_recorded)
    publications = [random_publication(seed) for seed in range(30)]
    publications += sorted(demo_publications, key=lambda p: len(p.values))[-2:]
    checked = 0

    def assert_open(publication, withheld, keys):
        ranges = reference_bounds(publication.values, publication.sums, withheld,
                                  publication.threshold, only=keys)
        for key in keys:
            low, high = ranges[key]
            assert math.isinf(high) or math.ceil(low - 1e-6) < math.floor(high + 1e-6), key
        return len(keys)
    for publication in publications:
        passes.clear()
        publication.protect()
        carried: set = set()
        for withheld, opened in passes:
            if opened - carried:
                checked += assert_open(publication, withheld, opened - carried)
            carried |= opened
        if carried:
            checked += assert_open(publication, passes[-1][0], carried)
    assert checked > 100


def test_a_carried_solution_is_used_only_where_every_sum_holds():
    # Counts a (earlier, withheld "<5") and b (this quarter's) with a + b = 6 and a = e, e an
    # earlier count also withheld: a solution carried from the last quarter moves a and e
    # together, or a alone (no longer a solution: a = e fails whatever b is).
    from dashboard.pack.carried_solutions import completed

    keys = ["a", "e", "b"]
    rows = [({0: 1.0, 2: 1.0}, 6.0), ({0: 1.0, 1: -1.0}, 0.0)]
    group = GroupProgram(keys, parts_of_rows(rows), [(1, 4), (1, 4), (0, None)])
    group.exact = np.array([2.0, 2.0, 4.0])
    place = {"e": 2, "a": 5}  # the history's counts, in another order than the group's
    together = (np.array([5, 2]), np.array([4.0, 4.0]))
    a_alone = (np.array([5]), np.array([3.0]))
    with SOLVER_LOCK:
        found = list(completed(group, [a_alone, together], place))
    assert len(found) == 1
    assert found[0] == pytest.approx([4.0, 4.0, 2.0])


def test_solutions_carried_from_the_last_quarter_are_solutions_of_this_one(
        monkeypatch, demo_publications):
    # Every carried solution the audit uses is, by the plain audit's own equations, values a
    # reader cannot rule out under the markers of that pass: every sum holds and every count
    # is within what its marker says. And carrying saves solving.
    from dashboard.pack import carried_solutions

    used, passes, real_audit = [], [], disclosure._audit
    real_completed = disclosure_audit.completed

    def audit_recorded(values, sums, withheld, *args):
        passes.append(dict(withheld))
        return real_audit(values, sums, withheld, *args)

    def completed_recorded(group, carried, place, seen_open=None):
        for solution in real_completed(group, carried, place, seen_open):
            used.append((passes[-1], dict(zip(group.keys, solution.tolist(), strict=True))))
            yield solution
    monkeypatch.setattr(disclosure, "_audit", audit_recorded)
    monkeypatch.setattr(disclosure_audit, "completed", completed_recorded)
    publications = [p for p in demo_publications if p.history() is not None]
    for publication in publications:
        used.clear()
        passes.clear()
        publication.protect()
        limits = {primary_marker(publication.threshold): (1, publication.threshold - 1),
                  SECONDARY: (publication.threshold, None), NOT_AVAILABLE: (0, None), **FLOORS}
        for withheld, moved in used:
            values = {**publication.values, **moved}
            for parts, total in publication.sums:
                signed = terms(parts, total)
                floor = signed[-1][0]  # a floor is the last key of its one sum
                if withheld.get(floor) in FLOORS and floor not in moved:
                    # left out of the audit, implied: it holds at some value in its range
                    rest = sum(sign * values[k] for k, sign in signed[:-1])
                    assert rest >= limits[withheld[floor]][0] - 1e-6, (parts, total)
                    continue
                assert sum(sign * values[k] for k, sign in signed) == \
                    pytest.approx(0, abs=1e-6), (parts, total)
            for key, value in moved.items():
                low, high = limits[withheld[key]]
                assert low - 1e-6 <= value and (high is None or value <= high + 1e-6), key
        if len(used) > 10:
            break
    assert len(used) > 10
    # the same publication without carrying solves the whole group's program more often
    solves, real_extreme, real_spread = [], GroupProgram.extreme, GroupProgram.spread_solutions

    def extreme_counted(self, index, sign):
        solves.append(index)
        return real_extreme(self, index, sign)

    def spread_counted(self):
        for solution in real_spread(self):
            solves.append(None)
            yield solution
    monkeypatch.setattr(GroupProgram, "extreme", extreme_counted)
    monkeypatch.setattr(GroupProgram, "spread_solutions", spread_counted)
    monkeypatch.setattr(disclosure_audit, "completed", real_completed)
    carrying = publication.protect().withheld
    with_carried = len(solves)
    solves.clear()
    monkeypatch.setattr(carried_solutions, "MOST_KEPT", 0)
    monkeypatch.setattr(disclosure_audit, "completed", lambda *args: iter(()))
    assert publication.protect().withheld == carrying
    assert len(solves) > with_carried


def test_solutions_moving_many_counts_are_looked_for_in_the_first_pass_only(
        monkeypatch, demo_publications):
    # Carried and spread solutions are looked for in a publication's first pass; the passes
    # after look at the counts left closed by their own solves (the markers are the plain
    # audit's all the same: test_demo_quarters_withhold_what_the_plain_audit_withheld).
    monkeypatch.setattr(group_program, "SPREAD_FROM", 2)
    passes, explored = [], []
    real_audit, real_completed = disclosure._audit, disclosure_audit.completed
    real_spread = GroupProgram.spread_solutions

    def audit_counted(*args):
        passes.append(len(passes))
        return real_audit(*args)

    def completed_counted(group, carried, place, seen_open=None):
        explored.append(passes[-1])
        yield from real_completed(group, carried, place, seen_open)

    def spread_counted(self):
        explored.append(passes[-1])
        yield from real_spread(self)
    monkeypatch.setattr(disclosure, "_audit", audit_counted)
    monkeypatch.setattr(disclosure_audit, "completed", completed_counted)
    monkeypatch.setattr(GroupProgram, "spread_solutions", spread_counted)
    several = 0
    for publication in demo_publications:
        passes.clear()
        explored.clear()
        publication.protect()
        assert set(explored) <= {0}
        several += len(passes) > 1 and bool(explored)
    assert several > 3


def test_counts_found_not_pinned_in_a_pass_are_not_pinned_in_the_last_pass(
        monkeypatch, demo_publications):
    # Publication.protect does not look again at a count a pass found not pinned
    # (Audit.not_pinned), those no solution shows open among them: by the plain audit's own
    # linear programs each is still not pinned under the last pass's markers (the widest),
    # where a count withheld as not available may be pinned at 0.
    passes, real_audit = [], disclosure._audit

    def audit_recorded(values, sums, withheld, *args):
        system = real_audit(values, sums, withheld, *args)
        passes.append((dict(withheld), system))
        return system
    monkeypatch.setattr(disclosure, "_audit", audit_recorded)
    publications = [random_publication(seed) for seed in range(30)]
    publications += sorted(demo_publications, key=lambda p: len(p.values))[-2:]
    checked = 0
    for publication in publications:
        passes.clear()
        publication.protect()
        found = set().union(*(system.not_pinned for _, system in passes[:-1]))
        if not found:
            continue
        last = passes[-1][0]
        ranges = reference_bounds(publication.values, publication.sums, last,
                                  publication.threshold, only=found)
        for key in found:
            low, high = ranges[key]
            two_numbers = math.isinf(high) or math.ceil(low - 1e-6) < math.floor(high + 1e-6)
            assert two_numbers or (last[key] == NOT_AVAILABLE and high < 1 - 1e-6), key
        checked += len(found)
    assert checked > 100


def test_each_pass_starts_from_the_last_pass_basis(monkeypatch, demo_publications):
    # The demo's chained quarters, protected with each pass's programs started from the last
    # pass's basis and from HiGHS's own: the same markers (the plain audit's:
    # test_demo_quarters_withhold_what_the_plain_audit_withheld), in fewer simplex
    # iterations.
    import highspy

    iterations, real_run = [0], highspy.Highs.run

    def counted(model):
        status = real_run(model)
        iterations[0] += model.getInfo().simplex_iteration_count
        return status
    monkeypatch.setattr(highspy.Highs, "run", counted)
    chained = [p for p in demo_publications if p.history() is not None]
    warm = [p.protect().withheld for p in chained]
    warm_iterations, iterations[0] = iterations[0], 0
    monkeypatch.setattr(group_program, "start_from", lambda *_: None)
    assert [p.protect().withheld for p in chained] == warm
    assert warm_iterations < 0.85 * iterations[0]


def test_a_pass_starts_each_count_and_sum_where_the_last_pass_left_it():
    # Counts and sums the last pass had keep their places in its basis; a new count starts
    # at its least value, a new sum basic, and a count the last pass left at its greatest
    # value whose marker now has none ("[x]") at its least.
    import highspy

    from dashboard.pack.warm_start import LastBasis, start_from

    status = highspy.HighsBasisStatus
    rows = [({0: 1.0, 1: 1.0, 2: 1.0}, 9.0), ({1: 1.0, 3: -1.0}, 0.0)]
    parts = parts_of_rows(rows)
    parts.sums = np.array([7, 3])
    group = GroupProgram(["a", "b", "c", "d"], parts, [(1, 4), (5, None), (0, None), (1, 4)])
    def read(at):  # as a model's getBasis gives them: equal to, not the same as, the names
        return status(int(at))
    last = LastBasis({"a": read(status.kUpper), "b": read(status.kBasic),
                      "c": read(status.kUpper)}, {7: read(status.kLower)})

    class Model:
        def setBasis(self, basis):
            self.basis = basis
    model = Model()
    start_from(model, group, last)
    assert model.basis.col_status == [status.kUpper, status.kBasic, status.kLower,
                                      status.kLower]
    assert model.basis.row_status == [status.kLower, status.kBasic]
    assert model.basis.alien
    untouched = Model()
    start_from(untouched, group, LastBasis({"z": status.kBasic}, {}))
    assert not hasattr(untouched, "basis")  # nothing of the group stood there: its own
