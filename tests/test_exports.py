"""CSV exports never carry a live spreadsheet formula taken from uploaded text, and the
dashboard gives a CSV out only once the export is in the access log."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pandas as pd
import pytest
from streamlit import config

from dashboard.security import audit
from dashboard.ui import exports
from dashboard.ui.exports import neutralise, safe_csv

from conftest import ROOT


def test_formula_like_text_is_neutralised_and_numbers_are_not():
    frame = pd.DataFrame({
        "officer": ["=HYPERLINK(\"http://x\",\"click\")", "+1+1", "-2", "@SUM(A1)", "\tx",
                    "Officer 1"],
        "referrals": [1, -2, 3, 4, 5, 6],
    })
    back = pd.read_csv(io.BytesIO(safe_csv(frame)), encoding="utf-8-sig")
    assert list(back["officer"]) == ["'=HYPERLINK(\"http://x\",\"click\")", "'+1+1", "'-2",
                                     "'@SUM(A1)", "'\tx", "Officer 1"]
    assert list(back["referrals"]) == [1, -2, 3, 4, 5, 6]


@pytest.mark.parametrize("text", [
    "=1+1", "+1", "-1", "@SUM(A1)", "\t1", "\rx", "\t", "\r",
    " =1+1", "   @SUM(A1)", "\n=1+1", "\u00a0=1+1", "\u3000+1", " \u200b =1+1", "\ufeff=1",
    "＝1+1", "＋1", "－1", "＠SUM(A1)", " ＝1+1", "﹦1", "﹢1", "﹣1", "﹫x", "\u22121",
])
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Officer 1", "a=b", "x@example.org", "", "   ", "'=1",
                                   "£1,000", 5, -5, 2.5, None])
def test_anything_else_is_left_as_it_is(value):
    assert neutralise(value) == value


def test_column_names_are_neutralised_too():
    frame = pd.DataFrame({" =cmd": ["a"], "ok": ["b"]})
    assert next(csv.reader(io.StringIO(safe_csv(frame).decode("utf-8-sig")))) == [
        "' =cmd", "ok"]


def test_a_download_is_logged_when_given_out_not_when_offered(security_db):
    frame = pd.DataFrame({"nominal_id": ["SYN0001"], "officer": ["＝1+1"]})
    give_out = exports.logged_csv(frame, "referral_list", "Alice", "steering",
                                  filters={"filters": "all"})
    assert audit.read_log(security_db).empty
    assert give_out() == safe_csv(frame)
    assert give_out() == safe_csv(frame)
    log = audit.read_log(security_db)
    assert log[["who", "role", "action", "target", "filters"]].values.tolist() == [
        ["Alice", "steering", "export", "referral_list.csv", '{"filters": "all"}']] * 2


def test_a_download_made_on_the_click_is_made_then_and_only_once_logged(security_db):
    frame = pd.DataFrame({"nominal_id": ["SYN0001"], "detail": ["=HYPERLINK(1)"]})
    made = []
    give_out = exports.logged_csv(lambda: made.append(1) or frame, "my_work", "Alice",
                                  "steering")
    assert not made and audit.read_log(security_db).empty
    assert give_out() == safe_csv(frame) and made == [1]
    assert audit.read_log(security_db)["target"].tolist() == ["my_work.csv"]


def test_a_download_that_cannot_be_logged_is_not_given_out(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("O2R_SECURITY_DB", str(blocker / "security.sqlite"))
    give_out = exports.logged_csv(pd.DataFrame({"a": [1]}), "x", "Alice", "admin")
    with pytest.raises(audit.AccessLogError):
        give_out()


TRACKER = ("Nominal ID,Referral Date,Referral Source,Officer\n"
           + "".join(f"B{i},0{i}/03/2022,Custody,{officer}\n" for i, officer in enumerate(
               [" =1+1", "＠SUM(A1)", "-2+3", "Officer 1"] * 2, start=1)))


def test_query_csv_on_the_command_line_neutralises_as_the_app_does(tmp_path):
    tracker, db = tmp_path / "tracker.csv", tmp_path / "o2r.duckdb"
    tracker.write_text(TRACKER, encoding="utf-8")
    run = [sys.executable, "-m", "dashboard"]
    stored = subprocess.run([*run, "ingest", "tracker", str(tracker), "--as-at", "2022-08-31",
                             "--db", str(db)], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert stored.returncode == 0, stored.stderr
    result = subprocess.run([*run, "query", "officer_caseload", "--db", str(db)], cwd=ROOT,
                            capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout.decode("utf-8"))))
    officers = {row[0]: neutralise(row[0].removeprefix("'")) for row in rows[1:]}
    assert len(officers) == 4 and "Officer 1" in officers
    # Each written exactly as exports.neutralise, the function the app's downloads use, has it
    # (however the ingest trimmed the leading space), so every formula got its apostrophe.
    assert all(written == neutralised for written, neutralised in officers.items())
    assert sum(written.startswith("'") for written in officers) == 3


def test_uploaded_text_shown_in_markdown_is_escaped():
    from dashboard.ui.text import plain

    hostile = "[click me](javascript:alert(1)) <script>x</script> **bold** :red[alarm]"
    escaped = plain(hostile)
    assert "](" not in escaped.replace("\\](", "").replace("\\]\\(", "")
    assert "<script>" not in escaped
    assert "**" not in escaped
    assert escaped.replace("\\", "") == hostile


def test_the_referral_list_turns_the_grids_own_export_off_if_the_server_left_it_on(app_as):
    before = config.get_option("client.disableDataExport")
    config.set_option("client.disableDataExport", False)  # as if started without our config
    try:
        app = app_as("steering").run()
        app.switch_page("../pages/referral_list.py")
        app.run()
        assert config.get_option("client.disableDataExport") is True
        assert not app.exception and len(app.dataframe) == 1
    finally:
        config.set_option("client.disableDataExport", before)


def test_the_referral_list_is_headed_in_words(app_as):
    app = app_as("steering").run()
    app.switch_page("../pages/referral_list.py")
    app.run()
    assert not app.exception
    labels = {column: spec.get("label") for column, spec
              in json.loads(app.dataframe[0].proto.columns).items() if column != "_index"}
    assert labels["nominal_id"] == "Nominal ID"
    assert labels["referral_source"] == "Referral source"
    assert labels["rehab_admission_date"] == "Rehab admission date"
    assert [column for column, label in labels.items() if not label or "_" in label] == []


class FakeTime:
    """A clock that moves only when slept on, running the clicks due on the way."""

    def __init__(self, clicks):
        self.now, self.clicks = 0.0, sorted(clicks)

    def sleep(self, seconds):
        end = self.now + seconds
        while self.clicks and self.clicks[0] <= end:
            self.now = self.clicks.pop(0)
            self.click()
        self.now = end

    def click(self):
        raise NotImplementedError  # set by the test


def lapse_ages(clicks, lifetime, monkeypatch, sweep_passes=1):
    """Runs downloads made at the given times through a Lapse driving a real Streamlit media
    store; returns each file's age when a pass deleted it, and how many were never deleted."""
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    monkeypatch.setenv("O2R_DOWNLOAD_URL_SECONDS", str(lifetime))
    store = MediaFileManager(MemoryMediaFileStorage("/media"))
    clock = FakeTime(clicks)
    runs = []

    def sweep():
        for _ in range(sweep_passes):
            store.remove_orphaned_files()
        for file_id, made in list(alive.items()):
            if store.read_file(file_id) is None:
                ages.append(clock.now - made)
                del alive[file_id]

    lapse = exports.Lapse(sweep, clock=lambda: clock.now, sleep=clock.sleep, start=runs.append)
    alive, ages = {}, []

    def click():
        # What Streamlit does on a click: run give_out, then store what it returns.
        content = f"file made at {clock.now}".encode()
        give_out = exports.logged_file(lambda: content, "pack.pdf", "Alice", "steering")
        placeholder = store.add_deferred(give_out, "application/pdf", f"c{clock.now}")
        monkeypatch.setattr(exports, "HANDED_OVER_FILES", lapse)
        url = store.execute_deferred(placeholder)
        alive[url.rsplit("/", 1)[-1].split(".")[0]] = clock.now

    clock.click = click
    while clock.clicks or runs:
        if runs:
            runs.pop(0)()  # the sweeper, run in this thread until it stops
        else:
            clock.sleep(clock.clicks[0] - clock.now)
    return ages, len(alive)


@pytest.mark.parametrize("clicks", [[0.0], [0.0, 14.9], [0.0, 15.1], [0.0, 29.99, 30.0],
                                    [0.0, 100.0, 100.5], [i * 7.3 for i in range(12)]])
def test_a_download_lasts_from_half_its_lifetime_to_all_of_it(security_db, monkeypatch,
                                                               clicks):
    ages, never_deleted = lapse_ages(clicks, 30, monkeypatch)
    assert never_deleted == 0 and len(ages) == len(clicks)
    assert all(15 <= age <= 30 for age in ages), ages


def test_the_lapse_check_catches_a_clean_up_that_deletes_a_new_download(security_db,
                                                                        monkeypatch):
    # Both passes at once, as a timer per download once ran them: the file clicked just
    # before the first download's clean-up is deleted straight away.
    ages, _ = lapse_ages([0.0, 14.9], 30, monkeypatch, sweep_passes=2)
    assert min(ages) < 1


def test_a_count_of_one_takes_the_singular():
    from dashboard.ui import text
    assert [text.counted(n, "person", "people") for n in (0, 1, 2, 1234)] == [
        "0 people", "1 person", "2 people", "1,234 people"]
