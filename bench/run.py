"""Pixhaven benchmarks: one command, every figure side by side with its reference and target.

    .venv/bin/python bench/run.py                  # everything (about 15 minutes)
    .venv/bin/python bench/run.py startup card     # only the named groups
    .venv/bin/python bench/run.py --write-readme   # and rewrite README's table from this run

The groups (each a module of this folder returning `figures.Figure`s):
- startup (startup.py): import + `create_app()` in a fresh interpreter vs `import fastapi`.
- card (render_card.py): a 1200×630 card to PNG vs satori + resvg-js and satori + resvg-wasm.
- html (html_card.py): the same card as HTML through the warm local browser vs satori +
  resvg-js (SPEC §5: no slower) and vs the component renderer.
- upload (upload_pipeline.py): a 12 MP JPEG to original + WebP + AVIF vs sharp, at equal
  quality (bytes and PSNR beside sharp's), and its peak memory.
- latency (latency.py): random (with and without filters), list pages (first and deep
  cursor) and tag lists at 1k, 100k and 1M images.
- serving (serving.py): `GET /r2/<JPEG>` from `pixhaven dev` vs `python -m http.server`, and
  behind nginx with X-Accel-Redirect vs nginx alone (and a do-nothing app there: the floor).
- api (serving_api.py): list pages per second, and the cost of building one page.
Then two tables of their own: `pixhaven dev`'s peak memory for hostile images (memory.py) and
the Worker's WASM memory on Pyodide (worker_memory.py).

The exit status is 1 when a figure misses its target. Measurements need a quiet machine: the
ratios come from runs alternated in one process or fresh processes side by side, so load
skews both sides alike, but not perfectly.
"""

import argparse
import importlib
import sys
from pathlib import Path

import pytest
from figures import Figure, markdown_table, print_table

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TABLE_START = "<!-- bench/run.py --write-readme: from here -->"
TABLE_END = "<!-- bench/run.py --write-readme: to here -->"

GROUPS = {
    "startup": ("startup", "bench_startup"),
    "card": ("render_card", "bench_render_card"),
    "html": ("html_card", "bench_html_card"),
    "upload": ("upload_pipeline", "bench_upload"),
    "latency": ("latency", "bench_latency"),
    "serving": ("serving", "bench_serving"),
    "api": ("serving_api", "bench_api_rates"),
}


def run_groups(names: list[str]) -> list[Figure]:
    figures: list[Figure] = []
    for name in names:
        module, function = GROUPS[name]
        print(f"[{name}] …", file=sys.stderr, flush=True)
        figures += getattr(importlib.import_module(module), function)()
    return figures


def write_readme(table: str) -> None:
    text = README.read_text()
    start, end = text.index(TABLE_START), text.index(TABLE_END)
    README.write_text(text[: start + len(TABLE_START)] + "\n" + table + text[end:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("groups", nargs="*", help=f"of {', '.join(GROUPS)}, memory, worker")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    wanted = args.groups or [*GROUPS, "memory", "worker"]
    unknown = set(wanted) - {*GROUPS, "memory", "worker"}
    if unknown:
        parser.error(f"no benchmark group {', '.join(sorted(unknown))}")

    figures = run_groups([name for name in wanted if name in GROUPS])
    failed = any(figure.met is False for figure in figures)
    if figures:
        print_table(figures)
    if args.write_readme:
        write_readme(markdown_table(figures))
    if "memory" in wanted:
        from memory import bench_memory, over_target

        print()
        failed |= over_target(bench_memory())
    if "worker" in wanted:
        from worker_memory import bench_worker_memory, print_results

        print()
        try:
            failed |= print_results(bench_worker_memory())
        except pytest.skip.Exception as skipped:  # no Node, or no tests/pyodide packages
            print(f"Worker memory on Pyodide: not measured ({skipped})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
