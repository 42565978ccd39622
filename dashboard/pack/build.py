"""The quarterly scrutiny pack: a quarter's figures built fresh, signed off, frozen, re-issued.

Flows (referrals received, admissions, completions...) are counted by event date in the
latest tracker snapshot, exactly as the dashboard counts them; stock (caseload, people in
rehab) comes from the latest snapshot taken on or before the quarter's last day. Every count
is read exact and programme-wide, then each quarter is protected once, as one publication,
through disclosure.py (for a pack in circulation); a pack shows other quarters (comparisons,
trend) exactly as their own packs do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import numbers
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from dashboard import access, cost_model, periods, queries, store
from dashboard import caseload as caseload_table
from dashboard.pack import disclosure as rules
from dashboard.pack.disclosure import CONTROLLED, NOT_AVAILABLE
from dashboard.pack.model import Figure, Pack, Table

FINANCIAL, CALENDAR = "financial", "calendar"
SCHEMES = (FINANCIAL, CALENDAR)
TREND_QUARTERS = 8
FLOWS, STOCK, RATES, COST, COVERAGE = (
    "Flows in the quarter", "Stock at quarter end", "Rates", "Cost savings", "Data coverage")
PACK_FORMAT = 1  # bumped if the stored JSON ever changes shape


# --- quarters -------------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Quarter:
    """A quarter of a UK financial year (Q1 = April-June) or of a calendar year."""

    scheme: str
    year: int  # financial: the year its financial year starts in; calendar: the year
    number: int  # 1 to 4

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"Quarter scheme must be one of {', '.join(SCHEMES)}, "
                             f"not {self.scheme!r}")
        if self.number not in (1, 2, 3, 4):
            raise ValueError(f"A quarter is numbered 1 to 4, not {self.number}")

    @property
    def period(self) -> periods.Period:
        if self.scheme == FINANCIAL:
            return periods.financial_quarter(self.year, self.number)
        start = dt.date(self.year, 3 * self.number - 2, 1)
        following = dt.date(self.year + self.number // 4, 3 * self.number % 12 + 1, 1)
        return periods.Period(f"{self.year} Q{self.number}", start,
                              following - dt.timedelta(days=1))

    @property
    def label(self) -> str:
        return self.period.label

    @property
    def start(self) -> dt.date:
        return self.period.start

    @property
    def end(self) -> dt.date:
        return self.period.end

    def shift(self, quarters: int) -> Quarter:
        """The quarter `quarters` on (negative: back) in the same scheme."""
        index = self.year * 4 + self.number - 1 + quarters
        return Quarter(self.scheme, index // 4, index % 4 + 1)

    def previous(self) -> Quarter:
        return self.shift(-1)

    def year_ago(self) -> Quarter:
        return self.shift(-4)


def quarter_containing(day: dt.date, scheme: str = FINANCIAL) -> Quarter:
    """The quarter a date falls in: 31 March 2022 is 2021/22 Q4, 1 April 2022 is 2022/23 Q1."""
    if scheme == FINANCIAL:
        year = periods.financial_year_start(day)
        return Quarter(FINANCIAL, year, (day.month - 4) % 12 // 3 + 1)
    return Quarter(scheme, day.year, (day.month - 1) // 3 + 1)


FINANCIAL_LABEL = re.compile(r"^\s*(\d{4})\s*/\s*(\d{2}|\d{4})\s*[- ]?\s*q([1-4])\s*$", re.I)
CALENDAR_LABEL = re.compile(r"^\s*(\d{4})\s*[- ]?\s*q([1-4])\s*$", re.I)


def parse_quarter(text: str | Quarter, scheme: str | None = None) -> Quarter:
    """'2022/23 Q1' or '2022/23-Q1' (financial), '2022 Q2' or '2022-Q2' (calendar).

    The label says its scheme; a `scheme` that disagrees is an error rather than a guess."""
    if isinstance(text, Quarter):
        quarter = text
    elif match := FINANCIAL_LABEL.match(text):
        first, second, number = match.groups()
        expected = int(first) + 1
        if int(second) != (expected % 100 if len(second) == 2 else expected):
            raise ValueError(f"{text!r}: a financial year runs from one year into the next, "
                             f"e.g. {first}/{expected % 100:02d}")
        quarter = Quarter(FINANCIAL, int(first), int(number))
    elif match := CALENDAR_LABEL.match(text):
        quarter = Quarter(CALENDAR, int(match.group(1)), int(match.group(2)))
    else:
        raise ValueError(f"{text!r} is not a quarter: write 2022/23 Q1 (financial year, "
                         "Q1 = April to June) or 2022 Q2 (calendar year)")
    if scheme is not None and scheme != quarter.scheme:
        example = ("2022/23 Q1" if scheme == FINANCIAL else "2022 Q2")
        raise ValueError(f"{quarter.label} is a {quarter.scheme} quarter, not a {scheme} one: "
                         f"write it like {example}")
    return quarter


# --- the data behind a quarter ----------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    upload_id: int
    as_at: dt.date

    def describe(self, kind: str) -> str:
        return f"{kind} {self.upload_id} (as at {self.as_at:%d/%m/%Y})"


@dataclass
class QuarterData:
    """Counts for one quarter as the viewer may see them (NaN: hidden upstream)."""

    quarter: Quarter
    flows_snapshot: Upload | None
    stock_snapshot: Upload | None
    connect: Upload | None
    counts: dict[str, object] = field(default_factory=dict)
    rates: dict[str, tuple[object, object]] = field(default_factory=dict)
    area_flows: pd.DataFrame | None = None
    early_discharges: pd.DataFrame | None = None
    diversions: pd.DataFrame | None = None
    caseload: pd.DataFrame | None = None
    data_quality: pd.DataFrame | None = None


HEADLINE_STEPS = {
    "Referrals received": "Referrals",
    "First contacts": "Contacted",
    "Police assessments": "Assessed",
    "Rehab admissions": "Entered rehab",
    "Completions of 12 weeks": "Completed 12 weeks",
}
TREND_MEASURES = list(HEADLINE_STEPS)
AREA_COLUMNS = {"referrals": "Referrals received", "assessed": "Police assessments",
                "entered_rehab": "Rehab admissions"}
DIVERSIONS = ("Diverted - partner agency", "Diverted - prison")
TOTAL = rules.TOTAL


def _number(value: object) -> int:
    """A plain int from whatever a query returned (counts are read exact)."""
    return int(value)


def _one(frame: pd.DataFrame, column: str, where: pd.Series | None = None) -> object:
    rows = frame if where is None else frame[where]
    return _number(rows[column].iloc[0]) if len(rows) else 0


def data_sources(con: duckdb.DuckDBPyConnection, viewer: access.Viewer
                 ) -> tuple[list[Upload], Upload | None]:
    """Tracker snapshots newest first (as queries.latest_snapshot_id orders them), and the
    latest Connect upload."""
    uploads = queries.run(con, viewer, "quarter_data_sources")

    def listed(kind: str) -> list[Upload]:
        rows = uploads[uploads["kind"] == kind].sort_values(
            ["as_at_date", "upload_id"], ascending=False)
        return [Upload(int(r.upload_id), pd.Timestamp(r.as_at_date).date())
                for r in rows.itertuples()]

    connect = listed("connect")
    return listed("tracker"), (connect[0] if connect else None)


def stock_snapshot_for(snapshots: list[Upload], quarter: Quarter) -> Upload | None:
    """The latest snapshot on or before the quarter's last day, if taken within the quarter.

    A snapshot from before the quarter began says nothing about its end, so none is used."""
    for snapshot in snapshots:
        if snapshot.as_at <= quarter.end:
            return snapshot if snapshot.as_at >= quarter.start else None
    return None


def quarter_data(con: duckdb.DuckDBPyConnection, viewer: access.Viewer, quarter: Quarter,
                 snapshots: list[Upload], connect: Upload | None) -> QuarterData:
    flows = snapshots[0] if snapshots else None
    data = QuarterData(quarter, flows, stock_snapshot_for(snapshots, quarter), connect)
    period = {"from_date": quarter.start, "to_date": quarter.end}
    at_flows = {"snapshot_id": flows.upload_id if flows else None, **period}

    headline = queries.run(con, viewer, "headline_figures", **at_flows)
    for measure, step in HEADLINE_STEPS.items():
        data.counts[measure] = _one(headline, "referrals", headline["step"] == step)
    course = queries.run(con, viewer, "pre_admission_course", **at_flows)
    data.counts["Pre-admission course starts"] = _one(course, "attendees")

    data.area_flows = queries.run(con, viewer, "quarter_area_flows", **at_flows)
    data.early_discharges = queries.run(con, viewer, "quarter_early_discharges", **at_flows)
    data.counts["Early discharges"] = _one(data.early_discharges, "referrals",
                                           data.early_discharges["is_total"])
    endings = queries.run(con, viewer, "quarter_case_endings", **at_flows)
    group_totals = endings[endings["is_group_total"]].set_index("outcome_group")["referrals"]
    for measure, group in (("Diversions", "Diversions"), ("Withdrawals", "Withdrawn"),
                           ("Deaths", "Deceased")):
        data.counts[measure] = _number(group_totals[group]) if group in group_totals else 0
    kinds = endings[~endings["is_group_total"]].set_index("outcome")["referrals"]
    data.diversions = pd.DataFrame({
        "outcome": [*DIVERSIONS, TOTAL], "is_total": [False, False, True],
        "referrals": [*(_number(kinds[k]) if k in kinds else 0 for k in DIVERSIONS),
                      data.counts["Diversions"]]})
    rates = queries.run(con, viewer, "quarter_rates", **at_flows).set_index("rate")
    data.rates = {rate: (_number(row.n_reached), _number(row.n_base))
                  for rate, row in rates.iterrows()}
    data.data_quality = queries.run(con, viewer, "quarter_data_quality", **at_flows)

    stock = data.stock_snapshot
    if stock is None:  # never run a stock query without one: null would mean the latest
        for measure in ("Caseload at quarter end", "Active caseload at quarter end",
                        "People in rehab at quarter end"):
            data.counts[measure] = None
        return data
    data.caseload = queries.run(con, viewer, "quarter_caseload", snapshot_id=stock.upload_id)
    everyone = data.caseload["is_all_officers"] & data.caseload["is_all_statuses"]
    data.counts["Caseload at quarter end"] = _one(data.caseload, "referrals", everyone)
    active = data.caseload["is_all_officers"] & ~data.caseload["is_all_statuses"] & (
        data.caseload["status"] == "Active")
    data.counts["Active caseload at quarter end"] = _one(data.caseload, "referrals", active)
    in_rehab = queries.run(con, viewer, "quarter_in_rehab", snapshot_id=stock.upload_id,
                           to_date=quarter.end)
    data.counts["People in rehab at quarter end"] = _one(in_rehab, "n_in_rehab")
    return data


# --- one quarter's publication ----------------------------------------------------------------

AREA_TABLE, EARLY_TABLE, DIVERSION_TABLE, CASELOAD_TABLE, QUALITY_TABLE = (
    "Flows by area", "Early discharges", "Diversions", "Caseload", "Data quality")
ASSESSED_TO_ADMITTED, ADMITTED_TO_COMPLETED = "Assessed to admitted", "Admitted to completed"


def figure_key(measure: str) -> tuple[str, str]:
    return ("figure", measure)


def rate_keys(rate: str) -> tuple[tuple, tuple, tuple]:
    """(reached, not reached, base) keys of a rate's counts."""
    return ("rate", rate, "reached"), ("rate", rate, "not reached"), ("rate", rate, "base")


