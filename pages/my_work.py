"""My work: an officer's referrals waiting too long, oldest first (person-level; logged);
steering and admins see the same by officer as a caseload-health table."""

import streamlit as st

from dashboard.analysis import work
from dashboard.security import data_access
from dashboard.ui import charts, filters, layout, text

chosen = filters.current()
viewer = data_access.current_viewer()
own = viewer.role == "officer"
st.title("My work" if own else "Caseload health")
st.caption(("Your referrals" if own else "Each officer's referrals")
           + " in the latest tracker snapshot that are waiting for something, oldest first. "
           "The Period filter does not apply here (work is outstanding whenever the referral "
           "was made); the Officer, Offending area and Referral source filters do. Each view "
           "of these lists is recorded in the access log.")

# The Officer, Offending area and Referral source filters apply to the lists and the caseload
# alike, so each officer's row of the health table counts the same referrals throughout.
# Read inside the worked-out lists, not here: the page shows only what they make of the rows.
# Each list's threshold is a setting, bound into the query: a change there reads it again.
items = data_access.query("my_work", chosen, **work.thresholds())
problems = data_access.query("data_quality", chosen)
reference = work.contact_reference()
shown = data_access.derived(work.outstanding, items, problems, by_officer=not own,
                            keyed_on=(reference,))

if not own:
    st.header("By officer")
    history = data_access.filtered("caseload_history", chosen)
    latest = history[history["as_at_date"] == history["as_at_date"].max()] \
        if not history.empty else history
    health = data_access.derived(work.health_table, shown.tallies, latest, keyed_on=(reference,))
    if health.empty:
        st.info("No referrals match these filters.")
    else:
        st.dataframe(health, hide_index=True, width="stretch")
        st.caption(f"Open caseload: referrals whose status is Referral/Waiting or Active. The "
                   "lists count every referral not closed by its status (Inactive, Withdrawn) "
                   "or outcome, so one whose status is not recorded is listed (and is a "
                   "data-quality problem) but is not in the open caseload. \"Waiting over "
                   f"{reference} days\" uses the programme's {reference}-day reference for first "
                   "contact. How the caseload has changed is on Officer caseloads.")
        layout.csv_download(health, "caseload_health")
    bands = shown.bands
    if not bands.empty:
        st.header("How long the waiting lists have waited")
        layout.chart(charts.waiting_age_bands, bands)
        # Shortest wait first, as the chart's legend: grouped in the order the bands first
        # appeared, the first officer's bands came before every other's.
        summary = bands.groupby(["band_order", "age_band"])["referrals"].sum()
        st.caption("Referrals waiting for first contact: " + "; ".join(
            f"{band.lower()} {count:,}" for (_, band), count in summary.items()) + ".")

# A short list, not metric cards: on a phone it fits on one screen, in reading order.
lines = [f"- **{count:,}** {title[0].lower() + title[1:]}"
         for title, count in shown.counts.items()]
if shown.longest:
    longest_days, longest_id = shown.longest
    lines[0] += (f": {shown.waiting_over:,} over the {reference}-day reference; the longest has "
                 f"waited **{longest_days:,} days** ({text.plain(longest_id)})")
st.markdown("\n".join(lines))

lists = shown.lists
for work_list in work.WORK_LISTS:
    rows = lists[work_list.key]
    st.header(f"{work_list.title} ({rows.num_rows:,})")
    st.caption(work_list.explanation())
    if not rows.num_rows:
        st.markdown("Nothing on this list.")
        continue
    rows = layout.in_blocks(rows, f"my_work_rows_{work_list.key}", "longest wait first")
    layout.person_table(rows, hide_index=True, width="stretch", column_config={
        "nominal_id": "Nominal ID", "officer": "Officer",
        "days_waiting": st.column_config.NumberColumn("Days", format="%d"),
        "waiting_since": st.column_config.DateColumn(work_list.since.capitalize(),
                                                     format="DD/MM/YYYY"),
        "referral_date": st.column_config.DateColumn("Referred", format="DD/MM/YYYY"),
        "status": "Status"})

problems_shown = shown.problems
st.header(f"Data-quality problems ({problems_shown.num_rows:,})")
st.caption("Rows the tracker should correct; fix them there and the next upload clears them.")
if not problems_shown.num_rows:
    st.markdown("None found.")
else:
    problem_rows = layout.in_blocks(problems_shown, "my_work_rows_problems",
                                    "by problem, then oldest referral")
    layout.person_table(problem_rows, hide_index=True, width="stretch",
                        column_config={"nominal_id": "Nominal ID", "officer": "Officer",
                                       "issue": "Problem", "detail": "Detail"})
if shown.due.num_rows or problems_shown.num_rows:
    layout.csv_download(shown.download, "my_work")
