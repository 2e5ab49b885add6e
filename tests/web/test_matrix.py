"""The stance matrix on the overview: filters, the HTMX region, CSV export, cell details, bad input, query counts."""

import csv
import io
import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from peaceplans.models import Clause, Party, Point, Stance, Topic
from peaceplans.web.tables import NO_STANCE_RANK, POSITION_RANK, short_date

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
URL = f"/plans/{PLAN}/"
CSV_URL = f"/plans/{PLAN}/matrix.csv"


def page(client, query="", status=200, **headers):
    response = client.get(URL + query, headers=headers)
    assert response.status_code == status, (query, response.status_code)
    return response.content.decode()


def row_keys(html: str) -> list[str]:
    """The point keys of the matrix rows shown, in order (each body row's id: the first cell shows the number)."""
    body = html.split("<tbody")[1].split("</tbody>")[0]
    if "No points match." in body:
        return []
    return [re.search(r'<tr[^>]*id="point-([^"]+)"', row).group(1) for row in body.split("</tr>")[:-1]]


def csv_rows(response) -> list[list[str]]:
    """The CSV parsed back; the file starts with a UTF-8 byte-order mark (for Excel), which utf-8-sig drops."""
    assert response.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def latest_positions(party: str) -> dict[str, str]:
    """{point key: position} of a party's latest stance per point, worked out here from the raw rows."""
    latest = {}
    for stance in Stance.objects.filter(party__slug=party, point__isnull=False).order_by("stated_on", "pk"):
        latest[stance.point.key] = stance.position
    return latest


def plan_order(keys) -> list[str]:
    return list(Point.objects.filter(key__in=keys).order_by("sort_order", "pk").values_list("key", flat=True))


def topic_keys(topic: str) -> list[str]:
    """The keys of a topic's points, in plan order."""
    return plan_order(Point.objects.filter(topic__slug=topic).values_list("key", flat=True))


# Filters narrow the rows


def test_topic_filter_shows_exactly_that_topics_points(client):
    """topic=nato lists the NATO points, all of them, in plan order, and nothing else."""
    expected = topic_keys("nato")
    assert len(expected) >= 2
    assert row_keys(page(client, "?topic=nato")) == expected


def test_party_and_position_filter_on_that_partys_latest_stance(client):
    """party=russia&position=opposes lists exactly the points whose latest Russian stance is 'opposes'."""
    expected = plan_order([key for key, position in latest_positions("russia").items() if position == "opposes"])
    assert expected
    assert row_keys(page(client, "?party=russia&position=opposes")) == expected


def test_an_earlier_stance_does_not_count_once_superseded(client, plan):
    """A point where Russia opposed first and later supported is not among Russia's 'opposes' rows."""
    point = Point.objects.get(key="6")
    old = Stance.objects.filter(point__isnull=False).first()
    for position, day in (("opposes", 1), ("supports", 2)):
        Stance.objects.create(
            plan=plan,
            party=Party.objects.get(slug="russia"),
            point=point,
            position=position,
            stated_on=old.stated_on.replace(year=2030, day=day),
            summary="generated",
            source=old.source,
        )
    assert "6" not in row_keys(page(client, "?party=russia&position=opposes"))
    assert "6" in row_keys(page(client, "?party=russia&position=supports"))


def test_party_alone_lists_points_where_that_party_has_any_stance(client):
    """party=russia lists every point with a recorded Russian stance, whatever the position."""
    expected = plan_order(latest_positions("russia"))
    assert row_keys(page(client, "?party=russia")) == expected


def test_position_alone_lists_points_where_any_partys_latest_is_that_position(client):
    """position=supports lists the points where at least one party's latest stance is 'supports'."""
    latest = [latest_positions(party.slug) for party in Party.objects.all()]
    keys = {key for positions in latest for key, position in positions.items() if position == "supports"}
    assert row_keys(page(client, "?position=supports")) == plan_order(keys)


def test_text_filter_finds_the_army_cap_by_its_number(client):
    """q=600,000 finds point 6, whose US wording caps the army at 600,000."""
    keys = row_keys(page(client, "?q=600%2C000"))
    assert "6" in keys
    expected = {c.point.key for c in Clause.objects.select_related("point") if "600,000" in c.text}
    assert set(keys) == expected


