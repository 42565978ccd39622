"""The fast path for clean CSV files (dashboard/ingest/fast_csv.py) against the strict reader: over
every text file of the malformed corpus and the demo exports, it never accepts a file the
strict reader refuses, and what it accepts is stored exactly as the strict reader's rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from dataclasses import asdict
from pathlib import Path

import duckdb
import malformed_corpus as corpus
import pytest

from dashboard import service
from dashboard.ingest import fast_csv, readers, validation
from dashboard.ingest.contract import FORBIDDEN, load_contract
from dashboard.ingest.validation import UploadRejected
from dashboard.store import database

from conftest import digest

AS_AT = dt.date(2022, 8, 1)
CASES = [case for case in corpus.build() if not case.data.startswith(b"PK")]
DEMO_CONNECT = corpus.CONNECT_CSV.read_bytes()


def strict(kind: str, data: bytes, file_name: str, monkeypatch) -> validation.PreparedUpload | \
        UploadRejected:
    with monkeypatch.context() as patch:
        patch.setattr(validation, "FAST_KINDS", set())
        try:
            return validation.prepare(kind, file_name, data, as_at=AS_AT, use_column_map=False)
        except UploadRejected as exc:
            return exc


def fast(kind: str, data: bytes, file_name: str, folder: Path | None = None
         ) -> validation.PreparedUpload | None:
    """The fast path's result, or None where it declines (the strict reader then reads):
    from the bytes (the page's way, read by Arrow), or, given a folder, from the file written
    there (the command line's way: UTF-8 read by DuckDB's own reader)."""
    report = validation.IngestReport(file_name=file_name, kind=kind, as_at=AS_AT)
    source = data
    if folder is not None:
        source = folder / file_name
        source.write_bytes(data)
    try:
        return validation.prepare_fast(load_contract(kind), report, source, None)
    except fast_csv.Declined:
        return None


def same_upload(ours: validation.PreparedUpload, theirs: validation.PreparedUpload) -> None:
    assert ours.clean.sort_by("source_row").equals(theirs.clean.sort_by("source_row"))
    assert asdict(ours.report) == asdict(theirs.report)


@pytest.fixture(autouse=True)
def _small_blocks(monkeypatch):
    # Blocks smaller than the larger files, so quotes, line ends and UTF-8 characters fall on
    # the edges between blocks (the block scan's own test tries every size on small texts).
    monkeypatch.setattr(fast_csv, "CHUNK_BYTES", 65_521)
    for name in ("O2R_COLUMN_MAP", "O2R_MAX_UPLOAD_MB", "O2R_MAX_COLUMNS", "O2R_MAX_CELL_KB"):
        monkeypatch.delenv(name, raising=False)


# Quoting and line shapes at the edge of what the fast path reads, on a clean Connect file.
CONNECT_HEAD = b"Crime Reference,Nominal ID,Offence Date,Offence Type,Offence Area,Value Stolen\n"
EDGES = [CONNECT_HEAD + row for row in (
    b'"20A/1",N1,01/02/2022,"Shoplifting","",\n',
    b'20A/1,N1,01/02/2022,"Shop ""lifting""",Aston,1\n',
    b'20A/1,N1,01/02/2022,""Shoplifting,Aston,1\n',
    b'20A/1,N1,01/02/2022,"Shop"lifting,Aston,1\n',
    b'20A/1,N1,01/02/2022,Shop"lifting,Aston,1\n',
    b'20A/1,N1,01/02/2022, "Shoplifting" ,Aston,1\n',
    b'20A/1,N1,01/02/2022,Shoplifting,Aston,1\r\n20A/2,N1,01/02/2022,Theft,Aston,2\r\n',
    b'20A/1,N1,01/02/2022,Shoplifting,Aston,1,\n',
    b'20A/1,N1,01/02/2022,Shoplifting,Aston\n',
    b'20A/1,N1,01/02/2022,Shoplifting,Aston,1\n\n',
    b'20A/1,N1,01/02/2022,Shoplifting,Aston,1',
    b'20A/1,N1,01/02/2022,Shoplifting,"Aston\nNorth",1\n',
    b'20A/1,N1,01/02/2022,Shoplifting,Aston,"1\n',
    b'20A/1,N1,01/02/2022,Shoplifting,Aston,\xc2\xa31\n',
    b'20A/1,N1,01/02/2022,Shoplifting,Aston,\xa31\n',
    b'20A/1,N1,01/02/2022,Shoplifting,Aston \xe2\x80\xae,1\n',
)] + [b"\xef\xbb\xbf" + CONNECT_HEAD + b'"20A/1",N1,01/02/2022,Theft,Aston,1\n',
      CONNECT_HEAD.replace(b",", b";") + b"20A/1;N1;01/02/2022;Theft;Aston;1\n",
      CONNECT_HEAD.replace(b"Value Stolen", b'"Value\nStolen"') + b"20A/1,N1,01/02/2022,"
      b"Theft,Aston,1\n"]


