"""The workbook reader's zygote: a small process, started once, that has already imported
pyarrow and python-calamine and forks one bounded reader per workbook, so that an upload no
longer pays for a fresh interpreter (0.06 CPU-s, eight times calamine's read of 1,000 rows).

The zygote is spawned as a fresh interpreter (fork and exec), never forked from the server:
the server is multi-threaded. It is single-threaded itself (it refuses to serve otherwise) and
never reads a workbook: it only forks. Each child drops everything it inherited but its own
request socket (so it cannot see the zygote's control socket or another upload), then runs
the reader command exactly as `python -c` would, with the workbook on stdin and its answer on
stdout, setting its own limits before it reads a byte. The server holds a pidfd for the child,
so it kills that child, and only that child, at the deadline. If the zygote has died, the
next workbook starts a new one; where it cannot run (not Linux, no pidfd), or does not start,
the caller falls back on a fresh process per workbook.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ZYGOTE_COMMAND = (f"import sys; sys.path.insert(0, {str(PROJECT_ROOT)!r}); "
                  "from dashboard.ingest.zygote_process import serve; serve()")
READY = b"R"
PIDFD = b"P"
# The child's pid follows PIDFD in a fixed width, so that the server reads exactly that and
# not the first bytes of the reader's output behind it on the same stream.
PID_DIGITS = 10
# Written by the child after the reader command ended normally (exit status 0): without it,
# the server treats the child as a reader that crashed, as it treats a non-zero exit status.
ENDED = b"\x00O2R-reader-ended"
START_TIMEOUT_S = 10
# A fork answers in milliseconds: a zygote silent this long is stopped or wedged (a hostile
# reader runs as the same user and may stop it), and is replaced rather than asked again.
FORK_TIMEOUT_S = 10
CHUNK_BYTES = 1024 * 1024
MAX_REQUEST_BYTES = 64 * 1024
# What a reader may see of the server's environment: nothing (settings, secrets and paths
# stay with the server); Python runs the same without it. Arrow's buffers come from the C
# library's malloc rather than mimalloc, which sets up its arenas afresh in every reader
# (about 0.001 CPU-s, a tenth of a 1,000-row read; no difference at 100,000 rows, nor in
# the address space a reader needs).
READER_ENVIRONMENT = {"LC_ALL": "C.UTF-8", "ARROW_DEFAULT_MEMORY_POOL": "system"}


class ReaderTimedOut(Exception):
    """The child did not finish by the deadline; it has been killed."""


class ZygoteUnavailable(Exception):
    """The zygote cannot run here or did not start: read in a fresh process instead."""


# ---------------------------------------------------------------- the server's side

def supported() -> bool:
    return (sys.platform == "linux" and hasattr(os, "fork") and hasattr(os, "pidfd_open")
            and hasattr(signal, "pidfd_send_signal") and hasattr(socket, "send_fds"))


class Zygote:
    """One running zygote process and the control socket the server sends requests on."""

    def __init__(self) -> None:
        server_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # A fixed command; close_fds (the default) leaves it nothing of the server's.
            self.process = subprocess.Popen(
                [sys.executable, "-c", ZYGOTE_COMMAND], stdin=zygote_end.fileno(),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=READER_ENVIRONMENT)
        except OSError as exc:
            server_end.close()
            raise ZygoteUnavailable(str(exc)) from exc
        finally:
            zygote_end.close()
        self.control = server_end
        try:
            server_end.settimeout(START_TIMEOUT_S)
            ready = server_end.recv(1)
        except OSError:
            ready = b""
        if ready != READY:  # an import failed, or it is not single-threaded
            self.stop()
            raise ZygoteUnavailable("the reader zygote did not start")

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, command: str, argv: list[str], wall_s: int) -> socket.socket:
        """Ask for a child running `command`; the server's end of its stdin and stdout."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        request = json.dumps({"command": command, "argv": argv, "wall_s": wall_s}).encode()
        try:
            socket.send_fds(self.control, [request], [theirs.fileno()])
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()  # only the child holds it now, so its exit ends our reading
        return ours

    def stop(self) -> None:
        self.control.close()  # the zygote exits when its control socket closes
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_zygote: Zygote | None = None
_zygote_lock = threading.Lock()
# After a zygote failed to start, workbooks are read in fresh processes for a while rather
# than each waiting for another zygote that may fail the same way.
RETRY_START_AFTER_S = 600
_failed_at: float | None = None


def start() -> Zygote:
    """The running zygote, started (again) if there is none or it has died."""
    global _zygote, _failed_at
    with _zygote_lock:
        if _zygote is None or not _zygote.alive():
            if _zygote is not None:
                _zygote.stop()
                _zygote = None
            if not supported():
                raise ZygoteUnavailable("no fork and pidfd here")
            if _failed_at is not None and time.monotonic() - _failed_at < RETRY_START_AFTER_S:
                raise ZygoteUnavailable("the reader zygote failed to start a moment ago")
            try:
                _zygote = Zygote()
            except ZygoteUnavailable:
                _failed_at = time.monotonic()
                raise
            _failed_at = None
        return _zygote


