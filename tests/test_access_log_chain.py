"""The access log is a hash chain: every way SQLite offers to rewrite it is refused by a
trigger or, once the triggers are gone, named by the verification, entry by entry."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from dashboard.security import audit, security_file
from dashboard.security.audit import Who

COLUMNS = "id, at, who, role, action, target, filters, outcome, detail, prev_hash, entry_hash"


@pytest.fixture
def log(tmp_path) -> Path:
    """A log of five entries, written as the dashboard writes them."""
    path = tmp_path / "security.sqlite"
    for number in range(1, 6):
        audit.record(Who(f"User {number}", "steering"), "view", path=path,
                     target="referral_list", filters={"officer": "Officer 1"})
    return path


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection, as someone with the sqlite3 shell and the file would open it."""
    return sqlite3.connect(path, isolation_level=None)


def rows(path: Path) -> list[tuple]:
    with closing(raw(path)) as con:
        return con.execute(f"select {COLUMNS} from access_log order by id").fetchall()


def last_hash(path: Path) -> str:
    return rows(path)[-1][-1]


def test_each_entry_carries_the_hash_of_the_one_before(log):
    entries = rows(log)
    assert [e[0] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0][-2] == security_file.GENESIS_HASH
    for before, after in zip(entries, entries[1:]):
        assert after[-2] == before[-1]
    for entry in entries:
        assert entry[-1] == security_file.entry_hash(entry[:-2], entry[-2])
    check = audit.verify_log(log)
    assert (check.intact, check.entries, check.last_id, check.last_hash, check.breaks) == (
        True, 5, 5, entries[-1][-1], ())


def test_a_changed_value_changes_the_hash():
    entry = (1, "2024-05-01T09:00:00.000000+00:00", "Alice", "admin", "view", "x", None, "ok",
             None)
    assert security_file.entry_hash(entry, security_file.GENESIS_HASH) != security_file.entry_hash(
        (*entry[:2], "Alicf", *entry[3:]), security_file.GENESIS_HASH)
    assert security_file.entry_hash(entry, security_file.GENESIS_HASH) != security_file.entry_hash(
        entry, "1" * 64)


def refused_writes(path: Path) -> dict[str, str]:
    """Writes that would rewrite or slip into the log, each as the sqlite3 shell would run it."""
    head = last_hash(path)
    values = "'2024-05-01T09:00:00.000000+00:00', 'Mallory', 'admin', 'view'"
    return {
        "REPLACE INTO an existing id": "replace into access_log (id, at, who, role, action, "
        f"prev_hash, entry_hash) values (2, {values}, '{head}', 'x')",
        "INSERT OR REPLACE an existing id": "insert or replace into access_log (id, at, who, "
        f"role, action, prev_hash, entry_hash) values (5, {values}, '{head}', 'x')",
        "INSERT OR REPLACE without an id": "insert or replace into access_log (at, who, role, "
        f"action) values ({values})",
        "INSERT without an id": f"insert into access_log (at, who, role, action) values ({values})",
        "an explicit id out of turn": "insert into access_log (id, at, who, role, action, "
        f"prev_hash, entry_hash) values (100, {values}, '{head}', 'x')",
        "the next id with a wrong previous hash": "insert into access_log (id, at, who, role, "
        f"action, prev_hash, entry_hash) values (6, {values}, '{'0' * 64}', 'x')",
        "the next id with no hash of its own": "insert into access_log (id, at, who, role, "
        f"action, prev_hash) values (6, {values}, '{head}')",
        "UPDATE": "update access_log set who = 'someone else' where id = 2",
        "UPDATE OR REPLACE": "update or replace access_log set id = 1 where id = 2",
        "DELETE": "delete from access_log where id = 3",
    }


REFUSED = ["REPLACE INTO an existing id", "INSERT OR REPLACE an existing id",
           "INSERT OR REPLACE without an id", "INSERT without an id", "an explicit id out of turn",
           "the next id with a wrong previous hash", "the next id with no hash of its own",
           "UPDATE", "UPDATE OR REPLACE", "DELETE"]


@pytest.mark.parametrize("kind", REFUSED)
def test_rewriting_the_log_is_refused(log, kind):
    before = rows(log)
    with closing(raw(log)) as con, pytest.raises(sqlite3.IntegrityError,
                                                  match="access_log is append-only"):
        con.execute(refused_writes(log)[kind])
    assert rows(log) == before
    assert audit.verify_log(log).intact


def tamper(path: Path, trigger: str, *statements: str) -> None:
    """Drops a protecting trigger, then runs the statements, as someone with the file could."""
    with closing(raw(path)) as con:
        con.execute(f"drop trigger {trigger}")
        for statement in statements:
            con.execute(statement)


def rehashed_update(path: Path, entry_id: int, who: str) -> str:
    """An UPDATE that also puts a correct hash on the changed entry."""
    entry = next(e for e in rows(path) if e[0] == entry_id)
    changed = (*entry[:2], who, *entry[3:-2])
    return (f"update access_log set who = '{who}', entry_hash = "
            f"'{security_file.entry_hash(changed, entry[-2])}' where id = {entry_id}")


