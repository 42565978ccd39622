"""Cost savings: the evaluation's estimate of goods not stolen from shops, every input editable."""

from fractions import Fraction

import streamlit as st

from dashboard import cost_model, data_access, filters, layout

DEFAULTS = cost_model.Assumptions()
SOURCES, CITATIONS = cost_model.SOURCES, cost_model.CITATIONS
# Fractions, so a third stays exactly a third and the defaults reproduce the evaluation.
SHARES = sorted({Fraction(k, 20) for k in range(1, 21)} | {Fraction(1, 3), Fraction(2, 3)})
PEOPLE_BASES = {
    "scenario": "A scenario number",
    "n_completions": "Completions of 12 weeks a year (from the data)",
    "n_rehab_entrants": "Rehab entrants a year (from the data)",
}

st.title("Cost savings: goods not stolen from shops")
st.caption("The 2022 process evaluation's model (section 5.7): each person rehabilitated stops "
           "stealing enough to fund their drug use. Every input below can be changed; its "
           "source is under it and in the help (?) beside it.")
st.info("**What this figure is, and is not.** It is the retail value of goods *not stolen "
        "from shops*: a saving to retailers, not cash saved by West Midlands Police or any "
        "budget. It leaves out police time, court costs, prison and community sentences, "
        "and the harm to victims and communities. It assumes each person counted would "
        "otherwise have funded all their drug use by shop theft.", icon="ℹ️")

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
result = cost_model.goods_not_stolen(assumptions)
gbp = cost_model.gbp

st.subheader("Goods not stolen from shops")
# Two columns, not more: a range in whole pounds is too wide to fit a narrower metric.
for column, row in zip(st.columns(2), result.head(2).itertuples()):
    column.metric(f"Year {row.year} ({cost_model.people_label(row.people_counted)} people)",
                  f"{gbp(row.low_gbp)} to {gbp(row.high_gbp)}")
    if row.year == 2:
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
    st.altair_chart(cost_model.goods_not_stolen_chart(result), width="stretch")
