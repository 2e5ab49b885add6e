"""The sentences, names and figures synthetic plans are made of: paraphrase-like, never real quotes."""

import re
from functools import lru_cache
from string import Formatter

from peaceplans.models import Position, RevisionStatus, SourceKind

# Paraphrase-like sentences per topic, with slots filled at random. Figures, names and places
# vary, so texts differ from point to point and the word diff has real work to do.

TEMPLATES = [
    ("sovereignty", "Sovereignty", "{actor}'s sovereignty and territorial integrity are confirmed by {actor2}."),
    (
        "security-guarantees",
        "Security guarantee",
        "{actor} receives a security guarantee modelled on Article 5, "
        "valid for {years} years and renewable by mutual agreement.",
    ),
    (
        "security-guarantees",
        "Non-aggression",
        "{actor}, {actor2} and the European states sign a comprehensive "
        "non-aggression agreement, and every ambiguity of the last {years} years is treated as settled.",
    ),
    (
        "nato",
        "NATO membership",
        "{actor} enshrines in its constitution that it will not join NATO, and NATO "
        "records in its statutes that it will not admit {actor} in future.",
    ),
    (
        "military-limits",
        "Army cap",
        "The armed forces of {actor} are capped at {troops} personnel in peacetime, "
        "with a reserve of no more than {reserve}.",
    ),
    (
        "military-limits",
        "Long-range weapons",
        "No missiles with a range above {km} km are stationed within {distance} km of the line of contact.",
    ),
    (
        "territory",
        "Line of contact",
        "The line of contact in {region} becomes the de facto line of control, without legal recognition by {actor}.",
    ),
    (
        "territory",
        "Demilitarised zone",
        "Forces withdraw from the part of {region} they hold, which becomes a "
        "demilitarised zone of {km} km under {body}.",
    ),
    (
        "nuclear",
        "Nuclear plant",
        "The Zaporizhzhia nuclear power plant is restarted under IAEA supervision, and "
        "its electricity is shared {split} between the two sides.",
    ),
    (
        "sanctions-economy",
        "Sanctions",
        "Sanctions on {sector} are lifted in stages, the first after {days} days, provided that {condition}.",
    ),
    (
        "frozen-assets",
        "Frozen assets",
        "{amount} of frozen Russian assets are invested in a reconstruction fund, "
        "with {percent}% of the profits going to {beneficiary}.",
    ),
    (
        "reconstruction",
        "Reconstruction fund",
        "A reconstruction fund of {amount} is set up, managed by {body} and audited every {months} months.",
    ),
    (
        "humanitarian",
        "Prisoner exchange",
        "All prisoners of war and civilian detainees are exchanged on an "
        "all-for-all basis within {days} days, and deported children are returned to their families.",
    ),
    (
        "governance-elections",
        "Elections",
        "Elections are held in {actor} no later than {days} days after the agreement is signed, observed by {body}.",
    ),
    (
        "language-religion",
        "Minority rights",
        "Language and religious rights are protected in line with {instrument}, and {actor2} adopts the same rules.",
    ),
    (
        "implementation",
        "Monitoring",
        "Compliance is monitored by {body}, which reports every {months} months "
        "and may refer any violation to the guarantors within {days} days.",
    ),
    (
        "other",
        "Amnesty",
        "All parties receive a full amnesty for acts committed during the war, except for "
        "crimes listed in {instrument}.",
    ),
]
ADDENDA = [
    "The measure takes effect once {condition}.",
    "{body} settles any dispute about its application within {days} days.",
    "{actor2} may suspend it if {condition}.",
    "Details are set out in an annex to be agreed by {actor} and {actor2}.",
    "A review takes place after {months} months.",
]
CONDITIONS = [
    "a full ceasefire has held for {days} days",
    "the monitoring mission confirms the withdrawal",
    "both parliaments ratify the agreement",
    "prisoner exchanges are complete",
    "the guarantors confirm compliance in writing",
]
SLOTS = {
    "actor": ["Ukraine", "Russia"],
    "actor2": ["the United States", "the European Union", "the E3", "Russia", "Ukraine", "the guarantor states"],
    "body": [
        "a Peace Council chaired by the United States",
        "the Joint Monitoring Commission",
        "the OSCE",
        "a UN-mandated mission",
        "the IAEA",
        "an international panel of judges",
    ],
    "region": ["Donetsk", "Luhansk", "Zaporizhzhia", "Kherson", "the Kinburn spit", "Kharkiv"],
    "sector": ["energy exports", "banking", "shipping", "aviation parts", "fertiliser exports"],
    "amount": ["$100bn", "€200bn", "$50bn", "€90bn", "$300bn"],
    "beneficiary": ["the United States", "Ukraine", "a joint investment vehicle", "European lenders"],
    "instrument": [
        "the EU Charter of Fundamental Rights",
        "the Council of Europe's language charter",
        "the Rome Statute",
        "the UN covenant on civil and political rights",
    ],
    "split": ["50-50", "60-40", "equally"],
}
NUMBER_SLOTS = {
    "troops": [600_000, 700_000, 800_000, 850_000],
    "reserve": [100_000, 150_000, 200_000],
    "km": [5, 10, 15, 30, 500],
    "distance": [50, 100, 150],
    "days": [30, 60, 90, 100, 120, 180],
    "months": [3, 6, 12],
    "years": [10, 15, 30],
    "percent": [25, 50, 70],
}
# Rewordings one revision makes of another's text: (this, that) either way round.
SWAPS = [
    ("will not", "shall not"),
    ("within", "no later than"),
    ("in stages", "at once"),
    ("capped at", "limited to"),
    ("supervision", "oversight"),
    ("is set up", "is established"),
    ("every ambiguity", "all ambiguities"),
    ("are exchanged", "are released"),
    ("protected", "guaranteed"),
    ("confirmed", "reaffirmed"),
    ("modelled on", "similar to"),
    ("valid for", "lasting"),
    ("observed by", "monitored by"),
]
NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")

