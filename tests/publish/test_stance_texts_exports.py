"""
A stance answers one text (issue 21, item 1), in the exports and the API: the matrix CSV (for the
latest statements and for one text in view), the point's stances CSV, the party's positions CSV and
every stance in the API name the text each stance answers, by slug and short label.
"""

import csv
import io

import pytest

from peaceplans.models import Revision, Stance

pytestmark = pytest.mark.django_db

PLAN = "russia-ukraine-2025"
P = f"/plans/{PLAN}"
US, BERLIN = "us-28-point-draft", "berlin-joint-statement"


def download(client, url) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_matrix_csv_names_the_text_each_latest_stance_answers(client):
    row = next(r for r in download(client, f"{P}/matrix.csv") if r["key"] == "8")
    assert row["positions_on"] == "latest"
    assert (row["europe_position"], row["europe_answering"], row["europe_answering_label"]) == (
        "supports",
        BERLIN,
        "Berlin",
    )
    assert (row["russia_position"], row["russia_answering_label"], row["russia_stated_on"]) == (
        "opposes",
        "Berlin",
        "2025-12-28",
    )
    assert row["us_position"] == row["us_answering"] == row["us_answering_label"] == ""


def test_matrix_csv_with_a_text_in_view_has_the_stances_on_that_text_only(client):
    response = client.get(f"{P}/matrix.csv?on={US}")
    assert response["Content-Disposition"] == f'attachment; filename="{PLAN}-stances-on-{US}.csv"'
    row = next(r for r in download(client, f"{P}/matrix.csv?on={US}") if r["key"] == "8")
    assert row["positions_on"] == US
    assert (row["russia_position"], row["russia_answering_label"], row["russia_stated_on"]) == (
        "supports",
        "US draft",
        "2025-12-11",
    )
    assert row["europe_position"] == row["europe_answering"] == ""  # Europe answered E3 and Berlin, not the US draft


def test_matrix_csv_of_an_unknown_text_is_a_400(client):
    response = client.get(f"{P}/matrix.csv?on=atlantis")
    assert response.status_code == 400
    assert "“atlantis” is not one of this plan's texts" in response.content.decode()


def test_stances_csv_names_the_text_by_slug_and_label(client):
    rows = download(client, f"{P}/points/8/stances.csv")
    russia = [(r["answering"], r["answering_label"], r["is_latest"]) for r in rows if r["party"] == "russia"]
    assert russia == [(BERLIN, "Berlin", "true"), (US, "US draft", "false")]


def test_positions_csv_names_the_text_of_each_latest_position(client):
    rows = {r["key"]: r for r in download(client, f"{P}/parties/russia/positions.csv")}
    assert (rows["8"]["position"], rows["8"]["answering"], rows["8"]["answering_label"]) == (
        "opposes",
        BERLIN,
        "Berlin",
    )
    assert rows["21d"]["answering_label"] == "US draft"
    assert rows["9"]["position"] == rows["9"]["answering_label"] == ""


def test_api_stance_carries_its_texts_short_label(client):
    data = client.get(f"/api/v1/plans/{PLAN}/stances/?party=russia&point=8").json()
    shown = {(s["revision"], s["revision_label"], s["position"]) for s in data["results"]}
    assert shown == {(BERLIN, "Berlin", "opposes"), (US, "US draft", "supports")}


def test_api_stance_label_follows_an_editors_short_label(client):
    Revision.objects.filter(slug=BERLIN).update(short_label="Berlin 15 Dec")
    data = client.get(f"/api/v1/plans/{PLAN}/stances/?party=russia&point=8").json()
    assert "Berlin 15 Dec" in {s["revision_label"] for s in data["results"]}


def test_api_stance_without_a_text_has_a_null_label(client):
    stance = Stance.objects.filter(point__key="8", party__slug="russia").first()
    Stance.objects.filter(pk=stance.pk).update(revision=None)
    data = client.get(f"/api/v1/plans/{PLAN}/stances/?party=russia&point=8").json()
    assert {s["revision_label"] for s in data["results"] if s["id"] == stance.pk} == {None}
