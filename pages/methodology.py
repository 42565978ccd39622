"""Methodology: what each measure counts, where the data comes from, and its limits."""

import streamlit as st

from dashboard import layout

st.title("Methodology and definitions")

st.subheader("Measures")
st.table({"Measure": list(layout.DEFINITIONS), "Definition": list(layout.DEFINITIONS.values())})
st.markdown("""
- **Snapshot**: each tracker upload is kept unchanged with its as-at date. Pages use the latest
  snapshot, so a person's current status is as recorded on that date.
- **Period**: quick picks are UK financial years (1 April to 31 March) and their quarters
  (Q1 = April to June). Each measure is counted by its own event date, as stated beside it.
- **Client journey**: referrals that reached a police (WMP) assessment in the period, by
  assessment date. Entering residential rehab outranks any outcome; a person who entered rehab
  is *in rehab* (no exit date), *completed 12 weeks* (exit reason Completed) or *discharged
  early* (any other exit reason). After an early discharge their outcome is shown as recorded.
- **Progression to rehab by area or source**: of the referrals assessed (or referred) in the
  period, the share that has entered rehab by the snapshot date.
- **Rates on small numbers** carry a 95% Wilson score interval, which stays within 0-100% and
  behaves with small bases. A base under 10 is marked: such rates say little on their own.
- **Cost savings**: the 2022 evaluation's retail-theft model; its inputs and their sources are
  on the Cost savings page. It estimates goods not stolen, not cash saved by the force.
""")

st.subheader("Data and its limits")
st.markdown("""
- Figures come from the programme's tracker (one row per referral) and Connect crime records
  uploaded by administrators. Names, dates of birth, addresses, PNC IDs and free-text notes are
  never stored; age is kept only as a band at referral.
- The tracker is kept by hand: a status or outcome is only as current as the last update. The
  Data page lists records with gaps or contradictions.
- Demo data, when shown, is synthetic: made to match the evaluation's published figures
  (Table 1, Figure 3), not taken from real people.
""")
