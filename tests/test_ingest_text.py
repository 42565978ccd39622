"""Text kept as people wrote it, and uploads that would quietly lose data refused.

- Matching (headers, categories, officer names) is Unicode NFKC and case-folded, keeping the
  letters and digits of every script, in Python and SQL alike.
- A value that names nothing, control characters and text-direction overrides are refused.
- Nominal IDs differing only in case or width are one person.
- An officer column holding people rather than a handful of staff is refused.
- A much smaller tracker snapshot is stored only when the uploader confirms it.

Files are small inline byte strings, through the same ingest code the app uses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from pathlib import Path

import duckdb
import pytest
from malformed_corpus import xlsx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dashboard import __main__ as cli
from dashboard import config, service
from dashboard.ingest.contract import (
    FORBIDDEN,
    header_key,
    id_form,
    names_nothing,
    unicode_key,
    visible,
)
from dashboard.ingest.snapshot_checks import SnapshotShrinks
from dashboard.ingest.validation import UploadRejected, prepare
from dashboard.security.access import Viewer
from dashboard.store import database, queries
from dashboard.store.sql import install_text_functions

from conftest import query

AS_AT = dt.date(2022, 7, 31)
HEADER = "Nominal ID,Referral Date,Officer,Referral Source,Status\n"
FORBIDDEN_FIX = ("Delete the cell's text and type it again by hand: such characters come from "
                 "text pasted out of another program or from a damaged export")
FORBIDDEN_PROBLEM = ("contains an invisible control or text-direction character (shown here as "
                     "<U+code>), which could change how it prints or reads")


@pytest.fixture(autouse=True)
def _no_site_settings(monkeypatch):
    monkeypatch.delenv("O2R_COLUMN_MAP", raising=False)
    monkeypatch.delenv("O2R_MAX_UPLOAD_MB", raising=False)
    monkeypatch.delenv("O2R_SHRINK_THRESHOLD", raising=False)


def tracker(rows: list[tuple[str, str]], header: str = HEADER) -> bytes:
    """A tracker CSV: one (nominal ID, officer) per row, referred on successive days."""
    lines = [f"{nominal},{dt.date(2022, 4, 1) + dt.timedelta(days=i):%d/%m/%Y},{officer},"
             "Probation,Active\n" for i, (nominal, officer) in enumerate(rows)]
    return (header + "".join(lines)).encode("utf-8")


def referrals(count: int, prefix: str = "N") -> bytes:
    return tracker([(f"{prefix}{i}", "PC Jones") for i in range(count)])


def problems(data: bytes, kind: str = "tracker", file_name: str = "upload.csv") -> list[dict]:
    with pytest.raises(UploadRejected) as info:
        prepare(kind, file_name, data, as_at=AS_AT, use_column_map=False)
    return info.value.report.problems.to_dict("records")


def ingest(db: Path, data: bytes, as_at: dt.date = AS_AT, file_name: str = "upload.csv",
           **kwargs):
    return service.ingest_bytes(db, "tracker", file_name, data, as_at=as_at,
                                uploaded_by="pytest", use_column_map=False, **kwargs)


def db_state(db: Path) -> tuple[str, list[tuple]]:
    return hashlib.sha256(db.read_bytes()).hexdigest(), query(db, "select * from uploads")


# ---------------------------------------------------------------- one rule, Python and SQL

TRICKY = [
    "OFFICER 1 ", "Officer 1", "referral / waiting", "-", "?", "", "  ", "N100", "n100",
    "a\tb", "\x1b[31mred", "bell\x07", "del\x7f",
    "Ｏｆｆｉｃｅｒ １", "Ｎ１００", "Officer 1 😈", "Officer 1 😈\ufe0f", "😈", "👩‍⚕️ nurse",
    "محمد علي", "ﻣﺤﻤﺪ", "王伟", "Иван Петров", "क्षत्रिय", "Straße", "STRASSE", "ﬁnance",
    "İstanbul", "ΣΊΣΥΦΟΣ", "σίσυφος", "café", "cafe\u0301", "Ⅻ", "x²", "\u212aelvin",
    "PC\u00a0Jones", "\u00a0N100\u00a0", "line\u0085next", "Officer\u202e1",
    "left\u2066isolate\u2069",
    "Arabic mark\u061c", "zero\u200bwidth", "—", "…", "£5", "１２３", "٣٤٥", "10%",
]


def test_python_and_sql_apply_the_same_text_rules_to_awkward_strings():
    con = duckdb.connect()
    install_text_functions(con)
    try:
        con.execute("create table t (i integer, v varchar)")
        con.executemany("insert into t values (?, ?)", list(enumerate(TRICKY)))
        # Cells are trimmed of spaces before an ID is put in its stored form.
        in_sql = con.execute("select norm_key(v), names_nothing(v), id_form(trim(v)), "
                             "has_forbidden(v) from t order by i").fetchall()
    finally:
        con.close()
    in_python = [(header_key(v), names_nothing(v), id_form(v.strip(" ")),
                  bool(FORBIDDEN.search(v))) for v in TRICKY]
    assert in_sql == in_python
    # Non-ASCII values reach the Python functions and ASCII ones the SQL branch: both ran.
    assert {v for v in TRICKY if not v.isascii()} and {v for v in TRICKY if v.isascii()}


def test_text_functions_can_be_given_again_and_to_each_connection_of_a_database():
    # The Python functions belong to the database, the macros to each connection.
    with duckdb.connect() as con:
        install_text_functions(con)
        install_text_functions(con)
        other = con.cursor()
        install_text_functions(other)
        assert other.execute("select norm_key('Ｏｆｆｉｃｅｒ １'), id_form('n100')"
                             ).fetchall() == [("officer1", "N100")]
        other.close()

def test_ascii_text_gets_the_key_the_character_by_character_rule_gives():
    every_ascii = "".join(map(chr, range(128)))
    for text in [*every_ascii, every_ascii, *(v for v in TRICKY if v.isascii())]:
        assert header_key(text) == unicode_key(text), repr(text)

def test_the_matching_key_folds_width_and_case_and_keeps_every_script():
    assert {v: header_key(v) for v in [
        "OFFICER 1 ", "Ｏｆｆｉｃｅｒ １", "Officer 1 😈", "Officer 1 😈\ufe0f", "محمد علي",
        "ﻣﺤﻤﺪ", "王伟", "Straße", "ﬁnance", "cafe\u0301", "Officer\u202e1", "—"]} == {
        "OFFICER 1 ": "officer1", "Ｏｆｆｉｃｅｒ １": "officer1",
        "Officer 1 😈": "officer1😈", "Officer 1 😈\ufe0f": "officer1😈",
        "محمد علي": "محمدعلي", "ﻣﺤﻤﺪ": "محمد", "王伟": "王伟", "Straße": "strasse",
        "ﬁnance": "finance", "cafe\u0301": "café", "Officer\u202e1": "officer1", "—": ""}
    assert [v for v in TRICKY if v.strip() and names_nothing(v)] == [
        "-", "?", "😈", "—", "…"]
    assert [id_form(v) for v in ["n100", "Ｎ１００", " N-100 "]] == ["N100", "N100", "N-100"]
    assert visible("a\x1b[2Jb\u202e") == "a<U+001B>[2Jb<U+202E>"


# ---------------------------------------------------------------- names kept distinct

@pytest.fixture
def db(tmp_path) -> Path:
    """A database holding one real tracker snapshot of two referrals."""
    path = tmp_path / "o2r.duckdb"
    ingest(path, referrals(2, prefix="OLD"), as_at=dt.date(2022, 6, 30))
    return path


def test_officer_names_in_any_script_or_with_an_emoji_stay_distinct(db):
    ingest(db, tracker([("N1", "محمد علي"), ("N2", "王伟"), ("N3", "Officer 1"),
                        ("N4", "Officer 1"), ("N5", "OFFICER 1"), ("N6", "Ｏｆｆｉｃｅｒ １"),
                        ("N7", "Officer 1 😈"), ("N8", "")]))
    assert query(db, "select nominal_id, officer from referrals where snapshot_id = 2 "
                     "order by nominal_id") == [
        ("N1", "محمد علي"), ("N2", "王伟"), ("N3", "Officer 1"), ("N4", "Officer 1"),
        ("N5", "Officer 1"), ("N6", "Officer 1"), ("N7", "Officer 1 😈"), ("N8", "Unallocated")]
    # An officer linked to a name in Arabic script sees their own referral, and only that.
    con = database.connect_read_only(db)
    try:
        seen = queries.run(con, Viewer("pytest officer", "officer", ("محمد علي",)),
                           "referral_list")
    finally:
        con.close()
    assert list(seen["nominal_id"]) == ["N1"]


@pytest.mark.parametrize("column, value, fix", [
    ("Officer", "-", "Enter the officer, or leave the cell empty (an empty cell counts as "
                     "'Unallocated')"),
    ("Officer", "😈", "Enter the officer, or leave the cell empty (an empty cell counts as "
                      "'Unallocated')"),
    ("Officer", "…", "Enter the officer, or leave the cell empty (an empty cell counts as "
                     "'Unallocated')"),
    ("Nominal ID", "?", "Enter the nominal id on this row"),
])
def test_a_value_that_names_nothing_is_refused_with_its_row_and_column(column, value, fix):
    rows = [("N1", "PC Jones"), ("N2", value) if column == "Officer" else (value, "PC Jones")]
    label = "officer" if column == "Officer" else "nominal id"
    assert problems(tracker(rows)) == [{
        "row": 3, "column": column, "value": value,
        "problem": f"'{value}' has no letters or digits, so it names no {label}", "fix": fix}]


def test_a_punctuation_only_area_is_refused_not_taken_as_blank():
    data = (b"Nominal ID,Referral Date,Referral Source,Offending Area\n"
            b"N1,03/04/2022,Probation,?\n")
    assert problems(data) == [{
        "row": 2, "column": "Offending Area", "value": "?",
        "problem": "'?' has no letters or digits, so it names no offending area",
        "fix": "Enter the offending area, or leave the cell empty if it is not known"}]


@pytest.mark.parametrize("spelt", ["Total", "TOTAL ", "total", "Ｔｏｔａｌ"])
def test_an_area_or_officer_called_total_is_refused_as_a_total_row(db, spelt):
    # The dashboard and the quarterly pack label their total rows Total: an area of that name
    # stopped every pack of a quarter it had referrals in ("is 0 and 41").
    data = (b"Nominal ID,Referral Date,Officer,Referral Source,Offending Area\n"
            b"N1,03/04/2022,PC Jones,Probation,Erdington\n"
            + f"N2,03/04/2022,{spelt},Probation,{spelt}\n".encode())
    before = db_state(db)
    with pytest.raises(UploadRejected) as info:
        ingest(db, data, confirmed=True)
    shown = spelt.strip()
    fix = "If this is a spreadsheet's total line, delete the row; if the {} is really " \
          "called that, give it a fuller name"
    assert info.value.report.problems.to_dict("records") == [{
        "row": 3, "column": column, "value": shown,
        "problem": f"'{shown}' is what the dashboard calls its total rows: as the {label} it "
                   "would be read as a total", "fix": fix.format(label)}
        for column, label in (("Officer", "officer"), ("Offending Area", "offending area"))]
    assert db_state(db) == before


def test_a_connect_offence_area_called_total_is_refused():
    found = problems(b"Crime Reference,Nominal ID,Offence Date,Offence Type,Offence Area\n"
                     b"CR1,N1,03/04/2022,Shoplifting,Total\n"
                     b"CR2,N1,04/04/2022,Shoplifting,Totals\n", kind="connect")
    assert [(p["row"], p["column"], p["value"]) for p in found] == [
        (2, "Offence Area", "Total")]


# ---------------------------------------------------------------- control characters

@pytest.mark.parametrize("raw, shown", [
    ("PC \x1b[31mJones", "PC <U+001B>[31mJones"),          # ANSI colour escape
    ("PC Jones\x07", "PC Jones<U+0007>"),                   # BEL
    ("PC\x85Jones", "PC<U+0085>Jones"),                     # NEL, a C1 line break
    ("Officer 1\u202e", "Officer 1<U+202E>"),               # right-to-left override
    ("\u2066Officer 1\u2069", "<U+2066>Officer 1<U+2069>"),  # isolate
    ("PC\u2028Jones", "PC<U+2028>Jones"),                   # line separator
])
def test_control_and_direction_characters_are_refused_and_shown_safely(db, raw, shown):
    before = db_state(db)
    with pytest.raises(UploadRejected) as info:
        ingest(db, tracker([("N1", "PC Jones"), ("N2", raw)]), confirmed=True)
    assert info.value.report.problems.to_dict("records") == [{
        "row": 3, "column": "Officer", "value": shown,
        "problem": f"'{shown}' {FORBIDDEN_PROBLEM}", "fix": FORBIDDEN_FIX}]
    assert db_state(db) == before


def test_a_tab_inside_a_name_is_whitespace_not_refused(db):
    ingest(db, tracker([("N1", "PC\tJones"), ("N2", "PC Jones")]))
    assert query(db, "select distinct officer from referrals where snapshot_id = 2") == [
        ("PC Jones",)]


EDGES = ["\t{}", "{}\t", "{}\r", "{}\n", "\u00a0{}\t", " {}\u2003"]


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_white_space_at_a_cells_edges_is_not_part_of_an_id_or_a_name(db, form):
    # A tab pasted in, an Alt+Enter line end or a no-break space copied from a web page must
    # not make a second person, a second crime or a second officer: the joins between the
    # tracker and Connect, and the repeat checks, depend on one stored form.
    edges = EDGES
    rows = [(edge.format(f"N{i}"), edge.format("PC Jones")) for i, edge in enumerate(edges)]
    crimes = [(edge.format(f"CR/{i}"), edge.format(f"N{i}")) for i, edge in enumerate(edges)]
    if form == "csv":
        tracker_file = tracker([(f'"{n}"', f'"{o}"') for n, o in rows])
        connect_file = ("Crime Reference,Nominal ID,Offence Date,Offence Type\n" + "".join(
            f'"{ref}","{nominal}",03/04/2022,Theft\n' for ref, nominal in crimes)).encode()
    else:
        tracker_file = xlsx([HEADER.strip().split(","), *[
            [n, f"{dt.date(2022, 4, 1) + dt.timedelta(days=i):%d/%m/%Y}", o, "Probation",
             "Active"] for i, (n, o) in enumerate(rows)]])
        connect_file = xlsx([["Crime Reference", "Nominal ID", "Offence Date", "Offence Type"],
                             *[[ref, nominal, "03/04/2022", "Theft"] for ref, nominal in crimes]])
    ingest(db, tracker_file, file_name=f"tracker.{form}")
    service.ingest_bytes(db, "connect", f"connect.{form}", connect_file, as_at=AS_AT,
                         use_column_map=False)
    assert query(db, "select distinct officer from referrals where snapshot_id = 2") == [
        ("PC Jones",)]
    assert query(db, "select nominal_id from referrals where snapshot_id = 2 order by 1") == [
        (f"N{i}",) for i in range(len(edges))]
    assert query(db, "select c.crime_reference, r.nominal_id from crimes c join referrals r "
                     "using (nominal_id) where r.snapshot_id = 2 and c.crime_reference like "
                     "'CR/%' order by 1") == [(f"CR/{i}", f"N{i}") for i in range(len(edges))]
    # the same crimes again, clean: the same crimes, not new ones
    service.ingest_bytes(db, "connect", "connect_again.csv", (
        "Crime Reference,Nominal ID,Offence Date,Offence Type\n" + "".join(
            f"CR/{i},N{i},03/04/2022,Theft\n" for i in range(len(edges)))).encode(),
        as_at=AS_AT + dt.timedelta(days=1), use_column_map=False)
    assert query(db, "select count(*) from crimes where crime_reference like 'CR/%'") == [
        (len(edges),)]


def test_control_characters_in_an_id_a_date_or_a_header_are_refused():
    found = problems(b"Nominal ID,Referral Date,Referral Source,Status\x1b[2J\n"
                     b"N1\x07,03/04/2022,Probation,Active\n")
    assert [(p["row"], p["column"], p["value"]) for p in found] == [
        (1, "Status<U+001B>[2J", "Status<U+001B>[2J")]
    found = problems(b"Nominal ID,Referral Date,Referral Source\n"
                     b"N1\x07,03/04/2022\x1b,Probation\n")
    assert [(p["row"], p["column"], p["value"], p["problem"]) for p in found] == [
        (2, "Nominal ID", "N1<U+0007>", f"'N1<U+0007>' {FORBIDDEN_PROBLEM}"),
        (2, "Referral Date", "03/04/2022<U+001B>", f"'03/04/2022<U+001B>' {FORBIDDEN_PROBLEM}"),
        (2, "Referral Date", "03/04/2022<U+001B>",
         "'03/04/2022<U+001B>' is not a date we can read"),
    ]


def test_the_command_line_never_prints_a_control_character(tmp_path, capsys):
    path = tmp_path / "escape.csv"
    path.write_bytes(tracker([("N1", "PC \x1b]0;owned\x07Jones")]))
    assert cli.main(["ingest", "tracker", str(path), "--as-at", "2022-07-31",
                     "--db", str(tmp_path / "o2r.duckdb")]) == 1
    err = capsys.readouterr().err
    assert "value 'PC <U+001B>]0;owned<U+0007>Jones'" in err
    assert not FORBIDDEN.search(err.replace("\n", ""))
    assert not (tmp_path / "o2r.duckdb").exists()


# ---------------------------------------------------------------- nominal IDs

@pytest.mark.parametrize("repeat", ["n100", "Ｎ１００", "ｎ100"])
def test_nominal_ids_differing_only_in_case_or_width_are_the_same_person(repeat):
    data = (b"Nominal ID,Referral Date,Referral Source\n"
            b"N100,03/04/2022,Probation\n" + f"{repeat},03/04/2022,Custody\n".encode())
    assert [(p["row"], p["column"], p["problem"]) for p in problems(data)] == [
        (3, "Referral Date", "The same nominal ID and referral date as row 2")]


def test_ids_are_stored_in_one_form_so_tracker_and_connect_agree(db):
    ingest(db, tracker([("n100", "PC Jones"), ("Ｎ１０１", "PC Jones")]))
    service.ingest_bytes(db, "connect", "connect.csv",
                         b"Crime Reference,Nominal ID,Offence Date,Offence Type\n"
                         b"cr/1,N100,03/04/2022,Theft\ncr/2,n101,04/04/2022,Theft\n",
                         as_at=AS_AT, use_column_map=False)
    assert query(db, "select c.crime_reference, r.nominal_id from crimes c "
                     "join referrals r using (nominal_id) order by 1") == [
        ("CR/1", "N100"), ("CR/2", "N101")]


def command_line_ingest(capsys, kind: str, path: Path, db: Path,
                        *options: str) -> tuple[int, str, str]:
    """`python -m dashboard ingest` of the file into `db`: its exit code, and what it printed
    (standard output, standard error)."""
    code = cli.main(["ingest", kind, str(path), *options, "--db", str(db)])
    printed = capsys.readouterr()
    return code, printed.out, printed.err


def test_the_command_line_takes_the_files_own_date_and_says_when_it_has_none(db, tmp_path,
                                                                          capsys):
    dated = tmp_path / "connect as at 31-07-2022.csv"
    dated.write_bytes(b"Crime Reference,Nominal ID,Offence Date,Offence Type\n"
                      b"CR1,OLD0,03/04/2022,Theft\n")
    code, out, _ = command_line_ingest(capsys, "connect", dated, db)
    assert code == 0
    assert out.startswith("As at 31/07/2022, read from the file's file name (give --as-at to "
                          "use another date).")
    assert query(db, "select as_at_date from uploads where kind = 'connect'") == [
        (dt.date(2022, 7, 31),)]
    undated = tmp_path / "connect.csv"
    undated.write_bytes(b"Crime Reference,Nominal ID,Offence Date,Offence Type\n"
                        b"CR2,OLD0,03/04/2022,Theft\n")
    code, out, _ = command_line_ingest(capsys, "connect", undated, db)
    assert code == 0
    assert out.startswith(
        "Warning: no --as-at given and the file does not say when it was taken, so it is "
        f"stored as at today, {dt.date.today():%d/%m/%Y}.")


def test_the_first_real_upload_on_the_command_line_says_the_demo_data_went(demo_db, tmp_path,
                                                                           capsys):
    path = tmp_path / "tracker.csv"
    path.write_bytes(referrals(3))
    code, out, _ = command_line_ingest(capsys, "tracker", path, demo_db, "--as-at",
                                       "2022-07-31")
    assert code == 0
    assert ("This was the first real upload: the synthetic demo data was removed in the same "
            "step") in out
    path.write_bytes(referrals(4))
    code, out, _ = command_line_ingest(capsys, "tracker", path, demo_db, "--as-at",
                                       "2022-08-31")
    assert code == 0
    assert "demo data was removed" not in out


def test_crime_references_differing_only_in_case_are_one_crime():
    data = (b"Crime Reference,Nominal ID,Offence Date,Offence Type\n"
            b"20/123/22,N1,03/04/2022,Theft\n20/123/22,N1,03/04/2022,Theft\n"
            b"cr9,N1,03/04/2022,Theft\nCR9,N1,03/04/2022,Theft\n")
    assert [(p["row"], p["problem"]) for p in problems(data, "connect")] == [
        (3, "The crime reference 20/123/22 also appears on row 2"),
        (5, "The crime reference CR9 also appears on row 4")]


# ---------------------------------------------------------------- officer column of people

PEOPLE = [f"{first} {last}" for first in ("Jane", "John", "Amir", "Wei", "Olga")
          for last in ("Example", "Sample", "Test", "Demo", "Specimen")]


@pytest.mark.parametrize("header", ["Officer Name", "O2R Officer", "Officer"])
def test_an_officer_column_of_people_is_refused_whatever_its_header(header):
    data = tracker([(f"N{i}", name) for i, name in enumerate(PEOPLE)],
                   header=HEADER.replace("Officer", header, 1))
    found = problems(data, file_name="tracker_june.csv")
    assert found == [{
        "row": None, "column": header, "value": "",
        "problem": f"In tracker_june.csv, the column '{header}' was taken as the officer, but "
                   "its 25 filled rows hold 25 different values. An O2R team is a handful of "
                   "officers, each with many referrals, so this looks like a list of people "
                   "(such as the referred people's own names), and nothing in it was stored",
        "fix": "If the column holds anyone's names other than the O2R officers', delete it or "
               "rename its header, then upload again (people's names are never stored). The "
               "officer column should hold the O2R officer allocated to each referral"}]


@pytest.mark.parametrize("rows, distinct, refused", [
    (20, 10, False),  # an average caseload of two: a (very) small team
    (20, 11, True),
    (19, 19, False),  # too few rows to tell
    (40, 5, False),
])
def test_the_officer_column_rule_at_its_edges(rows, distinct, refused):
    data = tracker([(f"N{i}", f"Officer {i % distinct}") for i in range(rows)])
    if refused:
        assert [p["column"] for p in problems(data)] == ["Officer"]
    else:
        prepared = prepare("tracker", "upload.csv", data, as_at=AS_AT, use_column_map=False)
        assert len({r["officer"] for r in prepared.clean.to_pylist()}) == distinct


# ---------------------------------------------------------------- a much smaller snapshot

@pytest.fixture
def ten(tmp_path) -> Path:
    """A database whose snapshot in force (as at 30/06/2022) has ten referrals."""
    path = tmp_path / "o2r.duckdb"
    ingest(path, referrals(10), as_at=dt.date(2022, 6, 30), file_name="june.csv")
    return path


def test_a_much_smaller_snapshot_is_refused_unless_confirmed(ten):
    before = db_state(ten)
    with pytest.raises(SnapshotShrinks) as info:
        ingest(ten, referrals(7), file_name="july.csv")
    assert db_state(ten) == before
    assert not list(ten.parent.glob("*.writing-*"))
    refusal = info.value
    assert (refusal.previous_id, refusal.previous_as_at, refusal.previous_rows,
            refusal.new_rows) == (1, dt.date(2022, 6, 30), 10, 7)
    assert refusal.report.problems.to_dict("records") == [{
        "row": None, "column": "", "value": "",
        "problem": "july.csv has 7 referrals, fewer than 80% of the 10 in snapshot 1 (as at "
                   "30/06/2022), the snapshot in force before it. A tracker lists every "
                   "referral, so a snapshot this much smaller usually means a cut-off or "
                   "filtered export",
        "fix": "Check that the export is the whole tracker (no filter, hidden rows or cut-off "
               "file). If the programme really has 7 referrals now, confirm it: tick the "
               "confirmation on the Data page, or add --confirm to the ingest command"}]
    report = ingest(ten, referrals(7), file_name="july.csv", confirmed=True)
    assert (report.upload_id, report.rows) == (2, 7)


def with_contact_dates(count: int, dated: int) -> bytes:
    """`count` referrals (the `ten` fixture's people), the first `dated` with a first contact."""
    lines = [f"N{i},{dt.date(2022, 4, 1) + dt.timedelta(days=i):%d/%m/%Y},PC Jones,Probation,"
             f"Active,{'05/05/2022' if i < dated else ''}\n" for i in range(count)]
    return (HEADER.strip() + ",First Contact Date\n" + "".join(lines)).encode()


def test_a_snapshot_leaving_empty_a_column_the_one_before_fills_is_held_back(ten, tmp_path):
    # A column renamed, merged under a group heading, left without a header or filled by
    # uncalculated formulas is read as empty: its figures would drop to nothing unnoticed.
    ingest(ten, with_contact_dates(10, 6), as_at=dt.date(2022, 7, 15))
    before = db_state(ten)
    emptied = referrals(10).replace(b"PC Jones", b"")  # no contact dates, and no officers
    with pytest.raises(SnapshotShrinks) as info:
        ingest(ten, emptied, file_name="july.csv")
    assert db_state(ten) == before
    refusal = info.value
    assert (refusal.fewer, refusal.emptied) == (False, (("Officer", 10),
                                                        ("First contact date", 6)))
    [problem] = refusal.report.problems.to_dict("records")
    assert problem["problem"] == (
        "july.csv has nothing at all in Officer and First contact date, which snapshot 2 (as "
        "at 15/07/2022), the snapshot in force before it, fills for this many referrals: "
        "Officer (10); First contact date (6). A column renamed, merged under one heading, "
        "left without a header or filled by formulas that were never calculated is read as "
        "empty, and those figures would drop to nothing")
    assert problem["fix"].endswith(
        "If the tracker really no longer records Officer and First contact date, confirm it: "
        "tick the confirmation on the Data page, or add --confirm to the ingest command")
    assert refusal.report.summary() == ("july.csv was not stored yet: it is stored only once "
                                        "confirmed (see below). Rows read: 10. Nothing was "
                                        "stored.")
    assert ingest(ten, emptied, confirmed=True).upload_id == 3


def test_a_snapshot_keeping_few_of_the_people_before_is_held_back(tmp_path):
    # The same referrals, their nominal IDs now written with a prefix: every stored crime
    # would leave the figures, which use the latest snapshot.
    db = tmp_path / "o2r.duckdb"
    ingest(db, referrals(25), as_at=dt.date(2022, 6, 30))
    before = db_state(db)
    with pytest.raises(SnapshotShrinks) as info:
        ingest(db, referrals(25, prefix="WMP-N"), file_name="july.csv")
    assert db_state(db) == before
    assert (info.value.fewer, info.value.emptied, info.value.people_kept) == (False, (), (0, 25))
    [problem] = info.value.report.problem_list
    assert problem["problem"] == (
        "july.csv keeps only 0 of the 25 people (nominal IDs) in snapshot 1 (as at 30/06/2022), "
        "the snapshot in force before it. A tracker keeps every referral, so their IDs are "
        "most likely written another way now (a prefix, a new format), and their crimes would "
        "leave the figures")
    assert problem["fix"].startswith("Check that the nominal IDs are written as in the "
                                     "snapshot before")
    assert "If the tracker really no longer lists those people, confirm it" in problem["fix"]
    # 20 of the 25 people kept (80%), and five more: stored.
    kept = tracker([(f"N{i}", "PC Jones") for i in range(20)]
                   + [(f"M{i}", "PC Jones") for i in range(5)])
    assert ingest(db, kept, file_name="july.csv").upload_id == 2
    # Fewer than 20 people before say little: not compared.
    assert ingest(db, referrals(19), file_name="august.csv", as_at=dt.date(2022, 8, 31),
                  confirmed=True).upload_id == 3
    assert ingest(db, referrals(19, prefix="X"), as_at=dt.date(2022, 9, 30)).upload_id == 4


def test_held_back_on_the_command_line_it_says_what_the_check_found(ten, tmp_path, capsys):
    # The header of the column that was filled before is empty: the one clue, which the
    # command line printed only once the snapshot was stored anyway.
    ingest(ten, with_contact_dates(10, 6), as_at=dt.date(2022, 7, 15))
    path = tmp_path / "july.csv"
    path.write_bytes(with_contact_dates(10, 6).replace(b",First Contact Date", b","))
    code, _, err = command_line_ingest(capsys, "tracker", path, ten, "--as-at", "2022-07-31")
    assert code == 1
    assert err.startswith("july.csv was not stored yet: it is stored only once confirmed")
    assert "Warning: Not read, as it has no header: column F (after 'Status', 6 rows)" in err
    assert "july.csv has nothing at all in First contact date" in err


def test_refused_on_the_command_line_it_names_a_column_not_read_too(db, tmp_path, capsys):
    # The admission dates sit under an empty header: refused for "an exit date but no
    # admission date", the cause named only once stored.
    path = tmp_path / "july.csv"
    path.write_bytes(b"Nominal ID,Referral Date,Referral Source,Status,Rehab Facility,,"
                     b"Rehab Exit Date\nN1,01/04/2022,Probation,Active,Seasons,02/05/2022,"
                     b"03/06/2022\n")
    code, _, err = command_line_ingest(capsys, "tracker", path, db, "--as-at", "2022-07-31")
    assert code == 1
    assert "Warning: Not read, as it has no header: column F (after 'Rehab Facility', 1 row)" \
        in err
    assert "A rehab exit date is given but no rehab admission date" in err


@pytest.mark.parametrize("dated_before, dated_now, held", [
    (5, 0, True), (4, 0, False),  # a column used for fewer than five may just have stopped
    (6, 1, False),                # not empty: one referral still has it
])
def test_which_emptied_columns_hold_a_snapshot_back(ten, dated_before, dated_now, held):
    ingest(ten, with_contact_dates(10, dated_before), as_at=dt.date(2022, 7, 15))
    if held:
        with pytest.raises(SnapshotShrinks):
            ingest(ten, with_contact_dates(10, dated_now))
    else:
        assert ingest(ten, with_contact_dates(10, dated_now)).upload_id == 3


def test_the_data_page_holds_back_an_emptied_column_until_confirmed(app_as, ten):
    ingest(ten, with_contact_dates(10, 6), as_at=dt.date(2022, 7, 15))
    # (not the fixture's own file, which would be a repeat)
    at, warning = held_back_on_the_page(app_as, ten, referrals(11))
    assert "july.csv has nothing at all in First contact date" in warning
    assert at.checkbox[0].label == ("The tracker really no longer records First contact "
                                    "date: store this snapshot")
    assert next(b for b in at.button if b.label == "Store this snapshot").disabled
    assert query(ten, "select count(*) from uploads") == [(2,)]
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label == "Store this snapshot").click().run()
    assert query(ten, "select count(*) from uploads") == [(3,)]


