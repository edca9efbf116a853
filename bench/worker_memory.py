"""Benchmark: the Worker's WASM memory on Pyodide, per flow and for the largest upload.

A Workers isolate has 128 MB for everything; Pyodide's WASM linear memory is most of it and
never shrinks, so its size after a flow is the high-water mark of everything run so far.
This runs `src/entry.py` in the Pyodide harness of the tests (tests/pyodide/: npm pyodide,
the real workers-runtime-sdk, Miniflare's D1 and R2, LocalImages as env.IMAGES) and prints
that size after each flow in turn:

- importing the entry (`create_app()`), then `GET /openapi.json`;
- a CJK SVG card, its fonts read from R2;
- a batch of three SVG renders through the queue handler;
- a PNG upload as large as the Worker takes (`MAX_UPLOAD_BYTES` of wrangler.toml; noise, so
  it does not compress), through CattoPic's `POST /api/upload/single`;
- a 60 MB PNG put straight into R2 (PixelFlare's two-step upload with an R2 presigned URL,
  up to DIRECT_UPLOAD_MAX_BYTES), completed from R2's event notification by the queue
  consumer, which reads the object through streams (services/images/streamed_upload.py).

The largest upload is then run alone in a fresh harness as well (the isolate a cold request
gets). Target: under 110 MB after every flow, leaving room under 128 MB for JavaScript's own
heap (issue 12).

    .venv/bin/python bench/worker_memory.py        (bench/run.py runs it too)

Needs what tests/pyodide needs: Node, `npm ci --prefix tests/pyodide` and
`npm ci --prefix tests/miniflare`, and the Worker's wheels (downloaded on first use).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0:0] = [str(ROOT), str(ROOT / "src")]

TARGET_MB = 110
MB = 1024 * 1024


async def run_flows(worker, flows) -> list[tuple[str, float]]:
    import httpx

    from tests.conftest import ADMIN_TOKEN
    from tests.pyodide.worker import WorkerTransport

    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    rows = []
    async with httpx.AsyncClient(
        transport=WorkerTransport(worker), base_url="http://testserver"
    ) as client:
        for name, flow in flows:
            await flow(client, worker, admin)
            rows.append((name, worker.memory() / MB))
    return rows


async def openapi(client, worker, admin) -> None:
    assert (await client.get("/openapi.json")).status_code == 200


async def cjk_card(client, worker, admin) -> None:
    from tests.pyodide.test_worker_flows import font_file

    document = {
        "width": 400,
        "height": 120,
        "components": [
            {"type": "text", "text": "你好世界 Hello", "fontSize": 40, "x": 20, "y": 20,
             "fontFamily": "Noto Sans SC", "color": "#000000"},
        ],
    }  # fmt: skip
    headers = {**admin, "Accept": "image/svg+xml"}
    for _ in range(6):
        response = await client.post("/api/v1/image", json=document, headers=headers)
        if response.status_code != 503:
            break
        key = response.json()["details"]["missing"]
        worker.r2_put(key, font_file(key), "font/ttf")  # as `pixhaven fonts install --remote`
    assert response.status_code == 200, response.text


async def batch_render(client, worker, admin) -> None:
    from tests.test_batch_render import TEMPLATE, create_template, start

    uid = await create_template(client, admin, TEMPLATE)
    colours = ["#ff0000", "#00ff00", "#0000ff"]
    await start(client, admin, uid, {"variableSets": [{"bg": c} for c in colours], "format": "svg"})
    worker.deliver_queue()


def largest_upload(data: bytes):
    async def flow(client, worker, admin) -> None:
        from tests.imagegen import upload

        response = await upload(client, admin, data, filename="noise.png")
        assert response.status_code == 200, response.text[:500]

    return flow


DIRECT_UPLOAD_MB = 60


def direct_upload(data: bytes):
    async def flow(client, worker, admin) -> None:
        from tests.pyodide.test_worker_flows import direct_upload

        image_id = await direct_upload(client, worker, data, "large.png")
        response = await client.get(f"/v1/images/{image_id}", headers=admin)
        assert response.json()["status"] == "ready", response.text[:500]

    return flow


def bench_worker_memory() -> list[dict]:
    from tests.pyodide.test_worker_flows import (
        gradient_png_with_private_text,
        largest_worker_upload,
    )
    from tests.pyodide.worker import PyodideWorker

    data, limit = largest_worker_upload()
    name = f"PNG upload of {len(data) / MB:.1f} MB (MAX_UPLOAD_BYTES {limit / MB:g} MB)"
    large = gradient_png_with_private_text(int((DIRECT_UPLOAD_MB * MB / 3) ** 0.5))
    direct = f"direct-to-R2 upload of a {len(large) / MB:.0f} MB PNG, through streams"
    results = []

    worker = PyodideWorker.start_or_skip()
    try:
        ready = worker.ready
        results.append(("before importing the entry", ready["memory_before_entry"] / MB))
        results.append(("after importing the entry (create_app)", ready["memory"] / MB))
        results += asyncio.run(
            run_flows(
                worker,
                [
                    ("GET /openapi.json", openapi),
                    ("a CJK SVG card, fonts from R2", cjk_card),
                    ("3 SVG renders through the queue handler", batch_render),
                    (name + ", after the flows above", largest_upload(data)),
                    (direct + ", after the flows above", direct_upload(large)),
                ],
            )
        )
    finally:
        worker.stop()
    fresh = PyodideWorker.start_or_skip()
    try:
        results += asyncio.run(
            run_flows(
                fresh,
                [
                    (name + ", in a fresh isolate", largest_upload(data)),
                    (direct + ", after it", direct_upload(large)),
                ],
            )
        )
    finally:
        fresh.stop()
    return [{"name": n, "memory_mb": m, "target_mb": TARGET_MB} for n, m in results]


def print_results(results: list[dict]) -> bool:
    """Prints each flow's memory; True when one is over its target."""
    print("Worker WASM memory on Pyodide (MB after each flow, target under 110):")
    over = False
    for result in results:
        verdict = "ok" if result["memory_mb"] < result["target_mb"] else "OVER TARGET"
        over |= verdict != "ok"
        ratio = result["memory_mb"] / result["target_mb"]
        print(f"  {result['name']}: {result['memory_mb']:.0f} MB, ratio {ratio:.2f} -> {verdict}")
    return over


if __name__ == "__main__":
    sys.exit(1 if print_results(bench_worker_memory()) else 0)
