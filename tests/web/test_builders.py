"""
The HTML builders of web/fragments.py print what the components they stand in for print: a source's
citation and a stance's card are the same whether a page includes components/source_link.html and
components/stance.html (the pages other than the point page, timeline and search still do) or
builds them in Python.
"""

import datetime
import re

import pytest
from django.template.loader import render_to_string

from peaceplans.models import Source, Stance
from peaceplans.web import fragments

pytestmark = pytest.mark.django_db


def spaced(html: str) -> str:
    """HTML with each run of whitespace as one space: what a browser makes of it outside <pre>."""
    return re.sub(r"\s+", " ", html)


DAY = datetime.date(2025, 11, 20)
SOURCES = {
    "citable, dated": Source(
        url="https://example.org/a?b=1&c=2", outlet="Outlet <A>", kind="original-report", published_on=DAY
    ),
    "not citable": Source(url="https://pravda.example/x", outlet="Pravda's net", kind="state-media", citable=False),
    "weak, via another": Source(
        url="https://agg.example/", outlet="Agg", kind="aggregator", via="Reuters & AP", published_on=DAY
    ),
    "official, undated": Source(url="https://gov.example/", outlet="“Gov”", kind="official", note="n"),
}


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_source_link_is_the_component_built_in_python(source):
    template = render_to_string("peaceplans/components/source_link.html", {"source": source})
    assert fragments.source_link(source) == template


@pytest.mark.parametrize("show_target", [False, True])
def test_stance_cards_are_the_component_built_in_python(show_target):
    """Every demo stance: on a point or a whole text, with a quote, a speaker or neither, each source kind."""
    stances = list(Stance.objects.public().with_sources().order_by("pk"))
    assert any(s.point_id is None for s in stances) and any(s.quote for s in stances)
    assert any(s.speaker and not s.quote for s in stances) and any(not s.speaker for s in stances)
    for stance in stances:
        template = render_to_string("peaceplans/components/stance.html", {"stance": stance, "show_target": show_target})
        assert spaced(fragments.stance_cards([stance], show_target=show_target)) == spaced(template), stance.pk
