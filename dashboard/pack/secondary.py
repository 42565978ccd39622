"""Secondary suppression: which further cell to withhold beside one that could be worked out.

`disclosure.Publication.protect` withholds small counts, then, while a line of a sum has
exactly one withheld cell, its smallest non-zero shown cell (`widen`, the GSS rule of thumb);
where the audit still pins a cell, one more cell on its lines, or on the lines of the
withheld cells tied to it (`hide_beside`). A cell an earlier quarter printed is never
withheld again.
"""

from __future__ import annotations

from collections.abc import Container, Hashable

import numpy as np

from dashboard.pack.markers import SECONDARY
from dashboard.pack.reader_system import SumTerms

Line = tuple[Hashable, ...]


def hide_smallest(values: dict[Hashable, int], earlier: Container[Hashable], line: Line,
                  withheld: dict) -> bool:
    """Withholds the line's smallest non-zero shown cell, if it has one."""
    candidates = [k for k in line if k not in withheld and k not in earlier and values[k] > 0]
    if not candidates:
        return False
    # The smallest keeps most information; the key's text breaks ties, so the choice
    # never depends on the order figures were added in.
    pick = min(candidates, key=lambda k: (values[k], repr(k)))
    withheld[pick] = SECONDARY
    return True


def widen(values: dict[Hashable, int], earlier: Container[Hashable], withheld: dict,
          lines: list[Line]) -> None:
    """Until no line has exactly one withheld cell (where another can be withheld)."""
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(k in withheld for k in line) == 1 and \
                    hide_smallest(values, earlier, line, withheld):
                changed = True


def tied_to(key: Hashable, lines: list[Line]) -> set[Hashable]:
    """Every key joined to `key` through the sums (`lines`, their keys)."""
    # Each key's lines, found once: a publication carries every earlier quarter's sums,
    # and walking all of them for each step outwards was a tenth of a first pack's audit.
    lines_of: dict[Hashable, list[Line]] = {}
    for line in lines:
        for k in line:
            lines_of.setdefault(k, []).append(line)
    found, frontier = {key}, [key]
    while frontier:
        reached = {k for f in frontier for line in lines_of.get(f, ()) for k in line}
        frontier = list(reached - found)
        found.update(frontier)
    return found


def lines_of(lines: list[Line]) -> dict[Hashable, list[int]]:
    """Each key's lines, by their places in `lines`, in order."""
    found: dict[Hashable, list[int]] = {}
    for index, line in enumerate(lines):
        for k in line:
            found.setdefault(k, []).append(index)
    return found


def hide_beside(values: dict[Hashable, int], earlier: Container[Hashable], key: Hashable,
                withheld: dict, lines: list[Line],
                index: dict[Hashable, list[int]] | SumTerms | None = None) -> bool:
    """Withholds one more cell near `key`: on its own lines if any is left, else on the
    lines of the withheld cells it is tied to, and so on outwards. `index`: lines_of(lines),
    or the same sums as arrays (SumTerms, walked a step at a time over its arrays:
    _hide_beside_on_terms), where the caller keeps it (a long history's lines were walked
    whole for each step outwards, and indexed again for each cell withheld)."""
    if isinstance(index, SumTerms):
        return _hide_beside_on_terms(values, earlier, key, withheld, lines, index)
    index = lines_of(lines) if index is None else index
    reached, frontier = set(), {key}
    while frontier:
        reached |= frontier
        near = [lines[i] for i in sorted({i for k in frontier for i in index.get(k, ())})]
        for line in sorted(near, key=len):
            if hide_smallest(values, earlier, line, withheld):
                return True
        frontier = {k for line in near for k in line if k in withheld} - reached
    return False


def _hide_beside_on_terms(values: dict[Hashable, int], earlier: Container[Hashable],
                          key: Hashable, withheld: dict, lines: list[Line],
                          terms: SumTerms) -> bool:
    """hide_beside, each step outwards taken over the sums' arrays at once: in a long
    history's largest group a step reaches hundreds of sums, and looking at them a key at a
    time was a sixth of a first pack's audit. The same cell is withheld: the nearest sums
    first, the shortest of them first, then the first in order. `terms` is laid out from
    `lines` with the same values and earlier counts (which cells it may take)."""
    at = terms.index.get(key)
    if at is None:
        return False
    held = terms.marks(withheld)[:-1]
    # a sum has a cell hide_smallest could take: shown, not an earlier one's, above zero
    takeable = ~held & ~terms.earlier_key & (terms.value > 0)
    with_takeable = np.bincount(terms.term_sum, weights=takeable[terms.term_key],
                                minlength=len(terms)) > 0
    lengths = np.diff(terms.sum_starts)
    reached = np.zeros(len(held), dtype=bool)
    frontier = np.array([at])
    while len(frontier):
        reached[frontier] = True
        near = terms.sums_on(frontier)
        shortest_first = near[np.argsort(lengths[near], kind="stable")]
        takes = shortest_first[with_takeable[shortest_first]]
        if len(takes):
            return hide_smallest(values, earlier, lines[int(takes[0])], withheld)
        near_keys = terms.keys_on(near)
        frontier = np.unique(near_keys[held[near_keys] & ~reached[near_keys]])
    return False
