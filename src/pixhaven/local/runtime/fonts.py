"""Installing the rendering fonts: npm packages → a local cache → the bucket's `fonts/`.

The app only reads `fonts/...` from `env.BUCKET` (pixhaven.render.fonts). This module is the
part that runs outside the Worker:

- `FontCache` fetches `@expo-google-fonts/<family>` at the pinned version with `npm pack`
  into a cache folder (`$PIXHAVEN_FONT_CACHE`, else `$XDG_CACHE_HOME/pixhaven/fonts`, else
  `~/.cache/pixhaven/fonts`) and extracts its TTFs there, once per machine; after that
  everything works offline.
- `LocalFontInstaller` is set on the local env as `FONT_INSTALLER`: when the app finds a
  font missing from the local bucket it asks it to copy that one file in (so the local
  server and the tests install fonts on first use, one face at a time).
- `install(bucket, families)` uploads whole families (the `pixhaven fonts install` command);
  with `--remote` the files go to the Cloudflare R2 bucket in one `wrangler r2 bulk put`
  (the deployment's pinned wrangler, through `npx --yes`: no prompt).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from pixhaven.local.runtime.npm import npm_pack
from pixhaven.render.fonts import CATALOGUE, all_faces, bucket_key, file_name, package_path

if TYPE_CHECKING:
    from pixhaven.bindings.r2 import R2Bucket
    from pixhaven.local.runtime.config import LocalConfig

CONTENT_TYPE = "font/ttf"
_FETCH_LOCK = threading.Lock()  # one npm pack at a time in this process


def default_cache_dir() -> Path:
    if os.environ.get("PIXHAVEN_FONT_CACHE"):
        return Path(os.environ["PIXHAVEN_FONT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pixhaven" / "fonts"


class FontInstallError(ValueError):  # the CLI reports ValueErrors as one line
    pass


class FontCache:
    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory or default_cache_dir())

    def folder(self, family: str) -> Path:
        info = CATALOGUE[family]
        return self.directory / f"{info.slug}-{info.version}"

    def path(self, family: str, weight: int, italic: bool) -> Path:
        return self.folder(family) / file_name(family, weight, italic)

    def ensure(self, family: str) -> Path:
        """The family's folder of TTFs, fetched with `npm pack` if it is not there yet."""
        folder = self.folder(family)
        if (folder / ".complete").is_file():
            return folder
        with _FETCH_LOCK:
            if not (folder / ".complete").is_file():
                self._fetch(family, folder)
        return folder

    def _fetch(self, family: str, folder: Path) -> None:
        info = CATALOGUE[family]
        spec = f"{info.package}@{info.version}"
        self.directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.directory) as scratch:
            missing = f"{family} is not in the font cache ({folder}) and npm is not installed"
            tarball = npm_pack(spec, Path(scratch), FontInstallError, missing + " to fetch it")
            staging = Path(scratch) / "fonts"
            staging.mkdir()
            wanted = {
                package_path(family, w, it): file_name(family, w, it) for w, it in all_faces(family)
            }
            with tarfile.open(tarball, "r:gz") as archive:
                for member in archive.getmembers():
                    # Only the files we expect, written under names we choose.
                    target = wanted.pop(member.name, None)
                    if target is None or not member.isfile():
                        continue
                    source = archive.extractfile(member)
                    assert source is not None  # a regular file has contents
                    with open(staging / target, "wb") as out:
                        shutil.copyfileobj(source, out)
            if wanted:
                raise FontInstallError(f"{spec} lacks {sorted(wanted.values())}")
            (staging / ".complete").write_text(spec + "\n")
            if folder.exists():
                shutil.rmtree(folder)  # a partial folder from an interrupted run
            try:
                os.replace(staging, folder)
            except OSError:
                # Another process finished the same family first.
                if not (folder / ".complete").is_file():
                    raise


def _face_for_key(key: str) -> tuple[str, int, bool]:
    for family in CATALOGUE:
        for weight, italic in all_faces(family):
            if bucket_key(family, weight, italic) == key:
                return family, weight, italic
    raise FontInstallError(f"{key} is not one of Pixhaven's fonts")


class LocalFontInstaller:
    """`env.FONT_INSTALLER` of the local runtime: copies a missing face into the bucket."""

    def __init__(self, cache: FontCache | None = None):
        self.cache = cache or FontCache()

    async def install(self, bucket: R2Bucket, key: str) -> None:
        family, weight, italic = _face_for_key(key)
        await asyncio.to_thread(self.cache.ensure, family)
        data = await asyncio.to_thread(self.cache.path(family, weight, italic).read_bytes)
        await bucket.put(key, data, httpMetadata={"contentType": CONTENT_TYPE})


