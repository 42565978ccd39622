"""What the quarterly pack costs as the programme's history grows (run by hand, not a test).

    .venv/bin/python benchmarks/pack_history.py --referrals 10000 --crimes 100000

A circulated pack protects its quarter after every quarter since the first with a quarter-end
snapshot, so its cost grows with the programme's age; the databases pages.py times hold one
snapshot and do not show it. This one holds a tracker snapshot at every quarter end from the
first referral's quarter to generate.py's as-at date (each made from generate.py's tracker as
it stood then: referrals made by then, later dates blank, status as of then) and its Connect
file. In a fresh process each, CPU seconds (user + system) and the part spent in the pack's
own queries (`queries.run`), for the circulated pack as the panel's page builds it:
- afresh: the latest quarter, then the quarter before it, each built with nothing kept
  (the page before pack.QuarterMemo);
- through one memo, as the page now builds them: the latest quarter, the quarter before it,
  the same quarter a year before, then the exact (internal) pack of the latest quarter;
- after an upload: the latest quarter's pack on the database as it was before its latest
  snapshot (a copy with that snapshot withdrawn), then, through what that version's memo kept
  (pack.KeptChains, as the page keeps it from version to version), the latest quarter's pack
  once the snapshot is in, and how many quarters it protected again.

With --instructions (needs valgrind), the first circulated pack of the latest quarter is also
counted in instructions, which the machine's speed does not move: three processes under
callgrind, DuckDB on one thread, each making the same connection; one stops there, one builds
the pack, recording the queries it runs, and one runs just those queries. The pack's count
less the first is the pack's, the third's less the first its queries', and the difference
the rest.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

import duckdb  # noqa: E402
import generate  # noqa: E402

os.environ.setdefault("O2R_SECURITY_DB", str(Path(tempfile.mkdtemp()) / "o2r-security.sqlite"))

STEPS = ["First Contact Date", "Assessment Date", "Rehab Admission Date", "Rehab Exit Date"]

# The tracker as it stood on $as_at: later referrals left out, later dates blank, a facility
# only once admitted, an exit reason once left, the status those dates give (as generate.py).
UK_DATE = "'%d/%m/%Y'"
LATER_BLANK = ", ".join(f'case when strptime("{c}", {UK_DATE}) <= $as_at then "{c}" end as "{c}"'
                        for c in STEPS)
SNAPSHOT_SQL = f"""
with dated as (
    select * replace ({LATER_BLANK})
    from read_csv($tracker, all_varchar = true)
    where strptime("Referral Date", {UK_DATE}) <= $as_at
)
select * replace (
    case when "Rehab Exit Date" is not null then 'Inactive'
         when "Assessment Date" is not null then 'Active'
         else 'Referral/Waiting' end as "Status",
    case when "Rehab Admission Date" is not null then "Rehab Facility" end
        as "Rehab Facility",
    case when "Rehab Exit Date" is not null then "Rehab Exit Reason" end
        as "Rehab Exit Reason")
from dated
"""  # noqa: S608 (column names from code; the dates and file are bound)


def build(folder: Path, referrals: int, crimes: int) -> tuple[Path, int]:
    """The database (built once per size) and how many snapshots it holds."""
    from dashboard import service
    from dashboard.pack import quarters

    db = folder / f"pack_history_{referrals}_{crimes}.duckdb"
    files = generate.generate(folder, referrals, crimes)
    ends, quarter = [], quarters.quarter_containing(generate.FIRST_REFERRAL)
    while quarter.end <= generate.AS_AT:
        ends.append(quarter.end)
        quarter = quarter.shift(1)
    if not db.exists():
        partial = db.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        con = duckdb.connect()
        try:
            for as_at in ends:
                csv = folder / f"snapshot_{referrals}_{as_at}.csv"
                con.sql(SNAPSHOT_SQL, params={"tracker": str(files["tracker"]), "as_at": as_at}
                        ).write_csv(str(csv), header=True)
                service.ingest_path(partial, "tracker", csv, as_at=as_at,
                                    uploaded_by="benchmark", confirmed=True)
                csv.unlink()
        finally:
            con.close()
        service.ingest_path(partial, "connect", files["connect"], as_at=generate.AS_AT,
                            uploaded_by="benchmark")
        partial.rename(db)
    return db, len(ends)


# What both children start with: the pack's queries timed as they run.
TIMED_QUERIES = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from dashboard import pack
from dashboard.security.access import COMMAND_LINE, Viewer
from dashboard.store import database, queries

spent = [0.0]
run = queries.run
def timed_run(*args, **kwargs):
    start = time.process_time()
    try:
        return run(*args, **kwargs)
    finally:
        spent[0] += time.process_time() - start
queries.run = timed_run
"""

