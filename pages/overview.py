"""Overview: what data the dashboard holds and the caseload by officer (Table 1)."""

import streamlit as st

from dashboard import data_access

snapshots = data_access.run("snapshots")
st.title("Offender to Rehab: programme dashboard")
if snapshots.empty:
    st.info("No tracker data has been uploaded yet.")
    st.stop()
latest = snapshots.iloc[0]
if bool(snapshots["is_demo"].all()):
    st.warning("Demo data: every figure here comes from SYNTHETIC records, not real people.",
               icon="⚠️")
st.caption(f"Data as at {latest['as_at_date']:%d/%m/%Y} (tracker snapshot "
           f"{latest['snapshot_id']}, {latest['referrals']} referrals).")

caseload = data_access.run("officer_caseload")
st.subheader("Referrals by officer and status")
table = caseload.pivot_table(index="status", columns="officer", values="referrals",
                             aggfunc="sum", fill_value=0, margins=True, margins_name="Total")
st.dataframe(table, width="stretch")
st.subheader("Snapshots held")
st.dataframe(snapshots, hide_index=True, width="stretch")
