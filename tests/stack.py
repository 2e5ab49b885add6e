"""
The servers of a production layout, started on loopback for tests and `make cluster`: a private
throwaway PostgreSQL cluster, Redis, and gunicorn as `make run` configures it, plus a small load
driver. Each server runs on 127.0.0.1 only, on the port it is given, and is stopped by its PID in a
`finally`, also when the block raises. A missing binary skips the test that asked for it, with
the reason (`Missing`, a pytest skip, outside pytest a plain error).

No Django imports here: the app runs in the servers, and this module only drives them.
"""

import gzip
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SECRET_KEY = "stack-only-secret-key-not-for-production-peaceplans-0123456789"
# Variables that would point the app somewhere else than the stack's own servers.
FOREIGN_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_STATICFILES_STORAGE",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_SECURE_HTTPS",
    "DJANGO_BEHIND_PROXY",
    "PEACEPLANS_FEATURED_PLAN",
)
# As in the Makefile's `run` (and tests/browser/conftest.py): gunicorn through peaceplans/ops/server.py
# (draining, its own error answers with the security headers), the request-line limit at its maximum.
GUNICORN = [sys.executable, "-m", "peaceplans.ops.server", "peaceplans.wsgi:application"]
GUNICORN_FLAGS = ["--no-control-socket", "--limit-request-line", "8190"]


def missing(reason: str):
    """Skip (under pytest) or fail (a script) when a binary is absent."""
    if "pytest" in sys.modules:
        import pytest

        pytest.skip(reason)
    raise SystemExit(reason)


def need(path: Path | str, hint: str) -> str:
    found = shutil.which(str(path))
    if not found:
        missing(f"{path} not found ({hint})")
    return found


def free_port() -> int:
    """A loopback port nothing listens on now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(count: int) -> int:
    """The first of `count` consecutive loopback ports nothing listens on now (for a server at PORT, PORT+1...)."""
    for _ in range(100):
        first = free_port()
        if first + count - 1 > 65535:
            continue
        sockets = []
        try:
            for port in range(first, first + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError(f"no {count} consecutive free loopback ports")


def wait_until(check, *, seconds: float, what: str, poll: float = 0.05):
    """Call `check` until it returns something true; its value. RuntimeError after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(poll)