CHILD = TIMED_QUERIES + """
con = database.connect_read_only(Path({db!r}))
panel = Viewer("Panel member", "scrutiny")
# The panel's latest quarter: the last its data covers to the end (generate.py's last
# snapshot repeats the one before and is not stored, so that is the quarter before as_at's).
from dashboard.pack.gathering import data_sources
from dashboard.security.access import COMMAND_LINE as _ANY
newest = data_sources(con, _ANY)[0][0].as_at
latest = pack.quarter_containing(newest)
latest = latest if newest >= latest.end else latest.shift(-1)
memo = pack.QuarterMemo() if {memo!r} else None
steps = {steps!r}
out = []
for label, how in steps:
    quarter = latest.shift(label)
    spent[0], start = 0.0, time.process_time()
    pack.build_pack(con, panel if how == "controlled" else COMMAND_LINE, quarter,
                    disclosure=how, memo=memo)
    out.append((quarter.label, how, time.process_time() - start, spent[0]))
print(json.dumps(out))
"""


AFTER_UPLOAD = TIMED_QUERIES + """
from dashboard.pack import build

again, protect = [], build.protect_quarter_with_outcomes
def counted(data, how, threshold, history=None):
    if history is not None:
        again.append(data.quarter.label)
    return protect(data, how, threshold, history)
build.protect_quarter_with_outcomes = counted
from dashboard.pack.gathering import data_sources
panel, kept, out = Viewer("Panel member", "scrutiny"), pack.KeptChains(), []
for db in ({before!r}, {db!r}):
    con = database.connect_read_only(Path(db))
    newest = data_sources(con, COMMAND_LINE)[0][0].as_at
    latest = pack.quarter_containing(newest)
    latest = latest if newest >= latest.end else latest.shift(-1)
    spent[0], again[:], start = 0.0, [], time.process_time()
    pack.build_pack(con, panel, latest, memo=pack.QuarterMemo(kept))
    out.append((latest.label, time.process_time() - start, spent[0], len(again)))
    con.close()
print(json.dumps(out))
"""


def before_latest_snapshot(db: Path) -> Path:
    """A copy of the database with its latest tracker snapshot withdrawn: the data as they
    stood before that upload."""
    from dashboard import service
    from dashboard.security.access import COMMAND_LINE

    copy = db.with_name(f"{db.stem}_before_latest.duckdb")
    shutil.copyfile(db, copy)
    con = duckdb.connect(str(copy), read_only=True)
    try:
        latest = con.execute("select upload_id from uploads where kind = 'tracker' "
                             "order by as_at_date desc, upload_id desc limit 1").fetchone()[0]
    finally:
        con.close()
    service.withdraw_snapshot(copy, COMMAND_LINE, latest,
                              "Another reason (ask the person who withdrew it)")
    return copy


def measure_after_upload(db: Path) -> list:
    before = before_latest_snapshot(db)
    try:
        code = AFTER_UPLOAD.format(root=str(ROOT), db=str(db), before=str(before))
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=False)
    finally:
        for leftover in (before, before.with_name(f"{before.name}.lock")):
            leftover.unlink(missing_ok=True)
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(db: Path, memo: bool, steps: list[tuple[int, str]]) -> list:
    code = CHILD.format(root=str(ROOT), db=str(db), memo=memo, steps=steps,
                        as_at=generate.AS_AT.isoformat())
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


