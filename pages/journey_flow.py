"""Journey flow: the client journey of assessed referrals (the evaluation's Figure 3)."""

import streamlit as st

from dashboard import charts, data_access, filters, layout

chosen = filters.current()
st.title("Client journey")
st.caption("Referrals that reached a police assessment, by assessment date "
           f"({chosen.period.label}); entering rehab outranks any later outcome.")

flow = data_access.filtered("journey_flow", chosen)
if flow.empty:
    st.info("No referrals were assessed in this period with these filters.")
    st.stop()

st.echarts_chart(charts.journey_sankey(flow), height=560,
                 alt="Flow diagram of the client journey; the same numbers are in the table below")
st.dataframe(flow.rename(
    columns={"source": "From", "target": "To", "referrals": "Referrals"}),
    hide_index=True, width="stretch")
layout.csv_download(flow, "journey_flow")

placements = data_access.filtered("rehab_placements", chosen)
if not placements.empty:
    st.altair_chart(charts.placements_by_facility(placements), width="stretch")
    layout.csv_download(placements, "rehab_placements")

st.subheader("How long the journey takes")
durations = data_access.filtered("journey_durations", chosen)
st.altair_chart(charts.journey_durations(durations), width="stretch")
st.caption("For referrals assessed in the period. The bar spans the middle half of people "
           "(25th to 75th percentile); the tick is the median.")
layout.csv_download(durations, "journey_durations")

weeks = data_access.filtered("days_in_rehab", chosen)
if weeks.empty:
    st.info("Nobody admitted in this period has left rehab yet.")
else:
    st.altair_chart(charts.weeks_in_rehab(weeks), width="stretch")
    st.caption("For admissions in the period that have ended. Clients describe finishing the "
               "3-week detox as the milestone they aim for; the dashed line marks it.")
    layout.csv_download(weeks, "days_in_rehab")
