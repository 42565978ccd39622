"""The audit door: every change goes through the service, which records one entry of a declared
action; an undeclared action is refused; the Access log page filters by exactly the declared
actions. (conftest checks after every test that its log holds only declared actions.)"""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing

import pytest

from dashboard import service
from dashboard.security import accounts, audit, security_file
from dashboard.security.access import Viewer
from dashboard.security.audit import Action

from conftest import run_cli

TRACKER = (b"Nominal ID,Referral Date,Officer,Referral Source,Offending Area,Status\n"
           b"A1,01/08/2022,PC Jones,Probation,Erdington,Active\n"
           b"A2,02/08/2022,PC Jones,Custody,Erdington,Referral/Waiting\n")
ADMIN = Viewer("Admin Ann", "admin")


def entries(path) -> list[tuple]:
    log = audit.read_log(path).fillna("")
    return list(log[["who", "role", "action", "target"]].itertuples(index=False, name=None))[::-1]


def test_an_undeclared_action_is_refused_and_nothing_is_written(security_db):
    audit.record(ADMIN, Action.VIEW, target="referral_list")
    with pytest.raises(ValueError, match="'download' is not an action the access log records"):
        audit.record(ADMIN, "download")
    with pytest.raises(ValueError, match="not an action"):
        with security_file.transaction(security_db) as con:
            audit.record_in(con, ADMIN, "user-delete")
    assert entries(security_db) == [("Admin Ann", "admin", "view", "referral_list")]


def test_each_change_through_the_service_records_one_entry(tmp_path, security_db):
    db = tmp_path / "o2r.duckdb"
    service.ingest_bytes(db, "tracker", "july.csv", TRACKER.replace(b"/08/", b"/07/"),
                                 as_at=dt.date(2022, 7, 31), uploaded_by="Uploader Una")
    checked = service.check_upload("tracker", "august.csv", TRACKER, as_at=dt.date(2022, 8, 31))
    stored = service.upload(db, checked, ADMIN)
    assert service.upload(db, checked, ADMIN) == service.UploadOutcome(
        repeat_of=stored.upload_id)  # a repeat changes nothing and is not recorded
    service.withdraw_snapshot(db, ADMIN, stored.upload_id, "Wrong as-at date")
    service.add_user(ADMIN, "PC Jones", "officer", officer_names=["Officer 1"])
    service.revoke_user(ADMIN, "PC Jones")
    service.set_target(Viewer("Chair", "steering"), "Referrals", 40)
    assert entries(security_db) == [
        ("Uploader Una", "", "upload", "july.csv"),
        ("Admin Ann", "admin", "upload", "august.csv"),
        ("Admin Ann", "admin", "snapshot-withdraw", f"snapshot {stored.upload_id}"),
        ("Admin Ann", "admin", "user-add", "PC Jones"),
        ("Admin Ann", "admin", "user-revoke", "PC Jones"),
        ("Chair", "steering", "target-set", "Referrals")]
    assert audit.read_log(security_db, action="upload")["detail"].tolist() == [
        f"tracker upload {stored.upload_id}, 2 rows, as at 31/08/2022",
        "tracker upload 1, 2 rows, as at 31/07/2022"]
    assert audit.verify_log(security_db).intact


def test_a_refused_change_records_nothing(tmp_path, security_db):
    db = tmp_path / "o2r.duckdb"
    service.ingest_bytes(db, "tracker", "july.csv", TRACKER.replace(b"/08/", b"/07/"),
                         as_at=dt.date(2022, 7, 31))
    before = entries(security_db)
    for typed in (" ", "Jo's file: she was arrested again on 3/3", "wrong as-at date"):
        with pytest.raises(ValueError, match="Choose why the snapshot is withdrawn"):
            service.withdraw_snapshot(db, ADMIN, 1, typed)  # chosen from the list, not typed
    with pytest.raises(ValueError, match="needs at least one officer name"):
        service.add_user(ADMIN, "PC Nobody", "officer")
    assert entries(security_db) == before


def test_an_upload_from_the_command_line_is_recorded(tmp_path, security_db):
    path = tmp_path / "tracker.csv"
    path.write_bytes(TRACKER)
    code, _, err = run_cli("ingest", "tracker", str(path), "--as-at", "2022-08-31",
                           "--uploader", "Clerk Cal", "--db", str(tmp_path / "o2r.duckdb"))
    assert code == 0, err
    # Whoever ran the command is kept beside the name typed (any name may be typed there).
    assert entries(security_db) == [(f"Clerk Cal (command line: {accounts.login_name()})", "",
                                     "upload", "tracker.csv")]


def test_the_entry_for_restored_protection_is_a_declared_action(security_db):
    audit.record(ADMIN, Action.VIEW)
    with closing(sqlite3.connect(security_db)) as con:
        con.execute("drop trigger access_log_no_delete")
        con.commit()
    assert audit.verify_log(security_db).restored == (2,)
    assert set(audit.read_log(security_db)["action"]) <= set(audit.ACTIONS)


def test_the_access_log_page_filters_by_exactly_the_declared_actions(app_as):
    at = app_as("admin", name="Admin Ann").run()
    at.switch_page("../pages/access_log.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="log_action").options == ["All", *[a.value for a in Action]]
    at.selectbox(key="log_action").select("user-add").run()
    shown = next(d.value for d in at.dataframe if "action" in d.value.columns)
    assert set(shown["action"]) == {"user-add"}  # the account signed_in_as created


def test_the_access_log_page_is_headed_in_words_with_uk_times(app_as):
    import json

    at = app_as("admin", name="Admin Ann").run()
    at.switch_page("../pages/access_log.py").run()
    assert not at.exception, at.exception
    grid = next(d for d in at.dataframe if "action" in d.value.columns)
    columns = json.loads(grid.proto.columns)
    assert columns["at"]["label"] == "When (UTC)"
    assert columns["at"]["type_config"]["format"] == "DD/MM/YYYY HH:mm:ss"
    assert [name for name, spec in columns.items()
            if name != "_index" and not spec.get("label", "")[:1].isupper()] == []
