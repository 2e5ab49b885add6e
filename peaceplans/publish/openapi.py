"""
The OpenAPI 3.1 description of the read-only JSON API and of the whole-dataset download.

It is built here as a plain dict, served as /api/v1/openapi.json, and turned into the HTML
page at /api/ by `docs_context`, so the page and the document cannot disagree. The tests
validate every real response against these schemas (every field required, no extra ones),
so the serializers in api.py cannot drift from them either; and Schemathesis runs over every
operation with all its checks (tests/publish/test_openapi_conformance.py), so every status,
parameter value and content type the API answers is one described here.
"""

import re
from functools import cache
from typing import cast

from django.conf import settings

from peaceplans.models import Position, key_validator
from peaceplans.publish.schemas import SCHEMAS, ref
from peaceplans.selectors import KEY_MAX_LENGTH
from peaceplans.web.params import SLUG

API_VERSION = "1.0.0"
PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 999_999_999  # nine digits, as every page's ?page= (web/params.py): a longer number is a 400
EXAMPLE = {"plan": "russia-ukraine-2025", "revision": "us-28-point-draft", "point": "6", "party": "russia"}
# What a name in an address may look like; anything else is refused before a query sees it.
SLUG_SCHEMA = {"type": "string", "pattern": SLUG.pattern}
# RegexValidator compiles its regex in __init__; django-stubs types the attribute str | Pattern.
POINT_KEY_SCHEMA = {
    "type": "string",
    "pattern": cast(re.Pattern[str], key_validator.regex).pattern,
    "maxLength": KEY_MAX_LENGTH,
}
EMPTY = " Empty (`?{name}=`): as if not given."


def path_parameter(name: str, description: str, schema: dict) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
        "example": EXAMPLE[name],
    }


