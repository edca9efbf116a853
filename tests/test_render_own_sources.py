"""Image components whose `src` is one of this deployment's own images (its `/r2/` URL, a
PixelFlare CDN path, a short id, a variant) on the request's origin or `PUBLIC_BASE_URL`:
read from the bucket under the public serving rules, never fetched over the network, and
refused like a failed fetch when they serve nothing (services/rendering/own_sources.py).

The network is faked (as in test_remote_fetch.py) only to prove nothing is fetched.
"""

import io

import pytest
from PIL import Image

from pixhaven.net import fetch as remote_fetch
from tests.conftest import assert_error_envelope
from tests.imagegen import image_bytes
from tests.serving_support import key_of, publish, set_column
from tests.test_remote_fetch import fake_dns, network

COLOR = (230, 120, 10)
CORNER = (20, 20, 220)  # image_bytes' top-left quadrant
WHITE = (255, 255, 255)


@pytest.fixture
def no_network(monkeypatch):
    """A network that answers 404 to everything and records what was asked of it."""
    transport = network({})
    resolver = fake_dns({})
    monkeypatch.setattr(remote_fetch, "default_transport", lambda: transport)
    monkeypatch.setattr(remote_fetch, "default_resolver", resolver)
    transport.seen = resolver.seen
    return transport


@pytest.fixture
async def photo(client, admin, env):
    made = await publish(client, admin, image_bytes(120, 80, "PNG", COLOR), "card.png")
    row = (
        await env.DB.prepare("SELECT short_id, filename, owner FROM images WHERE id = ?")
        .bind(made["id"])
        .first()
    )
    return {**made, **row}


def card(src: str) -> dict:
    return {
        "width": 100,
        "height": 60,
        "background": "#ffffff",
        "components": [{"type": "image", "src": src, "x": 10, "y": 10, "width": 60, "height": 40}],
    }


async def render_png(client, admin, src: str):
    return await client.post(
        "/api/v1/image", json=card(src), headers={**admin, "Accept": "image/png"}
    )


def assert_photo_drawn(content: bytes) -> None:
    """The 120×80 photo scaled into the 60×40 box at (10, 10): its blue top-left quadrant,
    its colour elsewhere, white outside the box."""
    rgb = Image.open(io.BytesIO(content)).convert("RGB")
    assert rgb.getpixel((20, 16)) == CORNER
    assert rgb.getpixel((60, 40)) == COLOR
    assert rgb.getpixel((5, 5)) == WHITE and rgb.getpixel((85, 55)) == WHITE


def assert_refused(response, src: str, status: int = 422) -> dict:
    body = assert_error_envelope(response, status)
    assert body["error"].startswith("Invalid component 0 (image): src:")
    assert body["details"]["errors"][0]["component"] == 0
    assert body["details"]["errors"][0]["field"] == "src"
    return body


async def test_own_r2_url_on_the_request_origin_is_read_from_the_bucket(
    client, admin, photo, no_network
):
    src = photo["urls"]["original"]
    assert src.startswith("http://testserver/r2/images/")
    response = await render_png(client, admin, src)
    assert response.status_code == 200, response.text
    assert_photo_drawn(response.content)
    # The upload's WebP version is one of its served objects too (lossy: colours near).
    webp = await render_png(client, admin, photo["urls"]["webp"])
    assert webp.status_code == 200, webp.text
    assert no_network.requested == [] and no_network.seen == []


async def test_own_url_on_public_base_url_is_read_from_the_bucket(client, admin, env, no_network):
    env.PUBLIC_BASE_URL = "https://img.example.com"
    try:
        made = await publish(client, admin, image_bytes(120, 80, "PNG", COLOR), "base.png")
        src = made["urls"]["original"]
        assert src.startswith("https://img.example.com/r2/")
        response = await render_png(client, admin, src)
        assert response.status_code == 200, response.text
        assert_photo_drawn(response.content)
        # The origin the request came to is ours as well.
        local = src.replace("https://img.example.com", "http://testserver")
        response = await render_png(client, admin, local)
        assert response.status_code == 200, response.text
        assert_photo_drawn(response.content)
        # Same host, another port: not our origin, so an ordinary remote fetch (a 404 here).
        other = src.replace("https://img.example.com", "https://img.example.com:8443")
        assert_refused(await render_png(client, admin, other), other)
        assert no_network.requested == [other]
    finally:
        env.PUBLIC_BASE_URL = ""


