"""
The one settings module, driven by environment variables and secure by default.

Every variable is listed in README.md ("Environment variables").
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from peaceplans.ops import staticfiles

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

# The secret comes from DJANGO_SECRET_KEY, else from the .secret_key file `make run` writes
# (so `manage.py create_editor` works after `make run` exactly as docs/editors.md shows it).
# With neither, production refuses to start; only DEBUG gets a throwaway one.
SECRET_KEY_FILE = Path(os.environ.get("DJANGO_SECRET_KEY_FILE", BASE_DIR / ".secret_key"))
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY and SECRET_KEY_FILE.is_file():
    SECRET_KEY = SECRET_KEY_FILE.read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set, or .secret_key exist, when DJANGO_DEBUG is off "
            "(`make run` generates .secret_key)."
        )
    SECRET_KEY = "insecure-development-only-key-never-used-with-debug-off"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "peaceplans.apps.StaffAdminConfig",  # django.contrib.admin with the staff sign-in (editing/signin.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_filters",
    "django_tables2",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "peaceplans",
]

MIDDLEWARE = [
    "peaceplans.ops.security.SecurityHeadersMiddleware",  # outermost: every response, cache hits and 304s too
    "django.middleware.security.SecurityMiddleware",
    # Right after SecurityMiddleware, so static files skip the rest of the stack.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "peaceplans.ops.limits.RequestLimitsMiddleware",  # 414/400 for over-long addresses, bodies, NUL; before the cache
    "peaceplans.ops.faults.DatabaseFaultsMiddleware",  # a view's database outage: the 503 page (handler500: the rest)
    # Anonymous pages from the cache, keyed by the data version; before gzip, so hits are stored
    # compressed, and before sessions and auth, so a hit touches neither (peaceplans/ops/pagecache.py).
    "peaceplans.ops.pagecache.PageCacheMiddleware",
    # Pages are mostly repeated markup (a comparison is ~65 KB raw, ~9 KB gzipped). BREACH:
    # public pages carry no secrets, and Django masks the CSRF token anew on every response.
    # Level 3 under 160 KB, Django's 6 above: a third of the time for 10-25% more bytes (ops/compression.py).
    "peaceplans.ops.compression.SizedGZipMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): signed in with a TOTP code
    "peaceplans.editing.signin.RefusalLogMiddleware",  # every 403 to the peaceplans.ops.security log
    "django.contrib.messages.middleware.MessageMiddleware",
    "peaceplans.ops.security.SessionLimitsMiddleware",  # signs out idle (30 min) and old (8 h) sessions
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Records who made each change, for django-simple-history.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Turns a locked sign-in into the 429 page; axes wants it last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "peaceplans.urls"
WSGI_APPLICATION = "peaceplans.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "peaceplans.web.context_processors.site",
            ],
        },
    },
]

# SQLite by default; WAL and a busy timeout let gunicorn workers read while one writes.
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Connections are kept (DATABASE_CONN_MAX_AGE) as on PostgreSQL: every anonymous request reads
    # the data version, and opening SQLite anew (file, pragmas, a lock for journal_mode) costs more
    # than serving the page from the cache; under two workers it cut cached pages to a third.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        # journal_size_limit: after a checkpoint the WAL file is cut back to 64 MiB, so a burst of writes
        # (an import) does not leave a file that size behind for good (issue 19, item 8).
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=67108864;",
    }

# One shared cache when several servers run (REDIS_URL), local memory otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "peaceplans",
            # Redis down must not hold pages up: the page cache then serves them uncached.
            # IGNORE_EXCEPTIONS (issue 8, item 2, servers): a failed get is a miss and a failed set is
            # skipped, for every cache user, never a 500; each is logged (below). A Redis that hangs rather
            # than refuses (issue 19, item 3) costs a short timeout per call, and after BREAKER_FAILURES in a
            # row the circuit breaker skips Redis altogether for BREAKER_SECONDS, then probes it in the
            # background (peaceplans/ops/breaker.py). 0.2 s: under load a whole cached page takes 2-3 ms at p99.
            "OPTIONS": {
                "CLIENT_CLASS": "peaceplans.ops.breaker.BreakerClient",
                "SOCKET_CONNECT_TIMEOUT": float(os.environ.get("PEACEPLANS_REDIS_TIMEOUT", "0.2")),
                "SOCKET_TIMEOUT": float(os.environ.get("PEACEPLANS_REDIS_TIMEOUT", "0.2")),
                "IGNORE_EXCEPTIONS": True,
                "BREAKER_FAILURES": int(os.environ.get("PEACEPLANS_CACHE_BREAKER_FAILURES", "3")),
                "BREAKER_SECONDS": float(os.environ.get("PEACEPLANS_CACHE_BREAKER_SECONDS", "5")),
            },
        }
    }
    # Each swallowed error goes to the "django_redis.cache" logger at ERROR with its traceback: one per
    # cache call, so LOGGING (below) lets the first through, then one a minute with a count of the rest.
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# How long an anonymous page stays in the cache (peaceplans/ops/pagecache.py); 0 turns the page cache
# off. Its key carries the data version, so an edit never waits for this: it only bounds memory.
PAGE_CACHE_SECONDS = int(os.environ.get("PEACEPLANS_PAGE_CACHE_SECONDS", "3600"))
# After an edit, while one request renders a page at the new version, others get the previous version's
# page for at most this long (no stampede; editors never get it); also how long that render's lock lasts.
# 0: every request that misses renders.
PAGE_CACHE_STALE_SECONDS = int(os.environ.get("PEACEPLANS_PAGE_CACHE_STALE_SECONDS", "10"))
# The query parameters each page takes: only those addresses are stored, so junk query strings make no
# entries (issue 19, item 6; peaceplans/ops/pagecache.py, cache_query). A name, not an import: ops/ imports
# no feature module.
PAGE_CACHE_QUERIES = "peaceplans.web.params.CACHED_QUERIES"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": os.environ.get(
            "DJANGO_STATICFILES_STORAGE",
            "peaceplans.ops.storage.MinifiedCompressedManifestStorage",
        )
    },
}
# Hashed file names never change content, so browsers may keep them for a year.
WHITENOISE_MAX_AGE = 31536000 if not DEBUG else 0
# The embeds' host script, which other sites load: its own CORP and a shorter cache (ops/staticfiles.py).
WHITENOISE_ADD_HEADERS_FUNCTION = staticfiles.add_headers

# Built-in CSP: everything from our own origin, no inline scripts or styles at all. No nonce:
# every script is a file from 'self' (htmx, copy.js, the admin's), and cached pages would replay
# a nonce to everyone. Embeds loosen frame-ancestors per view (peaceplans/publish/embeds.py).
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Production HTTPS, cookies and sessions (issue 7, items 1 and 3; headers: peaceplans/ops/security.py).
# HTTPS-only settings switch on with DJANGO_SECURE_HTTPS once a TLS proxy is in front;
# `make run` serves plain HTTP on loopback, where Secure cookies would break the admin login.
SECURE_HTTPS = env_bool("DJANGO_SECURE_HTTPS", False)
SECURE_SSL_REDIRECT = SECURE_HTTPS
# One year, subdomains included. Preload is opt-in (DJANGO_HSTS_PRELOAD=1): the preload list
# takes the whole registered domain and every subdomain, for months even after leaving it, and
# the site may run on a newsroom's subdomain whose owner has not made that promise.
SECURE_HSTS_SECONDS = 31536000 if SECURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS and env_bool("DJANGO_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [
    # security.W021 (SECURE_HSTS_PRELOAD not set): preload is a decision for the owner of the
    # whole domain, not a default (above); DJANGO_HSTS_PRELOAD=1 sets it.
    "security.W021",
]
# Behind a TLS proxy, the header it sets to tell HTTPS requests apart, which it must overwrite
# (never pass on from the client): X-Forwarded-Proto unless DJANGO_PROXY_SSL_HEADER names another.
# Without DJANGO_BEHIND_PROXY, is_secure() is the WSGI server's scheme, which gunicorn takes from
# X-Forwarded-Proto only when the request comes from --forwarded-allow-ips: nobody unless it names the
# front (peaceplans/ops/server.py, `make run`), so no local process can pass a request off as HTTPS.
if env_bool("DJANGO_BEHIND_PROXY", False):
    _proxy_header = os.environ.get("DJANGO_PROXY_SSL_HEADER", "") or "X-Forwarded-Proto"
    if not all(c.isascii() and (c.isalnum() or c == "-") for c in _proxy_header):
        raise ImproperlyConfigured("DJANGO_PROXY_SSL_HEADER must be a header name, such as X-Forwarded-Proto.")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
# Cookies: Secure and __Host- prefixed in production (the browser then refuses them over HTTP, with
# a Domain or with a Path other than "/", so no subdomain can set or read them). Plain HTTP on
# loopback (`make run`) cannot hold a __Host- cookie, so there they keep their usual names.
# SameSite=Lax rather than Strict: every change is a CSRF-checked POST, which Lax already keeps
# from other sites, while Strict would sign an editor out of every admin link followed from mail.
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SESSION_COOKIE_NAME = "__Host-sessionid" if SECURE_HTTPS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if SECURE_HTTPS else "csrftoken"
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = "/"
SESSION_COOKIE_DOMAIN = CSRF_COOKIE_DOMAIN = None
CSRF_COOKIE_HTTPONLY = True  # no script of ours reads it; forms carry the token
CSRF_FAILURE_VIEW = "peaceplans.ops.security.csrf_failure"
# Sessions in the database: a cache can fail or evict, and a signed-out session must stay out.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Signed-in sessions end 30 minutes after the last request or 8 hours after signing in, whichever
# comes first (peaceplans.ops.security.SessionLimitsMiddleware); the cookie itself lasts no longer.
PEACEPLANS_SESSION_IDLE_SECONDS = 30 * 60
PEACEPLANS_SESSION_MAX_SECONDS = 8 * 60 * 60
SESSION_COOKIE_AGE = PEACEPLANS_SESSION_MAX_SECONDS

# The paste-a-draft confirm page posts two fields per clause; 2,000 clauses need ~4,000.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# The plan shown at "/".
FEATURED_PLAN = os.environ.get("PEACEPLANS_FEATURED_PLAN", "russia-ukraine-2025")

DJANGO_TABLES2_TEMPLATE = "peaceplans/components/table.html"

LOGGING: dict[str, Any] = {  # logging.config.dictConfig's schema
    "version": 1,
    "disable_existing_loggers": False,
    # On the handler: refusals (a bad parameter's 400, a 403) are one line without a traceback (Django logs
    # SuspiciousOperation to django.security.<Class>, below any logger a filter could sit on), and
    # peaceplans.faults (a database outage) one line a minute per kind, with a count.
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["one_line_refusals", "outages_once_a_minute"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    # An outage logs one line a minute per kind, with a count, not a traceback per cache call or
    # request, nor a second copy (peaceplans/ops/logfilters.py, docs/operations.md "Logs").
    "filters": {
        "once_a_minute": {"()": "peaceplans.ops.logfilters.OncePerInterval", "seconds": 60},
        "outages_once_a_minute": {"()": "peaceplans.ops.logfilters.OutagesPerInterval", "seconds": 60},
        "reported_outages": {"()": "peaceplans.ops.logfilters.ReportedOutages"},
        "one_line_refusals": {"()": "peaceplans.ops.logfilters.OneLineRefusals"},
    },
    "loggers": {
        "django_redis.cache": {"filters": ["once_a_minute"]},
        "django.request": {"filters": ["reported_outages"]},
    },
}

# Staff sign-in (peaceplans/editing/signin.py): throttling, two-factor sign-in, the security log.
# Throttling is django-axes with its database handler: a lock is a row in the shared database,
# so it holds on every app server (a per-process cache would not).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked sign-in before any password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "peaceplans.editing.signin.SignInAttempts"
# Where a sign-in lands when its `next` is missing or refused (another host): the admin, not Django's
# /accounts/profile/, which this site does not have.
LOGIN_REDIRECT_URL = "admin:index"
# The 5th failure for one user name from one address locks that pair. The user name from any
# address, and one address across user names, lock at higher counts: guessing spread over many
# addresses, or one password sprayed over many names. (Anyone can lock a name out by failing 20
# times: the price of stopping distributed guessing; `manage.py axes_reset_username NAME` lifts it.)
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username", "ip_address"]
PEACEPLANS_LOCKOUT_LIMITS = {"username": 20, "ip_address": 50}
# A lock lasts this long after the last failure; failing again while locked starts it anew.
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("PEACEPLANS_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_CALLABLE = "peaceplans.editing.signin.lockout_response"
# The client's address: REMOTE_ADDR, or behind our proxies the X-Forwarded-For entry the nearest
# of DJANGO_PROXY_COUNT proxies was given (counted from the right; the client writes the left).
AXES_CLIENT_IP_CALLABLE = "peaceplans.editing.signin.client_ip"
PEACEPLANS_PROXY_COUNT = int(os.environ.get("DJANGO_PROXY_COUNT", "1")) if env_bool("DJANGO_BEHIND_PROXY") else 0
# Never stored with a failed attempt (axes masks "password" itself).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token", "csrfmiddlewaretoken"]
AXES_ENABLE_ADMIN = False  # locks are read and lifted from the command line (axes_list_attempts, axes_reset_*)
# Two-factor sign-in with a TOTP authenticator app: on by default in production (DJANGO_SECURE_HTTPS).
PEACEPLANS_REQUIRE_2FA = env_bool("PEACEPLANS_REQUIRE_2FA", env_bool("DJANGO_SECURE_HTTPS", False))
OTP_TOTP_ISSUER = "peaceplans"
# Sign-ins, failures, lockouts and 403s at INFO, whatever DJANGO_LOG_LEVEL: the root's console handler prints them.
LOGGING.setdefault("loggers", {})["peaceplans.security"] = {"level": "INFO"}

# Request limits (issue 7, item 7: peaceplans/ops/limits.py refuses these before the page cache or any
# view). The longest real address is a few hundred bytes; a 200-character search in any script,
# percent-encoded, is at most 2,400 bytes of query string.
MAX_PATH_BYTES = 1024
MAX_QUERY_STRING_BYTES = 4096
# Django's default (2.5 MiB of form data), stated because the paste import relies on it: each of its
# two steps posts the text once (multipart), and paste.MAX_CHARS = 500,000 characters are ~1 MB of
# Cyrillic, 2 MB at worst (four-byte characters). Over it, Django answers 400 (RequestDataTooBig).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# A declared body over this is refused before it is read: the form data above plus the multipart
# framing of up to DATA_UPLOAD_MAX_NUMBER_FIELDS fields (~100 bytes each).
MAX_REQUEST_BODY_BYTES = 4 * 1024 * 1024

# Backups (issue 8, item 5: peaceplans/ops/backups.py, `manage.py backup` / `restore`). Where `backup`
# writes when no --output is given; gitignored. Copy the files off this machine: a backup on the
# same disk as the database does not survive the disk.
BACKUP_DIR = Path(os.environ.get("PEACEPLANS_BACKUP_DIR", BASE_DIR / "backups"))
# dumpdata/loaddata's "json" with whole microseconds (Django's cuts them to milliseconds), so a dump
# round-trips byte-identical (peaceplans/ops/dumpformat.py).
SERIALIZATION_MODULES = {"json": "peaceplans.ops.dumpformat"}

# Database faults and /healthz (issue 8, item 2: peaceplans/ops/faults.py, peaceplans/ops/health.py). A request
# the database cannot take now (read-only, disk full, locked past the busy timeout, PostgreSQL
# restarting) gets the 503 page with this Retry-After, in seconds.
PEACEPLANS_RETRY_AFTER_SECONDS = int(os.environ.get("PEACEPLANS_RETRY_AFTER_SECONDS", "30"))
