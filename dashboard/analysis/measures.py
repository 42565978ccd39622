"""The measures, as one table: each figure's name, section, unit, definition, the named query it
is read from and how, how it is protected in a pack for circulation, and, where the dashboard's
pages show the same count over any period, its name and wording there.

The pack's gathering, publication, figures and trend, the Overview and the Methodology page all
read this table: a new count is one more row here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

FLOWS, STOCK, RATES, COST, COVERAGE = (
    "Flows in the quarter", "Stock at quarter end", "Rates", "Cost savings", "Data coverage")
SECTIONS = (FLOWS, STOCK, RATES, COST, COVERAGE)

# Units.
COUNT, RATE, POUNDS, UPLOAD = "count", "rate", "£", "upload"

# How a figure is protected in a pack for circulation (docs/disclosure.md); the Methodology page
# prints these sentences.
COUNTED, RATE_OF_COUNTS, FROM_COMPLETIONS, NOT_A_COUNT = (
    "counted", "rate of counts", "from completions", "not a count")
DISCLOSURE_RULES = {
    COUNTED: "A count in the quarter's one publication: under the threshold it reads <5, and "
             "withheld so a hidden count cannot be worked out it reads [c].",
    RATE_OF_COUNTS: "Its reached, not-reached and base counts join the publication; the rate "
                    "reads [c] when any of them is withheld.",
    FROM_COMPLETIONS: "Worked out from the completions, so withheld wherever they are.",
    NOT_A_COUNT: "Which upload the figures come from; shown as it is.",
}

# Where a measure's count comes from: the latest snapshot (flows, by event date in the
# quarter) or the one taken at the quarter's end (stock).
FLOWS_SNAPSHOT, STOCK_SNAPSHOT = "flows", "stock"


# A query's result as a list per column (pack/gathering.ColumnLists), which the measures read:
# a pack reads some fifty figures a quarter from results of a few rows, and reading a pandas
# column (let alone a mask over a text column) cost more than the whole lookup.
Rows = Mapping[str, list]


def number(value: object) -> int:
    """A plain int from whatever a query returned (counts are read exact)."""
    return int(value)


def first(rows: Rows, column: str, **where: object) -> int:
    """`column` in the first row whose columns hold `where`'s values; 0 if no row does."""
    wanted = [(rows[name], value) for name, value in where.items()]
    for i, found in enumerate(rows[column]):
        if all(values[i] == value for values, value in wanted):
            return number(found)
    return 0


def step(name: str) -> Callable[[Rows], int]:
    """A step's count in the quarter from quarterly_headlines (the Overview's own counts, by
    quarter: the same as its headline_figures for that quarter)."""
    return lambda rows: first(rows, "referrals", step=name)


def ending(group: str) -> Callable[[Rows], int]:
    """A group of outcomes' count from quarter_case_endings."""
    return lambda rows: first(rows, "referrals", is_group_total=True, outcome_group=group)


def rate(name: str) -> Callable[[Rows], tuple[int, int]]:
    """(reached, base) of a conversion from quarter_rates; (0, 0) when it has no row."""
    def read(rows: Rows) -> tuple[int, int]:
        for rate_name, reached, base in zip(rows["rate"], rows["n_reached"], rows["n_base"],
                                            strict=True):
            if rate_name == name:
                return number(reached), number(base)
        return 0, 0
    return read


def caseload(status: str | None) -> Callable[[Rows], int]:
    """quarter_caseload's total over every officer, for one status or (None) all."""
    if status is None:
        return lambda rows: first(rows, "referrals", is_all_officers=True,
                                  is_all_statuses=True)
    return lambda rows: first(rows, "referrals", is_all_officers=True, is_all_statuses=False,
                              status=status)


