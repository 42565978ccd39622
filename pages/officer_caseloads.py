"""Officer caseloads: the evaluation's Table 1 (officers by status), and caseload over time."""

import streamlit as st

from dashboard.analysis import caseload
from dashboard.security import data_access
from dashboard.ui import charts, filters, layout, text

chosen = filters.current()
st.title("Officer caseloads")
st.caption("Referrals by assigned officer and current status in the latest snapshot "
           f"(referral date in: {text.plain(chosen.describe())}).")

rows = layout.stop_if_empty(data_access.filtered("officer_caseload", chosen))

st.header("Referrals by officer (Table 1)")
table = caseload.table_one(rows).T.rename(columns={caseload.TOTAL: "Overall"})
table.index.name = "Status"  # a screen reader announces the row headers' column by it
st.dataframe(table, width="stretch")
layout.csv_download(rows, "officer_caseload")

layout.chart(charts.caseload_by_officer, rows)

history = data_access.filtered("caseload_history", chosen)
if len(history["as_at_date"].unique()) > 1:
    layout.chart(charts.caseload_over_time, history)
    latest = history[history["as_at_date"] == history["as_at_date"].max()]
    st.caption("Open caseload means referrals still waiting or active, whatever their referral "
               "date: unlike the table above, this chart is not limited by the Period filter. "
               "At the latest snapshot "
               f"({latest['as_at_date'].max():%d/%m/%Y}): " + "; ".join(
                   f"{text.plain(row.officer)}: {row.open_referrals:,}"
                   for row in latest.sort_values("open_referrals", ascending=False)
                   .itertuples()) + ".")
    layout.csv_download(history, "caseload_history")
