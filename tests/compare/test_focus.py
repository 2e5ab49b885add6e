"""
A comparison you can focus (issue 21, items 3, 4 and 6): topics, points, changes only, the summary,
the index, the points B's text does not cover, wording notes, what the header says of each text's
wording, the page's links, CSV and embed carrying the same filters, and the query count.
"""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peaceplans.models import Clause, Revision
from tests.parts import through_last

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
URL = f"/plans/{PLAN}/compare/"
US_E3 = f"{URL}?a=us-28-point-draft&b=e3-counter-proposal"
SECURITY = "&topic=nato&topic=military-limits&topic=territory"


def html_of(client, url, status=200, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code, response.content[:300])
    return response.content.decode()


def main_rows(html):
    """The keys of the rows in the main list (not the index, not the section of points B does not cover)."""
    main = html.split('<ol class="compare-rows">', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<li class="compare-row [^"]*" id="point-([^"]+)"', main)


def uncovered_rows(html):
    if 'id="not-in-b"' not in html:
        return []
    section = html.split('id="not-in-b"', 1)[1].split("</details>", 1)[0]
    return re.findall(r'id="point-([^"]+)"', section)


def row(html, key):
    return html.split(f'id="point-{key}"')[1].split("</li>")[0]


def topic_of(key):
    return Clause.objects.filter(point__plan__slug=PLAN, point__key=key).first().point.topic.slug


def test_several_topics_show_only_their_points(client):
    html = html_of(client, US_E3 + SECURITY)
    keys = main_rows(html) + uncovered_rows(html)
    assert "6" in keys and "7" in keys and "21" in keys
    assert {topic_of(key) for key in keys} == {"nato", "military-limits", "territory"}
    assert "1" not in keys and "11" not in keys  # sovereignty, sanctions
    assert "NATO, Military limits, Territory" in html.split("</h1>")[0]


def test_one_topic_narrows_the_counts_too(client):
    html = html_of(client, US_E3 + "&topic=military-limits")
    assert main_rows(html) == ["6"]
    counts = html.split('class="counts"')[1].split("</ul>")[0]
    assert "<strong>1</strong> changed" in counts and "dropped" not in counts


def test_points_list_shows_those_points_in_plan_order(client):
    html = html_of(client, US_E3 + "&points=21,6,7")
    assert main_rows(html) == ["6", "7", "21"]


def test_topics_and_points_together_keep_what_both_allow(client):
    assert main_rows(html_of(client, US_E3 + "&topic=nato&points=6,7")) == ["7"]


@pytest.mark.parametrize(
    "query,status,message",
    [
        ("&topic=weather", 400, "must name a topic"),
        ("&topic=NATO", 400, "must name a topic"),
        ("&topic=%3Cscript%3E", 400, "must name a topic"),
        ("&topic=" + "n" * 5000, 414, ""),  # over the request limits (ops/limits.py)
        ("&topic=" + "a" * 200, 400, "must name a topic"),
        ("".join(f"&topic=nato{i}" for i in range(20)), 400, "given 20 times"),
        ("&points=6;7", 400, "comma-separated list such as 6,7,21"),
        ("&points=6,,7", 400, "comma-separated list such as 6,7,21"),
        ("&points=6,%3Cb%3E", 400, "comma-separated list such as 6,7,21"),
        ("&points=" + ",".join(["6"] * 101), 400, "at most 100"),
        ("&points=" + "6" * 300, 400, "comma-separated list"),
        ("&points=6&points=7", 400, "given 2 times"),
        ("&points=999", 404, "no point “999”"),
    ],
)
def test_bad_focus_gets_a_clear_4xx_on_the_page_the_csv_and_the_embed(client, query, status, message):
    for url in (US_E3, f"/plans/{PLAN}/compare.csv?a=us-28-point-draft&b=e3-counter-proposal"):
        response = client.get(url + query)
        assert response.status_code == status, (url, query, response.content[:200])
        assert message in response.content.decode()
        assert "<script>" not in response.content.decode()
    embed = client.get(f"/embed/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal" + query)
    assert embed.status_code == status


@pytest.fixture
def cosmetic_five():
    """E3's point 5 differs from the draft's in letter case and punctuation only; its point 1 is the same."""
    us_five = Clause.objects.get(revision__slug="us-28-point-draft", number="5")
    e3_five = Clause.objects.get(revision__slug="e3-counter-proposal", number="5")
    e3_five.text = us_five.text.upper().rstrip(".") + "!"
    e3_five.save()
    e3_one = Clause.objects.get(revision__slug="e3-counter-proposal", number="1")
    e3_one.text = Clause.objects.get(revision__slug="us-28-point-draft", number="1").text
    e3_one.save()


def test_changes_only_hides_cosmetic_and_unchanged_rows(client, cosmetic_five):
    everything = html_of(client, US_E3)
    assert "compare-row--cosmetic" in everything and "compare-row--unchanged" in everything
    only = html_of(client, US_E3 + "&changes=only")
    assert "5" not in main_rows(only) and "1" not in main_rows(only) and "6" in main_rows(only)
    assert "compare-row--cosmetic" not in only and "compare-row--unchanged" not in only
    counts = only.split('class="counts"')[1].split("</ul>")[0]  # the counts still count them
    assert "<strong>1</strong> same words" in counts and re.search(r"<strong>[1-9]\d*</strong> unchanged", counts)


def test_points_b_does_not_cover_are_in_a_closed_section_at_the_end(client):
    """
    The section is closed, its count complete; its rows load when it is opened (they are the parts
    after the main list's): without JavaScript its link opens the page with them, the section open.
    """
    html = html_of(client, US_E3)
    assert "17" not in main_rows(html)
    section = html.split('<details class="compare-uncovered" id="not-in-b">')[1].split("</details>")[0]
    assert uncovered_rows(html) == []
    shown = through_last(client, US_E3)
    assert "17" in uncovered_rows(shown) and "6" not in uncovered_rows(shown)
    assert f"<summary>Not in B's text: {len(uncovered_rows(shown))} points" in section
    assert f"(1–{len(uncovered_rows(shown))} of {len(uncovered_rows(shown))})" in section
    assert 'hx-trigger="intersect once, click"' in section  # not `revealed`: that fires at once in a closed section
    assert html.index('id="not-in-b"') > html.index(f'id="point-{main_rows(html)[-1]}"')
    assert '<details class="compare-uncovered" id="not-in-b" open' not in html
    assert '<details class="compare-uncovered" id="not-in-b" open>' in shown


@pytest.fixture
def material():
    """The editors mark E3's army cap and its dropping of point 3 (only) as material changes, with notes."""
    Clause.objects.update(material_change=False)  # the demo's own marks are tested in test_load_demo
    six = Clause.objects.get(revision__slug="e3-counter-proposal", number="6")
    six.material_change, six.change_note = True, "Army cap raised to 800,000 <in peacetime>."
    six.save()
    three = Clause.objects.get(revision__slug="e3-counter-proposal", number="3")
    three.material_change = True
    three.save()


def test_summary_band_lists_material_rows_with_notes_and_links(client, material):
    html = html_of(client, US_E3)
    summary = html.split('class="compare-summary"')[1].split("</section>")[0]
    assert "What changed most" in summary
    assert '<span class="point-key">6</span> <a href="#point-6">Army cap</a>' in summary
    assert "Army cap raised to 800,000 &lt;in peacetime&gt;." in summary
    assert '<a href="#point-3">' in summary
    assert summary.index("#point-3") < summary.index("#point-6")  # plan order
    assert '<a href="#point-7">' not in summary
    counts = summary.split('class="counts"')[1].split("</ul>")[0]
    assert ">0<" not in counts and "changed" in counts  # non-zero counts only


def test_summary_band_follows_the_focus(client, material):
    summary = html_of(client, US_E3 + "&topic=nato").split('class="compare-summary"')[1].split("</section>")[0]
    assert '<a href="#point-3">' in summary and "#point-6" not in summary


def test_index_lists_each_row_with_number_title_and_status(client):
    html = html_of(client, US_E3 + SECURITY)
    index = html.split('<details class="compare-index">')[1].split("</details>")[0]
    entries = re.findall(r'<a href="#point-([^"]+)">', index)
    assert entries == main_rows(html)
    assert "Army cap" in index or "army" in index.lower()
    assert re.search(r'href="#point-3">.*?status--dropped">dropped</span>', index)
    assert 'href="#not-in-b"' in index


def test_wording_notes_sit_beside_the_text_and_never_in_the_diff(client):
    e3 = Clause.objects.get(revision__slug="e3-counter-proposal", number="15")
    assert e3.wording_note == "Exact wording not found."
    for view in ("side", "inline"):
        fifteen = row(html_of(client, US_E3 + f"&view={view}"), "15")
        assert "Exact wording not found." in fifteen
        assert not re.search(r"<(del|ins)>[^<]*Exact wording not found", fifteen)
        marked = "".join(re.findall(r"<(?:del|ins)>([^<]*)</(?:del|ins)>", fifteen))
        assert "wording not found" not in marked
    side = row(html_of(client, US_E3), "15").split('class="side side--b"')[1]
    assert '<p class="wording-note">Note on the wording: Exact wording not found.</p>' in side
    assert side.index("clause-text") < side.index("wording-note")


def test_header_says_paraphrase_only_for_paraphrased_texts(client):
    Revision.objects.filter(slug="e3-counter-proposal").update(wording="verbatim")
    html = html_of(client, US_E3)
    texts = html.split('<dl class="compare-texts">')[1].split("</dl>")[0]
    side_a, side_b = texts.split("side-badge--b")
    assert "our paraphrase" in side_a
    assert "paraphrase" not in side_b and "own words" in side_b
    Revision.objects.filter(slug="us-28-point-draft").update(wording="reported")
    texts = html_of(client, US_E3).split('<dl class="compare-texts">')[1].split("</dl>")[0]
    assert "paraphrase" not in texts and "as reported" in texts
    assert "Text is our paraphrase of each version" not in html_of(client, US_E3)


def test_a_dropped_point_without_a_number_says_so(client):
    Clause.objects.filter(revision__slug="e3-counter-proposal", number="21a").update(number="")
    twenty_one_a = row(html_of(client, US_E3), "21a")
    assert "B: dropped (no number of its own)" in twenty_one_a
    assert "B: </span>" not in twenty_one_a


def test_titles_are_whole_and_rows_use_short_labels(client):
    html = html_of(client, US_E3)
    assert "E3 (UK, France, Germany) counter-proposal to the 28-point plan</a>" in html
    assert "…" not in html.split('<ol class="compare-rows">')[1].split("</ol>")[0]
    assert '<span class="side-badge side-badge--b">B</span> E3</p>' in row(html, "6")
    bar = html.split('<div class="compare-bar"')[1].split("</div>")[0]
    assert "US draft · 20 Nov 2025" in bar and "E3 · 23 Nov 2025" in bar


def test_links_csv_and_embed_carry_the_filters(client):
    html = html_of(client, US_E3 + SECURITY + "&changes=only&points=3,6,7,21")
    csv_link = re.search(r'<a href="([^"]+)" download>Download CSV', html).group(1).replace("&amp;", "&")
    assert csv_link.startswith(f"/plans/{PLAN}/compare.csv?a=us-28-point-draft&b=e3-counter-proposal")
    for part in ("changes=only", "topic=nato", "topic=military-limits", "topic=territory", "points=3%2C6%2C7%2C21"):
        assert part in csv_link, part
    embed = html.split('class="embed-snippet"')[1] if 'class="embed-snippet"' in html else html.split("embed/plans")[1]
    assert "topic=nato" in embed and "points=3%2C6%2C7%2C21" in embed and "changes=only" in embed
    canonical = re.search(r'<link rel="canonical" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "topic=territory" in canonical and "points=3%2C6%2C7%2C21" in canonical
    chips = html.split('<ul class="topic-chips"')[1].split("</ul>")[0]
    nato_off = re.search(r'<a href="([^"]+)"[^>]*>NATO', chips).group(1).replace("&amp;", "&")
    assert "topic=nato" not in nato_off and "topic=territory" in nato_off


def test_csv_has_the_focused_rows_only(client):
    response = client.get(f"/plans/{PLAN}/compare.csv?a=us-28-point-draft&b=e3-counter-proposal{SECURITY}")
    assert response.status_code == 200
    lines = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    keys = [line["key"] for line in lines]
    assert "6" in keys and "21" in keys and "1" not in keys
    assert {topic_of(key) for key in keys} == {"nato", "military-limits", "territory"}
    assert "topic=nato" in lines[0]["url"]
    only = client.get(f"/plans/{PLAN}/compare.csv?a=us-28-point-draft&b=e3-counter-proposal&points=6")
    assert [line["key"] for line in csv.DictReader(io.StringIO(only.content.decode("utf-8-sig")))] == ["6"]


def test_embed_takes_the_topic_filter(client):
    html = html_of(
        client, f"/embed/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal&topic=military-limits"
    )
    assert re.findall(r'<li class="row row--[a-z]+" id="point-([^"]+)"', html) == ["6"]


def test_htmx_swap_brings_the_form_back_with_the_new_state(client):
    html = html_of(client, f"{URL}?a=us-28-point-draft&b=us-ukraine-geneva-framework", **{"HX-Request": "true"})
    assert html.lstrip().startswith('<div id="comparison"') and "<html" not in html
    assert '<option value="us-ukraine-geneva-framework" selected>' in html.split('id="pick-b"')[1].split("</select>")[0]


@pytest.mark.parametrize("query", ["", SECURITY, SECURITY + "&points=6,7&changes=only", "&view=inline"])
@pytest.mark.usefixtures("page_cache_off")
def test_focused_page_query_count(client, query):
    """
    Plan, revisions, topics, clauses of both sides, their stored word diffs, notes, sources (and the points'
    check when points are named).
    """
    url = US_E3 + query
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert len(queries) == (8 if "points" in query else 7), [q["sql"][:100] for q in queries]
