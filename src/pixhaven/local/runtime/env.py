"""Assemble the local `env`: the same attribute names a Worker sees, backed by emulations.

State lives in one folder (default `.pixhaven/` in the working directory): `d1.sqlite3`,
`bucket/`, and `admin_token` when no ADMIN_TOKEN secret is configured.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

from pixhaven.local.bindings.ai import OfflineImageModel, RestAi, build_ai
from pixhaven.local.bindings.browser import LocalBrowser
from pixhaven.local.bindings.d1 import LocalD1
from pixhaven.local.bindings.images import LocalImages
from pixhaven.local.bindings.queue import LocalQueue
from pixhaven.local.bindings.r2 import LocalR2
from pixhaven.local.bindings.ratelimit import LocalRateLimiter
from pixhaven.local.runtime.browser_scripts import ScriptCache
from pixhaven.local.runtime.config import LocalConfig
from pixhaven.local.runtime.fonts import LocalFontInstaller
from pixhaven.local.runtime.migrations import apply_migrations
from pixhaven.settings import Settings
from pixhaven.worker import run_queue

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env, LocalHooks
    from pixhaven.bindings.queue import MessageBatch

BINDING_NAMES = ("DB", "BUCKET", "IMAGES", "JOBS", "RATE_LIMITER", "AI", "BROWSER")


class LocalEnv:
    """Settings as string attributes (like `[vars]`), bindings as emulation objects.

    The app sees it as `pixhaven.bindings.env.Env` (plus the local-only `LocalHooks`); the
    local runtime also uses the emulations' own methods (closing the database, driving the
    queue), so the bindings are declared with their local types."""

    DB: LocalD1
    BUCKET: LocalR2
    IMAGES: LocalImages
    JOBS: LocalQueue
    RATE_LIMITER: LocalRateLimiter
    AI: RestAi | OfflineImageModel
    BROWSER: LocalBrowser
    FONT_INSTALLER: LocalFontInstaller

    def __init__(
        self,
        variables: dict[str, str],
        *,
        DB: LocalD1,
        BUCKET: LocalR2,
        IMAGES: LocalImages,
        JOBS: LocalQueue,
        RATE_LIMITER: LocalRateLimiter,
        AI: RestAi | OfflineImageModel,
        BROWSER: LocalBrowser,
        FONT_INSTALLER: LocalFontInstaller,
    ):
        for name, value in variables.items():
            setattr(self, name, value)
        self.DB = DB
        self.BUCKET = BUCKET
        self.IMAGES = IMAGES
        self.JOBS = JOBS
        self.RATE_LIMITER = RATE_LIMITER
        self.AI = AI
        self.BROWSER = BROWSER
        self.FONT_INSTALLER = FONT_INSTALLER

    if TYPE_CHECKING:
        # Every other attribute is a var from `variables` (a str), absent when not
        # configured: what `EnvVars` promises, and why Settings reads vars with getattr.
        def __getattr__(self, name: str) -> str: ...

    async def close(self) -> None:
        await self.JOBS.close()
        await self.BROWSER.close()
        self.DB.close()


if TYPE_CHECKING:
    # mypy checks here that the local env (and so every emulation in it) is what the app
    # is written against: the Worker's Env, and the hooks only the local runtime has.
    _AS_ENV: type[Env] = LocalEnv
    _AS_LOCAL: type[LocalHooks] = LocalEnv


def admin_token_for(state_dir: Path, variables: dict[str, str]) -> str:
    """The configured ADMIN_TOKEN secret, or one generated once and kept in the state dir."""
    if variables.get("ADMIN_TOKEN"):
        return variables["ADMIN_TOKEN"]
    path = state_dir / "admin_token"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    token = "pxa_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


def build_browser(variables: dict[str, str], settings: Settings) -> LocalBrowser:
    """The local browser, from local-only settings (README, "HTML rendering"):
    BROWSER_EXECUTABLE names the Chromium; BROWSER_TEST_ALLOW_LOOPBACK (test suite only) lets
    pages reach loopback addresses, where the tests' own HTTP servers listen."""
    allow = (variables.get("BROWSER_TEST_ALLOW_LOOPBACK") or "").strip().lower()
    return LocalBrowser(
        (variables.get("BROWSER_EXECUTABLE") or "").strip() or None,
        allow_loopback=allow in ("1", "true", "yes"),
        max_pixels=settings.max_decoded_pixels or settings.max_upload_pixels,
        script_path=ScriptCache().ensure,
    )


async def build_local_env(
    config: LocalConfig, state_dir: Path, overrides: dict[str, str] | None = None
) -> LocalEnv:
    """Create the state folder, open every binding and apply pending migrations."""
    state_dir.mkdir(parents=True, exist_ok=True)
    variables = {**config.vars, **(overrides or {})}
    variables["ADMIN_TOKEN"] = admin_token_for(state_dir, variables)
    # The emulated Images binding decodes in this process: it draws on the same decoded-pixel
    # budget, with the same setting, as the app's own decodes.
    settings = Settings.from_env(cast("Env", SimpleNamespace(**variables)))
    env = LocalEnv(
        variables,
        DB=LocalD1(state_dir / "d1.sqlite3"),
        BUCKET=LocalR2(state_dir / "bucket"),
        IMAGES=LocalImages(
            max_decoded_pixels=settings.max_decoded_pixels,
            decode_wait_seconds=settings.decode_wait_seconds,
        ),
        JOBS=LocalQueue(
            name=config.queue_name,
            max_batch_size=config.queue_max_batch_size,
            max_batch_timeout=config.queue_max_batch_timeout,
            max_retries=config.queue_max_retries,
        ),
        RATE_LIMITER=LocalRateLimiter(config.rate_limit, config.rate_period),
        # Workers AI over the REST API with CLOUDFLARE_ACCOUNT_ID + CLOUDFLARE_API_TOKEN, else
        # the offline preview model (local/bindings/ai.py).
        AI=build_ai(variables),
        BROWSER=build_browser(variables, settings),
        # Not a Cloudflare binding: copies a missing font into the bucket on first use.
        FONT_INSTALLER=LocalFontInstaller(),
    )

    async def consume(batch: MessageBatch) -> None:
        await run_queue(env, batch)

    env.JOBS.set_consumer(consume)
    if config.migrations_dir is None:
        raise FileNotFoundError(
            "no migrations directory: run from the Pixhaven checkout "
            "(where wrangler.toml is) or pass --config"
        )
    await apply_migrations(env.DB, config.migrations_dir)
    return env
