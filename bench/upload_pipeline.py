"""Benchmark: the upload pipeline on a 12-megapixel JPEG (original + placeholder + WebP +
AVIF) by Pixhaven's pipeline through the local Images binding, against sharp (libvips, npm,
installed into bench/node_modules) doing the same conversions on the same file at the same
quality with sharp's default encoder settings, on the same two threads.

Figures (targets from issue 15):
- time per upload, Pixhaven / sharp: at most 0.6× (medians, the two run one after the other);
- peak RSS of one upload in a fresh process (VmHWM, everything imported): at most 500 MB;
- "equal quality": the AVIF of each side decoded and compared with the source: Pixhaven's
  bytes at most 1.05× sharp's, its PSNR at most 0.3 dB below sharp's (printed as the
  difference in dB, both PSNRs in the note).

    .venv/bin/python bench/upload_pipeline.py [runs]
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import Figure, print_table
from local_env import local_env

BENCH = Path(__file__).resolve().parent
QUALITY = 80
TARGET_TIME_RATIO = 0.6
TARGET_PEAK_MB = 500
TARGET_BYTES_RATIO = 1.05
TARGET_PSNR_DB = -0.3  # Pixhaven's PSNR minus sharp's, at least this


def photo_like_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """Smooth gradients with fine noise, like a photo (flat colour would flatter encoders)."""
    from PIL import Image

    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 24)
    red = Image.blend(gradient, noise, 0.3)
    green = Image.blend(gradient.rotate(90, expand=False), noise, 0.3)
    blue = Image.radial_gradient("L").resize((width, height))
    buffer = io.BytesIO()
    Image.merge("RGB", (red, green, blue)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def psnr(source: bytes, encoded: bytes) -> float:
    """PSNR in dB of `encoded` against `source` over the RGB channels (both decoded)."""
    from PIL import Image, ImageChops, ImageStat

    a, b = (Image.open(io.BytesIO(data)).convert("RGB") for data in (source, encoded))
    rms = ImageStat.Stat(ImageChops.difference(a, b)).rms
    mse = sum(channel * channel for channel in rms) / len(rms)
    return math.inf if mse == 0 else 10 * math.log10(255 * 255 / mse)


async def _pixhaven(data: bytes, runs: int) -> tuple[list[float], bytes]:
    async with local_env() as env:
        from pixhaven.services.images.pipeline import UploadOptions, process_upload
        from pixhaven.settings import Settings

        settings = Settings.from_env(env)
        options = UploadOptions(quality=QUALITY)
        result = await process_upload(env, data, settings, options)  # warm-up
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            result = await process_upload(env, data, settings, options)
            samples.append(time.perf_counter() - started)
        assert result.webp and result.avif and result.placeholder
    return samples, result.avif


def _sharp(path: Path, runs: int, avif_out: Path) -> dict:
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        raise RuntimeError("the upload benchmark needs Node.js and npm (for sharp)")
    if not (BENCH / "node_modules" / "sharp").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BENCH, check=True
        )
    completed = subprocess.run(
        [node, str(BENCH / "upload_sharp.mjs"), str(path), str(runs), str(QUALITY), str(avif_out)],
        cwd=BENCH,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _peak_rss_mb(path: Path) -> tuple[float, float]:
    """(idle, peak) VmRSS/VmHWM in MB of a fresh process making one upload of `path`."""
    completed = subprocess.run(
        [sys.executable, __file__, "--peak-rss", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    idle, peak = json.loads(completed.stdout.strip().splitlines()[-1])
    return idle, peak


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


async def _one_upload(path: Path) -> tuple[float, float]:
    data = path.read_bytes()
    async with local_env() as env:
        from pixhaven.services.images.pipeline import UploadOptions, process_upload
        from pixhaven.settings import Settings

        settings = Settings.from_env(env)
        idle = _status_mb("VmRSS")
        await process_upload(env, data, settings, UploadOptions(quality=QUALITY))
        return idle, _status_mb("VmHWM")


def bench_upload(runs: int = 3) -> list[Figure]:
    data = photo_like_jpeg()
    with tempfile.TemporaryDirectory() as folder:
        source, sharp_avif = Path(folder) / "source.jpg", Path(folder) / "sharp.avif"
        source.write_bytes(data)
        theirs = _sharp(source, runs, sharp_avif)
        ours, avif = asyncio.run(_pixhaven(data, runs))
        idle, peak = _peak_rss_mb(source)
        their_avif = sharp_avif.read_bytes()
    our_psnr, their_psnr = psnr(data, avif), psnr(data, their_avif)
    print(
        f"AVIF q{QUALITY}: Pixhaven {len(avif):,} bytes, PSNR {our_psnr:.2f} dB; "
        f"sharp {len(their_avif):,} bytes, PSNR {their_psnr:.2f} dB"
    )
    return [
        Figure(
            "upload 12 MP JPEG: original + placeholder + WebP + AVIF",
            statistics.median(ours),
            "s",
            "sharp",
            theirs["median_ms"] / 1000,
            TARGET_TIME_RATIO,
            note=f"median of {runs}",
        ),
        Figure(
            "upload 12 MP JPEG: peak RSS of a fresh process",
            peak,
            "MB",
            target=TARGET_PEAK_MB,
            note=f"{idle:.0f} MB before the upload",
        ),
        Figure(
            f"AVIF q{QUALITY} of that JPEG: size",
            len(avif) / 1024,
            "KB",
            "sharp",
            len(their_avif) / 1024,
            TARGET_BYTES_RATIO,
        ),
        Figure(
            f"AVIF q{QUALITY} of that JPEG: PSNR, Pixhaven minus sharp",
            our_psnr - their_psnr,
            "dB",
            target=TARGET_PSNR_DB,
            higher_is_better=True,
            note=f"{our_psnr:.2f} vs {their_psnr:.2f} dB",
        ),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--peak-rss"]:
        print(json.dumps(asyncio.run(_one_upload(Path(sys.argv[2])))))
    else:
        figures = bench_upload(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
        print_table(figures)
        sys.exit(0 if all(figure.met is not False for figure in figures) else 1)
