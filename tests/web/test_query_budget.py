"""
The query budget (docs/benchmarks.md): every public page, fragment, CSV export, API
endpoint, feed and embed runs a fixed number of SQL queries, at most BUDGET, whatever the size
of the data. Each address is requested on the demo plan and on a generated plan that is bigger
in every direction (more revisions, points, stances per point, events, notes, split points):
the two counts must be equal.

The page cache is off (PAGE_CACHE_SECONDS = 0): this measures the page itself. With the cache
on, a request adds one primary-key read of the data version (peaceplans/ops/dataversion.py), and a hit
runs that query alone.

Search is the one address whose count depends on what is found: one query on the index, one
per kind of result found (wording, stances, notes, events; the wording's previous texts come
with it), and on SQLite one for the words a typed prefix of 4 letters or more stands for. The
word searched for here is found in the same kinds in both plans, with the same count whether
a kind has more matches than a search counts (peaceplans/search/__init__.py, COUNT_LIMIT) or fewer.
"""

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from peaceplans import search
from peaceplans.compare.comparison import compare_revisions
from peaceplans.models import Plan
from peaceplans.synthetic import Spec, synthetic_generate

BUDGET = 10
GENERATED = Spec(plans=2, revisions=8, points=60, stances=3, events=200, seed=6)

# Every public address, with {plan}, {a} and {b} (the plan's first two texts), {far} (a later
# text whose comparison with {a} has split points), {point} (a point with stances) and {party}.
URLS = [
    ("overview", "/plans/{plan}/", {}),
    ("overview page 2 (htmx)", "/plans/{plan}/?page=2", {"HTTP_HX_REQUEST": "true"}),
    ("overview filtered", "/plans/{plan}/?topic=territory&party=russia&position=opposes&q=the&sort=-russia", {}),
    ("overview sorted (htmx)", "/plans/{plan}/?sort=-ukraine", {"HTTP_HX_REQUEST": "true"}),
    ("overview by title, page 2", "/plans/{plan}/?sort=-title&page=2", {}),
    ("overview on a text", "/plans/{plan}/?on={b}", {}),
    ("overview on a text, sorted (htmx)", "/plans/{plan}/?on={a}&sort=-russia", {"HTTP_HX_REQUEST": "true"}),
    (
        "a party's history on a point (htmx)",
        "/plans/{plan}/points/{point}/stances/{party}/",
        {"HTTP_HX_REQUEST": "true"},
    ),
    ("compare", "/plans/{plan}/compare/?a={a}&b={b}", {}),
    ("compare (htmx)", "/plans/{plan}/compare/?a={a}&b={b}", {"HTTP_HX_REQUEST": "true"}),
    ("compare inline, changes only", "/plans/{plan}/compare/?a={a}&b={b}&view=inline&changes=only", {}),
    ("compare with split points", "/plans/{plan}/compare/?a={a}&b={far}", {}),
    ("compare a text with itself", "/plans/{plan}/compare/?a={a}&b={a}", {}),
    ("compare, a later part (htmx)", "/plans/{plan}/compare/?a={a}&b={b}&part=2", {"HTTP_HX_REQUEST": "true"}),
    ("compare through a later part", "/plans/{plan}/compare/?a={a}&b={b}&part=2", {}),
    ("point", "/plans/{plan}/points/{point}/", {}),
    ("point against a text", "/plans/{plan}/points/{point}/?against={a}", {}),
    ("point against (htmx)", "/plans/{plan}/points/{point}/?against={a}", {"HTTP_HX_REQUEST": "true"}),
    ("revision", "/plans/{plan}/revisions/{far}/", {}),
    ("party", "/plans/{plan}/parties/{party}/", {}),
    ("party, a later part (htmx)", "/plans/{plan}/parties/{party}/?part=2", {"HTTP_HX_REQUEST": "true"}),
    ("timeline", "/plans/{plan}/timeline/", {}),
    ("timeline of a party", "/plans/{plan}/timeline/?party={party}", {}),
    ("timeline of a party (htmx)", "/plans/{plan}/timeline/?party=us", {"HTTP_HX_REQUEST": "true"}),
    ("changes", "/plans/{plan}/changes/", {}),
    ("sources", "/sources/", {}),
    ("search", "/search/?q=ukraine", {}),
    ("search in a plan", "/search/?q=ukraine&plan={plan}", {}),
    ("search in a plan (htmx)", "/search/?q=ukraine&plan={plan}", {"HTTP_HX_REQUEST": "true"}),
    ("matrix.csv", "/plans/{plan}/matrix.csv?sort=russia", {}),
    ("matrix.csv on a text", "/plans/{plan}/matrix.csv?on={b}&party=russia", {}),
    ("timeline.csv", "/plans/{plan}/timeline.csv?party={party}", {}),
    ("compare.csv", "/plans/{plan}/compare.csv?a={a}&b={far}", {}),
    ("wording.csv", "/plans/{plan}/points/{point}/wording.csv?against={a}", {}),
    ("stances.csv", "/plans/{plan}/points/{point}/stances.csv", {}),
    ("clauses.csv", "/plans/{plan}/revisions/{far}/clauses.csv", {}),
    ("positions.csv", "/plans/{plan}/parties/{party}/positions.csv", {}),
    ("changes.csv", "/plans/{plan}/changes.csv", {}),
    ("sources.csv", "/sources.csv", {}),
    ("api docs", "/api/", {}),
    ("api index", "/api/v1/", {}),
    ("api openapi", "/api/v1/openapi.json", {}),
    ("api parties", "/api/v1/parties/", {}),
    ("api party", "/api/v1/parties/{party}/", {}),
    ("api plans", "/api/v1/plans/", {}),
    ("api plan", "/api/v1/plans/{plan}/", {}),
    ("api revisions", "/api/v1/plans/{plan}/revisions/?per_page=200", {}),
    ("api revision", "/api/v1/plans/{plan}/revisions/{far}/", {}),
    ("api points", "/api/v1/plans/{plan}/points/?per_page=200", {}),
    ("api point", "/api/v1/plans/{plan}/points/{point}/", {}),
    ("api stances", "/api/v1/plans/{plan}/stances/?per_page=200", {}),
    ("api stances filtered", "/api/v1/plans/{plan}/stances/?party={party}&point={point}&position=opposes", {}),
    ("api events", "/api/v1/plans/{plan}/events/?per_page=200", {}),
    ("api events of a party", "/api/v1/plans/{plan}/events/?party=us", {}),
    ("dataset.json", "/plans/{plan}/dataset.json", {}),
    ("feed of the plan", "/feeds/plans/{plan}/", {}),
    ("feed of a point", "/feeds/plans/{plan}/points/{point}/", {}),
    ("feed of a party", "/feeds/plans/{plan}/parties/{party}/", {}),
    ("embed of a point", "/embed/plans/{plan}/points/{point}/", {}),
    ("embed of a comparison", "/embed/plans/{plan}/compare/?a={a}&b={far}", {}),
    ("embed of some points", "/embed/plans/{plan}/compare/?a={a}&b={b}&points={point}", {}),
    ("oembed", "/oembed/?url=http://testserver/plans/{plan}/points/{point}/", {}),
]


