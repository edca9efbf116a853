"""What the public serving routes do: resolve a path to a *public* image and an object key,
then serve it (services/delivery/objects.py), generating variants on a miss
(services/delivery/variants.py).

Routes served: `/r2/{key}` (CattoPic), the PixelFlare CDN paths `/{owner}/{album}/{filename}`,
`/{owner}/{album}/{filename}/{variant}` and `/{shortId}`, and `/cdn-cgi/image/{options}/{source}`.
Private, deleted, expired and unfinished images are never served: every lookup goes through
db/public_images.py, whose queries carry the full visibility rule.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response

from pixhaven.db import albums as album_table
from pixhaven.db import images as image_table
from pixhaven.db import public_images as public
from pixhaven.errors import ApiError, invalid
from pixhaven.services.delivery import variants
from pixhaven.services.delivery.objects import check_safe, not_found, object_response, parse_key
from pixhaven.services.images.keys import (
    NAME_EXTENSIONS,
    NO_ALBUM_SLUG,
    not_found_error,
    object_keys,
    original_key,
    stored_key_at,
    stored_original_key,
    valid_image_id,
    variant_key,
)
from pixhaven.services.jobs.queue import enqueue
from pixhaven.settings import Settings
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

# First path segments that belong to the API or to the console's static assets (console/:
# its folders), never an owner in a CDN path, so a typo under an API prefix is a 404 and
# never an image lookup, and no image path is hidden behind a console file.
RESERVED_PREFIXES = frozenset(
    {
        "api",
        "v1",
        "r2",
        "health",
        "docs",
        "openapi.json",
        "redoc",
        "cdn-cgi",
        "image",
        "gif",
        "pdf",
        "templates",
        "webhook-subscriptions",
        "bindings",
        "views",
        "vendor",
    }
)
SHORT_ID = re.compile(r"[A-Za-z0-9]{4,32}")
SEGMENT = re.compile(r"[A-Za-z0-9._@-]{1,200}")


def client_ip(request: Request) -> str | None:
    # On Cloudflare the middleware puts CF-Connecting-IP here; locally it is the socket.
    return request.client.host if request.client else None


def _raw_path(request: Request) -> str:
    return request.scope.get("raw_path", b"").decode("latin-1")


async def serve_variant(
    env: Env,
    request: Request,
    row: dict,
    variant: str,
    settings: Settings,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """A named variant: from the R2 cache, or generated now (one rate-limited miss)."""
    key = variants.variant_object_key(row, variant)
    if key == original_key(row):
        return await object_response(
            env, stored_original_key(row), request, extra_headers=extra_headers
        )

    async def miss() -> bool:
        await variants.spend_miss(env, client_ip(request))
        await variants.generate_variant(env, row, variant, settings)
        return True

    return await object_response(env, key, request, on_missing=miss, extra_headers=extra_headers)


async def serve_r2(env: Env, request: Request, path: str, settings: Settings) -> Response:
    kind, match = parse_key(path, _raw_path(request))
    if kind == "render":  # a rendered PDF: public by its unguessable key, no image row
        return await object_response(env, path, request)
    row = await public.get_public(env.DB, match["id"], now_iso())
    if row is None:
        raise not_found()
    if kind == "original":
        # The image's own address, read where its bytes are (shared or not).
        stored = stored_key_at(row, path)
        if stored is None:
            raise not_found()
        return await object_response(env, stored, request)
    name, extension = match["name"], match["ext"]
    if name in variants.VARIANTS:
        if extension != row["format"]:
            raise not_found()
        return await serve_variant(env, request, row, name, settings)
    # A cached /cdn-cgi/image/ transformation: served if it exists, never generated here
    # (its options are only known from the /cdn-cgi/image/ URL).
    return await object_response(env, path, request)


def _is_reserved(segment: str) -> bool:
    return segment.lower() in RESERVED_PREFIXES


async def serve_cdn_path(
    env: Env,
    request: Request,
    owner: str,
    album: str,
    filename: str,
    variant: str | None,
    settings: Settings,
) -> Response:
    if _is_reserved(owner) or not all(SEGMENT.fullmatch(s) for s in (owner, album, filename)):
        raise not_found()
    check_safe(f"{owner}/{album}/{filename}", _raw_path(request))
    if variant is not None and variant not in variants.VARIANTS:
        raise not_found()
    row = await public_at_cdn_path(env, owner, album, filename)
    if row is None:
        raise not_found()
    if variant is None:
        return await object_response(env, stored_original_key(row), request)
    return await serve_variant(env, request, row, variant, settings)


async def public_at_cdn_path(env: Env, owner: str, album: str, filename: str) -> dict | None:
    """The public image at `/{owner}/{album}/{filename}`, or None (also for a reserved or
    malformed path: never an image lookup)."""
    if _is_reserved(owner) or not all(SEGMENT.fullmatch(s) for s in (owner, album, filename)):
        return None
    album_id = None
    if album != NO_ALBUM_SLUG:
        found = await album_table.get_by_slug(env.DB, owner, album)
        if found is None:
            return None
        album_id = found["id"]
    # `.../photos/photo` (PixelFlare's own example) names the file without its extension.
    names = [filename]
    if filename.rsplit(".", 1)[-1].lower() not in NAME_EXTENSIONS or "." not in filename:
        names += [f"{filename}.{extension}" for extension in NAME_EXTENSIONS]
    return await public.get_public_by_path(env.DB, owner, album_id, names, now_iso())


async def public_by_short_id(env: Env, short_id: str) -> dict | None:
    """The public image `/{shortId}` names, or None (also for a reserved or malformed id)."""
    if _is_reserved(short_id) or not SHORT_ID.fullmatch(short_id):
        return None
    return await public.get_public_by_short_id(env.DB, short_id, now_iso())


async def serve_short_id(env: Env, request: Request, short_id: str) -> Response:
    row = await public_by_short_id(env, short_id)
    if row is None:
        raise not_found()
    return await object_response(env, stored_original_key(row), request)


def _source_key(source: str, request: Request) -> str:
    """The R2 key named by a /cdn-cgi/image/ source: a path `/r2/images/...` (leading slash
    optional) or an absolute URL of this same host."""
    if source.startswith(("http://", "https://", "http:/", "https:/")):
        source = source.replace(":/", "://", 1) if "://" not in source else source
        parts = urlsplit(source)
        if parts.netloc != request.url.netloc:
            raise not_found()
        source = parts.path
    source = source.lstrip("/")
    if not source.startswith("r2/"):
        raise not_found()
    return source[len("r2/") :]


async def serve_transformation(
    env: Env, request: Request, options: str, source: str, settings: Settings
) -> Response:
    key = _source_key(source, request)
    kind, match = parse_key(key, _raw_path(request))
    if kind != "original":
        raise not_found()
    row = await public.get_public(env.DB, match["id"], now_iso())
    # Any stored version of the image names it (CattoPic's app transforms the `.webp` URL
    # for its gallery thumbnails); the transformation is always made from the original.
    if row is None or key not in object_keys(row).values():
        raise not_found()
    spec = variants.parse_transformation(options, row, request.headers.get("accept"))
    cached = variant_key(row, spec.cache_name, spec.extension)
    extra = {"Vary": "Accept"} if spec.negotiated else None

    async def miss() -> bool:
        await variants.spend_miss(env, client_ip(request))
        await variants.generate_transformation(env, row, spec, cached, settings)
        return True

    return await object_response(env, cached, request, on_missing=miss, extra_headers=extra)


class QueuedVariants(NamedTuple):
    """What `POST /v1/images/{id}/variants` answers with (routers/pixelflare/shapes.py)."""

    row: dict
    tags: list[str]
    album_slug: str | None
    names: list[str]


async def request_variants(env: Env, owner: str, image_id: str, names: list[str]) -> QueuedVariants:
    """`POST /v1/images/{id}/variants`: queue generation of the named variants."""
    if not valid_image_id(image_id):
        raise invalid("Invalid image ID", image_id=image_id)
    row = await image_table.get_for_owner(env.DB, image_id, owner)
    if row is None or row["deleted_at"] is not None:
        raise not_found_error(image_id)
    unknown = variants.unknown_variants(names)
    if unknown or not names:
        raise ApiError(
            400,
            "Unknown variant(s): " + ", ".join(unknown) if unknown else "No variants requested",
            code="INVALID_REQUEST",
            details={"unknown": unknown, "available": list(variants.VARIANTS)},
        )
    if row["status"] != "ready":
        raise ApiError(
            409,
            "Image upload is not complete",
            code="CONFLICT",
            details={"image_id": image_id, "status": row["status"]},
        )
    names = list(dict.fromkeys(names))
    await enqueue(env, "variants.generate", {"image_id": image_id, "variants": names}, owner=owner)
    tags = (await image_table.tags_for(env.DB, [image_id]))[image_id]
    album = await album_table.get(env.DB, row["album_id"]) if row["album_id"] else None
    return QueuedVariants(row, tags, album["slug"] if album else None, names)
