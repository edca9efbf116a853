"""Splinterpic (`/api/collections`) request bodies (documentation: services/images/albums.py checks
them)."""

from pydantic import Field

from pixhaven.models.cattopic import ApiImagePage, OffsetPagination
from pixhaven.models.common import DocumentedAnswer, DocumentedBody
from pixhaven.models.pixelflare import Album

NOT_BLANK = r"\S"


class CreateCollectionBody(DocumentedBody):
    """The slug is derived from the name and made unique for the owner."""

    name: str = Field(
        max_length=200,
        pattern=NOT_BLANK,
        examples=["Summer 2024"],
        description="Trimmed; 1-200 characters",
    )
    description: str | None = Field(None, max_length=2000, examples=["Beach photos"])


class GenerateBody(DocumentedBody):
    """`POST /api/generate` (services/ai/generate.py checks it against the model's limits,
    see `GET /api/models/{id}`)."""

    prompt: str = Field(
        min_length=3,
        max_length=2048,
        examples=["A beautiful sunset"],
        description="3-2048 characters",
    )
    model: str | None = Field(
        None,
        examples=["@cf/black-forest-labs/flux-1-schnell"],
        description="A model id from GET /api/models (default FLUX.1 [schnell])",
    )
    width: int | None = Field(None, ge=64, le=2048, description="Within the model's limits")
    height: int | None = Field(None, ge=64, le=2048, description="Within the model's limits")
    steps: int | None = Field(None, ge=1, le=50, description="Within the model's limits")
    seed: int | None = Field(None, ge=0, le=4294967295, description="Random when absent")
    negative_prompt: str | None = Field(
        None, max_length=2048, description="Ignored by models without one"
    )
    collection_id: str | None = Field(
        None, description="One of the caller's collections (id or slug)"
    )


class CollectionImagePage(ApiImagePage):
    """`GET /api/collections/{id}/images`: `/api/images`'s page, with the collection's id."""

    collection_id: str


class CollectionList(DocumentedAnswer):
    """`GET /api/collections`: the albums, newest first, a page at a time."""

    success: bool
    collections: list[Album]
    pagination: OffsetPagination
