"""Users, sign-in with lock-out, and the append-only access log shared by many processes."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest

from dashboard.security import accounts, audit, security_file
from dashboard.security.accounts import SignInResult, User
from dashboard.security.audit import Who

from conftest import ROOT

T0 = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    for variable in ("O2R_LOCKOUT_ATTEMPTS", "O2R_LOCKOUT_MINUTES", "O2R_SESSION_IDLE_MINUTES"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path / "security.sqlite"


@pytest.fixture
def alice(db) -> User:
    return accounts.add_user(db, "Alice", "officer", PASSWORD, ["Officer 1", "OFFICER ONE"],
                             "Alice@Example.org")


def sign_ins(db) -> list[tuple]:
    log = audit.read_log(db, action="sign-in").fillna("")
    return list(log[["who", "outcome", "detail"]].itertuples(index=False, name=None))[::-1]


def test_security_db_path_explicit_then_environment_then_default(tmp_path, monkeypatch):
    monkeypatch.delenv("O2R_SECURITY_DB", raising=False)
    assert security_file.security_db_path() == ROOT / "data" / "o2r-security.sqlite"
    monkeypatch.setenv("O2R_SECURITY_DB", str(tmp_path / "env.sqlite"))
    assert security_file.security_db_path() == tmp_path / "env.sqlite"
    assert security_file.security_db_path(tmp_path / "x.sqlite") == tmp_path / "x.sqlite"


def test_connect_uses_wal_and_a_busy_timeout(db):
    con = security_file.connect(db)
    assert con.execute("pragma journal_mode").fetchone() == ("wal",)
    assert con.execute("pragma busy_timeout").fetchone()[0] >= 5000
    con.close()
    assert db.stat().st_mode & 0o077 == 0  # hashes and the log: the owner's eyes only


def test_add_get_list_revoke(db, alice):
    assert alice == User("Alice", "officer", ("Officer 1", "OFFICER ONE"), "Alice@Example.org",
                         True)
    accounts.add_user(db, "Sam", "steering", email="sam@example.org")  # single sign-on only
    assert accounts.get_user(db, "alice") == alice
    assert accounts.get_user(db, "ALICE@example.ORG") == alice
    assert accounts.get_user(db, "nobody") is None
    assert [u.name for u in accounts.list_users(db)] == ["Alice", "Sam"]

    accounts.revoke_user(db, "alice", actor="Admin A")
    assert accounts.get_user(db, "Alice").active is False
    assert [u.active for u in accounts.list_users(db)] == [False, True]
    admin = audit.read_log(db).fillna("")
    assert list(zip(admin["who"], admin["action"], admin["target"]))[::-1] == [
        ("command line", "user-add", "Alice"), ("command line", "user-add", "Sam"),
        ("command line", "user-list", ""), ("Admin A", "user-revoke", "Alice"),
        ("command line", "user-list", "")]
    assert not admin["detail"].str.contains("argon2").any()


@pytest.mark.parametrize("args, message", [
    (("Bob", "officer"), "needs at least one officer name"),
    (("Bob", "officer", None, ["  "]), "needs at least one officer name"),
    (("Bob", "steering", None, ["Officer 2"]), "Only officers have officer names"),
    (("Bob", "superuser"), "Unknown role"),
    (("  ", "admin"), "needs a name"),
    (("Bob", "admin", "short"), "at least 8 characters"),
    (("Bob", "admin", None, (), "not-an-email"), "is not an email address"),
    (("alice", "admin"), "already a user"),
    (("Bob", "admin", None, (), "alice@example.org"), "already a user"),
])
def test_invalid_users_are_refused_with_a_clear_message(db, alice, args, message):
    with pytest.raises(ValueError, match=message):
        accounts.add_user(db, *args)
    assert [u.name for u in accounts.list_users(db)] == ["Alice"]


def test_password_verified_and_wrong_password_refused(db, alice):
    assert accounts.sign_in(db, "alice", PASSWORD, now=T0) == SignInResult(True, alice, "ok")
    assert accounts.sign_in(db, "alice@example.org", PASSWORD, now=T0).ok
    assert accounts.sign_in(db, "Alice", "wrong", now=T0) == SignInResult(
        False, None, "wrong name or password")
    accounts.set_password(db, "Alice", "a new passphrase")
    assert not accounts.sign_in(db, "Alice", PASSWORD, now=T0).ok
    assert accounts.sign_in(db, "Alice", "a new passphrase", now=T0).ok


def test_unknown_name_and_single_sign_on_user_look_like_a_wrong_password(db, alice):
    accounts.add_user(db, "Sam", "steering")
    wrong = accounts.sign_in(db, "Alice", "wrong", now=T0)
    assert accounts.sign_in(db, "Nobody", PASSWORD, now=T0) == wrong
    assert accounts.sign_in(db, "Sam", "", now=T0) == wrong


def test_revoked_user_is_told_only_after_the_right_password(db, alice):
    accounts.revoke_user(db, "Alice")
    assert accounts.sign_in(db, "Alice", "wrong", now=T0).reason == "wrong name or password"
    assert accounts.sign_in(db, "Alice", PASSWORD, now=T0) == SignInResult(False, None,
                                                                          "revoked")


def test_lock_out_after_five_failures_then_expiry(db, alice):
    for i in range(5):
        assert accounts.sign_in(db, "Alice", "wrong", now=T0 + dt.timedelta(minutes=i)).reason \
            == "wrong name or password"
    last_failure = T0 + dt.timedelta(minutes=4)
    assert accounts.sign_in(db, "Alice", PASSWORD, now=last_failure + dt.timedelta(minutes=1)) \
        == SignInResult(False, None, "locked")
    # attempts refused as locked do not extend the lock
    assert accounts.sign_in(db, "alice", PASSWORD,
                            now=last_failure + dt.timedelta(minutes=14, seconds=59)).reason \
        == "locked"
    assert accounts.sign_in(db, "Alice", PASSWORD,
                            now=last_failure + dt.timedelta(minutes=15)).ok


def test_failures_spread_over_more_than_the_window_do_not_lock(db, alice):
    for i in range(5):
        accounts.sign_in(db, "Alice", "wrong", now=T0 + dt.timedelta(minutes=4 * i))
    assert accounts.sign_in(db, "Alice", PASSWORD, now=T0 + dt.timedelta(minutes=17)).ok


def test_an_officer_name_is_linked_to_one_active_account_at_a_time(db, alice):
    """Two accounts linked to one tracker name each saw the other's caseload: an officer is
    to see their own people and nobody else's."""
    before = len(audit.read_log(db))
    for attempt in (lambda: accounts.add_user(db, "Bob", "officer", PASSWORD, [" officer 1 "]),
                    lambda: accounts.add_user(db, "Bob", "officer", PASSWORD, ["Officer One"])):
        with pytest.raises(ValueError, match="already linked to the account 'Alice'"):
            attempt()
    bob = accounts.add_user(db, "Bob", "officer", PASSWORD, ["Officer 2"])
    with pytest.raises(ValueError, match="'Officer 1' is already linked to the account 'Alice'"):
        accounts.set_officer_names(db, "Bob", ["Officer 2", "Officer 1"])
    assert accounts.get_user(db, "Bob") == bob
    assert len(audit.read_log(db)) == before + 1  # Bob's creation only
    accounts.revoke_user(db, "Alice")  # e.g. moved on: her caseload passes to Bob
    accounts.set_officer_names(db, "Bob", ["Officer 2", "Officer 1"])
    with pytest.raises(ValueError, match="'Officer 1' is already linked to the account 'Bob'"):
        accounts.reactivate_user(db, "Alice")
    assert not accounts.get_user(db, "Alice").active
    accounts.set_officer_names(db, "Alice", ["Officer 3"])  # revoked: nobody sees through it
    accounts.reactivate_user(db, "Alice")
    assert accounts.get_user(db, "Alice").officer_names == ("Officer 3",)
    # the tracker's blank officer is stored as "Unallocated": every unallocated referral
    for linking in (lambda: accounts.add_user(db, "Cy", "officer", PASSWORD, ["unallocated"]),
                    lambda: accounts.set_officer_names(db, "Alice", ["Officer 3",
                                                                     "Unallocated"])):
        with pytest.raises(ValueError, match="'Unallocated' is not an officer"):
            linking()
    assert accounts.get_user(db, "Alice").officer_names == ("Officer 3",)


