"""Pictify templates: `/templates` CRUD (answers in Pictify's `{template: …}` envelope),
`GET /templates/{uid}/variables`, `POST /templates/{uid}/render` (the answer of `POST
/image`, plus the `results[]`, `templateUid` and `totalRendered` Pictify's clients read).

Scopes: `templates:read` to list and read, `templates:write` to create, update and delete,
`render` to render. Owner-scoped. Logic lives in services/rendering/templates.py.
"""

from typing import Literal

from fastapi import APIRouter, Query, Request, Response

from pixhaven.models.common import ERROR_RESPONSES, errors, request_body
from pixhaven.models.pictify import (
    IDEMPOTENCY_KEY,
    CreateTemplateBody,
    ExpressionBody,
    MultiSizeRenderBody,
    PreviewTemplateBody,
    RenderTemplateBody,
    UpdateTemplateBody,
)
from pixhaven.routers.pictify.rendering import generate, idempotent_answer, renderer_of
from pixhaven.routers.pictify.shapes import ANSWER
from pixhaven.routers.requests import (
    FIELD_LIST_BODY_ERRORS,
    CanReadTemplates,
    CanRender,
    CanWriteTemplates,
    EnvDep,
    SettingsDep,
    read_json,
)
from pixhaven.services.rendering import (
    expression_api,
    template_preview,
    template_render,
    templates,
)
from pixhaven.services.rendering.own_sources import own_images
from pixhaven.services.rendering.render import SVG_HEADERS

router = APIRouter(tags=["Pictify templates"], responses=ERROR_RESPONSES)
NOT_FOUND = errors(404, e404="No such template (for this owner)")


def wrapped(template: dict) -> dict:
    """Pictify's `{template: …}` envelope (with the common `success`)."""
    return {"success": True, "template": template}


@router.get("/templates", summary="List templates (Pictify)")
async def list_templates(
    identity: CanReadTemplates,
    env: EnvDep,
    page: int = Query(1, ge=1, le=100_000),
    limit: int = Query(12, ge=1, le=100),
    sort: Literal["newest", "oldest", "name"] = Query("newest"),
    output_format: Literal["all", "image", "pdf"] = Query(
        "all", alias="outputFormat", description="the templates whose outputFormat is this"
    ),
):
    return await templates.list_page(env, identity.owner, page, limit, sort, output_format)


@router.post(
    "/templates",
    summary="Create a template (Pictify)",
    status_code=200,
    responses=errors(
        409,
        422,
        e409="A request with this Idempotency-Key is still running",
        e422="An Idempotency-Key reused with another request",
    ),
    openapi_extra={**request_body(CreateTemplateBody), "parameters": [IDEMPOTENCY_KEY]},
)
async def create_template(
    request: Request, identity: CanWriteTemplates, settings: SettingsDep, env: EnvDep
):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)

    async def produce():
        return 200, wrapped(
            await templates.create(env, identity.owner, body, settings.max_components)
        )

    # A retried create with the same Idempotency-Key answers the first template, not a second.
    return await idempotent_answer(request, env, identity, "POST /templates", body, produce)


@router.get("/templates/{uid}", summary="Get a template (Pictify)", responses=NOT_FOUND)
async def get_template(uid: str, identity: CanReadTemplates, env: EnvDep):
    return wrapped(templates.shape(await templates.get(env, identity.owner, uid)))


@router.put(
    "/templates/{uid}",
    summary="Update a template (Pictify)",
    responses=NOT_FOUND,
    openapi_extra=request_body(UpdateTemplateBody),
)
async def update_template(
    uid: str, request: Request, identity: CanWriteTemplates, settings: SettingsDep, env: EnvDep
):
    return wrapped(
        await templates.update(
            env,
            identity.owner,
            uid,
            await read_json(request, FIELD_LIST_BODY_ERRORS),
            settings.max_components,
        )
    )


@router.delete("/templates/{uid}", summary="Delete a template (Pictify)", responses=NOT_FOUND)
async def delete_template(uid: str, identity: CanWriteTemplates, env: EnvDep):
    await templates.delete(env, identity.owner, uid)
    return {"success": True, "uid": uid, "deleted": True}


