"""
The cache's circuit breaker (issue 19, item 3; peaceplans/ops/breaker.py).

First its states on a fake clock: closed, open after N failures in a row, one probe when the time is
up (half-open), closed by the probe's answer or opened again by its failure; one log line when it
opens and one when it closes; exactly one probe among threads released together. Then django-redis
through `BreakerClient` against a Redis that hangs: a loopback socket that accepts connections and
never answers, as a SIGSTOPped redis-server does (tests/ops/test_breaker_servers.py stops a real one
under load): the first calls wait the socket timeout, then none does, and /healthz says so at once.

Runs in about 3 s.
"""

import logging
import socket
import threading
import time

import pytest
import redis.exceptions
from django.core.cache import cache
from django.test import Client
from django_redis.exceptions import ConnectionInterrupted

from peaceplans.ops import breaker
from peaceplans.ops.breaker import CircuitBreaker, State
from tests import stack

TIMEOUT = 0.2  # as settings.py
# A call that skips Redis takes microseconds; one that waited took TIMEOUT at least. Half of it tells the
# two apart on a shared machine under make test's load (10 ms did not: a skipped call once took 20 ms in CI).
SKIPPED = TIMEOUT / 2


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Server:
    """What the breaker guards: answers, or fails as django-redis does, and counts the calls it got."""

    def __init__(self):
        self.calls = 0
        self.pings = 0
        self.ping_seconds = 0.0
        self.down = False

    def __call__(self) -> str:
        self.calls += 1
        if self.down:
            raise ConnectionInterrupted(connection=None) from TimeoutError("Timeout reading from socket")
        return "value"

    def ping(self) -> None:
        """The probe: as redis-py's PING, which raises its own errors (not django-redis' ConnectionInterrupted)."""
        self.pings += 1
        time.sleep(self.ping_seconds)
        if self.down:
            raise TimeoutError("Timeout reading from socket")


def call(cb: CircuitBreaker, server: Server):
    try:
        return cb.call(server, lambda: "skipped", probe=server.ping)
    except ConnectionInterrupted:
        return "failed"


@pytest.fixture
def logged(caplog):
    caplog.set_level(logging.WARNING, logger="peaceplans.cache")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "peaceplans.cache"]


def in_line(probe):
    """Run the probe at once, in the caller's thread, so that the fake clock decides everything."""
    probe()


def test_the_states_on_a_fake_clock(logged):
    clock, server = Clock(), Server()
    cb = CircuitBreaker("redis-test:6379/0", failures=3, seconds=5, clock=clock, spawn=in_line)
    assert [call(cb, server) for _ in range(3)] == ["value"] * 3 and cb.state is State.CLOSED

    server.down = True  # two failures, an answer: the count starts again
    assert [call(cb, server) for _ in range(2)] == ["failed"] * 2
    server.down = False
    assert call(cb, server) == "value" and cb.state is State.CLOSED and cb.failures == 0

    server.down = True  # three in a row: open, and the server is not called any more
    assert [call(cb, server) for _ in range(3)] == ["failed"] * 3
    assert cb.state is State.OPEN and server.calls == 9
    assert [call(cb, server) for _ in range(100)] == ["skipped"] * 100 and server.calls == 9

    clock.now += 4.9  # not yet
    assert call(cb, server) == "skipped" and server.pings == 0
    clock.now += 0.1  # time is up: the call starts a probe and is answered without the server
    assert call(cb, server) == "skipped" and server.pings == 1 and server.calls == 9
    assert cb.state is State.OPEN  # the probe failed: open for another 5 s
    clock.now += 4.9
    assert call(cb, server) == "skipped" and server.pings == 1

    clock.now += 0.1
    server.down = False  # the probe answers: closed, and from the next call on every call goes through
    assert call(cb, server) == "skipped" and server.pings == 2 and cb.state is State.CLOSED
    assert [call(cb, server) for _ in range(3)] == ["value"] * 3 and server.calls == 12

    lines = logged()
    assert len(lines) == 2, lines  # one when it opened, one when it closed: never one per call
    assert "circuit open" in lines[0] and "3 times in a row (TimeoutError)" in lines[0] and "every 5 s" in lines[0]
    assert "circuit closed" in lines[1] and "skipped for 10.0 s" in lines[1]


