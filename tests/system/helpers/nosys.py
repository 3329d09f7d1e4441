#!/usr/bin/python3
"""helpers/nosys.py CALL[=ERRNO][,CALL...] -- ARGV...: run ARGV with those system calls failing
(ENOSYS unless an errno name is given), the way an older kernel would answer them: a seccomp
filter (libseccomp through ctypes) inherited by ARGV and everything it starts.  Also leaves fd 9
open without close-on-exec (/dev/null), so a test can see whether it reaches a container."""

import ctypes
import errno
import os
import sys

SCMP_ACT_ALLOW = 0x7FFF0000


def scmp_act_errno(e):
    return 0x00050000 | (e & 0xFFFF)


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit(__doc__)
    lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                     ctypes.c_uint]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    for spec in sys.argv[1].split(","):
        name, _, err = spec.partition("=")
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:
            sys.exit(f"nosys: unknown system call {name!r}")
        if lib.seccomp_rule_add(ctx, scmp_act_errno(getattr(errno, err or "ENOSYS")), nr, 0):
            sys.exit(f"nosys: cannot add a rule for {name!r}")
    if lib.seccomp_load(ctx):
        sys.exit("nosys: seccomp_load failed")
    fd = os.open("/dev/null", os.O_RDONLY)
    os.dup2(fd, 9, inheritable=True)
    os.execvp(sys.argv[3], sys.argv[3:])


if __name__ == "__main__":
    main()
