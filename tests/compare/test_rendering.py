"""
Rendering cost: what was made cheaper must still render exactly what it rendered before.

- The word diff of a pair of clause texts is stored when a text is saved and remembered per process
  (peaceplans/compare/memo.py; tests/compare/test_stored_diffs.py tests the stored level): a pair
  whose row is missing is computed once and reused.
- The stance matrix's body is built by web/cells.py, not cell by cell by django-tables2: the same
  HTML as django-tables2's own template, every value escaped.
- Word diffs are rendered by rows.redline: the same HTML as the template loop it replaced.
- The compare page's rows are built by rows.compare_row: the same HTML as the template loop
  it replaced, but for the whitespace between tags, every value escaped.
- Dates print through cached filters that match Django's date filter.
- The matrix reads one row per (point, party) from the database (a window function).
"""

import datetime
import re

import pytest
from django.contrib.auth.models import User
from django.template import Context, Template
from django.template.loader import get_template
from django.test import RequestFactory
from django_tables2 import RequestConfig

from peaceplans.compare import diff, memo, rows
from peaceplans.compare.comparison import compare_revisions
from peaceplans.models import Annotation, Clause, Party, Plan, Point, Source, Stance, StoredDiff
from peaceplans.templatetags.peaceplans import day, iso
from peaceplans.web.tables import StanceMatrixTable, matrix_rows
from tests.parts import through_last

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"

# What templates/peaceplans/components/diff.html did before rows.redline, kept here as the reference.
TEMPLATE_REDLINE = Template(
    '{% for op in ops %}{% if op.kind == "equal" %}{% if side == "b" %}{{ op.b }}{% else %}{{ op.a }}{% endif %}'
    '{% elif side == "a" %}{% if op.a %}<del>{{ op.a }}</del>{% endif %}{% elif side == "b" %}{% if op.b %}'
    "<ins>{{ op.b }}</ins>{% endif %}{% else %}{% if op.a %}<del>{{ op.a }}</del>{% endif %}{% if op.b %}"
    "<ins>{{ op.b }}</ins>{% endif %}{% endif %}{% endfor %}"
)


@pytest.fixture
def counted(monkeypatch):
    """The word diffs actually computed between two texts (diff.compare calls behind the memo), from a cold memo."""
    calls = []
    real = diff.compare

    def compare(a, b):
        if a is not None and b is not None:  # an added or dropped text is no work, and is not cached
            calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(memo.diff, "compare", compare)
    memo.clear()
    yield calls
    memo.clear()


def revisions(plan, *slugs):
    return [plan.revisions.get(slug=slug) for slug in slugs]


# A pair whose stored row is missing is computed once per process


@pytest.fixture
def unstored():
    """No stored diffs, as for rows written before migration 0014: every pair is a true miss."""
    StoredDiff.objects.all().delete()


def test_the_second_comparison_of_the_same_pair_computes_no_diff(plan, unstored, counted):
    a, b = revisions(plan, "us-28-point-draft", "e3-counter-proposal")
    first = compare_revisions(plan, a, b)
    computed = len(counted)
    reworded = [  # the same text twice needs no diff (diff.trivial)
        row
        for row in first.rows
        if row.clause_a
        and row.clause_b
        and not (row.clause_a.dropped or row.clause_b.dropped)
        and row.clause_a.text != row.clause_b.text
    ]
    assert computed == len(reworded) > 10
    second = compare_revisions(plan, a, b)
    assert len(counted) == computed  # nothing new
    assert [row.diff for row in second.rows] == [row.diff for row in first.rows]


def test_the_page_the_csv_and_the_embed_share_the_diffs(client, plan, unstored, counted):
    query = "?a=us-28-point-draft&b=e3-counter-proposal"
    assert client.get(f"/plans/{PLAN}/compare/{query}").status_code == 200
    computed = len(counted)
    assert computed > 10
    for url in (f"/plans/{PLAN}/compare/{query}&view=inline", f"/plans/{PLAN}/compare.csv{query}"):
        assert client.get(url).status_code == 200
    assert client.get(f"/embed/plans/{PLAN}/compare/{query}").status_code == 200
    assert len(counted) == computed


