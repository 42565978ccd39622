"""Viewers share cached results by what they may see, never by who they are: steering members
asking the same question cost one query; officers with different names never share a result;
every person-level view is still logged for the viewer who saw it."""

from __future__ import annotations

import pytest
import streamlit as st

from dashboard import data_access, queries, security
from dashboard.access import Viewer


@pytest.fixture
def counted_runs(demo_db, monkeypatch):
    """Each query actually run against the database, as (viewer name, query name)."""
    monkeypatch.setenv("O2R_DB", str(demo_db))
    st.cache_data.clear()
    runs: list[tuple[str, str]] = []
    real_run = queries.run

    def counting_run(con, viewer, name, **params):
        runs.append((viewer.name, name))
        return real_run(con, viewer, name, **params)

    monkeypatch.setattr(queries, "run", counting_run)
    yield runs
    st.cache_data.clear()


def test_two_steering_viewers_share_one_cache_entry(counted_runs, security_db):
    first = data_access.run("referral_list", viewer=Viewer("Steering one", "steering"))
    second = data_access.run("referral_list", viewer=Viewer("Steering two", "steering"))
    assert [name for _, name in counted_runs] == ["referral_list"]
    assert not first.empty
    assert first.equals(second)
    # Both views of person-level rows are logged, each under its own viewer.
    viewers = set(security.read_log(security_db, action="view")["who"])
    assert {"Steering one", "Steering two"} <= viewers


def test_officers_with_different_names_do_not_share(counted_runs):
    mine = data_access.run("referral_list", viewer=Viewer("PC One", "officer", ("Officer 1",)))
    theirs = data_access.run("referral_list",
                             viewer=Viewer("PC Two", "officer", ("Officer 2",)))
    assert [name for _, name in counted_runs] == ["referral_list", "referral_list"]
    assert not mine.empty and not theirs.empty
    assert set(mine["officer"]) == {"Officer 1"}
    assert set(theirs["officer"]) == {"Officer 2"}


def test_officers_with_the_same_scope_share(counted_runs):
    data_access.run("referral_list", viewer=Viewer("PC One", "officer", ("Officer 1",)))
    again = data_access.run("referral_list",
                            viewer=Viewer("PC One again", "officer", ("Officer 1",)))
    assert len(counted_runs) == 1
    assert set(again["officer"]) == {"Officer 1"}


def test_roles_with_different_rights_do_not_share(counted_runs):
    data_access.run("snapshots", viewer=Viewer("Steering one", "steering"))
    data_access.run("snapshots", viewer=Viewer("Panel member", "scrutiny"))
    assert len(counted_runs) == 2
