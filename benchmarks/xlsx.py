"""Tracker workbook (XLSX) ingest against python-calamine's own read of the same workbook (run
by hand, not a test): CPU, wall time and peak memory, each case in its own process.

    .venv/bin/python benchmarks/xlsx.py                       # 1,000, 10,000 and 100,000 rows
    .venv/bin/python benchmarks/xlsx.py --rows 1000 10000 --repeat 3

The workbooks are made once from benchmarks/generate.py's tracker CSV (the first N rows, its
dd/mm/yyyy dates written as Excel date cells, as a tracker saved from Excel holds them) and
kept under --dir (default /work/bench-data/xlsx; never committed). Cases, in one run:
- calamine: `CalamineWorkbook.from_path(f).get_sheet_by_index(0).to_python()`, the baseline;
- guarded read: `readers.read_table` into an in-memory DuckDB (archive, XML and row checks,
  the bounded reader process, header search, cell-size checks, staging);
- whole ingest: `service.ingest_path(db, "tracker", f)` into a fresh database file (read,
  validate, store), as benchmarks/ingest_scale.py measures Connect;
- reader start: the bounded reader process started on an empty workbook-less call (its fixed
  cost: a fresh interpreter importing pyarrow and python-calamine).
CPU is user + system time of the measuring process and of every child it waited for (the
reader process), so the guarded reader's work is counted; peak memory is the measuring
process's VmHWM and, separately, the largest child's maximum resident set. Each case runs
--repeat times; the lowest CPU is kept.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DIR = Path("/work/bench-data/xlsx")
DEFAULT_SOURCE = Path("/work/bench-data/tracker_100000.csv")
AS_AT = dt.date(2026, 3, 31)  # benchmarks/generate.py's as-at date

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
start = time.perf_counter()
{body}
wall = time.perf_counter() - start
own = resource.getrusage(resource.RUSAGE_SELF)
children = resource.getrusage(resource.RUSAGE_CHILDREN)
# VmHWM, not ru_maxrss: after fork and exec, ru_maxrss still counts the parent's memory.
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status")
                if line.startswith("VmHWM:"))
print(json.dumps({{"cpu": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
                   "child_cpu": children.ru_utime + children.ru_stime,
                   "wall": wall, "peak_mib": peak_kib / 1024,
                   "child_peak_mib": children.ru_maxrss / 1024}}))
"""

CALAMINE = """
import python_calamine
python_calamine.CalamineWorkbook.from_path({path!r}).get_sheet_by_index(0).to_python()
"""

GUARDED_READ = """
import duckdb
from dashboard import contract, readers
lookup = contract.load_contract("tracker").header_lookup()
con = duckdb.connect()
raw = readers.read_table(con, {name!r}, open({path!r}, "rb").read(),
                         lookup)
assert raw.data_rows == {rows}, raw
"""

WHOLE_INGEST = """
import datetime as dt
from pathlib import Path
from dashboard import service
report = service.ingest_path(Path({db!r}), "tracker", Path({path!r}),
                             as_at=dt.date.fromisoformat({as_at!r}), uploaded_by="benchmark")
assert report.rows == {rows} and report.upload_id is not None, report
"""

READER_START = """
from dashboard import workbook_reader
try:
    workbook_reader.read_in_subprocess(b"not a workbook", 60, 2048)
except workbook_reader.UnreadableFile:
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


def measure(body: str) -> dict:
    code = CHILD.format(root=str(ROOT), body=body)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=False)
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def best(body: str, repeat: int) -> dict:
    return min((measure(body) for _ in range(repeat)), key=lambda r: r["cpu"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    options.dir.mkdir(parents=True, exist_ok=True)
    print(f"uptime at start: {os.popen('uptime').read().strip()}")
    start_cost = best(READER_START, options.repeat)
    print(f"reader process start (no workbook): {start_cost['child_cpu']:.3f} CPU-s in the "
          f"child, {start_cost['cpu']:.3f} CPU-s in all, {start_cost['child_peak_mib']:.0f} "
          "MiB child peak")
    print("| rows | workbook | case | CPU (s) | of which reader process | wall (s) | "
          "peak (MiB) | reader peak (MiB) | CPU vs calamine |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for rows in options.rows:
        path = options.dir / f"tracker_{rows}.xlsx"
        if not path.exists():
            make_workbook(options.source, path, rows)
        db = options.dir / f"bench_{rows}.duckdb"
        cases = {"calamine `to_python()`": CALAMINE.format(path=str(path)),
                 "guarded read": GUARDED_READ.format(name=path.name, path=str(path), rows=rows),
                 "whole ingest": WHOLE_INGEST.format(db=str(db), path=str(path), rows=rows,
                                                     as_at=AS_AT.isoformat())}
        results = {}
        for label, body in cases.items():
            runs = []
            for _ in range(options.repeat):
                for leftover in options.dir.glob(f"{db.name}*"):
                    leftover.unlink()
                runs.append(measure(body))
            results[label] = min(runs, key=lambda r: r["cpu"])
        for leftover in options.dir.glob(f"{db.name}*"):
            leftover.unlink()
        baseline = results["calamine `to_python()`"]["cpu"]
        size = f"{path.stat().st_size / 1e6:.1f} MB"
        for label, r in results.items():
            child = f"{r['child_cpu']:.2f}" if r["child_cpu"] else ""
            child_peak = f"{r['child_peak_mib']:,.0f}" if r["child_cpu"] else ""
            print(f"| {rows:,} | {size} | {label} | {r['cpu']:.2f} | {child} | "
                  f"{r['wall']:.2f} | {r['peak_mib']:,.0f} | {child_peak} | "
                  f"{r['cpu'] / baseline:.1f}x |", flush=True)
    print(f"uptime at end: {os.popen('uptime').read().strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
