"""The pack runs its own flows queries (gathering.BY_QUARTER) once for every quarter it needs,
each quarter a group of rows (quarter_start), and its stock queries once for every quarter end
(gathering.StockRows), each on its own snapshot. Each quarter's rows must be the rows the
query gives for that quarter alone, whatever the data, and a first pack must run each query
once."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard import pack, service
from dashboard.pack import gathering
from dashboard.pack.gathering import BY_QUARTER, STOCK_AT_ENDS, FlowRows, StockRows, Upload
from dashboard.security.access import COMMAND_LINE, Viewer
from dashboard.store import database, queries

# The queries that give each quarter rows however little happened in it (a total row, a row
# per rate or way of leaving rehab); the others, none for a quarter with nothing to count.
EVERY_QUARTER = ("pre_admission_course", "quarter_area_flows", "quarter_early_discharges",
                 "quarter_rates", "quarter_exit_outcomes", "quarter_retention")
# The queries given a period (quarterly_headlines counts every quarter there is).
PERIOD_QUERIES = [query for query in BY_QUARTER if query != "quarterly_headlines"]


def cells(frame: pd.DataFrame) -> tuple[list, list]:
    """Column names and rows, every missing value as None (a text column no row fills is
    objects from a query alone, pandas text from a slice of a longer result)."""
    values = frame.astype(object).where(frame.notna(), None)
    return list(frame.columns), values.to_numpy().tolist()


def listed(rows: dict[str, list]) -> tuple[list, list]:
    """cells() of FlowRows' columns."""
    return cells(pd.DataFrame(rows))


def span(con, scheme: str) -> list[pack.Quarter]:
    """From the quarter before the first referral to the quarter after the last."""
    first, last = con.execute("select min(referral_date), max(referral_date) from referrals"
                              ).fetchall()[0]
    return pack.newest_first(pack.quarter_containing(first, scheme).shift(-1),
                             pack.quarter_containing(last, scheme).shift(1))[::-1]


def snapshots(con) -> list[int]:
    ids = [row[0] for row in con.execute(
        "select upload_id from uploads where kind = 'tracker' order by upload_id").fetchall()]
    return [ids[0], ids[-1], max(ids) + 1000]  # the first, the latest, one holding nobody


@pytest.mark.parametrize("scheme", [pack.FINANCIAL, pack.CALENDAR])
def test_each_quarter_of_one_run_is_that_quarter_run_alone(demo_con, scheme):
    quarters = span(demo_con, scheme)
    assert len(quarters) >= 6
    for snapshot_id in snapshots(demo_con):
        read = FlowRows(demo_con, COMMAND_LINE, Upload(snapshot_id, dt.date(2022, 7, 31)),
                        quarters[0], quarters[-1])
        for quarter in quarters:
            for query in PERIOD_QUERIES:
                alone = queries.run(demo_con, COMMAND_LINE, query, snapshot_id=snapshot_id,
                                    from_date=quarter.start, to_date=quarter.end)
                assert (alone.pop("quarter_start").dt.date == quarter.start).all()
                assert listed(read.rows(query, quarter)) == cells(alone), (query, quarter)
            # The Retention table's split is the Outcomes page's stays, read by its rule.
            stays = queries.run(demo_con, COMMAND_LINE, "rehab_stays", snapshot_id=snapshot_id,
                                from_date=quarter.start, to_date=quarter.end)
            split = [0, 0, 0]
            for stay in stays.itertuples():
                split[0 if stay.is_completed or stay.days >= 84 else
                      1 if stay.has_left else 2] += stay.admissions
            retention = read.rows("quarter_retention", quarter)
            assert [retention[count] for count in ("retained", "left_early", "still_in")] == \
                [[count] for count in split], quarter
            # The Overview's counts by quarter are its headline figures for the quarter.
            steps = read.rows("quarterly_headlines", quarter)
            headline = queries.run(demo_con, COMMAND_LINE, "headline_figures",
                                   snapshot_id=snapshot_id, from_date=quarter.start,
                                   to_date=quarter.end)
            counted = dict(zip(headline["step"], headline["referrals"], strict=True))
            assert dict(zip(steps["step"], steps["referrals"], strict=True)) == {
                step: count for step, count in counted.items()
                if count and step != "Active caseload"}, quarter
            # The pack's own queries agree with the Overview's counts for the quarter.
            areas = read.rows("quarter_area_flows", quarter)
            total = areas["is_total"].index(True)
            assert [areas[column][total] for column in ("referrals", "assessed",
                                                        "entered_rehab")] == \
                [counted["Referrals"], counted["Assessed"], counted["Entered rehab"]], quarter
            rates = read.rows("quarter_rates", quarter)
            assert rates["n_base"][0] == counted["Assessed"], quarter
            assert rates["n_reached"][1] == counted["Completed 12 weeks"], quarter


