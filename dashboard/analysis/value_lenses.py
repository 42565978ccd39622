"""Value lenses beside the evaluation's retail model: goods not stolen while in rehab, the
economic and social cost of offences avoided, and the programme's cost. Each answers a
different question in different units, so they are shown side by side and never added."""

from __future__ import annotations

import math

import pandas as pd

from dashboard.analysis import cost_model
from dashboard.analysis.outcomes import net_change
from dashboard.config import ROOT

REFERENCE = ROOT / "data" / "reference"
UNIT_COSTS_FILE = REFERENCE / "unit_costs_of_crime.csv"
DEFLATORS_FILE = REFERENCE / "gdp_deflators.csv"
HEEKS = ("Heeks, Reed, Tafsiri and Prince (2018), The economic and social costs of crime, "
         "second edition, Home Office Research Report 99")
TREASURY = "HM Treasury, GDP deflators at market prices, and money GDP"
DAYS_A_YEAR = 365.25


def unit_costs() -> pd.DataFrame:
    """The shipped unit costs of crime by Connect offence type (unit_cost_gbp may be blank:
    a figure not yet verified against the report is never filled in)."""
    frame = pd.read_csv(UNIT_COSTS_FILE, dtype={"unit_cost_gbp": "float64"})
    frame["is_verified"] = frame["status"].str.startswith("verified")
    return frame


def unit_costs_by_type() -> dict[str, dict]:
    """unit_costs as a dict of each offence type's columns (the page reads one type at a time:
    a pandas lookup per type cost more than the rest of the lens). A type listed twice keeps
    its first row."""
    return unit_costs().drop_duplicates("offence_type").set_index("offence_type").to_dict(
        "index")


def deflators() -> pd.DataFrame:
    """The shipped GDP deflators by financial year (blank where not yet verified)."""
    frame = pd.read_csv(DEFLATORS_FILE, dtype={"gdp_deflator_index": "float64"})
    frame["is_verified"] = frame["status"].str.startswith("verified")
    return frame


def uplift(from_index: float | None, to_index: float | None) -> float:
    """Price uplift between two GDP deflator index values; nan if either is missing."""
    if not from_index or not to_index or pd.isna(from_index) or pd.isna(to_index):
        return math.nan
    return to_index / from_index


def during_rehab(days_in_rehab: float, assumptions: cost_model.Assumptions) -> dict:
    """Goods not stolen while people were in rehab: observed days x the evaluation's daily
    theft (annual drug spend / realised share, over 365.25 days), low and high."""
    years = days_in_rehab / DAYS_A_YEAR
    spend = assumptions.annual_drug_spend_gbp
    return {"days": days_in_rehab,
            "low_gbp": round(years * spend / assumptions.realised_share_high),
            "high_gbp": round(years * spend / assumptions.realised_share_low)}


def split_by_type(rows: pd.DataFrame, types: list[str]) -> dict[str, pd.DataFrame]:
    """offending_windows_by_type's rows as offences_avoided takes them: each type's rows, as
    offending_windows gives them for that type alone, in the order of `types`."""
    return {t: rows[rows["offence_type"] == t].drop(columns="offence_type")
            .reset_index(drop=True) for t in types}


def offences_avoided(by_type: dict[str, pd.DataFrame], after_window: str,
                     comparison_window: str) -> pd.DataFrame:
    """Per offence type: the admitted (exited) groups' fall in offences a person-year net of
    the comparison groups' fall, times the admitted groups' person-years after exit.

    `by_type` maps each offence type to the offending_windows rows for that type alone."""
    rows = []
    for offence_type, windows in by_type.items():
        net = net_change(windows, after_window, comparison_window)
        avoided = net["net_fall"] * net["admitted_person_years"]
        rows.append({"offence_type": offence_type, "net_fall_per_person_year": net["net_fall"],
                     "person_years_after_exit": net["admitted_person_years"],
                     "offences_avoided": avoided})
    return pd.DataFrame(rows, columns=["offence_type", "net_fall_per_person_year",
                                       "person_years_after_exit", "offences_avoided"])


def offences_avoided_by_type(rows: pd.DataFrame, types: list[str], after_window: str,
                             comparison_window: str) -> pd.DataFrame:
    """offences_avoided from offending_windows_by_type's rows, for the types listed."""
    return offences_avoided(split_by_type(rows, types), after_window, comparison_window)


def social_cost(avoided: pd.DataFrame, costs: dict[str, float], price_uplift: float) -> dict:
    """The economic and social cost of the offences avoided, at the chosen year's prices.
    Types with no unit cost (or no net fall measured) are listed and left out of the total."""
    table = avoided.copy()
    table["unit_cost_gbp"] = [costs.get(t, math.nan) for t in table["offence_type"]]
    table["value_gbp"] = table["offences_avoided"] * table["unit_cost_gbp"] * price_uplift
    counted = table["value_gbp"].notna()
    return {"table": table, "total_gbp": float(table.loc[counted, "value_gbp"].sum())
            if counted.any() else math.nan,
            "left_out": list(table.loc[~counted, "offence_type"])}


def programme_cost(officers_gbp: float, placement_gbp_a_week: float, days_in_rehab: float,
                   course_gbp_an_attendee: float, attendees: int) -> dict:
    """Programme cost for the period from its inputs: officers (a total), rehab placements
    (a weekly cost x observed weeks in rehab) and the course (a cost per attendee)."""
    placements = placement_gbp_a_week * days_in_rehab / 7
    course = course_gbp_an_attendee * attendees
    return {"officers_gbp": officers_gbp, "placements_gbp": placements, "course_gbp": course,
            "total_gbp": officers_gbp + placements + course}


def per_outcome(total_gbp: float, admissions: int, completions: int,
                assumptions: cost_model.Assumptions, sustained_days: int) -> dict:
    """Cost per admission and per completion, and how many sustained outcomes (a person with
    no recorded offence for `sustained_days` after rehab) would pay for the programme, if each
    stops theft at the evaluation's rate for those days (fewest at the high rate)."""
    def share(n: int) -> float:
        return total_gbp / n if n else math.nan

    years = sustained_days / DAYS_A_YEAR
    value_high = years * assumptions.annual_drug_spend_gbp / assumptions.realised_share_low
    value_low = years * assumptions.annual_drug_spend_gbp / assumptions.realised_share_high
    return {"per_admission_gbp": share(admissions), "per_completion_gbp": share(completions),
            "outcome_value_low_gbp": value_low, "outcome_value_high_gbp": value_high,
            "break_even_fewest": math.ceil(total_gbp / value_high) if value_high else math.nan,
            "break_even_most": math.ceil(total_gbp / value_low) if value_low else math.nan}