@pytest.mark.parametrize("setting, new_rows, refused", [
    (None, 8, False),   # exactly 80%: not fewer
    (None, 7, True),
    ("0.5", 7, False),
    ("75%", 7, True),
    ("0", 1, False),    # the check turned off
])
def test_the_shrink_threshold_setting(ten, monkeypatch, setting, new_rows, refused):
    if setting is not None:
        monkeypatch.setenv("O2R_SHRINK_THRESHOLD", setting)
    if refused:
        with pytest.raises(SnapshotShrinks):
            ingest(ten, referrals(new_rows))
    else:
        assert ingest(ten, referrals(new_rows)).upload_id == 2


@pytest.mark.parametrize("setting", ["eighty", "1.5", "-0.1"])
def test_a_shrink_threshold_that_is_not_a_share_is_named(monkeypatch, setting):
    monkeypatch.setenv("O2R_SHRINK_THRESHOLD", setting)
    with pytest.raises(ValueError, match="O2R_SHRINK_THRESHOLD"):
        config.shrink_threshold()


def test_only_the_snapshot_in_force_before_it_is_compared(ten, tmp_path):
    # An older snapshot filled in later is compared with what came before it, not after.
    assert ingest(ten, referrals(3, "OLD"), as_at=dt.date(2022, 4, 30)).upload_id == 2
    # A withdrawn snapshot is no longer the one before: the April one (3) is.
    database.withdraw_snapshot(ten, 1, "pytest", "Wrong as-at date")
    assert ingest(ten, referrals(3, "NEW")).upload_id == 3
    # The first real snapshot is not compared with the demo data it replaces.
    demo = tmp_path / "demo.duckdb"
    ingest(demo, referrals(10), as_at=dt.date(2022, 6, 30), is_demo=True)
    assert ingest(demo, referrals(2)).upload_id == 2


