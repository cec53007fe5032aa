"""Run a LibreOffice command so that it cannot outlive the process that started it.

Usage: ``python3 lo_guard.py COMMAND [ARG...]``, started in a session of its own (its own process
group, ``start_new_session=True``) with a pipe on its standard input whose other end only its
parent holds. The guard starts COMMAND in its group (``soffice`` becomes ``oosplash``, which starts
``soffice.bin``: both stay in the group) and waits. When the pipe reports end of file, because the
parent closed it or died (SIGKILL included: the kernel closes a dead process's files), the guard
kills its whole group, itself last. When COMMAND ends on its own, the guard exits with its status.

Why a process of its own: a signal the dying worker never gets to send cannot stop LibreOffice, and
``PR_SET_PDEATHSIG`` reaches only a direct child (``oosplash``), not the ``soffice.bin`` it forks.
The guard is in LibreOffice's group rather than the worker's, so killing the worker's group does not
kill the guard before it has done its job. Standard library only: it runs under the system Python
(the UNO bridge's) or the application's.
"""

import os
import selectors
import signal
import subprocess
import sys


def kill_group() -> None:
    os.killpg(os.getpgrp(), signal.SIGKILL)  # LibreOffice and this guard, at once


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: lo_guard.py COMMAND [ARG...]", file=sys.stderr)
        return 2
    if os.getpgrp() != os.getpid():
        os.setpgid(0, 0)  # started without a session of its own: make the group here
    child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)
    watch = selectors.DefaultSelector()
    watch.register(sys.stdin.fileno(), selectors.EVENT_READ)
    while True:
        status = child.poll()
        if status is not None:
            return status
        for key, _events in watch.select(timeout=0.5):
            if not os.read(key.fd, 4096):  # end of file: the parent is gone or let go
                kill_group()


if __name__ == "__main__":
    sys.exit(main())
