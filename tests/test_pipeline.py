"""The upload pipeline against a real local env (env.IMAGES = LocalImages), over the issue's
robustness corpus, generated here with Pillow: every case is either a clear 4xx ApiError or
a correctly stored image (right size, upright, no GPS), never any other exception."""

import base64
import hashlib
import io
import struct
import time
import zlib
from dataclasses import replace

import pytest
from PIL import Image, ImageCms, ImageDraw
from PIL.PngImagePlugin import PngInfo

from pixhaven.errors import ApiError
from pixhaven.imaging.formats import read_header, sniff
from pixhaven.imaging.metadata import STRIPPERS
from pixhaven.imaging.placeholder import rgba_to_thumbhash, thumbhash_average_rgba
from pixhaven.services.images.pipeline import ProcessedImage, UploadOptions, process_upload
from pixhaven.settings import Settings

RED, BLUE, GREEN = (220, 20, 20), (20, 40, 220), (20, 200, 40)


@pytest.fixture
def settings(env):
    return Settings.from_env(env)


async def run(env, data, settings, **options):
    """Process an upload; return the ProcessedImage or the ApiError. Anything else raises."""
    try:
        return await process_upload(env, data, settings, UploadOptions(**options))
    except ApiError as exc:
        assert 400 <= exc.status < 500, exc.status
        assert exc.error and exc.code
        return exc


def encode(image, fmt, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def marked(size=(60, 40)) -> Image.Image:
    """Blue image with a red block in the top-left corner: shows where 'up' went."""
    image = Image.new("RGB", size, BLUE)
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 3, size[1] // 3), fill=RED)
    return image


def close(pixel, colour, tolerance=60):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def animated(fmt: str, colours=(RED, GREEN, BLUE), size=(48, 32)) -> bytes:
    frames = [Image.new("RGB", size, c) for c in colours]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=80, loop=0)


def average(thumbhash: str):
    return [round(255 * c) for c in thumbhash_average_rgba(base64.b64decode(thumbhash))]


# -- rejected inputs --------------------------------------------------------------------------


async def test_truncated_jpeg_is_400(env, settings):
    data = encode(marked((400, 300)), "JPEG", quality=90)
    result = await run(env, data[: len(data) // 2], settings)
    assert isinstance(result, ApiError) and result.status == 400
    assert "JPEG" in result.error and "truncated" in result.error


async def test_one_byte_file_is_415(env, settings):
    result = await run(env, b"\xff", settings)
    assert isinstance(result, ApiError)
    assert (result.status, result.code) == (415, "INVALID_FILE_TYPE")


async def test_empty_file_is_400(env, settings):
    result = await run(env, b"", settings)
    assert isinstance(result, ApiError) and result.status == 400


async def test_text_named_jpg_is_415(env, settings):
    result = await run(env, b"This is a plain text file pretending to be photo.jpg\n", settings)
    assert isinstance(result, ApiError)
    assert (result.status, result.code) == (415, "INVALID_FILE_TYPE")
    assert "JPEG, PNG, GIF, WebP and AVIF" in result.error


async def test_svg_with_script_is_415(env, settings):
    svg = (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
        b'height="10"><script>alert(document.cookie)</script><rect width="10" '
        b'height="10"/></svg>'
    )
    result = await run(env, svg, settings)
    assert isinstance(result, ApiError)
    assert (result.status, result.code) == (415, "INVALID_FILE_TYPE")
    assert "SVG" in result.error


async def test_png_claiming_50000_square_is_refused_from_its_header(env, settings):
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0))
    idat = png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
    bomb = b"\x89PNG\r\n\x1a\n" + ihdr + idat + png_chunk(b"IEND", b"")
    started = time.perf_counter()
    result = await run(env, bomb, settings)
    assert time.perf_counter() - started < 0.5  # nothing was decoded
    assert isinstance(result, ApiError)
    assert (result.status, result.code) == (413, "FILE_TOO_LARGE")
    assert "50000x50000" in result.error


async def test_gif_bomb_screen_is_refused(env, settings):
    gif = bytearray(encode(Image.new("P", (4, 4)), "GIF"))
    gif[6:10] = struct.pack("<HH", 65535, 65535)
    result = await run(env, bytes(gif), settings)
    assert isinstance(result, ApiError) and result.status == 413


