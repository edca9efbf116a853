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
from pixhaven.services.rendering import html, idempotency, template_render, templates
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
        kind, template = renders, template_uid or template_of(body)

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


def template_of(body: Any) -> str | None:
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
    """`200` with what `store` rendered and stored for the caller (replayed for a repeated
    Idempotency-Key); `body` must be a JSON object."""
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object", field="", as_list=True)

    async def produce():
        base = base_url(request, settings)
        return 200, await store(env, settings, identity.owner, identity.key_id, base, body)

    return await idempotent_answer(request, env, identity, route, body, produce, renders="image")


def renderer_of(request: Request, env: Env, settings: Settings, identity: Identity):
    """Who renders for this request and where its answers point."""
    return template_render.Renderer(
        env,
        settings,
        identity.owner,
        identity.key_id,
        base_url(request, settings),
        own_images(env, settings, request),
    )


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
    """Render the body's component document, or the template filled with its variables
    (services/rendering/template_render.py: formats, layouts, PDF), and store it: `200`."""

    async def produce():
        renderer = renderer_of(request, env, settings, identity)
        if template_uid is not None:
            template = await templates.get(env, identity.owner, template_uid)
            return 200, await template_render.render(renderer, template, body)
        document = {key: body[key] for key in templates.CANVAS_KEYS if key in body}
        fmt = body.get("format") if body.get("format") is not None else body.get("fileExtension")
        stored = await generation.render_and_store(
            env,
            settings,
            identity.owner,
            identity.key_id,
            renderer.base,
            generation.apply_size(document, body),
            generation.media_type_of(fmt),
            None,
            renderer.own,
        )
        return 200, stored

    return await idempotent_answer(
        request, env, identity, route, body, produce, renders="image", template_uid=template_uid
    )


async def generate_from_html(
    request: Request, env: Env, settings: Settings, identity: Identity, body: dict, route: str
) -> JSONResponse:
    """Screenshot the body's `html` or `url` with the browser and store it: `200`."""
    if body.get("components") is not None or generation.template_uid_of(body):
        raise invalid(
            "Send html or url, or a component document or template, not both",
            field="html",
            explanation="html/url cannot be combined with components or a template",
            as_list=True,
        )
    return await stored_render(request, env, settings, identity, route, body, html.render_and_store)
