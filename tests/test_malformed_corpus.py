"""Every export in the malformed corpus (tests/malformed_corpus.py) ends as its kind says:
stored with its rows, or refused with a message naming the file (and the row and column
where the problem has a place) and a fix in words, the database byte for byte unchanged.

Each case goes through the command line's own entry point, in this process, into a fresh
copy of the demo database.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter

import malformed_corpus as corpus
import pytest

from conftest import digest, run_cli

CASES = corpus.build()
# Another change refuses a snapshot much smaller than the last unless confirmed; the corpus
# is about reading files, so it confirms where the command line offers that.
CONFIRM = ["--confirm"]


@pytest.fixture(autouse=True)
def _no_site_settings(monkeypatch):
    for name in ("O2R_COLUMN_MAP", "O2R_MAX_UPLOAD_MB", "O2R_MAX_COLUMNS", "O2R_MAX_CELL_KB",
                 "O2R_XLSX_MAX_ROWS", "O2R_XLSX_MAX_RATIO", "O2R_XLSX_MAX_UNCOMPRESSED_MB"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def corpus_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    corpus.write(CASES, folder)
    return folder


def test_the_corpus_has_enough_files_and_kinds_each_with_one_expected_outcome():
    kinds = Counter(case.kind for case in CASES)
    assert len(CASES) >= 150 and len(kinds) >= 25
    assert len({case.file_name for case in CASES}) == len(CASES)
    for case in CASES:
        assert (case.rows is None) != (case.message is None), case.file_name
    assert sum(case.rows is None for case in CASES) > 100  # mostly refusals


@pytest.mark.parametrize("case", CASES, ids=[case.file_name for case in CASES])
def test_malformed_export_ends_as_its_kind_says(case, corpus_folder, demo_db_template,
                                                 tmp_path):
    db = tmp_path / "o2r.duckdb"
    shutil.copyfile(demo_db_template, db)
    before = digest(db)
    code, out, err = run_cli("ingest", case.upload, str(corpus_folder / case.file_name),
                             "--as-at", "2022-08-01", "--uploader", "corpus", "--db", str(db),
                             *CONFIRM)
    for text in (out, err):
        assert "Traceback" not in text and 'File "' not in text
        assert "Unexpected error" not in text and "See the message" not in text
    if case.rows is not None:
        assert code == 0, err
        assert f": {case.rows:,} {case.upload} rows accepted" in out
        assert f"Rows read: {case.rows:,}; stored: {case.rows:,}; refused: 0" in out
        return
    assert code == 1, out
    assert re.search(case.message, err), err[:3000]
    assert err.startswith(f"{case.file_name} was rejected: "), err[:300]
    problems = [line for line in err.splitlines()
                if line.startswith("  ") and not line.startswith("  ... and ")]
    assert problems and all(re.search(r"\. Fix: \w.+\.$", line) for line in problems), err
    if case.where is not None:
        row, column = case.where
        assert (f"  row {row}, column '{column}'" if column else f"  row {row}") in err, err
    assert digest(db) == before
