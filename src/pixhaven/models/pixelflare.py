"""PixelFlare (`/v1/*`) schemas."""

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class CreateKeyRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=100, examples=["My App"])
    scopes: list[str] = Field(default_factory=lambda: ["images:read"],
                              examples=[["images:read", "images:write"]])
    owner: str | None = Field(
        default=None, min_length=1, max_length=100,
        description="Only for the admin token: create the key for this owner "
                    "(default: the admin's own owner).")


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
    key: str = Field(description="The key itself. Shown only in this response.",
                     examples=["pxf_abc123..."])
    scopes: list[str]
    owner: str
    created_at: str


class ApiKeyList(BaseModel):
    data: list[ApiKey]


class CreateImageRequest(BaseModel):
    """`POST /v1/images`: the metadata; the bytes follow by PUT to `upload_url`."""

    model_config = ConfigDict(extra="ignore")

    filename: str | None = Field(default=None, examples=["beach.jpg"])
    album: str | None = Field(default=None, examples=["vacation"],
                              description="Album slug; the album is created on first use")
    tags: list[str] | str | None = Field(default=None, examples=[["beach", "summer"]])
    alt: str | None = Field(default=None, examples=["Sunset over the beach"])
    is_private: StrictBool = False
    turnstile_token: str | None = Field(
        default=None, description="Accepted for compatibility; not verified by Pixhaven")


class UpdateImageRequest(BaseModel):
    """`PATCH /v1/images/{id}`: only the fields present change; `album: null` removes the
    image from its album."""

    model_config = ConfigDict(extra="ignore")

    filename: str | None = Field(default=None, examples=["beach-sunset.jpg"])
    album: str | None = Field(default=None, examples=["photos"])
    tags: list[str] | str | None = Field(default=None, examples=[["beach", "sunset"]])
    alt: str | None = Field(default=None, examples=["Beautiful sunset"])
    is_private: StrictBool | None = None
