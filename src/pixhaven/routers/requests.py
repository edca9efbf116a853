"""What every router reads from a request, in one place: the injected bindings, settings and
caller (as `Annotated` aliases), JSON bodies, and integer query and paging parameters.
(CattoPic's multipart upload form is its own: routers/cattopic/forms.py.)

The dialects word a bad body differently (their clients read those answers), so the one
JSON reader takes the dialect's wording (`BodyErrors`) instead of there being one reader
per dialect.

The caller aliases put the scope check in the parameter's type: `identity: CanWriteImages`
answers 401/403 before the handler runs, as `Depends(require("images:write"))` did, and
keeps calls out of argument defaults.
"""

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from pixhaven.dependencies import get_env, get_settings
from pixhaven.errors import ApiError, JsonTooDeep, invalid
from pixhaven.json_depth import is_json_content_type, nested_deeper_than
from pixhaven.models.common import NOT_UNICODE, all_unicode
from pixhaven.numerals import integer_from_text
from pixhaven.security.auth import Identity, authenticated, forbidden_key, require
from pixhaven.services.images.upload_urls import upload_too_large
from pixhaven.settings import Settings

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env

# -- injected values --------------------------------------------------------------------------

if TYPE_CHECKING:
    # For the type checker a handler's `env` is the bindings; FastAPI reads the Annotated
    # form below at runtime (the Protocols never load on the Worker).
    EnvDep = Env
