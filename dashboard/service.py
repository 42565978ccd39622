"""The one door for every change of stored state, used by the pages and the command line alike:
uploads, withdrawals, a pack's sign-off, targets and user accounts. Each change records its
entry in the access log (audit.record) as it is made; changes to the security file itself
(accounts, targets) record it in the same transaction there."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dashboard import config
from dashboard.ingest import fast_csv
from dashboard.ingest.held_back import HeldBack
from dashboard.ingest.validation import (
    IngestReport,
    PreparedUpload,
    UploadRejected,
    prepare,
)
from dashboard.security import accounts, audit
from dashboard.security.access import DEMO_UPLOADER
from dashboard.security.audit import Action, Actor, Who
from dashboard.security.security_file import security_db_path
from dashboard.store import database

# Uploads and withdrawals -----------------------------------------------------------------

def check_upload(kind: str, file_name: str, data: bytes, as_at: dt.date | None = None,
                 map_file: Path | None = None, use_column_map: bool = True) -> PreparedUpload:
    """Validates an export without storing anything; raises UploadRejected with the report."""
    return prepare(kind, file_name, data, as_at=as_at, map_file=map_file,
                   use_column_map=use_column_map)


def store_upload(db: Path, prepared: PreparedUpload, actor: Actor,
                 confirmed: bool = False) -> int:
    """Stores a checked upload as uploaded by `actor` and records it; returns its upload id.

    Raises database.DuplicateUpload or a HeldBack (unless confirmed), having changed nothing.
    The data is stored before it is recorded (the two files cannot share a transaction), so an entry
    never names an upload that did not happen; if the entry cannot be written, AccessLogError
    is raised with the upload stored."""
    refuse_demo(actor, DEMO_STORE)
    upload_id = database.store_upload(db, prepared, actor.name, confirmed=confirmed)
    report = prepared.report
    try:
        audit.record(actor, Action.UPLOAD, target=report.file_name,
                     detail=f"{report.kind} upload {upload_id}, {report.rows} rows, as at "
                            f"{report.as_at:%d/%m/%Y}")
    except audit.AccessLogError as exc:
        raise UploadNotLogged(report, upload_id) from exc
    return upload_id


class ChangeNotLogged(audit.AccessLogError):
    """The change was made, whole, but the access log could not record it: whoever made it
    must not be told that nothing changed, nor make it again. The message says which."""


class UploadNotLogged(ChangeNotLogged):
    def __init__(self, report: IngestReport, upload_id: int):
        self.report, self.upload_id = report, upload_id
        super().__init__(
            f"{report.file_name} was stored as upload {upload_id}, but the access log could "
            "not record it. The upload is complete: do not upload it again; tell the "
            "dashboard administrator, who can see the upload under Snapshots and uploads")


@dataclass(frozen=True)
class UploadOutcome:
    """What came of asking to store a checked upload: one of the three is set."""

    upload_id: int | None = None       # stored now, as this upload
    repeat_of: int | None = None       # this exact file was stored before: nothing changed
    held_back: HeldBack | None = None  # to be looked at first: stored only once confirmed


def upload(db: Path, prepared: PreparedUpload, actor: Actor,
           confirmed: bool = False) -> UploadOutcome:
    """Stores a checked upload, unless it repeats one or is held back unconfirmed, and records
    it."""
    try:
        return UploadOutcome(upload_id=store_upload(db, prepared, actor, confirmed))
    except database.DuplicateUpload as exc:
        return UploadOutcome(repeat_of=exc.upload_id)
    except HeldBack as exc:
        return UploadOutcome(held_back=exc)


def ingest_bytes(db: Path, kind: str, file_name: str, data: bytes | Path,
                 as_at: dt.date | None = None, uploaded_by: str | None = None,
                 map_file: Path | None = None, use_column_map: bool = True,
                 is_demo: bool = False, confirmed: bool = False) -> IngestReport:
    """Validate and store one export (its bytes, or the file on disk); raises UploadRejected
    (nothing changed) with the report.

    confirmed: the uploader confirmed an upload held back (a tracker snapshot much smaller than
    the one before, a Connect export whose people are mostly not on the tracker).
    A clean file read by the fast path is staged (its contract columns only) in a private
    folder, removed when the upload is stored or refused.
    """
    staging, prepared = fast_csv.new_staging_folder(), None
    try:
        prepared = prepare(kind, file_name, data, as_at=as_at, map_file=map_file,
                           use_column_map=use_column_map, staging=staging)
        prepared.is_demo = is_demo
        try:
            store_upload(db, prepared, Who(uploaded_by or accounts.login_name()),
                         confirmed=confirmed)
        except database.DuplicateUpload:
            pass  # the report says which upload it repeats
        return prepared.report
    finally:
        if prepared is not None and prepared.staged is not None:
            prepared.staged.close()
        shutil.rmtree(staging, ignore_errors=True)


def ingest_path(db: Path, kind: str, path: Path, **kwargs) -> IngestReport:
    """As ingest_bytes, reading the file where it is (a clean CSV is never read whole)."""
    return ingest_bytes(db, kind, path.name, path, **kwargs)


WITHDRAWAL_REASONS = database.WITHDRAWAL_REASONS


def withdraw_snapshot(db: Path, actor: Actor, snapshot_id: int, reason: str) -> None:
    """Withdraws a tracker snapshot found to be wrong (kept, but no figure uses it) and
    records why, one of WITHDRAWAL_REASONS; ValueError, changing nothing, for any other
    reason or no such snapshot."""
    refuse_demo(actor, DEMO_WITHDRAW)
    database.withdraw_snapshot(db, snapshot_id, actor.name, reason)
    try:
        audit.record(actor, Action.SNAPSHOT_WITHDRAW, target=f"snapshot {snapshot_id}",
                     detail=reason)
    except audit.AccessLogError as exc:
        raise ChangeNotLogged(
            f"Snapshot {snapshot_id} was withdrawn, but the access log could not record it. "
            "The withdrawal is complete: do not withdraw it again; tell the dashboard "
            "administrator") from exc


# The quarterly pack and targets ----------------------------------------------------------

def sign_off_pack(db: Path, actor: Actor, issued) -> int:
    """Freezes the pack as shown, signed off by `actor`, and records it; returns its pack id."""
    from dashboard import pack  # the pack pulls in the chart renderer: load it when asked

    refuse_demo(actor, DEMO_SIGN_OFF)
    pack_id = pack.sign_off(db, issued, actor.name)
    try:
        audit.record(actor, Action.SIGN_OFF, target=f"pack {pack_id}",
                     detail=f"{issued.quarter} ({issued.disclosure})")
    except audit.AccessLogError as exc:
        raise ChangeNotLogged(
            f"The {issued.quarter} pack was signed off as pack {pack_id}, but the access log "
            "could not record it. The sign-off is complete: do not sign it off again; tell "
            "the dashboard administrator") from exc
    return pack_id


def set_target(actor: Actor, measure: str, quarterly_target: int | None,
               amber_share: float | None = None,
               path: str | os.PathLike | None = None) -> None:
    """Sets (or with None clears) a measure's quarterly target, the amber band starting at
    amber_share of it (default targets.DEFAULT_AMBER_SHARE); targets.TargetRefused says why
    one may not be set."""
    from dashboard.analysis import targets  # its measures need scipy: not for every command

    refuse_demo(actor, DEMO_TARGETS, targets.TargetRefused)
    targets.set_target(path or security_db_path(), measure, quarterly_target, actor.name,
                       actor.role, targets.DEFAULT_AMBER_SHARE if amber_share is None
                       else amber_share)


# User accounts (each change is recorded in the transaction that makes it) ----------------

class DemoRefused(PermissionError):
    """A demo account asked for something that outlives the demo."""


# A demo account is one click, with no password, for whoever reaches the sign-in page while
# the data is the demo: the first file it stored would make that the dashboard's real data.
DEMO_STORE = ("A demo account can check a file but not store it: the first file stored makes "
              "it the dashboard's real data, for everyone. An administrator with an account of "
              "their own stores it (accounts are added on the server: python -m dashboard users "
              "add).")
DEMO_WITHDRAW = ("A demo account cannot withdraw a snapshot: everyone trying the demo shares "
                 "it.")
# A signed-off pack is reissued as it was, for good; targets are kept in the security file.
DEMO_SIGN_OFF = "A demo account cannot sign off a pack: it would stand once real data arrives."
DEMO_TARGETS = ("The steering group and administrators set the programme's targets; a demo "
                "account cannot set them, since they would stand once real data arrives.")
DEMO_ACCOUNTS = ("A demo account cannot see or change the dashboard's accounts: they outlive "
                 "the demo. An administrator adds them with `python -m dashboard users add` on "
                 "the server, or here once signed in with a real administrator account.")


def refuse_demo(actor: Actor, message: str, error: type[Exception] = DemoRefused) -> None:
    """Raises `error` with `message` when the actor is a demo account: one click on the sign-in
    page, with no password, for whoever reaches it while the data is the demo, so it may
    change nothing that outlives the demo or that everyone trying it shares."""
    if getattr(actor, "is_demo", False):
        raise error(message)


def real_accounts_only(actor: Actor) -> None:
    """Demo accounts may neither read nor change the real accounts, which outlive the demo (a
    demo administrator could reset a real administrator's password and read the new one, or
    add an account of their own, and keep it once real data arrives)."""
    refuse_demo(actor, DEMO_ACCOUNTS)


def list_users(actor: Actor, path: str | os.PathLike | None = None) -> list[accounts.User]:
    """Every account, revoked ones included; the reading is recorded."""
    real_accounts_only(actor)
    return accounts.list_users(path or security_db_path(), actor=actor)


def add_user(actor: Actor, name: str, role: str, password: str | None = None,
             officer_names: Sequence[str] = (), email: str | None = None,
             path: str | os.PathLike | None = None) -> accounts.User:
    """Adds an account (no password: single sign-on only); ValueError says what is wrong."""
    real_accounts_only(actor)
    return accounts.add_user(path or security_db_path(), name, role, password, officer_names,
                             email, actor=actor)


def set_password(actor: Actor, name: str, password: str,
                 path: str | os.PathLike | None = None) -> None:
    real_accounts_only(actor)
    accounts.set_password(path or security_db_path(), name, password, actor=actor)


def revoke_user(actor: Actor, name: str, path: str | os.PathLike | None = None) -> None:
    real_accounts_only(actor)
    accounts.revoke_user(path or security_db_path(), name, actor=actor)


def reactivate_user(actor: Actor, name: str, path: str | os.PathLike | None = None) -> None:
    real_accounts_only(actor)
    accounts.reactivate_user(path or security_db_path(), name, actor=actor)


def set_officer_names(actor: Actor, name: str, officer_names: Sequence[str],
                      path: str | os.PathLike | None = None) -> accounts.User:
    real_accounts_only(actor)
    return accounts.set_officer_names(path or security_db_path(), name, officer_names,
                                      actor=actor)


# The demo database -----------------------------------------------------------------------

def load_demo_generator():
    spec = importlib.util.spec_from_file_location("o2r_demo_generator",
                                                  config.ROOT / "data" / "generate_demo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def build_demo(db: Path) -> list[IngestReport]:
    """Store the synthetic demo exports (every snapshot, then Connect) through normal ingest."""
    with tempfile.TemporaryDirectory() as folder:
        files = load_demo_generator().generate(Path(folder))
        return [ingest_path(db, f.kind, f.path, as_at=f.as_at, uploaded_by=DEMO_UPLOADER,
                            is_demo=True, use_column_map=False)
                for f in files]


def ensure_database(db: Path) -> bool:
    """Build the demo database if there is none; True if it was built now."""
    if db.exists():
        return False
    # Two processes starting at once both build it; the demo files are identical bytes, so
    # the second one's uploads are recognised as repeats and change nothing.
    build_demo(db)
    return True


__all__ = ["ChangeNotLogged", "DemoRefused", "UploadNotLogged", "UploadRejected", "add_user",
           "build_demo", "check_upload", "ensure_database", "ingest_bytes", "ingest_path",
           "list_users", "real_accounts_only",
           "reactivate_user", "revoke_user", "set_officer_names", "set_password", "set_target",
           "sign_off_pack", "store_upload", "upload", "withdraw_snapshot"]
