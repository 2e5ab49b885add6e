"""
`manage.py backup` and `manage.py restore` (peaceplans/ops/backups.py), on SQLite always and on PostgreSQL
when DATABASE_URL points at one (CI runs the suite once per database). About 35 s on SQLite,
50 s on PostgreSQL.

The commands run in subprocesses against databases of this module's own, never the test database:
pytest-django's SQLite test database lives in memory, where the online backup API has no file to
copy and a second process cannot see it, and a backup is a whole-database operation, which the
rolled-back transaction around each test would hide. SQLite: migrated file databases in tmp_path.
PostgreSQL: databases named after DATABASE_URL's (NAME_bk_template, NAME_bk_live, NAME_bk_empty) on
the same server, made here and dropped at the end. Each test starts from a fresh copy of a template
(migrate + load_demo + Ukrainian and Russian text, with ґ, ї, є and the U+02BC apostrophe).

Proved: a backup taken while another process writes in transactions passes `PRAGMA integrity_check`
(SQLite) / pg_restore reads it whole (PostgreSQL), and restoring it gives the row counts of one moment
(every table, the writes a consistent prefix); at a quiet moment, dumpdata after a restore is
byte-identical to dumpdata at backup time, and dumpdata -> loaddata into an empty database -> dumpdata
round-trips byte-identical, Cyrillic included; hostile files are refused with a CommandError naming
the problem and the database unchanged; the default file name and mode 600.
"""

import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

# One xdist worker runs the whole module (tests/conftest.py, KEEP_TOGETHER): each template is built once.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PLAN = "russia-ukraine-2025"
WORDS = "Запорізька АЕС: ґ ї є, пʼять пунктів; Запорожская АЭС, переговоры"  # U+02BC in пʼять
# What dumpdata compares: the whole database, with natural keys, leaving out the rows every `migrate`
# makes afresh (content types, permissions), which a loaddata into a migrated database cannot replace.
DUMPDATA = ["dumpdata", "--natural-foreign", "--natural-primary", "--indent", "1"]
DUMPDATA += ["--exclude", "contenttypes", "--exclude", "auth.permission"]

CYRILLIC = f"""
import datetime
from peaceplans.models import Event, Plan, Topic
plan = Plan.objects.get(slug={PLAN!r})
Topic.objects.create(slug="zaporizhzhia-npp", name="Запорізька АЕС", sort_order=99)
Event.objects.create(plan=plan, date=datetime.date(2025, 12, 1), title={WORDS!r}, summary="ґ ї є ʼ — «лапки»")
# A timestamp under a millisecond past the second, which Django's own JSON encoder would not write back as read.
stamp = datetime.datetime(2025, 12, 1, 12, 0, 0, 412, tzinfo=datetime.UTC)
Topic.history.filter(slug="zaporizhzhia-npp").update(history_date=stamp)
"""

WRITER = f"""
import datetime, pathlib, sys, time
from django.db import transaction
from peaceplans.models import Event, Plan
plan = Plan.objects.get(slug={PLAN!r})
stop = pathlib.Path(sys.argv[1])
n = 0
while not stop.exists() and n < 20000:
    with transaction.atomic():  # an event and its history row, committed together
        Event.objects.create(plan=plan, date=datetime.date(2026, 1, 1), title=f"load {{n:06d}} Запорізька АЕС")
    n += 1
    if n == 10:
        print("writing", flush=True)
    time.sleep(0.002)
print(n, flush=True)
"""

CHANGE = f"""
import datetime
from peaceplans.models import Event, Plan, Topic
Topic.objects.filter(slug="zaporizhzhia-npp").delete()
Event.objects.create(plan=Plan.objects.get(slug={PLAN!r}), date=datetime.date(2026, 2, 2), title="after the backup")
"""


def _base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PEACEPLANS_BACKUP_DIR")}
    env.update(DJANGO_SETTINGS_MODULE="peaceplans.settings", DJANGO_SECRET_KEY="backup-tests-only-secret-key")
    env.setdefault("DJANGO_DEBUG", "0")
    return env


