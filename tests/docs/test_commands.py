"""
Every shell command the documentation shows is either run here, exactly as written, or listed
below with the reason it is not, so the docs and this test cannot drift apart.

The commands are the lines of the ```sh, ```bash, ```shell and ```console blocks of README.md
and docs/*.md (`$ ` prompts stripped, `\\` continuations joined, comments dropped; in a console
block only the prompted lines). A command in the docs that is neither in RUN nor in NOT_RUN fails
a test, and so does an entry here that the docs no longer show.

The commands in RUN run in one fresh checkout: a `git clone` of this repository (plus what the
working tree changes or adds, so the test checks what is about to be committed) into a temporary
folder, set up by the documented `make setup` (what `make run` does before it serves), with this
repository's `.venv` linked in so nothing is installed again. Each runs with `bash -c`, in the
checkout, with none of the app's variables from the outer environment: only those the command
itself sets. Its exit code and a meaningful part of its output are checked, in the order below
(later commands rely on earlier ones: the editor `jane` exists before her authenticator is added).
"""

import fcntl
import os
import pty
import re
import select
import shlex
import shutil
import sqlite3
import subprocess
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCKS = {"sh", "bash", "shell", "console"}
BASH = shutil.which("bash") or "/bin/bash"
GIT = shutil.which("git")

# ---- Not run, and why ----

SERVER = "starts a server that runs until stopped"
SUITE = "`make test` itself: this test is part of the suite it runs"
LONG = "minutes long, with servers of its own (run by hand; its own smoke test is in the suite)"
ROOT_ONLY = "needs root and changes the machine"
POSTGRES = "needs a PostgreSQL server (`createdb`); the SQLite form right above it is run"
REMOTE = "copies to another host"

NOT_RUN = {
    "make run": SERVER,
    "make cluster": SERVER,
    "PORT=9001 CLUSTER_PG_PORT=5433 CLUSTER_REDIS_PORT=6380 make cluster": SERVER,
    "make test": SUITE,
    'make test PYTEST_ARGS="tests/web -x"': SUITE,
    "make test PYTEST_ARGS=\"-m 'not browser'\"": SUITE,
    "make test PYTEST_ARGS=\"-m 'not slow'\"": SUITE,
    "PEACEPLANS_TEST_PROFILE=ci make test": SUITE,
    "DATABASE_URL=postgres://postgres@127.0.0.1:5499/peaceplans make test": SUITE,
    "make test PYTEST_ARGS=\"-k 'test_settings or test_security_headers or test_sessions or test_csp'\"": SUITE,
    "make test PYTEST_ARGS=\"-k 'test_signin or test_authorization'\"": SUITE,
    "make test PYTEST_ARGS=\"-k 'hostile or test_unicode or test_drafts_never_leak or test_xss'\"": SUITE,
    "make test PYTEST_ARGS=\"-k 'test_fuzz_query or test_limits'\"": SUITE,
    "make bench": LONG,
    "BENCH_PORT=8280 make bench": LONG,
    "make loadtest": LONG,
    "make loadtest LOADTEST_SECONDS=10 LOADTEST_CONNECTIONS=8": LONG,
    "bash .ci/run": ROOT_ONLY + " (apt-get), and runs the whole suite twice",
    "systemctl enable --now peaceplans-backup.timer": ROOT_ONLY,
    # The front (docs/operations.md): tests/ops/test_front_config.py renders the same file and runs `nginx -t`.
    "apt-get install -y nginx": ROOT_ONLY,
    "DJANGO_SECURE_HTTPS=1 DJANGO_ALLOWED_HOSTS=news.example.org .venv/bin/python -m peaceplans.ops.nginx "
    "--upstream 10.0.0.11:8000 --upstream 10.0.0.12:8000 --output /etc/nginx/sites-available/peaceplans": ROOT_ONLY,
    "ln -sf /etc/nginx/sites-available/peaceplans /etc/nginx/sites-enabled/peaceplans": ROOT_ONLY,
    "rm -f /etc/nginx/sites-enabled/default": ROOT_ONLY,
    "nginx -t && systemctl reload nginx": ROOT_ONLY,
    "createdb rehearsal && DATABASE_URL=postgres:///rehearsal .venv/bin/python manage.py restore "
    "backups/before-upgrade.dump": POSTGRES,
    'rsync -a "$PEACEPLANS_BACKUP_DIR"/ backup-host:/srv/backups/peaceplans/': REMOTE,
}

