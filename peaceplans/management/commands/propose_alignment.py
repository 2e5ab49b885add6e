"""python manage.py propose_alignment FILE --plan SLUG [--json]"""

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from peaceplans.editing import paste, proposals
from peaceplans.models import Plan

# UTF-8 takes at most 4 bytes a character: more than this cannot be a text the paste page takes.
MAX_BYTES = 4 * paste.MAX_CHARS


class Command(BaseCommand):
    help = (
        "Print the points the paste page would propose for each clause of a pasted draft, in the paste "
        "page's format (one numbered clause after another), with their scores and why. Reads FILE, or "
        "standard input for -. Writes nothing to the database."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The pasted text, UTF-8; - for standard input.")
        parser.add_argument("--plan", required=True, help="Slug of the plan, e.g. russia-ukraine-2025.")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of text.")

    def handle(self, file: str, plan: str, json: bool = False, **options):
        found = Plan.objects.filter(slug=plan).first()
        if found is None:
            known = ", ".join(Plan.objects.order_by("slug").values_list("slug", flat=True)) or "none"
            raise CommandError(f"No plan {plan!r} (known: {known}).")
        text = read_text(file)
        try:
            clauses = paste.parse_clauses(text)
        except paste.PasteError as exc:
            raise CommandError(exc.message) from None
        points = proposals.plan_points(found)
        named = {p.key: paste.Named(p.key, p.number, p.title) for p in points.points}
        rows: list[dict[str, Any]] = [
            {
                "number": clause.number,
                "line": clause.line,
                "text": clause.text,
                "proposals": [
                    {
                        "key": choice.key,
                        "label": paste.choice_label(paste.Chosen(choice.key, choice.split), named),
                        "split": choice.split,
                        "score": round(choice.score, 4),
                        "reason": choice.reason,
                        "words": list(dict.fromkeys(clause.text[a:b] for a, b in choice.spans)),
                    }
                    for choice in choices
                ],
            }
            for clause, choices in zip(clauses, proposals.propose(points, clauses), strict=True)
        ]
        if json:
            self.stdout.write(dump({"plan": found.slug, "clauses": rows}))
            return
        for row in rows:
            self.stdout.write(f"Clause {row['number']} (line {row['line']}): {paste._excerpt(row['text'], 70)}")
            for n, proposal in enumerate(row["proposals"], start=1):
                self.stdout.write(
                    f"  {n}. {proposal['label']}  {round(proposal['score'] * 100)}%  {proposal['reason']}"
                )


def dump(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def read_text(file: str) -> str:
    """The pasted text from a file or standard input, refused when missing, too long, or not UTF-8 text."""
    try:
        if file == "-":
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with Path(file).open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise CommandError(f"No file {file!r}.") from None
    except IsADirectoryError:
        raise CommandError(f"{file!r} is a folder, not a file.") from None
    except OSError as exc:
        raise CommandError(f"Cannot read {file!r}: {exc.strerror}.") from None
    if len(data) > MAX_BYTES:
        raise CommandError(
            f"The text is over {MAX_BYTES:,} bytes; the paste page takes at most {paste.MAX_CHARS:,} characters."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandError(
            f"The input is not UTF-8 text (byte {exc.start:,} cannot be read); is it a binary file?"
        ) from None
    if not text.strip():
        raise CommandError("The input is empty: give the draft, one numbered clause after another.")
    return text
