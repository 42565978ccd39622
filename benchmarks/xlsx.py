"""Tracker workbook (XLSX) ingest against python-calamine's own read of the same workbook (run
by hand, not a test): CPU, wall time and peak memory, each case in its own process.

    .venv/bin/python benchmarks/xlsx.py                       # 1,000, 10,000 and 100,000 rows
    .venv/bin/python benchmarks/xlsx.py --rows 1000 10000 --repeat 3

The workbooks are made once from benchmarks/generate.py's tracker CSV (the first N rows, its
dd/mm/yyyy dates written as Excel date cells, as a tracker saved from Excel holds them) and
kept under --dir (default /work/bench-data/xlsx; never committed). Cases, in one run:
- calamine: `CalamineWorkbook.from_path(f).get_sheet_by_index(0).to_python()`, the baseline;
- guarded read: `readers.read_table` into a connection of the strict reader's in-memory
  staging database (archive, XML and row checks, the bounded reader process, header search,
  cell-size checks, staging); the database itself, opened once per server, is opened before
  the clock (a checkout without one opens a database per read, inside the clock);
- whole ingest: `service.ingest_path(db, "tracker", f)` into a fresh database file (read,
  validate, store), as benchmarks/ingest_scale.py measures Connect;
- reader start: the bounded reader on bytes that are not a workbook (its fixed cost per
  workbook: a child forked by the reader zygote; before the zygote, a fresh interpreter
  importing pyarrow and python-calamine), and the zygote's own start (once per server);
- reader process alone: a fresh reader interpreter (where the zygote cannot run) on its own;
- with --before DIR, the guarded read and whole ingest of another checkout as well.
CPU is user + system time of the measuring process and of every child it waited for (the
reader process), so the reader's work is counted; what a running server has already imported
(DuckDB, pyarrow, the dashboard's modules; python-calamine for the baseline) is imported, and
the reader zygote started, before the clock starts. The zygote is stopped (waited for) after
the case, so its CPU and its children's count, less its own start-up before the clock. Peak
memory is the measuring process's VmHWM (imports included) and, separately, the reader
process's maximum resident set. Each case runs --repeat times,
interleaved with the others; the lowest CPU is kept.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DIR = Path("/work/bench-data/xlsx")
DEFAULT_SOURCE = Path("/work/bench-data/tracker_100000.csv")
AS_AT = dt.date(2026, 3, 31)  # benchmarks/generate.py's as-at date

CHILD = """
import ctypes, json, resource, sys, time
sys.path.insert(0, {root!r})
{setup}
def cpu():
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime
zygote = sys.modules.get("dashboard.ingest.reader_zygote")
zygote_start_cpu = 0.0
if zygote is not None and zygote._zygote is not None:
    # Its start-up (before the clock) is subtracted from what it costs once it is waited for.
    clock = ctypes.c_int()
    if ctypes.CDLL(None).clock_getcpuclockid(zygote._zygote.process.pid, ctypes.byref(clock)):
        raise OSError("no CPU clock for the zygote")
    zygote_start_cpu = time.clock_gettime(clock.value)
own_before, children_before = cpu()
start = time.perf_counter()
{body}
wall = time.perf_counter() - start
if zygote is not None:
    zygote.stop()  # waits for the zygote, which has waited for its children: their CPU counts
own_after, children_after = cpu()
children_after -= zygote_start_cpu
# VmHWM, not ru_maxrss: after fork and exec, ru_maxrss still counts the parent's memory.
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status")
                if line.startswith("VmHWM:"))
children = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({{"cpu": own_after - own_before + children_after - children_before,
                   "child_cpu": children_after - children_before,
                   "wall": wall, "peak_mib": peak_kib / 1024,
                   "child_peak_mib": children.ru_maxrss / 1024}}))
"""

CALAMINE_SETUP = "import python_calamine"
CALAMINE = """
python_calamine.CalamineWorkbook.from_path({path!r}).get_sheet_by_index(0).to_python()
"""

# What the server has imported before an upload arrives is imported before the clock starts.
SERVER_SETUP = """
import datetime as dt
from pathlib import Path
import duckdb
from dashboard import service
from dashboard.ingest import contract, readers
# A server has pyarrow.compute imported (Streamlit imports it); a command-line ingest, which
# the dashboard package serves too, imports it only when it checks a workbook's cells.
import pyarrow.compute
lookup = contract.load_contract("tracker").header_lookup()
# The strict reader's staging database, opened by the server's first upload (a checkout
# without one opened a database per upload, as the guarded read then does).
staging_connection = getattr(readers, "staging_connection", None)
if staging_connection is not None:
    staging_connection().close()
"""
GUARDED_READ = """
con = (staging_connection or duckdb.connect)()
raw = readers.read_table(con, {name!r}, open({path!r}, "rb").read(),
                         lookup)
assert raw.data_rows == {rows}, raw
con.close()
"""

WHOLE_INGEST = """
report = service.ingest_path(Path({db!r}), "tracker", Path({path!r}),
                             as_at=dt.date.fromisoformat({as_at!r}), uploaded_by="benchmark")
assert report.rows == {rows} and report.upload_id is not None, report
"""

# The reader process on its own, started from a small process so that its peak memory is its
# own (a child's maximum resident set counts what it shared with its parent before exec).
READER_ALONE = """
command = [sys.executable, "-c", {command!r}, "2048", "61", "500"]
with open({path!r}, "rb") as workbook:
    subprocess.run(command, stdin=workbook, stdout=subprocess.DEVNULL, check=True)
