"""Value lenses: each computed on its own from its inputs, the shipped reference files carry no
unverified figure, and the cost page shows the lenses apart and never adds them."""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest

from dashboard.analysis import cost_model, outcomes, value_lenses
from dashboard.security.access import COMMAND_LINE
from dashboard.store import database, queries

from conftest import page_text


def test_shipped_reference_files_cite_their_source_and_hold_no_unverified_figure():
    costs = value_lenses.unit_costs()
    assert costs["table_reference"].str.contains("Heeks").all()
    assert (costs["price_year"] == "2015/16").all()
    assert costs.loc[~costs["is_verified"], "unit_cost_gbp"].isna().all()
    deflators = value_lenses.deflators()
    assert deflators["source"].str.contains("HM Treasury").all()
    assert deflators.loc[~deflators["is_verified"], "gdp_deflator_index"].isna().all()


def test_uplift_is_the_ratio_of_deflators():
    assert value_lenses.uplift(80.0, 100.0) == 1.25
    assert math.isnan(value_lenses.uplift(0, 100.0))
    assert math.isnan(value_lenses.uplift(None, 100.0))


def test_during_rehab_is_days_times_the_evaluations_daily_theft():
    # a year in rehab is one person-year of theft: £38,000 to £57,000
    assert value_lenses.during_rehab(365.25, cost_model.Assumptions()) == {
        "days": 365.25, "low_gbp": 38_000, "high_gbp": 57_000}
    assert value_lenses.during_rehab(0, cost_model.Assumptions())["high_gbp"] == 0


def windows(after_admitted, before_admitted, after_comparison, before_comparison):
    """offending_windows-shaped rows: one person-year each side, for one exited and one
    comparison group."""
    return pd.DataFrame([
        {"outcome_group": "Completed 12 weeks", "window": "after exit", "referrals": 1,
         "person_years": 1.0, "offences": after_admitted, "baseline_offences": before_admitted,
         "baseline_person_years": 1.0},
        {"outcome_group": "Assessed, not admitted", "window": "after referral", "referrals": 1,
         "person_years": 1.0, "offences": after_comparison,
         "baseline_offences": before_comparison, "baseline_person_years": 1.0}])


def test_offences_avoided_are_net_of_the_comparison_and_costed_by_type():
    by_type = {"Shoplifting": windows(2, 10, 6, 10), "Assault": windows(1, 1, 1, 1)}
    avoided = value_lenses.offences_avoided(by_type, "after exit", "after referral")
    # shoplifting: admitted fell by 8, comparison by 4: 4 a person-year x 1 person-year
    assert avoided.set_index("offence_type")["offences_avoided"].to_dict() == {
        "Shoplifting": 4.0, "Assault": 0.0}
    result = value_lenses.social_cost(avoided, {"Shoplifting": 100.0}, 1.5)
    assert result["total_gbp"] == 600.0
    assert result["left_out"] == ["Assault"]


def test_programme_cost_per_outcome_and_break_even():
    cost = value_lenses.programme_cost(70_000, 700, 70, 50, 10)
    assert cost == {"officers_gbp": 70_000, "placements_gbp": 7_000, "course_gbp": 500,
                    "total_gbp": 77_500}
    per = value_lenses.per_outcome(77_500, 10, 2, cost_model.Assumptions(), 365)
    assert per["per_admission_gbp"] == 7_750 and per["per_completion_gbp"] == 38_750
    low, high = per["outcome_value_low_gbp"], per["outcome_value_high_gbp"]
    assert per["break_even_fewest"] == math.ceil(77_500 / high)
    assert per["break_even_most"] == math.ceil(77_500 / low)
    assert math.isnan(value_lenses.per_outcome(1, 0, 0, cost_model.Assumptions(),
                                               182)["per_admission_gbp"])


def test_the_demo_lens_uses_the_named_query_per_offence_type(demo_con):
    whole = queries.run(demo_con, COMMAND_LINE, "offending_windows")
    types = sorted(set(queries.run(demo_con, COMMAND_LINE, "offences_by_area")["offence_type"]))
    by_type = queries.run(demo_con, COMMAND_LINE, "offending_windows_by_type",
                          offence_types=types)
    parts = value_lenses.split_by_type(by_type, types)
    assert list(parts) == types
    # the types partition the offences of every group and window
    total = sum(p.set_index(["outcome_group", "window"])["offences"] for p in parts.values())
    assert total.to_dict() == whole.set_index(["outcome_group", "window"])["offences"].to_dict()
    # as the Cost savings page asks for it, straight from the query's rows
    avoided = value_lenses.offences_avoided_by_type(by_type, types, "6 months after rehab exit",
                                                    "6 months after referral")
    net_all = outcomes.net_change(whole, "6 months after rehab exit", "6 months after referral")
    assert avoided["offences_avoided"].sum() == pytest.approx(
        net_all["net_fall"] * net_all["admitted_person_years"])


def test_with_no_offences_stored_there_is_no_type_to_count(demo_db):
    """offending_windows_by_type's default is every type the people have offences of: with
    none stored that is no type (no rows), never every type together as offending_windows
    counts them."""
    with database.writing(demo_db) as con:
        con.execute("delete from crimes")
        database.refresh_facts(con)
    con = database.connect_read_only(demo_db)
    try:
        assert queries.run(con, COMMAND_LINE, "offending_windows_by_type").empty
        assert queries.run(con, COMMAND_LINE, "offending_windows_by_type",
                           offence_types=["Shoplifting"])["offences"].eq(0).all()
        assert not queries.run(con, COMMAND_LINE, "offending_windows").empty
    finally:
        con.close()


