"""
Stored word diffs (issue 18, "Diffs stored once"; peaceplans/compare/memo.py, editing/diffs.py):
every pair of texts a page can show is stored when a text is saved, imported, restored or
reverted, a page reads them without diffing, and what it shows is exactly a fresh diff.compare.

Concurrent saves and migration 0014's backfill run on database files of their own:
tests/compare/test_stored_diffs_db.py.
"""

import contextlib
import datetime
import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peaceplans.compare import diff, memo
from peaceplans.compare.comparison import compare_revisions, side_text
from peaceplans.editing.diffs import diffs_store_all
from peaceplans.editing.services import revisions_import
from peaceplans.models import Clause, Plan, StoredDiff
from peaceplans.selectors import point_wording
from tests.compare.test_diff import long_pairs, pairs
from tests.conftest import PLAN, scaled
from tests.editing.test_history_safety import change_url, editor, form_data, post, revert_url, signed_in  # noqa: F401
from tests.web.test_query_budget import BUDGET, datasets, uncached  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
REAL_COMPARE = diff.compare


@contextlib.contextmanager
def no_diffing():
    """Any alignment of two texts fails the test: what is shown must come from stored rows (or need none)."""
    memo.clear()
    refuse = AssertionError("a word diff was computed while reading")
    aligned = mock.patch.object(diff, "_aligned", side_effect=refuse)
    with mock.patch.object(diff, "compare", side_effect=refuse), aligned:
        yield
    memo.clear()


def stored_keys() -> set[str]:
    return set(StoredDiff.objects.filter(version=memo.DIFF_VERSION).values_list("key", flat=True))


def needed_keys(plan: Plan) -> set[str]:
    """The key of every pair of different texts of each of the plan's points: what its pages can ask for."""
    texts: dict[int, set[str]] = {}
    for point_id, text in Clause.objects.filter(point__plan=plan, dropped=False).values_list("point_id", "text"):
        texts.setdefault(point_id, set()).add(text)
    return {memo.pair_key(a, b)[0] for group in texts.values() for a in group for b in group if a != b}


def assert_pages_show_fresh_diffs(plan: Plan) -> None:
    """Every comparison of two of the plan's texts, and every point against every text, as a fresh diff gives them."""
    revisions = list(plan.revisions.in_order())
    points = list(plan.points.all())
    with no_diffing():
        shown = [(a, b, compare_revisions(plan, a, b).rows) for a in revisions for b in revisions if a != b]
        wording = [(p, against, point_wording(p, revisions, against)) for p in points for against in revisions]
    for a, b, rows in shown:
        for row in rows:
            if row.diff is not None:
                assert row.diff == REAL_COMPARE(side_text(row.clause_a), side_text(row.clause_b)), (a, b, row.point)
    for point, against, lines in wording:
        base = Clause.objects.filter(point=point, revision=against, dropped=False).first()
        for revision, clause, changes in lines:
            if changes is not None:
                assert changes == REAL_COMPARE(base.text if base else None, side_text(clause)), (point, revision)


# ---- The stored form ---------------------------------------------------------------------------


@settings(max_examples=scaled(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(pairs, long_pairs))
def test_a_stored_diff_reads_back_as_the_diff_of_either_direction(pair):
    """One row per unordered pair: read in its own direction or mirrored, it is diff.compare's answer."""
    a, b = pair
    if a == b:
        return
    key, fields = memo.stored_form(a, b)
    stored = (fields["change"], fields["similarity"], fields["cosmetic"], fields["ops"])
    assert memo.stored_form(b, a)[0] == key
    assert memo.decode(*stored, a, b, memo.pair_key(a, b)[1]) == REAL_COMPARE(a, b)
    assert memo.decode(*stored, b, a, memo.pair_key(b, a)[1]) == REAL_COMPARE(b, a)


def test_a_row_that_does_not_fit_the_texts_is_ignored():
    """Lengths that do not rebuild both texts, or an 'equal' run that differs, are another pair's row."""
    a, b = "Ukraine's army is capped at 600,000.", "Ukraine's army is limited to 800,000 in peacetime."
    _, fields = memo.stored_form(a, b)
    change, similarity, cosmetic, ops = fields["change"], fields["similarity"], fields["cosmetic"], fields["ops"]
    flipped = memo.pair_key(a, b)[1]
    assert memo.decode(change, similarity, cosmetic, ops, a, b, flipped) == REAL_COMPARE(a, b)
    assert memo.decode(change, similarity, cosmetic, ops, a + "!", b, flipped) is None
    assert memo.decode(change, similarity, cosmetic, ops, a, "u" + b[1:], flipped) is None  # an 'equal' run differs
    assert memo.decode(change, similarity, cosmetic, ops + " ?3", a, b, flipped) is None
    assert memo.decode("unchanged", similarity, cosmetic, ops, a, b, flipped) is None


# ---- Every write stores what the pages need ------------------------------------------------------

WORDS = ["Ukraine", "ukraine", "army", "600,000", "600.000", "NATO", "“troops”", '"troops"', "the", ",", ".", "no"]
texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join)
maybe_texts = st.lists(st.one_of(texts, texts, texts, st.none()), min_size=4, max_size=4)  # None: dropped
REVISION, POINT = st.integers(0, 9), st.integers(0, 3)
edits = st.lists(
    st.one_of(
        st.tuples(st.just("edit"), REVISION, POINT, texts),
        st.tuples(st.just("drop"), REVISION, POINT),
        st.tuples(st.just("import"), maybe_texts),
        st.tuples(st.just("reimport"), REVISION, maybe_texts),
        st.tuples(st.just("restore"), REVISION, POINT, st.integers(0, 9)),
        st.tuples(st.just("revert"), REVISION, POINT),
        st.tuples(st.just("bulk update"), REVISION, POINT, texts),
    ),
    min_size=1,
    max_size=6,
)


