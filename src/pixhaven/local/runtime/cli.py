"""`pixhaven`: the local server and its administration.

    pixhaven dev [--host 127.0.0.1] [--port 8787] [--workers 1]
    pixhaven migrate
    pixhaven keys create --name NAME [--scopes images:read,images:write] [--owner OWNER]
    pixhaven keys list
    pixhaven keys revoke KEY_ID
    pixhaven fonts install [--family NAME] [--remote]
    pixhaven browser check
    pixhaven browser install-scripts
    pixhaven console install

All commands work on the state folder (`--state-dir`, default `.pixhaven`) and read
settings from wrangler.toml / .dev.vars (`--config`).
"""

import argparse
import asyncio
import gc
import logging
import sys
from pathlib import Path

from pixhaven.db import api_keys
from pixhaven.local.runtime.config import LocalConfig, load_config
from pixhaven.local.runtime.env import LocalEnv, build_local_env
from pixhaven.security.scopes import SCOPES
from pixhaven.services.api_keys import create_key


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pixhaven", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".pixhaven"),
        help="where the local database and bucket live (default .pixhaven)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="wrangler.toml to read (default: ./wrangler.toml or the checkout's)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="serve the API locally")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8787)
    dev.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes serving on the one socket (default 1); one of them runs the crons",
    )

    commands.add_parser("migrate", help="apply pending D1 migrations to the local database")

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="keys_command", required=True
    )
    create = keys.add_parser("create", help="create a key and print it (shown once)")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scopes", default="images:read", help="comma-separated; one of: " + ", ".join(SCOPES)
    )
    create.add_argument("--owner", default=None, help="default: DEFAULT_OWNER")
    keys.add_parser("list", help="list keys (never the keys themselves)")
    revoke = keys.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")

    fonts = commands.add_parser("fonts", help="rendering fonts").add_subparsers(
        dest="fonts_command", required=True
    )
    install = fonts.add_parser(
        "install",
        help="fetch the fonts (npm) and upload them to the "
        "bucket's fonts/ (local, or R2 with --remote)",
    )
    install.add_argument(
        "--family",
        action="append",
        default=None,
        help="only this family (repeatable); default: all seven",
    )
    install.add_argument(
        "--remote",
        action="store_true",
        help="upload to the Cloudflare R2 bucket with wrangler instead",
    )

    browser = commands.add_parser("browser", help="the local headless browser").add_subparsers(
        dest="browser_command", required=True
    )
    browser.add_parser("check", help="start the browser and render a test page")
    browser.add_parser(
        "install-scripts", help="fetch the scripts pages may ask for (fabric.js) with npm"
    )
    console = commands.add_parser("console", help="the console's files").add_subparsers(
        dest="console_command", required=True
    )
    console.add_parser(
        "install",
        help="fetch Swagger UI and ReDoc (npm, pinned) into the [assets] folder's vendor/",
    )
    return parser


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("pixhaven")
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper() if level.upper() in logging._nameToLevel else "INFO")
    logger.propagate = False


def _dev(args: argparse.Namespace, config: LocalConfig) -> int:
    from pixhaven.local.runtime.server import run_loop, serve, serve_processes

    if args.workers < 1:
        raise ValueError("--workers must be at least 1")

    async def worker(prepared: LocalEnv | None = None, listener=None) -> None:
        from pixhaven.app import build_deferred, create_app

        env = prepared or await build_local_env(config, args.state_dir)
        app = create_app()
        # Before the socket opens, as the Worker does at import: the first requests to each
        # router do not pay for building it.
        build_deferred(app)
        # What exists now lives as long as the process (the app, its routes and models, the
        # modules): frozen out of the cyclic collector's sight, whose collections then walk
        # only what requests allocate, not ~90k objects of the app each time.
        gc.collect()
        gc.freeze()
        await serve(
            app,
            env,
            host=args.host,
            port=args.port,
            crons=config.crons,
            assets=config.assets,
            cron_lock=args.state_dir / "cron.lock",
            listener=listener,
        )

    async def prepare(keep: bool) -> LocalEnv | None:
        # Migrations and the generated admin token, once, before any worker opens the folder.
        env = await build_local_env(config, args.state_dir)
        _configure_logging(getattr(env, "LOG_LEVEL", "info"))
        _print_banner(args, config)
        if keep:
            return env
        await env.close()
        return None

    if args.workers == 1:

        async def single() -> None:
            await worker(await prepare(keep=True))

        run_loop(single())
        return 0
    asyncio.run(prepare(keep=False))
    return serve_processes(
        args.workers, args.host, args.port, lambda listener: run_loop(worker(None, listener))
    )


