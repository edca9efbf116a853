"""One error shape for every dialect (SPEC §3).

Every error body is a superset that each of the five API documents accepts:
`{"success": false, "error": "…", "code": "NOT_FOUND", "message": "…", "details": {…}}`.
CattoPic and Craftr clients read `error`, PixelFlare clients read `code`/`message`/`details`,
Splinterpic clients read `error`/`details`. The one exception is the IP allowlist's plain
`Forbidden` (see security/ip_allowlist.py), as the Splinterpic document shows it.

On Pictify's paths the same body also carries Pictify's RFC 9457 fields (`problem_fields`):
`type`, `title`, `status`, `detail`, `instance`, `errors[]` for field errors and, on a 429,
`retryAfter` (its documentation) and `retry_after` (what its Python SDK reads). Which paths
are Pictify's is one list, `app.state.problem_paths`, set from Pictify's routers by
`install_error_handlers`; every error answer goes through `error_response`, which applies
it. Pictify answers problems as `application/json` (its OpenAPI), and so do we.
"""

import json
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pixhaven.numerals import is_ascii_digits

# HTTP status → the PixelFlare error code used when a handler does not name one.
DEFAULT_CODES = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "FILE_TOO_LARGE",
    415: "INVALID_FILE_TYPE",
    422: "UNPROCESSABLE",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
}

DEFAULT_MESSAGES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Payload too large",
    429: "Too many requests",
    500: "Internal server error",
}


