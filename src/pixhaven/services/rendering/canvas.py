"""Pictify `POST /image/canvas`: a FabricJS canvas (`fabricJSData`, fabric.js 5.3.x JSON)
drawn by fabric.js in a page this module builds, screenshot by the browser binding and
stored as an image like `POST /image`'s.

- The page: a `<canvas>` of width x height, the JSON as data (a `<script
  type="application/json">` element, `</` escaped, parsed by the page: never JS source built
  by concatenation), `fabric.StaticCanvas` + `loadFromJSON`; the page then sets
  `window.__pixhavenCanvas` to "drawn" (or "failed", and removes the canvas), which the
  contract's `waitForFunction` waits for, and the screenshot is cropped to the canvas.
  fabric.js is the contract's `libraries: ["fabric"]`: the binding's installed copy.
- Variables: `{{name}}` in the `text` of text, textbox and i-text objects (in groups too)
  is replaced by the variable's value, as plain text (fabric draws it; nothing is parsed as
  HTML). Missing variables take their `variableDefinitions` `defaultValue`; a definition
  with `validation.required` and no value is a 400; unknown placeholders stay as written.
- Size: `width`/`height` (1..4000), else the JSON's own `width`/`height`, else 1200 x 630.
  Output: `fileExtension` (or `format`) png | jpg | jpeg | webp; png and webp keep the
  canvas's transparency.
- Limits (`checked_data`): at most MAX_JSON_CHARS characters of JSON, MAX_OBJECTS fabric
  objects (in `objects` lists, groups included) and MAX_DEPTH levels of nesting.

FabricJS templates (fabric_templates.py) draw through the same page: `checked_data`,
`size_of`, `kind_of`, `draw_fields` and `draw` are what both use.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from pixhaven.errors import ApiError
from pixhaven.services.jobs import webhooks
from pixhaven.services.rendering import browser
from pixhaven.services.rendering.html import (
    DEFAULT_HEIGHT,
    DEFAULT_WIDTH,
    EXTENSIONS,
    MAX_SIDE,
    RENDER_TIMEOUT_MS,
    TYPES,
    bad,
    number,
)
from pixhaven.services.rendering.store import store_image_render

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.settings import Settings

TEXT_TYPES = {"text", "textbox", "i-text"}
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
MAX_DEPTH = 20  # levels of JSON nesting (groups within groups)
MAX_OBJECTS = 1_000  # fabric objects, those in groups included
# Stored as a template's D1 row too (at most 2 MB a row): images belong in URLs, not data:.
MAX_JSON_CHARS = 1_000_000
READY = "window.__pixhavenCanvas === 'drawn' || window.__pixhavenCanvas === 'failed'"
PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
html, body { margin: 0; padding: 0; background: transparent; }
canvas { display: block; }
</style></head><body><canvas id="pixhaven-canvas"></canvas>
<script type="application/json" id="pixhaven-canvas-data">%s</script>
<script>
(function () {
  var input = JSON.parse(document.getElementById("pixhaven-canvas-data").textContent);
  function failed(error) {
    window.__pixhavenCanvasError = String(error);
    var element = document.getElementById("pixhaven-canvas");
    if (element) element.parentNode.removeChild(element);
    window.__pixhavenCanvas = "failed";
  }
  try {
    var canvas = new fabric.StaticCanvas("pixhaven-canvas", {
      width: input.width, height: input.height, enableRetinaScaling: false
    });
    canvas.loadFromJSON(input.data, function () {
      try { canvas.renderAll(); window.__pixhavenCanvas = "drawn"; } catch (e) { failed(e); }
    });
  } catch (e) { failed(e); }
})();
</script></body></html>"""


def variables_of(body: dict) -> dict[str, Any]:
    """The variables, with definitions' defaults filled in; required ones checked."""
    values = body.get("variables")
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise bad("variables", "an object of name: value")
    values = dict(values)
    definitions = body.get("variableDefinitions")
    if definitions is None:
        return values
    if not isinstance(definitions, list):
        raise bad("variableDefinitions", "a list of variable definitions")
    for index, definition in enumerate(definitions):
        name = definition.get("name") if isinstance(definition, dict) else None
        if not isinstance(name, str) or not name:
            raise bad(f"variableDefinitions[{index}]", "an object with a name")
        if values.get(name) is None and definition.get("defaultValue") is not None:
            values[name] = definition["defaultValue"]
        validation = definition.get("validation")
        required = isinstance(validation, dict) and validation.get("required") is True
        if required and values.get(name) in (None, ""):
            raise bad("variables", f"{name} is required")
    return values


def fill(value: Any, variables: dict[str, Any], depth: int = 0) -> Any:
    """A copy of fabric JSON with `{{name}}` replaced in text objects' `text`."""
    if depth > MAX_DEPTH:
        raise bad("fabricJSData", f"objects nested more than {MAX_DEPTH} deep")
    if isinstance(value, list):
        return [fill(item, variables, depth + 1) for item in value]
    if not isinstance(value, dict):
        return value
    copied = {key: fill(item, variables, depth + 1) for key, item in value.items()}
    if is_text(copied):
        copied["text"] = fill_text(copied["text"], variables)
    return copied


def is_text(item: dict) -> bool:
    """A text object whose `text` placeholders are filled."""
    return item.get("type") in TEXT_TYPES and isinstance(item.get("text"), str)