@router.get(
    "/templates/{uid}/variables",
    summary="Get a template's variables (Pictify)",
    responses=NOT_FOUND,
)
async def template_variables(uid: str, identity: CanReadTemplates, env: EnvDep):
    row = await templates.get(env, identity.owner, uid)
    return {
        "success": True,
        "uid": uid,
        "templateUid": uid,
        "templateName": row["name"],
        "variables": [templates.variable_definition(v) for v in row["variables"]],
    }


@router.post(
    "/templates/{uid}/render",
    summary="Render a template to an image (Pictify)",
    status_code=200,
    responses=ANSWER,
    openapi_extra={
        **request_body(RenderTemplateBody, required=False),
        "parameters": [IDEMPOTENCY_KEY],
    },
)
async def render_template(
    uid: str, request: Request, identity: CanRender, settings: SettingsDep, env: EnvDep
):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS, optional=True)
    return await generate(
        request,
        env,
        settings,
        identity,
        body,
        template_uid=uid,
        route=f"POST /templates/{uid}/render",
    )


@router.post(
    "/templates/{uid}/multi-size-render",
    summary="Render a template at several sizes (Pictify)",
    status_code=200,
    responses=NOT_FOUND,
    openapi_extra={**request_body(MultiSizeRenderBody), "parameters": [IDEMPOTENCY_KEY]},
)
async def multi_size_render(
    uid: str, request: Request, identity: CanRender, settings: SettingsDep, env: EnvDep
):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)

    async def produce():
        template = await templates.get(env, identity.owner, uid)
        renderer = renderer_of(request, env, settings, identity)
        return 200, await template_render.multi_size(renderer, template, body)

    route = f"POST /templates/{uid}/multi-size-render"
    return await idempotent_answer(
        request, env, identity, route, body, produce, renders="image", template_uid=uid
    )


@router.post(
    "/templates/preview",
    summary="Render an unsaved template with variables, for a live preview (Pixhaven)",
    response_class=Response,
    responses={
        200: {
            "description": "The image (nothing stored)",
            "content": {
                "image/png": {},
                "image/jpeg": {},
                "image/webp": {},
                "image/avif": {},
                "image/svg+xml": {},
            },
        },
        **errors(
            413,
            422,
            502,
            503,
            504,
            e413="An image source is too large",
            e422="A refused or failed image source, or the page could not be loaded",
            e502="The browser failed (BROWSER_FAILED)",
            e503="Fonts are not installed, or no browser is available (HTML and FabricJS)",
            e504="The page did not render within its time limit (RENDER_TIMEOUT)",
        ),
    },
    openapi_extra=request_body(PreviewTemplateBody),
)
async def preview_template(
    request: Request, identity: CanRender, settings: SettingsDep, env: EnvDep
):
    body = await read_json(request, FIELD_LIST_BODY_ERRORS)
    preview = await template_preview.render_preview(
        env, settings, body, own_images(env, settings, request)
    )
    headers = {"Cache-Control": "no-store"}
    if preview.media_type == "image/svg+xml":
        # Never a document of our origin: the same guard as the stored SVG downloads.
        headers.update({key: value for key, value in SVG_HEADERS.items() if key != "Cache-Control"})
    return Response(preview.content, media_type=preview.media_type, headers=headers)


# -- the expression test routes (concepts/expressions.mdx, "Testing Expressions") -----------


@router.post(
    "/templates/expression/validate",
    summary="Check an expression's syntax (Pictify)",
    openapi_extra=request_body(ExpressionBody),
)
async def validate_expression(request: Request, identity: CanReadTemplates):
    return expression_api.validate(await read_json(request, FIELD_LIST_BODY_ERRORS))


@router.post(
    "/templates/expression/test",
    summary="Evaluate an expression over sample variables (Pictify)",
    openapi_extra=request_body(ExpressionBody),
)
async def test_expression(request: Request, identity: CanReadTemplates):
    return expression_api.evaluate_sample(await read_json(request, FIELD_LIST_BODY_ERRORS))


@router.get("/templates/expression/functions", summary="The expression functions (Pictify)")
async def expression_functions(identity: CanReadTemplates):
    return expression_api.functions()
