"""Public pages: content from the demo data, HTMX partials, 404s, escaping and query counts."""

import re

import pytest
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext

from peaceplans.models import Party, Point, Revision, Source, Stance
from peaceplans.web.tables import POSITION_ICONS
from tests.parts import through_last

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"


def page(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_home_is_the_featured_plan_overview(client):
    """'/' shows the featured plan with its revisions and the stance matrix."""
    html = page(client, "/")
    assert "Ending Russia&#x27;s war against Ukraine" in html
    assert "US 28-point peace plan" in html
    assert 'class="matrix"' in html


def test_overview_shows_all_four_parties_as_columns(client):
    """The matrix has a column headed by each party's short name."""
    html = page(client, f"/plans/{PLAN}/")
    for party in Party.objects.all():
        assert f"party party--{party.slug}" in html
        assert f">{party.short_name}<" in html


def test_overview_time_strip_lists_revisions_in_date_order(client):
    """Revisions appear on the strip from the US draft to the Berlin statement."""
    html = page(client, f"/plans/{PLAN}/")
    strip = html.split('class="time-strip"')[1].split("</ol>")[0]
    positions = [
        strip.index(title) for title in ("US 28-point peace plan", "E3 (UK, France, Germany)", "Berlin joint statement")
    ]
    assert positions == sorted(positions)


def test_matrix_cell_shows_latest_position_as_icon_and_word_linked_to_point(client):
    """Russia's cell for point 7 is its latest stance, with icon, word and a link to the evidence."""
    latest = Stance.objects.filter(point__key="7", party__slug="russia").order_by("stated_on", "pk").last()
    html = page(client, f"/plans/{PLAN}/")
    cell = f'href="/plans/{PLAN}/points/7/#stance-{latest.pk}"'
    assert cell in html
    after = html.split(cell)[1][:400]
    assert latest.get_position_display() in after
    assert 'class="stance__icon" aria-hidden="true"' in after


def test_matrix_marks_missing_stances_in_words(client):
    """A point nobody spoke about says 'not recorded' rather than leaving a blank cell."""
    html = page(client, f"/plans/{PLAN}/")
    assert "not recorded" in html


def test_matrix_is_sortable_by_party_position(client):
    """Sorting by a party column puts points with a recorded stance before those without."""
    html = page(client, f"/plans/{PLAN}/?sort=russia")
    first_row = html.split("<tbody")[1].split("</tr>")[0]
    assert "stance stance--" in first_row.split("cell-stance")[-1]
    assert "stance--none" not in first_row.split("cell-stance")[-1]


def test_matrix_paginates(client):
    """51 points split over two pages; page 2 holds the Telegraph-only points."""
    html = page(client, f"/plans/{PLAN}/?page=2")
    assert "Page 2 of 2" in html
    assert "Lasting end to the war" in html


@pytest.mark.parametrize("query", ["?page=999", "?page=abc", "?sort=nonsense", "?sort=%3Cscript%3E", "?page=-1"])
def test_matrix_survives_hostile_query_strings(client, query):
    """Bad sort or page values never cause a 500: a bad sort is ignored, a bad page 400 or 404 (ops/test_limits.py)."""
    response = client.get(f"/plans/{PLAN}/{query}")
    assert response.status_code in (200, 400, 404)
    assert b"<script>" not in response.content


def test_matrix_htmx_request_gets_only_the_region(client):
    """An HTMX request gets the matrix partial, not the whole page."""
    html = page(client, f"/plans/{PLAN}/?sort=-russia", **{"HX-Request": "true"})
    assert html.lstrip().startswith('<div id="matrix"')
    assert "<html" not in html and "time-strip" not in html
    assert 'hx-push-url="true"' in html


def test_plan_page_varies_on_hx_request(client):
    """Caches must keep the full page and the partial apart."""
    response = client.get(f"/plans/{PLAN}/")
    assert "HX-Request" in response["Vary"]


def test_point_6_shows_both_army_caps(client):
    """Point 6 shows 600,000 in the US draft and 800,000 in the E3 text, each under its revision."""
    html = page(client, f"/plans/{PLAN}/points/6/")
    us = html.split('id="clause-us-28-point-draft"')[1].split("</li>")[0]
    e3 = html.split('id="clause-e3-counter-proposal"')[1].split("</li>")[0]
    assert "600,000" in us
    assert "800,000" in e3


def test_point_7_shows_russian_and_ukrainian_stances_with_sources(client):
    """Point 7 (NATO) shows each party's stance with quote or summary, speaker, date and source link."""
    html = page(client, f"/plans/{PLAN}/points/7/")
    for party in ("russia", "ukraine"):
        stance = Stance.objects.filter(point__key="7", party__slug=party).select_related("source").last()
        assert stance is not None
        assert f'id="stance-{stance.pk}"' in html
        block = html.split(f'id="stance-{stance.pk}"')[1].split("</article>")[0]
        assert stance.source.outlet.replace("'", "&#x27;") in block
        assert f'href="{stance.source.url}"' in block
        assert stance.stated_on.strftime("%Y-%m-%d") in block
        if stance.speaker:
            assert stance.speaker.replace("'", "&#x27;").split(" (")[0] in block


def test_point_page_marks_a_dropped_point(client):
    """Point 3 was removed by the E3 text: the page says 'Dropped', with the change note."""
    html = page(client, f"/plans/{PLAN}/points/3/")
    e3 = html.split('id="clause-e3-counter-proposal"')[1].split("</li>")[0]
    assert "Dropped." in e3


def test_point_page_says_when_a_revision_does_not_contain_the_point(client):
    html = page(client, f"/plans/{PLAN}/points/17/")
    berlin = html.split('id="clause-berlin-joint-statement"')[1].split("</li>")[0]
    assert "Not in this text." in berlin


def test_point_page_explains_unpublished_numbering(client):
    """Geneva's '?6' is shown as an unknown number, not as if it were '?6'."""
    html = page(client, f"/plans/{PLAN}/points/6/")
    assert "own number not public (answers draft point 6)" in html


def test_split_point_links_to_its_origin(client):
    html = page(client, f"/plans/{PLAN}/points/europe-24-point-telegraph-7/")
    assert f'href="/plans/{PLAN}/points/24/"' in html
    assert "split from" in html


def test_revision_page_shows_text_provenance_and_sources(client):
    html = page(client, f"/plans/{PLAN}/revisions/e3-counter-proposal/")
    assert "800,000" in html
    assert "Provenance" in html and "Reuters" in html
    assert 'id="point-6"' in html
    assert "Sources for this text" in html


def test_party_page_lists_every_point(client, plan):
    html = through_last(client, f"/plans/{PLAN}/parties/russia/")  # every part of it
    assert html.count("<tr>") + html.count('<tr id="point-') == plan.points.count() + 1


def test_party_page_row_shows_the_latest_stance_linked_to_the_statement(client, plan):
    """Each row: the point linked, the party's latest position as icon and word, its date linked to the statement."""
    html = through_last(client, f"/plans/{PLAN}/parties/russia/")
    for point in plan.points.all():
        latest = point.stances.filter(party__slug="russia").order_by("-stated_on", "-pk").first()
        row = html.split(f'<tr id="point-{point.key}">')[1].split("</tr>")[0]
        url = f"/plans/{PLAN}/points/{point.key}/"
        assert f'<td><a href="{url}">' in row
        if latest is None:
            assert "— not recorded" in row
            continue
        icon, label = POSITION_ICONS[latest.position], latest._get_FIELD_display(Stance._meta.get_field("position"))
        assert f'position--{latest.position}"><span aria-hidden="true">{icon}</span> {label}</span>' in row
        assert f'<a href="{url}#stance-{latest.pk}">{date_filter(latest.stated_on, "j M Y")}</a>: ' in row


def query_plan(queryset) -> str:
    """SQLite's plan for a queryset, one step a line."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(row[-1] for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plan")
def test_one_partys_stances_in_a_plan_are_found_through_the_plan_and_party_index(plan):
    """
    The party page reads one party's stances in one plan: through the index on both, not by
    walking that party's stances in every plan of the archive (SQLite without statistics
    would otherwise pick the party's own index).
    """
    party = Party.objects.get(slug="russia")
    on_revisions = plan.stances.filter(party=party, point__isnull=True).with_sources().chronological()
    assert "USING INDEX stance_plan_party_point" in query_plan(on_revisions)


@pytest.mark.parametrize("model,field", [(Stance, "position"), (Source, "kind"), (Revision, "status")])
def test_choice_labels_are_the_ones_django_gives(model, field):
    """get_<field>_display reads a dict made once and gives Django's answer: the label, or an unknown value itself."""
    choices = [*model._meta.get_field(field).flatchoices, ("not-a-choice", "not-a-choice")]
    for value, label in choices:
        instance = model(**{field: value})
        assert getattr(instance, f"get_{field}_display")() == label
        assert label == instance._get_FIELD_display(model._meta.get_field(field))


def test_timeline_lists_events_and_revisions_by_date(client):
    html = page(client, f"/plans/{PLAN}/timeline/")
    assert html.index("Leaked Dmitriev-Ushakov call") < html.index("US 28-point peace plan")


def test_source_list_shows_kind_and_flags_uncitable_pages(client):
    html = page(client, "/sources/")
    assert "agency copy via Reuters" in html
    assert "not citable" in html


@pytest.mark.parametrize(
    "url",
    [
        "/plans/nope/",
        f"/plans/{PLAN}/points/999/",
        f"/plans/{PLAN}/points/%3Cscript%3E/",
        f"/plans/{PLAN}/revisions/nope/",
        f"/plans/{PLAN}/parties/nope/",
        "/plans/nope/points/6/",
        "/plans/nope/timeline/",
        "/plans/Жовтень/",
        "/nowhere/",
    ],
)
def test_unknown_addresses_get_a_proper_404_page(client, url):
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Not found</h1>" in html
    assert "Go to the overview" in html


def test_404_message_escapes_the_slug(client):
    """The slug is echoed back in the message, escaped."""
    response = client.get("/plans/a%3Cb%3E/")
    assert response.status_code == 404
    assert b"<b>" not in response.content


def test_point_text_is_escaped(client):
    """Clause text is data: HTML in it is shown, never run."""
    clause = Point.objects.get(key="6").clauses.first()
    clause.text = '<script>alert("x")</script> 600,000'
    clause.save()
    html = page(client, f"/plans/{PLAN}/points/6/")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_pages_refuse_post(client):
    assert client.post(f"/plans/{PLAN}/").status_code == 405


def test_csp_header_has_no_unsafe_inline(client):
    response = client.get(f"/plans/{PLAN}/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self';" in csp  # no nonce: cached pages would replay it to everyone
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp


def test_scripts_are_files_from_our_origin_without_a_nonce(client):
    """htmx and copy.js load from 'self'; no nonce, which a cached page would hand to every reader."""
    html = client.get(f"/plans/{PLAN}/").content.decode()
    scripts = re.findall(r"<script[^>]*>", html)
    assert len(scripts) >= 2 and all('src="/static/' in tag for tag in scripts)
    assert "nonce" not in html


def test_no_inline_styles_or_scripts(client):
    for url in ("/", f"/plans/{PLAN}/points/7/", f"/plans/{PLAN}/revisions/us-28-point-draft/", "/sources/"):
        html = page(client, url)
        assert "style=" not in html and "<style" not in html
        assert html.count("<script") == html.count("<script src=")


@pytest.mark.parametrize(
    "url,budget",
    [
        (f"/plans/{PLAN}/", 8),
        (f"/plans/{PLAN}/points/7/", 10),
        (f"/plans/{PLAN}/revisions/us-28-point-draft/", 8),
        (f"/plans/{PLAN}/parties/russia/", 5),
        (f"/plans/{PLAN}/timeline/", 7),
        ("/sources/", 2),
    ],
)
def test_query_count_is_fixed(client, url, budget):
    """Pages run a fixed number of queries, whatever the number of rows (no N+1)."""
    client.get(url)  # warm up anything lazy, such as content types
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) <= budget, [q["sql"][:120] for q in queries]


@pytest.mark.usefixtures("page_cache_off")
def test_overview_query_count_is_pinned_and_does_not_grow_with_data(client, plan):
    """The overview runs exactly the same number of queries after more stances are added."""
    url = f"/plans/{PLAN}/"
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    template = Stance.objects.filter(point__isnull=False).first()
    for point in plan.points.all()[:40]:
        for party in Party.objects.all():
            Stance.objects.create(
                plan=plan,
                party=party,
                point=point,
                revision=template.revision,
                position="unclear",
                stated_on=template.stated_on,
                summary="generated",
                source=template.source,
            )
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(before) == len(after) == 8, [q["sql"][:100] for q in after]  # 8th: "What is new" (web/summary.py)