def stop_pid(pid: int, *, sig=signal.SIGTERM, seconds: float = 15) -> None:
    """Signal one process by its PID and wait for it to go; SIGKILL if it outstays `seconds`."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)  # our child: reap it
            if done:
                return
        except ChildProcessError:  # not our child: watch /proc
            if not Path(f"/proc/{pid}").exists() or _zombie(pid):
                return
        time.sleep(0.05)
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


# ---- PostgreSQL ----


@dataclass
class Postgres:
    port: int
    folder: Path
    url: str
    options: str

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def pid(self) -> int | None:
        """The postmaster's PID, from its own PID file (first line); None when it is not running."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args], timeout=timeout)

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every connection is cut; returns once it accepts connections again."""
        self.ctl("restart", "-m", "fast", "-w", "-o", self.options, "-l", str(self.folder / "log"))


def as_postgres(command: list[str], *, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a PostgreSQL binary as the postgres user (runuser when we are root), from /."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, cwd="/", capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


@contextmanager
def postgres(port: int, *, database: str = "peaceplans"):
    """A throwaway PostgreSQL cluster on 127.0.0.1:port (fsync off), with `database` created; yields a Postgres."""
    if not (PG_BIN / "initdb").exists():
        missing(f"PostgreSQL binaries not found in {PG_BIN} (apt-get install -y postgresql)")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        missing("runuser not found (util-linux), needed to run PostgreSQL as the postgres user")
    folder = Path(tempfile.mkdtemp(prefix="peaceplans-pg.", dir="/tmp"))
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    pg = Postgres(port, folder, f"postgres://postgres@127.0.0.1:{port}/{database}", options)
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        as_postgres([str(PG_BIN / "initdb"), "-D", str(pg.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"])
        pg.ctl("start", "-w", "-o", options, "-l", str(folder / "log"))
        as_postgres([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database])
        yield pg
    finally:
        pid = pg.pid()
        if pid:
            stop_pid(pid, sig=signal.SIGINT, seconds=20)  # SIGINT: PostgreSQL's fast shutdown
        shutil.rmtree(folder, ignore_errors=True)


# ---- Redis ----


@dataclass
class Redis:
    port: int
    url: str
    process: subprocess.Popen
    pid_file: Path

    def stop(self) -> None:
        """Stop it now, by its PID (the test's fault); safe to call twice."""
        if self.process.poll() is None:
            stop_pid(self.process.pid)


@contextmanager
def redis(port: int, folder: Path, *, maxmemory: str = "64mb"):
    """
    redis-server on 127.0.0.1:port, nothing persisted, not daemonized (so its PID is ours); yields a
    Redis. Bounded as docs/operations.md asks of production: at `maxmemory` it evicts the least
    recently used keys (every key is a page that can be rendered again), never refuses a write.
    """
    binary = need("redis-server", "apt-get install -y redis-server")
    pid_file = folder / f"redis-{port}.pid"
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    command += ["--maxmemory", maxmemory, "--maxmemory-policy", "allkeys-lru"]
    command += ["--daemonize", "no", "--pidfile", str(pid_file), "--dir", str(folder), "--loglevel", "warning"]
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, start_new_session=True)
    server = Redis(port, f"redis://127.0.0.1:{port}/0", process, pid_file)
    try:
        wait_until(lambda: process.poll() is not None or _accepts(port), seconds=10, what=f"redis on {port}")
        if process.poll() is not None:
            raise RuntimeError(f"redis-server on port {port} exited with {process.returncode}")
        yield server
    finally:
        server.stop()