def area_counts(data: QuarterData) -> pd.DataFrame:
    rows = data.area_flows
    counts = rows[~rows["is_total"]].set_index("offending_area")[list(AREA_COLUMNS)]
    total = rows[rows["is_total"]][list(AREA_COLUMNS)].rename(index=lambda _: TOTAL)
    counts = pd.concat([counts, total]).astype("int64").rename(columns=AREA_COLUMNS)
    counts.index = counts.index.astype("str")
    return counts


def one_way_counts(rows: pd.DataFrame, label_column: str, column: str) -> pd.DataFrame:
    """A list of counts with its total row (is_total) last, as the query counted it."""
    counts = rows[~rows["is_total"]].set_index(label_column)[["referrals"]]
    total = rows[rows["is_total"]][["referrals"]].rename(index=lambda _: TOTAL)
    if total.empty:
        total = pd.DataFrame({"referrals": [0]}, index=[TOTAL])
    counts = pd.concat([counts, total]).astype("int64").rename(columns={"referrals": column})
    counts.index = counts.index.astype("str")
    return counts


def caseload_counts(caseload: pd.DataFrame) -> pd.DataFrame:
    """Table 1 at quarter end, from quarter_caseload's rows (its own totals left aside)."""
    cells = caseload[~caseload["is_all_officers"] & ~caseload["is_all_statuses"]]
    if cells.empty:
        return pd.DataFrame({TOTAL: [0]}, index=[TOTAL])
    return caseload_table.table_one(cells)


