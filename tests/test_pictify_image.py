"""Pictify's POST /image: a component document or a template, stored as an image
(source render, visible in /api/images and /v1/images), Idempotency-Key, SVG downloads,
usage events (html/url: tests/test_html_rendering.py).
"""

import io

import pytest
from PIL import Image

from pixhaven.db import usage_events
from tests.conftest import assert_error_envelope, bearer
from tests.serving_support import check_head, check_if_none_match, check_ranges

CARD = {
    "width": 320,
    "height": 160,
    "background": "#102030",
    "components": [
        {"type": "divider", "length": 200, "width": "thick", "color": "#ff0000", "x": 20, "y": 20},
        {"type": "text", "text": "Hello", "fontSize": 32, "color": "#ffffff", "x": 20, "y": 60},
    ],
}


async def fetch_image(client, url):
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = await client.get("/" + path)
    assert response.status_code == 200, response.text
    return response


async def test_image_from_a_document_is_stored_as_a_render(client, admin, env):
    response = await client.post("/image", json=CARD, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {"url", "id", "createdAt", "width", "height"}
    assert (body["width"], body["height"], body["format"]) == (320, 160, "png")
    assert body["createdAt"].endswith("Z")

    png = Image.open(io.BytesIO((await fetch_image(client, body["url"])).content))
    assert png.format == "PNG" and png.size == (320, 160)
    rgb = png.convert("RGB")
    assert rgb.getpixel((0, 0)) == (16, 32, 48) and rgb.getpixel((100, 21)) == (255, 0, 0)

    listed = (await client.get("/api/images", headers=admin)).json()["images"]
    mine = [image for image in listed if image["id"] == body["id"]]
    assert mine and mine[0]["source"] == "render" and mine[0]["format"] == "png"
    assert mine[0]["sizes"]["webp"] > 0 and mine[0]["placeholder"]
    v1 = await client.get(f"/v1/images/{body['id']}", headers=admin)
    assert v1.status_code == 200 and v1.json()["width"] == 320

    events = await usage_events.list_for_owner(env.DB, "default_user", "render")
    assert events[0]["detail"]["id"] == body["id"] and events[0]["detail"]["format"] == "png"


@pytest.mark.parametrize("fmt,pil", [("jpeg", "JPEG"), ("webp", "WEBP"), ("avif", "AVIF")])
async def test_other_raster_formats(client, admin, fmt, pil):
    response = await client.post("/image", json={**CARD, "format": fmt}, headers=admin)
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO((await fetch_image(client, response.json()["url"])).content))
    assert image.format == pil and image.size == (320, 160)


async def test_width_and_height_override_the_canvas(client, admin):
    body = (
        await client.post("/image", json={**CARD, "width": 200, "height": 100}, headers=admin)
    ).json()
    assert (body["width"], body["height"]) == (200, 100)


