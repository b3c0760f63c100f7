"""Who holds a lease: worker ids, and telling a dead process on this machine from a live one.

A lease normally lapses by time only (another machine's process cannot be asked whether it
lives). On one machine that would make a restart after a crash wait out the whole lease, so
an owner whose id names this machine (host and pid namespace) and a process that no longer
exists counts as dead at once. Anything that cannot be told for sure counts as alive: its
lease then lapses by time, which is slow but never takes rows from a live process.
"""

from __future__ import annotations

import os
import socket
import uuid

_LIVE_HERE: set[str] = set()
"""Worker ids of the stores open in this process (tests run several in one process)."""


def _pid_namespace() -> str:
    try:
        # "pid:[4026531836]": two containers sharing a hostname still differ here
        return os.readlink("/proc/self/ns/pid").removeprefix("pid:[").rstrip("]")
    except OSError:
        return "-"


def this_machine() -> str:
    return f"{socket.gethostname()}/{_pid_namespace()}"


def new_worker_id() -> str:
    """``<host>/<pid namespace>:<pid>:<nonce>``; the nonce tells two incarnations of one pid apart."""
    return f"{this_machine()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def opened(worker_id: str) -> None:
    _LIVE_HERE.add(worker_id)


def closed(worker_id: str) -> None:
    _LIVE_HERE.discard(worker_id)


def dead_here(owner: str) -> bool:
    """True only when ``owner`` surely is a process of this machine that no longer runs."""
    machine, sep, rest = owner.partition(":")
    pid_text, sep2, _nonce = rest.partition(":")
    if not (sep and sep2 and pid_text.isdigit()) or machine != this_machine():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        # this very process: alive only if one of its own stores holds that id (pid 1 in a
        # container that restarted is the same pid with a new nonce)
        return owner not in _LIVE_HERE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # another user's process: alive
    return False
