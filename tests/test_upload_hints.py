"""Hints a file gives about itself: its as-at date (title lines, then name) and its kind."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import test_hostile_spreadsheets as hostile

from dashboard.ingest import upload_hints

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"


@pytest.mark.parametrize(("text", "expected"), [
    ("O2R tracker as at 31/07/2022", dt.date(2022, 7, 31)),
    ("Referrals - As At: 01.04.2023", dt.date(2023, 4, 1)),
    ("o2r_tracker_as_at_2022-07-31.xlsx", dt.date(2022, 7, 31)),
    ("Tracker as of 5th March 2023", dt.date(2023, 3, 5)),
    ("as at 31 Sept 2022", None),  # no such day: no hint rather than a wrong one
    ("tracker 2022-07-31.csv", None),  # a date not said to be the as-at date
    ("tracker as at 1 \u017fep 2022.csv", None),  # a long s: matched, names no month (raised)
])
def test_as_at_dates_in_words_and_numbers(text, expected):
    assert upload_hints.as_at_date(text) == expected


def test_the_demo_workbooks_say_their_date_and_kind():
    for path in sorted(DEMO.glob("*.xlsx")):
        hints = upload_hints.read(path.name, path.read_bytes())
        stated = dt.date.fromisoformat(path.stem.rsplit("_", 1)[-1])
        assert hints == upload_hints.Hints(stated, "title lines", "tracker"), path.name
    connect = DEMO / "o2r_connect_synthetic.csv"
    assert upload_hints.read(connect.name, connect.read_bytes()).looks_like == "connect"


def test_title_lines_win_over_the_name_and_odd_encodings_still_read():
    data = "Tracker as at 30/06/2022\nNominal ID;Referral Date;Officer;Status\n".encode("utf-16")
    assert upload_hints.read("as_at_2022-07-31.csv", data) == upload_hints.Hints(
        dt.date(2022, 6, 30), "title lines", "tracker")
    assert upload_hints.read("as_at_2022-07-31.csv", b"Nominal ID,Referral Date\n") == \
        upload_hints.Hints(dt.date(2022, 7, 31), "file name", "tracker")
    assert upload_hints.read("x.xlsx", b"PK\x03\x04 not really a workbook") == \
        upload_hints.Hints(None, None, None)


def test_a_workbook_calamine_cannot_hold_gives_no_hint_and_the_server_carries_on(tmp_path):
    """The hints are read before the full check, so they are read as it reads a workbook:
    after the archive checks, by calamine in the separate, limited process. Read in the
    server's own process, this 5 KB workbook (a cell at Excel's last row and column, so a
    range of 17 billion cells) aborted it, and with it every user's session."""
    workbook = tmp_path / "o2r tracker as at 31-07-2022.xlsx"
    workbook.write_bytes(hostile.tracker_xlsx(far_cell=True))
    script = ("import sys; from pathlib import Path; from dashboard.ingest import upload_hints; "
              "path = Path(sys.argv[1]); print(upload_hints.read(path.name, path.read_bytes()))")
    done = subprocess.run([sys.executable, "-c", script, str(workbook)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-300:]
    assert done.stdout.strip() == repr(upload_hints.Hints(dt.date(2022, 7, 31), "file name",
                                                          None))


def test_reading_hints_never_raises(monkeypatch):
    """The Data page reads the hints with no guard of its own: an exception was the page's
    error instead of the file's check."""
    def broken(*args):
        raise RuntimeError("a bug in reading hints")

    monkeypatch.setattr(upload_hints, "read_afresh", broken)
    assert upload_hints.read("tracker.csv", b"anything") == upload_hints.Hints(None, None, None)
