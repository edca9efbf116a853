"""The image URLs `/v1/images` answers beside PixelFlare's fields: `thumbnail_url` in every
resource, `versions` and `variants` in `GET /v1/images/{id}`, for browsers that show them
(the console's grid, detail and trash views).

An `<img>` cannot send a bearer token, and public serving never serves a private,
soft-deleted or expired image (services/delivery/cdn_paths.py). Those get *signed view
URLs* instead: `/v1/images/{id}/view/{name}?expires={unix}&signature={hex}`, where `name` is
`original`, `webp`, `avif` or a variant, and the signature is HMAC-SHA256 over
`"view:{id}:{name}:{expires}"` under a key derived from the upload-URL signing key (so an
upload signature is never a view signature, nor the reverse). They are handed only to the
image's owner, in authenticated answers; whoever holds one may fetch that one rendition until
it expires, like a presigned object URL. Public images keep their public (cacheable) URLs.

Expiry is rounded up to the next whole hour plus one: a URL lives 1 to 2 hours and stays the
same within each hour, so a browser's cache keeps working across list refreshes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from pixhaven.db import images as image_table
from pixhaven.db.visibility import is_public
from pixhaven.errors import ApiError
from pixhaven.numerals import is_ascii_digits
from pixhaven.services.delivery.cdn_paths import serve_variant
from pixhaven.services.delivery.objects import not_found, object_response
from pixhaven.services.delivery.variants import VARIANTS, variant_url
from pixhaven.services.images.keys import object_keys, object_url, stored_key_of, valid_image_id
from pixhaven.services.images.upload_urls import signing_key
from pixhaven.settings import Settings
from pixhaven.timeutil import iso

if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.responses import Response

    from pixhaven.bindings.env import Env

VIEW_LABEL = b"pixhaven image-view-url v1"
VIEW_WINDOW_SECONDS = 3600
VERSIONS = ("original", "webp", "avif")
THUMBNAIL = "w256"  # the grid's size: small, and never wider than the original


@lru_cache(maxsize=8)  # asked for each image of a list page; Settings are frozen, hashable
def _view_key(settings: Settings) -> bytes | None:
    """The view-URL key, or None when uploads are not configured either (no secret, no
    admin token): then non-public images simply have no view URL."""
    try:
        base_key = signing_key(settings)
    except ApiError:
        return None
    return hmac.new(base_key, VIEW_LABEL, hashlib.sha256).digest()


def _signature(key: bytes, image_id: str, name: str, expires: int) -> str:
    return hmac.new(key, f"view:{image_id}:{name}:{expires}".encode(), hashlib.sha256).hexdigest()


def expires_for(now: datetime) -> int:
    """The expiry handed out at `now`: the end of the next whole hour (1 to 2 hours away)."""
    hour = int(now.timestamp()) // VIEW_WINDOW_SECONDS
    return (hour + 2) * VIEW_WINDOW_SECONDS


def signed_view_url(
    base: str, image_id: str, name: str, settings: Settings, now: datetime
) -> str | None:
    key = _view_key(settings)
    if key is None:
        return None
    expires = expires_for(now)
    query = urlencode({"expires": expires, "signature": _signature(key, image_id, name, expires)})
    return f"{base}/v1/images/{image_id}/view/{name}?{query}"


def check_view_signature(
    settings: Settings,
    image_id: str,
    name: str,
    expires: str | None,
    given: str | None,
    now: datetime,
) -> int:
    """403 unless the signature is ours for this image, rendition and expiry, and it has not
    passed; the expiry (Unix seconds) otherwise."""
    forbidden = ApiError(
        403, "Invalid or expired view URL", code="FORBIDDEN", details={"image_id": image_id}
    )
    key = _view_key(settings)
    if key is None or not expires or not given or not is_ascii_digits(expires) or len(expires) > 12:
        raise forbidden
    expected = _signature(key, image_id, name, int(expires))
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace")):
        raise forbidden
    if int(expires) < now.astimezone(UTC).timestamp():
        raise ApiError(
            403,
            "View URL has expired",
            code="FORBIDDEN",
            details={"image_id": image_id, "expired": True},
        )
    return int(expires)


# A list page asks for each of its images at the same `now`: format it once, not 50 times.
_now_text = lru_cache(maxsize=4)(iso)


def _public(row: dict, now: datetime) -> bool:
    return is_public(row, _now_text(now))


def _loadable_urls(
    base: str,
    row: dict,
    names: list[str],
    public_url: Callable[[str], str],
    settings: Settings,
    now: datetime,
) -> dict[str, str | None]:
    """The named renditions of a ready image as URLs a browser can load: `public_url(name)`
    for a public image, a signed view URL otherwise (None without a view key)."""
    if _public(row, now):
        return {name: public_url(name) for name in names}
    return {name: signed_view_url(base, row["id"], name, settings, now) for name in names}


def variant_view_urls(
    base: str, row: dict, names: list[str], settings: Settings, now: datetime
) -> dict[str, str | None]:
    """The URLs of a ready image's named variants: what `rendition_urls`, `thumbnail_url`
    and `POST /v1/images/{id}/variants` hand out."""
    return _loadable_urls(
        base, row, names, lambda name: variant_url(base, row, name, settings), settings, now
    )


def thumbnail_url(base: str, row: dict, settings: Settings, now: datetime) -> str | None:
    """A small rendition the caller's browser can load: the public variant URL, or a signed
    one; None until the upload is complete."""
    if row["status"] != "ready":
        return None
    return variant_view_urls(base, row, [THUMBNAIL], settings, now)[THUMBNAIL]


def rendition_urls(base: str, row: dict, settings: Settings, now: datetime) -> dict:
    """`{versions: {original, webp, avif}, variants: {name: url}}` of a ready image (only the
    versions it has), public URLs for a public image, signed ones otherwise; empty maps
    while the upload is pending."""
    if row["status"] != "ready":
        return {"versions": {}, "variants": {}}
    keys = object_keys(row)
    return {
        "versions": _loadable_urls(
            base, row, list(keys), lambda version: object_url(base, keys[version]), settings, now
        ),
        "variants": variant_view_urls(base, row, list(VARIANTS), settings, now),
    }


async def serve_view(
    env: Env, request: Request, settings: Settings, image_id: str, name: str, now: datetime
) -> Response:
    """`GET /v1/images/{id}/view/{name}`: the rendition a signed view URL names, whatever
    the image's privacy, while its row exists (soft-deleted included, until the purge) and
    its upload is complete. Variants missing from the cache are generated like on the CDN
    (one rate-limited miss). Cached by the browser only (`private`), until the URL expires."""
    if not valid_image_id(image_id) or (name not in VERSIONS and name not in VARIANTS):
        raise not_found()
    expires = check_view_signature(
        settings,
        image_id,
        name,
        request.query_params.get("expires"),
        request.query_params.get("signature"),
        now,
    )
    row = await image_table.get(env.DB, image_id)
    if row is None or row["status"] != "ready":
        raise not_found()
    lifetime = max(0, expires - int(now.timestamp()))
    headers = {"Cache-Control": f"private, max-age={lifetime}"}
    if name in VARIANTS:
        return await serve_variant(env, request, row, name, settings, extra_headers=headers)
    keys = object_keys(row)
    if name not in keys:  # a version this image does not have (a GIF's webp, say)
        raise not_found()
    key = stored_key_of(row, keys[name])
    return await object_response(env, key, request, extra_headers=headers)
