"""
The front and its app servers (issue 19, items 2, 4 and 9), on the layout `make cluster` starts
(tests/cluster.py): nginx (peaceplans/ops/nginx/, rendered as in production) in front of two gunicorn
instances started through peaceplans/ops/server.py, over one PostgreSQL and one Redis, all on loopback.

- 200 slow-header clients held for 30 s against the front: readers loading pages through it meanwhile
  get 0 errors and a p99 under 1 s (a bare gunicorn serves nobody: docs/operations.md has the figure);
- an app server stopped (SIGTERM) under load behind the front: 0 requests reset or failed, seen by
  clients of the front or of the server itself; its /healthz says 503 "draining" during the grace;
- gunicorn's own 400/414/431 and nginx's own 400/413/414/404/502 carry the app's security headers;
- X-Forwarded-Proto straight to gunicorn is ignored unless it comes from the front's address;
- nginx serves /static/ itself, with whitenoise's headers, also with every app server down.

The cluster is the session's `shared_cluster` (tests/conftest.py), shared with test_cluster.py and
others. Figures are printed (pytest -s). About 60 s: the 30 s hold, the drain ~12 s (and the
cluster's set-up, ~15 s, when this module is the first to ask for it).
"""

import http.client
import json
import selectors
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests import stack
from tests.cluster import FRONT_ADDRESS

# One xdist worker runs the cluster's users (tests/conftest.py, KEEP_TOGETHER): its servers start once.
pytestmark = [pytest.mark.servers, pytest.mark.slow]

# The headers the app's security middleware puts on every answer (docs/security.md). No HSTS here:
# the cluster runs without DJANGO_SECURE_HTTPS (tests/ops/test_front_config.py checks HSTS).
SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Resource-Policy",
    "Permissions-Policy",
)
SLOW_CLIENTS, HOLD_SECONDS, SLOW_INTERVAL = 200, 30, 3
READERS = 2  # readers loading pages without pause, through the front, while the slow clients hold


@pytest.fixture(scope="module")
def site(shared_cluster):
    """The session's cluster (tests/conftest.py), shared with test_cluster.py and others."""
    return shared_cluster


@pytest.fixture(scope="module")
def paths(site):
    return stack.demo_paths(site.urls[0])


@pytest.fixture(scope="module")
def page_headers(site):
    """The security headers of a normal page, as the app sends them."""
    status, headers, _ = stack.get(site.urls[0] + "/", {"Host": "127.0.0.1"})
    assert status == 200
    found = {name: headers[name] for name in SECURITY_HEADERS if name in headers}
    assert set(found) == set(SECURITY_HEADERS)
    return found


