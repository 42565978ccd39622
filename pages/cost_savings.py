"""Cost savings: the evaluation's estimate of goods not stolen from shops, every input editable."""

from fractions import Fraction

import streamlit as st

from dashboard.analysis import cost_model, outcomes, value_lenses
from dashboard.security import data_access
from dashboard.store import database
from dashboard.ui import filters, layout, text

DEFAULTS = cost_model.Assumptions()
SOURCES, CITATIONS = cost_model.SOURCES, cost_model.CITATIONS
# Fractions, so a third stays exactly a third and the defaults reproduce the evaluation.
SHARES = sorted({Fraction(k, 20) for k in range(1, 21)} | {Fraction(1, 3), Fraction(2, 3)})
PEOPLE_BASES = {
    "scenario": "A scenario number",
    "n_completions": "Completions of 12 weeks a year (from the data)",
    "n_rehab_entrants": "Rehab entrants a year (upper bound, from the data)",
}

st.title("Cost savings: goods not stolen from shops")
st.caption("The 2022 process evaluation's model (section 5.7): each person rehabilitated stops "
           "stealing enough to fund their drug use, so the retail value of the goods they would "
           "have stolen is not stolen. Every input below can be changed; its source is under it "
           "and in the help (?) beside it. Other ways of valuing the programme follow below the "
           "model, each on its own: they measure different things and are never added up.")
st.info("**What this figure is, and is not.** It is the retail value of goods *not stolen "
        "from shops*: a saving to retailers, not cash saved by West Midlands Police or any "
        "budget. It leaves out police time, court costs, prison and community sentences, "
        "and the harm to victims and communities. It assumes each person counted would "
        "otherwise have funded all their drug use by shop theft.", icon=":material/info:")

st.header("Assumptions")
left, middle, right = st.columns(3)
with left:
    spend = st.number_input("Annual drug spend per person (£, heroin and crack)", min_value=0,
                            value=int(DEFAULTS.annual_drug_spend_gbp), step=500,
                            help=SOURCES["annual_drug_spend_gbp"], key="annual_drug_spend_gbp")
    st.caption(CITATIONS["annual_drug_spend_gbp"])
with middle:
    share_low, share_high = st.select_slider(
        "Share of retail value realised when stolen goods are sold",
        options=SHARES, value=(Fraction(1, 3), Fraction(1, 2)),
        format_func=lambda f: f"{float(f) * 100:.1f}".removesuffix(".0") + "%",
        help=SOURCES["realised_share_high"] + "\n\n" + SOURCES["realised_share_low"],
        key="realised_shares")
    st.caption(CITATIONS["realised_shares"] + f" So theft of {float(1 / share_high):.3g} to "
               f"{float(1 / share_low):.3g} times the drug spend: "
               f"{cost_model.gbp(spend / share_high)} to {cost_model.gbp(spend / share_low)} "
               "a person a year.")
with right:
    years = st.slider("Years", min_value=1, max_value=10, value=DEFAULTS.years,
                      help=SOURCES["years"], key="years")
    st.caption(CITATIONS["years"])
    abstinent = st.slider("Share of each cohort still abstinent a year later (%)", 0, 100,
                          value=round(DEFAULTS.abstinent_share_each_year * 100),
                          format="%d%%", help=SOURCES["abstinent_share_each_year"],
                          key="abstinent_share_each_year")
    st.caption(CITATIONS["abstinent_share_each_year"])

basis = st.radio("People rehabilitated a year", list(PEOPLE_BASES),
                 format_func=PEOPLE_BASES.get, horizontal=True, key="people_basis",
                 help=SOURCES["people_per_year"])
if basis == "scenario":
    people = st.columns(3)[0].number_input("People rehabilitated a year (scenario)", min_value=0,
                                           value=int(DEFAULTS.people_per_year), step=1,
                                           help=SOURCES["people_per_year"],
                                           key="people_per_year")
    st.caption(CITATIONS["people_per_year"])