OUTLETS = [
    ("Kyiv Ledger", SourceKind.ORIGINAL_REPORT, ""),
    ("Baltic Wire", SourceKind.ORIGINAL_REPORT, ""),
    ("Daily Courier (Reuters)", SourceKind.AGENCY_COPY, "Reuters"),
    ("Morning Post (AP)", SourceKind.AGENCY_COPY, "AP"),
    ("Ministry of Foreign Affairs", SourceKind.OFFICIAL, ""),
    ("Presidential Office", SourceKind.OFFICIAL, ""),
    ("State Television", SourceKind.STATE_MEDIA, ""),
    ("NewsRoundup", SourceKind.AGGREGATOR, ""),
]
SPEAKERS = {
    "us": ["the special envoy", "the secretary of state", "a White House spokesperson"],
    "ukraine": ["the president", "the foreign minister", "the chief negotiator"],
    "europe": ["the E3 national security advisers", "the EU foreign-policy chief", "the German chancellor"],
    "russia": ["the Kremlin spokesman", "the foreign minister", "a presidential aide"],
}
POSITION_WEIGHTS = {
    Position.SUPPORTS: 3,
    Position.OPPOSES: 3,
    Position.CONDITIONAL: 2,
    Position.PROPOSES_AMENDMENT: 2,
    Position.UNCLEAR: 1,
}
STANCE_SUMMARIES = {
    Position.SUPPORTS: "{party} backed the point on {title}, calling it a workable basis for talks.",
    Position.OPPOSES: "{party} rejected the point on {title}, saying it could not accept it in this form.",
    Position.CONDITIONAL: "{party} said it could accept the point on {title} only if {condition}.",
    Position.PROPOSES_AMENDMENT: "{party} proposed new wording for the point on {title}, changing the figures.",
    Position.UNCLEAR: "{party} did not say clearly where it stood on the point on {title}.",
}
QUOTES = [
    "we stand where we stand",
    "this is a basis for negotiation, not a final text",
    "no decision about us without us",
    "the figures in this draft are not acceptable",
    "we are ready to discuss it in good faith",
]
EVENT_TITLES = [
    "Talks in {city}, round {n}",
    "{party} statement on the draft ({n})",
    "Envoys meet in {city} ({n})",
    "Phone call between leaders ({n})",
    "Leaked draft reported in {city} ({n})",
]
CITIES = ["Geneva", "Berlin", "Istanbul", "Abu Dhabi", "Miami", "Riyadh", "Moscow", "Kyiv"]
STATUSES = [s.value for s in RevisionStatus]


@lru_cache(maxsize=256)
def slots(template: str) -> tuple[str, ...]:
    """The names of a template's {slots}, in order, each once."""
    return tuple(dict.fromkeys(name for _, name, _, _ in Formatter().parse(template) if name))
