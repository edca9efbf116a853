"""Benchmark: a 1200×630 card (solid background, a pill tag, a 72 px bold title over two
lines, a divider, a footer) rendered to PNG by Pixhaven's engine and by satori + resvg-js
and satori + resvg-wasm (npm, installed into bench/node_modules from bench/package-lock.json)
on this machine.

Target: Pixhaven at least 2× faster than the faster satori pipeline (SPEC §5 asks 2× over
satori + resvg-js; issue 15 keeps 2× over the faster of the two). Both sides are timed warm
(fonts parsed, one render done), layout + drawing + PNG encoding per card.
"""

import asyncio
import json
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
ROOT = BENCH.parent
TARGET_SPEEDUP = 2.0

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


def _satori(runs: int, out: Path | None, renderer: str = "js") -> dict:
    """satori + resvg on Node: renderer "js" (resvg-js, native) or "wasm" (resvg-wasm)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        raise RuntimeError("the render benchmark needs Node.js and npm (for satori + resvg)")
    if not (BENCH / "node_modules" / "@resvg" / "resvg-wasm").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BENCH, check=True
        )
    from pixhaven.local.runtime.fonts import FontCache

    fonts = FontCache().ensure("Inter")
    args = [node, str(BENCH / "card_satori.mjs"), renderer, str(fonts), str(runs)]
    if out:
        args.append(str(out))
    completed = subprocess.run(args, cwd=BENCH, check=True, capture_output=True, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def bench_render_card(runs: int = 30, out_dir: Path | None = None) -> list[Figure]:
    """Pixhaven against both satori pipelines, the two measured in alternation with it (two
    rounds each) so a busy moment of the machine does not land on one side only. The first
    round's PNGs are kept (in `out_dir`, or a temporary folder) to compare their sizes."""
    with tempfile.TemporaryDirectory() as temporary:
        out = out_dir or Path(temporary)
        ours: list[float] = []
        theirs: dict[str, list[float]] = {"js": [], "wasm": []}
        for round_ in range(2):
            first = round_ == 0
            mine = out / "card_pixhaven.png" if first else None
            ours += asyncio.run(_pixhaven(runs // 2, mine))
            for renderer, samples in theirs.items():
                png = out / f"card_satori_{renderer}.png" if first else None
                samples.append(_satori(runs // 2, png, renderer)["median_ms"])
        sizes = {
            name: (out / f"card_{name}.png").stat().st_size for name in ("pixhaven", "satori_js")
        }
    median = statistics.median(ours)
    figures = []
    for renderer, samples in theirs.items():
        figures.append(
            Figure(
                name="1200×630 card → PNG, ms per card",
                value=median,
                unit="ms",
                reference_name=f"satori + resvg-{renderer}",
                reference_value=statistics.median(samples),
                # SPEC §5: 2x faster than satori + resvg-js; issue 15: 2x the faster pipeline.
                target=1 / TARGET_SPEEDUP,
            )
        )
    figures.append(
        Figure(
            name="1200×630 card → PNG, file size",
            value=sizes["pixhaven"] / 1000,
            unit="KB",
            reference_name="resvg-js",
            reference_value=sizes["satori_js"] / 1000,
            note="flat drawing: unfiltered rows, zlib level 1",
        )
    )
    return figures


if __name__ == "__main__":
    print_table(bench_render_card(out_dir=Path(sys.argv[1]) if len(sys.argv) > 1 else None))