else:
    chosen = filters.current()
    per_year = data_access.filtered("people_rehabilitated", chosen)
    people, how = cost_model.people_per_year_from_data(per_year, basis)
    st.metric(PEOPLE_BASES[basis], cost_model.people_label(people))
    if basis == "n_rehab_entrants":
        st.warning("**An upper bound.** Counting every rehab entrant assumes each one stops "
                   "stealing for a full year. Most entrants leave rehab early, many around the "
                   "3-week detox (see the Outcomes page's retention curve), so the true figure "
                   "is lower.")
    scope = "; ".join(f"{what}: {value}" for what, value in (
        ("officer", chosen.officer), ("offending area", chosen.area)) if value)
    st.caption(f"{how} Entrants count at admission, completions at a 'Completed' exit, in "
               f"the latest snapshot{f' ({scope})' if scope else ''}. The period and referral "
               "source filters do not apply here: the model needs whole years.")
    with st.expander("Counts by financial year (April to March)"):
        dates = {"format": "DD/MM/YYYY"}
        st.dataframe(per_year, hide_index=True, width="stretch", column_order=[
            "financial_year", "covered_from_date", "covered_to_date", "is_complete_year",
            "n_rehab_entrants", "n_completions"], column_config={
            "financial_year": "Financial year",
            "covered_from_date": st.column_config.DateColumn("Counted from", **dates),
            "covered_to_date": st.column_config.DateColumn("Counted to", **dates),
            "is_complete_year": "Complete year", "n_rehab_entrants": "Rehab entrants",
            "n_completions": "Completions (12 weeks)"})

assumptions = cost_model.Assumptions(
    annual_drug_spend_gbp=spend, realised_share_high=float(share_high),
    realised_share_low=float(share_low), people_per_year=people, years=years,
    abstinent_share_each_year=abstinent / 100)
result = data_access.derived(cost_model.goods_not_stolen, assumptions)
gbp = cost_model.gbp
EVALUATION_YEAR_TWO = tuple(data_access.derived(cost_model.goods_not_stolen, DEFAULTS).query(
    "year == 2")[["low_gbp", "high_gbp"]].iloc[0])

st.subheader("Goods not stolen from shops")
# Two columns, not more: a range in whole pounds is too wide to fit a narrower metric.
for column, row in zip(st.columns(2), result.head(2).itertuples()):
    column.metric(f"Year {row.year} ({cost_model.people_label(row.people_counted)} people)",
                  f"{gbp(row.low_gbp)} to {gbp(row.high_gbp)}")
    # Said only of the evaluation's own inputs: beside other figures it contradicted them.
    if row.year == 2 and (row.low_gbp, row.high_gbp) == EVALUATION_YEAR_TWO:
        column.caption("The evaluation prints year two as '£1.5m to £2.2m'. Its own inputs "
                       "give £1,520,000 to £2,280,000 (40 people × £38,000 to £57,000): "
                       "it cut £2.28m short rather than rounding it to £2.3m.")
st.caption(f"Each year's figure is for that year alone; all {years} years together come to "
           f"{gbp(result['low_gbp'].sum())} to {gbp(result['high_gbp'].sum())}.")

table_side, chart_side = st.columns([2, 3])
with table_side:
    table = result.assign(
        people_counted=result["people_counted"].map(cost_model.people_label),
        low_gbp=result["low_gbp"].map(gbp), high_gbp=result["high_gbp"].map(gbp),
    ).rename(columns={"year": "Year", "people_counted": "People counted",
                      "low_gbp": "Low estimate", "high_gbp": "High estimate"})
    st.dataframe(table, hide_index=True, width="stretch")
    layout.csv_download(result, "goods_not_stolen", "Download the table (CSV)")
with chart_side:
    layout.chart(cost_model.goods_not_stolen_chart, result)

st.header("Other lenses: side by side, never added together")
st.info("Each lens below answers a different question, in different units, from different "
        "sources: the retail value of goods not stolen (above, and while in rehab), the cost "
        "to society of offences, and what the programme costs. Adding them would count the "
        "same theft twice, so they are never summed.", icon=":material/info:")
chosen = filters.current()
stays = data_access.filtered("rehab_stays", chosen)
days_in_rehab = float((stays["days"] * stays["admissions"]).sum()) if not stays.empty else 0.0

