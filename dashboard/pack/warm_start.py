"""Each pass of a publication's audit starts its programs from the last pass's basis.

`Publication.protect` audits a quarter in passes, each with one more count withheld (or a
group widened to "[x]"), and each pass's system is built afresh: its largest group, at 1,000
referrals over seven years about 1,200 counts, was solved from nothing every pass, about
570 simplex iterations for its first solve, where a solve on a kept model takes a few dozen.
The passes' systems differ in a few counts and sums, so where a group's counts and sums stood
in the last pass, their places in its final basis (at a limit, or basic) are a good start:
HiGHS takes it as an "alien" basis, completing or repairing it where counts or sums are new
(a new count at its least value, a new sum basic). The basis decides only where the simplex
starts: every least and greatest value is the same (to the solver's tolerance, as from any
start; a solve that fails is solved again from scratch, GroupProgram.extreme), so no marker
can depend on it.

A sum is known by its place in the publication's audited sums, which do not change from pass
to pass (Publication._audited); a count by its key.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dashboard.pack.group_program import GroupProgram


@dataclass
class LastBasis:
    """Where each count (by key) and sum (by place) stood in the last pass's final bases."""

    counts: dict[Hashable, object] = field(default_factory=dict)
    sums: dict[int, object] = field(default_factory=dict)


def last_basis(groups: Iterable[GroupProgram]) -> LastBasis:
    """The final basis of every group a pass built a model for."""
    found = LastBasis()
    for group in groups:
        if group._model is None or group.sums is None:
            continue
        basis = group._model.getBasis()
        if not basis.valid:
            continue
        found.counts.update(zip(group.keys, basis.col_status))
        found.sums.update(zip(group.sums.tolist(), basis.row_status))
    return found


def start_from(model, group: GroupProgram, last: LastBasis | None) -> None:
    """Sets the model's starting basis from the last pass's, where any of its counts stood
    there (else HiGHS starts from its own, all sums basic)."""
    import highspy

    if last is None or group.sums is None or not any(k in last.counts for k in group.keys):
        return
    status = highspy.HighsBasisStatus
    least, greatest = status.kLower, status.kUpper
    counts = list(map(last.counts.get, group.keys))
    for at, (count, (_, high)) in enumerate(zip(counts, group.limits)):
        # new here, or at its greatest value where its marker now has none ("[x]")
        if count is None or (high is None and count == greatest):  # (an enum's == costs)
            counts[at] = least
    basis = highspy.HighsBasis()
    basis.col_status = counts
    basic = status.kBasic
    basis.row_status = [last.sums.get(s, basic) for s in group.sums.tolist()]
    basis.alien = True  # HiGHS completes it where it has too many or too few basic
    basis.valid = True
    model.setBasis(basis)  # where HiGHS refuses it, it starts from its own