def test_a_demo_accounts_name_is_reserved(db):
    """A demo sign-out is logged under the demo account's name: a real account of that name
    had its sessions ended by whoever used the demo (the fourth review)."""
    for reserved in (" demo ADMINISTRATOR ", "Demo (synthetic data)"):  # and the uploader
        with pytest.raises(ValueError, match="is a demo account's name"):
            accounts.add_user(db, reserved, "admin", PASSWORD)
    # an account of such a name from before can still be managed
    accounts.add_user(db, "Placeholder", "officer", PASSWORD, ["Officer 7"])
    with closing(security_file.connect(db)) as con:
        con.execute("pragma foreign_keys = off")
        con.execute("update users set name = 'Demo officer (Officer 1)'")
        con.execute("update user_officers set name = 'Demo officer (Officer 1)'")
    accounts.set_officer_names(db, "Demo officer (Officer 1)", ["Officer 8"])
    accounts.revoke_user(db, "Demo officer (Officer 1)")
    accounts.reactivate_user(db, "Demo officer (Officer 1)")
    assert accounts.get_user(db, "Demo officer (Officer 1)").officer_names == ("Officer 8",)


def test_a_success_resets_the_count(db, alice):
    for i in range(4):
        accounts.sign_in(db, "Alice", "wrong", now=T0 + dt.timedelta(seconds=i))
    assert accounts.sign_in(db, "Alice", PASSWORD, now=T0 + dt.timedelta(seconds=5)).ok
    accounts.sign_in(db, "Alice", "wrong", now=T0 + dt.timedelta(seconds=6))
    assert accounts.sign_in(db, "Alice", PASSWORD, now=T0 + dt.timedelta(seconds=7)).ok