async def test_cdn_path_short_id_and_variant_urls(client, admin, photo, no_network):
    base = "http://testserver"
    stem = photo["filename"].rsplit(".", 1)[0]
    for path in (
        f"/{photo['owner']}/_/{photo['filename']}",
        f"/{photo['owner']}/_/{stem}",
        f"/{photo['short_id']}",
    ):
        response = await render_png(client, admin, base + path)
        assert response.status_code == 200, (path, response.text)
        assert_photo_drawn(response.content)
    # A named variant (w128 keeps the whole 120×80 image), generated on a miss like the CDN
    # does, then read from its cached object.
    for _ in range(2):
        variant = f"{base}/{photo['owner']}/_/{photo['filename']}/w128"
        response = await render_png(client, admin, variant)
        assert response.status_code == 200, response.text
        assert_photo_drawn(response.content)
    assert no_network.requested == [] and no_network.seen == []


async def test_private_deleted_and_missing_images_are_refused(
    client, admin, env, photo, no_network
):
    urls = [
        photo["urls"]["original"],
        f"http://testserver/{photo['short_id']}",
        f"http://testserver/{photo['owner']}/_/{photo['filename']}",
    ]
    await set_column(env, photo["id"], "is_private", 1)
    for src in urls:
        body = assert_refused(await render_png(client, admin, src), src)
        assert "not a public image of this server" in body["error"]
    await set_column(env, photo["id"], "is_private", 0)
    assert (await client.delete(f"/api/images/{photo['id']}", headers=admin)).status_code == 200
    for src in urls:
        assert_refused(await render_png(client, admin, src), src)
    missing = "http://testserver/r2/images/landscape/550e8400-e29b-41d4-a716-446655440000.png"
    assert_refused(await render_png(client, admin, missing), missing)
    assert no_network.requested == [] and no_network.seen == []


@pytest.mark.parametrize(
    "path",
    [
        "/health",
        "/api/images",
        "/api/images?page=1",
        "/openapi.json",
        "/v1/images/abc/variants",
        "/cdn-cgi/image/width=10/r2/images/landscape/x.png",
        "/r2/renders/550e8400-e29b-41d4-a716-446655440000.pdf",
        "/r2/images/%2E%2E/%2E%2E/private/secret.txt",
        "/r2/private/secret.txt",
        "/",
        "/a/b",
        "/a/b/c/not-a-variant",
    ],
)
async def test_other_paths_on_our_origin_are_refused_without_a_fetch(
    client, admin, env, no_network, path
):
    await env.BUCKET.put("private/secret.txt", b"TOP SECRET OBJECT")
    src = "http://testserver" + path
    assert_refused(await render_png(client, admin, src), src)
    assert no_network.requested == [] and no_network.seen == []


@pytest.mark.parametrize(
    "src,status",
    [
        ("http://127.0.0.1:8787/r2/images/landscape/550e8400-e29b-41d4-a716-446655440000.png", 422),
        ("http://localhost/health", 422),
        ("http://10.0.0.9/r2/images/landscape/550e8400-e29b-41d4-a716-446655440000.png", 422),
        ("http://user@testserver/health", 400),  # credentials: never taken for our origin
    ],
)
async def test_other_hosts_still_go_through_the_ssrf_rules(client, admin, no_network, src, status):
    # Not the request's origin (testserver) nor PUBLIC_BASE_URL: refused by net/fetch.py
    # before anything is sent.
    assert_refused(await render_png(client, admin, src), src, status)
    assert no_network.requested == []


async def test_gif_and_pdf_frames_read_own_urls(client, admin, photo, no_network):
    src = photo["urls"]["original"]
    gif = await client.post(
        "/gif",
        json={"frames": [card(src), card(src)]},
        headers={**admin, "Accept": "image/gif"},
    )
    assert gif.status_code == 200, gif.text
    with Image.open(io.BytesIO(gif.content)) as image:
        rgb = image.convert("RGB")
        assert rgb.getpixel((60, 40)) == COLOR and rgb.getpixel((5, 5)) == WHITE
    pdf = await client.post(
        "/pdf/render", json=card(src), headers={**admin, "Accept": "application/pdf"}
    )
    assert pdf.status_code == 200, pdf.text
    assert pdf.content.startswith(b"%PDF")
    assert no_network.requested == [] and no_network.seen == []


