"""Chart builders: each takes a small frame and returns a chart spec; no Streamlit here."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.analysis.periods import quarter_containing, shift_quarter

# Altair checks each option object (alt.Axis, alt.Scale, alt.MarkDef...) against the Vega-Lite
# schema as it is made, then the whole chart again when it is drawn. The second check covers
# every object the first did (the first only points a traceback at the line that made a bad
# one) and stays: every chart is still checked whole before it is sent. The first was about
# half of all the checking a page's charts did. Process-wide, so set where charts are built:
# here (outcome_charts and the pack's charts import this module) and in cost_model.
alt.utils.schemapi.disable_debug_mode()

# Channel options are keyword arguments (alt.X("a:N", title=..., axis=alt.Axis(...))), not
# Altair's chained methods (alt.X("a:N").title(...).axis(...)): Altair builds each chained
# method's docstring and signature whenever it is looked up, about 1 ms a call, and a chart
# of several channels spent a fifth to a third of its building there. The spec is the same
# (its keys in another order). For the same reason layered charts take their frame on the
# layer (alt.layer(a, b, data=frame)), not on each mark: moving it up there itself, Altair
# copies every mark and hashes each by printing it, frame included. They take their title,
# height and description there too, not from .properties(): Altair makes a layered chart
# again for each such copy, deep-copying every layer twice (about 1.5 ms a chart).

# Okabe-Ito's hues (distinguishable with the common forms of colour blindness), each darkened
# where needed to reach 3:1 contrast against the white background (WCAG 1.4.11): the original
# orange, sky blue and yellow are at 1.3 to 2.3:1, too faint to see for many readers.
OKABE_ITO = ["#0072B2", "#9E6A00", "#007A5A", "#B0508A", "#3A88C0", "#D55E00", "#6A3D9A",
             "#000000"]
# For categories coloured in turn: the darkened sky blue (index 4) is near the first blue, so
# it comes last, and up to seven categories (the referral sources: Custody and Probation were
# two near-identical blues) never share a blue; purple before vermillion, which is near the
# brown as a thin line (five officers' caseload lines).
CATEGORY_COLOURS = [OKABE_ITO[i] for i in (0, 1, 2, 3, 6, 5, 7, 4)]
GREY = "#767676"
UK_DATE = "%d/%m/%Y"


def date_axis(dates) -> alt.Axis:
    """A time axis ticked at exactly the given dates (whole days, dd/mm/yyyy): Vega's own
    ticks can fall at noon or repeat the same day's label when there are few dates."""
    days = sorted({pd.Timestamp(d).date() for d in dates})
    return alt.Axis(format=UK_DATE, labelAngle=-40, values=[
        alt.DateTime(year=d.year, month=d.month, date=d.day) for d in days])


STATUS_ORDER = ["Referral/Waiting", "Active", "Inactive", "Withdrawn", "Not recorded"]
# One colour per status whichever statuses a filter leaves (taken in turn from the palette,
# "Active" changed colour when no one was waiting), and grey for a status not recorded: the
# palette's fifth colour is a lighter blue, read as Referral/Waiting's.
STATUS_COLOURS = dict(zip(STATUS_ORDER, [OKABE_ITO[0], OKABE_ITO[2], OKABE_ITO[1],
                                         OKABE_ITO[5], GREY], strict=True))


def caseload_by_officer(frame: pd.DataFrame) -> alt.Chart:
    """Stacked bars: each officer's referrals split by current status."""
    statuses = [s for s in STATUS_ORDER if s in set(frame["status"])]
    # Largest caseload first, as a list: Vega-Lite drops a "-y" sort where the bars and their
    # totals share the axis, and the officers fell back into alphabetical order.
    totals = frame.groupby("officer", sort=False)["referrals"].sum()
    order = sorted(totals.index, key=lambda officer: (-totals[officer], officer))
    base = alt.Chart().encode(
        alt.X("officer:N", title="Officer", sort=order),
        alt.Y("sum(referrals):Q", title="Referrals", axis=alt.Axis(tickMinStep=1, format=",d")),
    )
    bars = base.mark_bar().encode(
        alt.Color("status:N", title="Status", sort=statuses,
                  scale=alt.Scale(domain=statuses,
                                  range=[STATUS_COLOURS[status] for status in statuses])),
        alt.Order("status_rank:Q"),
        tooltip=[alt.Tooltip("officer:N", title="Officer"),
                 alt.Tooltip("status:N", title="Status"),
                 alt.Tooltip("referrals:Q", title="Referrals", format=",")],
    ).transform_calculate(status_rank=f"indexof({statuses!r}, datum.status)")
    totals = base.mark_text(dy=-8, fontWeight="bold").encode(text=alt.Text("sum(referrals):Q"))
    return alt.layer(
        bars, totals, data=frame,
        title="Referrals by officer and current status", height=440,
        description="Stacked bar chart: each officer's referrals split by current status, "
        "with the total above each bar.")


