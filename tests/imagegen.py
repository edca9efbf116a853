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


def unique_jpeg(seed: int, width: int = 64, height: int = 48) -> bytes:
    """Different bytes for each seed (uploads of the same bytes are deduplicated)."""
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
