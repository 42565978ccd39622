"""Whether a new tracker snapshot holds much less than the one in force before it (far fewer
referrals, few of its people, or a column the one before fills left empty throughout): such a
snapshot is held back until the uploader confirms it."""

from __future__ import annotations

import datetime as dt

import duckdb

from dashboard import config
from dashboard.ingest.contract import load_contract
from dashboard.ingest.held_back import HeldBack, text_list
from dashboard.ingest.validation import IngestReport, PreparedUpload


class SnapshotShrinks(HeldBack):
    """A tracker snapshot holding much less than the one before it (far fewer referrals or
    people, or a column the one before fills left empty throughout): stored only once
    confirmed."""

    stores = "snapshot"

    def __init__(self, report: IngestReport, previous_id: int, previous_as_at: dt.date,
                 previous_rows: int, threshold: float,
                 emptied: tuple[tuple[str, int], ...] = (),
                 people_kept: tuple[int, int] | None = None):
        self.previous_id, self.previous_as_at = previous_id, previous_as_at
        self.previous_rows, self.new_rows, self.threshold = previous_rows, report.rows, threshold
        self.fewer = report.rows < threshold * previous_rows
        self.emptied = emptied  # (column, referrals the snapshot before fills it for)
        self.people_kept = people_kept  # (people kept, people in the snapshot before)
        super().__init__(report)

    def reason(self, file_name: str) -> str:
        """Why the snapshot is held back, naming the snapshot it was compared with."""
        before = (f"snapshot {self.previous_id} (as at {self.previous_as_at:%d/%m/%Y}), the "
                  "snapshot in force before it")
        parts = []
        if self.fewer:
            parts.append(f"{file_name} has {self.new_rows:,} referrals, fewer than "
                         f"{self.threshold:.0%} of the {self.previous_rows:,} in {before}. A "
                         "tracker lists every referral, so a snapshot this much smaller usually "
                         "means a cut-off or filtered export")
        if self.emptied:
            filled = "; ".join(f"{name} ({count:,})" for name, count in self.emptied)
            parts.append(f"{file_name} has nothing at all in "
                         f"{text_list([name for name, _ in self.emptied])}, which "
                         f"{'' if self.fewer else before + ', '}fills for this many referrals: "
                         f"{filled}. A column renamed, merged under one heading, left without "
                         "a header or filled by formulas that were never calculated is read as "
                         "empty, and those figures would drop to nothing")
        if self.people_kept:
            kept, was = self.people_kept
            parts.append(f"{file_name} keeps only {kept:,} of the {was:,} people (nominal IDs) "
                         f"in {before if not parts else 'that snapshot'}. A tracker keeps "
                         "every referral, so their IDs are most likely written another way now "
                         "(a prefix, a new format), and their crimes would leave the figures")
        return ". ".join(parts)

    def checks(self) -> str:
        """What to check before confirming."""
        checks = []
        if self.fewer:
            checks.append("Check that the export is the whole tracker (no filter, hidden rows "
                          "or cut-off file).")
        if self.emptied:
            checks.append("Check that those columns are in the file under their own headers "
                          "(the upload's report lists the headers it matched) and hold their "
                          "values.")
        if self.people_kept:
            checks.append("Check that the nominal IDs are written as in the snapshot before "
                          "(the same prefix and format), and as the Connect exports write "
                          "them.")
        return " ".join(checks)

    def confirm_when(self) -> str:
        """When the snapshot is right as it is."""
        really = []
        if self.fewer:
            really.append(f"the programme really has {self.new_rows:,} referrals now")
        if self.emptied:
            really.append("the tracker really no longer records "
                          + text_list([name for name, _ in self.emptied]))
        if self.people_kept:
            really.append("the tracker really no longer lists those people")
        return " and ".join(really)


# The snapshot a new one is compared with: the latest still in force as at the same date or
# earlier, of the same provenance (the first real upload is not compared with demo data).
PREVIOUS_SNAPSHOT_SQL = """
    select upload_id, as_at_date, row_count
    from uploads
    where kind = 'tracker' and is_demo = $is_demo and as_at_date <= $as_at
      and upload_id not in (select snapshot_id from snapshot_withdrawals)
    order by as_at_date desc, upload_id desc
    limit 1
"""

