"""
The front's configuration and gunicorn's wrapper, without servers (issue 19, items 2, 4 and 9):
the security headers that gunicorn's and nginx's own answers carry are the app's own; the nginx
site file rendered from peaceplans/ops/nginx/ holds the limits, buffers and forwarded headers the
docs promise, and its production form (TLS, the redirect) is valid for nginx itself (`nginx -t`);
PEACEPLANS_DRAIN_SECONDS is read strictly. tests/ops/test_front.py proves them on running servers.
"""

import re
import subprocess

import pytest
from django.conf import settings

from peaceplans.ops import server
from peaceplans.ops.nginx import render
from tests import stack
from tests.ops.test_front import SECURITY_HEADERS

# The app's headers as tests/ops/test_front.py checks them on the cluster, and HSTS (the cluster runs without HTTPS).
SECURITY = (*SECURITY_HEADERS, "Strict-Transport-Security")
UPSTREAMS = ["10.0.0.11:8000", "10.0.0.12:8000"]


def production(**options) -> str:
    return render.render(
        upstreams=UPSTREAMS,
        server_names=["news.example.org"],
        certificate="/etc/letsencrypt/live/news.example.org/fullchain.pem",
        certificate_key="/etc/letsencrypt/live/news.example.org/privkey.pem",
        https_listen=["443", "[::]:443"],
        http_listen=["80", "[::]:80"],
        **options,
    )


def block(text: str, opening: str) -> str:
    """The lines of the nginx block that starts with `opening`, up to its closing brace."""
    start = text.index(opening)
    return text[start : text.index("\n    }\n", start)]


@pytest.fixture
def hsts(settings):
    """The production HSTS (DJANGO_SECURE_HTTPS=1), so that it is compared too."""
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True


@pytest.mark.django_db
@pytest.mark.engine_independent
def test_the_error_answers_headers_are_those_of_an_https_page(client, hsts):
    page = client.get("/", secure=True)
    assert page.status_code == 200
    sent = {name: page.headers[name] for name in SECURITY}
    assert dict(server.security_headers()) == sent
    assert sent["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_nginx_adds_the_app_s_headers_to_its_own_answers_and_static_files(hsts):
    text = production()
    headers = dict(server.security_headers())
    errors, static = block(text, "location ^~ /_front/"), block(text, "location ^~ /static/")
    for name, value in headers.items():
        line = f'add_header {name} "{value}" always;'
        assert line in errors, name
        if name != "Cross-Origin-Resource-Policy":  # per file, as whitenoise does (embed-host.js)
            assert line in static, name
    assert "add_header Cross-Origin-Resource-Policy $peaceplans_static_corp always;" in static
    # Proxied answers get none from nginx: the app sends its own (an embed's differ from a page's).
    assert "add_header" not in block(text, "location / {\n        proxy_pass")


def test_nginx_limits_buffers_and_forwarded_headers_match_the_app():
    text = production()
    assert f"client_max_body_size {settings.MAX_REQUEST_BODY_BYTES};" in text
    # One request line or header field in one 8 KB buffer: 8,190 bytes and CRLF, gunicorn's limits
    # as the Makefile's `run` sets them (--limit-request-line 8190).
    assert "large_client_header_buffers 4 8k;" in text and 8 * 1024 == 8190 + 2
    assert "--limit-request-line 8190" in (stack.ROOT / "Makefile").read_text()
    for directive in (
        "client_header_timeout 10s;",
        "client_body_timeout 10s;",
        "send_timeout 10s;",
        "proxy_request_buffering on;",
        "proxy_buffering on;",
        "proxy_next_upstream error timeout;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Real-IP $remote_addr;",
        'proxy_set_header X-Forwarded-Ssl "";',
        f"limit_conn peaceplans_addr {render.LIMIT_CONN};",
    ):
        assert directive in text, directive
    assert re.findall(r"server (\S+) max_fails=1", text) == UPSTREAMS
    assert "keepalive 16;" in block(text, "upstream peaceplans_app {")
    assert f"alias {settings.STATIC_ROOT.resolve()}/;" in text
    # Production: plain HTTP only redirects; the site is served over TLS alone.
    plain = text[text.index("# Plain HTTP.") : text.index("# HTTPS: the site.")]
    assert "return 301 https://$host$request_uri;" in plain and "proxy_pass" not in plain
    assert "listen 443 ssl http2;" in text and "listen [::]:443 ssl http2;" in text


def test_the_production_site_file_is_valid_for_nginx(tmp_path, hsts):
    binary = stack.need("nginx", "apt-get install -y nginx")
    cert, key = stack.certificate(tmp_path)
    site = tmp_path / "peaceplans.conf"
    site.write_text(
        production()
        .replace("/etc/letsencrypt/live/news.example.org/fullchain.pem", str(cert))
        .replace("/etc/letsencrypt/live/news.example.org/privkey.pem", str(key))
    )
    main = stack.nginx_main(tmp_path, site)
    done = subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-c", str(main), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_a_header_nginx_would_read_differently_is_refused():
    with pytest.raises(ValueError, match="cannot write the header"):
        render.add_headers([("Content-Security-Policy", "default-src $foo")])


@pytest.mark.parametrize(("value", "seconds"), [("", 10.0), ("0", 0.0), ("2.5", 2.5), (" 30 ", 30.0)])
def test_drain_seconds(monkeypatch, value, seconds):
    monkeypatch.setenv("PEACEPLANS_DRAIN_SECONDS", value)
    assert server.drain_seconds() == seconds


@pytest.mark.parametrize("value", ["-1", "ten", "nan", "1e9"])
def test_a_drain_that_is_not_a_number_of_seconds_refuses_to_start(monkeypatch, value):
    monkeypatch.setenv("PEACEPLANS_DRAIN_SECONDS", value)
    with pytest.raises(SystemExit, match="PEACEPLANS_DRAIN_SECONDS"):
        server.drain_seconds()
