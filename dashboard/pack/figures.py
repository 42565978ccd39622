"""A quarter's figures as printed, from its one protection: the headline figures with their
comparisons, and the eight-quarter trend; which figures, in which order, is measures.py."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from dashboard.analysis import cost_model
from dashboard.analysis.measures import (
    CONNECT_UPLOAD,
    COUNTED,
    COVERAGE,
    FLOWS_SNAPSHOT,
    FLOWS_UPLOAD,
    HIGH_COST,
    LOW_COST,
    MEASURES,
    RATE_OF_COUNTS,
    STOCK_SNAPSHOT,
    STOCK_UPLOAD,
    TREND_MEASURES,
)
from dashboard.pack import disclosure as rules
from dashboard.pack.disclosure import NOT_AVAILABLE
from dashboard.pack.gathering import QuarterData
from dashboard.pack.model import Figure
from dashboard.pack.quarters import Quarter
from dashboard.pack.tables import QuarterFigures, rate_keys

# A quarter the latest tracker snapshot does not reach the end of: its flows are counted only
# to the snapshot's date, so a fall against a whole previous quarter would be missing data.
INCOMPLETE, PART_QUARTER = "incomplete", "part quarter"


def direction(value: float | None, previous: float | None) -> str:
    if value is None or previous is None:
        return "n/a"
    return "up" if value > previous else "down" if value < previous else "same"


def flows_incomplete(data: QuarterData) -> bool:
    return data.flows_snapshot is not None and data.flows_snapshot.as_at < data.quarter.end


def quarter_cost(completions: tuple[float | None, str]) -> dict[str, tuple[float | None, str]]:
    """Low and high goods-not-stolen estimates for one quarter's completions as shown (the
    estimate gives the count back, so it is withheld wherever the count is)."""
    shown, display = completions
    if shown is None:
        marker = display if display == NOT_AVAILABLE else rules.SECONDARY
        return {k: (None, marker) for k in ("low", "high")}
    year_one = cost_model.yearly(cost_model.Assumptions(people_per_year=float(shown), years=1))[0]
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
    for measure in MEASURES:
        if measure.disclosure == COUNTED:
            values[measure.name] = quarter.count(measure.name)
            sources[measure.name] = (stock_source(data) if measure.snapshot == STOCK_SNAPSHOT
                                     else flows_source(data))
        elif measure.disclosure == RATE_OF_COUNTS:
            values[measure.name] = quarter.protected.rate(*rate_keys(measure.name))
            sources[measure.name] = flows_source(data)
    cost = quarter_cost(values["Completions of 12 weeks"])
    values[LOW_COST], values[HIGH_COST] = cost["low"], cost["high"]
    for measure in (LOW_COST, HIGH_COST):
        sources[measure] = f"{flows_source(data)}; {cost_model.EVALUATION}"
    values[FLOWS_UPLOAD] = (None, flows_source(data))
    values[STOCK_UPLOAD] = (None, stock_source(data))
    values[CONNECT_UPLOAD] = (None, data.connect.describe("Connect upload")
                              if data.connect else "no Connect upload")
    for measure in (FLOWS_UPLOAD, STOCK_UPLOAD, CONNECT_UPLOAD):
        sources[measure] = values[measure][1]
    return Shown(values, sources)


def figures(now: Shown, previous: Shown, year_ago: Shown, incomplete: bool = False
            ) -> list[Figure]:
    """`incomplete`: the quarter's flows are counted only part of the way through it (see
    flows_incomplete), so its flows, rates and costs are not rated against the quarter before;
    stock is, being a count at one date like the previous quarter's."""
    out = []
    for measure in MEASURES:
        name, section = measure.name, measure.section
        value, display = now.values[name]
        prior, prior_display = previous.values[name]
        then, then_display = year_ago.values[name]
        if section == COVERAGE:
            rated = "n/a"
        elif incomplete and measure.snapshot == FLOWS_SNAPSHOT:
            rated = INCOMPLETE
        else:
            rated = direction(value, prior)
        out.append(Figure(section=section, measure=name, definition=measure.definition,
                          value=value, display=display, previous=prior,
                          previous_display=prior_display, year_ago=then,
                          year_ago_display=then_display, direction=rated,
                          source=now.sources[name]))
    return out


def trend(history: list[Shown], quarters: list[Quarter], incomplete: list[bool]
          ) -> pd.DataFrame:
    """Long form: quarter, quarter_start, measure, value (NaN when withheld), display; each
    quarter printed exactly as its own pack prints it. The trend's measures are flows: a
    quarter counted only part of the way through (`incomplete`) is a gap, its display marked,
    since a line falling to it would read as a collapse."""
    rows = []
    for shown, quarter, part in zip(history, quarters, incomplete, strict=True):
        for measure in TREND_MEASURES:
            value, display = shown.values[measure]
            if part:
                value, display = None, f"{display} ({PART_QUARTER})"
            rows.append({"quarter": quarter.label, "quarter_start": pd.Timestamp(quarter.start),
                         "measure": measure, "value": math.nan if value is None else value,
                         "display": display})
    return pd.DataFrame(rows).astype({"value": "float64"})
