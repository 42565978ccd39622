"""The DuckDB file: schema, atomic copy-on-write uploads, and read-only connections.

DuckDB 2.0 lets only one process hold a database file for writing, and none may write while
another reads it. So nothing ever writes the live file: a writer copies it, changes the copy
in one transaction, checkpoints, and renames the copy over the live file. Readers open the
file read-only and keep whatever version they opened; a crash mid-write leaves only a stray
copy, and the live file as it was. Writers take turns through an exclusive lock file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from dashboard.config import QUERIES_DIR
from dashboard.ingest import fast_csv
from dashboard.ingest.connect_checks import check_fits_the_tracker
from dashboard.ingest.snapshot_checks import refuse_if_shrinking
from dashboard.ingest.validation import LABEL_GROUPS, PreparedUpload
from dashboard.store.crime_merge import merge_crimes
from dashboard.store.facts import facts_current, refresh_facts
from dashboard.store.schema import CLEAR_UPLOADED_DATA, SCHEMA, WITHDRAWAL_REASONS
from dashboard.store.sql import install_macros, install_text_functions, quote_ident, spellings_table

MACROS_DIR = QUERIES_DIR / "macros"


TRACKER_COLUMNS = [
    "nominal_id", "referral_date", "officer", "referral_source", "referral_source_detail",
    "offending_area", "status", "first_contact_date", "assessment_date",
    "pre_admission_start_date", "rehab_assessment_date", "rehab_admission_date",
    "rehab_facility", "rehab_exit_date", "rehab_exit_reason", "outcome", "age_band",
]


# Tables come from the attached file; the shared macros (queries/macros/) from memory.
SEARCH_PATH = "set search_path = 'o2r.main,memory.main'"


def data_version(path: Path) -> tuple[int, int, int] | None:
    """Changes whenever an upload lands (each lands as a new file); None if no database."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the version of the database file current now."""
    # duckdb.connect(path) would hand back the process's cached instance of the file, which
    # still shows the version it first opened; a fresh in-memory instance attaching the file
    # reads the file as it is now.
    con = duckdb.connect(":memory:")
    con.execute("attach $path as o2r (read_only)", {"path": str(path)})
    if not facts_current(con, "o2r"):
        # A file written before the facts existed, or before they were built as they are now:
        # (re)build them once, then read that version.
        con.close()
        add_facts(path)
        return connect_read_only(path)
    install_macros(con, MACROS_DIR)  # into the in-memory catalog
    con.execute(SEARCH_PATH)
    con.execute("set enable_external_access = false")
    return con


def read_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor for one thread's work on a shared read-only connection."""
    cursor = con.cursor()
    cursor.execute(SEARCH_PATH)
    return cursor


