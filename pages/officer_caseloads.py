"""Officer caseloads: the evaluation's Table 1 (officers by status), and caseload over time."""

import pandas as pd
import streamlit as st

from dashboard import access, charts, data_access, filters, layout

chosen = filters.current()
st.title("Officer caseloads")
st.caption("Referrals by assigned officer and current status in the latest snapshot "
           f"(referral date in: {chosen.period.label}).")

caseload = data_access.filtered("officer_caseload", chosen)
if caseload.empty:
    st.info("No referrals match these filters.")
    st.stop()

table = caseload.pivot(index="status", columns="officer", values="referrals")
table = table.reindex([s for s in charts.STATUS_ORDER if s in table.index])
table = table[table.sum().sort_values(ascending=False, kind="stable").index]  # biggest first
present = caseload.set_index(["status", "officer"])["referrals"].notna().unstack()
suppressed = table.isna() & present.reindex_like(table).notna()
table = table.where(table.notna() | suppressed, 0)  # a combination nobody has is a true 0
# Totals are left out where they include a suppressed cell: they would give it away.
table["Overall"] = table.sum(axis=1, skipna=False)
table.loc["Total"] = table.sum(axis=0, skipna=False)
st.subheader("Referrals by officer (Table 1)")
if suppressed.to_numpy().any():
    display = table.map(access.format_count)
    display["Overall"] = table["Overall"].map(lambda v: "withheld" if pd.isna(v)
                                              else f"{int(v):,}")
    display.loc["Total"] = table.loc["Total"].map(lambda v: "withheld" if pd.isna(v)
                                                  else f"{int(v):,}")
    st.dataframe(display, width="stretch")
    st.caption("Counts of 1 to 4 are shown as <5; totals that would reveal them are withheld.")
else:
    st.dataframe(table.astype(int), width="stretch")
layout.csv_download(caseload, "officer_caseload")

st.altair_chart(charts.caseload_by_officer(caseload), width="stretch")

history = data_access.filtered("caseload_history", chosen)
if len(history["as_at_date"].unique()) > 1:
    st.altair_chart(charts.caseload_over_time(history), width="stretch")
    layout.csv_download(history, "caseload_history")