@dataclass(frozen=True)
class Measure:
    name: str                  # as printed, and the key the figure is known by
    section: str               # one of SECTIONS
    unit: str                  # COUNT, RATE, POUNDS or UPLOAD
    disclosure: str            # a key of DISCLOSURE_RULES
    definition: str            # one line: what is counted and by which date
    query: str | None = None   # queries/<query>.sql, run once for all its measures
    read: Callable[[Rows], object] | None = None  # the figure from the query's rows
    snapshot: str = FLOWS_SNAPSHOT
    step: str | None = None    # the same count's step on the Overview (headline_figures)
    in_trend: bool = False     # drawn over eight quarters
    # A rate's parts ("reached", "not reached", "base") that are another figure, printed too.
    same_as: tuple[tuple[str, str], ...] = ()
    # The same count on the dashboard's pages, over whatever period is chosen: its name there
    # (a step of headline_figures) and what it counts, in the Overview's words.
    dashboard_step: str | None = None
    dashboard_definition: str | None = None


def _flow(name: str, definition: str, query: str, read: Callable, **more: object) -> Measure:
    return Measure(name, FLOWS, COUNT, COUNTED, definition, query, read, **more)


def _stock(name: str, definition: str, query: str, read: Callable, **more: object) -> Measure:
    return Measure(name, STOCK, COUNT, COUNTED, definition, query, read, STOCK_SNAPSHOT, **more)


def _headline(name: str, definition: str, overview_step: str, on_the_dashboard: str) -> Measure:
    return _flow(name, definition, "quarterly_headlines", step(overview_step), step=overview_step,
                 in_trend=True, dashboard_step=overview_step,
                 dashboard_definition=on_the_dashboard)


LOW_COST, HIGH_COST = "Goods not stolen, low estimate", "Goods not stolen, high estimate"
FLOWS_UPLOAD, STOCK_UPLOAD, CONNECT_UPLOAD = (
    "Tracker snapshot for flows and rates", "Tracker snapshot for stock", "Connect upload")

MEASURES: tuple[Measure, ...] = (
    _headline("Referrals received", "Referrals with a referral date in the quarter.",
              "Referrals", "referrals received (by referral date)"),
    _headline("First contacts", "Referrals with a first contact date in the quarter.",
              "Contacted", "referrals with a first contact date in the period"),
    _headline("Police assessments", "Referrals given a police (WMP) assessment in the quarter, "
              "by assessment date.", "Assessed",
              "referrals given a police (WMP) assessment in the period"),
    _flow("Pre-admission course starts", "Referrals starting the pre-admission course in the "
          "quarter, by course start date.", "pre_admission_course",
          lambda rows: first(rows, "attendees")),
    _headline("Rehab admissions", "Admissions to residential rehab in the quarter, by admission "
              "date.", "Entered rehab",
              "admissions to residential rehab in the period (by admission date)"),
    _headline("Completions of 12 weeks", "Rehab exits with reason Completed in the quarter, by "
              "exit date.", "Completed 12 weeks",
              "exits from rehab with reason Completed in the period (by exit date)"),
    _flow("Early discharges", "Rehab exits with any other reason (or none recorded) in the "
          "quarter, by exit date; by reason in the Early discharges table.",
          "quarter_early_discharges", lambda rows: first(rows, "referrals", is_total=True)),
    _flow("Diversions", "Referrals with outcome Diverted - partner agency or Diverted - prison "
          "whose latest dated event falls in the quarter (the tracker has no outcome date).",
          "quarter_case_endings", ending("Diversions")),
    _flow("Withdrawals", "Referrals with outcome Withdrawn whose latest dated event falls in the "
          "quarter (the tracker has no outcome date).", "quarter_case_endings",
          ending("Withdrawn")),
    _flow("Deaths", "Referrals with outcome Deceased whose latest dated event falls in the "
          "quarter (the tracker has no outcome date); never broken down by officer or area.",
          "quarter_case_endings", ending("Deceased")),
    _stock("Caseload at quarter end", "All referrals held in the quarter-end tracker snapshot, "
           "whatever their status.", "quarter_caseload", caseload(None)),
    _stock("Active caseload at quarter end", "Referrals with status Active in the quarter-end "
           "tracker snapshot.", "quarter_caseload", caseload("Active"),
           dashboard_step="Active caseload", dashboard_definition="referrals whose status is "
           "Active in the latest snapshot (not period-bound)"),
    _stock("People in rehab at quarter end", "Referrals admitted to rehab on or before the "
           "quarter's last day and not left by then, in the quarter-end snapshot.",
           "quarter_in_rehab", lambda rows: first(rows, "n_in_rehab")),
    Measure("Assessed to admitted", RATES, RATE, RATE_OF_COUNTS, "Of referrals assessed in the "
            "quarter (by assessment date), the share admitted to rehab by the snapshot date; "
            "95% Wilson interval.", "quarter_rates", rate("Assessed to admitted"),
            same_as=(("base", "Police assessments"),)),
    Measure("Admitted to completed", RATES, RATE, RATE_OF_COUNTS, "Of rehab stays that ended in "
            "the quarter (by exit date), the share that completed 12 weeks; 95% Wilson "
            "interval.", "quarter_rates", rate("Admitted to completed"),
            same_as=(("reached", "Completions of 12 weeks"),
                     ("not reached", "Early discharges"))),
    Measure(LOW_COST, COST, POUNDS, FROM_COMPLETIONS, "The evaluation's model for the quarter's "
            "completions: a quarter of a year's drug spend each, stolen at half the retail "
            "value."),
    Measure(HIGH_COST, COST, POUNDS, FROM_COMPLETIONS, "The evaluation's model for the "
            "quarter's completions: a quarter of a year's drug spend each, stolen at a third of "
            "the retail value."),
    Measure(FLOWS_UPLOAD, COVERAGE, UPLOAD, NOT_A_COUNT, "The tracker upload the flows, rates "
            "and cost come from: the latest when the pack was built."),
    Measure(STOCK_UPLOAD, COVERAGE, UPLOAD, NOT_A_COUNT, "The latest tracker upload as at the "
            "quarter's last day or before, if taken within the quarter."),
    Measure(CONNECT_UPLOAD, COVERAGE, UPLOAD, NOT_A_COUNT, "The latest Connect extract when the "
            "pack was built (the Outcomes after rehab table is drawn from it)."),
)

