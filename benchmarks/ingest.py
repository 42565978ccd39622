"""By-hand benchmark (not a test): our upload ingest against DuckDB's own CSV loader.

    .venv/bin/python benchmarks/ingest.py                      # full size, best of 3
    .venv/bin/python benchmarks/ingest.py --rows-connect 100000 --rows-tracker 5000 --repeat 1
    .venv/bin/python benchmarks/ingest.py --dir benchmarks/out --profile

Generates, deterministically, a Connect CSV (default 1,000,000 rows) and a tracker XLSX
(default 50,000 rows, plus the same rows as CSV), then times, best of N in this process:

- Connect: DuckDB `create table t as select * from read_csv(...)` into a fresh database file,
  against `service.ingest_path(..., "connect", ...)` into a fresh database file.
- Tracker: DuckDB `read_csv` of the same rows saved as CSV (DuckDB cannot read XLSX offline),
  against `service.ingest_path(..., "tracker", ...)` of the XLSX; python_calamine reading
  the XLSX alone is shown for context.

Prints a Markdown table. `--profile` also runs one Connect ingest under cProfile and writes
the stats next to the generated files (connect_ingest.prof) and the top entries to stdout.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import io
import os
import platform
import pstats
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import python_calamine  # noqa: E402
import xlsxwriter  # noqa: E402

from dashboard import service  # noqa: E402

# Each upload is recorded in an access log: this run's own, not the real one in data/.
os.environ.setdefault("O2R_SECURITY_DB", str(Path(tempfile.mkdtemp()) / "o2r-security.sqlite"))

SEED = 20220731
AS_AT = dt.date(2022, 7, 31)
START = dt.date(2019, 1, 1)
SPAN_DAYS = (AS_AT - START).days
PEOPLE = 5_000

CONNECT_HEADERS = ["Crime Reference", "Nominal ID", "Offence Date", "Offence Type",
                   "Offence Area", "Value Stolen"]
TRACKER_HEADERS = ["Nominal ID", "Referral Date", "Officer", "Referral Source",
                   "Offending Area", "Status", "First Contact Date", "Assessment Date",
                   "Rehab Admission Date", "Rehab Facility", "Rehab Exit Date",
                   "Rehab Exit Reason", "Outcome"]
TRACKER_DATE_COLUMNS = {h for h in TRACKER_HEADERS if h.endswith("Date")}

AREAS = {  # area -> the station code used in crime references
    "City Centre": "BEN", "Erdington": "ERD", "Sutton Coldfield": "SUT", "Harborne": "HAR",
    "Selly Oak": "SEL", "Northfield": "NOR", "Aston": "AST", "Perry Barr": "PBR",
    "Small Heath": "SMH", "Handsworth": "HAN", "Kings Heath": "KHE", "Acocks Green": "ACG",
}
AREA_NAMES = list(AREAS)
AREA_WEIGHTS = [30, 12, 6, 5, 6, 5, 8, 7, 6, 6, 5, 4]
OFFENCE_TYPES = ["Shoplifting", "Theft from the person", "Burglary - business and community",
                 "Criminal damage", "Robbery of personal property", "Theft of pedal cycle",
                 "Other theft"]
OFFENCE_WEIGHTS = [85, 3, 3, 3, 2, 2, 2]
OFFICERS = ["Officer 1", "Officer 2", "New recruit 1", "New recruit 2", "Former officer"]
REFERRAL_SOURCES = ["O2R officer outreach", "Retail business", "Neighbourhood policing team",
                    "Probation", "Custody", "Partner agency", "Word of mouth"]
FACILITIES = ["Seasons", "Livingstone House", "Changes UK"]
EXIT_REASONS = ["Completed", "Self-discharged", "Discharged - rule breach",
                "Discharged - other"]
OUTCOMES = ["Not interested", "Did not meet criteria", "Diverted - partner agency",
            "Diverted - prison", "Ongoing engagement", "Withdrawn", "Deceased"]


# ----------------------------------------------------------------------------- generation

def people(rng: random.Random) -> list[str]:
    return [f"BEN{n:05d}" for n in sorted(rng.sample(range(1, 100_000), PEOPLE))]


def write_connect_csv(path: Path, rows: int) -> None:
    rng = random.Random(SEED)
    nominals = people(rng)
    # Unique sequence numbers: the reference is unique whatever the station and year.
    sequences = rng.sample(range(10_000_000), rows)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(CONNECT_HEADERS)
        areas = rng.choices(AREA_NAMES, AREA_WEIGHTS, k=rows)
        types = rng.choices(OFFENCE_TYPES, OFFENCE_WEIGHTS, k=rows)
        batch = []
        for i in range(rows):
            day = START + dt.timedelta(days=rng.randrange(SPAN_DAYS + 1))
            area = areas[i]
            if rng.random() < 0.2:
                value = ""
            else:
                value = f"£{rng.lognormvariate(3.5, 1.2):,.2f}"
            batch.append((f"20{AREAS[area]}/{sequences[i]:07d}/{day.year % 100:02d}",
                          rng.choice(nominals), day.strftime("%d/%m/%Y"), types[i], area,
                          value))
            if len(batch) == 50_000:
                writer.writerows(batch)
                batch.clear()
        writer.writerows(batch)


def later(rng: random.Random, day: dt.date | None, chance: float,
          max_days: int) -> dt.date | None:
    """A date on or after `day` (by up to max_days), or None; never after the as-at date."""
    if day is None or rng.random() >= chance:
        return None
    candidate = day + dt.timedelta(days=rng.randrange(max_days + 1))
    return candidate if candidate <= AS_AT else None


def tracker_rows(rows: int) -> list[list[object]]:
    """Rows that pass every tracker check (dates as datetime.date, blanks as None)."""
    rng = random.Random(SEED + 1)
    nominals = people(rng)
    seen: set[tuple[str, dt.date]] = set()
    out: list[list[object]] = []
    while len(out) < rows:
        nominal = rng.choice(nominals)
        referral = START + dt.timedelta(days=rng.randrange(SPAN_DAYS + 1))
        if (nominal, referral) in seen:
            continue
        seen.add((nominal, referral))
        contact = later(rng, referral, 0.8, 30)
        assessment = later(rng, contact, 0.7, 45)
        admission = later(rng, assessment, 0.35, 60)
        exit_date = later(rng, admission, 0.6, 120)
        if exit_date is not None:
            status = rng.choice(["Inactive", "Withdrawn"])
        elif admission is not None or assessment is not None:
            status = "Active"
        elif contact is not None:
            status = rng.choice(["Active", "Referral/Waiting"])
        else:
            status = rng.choice(["Referral/Waiting", "Withdrawn", "Inactive"])
        outcome = None if rng.random() < 0.4 else rng.choice(OUTCOMES)
        out.append([
            nominal, referral, rng.choice(OFFICERS), rng.choice(REFERRAL_SOURCES),
            rng.choice(AREA_NAMES), status, contact, assessment, admission,
            rng.choice(FACILITIES) if admission is not None else None,
            exit_date,
            rng.choice(EXIT_REASONS) if exit_date is not None else None,
            outcome,
        ])
    return out


def write_tracker_xlsx(path: Path, rows: list[list[object]]) -> None:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    workbook.set_properties({"created": dt.datetime(2022, 8, 1, 9, 0, 0)})
    sheet = workbook.add_worksheet("Tracker")
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    bold = workbook.add_format({"bold": True})
    sheet.write_string(0, 0, "Offender to Rehab (O2R) referrals tracker - SYNTHETIC", bold)
    sheet.write_string(1, 0, "Benchmark data, exported 31/07/2022")
    for c, header in enumerate(TRACKER_HEADERS):
        sheet.write_string(2, c, header, bold)
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, value, date_format)
            else:
                sheet.write_string(r, c, value)
    workbook.close()


def write_tracker_csv(path: Path, rows: list[list[object]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(TRACKER_HEADERS)
        writer.writerows([[v.strftime("%d/%m/%Y") if isinstance(v, dt.date) else (v or "")
                           for v in row] for row in rows])


def generate(folder: Path, rows_connect: int, rows_tracker: int) -> dict[str, Path]:
    """Write (or reuse, if already there for these sizes) the benchmark files."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"connect_csv": folder / f"connect_{rows_connect}.csv",
             "tracker_xlsx": folder / f"tracker_{rows_tracker}.xlsx",
             "tracker_csv": folder / f"tracker_{rows_tracker}.csv"}
    if not files["connect_csv"].exists():
        started = time.perf_counter()
        write_connect_csv(files["connect_csv"].with_suffix(".tmp"), rows_connect)
        files["connect_csv"].with_suffix(".tmp").rename(files["connect_csv"])
        note(f"generated {files['connect_csv'].name} in {time.perf_counter() - started:.1f}s")
    if not (files["tracker_xlsx"].exists() and files["tracker_csv"].exists()):
        started = time.perf_counter()
        rows = tracker_rows(rows_tracker)
        write_tracker_csv(files["tracker_csv"], rows)
        write_tracker_xlsx(files["tracker_xlsx"].with_suffix(".tmp"), rows)
        files["tracker_xlsx"].with_suffix(".tmp").rename(files["tracker_xlsx"])
        note(f"generated {files['tracker_xlsx'].name} and .csv in "
             f"{time.perf_counter() - started:.1f}s")
    return files


