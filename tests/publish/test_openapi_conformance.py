"""
The API against its own OpenAPI document, by Schemathesis, in process.

Every operation of the document the API serves (test_api.py pins /api/v1/openapi.json to
`openapi.document()`) gets one test: Schemathesis's examples, coverage and fuzzing phases, positive
and negative values, each response judged by every check it has (the `--checks all` of its command
line: status codes, content types, response schemas and headers, schema-valid requests accepted,
schema-violating ones refused, 405 for other methods, no 5xx). Requests go to the Django app over
WSGI, against the demo data, inside the test's transaction: no server, 10 to 20 s on one core.

Deterministic (Hypothesis' derandomize): a failure reproduces on every run, and its message gives
the curl line. PEACEPLANS_TEST_PROFILE=dev runs a tenth of CI's fuzzing examples per operation.

Below it, one test per mismatch the outside audit and the first run of this test found, each
reproducing it with the test client, so each can fail on its own.
"""

from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from jsonschema import Draft202012Validator
from schemathesis.checks import CHECKS, load_all_checks

from peaceplans.publish import openapi
from tests.conftest import scaled

PLAN = "russia-ukraine-2025"
API = f"/api/v1/plans/{PLAN}/"
FUZZING_EXAMPLES = scaled(100)  # per operation; the coverage and examples phases add their own fixed cases

# The one allowance (414 refuses a request too) is in schemathesis.toml beside this file, which a run
# against a server reads as well.
CONFIG = schemathesis.config.SchemathesisConfig.from_path(Path(__file__).with_name("schemathesis.toml"))
schema = schemathesis.openapi.from_dict(openapi.document(), config=CONFIG)
schema.app = WSGIHandler()
schema.config.checks.update(included_check_names=["all"])  # the command line's --checks all


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """
    Requests over plain WSGI end with Django's close_old_connections, which on PostgreSQL would close
    the connection that holds the test's transaction: off for these tests, as Django's test client does.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def conformance_test(operation_id: str):
    """The Schemathesis test of one operation: every generated request, every check, 0 failures."""

    @pytest.mark.django_db
    @schema.include(operation_id=operation_id).parametrize()
    @hypothesis_settings(
        max_examples=FUZZING_EXAMPLES,
        derandomize=True,
        database=None,  # derandomized: nothing to replay, and no .hypothesis/ folder left behind
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def test(case):
        # A real client undoes GZipMiddleware's compression; the WSGI transport does not, so ask for none.
        case.call_and_validate(headers={"Accept-Encoding": "identity"})

    test.__doc__ = f"{operation_id}: every response to every generated request is what the document says."
    return test


# One test function per operation, named after its operationId (test_api_points_conforms, ...). One
# function parametrized over all operations would not do: Schemathesis names its items per operation
# in a way pytest 9 no longer reads, so all 13 would share one test id, and pytest-xdist, which hands
# out tests by id, would run only the first of them.
for _operation in [item["get"]["operationId"] for item in openapi.document()["paths"].values()]:
    globals()[f"test_{_operation}_conforms"] = conformance_test(_operation)


def test_every_documented_operation_is_tested_with_every_check():
    """The tests above cover each path of the document (none skipped or filtered out) with all 14 checks on."""
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.label for operation in operations} == {f"GET {path}" for path in openapi.document()["paths"]}
    assert len(operations) == 13
    load_all_checks()
    for operation in operations:
        config = schema.config.checks_config_for(operation=operation, phase=None)
        assert {name: config.get_by_name(name=name).enabled for name in CHECKS.get_all_names()} == dict.fromkeys(
            CHECKS.get_all_names(), True
        )
    assert len(CHECKS.get_all_names()) == 14
    assert "414" in schema.config.checks.negative_data_rejection.expected_statuses
    tests = {name for name in globals() if name.endswith("_conforms")}
    assert tests == {f"test_{operation.definition.raw['operationId']}_conforms" for operation in operations}


# ---- One test per mismatch found ----


def error(response, status):
    assert response.status_code == status, (response.status_code, response.content[:200])
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error"}
    return response.json()["error"]


def documented(path: str) -> set[str]:
    return set(openapi.document()["paths"][path]["get"]["responses"])


@pytest.mark.django_db
def test_a_ten_digit_page_is_outside_the_documented_range_and_refused(client):
    """page has a documented maximum (nine digits); the largest is a 404 past the last page, one more digit a 400."""
    page = openapi.PARAMETERS["page"]["schema"]
    assert page["maximum"] == openapi.MAX_PAGE == 999_999_999
    assert error(client.get(API + "points/?page=999999999"), 404).startswith("There is no page 999999999")
    assert "whole number" in error(client.get(API + "points/?page=1234567890"), 400)
    assert "whole number" in error(client.get(API + "points/?page=2%0A"), 400)  # "2\n": the whole value must be digits


@pytest.mark.django_db
def test_an_integer_written_with_a_zero_fraction_is_that_integer(client):
    """JSON Schema counts 2.0 as an integer, so the documented `integer` accepts it; 1.5 stays a 400."""
    two = client.get(API + "points/?page=2.0&per_page=20.00").json()
    assert two["results"] == client.get(API + "points/?page=2&per_page=20").json()["results"]
    assert len(two["results"]) == 20 and "?page=1&" in two["previous"]
    assert "whole number" in error(client.get(API + "points/?page=1.5"), 400)
    assert "whole number" in error(client.get(API + "points/?page=2."), 400)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query,count",
    [
        ("points/?page=&per_page=", 53),
        ("stances/?party=&point=&position=", 69),
        ("events/?party=", 32),
    ],
)
def test_empty_parameters_are_documented_and_mean_not_given(client, query, count):
    """`?party=` is as if absent (as on the pages, whose forms send every field), and the document says so."""
    data = client.get(API + query, {"per_page": "200"} if "per_page" not in query else {}).json()
    assert data["count"] == count
    for name, parameter in openapi.PARAMETERS.items():
        if parameter["in"] == "query":
            assert parameter["allowEmptyValue"] is True, name
            assert "Empty (" in parameter["description"], name


@pytest.mark.django_db
def test_414_and_400_from_the_request_limits_are_documented_json(client):
    """The limits middleware answers any address with 414 or 400 (NUL): JSON, and in every operation's responses."""
    long_query = client.get(API + "points/?q=" + "x" * settings.MAX_QUERY_STRING_BYTES)
    assert "query" in error(long_query, 414)
    assert long_query["Cache-Control"] == "no-store"
    assert "NUL" in error(client.get("/api/v1/parties/rus%00sia/"), 400)
    for path in openapi.document()["paths"]:
        assert {"400", "414", "503"} <= documented(path), path
    too_long = openapi.document()["components"]["responses"]["URITooLong"]["description"]
    assert f"{settings.MAX_PATH_BYTES:,} bytes" in too_long and f"{settings.MAX_QUERY_STRING_BYTES:,}" in too_long


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["stances/", "events/"])
def test_party_filter_is_a_documented_slug_unknown_is_404(client, endpoint):
    """No fixed party list in the document (editors add parties): a slug no party has is 404, a non-slug 400."""
    parameter = openapi.PARAMETERS["party_filter"]
    assert "enum" not in parameter["schema"] and parameter["schema"]["pattern"] == openapi.SLUG.pattern
    message = error(client.get(API + endpoint + "?party=martians"), 404)
    assert message == "There is no party “martians”; the parties are: us, ukraine, europe, russia."
    assert "slug" in error(client.get(API + endpoint + "?party=%C2%8D%2F"), 400)
    assert client.get(API + endpoint + "?party=russia").status_code == 200


