"""Settings come from the environment and are secure by default."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
PRINT_SECRET = "from django.conf import settings; print(settings.SECRET_KEY)"


def run_check(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    # A checkout that ran `make run` has a .secret_key: these tests name their own file, or none.
    env.setdefault("DJANGO_SECRET_KEY_FILE", "/nonexistent/peaceplans-secret-key")
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def secret_key_seen(**env) -> str:
    """The SECRET_KEY a management command ends up with, under exactly these DJANGO_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_management_commands_read_the_secret_key_file_make_run_writes(tmp_path):
    """After `make run`, `manage.py create_editor` works as the docs show it: no variable to export first."""
    key_file = tmp_path / ".secret_key"
    key_file.write_text("from-the-file-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN\n")
    result = run_check(DJANGO_DEBUG="0", DJANGO_SECRET_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr
    seen = secret_key_seen(DJANGO_SECRET_KEY_FILE=str(key_file))
    assert seen == "from-the-file-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN"


def test_the_environment_wins_over_the_secret_key_file(tmp_path):
    key_file = tmp_path / ".secret_key"
    key_file.write_text("from-the-file")
    seen = secret_key_seen(DJANGO_SECRET_KEY_FILE=str(key_file), DJANGO_SECRET_KEY="from-the-environment-0123456789")
    assert seen == "from-the-environment-0123456789"


def test_debug_runs_without_a_secret_key():
    assert run_check(DJANGO_DEBUG="1").returncode == 0


def test_a_secret_key_from_the_environment_is_used():
    result = run_check(DJANGO_SECRET_KEY="from-the-environment-0123456789-abcdefghijklmnopqrstuvwxyz")
    assert result.returncode == 0, result.stderr


def test_whitenoise_sits_right_after_the_security_middleware():
    """Only the header middleware (peaceplans/ops/security.py) wraps them, so static files get its headers too."""
    assert settings.MIDDLEWARE[:3] == [
        "peaceplans.ops.security.SecurityHeadersMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]


def test_production_static_files_are_compressed_and_hashed():
    """The test run swaps the storage (no collectstatic); the configured one is whitenoise's, minifying our CSS."""
    from peaceplans import settings as configured

    backend = configured.STORAGES["staticfiles"]["BACKEND"]
    assert backend == "peaceplans.ops.storage.MinifiedCompressedManifestStorage"
    from whitenoise.storage import CompressedManifestStaticFilesStorage

    from peaceplans.ops.storage import MinifiedCompressedManifestStorage

    assert issubclass(MinifiedCompressedManifestStorage, CompressedManifestStaticFilesStorage)


def test_csp_allows_no_inline_code():
    csp = settings.SECURE_CSP
    assert "'unsafe-inline'" not in str(csp) and "'unsafe-eval'" not in str(csp)
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]


def test_sqlite_file_database_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    """A fresh SQLite file opened by the app is switched to WAL, so readers never wait for a writer."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env = {**clean, "DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    code = (
        "from django.db import connection; c = connection.cursor(); c.execute('PRAGMA journal_mode'); "
        "print(c.fetchone()[0]); c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0])"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.stdout.split()[-2:] == ["wal", "20000"], result.stdout + result.stderr


# Production (DJANGO_SECURE_HTTPS=1): the real settings module, run with the production environment.

PRODUCTION = {
    "DJANGO_SECURE_HTTPS": "1",
    "DJANGO_ALLOWED_HOSTS": "example.org",
    "DJANGO_SECRET_KEY": "production-like-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ",
}
SHOWN = [
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_DOMAIN",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
    "CSRF_COOKIE_PATH",
    "CSRF_COOKIE_DOMAIN",
    "SESSION_ENGINE",
    "SESSION_COOKIE_AGE",
    "PEACEPLANS_SESSION_IDLE_SECONDS",
    "PEACEPLANS_SESSION_MAX_SECONDS",
]


def configured(**env) -> dict:
    """The settings the real module computes from the environment (DEBUG off unless env says otherwise)."""
    code = "import json; from django.conf import settings as s; print(json.dumps({n: getattr(s, n, None) for n in %r}))"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code % (SHOWN,)],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_deployment_checklist_passes_with_the_production_environment():
    """What .ci/run runs: `check --deploy` fails on any warning."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **PRODUCTION},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_checklist_fails_without_the_production_switch():
    """The check can fail: plain-HTTP settings (`make run`) are not fit for production."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"}
    env = {**clean, **PRODUCTION, "DJANGO_SECURE_HTTPS": "0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):  # HSTS, redirect, cookies
        assert check in result.stderr, check


def test_every_silenced_check_carries_a_written_reason():
    """Each entry of SILENCED_SYSTEM_CHECKS follows a comment naming it and saying why."""
    from peaceplans import settings as module

    source = (ROOT / "peaceplans/settings.py").read_text()
    block = re.search(r"^SILENCED_SYSTEM_CHECKS = \[\n(.*?)^\]", source, re.MULTILINE | re.DOTALL).group(1)
    entries = re.findall(r'^    "([^"]+)",', block, re.MULTILINE)
    assert entries == module.SILENCED_SYSTEM_CHECKS
    for entry in entries:
        comment = re.search(rf"((?:^    #.*\n)+)^    \"{re.escape(entry)}\",", block, re.MULTILINE)
        assert comment and entry in comment.group(1) and len(comment.group(1).split()) > 12, entry


def test_production_hsts_https_and_cookies():
    values = configured(**PRODUCTION)
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False  # opt-in: DJANGO_HSTS_PRELOAD=1
    assert values["SESSION_COOKIE_NAME"] == "__Host-sessionid" and values["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    for cookie in ("SESSION", "CSRF"):
        assert values[f"{cookie}_COOKIE_SECURE"] is True
        assert values[f"{cookie}_COOKIE_HTTPONLY"] is True
        assert values[f"{cookie}_COOKIE_SAMESITE"] == "Lax"
        assert values[f"{cookie}_COOKIE_PATH"] == "/" and values[f"{cookie}_COOKIE_DOMAIN"] is None
    assert values["SESSION_ENGINE"] == "django.contrib.sessions.backends.db"
    assert values["PEACEPLANS_SESSION_IDLE_SECONDS"] == 30 * 60
    assert values["PEACEPLANS_SESSION_MAX_SECONDS"] == values["SESSION_COOKIE_AGE"] == 8 * 60 * 60


def test_plain_http_development_keeps_plain_cookie_names():
    """A __Host- cookie must be Secure, which plain HTTP on loopback (`make run`) cannot send back."""
    values = configured(DJANGO_SECRET_KEY=PRODUCTION["DJANGO_SECRET_KEY"])
    assert values["SESSION_COOKIE_NAME"] == "sessionid" and values["CSRF_COOKIE_NAME"] == "csrftoken"
    assert values["SESSION_COOKIE_SECURE"] is False and values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_SSL_REDIRECT"] is False and values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_HTTPONLY"] is True and values["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert values["SECURE_PROXY_SSL_HEADER"] is None  # no header is believed without a proxy in front


def test_hsts_preload_is_opt_in():
    assert configured(**PRODUCTION, DJANGO_HSTS_PRELOAD="1")["SECURE_HSTS_PRELOAD"] is True


def test_the_proxys_https_header_is_configurable():
    assert configured(**PRODUCTION, DJANGO_BEHIND_PROXY="1")["SECURE_PROXY_SSL_HEADER"] == [
        "HTTP_X_FORWARDED_PROTO",
        "https",
    ]
    custom = configured(**PRODUCTION, DJANGO_BEHIND_PROXY="1", DJANGO_PROXY_SSL_HEADER="X-Scheme")
    assert custom["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_SCHEME", "https"]


@pytest.mark.parametrize("header", ["X Scheme", "X-Scheme: https", "X_Scheme\n", "Х-Scheme"])
def test_a_malformed_proxy_header_name_refuses_to_start(header):
    result = run_check(**PRODUCTION, DJANGO_BEHIND_PROXY="1", DJANGO_PROXY_SSL_HEADER=header)
    assert result.returncode != 0 and "DJANGO_PROXY_SSL_HEADER must be a header name" in result.stderr
