"""`POST /templates/preview`: an unsaved template rendered with variables, for an editor's
live preview (the console re-renders on every change without saving first).

The `template` object is what `POST /templates` takes (HTML, FabricJS or a component
document, with its variable definitions) and is checked exactly as a create checks it;
`variables`, `format`, `quality`, `width`, `height` are what `POST /templates/{uid}/render`
takes. The answer is the image itself. Nothing is stored, counted as a render or sent to
webhooks: a preview is a draft's picture, asked for many times a minute while typing, and
the Pictify rate limits of the route bound what that costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pixhaven.errors import invalid
from pixhaven.services.images.keys import CONTENT_TYPES
from pixhaven.services.rendering import (
    browser,
    canvas,
    fabric_templates,
    html,
    html_templates,
    template_meta,
    templates,
)
from pixhaven.services.rendering import render as generation

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.render.sources import OwnSource
    from pixhaven.settings import Settings

RENDER_FIELDS = ("variables", "format", "fileExtension", "quality", "width", "height")


@dataclass(frozen=True)
class Preview:
    content: bytes
    media_type: str


def draft(body: Any, max_components: int) -> dict:
    """The unsaved template of a preview request, as a stored template row would hold it."""
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object", field="", as_list=True)
    given = body.get("template")
    if not isinstance(given, dict):
        raise invalid(
            "template must be an object, as POST /templates takes it",
            field="template",
            as_list=True,
        )
    document, variables = templates.definition(given, max_components)
    return {
        "uid": "preview",
        "name": "preview",
        "document": document,
        "variables": variables,
        "output_format": template_meta.output_format(given),
        "meta": template_meta.meta(given),
    }


async def render_preview(
    env: Env, settings: Settings, body: Any, own: OwnSource | None = None
) -> Preview:
    template = draft(body, settings.max_components)
    request = {field: body[field] for field in RENDER_FIELDS if body.get(field) is not None}
    kind = templates.kind_of(template)
    if kind == "html":
        fields, extension = html.screenshot_request(
            html_templates.screenshot_body(template, request)
        )
        _, data = await browser.screenshot(env, fields)
        return Preview(data, CONTENT_TYPES[extension])
    if kind == "fabric":
        fields, extension = fabric_templates.render_request(template, request)
        return Preview(await canvas.draw(env, fields), CONTENT_TYPES[extension])
    media_type = generation.media_type_of(request.get("format") or request.get("fileExtension"))
    document = generation.apply_size(templates.fill(template, request.get("variables")), request)
    content, _, _ = await generation.render_document(env, settings, document, media_type, own)
    return Preview(content, media_type)
