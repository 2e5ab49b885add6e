"""
A circuit breaker in front of Redis, so that a Redis that hangs costs a few requests a short
timeout each, not every request a timeout per cache call (issue 19, item 3).

django-redis with IGNORE_EXCEPTIONS already turns a failed call into a miss (get) or a skipped
write (set), but only after the socket timeout: a Redis that is stopped (SIGSTOP), swapping or
behind a dead network path accepts connections and never answers, so each call waits the whole
timeout, several per page. `BreakerClient` (settings.CACHES OPTIONS "CLIENT_CLASS") counts the
failures:

- closed: every call goes to Redis. After BREAKER_FAILURES failures in a row (a timeout, a refused
  or reset connection: what django-redis raises as ConnectionInterrupted) it opens.
- open: for BREAKER_SECONDS no call goes to Redis: a get is a miss, a set or add is skipped, a
  delete deletes nothing, at once. Then it is half-open.
- half-open: the first call after that starts the probe, a PING in a thread of its own, and is
  answered as when open, as is every call until the probe is done: no request waits for it. The
  probe answering closes the breaker; failing opens it for another BREAKER_SECONDS. (A request
  that probed would wait the timeout itself, and a sync worker's queue behind it: measured, one
  such request per worker every 5 s set the p99 of a slow, uncached site.)

One breaker per Redis address per process, shared by every thread and every user of the cache (the
page cache, /healthz), since Django makes a cache client per thread. It logs one WARNING when it
opens and one when it closes (logger `peaceplans.cache`), never one per call; while it is open
django-redis is not called, so it logs nothing either. /healthz reports an open breaker as
"error: CircuitOpen" without waiting (ops/health.py).
"""

import functools
import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import caches
from django_redis.client import DefaultClient  # type: ignore[import-untyped]
from django_redis.exceptions import ConnectionInterrupted  # type: ignore[import-untyped]
from redis.exceptions import ConnectionError as RedisConnectionError

log = logging.getLogger("peaceplans.cache")

FAILURES = 3  # in a row, to open
SECONDS = 5.0  # open this long before one call probes again


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitOpen(RedisConnectionError):
    """What a call gets while the breaker is open, when the cache does not ignore errors (IGNORE_EXCEPTIONS off)."""


def in_a_thread(probe: Callable[[], None]) -> None:
    threading.Thread(target=probe, name="cache-breaker-probe", daemon=True).start()


class CircuitBreaker:
    """
    The breaker's states and counts for one server; thread-safe. `clock` and `spawn` (how a probe
    is run: in a thread) are injectable for tests.
    """

    def __init__(
        self,
        name: str,
        *,
        failures: int = FAILURES,
        seconds: float = SECONDS,
        clock: Callable[[], float] = time.monotonic,
        spawn: Callable[[Callable[[], None]], None] = in_a_thread,
    ):
        if failures < 1 or seconds <= 0:
            raise ValueError("a breaker opens after at least one failure and stays open a positive time")
        self.name = name
        self.threshold = failures
        self.seconds = seconds
        self.clock = clock
        self.spawn = spawn
        self.lock = threading.Lock()
        self.state = State.CLOSED
        self.failures = 0  # in a row, while closed
        self.opened_at = 0.0  # when it last opened (again, after a failed probe)
        self.down_since = 0.0  # when it first opened, for the log line that closes it

    def allow(self, probe: Callable[[], object]) -> bool:
        """
        Whether a call may go to the server now. When the breaker has been open long enough,
        `probe` (a call that raises unless the server answers) is started, and this call, like
        every other until the probe is done, is answered without the server.
        """
        with self.lock:
            if self.state is State.CLOSED:
                return True
            if self.state is State.HALF_OPEN or self.clock() - self.opened_at < self.seconds:
                return False
            self.state = State.HALF_OPEN
        self.spawn(lambda: self.run_probe(probe))
        return False

    def run_probe(self, probe: Callable[[], object]) -> None:
        try:
            probe()
        except BaseException as error:
            self.failed(error, probe=True)
            if not isinstance(error, Exception):
                raise
        else:
            self.succeeded(probe=True)

    def succeeded(self, *, probe: bool = False) -> None:
        with self.lock:
            if self.state is State.CLOSED:
                self.failures = 0
                return
            if not probe:
                return  # a call that started before it opened: the probe decides
            self.state, self.failures = State.CLOSED, 0
            down = self.clock() - self.down_since
        log.warning("Cache %s answers again: using it again (circuit closed; skipped for %.1f s).", self.name, down)

    def failed(self, error: BaseException | None = None, *, probe: bool = False) -> None:
        kind = type(error.__cause__ or error).__name__ if error is not None else "an error"
        with self.lock:
            if self.state is not State.CLOSED:
                if probe:
                    self.state, self.opened_at = State.OPEN, self.clock()  # still down: another while
                return  # else a call that started before it opened: nothing new
            self.failures += 1
            if self.failures < self.threshold:
                return
            self.state, self.opened_at = State.OPEN, self.clock()
            self.down_since = self.opened_at
        log.warning(
            "Cache %s failed %d time%s in a row (%s): skipping it, trying it again every %g s (circuit open).",
            self.name,
            self.threshold,
            "" if self.threshold == 1 else "s",
            kind,
            self.seconds,
        )

    def call[T](self, method: Callable[[], T], when_open: Callable[[], T], probe: Callable[[], object]) -> T:
        """`method()` through the breaker: counted when it goes to the server, `when_open()` when it may not."""
        if getattr(_nesting, "depth", 0):  # add() calls set(): counted once, as the outer call
            return method()
        if not self.allow(probe):
            return when_open()
        _nesting.depth = 1
        try:
            result = method()
        except ConnectionInterrupted as error:
            self.failed(error)
            raise
        except Exception:
            self.succeeded()  # the server answered: the error is about the value (decoding, incr)
            raise
        finally:
            _nesting.depth = 0
        self.succeeded()
        return result


