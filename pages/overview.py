"""Overview at a glance: a quarter's headline figures against the quarter before and the same
quarter a year ago, with trends, targets, waiting time, data freshness and what changed; then
how far the quarter's referrals have got."""

import datetime as dt

import streamlit as st

from dashboard import service
from dashboard.analysis import funnel, glance, measures, periods, targets
from dashboard.security import data_access
from dashboard.security.security_file import security_db_path
from dashboard.ui import charts, filters, layout, text

RAG_WORDS = {"green": "🟢 target met", "amber": "🟠 close to target",
             "red": "🔴 below target"}

chosen = filters.current()
viewer = data_access.current_viewer()
st.title("Offender to Rehab: at a glance")

snapshots = data_access.run("snapshots")
in_force = snapshots[~snapshots["is_withdrawn"]]
options = data_access.run("filter_options")
if in_force.empty or not (options["field"] == "first_referral_date").any():
    st.info("Every tracker snapshot has been withdrawn, so there are no referrals to show: an "
            "administrator can upload a new one on the Data page." if len(snapshots) and
            in_force.empty else
            "No referrals to show yet: an administrator can upload a tracker on the Data page.")
    st.stop()
as_at = in_force["as_at_date"].iloc[0].date()
first = dt.date.fromisoformat(options.loc[options["field"] == "first_referral_date",
                                          "value"].iloc[0])

# This page compares whole quarters, so it has its own quarter choice: a quarter picked in the
# Period filter, else the latest quarter that is over.
choices = glance.quarter_choices(min(first, as_at), as_at)
labels = [q.label if glance.is_complete(q, as_at) else f"{q.label} (incomplete)"
          for q in choices]
default = next((i for i, q in enumerate(choices) if q.label == chosen.period.label),
               glance.default_choice(choices, as_at))
if st.session_state.get("overview_follows") != chosen.period.label:
    # A new quarter picked in the Period filter moves this choice too; other periods do not.
    st.session_state["overview_follows"] = chosen.period.label
    if any(q.label == chosen.period.label for q in choices):
        st.session_state["overview_quarter"] = labels[default]
if st.session_state.get("overview_quarter") not in labels:
    # The choice is set through the session state alone (Streamlit warns when a widget is
    # given a default as well): first here, or after new data relabels the quarters.
    st.session_state["overview_quarter"] = labels[default]
picked = st.selectbox("Quarter", labels, key="overview_quarter",
                      help="UK financial-year quarters (Q1 = April to June)")
quarter = choices[labels.index(picked)]
previous, last_year = periods.shift_quarter(quarter, -1), periods.shift_quarter(quarter, -4)
complete = glance.is_complete(quarter, as_at)


def before_data(other: periods.Period) -> bool:
    return other.end < choices[-1].start  # choices are newest first


compared = complete and not before_data(previous)
others = text.plain(chosen.describe()).split("; ")[1:]
st.caption(f"{quarter.label}: {quarter.start:%d/%m/%Y} to {quarter.end:%d/%m/%Y}"
           + (f"; {'; '.join(others)}" if others else "")
           + ". The Officer, Offending area and Referral source filters apply; of the Period "
             "filter, only a quarter is followed here.")
if not complete:
    st.warning(f"**{quarter.label} is not over**: the data runs to {as_at:%d/%m/%Y}, so its "
               "figures are a part-quarter and will rise. It is not rated against targets.")

for source in data_access.derived(glance.freshness, data_access.run("data_freshness"),
                                  dt.date.today()):
    if source["as_at"] is None:
        st.warning(f"No {source['name']} data has been uploaded.")
    elif source["stale"] and data_access.demo_only():
        # The synthetic data's dates are fixed: "old" says nothing about what anyone uploaded.
        st.caption(f"{source['name']} demo data as at {source['as_at']:%d/%m/%Y}. On real data, "
                   f"one more than {glance.STALE_AFTER_DAYS} days old is warned of here.")
    elif source["stale"]:
        st.warning(f"**{source['name']} data is {source['age_days']:,} days old** (as at "
                   f"{source['as_at']:%d/%m/%Y}): more than {glance.STALE_AFTER_DAYS} days. "
                   "Recent activity is missing until a newer export is uploaded.")
    else:
        st.caption(f"{source['name']} data as at {source['as_at']:%d/%m/%Y} "
                   f"({source['age_days']:,} days old).")

by_quarter = data_access.run("quarterly_headlines", officer=chosen.officer, area=chosen.area,
                             referral_source=chosen.referral_source)
figures = data_access.derived(glance.headlines, by_quarter, quarter)
# The trend starts where the data does: a quarter before it would read as a count of none.
trend_labels = tuple(q.label for back in range(glance.TREND_QUARTERS - 1, -1, -1)
                     if not before_data(q := periods.shift_quarter(quarter, -back)))
trends = data_access.derived(glance.trend_frames, figures, trend_labels)
trend_named = (f"Last {len(trend_labels)} quarters" if len(trend_labels) == glance.TREND_QUARTERS
               else f"Since the data began ({trend_labels[0]})")
set_targets = targets.current(security_db_path())
# Targets are the programme's: a part of it (an officer's own caseload, one area, one source)
# is not rated against them, or a fair share would read "below target".
whole_programme = viewer.role != "officer" and not (
    chosen.officer or chosen.area or chosen.referral_source)
