"""Shapes shared by every dialect, and the OpenAPI pieces every router uses: the error
responses (`errors(...)`) and request bodies that handlers read by hand (`request_body(...)`).

Request-body models are documentation: handlers keep reading and checking their bodies
themselves (their messages are part of the API), so these models never validate anything.
So are the answer models of routes that build their answers as JSON data and send them as
they are (`answer(...)`, routers/native_json.py). Their JSON schemas are built only when
/openapi.json is first asked for (`complete_openapi`), not at import.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DocumentedBody(BaseModel):
    """A request body its handler reads and checks itself: the model only describes it in
    /openapi.json (see `request_body`). `defer_build` keeps pydantic from building a
    validator for it at import, which was a third of the app's import time."""

    model_config = ConfigDict(defer_build=True)


# -- Unicode text in request bodies ----------------------------------------------------------

NOT_UNICODE = "a string is not Unicode text (an unpaired surrogate, \\ud800-\\udfff)"


def all_unicode(value: Any) -> bool:
    """Every string in a parsed JSON value (object keys included) is Unicode text, i.e.
    encodes as UTF-8: a JSON `\\ud800` escape parses into an unpaired surrogate, which can be
    neither stored nor answered. Walks without recursion: the value may be nested as deeply
    as the parser allows."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


class DocumentedAnswer(BaseModel):
    """An answer its route builds as JSON data itself (routers/native_json.py): the model
    only describes it in /openapi.json (see `answer`). No other key may appear
    (`additionalProperties: false`), so tests that check answers against the document
    catch a key added to the data but not to the model."""

    model_config = ConfigDict(defer_build=True, extra="forbid")


class ParsedBody(BaseModel):
    """A request body FastAPI itself parses and validates with this model (PixelFlare's):
    as in the bodies read by hand (`routers/requests.read_json`), a string that is not
    Unicode text is refused (400) before any field sees it."""

    @model_validator(mode="before")
    @classmethod
    def _unicode_text_only(cls, data: Any) -> Any:
        if not all_unicode(data):
            raise ValueError(NOT_UNICODE)
        return data


class ErrorEnvelope(BaseModel):
    """SPEC §3: the superset error body every dialect's client can read."""

    success: bool = False
    error: str = Field(examples=["Image not found"])
    code: str = Field(examples=["NOT_FOUND"])
    message: str = Field(examples=["Image not found"])
    details: Any = Field(default_factory=dict)


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    success: bool = True
    version: str
    time: str
    checks: dict[str, str]


# -- error responses ------------------------------------------------------------------------

ERROR_DESCRIPTIONS = {
    400: "Invalid request",
    401: "Missing, unknown or revoked API key",
    403: "The key lacks the required scope",
    404: "Not found",
    406: "None of the accepted types can be produced",
    409: "Conflict with the current state",
    410: "Gone",
    413: "Too large",
    415: "Unsupported file type",
    416: "Range not satisfiable",
    422: "Understood but not processable",
    429: "Rate limited (see Retry-After)",
    500: "Internal server error",
    503: "Unavailable (not configured)",
}
PLAIN_FORBIDDEN = "text/plain: `Forbidden` when the client address is not in ALLOWED_IPS"
PLAIN_FORBIDDEN_CONTENT = {"text/plain": {"schema": {"type": "string", "enum": ["Forbidden"]}}}

SCHEMA_REF = "#/components/schemas/{model}"
# Models whose JSON schemas `complete_openapi` puts into components when /openapi.json is first
# built: the error envelope, the bodies read by hand (`request_body`) and the answers built by
# hand (`answer`).
_COMPONENT_MODELS: dict[str, type[BaseModel]] = {"ErrorEnvelope": ErrorEnvelope}


def envelope_content() -> dict[str, Any]:
    """The envelope by reference, not as `"model": ErrorEnvelope`: FastAPI builds a pydantic
    TypeAdapter at import for every `model` response of every route (over 400 of them, most
    of the app's import time), used for nothing but /openapi.json. A new dict each time:
    FastAPI keeps these in the document it builds."""
    return {"application/json": {"schema": {"$ref": SCHEMA_REF.format(model="ErrorEnvelope")}}}


def errors(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for these error statuses, each the JSON envelope. Descriptions
    override the defaults by keyword: `errors(404, 409, e404="No such album")`. A 403 also
    documents the IP allowlist's plain-text `Forbidden` (an app-wide 403 would be replaced
    by it, not merged)."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        description = descriptions.get(f"e{code}", ERROR_DESCRIPTIONS.get(code, "Error"))
        response: dict[str, Any] = {"description": description, "content": envelope_content()}
        if code == 403:
            response["description"] = f"{description}; or, {PLAIN_FORBIDDEN}"
            response["content"] = {**PLAIN_FORBIDDEN_CONTENT, **envelope_content()}
        responses[code] = response
    return responses


# Every route: the allowlist's plain 403, the last-resort JSON 500 (app.py), and the 503 of
# a route that decodes images while the decoded-pixel budget is taken (decode_budget.py).
APP_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": f"Forbidden ({PLAIN_FORBIDDEN})", "content": PLAIN_FORBIDDEN_CONTENT},
    500: {"description": ERROR_DESCRIPTIONS[500], "content": envelope_content()},
    503: {
        "content": envelope_content(),
        "description": "Busy (`BUSY`, routes that decode images): this server's "
        "decoded-pixel budget stayed taken for DECODE_WAIT_SECONDS; retry after Retry-After",
    },
}
# Every route that needs a bearer token.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = errors(400, 401, 403)


