"""Image component sources that are this deployment's own images, read from the bucket.

A component `src` whose origin (scheme, host, port) is `PUBLIC_BASE_URL`'s (below its path,
if it has one) or the origin the request came to is never fetched over the network
(net/fetch.py would refuse it anyway: it is usually a loopback or private address). Its path
is resolved with the public serving rules instead, and the object's bytes are read from
`env.BUCKET`:

- `/r2/{key}`: an image's original or one of its stored versions, a named variant
  (generated on a miss, like the CDN does, under the same per-client miss limit), or a
  cached `/cdn-cgi/image/` transformation that exists;
- `/{owner}/{album}/{filename}` and `/{owner}/{album}/{filename}/{variant}` (PixelFlare);
- `/{shortId}`.

Only *public* images are read (not deleted, not private, upload complete, not expired:
db/public_images.py), the same images anyone gets at that URL, whoever renders. The
caller's own private images are not: a render is often stored and served publicly (Pictify
`/image`, `/gif`, `/pdf`), which would publish a private image; and a URL means the same
thing in a card as in a browser.

Anything else on our origin — an API route (`/api/images`, `/health`), a `/cdn-cgi/image/`
URL (its output depends on the client's Accept), a rendered PDF, a malformed key — is
refused with the error a failed fetch gives (422 naming the component) and nothing is
fetched or read. An own URL that serves nothing is the same 422. URLs of other origins go
to net/fetch.py unchanged. The bytes are then checked like a data URL's
(render/sources.load_source): type, byte and pixel limits, decode check, decode budget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from pixhaven.db import public_images as public
from pixhaven.errors import ApiError
from pixhaven.interop import body_bytes
from pixhaven.services.delivery import cdn_paths, variants
from pixhaven.services.delivery.objects import check_safe, parse_key
from pixhaven.services.images.keys import (
    original_key,
    stored_key_at,
    stored_original_key,
)
from pixhaven.settings import Settings
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from fastapi import Request

    from pixhaven.bindings.env import Env


def source_error(index: int, message: str, status: int):
    from pixhaven.render.sources import source_error as error  # Pillow: only when rendering

    return error(index, message, status)


DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL without credentials, else None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


class OwnImages:
    """The renderer's `own` source reader (render/sources.OwnSource) for one request."""

    def __init__(
        self, env: Env, settings: Settings, bases: list[str], client_ip: str | None = None
    ) -> None:
        self.env = env
        self.settings = settings
        self.client_ip = client_ip
        # (origin, path prefix): a PUBLIC_BASE_URL may sit under a path (a proxy's prefix);
        # the longest prefix is tried first.
        self.bases: list[tuple[Origin, str]] = []
        for base in bases:
            origin = origin_of(base) if base else None
            if origin is not None:
                self.bases.append((origin, urlsplit(base.strip()).path.rstrip("/")))
        self.bases.sort(key=lambda pair: -len(pair[1]))

    async def __call__(self, src: str, index: int) -> bytes | None:
        origin = origin_of(src)
        prefixes = [prefix for own, prefix in self.bases if own == origin]
        if not prefixes:
            return None
        parts = urlsplit(src.strip())
        prefix = next((p for p in prefixes if parts.path.startswith(p + "/")), None)
        path = parts.path[len(prefix) :] if prefix is not None else ""
        key = await self._key(path)
        obj = await self.env.BUCKET.get(key) if key is not None else None
        if obj is None:
            raise self._refused(src, index)
        limit = self.settings.max_upload_bytes
        if obj.size > limit:
            raise source_error(index, f"image larger than {limit} bytes", 413)
        return await body_bytes(obj)

    def _refused(self, src: str, index: int):
        return source_error(
            index,
            f"cannot use {src.strip()[:200]!r}: not a public image of this server",
            422,
        )

    async def _key(self, raw: str) -> str | None:
        """The stored key of what the (still percent-encoded) path serves, or None when it serves no
        public image."""
        path = unquote(raw)
        try:
            if path.startswith("/r2/"):
                return await self._r2_key(path[len("/r2/") :], raw)
            segments = path[1:].split("/")
            if len(segments) == 1:
                row = await cdn_paths.public_by_short_id(self.env, segments[0])
                return stored_original_key(row) if row is not None else None
            if len(segments) in (3, 4):
                owner, album, filename = segments[:3]
                variant = segments[3] if len(segments) == 4 else None
                if variant is not None and variant not in variants.VARIANTS:
                    return None
                check_safe(f"{owner}/{album}/{filename}", raw)
                row = await cdn_paths.public_at_cdn_path(self.env, owner, album, filename)
                if row is None:
                    return None
                return await self._variant(row, variant) if variant else stored_original_key(row)
        except ApiError as exc:  # a malformed or unsafe path: served by nothing
            if exc.status in (400, 404):
                return None
            raise
        return None

    async def _r2_key(self, key: str, raw: str) -> str | None:
        kind, match = parse_key(key, raw)
        if kind == "render":  # a rendered PDF, never an image source
            return None
        row = await public.get_public(self.env.DB, match["id"], now_iso())
        if row is None:
            return None
        if kind == "original":
            return stored_key_at(row, key)
        name, extension = match["name"], match["ext"]
        if name in variants.VARIANTS:
            return await self._variant(row, name) if extension == row["format"] else None
        return key  # a cached /cdn-cgi/image/ transformation: read if it exists

    async def _variant(self, row: dict, name: str) -> str:
        """A named variant's key, generated now if it is not cached (one rate-limited miss,
        as on the CDN)."""
        key = variants.variant_object_key(row, name)
        if key == original_key(row):
            return stored_original_key(row)
        if await self.env.BUCKET.head(key) is not None:
            return key
        await variants.spend_miss(self.env, self.client_ip)
        return await variants.generate_variant(self.env, row, name, self.settings)


def own_images(env: Env, settings: Settings, request: Request) -> OwnImages:
    """Reads the URLs of `PUBLIC_BASE_URL` and of the origin `request` came to."""
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return OwnImages(
        env, settings, [settings.public_base_url, origin], cdn_paths.client_ip(request)
    )