async def test_byte_limit_is_413(env, settings):
    data = encode(marked((200, 200)), "PNG")
    result = await run(env, data, replace(settings, max_upload_bytes=len(data) - 1))
    assert isinstance(result, ApiError)
    assert (result.status, result.code) == (413, "FILE_TOO_LARGE")


async def test_pixel_limit_counts_every_frame(env, settings):
    data = animated("GIF", size=(100, 100))  # 3 frames of 10,000 pixels
    tight = replace(settings, max_upload_pixels=25_000)
    result = await run(env, data, tight)
    assert isinstance(result, ApiError) and result.status == 413
    assert "3 frames" in result.error
    assert isinstance(
        await run(env, data, replace(settings, max_upload_pixels=30_000)), ProcessedImage
    )


async def test_corrupt_png_crc_is_400(env, settings):
    data = bytearray(encode(marked(), "PNG"))
    data[40] ^= 0xFF  # inside the first IDAT
    result = await run(env, bytes(data), settings)
    assert isinstance(result, ApiError) and result.status == 400


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "AVIF"])
async def test_every_truncation_is_a_clear_4xx(env, settings, fmt):
    data = animated(fmt) if fmt in ("GIF", "WEBP") else encode(marked((120, 80)), fmt)
    for cut in sorted(
        {
            1,
            2,
            3,
            8,
            12,
            16,
            30,
            33,
            60,
            len(data) // 4,
            len(data) // 2,
            len(data) - 20,
            len(data) - 2,
            len(data) - 1,
        }
    ):
        result = await run(env, data[:cut], settings)
        if fmt == "GIF" and cut == len(data) - 1:
            # Every frame is complete, only the trailer byte is missing (as browsers do,
            # this is accepted); the stored original gets its trailer back.
            assert result.frame_count == 3 and result.original.endswith(b"\x3b")
            continue
        assert isinstance(result, ApiError), (fmt, cut)
        assert result.status in (400, 415), (fmt, cut, result.status)


@pytest.mark.parametrize(
    "options", [{"quality": 0}, {"quality": 101}, {"max_width": -5}, {"max_height": 20000}]
)
async def test_bad_options_are_400(env, settings, options):
    result = await run(env, encode(marked(), "PNG"), settings, **options)
    assert isinstance(result, ApiError) and result.status == 400


# -- stored correctly -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt,extension",
    [("JPEG", "jpg"), ("PNG", "png"), ("GIF", "gif"), ("WEBP", "webp"), ("AVIF", "avif")],
)
async def test_happy_path_per_format(env, settings, fmt, extension):
    image = Image.new("RGB", (320, 200), (30, 120, 200))
    data = encode(image, fmt)
    result = await run(env, data, settings)
    assert isinstance(result, ProcessedImage)
    assert (result.format, result.extension) == (fmt.lower(), extension)
    assert result.content_type == f"image/{fmt.lower()}"
    assert (result.width, result.height, result.orientation) == (320, 200, "landscape")
    assert not result.animated and result.frame_count == 1
    assert result.content_hash == hashlib.sha256(data).hexdigest()
    assert decode(result.original).size == (320, 200)
    # A version in the original's own format is not made: it would take the original's key.
    for version, name in ((result.webp, "WEBP"), (result.avif, "AVIF")):
        if name == fmt:
            assert version is None
        else:
            assert decode(version).format == name and decode(version).size == (320, 200)
    assert all(abs(a - b) < 25 for a, b in zip(average(result.placeholder), (30, 120, 200)))


async def test_portrait_orientation(env, settings):
    result = await run(env, encode(marked((40, 90)), "PNG"), settings)
    assert (result.width, result.height, result.orientation) == (40, 90, "portrait")


async def test_cmyk_jpeg_is_stored_as_rgb(env, settings):
    cmyk = Image.new("CMYK", (80, 50), (0, 230, 230, 0))  # red in ink
    result = await run(env, encode(cmyk, "JPEG", quality=92), settings)
    assert isinstance(result, ProcessedImage)
    stored = decode(result.original)
    assert stored.mode == "RGB" and stored.size == (80, 50)
    assert close(stored.getpixel((40, 25)), (255, 25, 25))
    assert decode(result.webp).size == (80, 50)