def quality_counts(data: QuarterData) -> pd.DataFrame:
    counts = data.data_quality.set_index("issue")[["referrals"]].astype("int64")
    counts.index = counts.index.astype("str")
    return counts.rename(columns={"referrals": "Referrals"})


@dataclass
class QuarterFigures:
    """One quarter's counts, protected once: every pack that shows any of them (its own, or
    a later one as a comparison or in its trend) shows them exactly so."""

    data: QuarterData
    counts: dict[str, pd.DataFrame]      # count tables by name (exact)
    protected: rules.Protected

    def table(self, name: str) -> pd.DataFrame:
        return self.protected.table(name, self.counts[name])

    def count(self, measure: str) -> tuple[float | None, str]:
        if self.data.counts.get(measure) is None:
            return None, NOT_AVAILABLE
        key = figure_key(measure)
        value = self.protected.value(key)
        return (None if value is None else float(value)), self.protected.text(key)


def publication(data: QuarterData, threshold: int) -> tuple[rules.Publication,
                                                            dict[str, pd.DataFrame]]:
    """Every count a quarter's pack shows, and the sums a reader can rely on between them."""
    out = rules.Publication(threshold)
    for measure, value in data.counts.items():
        if value is not None:
            out.count(figure_key(measure), value)
    counts = {AREA_TABLE: area_counts(data),
              EARLY_TABLE: one_way_counts(data.early_discharges, "exit_reason", EARLY_TABLE),
              DIVERSION_TABLE: one_way_counts(data.diversions, "outcome", DIVERSION_TABLE),
              QUALITY_TABLE: quality_counts(data)}
    if data.caseload is not None:
        counts[CASELOAD_TABLE] = caseload_counts(data.caseload)
    for name, table in counts.items():
        totals = name != QUALITY_TABLE  # issues overlap: no total to protect
        out.table(name, table, total_row=totals, total_column=name == CASELOAD_TABLE)
    for column in AREA_COLUMNS.values():
        out.same((AREA_TABLE, TOTAL, column), figure_key(column))
    out.same((EARLY_TABLE, TOTAL, EARLY_TABLE), figure_key("Early discharges"))
    out.same((DIVERSION_TABLE, TOTAL, DIVERSION_TABLE), figure_key("Diversions"))
    if data.caseload is not None:
        table = counts[CASELOAD_TABLE]
        out.same((CASELOAD_TABLE, TOTAL, TOTAL), figure_key("Caseload at quarter end"))
        if "Active" in table.columns:
            out.same((CASELOAD_TABLE, TOTAL, "Active"),
                     figure_key("Active caseload at quarter end"))
    # A rate printed with its interval gives back its base and reached counts exactly.
    reached, base = data.rates.get(ASSESSED_TO_ADMITTED, (0, 0))
    r, n, b = rate_keys(ASSESSED_TO_ADMITTED)
    out.count(r, reached), out.count(n, base - reached), out.count(b, base)
    out.total([r, n], b)
    out.same(b, figure_key("Police assessments"))
    reached, base = data.rates.get(ADMITTED_TO_COMPLETED, (0, 0))
    r, n, b = rate_keys(ADMITTED_TO_COMPLETED)
    out.count(r, reached), out.count(n, base - reached), out.count(b, base)
    out.total([r, n], b)
    out.same(r, figure_key("Completions of 12 weeks"))
    out.same(n, figure_key("Early discharges"))
    return out, counts


def protect_quarter(data: QuarterData, how: str, threshold: int) -> QuarterFigures:
    published, counts = publication(data, threshold)
    return QuarterFigures(data, counts, published.protect(how))


# --- outcomes (issue 10): the same measures as the Outcomes page, in the same publication ------

