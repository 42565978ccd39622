"""The disclosure engine: primary and secondary suppression, and the audit that no withheld
count can be worked out from what is shown."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.pack import disclosure
from dashboard.pack.disclosure import SECONDARY, TOTAL, Publication


def table(rows: dict[str, list[int]], columns: list[str]) -> pd.DataFrame:
    """A count table with a total column and a total row added from the cells."""
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    frame[TOTAL] = frame.sum(axis=1)
    frame.loc[TOTAL] = frame.sum(axis=0)
    return frame


def published(frame: pd.DataFrame, **totals) -> tuple[Publication, disclosure.Protected]:
    publication = Publication()
    publication.table("t", frame, **totals)
    return publication, publication.protect()


def test_one_to_four_read_less_than_five_and_zero_and_five_show():
    frame = pd.DataFrame({"n": [0, 1, 4, 5, 120]}, index=list("abcde"))
    _, protected = published(frame)
    assert [protected.text(("t", r, "n")) for r in frame.index] == ["0", "<5", "<5", "5", "120"]


def test_a_line_with_one_hidden_cell_hides_its_smallest_other_cell_as_confidential():
    frame = table({"A": [3, 10, 20], "B": [6, 7, 30]}, ["x", "y", "z"])
    _, protected = published(frame, total_row=True, total_column=True)
    assert protected.text(("t", "A", "x")) == "<5"
    assert protected.text(("t", "B", "x")) == SECONDARY  # 6: the smallest in column x
    assert protected.text(("t", "A", "y")) == SECONDARY  # 10: the smallest in row A
    assert protected.text(("t", TOTAL, TOTAL)) == "76"


def test_no_cell_reads_less_than_five_unless_it_is_one_to_four():
    frame = table({"A": [3, 10, 20], "B": [6, 7, 30], "C": [1, 0, 9]}, ["x", "y", "z"])
    publication, protected = published(frame, total_row=True, total_column=True)
    for key, value in publication.values.items():
        text = protected.text(key)
        assert (text == "<5") == (1 <= value <= 4), (key, value, text)
        assert text != SECONDARY or value >= 5


def test_bounds_of_the_markers_count_as_knowledge():
    # Column: a + b = 3 with a and b "<5" leaves a in 1..2; and row b: b + c = 6 with c "<5"
    # gives b in 2..4. Together with the totals, a reader finds b = 2, so more is withheld.
    frame = table({"O1": [1, 17], "O2": [2, 4], "O3": [0, 9]}, ["Inactive", "Active"])
    publication, protected = published(frame, total_row=True, total_column=True)
    assert disclosure.audit(publication.values, publication.sums, protected.withheld, 5) == []
    assert len(protected.withheld) > 3


def test_exact_hides_nothing():
    frame = table({"A": [3, 10]}, ["x", "y"])
    publication = Publication()
    publication.table("t", frame, total_row=True, total_column=True)
    protected = publication.protect(disclosure.EXACT)
    assert protected.withheld == {}
    assert protected.text(("t", "A", "x")) == "3"


def test_the_result_does_not_depend_on_the_order_counts_were_added():
    frame = table({"A": [3, 10, 20], "B": [6, 7, 30], "C": [8, 9, 2]}, ["x", "y", "z"])
    _, forward = published(frame, total_row=True, total_column=True)
    reverse = frame.iloc[::-1, ::-1]
    reverse = pd.concat([reverse.iloc[1:], reverse.iloc[:1]])
    reverse = reverse[[*reverse.columns[1:], reverse.columns[0]]]
    _, backward = published(reverse, total_row=True, total_column=True)
    assert forward.withheld == backward.withheld


def test_a_rate_is_shown_only_when_its_counts_are():
    publication = Publication()
    for key, value in (("reached", 3), ("not reached", 12), ("base", 15)):
        publication.count(key, value)
    publication.total(["reached", "not reached"], "base")
    protected = publication.protect()
    assert protected.rate("reached", "not reached", "base") == (None, SECONDARY)
    publication.values["reached"], publication.values["base"] = 6, 18
    protected = publication.protect()
    rate, text = protected.rate("reached", "not reached", "base")
    assert rate == pytest.approx(6 / 18) and text.startswith("33%")


def test_a_rate_with_no_base_is_not_applicable():
    publication = Publication()
    for key in ("reached", "not reached", "base"):
        publication.count(key, 0)
    publication.total(["reached", "not reached"], "base")
    assert publication.protect().rate("reached", "not reached", "base") == (None, "[z]")


def test_sums_that_do_not_hold_are_refused():
    publication = Publication()
    publication.count("a", 2)
    publication.count("b", 5)
    with pytest.raises(ValueError, match="do not add up"):
        publication.total(["a"], "b")
    with pytest.raises(ValueError, match="negative"):
        publication.count("c", -1)


def test_the_legend_explains_every_marker():
    legend = disclosure.legend(5)
    assert set(legend) == {"<5", "[c]", "[z]", "[x]"}
    assert all(legend.values())


def test_small_counts_that_pin_each_other_are_withheld_in_full():
    # Four "<5" reasons under a total that is itself under 5: a reader who knows each is at
    # least 1 and the total at most 4 would find every one is 1.
    frame = pd.DataFrame({"n": [1, 1, 1, 1, 4]}, index=["a", "b", "c", "d", TOTAL])
    publication = Publication()
    publication.table("t", frame, total_row=True)
    publication.count("headline", 4)
    publication.same(("t", TOTAL, "n"), "headline")
    protected = publication.protect()
    assert disclosure.audit(publication.values, publication.sums, protected.withheld, 5) == []
    assert {protected.text(k) for k in publication.values} == {disclosure.NOT_AVAILABLE}
    assert "[x]" in disclosure.legend(5)


def test_what_a_reader_knows_without_a_sum_is_given_to_the_audit():
    # The red-team review of 03/12: four areas listed (each has something in its row) with
    # their referrals "[x]" beside printed zeros come to 4 or more; the next quarter's stock of
    # 9 less its own referrals ("[c]", 5 or more) left 4 at most: every withheld figure was
    # pinned. Told that each listed row comes to 1 or more, the engine withholds the stock too.
    publication = Publication()
    rows = "abcd"
    for row in rows:
        publication.printed_before(("t", row, "referrals"), 1, disclosure.NOT_AVAILABLE)
        publication.printed_before(("t", row, "admissions"), 0, None)
    publication.printed_before(("t", TOTAL, "referrals"), 4, disclosure.NOT_AVAILABLE)
    publication.sums.append(((*(("t", r, "referrals") for r in rows),), ("t", TOTAL, "referrals")))
    for row in rows:
        publication.no_less_than(1, [("t", row, "referrals"), ("t", row, "admissions")])
    publication.count("referrals since", 5)
    publication.count("stock", 9)
    publication.total([("t", TOTAL, "referrals"), "referrals since"], "stock")
    protected = publication.protect()
    assert protected.text("referrals since") == SECONDARY
    assert protected.text("stock") in (SECONDARY, disclosure.NOT_AVAILABLE)
    assert disclosure.audit(publication.values, publication.sums, protected.withheld, 5) == []
    # the stock printed, as it was before, pins them
    printed = {k: m for k, m in protected.withheld.items() if k != "stock"}
    assert disclosure.audit(publication.values, publication.sums, printed, 5) != []


def test_a_floor_is_never_printed_and_must_hold():
    publication = Publication()
    publication.count("a", 0)
    publication.count("b", 3)
    with pytest.raises(ValueError, match="under 1"):
        publication.no_less_than(1, ["a"])
    with pytest.raises(ValueError, match="floor must be"):
        publication.no_less_than(2, ["b"])
    floor = publication.no_less_than(0, ["b"], ["a"])
    protected = publication.protect()
    assert protected.text("b") == "<5"
    assert protected.withheld[floor] in disclosure.FLOORS
    assert set(disclosure.legend(5)).isdisjoint(disclosure.FLOORS)


def test_a_rate_whose_base_is_not_available_says_nothing_of_it():
    # "[z]" says the base is 0 and "[c]" that it is not: beside a base withheld as "[x]",
    # which may be any number, 0 too, either would size it.
    for base in (0, 3):
        publication = Publication()
        for key, value in (("reached", 0), ("not reached", base), ("base", base)):
            publication.count(key, value)
        publication.total(["reached", "not reached"], "base")
        protected = disclosure.Protected(publication, {"base": disclosure.NOT_AVAILABLE})
        assert protected.rate("reached", "not reached", "base") == (None, "[x]")


def test_cells_withheld_in_full_yet_pinned_by_a_floor_take_the_cells_beside_them():
    # Four areas' "<5" referrals under a total an earlier pack printed as 4 are each 1: the
    # group is withheld in full ("[x]"), yet each area, listed with its admissions printed
    # 0, has 1 or more, so each would still be 1. The admissions are withheld too; the
    # total alone stays pinned, at the 4 already printed.
    publication = Publication()
    publication.printed_before("stock", 4, None)
    frame = pd.DataFrame({"x": [1, 1, 1, 1, 4], "y": [0] * 5}, index=[*"abcd", TOTAL])
    publication.table("t", frame, total_row=True)
    publication.same(("t", TOTAL, "x"), "stock")
    for row in "abcd":
        publication.no_less_than(1, [("t", row, "x"), ("t", row, "y")])
    protected = publication.protect()
    assert {protected.text(("t", row, column)) for row in "abcd" for column in "xy"} == {
        disclosure.NOT_AVAILABLE}
    assert disclosure.audit(publication.values, publication.sums, protected.withheld, 5) == [
        ("t", TOTAL, "x")]
