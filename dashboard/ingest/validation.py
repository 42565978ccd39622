"""Validate an uploaded export and turn it into clean rows, listing every problem found."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from dashboard import config
from dashboard.ingest import fast_csv
from dashboard.ingest.cell_checks import MAX_PROBLEMS_LISTED, RowProblems
from dashboard.ingest.cell_types import build_typed, clean_select, stage_typed_only
from dashboard.ingest.contract import (
    FORBIDDEN,
    ColumnMapError,
    Contract,
    classify_header,
    header_key,
    load_contract,
    spreadsheet_column,
    visible,
)
from dashboard.ingest.readers import RawTable, UnreadableFile, read_table, staging_connection
from dashboard.ingest.rules import (
    FORBIDDEN_FIX,
    FORBIDDEN_PROBLEM,
    collect_problems,
    collect_warnings,
    column_problems,
    repeats_counted,
    row_rules,
)

if TYPE_CHECKING:
    import pandas as pd

PROBLEM_COLUMNS = ["row", "column", "value", "problem", "fix"]

# Categories with open vocabularies share one spelling per label group across uploads.
LABEL_GROUPS = {
    "officer": "officer",
    "referral_source_detail": "referral_source_detail",
    "offending_area": "area",
    "offence_area": "area",
    "rehab_facility": "rehab_facility",
    "offence_type": "offence_type",
}


class UploadRejected(Exception):
    """The upload was refused; `report` lists why. Nothing stored has changed."""

    def __init__(self, report: IngestReport):
        super().__init__(report.summary())
        self.report = report


@dataclass
class IngestReport:
    """What happened to one upload, in the user's terms."""

    file_name: str
    kind: str
    as_at: dt.date
    sha256: str = ""
    header_row: int | None = None
    matched: dict[str, str] = field(default_factory=dict)  # their header -> our column
    dropped_identifying: list[str] = field(default_factory=list)
    ignored_unknown: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problem_list: list[dict] = field(default_factory=list)  # the first MAX_PROBLEMS_LISTED
    problems_total: int = 0  # `problems` lists the first MAX_PROBLEMS_LISTED
    rows: int = 0  # rows stored (or that would be)
    # Every row below the header is read, blank, or refused or stored: nothing else.
    rows_read: int | None = None  # data rows below the header, blank rows not included
    blank_rows: int = 0
    rows_refused: int = 0  # rows with at least one problem (if rejected, all are refused)
    upload_id: int | None = None
    duplicate_of: int | None = None
    held_back: bool = False  # checked, but held back until confirmed (held_back.HeldBack)
    replaced_demo: bool = False  # stored as the first real upload, the demo data removed
    # Connect: crimes of the file already stored from an export taken later, kept as it has them
    kept_later: int = 0
    # Connect, as stored (or held back): its people, and how many are on the tracker
    people: int | None = None
    people_on_tracker: int | None = None

    def tracker_match_warning(self) -> str | None:
        """Said when fewer than half the people in a stored Connect upload are on the tracker
        (its latest snapshot in force): their crimes count in no figure."""
        from dashboard.ingest.connect_checks import share_on_the_tracker

        on, people = self.people_on_tracker, self.people
        if people is None or on is None or 2 * on >= people:
            return None
        return (f"{share_on_the_tracker(on, people, self.file_name)} on the tracker (its "
                f"latest snapshot in force), so the crimes of the other {people - on:,} count "
                "in no figure. If the nominal IDs are written differently in the two exports (a "
                "prefix, a name beside the ID), correct the Connect export and upload it "
                "again; if no tracker snapshot is in force (none uploaded, or all withdrawn), "
                "upload the tracker.")

    @property
    def ok(self) -> bool:
        return not self.problem_list

    @property
    def problems(self) -> pd.DataFrame:
        """The listed problems as a table. pandas is imported only when one is shown, so a
        command-line upload that goes through does not pay for it."""
        import pandas as pd

        return pd.DataFrame(self.problem_list, columns=list(PROBLEM_COLUMNS))

    def summary(self) -> str:
        if self.held_back:
            return (f"{self.file_name} was not stored yet: it is stored only once confirmed "
                    f"(see below). Rows read: {self.rows_read or 0:,}. Nothing was stored.")
        if not self.ok:
            listed = (f" (the first {len(self.problem_list):,} are listed)"
                      if self.problems_total > len(self.problem_list) else "")
            return (f"{self.file_name} was rejected: {self.problems_total:,} problem(s) "
                    f"found{listed}. {self.row_counts()}Nothing was stored.")
        if self.duplicate_of is not None:
            return (f"{self.file_name} was already uploaded (upload {self.duplicate_of}); "
                    "nothing was changed.")
        return f"{self.file_name}: {self.rows:,} {self.kind} rows accepted (as at " \
               f"{self.as_at:%d/%m/%Y}). {self.row_counts()}".rstrip()

    def row_counts(self) -> str:
        """Where every row below the header went, in one sentence (empty if not read)."""
        if self.rows_read is None:
            return ""
        blank = (f"; {self.blank_rows:,} blank row(s) skipped" if self.blank_rows else "")
        if self.ok:
            return (f"Rows read: {self.rows_read:,}; stored: {self.rows:,}; refused: 0{blank}. ")
        # A file is stored whole or not at all: every row is refused, those listed and the
        # rest.
        return (f"Rows read: {self.rows_read:,}; stored: 0; refused: {self.rows_read:,} "
                f"({self.rows_refused:,} with problems){blank}. ")

    def problems_csv(self) -> bytes:
        from dashboard.ui import exports  # pandas, only when the list is downloaded

        return exports.safe_csv(self.problems)


