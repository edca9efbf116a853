"""Pixhaven's Pictify answers checked against Pictify's official OpenAPI
(`shared/reference/pictify/openapi/v1.yaml`, beside the repository, as CI lays it out).

`check(response)` finds the operation the request was (the seed's paths: Pictify's API as
its document has it), and asserts that the answer is one the document allows:
- a status the operation declares, its JSON body valid against the declared schema (with
  `format` checked: `uri`, `date-time`);
- or an error (4xx, 5xx) whose body is Pictify's `Error` (RFC 9457's `type`, `title`,
  `status`, …), whether or not the operation lists that status.
A request for the file itself (`Accept: image/gif` or `application/pdf`, a Pixhaven extension
the document does not describe) is not JSON and is left alone. DEVIATIONS and
EXTRA_ENUM_VALUES list what Pixhaven answers deliberately otherwise (README, "Deviations
from Pictify's OpenAPI").

tests/conftest.py installs `check` on every test client, so every Pictify answer in the
suite is held to the document; tests/test_pictify_openapi.py drives each operation.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT.parent / "shared" / "reference" / "pictify" / "openapi" / "v1.yaml"

# (METHOD, path template) → why Pixhaven answers otherwise than the document.
DEVIATIONS: dict[tuple[str, str], str] = {}
# Values Pixhaven answers beyond the document's enums, and why (README, "Deviations from
# Pictify's OpenAPI"): (schema, property, …) → the extra values.
EXTRA_ENUM_VALUES = {
    # Pictify's webhook docs list batch.completed and batch.failed as events; its OpenAPI's
    # enum has only render.* and binding.*. A subscription to a batch event answers its name.
    ("WebhookSubscription", "event"): ["batch.completed", "batch.failed", "batch.cancelled"],
    # Pictify's bindings docs refresh on a cron `schedule`; its OpenAPI's policy types are
    # ttl, etag, webhook and manual. A scheduled binding answers its type as `schedule`.
    ("Binding", "refreshPolicy", "type"): ["schedule"],
}

# Every operation `check` validated in this process: the coverage test reads it.
SEEN: set[tuple[str, str]] = set()


@functools.cache
def spec() -> dict | None:
    if not SPEC_PATH.exists():
        return None
    import yaml

    document = yaml.safe_load(SPEC_PATH.read_text())
    for (schema, *fields), values in EXTRA_ENUM_VALUES.items():
        node = document["components"]["schemas"][schema]
        for field in fields:
            node = node["properties"][field]
        node["enum"] += values
    return document


def _pointer(document: dict, ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def resolved(node: Any, depth: int = 0) -> Any:
    """`node` with every local `$ref` replaced by what it points to."""
    document = spec()
    assert document is not None and depth < 50
    if isinstance(node, dict):
        if "$ref" in node:
            return resolved(_pointer(document, node["$ref"]), depth + 1)
        return {key: resolved(value, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [resolved(item, depth + 1) for item in node]
    return node


@functools.cache
def _operations() -> list[tuple[re.Pattern, str]]:
    """(regex of the path, path template), literal paths before templated ones so
    `/templates/batch/…` is never taken for `/templates/{uid}/…`."""
    document = spec()
    assert document is not None
    templates = sorted(document["paths"], key=lambda path: (path.count("{"), path))
    return [
        (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"), path)
        for path in templates
    ]


def operation_of(method: str, path: str) -> str | None:
    """The document's path template for a request, or None when it is not Pictify's (or the
    document is not there)."""
    document = spec()
    if document is None:
        return None
    for pattern, template in _operations():
        if pattern.match(path) and method.lower() in document["paths"][template]:
            return template
    return None


@functools.cache
def _validator(schema_json: str):
    import jsonschema_rs

    return jsonschema_rs.validator_for(json.loads(schema_json), validate_formats=True)


def violations(schema: dict, instance: Any) -> list[str]:
    validator = _validator(json.dumps(resolved(schema), sort_keys=True))
    return [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def check(response: httpx.Response) -> None:
    """Assert that `response` is an answer Pictify's document allows (see the module)."""
    document = spec()
    if document is None:
        return
    request = response.request
    template = operation_of(request.method, request.url.path)
    if template is None or request.method == "HEAD":
        return
    if not response.headers.get("content-type", "").startswith("application/json"):
        return  # a file asked for with Accept (a Pixhaven extension)
    key = (request.method, template)
    if key in DEVIATIONS:
        return
    SEEN.add(key)
    declared = document["paths"][template][request.method.lower()]["responses"]
    status = str(response.status_code)
    body = response.json()
    if status in declared:
        content = declared[status].get("content", {}).get("application/json")
        schema = content.get("schema") if content else None
    elif response.status_code >= 400:
        schema = {"$ref": "#/components/schemas/Error"}
    else:
        raise AssertionError(
            f"{request.method} {request.url.path} answered {status}; Pictify's document "
            f"declares {sorted(declared)} for {request.method} {template}"
        )
    if schema is not None:
        problems = violations(schema, body)
        assert not problems, (
            f"{request.method} {request.url.path} ({status}) does not match Pictify's "
            f"OpenAPI for {request.method} {template}: {problems[:5]}"
        )