# ---- Run, in this order ----


@dataclass(frozen=True)
class Run:
    command: str
    expect: tuple[str, ...]  # each must appear in the output (stdout and stderr together)
    status: int = 0
    typed: tuple[tuple[str, str], ...] = ()  # (prompt, answer): run at a terminal, answering each prompt
    then: Callable[[Path], None] | None = field(default=None, compare=False)  # a check of the checkout after it
    before: Callable[[Path], None] | None = field(default=None, compare=False)  # what the checkout needs first


def rows(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


def users(database: Path) -> set[str]:
    return {name for (name,) in rows(database, "SELECT username FROM auth_user")}


def revisions(database: Path) -> dict[str, bool]:
    return dict(rows(database, "SELECT slug, public FROM peaceplans_revision"))


def a_wrong_password_for_jane(checkout: Path) -> None:
    """One failed sign-in through the admin's login form, for axes to record (not a documented command)."""
    code = (
        "from django.test import Client; "
        "r = Client(HTTP_HOST='localhost').post('/admin/login/', {'username': 'jane', 'password': 'wrong'}); "
        "assert r.status_code == 200, r.status_code"
    )
    status, output = run(f".venv/bin/python manage.py shell --no-imports -c {shlex.quote(code)}", checkout)
    assert status == 0 and "sign-in failed: username='jane'" in output, output


def static_files_collected(checkout: Path) -> None:
    assert (checkout / "staticfiles" / "staticfiles.json").is_file()


def example_imported_unpublished(checkout: Path) -> None:
    assert revisions(checkout / "db.sqlite3")["docs-example-draft"] == 0


def one_timestamped_backup(checkout: Path) -> None:
    assert [p.name for p in (checkout / "backups").glob("peaceplans-*.sqlite3")], "no backups/peaceplans-*.sqlite3"
    assert (checkout / "backups").stat().st_mode & 0o777 == 0o700


def sam_created(checkout: Path) -> None:
    assert "sam" in users(checkout / "db.sqlite3")


def restored_to_the_backup(checkout: Path) -> None:
    database = checkout / "db.sqlite3"
    assert users(database) == {"jane"}, "sam was created after the backup: the restore must remove him"
    assert "docs-example-draft" in revisions(database)


def rehearsal_holds_the_backup(checkout: Path) -> None:
    rehearsal = checkout / "rehearsal.sqlite3"
    assert users(rehearsal) == {"jane"}
    assert "docs-example-draft" in revisions(rehearsal)
    assert len(revisions(rehearsal)) == 7  # the demo's six texts and the example


PASSWORD = "a-typed-passphrase-for-jane"
DEPLOY_CHECK = (
    "DJANGO_SECURE_HTTPS=1 DJANGO_ALLOWED_HOSTS=example.org "
    "DJANGO_SECRET_KEY=\"$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(64))')\" "
    ".venv/bin/python manage.py check --deploy --fail-level WARNING"
)
IMPORT = ".venv/bin/python manage.py import_revision tests/docs/example-revision.json --plan russia-ukraine-2025"

# `make setup` runs first, in the fixture: it is the checkout's set-up.
SETUP = Run("make setup", ("==> generating .secret_key", "Applying peaceplans.0001_initial... OK", "6 revisions"))
RUN = [
    Run(".venv/bin/python manage.py help import_revision", ("--plan", "--unpublished", "import_revision")),
    Run(DEPLOY_CHECK, ("System check identified no issues",)),
    Run(".venv/bin/python manage.py migrate --noinput", ("No migrations to apply.",)),
    Run(".venv/bin/python manage.py collectstatic --noinput -v 0", (), then=static_files_collected),
    Run(
        ".venv/bin/python manage.py create_editor jane",
        ("Editor 'jane' created.",),
        typed=(("Password: ", PASSWORD), ("Password (again): ", PASSWORD)),
    ),
    Run(".venv/bin/python manage.py add_totp_device jane", ("Authenticator enrolled for 'jane'", "otpauth://totp/")),
    Run(".venv/bin/python manage.py add_totp_device jane --replace", ("otpauth://totp/",)),
    Run(".venv/bin/python manage.py axes_list_attempts", ("\tjane\t1",), before=a_wrong_password_for_jane),
    Run(".venv/bin/python manage.py axes_reset_username jane", ("1 attempts removed.",)),
    Run(
        IMPORT + " --unpublished",
        ("docs-example-draft: created; clauses +4 ~0 -0; new points: docs-example-draft-3", "unpublished"),
        then=example_imported_unpublished,
    ),
    # A re-import without the flag keeps the revision's current state: still unpublished.
    Run(
        IMPORT,
        ("docs-example-draft: unchanged", "unpublished: publish it in the admin"),
        then=example_imported_unpublished,
    ),
    Run(".venv/bin/python manage.py load_demo", ("7 revisions", "69 stances, 32 events")),  # the demo's 6, the example
    Run(".venv/bin/python manage.py rebuild_search_index", ("Search index rebuilt:",)),
    Run(
        ".venv/bin/python manage.py propose_alignment tests/docs/example-draft.txt --plan russia-ukraine-2025",
        ("Clause 4 (line 4)", "1. 6 · Army cap", "1. 19 · Zaporizhzhia nuclear plant"),
    ),
    Run(
        ".venv/bin/python manage.py backup",
        ("Backed up the sqlite database to", "backups/peaceplans-"),
        then=one_timestamped_backup,
    ),
    Run(
        ".venv/bin/python manage.py backup --output backups/before-upgrade.sqlite3",
        ("Backed up the sqlite database to", "backups/before-upgrade.sqlite3"),
    ),
    Run(
        "EDITOR_PASSWORD='a long passphrase of yours' .venv/bin/python manage.py create_editor sam",
        ("Editor 'sam' created.",),
        then=sam_created,
    ),
    Run(
        ".venv/bin/python manage.py restore backups/before-upgrade.sqlite3",
        ("Restored the sqlite database from", "before-upgrade.sqlite3"),
        then=restored_to_the_backup,
    ),
    Run(
        "DATABASE_URL=sqlite:///rehearsal.sqlite3 .venv/bin/python manage.py restore backups/before-upgrade.sqlite3",
        ("Restored the sqlite database from",),
        then=rehearsal_holds_the_backup,
    ),
    Run(
        ".venv/bin/python -c 'from tests.authz_matrix import render_table; print(render_table())'",
        ("| Admin objects | Action | Anonymous | Staff, no group | Editor | Superuser |",),
    ),
    Run("make lint", ("All checks passed!", "already formatted")),
]

# ---- Reading the docs ----

FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)")


