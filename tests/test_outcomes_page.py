"""The Outcomes page renders for each role that has it, shows the named queries' figures, says
what they are, and follows the chosen windows; an officer sees only their own referrals."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.analysis import outcomes
from dashboard.security import access
from dashboard.security.access import COMMAND_LINE
from dashboard.store import database, queries

from conftest import ROOT, page_text


def open_page(at: AppTest) -> AppTest:
    at.run()
    at.switch_page("../pages/outcomes.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def test_the_page_is_for_officers_steering_and_admin_only():
    assert {role for role, cap in access.CAPABILITIES.items() if "outcomes" in cap.pages} \
        == {"officer", "steering", "admin"}


def test_page_shows_the_query_and_says_what_it_is(app_as, demo_db):
    at = open_page(app_as("steering"))
    text = page_text(at)
    assert "not proven reoffending" in text and "regression to the mean" in text
    assert "comparison" in text
    con = database.connect_read_only(demo_db)
    expected = outcomes.with_rates(queries.run(con, COMMAND_LINE, "offending_windows"))
    con.close()
    shown = at.dataframe[0].value
    assert shown[["outcome_group", "window", "referrals", "offences"]].values.tolist() == \
        expected[["outcome_group", "window", "referrals", "offences"]].values.tolist()
    completers = expected[(expected["outcome_group"] == "Completed 12 weeks")
                          & (expected["window"] == "6 months after rehab exit")].iloc[0]
    metric = next(m for m in at.metric if m.label.startswith("Completed 12 weeks"))
    assert metric.value == f"{completers.rate_ratio:.2f}"
    assert at.get("vega_lite_chart"), "charts drawn"
    assert any("still in rehab after 3 weeks" in str(c.proto.spec)
               for c in at.get("vega_lite_chart")), "the retention title states the data"


def test_choosing_windows_changes_the_rows(app_as):
    at = open_page(app_as("admin"))
    at.selectbox(key="outcomes_before_months").select(6)
    at.selectbox(key="outcomes_after_exit_months").select(3)
    at.run()
    assert not at.exception
    windows = set(at.dataframe[0].value["window"])
    assert {"6 months before referral", "3 months after rehab exit"} <= windows
    assert "12 months before referral" not in windows


def test_an_officer_sees_only_their_own_referrals(app_as, security_db, demo_db):
    at = open_page(app_as("officer", name="PC Two", officers=("Officer 2",)))
    con = database.connect_read_only(demo_db)
    theirs = queries.run(con, access.Viewer("PC Two", "officer", ("Officer 2",)),
                         "offending_windows")
    everyone = queries.run(con, COMMAND_LINE, "offending_windows")
    con.close()
    shown = at.dataframe[0].value
    assert shown["referrals"].tolist() == theirs["referrals"].tolist()
    assert shown["referrals"].sum() < everyone["referrals"].sum()


def test_without_connect_records_retention_is_still_shown(app_as, tmp_path):
    import datetime as dt

    from dashboard import service

    db = tmp_path / "o2r.duckdb"
    service.ingest_path(db, "tracker", ROOT / "data" / "demo" /
                        "o2r_tracker_synthetic_as_at_2022-07-31.xlsx",
                        as_at=dt.date(2022, 7, 31), use_column_map=False)
    at = open_page(app_as("admin", name="Admin", db=db))
    text = page_text(at)
    assert "No Connect crime records cover these referrals yet" in text
    assert "Retained 12 weeks or completed (NDTMS-aligned)" in text


@pytest.mark.parametrize("role", ["steering", "officer"])
def test_no_outcome_grid_leaves_a_cell_for_streamlit_to_print_as_none(app_as, role):
    # The browser prints a missing number as "None": the window before referral has no
    # "before" of its own, and said None on every row.
    at = open_page(app_as(role))
    shown = [d.value for d in at.dataframe]
    assert shown
    for grid, frame in zip(at.dataframe, shown, strict=True):
        columns = list(grid.proto.column_order) or list(frame.columns)  # those on screen
        assert not frame[columns].isna().any().any(), frame[columns].isna().sum()
    windows = next(f for f in shown if "baseline_offences" in f.columns)
    assert (windows.loc[windows["window"].str.contains("before"), "baseline_offences"]
            == "this window").all()
