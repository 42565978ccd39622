"""Whether a Connect upload's people are on the tracker. An export whose nominal IDs are
written another way (a prefix, a name beside the ID) joins nobody: its crimes would count in
no figure, and the crimes it shares with those stored would move to IDs on no tracker. Such
an upload is held back until the uploader confirms it."""

from __future__ import annotations

import datetime as dt

import duckdb

from dashboard.ingest.held_back import HeldBack
from dashboard.ingest.validation import IngestReport, PreparedUpload

# The latest tracker snapshot in force of the upload's provenance (a real upload is not
# matched against demo data, which storing it removes).
LATEST_TRACKER_SQL = """
    select upload_id, as_at_date
    from uploads
    where kind = 'tracker' and is_demo = $is_demo
      and upload_id not in (select snapshot_id from snapshot_withdrawals)
    order by as_at_date desc, upload_id desc
    limit 1
"""

# The upload's people, and how many of them a tracker snapshot in force refers: the crimes of
# anyone else count in no figure.
PEOPLE_ON_A_TRACKER_SQL = """
    select count(*), count(r.nominal_id)
    from (select distinct nominal_id from incoming) i
    left join (select distinct nominal_id from referrals
               where snapshot_id in (select upload_id from uploads
                                     where kind = 'tracker' and is_demo = $is_demo)
                 and snapshot_id not in (select snapshot_id from snapshot_withdrawals)) r
      on r.nominal_id = i.nominal_id
"""

# Stored crimes the upload would give another nominal ID: its record replaces one from an
# export taken as at the same date or earlier (merge_crimes).
CRIMES_GIVEN_ANOTHER_ID_SQL = """
    select count(*)
    from incoming i
    join crimes c on c.crime_reference = i.crime_reference
    join uploads u on u.upload_id = c.upload_id
    where c.nominal_id <> i.nominal_id and u.as_at_date <= $as_at
"""


class PeopleNotOnTracker(HeldBack):
    """A Connect upload fewer than half of whose people are on a tracker snapshot in force."""

    def __init__(self, report: IngestReport, tracker_id: int, tracker_as_at: dt.date,
                 given_another_id: int):
        self.people, self.on_tracker = report.people, report.people_on_tracker
        self.tracker_id, self.tracker_as_at = tracker_id, tracker_as_at
        self.given_another_id = given_another_id
        super().__init__(report)

    def reason(self, file_name: str) -> str:
        said = (f"Only {self.on_tracker:,} of the {self.people:,} people in {file_name} are on "
                f"the tracker (snapshot {self.tracker_id}, as at {self.tracker_as_at:%d/%m/%Y}, "
                "and the snapshots in force before it), so the crimes of the other "
                f"{self.people - self.on_tracker:,} would count in no figure")
        if self.given_another_id:
            said += (f". {self.given_another_id:,} crimes already stored have another nominal "
                     "ID in this file: storing it moves them to this file's IDs")
        return said

    def checks(self) -> str:
        return ("Check that the export writes the nominal IDs as the tracker does (no prefix "
                "or suffix, no name beside the ID), and that the tracker listing these people "
                "is uploaded first.")

    def confirm_when(self) -> str:
        return "these people really are not on the tracker"


def count_people_on_a_tracker(con: duckdb.DuckDBPyConnection, prepared: PreparedUpload,
                              confirmed: bool) -> None:
    """Set the report's count of people and of those on a tracker snapshot in force; raise
    PeopleNotOnTracker, unless confirmed, if there is a tracker and fewer than half are on it.
    Reads the upload as the view or table `incoming`."""
    report = prepared.report
    params = {"is_demo": prepared.is_demo}
    report.people, report.people_on_tracker = con.execute(PEOPLE_ON_A_TRACKER_SQL,
                                                          params).fetchall()[0]
    if confirmed or 2 * report.people_on_tracker >= report.people:
        return
    latest = con.execute(LATEST_TRACKER_SQL, params).fetchall()
    if latest:  # with no tracker yet, the warning after storing says to upload one
        moved = con.execute(CRIMES_GIVEN_ANOTHER_ID_SQL, {"as_at": report.as_at}).fetchall()[0][0]
        raise PeopleNotOnTracker(report, *latest[0], moved)
