"""The component document (Craftr, seed 003): canvas plus text, image, tag and divider.

Coordinates: `x`/`y` are the top-left corner of each component's box, in pixels from the
canvas's top-left corner (the divider example at x 0, y 0 with length 1200 spans the top
edge). Components are painted in list order, later ones on top.

`validate_document(data)` turns a JSON value into a `Document` or raises `DocumentError`
whose message and details name the component index and the field.
"""

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from pixhaven.numerals import is_ascii_digits

if TYPE_CHECKING:
    from pydantic.json_schema import JsonDict

MAX_SIDE = 4096  # pixels per canvas side
MAX_AREA = 4096 * 4096  # keeps a raster canvas well inside the Worker's 128 MB
MAX_FONT_SIZE = 1000
# render/raster.py MIN_GLYPH_SIZE, render/pdf.py MIN_RADIUS: tiny sizes are drawn, not refused.
FONT_SIZE_DESCRIPTION = (
    "in pixels, any positive number up to 1000 (text under half a pixel leaves no ink)"
)
MAX_TEXT_CHARS = 5000

FAMILIES = (
    "Inter",
    "Noto Sans",
    "Noto Sans SC",
    "Noto Sans TC",
    "Poppins",
    "Roboto",
    "Playfair Display",
)
WEIGHT_NAMES = {
    "thin": 100,
    "extralight": 200,
    "light": 300,
    "normal": 400,
    "regular": 400,
    "medium": 500,
    "semibold": 600,
    "bold": 700,
    "extrabold": 800,
    "black": 900,
}
DIVIDER_THICKNESS = {"thin": 1, "medium": 2, "thick": 4}

_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
# For /openapi.json only (json_schema_extra never validates; the validators below do).
HEX_SCHEMA: "JsonDict" = {"pattern": r"^\s*#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})\s*$"}
WEIGHT_SCHEMA: "JsonDict" = {
    "anyOf": [
        {"type": "integer", "enum": list(range(100, 1000, 100))},
        {"type": "string", "enum": [*(str(w) for w in range(100, 1000, 100)), *WEIGHT_NAMES]},
    ]
}
COORDINATE_SCHEMA: "JsonDict" = {"minimum": -100_000, "maximum": 100_000}


class DocumentError(ValueError):
    """Invalid document: `message` for people, `details` for programs."""

    def __init__(self, message: str, details: dict, status: int = 400):
        super().__init__(message)
        self.message = message
        self.details = details
        self.status = status


def parse_color(value: str) -> tuple[int, int, int, int]:
    """`#rgb`, `#rrggbb` or `#rrggbbaa` (the `#` is optional) → RGBA."""
    match = _HEX.fullmatch(value.strip())
    if not match:
        raise ValueError("must be a hex colour: #rgb, #rrggbb or #rrggbbaa")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    if len(digits) == 6:
        digits += "ff"
    red, green, blue, alpha = (int(digits[i : i + 2], 16) for i in range(0, 8, 2))
    return red, green, blue, alpha


