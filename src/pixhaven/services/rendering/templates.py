"""Pictify templates: HTML with Pictify's `{{ }}` expressions (html_templates.py), FabricJS
canvas JSON with variable bindings (fabric_templates.py), or, as a Pixhaven extension, a
component document (the Craftr schema) with `{{variable}}` placeholders and typed variables
with defaults (this module).

Answers are Pictify's `Template`: `uid, name, description, engine` and `type` (both "html",
"fabric" or "document": the kind), `width, height, outputFormat, variables` (the names),
`variableDefinitions` (`{name, type, defaultValue, description, validation: {required,
minLength, maxLength}}`), `html`, `fabricJSData` or `document`, `createdAt, updatedAt`.
Requests may declare variables Pictify's way (`variableDefinitions`) or Pixhaven's
(`variables: [{name, type, default, required}]`). A request sends one kind's content: `html`
with `fabricJSData` (or either with a document) is a 400. An update that sends `html` or
`fabricJSData` makes the template that kind (its variables re-extracted); a document cannot
be sent to an HTML or FabricJS template.

Variables: `{name, type, default, required, description}`, type one of text, number, color
(hex: #rgb, #rrggbb, #rrggbbaa), image (http(s) URL or data: URL), boolean. Names are
identifiers (`[A-Za-z_][A-Za-z0-9_]*`, at most 64 characters).

Substitution walks every string in the document (values, never keys):
- a string that is exactly one placeholder (`"{{size}}"`, spaces allowed inside the braces)
  becomes the variable's typed value, so `"fontSize": "{{size}}"` gets a number;
- otherwise each placeholder is replaced by the value's text (`"Hi {{name}}!"`).
A component whose `visible` ends up false (e.g. `"visible": "{{showBadge}}"`) is dropped.

A value is the request's, else the default. A required variable without either is a 400;
an optional one without either is "" for text, false for boolean, and a 400 for the other
types (there is nothing sensible to draw). Every error names the variable. Placeholders
that name no declared variable are a 400 when the template is created or updated.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from typing import TYPE_CHECKING, Any

from pixhaven.db import templates as table
from pixhaven.errors import ApiError, invalid
from pixhaven.numerals import number_from_text
from pixhaven.render.document import DocumentError, parse_color, validate_document
from pixhaven.services.pagination import pictify_pagination
from pixhaven.services.rendering import fabric_templates, html_templates, template_meta
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

TYPES = ("text", "number", "color", "image", "boolean")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
MAX_VARIABLES = 100
MAX_TEXT = 5000
MAX_DOCUMENT_NODES = 10_000
UID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
CANVAS_KEYS = ("width", "height", "background", "components")
# A template's kind (its engine), as messages name it.
KINDS = {"html": "an HTML", "fabric": "a FabricJS", "document": "a component document"}
# The kinds the browser draws: each one's `render_and_store(env, settings, owner, key_id,
# base, template, body)` (a component document renders through render.py instead).
BROWSER_RENDERS = {
    "html": html_templates.render_and_store,
    "fabric": fabric_templates.render_and_store,
}


def new_uid() -> str:
    return "tpl_" + "".join(secrets.choice(UID_ALPHABET) for _ in range(20))


# -- values ---------------------------------------------------------------------------------


def coerce(variable: dict, value: Any) -> Any:
    """The value as the variable's type, or ApiError 400 naming the variable."""
    name, kind = variable["name"], variable["type"]

    def fail(expected: str) -> ApiError:
        return invalid(
            f"Invalid value for variable {name!r} ({kind}): expected {expected}",
            field=f"variables.{name}",
            as_list=True,
            variable=name,
            type=kind,
        )

    if kind == "text":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise fail("a string")
        text = value if isinstance(value, str) else format_number(value)
        if len(text) > MAX_TEXT:
            raise fail(f"at most {MAX_TEXT} characters")
        return text
    if kind == "number":
        if isinstance(value, str):
            # What the OpenAPI's pattern writes, not what float() reads ("1_000", "nan", "٣").
            number = number_from_text(value)
            if number is None:
                raise fail("a number")
            value = int(number) if number.is_integer() else number
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail("a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise fail("a finite number")
        return value
    if kind == "color":
        if not isinstance(value, str):
            raise fail("a hex colour such as #0070f3")
        try:
            parse_color(value)
        except ValueError:
            raise fail("a hex colour such as #0070f3") from None
        return value.strip()
    if kind == "image":
        if not isinstance(value, str) or not value.strip()[:11].lower().startswith(
            ("http://", "https://", "data:image/")
        ):
            raise fail("an http(s) URL or a data:image/… URL")
        return value.strip()
    if kind == "boolean":
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    raise fail(" / ".join(TYPES))


def format_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    return str(value)


# -- definitions ------------------------------------------------------------------------------


def validate_variables(raw: Any) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid(
            "variables must be a list of {name, type, default, required, description}",
            field="variables",
            as_list=True,
        )
    if len(raw) > MAX_VARIABLES:
        raise invalid(f"at most {MAX_VARIABLES} variables", field="variables", as_list=True)
    variables, seen = [], set()
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise invalid(
                f"variables[{index}] must be an object", field=f"variables.{index}", as_list=True
            )
        name = item.get("name")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise invalid(
                f"variables[{index}].name must be an identifier (letters, "
                "digits, _; at most 64 characters)",
                field=f"variables.{index}.name",
                as_list=True,
            )
        if name in seen:
            raise invalid(
                f"Variable {name!r} is declared twice",
                field=f"variables.{index}.name",
                as_list=True,
                variable=name,
            )
        seen.add(name)
        kind = item.get("type", "text")
        if kind not in TYPES:
            raise invalid(
                f"Variable {name!r}: type must be one of {', '.join(TYPES)}",
                field=f"variables.{index}.type",
                as_list=True,
                variable=name,
            )
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise invalid(
                f"Variable {name!r}: required must be true or false",
                field=f"variables.{index}.required",
                as_list=True,
                variable=name,
            )
        description = item.get("description")
        if description is not None and (
            not isinstance(description, str) or len(description) > 1000
        ):
            raise invalid(
                f"Variable {name!r}: description must be a string of at most 1000 characters",
                field=f"variables.{index}.description",
                as_list=True,
                variable=name,
            )
        variable = {
            "name": name,
            "type": kind,
            "default": None,
            "required": required,
            "description": description,
        }
        if item.get("default") is not None:
            variable["default"] = coerce(variable, item["default"])
        variables.append(variable)
    return variables


def placeholders(
    node: Any, found: set[str] | None = None, budget: list[int] | None = None
) -> set[str]:
    found = set() if found is None else found
    budget = [MAX_DOCUMENT_NODES] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        raise invalid(
            f"The document is too large (more than {MAX_DOCUMENT_NODES} values)",
            field="document",
            as_list=True,
        )
    if isinstance(node, str):
        found.update(PLACEHOLDER.findall(node))
    elif isinstance(node, list):
        for item in node:
            placeholders(item, found, budget)
    elif isinstance(node, dict):
        for item in node.values():
            placeholders(item, found, budget)
    return found


def document_of(body: dict) -> dict:
    """The template's document: `document`, or the canvas
    fields at the top level of the body."""
    document = body.get("document")
    if document is None:
        document = {key: body[key] for key in CANVAS_KEYS if key in body}
    if not isinstance(document, dict) or not isinstance(document.get("components"), list):
        raise invalid(
            "A template needs a document: {width, height, background, "
            "components: [...]} (as `document` or at the top level)",
            field="document",
            as_list=True,
        )
    return {key: document[key] for key in CANVAS_KEYS if key in document}


def check_definition(document: dict, variables: list[dict], max_components: int) -> None:
    declared = {v["name"] for v in variables}
    unknown = sorted(placeholders(document) - declared)
    if unknown:
        raise invalid(
            f"Unknown placeholder(s) {', '.join('{{' + n + '}}' for n in unknown)}"
            ": declare them in variables",
            field="document",
            as_list=True,
            unknown=unknown,
        )
    if len(document["components"]) > max_components:
        raise invalid(
            f"Too many components: {len(document['components'])} (the limit is "
            f"{max_components} per image)",
            field="document.components",
            as_list=True,
            limit=max_components,
        )
    # Whatever the values, the filled document must be renderable: check it now with each
    # variable's default (or a sample of its type) rather than fail at every render later.
    samples = {
        v["name"]: v["default"] if v["default"] is not None else SAMPLES[v["type"]]
        for v in variables
    }
    try:
        validate_document(substitute(document, samples), max_components)
    except DocumentError as exc:
        raise ApiError(
            400,
            f"Invalid template document: {exc.message}",
            details={"field": "document", **exc.details},
        ) from None


# A value of each variable type that passes its own validation (coerce) and the document's.
SAMPLES = {
    "text": "text",
    "number": 1,
    "color": "#000000",
    "boolean": True,
    "image": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAD"
    "UlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
}


# -- substitution ---------------------------------------------------------------------------


def resolve_values(variables: list[dict], given: Any) -> dict[str, Any]:
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise invalid("variables must be an object of name: value", field="variables", as_list=True)
    values = {}
    for variable in variables:
        name = variable["name"]
        if given.get(name) is not None:
            values[name] = coerce(variable, given[name])
        elif variable["default"] is not None:
            values[name] = variable["default"]
        elif variable["required"]:
            raise invalid(
                f"Missing required variable {name!r}",
                field=f"variables.{name}",
                as_list=True,
                variable=name,
            )
        elif variable["type"] == "text":
            values[name] = ""
        elif variable["type"] == "boolean":
            values[name] = False
        else:
            values[name] = _Missing(variable)
    return values


class _Missing:
    def __init__(self, variable: dict):
        self.variable = variable

    def error(self) -> ApiError:
        name = self.variable["name"]
        return invalid(
            f"Variable {name!r} ({self.variable['type']}) has no value and no default",
            field=f"variables.{name}",
            as_list=True,
            variable=name,
        )


def substitute(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, str):
        whole = PLACEHOLDER.fullmatch(node.strip())
        if whole:
            value = values[whole.group(1)]
            if isinstance(value, _Missing):
                raise value.error()
            return value

        def replace(match: re.Match) -> str:
            value = values[match.group(1)]
            if isinstance(value, _Missing):
                raise value.error()
            return as_text(value)

        return PLACEHOLDER.sub(replace, node)
    if isinstance(node, list):
        return [substitute(item, values) for item in node]
    if isinstance(node, dict):
        return {key: substitute(item, values) for key, item in node.items()}
    return node


def fill(template: dict, given: Any) -> dict:
    """The template's document with values substituted, hidden components dropped."""
    if kind_of(template) != "document":
        raise invalid(
            f"This is {KINDS[kind_of(template)]} template: render it with POST "
            "/templates/{uid}/render",
            field="template",
            as_list=True,
        )
    document = substitute(template["document"], resolve_values(template["variables"], given))
    components = document.get("components")
    if isinstance(components, list):
        document["components"] = [
            c for c in components if not (isinstance(c, dict) and c.get("visible") is False)
        ]
    return document


# -- CRUD -------------------------------------------------------------------------------------


def variable_definition(variable: dict) -> dict:
    """A stored variable as Pictify's VariableDefinition (and Pixhaven's `default`,
    `required`). Pictify's `defaultValue` is a string (a number or boolean default is
    written as JavaScript's `String()` would: `100`, `true`); Pixhaven's `default` keeps its
    type. Absent fields are left out: Pictify's schema has no nulls."""
    validation = variable.get("validation") or {"required": variable["required"]}
    definition: dict[str, Any] = {"name": variable["name"], "type": variable["type"]}
    if variable["default"] is not None:
        definition["defaultValue"] = as_default_string(variable["default"])
    if variable["description"] is not None:
        definition["description"] = variable["description"]
    return {
        **definition,
        "validation": validation,
        "default": variable["default"],
        "required": variable["required"],
    }


def as_default_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def kind_of(template: dict) -> str:
    """The template's engine: "html", "fabric" or "document" (a component document)."""
    if html_templates.is_html(template):
        return "html"
    if fabric_templates.is_fabric(template):
        return "fabric"
    return "document"


def shape(row: dict) -> dict:
    document = row["document"]
    kind = kind_of(row)
    answer = {
        "uid": row["uid"],
        "name": row["name"],
        "description": row["description"],
        "engine": kind,
        "type": kind,
        "width": document.get("width"),
        "height": document.get("height"),
        "variables": [v["name"] for v in row["variables"]],
        "variableDefinitions": [variable_definition(v) for v in row["variables"]],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }
    answer.update(template_meta.fields(row))
    if kind == "html":
        answer["html"] = document["html"]
    elif kind == "fabric":
        answer["fabricJSData"] = document["fabricJSData"]
    else:
        answer["document"] = document
    return answer


def _pixhaven_variables(body: dict) -> Any:
    """A component template's variables: Pixhaven's `variables`, or Pictify's
    `variableDefinitions` in Pixhaven's terms."""
    given = body.get("variableDefinitions")
    if body.get("variables") is not None or not isinstance(given, list):
        return body.get("variables")
    return [
        {
            "name": d.get("name"),
            "type": d.get("type") or "text",
            "default": d.get("defaultValue"),
            "required": (d.get("validation") or {}).get("required", False) is True,
            "description": d.get("description"),
        }
        if isinstance(d, dict)
        else d
        for d in given
    ]


def _check_content(body: dict) -> None:
    """One kind of content per request (Pictify: "either html or fabricJSData, not both")."""
    if body.get("html") is not None and body.get("fabricJSData") is not None:
        raise invalid(
            "Send either html or fabricJSData, not both",
            field="fabricJSData",
            as_list=True,
        )
    if (body.get("html") is not None or body.get("fabricJSData") is not None) and (
        body.get("document") is not None or body.get("components") is not None
    ):
        raise invalid(
            "Send html, fabricJSData or a component document, not more than one",
            field="document",
            as_list=True,
        )


def _name(body: dict, default: str | None = None) -> str:
    name = body.get("name", default)
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise invalid(
            "name must be a non-empty string of at most 200 characters", field="name", as_list=True
        )
    return name.strip()


def _description(body: dict, default: str | None = None) -> str | None:
    description = body.get("description", default)
    if description is not None and (not isinstance(description, str) or len(description) > 2000):
        raise invalid(
            "description must be a string of at most 2000 characters",
            field="description",
            as_list=True,
        )
    return description


def _body(body: Any) -> dict:
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object", field="", as_list=True)
    return body


def definition(body: Any, max_components: int) -> tuple[dict, list[dict]]:
    """A create request's stored document and variables, checked as a whole (HTML, FabricJS
    or component document): what `create` stores and `POST /templates/preview` renders."""
    body = _body(body)
    _check_content(body)
    if body.get("html") is not None:
        return html_templates.definition(body)
    if body.get("fabricJSData") is not None:
        return fabric_templates.definition(body)
    variables = validate_variables(_pixhaven_variables(body))
    document = document_of(body)
    check_definition(document, variables, max_components)
    return document, variables


async def create(env: Env, owner: str, body: Any, max_components: int) -> dict:
    body = _body(body)
    document, variables = definition(body, max_components)
    now = now_iso()
    row = {
        "uid": new_uid(),
        "owner": owner,
        "name": _name(body),
        "description": _description(body),
        "document": document,
        "variables": variables,
        "created_at": now,
        "updated_at": now,
        "output_format": template_meta.output_format(body),
        "meta": template_meta.meta(body),
    }
    await table.insert(env.DB, row)
    return shape(row)


async def get(env: Env, owner: str, uid: str) -> dict:
    row = await table.get(env.DB, owner, uid)
    if row is None:
        raise ApiError(404, "Template not found", details={"uid": uid})
    return row


async def update(env: Env, owner: str, uid: str, body: Any, max_components: int) -> dict:
    """PUT: the fields present replace the stored ones; the result is checked as a whole."""
    body = _body(body)
    _check_content(body)
    row = await get(env, owner, uid)
    kind = kind_of(row)
    if kind != "document" and ("document" in body or "components" in body):
        raise invalid(
            f"{KINDS[kind].capitalize()} template is updated with "
            f"{'html' if kind == 'html' else 'fabricJSData'}, not a document",
            field="document",
            as_list=True,
        )
    # The content sent decides the kind: html or fabricJSData switches the template to it.
    if body.get("fabricJSData") is not None or (kind == "fabric" and body.get("html") is None):
        document, variables = fabric_templates.definition(body, row)
    elif body.get("html") is not None or kind == "html":
        document, variables = html_templates.definition(body, row)
    else:
        given = _pixhaven_variables(body)
        variables = validate_variables(given) if given is not None else row["variables"]
        has_document = "document" in body or "components" in body
        document = document_of(body) if has_document else row["document"]
        check_definition(document, variables, max_components)
    row.update(
        name=_name(body, row["name"]),
        description=_description(body, row["description"]),
        document=document,
        variables=variables,
        updated_at=now_iso(),
        output_format=template_meta.output_format(body, row["output_format"]),
        meta=template_meta.meta(body, row["meta"]),
    )
    await table.update(env.DB, owner, uid, row)
    return shape(row)


async def delete(env: Env, owner: str, uid: str) -> None:
    """Delete a template no binding uses: one that is bound is a 409 naming how many
    bindings use it (delete or re-point them first), so no binding is left rendering
    nothing."""
    from pixhaven.db import bindings

    bound = await bindings.count_for_template(env.DB, owner, uid)
    if bound:
        raise ApiError(
            409,
            f"Template is used by {bound} binding(s): delete them or change their templateId first",
            code="TEMPLATE_IN_USE",
            details={"uid": uid, "bindings": bound},
        )
    if not await table.delete(env.DB, owner, uid):
        raise ApiError(404, "Template not found", details={"uid": uid})


SORTS = ("newest", "oldest", "name")
OUTPUT_FORMATS = ("all", "image", "pdf")


async def list_page(
    env: Env, owner: str, page: int, limit: int, sort: str = "newest", output_format: str = "all"
) -> dict:
    """A page of the owner's templates, Pictify's `sort` (newest, oldest, name) and
    `outputFormat` filter (each template's own: image or pdf)."""
    if sort not in SORTS:
        raise invalid(f"sort must be one of {', '.join(SORTS)}", field="sort", as_list=True)
    if output_format not in OUTPUT_FORMATS:
        raise invalid(
            f"outputFormat must be one of {', '.join(OUTPUT_FORMATS)}",
            field="outputFormat",
            as_list=True,
        )
    total = await table.count(env.DB, owner, output_format)
    offset = (page - 1) * limit
    rows = await table.page(env.DB, owner, limit, offset, sort, output_format) if total else []
    pagination = pictify_pagination(page, limit, total)
    return {
        "success": True,
        "templates": [shape(row) for row in rows],
        "pagination": {**pagination, "hasMore": pagination["hasNext"]},  # Pixhaven's name too
    }
