"""Whether a Connect upload fits the tracker. An export whose nominal IDs are written another
way (a prefix, a name beside the ID) joins nobody: its crimes would count in no figure, and
the crimes it shares with those stored would move to IDs on no tracker. Once stored, a Connect
upload cannot be withdrawn, so such an upload is held back until the uploader confirms it."""

from __future__ import annotations

import datetime as dt

import duckdb

from dashboard.ingest.held_back import HeldBack
from dashboard.ingest.validation import IngestReport, PreparedUpload
from dashboard.ui.text import counted

# The tracker: the latest snapshot in force of the upload's provenance (a real upload is not
# matched against demo data, which storing it removes), as the figures use it.
LATEST_TRACKER_SQL = """
    select upload_id, as_at_date
    from uploads
    where kind = 'tracker' and is_demo = $is_demo
      and upload_id not in (select snapshot_id from snapshot_withdrawals)
    order by as_at_date desc, upload_id desc
    limit 1
"""

# The upload's people, and how many of them the tracker refers.
PEOPLE_ON_THE_TRACKER_SQL = """
    select count(*), count(r.nominal_id)
    from (select distinct nominal_id from incoming) i
    left join (select distinct nominal_id from referrals where snapshot_id = $tracker) r
      on r.nominal_id = i.nominal_id
"""

# Stored crimes the upload would give another nominal ID: its record replaces one from an
# export taken as at the same date or earlier (merge_crimes). With no tracker in force, all of
# them; with one, those that leave a person on it for an ID not on it (the upload's rows with
# such IDs first, so an export that fits joins next to nothing). Demo crimes, which a real
# upload removes, are not counted for it.
CRIMES_GIVEN_ANOTHER_ID_SQL = """
    select count(*)
    from incoming i
    join crimes c on c.crime_reference = i.crime_reference
    join uploads u on u.upload_id = c.upload_id
    where c.nominal_id <> i.nominal_id and u.as_at_date <= $as_at and u.is_demo = $is_demo
"""
CRIMES_MOVED_OFF_THE_TRACKER_SQL = """
    with tracker as (select distinct nominal_id from referrals where snapshot_id = $tracker),
    off_it as (select crime_reference from incoming
               where nominal_id not in (select nominal_id from tracker))
    select count(*)
    from off_it i
    join crimes c on c.crime_reference = i.crime_reference
    join uploads u on u.upload_id = c.upload_id
    where c.nominal_id in (select nominal_id from tracker) and u.as_at_date <= $as_at
      and u.is_demo = $is_demo
"""


def share_on_the_tracker(on: int, people: int, file_name: str) -> str:
    """'Only 2 of the 5 people in F are on the tracker', 'None of the 1 person in F is …'."""
    everyone = counted(people, "person", "people")
    if on == 0:
        return f"None of the {everyone} in {file_name} {'is' if people == 1 else 'are'}"
    return f"Only {on:,} of the {everyone} in {file_name} {'is' if on == 1 else 'are'}"


class ConnectDoesNotFit(HeldBack):
    """A Connect upload fewer than half of whose people are on the tracker, or that would move
    stored crimes off people on it (or, with no tracker in force, give any stored crime
    another nominal ID)."""

    def __init__(self, report: IngestReport, tracker: tuple[int, dt.date] | None,
                 given_another_id: int, moved_off: int):
        self.people, self.on_tracker = report.people, report.people_on_tracker
        self.tracker, self.given_another_id, self.moved_off = tracker, given_another_id, moved_off
        super().__init__(report)

    def reason(self, file_name: str) -> str:
        if self.tracker is None:
            return (f"{counted(self.given_another_id, 'crime', 'crimes')} already stored "
                    f"{'has' if self.given_another_id == 1 else 'have'} another nominal ID in "
                    f"{file_name}: storing it moves them to this file's IDs, and no tracker "
                    "snapshot is in force to check those IDs against")
        snapshot, as_at = self.tracker
        parts = []
        if 2 * self.on_tracker < self.people:
            parts.append(f"{share_on_the_tracker(self.on_tracker, self.people, file_name)} on "
                         f"the tracker (snapshot {snapshot}, as at {as_at:%d/%m/%Y}, which the "
                         "figures use), so the crimes of the other "
                         f"{self.people - self.on_tracker:,} would count in no figure")
        if self.moved_off:
            which = "" if parts else f" (snapshot {snapshot})"
            parts.append(f"{counted(self.moved_off, 'crime', 'crimes')} already stored against "
                         f"people on the tracker{which} would move to nominal IDs in "
                         f"{file_name} that are not on it, and leave their figures")
        return ". ".join(parts)

    def checks(self) -> str:
        return ("Check that the export writes the nominal IDs as the tracker does (no prefix "
                "or suffix, no name beside the ID), and that the latest tracker is uploaded "
                "first.")

    def confirm_when(self) -> str:
        if self.tracker is None:
            return "the nominal IDs in this file really are right"
        return "these nominal IDs really are not on the tracker"


def check_fits_the_tracker(con: duckdb.DuckDBPyConnection, prepared: PreparedUpload,
                           confirmed: bool) -> None:
    """Set the report's count of people and of those on the tracker; unless confirmed, raise
    ConnectDoesNotFit if the upload would leave most of its people out of the figures, or move
    stored crimes out of them. Reads the upload as the view or table `incoming`."""
    report = prepared.report
    latest = con.execute(LATEST_TRACKER_SQL, {"is_demo": prepared.is_demo}).fetchall()
    tracker = latest[0] if latest else None
    report.people, report.people_on_tracker = con.execute(
        PEOPLE_ON_THE_TRACKER_SQL, {"tracker": tracker[0] if tracker else None}).fetchall()[0]
    if confirmed:
        return
    if tracker is None:
        given_another_id = con.execute(CRIMES_GIVEN_ANOTHER_ID_SQL, {
            "as_at": report.as_at, "is_demo": prepared.is_demo}).fetchall()[0][0]
        if given_another_id:
            raise ConnectDoesNotFit(report, None, given_another_id, 0)
        return
    moved_off = con.execute(CRIMES_MOVED_OFF_THE_TRACKER_SQL, {
        "tracker": tracker[0], "as_at": report.as_at, "is_demo": prepared.is_demo}
        ).fetchall()[0][0]
    if moved_off or 2 * report.people_on_tracker < report.people:
        raise ConnectDoesNotFit(report, tracker, 0, moved_off)
