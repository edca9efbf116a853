"""CattoPic's image endpoints (and Splinterpic's view of /api/images), as its document
shows them: upload, list, details, update, delete, cleanup."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import assert_error_envelope, bearer
from tests.imagegen import animated_gif, image_bytes, unique_jpeg, upload

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_upload_single_answers_the_documented_upload_result(client, admin):
    response = await upload(
        client, admin, image_bytes(800, 600), "photo.jpg", tags="nature,outdoor"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    result = body["result"]
    assert UUID.match(result["id"]) and result["status"] == "success"
    assert result["orientation"] == "landscape"
    assert result["tags"] == ["nature", "outdoor"]
    assert result["expiryTime"] is None
    for version in ("original", "webp", "avif"):
        assert result["urls"][version] == (
            f"http://testserver/r2/images/landscape/{result['id']}."
            f"{'jpg' if version == 'original' else version}"
        )
        assert result["sizes"][version] > 0


async def test_upload_accepts_the_file_field_and_expiry(client, admin):
    response = await upload(
        client, admin, image_bytes(30, 90, "PNG"), "tall.png", field="file", expiry_minutes=60
    )
    result = response.json()["result"]
    assert result["orientation"] == "portrait"
    assert ISO_MS.match(result["expiryTime"])
    assert result["urls"]["original"].endswith(".png")


async def test_stored_objects_are_real_images(client, admin, env):
    result = (await upload(client, admin, image_bytes(320, 200))).json()["result"]
    for version, fmt in (("original", "JPEG"), ("webp", "WEBP"), ("avif", "AVIF")):
        key = result["urls"][version].split("/r2/", 1)[1]
        obj = await env.BUCKET.get(key)
        data = bytes(await obj.arrayBuffer())
        from io import BytesIO

        from PIL import Image

        decoded = Image.open(BytesIO(data))
        assert decoded.format == fmt and decoded.size == (320, 200)


async def test_same_bytes_from_the_same_owner_are_two_images_sharing_objects(client, admin, env):
    data = unique_jpeg(1)
    first = (await upload(client, admin, data, tags="a")).json()["result"]
    second = (await upload(client, admin, data, tags="b")).json()["result"]
    assert second["id"] != first["id"]
    assert first["tags"] == ["a"] and second["tags"] == ["b"]
    listing = await env.BUCKET.list(prefix="images/")
    assert len(listing["objects"]) == 3  # one original + webp + avif, shared


async def test_animated_gif_keeps_only_the_original(client, admin):
    result = (await upload(client, admin, animated_gif(), "cat.gif")).json()["result"]
    assert result["urls"]["original"].endswith(".gif")
    assert result["sizes"]["webp"] == 0 and result["sizes"]["avif"] == 0


@pytest.mark.parametrize(
    "data,name",
    [
        (b"x", "one-byte.jpg"),
        (b"hello world" * 10, "text.jpg"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "evil.svg"),
    ],
)
async def test_non_images_are_rejected_with_4xx(client, admin, env, data, name):
    response = await upload(client, admin, data, name)
    assert 400 <= response.status_code < 500
    assert_error_envelope(response, response.status_code)
    assert (await env.BUCKET.list())["objects"] == []
    assert await env.DB.prepare("SELECT COUNT(*) AS n FROM images").first("n") == 0


async def test_upload_without_file_is_400(client, admin):
    response = await client.post(
        "/api/upload/single", headers=admin, data={"tags": "x"}, files={"other": ("a.txt", b"abc")}
    )
    assert_error_envelope(response, 400)


@pytest.mark.parametrize(
    "field,value,expected",
    [
        ("quality", "inf", "quality must be between 1 and 100"),
        ("quality", "1e309", "quality must be between 1 and 100"),
        ("quality", "-inf", "quality must be between 1 and 100"),
        ("quality", "nan", "quality must be a number"),
        ("quality", "101", "quality must be between 1 and 100"),
        ("maxWidth", "1e309", "maxWidth must be between 0 and 12000"),
        ("maxWidth", "20000", "maxWidth must be between 0 and 12000"),
        ("maxHeight", "9" * 5000, "maxHeight must be between 0 and 12000"),
        ("expiryMinutes", "1e15", "expiryMinutes must be between 0 and 52560000"),
        ("expiryMinutes", "1e309", "expiryMinutes must be between 0 and 52560000"),
        ("expiryMinutes", "99999999999999999999", "expiryMinutes must be between 0 and 52560000"),
        ("expiryMinutes", "-1", "expiryMinutes must be between 0 and 52560000"),
        ("expiryMinutes", "soon", "expiryMinutes must be a number"),
    ],
)
async def test_upload_numbers_out_of_range_are_400_naming_the_field(
    client, admin, env, field, value, expected
):
    response = await upload(client, admin, unique_jpeg(40), **{field: value})
    body = assert_error_envelope(response, 400, "INVALID_REQUEST")
    assert body["error"] == expected
    assert body["details"]["field"] == field
    assert await env.DB.prepare("SELECT COUNT(*) AS n FROM images").first("n") == 0


async def test_upload_numbers_at_the_ends_of_their_ranges(client, admin):
    response = await upload(
        client,
        admin,
        unique_jpeg(41),
        quality="100",
        maxWidth="12000",
        maxHeight="1e1",
        expiryMinutes="52560000",
    )
    assert response.status_code == 200, response.text
    expires = datetime.fromisoformat(response.json()["result"]["expiryTime"])
    assert expires - datetime.now(UTC) > timedelta(days=100 * 365 - 1)


async def test_a_text_part_is_not_the_image(client, admin, env):
    """`-F file=abc`, and a file part sent without a filename (httpx, curl `;filename=`), are
    text: 400 naming the field, never the image."""
    for field in ("file", "image"):
        response = await client.post(
            "/api/upload/single", headers=admin, files={field: (None, "abc"), "tags": (None, "x")}
        )
        body = assert_error_envelope(response, 400)
        assert body["error"] == "No image file provided (form field 'image' or 'file')"
        assert body["details"] == {
            "field": field,
            "message": "this part is text, not a file: send the image with a filename",
        }
        response = await client.post(
            "/api/upload/single", headers=admin, files={field: ("", unique_jpeg(42))}
        )
        assert_error_envelope(response, 400)
        assert response.json()["details"]["field"] == field
    # With a real file beside it, the text part is ignored.
    response = await client.post(
        "/api/upload/single",
        headers=admin,
        files={"file": (None, "abc"), "image": ("photo.jpg", unique_jpeg(43), "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    assert await env.DB.prepare("SELECT COUNT(*) AS n FROM images").first("n") == 1


async def test_a_file_part_with_an_empty_filename_is_a_file(client, admin):
    boundary = "pixhaven-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename=""\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + unique_jpeg(44)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = await client.post(
        "/api/upload/single",
        headers={**admin, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body,
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["format"] == "jpg"


async def test_upload_needs_write_scope(client, make_key):
    key, _ = await make_key(["images:read"])
    response = await upload(client, bearer(key), unique_jpeg(2))
    assert_error_envelope(response, 403)


async def test_list_images_pages_and_filters(client, admin):
    for seed in range(5):
        await upload(
            client,
            admin,
            unique_jpeg(seed, 60 if seed % 2 else 30, 40 if seed % 2 else 90),
            f"p{seed}.jpg",
            tags="nature" if seed < 3 else "city",
        )
    response = await client.get("/api/images?page=1&limit=2", headers=admin)
    body = response.json()
    assert body["success"] is True
    assert (body["page"], body["limit"], body["total"], body["totalPages"]) == (1, 2, 5, 3)
    assert body["pagination"] == {"limit": 2, "offset": 0, "total": 5, "has_more": True}
    first = body["images"][0]
    for field in (
        "id",
        "originalName",
        "uploadTime",
        "expiryTime",
        "orientation",
        "tags",
        "format",
        "width",
        "height",
        "paths",
        "sizes",
        "urls",
        "created_at",
        "prompt",
    ):
        assert field in first, field
    names = [image["originalName"] for image in body["images"]]
    assert names == ["p4.jpg", "p3.jpg"]  # newest first

    tagged = (
        await client.get("/api/images?tag=nature&orientation=landscape", headers=admin)
    ).json()
    assert [i["originalName"] for i in tagged["images"]] == ["p1.jpg"]

    # Splinterpic's offset form.
    page = (await client.get("/api/images?limit=2&offset=4", headers=admin)).json()
    assert page["pagination"] == {"limit": 2, "offset": 4, "total": 5, "has_more": False}
    assert [i["originalName"] for i in page["images"]] == ["p0.jpg"]


async def test_list_rejects_bad_parameters(client, admin):
    for query in ("page=0", "limit=abc", "orientation=sideways", "offset=-1", "limit=1_0"):
        assert_error_envelope(await client.get(f"/api/images?{query}", headers=admin), 400)
    # Integers as a URL writes them: int() would read these as 3 and 10.
    for limit in ("٣", "+10", " 10"):
        answer = await client.get("/api/images", params={"limit": limit}, headers=admin)
        assert_error_envelope(answer, 400)
    # An unknown format is ignored, as CattoPic's server ignores it.
    assert (await client.get("/api/images?format=bmp", headers=admin)).status_code == 200


async def test_get_image_details(client, admin):
    result = (await upload(client, admin, unique_jpeg(7), tags="cat")).json()["result"]
    response = await client.get(f"/api/images/{result['id']}", headers=admin)
    body = response.json()
    assert body["success"] is True
    assert body["image"]["id"] == result["id"] and body["image"]["tags"] == ["cat"]
    assert body["id"] == result["id"]  # Splinterpic reads the fields at the top level


async def test_get_image_errors(client, admin):
    body = assert_error_envelope(await client.get("/api/images/not-a-uuid", headers=admin), 400)
    assert body["error"] == "Invalid image ID"
    body = assert_error_envelope(
        await client.get("/api/images/550e8400-e29b-41d4-a716-446655440000", headers=admin), 404
    )
    assert body["error"] == "Image not found"


async def test_splinterpic_id_is_the_documented_404(client, admin):
    # Splinterpic's overview: "Resource Not Found (404)" for GET /api/images/img_invalid
    for method in ("GET", "DELETE"):
        response = await client.request(method, "/api/images/img_invalid", headers=admin)
        body = assert_error_envelope(response, 404)
        assert body["error"] == "Image not found"
        assert body["details"] == {"image_id": "img_invalid"}


async def test_update_tags_and_expiry(client, admin):
    image_id = (await upload(client, admin, unique_jpeg(8), tags="old")).json()["result"]["id"]
    response = await client.put(
        f"/api/images/{image_id}",
        headers=admin,
        json={"tags": ["nature", "outdoor"], "expiryMinutes": 1440},
    )
    image = response.json()["image"]
    assert image["tags"] == ["nature", "outdoor"] and ISO_MS.match(image["expiryTime"])
    image = (
        await client.put(
            f"/api/images/{image_id}", headers=admin, json={"tags": "a, B ,c", "expiryMinutes": 0}
        )
    ).json()["image"]
    assert image["tags"] == ["a", "b", "c"] and image["expiryTime"] is None
    bad = await client.put(f"/api/images/{image_id}", headers=admin, json={"expiryMinutes": -1})
    assert_error_envelope(bad, 400)
    bad = await client.put(f"/api/images/{image_id}", headers=admin, json={"tags": [7]})
    assert_error_envelope(bad, 400)
    still = (await client.get(f"/api/images/{image_id}", headers=admin)).json()["image"]
    assert still["tags"] == ["a", "b", "c"]
    # Names are cleaned as CattoPic's server cleans them; what cleans to nothing is dropped.
    cleaned = await client.put(
        f"/api/images/{image_id}", headers=admin, json={"tags": ["no spaces", "!!"]}
    )
    assert cleaned.json()["image"]["tags"] == ["nospaces"]


async def test_update_expiry_past_the_range_is_400_naming_the_field(client, admin):
    image_id = (await upload(client, admin, unique_jpeg(45))).json()["result"]["id"]
    for body in ('{"expiryMinutes":1e308}', '{"expiryMinutes":18446744073709551616}'):
        response = await client.put(
            f"/api/images/{image_id}",
            headers={**admin, "Content-Type": "application/json"},
            content=body,
        )
        answer = assert_error_envelope(response, 400, "INVALID_REQUEST")
        assert answer["error"] == "expiryMinutes must be between 0 and 52560000"
        assert answer["details"]["field"] == "expiryMinutes"
    # The documented range still reads as before at both ends.
    for minutes in (52_560_000, 0.5):
        response = await client.put(
            f"/api/images/{image_id}", headers=admin, json={"expiryMinutes": minutes}
        )
        assert response.status_code == 200, response.text
    negative = await client.put(
        f"/api/images/{image_id}", headers=admin, json={"expiryMinutes": -1}
    )
    assert assert_error_envelope(negative, 400)["error"] == (
        "expiryMinutes must be a non-negative number"
    )
    # The documented range is the one enforced.
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for body in ("UpdateImageBody", "UploadForm"):
        documented = schemas[body]["properties"]["expiryMinutes"]
        assert (documented["minimum"], documented["maximum"]) == (0, 52_560_000)


async def test_delete_hides_everywhere_at_once(client, admin):
    image_id = (await upload(client, admin, unique_jpeg(9))).json()["result"]["id"]
    response = await client.delete(f"/api/images/{image_id}", headers=admin)
    assert response.json()["success"] is True and response.json()["message"] == "Image deleted"
    assert_error_envelope(await client.get(f"/api/images/{image_id}", headers=admin), 404)
    assert (await client.get("/api/images", headers=admin)).json()["total"] == 0
    assert_error_envelope(await client.delete(f"/api/images/{image_id}", headers=admin), 404)


async def test_another_owner_sees_nothing(client, admin, make_key):
    image_id = (await upload(client, admin, unique_jpeg(10))).json()["result"]["id"]
    key, _ = await make_key(["images:read", "images:write"], owner="mallory")
    assert (await client.get("/api/images", headers=bearer(key))).json()["total"] == 0
    assert_error_envelope(await client.get(f"/api/images/{image_id}", headers=bearer(key)), 404)
    assert_error_envelope(await client.delete(f"/api/images/{image_id}", headers=bearer(key)), 404)
    # Mallory uploading the same bytes gets her own image, not a pointer to the admin's.
    other = (await upload(client, bearer(key), unique_jpeg(10))).json()["result"]
    assert other["id"] != image_id


async def test_cleanup_purges_expired_images_with_their_objects(client, admin, env):
    keep = (await upload(client, admin, unique_jpeg(11))).json()["result"]["id"]
    expiring = (await upload(client, admin, unique_jpeg(12), expiry_minutes=5)).json()["result"][
        "id"
    ]
    await (
        env.DB.prepare("UPDATE images SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?")
        .bind(expiring)
        .run()
    )
    # Expired images are hidden at once, before any purge.
    assert_error_envelope(await client.get(f"/api/images/{expiring}", headers=admin), 404)
    response = await client.post("/api/cleanup", headers=admin)
    assert response.json() == {"success": True, "deletedCount": 1}
    keys = [obj.key for obj in (await env.BUCKET.list())["objects"]]
    assert keys and all(keep in key for key in keys)
    assert await env.DB.prepare("SELECT COUNT(*) AS n FROM images").first("n") == 1


async def test_cleanup_purges_only_the_callers_images_unless_admin(client, admin, env, make_key):
    key, _ = await make_key(["images:read", "images:write"], owner="mallory")
    mallory = bearer(key)
    ids = {
        "admin_expired": (await upload(client, admin, unique_jpeg(60), expiry_minutes=5)),
        "admin_deleted": (await upload(client, admin, unique_jpeg(61))),
        "mallory_expired": (await upload(client, mallory, unique_jpeg(62), expiry_minutes=5)),
        "mallory_deleted": (await upload(client, mallory, unique_jpeg(63))),
    }
    ids = {name: response.json()["result"]["id"] for name, response in ids.items()}
    for name, image_id in ids.items():
        column = "expires_at" if name.endswith("expired") else "deleted_at"
        await (
            env.DB.prepare(f"UPDATE images SET {column} = '2000-01-01T00:00:00.000Z' WHERE id = ?")
            .bind(image_id)
            .run()
        )

    async def remaining() -> set[str]:
        rows = await env.DB.prepare("SELECT id FROM images").all()
        return {
            name for name, image_id in ids.items() if image_id in {r["id"] for r in rows["results"]}
        }

    response = await client.post("/api/cleanup", headers=mallory)
    assert response.json() == {"success": True, "deletedCount": 2}
    assert await remaining() == {"admin_expired", "admin_deleted"}
    keys = [obj.key for obj in (await env.BUCKET.list())["objects"]]
    assert not any(ids["mallory_expired"] in key or ids["mallory_deleted"] in key for key in keys)
    assert any(ids["admin_expired"] in key for key in keys)
    # The admin's cleanup is the cron's: everyone's.
    response = await client.post("/api/cleanup", headers=admin)
    assert response.json() == {"success": True, "deletedCount": 2}
    assert await remaining() == set()


async def test_cron_purges_soft_deleted_images_past_retention(client, admin, env):
    from pixhaven.worker import run_scheduled

    image_id = (await upload(client, admin, unique_jpeg(13))).json()["result"]["id"]
    await client.delete(f"/api/images/{image_id}", headers=admin)
    assert (await run_scheduled(env))["images_purged"] == 0  # still restorable
    await (
        env.DB.prepare("UPDATE images SET deleted_at = '2000-01-01T00:00:00.000Z' WHERE id = ?")
        .bind(image_id)
        .run()
    )
    assert (await run_scheduled(env))["images_purged"] == 1
    assert (await env.BUCKET.list())["objects"] == []


async def test_tag_filter_pages_the_same_whether_the_tag_is_common_or_rare(client, admin):
    """Common tags are found by walking the newest images, rare ones from the tag's own set
    (db.images._walk_tag); both must page through exactly the tagged images, newest first."""
    expected = {"common": [], "rare": []}
    for seed in range(12):
        tags = "common" if seed < 10 else "other"
        if seed == 4:
            tags += ",rare"
        image_id = (
            await upload(client, admin, unique_jpeg(100 + seed), f"t{seed}.jpg", tags=tags)
        ).json()["result"]["id"]
        for tag in expected:
            if tag in tags.split(","):
                expected[tag].insert(0, image_id)
    for tag, ids in expected.items():
        seen = []
        for page in range(1, 8):
            body = (
                await client.get(f"/api/images?tag={tag}&limit=2&page={page}", headers=admin)
            ).json()
            assert body["total"] == len(ids)
            seen += [image["id"] for image in body["images"]]
        assert seen == ids, tag
        cursor_seen, cursor = [], None
        while True:
            query = f"/v1/images?tag={tag}&limit=3" + (f"&cursor={cursor}" if cursor else "")
            body = (await client.get(query, headers=admin)).json()
            cursor_seen += [image["id"] for image in body["data"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert cursor_seen == ids, tag
