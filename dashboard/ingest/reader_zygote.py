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
                  "from dashboard.ingest.reader_zygote import serve; serve()")
READY = b"R"
PIDFD = b"P"
# Written by the child after the reader command ended normally (exit status 0): without it,
# the server treats the child as a reader that crashed, as it treats a non-zero exit status.
ENDED = b"\x00O2R-reader-ended"
START_TIMEOUT_S = 10
# A fork answers in milliseconds: a zygote silent this long is stopped or wedged (a hostile
# reader runs as the same user and may stop it), and is replaced rather than asked again.
FORK_TIMEOUT_S = 10
CHUNK_BYTES = 1024 * 1024
MAX_REQUEST_BYTES = 64 * 1024


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
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
            pidfd = None if request is None else receive_pidfd(
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
                kill(pidfd)
        if output.endswith(ENDED):
            return True, memoryview(output)[:-len(ENDED)]
        return False, output
    raise AssertionError("unreachable")


def receive_pidfd(request: socket.socket, deadline: float) -> int | None:
    request.settimeout(max(deadline - time.monotonic(), 0.001))
    try:
        message, fds, _, _ = socket.recv_fds(request, 1, 1)
    except TimeoutError as exc:
        request.close()
        raise ReaderTimedOut from exc
    except OSError:
        return None
    if message != PIDFD or len(fds) != 1:
        for fd in fds:
            os.close(fd)
        return None
    return fds[0]


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


def kill(pidfd: int) -> None:
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it has ended
    finally:
        os.close(pidfd)


# ---------------------------------------------------------------- the zygote's side

def serve() -> None:
    """The zygote: control socket on stdin; forks a child per request until it closes."""
    control = socket.socket(fileno=os.dup(0))
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.close(devnull)
    import resource

    from dashboard.ingest.workbook_reader import (
        JEMALLOC_CONF,
        NO_JEMALLOC_THREAD,
        WithoutNumpyOrPandas,
    )

    sys.meta_path.insert(0, WithoutNumpyOrPandas())
    # pyarrow's jemalloc starts a background thread when it loads (its default pool is
    # mimalloc, so jemalloc does no work here): a process with a second thread is not safe
    # to fork.
    os.environ[JEMALLOC_CONF] = NO_JEMALLOC_THREAD
    import pyarrow  # noqa: F401
    import python_calamine  # noqa: F401

    if len(os.listdir("/proc/self/task")) != 1:
        return  # the server sees no READY and reads in fresh processes
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # nor in its children
    signal.signal(signal.SIGCHLD, reap_children)
    control.send(READY)
    while True:
        try:
            request, fds, _, _ = socket.recv_fds(control, MAX_REQUEST_BYTES, 1)
        except OSError:
            break
        reap_children()  # now, not when the signal's handler gets its turn
        if not request or crashed:  # the server closed the control socket, or is gone
            for fd in fds:
                os.close(fd)  # the server sees no child, and asks a new zygote
            break
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            continue
        if os.fork() == 0:
            run_child(control, fds[0], request)  # never returns
        os.close(fds[0])
    control.close()  # requests still queued are dropped: the server asks a new zygote
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    while True:  # the children still reading finish, and are reaped
        try:
            os.wait()
        except ChildProcessError:
            break
    os._exit(0)  # nothing to clean up: a full interpreter shutdown would only cost CPU


# Set when a child ended by a signal other than the server's SIGKILL at its deadline (a
# segfault, an abort, its own CPU limit): the zygote then forks no more. Its children share
# its memory layout; a crash may be someone probing for it, and each crash costs them a
# fresh layout (ASLR), as each read did when every reader was a fresh interpreter.
crashed = False


def reap_children(signum: int = 0, frame: object = None) -> None:
    global crashed
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) != signal.SIGKILL:
            crashed = True


def run_child(control: socket.socket, request_fd: int, request: bytes) -> None:
    """In the forked child: stdin and stdout become the request socket, nothing else of the
    zygote's stays open, and the command runs as `python -c` runs it."""
    status = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        control.detach()  # closed below with the rest; the object must not close its number later
        os.dup2(request_fd, 0)
        os.dup2(request_fd, 1)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        spec = json.loads(request)
        signal.setitimer(signal.ITIMER_REAL, spec["wall_s"])  # SIGALRM's default ends it
        pidfd = os.pidfd_open(os.getpid())
        out = socket.socket(fileno=os.dup(1))
        socket.send_fds(out, [PIDFD], [pidfd])
        out.close()
        os.close(pidfd)
        sys.argv = ["-c", *spec["argv"]]
        code = compile(spec["command"], "<string>", "exec")
        try:
            exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
            status = 0
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        if status == 0:
            os.write(1, ENDED)
    except BaseException:  # as `python -c` would: a traceback, and status 1
        import traceback

        traceback.print_exc()
        status = 1
    finally:
        os._exit(status)
