"""The 2022 evaluation's retail model: the value of goods not stolen from shops, year by year."""

from __future__ import annotations

import dataclasses
import math

import altair as alt
import pandas as pd

# Each option object is checked when the chart is drawn, not also as it is made (see
# dashboard/ui/charts.py, which this module does not import).
alt.utils.schemapi.disable_debug_mode()

EVALUATION = "O2R process evaluation (2022), section 5.7 'Retail sector savings', p. 25"
BLACK_2020 = ("Black, D.C. (2020), Review of Drugs: evidence relating to drug use, supply and "
              "effects, as quoted there")


@dataclasses.dataclass(frozen=True)
class Assumptions:
    """The model's inputs; the defaults are the evaluation's own."""

    annual_drug_spend_gbp: float = 19_000
    realised_share_high: float = 1 / 2  # the better price: the least theft needed
    realised_share_low: float = 1 / 3  # the worse price: the most theft needed
    people_per_year: float = 20
    years: int = 2
    abstinent_share_each_year: float = 1.0

    def __post_init__(self):
        if not 0 < self.realised_share_low <= self.realised_share_high <= 1:
            raise ValueError("Realised shares must satisfy 0 < low <= high <= 1")
        if self.annual_drug_spend_gbp < 0 or self.people_per_year < 0:
            raise ValueError("Drug spend and people per year cannot be negative")
        if self.years < 1:
            raise ValueError("The model needs at least one year")
        if not 0 <= self.abstinent_share_each_year <= 1:
            raise ValueError("The share still abstinent must be between 0 and 1")


SOURCES = {
    "annual_drug_spend_gbp":
        f"£19,000: the estimated annual spend of someone using both heroin and crack "
        f"({BLACK_2020} in the {EVALUATION}). A national average; the evaluation notes that "
        "O2R clients report much heavier use, so it calls its figures conservative.",
    "realised_share_high":
        f"One half: people who shoplift to fund drug use report selling stolen goods for "
        f"about a third to a half (33-50%) of the retail price ({EVALUATION}). At a half, "
        "they must steal twice their drug spend: £38,000 a year.",
    "realised_share_low":
        f"One third: the other end of the same self-reported range ({EVALUATION}). At a "
        "third, they must steal three times their drug spend: £57,000 a year.",
    "people_per_year":
        f"20: the evaluation's scenario, 'if the O2R pilot successfully rehabilitates 20 "
        f"offenders per year' ({EVALUATION}). A supposition, not a count; the page can "
        "take completions or rehab entrants per year from the data instead.",
    "years":
        f"The evaluation gives Year One and Year Two ({EVALUATION}).",
    "abstinent_share_each_year":
        f"Not in the evaluation: it assumes each year's cohort stays off drugs and off "
        f"shoplifting for good, so year two counts 40 people ({EVALUATION}). Below 100%, "
        "each cohort shrinks by this share every year after its first.",
}


# One line each, for a caption under the input; SOURCES has the full text.
CITATIONS = {
    "annual_drug_spend_gbp":
        "Source: Black (2020) Review of Drugs, quoted in the evaluation, §5.7.",
    "realised_shares":
        "Source: what people who shoplift for drugs report, in the evaluation, §5.7 (33-50%).",
    "people_per_year": "Source: the evaluation's scenario of 20 a year, §5.7.",
    "years": "Source: the evaluation shows years one and two, §5.7.",
    "abstinent_share_each_year": "Not in the evaluation, which assumes 100% (year two: 40 people).",
}


def goods_not_stolen(assumptions: Assumptions) -> pd.DataFrame:
    """One row per year: year, people_counted, low_gbp, high_gbp (whole pounds, that year only)."""
    return pd.DataFrame(yearly(assumptions)).astype({
        "year": "int64", "people_counted": "float64", "low_gbp": "int64", "high_gbp": "int64"})


