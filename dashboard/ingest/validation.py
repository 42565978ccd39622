"""Validate an uploaded export and turn it into clean rows, listing every problem found."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from dashboard import config
from dashboard.ingest.contract import (
    FORBIDDEN,
    STATUS_NOT_RECORDED,
    Column,
    ColumnMapError,
    Contract,
    classify_header,
    load_contract,
    visible,
)
from dashboard.ingest.readers import MAX_PROBLEMS_LISTED, RowProblems, UnreadableFile, read_table
from dashboard.store.sql import install_text_functions, quote_ident, quote_literal_list
from dashboard.ui import exports

PROBLEM_COLUMNS = ["row", "column", "value", "problem", "fix"]

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y %H:%M:%S",
                "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d %b %Y",
                "%d %B %Y", "%d-%b-%Y"]

# later column, earlier column: the later one may not fall before the earlier one.
DATE_ORDER = {
    "tracker": [
        ("first_contact_date", "referral_date"),
        ("assessment_date", "referral_date"),
        ("assessment_date", "first_contact_date"),
        ("pre_admission_start_date", "referral_date"),
        ("rehab_assessment_date", "referral_date"),
        ("rehab_admission_date", "referral_date"),
        ("rehab_admission_date", "assessment_date"),
        ("rehab_admission_date", "rehab_assessment_date"),
        ("rehab_exit_date", "rehab_admission_date"),
        ("referral_date", "date_of_birth"),
    ],
    "connect": [],
}

# Categories with open vocabularies share one spelling per label group across uploads.
LABEL_GROUPS = {
    "officer": "officer",
    "referral_source_detail": "referral_source_detail",
    "offending_area": "area",
    "offence_area": "area",
    "rehab_facility": "rehab_facility",
    "offence_type": "offence_type",
}

AGE_BANDS_SQL = """
case
    when date_of_birth is null then null
    when age_years < 18 then 'Under 18'
    when age_years < 25 then '18-24'
    when age_years < 30 then '25-29'
    when age_years < 40 then '30-39'
    when age_years < 50 then '40-49'
    else '50 and over'
end
"""


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
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    problems_total: int = 0  # `problems` lists the first MAX_PROBLEMS_LISTED
    rows: int = 0  # rows stored (or that would be)
    # Every row below the header is read, blank, or refused or stored: nothing else.
    rows_read: int | None = None  # data rows below the header, blank rows not included
    blank_rows: int = 0
    rows_refused: int = 0  # rows with at least one problem (if rejected, all are refused)
    upload_id: int | None = None
    duplicate_of: int | None = None

    @property
    def ok(self) -> bool:
        return self.problems.empty

    def summary(self) -> str:
        if not self.ok:
            listed = (f" (the first {len(self.problems):,} are listed)"
                      if self.problems_total > len(self.problems) else "")
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
        return exports.safe_csv(self.problems)


class SnapshotShrinks(UploadRejected):
    """A tracker snapshot much smaller than the one before it: stored only once confirmed."""

    def __init__(self, report: IngestReport, previous_id: int, previous_as_at: dt.date,
                 previous_rows: int, threshold: float):
        self.previous_id, self.previous_as_at = previous_id, previous_as_at
        self.previous_rows, self.new_rows, self.threshold = previous_rows, report.rows, threshold
        # A copy carries the problem: the prepared upload itself stays valid, to be stored
        # when the uploader confirms.
        refused = replace(report, problems=pd.DataFrame([file_problem(
            f"{report.file_name} has {report.rows:,} referrals, fewer than "
            f"{threshold:.0%} of the {previous_rows:,} in snapshot {previous_id} (as at "
            f"{previous_as_at:%d/%m/%Y}), the snapshot in force before it. A tracker lists "
            "every referral, so a snapshot this much smaller usually means a cut-off or "
            "filtered export",
            "Check that the export is the whole tracker (no filter, hidden rows or cut-off "
            "file). If the programme really has fewer referrals now, confirm it: tick the "
            "confirmation on the Data page, or add --allow-shrink to the ingest command")],
            columns=PROBLEM_COLUMNS))
        super().__init__(refused)


# The snapshot a new one is compared with: the latest still in force as at the same date or
# earlier, of the same provenance (the first real upload is not compared with demo data).
PREVIOUS_SNAPSHOT_SQL = """
    select upload_id, as_at_date, row_count
    from uploads
    where kind = 'tracker' and is_demo = $is_demo and as_at_date <= $as_at
      and upload_id not in (select snapshot_id from snapshot_withdrawals)
    order by as_at_date desc, upload_id desc
    limit 1
