"""Storing what the renderer made, and the answers Pictify clients read.

- Images (GIF): through the upload pipeline (type, limits, decode check, placeholder; no
  WebP/AVIF for animations) and `record_upload` with `source = "render"`, so a rendered
  image is an image like any other: listed, served at `/r2/images/…`, deletable.
- PDFs are not images: stored in R2 under a server-derived key `renders/{uuid}.pdf` and
  served at `/r2/renders/{uuid}.pdf` with `Content-Type: application/pdf`. Like image URLs,
  they are public to whoever has the (unguessable, random UUID) URL.
- Each render is a usage event (`kind = "render"`; `detail.id` is what was produced, plus
  what and how big; recorded by services/rendering/usage.py). Pictify `POST /image`
  (services/rendering/render.py) stores through here too.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from pixhaven.services.images.keys import IMMUTABLE, object_url, original_key
from pixhaven.services.images.pipeline import UploadOptions, process_upload
from pixhaven.services.images.store import NewImage, record_upload
from pixhaven.services.rendering.usage import record_usage
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.settings import Settings

PDF_CONTENT_TYPE = "application/pdf"


def pdf_key(render_id: str) -> str:
    return f"renders/{render_id}.pdf"


async def store_image_render(
    env: Env,
    settings,
    owner: str,
    key_id: str | None,
    data: bytes,
    *,
    name: str,
    base: str,
    detail: dict,
    template: str | None = None,
) -> dict:
    """Store rendered image bytes as an image; Pictify's `{url, id, createdAt, width,
    height}`."""
    processed = await process_upload(env, data, settings, UploadOptions())
    row = await record_upload(
        env,
        processed,
        NewImage(owner=owner, original_name=name, source="render", template=template),
    )
    await record_usage(env, owner, key_id, {**detail, "id": row["id"]})
    return {
        "url": object_url(base, original_key(row)),
        "id": row["id"],
        "createdAt": row["created_at"],
        "width": row["width"],
        "height": row["height"],
    }


async def store_pdf_render(
    env: Env,
    owner: str,
    key_id: str | None,
    data: bytes,
    *,
    pages: list[tuple[int, int]],
    base: str,
) -> dict:
    """Store a PDF under `renders/{uuid}.pdf`; `{url, id, createdAt, pages, width, height}`
    (width and height: the first page's canvas, in pixels; every page in `pageSizes`)."""
    render_id = str(uuid.uuid4())
    key = pdf_key(render_id)
    created = now_iso()
    await env.BUCKET.put(
        key,
        data,
        httpMetadata={"contentType": PDF_CONTENT_TYPE, "cacheControl": IMMUTABLE},
        customMetadata={"owner": owner, "pages": str(len(pages))},
    )
    await record_usage(
        env,
        owner,
        key_id,
        {"output": "pdf", "id": render_id, "pages": len(pages), "bytes": len(data)},
    )
    width, height = pages[0]
    return {
        "url": object_url(base, key),
        "id": render_id,
        "createdAt": created,
        "pages": len(pages),
        "width": width,
        "height": height,
        "pageSizes": [{"width": w, "height": h} for w, h in pages],
        # Pictify's PdfResponse names.
        "pageCount": len(pages),
        "pageSize": {"width": width, "height": height},
    }


async def store_template_render(
    env: Env,
    settings: Settings,
    owner: str,
    key_id: str | None,
    base: str,
    template: dict,
    data: bytes,
    extension: str,
) -> dict:
    """Store what the browser drew for a template (HTML or FabricJS) as an image: Pictify's
    answer, with `render.completed` emitted."""
    from pixhaven.services.jobs import webhooks

    detail = {"api": "pictify", "source": "template", "format": extension, "bytes": len(data)}
    answer = await store_image_render(
        env,
        settings,
        owner,
        key_id,
        data,
        name=f"{template['uid']}.{extension}",
        base=base,
        detail=detail,
        template=template["uid"],
    )
    answer["format"] = extension
    answer["template"] = template["uid"]
    await webhooks.emit(env, owner, "render.completed", answer)
    return answer