@dataclass
class PreparedUpload:
    """A validated upload, ready to be stored in one transaction: its clean rows as Arrow, or
    (read by the fast path into a staging folder) as view `clean` on the open staging
    connection `staged`, which the caller closes once the upload is stored or refused."""

    report: IngestReport
    clean: pa.Table | None
    is_demo: bool = False
    staged: duckdb.DuckDBPyConnection | None = None


def reject(report: IngestReport, problems: list[dict], total: int | None = None) -> UploadRejected:
    """The rejection, listing the first MAX_PROBLEMS_LISTED problems and counting the rest
    (`total`, when the caller has counted more problems than it passes)."""
    report.problems_total = max(total or 0, len(problems))
    report.rows_refused = len({p["row"] for p in problems if p["row"] is not None})
    if report.rows_read is not None:
        report.rows_refused = min(report.rows_refused, report.rows_read)
    report.problem_list = list(problems[:MAX_PROBLEMS_LISTED])
    return UploadRejected(report)


def prepare(kind: str, file_name: str, data: bytes | Path, as_at: dt.date | None = None,
            map_file: Path | None = None, max_bytes: int | None = None,
            use_column_map: bool = True, staging: Path | None = None) -> PreparedUpload:
    """Read and validate one export (its bytes, or the file on disk); raise UploadRejected
    listing every problem found.

    A clean Connect CSV is read by the fast path (dashboard/ingest/fast_csv.py), from the file or
    the bytes, never whole in Python; given a `staging` folder (for DuckDB's spill), its clean
    rows are left on the staging connection for store.store_upload (PreparedUpload.staged)
    rather than returned as Arrow. Any other file, and any file with a problem, is read by
    the strict reader, which words every report.
    """
    as_at = as_at or dt.date.today()
    size = data.stat().st_size if isinstance(data, Path) else len(data)

    def new_report() -> IngestReport:
        return IngestReport(file_name=file_name, kind=kind, as_at=as_at)

    if as_at > dt.date.today():
        # A snapshot is in force until one with a later as-at date comes: one dated in the
        # future would hide every upload until then, and let its own dates run up to it.
        raise reject(new_report(), [file_problem(
            f"{file_name} is given an as-at date of {as_at:%d/%m/%Y}, which is in the future",
            "Give the date the export was taken (today or earlier), e.g. --as-at "
            f"{dt.date.today():%Y-%m-%d}")])
    limit = max_bytes if max_bytes is not None else config.max_upload_bytes()
    if size > limit:
        raise reject(new_report(), [file_problem(
            f"{file_name} is {human_size(size)}, over the {human_size(limit)} limit",
            "Split the export into smaller date ranges, or ask an administrator to raise "
            "O2R_MAX_UPLOAD_MB")])
    try:
        if map_file is None and use_column_map:
            map_file = config.column_map_path()
        contract = load_contract(kind, map_file if use_column_map else None)
    except ColumnMapError as exc:
        raise reject(new_report(), [file_problem(str(exc), "Correct the column map file")]
                     ) from exc
    if kind in FAST_KINDS:
        with contextlib.suppress(fast_csv.Declined):
            return prepare_fast(contract, new_report(), data, staging)
    if isinstance(data, Path):
        data = data.read_bytes()
    report = new_report()
    report.sha256 = hashlib.sha256(data).hexdigest()
    con = staging_connection()
    try:
        raw = read_table(con, report.file_name, data, contract.header_lookup())
        check_staged(con, contract, report, raw)
        clean = con.sql(clean_select(contract)).to_arrow_table()
        report.rows = clean.num_rows
        return PreparedUpload(report, clean)
    except RowProblems as exc:
        raise reject(report, exc.problems, exc.total) from exc
    except UnreadableFile as exc:
        raise reject(report, [{"row": exc.row, "column": exc.column, "value": exc.value,
                               "problem": exc.problem, "fix": exc.fix}]) from exc
    finally:
        con.close()