async def test_svg_is_a_download_never_an_image(client, admin):
    response = await client.post("/image", json={**CARD, "format": "svg"}, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["format"] == "svg" and body["url"].endswith(f"/image/renders/{body['id']}.svg")
    served = await fetch_image(client, body["url"])
    assert served.headers["content-type"] == "image/svg+xml"
    assert served.headers["content-security-policy"].startswith("default-src 'none'")
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.content.startswith(b"<svg") or b"<svg" in served.content[:200]
    listed = (await client.get("/api/images", headers=admin)).json()["images"]
    assert body["id"] not in {image["id"] for image in listed}
    assert (await client.get("/image/renders/not-a-uuid.svg")).status_code == 404
    assert (await client.head("/image/renders/not-a-uuid.svg")).status_code == 404


async def test_svg_downloads_answer_head_304_and_ranges(client, admin):
    """The stored SVG is served like every object: HEAD, If-None-Match, Range."""
    body = (await client.post("/image", json={**CARD, "format": "svg"}, headers=admin)).json()
    url = body["url"].removeprefix("http://testserver")
    served = await client.get(url)
    etag = served.headers["etag"]
    await check_head(client, url, served.content, etag, "image/svg+xml")
    await check_if_none_match(client, url, served.content, etag)
    await check_ranges(client, url, served.content, etag)
    head = await client.head(url)
    assert head.headers["content-disposition"].startswith("attachment")
    assert head.headers["content-security-policy"].startswith("default-src 'none'")


async def test_idempotency_key_replays_the_first_answer(client, admin, env):
    headers = {**admin, "Idempotency-Key": "order-42"}
    first = await client.post("/image", json=CARD, headers=headers)
    second = await client.post("/image", json=CARD, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    events = await usage_events.list_for_owner(env.DB, "default_user", "render")
    assert len(events) == 1  # rendered once

    other = {**CARD, "background": "#000000"}
    body = assert_error_envelope(await client.post("/image", json=other, headers=headers), 422)
    assert body["code"] == "IDEMPOTENCY_KEY_REUSED"

    # Another owner's identical key is independent.
    key = (
        await client.post(
            "/v1/keys", json={"name": "k", "scopes": ["render"], "owner": "someone"}, headers=admin
        )
    ).json()
    theirs = await client.post(
        "/image", json=CARD, headers={**bearer(key["key"]), "Idempotency-Key": "order-42"}
    )
    assert theirs.status_code == 200 and theirs.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in theirs.headers


async def test_failed_requests_release_their_idempotency_key(client, admin):
    headers = {**admin, "Idempotency-Key": "retry-me"}
    bad = {**CARD, "components": [{"type": "text", "text": "x", "color": "red"}]}
    assert_error_envelope(await client.post("/image", json=bad, headers=headers), 400)
    # Same key, same (still bad) request: evaluated again, not replayed or locked.
    assert_error_envelope(await client.post("/image", json=bad, headers=headers), 400)


async def test_in_flight_keys_conflict_until_abandoned(client, admin, env):
    import hashlib
    import json

    fingerprint = hashlib.sha256(
        ("POST /image\n" + json.dumps(CARD, sort_keys=True, separators=(",", ":"))).encode()
    ).hexdigest()
    now = "2999-01-01T00:00:00.000Z"  # "just now", whatever the clock says
    await (
        env.DB.prepare(
            "INSERT INTO idempotency_keys (owner, idem_key, request_hash,"
            " created_at) VALUES ('default_user', 'busy', ?, ?)"
        )
        .bind(fingerprint, now)
        .run()
    )
    headers = {**admin, "Idempotency-Key": "busy"}
    body = assert_error_envelope(await client.post("/image", json=CARD, headers=headers), 409)
    assert body["details"]["idempotencyKey"] == "busy"
    from datetime import timedelta

    from pixhaven.timeutil import iso, utcnow

    await (
        env.DB.prepare("UPDATE idempotency_keys SET created_at = ?")
        .bind(iso(utcnow() - timedelta(minutes=10)))
        .run()
    )  # within 24 h, but abandoned
    assert (await client.post("/image", json=CARD, headers=headers)).status_code == 200


async def test_expired_idempotency_keys_are_forgotten(client, admin, env):
    headers = {**admin, "Idempotency-Key": "old"}
    first = (await client.post("/image", json=CARD, headers=headers)).json()
    await env.DB.prepare(
        "UPDATE idempotency_keys SET created_at = '2000-01-01T00:00:00.000Z'"
    ).run()
    again = await client.post("/image", json=CARD, headers=headers)
    assert again.status_code == 200 and "idempotent-replayed" not in again.headers
    # Same pixels: a new image, sharing the first one's stored objects.
    assert again.json()["id"] != first["id"]
    assert len((await env.BUCKET.list(prefix="images/"))["objects"]) == 3

    from pixhaven.worker import run_scheduled

    await env.DB.prepare(
        "UPDATE idempotency_keys SET created_at = '2000-01-01T00:00:00.000Z'"
    ).run()
    assert (await run_scheduled(env))["idempotency_keys_purged"] == 1


async def test_bad_requests(client, admin):
    assert_error_envelope(await client.post("/image", json={"width": 10}, headers=admin), 400)
    assert_error_envelope(await client.post("/image", content=b"{", headers=admin), 400)
    body = assert_error_envelope(
        await client.post("/image", json={**CARD, "format": "bmp"}, headers=admin), 400
    )
    assert "png" in body["error"]
    body = assert_error_envelope(
        await client.post(
            "/image",
            json={**CARD, "components": [{"type": "text", "text": "x", "fontFamily": "Comic"}]},
            headers=admin,
        ),
        400,
    )
    assert "component 0" in body["error"]
    assert_error_envelope(
        await client.post("/image", json={"template": "tpl_nope"}, headers=admin), 404
    )


async def test_scopes(client, make_key):
    key, _ = await make_key(["images:read"])
    assert_error_envelope(await client.post("/image", json=CARD, headers=bearer(key)), 403)
    assert_error_envelope(await client.post("/image", json=CARD), 401)
