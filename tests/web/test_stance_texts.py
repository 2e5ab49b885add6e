"""
A stance answers one text (issue 21, item 1): the matrix cells, its "positions on" choice, its
"+N earlier" history, the point and party pages name the text each stance answers; the point and
revision pages show wording notes beside the text and unnumbered dropped clauses as such.

Facts are checked against the demo data (peaceplans/data/demo/stances.json): on point 8 ("No
NATO troops in Ukraine") Europe's latest stance supports the Berlin statement (15 Dec 2025) and
Russia's latest opposes it (28 Dec 2025); Russia supported the US wording on 11 Dec 2025; Europe has
no stance on the US wording, only on E3 (proposes amendment) and Berlin (supports).
"""

import html as html_lib
import re
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peaceplans.models import Clause, Party, Point, Revision, Stance
from tests.parts import through_last

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
URL = f"/plans/{PLAN}/"
ALL = URL + "?per_page=100"  # every point on one page (point 21d is past the first 30)
US, E3, BERLIN = "us-28-point-draft", "e3-counter-proposal", "berlin-joint-statement"


def get(client, url, status=200, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code, response.content[:300])
    return response.content.decode()


def cell(html: str, key: str, party: str) -> str:
    """The text of a party's cell in the matrix row of a point (tags dropped, spaces folded)."""
    row = re.search(rf'<tr id="point-{re.escape(key)}">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r'<td class="cell-stance">(.*?)</td>', row, re.S)
    order = list(Party.objects.values_list("slug", flat=True))
    return text_of(cells[order.index(party)])


def text_of(fragment: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).replace("\u00a0", " ").split())


# ---- the data the tests below rely on ----


def test_the_demo_data_holds_the_stances_the_issue_describes():
    """Point 8: Europe and Russia's latest stances answer the Berlin statement; Russia also answered the US draft."""
    on_8 = Stance.objects.filter(point__key="8").select_related("party", "revision").order_by("stated_on", "pk")
    facts = [(s.party.slug, s.revision.slug, s.position, s.stated_on.isoformat()) for s in on_8]
    assert ("europe", BERLIN, "supports", "2025-12-15") in facts
    assert ("russia", BERLIN, "opposes", "2025-12-28") in facts
    assert ("russia", US, "supports", "2025-12-11") in facts
    assert not [f for f in facts if f[0] == "europe" and f[1] == US]
    assert Revision.objects.get(slug=BERLIN).label == "Berlin"


# ---- the matrix: latest statement ----


def test_latest_cells_name_the_text_each_stance_answers(client):
    """Europe's and Russia's cells on point 8 say 'on Berlin', with the position and date of that stance."""
    html = get(client, URL)
    europe, russia = cell(html, "8", "europe"), cell(html, "8", "russia")
    assert "✓ supports · on Berlin" in europe and "15 Dec 2025" in europe
    assert "✗ opposes · on Berlin" in russia and "28 Dec 2025" in russia


def test_latest_cells_on_the_us_draft_name_it_too(client):
    """In the latest-statement view no text is in view, so even the US draft is named."""
    assert "· on US draft" in cell(get(client, ALL), "21d", "russia")


def test_latest_view_is_the_default_and_on_latest_is_the_same_page(client):
    assert cell(get(client, ALL), "21d", "russia") == cell(get(client, ALL + "&on=latest"), "21d", "russia")


def test_a_cell_with_more_stances_says_how_many_and_links_to_the_history(client):
    """Russia has two stances on point 8: the cell offers '+1 earlier', a plain link with hx-get on top."""
    html = get(client, URL)
    row = re.search(r'<tr id="point-8">(.*?)</tr>', html, re.S).group(1)
    link = re.findall(r'<a class="cell__more" href="([^"]+)" hx-get="([^"]+)"[^>]*>(.*?)</a>', row)[-1]
    assert link[0] == f"/plans/{PLAN}/points/8/#party-russia"
    assert link[1] == f"/plans/{PLAN}/points/8/stances/russia/"
    assert text_of(link[2]).replace(" :", ":") == "+1 earlier: Russia's statements on point 8"


def test_a_cell_with_one_stance_offers_no_history(client):
    """Point 21d: Russia has one stance, so its cell has no '+N' control."""
    assert "earlier" not in cell(get(client, ALL), "21d", "russia")


def test_headers_and_caption_say_what_the_cells_answer(client):
    html = get(client, URL)
    assert "its latest statement, and the text that statement answers" in html
    assert "each party's <strong>latest statement</strong> on the point and, after “on”, the text it answers" in html


