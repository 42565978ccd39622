"""The rules an upload's rows must keep, as SQL over the staged `typed` table, and the
problems and warnings they give, in the user's terms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

from dashboard.ingest.contract import STATUS_NOT_RECORDED, Column, Contract, visible
from dashboard.store.sql import quote_ident

if TYPE_CHECKING:
    from dashboard.ingest.validation import IngestReport

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

# The check on a repeated key (duplicate_of: the first row of the key, set only if some row
# seems to repeat one).
REPEATED_KEY = "duplicate_of is not null"



@dataclass
class Check:
    column: str
    condition: str
    problem: str  # may use {value} and {detail}
    fix: str
    detail: str = "null"


# "SMITH, John" (a word, a comma, a word), or "SMITH (SYN0048)" (a word beside a reference in
# brackets, either way round).
NAME_IN_AN_ID = (r"[A-Za-z]{2,}\s*,\s*[A-Za-z]"
                 r"|[A-Za-z]{2,}[^()]*\([^()]*[0-9][^()]*\)|\([^()]*[0-9][^()]*\)[^()]*[A-Za-z]{2,}")


# The errors Excel shows in a cell whose formula failed.
SPREADSHEET_ERRORS = ("#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!",
                      "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!",
                      "#UNKNOWN!", "#GETTING_DATA", "#N/A!")
ERRORS_RE2 = "|".join(re.escape(error) for error in SPREADSHEET_ERRORS)
SHEET_ERROR = "'{value}' is a spreadsheet error: "


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
        if col.name in positions:
            # What Excel shows where a formula failed (a lookup that found nothing): in a CSV
            # it would be stored as an area or an officer called "#N/A"; in a workbook it came
            # over as an empty cell (sheet_cells.with_errors_shown puts it back).
            checks.append(Check(name, f"starts_with({raw}, '#') and "
                                f"regexp_full_match({raw}, '{ERRORS_RE2}')",
                                SHEET_ERROR + f"the formula that should give the {label(name)} "
                                "here failed",
                                "Correct the formula (or type the value) in the spreadsheet, "
                                "then export and upload again"))
        if col.kind == "id" or (col.kind == "category" and not col.vocabulary):
            # Only punctuation or symbols ("-", "?", "😈"): it names no one and nothing.
            nothing = f"names_nothing({raw})" if col.kind == "id" else f"{name} is null"
            checks.append(Check(name, f"{raw} is not null and {nothing}",
                                f"'{{value}}' has no letters or digits, so it names no "
                                f"{label(name)}", nameless_fix(col)))
        if col.kind == "category" and not col.vocabulary:
            # The dashboard and the pack label their total rows Total: an area or officer of
            # that name would print as a second total, and the pack could not tell the two
            # apart (it refused to build).
            checks.append(Check(name, f"{name} is not null and norm_key({name}) = 'total'",
                                "'{value}' is what the dashboard calls its total rows: as "
                                f"the {label(name)} it would be read as a total",
                                "If this is a spreadsheet's total line, delete the row; if the "
                                f"{label(name)} is really called that, give it a fuller name"))
        if col.name == "nominal_id":
            # A person's ID has a number in it; a name has none, and would be stored as the
            # ID (an export whose "Nominal" column shows people's names).
            checks.append(Check(name, f"{raw} is not null and not names_nothing({raw}) and "
                                f"not regexp_matches({name}, '[0-9]')",
                                "'{value}' has no digits, so it is not a nominal ID (is this "
                                "column people's names?)",
                                "Upload the column that holds each person's nominal ID (a "
                                "reference with numbers in it), never their name"))
            # A records system's "Nominal" column can show the name with the ID: "SMITH, John
            # (SYN0048)" has digits, but a name. Here the sure forms, row by row: a word, a
            # comma and a word ("SMITH, John"), or a reference in brackets beside a word
            # ("SMITH (SYN0048)"); nominal_names_problem looks at the column as a whole. (The
            # comma or bracket test first: most IDs have neither.)
            checks.append(Check(name, f"(contains({raw}, ',') or contains({raw}, '(')) and "
                                f"regexp_matches({raw}, '{NAME_IN_AN_ID}') and "
                                f"regexp_matches({name}, '[0-9]')",  # else the rule above
                                "'{value}' has a name in it, so it is not stored as a nominal "
                                "ID (is this column the nominal's name and ID together?)",
                                "Upload the column that holds each person's nominal ID alone "
                                "(such as SYN0048), never their name"))
        if col.kind == "date":
            checks.append(Check(name, f"{raw} is not null and {name} is null",
                                "'{value}' is not a date we can read{detail}",
                                "Write dates as dd/mm/yyyy with a four-digit year, e.g. "
                                "03/04/2022 for 3 April 2022",
                                detail=f"why_not_a_date({raw})"))
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
            Check("referral_date", REPEATED_KEY,
                  "The same nominal ID and referral date as row {detail}",
                  "Remove the repeated row, or correct the referral date if it is a new referral "
                  "(nominal IDs that differ only in capitals or character width are one person)",
                  detail="duplicate_of"),
        ]
    else:
        checks.append(Check("crime_reference", REPEATED_KEY,
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


def row_rules(contract: Contract, positions: dict[str, int], may_hold_forbidden: bool
              ) -> list[str]:
    """Every rule's condition on one row's cells (raw_x, its text; x, its typed value), all
    but a repeated key's (repeats_counted counts those)."""
    return [check.condition for check in checks_for(contract, positions, may_hold_forbidden)
            if check.condition != REPEATED_KEY]


