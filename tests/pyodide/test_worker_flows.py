"""The Worker's own flows on real Pyodide: what needs the queue consumer, the cron trigger,
objects in R2, env.IMAGES or the outbound rules, driven through `entry.Default.fetch`, `Default.queue`
and `Default.scheduled` with the real SDK and Miniflare's D1 and R2.

Part of the test command, mandatory in CI (PIXHAVEN_REQUIRE_PYODIDE=1); skipped on a machine
without Node or `npm ci --prefix tests/pyodide` (the first run downloads the Worker's wheels
into ~/.cache/pixhaven-pyodide; see tests/pyodide/worker.py).

Objects are served as streams from R2 (Range, 304, 416, HEAD). env.IMAGES is Pixhaven's own
emulation of Cloudflare Images (LocalImages, held to the contract suite), served by the test process (tests/pyodide/worker.py, images.mjs): like
workerd it refuses a source that is not a ReadableStream (IMAGES_..._ERROR 9412), so the
"non-stream Images input" bug of the hardening issue fails the upload and variant flows
here if it comes back (a PNG upload then answers 400 "Invalid image"). Pillow has no wasm
wheel on PyPI: no flow here decodes pixels in the isolate with it. A PNG upload's one
in-isolate decode is the placeholder's, in pure Python (imaging/png_pixels.py); JPEG, GIF
and WebP uploads decode-check with Pillow (imaging/verify.py) and stay outside this
harness, and renders here are SVG. The harness's WASM memory after each flow, and before
and after the largest PNG upload, is printed at the end of the session (`-s` shows it).
"""

import base64
import hashlib
import io
import math
import random
import re
import uuid
from xml.etree import ElementTree

import pytest
from PIL import Image

from pixhaven.imaging.placeholder import thumbhash_average_rgba
from pixhaven.render.fonts import CATALOGUE
from tests.conftest import ADMIN_TOKEN, assert_error_envelope
from tests.imagegen import image_bytes, upload
from tests.pyodide.worker import worker_vars
from tests.serving_support import check_head, check_if_none_match, check_ranges, key_of
from tests.test_batch_render import TEMPLATE, create_template, results, start

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SVG = {**ADMIN, "Accept": "image/svg+xml"}


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def font_file(key: str) -> bytes:
    """The TTF the app asks for (`fonts/<slug>/<File>.ttf`), from the npm font cache, as
    `pixhaven fonts install --remote` would put it in the bucket."""
    from pixhaven.local.runtime.fonts import FontCache

    _, slug, name = key.split("/")
    family = next(f for f, info in CATALOGUE.items() if info.slug == slug)
    return (FontCache().ensure(family) / name).read_bytes()


@pytest.fixture(scope="module", autouse=True)
def memory_report(pyodide_worker):
    """Prints the WASM linear memory after each flow (issue 12, item 3)."""
    rows: list[str] = []
    yield rows
    ready = pyodide_worker.ready
    print(f"\nharness start (ms): {ready['timings_ms']}")
    print("WASM memory after each Pyodide flow (MB), and the harness's time in it (ms):")
    print(f"  before import entry: {ready['memory_before_entry'] / 2**20:.0f}")
    print(f"  after import entry (create_app): {ready['memory'] / 2**20:.0f}")
    for row in rows:
        print("  " + row)


@pytest.fixture
def note_memory(pyodide_worker, memory_report, request):
    first = len(pyodide_worker.answers)
    yield
    spent = sum(answer.get("ms", 0) for answer in pyodide_worker.answers[first:])
    memory = pyodide_worker.memory() / 2**20
    memory_report.append(f"{request.node.name}: {memory:.0f} MB, {spent} ms")


async def test_health_and_openapi(worker_client, note_memory):
    health = await worker_client.get("/health")
    assert health.status_code == 200, health.text
    document = await worker_client.get("/openapi.json")
    assert document.status_code == 200
    paths = document.json()["paths"]
    assert "/v1/keys" in paths and "/templates/{uid}/batch-render" in paths


