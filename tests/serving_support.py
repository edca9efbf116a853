"""Helpers shared by the random, serving and variant tests: publish images like a client."""

import io

from PIL import Image

from tests.imagegen import upload


async def publish(client, admin, data: bytes, filename: str = "photo.jpg", **fields) -> dict:
    """Upload through POST /api/upload/single; returns CattoPic's `result`."""
    response = await upload(client, admin, data, filename=filename, **fields)
    assert response.status_code == 200, response.text
    return response.json()["result"]


async def set_column(env, image_id: str, column: str, value) -> None:
    """For states no public endpoint of this feature makes (private, expired, rand)."""
    assert column in ("is_private", "expires_at", "rand", "status")
    await env.DB.prepare(f"UPDATE images SET {column} = ? WHERE id = ?").bind(value, image_id).run()


def decoded_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def key_of(url: str) -> str:
    """The R2 key in an absolute /r2/ URL."""
    return url.split("/r2/", 1)[1]
