"""Pixhaven benchmarks: one command, prints each measurement and its ratio to its target.

    .venv/bin/python bench/run.py

Benchmarks so far:
- import: importing the app and building it (`from pixhaven.app import create_app;
  create_app()`), in a fresh interpreter each time: the Worker's cold-start proxy.
  SPEC §5 target: under 300 ms in CPython.
- upload (bench/upload_pipeline.py): a 12 MP JPEG to original + WebP + AVIF, Pixhaven's
  pipeline vs sharp. SPEC §5 target: within 1.5x of sharp.
- latency (bench/latency.py): /api/random and list pages at 1k vs 100k images. Target: flat.
- render card (bench/render_card.py): a 1200x630 card to PNG by Pixhaven vs satori +
  resvg-js (npm, bench/node_modules). SPEC §5 target: at least 1.5x faster.
- HTML card (bench/html_card.py): the same card as HTML through the warm local browser
  binding, printed as ratios to the component renderer and to satori + resvg-js (no target:
  it says what a Pictify HTML render costs next to a component document). Needs Chromium.
- memory (bench/memory.py): peak RSS of `pixhaven dev` above idle for each image of the
  bounded-memory issue, one request and four at once. Target: 600 MB and 1.2 GB.
- Worker memory (bench/worker_memory.py): the Worker's WASM memory on Pyodide after each
  flow and for the largest upload it takes (MAX_UPLOAD_BYTES). Target: under 110 MB.
"""

import statistics
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

IMPORT_PROBE = """
import time
started = time.perf_counter()
from pixhaven.app import create_app
create_app()
print((time.perf_counter() - started) * 1000)
"""


def bench_import(runs: int = 7) -> dict:
    # One untimed run first so .pyc files exist, as they do in a deployed Worker bundle.
    subprocess.run([sys.executable, "-c", IMPORT_PROBE], check=True, capture_output=True, cwd=ROOT)
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
        samples.append(float(out.strip()))
    return {
        "name": "app import + create_app (cold start proxy)",
        "median_ms": statistics.median(samples),
        "min_ms": min(samples),
        "target_ms": 300.0,
    }


def main() -> int:
    from html_card import bench_html_card
    from latency import bench_latency
    from memory import bench_memory, over_target
    from render_card import bench_render_card
    from upload_pipeline import bench_upload
    from worker_memory import bench_worker_memory, print_results

    results = [bench_import(), bench_render_card(), bench_upload(), *bench_latency()]
    failed = False
    for result in results:
        ratio = result["median_ms"] / result["target_ms"]
        verdict = "ok" if ratio <= 1 else "OVER TARGET"
        failed |= ratio > 1
        print(
            f"{result['name']}: median {result['median_ms']:.1f} ms "
            f"(min {result['min_ms']:.1f} ms), target {result['target_ms']:.0f} ms, "
            f"ratio {ratio:.2f} -> {verdict}"
        )
    print()
    bench_html_card()
    print()
    failed |= over_target(bench_memory())
    print()
    try:
        failed |= print_results(bench_worker_memory())
    except pytest.skip.Exception as skipped:  # no Node, or no tests/pyodide packages
        print(f"Worker memory on Pyodide: not measured ({skipped})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
