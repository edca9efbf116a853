"""PixelFlare (`/v1/*`) schemas."""

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from pixhaven.models.cattopic import TAG_LIST, TAG_NAME
from pixhaven.models.common import DocumentedAnswer, DocumentedBody, ParsedBody
from pixhaven.security.scopes import SCOPES

if TYPE_CHECKING:
    from pydantic.json_schema import JsonDict

# Schema-only descriptions of what the services check by hand (json_schema_extra never
# validates: the services' own messages stay the API's).
SLUG = r"^[a-z0-9-]{1,64}$"
FILENAME: "JsonDict" = {
    "type": "string",
    "maxLength": 255,
    "pattern": r"^[^\x00-\x1f]*[^\s\x00-\x1f][^\x00-\x1f]*$",
}
TAGS: "JsonDict" = {
    "anyOf": [
        {"type": "array", "items": {"type": "string", "pattern": TAG_NAME}},
        {"type": "string", "pattern": TAG_LIST, "description": "comma-separated tag names"},
        {"type": "null"},
    ]
}
ALT: "JsonDict" = {"anyOf": [{"type": "string", "maxLength": 1000}, {"type": "null"}]}


class CreateKeyRequest(ParsedBody):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(
        min_length=1, max_length=100, examples=["My App"], json_schema_extra={"pattern": r"\S"}
    )
    scopes: list[str] = Field(
        default_factory=lambda: ["images:read"],
        examples=[["images:read", "images:write"]],
        json_schema_extra={"items": {"type": "string", "enum": list(SCOPES)}},
        description="Only scopes the creating key holds",
    )
    owner: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Only for the admin token: create the key for this owner "
        "(default: the admin's own owner).",
    )


class ApiKey(BaseModel):
    id: str = Field(examples=["key_abc123"])
    name: str
    owner: str
    prefix: str = Field(description="The first characters of the key, to recognise it")
    scopes: list[str]
    created_at: str
    last_used_at: str | None = None
    revoked_at: str | None = None


class CreatedApiKey(BaseModel):
    id: str = Field(examples=["key_abc123"])
    name: str
    key: str = Field(
        description="The key itself. Shown only in this response.", examples=["pxf_abc123..."]
    )
    scopes: list[str]
    owner: str
    created_at: str


class ApiKeyList(BaseModel):
    data: list[ApiKey]


class PixelFlareImage(DocumentedAnswer):
    """PixelFlare's image resource (routers/pixelflare/shapes.py), with Pixhaven's
    `expires_at` and `thumbnail_url` (a URL a browser can load; null while pending)."""

    id: str
    short_id: str
    filename: str
    album: str | None = Field(description="The album's slug")
    owner: str
    content_type: str
    size: int
    width: int
    height: int
    tags: list[str]
    alt: str | None
    is_private: bool
    status: str = Field(examples=["ready"], description="ready, or pending/uploading")
    placeholder: str | None = Field(description="ThumbHash, base64")
    created_at: str
    updated_at: str
    deleted_at: str | None
    expires_at: str | None
    cdn_url: str
    short_url: str
    thumbnail_url: str | None


class PixelFlareImageList(DocumentedAnswer):
    data: list[PixelFlareImage]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class PixelFlareImageDetail(PixelFlareImage):
    """`GET /v1/images/{id}`: the resource and a loadable URL of every rendition (public,
    or signed for a private image; empty while pending)."""

    versions: dict[str, str | None] = Field(description="original, and webp/avif if made")
    variants: dict[str, str | None] = Field(description="Every variant by name")


class Album(DocumentedAnswer):
    """An album (services/images/albums.album_resource); Splinterpic's collection too."""

    id: str
    slug: str
    title: str
    name: str = Field(description="The title, under Splinterpic's name")
    description: str | None
    owner: str
    image_count: int = Field(description="Visible images in the album")
    created_at: str
    updated_at: str


class AlbumList(DocumentedAnswer):
    data: list[Album]


class TagUse(DocumentedAnswer):
    tag: str
    count: int = Field(description="Visible images carrying the tag")


class TagUseList(DocumentedAnswer):
    data: list[TagUse]


class CreateImageRequest(ParsedBody):
    """`POST /v1/images`: the metadata; the bytes follow by PUT to `upload_url`."""

    model_config = ConfigDict(extra="ignore")

    filename: str | None = Field(
        default=None,
        examples=["beach.jpg"],
        json_schema_extra={"anyOf": [FILENAME, {"type": "null"}]},
    )
    album: str | None = Field(
        default=None,
        examples=["vacation"],
        description="Album slug; the album is created on first use",
        json_schema_extra={"anyOf": [{"type": "string", "pattern": SLUG}, {"type": "null"}]},
    )
    tags: list[str] | str | None = Field(
        default=None, examples=[["beach", "summer"]], json_schema_extra=TAGS
    )
    alt: str | None = Field(default=None, examples=["Sunset over the beach"], json_schema_extra=ALT)
    is_private: StrictBool = False
    turnstile_token: str | None = Field(
        default=None, description="Accepted for compatibility; not verified by Pixhaven"
    )


class UpdateImageRequest(ParsedBody):
    """`PATCH /v1/images/{id}`: only the fields present change; `album: null` removes the
    image from its album."""

    model_config = ConfigDict(extra="ignore")

    filename: str | None = Field(
        default=None, examples=["beach-sunset.jpg"], json_schema_extra={"anyOf": [FILENAME]}
    )
    album: str | None = Field(
        default=None,
        examples=["photos"],
        json_schema_extra={"anyOf": [{"type": "string", "pattern": SLUG}, {"type": "null"}]},
    )
    tags: list[str] | str | None = Field(
        default=None, examples=[["beach", "sunset"]], json_schema_extra=TAGS
    )
    alt: str | None = Field(default=None, examples=["Beautiful sunset"], json_schema_extra=ALT)
    is_private: StrictBool | None = Field(None, json_schema_extra={"anyOf": [{"type": "boolean"}]})


# -- bodies read by hand (documentation: services/images/albums.py checks them) --------------------


class CreateAlbumBody(DocumentedBody):
    """`POST /v1/albums`: a taken slug is a 409."""

    slug: str = Field(pattern=SLUG, examples=["vacation"])
    title: str | None = Field(
        None, max_length=200, examples=["Vacation"], description="Default: the slug"
    )
    description: str | None = Field(None, max_length=2000)


class UpdateAlbumBody(DocumentedBody):
    """`PATCH /v1/albums/{slug}`: only the fields present change; `description: null`
    clears it."""

    slug: str = Field(None, pattern=SLUG, examples=["photos"])  # type: ignore[assignment]  # optional, not nullable: the schema has no null
    title: str = Field(None, max_length=200, pattern=r"\S", examples=["Photos"])  # type: ignore[assignment]  # optional, not nullable: the schema has no null
    description: str | None = Field(None, max_length=2000)
