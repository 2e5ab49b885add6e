"""
Backups of the whole database, and their restore (issue 8, item 5). `manage.py backup` and
`manage.py restore` are thin over `backup()` and `restore()`.

- SQLite: SQLite's online backup API (sqlite3.Connection.backup) from Django's own connection,
  in one step, so the copy is one consistent snapshot even while other processes write (under WAL
  they keep writing; the copy holds a read snapshot). The copy is checked (`PRAGMA integrity_check`)
  and switched to a rollback journal, then renamed into place. Restore copies a checked file back
  into the live database through the same API, in one write transaction: readers see the old data
  or the new, never a mix.
- PostgreSQL: `pg_dump --format=custom` (one consistent snapshot by design), checked with
  `pg_restore --list`; restore is `pg_restore --clean --if-exists --single-transaction`, so a dump
  that fails half-way leaves the database as it was. Connection details go to the tools through
  PG* environment variables, the password through PGPASSWORD, never on the command line.

Every file is written to a temporary name in the target folder with mode 600 and renamed when
complete: a failed backup leaves nothing behind. Before a restore the file is checked (it exists,
it is a backup of this engine, it is whole); a refusal leaves the database untouched.
"""

import datetime
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.models.signals import pre_save
from django.dispatch import receiver

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
TOOL_TIMEOUT = 3600  # seconds for pg_dump or pg_restore


class BackupProblem(Exception):
    """A backup or a restore that cannot be done; nothing was written."""


@dataclass(frozen=True)
class Outcome:
    path: Path
    engine: str
    bytes: int
    seconds: float


def engine(using: str = "default") -> str:
    """'sqlite' or 'postgresql': the two engines peaceplans runs on."""
    vendor = connections[using].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupProblem(f"backups support SQLite and PostgreSQL, not {vendor}")
    return vendor


def default_path(kind: str, now: datetime.datetime | None = None) -> Path:
    """BACKUP_DIR/peaceplans-<UTC timestamp>.sqlite3 (SQLite) or .dump (PostgreSQL)."""
    now = now or datetime.datetime.now(datetime.UTC)
    suffix = ".sqlite3" if kind == "sqlite" else ".dump"
    return Path(settings.BACKUP_DIR) / f"peaceplans-{now:%Y%m%dT%H%M%SZ}{suffix}"


def backup(output: Path | None = None, using: str = "default") -> Outcome:
    """A consistent snapshot of the database into `output` (default: `default_path`); never overwrites."""
    kind = engine(using)
    path = Path(output) if output else default_path(kind)
    if path.exists():
        raise BackupProblem(f"{path} already exists; choose another name (a backup never overwrites a file)")
    if path.parent.exists() and not path.parent.is_dir():
        raise BackupProblem(f"{path.parent} is not a folder")
    started = time.monotonic()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)  # mode 600
    except OSError as error:
        raise BackupProblem(f"cannot write in {path.parent}: {error.strerror}") from error
    os.close(handle)
    part = Path(name)
    try:
        if kind == "sqlite":
            _sqlite_backup(connections[using], part)
        else:
            _pg_backup(connections[using], part)
        os.chmod(part, 0o600)
        _fsync(part)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return Outcome(path, kind, path.stat().st_size, round(time.monotonic() - started, 3))


def restore(source: Path, using: str = "default") -> Outcome:
    """The database replaced by the backup in `source`, once the file is checked; else BackupProblem."""
    kind = engine(using)
    source = Path(source)
    started = time.monotonic()
    if kind == "sqlite":
        _sqlite_check(source)
        _sqlite_restore(connections[using], source)
    else:
        _pg_check(source)
        _pg_restore(connections[using], source)
    return Outcome(source, kind, source.stat().st_size, round(time.monotonic() - started, 3))


@receiver(pre_save, dispatch_uid="backups_loaddata_keeps_history")
def _raw_save_keeps_history(sender, instance, raw, **kwargs):
    """
    `loaddata` saves each object raw, then sets its many-to-many fields, which django-simple-history
    records as a change ("~") with fresh history rows: a dump loaded into an empty database would not
    come back as it was dumped. Its history rows come from the dump itself, so none is added.
    """
    if raw:
        instance.skip_history_when_saving = True