class ApiError(Exception):
    """Raised anywhere in a request to answer with the error envelope."""

    def __init__(
        self,
        status: int,
        error: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(error)
        self.status = status
        self.error = error
        self.code = code or DEFAULT_CODES.get(status, "ERROR")
        self.details = {} if details is None else details
        self.headers = headers
        self.extra = extra or {}


class BodyTooLarge(ApiError, StarletteHTTPException):
    """A 413 raised while the request body arrives, once it is past its route's limit (see
    `middleware.body_limit`). Also a Starlette `HTTPException`, because readers that turn
    any other read failure into a 400 (FastAPI's own JSON body parsing) re-raise those; the
    `ApiError` handler answers it with the envelope."""

    def __init__(self, error: str, *, code: str, max_bytes: int, **details: Any):
        ApiError.__init__(self, 413, error, code=code, details={"max_bytes": max_bytes, **details})
        self.status_code = 413
        self.detail = error


class JsonTooDeep(ApiError, StarletteHTTPException):
    """A 400 raised while a JSON body arrives, once it nests deeper than any parser here may
    be given (`pixhaven.json_depth`). An `HTTPException` too, for the reason of
    `BodyTooLarge`; `routers.requests.read_json` turns it into its dialect's 400."""

    def __init__(self, limit: int):
        error = f"Invalid JSON: nested more than {limit} levels deep"
        ApiError.__init__(self, 400, error, code="INVALID_REQUEST", details="nested too deeply")
        self.status_code = 400
        self.detail = error


def invalid(
    message: str,
    *,
    field: str | None = None,
    explanation: str | None = None,
    as_list: bool = False,
    status: int = 400,
    code: str | None = None,
    **details: Any,
) -> ApiError:
    """The one factory for "this request is not acceptable as sent" (400 unless `status`
    says otherwise). The dialects document three `details` shapes; the arguments pick one:

    - `field=`: `{"field": field, **details}`; with `explanation=`, the field's problem in
      its own words, `{"field": field, "message": explanation, **details}` (CattoPic,
      PixelFlare; Splinterpic's `Invalid {field} parameter`, see `invalid_parameter`).
    - `as_list=True`: `{"errors": [{"field": field, "message": explanation or message}],
      **details}`, Pictify's and Craftr's list of field errors (the shape FastAPI's own
      validation failures are answered with, below).
    - neither: `details` as given, or `explanation` alone as a bare string (CattoPic's
      "Invalid request body": "Expected a JSON object").
    """
    shaped: Any
    if as_list:
        shaped = {"errors": [{"field": field or "", "message": explanation or message}]}
        shaped.update(details)
    elif field is not None:
        shaped = {"field": field}
        if explanation is not None:
            shaped["message"] = explanation
        shaped.update(details)
    elif explanation is not None:
        if details:
            raise TypeError("a bare explanation carries no other details; name the field")
        shaped = explanation
    else:
        shaped = details
    return ApiError(status, message, code=code, details=shaped)


def invalid_parameter(field: str, explanation: str, **details: Any) -> ApiError:
    """Splinterpic's documented validation error: `Invalid {field} parameter`, the field and
    what is wrong with it in `details`."""
    return invalid(f"Invalid {field} parameter", field=field, explanation=explanation, **details)


def error_body(status: int, error: str, code: str | None = None, details: Any = None) -> dict:
    return {
        "success": False,
        "error": error,
        "code": code or DEFAULT_CODES.get(status, "ERROR"),
        "message": error,
        "details": {} if details is None else details,
    }


class EnvelopeResponse(JSONResponse):
    """The error envelope as JSON. Its text may quote the request (a name, a field), and a
    lone surrogate such a quote can hold cannot be encoded as UTF-8: it is answered as `?`
    rather than failing the error answer itself."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", "replace")


def error_response(
    status: int,
    error: str,
    code: str | None = None,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    *,
    scope: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """The error answer; with the request's ASGI `scope`, Pictify's fields on its paths."""
    body = error_body(status, error, code, details)
    if extra:
        body.update(extra)
    if scope is not None and is_problem_path(scope):
        # Added, never replacing a field the answer already has.
        for name, value in problem_fields(body, status, scope.get("path", ""), headers).items():
            body.setdefault(name, value)
    return EnvelopeResponse(body, status_code=status, headers=headers)


# -- Pictify's RFC 9457 problem details --------------------------------------------------------

PROBLEM_TYPE = "https://docs.pictify.io/errors/{slug}"
# The slugs and titles Pictify documents (api-reference/errors.mdx), by our code; any other
# error is named after its HTTP status ("not-found", "Not Found").
PROBLEM_BY_CODE = {
    "INVALID_REQUEST": ("validation-error", "Validation Error"),
    "RATE_LIMITED": ("rate-limit-exceeded", "Rate Limit Exceeded"),
    "NAVIGATION_FAILED": ("url-fetch-failed", "URL Fetch Failed"),
}
PROBLEM_404_BY_PATH = {
    "/templates": ("template-not-found", "Template Not Found"),
    "/bindings": ("binding-not-found", "Binding Not Found"),
}


def field_error_code(kind: str) -> str:
    """A FastAPI (pydantic) validation error type as the codes Pictify's `errors[]` items
    use (`required`, `invalid_type`, `out_of_range`, `too_long`); others pass through."""
    if kind == "missing":
        return "required"
    if kind.endswith(("_parsing", "_type")):
        return "invalid_type"
    if kind.startswith(("greater_than", "less_than")):
        return "out_of_range"
    if kind.endswith("too_long"):
        return "too_long"
    return kind


def install_problem_paths(app: FastAPI, prefixes: Iterable[str]) -> None:
    """Name the path prefixes (`/image`, `/templates`, …) whose errors carry Pictify's
    fields: a path is one of them when it is a prefix or starts with one and a slash."""
    app.state.problem_paths = tuple(sorted(set(prefixes)))


def is_problem_path(scope: Mapping[str, Any]) -> bool:
    app = scope.get("app")
    prefixes = getattr(getattr(app, "state", None), "problem_paths", ())
    path = scope.get("path", "")
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


def problem_fields(
    body: Mapping[str, Any], status: int, path: str, headers: Mapping[str, str] | None
) -> dict[str, Any]:
    """RFC 9457's members for an envelope `body`, as Pictify answers them."""
    code, details = body.get("code"), body.get("details")
    slug_title = PROBLEM_BY_CODE.get(str(code))
    if status == 401:
        reason = details.get("reason", "") if isinstance(details, dict) else ""
        slug_title = (
            ("missing-authorization", "Missing Authorization")
            if reason.startswith("missing")
            else ("invalid-api-key", "Invalid API Key")
        )
    elif status == 404 and not path.startswith("/templates/batch/"):  # a batch is no template
        slug_title = PROBLEM_404_BY_PATH.get("/" + path.split("/")[1] if "/" in path else path)
    if slug_title is None:
        title = _reason(status)
        slug_title = ("-".join(title.lower().replace("-", " ").split()), title)
    slug, title = slug_title
    fields: dict[str, Any] = {
        "type": PROBLEM_TYPE.format(slug=slug),
        "title": title,
        "status": status,
        "detail": body.get("error", title),
        "instance": path,
    }
    field_errors = _field_errors(details, body.get("error", ""))
    if field_errors:
        fields["errors"] = field_errors
    if status == 429:
        retry = next(
            (value for name, value in (headers or {}).items() if name.lower() == "retry-after"), ""
        )
        if is_ascii_digits(retry):
            fields["retryAfter"] = fields["retry_after"] = int(retry)
    return fields


def _field_errors(details: Any, message: str) -> list[dict[str, str]]:
    """`errors[]`: the list of field errors a validation answer holds (`details.errors`), or
    its one named field (`details.field`)."""
    if not isinstance(details, dict):
        return []
    listed = details.get("errors")
    if isinstance(listed, list):
        items = []
        for item in listed:
            if isinstance(item, dict) and "field" in item:
                entry = {"field": str(item["field"]), "message": str(item.get("message", ""))}
                kind = item.get("code") or item.get("type")
                if kind:
                    entry["code"] = field_error_code(str(kind))
                items.append(entry)
        return items
    if isinstance(details.get("field"), str):
        return [{"field": details["field"], "message": str(details.get("message", message))}]
    return []


def _validation_details(exc: RequestValidationError) -> list[dict]:
    # FastAPI's raw errors may carry non-JSON values (exceptions in ctx, bytes inputs);
    # keep the parts a client can act on.
    return [
        {
            "field": ".".join(str(part) for part in err.get("loc", ())),
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI, problem_paths: Iterable[str] = ()) -> None:
    """The app's error handlers, every one answering through `error_response`;
    `problem_paths`: the prefixes whose answers carry Pictify's fields."""
    install_problem_paths(app, problem_paths)

    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, exc: ApiError):
        return error_response(
            exc.status,
            exc.error,
            exc.code,
            exc.details,
            exc.headers,
            exc.extra,
            scope=request.scope,
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else None
        if not message or message == _reason(exc.status_code):
            message = DEFAULT_MESSAGES.get(exc.status_code, _reason(exc.status_code))
        return error_response(
            exc.status_code, message, headers=getattr(exc, "headers", None), scope=request.scope
        )

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError):
        problems = _validation_details(exc)
        first = problems[0] if problems else {"field": "", "message": "invalid"}
        summary = f"Invalid request: {first['field']}: {first['message']}".replace(": : ", ": ")
        return error_response(
            400, summary, "INVALID_REQUEST", {"errors": problems}, scope=request.scope
        )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
