"""What each page costs the server (run by hand, not a test): CPU of a cold run (empty caches),
a warm rerun (mean of five), and a filter change, against the CPU of the bare queries the
cold run made.

    .venv/bin/python benchmarks/pages.py --referrals 10000 --crimes 1000000

Builds the database once per scale (benchmarks/generate.py's files through the real ingest),
then runs every page of the admin role (who sees all of them) under Streamlit's AppTest in a
child process, so one scale's caches and imports never flatter another's. CPU is
time.process_time() of the whole process (DuckDB's threads included); "bare queries" is the
CPU spent inside queries.run during the cold run, i.e. the queries themselves.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

import generate  # noqa: E402

# A national Connect export (10M rows, about 720 MB) is over the default upload limit.
os.environ.setdefault("O2R_MAX_UPLOAD_MB", "2048")
# A page's own cost is measured: a pack protected ahead would count in the process's CPU.
os.environ["O2R_PACK_AHEAD"] = "no"

PAGE_ORDER = ["overview", "my_work", "referral_sources", "offending_areas", "officer_caseloads",
              "journey_flow", "outcomes", "cost_savings", "referral_list", "quarterly_pack",
              "methodology", "data", "access_log", "users", "floor"]
# "floor" is the entry script alone (sign-in check, navigation, filter bar, data banner) with
# the page's own script skipped: what any page costs before its content.
FLOOR = "floor"
WARM_RUNS = 5


def build_database(folder: Path, referrals: int, crimes: int) -> tuple[Path, dict]:
    """The database for this scale, built through the real ingest (reused if there)."""
    from dashboard import service

    db = folder / f"o2r_{referrals}_{crimes}.duckdb"
    timings: dict = {}
    if db.exists():
        return db, timings
    files = generate.generate(folder, referrals, crimes)
    partial = db.with_suffix(".building")
    partial.unlink(missing_ok=True)
    for kind in ("tracker", "connect"):
        start, wall = time.process_time(), time.perf_counter()
        report = service.ingest_path(partial, kind, files[kind], as_at=generate.AS_AT,
                                     uploaded_by="benchmark")
        timings[kind] = {"cpu": time.process_time() - start,
                         "wall": time.perf_counter() - wall, "rows": report.rows}
    partial.rename(db)
    for leftover in (Path(f"{partial}.lock"), Path(f"{partial}.wal")):
        leftover.unlink(missing_ok=True)
    return db, timings


def child(db: Path, pages: list[str]) -> None:
    """Runs in its own process: every page cold, warm and after a filter change."""
    security_db = Path(tempfile.mkdtemp()) / "security.sqlite"
    os.environ["O2R_DB"] = str(db)
    os.environ["O2R_SECURITY_DB"] = str(security_db)
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    keep_bytecode_as_a_server_does()

    from dashboard.security import accounts, data_access, sign_in
    from dashboard.store import queries

    spent = {"queries": 0.0}
    real_run = queries.run

    def timed_run(*args, **kwargs):
        start = time.process_time()
        try:
            return real_run(*args, **kwargs)
        finally:
            spent["queries"] += time.process_time() - start

    queries.run = timed_run
    accounts.add_user(security_db, "Benchmark admin", "admin", password="correct horse battery")
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=600)
    at.session_state[sign_in.SESSION_KEY] = {"name": "Benchmark admin", "via": "local",
                                          "last_activity": dt.datetime.now(dt.UTC)}
    at.run()  # sign-in and imports, not counted against any page

    def cpu_of(step) -> tuple[float, float]:
        spent["queries"] = 0.0
        start = time.process_time()
        step()
        if at.exception:
            raise RuntimeError([e.message for e in at.exception])
        return time.process_time() - start, spent["queries"]

    from streamlit.navigation.page import StreamlitPage

    real_page_run = StreamlitPage.run
    for page in pages:
        at.switch_page(f"../pages/{'overview' if page == FLOOR else page}.py")
        StreamlitPage.run = (lambda self: None) if page == FLOOR else real_page_run
        st.cache_data.clear()
        # quarters protected before, by this version or one before, would flatter the pack
        data_access._pack_memo.clear()
        data_access._kept_chains.clear()
        cold, bare = cpu_of(at.run)
        # A warm rerun is a few tens of ms on a shared machine: the mean of five.
        warm = sum(cpu_of(at.run)[0] for _ in range(WARM_RUNS)) / WARM_RUNS
        # Cold again: caches emptied, but the page's modules already imported (as on a
        # server where any viewer has opened the page before).
        st.cache_data.clear()
        data_access._pack_memo.clear()
        data_access._kept_chains.clear()
        again, again_bare = cpu_of(at.run)
        # The filter bar is drawn only on the pages it filters (access.FILTERED_PAGES).
        changed = changed_queries = None
        if any(box.key == "filter_period" for box in at.selectbox):
            periods = [o for o in at.selectbox(key="filter_period").options]
            changed, changed_queries = cpu_of(
                lambda periods=periods: at.selectbox(key="filter_period").select(periods[1]).run())
            at.selectbox(key="filter_period").select(periods[0]).run()
        print(json.dumps({"page": page, "cold": cold, "bare": bare, "warm": warm,
                          "cold_again": again, "cold_again_bare": again_bare,
                          "filter_change": changed, "filter_change_queries": changed_queries}),
              flush=True)


def keep_bytecode_as_a_server_does() -> None:
    """One script cache for every run, as a server's runtime keeps one for its life. AppTest
    makes a new one per run, so each run compiled the entry script and the page again (with
    Streamlit's "magic" rewrite of their syntax trees): 15-45 ms of every warm rerun measured
    here that no server pays."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared


def filter_change_cell(row: dict) -> str:
    return "no filter bar" if row["filter_change"] is None else f"{row['filter_change']:.2f}"


def table(rows: list[dict]) -> str:
    lines = ["| page | cold CPU (s) | its bare queries (s) | cold - queries (s) | warm rerun "
             "(ms) | filter change (s) | cold again, imports done (s) | its queries (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['page']} | {r['cold']:.2f} | {r['bare']:.2f} | "
                     f"{r['cold'] - r['bare']:.2f} | {r['warm'] * 1000:.0f} | "
                     f"{filter_change_cell(r)} | {r['cold_again']:.2f} | "
                     f"{r['cold_again_bare']:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=10_000)
    parser.add_argument("--crimes", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--pages", nargs="*", default=PAGE_ORDER)
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child is not None:
        child(options.child, options.pages)
        return 0
    db, built = build_database(options.dir, options.referrals, options.crimes)
    for kind, timing in built.items():
        print(f"ingest {kind}: {timing['rows']:,} rows, {timing['cpu']:.1f} CPU-s, "
              f"{timing['wall']:.1f} s wall", file=sys.stderr)
    result = subprocess.run([sys.executable, __file__, "--child", str(db), "--pages",
                             *options.pages], capture_output=True, text=True, check=False)
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode:
        print(result.stderr[-3000:], file=sys.stderr)
    print(f"{options.referrals:,} referrals / {options.crimes:,} crimes")
    print(table(rows))
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