# ---- what a file is ----


def _readable(source: Path) -> bytes:
    """The file's first bytes; BackupProblem when it is missing, not a file, unreadable or empty."""
    if not source.exists():
        raise BackupProblem(f"{source} does not exist")
    if not source.is_file():
        raise BackupProblem(f"{source} is not a file")
    try:
        with source.open("rb") as file:
            head = file.read(100)
    except OSError as error:
        raise BackupProblem(f"cannot read {source}: {error.strerror}") from error
    if not head:
        raise BackupProblem(f"{source} is empty")
    return head


def _refuse_other(source: Path, head: bytes, wanted: str) -> None:
    """BackupProblem unless the file starts as a backup of the `wanted` engine ('sqlite' or 'postgresql')."""
    if head.startswith(SQLITE_MAGIC if wanted == "sqlite" else PGDUMP_MAGIC):
        return
    here = "SQLite" if wanted == "sqlite" else "PostgreSQL"
    if head.startswith(PGDUMP_MAGIC):
        raise BackupProblem(f"{source} is a PostgreSQL dump (pg_dump), but this database is SQLite")
    if head.startswith(SQLITE_MAGIC):
        raise BackupProblem(f"{source} is a SQLite database, but this database is PostgreSQL")
    raise BackupProblem(f"{source} is not a {here} backup (neither a SQLite database nor a pg_dump custom-format file)")


# ---- SQLite ----


def _sqlite_backup(connection, part: Path) -> None:
    connection.ensure_connection()
    target = sqlite3.connect(part)
    try:
        # One step (pages=-1): the whole copy comes from one read snapshot of the live database.
        connection.connection.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # a self-contained file: no -wal beside it
        _sqlite_verdict(target, part)
    finally:
        target.close()


def _sqlite_verdict(db: sqlite3.Connection, path: Path) -> None:
    """BackupProblem unless `db` passes integrity_check and holds a migrated Django database."""
    # The check evaluates CHECK constraints, and ours use REGEXP, which Django's connections define.
    db.create_function("REGEXP", 2, _regexp, deterministic=True)
    try:
        rows = db.execute("PRAGMA integrity_check").fetchall()
        migrated = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'django_migrations'").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupProblem(f"{path} is damaged: {error}") from error
    problems = [row[0] for row in rows if row[0] != "ok"]
    if problems:
        raise BackupProblem(f"{path} fails SQLite's integrity check: {'; '.join(problems[:3])}")
    if not migrated:
        raise BackupProblem(f"{path} is a SQLite database but not a peaceplans one (no django_migrations table)")


def _regexp(pattern, value) -> bool | None:
    return None if pattern is None or value is None else bool(re.search(pattern, str(value)))


def _sqlite_check(source: Path) -> None:
    head = _readable(source)
    _refuse_other(source, head, "sqlite")
    if len(head) < 100:
        raise BackupProblem(f"{source} is truncated: shorter than a SQLite header")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    size = source.stat().st_size
    if page_size < 512 or size % page_size or size < pages * page_size:
        raise BackupProblem(
            f"{source} is truncated or damaged: {size:,} bytes, where its header says {pages:,} pages of {page_size:,}"
        )
    db = _sqlite_open_readonly(source)
    try:
        _sqlite_verdict(db, source)
    finally:
        db.close()


