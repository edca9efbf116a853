"""Workers Static Assets for the local server: the folder wrangler.toml's `[assets]` names,
served in front of the app by the rules Cloudflare applies on a deployment.

On Cloudflare a GET or HEAD that matches a file is answered from the assets without running
the Worker; anything else (no such file, another method) reaches the Worker. The app never
sees an asset request and never asks where it runs: this layer is the local server's share
of the platform, like the binding emulations. What it follows from `[assets]`:

- `html_handling`: "auto-trailing-slash" (Cloudflare's default: `/` and `/dir/` serve
  their index.html, `/page` serves page.html, `/page.html` and `/index.html` redirect to the
  clean URL with a 307) or "none" (exact file names only).
- `not_found_handling`: "none" only: a path with no file reaches the app, so an API 404 stays
  the app's JSON. (Cloudflare's "single-page-application" would answer unknown navigations
  with index.html; Pixhaven does not use it and this layer refuses it rather than guess.)
- `run_worker_first`: true (every request reaches the app first: the assets are then only
  reachable through a binding, which Pixhaven does not use), false, or route patterns
  (`/api/*`, negated with `!`) whose matches reach the app first.

Answers carry an ETag (a hash of the content; `If-None-Match` gets a 304), a content type
from the file name and Cloudflare's `Cache-Control: public, max-age=0, must-revalidate`.

Cloudflare decides "asset or Worker" from the manifest uploaded with the deployment, not from
a disk. Here the folder's file names are listed again at most once a second (`LISTING_MAX_AGE`,
so a file added while `pixhaven dev` runs is served a second later), and a path none of whose
candidate files is listed goes to the app without touching the disk: every API request and
every image is such a path (a thread hop and a `realpath` per request had cost /r2 half its
rate).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from pixhaven.local.runtime.config import AssetsConfig

HTML_HANDLING = ("auto-trailing-slash", "none")
NOT_FOUND_HANDLING = ("none",)
CACHE_CONTROL = b"public, max-age=0, must-revalidate"
# Not left to the platform's mimetypes table, which differs between systems (.js, .mjs).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
# Wrangler never uploads its own ignore file.
NEVER_SERVED = {".assetsignore"}
LISTING_MAX_AGE = 1.0  # seconds


def content_type(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def route_pattern(pattern: str) -> re.Pattern[str]:
    """A `run_worker_first` route pattern (`*` matches anything, `/` included)."""
    return re.compile(
        "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern))
    )


@dataclass(frozen=True)
class Asset:
    body: bytes
    etag: str
    content_type: str


@dataclass(frozen=True)
class Redirect:
    location: str


class StaticAssets:
    """The `[assets]` folder as ASGI middleware in front of `app`."""

    def __init__(self, app, config: AssetsConfig):
        if config.html_handling not in HTML_HANDLING:
            raise ValueError(
                f"wrangler.toml [assets] html_handling = {config.html_handling!r}: the local "
                f"server follows {' or '.join(HTML_HANDLING)}"
            )
        if config.not_found_handling not in NOT_FOUND_HANDLING:
            raise ValueError(
                f"wrangler.toml [assets] not_found_handling = {config.not_found_handling!r}: "
                "the local server follows only 'none' (a missing file reaches the app)"
            )
        self.app = app
        self.config = config
        self.directory = config.directory
        first = config.run_worker_first
        self.worker_first = first if isinstance(first, bool) else False
        patterns = () if isinstance(first, bool) else first
        self.first_include = [route_pattern(p) for p in patterns if not p.startswith("!")]
        self.first_exclude = [route_pattern(p[1:]) for p in patterns if p.startswith("!")]
        # path -> (mtime_ns, size, Asset): a file is hashed again only when it changes.
        self._cache: dict[Path, tuple[int, int, Asset]] = {}
        self._listing: frozenset[str] = frozenset()
        self._first_segments: frozenset[str] = frozenset()  # of the listing's paths
        self._listed_at: float | None = None

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or self.app_goes_first(scope["path"])
            or not self.may_name_a_file(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        # In the loop: a path with no listed file costs set lookups only (asset()).
        found = self.resolve(scope["path"])
        if found is None:
            await self.app(scope, receive, send)
        elif isinstance(found, Redirect):
            query = scope.get("query_string", b"")
            location = found.location.encode() + (b"?" + query if query else b"")
            await respond(send, 307, [(b"location", location), (b"content-length", b"0")], b"")
        else:
            await self.answer(scope, send, found)

    def app_goes_first(self, path: str) -> bool:
        if self.worker_first:
            return True
        if not self.first_include:  # the default: nothing to match
            return False
        if any(p.fullmatch(path) for p in self.first_exclude):
            return False
        return any(p.fullmatch(path) for p in self.first_include)

    def listing(self) -> frozenset[str]:
        now = time.monotonic()
        if self._listed_at is None or now - self._listed_at >= LISTING_MAX_AGE:
            self._listing = list_files(self.directory)
            self._first_segments = frozenset(p.split("/", 1)[0] for p in self._listing)
            self._listed_at = now
        return self._listing

    def may_name_a_file(self, path: str) -> bool:
        """False when no listed file can answer `path`: every file the lookups below try
        (the path, path.html, path/index.html) starts with the path's first segment, or that
        segment and .html. Every API and object request is answered by this alone."""
        first = path.lstrip("/").split("/", 1)[0]
        if not first:
            return True
        self.listing()
        return first in self._first_segments or first + ".html" in self._first_segments

    async def answer(self, scope, send, asset: Asset) -> None:
        headers = [
            (b"etag", asset.etag.encode()),
            (b"cache-control", CACHE_CONTROL),
        ]
        if asset.etag in if_none_match(scope):
            await respond(send, 304, headers, b"")
            return
        headers += [
            (b"content-type", asset.content_type.encode()),
            (b"content-length", str(len(asset.body)).encode()),
        ]
        await respond(send, 200, headers, b"" if scope["method"] == "HEAD" else asset.body)

    # -- finding the file ------------------------------------------------------------------

    def resolve(self, path: str) -> Asset | Redirect | None:
        if self.config.html_handling == "none":
            return self.asset(path)
        if path.endswith("/index.html"):
            clean = path.removesuffix("index.html")
            return Redirect(clean) if self.asset(path) else None
        if path.endswith(".html"):
            return Redirect(path.removesuffix(".html")) if self.asset(path) else None
        if path.endswith("/"):
            index = self.asset(path + "index.html")
            if index is not None:
                return index
            if path != "/" and self.asset(path.rstrip("/") + ".html"):
                return Redirect(path.rstrip("/"))
            return None
        exact = self.asset(path) or self.asset(path + ".html")
        if exact is not None:
            return exact
        return Redirect(path + "/") if self.asset(path + "/index.html") else None

    def asset(self, path: str) -> Asset | None:
        """The file at URL path `path` inside the folder, or None (also for any path that
        would step outside it)."""
        relative = path.lstrip("/")
        # The listing first: of the paths that get this far (may_name_a_file), most still
        # name no file (`.html` and `/index.html` are tried too), and one set lookup says so.
        if relative not in self.listing():
            return None
        parts = relative.split("/")
        if any(part in ("", ".", "..") or "\\" in part or "\0" in part for part in parts):
            return None
        if parts[-1] in NEVER_SERVED:
            return None
        file = self.directory.joinpath(*parts)
        try:
            if not file.resolve().is_relative_to(self.directory.resolve()):
                return None
            status = file.stat()
        except (OSError, ValueError):
            return None
        if not file.is_file():
            return None
        cached = self._cache.get(file)
        if cached and cached[:2] == (status.st_mtime_ns, status.st_size):
            return cached[2]
        body = file.read_bytes()
        asset = Asset(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"', content_type(file))
        self._cache[file] = (status.st_mtime_ns, status.st_size, asset)
        return asset


def list_files(directory: Path) -> frozenset[str]:
    """Every file under `directory`, as a URL path without its leading slash."""
    names: set[str] = set()
    for folder, _, files in os.walk(directory):
        relative = Path(folder).relative_to(directory).as_posix()
        prefix = "" if relative == "." else relative + "/"
        names.update(prefix + name for name in files)
    return frozenset(names)


def if_none_match(scope) -> set[str]:
    for name, value in scope.get("headers", []):
        if name == b"if-none-match":
            tags = value.decode("latin-1").split(",")
            return {tag.strip().removeprefix("W/") for tag in tags}
    return set()


async def respond(send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
