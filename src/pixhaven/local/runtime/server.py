"""Serve the app locally: inject `env` into every ASGI scope, serve `[assets]` in front of
it (as Workers Static Assets does), run the cron triggers.

`pixhaven dev --workers N` runs N processes on one listening socket (`serve_processes`):
the parent prepares the state folder, binds the socket and forks; each worker opens its
own bindings on the shared folder. That is safe because every emulation is made for it:
SQLite in WAL mode with `BEGIN IMMEDIATE` and a busy timeout (local/bindings/d1.py), the
bucket's writes a rename of a complete temporary file (r2_storage.py). Exactly one process
runs the cron triggers: the one holding the `flock` on `cron.lock` in the state folder
(`hold_cron_lock`), which also keeps a second `pixhaven dev` on the same folder from
running them twice. Queues and rate limits stay per process (in memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

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


def run_loop(main: Coroutine[Any, Any, Any]) -> None:
    """Run `main` on uvloop when it is installed (`uvicorn[standard]`, the `local` extra),
    else on asyncio's loop. uvicorn picks uvloop only when it makes the loop itself, and
    `serve` runs inside ours."""
    try:
        import uvloop
    except ImportError:
        factory = None
    else:
        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)


def hold_cron_lock(path: Path) -> IO[bytes] | None:
    """An open file holding an exclusive `flock` on `path` while it stays open, or None
    when another process holds it. Without `fcntl` (Windows) one process is all there is."""
    try:
        import fcntl
    except ImportError:
        return open(os.devnull, "wb")
    handle = open(path, "ab")  # noqa: SIM115 (held for the process's life)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def serve_processes(
    count: int, host: str, port: int, worker: Callable[[socket.socket], None]
) -> int:
    """Bind `host:port`, fork `count` processes running `worker(sock)`, wait for them.
    SIGTERM/SIGINT to the parent stop them all; one failing stops the others. Returns
    the exit status: 0 when every worker ended cleanly."""
    if not hasattr(os, "fork"):
        raise ValueError("--workers above 1 needs fork(): run one worker on this system")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=2048)
    children: set[int] = set()
    for _ in range(count):
        pid = os.fork()
        if pid == 0:  # a worker: serve until told to stop, never return into the parent's code
            status = 1
            try:
                worker(listener)
                status = 0
            except KeyboardInterrupt:
                status = 0
            except BaseException:
                log.exception("worker failed")
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        children.add(pid)
    listener.close()

    stopping = False

    def stop(signum=signal.SIGTERM, frame=None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    # uvicorn ends by raising the signal that stopped it again: that is a clean end too.
    clean = {0, -signal.SIGTERM, -signal.SIGINT}
    failed = False
    while children:
        try:
            pid, status = os.wait()
        except KeyboardInterrupt:  # Ctrl-C reached the workers too; wait for them
            stop()
            continue
        except ChildProcessError:
            break
        children.discard(pid)
        if not stopping and os.waitstatus_to_exitcode(status) not in clean:
            failed = True
        if not stopping:  # one worker gone: stop the others rather than serve on half
            stop()
    return 1 if failed else 0


async def serve(
    app,
    env: LocalEnv,
    *,
    host: str,
    port: int,
    crons: list[str],
    assets: AssetsConfig | None = None,
    cron_lock: Path | None = None,
    listener: socket.socket | None = None,
) -> None:
    """Serve on `host:port`, or on `listener`, a socket shared with other workers. The cron
    triggers run here when `cron_lock` is None or this process gets its lock."""
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
        # No `server: uvicorn` banner: what answers is Pixhaven, as on Cloudflare, and the
        # software behind it is nothing a client needs to know.
        server_header=False,
    )
    server = uvicorn.Server(config)
    held = hold_cron_lock(cron_lock) if cron_lock is not None else None
    runs_crons = cron_lock is None or held is not None
    cron_task = asyncio.create_task(run_crons(env, crons if runs_crons else []))
    try:
        await server.serve(sockets=[listener] if listener is not None else None)
    finally:
        cron_task.cancel()
        await env.close()
        if held is not None:
            held.close()
