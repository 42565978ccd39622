"""Work done once and shared: viewers share cached results by what they may see, never by who
they are (steering members asking the same question cost one query and one chart spec;
officers with different names never share a result or a chart; every person-level view is
still logged for the viewer who saw it), and downloads are built only when clicked, the
pack's files once per issued pack."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st

from dashboard import config
from dashboard.pack import export as pack_export
from dashboard.security import audit, data_access
from dashboard.security.access import Viewer
from dashboard.store import database, queries
from dashboard.ui import charts, exports, layout

from conftest import fail_to_record


@pytest.fixture
def counted_runs(demo_db, monkeypatch):
    """Each query actually run against the database, as (viewer name, query name)."""
    monkeypatch.setenv("O2R_DB", str(demo_db))
    st.cache_data.clear()
    runs: list[tuple[str, str]] = []
    real_run = queries.run

    def counting_run(con, viewer, name, **params):
        runs.append((viewer.name, name))
        return real_run(con, viewer, name, **params)

    monkeypatch.setattr(queries, "run", counting_run)
    yield runs
    st.cache_data.clear()


def test_two_steering_viewers_share_one_cache_entry(counted_runs, security_db):
    first = data_access.run("referral_list", viewer=Viewer("Steering one", "steering"))
    second = data_access.run("referral_list", viewer=Viewer("Steering two", "steering"))
    assert [name for _, name in counted_runs] == ["referral_list"]
    assert not first.empty
    assert first.equals(second)
    # Both views of person-level rows are logged, each under its own viewer.
    viewers = set(audit.read_log(security_db, action="view")["who"])
    assert {"Steering one", "Steering two"} <= viewers


def test_officers_with_different_names_do_not_share(counted_runs):
    mine = data_access.run("referral_list", viewer=Viewer("PC One", "officer", ("Officer 1",)))
    theirs = data_access.run("referral_list",
                             viewer=Viewer("PC Two", "officer", ("Officer 2",)))
    assert [name for _, name in counted_runs] == ["referral_list", "referral_list"]
    assert not mine.empty and not theirs.empty
    assert set(mine["officer"]) == {"Officer 1"}
    assert set(theirs["officer"]) == {"Officer 2"}


def test_officers_with_the_same_scope_share(counted_runs):
    data_access.run("referral_list", viewer=Viewer("PC One", "officer", ("Officer 1",)))
    again = data_access.run("referral_list",
                            viewer=Viewer("PC One again", "officer", ("Officer 1",)))
    assert len(counted_runs) == 1
    assert set(again["officer"]) == {"Officer 1"}


def test_roles_with_different_rights_do_not_share(counted_runs):
    data_access.run("snapshots", viewer=Viewer("Steering one", "steering"))
    data_access.run("snapshots", viewer=Viewer("Panel member", "scrutiny"))
    assert len(counted_runs) == 2


def test_a_csv_download_is_built_only_when_clicked(monkeypatch, security_db):
    built = []
    real_safe_csv = exports.safe_csv
    monkeypatch.setattr(exports, "safe_csv", lambda frame: built.append(1) or real_safe_csv(frame))
    give_out = exports.logged_csv(pd.DataFrame({"a": ["=1+1"]}), "list", "Someone", "steering")
    assert built == []
    assert give_out().decode("utf-8-sig").splitlines() == ["a", "'=1+1"]
    assert built == [1]
    assert len(audit.read_log(security_db, action="export")) == 1


def test_pack_files_are_rendered_on_click_only_and_once_per_pack(app_as, monkeypatch):
    st.cache_data.clear()
    rendered: list[str] = []
    for kind in ("pdf_bytes", "xlsx_bytes"):
        real = getattr(pack_export, kind)
        monkeypatch.setattr(pack_export, kind,
                            lambda issued, real=real, kind=kind: rendered.append(kind)
                            or real(issued))
    at = app_as("steering")
    at.run()
    at.switch_page("../pages/quarterly_pack.py")
    at.run()
    at.selectbox(key="pack_quarter").select("2022/23 Q1").run()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert rendered == []  # shown, rerun, changed quarter: nothing rendered yet
    assert at.get("vega_lite_chart"), "the trend chart (built once per pack) is shown"
    viewer = Viewer("Steering one", "steering")
    key = (str(config.db_path()), data_access.current_version(), viewer.cache_key(),
           "2022/23 Q1", "financial", "controlled")
    first = data_access._pack_file(*key, "pdf", viewer.as_scope())
    again = data_access._pack_file(*key, "pdf", Viewer("Steering two", "steering").as_scope())
    assert first.startswith(b"%PDF") and again == first
    assert rendered == ["pdf_bytes"]
    st.cache_data.clear()


def test_the_command_line_starts_without_pandas_duckdb_or_streamlit():
    import subprocess
    import sys

    probe = ("import runpy, sys\nsys.argv = ['dashboard', '--help']\n"
             "try:\n    runpy.run_module('dashboard', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in ('pandas', 'duckdb', 'streamlit') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent.parent, check=True)
    assert "usage: python -m dashboard" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.fixture
def drawn_charts(monkeypatch):
    """Each chart spec drawn through layout.chart, as the viewer named, with how often the
    builder itself ran."""
    st.cache_data.clear()
    built: list[str] = []
    drawn: list[dict] = []
    real = charts.count_bars

    @functools.wraps(real)
    def counting_bars(frame, *args, **options):
        built.append(frame["area"].iloc[0])
        return real(frame, *args, **options)

    def draw(viewer: Viewer, frame: pd.DataFrame, title: str = "Referrals by area") -> None:
        monkeypatch.setattr(data_access, "current_viewer", lambda: viewer)
        layout.chart(counting_bars, frame, "area", title, "Area")

    monkeypatch.setattr(st, "vega_lite_chart", lambda spec, **options: drawn.append(spec))
    yield draw, built, drawn
    st.cache_data.clear()


def test_chart_specs_are_built_once_for_viewers_with_the_same_rights(drawn_charts):
    draw, built, drawn = drawn_charts
    frame = pd.DataFrame({"area": ["Aston", "Erdington"], "referrals": [7, 3]})
    draw(Viewer("Steering one", "steering"), frame)
    draw(Viewer("Steering two", "steering"), frame.copy())
    assert built == ["Aston"]
    assert drawn[0] == drawn[1]
    assert drawn[0]["title"] == "Referrals by area" and drawn[0]["datasets"]
    # Other data, or other options, is another chart.
    draw(Viewer("Steering one", "steering"), frame.assign(referrals=[7, 4]))
    draw(Viewer("Steering one", "steering"), frame, title="Other title")
    assert len(built) == 3
    assert drawn[3]["title"] == "Other title"


def test_officers_never_share_a_chart_spec(drawn_charts):
    draw, built, drawn = drawn_charts
    draw(Viewer("PC One", "officer", ("Officer 1",)),
         pd.DataFrame({"area": ["Aston"], "referrals": [2]}))
    draw(Viewer("PC Two", "officer", ("Officer 2",)),
         pd.DataFrame({"area": ["Aston"], "referrals": [2]}))
    # Even the same figures are built again for an officer of another scope: a spec is
    # only ever shared between viewers who may see exactly the same rows.
    assert built == ["Aston", "Aston"]
    draw(Viewer("PC One again", "officer", ("Officer 1",)),
         pd.DataFrame({"area": ["Aston"], "referrals": [2]}))
    assert len(built) == 2
    draw(Viewer("Steering one", "steering"), pd.DataFrame({"area": ["Aston"], "referrals": [2]}))
    assert len(built) == 3


def test_derived_tables_are_shared_by_rights_never_between_officers(monkeypatch):
    st.cache_data.clear()
    worked: list[str] = []

    def totals(frame: pd.DataFrame) -> pd.DataFrame:
        worked.append(frame["officer"].iloc[0])
        return frame.groupby("officer", as_index=False)["referrals"].sum()

    def as_viewer(viewer: Viewer, frame: pd.DataFrame) -> pd.DataFrame:
        monkeypatch.setattr(data_access, "current_viewer", lambda: viewer)
        return data_access.derived(totals, frame)

    frame = pd.DataFrame({"officer": ["Officer 1", "Officer 1"], "referrals": [2, 3]})
    first = as_viewer(Viewer("Steering one", "steering"), frame)
    again = as_viewer(Viewer("Steering two", "steering"), frame.copy())
    assert worked == ["Officer 1"] and first.equals(again)
    assert first["referrals"].tolist() == [5]
    as_viewer(Viewer("PC One", "officer", ("Officer 1",)), frame)
    as_viewer(Viewer("PC Two", "officer", ("Officer 2",)), frame)
    assert len(worked) == 3
    # A setting it reads, named in keyed_on, works it out again when it changes.
    monkeypatch.setattr(data_access, "current_viewer", lambda: Viewer("Steering one", "steering"))
    data_access.derived(totals, frame, keyed_on=(30,))
    data_access.derived(totals, frame, keyed_on=(30,))
    data_access.derived(totals, frame, keyed_on=(45,))
    assert len(worked) == 5
    st.cache_data.clear()


def test_work_on_a_result_is_found_again_from_the_first_rerun(counted_runs, monkeypatch):
    # The run that reads a query (and works on it) is handed what later runs are handed, the
    # cache's copy: a frame fresh from DuckDB pickles to other bytes than its copies, so the
    # next reruns worked everything out again under keys no later run asked for.
    monkeypatch.setattr(data_access, "current_viewer", lambda: Viewer("Chair", "steering"))
    worked: list[str] = []

    def due(items: pd.DataFrame) -> pd.DataFrame:
        worked.append("due")
        return items[items["days_waiting"] > 0].reset_index(drop=True)

    def per_officer(due_items: pd.DataFrame) -> pd.DataFrame:
        worked.append("per officer")
        return due_items.groupby("officer", as_index=False).size()

    for _ in range(3):  # the cold run, then two reruns
        items = data_access.run("my_work")
        data_access.derived(per_officer, data_access.derived(due, items))
    assert worked == ["due", "per officer"]
    assert [name for _, name in counted_runs] == ["my_work"]


def test_work_on_a_query_reads_it_only_when_worked_out_and_logs_every_view(
        counted_runs, security_db, monkeypatch):
    # Keyed by the query it reads, not by its rows: a warm rerun neither pickles the rows to
    # key the work nor reads them back, yet every view is still logged for its viewer.
    worked: list[str] = []

    def per_officer(items: pd.DataFrame) -> pd.DataFrame:
        worked.append(items["officer"].iloc[0] if len(items) else "nobody")
        return items.groupby("officer", as_index=False).size()

    def as_viewer(viewer: Viewer) -> pd.DataFrame:
        monkeypatch.setattr(data_access, "current_viewer", lambda: viewer)
        return data_access.derived(per_officer, data_access.query("my_work"))

    version = data_access.current_version()
    first = as_viewer(Viewer("Steering one", "steering"))
    as_viewer(Viewer("Steering one", "steering"))
    again = as_viewer(Viewer("Steering two", "steering"))
    assert [name for _, name in counted_runs] == ["my_work"] and len(worked) == 1
    assert first.equals(again) and len(first) > 1
    mine = as_viewer(Viewer("PC One", "officer", ("Officer 1",)))
    theirs = as_viewer(Viewer("PC Two", "officer", ("Officer 2",)))
    assert set(mine["officer"]) == {"Officer 1"} and set(theirs["officer"]) == {"Officer 2"}
    assert len(worked) == 3
    views = audit.read_log(security_db, action="view")  # newest first
    assert views["who"].tolist() == ["PC Two", "PC One", "Steering two", "Steering one",
                                     "Steering one"]
    assert set(views["target"]) == {"my_work"}
    # New data (an upload lands as a new file version) is read and worked out again.
    monkeypatch.setattr(data_access, "current_version",
                        lambda: (version[0], version[1] + 1, version[2]))
    as_viewer(Viewer("Steering one", "steering"))
    assert len(worked) == 4 and [n for _, n in counted_runs].count("my_work") == 4


def test_my_work_shows_nothing_person_level_when_its_view_cannot_be_logged(app_as, monkeypatch):
    # My work's lists are worked out from queries it does not read itself (Query arguments
    # of data_access.derived): a view that cannot be logged still stops the page first.
    app = app_as("steering").run()
    app.switch_page("../pages/my_work.py").run()
    assert not app.exception and len(app.dataframe) > 1  # the lists, when logged
    fail_to_record(monkeypatch, audit.Action.VIEW)
    app.run()
    assert not app.exception
    assert "could not be recorded in the access log" in app.error[0].value
    assert not app.dataframe


def test_the_server_does_not_collect_all_garbage_after_every_run():
    # A full collection after each script run walked the whole heap (pandas, DuckDB, Altair):
    # about 70 ms of every viewer's every page, paid again by each session.
    assert st.get_option("runner.postScriptGC") is False


def test_the_server_does_not_watch_its_source_files():
    # Watching made every session walk all loaded modules on every run (about 90 ms of each
    # viewer's every page with 20 viewers); benchmarks/viewers.py runs the server as configured.
    assert st.get_option("server.fileWatcherType") == "none"


def test_what_surrounds_every_page_is_worked_out_once_per_rights(counted_runs):
    # The data banner: one set of queries for two steering members, another for each officer
    # scope; an officer not linked to the tracker is told so, one who is is not.
    notes = {}
    for viewer in (Viewer("Steering one", "steering"), Viewer("Steering two", "steering"),
                   Viewer("PC One", "officer", ("Officer 1",)),
                   Viewer("PC Nobody", "officer", ("Not on the tracker",)),
                   Viewer("PC One again", "officer", ("Officer 1",))):
        notes[viewer.name] = data_access.per_data(layout._banner_notes, viewer=viewer)
    asked = [name for _, name in counted_runs]
    assert asked.count("snapshots") == 3 and asked.count("filter_options") == 2
    assert notes["Steering one"] == notes["Steering two"]
    assert notes["PC One"] == notes["PC One again"]
    assert not any("not linked" in text for _, text in notes["PC One"])
    assert any("not linked" in text for _, text in notes["PC Nobody"])
    assert notes["Steering one"][-1][1].startswith("Data as at ")


def test_work_shared_by_rights_never_reads_a_logged_query(counted_runs, security_db):
    # Each view of person-level rows is logged for the viewer who saw it: such a read inside
    # shared work would be logged once for a whole role, so it is refused.
    with pytest.raises(ValueError, match="logged for each viewer"):
        data_access.per_data(lambda viewer, read: read("referral_list"),
                             viewer=Viewer("Steering one", "steering"))
    assert counted_runs == []
    assert audit.read_log(security_db, action="view").empty


def test_the_panel_moving_between_quarters_gathers_each_quarter_once(app_as, monkeypatch):
    # A pack protects its quarter after every quarter before it: without the memo each quarter
    # chosen gathered the programme's whole history again.
    from dashboard.pack import build

    st.cache_data.clear()
    st.cache_resource.clear()
    gathered = []
    real = build.quarter_data
    monkeypatch.setattr(build, "quarter_data", lambda con, reader, quarter, *rest:
                        gathered.append(quarter) or real(con, reader, quarter, *rest))
    at = app_as("scrutiny")
    at.run()
    at.switch_page("../pages/quarterly_pack.py")
    at.run()
    choices = at.selectbox(key="pack_quarter").options
    for label in choices[1:4]:
        at.selectbox(key="pack_quarter").select(label).run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(choices) >= 4 and gathered
    assert len(gathered) == len(set(gathered)), "a quarter was gathered again"
    st.cache_data.clear()


def test_the_latest_snapshot_is_looked_up_once_per_version_of_the_data(demo_db, monkeypatch):
    monkeypatch.setenv("O2R_DB", str(demo_db))
    st.cache_data.clear()
    st.cache_resource.clear()
    lookups = []
    real_lookup = queries.latest_snapshot_id

    def counting_lookup(con):
        lookups.append(real_lookup(con))
        return lookups[-1]

    monkeypatch.setattr(queries, "latest_snapshot_id", counting_lookup)
    steering = Viewer("Steering one", "steering")
    officer = Viewer("PC One", "officer", ("Officer 1",))
    for viewer in (steering, officer):
        for name in ("officer_caseload", "referral_list", "headline_figures"):
            data_access.run(name, viewer=viewer)
    assert len(lookups) == 1
    latest = lookups[0]
    earlier = int(queries.run(database.connect_read_only(demo_db), steering, "snapshots")
                  .query("snapshot_id != @latest")["snapshot_id"].max())

    # A withdrawal lands as a new version of the file: the next view reads the snapshot now
    # in force, looked up once more.
    database.withdraw_snapshot(demo_db, latest, "pytest", "Wrong as-at date")
    shown = data_access.run("officer_caseload", viewer=steering)
    assert lookups == [latest, earlier]
    expected = queries.run(database.connect_read_only(demo_db), steering, "officer_caseload",
                           snapshot_id=earlier)
    pd.testing.assert_frame_equal(shown, expected)
    st.cache_data.clear()
    st.cache_resource.clear()