class Database:
    """One database of this module's: its URL, and manage.py / Django code run against it in a subprocess."""

    def __init__(self, engine: str, url: str, tmp: Path):
        self.engine, self.url, self.tmp = engine, url, tmp
        self.env = {**_base_env(), "DATABASE_URL": url, "PEACEPLANS_BACKUP_DIR": str(tmp / "backups")}

    @property
    def suffix(self) -> str:
        return ".sqlite3" if self.engine == "sqlite" else ".dump"

    def manage(self, *args, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "manage.py", *map(str, args)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check and done.returncode != 0:
            pytest.fail(f"manage.py {' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def django(self, code: str, *args) -> str:
        done = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()\n" + code, *map(str, args)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def dumpdata(self, name: str) -> bytes:
        target = self.tmp / name
        self.manage(*DUMPDATA, "--output", target)
        return target.read_bytes()

    def counts(self) -> dict[str, int]:
        """Rows in every table, read directly (no Django in this process touches these databases)."""
        if self.engine == "sqlite":
            with sqlite3.connect(urlsplit(self.url).path) as db:
                return sqlite_counts(db)
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as db:
            tables = db.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
            ).fetchall()
            return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for (t,) in tables}  # noqa: S608

    def fts_shadow_tables(self) -> set[str]:
        if self.engine != "sqlite":
            return set()
        with sqlite3.connect(urlsplit(self.url).path) as db:
            virtual = db.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'").fetchall()
        return {name + part for (name,) in virtual for part in ("_data", "_idx", "_content", "_docsize", "_config")}

    def load_titles(self) -> tuple[list[str], list[str]]:
        """The writer's event titles, in the events table and in its history table."""
        query = "SELECT title FROM {} WHERE title LIKE 'load %' ORDER BY title"
        if self.engine == "sqlite":
            with sqlite3.connect(urlsplit(self.url).path) as db:
                return tuple([r[0] for r in db.execute(query.format(t))] for t in EVENT_TABLES)
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as db:
            return tuple([r[0] for r in db.execute(query.format(t))] for t in EVENT_TABLES)


EVENT_TABLES = ("peaceplans_event", "peaceplans_historicalevent")


def sqlite_counts(db: sqlite3.Connection) -> dict[str, int]:
    tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for (t,) in tables}  # noqa: S608 (names from sqlite_master)


# ---- the databases ----


def _pg_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@pytest.fixture(
    scope="module",
    params=[
        # Its own SQLite files: the same on either pass, so only the SQLite pass of CI runs it.
        pytest.param("sqlite", marks=pytest.mark.engine_independent),
        # DATABASE_URL's server, without the db fixture: kept in CI's PostgreSQL pass.
        pytest.param("postgresql", marks=pytest.mark.engine_dependent),
    ],
)
def template(request, tmp_path_factory):
    """The migrated demo database with the Cyrillic rows, which each test copies."""
    tmp = tmp_path_factory.mktemp(f"backups-{request.param}")
    if request.param == "sqlite":
        db = Database("sqlite", f"sqlite:///{tmp / 'template.sqlite3'}", tmp)
        _build(db)
        yield db
        return
    url = _pg_url()
    if url is None:
        pytest.skip("DATABASE_URL is not PostgreSQL: the PostgreSQL backup tests run in CI's PostgreSQL pass")
    from peaceplans.ops.backups import pg_tool

    try:
        pg_tool("pg_dump"), pg_tool("pg_restore")
    except Exception as error:  # noqa: BLE001 (the message says what is missing)
        pytest.skip(str(error))
    server = PgServer(url)
    db = Database("postgresql", server.create("template"), tmp)
    try:
        _build(db)
        db.server = server
        yield db
    finally:
        server.drop_all()


def _build(db: Database) -> None:
    db.manage("migrate", "--noinput", "-v0")
    db.manage("load_demo")
    db.django(CYRILLIC)


class PgServer:
    """Databases named after DATABASE_URL's, on its server, made and dropped through psycopg."""

    def __init__(self, url: str):
        self.url = url
        self.parts = urlsplit(url)
        # Per xdist worker (PYTEST_XDIST_WORKER, as pytest-django suffixes the test database): no two
        # workers make or drop the same database.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        self.base = (self.parts.path.lstrip("/") or "postgres") + (f"_{worker}" if worker else "")
        self.made: list[str] = []

    def _admin(self):
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    def create(self, suffix: str, template: str | None = None) -> str:
        name = f"{self.base}_bk_{suffix}"
        with self._admin() as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            db.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        if name not in self.made:
            self.made.append(name)
        return urlunsplit(self.parts._replace(path=f"/{name}"))

    def drop_all(self) -> None:
        with self._admin() as db:
            for name in self.made:
                db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def live(template, tmp_path) -> Database:
    """A fresh copy of the template, for one test."""
    if template.engine == "sqlite":
        path = tmp_path / "live.sqlite3"
        with sqlite3.connect(urlsplit(template.url).path) as source, sqlite3.connect(path) as target:
            source.backup(target)
        return Database("sqlite", f"sqlite:///{path}", tmp_path)
    name = urlsplit(template.url).path.lstrip("/")
    return Database("postgresql", template.server.create("live", template=name), tmp_path)


@pytest.fixture
def empty(template, tmp_path) -> Database:
    """A migrated database with nothing loaded."""
    if template.engine == "sqlite":
        db = Database("sqlite", f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path)
    else:
        db = Database("postgresql", template.server.create("empty"), tmp_path)
    db.manage("migrate", "--noinput", "-v0")
    return db


# ---- the tests ----