EXIT_OUTCOMES_TABLE, RETENTION_TABLE = "Outcomes after rehab", "Retention"
LEFT, FOLLOWED, NO_OFFENCE, OFFENCE, NOT_YET = (
    "Left rehab", "Followed up 6 months", "No recorded offence", "Recorded offence",
    "Not yet followed up")
RETAINED, LEFT_BEFORE, STILL_IN = ("Stayed 12 weeks or completed", "Left before 12 weeks",
                                   "Still in rehab, under 12 weeks")
ADMITTED_ROW, EXITED_ROW = "Admitted in the quarter", "Left rehab in the quarter"


def outcome_counts(con: duckdb.DuckDBPyConnection, data: QuarterData
                   ) -> dict[str, pd.DataFrame]:
    """The quarter's exits by way of leaving, followed up for six months or not, with or
    without a police-recorded offence; and its admissions by whether they stayed 12 weeks."""
    params = {"snapshot_id": data.flows_snapshot.upload_id if data.flows_snapshot else None,
              "from_date": data.quarter.start, "to_date": data.quarter.end}
    exits = queries.run(con, access.PUBLICATION, "quarter_exit_outcomes", **params)
    # Both ways of leaving together: split by way of leaving, the cells pin each other down.
    exits = exits[["exits", "followed_up", "without_offence"]].astype("int64").sum()
    table = pd.DataFrame({
        LEFT: [exits["exits"]], FOLLOWED: [exits["followed_up"]],
        NO_OFFENCE: [exits["without_offence"]],
        OFFENCE: [exits["followed_up"] - exits["without_offence"]],
        NOT_YET: [exits["exits"] - exits["followed_up"]]}, index=[EXITED_ROW]).astype("int64")
    stays = queries.run(con, access.PUBLICATION, "rehab_stays", **params)
    met = stays["is_completed"] | (stays["days"] >= 84)
    retained = int(stays.loc[met, "admissions"].sum())
    left_before = int(stays.loc[~met & stays["has_left"], "admissions"].sum())
    still = int(stays.loc[~met & ~stays["has_left"], "admissions"].sum())
    retention = pd.DataFrame({RETAINED: [retained], LEFT_BEFORE: [left_before],
                              STILL_IN: [still], TOTAL: [retained + left_before + still]},
                             index=[ADMITTED_ROW]).astype("int64")
    return {EXIT_OUTCOMES_TABLE: table, RETENTION_TABLE: retention}


def add_outcomes(out: rules.Publication, counts: dict[str, pd.DataFrame]) -> None:
    """Puts the outcome tables in the quarter's publication with every sum a reader knows:
    a row's exits are followed up or not, the followed up did or did not offend, the rows add
    up to Total, and the exits and admissions are the quarter's headline figures."""
    out.table(EXIT_OUTCOMES_TABLE, counts[EXIT_OUTCOMES_TABLE])

    def key(column: str) -> tuple:
        return (EXIT_OUTCOMES_TABLE, EXITED_ROW, column)
    out.total([key(FOLLOWED), key(NOT_YET)], key(LEFT))
    out.total([key(NO_OFFENCE), key(OFFENCE)], key(FOLLOWED))
    out.total([figure_key("Completions of 12 weeks"), figure_key("Early discharges")], key(LEFT))
    out.table(RETENTION_TABLE, counts[RETENTION_TABLE], total_column=True)
    if figure_key("Rehab admissions") in out.values:
        out.same((RETENTION_TABLE, ADMITTED_ROW, TOTAL), figure_key("Rehab admissions"))


def protect_quarter_with_outcomes(con: duckdb.DuckDBPyConnection, data: QuarterData, how: str,
                                  threshold: int) -> QuarterFigures:
    """One quarter's figures and its outcome tables, protected together, once."""
    published, counts = publication(data, threshold)
    extra = outcome_counts(con, data)
    add_outcomes(published, extra)
    return QuarterFigures(data, {**counts, **extra}, published.protect(how))


def outcome_tables(now: QuarterFigures) -> list[Table]:
    """The outcome tables as printed in the pack."""
    return [
        Table(EXIT_OUTCOMES_TABLE, "Rehab exits in the quarter: police-recorded offending in "
              "the 6 months after", "By exit date. Followed up: the whole 6 months after exit "
              "(exit + 1 to exit + 182 days) falls on or before the latest Connect upload's "
              "as-at date; the others are not counted yet, never as no offence. Police-"
              "recorded offending in Connect, not proven reoffending; this programme's own "
              "measure, aligned with NDTMS but not the same.",
              _labelled(now.table(EXIT_OUTCOMES_TABLE), "Exits")),
        Table(RETENTION_TABLE, "Rehab admissions in the quarter: retained 12 weeks or "
              "completed", "By admission date: stayed at least 84 days or left with exit "
              "reason Completed (NDTMS-aligned); still in rehab under 84 days are not yet "
              "known.", _labelled(now.table(RETENTION_TABLE), "Admissions")),
    ]


# --- figures ----------------------------------------------------------------------------------

