"""Shared fixtures: databases built by the same ingest code the app uses."""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard" / "app.py")  # what AppTest runs: the app as `streamlit run` does
DEMO = ROOT / "data" / "demo"  # the committed demo exports
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import datetime as dt  # noqa: E402

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402
from streamlit.runtime.scriptrunner.script_cache import ScriptCache  # noqa: E402
from streamlit.testing.v1 import AppTest, app_test, local_script_runner  # noqa: E402

from dashboard import service  # noqa: E402
from dashboard.pack import build  # noqa: E402
from dashboard.security import accounts, audit, sign_in  # noqa: E402
from dashboard.store import database  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _scripts_compiled_once():
    """AppTest compiles the entry script and the page afresh on every run (a new ScriptCache
    each time, with Streamlit's magic rewriting the syntax tree first): about a tenth of a
    crash sweep's CPU. A server compiles each script once and keeps it; the sources do not
    change while the tests run, so one cache serves every run here too."""
    shared = ScriptCache()
    with pytest.MonkeyPatch.context() as patch:
        for module in (app_test, local_script_runner):
            patch.setattr(module, "ScriptCache", lambda: shared)
        yield


@pytest.fixture(scope="session", autouse=True)
def _chart_specs_checked():
    """The server sends chart specs without Altair's check against the Vega-Lite schema (45 ms
    a chart); every spec a test draws is checked, so a bad option fails the tests."""
    from dashboard.ui import layout

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(layout, "CHECK_SPECS_AGAINST_SCHEMA", True)
        yield


@pytest.fixture(scope="session", autouse=True)
def _session_security_db(tmp_path_factory):
    """Databases built once per run (demo_db_template, small_db) record their uploads in a log
    of their own, never in the repository's data/ folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("O2R_SECURITY_DB",
                     str(tmp_path_factory.mktemp("security") / "o2r-security.sqlite"))
        yield


@pytest.fixture(scope="session", autouse=True)
def _no_pack_ahead():
    """No background pack builds while tests run (tests/test_pack_ahead.py turns them on):
    a thread left protecting a test's database would outlive the test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("O2R_PACK_AHEAD", "no")
        yield


@pytest.fixture(autouse=True)
def security_db(tmp_path, monkeypatch) -> Path:
    """Each test gets its own users table and access log; every action the test wrote to it
    must be one audit.Action declares."""
    path = tmp_path / "o2r-security.sqlite"
    monkeypatch.setenv("O2R_SECURITY_DB", str(path))
    yield path
    assert not undeclared_actions(path), f"undeclared actions in the access log: " \
        f"{undeclared_actions(path)}; declare them in audit.Action"


@pytest.fixture
def protected_again(monkeypatch) -> list[str]:
    """The quarters protected after a history (in a chain), in order, whoever asked; a
    quarter before the programme's first is protected alone, for a few ms, by the pack whose
    trend reaches it."""
    done, protect = [], build.protect_quarter_with_outcomes

    def counted(data, how, threshold, history=None):
        if history is not None:
            done.append(data.quarter.label)
        return protect(data, how, threshold, history)

    monkeypatch.setattr(build, "protect_quarter_with_outcomes", counted)
    return done


def undeclared_actions(path: Path) -> set[str]:
    """The actions in a log that audit.Action does not declare (read as it stands, with no
    connection of the dashboard's, which would change a tampered log)."""
    if not path.exists():
        return set()
    try:
        with contextlib.closing(sqlite3.connect(path)) as con:
            actions = {a for (a,) in con.execute("select distinct action from access_log")}
    except sqlite3.Error:  # a test that broke the file on purpose
        return set()
    return actions - set(audit.ACTIONS)


def signed_in_demo(at, role: str = "admin"):
    """An AppTest whose session is signed in with a demo account (demo data only)."""
    at.session_state[sign_in.SESSION_KEY] = {
        "name": sign_in.DEMO_VIEWERS[role].name, "demo": role, "via": "demo",
        "last_activity": dt.datetime.now(dt.UTC)}
    return at


def signed_in_as(at, security_path: Path, name: str, role: str, officers=()):
    """An AppTest signed in with a real local account, created here."""
    if accounts.get_user(security_path, name) is None:
        accounts.add_user(security_path, name, role, password="correct horse battery",
                          officer_names=officers)
    at.session_state[sign_in.SESSION_KEY] = {"name": name, "via": "local",
                                          "last_activity": dt.datetime.now(dt.UTC),
                                          "signed_in_at": dt.datetime.now(dt.UTC)}
    return at