def query_parameter(name: str, description: str, schema: dict) -> dict:
    """An optional query parameter; empty counts as absent, as on the site's pages (their forms send every field)."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description + EMPTY.format(name=name),
        "schema": schema,
        "allowEmptyValue": True,
    }


PARAMETERS = {
    "plan": path_parameter("plan", "The plan's slug (see /api/v1/plans/).", SLUG_SCHEMA),
    "revision": path_parameter("revision", "The revision's slug.", SLUG_SCHEMA),
    "point": path_parameter(
        "point", "The point's key (its number in the plan's first revision, e.g. 6 or 10a).", POINT_KEY_SCHEMA
    ),
    "party": path_parameter("party", "The party's slug, e.g. russia (/api/v1/parties/ lists them).", SLUG_SCHEMA),
    "page": query_parameter(
        "page",
        f"Which page, from 1 to {MAX_PAGE:,}. Not a whole number in that range: 400. "
        "Page 0, or past the last page: 404.",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    ),
    "per_page": query_parameter(
        "per_page",
        f"Results per page, from 1 to {MAX_PER_PAGE}. Outside that range or not a whole number: 400.",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": PER_PAGE},
    ),
    "party_filter": query_parameter(
        "party",
        "Only this party's (its slug; /api/v1/parties/ lists them). Not a slug: 400. No party of that slug: 404.",
        {**SLUG_SCHEMA, "example": "russia"},
    ),
    "point_filter": query_parameter(
        "point",
        "Only stances on this point (its key). Not a key: 400. No such point in this plan: 404.",
        {**POINT_KEY_SCHEMA, "example": "6"},
    ),
    "position_filter": query_parameter(
        "position", "Only this position. Another value: 400.", {"type": "string", "enum": Position.values}
    ),
}


def _json(schema_name: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref(schema_name)}}}


RESPONSES = {
    "NotModified": {"description": "The `If-None-Match` header named the current ETag: nothing changed, no body."},
    "BadRequest": _json(
        "Error",
        "A query parameter was repeated, malformed or not one of the allowed values, or the address holds a "
        "NUL character (%00).",
    ),
    "NotFound": _json("Error", "No such plan, revision, point, party or page, in the address or in a filter."),
    "URITooLong": _json(
        "Error",
        f"The address is longer than {settings.MAX_PATH_BYTES:,} bytes, or its query string longer than "
        f"{settings.MAX_QUERY_STRING_BYTES:,} (as sent, percent-encoded). Never stored by a cache.",
    ),
    "ServiceUnavailable": {
        **_json("Error", "The database cannot answer for a moment. Never stored by a cache."),
        "headers": {
            "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "string"}}
        },
    },
}
CACHE_HEADERS = {
    "ETag": {
        "description": 'A hash of the body (weak W/"…" when the response is compressed); send it back in '
        "`If-None-Match` to get 304 Not Modified when nothing changed.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"description": "public, max-age=60", "schema": {"type": "string"}},
    "Access-Control-Allow-Origin": {"description": "* (any site may read the data)", "schema": {"type": "string"}},
}

# (path, operation id, summary, description, parameters, response schema, example query string)
OPERATIONS = [
    ("/api/v1/", "api_index", "The API's entry point", "Links to every endpoint and to this document.", [], "Index"),
    ("/api/v1/openapi.json", "api_openapi", "This OpenAPI document", "The API described in OpenAPI 3.1.", [], None),
    (
        "/api/v1/parties/",
        "api_parties",
        "All parties",
        "The negotiating sides, in column order.",
        ["page"],
        "PartyPage",
    ),
    ("/api/v1/parties/{party}/", "api_party", "One party", "One negotiating side.", ["party"], "Party"),
    ("/api/v1/plans/", "api_plans", "All plans", "Every negotiation, by title.", ["page"], "PlanPage"),
    (
        "/api/v1/plans/{plan}/",
        "api_plan",
        "One plan",
        "A negotiation, its revisions and topics.",
        ["plan"],
        "PlanDetail",
    ),
    (
        "/api/v1/plans/{plan}/revisions/",
        "api_revisions",
        "The plan's revisions",
        "Every version of the plan's text, by date.",
        ["plan", "page"],
        "RevisionPage",
    ),
    (
        "/api/v1/plans/{plan}/revisions/{revision}/",
        "api_revision",
        "One revision with its clauses",
        "One version of the text: provenance, sources, its wording of every point, statements on it.",
        ["plan", "revision"],
        "RevisionDetail",
    ),
    (
        "/api/v1/plans/{plan}/points/",
        "api_points",
        "The plan's points",
        "Every point in plan order.",
        ["plan", "page"],
        "PointPage",
    ),
    (
        "/api/v1/plans/{plan}/points/{point}/",
        "api_point",
        "One point through every revision",
        "The point's wording in each revision, every party's stances and editors' published notes.",
        ["plan", "point"],
        "PointDetail",
    ),
    (
        "/api/v1/plans/{plan}/stances/",
        "api_stances",
        "The parties' stances",
        "Every stance on the plan's points and revisions, by date, each with its source.",
        ["plan", "party_filter", "point_filter", "position_filter", "page"],
        "StancePage",
        "party=russia&position=opposes",
    ),
    (
        "/api/v1/plans/{plan}/events/",
        "api_events",
        "The plan's timeline",
        "Dated events, oldest first.",
        ["plan", "party_filter", "page"],
        "EventPage",
        "party=ukraine",
    ),
    (
        "/plans/{plan}/dataset.json",
        "plan_dataset",
        "The whole plan as one download",
        "Plan, parties, topics, revisions, points, clauses, stances, sources, events and published notes in one "
        "JSON file (sent as an attachment), with a version derived from the data and a “cite as” line. "
        "Not paginated. Its ETag is weak and follows the version.",
        ["plan"],
        "Dataset",
    ),
]


def _operation(operation_id, summary, description, parameter_names, schema_name, example_query=""):
    names = list(parameter_names)
    if "page" in names:
        names.insert(names.index("page") + 1, "per_page")
    responses = {
        "200": {
            "description": summary,
            "headers": CACHE_HEADERS,
            "content": {"application/json": {"schema": ref(schema_name) if schema_name else {"type": "object"}}},
        },
        "304": {"$ref": "#/components/responses/NotModified"},
        # The request limits (ops/limits.py) answer these at any address, before the view is reached.
        "400": {"$ref": "#/components/responses/BadRequest"},
        "414": {"$ref": "#/components/responses/URITooLong"},
        "503": {"$ref": "#/components/responses/ServiceUnavailable"},
    }
    if names:
        responses["404"] = {"$ref": "#/components/responses/NotFound"}
    operation = {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in names],
        "responses": responses,
    }
    if example_query:
        operation["x-example-query"] = example_query
    return operation


DESCRIPTION = """\
The peaceplans data as read-only JSON: the plans, their revisions with every clause, the points
followed through each revision, the parties' stances with their sources, timeline events and
editors' published notes. Free to read from any site, without a key. A revision an editor has not
yet published is not in it at all, nor is its wording or a stance answering it: its addresses
answer 404, as for a revision that does not exist.

Only GET and HEAD are answered (any other method: 405). Field names are snake_case and stable
within v1; every field listed below is always present, null where it says so. Dates and times
are ISO 8601, times in UTC.

Each object carries `html_url`, its public page (anchored to the exact item), and `url`, its
address in this API where it has one of its own. Parties, topics, revisions and points are named
by their slugs and keys elsewhere in the data.

Lists are paginated with `page` and `per_page` (default 50, at most 200), in an envelope
`{count, next, previous, results}` whose `next` and `previous` are full addresses or null.

