"""A direct-to-R2 upload larger than MAX_UPLOAD_BYTES is processed where it lies, through
streams (services/images/streamed_upload.py): what is stored is exactly what the in-memory
pipeline would store, private metadata removed, and what cannot be done that way is a 413
that says why. MAX_UPLOAD_BYTES is lowered so small real images take that path."""

import hashlib
import io
import random
import struct
import zlib

import pytest
from PIL import Image

from pixhaven.imaging.metadata import strip_jpeg, strip_png
from pixhaven.services.images.streamed_upload import pinned_body

from .conftest import assert_error_envelope
from .test_pixelflare_images import R2_SETTINGS, create

IN_WORKER_LIMIT = 40_000
STREAMED = {**R2_SETTINGS, "MAX_UPLOAD_BYTES": str(IN_WORKER_LIMIT)}


@pytest.fixture
def settings_overrides() -> dict[str, str]:
    return STREAMED


def noise(width: int, height: int, seed: int = 1) -> Image.Image:
    """Random pixels: they do not compress, so a small image is past the limit."""
    return Image.frombytes(
        "RGB", (width, height), random.Random(seed).randbytes(width * height * 3)
    )


def exif_with_gps(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 29.0)  # GPSLatitude
    return exif.tobytes()


def private_jpeg(orientation: int = 1, **save) -> bytes:
    """A JPEG past the limit with EXIF (GPS), a comment, and a second picture after its
    end-of-image marker (as multi-picture files have)."""
    buffer = io.BytesIO()
    noise(240, 180).save(
        buffer, "JPEG", quality=95, exif=exif_with_gps(orientation), comment=b"secret", **save
    )
    data = buffer.getvalue() + b"\xff\xd8" + b"trailing picture with private data\xff\xd9"
    assert len(data) > IN_WORKER_LIMIT
    return data


def png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def private_png() -> bytes:
    """A PNG past the limit, its image data in many IDAT chunks, with text chunks before and
    after them (a PNG may carry metadata anywhere)."""
    buffer = io.BytesIO()
    noise(120, 120, seed=2).save(buffer, "PNG")
    plain = buffer.getvalue()
    ihdr_end = 8 + 25
    idat = b"".join(
        body for kind, body in _png_bodies(plain) if kind == b"IDAT"
    )  # the zlib stream, cut into 4 KB chunks below
    chunks = [png_chunk(b"IDAT", idat[i : i + 4096]) for i in range(0, len(idat), 4096)]
    data = b"".join(
        [
            plain[:ihdr_end],
            png_chunk(b"tEXt", b"Author\0Someone private"),
            png_chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1)),
            *chunks,
            png_chunk(b"tEXt", b"GPS\x0048.85,2.29"),
            png_chunk(b"IEND", b""),
        ]
    )
    assert len(data) > IN_WORKER_LIMIT
    return data


def _png_bodies(data: bytes):
    position = 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        yield kind, data[position + 8 : position + 8 + length]
        position += 12 + length


async def put_direct(client, admin, env, data: bytes) -> dict:
    """Create a two-step upload and put its bytes where the R2 presigned URL would."""
    created = await create(client, admin)
    await env.BUCKET.put(f"uploads/{created['id']}", data)
    return created


async def stored_original(env, image: dict) -> bytes:
    row = await env.DB.prepare("SELECT format FROM images WHERE id = ?").bind(image["id"]).first()
    listed = await env.BUCKET.list(prefix="images/")
    (key,) = [o.key for o in listed.objects if o.key.endswith(f"{image['id']}.{row['format']}")]
    return bytes(await (await env.BUCKET.get(key)).arrayBuffer())


async def status_of(env, image_id: str) -> str:
    row = await env.DB.prepare("SELECT status FROM images WHERE id = ?").bind(image_id).first()
    return row["status"]


async def test_large_jpeg_is_stored_stripped_without_being_held(client, admin, env):
    data = private_jpeg()
    created = await put_direct(client, admin, env, data)
    response = await client.get(f"/v1/images/{created['id']}", headers=admin)
    assert response.status_code == 200, response.text
    image = response.json()
    assert image["status"] == "ready" and (image["width"], image["height"]) == (240, 180)
    original = await stored_original(env, image)
    # Exactly what the in-memory pipeline stores: EXIF, comment and trailing picture gone.
    assert original == strip_jpeg(data)
    assert b"PhoneMaker" not in original and b"secret" not in original
    assert b"trailing picture" not in original
    assert Image.open(io.BytesIO(original)).size == (240, 180)
    row = await env.DB.prepare("SELECT * FROM images WHERE id = ?").bind(created["id"]).first()
    assert row["content_hash"] == hashlib.sha256(data).hexdigest()
    assert row["size"] == len(original) and row["placeholder"]
    assert row["webp_size"] and row["avif_size"]
    assert f"uploads/{created['id']}" not in [o.key for o in (await env.BUCKET.list()).objects]