def test_unknown_names_lock_out_too_so_locking_reveals_nothing(db, monkeypatch):
    monkeypatch.setenv("O2R_LOCKOUT_ATTEMPTS", "2")
    for _ in range(2):
        accounts.sign_in(db, "Nobody", "guess", now=T0)
    assert accounts.sign_in(db, "nobody", "guess", now=T0).reason == "locked"


def test_parallel_guesses_get_no_more_answers_than_the_lock_allows(db, alice):
    with ThreadPoolExecutor(12) as pool:
        reasons = list(pool.map(lambda i: accounts.sign_in(db, "Alice", f"guess {i}").reason,
                                range(12)))
    assert sorted(reasons) == ["locked"] * 7 + ["wrong name or password"] * 5
    assert accounts.sign_in(db, "Alice", PASSWORD).reason == "locked"


def test_every_sign_in_attempt_is_logged(db, alice):
    accounts.add_user(db, "Sam", "steering")
    accounts.sign_in(db, "alice@example.org", PASSWORD, now=T0)
    accounts.sign_in(db, "Alice", "wrong", now=T0 + dt.timedelta(seconds=1))
    accounts.sign_in(db, "Nobody", "guess", now=T0 + dt.timedelta(seconds=2))
    accounts.sign_in(db, "Sam", "guess", now=T0 + dt.timedelta(seconds=3))
    accounts.revoke_user(db, "Alice")
    accounts.sign_in(db, "Alice", PASSWORD, now=T0 + dt.timedelta(seconds=4))
    logged = sign_ins(db)
    assert logged[2][0].startswith("unknown name #")
    assert logged == [
        ("Alice", "ok", ""), ("Alice", "failed", "wrong password"),
        (logged[2][0], "failed", "unknown name"),
        ("Sam", "failed", "no password (single sign-on only)"),
        ("Alice", "failed", "revoked")]


def test_a_name_no_account_has_is_never_logged_as_typed(db, alice):
    """People type their password into the name box: what they typed there must not reach the
    access log (nor anywhere in the security file), yet repeated tries of one name still show
    as one, whatever its case or spacing, and lock out together."""
    typed = "Correct-Horse-Battery-9"
    for when, spelling in enumerate((typed, f" {typed.lower()} ", "another guess")):
        accounts.sign_in(db, spelling, "anything", now=T0 + dt.timedelta(seconds=when))
    who = [entry[0] for entry in sign_ins(db)]
    assert who[0] == who[1] != who[2]
    assert all(w.startswith("unknown name #") and len(w) == len("unknown name #") + 12
               for w in who)
    stored = b"".join(p.read_bytes() for p in Path(db).parent.glob(Path(db).name + "*"))
    assert stored and not any(text.encode() in stored.lower()
                              for text in (typed.lower(), "horse", "another guess"))
    other = Path(db).parent / "another installation" / "security.sqlite"
    accounts.sign_in(other, typed, "anything", now=T0)
    assert sign_ins(other)[0][0] != who[0]  # each installation's own key: not a plain hash


