"""
The front's nginx site file, rendered from peaceplans.conf.in and site.conf.in (this folder) with
the app's own settings, so that what nginx answers by itself matches what the app would:

- the security headers on nginx's error pages and static files: the app's own, as its middleware
  builds them (peaceplans.ops.server.security_headers), HSTS included when DJANGO_SECURE_HTTPS is on;
- the body limit: settings.MAX_REQUEST_BODY_BYTES;
- the static files: settings.STATIC_ROOT at settings.STATIC_URL, cached like whitenoise does
  (WHITENOISE_MAX_AGE, the embeds' host script of ops/staticfiles.py);
- the host names: settings.ALLOWED_HOSTS unless --server-name is given.

Run it with the production environment (the settings read are those of the app servers):

    .venv/bin/python -m peaceplans.ops.nginx --upstream 10.0.0.11:8000 --upstream 10.0.0.12:8000 \\
        > /etc/nginx/sites-available/peaceplans

`make cluster` and the server tests render it the same way for loopback (tests/stack.py, nginx()),
with --plain-http serve and a throwaway certificate.
"""

import argparse
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ERROR_PAGES = HERE / "errors"
PLACEHOLDER = re.compile(r"@[A-Z_]+@")
LIMIT_CONN = 100


def add_headers(headers: list[tuple[str, str]], indent: str = "        ") -> str:
    """`add_header NAME "VALUE" always;` lines; refuses a value nginx would read differently ($, quotes)."""
    lines = []
    for name, value in headers:
        if not re.fullmatch(r"[A-Za-z0-9-]+", name) or re.search(r'["\\$\r\n]', value):
            raise ValueError(f"cannot write the header {name}: {value!r} into nginx's configuration")
        lines.append(f'{indent}add_header {name} "{value}" always;')
    return "\n".join(lines)


def fill(template: str, values: dict[str, str]) -> str:
    text = PLACEHOLDER.sub(lambda match: values[match.group(0).strip("@")], template)
    return text


def listen(addresses: list[str], extra: str = "") -> str:
    return "\n".join(f"    listen {address}{extra};" for address in addresses)


def render(
    *,
    upstreams: list[str],
    server_names: list[str],
    certificate: str,
    certificate_key: str,
    https_listen: list[str],
    http_listen: list[str],
    plain_http: str = "redirect",
    static_root: str = "",
    limit_conn: int = LIMIT_CONN,
) -> str:
    """The site file's text. Needs Django set up (the app's settings and middleware)."""
    from django.conf import settings

    from peaceplans.ops import staticfiles
    from peaceplans.ops.server import security_headers

    headers = security_headers()
    static_url = urlsplit(settings.STATIC_URL).path
    static_url = "/" + static_url.strip("/") + "/"
    embed_url = static_url + staticfiles.EMBED_HOST_SCRIPT
    values = {
        "UPSTREAM_SERVERS": "\n".join(f"    server {address} max_fails=1 fail_timeout=5s;" for address in upstreams),
        "SERVER_NAME": " ".join(server_names),
        "CERTIFICATE": certificate,
        "CERTIFICATE_KEY": certificate_key,
        "HTTPS_LISTEN": listen(https_listen, " ssl http2"),
        "HTTP_LISTEN": listen(http_listen),
        "STATIC_MAX_AGE": str(int(getattr(settings, "WHITENOISE_MAX_AGE", 31536000))),
        "EMBED_HOST_SCRIPT_URL": embed_url,
        "EMBED_HOST_SCRIPT_MAX_AGE": str(staticfiles.EMBED_HOST_SCRIPT_MAX_AGE),
        "EMBED_HOST_SCRIPT_STEM": re.escape(embed_url.removesuffix(".js")),
    }
    site_values = {
        "MAX_BODY_BYTES": str(settings.MAX_REQUEST_BODY_BYTES),
        "LIMIT_CONN": str(limit_conn),
        "ERROR_PAGES": str(ERROR_PAGES),
        "SECURITY_HEADERS": add_headers(headers),
        "STATIC_URL": static_url,
        "STATIC_ROOT": str(Path(static_root or settings.STATIC_ROOT).resolve()),
        "STATIC_SECURITY_HEADERS": add_headers(
            [(name, value) for name, value in headers if name.lower() != "cross-origin-resource-policy"]
        ),
    }
    site = fill((HERE / "site.conf.in").read_text(), site_values)
    if plain_http == "serve":
        http_body = site
    else:
        http_body = "\n".join(
            [
                "",
                "    # Certificates by HTTP challenge (certbot certonly --webroot -w /var/www/html) come from here;",
                "    # everything else is sent to HTTPS.",
                "    location ^~ /.well-known/acme-challenge/ {",
                "        root /var/www/html;",
                "    }",
                "    location / {",
                "        return 301 https://$host$request_uri;",
                "    }",
                add_headers(headers, indent="    "),
            ]
        )
    text = fill((HERE / "peaceplans.conf.in").read_text(), {**values, "HTTP_BODY": http_body, "SITE": site})
    leftover = PLACEHOLDER.findall(text)
    if leftover:
        raise ValueError(f"placeholders left in the nginx configuration: {sorted(set(leftover))}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m peaceplans.ops.nginx", description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", action="append", required=True, help="an app server, HOST:PORT (repeat)")
    parser.add_argument("--server-name", action="append", help="a host name (repeat; default DJANGO_ALLOWED_HOSTS)")
    parser.add_argument("--certificate", help="default /etc/letsencrypt/live/NAME/fullchain.pem")
    parser.add_argument("--certificate-key", help="default /etc/letsencrypt/live/NAME/privkey.pem")
    parser.add_argument("--https-listen", action="append", help="nginx's listen for HTTPS (default 443 and [::]:443)")
    parser.add_argument("--http-listen", action="append", help="nginx's listen for HTTP (default 80 and [::]:80)")
    parser.add_argument(
        "--plain-http",
        choices=["redirect", "serve"],
        default="redirect",
        help="redirect plain HTTP to HTTPS (production), or serve the site on it too (loopback tests)",
    )
    parser.add_argument("--static-root", default="", help="default settings.STATIC_ROOT (DJANGO_STATIC_ROOT)")
    parser.add_argument("--limit-conn", type=int, default=LIMIT_CONN, help="requests in progress per address")
    parser.add_argument("--output", type=Path, help="write here rather than to standard output")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peaceplans.settings")
    import django

    django.setup()
    from django.conf import settings

    names = args.server_name or [name for name in settings.ALLOWED_HOSTS if name != "*"]
    if not names:
        parser.error("no --server-name, and DJANGO_ALLOWED_HOSTS names none")
    live = f"/etc/letsencrypt/live/{names[0].lstrip('.')}"
    text = render(
        upstreams=args.upstream,
        server_names=names,
        certificate=args.certificate or f"{live}/fullchain.pem",
        certificate_key=args.certificate_key or f"{live}/privkey.pem",
        https_listen=args.https_listen or ["443", "[::]:443"],
        http_listen=args.http_listen or ["80", "[::]:80"],
        plain_http=args.plain_http,
        static_root=args.static_root,
        limit_conn=args.limit_conn,
    )
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0
