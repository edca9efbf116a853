"""Public object serving: CattoPic `/r2/{path}` and PixelFlare's CDN paths — caching
headers, ETag/304, Range/206/416, HEAD, visibility, and path traversal."""

import pytest

from tests.conftest import assert_error_envelope
from tests.imagegen import image_bytes, unique_jpeg
from tests.serving_support import (
    IMMUTABLE,
    check_head,
    check_if_none_match,
    check_ranges,
    key_of,
    publish,
    set_column,
)


@pytest.fixture
async def photo(client, admin, env):
    made = await publish(client, admin, image_bytes(120, 80), "beach.jpg")
    stored = await env.BUCKET.get(key_of(made["urls"]["original"]))
    made["bytes"] = await stored.bytes()
    made["etag"] = stored.httpEtag
    row = (
        await env.DB.prepare("SELECT short_id, filename FROM images WHERE id = ?")
        .bind(made["id"])
        .first()
    )
    made.update(row)
    return made


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


async def test_r2_serves_the_original_with_immutable_caching(client, photo):
    response = await client.get(path_of(photo["urls"]["original"]))
    assert response.status_code == 200
    assert response.content == photo["bytes"]
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["etag"] == photo["etag"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["accept-ranges"] == "bytes"
    assert int(response.headers["content-length"]) == len(photo["bytes"])
    assert response.headers["access-control-allow-origin"] == "*"


async def test_r2_serves_webp_and_avif_versions(client, photo):
    for version, mime in (("webp", "image/webp"), ("avif", "image/avif")):
        response = await client.get(path_of(photo["urls"][version]))
        assert response.status_code == 200
        assert response.headers["content-type"] == mime
        assert len(response.content) == photo["sizes"][version]


async def test_documented_curl_example_and_unknown_objects_are_404_json(client, photo):
    # curl ".../r2/images/landscape/550e8400-e29b-41d4-a716-446655440000.jpg" -o image.jpg
    response = await client.get("/r2/images/landscape/550e8400-e29b-41d4-a716-446655440000.jpg")
    body = assert_error_envelope(response, 404, "NOT_FOUND")
    assert body["error"] == "Not found"
    # The right id under the wrong orientation or extension is not an object either.
    for wrong in (
        f"/r2/images/portrait/{photo['id']}.jpg",
        f"/r2/images/landscape/{photo['id']}.png",
        f"/r2/images/landscape/{photo['id']}.JPG",
        "/r2/",
        "/r2/images/",
        "/r2/images/landscape/not-a-uuid.jpg",
    ):
        assert_error_envelope(await client.get(wrong), 404)


async def test_head_answers_headers_without_a_body(client, photo):
    url = path_of(photo["urls"]["original"])
    await check_head(client, url, photo["bytes"], photo["etag"], "image/jpeg")
    missing = await client.head("/r2/images/landscape/550e8400-e29b-41d4-a716-446655440000.jpg")
    assert missing.status_code == 404


async def test_if_none_match_answers_304(client, photo):
    await check_if_none_match(
        client, path_of(photo["urls"]["original"]), photo["bytes"], photo["etag"]
    )


async def test_ranges(client, photo):
    await check_ranges(client, path_of(photo["urls"]["original"]), photo["bytes"], photo["etag"])


async def test_ranges_with_numbers_of_any_length(client, photo):
    """Positions past any object (even 4,301 digits, more than Python converts) are past the
    end: a start is a 416, an end or a suffix means "to the end"."""
    url = path_of(photo["urls"]["original"])
    data, size = photo["bytes"], len(photo["bytes"])
    nines = "9" * 4301
    for path in (url, f"/{photo['short_id']}", f"/default_user/_/{photo['filename']}"):
        for header in (
            f"bytes={nines}-",
            f"bytes={nines}-{nines}",
            f"bytes=0{nines}-",
            f"bytes={2**53}-",
        ):
            response = await client.get(path, headers={"Range": header})
            assert_error_envelope(response, 416, "RANGE_NOT_SATISFIABLE")
            assert response.headers["content-range"] == f"bytes */{size}"
        for header in (f"bytes=0-{nines}", f"bytes=-{nines}"):
            response = await client.get(path, headers={"Range": header})
            assert response.status_code == 206, header
            assert response.content == data
            assert response.headers["content-range"] == f"bytes 0-{size - 1}/{size}"
    # Leading zeros are only zeros.
    response = await client.get(url, headers={"Range": f"bytes={'0' * 5000}2-{'0' * 5000}5"})
    assert response.status_code == 206 and response.content == data[2:6]


async def test_deleted_private_and_expired_images_are_not_served(client, admin, env):
    deleted = await publish(client, admin, unique_jpeg(1))
    private = await publish(client, admin, unique_jpeg(2))
    expired = await publish(client, admin, unique_jpeg(3), expiry_minutes=5)
    for made in (deleted, private, expired):
        assert (await client.get(path_of(made["urls"]["original"]))).status_code == 200
    assert (await client.delete(f"/api/images/{deleted['id']}", headers=admin)).status_code == 200
    await set_column(env, private["id"], "is_private", 1)
    await set_column(env, expired["id"], "expires_at", "2000-01-01T00:00:00.000Z")
    for made in (deleted, private, expired):
        for version in ("original", "webp", "avif"):
            response = await client.get(path_of(made["urls"][version]))
            assert_error_envelope(response, 404)


# -- traversal -----------------------------------------------------------------------------------


@pytest.fixture
async def secret(env):
    """Objects outside images/ and variants/, and a file beside the bucket's folder."""
    await env.BUCKET.put("private/secret.txt", b"TOP SECRET OBJECT")
    await env.BUCKET.put("fonts/x.ttf", b"TOP SECRET FONT")
    return b"TOP SECRET"


TRAVERSALS = [
    "/r2/../x",
    "/r2/images/%2e%2e/x",
    "/r2/images/%2E%2E/%2E%2E/private/secret.txt",
    "/r2/images/..%2Fx",
    "/r2/images/..%2F..%2Fprivate%2Fsecret.txt",
    "/r2/images/landscape/..%5C..%5Cprivate%5Csecret.txt",
    "/r2/images/%2e%2e%2f%2e%2e%2fprivate/secret.txt",
    "/r2/images/landscape/%00.jpg",
    "/r2/images/landscape/a%0Ab.jpg",
    "/r2/images/landscape/a%7Fb.jpg",
    "/r2/images//landscape/x.jpg",
    "/r2/./images/x",
    "/r2/private/secret.txt",
    "/r2/fonts/x.ttf",
    "/r2/%2e%2e/%2e%2e/etc/passwd",
    "/r2/..%2F..%2F..%2Fetc%2Fpasswd",
    "/r2/images/landscape/x.jpg%00.png",
    "/r2/images\\landscape\\x.jpg",
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_traversal_and_keys_outside_images_are_refused(client, photo, secret, path):
    response = await client.get(path)
    assert response.status_code in (400, 404), (path, response.status_code)
    assert_error_envelope(response, response.status_code)
    assert secret not in response.content
    assert b"root:" not in response.content


async def test_raw_dot_segments_are_refused_before_any_lookup(client, secret, app, env):
    """httpx removes `..` from URLs it sends; a raw ASGI request keeps them, as a hostile
    client could send them."""
    from pixhaven.local.runtime.server import with_env

    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    for raw in (
        b"/r2/images/../private/secret.txt",
        b"/r2/../../etc/passwd",
        b"/r2/images/landscape/..\\..\\x",
    ):
        sent.clear()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": raw.decode(),
            "raw_path": raw,
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }
        await with_env(app, env)(scope, receive, send)
        status = sent[0]["status"]
        body = b"".join(m.get("body", b"") for m in sent[1:])
        assert status == 400, (raw, status, body)
        assert b"TOP SECRET" not in body


# -- PixelFlare CDN paths -------------------------------------------------------------------------


async def make_album(env, owner: str, slug: str) -> str:
    album_id = "col_" + "a" * 24
    now = "2025-01-01T00:00:00.000Z"
    await (
        env.DB.prepare(
            "INSERT INTO albums (id, owner, slug, title, description, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, NULL, ?, ?)"
        )
        .bind(album_id, owner, slug, slug, now, now)
        .run()
    )
    return album_id


async def test_cdn_paths_serve_the_original(client, photo, env):
    owner = "default_user"
    for path in (f"/{owner}/_/{photo['filename']}", f"/{owner}/_/beach", f"/{photo['short_id']}"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.content == photo["bytes"]
        assert response.headers["cache-control"] == IMMUTABLE
        assert response.headers["etag"] == photo["etag"]
        assert (await client.get(path, headers={"If-None-Match": photo["etag"]})).status_code == 304
        ranged = await client.get(path, headers={"Range": "bytes=0-1"})
        assert ranged.status_code == 206 and ranged.content == photo["bytes"][:2]
    album_id = await make_album(env, owner, "vacation")
    await (
        env.DB.prepare("UPDATE images SET album_id = ? WHERE id = ?")
        .bind(album_id, photo["id"])
        .run()
    )
    assert (await client.get(f"/{owner}/vacation/{photo['filename']}")).status_code == 200
    assert (await client.get(f"/{owner}/vacation/beach")).content == photo["bytes"]
    assert_error_envelope(await client.get(f"/{owner}/_/{photo['filename']}"), 404)
    assert_error_envelope(await client.get(f"/{owner}/holiday/{photo['filename']}"), 404)
    assert_error_envelope(await client.get(f"/someone/vacation/{photo['filename']}"), 404)


async def test_cdn_paths_do_not_serve_private_or_deleted_images(client, admin, photo, env):
    path = f"/default_user/_/{photo['filename']}"
    await set_column(env, photo["id"], "is_private", 1)
    assert_error_envelope(await client.get(path), 404)
    assert_error_envelope(await client.get(f"/{photo['short_id']}"), 404)
    await set_column(env, photo["id"], "is_private", 0)
    assert (await client.delete(f"/api/images/{photo['id']}", headers=admin)).status_code == 200
    assert_error_envelope(await client.get(path), 404)
    assert_error_envelope(await client.get(f"/{photo['short_id']}"), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/anything",
        "/v1/a/b",
        "/v1/a/b/c",
        "/v1/a/b/c/w512",
        "/api/nothing",
        "/api/a/b/c",
        "/r2",
        "/cdn-cgi/a/b",
        "/templates/a/b",
        "/bindings/a/b",
        "/webhook-subscriptions/a/b",
        "/image/a/b",
        "/gif/a/b/c",
        "/pdf/a/b",
        "/health/a/b",
        "/docs/a/b",
        "/redoc/a/b",
        "/vendor/a/b",
        "/views/a/b",
        "/unknown",
        "/a/b/c/not-a-variant",
        "/owner/_/..",
        "/favicon.ico",
    ],
)
async def test_reserved_and_unknown_paths_are_404_json(client, path):
    response = await client.get(path)
    assert_error_envelope(response, 404)


async def test_api_routes_win_over_cdn_paths(client, admin):
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/redoc")).status_code == 200
    # A real API path with the CDN's shape is the API's, not an image lookup.
    assert (await client.get("/api/images", headers=admin)).status_code == 200
    assert_error_envelope(await client.get("/api/images"), 401)