"""


def refuse_if_shrinking(con: duckdb.DuckDBPyConnection, prepared: PreparedUpload) -> None:
    """Raise SnapshotShrinks if this snapshot has under O2R_SHRINK_THRESHOLD of the previous."""
    threshold = config.shrink_threshold()
    report = prepared.report
    previous = con.execute(PREVIOUS_SNAPSHOT_SQL, {"is_demo": prepared.is_demo,
                                                   "as_at": report.as_at}).fetchall()
    if previous and report.rows < threshold * previous[0][2]:
        raise SnapshotShrinks(report, *previous[0], threshold)


@dataclass
class PreparedUpload:
    """A validated upload, ready to be stored in one transaction."""

    report: IngestReport
    clean: pa.Table
    is_demo: bool = False


def reject(report: IngestReport, problems: list[dict], total: int | None = None) -> UploadRejected:
    """The rejection, listing the first MAX_PROBLEMS_LISTED problems and counting the rest
    (`total`, when the caller has counted more problems than it passes)."""
    report.problems_total = max(total or 0, len(problems))
    report.rows_refused = len({p["row"] for p in problems if p["row"] is not None})
    if report.rows_read is not None:
        report.rows_refused = min(report.rows_refused, report.rows_read)
    report.problems = pd.DataFrame(problems[:MAX_PROBLEMS_LISTED], columns=PROBLEM_COLUMNS)
    return UploadRejected(report)


def prepare(kind: str, file_name: str, data: bytes, as_at: dt.date | None = None,
            map_file: Path | None = None, max_bytes: int | None = None,
            use_column_map: bool = True) -> PreparedUpload:
    """Read and validate one export; raise UploadRejected listing every problem found."""
    as_at = as_at or dt.date.today()
    report = IngestReport(file_name=file_name, kind=kind, as_at=as_at,
                          sha256=hashlib.sha256(data).hexdigest())
    limit = max_bytes if max_bytes is not None else config.max_upload_bytes()
    if len(data) > limit:
        raise reject(report, [file_problem(
            f"{file_name} is {human_size(len(data))}, over the {human_size(limit)} limit",
            "Split the export into smaller date ranges, or ask an administrator to raise "
            "O2R_MAX_UPLOAD_MB")])
    try:
        if map_file is None and use_column_map:
            map_file = config.column_map_path()
        contract = load_contract(kind, map_file if use_column_map else None)
    except ColumnMapError as exc:
        raise reject(report, [file_problem(str(exc), "Correct the column map file")]) from exc
    # No spilling to disk: the upload's cells stay in this process's memory.
    con = duckdb.connect(config={"temp_directory": ""})
    try:
        return validate(con, contract, report, data)
    except RowProblems as exc:
        raise reject(report, exc.problems, exc.total) from exc
    except UnreadableFile as exc:
        raise reject(report, [{"row": exc.row, "column": exc.column, "value": exc.value,
                               "problem": exc.problem, "fix": exc.fix}]) from exc
    finally:
        con.close()


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1048576:.1f} MB"


def file_problem(problem: str, fix: str) -> dict:
    return {"row": None, "column": "", "value": "", "problem": problem, "fix": fix}


def validate(con: duckdb.DuckDBPyConnection, contract: Contract, report: IngestReport,
             data: bytes) -> PreparedUpload:
    lookup = contract.header_lookup()
    raw = read_table(con, report.file_name, data, lookup)
    report.header_row = raw.header_row
    positions, problems = match_headers(contract, raw.headers, raw.header_row, report)
    if problems:
        raise reject(report, problems)
    build_typed(con, contract, positions, len(raw.headers), raw.first_data_row)
    report.rows_read = con.execute("select count(*) from typed").fetchall()[0][0]
    report.blank_rows = raw.data_rows - report.rows_read
    if report.rows_read == 0:
        raise reject(report, [file_problem(
            f"{report.file_name} has a header row (row {raw.header_row}) but no data rows",
            "Check that you exported the sheet with its data, then upload again")])
    problems = collect_problems(con, contract, report, raw.headers, positions)
    if problems:
        raise reject(report, problems)
    report.warnings += collect_warnings(con, contract, positions)
    clean = con.sql(clean_select(contract)).to_arrow_table()
    report.rows = clean.num_rows
    return PreparedUpload(report, clean)


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
                    "problem": f"Two columns both mean '{name}' "
                               f"('{visible(headers[positions[name]])}' and '{header}')",
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


def build_typed(con: duckdb.DuckDBPyConnection, contract: Contract, positions: dict[str, int],
                width: int, first_data_row: int) -> None:
    """Stage `typed`: for each column the raw text (raw_x) and its typed value (x).

    Blank rows are left out here; source_row keeps the row number Excel shows.
    """
    install_text_functions(con)
    formats = quote_literal_list(DATE_FORMATS)
    # A plain expression, not a subquery: DuckDB would turn a subquery into a join per row.
    con.execute("create or replace temp macro uk_date(v) as "
                f"case when year(try_strptime(v, {formats})) between 1900 and 2100 "
                f"then try_strptime(v, {formats})::date end")
    vocab = [(col.name, key, label) for col in contract.columns if col.vocabulary
             for key, label in contract.value_lookup(col).items()]
    con.execute("create or replace temp table vocab (field varchar, key varchar, label varchar)")
    if vocab:
        con.executemany("insert into vocab values (?, ?, ?)", vocab)
    # Each cell is trimmed once, in the inner select; blank rows are dropped after.
    cells = [f"(rowid + {int(first_data_row)})::integer as source_row"]
    cells += [f"nullif(trim(c{i}), '') as cell{i}" for i in range(width)]
    inner = f"select {', '.join(cells)} from raw"  # noqa: S608 - generated names
    filled = ", ".join(f"cell{i}" for i in range(width)) or "null"
    # Values repeat (a few officers, areas, offence types, days): each distinct value is
    # typed once in a small lookup table, and rows pick their typed value up by a join.
    selects, joins = ["t.source_row"], []
    for index, col in enumerate(contract.columns):
        raw_name, name = quote_ident(f"raw_{col.name}"), quote_ident(col.name)
        if col.name not in positions:
            selects += [f"null::varchar as {raw_name}",
                        f"{typed_expression(col, 'null::varchar')} as {name}"]
            continue
        cell = f"t.cell{positions[col.name]}"
        selects.append(f"{cell} as {raw_name}")
        if col.kind == "id":
            # One stored form, so IDs differing only in case or width are one person.
            selects.append(f"id_form({cell}) as {name}")
            continue
        if col.kind == "text":
            selects.append(f"{cell} as {name}")
            continue
        con.execute(f"create or replace temp table map{index} as "  # noqa: S608 (identifiers from code, values bound)
                    f"select value, {typed_expression(col, 'value')} as typed "
                    f"from (select distinct nullif(trim(c{positions[col.name]}), '') as value "
                    "from raw) where value is not null")
        selects.append(f"m{index}.typed as {name}")
        joins.append(f"left join map{index} m{index} on m{index}.value = {cell}")
    con.execute(f"create or replace temp table typed as select {', '.join(selects)} "  # noqa: S608 (identifiers from code, values bound)
                f"from ({inner}) t {' '.join(joins)} "
                f"where coalesce({filled}) is not null")
    con.execute("drop table raw")


def typed_expression(col: Column, raw: str) -> str:
    if col.kind == "date":
        return f"uk_date({raw})"
    if col.kind == "money":
        # Commas only as thousands separators: "12,50" must not become 1250.
        return (f"case when regexp_full_match({raw}, '£?\\s*(\\d{{1,3}}(,\\d{{3}})+|\\d+)"
                f"(\\.\\d{{1,2}})?') then try_cast(regexp_replace({raw}, '[£,\\s]', '', 'g')"
                " as decimal(14, 2)) end")  # too many digits: not an amount, not an error
    if col.kind == "category" and col.vocabulary:
        field_literal = "'" + col.name + "'"
        return (f"(select label from vocab where field = {field_literal} "  # noqa: S608 (identifiers from code, values bound)
                f"and key = norm_key({raw}))")
    if col.kind == "category":
        # A cell of punctuation only ("-", "?") names nothing: null here, refused by a check.
        return (f"case when not names_nothing({raw}) "
                f"then regexp_replace({raw}, '\\s+', ' ', 'g') end")
    return raw


@dataclass
class Check:
    column: str
    condition: str
    problem: str  # may use {value} and {detail}
    fix: str
    detail: str = "null"


def checks_for(contract: Contract, positions: dict[str, int],
               forbidden_found: bool = True) -> list[Check]:
    checks: list[Check] = []
    for col in contract.columns:
        raw, name = f"raw_{col.name}", col.name
        if col.name in positions and forbidden_found:
            checks.append(Check(name, f"has_forbidden({raw})", FORBIDDEN_PROBLEM.replace(
                "The text", "'{value}'"), FORBIDDEN_FIX))
        if col.required:
            checks.append(Check(name, f"{raw} is null", "Required value is missing",
                                f"Enter the {label(name)} on this row"))
        if col.kind == "id" or (col.kind == "category" and not col.vocabulary):
            # Only punctuation or symbols ("-", "?", "😈"): it names no one and nothing.
            nothing = f"names_nothing({raw})" if col.kind == "id" else f"{name} is null"
            checks.append(Check(name, f"{raw} is not null and {nothing}",
                                f"'{{value}}' has no letters or digits, so it names no "
                                f"{label(name)}", nameless_fix(col)))
        if col.kind == "date":
            checks.append(Check(name, f"{raw} is not null and {name} is null",
                                "'{value}' is not a date we can read",
                                "Write dates as dd/mm/yyyy with a four-digit year, e.g. "
                                "03/04/2022 for 3 April 2022"))
            checks.append(Check(name, f"{name} > $as_at",
                                "The date {detail} is after the upload's as-at date",
                                "Correct the date, or upload with a later as-at date",
                                detail=f"strftime({name}, '%d/%m/%Y')"))
        if col.kind == "category" and col.vocabulary:
            checks.append(Check(name, f"{raw} is not null and {name} is null",
                                f"'{{value}}' is not a recognised {label(name)}",
                                "Use one of: " + "; ".join(col.vocabulary)
                                + " (or map your own term in the column map file)"))
        if col.kind == "money":
            checks.append(Check(name, f"{raw} is not null and ({name} is null or {name} < 0)",
                                "'{value}' is not an amount in pounds",
                                "Write amounts as numbers, e.g. 1234.50 or £1,234.50"))
    for later, earlier in DATE_ORDER[contract.kind]:
        if later in positions and earlier in positions:
            checks.append(Check(later, f"{later} < {earlier}",
                                f"{label(later).capitalize()} {{value}} is before the "
                                f"{label(earlier)} ({{detail}})",
                                f"Check both dates: the {label(later)} cannot come before the "
                                f"{label(earlier)}",
                                detail=f"strftime({earlier}, '%d/%m/%Y')"))
    if contract.kind == "tracker":
        checks += [
            Check("rehab_facility",
                  "rehab_admission_date is not null and raw_rehab_facility is null",
                  "A rehab admission date is given but no rehab facility",
                  "Enter the rehab facility the person was admitted to"),
            Check("rehab_exit_reason",
                  "rehab_exit_date is not null and raw_rehab_exit_reason is null",
                  "A rehab exit date is given but no exit reason",
                  "Enter the exit reason: " + "; ".join(contract.column("rehab_exit_reason")
                                                         .vocabulary or ())),
            Check("rehab_exit_date",
                  "rehab_exit_date is not null and rehab_admission_date is null",
                  "A rehab exit date is given but no rehab admission date",
                  "Enter the admission date, or remove the exit date"),
            Check("referral_date", "duplicate_of is not null",
                  "The same nominal ID and referral date as row {detail}",
                  "Remove the repeated row, or correct the referral date if it is a new referral "
                  "(nominal IDs that differ only in capitals or character width are one person)",
                  detail="duplicate_of"),
        ]
    else:
        checks.append(Check("crime_reference", "duplicate_of is not null",
                            "The crime reference {value} also appears on row {detail}",
                            "Each crime reference may appear once: remove the repeated row",
                            detail="duplicate_of"))
    return checks


def label(name: str) -> str:
    return name.replace("_", " ").lower()


FORBIDDEN_PROBLEM = ("The text contains an invisible control or text-direction character "
                     "(shown here as <U+code>), which could change how it prints or reads")
FORBIDDEN_FIX = ("Delete the cell's text and type it again by hand: such characters come from "
                 "text pasted out of another program or from a damaged export")


def nameless_fix(col: Column) -> str:
    if col.required:
        return f"Enter the {label(col.name)} on this row"
    if col.blank_as:
        return (f"Enter the {label(col.name)}, or leave the cell empty (an empty cell counts as "
                f"'{col.blank_as}')")
    return f"Enter the {label(col.name)}, or leave the cell empty if it is not known"


def collect_problems(con: duckdb.DuckDBPyConnection, contract: Contract, report: IngestReport,
                     headers: list[str], positions: dict[str, int]) -> list[dict]:
    key = ["nominal_id", "referral_date"] if contract.kind == "tracker" else ["crime_reference"]
    not_null = " and ".join(f"{k} is not null" for k in key)
    keys = ", ".join(key)
    repeats = con.execute(f"select count(*) - count(distinct ({keys})) from typed "  # noqa: S608 (identifiers from code, values bound)
                          f"where {not_null}").fetchall()[0][0]
    if repeats:
        con.execute(f"""
            create or replace temp table checked as
            select *, case when row_number() over w > 1 and ({not_null})
                           then first_value(source_row) over w end as duplicate_of
            from typed
            window w as (partition by {keys} order by source_row)
        """)  # noqa: S608 - constant key columns
    else:
        con.execute("create or replace temp view checked as "
                    "select *, null::integer as duplicate_of from typed")
    # One look at each row's cells together; the cells are looked at one by one only if needed.
    cells = ", ".join(quote_ident(f"raw_{name}") for name in positions)
    forbidden_found = con.execute(f"select count(*) from typed where has_forbidden(concat({cells}))"  # noqa: S608 (identifiers from code, values bound)
                                  ).fetchall()[0][0] > 0
    checks = checks_for(contract, positions, forbidden_found)
    # One pass counts every check; only checks that fail are then listed row by row.
    counts = con.execute(
        "select " + ", ".join(f"count_if({c.condition})" for c in checks) + " from checked",  # noqa: S608 (identifiers from code, values bound)
        {"as_at": report.as_at}).fetchall()[0]
    problems: list[dict] = []
    for check, count in zip(checks, counts, strict=True):
        if not count:
            continue
        header = headers[positions[check.column]] if check.column in positions else check.column
        rows = con.execute(
            f"select source_row, {quote_ident('raw_' + check.column)}, ({check.detail})::varchar "  # noqa: S608 (identifiers from code, values bound)
            f"from checked where {check.condition} order by source_row",
            {"as_at": report.as_at} if "$as_at" in check.condition else None).fetchall()
        for source_row, value, detail in rows:
            shown = visible(value or "")  # a control character is named, never sent on
            problems.append({
                "row": source_row, "column": header, "value": shown,
                "problem": check.problem.format(value=shown, detail=visible(detail or "")),
                "fix": check.fix})
    if contract.kind == "tracker" and "officer" in positions:
        people = officer_column_problem(con, report, headers[positions["officer"]])
        if people is not None:
            # The column's values are not repeated back: they may be people's names.
            problems = [p for p in problems if p["column"] != people["column"]] + [people]
    problems.sort(key=lambda p: (p["row"] or 0, headers.index(p["column"])
                                 if p["column"] in headers else len(headers)))
    return problems


# An O2R team is a handful of officers, each holding many referrals. A column taken as the
# officer with more distinct values than half its filled rows (an average caseload under two),
# once there are enough rows to tell, is a list of people, e.g. the referred people's names.
OFFICER_LIST_MIN_ROWS = 20
OFFICER_LIST_MAX_SHARE = 0.5


def officer_column_problem(con: duckdb.DuckDBPyConnection, report: IngestReport,
                           header: str) -> dict | None:
    """A file-level problem if the officer column looks like people rather than staff."""
    filled, distinct = con.execute("select count(officer), count(distinct norm_key(officer)) "
                                   "from typed").fetchall()[0]
    if filled < OFFICER_LIST_MIN_ROWS or distinct <= OFFICER_LIST_MAX_SHARE * filled:
        return None
    return {"row": None, "column": header, "value": "",
            "problem": f"In {report.file_name}, the column '{header}' was taken as the "
                       f"officer, but its {filled} filled rows hold {distinct} different values. "
                       "An O2R team is a handful of officers, each with many referrals, so this "
                       "looks like a list of people (such as the referred people's own names), "
                       "and nothing in it was stored",
            "fix": "If the column holds anyone's names other than the O2R officers', delete "
                   "it or rename its header, then upload again (people's names are never "
                   "stored). The officer column should hold the O2R officer allocated to each "
                   "referral"}


def collect_warnings(con: duckdb.DuckDBPyConnection, contract: Contract,
                     positions: dict[str, int]) -> list[str]:
    warnings = []
    if contract.kind == "tracker":
        missing_status = con.execute("select count(*) from typed where raw_status is null"
                                     ).fetchall()[0][0]
        if missing_status:
            warnings.append(f"{missing_status} row(s) have no status: they are counted as "
                            f"'{STATUS_NOT_RECORDED}'")
        no_exit_date = con.execute("select count(*) from typed where rehab_exit_reason is not "
                                   "null and rehab_exit_date is null").fetchall()[0][0]
        if no_exit_date:
            warnings.append(f"{no_exit_date} row(s) have an exit reason but no exit date "
                            "(listed on the data-quality view)")
    return warnings


def clean_select(contract: Contract) -> str:
    stored = [c.name for c in contract.columns if c.stored]
    if contract.kind == "tracker":
        return f"""
            select source_row, {', '.join(stored)}, {AGE_BANDS_SQL} as age_band
            from (select *, date_part('year', age(referral_date, date_of_birth)) as age_years
                  from typed)
        """  # noqa: S608 - contract column names
    return f"select source_row, {', '.join(stored)} from typed"  # noqa: S608