async def test_the_local_server_case_of_the_issue(client, admin, no_network):
    """`pixhaven dev` on 127.0.0.1:8787: an upload's own URL in a card, on that origin."""
    base = "http://127.0.0.1:8787"
    uploaded = await client.post(
        f"{base}/api/upload/single",
        headers=admin,
        files={"image": ("local.png", image_bytes(120, 80, "PNG", COLOR), "image/png")},
    )
    assert uploaded.status_code == 200, uploaded.text
    src = uploaded.json()["result"]["urls"]["original"]
    assert src.startswith(f"{base}/r2/images/")
    response = await client.post(
        f"{base}/api/v1/image", json=card(src), headers={**admin, "Accept": "image/png"}
    )
    assert response.status_code == 200, response.text
    assert_photo_drawn(response.content)
    # From another origin the same URL is someone else's loopback address: SSRF rules.
    assert_refused(await render_png(client, admin, src), src)
    assert no_network.requested == [] and no_network.seen == []


IMAGE_TEMPLATE = {
    "name": "Photo card",
    "document": card("{{photo}}"),
    "variables": [{"name": "photo", "type": "image", "required": True}],
}


async def stored_pixels(client, url: str) -> Image.Image:
    response = await client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200, url
    return Image.open(io.BytesIO(response.content)).convert("RGB")


async def test_pictify_image_templates_and_batches_read_own_urls(
    client, admin, env, photo, no_network
):
    src = photo["urls"]["original"]
    stored = await client.post("/image", json={**card(src), "format": "png"}, headers=admin)
    assert stored.status_code == 200, stored.text
    rgb = await stored_pixels(client, stored.json()["url"])
    assert rgb.getpixel((20, 16)) == CORNER and rgb.getpixel((60, 40)) == COLOR

    created = await client.post("/templates", json=IMAGE_TEMPLATE, headers=admin)
    assert created.status_code == 200, created.text
    uid = created.json()["template"]["uid"]
    rendered = await client.post(
        f"/templates/{uid}/render", json={"variables": {"photo": src}}, headers=admin
    )
    assert rendered.status_code == 200, rendered.text
    assert (await stored_pixels(client, rendered.json()["url"])).getpixel((60, 40)) == COLOR

    short = f"http://testserver/{photo['short_id']}"
    started = await client.post(
        f"/templates/{uid}/batch-render",
        json={"variables": [{"photo": src}, {"photo": short}]},
        headers=admin,
    )
    assert started.status_code == 202, started.text
    await env.JOBS.drain()
    done = await client.get(f"/templates/batch/{started.json()['id']}/results", headers=admin)
    assert done.json()["completed"] == 2, done.text
    for result in done.json()["results"]:
        assert (await stored_pixels(client, result["url"])).getpixel((60, 40)) == COLOR
    assert no_network.requested == [] and no_network.seen == []


@pytest.mark.parametrize("settings_overrides", [{"MAX_UPLOAD_BYTES": "4000"}])
async def test_an_own_object_past_the_byte_limit_is_413_before_it_is_read(
    client, admin, env, no_network, settings_overrides
):
    made = await publish(client, admin, image_bytes(40, 30, "PNG", COLOR), "small.png")
    src = made["urls"]["original"]
    # The object grew past the limit after its upload (a state no endpoint makes).
    stored = await env.BUCKET.get(key_of(src))
    await env.BUCKET.put(key_of(src), await stored.bytes() + b"\0" * 5000)
    body = assert_error_envelope(await render_png(client, admin, src), 413)
    assert "4000 bytes" in body["error"] and body["details"]["errors"][0]["component"] == 0
    assert no_network.requested == []


async def test_public_base_url_under_a_path_prefix(client, admin, env, no_network):
    env.PUBLIC_BASE_URL = "https://img.example.com/pix"
    try:
        made = await publish(client, admin, image_bytes(120, 80, "PNG", COLOR), "prefix.png")
        src = made["urls"]["original"]
        assert src.startswith("https://img.example.com/pix/r2/")
        response = await render_png(client, admin, src)
        assert response.status_code == 200, response.text
        assert_photo_drawn(response.content)
        # Our host, but outside the prefix: not a serving route of ours, and not fetched.
        outside = src.replace("/pix/", "/", 1)
        assert_refused(await render_png(client, admin, outside), outside)
        assert no_network.requested == [] and no_network.seen == []
    finally:
        env.PUBLIC_BASE_URL = ""