async def test_errors_are_envelopes(worker_client, note_memory):
    assert_error_envelope(await worker_client.get("/no/such/route"), 404)
    assert_error_envelope(await worker_client.get("/v1/keys"), 401)
    assert_error_envelope(
        await worker_client.get("/v1/keys", headers={"Authorization": "Bearer pxf_wrong"}), 401
    )
    assert_error_envelope(
        await worker_client.post("/v1/keys", headers=ADMIN, json={"scopes": ["images:read"]}),
        400,
        "INVALID_REQUEST",
    )


async def test_deep_json_is_a_400_not_a_dead_isolate(worker_client, note_memory):
    """Python 3.14's json parser overflows Pyodide's JavaScript stack at ~6000 levels, a fatal
    error for the isolate (every request after it fails): the app refuses deep bodies first."""
    deep = b"[" * 10000 + b"]" * 10000
    headers = {**ADMIN, "Content-Type": "application/json"}
    body = assert_error_envelope(
        await worker_client.post("/api/tags", content=deep, headers=headers), 400
    )
    assert body["details"] == "nested too deeply"
    # A body FastAPI itself parses (PixelFlare's models) is refused before it is parsed too.
    for path in ("/v1/keys", "/v1/images"):
        response = await worker_client.post(path, content=deep, headers=headers)
        assert_error_envelope(response, 400, "INVALID_REQUEST")
        assert "nested too deeply" in response.text
    assert (await worker_client.get("/health")).status_code == 200


async def test_cjk_svg_render_reads_its_fonts_from_r2(worker_client, pyodide_worker, note_memory):
    """No font installer on Workers: a missing face is a 503 naming it until it is in the
    bucket, then the SVG draws the CJK glyphs as paths from the fonts read from R2."""
    document = {
        "width": 400,
        "height": 120,
        "background": "#ffffff",
        "components": [
            {"type": "text", "text": "你好世界 Hello", "fontSize": 40, "x": 20, "y": 20,
             "fontFamily": "Noto Sans SC", "color": "#000000"},
        ],
    }  # fmt: skip
    installed = []
    for _ in range(6):
        response = await worker_client.post("/api/v1/image", json=document, headers=SVG)
        if response.status_code != 503:
            break
        body = assert_error_envelope(response, 503, "FONTS_NOT_INSTALLED")
        key = body["details"]["missing"]
        assert key not in installed, key
        pyodide_worker.r2_put(key, font_file(key), "font/ttf")
        installed.append(key)
    assert response.status_code == 200, response.text
    assert installed and any("noto-sans-sc" in key for key in installed)
    assert response.headers["content-type"].startswith("image/svg+xml")
    svg = ElementTree.fromstring(response.content)
    paths = [e for e in svg.iter() if e.tag.endswith("path")]
    assert len(paths) >= 4  # the four CJK characters at least, drawn as outlines


async def render_batch(worker_client, pyodide_worker, colours):
    uid = await create_template(worker_client, ADMIN, TEMPLATE)
    started = await start(
        worker_client, ADMIN, uid, {"variableSets": [{"bg": c} for c in colours], "format": "svg"}
    )
    assert started["status"] == "pending" and started["total"] == len(colours)
    delivered = pyodide_worker.deliver_queue()
    assert delivered["delivered"] >= 1 and delivered["retried"] == 0
    return await results(worker_client, ADMIN, started["id"])


async def test_batch_render_through_the_queue_handler(worker_client, pyodide_worker, note_memory):
    colours = ["#ff0000", "#00ff00", "#0000ff"]
    done = await render_batch(worker_client, pyodide_worker, colours)
    assert done["status"] == "completed", done
    assert (done["completed"], done["failed"], done["pending"]) == (3, 0, 0)
    assert [r["index"] for r in done["results"]] == [0, 1, 2]
    for item, colour in zip(done["results"], colours, strict=True):
        assert item["url"].endswith(".svg")
        served = await worker_client.get(path_of(item["url"]))
        assert served.status_code == 200
        assert colour in served.text.lower()