def test_the_point_page_reuses_the_pairs_the_comparison_computed(client, plan, unstored, counted):
    assert client.get(f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal").status_code == 200
    computed = len(counted)
    # Point 6 against the US draft: its E3 wording is a pair the comparison already diffed.
    html = client.get(f"/plans/{PLAN}/points/6/?against=us-28-point-draft").content.decode()
    e3 = Clause.objects.get(revision__slug="e3-counter-proposal", point__key="6").text
    us = Clause.objects.get(revision__slug="us-28-point-draft", point__key="6").text
    assert (us, e3) not in counted[computed:]
    assert "<ins>" in html or "<del>" in html


def test_an_edited_clause_gets_a_fresh_diff(client, plan, counted):
    """Memo and stored rows are keyed on the texts: an edited text makes new pairs, stored on save; no old diff."""
    url = f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal"
    client.get(url)
    clause = Clause.objects.get(revision__slug="e3-counter-proposal", point__key="6")
    clause.text = clause.text + " Quartermaster-general clause added."
    clause.save()
    saved = len(counted)
    assert saved and all(clause.text in pair for pair in counted)  # the save computed the new text's pairs
    html = client.get(url).content.decode()
    assert re.search(r"<ins>[^<]*Quartermaster-general clause added\.</ins>", html)
    assert len(counted) == saved  # the page computed none


# The word diff as HTML


@pytest.mark.parametrize("side", ["a", "b", "inline"])
@pytest.mark.parametrize(
    "a,b",
    [
        ("Ukraine's army is capped at 600,000.", "Ukraine’s armed forces are limited to 800,000 in peacetime."),
        ("<script>alert('x')</script> & \"quotes\"", "<b>bold</b> & 'apostrophes' <img src=x onerror=alert(1)>"),
        ("Same words.", "Same words."),
        ("", "Only in B."),
    ],
)
def test_redline_renders_what_the_template_loop_rendered(a, b, side):
    ops = diff.compare(a or None, b).ops
    assert rows.redline(ops, side) == TEMPLATE_REDLINE.render(Context({"ops": ops, "side": side}))


def test_redline_escapes_every_slice():
    html = rows.redline(diff.compare("a <i>x</i> & b", "a <script>y</script> & b").ops, "inline")
    assert set(re.findall(r"</?(\w+)", html)) == {"del", "ins"}  # no tag but the diff's own
    assert "&lt;" in html and "&gt;" in html and "&amp;" in html


# The stance matrix's body


def tables2_body(table) -> str:
    """The table's body as django-tables2 renders it, cell by cell, with its stock template."""
    html = Template('{% load django_tables2 %}{% render_table table "django_tables2/table.html" %}').render(
        Context({"table": table, "request": table.request})
    )
    return normalise(html.split("<tbody")[1].split("</tbody>")[0].split(">", 1)[1])


def our_body(table) -> str:
    return normalise("".join(table.body()))


def normalise(html: str) -> str:
    """Whitespace between tags and django-tables2's even/odd row classes (no style uses them) set aside."""
    html = re.sub(r' class="(even|odd)"', "", html)
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).replace("<td >", "<td>").strip()


def matrix(plan, query: str = "", per_page: int = 30):
    parties = list(Party.objects.all())
    request = RequestFactory().get("/", dict(pair.split("=") for pair in query.split("&") if pair))
    table = StanceMatrixTable(matrix_rows(plan, parties), plan=plan, parties=parties)
    RequestConfig(request, paginate={"per_page": per_page}).configure(table)
    table.request = request
    return table


@pytest.mark.parametrize("query", ["", "page=2", "sort=-russia", "sort=topic&page=2"])
def test_the_matrix_body_is_what_django_tables2_renders_cell_by_cell(plan, query):
    table = matrix(plan, query)
    assert our_body(table) == tables2_body(table)
    assert our_body(table).count("<tr") == len(table.page.object_list) > 0


def test_the_matrix_body_escapes_every_value(plan):
    point = plan.points.get(key="6")
    point.title = "<script>alert(1)</script> & cap"
    point.save()
    Stance.objects.create(
        plan=plan,
        party=Party.objects.get(slug="russia"),
        point=point,
        position=Stance.Position.OPPOSES,
        stated_on=datetime.date(2030, 1, 1),
        summary="s",
        speaker='"><img src=x onerror=alert(1)>',
        source=Stance.objects.first().source,
    )
    html = our_body(matrix(plan, per_page=100))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; cap" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert our_body(matrix(plan, per_page=100)) == tables2_body(matrix(plan, per_page=100))