# The kinds whose clean CSV files take the fast path. The tracker (small, and holding dates
# of birth, which the fast path would stage on disk) is always read by the strict reader.
FAST_KINDS = {"connect"}


def prepare_fast(contract: Contract, report: IngestReport, source: bytes | Path,
                 staging: Path | None) -> PreparedUpload:
    """The fast path; raises fast_csv.Declined for any file it does not read, or that has
    any problem (the strict reader then words the report).

    The file's cells are read once, straight into their typed values (cell_types.
    stage_typed_only): the rules look at each row's text as it is read, and only whether
    any row breaks one is kept, never the text, so nothing is staged twice."""
    layout = fast_csv.open_csv(report.file_name, source, contract.header_lookup())
    report.sha256, report.header_row = layout.scanned.sha256, FAST_HEADER_ROW
    positions, problems = match_headers(contract, layout.headers, FAST_HEADER_ROW, report)
    if problems:
        raise fast_csv.Declined("a problem with the header")
    if not all(header_key(header) for header in layout.headers):
        raise fast_csv.Declined("a column without a header: the strict reader says if it holds "
                                "anything")
    folder = staging or fast_csv.new_staging_folder()
    con = fast_csv.staging_connection(
        folder, source.stat().st_size if isinstance(source, Path) else len(source))
    handed_over = False
    try:
        rules = row_rules(contract, positions, layout.scanned.may_hold_forbidden)
        try:
            with fast_csv.data_cells(con, source, layout) as (cells, params):
                stage_typed_only(con, contract, positions, cells,
                                 {**params, "as_at": report.as_at}, rules, FAST_HEADER_ROW + 1,
                                 trim=layout.scanned.cells_may_need_trim)
            data_rows, report.rows_read, bad, repeats = con.execute(
                f"select count(*), count(*) filter (not blank), count(*) filter (bad), "  # noqa: S608 (identifiers from code)
                f"{repeats_counted(contract, 'not blank')} from typed_rows").fetchall()[0]
        except (duckdb.Error, pa.ArrowException) as exc:  # out of memory, too
            raise fast_csv.Declined("a row of another width, a cell the reader cannot read, "
                                    "or over the staging memory limit") from exc
        report.blank_rows = data_rows - report.rows_read
        # One line per row, so no cell holds a line break (the strict reader checks those).
        if layout.scanned.lines != data_rows + 1:
            raise fast_csv.Declined("a line break inside a cell, or a blank line")
        if bad or repeats or not report.rows_read or column_problems(
                con, contract, report, layout.headers, positions):
            raise fast_csv.Declined("a problem to report")
        report.warnings += collect_warnings(con, contract, positions)
        if staging is None:
            clean = con.sql(clean_select(contract)).to_arrow_table()
            report.rows = clean.num_rows
            return PreparedUpload(report, clean)
        con.execute(f"create temp view clean as {clean_select(contract)}")
        report.rows = report.rows_read  # one clean row per row read
        handed_over = True
        return PreparedUpload(report, None, staged=con)
    finally:
        if not handed_over:
            con.close()
        if staging is None:
            shutil.rmtree(folder, ignore_errors=True)


