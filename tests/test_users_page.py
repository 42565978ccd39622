"""The Users page: an administrator adds, revokes, re-activates and links users and resets a
password; each change is in the access log."""

from __future__ import annotations

import pytest

from dashboard.security import accounts, audit
from dashboard.security.access import Viewer


def test_an_admin_manages_users_and_each_change_is_logged(app_as, security_db):
    at = app_as("admin", name="Admin Ann")
    at.run()
    at.switch_page("../pages/users.py").run()
    assert not at.exception and not at.error

    at.text_input(key="add_name").input("PC Jones")
    at.selectbox(key="add_role").select("officer")
    at.text_area(key="add_officers").input("Officer 1\nOfficer 2")
    next(b for b in at.button if b.label == "Add the user").click().run()
    assert at.success[0].value == "Added PC Jones (officer)."
    password = at.info[0].value.split("`")[1]
    assert accounts.sign_in(security_db, "PC Jones", password) is not None
    assert accounts.get_user(security_db, "PC Jones").officer_names == ("Officer 1", "Officer 2")

    at.selectbox(key="change_user").select("PC Jones").run()
    at.text_area(key="link_names").input("Officer 2\nJones, P")  # a comma is part of a name
    next(b for b in at.button if b.label == "Save the officer names").click().run()
    assert accounts.get_user(security_db, "PC Jones").officer_names == ("Officer 2", "Jones, P")
    # shown so that a name with a comma reads as one name
    assert any("officer names: “Officer 2”; “Jones, P”." in m.value.replace("\\", "")
               for m in at.markdown)
    listed = next(d.value for d in at.dataframe if "Officer names" in d.value.columns)
    assert "Officer 2; Jones, P" in set(listed["Officer names"])
    for hidden in ("\u2028", "\x0b", "\x85"):  # splitlines split at these: refused instead
        at.text_area(key="link_names").input(f"Jones{hidden}P")
        next(b for b in at.button if b.label == "Save the officer names").click().run()
        assert at.error[0].value.startswith("Not saved: The officer name"), hidden
    at.text_area(key="link_names").input("Officer 2\r\n\r\nOfficer 2\r")  # Windows, blank
    next(b for b in at.button if b.label == "Save the officer names").click().run()
    assert accounts.get_user(security_db, "PC Jones").officer_names == ("Officer 2",)
    assert at.success[0].value == "PC Jones now sees the referrals of: “Officer 2”."

    at.button(key="revoke_user").click().run()
    assert not accounts.get_user(security_db, "PC Jones").active
    at.button(key="reactivate_user").click().run()
    assert accounts.get_user(security_db, "PC Jones").active
    at.button(key="reset_password").click().run()
    new_password = at.info[0].value.split("`")[1]
    assert new_password != password

    log = audit.read_log(security_db, who="Admin Ann")
    changes = log[log["action"] != "user-list"]
    assert list(reversed(changes["action"].tolist())) == [
        "user-add", "user-link", "user-link", "user-revoke", "user-reactivate",
        "user-set-password"]
    assert set(changes["target"]) == {"PC Jones"}
    assert password not in " ".join(log["detail"].fillna(""))
    # officer names quoted, so a name with a comma in it reads as one
    assert changes.loc[changes["action"] == "user-link", "detail"].tolist() == [
        "officer names “Officer 2”", "officer names “Officer 2”; “Jones, P”"]
    assert audit.verify_log(security_db).intact


def test_an_officer_without_names_is_refused_in_words(app_as, security_db):
    at = app_as("admin", name="Admin Ann")
    at.run()
    at.switch_page("../pages/users.py").run()
    at.text_input(key="add_name").input("PC Nobody")
    at.selectbox(key="add_role").select("officer")
    next(b for b in at.button if b.label == "Add the user").click().run()
    assert at.error[0].value.startswith("Not added: Officer 'PC Nobody' needs at least one")
    assert accounts.get_user(security_db, "PC Nobody") is None


