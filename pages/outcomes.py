"""Outcomes: police-recorded offending before and after, retention in rehab, the course."""

import math

import streamlit as st

from dashboard.analysis import cost_model, outcomes, stats
from dashboard.security import data_access
from dashboard.ui import filters, layout, outcome_charts, text

chosen = filters.current()
st.title("Outcomes: offending before and after")
st.warning(
    "**Police-recorded offending in Connect, not proven reoffending.** These are crimes "
    "recorded against the person's nominal ID, not convictions, and only offences that were "
    "reported and recorded. There is no randomised control group. People are usually referred "
    "near a peak of their offending, so their recorded offending would be expected to fall "
    "afterwards even without the programme (regression to the mean). The groups not admitted "
    "to rehab are shown beside the admitted ones as the comparison: the programme's effect is, "
    "at most, the difference between the two falls, not the fall itself.",
    icon=":material/warning:")

st.header("Offending before and after")
MONTHS = list(outcomes.WINDOW_MONTHS)
left, middle, right = st.columns(3)
before_months = left.selectbox("Window before referral (months)", MONTHS, index=2,
                               key="outcomes_before_months")
after_exit_months = middle.selectbox("Window after rehab exit (months)", MONTHS, index=1,
                                     key="outcomes_after_exit_months")
after_referral_months = right.selectbox(
    "Window after referral, for every group (months)", MONTHS, index=1,
    key="outcomes_after_referral_months")
lengths = {"before_days": outcomes.WINDOW_MONTHS[before_months],
           "after_exit_days": outcomes.WINDOW_MONTHS[after_exit_months],
           "after_referral_days": outcomes.WINDOW_MONTHS[after_referral_months]}
st.caption(f"Referrals received in the period ({text.plain(chosen.describe())}), grouped by "
           "how far each got by the tracker's as-at date. A window counts only once the latest "
           "Connect upload covers all of it; people not yet followed up that long are left out "
           "(never counted as no offences) and shown as 'not yet followed up'. A month is "
           "counted as 30.4 days (12 months = 365 days).")

windows = layout.stop_if_empty(data_access.filtered("offending_windows", chosen, **lengths))
has_follow_up = bool(windows["referrals"].sum())
if not has_follow_up:
    st.info("No Connect crime records cover these referrals yet, so no offending window can "
            "be counted. An administrator can upload a Connect export on the Data page.")