def raw(port: int, data: bytes, timeout: float = 10) -> tuple[int, dict, bytes]:
    """Send `data` as it is on a new connection; the answer's (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        answer = http.client.HTTPResponse(conn)  # reads the body by its Content-Length, not to the close
        answer.begin()
        return answer.status, dict(answer.getheaders()), answer.read()


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def assert_security_headers(headers: dict, expected: dict, what: str) -> None:
    assert {name: headers.get(name) for name in expected} == expected, what


# ---- 200 slow clients ----


class SlowHeaders:
    """
    `count` connections that each send a request line, then one header line every `interval` s and
    never the blank line that ends the headers (slowloris). A connection the server closes or answers
    is opened again at once, so `count` are held all along; `cut` counts those the server ended.
    """

    def __init__(self, port: int, count: int, interval: float):
        self.port, self.count, self.interval = port, count, interval
        self.selector = selectors.DefaultSelector()
        self.opened = self.cut = self.refused = 0
        self.least_held = count
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, n: int, due: float) -> None:
        try:
            conn = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        except OSError:
            self.refused += 1
            return
        conn.setblocking(False)
        self.opened += 1
        self.selector.register(conn, selectors.EVENT_READ, [n, due, 0])

    def _close(self, key) -> None:
        self.selector.unregister(key.fileobj)
        key.fileobj.close()
        self.cut += 1

    def start(self) -> "SlowHeaders":
        now = time.monotonic()
        for n in range(self.count):
            self._open(n, now + self.interval * n / self.count)  # spread the lines over the interval
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self.selector.select(timeout=0.1):  # the server answered or closed: it ended it
                n = key.data[0]
                self._close(key)
                self._open(n, time.monotonic() + self.interval)
            now = time.monotonic()
            for key in list(self.selector.get_map().values()):
                n, due, lines = key.data
                if now < due:
                    continue
                try:
                    key.fileobj.send(f"X-Slow-{lines}: {'x' * 20}\r\n".encode())
                    key.data[1:] = [due + self.interval, lines + 1]
                except OSError:
                    self._close(key)
                    self._open(n, now + self.interval)
            self.least_held = min(self.least_held, len(self.selector.get_map()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()


def p99(hits) -> float:
    times = sorted(hit.end - hit.start for hit in hits)
    return times[min(len(times) - 1, int(len(times) * 0.99))]


def test_200_slow_header_clients_for_30_s_leave_readers_unharmed(site, paths):
    front = port_of(site.front.http_url)
    stack.Load(site.front.http_url, paths, threads=1, seconds=1).start().join()  # pages in the cache
    slow = SlowHeaders(front, SLOW_CLIENTS, SLOW_INTERVAL).start()
    try:
        time.sleep(1)
        with stack.Load(site.front.http_url, paths, threads=READERS, seconds=HOLD_SECONDS - 1) as load:
            pass
    finally:
        slow.stop()
    counts = stack.summary(load.hits)
    latency = p99(load.hits)
    print(
        f"\n{SLOW_CLIENTS} slow-header clients for {HOLD_SECONDS} s (a line every {SLOW_INTERVAL} s): "
        f"opened {slow.opened}, ended by the front {slow.cut}, least held at once {slow.least_held}, "
        f"refused {slow.refused}; readers: {counts}, p99 {latency * 1000:.0f} ms"
    )
    assert slow.least_held >= SLOW_CLIENTS * 0.9 and slow.refused == 0  # the attack was on all along
    assert counts["requests"] > 100 and counts["ok"] == counts["requests"], counts
    assert latency < 1.0


# ---- a stop under load ----


def test_an_app_server_stopped_under_load_behind_the_front_resets_nothing(site, paths):
    folder, drain = site.folder, 3
    port, front_port = stack.free_port(), stack.free_ports(2)
    log = folder / "drained.log"
    with stack.gunicorn(
        site.env, port, folder, name="drained", log=log, forwarded_allow_ips=FRONT_ADDRESS, drain_seconds=drain
    ) as drained:
        upstreams = [f"127.0.0.1:{drained.port}", f"127.0.0.1:{site.servers[0].port}"]
        with stack.nginx(site.env, upstreams, front_port, front_port + 1, folder, name="drain-front") as front:
            through = stack.Load(front.http_url, paths, threads=6, seconds=drain + 4)
            direct = stack.Load(drained.url, paths, threads=2, seconds=drain + 4)
            health: list[tuple[int, bytes]] = []
            served: list[int] = []

            def stop():
                stopped = time.monotonic()
                drained.process.send_signal(signal.SIGTERM)
                # The master takes the signal in its loop: a few milliseconds.
                stack.wait_until(lambda: stack.get(drained.url + "/healthz")[0] == 503, seconds=1, what="draining")
                while time.monotonic() < stopped + drain - 0.5:
                    status, _, body = stack.get(drained.url + "/healthz", timeout=2)
                    health.append((status, body))
                    served.append(stack.get(drained.url + paths[0][0], timeout=5)[0])
                    time.sleep(0.2)

            timer = threading.Timer(1.5, stop)
            with through, direct:
                timer.start()
                timer.join()
                drained.process.wait(timeout=20)
                time.sleep(0.5)
                direct.stop()  # its clients now meet a closed port: enough of that

    def failed(hits, allowed=()):
        return [hit for hit in hits if not 200 <= hit.status < 300 and not hit.error.startswith(allowed)]

    # The server's own clients: after the socket closed, new connections are refused, which is no
    # reset (nothing was sent); what was in progress or queued was answered.
    refused = [hit for hit in direct.hits if hit.error.startswith("ConnectionRefusedError")]
    print(
        f"\nstop under load, {drain} s drain: through the front {stack.summary(through.hits)}; "
        f"straight to the server {stack.summary(direct.hits)} ({len(refused)} refused after its stop); "
        f"/healthz during the grace: {sorted({status for status, _ in health})}"
    )
    assert not failed(through.hits), failed(through.hits)[:5]
    assert not failed(direct.hits, allowed=("ConnectionRefusedError",)), failed(direct.hits)[:5]
    assert len(through.hits) > 100 and len(direct.hits) > 20
    assert health and all(status == 503 and json.loads(body)["status"] == "draining" for status, body in health)
    assert served and set(served) == {200}  # pages are still served during the grace
    assert drained.process.returncode == 0


# ---- security headers on the servers' own error answers ----


@pytest.mark.parametrize(
    ("status", "request_bytes"),
    [
        (400, b"GARBAGE\r\n\r\n"),
        (414, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        (431, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-%d: a\r\n" % n for n in range(120)) + b"\r\n"),
    ],
)
def test_gunicorn_s_own_error_answers_carry_the_app_s_security_headers(site, page_headers, status, request_bytes):
    answer, headers, body = raw(site.servers[0].port, request_bytes)
    assert answer == status and b"<!doctype html>" in body  # gunicorn's parser answered, not the app
    assert "X-Page-Cache" not in headers
    assert_security_headers(headers, page_headers, f"gunicorn's {status}")


@pytest.fixture(scope="module")
def dead_front(site):
    """A front whose only app server is not running."""
    port = stack.free_ports(2)
    with stack.nginx(site.env, [f"127.0.0.1:{stack.free_port()}"], port, port + 1, site.folder, name="dead") as front:
        yield front


@pytest.mark.parametrize(
    ("status", "request_bytes"),
    [
        (400, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        (400, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"),
        (414, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        (413, b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000000\r\n\r\n"),
        (404, b"GET /static/peaceplans/nothing-here.css HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    ],
)
def test_nginx_s_own_error_answers_carry_the_app_s_security_headers(site, page_headers, status, request_bytes):
    answer, headers, body = raw(port_of(site.front.http_url), request_bytes)
    assert answer == status and headers["Server"] == "nginx"
    assert b"peaceplans" in body and headers["Cache-Control"] == "no-store"  # our page, never kept
    assert_security_headers(headers, page_headers, f"nginx's {status}")


def test_nginx_s_502_with_every_app_server_down_carries_them_too(dead_front, page_headers):
    status, headers, body = stack.get(dead_front.http_url + "/", {"Host": "127.0.0.1"})
    assert status == 502 and b"restarting or busy" in body
    assert_security_headers(headers, page_headers, "nginx's 502")


# ---- forwarded headers ----


def api_scheme(base: str, headers: dict | None = None, context=None) -> str:
    """The scheme of the absolute links in an API answer: what the app believes the request came over."""
    if context is not None:
        host, port = base.removeprefix("https://").split(":")
        conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
        conn.request("GET", "/api/v1/plans/", headers=headers or {})
        body = conn.getresponse().read()
    else:
        _, _, body = stack.get(base + "/api/v1/plans/", headers)
    return json.loads(body)["results"][0]["url"].split("://")[0]


@pytest.fixture(scope="module")
def make_run(site):
    """gunicorn as `make run` starts it (the Makefile's command: no front, --forwarded-allow-ips ''), 1 worker."""
    sys.path.insert(0, str(stack.ROOT / "tests" / "bench"))
    from bench_http import make_run_command

    port = stack.free_port()
    command = make_run_command(port, site.folder / "make-run.pid")
    command[command.index("--workers") + 1] = "1"
    env = {**site.env, "PEACEPLANS_DRAIN_SECONDS": "60"}  # as long as the test below may take
    with (site.folder / "make-run.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=stack.ROOT, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            stack.wait_until(lambda: stack.get(base + "/healthz", timeout=2)[0] == 200, seconds=60, what="make run")
            yield base, process, command
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # the drain, then stop_pid's second SIGTERM: at once
            stack.stop_pid(process.pid)


def test_x_forwarded_proto_is_believed_from_the_front_only(site, make_run):
    spoof = {"X-Forwarded-Proto": "https"}
    tls = ssl.create_default_context(cafile=str(site.front.certificate))
    # gunicorn as `make run` starts it, reached from 127.0.0.1: the header is ignored (not HTTPS).
    base, _, command = make_run
    assert command[command.index("--forwarded-allow-ips") + 1] == ""
    assert api_scheme(base) == "http"
    assert api_scheme(base, spoof) == "http"
    # The cluster's app servers believe it from the front's address (here any loopback client)...
    assert api_scheme(site.urls[0], spoof) == "https"
    # ...and the front overwrites what a client sends: the scheme is the one the client used.
    assert api_scheme(site.front.http_url, spoof) == "http"
    assert api_scheme(site.front.url, context=tls) == "https"
    assert api_scheme(site.front.url, {"X-Forwarded-Proto": "http"}, context=tls) == "https"


def test_a_second_sigterm_ends_the_drain_at_once(make_run):
    base, process, _ = make_run
    process.send_signal(signal.SIGTERM)
    stack.wait_until(lambda: stack.get(base + "/healthz", timeout=2)[0] == 503, seconds=5, what="draining")
    assert stack.get(base + "/", timeout=5)[0] == 200  # still serving, for 60 s
    again = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    print(f"\nstopped {time.monotonic() - again:.1f} s after the second SIGTERM (drain: 60 s)")
    assert time.monotonic() - again < 10


# ---- static files ----


def static_names(site) -> dict[str, str]:
    manifest = json.loads((Path(site.env["DJANGO_STATIC_ROOT"]) / "staticfiles.json").read_text())
    return manifest["paths"]


@pytest.mark.parametrize("name", ["peaceplans/app.css", "peaceplans/embed-host.js"])
@pytest.mark.parametrize("hashed", [True, False])
def test_nginx_serves_static_files_itself_with_whitenoise_s_headers(site, dead_front, name, hashed):
    path = "/static/" + (static_names(site)[name] if hashed else name)
    status, app, app_body = stack.get(site.urls[0] + path, {"Accept-Encoding": "identity"})
    assert status == 200 and app["Server"] == "gunicorn"
    compared = [*SECURITY_HEADERS, "Cache-Control", "Access-Control-Allow-Origin"]
    for front in (site.front, dead_front):  # the dead front has no app server at all
        status, served, body = stack.get(front.http_url + path, {"Accept-Encoding": "identity"})
        assert status == 200 and served["Server"] == "nginx" and body == app_body
        assert {h: served.get(h) for h in compared} == {h: app.get(h) for h in compared}, path