DEFINITIONS = {
    "Referrals received": "Referrals with a referral date in the quarter.",
    "First contacts": "Referrals with a first contact date in the quarter.",
    "Police assessments": "Referrals given a police (WMP) assessment in the quarter, by "
                          "assessment date.",
    "Pre-admission course starts": "Referrals starting the pre-admission course in the quarter, "
                                   "by course start date.",
    "Rehab admissions": "Admissions to residential rehab in the quarter, by admission date.",
    "Completions of 12 weeks": "Rehab exits with reason Completed in the quarter, by exit date.",
    "Early discharges": "Rehab exits with any other reason (or none recorded) in the quarter, "
                        "by exit date; by reason in the Early discharges table.",
    "Diversions": "Referrals with outcome Diverted - partner agency or Diverted - prison whose "
                  "latest dated event falls in the quarter (the tracker has no outcome date).",
    "Withdrawals": "Referrals with outcome Withdrawn whose latest dated event falls in the "
                   "quarter (the tracker has no outcome date).",
    "Deaths": "Referrals with outcome Deceased whose latest dated event falls in the quarter "
              "(the tracker has no outcome date); never broken down by officer or area.",
    "Caseload at quarter end": "All referrals held in the quarter-end tracker snapshot, "
                               "whatever their status.",
    "Active caseload at quarter end": "Referrals with status Active in the quarter-end "
                                      "tracker snapshot.",
    "People in rehab at quarter end": "Referrals admitted to rehab on or before the quarter's "
                                      "last day and not left by then, in the quarter-end "
                                      "snapshot.",
    "Assessed to admitted": "Of referrals assessed in the quarter (by assessment date), the "
                            "share admitted to rehab by the snapshot date; 95% Wilson interval.",
    "Admitted to completed": "Of rehab stays that ended in the quarter (by exit date), the "
                             "share that completed 12 weeks; 95% Wilson interval.",
    "Goods not stolen, low estimate": "The evaluation's model for the quarter's completions: "
                                      "a quarter of a year's drug spend each, stolen at half "
                                      "the retail value.",
    "Goods not stolen, high estimate": "The evaluation's model for the quarter's completions: "
                                       "a quarter of a year's drug spend each, stolen at a "
                                       "third of the retail value.",
    "Tracker snapshot for flows and rates": "The tracker upload the flows, rates and cost "
                                            "come from: the latest when the pack was built.",
    "Tracker snapshot for stock": "The latest tracker upload as at the quarter's last day or "
                                  "before, if taken within the quarter.",
    "Connect upload": "The latest Connect extract when the pack was built (the Outcomes "
                      "after rehab table is drawn from it).",
}
FLOW_MEASURES = ["Referrals received", "First contacts", "Police assessments",
                 "Pre-admission course starts", "Rehab admissions", "Completions of 12 weeks",
                 "Early discharges", "Diversions", "Withdrawals", "Deaths"]
STOCK_MEASURES = ["Caseload at quarter end", "Active caseload at quarter end",
                  "People in rehab at quarter end"]
RATE_MEASURES = ["Assessed to admitted", "Admitted to completed"]


def direction(value: float | None, previous: float | None) -> str:
    if value is None or previous is None:
        return "n/a"
    return "up" if value > previous else "down" if value < previous else "same"


def quarter_cost(completions: tuple[float | None, str]) -> dict[str, tuple[float | None, str]]:
    """Low and high goods-not-stolen estimates for one quarter's completions as shown (the
    estimate gives the count back, so it is withheld wherever the count is)."""
    shown, display = completions
    if shown is None:
        marker = display if display == NOT_AVAILABLE else rules.SECONDARY
        return {k: (None, marker) for k in ("low", "high")}
    year_one = cost_model.goods_not_stolen(
        cost_model.Assumptions(people_per_year=float(shown), years=1)).iloc[0]
    # One quarter is a quarter of a year: the evaluation's annual figure divided by four.
    low, high = round(year_one["low_gbp"] / 4), round(year_one["high_gbp"] / 4)
    return {"low": (low, cost_model.gbp(low)), "high": (high, cost_model.gbp(high))}


@dataclass
class Shown:
    """One quarter's figures as printed: measure -> (value or None, display)."""

    values: dict[str, tuple[float | None, str]]
    sources: dict[str, str]


def flows_source(data: QuarterData) -> str:
    return data.flows_snapshot.describe("tracker snapshot") if data.flows_snapshot \
        else "no tracker snapshot"


def stock_source(data: QuarterData) -> str:
    if data.stock_snapshot is None:
        return f"no tracker snapshot taken in the quarter (to {data.quarter.end:%d/%m/%Y})"
    return data.stock_snapshot.describe("tracker snapshot")


def shown_figures(quarter: QuarterFigures) -> Shown:
    """Every figure of a quarter as printed, from its one protection."""
    data = quarter.data
    values, sources = {}, {}
    for measure in FLOW_MEASURES + STOCK_MEASURES:
        values[measure] = quarter.count(measure)
        sources[measure] = stock_source(data) if measure in STOCK_MEASURES else flows_source(data)
    for rate in RATE_MEASURES:
        values[rate] = quarter.protected.rate(*rate_keys(rate))
        sources[rate] = flows_source(data)
    cost = quarter_cost(values["Completions of 12 weeks"])
    values["Goods not stolen, low estimate"] = cost["low"]
    values["Goods not stolen, high estimate"] = cost["high"]
    for measure in ("Goods not stolen, low estimate", "Goods not stolen, high estimate"):
        sources[measure] = f"{flows_source(data)}; {cost_model.EVALUATION}"
    values["Tracker snapshot for flows and rates"] = (None, flows_source(data))
    values["Tracker snapshot for stock"] = (None, stock_source(data))
    values["Connect upload"] = (None, data.connect.describe("Connect upload")
                                if data.connect else "no Connect upload")
    for measure in ("Tracker snapshot for flows and rates", "Tracker snapshot for stock",
                    "Connect upload"):
        sources[measure] = values[measure][1]
    return Shown(values, sources)


SECTION_OF = {**{m: FLOWS for m in FLOW_MEASURES}, **{m: STOCK for m in STOCK_MEASURES},
              **{m: RATES for m in RATE_MEASURES},
              "Goods not stolen, low estimate": COST, "Goods not stolen, high estimate": COST,
              "Tracker snapshot for flows and rates": COVERAGE,
              "Tracker snapshot for stock": COVERAGE, "Connect upload": COVERAGE}