async def test_scheduled_housekeeping_with_objects_in_the_bucket(
    worker_client, pyodide_worker, note_memory
):
    """`Default.scheduled` runs every housekeeping step against Miniflare's D1 and R2: the
    orphan sweep lists the bucket page by page (R2 refuses `cursor: null`), and leaves
    owned render objects and young unowned objects alone."""
    done = await render_batch(worker_client, pyodide_worker, ["#ff00ff"])
    for n in range(3):
        pyodide_worker.r2_put(f"images/landscape/stray-{n}.jpg", b"not owned yet", "image/jpeg")
    before = sorted(pyodide_worker.r2_keys())
    pyodide_worker.scheduled()
    assert sorted(pyodide_worker.r2_keys()) == before  # within ORPHAN_GRACE_SECONDS
    served = await worker_client.get(path_of(done["results"][0]["url"]))
    assert served.status_code == 200


async def test_webhook_delivery_refused_by_the_outbound_rules(
    worker_client, pyodide_worker, note_memory
):
    """A subscription whose URL now points at loopback (a row from before the rules, or
    edited in the database) is refused at delivery, without a request."""
    created = await worker_client.post(
        "/webhook-subscriptions",
        headers=ADMIN,
        json={"targetUrl": "https://hooks.example.com/pixhaven", "events": ["batch.completed"]},
    )
    assert created.status_code == 201, created.text
    uid = created.json()["subscription"]["uid"]
    pyodide_worker.d1(
        "UPDATE webhook_subscriptions SET url = 'http://127.0.0.1:9/hook' WHERE uid = ?", uid
    )
    done = await render_batch(worker_client, pyodide_worker, ["#000000"])
    assert done["status"] == "completed"
    [delivery] = pyodide_worker.d1(
        "SELECT status, attempts, last_error FROM webhook_deliveries WHERE subscription_uid = ?",
        uid,
    )
    assert delivery["status"] == "failed" and delivery["attempts"] == 1, delivery
    assert delivery["last_error"].startswith("BLOCKED_DESTINATION"), delivery
    assert "loopback" in delivery["last_error"]


async def test_stored_objects_stream_with_range_304_416_and_head(
    worker_client, pyodide_worker, note_memory
):
    """R2 bodies stream through the SDK's asgi adapter (a TransformStream fed chunk by chunk,
    the request task kept alive by waitUntil): a stored PDF render at `/r2/renders/…` and
    an SVG render at `/image/renders/…`, with the CPython suite's object assertions."""
    key = f"renders/{uuid.uuid4()}.pdf"
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 1200  # several stream chunks
    pyodide_worker.r2_put(key, pdf, "application/pdf")
    served = await worker_client.get(f"/r2/{key}")
    assert served.status_code == 200 and served.content == pdf
    etag = served.headers["etag"]
    await check_head(worker_client, f"/r2/{key}", pdf, etag, "application/pdf")
    await check_if_none_match(worker_client, f"/r2/{key}", pdf, etag)
    await check_ranges(worker_client, f"/r2/{key}", pdf, etag)

    done = await render_batch(worker_client, pyodide_worker, ["#123456"])
    svg_url = path_of(done["results"][0]["url"])
    svg = await worker_client.get(svg_url)
    assert svg.status_code == 200 and b"<svg" in svg.content[:200]
    etag = svg.headers["etag"]
    await check_head(worker_client, svg_url, svg.content, etag, "image/svg+xml")
    await check_if_none_match(worker_client, svg_url, svg.content, etag)
    await check_ranges(worker_client, svg_url, svg.content, etag)


# -- uploads: pixels through env.IMAGES (LocalImages in the test process) ---------------------

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
VERSIONS = {"original": ("png", "PNG"), "webp": ("webp", "WEBP"), "avif": ("avif", "AVIF")}


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def average_colour(thumbhash: str) -> list[int]:
    return [round(255 * c) for c in thumbhash_average_rgba(base64.b64decode(thumbhash))]