# ----------------------------------------------------------------------------- timing

def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def remove_database(db: Path) -> None:
    for leftover in [db, Path(f"{db}.wal"), Path(f"{db}.lock"),
                     *db.parent.glob(f"{db.name}.writing-*")]:
        leftover.unlink(missing_ok=True)


def best_of(label: str, repeat: int, run: Callable[[], None],
            before: Callable[[], None] = lambda: None) -> float:
    times = []
    for _ in range(repeat):
        before()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    note(f"{label}: " + ", ".join(f"{t:.3f}s" for t in times))
    return min(times)


def duckdb_csv_load(db: Path, csv_path: Path) -> Callable[[], None]:
    def run() -> None:
        con = duckdb.connect(str(db))
        con.execute("create table t as select * from read_csv($path)", {"path": str(csv_path)})
        con.close()
    return run


def our_ingest(db: Path, kind: str, path: Path, expected_rows: int) -> Callable[[], None]:
    def run() -> None:
        try:
            report = service.ingest_path(db, kind, path, as_at=AS_AT, uploaded_by="benchmark")
        except service.UploadRejected as exc:
            problems = exc.report.problems
            sys.exit(f"{path.name} was rejected ({len(problems)} problems); first few:\n"
                     f"{problems.head(10).to_string()}")
        if report.rows != expected_rows or report.upload_id is None:
            sys.exit(f"{path.name}: expected {expected_rows} rows stored, report says "
                     f"{report.rows} (upload {report.upload_id}, duplicate of "
                     f"{report.duplicate_of})")
    return run


