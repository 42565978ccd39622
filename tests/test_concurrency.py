"""The dashboard keeps serving while the command line ingests into the same database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from conftest import ROOT


def big_tracker_csv(path: Path, rows: int) -> None:
    header = "Nominal ID,Referral Date,Officer,Referral Source,Offending Area,Status\n"
    body = "".join(f"CON{i:06d},01/08/2022,Officer {i % 4 + 1},Custody,Erdington,Active\n"
                   for i in range(rows))
    path.write_text(header + body, encoding="utf-8")


def caption(at: AppTest) -> str:
    assert not at.exception, at.exception
    return at.caption[0].value


def test_app_serves_during_cli_ingest_and_shows_new_data_on_refresh(app_as, demo_db, tmp_path):
    at = app_as("admin", name="Test admin").run()
    assert "as at 31/07/2022" in caption(at)

    tracker = tmp_path / "tracker_august.csv"
    big_tracker_csv(tracker, 60_000)
    ingest = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "ingest", "tracker", str(tracker),
         "--as-at", "2022-08-31", "--db", str(demo_db)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reruns_during_ingest = 0
    while ingest.poll() is None:
        at.run()
        caption(at)  # no exception, no lock error, still a page
        reruns_during_ingest += 1
    out, err = ingest.communicate()
    assert ingest.returncode == 0, err
    assert "lock" not in (out + err).lower()
    assert reruns_during_ingest >= 1

    at.run()
    assert "as at 31/08/2022" in caption(at)
    assert "60,000 referrals" in caption(at)


def test_cli_query_while_app_holds_the_database(app_as, demo_db):
    at = app_as("admin", name="Test admin").run()
    caption(at)
    result = subprocess.run(
        [sys.executable, "-m", "dashboard", "query", "officer_caseload", "--format", "json",
         "--db", str(demo_db)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert sum(r["referrals"] for r in rows if r["officer"] == "Officer 1") == 43