def _sqlite_open_readonly(source: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupProblem(f"cannot open {source}: {error}") from error


def _sqlite_restore(connection, source: Path) -> None:
    connection.ensure_connection()
    if not connection.get_autocommit() or connection.in_atomic_block:
        raise BackupProblem("a restore cannot run inside a transaction")
    backup = _sqlite_open_readonly(source)
    try:
        # Into the live file, in one write transaction: other connections wait (busy timeout), then
        # see the restored data. The live database keeps its own journal mode (WAL).
        backup.backup(connection.connection)
    except sqlite3.Error as error:
        raise BackupProblem(f"the restore from {source} failed, the database was left as it was: {error}") from error
    finally:
        backup.close()
    connection.close()  # the next query opens afresh, with the restored schema


# ---- PostgreSQL ----


def _pg_env(connection) -> dict:
    """The libpq environment for the tools: where, who, which database; the password never in argv."""
    params = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    values = {
        "PGHOST": params.get("HOST"),
        "PGPORT": params.get("PORT"),
        "PGUSER": params.get("USER"),
        "PGPASSWORD": params.get("PASSWORD"),
        "PGDATABASE": params.get("NAME"),
        "PGSSLMODE": (params.get("OPTIONS") or {}).get("sslmode"),
    }
    env.update({key: str(value) for key, value in values.items() if value})
    return env


def pg_tool(name: str, server_major: int | None = None) -> str:
    """
    pg_dump or pg_restore: the one of the server's major version under /usr/lib/postgresql when it
    is there, else the one on PATH, else the newest under /usr/lib/postgresql.
    """
    candidates = sorted(
        Path("/").glob(PG_BIN_GLOB.lstrip("/") + f"/{name}"),
        key=lambda p: int(re.sub(r"\D", "", p.parent.parent.name) or 0),
        reverse=True,
    )
    if server_major:
        matching = [p for p in candidates if p.parent.parent.name == str(server_major)]
        if matching:
            return str(matching[0])
    found = shutil.which(name)
    if found:
        return found
    if candidates:
        return str(candidates[0])
    raise BackupProblem(f"{name} not found on PATH or in {PG_BIN_GLOB}: install postgresql-client")


def _server_major(connection) -> int | None:
    connection.ensure_connection()
    return connection.pg_version // 10000 if connection.pg_version else None


def _run(command: list[str], env: dict, what: str) -> str:
    try:
        done = subprocess.run(  # noqa: S603 (pg_dump/pg_restore found by pg_tool; arguments ours and a path)
            command, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise BackupProblem(f"{what} took more than {TOOL_TIMEOUT} s and was stopped") from error
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise BackupProblem(f"{what} failed (exit {done.returncode}): {' / '.join(detail[-3:]) or 'no message'}")
    return done.stdout


def _pg_backup(connection, part: Path) -> None:
    tool = pg_tool("pg_dump", _server_major(connection))
    env = _pg_env(connection)
    _run([tool, "--format=custom", "--no-password", f"--file={part}"], env, "pg_dump")
    _pg_list(part, pg_tool("pg_restore", _server_major(connection)), env)


def _pg_list(source: Path, tool: str, env: dict) -> str:
    """
    The dump's table of contents, once pg_restore has read the whole file (its SQL to /dev/null: a
    truncated file can still have a whole table of contents); BackupProblem when it cannot.
    """
    try:
        listing = _run([tool, "--list", str(source)], env, "pg_restore --list")
        _run([tool, "--file=/dev/null", str(source)], env, "pg_restore")
    except BackupProblem as error:
        raise BackupProblem(f"{source} is damaged or truncated: {error}") from error
    if "django_migrations" not in listing:
        raise BackupProblem(f"{source} is a pg_dump file but not of a peaceplans database (no django_migrations)")
    return listing


def _pg_check(source: Path) -> None:
    _refuse_other(source, _readable(source), "postgresql")


def _pg_restore(connection, source: Path) -> None:
    major = _server_major(connection)
    env = _pg_env(connection)
    _pg_list(source, pg_tool("pg_restore", major), env)
    connection.close()  # no session of ours holds a lock on what pg_restore drops
    command = [pg_tool("pg_restore", major), "--clean", "--if-exists", "--single-transaction", "--no-owner"]
    command += ["--no-password", f"--dbname={env.get('PGDATABASE', '')}", str(source)]
    try:
        _run(command, env, "pg_restore")
    except BackupProblem as error:
        raise BackupProblem(f"{error}; the restore was rolled back, the database is as it was") from error


def _fsync(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())