COUNTED = """
import pickle, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from dashboard import pack
from dashboard.security.access import Viewer
from dashboard.store import database, queries
import dashboard.pack.disclosure_audit, highspy  # what a server has imported before a pack
con = database.connect_read_only(Path({db!r}))
con.execute("set threads = 1")  # one thread: the same instructions, run to run
# The panel's latest quarter: the last its data covers to the end (generate.py's last
# snapshot repeats the one before and is not stored, so that is the quarter before as_at's).
from dashboard.pack.gathering import data_sources
from dashboard.security.access import COMMAND_LINE as _ANY
newest = data_sources(con, _ANY)[0][0].as_at
latest = pack.quarter_containing(newest)
latest = latest if newest >= latest.end else latest.shift(-1)
if {what!r} == "pack":
    asked, run = [], queries.run
    def recorded(*args, **kwargs):
        asked.append((args[1:], kwargs))
        return run(*args, **kwargs)
    queries.run = recorded
    pack.build_pack(con, Viewer("Panel member", "scrutiny"), latest, disclosure="controlled")
    Path({asked!r}).write_bytes(pickle.dumps(asked))
elif {what!r} == "queries":
    for args, kwargs in pickle.loads(Path({asked!r}).read_bytes()):
        queries.run(con, *args, **kwargs)
"""


def instructions(db: Path, what: str, asked: Path) -> int:
    """Instructions (callgrind) of a process that connects and then does `what`."""
    code = COUNTED.format(root=str(ROOT), db=str(db), as_at=generate.AS_AT.isoformat(),
                          what=what, asked=str(asked))
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out",
             sys.executable, "-c", code], capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode or not found:
        raise RuntimeError(result.stderr[-3000:])
    return int(found.group(1))


def count_instructions(db: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asked = Path(folder) / "asked.pickle"
        base = instructions(db, "connect", asked)
        whole = instructions(db, "pack", asked) - base
        queried = instructions(db, "queries", asked) - base
    print(f"\nThe first circulated pack of the latest quarter, in millions of instructions "
          f"(callgrind, DuckDB on one thread): {whole / 1e6:,.0f}, of which its queries "
          f"{queried / 1e6:,.0f} and the rest {(whole - queried) / 1e6:,.0f}.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=10_000)
    parser.add_argument("--crimes", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--instructions", action="store_true",
                        help="also count the first pack's instructions (needs valgrind)")
    options = parser.parse_args()
    if options.instructions and not shutil.which("valgrind"):
        parser.error("--instructions needs valgrind")
    db, snapshots = build(options.dir, options.referrals, options.crimes)
    print(f"{options.referrals:,} referrals, {options.crimes:,} crimes, {snapshots} quarterly "
          "tracker snapshots")
    print("| how built | pack | CPU (s) | in its queries (s) | the rest (s) |")
    print("|---|---|---:|---:|---:|")
    rows = [("afresh", r) for r in measure(db, False, [(0, "controlled")])]
    rows += [("afresh", r) for r in measure(db, False, [(-1, "controlled")])]
    rows += [("one memo, in this order", r) for r in measure(
        db, True, [(0, "controlled"), (-1, "controlled"), (-4, "controlled"), (0, "exact")])]
    for how, (label, disclosure, cpu, queried) in rows:
        print(f"| {how} | {label} {disclosure} | {cpu:.2f} | {queried:.2f} | "
              f"{cpu - queried:.2f} |")
    (label_before, *before), (label, *after) = measure_after_upload(db)
    for how, shown, (cpu, queried, again) in (
            ("before the latest snapshot, kept", label_before, before),
            ("its latest snapshot uploaded, through what was kept", label, after)):
        print(f"| {how} ({again} quarters protected) | {shown} controlled | {cpu:.2f} | "
              f"{queried:.2f} | {cpu - queried:.2f} |")
    if options.instructions:
        count_instructions(db)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