def strip_comment(line: str) -> str:
    """The line without a trailing shell comment (a # at the start of a word, outside quotes)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def commands_in(text: str) -> list[str]:
    """The shell commands of a Markdown text's shell code blocks."""
    found, lines, n = [], text.splitlines(), 0
    while n < len(lines):
        fence = FENCE.match(lines[n])
        n += 1
        if not fence:
            continue
        marker, language = fence.group(1), fence.group(2).lower()
        body = []
        while n < len(lines) and not lines[n].strip().startswith(marker):
            body.append(lines[n])
            n += 1
        n += 1
        if language not in SHELL_BLOCKS:
            continue
        pending = ""
        for raw in body:
            line = raw.strip()
            if language == "console" and not pending and not line.startswith("$ "):
                continue  # output shown in a console block
            line = line.removeprefix("$ ")
            if line.endswith("\\"):
                pending += line[:-1].rstrip() + " "
                continue
            command = strip_comment(pending + line).strip()
            pending = ""
            if command:
                found.append(command)
    return found


def documented() -> dict[str, list[str]]:
    """{command: the pages that show it}."""
    found: dict[str, list[str]] = {}
    for doc in DOCS:
        for command in commands_in(doc.read_text()):
            found.setdefault(command, []).append(str(doc.relative_to(ROOT)))
    return found


def test_reading_the_blocks():
    text = "\n".join(
        [
            "```sh",
            "make run    # a comment",
            "# a comment line",
            "A=1 \\",
            "  echo '# not a comment' \"#\" x#y",
            "```",
            "```console",
            "$ make test",
            "output line",
            "```",
            "```text",
            "not a command",
            "```",
            "```python",
            "print('no')",
            "```",
        ]
    )
    assert commands_in(text) == ["make run", "A=1 echo '# not a comment' \"#\" x#y", "make test"]


