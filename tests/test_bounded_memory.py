"""Images cost bounded memory: the cases of the issue, each with the answer it gets now.

A file whose header claims more pixels than its data can hold is a 400 (truncated or lying
image), before anything is decoded at the claimed size. Legal images too large for the
decoded-pixel budget are refused (413 when they could never fit it, 503 with Retry-After
while it is busy); what the budget lets through is decoded once per upload.
"""

import asyncio
import base64
import io

import pytest
from PIL import Image

from pixhaven.decode_budget import BUDGET, DecodeBusy, DecodeTooLarge, PixelBudget
from pixhaven.imaging.containers import FormatError
from pixhaven.imaging.formats import read_header
from pixhaven.imaging.verify import verify_decodes
from pixhaven.local.bindings.images import LocalImages
from pixhaven.local.bindings.r2_objects import BodyStream
from pixhaven.settings import Settings
from tests.conftest import assert_error_envelope
from tests.imagegen import image_bytes, lying_avif, lying_jpeg, progressive_jpeg, upload, zero_png

DEFAULT_BUDGET = Settings().max_decoded_pixels


@pytest.fixture(autouse=True)
def budget_given_back():
    """Whatever a test does, every decoded pixel goes back to the process's budget."""
    yield
    assert BUDGET.in_use == 0 and BUDGET.waiting == 0


@pytest.fixture(scope="module")
def zero_10000_png() -> bytes:
    return zero_png(10000, 10000)


def image_document(src: str, count: int = 1, box: int = 100) -> dict:
    return {
        "width": 400,
        "height": 400,
        "components": [{"type": "image", "src": src, "width": box, "height": box, "x": 0, "y": 0}]
        * count,
    }


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


async def test_jpeg_whose_frame_header_claims_more_than_its_data_is_400(client, admin):
    response = await upload(client, admin, lying_jpeg(9000, 9000), "lying.jpg")
    body = assert_error_envelope(response, 400)
    assert "Invalid JPEG image" in body["error"] and "9000x9000" in body["error"]
    assert "truncated" in body["error"]


async def test_progressive_jpeg_claiming_more_than_its_data_is_400_before_any_budget(client, admin):
    # 81 MP would be past the decode budget: the coded-data bound answers first, and right.
    response = await upload(client, admin, lying_jpeg(9000, 9000, progressive=True), "p.jpg")
    body = assert_error_envelope(response, 400)
    assert "Invalid JPEG image" in body["error"] and "9000x9000" in body["error"]


async def test_jpeg_claiming_a_little_more_than_its_data_is_400_not_grey_padding(client, admin):
    # Close enough to pass the size bound: the decode check notices the data running out.
    response = await upload(client, admin, lying_jpeg(128, 88), "lying.jpg")
    body = assert_error_envelope(response, 400)
    assert "Invalid JPEG image" in body["error"] and "truncated" in body["error"]


async def test_avif_whose_ispe_claims_more_than_its_av1_data_is_400(client, admin):
    response = await upload(client, admin, lying_avif(9000, 9000), "lying.avif")
    body = assert_error_envelope(response, 400)
    assert "Invalid AVIF image" in body["error"]
    assert "9000x9000" in body["error"] and "8x8" in body["error"]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"progressive": True},
        {"subsampling": 0},
        {"subsampling": 1},
        {"restart_marker_blocks": 1},
        {"mode": "L"},
        {"mode": "CMYK"},
        {"mode": "L", "progressive": True},
    ],
    ids=str,
)
def test_legal_jpegs_pass_the_coded_data_bound_and_decode_check(options):
    options = dict(options)
    mode = options.pop("mode", "RGB")
    image = Image.linear_gradient("L").resize((333, 77)).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    data = buffer.getvalue() + b"camera trailer after the end-of-image marker"
    verify_decodes(data, read_header(data, "jpeg"))


def test_legal_flat_12_megapixel_jpeg_is_far_above_the_bound():
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), (128, 128, 128)).save(buffer, "JPEG", progressive=True)
    data = buffer.getvalue()
    verify_decodes(data, read_header(data, "jpeg"))