def test_text_filter_matches_key_and_title_case_insensitively(client):
    """q matches a point's title whatever the case: 'army CAP' finds 'Army cap'."""
    assert "6" in row_keys(page(client, "?q=army+CAP"))


def test_text_filter_lists_each_point_once_even_when_many_clauses_match(client):
    """A phrase in several revisions' wording of one point gives one row, not one per clause."""
    point = Point.objects.get(key="7")
    assert point.clauses.count() >= 2
    keys = row_keys(page(client, "?q=NATO"))
    assert len(keys) == len(set(keys))
    assert "7" in keys


def test_text_filter_folds_the_case_of_cyrillic_letters(client):
    """q=ДОНЕЦЬК finds a clause that says 'Донецьк': case folding is not limited to ASCII."""
    clause = Point.objects.get(key="21d").clauses.exclude(dropped=True).first()
    clause.text += " (Донецьк)"
    clause.save()
    assert row_keys(page(client, "?q=%D0%94%D0%9E%D0%9D%D0%95%D0%A6%D0%AC%D0%9A")) == ["21d"]


def test_text_filter_with_cyrillic_and_emoji_that_match_nothing_is_a_calm_empty_table(client):
    """An unmatched Cyrillic phrase with an emoji and quotes returns the page saying nothing matches."""
    html = page(client, "?q=%D0%BC%D0%B8%D1%80+%22%F0%9F%95%8A%22+%C2%AB%D0%B4%D0%B0%C2%BB")
    assert row_keys(html) == []
    assert "No points match these filters." in html


def test_text_filter_treats_straight_and_curly_quotes_alike(client):
    """A straight apostrophe typed by the journalist matches the curly one stored: "russia's" finds "Russia’s"."""
    Point.objects.filter(key="13").update(title="Russia’s return to the world economy")
    assert "13" in row_keys(page(client, "?q=russia%27s+return"))


def test_text_filter_takes_regex_characters_literally(client):
    """'.*' is two characters to look for, not a pattern matching every point."""
    assert row_keys(page(client, "?q=.%2A")) == []


def test_filters_combine(client):
    """topic and party together: NATO points with a Russian stance."""
    nato = set(Point.objects.filter(topic__slug="nato").values_list("key", flat=True))
    expected = plan_order(nato & set(latest_positions("russia")))
    assert expected
    assert row_keys(page(client, "?topic=nato&party=russia")) == expected


def test_empty_filter_values_mean_no_filter(client, plan):
    """The form sends every field; empty ones do not narrow anything."""
    html = page(client, "?topic=&party=&position=&q=")
    assert f"All {plan.points.count()} points." in html


def test_page_shows_the_count_of_matching_points(client):
    """The count above the table says how many points match."""
    nato = Point.objects.filter(topic__slug="nato").count()
    assert f"{nato} points match these filters." in page(client, "?topic=nato")


# The form


def test_filter_form_is_a_plain_get_form_with_htmx_on_top(client):
    """The form works without JavaScript (GET, submit button) and htmx swaps only #matrix and pushes the URL."""
    html = page(client)
    form = html.split('<form id="matrix-filters"')[1].split("</form>")[0]
    assert 'method="get"' in form and f'action="{URL}"' in form
    assert '<button type="submit">' in form
    assert f'hx-get="{URL}"' in form and 'hx-target="#matrix"' in form and 'hx-push-url="true"' in form
    assert "input changed delay:400ms from:find input[type=search]" in form


def test_every_filter_control_has_a_label(client):
    """Each select and the text box has a <label for> pointing at it (WCAG 1.3.1, 4.1.2)."""
    form = page(client).split('<form id="matrix-filters"')[1].split("</form>")[0]
    controls = re.findall(r'<(?:select|input)[^>]*\bid="([^"]+)"', form)
    assert sorted(controls) == ["id_on", "id_party", "id_position", "id_q", "id_topic"]
    for control in controls:
        assert f'<label for="{control}">' in form


