"""Packages from the npm registry, for the local runtime's caches (fonts, browser scripts):
`npm pack` downloads a package's tarball without installing anything."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def npm_pack(spec: str, into: Path, error: type[Exception], missing: str) -> Path:
    """Download `spec` (`package@version`) into the folder `into`; the tarball's path.
    Raises `error(missing)` when npm is not installed, `error(...)` when the pack fails."""
    npm = shutil.which("npm")
    if npm is None:
        raise error(missing)
    completed = subprocess.run(
        [npm, "pack", spec, "--pack-destination", str(into), "--silent"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    tarballs = list(into.glob("*.tgz"))
    if completed.returncode != 0 or not tarballs:
        raise error(f"npm pack {spec} failed: {completed.stderr.strip()[-500:]}")
    return tarballs[0]