def test_multi_picture_jpeg_decodes_every_picture():
    frames = [Image.new("RGB", (100, 60), c) for c in ((200, 0, 0), (0, 0, 200))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "MPO", save_all=True, append_images=frames[1:])
    data = buffer.getvalue()
    verify_decodes(data, read_header(data, "jpeg"))
    first_end = data.index(b"\xff\xd9")  # the first picture, cut short before its EOI
    with pytest.raises(FormatError):
        verify_decodes(data[: first_end - 40] + data[first_end:], read_header(data, "jpeg"))


# -- legal images past the decoded-pixel budget -------------------------------------------------


async def test_all_zero_10000_square_png_is_refused_by_the_budget_not_decoded(
    client, admin, zero_10000_png
):
    # A legal 292 KB PNG that is 400 MB decoded, and needs its full size in WebP and AVIF.
    response = await upload(client, admin, zero_10000_png, "zeros.png")
    body = assert_error_envelope(response, 413)
    assert body["code"] == "FILE_TOO_LARGE" and "MAX_DECODED_PIXELS" in body["error"]
    assert body["details"] == {
        "decodedPixels": 100_000_000,
        "maxDecodedPixels": DEFAULT_BUDGET,
    }


async def test_8000_square_progressive_jpeg_is_refused_by_the_default_budget(client, admin):
    response = await upload(client, admin, progressive_jpeg(8000, 8000), "big.jpg")
    body = assert_error_envelope(response, 413)
    assert body["details"]["decodedPixels"] == 64_000_000


@pytest.mark.parametrize("count", [1, 4])
async def test_render_whose_data_image_is_the_zero_png_is_413_naming_the_component(
    client, admin, zero_10000_png, count
):
    document = image_document(data_url(zero_10000_png, "image/png"), count)
    response = await client.post("/api/v1/image", json=document, headers=admin)
    body = assert_error_envelope(response, 413)
    assert "component 0" in body["error"] and "MAX_DECODED_PIXELS" in body["error"]


# -- the budget: waits, then 503 with Retry-After ---------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"DECODE_WAIT_SECONDS": "0"}])
async def test_upload_while_the_budget_is_taken_is_503_with_retry_after(client, admin):
    held = await BUDGET.acquire(DEFAULT_BUDGET, limit=DEFAULT_BUDGET, wait=0, what="test")
    try:
        response = await upload(client, admin, image_bytes(64, 48), "photo.jpg")
        body = assert_error_envelope(response, 503)
        assert body["code"] == "BUSY" and response.headers["Retry-After"] == "5"
        render = await client.post(
            "/api/v1/image",
            json=image_document(data_url(image_bytes(64, 48, "PNG"), "image/png")),
            headers=admin,
        )
        assert_error_envelope(render, 503)
        assert render.headers["Retry-After"] == "5"
    finally:
        held.release()
    assert (await upload(client, admin, image_bytes(64, 48), "photo.jpg")).status_code == 200


@pytest.mark.parametrize(
    "settings_overrides", [{"MAX_DECODED_PIXELS": str(400 * 300), "DECODE_WAIT_SECONDS": "0"}]
)
async def test_an_upload_decodes_once_for_placeholder_webp_and_avif(client, admin):
    # The budget holds exactly one decode of this image and nothing may wait for it: the
    # three conversions succeed only by sharing that one decode.
    response = await upload(client, admin, image_bytes(400, 300), "photo.jpg")
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["width"] == 400 and result["sizes"]["webp"] and result["sizes"]["avif"]
    too_big = await upload(client, admin, image_bytes(401, 300), "photo.jpg")
    assert assert_error_envelope(too_big, 413)["details"]["decodedPixels"] == 401 * 300


async def test_a_rotated_photo_is_decoded_once_for_its_original_and_versions(client, admin, env):
    # EXIF orientation 6: the stored original is re-encoded upright, and made together with
    # the placeholder, WebP and AVIF from the upload, it shares their decode.
    sideways = Image.open(io.BytesIO(image_bytes(400, 300)))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    sideways.save(out, "JPEG", quality=90, exif=exif.tobytes())
    before = env.IMAGES.decodes_made
    response = await upload(client, admin, out.getvalue(), "photo.jpg")
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert (result["width"], result["height"]) == (300, 400)
    assert result["sizes"]["webp"] and result["sizes"]["avif"]
    assert env.IMAGES.decodes_made - before == 1


