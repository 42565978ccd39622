"""Every page renders under AppTest with several filter combinations, and shows the queries'
numbers; filters survive page switches and come back from the URL."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.analysis import periods
from dashboard.security import access
from dashboard.security.access import COMMAND_LINE
from dashboard.store import database, queries
from dashboard.ui import exports, layout, navigation

from conftest import ROOT

PAGE_FILES = sorted(p.name for p in (ROOT / "pages").glob("*.py") if p.name != "sign_in.py")

FILTER_COMBINATIONS = {
    "everything": {},
    "a quarter": {"filter_period": "2022/23 Q1"},
    "an officer and a year": {"filter_period": "2021/22", "filter_officer": "Officer 2"},
    "an area and a source": {"filter_area": "City Centre",
                             "filter_source": "Retail business"},
    "matching nothing": {"filter_period": "2021/22 Q1", "filter_officer": "New recruit 1"},
}


@pytest.fixture
def app(app_as):
    return app_as()


def choose(at: AppTest, filters: dict[str, str]) -> None:
    for key, value in filters.items():
        at.selectbox(key=key).select(value)
    at.run()


def errors_shown(at: AppTest) -> list[str]:
    return [e.message for e in at.exception] + [e.value for e in at.error]


def assert_clean(at: AppTest) -> None:
    assert not errors_shown(at), errors_shown(at)


def test_every_page_file_is_in_the_navigation_and_every_role_page_is_a_file():
    listed = [stem for stem, *_ in navigation.PAGES]
    assert sorted(listed) == sorted(name.removesuffix(".py") for name in PAGE_FILES)
    assert len(set(listed)) == len(listed)
    for role, capability in access.CAPABILITIES.items():
        assert capability.pages <= set(listed), role


@pytest.mark.parametrize("combination", FILTER_COMBINATIONS)
def test_every_page_renders_without_error(app, combination):
    # One session chooses the filters and visits every page with them, as a person does.
    app.run()
    choose(app, FILTER_COMBINATIONS[combination])
    problems = {}
    for page in PAGE_FILES:
        app.switch_page(f"../pages/{page}")
        app.run()
        found = errors_shown(app)
        if not app.title:
            found.append("no title: every page has one")
        if found:
            problems[page] = found
    assert not problems, problems


def test_empty_results_are_said_in_words(app):
    app.run()
    choose(app, FILTER_COMBINATIONS["matching nothing"])
    for page in ("officer_caseloads.py", "journey_flow.py", "referral_sources.py",
                 "offending_areas.py"):
        app.switch_page(f"../pages/{page}")
        app.run()
        assert any("No referrals" in i.value for i in app.info), page


def test_overview_metrics_equal_the_query(app, demo_db):
    app.run()
    choose(app, {"filter_period": "2021/22 Q4"})  # a quarter picked in the sidebar is shown
    assert app.selectbox(key="overview_quarter").value == "2021/22 Q4"
    con = database.connect_read_only(demo_db)
    expected = queries.run(con, COMMAND_LINE, "headline_figures", from_date=dt.date(2022, 1, 1),
                           to_date=dt.date(2022, 3, 31))
    before = queries.run(con, COMMAND_LINE, "headline_figures", from_date=dt.date(2021, 10, 1),
                         to_date=dt.date(2021, 12, 31))
    con.close()
    steps = [step for step in expected["step"] if step != "Active caseload"]
    counts = dict(zip(expected["step"], expected["referrals"], strict=True))
    prior = dict(zip(before["step"], before["referrals"], strict=True))
    assert {m.label: m.value for m in app.metric} == {s: f"{counts[s]:,}" for s in steps}
    assert {m.label: m.delta for m in app.metric} == {s: str(counts[s] - prior[s])
                                                      for s in steps}


def test_a_long_referral_list_is_shown_in_blocks_and_downloaded_whole(app_as, demo_db,
                                                                      monkeypatch):
    downloads: list = []
    real_logged_csv = exports.logged_csv
    monkeypatch.setattr(exports, "logged_csv", lambda frame, *args, **kwargs:
                        downloads.append(frame) or real_logged_csv(frame, *args, **kwargs))
    monkeypatch.setattr(layout, "GRID_BLOCK_ROWS", 50)
    con = database.connect_read_only(demo_db)
    whole = queries.run(con, COMMAND_LINE, "referral_list")
    con.close()
    assert 100 < len(whole) < 150  # three blocks, the last one short
    app = app_as("steering").run()
    app.switch_page("../pages/referral_list.py").run()
    blocks = app.selectbox(key="referral_list_rows")
    assert blocks.options == [f"1 to 50 of {len(whole)}", f"51 to 100 of {len(whole)}",
                              f"101 to {len(whole)} of {len(whole)}"]
    for first in (0, 100, 50):
        app.selectbox(key="referral_list_rows").set_value(first).run()
        assert not app.exception
        shown = app.dataframe[0].value
        assert shown["nominal_id"].tolist() == whole["nominal_id"].iloc[first:first + 50].tolist()
        # a date not reached yet is an empty cell, not "None"
        assert shown["rehab_exit_date"].isna().any() and app.dataframe[0].proto.placeholder == ""
        assert downloads[-1]["nominal_id"].tolist() == whole["nominal_id"].tolist()
    assert any(f"the download has all {len(whole)}." in c.value for c in app.caption)


def test_officer_caseloads_shows_table_1(app):
    app.run()
    app.switch_page("../pages/officer_caseloads.py")
    app.run()
    table = app.dataframe[0].value
    assert table.loc["Total", "Overall"] == 136
    assert table["Officer 1"].to_dict() == {"Referral/Waiting": 8, "Active": 14, "Inactive": 5,
                                            "Withdrawn": 16, "Not recorded": 0, "Total": 43}
    assert table.loc["Total"].to_dict() == {"Former officer": 5, "New recruit 1": 21,
                                            "New recruit 2": 27, "Officer 1": 43,
                                            "Officer 2": 40, "Overall": 136}
    assert table["Overall"].to_dict() == {"Referral/Waiting": 46, "Active": 33, "Inactive": 16,
                                          "Withdrawn": 36, "Not recorded": 5, "Total": 136}


def test_the_caseload_over_time_says_the_period_does_not_limit_it(app, demo_con):
    # Table 1 counts a quarter's referrals; the open caseload beside it counted every referral
    # held, with nothing on the page saying so (Officer 1: 1 open in the table, 22 below it).
    app.run()
    app.selectbox(key="filter_period").select("2022/23 Q1")
    app.switch_page("../pages/officer_caseloads.py")
    app.run()
    assert "2022/23 Q1" in app.caption[1].value
    open_now = dict(demo_con.execute(
        "select officer, count(*) filter (where status in ('Referral/Waiting', 'Active')) "
        "from referrals where snapshot_id = (select max(upload_id) from uploads where kind = "
        "'tracker') group by officer").fetchall())
    below = next(c.value for c in app.caption if c.value.startswith("Open caseload"))
    assert "not limited by the Period filter" in below
    assert all(f"{officer}: {count:,}" in below for officer, count in open_now.items())


def test_referrals_per_quarter_keep_a_quarter_with_none_on_the_axis(app, demo_con):
    # A quarter with no referrals from the chosen source was left off the axis, so the bars
    # either side of it read as consecutive quarters.
    source = "Partner agency"
    quarters = [q for (q,) in demo_con.execute(
        "select distinct fy_quarter_label(referral_date) from referrals where snapshot_id = "
        "(select max(upload_id) from uploads where kind = 'tracker') and referral_source = $s",
        {"s": source}).fetchall()]
    app.run()
    app.selectbox(key="filter_source").select(source)
    app.switch_page("../pages/referral_sources.py")
    app.run()
    spec = next(json.loads(c.proto.spec) for c in app.get("vega_lite_chart")
                if "Financial-year quarter" in c.proto.spec)
    x = spec["encoding"]["x"]
    axis = x.get("scale", {}).get("domain", x["sort"])  # the quarters the axis shows, in order
    # labels like 2021/22 Q3 sort in time order
    first, last = (periods.financial_quarter(int(q[:4]), int(q[-1]))
                   for q in (min(quarters), max(quarters)))
    expected = [first]
    while expected[-1] != last:
        expected.append(periods.shift_quarter(expected[-1], 1))
    assert axis == [q.label for q in expected] and set(quarters) < set(axis)


def test_journey_flow_starts_at_referral(app):
    app.run()
    app.switch_page("../pages/journey_flow.py")
    app.run()
    assert app.radio(key="journey_view").value == "referrals"
    spec = app.get("echarts_chart")[0].proto.spec
    # the biggest drop, referral to contact, is drawn, and every node says what it counts
    for label in ("Referred in the period (136)", "First contacted (85)",
                  "Police assessed (60)", "Entered rehab (27)", "Waiting for contact (51)"):
        assert label in spec, label
    assert "Of **136** referred: **85** contacted, **60** assessed, **27** entered rehab, " \
        "**4** completed 12 weeks." == app.markdown[0].value


def test_journey_times_say_so_when_nobody_was_assessed_in_the_period(app_as, demo_con):
    # A period with referrals but no police assessment drew an empty chart of the time
    # between steps, captioned as if it held the period's assessed referrals.
    at = app_as()
    at.run()
    quarters = [q for q in at.selectbox(key="filter_period").options if " Q" in q]
    counts = {q: demo_con.execute(
        "select count(*), count(*) filter (where fy_quarter_label(assessment_date) = $q) "
        "from referrals where snapshot_id = (select max(upload_id) from uploads where kind = "
        "'tracker') and fy_quarter_label(referral_date) = $q", {"q": q}).fetchall()[0]
        for q in quarters}
    unassessed = next(q for q, (referred, assessed) in counts.items() if referred and not assessed)
    at.selectbox(key="filter_period").select(unassessed)
    at.switch_page("../pages/journey_flow.py")
    at.run()
    assert not at.exception and not at.error
    assert not any("How long each step" in c.proto.spec for c in at.get("vega_lite_chart"))
    assert any("No police assessment is dated in this period" in i.value and
               "by assessment date" in i.value for i in at.info)


def test_journey_flow_shows_figure_3(app, demo_db):
    app.run()
    app.switch_page("../pages/journey_flow.py")
    app.run()
    app.radio(key="journey_view").set_value("assessments").run()
    shown = app.dataframe[0].value
    con = database.connect_read_only(demo_db)
    expected = queries.run(con, COMMAND_LINE, "journey_flow")
    con.close()
    assert shown.values.tolist() == expected.values.tolist()
    sankey = app.get("echarts_chart")[0]
    assert "Residential rehab (27)" in sankey.proto.spec
    assert "Completed 12 weeks (4)" in sankey.proto.spec
    assert "Assessed in the period (60)" in sankey.proto.spec


def test_offending_areas_compares_city_centre_with_intervals(app):
    app.run()
    app.switch_page("../pages/offending_areas.py")
    app.run()
    assert [m.value for m in app.metric] == ["20%", "53%"]
    captions = " ".join(c.value for c in app.caption)
    assert "3 of 15 assessed; 95% interval 7% to 45%" in captions
    assert "24 of 45 assessed; 95% interval 39% to 67%" in captions
    # one area chosen: no "all other areas" that are that one area under the wrong name
    app.selectbox(key="filter_area").select("Aston").run()
    assert not app.metric and not app.exception
    assert any("needs every area" in i.value for i in app.info)
    rates = next(c for c in app.get("vega_lite_chart") if "entering rehab" in c.proto.spec)
    assert "Neighbourhoods" not in rates.proto.spec and "Aston" in rates.proto.spec


def test_referrals_with_no_offending_area_are_not_counted_as_neighbourhoods(app_as, tmp_path):
    # A blank offending area is not known to be outside the City Centre: it was counted in
    # "Neighbourhoods (all other areas)", here three times the one referral from a neighbourhood.
    from dashboard import service

    db = tmp_path / "areas.duckdb"
    service.ingest_bytes(db, "tracker", "areas.csv", (
        b"Nominal ID,Referral Date,Officer,Referral Source,Offending Area,Status,"
        b"First Contact Date,Assessment Date,Rehab Admission Date,Rehab Facility\n"
        b"C1,01/05/2022,PC A,Probation,City Centre,Active,02/05/2022,03/05/2022,,\n"
        b"N1,01/05/2022,PC A,Probation,Erdington,Active,02/05/2022,03/05/2022,10/05/2022,"
        b"Oak House\n"
        b"U1,01/05/2022,PC A,Probation,,Active,02/05/2022,03/05/2022,,\n"
        b"U2,01/05/2022,PC A,Probation,,Active,02/05/2022,03/05/2022,,\n"),
        as_at=dt.date(2022, 7, 31), use_column_map=False)
    con = database.connect_read_only(db)
    try:
        neighbourhoods = con.execute(
            "select count(*), count(rehab_admission_date) from referrals where "
            "assessment_date is not null and offending_area <> 'City Centre'").fetchall()[0]
    finally:
        con.close()
    at = app_as("steering", name="Chair", db=db)
    at.run()
    at.switch_page("../pages/offending_areas.py")
    at.run()
    assert not at.exception and not at.error
    shown = {m.label: m.value for m in at.metric}
    assert shown["Neighbourhoods (all other areas): entered rehab"] == \
        f"{neighbourhoods[1] / neighbourhoods[0]:.0%}"
    assert f"{neighbourhoods[1]} of {neighbourhoods[0]} assessed" in " ".join(
        c.value for c in at.caption)


def test_filters_persist_across_pages_and_come_from_the_url(app_as):
    at = app_as()
    at.query_params["period"] = "2021/22"
    at.query_params["officer"] = "Officer 1"
    at.run()
    assert at.selectbox(key="filter_period").value == "2021/22"
    assert at.selectbox(key="filter_officer").value == "Officer 1"
    at.switch_page("../pages/officer_caseloads.py")
    at.run()
    assert at.selectbox(key="filter_officer").value == "Officer 1"
    assert list(at.dataframe[0].value.columns) == ["Officer 1", "Overall"]


def test_the_filter_bar_shows_only_where_it_filters_and_keeps_its_choice_elsewhere(app_as):
    # On the pack, the admin pages and the method it changed nothing, yet read as if it did.
    at = app_as("admin")
    at.run()
    choose(at, {"filter_period": "2021/22", "filter_area": "Aston"})
    stems = [stem for stem, *_ in navigation.PAGES]
    for stem in [*stems, "overview", "methodology", "quarterly_pack", "referral_list"]:
        at.switch_page(f"../pages/{stem}.py")
        at.run()
        assert_clean(at)
        shown = {s.key for s in at.selectbox if s.key and s.key.startswith("filter_")}
        if stem in access.FILTERED_PAGES:
            assert shown == {"filter_period", "filter_officer", "filter_area", "filter_source"}
            # kept through every page without the bar, and put back in the link
            assert at.selectbox(key="filter_period").value == "2021/22", stem
            assert at.selectbox(key="filter_area").value == "Aston", stem
            assert (at.query_params["period"], at.query_params["area"]) == ("2021/22", "Aston")
        else:
            assert not shown, stem
            at.query_params.clear()  # as a browser's move to another page drops them
    assert access.FILTERED_PAGES >= access.CHART_PAGES
    assert not access.FILTERED_PAGES & (access.ADMIN_PAGES | {"quarterly_pack", "methodology"})


def test_a_link_naming_a_choice_not_there_says_so_rather_than_show_all_without_a_word(app_as):
    # A quarter gone with a withdrawn snapshot, or a link from someone who sees other data,
    # reset the filter to All time without a word, so the page read as the quarter's figures.
    at = app_as()
    at.query_params.update({"period": "2030/31 Q1", "area": "Atlantis"})
    at.run()
    assert not at.exception
    assert at.selectbox(key="filter_period").value == "All time"
    assert at.selectbox(key="filter_area").value == "All"
    assert any('Period “2030/31 Q1” and Offending area “Atlantis” are not among the choices'
               in w.value for w in at.warning)
    at.query_params.update({"period": "2021/22", "area": "Aston"})
    at.run()
    assert not [w for w in at.warning if "not among the choices" in w.value]
    # the value comes from a link: shown as typed, never read as Markdown (a link, an image)
    at.query_params.update({"area": "**Session expired** [sign in](https://x.example/)"})
    at.run()
    (said,) = [w.value for w in at.warning if "not among the choices" in w.value]
    assert "“\\*\\*Session expired\\*\\* \\[sign in\\]\\(https" in said

def test_custom_dates_the_wrong_way_round_in_a_link_read_as_the_same_dates(app_as, demo_con):
    # As given, 30/06/2022 to 01/04/2022 was a period no date falls in: every page said that no
    # referrals matched.
    at = app_as()
    at.query_params.update({"period": "Custom dates", "from": "2022-06-30", "to": "2022-04-01"})
    at.run()
    at.switch_page("../pages/officer_caseloads.py")
    at.run()
    assert not at.exception and not at.error
    counted = demo_con.execute(
        "select count(*) from referrals where snapshot_id = (select max(upload_id) from uploads "
        "where kind = 'tracker') and referral_date between '2022-04-01' and '2022-06-30'"
    ).fetchall()[0][0]
    assert counted and at.dataframe[0].value.loc["Total", "Overall"] == counted
    assert (at.query_params["from"], at.query_params["to"]) == ("2022-04-01", "2022-06-30")


def test_a_new_upload_shows_without_a_restart(app_as, demo_db):
    from dashboard import service

    app = app_as("admin", name="Test admin")
    app.run()
    assert "as at 31/07/2022" in app.caption[0].value
    service.ingest_bytes(demo_db, "tracker", "august.csv",
                         b"Nominal ID,Referral Date,Referral Source,Officer,Status\n"
                         b"AUG1,01/08/2022,Custody,Officer 1,Active\n",
                         as_at=dt.date(2022, 8, 31))
    app.run()
    assert "as at 31/08/2022" in app.caption[0].value


def shown_figures(at: AppTest) -> list[str]:
    """The figures a page shows: metrics, tables and the data behind each chart."""
    import pyarrow as pa

    parts = [f"{m.label} {m.value} {m.proto.delta}" for m in at.metric]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    parts += [pa.ipc.open_stream(d.data.data).read_all().to_pandas().to_csv()
              for chart in at.get("vega_lite_chart") for d in chart.proto.datasets
              if d.data.data]
    return parts


def test_a_withdrawal_and_a_connect_upload_show_at_once_to_every_role(app_as, demo_db):
    # Every cache (query results, derived tables, chart specs, the pack) and the Connect facts
    # follow the data: a session open before the change shows what a fresh start shows after.
    import streamlit as st

    from dashboard import service
    from dashboard.security.audit import Who

    seen = {("steering", None): ("overview", "offending_areas", "outcomes"),
            ("officer", "Officer 1"): ("offending_areas", "outcomes"),
            ("scrutiny", None): ("quarterly_pack",)}

    def session(role, officer):
        at = app_as(role, name=f"Test {role}", officers=(officer,) if officer else ())
        at.run()
        return at

    def figures(at, pages):
        out = {}
        for page in pages:
            at.switch_page(f"../pages/{page}.py")
            at.run()
            assert_clean(at)
            out[page] = shown_figures(at)
        return out

    open_sessions = {who: session(*who) for who in seen}
    before = {who: figures(open_sessions[who], pages) for who, pages in seen.items()}
    con = database.connect_read_only(demo_db)
    latest = queries.latest_snapshot_id(con)
    people = [n for (n,) in con.execute("select distinct nominal_id from referrals where "
                                        "officer = 'Officer 1' limit 5").fetchall()]
    con.close()
    service.withdraw_snapshot(demo_db, Who("Test admin"), latest, "Wrong as-at date")
    service.ingest_bytes(demo_db, "connect", "late.csv", (
        "Crime Reference,Nominal ID,Offence Date,Offence Type,Offence Area,Value Stolen\n"
        + "".join(f"LATE/{i}-{day}/22,{person},{day:02d}/06/2022,Shoplifting,City Centre,10.00\n"
                  for i, person in enumerate(people) for day in (1, 30))).encode(),
        as_at=dt.date(2022, 7, 31))
    warm = {who: figures(open_sessions[who], pages) for who, pages in seen.items()}
    st.cache_data.clear()
    st.cache_resource.clear()
    cold = {who: figures(session(*who), pages) for who, pages in seen.items()}
    for who, pages in seen.items():
        for page in pages:
            assert warm[who][page] == cold[who][page], (who, page)
            assert warm[who][page] != before[who][page], (who, page)


def test_every_snapshot_withdrawn_is_not_called_nothing_uploaded(app_as, demo_db):
    from dashboard import service
    from dashboard.security.audit import Who

    con = database.connect_read_only(demo_db)
    snapshots = [s for (s,) in con.execute(
        "select upload_id from uploads where kind = 'tracker'").fetchall()]
    con.close()
    for snapshot in snapshots:
        service.withdraw_snapshot(demo_db, Who("Test admin"), snapshot, "Wrong as-at date")
    at = app_as("admin", name="Test admin")
    at.run()
    for page in ("overview", "quarterly_pack"):
        at.switch_page(f"../pages/{page}.py")
        at.run()
        assert_clean(at)
        # not "nothing yet": the page's own notice says why, as the banner above it does
        notices = [i.value for i in at.info]
        assert len(notices) == 2 and all("withdrawn" in n for n in notices), (page, notices)
        assert not any("yet" in n for n in notices), (page, notices)


def test_rate_titles_and_caseload_counts_read_as_sentences(app):
    app.run()
    app.switch_page("../pages/referral_sources.py").run()
    titles = {}
    for measure in ("Entered rehab", "Assessed", "Completed 12 weeks"):
        app.radio(key="source_rate").set_value(measure).run()
        titles[measure] = next(c.proto.spec for c in app.get("vega_lite_chart")
                               if "Share of each source" in c.proto.spec)
    assert "referrals that were assessed" in titles["Assessed"]
    assert "referrals that entered rehab" in titles["Entered rehab"]
    assert "referrals that completed 12 weeks" in titles["Completed 12 weeks"]
    app.switch_page("../pages/officer_caseloads.py").run()
    said = " ".join(c.value for c in app.caption if "At the latest snapshot" in c.value)
    assert re.search(r"Officer 1: \d+;", said), said  # not "Officer 1 22"
