"""Pictify request bodies (`POST /image`, `/gif`, `/pdf/*`, `/templates*`).

Documentation only: the handlers read the JSON themselves and services/rendering/render.py,
services/rendering/gif_pdf.py and services/rendering/templates.py check it (their messages
are the API's; services/rendering/html*.py and canvas.py for the browser's inputs). A
component document is Craftr's (render/document.py). `html`/`url` (and `/image/canvas`) are
rendered by the browser binding.
"""

from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, Field

from pixhaven.models.common import DocumentedBody
from pixhaven.numerals import NUMBER_TEXT
from pixhaven.render.document import HEX_SCHEMA, Document

if TYPE_CHECKING:
    from pydantic.json_schema import JsonDict, JsonValue

NOT_BLANK = r"\S"
FORMAT: "JsonDict" = {
    "anyOf": [
        {"type": "string", "enum": ["png", "jpeg", "jpg", "webp", "avif", "svg"]},
        {"type": "null"},
    ],
    "description": "output type; default png",
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "The first answer for (owner, key) is replayed for 24 hours; "
    "the same key with another body is a 422, while the first "
    "request runs a 409",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x20-\x7e]+$"},
}


def _template_uid() -> Any:
    return Field(
        None,
        json_schema_extra={"anyOf": [{"type": "string", "pattern": NOT_BLANK}, {"type": "null"}]},
    )


class GenerateImageBody(Document):
    """`html` or `url`, screenshot by the browser binding (services/rendering/html.py: width
    and height default to 1200 x 630 there); or a component document (as Craftr's
    `POST /api/v1/image`), or a template uid with variables (`width`/`height` then override
    the template's canvas)."""

    model_config = ConfigDict(
        defer_build=True,
        json_schema_extra={
            "anyOf": [
                {"required": ["html"]},
                {"required": ["url"]},
                {"required": ["components"]},
                {"required": ["template"]},
                {"required": ["templateUid"]},
                {"required": ["template_uid"]},
                {"required": ["templateId"]},
            ]
        },
    )

    template: str | None = _template_uid()
    templateUid: str | None = _template_uid()
    template_uid: str | None = _template_uid()
    templateId: str | None = _template_uid()
    variables: dict[str, Any] | None = Field(None, description="name: value, for a template")
    format: str | None = Field(None, json_schema_extra=FORMAT)
    html: str | None = Field(None, description="HTML to render (a document or a fragment)")
    url: str | None = Field(None, description="http(s) URL to screenshot; not with html")
    fileExtension: Literal["png", "jpg", "jpeg", "webp"] | None = Field(
        None, description="html/url output type (default png); `format` is accepted too"
    )
    quality: int | None = Field(None, ge=1, le=100, description="jpeg/webp, default 85")
    deviceScaleFactor: float | None = Field(None, ge=1, le=3, description="default 1")
    transparent: bool | None = Field(None, description="transparent background (png/webp)")
    selector: str | None = Field(None, description="crop to the first matching element")
    fullPage: bool | None = Field(None, description="the whole scrollable page")
    waitForSelector: str | None = Field(None, description="wait for this element first")
    waitForTimeout: int | None = Field(None, ge=0, le=30_000, description="ms after load")


class CanvasVariableDefinition(DocumentedBody):
    name: str
    type: Literal["text", "image", "color", "number", "boolean"] | None = None
    defaultValue: str | None = Field(None, description="used when `variables` has no value")
    description: str | None = None
    validation: dict[str, Any] | None = Field(None, description="`required`: true makes it 400")


class CanvasBody(DocumentedBody):
    """`POST /image/canvas` (services/rendering/canvas.py): drawn by fabric.js 5.3 in the
    browser; `{{name}}` in text objects' `text` is replaced by the variable's value."""

    fabricJSData: dict[str, Any] = Field(description="FabricJS canvas JSON (canvas.toJSON())")
    variables: dict[str, Any] | None = Field(None, description="name: value")
    variableDefinitions: list[CanvasVariableDefinition] | None = None
    width: int | None = Field(
        None, ge=1, le=4000, description="default: fabricJSData's width, else 1200"
    )
    height: int | None = Field(
        None, ge=1, le=4000, description="default: fabricJSData's height, else 630"
    )
    fileExtension: Literal["png", "jpg", "jpeg", "webp"] | None = Field(
        None, description="default png (png and webp keep transparency); `format` too"
    )
    quality: int | None = Field(None, ge=1, le=100, description="jpeg/webp, default 85")


