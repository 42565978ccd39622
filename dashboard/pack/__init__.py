"""The quarterly scrutiny pack: a quarter's figures built fresh, protected, signed off, frozen.

quarters.py (financial and calendar quarters), analysis/measures.py (the table of measures),
gathering.py (a quarter's exact counts), tables.py (its one protected publication, with
outcome_tables.py),
figures.py (figures and trend as printed), build.py (the pack), frozen.py (signed-off packs),
model.py (the pack as data), disclosure.py (what a circulated pack may show). The names other
code uses are gathered here; `dashboard.pack.export` (PDF and workbook) is imported only when a
pack is written, as it pulls in the chart renderer.
"""

from dashboard.analysis.measures import (
    COST,
    COVERAGE,
    FLOWS,
    HEADLINE_STEPS,
    MEASURES,
    RATE_MEASURES,
    RATES,
    SECTION_OF,
    STOCK,
    TREND_MEASURES,
    Measure,
)
from dashboard.pack.build import (
    TREND_QUARTERS,
    QuarterMemo,
    build_pack,
    protect_ahead,
    whole_quarters_only,
)
from dashboard.pack.figures import direction
from dashboard.pack.frozen import (
    circulated_now,
    compare,
    issue,
    issue_on,
    load_signed_off,
    pack_from_json,
    pack_to_json,
    sign_off,
)
from dashboard.pack.kept_chains import KeptChains
from dashboard.pack.model import Figure, Pack, Table
from dashboard.pack.outcome_tables import (
    EXIT_OUTCOMES_TABLE,
    FOLLOWED,
    LEFT,
    NO_OFFENCE,
    NOT_YET,
    OFFENCE,
    RETENTION_TABLE,
)
from dashboard.pack.quarters import (
    CALENDAR,
    FINANCIAL,
    SCHEMES,
    Quarter,
    comparison_quarters,
    newest_first,
    parse_quarter,
    quarter_containing,
)
from dashboard.pack.tables import rate_keys

__all__ = [
    "CALENDAR", "COST", "COVERAGE", "EXIT_OUTCOMES_TABLE", "FINANCIAL", "FLOWS", "FOLLOWED",
    "HEADLINE_STEPS", "LEFT", "MEASURES", "NO_OFFENCE", "NOT_YET", "OFFENCE", "RATES",
    "RATE_MEASURES", "RETENTION_TABLE", "SCHEMES", "SECTION_OF", "STOCK", "TREND_MEASURES",
    "TREND_QUARTERS", "Figure", "KeptChains", "Measure", "Pack", "Quarter", "QuarterMemo",
    "Table",
    "build_pack", "circulated_now", "compare", "comparison_quarters", "direction", "issue",
    "issue_on", "load_signed_off", "newest_first", "pack_from_json", "pack_to_json",
    "parse_quarter", "protect_ahead", "quarter_containing", "rate_keys", "sign_off",
    "whole_quarters_only",
]
