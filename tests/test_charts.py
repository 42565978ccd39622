"""Every chart builder's spec compiles (vl-convert, offline: the Vega-Lite the browser runs
would fail the same way) and draws its data in the right order, in plain words, in colours
readable against the white background."""

from __future__ import annotations

import html
import re

import altair as alt
import pandas as pd
import pytest
import vl_convert

from dashboard.analysis import funnel, outcomes, work
from dashboard.security.access import COMMAND_LINE
from dashboard.store import queries
from dashboard.ui import charts, layout, outcome_charts, sankey

HEX = re.compile(r"#[0-9a-fA-F]{6}\b")
TEXT = re.compile(r"<text[^>]*>(.*?)</text>", re.DOTALL)


def run(con, name: str, **params) -> pd.DataFrame:
    return queries.run(con, COMMAND_LINE, name, **params)


def svg_texts(chart) -> list[str]:
    """Every piece of text the compiled chart draws, in drawing order (axes, legends, marks);
    vegalite_to_svg raises if the spec does not compile."""
    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    return [html.unescape(t) for t in TEXT.findall(svg)]


def in_order(texts: list[str], wanted: list[str]) -> list[str]:
    """The wanted labels in the order the chart first draws them."""
    first = {}
    for index, value in enumerate(texts):
        if value in wanted and value not in first:
            first[value] = index
    return sorted(first, key=first.get)