def calamine_read(path: Path) -> Callable[[], None]:
    def run() -> None:
        sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        sheet.to_python(skip_empty_area=False)
    return run


def profile_connect(folder: Path, csv_path: Path, rows: int, top: int) -> None:
    db = folder / "profile.duckdb"
    remove_database(db)
    profiler = cProfile.Profile()
    profiler.enable()
    our_ingest(db, "connect", csv_path, rows)()
    profiler.disable()
    remove_database(db)
    out = folder / "connect_ingest.prof"
    profiler.dump_stats(out)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    print(f"\n### cProfile of one Connect ingest ({out})\n\n```\n{text.getvalue().strip()}\n```")


def cores() -> str:
    logical = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = logical
    return f"{usable}" if usable == logical else f"{usable} usable of {logical}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows-connect", type=int, default=1_000_000)
    parser.add_argument("--rows-tracker", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="keep and reuse generated files here (e.g. benchmarks/out); "
                             "default: a temporary folder removed afterwards")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one Connect ingest")
    parser.add_argument("--profile-top", type=int, default=30)
    args = parser.parse_args(argv)

    folder = args.dir.resolve() if args.dir else Path(tempfile.mkdtemp(prefix="o2r-bench-"))
    try:
        files = generate(folder, args.rows_connect, args.rows_tracker)
        base_db, our_db = folder / "baseline.duckdb", folder / "ours.duckdb"
        results = []

        base = best_of("connect: duckdb read_csv", args.repeat,
                       duckdb_csv_load(base_db, files["connect_csv"]),
                       lambda: remove_database(base_db))
        ours = best_of("connect: service.ingest_path", args.repeat,
                       our_ingest(our_db, "connect", files["connect_csv"], args.rows_connect),
                       lambda: remove_database(our_db))
        results.append(("Connect CSV", args.rows_connect, base, ours))

        base = best_of("tracker: duckdb read_csv (same rows as CSV)", args.repeat,
                       duckdb_csv_load(base_db, files["tracker_csv"]),
                       lambda: remove_database(base_db))
        calamine = best_of("tracker: python_calamine read only", args.repeat,
                           calamine_read(files["tracker_xlsx"]))
        ours = best_of("tracker: service.ingest_path", args.repeat,
                       our_ingest(our_db, "tracker", files["tracker_xlsx"], args.rows_tracker),
                       lambda: remove_database(our_db))
        results.append(("Tracker XLSX (baseline: same rows as CSV)", args.rows_tracker, base,
                        ours))
        results.append(("Tracker XLSX, python_calamine read alone (context)",
                        args.rows_tracker, base, calamine))
        remove_database(base_db)
        remove_database(our_db)

        print(f"\nCores: {cores()}; DuckDB {duckdb.__version__}; Python "
              f"{platform.python_version()}; best of {args.repeat}; "
              f"Connect CSV {files['connect_csv'].stat().st_size / 1048576:.1f} MB, "
              f"tracker XLSX {files['tracker_xlsx'].stat().st_size / 1048576:.1f} MB\n")
        print("| case | rows | DuckDB baseline (s) | ours (s) | ratio (ours / baseline) |")
        print("|---|---:|---:|---:|---:|")
        for case, rows, base, ours in results:
            print(f"| {case} | {rows:,} | {base:.3f} | {ours:.3f} | {ours / base:.1f}x |")

        if args.profile:
            profile_connect(folder, files["connect_csv"], args.rows_connect, args.profile_top)
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
