"""
`make cluster`: the production layout on one machine. One private PostgreSQL cluster, one Redis and
two gunicorn instances (as `make run` starts gunicorn), all on 127.0.0.1, over the same database and
cache, with the demo data loaded. Prints the addresses and runs until Ctrl-C or SIGTERM, then stops
every server by its PID and removes the PostgreSQL folder.

    .venv/bin/python tests/cluster.py [--port 8001] [--pg-port N] [--redis-port N] [--workers 2]

The app servers listen on PORT and PORT+1; PostgreSQL and Redis on free ports unless given. The
secret key is DJANGO_SECRET_KEY when set, else a random one for this run (both instances share it,
so a session or a CSRF token from one is good on the other, as behind a load balancer).
tests/ops/test_cluster.py runs `cluster()` itself and proves what the layout promises.
"""

import argparse
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


@dataclass
class Cluster:
    env: dict  # the app's environment: DATABASE_URL, REDIS_URL, the secret, the static root
    urls: list[str]
    servers: list[stack.Gunicorn]
    postgres: stack.Postgres
    redis: stack.Redis


@contextmanager
def cluster(folder: Path, *, port: int, pg_port: int, redis_port: int, workers: int = 2, secret_key: str = ""):
    """Everything started in order and stopped in reverse, by PID, also on error or interruption."""
    with ExitStack() as stack_:
        pg = stack_.enter_context(stack.postgres(pg_port))
        cache = stack_.enter_context(stack.redis(redis_port, folder))
        env = stack.app_env(folder, database_url=pg.url, redis_url=cache.url)
        if secret_key:
            env["DJANGO_SECRET_KEY"] = secret_key
        stack.prepare(env)
        servers = []
        for n, name in enumerate(("app1", "app2")):
            server = stack.gunicorn(env, port + n, folder, workers=workers, name=name, log=folder / f"{name}.log")
            servers.append(stack_.enter_context(server))
        yield Cluster(env, [server.url for server in servers], servers, pg, cache)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8001, help="the first app server's port; the second is PORT+1")
    parser.add_argument("--pg-port", type=int, default=0, help="PostgreSQL's port (default: a free one)")
    parser.add_argument("--redis-port", type=int, default=0, help="Redis's port (default: a free one)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app server")
    args = parser.parse_args(argv)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    folder = Path(tempfile.mkdtemp(prefix="peaceplans-cluster."))
    secret = stack.os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
    started = time.monotonic()
    try:
        print("==> starting PostgreSQL, Redis, migrating and loading the demo, then two gunicorn instances", flush=True)
        with cluster(
            folder,
            port=args.port,
            pg_port=args.pg_port or stack.free_port(),
            redis_port=args.redis_port or stack.free_port(),
            workers=args.workers,
            secret_key=secret,
        ) as running:
            print(f"==> ready in {time.monotonic() - started:.1f} s")
            for n, (url, server) in enumerate(zip(running.urls, running.servers, strict=True), 1):
                print(f"    app server {n}: {url}/  (gunicorn master PID {server.master()}, log {folder}/app{n}.log)")
            pg = running.postgres
            print(f"    PostgreSQL: {pg.url} (PID {pg.pid()}, folder {pg.folder})")
            print(f"    Redis: {running.redis.url} (PID {running.redis.process.pid})")
            print(f"    an editor: DJANGO_DEBUG=1 DATABASE_URL={pg.url} {sys.executable} manage.py create_editor NAME")
            print("==> Ctrl-C stops everything", flush=True)
            while all(server.process.poll() is None for server in running.servers):
                time.sleep(0.5)
            print("==> an app server exited; stopping the rest", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("\n==> stopped every server by its PID and removed the PostgreSQL folder")
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