else:
    EnvDep = Annotated[Any, Depends(get_env)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

Authenticated = Annotated[Identity, Depends(authenticated)]  # any valid key, whatever its scopes
CanReadImages = Annotated[Identity, Depends(require("images:read"))]
CanWriteImages = Annotated[Identity, Depends(require("images:write"))]
CanRender = Annotated[Identity, Depends(require("render"))]
# Craftr's render: its document answers an invalid API key 403 (a missing header stays 401).
CraftrCanRender = Annotated[Identity, Depends(require("render", invalid_key=forbidden_key))]
CanGenerate = Annotated[Identity, Depends(require("generate"))]
CanReadTemplates = Annotated[Identity, Depends(require("templates:read"))]
CanWriteTemplates = Annotated[Identity, Depends(require("templates:write"))]
CanManageWebhooks = Annotated[Identity, Depends(require("webhooks"))]
CanReadAnalytics = Annotated[Identity, Depends(require("analytics:read"))]
CanReadKeys = Annotated[Identity, Depends(require("keys:read"))]
CanWriteKeys = Annotated[Identity, Depends(require("keys:write"))]


# -- JSON bodies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BodyErrors:
    """How a dialect answers a body that is not JSON (or JSON it will not take: nested too
    deeply, or a string that is not Unicode; the reason is then given), or not the JSON
    object it expects."""

    not_json: Callable[[str | None], ApiError]
    not_object: Callable[[], ApiError]
    # A dialect whose document requires `Content-Type: application/json` refuses any other
    # (or none) with this answer; the others read the body whatever it is labelled.
    not_json_content_type: Callable[[], ApiError] | None = None


# CattoPic, PixelFlare and Splinterpic: one message, the expectation as a bare string.
PLAIN_BODY_ERRORS = BodyErrors(
    not_json=lambda reason: invalid(
        "Invalid request body", explanation=reason or "Expected a JSON object"
    ),
    not_object=lambda: invalid("Invalid request body", explanation="Expected a JSON object"),
)
# Splinterpic: the same, and "All POST and PUT requests must include a Content-Type:
# application/json header", refused in the document's own words.
SPLINTERPIC_BODY_ERRORS = replace(
    PLAIN_BODY_ERRORS,
    not_json_content_type=lambda: invalid(
        "Invalid request body", explanation="Expected JSON content-type"
    ),
)
# Pictify and Craftr: their list of field errors, on the body as a whole (field "").
FIELD_LIST_BODY_ERRORS = BodyErrors(
    not_json=lambda reason: invalid(
        "The request body must be JSON",
        field="",
        explanation=f"invalid JSON: {reason}" if reason else "invalid JSON",
        as_list=True,
    ),
    not_object=lambda: invalid(
        "The request body must be a JSON object",
        field="",
        explanation="expected an object",
        as_list=True,
    ),
)

TOO_DEEP = "nested too deeply"


async def read_json(
    request: Request,
    errors: BodyErrors,
    *,
    object_only: bool = True,
    optional: bool = False,
) -> Any:
    """The request body parsed as JSON, or the dialect's 400. `object_only=False` accepts
    any JSON value (the caller validates it); `optional=True` reads an empty or blank body
    as `{}`. The body arrives within its size limit (`pixhaven.middleware.body_limit`).

    Refused as not JSON besides malformed text: nesting deeper than the parser's recursion
    limit, and strings with an unpaired surrogate (`"\\ud800"`), which parse but can be
    neither stored nor answered as UTF-8."""
    if errors.not_json_content_type is not None and not is_json_content_type(
        request.headers.get("content-type")
    ):
        raise errors.not_json_content_type()
    try:
        raw = await request.body()
    except JsonTooDeep:  # refused while it arrived (pixhaven.middleware)
        raise errors.not_json(TOO_DEEP) from None
    if optional and not raw.strip():
        return {}
    if nested_deeper_than(raw):  # whatever its content type
        raise errors.not_json(TOO_DEEP)
    try:
        body = json.loads(raw)
    except RecursionError:
        raise errors.not_json(TOO_DEEP) from None
    except ValueError:  # UnicodeDecodeError included
        raise errors.not_json(None) from None
    # A lone surrogate comes from a `\u` escape or from raw bytes (the json module decodes
    # with "surrogatepass"): an ASCII body without a backslash has none to look for.
    if (b"\\" in raw or not raw.isascii()) and not all_unicode(body):
        raise errors.not_json(NOT_UNICODE)
    if object_only and not isinstance(body, dict):
        raise errors.not_object()
    return body


# -- image bodies, held once ------------------------------------------------------------------
# An upload is the largest thing in a Worker isolate's 128 MB. Starlette spools a file part to
# a temporary file (on Workers, Pyodide's in-memory file system: JS memory, not the WASM
# heap), and `request.body()` keeps the chunks and then their join. Reading a file of known
# size with one `read(size)` makes exactly one bytes object of the image, nothing more.


async def file_bytes(upload: UploadFile, settings: Settings) -> bytes:
    """The uploaded file's bytes, read into one object of its size; the 413 naming the
    limit (and the direct upload) when the file is over `MAX_UPLOAD_BYTES`."""
    size = upload.size if upload.size is not None else await run_in_threadpool(_size, upload.file)
    if size > settings.max_upload_bytes:
        raise upload_too_large(settings, size)
    await upload.seek(0)
    return await upload.read(size)  # from a file on disk, off the event loop (Starlette)


async def raw_body_bytes(request: Request, settings: Settings) -> bytes:
    """A raw request body (PixelFlare's signed PUT of the image), spooled to a temporary
    file as it arrives (the middleware stops it a little past the limit), then read into
    one object of its size; the 413 of `file_bytes` past `MAX_UPLOAD_BYTES`."""
    with tempfile.TemporaryFile() as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        size = spool.tell()
        if size > settings.max_upload_bytes:
            raise upload_too_large(settings, size)
        spool.seek(0)
        return await run_in_threadpool(spool.read, size)


def _size(file) -> int:
    file.seek(0, 2)
    return file.tell()


# -- query parameters -------------------------------------------------------------------------

DEFAULT_LIMIT, MAX_LIMIT = 20, 100  # Splinterpic's `limit`
DEFAULT_PAGE_SIZE = 12  # CattoPic's `limit`


def query_int(request: Request, name: str, default: int, low: int) -> int:
    """An integer query parameter, `default` when absent, a 400 naming it when malformed."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = integer_from_text(raw)
    if value is None:
        raise invalid(f"{name} must be an integer", field=name)
    if value < low:
        raise invalid(f"{name} must be at least {low}", field=name)
    return value


def offset_params(request: Request) -> tuple[int, int]:
    """(limit, offset): Splinterpic's pagination (`limit` default 20, at most 100)."""
    limit = min(query_int(request, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    return limit, query_int(request, "offset", 0, 0)


def page_params(request: Request, default_limit: int = DEFAULT_PAGE_SIZE) -> tuple[int, int, int]:
    """(limit, offset, page) from CattoPic's `page`/`limit` (`default_limit` a page: 12 on
    CattoPic's `/api/images`) or, when `offset` is given, Splinterpic's `offset`/`limit`
    (20 by default)."""
    if "offset" in request.query_params:
        limit, offset = offset_params(request)
        return limit, offset, offset // limit + 1
    limit = min(query_int(request, "limit", default_limit, 1), MAX_LIMIT)
    page = query_int(request, "page", 1, 1)
    return limit, (page - 1) * limit, page