def fill_text(text: str, variables: dict[str, Any]) -> str:
    """`{{name}}` replaced by the variable's value as text; without a value, kept."""
    return PLACEHOLDER.sub(
        lambda match: (
            text_of(variables[match.group(1)])
            if variables.get(match.group(1)) is not None
            else match.group(0)
        ),
        text,
    )


def text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def page_of(data: dict, width: int, height: int) -> str:
    """The HTML page that draws `data`: the JSON goes in as text of a JSON script element;
    `<` is escaped so no `</script>` (or `<!--`) in a string can end it early."""
    payload = json.dumps({"width": width, "height": height, "data": data}, ensure_ascii=False)
    return PAGE % payload.replace("<", "\\u003c")


def checked_data(data: Any) -> dict:
    """`fabricJSData` if it is a canvas JSON object within the limits, else a 400."""
    if not isinstance(data, dict):
        raise bad("fabricJSData", "a FabricJS canvas JSON object (canvas.toJSON())")
    if "objects" in data and not isinstance(data["objects"], list):
        raise bad("fabricJSData", "`objects` must be a list")
    objects = _count_objects(data, 0)
    if objects > MAX_OBJECTS:
        raise bad("fabricJSData", f"at most {MAX_OBJECTS} objects (it has {objects})")
    # Measured after the walk, which bounds the nesting json.dumps recurses through.
    if len(json.dumps(data, ensure_ascii=False)) > MAX_JSON_CHARS:
        raise bad(
            "fabricJSData",
            f"at most {MAX_JSON_CHARS} characters of JSON (give images as URLs, not data: URLs)",
        )
    return data


def _count_objects(value: Any, depth: int) -> int:
    """The fabric objects (items of `objects` lists) in the JSON; its depth checked."""
    if depth > MAX_DEPTH:
        raise bad("fabricJSData", f"objects nested more than {MAX_DEPTH} deep")
    if isinstance(value, list):
        return sum(_count_objects(item, depth + 1) for item in value)
    if not isinstance(value, dict):
        return 0
    found = sum(_count_objects(item, depth + 1) for item in value.values())
    objects = value.get("objects")
    return found + (len(objects) if isinstance(objects, list) else 0)


def size_of(body: dict, own: dict) -> tuple[int, int]:
    """The body's `width`/`height` (1..4000), else `own`'s (the JSON's, or a template's
    stored size), else 1200 x 630."""
    width = number(body, "width", 1, MAX_SIDE, None)
    height = number(body, "height", 1, MAX_SIDE, None)
    if width is None:
        width = number(own, "width", 1, MAX_SIDE, DEFAULT_WIDTH, whole=False)
    if height is None:
        height = number(own, "height", 1, MAX_SIDE, DEFAULT_HEIGHT, whole=False)
    return int(round(width)), int(round(height))


def kind_of(body: dict) -> str:
    """The screenshot type of the body's `fileExtension` (or `format`): png by default."""
    name = "fileExtension" if body.get("fileExtension") is not None else "format"
    chosen = body.get(name) or "png"
    if not isinstance(chosen, str) or chosen.strip().lower() not in TYPES:
        raise bad(name, "png, jpg, jpeg or webp")
    return TYPES[chosen.strip().lower()]


def draw_fields(data: dict, width: int, height: int, kind: str, quality: int) -> dict[str, Any]:
    """The contract's screenshot fields that draw `data` (filled) at width x height."""
    return {
        "html": page_of(data, width, height),
        "width": width,
        "height": height,
        "libraries": ["fabric"],
        "waitForFunction": READY,
        "selector": "#pixhaven-canvas",
        "type": kind,
        "quality": quality if kind != "png" else None,
        "omitBackground": kind != "jpeg",
        "timeout": RENDER_TIMEOUT_MS,
    }


async def draw(env: Env, fields: dict[str, Any]) -> bytes:
    """The screenshot of `draw_fields`' page: the drawn canvas's bytes."""
    try:
        _, data = await browser.screenshot(env, fields)
    except ApiError as exc:
        if exc.code != "SELECTOR_NOT_FOUND":
            raise
        # The page removes its canvas when fabric.js cannot load the JSON.
        raise ApiError(
            422,
            "fabric.js could not draw fabricJSData (is it a canvas.toJSON() export?)",
            code="CANVAS_NOT_DRAWN",
        ) from None
    return data


def canvas_request(body: dict) -> tuple[dict[str, Any], str]:
    """The contract's screenshot fields for a Pictify canvas body, and the extension."""
    data = checked_data(body.get("fabricJSData"))
    kind = kind_of(body)
    width, height = size_of(body, data)
    filled = fill(data, variables_of(body))
    quality = number(body, "quality", 1, 100, 85)
    return draw_fields(filled, width, height, kind, quality), EXTENSIONS[kind]


async def render_and_store(
    env: Env, settings: Settings, owner: str, key_id: str | None, base: str, body: dict
) -> dict:
    fields, extension = canvas_request(body)
    data = await draw(env, fields)
    detail = {"api": "pictify", "source": "canvas", "format": extension, "bytes": len(data)}
    answer = await store_image_render(
        env, settings, owner, key_id, data, name=f"canvas.{extension}", base=base, detail=detail
    )
    answer["format"] = extension
    await webhooks.emit(env, owner, "render.completed", answer)
    return answer