def test_every_documented_command_is_run_or_listed():
    listed = {SETUP.command} | {run.command for run in RUN} | set(NOT_RUN)
    missing = {command: pages for command, pages in documented().items() if command not in listed}
    assert not missing, (
        "Commands in the docs that tests/docs/test_commands.py neither runs (RUN) nor lists with a reason "
        f"(NOT_RUN): {missing}"
    )


def test_every_listed_command_is_in_the_docs():
    shown = documented()
    stale = [c for c in [SETUP.command, *(run.command for run in RUN), *NOT_RUN] if c not in shown]
    assert not stale, f"Listed in tests/docs/test_commands.py but no longer in the docs: {stale}"
    assert not {run.command for run in RUN} & set(NOT_RUN), "a command is both run and not run"


# ---- Running them ----

# The outer environment, without anything that would point the app elsewhere or configure it:
# a command gets only the variables it sets itself.
KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "LOGNAME", "PYENV_ROOT", "TERM")


def environment() -> dict[str, str]:
    return {name: os.environ[name] for name in KEPT if name in os.environ}


def git(*args: str, cwd: Path = ROOT, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([GIT, *args], cwd=cwd, check=True, capture_output=True, **kwargs)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A fresh clone of the repository and the working tree's changes, set up by `make setup`."""
    if GIT is None:
        pytest.skip("git is not installed: the documented commands run in a fresh clone")
    for stamp in (".installed-runtime", ".installed-dev"):
        if not (ROOT / ".venv" / stamp).is_file():
            pytest.skip(f".venv/{stamp} is missing: run `make install-dev` first")
    folder = tmp_path_factory.mktemp("docs") / "peaceplans"
    head = git("rev-parse", "HEAD", text=True).stdout.strip()
    git("clone", "--quiet", "--shared", "--no-checkout", str(ROOT), str(folder))
    git("checkout", "--quiet", "--detach", head, cwd=folder)
    changes = git("diff", "--binary", "HEAD").stdout
    if changes:
        git("apply", "--whitespace=nowarn", "-", cwd=folder, input=changes)
    for name in git("ls-files", "--others", "--exclude-standard", "-z", text=True).stdout.split("\0"):
        if name:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, folder / name)
    (folder / ".venv").symlink_to(ROOT / ".venv")
    # Older than the install stamps in the shared .venv, so make does not install it again.
    for requirements in ("requirements.txt", "requirements-dev.txt"):
        os.utime(folder / requirements, (0, 0))
    check(SETUP, folder)
    assert (folder / ".secret_key").stat().st_mode & 0o777 == 0o600
    return folder


def run(command: str, cwd: Path) -> tuple[int, str]:
    done = subprocess.run(
        [BASH, "-c", command],
        cwd=cwd,
        env=environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr


def run_at_terminal(
    command: str, cwd: Path, typed: tuple[tuple[str, str], ...], timeout: float = 60
) -> tuple[int, str]:
    """Run a command on a terminal of its own (so getpass can ask), typing each answer after its prompt."""
    leader, follower = pty.openpty()

    def own_terminal():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [BASH, "-c", command],
        cwd=cwd,
        env=environment(),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        preexec_fn=own_terminal,  # safe here: the test starts no threads
    )
    os.close(follower)
    output, seen, answers = b"", 0, list(typed)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the terminal closed: the command has ended
                    break
                if not chunk:
                    break
                output += chunk
            if answers and answers[0][0].encode() in output[seen:]:
                prompt, answer = answers.pop(0)
                seen = output.index(prompt.encode(), seen) + len(prompt)
                os.write(leader, answer.encode() + b"\n")
            if process.poll() is not None and not ready:
                break
        else:
            process.kill()
            pytest.fail(f"{command!r} did not finish in {timeout} s; it printed: {output.decode(errors='replace')}")
    finally:
        os.close(leader)
    return process.wait(timeout=10), output.decode(errors="replace")


def check(step: Run, cwd: Path) -> None:
    if step.before:
        step.before(cwd)
    status, output = run_at_terminal(step.command, cwd, step.typed) if step.typed else run(step.command, cwd)
    assert status == step.status, f"{step.command!r} exited {status}, not {step.status}:\n{output}"
    for text in step.expect:
        assert text in output, f"{step.command!r} did not print {text!r}:\n{output}"
    if step.then:
        step.then(cwd)


def test_documented_commands_run_as_typed(checkout):
    for step in RUN:
        check(step, checkout)
