"""
Aliases (issue 20): an editor's equivalence line, checked and stored in one form, and the table
search and alignment read from it. How search uses them: tests/search/test_search.py.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from peaceplans.models import Alias, DataVersion
from peaceplans.search import aliases
from tests import hostile
from tests.editing.test_editors import make_editor
from tests.web.test_xss import Parsed, assert_inert

pytestmark = pytest.mark.django_db


def test_spellings_are_stored_trimmed_without_repeats():
    alias = Alias.objects.create(spellings="  ZNPP ,Zaporizhzhia   nuclear plant,, znpp ,Zaporizhzhia nuclear plant ")
    alias.refresh_from_db()
    assert alias.spellings == "ZNPP, Zaporizhzhia nuclear plant"
    assert alias.spelling_list == ["ZNPP", "Zaporizhzhia nuclear plant"]


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("", "blank"),
        ("Zelenskyy", "too_few"),
        ("Zelenskyy, ZELENSKYY", "too_few"),
        (", , ,", "too_few"),
        ("Zelenskyy, !!!", "no_word"),
        ("Zelenskyy, " + "x" * 81, "long"),
        ("Zelenskyy, Zelen\u202eskyy", "control"),
        ("Zelenskyy, Zelen\x00skyy", "control"),
        (", ".join(f"w{n}" for n in range(13)), "too_many"),
    ],
)
def test_a_line_that_names_no_equivalence_is_refused_with_a_reason(line, code):
    alias = Alias(spellings=line)
    with pytest.raises(ValidationError) as caught:
        alias.full_clean()
    assert code in {e.code for e in caught.value.error_dict["spellings"]}


def test_the_database_refuses_a_single_spelling_written_around_the_form():
    with pytest.raises(IntegrityError), transaction.atomic():
        Alias.objects.create(spellings="Zelenskyy")
    assert not Alias.objects.filter(spellings="Zelenskyy").exists()


def test_the_table_maps_every_spelling_to_all_of_its_line_as_index_words():
    Alias.objects.all().delete()
    Alias.objects.create(spellings="Zelenskyy, Zelenskiy, Зеленський")
    Alias.objects.create(spellings="ZNPP, Zaporizhzhia nuclear plant")
    table = aliases.table()
    assert aliases.alternatives(("zelenskiy",), table) == (("zelenskiy",), ("zelenskyy",), ("зеленський",))
    assert aliases.alternatives(("znpp",), table) == (("znpp",), ("zaporizhzhia", "nuclear", "plant"))
    assert aliases.alternatives(("zaporizhzhia", "nuclear", "plant"), table)[1] == ("znpp",)
    assert aliases.alternatives(("kyiv",), table) == (("kyiv",),)


def test_a_spelling_in_two_lines_stands_for_both():
    Alias.objects.all().delete()
    Alias.objects.create(spellings="EU, European Union")
    Alias.objects.create(spellings="EU, Brussels")
    assert set(aliases.alternatives(("eu",), aliases.table())) == {("eu",), ("european", "union"), ("brussels",)}


def test_an_alias_saved_counts_at_once_and_advances_the_data_version():
    """No index to rebuild: the next read sees it, and cached pages are dropped with the old version."""
    before = DataVersion.objects.get().token
    Alias.objects.create(spellings="Witkoff, Уиткофф")
    assert aliases.alternatives(("уиткофф",), aliases.table()) == (("уиткофф",), ("witkoff",))
    assert DataVersion.objects.get().token != before


# Hostile alias lines: typed by an editor, read by every search


@pytest.mark.parametrize("payload", hostile.sample(48, seed=20), ids=lambda p: p.id)
def test_a_hostile_alias_line_is_stored_as_text_or_refused_and_searches_stay_inert(client, payload):
    """
    Whatever an editor types into an alias is either refused with the form's reason (nothing
    stored) or stored as spellings; searching for one of them, or for the name it widens, answers
    200 with the text escaped: no tag, attribute or htmx verb of the line reaches the page.
    """
    editor = Client(enforce_csrf_checks=False)
    editor.force_login(make_editor("alias-desk"))
    baseline = Parsed(client.get("/search/", {"q": "Kyiv"}).content.decode())
    before = sorted(Alias.objects.values_list("spellings", flat=True))
    line = f"{payload.text}, Kyiv"
    response = editor.post(reverse("admin:peaceplans_alias_add"), {"spellings": line, "note": payload.text[:200]})
    after = sorted(Alias.objects.values_list("spellings", flat=True))
    if response.status_code == 302:
        added = set(after) - set(before)
        assert len(added) == 1, (payload.id, added)
        assert Alias.objects.get(spellings=added.pop()).spelling_list[-1] == "Kyiv"
    else:
        assert response.status_code == 200, (payload.id, response.status_code)
        assert b"errorlist" in response.content, payload.id
        assert after == before, payload.id
    for query in ("Kyiv", payload.text[:200]):
        page = client.get("/search/", {"q": query})
        assert page.status_code in (200, 400), (payload.id, query, page.status_code)
        if page.status_code == 200:
            assert_inert(page.content.decode(), baseline, f"search {query!r} after alias {payload.id}")