def revision_data(plan: Plan, index: int, wording: list[str | None]) -> dict:
    """
    A revision of the test plan in the import format: points 1 to 4, None for a dropped one (not in the
    first text, which makes the points: a point it dropped would be none).
    """
    wording = [text or "Ukraine" for text in wording] if index == 0 else wording
    day = datetime.date(2026, 2, 1) + datetime.timedelta(days=index)
    slug = f"text-{index}"
    return {
        "slug": slug,
        "title": f"Text {index}",
        "author": ["us"],
        "published_on": day.isoformat(),
        "status": "leaked draft",
        "summary": "",
        "sources": [{"url": f"https://example.org/{plan.slug}/{slug}", "outlet": "Example", "kind": "original-report"}],
        "points": [
            {
                "number": str(n + 1),
                "title": f"Point {n + 1}",
                "topic": "territory",
                "text": text or "",
                "deleted": text is None,
                "derived_from": str(n + 1) if index else None,
                "sources": [],
            }
            for n, text in enumerate(wording)
        ],
    }


def apply(plan: Plan, edit: tuple) -> None:
    """One edit as an editor makes it: a clause saved (as the admin saves it), an import, a history restore."""
    kind, *args = edit
    revisions = list(plan.revisions.in_order())
    points = list(plan.points.in_order())
    if kind == "import":
        revisions_import(data=revision_data(plan, len(revisions), args[0]), plan_slug=plan.slug)
        return
    if kind == "reimport":
        index = args[0] % len(revisions)
        revisions_import(data=revision_data(plan, index, args[1]), plan_slug=plan.slug)
        return
    clauses = Clause.objects.filter(revision=revisions[args[0] % len(revisions)], point=points[args[1] % len(points)])
    if kind == "bulk update":  # QuerySet.update() sends no post_save
        clauses.update(text=args[2], dropped=False)
        return
    clause = clauses.first()
    if clause is None:
        return
    if kind == "edit":
        clause.text, clause.dropped = args[2], False
        clause.save()
    elif kind == "drop":
        clause.text, clause.dropped = "", True
        clause.save()
    else:  # a restore of a version from its history, or a revert to the first: simple-history's own
        versions = list(clause.history.order_by("history_id"))
        record = versions[0] if kind == "revert" else versions[args[2] % len(versions)]
        record.instance.save()


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(maybe_texts, min_size=2, max_size=3), changes=edits)
def test_after_any_edits_imports_restores_and_reverts_the_pages_show_stored_fresh_diffs(first, changes):
    with transaction.atomic():
        plan = Plan.objects.create(slug="stored-diffs", title="Stored diffs")
        for index, wording in enumerate(first):
            revisions_import(data=revision_data(plan, index, wording), plan_slug=plan.slug)
        for change in changes:
            apply(plan, change)
        assert needed_keys(plan) <= stored_keys()
        assert_pages_show_fresh_diffs(plan)
        transaction.set_rollback(True)


def test_an_edit_a_restore_and_a_revert_through_the_admin_store_their_pairs(editor):  # noqa: F811
    """The real forms: a clause's change form, the history page's 'Revert' to an edited version and to the first."""
    plan = Plan.objects.get(slug=PLAN)
    client = signed_in(editor)
    clause = Clause.objects.get(revision__slug="e3-counter-proposal", point__key="6")
    for text in ("The army is capped at 650,000 personnel.", "The army is capped at 700,000 personnel."):
        post(client, change_url(clause), form_data(client, change_url(clause)) | {"text": text})
        assert needed_keys(plan) <= stored_keys()
    versions = list(clause.history.order_by("history_id"))
    for record in (versions[-2], versions[0]):  # the first edit, then the text as imported
        post(client, revert_url(record), form_data(client, revert_url(record)))
        clause.refresh_from_db()
        assert clause.text == record.text
        assert needed_keys(plan) <= stored_keys()
    assert_pages_show_fresh_diffs(plan)


# ---- Reading: no page diffs ------------------------------------------------------------------------