def _print_banner(args: argparse.Namespace, config: LocalConfig) -> None:
    url = f"http://{args.host}:{args.port}"
    token_source = (
        ".dev.vars (ADMIN_TOKEN)"
        if config.vars.get("ADMIN_TOKEN")
        else f"cat {args.state_dir / 'admin_token'}"
    )
    workers = f", {args.workers} workers" if args.workers > 1 else ""
    print(f"Pixhaven listening on {url}  (docs: {url}/docs{workers})", flush=True)
    print(f"Admin token: {token_source}", flush=True)
    print(
        "Scoped API key: pixhaven keys create --name my-app --scopes images:read,images:write",
        flush=True,
    )


async def _migrate(args: argparse.Namespace, config: LocalConfig) -> int:
    env = await build_local_env(config, args.state_dir)  # applies pending migrations
    rows = await env.DB.prepare("SELECT name, applied_at FROM d1_migrations ORDER BY id").all()
    for row in rows["results"]:
        print(f"{row['name']}  applied {row['applied_at']}")
    await env.close()
    return 0


async def _keys(args: argparse.Namespace, config: LocalConfig) -> int:
    env = await build_local_env(config, args.state_dir)
    try:
        if args.keys_command == "create":
            scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
            owner = args.owner or getattr(env, "DEFAULT_OWNER", "") or "default_user"
            created = await create_key(env.DB, owner=owner, name=args.name, scopes=scopes)
            print(f"Created {created['id']} for owner {owner} with scopes {', '.join(scopes)}.")
            print("The key is shown only now:")
            print(created["key"])
        elif args.keys_command == "list":
            for row in await api_keys.list_all(env.DB):
                state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
                print(
                    f"{row['id']}  {row['key_prefix']}…  {row['owner']}  {row['name']!r}  "
                    f"{','.join(row['scopes'])}  {state}"
                )
        elif args.keys_command == "revoke":
            if not await api_keys.revoke(env.DB, args.key_id):
                print(f"No active key {args.key_id}", file=sys.stderr)
                return 1
            print(f"Revoked {args.key_id}")
        return 0
    finally:
        await env.close()


async def _fonts(args: argparse.Namespace, config: LocalConfig) -> int:
    from pixhaven.local.runtime import fonts

    families = fonts.parse_families(args.family)
    if args.remote:
        bucket = fonts.bucket_name(config)
        folder = Path(config.source).parent if config.source is not None else None
        count = await asyncio.to_thread(fonts.install_remote, bucket, families, cwd=folder)
        print(f"Uploaded {count} font files to R2 bucket {bucket}.")
        return 0
    env = await build_local_env(config, args.state_dir)
    try:
        count = await fonts.install(env.BUCKET, families)
        print(f"Installed {count} new font files into {args.state_dir / 'bucket'}.")
    finally:
        await env.close()
    return 0


async def _browser(args: argparse.Namespace, config: LocalConfig) -> int:
    import json

    from pixhaven.bindings.browser import CONTRACT_ORIGIN
    from pixhaven.local.runtime import browser_scripts
    from pixhaven.local.runtime.env import build_browser
    from pixhaven.settings import Settings

    if args.browser_command == "install-scripts":
        await asyncio.to_thread(browser_scripts.install_all)
        return 0
    browser = build_browser(config.vars, Settings())
    page = {"html": "<p>Pixhaven</p>", "width": 200, "height": 100}
    try:
        response = await browser.fetch(
            CONTRACT_ORIGIN + "/screenshot", method="POST", body=json.dumps(page)
        )
        if response.status != 200:
            print(f"pixhaven: {json.loads(await response.text())['error']['message']}")
            return 2
        print(f"The browser works: rendered a {len(await response.arrayBuffer())}-byte PNG.")
        return 0
    finally:
        await browser.close()


async def _console(args: argparse.Namespace, config: LocalConfig) -> int:
    from pixhaven.local.runtime import console_vendor

    if config.assets is None:
        where = config.source or "no wrangler.toml found"
        raise ValueError(f"{where}: no [assets] section names the console's folder")
    vendor = config.assets.directory / "vendor"
    await asyncio.to_thread(console_vendor.install, vendor)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = load_config(args.config)
    from pixhaven.errors import ApiError

    runners = {
        "migrate": _migrate,
        "keys": _keys,
        "fonts": _fonts,
        "browser": _browser,
        "console": _console,
    }
    try:
        if args.command == "dev":  # its own event loops (uvloop), and processes with --workers
            return _dev(args, config)
        return asyncio.run(runners[args.command](args, config))
    except KeyboardInterrupt:
        return 0
    except (ApiError, FileNotFoundError, ValueError) as exc:
        print(f"pixhaven: {getattr(exc, 'error', exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
