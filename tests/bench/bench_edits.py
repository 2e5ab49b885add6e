"""
An edit under load (issue 18, item 4): wrk at 32 connections over a mix of pages for 30 s against
gunicorn as `make run` starts it (page cache on), while an editor's save lands every 5 s; then the
same without edits, for comparison. bench_http.py calls `run()` with its running gunicorn.

The mix is `make loadtest`'s (loadtest.py: the overview, a comparison, a point, a search, an HTMX
partial, two API addresses, one request each in turn), with its Lua script, which counts every
answer outside 200-299 and each X-Page-Cache value (hit, miss, stale).

The editor is real: an account in the Editors group, created in the benchmark's database before
the servers start (`create_editor`), signs in through /admin/login/ (password only: two-factor
sign-in is off without DJANGO_SECURE_HTTPS, as in the benchmark's environment) and, every 5 s,
opens a stance's change form in the admin and posts it back with a new speaker, exactly as a
browser would (session and CSRF cookies, every field of the form). Each save is a write through
the admin, which gives the data a new version: every page in every worker's cache misses at once.
Its own requests wait in the same queue as the readers'. A save that does not answer 302 is
counted as failed.
"""

import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadtest  # noqa: E402
from bench_http import SetupError, _get  # noqa: E402
from common import ROOT  # noqa: E402

EDITOR = "bench-editor"
PASSWORD = "bench-editor-password-not-a-secret-0123"  # a throwaway account in a throwaway database
CREATE_EDITOR = (
    "import sys, django; django.setup(); from django.contrib.auth.models import Group, User; "
    "user = User.objects.create_user(sys.argv[1], password=sys.argv[2], is_staff=True); "
    "user.groups.add(Group.objects.get(name='Editors'))"
)
STANCE = re.compile(r"#stance-(\d+)")


