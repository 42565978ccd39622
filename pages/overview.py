"""Overview: headline figures for the period, each against the period before, and how far
the period's referrals have got."""

import streamlit as st

from dashboard import charts, data_access, filters, funnel, layout, stats, text

chosen = filters.current()
st.title("Offender to Rehab: programme overview")
st.caption(f"Showing: {text.plain(chosen.describe())}")

now = data_access.filtered("headline_figures", chosen)
previous_period = chosen.period.previous()
before = None
if previous_period is not None:
    before = data_access.filtered("headline_figures", chosen, from_date=previous_period.start,
                                  to_date=previous_period.end)

columns = st.columns(len(now))
for column, row in zip(columns, now.itertuples(index=False), strict=True):
    delta = None
    if before is not None and row.step != "Active caseload":
        prior = before.loc[before["step"] == row.step, "referrals"].iloc[0]
        delta = int(row.referrals - prior)
    column.metric(row.step, f"{row.referrals:,}", delta=delta, help=layout.DEFINITIONS[row.step])
if previous_period is not None:
    st.caption(f"Changes are against {previous_period.label} "
               f"({previous_period.start:%d/%m/%Y} to {previous_period.end:%d/%m/%Y}).")
layout.csv_download(now, "headline_figures")

st.subheader("How far have the period's referrals got?")
cohort = st.radio("Cohort", ["referrals", "assessments"], horizontal=True, key="overview_cohort",
                  format_func={"referrals": "Referrals received in the period",
                               "assessments": "Police assessments in the period"}.get)
rows = data_access.filtered("cohort_funnel", chosen, cohort=cohort)
table = funnel.funnel_table(rows)
if table.empty or not table["cohort_size"].iloc[0]:
    st.info(f"No {cohort} in this period with these filters.")
else:
    st.altair_chart(charts.cohort_funnel(table), width="stretch")
    st.dataframe(table.assign(
        of_cohort=[stats.describe_rate(r.reached, r.cohort_size) for r in table.itertuples()],
        of_previous=[stats.describe_rate(r.reached, r.previous) for r in table.itertuples()],
    )[["step", "reached", "in_progress", "of_cohort", "of_previous"]].rename(columns={
        "step": "Step", "reached": "Got at least this far",
        "in_progress": "Stopped here, case still open", "of_cohort": "Share of the cohort",
        "of_previous": "Share of the step before"}), hide_index=True, width="stretch")
    st.caption("Each person in the cohort is followed to the data's as-at date: a step counts "
               "once its date (or a later step's) is recorded, so no share can pass 100%. "
               "People whose case is still open may yet go further, so a recent cohort's "
               "later steps are not final. Definitions are on the Methodology page.")
    layout.csv_download(rows, "cohort_funnel")