class AgentScreenshotBody(DocumentedBody):
    """`POST /image/agent-screenshot` (services/rendering/agent.py)."""

    prompt: str = Field(
        min_length=1,
        max_length=2000,
        description="What to capture, e.g. 'the pricing section on stripe.com'",
    )


class GifFrame(Document):
    """One frame; width, height and background default to the GIF's (every frame must have
    the GIF's size)."""

    model_config = ConfigDict(defer_build=True)  # documentation only

    delay: float | None = Field(None, ge=0, le=655_350, description="milliseconds")
    duration: float | None = Field(None, ge=0, le=655_350, description="alias of delay")


GIF_QUALITY = Field(
    None,
    description="html/url: low (10 fps, 64 colours), medium (15 fps, 128 colours; the "
    "default) or high (24 fps, 256 colours)",
)
GIF_SECONDS = Field(
    None,
    ge=1,
    le=30,
    description="html/url: the span recorded, in seconds (at most 10 / 15 / 30 for low / "
    "medium / high); default: one iteration of the page's longest animation (at most 10 s; "
    "1 s without animations)",
)


class GifBody(DocumentedBody):
    """`html` or `url` (the page's CSS and Web Animations stepped frame by frame by the
    browser; services/rendering/html_gif.py: width x height default to 800 x 600, at most
    2000 each), or `frames` of component documents (a Pixhaven extension)."""

    model_config = ConfigDict(
        defer_build=True,
        json_schema_extra={
            "anyOf": [{"required": ["html"]}, {"required": ["url"]}, {"required": ["frames"]}]
        },
    )

    html: str | None = Field(None, description="HTML with CSS animations")
    url: str | None = Field(None, description="http(s) URL of a page with animations")
    quality: Literal["low", "medium", "high"] | None = GIF_QUALITY
    frameDurationSeconds: float | None = GIF_SECONDS
    waitForSelector: str | None = Field(None, description="html/url: wait for this element")
    width: int = Field(1200, ge=1, le=4096, description="frames default 1200; html/url 800")
    height: int = Field(630, ge=1, le=4096, description="frames default 630; html/url 600")
    background: str = Document.model_fields["background"]  # type: ignore[assignment]  # Document's own field (default, checks, docs)
    delay: float | None = Field(
        None, ge=0, le=655_350, description="default frame delay in milliseconds (100)"
    )
    duration: float | None = Field(None, ge=0, le=655_350, description="alias of delay")
    loop: int | None = Field(0, ge=0, le=65_535, description="repeat count, 0 = forever")
    frames: list[GifFrame] | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="at most 2048x2048 pixels per frame, 30 million pixels in all",
    )


class GifCaptureBody(DocumentedBody):
    """`POST /gif/capture`: a live page's animations recorded for `frameDurationSeconds`."""

    url: str = Field(description="http(s) URL to record")
    width: int = Field(800, ge=1, le=2000)
    height: int = Field(600, ge=1, le=2000)
    quality: Literal["low", "medium", "high"] | None = GIF_QUALITY
    frameDurationSeconds: float | None = GIF_SECONDS
    waitForSelector: str | None = Field(None, description="wait for this element first")


class PdfMargins(DocumentedBody):
    top: float | None = Field(None, ge=0, le=1000, description="px")
    bottom: float | None = Field(None, ge=0, le=1000, description="px")
    left: float | None = Field(None, ge=0, le=1000, description="px")
    right: float | None = Field(None, ge=0, le=1000, description="px")


class PdfCustomSize(DocumentedBody):
    width: float = Field(ge=72, le=10_000, description="px")
    height: float = Field(ge=72, le=10_000, description="px")


