"""Scripts the local browser injects into pages (`libraries` in the browser contract), from
a copy installed on this machine: never fetched from a CDN at render time.

Like the fonts (local/runtime/fonts.py), each library is an npm package at a pinned version,
fetched once with `npm pack` into a cache folder (`$PIXHAVEN_SCRIPT_CACHE`, else
`$XDG_CACHE_HOME/pixhaven/scripts`, else `~/.cache/pixhaven/scripts`); after that everything
works offline. `pixhaven browser install-scripts` fetches them ahead of time; otherwise the
first render that asks for one does.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from pixhaven.local.runtime.npm import npm_pack


@dataclass(frozen=True)
class Library:
    package: str
    version: str
    file: str  # inside the tarball


LIBRARIES = {"fabric": Library("fabric", "5.3.0", "package/dist/fabric.min.js")}
_FETCH_LOCK = threading.Lock()


class ScriptInstallError(ValueError):  # the CLI reports ValueErrors as one line
    pass


def default_cache_dir() -> Path:
    if os.environ.get("PIXHAVEN_SCRIPT_CACHE"):
        return Path(os.environ["PIXHAVEN_SCRIPT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pixhaven" / "scripts"


class ScriptCache:
    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory or default_cache_dir())

    def path(self, name: str) -> Path:
        library = LIBRARIES[name]
        return self.directory / f"{library.package}-{library.version}" / Path(library.file).name

    def ensure(self, name: str) -> Path:
        """The library's file, fetched with `npm pack` if it is not cached yet."""
        target = self.path(name)
        if target.is_file():
            return target
        with _FETCH_LOCK:
            if not target.is_file():
                self._fetch(LIBRARIES[name], target)
        return target

    def _fetch(self, library: Library, target: Path) -> None:
        spec = f"{library.package}@{library.version}"
        self.directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.directory) as scratch:
            tarball = npm_pack(
                spec,
                Path(scratch),
                ScriptInstallError,
                f"{spec} is not in the script cache ({target.parent}) and npm is not "
                "installed to fetch it: run `pixhaven browser install-scripts` where npm works",
            )
            with tarfile.open(tarball, "r:gz") as archive:
                member = next((m for m in archive.getmembers() if m.name == library.file), None)
                source = archive.extractfile(member) if member and member.isfile() else None
                if source is None:
                    raise ScriptInstallError(f"{spec} has no {library.file}")
                staging = Path(scratch) / "script"
                with open(staging, "wb") as out:
                    shutil.copyfileobj(source, out)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging, target)  # atomic: a reader sees the whole file or none


def install_all(cache: ScriptCache | None = None, progress=print) -> None:
    cache = cache or ScriptCache()
    for name, library in LIBRARIES.items():
        path = cache.ensure(name)
        progress(f"{name}: {library.package}@{library.version} at {path}")