# The fast path reads only files whose header is their first row.
FAST_HEADER_ROW = 1


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1048576:.1f} MB"


def file_problem(problem: str, fix: str) -> dict:
    return {"row": None, "column": "", "value": "", "problem": problem, "fix": fix}


def check_staged(con: duckdb.DuckDBPyConnection, contract: Contract, report: IngestReport,
                 raw: RawTable) -> None:
    """Match the headers, type the staged cells into `typed` and check every rule; raise
    UploadRejected listing every problem found."""
    report.header_row = raw.header_row
    positions, problems = match_headers(contract, raw.headers, raw.header_row, report)
    if raw.unnamed_filled:
        report.warnings.append(unnamed_columns_warning(raw.headers, raw.unnamed_filled))
    if problems:
        raise reject(report, problems)
    build_typed(con, contract, positions, raw.first_data_row)
    report.rows_read = con.execute("select count(*) from typed").fetchall()[0][0]
    report.blank_rows = raw.data_rows - report.rows_read
    if report.rows_read == 0:
        raise reject(report, [file_problem(
            f"{report.file_name} has a header row (row {raw.header_row}) but no data rows",
            "Check that you exported the sheet with its data, then upload again")])
    problems = collect_problems(con, contract, report, raw.headers, positions,
                                raw.may_hold_forbidden)
    if problems:
        raise reject(report, problems)
    report.warnings += collect_warnings(con, contract, positions)


def unnamed_columns_warning(headers: list[str], filled: dict[int, int]) -> str:
    """Columns holding values under an empty header cell (a deleted header, or the columns
    under one merged heading): not read, so named."""
    where = ", ".join(
        f"{spreadsheet_column(index)} ("
        + (f"after '{visible(headers[index - 1])}', " if index and header_key(headers[index - 1])
           else "") + f"{rows:,} row{'s' if rows != 1 else ''})"
        for index, rows in sorted(filled.items()))
    return (f"Not read, as {'it has' if len(filled) == 1 else 'they have'} no header: "
            f"column{'s' if len(filled) > 1 else ''} {where}. If one holds a column the "
            "dashboard reads (a date, the facility…), give it its header and upload again")


def match_headers(contract: Contract, headers: list[str], header_row: int,
                  report: IngestReport) -> tuple[dict[str, int], list[dict]]:
    """Our column -> its position in the file; problems for missing or repeated columns."""
    lookup = contract.header_lookup()
    positions: dict[str, int] = {}
    problems = []
    for index, header in enumerate(headers):
        what, name = classify_header(header, lookup)
        if FORBIDDEN.search(header):
            problems.append({"row": header_row, "column": visible(header),
                             "value": visible(header), "problem": FORBIDDEN_PROBLEM,
                             "fix": FORBIDDEN_FIX})
            header = visible(header)  # the report lists it as shown, never as it would act
        if what == "column":
            if name in positions:
                problems.append({
                    "row": header_row, "column": header, "value": header,
                    "problem": f"Two columns both mean '{name}': column "
                               f"{spreadsheet_column(positions[name])} "
                               f"('{visible(headers[positions[name]])}') and column "
                               f"{spreadsheet_column(index)} ('{header}')",
                    "fix": "Delete or rename one of them"})
                continue
            positions[name] = index
            if contract.column(name).stored:
                report.matched[header] = name
            else:
                report.matched[header] = f"{name} (read to derive age band, not stored)"
                report.dropped_identifying.append(header)
        elif what == "identifying":
            report.dropped_identifying.append(header)
        elif what == "unknown":
            report.ignored_unknown.append(header)
    for col in contract.columns:
        if col.required and col.name not in positions:
            examples = ", ".join(f"'{a.title()}'" for a in col.aliases[:3])
            problems.append({
                "row": header_row, "column": col.name, "value": "",
                "problem": f"Required column '{col.name}' was not found in the header row",
                "fix": f"Add a column headed '{col.name.replace('_', ' ').title()}'"
                       + (f" (or {examples})" if examples else "")
                       + ", or map your own header to it in the column map file"})
    if report.ignored_unknown:
        report.warnings.append("Ignored columns not in the data contract: "
                               + ", ".join(report.ignored_unknown))
    return positions, problems
