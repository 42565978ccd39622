"""Methodology: what each measure counts, where the data comes from, and its limits."""

import streamlit as st

from dashboard import layout

st.title("Methodology and definitions")

st.header("Measures")
st.table({"Measure": list(layout.DEFINITIONS), "Definition": list(layout.DEFINITIONS.values())})
st.markdown("""
- **Snapshot**: each tracker upload is kept unchanged with its as-at date. Pages use the latest
  snapshot, so a person's current status is as recorded on that date.
- **Cohort funnel (Overview)**: of the referrals received in the period (by referral date),
  or of the police assessments made in it (by assessment date), how many have got at least as
  far as each later step by the snapshot's as-at date. A step counts once its date, or a later
  step's date, is recorded (contacted: a first contact, assessment or admission date;
  assessed: an assessment or admission date; entered rehab: an admission date; completed 12
  weeks: exit reason Completed). So each step is part of the one before and no share passes
  100%. *Stopped here, case still open* counts people with no later step whose case nothing
  has closed (status Active or Referral/Waiting, no ending outcome, no rehab exit): they may
  yet go further, so a recent cohort's later steps are not final. This replaced, on purpose,
  the earlier "conversion between steps", which divided counts dated by different events and
  could pass 100%; the headline figures above it are unchanged.
- **Rates in the quarterly pack**: *assessed to admitted* is the assessments cohort of the
  quarter (the same definition as the funnel's); *admitted to completed* is of rehab stays
  that ended in the quarter, the share with exit reason Completed.
- **Completed 12 weeks** is the tracker's exit reason *Completed*, as recorded. A Completed
  exit after fewer than 84 days in rehab is still counted as a completion, and is listed on the
  Data page's data-quality list so it can be checked and corrected at source.
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

st.header("The Overview's comparisons")
st.markdown("""
- **Quarters**: the Overview opens on the latest financial quarter that has ended by the
  data's as-at date. A quarter not yet over is marked *incomplete*, is not compared with whole
  quarters and is not rated against targets: its counts are still rising.
- **Previous quarter and a year ago**: each figure is compared with the quarter before and the
  same quarter of the previous financial year, each counted by the step's own event date.
- **Likely range (What changed)**: each quarter's count is treated as a Poisson count over an
  equal length of time. Given the two quarters' total, the later count is then binomial, and
  the exact (Clopper-Pearson) 95% interval for its share p gives an interval for the ratio of
  the two counts, p / (1 - p), shown as a percentage change. When the interval excludes no
  change, the sentence says the change is more than chance alone would explain; when the two
  counts add to fewer than 10, it says they are too few to tell.
- **Targets**: set per quarter by the steering group or an administrator (each change is in
  the access log). Green: at or above the target; amber: at or above the amber share of it
  (80% unless set otherwise); red: below that.
- **Waiting time to first contact**: of referrals first contacted in the quarter, the share
  contacted within 21 days of referral (the programme's reference) and the median days waited.
- **Data freshness**: a warning shows when the latest tracker or Connect upload is more than
  45 days older than today.
- **My work / Caseload health**: from the latest snapshot. *Waiting for first contact*: open
  referrals (not Inactive or Withdrawn, no ending outcome) with no first contact date.
  *Assessed, no course or rehab admission yet*: open, assessed, no pre-admission course and no
  admission, more than 28 days after assessment. *In rehab too long*: admitted, no exit date or
  reason, more than 84 days after admission. *Left rehab, no outcome recorded*: an exit date
  and no outcome. Days are counted to the snapshot's as-at date; the thresholds are settings
  (O2R_CONTACT_REFERENCE_DAYS, O2R_ASSESSED_STALL_DAYS, O2R_REHAB_DAYS). *Open caseload* on
  Officer caseloads: referrals whose status is Referral/Waiting or Active in each snapshot.
""")

st.header("Small numbers and the scrutiny panel")
st.markdown("""
- Steering-group members, administrators and officers (for their own referrals) see exact
  counts. The scrutiny panel sees the quarterly pack only, prepared for circulation: a count
  from 1 to 4 reads **<5**; a count of 5 or more withheld so that a hidden count cannot be
  worked out from the totals, another table or a rate reads **[c]**; a rate resting on a
  withheld count reads **[c]**; **[z]** is not applicable and **[x]** not available.
- Every total and rate is computed from exact counts first, then withheld if it would give a
  hidden count away; nothing shown is added up from hidden cells. Each quarter is protected
  once, so every pack shows a quarter's figures alike. Deaths are never shown below programme
  level. `docs/disclosure.md` in the repository explains the method and its limits.
""")

st.header("Data and its limits")
st.markdown("""
- Figures come from the programme's tracker (one row per referral) and Connect crime records
  uploaded by administrators. Names, dates of birth, addresses, PNC IDs and free-text notes are
  never stored; age is kept only as a band at referral.
- The tracker is kept by hand: a status or outcome is only as current as the last update. The
  Data page lists records with gaps or contradictions.
- Demo data, when shown, is synthetic: made to match the evaluation's published figures
  (Table 1, Figure 3), not taken from real people.
""")
