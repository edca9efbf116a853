"""PixelFlare variants (CDN paths, `/r2/variants/…`, `POST /v1/images/:id/variants`) and the
`/cdn-cgi/image/` URL form: sizes checked by decoding the bytes, caching in R2, the
variant-miss rate limit, visibility."""

import re

import pytest

from pixhaven.local.bindings.ratelimit import LocalRateLimiter
from pixhaven.services.delivery.variants import VARIANTS, variant_url
from pixhaven.settings import Settings
from tests.conftest import assert_error_envelope, bearer
from tests.imagegen import animated_gif, image_bytes
from tests.serving_support import decoded_size, publish, set_column

IMMUTABLE = "public, max-age=31536000, immutable"
OWNER = "default_user"


@pytest.fixture
async def photo(client, admin, env):
    made = await publish(client, admin, image_bytes(800, 600), "beach.jpg")
    row = await env.DB.prepare("SELECT * FROM images WHERE id = ?").bind(made["id"]).first()
    made["row"] = dict(row)
    made["cdn"] = f"/{OWNER}/_/{row['filename']}"
    return made


class BrokenImages:
    """Stands in for env.IMAGES when a test must prove nothing is generated."""

    def input(self, *_args, **_kwargs):
        raise AssertionError("env.IMAGES was called: the variant was not served from R2")