"""
READER_COMMAND = ("import sys; sys.path.insert(0, {root!r}); "
                  "from dashboard.ingest.workbook_reader import serve_one; serve_one()")
# A running server has started the reader zygote before this upload (the first upload pays
# ZYGOTE_START as well); a checkout without one reads in a fresh process per workbook.
ZYGOTE_SETUP = """
from dashboard.ingest import reader_zygote
reader_zygote.start()
"""
ZYGOTE_START = """
from dashboard.ingest import reader_zygote
reader_zygote.start()
"""
READER_START = """
try:
    spreadsheet_guard.read_in_subprocess(b"not a workbook", 60, 2048)
except spreadsheet_guard.UnreadableFile:
    pass
"""


def make_workbook(source: Path, target: Path, rows: int) -> None:
    """The first `rows` rows of the tracker CSV as a workbook, dates as Excel date cells."""
    import xlsxwriter

    with open(source, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        headers = next(reader)
        dated = [h.endswith("Date") for h in headers]
        temporary = target.with_suffix(".tmp")
        workbook = xlsxwriter.Workbook(str(temporary), {"constant_memory": True})
        sheet = workbook.add_worksheet("Tracker")
        date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
        sheet.write_row(0, 0, headers)
        for r, row in enumerate(reader, start=1):
            if r > rows:
                break
            for c, value in enumerate(row):
                if not value:
                    continue
                if dated[c]:
                    sheet.write_datetime(r, c, dt.datetime.strptime(value, "%d/%m/%Y"),
                                         date_format)
                else:
                    sheet.write_string(r, c, value)
        workbook.close()
    temporary.rename(target)


def measure(setup: str, body: str, root: Path = ROOT) -> dict:
    code = CHILD.format(root=str(root), setup=setup, body=body)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=root, check=False)
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def has_zygote(root: Path) -> bool:
    return (root / "dashboard" / "ingest" / "reader_zygote.py").exists()


def lowest(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["cpu"])


def machine_load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", type=Path, default=None,
                        help="another checkout of the project (e.g. `git archive` of an older "
                             "commit) whose guarded read and ingest are measured alongside")
    options = parser.parse_args()
    options.dir.mkdir(parents=True, exist_ok=True)
    print(f"uptime at start: {machine_load()}")
    guard_setup = SERVER_SETUP + "from dashboard.ingest import spreadsheet_guard\n"
    roots = {"": ROOT} | ({" (before)": options.before.resolve()} if options.before else {})
    for suffix, root in roots.items():
        setup = guard_setup + (ZYGOTE_SETUP if has_zygote(root) else "")
        start_cost = lowest([measure(setup, READER_START, root) for _ in range(options.repeat)])
        print(f"reader start{suffix} (a workbook that is not one): "
              f"{start_cost['child_cpu']:.3f} CPU-s in the reader, {start_cost['cpu']:.3f} "
              "CPU-s in all")
        if has_zygote(root):
            zygote_cost = lowest([measure(SERVER_SETUP, ZYGOTE_START, root)
                                  for _ in range(options.repeat)])
            print(f"reader zygote start{suffix} (once per server): "
                  f"{zygote_cost['child_cpu']:.3f} CPU-s in the zygote, "
                  f"{zygote_cost['cpu']:.3f} CPU-s in all")
    print()
    print("| rows | workbook | case | CPU (s) | of which reader process | wall (s) | "
          "peak memory (MiB) | CPU vs calamine |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for rows in options.rows:
        path = options.dir / f"tracker_{rows}.xlsx"
        if not path.exists():
            make_workbook(options.source, path, rows)
        db = options.dir / f"bench_{rows}.duckdb"
        cases = {"calamine `to_python()`": (CALAMINE_SETUP, CALAMINE.format(path=str(path)),
                                            ROOT),
                 "reader process alone": ("import subprocess", READER_ALONE.format(
                     command=READER_COMMAND.format(root=str(ROOT)), path=str(path)), ROOT)}
        for suffix, root in roots.items():
            setup = SERVER_SETUP + (ZYGOTE_SETUP if has_zygote(root) else "")
            cases[f"guarded read{suffix}"] = (
                setup, GUARDED_READ.format(name=path.name, path=str(path), rows=rows), root)
            cases[f"whole ingest{suffix}"] = (
                setup, WHOLE_INGEST.format(db=str(db), path=str(path), rows=rows,
                                           as_at=AS_AT.isoformat()), root)
        results = {}
        for _ in range(options.repeat):  # interleaved, so a busy spell hits every case
            for label, (setup, body, root) in cases.items():
                for leftover in options.dir.glob(f"{db.name}*"):
                    leftover.unlink()
                results.setdefault(label, []).append(measure(setup, body, root))
        for leftover in options.dir.glob(f"{db.name}*"):
            leftover.unlink()
        best = {label: lowest(runs) for label, runs in results.items()}
        baseline = best["calamine `to_python()`"]["cpu"]
        size = f"{path.stat().st_size / 1e6:.1f} MB"
        for label, r in best.items():
            child = f"{r['child_cpu']:.3f}" if r["child_cpu"] else ""
            peak = r["child_peak_mib"] if label == "reader process alone" else r["peak_mib"]
            print(f"| {rows:,} | {size} | {label} | {r['cpu']:.3f} | {child} | "
                  f"{r['wall']:.2f} | {peak:,.0f} | {r['cpu'] / baseline:.1f}x |", flush=True)
    print(f"\nuptime at end: {machine_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