BY_NAME = {m.name: m for m in MEASURES}
COUNTS = [m for m in MEASURES if m.disclosure == COUNTED]
RATE_MEASURES = [m.name for m in MEASURES if m.disclosure == RATE_OF_COUNTS]
DEFINITIONS = {m.name: m.definition for m in MEASURES}
# The Overview's steps, in the order the dashboard lists them, and what each counts there.
DASHBOARD_STEP_ORDER = ("Referrals", "Contacted", "Assessed", "Active caseload", "Entered rehab",
                        "Completed 12 weeks")
_ON_THE_DASHBOARD = {m.dashboard_step: m.dashboard_definition for m in MEASURES
                     if m.dashboard_step}
DASHBOARD_DEFINITIONS = {name: _ON_THE_DASHBOARD[name] for name in DASHBOARD_STEP_ORDER}
SECTION_OF = {m.name: m.section for m in MEASURES}
HEADLINE_STEPS = {m.name: m.step for m in MEASURES if m.step}
TREND_MEASURES = [m.name for m in MEASURES if m.in_trend]


def by_query(measures: list[Measure]) -> dict[str, list[Measure]]:
    """Measures grouped by the query they are read from, in the order the queries first come."""
    groups: dict[str, list[Measure]] = {}
    for measure in measures:
        groups.setdefault(measure.query, []).append(measure)
    return groups


def definitions() -> pd.DataFrame:
    """The dashboard's measures and what each counts, as the Methodology page lists them."""
    return pd.DataFrame({"Measure": list(DASHBOARD_DEFINITIONS),
                         "Definition": list(DASHBOARD_DEFINITIONS.values())})


def table() -> pd.DataFrame:
    """The quarterly pack's measures as the Methodology page lists them."""
    return pd.DataFrame({
        "Measure": [m.name for m in MEASURES], "Section": [m.section for m in MEASURES],
        "Unit": [m.unit for m in MEASURES], "Definition": [m.definition for m in MEASURES],
        "For circulation": [DISCLOSURE_RULES[m.disclosure] for m in MEASURES]})
