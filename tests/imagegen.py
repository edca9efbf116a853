"""Real images for tests, made with Pillow, and a helper to upload them like a client."""

import io

from PIL import Image


def image_bytes(
    width: int = 64,
    height: int = 48,
    fmt: str = "JPEG",
    color: tuple[int, int, int] = (200, 40, 40),
    **save_options,
) -> bytes:
    """A solid image with a differently coloured top-left quadrant (so orientation and
    cropping are visible), encoded in `fmt`."""
    image = Image.new("RGB", (width, height), color)
    corner = Image.new("RGB", (max(1, width // 2), max(1, height // 2)), (20, 20, 220))
    image.paste(corner, (0, 0))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save_options)
    return buffer.getvalue()


def pixels(image: Image.Image) -> list:
    """Every pixel of `image`, row by row: ints for one band, tuples for more.

    Pillow 12 added `get_flattened_data()` and deprecated `getdata()`; production's Pillow
    11.3 (constraints/production.txt) has only `getdata()`, and the suite runs on both."""
    flattened = getattr(image, "get_flattened_data", None)
    return list(flattened() if flattened is not None else image.getdata())


def unique_jpeg(seed: int, width: int = 64, height: int = 48) -> bytes:
    """Different bytes for each seed (uploads of the same bytes share their objects)."""
    return image_bytes(width, height, "JPEG", color=(seed * 37 % 256, seed * 91 % 256, 128))


def animated_gif(frames: int = 3, width: int = 32, height: int = 32) -> bytes:
    images = [Image.new("RGB", (width, height), (i * 80 % 256, 100, 200)) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return buffer.getvalue()


async def upload(
    client,
    headers: dict,
    data: bytes,
    filename: str = "photo.jpg",
    tags: str | None = None,
    expiry_minutes: int | None = None,
    field: str = "image",
    **extra_fields,
):
    """POST /api/upload/single as CattoPic's frontend does; returns the httpx response."""
    fields = {}
    if tags is not None:
        fields["tags"] = tags
    if expiry_minutes is not None:
        fields["expiryMinutes"] = str(expiry_minutes)
    fields.update({key: str(value) for key, value in extra_fields.items()})
    return await client.post(
        "/api/upload/single",
        headers=headers,
        data=fields,
        files={field: (filename, data, "application/octet-stream")},
    )


# -- images that cost memory: the cases of the bounded-memory issue ---------------------------


def lying_jpeg(width: int = 9000, height: int = 9000, progressive: bool = False) -> bytes:
    """A real 120x80 JPEG whose frame header (SOF) claims width x height."""
    import struct

    data = image_bytes(120, 80, "JPEG", quality=75, progressive=progressive)
    at = data.index(b"\xff\xc2" if progressive else b"\xff\xc0")
    return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]


def lying_avif(width: int = 9000, height: int = 9000) -> bytes:
    """A real 8x8 AVIF whose image size property (ispe) claims width x height."""
    import struct

    data = image_bytes(8, 8, "AVIF", quality=50)
    at = data.index(b"ispe") + 8  # past the box type and the FullBox version/flags
    return data[:at] + struct.pack(">II", width, height) + data[at + 8 :]


def zero_png(width: int = 10000, height: int = 10000) -> bytes:
    """A legal all-black RGB PNG of any size, made row by row (10000x10000 is 292 KB)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + 3 * width)  # filter type 0, then the row's zero samples
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def progressive_jpeg(width: int, height: int) -> bytes:
    """A progressive JPEG with some detail (a gradient with a noise band)."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, max(1, height // 8)), 40)
    gradient.paste(noise, (0, height // 2))
    buffer = io.BytesIO()
    Image.merge(
        "RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient)
    ).save(buffer, "JPEG", quality=80, progressive=True)
    return buffer.getvalue()
