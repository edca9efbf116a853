"""The pure-Python PNG decoder of the placeholder (imaging/png_pixels.py), held to Pillow:
real PNGs made with Pillow in every mode it writes (and, for what Pillow does not write,
Adam7 interlacing and each row filter, PNGs encoded here by the book) decode to the RGBA
Pillow decodes them to."""

import base64
import io
import random
import struct
import zlib

import pytest
from PIL import Image

from pixhaven.imaging.containers import FormatError
from pixhaven.imaging.placeholder import rgba_to_thumbhash, thumbhash_from_png
from pixhaven.imaging.png_pixels import png_rgba
from pixhaven.imaging.verify import ADAM7


def noise(mode: str, size=(37, 23), seed: int = 1) -> Image.Image:
    """Random pixels in `mode` (bad for compression, good for every filter and value)."""
    rng = random.Random(seed)
    bands = len(Image.new(mode, (1, 1)).getbands())
    raw = bytes(rng.randrange(256) for _ in range(size[0] * size[1] * bands))
    return Image.frombytes(mode, size, raw)


def save_png(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def pillow_rgba(data: bytes) -> tuple[int, int, bytes]:
    with Image.open(io.BytesIO(data)) as image:
        rgba = image.convert("RGBA")
        return rgba.width, rgba.height, rgba.tobytes()


def palette_image(colours: int, seed: int = 2) -> Image.Image:
    rng = random.Random(seed)
    image = Image.frombytes("P", (29, 31), bytes(rng.randrange(colours) for _ in range(29 * 31)))
    image.putpalette([rng.randrange(256) for _ in range(3 * colours)])
    return image


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA"])
def test_every_8_bit_mode_decodes_as_pillow_does(mode):
    data = save_png(noise(mode))
    assert png_rgba(data) == pillow_rgba(data)


@pytest.mark.parametrize("colours,bits", [(256, 8), (16, 4), (4, 2), (2, 1)])
def test_palette_images_at_every_depth(colours, bits):
    data = save_png(palette_image(colours), bits=bits)
    assert data[24] == bits  # IHDR bit depth: the depth asked for was written
    assert png_rgba(data) == pillow_rgba(data)


def test_palette_transparency_per_entry():
    image = palette_image(8)
    data = save_png(image, transparency=bytes([0, 64, 128, 255, 10, 0, 200, 255]))
    width, height, rgba = png_rgba(data)
    assert (width, height, rgba) == pillow_rgba(data)
    assert {rgba[i] for i in range(3, len(rgba), 4)} >= {0, 64, 128, 255}


def test_colour_key_transparency_for_grey_and_rgb():
    grey = save_png(noise("L"), transparency=17)
    assert png_rgba(grey) == pillow_rgba(grey)
    rgb_image = Image.new("RGB", (10, 10), (1, 2, 3))
    rgb_image.paste((200, 100, 50), (0, 0, 5, 5))
    rgb = save_png(rgb_image, transparency=(1, 2, 3))
    width, height, rgba = png_rgba(rgb)
    assert (width, height, rgba) == pillow_rgba(rgb)
    assert rgba[:4] == bytes([200, 100, 50, 255]) and rgba[-4:] == bytes([1, 2, 3, 0])


def test_one_bit_grey():
    data = save_png(noise("L").convert("1"))
    assert png_rgba(data) == pillow_rgba(data)


def test_sixteen_bit_grey_keeps_the_high_byte():
    values = [0, 255, 256, 4660, 65535, 32768]
    image = Image.new("I;16", (len(values), 1))
    image.putdata(values)
    data = save_png(image)
    assert data[24] == 16
    _, _, rgba = png_rgba(data)
    assert list(rgba[::4]) == [v >> 8 for v in values]
    assert set(rgba[3::4]) == {255}


# -- PNGs written by the book: Adam7 and each row filter --------------------------------------


def filtered(row: bytes, previous: bytes, kind: int, left: int) -> bytes:
    """`row` with PNG filter `kind` applied (the inverse of what the decoder undoes)."""
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - left] if i >= left else 0
        b = previous[i]
        c = previous[i - left] if i >= left else 0
        if kind == 0:
            predictor = 0
        elif kind == 1:
            predictor = a
        elif kind == 2:
            predictor = b
        elif kind == 3:
            predictor = (a + b) >> 1
        else:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out.append((x - predictor) & 0xFF)
    return bytes([kind]) + bytes(out)


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def rgba_png(image: Image.Image, interlaced: bool) -> bytes:
    """An 8-bit RGBA PNG of `image`, rows filtered with types 0-4 in turn."""
    width, height = image.size
    pixels = image.convert("RGBA").tobytes()
    steps = ADAM7 if interlaced else ((0, 0, 1, 1),)
    stream = bytearray()
    row_number = 0
    for x0, y0, dx, dy in steps:
        columns = range(x0, width, dx)
        previous = bytes(4 * len(columns))
        if not len(columns):
            continue
        for y in range(y0, height, dy):
            row = b"".join(pixels[(y * width + x) * 4 : (y * width + x) * 4 + 4] for x in columns)
            stream += filtered(row, previous, row_number % 5, 4)
            previous = row
            row_number += 1
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, int(interlaced))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(stream)))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("interlaced", [False, True])
@pytest.mark.parametrize("size", [(37, 23), (1, 1), (3, 9), (100, 100)])
def test_every_row_filter_and_adam7(interlaced, size):
    data = rgba_png(noise("RGBA", size, seed=size[0]), interlaced)
    assert pillow_rgba(data) == png_rgba(data)


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(101, 1), (1, 101), (160, 120)])
def test_larger_than_the_placeholder_is_refused_before_inflating(size):
    data = save_png(Image.new("RGB", size))
    with pytest.raises(FormatError, match="at most 100x100"):
        png_rgba(data)
    with pytest.raises(FormatError):
        thumbhash_from_png(data)
    assert png_rgba(data, max_side=max(size))[:2] == size


def test_malformed_pngs_are_format_errors():
    good = save_png(noise("RGB"))
    idat = good.index(b"IDAT") - 4
    length = struct.unpack(">I", good[idat : idat + 4])[0]
    body = zlib.decompress(good[idat + 8 : idat + 8 + length])
    bad_filter = bytes([7]) + body[1:]
    short = body[: len(body) // 2]
    for broken in (
        b"GIF89a" + good[6:],  # not a PNG
        good[:40],  # truncated inside a chunk
        good[:idat] + chunk(b"IDAT", zlib.compress(bad_filter)) + chunk(b"IEND", b""),
        good[:idat] + chunk(b"IDAT", zlib.compress(short)) + chunk(b"IEND", b""),
        good[:idat] + chunk(b"IDAT", b"not zlib at all") + chunk(b"IEND", b""),
    ):
        with pytest.raises(FormatError):
            png_rgba(broken)


def test_the_placeholder_hash_is_the_one_of_pillows_pixels():
    for image in (noise("RGB", (100, 60)), noise("RGBA", (40, 100)), palette_image(16)):
        data = save_png(image)
        width, height, rgba = pillow_rgba(data)
        expected = rgba_to_thumbhash(width, height, rgba)
        assert base64.b64decode(thumbhash_from_png(data)) == expected