def test_an_officer_name_already_linked_is_refused_in_words_on_every_form(app_as, security_db):
    """Each of adding, linking and re-activating could give one officer's caseload to a
    second account; the page says why, and nothing changes."""
    accounts.add_user(security_db, "PC Jones", "officer", officer_names=["Officer 1"])
    accounts.add_user(security_db, "PC Smith", "officer", officer_names=["Officer 2"])
    at = app_as("admin", name="Admin Ann")
    at.run()
    at.switch_page("../pages/users.py").run()
    at.text_input(key="add_name").input("PC New")
    at.selectbox(key="add_role").select("officer")
    at.text_area(key="add_officers").input("officer 1")
    next(b for b in at.button if b.label == "Add the user").click().run()
    assert at.error[0].value.startswith("Not added: The officer name 'officer 1' is already "
                                        "linked to the account 'PC Jones'")
    assert accounts.get_user(security_db, "PC New") is None

    at.selectbox(key="change_user").select("PC Smith").run()
    at.text_area(key="link_names").input("Officer 2\nOfficer 1")
    next(b for b in at.button if b.label == "Save the officer names").click().run()
    assert at.error[0].value.startswith("Not saved: The officer name 'Officer 1'")
    assert accounts.get_user(security_db, "PC Smith").officer_names == ("Officer 2",)

    accounts.revoke_user(security_db, "PC Jones")
    accounts.set_officer_names(security_db, "PC Smith", ["Officer 2", "Officer 1"])
    at.selectbox(key="change_user").select("PC Jones").run()
    at.button(key="reactivate_user").click().run()
    assert not at.exception, at.exception
    assert at.error[0].value.startswith("Not re-activated: The officer name 'Officer 1' is "
                                        "already linked to the account 'PC Smith'")
    assert not accounts.get_user(security_db, "PC Jones").active


def test_an_officer_name_already_shared_is_flagged_on_the_page_and_the_command_line(
        app_as, security_db):
    """Accounts linked to one name before it was held to one account: each still sees the
    other's caseload, so the administrator is told, by the page and by `users list`."""
    from contextlib import closing

    from dashboard.security import security_file

    from conftest import run_cli

    accounts.add_user(security_db, "PC Jones", "officer", officer_names=["Officer 1"])
    accounts.add_user(security_db, "PC Smith", "officer", officer_names=["Officer 2"])
    with closing(security_file.connect(security_db)) as con:  # as an older version allowed
        con.execute("insert into user_officers values ('PC Smith', 'OFFICER 1')")
        con.execute("insert into user_officers values ('PC Jones', 'Unallocated')")
    at = app_as("admin", name="Admin Ann")
    at.run()
    at.switch_page("../pages/users.py").run()
    assert [w.value for w in at.warning if "officer name" in w.value] == [
        "The officer name 'Officer 1' is linked to 2 active accounts (PC Jones, PC Smith), so "
        "each sees the others' caseload: unlink it from all but one below."]
    assert any(w.value.startswith("PC Jones is linked to 'Unallocated'") for w in at.warning)
    _, _, stderr = run_cli("users", "list", "--security-db", str(security_db))
    assert "the officer name 'Officer 1' is linked to PC Jones, PC Smith" in stderr
    assert "PC Jones is linked to 'Unallocated'" in stderr
    jones = accounts.get_user(security_db, "PC Jones")
    # unused: an officer's scope never holds it (every referral with no officer)
    assert Viewer(jones.name, "officer", jones.officer_names).scope() == ("Officer 1",)
    accounts.revoke_user(security_db, "PC Smith")
    at.run()
    assert not [w for w in at.warning if "officer name" in w.value]
    accounts.revoke_user(security_db, "PC Jones")
    with pytest.raises(ValueError, match="'Unallocated' is not an officer"):
        accounts.reactivate_user(security_db, "PC Jones")
