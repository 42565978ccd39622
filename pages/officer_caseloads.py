"""Officer caseloads: the evaluation's Table 1 (officers by status), and caseload over time."""

import streamlit as st

from dashboard import charts, data_access, filters, layout

chosen = filters.current()
st.title("Officer caseloads")
st.caption("Referrals by assigned officer and current status in the latest snapshot "
           f"(referral date in: {chosen.period.label}).")

caseload = data_access.run("officer_caseload",
                           **chosen.params("from_date", "to_date", "officer", "area"))
if caseload.empty:
    st.info("No referrals match these filters.")
    st.stop()

table = caseload.pivot_table(index="status", columns="officer", values="referrals",
                             aggfunc="sum", fill_value=0)
table = table.reindex([s for s in charts.STATUS_ORDER if s in table.index])
table = table[table.sum().sort_values(ascending=False, kind="stable").index]  # biggest first
table["Overall"] = table.sum(axis=1)
table.loc["Total"] = table.sum()
st.subheader("Referrals by officer (Table 1)")
st.dataframe(table, width="stretch")
layout.csv_download(caseload, "officer_caseload")

st.altair_chart(charts.caseload_by_officer(caseload), width="stretch")

history = data_access.run("caseload_history", **chosen.params("officer", "area"))
if len(history["as_at_date"].unique()) > 1:
    st.altair_chart(charts.caseload_over_time(history), width="stretch")
    layout.csv_download(history, "caseload_history")
