"""The 2022 evaluation's published figures, reproduced from the demo data by the named queries."""

from __future__ import annotations

import datetime as dt

from dashboard.security.access import COMMAND_LINE
from dashboard.store import queries

TABLE_1 = {
    ("Officer 1", "Referral/Waiting"): 8, ("Officer 1", "Active"): 14,
    ("Officer 1", "Inactive"): 5, ("Officer 1", "Withdrawn"): 16,
    ("Officer 2", "Referral/Waiting"): 19, ("Officer 2", "Active"): 9,
    ("Officer 2", "Inactive"): 3, ("Officer 2", "Withdrawn"): 9,
    ("New recruit 1", "Referral/Waiting"): 10, ("New recruit 1", "Active"): 6,
    ("New recruit 1", "Inactive"): 3, ("New recruit 1", "Withdrawn"): 2,
    ("New recruit 2", "Referral/Waiting"): 9, ("New recruit 2", "Active"): 4,
    ("New recruit 2", "Inactive"): 5, ("New recruit 2", "Withdrawn"): 9,
    ("Former officer", "Not recorded"): 5,
}

FIGURE_3 = {
    ("Referrals", "Inactive/withdrawn"): 27,
    ("Referrals", "Being worked with"): 33,
    ("Inactive/withdrawn", "Not interested"): 17,
    ("Inactive/withdrawn", "Did not meet criteria"): 10,
    ("Being worked with", "Diverted to other services"): 6,
    ("Being worked with", "Residential rehab"): 27,
    ("Diverted to other services", "Partner agency"): 3,
    ("Diverted to other services", "Prison"): 3,
    ("Residential rehab", "In rehab"): 3,
    ("Residential rehab", "Completed 12 weeks"): 4,
    ("Residential rehab", "Discharged early"): 20,
    ("Discharged early", "Withdrawn"): 6,
    ("Discharged early", "Deceased"): 3,
    ("Discharged early", "Ongoing engagement"): 11,
}

FIGURE_3_PERIOD = {"from_date": dt.date(2021, 6, 1), "to_date": dt.date(2022, 6, 30)}


def as_dict(frame, *keys):
    return {tuple(row[k] for k in keys): row["referrals"] for _, row in frame.iterrows()}


def test_table_1_referrals_by_officer_and_status(demo_con):
    caseload = queries.run(demo_con, COMMAND_LINE, "officer_caseload")
    assert as_dict(caseload, "officer", "status") == TABLE_1
    by_status = caseload.groupby("status")["referrals"].sum().to_dict()
    assert by_status == {"Referral/Waiting": 46, "Active": 33, "Inactive": 16,
                         "Withdrawn": 36, "Not recorded": 5}
    assert caseload["referrals"].sum() == 136


def test_figure_3_client_journey_of_the_first_60_assessed(demo_con):
    flow = queries.run(demo_con, COMMAND_LINE, "journey_flow", **FIGURE_3_PERIOD)
    assert as_dict(flow, "source", "target") == FIGURE_3
    assert "Preparing for rehab" not in set(flow["target"])


def test_figure_3_rehab_placements(demo_con):
    placements = queries.run(demo_con, COMMAND_LINE, "rehab_placements")
    assert as_dict(placements, "rehab_facility") == {
        ("Seasons",): 14, ("Livingstone House",): 12, ("Changes UK",): 1}


def test_referral_sources_among_the_60_led_by_outreach_and_retail_then_npts(demo_con):
    sources = queries.run(demo_con, COMMAND_LINE, "referral_sources", assessed_only=True,
                          **FIGURE_3_PERIOD)
    totals = sources.groupby("referral_source")["referrals"].sum().sort_values(ascending=False)
    assert totals.sum() == 60
    assert totals.iloc[:2].to_dict() == {"O2R officer outreach": 16, "Retail business": 16}
    assert totals.index[2] == "Neighbourhood policing team"
    npt = sources[sources["referral_source"] == "Neighbourhood policing team"]
    assert list(npt.sort_values("referrals", ascending=False)["referral_source_detail"][:2]) \
        == ["Harborne", "Sutton Coldfield"]


def test_top_three_offending_areas_and_city_centre_progresses_less(demo_con):
    areas = queries.run(demo_con, COMMAND_LINE, "offending_areas", assessed_only=True,
                        **FIGURE_3_PERIOD)
    assert list(areas["offending_area"][:3]) == ["City Centre", "Sutton Coldfield", "Erdington"]
    assert areas["referrals"].iloc[2] > areas["referrals"].iloc[3]
    rehab = {}
    for _, row in areas.iterrows():
        flow = queries.run(demo_con, COMMAND_LINE, "journey_flow", area=row["offending_area"],
                           **FIGURE_3_PERIOD)
        entered = flow[flow["target"] == "Residential rehab"]["referrals"].sum()
        rehab[row["offending_area"]] = (entered, row["referrals"])
    city_entered, city_assessed = rehab.pop("City Centre")
    rest_entered = sum(e for e, _ in rehab.values())
    rest_assessed = sum(a for _, a in rehab.values())
    assert city_entered / city_assessed < rest_entered / rest_assessed


def test_pre_admission_course_since_january_2022(demo_con):
    # As the Cost savings page counts them, and as the pack does, quarter by quarter.
    shown = queries.run(demo_con, COMMAND_LINE, "course_to_admission",
                        from_date=dt.date(2022, 1, 1))
    assert shown[["attendees", "admitted_after_course"]].to_dict("records") == [
        {"attendees": 23, "admitted_after_course": 8}]
    by_quarter = queries.run(demo_con, COMMAND_LINE, "pre_admission_course",
                             from_date=dt.date(2022, 1, 1))
    assert by_quarter["quarter_start"].dt.date.tolist() == [
        dt.date(2022, 1, 1), dt.date(2022, 4, 1), dt.date(2022, 7, 1)]
    assert by_quarter[["attendees", "admitted_after_course"]].sum().tolist() == [23, 8]


def test_earlier_snapshot_is_still_reproducible(demo_con):
    snapshots = queries.run(demo_con, COMMAND_LINE, "snapshots")
    assert list(snapshots["as_at_date"].astype(str)) == [
        "2022-07-31", "2022-06-30", "2022-03-31", "2021-12-31", "2021-09-30"]
    june = int(snapshots.loc[snapshots["as_at_date"].astype(str) == "2022-06-30",
                             "snapshot_id"].iloc[0])
    june_caseload = queries.run(demo_con, COMMAND_LINE, "officer_caseload", snapshot_id=june)
    assert june_caseload["referrals"].sum() == 121