async def upload_png(worker_client, data: bytes, **fields) -> dict:
    response = await upload(worker_client, ADMIN, data, "photo.png", **fields)
    assert response.status_code == 200, response.text
    return response.json()["result"]


async def test_png_upload_through_cattopic_on_pyodide(worker_client, pyodide_worker, note_memory):
    """A real PNG through `POST /api/upload/single` on Pyodide: the only pixels decoded in
    the isolate are the placeholder's (pure Python, imaging/png_pixels.py); the WebP and
    AVIF versions and the placeholder PNG come from env.IMAGES. Same checks as the CPython
    tests/test_api_images.py: ids, URLs, sizes, the objects in R2, each a real image."""
    data = image_bytes(320, 200, "PNG", color=(30, 120, 200))
    result = await upload_png(worker_client, data, tags="nature,outdoor")
    assert UUID.match(result["id"]) and result["status"] == "success"
    assert result["orientation"] == "landscape"
    assert result["tags"] == ["nature", "outdoor"]
    for version, (extension, _) in VERSIONS.items():
        assert result["urls"][version] == (
            f"http://testserver/r2/images/landscape/{result['id']}.{extension}"
        )
        assert result["sizes"][version] > 0
    assert sorted(pyodide_worker.r2_keys("images/")) == sorted(
        key_of(url) for url in result["urls"].values()
    )
    for version, (_, fmt) in VERSIONS.items():
        served = await worker_client.get(path_of(result["urls"][version]))
        assert served.status_code == 200, (version, served.text)
        assert len(served.content) == result["sizes"][version]
        image = decoded(served.content)
        assert (image.format, image.size) == (fmt, (320, 200)), version
    original = await worker_client.get(path_of(result["urls"]["original"]))
    assert decoded(original.content).convert("RGB").tobytes() == (
        decoded(data).convert("RGB").tobytes()
    )  # PNG stays lossless, metadata stripping keeps the pixels
    [row] = pyodide_worker.d1("SELECT placeholder FROM images WHERE id = ?", result["id"])
    assert row["placeholder"] and len(base64.b64decode(row["placeholder"])) <= 25
    # The picture is mostly (30, 120, 200) with a blue top-left quadrant (20, 20, 220).
    assert all(abs(a - b) < 40 for a, b in zip(average_colour(row["placeholder"]), (28, 95, 205)))


async def test_on_demand_variant_made_by_env_images_on_a_miss(
    worker_client, pyodide_worker, note_memory
):
    """`/cdn-cgi/image/...` on a miss makes the variant from the original in R2, handing
    env.IMAGES the R2 body stream (services/delivery/variants.py), stores it under
    `variants/{id}/` and serves it; the next request is served from R2 (same ETag, 304)."""
    result = await upload_png(worker_client, image_bytes(320, 200, "PNG"))
    original = f"/r2/images/landscape/{result['id']}.png"
    cases = {
        "width=160,format=webp": ((160, 100), "image/webp", "WEBP"),
        "width=50,height=50,fit=cover,format=avif": ((50, 50), "image/avif", "AVIF"),
        "height=40": ((64, 40), "image/png", "PNG"),
    }
    for options, (size, mime, fmt) in cases.items():
        response = await worker_client.get(f"/cdn-cgi/image/{options}{original}")
        assert response.status_code == 200, (options, response.text)
        assert response.headers["content-type"] == mime, options
        image = decoded(response.content)
        assert (image.format, image.size) == (fmt, size), options
    stored = pyodide_worker.r2_keys(f"variants/{result['id']}/")
    assert len(stored) == len(cases), stored
    again = await worker_client.get(f"/cdn-cgi/image/width=160,format=webp{original}")
    assert again.status_code == 200 and decoded(again.content).size == (160, 100)
    assert pyodide_worker.r2_keys(f"variants/{result['id']}/") == stored  # no new object
    not_modified = await worker_client.get(
        f"/cdn-cgi/image/width=160,format=webp{original}",
        headers={"If-None-Match": again.headers["etag"]},
    )
    assert not_modified.status_code == 304


