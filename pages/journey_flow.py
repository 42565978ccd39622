"""Journey flow: from referral (contacted, assessed, into rehab and out), or from police
assessment (the evaluation's Figure 3)."""

import streamlit as st

from dashboard.security import data_access
from dashboard.ui import charts, filters, layout, sankey

VIEWS = {
    "referrals": ("From referral: every referral received in the period",
                  "referral_journey", "referral date"),
    "assessments": ("From police assessment: the 2022 evaluation's Figure 3",
                    "journey_flow", "assessment date"),
}
# What each node's count is, where its name alone does not say.
NODE_LABELS = {
    "referrals": {"Referrals": "Referred in the period", "Contacted": "First contacted",
                  "Assessed": "Police assessed", "Entered rehab": "Entered rehab"},
    "assessments": {"Referrals": "Assessed in the period"},
}

chosen = filters.current()
st.title("Journey flow: the client journey")
view = st.radio("Start the journey at", list(VIEWS), horizontal=True, key="journey_view",
                format_func=lambda key: VIEWS[key][0])
title, query, dated_by = VIEWS[view]
st.caption(f"Referrals by {dated_by} ({chosen.period.label}), followed to the snapshot date. "
           + ("A later step's date counts as having passed the earlier ones; a referral that "
              "stopped is *waiting* if its case is open, *closed* if its status or outcome "
              "ended it." if view == "referrals" else
              "Entering rehab outranks any later outcome."))

flow = data_access.filtered(query, chosen)
if flow.empty:
    st.info("No referrals were " + ("received" if view == "referrals" else "assessed")
            + " in this period with these filters.")
    st.stop()

st.echarts_chart(sankey.journey_sankey(flow, NODE_LABELS[view]), height=560,
                 alt="Flow diagram of the client journey; the same numbers are in the table "
                 "below")
if view == "referrals":
    referred = int(flow.loc[flow["source"] == "Referrals", "referrals"].sum())
    steps = {target: int(n) for source, target, n in flow.itertuples(index=False)
             if target in ("Contacted", "Assessed", "Entered rehab", "Completed 12 weeks")}
    st.markdown(f"Of **{referred:,}** referred: " + ", ".join(
        f"**{steps.get(step, 0):,}** {step.lower()}"
        for step in ("Contacted", "Assessed", "Entered rehab", "Completed 12 weeks")) + ".")
st.dataframe(flow.rename(
    columns={"source": "From", "target": "To", "referrals": "Referrals"}),
    hide_index=True, width="stretch")
layout.csv_download(flow, query)

placements = data_access.filtered("rehab_placements", chosen)
if not placements.empty:
    layout.chart(charts.placements_by_facility, placements)
    st.caption("Referrals received in the period (by referral date) that have been admitted "
               "to rehab, by facility, whenever they were admitted.")
    layout.csv_download(placements, "rehab_placements")

st.header("How long the journey takes")
durations = data_access.filtered("journey_durations", chosen)
if durations.empty:
    # Said by which date: the flow above can show people assessed who were referred in the
    # period and assessed after it.
    st.info("No police assessment is dated in this period with these filters (this part goes "
            "by assessment date), so there is no time between steps to show.")
else:
    layout.chart(charts.journey_durations, durations)
    st.caption("For referrals assessed in the period. The bar spans the middle half of people "
               "(25th to 75th percentile); the tick is the median.")
    layout.csv_download(durations, "journey_durations")

weeks = data_access.filtered("days_in_rehab", chosen)
if weeks.empty:
    st.info("Nobody admitted to rehab in this period (by admission date) has left rehab yet.")
else:
    layout.chart(charts.weeks_in_rehab, weeks)
    st.caption("For admissions in the period that have ended. Clients describe finishing the "
               "3-week detox as the milestone they aim for; the dashed line marks it.")
    layout.csv_download(weeks, "days_in_rehab")
