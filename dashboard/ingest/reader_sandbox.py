"""Confine the workbook reader before it reads a byte of the upload.

The reader parses a file anyone with upload rights chose, with calamine's zip and XML code.
Should a hostile workbook ever take over that process, it would run as the server's own user
(root, in some deployments), beside the database and the security file. So, once pyarrow and
calamine are imported and before the workbook is read, the reader gives up everything it
does not need to turn bytes on stdin into bytes on stdout:

- **files**: Landlock with no rules, so no file can be opened (the descriptors it already
  holds, stdin and stdout, still work);
- **network and signals**: Landlock's TCP rules and scopes, so it can neither connect nor
  listen, nor signal or trace a process outside itself (the zygote, the server);
- **new processes and sockets**: a seccomp filter refuses fork, exec and socket creation,
  so nothing it starts can outlive it by leaving its process group (`setsid`), and nothing
  can reach the network over UDP, which Landlock does not cover; threads are still allowed;
- **privilege**: as root it becomes `nobody` with no groups, and it cannot gain privilege
  again (no_new_privs) nor be read by a debugger or a core dump (not dumpable).

Each layer is applied where the kernel offers it (Landlock from Linux 5.13, its network
rules from 6.7, its scopes from 6.12) and skipped where it does not: the reader's memory,
CPU and time limits still hold everywhere. This module imports nothing from the project.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os

PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
# Landlock's system calls have one number on every architecture (they are newer than the
# split of the tables).
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_RESTRICT_SELF = 444, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
# What each ABI version can refuse (linux/landlock.h): file access rights by version,
# TCP bind and connect from 4, abstract Unix sockets and signals from 6.
FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: 1 << 13, 3: 1 << 14, 5: 1 << 15}
NET_RIGHTS, NET_ABI = 0b11, 4
SCOPES, SCOPE_ABI = 0b11, 6
CLONE_THREAD = 0x00010000
# Refused outright. Landlock has no say over most of these: new processes and sockets; other
# processes' memory; objects that outlive the reader (System V memory, message queues, keys);
# the metadata of files it cannot open (a non-root server's own: mode, owner, times, extended
# attributes); watching a folder; and the kernel's other ways in.
REFUSED_CALLS = (
    "fork", "vfork", "execve", "execveat", "setsid", "setpgid", "unshare", "setns",
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
    "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "tkill",
    "shmget", "shmat", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop",
    "semtimedop", "semctl", "mq_open", "add_key", "keyctl", "request_key",
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
    "utime", "utimes", "utimensat", "futimesat",
    "setxattr", "lsetxattr", "fsetxattr", "setxattrat",
    "removexattr", "lremovexattr", "fremovexattr", "removexattrat",
    "inotify_init", "inotify_init1", "fanotify_init", "name_to_handle_at",
    "open_by_handle_at", "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount",
    "open_tree", "move_mount", "quotactl", "personality", "perf_event_open", "bpf",
    "userfaultfd", "io_uring_setup")
# Allowed on the reader itself only (each argument listed has its value: the pid 0, or its
# own pid for signals): its own limits and scheduling, never another process's of the same
# user (a non-root server's open-file limit cut to 16, or its CPU limit, from a reader), and
# signals to itself alone. setpriority and ioprio_set also name what `who` is: a process
# (PRIO_PROCESS 0, IOPRIO_WHO_PROCESS 1), not every process of the user.
OWN_ONLY_CALLS = {"prlimit64": ((0, 0),), "sched_setaffinity": ((0, 0),),
                  "sched_setscheduler": ((0, 0),), "sched_setparam": ((0, 0),),
                  "sched_setattr": ((0, 0),), "migrate_pages": ((0, 0),),
                  "move_pages": ((0, 0),), "setpriority": ((0, 0), (1, 0)),
                  "ioprio_set": ((0, 1), (1, 0))}
OWN_PID_CALLS = {"kill": 0, "tgkill": 0, "rt_sigqueueinfo": 0, "rt_tgsigqueueinfo": 0}
# Without these the filter is not worth the name: the layer is reported missing.
ESSENTIAL_CALLS = ("fork", "vfork", "execve", "socket", "ptrace", "setsid", "prlimit64",
                   "kill", "clone")
NOBODY = 65534


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64),
                ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


def confine() -> list[str]:
    """Apply every layer this machine offers, in an order where each still can be; the
    names of those applied (the rest were not available here)."""
    # Landlock and seccomp bind the thread that applies them and threads started after: a
    # thread already running would stay free. Listed before files are refused.
    if len(os.listdir("/proc/self/task")) != 1:
        raise RuntimeError("the reader has more than one thread: it cannot be confined")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    seccomp = load_seccomp()  # it reads files and runs ldconfig: before anything is refused
    applied = []
    if drop_root():
        applied.append("nobody")
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        applied.append("no_new_privs")
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0:
        applied.append("not_dumpable")
    if restrict_with_landlock(libc):
        applied.append("landlock")
    if seccomp is not None and refuse_calls_with_seccomp(seccomp):
        applied.append("seccomp")
    return applied


def drop_root() -> bool:
    """As root, become nobody (no capabilities, no groups); as anyone else, stay."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    try:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    except OSError:  # root without the capabilities (in some containers)
        return False
    return True


