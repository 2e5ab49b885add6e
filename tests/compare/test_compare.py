"""The compare page and the point page's "compare against": rows, diffs, HTMX, bad parameters, query counts."""

import json
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peaceplans.models import Clause, Revision
from tests.parts import through_last

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
URL = f"/plans/{PLAN}/compare/"
US_E3 = f"{URL}?a=us-28-point-draft&b=e3-counter-proposal"


def struck(html, word):
    """True when `word` sits inside a <del> element."""
    return re.search(rf"<del>[^<]*{re.escape(word)}[^<]*</del>", html) is not None


def inserted(html, word):
    return re.search(rf"<ins>[^<]*{re.escape(word)}[^<]*</ins>", html) is not None


def html_of(client, url, status=200, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code, response.content[:300])
    return response.content.decode()


def row(html, key):
    """The HTML of one comparison row, found by its permalink anchor."""
    return html.split(f'id="point-{key}"')[1].split("</li>")[0]


def test_point_6_strikes_600000_and_inserts_800000(client):
    """The headline case: the E3 text raises the army cap."""
    html = html_of(client, US_E3)
    six = row(html, "6")
    assert struck(six, "600,000") and inserted(six, "800,000")
    assert "changed" in six


def test_point_3_is_shown_as_dropped(client):
    three = row(html_of(client, US_E3), "3")
    assert "compare-row--dropped" in html_of(client, US_E3).split('id="point-3"')[0].rsplit("<li", 1)[1]
    assert "Dropped." in three


def test_points_missing_from_b_are_not_called_dropped(client):
    """Point 17 is simply not in the E3 text as published: it is 'not in B's text', not 'dropped'."""
    html = through_last(client, US_E3)  # the section of points B's text does not cover loads when opened
    seventeen = row(html, "17")
    assert "not in B" in seventeen
    assert "Dropped" not in seventeen


@pytest.fixture
def same_and_cosmetic():
    """Make E3's point 1 word-for-word the draft's, and its point 5 differ only in punctuation and case."""

    def clause(slug, number):
        return Clause.objects.get(revision__slug=slug, number=number)

    e3_one, e3_five = clause("e3-counter-proposal", "1"), clause("e3-counter-proposal", "5")
    e3_one.text = clause("us-28-point-draft", "1").text
    e3_one.save()
    e3_five.text = clause("us-28-point-draft", "5").text.upper().rstrip(".")
    e3_five.save()


def test_unchanged_point_has_no_marks(client, same_and_cosmetic):
    one = row(html_of(client, US_E3), "1")
    assert "unchanged" in one and "<del>" not in one and "<ins>" not in one


def test_cosmetic_change_is_labelled_as_such(client, same_and_cosmetic):
    """A change of punctuation or letter case only is not a change of substance, and says so."""
    five = row(html_of(client, US_E3), "5")
    assert "same words (only punctuation, quotes, case or spacing)" in five
    assert "only punctuation, letter case changed" in five or "only letter case, punctuation changed" in five


def test_changes_only_hides_unchanged_and_cosmetic_rows(client, same_and_cosmetic):
    html = html_of(client, US_E3 + "&changes=only")
    assert 'id="point-6"' in html
    assert 'id="point-1"' not in html and 'id="point-5"' not in html
    assert "compare-row--unchanged" not in html and "compare-row--cosmetic" not in html
    assert "Show all points" in html
    counts = html.split('class="counts"')[1].split("</ul>")[0]
    assert "<strong>6</strong> unchanged" in counts  # counts still describe the whole pair (1, 10a, 10b, 11, 19, 20)


def test_inline_view_gives_one_redline(client):
    html = html_of(client, US_E3 + "&view=inline")
    six = row(html, "6")
    assert "compare-row__inline" in six and "compare-row__sides" not in six
    assert struck(six, "600,000") and inserted(six, "800,000")
    assert six.index("600,000") < six.index("800,000")


def test_side_by_side_marks_deletions_in_a_and_insertions_in_b(client):
    six = row(html_of(client, US_E3), "6")
    side_a = six.split("side--a")[1].split("side--b")[0]
    side_b = six.split("side--b")[1]
    assert "<del>" in side_a and "<ins>" not in side_a
    assert "<ins>" in side_b and "<del>" not in side_b


