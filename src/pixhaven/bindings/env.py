"""`env`: what every handler gets, on Cloudflare and in the local runtime alike.

Types only: import under `if TYPE_CHECKING:`. On Cloudflare `env` is the SDK's wrapper around
the Worker's bindings and vars; locally it is `pixhaven.local.runtime.env.LocalEnv`, which
mypy checks against `Env` and `LocalHooks`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from pixhaven.bindings.ai import Ai
from pixhaven.bindings.browser import Browser
from pixhaven.bindings.d1 import D1Database
from pixhaven.bindings.images import ImagesBinding
from pixhaven.bindings.queue import Queue
from pixhaven.bindings.r2 import R2Bucket
from pixhaven.bindings.ratelimit import RateLimiter


class EnvVars(Protocol):
    """The settings `pixhaven.settings.Settings.from_env` reads: `[vars]` of wrangler.toml
    and secrets, all strings. One that is neither configured nor a secret is absent
    (AttributeError), not empty, so read them through `Settings`, never directly."""

    ADMIN_TOKEN: str  # secret
    PUBLIC_BASE_URL: str
    ALLOWED_IPS: str
    DEFAULT_OWNER: str
    MAX_UPLOAD_BYTES: str
    DIRECT_UPLOAD_MAX_BYTES: str
    MAX_UPLOAD_PIXELS: str
    MAX_UPLOAD_COUNT: str
    MAX_COMPONENTS: str
    RENDER_MONTHLY_LIMIT: str
    UPLOAD_RATE_PER_MINUTE: str
    UPLOAD_DAILY_LIMIT: str
    PICTIFY_RATE_PER_MINUTE: str
    PICTIFY_DAILY_LIMIT: str
    IMAGE_QUALITY: str
    IMAGE_RESIZING: str
    SOFT_DELETE_RETENTION_DAYS: str
    CORS_ALLOW_ORIGIN: str
    LOG_LEVEL: str
    UPLOAD_SIGNING_SECRET: str  # secret
    UPLOAD_URL_TTL_SECONDS: str
    R2_ACCESS_KEY_ID: str  # secret
    R2_SECRET_ACCESS_KEY: str  # secret
    R2_ACCOUNT_ID: str
    R2_BUCKET_NAME: str
    ACCESS_TEAM_DOMAIN: str
    ACCESS_AUD: str
    ACCESS_SCOPES: str
    BROWSER_RENDERING_ACCOUNT_ID: str
    BROWSER_RENDERING_API_TOKEN: str  # secret
    AI_INSTRUCTION_MODEL: str


class Env(EnvVars, Protocol):
    """The bindings of wrangler.toml, plus the vars. Code reads a binding as
    `env.DB`; `RATE_LIMITER` and `BROWSER` are read with `getattr(env, NAME, None)`, so an
    env without them still serves (without a browser the HTML routes answer 503)."""

    @property
    def DB(self) -> D1Database: ...
    @property
    def BUCKET(self) -> R2Bucket: ...
    @property
    def IMAGES(self) -> ImagesBinding: ...
    @property
    def JOBS(self) -> Queue: ...
    @property
    def RATE_LIMITER(self) -> RateLimiter: ...
    @property
    def AI(self) -> Ai: ...
    @property
    def BROWSER(self) -> Browser: ...


class FontInstaller(Protocol):
    """Copies one missing font face (`fonts/<slug>/<File>.ttf`) into the bucket."""

    def install(self, bucket: R2Bucket, key: str, /) -> Awaitable[None]: ...


class LocalHooks(Protocol):
    """What only the local runtime's env has. On Cloudflare these attributes do not exist:
    read them with `getattr(env, NAME, None)` and carry on without them."""

    @property
    def FONT_INSTALLER(self) -> FontInstaller:
        """Asked by the render engine when a font is missing from the bucket
        (`pixhaven.local.runtime.fonts.LocalFontInstaller`)."""
