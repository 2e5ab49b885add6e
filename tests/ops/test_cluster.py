"""
Several servers (issue 8, item 4): the layout `make cluster` starts (tests/cluster.py), two gunicorn
instances over one PostgreSQL and one Redis (free ports; nginx in front, which tests/ops/test_front.py
is about: these talk to the instances directly), all on loopback and stopped by PID, behave as one site:
- an edit made through one instance shows on the other at the next request, page cache included;
- a sign-in lock made on one holds on the other;
- the same public page from both is byte-identical, rendered fresh or served from the shared cache.
The cluster is the session's `shared_cluster` (tests/conftest.py), shared with test_front.py,
test_faults_servers.py and the PostgreSQL half of tests/editing/test_simultaneous_saves_servers.py.
Skipped, with the reason, without the PostgreSQL binaries or redis-server. About 15 s (and the
cluster's set-up, ~15 s, when this module is the first to ask for it).
"""

import json
import uuid

import pytest

from tests import stack

# One xdist worker runs the cluster's users (tests/conftest.py, KEEP_TOGETHER): its servers start once.
pytestmark = [pytest.mark.servers, pytest.mark.slow]

EDITOR, PASSWORD = "cluster-editor", "cluster-editor-password-0123"
LOCKED, LOCKED_PASSWORD = "cluster-locked", "cluster-locked-password-0123"
HOST = {"Host": "127.0.0.1"}  # what a load balancer passes on: the same host whichever server answers
FIND_CLAUSE = """
import json
from peaceplans.models import Clause, Revision
revision = Revision.objects.public().order_by("-published_on").first()
clause = revision.clauses.exclude(point=None).exclude(text="").order_by("pk").first()
print(json.dumps({"id": clause.pk, "point": clause.point.key, "plan": revision.plan.slug, "text": clause.text}))
"""


@pytest.fixture(scope="module")
def site(shared_cluster):
    for name, password in ((EDITOR, PASSWORD), (LOCKED, LOCKED_PASSWORD)):
        stack.manage(
            {**shared_cluster.env, "DJANGO_SUPERUSER_PASSWORD": password},
            "createsuperuser",
            "--noinput",
            "--username",
            name,
            "--email",
            f"{name}@example.org",
        )
    return shared_cluster


def page(base: str, path: str, **headers) -> tuple[int, dict, bytes]:
    return stack.get(base + path, {**HOST, **headers})


def test_an_edit_through_one_instance_shows_on_the_other_at_the_next_request(site):
    one, two = site.urls
    clause = json.loads(stack.manage(site.env, "shell", "-v0", "-c", FIND_CLAUSE).stdout.splitlines()[-1])
    point_page = f"/plans/{clause['plan']}/points/{clause['point']}/"
    api = f"/api/v1/plans/{clause['plan']}/points/{clause['point']}/"
    # Instance two has the page in the shared cache before the edit.
    page(two, point_page)
    status, headers, before = page(two, point_page)
    assert status == 200 and headers["X-Page-Cache"] == "hit"
    marker = f"edited-through-one-{uuid.uuid4().hex[:8]}"
    assert marker.encode() not in before

    editor = stack.Browser(one)
    assert editor.sign_in(EDITOR, PASSWORD) == 302
    change = f"/admin/peaceplans/clause/{clause['id']}/change/"
    fields = [(name, value) for name, value in editor.form(change, "clause_form") if name != "text"]
    status, headers, body = editor.request(change, [*fields, ("text", f"{clause['text']} {marker}"), ("_save", "1")])
    assert status == 302, body[:2000]

    status, headers, after = page(two, point_page)
    assert status == 200 and headers["X-Page-Cache"] == "miss" and marker.encode() in after
    status, _, data = page(two, api)
    assert status == 200 and marker in data.decode()


def test_a_sign_in_lock_made_on_one_instance_holds_on_the_other(site):
    one, two = site.urls
    attacker = stack.Browser(one)
    statuses = [attacker.sign_in(LOCKED, f"wrong-password-{n}") for n in range(5)]
    assert statuses[:4] == [200] * 4  # the form again, with an error
    assert statuses[4] == 429
    assert attacker.sign_in(LOCKED, LOCKED_PASSWORD) == 429  # locked on one, right password or not
    # The right password through the other instance: refused too (the lock is a row in the shared database).
    elsewhere = stack.Browser(two)
    assert elsewhere.sign_in(LOCKED, LOCKED_PASSWORD) == 429
    status, _, html = elsewhere.request("/admin/")
    assert status == 302  # not signed in
    # Another editor signs in on it meanwhile: the lock is the one account's, not the server's.
    assert stack.Browser(two).sign_in(EDITOR, PASSWORD) == 302


@pytest.mark.parametrize("kind", ["overview", "point", "api"])
def test_the_same_public_page_from_both_instances_is_byte_identical(site, kind):
    one, two = site.urls
    paths = dict(stack.demo_paths(one))
    path = {"overview": list(paths)[0], "point": list(paths)[2], "api": list(paths)[5]}[kind]
    # Rendered fresh by each (a session cookie bypasses the page cache; this one names no session).
    fresh = [page(base, path, Cookie="sessionid=none") for base in (one, two)]
    assert [f[1]["X-Page-Cache"] for f in fresh] == ["bypass", "bypass"]
    assert fresh[0][0] == fresh[1][0] == 200
    assert fresh[0][2] == fresh[1][2] and len(fresh[0][2]) > 1000
    # As readers get it: the first from one, the second from the cache they share.
    shared = [page(base, path) for base in (one, two)]
    assert shared[1][1]["X-Page-Cache"] == "hit"
    assert shared[0][2] == shared[1][2] == fresh[0][2]
    assert shared[0][1]["ETag"] == shared[1][1]["ETag"]