class PdfOptions(DocumentedBody):
    """HTML input only (services/rendering/html_pdf.py; sizes in GET /pdf/presets)."""

    preset: Literal["A4", "Letter", "Legal", "A3", "A5", "custom"] | None = Field(
        None, description="default A4"
    )
    customSize: PdfCustomSize | None = Field(None, description="for preset custom")
    margins: PdfMargins | None = None
    title: str | None = Field(None, max_length=1000, description="the PDF's title (html)")


class PdfPageBody(Document):
    """`POST /pdf/render`: `html` (or `url`) printed by the browser, as many pages as its
    content needs; or one component document, one page (a Pixhaven extension)."""

    model_config = ConfigDict(defer_build=True)  # documentation only

    html: str | None = Field(None, description="an HTML document to print")
    url: str | None = Field(None, description="an http(s) page to print; not with html")
    options: PdfOptions | None = None


class PdfPagesBody(DocumentedBody):
    """`POST /pdf/multi-page`: `pages` of HTML (each its own document, printed as exactly
    one page), or of component documents, one page each, whose top-level canvas fields are
    the pages' defaults."""

    width: int = Field(1200, ge=1, le=4096)
    height: int = Field(630, ge=1, le=4096)
    background: str = Document.model_fields["background"]  # type: ignore[assignment]  # Document's own field (default, checks, docs)
    pages: list[Document] | list[str] = Field(min_length=1, max_length=50)
    options: PdfOptions | None = Field(None, description="HTML pages only")


# -- templates ------------------------------------------------------------------------------

VARIABLE_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
_COMMON: dict[str, Any] = {
    "name": {"type": "string", "pattern": VARIABLE_NAME},
    "required": {"type": "boolean", "default": False},
    "description": {"anyOf": [{"type": "string", "maxLength": 1000}, {"type": "null"}]},
}
_DEFAULTS: dict[str, Any] = {  # services/rendering/templates.coerce: what each type accepts
    "text": {"anyOf": [{"type": "string", "maxLength": 5000}, {"type": "number"}]},
    "number": {"anyOf": [{"type": "number"}, {"type": "string", "pattern": NUMBER_TEXT}]},
    "color": {"type": "string", **HEX_SCHEMA},
    "image": {
        "type": "string",
        "pattern": r"^\s*([hH][tT][tT][pP][sS]?://|[dD][aA][tT][aA]:[iI]"
        r"[mM][aA][gG][eE]/)",
    },
    "boolean": {"anyOf": [{"type": "boolean"}, {"type": "string", "enum": ["true", "false"]}]},
}
TEMPLATE_VARIABLE: dict[str, Any] = {  # a JSON schema, built from _DEFAULTS
    "anyOf": [
        {
            "type": "object",
            "required": ["name", "type"],
            "properties": {
                **_COMMON,
                "type": {"type": "string", "const": kind},
                "default": {"anyOf": [accepted, {"type": "null"}]},
            },
        }
        for kind, accepted in _DEFAULTS.items()
    ]
    + [
        {
            "type": "object",
            "required": ["name"],
            "not": {"required": ["type"]},
            "description": "type defaults to text",
            "properties": {**_COMMON, "default": {"anyOf": [_DEFAULTS["text"], {"type": "null"}]}},
        }
    ],
    "description": "{name, type (text, number, color, image, boolean; default text), "
    "default, required, description}; names are unique",
}
TEMPLATE_DOCUMENT: "JsonDict" = {
    "type": "object",
    "required": ["components"],
    "description": "width, height, background, components (Craftr's schema), with "
    "{{variable}} placeholders in any string; every placeholder must name a "
    "declared variable; at most MAX_COMPONENTS (10) components",
    "properties": {
        "width": {},
        "height": {},
        "background": {},
        "components": {"type": "array", "maxItems": 10},
    },
}


