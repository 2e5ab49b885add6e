"""
Headers whitenoise adds to particular static files (settings.WHITENOISE_ADD_HEADERS_FUNCTION).

Imports nothing of Django: the settings import it before Django is set up.

The embeds' host script (static/peaceplans/embed-host.js) is the one static file other sites
load: the embed snippet (web/sharing.py) puts it in their articles by its plain name. So it is
`Cross-Origin-Resource-Policy: cross-origin` (every other static file keeps the site's
`same-origin`, which would make Chromium refuse it on another origin), and its plain name is
cached an hour rather than whitenoise's year: a snippet pasted into an article stays there for
years, and a fix to the script must reach it. The hashed name stays immutable.
"""

EMBED_HOST_SCRIPT = "peaceplans/embed-host.js"
EMBED_HOST_SCRIPT_MAX_AGE = 3600


def add_headers(headers, path: str, url: str) -> None:
    folder, _, name = url.rpartition("/")
    if not (folder.endswith("/peaceplans") and name.startswith("embed-host.") and name.endswith(".js")):
        return
    headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    if name == "embed-host.js":
        headers["Cache-Control"] = f"max-age={EMBED_HOST_SCRIPT_MAX_AGE}, public"
