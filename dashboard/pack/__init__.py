"""The quarterly scrutiny pack: a quarter's figures built fresh, protected, signed off, frozen.

The names other code uses are gathered here; `dashboard.pack.export` (PDF and workbook) is
imported only when a pack is written, as it pulls in the chart renderer.
"""

from dashboard.pack.build import (
    CALENDAR,
    COST,
    COVERAGE,
    EXIT_OUTCOMES_TABLE,
    FINANCIAL,
    FLOWS,
    FOLLOWED,
    HEADLINE_STEPS,
    LEFT,
    NO_OFFENCE,
    NOT_YET,
    OFFENCE,
    RATE_MEASURES,
    RATES,
    RETENTION_TABLE,
    SCHEMES,
    SECTION_OF,
    STOCK,
    TREND_MEASURES,
    TREND_QUARTERS,
    Quarter,
    build_pack,
    compare,
    comparison_quarters,
    direction,
    issue,
    load_signed_off,
    pack_from_json,
    pack_to_json,
    parse_quarter,
    quarter_containing,
    rate_keys,
    sign_off,
)
from dashboard.pack.model import Figure, Pack, Table

__all__ = [
    "CALENDAR", "COST", "COVERAGE", "EXIT_OUTCOMES_TABLE", "FINANCIAL", "FLOWS", "FOLLOWED",
    "HEADLINE_STEPS", "LEFT", "NO_OFFENCE", "NOT_YET", "OFFENCE", "RATES", "RATE_MEASURES",
    "RETENTION_TABLE", "SCHEMES", "SECTION_OF", "STOCK", "TREND_MEASURES", "TREND_QUARTERS",
    "Figure", "Pack", "Quarter", "Table", "build_pack", "compare", "comparison_quarters",
    "direction", "issue", "load_signed_off", "pack_from_json", "pack_to_json", "parse_quarter",
    "quarter_containing", "rate_keys", "sign_off",
]