def test_the_matrix_reads_the_latest_stance_of_each_pair(plan):
    """The window function picks what a scan of every stance in date order would keep."""
    point = plan.points.get(key="7")
    russia = Party.objects.get(slug="russia")
    source = Stance.objects.first().source
    for day_, position in ((2030, "supports"), (2031, "opposes"), (2029, "unclear")):
        Stance.objects.create(
            plan=plan,
            party=russia,
            point=point,
            position=position,
            stated_on=datetime.date(day_, 1, 1),
            summary="s",
            source=source,
        )
    expected = {}
    for stance in Stance.objects.filter(plan=plan, point__isnull=False).order_by("stated_on", "pk"):
        expected[(stance.point_id, stance.party_id)] = stance.pk
    cells = Stance.objects.filter(plan=plan).latest_cells()
    assert {pair: cell.pk for pair, cell in cells.items()} == expected
    assert cells[(point.pk, russia.pk)].position == "opposes"
    latest = Stance.objects.filter(plan=plan).latest_per_point(party=russia)
    assert {pair: s.pk for pair, s in latest.items()} == {p: pk for p, pk in expected.items() if p[1] == russia.pk}


# Dates


@pytest.mark.parametrize(
    "value",
    [
        datetime.date(2025, 11, 20),
        datetime.date(2026, 1, 5),
        None,
        datetime.datetime(2025, 11, 20, 23, 30, tzinfo=datetime.UTC),
    ],
)
def test_the_date_filters_print_what_the_date_filter_prints(value):
    reference = Template("{{ d|date:'Y-m-d' }}|{{ d|date:\"j M Y\" }}").render(Context({"d": value}))
    assert f"{iso(value)}|{day(value)}" == reference


# Neighbours read with the point


def test_neighbours_from_the_point_query_match_the_two_query_lookup(plan):
    for point in Point.objects.filter(plan=plan).select_related("plan"):
        annotated = plan.points.filter(pk=point.pk).with_neighbours().first()
        assert [(p.key, p.title) if p else None for p in annotated.neighbours()] == [
            (p.key, p.title) if p else None for p in point.neighbours()
        ]


def test_the_point_page_links_its_neighbours(client):
    html = client.get(f"/plans/{PLAN}/points/6/").content.decode()
    assert f'<a rel="prev" href="/plans/{PLAN}/points/5/">' in html
    assert f'<a rel="next" href="/plans/{PLAN}/points/7/">' in html
    first = Plan.objects.get(slug=PLAN).points.in_order().first()
    assert 'rel="prev"' not in client.get(first.get_absolute_url()).content.decode()


# The compare page's rows

REVISIONS = [
    "us-28-point-draft",
    "e3-counter-proposal",
    "europe-24-point-telegraph",
    "us-ukraine-geneva-framework",
    "berlin-joint-statement",
]
HOSTILE = '<script>alert("x")</script> & "quotes" \'apos\' <a hx-get="/evil" onclick=go()>'
HOSTILE_ESCAPED = (
    "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot; &#x27;apos&#x27; "
    "&lt;a hx-get=&quot;/evil&quot; onclick=go()&gt;"
)

SHORT_HOSTILE = "<b onclick=x>E3</b>&"
SHORT_HOSTILE_ESCAPED = "&lt;b onclick=x&gt;E3&lt;/b&gt;&amp;"