def test_filter_form_keeps_chosen_values(client):
    """After filtering, the form shows the chosen values, so the page reads as what it shows."""
    form = page(client, "?topic=nato&q=army").split('<form id="matrix-filters"')[1].split("</form>")[0]
    assert '<option value="nato" selected>' in form
    assert 'value="army"' in form


def test_no_hx_on_attributes_inline_scripts_or_styles(client):
    """The CSP forbids inline code: the filtered page has no hx-on, no inline script and no style attribute."""
    html = page(client, "?topic=nato&sort=-russia")
    assert "hx-on" not in html
    assert "style=" not in html and "<style" not in html
    assert html.count("<script") == html.count("<script src=")


# HTMX region, sorting and paging keep the filters


def test_htmx_filter_request_returns_only_the_region_and_the_count(client):
    """An HTMX request gets #matrix, filtered, plus the count swapped out of band; never the whole page."""
    html = page(client, "?topic=nato", **{"HX-Request": "true"})
    assert html.lstrip().startswith('<div id="matrix"')
    assert "<html" not in html and 'matrix-filters" class' not in html and "time-strip" not in html
    assert row_keys(html) == topic_keys("nato")
    assert '<p id="matrix-count" hx-swap-oob="innerHTML">' in html


def test_htmx_history_restore_gets_the_whole_page(client):
    """After a history cache miss htmx asks again for the URL and needs the full page, not the region."""
    html = page(client, "?topic=nato", **{"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in html and 'id="matrix-filters"' in html


def test_sorting_links_keep_the_filters(client):
    """Column headings of a filtered matrix sort within the same filter."""
    html = page(client, "?topic=nato&party=russia")
    thead = html.split("<thead>")[1].split("</thead>")[0]
    assert 'href="?topic=nato&amp;party=russia&amp;sort=russia"' in thead


def test_sorted_and_filtered_page_applies_both(client):
    """topic=nato&sort=-key lists the NATO points in reverse plan order."""
    expected = topic_keys("nato")
    assert row_keys(page(client, "?topic=nato&sort=-key")) == expected[::-1]


def test_filter_form_carries_the_current_sort(client):
    """The sort lives in the swapped region, tied to the form, so a new filter keeps the sort."""
    html = page(client, "?topic=nato&sort=-russia")
    region = html.split('<div id="matrix"')[1]
    assert '<input type="hidden" name="sort" value="-russia" form="matrix-filters">' in region


def test_pagination_links_keep_the_filters(client, plan):
    """With more matching points than one page holds, 'Next' keeps the filter; page 2 is still filtered."""
    topic = Topic.objects.get(slug="nato")
    Point.objects.bulk_create(
        Point(plan=plan, key=f"gen-{i}", title=f"Generated {i}", topic=topic, sort_order=1000 + i) for i in range(40)
    )
    html = page(client, "?topic=nato")
    assert 'href="?topic=nato&amp;page=2"' in html
    keys = row_keys(html) + row_keys(page(client, "?topic=nato&page=2"))
    assert keys == topic_keys("nato")


# Cells


def test_cell_shows_date_and_speaker_as_text_inside_the_link(client):
    """The date and speaker are visible text in the cell's link (its accessible name), not a hover tooltip."""
    latest = Stance.objects.filter(point__key="7", party__slug="russia").order_by("stated_on", "pk").last()
    assert latest.speaker
    html = page(client, "?topic=nato")
    link = html.split(f'href="/plans/{PLAN}/points/7/#stance-{latest.pk}">')[1].split("</a>")[0]
    day = f"{latest.stated_on.day} {latest.stated_on:%b %Y}"
    assert f'<time datetime="{latest.stated_on.isoformat()}">{day}</time>' in link
    assert f'<span class="stance__speaker">{latest.speaker}</span>' in link


# CSV export


def test_csv_link_keeps_filters_and_sort_but_not_the_page(client):
    """'Download CSV' points at matrix.csv with the same filters and sort."""
    html = page(client, "?topic=nato&sort=-russia&page=1")
    assert f'href="{CSV_URL}?topic=nato&amp;sort=-russia" download>Download CSV</a>' in html


def test_csv_headers_and_filename(client):
    """The export is UTF-8 CSV, offered as a download named after the plan."""
    response = client.get(CSV_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{PLAN}-stances.csv"'
    header = csv_rows(response)[0]
    assert header[:5] == ["key", "title", "topic", "url", "positions_on"]
    assert header[5:12] == [
        "us_position",
        "us_answering",
        "us_answering_label",
        "us_stated_on",
        "us_speaker",
        "us_source_url",
        "us_url",
    ]
    assert len(header) == 5 + 7 * Party.objects.count()


def test_csv_has_the_filtered_rows_with_each_latest_stance(client):
    """topic=nato gives the NATO points; Russia's columns hold its latest stance's position, date, speaker, source."""
    rows = csv_rows(client.get(CSV_URL + "?topic=nato"))
    header, body = rows[0], rows[1:]
    assert [row[0] for row in body] == topic_keys("nato")
    latest = Stance.objects.filter(point__key="7", party__slug="russia").order_by("stated_on", "pk").last()
    row = next(row for row in body if row[0] == "7")
    russia = dict(zip(header, row, strict=True))
    assert russia["title"] == "No NATO membership" and russia["topic"] == "NATO"
    assert russia["russia_position"] == latest.get_position_display()
    assert russia["russia_stated_on"] == latest.stated_on.isoformat()
    assert russia["russia_speaker"] == latest.speaker
    assert russia["russia_source_url"] == latest.source.url
    assert russia["russia_url"] == f"http://testserver/plans/{PLAN}/points/7/#stance-{latest.pk}"
    assert russia["url"] == f"http://testserver/plans/{PLAN}/points/7/"


def test_csv_follows_the_sort(client):
    """sort=-key gives the rows in reverse plan order, as on the page."""
    body = csv_rows(client.get(CSV_URL + "?topic=nato&sort=-key"))[1:]
    expected = topic_keys("nato")
    assert [row[0] for row in body] == expected[::-1]


def test_csv_escapes_commas_quotes_and_newlines(client):
    """A title with a comma, quotes and a line break survives the round trip as one cell."""
    Point.objects.filter(key="6").update(title='Army cap, "600,000"\nor more')
    body = csv_rows(client.get(CSV_URL + "?q=600%2C000"))[1:]
    assert [row[1] for row in body if row[0] == "6"] == ['Army cap, "600,000"\nor more']


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_neutralises_formulas(client, start):
    """A cell that a spreadsheet would run as a formula starts with an apostrophe instead."""
    Point.objects.filter(key="6").update(title=f'{start}HYPERLINK("http://example.com","x")')
    Stance.objects.filter(point__key="6").update(speaker=f"{start}1+1")
    body = csv_rows(client.get(CSV_URL + "?topic=military-limits"))[1:]
    row = next(row for row in body if row[0] == "6")
    assert row[1] == f'\'{start}HYPERLINK("http://example.com","x")'
    assert f"'{start}1+1" in row
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


# Bad input: a 400 with the reason, never a 500


@pytest.mark.parametrize(
    "query,message",
    [
        ("?topic=nope", "Topic: Select a valid choice. nope is not one of the available choices."),
        ("?party=martians", "Party: Select a valid choice. martians is not one of the available choices."),
        ("?position=maybe", "Latest position: Select a valid choice. maybe is not one of the available choices."),
        ("?q=" + "x" * 201, "Words: Ensure this value has at most 200 characters (it has 201)."),
        # "?q=a%00b" never reaches the form: peaceplans/ops/limits.py refuses a NUL first (tests/ops/test_limits.py).
        ("?topic=nato&topic=territory", "“topic” was given 2 times in the address; give it once."),
        ("?q=a&q=b&q=c", "“q” was given 3 times in the address; give it once."),
        ("?sort=key&sort=-key", "“sort” was given 2 times in the address; give it once."),
    ],
)
def test_bad_filter_values_get_a_400_page_saying_why(client, query, message):
    """Each bad parameter gives status 400 and the page with the form, the field marked and the reason in words."""
    html = page(client, query, status=400)
    assert message in html
    assert "These filters could not be applied" in html
    assert 'id="matrix-filters"' in html
    assert "<title>Error: " in html


def test_bad_filter_value_marks_the_field_invalid(client):
    """The failing control is aria-invalid and described by its error message."""
    html = page(client, "?topic=nope", status=400)
    assert 'aria-invalid="true" aria-describedby="id_topic_error"' in html
    assert '<ul class="errorlist" id="id_topic_error">' in html


def test_bad_filter_value_is_escaped_in_the_message(client):
    """The rejected value is echoed back as text, never as markup."""
    html = page(client, "?topic=%3Cscript%3Ealert(1)%3C/script%3E", status=400)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_bad_filter_in_an_htmx_request_is_a_400_region(client):
    """HTMX gets the region with the reason and status 400 (htmx leaves the table in place)."""
    html = page(client, "?party=nope", 400, **{"HX-Request": "true"})
    assert html.lstrip().startswith('<div id="matrix"')
    assert "Party: Select a valid choice." in html


@pytest.mark.parametrize("query", ["?topic=nope", "?q=" + "x" * 500, "?party=us&party=russia"])
def test_bad_filter_in_the_csv_export_is_a_plain_text_400(client, query):
    """The CSV address refuses bad filters with a 400 and a readable reason instead of a file."""
    response = client.get(CSV_URL + query)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("The filters could not be applied:\n")


def test_csv_of_an_unknown_plan_is_404(client):
    assert client.get("/plans/nope/matrix.csv").status_code == 404


# Query counts


FILTERED = "?topic=nato&party=russia&position=opposes&q=NATO&sort=-russia"


def grow_data(plan):
    """60 more NATO points, each with wording in every revision and a stance from every party."""
    topic = Topic.objects.get(slug="nato")
    template = Stance.objects.filter(point__isnull=False).first()
    revisions = list(plan.revisions.all())
    points = Point.objects.bulk_create(
        Point(plan=plan, key=f"gen-{i}", title=f"NATO generated {i}", topic=topic, sort_order=1000 + i)
        for i in range(60)
    )
    Clause.objects.bulk_create(
        Clause(revision=revision, point=point, number=f"g{point.sort_order}", text="NATO text")
        for point in points
        for revision in revisions
    )
    Stance.objects.bulk_create(
        Stance(
            plan=plan,
            party=party,
            point=point,
            position="opposes",
            stated_on=template.stated_on,
            summary="generated",
            source=template.source,
        )
        for point in points
        for party in Party.objects.all()
    )


# The page's 8 queries include "What is new" above the matrix (peaceplans/web/summary.py).
@pytest.mark.parametrize("url,count", [(URL + FILTERED, 8), (CSV_URL + FILTERED, 6)])
@pytest.mark.usefixtures("page_cache_off")
def test_filtered_query_count_is_pinned_and_does_not_grow_with_data(client, plan, url, count):
    """The filtered overview runs 8 queries and its CSV 6, before and after 60 points, 240 stances and more clauses."""
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    grow_data(plan)
    with CaptureQueriesContext(connection) as after:
        response = client.get(url)
    assert response.status_code == 200
    assert "gen-" in response.content.decode()
    assert len(before) == len(after) == count, [q["sql"][:100] for q in after]


@pytest.mark.usefixtures("page_cache_off")
def test_htmx_region_query_count_is_pinned(client):
    """The HTMX region skips the time strip: 6 queries, filters (and the texts for "positions on") included."""
    client.get(URL + FILTERED, headers={"HX-Request": "true"})
    with CaptureQueriesContext(connection) as queries:
        client.get(URL + FILTERED, headers={"HX-Request": "true"})
    assert len(queries) == 6, [q["sql"][:100] for q in queries]


def test_every_matrix_row_has_a_point_anchor(client):
    html = client.get("/plans/russia-ukraine-2025/").content.decode()
    ids = re.findall(r'<tr[^>]* id="(point-[^"]+)"', html)
    assert "point-6" in ids
    assert len(ids) == len(set(ids)) > 0


# Reading what the page shows


def stance_query(queries) -> str:
    """The SQL of the one query that reads the stances the cells are picked from (StanceQuerySet.cells_per_text)."""
    fields = ("pk", "point_id", "party_id", "revision_id", "position", "stated_on", "speaker")  # TextStance's
    select = ", ".join(f'"peaceplans_stance"."{field.replace("pk", "id")}" AS "{field}"' for field in fields)
    start = "SELECT " + select + ' FROM "peaceplans_stance"'  # noqa: S608 (a prefix to look for, never run)
    [sql] = [query["sql"] for query in queries if query["sql"].startswith(start)]
    return sql


def shown_positions(html: str, party: str) -> dict[str, str]:
    """{point key: the position in that party's column, "none" for no stance}, for the rows shown, in order."""
    column = 3 + [p.slug for p in Party.objects.all()].index(party)  # after number, point and topic
    body = html.split("<tbody")[1].split("</tbody>")[0]
    shown = {}
    for key, row in re.findall(r'<tr id="point-([^"]+)">(.*?)</tr>', body, re.S):
        cell = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[column]
        shown[key] = re.search(r'class="stance stance--([a-z-]+)"', cell).group(1)
    return shown


@pytest.mark.parametrize("query", ["?page=2", "?topic=nato&sort=-title&page=2", "?q=NATO&page=3", "?sort=topic"])
@pytest.mark.usefixtures("page_cache_off")
def test_the_matrix_reads_the_latest_stances_of_the_rows_it_shows_only(client, plan, query):
    """
    Sorted by number, title or topic and not filtered on positions, a page reads the latest
    stances of its own rows, not of every point of the plan; its cells still show each
    party's latest position.
    """
    grow_data(plan)
    with CaptureQueriesContext(connection) as queries:
        html = page(client, query, **{"HX-Request": "true"})
    keys = row_keys(html)
    assert 0 < len(keys) <= 30
    listed = re.search(r'"point_id" IN \((\d[^)]*)\)', stance_query(queries)).group(1)  # a list of ids, not a subquery
    assert {int(pk) for pk in listed.split(", ")} == set(plan.points.filter(key__in=keys).values_list("pk", flat=True))
    for party in Party.objects.all():
        latest = latest_positions(party.slug)
        assert shown_positions(html, party.slug) == {key: latest.get(key, "none") for key in keys}


@pytest.mark.parametrize("query", ["?sort=-russia", "?sort=us&page=2", "?position=supports", "?party=ukraine"])
@pytest.mark.usefixtures("page_cache_off")
def test_sorting_or_filtering_on_positions_reads_every_points_latest_stance(client, plan, query):
    """A party's column and the party and position filters need every point's latest stance: one query reads all."""
    with CaptureQueriesContext(connection) as queries:
        html = page(client, query)
    # Not narrowed to a list of the points of one page (the subquery that hides unpublished points stays).
    assert not re.search(r'"point_id" IN \(\d', stance_query(queries))
    assert row_keys(html)
    if "sort" in query:
        party = query.split("sort=")[1].split("&")[0].lstrip("-")
        ranks = [POSITION_RANK.get(position, NO_STANCE_RANK) for position in shown_positions(html, party).values()]
        assert ranks == sorted(ranks, reverse=query.startswith("?sort=-"))


@pytest.mark.parametrize("language", ["en-gb", "de", "uk"])
def test_dates_in_cells_are_written_as_the_date_filter_writes_them(language):
    """short_date gives what {{ day|date:"j M Y" }} gives, month names in the active language."""
    days = [date(2025, 1, 1) + timedelta(days=n) for n in range(0, 365, 11)] + [date(999, 12, 31), date(2026, 5, 9)]
    with translation.override(language):
        assert [short_date(day) for day in days] == [date_filter(day, "j M Y") for day in days]


@pytest.mark.parametrize("sort", ["../../", "-..", "russia.slug", "__class__", "-", ""])
@pytest.mark.filterwarnings("ignore:Use '__' to separate path components:DeprecationWarning:django_tables2")
def test_an_unknown_sort_is_ignored_quietly(client, sort):
    """Not a column: plan order, as without ?sort= (django-tables2 drops it; no warning, no 500)."""
    assert row_keys(page(client, "?topic=nato&sort=" + quote(sort))) == topic_keys("nato")
