"""Pictify generation: `POST /image` (`html` or `url` through the browser binding, a
component document, or a template uid with variables), `POST /image/canvas` (FabricJS,
services/rendering/canvas.py) and `POST /image/agent-screenshot` (a prompt, an instruction
model, a screenshot: services/rendering/agent.py).

Answer: `200` with `{url, id, createdAt, width, height, format}`, the status Pictify's
official OpenAPI declares for every render route (its prose lists 201 too, its clients take
any 2xx).
Scope `render`. Logic lives in services/rendering/render.py (documents) and
services/rendering/html.py (html/url); the render-and-store flow this shares with
`POST /templates/{uid}/render` in routers/pictify/rendering.py.
"""

from fastapi import APIRouter, Request, Response

from pixhaven.errors import invalid
from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.pictify import IDEMPOTENCY_KEY, AgentScreenshotBody, CanvasBody
from pixhaven.routers.pictify.rendering import generate, generate_from_html, stored_render
from pixhaven.routers.pictify.shapes import ANSWER, GENERATE_BODY
from pixhaven.routers.requests import (
    FIELD_LIST_BODY_ERRORS,
    CanRender,
    EnvDep,
    SettingsDep,
    read_json,
)
from pixhaven.services.rendering import agent, canvas
from pixhaven.services.rendering import render as generation

router = APIRouter(tags=["Pictify"], responses=ERROR_RESPONSES)


@router.post(
    "/image",
    summary="Generate an image (Pictify)",
    status_code=200,
    responses={
        **ANSWER,
        **errors(
            413,
            422,
            502,
            503,
            504,
            e413="A remote image is too large, or the screenshot has too many pixels",
            e422="The page could not be loaded or its URL is not allowed (NAVIGATION_FAILED), "
            "`selector` matched nothing (SELECTOR_NOT_FOUND), a refused remote image, or an "
            "Idempotency-Key reused with another request",
            e502="The browser failed (BROWSER_FAILED)",
            e503="Fonts are not installed in the bucket, or no browser is available "
            "for html/url (BROWSER_NOT_AVAILABLE; README, HTML rendering)",
            e504="The page did not render within its time limit (RENDER_TIMEOUT)",
        ),
    },
    openapi_extra=GENERATE_BODY,
)
async def create_image(request: Request, identity: CanRender, settings: SettingsDep, env: EnvDep):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)
    if any(body.get(field) is not None for field in generation.HTML_INPUTS):
        return await generate_from_html(request, env, settings, identity, body, "POST /image")
    template_uid = generation.template_uid_of(body)
    if template_uid is None and not isinstance(body.get("components"), list):
        raise invalid(
            "Send a component document (width, height, background, "
            "components) or a template uid with variables",
            field="components",
            explanation="required unless template is given",
            as_list=True,
        )
    return await generate(
        request, env, settings, identity, body, template_uid=template_uid, route="POST /image"
    )


@router.post(
    "/image/canvas",
    summary="Generate an image from a FabricJS canvas (Pictify)",
    status_code=200,
    responses={
        **ANSWER,
        **errors(
            413,
            422,
            502,
            503,
            504,
            e413="The screenshot has too many pixels",
            e422="fabric.js could not draw fabricJSData (CANVAS_NOT_DRAWN), an image it "
            "loads is not allowed, or an Idempotency-Key reused with another request",
            e502="The browser failed (BROWSER_FAILED)",
            e503="No browser is available (BROWSER_NOT_AVAILABLE; README, HTML rendering)",
            e504="The canvas did not render within its time limit (RENDER_TIMEOUT)",
        ),
    },
    openapi_extra={**request_body(CanvasBody), "parameters": [IDEMPOTENCY_KEY]},
)
async def create_canvas_image(
    request: Request, identity: CanRender, settings: SettingsDep, env: EnvDep
):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)
    route = "POST /image/canvas"
    return await stored_render(
        request, env, settings, identity, route, body, canvas.render_and_store
    )


@router.post(
    "/image/agent-screenshot",
    summary="Screenshot what a prompt describes (Pictify)",
    status_code=200,
    responses={
        **ANSWER,
        **errors(
            413,
            422,
            502,
            503,
            504,
            e413="The screenshot has too many pixels",
            e422="The page could not be loaded or its URL is not allowed (NAVIGATION_FAILED), "
            "the selector matched nothing (SELECTOR_NOT_FOUND), or an Idempotency-Key "
            "reused with another request",
            e502="The model's answer is not a usable URL and selector (AI_BAD_ANSWER), the "
            "model failed (AI_ERROR), or the browser failed (BROWSER_FAILED)",
            e503="No instruction model (AI_MODEL_NOT_AVAILABLE: AI_INSTRUCTION_MODEL, Workers "
            "AI credentials locally) or no browser (BROWSER_NOT_AVAILABLE)",
            e504="The model or the page took too long (AI_TIMEOUT, RENDER_TIMEOUT)",
        ),
    },
    openapi_extra={**request_body(AgentScreenshotBody), "parameters": [IDEMPOTENCY_KEY]},
)
async def agent_screenshot(
    request: Request, identity: CanRender, settings: SettingsDep, env: EnvDep
):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)
    route = "POST /image/agent-screenshot"
    return await stored_render(
        request, env, settings, identity, route, body, agent.render_and_store
    )


@router.head("/image/renders/{render_id}.svg", include_in_schema=False)
@router.get(
    "/image/renders/{render_id}.svg",
    summary="Download an SVG render (Pictify)",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "The SVG, as an attachment"},
        **errors(404, e404="No such render"),
    },
)
async def svg_render(render_id: str, request: Request, env: EnvDep):
    return await generation.serve_svg(env, render_id, request)
