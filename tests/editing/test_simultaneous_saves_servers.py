"""
Two saves at the same moment through two app servers (issue 19, item 1): the layout the outside
fault test used, where two editors saving one clause at once through `make cluster` were both
accepted in 18 of 20 rounds on PostgreSQL and one edit silently vanished.

Each database has its pair of servers, as `make run` starts gunicorn (2 workers each):
- PostgreSQL: tests/cluster.py's `cluster()` (`make cluster`: PostgreSQL, Redis, two gunicorn, and
  nginx in front, which this test passes by: each editor talks to an app server of their own), the
  session's `shared_cluster` (tests/conftest.py) that tests/ops/test_cluster.py and others use too;
- SQLite: two gunicorn instances over one SQLite file.
Editor A signs in on the first server, editor B on the second. Each round both post the same form,
opened at the same version (read from the database), with a different text, released together by
a threading.Barrier (tests/editing/races.py): ROUNDS rounds on a clause's own form, then ROUNDS on
a stance in its point's form. Every round exactly one is accepted and the other gets the conflict
page, and the stored text is the accepted one's. `pytest -s` prints the figures.

Both engines run here, in the SQLite run of `make test` (the servers bring their own databases;
CI's PostgreSQL pass leaves this module out). Skipped, with the reason, without the PostgreSQL
binaries, redis-server or nginx. About 25 s on SQLite, 20 s on PostgreSQL (and the cluster's set-up,
~15 s, when this test is the first to ask for it).
"""

import sqlite3
from contextlib import ExitStack

import pytest

from tests import stack
from tests.editing.races import Tally, rounds

pytestmark = [pytest.mark.servers, pytest.mark.slow]

ROUNDS = 50
PASSWORD = "simultaneous-saves-password-19"
EDITORS = ("desk-a", "desk-b")
CREATE_EDITORS = f"""
from django.contrib.auth.models import Group, User
for name in {EDITORS!r}:
    user = User.objects.create_user(name, password={PASSWORD!r}, is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
"""
A_CLAUSE = (
    "SELECT c.id FROM peaceplans_clause c JOIN peaceplans_revision r ON r.id = c.revision_id "
    "WHERE NOT c.dropped AND r.public AND c.point_id IS NOT NULL ORDER BY c.id LIMIT 1"
)
A_STANCE = (  # the first stance of a point with two stances at least, the fewest such (a light form)
    "SELECT point_id, MIN(id) FROM peaceplans_stance WHERE point_id IS NOT NULL "
    "GROUP BY point_id HAVING COUNT(*) >= 2 ORDER BY COUNT(*), point_id LIMIT 1"
)


class Store:
    """The servers' database, read directly: the version a round starts from, the text it kept."""

    def __init__(self, url: str):
        if url.startswith("sqlite:///"):
            self.db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            self.mark = "?"
        else:
            import psycopg

            self.db = psycopg.connect(url, autocommit=True)
            self.mark = "%s"

    def one(self, sql: str, *params):
        return self.db.execute(sql.replace("%s", self.mark), params).fetchone()

    def version(self, model: str, pk: int) -> int:
        return self.one(f"SELECT MAX(history_id) FROM peaceplans_historical{model} WHERE id = %s", pk)[0]  # noqa: S608

    def value(self, model: str, column: str, pk: int) -> str:
        return self.one(f"SELECT {column} FROM peaceplans_{model} WHERE id = %s", pk)[0]  # noqa: S608


def race_through(urls: list[str], store: Store) -> list[Tally]:
    """The rounds of the module's docstring, A through the first server and B through the second."""
    browsers = [stack.Browser(url) for url in urls]
    for browser, name in zip(browsers, EDITORS, strict=True):
        assert browser.sign_in(name, PASSWORD) == 302

    def race_on(label, path, form_id, model, field, pk, versions):
        forms = [dict(browser.form(path, form_id)) for browser in browsers]  # each with its own CSRF token

        def prepare(n):
            texts = [f"Round {n}, the wording of editor {who}." for who in "AB"]
            now = versions()  # read once: both posts start from the same version
            posts = [
                lambda browser=browser, data=data, text=text: post(browser, path, data | now | {field: text})
                for browser, data, text in zip(browsers, forms, texts, strict=True)
            ]
            return posts, texts

        column = field.rsplit("-", 1)[-1]
        return rounds(Tally(label), ROUNDS, prepare, lambda: store.value(model, column, pk))

    clause = store.one(A_CLAUSE)[0]
    by_itself = race_on(
        "a clause's own form",
        f"/admin/peaceplans/clause/{clause}/change/",
        "clause_form",
        "clause",
        "text",
        clause,
        lambda: {"edit_version": store.version("clause", clause)},
    )
    point, stance = store.one(A_STANCE)
    path = f"/admin/peaceplans/point/{point}/change/"
    opened = dict(browsers[0].form(path, "point_form"))
    row = next(key.removesuffix("-id") for key, value in opened.items() if key.endswith("-id") and value == str(stance))
    inline = race_on(
        "a stance in the point form",
        path,
        "point_form",
        "stance",
        f"{row}-summary",
        stance,
        lambda: {f"{row}-edit_version": store.version("stance", stance), "edit_version": store.version("point", point)},
    )
    return [by_itself, inline]


def post(browser: stack.Browser, path: str, data: dict) -> tuple[int, str]:
    status, _, body = browser.request(path, list(data.items()))
    return status, body


def check(engine: str, tallies: list[Tally]) -> None:
    for tally in tallies:
        print(f"\ntwo app servers, {engine}, {ROUNDS} rounds of two saves at once on " + tally.line())
    for tally in tallies:
        assert tally.rounds == ROUNDS and tally.other == [], tally.other[:3]
        assert tally.lost == 0 and tally.refused == ROUNDS, tally.line()
        assert tally.overlapped >= ROUNDS // 2, "the two saves must really meet: " + tally.line()


def test_two_saves_at_the_same_moment_through_two_servers_lose_nothing_on_postgresql(shared_cluster):
    site = shared_cluster  # the session's `make cluster` (tests/conftest.py), shared with tests/ops/test_cluster.py
    stack.manage(site.env, "shell", "-c", CREATE_EDITORS)
    store = Store(site.env["DATABASE_URL"])
    try:
        tallies = race_through(site.urls, store)
    finally:
        store.db.close()
    check("PostgreSQL (make cluster)", tallies)


def test_two_saves_at_the_same_moment_through_two_servers_lose_nothing_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'peaceplans.sqlite3'}"
    env = stack.app_env(tmp_path, database_url=url)
    stack.prepare(env)
    stack.manage(env, "shell", "-c", CREATE_EDITORS)
    port = stack.free_ports(2)
    with ExitStack() as running:
        servers = [
            running.enter_context(stack.gunicorn(env, port + n, tmp_path, name=f"app{n}", log=tmp_path / f"app{n}.log"))
            for n in range(2)
        ]
        store = Store(url)
        running.callback(store.db.close)
        tallies = race_through([server.url for server in servers], store)
    check("SQLite (one file)", tallies)