# A column the snapshot before fills for at least this many referrals and the new one leaves
# empty throughout is held back: fewer could be a column the programme has just stopped using.
EMPTIED_FROM = 5

# The tracker's optional columns, as the Data page names them, compared snapshot to snapshot
# (the required ones cannot be empty); age_band stands for the date of birth it comes from.
COMPARED_COLUMNS = {
    "officer": "Officer", "referral_source_detail": "Referral source detail",
    "offending_area": "Offending area", "status": "Status",
    "first_contact_date": "First contact date", "assessment_date": "Assessment date",
    "pre_admission_start_date": "Pre-admission start date",
    "rehab_assessment_date": "Rehab assessment date",
    "rehab_admission_date": "Rehab admission date", "rehab_facility": "Rehab facility",
    "rehab_exit_date": "Rehab exit date", "rehab_exit_reason": "Rehab exit reason",
    "outcome": "Outcome", "age_band": "Date of birth (for the age band)",
}


def filled_counts_sql(table: str) -> str:
    """For each compared column, how many rows of `table` fill it (an officer or status
    stored as the tracker's word for a blank cell is not filled)."""
    blank_as = {col.name: col.blank_as for col in load_contract("tracker").columns
                if col.blank_as}
    counts = []
    for name in COMPARED_COLUMNS:
        blank = blank_as.get(name)
        condition = (f"{name} is not null" if blank is None
                     else f"coalesce(lower({name}) <> '{blank.lower()}', false)")
        counts.append(f"count(*) filter ({condition})")
    return f"select {', '.join(counts)} from {table}"  # noqa: S608 (identifiers and words from code)


def emptied_columns(con: duckdb.DuckDBPyConnection, previous_id: int
                    ) -> tuple[tuple[str, int], ...]:
    """Columns the snapshot before fills for EMPTIED_FROM referrals or more and the upload
    (`incoming`) leaves empty in every row: (name, referrals filled before)."""
    before = con.execute(filled_counts_sql("referrals") + " where snapshot_id = $id",
                         {"id": previous_id}).fetchall()[0]
    now = con.execute(filled_counts_sql("incoming")).fetchall()[0]
    return tuple((title, was) for title, was, filled in zip(
        COMPARED_COLUMNS.values(), before, now, strict=True) if was >= EMPTIED_FROM and not filled)


# The people of the snapshot before, and how many of them the upload (`incoming`) still has.
PEOPLE_KEPT_SQL = """
    select count(*), count(i.nominal_id)
    from (select distinct nominal_id from referrals where snapshot_id = $id) p
    left join (select distinct nominal_id from incoming) i on i.nominal_id = p.nominal_id
"""

# The people kept are compared from this many in the snapshot before: fewer say little.
PEOPLE_KEPT_FROM = 20


def refuse_if_shrinking(con: duckdb.DuckDBPyConnection, prepared: PreparedUpload) -> None:
    """Raise SnapshotShrinks if this snapshot (read as `incoming`) has under
    O2R_SHRINK_THRESHOLD of the previous one's referrals, or of its people, or leaves empty a
    column the previous one fills."""
    threshold = config.shrink_threshold()
    report = prepared.report
    previous = con.execute(PREVIOUS_SNAPSHOT_SQL, {"is_demo": prepared.is_demo,
                                                   "as_at": report.as_at}).fetchall()
    if not previous:
        return
    emptied = emptied_columns(con, previous[0][0])
    before, kept = con.execute(PEOPLE_KEPT_SQL, {"id": previous[0][0]}).fetchall()[0]
    people_gone = before >= PEOPLE_KEPT_FROM and kept < threshold * before
    if report.rows < threshold * previous[0][2] or emptied or people_gone:
        raise SnapshotShrinks(report, *previous[0], threshold, emptied,
                              (kept, before) if people_gone else None)
