"""Overview: headline figures for the period, each against the period before."""

import pandas as pd
import streamlit as st

from dashboard import access, data_access, filters, layout, stats, text

chosen = filters.current()
st.title("Offender to Rehab: programme overview")
st.caption(f"Showing: {text.plain(chosen.describe())}")

now = data_access.filtered("headline_figures", chosen)
previous_period = chosen.period.previous()
before = None
if previous_period is not None:
    before = data_access.filtered("headline_figures", chosen, from_date=previous_period.start,
                                  to_date=previous_period.end)

columns = st.columns(len(now))
for column, row in zip(columns, now.itertuples(index=False), strict=True):
    delta = None
    if before is not None and row.step != "Active caseload":
        prior = before.loc[before["step"] == row.step, "referrals"].iloc[0]
        if not (pd.isna(prior) or pd.isna(row.referrals)):
            delta = int(row.referrals - prior)
    column.metric(row.step, access.format_count(row.referrals), delta=delta,
                  help=layout.DEFINITIONS[row.step])
if previous_period is not None:
    st.caption(f"Changes are against {previous_period.label} "
               f"({previous_period.start:%d/%m/%Y} to {previous_period.end:%d/%m/%Y}).")

st.subheader("Conversion between steps")
steps = now[now["step"] != "Active caseload"].reset_index(drop=True)
pairs = pd.DataFrame({"From": steps["step"].iloc[:-1].to_numpy(),
                      "To": steps["step"].iloc[1:].to_numpy(),
                      "base": steps["referrals"].iloc[:-1].to_numpy(),
                      "reached": steps["referrals"].iloc[1:].to_numpy()})
rates = stats.with_rates(pairs, "reached", "base", "rate")
st.dataframe(pd.DataFrame({
    "From": rates["From"], "To": rates["To"], "From count": rates["base"],
    "To count": rates["reached"],
    "Conversion": [stats.describe_rate(r.reached, r.base) for r in rates.itertuples()],
}), hide_index=True, width="stretch")
st.caption("Each step is counted by its own event date, so in a short period a later step can "
           "include people whose earlier step fell before it: read conversions over a year or "
           "more.")
layout.csv_download(now, "headline_figures")