st.header(f"Headline figures, {quarter.label}")
with st.container(horizontal=True):
    for figure, trend in zip(figures, trends, strict=True):
        target = set_targets.get(figure.step)
        status = glance.rag(figure.value, target.quarterly_target if target else None,
                            target.amber_share if target else 0, complete and whole_programme)
        with st.container(border=True, width=250):
            # A part quarter's fall on a whole one is missing data, and a rise on a quarter
            # before the data began is no rise: no delta for either.
            st.metric(figure.step, f"{figure.value:,}",
                      delta=figure.value - figure.previous if compared else None,
                      delta_description=f"on {previous.label}" if compared else None,
                      help=measures.DASHBOARD_DEFINITIONS[figure.step])
            layout.chart(charts.trend_sparkline, trend, figure.step)
            lines = ([] if complete or before_data(previous) else [
                f"{previous.label}: {figure.previous:,} (whole quarter; not compared)"]) + [
                     f"{last_year.label}: " + ("before the data" if before_data(last_year)
                                               else f"{figure.last_year:,}"),
                     f"{trend_named}: " + ", ".join(
                         f"{n:,}" for n in figure.trend[-len(trend_labels):])]
            if target and not whole_programme:
                lines.append(f"Programme target {target.quarterly_target:,} a quarter (for "
                             "the whole programme: not rated here)")
            elif target:
                lines.append(f"Target {target.quarterly_target:,} a quarter"
                             + (f": {RAG_WORDS[status]}" if status else " (not rated yet)"))
            st.caption("  \n".join(lines))

st.header("What changed")
if before_data(previous):
    st.markdown(f"{quarter.label} is the first quarter in the data: there is no earlier "
                "quarter to compare it with.")
elif complete:
    st.markdown("\n".join(
        f"- {glance.change_sentence(f.step, f.value, f.previous, quarter.label, previous.label)}"
        for f in figures))
    st.caption("The likely range allows for the chance variation any count has from quarter "
               "to quarter; how it is worked out is on the Methodology page.")
else:
    st.markdown(f"{quarter.label} is not over, so it is not compared with whole quarters here: "
                f"choose {glance.latest_complete(as_at).label} for the latest full comparison.")
layout.csv_download(by_quarter, "quarterly_headlines")

st.header("Waiting time to first contact")
wait = data_access.derived(glance.contact_wait, data_access.run(
    "first_contact_wait", officer=chosen.officer, area=chosen.area,
    referral_source=chosen.referral_source), quarter)
if wait is None:
    st.info(f"Nobody was first contacted in {quarter.label} with these filters.")
else:
    st.markdown(
        f"Of the **{wait['contacted']:,}** "
        f"{'referral' if wait['contacted'] == 1 else 'referrals'} first contacted in "
        f"{quarter.label}, "
        f"**{wait['within_reference']:,}** "
        f"({wait['within_reference'] / wait['contacted']:.0%}) were contacted within the "
        f"{wait['reference']}-day reference; half waited **{wait['median_days']:.0f} days** or "
        "less.")
    if viewer.role != "scrutiny":
        st.caption("Referrals still waiting, longest first, are on "
                   + ("My work." if viewer.role == "officer" else "Caseload health."))

if viewer.role in targets.SETTERS and viewer.is_demo:
    st.caption(service.DEMO_TARGETS)
elif viewer.role in targets.SETTERS:
    if "target_saved" in st.session_state:
        st.success(st.session_state.pop("target_saved"))
    with st.expander("Set the quarterly targets"):
        with st.form("targets"):
            measure = st.selectbox("Figure", glance.STEPS, key="target_measure")
            value = st.number_input("Target per quarter (0 clears it)", min_value=0, step=1,
                                    key="target_value")
            amber = st.slider("Amber from this share of the target", 0.5, 1.0,
                              targets.DEFAULT_AMBER_SHARE, 0.05, key="target_amber")
            if st.form_submit_button("Save the target"):
                service.set_target(viewer, measure, int(value) or None, amber)
                st.session_state["target_saved"] = (
                    f"Saved: {measure} " + (f"target {int(value):,} a quarter"
                                            if value else "target cleared") + ".")
                st.rerun()  # the figures above were drawn with the old targets


st.header(f"How far have {quarter.label}'s referrals got?")
cohort = st.radio("Cohort", ["referrals", "assessments"], horizontal=True, key="overview_cohort",
                  format_func={"referrals": "Referrals received in the quarter",
                               "assessments": "Police assessments in the quarter"}.get)
rows = data_access.filtered("cohort_funnel", chosen, cohort=cohort, from_date=quarter.start,
                            to_date=quarter.end)
table = data_access.derived(funnel.funnel_table, rows)
if table.empty or not table["cohort_size"].iloc[0]:
    st.info(f"No {cohort} in {quarter.label} with these filters.")
else:
    layout.chart(charts.cohort_funnel, table)
    st.dataframe(data_access.derived(funnel.shown_table, table), hide_index=True,
                 width="stretch")
    st.caption("Each person in the cohort is followed to the data's as-at date: a step counts "
               "once its date (or a later step's) is recorded, so no share can pass 100%. "
               "People whose case is still open may yet go further, so a recent cohort's "
               "later steps are not final. Definitions are on the Methodology page.")
    layout.csv_download(rows, "cohort_funnel")
