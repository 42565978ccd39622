"""Connect ingest at national scale against DuckDB's own load (run by hand, not a test): CPU,
wall time and peak memory, each case in its own process.

    .venv/bin/python benchmarks/ingest_scale.py --referrals 10000 --crimes 1000000

Cases, on benchmarks/generate.py's files:
- duckdb read_csv: `create table t as select * from read_csv(file)` into a fresh database file;
- ours: `service.ingest_path(db, "connect", file)` (read, validate, store, refresh the Connect
  facts) into a database already holding the tracker;
- command line: `python -m dashboard --help`, to show what starting costs.
CPU is the child's user + system time (all its threads), peak memory its maximum resident
set (/proc's VmHWM), so the two loads are compared in one run on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

import generate  # noqa: E402

# A national Connect export (10M rows, about 720 MB) is over the default upload limit.
os.environ.setdefault("O2R_MAX_UPLOAD_MB", "2048")
# Each upload is recorded in an access log: this run's own, not the real one in data/.
os.environ.setdefault("O2R_SECURITY_DB", str(Path(tempfile.mkdtemp()) / "o2r-security.sqlite"))

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
start = time.perf_counter()
{body}
usage = resource.getrusage(resource.RUSAGE_SELF)
# VmHWM, not ru_maxrss: after fork and exec, ru_maxrss still counts the parent's memory.
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status")
                if line.startswith("VmHWM:"))
print(json.dumps({{"cpu": usage.ru_utime + usage.ru_stime,
                   "wall": time.perf_counter() - start,
                   "peak_mib": peak_kib / 1024}}))
"""

DUCKDB_LOAD = """
import duckdb
con = duckdb.connect({db!r})
con.execute("create table t as select * from read_csv($path)", {{"path": {path!r}}})
con.close()
"""

OUR_INGEST = """
from pathlib import Path
import generate
from dashboard import service
service.ingest_path(Path({db!r}), "connect", Path({path!r}), as_at=generate.AS_AT,
                    uploaded_by="benchmark")
"""


def measure(body: str) -> dict:
    code = CHILD.format(root=str(ROOT), body=body)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).parent, check=False)
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


COMMAND_LINE_HELP = """
import contextlib, io, runpy
sys.argv = ["dashboard", "--help"]
with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):
    runpy.run_module("dashboard", run_name="__main__")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=10_000)
    parser.add_argument("--crimes", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "out")
    options = parser.parse_args()
    files = generate.generate(options.dir, options.referrals, options.crimes)
    work = Path(tempfile.mkdtemp(dir=options.dir))
    try:
        tracker_db = work / "tracker_only.duckdb"
        measure(OUR_INGEST.replace('"connect"', '"tracker"').format(
            db=str(tracker_db), path=str(files["tracker"])))
        theirs = measure(DUCKDB_LOAD.format(db=str(work / "duckdb.duckdb"),
                                            path=str(files["connect"])))
        ours_db = work / "ours.duckdb"
        shutil.copyfile(tracker_db, ours_db)
        ours = measure(OUR_INGEST.format(db=str(ours_db), path=str(files["connect"])))
        cli = measure(COMMAND_LINE_HELP)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    size = files["connect"].stat().st_size / 1e6
    print(f"Connect CSV, {options.crimes:,} rows ({size:,.0f} MB)")
    print("| case | CPU (s) | wall (s) | peak memory (MiB) | CPU ratio | memory ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, r in (("DuckDB read_csv into a table", theirs), ("our ingest", ours)):
        print(f"| {label} | {r['cpu']:.1f} | {r['wall']:.1f} | {r['peak_mib']:,.0f} | "
              f"{r['cpu'] / theirs['cpu']:.1f}x | {r['peak_mib'] / theirs['peak_mib']:.1f}x |")
    print(f"| `python -m dashboard --help` | {cli['cpu']:.2f} | {cli['wall']:.2f} | "
          f"{cli['peak_mib']:,.0f} | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
