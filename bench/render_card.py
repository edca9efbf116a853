"""Benchmark: a 1200×630 card (solid background, a pill tag, a 72 px bold title over two
lines, a divider, a footer) rendered to PNG by Pixhaven's engine and by satori + resvg-js
(npm, installed into bench/node_modules from bench/package-lock.json) on this machine.

SPEC §5 target: Pixhaven at least 1.5× faster. Both sides are timed warm (fonts parsed,
one render done), layout + drawing + PNG encoding per card.
"""

import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from local_env import local_env

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TARGET_SPEEDUP = 1.5

CARD = {
    "width": 1200,
    "height": 630,
    "background": "#0f172a",
    "components": [
        {
            "type": "tag",
            "text": "ENGINEERING",
            "fontFamily": "Inter",
            "fontWeight": "600",
            "fontSize": 20,
            "color": "#ffffff",
            "backgroundColor": "#6366f1",
            "x": 80,
            "y": 80,
        },
        {
            "type": "text",
            "text": "Rendering social cards in pure Python at the edge",
            "fontFamily": "Inter",
            "fontWeight": "700",
            "fontSize": 72,
            "color": "#f8fafc",
            "x": 80,
            "y": 150,
            "frameWidth": 1040,
        },
        {
            "type": "divider",
            "length": 1040,
            "width": "medium",
            "direction": "horizontal",
            "color": "#334155",
            "x": 80,
            "y": 470,
        },
        {
            "type": "text",
            "text": "pixhaven.dev · June 2025",
            "fontFamily": "Inter",
            "fontWeight": "400",
            "fontSize": 28,
            "color": "#94a3b8",
            "x": 80,
            "y": 500,
        },
        {
            "type": "text",
            "text": "5 min read",
            "fontFamily": "Inter",
            "fontWeight": "400",
            "fontSize": 28,
            "color": "#94a3b8",
            "x": 960,
            "y": 500,
        },
    ],
}


async def _pixhaven(runs: int, out: Path | None) -> list[float]:
    async with local_env() as env:
        from pixhaven.render.document import validate_document
        from pixhaven.render.engine import render

        document = validate_document(CARD)
        png = await render(env, document, "image/png")  # warm-up: fonts, caches
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            png = await render(env, validate_document(CARD), "image/png")
            samples.append((time.perf_counter() - started) * 1000)
    if out:
        out.write_bytes(png)
    return samples


def _satori(runs: int, out: Path | None) -> dict:
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        raise RuntimeError("the render benchmark needs Node.js and npm (for satori + resvg-js)")
    if not (BENCH / "node_modules" / "satori").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BENCH, check=True
        )
    from pixhaven.local.runtime.fonts import FontCache

    fonts = FontCache().ensure("Inter")
    args = [node, str(BENCH / "card_satori.mjs"), str(fonts), str(runs)]
    if out:
        args.append(str(out))
    completed = subprocess.run(args, cwd=BENCH, check=True, capture_output=True, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def bench_render_card(runs: int = 30, out_dir: Path | None = None) -> dict:
    ours = asyncio.run(_pixhaven(runs, out_dir / "card_pixhaven.png" if out_dir else None))
    theirs = _satori(runs, out_dir / "card_satori.png" if out_dir else None)
    median = statistics.median(ours)
    speedup = theirs["median_ms"] / median
    print(
        f"render card 1200x630 PNG: Pixhaven {median:.1f} ms/card, satori + resvg-js "
        f"{theirs['median_ms']:.1f} ms/card -> Pixhaven {speedup:.2f}x faster "
        f"(target {TARGET_SPEEDUP}x)"
    )
    return {
        "name": f"render 1200x630 card to PNG (satori + resvg-js: "
        f"{theirs['median_ms']:.1f} ms/card; target = it / {TARGET_SPEEDUP})",
        "median_ms": median,
        "min_ms": min(ours),
        "target_ms": theirs["median_ms"] / TARGET_SPEEDUP,
    }


if __name__ == "__main__":
    result = bench_render_card(out_dir=Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    sys.exit(0 if result["median_ms"] <= result["target_ms"] else 1)
