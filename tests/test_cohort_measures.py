"""Cohort measures: how far a period's referrals (or assessments) have got, never over 100%,
and the check of "Completed 12 weeks" against the dates."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard import pack, service
from dashboard.analysis import funnel
from dashboard.security.access import COMMAND_LINE
from dashboard.store import database, queries


def test_the_demo_referrals_funnel_follows_figure_3(demo_con):
    rows = queries.run(demo_con, COMMAND_LINE, "cohort_funnel", cohort="referrals")
    assert rows[["step", "reached"]].values.tolist() == [
        ["Referred", 136], ["Contacted", 85], ["Assessed", 60], ["Entered rehab", 27],
        ["Completed 12 weeks", 4]]
    assert set(rows["cohort_size"]) == {136}


def test_the_assessments_cohort_starts_at_assessment(demo_con):
    rows = queries.run(demo_con, COMMAND_LINE, "cohort_funnel", cohort="assessments")
    assert rows["step"].tolist() == ["Assessed", "Entered rehab", "Completed 12 weeks"]
    assert rows["reached"].iloc[0] == rows["cohort_size"].iloc[0] == 60


def quarters(con) -> list[pack.Quarter]:
    span = queries.run(con, COMMAND_LINE, "referral_date_span").iloc[0]
    first = pack.quarter_containing(span["first_referral_date"].date())
    last = pack.quarter_containing(span["last_referral_date"].date())
    out = [first]
    while out[-1] < last:
        out.append(out[-1].shift(1))
    return out


@pytest.mark.parametrize("cohort", ["referrals", "assessments"])
@pytest.mark.parametrize("officer", [None, "Officer 1", "New recruit 2"])
def test_no_step_exceeds_the_one_before_in_any_quarter(demo_con, cohort, officer):
    for quarter in quarters(demo_con):
        rows = queries.run(demo_con, COMMAND_LINE, "cohort_funnel", cohort=cohort,
                           from_date=quarter.start, to_date=quarter.end, officer=officer)
        table = funnel.funnel_table(rows)
        reached = table["reached"].tolist()
        assert reached == sorted(reached, reverse=True), (quarter.label, reached)
        assert (table["in_progress"] <= table["reached"]).all()
        shares = table["share"].dropna()
        assert ((shares >= 0) & (shares <= 1)).all()
        assert ((table["step_rate"].dropna() >= 0) & (table["step_rate"].dropna() <= 1)).all()


def test_the_pack_rate_is_the_assessments_cohort_of_the_quarter(demo_con):
    quarter = pack.parse_quarter("2022/23 Q1")
    rows = queries.run(demo_con, COMMAND_LINE, "cohort_funnel", cohort="assessments",
                       from_date=quarter.start, to_date=quarter.end).set_index("step")
    rates = queries.run(demo_con, COMMAND_LINE, "quarter_rates", from_date=quarter.start,
                        to_date=quarter.end).set_index("rate")
    assert rates.loc["Assessed to admitted", "n_base"] == rows.loc["Assessed", "reached"]
    assert rates.loc["Assessed to admitted", "n_reached"] == rows.loc["Entered rehab", "reached"]


def test_a_completion_after_fewer_than_84_days_is_flagged(tmp_path):
    db = tmp_path / "o2r.duckdb"
    tracker = (
        "Nominal ID,Referral Date,Officer,Referral Source,Status,First Contact Date,"
        "Assessment Date,Rehab Admission Date,Rehab Facility,Rehab Exit Date,Rehab Exit Reason\n"
        "A1,01/04/2022,Officer 1,Custody,Inactive,02/04/2022,03/04/2022,04/04/2022,Seasons,"
        "04/05/2022,Completed\n"
        "A2,01/04/2022,Officer 1,Custody,Inactive,02/04/2022,03/04/2022,04/04/2022,Seasons,"
        "27/06/2022,Completed\n"
        "A3,01/04/2022,Officer 1,Custody,Inactive,02/04/2022,03/04/2022,04/04/2022,Seasons,"
        "26/06/2022,Completed\n")
    service.ingest_bytes(db, "tracker", "short.csv", tracker.encode(), as_at=dt.date(2022, 7, 31))
    con = database.connect_read_only(db)
    try:
        issues = queries.run(con, COMMAND_LINE, "data_quality")
        counted = queries.run(con, COMMAND_LINE, "quarter_data_quality",
                              from_date=dt.date(2022, 4, 1), to_date=dt.date(2022, 6, 30))
    finally:
        con.close()
    short = issues[issues["issue"] == "Completed 12 weeks in fewer than 84 days"]
    assert short["nominal_id"].tolist() == ["A1", "A3"]  # 30 and 83 days; 84 is twelve weeks
    assert "after 30 days in rehab" in short["detail"].iloc[0]
    assert counted.set_index("issue").loc["Completed 12 weeks in fewer than 84 days",
                                          "referrals"] == 2
