"""What the console's gallery needs from `/v1/images`, over HTTP: orientation and format
filters with cursor pages, the trash (`deleted_only`), `thumbnail_url` in every item, the
detail's versions and variants, and signed view URLs for images public serving refuses
(private, deleted), which a browser's `<img>` loads without a bearer token."""

import io
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from pixhaven.services.delivery import view_urls
from pixhaven.settings import Settings
from pixhaven.timeutil import utcnow

from .conftest import assert_error_envelope, bearer
from .imagegen import image_bytes
from .test_pixelflare_images import NO_UPLOAD_LIMITS, create, local_path, upload


@pytest.fixture
def settings_overrides():
    return NO_UPLOAD_LIMITS


def path_of(url: str) -> str:
    return local_path(url)


async def ids(client, headers, query: str) -> list[str]:
    response = await client.get(f"/v1/images?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


async def gallery(client, admin) -> dict[str, dict]:
    """Four images, newest last: a landscape PNG, a portrait JPEG, a landscape JPEG, a
    portrait WebP."""
    made = {}
    for name, (width, height, fmt) in {
        "wide.png": (600, 300, "PNG"),
        "tall.jpg": (300, 600, "JPEG"),
        "wide.jpg": (640, 320, "JPEG"),
        "tall.webp": (200, 400, "WEBP"),
    }.items():
        made[name] = await upload(client, admin, image_bytes(width, height, fmt), filename=name)
    return made


async def test_orientation_and_format_filters_page_with_cursors(client, admin):
    made = await gallery(client, admin)
    tall = await ids(client, admin, "orientation=portrait")
    assert tall == [made["tall.webp"]["id"], made["tall.jpg"]["id"]]
    assert await ids(client, admin, "format=png") == [made["wide.png"]["id"]]
    # `jpeg` names the stored `jpg`; several formats are comma-separated.
    assert await ids(client, admin, "format=jpeg,png") == [
        made["wide.jpg"]["id"],
        made["tall.jpg"]["id"],
        made["wide.png"]["id"],
    ]
    assert await ids(client, admin, "orientation=landscape&format=jpg") == [made["wide.jpg"]["id"]]

    # A filtered walk with limit=1: every matching image once, in order, then no cursor.
    seen, cursor = [], ""
    while True:
        page = await client.get(
            f"/v1/images?orientation=landscape&limit=1&cursor={cursor}", headers=admin
        )
        body = page.json()
        seen += [item["id"] for item in body["data"]]
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
    assert seen == [made["wide.jpg"]["id"], made["wide.png"]["id"]]

    bad_orientation = await client.get("/v1/images?orientation=square", headers=admin)
    assert_error_envelope(bad_orientation, 400)
    assert bad_orientation.json()["details"]["field"] == "orientation"
    bad_format = await client.get("/v1/images?format=png,bmp", headers=admin)
    assert_error_envelope(bad_format, 400)
    assert bad_format.json()["details"]["field"] == "format"


async def test_public_thumbnails_are_public_variant_urls(client, admin):
    image = await upload(client, admin, image_bytes(600, 300, "PNG"), filename="wide.png")
    listed = (await client.get("/v1/images", headers=admin)).json()["data"][0]
    thumbnail = listed["thumbnail_url"]
    assert thumbnail == f"http://testserver/r2/variants/{image['id']}/w256.png"
    served = await client.get(path_of(thumbnail))  # no bearer token
    assert served.status_code == 200
    assert Image.open(io.BytesIO(served.content)).size == (256, 128)
    # The ThumbHash placeholder is in the same item, for the grid before the image loads.
    assert listed["placeholder"]


async def test_pending_upload_has_no_thumbnail(client, admin):
    created = await create(client, admin, filename="later.png")
    assert created["thumbnail_url"] is None


async def test_private_image_gets_signed_urls_that_work_without_a_token(client, admin):
    image = await upload(
        client, admin, image_bytes(600, 300, "PNG"), filename="secret.png", is_private=True
    )
    # Public serving refuses it, as before.
    assert (await client.get(path_of(image["cdn_url"]))).status_code == 404

    detail = (await client.get(f"/v1/images/{image['id']}", headers=admin)).json()
    thumbnail = detail["thumbnail_url"]
    assert thumbnail.startswith(f"http://testserver/v1/images/{image['id']}/view/w256?")
    served = await client.get(path_of(thumbnail))
    assert served.status_code == 200, served.text
    assert served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"].startswith("private, max-age=")
    assert Image.open(io.BytesIO(served.content)).size == (256, 128)

    # The detail's versions and variants are all signed, and each serves its rendition.
    assert set(detail["versions"]) >= {"original", "webp"}
    assert set(detail["variants"]) >= {"thumb", "w128", "w2048", "og-image"}
    original = await client.get(path_of(detail["versions"]["original"]))
    assert original.status_code == 200
    assert Image.open(io.BytesIO(original.content)).size == (600, 300)
    webp = await client.get(path_of(detail["versions"]["webp"]))
    assert webp.headers["content-type"] == "image/webp"
    thumb = await client.get(path_of(detail["variants"]["thumb"]))
    assert Image.open(io.BytesIO(thumb.content)).size == (128, 128)

    # A signature names one image and one rendition.
    parts = urlsplit(thumbnail)
    query = parts.query
    other = await client.get(f"/v1/images/{image['id']}/view/original?{query}")
    assert_error_envelope(other, 403)
    tampered = query.replace("signature=", "signature=0")
    assert_error_envelope(await client.get(f"{parts.path}?{tampered}"), 403)
    assert_error_envelope(await client.get(parts.path), 403)
    unknown = await client.get(f"/v1/images/{image['id']}/view/w999?{query}")
    assert_error_envelope(unknown, 404)


async def test_public_detail_urls_are_the_public_ones(client, admin):
    image = await upload(client, admin, image_bytes(300, 200, "JPEG"), filename="open.jpg")
    detail = (await client.get(f"/v1/images/{image['id']}", headers=admin)).json()
    assert detail["versions"]["original"].startswith("http://testserver/r2/images/")
    assert detail["variants"]["w128"] == f"http://testserver/r2/variants/{image['id']}/w128.jpg"
    # w512 is wider than the image: the original itself.
    assert detail["variants"]["w512"] == detail["versions"]["original"]
    for url in (*detail["versions"].values(), detail["variants"]["thumb"]):
        assert (await client.get(path_of(url))).status_code == 200


async def test_expired_view_url_is_refused(client, admin, env):
    image = await upload(
        client, admin, image_bytes(80, 60, "PNG"), filename="old.png", is_private=True
    )
    settings = Settings.from_env(env)
    stale = view_urls.signed_view_url(
        "http://testserver", image["id"], "original", settings, utcnow() - timedelta(hours=3)
    )
    assert stale is not None
    response = await client.get(path_of(stale))
    assert_error_envelope(response, 403)
    assert response.json()["details"]["expired"] is True
    # A fresh one lasts one to two hours and is the same within the hour (cacheable).
    fresh = view_urls.signed_view_url(
        "http://testserver", image["id"], "original", settings, utcnow()
    )
    assert fresh is not None
    expires = int(parse_qs(urlsplit(fresh).query)["expires"][0])
    now = utcnow().timestamp()
    assert 3600 <= expires - now <= 7200
    assert expires % 3600 == 0


async def test_trash_lists_deleted_images_with_thumbnails_and_restores(client, admin):
    kept = await upload(client, admin, image_bytes(400, 200, "PNG"), filename="kept.png")
    binned = await upload(client, admin, image_bytes(300, 600, "JPEG"), filename="binned.jpg")
    assert (await client.delete(f"/v1/images/{binned['id']}", headers=admin)).status_code == 200

    trash = (await client.get("/v1/images?deleted_only=true", headers=admin)).json()["data"]
    assert [item["id"] for item in trash] == [binned["id"]]
    assert trash[0]["deleted_at"] is not None
    # Deleted images are never publicly served; the trash's thumbnail is a signed URL.
    assert (await client.get(path_of(binned["cdn_url"]))).status_code == 404
    thumbnail = await client.get(path_of(trash[0]["thumbnail_url"]))
    assert thumbnail.status_code == 200
    assert Image.open(io.BytesIO(thumbnail.content)).size == (256, 512)
    # The trash filters like the gallery.
    assert await ids(client, admin, "deleted_only=true&orientation=landscape") == []
    assert await ids(client, admin, "") == [kept["id"]]

    restored = await client.post(f"/v1/images/{binned['id']}/restore", headers=admin)
    assert restored.status_code == 200
    assert await ids(client, admin, "deleted_only=true") == []
    assert_error_envelope(await client.get("/v1/images?deleted_only=maybe", headers=admin), 400)


async def test_other_owners_images_stay_hidden(client, admin, make_key):
    image = await upload(
        client, admin, image_bytes(80, 60, "PNG"), filename="mine.png", is_private=True
    )
    other, _ = await make_key(["images:read"], owner="someone_else")
    assert await ids(client, bearer(other), "orientation=landscape") == []
    assert_error_envelope(await client.get(f"/v1/images/{image['id']}", headers=bearer(other)), 404)


async def test_expiry_set_through_cattopic_shows_in_the_resource(client, admin):
    image = await upload(client, admin, image_bytes(80, 60, "PNG"), filename="brief.png")
    assert image["expires_at"] is None
    response = await client.put(
        f"/api/images/{image['id']}", json={"expiryMinutes": 60}, headers=admin
    )
    assert response.status_code == 200, response.text
    detail = (await client.get(f"/v1/images/{image['id']}", headers=admin)).json()
    assert detail["expires_at"] == response.json()["expiryTime"]