# ---- the matrix: one text in view ----


def test_positions_on_the_us_draft_show_russias_stance_on_that_wording(client):
    """Point 8 on the US draft: Russia supports (11 Dec 2025), not its later stance on Berlin."""
    russia = cell(get(client, URL + f"?on={US}"), "8", "russia")
    assert russia.startswith("Russia ✓ supports 11 Dec 2025")
    assert "opposes" not in russia and "on Berlin" not in russia


def test_stances_on_other_texts_are_only_muted_with_their_labels(client):
    """Europe has no stance on the US wording of point 8: 'none on US draft', then its other stances in brackets."""
    html = get(client, URL + f"?on={US}")
    row = re.search(r'<tr id="point-8">(.*?)</tr>', html, re.S).group(1)
    europe_html = re.findall(r'<td class="cell-stance">(.*?)</td>', row, re.S)[2]
    assert '<a class="stance ' not in europe_html, "a stance on another text must not look like a position"
    muted = [text_of(m).replace(" )", ")") for m in re.findall(r'<a class="stance-other"[^>]*>(.*?)</a>', europe_html)]
    assert muted == ["(on Berlin: ✓ supports, 15 Dec 2025)", "(on E3: ✎ proposes amendment, 23 Nov 2025)"]
    assert text_of(europe_html).startswith("Europe — none on US draft")


def test_column_headings_and_caption_name_the_text_in_view(client):
    html = get(client, URL + f"?on={E3}")
    headings = [text_of(th) for th in re.findall(r"<th [^>]*>(.*?)</th>", html, re.S)]
    assert [h.rstrip(" ↕") for h in headings[3:]] == ["US on E3", "Ukraine on E3", "Europe on E3", "Russia on E3"]
    assert "Where each party stands on the E3 wording of each point" in html
    assert "they are not positions on E3" in html


def test_a_text_in_view_keeps_the_points_it_words_or_was_answered_on(client):
    """On E3: point 21d, which E3 drops, stays; every row has a clause of E3 or a stance answering it."""
    html = get(client, ALL + f"&on={E3}")
    keys = re.findall(r'<tr id="point-([^"]+)">', html)
    e3 = Revision.objects.get(slug=E3)
    expected = set(Clause.objects.filter(revision=e3).values_list("point__key", flat=True))
    expected |= set(Stance.objects.filter(revision=e3, point__isnull=False).values_list("point__key", flat=True))
    assert "21d" in keys
    assert set(keys) <= expected


def test_the_choice_is_a_plain_get_field_with_every_text(client):
    html = get(client, URL + f"?on={BERLIN}")
    select = re.search(r'<select name="on"[^>]*>(.*?)</select>', html, re.S).group(1)
    values = re.findall(r'<option value="([^"]+)"', select)
    assert values == ["latest", *Revision.objects.order_by("published_on", "pk").values_list("slug", flat=True)]
    assert f'<option value="{BERLIN}" selected>' in select


def test_the_text_in_view_applies_to_the_position_filter(client):
    """Russia opposes the Berlin text on point 8, but supports the US wording: the filter reads the cell shown."""
    on_us = get(client, URL + f"?on={US}&party=russia&position=opposes")
    on_berlin = get(client, URL + f"?on={BERLIN}&party=russia&position=opposes")
    assert 'id="point-8"' not in on_us
    assert 'id="point-8"' in on_berlin


def test_the_csv_link_keeps_the_text_in_view(client):
    assert f"/plans/{PLAN}/matrix.csv?on={US}" in get(client, URL + f"?on={US}")


def test_htmx_request_with_a_text_returns_the_region_naming_it(client):
    html = get(client, URL + f"?on={US}", **{"HX-Request": "true"})
    assert html.lstrip().startswith('<div id="matrix"')
    assert "Positions on the <strong>US draft</strong> text" in html


# ---- the on= parameter: bad input ----


@pytest.mark.parametrize(
    "value",
    [
        "nonsense",
        "US-28-POINT-DRAFT",
        "%3Cscript%3Ealert(1)%3C/script%3E",
        "..%2F..%2Fetc%2Fpasswd",
        "%D0%91%D0%B5%D1%80%D0%BB%D1%96%D0%BD",  # Cyrillic
        "%F0%9F%95%8A",  # emoji
        "x" * 300,
        "latest%20",
    ],
)
def test_an_unknown_text_is_a_400_saying_what_to_choose(client, value):
    html = get(client, URL + f"?on={value}", status=400)
    assert "<script>alert" not in html
    assert "Positions on: “" in text_of(html)
    assert "is not one of this plan's texts: choose “latest” (each party's latest statement)" in text_of(html)