rated, after_label = None, None
if has_follow_up:
    rated = data_access.derived(outcomes.with_rates, windows)
    after_label = rated.loc[rated["window_order"] == 4, "window"].iloc[0] \
        if (rated["window_order"] == 4).any() else None
    referral_label = rated.loc[rated["window_order"] == 2, "window"].iloc[0]

    cards = [(g, after_label) for g in outcomes.EXITED_GROUPS] + \
        [(g, referral_label) for g in outcomes.COMPARISON_GROUPS]
    # The measure once, above the cards: in each card's label it cut the group's name short.
    st.markdown("**Recorded offences after ÷ before**, a person-year each (under 1: fewer "
                "after)")
    for column, (group, window) in zip(st.columns(len(cards)), cards):
        row = rated[(rated["outcome_group"] == group) & (rated["window"] == window)]
        if row.empty or not row["referrals"].iloc[0]:
            column.metric(group, "no one yet",
                          help="No one in this group has been followed up for the whole window")
            continue
        row = row.iloc[0]
        column.metric(group, "no offences either side"
                      if math.isnan(row.rate_ratio) else "none before"
                      if math.isinf(row.rate_ratio)
                      else f"{row.rate_ratio:.2f}",
                      help="Offences a person-year in the window after, divided by the same "
                           "people's offences a person-year before referral")
        column.caption(f"{window}; {row.referrals:,} people; 95% CI "
                       f"{outcomes.ratio_interval_text(row.rate_ratio_low, row.rate_ratio_high)}"
                       + ("; under 10 people: treat with caution" if row.small_base else ""))

    followed = rated[rated["referrals"] > 0]
    layout.chart(outcome_charts.offending_rates, followed)
    st.caption("A ratio under 1 means fewer recorded offences a person-year after than before. "
               "Intervals are exact (Poisson for rates; conditional binomial for ratios). £ value "
               "stolen is as recorded in Connect (blank for offences with no property taken).")
    # Streamlit prints a missing number as "None": each says why it is missing instead. The
    # window before referral is its own "before", and an offence may have no value recorded.
    table = rated.assign(
        rate_text=[outcomes.rate_text(r, lo, hi) for r, lo, hi in
                   zip(rated["rate"], rated["rate_low"], rated["rate_high"])],
        ratio_text=[outcomes.ratio_text(r, lo, hi) for r, lo, hi in
                    zip(rated["rate_ratio"], rated["rate_ratio_low"], rated["rate_ratio_high"])],
        value_stolen_gbp=text.each_or(rated["value_stolen_gbp"], cost_model.gbp,
                                      "none recorded"),
        baseline_offences=text.each_or(rated["baseline_offences"],
                                       lambda n: f"{int(n):,}", "this window"),
        baseline_value_stolen_gbp=text.each_or(rated["baseline_value_stolen_gbp"],
                                               cost_model.gbp, "this window"),
    )
    st.dataframe(table, hide_index=True, width="stretch", column_order=[
        "outcome_group", "window", "referrals", "person_years", "offences", "rate_text",
        "value_stolen_gbp", "baseline_offences", "baseline_value_stolen_gbp", "ratio_text",
        "referrals_not_followed_up"], column_config={
        "outcome_group": "Group", "window": "Window", "referrals": "Referrals followed up",
        "person_years": st.column_config.NumberColumn("Person-years", format="%.1f"),
        "offences": "Offences", "rate_text": "Offences a person-year",
        **{column: st.column_config.TextColumn(label, alignment="right") for column, label in (
            ("value_stolen_gbp", "Value stolen"),
            ("baseline_offences", "Same people: offences before referral"),
            ("baseline_value_stolen_gbp", "Same people: value stolen before"))},
        "ratio_text": "After/before rate ratio (95% CI)",
        "referrals_not_followed_up": "Not yet followed up"})
    layout.csv_download(rated, "offending_windows")

    net = (data_access.derived(outcomes.net_change, rated, after_label, referral_label)
           if after_label else None)
    if net and net["admitted_people"] and net["comparison_people"]:
        figure = outcomes.rate_figure
        st.markdown(
            f"**Net of the comparison.** People who left rehab went from "
            f"{figure(net['admitted_before'])} to {figure(net['admitted_after'])} recorded "
            f"offences a person-year "
            f"({text.counted(net['admitted_people'], 'person', 'people')}); the groups not "
            f"admitted went from {figure(net['comparison_before'])} to "
            f"{figure(net['comparison_after'])} "
            f"({text.counted(net['comparison_people'], 'person', 'people')}). "
            "The fall beyond the comparison's is "
            f"{figure(net['net_fall'])} offences a person-year"
            + (" (negative: their offending fell less, or rose more, than the comparison's)"
               if net["net_fall"] < 0 else "")
            + ". The groups differ in more than rehab "
            "(motivation, need, timing), so this is an indication, not a measured effect.")

st.header("Staying in rehab")
split = st.radio("Show the curve", ["none", "rehab_facility", "pre_admission_course"],
                 format_func={"none": "For everyone", "rehab_facility": "By facility",
                              "pre_admission_course": "By pre-admission course"}.get,
                 horizontal=True, key="retention_split")
stays = data_access.filtered("rehab_stays", chosen)
if stays.empty:
    st.info("No rehab admission is dated in this period with these filters (this part goes "
            "by admission date; the offending table above, by referral date).")
