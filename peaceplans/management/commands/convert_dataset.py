"""
Convert a release of the research dataset into the copy the project ships.

The research folder keeps point-level sources as bare URLs and lists their outlet, kind
and title only in its README; this command turns that list into sources.json and copies
the three JSON files beside it. It runs when a new dataset release arrives, never at run
time: `load_demo` reads only peaceplans/data/demo/.
"""

import json
import re
import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"
SOURCE_LINE = re.compile(r"^- (?P<date>\S+) \| (?P<outlet>.*?) \| (?P<kind>.*?) \| (?P<title>.*) \| <(?P<url>.+)>$")


def parse_source_list(readme: str) -> list[dict]:
    """Each '- date | outlet | kind [via X] | title | <url>' line of the README's source list."""
    _, _, listing = readme.partition("## Source list")
    if not listing:
        raise CommandError("README.md has no '## Source list' section.")
    sources = {}
    for line in listing.splitlines():
        if not line.startswith("- 20"):
            continue
        match = SOURCE_LINE.match(line)
        if not match:
            raise CommandError(f"README.md: cannot read source line {line!r}")
        kind_text = match["kind"]
        kind = re.match(r"[a-z-]+", kind_text)
        if not kind:
            raise CommandError(f"README.md: source line {line!r} names no kind")
        citable = "not citable" not in kind_text
        sources[match["url"]] = {
            "url": match["url"],
            "outlet": match["outlet"],
            "title": match["title"],
            "date": match["date"],
            "kind": kind.group(0),
            "via": kind_text.split(" via ", 1)[1] if " via " in kind_text else "",
            "citable": citable,
            "note": "" if citable else "Pravda network: kept only as a pointer, never shown as a citation.",
        }
    return list(sources.values())


def sources_only_in_files(data: dict, listed: set[str]) -> list[dict]:
    """
    Source objects the JSON files give in full ({url, outlet, date, kind, ...}) but the README's
    list does not name (a new revision's own sources, for instance): sources.json lists every
    source the demo loads.
    """
    found: dict[str, dict] = {}
    objects = [s for r in data["revisions.json"] for s in r.get("sources", [])]
    objects += [item["source"] for name in ("stances.json", "events.json") for item in data[name] if item.get("source")]
    for obj in objects:
        if isinstance(obj, dict) and obj.get("url") and obj["url"] not in listed and obj["url"] not in found:
            found[obj["url"]] = {
                "url": obj["url"],
                "outlet": obj.get("outlet", ""),
                "title": obj.get("title", ""),
                "date": obj.get("date", ""),
                "kind": obj.get("kind", ""),
                "via": obj.get("via", ""),
                "citable": True,
                "note": "",
            }
    return list(found.values())


class Command(BaseCommand):
    help = "Convert a research dataset folder (revisions/stances/events JSON + README) into peaceplans/data/demo/."

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path)

    def handle(self, folder: Path, **options):
        try:
            readme = (folder / "README.md").read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{folder}: {exc}") from exc
        data = {}
        for name in ("revisions.json", "stances.json", "events.json"):
            try:
                data[name] = json.loads((folder / name).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:  # refuse to copy a missing or broken file
                raise CommandError(f"{folder / name}: {exc}") from exc
        sources = parse_source_list(readme)
        sources += sources_only_in_files(data, listed={s["url"] for s in sources})
        sources.sort(key=lambda s: (s["date"], s["outlet"], s["url"]))
        (DEMO_DIR / "sources.json").write_text(json.dumps(sources, indent=1, ensure_ascii=False) + "\n")
        for name in data:
            shutil.copyfile(folder / name, DEMO_DIR / name)
        self.stdout.write(f"Wrote {len(sources)} sources and 3 data files to {DEMO_DIR}.")