def create_editor(env: dict) -> None:
    """The editor's account in the benchmark's database (run before the servers start: it is a write)."""
    done = subprocess.run(
        [sys.executable, "-c", CREATE_EDITOR, EDITOR, PASSWORD],
        env={**env, "DJANGO_SETTINGS_MODULE": "peaceplans.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise SetupError(f"cannot create the benchmark's editor:\n{done.stderr}")


class FormFields(HTMLParser):
    """What a browser would post from the form with this id: (name, value) pairs, in order."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.fields: list[tuple[str, str]] = []
        self.select: dict | None = None
        self.textarea: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
            return
        name = a.get("name")
        if not self.inside:
            return
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value") or ("on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select" and name:
            self.select = {"name": name, "multiple": "multiple" in a, "chosen": [], "first": None}
        elif tag == "option" and self.select is not None:
            value = a.get("value") or ""
            self.select["first"] = value if self.select["first"] is None else self.select["first"]
            if "selected" in a:
                self.select["chosen"].append(value)
        elif tag == "textarea" and name:
            self.textarea = [name, ""]

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            chosen = self.select["chosen"]
            if not chosen and not self.select["multiple"] and self.select["first"] is not None:
                chosen = [self.select["first"]]  # a browser sends the first option when none is selected
            self.fields += [(self.select["name"], value) for value in chosen]
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            name, value = self.textarea
            self.fields.append((name, value.removeprefix("\n")))  # the newline after <textarea> is not content
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    parser = FormFields(form_id)
    parser.feed(html)
    if not parser.fields:
        raise SetupError(f"no form #{form_id} with fields on the page")
    return parser.fields


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is the answer we check, not a page to follow


class Editor:
    """A browser with cookies, signed in to the admin."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(_NoRedirect)

    def request(self, path: str, fields: list[tuple[str, str]] | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
        data = None
        if fields is not None:
            data = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with self.opener.open(request, timeout=30) as response:
                status, answer, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, answer, body = error.code, error.headers, error.read()
        for cookie in answer.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in cookie.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        return status, body.decode("utf-8", "replace")

    def sign_in(self) -> None:
        status, page = self.request("/admin/login/")
        fields = [(n, v) for n, v in form_fields(page, "login-form") if n not in ("username", "password")]
        fields += [("username", EDITOR), ("password", PASSWORD)]
        status, _ = self.request("/admin/login/?next=/admin/", fields)
        if status != 302 or "sessionid" not in self.cookies:
            raise SetupError(f"the benchmark's editor could not sign in (answer {status})")

    def save(self, stance: int, speaker: str) -> int:
        """Open the stance's change form and post it back with a new speaker; the status of the post."""
        path = f"/admin/peaceplans/stance/{stance}/change/"
        status, page = self.request(path)
        if status != 200:
            return status
        fields = [(n, speaker if n == "speaker" else v) for n, v in form_fields(page, "stance_form")]
        status, _ = self.request(path, fields + [("_save", "Save")])
        return status


def stance_to_edit(base: str, plan: str) -> int:
    """The first stance the overview's matrix shows (from its CSV): what the editor changes."""
    status, _, body = _get(f"{base}/plans/{plan}/matrix.csv")
    found = STANCE.search(body.decode("utf-8", "replace")) if status == 200 else None
    if not found:
        raise SetupError("no stance in the matrix CSV for the editor to change")
    return int(found.group(1))


def keep_saving(editor: Editor, stance: int, every: float, stop: threading.Event, saves: list) -> None:
    """A save every `every` seconds, on a fixed schedule from the start, until `stop`."""
    start = time.monotonic()
    n = 0
    while not stop.wait(max(0.0, start + every * (n + 1) - time.monotonic())):
        n += 1
        began = time.monotonic()
        try:
            status = editor.save(stance, f"Bench editor, save {n}")
        except OSError as error:
            status = f"error: {type(error).__name__}"
        saves.append({"at_s": round(began - start, 2), "seconds": round(time.monotonic() - began, 3), "status": status})


def figures(raw: dict) -> dict:
    """The load test's figures, without wrk's raw output."""
    kept = {key: value for key, value in raw.items() if key != "wrk_output"}
    kept["failed"] = raw["non2xx"] + raw["errors"]
    return kept


def run(base: str, cat: dict, work: Path, seconds: int, every: float, connections: int = 32, warmup: int = 2) -> dict:
    """wrk over the mix without edits, then with an editor's save every `every` seconds."""
    targets = loadtest.rotation(cat, [])
    script = loadtest.lua_script(targets, work / "mix.lua")
    editor = Editor(base)
    editor.sign_in()
    stance = stance_to_edit(base, cat["plan"])
    if (status := editor.save(stance, "Bench editor, first save")) != 302:
        raise SetupError(f"the editor's save answered {status}, not 302")
    loadtest.check_addresses(base, targets)
    loadtest.run_wrk(base, warmup, connections, script)  # every page back in both workers' caches
    calm = figures(loadtest.run_wrk(base, seconds, connections, script))
    print(f"  edits: without {calm['rps']:.0f} req/s, p99 {calm['p99_ms']} ms, failed {calm['failed']}", flush=True)
    stop, saves = threading.Event(), []
    saver = threading.Thread(target=keep_saving, args=(editor, stance, every, stop, saves), daemon=True)
    saver.start()
    try:
        busy = figures(loadtest.run_wrk(base, seconds, connections, script))
    finally:
        stop.set()
        saver.join(60)
    busy["saves"] = saves
    busy["saves_ok"] = sum(1 for save in saves if save["status"] == 302)
    print(
        f"  edits: with {len(saves)} saves ({busy['saves_ok']} ok) {busy['rps']:.0f} req/s, "
        f"p99 {busy['p99_ms']} ms, failed {busy['failed']}",
        flush=True,
    )
    return {
        "how": f"wrk -t{min(loadtest.THREADS, connections)} -c{connections} -d{seconds}s over loadtest.py's mix, "
        f"page cache on; an editor's admin save every {every:g} s in the second run",
        "mix": [{"kind": t["kind"], "path": t["path"], "htmx": t["htmx"]} for t in targets],
        "seconds": seconds,
        "every_s": every,
        "connections": connections,
        "stance": stance,
        "without_edits": calm,
        "with_edits": busy,
        "p99_ratio": round(busy["p99_ms"] / calm["p99_ms"], 2) if calm["p99_ms"] else None,
    }
