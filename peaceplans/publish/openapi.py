"""
The OpenAPI 3.1 description of the read-only JSON API and of the whole-dataset download.

It is built here as a plain dict, served as /api/v1/openapi.json, and turned into the HTML
page at /api/ by `docs_context`, so the page and the document cannot disagree. The tests
validate every real response against these schemas (every field required, no extra ones),
so the serializers in api.py cannot drift from them either.
"""

from functools import cache

from peaceplans.models import Position, RevisionStatus, SourceKind

API_VERSION = "1.0.0"
PER_PAGE = 50
MAX_PER_PAGE = 200
EXAMPLE = {"plan": "russia-ukraine-2025", "revision": "us-28-point-draft", "point": "6", "party": "russia"}


# Small builders: every property carries its description, so the HTML page can list it.
def string(description: str, **extra) -> dict:
    return {"type": "string", "description": description, **extra}


def nullable_string(description: str, **extra) -> dict:
    return {"type": ["string", "null"], "description": description, **extra}


def integer(description: str, **extra) -> dict:
    return {"type": "integer", "description": description, **extra}


def boolean(description: str) -> dict:
    return {"type": "boolean", "description": description}


def ref(name: str, description: str = "") -> dict:
    schema = {"$ref": f"#/components/schemas/{name}"}
    return {**schema, "description": description} if description else schema


def nullable_ref(name: str, description: str) -> dict:
    return {"anyOf": [ref(name), {"type": "null"}], "description": description}


def array(items: dict, description: str) -> dict:
    return {"type": "array", "items": items, "description": description}


def api_url(what: str) -> dict:
    return string(f"The {what} in this API (absolute).", format="uri")


def html_url(what: str) -> dict:
    return string(
        f"The public web page of {what} (absolute; with an #anchor where it is part of a page).", format="uri"
    )