# What templates/peaceplans/compare.html's row loop was before rows.compare_row, kept here as the reference.
ROW_TEMPLATE = """
    <li class="compare-row compare-row--{{ row.status }}" id="point-{{ row.point.key }}">
      <div class="compare-row__head">
        <h3><a href="{{ row.url }}"><span class="point-key">{{ row.point.number }}</span> {{ row.point.title }}</a></h3>
        <p class="compare-row__meta">
          <span class="status status--{{ row.status }}">{{ row.label }}</span>
          {% if row.clause_a %}<span>A: {{ row.number_a }}</span>{% endif %}
          {% if row.clause_b %}<span>B: {{ row.number_b }}</span>{% endif %}
          {% if row.renumbered %}<span class="renumbered">renumbered</span>{% endif %}
          {% if row.clause_b.material_change %}<span class="material">material change</span>{% endif %}
          {% if row.point.split_from %}<span>split from point {{ row.point.split_from.number }}</span>{% endif %}
          {% if row.diff.cosmetic %}<span>only {{ row.diff.cosmetic|join:", " }} changed</span>{% endif %}
        </p>
      </div>
      {% if view == "inline" %}
      <div class="compare-row__inline">
        {% if row.status == "absent" %}<p class="clause-text">{{ row.clause_a.text }}</p>\
<p class="absent">B's text does not cover this point.</p>
        {% else %}<p class="clause-text">{{ row.diff.ops|redline:"inline" }}</p>{% endif %}
        {% if row.clause_a.wording_note and not row.clause_a.dropped %}\
<p class="wording-note">Note on A's wording: {{ row.clause_a.wording_note }}</p>{% endif %}
        {% if row.clause_b.wording_note and not row.clause_b.dropped %}\
<p class="wording-note">Note on B's wording: {{ row.clause_b.wording_note }}</p>{% endif %}
      </div>
      {% else %}
      <div class="compare-row__sides">
        <div class="side side--a">\
<p class="side__label"><span class="side-badge side-badge--a">A</span> {{ a.label }}</p>
          {% if not row.clause_a or row.clause_a.dropped %}<p class="absent">\
{% if row.clause_a.dropped %}Dropped in A.{% else %}Not in A.{% endif %}</p>
          {% elif row.diff %}<p class="clause-text">{{ row.diff.ops|redline:"a" }}</p>
          {% else %}<p class="clause-text">{{ row.clause_a.text }}</p>{% endif %}
          {% if row.clause_a.wording_note and not row.clause_a.dropped %}\
<p class="wording-note">Note on the wording: {{ row.clause_a.wording_note }}</p>{% endif %}
        </div>
        <div class="side side--b">\
<p class="side__label"><span class="side-badge side-badge--b">B</span> {{ b.label }}</p>
          {% if row.status == "absent" %}<p class="absent">\
Not in B's text (the point is neither worded nor dropped there).</p>
          {% elif row.clause_b.dropped %}<p class="dropped"><strong>Dropped.</strong> {{ row.clause_b.change_note }}</p>
          {% else %}<p class="clause-text">{{ row.diff.ops|redline:"b" }}</p>{% endif %}
          {% if row.clause_b.wording_note and not row.clause_b.dropped %}\
<p class="wording-note">Note on the wording: {{ row.clause_b.wording_note }}</p>{% endif %}
        </div>
      </div>
      {% endif %}
      {% if a == first_revision and row.clause_b.change_note and not row.clause_b.dropped %}\
<p class="change-note">Our note on B: {{ row.clause_b.change_note }}</p>{% endif %}
      {% if row.notes %}<details class="compare-row__notes">\
<summary>Editors' notes on this point ({{ row.notes|length }})</summary>
        {% include "peaceplans/components/notes.html" with notes=row.notes point=row.point %}</details>{% endif %}
    </li>"""

SHORT_HOSTILE = "<b onclick=x>E3</b>&"
SHORT_HOSTILE_ESCAPED = "&lt;b onclick=x&gt;E3&lt;/b&gt;&amp;"

# What templates/peaceplans/compare.html's row loop was before rows.compare_row, kept here as the reference:
# the rows both texts speak to, then those B's text does not cover in a closed section.
TEMPLATE_COMPARE_ROWS = Template(
    """{% load peaceplans %}{% with covered=comparison.covered uncovered=comparison.uncovered %}
  <ol class="compare-rows">
    {% for row in covered %}"""
    + ROW_TEMPLATE
    + """
    {% empty %}
    <li class="notice">No points differ between these texts.</li>
    {% endfor %}
  </ol>
  {% if uncovered %}<details class="compare-uncovered" id="not-in-b">
  <summary>Not in B's text: {{ uncovered|length }} point{{ uncovered|length|pluralize }} \
<span class="meta">(B neither words nor drops them; A's wording)</span></summary>
  <ol class="compare-rows compare-rows--uncovered">
    {% for row in uncovered %}"""
    + ROW_TEMPLATE
    + """
    {% endfor %}
  </ol>
  </details>{% endif %}
  {% endwith %}"""
)


