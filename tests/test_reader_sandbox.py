"""The workbook reader's sandbox: by the time the reader reads the upload, whichever way it was
started (a child of the zygote or a fresh process), it can open no file, make no socket, start
no process, leave no process group and signal nothing outside itself, yet threads still work
and a workbook still reads."""

from __future__ import annotations

import ctypes
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dashboard.ingest import reader_sandbox, reader_zygote, spreadsheet_guard
from tests.test_reader_zygote import small_workbook


def landlock_abi() -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc.syscall(reader_sandbox.SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                        ctypes.c_uint32(reader_sandbox.LANDLOCK_CREATE_RULESET_VERSION))


def has_libseccomp() -> bool:
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, RuntimeError, OSError):
        return False
    return True


pytestmark = pytest.mark.skipif(
    not reader_zygote.supported() or landlock_abi() < reader_sandbox.SCOPE_ABI
    or not has_libseccomp(),
    reason="needs Linux 6.12 or later with Landlock, and libseccomp")

# serve_one with the workbook's reading replaced by a probe of what the reader can still do.
# What the probe uses is imported before serve_one confines the process.
PROBE = spreadsheet_guard.READER_COMMAND.replace("from dashboard.ingest.workbook_reader "
                                                 "import serve_one; serve_one()", """
import ctypes, json, os, resource, socket, threading
from dashboard.ingest import workbook_reader
libc = ctypes.CDLL(None, use_errno=True)

def c_call(result):
    if result == -1:
        raise OSError(ctypes.get_errno(), "refused")

def attempt(action):
    try:
        action()
    except OSError as exc:
        return f"refused: {exc.errno}"
    return "allowed"

def probe(data, max_columns):
    secret, server, victim, mine = sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
    ran = []
    thread = threading.Thread(target=lambda: ran.append(True))
    thread.start()
    thread.join()
    report = {
        "read a file": attempt(lambda: open(secret, "rb").read()),
        "write a file": attempt(lambda: open(secret + ".copy", "wb").close()),
        "list a folder": attempt(lambda: os.listdir(os.path.dirname(secret))),
        "UDP socket": attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)),
        "TCP socket": attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM)),
        "Unix socket pair": attempt(socket.socketpair),
        "fork": attempt(lambda: os.fork() == 0 and os._exit(0)),
        "leave its process group": attempt(os.setsid),
        "signal the server": attempt(lambda: os.kill(server, 0)),
        "exec": attempt(lambda: os.execv("/bin/true", ["true"])),
        # a process and a file of the reader's own user, which it could otherwise change
        "signal its user's process": attempt(lambda: os.kill(victim, 0)),
        "limit its user's process": attempt(
            lambda: resource.prlimit(victim, resource.RLIMIT_NOFILE, (16, 16))),
        "reprioritise its user's process": attempt(
            lambda: os.setpriority(os.PRIO_PROCESS, victim, 19)),
        "reprioritise all its user's processes": attempt(
            lambda: os.setpriority(os.PRIO_USER, 0, 19)),
        "attach System V memory": attempt(lambda: c_call(libc.shmat(0, None, 0))),
        "control System V memory": attempt(lambda: c_call(libc.shmctl(0, 2, None))),
        "chmod its user's file": attempt(lambda: os.chmod(mine, 0o666)),
        "touch its user's file": attempt(lambda: os.utime(mine, (0, 0))),
        "System V memory": attempt(lambda: c_call(libc.shmget(0, 1 << 20, 0o1600))),
        "watch a folder": attempt(lambda: c_call(libc.inotify_init1(0))),
        "its own limits": attempt(lambda: resource.setrlimit(
            resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))),
        "signal itself": attempt(lambda: os.kill(os.getpid(), 0)),
        "uid": os.getuid(),
        "thread ran": ran == [True],
        "workbook bytes": len(data),
    }
    return [json.dumps(report).encode()]

workbook_reader.read_first_sheet = probe
workbook_reader.serve_one()
""")


READER_UID = 65534 if os.geteuid() == 0 else os.getuid()


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "security.sqlite"
    path.write_bytes(b"password hashes")
    path.chmod(0o644)  # readable by anyone: only the sandbox stands in the way
    return str(path)


@pytest.fixture
def reader_argv(secret, tmp_path):
    """The reader's arguments, then what the probe tries to reach: a file, the server, and a
    process and a file of the reader's own user."""
    mine = tmp_path / "mine"
    mine.write_bytes(b"")
    os.chown(mine, READER_UID, -1) if os.geteuid() == 0 else None
    victim = subprocess.Popen(["sleep", "60"],
                              user=READER_UID if os.geteuid() == 0 else None)
    try:
        yield ["300", "7", "500", secret, str(os.getpid()), str(victim.pid), str(mine)]
        limits = Path(f"/proc/{victim.pid}/limits").read_text()
        assert re.search(r"Max open files\s+16\s", limits) is None
        assert os.getpriority(os.PRIO_PROCESS, victim.pid) != 19
        assert mine.stat().st_mode & 0o777 != 0o666 and mine.stat().st_mtime > 0
    finally:
        victim.kill()
        victim.wait()


