"""
Django's GZipMiddleware at a level chosen by the body's size. Django compresses at level 6; zlib's
levels 1 to 3 use its faster matcher. Measured in process on the demo and the generated data
(issue 18; tests/bench/bench_pages.py's pages):

    body        level 6           level 3           level 1
    60 KB       7.3 KB, 0.40 ms   8.3 KB, 0.15 ms   9.0 KB, 0.12 ms   (demo overview)
    128 KB     11.0 KB, 0.78 ms  12.9 KB, 0.29 ms  14.6 KB, 0.27 ms   (generated overview)
    214 KB     20.7 KB           25.4 KB           28.2 KB            (generated comparison)

Level 3 costs 10 to 25% more bytes for a third to a half of the time; below it, bytes grow
faster than time falls. A big body is where the bytes matter (the generated comparison's first
load was 58.8 KB against a 60 KB budget), so from LARGE_BODY up the level stays Django's 6, as
it does for streamed responses. The page cache stores what this produces: a cached page is
compressed once either way.
"""

import gzip
import secrets

from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
from django.utils.cache import patch_vary_headers

FAST_LEVEL = 3
LARGE_BODY = 160 * 1024  # bytes, uncompressed: from here up, Django's level 6


def compress(content: bytes, *, level: int, max_random_bytes: int) -> bytes:
    """
    As django.utils.text.compress_string, at `level`: gzip with mtime 0 and, against BREACH-style
    guessing, a file name of a random length up to `max_random_bytes` in the header.
    """
    compressed = gzip.compress(content, compresslevel=level, mtime=0)
    if not max_random_bytes:
        return compressed
    header = bytearray(compressed[:10])
    header[3] = gzip.FNAME
    name = b"a" * secrets.randbelow(max_random_bytes) + b"\x00"
    return bytes(header) + name + compressed[10:]


class SizedGZipMiddleware(GZipMiddleware):
    """GZipMiddleware, compressing bodies under LARGE_BODY bytes at FAST_LEVEL; the rest as Django does."""

    def process_response(self, request, response):
        if response.streaming or len(response.content) >= LARGE_BODY:
            return super().process_response(request, response)
        # Django's non-streaming branch, with compress() at FAST_LEVEL.
        if len(response.content) < 200 or response.has_header("Content-Encoding"):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        if not re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return response
        compressed = compress(response.content, level=FAST_LEVEL, max_random_bytes=self.max_random_bytes)
        if len(compressed) >= len(response.content):
            return response
        response.content = compressed
        response.headers["Content-Length"] = str(len(response.content))
        etag = response.get("ETag")
        if etag and etag.startswith('"'):
            response.headers["ETag"] = "W/" + etag
        response.headers["Content-Encoding"] = "gzip"
        return response