def key_columns(contract: Contract) -> list[str]:
    """The columns (quoted) that name a row once: a repeat of them is a repeated row."""
    names = ["nominal_id", "referral_date"] if contract.kind == "tracker" else ["crime_reference"]
    return [quote_ident(name) for name in names]


def repeats_counted(contract: Contract, rows: str = "true") -> str:
    """An aggregate over the staged rows (those where `rows` holds): how many repeat an
    earlier row's key. A row repeats one exactly when it is not the first of its key, so the
    repeats are the rows with a key less the distinct keys. The keys' hashes are counted
    (cheaper than the text): two keys sharing a hash can only make repeats seem to be there,
    and the rows are then looked at one by one."""
    key = key_columns(contract)
    counted = " and ".join([f"({rows})", *(f"{k} is not null" for k in key)])
    return f"count_if({counted}) - count(distinct hash({', '.join(key)})) filter (where {counted})"


def collect_problems(con: duckdb.DuckDBPyConnection, contract: Contract, report: IngestReport,
                     headers: list[str], positions: dict[str, int],
                     may_hold_forbidden: bool = True) -> list[dict]:
    """Every problem of the staged rows; `may_hold_forbidden` False (the file's bytes hold no
    refused character) skips looking for one in every cell."""
    key = key_columns(contract)
    not_null = " and ".join(f"{k} is not null" for k in key)
    keys = ", ".join(key)
    # One look at each row's cells together; the cells are looked at one by one only if needed.
    cells = ", ".join(quote_ident(f"raw_{name}") for name in positions)
    forbidden_found = may_hold_forbidden and con.execute(
        f"select count(*) from typed where has_forbidden(concat({cells}))"  # noqa: S608 (identifiers from code, values bound)
        ).fetchall()[0][0] > 0
    checks = checks_for(contract, positions, forbidden_found)
    unstored = {col.name for col in contract.columns if not col.stored}
    error_cells: set[tuple[int, str]] = set()  # (row, header) of cells showing a formula error
    # One pass counts every check and the repeated keys; only checks that fail are then
    # listed row by row.
    con.execute("create or replace temp view checked as "
                "select *, null::integer as duplicate_of from typed")
    *counts, repeats = con.execute(
        "select " + ", ".join([*(f"count_if({c.condition})" for c in checks),  # noqa: S608 (identifiers from code, values bound)
                               repeats_counted(contract)])
        + " from checked", {"as_at": report.as_at}).fetchall()[0]
    if repeats:
        con.execute("drop view checked")
        con.execute(f"""
            create temp table checked as
            select *, case when row_number() over w > 1 and ({not_null})
                           then first_value(source_row) over w end as duplicate_of
            from typed
            window w as (partition by {keys} order by source_row)
        """)  # noqa: S608 - constant key columns
        counts = [repeats if check.condition == REPEATED_KEY else count
                  for check, count in zip(checks, counts, strict=True)]
        # (a repeat counted only because two keys share a hash lists no row)
    problems: list[dict] = []
    for check, count in zip(checks, counts, strict=True):
        if not count:
            continue
        header = headers[positions[check.column]] if check.column in positions else check.column
        rows = con.execute(
            f"select source_row, {quote_ident('raw_' + check.column)}, ({check.detail})::varchar "  # noqa: S608 (identifiers from code, values bound)
            f"from checked where {check.condition} order by source_row",
            {"as_at": report.as_at} if "$as_at" in check.condition else None).fetchall()
        if check.problem.startswith(SHEET_ERROR):
            error_cells.update((source_row, header) for source_row, _, _ in rows)
        # A date of birth is never repeated back, as the cell or as the detail of another's.
        personal = check.column in unstored
        template = check.problem
        if any(name in check.detail for name in unstored):
            template = template.replace(" ({detail})", "").replace("{detail}", "")
        for source_row, value, detail in rows:
            shown = visible(value or "")  # a control character is named, never sent on
            problem = template.format(value=shown, detail=visible(detail or ""))
            if personal:
                shown, problem = "", " ".join(template.replace("'{value}'", "The cell")
                                              .replace("{detail}", "").split())
            problems.append({"row": source_row, "column": header, "value": shown,
                             "problem": problem, "fix": check.fix})
    # An error cell is named once, as the error it is (not also as "not a date").
    problems = [p for p in problems if (p["row"], p["column"]) not in error_cells
                or p["problem"].startswith(SHEET_ERROR.format(value=p["value"]))]
    for whole in column_problems(con, contract, report, headers, positions):
        # The column's values are not repeated back: they may be people's names.
        problems = [p for p in problems if p["column"] != whole["column"]] + [whole]
    problems.sort(key=lambda p: (p["row"] or 0, headers.index(p["column"])
                                 if p["column"] in headers else len(headers)))
    return problems