def test_a_period_cut_mid_quarter_counts_each_quarter_within_the_period(demo_con):
    """period_quarters: the first and last quarters count only their days in the period."""
    start, end, cut = dt.date(2021, 11, 15), dt.date(2022, 5, 10), dt.date(2022, 4, 1)
    for query in PERIOD_QUERIES:
        whole = queries.run(demo_con, COMMAND_LINE, query, from_date=start, to_date=end)
        quarters = set(whole["quarter_start"].dt.date)
        if query in EVERY_QUARTER:
            assert quarters == {dt.date(2021, 10, 1), dt.date(2022, 1, 1), dt.date(2022, 4, 1)}
        else:
            assert quarters <= {dt.date(2021, 10, 1), dt.date(2022, 1, 1), dt.date(2022, 4, 1)}
        parts = [queries.run(demo_con, COMMAND_LINE, query, from_date=a, to_date=b)
                 for a, b in ((start, cut - dt.timedelta(days=1)), (cut, end))]
        assert cells(whole) == cells(pd.concat(parts, ignore_index=True)), query
    areas = queries.run(demo_con, COMMAND_LINE, "quarter_area_flows", from_date=start,
                        to_date=end)
    totals = areas[areas["is_total"]]
    total = dict(zip(totals["quarter_start"].dt.date, totals["referrals"], strict=True))
    referred = demo_con.execute(
        "select count(*) filter (where referral_date between ? and ?), "
        "count(*) filter (where referral_date between ? and ?) from referrals "
        "where snapshot_id = (select max(upload_id) from uploads where kind = 'tracker')",
        [start, dt.date(2021, 12, 31), cut, end]).fetchall()[0]
    assert (total[dt.date(2021, 10, 1)], total[dt.date(2022, 4, 1)]) == referred


@pytest.mark.parametrize("period", [{"from_date": dt.date(2031, 1, 1)},
                                    {"to_date": dt.date(2001, 1, 1)}])
def test_a_period_open_at_one_end_beyond_the_data_is_its_quarter_of_zeros(demo_con, period):
    for query in EVERY_QUARTER:
        rows = queries.run(demo_con, COMMAND_LINE, query, **period)
        assert set(rows["quarter_start"].dt.date) == {next(iter(period.values()))}, query
        assert (rows.select_dtypes("number") == 0).all().all(), query


def test_a_snapshot_holding_nobody_still_gives_each_quarter_its_total_rows(demo_con):
    nobody = snapshots(demo_con)[-1]
    quarter = pack.parse_quarter("2022/23 Q1")
    runs = {query: queries.run(demo_con, COMMAND_LINE, query, snapshot_id=nobody,
                               from_date=quarter.shift(-1).start, to_date=quarter.end)
            for query in PERIOD_QUERIES}
    assert {q: len(runs[q]) for q in PERIOD_QUERIES} == {
        "pre_admission_course": 2, "quarter_area_flows": 2, "quarter_case_endings": 0,
        "quarter_early_discharges": 2, "quarter_rates": 4, "quarter_data_quality": 0,
        "quarter_exit_outcomes": 4, "quarter_retention": 2}
    for query, counts in (("pre_admission_course", ["attendees", "admitted_after_course"]),
                          ("quarter_retention", ["retained", "left_early", "still_in"])):
        assert (runs[query][counts] == 0).all().all(), query
    for query in ("quarter_area_flows", "quarter_early_discharges"):
        assert runs[query]["is_total"].all() and (runs[query]["referrals"] == 0).all()
    assert (runs["quarter_rates"][["n_base", "n_reached"]] == 0).all().all()
    assert runs["quarter_exit_outcomes"]["outcome_group"].tolist() == \
        ["Completed 12 weeks", "Left rehab early"] * 2