# -- request bodies read by hand ------------------------------------------------------------


def request_body(
    model: type[BaseModel],
    media_type: str = "application/json",
    *,
    required: bool = True,
    description: str | None = None,
    example: Any = None,
) -> dict[str, Any]:
    """`openapi_extra=` documenting a body the handler reads itself, as `model` describes it
    (the model's schema goes into components when /openapi.json is built)."""
    _COMPONENT_MODELS[model.__name__] = model
    body: dict[str, Any] = {
        "required": required,
        "content": {media_type: {"schema": {"$ref": SCHEMA_REF.format(model=model.__name__)}}},
    }
    if description:
        body["description"] = description
    if example is not None:
        body["content"][media_type]["example"] = example
    return {"requestBody": body}


def answer(model: type[DocumentedAnswer], status: int = 200) -> dict[str, Any]:
    """`openapi_extra=` documenting the JSON answer a route builds itself, as `model`
    describes it (merged into FastAPI's own entry for `status`, schema in components)."""
    _COMPONENT_MODELS[model.__name__] = model
    schema = {"$ref": SCHEMA_REF.format(model=model.__name__)}
    return {"responses": {str(status): {"content": {"application/json": {"schema": schema}}}}}


# Every route that takes a body: its size is limited while it arrives (middleware.body_limit).
BODY_TOO_LARGE = (
    "Request body too large: past MAX_JSON_BYTES (uploads: MAX_UPLOAD_BYTES), "
    "counted as it arrives, chunked or not"
)


def complete_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Finish FastAPI's document: add the error envelope's, hand-read bodies' and hand-built
    answers' schemas, document the body size limit's 413 on every operation that takes a
    body, and drop the automatic `422 Validation Error` FastAPI adds to routes with parameters
    (validation errors answer 400 with the envelope here; the routes that do answer 422
    document it themselves)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, model in _COMPONENT_MODELS.items():
        model_schema = model.model_json_schema(ref_template=SCHEMA_REF)
        for def_name, definition in model_schema.pop("$defs", {}).items():
            components.setdefault(def_name, definition)
        components[name] = model_schema
    automatic = {"$ref": "#/components/schemas/HTTPValidationError"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "requestBody" in operation and "413" not in responses:
                responses["413"] = {"description": BODY_TOO_LARGE, "content": envelope_content()}
            if (
                responses.get("422", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema")
                == automatic
            ):
                del responses["422"]
    if "/HTTPValidationError'" not in repr(schema.get("paths")):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema
