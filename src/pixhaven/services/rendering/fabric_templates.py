"""Pictify FabricJS templates: `POST /templates {fabricJSData, …}`, drawn by fabric.js in
the browser through the page of `POST /image/canvas` (canvas.py) with the variables applied.

Stored in the templates table beside HTML and component-document templates: the `document`
column holds `{"fabricJSData", "width", "height"}` (the JSON within canvas.py's limits; the
size is the request's, else the JSON's own, else 1200 x 630).

Variables come from two places in the JSON (Pictify's "Template Structure"):
- `{{name}}` in the `text` of text, textbox and i-text objects (groups too): type text;
- an object's `variableBindings: [{variableName, property}]`: the variable's value sets that
  property of the object. BINDABLE is the set of properties and the type each implies:
  `text`; colours `fill`, `stroke`, `backgroundColor`, `textBackgroundColor`; `src` (image
  objects only); numbers `left`, `top`, `width`, `height`, `angle`, `opacity`, `fontSize`,
  `strokeWidth`, `scaleX`, `scaleY`, `rx`, `ry`, `radius`; boolean `visible`. A binding's
  type wins over a text placeholder's; `variableDefinitions` override both by name
  (html_templates.merge_variables). `isVariable` is kept but not needed.

Rendering: each value is checked against the properties it is bound to (a colour is a CSS
colour fabric.js reads: hex, rgb(a)/hsl(a) or a name; an image is an http(s) or data:image/
URL, fetched by the browser under the outbound rules; a number is finite; a boolean is
true/false) and a 400 names the variable. A `text` binding on an object whose text holds
`{{name}}` fills the placeholder; otherwise the value is the whole text. A variable without
a value or default leaves the design as it is (placeholders drawn as written); a required one
is a 400 (html_templates.values, which also applies minLength/maxLength).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from pixhaven.errors import invalid
from pixhaven.numerals import number_from_text
from pixhaven.services.rendering import canvas
from pixhaven.services.rendering.html import EXTENSIONS, number
from pixhaven.services.rendering.html_templates import merge_variables, pictify_quality, values
from pixhaven.services.rendering.store import store_template_render

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.settings import Settings

COLOR_PROPERTIES = ("fill", "stroke", "backgroundColor", "textBackgroundColor")
NUMBER_PROPERTIES = (
    *("left", "top", "width", "height", "angle", "opacity", "fontSize", "strokeWidth"),
    *("scaleX", "scaleY", "rx", "ry", "radius"),
)
BINDABLE = {
    "text": "text",
    **dict.fromkeys(COLOR_PROPERTIES, "color"),
    "src": "image",
    **dict.fromkeys(NUMBER_PROPERTIES, "number"),
    "visible": "boolean",
}
# The CSS colours fabric.js's Color parses: hex, the functional forms, or a name.
COLOR = re.compile(
    r"#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})|(?:rgba?|hsla?)\([0-9.,%\s]+\)|[a-z]{3,30}",
    re.IGNORECASE,
)
MAX_TEXT = 5000


def is_fabric(template: dict) -> bool:
    return "fabricJSData" in template["document"]


# -- definition --------------------------------------------------------------------------------


def definition(body: dict, old: dict | None = None) -> tuple[dict, list[dict]]:
    """The stored document and variables of a FabricJS template from a create (or, with the
    stored template as `old`, an update) body."""
    old_document = old["document"] if old else {}
    given = body.get("fabricJSData")
    data = canvas.checked_data(given if given is not None else old_document.get("fabricJSData"))
    found, bound = variables_in(data)
    variables = merge_variables(found, body, old, "fabricJSData")
    for variable in variables:  # a default must suit what it is bound to, found now
        if variable["default"] is not None:
            for prop in bound.get(variable["name"], ()):
                bound_value(variable["name"], prop, variable["default"])
    own = {side: old_document.get(side) for side in ("width", "height")}
    if given is not None:
        own.update({side: data[side] for side in ("width", "height") if data.get(side)})
    width, height = canvas.size_of(body, own)
    return {"fabricJSData": data, "width": width, "height": height}, variables


def variables_in(data: dict) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Every variable the JSON uses (name: type, in order of appearance) and the properties
    each is bound to; a malformed binding is a 400."""
    found: dict[str, str] = {}
    bound: dict[str, list[str]] = {}

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
            return
        if not isinstance(value, dict):
            return
        if canvas.is_text(value):
            for name in canvas.PLACEHOLDER.findall(value["text"]):
                found.setdefault(name, "text")
        for name, prop in bindings_of(value):
            if found.get(name, "text") == "text":
                found[name] = BINDABLE[prop]
            bound.setdefault(name, []).append(prop)
        for item in value.values():
            walk(item)

    walk(data)  # its depth is bounded by canvas.checked_data
    return found, bound


