"""Small-number disclosure control for packs in circulation: primary and secondary suppression.

A "controlled" pack shows counts from 1 to threshold-1 as "<threshold" (primary suppression),
then hides further cells wherever a shown total would let a reader recover a hidden one
(secondary suppression, the classic rule: in any row or column with exactly one hidden cell,
also hide the smallest non-zero shown cell in that line; repeat until nothing changes). An
"exact" pack (steering group, internal) shows every count. Everything here is a pure function
on numbers or DataFrames; a missing value (NaN) is a count already hidden upstream, value
unknown (the scrutiny role's query results arrive like that).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

from dashboard import stats

CONTROLLED = "controlled"
EXACT = "exact"
DISCLOSURES = (CONTROLLED, EXACT)
DEFAULT_THRESHOLD = 5
NOT_SHOWN = "not shown"
NOT_APPLICABLE = "n/a"
TOTAL = "Total"


def check(disclosure: str, threshold: int) -> None:
    if disclosure not in DISCLOSURES:
        raise ValueError(f"Disclosure must be one of {', '.join(DISCLOSURES)}, not {disclosure!r}")
    if int(threshold) != threshold or threshold < 1:
        raise ValueError(f"The threshold must be a whole number of at least 1, not {threshold!r}")


def hidden_text(threshold: int) -> str:
    """How a hidden count is printed: '<5'."""
    return f"<{threshold}"


def is_missing(value: object) -> bool:
    """None, NaN or pd.NA: a count hidden before it reached us."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def is_small(value: object, threshold: int) -> bool:
    """True for a count from 1 to threshold-1, or one already hidden upstream (missing)."""
    return is_missing(value) or 0 < float(value) < threshold


# --- single counts and rates --------------------------------------------------------------

def count_display(value: object, disclosure: str, threshold: int = DEFAULT_THRESHOLD,
                  hidden: bool = False) -> tuple[float | None, str]:
    """(value as printed or None if hidden, text): '42', '<5', '0'.

    `hidden` forces the count hidden (secondary suppression decided elsewhere)."""
    if disclosure == EXACT and not is_missing(value) and not hidden:
        return value, f"{int(value):,}"
    if hidden or is_small(value, threshold):
        return None, hidden_text(threshold)
    return value, f"{int(value):,}"


def rate_display(reached: object, base: object, disclosure: str,
                 threshold: int = DEFAULT_THRESHOLD,
                 hidden_parts: bool = False) -> tuple[float | None, str]:
    """(proportion or None, text): '45% (95% CI 30% to 60%)', 'not shown' or 'n/a'.

    In a controlled pack a rate is not shown when its numerator, its denominator or the
    difference between them is a hidden count: any one of them, with the rate and the
    other, gives the hidden one back. `hidden_parts` says a count shown elsewhere in the pack
    that equals one of these was hidden there (by secondary suppression)."""
    if is_missing(base) or is_missing(reached):
        return None, NOT_SHOWN
    base, reached = int(base), int(reached)
    if base == 0:
        return None, NOT_APPLICABLE
    if disclosure == CONTROLLED and (hidden_parts or any(
            is_small(part, threshold) for part in (reached, base, base - reached))):
        return None, NOT_SHOWN
    return reached / base, stats.describe_rate(reached, base)


# --- tables ---------------------------------------------------------------------------------

def add_totals(counts: pd.DataFrame, row: bool = True, column: bool = True,
               label: str = TOTAL) -> pd.DataFrame:
    """The table with a total row (last) and/or a total column (last), summed from the cells.

    Only for exact counts: a sum over cells hidden upstream would be wrong (NaN stays NaN)."""
    out = counts.copy()
    if column:
        out[label] = out.sum(axis=1, skipna=False)
    if row:
        out.loc[label] = out.sum(axis=0, skipna=False)
    return out


def primary_mask(counts: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """True where a cell is a count from 1 to threshold-1, or already hidden (missing)."""
    values = counts.astype("float64")
    return values.isna() | ((values > 0) & (values < threshold))


def _lines(shape: tuple[int, int], total_row: bool, total_column: bool) -> list[list[tuple]]:
    """Every row and column that sums to a shown total, as cell positions, the total last."""
    rows, columns = shape
    lines = []
    if total_column:  # each row (the total row too) adds up to its last cell
        lines += [[(r, c) for c in range(columns)] for r in range(rows)]
    if total_row:  # each column (the total column too) adds up to its last cell
        lines += [[(r, c) for r in range(rows)] for c in range(columns)]
    return lines


def secondary_mask(counts: pd.DataFrame, mask: pd.DataFrame, *, total_row: bool,
                   total_column: bool) -> pd.DataFrame:
    """`mask` widened until no line with a total has exactly one hidden cell.

    The total row (if any) is the last row and the total column the last column. A line
    with one hidden cell gets its smallest non-zero shown cell hidden too (the first on a
    tie); if it has none left but its total, the total is hidden. Repeats across rows and
    columns until stable; it always stops, as each pass only adds hidden cells."""
    values = counts.astype("float64").to_numpy()
    hidden = mask.to_numpy(dtype=bool).copy()
    lines = _lines(values.shape, total_row, total_column)
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(hidden[p] for p in line) != 1:
                continue
            inner, total = line[:-1], line[-1]
            candidates = [p for p in inner if not hidden[p] and values[p] > 0]
            if candidates:
                pick = min(candidates, key=lambda p: values[p])
            elif not hidden[total] and values[total] > 0:
                pick = total
            else:
                continue  # only zeros left: the hidden cell is itself a known zero sum
            hidden[pick] = True
            changed = True
    return pd.DataFrame(hidden, index=mask.index, columns=mask.columns)


def suppression_mask(counts: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD, *,
                     total_row: bool = False, total_column: bool = False) -> pd.DataFrame:
    """Primary then secondary suppression: True for every cell a controlled table hides."""
    return secondary_mask(counts, primary_mask(counts, threshold), total_row=total_row,
                          total_column=total_column)


def protect_table(counts: pd.DataFrame, disclosure: str, threshold: int = DEFAULT_THRESHOLD,
                  *, total_row: bool = False, total_column: bool = False
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells as shown, hidden mask): whole numbers, with hidden cells as the text '<5'.

    `counts` holds numbers only (labels in the index and column names); with total_row /
    total_column its last row / column are the totals. Exact disclosure hides nothing, except
    a count already hidden upstream."""
    check(disclosure, threshold)
    if disclosure == EXACT:
        mask = counts.isna()
    else:
        mask = suppression_mask(counts, threshold, total_row=total_row,
                                total_column=total_column)
    shown = counts.astype(object).copy()
    for column in counts.columns:
        shown[column] = [hidden_text(threshold) if hide else int(value)
                         for value, hide in zip(counts[column], mask[column], strict=True)]
    return shown, mask


def visible_small_counts(frame: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> list:
    """Every cell of a table as shown that is a count from 1 to threshold-1 (should be none)."""
    found = []
    for column in frame.columns:
        for value in frame[column]:
            if isinstance(value, (bool, np.bool_)):
                continue
            number = value
            if isinstance(value, str):
                text = value.replace(",", "").strip()
                if not text.isdigit():
                    continue
                number = int(text)
            if isinstance(number, numbers.Real) and not math.isnan(number) \
                    and 0 < number < threshold and float(number).is_integer():
                found.append((column, value))
    return found
