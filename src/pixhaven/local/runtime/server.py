"""Serve the app locally: inject `env` into every ASGI scope, serve `[assets]` in front of
it (as Workers Static Assets does), run the cron triggers."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pixhaven.cron import Schedule
from pixhaven.local.runtime.assets import StaticAssets
from pixhaven.worker import run_scheduled

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.local.runtime.config import AssetsConfig
    from pixhaven.local.runtime.env import LocalEnv

log = logging.getLogger("pixhaven.local")


def with_env(app, env: Env):
    """What the Workers ASGI adapter does on Cloudflare: `scope["env"] = env`."""

    async def wrapped(scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "env": env}
        await app(scope, receive, send)

    return wrapped


async def run_crons(env: Env, expressions: list[str]) -> None:
    """Fire `run_scheduled` at each cron time, like Cloudflare's cron triggers."""
    schedules = [Schedule(expr) for expr in expressions]
    if not schedules:
        return
    while True:
        now = datetime.now(UTC)
        upcoming = min((s.next_after(now), s.expression) for s in schedules)
        await asyncio.sleep(max(0.0, (upcoming[0] - datetime.now(UTC)).total_seconds()))
        try:
            await run_scheduled(env, upcoming[1])
        except Exception:
            log.exception("scheduled handler failed")


def served(app, env: Env, assets: AssetsConfig | None):
    """What the local server runs: the app with its `env`, behind the static assets."""
    wrapped = with_env(app, env)
    return wrapped if assets is None else StaticAssets(wrapped, assets)


async def serve(
    app,
    env: LocalEnv,
    *,
    host: str,
    port: int,
    crons: list[str],
    assets: AssetsConfig | None = None,
) -> None:
    import uvicorn

    config = uvicorn.Config(
        served(app, env, assets),
        host=host,
        port=port,
        lifespan="off",
        log_level="warning",
        access_log=False,
        # The client is the socket's address, nothing a request says about itself: uvicorn
        # would otherwise take X-Forwarded-For/-Proto from 127.0.0.1, and anyone could pass
        # the IP allowlist, lock a local client out or spend another's variant misses.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    cron_task = asyncio.create_task(run_crons(env, crons))
    try:
        await server.serve()
    finally:
        cron_task.cancel()
        await env.close()
