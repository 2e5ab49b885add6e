"""collectstatic minifies our stylesheets before hashing and compressing them (peaceplans/ops/storage.py)."""

import gzip
import json

import pytest
from django.core.management import call_command

from peaceplans.settings import BASE_DIR


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    from django.test import override_settings

    root = tmp_path_factory.mktemp("static")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "peaceplans.ops.storage.MinifiedCompressedManifestStorage"},
    }
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", "--noinput", "-v", "0")
    return root, json.loads((root / "staticfiles.json").read_text())["paths"]


def test_our_stylesheets_are_served_minified_under_their_hashed_name(collected):
    root, manifest = collected
    source = (BASE_DIR / "static/peaceplans/app.css").read_text()
    served = (root / manifest["peaceplans/app.css"]).read_text()
    assert "/*" in source and "/*" not in served and len(served) < 0.85 * len(source)
    assert ".party-heading a{" in served and "@media" in served  # the rules themselves are all there
    assert gzip.decompress((root / (manifest["peaceplans/app.css"] + ".gz")).read_bytes()).decode() == served


def test_the_hash_is_of_the_minified_text(collected):
    """The name follows the bytes served: a changed comment alone gives no new name."""
    import hashlib

    root, manifest = collected
    name = manifest["peaceplans/app.css"]
    served = (root / name).read_bytes()
    assert hashlib.md5(served, usedforsecurity=False).hexdigest()[:12] in name


def test_other_files_are_copied_as_they_are(collected):
    root, manifest = collected
    assert (root / manifest["peaceplans/copy.js"]).read_bytes() == (BASE_DIR / "static/peaceplans/copy.js").read_bytes()