def between_tags(html: str) -> str:
    """Each run of whitespace between two tags as one space: the only difference the rows may have."""
    return re.sub(r">\s+<", "> <", html).strip()


def page_rows(client, url: str) -> str:
    """
    The compare page's list of rows, as served through its last part (web/parts.py), the section of
    points B's text does not cover then open: every row, as the template loop rendered them all at once.
    """
    html = through_last(client, url).replace('id="not-in-b" open>', 'id="not-in-b">')
    rows = html.split('<ol class="compare-rows">', 1)[1].split("<section", 1)[0]
    return rows.rsplit("</div>", 2)[0]  # up to the end of the uncovered section: not the layout's closing tags


@pytest.fixture
def every_branch(plan):
    """
    The demo with what it lacks for a row to show every part: published notes (one by a named
    editor), a material change, a cosmetic edit, and hostile text in a title, a wording, a change
    note (also on a dropped clause) and a revision's title.
    """

    def clause(revision: str, key: str) -> Clause:
        return Clause.objects.get(revision__slug=revision, point__key=key)

    editor = User.objects.create_user("editor", first_name=HOSTILE, last_name="Ed")
    for key in ("6", "17"):
        Annotation.objects.create(point=plan.points.get(key=key), body=f"**Note** {HOSTILE}", author=editor)
        Annotation.objects.create(point=plan.points.get(key=key), body="Second *note*.")
    Annotation.objects.filter(point__plan=plan).update(status=Annotation.Status.PUBLISHED)
    point = plan.points.get(key="6")
    point.title = HOSTILE + point.title
    point.save()
    six = clause("us-28-point-draft", "6")
    six.text = f"{HOSTILE} {six.text}"
    six.save()
    e3 = clause("e3-counter-proposal", "6")
    e3.change_note, e3.material_change = f"Raised. {HOSTILE}", True
    e3.save()
    dropped = Clause.objects.filter(revision__slug="e3-counter-proposal", dropped=True).first()
    dropped.change_note = f"Gone. {HOSTILE}"
    dropped.save()
    us, cosmetic = clause("us-28-point-draft", "2"), clause("e3-counter-proposal", "2")
    cosmetic.text = us.text.upper()
    cosmetic.save()
    revision = plan.revisions.get(slug="e3-counter-proposal")
    revision.title = f"{HOSTILE} {revision.title}"
    revision.short_label = SHORT_HOSTILE  # rows name each side by its short label
    revision.save()
    return plan


@pytest.mark.parametrize("view", ["side", "inline"])
@pytest.mark.parametrize("changes", ["all", "only"])
@pytest.mark.usefixtures("page_cache_off")
def test_compare_rows_are_what_the_template_loop_rendered(client, every_branch, view, changes):
    """Every ordered pair of the demo's texts: the same rows as the template loop, but for whitespace between tags."""
    plan = every_branch
    first_revision = plan.revisions.in_order().first()
    shown = set()
    for a_slug in REVISIONS:
        for b_slug in REVISIONS:
            if a_slug == b_slug:
                continue
            a, b = plan.revisions.get(slug=a_slug), plan.revisions.get(slug=b_slug)
            comparison = compare_revisions(plan, a, b, changes_only=changes == "only")
            context = {"comparison": comparison, "view": view, "a": a, "b": b, "first_revision": first_revision}
            reference = TEMPLATE_COMPARE_ROWS.render(Context(context))
            served = page_rows(client, f"/plans/{PLAN}/compare/?a={a_slug}&b={b_slug}&view={view}&changes={changes}")
            assert between_tags('<ol class="compare-rows">' + served) == between_tags(reference), (a_slug, b_slug)
            shown |= set(
                re.findall(r'class="(material|renumbered|compare-row__notes|change-note|absent|dropped)"', served)
            )
            shown |= {"split"} if "split from point" in served else set()
            shown |= {"cosmetic"} if re.search(r"<span>only [^<]* changed</span>", served) else set()
    expected = {"material", "renumbered", "compare-row__notes", "change-note", "absent", "split"}
    expected |= {"dropped"} if view == "side" else set()
    expected |= {"cosmetic"} if changes == "all" else set()
    assert expected <= shown  # the comparison above met every kind of part