def figures(now: Shown, previous: Shown, year_ago: Shown) -> list[Figure]:
    out = []
    for measure, section in SECTION_OF.items():
        value, display = now.values[measure]
        prior, prior_display = previous.values[measure]
        then, then_display = year_ago.values[measure]
        out.append(Figure(section=section, measure=measure, definition=DEFINITIONS[measure],
                          value=value, display=display, previous=prior,
                          previous_display=prior_display, year_ago=then,
                          year_ago_display=then_display,
                          direction=direction(value, prior) if section != COVERAGE else "n/a",
                          source=now.sources[measure]))
    return out


def trend(history: list[Shown], quarters: list[Quarter]) -> pd.DataFrame:
    """Long form: quarter, quarter_start, measure, value (NaN when withheld), display; each
    quarter printed exactly as its own pack prints it."""
    rows = []
    for shown, quarter in zip(history, quarters, strict=True):
        for measure in TREND_MEASURES:
            value, display = shown.values[measure]
            rows.append({"quarter": quarter.label, "quarter_start": pd.Timestamp(quarter.start),
                         "measure": measure, "value": math.nan if value is None else value,
                         "display": display})
    return pd.DataFrame(rows).astype({"value": "float64"})


# --- the pack ---------------------------------------------------------------------------------

def assumptions(completions_display: str) -> dict[str, str]:
    sources = cost_model.SOURCES
    return {
        "People counted": f"Completions of 12 weeks in the quarter: {completions_display}.",
        "Period": "One quarter, counted as a quarter of a year: each person counted is taken "
                  "to avoid a quarter of a year's theft.",
        "Annual drug spend per person": sources["annual_drug_spend_gbp"],
        "Share of retail value realised (low estimate)": sources["realised_share_high"],
        "Share of retail value realised (high estimate)": sources["realised_share_low"],
        "Staying abstinent": "Everyone counted stays off drugs and off shoplifting through the "
                             "quarter (the evaluation assumes it for good).",
        "What it is not": "The retail value of goods not stolen from shops: a saving to "
                          "retailers, not to West Midlands Police or any budget.",
    }


def coverage_table(data: QuarterData) -> pd.DataFrame:
    def row(figures: str, upload: Upload | None, kind: str, missing: str) -> dict:
        return {"Figures": figures, "Source": kind if upload else missing,
                "Upload": f"{kind} {upload.upload_id}" if upload else "none",
                "As at": f"{upload.as_at:%d/%m/%Y}" if upload else ""}
    return pd.DataFrame([
        row("Flows in the quarter, rates, cost savings", data.flows_snapshot,
            "tracker snapshot", "no tracker snapshot"),
        row("Stock at quarter end", data.stock_snapshot, "tracker snapshot",
            "no tracker snapshot taken in the quarter"),
        row("Outcomes after rehab: latest Connect extract", data.connect, "Connect upload",
            "no Connect upload"),
    ]).astype("str")


def caveats(data: QuarterData, viewer_note: str | None, how: str, threshold: int,
            quality: pd.DataFrame, demo: bool) -> list[str]:
    out = []
    if demo:
        out.append("These figures come from the synthetic demo data, not real referrals.")
    if how == CONTROLLED:
        out.append(f"For circulation: counts from 1 to {threshold - 1} are shown as "
                   f"{rules.primary_marker(threshold)}; further counts of {threshold} or more "
                   f"are withheld as {rules.SECONDARY} wherever the totals, the other tables "
                   "or a rate would give a hidden count away, and a rate resting on a "
                   f"withheld count is {rules.SECONDARY} too. Deaths are never broken down by "
                   "officer or area.")
    else:
        out.append("Exact counts, including small ones: for the steering group and internal "
                   "use only, not for circulation.")
    if viewer_note:
        out.append(viewer_note)
    quarter = data.quarter
    if data.flows_snapshot is None:
        out.append("No tracker snapshot has been uploaded: every count is zero.")
    elif data.flows_snapshot.as_at < quarter.end:
        out.append(f"The latest tracker snapshot is as at {data.flows_snapshot.as_at:%d/%m/%Y}, "
                   f"before the quarter ends on {quarter.end:%d/%m/%Y}: its flows are "
                   "incomplete.")
    out.append("Events are often recorded late, so a later snapshot can change a quarter's "
               "flows; a signed-off pack keeps the figures as they were signed off.")
    stock = data.stock_snapshot
    if stock is None:
        out.append(f"No tracker snapshot was taken between {quarter.start:%d/%m/%Y} and "
                   f"{quarter.end:%d/%m/%Y}, so stock at quarter end is not available.")
    elif stock.as_at < quarter.end:
        out.append(f"Stock figures are as at {stock.as_at:%d/%m/%Y}, "
                   f"{(quarter.end - stock.as_at).days} days before the quarter's end.")
    for record in quality.itertuples(index=False):
        out.append(f"Data quality: {record.Referrals} referral(s) with an event in the "
                   f"quarter: {record.Issue.lower()}.")
    return out


def check_viewer(viewer: access.Viewer, how: str) -> None:
    modes = access.capability(viewer).pack_modes
    if how not in modes:
        raise access.AccessDenied(
            f"The {viewer.role} role may not have the {how} pack" if modes else
            f"A quarterly pack covers the whole programme; the {viewer.role} role may not "
            "have one")