def test_fast_path_never_accepts_what_the_strict_reader_refuses(monkeypatch, tmp_path):
    cases = [(c.upload, c.data, c.file_name) for c in CASES] + [
        ("connect", data, f"edge-{i}.csv") for i, data in enumerate(EDGES)]
    taken = 0
    for kind, data, file_name in cases:
        theirs = None  # the strict reader's, read once, only if needed
        for folder in (None, tmp_path):
            ours = fast(kind, data, file_name, folder)
            if ours is None:
                continue
            taken += 1
            theirs = theirs or strict(kind, data, file_name, monkeypatch)
            assert not isinstance(theirs, UploadRejected), file_name
            same_upload(ours, theirs)
    # It reads the corpus's clean files, not only declines (each kind, several encodings).
    assert taken >= 30


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig"])
def test_clean_connect_exports_take_the_fast_path_and_match(encoding, monkeypatch, tmp_path):
    data = DEMO_CONNECT.decode("cp1252").encode(encoding)
    for folder in (None, tmp_path):
        ours = fast("connect", data, "connect.csv", folder)
        assert ours is not None
        same_upload(ours, strict("connect", data, "connect.csv", monkeypatch))


def contents(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {table: con.execute(f"select * from {table} order by all").fetchall()
                for table in ("referrals", "crimes", "labels", "crime_facts")} | {
            "uploads": con.execute("select * exclude (uploaded_at) from uploads order by all"
                                   ).fetchall()}
    finally:
        con.close()


def test_what_both_accept_is_stored_identically(demo_db_template, tmp_path, monkeypatch):
    """Stored through service.ingest_path (the command line's way: the file read where it is),
    by the fast path and by the strict reader, into copies of one database."""
    accepted = [case for case in CASES if case.rows is not None and fast(
        case.upload, case.data, case.file_name) is not None][:8]
    accepted.append(corpus.Case("demo", "connect-demo.csv", DEMO_CONNECT, upload="connect",
                                rows=1))
    stored = {}
    for kinds in ({"tracker", "connect"}, set()):
        monkeypatch.setattr(validation, "FAST_KINDS", kinds)
        db = tmp_path / f"o2r-{len(kinds)}.duckdb"
        shutil.copyfile(demo_db_template, db)
        for case in accepted:
            source = tmp_path / case.file_name
            source.write_bytes(case.data)
            service.ingest_path(db, case.upload, source, as_at=AS_AT, uploaded_by="test",
                                confirmed=True)
        stored[len(kinds)] = contents(db)
    assert len(accepted) >= 6
    assert stored[2] == stored[0]


def test_staging_holds_only_the_contract_columns_and_is_removed(monkeypatch, tmp_path,
                                                                 demo_db):
    header, rows = corpus.connect_table()
    named = corpus.write_csv(["Name", *header, "Notes"],
                             [["Zebedee Quartermaine", *row, "xyzzy canary note"]
                              for row in rows]).encode()
    staged = {}
    original = validation.collect_warnings

    def spy(con, *args):
        staged["tables"] = {table: con.sql(f"select * from {table}").fetchall() for (table,) in
                            con.execute("select table_name from duckdb_tables()").fetchall()}
        staged["columns"] = con.sql("select * from typed_rows").columns
        return original(con, *args)

    monkeypatch.setattr(validation, "collect_warnings", spy)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(fast_csv.tempfile, "tempdir", str(temp))
    source = temp / "connect.csv"
    source.write_bytes(named)
    report = service.ingest_path(demo_db, "connect", source, as_at=AS_AT, uploaded_by="t")
    assert report.rows == len(rows)
    # Each row's typed cells (no text kept) and whether it is blank or breaks a rule.
    assert staged["columns"] == ["blank", "crime_reference", "nominal_id", "offence_date",
                                 "offence_type", "offence_area", "value_stolen", "bad"]
    assert "typed_rows" in staged["tables"]
    assert not any(cell in str(staged["tables"]) for cell in ("Zebedee", "xyzzy", "canary"))
    assert [p.name for p in temp.iterdir()] == ["connect.csv"]


@pytest.mark.parametrize("text", [
    'a,b\n"x",y\n', 'a,b\n"x"y,z\n', 'a,b\r\n"q""r",s\r\n', 'a,"b\nc"\nd,e', '"a"b,c\n',
    'a,b\n\n"x,y"\n', 'a,b\nx"y,z\n', 'a,b\nx,"y"\n', 'ab,c"d\ne,f\n', 'a,b\n"",x\n""y,z\n',
])
def test_the_block_scan_agrees_with_the_strict_readers_checks(text, monkeypatch):
    body = text.encode()
    for size in range(1, len(body) + 2):
        monkeypatch.setattr(fast_csv, "CHUNK_BYTES", size)
        for source in (body, b"\xef\xbb\xbf" + body):
            scanned = fast_csv.scan(source, ",", "utf-8")
            assert scanned.quotes_simple == readers.quotes_are_simple(body, ","), (text, size)
            assert scanned.lines == readers.count_lines(body), (text, size)
            assert scanned.longest_line == max(len(line) for line in
                                               body.splitlines(keepends=True)), (text, size)


def test_the_block_scan_judges_every_character_of_the_two_byte_and_punctuation_ranges(
        monkeypatch):
    # Each character from U+0080 to U+07FF (two bytes in UTF-8: the C1 controls among them)
    # and of General Punctuation (U+2000-U+206F: separators, text-direction marks), alone in
    # a cell, with the first block ending inside it and not: FORBIDDEN's verdict exactly.
    for code in [*range(0x80, 0x800), *range(0x2000, 0x2070)]:
        text = f"a,b\nx{chr(code)},y\n"
        body = text.encode()
        for size in (5, 6, 7, len(body)):
            monkeypatch.setattr(fast_csv, "CHUNK_BYTES", size)
            found = fast_csv.scan(body, ",", "utf-8").may_hold_forbidden
            assert found == bool(FORBIDDEN.search(text)), (hex(code), size)


@pytest.mark.parametrize("text", [
    "a,b\nx,y\n", "a,b\r\nx\t,y\r\n", "a,b\nx\x1b,y\n", "a,b\nx,y\x7f\n", "a,\u00a3b\nx,y\n",
    "a,b\nx\u0085,y\n", "a,b\nx,\u2019y\u2028\n", "a,b\n\u2066x,y\n", "a,\u20acb\nx,\u2069\n",
    "a,b\nx\u200f,y\n", "a,b\nx\x0b,\x0c\n",
])
def test_the_block_scan_sees_every_refused_character(text, monkeypatch):
    """A file the scan calls free of refused characters has none in any cell: the rules then
    skip looking for them (it may call a file suspect that holds none)."""
    body = text.encode()
    for size in range(1, len(body) + 2):
        monkeypatch.setattr(fast_csv, "CHUNK_BYTES", size)
        for source in (body, b"\xef\xbb\xbf" + body):
            found = fast_csv.scan(source, ",", "utf-8").may_hold_forbidden
            assert found == bool(FORBIDDEN.search(text)), (text, size)
    if text.isascii() or all(ord(c) < 0x80 or c in "\u00a3\u20ac\u2019" for c in text):
        found = fast_csv.scan(text.encode("cp1252"), ",", "cp1252").may_hold_forbidden
        assert found == bool(FORBIDDEN.search(text)), text


@pytest.mark.parametrize("text", [
    "a,b\nx,y\n", "a,b\nx ,y\n", "a,b\n x,y\n", "a,b\nx,y \r\n", "a,b\nx,y ", " a,b\nx,y\n",
    'a,b\n"x ",y\n', 'a,b\n" x",y\n', "a,b\nx y,z w\n", "a,b\nx,\u00a0y\n", "a, b\nx,y\n",
    "a,b\r\nx y,z\r\n", "a,b\nx,y\n\n", "a,b\nx,\u00e9\n", "a,b\nx\t,y\n", "a,b\n\tx,y\n",
    "a,b\nx,y\t", "a,b\nx\ty,z\n", 'a,b\n"x\t",y\n',
])
def test_the_block_scan_sees_every_cell_trimming_would_change(text, monkeypatch):
    """A file the scan calls free of cells to trim has none that trimming changes (ASCII text
    with no cell starting or ending with a space or tab): typing then skips trimming."""
    body = text.encode()
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    expected = not text.isascii() or any(cell != cell.strip(" \t") for cell in cells)
    for size in range(1, len(body) + 2):
        monkeypatch.setattr(fast_csv, "CHUNK_BYTES", size)
        for source in (body, b"\xef\xbb\xbf" + body):
            assert fast_csv.scan(source, ",", "utf-8").cells_may_need_trim == expected, (
                text, size)


def test_a_failure_while_storing_a_staged_upload_changes_nothing(demo_db, tmp_path,
                                                                  monkeypatch):
    before = digest(demo_db)
    original = database.merge_crimes

    def fail(con, upload_id):
        original(con, upload_id)
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(database, "merge_crimes", fail)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(fast_csv.tempfile, "tempdir", str(temp))
    source = temp / "connect.csv"
    source.write_bytes(DEMO_CONNECT.replace(b"20SYN/", b"21NEW/"))
    with pytest.raises(RuntimeError):
        service.ingest_path(demo_db, "connect", source, as_at=AS_AT, uploaded_by="t")
    assert digest(demo_db) == before
    assert [p.name for p in temp.iterdir()] == ["connect.csv"]
    assert not list(demo_db.parent.glob("*.writing-*"))
    monkeypatch.setattr(database, "merge_crimes", original)
    report = service.ingest_path(demo_db, "connect", source, as_at=AS_AT, uploaded_by="t")
    assert report.upload_id is not None and digest(demo_db) != before