def tampered_cases(path: Path) -> dict[str, tuple[str, list[str], tuple[str, ...]]]:
    """kind: (trigger dropped, statements, the breaks the verification must name)."""
    entries = rows(path)
    two = entries[1]
    values = "'2024-05-01T09:00:00.000000+00:00', 'Mallory', 'admin', 'view'"
    changed = "its content does not match its hash: it was changed after it was written, or " \
              "written without the dashboard"
    return {
        "DELETE from the middle": ("access_log_no_delete", ["delete from access_log where id = 3"],
                                   ("Entry 4: it follows entry 2, so entry 3 before it is "
                                    "missing (deleted).",)),
        "DELETE from the start": ("access_log_no_delete", ["delete from access_log where id <= 2"],
                                  ("Entry 3: it is the first entry, so entries 1 to 2 before it "
                                   "are missing (deleted).",)),
        "DELETE from the end": ("access_log_no_delete", ["delete from access_log where id >= 4"],
                                # the entry recording the trigger's return follows the gap
                                ("Entry 6: it follows entry 3, so entries 4 to 5 before it are "
                                 "missing (deleted).",)),
        "UPDATE": ("access_log_no_update", ["update access_log set who = 'Nobody' where id = 2"],
                   (f"Entry 2: {changed}.",)),
        "UPDATE with the hash recomputed": (
            "access_log_no_update", [rehashed_update(path, 2, "Nobody")],
            ("Entry 3: it does not carry the hash of entry 2, so entry 2 was changed or "
             "replaced after this entry was written.",)),
        "REPLACE INTO an existing id, hashes copied": (
            "access_log_chained_insert",
            [f"replace into access_log ({COLUMNS}) values (2, '{two[1]}', 'Nobody', "
             f"'{two[3]}', '{two[4]}', '{two[5]}', '{two[6]}', '{two[7]}', null, "
             f"'{two[9]}', '{two[10]}')"],
            (f"Entry 2: {changed}.",)),
        "INSERT OR REPLACE without an id": (
            "access_log_chained_insert",
            [f"insert or replace into access_log (at, who, role, action) values ({values})"],
            ("Entry 6: it does not carry the hash of entry 5, so entry 5 was changed or "
             "replaced after this entry was written; it has no hash: it was written without "
             "the dashboard.",)),
        "an explicit id out of turn": (
            "access_log_chained_insert",
            [f"insert into access_log ({COLUMNS}) values (9, {values}, null, null, null, null, "
             f"'{entries[-1][-1]}', 'forged')"],
            (f"Entry 9: it follows entry 5, so entries 6 to 8 before it are missing (deleted); "
             f"{changed}.",)),
    }


TAMPERED = ["DELETE from the middle", "DELETE from the start", "DELETE from the end", "UPDATE",
            "UPDATE with the hash recomputed", "REPLACE INTO an existing id, hashes copied",
            "INSERT OR REPLACE without an id", "an explicit id out of turn"]


@pytest.mark.parametrize("kind", TAMPERED)
def test_rewriting_the_log_after_dropping_a_trigger_is_detected(log, kind):
    trigger, statements, expected = tampered_cases(log)[kind]
    tamper(log, trigger, *statements)
    check = audit.verify_log(log)
    assert not check.intact
    assert check.breaks == expected
    assert check.break_count == len(expected)


def test_a_removed_trigger_is_put_back_and_the_log_says_so(log):
    tamper(log, "access_log_no_delete")
    check = audit.verify_log(log)  # any connection by the dashboard puts it back
    with closing(raw(log)) as con, pytest.raises(sqlite3.IntegrityError,
                                                  match="append-only"):
        con.execute("delete from access_log where id = 1")
    restored = audit.read_log(log, action="log-protection-restored")
    assert restored[["id", "who", "target", "outcome"]].values.tolist() == [
        [6, security_file.SYSTEM, "access_log_no_delete", "restored"]]
    assert check.intact and check.restored == (6,)  # nothing was changed meanwhile


def test_parallel_writers_in_threads_keep_one_unbroken_chain(tmp_path):
    path = tmp_path / "security.sqlite"
    security_file.connect(path).close()

    def write(worker: int) -> None:
        for i in range(25):
            audit.record(Who(f"worker {worker}"), "view", path=path, target=str(i))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check = audit.verify_log(path)
    assert (check.intact, check.entries, check.last_id) == (True, 200, 200)


OLD_SCHEMA = """
create table access_log (id integer primary key autoincrement, at text not null,
    who text not null, role text, action text not null, target text, filters text,
    outcome text, detail text);
create trigger access_log_no_update before update on access_log
begin select raise(abort, 'access_log is append-only'); end;
create trigger access_log_no_delete before delete on access_log
begin select raise(abort, 'access_log is append-only'); end;
pragma user_version = 1;
"""