@pytest.fixture
def app_as(request, security_db, monkeypatch):
    """Make an AppTest of the whole app, signed in: `app_as("steering")` with that role's demo
    account over a private copy of the demo data; `app_as("officer", name="Jones",
    officers=("PC Jones",))` with a local account created for the test; `app_as(None)` at the
    sign-in page; `db=` for other data. The app is not run yet, so a test can set query
    parameters first."""
    def make(role: str | None = "admin", *, name: str | None = None, officers=(),
             db: Path | None = None, timeout: float = 120) -> AppTest:
        # the demo copy only when asked for: it is made at tmp_path/o2r.duckdb, where a
        # test's own database may be
        monkeypatch.setenv("O2R_DB", str(db or request.getfixturevalue("demo_db")))
        at = AppTest.from_file(APP, default_timeout=timeout)
        if role is None:
            return at
        if name is None:
            return signed_in_demo(at, role)
        return signed_in_as(at, security_db, name, role, officers)
    return make


def page_text(at: AppTest) -> str:
    """Everything an AppTest page shows as text: metrics, captions, markdown, notices and
    table cells."""
    parts = [m.label + " " + m.value for m in at.metric]
    parts += [e.value for e in (*at.caption, *at.markdown, *at.info, *at.warning)]
    parts += [frame.value.to_string() for frame in at.dataframe]
    return "\n".join(parts)


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


def fail_to_record(monkeypatch, action) -> None:
    """The access log refuses entries of one action (a full disk, a locked security file);
    every other action is recorded as usual."""
    record = audit.record

    def record_all_but(actor, logged, **kwargs):
        if logged == action:
            raise audit.AccessLogError("The access log could not be written (disk full)")
        return record(actor, logged, **kwargs)

    monkeypatch.setattr(audit, "record", record_all_but)


def mark_real(db: Path) -> Path:
    """The demo data in db as if uploaded for real, for tests of what a real upload does to
    the data before it: stored onto the demo data, the first real upload clears it instead."""
    con = duckdb.connect(str(db))
    con.execute("update uploads set is_demo = false")
    con.close()
    return db


@pytest.fixture
def real_history_db(demo_db) -> Path:
    """demo_db, its uploads marked real (mark_real)."""
    return mark_real(demo_db)


@pytest.fixture
def demo_con(demo_db_template):
    con = database.connect_read_only(demo_db_template)
    yield con
    con.close()


@pytest.fixture(scope="session")
def small_db(tmp_path_factory) -> Path:
    """One officer, one quarter of referrals (2022/23 Q1), no Connect upload."""
    tracker = pd.read_excel(DEMO / "o2r_tracker_synthetic_as_at_2022-07-31.xlsx",
                            engine="calamine", header=None, dtype=object)
    header_row = next(i for i, row in tracker.iterrows()
                      if any(str(v).strip().lower() == "nominal id" for v in row))
    frame = tracker.iloc[header_row + 1:].set_axis(tracker.iloc[header_row], axis=1)
    referral = pd.to_datetime(frame["Referral Date"], dayfirst=True)
    frame = frame[(frame["Officer"] == "Officer 1")
                  & referral.between("2022-04-01", "2022-06-30")].copy()
    assert 5 <= len(frame) < 40
    for column in frame.columns:
        if "date" in str(column).lower() or str(column).lower() == "dob":
            frame[column] = pd.to_datetime(frame[column], dayfirst=True).dt.strftime("%d/%m/%Y")
    db = tmp_path_factory.mktemp("small") / "o2r.duckdb"
    service.ingest_bytes(db, "tracker", "small.csv", frame.to_csv(index=False).encode(),
                         as_at=dt.date(2022, 7, 31))
    return db


def query(db: Path, sql: str) -> list[tuple]:
    """Rows of `sql` over a database file, read-only."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def digest(path: Path) -> str:
    """The SHA-256 of a file: a database's content, to show a refused upload changed nothing."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_cli(*args: str) -> tuple[int, str, str]:
    """The command line run in this process: (exit code, stdout, stderr)."""
    from dashboard.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()