def test_renumbered_point_shows_both_numbers(client):
    """The Telegraph plan's point 11 is the draft's army cap, point 6."""
    six = row(html_of(client, f"{URL}?a=us-28-point-draft&b=europe-24-point-telegraph"), "6")
    assert "A: no. 6" in six and "B: no. 11" in six and "renumbered" in six


def test_added_points_are_rows_of_their_own(client):
    html = html_of(client, f"{URL}?a=us-28-point-draft&b=europe-24-point-telegraph")
    added = row(html, "europe-24-point-telegraph-3")
    assert "added" in added and "<ins>" in added


def test_rows_link_to_the_point_page_and_carry_an_anchor(client):
    six = row(html_of(client, US_E3), "6")
    assert f'href="/plans/{PLAN}/points/6/"' in six


def test_defaults_compare_the_first_two_revisions(client):
    html = html_of(client, URL)
    assert '<option value="us-28-point-draft" selected>' in html
    assert '<option value="e3-counter-proposal" selected>' in html
    assert 'id="point-6"' in html


def test_same_revision_on_both_sides_says_so(client):
    html = html_of(client, f"{URL}?a=e3-counter-proposal&b=e3-counter-proposal")
    assert "Both sides are the same text" in html


def test_each_revisions_sources_are_listed(client):
    html = html_of(client, US_E3)
    sources = html.split('id="compare-sources"')[1]
    us = Revision.objects.get(slug="us-28-point-draft").sources.first()
    e3 = Revision.objects.get(slug="e3-counter-proposal").sources.first()
    assert us.url in sources and e3.url in sources


def test_htmx_request_gets_only_the_comparison_region(client):
    """The region holds the form too: the swap brings back pickers that say what is shown (Back restores both)."""
    html = html_of(client, US_E3 + "&view=inline", **{"HX-Request": "true"})
    assert html.lstrip().startswith('<div id="comparison"')
    assert "<html" not in html and "site-header" not in html
    assert '<input type="radio" name="view" value="inline" checked>' in html.split('class="compare-form"')[1]
    assert 'id="compare-sources"' in html  # the sources follow the chosen pair