Every response carries an `ETag`: send it back in `If-None-Match` and an unchanged answer is
`304 Not Modified` with no body. Responses may be cached for 60 seconds (`Cache-Control: public,
max-age=60`) and read by scripts on any site (`Access-Control-Allow-Origin: *`). Browsers
revalidate with the ETag by themselves; a script on another site that sets `If-None-Match` by hand
triggers a CORS preflight (OPTIONS), which this read-only API does not answer.

Query parameters are optional; an empty one (`?party=`) counts as not given, as on the site's
pages. Errors are JSON, `{"error": "…"}`, at every address under /api/v1/ and for every .json
download, whichever part of the site answers: 400 for a repeated or malformed value (or a NUL
character in the address), 404 for no such plan, revision, point, party or page (named in the
address or in a filter), 405 for a method other than GET or HEAD, 414 for an over-long address, 503
with `Retry-After` while the database cannot answer.

Texts of the plans and summaries of positions are our own paraphrases; only `quote` fields
reproduce wording. Sources that are not citable (pages of propaganda networks) never carry a URL.
Editors' notes appear only once published, as sanitized HTML."""


@cache
def document() -> dict:
    """The OpenAPI 3.1 document (the same object on every call: treat it as read-only)."""
    paths = {}
    for path, operation_id, summary, description, parameters, schema, *example in OPERATIONS:
        paths[path] = {"get": _operation(operation_id, summary, description, parameters, schema, *example)}
    return {
        "openapi": "3.1.0",
        "info": {"title": "peaceplans API", "version": API_VERSION, "description": DESCRIPTION},
        "servers": [{"url": "/", "description": "This site."}],
        "paths": paths,
        "components": {"schemas": SCHEMAS, "parameters": PARAMETERS, "responses": RESPONSES},
    }


# The HTML page: the same document, flattened for a template.
def type_parts(schema: dict) -> list[tuple[str, str]]:
    """A schema's type as ("text", …) and ("ref", schema name) pieces, e.g. array of <Source>."""
    if "$ref" in schema:
        return [("ref", schema["$ref"].rsplit("/", 1)[1])]
    if "anyOf" in schema:
        parts = [part for option in schema["anyOf"] if option.get("type") != "null" for part in type_parts(option)]
        return [*parts, ("text", " or null")]
    if schema.get("type") == "array":
        return [("text", "array of "), *type_parts(schema["items"])]
    types = schema.get("type", "object")
    types = types if isinstance(types, list) else [types]
    label = " or ".join(types)
    if "format" in schema:
        label = label.replace("string", f"string ({schema['format']})", 1)
    return [("text", label)]


def prose_parts(text: str) -> list[tuple[str, str]]:
    """Text as ("text", …) and ("code", …) pieces: `backticks` mark field names and values."""
    return [("code" if n % 2 else "text", piece) for n, piece in enumerate(text.split("`")) if piece]


def _field(name: str, schema: dict) -> dict:
    return {
        "name": name,
        "type_parts": type_parts(schema),
        "description": prose_parts(schema.get("description", "")),
        "values": schema.get("enum", []),
    }


def _parameter(parameter: dict) -> dict:
    schema = parameter["schema"]
    return {
        **_field(parameter["name"], schema),
        "description": prose_parts(parameter["description"]),
        "location": parameter["in"],
        "required": parameter["required"],
        "default": schema.get("default"),
    }


def docs_context(base_url: str) -> dict:
    """Endpoints and schemas of the document, ready for templates/peaceplans/api_docs.html."""
    doc = document()
    endpoints = []
    for path, item in doc["paths"].items():
        operation = item["get"]
        parameters = [doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] for p in operation["parameters"]]
        example = path
        for parameter in parameters:
            if parameter["in"] == "path":
                example = example.replace("{" + parameter["name"] + "}", parameter["example"])
        if operation.get("x-example-query"):
            example += "?" + operation["x-example-query"]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        endpoints.append(
            {
                "id": operation["operationId"].replace("_", "-"),
                "path": path,
                "summary": operation["summary"],
                "description": prose_parts(operation["description"]),
                "parameters": [_parameter(p) for p in parameters],
                "returns": type_parts(schema) if "$ref" in schema else [("text", "the OpenAPI document")],
                "example_url": base_url + example,
                "statuses": sorted(operation["responses"]),
            }
        )
    schemas = [
        {
            "name": name,
            "description": prose_parts(schema["description"]),
            "fields": [_field(field, sub) for field, sub in schema["properties"].items()],
        }
        for name, schema in doc["components"]["schemas"].items()
    ]
    paragraphs = [prose_parts(p.replace("\n", " ")) for p in doc["info"]["description"].split("\n\n")]
    return {"endpoints": endpoints, "schemas": schemas, "about": paragraphs, "version": doc["info"]["version"]}