def build_pack(con: duckdb.DuckDBPyConnection, viewer: access.Viewer, quarter: str | Quarter,
               scheme: str = FINANCIAL, disclosure: str = CONTROLLED,
               threshold: int = rules.DEFAULT_THRESHOLD) -> Pack:
    """The quarter's pack computed now from the data `con` holds, as `viewer` may see it.

    `disclosure` is "controlled" (for circulation: small counts hidden) or "exact". Counts
    are read exact and programme-wide (the viewer's role decides only which disclosure it
    may have), then protected quarter by quarter."""
    how = disclosure
    rules.check(how, threshold)
    check_viewer(viewer, how)
    quarter = parse_quarter(quarter, scheme)
    reader = access.PUBLICATION
    snapshots, connect = data_sources(con, reader)
    quarters = [quarter.shift(k - TREND_QUARTERS + 1) for k in range(TREND_QUARTERS)]
    history = [protect_quarter_with_outcomes(
        con, quarter_data(con, reader, q, snapshots, connect), how, threshold)
        for q in quarters]
    shown = [shown_figures(q) for q in history]
    now = history[-1]
    tables = [
        Table("Flows by area", "Referrals, police assessments and rehab admissions in the "
              "quarter by offending area", "Each counted by its own event date; areas with "
              "none of the three are left out.", _labelled(now.table(AREA_TABLE),
                                                           "Offending area")),
        Table("Early discharges", "Early discharges from rehab in the quarter by reason",
              DEFINITIONS["Early discharges"], _labelled(now.table(EARLY_TABLE), "Reason")),
        Table("Diversions", "Diversions in the quarter by kind", DEFINITIONS["Diversions"],
              _labelled(now.table(DIVERSION_TABLE), "Outcome")),
    ]
    if CASELOAD_TABLE in now.counts:
        tables.append(Table("Caseload", "Caseload at quarter end by officer and status",
                            f"Every referral held in {stock_source(now.data)}, by its status "
                            "then.", _labelled(now.table(CASELOAD_TABLE), "Officer")))
    tables += outcome_tables(now)
    quality = _labelled(now.table(QUALITY_TABLE), "Issue")
    tables += [
        Table("Data coverage", "Where each group of figures comes from",
              "Flows use the latest snapshot when the pack was built; stock the latest taken "
              "in the quarter.", coverage_table(now.data)),
        Table("Data quality", "Data-quality warnings for referrals with an event in the "
              "quarter", "A referral can have more than one issue; the Data page lists them.",
              quality),
    ]
    if how == CONTROLLED:
        tables.append(Table("Symbols", "What the symbols in this pack mean",
                            "Government Statistical Service symbols for tables.",
                            pd.DataFrame({"Symbol": list(rules.legend(threshold)),
                                          "Meaning": list(rules.legend(threshold).values())})))
    demo = bool(queries.run(con, reader, "demo_only")["demo_only"].iloc[0]) if snapshots \
        else False
    return Pack(
        quarter=quarter.label, start=quarter.start, end=quarter.end, scheme=quarter.scheme,
        snapshot_id=now.data.stock_snapshot.upload_id if now.data.stock_snapshot else None,
        snapshot_as_at=now.data.stock_snapshot.as_at if now.data.stock_snapshot else None,
        connect_upload_id=connect.upload_id if connect else None,
        generated_at=dt.datetime.now().replace(microsecond=0),
        disclosure=how, threshold=threshold,
        figures=figures(shown[-1], shown[-2], shown[-5]),
        tables=tables, trend=trend(shown, quarters),
        assumptions=assumptions(shown[-1].values["Completions of 12 weeks"][1]),
        caveats=caveats(now.data, None, how, threshold, quality, demo))


def _labelled(shown: pd.DataFrame, label: str) -> pd.DataFrame:
    frame = shown.rename_axis(label).reset_index()
    frame[label] = frame[label].astype("str")
    return frame


def comparison_quarters(quarter: str | Quarter, scheme: str = FINANCIAL
                        ) -> tuple[Quarter, Quarter]:
    """(the previous quarter, the same quarter a year before)."""
    quarter = parse_quarter(quarter, scheme)
    return quarter.previous(), quarter.year_ago()


# --- frozen packs -----------------------------------------------------------------------------

def _encode(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, str):
        return value
    raise TypeError(f"Cannot store {value!r} ({type(value).__name__}) in a pack")


def _decode(value: object) -> object:
    if isinstance(value, dict):
        if "datetime" in value:
            return dt.datetime.fromisoformat(value["datetime"])
        return dt.date.fromisoformat(value["date"])
    return value


def frame_to_json(frame: pd.DataFrame) -> dict:
    return {"columns": [str(c) for c in frame.columns],
            "dtypes": [str(t) for t in frame.dtypes],
            "rows": [[_encode(v) for v in row] for row in frame.itertuples(index=False)]}


def frame_from_json(stored: dict) -> pd.DataFrame:
    columns = {}
    for index, (name, dtype) in enumerate(zip(stored["columns"], stored["dtypes"], strict=True)):
        values = pd.Series([_decode(row[index]) for row in stored["rows"]], dtype=object)
        columns[name] = values if dtype == "object" else values.astype(dtype)
    return pd.DataFrame(columns, columns=stored["columns"])


def pack_to_json(pack: Pack) -> str:
    """The pack as JSON text: everything needed to print it again exactly as it is."""
    return json.dumps({
        "format": PACK_FORMAT,
        "quarter": pack.quarter, "start": _encode(pack.start), "end": _encode(pack.end),
        "scheme": pack.scheme, "snapshot_id": pack.snapshot_id,
        "snapshot_as_at": _encode(pack.snapshot_as_at),
        "connect_upload_id": pack.connect_upload_id,
        "generated_at": _encode(pack.generated_at), "disclosure": pack.disclosure,
        "threshold": pack.threshold,
        "figures": [{k: _encode(v) for k, v in dataclasses.asdict(f).items()}
                    for f in pack.figures],
        "tables": [{"name": t.name, "title": t.title, "note": t.note,
                    "frame": frame_to_json(t.frame)} for t in pack.tables],
        "trend": frame_to_json(pack.trend),
        "assumptions": pack.assumptions, "caveats": pack.caveats,
    }, ensure_ascii=False)