else:
    by = None if split == "none" else split
    overall = data_access.derived(outcomes.retention_table, stays, None)
    layout.chart(outcome_charts.survival_curves, data_access.derived(outcomes.curves, stays, by),
                 outcomes.retention_headline(overall), "Days since admission", "Still in rehab",
                 outcomes.RETENTION_DAYS)
    st.caption("Kaplan-Meier estimate of the share still in rehab each day "
               "after admission, for admissions in the period, with its 95% band (log-log). "
               "People still in rehab are censored at the tracker's as-at date: they count as "
               "staying until then and no further. Dashed lines: 21 days (end of the detox), "
               "42 and 84 days (12 weeks).")
    retention = data_access.derived(outcomes.retention_table, stays, by)
    st.dataframe(data_access.derived(outcomes.retention_display, retention), hide_index=True,
                 width="stretch")
    layout.csv_download(retention, "retention")
    measure = outcomes.retained_or_completed(stays)
    st.metric("Retained 12 weeks or completed (NDTMS-aligned)",
              "no base" if not measure["base"] else f"{measure['share']:.0%}",
              help="Of admissions that have ended or passed 84 days: the share that stayed at "
                   "least 84 days or left with exit reason Completed")
    if measure["base"]:
        st.caption(f"{measure['met']} of {measure['base']} admissions; 95% Wilson interval "
                   f"{stats.interval_text(measure['low'], measure['high'])}; "
                   f"{measure['not_yet']} still in rehab under 84 days are not counted yet."
                   + (" Base under 10: treat with caution." if measure["base"] < 10 else ""))

st.header("Six months without a recorded offence after leaving rehab")
sustained = (data_access.derived(outcomes.sustained_table, rated, after_label)
             if rated is not None else None)
if sustained is None or sustained.empty:
    st.info("No one who left rehab has been followed up for the whole window yet.")
else:
    st.dataframe(sustained, hide_index=True, width="stretch")
    st.caption("This programme's own measure, aligned with NDTMS's 'successful completion "
               "without re-presentation' but not the same: people who left rehab and have been "
               "followed up for the whole window after exit, and the share with no "
               "police-recorded offence in it, with a 95% Wilson interval.")

times = data_access.filtered("time_to_first_offence", chosen)
if not times.empty:
    layout.chart(outcome_charts.survival_curves,
                 data_access.derived(outcomes.curves, times, "outcome_group", "days",
                                     "has_offended", "referrals"),
                 outcomes.first_offence_headline(times), "Days since leaving rehab",
                 "No recorded offence yet")
    st.caption("Kaplan-Meier estimate of the time from rehab exit (in the period) to the first "
               "police-recorded offence. People with none yet are censored at the latest "
               "Connect upload's as-at date.")
    layout.csv_download(times, "time_to_first_offence")

st.header("The pre-admission course")
course = data_access.filtered("course_to_admission", chosen).iloc[0]
attendees, admitted = int(course["attendees"]), int(course["admitted_after_course"])
if not attendees:
    st.info("No one started the pre-admission course in this period with these filters.")
else:
    st.metric("Course attendees then admitted to rehab",
              f"{admitted} of {attendees}")
    st.caption(f"{stats.describe_rate(admitted, attendees)} "
               "(by course start date in the period)."
               + (f" Days from course start to admission: median "
                  f"{course['days_to_admission_median']:.0f} (middle half "
                  f"{course['days_to_admission_p25']:.0f} to "
                  f"{course['days_to_admission_p75']:.0f})."
                  if admitted else ""))
    if not stays.empty:
        by_course = data_access.derived(outcomes.retention_table, stays,
                                        "pre_admission_course")
        st.dataframe(data_access.derived(outcomes.retention_display, by_course), hide_index=True,
                     width="stretch")
        st.caption("Retention of admissions with and without the course (admissions in the "
                   "period). The course began in January 2022, so the two groups were admitted "
                   "at different times; small numbers: read the intervals.")