def _accepts(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


# ---- the app ----


def app_env(folder: Path, *, database_url: str, redis_url: str = "", **extra: str) -> dict:
    """The environment `make run` gives the app (DEBUG off), on the stack's database and cache."""
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN_ENV}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=SECRET_KEY,
        DATABASE_URL=database_url,
        DJANGO_STATIC_ROOT=str(folder / "static"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def manage(env: dict, *args: str, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """manage.py with the app's environment; raises with its output when it fails."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def prepare(env: dict) -> None:
    """What `make run` does before serving: migrate, load the demo, collect the static files (once)."""
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_demo")
    manage(env, "collectstatic", "--noinput", "-v0")


@dataclass
class Gunicorn:
    port: int
    url: str
    process: subprocess.Popen
    pid_file: Path

    def master(self) -> int:
        return int(self.pid_file.read_text().strip())

    def workers(self) -> set[int]:
        """The master's children (its workers), from /proc."""
        children: set[int] = set()
        for task in Path(f"/proc/{self.master()}/task").glob("*"):
            try:
                children |= {int(pid) for pid in (task / "children").read_text().split()}
            except OSError:
                continue
        return {pid for pid in children if not _zombie(pid)}


@contextmanager
def gunicorn(
    env: dict,
    port: int,
    folder: Path,
    *,
    workers: int = 2,
    name: str = "gunicorn",
    log: Path | None = None,
    forwarded_allow_ips: str = "",
    drain_seconds: float = 0,
):
    """
    The app under gunicorn as `make run` starts it, on 127.0.0.1:port; stopped by the master's PID.
    `forwarded_allow_ips`: the front's address when there is one (gunicorn then believes its
    X-Forwarded-Proto), none otherwise. `drain_seconds`: PEACEPLANS_DRAIN_SECONDS, the grace between
    a SIGTERM and the stop (0 unless a test is about it; the stop at the end of the block skips it).
    """
    if shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None:
        missing(f"gunicorn is not installed next to {sys.executable} (pip install -r requirements.txt)")
    pid_file = folder / f"{name}.pid"
    command = [*GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--pid", str(pid_file)]
    command += [*GUNICORN_FLAGS, "--forwarded-allow-ips", forwarded_allow_ips]
    command += ["--graceful-timeout", "10", "--log-level", "warning"]
    env = {**env, "PEACEPLANS_DRAIN_SECONDS": str(drain_seconds)}
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    # Own session: a Ctrl-C at the terminal reaches the driver, which stops the servers in order.
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out, start_new_session=True)
    server = Gunicorn(port, f"http://127.0.0.1:{port}", process, pid_file)
    try:
        wait_until(
            lambda: process.poll() is not None or (pid_file.exists() and get(server.url + "/healthz")[0] == 200),
            seconds=60,
            what=f"gunicorn on {port}",
            poll=0.2,
        )
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn on port {port} exited with {process.returncode} (log: {log})")
        wait_until(lambda: len(server.workers()) >= workers, seconds=30, what=f"{workers} gunicorn workers")
        yield server
    finally:
        if process.poll() is None:
            if drain_seconds:  # the first SIGTERM starts the drain; stop_pid's second one stops at once
                with suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
            stop_pid(process.pid, seconds=20)
        if log:
            out.close()


# ---- the front: nginx ----


@dataclass
class Nginx:
    url: str  # https://127.0.0.1:port (a throwaway self-signed certificate: `certificate`)
    http_url: str  # the same site over plain HTTP, for tests that need no TLS
    process: subprocess.Popen
    folder: Path
    certificate: Path

    def pid(self) -> int:
        return self.process.pid


def certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 and localhost (openssl): (certificate, key)."""
    openssl = need("openssl", "apt-get install -y openssl")
    cert, key = folder / "front.crt", folder / "front.key"
    done = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"openssl could not make a certificate:\n{done.stderr}")
    return cert, key


def nginx_main(home: Path, site: Path) -> Path:
    """What Debian's /etc/nginx/nginx.conf gives a site file, with every path of nginx's own under `home`."""
    user = ""
    if os.geteuid() == 0:  # nginx's workers would otherwise run as nobody, who cannot read the test folders
        user = "user root root;\n"
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "\n".join(f"    {kind}_temp_path {home / kind};" for kind in kinds)
    main = home / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 2;\npid {home / 'nginx.pid'};\nerror_log {home / 'error.log'} warn;\n"
        "events {\n    worker_connections 1024;\n}\n"
        "http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"    sendfile on;\n    access_log {home / 'access.log'};\n{temp}\n    include {site};\n}}\n"
    )
    return main


@contextmanager
def nginx(env: dict, upstreams: list[str], port: int, http_port: int, folder: Path, *, name: str = "nginx"):
    """
    The production front (peaceplans/ops/nginx/, rendered with the app's `env` by the same command as
    in production) on 127.0.0.1: HTTPS on `port`, the same site over plain HTTP on `http_port`, in
    front of `upstreams` (HOST:PORT). Runs as the current user in the foreground, with its PID, logs
    and buffers under folder/name; stopped by its PID. Yields an Nginx.
    """
    binary = need("nginx", "apt-get install -y nginx")
    home = folder / name
    home.mkdir(parents=True, exist_ok=True)
    cert, key = certificate(home)
    site = home / "peaceplans.conf"
    render = [sys.executable, "-m", "peaceplans.ops.nginx", "--output", str(site), "--plain-http", "serve"]
    render += ["--server-name", "127.0.0.1", "--server-name", "localhost", "--certificate", str(cert)]
    render += ["--certificate-key", str(key), "--https-listen", f"127.0.0.1:{port}"]
    render += ["--http-listen", f"127.0.0.1:{http_port}"]
    for upstream in upstreams:
        render += ["--upstream", upstream]
    done = subprocess.run(render, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rendering the nginx configuration failed:\n{done.stdout}\n{done.stderr}")
    main = nginx_main(home, site)
    command = [binary, "-p", str(home), "-c", str(main), "-e", str(home / "error.log"), "-g", "daemon off;"]
    with open(home / "stderr.log", "wb") as out:
        process = subprocess.Popen(command, cwd=home, stdout=out, stderr=out, start_new_session=True)
    front = Nginx(f"https://127.0.0.1:{port}", f"http://127.0.0.1:{http_port}", process, home, cert)
    try:
        # nginx writes its PID file once it has bound its ports (not when another server holds them).
        pid_file = home / "nginx.pid"
        wait_until(
            lambda: (
                process.poll() is not None or (pid_file.exists() and pid_file.read_text().strip() == str(process.pid))
            ),
            seconds=10,
            what=f"nginx on {port} and {http_port}",
        )
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}:\n{(home / 'stderr.log').read_text()}")
        yield front
    finally:
        if process.poll() is None:
            stop_pid(process.pid, sig=signal.SIGQUIT)  # QUIT: nginx's graceful stop


def get(url: str, headers: dict | None = None, timeout: float = 10) -> tuple[int, dict, bytes]:
    """One GET: (status, headers, body); status 0 when the connection failed."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except OSError:
        return 0, {}, b""


def demo_paths(base: str, plan: str = "russia-ukraine-2025") -> list[tuple[str, dict]]:
    """
    One address of each kind, read from the running app's API: the overview, a comparison of the
    first and last texts, a point, a search, an HTMX partial (the point's wording, HX-Request) and
    an API endpoint. (path, extra headers) pairs.
    """
    import json
    from urllib.parse import quote, urlencode

    status, _, body = get(f"{base}/api/v1/plans/{plan}/revisions/")
    if status != 200:
        raise RuntimeError(f"the API answered {status} for the revisions of {plan}")
    revisions = [r["slug"] for r in _items(json.loads(body))]
    status, _, body = get(f"{base}/api/v1/plans/{plan}/points/")
    points = [p["key"] for p in _items(json.loads(body))]
    point = quote(points[0])
    return [
        (f"/plans/{plan}/", {}),
        (f"/plans/{plan}/compare/?{urlencode({'a': revisions[0], 'b': revisions[-1]})}", {}),
        (f"/plans/{plan}/points/{point}/", {}),
        ("/search/?q=ukraine", {}),
        (f"/plans/{plan}/points/{point}/?{urlencode({'against': revisions[0]})}", {"HX-Request": "true"}),
        (f"/api/v1/plans/{plan}/points/{point}/", {}),
    ]


def _items(data):
    if isinstance(data, list):
        return data
    for key in ("results", "items", "data", "revisions", "points"):
        if isinstance(data.get(key), list):
            return data[key]
    raise RuntimeError(f"no list in the API's answer: {sorted(data)}")


# ---- the load driver ----


@dataclass
class Hit:
    start: float  # time.monotonic() when the request was sent
    end: float
    path: str
    status: int  # 0: no HTTP answer
    error: str = ""  # the connection error, if any
    body: bytes = b""  # kept (decompressed) for answers outside 2xx only
    headers: dict = field(default_factory=dict)  # likewise


@dataclass
class Load:
    """
    A bounded load: `threads` clients, each sending one request at a time (a new connection each,
    as gunicorn's sync workers close them) over `paths` in turn, until `seconds` have passed.
    Every request is recorded: when, its status, and the connection error if there was one.
    """

    base: str
    paths: list[tuple[str, dict]]
    threads: int = 4
    seconds: float = 10
    timeout: float = 10
    hits: list[Hit] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        host, _, port = self.base.removeprefix("http://").partition(":")
        self._host, self._port = host, int(port or 80)

    def start(self) -> "Load":
        self.started = time.monotonic()
        for n in range(self.threads):
            worker = threading.Thread(target=self._run, args=(n,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> None:
        """End the run early: each client stops after its request in progress."""
        self._stop.set()

    def join(self) -> list[Hit]:
        for worker in self._workers:
            worker.join(self.seconds + self.timeout + 5)
        self._stop.set()
        return self.hits

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *exc):
        if exc_type is not None:  # the test failed inside the block: stop early
            self._stop.set()
        self.join()

    def _run(self, n: int) -> None:
        turn = n
        deadline = self.started + self.seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            path, headers = self.paths[turn % len(self.paths)]
            turn += 1
            hit = self.one(path, headers)
            with self._lock:
                self.hits.append(hit)

    def one(self, path: str, headers: dict) -> Hit:
        start = time.monotonic()
        connection = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        try:
            connection.request("GET", path, headers={"Accept-Encoding": "gzip", **headers})
            response = connection.getresponse()
            body = response.read()
            status = response.status
            if 200 <= status < 300:
                return Hit(start, time.monotonic(), path, status)
            headers = dict(response.getheaders())
            if headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            return Hit(start, time.monotonic(), path, status, body=body, headers=headers)
        except (OSError, http.client.HTTPException) as error:
            return Hit(start, time.monotonic(), path, 0, error=f"{type(error).__name__}: {error}")
        finally:
            connection.close()


def summary(hits: list[Hit]) -> dict:
    """Counts by outcome: requests, 2xx, by status, connection errors."""
    by_status: dict[int, int] = {}
    for hit in hits:
        by_status[hit.status] = by_status.get(hit.status, 0) + 1
    return {
        "requests": len(hits),
        "ok": sum(1 for hit in hits if 200 <= hit.status < 300),
        "by_status": dict(sorted(by_status.items())),
        "errors": sum(1 for hit in hits if hit.status == 0),
    }


def token() -> str:
    return secrets.token_hex(4)


# ---- signing in ----


class Browser:
    """A cookie jar over urllib, for the admin's forms (CSRF token from the form, cookies kept)."""

    def __init__(self, base: str):
        import http.cookiejar

        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.jar if c.name == name), "")

    def request(self, path: str, data: dict | list | None = None, base: str = "") -> tuple[int, dict, str]:
        from urllib.parse import urlencode

        url = (base or self.base) + path
        body = urlencode(data, doseq=True).encode() if data is not None else None
        headers = {"Referer": url} if body else {}
        try:
            with self.opener.open(urllib.request.Request(url, data=body, headers=headers), timeout=15) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def form(self, path: str, form_id: str | None = None) -> list[tuple[str, str]]:
        """The fields of a form on the page as it would submit them (the first form, or `form_id`)."""
        status, _, html = self.request(path)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
        parser = _Form(form_id)
        parser.feed(html)
        return parser.fields

    def sign_in(self, username: str, password: str, base: str = "") -> int:
        """The admin's login form, CSRF included; the status of the POST (302 when signed in)."""
        fields = dict(self.form_at("/admin/login/", base))
        fields.update(username=username, password=password)
        return self.request("/admin/login/?next=/admin/", fields, base=base)[0]

    def form_at(self, path: str, base: str = "") -> list[tuple[str, str]]:
        saved, self.base = self.base, base or self.base
        try:
            return self.form(path)
        finally:
            self.base = saved


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class _Form(HTMLParser):
    """Successful controls of one form: inputs (checked boxes only), textareas, selected options."""

    def __init__(self, form_id: str | None):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.done = form_id, False, False
        self.fields: list[tuple[str, str]] = []
        self.textarea: str | None = None
        self.select: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and (self.form_id is None or a.get("id") == self.form_id):
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type", "text") not in ("submit", "button", "file", "image", "reset"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value") or ("on" if a.get("type") == "checkbox" else "")))
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a.get("value", "")))

    def handle_data(self, data):
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None
        elif tag == "select":
            self.select = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True
