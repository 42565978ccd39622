"""Every named query: documented, bound parameters only, runs on the demo data at a small grain."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest

from dashboard.config import QUERIES_DIR
from dashboard.security.access import COMMAND_LINE
from dashboard.store import queries
from dashboard.store.sql import install_macros

ALL = queries.names()
GRAIN = {
    "officer_caseload": ["officer", "status"],
    "referral_sources": ["referral_source", "referral_source_detail"],
    "offending_areas": ["offending_area"],
    "journey_flow": ["source", "target"],
    "rehab_placements": ["rehab_facility"],
    "snapshots": ["snapshot_id"],
    "snapshot_history": ["snapshot_id"],
    "uploads": ["upload_id"],
}


@pytest.mark.parametrize("name", ALL)
def test_query_file_opens_with_grain_and_parameters(name):
    first = (QUERIES_DIR / f"{name}.sql").read_text().splitlines()[0]
    assert first.startswith("-- grain: one row"), first
    declared = queries.header(name)
    assert set(declared) == {"grain", "params", "access"}, declared
    # the params line lists exactly the parameters the SQL uses, each once
    assert sorted(queries.parameters(name)) == sorted(queries.used_parameters(name)), name
    assert len(set(queries.parameters(name))) == len(queries.parameters(name))
    text = queries.sql_text(name)
    assert not re.search(r"\{[a-z_]*\}|%s|\?", text), "values must be bound as $name"


@pytest.mark.parametrize("name", ALL)
def test_query_runs_with_and_without_filters(demo_con, name):
    everything = queries.run(demo_con, COMMAND_LINE, name)
    assert not everything.empty
    filters = {"from_date": dt.date(2022, 1, 1), "to_date": dt.date(2022, 3, 31),
               "officer": "Officer 1", "area": "City Centre"}
    taken = {k: v for k, v in filters.items() if k in queries.parameters(name)}
    narrowed = queries.run(demo_con, COMMAND_LINE, name, **taken)
    if "referrals" in everything and taken:
        assert narrowed["referrals"].sum() <= everything["referrals"].sum()
    if name in GRAIN:
        assert not everything.duplicated(GRAIN[name]).any()


@pytest.mark.parametrize("name", [n for n in ALL if "officer" in queries.parameters(n)])
def test_filter_matching_nothing_gives_an_empty_result(demo_con, name):
    result = queries.run(demo_con, COMMAND_LINE, name, officer="Nobody at all")
    assert result.empty or result.select_dtypes("number").fillna(0).sum().sum() == 0


def test_unknown_parameter_and_query_are_refused(demo_con):
    with pytest.raises(TypeError):
        queries.run(demo_con, COMMAND_LINE, "officer_caseload", offcer="Officer 1")
    with pytest.raises(queries.UnknownQuery):
        queries.run(demo_con, COMMAND_LINE, "no_such_query")


def test_journey_totals_balance(demo_con):
    flow = queries.run(demo_con, COMMAND_LINE, "journey_flow")
    into = flow.groupby("target")["referrals"].sum()
    out_of = flow.groupby("source")["referrals"].sum()
    for node, outgoing in out_of.items():
        if node != "Referrals":
            # Withdrawn and Deceased appear at two stages of the journey; others balance.
            assert into[node] >= outgoing, node
    assert out_of["Referrals"] == flow[flow["source"] == "Referrals"]["referrals"].sum()


def test_macros_install_whatever_the_order_of_their_files(tmp_path):
    (tmp_path / "a_caller.sql").write_text(
        "create or replace macro a_caller() as table select one + 1 as two from z_called()")
    (tmp_path / "z_called.sql").write_text(
        "create or replace macro z_called() as table select 1 as one")
    con = duckdb.connect()
    install_macros(con, tmp_path)
    assert con.execute("select * from a_caller()").fetchall() == [(2,)]
    (tmp_path / "b_broken.sql").write_text(
        "create or replace macro b_broken() as table select * from no_such_macro()")
    with pytest.raises(ValueError, match="b_broken.sql"):
        install_macros(con, tmp_path)

