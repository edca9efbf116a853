"""Helpers shared by the random, serving and variant tests: publish images like a client."""

import io

from PIL import Image

from tests.conftest import assert_error_envelope
from tests.imagegen import upload

IMMUTABLE = "public, max-age=31536000, immutable"


async def publish(client, admin, data: bytes, filename: str = "photo.jpg", **fields) -> dict:
    """Upload through POST /api/upload/single; returns CattoPic's `result`."""
    response = await upload(client, admin, data, filename=filename, **fields)
    assert response.status_code == 200, response.text
    return response.json()["result"]


async def set_column(env, image_id: str, column: str, value) -> None:
    """For states no public endpoint of this feature makes (private, expired, rand)."""
    assert column in ("is_private", "expires_at", "rand", "status")
    await env.DB.prepare(f"UPDATE images SET {column} = ? WHERE id = ?").bind(value, image_id).run()


def decoded_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def key_of(url: str) -> str:
    """The R2 key in an absolute /r2/ URL."""
    return url.split("/r2/", 1)[1]


# -- what every served object answers (tests/test_serving.py, and the same flows on Pyodide) --


async def check_head(client, url: str, data: bytes, etag: str, content_type: str) -> None:
    """HEAD: the GET's headers, no body."""
    response = await client.head(url)
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) == len(data)
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["content-type"] == content_type


async def check_if_none_match(client, url: str, data: bytes, etag: str) -> None:
    """A current copy (one etag, a weak one, one in a list, `*`) is a 304 without a body."""
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = await client.get(url, headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == IMMUTABLE
    changed = await client.get(url, headers={"If-None-Match": '"0123"'})
    assert changed.status_code == 200 and changed.content == data
    head = await client.head(url, headers={"If-None-Match": etag})
    assert head.status_code == 304


async def check_ranges(client, url: str, data: bytes, etag: str) -> None:
    """One range is a 206 (start-end, open end, suffix, end past the size); a start past the
    end is a 416 naming the size; several ranges, other units, nonsense and a stale
    If-Range get the whole object."""
    size = len(data)
    cases = {
        "bytes=0-9": (0, 9),
        "bytes=10-": (10, size - 1),
        "bytes=-5": (size - 5, size - 1),
        f"bytes=5-{size + 100}": (5, size - 1),
    }
    for header, (first, last) in cases.items():
        response = await client.get(url, headers={"Range": header})
        assert response.status_code == 206, header
        assert response.content == data[first : last + 1]
        assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert int(response.headers["content-length"]) == last - first + 1
        assert response.headers["etag"] == etag
    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        response = await client.get(url, headers={"Range": header})
        assert_error_envelope(response, 416)
        assert response.headers["content-range"] == f"bytes */{size}"
    for header in ("bytes=0-1,5-6", "items=0-1", "bytes=9-2", "nonsense"):
        response = await client.get(url, headers={"Range": header})
        assert response.status_code == 200 and response.content == data, header
    same = await client.get(url, headers={"Range": "bytes=0-3", "If-Range": etag})
    assert same.status_code == 206 and same.content == data[:4]
    other = await client.get(url, headers={"Range": "bytes=0-3", "If-Range": '"stale"'})
    assert other.status_code == 200 and other.content == data