async def install(
    bucket: R2Bucket,
    families: list[str] | None = None,
    cache: FontCache | None = None,
    progress=print,
) -> int:
    """Upload every face of `families` (default all) that the bucket lacks; returns count."""
    cache = cache or FontCache()
    uploaded = 0
    for family in families or list(CATALOGUE):
        await asyncio.to_thread(cache.ensure, family)
        for weight, italic in all_faces(family):
            key = bucket_key(family, weight, italic)
            if await bucket.head(key) is not None:
                continue
            data = cache.path(family, weight, italic).read_bytes()
            await bucket.put(key, data, httpMetadata={"contentType": CONTENT_TYPE})
            uploaded += 1
        progress(f"{family}: {len(all_faces(family))} faces in fonts/{CATALOGUE[family].slug}/")
    return uploaded


# The wrangler that uploads and the Node.js it needs (it refuses one older than 22): the
# deployment's pins (`package.json` at the repository root; tests/test_fonts_remote.py holds
# them equal). `npx --yes` never asks before fetching them, and run from the folder of
# wrangler.toml it finds that folder's installed copies instead.
DEPLOY_NODE = "node@22.23.3"
DEPLOY_WRANGLER = "wrangler@4.164.0"


def install_remote(
    bucket_name: str,
    families: list[str] | None = None,
    cache: FontCache | None = None,
    progress=print,
    cwd: Path | None = None,
) -> int:
    """Upload to the Cloudflare R2 bucket with wrangler (needs a logged-in wrangler): one
    `wrangler r2 bulk put` of every face, run in `cwd` (the folder of wrangler.toml)."""
    cache = cache or FontCache()
    npx = shutil.which("npx")
    if npx is None:
        raise FontInstallError("npx (Node.js) is needed to upload with wrangler")
    chosen = families or list(CATALOGUE)
    entries = []
    for family in chosen:
        cache.ensure(family)
        for weight, italic in all_faces(family):
            entries.append(
                {
                    "key": bucket_key(family, weight, italic),
                    "file": str(cache.path(family, weight, italic)),
                }
            )
    with tempfile.TemporaryDirectory() as scratch:
        manifest = Path(scratch) / "fonts.json"
        manifest.write_text(json.dumps(entries), encoding="utf-8")
        command = [
            npx,
            "--yes",
            "--package",
            DEPLOY_NODE,
            "--package",
            DEPLOY_WRANGLER,
            "--",
            "wrangler",
            "r2",
            "bulk",
            "put",
            bucket_name,
            "--filename",
            str(manifest),
            "--content-type",
            CONTENT_TYPE,
            "--remote",
            "--force",  # no confirmation prompt: the upload runs unattended (scripts/deploy.sh)
        ]
        completed = subprocess.run(
            command, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
    if completed.returncode != 0:
        # wrangler's own message, without npm's notices about npm
        lines = (completed.stderr.strip() or completed.stdout.strip()).splitlines()
        output = "\n".join(line for line in lines if not line.startswith("npm "))
        raise FontInstallError(f"wrangler r2 bulk put {bucket_name} failed: {output[-500:]}")
    for family in chosen:
        progress(f"{family}: uploaded to r2://{bucket_name}/fonts/{CATALOGUE[family].slug}/")
    return len(entries)


def bucket_name(config: LocalConfig) -> str:
    """The R2 bucket bound as BUCKET in wrangler.toml."""
    import tomllib

    if config.source is None:
        raise FontInstallError("no wrangler.toml: pass --config")
    data = tomllib.loads(Path(config.source).read_text(encoding="utf-8"))
    for bucket in data.get("r2_buckets", []):
        if bucket.get("binding") == "BUCKET":
            return bucket["bucket_name"]
    raise FontInstallError("wrangler.toml binds no R2 bucket as BUCKET")


def parse_families(names: list[str] | None) -> list[str] | None:
    if not names:
        return None
    chosen = []
    for name in names:
        match = next((f for f in CATALOGUE if f.lower() == " ".join(name.split()).lower()), None)
        if match is None:
            raise ValueError(f"unknown font family {name!r}; supported: {', '.join(CATALOGUE)}")
        chosen.append(match)
    return chosen
