"""Splinterpic (`/api/collections`) request bodies (documentation: services/albums.py checks
them)."""

from pydantic import BaseModel, Field

from .common import DocumentedBody

NOT_BLANK = r"\S"


class CreateCollectionBody(DocumentedBody):
    """The slug is derived from the name and made unique for the owner."""

    name: str = Field(max_length=200, pattern=NOT_BLANK, examples=["Summer 2024"],
                      description="Trimmed; 1-200 characters")
    description: str | None = Field(None, max_length=2000, examples=["Beach photos"])
