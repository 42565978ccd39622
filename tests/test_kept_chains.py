"""Quarters protected on one version of the data and taken over by the next
(pack.KeptChains) change no pack: after each kind of change, every pack built through the
kept chains is the pack built afresh on the new data, its every quarter's counts and markers
too, and only the quarters from the first whose data changed are protected again."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import threading

import duckdb
import pytest
from test_pack_memo import CIRCULATED, assert_same_pack

from dashboard import pack
from dashboard.pack import build, kept_chains
from dashboard.pack.gathering import Upload
from dashboard.store import database

# The demo data's chain runs from 2021/22 Q1 to its latest quarter, 2022/23 Q2 (as at
# 31/07/2022); copies of the history are taken before 2021/22 Q2, Q4 and 2022/23 Q1 and Q2.
CHAIN = ["2021/22 Q1", "2021/22 Q2", "2021/22 Q3", "2021/22 Q4", "2022/23 Q1", "2022/23 Q2"]

# Each change is made to the latest snapshot (the one every quarter's flows are read from).
CHANGES = {
    # A referral of the latest quarter withdrawn: only that quarter's data change.
    "latest quarter": ("delete from referrals where snapshot_id = 5 and nominal_id = 'SYN0136'",
                       ["2022/23 Q2"]),
    # An exit recorded late, after 44 days: the referral's quarters gain a data-quality issue
    # (completed in under 84 days) back to its referral in 2021/22 Q4.
    "late exit": ("update referrals set rehab_exit_date = date '2022-07-20', "
                  "rehab_exit_reason = 'Completed', status = 'Inactive' "
                  "where snapshot_id = 5 and nominal_id = 'SYN0076'",
                  ["2021/22 Q4", "2022/23 Q1", "2022/23 Q2"]),
    # The first referral withdrawn: before any copy of the history, so all again.
    "first quarter": ("delete from referrals where snapshot_id = 5 and "
                      "referral_date = (select min(referral_date) from referrals "
                      "where snapshot_id = 5)", CHAIN),
    # Nothing changed (a new upload of the same data): from the latest copy.
    "nothing": ("select 1", ["2022/23 Q2"]),
}


def changed_copy(template, folder, sql: str):
    db = folder / "changed.duckdb"
    shutil.copyfile(template, db)
    con = duckdb.connect(str(db))
    try:
        assert con.execute(sql).fetchall() != [(0,)], "the change changed nothing"
    finally:
        con.close()
    return db


def packs_of(db, memo: pack.QuarterMemo) -> dict[str, pack.Pack]:
    con = database.connect_read_only(db)
    try:
        return {label: pack.build_pack(con, CIRCULATED, label, memo=memo) for label in CHAIN}
    finally:
        con.close()


def chained_quarters(memo: pack.QuarterMemo) -> dict:
    [chain] = [c for c in memo.chains.values() if c.history is not None]
    return chain.protected


def assert_same_protection(memo: pack.QuarterMemo, fresh: pack.QuarterMemo) -> None:
    """Every chained quarter of `memo` has the counts and markers of `fresh`'s."""
    taken, expected = chained_quarters(memo), chained_quarters(fresh)
    assert list(taken) == list(expected)
    for quarter, figures in expected.items():
        assert taken[quarter].protected.withheld == figures.protected.withheld, quarter
        assert taken[quarter].protected.publication.values == \
            figures.protected.publication.values, quarter


def assert_same_quarters(kept: pack.QuarterMemo, fresh: pack.QuarterMemo) -> None:
    assert_same_protection(kept, fresh)
    for quarter, figures in chained_quarters(kept).items():
        assert figures.data is kept.data[quarter]  # the new version's own data