def _color(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a hex colour string such as #0070f3")
    parse_color(value)
    return value.strip()


def _weight(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError('must be one of "100" … "900"')
    if isinstance(value, str):
        text = value.strip().lower().replace("-", "").replace(" ", "")
        if text in WEIGHT_NAMES:
            return WEIGHT_NAMES[text]
        if not is_ascii_digits(text):
            raise ValueError('must be one of "100", "200", … "900"')
        value = int(text)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value not in range(100, 1000, 100):
        raise ValueError('must be one of "100", "200", … "900"')
    return value


def _family(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    wanted = " ".join(value.split()).lower()
    for family in FAMILIES:
        if family.lower() == wanted:
            return family
    raise ValueError(f"unsupported font family {value!r}; supported: {', '.join(FAMILIES)}")


def _not_boolean(value: Any) -> Any:
    # Pydantic's lax mode reads true/false as 1/0; in a layout that is always a mistake.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


Number = Annotated[float, BeforeValidator(_not_boolean)]
Pixels = Annotated[int, BeforeValidator(_not_boolean)]
Colour = Annotated[str, BeforeValidator(_color), Field(json_schema_extra=HEX_SCHEMA)]


# Validators built at first use (validate_document), not at import: every router imports
# these models for the OpenAPI document, and building them was ~5% of the app's start-up.
# build_deferred() in app.py builds them at import in the Worker (its memory snapshot).
DEFERRED = ConfigDict(defer_build=True)


class _Component(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    x: Number = Field(
        0, description="left edge of the component, in pixels", json_schema_extra=COORDINATE_SCHEMA
    )
    y: Number = Field(
        0, description="top edge of the component, in pixels", json_schema_extra=COORDINATE_SCHEMA
    )

    @field_validator("x", "y")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not -100_000 <= value <= 100_000:
            raise ValueError("must be between -100000 and 100000")
        return value


class _Font(BaseModel):
    model_config = DEFERRED

    fontSize: Number = Field(32, gt=0, le=MAX_FONT_SIZE, description=FONT_SIZE_DESCRIPTION)
    fontWeight: int | str = Field(
        "400", description='"100" … "900"', json_schema_extra=WEIGHT_SCHEMA
    )
    fontFamily: str = Field(
        "Inter", description=", ".join(FAMILIES), json_schema_extra={"enum": list(FAMILIES)}
    )
    fontStyle: Literal["normal", "italic"] = "normal"
    color: Colour = Field("#000000", description="hex colour: #rgb, #rrggbb or #rrggbbaa")

    @field_validator("fontWeight", mode="before")
    @classmethod
    def _check_weight(cls, value: Any) -> int:
        return _weight(value)

    @field_validator("fontFamily", mode="before")
    @classmethod
    def _check_family(cls, value: Any) -> str:
        return _family(value)


class TextComponent(_Component, _Font):
    type: Literal["text"]
    text: str = Field(max_length=MAX_TEXT_CHARS)
    frameWidth: Annotated[
        Literal["fit"] | Annotated[float, Field(gt=0, le=100_000)], BeforeValidator(_not_boolean)
    ] = Field("fit", description='"fit" (one line per paragraph) or a width in pixels (word wrap)')


class TagComponent(_Component, _Font):
    type: Literal["tag"]
    text: str = Field(max_length=500)
    fontWeight: int | str = Field("600", json_schema_extra=WEIGHT_SCHEMA)
    fontSize: Number = Field(16, gt=0, le=MAX_FONT_SIZE, description=FONT_SIZE_DESCRIPTION)
    color: Colour = "#ffffff"
    backgroundColor: Colour = Field("#000000", description="hex colour of the pill")


class ImageComponent(_Component):
    type: Literal["image"]
    src: str = Field(min_length=1, description="http(s) URL, data: URL or bare base64")
    width: Number = Field(gt=0, le=MAX_SIDE)
    height: Number = Field(gt=0, le=MAX_SIDE)
    radius: Number = Field(0, ge=0, le=MAX_SIDE, description="corner radius in pixels")


class DividerComponent(_Component):
    type: Literal["divider"]
    length: Number = Field(gt=0, le=100_000)
    width: Literal["thin", "medium", "thick"] = "medium"
    direction: Literal["horizontal", "vertical"] = "horizontal"
    color: Colour = "#000000"

    @property
    def thickness(self) -> int:
        return DIVIDER_THICKNESS[self.width]


Component = Annotated[
    TextComponent | ImageComponent | TagComponent | DividerComponent,
    Field(discriminator="type"),
]
COMPONENT_TYPES = ("text", "image", "tag", "divider")
_component_adapter: TypeAdapter = TypeAdapter(Component, config=DEFERRED)


class Canvas(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    width: Pixels = Field(1200, ge=1, le=MAX_SIDE)
    height: Pixels = Field(630, ge=1, le=MAX_SIDE)
    background: Colour = Field("#ffffff", description="hex colour; #00000000 is transparent")


class Document(Canvas):
    components: list[Component] = Field(
        default_factory=list,
        description="at most MAX_COMPONENTS (default 10)",
        json_schema_extra={"maxItems": 10},
    )


def _first(errors: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    return errors[0]


def _describe(err: Mapping[str, Any]) -> tuple[str, str]:
    field = ".".join(str(part) for part in err.get("loc", ()))
    message = err.get("msg", "invalid").removeprefix("Value error, ")
    return field, message


def validate_document(data: Any, max_components: int | None = None) -> Document:
    """Validate a request body. Errors name the component index and field."""
    if not isinstance(data, dict):
        raise DocumentError(
            "The request body must be a JSON object",
            {"errors": [{"field": "", "message": "expected an object"}]},
        )
    try:
        canvas = Canvas.model_validate(
            {k: data[k] for k in ("width", "height", "background") if k in data}
        )
    except ValidationError as exc:
        field, message = _describe(_first(exc.errors()))
        raise DocumentError(
            f"Invalid {field}: {message}", {"errors": [{"field": field, "message": message}]}
        ) from None
    raw_components = data.get("components", [])
    if not isinstance(raw_components, list):
        raise DocumentError(
            "Invalid components: must be a list",
            {"errors": [{"field": "components", "message": "must be a list"}]},
        )
    if max_components is not None and len(raw_components) > max_components:
        raise DocumentError(
            f"Too many components: {len(raw_components)} (the limit is {max_components} per image)",
            {
                "limit": max_components,
                "count": len(raw_components),
                "errors": [
                    {
                        "field": "components",
                        "message": f"at most {max_components} components per image",
                    }
                ],
            },
        )
    if canvas.width * canvas.height > MAX_AREA:
        raise DocumentError(
            f"Canvas too large: at most {MAX_AREA} pixels",
            {"errors": [{"field": "width", "message": "canvas too large"}]},
        )
    components = []
    problems: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_components):
        kind = raw.get("type") if isinstance(raw, dict) else None
        if kind not in COMPONENT_TYPES:
            problems.append(
                {
                    "component": index,
                    "field": "type",
                    "message": f"must be one of {', '.join(COMPONENT_TYPES)}",
                }
            )
            continue
        try:
            components.append(_component_adapter.validate_python(raw))
        except ValidationError as exc:
            for err in exc.errors():
                loc = list(err.get("loc", ()))
                if loc and loc[0] == kind:  # the discriminated union's tag
                    loc = loc[1:]
                field, message = _describe({**err, "loc": loc})
                problems.append(
                    {"component": index, "type": kind, "field": field, "message": message}
                )
    if problems:
        first = problems[0]
        what = f"component {first['component']}"
        if first.get("type"):
            what += f" ({first['type']})"
        details: dict[str, Any] = {"errors": problems}
        if "unsupported font family" in first["message"]:
            details["supported"] = list(FAMILIES)
        raise DocumentError(f"Invalid {what}: {first['field']}: {first['message']}", details)
    return Document(
        width=canvas.width,
        height=canvas.height,
        background=canvas.background,
        components=components,
    )


def build_validators() -> None:
    """Build the deferred validators now: app.build_deferred, for the Worker's snapshot."""
    for model in (TextComponent, TagComponent, ImageComponent, DividerComponent, Canvas, Document):
        model.model_rebuild(force=True)
    _component_adapter.rebuild(force=True)
