"""
gunicorn as peaceplans runs it: `make run`, `make cluster` and the server tests start the app with

    .venv/bin/python -m peaceplans.ops.server peaceplans.wsgi:application --bind ADDRESS [gunicorn options]

It takes every gunicorn option and changes four things (issue 19, items 4 and 9):

- **Draining.** The first SIGTERM does not stop the server: the master sets the draining flag
  (ops/draining.py, shared with every worker), so /healthz answers 503 "draining", and keeps serving
  for PEACEPLANS_DRAIN_SECONDS (default 10; 0 stops at once) while a load balancer takes the server
  out. Then it stops as gunicorn does: it closes its socket and lets each worker finish its request.
  A second SIGTERM, or SIGINT/SIGQUIT, stops at once (SIGINT and SIGQUIT without waiting for requests).
- **Nothing queued is reset.** A stopping gunicorn closes its listening socket while connections
  wait in the kernel's queue, and the kernel resets them. Here, when the server stops, the workers
  first tell the kernel to take no new connection on the socket (a socket filter that drops every
  new SYN: the client retries it a second later, and finds the socket closed or a new server), then
  answer every connection already queued, and only then exit.
- **gunicorn's own error answers** (400, 414, 431... from its HTTP parser, before the app sees the
  request) carry the app's security headers, taken from the app's own middleware at start.
- **Forwarded headers are trusted from nobody** unless --forwarded-allow-ips names the front (or
  FORWARDED_ALLOW_IPS is set): gunicorn's default trusts X-Forwarded-Proto from 127.0.0.1, so any
  local process could make a request look like HTTPS.

The worker class is this module's `Worker` (gunicorn's sync worker plus the above); another -k
gives gunicorn's plain behaviour for those two worker parts. docs/operations.md, "Deploying without
dropping requests", gives the deploy order and a systemd unit.
"""

import ctypes
import errno
import html
import io
import mmap
import os
import socket
import struct
import sys
import time

from gunicorn import util  # type: ignore[import-untyped]
from gunicorn.app.wsgiapp import WSGIApplication  # type: ignore[import-untyped]
from gunicorn.arbiter import Arbiter  # type: ignore[import-untyped]
from gunicorn.workers.sync import SyncWorker  # type: ignore[import-untyped]

from peaceplans.ops import draining

DRAIN_SECONDS_DEFAULT = 10.0
WORKER_CLASS = "peaceplans.ops.server.Worker"

# Set by the master just before it tells its workers to stop, when the listening sockets are its
# alone (not inherited by a new master after USR2, not systemd's): only then may a worker close
# the socket to new connections. Shared with the workers like the draining flag (forked after this).
_closing = mmap.mmap(-1, 1)

# A classic BPF socket filter of one instruction, "return 0": every packet to the socket is dropped.
# On a listening TCP socket that means every new SYN; connections already queued have sockets of
# their own and are unaffected (Linux; SO_ATTACH_FILTER is 26 there).
SO_ATTACH_FILTER = getattr(socket, "SO_ATTACH_FILTER", 26)
BPF_RET_K = 0x06


def drain_seconds() -> float:
    """PEACEPLANS_DRAIN_SECONDS as a number of seconds >= 0; SystemExit with the reason otherwise."""
    raw = os.environ.get("PEACEPLANS_DRAIN_SECONDS", "").strip()
    if not raw:
        return DRAIN_SECONDS_DEFAULT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 3600:
        raise SystemExit(f"PEACEPLANS_DRAIN_SECONDS must be a number of seconds from 0 to 3600, not {raw!r}")
    return seconds


class DrainingArbiter(Arbiter):
    """gunicorn's master, with a grace period between the first SIGTERM and the stop."""

    drain_for = DRAIN_SECONDS_DEFAULT
    drain_until: float | None = None

    def __init__(self, app):
        super().__init__(app)
        # A re-exec (USR2) starts this module again, not the path of its file.
        self.START_CTX["args"] = [sys.executable, "-m", __name__, *sys.argv[1:]]

    def handle_term(self):
        if self.drain_until is not None or self.drain_for <= 0:
            raise StopIteration  # a second SIGTERM, or no grace: stop now, as gunicorn does
        draining.begin()
        self.drain_until = time.monotonic() + self.drain_for
        self.log.info(
            "Draining: /healthz answers 503 for %g s while requests are served, then stopping", self.drain_for
        )

    def wait_for_signals(self, timeout=1.0):
        if self.drain_until is not None:
            left = self.drain_until - time.monotonic()
            if left <= 0:
                self.log.info("Drained: stopping")
                raise StopIteration  # the main loop's way to a graceful stop (Arbiter.run: halt())
            timeout = min(timeout, left)
        return super().wait_for_signals(timeout)

    def stop(self, graceful=True):
        if graceful and self.reexec_pid == self.master_pid == 0 and not self.systemd:
            _closing[0] = 1
        super().stop(graceful)