_nesting = threading.local()
_breakers: dict[tuple[str, int, float], CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(location: str, failures: int = FAILURES, seconds: float = SECONDS) -> CircuitBreaker:
    """This process's breaker for a Redis address (the same one for every thread)."""
    key = (location, failures, seconds)
    with _breakers_lock:
        if key not in _breakers:
            _breakers[key] = CircuitBreaker(server_name(location), failures=failures, seconds=seconds)
        return _breakers[key]


def server_name(location: str) -> str:
    """host:port/db of a Redis URL, never its password (it goes to the log)."""
    names = []
    for url in location.split(","):
        parts = urlsplit(url.strip())
        port = f":{parts.port}" if parts.port else ""
        names.append(f"{parts.hostname}{port}{parts.path}" if parts.hostname else parts.path)  # else a socket
    return ",".join(names) if any(names) else "redis"


def state_of(alias: str = "default") -> State | None:
    """The state of the breaker behind a cache (CACHES' alias), None when it has none (local memory)."""
    client = getattr(caches[alias], "client", None)
    return client.breaker.state if isinstance(client, BreakerClient) else None


# What each cache call answers while the breaker is open: what it answers when Redis is empty.
def _default(args: tuple, kwargs: dict) -> Any:
    return kwargs.get("default", args[1] if len(args) > 1 else None)


WHEN_OPEN: dict[str, Callable[[tuple, dict], Any]] = {
    "get": _default,
    "get_many": lambda args, kwargs: {},
    "has_key": lambda args, kwargs: False,
    "set": lambda args, kwargs: False,
    "add": lambda args, kwargs: False,
    "set_many": lambda args, kwargs: [],
    "touch": lambda args, kwargs: False,
    "delete": lambda args, kwargs: 0,
    "delete_many": lambda args, kwargs: 0,
}
# Calls that have no "empty" answer: while open they fail at once, as a refused connection would.
RAISE_WHEN_OPEN = (
    "incr",
    "decr",
    "incr_version",
    "ttl",
    "pttl",
    "expire",
    "persist",
    "clear",
    "keys",
    "delete_pattern",
)


class BreakerClient(DefaultClient):
    """django-redis' client with a circuit breaker (module docstring). OPTIONS BREAKER_FAILURES, BREAKER_SECONDS."""

    def __init__(self, server, params: dict[str, Any], backend) -> None:
        super().__init__(server, params, backend)
        options = params.get("OPTIONS", {})
        location = ",".join(server) if isinstance(server, (list, tuple, set)) else str(server)
        self.breaker = breaker_for(
            location, int(options.get("BREAKER_FAILURES", FAILURES)), float(options.get("BREAKER_SECONDS", SECONDS))
        )

    def ping(self) -> None:
        """The breaker's probe: Redis' PING, with the same timeouts as every call."""
        self.get_client(write=True).ping()

    def when_open(self, name: str, args: tuple, kwargs: dict) -> Any:
        answer = WHEN_OPEN.get(name)
        if answer is None or not getattr(self._backend, "_ignore_exceptions", False):
            # As a connection error: the backend ignores it (returns its default) or raises CircuitOpen.
            raise ConnectionInterrupted(connection=None) from CircuitOpen(f"circuit open for {self.breaker.name}")
        return answer(args, kwargs)


def _guard(name: str) -> Callable:
    method = getattr(DefaultClient, name)

    @functools.wraps(method)
    def guarded(self: BreakerClient, *args, **kwargs):
        return self.breaker.call(
            lambda: method(self, *args, **kwargs), lambda: self.when_open(name, args, kwargs), self.ping
        )

    return guarded


for _name in (*WHEN_OPEN, *RAISE_WHEN_OPEN):
    setattr(BreakerClient, _name, _guard(_name))
