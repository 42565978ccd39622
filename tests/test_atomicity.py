"""An upload is one transaction: killing an ingest half-way leaves the previous state intact."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from dashboard import service

from conftest import ROOT, mark_real

CONNECT_HEADER = "Crime Reference,Nominal ID,Offence Date,Offence Type,Offence Area,Value Stolen\n"


def connect_csv(rows: int, prefix: str = "KILL") -> bytes:
    lines = [f"20{prefix}/{i:07d}/22,SYN{i % 136 + 1:04d},0{i % 9 + 1}/03/2022,Shoplifting,"
             f"City Centre,\"£{i % 500}.50\"\n" for i in range(rows)]
    return (CONNECT_HEADER + "".join(lines)).encode("utf-8")


def contents(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {table: con.execute(f"select * from {table} order by all").fetchall()
                for table in ("uploads", "referrals", "crimes", "labels")}
    finally:
        con.close()


def digest(db: Path) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()


# The child stops inside the write (the new rows are in the copy, not yet committed) and tells
# the parent, which kills it there with SIGKILL: no cleanup code of ours can run.
CHILD = textwrap.dedent("""
    import sys, time, datetime
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from dashboard import service
    from dashboard.store import database
    original = database.{stage}
    def stall(*args, **kwargs):
        original(*args, **kwargs)
        Path({marker!r}).write_text("inside the write")
        time.sleep(60)
    database.{stage} = stall
    service.ingest_path(Path({db!r}), "connect", Path({csv!r}),
                        as_at=datetime.date(2022, 7, 31), uploaded_by="test")
