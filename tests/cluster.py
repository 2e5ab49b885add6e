"""
`make cluster`: the production layout on one machine. One private PostgreSQL cluster, one Redis, two
gunicorn instances (as `make run` starts gunicorn) and nginx in front of them (peaceplans/ops/nginx/,
rendered as in production), all on 127.0.0.1, over the same database and cache, with the demo data
loaded. Prints the addresses, the front's first, and runs until Ctrl-C or SIGTERM, then stops every
server by its PID and removes the PostgreSQL folder.

    .venv/bin/python tests/cluster.py [--port 8001] [--pg-port N] [--redis-port N] [--workers 2] [--drain-seconds 10]

The front serves HTTPS on PORT (a throwaway self-signed certificate made for this run) and the same
site over plain HTTP on PORT+1; the app servers listen on PORT+2 and PORT+3 and trust the forwarded
headers from the front's address only. PostgreSQL and Redis on free ports unless given. The secret
key is DJANGO_SECRET_KEY when set, else a random one for this run (both instances share it, so a
session or a CSRF token from one is good on the other, as behind a load balancer). A SIGTERM to an
app server's master drains it (--drain-seconds, PEACEPLANS_DRAIN_SECONDS) before it stops.
tests/ops/test_cluster.py and tests/ops/test_front.py run `cluster()` themselves and prove what
the layout promises.
"""

import argparse
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import stack  # noqa: E402

# The address the front's requests come from: the only one whose forwarded headers the app servers trust.
FRONT_ADDRESS = "127.0.0.1"


@dataclass
class Cluster:
    env: dict  # the app's environment: DATABASE_URL, REDIS_URL, the secret, the static root
    urls: list[str]  # the app servers, each reached directly
    servers: list[stack.Gunicorn]
    postgres: stack.Postgres
    redis: stack.Redis
    front: stack.Nginx  # nginx in front of both: front.url (HTTPS), front.http_url
    folder: Path  # where the servers keep their PID files and logs


@contextmanager
def cluster(
    folder: Path,
    *,
    port: int = 0,
    pg_port: int,
    redis_port: int,
    workers: int = 2,
    secret_key: str = "",
    drain_seconds: float = 0,
):
    """
    Everything started in order and stopped in reverse, by PID, also on error or interruption. The
    front on `port` (HTTPS) and port+1 (HTTP), the app servers on port+2 and port+3; with port 0,
    free ports, each picked just before its server starts (a port picked before the migrations
    may be some client connection's by the time the server binds it).
    """
    with ExitStack() as stack_:
        pg = stack_.enter_context(stack.postgres(pg_port))
        cache = stack_.enter_context(stack.redis(redis_port, folder))
        env = stack.app_env(folder, database_url=pg.url, redis_url=cache.url)
        if secret_key:
            env["DJANGO_SECRET_KEY"] = secret_key
        stack.prepare(env)
        servers = []
        for n, name in enumerate(("app1", "app2")):
            server = stack.gunicorn(
                env,
                port + 2 + n if port else stack.free_port(),
                folder,
                workers=workers,
                name=name,
                log=folder / f"{name}.log",
                forwarded_allow_ips=FRONT_ADDRESS,
                drain_seconds=drain_seconds,
            )
            servers.append(stack_.enter_context(server))
        upstreams = [f"127.0.0.1:{server.port}" for server in servers]
        front_port = port or stack.free_ports(2)
        front = stack_.enter_context(stack.nginx(env, upstreams, front_port, front_port + 1, folder))
        yield Cluster(env, [server.url for server in servers], servers, pg, cache, front, folder)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--port",
        type=int,
        default=8001,
        help="the front's HTTPS port; its HTTP PORT+1, the app servers PORT+2 and PORT+3",
    )
    parser.add_argument("--pg-port", type=int, default=0, help="PostgreSQL's port (default: a free one)")
    parser.add_argument("--redis-port", type=int, default=0, help="Redis's port (default: a free one)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app server")
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=float(os.environ.get("PEACEPLANS_DRAIN_SECONDS") or 10),
        help="an app server's grace between a SIGTERM and its stop (PEACEPLANS_DRAIN_SECONDS, default 10)",
    )
    args = parser.parse_args(argv)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    folder = Path(tempfile.mkdtemp(prefix="peaceplans-cluster."))
    secret = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
    started = time.monotonic()
    try:
        print("==> starting PostgreSQL and Redis, loading the demo, two gunicorn instances, nginx", flush=True)
        with cluster(
            folder,
            port=args.port,
            pg_port=args.pg_port or stack.free_port(),
            redis_port=args.redis_port or stack.free_port(),
            workers=args.workers,
            secret_key=secret,
            drain_seconds=args.drain_seconds,
        ) as running:
            print(f"==> ready in {time.monotonic() - started:.1f} s")
            front = running.front
            print(f"    the front (nginx): {front.url}/  (self-signed: curl -k, or --cacert {front.certificate})")
            print(f"      same site over plain HTTP: {front.http_url}/  (nginx PID {front.pid()}, {front.folder})")
            for n, (url, server) in enumerate(zip(running.urls, running.servers, strict=True), 1):
                print(f"    app server {n}: {url}/  (gunicorn master PID {server.master()}, log {folder}/app{n}.log)")
            pg = running.postgres
            print(f"    PostgreSQL: {pg.url} (PID {pg.pid()}, folder {pg.folder})")
            print(f"    Redis: {running.redis.url} (PID {running.redis.process.pid})")
            print(f"    an editor: DJANGO_DEBUG=1 DATABASE_URL={pg.url} {sys.executable} manage.py create_editor NAME")
            print("==> Ctrl-C stops everything", flush=True)
            # One app server stopped (a drain tried by hand, say): the front serves from the other.
            gone: set[int] = set()
            while front.process.poll() is None and len(gone) < len(running.servers):
                for n, server in enumerate(running.servers, 1):
                    if n not in gone and server.process.poll() is not None:
                        gone.add(n)
                        print(f"==> app server {n} exited ({server.process.returncode})", flush=True)
                time.sleep(0.5)
            print("==> the front or every app server exited; stopping the rest", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("\n==> stopped every server by its PID and removed the PostgreSQL folder")
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
