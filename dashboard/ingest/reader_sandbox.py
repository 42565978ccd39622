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
REFUSED_CALLS = ("fork", "vfork", "execve", "execveat", "socket", "socketpair", "connect",
                 "bind", "listen", "accept", "accept4", "ptrace", "process_vm_readv",
                 "process_vm_writev", "io_uring_setup", "unshare", "setns", "setsid")
NOBODY = 65534


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64),
                ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


def confine() -> list[str]:
    """Apply every layer this machine offers, in an order where each still can be; the
    names of those applied (the rest were not available here)."""
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
    try:
        rules = seccomp.SyscallFilter(seccomp.ALLOW)
        for call in REFUSED_CALLS:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), call)
        # A thread is a clone with CLONE_THREAD; a process is one without. clone3 passes its
        # flags in memory a filter cannot read: refused as unknown, so that the C library
        # starts its threads with clone instead.
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone",
                       seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
        rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        rules.load()
    except OSError:
        return False
    return True
