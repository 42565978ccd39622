"""The workbook reader's sandbox: by the time the reader reads the upload, whichever way it was
started (a child of the zygote or a fresh process), it can open no file, make no socket, start
no process, leave no process group and signal nothing outside itself, yet threads still work
and a workbook still reads."""

from __future__ import annotations

import ctypes
import json
import os
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
import json, os, socket, threading
from dashboard.ingest import workbook_reader

def attempt(action):
    try:
        action()
    except OSError as exc:
        return f"refused: {exc.errno}"
    return "allowed"

def probe(data, max_columns):
    secret, server = sys.argv[4], int(sys.argv[5])
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
        "uid": os.getuid(),
        "thread ran": ran == [True],
        "workbook bytes": len(data),
    }
    return [json.dumps(report).encode()]

workbook_reader.read_first_sheet = probe
workbook_reader.serve_one()
""")


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "security.sqlite"
    path.write_bytes(b"password hashes")
    path.chmod(0o644)  # readable by anyone: only the sandbox stands in the way
    return str(path)


def expected_report() -> dict:
    refused = {what: "refused: 13" for what in ("read a file", "write a file", "list a folder")}
    refused |= {what: "refused: 1" for what in (
        "UDP socket", "TCP socket", "Unix socket pair", "fork", "leave its process group",
        "signal the server", "exec")}
    return refused | {"uid": 65534 if os.geteuid() == 0 else os.getuid(), "thread ran": True,
                      "workbook bytes": 7}


def test_a_reader_forked_by_the_zygote_reaches_nothing_but_its_own_input(secret):
    reader_zygote.stop()
    try:
        ended, output = reader_zygote.run(
            PROBE, ["300", "7", "500", secret, str(os.getpid())], b"xlsx...", 30)
    finally:
        reader_zygote.stop()
    assert ended
    assert json.loads(bytes(output)) == expected_report()
    assert Path(secret).read_bytes() == b"password hashes"
    assert not Path(secret + ".copy").exists()


def test_a_fresh_reader_reaches_nothing_but_its_own_input(secret, monkeypatch):
    monkeypatch.setattr(reader_zygote, "supported", lambda: False)
    monkeypatch.setattr(spreadsheet_guard, "READER_COMMAND", PROBE)
    reader_zygote.stop()
    ended, output = spreadsheet_guard.run_reader(
        ["300", "7", "500", secret, str(os.getpid())], b"xlsx...", 30)
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

