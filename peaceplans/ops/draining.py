"""
Whether this app server is draining: told to stop, and saying so on /healthz (503 "draining") for a
grace period so that the front or a load balancer sends it no more readers before it stops accepting
connections (issue 19, item 4; docs/operations.md, "Deploying without dropping requests").

The flag is one byte of anonymous shared memory made when this module is first imported. The gunicorn
master imports it before it forks its workers (peaceplans/ops/server.py), so the master's `begin()` on
SIGTERM is seen by every worker at once, with no file to leave behind and no cache to depend on. In a
process that never forks (runserver, the tests) it is simply this process's own flag.
"""

import mmap

_flag = mmap.mmap(-1, 1)  # MAP_SHARED | MAP_ANONYMOUS: shared with children forked after this import


def begin() -> None:
    """From now on /healthz answers 503 "draining"; pages are still served."""
    _flag[0] = 1


def end() -> None:
    """Back to serving normally (a fresh start, or a test putting things back)."""
    _flag[0] = 0


def is_draining() -> bool:
    return _flag[0] == 1