class CreateTemplateBody(DocumentedBody):
    """`POST /templates`: Pictify's `html` with `{{ }}` expressions or `fabricJSData` with
    `{{name}}` in text objects and `variableBindings` (one of them; the variables extracted
    into `variableDefinitions`), or, a Pixhaven extension, a component document as
    `document` or its fields at the top level."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["html"]},
                {"required": ["fabricJSData"]},
                {"required": ["document"]},
                {"required": ["components"]},
            ]
        }
    )

    name: str = Field(max_length=200, pattern=NOT_BLANK, examples=["Blog card"])
    description: str | None = Field(None, max_length=2000)
    html: str = Field(  # type: ignore[assignment]  # optional, not nullable: the schema has no null
        None,
        min_length=1,
        description="HTML with {{ expression }} placeholders and _if attributes "
        "(Pictify's expression language); width/height default to 1200 x 630",
    )
    fabricJSData: dict[str, Any] = Field(
        None,  # type: ignore[arg-type]  # optional, not nullable: the schema has no null
        description="FabricJS 5.3 canvas JSON (canvas.toJSON()): {{name}} in text objects, "
        "objects' variableBindings [{variableName, property}]; not with html; width/height "
        "default to the JSON's, else 1200 x 630",
    )
    variableDefinitions: list[dict[str, Any]] | None = Field(
        None,
        max_length=100,
        description="Pictify's {name, type, defaultValue, description, validation: "
        "{required, minLength, maxLength}}; override the extracted ones by name",
    )
    # Optional, not nullable (the schema has no null): hence the ignores on `None`.
    outputFormat: Literal["image", "pdf"] = Field(
        None,  # type: ignore[arg-type]
        description="what a render without `format` produces (default image)",
    )
    type: str = Field(None, max_length=100, description="e.g. banner")  # type: ignore[assignment]
    category: str = Field(None, max_length=100)  # type: ignore[assignment]
    tags: list[str] = Field(None, max_length=20)  # type: ignore[arg-type]
    layouts: list[dict[str, Any]] = Field(
        None,  # type: ignore[arg-type]
        max_length=20,
        description="named sizes [{name, width, height, label}] beside `default` and the "
        "built-in social sizes (README)",
    )
    document: dict[str, Any] = Field(None, json_schema_extra=TEMPLATE_DOCUMENT)  # type: ignore[arg-type]  # optional, not nullable: the schema has no null
    width: Any = None
    height: Any = None
    background: Any = None
    components: list[Any] = Field(
        None,  # type: ignore[arg-type]  # optional, not nullable: the schema has no null
        max_length=10,
        description="the document's components, at the top level",
    )
    variables: list[dict[str, Any]] | None = Field(
        None,
        max_length=100,
        json_schema_extra={
            "anyOf": [
                {"type": "array", "maxItems": 100, "items": TEMPLATE_VARIABLE},
                {"type": "null"},
            ]
        },
    )


class UpdateTemplateBody(CreateTemplateBody):
    """`PUT /templates/{uid}`: the fields present replace the stored ones; the result must
    still be a valid template."""

    model_config = ConfigDict(json_schema_extra={})

    name: str = Field(None, max_length=200, pattern=NOT_BLANK)  # type: ignore[assignment]  # optional, not nullable: the schema has no null


class ExpressionBody(DocumentedBody):
    """`POST /templates/expression/validate` and `/test`: one expression (the text between
    `{{` and `}}`), and for `/test` the variables it reads."""

    expression: str = Field(max_length=2000, examples=["price * quantity"])
    variables: dict[str, Any] | None = Field(None, description="name: value (for /test)")


TEMPLATE_FORMAT: "JsonDict" = {
    "anyOf": [
        {"type": "string", "enum": ["png", "jpeg", "jpg", "webp", "avif", "svg", "pdf"]},
        {"type": "null"},
    ],
    "description": "output type; default the template's outputFormat (pdf, else png); "
    "svg for component templates only",
}


class RenderTemplateBody(DocumentedBody):
    """`POST /templates/{uid}/render` (the body may be empty): one image per layout, or a
    PDF (one page, or one per `variableSets` item)."""

    variables: dict[str, Any] | None = Field(
        None, description="name: value; a required variable without a value or default is a 400"
    )
    width: int | None = Field(None, ge=1, le=4000, description="1 to 4000, as Pictify's images")
    height: int | None = Field(None, ge=1, le=4000, description="1 to 4000")
    format: str | None = Field(None, json_schema_extra=TEMPLATE_FORMAT)
    fileExtension: str | None = Field(None, description="the same as format")
    quality: float | None = Field(None, ge=0.1, le=1, description="jpeg and webp, 0.1 to 1")
    layout: str | None = Field(None, description="render this layout (the template's layouts)")
    layouts: list[str] | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="render each of these layouts; unknown ones are listed in errors[]",
    )
    variableSets: list[dict[str, Any]] | None = Field(
        None, min_length=1, max_length=100, description="format pdf: one page per set"
    )
    options: dict[str, Any] | None = Field(
        None,
        description="format pdf: preset, customSize, margins, title as POST /pdf/render; "
        "the default page is the template's own size",
    )
    preset: str | None = Field(None, description="format pdf: the same as options.preset")


class PreviewTemplateBody(DocumentedBody):
    """`POST /templates/preview` (Pixhaven): an unsaved template rendered with variables,
    answered as the image itself; nothing is stored."""

    template: dict[str, Any] = Field(
        ...,
        description="the template as POST /templates takes it (html, fabricJSData or a "
        "component document, with variableDefinitions or variables); name is not needed",
    )
    variables: dict[str, Any] | None = Field(
        None, description="name: value; a required variable without a value or default is a 400"
    )
    width: int | None = Field(None, ge=1, le=4000, description="1 to 4000")
    height: int | None = Field(None, ge=1, le=4000, description="1 to 4000")
    format: str | None = Field(
        None,
        description="png (default), jpeg, webp; component documents also avif and svg",
    )
    quality: float | None = Field(None, ge=0.1, le=100, description="0.1 to 1 or 1 to 100")


class MultiSizeRenderBody(DocumentedBody):
    """`POST /templates/{uid}/multi-size-render`: the template at several sizes."""

    sizes: list[dict[str, Any]] = Field(
        ...,
        min_length=1,
        max_length=20,
        description="{preset: a layout name} or {width, height} (10 to 4096), with an "
        "optional label echoed in each result's size",
    )
    variables: dict[str, Any] | None = None
    format: str | None = Field(None, description="png, jpeg, webp or avif")
    quality: float | None = Field(None, ge=0.1, le=1)


class BatchRenderBody(DocumentedBody):
    """`POST /templates/{uid}/batch-render`: one variable set per render (Pictify's
    `variableSets`; Pixhaven also accepts `variables`, `items` or `data`), at most 100;
    every set is checked before anything is queued."""

    variableSets: list[dict[str, Any]] = Field(
        ..., min_length=1, max_length=100, description="name: value objects, one per render"
    )
    format: str | None = Field(None, json_schema_extra=FORMAT)


WEBHOOK_EVENTS: "list[JsonValue]" = [
    "render.completed",
    "render.failed",
    "batch.completed",
    "batch.failed",
    "batch.cancelled",
    "binding.updated",
    "binding.failed",
]
WEBHOOK_FILTERS: "JsonDict" = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "templateId": {"type": "string", "minLength": 1, "maxLength": 200},
        "bindingId": {"type": "string", "minLength": 1, "maxLength": 200},
        "type": {"type": "string", "enum": ["image", "gif", "pdf"]},
    },
}
WEBHOOK_URL: "JsonDict" = {
    "type": "string",
    "format": "uri",
    "maxLength": 4096,
    "pattern": r"^https?://",
}
WEBHOOK_PLATFORM: "JsonDict" = {
    "type": "string",
    "enum": ["custom", "zapier", "make", "n8n", "pipedream"],
}
WEBHOOK_EVENT: "JsonDict" = {"type": "string", "enum": WEBHOOK_EVENTS}


class WebhookSubscriptionBody(DocumentedBody):
    """`POST /webhook-subscriptions`, as Pictify documents it: `event` and `targetUrl`
    (public http(s): no private, loopback, link-local or metadata address), `platform`,
    `filters`. Pixhaven extensions: several `events` (default: every event) and `url` in place
    of `event`/`targetUrl`, a `secret` of your own (else one is generated; answered once), a
    `description`, `status`/`active`. Unknown fields are refused."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    event: str | None = Field(None, json_schema_extra=WEBHOOK_EVENT)
    targetUrl: str | None = Field(None, json_schema_extra=WEBHOOK_URL)
    platform: str | None = Field(None, json_schema_extra=WEBHOOK_PLATFORM)
    filters: dict[str, Any] | None = Field(None, json_schema_extra=WEBHOOK_FILTERS)
    url: str | None = Field(None, json_schema_extra=WEBHOOK_URL)
    events: list[str] | None = Field(
        None,
        min_length=1,
        json_schema_extra={"items": WEBHOOK_EVENT},
        description="default: every event",
    )
    secret: str | None = Field(None, min_length=16, max_length=256)
    description: str | None = Field(None, max_length=500)
    status: str | None = Field(None, json_schema_extra={"enum": ["active", "paused"]})
    active: bool | None = None