# Line patterns for a ninth officer on (the palette has eight colours): each officer gets a
# colour and pattern no other officer has.
DASHES = [[1, 0], [6, 3], [2, 2], [10, 3, 2, 3], [1, 4], [14, 4], [4, 2, 1, 2], [8, 2, 2, 2, 2, 2]]


def caseload_over_time(frame: pd.DataFrame) -> alt.Chart:
    """Lines: each officer's open caseload (referrals not yet closed) at each snapshot's as-at
    date; frame from caseload_history. Past eight officers, colours repeat and line patterns
    tell them apart."""
    officers = sorted(frame["officer"].dropna().unique().tolist())
    colours = [CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)] for i in range(len(officers))]
    dashes = [DASHES[i // len(CATEGORY_COLOURS) % len(DASHES)] for i in range(len(officers))]
    return alt.Chart(frame).mark_line(point=True).encode(
        alt.X("as_at_date:T", title="Snapshot as at", axis=date_axis(frame["as_at_date"])),
        alt.Y("open_referrals:Q", title="Open referrals (waiting or active)",
              axis=alt.Axis(tickMinStep=1, format=",d")),
        # The legend draws each officer's line as it is, pattern and all (not a dot).
        alt.Color("officer:N", title="Officer", scale=alt.Scale(domain=officers, range=colours),
                  legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=2, symbolSize=300)),
        alt.StrokeDash("officer:N", title="Officer",
                       scale=alt.Scale(domain=officers, range=dashes)),
        tooltip=[alt.Tooltip("as_at_date:T", title="As at", format=UK_DATE),
                 alt.Tooltip("officer:N", title="Officer"),
                 alt.Tooltip("open_referrals:Q", title="Open referrals")],
    ).properties(title="Open caseload per officer at each snapshot", height=380,
                 description="Line chart: each officer's open referrals (status waiting or "
                 "active) at each tracker snapshot.")


def placements_by_facility(frame: pd.DataFrame) -> alt.Chart:
    """Bars: rehab admissions by facility, with direct counts."""
    base = alt.Chart().encode(
        alt.Y("rehab_facility:N", title="Rehab facility", sort="-x"),
        alt.X("referrals:Q", title="Admissions", axis=alt.Axis(tickMinStep=1, format="d")),
    )
    return alt.layer(
        base.mark_bar(color=OKABE_ITO[0]).encode(
            tooltip=[alt.Tooltip("rehab_facility:N", title="Facility"),
                     alt.Tooltip("referrals:Q", title="Admissions")]),
        base.mark_text(align="left", dx=4).encode(text="referrals:Q"), data=frame,
        title="Rehab placements by facility", height=alt.Step(32),
        description="Bar chart: admissions to residential rehab by facility, each bar labelled "
        "with its count.")


def count_bars(frame: pd.DataFrame, category: str, title: str, axis_title: str,
               count: str = "referrals", count_title: str = "Referrals") -> alt.Chart:
    """Horizontal bars, largest first, each with its count at the end."""
    base = alt.Chart().encode(
        alt.Y(f"{category}:N", title=axis_title, sort="-x", axis=alt.Axis(labelLimit=240)),
        alt.X(f"{count}:Q", title=count_title, axis=alt.Axis(tickMinStep=1, format=",d")),
    )
    bars = base.mark_bar(color=OKABE_ITO[0]).encode(
        tooltip=[alt.Tooltip(f"{category}:N", title=axis_title),
                 alt.Tooltip(f"{count}:Q", title=count_title, format=",")])
    labels = base.mark_text(align="left", dx=4).encode(text=alt.Text(f"{count}:Q", format=","))
    return alt.layer(
        bars, labels, data=frame,
        title=title, height=alt.Step(28),
        description=f"Bar chart: {count_title.lower()} by {axis_title.lower()}, largest first, "
        "each bar labelled with its count.")


def referrals_by_quarter(frame: pd.DataFrame) -> alt.Chart:
    """Stacked bars: referrals per financial-year quarter, split by source."""
    # The order is given as a list: sorting by the quarter_start field left the order to the
    # browser's Vega-Lite (which put 2022/23 Q2 before Q1). It is the axis's domain too, so a
    # quarter with no referrals between two with some keeps its place, empty, and is not
    # dropped from the axis (the bars either side of it read as consecutive quarters).
    quarters = _every_quarter(frame["quarter_start"])
    return alt.Chart(frame).mark_bar().encode(
        alt.X("quarter:O", title="Financial-year quarter (Q1 = April to June)", sort=quarters,
              scale=alt.Scale(domain=quarters), axis=alt.Axis(labelAngle=0)),
        alt.Y("sum(referrals):Q", title="Referrals", axis=alt.Axis(tickMinStep=1, format=",d")),
        # Vega cuts legend labels at 160 px: "Neighbourhood policing team" lost its last word.
        alt.Color("referral_source:N", title="Referral source",
                  scale=alt.Scale(range=CATEGORY_COLOURS), legend=alt.Legend(labelLimit=260)),
        tooltip=[alt.Tooltip("quarter:O", title="Quarter"),
                 alt.Tooltip("referral_source:N", title="Source"),
                 alt.Tooltip("referrals:Q", title="Referrals")],
    ).properties(title="Referrals per quarter by source", height=420,
                 description="Stacked bar chart: referrals in each financial-year quarter, "
                 "oldest first, split by referral source.")


def _every_quarter(starts: pd.Series) -> list[str]:
    """The label of every financial quarter from the earliest of the dates to the latest."""
    if starts.empty:
        return []
    quarter = quarter_containing(pd.Timestamp(starts.min()).date())
    last = quarter_containing(pd.Timestamp(starts.max()).date())
    labels = [quarter.label]
    while quarter != last:
        quarter = shift_quarter(quarter, 1)
        labels.append(quarter.label)
    return labels


BASE_SIZES = {False: "10 or more", True: "Fewer than 10 (less certain)"}


def rate_with_interval(frame: pd.DataFrame, category: str, rate: str, axis_title: str,
                       title: str, base_title: str, first: tuple[str, ...] = ()) -> alt.Chart:
    """A dot per group at its rate, with a 95% Wilson interval; hollow when the base is < 10.
    The groups run from the highest rate, after any named in `first` (a total of the others,
    which sorted among them read as one more group)."""
    # A legend in words, not "Base under 10: false / true".
    frame = frame.assign(base_size=frame["small_base"].map(BASE_SIZES))
    by_rate = frame.sort_values(rate, ascending=False, kind="stable")[category].drop_duplicates()
    order = [c for c in first if c in set(by_rate)] + [c for c in by_rate if c not in first]
    base = alt.Chart().encode(
        alt.Y(f"{category}:N", title=axis_title, sort=order, axis=alt.Axis(labelLimit=240)))
    tooltip = [alt.Tooltip(f"{category}:N", title=axis_title),
               alt.Tooltip(f"{rate}:Q", title="Rate", format=".0%"),
               alt.Tooltip(f"{rate}_low:Q", title="95% interval from", format=".0%"),
               alt.Tooltip(f"{rate}_high:Q", title="95% interval to", format=".0%"),
               alt.Tooltip("base:Q", title=base_title)]
    interval = base.mark_rule(strokeWidth=2, color=GREY).encode(
        alt.X(f"{rate}_low:Q", title="Rate (dot) with 95% interval (line)",
              axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        alt.X2(f"{rate}_high:Q"), tooltip=tooltip)
    dots = base.mark_point(size=90, filled=True, color=OKABE_ITO[5]).encode(
        alt.X(f"{rate}:Q"),
        alt.Shape("base_size:N", title="How many people",
                  scale=alt.Scale(domain=list(BASE_SIZES.values()), range=["circle", "triangle"]),
                  legend=alt.Legend(labelLimit=260)),
        tooltip=tooltip)
    return alt.layer(
        interval, dots, data=frame,
        title=title, height=alt.Step(30),
        description=f"Dot chart: {title}. Each dot is a group's rate; its line is the likely "
        "range (95% interval); a triangle marks a group of fewer than 10 people.")


def offences_heatmap(frame: pd.DataFrame) -> alt.Chart:
    """Grid: recorded offences by area and offence type, with counts in the cells; the areas
    and types with most offences first."""
    # Sorting by "-color" compiled only for the cell layer: the text layer has no colour field,
    # and Vega-Lite failed on the whole chart, so the order is given as lists.
    def busiest(field: str) -> list[str]:
        return list(frame.groupby(field)["offences"].sum().sort_values(
            ascending=False, kind="stable").index)

    base = alt.Chart().encode(
        alt.X("offence_type:N", title="Offence type", sort=busiest("offence_type"),
              axis=alt.Axis(labelAngle=-30, labelLimit=160)),
        alt.Y("offence_area:N", title="Offence area", sort=busiest("offence_area")),
    )
    cells = base.mark_rect().encode(
        # whole numbers: with one value in the data, the legend printed it as "6.000000"
        alt.Color("offences:Q", title="Offences", scale=alt.Scale(scheme="blues"),
                  legend=alt.Legend(format=",d", tickMinStep=1)),
        tooltip=[alt.Tooltip("offence_area:N", title="Area"),
                 alt.Tooltip("offence_type:N", title="Offence type"),
                 alt.Tooltip("offences:Q", title="Offences", format=","),
                 alt.Tooltip("value_stolen_gbp:Q", title="Value stolen (£)", format=",.2f")])
    text = base.mark_text(fontSize=11).encode(
        alt.Text("offences:Q", format=","),
        color=alt.condition("datum.offences > 300", alt.value("white"), alt.value("black")))
    return alt.layer(
        cells, text, data=frame,
        title="Recorded offences by area and type (Connect)", height=alt.Step(28),
        description="Heat map: recorded offences for each offence area and offence type, the "
        "count written in each cell, darker for more offences.")


EXIT_COLOURS = {"Self-discharged": "#9E6A00", "Discharged - rule breach": "#D55E00",
                "Discharged - other": "#B0508A", "Completed 12 weeks": "#007A5A"}


def weeks_in_rehab(frame: pd.DataFrame) -> alt.Chart:
    """Bars: whole weeks spent in rehab before leaving, by way of leaving; the detox marked."""
    ways = [w for w in EXIT_COLOURS if w in set(frame["way_of_leaving"])]
    bars = alt.Chart(frame).mark_bar().encode(
        alt.X("weeks:O", title="Whole weeks in rehab before leaving (12 = 12 or more)",
              scale=alt.Scale(domain=list(range(13))), axis=alt.Axis(labelAngle=0)),
        alt.Y("sum(referrals):Q", title="People leaving rehab", axis=alt.Axis(tickMinStep=1)),
        alt.Color("way_of_leaving:N", title="How they left",
                  scale=alt.Scale(domain=ways, range=[EXIT_COLOURS[w] for w in ways])),
        tooltip=[alt.Tooltip("weeks:O", title="Whole weeks"),
                 alt.Tooltip("way_of_leaving:N", title="How they left"),
                 alt.Tooltip("referrals:Q", title="People")],
    )
    # The line at the start of week 3's bar, its label above the bars: in the middle of the
    # band and at the top of the plot, the label was drawn over the week's bar.
    detox = alt.Chart(pd.DataFrame({"weeks": [3], "label": ["3-week detox ends"]})).encode(
        alt.X("weeks:O", bandPosition=0))
    marker = detox.mark_rule(strokeDash=[4, 4], color="#000000").encode() + detox.mark_text(
        align="left", baseline="bottom", dx=4, dy=-4, fontSize=12).encode(
        text="label:N", y=alt.value(0))
    return alt.layer(
        bars, marker, title="When people leave rehab, by whole weeks there and how they left",
        height=380, description="Stacked bar chart: people leaving rehab by whole weeks spent "
        "there, split by how they left; a dashed line marks the end of the 3-week detox.")


def journey_durations(frame: pd.DataFrame) -> alt.Chart:
    """Interquartile range bars with the median marked, in days, for each journey interval."""
    base = alt.Chart().encode(
        alt.Y("interval_name:N", title=None, sort=alt.SortField("order"),
              axis=alt.Axis(labelLimit=260)))
    tooltip = [alt.Tooltip("interval_name:N", title="Interval"),
               alt.Tooltip("referrals:Q", title="Referrals"),
               alt.Tooltip("days_q1:Q", title="Quarter took at most (days)", format=".0f"),
               alt.Tooltip("days_median:Q", title="Median (days)", format=".0f"),
               alt.Tooltip("days_q3:Q", title="Three-quarters took at most (days)",
                           format=".0f")]
    band = base.mark_bar(color=OKABE_ITO[4], height=18).encode(
        alt.X("days_q1:Q", title="Days (bar: middle half of people; tick: median)"),
        alt.X2("days_q3:Q"), tooltip=tooltip)
    tick = base.mark_tick(color="#000000", thickness=3, size=24).encode(
        alt.X("days_median:Q"), tooltip=tooltip)
    label = base.mark_text(align="left", dx=6, dy=-16).encode(
        alt.X("days_median:Q"), text=alt.Text("days_median:Q", format=".0f"))
    return alt.layer(
        band, tick, label, data=frame,
        title="How long each step of the journey takes (days)", height=alt.Step(48),
        description="Range chart: for each step of the journey, the days the middle half of "
        "people took (bar) and the median (tick, with its number).",
    ).transform_window(order="row_number()")


AGE_BAND_COLOURS = {"Up to 1 week": "#3A88C0", "1 to 3 weeks": "#0072B2",
                    "3 to 6 weeks": "#9E6A00", "6 to 13 weeks": "#D55E00",
                    "Over 13 weeks": "#7A1F00"}


def waiting_age_bands(frame: pd.DataFrame) -> alt.Chart:
    """Stacked horizontal bars: each officer's referrals waiting for first contact, split by
    how long they have waited; frame from work.waiting_age_bands."""
    bands = list(AGE_BAND_COLOURS)
    return alt.Chart(frame).mark_bar().encode(
        alt.Y("officer:N", title="Officer", sort="-x"),
        alt.X("sum(referrals):Q", title="Referrals waiting for first contact",
              axis=alt.Axis(tickMinStep=1, format=",d")),
        alt.Color("age_band:N", title="Waiting", sort=bands,
                  scale=alt.Scale(domain=bands, range=list(AGE_BAND_COLOURS.values())),
                  legend=alt.Legend(orient="bottom", columns=3)),
        alt.Order("band_order:Q"),
        tooltip=[alt.Tooltip("officer:N", title="Officer"),
                 alt.Tooltip("age_band:N", title="Waiting"),
                 alt.Tooltip("referrals:Q", title="Referrals")],
    ).properties(title="How long each officer's waiting list has waited", height=alt.Step(30),
                 description="Stacked bar chart: for each officer, referrals still waiting "
                 "for first contact, split into bands by days waited.")


def trend_sparkline(frame: pd.DataFrame, step: str) -> alt.Chart:
    """A small line of one headline figure over recent quarters (oldest first), the latest
    quarter marked; frame has quarter and referrals. Axes are left off: the numbers are
    written beside it and in the chart's description."""
    quarters = list(frame["quarter"])
    base = alt.Chart().encode(
        alt.X("quarter:O", sort=quarters, axis=None),
        alt.Y("referrals:Q", axis=None, scale=alt.Scale(zero=True)),
        tooltip=[alt.Tooltip("quarter:O", title="Quarter"),
                 alt.Tooltip("referrals:Q", title=step)])
    line = base.mark_line(color=OKABE_ITO[0], strokeWidth=2)
    latest = base.transform_filter(alt.datum.quarter == quarters[-1]).mark_point(
        color=OKABE_ITO[0], filled=True, size=40)
    return alt.layer(
        line, latest, data=frame,
        height=48, description=f"Trend of {step.lower()} over {len(frame)} "
        f"quarter{'s' if len(frame) != 1 else ''}, "
        f"oldest first: " + ", ".join(f"{q} {n:,}" for q, n in zip(
            quarters, frame["referrals"], strict=True)) + ".").configure_view(stroke=None)


def cohort_funnel(frame: pd.DataFrame) -> alt.Chart:
    """Horizontal bars, one per step in journey order: how many of the cohort got at least
    that far, the part still in progress drawn lighter; frame from funnel_table."""
    long = pd.concat([
        frame.assign(part="Went further, or case closed here",
                     people=frame["reached"] - frame["in_progress"]),
        frame.assign(part="Stopped here, case still open", people=frame["in_progress"]),
    ])[["step", "step_order", "part", "people", "reached", "share_text"]]
    base = alt.Chart().encode(alt.Y("step:N", title=None, sort=list(frame["step"]),
                                    axis=alt.Axis(labelLimit=200)))
    bars = base.mark_bar().encode(
        alt.X("sum(people):Q", title="People in the cohort",
              axis=alt.Axis(tickMinStep=1, format=",d")),
        alt.Color("part:N", title=None,
                  scale=alt.Scale(domain=["Went further, or case closed here",
                                          "Stopped here, case still open"],
                                  range=[OKABE_ITO[0], OKABE_ITO[1]]),
                  legend=alt.Legend(orient="bottom", labelLimit=400)),
        alt.Order("part:N", sort="descending"),
        tooltip=[alt.Tooltip("step:N", title="Step"), alt.Tooltip("part:N", title="Part"),
                 alt.Tooltip("people:Q", title="People", format=",")])
    labels = base.transform_filter(alt.datum.part == "Went further, or case closed here").mark_text(
        align="left", dx=4).encode(alt.X("reached:Q"), text="share_text:N")
    return alt.layer(
        bars, labels, data=long,
        title="How far the cohort has got", height=alt.Step(34),
        description="Bar chart: for each journey step, how many of the cohort got at least that "
        "far, with the share written at the end of each bar; the part whose case is still "
        "open is drawn in orange.")
