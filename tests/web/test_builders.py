"""
The HTML builders of web/cells.py print what the templates they stand in for print: a source's
citation is the same whether a page includes components/source_link.html or builds it in Python.
"""

import datetime

import pytest
from django.template.loader import render_to_string

from peaceplans.models import Source
from peaceplans.web import cells

pytestmark = pytest.mark.django_db

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
    assert cells.source_link(source) == render_to_string("peaceplans/components/source_link.html", {"source": source})