EXPECTED_SIZES = {
    "w128": (128, 96),
    "w256": (256, 192),
    "w512": (512, 384),
    "w1024": (800, 600),
    "w1536": (800, 600),
    "w2048": (800, 600),
    "thumb": (128, 128),
    "og-image": (1200, 630),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
async def test_each_variant_has_its_size_and_is_cached_in_r2(client, photo, env, variant):
    response = await client.get(f"{photo['cdn']}/{variant}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == IMMUTABLE
    assert decoded_size(response.content) == EXPECTED_SIZES[variant]
    key = f"variants/{photo['id']}/{variant}.jpg"
    stored = await env.BUCKET.head(key)
    if EXPECTED_SIZES[variant] == (800, 600):
        # Never upscaled: a width variant wider than the image is the original itself.
        assert stored is None
        original = await client.get(photo["urls"]["original"].removeprefix("http://testserver"))
        assert response.content == original.content
    else:
        assert stored is not None and stored.httpEtag == response.headers["etag"]
    # The second request is an R2 read: no Images call.
    env.IMAGES = BrokenImages()
    again = await client.get(f"{photo['cdn']}/{variant}")
    assert again.status_code == 200 and again.content == response.content
    assert again.headers["etag"] == response.headers["etag"]


async def test_variants_are_served_like_originals(client, photo, env):
    url = f"/r2/variants/{photo['id']}/w256.jpg"
    first = await client.get(url)
    assert first.status_code == 200 and decoded_size(first.content) == (256, 192)
    etag = first.headers["etag"]
    assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304
    ranged = await client.get(url, headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and ranged.content == first.content[:100]
    assert ranged.headers["content-range"] == f"bytes 0-99/{len(first.content)}"
    head = await client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(first.content)
    # The CDN path and the /r2/ path are the same object.
    assert (await client.get(f"{photo['cdn']}/w256")).headers["etag"] == etag
    # A variant never requested answers 304 only after being generated.
    fresh = await client.get(f"{photo['cdn']}/thumb", headers={"If-None-Match": '"nope"'})
    assert fresh.status_code == 200


async def test_variant_of_a_portrait_png_keeps_its_format_and_ratio(client, admin):
    made = await publish(client, admin, image_bytes(300, 600, "PNG"), "tall.png")
    response = await client.get(f"/r2/variants/{made['id']}/w128.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert decoded_size(response.content) == (128, 256)
    og = await client.get(f"/r2/variants/{made['id']}/og-image.png")
    assert decoded_size(og.content) == (1200, 630)
    # The extension must be the image's.
    assert_error_envelope(await client.get(f"/r2/variants/{made['id']}/w128.jpg"), 404)


async def test_animated_gif_variants_stay_animated(client, admin):
    import io

    from PIL import Image

    made = await publish(client, admin, animated_gif(frames=3, width=256, height=256), "a.gif")
    response = await client.get(f"/r2/variants/{made['id']}/w128.gif")
    assert response.status_code == 200 and response.headers["content-type"] == "image/gif"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.size == (128, 128) and image.n_frames == 3


async def test_unknown_variants_and_hidden_images_are_404(client, photo, env, admin):
    assert_error_envelope(await client.get(f"{photo['cdn']}/w999"), 404)
    assert_error_envelope(await client.get(f"/r2/variants/{photo['id']}/w999.jpg"), 404)
    assert_error_envelope(await client.get(f"/r2/variants/{photo['id']}/t-unknown.jpg"), 404)
    assert (await client.get(f"{photo['cdn']}/w128")).status_code == 200
    await set_column(env, photo["id"], "is_private", 1)
    assert_error_envelope(await client.get(f"{photo['cdn']}/w128"), 404)
    assert_error_envelope(await client.get(f"/r2/variants/{photo['id']}/w128.jpg"), 404)
    await set_column(env, photo["id"], "is_private", 0)
    assert (await client.delete(f"/api/images/{photo['id']}", headers=admin)).status_code == 200
    assert_error_envelope(await client.get(f"/r2/variants/{photo['id']}/w128.jpg"), 404)
    assert_error_envelope(await client.get(f"{photo['cdn']}/thumb"), 404)


async def test_variant_misses_are_rate_limited_per_ip(client, client_from, photo, env):
    env.RATE_LIMITER = LocalRateLimiter(limit=2, period=60)
    assert (await client.get(f"{photo['cdn']}/w128")).status_code == 200
    assert (await client.get(f"{photo['cdn']}/w256")).status_code == 200
    refused = await client.get(f"{photo['cdn']}/w512")
    body = assert_error_envelope(refused, 429, "RATE_LIMITED")
    assert refused.headers["retry-after"] == "60"
    assert "100 requests/minute" in body["error"]
    # Hits are free, originals are free, and another address has its own budget.
    for _ in range(5):
        assert (await client.get(f"{photo['cdn']}/w128")).status_code == 200
        assert (await client.get(photo["cdn"])).status_code == 200
    async with client_from("203.0.113.9") as other:
        assert (await other.get(f"{photo['cdn']}/w512")).status_code == 200
    # Once someone generated it, it is a hit for everyone.
    assert (await client.get(f"{photo['cdn']}/w512")).status_code == 200


# -- POST /v1/images/{id}/variants ---------------------------------------------------------------


async def test_generate_variants_answers_202_and_the_queue_makes_them(client, admin, photo, env):
    response = await client.post(
        f"/v1/images/{photo['id']}/variants", headers=admin, json={"variants": ["w512", "thumb"]}
    )
    assert response.status_code == 202, response.text
    resource = response.json()
    assert resource["id"] == photo["id"]
    assert resource["owner"] == OWNER
    assert resource["content_type"] == "image/jpeg"
    assert resource["cdn_url"] == f"http://testserver{photo['cdn']}"
    for field in ("filename", "album", "size", "tags", "is_private", "created_at"):
        assert field in resource
    assert set(resource["variants"]) == {"w512", "thumb"}
    for name in ("w512", "thumb"):
        assert await env.BUCKET.head(f"variants/{photo['id']}/{name}.jpg") is None
    await env.JOBS.drain()
    env.IMAGES = BrokenImages()
    for name, size in (("w512", (512, 384)), ("thumb", (128, 128))):
        assert await env.BUCKET.head(f"variants/{photo['id']}/{name}.jpg") is not None
        served = await client.get(resource["variants"][name].removeprefix("http://testserver"))
        assert served.status_code == 200 and decoded_size(served.content) == size


async def test_generate_variants_of_a_private_image_answers_signed_view_urls(
    client, admin, photo, env
):
    await set_column(env, photo["id"], "is_private", 1)
    response = await client.post(
        f"/v1/images/{photo['id']}/variants", headers=admin, json={"variants": ["w256"]}
    )
    assert response.status_code == 202, response.text
    url = response.json()["variants"]["w256"].removeprefix("http://testserver")
    # Not the public variant address, which answers 404 for a private image ...
    assert url.startswith(f"/v1/images/{photo['id']}/view/w256?") and "signature=" in url
    public = variant_url("", photo["row"], "w256", Settings())
    assert (await client.get(public)).status_code == 404
    # ... but one the owner's browser can load without a bearer token.
    served = await client.get(url)
    assert served.status_code == 200 and decoded_size(served.content) == (256, 192)
    # An expiry that only str.isdigit() calls a number is refused like any other forgery.
    forged = re.sub(r"expires=[0-9]+", "expires=%C2%B2", url)
    assert forged != url
    assert_error_envelope(await client.get(forged), 403, "FORBIDDEN")


async def test_generate_variants_checks_input_scope_and_owner(client, admin, photo, make_key):
    url = f"/v1/images/{photo['id']}/variants"
    assert_error_envelope(await client.post(url, json={"variants": ["w512"]}), 401)
    reader, _ = await make_key(["images:read"])
    assert_error_envelope(
        await client.post(url, headers=bearer(reader), json={"variants": ["w512"]}), 403
    )
    stranger, _ = await make_key(["images:write"], owner="someone_else")
    assert_error_envelope(
        await client.post(url, headers=bearer(stranger), json={"variants": ["w512"]}), 404
    )
    body = assert_error_envelope(
        await client.post(url, headers=admin, json={"variants": ["w512", "huge"]}), 400
    )
    assert body["details"]["unknown"] == ["huge"]
    assert_error_envelope(await client.post(url, headers=admin, json={"variants": []}), 400)
    assert_error_envelope(await client.post(url, headers=admin, json={}), 400)
    assert_error_envelope(
        await client.post(
            "/v1/images/not-an-id/variants", headers=admin, json={"variants": ["w512"]}
        ),
        400,
    )
    assert (await client.delete(f"/api/images/{photo['id']}", headers=admin)).status_code == 200
    assert_error_envelope(await client.post(url, headers=admin, json={"variants": ["w512"]}), 404)


# -- /cdn-cgi/image/ ------------------------------------------------------------------------------


def cgi(options: str, photo: dict) -> str:
    return f"/cdn-cgi/image/{options}/r2/images/landscape/{photo['id']}.jpg"


async def test_cdn_cgi_image_transforms_and_caches(client, photo, env):
    cases = {
        "width=100": ((100, 75), "image/jpeg"),
        "w=100,format=webp": ((100, 75), "image/webp"),
        "width=50,height=50,fit=cover": ((50, 50), "image/jpeg"),
        "width=50,height=50,fit=contain,format=png": ((50, 38), "image/png"),
        "width=100,dpr=2": ((200, 150), "image/jpeg"),
        "width=4000": ((800, 600), "image/jpeg"),  # scale-down never upscales
        "width=60,height=60,fit=cover,gravity=left,quality=50": ((60, 60), "image/jpeg"),
        "width=60,height=60,fit=crop,gravity=0.2x0.8": ((60, 60), "image/jpeg"),
        "height=60,format=avif": ((80, 60), "image/avif"),
    }
    for options, (size, mime) in cases.items():
        response = await client.get(cgi(options, photo))
        assert response.status_code == 200, (options, response.text)
        assert response.headers["content-type"] == mime, options
        assert decoded_size(response.content) == size, options
        assert response.headers["cache-control"] == IMMUTABLE
    listing = await env.BUCKET.list(prefix=f"variants/{photo['id']}/")
    assert len(listing["objects"]) == len(cases)
    assert all(o.key.split("/")[-1].startswith("t-") for o in listing["objects"])
    env.IMAGES = BrokenImages()
    again = await client.get(cgi("width=100", photo))
    assert again.status_code == 200 and decoded_size(again.content) == (100, 75)
    etag = again.headers["etag"]
    assert (
        await client.get(cgi("width=100", photo), headers={"If-None-Match": etag})
    ).status_code == 304


async def test_cdn_cgi_format_auto_negotiates(client, photo):
    avif = await client.get(
        cgi("width=64,format=auto", photo), headers={"Accept": "image/avif,image/webp,*/*"}
    )
    assert avif.headers["content-type"] == "image/avif"
    assert avif.headers["vary"] == "Accept"
    webp = await client.get(cgi("width=64,f=auto", photo), headers={"Accept": "image/webp"})
    assert webp.headers["content-type"] == "image/webp"
    plain = await client.get(cgi("width=64,format=auto", photo))
    assert plain.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize(
    "options",
    [
        "width=0",
        "width=abc",
        "width=1_00",  # numbers as Cloudflare reads them, not as Python's float() does
        "width=٣",
        "dpr=nan",
        "gravity=0.٥x0.5",
        "fit=stretch",
        "format=bmp",
        "quality=101",
        "gravity=middle",
        "dpr=9",
        "blur=5",
        "width",
        "gravity=2x2",
    ],
)
async def test_cdn_cgi_bad_options_are_400(client, photo, options):
    assert_error_envelope(await client.get(cgi(options, photo)), 400)


async def test_cdn_cgi_sources_must_be_public_originals(client, photo, env):
    good = await client.get(
        f"/cdn-cgi/image/width=64/http://testserver/r2/images/landscape/{photo['id']}.jpg"
    )
    assert good.status_code == 200 and decoded_size(good.content) == (64, 48)
    for source in (
        f"/r2/images/portrait/{photo['id']}.jpg",
        "/etc/passwd",
        f"https://evil.example/r2/images/landscape/{photo['id']}.jpg",
        f"/r2/variants/{photo['id']}/w128.jpg",
    ):
        assert_error_envelope(await client.get(f"/cdn-cgi/image/width=64{source}"), 404)
    for source in ("/r2/images/%2e%2e/private/x", "/r2/images/..%2Fx"):
        response = await client.get(f"/cdn-cgi/image/width=64{source}")
        assert response.status_code in (400, 404)
    await set_column(env, photo["id"], "is_private", 1)
    assert_error_envelope(await client.get(cgi("width=64", photo)), 404)


async def test_cdn_cgi_misses_share_the_variant_rate_limit(client, photo, env):
    env.RATE_LIMITER = LocalRateLimiter(limit=1, period=60)
    assert (await client.get(cgi("width=90", photo))).status_code == 200
    assert_error_envelope(await client.get(cgi("width=91", photo)), 429, "RATE_LIMITED")
    assert (await client.get(cgi("width=90", photo))).status_code == 200


# -- URLs handed out ---------------------------------------------------------------------------


async def test_variant_urls_in_binding_mode_are_object_urls(client, photo):
    settings = Settings()
    url = variant_url("http://testserver", photo["row"], "w512", settings)
    assert url == f"http://testserver/r2/variants/{photo['id']}/w512.jpg"
    wide = variant_url("http://testserver", photo["row"], "w2048", settings)
    assert wide == photo["urls"]["original"]
    response = await client.get(url.removeprefix("http://testserver"))
    assert decoded_size(response.content) == (512, 384)


@pytest.mark.parametrize("settings_overrides", [{"IMAGE_RESIZING": "zone"}])
async def test_zone_mode_hands_out_image_resizing_urls_that_work(client, admin, photo):
    response = await client.post(
        f"/v1/images/{photo['id']}/variants",
        headers=admin,
        json={"variants": ["w512", "thumb", "og-image"]},
    )
    assert response.status_code == 202
    urls = response.json()["variants"]
    original = f"r2/images/landscape/{photo['id']}.jpg"
    assert urls["w512"] == f"http://testserver/cdn-cgi/image/width=512,fit=scale-down/{original}"
    assert urls["thumb"] == (
        f"http://testserver/cdn-cgi/image/width=128,height=128,fit=cover/{original}"
    )
    for name, size in (("w512", (512, 384)), ("thumb", (128, 128)), ("og-image", (1200, 630))):
        served = await client.get(urls[name].removeprefix("http://testserver"))
        assert served.status_code == 200 and decoded_size(served.content) == size