def test_a_first_pack_runs_each_flows_query_once_and_later_packs_none(demo_db_template,
                                                                       monkeypatch):
    """And each stock query once over every quarter end, none for a quarter alone."""
    run, asked = queries.run, []
    stock = [*STOCK_AT_ENDS, *STOCK_AT_ENDS.values()]

    def counted(con, viewer, name, **params):
        asked.append(name)
        return run(con, viewer, name, **params)

    monkeypatch.setattr(gathering.queries, "run", counted)
    con = database.connect_read_only(demo_db_template)
    try:
        # (a steering member's circulated packs: the panel has no quarter not over)
        memo, panel = pack.QuarterMemo(), Viewer("Chair", "steering")
        pack.build_pack(con, panel, "2022/23 Q1", memo=memo)
        assert len(memo.data) >= 8  # its history and trend: one run for all of them
        assert sorted(name for name in asked if name in BY_QUARTER) == sorted(BY_QUARTER)
        assert sorted(name for name in asked if name in stock) == sorted(STOCK_AT_ENDS.values())
        assert any(data.caseload is not None for data in memo.data.values())
        asked.clear()
        for label in ("2021/22 Q4", "2022/23 Q1"):  # every quarter they show is held
            pack.build_pack(con, panel, label, memo=memo)
            pack.build_pack(con, COMMAND_LINE, label, disclosure="exact", memo=memo)
        assert not [name for name in asked if name in BY_QUARTER or name in stock]
        # Quarters not held, later (two quarters on) or earlier (a trend reaching back before
        # the first referral): one run more each time, for all of them.
        for label in ("2022/23 Q3", "2020/21 Q1"):
            pack.build_pack(con, panel, label, memo=memo)
            assert sorted(name for name in asked if name in BY_QUARTER) == sorted(BY_QUARTER)
            asked.clear()
    finally:
        con.close()


def test_retention_counts_a_short_completion_as_retained_and_a_short_stay_as_left(tmp_path):
    tracker = (
        "Nominal ID,Referral Date,Officer,Referral Source,Status,First Contact Date,"
        "Assessment Date,Rehab Admission Date,Rehab Facility,Rehab Exit Date,Rehab Exit Reason\n"
        # completed after 30 days: retained, as recorded
        "A1,01/03/2022,Officer 1,Custody,Inactive,02/03/2022,03/03/2022,04/04/2022,Seasons,"
        "04/05/2022,Completed\n"
        # left after 83 days, and after 84
        "A2,01/03/2022,Officer 1,Custody,Inactive,02/03/2022,03/03/2022,04/04/2022,Seasons,"
        "26/06/2022,Self-discharged\n"
        "A3,01/03/2022,Officer 1,Custody,Inactive,02/03/2022,03/03/2022,04/04/2022,Seasons,"
        "27/06/2022,Self-discharged\n"
        # still in on the as-at date: 57 days (still under 12 weeks), and 85 (retained)
        "A4,01/03/2022,Officer 1,Custody,Active,02/03/2022,03/03/2022,04/06/2022,Seasons,,\n"
        "A5,01/03/2022,Officer 1,Custody,Active,02/03/2022,03/03/2022,07/05/2022,Seasons,,\n"
        # admitted the quarter before
        "A6,01/03/2022,Officer 1,Custody,Active,02/03/2022,03/03/2022,31/03/2022,Seasons,,\n")
    db = tmp_path / "o2r.duckdb"
    service.ingest_bytes(db, "tracker", "stays.csv", tracker.encode(), as_at=dt.date(2022, 7, 31))
    con = database.connect_read_only(db)
    try:
        rows = queries.run(con, COMMAND_LINE, "quarter_retention",
                           from_date=dt.date(2022, 1, 1), to_date=dt.date(2022, 6, 30))
    finally:
        con.close()
    assert rows["quarter_start"].dt.date.tolist() == [dt.date(2022, 1, 1), dt.date(2022, 4, 1)]
    assert rows[["retained", "left_early", "still_in"]].to_numpy().tolist() == [
        [1, 0, 0], [3, 1, 1]]