@pytest.mark.parametrize("view", ["side", "inline"])
@pytest.mark.usefixtures("page_cache_off")
def test_compare_rows_escape_hostile_text(client, every_branch, view):
    """Titles, wordings, change notes, labels and notes with tags, quotes, & and hx-get= arrive as text."""
    rows = page_rows(client, f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal&view={view}")
    assert "<script" not in rows
    assert not re.search(r"<[a-z][^>]*\s(hx-[a-z]+|on[a-z]+)=", rows)  # no tag carries an htmx or event attribute
    six = rows.split('id="point-6"')[1].split('class="compare-row ')[0]
    assert six.count(HOSTILE_ESCAPED) >= 2  # the title and the note on B; the wording is in the redline
    assert "<del>" + HOSTILE_ESCAPED in six  # A's wording, struck (or redlined) where B dropped the hostile start
    assert f"Our note on B: Raised. {HOSTILE_ESCAPED}</p>" in six
    assert '<span class="material">material change</span>' in six
    # The notes: Markdown through the sanitizer, the editor's name escaped
    assert "<strong>Note</strong> &lt;script&gt;" in six and "Second <em>note</em>." in six
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;" in six.split("note__meta")[1]
    if view == "side":
        assert f"Gone. {HOSTILE_ESCAPED}</p>" in rows
        assert f'<span class="side-badge side-badge--b">B</span> {SHORT_HOSTILE_ESCAPED}</p>' in rows


def test_compare_row_escapes_a_plain_string_given_as_notes(plan):
    """Only HTML the notes component rendered (a SafeString) passes as it is: a plain string is shown as text."""
    a, b = plan.revisions.get(slug="us-28-point-draft"), plan.revisions.get(slug="e3-counter-proposal")
    row = compare_revisions(plan, a, b).rows[0]
    row.notes = ["a note"]
    html = rows.compare_row(row, view="side", a_label="A", b_label="B", change_note=False, notes="<b>x</b>")
    assert "&lt;b&gt;x&lt;/b&gt;</details>" in html


def test_the_compare_pages_sources_cite_each_source_as_the_component_does(plan):
    """
    rows.source_items: for every demo source and for hostile ones (not citable, weak, undated, via),
    the citation components/source_link.html renders, in an <li>, but for whitespace between tags.
    """
    component = get_template("peaceplans/components/source_link.html")
    sources = list(Source.objects.all())
    sources += [
        Source(url=f"https://example.org/{n}?b=<2>", outlet=HOSTILE, kind=kind, via=via, citable=cite, published_on=on)
        for n, (kind, via, cite, on) in enumerate(
            [
                ("aggregator", HOSTILE, True, None),
                ("state-media", "", False, datetime.date(2025, 11, 20)),
                ("original-report", "", True, datetime.date(2025, 1, 2)),
            ]
        )
    ]
    kinds = set()
    for source in sources:
        reference = "<li>" + component.render({"source": source}).strip() + "</li>"
        assert between_tags(rows.source_items([source], day=day)) == between_tags(reference), source.url
        kinds.add((source.citable, source.is_weak, bool(source.published_on), bool(source.via)))
    assert len(kinds) >= 4  # citable or not, weak or not, dated or not, via or not, met
    assert HOSTILE not in rows.source_items(sources, day=day)


@pytest.mark.usefixtures("page_cache_off")
def test_the_summary_the_index_and_the_pickers_escape_hostile_text(client, every_branch):
    """rows.material_items, compare_index and options: a hostile title, change note and label arrive as text."""
    html = client.get(f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal").content.decode()
    summary = html.split('class="compare-summary"')[1].split("</section>")[0]
    index = html.split('<details class="compare-index">')[1].split("</details>")[0]
    pickers = html.split('<form class="compare-form"')[1].split("</form>")[0]
    assert f'<a href="#point-6">{HOSTILE_ESCAPED}' in summary and f": Raised. {HOSTILE_ESCAPED}</li>" in summary
    assert f'<a href="#point-6"><span class="point-key">6</span> {HOSTILE_ESCAPED}' in index
    assert f">{SHORT_HOSTILE_ESCAPED} · " in pickers
    for part in (summary, index, pickers):
        assert "<script" not in part and not re.search(r"<[a-z][^>]*\s(hx-[a-z]+|on[a-z]+)=", part.split(">", 1)[1])
