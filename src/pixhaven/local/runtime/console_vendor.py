"""The console's third-party files (Swagger UI and ReDoc for /docs and /redoc), put into the
assets folder's `vendor/` at install time: never committed, never loaded from a CDN.

Each is an npm package at a pinned version, fetched once with `npm pack` into a cache
(`$XDG_CACHE_HOME/pixhaven/npm`, else `~/.cache/pixhaven/npm`); the files the pages load are
copied from the tarball into `vendor/<name>/` with a `VERSION` file naming what is there, so
a second install with the same pins changes nothing and works offline. `pixhaven console
install` runs it (scripts/dev.sh, scripts/test.sh and scripts/deploy.sh call it); wrangler
then uploads the folder with the other assets and `pixhaven dev` serves it.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pixhaven.local.runtime.npm import npm_pack

EMPTY_SVG = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"


@dataclass(frozen=True)
class VendoredPackage:
    folder: str  # under vendor/
    package: str
    version: str
    files: tuple[str, ...]  # paths inside the package, copied by their base name
    # (base name, text, replacement): where a file would fetch something from another
    # origin, it is pointed elsewhere when copied (the text must be found, so a new version
    # that moved it fails the install instead of fetching it).
    rewrites: tuple[tuple[str, str, str], ...] = ()

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


# The URLs routers/docs.py's /docs and /redoc pages load are these folders and base names.
PACKAGES = (
    VendoredPackage(
        "swagger-ui",
        "swagger-ui-dist",
        "5.35.0",
        ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"),
    ),
    # ReDoc 2: a classic script (3.x is an ES module that sends telemetry to Redocly). Its
    # sidebar footer shows Redocly's logo from their CDN: an empty image instead.
    VendoredPackage(
        "redoc",
        "redoc",
        "2.5.4",
        ("bundles/redoc.standalone.js", "LICENSE"),
        rewrites=(("redoc.standalone.js", "https://cdn.redoc.ly/redoc/logo-mini.svg", EMPTY_SVG),),
    ),
)
VERSION_FILE = "VERSION"


class VendorInstallError(ValueError):  # the CLI reports ValueErrors as one line
    pass


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pixhaven" / "npm"


def installed(vendor_dir: Path, package: VendoredPackage) -> bool:
    folder = vendor_dir / package.folder
    marker = folder / VERSION_FILE
    return (
        marker.is_file()
        and marker.read_text().strip() == package.spec
        and all((folder / Path(name).name).is_file() for name in package.files)
    )


def tarball(package: VendoredPackage, cache_dir: Path) -> Path:
    """The package's tarball from the cache, fetched with `npm pack` the first time."""
    cached = cache_dir / f"{package.package}-{package.version}.tgz"
    if cached.is_file():
        return cached
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as scratch:
        fetched = npm_pack(
            package.spec,
            Path(scratch),
            VendorInstallError,
            f"{package.spec} is not in the cache ({cache_dir}) and npm is not installed to "
            "fetch it: install Node.js with npm, then run `pixhaven console install`",
        )
        os.replace(fetched, cached)  # atomic: the cache holds a whole tarball or none
    return cached


def install_package(vendor_dir: Path, package: VendoredPackage, cache_dir: Path) -> None:
    source = tarball(package, cache_dir)
    vendor_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=vendor_dir, prefix=".staging-") as scratch:
        staging = Path(scratch) / package.folder
        staging.mkdir()
        with tarfile.open(source, "r:gz") as archive:
            for name in package.files:
                try:
                    member = archive.extractfile(f"package/{name}")
                except KeyError:
                    member = None
                if member is None:
                    raise VendorInstallError(f"{package.spec} has no {name}")
                with member, open(staging / Path(name).name, "wb") as out:
                    shutil.copyfileobj(member, out)
        for name, text, replacement in package.rewrites:
            content = (staging / name).read_text(encoding="utf-8")
            if text not in content:
                raise VendorInstallError(f"{package.spec}: {name} no longer has {text}")
            (staging / name).write_text(content.replace(text, replacement), encoding="utf-8")
        (staging / VERSION_FILE).write_text(package.spec + "\n")
        target = vendor_dir / package.folder
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)


def install(vendor_dir: Path, cache_dir: Path | None = None, progress=print) -> int:
    """Puts every pinned package's files into `vendor_dir`; how many it had to (re)install."""
    cache_dir = cache_dir or default_cache_dir()
    changed = 0
    for package in PACKAGES:
        if installed(vendor_dir, package):
            progress(f"{package.folder}: {package.spec} already in {vendor_dir / package.folder}")
            continue
        install_package(vendor_dir, package, cache_dir)
        changed += 1
        progress(f"{package.folder}: installed {package.spec} into {vendor_dir / package.folder}")
    return changed