def bindings_of(item: dict) -> list[tuple[str, str]]:
    """An object's `variableBindings` as (variable, property) pairs, checked."""
    given = item.get("variableBindings")
    if given is None:
        return []
    if not isinstance(given, list):
        raise _bad_binding("variableBindings must be a list of {variableName, property}")
    pairs = []
    for binding in given:
        name = binding.get("variableName") if isinstance(binding, dict) else None
        prop = binding.get("property") if isinstance(binding, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise _bad_binding("each variableBinding needs a variableName")
        if prop not in BINDABLE:
            raise _bad_binding(
                f"variable {name!r} is bound to {prop!r}; the properties that can be bound "
                f"are {', '.join(BINDABLE)}"
            )
        if prop == "src" and item.get("type") != "image":
            raise _bad_binding(f"variable {name!r}: only image objects have a src to bind")
        pairs.append((name.strip(), prop))
    return pairs


def _bad_binding(explanation: str):
    return canvas.bad("fabricJSData", explanation)


# -- rendering ---------------------------------------------------------------------------------


def bound_value(name: str, prop: str, value: Any) -> Any:
    """The value as the property it is bound to takes it, or a 400 naming the variable."""
    kind = BINDABLE[prop]

    def fail(expected: str):
        return invalid(
            f"Invalid value for variable {name!r} (bound to {prop}): expected {expected}",
            field=f"variables.{name}",
            as_list=True,
            variable=name,
            property=prop,
        )

    if kind == "text":
        text = canvas.text_of(value)
        if len(text) > MAX_TEXT:
            raise fail(f"at most {MAX_TEXT} characters")
        return text
    if kind == "color":
        if not isinstance(value, str) or not COLOR.fullmatch(value.strip()):
            raise fail("a CSS colour such as #0070f3, rgb(0, 112, 243) or navy")
        return value.strip()
    if kind == "image":
        if not isinstance(value, str) or not value.strip()[:11].lower().startswith(
            ("http://", "https://", "data:image/")
        ):
            raise fail("an http(s) URL or a data:image/… URL")
        return value.strip()
    if kind == "number":
        if isinstance(value, str):
            # What the OpenAPI's pattern writes, not what float() reads ("1_000", "nan", "٣").
            number = number_from_text(value)
            if number is None:
                raise fail("a number")
            value = number
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail("a number")
        if not math.isfinite(value):
            raise fail("a finite number")
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise fail("true or false")
    return value


def filled(template: dict, given: Any) -> dict:
    """A copy of the template's JSON with the variables applied (see the module's doc)."""
    scope = values(template, given)

    def fill(value: Any) -> Any:
        if isinstance(value, list):
            return [fill(item) for item in value]
        if not isinstance(value, dict):
            return value
        copied = {key: fill(item) for key, item in value.items()}
        in_text: set[str] = set()
        if canvas.is_text(copied):
            in_text = set(canvas.PLACEHOLDER.findall(copied["text"]))
            copied["text"] = canvas.fill_text(copied["text"], scope)
        for name, prop in bindings_of(copied):
            if scope.get(name) is None or (prop == "text" and name in in_text):
                continue
            copied[prop] = bound_value(name, prop, scope[name])
        return copied

    return fill(template["document"]["fabricJSData"])


def render_request(template: dict, body: dict) -> tuple[dict[str, Any], str]:
    """The contract's screenshot fields for one render (`variables`, `format` or
    `fileExtension`, `quality` 0.1..1 or 1..100, `width`/`height` else the template's), and
    the extension."""
    kind = canvas.kind_of(body)
    width, height = canvas.size_of(body, template["document"])
    quality = number({"quality": pictify_quality(body.get("quality"))}, "quality", 1, 100, 85)
    data = filled(template, body.get("variables"))
    return canvas.draw_fields(data, width, height, kind, quality), EXTENSIONS[kind]


async def render_png(
    env: Env,
    template: dict,
    variables: dict | None = None,
    width: int | None = None,
    height: int | None = None,
) -> bytes:
    """This template drawn with these variables: PNG bytes (for callers that build on a
    render, e.g. a PDF of a FabricJS template)."""
    body = {"variables": variables, "width": width, "height": height, "format": "png"}
    fields, _ = render_request(template, body)
    return await canvas.draw(env, fields)


async def render_and_store(
    env: Env,
    settings: Settings,
    owner: str,
    key_id: str | None,
    base: str,
    template: dict,
    body: dict,
) -> dict:
    """Fill, draw and store one render of a FabricJS template: Pictify's answer."""
    fields, extension = render_request(template, body)
    data = await canvas.draw(env, fields)
    return await store_template_render(
        env, settings, owner, key_id, base, template, data, extension
    )