@pytest.mark.parametrize("change", CHANGES)
def test_a_new_version_takes_over_the_quarters_whose_data_did_not_change(
        demo_db_template, tmp_path, protected_again, change):
    sql, again = CHANGES[change]
    kept = pack.KeptChains()
    packs_of(demo_db_template, pack.QuarterMemo(kept))
    assert protected_again == CHAIN
    db = changed_copy(demo_db_template, tmp_path, sql)
    protected_again.clear()
    memo = pack.QuarterMemo(kept)
    through_kept, done = packs_of(db, memo), list(protected_again)
    fresh_memo = pack.QuarterMemo()
    fresh = packs_of(db, fresh_memo)
    for label in CHAIN:
        assert_same_pack(through_kept[label], fresh[label])
    assert_same_quarters(memo, fresh_memo)
    assert done == again


def test_two_versions_built_at_once_share_kept_chains_and_agree(demo_db_template, tmp_path,
                                                                protected_again):
    db = changed_copy(demo_db_template, tmp_path, CHANGES["late exit"][0])
    fresh = {path: packs_of(path, pack.QuarterMemo()) for path in (demo_db_template, db)}
    protected_again.clear()
    kept, errors = pack.KeptChains(), []

    def build_all(path) -> None:
        try:
            for label, built in packs_of(path, pack.QuarterMemo(kept)).items():
                assert_same_pack(built, fresh[path][label])
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    for _ in range(2):
        threads = [threading.Thread(target=build_all, args=(path,))
                   for path in (demo_db_template, db, demo_db_template, db)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    # Eight memos of two versions; alone, each would protect the whole chain.
    assert len(protected_again) < 8 * len(CHAIN)


def test_protection_reads_nothing_of_the_uploads(demo_db_template, monkeypatch):
    """The fingerprint leaves the uploads out: every quarter protected with other uploads
    (other numbers and dates) has the same counts and markers."""
    protect = build.protect_quarter_with_outcomes
    fresh_memo = pack.QuarterMemo()
    packs_of(demo_db_template, fresh_memo)
    for other in (Upload(999, dt.date(2030, 1, 1)), Upload(1, dt.date(2000, 1, 1)), None):
        def other_uploads(data, how, threshold, history=None, other=other):
            return protect(dataclasses.replace(data, flows_snapshot=other,
                                               stock_snapshot=other, connect=other),
                           how, threshold, history)

        monkeypatch.setattr(build, "protect_quarter_with_outcomes", other_uploads)
        memo = pack.QuarterMemo()
        packs_of(demo_db_template, memo)
        assert_same_protection(memo, fresh_memo)


def test_the_page_keeps_one_kept_chains_per_database_across_versions():
    from dashboard.security import data_access

    first, next_version = (data_access._pack_memo("a.duckdb", (1, 2, 3)),
                           data_access._pack_memo("a.duckdb", (1, 2, 4)))
    assert first is not next_version and first.kept is next_version.kept
    assert data_access._pack_memo("b.duckdb", (1, 2, 3)).kept is not first.kept


def test_copies_of_the_history_follow_the_latest_quarter(demo_db_template, tmp_path,
                                                         monkeypatch):
    """As at 30/06/2022 (the latest snapshot withdrawn) the latest quarter is 2022/23 Q1;
    once the snapshot of 31/07/2022 is in, 2022/23 Q2. With copies taken 0 and 1 quarters
    before the latest, the one taken before 2021/22 Q4 for the first is let go for the
    second, so they never pile up."""
    monkeypatch.setattr(kept_chains, "CHECKPOINTS", (0, 1))
    before = changed_copy(demo_db_template, tmp_path, (
        "insert into snapshot_withdrawals values "
        "(5, now(), 'test', 'Another reason (ask the person who withdrew it)')"))
    kept = pack.KeptChains()
    con = database.connect_read_only(before)
    try:
        pack.build_pack(con, CIRCULATED, "2022/23 Q1", memo=pack.QuarterMemo(kept))
    finally:
        con.close()
    [run] = kept.runs.values()
    assert sorted(run.checkpoints) == [3, 4]  # before 2021/22 Q4 and 2022/23 Q1
    packs_of(demo_db_template, pack.QuarterMemo(kept))
    [run] = kept.runs.values()
    assert sorted(run.checkpoints) == [4, 5]  # before 2022/23 Q1 and Q2
