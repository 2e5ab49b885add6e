"""
The admin speaks in point numbers (issue 20): every point chooser is an autocomplete searched by
number, key and title, ranked so that "21d" puts point 21d first and labelled "21d · Title"; no
raw ids; a point of another plan is refused in words; a point's change page shows its wording in
every text, marked against the draft, and its stances, in a fixed number of queries.
"""

import datetime

import pytest
from django.contrib import admin
from django.db import connection
from django.db.models import ForeignKey, ManyToManyField
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from peaceplans.models import Annotation, Clause, Party, Plan, Point, Revision, Source, Stance, Topic

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
DONETSK = "21d · Donetsk demilitarised buffer zone"


def choose(client, term: str, *, model="stance", field="point") -> list[dict]:
    """What a point chooser offers for what was typed, as select2 asks the admin for it."""
    query = {"term": term, "app_label": "peaceplans", "model_name": model, "field_name": field}
    response = client.get(reverse("admin:autocomplete"), query)
    assert response.status_code == 200, response.content[:300]
    return response.json()["results"]


def test_typing_a_number_puts_that_point_first_labelled_by_number_and_title(editor_client):
    """Exact key first, then keys starting with it, then titles; the same from every chooser of a point."""
    donetsk = Point.objects.get(plan__slug=PLAN, key="21d")
    for model, field in [("stance", "point"), ("annotation", "point"), ("clause", "point"), ("point", "split_from")]:
        first = choose(editor_client, "21d", model=model, field=field)[0]
        assert first == {"id": str(donetsk.pk), "text": DONETSK}, (model, field)
    assert choose(editor_client, "point 21D.")[0]["text"] == DONETSK  # as an editor might type it
    labels = [result["text"] for result in choose(editor_client, "21")]
    assert labels[:5] == [
        "21 · Territory",
        "21a · Crimea, Luhansk and Donetsk recognised as Russian",
        "21b · Kherson and Zaporizhzhia frozen on the line of contact",
        "21c · Russia gives up other territory",
        DONETSK,
    ]
    assert DONETSK in [result["text"] for result in choose(editor_client, "donetsk buffer")]  # title words
    assert choose(editor_client, "buffer zone donetsk 21d")[0]["text"] == DONETSK
    assert choose(editor_client, "no such point anywhere") == []


def test_a_point_added_by_a_later_text_is_found_and_shown_by_its_readers_number(editor_client):
    later = Point.objects.filter(plan__slug=PLAN).exclude(label="").first()
    assert later is not None and later.label != later.key
    results = choose(editor_client, later.label)
    assert results[0] == {"id": str(later.pk), "text": f"{later.label} · {later.title}"}
    assert choose(editor_client, later.key)[0]["id"] == str(later.pk)


def test_with_several_plans_a_label_names_its_plan(editor_client):
    other = Plan.objects.create(slug="other-talks", title="Other talks")
    Point.objects.create(plan=other, key="21d", title="Another buffer", topic=Topic.objects.first())
    labels = {result["text"] for result in choose(editor_client, "21d")}
    plan = Plan.objects.get(slug=PLAN)
    assert labels == {f"{DONETSK} ({plan.title})", "21d · Another buffer (Other talks)"}


def test_readers_and_staff_without_rights_cannot_search_points(client):
    query = {"term": "21d", "app_label": "peaceplans", "model_name": "stance", "field_name": "point"}
    assert client.get(reverse("admin:autocomplete"), query).status_code == 302  # to the sign-in page
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("staffonly", password="x-long-password-1", is_staff=True))
    assert client.get(reverse("admin:autocomplete"), query).status_code == 403


def test_no_admin_asks_for_a_raw_id_and_every_point_field_is_an_autocomplete():
    """Across every admin and inline registered: no raw_id_fields; each field to a Point is searched by number."""
    admins = list(admin.site._registry.values())
    admins += [inline(model_admin.model, admin.site) for model_admin in admins for inline in model_admin.inlines]
    for model_admin in admins:
        assert not model_admin.raw_id_fields, type(model_admin).__name__
        for field in model_admin.model._meta.get_fields():
            if isinstance(field, ForeignKey | ManyToManyField) and field.related_model is Point:
                inline_parent = getattr(model_admin, "parent_model", None) is Point and field.name == "point"
                if not inline_parent:  # a point's own stances are on it: no chooser
                    assert field.name in model_admin.autocomplete_fields, (type(model_admin).__name__, field.name)