def yearly(assumptions: Assumptions) -> list[dict]:
    """goods_not_stolen's rows as plain dicts (the pack works out eight quarters' estimates,
    where a frame each cost more than the sums)."""
    a = assumptions
    rows = []
    for year in range(1, a.years + 1):
        # Every earlier cohort still counts, shrunk by the share abstinent once a year.
        people = a.people_per_year * sum(a.abstinent_share_each_year ** k for k in range(year))
        spend = people * a.annual_drug_spend_gbp
        # Rounded to whole pounds so 1/3 in floating point gives the evaluation's exact figures.
        rows.append({"year": year, "people_counted": people,
                     "low_gbp": round(spend / a.realised_share_high),
                     "high_gbp": round(spend / a.realised_share_low)})
    return rows


def gbp(amount: float) -> str:
    """Whole pounds with thousands separators: 1140000 -> '£1,140,000'."""
    pounds = round(amount)
    return f"-£{-pounds:,}" if pounds < 0 else f"£{pounds:,}"


def people_label(people: float) -> str:
    """A head count, with one decimal place only when abstinence makes it fractional."""
    return f"{people:,.0f}" if math.isclose(people, round(people)) else f"{people:,.1f}"


def people_per_year_from_data(per_year: pd.DataFrame, column: str) -> tuple[float, str]:
    """Mean of `column` over complete financial years, and a sentence saying which years.

    `per_year` is the people_rehabilitated query's result. With no complete year yet the
    count is annualised over the days covered, and the sentence says so.
    """
    if per_year.empty:
        return 0.0, "No referrals in the data, so none a year."
    complete = per_year[per_year["is_complete_year"]]
    if not complete.empty:
        mean = float(complete[column].mean())
        counts = "; ".join(f"{r[column]} in {r['financial_year']}" for _, r in complete.iterrows())
        sentence = f"Mean over the complete financial years ({counts})."
        first = complete.iloc[0]
        if first["covered_from_date"] > first["fy_start_date"]:
            sentence += (f" {first['financial_year']} counts only from "
                         f"{first['covered_from_date']:%d/%m/%Y}, the first referral, "
                         "so it may understate a full year.")
        return mean, sentence
    days = sum((r.covered_to_date - r.covered_from_date).days + 1
               for r in per_year.itertuples())
    total = int(per_year[column].sum())
    start, end = per_year["covered_from_date"].min(), per_year["covered_to_date"].max()
    return (total * 365.25 / days,
            f"No complete financial year yet: {total} between {start:%d/%m/%Y} and "
            f"{end:%d/%m/%Y}, scaled up to a year.")


# Axis labels in the evaluation's own style: £760k, £1.5m.
_GBP_AXIS = ("datum.value >= 1e6 ? '£' + format(datum.value / 1e6, '.1~f') + 'm' : "
             "datum.value >= 1e3 ? '£' + format(datum.value / 1e3, '.0f') + 'k' : "
             "'£' + format(datum.value, '.0f')")
_BLUE = "#0072B2"  # Okabe-Ito blue: distinct for every common form of colour blindness


def goods_not_stolen_chart(frame: pd.DataFrame) -> alt.Chart:
    """A bar per year spanning the low to the high estimate of goods not stolen."""
    return (
        alt.Chart(frame, title=alt.Title(
            "Value of goods not stolen from shops, each year",
            subtitle="Each bar spans the low to the high estimate"))
        .mark_bar(color=_BLUE, opacity=0.85, size=48)
        .transform_calculate(
            # Vega formats numbers in US style, so the pound sign is added by hand.
            low_label="'£' + format(datum.low_gbp, ',.0f')",
            high_label="'£' + format(datum.high_gbp, ',.0f')",
        )
        .encode(
            alt.X("year:O", title="Year of the programme", axis=alt.Axis(labelAngle=0)),
            alt.Y("low_gbp:Q", title="Goods not stolen in the year", scale=alt.Scale(zero=True),
                  axis=alt.Axis(labelExpr=_GBP_AXIS)),
            alt.Y2("high_gbp:Q"),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("people_counted:Q", title="People counted", format=",.1~f"),
                alt.Tooltip("low_label:N", title="Low estimate"),
                alt.Tooltip("high_label:N", title="High estimate"),
            ],
        )
        .properties(height=360)
    )