async def test_sixteen_bit_png_is_kept_losslessly(env, settings):
    row = struct.pack("<32H", *[60000] * 32) + struct.pack("<32H", *[3000] * 32)
    grey = Image.frombytes("I;16", (64, 32), row * 32)
    result = await run(env, encode(grey, "PNG"), settings)
    assert isinstance(result, ProcessedImage)
    stored = decode(result.original)
    assert stored.mode.startswith("I") and stored.getpixel((0, 0)) == 60000
    webp = decode(result.webp).convert("L")
    assert webp.getpixel((5, 16)) > 200 and webp.getpixel((60, 16)) < 40  # not clipped
    assert 90 < average(result.placeholder)[0] < 160

    rgb16 = b"".join(b"\0" + struct.pack(">HHH", 65535, 32768, 0) * 8 for _ in range(8))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 16, 2, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(rgb16))
        + png_chunk(b"IEND", b"")
    )
    result = await run(env, png, settings)
    assert isinstance(result, ProcessedImage) and result.original == png
    assert close(decode(result.webp).getpixel((4, 4)), (255, 128, 0), 10)


# Pillow's transpose that stores an upright picture so that orientation N shows it upright.
STORE_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", range(1, 9))
async def test_exif_orientation_is_applied(env, settings, orientation):
    upright = marked((60, 40))
    method = STORE_FOR_ORIENTATION[orientation]
    stored_pixels = upright.transpose(method) if method is not None else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(stored_pixels, "JPEG", quality=95, exif=exif)
    assert read_header(data, "jpeg").orientation == orientation

    result = await run(env, data, settings)
    assert isinstance(result, ProcessedImage)
    assert (result.width, result.height, result.orientation) == (60, 40, "landscape")
    for blob in (result.original, result.webp, result.avif):
        image = decode(blob).convert("RGB")
        assert image.size == (60, 40)
        assert close(image.getpixel((3, 3)), RED), orientation  # red corner top-left
        assert close(image.getpixel((56, 36)), BLUE), orientation  # blue opposite
        assert close(image.getpixel((56, 3)), BLUE), orientation
        assert image.getexif().get(0x0112, 1) == 1


async def test_png_exif_orientation_is_applied(env, settings):
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(marked((60, 40)).transpose(Image.Transpose.ROTATE_90), "PNG", exif=exif)
    result = await run(env, data, settings)
    stored = decode(result.original)
    assert stored.size == (60, 40) and close(stored.getpixel((3, 3)), RED)


def gps_exif(orientation=1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 29.0)
    gps[3], gps[4] = "E", (2.0, 17.0, 40.0)
    return exif


@pytest.mark.parametrize("orientation", [1, 6])
async def test_gps_is_removed_from_jpeg(env, settings, orientation):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(
        marked((60, 40)),
        "JPEG",
        exif=gps_exif(orientation),
        icc_profile=profile,
        comment=b"secret comment",
    )
    assert decode(data).getexif().get_ifd(0x8825)  # the upload does carry GPS

    result = await run(env, data, settings)
    assert isinstance(result, ProcessedImage)
    stored = decode(result.original)
    assert stored.getexif().get_ifd(0x8825) == {}
    assert b"PhoneMaker" not in result.original and b"secret comment" not in result.original
    if orientation == 1:  # lossless path: same coded image, ICC profile kept
        assert stored.info.get("icc_profile") == profile
        assert stored.tobytes() == decode(data).tobytes()
        assert len(result.original) < len(data)


async def test_private_metadata_removed_from_png_and_webp(env, settings):
    image = marked((40, 40))
    png_info = PngInfo()
    png_info.add_text("Comment", "secret comment")
    for fmt, extra in (
        ("PNG", {"pnginfo": png_info, "exif": gps_exif()}),
        ("WEBP", {"exif": gps_exif(), "lossless": True}),
    ):
        data = encode(image, fmt, **extra)
        result = await run(env, data, settings)
        assert isinstance(result, ProcessedImage), fmt
        stored = decode(result.original)
        assert stored.getexif().get_ifd(0x8825) == {}, fmt
        assert b"PhoneMaker" not in result.original and b"secret" not in result.original
        assert stored.convert("RGB").tobytes() == image.tobytes(), fmt  # lossless


async def test_avif_with_exif_is_reencoded_without_it(env, settings):
    data = encode(marked((60, 40)), "AVIF", exif=gps_exif())
    assert b"PhoneMaker" in data
    result = await run(env, data, settings)
    assert isinstance(result, ProcessedImage)
    assert b"PhoneMaker" not in result.original
    assert decode(result.original).getexif().get_ifd(0x8825) == {}
    assert decode(result.original).size == (60, 40)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
