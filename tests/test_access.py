"""Who sees what: officers only their own referrals, the scrutiny panel no person and no small
count, administration for admins; through every page, filter, URL, download and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.security import access, accounts, audit
from dashboard.security.access import COMMAND_LINE, AccessDenied, Viewer
from dashboard.store import database, queries
from dashboard.ui import exports

from conftest import ROOT

OFFICER_1 = Viewer("PC One", "officer", ("Officer 1",))
UNMAPPED = Viewer("PC Nobody", "officer", ())
SCRUTINY = Viewer("Panel member", "scrutiny")
STEERING = Viewer("Steering member", "steering")
SCOPED = [n for n in queries.names() if queries.access_level(n) in ("referrals", "person")]
COMMON_PAGES = ["overview.py", "referral_sources.py", "offending_areas.py",
                "officer_caseloads.py", "journey_flow.py", "outcomes.py", "cost_savings.py",
                "methodology.py"]


@pytest.fixture
def officer_1_nominals(demo_con) -> set[str]:
    rows = queries.run(demo_con, COMMAND_LINE, "referral_list", officer="Officer 1")
    return set(rows["nominal_id"])


# --- the rule, at the one place every query passes through --------------------------------

@pytest.mark.parametrize("name", [n for n in SCOPED if "officer" in queries.parameters(n)])
def test_an_officer_sees_exactly_what_an_officer_filter_gives(demo_con, name):
    mine = queries.run(demo_con, OFFICER_1, name)
    filtered = queries.run(demo_con, COMMAND_LINE, name, officer="Officer 1")
    pd.testing.assert_frame_equal(mine, filtered)


@pytest.mark.parametrize("name", [n for n in SCOPED if "officer" in queries.parameters(n)])
def test_an_officer_filtering_for_someone_else_gets_nothing(demo_con, name):
    theirs = queries.run(demo_con, OFFICER_1, name, officer="Officer 2")
    nobody = queries.run(demo_con, COMMAND_LINE, name, officer="Nobody at all")
    pd.testing.assert_frame_equal(theirs, nobody)


@pytest.mark.parametrize("name", SCOPED)
def test_an_officer_with_no_tracker_name_sees_nothing(demo_con, name):
    result = queries.run(demo_con, UNMAPPED, name)
    counts = result.select_dtypes("number").drop(columns=["weeks", "days_q1", "days_median",
                                                          "days_q3", "snapshot_id"],
                                                 errors="ignore")
    assert result.empty or counts.fillna(0).to_numpy().sum() == 0 or name == "filter_options"
    if name == "filter_options":
        assert set(result["field"]) <= {"first_referral_date", "last_referral_date"}


def test_filter_options_offer_an_officer_only_their_own_name(demo_con):
    options = queries.run(demo_con, OFFICER_1, "filter_options")
    assert list(options.loc[options["field"] == "officer", "value"]) == ["Officer 1"]


def test_callers_cannot_set_the_scope_themselves(demo_con):
    with pytest.raises(AccessDenied):
        queries.run(demo_con, OFFICER_1, "officer_caseload", scope_officers=["Officer 2"])


MACROS = [
    "create or replace macro scoped_referrals(p_snapshot_id, p_scope_officers) as table "
    "select * from o2r.referrals where list_contains(p_scope_officers, officer)",
    # passes its caller's scope on, through another scoped macro
    "create or replace macro passes_on(p_snapshot_id, p_scope_officers) as table "
    "select * from scoped_referrals(p_snapshot_id, p_scope_officers)",
    "create or replace macro passes_on_again(p_scope_officers, p_area) as table "
    "select * from passes_on(null, p_scope_officers) where offending_area = p_area",
    "create or replace macro drops_it(p_snapshot_id, p_scope_officers) as table "
    "select * from scoped_referrals(p_snapshot_id, null)",
    "create or replace macro reads_the_table(p_snapshot_id, p_scope_officers) as table "
    "select * from scoped_referrals(p_snapshot_id, p_scope_officers) "
    "union all select * from referrals",
    # reads the table through SQL held in a string, which only DuckDB's parser can flag
    "create or replace macro reads_through_a_string(p_snapshot_id, p_scope_officers) as table "
    "select * from scoped_referrals(p_snapshot_id, p_scope_officers) "
    "union all select * from query('select * from o2r.referrals')",
    # reads no referrals, so calling it beside a scoped read is harmless
    "create or replace macro latest_as_at() as (select max(as_at_date) from o2r.uploads)",
]


def test_a_macro_is_scoped_only_when_it_passes_its_scope_on():
    assert access.scoped_functions(MACROS) == {
        "scoped_referrals": 1, "passes_on": 1, "passes_on_again": 0}
    assert access.unscoped_readers(MACROS) == {
        "drops_it", "reads_the_table", "reads_through_a_string"}
    assert queries.unscoped_readers() == frozenset()
    # the shipped macros: those reading referrals all pass the scope on
    assert {"scoped_referrals", "data_quality_issues",
            "journey_events"} <= set(queries.scoped_functions())


@pytest.mark.parametrize(("sql", "allowed"), [
    ("select * from passes_on_again($scope_officers, $area)", True),
    ("select * from scoped_referrals($snapshot_id, $scope_officers)", True),
    ("select * from passes_on_again(null, $area)", False),
    ("select * from passes_on($snapshot_id, $scope_officers) "
     "join passes_on($snapshot_id, null) using (nominal_id)", False),
    ("select * from drops_it($snapshot_id, $scope_officers)", False),
    ("select * from reads_the_table($snapshot_id, $scope_officers)", False),
    ("select * from passes_on($snapshot_id, $scope_officers) union all select * from referrals",
     False),
    ("-- scoped_referrals($snapshot_id, $scope_officers)\nselect * from o2r.crimes", False),
    ("/* scoped_referrals($snapshot_id, $scope_officers) */ select * from o2r.crimes", False),
    ("select 'scoped_referrals($snapshot_id, $scope_officers)' as t from o2r.crimes", False),
    # a `--` inside a literal is not a comment: the call after it is still seen
    ("select * from scoped_referrals($snapshot_id, $scope_officers) where officer <> '--' "
     "union all select * from passes_on($snapshot_id, null)", False),
    ("select * from scoped_referrals($snapshot_id, $scope_officers) where officer <> '--'", True),
    ('select * from scoped_referrals($snapshot_id, $scope_officers) union all '
     'select * from "referrals"', False),
    ('select * from scoped_referrals($snapshot_id, $scope_officers) union all '
     'select * from "o2r"."main"."referrals"', False),
    ("select * from scoped_referrals($snapshot_id, $scope_officers) -- not from referrals", True),
    # every other way DuckDB reads the table, each beside a proper scoped read
    *[(f"select * from scoped_referrals($snapshot_id, $scope_officers) union all {other}", False)
      for other in ("select * from query('select * from o2r.referrals')",
                    "select * from query_table('referrals')",
                    "select * from 'referrals'", 'select * from"referrals"',
                    "select * from o2r.uploads, referrals", "select * from (table referrals)",
                    "select * from memory.main.referrals",
                    "select * from o2r.uploads where upload_id in "
                    "(select snapshot_id from referrals)",
                    "select * from reads_through_a_string($snapshot_id, $scope_officers)",
                    "select * from drops_it($snapshot_id, $scope_officers)")],
    # SQL the parser cannot read as a SELECT cannot be checked, so it is refused
    ("pivot scoped_referrals($snapshot_id, $scope_officers) on area", False),
    ("select *, latest_as_at() from scoped_referrals($snapshot_id, $scope_officers)", True),
])
def test_a_referral_query_must_read_through_a_scoped_function(sql, allowed):
    scoped, unscoped = access.scoped_functions(MACROS), access.unscoped_readers(MACROS)
    parameters = ["snapshot_id", "scope_officers", "area"]
    if allowed:
        access.check_query("q", sql, "referrals", parameters, scoped, unscoped)
    else:
        with pytest.raises(ValueError, match="must read referrals only through"):
            access.check_query("q", sql, "referrals", parameters, scoped, unscoped)


@pytest.mark.parametrize("level", ["programme", "admin"])
def test_no_query_of_any_level_reads_the_table_itself(level):
    scoped = access.scoped_functions(MACROS)
    for sql in ("select min(referral_date) from o2r.referrals",
                "select * from query('select * from referrals')",
                "select * from reads_the_table(null, null)"):
        with pytest.raises(ValueError, match="must read referrals only through"):
            access.check_query("q", sql, level, [], scoped, access.unscoped_readers(MACROS))
    access.check_query("q", "select * from scoped_referrals($snapshot_id, null)", level,
                       ["snapshot_id"], scoped, access.unscoped_readers(MACROS))


def test_an_unscoped_read_through_a_real_macro_is_refused():
    sql = "select * from journey_events($snapshot_id, null, null, null, null)"
    with pytest.raises(ValueError, match="must read referrals only through"):
        access.check_query("q", sql, "person", ["snapshot_id", "scope_officers"],
                           queries.scoped_functions())


@pytest.mark.parametrize("name", [n for n in queries.names()
                                  if queries.access_level(n) != "programme"])
def test_scrutiny_may_run_no_query_that_counts_referrals(demo_con, name):
    # The panel sees referral counts only through the protected quarterly pack
    # (docs/disclosure.md), so no count of a query reaches it unprotected.
    with pytest.raises(AccessDenied):
        queries.run(demo_con, SCRUTINY, name)


@pytest.mark.parametrize("name", [n for n in queries.names()
                                  if queries.access_level(n) == "programme"])
def test_programme_queries_hold_no_person_and_no_count(demo_con, name):
    result = queries.run(demo_con, SCRUTINY, name)
    assert "nominal_id" not in result.columns
    integers = [c for c in result.columns if pd.api.types.is_integer_dtype(result[c])
                and c not in ("snapshot_id", "upload_id")]
    assert not integers, (name, integers)


TYPED = "Typed by staff: SYN0012"


def test_programme_queries_hold_nothing_staff_typed_or_who_did_it(demo_db):
    # Every role runs programme queries, so no file name, uploader or withdrawal reason (typed
    # text that may name a person) may be in one; the Data page's record is admin only.
    import duckdb

    with duckdb.connect(str(demo_db)) as con:
        latest = con.execute("select max(upload_id) from uploads "
                             "where kind = 'tracker'").fetchone()[0]
        con.execute("update uploads set file_name = $t, uploaded_by = $t", {"t": TYPED})
        con.execute("insert into snapshot_withdrawals values ($id, now(), $t, $t)",
                    {"id": latest, "t": TYPED})
    con = database.connect_read_only(demo_db)
    try:
        names = [n for n in queries.names() if queries.access_level(n) == "programme"]
        for viewer in (SCRUTINY, OFFICER_1, STEERING):
            for name in names:
                shown = queries.run(con, viewer, name).astype(str).to_numpy()
                assert not any(TYPED in cell for cell in shown.flat), (viewer.role, name)
        history = queries.run(con, COMMAND_LINE, "snapshot_history")
        assert (history["withdrawn_reason"] == TYPED).any()  # kept, for administrators
        for viewer in (SCRUTINY, OFFICER_1, STEERING):
            with pytest.raises(AccessDenied):
                queries.run(con, viewer, "snapshot_history")
    finally:
        con.close()


def test_an_officer_cannot_ask_for_an_earlier_snapshot(demo_con):
    # An earlier snapshot shows referrals that were theirs then and have moved since, with
    # those people's later offences.
    earlier = int(queries.run(demo_con, COMMAND_LINE, "snapshots")["snapshot_id"].iloc[-1])
    for name in ("offences_by_area", "referral_list", "referral_date_span"):
        with pytest.raises(AccessDenied, match="latest tracker snapshot only"):
            queries.run(demo_con, OFFICER_1, name, snapshot_id=earlier)
        queries.run(demo_con, OFFICER_1, name)  # the latest, as every page asks
        queries.run(demo_con, STEERING, name, snapshot_id=earlier)


def test_an_officer_cannot_ask_for_earlier_snapshots_in_a_list(demo_con):
    """The stock queries that read several snapshots in one run (the pack's) keep the rule:
    an officer may not name one, and left out, the list is the latest snapshot alone."""
    listed = queries.run(demo_con, COMMAND_LINE, "snapshots")["snapshot_id"].tolist()
    latest, earlier = int(listed[0]), int(listed[-1])
    assert latest != earlier
    for name in ("quarter_end_caseloads", "quarter_end_in_rehab"):
        for asked in ([earlier], [latest], [latest, earlier]):
            with pytest.raises(AccessDenied, match="latest tracker snapshot only"):
                queries.run(demo_con, OFFICER_1, name, snapshot_ids=asked)
        mine = queries.run(demo_con, OFFICER_1, name)
        assert set(mine["snapshot_id"]) == {latest}
        assert set(queries.run(demo_con, STEERING, name, snapshot_ids=[earlier])[
            "snapshot_id"]) == {earlier}
    mine = queries.run(demo_con, OFFICER_1, "quarter_end_caseloads")
    assert set(mine["officer"].dropna()) == {"Officer 1"}


def test_every_query_declares_its_access_level():
    for name in queries.names():
        assert queries.access_level(name) in access.LEVELS


def test_admin_only_queries(demo_con):
    with pytest.raises(AccessDenied):
        queries.run(demo_con, STEERING, "uploads")
    with pytest.raises(AccessDenied):
        queries.run(demo_con, OFFICER_1, "uploads")


# --- through the app -----------------------------------------------------------------------

def page_titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def every_frame(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe] + [pd.DataFrame(t.value) for t in at.table]


@pytest.mark.parametrize("role, visible, hidden", [
    ("officer", ["referral_list.py"], ["data.py", "access_log.py", "users.py"]),
    ("steering", ["referral_list.py"], ["data.py", "access_log.py", "users.py"]),
    ("scrutiny", ["quarterly_pack.py", "methodology.py"],
     ["overview.py", "offending_areas.py", "journey_flow.py", "outcomes.py", "cost_savings.py",
      "officer_caseloads.py", "referral_sources.py", "referral_list.py", "data.py",
      "access_log.py", "users.py"]),
    ("admin", ["referral_list.py", "data.py", "access_log.py", "users.py"], []),
])
def test_each_role_gets_its_pages_and_not_the_others(app_as, role, visible, hidden):
    app = app_as(role).run()
    for page in (COMMON_PAGES if role != "scrutiny" else []) + visible:
        app.switch_page(f"../pages/{page}")
        app.run()
        assert not app.exception, (role, page)
        assert page_titles(app), (role, page)
    for page in hidden:
        # A page the role may not see is not registered for this session at all.
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page(f"../pages/{page}")


def test_an_officer_sees_no_other_officer_anywhere(app_as, officer_1_nominals, monkeypatch):
    downloads: list[pd.DataFrame] = []
    # each frame a page offers for download (made now where the page makes it on the click)
    real_logged_csv = exports.logged_csv
    monkeypatch.setattr(exports, "logged_csv", lambda frame, *args, **kwargs:
                        downloads.append(frame() if callable(frame) else frame)
                        or real_logged_csv(frame, *args, **kwargs))
    app = app_as("officer")
    app.query_params["officer"] = "Officer 2"  # a link made by someone else
    app.run()
    assert app.selectbox(key="filter_officer").options == ["All", "Officer 1"]
    for page in [*COMMON_PAGES, "referral_list.py"]:
        app.switch_page(f"../pages/{page}")
        app.run()
        assert not app.exception, page
        for frame in every_frame(app) + downloads:
            text = frame.to_csv()
            for other in ("Officer 2", "New recruit 1", "New recruit 2", "Former officer"):
                assert other not in text, (page, other)
            if "nominal_id" in frame.columns:
                assert set(frame["nominal_id"]) <= officer_1_nominals, page
    assert downloads, "the pages offered downloads"


def test_scrutiny_sees_no_nominal_id_on_any_page_or_download(app_as, monkeypatch):
    downloads: list[pd.DataFrame] = []
    # each frame a page offers for download (made now where the page makes it on the click)
    real_logged_csv = exports.logged_csv
    monkeypatch.setattr(exports, "logged_csv", lambda frame, *args, **kwargs:
                        downloads.append(frame() if callable(frame) else frame)
                        or real_logged_csv(frame, *args, **kwargs))
    app = app_as("scrutiny").run()
    for page in ("quarterly_pack.py", "methodology.py"):
        app.switch_page(f"../pages/{page}")
        app.run()
        assert not app.exception, page
        for frame in every_frame(app) + downloads:
            assert "nominal_id" not in frame.columns, page
            assert not frame.astype(str).apply(lambda c: c.str.match(r"^SYN\d{4}$")).any().any()


def test_viewing_person_level_rows_is_logged(app_as, security_db):
    app = app_as("steering").run()
    app.switch_page("../pages/referral_list.py")
    app.run()
    log = audit.read_log(security_db, action="view")
    assert list(log["target"]) == ["referral_list"]
    assert log["who"].iloc[0] == "Demo steering-group member"


def test_a_view_that_cannot_be_logged_is_not_shown(app_as, monkeypatch):
    def broken(*args, **kwargs):
        raise audit.AccessLogError("disk full")
    monkeypatch.setattr(audit, "record", broken)
    app = app_as("steering").run()
    app.switch_page("../pages/referral_list.py")
    app.run()
    assert not app.dataframe
    assert "could not be recorded" in app.error[0].value


def test_an_unmapped_officer_is_told_why_they_see_nothing(app_as, security_db):
    app = app_as("officer", name="PC New", officers=["Officer 9"])
    app.run()
    assert any("not linked to any officer name" in w.value for w in app.warning)
    # an officer opens on My work: nothing is theirs
    assert app.markdown[0].value.startswith("- **0** waiting for first contact")


def test_revoking_an_account_takes_effect_on_the_next_click(app_as, security_db, demo_db):
    app = app_as("steering", name="Steering Sam").run()
    assert "Offender to Rehab: at a glance" in page_titles(app)
    accounts.revoke_user(security_db, "Steering Sam")
    app.run()
    assert page_titles(app) == ["Offender to Rehab dashboard"]  # the sign-in page
    assert "not active" in app.info[0].value


def test_failed_sign_in_is_logged_and_repeated_failures_lock_the_account(app_as, security_db):
    app = app_as(None)
    accounts.add_user(security_db, "Admin Ann", "admin", password="the right password")
    app.run()
    for _ in range(accounts.lockout_attempts()):
        app.text_input(key="sign_in_name").input("Admin Ann")
        app.text_input(key="sign_in_password").input("wrong")
        app.get("form_submit_button")[0].click()
        app.run()
        assert app.error[0].value == "Wrong name or password."
    app.text_input(key="sign_in_name").input("Admin Ann")
    app.text_input(key="sign_in_password").input("the right password")
    app.get("form_submit_button")[0].click()
    app.run()
    assert "locked" in app.error[0].value
    log = audit.read_log(security_db, action="sign-in")
    assert list(log["outcome"]).count("failed") == accounts.lockout_attempts()
    assert "locked" in list(log["outcome"])


def test_demo_accounts_only_while_the_data_is_demo(app_as, demo_db, security_db):
    app = app_as(None)
    app.run()
    assert any(b.key == "demo_officer" for b in app.button)
    from dashboard import service
    service.ingest_bytes(demo_db, "tracker", "real.csv",
                         b"Nominal ID,Referral Date,Referral Source\nR1,01/08/2022,Custody\n",
                         as_at=dt.date(2022, 8, 31))
    app.run()
    assert not any(b.key == "demo_officer" for b in app.button)


def test_a_demo_session_ends_when_real_data_arrives(app_as, demo_db):
    app = app_as("admin").run()
    assert "Offender to Rehab: at a glance" in page_titles(app)
    from dashboard import service
    service.ingest_bytes(demo_db, "tracker", "real.csv",
                         b"Nominal ID,Referral Date,Referral Source\nR1,01/08/2022,Custody\n",
                         as_at=dt.date(2022, 8, 31))
    app.run()
    assert page_titles(app) == ["Offender to Rehab dashboard"]


def test_an_idle_session_expires(app_as):
    app = app_as("admin")
    app.session_state["signed_in"]["last_activity"] = (
        dt.datetime.now(dt.UTC) - dt.timedelta(minutes=accounts.session_idle_minutes() + 1))
    app.run()
    assert page_titles(app) == ["Offender to Rehab dashboard"]
    assert "inactivity" in app.info[0].value


# --- through the command line --------------------------------------------------------------

def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_as_an_officer_reads_only_their_rows(demo_db, security_db):
    accounts.add_user(security_db, "PC One", "officer", officer_names=["Officer 1"],
                      password="long enough password")
    result = cli("query", "officer_caseload", "--as-user", "PC One", "--param",
                 "officer=Officer 2", "--format", "json", "--db", str(demo_db))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    result = cli("query", "officer_caseload", "--as-user", "PC One", "--format", "json",
                 "--db", str(demo_db))
    assert {r["officer"] for r in json.loads(result.stdout)} == {"Officer 1"}


def test_cli_as_an_officer_cannot_ask_for_an_earlier_snapshot(demo_db, security_db):
    accounts.add_user(security_db, "PC One", "officer", officer_names=["Officer 1"],
                      password="long enough password")
    result = cli("query", "offences_by_area", "--as-user", "PC One", "--param",
                 "snapshot_id=1", "--db", str(demo_db))
    assert result.returncode == 4, (result.returncode, result.stderr)
    assert "latest tracker snapshot only" in result.stderr and not result.stdout.strip()


def test_cli_as_scrutiny_cannot_list_people(demo_db, security_db):
    accounts.add_user(security_db, "Panel Pat", "scrutiny", password="long enough password")
    result = cli("query", "referral_list", "--as-user", "Panel Pat", "--db", str(demo_db))
    assert result.returncode == 4
    assert "Not allowed" in result.stderr and "SYN0" not in result.stdout


# --- hostile text from uploads -------------------------------------------------------------

HOSTILE_OFFICER = "[click](javascript:alert(1))"
HOSTILE_AREA = "<img src=x onerror=alert(1)> **bold**"


def test_uploaded_text_is_never_rendered_as_markdown_or_html(app_as, demo_db, security_db):
    from dashboard import service
    service.ingest_bytes(
        demo_db, "tracker", "hostile.csv",
        ("Nominal ID,Referral Date,Referral Source,Officer,Offending Area,Status\n"
         f"H1,01/08/2022,Custody,\"{HOSTILE_OFFICER}\",\"{HOSTILE_AREA}\",Active\n").encode(),
        as_at=dt.date(2022, 8, 31))
    app = app_as("admin", name="Admin Ann").run()
    app.selectbox(key="filter_officer").select(HOSTILE_OFFICER)
    app.selectbox(key="filter_area").select(HOSTILE_AREA)
    app.run()
    for page in [*COMMON_PAGES, "referral_list.py", "data.py"]:
        app.switch_page(f"../pages/{page}")
        app.run()
        assert not app.exception, page
        rendered = [e.value for kind in ("markdown", "caption", "info", "warning", "error",
                                         "success", "title", "header", "subheader")
                    for e in app.get(kind) if isinstance(getattr(e, "value", None), str)]
        for value in rendered:
            # Shown text may contain the characters, but only escaped, so never interpreted.
            assert not re.search(r"(?<!\\)\]\(javascript", value), (page, value)
            assert not re.search(r"(?<!\\)<img", value), (page, value)
        assert not app.get("html"), page
