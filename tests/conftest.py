"""Shared fixtures: databases built by the same ingest code the app uses."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import service, store  # noqa: E402


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "o2r.duckdb"
    service.build_demo(db)
    return db


@pytest.fixture
def demo_db(demo_db_template, tmp_path) -> Path:
    """A private copy of the demo database, free to change."""
    db = tmp_path / "o2r.duckdb"
    shutil.copyfile(demo_db_template, db)
    return db


@pytest.fixture
def demo_con(demo_db_template):
    con = store.connect_read_only(demo_db_template)
    yield con
    con.close()
