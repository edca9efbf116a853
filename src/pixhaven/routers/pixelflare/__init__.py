"""PixelFlare's API: `/v1/images` (two-step uploads), `/v1/albums`, `/v1/tags`, `/v1/keys`,
and the public CDN paths (`cdn_router`, registered last: its patterns match almost anything)."""

from pixhaven.routers.pixelflare.albums import router as albums_router
from pixhaven.routers.pixelflare.cdn import cdn_router
from pixhaven.routers.pixelflare.images import router as images_router
from pixhaven.routers.pixelflare.keys import router as keys_router

__all__ = ["albums_router", "cdn_router", "images_router", "keys_router"]
