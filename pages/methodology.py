"""Methodology: what each measure counts, where the data comes from, and its limits."""

import streamlit as st

from dashboard.analysis import measures
from dashboard.ui import layout

st.title("Methodology and definitions")

st.header("Measures")
layout.fixed_table(measures.definitions)
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
- **Journey flow (the client journey)** opens on every referral received in the period (by
  referral date), followed step by step to the snapshot date: a later step's date counts as
  having passed the earlier ones; a referral that stopped is *waiting* if its case is open,
  *closed* if its status or outcome ended it; someone who entered rehab is *still in rehab*
  (no exit date), has *completed 12 weeks* (exit reason Completed) or *left rehab early* (any
  other exit reason). Its second view is the 2022 evaluation's Figure 3: referrals that
  reached a police (WMP) assessment in the period, by assessment date, where entering
  residential rehab outranks any outcome and, after an early discharge, the outcome is shown
  as recorded.
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
  45 days older than today (on the synthetic demo data, whose dates are fixed, a caption).
- **My work / Caseload health**: from the latest snapshot. *Waiting for first contact*: open
  referrals (not Inactive or Withdrawn, no ending outcome) with no first contact date.
  *Assessed, no course or rehab admission yet*: open, assessed, no pre-admission course and no
  admission, more than 28 days after assessment. *In rehab too long*: admitted, no exit date or
  reason, more than 84 days after admission. *Left rehab, no outcome recorded*: an exit date
  and no outcome. Days are counted to the snapshot's as-at date; the thresholds are settings
  (O2R_CONTACT_REFERENCE_DAYS, O2R_ASSESSED_STALL_DAYS, O2R_REHAB_DAYS). *Open caseload* on
  Officer caseloads: referrals whose status is Referral/Waiting or Active in each snapshot.
""")

st.header("The quarterly pack's figures")
st.caption("Each headline figure of the quarterly pack, as the pack defines it, and how it is "
           "protected in a pack for circulation (the threshold is 5 unless set otherwise).")
layout.fixed_table(measures.table, index="Measure")

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

st.subheader("Outcomes: offending, retention and the course")
st.markdown("""
- **What the offending figures are**: crimes recorded in Connect against the person's nominal
  ID (*police-recorded offending*), not convictions and not proven reoffending; only offences
  that were reported and recorded. There is no randomised control group, and people are
  referred near a peak of their offending, so a fall afterwards is expected without any
  programme (regression to the mean). The groups not admitted to rehab are the comparison.
- **Outcome groups**, by each referral's journey in the latest tracker snapshot: *Completed
  12 weeks* (admitted, exit reason Completed); *Left rehab early* (admitted, any other exit
  reason); *In rehab* (admitted, no exit yet); *Assessed, not admitted* (a police assessment
  date, no admission); *Referred, not assessed*. A person referred twice counts once per
  referral.
- **Windows** (dates inclusive; the length is chosen on the Outcomes page, the defaults are
  shown): *12 months before referral*: referral date − 365 days to the day before referral;
  *6 months after referral* (every group, the comparison's "after"): the referral date to
  referral + 181 days; *during rehab*: admission to exit date (for people still in rehab, to
  the tracker's as-at date); *6 months after rehab exit*: the day after exit to exit + 182
  days. Months are 3 = 91, 6 = 182, 12 = 365 and 24 = 730 days.
- **Follow-up (censoring) rule for windows**: a window is counted only when it ends on or
  before the as-at date of the latest Connect upload. People whose window has not ended are
  left out of that window and shown as *not yet followed up*; they are never counted as having
  no offences. Offences in a window are counted whatever their type.
- **Rates** are offences per person-year (window days ÷ 365.25), with exact (Garwood, Poisson)
  95% intervals. The **after/before rate ratio** divides a window's rate by the same people's
  rate in the window before referral; its 95% interval is the exact conditional one (the
  after count given the total is binomial; Clopper-Pearson). **Value stolen** is the sum of
  Connect's value stolen in the window, as recorded.
- **Net of the comparison**: the fall in rate (before referral to after rehab exit) of people
  who left rehab, minus the fall (before referral to after referral) of the groups not
  admitted. An indication only: the groups differ in more than rehab.
- **Retention in rehab**: Kaplan-Meier estimate (as `scipy.stats.ecdf` of `CensoredData`) of
  days from admission to exit, for admissions in the period; stays still going are censored at
  the tracker snapshot's as-at date. 95% band: log-log. *Still in rehab at 21, 42, 84 days* is
  the estimated share that stayed at least that many days; *still followed* is how many were
  still in rehab and observed at that day.
- **Time to first offence after exit**: Kaplan-Meier of days from rehab exit to the first
  Connect offence after the exit date; people with none are censored at the latest Connect
  upload's as-at date; exits on or after that date are left out.
- **Retained 12 weeks or completed** (aligned with NDTMS's retention measure, not identical):
  of admissions that have ended or have run 84 days, the share that stayed at least 84 days or
  left with exit reason Completed; 95% Wilson interval. Stays under 84 days still going are not
  yet counted.
- **Six months without a recorded offence after leaving rehab** (this programme's own measure,
  aligned with NDTMS's "successful completion without re-presentation" but not the same): of
  people who left rehab and have been followed up for the whole window after exit, the share
  with no Connect offence in it; 95% Wilson interval.
- **Pre-admission course**: attendees by course start date; *admitted after the course* has an
  admission date on or after the course start; days from course start to admission as
  quartiles; retention compared for admissions with and without the course (the course began in
  January 2022, so the two groups were admitted at different times).
- **In the quarterly pack**: *Outcomes after rehab* counts the people who left rehab in the
  quarter (by exit date; completions plus early discharges), those followed up for the whole
  6 months after exit, and of those, with and without a police-recorded offence; *Retention*
  counts the quarter's admissions that stayed 84 days or completed, left before 84 days, or are
  still in rehab under 84 days. For circulation they are protected with the rest of the
  quarter's figures.
- **Value lenses (Cost savings page)**, never added together: the evaluation's retail value
  of goods not stolen; goods not stolen *during rehab* (observed days in rehab × the
  evaluation's £38,000 to £57,000 a person a year, over 365.25 days); the *economic and social
  cost of offences avoided* (for each offence type, the net fall in offences a person-year of
  people who left rehab beyond the comparison groups' fall, × their person-years after exit, ×
  the Home Office unit cost of that type of crime from Heeks et al. (2018), 2015/16 prices,
  uplifted by the ratio of HM Treasury GDP deflators; the figures are entered on the page, as
  the dashboard ships none it could not verify); and the *programme cost* from its inputs, per
  admission and per completion, with the number of 6-month sustained outcomes (each valued at
  6 months of the evaluation's theft) that would equal it.
""")
