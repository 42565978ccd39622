"""Whether the default views' queries grow with stored crimes (run by hand, not a test).

    .venv/bin/python benchmarks/crime_growth.py --referrals 100000 --crimes 10000000

Takes the database benchmarks/pages.py builds for a scale and a copy of it keeping one crime
in ten (chosen by a hash of the crime reference; the Connect facts rebuilt, as after an
upload), so the two hold the same referrals and differ only in crimes. Then times each query
the Outcomes, Cost savings and Offending areas pages run by default on both, in the same
process, alternating (CPU seconds, best of five, with the query's own cache empty: a fresh
read-only connection each time). A query that reads the Connect facts costs about the same
on both; one that scans every crime costs about ten times as much on the full one.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

import pages  # noqa: E402
from dashboard.security.access import COMMAND_LINE  # noqa: E402
from dashboard.store import database, facts, queries  # noqa: E402

# The default view's queries of each page that reads the crimes, with the pages' parameters.
DEFAULT_VIEWS = [
    ("outcomes", "offending_windows", {}),
    ("outcomes", "time_to_first_offence", {}),
    ("cost_savings", "offending_windows", {}),
    ("cost_savings", "offences_by_area", {}),
    ("cost_savings", "offending_windows_by_type", {}),
    ("offending_areas", "offences_by_area", {}),
]
RUNS = 5


def thinned_copy(full: Path, folder: Path, keep_one_in: int) -> Path:
    thin = folder / f"thin_{full.name}"
    shutil.copyfile(full, thin)
    with database.writing(thin) as con:
        con.execute("delete from crimes where hash(crime_reference) % $n <> 0",
                    {"n": keep_one_in})
        facts.refresh_facts(con)
    return thin


def query_cpu(db: Path, name: str, params: dict) -> float:
    con = database.connect_read_only(db)
    try:
        start = time.process_time()
        queries.run(con, COMMAND_LINE, name, **params)
        return time.process_time() - start
    finally:
        con.close()


def crimes_in(db: Path) -> int:
    con = database.connect_read_only(db)
    try:
        return con.execute("select count(*) from o2r.crimes").fetchone()[0]
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--crimes", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--keep-one-in", type=int, default=10)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    full, _ = pages.build_database(args.dir, args.referrals, args.crimes)
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        thin = thinned_copy(full, Path(scratch), args.keep_one_in)
        sizes = {"full": crimes_in(full), "thin": crimes_in(thin)}
        print(f"{args.referrals:,} referrals; crimes stored: {sizes['full']:,} (full) and "
              f"{sizes['thin']:,} (one in {args.keep_one_in} kept)\n")
        print(f"| page | query | CPU with {sizes['thin']:,} crimes (s) | "
              f"CPU with {sizes['full']:,} crimes (s) | ratio |")
        print("|---|---|---:|---:|---:|")
        for page, name, params in DEFAULT_VIEWS:
            best = {"full": float("inf"), "thin": float("inf")}
            for _ in range(RUNS):
                for which, db in (("thin", thin), ("full", full)):
                    best[which] = min(best[which], query_cpu(db, name, params))
            print(f"| {page} | {name} | {best['thin']:.3f} | {best['full']:.3f} | "
                  f"{best['full'] / best['thin']:.1f}x |")


if __name__ == "__main__":
    main()
