"""
The JSON Schemas of the API's records and pages (openapi.py puts them into the document). Every
property carries its description, so the HTML page at /api/ can list it.
"""

from peaceplans.models import Position, RevisionStatus, SourceKind, Wording


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
        "Short name used in addresses and as the party's identifier elsewhere, e.g. russia. Editors may add "
        "parties: read them from /api/v1/parties/ rather than from a fixed list."
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
    "short_label": string("A few words naming the text in headings and chips, e.g. “US draft”, “E3”, “Geneva”."),
    "wording": string(
        "How close the stored texts are to the parties' words: verbatim, our paraphrase, or as reported by others.",
        enum=Wording.values,
    ),
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
        "renumbered its points. “?6” means the revision's own number is not public. Empty for a dropped "
        "point whose number the revision gives to another point."
    ),
    "text": string("Our paraphrase of the clause; figures, names and legal terms kept exactly. Empty when dropped."),
    "wording_note": string(
        "What a reader must know about the wording itself, e.g. “Exact wording not found.”; may be empty. "
        "Never part of `text`."
    ),
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
    "revision_label": nullable_string(
        "Short label of the text the party was answering (“US draft”, “E3”, “Berlin”), or null. A stance "
        "answers one text: “supports” on one wording may mean the opposite of “supports” on another."
    ),
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
