"""Journey flow: the client journey of assessed referrals (the evaluation's Figure 3)."""

import streamlit as st

from dashboard import charts, data_access, filters, layout

chosen = filters.current()
st.title("Client journey")
st.caption("Referrals that reached a police assessment, by assessment date "
           f"({chosen.period.label}); entering rehab outranks any later outcome.")

flow = data_access.run("journey_flow", **chosen.params("from_date", "to_date", "officer", "area"))
if flow.empty:
    st.info("No referrals were assessed in this period with these filters.")
    st.stop()

st.echarts_chart(charts.journey_sankey(flow), height=560,
                 alt="Flow diagram of the client journey; the same numbers are in the table below")
st.dataframe(flow.rename(columns={"source": "From", "target": "To", "referrals": "Referrals"}),
             hide_index=True, width="stretch")
layout.csv_download(flow, "journey_flow")

placements = data_access.run("rehab_placements",
                             **chosen.params("from_date", "to_date", "officer", "area"))
if not placements.empty:
    st.altair_chart(charts.placements_by_facility(placements), width="stretch")
    layout.csv_download(placements, "rehab_placements")