def restrict_with_landlock(libc: ctypes.CDLL) -> bool:
    abi = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                       ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    if abi < 1:
        return False  # no Landlock in this kernel, or it is turned off
    rules = RulesetAttr(
        sum(rights for version, rights in FS_RIGHTS_BY_ABI.items() if abi >= version),
        NET_RIGHTS if abi >= NET_ABI else 0,
        SCOPES if abi >= SCOPE_ABI else 0)
    # An older kernel takes only the fields it knows: the structure's size says which.
    if abi >= SCOPE_ABI:
        size = ctypes.sizeof(RulesetAttr)
    elif abi >= NET_ABI:
        size = RulesetAttr.scoped.offset
    else:
        size = RulesetAttr.handled_access_net.offset
    ruleset = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(rules),
                           ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return False
    try:
        return libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset),
                            ctypes.c_uint32(0)) == 0
    finally:
        os.close(ruleset)


def load_seccomp():
    """pyseccomp (libseccomp, through ctypes), or None where the library is missing."""
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError):  # RuntimeError: no libseccomp here
        return None
    return pyseccomp


def refuse_calls_with_seccomp(seccomp) -> bool:
    """Load the filter; False if it could not be, or lacks an essential rule. A call this
    libseccomp does not know (one newer than it) is left out, not the whole filter."""
    refuse, own = seccomp.ERRNO(errno.EPERM), os.getpid()
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    added = set()

    def add(action: int, call: str, *conditions) -> None:
        try:
            rules.add_rule(action, call, *conditions)
        except (OSError, ValueError):  # unknown to this libseccomp (or this architecture)
            return
        added.add(call)

    for call in REFUSED_CALLS:
        add(refuse, call)
    for call, arguments in OWN_ONLY_CALLS.items():
        for argument, allowed in arguments:  # one rule each: refused if any differs
            add(refuse, call, seccomp.Arg(argument, seccomp.NE, allowed))
    for call, argument in OWN_PID_CALLS.items():
        add(refuse, call, seccomp.Arg(argument, seccomp.NE, own))
    # A thread is a clone with CLONE_THREAD; a process is one without. clone3 passes its
    # flags in memory a filter cannot read: refused as unknown, so that the C library starts
    # its threads with clone instead.
    add(refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
    add(seccomp.ERRNO(errno.ENOSYS), "clone3")
    if not set(ESSENTIAL_CALLS) <= added:
        return False
    try:
        rules.load()
    except OSError:
        return False
    return True


# ---------------------------------------------------------------- the server's side

# What confine applies on a Linux with Landlock and libseccomp, and for a root server (whose
# readers start as root too) the change to nobody.
FULL_CONFINEMENT = frozenset({"no_new_privs", "not_dumpable", "landlock", "seccomp"})
_confinement_noted = False


def full_confinement() -> frozenset[str]:
    return FULL_CONFINEMENT | ({"nobody"} if hasattr(os, "geteuid") and os.geteuid() == 0
                               else frozenset())


def note_confinement(metadata: dict) -> None:
    """Log, once per server, that readers run without some of the sandbox's layers (an older
    kernel, or no libseccomp): they still have their memory, CPU and time limits. Told by the
    reader itself, so it is for the administrator's notice, not a check."""
    global _confinement_noted
    applied = set(metadata.get(b"confined", b"").decode("utf-8", "replace").split(","))
    missing = sorted(full_confinement() - applied)
    if missing and not _confinement_noted:
        _confinement_noted = True
        logging.getLogger(__name__).warning(
            "Workbook readers run without %s (see README, Hostile input): this kernel or "
            "libseccomp does not offer them, or a root server may not change user; the "
            "readers' memory, CPU and time limits hold.",
            ", ".join(missing))