def test_a_backup_under_write_load_is_one_moment_and_restores_it(live, tmp_path):
    stop = tmp_path / "stop-writing"
    writer = subprocess.Popen(
        [sys.executable, "-c", "import django; django.setup()\n" + WRITER, str(stop)],
        cwd=ROOT,
        env=live.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "writing", writer.stderr.read()
        before = live.counts()
        backup = tmp_path / f"under-load{live.suffix}"
        live.manage("backup", "--output", backup)
        after = live.counts()
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    written = int(out.split()[-1])
    assert writer.returncode == 0, err
    assert before["peaceplans_event"] < after["peaceplans_event"], "no write happened while the backup ran"

    if live.engine == "sqlite":
        with sqlite3.connect(backup) as db:
            from peaceplans.ops.backups import _regexp

            db.create_function("REGEXP", 2, _regexp)
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            snapshot = sqlite_counts(db)
            assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert not Path(f"{backup}-wal").exists()

    done = live.manage("restore", backup)  # over the live database, which has more rows by now
    assert "Restored the" in done.stdout
    restored = live.counts()

    # The writes the backup holds are a prefix of the writer's, each event with its history row.
    events, history = live.load_titles()
    k = len(events)
    assert events == history == [f"load {n:06d} Запорізька АЕС" for n in range(k)]
    assert before["peaceplans_event"] <= restored["peaceplans_event"] <= after["peaceplans_event"]
    assert k < written, "the restore did not take the database back to the backup's moment"
    # Every table: between the counts just before and just after the backup; the ones the writer
    # does not touch, unchanged.
    assert restored.keys() == before.keys()
    for table, count in restored.items():
        if table not in live.fts_shadow_tables():  # FTS5's own bookkeeping rows come and go as it merges
            assert before[table] <= count <= after[table], table
    if live.engine == "sqlite":
        assert restored == snapshot  # the counts of the backup file itself, table by table


def test_restore_and_loaddata_give_back_byte_identical_data_cyrillic_included(live, empty, tmp_path):
    at_backup = live.dumpdata("at-backup.json")
    text = at_backup.decode()
    assert "Запорізька АЕС" in text and "пʼять" in text and "Запорожская АЭС" in text and "ґ ї є" in text
    backup = tmp_path / f"quiet{live.suffix}"
    live.manage("backup", "--output", backup)
    live.django(CHANGE)
    assert live.dumpdata("changed.json") != at_backup

    live.manage("restore", backup)
    assert live.dumpdata("restored.json") == at_backup

    # dumpdata -> loaddata into an empty (migrated) database -> dumpdata: the same bytes.
    empty.manage("loaddata", tmp_path / "at-backup.json")
    assert empty.dumpdata("reloaded.json") == at_backup


def test_hostile_files_are_refused_and_the_database_is_left_alone(live, tmp_path):
    good = tmp_path / f"good{live.suffix}"
    live.manage("backup", "--output", good)
    truncated = tmp_path / f"truncated{live.suffix}"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    text = tmp_path / "notes.txt"
    text.write_text("Запорізька АЕС — not a backup\n")
    if live.engine == "sqlite":
        foreign = tmp_path / "from-postgresql.dump"
        foreign.write_bytes(b"PGDMP\x01\x0f\x00\x04\x08\x01\x01" + b"\x00" * 200)  # a pg_dump header
        other = "is a PostgreSQL dump (pg_dump), but this database is SQLite"
        damaged = "is truncated or damaged"
    else:
        foreign = tmp_path / "from-sqlite.sqlite3"
        with sqlite3.connect(foreign) as db:
            db.execute("CREATE TABLE django_migrations (id integer)")
        other = "is a SQLite database, but this database is PostgreSQL"
        damaged = "is damaged or truncated"
    cases = {
        tmp_path / "no-such-backup": "does not exist",
        truncated: damaged,
        text: f"is not a {'SQLite' if live.engine == 'sqlite' else 'PostgreSQL'} backup",
        foreign: other,
    }
    before = live.dumpdata("before.json")
    for path, problem in cases.items():
        done = live.manage("restore", path, check=False)
        assert done.returncode == 1, (path, done.stdout)
        assert f"CommandError: {path} {problem}" in done.stderr
        assert "The database was not changed." in done.stderr
        assert "Traceback" not in done.stderr
    # A backup never overwrites a file.
    done = live.manage("backup", "--output", text, check=False)
    assert done.returncode == 1 and f"CommandError: {text} already exists" in done.stderr
    assert text.read_text() == "Запорізька АЕС — not a backup\n"
    assert live.dumpdata("after.json") == before


def test_the_default_backup_file_is_timestamped_in_backup_dir_and_private(live, tmp_path):
    done = live.manage("backup")
    folder = tmp_path / "backups"
    files = list(folder.iterdir())
    assert len(files) == 1, files  # no temporary file left beside it
    assert re.fullmatch(r"peaceplans-\d{8}T\d{6}Z" + re.escape(live.suffix), files[0].name)
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert str(files[0]) in done.stdout
    magic = b"SQLite format 3\x00" if live.engine == "sqlite" else b"PGDMP"
    assert files[0].read_bytes().startswith(magic)
