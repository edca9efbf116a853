"""Benchmark: the same 1200×630 card as bench/render_card.py, written as HTML and rendered
to PNG by the warm local browser binding (`env.BROWSER`: Playwright + the system Chromium),
against satori + resvg-js and against Pixhaven's component renderer.

Pictify's routes send HTML to the browser; Craftr's send component documents to the engine.
SPEC §5 wants HTML cards through a warm browser no slower than satori + resvg (the first
row's target); the second row says how many times slower the browser is than a component
document, which is when to prefer one.

The fonts are the same Inter TTFs, inlined as `data:` URLs (the browser binding fetches
nothing from disk, and `data:` is always allowed). Timed warm: the browser launched and one
card rendered first; each sample is one contract call (a fresh context, the page, the PNG).
"""

import asyncio
import base64
import json
import statistics
import sys
import time
from pathlib import Path

from figures import Figure, print_table
from local_env import local_env
from render_card import _pixhaven, _satori

FACES = (("Inter_400Regular.ttf", 400), ("Inter_600SemiBold.ttf", 600), ("Inter_700Bold.ttf", 700))


def card_html(font_dir: Path) -> str:
    def data_url(name: str) -> str:
        return "data:font/ttf;base64," + base64.b64encode((font_dir / name).read_bytes()).decode()

    faces = "".join(
        f"@font-face{{font-family:Inter;font-weight:{weight};src:url({data_url(name)})}}"
        for name, weight in FACES
    )
    return f"""<!doctype html><html><head><style>{faces}
html,body{{margin:0;width:1200px;height:630px;background:#0f172a;font-family:Inter}}
.at{{position:absolute;display:flex}}
</style></head><body>
<div class="at" style="left:80px;top:80px;background:#6366f1;color:#fff;font-size:20px;
 font-weight:600;padding:6px 15px;border-radius:999px">ENGINEERING</div>
<div class="at" style="left:80px;top:150px;width:1040px;color:#f8fafc;font-size:72px;
 font-weight:700">Rendering social cards in pure Python at the edge</div>
<div class="at" style="left:80px;top:470px;width:1040px;height:2px;background:#334155"></div>
<div class="at" style="left:80px;top:500px;color:#94a3b8;font-size:28px">
 pixhaven.dev · June 2025</div>
<div class="at" style="left:960px;top:500px;color:#94a3b8;font-size:28px">5 min read</div>
</body></html>"""


async def _browser(runs: int, out: Path | None) -> list[float]:
    from pixhaven.bindings.browser import CONTRACT_ORIGIN
    from pixhaven.interop import as_bytes
    from pixhaven.local.runtime.fonts import FontCache

    request = json.dumps(
        {"html": card_html(FontCache().ensure("Inter")), "width": 1200, "height": 630}
    )
    async with local_env() as env:

        async def once() -> bytes:
            answer = await env.BROWSER.fetch(
                CONTRACT_ORIGIN + "/screenshot", method="POST", body=request
            )
            if answer.status != 200:
                raise RuntimeError(f"the browser answered {answer.status}: {await answer.text()}")
            return as_bytes(await answer.arrayBuffer())

        png = await once()  # warm-up: launches Chromium, parses the fonts once
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            png = await once()
            samples.append((time.perf_counter() - started) * 1000)
    if out:
        out.write_bytes(png)
    return samples


def bench_html_card(runs: int = 20, out_dir: Path | None = None) -> list[Figure]:
    browser = statistics.median(
        asyncio.run(_browser(runs, out_dir / "card_browser.png" if out_dir else None))
    )
    satori = _satori(runs, None, "js")["median_ms"]
    engine = statistics.median(asyncio.run(_pixhaven(runs, None)))
    name = "the same card as HTML → PNG, warm local browser"
    return [
        Figure(
            name=name,
            value=browser,
            unit="ms",
            reference_name="satori + resvg-js",
            reference_value=satori,
            target=1.0,  # SPEC §5: no slower than satori + resvg
            note="a fresh context and page per call",
        ),
        # No target: what a Pictify HTML render costs next to a component document.
        Figure(
            name=name,
            value=browser,
            unit="ms",
            reference_name="component renderer",
            reference_value=engine,
        ),
    ]


if __name__ == "__main__":
    print_table(bench_html_card(out_dir=Path(sys.argv[1]) if len(sys.argv) > 1 else None))