def stop() -> None:
    """Stop the zygote (it lets its running children finish); the next read starts another."""
    global _zygote, _failed_at
    with _zygote_lock:
        _failed_at = None
        if _zygote is not None:
            _zygote.stop()
            _zygote = None


def retire(zygote: Zygote) -> None:
    """Ask this zygote for no more children: it died, or stopped forking (it does after a
    child crashed, so that its successor has a fresh memory layout). It exits once its
    children have; the next read starts another."""
    global _zygote
    with _zygote_lock:
        if _zygote is zygote:
            _zygote = None
        zygote.control.close()


def run(command: str, argv: list[str], data: bytes,
        timeout_s: float) -> tuple[bool, bytes | memoryview]:
    """Run `command` in a child of the zygote as `python -c command *argv` would run, with
    `data` on its stdin: whether it ended normally, and what it wrote to stdout.

    Raises ReaderTimedOut (the child killed) at `timeout_s`, ZygoteUnavailable if there is
    no zygote to ask, and OSError if two zygotes in turn failed to fork a child.
    """
    deadline = time.monotonic() + timeout_s
    wall_s = int(timeout_s) + 2  # the child's own alarm, should the server be gone
    for attempt in (1, 2):
        zygote = start()
        try:
            with _zygote_lock:
                request = zygote.fork(command, argv, wall_s)
        except OSError:
            request = None
        try:
            pidfd, group = (None, None) if request is None else receive_pidfd(
                request, min(deadline, time.monotonic() + FORK_TIMEOUT_S))
        except ReaderTimedOut:
            retire(zygote)
            if time.monotonic() >= deadline:
                raise
            pidfd = None
        if pidfd is None:  # nothing of `data` has been sent: ask a new zygote
            if request is not None:
                request.close()
            retire(zygote)
            if attempt == 2:
                raise OSError("the reader zygote did not fork a reader")
            continue
        with request:
            try:
                output = exchange(request, data, deadline)
                # The child closes its end as it exits; give it the rest of its time to go.
                wait_for_exit(pidfd, deadline)
            finally:
                kill(pidfd, group)
        if output.endswith(ENDED):
            return True, memoryview(output)[:-len(ENDED)]
        return False, output
    raise AssertionError("unreachable")


def receive_pidfd(request: socket.socket, deadline: float) -> tuple[int | None, int | None]:
    """The child's pidfd and its process group (it leads its own: run_child), or None, None
    when no child was forked. Both are sent by run_child before the reader's command runs."""
    request.settimeout(max(deadline - time.monotonic(), 0.001))
    try:
        message, fds, _, _ = socket.recv_fds(request, len(PIDFD) + PID_DIGITS, 1)
    except TimeoutError as exc:
        request.close()
        raise ReaderTimedOut from exc
    except OSError:
        return None, None
    group = message[len(PIDFD):]
    if not message.startswith(PIDFD) or len(group) != PID_DIGITS or not group.isdigit() \
            or len(fds) != 1:
        for fd in fds:
            os.close(fd)
        return None, None
    return fds[0], int(group)


def exchange(request: socket.socket, data: bytes, deadline: float) -> bytes:
    """Send `data` (then end of file) while reading the child's output to its end."""
    request.setblocking(False)
    view, sent, received = memoryview(data), 0, []
    with selectors.DefaultSelector() as selector:
        if data:
            selector.register(request, selectors.EVENT_READ | selectors.EVENT_WRITE)
        else:
            request.shutdown(socket.SHUT_WR)
            selector.register(request, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReaderTimedOut
            for _, events in selector.select(left):
                if events & selectors.EVENT_WRITE and sent < len(view):
                    try:
                        sent += request.send(view[sent:sent + CHUNK_BYTES])
                    except BlockingIOError:
                        pass
                    except OSError:  # the child stopped reading (it ended, or was killed)
                        sent = len(view)
                    if sent == len(view):
                        try:
                            request.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                        selector.modify(request, selectors.EVENT_READ)
                if events & selectors.EVENT_READ:
                    try:
                        chunk = request.recv(CHUNK_BYTES)
                    except BlockingIOError:
                        continue
                    except OSError:
                        chunk = b""
                    if not chunk:
                        return b"".join(received)
                    received.append(chunk)


def wait_for_exit(pidfd: int, deadline: float) -> None:
    """A pidfd becomes readable when its process has ended."""
    with selectors.DefaultSelector() as selector:
        selector.register(pidfd, selectors.EVENT_READ)
        if not selector.select(max(deadline - time.monotonic(), 0)):
            raise ReaderTimedOut


def kill(pidfd: int, group: int) -> None:
    """The child, and anything it started: a reader that forked leaves nothing behind (a
    grandchild has no wall alarm, and could keep running after the child ends)."""
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it has ended
    finally:
        os.close(pidfd)
        kill_group(group)


def kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # nothing of it is left
