"""
The peer for the overview (issue 18, item 4): Datasette serving exactly the rows our overview
shows by default, in one table, with its default settings; bench_http.py measures its table page
with wrk right after our overview (cached) and right before our overview with the page cache off.

What "exactly the rows" means: the overview's first page as a reader opens it (no query string):
the points whose rows it draws (`<tr id="point-KEY">`, 30 of the demo's 53 by default), in its
order, each with the number, title and topic and, for each party, the four things its cell
shows: the position, the text it answers ("on"), the date and the speaker. They are read from our
own matrix CSV (`/plans/<plan>/matrix.csv`, the same cells as the page, every point) and cut to
the page's points, so the peer holds what our page holds, no more (not the whole stance table,
not the sources or addresses the CSV adds). The "+N earlier" links of our cells have no column.

The file is a plain SQLite database of one table, `overview`, served with `datasette serve FILE`
and nothing else: no --setting, not immutable (-i), Datasette's own defaults (its table page
shows up to 100 rows, so all of them, and suggests facets as it does out of the box).
"""

import contextlib
import csv
import io
import json
import os
import re
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_http import SetupError, _get, server  # noqa: E402

TABLE = "overview"
# The CSV's fields for each party (prefixed "<party slug>_"), and the column each becomes.
PARTY_FIELDS = (("position", "position"), ("answering_label", "on"), ("stated_on", "date"), ("speaker", "speaker"))
SHOWN_ROW = re.compile(r"<tr\b[^>]*\bid=\"point-([^\"]+)\"")


def shown_points(html: str) -> list[str]:
    """The keys of the points whose rows the overview page draws, in its order."""
    keys = list(dict.fromkeys(SHOWN_ROW.findall(html)))
    if not keys:
        raise SetupError('the overview drew no point rows (<tr id="point-...">)')
    return keys


def overview_table(matrix_csv: str, keys: list[str]) -> tuple[list[str], list[list[str]]]:
    """The columns and rows of the peer's table: the CSV's cells of the points shown, as the page shows them."""
    reader = csv.DictReader(io.StringIO(matrix_csv.lstrip("\ufeff")))
    fields = reader.fieldnames or []
    parties = [name.removesuffix("_position") for name in fields if name.endswith("_position")]
    if not parties or not {"key", "title", "topic"} <= set(fields):
        raise SetupError(f"the matrix CSV's columns are not what the peer expects: {fields}")
    by_key = {row["key"]: row for row in reader}
    missing = [key for key in keys if key not in by_key]
    if missing:
        raise SetupError(f"points on the overview but not in the matrix CSV: {missing}")
    columns = ["no", "point", "topic"] + [f"{party} {label}" for party in parties for _, label in PARTY_FIELDS]
    rows = [
        [by_key[key]["key"], by_key[key]["title"], by_key[key]["topic"]]
        + [by_key[key][f"{party}_{field}"] for party in parties for field, _ in PARTY_FIELDS]
        for key in keys
    ]
    return columns, rows


def write_database(file: Path, columns: list[str], rows: list[list[str]]) -> Path:
    """One table, TEXT columns, the rows in the page's order."""
    file.unlink(missing_ok=True)
    quoted = ", ".join(f'"{name}" TEXT' for name in columns)
    marks = ", ".join("?" for _ in columns)
    with contextlib.closing(sqlite3.connect(file)) as db, db:
        db.execute(f"CREATE TABLE {TABLE} ({quoted})")
        db.executemany(f"INSERT INTO {TABLE} VALUES ({marks})", rows)  # noqa: S608 (our own names)
    return file


def build(base: str, plan: str, work: Path) -> dict:
    """The peer's database, from the overview and the matrix CSV as `base` serves them (page cache off)."""
    status, encoding, page = _get(f"{base}/plans/{plan}/")
    if status != 200 or encoding:
        raise SetupError(f"the overview answered {status} ({encoding or 'identity'}) to a plain request")
    status, _, matrix = _get(f"{base}/plans/{plan}/matrix.csv")
    if status != 200:
        raise SetupError(f"the matrix CSV answered {status}")
    keys = shown_points(page.decode())
    columns, rows = overview_table(matrix.decode("utf-8"), keys)
    file = write_database(work / f"{TABLE}.sqlite3", columns, rows)
    return {"file": file, "columns": columns, "rows": len(rows), "points": keys}


@contextlib.contextmanager
def datasette(peer: dict, work: Path, port: int):
    """`datasette serve FILE` on loopback, with its defaults; yields its table page's address and what it shows."""
    program = Path(sys.executable).with_name("datasette")
    if not program.exists():
        raise SetupError(f"{program} not found: `make install-dev` installs Datasette (requirements-dev.txt)")
    file = peer["file"]
    base = f"http://127.0.0.1:{port}"
    command = [str(program), "serve", str(file), "-h", "127.0.0.1", "-p", str(port)]
    with server(command, dict(os.environ), f"{base}/-/versions.json", work / "datasette.log", "Datasette") as proc:
        path = f"/{file.stem}/{TABLE}"
        status, _, body = _get(base + path)
        if status != 200 or TABLE.encode() not in body:
            raise SetupError(f"Datasette's table page {path} answered {status}")
        shown = json.loads(_get(f"{base}{path}.json?_shape=objects")[2])
        if len(shown.get("rows", [])) != peer["rows"]:
            raise SetupError(f"Datasette's table page shows {len(shown.get('rows', []))} rows, not {peer['rows']}")
        versions = json.loads(_get(f"{base}/-/versions.json")[2])
        yield {
            "url": base + path,
            "path": path,
            "pid": proc.pid,
            "rows": peer["rows"],
            "columns": len(peer["columns"]),
            "command": "datasette serve FILE (default settings)",
            "version": versions.get("datasette", {}).get("version", "unknown"),
        }