async def test_large_progressive_jpeg_streams_through_its_scans(client, admin, env):
    data = private_jpeg(progressive=True)
    created = await put_direct(client, admin, env, data)
    response = await client.get(f"/v1/images/{created['id']}", headers=admin)
    assert response.status_code == 200, response.text
    assert await stored_original(env, response.json()) == strip_jpeg(data)


async def test_large_png_loses_its_text_chunks_before_and_after_the_image_data(client, admin, env):
    data = private_png()
    created = await put_direct(client, admin, env, data)
    response = await client.get(f"/v1/images/{created['id']}", headers=admin)
    assert response.status_code == 200, response.text
    original = await stored_original(env, response.json())
    assert original == strip_png(data)
    assert b"tEXt" not in original and b"pHYs" in original
    assert Image.open(io.BytesIO(original)).tobytes() == noise(120, 120, seed=2).tobytes()


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda: private_jpeg(orientation=6), "EXIF orientation (6)"),
        (lambda: _encoded("GIF"), "format is not one processed as a stream"),
        (lambda: _encoded("WEBP", lossless=True), "format is not one processed as a stream"),
    ],
    ids=["rotated-jpeg", "gif", "webp"],
)
async def test_what_cannot_be_streamed_is_a_413_that_says_why(client, admin, env, make, reason):
    data = make()
    created = await put_direct(client, admin, env, data)
    response = await client.get(f"/v1/images/{created['id']}", headers=admin)
    body = assert_error_envelope(response, 413)
    assert reason in body["message"] and "MAX_UPLOAD_BYTES" in body["message"]
    assert body["details"]["maxInWorkerBytes"] == IN_WORKER_LIMIT
    # Rejected bytes are removed and the row waits again: the URL may be used once more.
    assert await status_of(env, created["id"]) == "pending"
    assert (await env.BUCKET.list(prefix="uploads/")).objects == []


def _encoded(fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    noise(200, 200, seed=3).save(buffer, fmt, **options)
    assert len(buffer.getvalue()) > IN_WORKER_LIMIT
    return buffer.getvalue()


async def test_truncated_large_jpeg_is_a_400(client, admin, env):
    data = private_jpeg()
    cut = data[: data.index(b"\xff\xd9")]  # no end-of-image marker
    created = await put_direct(client, admin, env, cut)
    response = await client.get(f"/v1/images/{created['id']}", headers=admin)
    body = assert_error_envelope(response, 400)
    assert body["message"] == "Invalid JPEG image: JPEG is truncated"
    assert await status_of(env, created["id"]) == "pending"


async def test_large_png_with_corrupt_image_data_fails_the_images_decode(client, admin, env):
    data = bytearray(private_png())
    first_idat = data.index(b"IDAT")
    data[first_idat + 100 : first_idat + 400] = bytes(300)  # zlib data no longer inflates
    created = await put_direct(client, admin, env, bytes(data))
    response = await client.get(f"/v1/images/{created['id']}", headers=admin)
    assert_error_envelope(response, 400)
    assert await bucket_images(env) == []


async def bucket_images(env) -> list[str]:
    return [o.key for o in (await env.BUCKET.list(prefix="images/")).objects]


@pytest.mark.parametrize(
    "settings_overrides", [{**STREAMED, "MAX_UPLOAD_PIXELS": "10000"}], ids=["few-pixels"]
)
async def test_pixel_limit_holds_before_any_decode(client, admin, env):
    created = await put_direct(client, admin, env, private_png())
    response = await client.get(f"/v1/images/{created['id']}", headers=admin)
    body = assert_error_envelope(response, 413)
    assert body["details"]["maxPixels"] == 10000
    assert await bucket_images(env) == []


async def test_reads_are_pinned_to_the_object_that_was_checked(env):
    await env.BUCKET.put("uploads/x", b"first bytes")
    etag = (await env.BUCKET.head("uploads/x")).etag
    assert b"".join([bytes(c) async for c in await pinned_body(env.BUCKET, "uploads/x", etag)])
    await env.BUCKET.put("uploads/x", b"replaced by the client")
    with pytest.raises(Exception) as raised:
        await pinned_body(env.BUCKET, "uploads/x", etag, 0, 4)
    assert getattr(raised.value, "status", None) == 409