def test_the_cost_page_shows_the_lenses_apart(app_as):
    at = app_as()
    at.run()
    at.switch_page("../pages/cost_savings.py")
    at.run()
    assert not at.exception and not at.error
    text = page_text(at)
    assert "never added" in text and "never summed" in text
    assert "Heeks" in text and "2015/16" in text
    assert "Enter at least one unit cost" in text
    at.radio(key="people_basis").set_value("n_rehab_entrants")
    at.run()
    assert "upper bound" in page_text(at).lower()
    at.number_input(key="unit_cost_Shoplifting").set_value(100.0)
    at.number_input(key="cost_officers").set_value(100_000)
    at.run()
    assert not at.exception and not at.error
    labels = {m.label: m.value for m in at.metric}
    assert "Cost of offences avoided, at 2015/16 prices" in labels
    avoided = next(d.value for d in at.dataframe if "unit_cost_gbp" in d.value.columns)
    costed = dict(zip(avoided["offence_type"], avoided["unit_cost_gbp"], strict=True))
    assert costed.pop("Shoplifting") == "£100"
    assert costed and set(costed.values()) == {"not entered"}  # never Streamlit's "None"
    assert set(avoided.loc[avoided["offence_type"] != "Shoplifting", "value_gbp"]) == {
        "left out"}
    assert not avoided.isin(["None", "nan"]).any().any() and avoided.notna().all().all()
    # a net fall below 1 keeps two significant figures ("0.016"), never "0.00" or "-0.00"
    falls = [v for v in avoided["net_fall_per_person_year"] if v != "not measured"]
    assert falls and all(re.fullmatch(r"-?\d+\.\d|-?0\.0*[1-9]\d|0\.0", v) for v in falls), falls
    # with a price uplift the value is no longer offences × unit cost: the header says so
    at.number_input(key="deflator_from").set_value(100.0)
    at.number_input(key="deflator_to").set_value(120.0)
    at.run()
    grid = next(d for d in at.dataframe if "unit_cost_gbp" in d.value.columns)
    headers = {c.get("label") for c in json.loads(grid.proto.columns).values()}
    assert "Value (× 1.2 price uplift)" in headers
    assert labels["Programme cost for the period"] == "£100,000"
    assert "Sustained outcomes needed to break even" in labels


# The offence types of the people referred in the period, in the year before each referral
# (offending_windows' first window, which every type's net fall starts from), counted by hand.
TYPES_BEFORE_REFERRAL = """
    select distinct c.offence_type
    from referrals r join crimes c using (nominal_id)
    where r.snapshot_id = (select max(upload_id) from uploads where kind = 'tracker')
      and r.officer = $officer and r.referral_date between $from_date and $to_date
      and c.offence_date between r.referral_date - 365 and r.referral_date - 1
"""


def test_the_cost_of_offences_counts_every_type_the_windows_hold(app_as, demo_con):
    # The types came from the offences recorded in the period (by offence date), not from the
    # windows around the period's referrals: Officer 2's referrals of these four weeks had
    # possession offences in the year before, none in the four weeks, and that type was left
    # out of the offences avoided.
    period = {"from_date": "2021-12-28", "to_date": "2022-01-26", "officer": "Officer 2"}
    at = app_as("steering")
    at.query_params.update({"period": "Custom dates", "from": period["from_date"],
                            "to": period["to_date"], "officer": period["officer"]})
    at.run()
    at.switch_page("../pages/cost_savings.py")
    at.run()
    assert not at.exception and not at.error
    shown = {n.key.removeprefix("unit_cost_") for n in at.number_input
             if n.key.startswith("unit_cost_")}
    before = {t for (t,) in demo_con.execute(TYPES_BEFORE_REFERRAL, period).fetchall()}
    assert before and before <= shown


def test_a_unit_cost_entered_in_the_file_is_offered_at_once(app_as, tmp_path, monkeypatch):
    """The unit costs are read once per version of their file, not once per server: a figure
    an administrator enters (and marks verified) is the next session's default, not an hour
    later; a type listed twice keeps its first row rather than breaking the page."""
    rows = pd.read_csv(value_lenses.UNIT_COSTS_FILE, dtype=str, keep_default_na=False)
    edited = tmp_path / "unit_costs_of_crime.csv"
    rows.to_csv(edited, index=False)
    monkeypatch.setattr(value_lenses, "UNIT_COSTS_FILE", edited)

    def shoplifting_default() -> float:
        at = app_as("steering")
        at.run()
        at.switch_page("../pages/cost_savings.py")
        at.run()
        assert not at.exception
        return at.number_input(key="unit_cost_Shoplifting").value

    assert shoplifting_default() == 0.0
    shoplifting = rows["offence_type"] == "Shoplifting"
    rows.loc[shoplifting, ["unit_cost_gbp", "status"]] = ["512", "verified against table 2"]
    pd.concat([rows, rows[shoplifting].assign(unit_cost_gbp="7")]).to_csv(edited, index=False)
    assert shoplifting_default() == 512.0