def test_the_first_real_upload_replaces_the_demo_data(demo_db):
    """Left beside the real data, the demo's snapshots were the programme's history (the open
    caseload over time, the pack's earlier quarters) and its crimes were counted as real."""
    def table(sql):
        con = database.connect_read_only(demo_db)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    demo_uploads = table("select max(upload_id), count(*), bool_and(is_demo) from uploads")[0]
    assert demo_uploads[1] > 1 and demo_uploads[2]
    assert table("select count(*) from crimes")[0][0] > 0
    tracker = (b"Nominal ID,Referral Date,Officer,Referral Source,Status\n"
               b"REAL1,15/05/2022,Officer 1,Custody,Active\n"
               b"REAL2,01/08/2022,Officer 2,Probation,Active\n")
    first = service.ingest_bytes(demo_db, "tracker", "august.csv", tracker,
                                 as_at=dt.date(2022, 8, 31))
    # Upload ids count on, so the access log's entries for the demo uploads name none of these.
    assert first.upload_id == demo_uploads[0] + 1
    assert table("select upload_id, is_demo from uploads") == [(first.upload_id, False)]
    assert table("select distinct snapshot_id from referrals") == [(first.upload_id,)]
    assert sorted(table("select nominal_id from referrals")) == [("REAL1",), ("REAL2",)]
    for emptied in ("crimes", "crime_facts", "window_facts", "packs", "snapshot_withdrawals"):
        assert table(f"select count(*) from {emptied}") == [(0,)], emptied
    assert ("Livingstone House",) not in table("select label from labels")
    # The real data is never cleared: the next real upload adds to it.
    second = service.ingest_bytes(demo_db, "connect", "connect.csv",
                                  b"Crime Reference,Nominal ID,Offence Date,Offence Type\n"
                                  b"CR-1,REAL1,01/06/2022,Shoplifting\n",
                                  as_at=dt.date(2022, 8, 31))
    assert table("select upload_id from uploads order by 1") == [(first.upload_id,),
                                                                 (second.upload_id,)]
    assert table("select count(*) from referrals") == [(2,)]


