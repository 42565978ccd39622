"""The at-a-glance page: whole quarters by default, the quarter before and a year before,
targets with red/amber/green set by steering or admins (logged), waiting time, freshness and
"what changed" in plain words."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard.analysis import glance, measures, targets
from dashboard.analysis.periods import financial_quarter, shift_quarter
from dashboard.security import audit
from dashboard.security.access import COMMAND_LINE
from dashboard.store import queries


def test_quarters_and_the_latest_complete_one():
    assert glance.latest_complete(dt.date(2022, 7, 31)).label == "2022/23 Q1"
    assert glance.latest_complete(dt.date(2022, 6, 30)).label == "2022/23 Q1"
    assert glance.latest_complete(dt.date(2022, 6, 29)).label == "2021/22 Q4"
    q1 = financial_quarter(2022, 1)
    assert shift_quarter(q1, -1).label == "2021/22 Q4"
    assert shift_quarter(q1, -4).label == "2021/22 Q1"
    assert shift_quarter(financial_quarter(2022, 4), 1).label == "2023/24 Q1"
    choices = glance.quarter_choices(dt.date(2022, 2, 1), dt.date(2022, 7, 31))
    assert [q.label for q in choices] == ["2022/23 Q2", "2022/23 Q1", "2021/22 Q4"]
    assert glance.default_choice(choices, dt.date(2022, 7, 31)) == 1
    # every referral so far in a quarter not yet over: that quarter, said to be incomplete
    only_now = glance.quarter_choices(dt.date(2022, 8, 1), dt.date(2022, 8, 31))
    assert [q.label for q in only_now] == ["2022/23 Q2"]
    assert glance.default_choice(only_now, dt.date(2022, 8, 31)) == 0


def test_headlines_read_the_right_quarters(demo_con):
    by_quarter = queries.run(demo_con, COMMAND_LINE, "quarterly_headlines")
    figures = {f.step: f for f in glance.headlines(by_quarter, financial_quarter(2022, 1))}

    def counted(column, start, end, extra=""):
        return demo_con.execute(
            f"select count(*) from referrals where snapshot_id = 5 and {column} between "
            f"$s and $e {extra}", {"s": start, "e": end}).fetchone()[0]

    q1, q4, last_year = (dt.date(2022, 4, 1), dt.date(2022, 6, 30)), \
        (dt.date(2022, 1, 1), dt.date(2022, 3, 31)), (dt.date(2021, 4, 1), dt.date(2021, 6, 30))
    for step, column, extra in [("Referrals", "referral_date", ""),
                                ("Assessed", "assessment_date", ""),
                                ("Completed 12 weeks", "rehab_exit_date",
                                 "and rehab_exit_reason = 'Completed'")]:
        assert (figures[step].value, figures[step].previous, figures[step].last_year) == (
            counted(column, *q1, extra), counted(column, *q4, extra),
            counted(column, *last_year, extra)), step
        assert figures[step].trend[-1] == figures[step].value
        assert figures[step].trend[-2] == figures[step].previous
        assert len(figures[step].trend) == glance.TREND_QUARTERS


def test_what_changed_in_plain_words():
    assert glance.change_sentence("Assessed", 27, 10, "Q1", "Q4") == (
        "Assessed rose from 10 in Q4 to 27 in Q1 (likely range for the change: +27% to "
        "+525%): more than chance alone would explain.")
    assert glance.change_sentence("Referrals", 40, 41, "Q1", "Q4").endswith(
        ": chance alone could explain a change this size.")
    assert glance.change_sentence("Entered rehab", 5, 1, "Q1", "Q4") == (
        "Entered rehab rose from 1 in Q4 to 5 in Q1: too few to tell a real change from chance.")
    assert glance.change_sentence("Referrals", 7, 7, "Q1", "Q4") == (
        "Referrals: 7 in Q1, the same as in Q4.")
    low, high = glance.change_interval(40, 40)
    assert low < 1 < high and low == pytest.approx(1 / high)


def test_red_amber_green():
    assert glance.rag(40, 40, 0.8, True) == "green"
    assert glance.rag(32, 40, 0.8, True) == "amber"
    assert glance.rag(31, 40, 0.8, True) == "red"
    assert glance.rag(10, 40, 0.8, False) is None  # a part-quarter is not rated
    assert glance.rag(10, None, 0.8, True) is None


def test_waiting_time_against_the_reference():
    waits = pd.DataFrame({"quarter_start": [dt.date(2022, 4, 1)] * 4 + [dt.date(2022, 1, 1)],
                          "days_waited": [3, 21, 22, 60, 1], "referrals": [2, 1, 1, 1, 9]})
    assert glance.contact_wait(waits, financial_quarter(2022, 1)) == {
        "contacted": 5, "median_days": 21.0, "within_reference": 3, "reference": 21}
    assert glance.contact_wait(waits, financial_quarter(2022, 2)) is None


def test_freshness_warns_after_45_days():
    uploads = pd.DataFrame({"kind": ["tracker"], "as_at_date": [pd.Timestamp("2022-07-31")]})
    tracker, connect = glance.freshness(uploads, dt.date(2022, 9, 14))
    assert (tracker["age_days"], tracker["stale"]) == (45, False)
    assert connect == {"name": "Connect", "as_at": None, "age_days": None, "stale": True}
    assert glance.freshness(uploads, dt.date(2022, 9, 15))[0]["stale"]


def test_targets_are_set_by_steering_or_admin_and_logged(security_db):
    targets.set_target(security_db, "Referrals", 45, "Chair", "steering")
    targets.set_target(security_db, "Entered rehab", 6, "Admin", "admin", amber_share=0.5)
    assert {m: (t.quarterly_target, t.amber_share, t.set_by)
            for m, t in targets.current(security_db).items()} == {
        "Referrals": (45, 0.8, "Chair"), "Entered rehab": (6, 0.5, "Admin")}
    with pytest.raises(targets.TargetRefused, match="officer role may not set targets"):
        targets.set_target(security_db, "Referrals", 1, "PC Jones", "officer")
    with pytest.raises(targets.TargetRefused, match="has no target"):
        targets.set_target(security_db, "Active caseload", 1, "Chair", "steering")
    targets.set_target(security_db, "Referrals", None, "Chair", "steering")
    assert set(targets.current(security_db)) == {"Entered rehab"}
    log = audit.read_log(security_db, action="target-set")
    assert list(log["detail"].str.contains("null")) == [True, False, False]  # newest first
    assert list(log["target"]) == ["Referrals", "Entered rehab", "Referrals"]
    assert audit.verify_log(security_db).intact


def test_overview_opens_on_the_latest_complete_quarter(app_as, security_db):
    targets.set_target(security_db, "Referrals", 60, "Chair", "steering")
    at = app_as("steering")
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="overview_quarter").value == "2022/23 Q1"
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    assert shown["Referrals"] == ("40", "-1")  # 41 in 2021/22 Q4
    # each figure is explained in the words of the one table of measures
    assert {m.label: m.proto.help for m in at.metric} == {
        step: measures.DASHBOARD_DEFINITIONS[step] for step in glance.STEPS}
    captions = " ".join(c.value for c in at.caption)
    assert "Target 60 a quarter: 🔴 below target" in captions
    changed = at.markdown[0].value
    assert changed.startswith("- Referrals fell from 41 in 2021/22 Q4 to 40 in 2022/23 Q1")
    # The demo's fixed dates are not warned of as stale data; real data that old is.
    assert "Tracker demo data as at 31/07/2022." in captions
    assert not any("days old" in w.value for w in at.warning)
    at.selectbox(key="overview_quarter").select("2022/23 Q2 (incomplete)").run()
    assert any("2022/23 Q2 is not over" in w.value for w in at.warning)
    assert "Target 60 a quarter (not rated yet)" in " ".join(c.value for c in at.caption)
    # a month against a whole quarter is not a fall: no delta, the whole quarter beside it
    assert {m.label: m.delta for m in at.metric} == {step: "" for step in glance.STEPS}
    assert "2022/23 Q1: 40 (whole quarter; not compared)" in " ".join(
        c.value for c in at.caption)
    # the first quarter in the data has nothing before it to rise from
    first = at.selectbox(key="overview_quarter").options[-1]
    at.selectbox(key="overview_quarter").select(first).run()
    assert not at.exception
    assert {m.label: m.delta for m in at.metric} == {step: "" for step in glance.STEPS}
    assert "is the first quarter in the data" in " ".join(m.value for m in at.markdown)
    captions = " ".join(c.value for c in at.caption)
    assert "before the data" in captions
    # Its trend is that one quarter, never seven quarters of none before it.
    assert f"Since the data began ({first}): " in captions and "Last 8 quarters" not in captions
    assert [chart_data(chart)["quarter"].tolist() for chart in sparklines(at)] == \
        [[first]] * len(glance.STEPS)
    at.selectbox(key="overview_quarter").select("2022/23 Q1").run()
    # The demo's fifth quarter: its trend has those five.
    assert f"Since the data began ({first}): " in " ".join(c.value for c in at.caption)
    drawn = [chart_data(chart) for chart in sparklines(at)]
    assert [len(frame) for frame in drawn] == [5] * len(glance.STEPS)
    assert drawn[0]["referrals"].iloc[-2:].tolist() == [41, 40]  # 2021/22 Q4, 2022/23 Q1


def test_a_trend_keeps_the_latest_quarters_it_is_labelled_for():
    figure = glance.Headline("Referrals", 5, 2, 0, [0, 0, 0, 0, 0, 1, 2, 5])
    assert [frame.to_dict("list") for frame in glance.trend_frames([figure], ("a", "b", "c"))] \
        == [{"quarter": ["a", "b", "c"], "referrals": [1, 2, 5]}]
    assert len(glance.trend_frames([figure], tuple("abcdefgh"))[0]) == 8


def sparklines(at) -> list:
    return [chart for chart in at.get("vega_lite_chart") if "Trend of" in chart.proto.spec]


def chart_data(chart) -> pd.DataFrame:
    """The rows a chart draws, as Streamlit hands them to the browser beside its spec."""
    import pyarrow as pa

    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas()
              for d in chart.proto.datasets if d.data.data]
    return pd.concat(frames) if frames else pd.DataFrame()


def test_a_part_of_the_programme_is_not_rated_against_its_targets(app_as, security_db):
    # The targets are the programme's: an officer's own caseload, or one area, would read
    # "below target" for doing its share.
    targets.set_target(security_db, "Referrals", 60, "Chair", "steering")
    officer = app_as("officer").run()  # opens on My work
    officer.switch_page("../pages/overview.py").run()
    steering = app_as("steering").run()
    area = steering.selectbox(key="filter_area").options[1]
    steering.selectbox(key="filter_area").select(area).run()
    for at in (officer, steering):
        assert not at.exception and not at.error
        captions = " ".join(c.value for c in at.caption)
        assert "Programme target 60 a quarter (for the whole programme: not rated here)" \
            in captions
        assert not any(word in captions for word in ("target met", "close to target",
                                                     "below target"))
    steering.selectbox(key="filter_area").select("All").run()
    assert "Target 60 a quarter: 🔴 below target" in " ".join(c.value for c in steering.caption)


def test_a_steering_member_sets_a_target_on_the_page(app_as, security_db):
    at = app_as("steering", name="Chair")
    at.run()
    at.selectbox(key="target_measure").select("Assessed")
    at.number_input(key="target_value").set_value(20)
    next(b for b in at.button if b.label == "Save the target").click()
    at.run()
    assert targets.current(security_db)["Assessed"].quarterly_target == 20
    assert [s.value for s in at.success] == ["Saved: Assessed target 20 a quarter."]
    assert "Target 20 a quarter: 🟢 target met" in " ".join(c.value for c in at.caption)


def test_overview_warns_of_real_data_more_than_45_days_old(real_history_db, app_as):
    at = app_as("steering", name="Chair")
    at.run()
    assert not at.exception and not at.error
    assert any(w.value.startswith("**Tracker data is ") and "days old** (as at 31/07/2022)"
               in w.value for w in at.warning)