def test_a_log_from_before_the_chain_is_chained_once_as_it_stands(tmp_path):
    path = tmp_path / "security.sqlite"
    with closing(raw(path)) as con:
        con.executescript(OLD_SCHEMA)
        con.executemany("insert into access_log (at, who, action) values (?, ?, 'view')",
                        [(f"2024-05-0{d}T09:00:00.000000+00:00", f"User {d}") for d in (1, 2, 3)])
        old = con.execute("select * from access_log order by id").fetchall()
    audit.record(Who("User 4"), "view", path=path)
    entries = rows(path)
    assert [e[:9] for e in entries[:3]] == old
    assert [e[0] for e in entries] == [1, 2, 3, 4]
    check = audit.verify_log(path)
    assert (check.intact, check.entries) == (True, 4)
    with closing(raw(path)) as con:
        assert con.execute("pragma user_version").fetchone()[0] == security_file.SCHEMA_VERSION
        for statement in ("update access_log set who = 'x'",
                          f"replace into access_log (id, at, who, action, prev_hash, entry_hash) "
                          f"values (1, 'a', 'b', 'c', '{security_file.GENESIS_HASH}', 'x')"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                con.execute(statement)
    assert audit.read_log(path, action="log-protection-restored").empty


@pytest.fixture
def admin_page(app_as):
    at = app_as("admin", name="Log Admin").run()
    at.switch_page("../pages/access_log.py")
    return at


def test_a_demo_administrator_is_not_shown_the_real_logs_size_or_last_entry(app_as,
                                                                            security_db):
    """A demo account is whoever reaches the sign-in page: the chain check gave them the real
    log's number of entries and its last entry's hash (the third review), and the entries'
    numbers gave its size too (the fourth)."""
    for number in range(3):
        audit.record(Who(f"Real user {number}", "steering"), "view", path=security_db)
    audit.record(Who("Demo administrator", "admin"), "view", path=security_db)
    at = app_as("admin").run()
    at.switch_page("../pages/access_log.py").run()
    assert not at.exception and not at.success and not at.error
    assert any("shown to the real administrators only" in i.value for i in at.info)
    assert not [c for c in at.caption if c.value.startswith("Last entry")]
    shown = next(d.value for d in at.dataframe if "who" in d.value.columns)
    assert len(shown) and "id" not in shown.columns  # the highest is the real log's size


def test_the_access_log_page_says_the_chain_is_intact(admin_page):
    admin_page.run()
    assert not admin_page.exception
    assert [s.value for s in admin_page.success][0].startswith("The log is intact: all ")
    assert not admin_page.error


def test_the_access_log_page_shows_a_views_filters_in_words(admin_page, security_db):
    """The Filters column showed the JSON the log keeps: {"from_date": "2022-04-01", ...}."""
    admin_page.run()
    audit.record(Who("Demo administrator", "admin"), "view", path=security_db,
                 target="referral_list", filters={"from_date": dt.date(2022, 4, 1),
                                                  "officer": "Officer 1", "area": None})
    admin_page.run()
    shown = next(d.value for d in admin_page.dataframe if "filters" in d.value.columns)
    assert shown["filters"].iloc[0] == "from date: 01/04/2022; officer: Officer 1"
    assert "{" not in "".join(shown["filters"])  # "{}" and nulls are blank


def test_filters_in_words():
    assert audit.filters_in_words('{"from_date": "2022-04-01", "officer": "Officer 1", '
                                  '"area": null}') == "from date: 01/04/2022; officer: Officer 1"
    for none in (None, float("nan"), "", "{}"):  # an all-null column is read as NaN
        assert audit.filters_in_words(none) == ""
    # only YYYY-MM-DD under a date's key is a date; other text Python's fromisoformat takes,
    # or a name that looks like a date, is left alone; a nested value is JSON
    assert audit.filters_in_words('{"to_date": "20220401", "from_date": "2022-W14-5", '
                                  '"officer": "2022-04-01", "b": {"c": null}}') == (
        'to date: 20220401; from date: 2022-W14-5; officer: 2022-04-01; b: {"c": null}')
    assert audit.filters_in_words("not json") == "not json"


def test_the_access_log_page_says_where_the_chain_breaks(admin_page, security_db):
    admin_page.run()  # writes the demo sign-in and gives the log a few entries
    for number in range(3):
        audit.record(Who(f"User {number}", "steering"), "view", path=security_db)
    tamper(security_db, "access_log_no_update",
           "update access_log set who = 'Nobody' where id = 2")
    admin_page.run()
    assert not admin_page.exception
    assert admin_page.error[0].value.startswith("The log has been tampered with: 1 break")
    breaks = next(d.value for d in admin_page.dataframe
                  if "Where the chain breaks" in d.value.columns)
    assert breaks["Where the chain breaks"].tolist() == [
        "Entry 2: its content does not match its hash: it was changed after it was written, "
        "or written without the dashboard."]
    # the trigger was removed: put back, and that recorded in the log and said on the page
    assert any(w.value.startswith("A trigger that stops the log being changed was found "
                                  "removed and put back") for w in admin_page.warning)