async def test_animated_images_keep_their_frames(env, settings, fmt):
    data = animated(fmt)
    result = await run(env, data, settings)
    assert isinstance(result, ProcessedImage)
    assert result.animated and result.frame_count == 3
    assert result.webp is None and result.avif is None
    assert (result.width, result.height) == (48, 32)
    stored = Image.open(io.BytesIO(result.original))
    assert stored.n_frames == 3
    colours = []
    for index in range(3):
        stored.seek(index)
        colours.append(stored.convert("RGB").getpixel((10, 10)))
    assert [close(c, e) for c, e in zip(colours, (RED, GREEN, BLUE))] == [True] * 3
    assert close(average(result.placeholder), RED, 50)  # the first frame


async def test_animation_can_be_flattened(env, settings):
    result = await run(env, animated("GIF"), settings, preserve_animation=False)
    assert not result.animated and result.frame_count == 1
    assert decode(result.original).size == (48, 32)
    assert getattr(decode(result.original), "n_frames", 1) == 1
    assert decode(result.webp).size == (48, 32) and decode(result.avif).size == (48, 32)


# -- conversions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options,expected",
    [
        ({}, (400, 300)),
        ({"max_width": 200}, (200, 150)),
        ({"max_height": 100}, (133, 100)),
        ({"max_width": 200, "max_height": 50}, (67, 50)),
        ({"max_width": 1000, "max_height": 1000}, (400, 300)),  # never upscaled
    ],
)
async def test_versions_honour_bounds(env, settings, options, expected):
    result = await run(env, encode(marked((400, 300)), "JPEG"), settings, **options)
    assert (result.width, result.height) == (400, 300)  # the original is not resized
    for blob, fmt in ((result.webp, "WEBP"), (result.avif, "AVIF")):
        image = decode(blob)
        assert image.format == fmt and image.size == expected
        assert close(image.convert("RGB").getpixel((2, 2)), RED)


async def test_versions_can_be_skipped_and_quality_matters(env, settings):
    data = encode(Image.effect_noise((256, 256), 60).convert("RGB"), "PNG")
    low = await run(env, data, settings, quality=10, generate_avif=False)
    high = await run(env, data, settings, quality=95, generate_avif=False)
    assert low.avif is None and high.avif is None
    assert len(low.webp) < len(high.webp)
    none = await run(env, data, settings, generate_webp=False, generate_avif=False)
    assert none.webp is None and none.avif is None and none.placeholder


# -- placeholder ------------------------------------------------------------------------------


def test_thumbhash_average_and_alpha():
    for colour in (RED, GREEN, BLUE, (128, 128, 128)):
        image = Image.new("RGBA", (30, 20), (*colour, 255))
        hashed = rgba_to_thumbhash(30, 20, image.tobytes())
        assert all(
            abs(a - b) <= 8
            for a, b in zip(
                [round(255 * c) for c in thumbhash_average_rgba(hashed)], (*colour, 255)
            )
        )
    half = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    half.paste((200, 30, 30, 255), (0, 0, 10, 20))
    hashed = rgba_to_thumbhash(20, 20, half.tobytes())
    r, g, b, a = thumbhash_average_rgba(hashed)
    assert hashed[2] >> 7 == 1 and 0.3 < a < 0.7 and r > 0.6 and g < 0.3
    # landscape/portrait bit, and the size rule
    assert rgba_to_thumbhash(100, 50, bytes(100 * 50 * 4))[4] >> 7 == 1
    assert rgba_to_thumbhash(50, 100, bytes(50 * 100 * 4))[4] >> 7 == 0
    with pytest.raises(ValueError):
        rgba_to_thumbhash(101, 10, bytes(101 * 10 * 4))


async def test_placeholder_follows_the_picture(env, settings):
    image = Image.new("RGB", (200, 100), (240, 200, 20))
    result = await run(env, encode(image, "JPEG"), settings)
    assert all(abs(a - b) < 25 for a, b in zip(average(result.placeholder), (240, 200, 20)))
    assert len(base64.b64decode(result.placeholder)) <= 25


