"""Which accounts may be linked to which tracker officer names: an officer sees only the
referrals of the names linked to their account, so a name is linked to one active account at
a time, and "Unallocated" (the tracker's blank officer) to none."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dashboard.ingest.contract import UNALLOCATED, is_unallocated

if TYPE_CHECKING:
    from dashboard.security.accounts import User


def refuse_unallocated(officers: Sequence[str]) -> None:
    """ValueError if `officers` names "Unallocated", which stands for every referral with no
    officer: nobody's caseload."""
    if any(map(is_unallocated, officers)):
        raise ValueError(f"{UNALLOCATED!r} is not an officer: it stands for every referral "
                         "with no officer, which is nobody's caseload")


def listed(officers: Sequence[str]) -> str:
    """Officer names as the access log and the Users page list them: each quoted, with
    semicolons between, so that "Jones, P" reads as one name."""
    return "; ".join(f"“{officer}”" for officer in officers)


def refuse_shared_officer_names(con: sqlite3.Connection, name: str,
                                officers: Sequence[str]) -> None:
    """ValueError if another active account is linked to one of `officers` (in any case):
    an officer sees only their own caseload, and a name linked twice shows one officer's
    people to another."""
    wanted = {officer.casefold(): officer for officer in officers}
    for holder, officer in con.execute(
            "select o.name, o.officer_name from user_officers o join users u using (name) "
            "where u.active and u.name <> ? order by o.name, o.rowid", (name,)):
        if officer.casefold() in wanted:
            raise ValueError(
                f"The officer name {wanted[officer.casefold()]!r} is already linked to "
                f"the account {holder!r}: an officer sees only their own caseload. Unlink it "
                f"from {holder!r}, or revoke that account, first")


def shared_officer_names(users: Sequence[User]) -> dict[str, list[str]]:
    """Officer names (as first spelled) linked to more than one active account, with those
    accounts: left from before one name was held to one account, each sees the other's
    caseload until an administrator unlinks one."""
    holders: dict[str, list[tuple[str, str]]] = {}
    for user in users:
        if user.active:
            for officer in user.officer_names:
                holders.setdefault(officer.casefold(), []).append((officer, user.name))
    return {linked[0][0]: [name for _, name in linked]
            for linked in holders.values() if len(linked) > 1}


def unallocated_links(users: Sequence[User]) -> list[str]:
    """Active accounts linked to "Unallocated" from before that was refused (the link is
    unused: access.Viewer.scope leaves it out), for an administrator to unlink."""
    return [user.name for user in users
            if user.active and any(map(is_unallocated, user.officer_names))]
