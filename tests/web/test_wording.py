"""The legends say "paraphrase" only of texts that are our paraphrase (issue 21, item 4)."""

import pytest

from peaceplans.models import Revision

pytestmark = pytest.mark.django_db
P = "/plans/russia-ukraine-2025"
EMBED = "/embed/plans/russia-ukraine-2025/compare/?a=us-28-point-draft&b=berlin-joint-statement"


def legend(html: str) -> str:
    return html.split('class="legend diff-legend"')[1].split("</p>")[0]


def test_all_paraphrases_are_called_so(client):
    assert "Texts are our paraphrase of each version." in legend(client.get(EMBED).content.decode())
    assert "Texts are our paraphrase" in legend(client.get(f"{P}/points/6/?against=us-28-point-draft").content.decode())


def test_a_verbatim_text_is_never_called_a_paraphrase(client):
    Revision.objects.filter(slug="berlin-joint-statement").update(wording="verbatim")
    text = legend(client.get(EMBED).content.decode())
    assert "Texts are our paraphrase" not in text
    assert "US draft: our paraphrase; Berlin: verbatim." in text


def test_the_embed_shows_a_wording_note_beside_the_text_never_inside_the_diff(client):
    from peaceplans.models import Clause

    Clause.objects.filter(revision__slug="e3-counter-proposal", number="6").update(
        wording_note="Exact wording not found."
    )
    html = client.get(EMBED.replace("berlin-joint-statement", "e3-counter-proposal") + "&points=6").content.decode()
    row = html.split('id="point-6"')[1]
    assert "Note on the wording:</span> Exact wording not found.</p>" in row
    assert "Exact wording" not in row.split('<p class="wording-note">')[0]
    assert '<span class="side-badge side-badge--b">B</span> E3</p>' in html
