"""Outcomes: offending before and after, worked out again here from the generated records;
exact intervals; Kaplan-Meier retention; the command line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import subprocess
import sys
import warnings
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from dashboard import service
from dashboard.analysis import outcomes
from dashboard.security.access import COMMAND_LINE, Viewer
from dashboard.store import database, queries

from conftest import ROOT

DEMO = ROOT / "data" / "demo"
D = dt.date
DAY = dt.timedelta(days=1)


# ---- the generated records, read without the dashboard's code ----------------------------

def tracker_rows(path: Path) -> list[dict]:
    raw = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(
        skip_empty_area=False)
    header_at = next(i for i, row in enumerate(raw) if row and row[0] == "Nominal ID")
    rows = []
    for values in raw[header_at + 1:]:
        if all(v == "" for v in values):
            continue
        row = dict(zip(raw[header_at], values))
        for key, value in row.items():
            if isinstance(value, dt.datetime):
                row[key] = value.date()
            elif value == "":
                row[key] = None
        rows.append(row)
    return rows


def connect_rows(path: Path) -> list[dict]:
    text = path.read_bytes().decode("cp1252")
    rows = []
    for row in csv.DictReader(io.StringIO(text, newline="")):
        money = row["Value Stolen"].replace("£", "").replace(",", "")
        rows.append({"id": row["Nominal ID"].upper(),
                     "date": dt.datetime.strptime(row["Offence Date"], "%d/%m/%Y").date(),
                     "value": Decimal(money) if money else Decimal(0)})
    return rows


def group_of(row: dict) -> str:
    if row["Rehab Admission Date"]:
        if row["Rehab Exit Reason"] == "Completed":
            return "Completed 12 weeks"
        return "Left rehab early" if row["Rehab Exit Date"] else "In rehab"
    return "Assessed, not admitted" if row["Assessment Date"] else "Referred, not assessed"


def label(days: int) -> str:
    return {91: "3 months", 182: "6 months", 365: "12 months", 730: "24 months"}.get(
        days, f"{days} days")


def expected_windows(tracker: list[dict], crimes: list[dict], tracker_as_at: dt.date,
                     connect_as_at: dt.date | None, before: int = 365,
                     after_referral: int = 182, after_exit: int = 182) -> dict:
    """Every group x window, counted by hand: {(group, window): figures}."""
    by_person = defaultdict(list)
    for crime in crimes:
        by_person[crime["id"]].append(crime)
    totals: dict = {}

    def add(group, window, person, first, last, followed, baseline):
        t = totals.setdefault((group, window), {
            "referrals": 0, "people": set(), "days": 0, "offences": 0, "without": 0,
            "value": Decimal(0), "base_offences": 0, "base_days": 0, "not_followed": 0})
        if not followed:
            t["not_followed"] += 1
            return None
        hits = [c for c in by_person[person] if first <= c["date"] <= last]
        t["referrals"] += 1
        t["people"].add(person)
        t["days"] += (last - first).days + 1
        t["offences"] += len(hits)
        t["without"] += not hits
        t["value"] += sum((c["value"] for c in hits), Decimal(0))
        if baseline is not None:
            t["base_offences"] += baseline[0]
            t["base_days"] += baseline[1]
        return (len(hits), (last - first).days + 1)

    def covered(last):
        return connect_as_at is not None and last <= connect_as_at

    for row in tracker:
        person, group = row["Nominal ID"].upper(), group_of(row)
        referral = row["Referral Date"]
        admission, exit_ = row["Rehab Admission Date"], row["Rehab Exit Date"]
        base = add(group, f"{label(before)} before referral", person,
                   referral - before * DAY, referral - DAY, covered(referral - DAY), None)
        last = referral + (after_referral - 1) * DAY
        add(group, f"{label(after_referral)} after referral", person, referral, last,
            covered(last), base)
        if admission:
            end = min(exit_ or tracker_as_at, connect_as_at or D.max)
            add(group, "During rehab", person, admission, end, covered(admission), base)
        if exit_:
            last = exit_ + after_exit * DAY
            add(group, f"{label(after_exit)} after rehab exit", person, exit_ + DAY, last,
                covered(last), base)
    return totals


def as_compared(frame: pd.DataFrame) -> dict:
    out = {}
    for row in frame.itertuples():
        out[(row.outcome_group, row.window)] = (
            row.referrals, row.people, round(row.person_years * 365.25), row.offences,
            row.referrals_without_offence, round(row.value_stolen_gbp, 2),
            None if pd.isna(row.baseline_offences) else int(row.baseline_offences),
            None if pd.isna(row.baseline_person_years)
            else round(row.baseline_person_years * 365.25),
            row.referrals_not_followed_up)
    return out


def as_expected(totals: dict, before_label: str) -> dict:
    return {key: (t["referrals"], len(t["people"]), t["days"], t["offences"], t["without"],
                  float(t["value"]),
                  None if key[1] == before_label else t["base_offences"],
                  None if key[1] == before_label else t["base_days"], t["not_followed"])
            for key, t in totals.items()}


@pytest.fixture(scope="module")
def generated():
    tracker = tracker_rows(DEMO / "o2r_tracker_synthetic_as_at_2022-07-31.xlsx")
    crimes = connect_rows(DEMO / "o2r_connect_synthetic.csv")
    return tracker, crimes


@pytest.mark.parametrize("lengths", [
    {},  # the issue's defaults: 12 months before referral, 6 months after exit
    {"before_days": 182, "after_referral_days": 91, "after_exit_days": 91},
    {"before_days": 730, "after_referral_days": 365, "after_exit_days": 365},
])
def test_every_group_and_window_matches_a_count_by_hand(demo_con, generated, lengths):
    tracker, crimes = generated
    result = queries.run(demo_con, COMMAND_LINE, "offending_windows", **lengths)
    expected = expected_windows(tracker, crimes, D(2022, 7, 31), D(2022, 7, 31),
                                lengths.get("before_days", 365),
                                lengths.get("after_referral_days", 182),
                                lengths.get("after_exit_days", 182))
    before_label = f"{label(lengths.get('before_days', 365))} before referral"
    assert as_compared(result) == as_expected(expected, before_label)
    assert not result.duplicated(["outcome_group", "window"]).any()


def test_the_default_windows_are_the_issues(demo_con):
    result = queries.run(demo_con, COMMAND_LINE, "offending_windows")
    windows = set(result["window"])
    assert {"12 months before referral", "6 months after rehab exit"} <= windows
    groups = result.groupby("outcome_group")["window"].apply(set).to_dict()
    assert set(groups) == {"Completed 12 weeks", "Left rehab early", "In rehab",
                           "Assessed, not admitted", "Referred, not assessed"}
    assert "6 months after rehab exit" not in groups["In rehab"]
    assert "During rehab" not in groups["Referred, not assessed"]
    # the before window of a group covers every referral in it: the group sizes add up
    before = result[result["window"] == "12 months before referral"]
    referrals = demo_con.execute("select count(*) from referrals where snapshot_id = $s",
                                 {"s": queries.latest_snapshot_id(demo_con)}).fetchone()[0]
    assert before["referrals"].sum() == referrals


# ---- the edges of each window, on a tiny hand-made data set -------------------------------

TRACKER = (
    "Nominal ID,Referral Date,Officer,Referral Source,Status,First Contact Date,"
    "Assessment Date,Rehab Admission Date,Rehab Facility,Rehab Exit Date,Rehab Exit Reason\n"
    # completed; exit 01/03/2022, so 6 months after exit ends 30/08/2022: not yet followed
    "LATE_1,01/10/2021,Officer 1,Custody,Active,02/10/2021,03/10/2021,01/12/2021,Seasons,"
    "01/03/2022,Completed\n"
    # left early on 01/01/2022: followed to 02/07/2022 (exit + 182), within the Connect as-at
    "EDGE_1,01/09/2021,Officer 1,Custody,Active,02/09/2021,03/09/2021,05/12/2021,Seasons,"
    "01/01/2022,Self-discharged\n"
    "NOTADM_1,01/06/2021,Officer 2,Custody,Inactive,02/06/2021,03/06/2021,,,,\n")
CONNECT = (
    "Crime Reference,Nominal ID,Offence Date,Offence Type,Offence Area,Value Stolen\n"
    "R1,EDGE_1,01/09/2020,Shoplifting,City Centre,£10.00\n"    # referral - 365: before
    "R2,EDGE_1,31/08/2020,Shoplifting,City Centre,£20.00\n"    # referral - 366: outside
    "R3,EDGE_1,01/09/2021,Shoplifting,City Centre,£40.00\n"    # referral day: not before
    "R4,EDGE_1,01/01/2022,Shoplifting,City Centre,£80.00\n"    # exit day: during, not after
    "R5,EDGE_1,02/01/2022,Shoplifting,City Centre,£160.00\n"   # exit + 1: after
    "R6,EDGE_1,02/07/2022,Assault,City Centre,\n"              # exit + 182: after
    "R7,EDGE_1,03/07/2022,Shoplifting,City Centre,£320.00\n"   # exit + 183: outside
    "R8,LATE_1,02/03/2022,Shoplifting,City Centre,£5.00\n"     # after exit, not followed up
    "R9,NOTADM_1,01/07/2021,Shoplifting,City Centre,£1.50\n")  # after referral


@pytest.fixture(scope="module")
def edge_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("edges") / "o2r.duckdb"
    service.ingest_bytes(db, "tracker", "t.csv", TRACKER.encode(), as_at=D(2022, 7, 31))
    service.ingest_bytes(db, "connect", "c.csv", CONNECT.encode("utf-8"), as_at=D(2022, 7, 20))
    return db


def run_on(db: Path, name: str, viewer=COMMAND_LINE, **params) -> pd.DataFrame:
    con = database.connect_read_only(db)
    try:
        return queries.run(con, viewer, name, **params)
    finally:
        con.close()


def test_window_edges_and_follow_up(edge_db):
    rows = run_on(edge_db, "offending_windows").set_index(["outcome_group", "window"])
    edge_before = rows.loc[("Left rehab early", "12 months before referral")]
    assert (edge_before["offences"], edge_before["value_stolen_gbp"]) == (1, 10.0)
    during = rows.loc[("Left rehab early", "During rehab")]
    assert (during["offences"], round(during["person_years"] * 365.25)) == (1, 28)
    after = rows.loc[("Left rehab early", "6 months after rehab exit")]
    assert (after["offences"], after["value_stolen_gbp"], after["referrals"]) == (2, 160.0, 1)
    assert (after["baseline_offences"], after["referrals_not_followed_up"]) == (1, 0)
    late = rows.loc[("Completed 12 weeks", "6 months after rehab exit")]
    # not followed up: left out, never counted as zero offences
    assert (late["referrals"], late["offences"], late["referrals_not_followed_up"]) == (0, 0, 1)
    assert late["person_years"] == 0
    comparison = rows.loc[("Assessed, not admitted", "6 months after referral")]
    assert (comparison["offences"], comparison["value_stolen_gbp"]) == (1, 1.5)


def test_without_a_connect_upload_nobody_is_followed_up(tmp_path):
    db = tmp_path / "o2r.duckdb"
    service.ingest_bytes(db, "tracker", "t.csv", TRACKER.encode(), as_at=D(2022, 7, 31))
    rows = run_on(db, "offending_windows")
    assert rows["referrals"].sum() == 0
    assert (rows["referrals_not_followed_up"] > 0).all()
    assert run_on(db, "time_to_first_offence").empty


def test_an_officer_sees_only_their_own_referrals(edge_db):
    officer = Viewer("PC Two", "officer", ("Officer 2",))
    rows = run_on(edge_db, "offending_windows", viewer=officer)
    assert set(rows["outcome_group"]) == {"Assessed, not admitted"}
    nobody = Viewer("PC None", "officer", ())
    assert run_on(edge_db, "offending_windows", viewer=nobody).empty


def test_the_command_line_returns_the_rows(edge_db):
    result = subprocess.run(
        [sys.executable, "-m", "dashboard", "query", "offending_windows", "--format", "csv",
         "--param", "after_exit_days=91", "--db", str(edge_db)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame.columns[:5]) == ["outcome_group", "window", "window_days", "referrals",
                                       "people"]
    assert {"person_years", "offences", "value_stolen_gbp"} <= set(frame.columns)
    assert "3 months after rehab exit" in set(frame["window"])


# ---- intervals ---------------------------------------------------------------------------

def test_exact_poisson_interval_matches_the_published_table():
    # Garwood (1936) limits, as tabulated (e.g. Sahai and Khurshid 1993): 0 -> 0 to 3.689,
    # 10 -> 4.795 to 18.390.
    assert [round(x, 3) for x in outcomes.poisson_rate_interval(0, 1)] == [0.0, 3.689]
    assert [round(x, 3) for x in outcomes.poisson_rate_interval(10, 1)] == [4.795, 18.39]
    low, high = outcomes.poisson_rate_interval(10, 2)
    assert (round(low, 4), round(high, 4)) == (round(4.7954 / 2, 4), round(18.3904 / 2, 4))
    assert all(math.isnan(x) for x in outcomes.poisson_rate_interval(3, 0))


def test_rate_ratio_interval_contains_the_ratio_and_is_symmetric_on_the_log_scale():
    ratio, low, high = outcomes.rate_ratio_interval(20, 2.0, 20, 2.0)
    assert ratio == 1 and low < 1 < high
    assert math.isclose(math.log(low), -math.log(high), rel_tol=1e-9)
    ratio, low, high = outcomes.rate_ratio_interval(5, 1.0, 40, 2.0)
    assert math.isclose(ratio, 0.25) and low < 0.25 < high < 1
    # the interval widens as the counts shrink
    _, low_small, high_small = outcomes.rate_ratio_interval(1, 1.0, 8, 2.0)
    assert low_small < low and high_small > high
    assert all(math.isnan(x) for x in outcomes.rate_ratio_interval(0, 1.0, 0, 1.0))


def test_exact_intervals_are_scipys_found_without_its_root_search():
    from scipy import stats as sps

    from dashboard.analysis import stats

    for trials in [*range(1, 41), 97, 250, 1000]:
        for successes in range(0, trials + 1, max(1, trials // 40)):
            found = sps.binomtest(successes, trials).proportion_ci(0.95, method="exact")
            low, high = stats.exact_binomial_interval(successes, trials)
            assert math.isclose(low, found.low, abs_tol=1e-11), (successes, trials)
            assert math.isclose(high, found.high, abs_tol=1e-11), (successes, trials)
    for events in [*range(0, 60), 250, 1000]:
        low, high = stats.exact_poisson_interval(events)
        assert math.isclose(low, sps.chi2.ppf(0.025, 2 * events) / 2 if events else 0.0,
                            rel_tol=1e-12, abs_tol=1e-15), events
        assert math.isclose(high, sps.chi2.ppf(0.975, 2 * events + 2) / 2, rel_tol=1e-12), events


def test_with_rates_adds_rates_ratios_and_the_sustained_share(demo_con):
    rated = outcomes.with_rates(queries.run(demo_con, COMMAND_LINE, "offending_windows"))
    followed = rated[rated["person_years"] > 0]
    assert ((followed["rate_low"] <= followed["rate"])
            & (followed["rate"] <= followed["rate_high"])).all()
    after = rated[rated["window"] == "6 months after rehab exit"]
    assert after["rate_ratio"].notna().all()
    assert (after["share_without_offence"] == after["referrals_without_offence"]
            / after["referrals"]).all()
    assert rated.loc[rated["window"] == "12 months before referral", "rate_ratio"].isna().all()


# ---- Kaplan-Meier ------------------------------------------------------------------------

def product_limit(durations, events, t):
    """S(t) worked out by hand, for the check."""
    survival = 1.0
    for time in sorted({d for d, e in zip(durations, events) if e and d <= t}):
        at_risk = sum(d >= time for d in durations)
        died = sum(d == time and e for d, e in zip(durations, events))
        survival *= 1 - died / at_risk
    return survival


def test_survival_curve_is_the_product_limit_estimate():
    durations = [10, 21, 21, 30, 84, 90, 5, 50, 100]
    events = [True] * 6 + [False] * 3
    counts = pd.DataFrame({"days": durations, "is_event": events, "n": 1})
    curve = outcomes.survival_curve(counts)
    for day in (0, 5, 10, 21, 30, 50, 84, 90, 100):
        shown = curve.loc[curve["day"] <= day, "survival"].iloc[-1]
        assert math.isclose(shown, product_limit(durations, events, day)), day
    banded = curve.dropna(subset=["low"])
    assert ((banded["low"] <= banded["survival"]) & (banded["survival"] <= banded["high"])).all()
    # weights are people: two rows of one are one row of two
    doubled = outcomes.survival_curve(pd.DataFrame({"days": [21], "is_event": [True],
                                                    "n": [2]}))
    assert doubled["survival"].tolist() == [1.0, 0.0]


def scipy_curve(counts):
    """The curve from scipy.stats.ecdf itself, one entry per person, as the page once drew it."""
    import numpy as np
    from scipy import stats as sps

    days = np.repeat(counts["days"].to_numpy(dtype=float), counts["n"].to_numpy(dtype=int))
    ended = np.repeat(counts["is_event"].to_numpy(dtype=bool), counts["n"].to_numpy(dtype=int))
    sf = sps.ecdf(sps.CensoredData(uncensored=days[ended], right=days[~ended])).sf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(0.95, method="log-log")
    return sf.quantiles, sf.probabilities, band.low.probabilities, band.high.probabilities


@pytest.mark.parametrize("seed", range(300))
def test_survival_curve_is_what_scipy_ecdf_gives(seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 40))
    counts = pd.DataFrame({
        # few distinct days, so ties of ended and censored stays at one day are common
        "days": rng.integers(0, int(rng.integers(1, 120)), rows),
        # all censored, none censored, and everything between
        "is_event": rng.random(rows) < [0.0, 1.0, rng.random()][seed % 3],
        "n": rng.integers(0 if seed % 5 else 1, 6, rows)})
    counts.loc[0, "is_event"] = seed % 3 != 0 or counts["n"].sum() == 0  # one event at least
    curve = outcomes.survival_curve(counts)
    if counts["n"].sum() == 0:
        assert curve.empty
        return
    times, survival, low, high = scipy_curve(counts)
    assert curve["day"].tolist() == [0.0, *times]
    for ours, theirs in ((curve["survival"], survival), (curve["low"], low),
                         (curve["high"], high)):
        assert np.allclose(ours.to_numpy()[1:], theirs, rtol=0, atol=1e-12, equal_nan=True)
    followed = np.repeat(counts["days"].to_numpy(), counts["n"].to_numpy())
    assert curve["at_risk"].tolist() == [len(followed), *((followed >= t).sum() for t in times)]


def test_retention_in_the_demo_follows_the_stays(demo_con):
    stays = queries.run(demo_con, COMMAND_LINE, "rehab_stays")
    assert stays["admissions"].sum() == 27
    table = outcomes.retention_table(stays, None)
    # nobody still in rehab had 21 days censored before day 21? then S(21-) is a plain share
    early_censored = stays[(~stays["has_left"]) & (stays["days"] < 21)]["admissions"].sum()
    stayed_21 = stays[stays["days"] >= 21]["admissions"].sum()
    if early_censored == 0:
        assert math.isclose(table.loc[0, "retained_21"], stayed_21 / 27)
    assert table.loc[0, "retained_21"] >= table.loc[0, "retained_42"] >= \
        table.loc[0, "retained_84"]
    by_facility = outcomes.retention_table(stays, "rehab_facility")
    assert by_facility["admissions"].sum() == 27
    title = outcomes.retention_headline(table)
    assert f"{table.loc[0, 'retained_21']:.0%}" in title


def test_retained_or_completed_counts_only_stays_that_had_12_weeks(demo_con):
    stays = queries.run(demo_con, COMMAND_LINE, "rehab_stays")
    measure = outcomes.retained_or_completed(stays)
    in_rehab_short = stays[(~stays["has_left"]) & (stays["days"] < 84)]["admissions"].sum()
    assert measure["not_yet"] == in_rehab_short
    assert measure["base"] + measure["not_yet"] == 27
    completed = stays[stays["is_completed"]]["admissions"].sum()
    assert measure["met"] >= completed
    assert measure["low"] <= measure["share"] <= measure["high"]


def test_time_to_first_offence_covers_every_followed_exit(demo_con):
    times = queries.run(demo_con, COMMAND_LINE, "time_to_first_offence")
    exited = demo_con.execute(
        "select count(*) from referrals where snapshot_id = $s and rehab_exit_date is not null "
        "and rehab_exit_date < date '2022-07-31'",
        {"s": queries.latest_snapshot_id(demo_con)}).fetchone()[0]
    assert times["referrals"].sum() == exited
    assert (times["days"] > 0).all()


# ---- the demo's story ---------------------------------------------------------------------

def test_the_demo_tells_the_story_its_generator_states(demo_con):
    sys.path.insert(0, str(ROOT / "data"))
    from generate_demo import EXPECTED_OUTCOMES

    rows = queries.run(demo_con, COMMAND_LINE, "offending_windows")
    shown = {(r.outcome_group, r.window): (
        r.referrals, r.offences, None if pd.isna(r.baseline_offences) else r.baseline_offences)
        for r in rows.itertuples()}
    assert shown == EXPECTED_OUTCOMES
    rated = outcomes.with_rates(rows).set_index(["outcome_group", "window"])["rate_ratio"]
    completers = rated[("Completed 12 weeks", "6 months after rehab exit")]
    early = rated[("Left rehab early", "6 months after rehab exit")]
    comparison = [rated[(g, "6 months after referral")] for g in outcomes.COMPARISON_GROUPS]
    # a fall for everyone (regression to the mean), largest for completers
    assert completers < early < min(comparison) and max(comparison) < 1


def test_retention_after_everyone_has_left_is_zero_not_unknown():
    # Three admitted, all gone by day 32: at 42 and 84 days the share still in rehab is known
    # (0%), though nobody was followed that long. The table said "not yet known" beside a
    # curve at 0%, and the chart's title left the 12-week figure out.
    gone = pd.DataFrame({"days": [10, 20, 32], "has_left": [True] * 3, "admissions": [1] * 3})
    table = outcomes.retention_table(gone, None)
    assert [table[f"retained_{day}"].iloc[0] for day in outcomes.RETENTION_DAYS] == [
        pytest.approx(1 / 3), 0.0, 0.0]
    assert outcomes.retention_headline(table).endswith("0% after 12 weeks")
    shown = outcomes.retention_display(table)
    assert shown["Still in rehab at 84 days (95% band)"].iloc[0] == "0%"
    # one still in rehab at day 32: what happens to them after is not known yet
    staying = gone.assign(has_left=[True, True, False])
    assert math.isnan(outcomes.retention_table(staying, None)["retained_42"].iloc[0])


@pytest.mark.parametrize(("rate", "shown"), [
    (7.6, "7.6"), (25.31, "25.3"), (1.0, "1.0"), (0.0, "0.0"), (0.25, "0.25"),
    (0.0161, "0.016"), (0.000123, "0.00012"), (-0.043, "-0.043"), (-2.04, "-2.0"),
])
def test_a_small_rate_keeps_two_significant_figures(rate, shown):
    # Completers who offend rarely read "0.0 a person-year (95% CI 0.0 to 0.0)" with 6
    # offences recorded: a rate below 1 keeps two significant figures.
    assert outcomes.rate_figure(rate) == shown


def test_a_rate_and_its_interval_are_written_alike():
    assert outcomes.rate_text(0.0161, 0.0059, 0.035) == \
        "0.016 a person-year (95% CI 0.0059 to 0.035)"
    assert outcomes.rate_text(7.6, 5.94, 9.71) == "7.6 a person-year (95% CI 5.9 to 9.7)"
    assert outcomes.rate_text(math.nan, math.nan, math.nan) == "no one followed up yet"