st.subheader("1. Goods not stolen while in rehab")
during = value_lenses.during_rehab(days_in_rehab, assumptions)
st.metric("Retail value of goods not stolen during observed days in rehab",
          f"{gbp(during['low_gbp'])} to {gbp(during['high_gbp'])}")
st.caption(f"{days_in_rehab:,.0f} days in rehab observed for admissions in the period (stays "
           "still going counted to the tracker's as-at date) × the evaluation's theft of "
           f"{gbp(spend / share_high)} to {gbp(spend / share_low)} a person a year, over "
           "365.25 days. Source: days from the tracker; theft rate from the evaluation, §5.7. "
           "Retail value, not a saving to any budget.")

st.subheader("2. Economic and social cost of offences avoided")
windows = data_access.filtered("offending_windows", chosen)
after_label = next(iter(windows.loc[windows["window_order"] == 4, "window"]), None)
referral_label = next(iter(windows.loc[windows["window_order"] == 2, "window"]), None)
before_label = next(iter(windows.loc[windows["window_order"] == 1, "window"]), None)
# Every type the windows of the period's referrals hold an offence of: the offences recorded
# in the period itself (by offence date) left out types seen only before a referral or after
# an exit, and with them their offences avoided.
windows_by_type = data_access.filtered("offending_windows_by_type", chosen)
types = sorted(set(windows_by_type.loc[windows_by_type["offences"] > 0, "offence_type"]))
# Keyed on the file's version: an administrator fills in the unit costs there
# (data/reference/README.md), and the next session offers them.
shipped = data_access.derived(value_lenses.unit_costs_by_type,
                              keyed_on=database.data_version(value_lenses.UNIT_COSTS_FILE))
st.caption(f"Unit costs: {value_lenses.HEEKS}; 2015/16 prices. The dashboard ships the "
           "report's categories but no figure it could not check against the report: enter "
           "each unit cost from the report's table (the file data/reference/"
           "unit_costs_of_crime.csv says which category each offence type maps to).")
costs = {}
for column, offence_type in zip(st.columns(max(1, len(types))), types):
    row = shipped.get(offence_type)
    verified = row is not None and bool(row["is_verified"])
    default = float(row["unit_cost_gbp"]) if verified else 0.0
    value = column.number_input(f"{text.plain(offence_type)} (£, 2015/16)", min_value=0.0,
                                value=default, step=10.0, key=f"unit_cost_{offence_type}",
                                help=(f"{row['heeks_category']}: {row['table_reference']}"
                                      if row is not None else "No category in the shipped file"))
    if value > 0:
        costs[offence_type] = value
deflator_from, deflator_to = st.columns(2)
index_from = deflator_from.number_input("GDP deflator, 2015/16 (HM Treasury index)",
                                        min_value=0.0, value=0.0, key="deflator_from")
index_to = deflator_to.number_input("GDP deflator, the year to price in (same release)",
                                    min_value=0.0, value=0.0, key="deflator_to")
price_uplift = value_lenses.uplift(index_from, index_to)
prices = "the chosen year's prices" if price_uplift == price_uplift else "2015/16 prices"
if after_label is None or referral_label is None or not types:
    st.info("No one who left rehab has been followed up long enough, or there are no Connect "
            "records, so no offences avoided can be estimated yet.")
elif not costs:
    st.info("Enter at least one unit cost above to see this lens. Offences avoided are "
            "estimated below without their cost.")
