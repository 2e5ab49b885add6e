"""
The static files storage (settings.STORAGES["staticfiles"]): whitenoise's hashed and compressed
storage, with the project's own stylesheets minified by rcssmin first.

collectstatic copies every file into STATIC_ROOT, then post-processing hashes and compresses
them, reading each from where it was found. Our stylesheets (static/peaceplans/*.css) are
minified in their STATIC_ROOT copy and read from there instead, so the hashed name, the gzip and
brotli copies and what pages load are all the minified text. The sources keep their comments,
which say why each rule is there; `make dev` serves them as written. The first-load budget (60 KB
compressed) counts what is served.
"""

from django.core.files.base import ContentFile
from rcssmin import cssmin
from whitenoise.storage import CompressedManifestStaticFilesStorage

OURS = "peaceplans/"


class MinifiedCompressedManifestStorage(CompressedManifestStaticFilesStorage):
    def post_process(self, paths, dry_run=False, **options):
        if not dry_run:
            for name in list(paths):
                if name.startswith(OURS) and name.endswith(".css"):
                    with self.open(name) as copied:
                        text = copied.read().decode("utf-8")
                    self.delete(name)
                    self._save(name, ContentFile(cssmin(text).encode("utf-8")))
                    paths[name] = (self, name)  # hash and compress the minified copy
        yield from super().post_process(paths, dry_run, **options)