async def test_r2_serving_of_an_uploaded_png_ranges_304_416_head(
    worker_client, pyodide_worker, note_memory
):
    """`/r2` serving of an upload (services/delivery/objects.py) on Miniflare's R2, with the
    assertions of tests/test_serving.py (tests/serving_support.py): ranges, If-Range,
    If-None-Match, unsatisfiable ranges, HEAD."""
    data = image_bytes(120, 80, "PNG")
    result = await upload_png(worker_client, data)
    url = path_of(result["urls"]["original"])
    whole = await worker_client.get(url)
    assert whole.status_code == 200 and whole.content == data
    etag = whole.headers["etag"]
    await check_head(worker_client, url, data, etag, "image/png")
    await check_if_none_match(worker_client, url, data, etag)
    await check_ranges(worker_client, url, data, etag)


async def test_soft_deleted_upload_purged_by_the_scheduled_handler(
    worker_client, pyodide_worker, note_memory
):
    """Delete, then `Default.scheduled` (retention 0 days here, conftest.WORKER_VARS) purges
    the row and every object of the upload from Miniflare's D1 and R2."""
    result = await upload_png(worker_client, image_bytes(64, 48, "PNG"))
    assert len(pyodide_worker.r2_keys("images/")) == 3
    deleted = await worker_client.delete(f"/api/images/{result['id']}", headers=ADMIN)
    assert deleted.status_code == 200, deleted.text
    assert_error_envelope(await worker_client.get(path_of(result["urls"]["original"])), 404)
    pyodide_worker.scheduled()
    assert pyodide_worker.r2_keys("images/") == []
    assert pyodide_worker.d1("SELECT id FROM images") == []


