"""Settings come from the environment and are secure by default."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def run_check(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_debug_runs_without_a_secret_key():
    assert run_check(DJANGO_DEBUG="1").returncode == 0


def test_a_secret_key_from_the_environment_is_used():
    result = run_check(DJANGO_SECRET_KEY="from-the-environment-0123456789-abcdefghijklmnopqrstuvwxyz")
    assert result.returncode == 0, result.stderr


def test_whitenoise_sits_right_after_the_security_middleware():
    assert settings.MIDDLEWARE[:2] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]


def test_production_static_files_are_compressed_and_hashed():
    """The test run swaps the storage (no collectstatic); the configured one is whitenoise's manifest storage."""
    from peaceplans import settings as configured

    backend = configured.STORAGES["staticfiles"]["BACKEND"]
    assert backend == "whitenoise.storage.CompressedManifestStaticFilesStorage"


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
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.split()[-2:] == ["wal", "20000"], result.stdout + result.stderr
