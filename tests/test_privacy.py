"""Identifying columns are never stored: not in the tables, not anywhere in the database file."""

from __future__ import annotations

import datetime as dt

import duckdb

from dashboard import service

NAME = "Zebedee Quackenbush"
PNC_ID = "98/7654321Q"
ADDRESS = "12 Acacia Avenue Kings Heath"
NOTE = "Told officer about sister in Walsall"
KEPT = "Zanzibar Outreach Team"  # a stored value: proves the file search can find text

TRACKER = (
    "Nominal ID,Name,Date of Birth,PNC ID,Address,Referral Date,Referral Source,"
    "Referral Source Detail,Status,Notes\n"
    f"PRIV0001,{NAME},14/02/1985,{PNC_ID},{ADDRESS},03/04/2022,O2R officer outreach,"
    f"{KEPT},Active,{NOTE}\n"
    f"PRIV0002,{NAME} Junior,01/01/1999,{PNC_ID}X,{ADDRESS},05/04/2022,Custody,,Active,\n"
)


def test_name_pnc_id_address_and_notes_found_nowhere_in_the_database_file(tmp_path,
                                                                          security_db):
    db = tmp_path / "o2r.duckdb"
    report = service.ingest_bytes(db, "tracker", "tracker.csv", TRACKER.encode(),
                                  as_at=dt.date(2022, 4, 30))
    assert sorted(report.dropped_identifying) == [
        "Address", "Date of Birth", "Name", "Notes", "PNC ID"]

    raw = db.read_bytes()
    assert KEPT.encode() in raw
    for secret in (NAME, PNC_ID, ADDRESS, NOTE, "14/02/1985", "1985-02-14"):
        assert secret.encode() not in raw, secret
    # The upload itself is not kept; the access log records it by its file name only.
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers == ["o2r-security.sqlite", "o2r.duckdb", "o2r.duckdb.lock"]
    assert b"tracker.csv" in security_db.read_bytes()
    for secret in (NAME, PNC_ID, ADDRESS, NOTE, "14/02/1985", "1985-02-14"):
        assert secret.encode() not in security_db.read_bytes(), secret

    con = duckdb.connect(str(db), read_only=True)
    columns = {r[0] for r in con.execute(
        "select column_name from information_schema.columns").fetchall()}
    ages = con.execute("select nominal_id, age_band from referrals order by 1").fetchall()
    con.close()
    assert not columns & {"name", "date_of_birth", "pnc_id", "address", "notes"}
    assert ages == [("PRIV0001", "30-39"), ("PRIV0002", "18-24")]
