"""
The layout docs/architecture.md describes, kept true: rooms by job, modules small enough to
read, infrastructure that never reaches into features, and no module but the router importing
the public views.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "peaceplans"
MAX_LINES = 500
# ops/ may import these of the app, and nothing else: infrastructure never imports a feature.
OPS_MAY_IMPORT = ("peaceplans.ops", "peaceplans.models")


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def imported(path: Path) -> set[str]:
    """Every module name the file imports, at any depth (function-level imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_subpackages_exist():
    for package in ("compare", "web", "publish", "editing", "search", "ops", "models"):
        assert (PACKAGE / package / "__init__.py").is_file(), package


def test_no_module_is_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_nothing_but_the_router_imports_the_views():
    importers = [
        str(path.relative_to(ROOT))
        for path in modules()
        if path != PACKAGE / "urls.py" and any(name.startswith("peaceplans.web.views") for name in imported(path))
    ]
    assert importers == []


def test_ops_imports_no_feature_module():
    reaching = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in imported(path)
            if name.startswith("peaceplans") and not name.startswith(OPS_MAY_IMPORT) and name != "peaceplans"
        )
        for path in (PACKAGE / "ops").rglob("*.py")
    }
    assert {name: found for name, found in reaching.items() if found} == {}


def test_the_layout_test_sees_a_feature_import(tmp_path):
    """The check above can fail: an ops module importing the API is caught."""
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from peaceplans.publish.api import json_error\n")
    assert "peaceplans.publish.api" in imported(module)