def test_sniff_uses_magic_bytes_only():
    assert sniff(encode(marked(), "PNG")) == "png"
    assert sniff(b"GIF89a" + bytes(20)) == "gif"
    assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") is None  # HEIC


def interlaced_png(image: Image.Image) -> bytes:
    """An Adam7-interlaced RGB PNG built by hand (Pillow does not write interlaced PNGs)."""
    w, h = image.size
    pixels = image.convert("RGB").load()
    raw = bytearray()
    for x0, y0, dx, dy in (
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ):
        columns = range(x0, w, dx)
        if not columns:
            continue
        for y in range(y0, h, dy):
            raw.append(0)
            for x in columns:
                raw.extend(pixels[x, y])
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1))
        + png_chunk(b"IDAT", zlib.compress(bytes(raw)))
        + png_chunk(b"IEND", b"")
    )


async def test_interlaced_png_is_verified_and_stored(env, settings):
    image = marked((37, 23))  # odd sizes: some Adam7 passes are narrow
    data = interlaced_png(image)
    assert decode(data).convert("RGB").tobytes() == image.tobytes()
    result = await run(env, data, settings)
    assert isinstance(result, ProcessedImage) and result.original == data
    assert close(decode(result.webp).convert("RGB").getpixel((2, 2)), RED)
    short = data[:-40] + data[-12:]  # image data cut short, chunk structure still valid
    short = short[:33] + png_chunk(b"IDAT", zlib.compress(bytes(200))) + png_chunk(b"IEND", b"")
    result = await run(env, short, settings)
    assert isinstance(result, ApiError) and result.status == 400


async def test_apng_is_animated(env, settings):
    frames = [Image.new("RGB", (30, 20), c) for c in (RED, GREEN)]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    result = await run(env, data, settings)
    assert result.animated and result.frame_count == 2 and result.webp is None
    assert Image.open(io.BytesIO(result.original)).n_frames == 2


async def test_panorama_versions_stay_within_output_limits(env, settings):
    data = encode(Image.new("RGB", (16500, 20), GREEN), "JPEG")
    result = await run(env, data, settings, generate_avif=False)
    assert (result.width, result.height) == (16500, 20)
    assert decode(result.webp).size[0] == 12000


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_an_image_with_nothing_to_strip_is_stored_without_a_copy(fmt):
    """The stored original of a clean upload is the uploaded bytes object itself: on a
    Worker (128 MB) a second copy of a large upload is what the memory budget cannot pay.
    One with private metadata is rebuilt without it, its image data unchanged."""
    data = encode(marked((40, 30)), fmt)
    assert STRIPPERS[fmt.lower()](data) is data
    tagged = encode(marked((40, 30)), fmt, **({} if fmt == "GIF" else {"exif": gps_exif()}))
    if fmt == "GIF":  # a comment extension before the trailer
        tagged = tagged[:-1] + b"\x21\xfe\x06secret\x00\x3b"
    stripped = STRIPPERS[fmt.lower()](tagged)
    assert stripped is not tagged and len(stripped) < len(tagged)
    assert b"PhoneMaker" not in stripped and b"secret" not in stripped
    assert decode(stripped).convert("RGB").tobytes() == decode(tagged).convert("RGB").tobytes()


async def test_a_large_upload_makes_room_among_cached_font_faces(env, settings):
    """Processing holds about twice the upload: before it starts, cached font faces are
    dropped, least recently used first, until the upload's share fits beside the rest of
    the font budget (on a Worker a CJK face kept beside a 15 MB upload passed 110 MB)."""
    from pixhaven.render.fonts import LIBRARY

    LIBRARY.clear()
    regular = await LIBRARY.face(env, "Inter", 400, False)
    bold = await LIBRARY.face(env, "Inter", 700, False)
    held = len(regular.data) + len(bold.data)
    small = encode(marked((40, 30)), "PNG")
    await run(env, small, settings)
    # A small upload leaves them be (each lookup makes its face the most recently used).
    assert LIBRARY.cached(bold.key) is bold and LIBRARY.cached(regular.key) is regular
    LIBRARY.make_room(LIBRARY.budget - held + len(bold.data))
    assert LIBRARY.cached(bold.key) is None  # the least recently used one went
    assert LIBRARY.cached(regular.key) is regular
    LIBRARY.make_room(LIBRARY.budget)
    assert LIBRARY.cached(regular.key) is None