def test_a_text_with_a_nul_byte_is_refused_before_the_filters(client):
    assert "Bad request" in get(client, URL + f"?on={US}%00", status=400)


def test_on_given_twice_is_a_400(client):
    html = get(client, URL + f"?on={US}&on=latest", status=400)
    assert "“on” was given 2 times in the address; give it once." in html


def test_an_unknown_text_in_the_csv_is_a_plain_400(client):
    response = client.get(f"/plans/{PLAN}/matrix.csv?on={quote('<b>x</b>')}")
    assert response.status_code == 400
    assert "is not one of this plan's texts" in response.content.decode()


def test_an_unpublished_text_cannot_be_chosen(client):
    Revision.objects.filter(slug=BERLIN).update(public=False)
    get(client, URL + f"?on={BERLIN}", status=400)


# ---- the '+N earlier' history ----


def test_history_fragment_lists_the_partys_stances_newest_first_with_their_texts(client):
    html = get(client, f"/plans/{PLAN}/points/8/stances/russia/", **{"HX-Request": "true"})
    assert html.lstrip().startswith('<details class="cell-history" open>')
    assert "Russia on point 8: 2 statements, newest first" in html
    items = [text_of(item) for item in re.findall(r'<li class="cell-history__item">(.*?)</li>', html, re.S)]
    assert len(items) == 2
    assert items[0].startswith("✗ opposes on Berlin 28 Dec 2025")
    assert items[1].startswith("✓ supports on US draft 11 Dec 2025")
    assert "Sergei Lavrov" in items[0]
    stance = Stance.objects.get(point__key="8", party__slug="russia", revision__slug=BERLIN)
    assert f'href="/plans/{PLAN}/points/8/#stance-{stance.pk}"' in html
    assert f'href="{stance.source.url}"' in html


def test_history_fragment_without_htmx_sends_the_reader_to_the_point_page(client):
    response = client.get(f"/plans/{PLAN}/points/8/stances/russia/")
    assert response.status_code == 302
    assert response["Location"] == f"/plans/{PLAN}/points/8/#party-russia"


@pytest.mark.parametrize(
    "url",
    [
        f"/plans/{PLAN}/points/999/stances/russia/",
        f"/plans/{PLAN}/points/8/stances/atlantis/",
        f"/plans/{PLAN}/points/%3Cx%3E/stances/russia/",
        "/plans/no-such-plan/points/8/stances/russia/",
    ],
)
def test_history_fragment_of_an_unknown_point_party_or_plan_is_a_404(client, url):
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 404


def test_history_fragment_escapes_what_editors_wrote(client):
    stance = Stance.objects.filter(point__key="8", party__slug="russia").first()
    Stance.objects.filter(pk=stance.pk).update(summary="<img src=x onerror=alert(1)>")
    html = get(client, f"/plans/{PLAN}/points/8/stances/russia/", **{"HX-Request": "true"})
    assert "<img" not in html and "&lt;img src=x" in html


@pytest.mark.usefixtures("page_cache_off")
def test_history_fragment_runs_a_fixed_number_of_queries(client, plan):
    url = f"/plans/{PLAN}/points/8/stances/russia/"
    client.get(url, headers={"HX-Request": "true"})
    with CaptureQueriesContext(connection) as before:
        client.get(url, headers={"HX-Request": "true"})
    template = Stance.objects.filter(point__key="8", party__slug="russia").first()
    for day in range(20):
        template.pk = None
        template.summary = f"generated {day}"
        template.save()
    with CaptureQueriesContext(connection) as after:
        html = get(client, url, **{"HX-Request": "true"})
    assert "22 statements" in html
    assert len(before) == len(after) == 4, [q["sql"][:100] for q in after]