class Worker(SyncWorker):
    """gunicorn's sync worker that answers its queue before it exits, with security headers on its own errors."""

    stop_by: float | None = None

    def load_wsgi(self):
        super().load_wsgi()
        headers = app_headers(self.log)
        util.write_error = lambda sock, status, reason, message: write_error(sock, status, reason, message, headers)

    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        if _closing[0] and self.stop_by is None:
            # The master has closed its copy of the listening socket (ours keep it open until we
            # exit) and kills what is left after --graceful-timeout: finish before that.
            self.stop_by = time.monotonic() + max(self.cfg.graceful_timeout - 1.0, 0.5)
            for listener in self.sockets:
                refuse_new_connections(listener, self.log)

    def run(self):
        super().run()
        if self.stop_by is not None:
            self.answer_queued()

    def answer_queued(self):
        """Every connection already in the listening socket's queue, answered until it is empty."""
        stop_by = self.stop_by or time.monotonic()
        for listener in self.sockets:
            while time.monotonic() < stop_by:
                self.notify()
                try:
                    client, address = listener.accept()
                except OSError as error:
                    if error.errno == errno.ECONNABORTED:
                        continue
                    if error.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                        self.log.warning("Stopping: accepting a queued connection failed: %s", error)
                    break
                client.setblocking(True)
                util.close_on_exec(client)
                self.handle(listener, client, address)


def refuse_new_connections(listener, log) -> None:
    """No new connection reaches this listening socket from now on; those queued stay (see _closing)."""
    if getattr(listener.sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
        return  # a Unix socket: its queue is still answered
    program = ctypes.create_string_buffer(struct.pack("HBBI", BPF_RET_K, 0, 0, 0))
    try:
        listener.sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", 1, ctypes.addressof(program)))
    except OSError as error:  # not Linux: the queue is still answered, new connections may be reset
        log.info("Stopping: could not close %s to new connections (%s)", listener, error)


# ---- gunicorn's own error answers ----


def security_headers() -> list[tuple[str, str]]:
    """
    The security headers the app puts on every answer, as they are on an HTTPS page: what its two
    outermost middlewares (settings.MIDDLEWARE: SecurityHeadersMiddleware, then Django's
    SecurityMiddleware) add to an empty response. Needs Django set up. The front's own answers
    carry them too (peaceplans/ops/nginx/).
    """
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIRequest
    from django.http import HttpResponse
    from django.middleware.security import SecurityMiddleware

    from peaceplans.ops.security import SecurityHeadersMiddleware

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "443",
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "https",
    }
    if settings.SECURE_PROXY_SSL_HEADER:
        header, value = settings.SECURE_PROXY_SSL_HEADER
        environ[header] = value
    chain = SecurityHeadersMiddleware(SecurityMiddleware(lambda request: HttpResponse()))
    response = chain(WSGIRequest(environ))
    return [(name, value) for name, value in response.items() if name.lower() != "content-type"]


def app_headers(log) -> list[tuple[str, str]]:
    try:
        return security_headers()
    except Exception as error:  # not this app, or Django not set up: gunicorn's answers as they were
        log.warning("gunicorn's error answers will carry no security headers: %s", error)
        return []


def write_error(sock, status: int, reason: str, message: str, headers: list[tuple[str, str]]) -> None:
    """gunicorn's answer to a request its parser refused, with `headers` (util.write_error's replacement)."""
    body = (
        f"<!doctype html>\n<html lang=en><meta charset=utf-8><title>{html.escape(reason)}</title>"
        f"<h1>{html.escape(reason)}</h1><p>{html.escape(message)}</p></html>\n"
    ).encode()
    lines = [
        f"HTTP/1.1 {status} {reason}",
        "Connection: close",
        "Content-Type: text/html; charset=utf-8",
        f"Content-Length: {len(body)}",
        "Cache-Control: no-store",
        *(f"{name}: {value}" for name, value in headers),
    ]
    util.write_nonblock(sock, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


# ---- the command ----


class Application(WSGIApplication):
    """gunicorn's command line, with this module's master and worker and no forwarded headers trusted by default."""

    def load_default_config(self):
        super().load_default_config()
        self.cfg.set("wsgi_app", "peaceplans.wsgi:application")  # when the command names none
        self.cfg.set("worker_class", WORKER_CLASS)
        self.cfg.set("forwarded_allow_ips", os.environ.get("FORWARDED_ALLOW_IPS", ""))

    def run(self):
        drain_for = drain_seconds()
        if self.cfg.print_config or self.cfg.check_config or self.cfg.spew:
            return super().run()  # gunicorn's own: prints, checks or traces, with its own master
        if self.cfg.daemon:
            raise SystemExit("peaceplans.ops.server does not daemonize: run it under a service manager")
        for path in filter(None, (self.cfg.pythonpath or "").split(",")):
            if os.path.abspath(path) not in sys.path:
                sys.path.insert(0, os.path.abspath(path))
        arbiter = DrainingArbiter(self)
        arbiter.drain_for = drain_for
        try:
            arbiter.run()
        except RuntimeError as error:  # as gunicorn's BaseApplication.run
            print(f"\nError: {error}\n", file=sys.stderr)
            sys.exit(1)


def main() -> None:
    Application("%(prog)s [OPTIONS] [APP_MODULE]", prog="python -m peaceplans.ops.server").run()


if __name__ == "__main__":
    # Through the package's module, not this __main__ copy: the workers load `Worker` from
    # peaceplans.ops.server, and the master must share that module's _closing flag with them.
    from peaceplans.ops import server

    server.main()
