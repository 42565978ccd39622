"""The cost-savings model reproduces the evaluation's figures; its query, chart and page work."""

from __future__ import annotations

import dataclasses

import pytest

from dashboard.analysis import cost_model
from dashboard.analysis.cost_model import Assumptions, goods_not_stolen
from dashboard.security.access import COMMAND_LINE
from dashboard.store import queries

from conftest import page_text

EVALUATION_FIGURES = ["£760,000", "£1,140,000", "£1,520,000", "£2,280,000"]


def rows(frame) -> list[dict]:
    return frame.to_dict("records")


def test_defaults_give_the_evaluations_figures_exactly():
    assert rows(goods_not_stolen(Assumptions())) == [
        {"year": 1, "people_counted": 20.0, "low_gbp": 760_000, "high_gbp": 1_140_000},
        {"year": 2, "people_counted": 40.0, "low_gbp": 1_520_000, "high_gbp": 2_280_000},
    ]


def test_theft_per_person_is_two_to_three_times_the_spend():
    one = goods_not_stolen(Assumptions(people_per_year=1, years=1))
    assert rows(one)[0] == {"year": 1, "people_counted": 1.0,
                             "low_gbp": 38_000, "high_gbp": 57_000}


def test_half_abstinent_shrinks_earlier_cohorts():
    frame = goods_not_stolen(Assumptions(abstinent_share_each_year=0.5, years=3))
    assert frame["people_counted"].tolist() == [20, 30, 35]
    assert frame["low_gbp"].tolist() == [760_000, 1_140_000, 1_330_000]


def test_nobody_rehabilitated_saves_nothing():
    frame = goods_not_stolen(Assumptions(people_per_year=0, years=3))
    assert frame[["people_counted", "low_gbp", "high_gbp"]].to_numpy().sum() == 0
    assert frame["year"].tolist() == [1, 2, 3]


@pytest.mark.parametrize("bad", [
    {"realised_share_low": 0.6},  # above the high share
    {"realised_share_low": 0},
    {"years": 0},
    {"people_per_year": -1},
    {"abstinent_share_each_year": 1.5},
])
def test_impossible_assumptions_are_refused(bad):
    with pytest.raises(ValueError):
        Assumptions(**bad)


def test_every_input_has_a_source():
    fields = {f.name for f in dataclasses.fields(Assumptions)}
    assert set(cost_model.SOURCES) == fields
    assert all("evaluation" in text for text in cost_model.SOURCES.values())
    assert "Black" in cost_model.SOURCES["annual_drug_spend_gbp"]


def test_gbp_and_people_labels():
    assert [cost_model.gbp(x) for x in (1_140_000, 0, 37_999.6, -500)] == [
        "£1,140,000", "£0", "£38,000", "-£500"]
    assert [cost_model.people_label(x) for x in (20.0, 54.2, 0)] == ["20", "54.2", "0"]


@pytest.mark.parametrize("assumptions", [Assumptions(), Assumptions(people_per_year=0),
                                         Assumptions(years=10, people_per_year=2.5)])
def test_chart_validates_against_vega_lite(assumptions):
    chart = cost_model.goods_not_stolen_chart(goods_not_stolen(assumptions))
    spec = chart.to_dict()  # Altair validates the spec here
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["y2"]["field"] == "high_gbp"


def test_people_rehabilitated_per_financial_year(demo_con):
    per_year = queries.run(demo_con, COMMAND_LINE, "people_rehabilitated")
    counts = per_year[["financial_year", "is_complete_year", "n_rehab_entrants",
                       "n_completions"]]
    # Demo data as at 31/07/2022: referrals from June 2021, 2022/23 only four months old.
    assert rows(counts) == [
        {"financial_year": "2021/22", "is_complete_year": True,
         "n_rehab_entrants": 20, "n_completions": 3},
        {"financial_year": "2022/23", "is_complete_year": False,
         "n_rehab_entrants": 7, "n_completions": 1},
    ]
    admitted = demo_con.execute(
        "select count(*) from referrals where snapshot_id = $s and rehab_admission_date "
        "is not null", {"s": queries.latest_snapshot_id(demo_con)}).fetchone()[0]
    assert per_year["n_rehab_entrants"].sum() == admitted


def test_people_per_year_uses_complete_years_and_says_which(demo_con):
    per_year = queries.run(demo_con, COMMAND_LINE, "people_rehabilitated")
    people, how = cost_model.people_per_year_from_data(per_year, "n_completions")
    assert people == 3
    assert "2021/22" in how and "2022/23" not in how
    assert "11/06/2021" in how  # the first year is only part of a year of the programme


def test_people_per_year_annualises_when_no_year_is_complete(demo_con):
    # snapshot 1 is as at 30/09/2021
    first = queries.run(demo_con, COMMAND_LINE, "people_rehabilitated", snapshot_id=1)
    people, how = cost_model.people_per_year_from_data(first, "n_rehab_entrants")
    assert people == pytest.approx(11 * 365.25 / 112)
    assert "No complete financial year" in how
    empty = queries.run(demo_con, COMMAND_LINE, "people_rehabilitated", officer="Nobody at all")
    assert cost_model.people_per_year_from_data(empty, "n_completions")[0] == 0


def test_page_shows_the_evaluations_figures_and_follows_its_inputs(app_as):
    at = app_as()
    at.run()
    at.switch_page("../pages/cost_savings.py")
    at.run()
    assert not at.exception, at.exception
    text = page_text(at)
    for figure in EVALUATION_FIGURES:
        assert figure in text, figure
    assert "£1.5m to £2.2m" in text
    assert "not cash saved" in text and "police" in text and "prison" in text

    at.number_input(key="people_per_year").set_value(10)
    at.run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric][:2] == ["£380,000 to £570,000",
                                                "£760,000 to £1,140,000"]
    # the note on the evaluation's own figure is not set beside other inputs' figures
    assert "£1.5m to £2.2m" not in page_text(at)

    at.radio(key="people_basis").set_value("n_completions")
    at.run()
    assert not at.exception, at.exception
    # 3 completions in 2021/22, the demo's one complete financial year.
    values = [m.value for m in at.metric]
    assert "£114,000 to £171,000" in values and "£228,000 to £342,000" in values
    assert "2021/22" in page_text(at)

    at.radio(key="people_basis").set_value("n_rehab_entrants")
    at.run()
    assert not at.exception, at.exception