def record(description: str, properties: dict) -> dict:
    """An object whose every listed field is always present, and nothing else."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def page_of(name: str) -> dict:
    return record(
        f"One page of {name} results.",
        {
            "count": integer("How many results there are on all pages together.", minimum=0),
            "next": nullable_string("The next page (absolute URL), or null on the last page.", format="uri"),
            "previous": nullable_string("The previous page (absolute URL), or null on the first page.", format="uri"),
            "results": array(ref(name), f"The {name} objects on this page, in the order described for the endpoint."),
        },
    )


PARTY = {
    "slug": string(
        "Short name used in addresses and as the party's identifier elsewhere: us, ukraine, europe, russia."
    ),
    "name": string("Full name, e.g. “United States”."),
    "short_name": string("Column heading, e.g. “US”."),
    "colour": string("Accent colour (#rrggbb) the site shows next to the party's name, never instead of it."),
    "url": api_url("party"),
    "html_url": html_url("the party's positions on every point (in the featured plan, or in the plan asked about)"),
}
TOPIC = {
    "slug": string("Short name of the topic, e.g. nato, territory."),
    "name": string("The topic as readers see it."),
    "html_url": html_url("the plan's stance matrix filtered to this topic"),
}
SOURCE = {
    "id": integer("Stable identifier of the source in this dataset."),
    "url": nullable_string(
        "The published page. Null when `citable` is false: pages of propaganda networks are kept as "
        "pointers for editors but never offered as citations.",
        format="uri",
    ),
    "citable": boolean("False for pages that must never be shown as a citation; `url` is then null."),
    "outlet": string("The outlet as a reader should see it, e.g. “TimesLIVE (Reuters)”."),
    "title": string("Headline; [square brackets] mark a descriptive title. May be empty."),
    "published_on": nullable_string("Publication date (ISO 8601), or null when unknown.", format="date"),
    "kind": string(
        "How far the page is from whoever reported the fact: original report, agency copy (see `via`), "
        "official page, state media (only as the record of what its officials said), aggregator "
        "(used only where nothing better was found).",
        enum=SourceKind.values,
    ),
    "via": string("The agency whose story the page carries, for agency copies; otherwise empty."),
    "note": string("An editor's remark on the source; may be empty."),
    "html_url": html_url("the source in the site's list of sources"),
}
PLAN = {
    "slug": string("Short name of the plan, used in every address below it."),
    "title": string("The negotiation, e.g. “Ending Russia's war against Ukraine (2025 peace plans)”."),
    "summary": string("A paragraph on the negotiation, in our words."),
    "url": api_url("plan"),
    "html_url": html_url("the plan's overview (time strip and stance matrix)"),
    "revisions_url": api_url("list of the plan's revisions"),
    "points_url": api_url("list of the plan's points"),
    "stances_url": api_url("list of the parties' stances on the plan"),
    "events_url": api_url("list of the plan's timeline events"),
    "dataset_url": string("The whole plan as one JSON download, with a version and a “cite as” line.", format="uri"),
}
REVISION = {
    "slug": string("Short name of the revision, unique within the plan, e.g. us-28-point-draft."),
    "title": string("The text's title."),
    "published_on": string("When the text was published or agreed, as best known (ISO 8601).", format="date"),
    "status": string("What kind of text it is.", enum=RevisionStatus.values),
    "authors": array(string("A party slug."), "The parties that wrote the text (slugs; see /api/v1/parties/)."),
    "summary": string("The text in one or two sentences, in our words."),
    "provenance": string("Who published or leaked it, how the date was found, caveats. May be empty."),
    "original_language": string("Language of the original text; may be empty."),
    "translation": string("Whose translation the wording follows; may be empty."),
    "sources": array(ref("Source"), "Reports of the text as a whole."),
    "url": api_url("revision, with its clauses"),
    "html_url": html_url("the revision's full text"),
}
CLAUSE = {
    "revision": string("Slug of the revision this wording belongs to."),
    "point": string("Key of the plan point this clause words (see Point.key)."),
    "number": string(
        "The number as printed in this revision, which may differ from the point's key when the text "
        "renumbered its points. “?6” means the revision's own number is not public."
    ),
    "text": string("Our paraphrase of the clause; figures, names and legal terms kept exactly. Empty when dropped."),
    "dropped": boolean("True when this revision removes the point; `text` is then empty."),
    "change_note": string("One sentence on what changed against the earlier text; may be empty."),
    "material_change": boolean("Set by an editor when the change alters substance, not only wording."),
    "sources": array(ref("Source"), "Reports of this clause's wording."),
    "updated_at": string("When an editor last changed the clause (ISO 8601, UTC).", format="date-time"),
    "revision_url": api_url("revision"),
    "point_url": api_url("point"),
    "html_url": html_url("the clause (the revision's page, anchored at the point)"),
}
POINT = {
    "key": string(
        "Identity of the point across revisions: its number in the plan's first revision (“6”, “10a”), "
        "or “<revision>-<number>” for a point that first appears later. Stable."
    ),
    "title": string("A few words naming the point, e.g. “Army cap”."),
    "topic": string("Slug of the point's topic (see PlanDetail.topics)."),
    "split_from": nullable_string("Key of the point a later revision divided to make this one, or null."),
    "updated_at": string("When an editor last changed the point itself (ISO 8601, UTC).", format="date-time"),
    "url": api_url("point, with its wording in every revision"),
    "html_url": html_url("the point"),
}
STANCE = {
    "id": integer("Stable identifier of the stance."),
    "party": string("Slug of the party that took the position."),
    "position": string("The position, as recorded by our editors.", enum=Position.values),
    "stated_on": string("Date of the statement, or of the report when that is unknown (ISO 8601).", format="date"),
    "summary": string("The position in our own words."),
    "quote": string("A short quotation, verbatim from the source; may be empty."),
    "speaker": string("Who said it; “(describing …)” marks a characterisation. May be empty."),
    "point": nullable_string("Key of the point the stance is about, or null for a stance on a whole revision."),
    "revision": nullable_string("Slug of the revision the party was answering, or null."),
    "source": ref("Source", "The report the stance rests on."),
    "updated_at": string("When an editor last changed the stance (ISO 8601, UTC).", format="date-time"),
    "point_url": {**api_url("point"), "type": ["string", "null"], "description": "The point in this API, or null."},
    "revision_url": {
        **api_url("revision"),
        "type": ["string", "null"],
        "description": "The revision in this API, or null.",
    },
    "html_url": html_url("the stance (on its point's page, or its revision's page)"),
}
EVENT = {
    "id": integer("Stable identifier of the event."),
    "date": string("When it happened (ISO 8601).", format="date"),
    "title": string("What happened, in a line."),
    "summary": string("More detail, in our words; may be empty."),
    "parties": array(string("A party slug."), "The parties involved (slugs)."),
    "source": nullable_ref("Source", "The report of the event, or null."),
    "html_url": html_url("the event on the plan's timeline"),
}
NOTE = {
    "id": integer("Stable identifier of the note."),
    "point": string("Key of the point the note is about."),
    "body_html": string(
        "The note as sanitized HTML: the editor's Markdown rendered and cleaned by the site's one sanitizer, "
        "keeping only p, br, strong, em, a (http, https and mailto links, rel=“noopener nofollow”), lists, "
        "blockquote, code, pre, h3, h4 and hr. Safe to insert into a page as it is. The Markdown source is "
        "not published. Only published notes appear; drafts never do."
    ),
    "author": string("The editor's full name, or “Editors”."),
    "published_at": string("When the note was last made public (ISO 8601, UTC).", format="date-time"),
    "updated_at": string("When the note was last edited (ISO 8601, UTC).", format="date-time"),
    "html_url": html_url("the note on its point's page"),
}
ENDPOINT = {
    "path": string("The address, with {placeholders} for its path parameters."),
    "summary": string("What it returns."),
    "url_template": string("The absolute address, with the same {placeholders}."),
}
INDEX = {
    "name": string("The API's name."),
    "version": string("The API's version; field names are stable within it."),
    "description": string("What the API offers, in a paragraph."),
    "openapi_url": string("This API's OpenAPI 3.1 document.", format="uri"),
    "docs_html_url": string("The documented schema page for people.", format="uri"),
    "parties_url": api_url("list of parties"),
    "plans_url": api_url("list of plans"),
    "endpoints": array(ref("Endpoint"), "Every endpoint, as in the OpenAPI document."),
}
DATASET = {
    "version": string(
        "The data's version: the date of the latest edit and a short hash of the content, so the same "
        "data always gives the same version and any edit gives a new one."
    ),
    "updated_at": string("The latest edit to a point, clause, stance or note (ISO 8601, UTC).", format="date-time"),
    "generated_at": string("When this file was produced (ISO 8601, UTC).", format="date-time"),
    "cite_as": string("A ready-to-paste citation naming the version, the retrieval date and this file's address."),
    "notice": string("Terms of the texts: they are our own paraphrases, and only quotes reproduce wording."),
    "plan": ref("Plan", "The plan, with links to its lists in the API."),
    "parties": array(ref("Party"), "Every party."),
    "topics": array(ref("Topic"), "The topics of the plan's points."),
    "revisions": array(ref("Revision"), "The plan's revisions by date."),
    "points": array(ref("Point"), "The plan's points in plan order."),
    "clauses": array(ref("Clause"), "Every revision's wording of every point, by revision date then order."),
    "stances": array(ref("Stance"), "Every stance, by date."),
    "sources": array(ref("Source"), "Every source the revisions, clauses, stances and events above cite."),
    "events": array(ref("Event"), "The plan's timeline events by date."),
    "notes": array(ref("Note"), "Editors' published notes on the points (never drafts)."),
}

SCHEMAS = {
    "Error": record("What went wrong, in a sentence.", {"error": string("A message for people.")}),
    "Index": record("The API's entry point: links to every endpoint.", INDEX),
    "Endpoint": record("One endpoint of the API.", ENDPOINT),
    "Party": record("One negotiating side. Parties are shared by all plans.", PARTY),
    "Topic": record("A subject a point belongs to.", TOPIC),
    "Source": record("One published page that reports a text, a position or an event.", SOURCE),
    "Plan": record("One negotiation, with links to its lists.", PLAN),
    "PlanDetail": record(
        "One negotiation with its revisions and topics.",
        {
            **PLAN,
            "revisions": array(ref("Revision"), "The plan's revisions by date."),
            "topics": array(ref("Topic"), "The topics of the plan's points, in the site's order."),
        },
    ),
    "Revision": record("One version of the plan's text.", REVISION),
    "RevisionDetail": record(
        "One version of the plan's text with its wording of every point.",
        {
            **REVISION,
            "clauses": array(ref("Clause"), "The revision's clauses in the order it prints them."),
            "stances": array(ref("Stance"), "The parties' statements on this text as a whole, by date."),
        },
    ),
    "Clause": record("A point's wording in one revision, or the record that the revision dropped it.", CLAUSE),
    "Point": record("The identity of one plan point across revisions.", POINT),
    "PointDetail": record(
        "One plan point with its wording in each revision, the parties' stances and editors' notes.",
        {
            **POINT,
            "wording": array(
                ref("Clause"), "The point's clause in each revision that has one, by revision date; others omit it."
            ),
            "stances": array(ref("Stance"), "Every party's stances on the point, by date (the last is the latest)."),
            "notes": array(ref("Note"), "Editors' published notes on the point, oldest first."),
        },
    ),
    "Stance": record("One party's position on one point or on a whole revision, as stated on one date.", STANCE),
    "Event": record("A dated entry on the plan's timeline.", EVENT),
    "Note": record("An editor's published note on a point.", NOTE),
    "Dataset": record("Everything about one plan, in one file.", DATASET),
}
for _name in ("Party", "Plan", "Revision", "Point", "Stance", "Event"):
    SCHEMAS[f"{_name}Page"] = page_of(_name)


def path_parameter(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
        "example": EXAMPLE[name],
    }


def query_parameter(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


PARAMETERS = {
    "plan": path_parameter("plan", "The plan's slug (see /api/v1/plans/)."),
    "revision": path_parameter("revision", "The revision's slug."),
    "point": path_parameter("point", "The point's key (its number in the plan's first revision, e.g. 6 or 10a)."),
    "party": path_parameter("party", "The party's slug: us, ukraine, europe or russia."),
    "page": query_parameter(
        "page",
        "Which page, from 1. Not a whole number: 400. Past the last page: 404.",
        {"type": "integer", "minimum": 1, "default": 1},
    ),
    "per_page": query_parameter(
        "per_page",
        f"Results per page, from 1 to {MAX_PER_PAGE}. Outside that range or not a whole number: 400.",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": PER_PAGE},
    ),
    "party_filter": query_parameter(
        "party", "Only this party's (a party slug). An unknown party: 400.", {"type": "string", "example": "russia"}
    ),
    "point_filter": query_parameter(
        "point", "Only stances on this point (its key). An unknown point: 400.", {"type": "string", "example": "6"}
    ),
    "position_filter": query_parameter(
        "position", "Only this position. Another value: 400.", {"type": "string", "enum": Position.values}
    ),
}


def _json(schema_name: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref(schema_name)}}}


RESPONSES = {
    "NotModified": {"description": "The `If-None-Match` header named the current ETag: nothing changed, no body."},
    "BadRequest": _json("Error", "A query parameter was repeated, malformed or not one of the allowed values."),
    "NotFound": _json("Error", "No such plan, revision, point, party or page."),
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
    }
    if any(PARAMETERS[name]["in"] == "query" for name in names):
        responses["400"] = {"$ref": "#/components/responses/BadRequest"}
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

Errors are JSON, `{"error": "…"}`: 400 for a repeated, malformed or unknown query value, 404 for
no such plan, revision, point, party or page, 405 for a method other than GET or HEAD.

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
