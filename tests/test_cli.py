"""The command line: exit codes, problem lists on stderr, queries as CSV or JSON."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, digest, run_cli


def cli(*args: str, env_db: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_query_starts_on_demo_data_when_no_database_exists(tmp_path):
    db = tmp_path / "fresh.duckdb"
    result = cli("query", "rehab_placements", "--format", "json", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"rehab_facility": "Seasons", "referrals": 14},
        {"rehab_facility": "Livingstone House", "referrals": 12},
        {"rehab_facility": "Changes UK", "referrals": 1}]


def test_rejected_upload_exits_non_zero_with_every_problem_on_stderr(demo_db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Nominal ID,Referral Date,Referral Source,Status\n"
                   "A1,31/02/2022,Custody,Active\n"
                   "A2,01/03/2022,Carrier pigeon,Waitlist\n")
    errors = tmp_path / "problems.csv"
    before = demo_db.read_bytes()
    result = cli("ingest", "tracker", str(bad), "--as-at", "2022-07-31", "--db", str(demo_db),
                 "--errors-csv", str(errors))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "row 2, column 'Referral Date', value '31/02/2022'" in result.stderr
    assert "row 3, column 'Referral Source', value 'Carrier pigeon'" in result.stderr
    assert "row 3, column 'Status', value 'Waitlist'" in result.stderr
    assert errors.read_text(encoding="utf-8-sig").count("\n") == 4  # header + 3 problems
    assert demo_db.read_bytes() == before


def test_query_params_and_csv_output(demo_db):
    result = cli("query", "officer_caseload", "--param", "officer=Officer 2", "--db",
                 str(demo_db))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "officer,status,referrals", "Officer 2,Active,9", "Officer 2,Inactive,3",
        "Officer 2,Referral/Waiting,19", "Officer 2,Withdrawn,9"]


def test_a_list_parameter_takes_values_separated_by_commas(demo_db):
    snapshots = json.loads(cli("query", "snapshots", "--format", "json", "--db",
                               str(demo_db)).stdout)
    ids = sorted(row["snapshot_id"] for row in snapshots)[:2]
    result = cli("query", "quarter_end_in_rehab", "--format", "json", "--param",
                 f"snapshot_ids={ids[0]},{ids[1]}", "--param", "to_dates=2022-03-31,2022-06-30",
                 "--db", str(demo_db))
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(row["snapshot_id"], row["to_date"][:10]) for row in rows] == [
        (ids[0], "2022-03-31"), (ids[1], "2022-06-30")]
    one = cli("query", "quarter_end_caseloads", "--param", f"snapshot_ids={ids[0]}", "--db",
              str(demo_db))
    assert one.returncode == 0, one.stderr
    assert {line.split(",")[0] for line in one.stdout.splitlines()[1:]} == {str(ids[0])}


def test_bad_query_name_and_parameter_give_a_message_not_a_traceback(demo_db):
    for args in (["query", "nope"], ["query", "officer_caseload", "--param", "bogus=1"],
                 ["query", "officer_caseload", "--param", "from_date=31/13/2022"]):
        result = cli(*args, "--db", str(demo_db))
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr and result.stderr.strip(), args


def test_uploading_the_same_file_twice_is_recognised(demo_db, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("Nominal ID,Referral Date,Referral Source\nB1,01/03/2022,Custody\n")
    first = cli("ingest", "tracker", str(good), "--as-at", "2022-08-31", "--db", str(demo_db))
    second = cli("ingest", "tracker", str(good), "--as-at", "2022-08-31", "--db", str(demo_db))
    assert first.returncode == 0 and second.returncode == 0
    assert "already uploaded (upload 7)" in second.stdout


def test_prepare_rebuilds_stale_facts_before_the_dashboard_starts_and_says_when_it_cannot(
        demo_db):
    # bin/dashboard runs it, so that no viewer's first request rebuilds the facts (about 10
    # CPU-s at 10,000,000 crimes) after a release that builds them otherwise.
    import duckdb

    from dashboard.store import facts

    with duckdb.connect(str(demo_db)) as raw:
        raw.execute("update facts_built set definition = 'an older release'")
    result = cli("prepare", "--db", str(demo_db))
    assert result.returncode == 0, result.stderr
    assert "Rebuilt the Connect facts" in result.stdout
    with duckdb.connect(str(demo_db), read_only=True) as con:
        assert facts.facts_current(con)
        assert con.execute("select count(*) from window_facts").fetchone()[0] > 0
    again = cli("prepare", "--db", str(demo_db))
    assert again.returncode == 0 and "Rebuilt" not in again.stdout, again.stderr
    with duckdb.connect(str(demo_db)):  # held by another process, as a running server would
        held = cli("prepare", "--db", str(demo_db))
    assert held.returncode == 1 and "prepares the database itself" in held.stderr
    assert "Traceback" not in held.stderr
    assert "prepare" in (ROOT / "bin" / "dashboard").read_text()


def test_an_as_at_date_in_the_future_is_refused_and_changes_nothing(demo_db, tmp_path):
    """The Data page's calendar stops at today; the command line took --as-at 2032-07-31
    (for 2022), stored referral dates up to it, and the snapshot stayed the one in force
    over every upload after it."""
    export = tmp_path / "tracker.csv"
    export.write_text("Nominal ID,Referral Date,Referral Source\nN1,01/02/2031,Probation\n",
                      encoding="utf-8")
    before = digest(demo_db)
    future = dt.date.today() + dt.timedelta(days=1)
    code, _, err = run_cli("ingest", "tracker", str(export), "--as-at", f"{future:%Y-%m-%d}",
                           "--db", str(demo_db))
    assert code == 1 and digest(demo_db) == before
    assert (f"file: tracker.csv is given an as-at date of {future:%d/%m/%Y}, which is in the "
            "future. Fix: Give the date the export was taken (today or earlier)") in err


def test_an_upload_the_access_log_cannot_record_is_said_to_be_stored(demo_db, tmp_path,
                                                                     monkeypatch):
    """The command line said "Nothing was changed" over an upload it had stored."""
    from test_data_page import GOOD_TRACKER, fail_to_record_uploads

    fail_to_record_uploads(monkeypatch)
    export = tmp_path / "august.csv"
    export.write_bytes(GOOD_TRACKER)
    code, _, err = run_cli("ingest", "tracker", str(export), "--as-at", "2022-08-31",
                           "--db", str(demo_db))
    assert code == 3 and "Nothing was changed" not in err
    assert err.startswith("august.csv was stored as upload 7, but the access log could not "
                          "record it. The upload is complete: do not upload it again")


def test_an_unexpected_ingest_failure_does_not_quote_the_file(demo_db, tmp_path,
                                                               monkeypatch):
    """The catch-all printed the exception's message, which can quote a cell, to stderr: an
    ingest run on a schedule keeps that in a log."""
    import duckdb

    from dashboard import service

    cell = "".join(("Ja", "ne R", "oe"))

    def quoting(*args, **kwargs):
        raise duckdb.ConversionException(f"Could not convert string {cell!r} to DATE")

    monkeypatch.setattr(service, "ingest_bytes", quoting)
    export = tmp_path / "august.csv"
    export.write_bytes(b"Nominal ID,Referral Date,Referral Source\nN1,01/08/2022,Probation\n")
    code, _, err = run_cli("ingest", "tracker", str(export), "--as-at", "2022-08-31",
                           "--db", str(demo_db))
    assert code == 3 and "ConversionException" in err and cell not in err


def test_an_errors_csv_that_cannot_be_written_is_named_and_the_exit_is_still_rejected(
        demo_db, tmp_path):
    """A folder that does not exist gave "Unexpected error (FileNotFoundError ...) please
    report this" and exit 3, as if the dashboard had failed, after the problems were listed."""
    bad = tmp_path / "bad.csv"
    bad.write_text("Nominal ID,Referral Date,Referral Source\nN1,31/02/2022,Probation\n",
                   encoding="utf-8")
    target = tmp_path / "no such folder" / "problems.csv"
    code, _, err = run_cli("ingest", "tracker", str(bad), "--as-at", "2022-07-31", "--db",
                           str(demo_db), "--errors-csv", str(target))
    assert code == 1 and "Unexpected error" not in err
    assert err.rstrip().endswith(f"The problem list could not be written to {target} (No such "
                                 "file or directory): give --errors-csv a file in a folder "
                                 "that exists and you may write to")


def test_ingest_refuses_a_pipe_or_device_which_has_no_size_to_hold_to_the_limit(demo_db):
    # /dev/zero passed the size check (a device's size is 0) and was read until memory ran out.
    before = demo_db.read_bytes()
    result = cli("ingest", "connect", "/dev/zero", "--db", str(demo_db))
    assert result.returncode == 2
    assert "not a file" in result.stderr and "Traceback" not in result.stderr
    assert demo_db.read_bytes() == before


def test_an_interrupted_command_does_not_claim_nothing_changed(demo_db, tmp_path, monkeypatch):
    # Stopped after an upload was stored (before its access-log entry) it said "nothing was
    # changed", inviting a second upload.
    from dashboard import service

    from conftest import run_cli

    def stored_then_interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(service, "ingest_bytes", stored_then_interrupted)
    export = tmp_path / "connect.csv"
    export.write_text("Crime Reference,Nominal ID,Offence Date,Offence Type\n"
                      "CR1,N1,01/07/2022,Shoplifting\n")
    code, _, err = run_cli("ingest", "connect", str(export), "--db", str(demo_db))
    assert code == 130
    assert "nothing was changed" not in err and "check whether it was made" in err
