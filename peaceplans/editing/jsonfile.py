"""
Reading an import file: ImportProblem, the error every import step raises (naming the file,
revision, point and field it is about), and read_json_file, which turns a file's faults (too
large, not UTF-8, malformed JSON) into one.
"""

import json
from pathlib import Path
from typing import Any

MAX_IMPORT_BYTES = 5 * 1024 * 1024


class ImportProblem(Exception):
    """Bad input for an import, located as precisely as the input allows."""

    def __init__(self, message: str, *, origin: str = "", revision: str = "", point: str = "", field: str = ""):
        self.message = message
        self.origin = origin
        self.revision = revision
        self.point = point
        self.field = field
        super().__init__(str(self))

    def __str__(self):
        where = []
        if self.revision:
            where.append(f"revision {self.revision!r}")
        if self.point:
            where.append(f"point {self.point!r}")
        if self.field:
            where.append(f"field {self.field!r}")
        prefix = f"{self.origin}: " if self.origin else ""
        return prefix + (", ".join(where) + ": " if where else "") + self.message


def read_json_file(path: Path) -> Any:
    """The parsed JSON of one file, or an ImportProblem naming the file and the position of the fault."""
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise ImportProblem(f"file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB", origin=str(path))
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportProblem(f"cannot read file ({exc.strerror})", origin=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise ImportProblem("file is not UTF-8 text", origin=str(path)) from exc
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImportProblem(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", origin=str(path)
        ) from exc
    except RecursionError:
        raise ImportProblem("malformed JSON: nested too deeply", origin=str(path)) from None


__all__ = ["MAX_IMPORT_BYTES", "ImportProblem", "read_json_file"]