def column_problems(con: duckdb.DuckDBPyConnection, contract: Contract, report: IngestReport,
                    headers: list[str], positions: dict[str, int]) -> list[dict]:
    """The problems of whole columns: names beside the nominal IDs, people as the officer."""
    found = [nominal_names_problem(con, report, headers[positions["nominal_id"]])]
    if contract.kind == "tracker" and "officer" in positions:
        found.append(officer_column_problem(con, report, headers[positions["officer"]]))
    return [problem for problem in found if problem is not None]


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


# Words standing apart from the digits in nominal IDs ("NAT 0001082", "SMITH SYN0048"): a
# records system's prefix is one word, or a few, the same from row to row; people's names
# differ from row to row. Once enough IDs carry a word to tell, more different words than this
# share of them is a column of names beside the IDs.
NOMINAL_WORDS_MIN_IDS = 20
NOMINAL_WORDS_MAX_SHARE = 0.2
NOMINAL_WORDS_SQL = """
    select count(distinct nominal_id), count(distinct word)
    from (select nominal_id, unnest(string_split_regex(nominal_id, '[^0-9A-Z]+')) as word
          from (select distinct nominal_id from typed
                where contains(nominal_id, ' ') or contains(nominal_id, ',')
                   or contains(nominal_id, '(') or contains(nominal_id, '/')
                   or contains(nominal_id, '-')))
    where regexp_full_match(word, '[A-Z]{2,}')
"""


def nominal_names_problem(con: duckdb.DuckDBPyConnection, report: IngestReport,
                          header: str) -> dict | None:
    """A file-level problem if the nominal ID column carries names beside its references."""
    ids, words = con.execute(NOMINAL_WORDS_SQL).fetchall()[0]
    if ids < NOMINAL_WORDS_MIN_IDS or words <= max(NOMINAL_WORDS_MAX_SHARE * ids, 5):
        return None
    return {"row": None, "column": header, "value": "",
            "problem": f"In {report.file_name}, {ids:,} nominal IDs in the column '{header}' "
                       f"carry words beside their references, {words:,} different words in "
                       "all. A records system's prefix is the same from row to row; words "
                       "that differ are people's names, so nothing in it was stored",
            "fix": "Upload the column that holds each person's nominal ID alone (such as "
                   "SYN0048), never their name"}


def collect_warnings(con: duckdb.DuckDBPyConnection, contract: Contract,
                     positions: dict[str, int]) -> list[str]:
    warnings = []
    if contract.kind == "tracker":
        # Warnings are looked for once the rules pass, when a status is blank exactly where
        # its typed value is null (text that is no status is a problem): the fast path keeps
        # no text.
        missing_status = con.execute("select count(*) from typed where status is null"
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