def noise_png(width: int, height: int, seed: int = 12) -> bytes:
    """Random RGB pixels as PNG: noise does not compress, so the file is about 3 bytes a pixel."""
    pixels = random.Random(seed).randbytes(width * height * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def largest_worker_upload() -> tuple[bytes, int]:
    """A noise PNG just under the Worker's MAX_UPLOAD_BYTES (wrangler.toml), and that limit:
    the largest upload the Worker takes (here and in bench/worker_memory.py)."""
    limit = int(worker_vars()["MAX_UPLOAD_BYTES"])
    side = int(math.sqrt(limit / 3.01))  # noise: about 3 bytes a pixel, plus row filters
    return noise_png(side, side), limit


async def test_the_largest_upload_the_worker_takes_and_one_past_it(
    worker_client, pyodide_worker, memory_report
):
    """Issue 12, item 3: a noise PNG just under the Worker's MAX_UPLOAD_BYTES (wrangler.toml,
    set from bench/worker_memory.py) goes through with every version made by env.IMAGES, and
    the isolate's WASM memory before and after it is printed (`-s`); a file past the limit
    is the 413 that names it."""
    data, limit = largest_worker_upload()
    assert limit * 0.95 < len(data) <= limit
    side = Image.open(io.BytesIO(data)).width
    before = pyodide_worker.memory()
    first = len(pyodide_worker.answers)
    result = await upload_png(worker_client, data)
    spent = sum(answer.get("ms", 0) for answer in pyodide_worker.answers[first:])
    after = pyodide_worker.memory()
    assert result["sizes"]["original"] == len(data)
    assert result["sizes"]["webp"] > 0 and result["sizes"]["avif"] > 0
    [row] = pyodide_worker.d1("SELECT width, height, placeholder FROM images")
    assert (row["width"], row["height"]) == (side, side) and row["placeholder"]
    memory_report.append(
        f"test_the_largest_upload_the_worker_takes: {before / 2**20:.0f} MB before, "
        f"{after / 2**20:.0f} MB after, body {len(data) / 2**20:.1f} MB, {spent} ms"
    )
    too_large = await upload(worker_client, ADMIN, data + b"\0" * (limit + 1 - len(data)), "x.png")
    body = assert_error_envelope(too_large, 413, "FILE_TOO_LARGE")
    assert body["error"].startswith(f"File exceeds maximum size of {limit / 2**20:g}MB")


async def direct_upload(client, worker, data: bytes, filename: str) -> str:
    """PixelFlare's two-step upload with the bytes put straight into R2 (as an R2 presigned
    PUT would), completed by the queue consumer from R2's event notification; the id."""
    created = await client.post("/v1/images", json={"filename": filename}, headers=ADMIN)
    assert created.status_code == 201, created.text
    image_id = created.json()["id"]
    worker.r2_put(f"uploads/{image_id}", data, "application/octet-stream")
    event = {"action": "PutObject", "bucket": "pixhaven", "object": {"key": f"uploads/{image_id}"}}
    worker.call("send", body=event)
    assert worker.call("queue")["acked"] == 1  # the event becomes a durable job
    outcome = worker.call("queue")  # which completes the upload
    assert outcome["acked"] == 1 and "error" not in outcome, outcome
    return image_id


def gradient_png_with_private_text(side: int) -> bytes:
    """A smooth PNG stored without compression (about 3 bytes a pixel, quick for env.IMAGES
    to encode), with a private text chunk after its image data."""
    from pixhaven.imaging.containers import png_chunks

    gradient = Image.linear_gradient("L").resize((side, side))
    buffer = io.BytesIO()
    Image.merge("RGB", (gradient, gradient.rotate(90), gradient)).save(
        buffer, "PNG", compress_level=0
    )
    data = buffer.getvalue()
    iend = next(start for kind, start, _ in png_chunks(data) if kind == b"IEND")
    text = b"Location\0 48.8584 N, 2.2945 E"
    chunk = len(text).to_bytes(4, "big") + b"tEXt" + text + bytes(4)
    return data[:iend] + chunk + data[iend:]


async def test_direct_upload_past_the_worker_limit_is_processed_through_streams(
    worker_client, pyodide_worker, memory_report
):
    """Issue 12, item 3: a file larger than MAX_UPLOAD_BYTES that went straight to R2 (the
    R2 presigned upload) is completed by the queue consumer from R2's event notification,
    reading the object through streams (services/images/streamed_upload.py): hashed chunk
    by chunk, decoded only by env.IMAGES, its original put as a FixedLengthStream spliced
    from byte ranges of the upload with the private text chunk left out. The isolate's
    memory hardly moves, whatever the file's size."""
    from pixhaven.imaging.metadata import strip_png

    limit = int(worker_vars()["MAX_UPLOAD_BYTES"])
    side = int(math.sqrt(limit * 1.3 / 3))
    data = gradient_png_with_private_text(side)
    assert len(data) > limit
    before = pyodide_worker.memory()
    first = len(pyodide_worker.answers)
    image_id = await direct_upload(worker_client, pyodide_worker, data, "big.png")
    spent = sum(answer.get("ms", 0) for answer in pyodide_worker.answers[first:])
    after = pyodide_worker.memory()
    response = await worker_client.get(f"/v1/images/{image_id}", headers=ADMIN)
    assert response.status_code == 200, response.text
    image = response.json()
    assert image["status"] == "ready" and (image["width"], image["height"]) == (side, side)
    [row] = pyodide_worker.d1("SELECT * FROM images WHERE id = ?", image_id)
    assert row["content_hash"] == hashlib.sha256(data).hexdigest()
    assert row["placeholder"] and row["webp_size"] and row["avif_size"]
    original = await worker_client.get(f"/r2/images/landscape/{image_id}.png")
    assert original.status_code == 200
    assert original.content == strip_png(data) and b"Location" not in original.content
    assert not pyodide_worker.r2_keys("uploads/")
    memory_report.append(
        f"test_direct_upload_past_the_worker_limit: {before / 2**20:.0f} MB before, "
        f"{after / 2**20:.0f} MB after, object {len(data) / 2**20:.1f} MB, {spent} ms"
    )
