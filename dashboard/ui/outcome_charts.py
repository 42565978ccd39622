"""Chart builders for the Outcomes page: offence rates before and after, with their intervals,
and retention curves. Plain functions of a small frame, like charts.py, and like it giving
channel options as keyword arguments, not Altair's slower chained methods."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.ui.charts import CATEGORY_COLOURS

GROUP_ORDER = ["Completed 12 weeks", "Left rehab early", "In rehab", "Assessed, not admitted",
               "Referred, not assessed"]


def offending_rates(frame: pd.DataFrame) -> alt.Chart:
    """A dot per outcome group and window at its offences per person-year, with the exact 95%
    Poisson interval as a line; frame from outcomes.with_rates (rows with follow-up only)."""
    windows = list(dict.fromkeys(frame.sort_values("window_order")["window"]))
    colours = CATEGORY_COLOURS[:len(windows)]
    groups = [g for g in GROUP_ORDER if g in set(frame["outcome_group"])]
    # The data is the layer's, not each mark's (why: charts.py's opening comment).
    base = alt.Chart().encode(
        alt.Y("outcome_group:N", title=None, sort=groups, axis=alt.Axis(labelLimit=220)),
        alt.YOffset("window:N", sort=windows),
        alt.Color("window:N", title="Window", sort=windows,
                  scale=alt.Scale(domain=windows, range=colours),
                  legend=alt.Legend(orient="bottom", columns=2)))
    tooltip = [alt.Tooltip("outcome_group:N", title="Group"),
               alt.Tooltip("window:N", title="Window"),
               alt.Tooltip("referrals:Q", title="People followed up", format=","),
               alt.Tooltip("offences:Q", title="Offences", format=","),
               alt.Tooltip("person_years:Q", title="Person-years", format=",.1f"),
               alt.Tooltip("rate:Q", title="Offences a person-year", format=".2f"),
               alt.Tooltip("rate_low:Q", title="95% interval from", format=".2f"),
               alt.Tooltip("rate_high:Q", title="95% interval to", format=".2f")]
    interval = base.mark_rule(strokeWidth=2).encode(
        alt.X("rate_low:Q", title="Police-recorded offences a person-year (dot), "
                                  "exact 95% interval (line)"),
        alt.X2("rate_high:Q"), tooltip=tooltip)
    dots = base.mark_point(size=80, filled=True, opacity=1).encode(
        alt.X("rate:Q"), tooltip=tooltip)
    return alt.layer(
        interval, dots, data=frame,
        title="Recorded offences a person-year, before and after, by outcome group",
        height=alt.Step(14),
        description="Dot chart: for each outcome group and window, police-recorded offences "
        "a person-year as a dot with its exact 95% interval as a line; the same figures are "
        "in the table below the chart.")


def survival_curves(frame: pd.DataFrame, title: str, x_title: str, y_title: str,
                    marks: tuple[int, ...] = ()) -> alt.Chart:
    """Kaplan-Meier step curves, one per group, each with its 95% band; dashed rules at
    `marks` days; frame from outcomes.curves (day, survival, low, high, at_risk, group)."""
    groups = list(dict.fromkeys(frame["group"]))
    colour = alt.Color("group:N", title=None, sort=groups,
                       scale=alt.Scale(domain=groups, range=CATEGORY_COLOURS[:len(groups)]),
                       legend=alt.Legend(orient="bottom"))
    tooltip = [alt.Tooltip("group:N", title="Group"),
               alt.Tooltip("day:Q", title="Day", format=".0f"),
               alt.Tooltip("survival:Q", title="Share", format=".0%"),
               alt.Tooltip("low:Q", title="95% band from", format=".0%"),
               alt.Tooltip("high:Q", title="95% band to", format=".0%"),
               alt.Tooltip("at_risk:Q", title="Still followed")]
    base = alt.Chart(frame).encode(
        alt.X("day:Q", title=x_title, scale=alt.Scale(zero=True)), colour)
    band = base.mark_area(interpolate="step-after", opacity=0.18).encode(
        alt.Y("low:Q"), alt.Y2("high:Q"))
    line = base.mark_line(interpolate="step-after", strokeWidth=2).encode(
        alt.Y("survival:Q", title=y_title, axis=alt.Axis(format="%"),
              scale=alt.Scale(domain=[0, 1])),
        tooltip=tooltip)
    layers = [band, line]
    if marks:
        rules = alt.Chart(pd.DataFrame({"day": list(marks)})).mark_rule(
            strokeDash=[4, 4], color="#555555").encode(alt.X("day:Q"))
        layers.append(rules)
    return alt.layer(
        *layers, title=title, height=360,
        description=f"Step chart: {y_title.lower()} against {x_title.lower()}, one line per "
        "group with its 95% band shaded; the shares at the marked days are in the table "
        "below the chart.")