def test_an_add_stance_link_fills_in_plan_point_and_text_by_label(editor_client):
    """The admin's GET initial data: the point shows as "21d · ..." in its chooser, never as an id to type."""
    donetsk = Point.objects.get(plan__slug=PLAN, key="21d")
    e3 = Revision.objects.get(slug="e3-counter-proposal")
    url = reverse("admin:peaceplans_stance_add") + f"?point={donetsk.pk}&revision={e3.pk}"
    response = editor_client.get(url)
    form = response.context["adminform"].form
    assert form.initial["plan"] == donetsk.plan_id  # from the point: the link need not name the plan
    html = response.content.decode()
    assert f'<option value="{donetsk.pk}" selected>{DONETSK}</option>' in html
    assert "vForeignKeyRawIdAdminField" not in html


def stance_data(plan, point, revision=None) -> dict:
    return {
        "plan": plan.pk,
        "party": Party.objects.get(slug="russia").pk,
        "point": point.pk,
        "revision": revision.pk if revision else "",
        "position": "opposes",
        "stated_on": "2025-12-20",
        "summary": "Moscow rejected the zone.",
        "source": Source.objects.first().pk,
    }


def test_a_stance_on_a_point_of_another_plan_is_refused_in_words(editor_client):
    other = Plan.objects.create(slug="other-talks", title="Other talks")
    foreign = Point.objects.create(plan=other, key="9", title="Foreign point", topic=Topic.objects.first())
    plan = Plan.objects.get(slug=PLAN)
    before = Stance.objects.count()
    response = editor_client.post(reverse("admin:peaceplans_stance_add"), stance_data(plan, foreign))
    assert response.status_code == 200 and Stance.objects.count() == before
    errors = response.context["adminform"].form.errors["point"]
    assert errors == [
        f"Point “9 · Foreign point” belongs to the plan “Other talks”, not to “{plan.title}”, "
        f"the stance's plan: choose one of “{plan.title}”."
    ]
    donetsk = Point.objects.get(plan=plan, key="21d")
    saved = editor_client.post(reverse("admin:peaceplans_stance_add"), stance_data(plan, donetsk))
    assert saved.status_code == 302
    assert Stance.objects.filter(point=donetsk, summary="Moscow rejected the zone.").exists()


def test_a_clause_on_a_revisions_page_refuses_a_point_of_another_plan(client):
    """The revision's clause rows (a chief editor's page: editors add revisions, never change them)."""
    from django.contrib.auth.models import User

    from tests.editing.test_editors import change_form_data

    client.force_login(User.objects.create_superuser("chief", password="a-long-test-password-1"))
    other = Plan.objects.create(slug="other-talks", title="Other talks")
    foreign = Point.objects.create(plan=other, key="9", title="Foreign point", topic=Topic.objects.first())
    revision = Revision.objects.get(slug="e3-counter-proposal")
    url = reverse("admin:peaceplans_revision_change", args=[revision.pk])
    data = change_form_data(client, url)
    data["clauses-0-point"] = foreign.pk
    response = client.post(url, data)
    assert response.status_code == 200
    row = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert row.errors["point"] == [
        f"Point “9 · Foreign point” belongs to the plan “Other talks”, not to “{revision.plan.title}”, "
        f"the plan of this revision: choose one of “{revision.plan.title}”."
    ]
    assert not revision.clauses.filter(point=foreign).exists()


def test_a_point_is_split_from_another_point_of_its_plan_never_itself(editor_client):
    from tests.editing.test_editors import change_form_data

    other = Plan.objects.create(slug="other-talks", title="Other talks")
    foreign = Point.objects.create(plan=other, key="9", title="Foreign point", topic=Topic.objects.first())
    donetsk = Point.objects.get(plan__slug=PLAN, key="21d")
    url = reverse("admin:peaceplans_point_change", args=[donetsk.pk])
    data = change_form_data(editor_client, url)
    errors = {}
    for chosen in (foreign, donetsk):
        response = editor_client.post(url, data | {"split_from": chosen.pk})
        errors[chosen.key] = response.context["adminform"].form.errors["split_from"]
    assert errors["9"][0].startswith("Point “9 · Foreign point” belongs to the plan “Other talks”")
    assert errors["21d"] == [
        f"A point cannot be split from itself: choose the earlier point that “{DONETSK}” was divided from, "
        "or leave it empty."
    ]
    donetsk.refresh_from_db()
    assert donetsk.split_from is None


