"""The reader zygote's own side (reader_zygote.py is the server's): a single-threaded process
that has imported pyarrow and python-calamine, and forks one child per workbook request. The
child keeps only its request socket, leads its own process group, tells the server its pid
and pidfd, and runs the reader command as `python -c` would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys

from dashboard.ingest.reader_zygote import ENDED, MAX_REQUEST_BYTES, PID_DIGITS, PIDFD, READY


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
    # pyarrow's jemalloc starts a background thread when it loads (the readers' pool is
    # malloc, reader_zygote.READER_ENVIRONMENT, so jemalloc does no work here): a process
    # with a second thread is not safe to fork.
    os.environ[JEMALLOC_CONF] = NO_JEMALLOC_THREAD
    import pyarrow  # noqa: F401
    import python_calamine  # noqa: F401

    try:  # finding libseccomp costs 0.04 CPU-s: once here rather than in every reader
        import pyseccomp  # noqa: F401
    except (ImportError, RuntimeError, OSError):  # no libseccomp: reader_sandbox goes on
        pass
    # Finding it (ldconfig's output, read whole) left the heap 0.7 MB larger, free but kept:
    # every child inherits it, and the reader's address-space limit only bounds growth, so a
    # small limit let a read through that should have run out of memory. Give it back.
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass

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
        os.setsid()  # its own group, so that the server can end whatever it starts
        control.detach()  # closed below with the rest; the object must not close its number later
        os.dup2(request_fd, 0)
        os.dup2(request_fd, 1)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        spec = json.loads(request)
        signal.setitimer(signal.ITIMER_REAL, spec["wall_s"])  # SIGALRM's default ends it
        pidfd = os.pidfd_open(os.getpid())
        out = socket.socket(fileno=os.dup(1))
        socket.send_fds(out, [PIDFD + f"{os.getpid():0{PID_DIGITS}d}".encode()], [pidfd])
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
        try:  # what it wrote before it failed, as `python -c` leaves it
            sys.stdout.flush()
        except BaseException:  # a reader that broke its own stdout: nothing to save
            pass
        os._exit(status)