@pytest.fixture(scope="module")
def datasets(django_db_setup, django_db_blocker):
    """
    The demo plan and a generated one, as the values for URLS. The generated data lives in a
    transaction held for this module and rolled back at its end, so other modules never see it.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        synthetic_generate(spec=GENERATED)
        demo = {
            "plan": "russia-ukraine-2025",
            "a": "us-28-point-draft",
            "b": "e3-counter-proposal",
            "far": "europe-24-point-telegraph",
            "point": "7",
            "party": "russia",
        }
        yield [demo, values_for(Plan.objects.get(slug="synthetic-01"))]
        transaction.set_rollback(True)


def values_for(plan: Plan) -> dict:
    """The generated plan's values: {far} is the first later text whose comparison with {a} shows a split point."""
    revisions = list(plan.revisions.in_order())
    far = next(r for r in revisions[2:] if any(row.point.split_from_id for row in rows(plan, revisions[0], r)))
    point = plan.points.filter(annotations__status="published").order_by("sort_order").first()
    return {
        "plan": plan.slug,
        "a": revisions[0].slug,
        "b": revisions[1].slug,
        "far": far.slug,
        "point": point.key,
        "party": "russia",
    }


def rows(plan, a, b):
    return compare_revisions(plan, a, b).rows


@pytest.fixture
def uncached(settings):
    """Count the page itself: no page cache, so no data-version read and no hit."""
    settings.PAGE_CACHE_SECONDS = 0
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    cache.clear()


def count_queries(client, url: str, headers: dict) -> tuple[int, list[str]]:
    client.get(url, **headers)  # first: anything loaded once per process (content types, templates)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return len(queries), [q["sql"][:150] for q in queries]


@pytest.mark.django_db
def test_the_generated_plan_is_bigger_in_every_direction(datasets):
    """Equal counts mean something only if the generated plan has more of everything a page lists."""
    demo, big = (Plan.objects.get(slug=values["plan"]) for values in datasets)
    for name in ("revisions", "points", "stances", "events"):
        assert getattr(big, name).count() > getattr(demo, name).count(), name
    point = big.points.get(key=datasets[1]["point"])
    assert point.annotations.filter(status="published").exists() and point.stances.count() >= 12
    assert big.points.filter(split_from__isnull=False).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url,headers", [(url, headers) for _, url, headers in URLS], ids=[name for name, *_ in URLS])
def test_as_many_queries_on_generated_data_as_on_the_demo_and_within_budget(client, datasets, uncached, url, headers):
    (demo, demo_sql), (generated, generated_sql) = (count_queries(client, url.format(**v), headers) for v in datasets)
    assert demo == generated, {"demo": demo_sql, "generated": generated_sql}
    assert demo <= BUDGET, demo_sql


@pytest.mark.django_db
def test_search_runs_as_many_queries_past_its_count_limit(client, datasets, uncached, monkeypatch):
    """The generated plan's matches past the limit (counted up to it, some shown): the same count."""
    url = "/search/?q=ukraine&plan={plan}"
    demo, _ = count_queries(client, url.format(**datasets[0]), {})
    monkeypatch.setattr(search, "COUNT_LIMIT", 5)
    generated, generated_sql = count_queries(client, url.format(**datasets[1]), {})
    assert "more than 5" in client.get(url.format(**datasets[1])).content.decode()
    assert generated == demo, generated_sql
