"""The reader zygote: each workbook gets its own forked child, which holds nothing but its own
request, applies the reader's limits and dies at its deadline; two uploads at once each get
one; a killed zygote is replaced; where there is none, a fresh process reads the workbook."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dashboard.ingest import reader_zygote, spreadsheet_guard

pytestmark = pytest.mark.skipif(not reader_zygote.supported(), reason="Linux only")
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _own_zygote():
    reader_zygote.stop()
    yield
    reader_zygote.stop()


def small_workbook() -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet().write_row(0, 0, ["Nominal ID", "Status"])
    book.close()
    return buffer.getvalue()


def wait_for_file(path: Path) -> str:
    """Code for a child: wait (at most 20 s) until `path` exists."""
    return (f"import os, time\nfor _ in range(2000):\n    if os.path.exists({str(path)!r}): "
            "break\n    time.sleep(0.01)\n")


def not_running(pid: int) -> bool:
    """Gone, or ended and waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except (FileNotFoundError, ProcessLookupError):
        return True


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not not_running(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return not_running(pid)


def test_two_workbooks_at_once_each_get_their_own_child(tmp_path):
    # The first child waits for a file the second creates: read one after the other, the
    # first would wait in vain.
    report = ("import os, sys\nsys.stdout.buffer.write(sys.stdin.buffer.read() + "
              "f' {os.getpid()} {os.getppid()}'.encode())\n")
    commands = {"first": wait_for_file(tmp_path / "second") + report,
                "second": f"open({str(tmp_path / 'second')!r}, 'w').close()\n" + report}
    results = {}

    def read(name):
        results[name] = reader_zygote.run(commands[name], [], name.encode(), 30)

    threads = [threading.Thread(target=read, args=(name,)) for name in commands]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    zygote = reader_zygote.start().process.pid
    children = set()
    for name, (ended, output) in results.items():
        data, pid, parent = bytes(output).decode().split()
        assert (ended, data, int(parent)) == (True, name, zygote)
        children.add(int(pid))
    assert len(children) == 2 and not children & {zygote, os.getpid()}
    assert "Threads:\t1\n" in Path(f"/proc/{zygote}/status").read_text()


def test_a_child_holds_only_its_own_request():
    command = ("import json, os, sys\nfds = {}\nfor fd in os.listdir('/proc/self/fd'):\n"
               "    try:\n        fds[fd] = os.readlink(f'/proc/self/fd/{fd}')\n"
               "    except OSError:\n        pass\n"  # the directory listdir had open
               "sys.stdout.write(json.dumps(fds))\n")
    ended, output = reader_zygote.run(command, [], b"", 30)
    fds = json.loads(bytes(output))
    assert ended and sorted(fds) == ["0", "1", "2"]
    assert fds["0"] == fds["1"] and fds["0"].startswith("socket:")
    assert fds["2"] == "/dev/null"


def test_children_run_the_reader_under_its_limits():
    command = (spreadsheet_guard.READER_COMMAND + "; import resource; sys.stdout.buffer.write("
               "repr([resource.getrlimit(r) for r in (resource.RLIMIT_AS, resource.RLIMIT_CPU,"
               " resource.RLIMIT_CORE)]).encode())")
    ended, output = reader_zygote.run(command, ["300", "7", "500"], b"not a workbook", 30)
    assert ended and bytes(output).startswith(b"E")  # calamine's refusal, then the limits
    assert bytes(output).endswith(repr([(300 * MB, 300 * MB), (7, 7), (0, 0)]).encode())


def test_a_child_that_fails_or_exits_non_zero_has_not_ended_normally():
    assert reader_zygote.run("print('x', end='')", [], b"", 30) == (True, b"x")
    for command in ("import sys; print('x', end=''); sys.exit(3)", "print('x'); 1 / 0"):
        ended, output = reader_zygote.run(command, [], b"", 30)
        assert not ended and bytes(output).startswith(b"x")


def test_a_child_past_its_deadline_is_killed(tmp_path):
    pid_file = tmp_path / "pid"
    command = f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\nwhile True: pass"
    with pytest.raises(reader_zygote.ReaderTimedOut):
        reader_zygote.run(command, [], b"", 1)
    pid = int(pid_file.read_text())
    # At once, by the server: the child's own alarm (its backstop) would end it 2 s later.
    assert gone_within(pid, 1.5)


def test_a_killed_zygote_is_replaced_and_its_running_children_finish(tmp_path):
    first = reader_zygote.start().process.pid
    result = {}
    reading = threading.Thread(target=lambda: result.update(output=reader_zygote.run(
        wait_for_file(tmp_path / "go") + "print('done', end='')", [], b"", 30)))
    reading.start()
    for _ in range(500):  # until its child has been forked
        if any(Path(f"/proc/{first}/task/{first}/children").read_text().split()):
            break
        time.sleep(0.01)
    os.kill(first, signal.SIGKILL)
    (tmp_path / "go").touch()
    reading.join()
    assert result["output"] == (True, b"done")
    sheet, width = spreadsheet_guard.read_in_subprocess(small_workbook(), 30, 2048)
    assert (sheet.column(0).to_pylist(), width) == (["Nominal ID"], 2)
    assert reader_zygote.start().process.pid != first


def refuse_to_fork(*args):
    raise BrokenPipeError


@pytest.mark.parametrize("without", ["unsupported", "fails to start", "fails to fork"])
def test_without_a_zygote_a_fresh_process_reads_the_workbook(monkeypatch, without):
    if without == "unsupported":
        monkeypatch.setattr(reader_zygote, "supported", lambda: False)
    elif without == "fails to start":
        monkeypatch.setattr(reader_zygote, "ZYGOTE_COMMAND", "pass")
    else:  # two zygotes in turn
        monkeypatch.setattr(reader_zygote.Zygote, "fork", refuse_to_fork)
    sheet, width = spreadsheet_guard.read_in_subprocess(small_workbook(), 30, 2048)
    assert (sheet.column(1).to_pylist(), width) == (["Status"], 2)
    assert reader_zygote._zygote is None
    if without == "fails to start":  # the next workbook does not wait for another attempt
        monkeypatch.setattr(reader_zygote, "Zygote", None)
        sheet, width = spreadsheet_guard.read_in_subprocess(small_workbook(), 30, 2048)
        assert width == 2


def test_a_stopped_zygote_is_replaced_not_asked_again(monkeypatch):
    # A hostile reader runs as the server's user and could stop the zygote that forks every
    # later reader; then each workbook would wait out its deadline on it.
    monkeypatch.setattr(reader_zygote, "FORK_TIMEOUT_S", 0.5)
    first = reader_zygote.start().process
    os.kill(first.pid, signal.SIGSTOP)
    try:
        assert reader_zygote.run("print('x', end='')", [], b"", 30) == (True, b"x")
        assert reader_zygote.start().process is not first
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert first.wait(timeout=10) == 0  # retired: it exits once it runs again


def test_a_crashed_child_retires_its_zygote_and_a_killed_one_does_not():
    first = reader_zygote.start().process
    with pytest.raises(reader_zygote.ReaderTimedOut):
        reader_zygote.run("while True: pass", [], b"", 0.5)  # the server's SIGKILL
    assert reader_zygote.run("print('x', end='')", [], b"", 30) == (True, b"x")
    assert reader_zygote.start().process is first
    crash = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    assert reader_zygote.run(crash, [], b"", 30) == (False, b"")
    # The next workbook goes to a new zygote (a fresh memory layout); the old one exits.
    assert reader_zygote.run("print('y', end='')", [], b"", 30) == (True, b"y")
    assert reader_zygote.start().process is not first
    assert first.wait(timeout=10) == 0


@pytest.mark.parametrize("holds_output", [False, True])
def test_nothing_a_reader_starts_outlives_it(tmp_path, holds_output):
    # A grandchild has no wall alarm: the server ends the child's whole process group after
    # every read, whether it ended normally or, the grandchild holding its output open, at
    # its deadline.
    pid_file = tmp_path / "grandchild"
    fork = (f"import os, time\nif os.fork() == 0:\n"
            f"    open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
            + ("" if holds_output else "    os.close(0)\n    os.close(1)\n")
            + "    time.sleep(60)\n    os._exit(0)\n"
            f"while not os.path.exists({str(pid_file)!r}): time.sleep(0.01)\n"
            "print('done', end='')\n")
    if holds_output:
        with pytest.raises(reader_zygote.ReaderTimedOut):
            reader_zygote.run(fork, [], b"", 2)
    else:
        assert reader_zygote.run(fork, [], b"", 30) == (True, b"done")
    grandchild = int(pid_file.read_text())
    assert gone_within(grandchild, 2)


def test_a_reader_sees_nothing_of_the_servers_environment(monkeypatch):
    monkeypatch.setenv("O2R_SECRET_FOR_TEST", "not for readers")
    reader_zygote.stop()  # a zygote started now, with the variable set
    ended, output = reader_zygote.run(
        "import os, sys; sys.stdout.write(' '.join(sorted(os.environ)))", [], b"", 30)
    assert ended
    assert set(bytes(output).decode().split()) <= {
        *reader_zygote.READER_ENVIRONMENT, "JE_ARROW_MALLOC_CONF"}


def test_nothing_a_fresh_reader_starts_outlives_it(tmp_path, monkeypatch):
    monkeypatch.setattr(reader_zygote, "supported", lambda: False)
    pid_file = tmp_path / "grandchild"
    monkeypatch.setattr(spreadsheet_guard, "READER_COMMAND", (
        f"import os, sys, time\nif os.fork() == 0:\n"
        f"    open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(60)\n    os._exit(0)\n"
        f"while not os.path.exists({str(pid_file)!r}): time.sleep(0.01)\n"
        "sys.stdout.write(' '.join(sorted(os.environ)))\n"))
    monkeypatch.setenv("O2R_SECRET_FOR_TEST", "not for readers")
    with pytest.raises(spreadsheet_guard.subprocess.TimeoutExpired):  # it holds the output
        spreadsheet_guard.run_reader([], b"", 2)
    grandchild = int(pid_file.read_text())
    assert gone_within(grandchild, 2)