def test_while_the_probe_is_out_every_call_is_answered_without_the_server():
    clock, server, probes = Clock(), Server(), []
    cb = CircuitBreaker("r", failures=1, seconds=5, clock=clock, spawn=probes.append)  # started, not yet run
    server.down = True
    call(cb, server)
    clock.now += 5
    assert [call(cb, server) for _ in range(10)] == ["skipped"] * 10 and cb.state is State.HALF_OPEN
    assert len(probes) == 1 and server.pings == 0  # one probe, still out
    server.down = False
    probes[0]()
    assert cb.state is State.CLOSED and call(cb, server) == "value"


def test_a_call_started_before_it_opened_neither_closes_nor_reopens_it():
    clock, probes = Clock(), []
    cb = CircuitBreaker("r", failures=1, seconds=5, clock=clock, spawn=probes.append)
    cb.failed(TimeoutError())
    assert cb.state is State.OPEN
    cb.succeeded()  # a late answer to a call allowed while it was closed: not the probe
    assert cb.state is State.OPEN
    clock.now += 5
    assert cb.allow(lambda: None) is False and cb.state is State.HALF_OPEN
    cb.failed(TimeoutError())  # a late failure that is not the probe's
    assert cb.state is State.HALF_OPEN
    probes[0]()
    assert cb.state is State.CLOSED


