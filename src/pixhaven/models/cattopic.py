"""CattoPic (`/api/*`) schemas."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from pixhaven.models.common import DocumentedAnswer, DocumentedBody


class SystemConfig(BaseModel):
    maxUploadCount: int
    maxFileSize: int
    supportedFormats: list[str]
    imageQuality: int


class ConfigResponse(BaseModel):
    success: bool = True
    config: SystemConfig


class ValidateKeyResponse(BaseModel):
    success: bool = True
    valid: bool = True


# -- answers (routers/api_images.py builds them) ------------------------------------------------


class VersionPaths(DocumentedAnswer):
    """Per version: `""` for a version the image does not have (as CattoPic's server)."""

    original: str
    webp: str
    avif: str


class VersionSizes(DocumentedAnswer):
    """Per version, in bytes: 0 for a version the image does not have."""

    original: int
    webp: int
    avif: int


class ApiImage(DocumentedAnswer):
    """CattoPic's ImageMetadata (camelCase) with Splinterpic's snake_case fields."""

    id: str
    originalName: str
    uploadTime: str
    expiryTime: str | None
    orientation: Literal["landscape", "portrait"]
    tags: list[str]
    format: str = Field(examples=["jpg"])
    width: int
    height: int
    paths: VersionPaths
    sizes: VersionSizes
    urls: VersionPaths
    url: str
    created_at: str
    updated_at: str
    prompt: str | None
    model: str | None
    template: str | None
    source: str = Field(examples=["upload"])
    collection_id: str | None
    content_type: str
    size: int
    alt: str | None
    is_private: bool
    placeholder: str | None = Field(description="ThumbHash, base64")
    short_id: str
    cdn_url: str


class OffsetPagination(DocumentedAnswer):
    """Splinterpic's pagination."""

    limit: int
    offset: int
    total: int
    has_more: bool


class ApiImagePage(DocumentedAnswer):
    """`GET /api/images`: CattoPic's page fields and Splinterpic's `pagination`."""

    success: bool
    images: list[ApiImage]
    page: int
    limit: int
    total: int
    totalPages: int
    pagination: OffsetPagination


class ApiImageAnswer(ApiImage):
    """One image: its fields at the top level (Splinterpic) and under `image` (CattoPic)."""

    success: bool
    image: ApiImage


class TagCount(DocumentedAnswer):
    name: str
    count: int = Field(description="Visible images carrying the tag")


class TagList(DocumentedAnswer):
    success: bool
    tags: list[TagCount]


# -- request bodies (documentation: routers/cattopic/images.py and services/images/tag_names.py
# check them) --

# services/images/tag_names.py: trimmed, NFKC and case-folded, then 1-50 letters (any script),
# digits, '-' or '_'.
TAG_NAME = r"^\s*[\w-]{1,50}\s*$"
# The comma-separated form: empty entries are ignored.
TAG_LIST = r"^\s*(?:[\w-]{1,50}\s*)?(?:,\s*(?:[\w-]{1,50}\s*)?)*$"
# services/images/updates.MAX_EXPIRY_MINUTES: 100 years.
MAX_EXPIRY_MINUTES = 52_560_000
IMAGE_ID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

# CattoPic's routes clean names instead (tag_names.clean_tag_name: folded, characters other
# than letters, digits, '-' and '_' removed, cut to 50): a name needs one such character, a
# list's names that clean to nothing are dropped. TAG_NAME and TAG_LIST are PixelFlare's rule.
CLEANED_TAG_NAME = r"[\w-]"
TagName = Annotated[
    str,
    Field(
        pattern=CLEANED_TAG_NAME,
        examples=["nature"],
        description="cleaned: 'My Cat' is 'mycat'; only a name that cleans to nothing is a 400",
    ),
]
TagListString = Annotated[
    str,
    Field(
        examples=["nature,outdoor"],
        description="comma-separated tag names, each cleaned (names that clean to nothing are"
        " dropped)",
    ),
]
# A name in a list: cleaned the same way, but one that cleans to nothing is dropped from the
# list, not refused, so the schema has no pattern for it.
ListedTagName = Annotated[
    str,
    Field(examples=["nature"], description="cleaned; a name that cleans to nothing is dropped"),
]
Tags = list[ListedTagName] | TagListString
# A form field's text (routers/cattopic/forms.form_bool; case-insensitive, empty = the default).
FormBool = Annotated[
    str, Field(json_schema_extra={"enum": ["true", "false", "1", "0", "yes", "no", "on", "off"]})
]


class UpdateImageBody(DocumentedBody):
    """`PUT /api/images/{id}`: only the fields present change."""

    tags: Tags | None = Field(
        None,
        description="The new tag list (array or comma-separated string); replaces the old one",
        examples=[["nature", "outdoor"]],
    )
    expiryMinutes: Annotated[float, Field(ge=0, le=MAX_EXPIRY_MINUTES)] = Field(  # type: ignore[assignment]  # optional, not nullable: the schema has no null
        None, description="Expiry in minutes from now; 0 removes the expiry", examples=[1440]
    )


class CreateTagBody(DocumentedBody):
    name: TagName


class RenameTagBody(DocumentedBody):
    newName: TagName = Field(
        description="Differs from the current name; an existing tag is merged into"
    )


class BatchTagsBody(DocumentedBody):
    imageIds: list[Annotated[str, Field(pattern=IMAGE_ID)]] = Field(
        min_length=1, max_length=1000, examples=[["550e8400-e29b-41d4-a716-446655440000"]]
    )
    addTags: Tags | None = Field(None, examples=[["landscape", "nature"]])
    removeTags: Tags | None = Field(
        None, examples=[["test", "draft"]], description="no tag may be both added and removed"
    )


class UploadForm(DocumentedBody):
    """`POST /api/upload/single` (multipart/form-data): one file, as `image` or `file`."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["image"]}, {"required": ["file"]}]}
    )

    image: bytes = Field(  # type: ignore[assignment]  # optional, not nullable: the schema has no null
        None,
        json_schema_extra={"format": "binary", "minLength": 1},
        description="JPEG, PNG, GIF, WebP or AVIF (by content), at most MAX_UPLOAD_BYTES",
    )
    file: bytes = Field(  # type: ignore[assignment]  # optional, not nullable: the schema has no null
        None,
        json_schema_extra={"format": "binary", "minLength": 1},
        description="The same, under CattoPic's other field name",
    )
    tags: TagListString = None  # type: ignore[assignment]  # optional, not nullable: the schema has no null
    expiryMinutes: Annotated[int, Field(ge=0, le=MAX_EXPIRY_MINUTES)] = Field(
        None, description="0: never expires"
    )  # type: ignore[assignment]  # optional, not nullable: the schema has no null
    quality: Annotated[int, Field(ge=1, le=100)] = None  # type: ignore[assignment]  # optional, not nullable: the schema has no null
    maxWidth: Annotated[int, Field(ge=0, le=12_000)] = Field(
        None, description="0: no limit (CattoPic's default)"
    )  # type: ignore[assignment]  # optional, not nullable: the schema has no null
    maxHeight: Annotated[int, Field(ge=0, le=12_000)] = Field(
        None, description="0: no limit (CattoPic's default)"
    )  # type: ignore[assignment]  # optional, not nullable: the schema has no null
    generateWebp: FormBool = "true"
    generateAvif: FormBool = "true"
    preserveAnimation: FormBool = "true"