if after_label is not None and referral_label is not None and types:
    avoided = data_access.derived(value_lenses.offences_avoided_by_type, windows_by_type, types,
                                  after_label, referral_label)
    result = value_lenses.social_cost(
        avoided, costs, price_uplift if price_uplift == price_uplift else 1.0)
    if costs:
        st.metric(f"Cost of offences avoided, at {prices}", gbp(result["total_gbp"])
                  if result["total_gbp"] == result["total_gbp"] else "not available")
    # Streamlit prints a missing number as "None": say why each is missing instead.
    table = result["table"]
    uplifted = price_uplift == price_uplift
    st.dataframe(table.assign(
        net_fall_per_person_year=text.each_or(table["net_fall_per_person_year"],
                                              outcomes.rate_figure, "not measured"),
        person_years_after_exit=text.each_or(table["person_years_after_exit"],
                                             "{:,.1f}".format, "not measured"),
        offences_avoided=text.each_or(table["offences_avoided"], "{:,.1f}".format,
                                      "not measured"),
        unit_cost_gbp=text.each_or(table["unit_cost_gbp"], gbp, "not entered"),
        value_gbp=text.each_or(table["value_gbp"], gbp, "left out")),
        hide_index=True, width="stretch", column_config={
        "offence_type": "Offence type",
        **{column: st.column_config.TextColumn(label, alignment="right") for column, label in (
            ("net_fall_per_person_year", "Net fall a person-year"),
            ("person_years_after_exit", "Person-years after exit"),
            ("offences_avoided", "Offences avoided"),
            ("unit_cost_gbp", "Unit cost (2015/16)"),
            # the value is at the chosen year's prices: say so, or it does not add up
            ("value_gbp", f"Value (× {price_uplift:.3g} price uplift)" if uplifted
             else "Value"))}})
    layout.csv_download(result["table"], "offences_avoided")
    st.caption(f"Offences avoided = (fall in offences a person-year of people who left rehab, "
               f"{before_label} to "
               f"{after_label}) minus (the same fall for the groups not admitted, "
               f"to {referral_label}), × the person-years after exit. Caveats: "
               "police-recorded offences only (most shop theft is never recorded, so this "
               "understates); the comparison groups differ in more than rehab; a negative "
               "figure means the admitted groups fell less. Types with no unit cost are left "
               "out of the total" + (f": {text.plain(', '.join(result['left_out']))}." if
                                     result["left_out"] else ".") +
               f" Uplift: {value_lenses.TREASURY}, entered above"
               + ("" if price_uplift == price_uplift else " (none entered: 2015/16 prices)."))

st.subheader("3. Programme cost and break-even")
course = data_access.filtered("course_to_admission", chosen).iloc[0]
attendees = int(course["attendees"])
admissions = int(stays["admissions"].sum()) if not stays.empty else 0
completions = int(stays.loc[stays["is_completed"], "admissions"].sum()) if not stays.empty \
    else 0
officers_col, placements_col, course_col = st.columns(3)
officers_gbp = officers_col.number_input("O2R officers' cost for the period (£)", min_value=0,
                                         value=0, step=1000, key="cost_officers")
placement_week = placements_col.number_input("Rehab placement cost a week (£)", min_value=0,
                                             value=0, step=50, key="cost_placement_week")
course_each = course_col.number_input("Pre-admission course cost an attendee (£)",
                                      min_value=0, value=0, step=10, key="cost_course_each")
cost = value_lenses.programme_cost(officers_gbp, placement_week, days_in_rehab, course_each,
                                   attendees)
if not cost["total_gbp"]:
    st.info("Enter the programme's costs above (the dashboard has no cost data of its own) to "
            "see the cost per admission, per completion and the break-even point.")
else:
    sustained_days = outcomes.WINDOW_MONTHS[6]
    per = value_lenses.per_outcome(cost["total_gbp"], admissions, completions, assumptions,
                                   sustained_days)
    first, second, third = st.columns(3)
    first.metric("Programme cost for the period", gbp(cost["total_gbp"]))
    second.metric(f"Per admission ({admissions})", gbp(per["per_admission_gbp"])
                  if admissions else "no admissions")
    third.metric(f"Per completion ({completions})", gbp(per["per_completion_gbp"])
                 if completions else "no completions")
    st.metric("Sustained outcomes needed to break even",
              f"{per['break_even_fewest']:,} to {per['break_even_most']:,}")
    st.caption(f"Officers {gbp(cost['officers_gbp'])} + placements "
               f"{gbp(cost['placements_gbp'])} ({days_in_rehab:,.0f} days in rehab) + course "
               f"{gbp(cost['course_gbp'])} ({attendees} attendees). A sustained outcome is a "
               "person with no police-recorded offence in the 6 months after leaving rehab "
               "(the Outcomes page counts them); each is valued at 6 months of the evaluation's "
               f"theft, {gbp(per['outcome_value_low_gbp'])} to "
               f"{gbp(per['outcome_value_high_gbp'])} in retail value, so break-even here is in "
               "retail value, not public money.")