class UpdateWebhookSubscriptionBody(WebhookSubscriptionBody):
    """`PUT /webhook-subscriptions/{uid}`: the fields to change (Pictify's `targetUrl`,
    `filters`, `status` of `active` or `paused`, and every field creation takes). A new
    `secret` replaces the old one (and is answered once); `filters: null` clears them."""


BINDING_SOURCE: "JsonDict" = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["http", "webhook", "static"]},
        "url": {"type": "string", "format": "uri", "maxLength": 4096},
        "method": {"type": "string", "enum": ["GET", "POST"]},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "credentials": {
            "type": "object",
            "properties": {
                "type": {
                    "type": "string",
                    "enum": ["api_key", "bearer_token", "basic_auth", "custom_header"],
                },
                "value": {"type": "string"},
                "headerName": {"type": "string"},
            },
        },
        "body": {"description": "JSON sent with method POST"},
        "data": {"description": "a static source's data"},
    },
    "required": ["type"],
}
BINDING_POLICY: "JsonDict" = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["ttl", "etag", "webhook", "manual", "schedule"]},
        "ttlSeconds": {"type": "integer", "minimum": 60, "maximum": 2592000},
        "onError": {"type": "string", "enum": ["serve_stale", "serve_error", "serve_default"]},
    },
}