""")


@pytest.mark.parametrize("stage", ["merge_crimes", "assign_labels"])
def test_kill_mid_ingest_leaves_previous_state(real_history_db, tmp_path, stage):
    demo_db = real_history_db
    before, before_digest = contents(demo_db), digest(demo_db)
    csv = tmp_path / "connect.csv"
    csv.write_bytes(connect_csv(50_000))
    marker = tmp_path / "marker"
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(
        root=str(ROOT), stage=stage, marker=str(marker), db=str(demo_db), csv=str(csv))])
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, "the ingest ended before reaching the write"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    assert digest(demo_db) == before_digest
    assert contents(demo_db) == before
    # The next upload clears the dead writer's copy and succeeds.
    report = service.ingest_path(demo_db, "connect", csv, uploaded_by="test")
    assert report.rows == 50_000
    assert not list(tmp_path.glob("o2r.duckdb.writing-*"))
    assert len(contents(demo_db)["crimes"]) == len(before["crimes"]) + 50_000


def test_kill_at_random_moments_never_half_writes(real_history_db, tmp_path):
    demo_db = real_history_db
    before = contents(demo_db)
    csv = tmp_path / "connect.csv"
    csv.write_bytes(connect_csv(200_000, prefix="RND"))
    for delay in (0.05, 0.3, 0.6, 0.9, 1.2):
        child = subprocess.Popen([sys.executable, "-m", "dashboard", "ingest", "connect",
                                  str(csv), "--as-at", "2022-07-31", "--db", str(demo_db)],
                                 cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        after = contents(demo_db)
        if after != before:  # it finished before the kill: then all of it is there
            assert len(after["crimes"]) == len(before["crimes"]) + 200_000
            assert len(after["uploads"]) == len(before["uploads"]) + 1
            break


# Values a tracker export holds that must never reach the disk: a name, a PNC ID and a note.
CANARIES = ("Zebedee Quartermaine", "99/424242Z", "xyzzy canary note")


def canary_tracker(rows: int, delimiter: str = ",") -> str:
    header = ["Nominal ID", "Name", "Date of Birth", "PNC ID", "Referral Date", "Officer",
              "Referral Source", "Status", "Notes"]
    lines = [delimiter.join([f"CAN{i:06d}", CANARIES[0], "03/12/1991", CANARIES[1],
                             f"{i % 28 + 1:02d}/0{i % 6 + 1}/2022", f"Officer {i % 3 + 1}",
                             "Probation", "Active", f"{CANARIES[2]} – {i}"])
             for i in range(rows)]
    return "\r\n".join([delimiter.join(header), *lines]) + "\r\n"


def canaries_found(folders: list[Path]) -> list[str]:
    needles = {c.encode(encoding) for c in CANARIES
               for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "cp1252")}
    return [f"{path}: {needle!r}" for folder in folders for path in folder.rglob("*")
            if path.is_file() for needle in needles if needle in path.read_bytes()]


def test_kill_at_random_moments_leaves_no_upload_content_on_disk(demo_db_template, tmp_path):
    """Whatever the encoding, and wherever the ingest is killed, no file under the temporary
    folder or the data folder holds a value from the upload, and the database is old or new."""
    rows = 20_000
    sources = tmp_path / "sources"  # the uploaded files themselves: not scanned
    sources.mkdir()
    files = {"cp1252": canary_tracker(rows).encode("cp1252"),
             "utf-16": canary_tracker(rows, "\t").encode("utf-16"),
             "utf-8": canary_tracker(rows).encode("utf-8")}
    rng = random.Random(20221231)
    # Once to the end first, to time it; then kills spread over that time.
    runs = [("cp1252", None)] + [(encoding, rng.uniform(0.1, 0.95)) for encoding in files
                                 for _ in range(2)]
    whole = None
    for run, (encoding, fraction) in enumerate(runs):
        data, temp = tmp_path / f"data{run}", tmp_path / f"tmp{run}"
        data.mkdir()
        temp.mkdir()
        db = data / "o2r.duckdb"
        mark_real(shutil.copyfile(demo_db_template, db))
        before = contents(db)
        source = sources / f"tracker-{encoding}.csv"
        source.write_bytes(files[encoding])
        child = subprocess.Popen(
            # (--confirm: the canary tracker leaves empty columns the demo's fills)
            [sys.executable, "-m", "dashboard", "ingest", "tracker", str(source), "--as-at",
             "2022-07-31", "--db", str(db), "--confirm"], cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, env={**os.environ, "TMPDIR": str(temp)})
        started = time.monotonic()
        if fraction is None:
            assert child.wait(timeout=120) == 0, child.stderr.read()
            whole = time.monotonic() - started
        else:
            time.sleep(fraction * whole)
            child.send_signal(signal.SIGKILL)
            child.wait()
        child.stderr.close()
        assert canaries_found([temp, data]) == []
        after = contents(db)
        if after != before:  # it finished before the kill: then all of it is there
            assert len(after["uploads"]) == len(before["uploads"]) + 1
            assert len(after["referrals"]) == len(before["referrals"]) + rows
        else:
            assert fraction is not None, "the run to the end stored nothing"


# The child stops with the whole upload read and staged in DuckDB (where the old reader had
# it in a temporary upload.csv) and is killed there.
STALL_WHILE_STAGED = textwrap.dedent("""
    import sys, time, datetime
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from dashboard import service
    from dashboard.ingest import readers
    original = readers.stage
    def stall(*args, **kwargs):
        original(*args, **kwargs)
        Path({marker!r}).write_text("staged")
        time.sleep(60)
    readers.stage = stall
    service.ingest_path(Path({db!r}), "tracker", Path({source!r}),
                        as_at=datetime.date(2022, 7, 31), uploaded_by="test")
""")


def test_kill_with_the_upload_staged_leaves_no_upload_content_on_disk(demo_db_template,
                                                                     tmp_path):
    temp, sources, data = tmp_path / "tmp", tmp_path / "sources", tmp_path / "data"
    for folder in (temp, sources, data):
        folder.mkdir()
    demo_db = data / "o2r.duckdb"
    shutil.copyfile(demo_db_template, demo_db)
    source = sources / "tracker.csv"
    source.write_bytes(canary_tracker(2_000).encode("cp1252"))
    marker = sources / "marker"
    before = contents(demo_db)
    child = subprocess.Popen([sys.executable, "-c", STALL_WHILE_STAGED.format(
        root=str(ROOT), marker=str(marker), db=str(demo_db), source=str(source))],
        env={**os.environ, "TMPDIR": str(temp)})
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, "the ingest ended before the upload was staged"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert canaries_found([temp, data]) == []
    assert contents(demo_db) == before