def test_threads_released_together_start_exactly_one_probe_and_none_waits_for_it():
    clock, server = Clock(), Server()
    cb = CircuitBreaker("r", failures=1, seconds=5, clock=clock)  # probes in a thread, as in production
    server.down = True
    call(cb, server)
    clock.now += 5
    server.down = False
    server.ping_seconds = 0.3  # the probe is still out while the others ask
    release, results = threading.Barrier(16), []

    def one():
        release.wait()
        started = time.monotonic()
        results.append((call(cb, server), time.monotonic() - started))

    threads = [threading.Thread(target=one) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert [answer for answer, _ in results] == ["skipped"] * 16 and max(took for _, took in results) < 0.1
    deadline = time.monotonic() + 5
    while cb.state is not State.CLOSED and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.pings == 1 and cb.state is State.CLOSED and call(cb, server) == "value"


def test_a_nested_call_counts_once():
    """django-redis' add() calls set(): one failure, not two."""
    cb, server = CircuitBreaker("r", failures=2, seconds=5, clock=Clock()), Server()
    server.down = True
    with pytest.raises(ConnectionInterrupted):
        cb.call(lambda: cb.call(server, lambda: "skipped", server.ping), lambda: "skipped", server.ping)
    assert cb.failures == 1 and server.calls == 1


def test_the_log_names_the_server_without_its_password():
    assert breaker.server_name("redis://:s3cret@cache.internal:6380/2") == "cache.internal:6380/2"
    assert breaker.server_name("rediss://user:pw@10.0.0.5/0") == "10.0.0.5/0"
    assert breaker.server_name("unix:///run/redis/redis.sock") == "/run/redis/redis.sock"


# ---- django-redis against a Redis that hangs ----


@pytest.fixture
def hung_redis():
    """A loopback port that accepts connections (the kernel's backlog) and never answers: a stopped Redis."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


def breaker_cache(port: int, *, ignore: bool = True, failures: int = 3, seconds: float = 30) -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {
                "CLIENT_CLASS": "peaceplans.ops.breaker.BreakerClient",
                "SOCKET_CONNECT_TIMEOUT": TIMEOUT,
                "SOCKET_TIMEOUT": TIMEOUT,
                "IGNORE_EXCEPTIONS": ignore,
                "BREAKER_FAILURES": failures,
                "BREAKER_SECONDS": seconds,
            },
        }
    }


def timed(action):
    started = time.monotonic()
    result = action()
    return result, time.monotonic() - started


def test_a_hung_redis_costs_three_timeouts_then_nothing_even_while_probed(settings, hung_redis, logged):
    settings.CACHES = breaker_cache(hung_redis, seconds=0.3)
    costs = [timed(lambda: cache.get("page"))[1] for _ in range(3)]
    assert all(cost >= TIMEOUT * 0.9 for cost in costs), costs  # each waited the socket timeout
    assert breaker.state_of() is State.OPEN
    answers, states, until = [], set(), time.monotonic() + 1.5  # several probes (every 0.3 s), each 0.2 s out
    while time.monotonic() < until:
        answers += [timed(action) for action in (lambda: cache.get("page"), lambda: cache.add("lock", 1))]
        states.add(breaker.state_of())
        time.sleep(0.005)
    assert {answer for answer, _ in answers} == {None, False}  # a miss, a lock not taken
    assert max(cost for _, cost in answers) < SKIPPED, max(cost for _, cost in answers)
    assert states == {State.OPEN, State.HALF_OPEN}  # probed, never closed: Redis never answered
    assert timed(lambda: cache.set("page", b"x"))[1] < SKIPPED
    assert len(logged()) == 1  # the one "circuit open"; failed probes say nothing


def test_every_cache_user_in_the_process_shares_the_breaker(settings, hung_redis):
    """Django makes a cache client per thread: the breaker is per server, so a thread inherits it open."""
    settings.CACHES = breaker_cache(hung_redis)
    for _ in range(3):
        cache.get("page")
    seen = []
    thread = threading.Thread(target=lambda: seen.append((breaker.state_of(), timed(lambda: cache.get("x")))))
    thread.start()
    thread.join(5)
    state, (value, cost) = seen[0]
    assert state is State.OPEN and value is None and cost < SKIPPED


@pytest.mark.django_db
def test_healthz_reports_an_open_breaker_at_once_and_part_database_stays_fast(settings, hung_redis):
    settings.CACHES = breaker_cache(hung_redis)
    settings.PAGE_CACHE_SECONDS = 3600
    Client().get("/healthz?part=database")  # the process's first request (URL resolvers, imports) is no measure
    response, cost = timed(lambda: Client().get("/healthz?part=database"))
    assert response.json() == {"status": "ok", "database": "ok"} and cost < TIMEOUT * 0.9, (
        cost
    )  # never waits on the cache
    first, cost = timed(lambda: Client().get("/healthz?part=cache"))  # set, get: two timeouts
    assert first.status_code == 503 and cost >= 2 * TIMEOUT * 0.9
    Client().get("/healthz?part=cache")  # the third failure in a row opens it
    again, cost = timed(lambda: Client().get("/healthz"))
    assert again.status_code == 503 and cost < TIMEOUT * 0.9, cost
    assert again.json() == {"status": "error", "database": "ok", "cache": "error: CircuitOpen"}


def test_without_ignore_exceptions_an_open_breaker_raises_at_once(settings, hung_redis):
    settings.CACHES = breaker_cache(hung_redis, ignore=False, failures=1)
    with pytest.raises(redis.exceptions.TimeoutError):
        cache.get("page")
    started = time.monotonic()
    with pytest.raises(breaker.CircuitOpen):
        cache.get("page")
    assert time.monotonic() - started < SKIPPED


@pytest.mark.servers
def test_a_probe_that_answers_closes_it(settings, logged, tmp_path):
    """Against a real redis-server (skipped without one), after a short open spell."""
    with stack.redis(stack.free_port(), tmp_path) as server:
        settings.CACHES = breaker_cache(server.port, failures=1, seconds=0.3)
        cb = cache.client.breaker
        cb.failed(TimeoutError())  # as if it had just hung
        assert cache.get("page") is None and cb.state is State.OPEN
        time.sleep(0.3)
        assert cache.set("page", "stored") is False  # starts the probe (a PING, in a thread); skipped meanwhile
        deadline = time.monotonic() + 5
        while cb.state is not State.CLOSED and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cb.state is State.CLOSED
        assert cache.set("page", "stored") is True and cache.get("page") == "stored"
    lines = logged()
    assert len(lines) == 2 and "circuit open" in lines[0] and "circuit closed" in lines[1], lines