def test_history_restore_request_gets_the_whole_page(client):
    """After htmx's history cache misses, Back asks again with HX-History-Restore-Request: give the full page."""
    html = html_of(client, US_E3, **{"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in html


def test_form_works_without_javascript(client):
    """The pickers are a plain GET form with a submit button; htmx only enhances it."""
    html = html_of(client, US_E3)
    form = html.split('<form class="compare-form"')[1].split("</form>")[0]
    assert 'method="get"' in form and f'action="{URL}"' in form and 'type="submit"' in form
    assert 'hx-push-url="true"' in form and 'hx-target="#comparison"' in form


def test_compare_page_varies_on_hx_request(client):
    assert "HX-Request" in client.get(US_E3)["Vary"]


@pytest.mark.parametrize(
    "query,status,message",
    [
        ("?a=nope&b=e3-counter-proposal", 404, "no revision called"),
        ("?a=us-28-point-draft&b=nope", 404, "no revision called"),
        ("?a=us-28-point-draft&a=e3-counter-proposal", 400, "given 2 times"),
        ("?a=%3Cscript%3E", 400, "short name"),
        ("?a=" + "x" * 500, 400, "short name"),
        ("?a=Жовтень", 400, "short name"),
        ("?view=sideways", 400, "must be one of"),
        ("?changes=some", 400, "must be one of"),
        ("?changes=only&changes=all", 400, "given 2 times"),
    ],
)
def test_bad_parameters_get_a_clear_4xx(client, query, status, message):
    html = html_of(client, URL + query, status=status)
    assert message in html
    assert "<script>" not in html


def test_unknown_plan_is_a_404(client):
    assert client.get("/plans/nope/compare/?a=us-28-point-draft").status_code == 404


def test_revision_of_another_plan_is_a_404(client, tmp_path):
    """A revision slug that exists only in another plan is unknown here."""
    from peaceplans.models import Plan

    Plan.objects.create(slug="other-plan", title="Another negotiation")
    data = {
        "slug": "other-draft",
        "title": "Other",
        "author": "us",
        "published_on": "2026-01-01",
        "status": "leaked draft",
        "points": [{"number": "1", "topic": "other", "text": "Text."}],
    }
    path = tmp_path / "other.json"
    path.write_text(json.dumps(data))
    call_command("import_revision", str(path), plan="other-plan", verbosity=0)
    html = html_of(client, f"{URL}?a=us-28-point-draft&b=other-draft", status=404)
    assert "no revision called" in html


def test_a_later_revision_with_its_own_numbering_lines_up_through_derived_from(client, tmp_path):
    """An imported draft numbering the army cap 4 shows beside the draft's 6, both numbers visible."""
    data = {
        "slug": "us-20-point-draft",
        "title": "US-Ukraine 20-point draft",
        "author": ["us", "ukraine"],
        "published_on": "2025-12-24",
        "status": "leaked draft",
        "points": [
            {
                "number": "4",
                "topic": "military-limits",
                "derived_from": "6",
                "text": "Ukraine's armed forces stay at 800,000 in peacetime.",
            },
            {"number": "5", "topic": "nato", "derived_from": "7", "deleted": True, "text": None},
        ],
    }
    path = tmp_path / "draft.json"
    path.write_text(json.dumps(data))
    call_command("import_revision", str(path), plan=PLAN, verbosity=0)
    html = html_of(client, f"{URL}?a=us-28-point-draft&b=us-20-point-draft")
    six = row(html, "6")
    assert "A: no. 6" in six and "B: no. 4" in six and "renumbered" in six
    assert struck(six, "600,000") and inserted(six, "800,000")
    assert "Dropped." in row(html, "7")


def test_diff_text_is_escaped(client):
    """Clause text with markup is shown as text inside <ins>, never as markup."""
    clause = Clause.objects.get(revision__slug="e3-counter-proposal", number="6")
    clause.text = "<img src=x onerror=alert(1)> 800,000"
    clause.save()
    six = row(html_of(client, US_E3), "6")
    assert "<img" not in six and "&lt;img src=x onerror=alert(1)&gt;" in six


@pytest.mark.parametrize("query", ["", "&view=inline", "&changes=only"])
@pytest.mark.usefixtures("page_cache_off")
def test_compare_query_count_is_fixed(client, query):
    """
    Plan, revisions (not their authors: the pickers do not show them), topics (the topic picker),
    clauses of both sides, their stored word diffs, the rows' published notes, sources of both sides.
    """
    url = US_E3 + query
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert len(queries) == 7, [q["sql"][:100] for q in queries]


# The point page's "compare against"


def test_point_page_compares_every_revision_against_the_chosen_one(client):
    html = html_of(client, f"/plans/{PLAN}/points/6/?against=us-28-point-draft")
    e3 = html.split('id="clause-e3-counter-proposal"')[1].split("</li>")[0]
    assert struck(e3, "600,000") and inserted(e3, "800,000")
    base = html.split('id="clause-us-28-point-draft"')[1].split("</li>")[0]
    assert "the text compared against" in base and "<del>" not in base
    assert '<option value="us-28-point-draft" selected>' in html


def test_point_page_htmx_swaps_only_the_wording(client):
    html = html_of(client, f"/plans/{PLAN}/points/6/?against=e3-counter-proposal", **{"HX-Request": "true"})
    assert html.lstrip().startswith('<div id="wording"')
    assert "party-stances" not in html


@pytest.mark.parametrize("query,status", [("?against=nope", 404), ("?against=a&against=b", 400), ("?against=%3C", 400)])
def test_point_page_bad_against_gets_4xx(client, query, status):
    assert client.get(f"/plans/{PLAN}/points/6/{query}").status_code == status


def test_point_page_links_previous_and_next_points(client):
    html = html_of(client, f"/plans/{PLAN}/points/10a/")
    pager = html.split('class="pager"')[1].split("</nav>")[0]
    assert f'rel="prev" href="/plans/{PLAN}/points/10/"' in pager
    assert f'rel="next" href="/plans/{PLAN}/points/10b/"' in pager


@pytest.mark.usefixtures("page_cache_off")
def test_point_page_query_count_is_fixed_with_a_comparison(client):
    url = f"/plans/{PLAN}/points/6/?against=us-28-point-draft"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    # Neighbours come with the point (with_neighbours); the stored word diffs are one query.
    assert len(queries) == 9, [q["sql"][:100] for q in queries]


def test_comparison_fragment_is_small_once_compressed(client):
    """Budget: an HTMX fragment at most 15 KB compressed; the demo's biggest pair is measured."""
    response = client.get(US_E3, headers={"HX-Request": "true", "Accept-Encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"
    assert len(response.content) < 15 * 1024