def test_after_load_demo_no_page_computes_a_diff(client):
    """The compare pages of every pair of demo texts, its CSV and embed, and every point against two texts."""
    StoredDiff.objects.all().delete()
    call_command("load_demo", verbosity=0)  # nothing in the demo changes: it still stores every pair
    plan = Plan.objects.get(slug=PLAN)
    assert needed_keys(plan) <= stored_keys() and len(needed_keys(plan)) > 50
    slugs = list(plan.revisions.public().in_order().values_list("slug", flat=True))
    marked = 0
    with no_diffing():
        for a in slugs:
            for b in slugs:
                if a != b:
                    response = client.get(f"/plans/{PLAN}/compare/?a={a}&b={b}")
                    assert response.status_code == 200
                    marked += "<ins>" in response.content.decode()
        query = f"?a={slugs[0]}&b={slugs[-1]}"
        for url in (f"/plans/{PLAN}/compare.csv{query}", f"/embed/plans/{PLAN}/compare/{query}"):
            assert client.get(url).status_code == 200
        for key in plan.points.values_list("key", flat=True):
            for against in (slugs[0], slugs[-1]):
                assert client.get(f"/plans/{PLAN}/points/{key}/?against={against}").status_code == 200
    assert marked > len(slugs)  # the pages did show word-level changes


def test_a_page_reads_every_stored_diff_it_shows_in_one_query_whatever_the_memo_holds(plan):
    """One query for them all, cold or warm: a page's query count does not depend on what a worker remembers."""
    a, b = plan.revisions.get(slug="us-28-point-draft"), plan.revisions.get(slug="e3-counter-proposal")
    memo.clear()
    with CaptureQueriesContext(connection) as cold:
        compare_revisions(plan, a, b)
    with CaptureQueriesContext(connection) as warm:
        compare_revisions(plan, a, b)
    for queries in (cold, warm):
        assert len([q for q in queries if "peaceplans_storeddiff" in q["sql"]]) == 1
    assert len(cold) == len(warm)
    assert memo.stats().currsize > 10


@pytest.mark.parametrize("url", ["/plans/{plan}/compare/?a={a}&b={far}", "/plans/{plan}/points/{point}/?against={a}"])
def test_with_a_cold_memo_the_pages_diffing_stay_within_budget_and_equal(client, datasets, uncached, url):  # noqa: F811
    """The budget test counts warm pages; here the memo is emptied first, so the stored diffs' query is counted."""
    counts = []
    for values in datasets:
        client.get(url.format(**values))  # anything loaded once per process
        memo.clear()
        with no_diffing(), CaptureQueriesContext(connection) as queries:
            assert client.get(url.format(**values)).status_code == 200
        assert any("peaceplans_storeddiff" in q["sql"] for q in queries)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= BUDGET


# ---- DIFF_VERSION ----------------------------------------------------------------------------------


def test_rows_of_other_diff_code_are_ignored_then_stored_again(plan, monkeypatch):
    a, b = plan.revisions.get(slug="us-28-point-draft"), plan.revisions.get(slug="e3-counter-proposal")
    computed = []
    monkeypatch.setattr(diff, "compare", lambda x, y: computed.append((x, y)) or REAL_COMPARE(x, y))
    monkeypatch.setattr(memo, "DIFF_VERSION", "9-changed-diff-code")
    memo.clear()
    rows = compare_revisions(plan, a, b).rows  # every stored row is of the old code: all computed here
    texts = [(side_text(row.clause_a), side_text(row.clause_b)) for row in rows]
    reworded = [(x, y) for x, y in texts if x is not None and y is not None and x != y]
    assert len(computed) == len(reworded) > 10
    assert all(r.diff == REAL_COMPARE(side_text(r.clause_a), side_text(r.clause_b)) for r in rows if r.diff)
    diffs_store_all()
    assert needed_keys(plan) <= stored_keys()  # stored again, under the new version
    memo.clear()
    computed.clear()
    compare_revisions(plan, a, b)
    assert computed == []


def test_migrate_stores_again_the_rows_of_older_diff_code_and_drops_them(plan):
    StoredDiff.objects.update(version="0-older-diff-code")
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert needed_keys(plan) <= stored_keys()
    assert not StoredDiff.objects.exclude(version=memo.DIFF_VERSION).exists()


def test_storing_changes_no_page_so_the_data_version_stays():
    """Stored diffs are written with the texts they come from; storing them alone is no new data."""
    from peaceplans.ops import dataversion

    before = dataversion.current()
    StoredDiff.objects.all().delete()
    diffs_store_all()
    assert StoredDiff.objects.exists() and dataversion.current() == before


def test_store_diffs_prune_drops_the_rows_no_text_needs(plan):
    clause = Clause.objects.get(revision__slug="e3-counter-proposal", point__key="6")
    clause.text += " Since edited away."
    clause.save()
    orphans = needed_keys(plan)
    clause.text = clause.text.removesuffix(" Since edited away.")
    clause.save()
    orphans -= needed_keys(plan)
    assert orphans and orphans <= stored_keys()  # the edited text's pairs outlive it
    StoredDiff.objects.filter(key__in=list(needed_keys(plan))[:5]).update(version="0-older-diff-code")
    call_command("store_diffs", "--prune", stdout=io.StringIO())
    needed = set().union(*(needed_keys(each) for each in Plan.objects.all()))  # other modules' plans too
    assert not orphans & stored_keys() and needed_keys(plan) <= stored_keys()
    assert stored_keys() == needed == set(StoredDiff.objects.values_list("key", flat=True))
