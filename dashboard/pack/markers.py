"""The markers a circulated figure can carry, what each tells a reader, and the two ways a pack
is disclosed (disclosure.py decides which marker each count takes)."""

from __future__ import annotations

CONTROLLED = "controlled"
EXACT = "exact"
DISCLOSURES = (CONTROLLED, EXACT)
DEFAULT_THRESHOLD = 5
SECONDARY = "[c]"
NOT_APPLICABLE = "[z]"
NOT_AVAILABLE = "[x]"
TOTAL = "Total"
# Never printed: a count a reader knows to be at least so much without seeing it (a row a table
# lists only when something is in it; a caseload taken never to shrink). Each is a sum's total,
# withheld from the start, that the audit bounds from below like a marker.
FLOORS = {"(at least 0)": (0, None), "(at least 1)": (1, None)}


def primary_marker(threshold: int = DEFAULT_THRESHOLD) -> str:
    """How a count from 1 to threshold-1 is printed: '<5'."""
    return f"<{threshold}"


def legend(threshold: int = DEFAULT_THRESHOLD) -> dict[str, str]:
    """Every marker a controlled figure can carry, and what it means (printed with each pack)."""
    return {
        primary_marker(threshold): f"a count from 1 to {threshold - 1}, not shown exactly",
        SECONDARY: f"confidential: a count of {threshold} or more (or a rate) withheld so that a "
                   f"hidden count cannot be worked out from the totals",
        NOT_APPLICABLE: "not applicable (for example a rate with nothing to divide by)",
        NOT_AVAILABLE: "not available: no data for it (for example no tracker snapshot for "
                       "the quarter), or withheld with the figures tied to it because their "
                       "small counts could otherwise be worked out; it may be any number, 0 too",
    }


def check(disclosure: str, threshold: int) -> None:
    if disclosure not in DISCLOSURES:
        raise ValueError(f"Disclosure must be one of {', '.join(DISCLOSURES)}, not {disclosure!r}")
    if int(threshold) != threshold or threshold < 2:
        raise ValueError(f"The threshold must be a whole number of at least 2, not {threshold!r}")


def is_primary(value: int, threshold: int = DEFAULT_THRESHOLD) -> bool:
    return 0 < value < threshold


def count_text(value: int) -> str:
    return f"{int(value):,}"