def contrast_with_white(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (luminance + 0.05)


@pytest.fixture(scope="module")
def frames(demo_db_template):
    from dashboard.store import database

    con = database.connect_read_only(demo_db_template)
    cohort = run(con, "cohort_funnel", cohort="referrals")
    out = {
        "officer_caseload": run(con, "officer_caseload"),
        "caseload_history": run(con, "caseload_history"),
        "rehab_placements": run(con, "rehab_placements"),
        "referral_sources": run(con, "referral_sources"),
        "referrals_by_quarter": run(con, "referrals_by_quarter"),
        "referral_source_progress": run(con, "referral_source_progress"),
        "offences_by_area": run(con, "offences_by_area"),
        "days_in_rehab": run(con, "days_in_rehab"),
        "journey_durations": run(con, "journey_durations"),
        "journey_flow": run(con, "journey_flow"),
        "cohort_funnel": funnel.funnel_table(cohort),
        "waiting_age_bands": work.waiting_age_bands(run(con, "my_work")),
        "offending_windows": outcomes.with_rates(run(con, "offending_windows")),
        "rehab_stays": run(con, "rehab_stays"),
    }
    con.close()
    assert all(not frame.empty for frame in out.values()), \
        [name for name, frame in out.items() if frame.empty]
    return out


def every_chart(frames) -> dict:
    from dashboard.analysis import stats

    progress = frames["referral_source_progress"]
    rates = stats.with_rates(progress.assign(base=progress["referrals"]), "assessed",
                             "referrals", "rate")
    totals = frames["referral_sources"].groupby("referral_source", as_index=False)[
        "referrals"].sum()
    return {
        "caseload_by_officer": charts.caseload_by_officer(frames["officer_caseload"]),
        "caseload_over_time": charts.caseload_over_time(frames["caseload_history"]),
        "placements_by_facility": charts.placements_by_facility(frames["rehab_placements"]),
        "count_bars": charts.count_bars(totals, "referral_source", "Referrals by source",
                                        "Referral source"),
        "referrals_by_quarter": charts.referrals_by_quarter(frames["referrals_by_quarter"]),
        "rate_with_interval": charts.rate_with_interval(
            rates, "referral_source", "rate", "Referral source", "Share assessed",
            "Referrals"),
        "offences_heatmap": charts.offences_heatmap(frames["offences_by_area"]),
        "weeks_in_rehab": charts.weeks_in_rehab(frames["days_in_rehab"]),
        "journey_durations": charts.journey_durations(frames["journey_durations"]),
        "cohort_funnel": charts.cohort_funnel(frames["cohort_funnel"]),
        "waiting_age_bands": charts.waiting_age_bands(frames["waiting_age_bands"]),
        "trend_sparkline": charts.trend_sparkline(pd.DataFrame(
            {"quarter": ["2021/22 Q4", "2022/23 Q1"], "referrals": [41, 40]}), "Referrals"),
        "offending_rates": outcome_charts.offending_rates(
            frames["offending_windows"].query("referrals > 0")),
        "survival_curves": outcome_charts.survival_curves(
            outcomes.curves(frames["rehab_stays"], "rehab_facility"), "Still in rehab",
            "Days since admission", "Still in rehab", outcomes.RETENTION_DAYS),
    }


def test_every_builder_is_covered():
    builders = {name for module in (charts, outcome_charts, sankey)
                for name, value in vars(module).items()
                if callable(value) and getattr(value, "__module__", "") == module.__name__
                and not name.startswith("_") and name not in ("date_axis",)}
    covered = {"caseload_by_officer", "caseload_over_time", "placements_by_facility",
               "count_bars", "referrals_by_quarter", "rate_with_interval", "offences_heatmap",
               "weeks_in_rehab", "journey_durations", "cohort_funnel", "journey_sankey",
               "waiting_age_bands", "trend_sparkline", "offending_rates", "survival_curves",
               *EXTRA_BUILDERS}
    assert builders <= covered, sorted(builders - covered)


# Builders tested in their own test files (added on other branches, or below).
EXTRA_BUILDERS: set[str] = set()


def test_every_chart_compiles_and_describes_itself(frames):
    for name, chart in every_chart(frames).items():
        spec = chart.to_dict()
        vega = vl_convert.vegalite_to_vega(spec)  # raises when the spec does not compile
        assert vega["marks"], name
        assert len(spec.get("description", "")) > 30, (name, "a screen reader has words")


def test_the_server_sends_each_chart_as_streamlit_would_after_altairs_check(frames,
                                                                           monkeypatch):
    from streamlit.elements import vega_charts

    monkeypatch.setattr(layout, "CHECK_SPECS_AGAINST_SCHEMA", False)  # as the server runs
    for name, chart in every_chart(frames).items():
        assert layout.vega_spec(chart) == vega_charts._convert_altair_to_vega_lite_spec(chart), \
            name


def test_chart_colours_reach_3_to_1_against_white(frames):
    for name, chart in [*every_chart(frames).items(),
                        ("journey_sankey", sankey.journey_sankey(frames["journey_flow"]))]:
        text = str(chart if isinstance(chart, dict) else chart.to_dict())
        faint = {c for c in HEX.findall(text) if contrast_with_white(c) < 3}
        assert not faint, (name, faint)


def test_the_heatmap_draws_every_cell_busiest_area_first(frames):
    offences = frames["offences_by_area"]
    texts = svg_texts(charts.offences_heatmap(offences))
    areas = list(offences.groupby("offence_area")["offences"].sum()
                 .sort_values(ascending=False, kind="stable").index)
    assert in_order(texts, areas) == areas
    # every cell's count is written in it
    counts = [f"{n:,}" for n in offences["offences"]]
    assert sorted(t for t in texts if t in set(counts)) == sorted(counts)


def test_the_heatmap_legend_prints_whole_numbers_however_few_values(frames):
    # One area and one month: the browser's legend printed its only value as "6.000000"
    # (vl-convert's did not, so the spec is held to a whole-number format).
    one = frames["offences_by_area"].head(1).assign(offences=6)
    chart = charts.offences_heatmap(one)
    colour = next(layer["encoding"]["color"] for layer in chart.to_dict().get("layer", [
        chart.to_dict()]) if "color" in layer.get("encoding", {}))
    assert colour["legend"]["format"] == ",d"
    assert "6" in svg_texts(chart)


def test_the_detox_line_sits_between_weeks_and_its_label_above_the_bars(frames):
    # In the middle of week 3's band, at the top of the plot, the label lay over the bar.
    spec = charts.weeks_in_rehab(frames["days_in_rehab"]).to_dict()
    rule, label = (layer for layer in spec["layer"][1]["layer"])
    assert rule["encoding"]["x"]["bandPosition"] == 0
    assert label["encoding"]["y"] == {"value": 0} and label["mark"]["baseline"] == "bottom"


def test_quarters_run_oldest_first_whatever_the_row_order(frames):
    quarters = frames["referrals_by_quarter"]
    shuffled = quarters.sample(frac=1, random_state=3).reset_index(drop=True)
    # the data as the browser gets it: quarter_start a string
    shuffled["quarter_start"] = shuffled["quarter_start"].astype(str)
    expected = list(quarters.sort_values("quarter_start")["quarter"].drop_duplicates())
    assert expected[:2] == ["2021/22 Q1", "2021/22 Q2"]
    assert in_order(svg_texts(charts.referrals_by_quarter(shuffled)), expected) == expected


def test_the_base_size_legend_is_in_words(frames):
    progress = frames["referral_source_progress"]
    from dashboard.analysis import stats

    rates = stats.with_rates(progress.assign(base=progress["referrals"]), "assessed",
                             "referrals", "rate")
    assert rates["small_base"].any() and not rates["small_base"].all()
    texts = svg_texts(charts.rate_with_interval(rates, "referral_source", "rate",
                                                "Referral source", "Share assessed",
                                                "Referrals"))
    assert "Fewer than 10 (less certain)" in texts and "10 or more" in texts
    assert not {"true", "false", "Base under 10"} & set(texts)


def test_time_axis_ticks_are_the_snapshot_dates_in_uk_format(frames):
    history = frames["caseload_history"]
    texts = svg_texts(charts.caseload_over_time(history))
    dates = sorted(set(pd.to_datetime(history["as_at_date"]).dt.date))
    assert len(dates) > 1
    ticks = [t for t in texts if re.fullmatch(r"\d\d/\d\d/\d{4}", t)]
    assert ticks == [f"{d:%d/%m/%Y}" for d in dates]


def test_the_open_caseload_line_counts_waiting_and_active_only(demo_con):
    history = run(demo_con, "caseload_history")
    statuses = demo_con.execute(
        "select u.as_at_date, r.officer, count(*) filter (where r.status in "
        "('Referral/Waiting', 'Active')) as open_referrals from referrals r "
        "join uploads u on u.upload_id = r.snapshot_id group by all order by all").df()
    assert history[["as_at_date", "officer", "open_referrals"]].sort_values(
        ["as_at_date", "officer"]).values.tolist() == statuses.values.tolist()
    assert (history["open_referrals"] <= history["referrals"]).all()
    assert (history["open_referrals"] < history["referrals"]).any()


def test_the_funnel_bars_are_in_journey_order(frames):
    table = frames["cohort_funnel"]
    texts = svg_texts(charts.cohort_funnel(table))
    steps = list(table["step"])
    assert in_order(texts, steps) == steps
    assert [t for t in texts if t in set(table["share_text"])] == list(table["share_text"])


def test_waiting_bands_run_shortest_wait_first(frames):
    bands = frames["waiting_age_bands"]
    texts = svg_texts(charts.waiting_age_bands(bands))
    labels = list(charts.AGE_BAND_COLOURS)
    assert in_order(texts, labels) == [b for b in labels if b in set(bands["age_band"])]
    officers = list(bands.groupby("officer")["referrals"].sum()
                    .sort_values(ascending=False, kind="stable").index)
    assert in_order(texts, officers)[0] == officers[0]


def test_the_sankey_labels_every_node_with_its_count(frames):
    flow = frames["journey_flow"]
    option = sankey.journey_sankey(flow)
    labels = [node["label"]["formatter"] for node in option["series"][0]["data"]]
    total = int(flow.loc[flow["source"] == "Referrals", "referrals"].sum())
    assert labels[0] == f"Referrals ({total:,})"
    assert all(re.search(r"\(\d[\d,]*\)$", label) for label in labels)


def test_the_journey_from_referral_says_what_each_count_is(demo_con):
    flow = run(demo_con, "referral_journey")
    option = sankey.journey_sankey(flow, {"Referrals": "Referred in the period",
                                          "Contacted": "First contacted"})
    labels = [node["label"]["formatter"] for node in option["series"][0]["data"]]
    referred = int(flow.loc[flow["source"] == "Referrals", "referrals"].sum())
    contacted = int(flow.loc[flow["target"] == "Contacted", "referrals"].sum())
    assert labels[:2] == [f"Referred in the period ({referred:,})",
                          f"First contacted ({contacted:,})"]
    # each step's outflows add up to the people who reached it
    for node, total in flow.groupby("source")["referrals"].sum().items():
        if node != "Referrals":
            assert total == int(flow.loc[flow["target"] == node, "referrals"].sum()), node


def test_in_each_column_the_node_the_journey_goes_on_from_sits_first(demo_con):
    # Stacked from the top, the next column's nodes then sit beside it: a waiting node's
    # label ("Not yet in rehab") overlapped the rehab outcomes beside it.
    flow = run(demo_con, "referral_journey")
    nodes = sankey.journey_sankey(flow)["series"][0]["data"]
    goes_on = set(flow["source"])
    for depth in {node["depth"] for node in nodes}:
        names = [node["name"] for node in nodes if node["depth"] == depth]
        onward = [name in goes_on for name in names]
        assert onward == sorted(onward, reverse=True), names
    assert next(n["name"] for n in nodes if n["depth"] == 3) == "Entered rehab"


def test_every_officer_has_a_line_of_their_own_past_the_eight_colours(frames):
    # The palette has eight colours: a ninth officer's line looked like the first's.
    history = frames["caseload_history"]
    many = pd.concat([history.assign(officer=f"Officer {n:02d}") for n in range(20)])
    encoding = charts.caseload_over_time(many).to_dict()["encoding"]
    colour, dash = encoding["color"]["scale"], encoding["strokeDash"]["scale"]
    assert colour["domain"] == dash["domain"] == sorted(many["officer"].unique())
    looks = {(c, tuple(d)) for c, d in zip(colour["range"], dash["range"], strict=True)}
    assert len(looks) == 20
    assert len(svg_texts(charts.caseload_over_time(many))) > 20  # it draws


def test_officers_run_from_the_largest_caseload(frames):
    # Sorted by "-y", the bars and their totals layered, Vega-Lite dropped the sort: the
    # officers stood in alphabetical order (Former officer's 5 first, Officer 1's 43 fourth).
    caseload = frames["officer_caseload"]
    totals = caseload.groupby("officer")["referrals"].sum()
    spec = charts.caseload_by_officer(caseload).to_dict()
    assert spec["layer"][0]["encoding"]["x"]["sort"] == \
        totals.sort_values(ascending=False, kind="stable").index.tolist()
    texts = svg_texts(charts.caseload_by_officer(caseload))
    shown = [t for t in texts if t in set(totals.index)]
    assert shown == totals.sort_values(ascending=False, kind="stable").index.tolist()


def test_each_status_keeps_its_colour_whatever_the_filter_leaves(frames):
    # Coloured in turn from the palette, Active took Referral/Waiting's blue when no one was
    # waiting, and "Not recorded" a lighter blue read as Referral/Waiting's.
    caseload = frames["officer_caseload"]

    def colours(frame):
        scale = charts.caseload_by_officer(frame).to_dict()["layer"][0]["encoding"]["color"]
        return dict(zip(scale["scale"]["domain"], scale["scale"]["range"], strict=True))

    everyone = colours(caseload)
    assert everyone["Not recorded"] == charts.GREY
    assert len(set(everyone.values())) == len(everyone)
    no_waiting = colours(caseload[caseload["status"] != "Referral/Waiting"])
    assert no_waiting == {s: c for s, c in everyone.items() if s != "Referral/Waiting"}


def test_referral_sources_never_share_a_blue(frames):
    # Coloured in palette order, the fifth source took the darkened sky blue: Custody and
    # Probation were two near-identical blues on Referrals per quarter.
    spec = charts.referrals_by_quarter(frames["referrals_by_quarter"]).to_dict()
    colour = next(layer for layer in [spec, *spec.get("layer", [])]
                  if "color" in layer.get("encoding", {}))["encoding"]["color"]
    sources = frames["referrals_by_quarter"]["referral_source"].nunique()
    assert 5 <= sources <= 7
    used = colour["scale"]["range"][:sources]
    assert len(set(used)) == sources
    assert not {"#0072B2", "#3A88C0"} <= set(used)


def test_the_journey_colours_waiting_apart_from_leaving_early(demo_con):
    # Both were amber on the journey from referral: "Not yet in rehab" beside "Left rehab early".
    option = sankey.journey_sankey(run(demo_con, "referral_journey"))
    colour = {node["name"].rstrip("\u200b"): node["itemStyle"]["color"]
              for node in option["series"][0]["data"]}
    waiting = {colour[n] for n in colour if n.startswith(("Waiting", "Not yet"))}
    early = {colour[n] for n in colour if "early" in n}
    assert waiting and early and not waiting & early


def test_the_neighbourhoods_total_heads_the_areas_instead_of_standing_among_them(demo_con):
    from dashboard.analysis import stats

    _, by_area, both = stats.area_progress_rates(run(demo_con, "area_progress"))
    total = stats.CITY_CENTRE_GROUPS[False]
    spec = charts.rate_with_interval(both, "offending_area", "rate", "Offending area", "t",
                                     "Assessed", first=(total,)).to_dict()
    order = spec["layer"][0]["encoding"]["y"]["sort"]
    assert order[0] == total
    areas = by_area.sort_values("rate", ascending=False, kind="stable")["offending_area"]
    assert [a for a in order[1:] if a != "City Centre"] == \
        [a for a in areas.drop_duplicates() if a != "City Centre"]
    assert sorted(order) == sorted(set(both["offending_area"]))


# What Streamlit's chart theme sets that decides where a label is cut (its CustomTheme: axis
# labels 12 px cut at 100 px, legend labels 14 px); a chart's own settings win over these.
STREAMLIT_THEME = {"axis": {"labelFontSize": 12, "labelLimit": 100, "titleFontSize": 14},
                   "legend": {"labelFontSize": 14, "titleFontSize": 14}}


def test_no_chart_cuts_a_label_short(frames):
    """Vega cuts axis and legend labels at a width limit, ending them in an ellipsis: the
    quarterly chart's legend read "Neighbourhood policing …" on the page."""
    cut = {}
    for name, chart in every_chart(frames).items():
        spec = chart.to_dict()
        spec["config"] = {**STREAMLIT_THEME, **{k: {**STREAMLIT_THEME.get(k, {}), **v}
                                                for k, v in spec.get("config", {}).items()}}
        texts = map(html.unescape, TEXT.findall(vl_convert.vegalite_to_svg(spec)))
        cut[name] = [t for t in texts if t.endswith("…")]
    assert not {name: texts for name, texts in cut.items() if texts}


def test_a_bad_option_is_refused_when_a_test_draws_the_chart(monkeypatch):
    """Option objects are not checked against the Vega-Lite schema as they are made
    (charts.py turns that off: it doubled the checking), nor whole specs on the server (45 ms
    a chart); every spec a test draws is, so a bad option fails the tests."""
    from altair.utils.schemapi import SchemaValidationError

    bad_axis = alt.Axis(labelAngle="sideways")  # made without complaint
    frame = pd.DataFrame({"offending_area": ["Aston", "Selly Oak"], "referrals": [3, 5]})
    good = charts.count_bars(frame, "offending_area", "Referrals by area", "Area")
    assert layout.CHECK_SPECS_AGAINST_SCHEMA  # tests/conftest.py
    assert layout.vega_spec(good)["layer"]
    bad = good.copy()
    bad.layer[0].encoding.y.axis = bad_axis
    with pytest.raises(SchemaValidationError, match="sideways"):
        layout.vega_spec(bad)
    monkeypatch.setattr(layout, "CHECK_SPECS_AGAINST_SCHEMA", False)  # as the server runs
    assert layout.vega_spec(bad)["layer"][0]["encoding"]["y"]["axis"]["labelAngle"] == "sideways"


def _quantitative_axes(spec: dict, name: str):
    """(chart, channel, field, axis) of every quantitative x or y in a spec, layers included."""
    for key in ("layer", "concat", "hconcat", "vconcat"):
        for part in spec.get(key, []):
            yield from _quantitative_axes(part, name)
    for channel in ("x", "y"):
        encoding = spec.get("encoding", {}).get(channel)
        if encoding and encoding.get("type") == "quantitative":
            yield name, channel, str(encoding.get("field", "")), encoding.get("axis", {})


COUNTED = re.compile(r"referrals|people|admissions|offences|count", re.IGNORECASE)


def test_every_count_axis_ticks_whole_numbers(frames):
    # With counts of one or two, a count axis left to itself ticked 0, 0.5, 1 (read "0.0, 0.1
    # ... 1.0", or "0, 1, 1" once formatted as whole numbers).
    checked = set()
    for name, chart in every_chart(frames).items():
        for chart_name, channel, field, axis in _quantitative_axes(chart.to_dict(), name):
            if COUNTED.search(field) and axis is not None and "%" not in axis.get("format", ""):
                assert axis.get("tickMinStep") == 1, (chart_name, channel, field)
                checked.add(chart_name)
    assert {"caseload_by_officer", "referrals_by_quarter", "count_bars"} <= checked