def expected_report() -> dict:
    refused = {what: "refused: 13" for what in ("read a file", "write a file", "list a folder")}
    refused |= {what: "refused: 1" for what in (
        "UDP socket", "TCP socket", "Unix socket pair", "fork", "leave its process group",
        "signal the server", "exec", "signal its user's process", "limit its user's process",
        "reprioritise its user's process", "reprioritise all its user's processes",
        "attach System V memory", "control System V memory", "chmod its user's file",
        "touch its user's file", "System V memory", "watch a folder")}
    return refused | {"uid": READER_UID, "thread ran": True, "workbook bytes": 7,
                      "its own limits": "allowed", "signal itself": "allowed"}


def test_a_reader_forked_by_the_zygote_reaches_nothing_but_its_own_input(secret, reader_argv):
    reader_zygote.stop()
    try:
        ended, output = reader_zygote.run(PROBE, reader_argv, b"xlsx...", 30)
    finally:
        reader_zygote.stop()
    assert ended
    assert json.loads(bytes(output)) == expected_report()
    assert Path(secret).read_bytes() == b"password hashes"
    assert not Path(secret + ".copy").exists()


def test_a_fresh_reader_reaches_nothing_but_its_own_input(reader_argv, monkeypatch):
    monkeypatch.setattr(reader_zygote, "supported", lambda: False)
    monkeypatch.setattr(spreadsheet_guard, "READER_COMMAND", PROBE)
    reader_zygote.stop()
    ended, output = spreadsheet_guard.run_reader(reader_argv, b"xlsx...", 30)
    assert ended
    assert json.loads(bytes(output)) == expected_report()


def test_confined_readers_still_read_workbooks_both_ways(monkeypatch):
    reader_zygote.stop()
    try:
        sheet, width = spreadsheet_guard.read_in_subprocess(small_workbook(), 30, 2048)
        assert (sheet.column(0).to_pylist(), width) == (["Nominal ID"], 2)
        monkeypatch.setattr(reader_zygote, "supported", lambda: False)
        reader_zygote.stop()
        sheet, width = spreadsheet_guard.read_in_subprocess(small_workbook(), 30, 2048)
        assert (sheet.column(1).to_pylist(), width) == (["Status"], 2)
    finally:
        reader_zygote.stop()



def test_a_reader_tells_the_server_what_confines_it(monkeypatch, caplog):
    monkeypatch.setattr(reader_sandbox, "_confinement_noted", False)
    reader_zygote.stop()
    try:
        sheet, _ = spreadsheet_guard.read_in_subprocess(small_workbook(), 30, 2048)
    finally:
        reader_zygote.stop()
    applied = set(sheet.schema.metadata[b"confined"].decode().split(","))
    assert applied == reader_sandbox.full_confinement() == reader_sandbox.FULL_CONFINEMENT | (
        {"nobody"} if os.geteuid() == 0 else set())
    assert not caplog.records
    # A machine without some layers is told once, not on every upload.
    for _ in range(2):
        reader_sandbox.note_confinement({b"confined": b"nobody,no_new_privs"})
    assert [r.getMessage() for r in caplog.records] == [
        "Workbook readers run without landlock, not_dumpable, seccomp (see README, Hostile "
        "input): this kernel or libseccomp does not offer them, or a root server may not "
        "change user; the readers' memory, CPU and time limits hold."]
    # a root server's reader that could not become nobody is noticed too
    monkeypatch.setattr(reader_sandbox, "_confinement_noted", False)
    monkeypatch.setattr(reader_sandbox.os, "geteuid", lambda: 0)
    caplog.clear()
    reader_sandbox.note_confinement({b"confined": b"no_new_privs,not_dumpable,landlock,seccomp"})
    assert "run without nobody" in caplog.records[0].getMessage()


def test_a_reader_with_a_second_thread_is_not_confined_half_way():
    # Landlock and seccomp bind only the thread that applies them (and threads it starts).
    root = str(Path(__file__).resolve().parents[1])
    code = (f"import sys, threading, time; sys.path.insert(0, {root!r})\n"
            "from dashboard.ingest.reader_sandbox import confine\n"
            "threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n"
            "try:\n    confine()\nexcept RuntimeError as exc:\n    print(exc)\n"
            "print(open('/etc/hostname').read() and 'files still open')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.splitlines() == [
        "the reader has more than one thread: it cannot be confined", "files still open"]
