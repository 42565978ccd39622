"""Referral sources: where referrals come from, and which routes lead to rehab."""

import streamlit as st

from dashboard.analysis import stats
from dashboard.security import data_access
from dashboard.ui import charts, filters, layout, text

chosen = filters.current()
st.title("Referral sources")
st.caption(f"Referrals by referral date ({text.plain(chosen.describe())}).")

sources = layout.stop_if_empty(data_access.filtered("referral_sources", chosen))

totals = sources.groupby("referral_source", as_index=False)["referrals"].sum()
left, right = st.columns(2)
with left:
    layout.chart(charts.count_bars, totals, "referral_source", "Referrals by source",
                 "Referral source")
    layout.csv_download(sources, "referral_sources")
with right:
    names = list(totals.sort_values("referrals", ascending=False)["referral_source"])
    picked = st.selectbox("Drill down into a source", names, key="source_drill")
    detail = sources[sources["referral_source"] == picked]
    layout.chart(charts.count_bars, detail, "referral_source_detail",
                 f"{picked}: which team, retailer or route", "Detail")

quarters = data_access.filtered("referrals_by_quarter", chosen)
layout.chart(charts.referrals_by_quarter, quarters)
layout.csv_download(quarters, "referrals_by_quarter")

st.header("How far each route's referrals get")
st.caption("Of the referrals from each source in the period: how many have been assessed, "
           "entered rehab, and completed 12 weeks by the snapshot date. Rates carry a 95% "
           "Wilson interval; a triangle marks a base under 10 referrals, where the rate says "
           "little.")
progress = data_access.filtered("referral_source_progress", chosen)
measure = st.radio("Rate to compare", ["Entered rehab", "Assessed", "Completed 12 weeks"],
                   horizontal=True, key="source_rate")
column = {"Entered rehab": "entered_rehab", "Assessed": "assessed",
          "Completed 12 weeks": "completed"}[measure]
RATE_TITLES = {"Entered rehab": "that entered rehab", "Assessed": "that were assessed",
               "Completed 12 weeks": "that completed 12 weeks"}
rates = data_access.derived(stats.with_rates, progress.assign(base=progress["referrals"]),
                            column, "referrals", "rate")
layout.chart(charts.rate_with_interval, rates, "referral_source", "rate", "Referral source",
             f"Share of each source's referrals {RATE_TITLES[measure]}", "Referrals")
st.dataframe(progress.rename(columns={
    "referral_source": "Referral source", "referrals": "Referrals", "assessed": "Assessed",
    "entered_rehab": "Entered rehab", "completed": "Completed 12 weeks"}),
    hide_index=True, width="stretch")
if rates["small_base"].any():
    st.caption("Note: " + ", ".join(rates.loc[rates["small_base"], "referral_source"])
               + " had fewer than 10 referrals in the period.")
layout.csv_download(progress, "referral_source_progress")