@pytest.mark.parametrize("settings_overrides", [{"MAX_DECODED_PIXELS": "200000"}])
async def test_a_large_jpeg_source_is_decoded_no_larger_than_its_box_needs(client, admin):
    # 3 MP decoded in full would be 413 here; drawn in a 100 px box it is decoded at 1/4.
    photo = image_bytes(2000, 1500, color=(0, 200, 0))
    document = image_document(data_url(photo, "image/jpeg"))
    png = {**admin, "Accept": "image/png"}
    response = await client.post("/api/v1/image", json=document, headers=png)
    assert response.status_code == 200, response.text
    drawn = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert drawn.getpixel((90, 90))[1] > 150  # the green part of the source, drawn
    document["components"][0]["width"] = 1000  # now it needs more pixels than the budget
    response = await client.post("/api/v1/image", json=document, headers=png)
    assert assert_error_envelope(response, 413)["details"]["errors"][0]["component"] == 0


async def test_the_emulation_decodes_a_jpeg_reduced_when_every_output_is_smaller():
    photo = image_bytes(1600, 1200)
    images = LocalImages(max_decoded_pixels=1600 * 1200 // 16, decode_wait_seconds=0)
    small = (
        await images.input(BodyStream(photo))
        .transform({"width": 200})
        .output({"format": "image/png"})
    )
    assert Image.open(io.BytesIO(await small.response().bytes())).size == (200, 150)
    with pytest.raises(DecodeTooLarge):
        await images.input(BodyStream(photo)).output({"format": "image/png"})


# -- the budget itself -----------------------------------------------------------------------


async def test_budget_queues_first_come_first_served_and_wakes_waiters_on_release():
    budget = PixelBudget()
    first = await budget.acquire(80, limit=100, wait=0, what="test")
    big = asyncio.ensure_future(budget.acquire(50, limit=100, wait=60, what="test"))
    small = asyncio.ensure_future(budget.acquire(10, limit=100, wait=60, what="test"))
    await asyncio.sleep(0)
    # 10 would fit now, but it arrived after 50: it waits its turn.
    assert budget.waiting == 2 and not big.done() and not small.done()
    first.release()
    second, third = await big, await small
    assert budget.in_use == 60
    second.shrink(20)
    assert budget.in_use == 30
    second.release()
    third.release()
    second.release()  # idempotent
    assert budget.in_use == 0


async def test_budget_refuses_at_once_what_can_never_fit_and_busy_when_not_waiting():
    budget = PixelBudget()
    with pytest.raises(DecodeTooLarge) as too_large:
        await budget.acquire(101, limit=100, wait=60, what="image")
    assert too_large.value.status == 413
    held = await budget.acquire(100, limit=100, wait=0, what="image")
    with pytest.raises(DecodeBusy) as busy:
        await budget.acquire(1, limit=100, wait=0, what="image")
    assert busy.value.status == 503 and busy.value.headers == {"Retry-After": "5"}
    held.release()
    unlimited = await budget.acquire(10**12, limit=0, wait=0, what="image")
    assert budget.in_use == 0
    unlimited.release()


async def test_an_account_needing_more_than_the_budget_at_once_is_413_not_a_wait():
    budget = PixelBudget()
    async with budget.account(limit=100, wait=60) as pixels:
        await pixels.lease(60, "image component")
        with pytest.raises(DecodeTooLarge) as exc:
            await pixels.lease(60, "image component")  # would wait for its own 60
        assert exc.value.details["decodedPixels"] == 120
    assert budget.in_use == 0


async def test_a_cancelled_waiter_leaves_the_queue():
    budget = PixelBudget()
    held = await budget.acquire(100, limit=100, wait=0, what="test")
    waiter = asyncio.ensure_future(budget.acquire(50, limit=100, wait=60, what="test"))
    await asyncio.sleep(0)
    assert budget.waiting == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert budget.waiting == 0
    held.release()
    assert budget.in_use == 0
