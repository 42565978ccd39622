"""Offending areas: where referrals offend, and whether City Centre referrals reach rehab."""

import pandas as pd
import streamlit as st

from dashboard.analysis import stats
from dashboard.security import data_access
from dashboard.ui import charts, filters, layout, text

chosen = filters.current()
st.title("Offending areas")
st.caption(f"Primary offending area recorded on the tracker ({text.plain(chosen.describe())}).")

areas = layout.stop_if_empty(data_access.filtered("offending_areas", chosen))
layout.chart(charts.count_bars, areas, "offending_area", "Referrals by primary offending area",
             "Offending area")
layout.csv_download(areas, "offending_areas")

st.header("Do City Centre referrals reach rehab less often?")
st.caption("Referrals assessed in the period (by assessment date) and the share that entered "
           "residential rehab, with 95% Wilson intervals. The 2022 evaluation found city-centre "
           "referrals progress less well than those from the neighbourhoods.")
progress = data_access.filtered("area_progress", chosen)
if progress.empty:
    st.info("No referrals were assessed in this period with these filters.")
else:
    comparison, by_area, both = data_access.derived(stats.area_progress_rates, progress)
    if chosen.area:
        # One area chosen: "all other areas" would be that area alone, under the wrong name.
        st.info("The City Centre comparison needs every area: clear the Offending area filter "
                "to see it. The chosen area's own rate is below.")
        comparison, both = comparison.iloc[0:0], by_area
    elif comparison.empty:
        st.info("No referral assessed in this period has an offending area recorded.")
    columns = st.columns(len(comparison)) if len(comparison) else []
    # Rows as dicts: itertuples built a named tuple class on every rerun.
    for column, row in zip(columns, comparison.to_dict("records"), strict=True):
        column.metric(f"{row['group']}: entered rehab",
                      "not shown" if pd.isna(row["rate"]) else f"{row['rate']:.0%}",
                      help="Share of assessed referrals that entered residential rehab")
        column.caption(f"{row['entered_rehab']:,} of {row['assessed']:,} assessed; 95% "
                       f"interval {stats.interval_text(row['rate_low'], row['rate_high'])}"
                       + (" (base under 10: treat with caution)" if row["small_base"] else ""))
    layout.chart(charts.rate_with_interval, both, "offending_area", "rate", "Offending area",
                 "Share of assessed referrals entering rehab, by area", "Assessed",
                 first=(stats.CITY_CENTRE_GROUPS[False],))
    layout.csv_download(by_area, "area_progress")

offences = data_access.filtered("offences_by_area", chosen)
st.header("Recorded offences (Connect)")
if offences.empty:
    st.info("No Connect crime records match these filters.")
else:
    st.caption("Crime records linked to people on the tracker, by offence date and area.")
    layout.chart(charts.offences_heatmap, offences)
    layout.csv_download(offences, "offences_by_area")
