"""What Pictify's rendering routes share: the Idempotency-Key replay every POST that stores
something goes through (`idempotent_answer`), the render-and-store flow `POST /image`
and `POST /templates/{uid}/render` both answer with (`generate`), and the one the browser
routes answer with (`stored_render`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse

from pixhaven.errors import invalid
from pixhaven.routers.pictify.shapes import answer
from pixhaven.security.auth import Identity
from pixhaven.services.images.keys import base_url
from pixhaven.services.jobs import webhooks
from pixhaven.services.rendering import html, idempotency, templates
from pixhaven.services.rendering import render as generation
from pixhaven.services.rendering.own_sources import own_images
from pixhaven.settings import Settings

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env


async def idempotent_answer(
    request: Request,
    env: Env,
    identity: Identity,
    route: str,
    body: dict,
    produce: Callable[[], Awaitable[tuple[int, dict]]],
    *,
    renders: str | None = None,
    template_uid: str | None = None,
) -> JSONResponse:
    """`produce()`'s (status, body), or the stored answer to an earlier request with the same
    `Idempotency-Key` (services/rendering/idempotency.py). A render route names what it
    `renders` (image, gif, pdf): when its render fails, `render.failed` is emitted."""
    work = produce
    if renders is not None:
        kind, template = renders, template_uid or _template_of(body)

        async def work() -> tuple[int, dict]:
            try:
                return await produce()
            except Exception as exc:
                await webhooks.render_failed(env, identity.owner, kind, template, exc)
                raise

    status, stored, replayed = await idempotency.idempotent(
        env, identity.owner, request.headers.get("idempotency-key"), route, body, work
    )
    return answer(status, stored, replayed)


def _template_of(body: Any) -> str | None:
    """The template a render request names, for `render.failed` (unchecked: it may be why the
    render failed)."""
    if isinstance(body, dict):
        for key in ("templateUid", "template", "template_uid", "templateId"):
            if isinstance(body.get(key), str):
                return body[key]
    return None


# A service's `render_and_store(env, settings, owner, key_id, base, body)`: its answer.
StoreRender = Callable[["Env", Settings, str, "str | None", str, dict], Awaitable[dict]]


async def stored_render(
    request: Request,
    env: Env,
    settings: Settings,
    identity: Identity,
    route: str,
    body: Any,
    store: StoreRender,
) -> JSONResponse:
    """`201` with what `store` rendered and stored for the caller (replayed for a repeated
    Idempotency-Key); `body` must be a JSON object."""
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object", field="", as_list=True)

    async def produce():
        base = base_url(request, settings)
        return 201, await store(env, settings, identity.owner, identity.key_id, base, body)

    return await idempotent_answer(request, env, identity, route, body, produce, renders="image")


async def generate(
    request: Request,
    env: Env,
    settings: Settings,
    identity: Identity,
    body: dict,
    *,
    template_uid: str | None,
    route: str,
) -> JSONResponse:
    """Render the body's document (or the template filled with its variables) and store it:
    `201` with the stored image. HTML and FabricJS templates are drawn by the browser."""

    async def produce():
        base = base_url(request, settings)
        if template_uid is not None:
            template = await templates.get(env, identity.owner, template_uid)
            browser_render = templates.BROWSER_RENDERS.get(templates.kind_of(template))
            if browser_render is not None:
                stored = await browser_render(
                    env, settings, identity.owner, identity.key_id, base, template, body
                )
                return 201, with_results(stored, template_uid)
            document = templates.fill(template, body.get("variables"))
        else:
            document = {key: body[key] for key in templates.CANVAS_KEYS if key in body}
        document = generation.apply_size(document, body)
        stored = await generation.render_and_store(
            env,
            settings,
            identity.owner,
            identity.key_id,
            base,
            document,
            generation.media_type_of(body.get("format")),
            template_uid,
            own_images(env, settings, request),
        )
        return 201, with_results(stored, template_uid) if template_uid else stored

    return await idempotent_answer(
        request, env, identity, route, body, produce, renders="image", template_uid=template_uid
    )


def with_results(stored: dict, template_uid: str) -> dict:
    """A template render's answer with what Pictify's SDK, MCP server and n8n node read
    beside it: `results[]` (one item: this render), `templateUid`, `totalRendered`."""
    item = {
        key: stored[key]
        for key in ("url", "id", "width", "height", "format", "createdAt")
        if key in stored
    }
    return {
        **stored,
        "templateUid": template_uid,
        "results": [{"layout": "default", **item}],
        "totalRendered": 1,
    }


async def generate_from_html(
    request: Request, env: Env, settings: Settings, identity: Identity, body: dict, route: str
) -> JSONResponse:
    """Screenshot the body's `html` or `url` with the browser and store it: `201`."""
    if body.get("components") is not None or generation.template_uid_of(body):
        raise invalid(
            "Send html or url, or a component document or template, not both",
            field="html",
            explanation="html/url cannot be combined with components or a template",
            as_list=True,
        )
    return await stored_render(request, env, settings, identity, route, body, html.render_and_store)
