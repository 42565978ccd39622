"""The quarterly pack page: preview, exports, sign-off and re-issue, per role."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import pack, service
from dashboard.security import audit
from dashboard.security.access import COMMAND_LINE, AccessDenied, Viewer
from dashboard.store import database, queries

from conftest import fail_to_record, mark_real

PAGE = "../pages/quarterly_pack.py"
Q1 = {"from_date": dt.date(2022, 4, 1), "to_date": dt.date(2022, 6, 30)}


def open_pack(at: AppTest, quarter: str = "2022/23 Q1") -> AppTest:
    at.run()
    at.switch_page(PAGE)
    at.run()
    at.selectbox(key="pack_quarter").select(quarter)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def headline_grid(at: AppTest) -> pd.DataFrame:
    """The headline figures, one grid per section on the page, as one frame."""
    return pd.concat([d.value for d in at.dataframe if "This quarter" in d.value.columns],
                     ignore_index=True)


def headline(at: AppTest) -> dict[str, str]:
    frame = headline_grid(at)
    return dict(zip(frame["Measure"], frame["This quarter"], strict=True))


def test_internal_pack_figures_equal_the_dashboard_for_the_quarter(app_as, demo_con):
    app = app_as("steering")
    open_pack(app).radio(key="pack_disclosure").set_value("exact").run()
    shown = headline(app)
    dashboard = queries.run(demo_con, COMMAND_LINE, "headline_figures", **Q1)
    counts = dict(zip(dashboard["step"], dashboard["referrals"], strict=True))
    assert shown["Referrals received"] == f"{counts['Referrals']:,}"
    assert shown["First contacts"] == f"{counts['Contacted']:,}"
    assert shown["Police assessments"] == f"{counts['Assessed']:,}"
    assert shown["Rehab admissions"] == f"{counts['Entered rehab']:,}"
    assert shown["Completions of 12 weeks"] == f"{counts['Completed 12 weeks']:,}"
    labels = [b.label for b in app.get("download_button")]
    assert labels == ["Download the pack (PDF)", "Download the pack (Excel)"]
    assert not any("filters" in c.value for c in app.caption)  # none shown here to ignore


def test_scrutiny_gets_only_the_circulation_pack_with_small_counts_hidden(app_as):
    app = app_as("scrutiny")
    open_pack(app)
    assert not [r for r in app.radio if r.key == "pack_disclosure"]
    for value in headline(app).values():
        assert value not in {"1", "2", "3", "4"}
    assert not [b for b in app.button if b.key == "pack_sign_off"]
    # the trend's gaps are said to be withheld counts, as the PDF says under the same chart
    assert any("A gap is a quarter whose figure was withheld (<5 or [c])" in c.value
               for c in app.caption)
    assert not any("filters" in c.value for c in app.caption)  # they have none to ignore


def test_officers_have_no_pack_page(app_as):
    app = app_as("officer").run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(PAGE)


def test_signed_off_pack_is_reissued_unchanged_after_new_data(real_history_db, app_as,
                                                             security_db):
    demo_db = real_history_db
    app = app_as("admin", name="Admin Ann")
    open_pack(app)
    before = headline(app)
    app.button(key="pack_sign_off").click().run()
    assert "Signed off by Admin Ann" in app.success[0].value
    assert [e for e in audit.read_log(security_db, action="sign-off")["target"]]

    service.ingest_bytes(demo_db, "tracker", "late.csv",
                         b"Nominal ID,Referral Date,Referral Source\n"
                         b"L1,10/05/2022,Custody\nL2,11/05/2022,Custody\n"
                         b"L3,12/05/2022,Custody\n", as_at=dt.date(2022, 8, 31),
                         confirmed=True)
    open_pack(app)
    assert headline(app) == before
    assert "would now differ" in app.expander[0].label
    con = database.connect_read_only(demo_db)
    fresh = queries.run(con, COMMAND_LINE, "headline_figures", **Q1)
    con.close()
    assert int(fresh.loc[fresh["step"] == "Referrals", "referrals"].iloc[0]) == 3


def test_withdrawing_a_snapshot_falls_back_to_the_one_before_and_is_logged(app_as, demo_db,
                                                                        security_db):
    app = app_as("admin", name="Admin Ann").run()
    assert "as at 31/07/2022" in app.caption[0].value
    app.switch_page("../pages/data.py")
    app.run()
    app.selectbox(key="withdraw_id").select(5)
    app.selectbox(key="withdraw_reason").select("Wrong as-at date")
    next(b for b in app.get("form_submit_button") if b.label == "Withdraw this snapshot").click()
    app.run()
    assert not app.exception
    assert "as at 30/06/2022" in app.caption[0].value
    log = audit.read_log(security_db, action="snapshot-withdraw")
    assert list(log["target"]) == ["snapshot 5"]
    con = database.connect_read_only(demo_db)
    assert queries.run(con, COMMAND_LINE, "officer_caseload", snapshot_id=5).empty
    assert queries.run(con, COMMAND_LINE, "officer_caseload")["referrals"].sum() == 121
    con.close()


def test_the_pack_opens_on_the_latest_complete_quarter(app_as):
    # The demo data runs to 31/07/2022: 2022/23 Q2 is offered to the steering group, marked
    # incomplete, and never to the panel (its counts beside the whole quarter's, later, would
    # give away those of August and September).
    for role in ("steering", "scrutiny"):
        app = app_as(role).run()
        if role == "steering":
            app.switch_page("../pages/quarterly_pack.py").run()
        assert not app.exception
        quarter = app.selectbox(key="pack_quarter")
        assert quarter.value == "2022/23 Q1"
        assert quarter.options[0] == ("2022/23 Q2 (incomplete: data to 31/07/2022)"
                                      if role == "steering" else "2022/23 Q1")
        assert headline(app)["Referrals received"] == "40"


def test_quarters_after_the_last_referral_are_offered_up_to_the_latest_snapshot(app_as,
                                                                               demo_db):
    # No referral after 2021/22 Q4 in the latest snapshot (as at 31/07/2022): admissions,
    # exits and stock go on, and 2022/23 Q1 is the panel's to have, Q2 steering's, marked.
    con = duckdb.connect(str(demo_db))
    try:
        con.execute("delete from referrals where snapshot_id = 5 "
                    "and referral_date > date '2022-03-31'")
    finally:
        con.close()
    for role, top in (("steering", "2022/23 Q2 (incomplete: data to 31/07/2022)"),
                      ("scrutiny", "2022/23 Q1")):
        app = app_as(role).run()
        if role == "steering":
            app.switch_page(PAGE).run()
        assert not app.exception, [e.message for e in app.exception]
        quarter = app.selectbox(key="pack_quarter")
        assert quarter.options[0] == top
        assert quarter.value == "2022/23 Q1"
        assert headline(app)["Referrals received"] == "0"


def test_an_administrator_signs_off_a_circulated_pack_once_its_quarter_is_over(app_as,
                                                                             demo_db):
    app = open_pack(app_as("admin", name="Admin Ann", db=mark_real(demo_db)), "2022/23 Q2")
    assert not [b for b in app.button if b.key == "pack_sign_off"]
    assert any("signed off once the data covers the whole quarter" in c.value
               for c in app.caption)
    app.selectbox(key="pack_quarter").select("2022/23 Q1").run()
    assert [b for b in app.button if b.key == "pack_sign_off"]


def test_the_panel_never_has_a_part_quarter_pack(demo_db_template):
    con = database.connect_read_only(demo_db_template)
    try:
        with pytest.raises(AccessDenied, match="2022/23 Q2 is not over in the data"):
            pack.build_pack(con, Viewer("Panel member", "scrutiny"), "2022/23 Q2")
        assert pack.build_pack(con, Viewer("Chair", "steering"), "2022/23 Q2").part_quarter_to
    finally:
        con.close()


def test_a_sign_off_the_access_log_cannot_record_is_said_to_be_made(app_as, demo_db,
                                                                    monkeypatch):
    # The page caught nothing: a failed entry after the sign-off was an exception over a pack
    # already signed off, and a failed sign-off one too.
    fail_to_record(monkeypatch, audit.Action.SIGN_OFF)
    app = app_as("admin", name="Admin Ann")
    open_pack(app)
    app.button(key="pack_sign_off").click().run()
    assert not app.exception, app.exception
    assert app.error[0].value.startswith("The 2022/23 Q1 pack was signed off as pack 1, but the "
                                         "access log could not record it")
    assert pack.load_signed_off(demo_db, "2022/23 Q1") is not None

    def full_disk(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(pack, "sign_off", full_disk)
    open_pack(app, "2021/22 Q4")
    app.button(key="pack_sign_off").click().run()
    assert not app.exception, app.exception
    assert "nothing was changed" in app.error[0].value
    assert "No space" not in app.error[0].value


def test_a_part_quarter_is_flagged_at_the_top_and_its_flows_are_not_rated(app_as):
    # 2022/23 Q2 runs to 30/09/2022; the demo's latest snapshot is as at 31/07/2022. A fall in
    # its referrals against the whole of Q1 would be missing data, not fewer referrals.
    app = open_pack(app_as("steering"), "2022/23 Q2")
    assert any("2022/23 Q2 is not over in the data: the latest tracker snapshot runs to "
               "31/07/2022" in w.value for w in app.warning)
    frame = headline_grid(app)
    rated = dict(zip(frame["Measure"], frame["Direction"], strict=True))
    assert rated["Referrals received"] == "n/a (part quarter)"
    assert rated["Assessed to admitted"] == "n/a (part quarter)"
    assert rated["Goods not stolen, low estimate"] == "n/a (part quarter)"
    assert rated["Caseload at quarter end"][0] in "↑↓→"  # stock is a count at one date
    complete = open_pack(app_as("scrutiny"))
    assert not any("not over in the data" in w.value for w in complete.warning)
    frame = headline_grid(complete)
    assert not frame["Direction"].str.contains("part quarter").any()


@pytest.mark.parametrize("role", ["steering", "scrutiny"])
def test_no_pack_table_is_an_empty_grid(app_as, role):
    # An empty grid reads as a table that failed to load; the PDF says "No rows" and so does
    # the page. Every quarter offered, in each disclosure the role may have.
    app = open_pack(app_as(role))
    said_empty = 0
    quarters = [q.split(" (")[0] for q in app.selectbox(key="pack_quarter").options]
    modes = ["controlled", "exact"] if [r for r in app.radio if r.key == "pack_disclosure"] \
        else [None]
    for quarter, mode in [(q, m) for q in quarters for m in modes]:
        open_pack(app, quarter)
        if mode:
            app.radio(key="pack_disclosure").set_value(mode).run()
        assert all(len(d.value) for d in app.dataframe), quarter
        said = [t.value for t in app.text]
        titles = [s.value for s in app.subheader]
        tables = len(titles) - 3  # the subheaders less the trend, caveats and assumptions
        # each table a grid or said to be empty, beside the assumptions grid
        grids = [d for d in app.dataframe if "This quarter" not in d.value.columns]
        assert len(grids) + said.count("No rows for this quarter.") == tables + 1, \
            (quarter, titles)
        said_empty += said.count("No rows for this quarter.")
    assert said_empty  # the sweep met an empty table


def test_every_headline_figure_is_in_a_section_grid_with_its_definition_below(app_as):
    app = open_pack(app_as("scrutiny"))
    shown = [m for m in pack.MEASURES if m.section != pack.COVERAGE]
    assert list(headline_grid(app)["Measure"]) == [m.name for m in shown]
    assert [m.value for m in app.markdown if m.value.startswith("**")][:4] == [
        f"**{section}**" for section in dict.fromkeys(m.section for m in shown)]
    definitions = next(e for e in app.expander if e.label == "What each figure counts")
    text = " ".join(m.value for m in definitions.markdown)
    assert all(f"**{m.name}**: {m.definition}" in text for m in shown)