def test_unknown_names_lock_out_by_their_tag(db, monkeypatch):
    monkeypatch.setenv("O2R_LOCKOUT_ATTEMPTS", "2")
    for when in range(2):
        accounts.sign_in(db, "Nobody", "guess", now=T0 + dt.timedelta(seconds=when))
    assert accounts.sign_in(db, " NOBODY", "guess", now=T0).reason == "locked"
    assert accounts.sign_in(db, "Somebody else", "guess", now=T0).reason != "locked"


def test_the_log_refuses_update_and_delete(db):
    audit.record(Who("Alice", "officer"), "view", path=db, target="overview",
                       filters={"from_date": dt.date(2022, 1, 1)})
    con = security_file.connect(db)
    for sql in ("update access_log set who = 'someone else'", "delete from access_log"):
        with pytest.raises(sqlite3.IntegrityError, match="access_log is append-only"):
            con.execute(sql)
    con.close()
    log = audit.read_log(db)
    assert log[["who", "role", "action", "target", "filters", "outcome"]].values.tolist() == [
        ["Alice", "officer", "view", "overview", '{"from_date": "2022-01-01"}', "ok"]]


def test_a_record_that_cannot_be_written_raises_access_log_error(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    with pytest.raises(audit.AccessLogError):
        audit.record(Who("Alice", "officer"), "view", path=blocker / "security.sqlite")


def test_read_log_filters_and_order(db):
    for who in ("Alice", "Bob", "alice"):
        audit.record(Who(who), "view", path=db)
    audit.record(Who("Alice"), "export", path=db)
    assert audit.read_log(db, who="ALICE", action="view")["who"].tolist() == ["alice",
                                                                                 "Alice"]
    today = dt.datetime.now(dt.UTC).date()
    assert len(audit.read_log(db, since=today, until=today)) == 4
    assert len(audit.read_log(db, until=today - dt.timedelta(days=1))) == 0
    assert audit.read_log(db, limit=1)["action"].tolist() == ["export"]


WRITER = """
import sys
sys.path.insert(0, {root!r})
from dashboard.security import audit
for i in range(50):
    audit.record(audit.Who("worker {worker}"), "view", path={path!r}, target=str(i))
"""


def test_four_processes_writing_at_once_all_land(db):
    # Separate interpreters, not multiprocessing: under AppTest, __main__ is the app script,
    # which a spawned child would run again.
    security_file.connect(db).close()
    processes = [subprocess.Popen([sys.executable, "-c", WRITER.format(
        root=str(ROOT), path=str(db), worker=w)]) for w in range(4)]
    assert [p.wait(120) for p in processes] == [0, 0, 0, 0]
    log = audit.read_log(db)
    assert log.groupby("who")["target"].nunique().to_dict() == {
        f"worker {w}": 50 for w in range(4)}
    assert log["id"].is_unique and len(log) == 200
    check = audit.verify_log(db)  # each writer read the last hash and appended in one go
    assert (check.intact, check.entries, check.last_id) == (True, 200, 200)


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard", "users", *args], cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_cli_add_then_sign_in_list_revoke(db):
    added = cli("add", "Olive", "--role", "officer", "--officer", "Officer 1", "--officer",
                "OFFICER ONE", "--email", "olive@example.org", "--security-db", str(db),
                stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    result = accounts.sign_in(db, "Olive", PASSWORD)
    assert result.ok and result.user.officer_names == ("Officer 1", "OFFICER ONE")

    assert cli("add", "Sam", "--role", "steering", "--no-password", "--security-db",
               str(db)).returncode == 0
    listed = cli("list", "--security-db", str(db))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "name   role      officer names           email              status",
        "Olive  officer   Officer 1; OFFICER ONE  olive@example.org  active",
        "Sam    steering                                             active"]
    assert "argon2" not in listed.stdout

    changed = cli("set-password", "olive", "--security-db", str(db), stdin="another one\n")
    assert changed.returncode == 0, changed.stderr
    assert accounts.sign_in(db, "Olive", "another one").ok
    assert cli("revoke", "Olive", "--security-db", str(db)).returncode == 0
    assert accounts.sign_in(db, "Olive", "another one").reason == "revoked"
    assert audit.read_log(db, action="user-revoke")["who"].str.startswith(
        "command line").all()


@pytest.mark.parametrize("args", [
    ("add", "Bob", "--role", "officer"),
    ("add", "Bob", "--role", "steering", "--officer", "Officer 2"),
    ("revoke", "Nobody"),
])
def test_cli_value_errors_exit_2_with_one_line(db, args):
    result = cli(*args, "--security-db", str(db), stdin=PASSWORD + "\n")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_session_expired(monkeypatch):
    monkeypatch.delenv("O2R_SESSION_IDLE_MINUTES", raising=False)
    assert not accounts.session_expired(T0, T0 + dt.timedelta(minutes=29, seconds=59))
    assert accounts.session_expired(T0, T0 + dt.timedelta(minutes=30))
    assert not accounts.session_expired(dt.datetime.now(dt.UTC))
    assert not accounts.session_expired(dt.datetime.now())  # naive means local time
    monkeypatch.setenv("O2R_SESSION_IDLE_MINUTES", "5")
    assert accounts.session_expired(T0, T0 + dt.timedelta(minutes=5))


def test_settings_from_environment_must_be_positive_whole_numbers(monkeypatch):
    monkeypatch.setenv("O2R_LOCKOUT_ATTEMPTS", "3")
    monkeypatch.setenv("O2R_LOCKOUT_MINUTES", "")
    assert (accounts.lockout_attempts(), accounts.lockout_minutes()) == (3, 15)
    monkeypatch.setenv("O2R_LOCKOUT_ATTEMPTS", "0")
    with pytest.raises(ValueError, match="O2R_LOCKOUT_ATTEMPTS"):
        accounts.lockout_attempts()


def test_the_sign_in_check_sees_every_change_at_once_through_its_kept_connection(tmp_path):
    # The per-rerun look-up of who is signed in reads through a connection kept open: a
    # revocation or a new officer name must still show on the very next look-up, from any
    # thread, and a file put in place of the old one must be read, not the old one.
    path = tmp_path / "security.sqlite"
    accounts.add_user(path, "PC Reader", "officer", officer_names=["Officer 1"])
    assert accounts.get_user(path, "PC Reader").officer_names == ("Officer 1",)
    accounts.set_officer_names(path, "PC Reader", ["Officer 2"])
    with ThreadPoolExecutor(2) as pool:
        seen = list(pool.map(lambda _: accounts.get_user(path, "PC Reader"), range(4)))
    assert {user.officer_names for user in seen} == {("Officer 2",)}
    accounts.revoke_user(path, "PC Reader")
    assert not accounts.get_user(path, "PC Reader").active
    other = tmp_path / "other.sqlite"
    accounts.add_user(other, "Someone else", "admin")
    for suffix in ("", "-wal", "-shm"):  # a SQLite file is moved with its journal files
        Path(f"{path}{suffix}").unlink(missing_ok=True)
        if Path(f"{other}{suffix}").exists():
            Path(f"{other}{suffix}").replace(f"{path}{suffix}")
    assert accounts.get_user(path, "PC Reader") is None
    assert accounts.get_user(path, "Someone else").role == "admin"


def test_a_kept_connection_that_fails_is_not_kept(tmp_path):
    # A kept connection that has gone bad must not fail every later sign-in check until the
    # server restarts: the look-up that meets the failure reports it, the next gets a fresh one.
    path = tmp_path / "security.sqlite"
    accounts.add_user(path, "PC Reader", "officer", officer_names=["Officer 1"])
    assert accounts.get_user(path, "PC Reader") is not None
    with security_file.reading(path) as kept:
        kept.close()  # broken underneath its keeper
    with pytest.raises(sqlite3.ProgrammingError):
        accounts.get_user(path, "PC Reader")
    assert accounts.get_user(path, "PC Reader").officer_names == ("Officer 1",)


def test_writes_keep_working_beside_the_kept_connection_and_another_process(tmp_path):
    # Opening and closing a descriptor of the file (to create it readable by the server
    # only) dropped every POSIX lock this process held on it, the kept reading connection's
    # included: another process closing its connection then took itself for the last one,
    # cleared the write-ahead log, and the next read or write here failed ("disk I/O error").
    path = tmp_path / "security.sqlite"
    accounts.add_user(path, "PC Reader", "officer", officer_names=["Officer 1"])
    other_process = ("import sys\nfrom contextlib import closing\n"
                     "from dashboard.security import security_file\n"
                     "with closing(security_file.connect(sys.argv[1])) as con:\n"
                     "    print(con.execute('select count(*) from access_log').fetchone()[0])\n")
    for _ in range(2):
        assert accounts.get_user(path, "PC Reader").active  # through the kept connection
        audit.record(Who("PC Reader", "officer"), audit.Action.VIEW, target="referral_list",
                     path=path)
        subprocess.run([sys.executable, "-c", other_process, str(path)], cwd=ROOT, check=True,
                       capture_output=True)
    assert len(audit.read_log(path, action="view")) == 2
