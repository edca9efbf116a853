"""Pictify HTML templates: `POST /templates {html, …}`, filled with Pictify's `{{ }}`
expressions (render/html_template.py) and screenshot by the browser like `POST /image`
html renders (services/rendering/html.py).

Stored in the templates table beside component-document templates: the `document` column
holds `{"html", "width", "height"}`. Variables are every top-level name the expressions and
`_if` conditions read, each with Pictify's definition fields; `variableDefinitions` in the
request override the extracted ones by name (and may declare more). Values are JSON values
as sent (an expression may read `user.name` or `items[0]`); a variable with no value takes
its `defaultValue`; one `validation.required` without either, or a string outside
`minLength`/`maxLength`, is a 400 naming it.

FabricJS templates (fabric_templates.py) share these rules: `merge_variables` (found names
overridden by `variableDefinitions`), `values` and `pictify_quality`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pixhaven.errors import invalid
from pixhaven.render.expression_values import Budget, ExpressionError
from pixhaven.render.html_template import MAX_TEMPLATE, fill_html, referenced_variables
from pixhaven.services.rendering import browser
from pixhaven.services.rendering.html import (
    DEFAULT_HEIGHT,
    DEFAULT_WIDTH,
    MAX_SIDE,
    number,
    screenshot_request,
)
from pixhaven.services.rendering.store import store_template_render

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.settings import Settings

TYPES = ("text", "image", "color", "number", "boolean")
MAX_VARIABLES = 100


def is_html(template: dict) -> bool:
    return "html" in template["document"]


def expression_error(exc: ExpressionError, field: str = "html"):
    return invalid(
        f"Invalid template expression: {exc}",
        field=field,
        as_list=True,
        expression=exc.expression,
    )


def _definition(item: Any, index: int) -> dict:
    """One Pictify VariableDefinition as the stored variable."""
    where = f"variableDefinitions.{index}"
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise invalid(f"{where} must be an object with a name", field=where, as_list=True)
    name, kind = item["name"], item.get("type") or "text"
    if kind not in TYPES:
        raise invalid(
            f"Variable {name!r}: type must be one of {', '.join(TYPES)}",
            field=f"{where}.type",
            as_list=True,
            variable=name,
        )
    validation = item.get("validation") or {}
    if not isinstance(validation, dict):
        raise invalid(f"Variable {name!r}: validation must be an object", field=where, as_list=True)
    rules: dict[str, Any] = {"required": validation.get("required", False) is True}
    for rule in ("minLength", "maxLength"):
        value = validation.get(rule)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise invalid(
                    f"Variable {name!r}: {rule} must be a whole number ≥ 0",
                    field=f"{where}.validation.{rule}",
                    as_list=True,
                    variable=name,
                )
            rules[rule] = value
    description = item.get("description")
    return {
        "name": name,
        "type": kind,
        "default": item.get("defaultValue", item.get("default")),
        "required": rules["required"],
        "description": description if isinstance(description, str) else None,
        "validation": rules,
    }


def extracted(name: str, kind: str = "text") -> dict:
    """The stored variable of a name found in a template (no default, not required)."""
    return {
        "name": name,
        "type": kind,
        "default": None,
        "required": False,
        "description": None,
        "validation": {"required": False},
    }


def merge_variables(found: dict[str, str], body: dict, old: dict | None, field: str) -> list[dict]:
    """A template's variables: those `found` in it (name: type), overridden by name by the
    body's `variableDefinitions` (which may declare more). An update without
    `variableDefinitions` keeps what was stored for the names still found."""
    given = body.get("variableDefinitions")
    if given is None and old:
        declared = {v["name"]: v for v in old["variables"] if v["name"] in found}
    else:
        if given is not None and not isinstance(given, list):
            raise invalid(
                "variableDefinitions must be a list", field="variableDefinitions", as_list=True
            )
        declared = {}
        for index, item in enumerate(given or []):
            variable = _definition(item, index)
            declared[variable["name"]] = variable
    variables = list(
        {**{name: extracted(name, kind) for name, kind in found.items()}, **declared}.values()
    )
    if len(variables) > MAX_VARIABLES:
        raise invalid(f"at most {MAX_VARIABLES} variables", field=field, as_list=True)
    return variables


def pictify_quality(quality: Any) -> Any:
    """Pictify's render `quality` is 0.1..1, the screenshot's 1..100: a fraction is scaled
    (anything else is left for the screenshot's own check)."""
    if isinstance(quality, (int, float)) and not isinstance(quality, bool) and 0 < quality <= 1:
        return max(1, round(quality * 100))
    return quality


def definition(body: dict, old: dict | None = None) -> tuple[dict, list[dict]]:
    """The stored document and variables of an HTML template from a create (or, with the
    stored template as `old`, an update) body."""
    old_document = old["document"] if old else {}
    html = body.get("html", old_document.get("html"))
    if not isinstance(html, str) or not html.strip():
        raise invalid("html must be a non-empty string", field="html", as_list=True)
    if len(html) > MAX_TEMPLATE:
        raise invalid(f"html is longer than {MAX_TEMPLATE} characters", field="html", as_list=True)
    try:
        names = referenced_variables(html)
    except ExpressionError as exc:
        raise expression_error(exc) from None
    variables = merge_variables({name: "text" for name in names}, body, old, "html")
    document = {
        "html": html,
        "width": number(body, "width", 1, MAX_SIDE, old_document.get("width", DEFAULT_WIDTH)),
        "height": number(body, "height", 1, MAX_SIDE, old_document.get("height", DEFAULT_HEIGHT)),
    }
    return document, variables


def values(template: dict, given: Any) -> dict:
    """The expressions' scope: the request's variables, defaults for the missing ones."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise invalid("variables must be an object of name: value", field="variables", as_list=True)
    scope = dict(given)
    for variable in template["variables"]:
        name, rules = variable["name"], variable.get("validation") or {}
        value = given.get(name)
        if value is None:
            value = variable["default"]
        if value is None and variable["required"]:
            raise invalid(
                f"Missing required variable {name!r}",
                field=f"variables.{name}",
                as_list=True,
                variable=name,
            )
        if isinstance(value, str) and not (
            rules.get("minLength", 0) <= len(value) <= rules.get("maxLength", len(value))
        ):
            raise invalid(
                f"Variable {name!r} must be {rules.get('minLength', 0)} to "
                f"{rules.get('maxLength', '∞')} characters long",
                field=f"variables.{name}",
                as_list=True,
                variable=name,
            )
        scope[name] = value
    return scope


def filled(template: dict, variables: Any) -> str:
    """The template's HTML with `variables` (defaults for the missing ones) filled in."""
    try:
        return fill_html(template["document"]["html"], values(template, variables), Budget())
    except ExpressionError as exc:
        raise expression_error(exc, field="variables") from None


def screenshot_body(template: dict, body: dict) -> dict:
    """The `POST /image` html body for this render: the filled HTML at the template's size
    (or the request's), in the request's format and `quality` (`pictify_quality`)."""
    document = template["document"]
    html = filled(template, body.get("variables"))
    quality = pictify_quality(body.get("quality"))
    fields = {
        "html": html,
        "width": body.get("width") or document["width"],
        "height": body.get("height") or document["height"],
        "fileExtension": body.get("fileExtension"),
        "format": body.get("format"),
        "quality": quality,
        "deviceScaleFactor": body.get("deviceScaleFactor"),
        "transparent": body.get("transparent"),
    }
    return {key: value for key, value in fields.items() if value is not None}


async def render_and_store(
    env: Env,
    settings: Settings,
    owner: str,
    key_id: str | None,
    base: str,
    template: dict,
    body: dict,
) -> dict:
    """Fill, screenshot and store one render of an HTML template: Pictify's answer."""
    fields, extension = screenshot_request(screenshot_body(template, body))
    _, data = await browser.screenshot(env, fields)
    return await store_template_render(
        env, settings, owner, key_id, base, template, data, extension
    )