def test_rows_read_from_another_snapshot_or_by_another_viewer_are_not_used(demo_con):
    snapshots, connect = gathering.data_sources(demo_con, COMMAND_LINE)
    quarter = pack.parse_quarter("2022/23 Q1")
    alone = gathering.quarter_data(demo_con, COMMAND_LINE, quarter, snapshots, connect)
    assert alone.counts["Referrals received"] > 0
    nobody = Upload(snapshots[0].upload_id + 1000, snapshots[0].as_at)
    other_snapshot = FlowRows(demo_con, COMMAND_LINE, nobody, quarter, quarter)
    other_viewer = FlowRows(demo_con, COMMAND_LINE, nobody, quarter, quarter)
    other_viewer.flows = snapshots[0]  # as if the latest had been read by someone else
    other_viewer.viewer = Viewer("Officer 1", "officer", ("Officer 1",))
    for flow_rows in (other_snapshot, other_viewer):
        read = gathering.quarter_data(demo_con, COMMAND_LINE, quarter, snapshots, connect,
                                      flow_rows)
        assert (read.counts, read.rates, read.area_flows) == \
            (alone.counts, alone.rates, alone.area_flows)


def test_each_quarter_end_of_one_stock_run_is_that_quarter_run_alone(demo_con):
    """Every snapshot (and one holding nobody) at every quarter end from the quarter before
    the first referral's to the one after the last, both schemes: what StockRows hands out is
    what the stock query gives alone (Table 1's frame, the people in rehab as column lists),
    or nothing, and then the query is run alone."""
    ids = [*dict.fromkeys(queries.run(demo_con, COMMAND_LINE, "snapshots")[
        "snapshot_id"].astype(int).tolist())]
    nobody = snapshots(demo_con)[-1]
    assert len(ids) >= 2
    ends = sorted({q.end for scheme in (pack.FINANCIAL, pack.CALENDAR)
                   for q in span(demo_con, scheme)})
    asked = [(Upload(snapshot_id, end), end) for snapshot_id in [*ids, nobody] for end in ends]
    held = StockRows(demo_con, COMMAND_LINE, asked)
    for snapshot, end in asked:
        caseload = queries.run(demo_con, COMMAND_LINE, "quarter_caseload",
                               snapshot_id=snapshot.upload_id)
        in_rehab = queries.run(demo_con, COMMAND_LINE, "quarter_in_rehab",
                               snapshot_id=snapshot.upload_id, to_date=end)
        if snapshot.upload_id == nobody:
            assert held.caseload(COMMAND_LINE, snapshot) is None
        else:
            pd.testing.assert_frame_equal(held.caseload(COMMAND_LINE, snapshot), caseload,
                                          obj=f"caseload {snapshot}")
        assert held.people_in_rehab(COMMAND_LINE, snapshot, end) == {
            "n_in_rehab": in_rehab["n_in_rehab"].tolist()}, (snapshot, end)
    panel = Viewer("Panel member", "scrutiny")
    assert held.caseload(panel, asked[0][0]) is None
    assert held.people_in_rehab(panel, *asked[0]) is None
    assert set(STOCK_AT_ENDS) == {"quarter_caseload", "quarter_in_rehab"}