def add_stances(point, count: int) -> None:
    party, source, e3 = Party.objects.first(), Source.objects.first(), Revision.objects.get(slug="e3-counter-proposal")
    for n in range(count):
        Stance.objects.create(
            plan=point.plan,
            party=party,
            point=point,
            revision=e3,
            position="supports",
            source=source,
            stated_on=datetime.date(2025, 12, 1 + n),
            summary=f"Extra stance {n}.",
            speaker=f"Speaker {n}",
        )


def panel_of(client, point) -> str:
    html = client.get(reverse("admin:peaceplans_point_change", args=[point.pk])).content.decode()
    return html[html.index('<aside class="point-workbench__panel"') : html.index("</aside>")]


def test_the_point_page_shows_its_wording_in_every_text_marked_against_the_draft(editor_client):
    six = panel_of(editor_client, Point.objects.get(plan__slug=PLAN, key="6"))
    assert "Each text is marked against the draft, <strong>US draft</strong>" in six
    assert "The draft: the others are marked against it." in six
    assert "<del>" in six and "<ins>" in six  # a reworded text, word by word (components/diff.html)
    donetsk = Point.objects.get(plan__slug=PLAN, key="21d")
    panel = panel_of(editor_client, donetsk)
    assert "<strong>Dropped</strong> by this text: Removed: the European text has no Ukrainian withdrawal" in panel
    assert panel.count("Not addressed: this text neither words nor drops the point.") == 4
    for stance in Stance.objects.filter(point=donetsk).select_related("party", "source", "revision"):
        assert f"<strong>{stance.party.name}</strong>" in panel and stance.source.outlet in panel
        assert f"Speaker: {stance.speaker}" in panel and f"on {stance.revision.label}" in panel


def test_the_point_page_costs_the_same_queries_whatever_its_number_of_stances(editor_client):
    donetsk = Point.objects.get(plan__slug=PLAN, key="21d")
    url = reverse("admin:peaceplans_point_change", args=[donetsk.pk])
    editor_client.get(url)  # the content types and permissions Django remembers per process
    with CaptureQueriesContext(connection) as three:
        editor_client.get(url)
    add_stances(donetsk, 6)
    with CaptureQueriesContext(connection) as nine:
        html = editor_client.get(url).content.decode()
    assert html.count("Extra stance") == 12  # six in the panel, six in the stances' forms
    assert len(nine) == len(three) <= 16, [q["sql"][:120] for q in nine.captured_queries]


def test_a_revisions_page_costs_the_same_queries_for_45_clauses_as_for_5(client):
    """Each clause row's point and sources come with the rows (choosers.LoadedChoices), not a query per row."""
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("chief", password="a-long-test-password-1"))
    counts = {}
    for slug in ("us-28-point-draft", "us-ukraine-geneva-framework"):
        url = reverse("admin:peaceplans_revision_change", args=[Revision.objects.get(slug=slug).pk])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url).content.decode()
        counts[slug] = len(queries)
        assert html.count('class="admin-autocomplete"') >= Revision.objects.get(slug=slug).clauses.count()
    assert counts["us-28-point-draft"] == counts["us-ukraine-geneva-framework"], counts


@pytest.mark.parametrize("model", [Stance, Point, Annotation, Clause], ids=lambda m: m.__name__)
def test_each_chooser_form_carries_the_version_it_was_opened_at(editor_client, model):
    """A form listing its own fields (the stance's, point first) still sends edit_version: no false conflict."""
    obj = model.objects.first() or Annotation.objects.create(point=Point.objects.first(), body="A note.")
    html = editor_client.get(reverse(f"admin:peaceplans_{model._meta.model_name}_change", args=[obj.pk])).content
    assert b'name="edit_version"' in html
