"""One entry point that renders and stores a stored template, whatever its kind: HTML
templates through the browser (html_templates.py), component-document templates through
the renderer (templates.fill + render.py). Callers that hold a template row and a render
body (`{variables, format, quality, width, height}`) go through `render_template`, so a
template kind added later is one more branch here, not one in every caller.

Used by bindings (services/bindings/refresh.py). `POST /templates/{uid}/render`
(routers/pictify/rendering.py `generate`) and batch items still choose between the two
kinds themselves; they can call this instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixhaven.services.rendering import html_templates, templates
from pixhaven.services.rendering import render as generation

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.render.sources import OwnSource
    from pixhaven.settings import Settings


async def render_template(
    env: Env,
    settings: Settings,
    owner: str,
    key_id: str | None,
    base: str,
    template: dict,
    body: dict,
    own: OwnSource | None = None,
) -> dict:
    """Fill `template` with `body["variables"]`, render it in `body["format"]` and store the
    result through the one image writer: the render's answer (`url`, `id`, `width`,
    `height`, `format`, …). Bad values are the template's own 400s naming the variable."""
    if html_templates.is_html(template):
        return await html_templates.render_and_store(
            env, settings, owner, key_id, base, template, body
        )
    document = generation.apply_size(templates.fill(template, body.get("variables")), body)
    return await generation.render_and_store(
        env,
        settings,
        owner,
        key_id,
        base,
        document,
        generation.media_type_of(body.get("format")),
        template["uid"],
        own,
    )
