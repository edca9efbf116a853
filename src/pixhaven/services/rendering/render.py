"""Pictify generation: render a component document (given, or a template filled with
variables) and store the result, answering `{url, id, createdAt, width, height, format}`.

- Raster formats (png, jpeg, webp, avif) become an *image* (`source = "render"`, `template`
  = the template uid): they take the upload pipeline (services/images/pipeline) and
  `record_upload`, so they get WebP/AVIF versions and a placeholder and appear in
  `/api/images` and `/v1/images` like any image. Rendering the same pixels twice makes two
  images that share their stored objects (as identical uploads do).
- `svg` is never stored as an image (SPEC §3): it is kept as a download-only object under
  `renders/{id}.svg` and served by `GET /image/renders/{id}.svg` with
  `Content-Type: image/svg+xml`, `Content-Security-Policy: default-src 'none'`,
  `Content-Disposition: attachment` and `nosniff`. Our SVGs carry no script (text is
  glyph paths), the headers make sure a browser never runs one anyway.
- Every render records a usage event (kind `render`) and emits the webhook event
  `render.completed` (services/jobs/webhooks) with the answer as its data.
- `Idempotency-Key`: the first answer for (owner, key) is kept for 24 hours and replayed for
  the same request (route + body); the same key with a different request is a 422, a
  request while the first is still running a 409 (after 5 minutes without an answer the
  first is taken for dead and the key is free again). Failed requests release their key
  so they can be retried.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pixhaven.errors import ApiError
from pixhaven.render.document import DocumentError, validate_document
from pixhaven.services.delivery.objects import object_response
from pixhaven.services.jobs import webhooks
from pixhaven.services.rendering.store import store_image_render
from pixhaven.services.rendering.usage import record_usage
from pixhaven.settings import Settings
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from pixhaven.bindings.env import Env
    from pixhaven.render.layout import SourceRules
    from pixhaven.render.sources import OwnSource

FORMATS = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "avif": "image/avif",
    "svg": "image/svg+xml",
}
EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/svg+xml": "svg",
}
SVG_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Content-Disposition": 'attachment; filename="render.svg"',
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=31536000, immutable",
}
HTML_INPUTS = ("html", "url")


def media_type_of(fmt: Any) -> str:
    if fmt is None:
        return "image/png"
    if not isinstance(fmt, str) or fmt.strip().lower() not in FORMATS:
        raise ApiError(
            400,
            "format must be one of png, jpeg, webp, avif, svg",
            details={
                "errors": [{"field": "format", "message": "png, jpeg, webp, avif or svg"}],
                "supported": ["png", "jpeg", "webp", "avif", "svg"],
            },
        )
    return FORMATS[fmt.strip().lower()]


def apply_size(document: dict, body: dict) -> dict:
    """`width`/`height` of the request override the document's canvas."""
    for key in ("width", "height"):
        if body.get(key) is not None:
            document = {**document, key: body[key]}
    return document


def template_uid_of(body: dict) -> str | None:
    for key in ("template", "templateUid", "template_uid", "templateId"):
        value = body.get(key)
        if value is not None:
            if not isinstance(value, str) or not value.strip():
                raise ApiError(
                    400,
                    f"{key} must be a template uid",
                    details={"errors": [{"field": key, "message": "a template uid"}]},
                )
            return value.strip()
    return None


async def render_document(
    env: Env, settings: Settings, raw: Any, media_type: str, own: OwnSource | None = None
) -> tuple:
    """Validate and render; (bytes, width, height). Errors are ApiError with the document's
    own messages (component index and field). `own` reads image sources that are this
    deployment's own images (services/rendering/own_sources.py)."""
    from pixhaven.render.engine import render

    with render_errors():
        document = validate_document(raw, settings.max_components)
        content = await render(
            env,
            document,
            media_type,
            quality=settings.image_quality,
            sources=source_rules(settings, own),
        )
    return content, document.width, document.height


def source_rules(settings: Settings, own: OwnSource | None = None) -> SourceRules:
    """What image sources may cost in every render: an upload's byte and pixel limits, the
    process's decode budget, and `own` for this deployment's own image URLs."""
    from pixhaven.render.layout import SourceRules

    return SourceRules(
        max_image_bytes=settings.max_upload_bytes,
        max_image_pixels=settings.max_upload_pixels,
        max_decoded_pixels=settings.max_decoded_pixels,
        decode_wait_seconds=settings.decode_wait_seconds,
        own=own,
    )


@contextmanager
def render_errors():
    """The renderer's own failures as API errors: an invalid document is its 4xx with the
    component index and field; missing fonts a 503 saying how to install them."""
    from pixhaven.render.fonts import FontsNotInstalled

    try:
        yield
    except DocumentError as exc:
        raise ApiError(exc.status, exc.message, details=exc.details) from None
    except FontsNotInstalled as exc:
        raise ApiError(
            503,
            "Fonts are not installed in the bucket: run `pixhaven fonts install` (see README)",
            code="FONTS_NOT_INSTALLED",
            details={"missing": exc.key, "reason": exc.reason},
        ) from None


async def render_and_store(
    env: Env,
    settings: Settings,
    owner: str,
    key_id: str | None,
    base: str,
    raw_document: Any,
    media_type: str,
    template_uid: str | None = None,
    own: OwnSource | None = None,
) -> dict:
    content, width, height = await render_document(env, settings, raw_document, media_type, own)
    extension = EXTENSIONS[media_type]
    detail = {
        "api": "pictify",
        "format": extension,
        "width": width,
        "height": height,
        "template": template_uid,
        "bytes": len(content),
    }
    if media_type == "image/svg+xml":
        render_id = str(uuid.uuid4())
        created_at = now_iso()
        await env.BUCKET.put(
            svg_key(render_id),
            content,
            httpMetadata={"contentType": "image/svg+xml", "contentDisposition": "attachment"},
            customMetadata={"owner": owner, "template": template_uid or ""},
        )
        answer = {
            "url": f"{base}/image/renders/{render_id}.svg",
            "id": render_id,
            "createdAt": created_at,
            "width": width,
            "height": height,
        }
        await record_usage(env, owner, key_id, {**detail, "id": render_id})
    else:
        answer = await store_image_render(
            env,
            settings,
            owner,
            key_id,
            content,
            name=f"{template_uid or 'render'}.{extension}",
            base=base,
            detail=detail,
            template=template_uid,
        )
    answer["format"] = extension
    if template_uid:
        answer["template"] = template_uid
    await webhooks.emit(env, owner, "render.completed", answer)
    return answer


def svg_key(render_id: str) -> str:
    return f"renders/{render_id}.svg"


async def serve_svg(env: Env, render_id: str, request: Request) -> Response:
    """A stored SVG render as a download, streamed from R2 with the object semantics of
    every served file (ETag/304, Range, HEAD); 404 when there is no such render."""
    try:
        render_id = str(uuid.UUID(render_id))
    except ValueError:
        raise ApiError(404, "Render not found") from None
    return await object_response(env, svg_key(render_id), request, extra_headers=SVG_HEADERS)
