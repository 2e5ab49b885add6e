"""
SizedGZipMiddleware: level 3 under LARGE_BODY, Django's level 6 from there up, with Django's
BREACH padding and headers either way.
"""

import gzip
import random

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from peaceplans.ops.compression import FAST_LEVEL, LARGE_BODY, SizedGZipMiddleware


def body_of(size: int) -> bytes:
    """Markup-like bytes that compress differently at levels 3 and 6."""
    rng = random.Random(size)
    words = [f"<li class='w{rng.randrange(50)}'>word{rng.randrange(400)}</li>".encode() for _ in range(size // 20)]
    return b"".join(words)[:size]


def answer(content: bytes, **headers) -> HttpResponse:
    request = RequestFactory().get("/", headers={"Accept-Encoding": "gzip", **headers})
    return SizedGZipMiddleware(lambda request: HttpResponse(content, headers={"ETag": '"v1"'}))(request)


def deflated(packed: bytes) -> bytes:
    """The deflate stream after the header and the random-length file name (FNAME)."""
    assert packed[3] & gzip.FNAME  # Django's BREACH mitigation: a file name of random length
    return packed[packed.index(b"\x00", 10) + 1 :]


@pytest.mark.parametrize("size", [300, 60_000, LARGE_BODY - 1])
def test_a_page_under_the_limit_is_gzipped_at_the_fast_level(size):
    content = body_of(size)
    response = answer(content)
    assert response["Content-Encoding"] == "gzip" and "Accept-Encoding" in response["Vary"]
    assert response["ETag"] == 'W/"v1"' and int(response["Content-Length"]) == len(response.content)
    assert gzip.decompress(response.content) == content
    assert deflated(response.content) == gzip.compress(content, compresslevel=FAST_LEVEL, mtime=0)[10:]


def test_a_large_page_is_gzipped_at_djangos_level():
    content = body_of(LARGE_BODY + 10_000)
    response = answer(content)
    assert gzip.decompress(response.content) == content
    assert deflated(response.content) == gzip.compress(content, compresslevel=6, mtime=0)[10:]
    assert deflated(response.content) != gzip.compress(content, compresslevel=FAST_LEVEL, mtime=0)[10:]


def test_without_accept_encoding_the_body_is_left_alone():
    content = body_of(5_000)
    request = RequestFactory().get("/")
    response = SizedGZipMiddleware(lambda request: HttpResponse(content))(request)
    assert response.content == content and not response.has_header("Content-Encoding")
    assert "Accept-Encoding" in response["Vary"]


def test_tiny_and_already_encoded_bodies_are_left_alone():
    assert not answer(b"short").has_header("Content-Encoding")
    request = RequestFactory().get("/", headers={"Accept-Encoding": "gzip"})
    encoded = HttpResponse(body_of(5_000), headers={"Content-Encoding": "br"})
    assert SizedGZipMiddleware(lambda request: encoded)(request)["Content-Encoding"] == "br"


def test_a_streamed_body_is_gzipped_as_django_does():
    content = body_of(5_000)
    request = RequestFactory().get("/", headers={"Accept-Encoding": "gzip"})
    response = SizedGZipMiddleware(lambda request: StreamingHttpResponse([content]))(request)
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(b"".join(response.streaming_content)) == content