@pytest.mark.parametrize("flag", ["--confirm", "--allow-shrink"])  # the earlier name still works
def test_confirm_on_the_command_line(ten, tmp_path, capsys, flag):
    path = tmp_path / "july.csv"
    path.write_bytes(referrals(3))
    command = ["ingest", "tracker", str(path), "--as-at", "2022-07-31", "--db", str(ten)]
    assert cli.main(command) == 1
    err = capsys.readouterr().err
    assert "july.csv has 3 referrals, fewer than 80% of the 10 in snapshot 1" in err
    assert "add --confirm to the ingest command" in err
    assert cli.main([*command, flag]) == 0
    assert "3 tracker rows accepted" in capsys.readouterr().out


def held_back_on_the_page(app_as, db: Path, data: bytes):
    """An administrator's Data page after uploading july.csv and asking to store it, and the
    "Not stored yet" warning it shows (its Markdown source with the escapes taken out: the
    file's name is escaped, never read as Markdown)."""
    at = app_as("admin", name="Test admin", db=db).run()
    at.switch_page("../pages/data.py").run()
    at.file_uploader[0].set_value(("july.csv", data, "text/csv")).run()
    next(b for b in at.button if b.label == "Store this upload").click().run()
    assert not at.exception, at.exception
    # (another warning says the file gives no as-at date: the date chosen is used)
    return at, next(w.value for w in at.warning if "Not stored yet" in w.value).replace("\\", "")


def test_the_data_page_stores_a_smaller_snapshot_only_once_confirmed(app_as, ten):
    at, warning = held_back_on_the_page(app_as, ten, referrals(7))
    assert "july.csv has 7 referrals, fewer than 80% of the 10 in snapshot 1 (as at " \
        "30/06/2022)" in warning
    assert at.checkbox[0].label == ("The programme really has 7 referrals now: store this "
                                    "snapshot")
    confirm = next(b for b in at.button if b.label == "Store this snapshot")
    assert confirm.disabled
    assert query(ten, "select count(*) from uploads") == [(1,)]
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label == "Store this snapshot").click().run()
    assert not at.exception, at.exception
    assert any("Stored: 7 referrals" in s.value and "(tracker snapshot 2)" in s.value
               for s in at.success)
    assert query(ten, "select upload_id, row_count from uploads order by 1") == [(1, 10), (2, 7)]