@pytest.mark.usefixtures("page_cache_off")
@pytest.mark.parametrize("query", ["", f"?on={US}", f"?on={E3}&sort=-russia"])
def test_the_overview_with_a_text_in_view_runs_a_fixed_number_of_queries(client, plan, query):
    client.get(URL + query)
    with CaptureQueriesContext(connection) as before:
        client.get(URL + query)
    template = Stance.objects.filter(point__isnull=False, revision__slug=US).first()
    for point in plan.points.all()[:30]:
        for party in Party.objects.all():
            for revision in Revision.objects.all()[:3]:
                Stance.objects.create(
                    plan=plan,
                    party=party,
                    point=point,
                    revision=revision,
                    position="unclear",
                    stated_on=template.stated_on,
                    summary="generated",
                    source=template.source,
                )
    with CaptureQueriesContext(connection) as after:
        assert client.get(URL + query).status_code == 200
    assert len(before) == len(after) == 8, [q["sql"][:100] for q in after]


# ---- the point page ----


def test_point_page_groups_stances_by_party_each_with_an_anchor(client):
    html = get(client, f"/plans/{PLAN}/points/21d/")
    for party in Party.objects.all():
        assert f'<h3 id="party-{party.slug}" class="party-heading">' in html


def test_point_page_names_the_text_each_stance_answers(client):
    """Point 21d (the Donetsk zone): the US, Ukraine and Russia answer the US draft; each card says so."""
    html = get(client, f"/plans/{PLAN}/points/21d/")
    stances = Stance.objects.filter(point__key="21d").select_related("party", "revision")
    assert {s.party.slug for s in stances} >= {"us", "ukraine", "russia"}
    for stance in stances:
        card = re.search(rf'<article [^>]*id="stance-{stance.pk}">(.*?)</article>', html, re.S).group(1)
        assert f"on {stance.revision.label}" in text_of(card)


def test_point_page_shows_the_wording_note_beside_the_text_not_in_the_diff(client):
    """Point 5's US wording carries 'No detail given at this point.': shown as a note, also when diffed."""
    html = get(client, f"/plans/{PLAN}/points/5/?against={E3}")
    item = re.search(rf'<li [^>]*id="clause-{US}">(.*?)</li>', html, re.S).group(1)
    assert "Note on the wording: No detail given at this point." in text_of(item)
    clause_text = re.search(r'<p class="clause-text">(.*?)</p>', item, re.S).group(1)
    assert "No detail given" not in clause_text


def test_an_unnumbered_dropped_clause_says_so_on_the_point_and_revision_pages(client):
    clause = Clause.objects.filter(revision__slug=E3, point__key="21d").get()
    assert clause.dropped
    Clause.objects.filter(pk=clause.pk).update(number="")
    point_html = text_of(get(client, f"/plans/{PLAN}/points/21d/"))
    assert "dropped (no number of its own)" in point_html
    revision_html = text_of(get(client, f"/plans/{PLAN}/revisions/{E3}/"))
    assert "dropped (no number of its own)" in revision_html


def test_revision_page_shows_wording_notes(client):
    html = text_of(get(client, f"/plans/{PLAN}/revisions/{E3}/"))
    assert "Note on the wording: Exact wording not found." in html


# ---- the party page and the embed ----


def test_party_page_names_the_text_of_each_latest_position(client):
    html = through_last(client, f"/plans/{PLAN}/parties/russia/")  # 21d is past the first part
    row = text_of(re.search(r'<tr id="point-8">(.*?)</tr>', html, re.S).group(1))
    assert "✗ opposes · on Berlin" in row
    row = text_of(re.search(r'<tr id="point-21d">(.*?)</tr>', html, re.S).group(1))
    assert "proposes amendment · on US draft" in row


def test_embed_names_the_text_each_latest_stance_answers(client):
    html = get(client, f"/embed/plans/{PLAN}/points/8/")
    russia = text_of(re.search(r'<li class="stance stance--russia">(.*?)</li>', html, re.S).group(1))
    assert "✗ opposes · on Berlin · 28 Dec 2025" in russia


def test_point_8_and_21d_exist_in_the_demo():
    assert Point.objects.filter(key__in=["8", "21d"]).count() == 2


def test_the_point_page_jumps_straight_to_each_partys_stances(client):
    """On a phone the stances sit below every text's wording: a line under the title links to each party's."""
    html = client.get("/plans/russia-ukraine-2025/points/21d/").content.decode()
    jump = html.split('<nav class="jump" aria-label="On this page">')[1].split("</nav>")[0]
    assert '<a href="#stances-heading">Where each party stands</a>' in jump
    for slug in ("us", "ukraine", "europe", "russia"):
        assert f'href="#party-{slug}"' in jump and f'id="party-{slug}"' in html
    assert html.index('class="jump"') < html.index('id="wording-heading"')
