"""The quarterly scrutiny pack: quarters, figures equal to the dashboard's, comparisons,
frozen sign-off, small-number control and the command line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import subprocess
import sys
import types

import duckdb
import pandas as pd
import pytest

import dashboard
from dashboard import __main__ as cli
from dashboard import pack, service
from dashboard.pack import Quarter, parse_quarter, quarter_containing
from dashboard.security import audit
from dashboard.security.access import COMMAND_LINE, AccessDenied, Viewer
from dashboard.store import database, queries

Q1 = "2022/23 Q1"
FROM, TO = dt.date(2022, 4, 1), dt.date(2022, 6, 30)
LATEST, QUARTER_END_SNAPSHOT = 5, 4  # the demo's snapshots as at 31/07/2022 and 30/06/2022
SCRUTINY = Viewer("Panel member", "scrutiny")


def figure(built: pack.Pack, measure: str) -> pack.Figure:
    return next(f for f in built.figures if f.measure == measure)


def table(built: pack.Pack, name: str) -> pd.DataFrame:
    return next(t for t in built.tables if t.name == name).frame


def headline(con, step: str, start: dt.date, end: dt.date, snapshot_id: int = LATEST) -> int:
    rows = queries.run(con, COMMAND_LINE, "headline_figures", snapshot_id=snapshot_id,
                       from_date=start, to_date=end)
    return int(rows.loc[rows["step"] == step, "referrals"].iloc[0])


@pytest.fixture(scope="module")
def exact_q1(demo_db_template):
    con = database.connect_read_only(demo_db_template)
    yield pack.build_pack(con, COMMAND_LINE, "2022/23-Q1", disclosure="exact")
    con.close()


@pytest.fixture(scope="module")
def controlled_q1(demo_db_template):
    con = database.connect_read_only(demo_db_template)
    yield pack.build_pack(con, COMMAND_LINE, "2022/23-Q1")
    con.close()


# --- quarters -------------------------------------------------------------------------------

@pytest.mark.parametrize("day, label", [
    (dt.date(2022, 3, 31), "2021/22 Q4"),
    (dt.date(2022, 4, 1), "2022/23 Q1"),
    (dt.date(2022, 6, 30), "2022/23 Q1"),
    (dt.date(2022, 7, 1), "2022/23 Q2"),
    (dt.date(2022, 12, 31), "2022/23 Q3"),
    (dt.date(2023, 1, 1), "2022/23 Q4"),
    (dt.date(2024, 2, 29), "2023/24 Q4"),
    (dt.date(1999, 4, 1), "1999/00 Q1"),
])
def test_financial_quarter_of_a_day(day, label):
    quarter = quarter_containing(day)
    assert quarter.label == label
    assert quarter.start <= day <= quarter.end


@pytest.mark.parametrize("day, label", [
    (dt.date(2022, 3, 31), "2022 Q1"),
    (dt.date(2022, 4, 1), "2022 Q2"),
    (dt.date(2024, 2, 29), "2024 Q1"),
    (dt.date(2022, 12, 31), "2022 Q4"),
])
def test_calendar_quarter_of_a_day(day, label):
    quarter = quarter_containing(day, "calendar")
    assert quarter.label == label
    assert quarter.start <= day <= quarter.end


def test_quarter_bounds():
    assert (Quarter("financial", 2023, 4).start, Quarter("financial", 2023, 4).end) == (
        dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    assert (Quarter("financial", 2022, 1).start, Quarter("financial", 2022, 1).end) == (FROM, TO)
    assert (Quarter("calendar", 2022, 4).start, Quarter("calendar", 2022, 4).end) == (
        dt.date(2022, 10, 1), dt.date(2022, 12, 31))
    assert Quarter("calendar", 2024, 1).end == dt.date(2024, 3, 31)


@pytest.mark.parametrize("text, expected", [
    ("2022/23-Q1", Quarter("financial", 2022, 1)),
    ("2022/23 Q1", Quarter("financial", 2022, 1)),
    (" 2022/2023 q4 ", Quarter("financial", 2022, 4)),
    ("1999/00 Q2", Quarter("financial", 1999, 2)),
    ("2022-Q2", Quarter("calendar", 2022, 2)),
    ("2022 Q2", Quarter("calendar", 2022, 2)),
])
def test_parse_quarter(text, expected):
    assert parse_quarter(text) == expected
    assert parse_quarter(expected.label) == expected


def test_the_quarters_between_two_newest_first():
    first, last = parse_quarter("2021/22 Q3"), parse_quarter("2022/23 Q2")
    assert [q.label for q in pack.newest_first(first, last)] == [
        "2022/23 Q2", "2022/23 Q1", "2021/22 Q4", "2021/22 Q3"]
    assert pack.newest_first(last, first) == []
    assert [q.label for q in pack.newest_first(parse_quarter("2022 Q4"),
                                               parse_quarter("2023 Q1"))] == ["2023 Q1",
                                                                               "2022 Q4"]


@pytest.mark.parametrize("text, scheme", [
    ("2022/24 Q1", None), ("2022/23 Q5", None), ("Q1 2022", None), ("", None),
    ("2022/23 Q1", "calendar"), ("2022 Q2", "financial"),
])
def test_parse_quarter_refuses_what_it_would_have_to_guess(text, scheme):
    with pytest.raises(ValueError):
        parse_quarter(text, scheme)


def test_previous_and_year_ago_quarters():
    assert pack.comparison_quarters(Q1) == (parse_quarter("2021/22 Q4"),
                                            parse_quarter("2021/22 Q1"))
    assert pack.comparison_quarters("2022-Q1", "calendar") == (parse_quarter("2021 Q4"),
                                                                parse_quarter("2021 Q1"))


# --- figures equal the dashboard's --------------------------------------------------------------

def test_the_demo_pack_has_the_dashboards_figures(demo_con, exact_q1):
    assert (exact_q1.quarter, exact_q1.start, exact_q1.end, exact_q1.scheme) == (
        Q1, FROM, TO, "financial")
    assert (exact_q1.snapshot_id, exact_q1.snapshot_as_at) == (QUARTER_END_SNAPSHOT, TO)
    assert exact_q1.connect_upload_id == 6
    for measure, step in pack.HEADLINE_STEPS.items():
        assert figure(exact_q1, measure).value == headline(demo_con, step, FROM, TO), measure
    course = queries.run(demo_con, COMMAND_LINE, "pre_admission_course", from_date=FROM,
                         to_date=TO)
    assert figure(exact_q1, "Pre-admission course starts").value == course["attendees"].iloc[0]
    # Stock: the quarter-end snapshot, as the Officer caseloads page counts it there.
    caseload = queries.run(demo_con, COMMAND_LINE, "officer_caseload",
                           snapshot_id=QUARTER_END_SNAPSHOT)
    assert figure(exact_q1, "Caseload at quarter end").value == caseload["referrals"].sum()
    assert figure(exact_q1, "Active caseload at quarter end").value == headline(
        demo_con, "Active caseload", FROM, TO, QUARTER_END_SNAPSHOT)
    shown = table(exact_q1, "Caseload").set_index("Officer")
    expected = caseload.pivot(index="officer", columns="status", values="referrals") \
        .fillna(0).astype(int)
    for officer, row in expected.iterrows():
        for status, count in row.items():
            assert shown.loc[officer, status] == count, (officer, status)
    assert shown.loc["Total", "Total"] == caseload["referrals"].sum()


def test_the_area_table_adds_up_to_the_headline_figures(exact_q1):
    areas = table(exact_q1, "Flows by area").set_index("Offending area")
    for column in ("Referrals received", "Police assessments", "Rehab admissions"):
        assert areas.loc["Total", column] == figure(exact_q1, column).value
        assert areas.drop(index="Total")[column].sum() == areas.loc["Total", column]


def test_an_area_or_officer_stored_as_total_prints_as_its_own_row(demo_db_template, tmp_path,
                                                                  exact_q1):
    # Stored before the ingest refused the name, it stopped the quarter's packs with
    # "Unexpected error ... please report" (two rows called Total).
    db = tmp_path / "o2r.duckdb"
    shutil.copyfile(demo_db_template, db)
    con = duckdb.connect(str(db))
    con.execute("update referrals set offending_area = 'Total' where offending_area = 'Erdington'")
    con.execute("update referrals set officer = 'total' where officer = 'Officer 2'")
    con.close()
    con = database.connect_read_only(db)
    try:
        built = {how: pack.build_pack(con, COMMAND_LINE, "2022/23-Q1", disclosure=how)
                 for how in ("exact", "controlled")}
    finally:
        con.close()
    areas = table(built["exact"], "Flows by area").set_index("Offending area")
    before = table(exact_q1, "Flows by area").set_index("Offending area")
    assert list(areas.index[-2:]) == ["Total (as recorded)", "Total"]
    assert areas.loc["Total (as recorded)"].tolist() == before.loc["Erdington"].tolist()
    assert areas.loc["Total"].tolist() == before.loc["Total"].tolist()
    officers = table(built["exact"], "Caseload").set_index("Officer")
    assert officers.loc["total (as recorded)"].tolist() == \
        table(exact_q1, "Caseload").set_index("Officer").loc["Officer 2"].tolist()
    circulated = table(built["controlled"], "Flows by area")["Offending area"].tolist()
    assert circulated.count("Total") == 1 and "Total (as recorded)" in circulated


def test_flows_rates_and_cost_for_the_demo_quarter(demo_con, exact_q1):
    early = table(exact_q1, "Early discharges").set_index("Reason")["Early discharges"]
    assert early.drop("Total").sum() == early["Total"] == figure(exact_q1,
                                                                 "Early discharges").value
    completed = headline(demo_con, "Completed 12 weeks", FROM, TO)
    rate = figure(exact_q1, "Admitted to completed")
    exits = completed + early["Total"]
    assert rate.value == pytest.approx(completed / exits)
    assert rate.display.startswith(f"{completed / exits:.0%} (95% CI ")
    assert "95% CI" in figure(exact_q1, "Assessed to admitted").display
    low, high = figure(exact_q1, "Goods not stolen, low estimate"), figure(
        exact_q1, "Goods not stolen, high estimate")
    assert (low.value, high.value) == (completed * 19_000 * 2 / 4, completed * 19_000 * 3 / 4)
    assert "Completions of 12 weeks in the quarter" in exact_q1.assumptions["People counted"]
    for measure in ("Diversions", "Withdrawals", "Deaths"):
        assert "latest dated event" in figure(exact_q1, measure).definition


def test_every_figure_has_a_one_line_definition_and_a_source(exact_q1):
    assert {f.section for f in exact_q1.figures} == set(pack.SECTION_OF.values())
    for f in exact_q1.figures:
        assert f.definition and "\n" not in f.definition, f.measure
        assert f.source, f.measure
        assert f.direction in ("up", "down", "same", "n/a")
    assert figure(exact_q1, "Referrals received").source == \
        "tracker snapshot 5 (as at 31/07/2022)"
    assert figure(exact_q1, "Caseload at quarter end").source == \
        "tracker snapshot 4 (as at 30/06/2022)"


def test_a_part_quarter_rates_its_stock_but_not_its_flows(demo_db_template, tmp_path):
    # The demo's latest snapshot is as at 31/07/2022, a month into 2022/23 Q2.
    from dashboard.pack import export as pack_export
    con = database.connect_read_only(demo_db_template)
    part = pack.build_pack(con, COMMAND_LINE, "2022/23-Q2", disclosure="exact")
    con.close()
    for f in part.figures:
        if f.section == "Stock at quarter end":
            assert f.direction == pack.direction(f.value, f.previous), f.measure
        elif f.section != "Data coverage":
            assert f.direction == "incomplete", f.measure
    referrals = figure(part, "Referrals received")
    assert referrals.value < referrals.previous  # the fall the arrow would have shown
    # The trend leaves the part quarter out (a line falling to it reads as a collapse), and
    # says why where its value would be; the quarters before it are whole and drawn.
    last = part.trend[part.trend["quarter"] == "2022/23 Q2"]
    assert len(last) == len(pack.TREND_MEASURES) and last["value"].isna().all()
    assert last.set_index("measure").loc["Referrals received", "display"] == \
        f"{referrals.display} (part quarter)"
    assert part.trend.loc[part.trend["quarter"] == "2022/23 Q1", "value"].notna().all()
    assert any("its flows are incomplete" in c for c in part.caveats)
    path = tmp_path / "part.pdf"
    path.write_bytes(pack_export.pdf_bytes(part))
    printed = " ".join(subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True,
                                      capture_output=True, text=True).stdout.split())
    assert f"Referrals received {referrals.display} {referrals.previous_display} " in printed
    assert "n/a (part quarter)" in printed and "\u2193 down" not in printed.split(
        "Stock at quarter end")[0]


def test_no_table_note_sends_the_reader_to_the_table_itself(exact_q1, controlled_q1):
    for table in exact_q1.tables + controlled_q1.tables:
        assert table.note and f"the {table.name} table" not in table.note, table.name


def test_the_figures_are_the_measures_table_in_its_order(exact_q1):
    assert [(f.section, f.measure, f.definition) for f in exact_q1.figures] == [
        (m.section, m.name, m.definition) for m in pack.MEASURES]


def test_previous_quarter_and_year_ago_figures(demo_con, exact_q1):
    previous = (dt.date(2022, 1, 1), dt.date(2022, 3, 31))  # 2021/22 Q4
    year_ago = (dt.date(2021, 4, 1), dt.date(2021, 6, 30))  # 2021/22 Q1
    for measure, step in pack.HEADLINE_STEPS.items():
        f = figure(exact_q1, measure)
        assert f.previous == headline(demo_con, step, *previous), measure
        assert f.year_ago == headline(demo_con, step, *year_ago), measure
        assert f.direction == pack.direction(f.value, f.previous)
    referrals = figure(exact_q1, "Referrals received")
    assert referrals.direction == ("up" if referrals.value > referrals.previous else "down")
    # Stock a quarter before comes from that quarter's own snapshot (as at 31/03/2022).
    assert figure(exact_q1, "Caseload at quarter end").previous == 81
    assert figure(exact_q1, "Caseload at quarter end").year_ago_display == "[x]"


def test_trend_is_the_last_eight_quarters_of_the_headline_figures(demo_con, exact_q1):
    trend = exact_q1.trend
    quarters = list(dict.fromkeys(trend["quarter"]))
    assert quarters == ["2020/21 Q2", "2020/21 Q3", "2020/21 Q4", "2021/22 Q1", "2021/22 Q2",
                        "2021/22 Q3", "2021/22 Q4", "2022/23 Q1"]
    assert set(trend["measure"]) == set(pack.TREND_MEASURES)
    assert not trend.duplicated(["quarter", "measure"]).any()
    row = trend[(trend["quarter"] == "2021/22 Q3") & (trend["measure"] == "Referrals received")]
    assert row["value"].iloc[0] == headline(demo_con, "Referrals", dt.date(2021, 10, 1),
                                            dt.date(2021, 12, 31))
    assert row["quarter_start"].iloc[0] == pd.Timestamp("2021-10-01")


def test_calendar_quarters(demo_con):
    built = pack.build_pack(demo_con, COMMAND_LINE, "2022-Q1", scheme="calendar",
                            disclosure="exact")
    assert (built.quarter, built.start, built.end, built.scheme) == (
        "2022 Q1", dt.date(2022, 1, 1), dt.date(2022, 3, 31), "calendar")
    assert figure(built, "Referrals received").value == headline(
        demo_con, "Referrals", dt.date(2022, 1, 1), dt.date(2022, 3, 31))
    assert list(dict.fromkeys(built.trend["quarter"]))[-2:] == ["2021 Q4", "2022 Q1"]


@pytest.mark.parametrize("label", ["2019/20 Q1", "2030/31 Q2"])
@pytest.mark.parametrize("how", ["exact", "controlled"])
def test_a_quarter_with_no_data_gives_zeros_and_na(demo_con, label, how):
    built = pack.build_pack(demo_con, COMMAND_LINE, label, disclosure=how)
    for f in built.figures:
        if f.section == pack.FLOWS:
            assert (f.value, f.display) == (0, "0"), f.measure
        elif f.section == pack.STOCK:
            assert (f.value, f.display) == (None, "[x]"), f.measure
        elif f.section == pack.RATES:
            assert (f.value, f.display) == (None, "[z]"), f.measure
        elif f.section == pack.COST:
            assert (f.value, f.display) == (0, "£0"), f.measure
    assert built.snapshot_id is None
    assert any("stock at quarter end is not available" in c for c in built.caveats)
    assert table(built, "Flows by area")["Offending area"].tolist() == ["Total"]


# --- who may have which pack ----------------------------------------------------------------

def test_the_scrutiny_role_gets_the_same_controlled_pack_and_no_exact_one(demo_con,
                                                                          controlled_q1):
    theirs = pack.build_pack(demo_con, SCRUTINY, Q1)
    assert theirs.figures == controlled_q1.figures
    for mine, ours in zip(theirs.tables, controlled_q1.tables, strict=True):
        pd.testing.assert_frame_equal(mine.frame, ours.frame)
    with pytest.raises(AccessDenied):
        pack.build_pack(demo_con, SCRUTINY, Q1, disclosure="exact")


def test_an_officer_gets_no_programme_pack(demo_con):
    with pytest.raises(AccessDenied):
        pack.build_pack(demo_con, Viewer("PC One", "officer", ("Officer 1",)), Q1)


# --- small numbers --------------------------------------------------------------------------

COUNT_SECTIONS = (pack.FLOWS, pack.STOCK)


def small_counts_visible(built: pack.Pack) -> list:
    found = []
    for f in built.figures:
        if f.section in COUNT_SECTIONS:
            for value, display in ((f.value, f.display), (f.previous, f.previous_display),
                                   (f.year_ago, f.year_ago_display)):
                if (value is not None and 0 < value < 5) or display in ("1", "2", "3", "4"):
                    found.append((f.measure, display))
    for t in built.tables:
        found += [(t.name, cell) for cell in t.frame.to_numpy().ravel()
                  if isinstance(cell, (int, float)) and not isinstance(cell, bool)
                  and 0 < cell < 5]
    trend = built.trend
    found += [("trend", v) for v in trend["value"].dropna() if 0 < v < 5]
    found += [("trend", d) for d in trend["display"] if d in ("1", "2", "3", "4")]
    found += [("caveat", c) for c in built.caveats if any(
        f"{n} referral" in c for n in range(1, 5))]
    return found


@pytest.mark.parametrize("label", ["2021/22 Q1", "2021/22 Q2", "2021/22 Q3", "2021/22 Q4",
                                   "2022/23 Q1", "2022/23 Q2"])
def test_a_controlled_pack_shows_no_count_from_one_to_four(demo_con, label):
    built = pack.build_pack(demo_con, COMMAND_LINE, label)
    assert built.disclosure == "controlled" and built.threshold == 5
    assert small_counts_visible(built) == []


def test_the_exact_pack_does_show_small_counts(exact_q1):
    assert small_counts_visible(exact_q1) != []
    assert exact_q1.disclosure == "exact"
    assert any("not for circulation" in c for c in exact_q1.caveats)


def test_controlled_q1_hides_what_the_demo_data_makes_small(exact_q1, controlled_q1):
    assert figure(exact_q1, "Early discharges").value == 2
    assert figure(controlled_q1, "Early discharges").display == "<5"
    assert figure(controlled_q1, "Early discharges").value is None
    assert figure(controlled_q1, "Admitted to completed").display == "[c]"
    caseload = table(controlled_q1, "Caseload").set_index("Officer")
    # New recruit 2 has 4 Referral/Waiting; Officer 1's 9 is withheld ([c], not "<5") so the
    # 4 cannot be worked out from the column total of 31.
    assert caseload.loc["New recruit 2", "Referral/Waiting"] == "<5"
    assert caseload.loc["Officer 1", "Referral/Waiting"] == "[c]"
    assert caseload.loc["Total", "Referral/Waiting"] == 31
    assert any("counts from 1 to 4 are shown as <5" in c for c in controlled_q1.caveats)


def test_deaths_are_never_broken_down_by_officer_or_area(controlled_q1, exact_q1):
    for built in (controlled_q1, exact_q1):
        for t in built.tables:
            labels = " ".join([*map(str, t.frame.columns),
                               *t.frame.astype(str).to_numpy().ravel()]).lower()
            if "officer" in labels or "area" in labels:
                assert "deceased" not in labels and "death" not in labels, t.name


# --- formula-looking names ----------------------------------------------------------------------

HOSTILE = ('=HYPERLINK("http://evil.example","click")', "+cmd", "@SUM(A1:A9)")


def test_formula_looking_names_stay_plain_text(tmp_path):
    db = tmp_path / "hostile.duckdb"
    rows = [b"Nominal ID,Referral Date,Officer,Referral Source,Offending Area,Status"]
    for index, name in enumerate(HOSTILE * 3):
        quoted = '"' + name.replace('"', '""') + '"'
        rows.append(f"H{index},0{index % 3 + 3}/04/2022,{quoted},Custody,{quoted},Active"
                    .encode())
    service.ingest_bytes(db, "tracker", "hostile.csv", b"\n".join(rows) + b"\n",
                         as_at=dt.date(2022, 6, 30))
    con = database.connect_read_only(db)
    try:
        built = pack.build_pack(con, COMMAND_LINE, Q1, disclosure="exact")
    finally:
        con.close()
    officers = table(built, "Caseload")["Officer"].tolist()
    areas = table(built, "Flows by area")["Offending area"].tolist()
    assert set(HOSTILE) <= set(officers) and set(HOSTILE) <= set(areas)
    assert all(isinstance(name, str) for name in officers + areas)


# --- frozen figures -------------------------------------------------------------------------------

def assert_same_pack(left: pack.Pack, right: pack.Pack) -> None:
    for item in dataclasses.fields(pack.Pack):
        a, b = getattr(left, item.name), getattr(right, item.name)
        if item.name == "tables":
            assert [(t.name, t.title, t.note) for t in a] == [(t.name, t.title, t.note)
                                                              for t in b]
            for x, y in zip(a, b, strict=True):
                pd.testing.assert_frame_equal(x.frame, y.frame)
        elif item.name == "trend":
            pd.testing.assert_frame_equal(a, b)
        else:
            assert a == b, item.name


@pytest.mark.parametrize("quarter", [Q1, "2022/23-Q2"])
@pytest.mark.parametrize("how", ["exact", "controlled"])
def test_a_pack_survives_its_json(demo_con, how, quarter):
    built = pack.build_pack(demo_con, COMMAND_LINE, quarter, disclosure=how)
    assert built.demo
    assert built.part_quarter_to == (None if quarter == Q1 else dt.date(2022, 7, 31))
    assert_same_pack(pack.pack_from_json(pack.pack_to_json(built)), built)


def test_a_pack_stored_before_it_said_part_quarter_or_demo_still_loads(demo_con):
    import json
    stored = json.loads(pack.pack_to_json(pack.build_pack(demo_con, COMMAND_LINE, Q1)))
    del stored["part_quarter_to"], stored["demo"]
    loaded = pack.pack_from_json(json.dumps(stored))
    assert loaded.part_quarter_to is None and loaded.demo is False


NEWER_TRACKER = (b"Nominal ID,Referral Date,Officer,Referral Source,Status\n"
                 b"AUG1,15/05/2022,Officer 1,Custody,Active\n"
                 b"AUG2,01/08/2022,Officer 2,Probation,Active\n")


def test_a_signed_off_pack_is_issued_again_as_it_was(real_history_db, monkeypatch):
    demo_db = real_history_db
    con = database.connect_read_only(demo_db)
    built = pack.build_pack(con, COMMAND_LINE, Q1)
    con.close()
    pack_id = pack.sign_off(demo_db, built, "Chief Inspector Test")
    assert pack.load_signed_off(demo_db, Q1, "financial", "exact") is None
    service.ingest_bytes(demo_db, "tracker", "august.csv", NEWER_TRACKER,
                         as_at=dt.date(2022, 8, 31), confirmed=True)

    frozen = pack.load_signed_off(demo_db, "2022/23-Q1", "financial", "controlled")
    assert (frozen.pack_id, frozen.signed_off_by) == (pack_id, "Chief Inspector Test")
    assert frozen.signed_off_at is not None
    assert_same_pack(frozen, dataclasses.replace(
        built, pack_id=pack_id, signed_off_by="Chief Inspector Test",
        signed_off_at=frozen.signed_off_at))

    con = database.connect_read_only(demo_db)
    fresh = pack.build_pack(con, COMMAND_LINE, Q1)
    con.close()
    assert figure(fresh, "Referrals received").display == "<5"  # the new snapshot's one
    assert figure(frozen, "Referrals received").display == "40"
    differences = pack.compare(frozen, fresh)
    assert "Referrals received: 40 signed off, <5 on current data." in differences
    assert pack.compare(frozen, frozen) == []

    opened = []
    connect = database.connect_read_only
    monkeypatch.setattr(database, "connect_read_only",
                        lambda path: opened.append(path) or connect(path))
    issued = pack.issue(demo_db, COMMAND_LINE, Q1)
    assert issued.pack_id == pack_id and issued.differences == differences
    assert len(opened) == 1  # the signed-off pack and the fresh one read on one connection
    assert pack.issue(demo_db, COMMAND_LINE, Q1, disclosure="exact").pack_id is None


def test_rows_in_another_order_are_no_difference_from_the_signed_off_pack(controlled_q1):
    # Packs signed off before rows were listed by name had them largest first; saying "some
    # cells differ" when only the order moved would rank the withheld ones.
    reordered = dataclasses.replace(controlled_q1, tables=[
        dataclasses.replace(t, frame=t.frame.iloc[::-1]) for t in controlled_q1.tables])
    assert pack.compare(controlled_q1, reordered) == []
    changed = dataclasses.replace(controlled_q1, tables=[
        dataclasses.replace(t, frame=t.frame.replace({"Aston": "Astonia"}))
        for t in controlled_q1.tables])
    assert pack.compare(controlled_q1, changed) == [
        "Table Flows by area: some cells differ on current data."]


def test_a_pack_signed_off_before_rows_went_by_name_is_issued_as_circulated_now(
        demo_db, controlled_q1, exact_q1):
    # Signed off with rows largest first and data-quality counts (before 01/12): issued with
    # rows by name and the issues without counts, its figures the same, and no difference
    # from a re-run on the same data.
    def old_form(table: pack.Table) -> pack.Table:
        if table.name == "Data quality":
            counted = next(t for t in exact_q1.tables if t.name == "Data quality").frame
            return dataclasses.replace(table, frame=counted)
        if table.name in ("Flows by area", "Early discharges", "Caseload"):
            rows, total = table.frame.iloc[:-1], table.frame.iloc[-1:]
            return dataclasses.replace(table, frame=pd.concat([rows.iloc[::-1], total]))
        return table

    old = dataclasses.replace(controlled_q1, tables=[old_form(t) for t in controlled_q1.tables],
                              caveats=[*controlled_q1.caveats, *(
                                  f"Data quality: {count} referral(s) with an event in the "
                                  "quarter: no offending area." for count in ("7", "<5", "[c]"))])
    pack.sign_off(demo_db, old, "Before today")
    issued = pack.load_signed_off(demo_db, Q1)
    for table in issued.tables:
        if table.name in ("Flows by area", "Early discharges", "Caseload"):
            labels = [str(v) for v in table.frame.iloc[:, 0]]
            assert labels == [*sorted(labels[:-1]), "Total"], table.name
        if table.name == "Data quality":
            assert list(table.frame.columns) == ["Issue"]
    assert issued.caveats[-3:] == 3 * ["Data quality: some referrals with an event in the "
                                       "quarter: no offending area."]
    assert [f.display for f in issued.figures] == [f.display for f in controlled_q1.figures]
    assert pack.compare(issued, controlled_q1) == []  # no false difference either
    # an issue found keeps its row, without its count
    found = pack.circulated_now(dataclasses.replace(old, tables=[pack.Table(
        "Data quality", "", "", pd.DataFrame({"Issue": ["No offending area"],
                                              "Referrals": [7]}))]))
    assert found.tables[0].frame.to_dict("list") == {"Issue": ["No offending area"]}
    assert pack.circulated_now(exact_q1) is exact_q1  # the internal pack keeps its counts


def test_a_later_sign_off_supersedes_and_a_nameless_one_is_refused(demo_db, controlled_q1):
    first = pack.sign_off(demo_db, controlled_q1, "First")
    second = pack.sign_off(demo_db, controlled_q1, "Second")
    assert second > first
    assert pack.load_signed_off(demo_db, Q1).signed_off_by == "Second"
    with pytest.raises(ValueError):
        pack.sign_off(demo_db, controlled_q1, "  ")


def test_no_signed_off_pack_in_a_database_without_the_table(tmp_path):
    assert pack.load_signed_off(tmp_path / "missing.duckdb", Q1) is None


# --- command line -----------------------------------------------------------------------------

@pytest.fixture
def written(monkeypatch) -> list:
    """Stands in for dashboard/pack/export, recording what each writer was given."""
    calls = []
    fake = types.ModuleType("dashboard.pack.export")
    fake.write_pdf = lambda built, path: calls.append(("pdf", built, path)) or path
    fake.write_xlsx = lambda built, path: calls.append(("xlsx", built, path)) or path
    monkeypatch.setitem(sys.modules, "dashboard.pack.export", fake)
    monkeypatch.setattr(dashboard.pack, "export", fake, raising=False)
    return calls


def test_the_command_line_writes_a_fresh_controlled_pack(demo_db, tmp_path, written, capsys):
    out = tmp_path / "pack.xlsx"
    assert cli.main(["pack", "--quarter", "2022/23-Q1", "--out", str(out),
                     "--db", str(demo_db)]) == 0
    (kind, built, path), = written
    assert (kind, path, built.quarter, built.disclosure) == ("xlsx", out, Q1, "controlled")
    assert built.pack_id is None
    assert "not signed off" in capsys.readouterr().out


def test_the_command_line_logs_a_pack_it_writes_and_writes_none_it_cannot_log(
        demo_db, tmp_path, written, capsys, security_db, monkeypatch):
    # The pack page's downloads are logged exports; the command line wrote packs unlogged.
    out = tmp_path / "pack.pdf"
    assert cli.main(["pack", "--quarter", "2022/23-Q1", "--exact", "--out", str(out),
                     "--db", str(demo_db)]) == 0
    log = audit.read_log(security_db, action="export")
    assert log["target"].tolist() == ["pack.pdf"] and "exact" in log["filters"].iloc[0]
    assert log["who"].iloc[0].startswith("command line")

    def unwritable(*args, **kwargs):
        raise audit.AccessLogError("The access log could not be written (disk full).")
    monkeypatch.setattr(audit, "record", unwritable)
    assert cli.main(["pack", "--quarter", "2022/23-Q1", "--out", str(tmp_path / "p2.pdf"),
                     "--db", str(demo_db)]) == 3
    assert len(written) == 1 and "was not written" in capsys.readouterr().err


def test_the_command_line_issues_the_signed_off_pack(real_history_db, tmp_path, written, capsys):
    demo_db = real_history_db
    con = database.connect_read_only(demo_db)
    built = pack.build_pack(con, COMMAND_LINE, Q1, disclosure="exact")
    con.close()
    pack_id = pack.sign_off(demo_db, built, "Steering chair")
    service.ingest_bytes(demo_db, "tracker", "august.csv", NEWER_TRACKER,
                         as_at=dt.date(2022, 8, 31), confirmed=True)
    assert cli.main(["pack", "--quarter", "2022/23 Q1", "--exact", "--format", "pdf",
                     "--out", str(tmp_path / "p.pdf"), "--db", str(demo_db)]) == 0
    (kind, issued, _), = written
    assert kind == "pdf" and issued.pack_id == pack_id
    assert figure(issued, "Referrals received").display == "40"
    assert issued.differences
    printed = capsys.readouterr().out
    assert f"signed-off pack {pack_id}" in printed and "Now differs: Referrals received" \
        in printed


def test_the_command_line_refuses_a_bad_quarter(demo_db, written, capsys):
    assert cli.main(["pack", "--quarter", "2022/23 Q1", "--scheme", "calendar",
                     "--db", str(demo_db)]) == 2
    assert "financial quarter" in capsys.readouterr().err
    assert written == []


def test_a_new_database_can_keep_a_signed_off_pack(tmp_path):
    db = tmp_path / "new.duckdb"
    with database.writing(db):
        pass  # the schema, nothing else
    con = database.connect_read_only(db)
    try:
        assert con.execute("select count(*) from packs").fetchall() == [(0,)]
    finally:
        con.close()


@pytest.mark.parametrize("quarter", [Q1, "2022/23-Q2", "2021/22-Q3"])
@pytest.mark.parametrize("how", ["exact", "controlled"])
def test_no_short_table_is_split_across_pages_of_the_pdf(demo_con, how, quarter, tmp_path):
    # Split, a table's last rows (its total) sat alone on the next page under a repeated
    # header; a table that fits a page now starts on a new one rather than break.
    from dashboard.pack import export as pack_export
    built = pack.build_pack(demo_con, COMMAND_LINE, quarter, disclosure=how)
    path = tmp_path / "pack.pdf"
    path.write_bytes(pack_export.pdf_bytes(built))
    pages = [" ".join(page.split()) for page in subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True,
        text=True).stdout.split("\f")[:-1]]
    for table in built.tables:
        if table.frame.empty or len(table.frame) > 20:
            continue
        title = " ".join(table.title.split())
        (page,) = [p for p in pages if title in p]
        after = page.split(title, 1)[1]
        last = table.frame.iloc[-1, 0]
        assert str(last) in after, (table.title, last)


def test_a_part_quarter_pack_for_circulation_is_not_signed_off(real_history_db):
    # Frozen, its figures beside the whole quarter's later (the panel sees how current data
    # differs) would give away the counts of the weeks between.
    con = database.connect_read_only(real_history_db)
    try:
        circulated = pack.build_pack(con, Viewer("Chair", "steering"), "2022/23 Q2")
        internal = pack.build_pack(con, COMMAND_LINE, "2022/23 Q2", disclosure="exact")
    finally:
        con.close()
    with pytest.raises(ValueError, match=r"2022/23 Q2 is not over in the data \(to 31/07/2022\)"):
        pack.sign_off(real_history_db, circulated, "Chair")
    assert pack.load_signed_off(real_history_db, "2022/23 Q2") is None
    assert pack.sign_off(real_history_db, internal, "Chair")
