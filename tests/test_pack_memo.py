"""A QuarterMemo shared by every pack of one version of the data changes no pack: each pack
built through one memo, in an order that extends and reuses its quarters every way, is the
pack built afresh, cell for cell and marker for marker."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from dashboard import pack
from dashboard.security.access import COMMAND_LINE, Viewer
from dashboard.store import database

# Circulated packs of every quarter, the part quarter too: a steering member may have them
# (the panel only whole quarters).
CIRCULATED = Viewer("Chair", "steering")


def assert_same_pack(memo_built: pack.Pack, fresh: pack.Pack) -> None:
    for name in ("quarter", "start", "end", "scheme", "snapshot_id", "snapshot_as_at",
                 "connect_upload_id", "disclosure", "threshold", "figures", "assumptions",
                 "caveats"):
        assert getattr(memo_built, name) == getattr(fresh, name), (fresh.quarter, name)
    assert [(t.name, t.title, t.note) for t in memo_built.tables] == \
        [(t.name, t.title, t.note) for t in fresh.tables]
    for built, expected in zip(memo_built.tables, fresh.tables, strict=True):
        pd.testing.assert_frame_equal(built.frame, expected.frame, obj=built.name)
    pd.testing.assert_frame_equal(memo_built.trend, fresh.trend, obj="trend")


def quarters_of(con, scheme: str) -> list[str]:
    span = con.execute("select min(referral_date), max(referral_date) from referrals"
                       ).fetchall()[0]
    first = pack.quarter_containing(span[0], scheme).shift(-1)
    last = pack.quarter_containing(span[1], scheme).shift(1)
    out, quarter = [], first
    while quarter <= last:
        out.append(quarter.label)
        quarter = quarter.shift(1)
    return out


# The middle first (a chain from the first snapshot's quarter to it), then the last (the chain
# extended), then the rest from the first (only quarters it holds, some before the first
# snapshot, which start a chain of their own).
def scrambled(labels: list[str]) -> list[str]:
    middle = len(labels) // 2
    return [labels[middle], labels[-1], *labels[:middle], *labels[middle + 1:-1]]


@pytest.mark.parametrize("scheme", [pack.FINANCIAL, pack.CALENDAR])
def test_every_pack_through_one_memo_is_the_pack_built_afresh(demo_db_template, scheme):
    con = database.connect_read_only(demo_db_template)
    try:
        labels = quarters_of(con, scheme)
        assert len(labels) >= 6
        memo = pack.QuarterMemo()
        for label in scrambled(labels):
            for viewer, how in ((CIRCULATED, "controlled"), (COMMAND_LINE, "exact")):
                assert_same_pack(
                    pack.build_pack(con, viewer, label, scheme, disclosure=how, memo=memo),
                    pack.build_pack(con, viewer, label, scheme, disclosure=how))
        # Each quarter was gathered once for both disclosures and every pack that showed it.
        assert len(memo.data) == len({q for chain in memo.chains.values()
                                      for q in chain.protected})
    finally:
        con.close()


def test_packs_built_at_once_on_threads_share_a_memo_and_agree(demo_db_template):
    con = database.connect_read_only(demo_db_template)
    try:
        labels = quarters_of(con, pack.FINANCIAL)[-4:]
        fresh = {label: pack.build_pack(con, CIRCULATED, label) for label in labels}
        memo, built, errors = pack.QuarterMemo(), {}, []

        def build(label: str) -> None:
            cursor = database.read_cursor(con)  # one cursor a thread, as the pages have
            try:
                built[label] = pack.build_pack(cursor, CIRCULATED, label, memo=memo)
            except Exception as exc:  # reported below, on the test's own thread
                errors.append(exc)
            finally:
                cursor.close()

        threads = [threading.Thread(target=build, args=(label,)) for label in labels]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        for label in labels:
            assert_same_pack(built[label], fresh[label])
    finally:
        con.close()
