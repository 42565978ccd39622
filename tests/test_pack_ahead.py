"""The pack's quarters are protected in the background once new data is first opened
(data_access.protect_pack_ahead, O2R_PACK_AHEAD): the first pack then protects nothing itself
and holds what a pack built afresh holds; with the setting off, nothing is protected ahead."""

from __future__ import annotations

import threading

from test_kept_chains import CHANGES, assert_same_quarters, changed_copy, packs_of
from test_pack_page import open_pack

from dashboard import config, pack
from dashboard.security import data_access
from dashboard.store import database


def finish_ahead() -> None:
    for thread in threading.enumerate():
        if thread.name == "o2r-pack-ahead":
            thread.join(timeout=120)
            assert not thread.is_alive(), "the pack was not protected ahead within 2 minutes"


def test_the_sign_in_form_protects_the_packs_quarters_while_someone_signs_in(
        app_as, demo_db_template, monkeypatch, protected_again):
    monkeypatch.setenv("O2R_PACK_AHEAD", "yes")
    form = app_as(None)
    form.run()
    assert not form.exception and form.text_input  # the form, drawn before the pack
    finish_ahead()
    assert "2022/23 Q2" in protected_again  # the data's latest quarter, a part one
    protected_again.clear()
    steering = open_pack(app_as("steering"), "2022/23 Q2")
    assert not steering.exception
    panel = open_pack(app_as("scrutiny"), "2022/23 Q1")
    assert not panel.exception
    assert protected_again == []  # both first packs took every quarter from what was done ahead
    memo = data_access._pack_memo(str(config.db_path()), data_access.current_version())
    fresh = pack.QuarterMemo()
    packs_of(demo_db_template, fresh)  # the page's data: a copy of it
    assert_same_quarters(memo, fresh)


def test_nothing_is_protected_ahead_with_the_setting_off(app_as, monkeypatch, protected_again):
    monkeypatch.setenv("O2R_PACK_AHEAD", "no")
    app_as(None).run()
    app_as("steering").run()  # the Overview, signed in
    finish_ahead()
    assert protected_again == []


def test_ahead_on_the_next_version_takes_over_what_the_one_before_kept(
        demo_db_template, tmp_path, protected_again):
    kept = pack.KeptChains()
    for db in (demo_db_template, changed_copy(demo_db_template, tmp_path,
                                              CHANGES["late exit"][0])):
        protected_again.clear()
        memo, con = pack.QuarterMemo(kept), database.connect_read_only(db)
        try:
            pack.protect_ahead(con, memo)
        finally:
            con.close()
        done = list(protected_again)
        fresh = pack.QuarterMemo()
        packs_of(db, fresh)
        assert_same_quarters(memo, fresh)
    # the exit recorded late changed 2021/22 Q4 and after, kept before it
    assert done == ["2021/22 Q4", "2022/23 Q1", "2022/23 Q2"]