def pack_from_json(text: str) -> Pack:
    stored = json.loads(text)
    if stored.get("format") != PACK_FORMAT:
        raise ValueError(f"Stored pack format {stored.get('format')} is not {PACK_FORMAT}")
    return Pack(
        quarter=stored["quarter"], start=_decode(stored["start"]), end=_decode(stored["end"]),
        scheme=stored["scheme"], snapshot_id=stored["snapshot_id"],
        snapshot_as_at=_decode(stored["snapshot_as_at"]),
        connect_upload_id=stored["connect_upload_id"],
        generated_at=_decode(stored["generated_at"]), disclosure=stored["disclosure"],
        threshold=stored["threshold"],
        figures=[Figure(**f) for f in stored["figures"]],
        tables=[Table(t["name"], t["title"], t["note"], frame_from_json(t["frame"]))
                for t in stored["tables"]],
        trend=frame_from_json(stored["trend"]),
        assumptions=stored["assumptions"], caveats=stored["caveats"])


def sign_off(db, pack: Pack, who: str) -> int:
    """Store the pack exactly as it is, signed off by `who`; returns its pack id.

    A later sign-off of the same quarter, scheme and disclosure supersedes it (both kept)."""
    if not who or not who.strip():
        raise ValueError("Say who is signing the pack off")
    return store.store_pack(db, quarter=pack.quarter, scheme=pack.scheme,
                            disclosure=pack.disclosure, snapshot_id=pack.snapshot_id,
                            connect_upload_id=pack.connect_upload_id,
                            signed_off_by=who.strip(), pack_json=pack_to_json(pack))


def load_signed_off(db, quarter: str | Quarter, scheme: str = FINANCIAL,
                    disclosure: str = CONTROLLED) -> Pack | None:
    """The latest signed-off pack for the quarter, exactly as signed off; None if none."""
    label = parse_quarter(quarter, scheme).label
    if not Path(db).exists():
        return None
    con = store.connect_read_only(Path(db))
    try:
        rows = con.execute(
            "select pack_id, signed_off_by, signed_off_at, pack_json from packs "
            "where quarter = $quarter and scheme = $scheme and disclosure = $disclosure "
            "order by pack_id desc limit 1",
            {"quarter": label, "scheme": scheme, "disclosure": disclosure}).fetchall()
    except duckdb.CatalogException:  # a database from before packs could be signed off
        return None
    finally:
        con.close()
    if not rows:
        return None
    pack_id, who, when, text = rows[0]
    frozen = pack_from_json(text)
    frozen.pack_id, frozen.signed_off_by, frozen.signed_off_at = pack_id, who, when
    return frozen


def compare(frozen: Pack, fresh: Pack) -> list[str]:
    """Where a re-run on current data now differs from the signed-off pack, as sentences."""
    out = []
    if (frozen.disclosure, frozen.threshold) != (fresh.disclosure, fresh.threshold):
        out.append(f"Disclosure differs: signed off {frozen.disclosure} "
                   f"(threshold {frozen.threshold}), re-run {fresh.disclosure} "
                   f"(threshold {fresh.threshold}).")
    old = {(f.section, f.measure): f for f in frozen.figures}
    new = {(f.section, f.measure): f for f in fresh.figures}
    for key, figure in old.items():
        if key not in new:
            out.append(f"{figure.measure}: in the signed-off pack, not in a re-run.")
            continue
        now = new[key]
        for what, before, after in (("", figure.display, now.display),
                                    (" (previous quarter)", figure.previous_display,
                                     now.previous_display),
                                    (" (a year before)", figure.year_ago_display,
                                     now.year_ago_display)):
            if before != after:
                out.append(f"{figure.measure}{what}: {before} signed off, {after} on current "
                           "data.")
    out += [f"{f.measure}: new in a re-run." for k, f in new.items() if k not in old]
    old_tables = {t.name: t for t in frozen.tables}
    new_tables = {t.name: t for t in fresh.tables}
    for name in sorted(old_tables.keys() | new_tables.keys()):
        if name not in new_tables or name not in old_tables:
            out.append(f"Table {name}: {'only signed off' if name in old_tables else 'new'}.")
        elif not frames_equal(old_tables[name].frame, new_tables[name].frame):
            out.append(f"Table {name}: some cells differ on current data.")
    if not frames_equal(frozen.trend, fresh.trend):
        out.append("Trend: some quarters' figures differ on current data.")
    return out


def frames_equal(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(left, right, check_dtype=False)
    except AssertionError:
        return False
    return True


def issue(db, viewer: access.Viewer, quarter: str | Quarter, scheme: str = FINANCIAL,
          disclosure: str = CONTROLLED, threshold: int = rules.DEFAULT_THRESHOLD
          ) -> Pack:
    """The signed-off pack if there is one, with how current data would differ; else fresh."""
    frozen = load_signed_off(db, quarter, scheme, disclosure)
    con = store.connect_read_only(Path(db))
    try:
        fresh = build_pack(con, viewer, quarter, scheme, disclosure=disclosure,
                           threshold=frozen.threshold if frozen else threshold)
    finally:
        con.close()
    if frozen is None:
        return fresh
    frozen.differences = compare(frozen, fresh)
    return frozen