@contextlib.contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def writing(path: Path, con: duckdb.DuckDBPyConnection | None = None
            ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a private copy; on clean exit the copy replaces the live file.

    Given `con` (the fast path's staging connection, ingest.prepare), the copy is attached to
    it as the default database, so the staged upload is stored without leaving DuckDB."""
    with writer_lock(path):
        remove_stale_copies(path)
        copy = path.with_name(f"{path.name}.writing-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        if path.exists():
            shutil.copyfile(path, copy)
        attached = con is not None
        if attached:
            con.execute("attach $path as o2r_store", {"path": str(copy)})
            con.execute("use o2r_store")
        else:
            con = duckdb.connect(str(copy))
        try:
            current = facts_current(con)
            if not current:  # facts built another way: their tables as they are now, first
                con.execute("drop table if exists crime_facts")
                con.execute("drop table if exists window_facts")
            for statement in SCHEMA:
                con.execute(statement)
            install_text_functions(con)
            if not current:  # a file from before the facts (or a new one): add them first
                refresh_facts(con)
            yield con
            con.execute("checkpoint o2r_store" if attached else "checkpoint")
            release(con, attached)
            with open(copy, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(copy, path)
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.rollback()  # (an attached copy cannot be detached mid-transaction)
            with contextlib.suppress(duckdb.Error):
                release(con, attached)
            for leftover in (copy, Path(f"{copy}.wal")):
                leftover.unlink(missing_ok=True)
            raise


def release(con: duckdb.DuckDBPyConnection, attached: bool) -> None:
    if attached:
        con.execute("use memory")
        con.execute("detach o2r_store")
    else:
        con.close()


def remove_stale_copies(path: Path) -> None:
    # We hold the writer lock, so any copy still lying about belongs to a writer that died.
    for stale in path.parent.glob(f"{path.name}.writing-*"):
        stale.unlink(missing_ok=True)


def find_duplicate(con: duckdb.DuckDBPyConnection, kind: str, sha256: str) -> int | None:
    """The upload this exact file is already stored as, withdrawn snapshots aside: one is
    withdrawn as wrong (often its as-at date), and the same file may then be stored again."""
    return con.execute("select min(upload_id) from uploads where kind = $kind and sha256 = $sha "
                       "and upload_id not in (select snapshot_id from snapshot_withdrawals)",
                       {"kind": kind, "sha": sha256}).fetchall()[0][0]


def store_upload(path: Path, prepared: PreparedUpload, uploaded_by: str | None = None,
                 confirmed: bool = False) -> int:
    """Store a validated upload in one transaction; returns its upload id (existing if repeated).

    An upload to be looked at first (a tracker snapshot holding much less than the one before,
    a Connect export that does not fit the tracker) raises a HeldBack (nothing changed) unless
    `confirmed` says the uploader confirmed it.
    """
    report = prepared.report
    with writing(path, prepared.staged) as con:
        duplicate = find_duplicate(con, report.kind, report.sha256)
        if duplicate is not None:
            report.duplicate_of = duplicate
            raise DuplicateUpload(duplicate)
        if prepared.staged is None:
            con.register("incoming", prepared.clean)
        else:
            con.execute("create or replace temp view incoming as select * from clean")
        # Held back unless confirmed; checked under the writer lock, so no upload slips between.
        if report.kind == "tracker" and not confirmed:
            refuse_if_shrinking(con, prepared)
        elif report.kind == "connect":
            check_fits_the_tracker(con, prepared, confirmed)
        con.begin()
        upload_id = con.execute("select coalesce(max(upload_id), 0) + 1 from uploads"
                                ).fetchall()[0][0]
        if not prepared.is_demo:
            report.replaced_demo = clear_demo(con)
        con.execute(
            "insert into uploads values ($id, $kind, $file, $sha, $as_at, $rows, $at, $by, $demo)",
            {"id": upload_id, "kind": report.kind, "file": report.file_name,
             "sha": report.sha256, "as_at": report.as_at, "rows": report.rows,
             "at": dt.datetime.now().replace(microsecond=0),
             "by": uploaded_by or getpass.getuser(), "demo": prepared.is_demo})
        assign_labels(con, con.sql("select * from incoming").columns)
        if report.kind == "tracker":
            insert_referrals(con, upload_id)
        else:
            report.kept_later = merge_crimes(con, upload_id)
        drop_spellings(con)
        if prepared.staged is None:
            con.unregister("incoming")
        else:
            con.execute("drop view temp.incoming")
            fast_csv.staged_rows_stored(con)
        refresh_facts(con)
        con.commit()
    report.upload_id = upload_id
    return upload_id


def clear_demo(con: duckdb.DuckDBPyConnection) -> bool:
    """Before the first real upload the synthetic demo data goes, in the same transaction: left,
    its snapshots and crimes were counted with the real ones on every page and in the pack.
    Whether there was demo data to clear."""
    if con.execute("select count(*) > 0 and bool_and(is_demo) from uploads").fetchall()[0][0]:
        for statement in CLEAR_UPLOADED_DATA:
            con.execute(statement)
        return True
    return False


class DuplicateUpload(Exception):
    """This exact file was stored before; nothing was changed."""

    def __init__(self, upload_id: int):
        super().__init__(f"already stored as upload {upload_id}")
        self.upload_id = upload_id


def assign_labels(con: duckdb.DuckDBPyConnection, columns: list[str]) -> None:
    """Give each new spelling-insensitive value one display spelling: the upload's commonest.

    Each labelled column's spellings (with how often and where first) are kept in a temp
    table, spellings_<column>, so the upload is read once for them (merge_crimes reads them)."""
    for column, group in LABEL_GROUPS.items():
        if column not in columns:
            continue
        col, spellings = quote_ident(column), spellings_table(column)
        con.execute(f"""
            create or replace temp table {spellings} as
            select {col} as spelling, count(*) as n, min(source_row) as first_row
            from incoming where {col} is not null
            group by all
        """)  # noqa: S608 - identifiers via quote_ident
        con.execute(f"""
            insert into labels
            with ranked as (
                select norm_key(spelling) as key, spelling,
                       row_number() over (partition by norm_key(spelling)
                                          order by n desc, first_row) as rank
                from {spellings}
                where norm_key(spelling) <> ''
            )
            select $group, key, spelling from ranked
            where rank = 1
              and key not in (select key from labels where label_group = $group)
        """, {"group": group})  # noqa: S608 - identifiers via quote_ident


def drop_spellings(con: duckdb.DuckDBPyConnection) -> None:
    for column in LABEL_GROUPS:
        con.execute(f"drop table if exists {spellings_table(column)}")


def labelled_select(columns: list[str], defaults: dict[str, str]) -> str:
    """SELECT over `incoming` with each labelled column replaced by its one display spelling."""
    # Each distinct value is looked up once, not once per row.
    ctes, joins, values = [], [], []
    for index, column in enumerate(columns):
        col = quote_ident(column)
        if column not in LABEL_GROUPS:
            values.append(f"i.{col}")
            continue
        group = LABEL_GROUPS[column]
        ctes.append(f"""m{index} as (
            select v.value, l.label
            from (select distinct {col} as value from incoming) v
            join labels l on l.label_group = '{group}' and l.key = norm_key(v.value))""")  # noqa: S608 (identifiers from code)
        joins.append(f"left join m{index} on m{index}.value = i.{col}")
        values.append(f"coalesce(m{index}.label, {defaults.get(column, 'null')})")
    with_clause = ("with " + ", ".join(ctes)) if ctes else ""
    return f"{with_clause} select {', '.join(values)} from incoming i {' '.join(joins)}"  # noqa: S608 (identifiers from code, values bound)


def insert_referrals(con: duckdb.DuckDBPyConnection, upload_id: int) -> None:
    select = labelled_select(["source_row", *TRACKER_COLUMNS], {"officer": "'Unallocated'"})
    con.execute(f"""
        insert into referrals (snapshot_id, source_row, {', '.join(TRACKER_COLUMNS)})
        select $upload_id, * replace (coalesce(status, 'Not recorded') as status)
        from ({select})
    """, {"upload_id": upload_id})  # noqa: S608 - identifiers via quote_ident


def add_facts(path: Path) -> None:
    with writing(path):
        pass  # a writer adds the facts to a file that has none


def withdraw_snapshot(path: Path, snapshot_id: int, who: str, reason: str) -> None:
    """Withdraw a tracker snapshot, for one of WITHDRAWAL_REASONS: kept, but no figure uses it."""
    if reason not in WITHDRAWAL_REASONS:
        raise ValueError("Choose why the snapshot is withdrawn, one of: "
                         f"{'; '.join(WITHDRAWAL_REASONS)}. A reason is chosen, not typed, so "
                         "that no free text is stored")
    with writing(path) as con:
        kind = con.execute("select kind from uploads where upload_id = $id",
                           {"id": snapshot_id}).fetchall()
        if not kind or kind[0][0] != "tracker":
            raise ValueError(f"There is no tracker snapshot {snapshot_id}")
        if con.execute("select count(*) from snapshot_withdrawals where snapshot_id = $id",
                       {"id": snapshot_id}).fetchall()[0][0]:
            raise ValueError(f"Snapshot {snapshot_id} is already withdrawn")
        con.execute("insert into snapshot_withdrawals values ($id, $at, $who, $reason)",
                    {"id": snapshot_id, "at": dt.datetime.now().replace(microsecond=0),
                     "who": who, "reason": reason})
        refresh_facts(con)  # the latest snapshot in force may have changed


def store_pack(path: Path, *, quarter: str, scheme: str, disclosure: str,
               snapshot_id: int | None, connect_upload_id: int | None, signed_off_by: str,
               pack_json: str) -> int:
    """Store a signed-off pack in one transaction; returns its pack id."""
    with writing(path) as con:
        con.begin()
        pack_id = con.execute("select coalesce(max(pack_id), 0) + 1 from packs").fetchall()[0][0]
        con.execute(
            "insert into packs values ($id, $quarter, $scheme, $disclosure, $snapshot, "
            "$connect, $by, $at, $json)",
            {"id": pack_id, "quarter": quarter, "scheme": scheme, "disclosure": disclosure,
             "snapshot": snapshot_id, "connect": connect_upload_id, "by": signed_off_by,
             "at": dt.datetime.now().replace(microsecond=0), "json": pack_json})
        con.commit()
    return pack_id
