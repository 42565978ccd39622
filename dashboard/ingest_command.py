"""`python -m dashboard ingest`: one file validated and stored, and what came of it said in
lines a person reads (the same words as the Data page)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from dashboard import config
from dashboard.security import accounts


def run(args: argparse.Namespace) -> int:
    """`python -m dashboard ingest`: validate and store one file, and say what came of it."""
    from dashboard import service
    from dashboard.ingest.validation import UploadRejected

    db = config.db_path(args.db)
    try:
        with open(args.file, "rb") as readable:
            readable.read(1)  # read where it is, by the ingest: a clean CSV never whole
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    if not args.file.is_file():  # a pipe or a device has no size to hold to the upload limit
        print(f"Cannot read {args.file}: not a file. Save the export as a file and give its "
              "path", file=sys.stderr)
        return 2
    as_at = args.as_at
    if as_at is None:  # the date the file gives in its title lines or name, as the Data page
        as_at, said = as_at_from_file(args.file)
        print(said)
    try:
        # --uploader names whom the upload is for; who ran the command is kept beside it
        # (any name may be typed there).
        uploader = (f"{args.uploader} (command line: {accounts.login_name()})"
                    if args.uploader else None)
        report = service.ingest_bytes(db, args.kind, args.file.name, args.file,
                                      as_at=as_at,
                                      uploaded_by=uploader,
                                      confirmed=args.confirmed)
    except UploadRejected as rejected:
        print_rejection(rejected.report, args.errors_csv)
        return 1
    except service.UploadNotLogged as stored:
        print(str(stored), file=sys.stderr)
        return 3
    for line in describe(report):
        print(line)
    return 0


def as_at_from_file(path: Path) -> tuple[dt.date, str]:
    """The as-at date a file gives (title lines or name), else today; and a line saying which.
    An export stored as at today though taken earlier would win over a later export's
    records of the same crimes."""
    from dashboard.ingest import upload_hints

    with open(path, "rb") as readable:  # a text file's head is enough; a workbook is read whole
        head = readable.read(upload_hints.HEAD_BYTES)
        if head[:2] == b"PK":
            head += readable.read()
    hints = upload_hints.read_afresh(path.name, head)
    if hints.as_at is not None:
        return hints.as_at, (f"As at {hints.as_at:%d/%m/%Y}, read from the file's "
                             f"{hints.as_at_from} (give --as-at to use another date).")
    today = dt.date.today()
    return today, (f"Warning: no --as-at given and the file does not say when it was taken, so "
                   f"it is stored as at today, {today:%d/%m/%Y}. If the export was taken "
                   "earlier, give --as-at with that date: a Connect export dated later than it "
                   "was taken would win over a later export's records of the same crimes.")


def describe(report) -> list[str]:
    lines = [report.summary()]
    if report.replaced_demo:
        lines.append("This was the first real upload: the synthetic demo data was removed in "
                     "the same step (its snapshots, Connect records and signed-off packs).")
    if report.matched:
        lines.append("Columns matched: " + "; ".join(f"{theirs} -> {ours}"
                                                     for theirs, ours in report.matched.items()))
    if report.dropped_identifying:
        lines.append("Identifying columns dropped (never stored): "
                     + ", ".join(report.dropped_identifying))
    lines += [f"Warning: {w}" for w in report.warnings]
    if report.kept_later:
        lines.append(KEPT_LATER.format(n=report.kept_later))
    unmatched = report.tracker_match_warning()
    if unmatched:
        lines.append(f"Warning: {unmatched}")
    return lines


KEPT_LATER = ("{n:,} of these crime references were already stored from a Connect export taken "
              "later (a later as-at date); those records were kept as that export has them.")


def print_rejection(report, errors_csv: Path | None) -> None:
    print(report.summary(), file=sys.stderr)
    # What the checks found beside the problems (a column not read for want of a header)
    # can be their cause.
    for warning in report.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    problems = report.problems
    for record in problems.itertuples(index=False):
        where = f"row {int(record.row)}" if record.row == record.row and record.row is not None \
            else "file"
        column = f", column '{record.column}'" if record.column else ""
        value = f", value '{record.value}'" if record.value else ""
        print(f"  {where}{column}{value}: {record.problem}. Fix: {record.fix}.", file=sys.stderr)
    if report.problems_total > len(problems):
        print(f"  ... and {report.problems_total - len(problems):,} more problem(s), not "
              "listed: correct those listed, and upload again to see the rest.", file=sys.stderr)
    if errors_csv is not None:
        try:
            errors_csv.write_bytes(report.problems_csv())
        except OSError as exc:
            print(f"The problem list could not be written to {errors_csv} ({exc.strerror}): "
                  "give --errors-csv a file in a folder that exists and you may write to",
                  file=sys.stderr)
            return
        print(f"Problem list written to {errors_csv}", file=sys.stderr)