@pytest.mark.django_db
def test_point_filter_is_a_documented_key_unknown_is_404(client):
    """?point= follows the key pattern the document gives: a key the plan lacks is 404, a non-key 400."""
    assert openapi.PARAMETERS["point_filter"]["schema"]["pattern"] == "^[a-z0-9][a-z0-9-]*$"
    assert error(client.get(API + "stances/?point=999"), 404) == "This plan has no point “999”."
    assert "key" in error(client.get(API + "stances/?point=%F0%9F%91%8D"), 400)


@pytest.mark.django_db
@pytest.mark.parametrize("plan", ["Mt%C3%898", "a%1Fb", "a%2Fb", "%E2%80%AE"])
def test_dataset_of_a_non_slug_plan_is_a_json_404(client, plan):
    """No route takes /plans/<not a slug>/dataset.json: handler404 still answers JSON there, not the HTML page."""
    assert error(client.get(f"/plans/{plan}/dataset.json"), 404).startswith("There is nothing at this address")


@pytest.mark.django_db
def test_pages_outside_the_api_keep_the_html_404(client):
    """handler404 changes only the API's addresses: a page that does not exist is still the site's 404 page."""
    response = client.get("/plans/a%1Fb/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_error_bodies_of_every_documented_status_validate(client):
    """Each error status above carries the documented Error object."""
    validator = Draft202012Validator(openapi.SCHEMAS["Error"])
    for url, status in (
        (API + "points/?page=x", 400),
        ("/plans/a%1Fb/dataset.json", 404),
        (API + "points/?q=" + "x" * settings.MAX_QUERY_STRING_BYTES, 414),
    ):
        response = client.get(url)
        assert response.status_code == status
        validator.validate(response.json())