class BindingBody(DocumentedBody):
    """`POST /bindings`: a template (`templateId`, or the docs' `templateUid`) bound to a
    `dataSource` (or the docs' `dataUrl` + `headers`), a `mapping` (or `dataMapping`) of
    variables to JSON paths, `defaults`, a `refreshPolicy`, a cron `schedule`, and an
    `outputConfig` (or `format`). Unknown fields are refused; credentials are never answered."""

    model_config = ConfigDict(
        defer_build=True,
        extra="forbid",
        json_schema_extra={
            "allOf": [
                {"anyOf": [{"required": ["templateId"]}, {"required": ["templateUid"]}]},
                {"anyOf": [{"required": ["dataSource"]}, {"required": ["dataUrl"]}]},
            ]
        },
    )

    name: str | None = Field(None, max_length=200)
    templateId: str | None = None
    templateUid: str | None = None
    dataSource: dict[str, Any] | None = Field(None, json_schema_extra=BINDING_SOURCE)
    dataUrl: str | None = Field(None, max_length=4096)
    headers: dict[str, str] | None = None
    mapping: dict[str, str] | None = Field(
        None, description="variable: JSON path (a.b, items[0].name)"
    )
    dataMapping: dict[str, str] | None = None
    defaults: dict[str, Any] | None = None
    refreshPolicy: dict[str, Any] | None = Field(None, json_schema_extra=BINDING_POLICY)
    schedule: str | None = Field(None, description="five-field cron, UTC", examples=["0 * * * *"])
    outputConfig: dict[str, Any] | None = None
    format: str | None = Field(None, json_schema_extra={"enum": ["png", "jpeg", "jpg", "webp"]})
    status: str | None = Field(None, json_schema_extra={"enum": ["active", "paused"]})


class UpdateBindingBody(BindingBody):
    """`PUT /bindings/{uid}`: the fields to change; a `dataSource` of the same type keeps the
    stored keys it does not name (`credentials: null` removes them)."""

    model_config = ConfigDict(defer_build=True, extra="forbid", json_schema_extra={})
