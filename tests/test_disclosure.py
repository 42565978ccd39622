"""Small-number disclosure control: primary and secondary suppression, rates, displays."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard import disclosure
from dashboard.disclosure import CONTROLLED, EXACT, TOTAL


def table(rows: dict[str, list[float]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=columns).T.astype("float64")


def hidden_cells(mask: pd.DataFrame) -> set[tuple[str, str]]:
    return {(r, c) for r in mask.index for c in mask.columns if mask.loc[r, c]}


def lines_with_one_hidden(mask: pd.DataFrame) -> list:
    """Rows and columns (all of which sum to a shown total here) with exactly one hidden."""
    return ([("row", r) for r in mask.index if mask.loc[r].sum() == 1]
            + [("column", c) for c in mask.columns if mask[c].sum() == 1])


# --- primary --------------------------------------------------------------------------------

def test_primary_hides_one_to_four_and_shows_zero_and_five():
    counts = pd.DataFrame({"n": [0, 1, 4, 5, 120, math.nan]}, dtype="float64")
    assert disclosure.primary_mask(counts)["n"].tolist() == [False, True, True, False, False,
                                                             True]
    assert disclosure.primary_mask(counts, threshold=10)["n"].tolist() == [
        False, True, True, True, False, True]


# --- secondary ------------------------------------------------------------------------------

def test_primary_alone_would_be_recoverable_from_the_total():
    counts = disclosure.add_totals(pd.DataFrame({"Custody": [3.0], "Probation": [10.0],
                                                 "Retail": [12.0]}, index=["Officer 1"]),
                                   row=False)
    primary = disclosure.primary_mask(counts)
    assert hidden_cells(primary) == {("Officer 1", "Custody")}
    # Shown as it stands, 25 - 10 - 12 gives the hidden 3 back.
    assert counts.loc["Officer 1", TOTAL] - 10 - 12 == 3
    shown, mask = disclosure.protect_table(counts, CONTROLLED, total_column=True)
    assert shown.loc["Officer 1"].tolist() == ["<5", "<5", 12, 25]
    assert hidden_cells(mask) == {("Officer 1", "Custody"), ("Officer 1", "Probation")}


def test_a_one_way_table_hides_the_next_smallest_part_when_its_total_is_shown():
    counts = pd.DataFrame({"Early discharges": [2.0, 7.0, 9.0, 18.0]},
                          index=["Self-discharged", "Rule breach", "Other", TOTAL])
    shown, _ = disclosure.protect_table(counts, CONTROLLED, total_row=True)
    assert shown["Early discharges"].tolist() == ["<5", "<5", 9, 18]


def test_secondary_suppression_iterates_across_rows_and_columns():
    counts = disclosure.add_totals(table({
        "r1": [2, 10, 20],
        "r2": [8, 30, 9],
        "r3": [15, 12, 40],
    }, ["A", "B", "C"]))
    mask = disclosure.suppression_mask(counts, total_row=True, total_column=True)
    # Pass 1: r1 has one hidden (A) -> B; column A -> r2A (8); column B -> r3B (12).
    # Pass 2: r2 now has one (A) -> C (9); r3 has one (B) -> A (15); column C -> r1C (20).
    assert hidden_cells(mask) == {("r1", "A"), ("r1", "B"), ("r1", "C"), ("r2", "A"),
                                  ("r2", "C"), ("r3", "A"), ("r3", "B")}
    assert lines_with_one_hidden(mask) == []


def test_a_row_with_nothing_else_to_hide_hides_its_total_and_the_margin_follows():
    counts = disclosure.add_totals(table({"r1": [3, 0], "r2": [10, 20]}, ["A", "B"]))
    mask = disclosure.suppression_mask(counts, total_row=True, total_column=True)
    assert hidden_cells(mask) == {("r1", "A"), ("r1", TOTAL), ("r2", "A"), ("r2", TOTAL)}
    assert lines_with_one_hidden(mask) == []


def test_zeros_are_never_hidden_to_protect_a_cell():
    counts = disclosure.add_totals(table({"r1": [3, 0, 0], "r2": [0, 0, 6]}, ["A", "B", "C"]),
                                   row=False)
    shown, _ = disclosure.protect_table(counts, CONTROLLED, total_column=True)
    # r1's total equals its only non-zero cell, so it is hidden too (it is itself 3).
    assert shown.loc["r1"].tolist() == ["<5", 0, 0, "<5"]
    assert shown.loc["r2"].tolist() == [0, 0, 6, 6]


def test_no_suppression_needed_changes_nothing():
    counts = disclosure.add_totals(table({"r1": [5, 6], "r2": [0, 7]}, ["A", "B"]))
    shown, mask = disclosure.protect_table(counts, CONTROLLED, total_row=True, total_column=True)
    assert not mask.to_numpy().any()
    assert shown.loc[TOTAL].tolist() == [5, 13, 18]


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_leave_no_line_with_a_single_hidden_cell(seed):
    rng = np.random.default_rng(seed)
    cells = rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 14, 30], size=(rng.integers(1, 6),
                                                                rng.integers(1, 6)))
    counts = disclosure.add_totals(pd.DataFrame(cells.astype("float64")))
    primary = disclosure.primary_mask(counts)
    mask = disclosure.suppression_mask(counts, total_row=True, total_column=True)
    assert (mask | ~primary).all().all()  # everything primary hid stays hidden
    for line in [mask.loc[r] for r in mask.index] + [mask[c] for c in mask.columns]:
        assert line.sum() != 1


def test_cells_hidden_upstream_count_as_hidden_and_print_as_hidden():
    # The scrutiny role's query results arrive with 1-4 already blanked (NaN).
    counts = pd.DataFrame({"Referrals": [math.nan, 10.0, 12.0, 25.0]},
                          index=["Aston", "City Centre", "Erdington", TOTAL])
    shown, _ = disclosure.protect_table(counts, CONTROLLED, total_row=True)
    assert shown["Referrals"].tolist() == ["<5", "<5", 12, 25]
    shown, _ = disclosure.protect_table(counts, EXACT, total_row=True)
    assert shown["Referrals"].tolist() == ["<5", 10, 12, 25]


def test_exact_tables_show_every_count():
    counts = disclosure.add_totals(table({"r1": [1, 2], "r2": [3, 40]}, ["A", "B"]))
    shown, mask = disclosure.protect_table(counts, EXACT, total_row=True, total_column=True)
    assert not mask.to_numpy().any()
    assert shown.to_numpy().tolist() == [[1, 2, 3], [3, 40, 43], [4, 42, 46]]


def test_unknown_disclosure_or_threshold_is_refused():
    with pytest.raises(ValueError, match="Disclosure"):
        disclosure.protect_table(pd.DataFrame({"n": [1.0]}), "public")
    with pytest.raises(ValueError, match="threshold"):
        disclosure.check(CONTROLLED, 0)


# --- single counts and rates ------------------------------------------------------------------

@pytest.mark.parametrize("value, how, expected", [
    (0, CONTROLLED, (0, "0")),
    (3, CONTROLLED, (None, "<5")),
    (5, CONTROLLED, (5, "5")),
    (1234, CONTROLLED, (1234, "1,234")),
    (3, EXACT, (3, "3")),
    (math.nan, EXACT, (None, "<5")),
])
def test_count_display(value, how, expected):
    assert disclosure.count_display(value, how) == expected


def test_count_display_can_be_forced_hidden_by_a_table():
    assert disclosure.count_display(12, CONTROLLED, hidden=True) == (None, "<5")


@pytest.mark.parametrize("reached, base, expected", [
    (3, 40, "not shown"),      # numerator hidden
    (3, 3, "not shown"),       # both hidden
    (20, 22, "not shown"),     # 2 did not reach it: rate and base give the 2 back
    (math.nan, 40, "not shown"),
    (0, 0, "n/a"),
    (0, 12, "0% (95% CI 0% to 24%)"),
    (9, 27, "33% (95% CI 19% to 52%)"),
    (6, 6, "100% (95% CI 61% to 100%) - base under 10"),
])
def test_controlled_rates(reached, base, expected):
    assert disclosure.rate_display(reached, base, CONTROLLED)[1] == expected


def test_a_rate_resting_on_a_count_hidden_elsewhere_is_not_shown():
    assert disclosure.rate_display(9, 27, CONTROLLED, hidden_parts=True) == (None, "not shown")


def test_exact_rates_show_small_bases():
    assert disclosure.rate_display(3, 4, EXACT) == (0.75, "75% (95% CI 30% to 95%) - base "
                                                          "under 10")


def test_visible_small_counts_finds_numbers_and_digit_text_only():
    frame = pd.DataFrame({"label": ["Officer 1", "3", "Total"], "n": [np.int64(2), 0, 7],
                          "text": ["<5", "12", "4 (as at)"], "flag": [True, False, True]})
    assert disclosure.visible_small_counts(frame) == [("label", "3"), ("n", 2)]
