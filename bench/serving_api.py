"""Benchmark: the image list answers, `/api/images?limit=24` (CattoPic) and
`/v1/images?limit=50` (PixelFlare), sent as built (routers/native_json.py) instead of through
FastAPI's `jsonable_encoder` pass. Issue 15's target: ≥ 1.8× the rate before.

- HTTP: requests per second through a real `pixhaven dev` (one uvicorn process), driven by
  `wrk` (1 thread, 8 connections), 1,000 images seeded straight into its SQLite through the
  local D1 binding before it starts. The reference is the same route served by the commit
  before the change (the parent of the commit that added routers/native_json.py), checked
  out in a throwaway `git worktree` and run with the same interpreter; the two alternate,
  each in a fresh process per round, and the medians are compared.
- In process, end to end: the median time of one request through the app (httpx over
  ASGI, seeded local bindings), each side's code in its own fresh process, alternating:
  steadier than the HTTP rate on a shared machine, as a busy neighbour slows both the same.
- In process: encoding one page answer the way FastAPI did for a route returning a dict
  (`jsonable_encoder`, then JSONResponse's encoding) against NativeJSONResponse; the bytes
  are checked to be the same.
"""

import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from pathlib import Path

from figures import Figure
from local_env import ADMIN_TOKEN, ROOT, local_env

IMAGES = 1_000
ROUTES = {"/api/images?limit=24": "CattoPic", "/v1/images?limit=50": "PixelFlare"}
TARGET = 1.8
ROUNDS = 3
WRK_SECONDS = 4
CONNECTIONS = 8


async def seed(env, count: int = IMAGES) -> None:
    """`count` ready images of one owner, each with two of eight tags, every fourth in an
    album: the rows the upload would have written, without the upload."""
    from pixhaven.db.images import INSERT_COLUMNS, insert_statement

    db = env.DB
    stamp = "2026-01-01T00:00:00.000Z"
    statements = [
        db.prepare(
            "INSERT INTO albums (id, owner, slug, title, created_at, updated_at)"
            " VALUES ('col_bench', 'default_user', 'trip', 'Trip', ?, ?)"
        ).bind(stamp, stamp)
    ]
    for n in range(count):
        image_id = str(uuid.UUID(int=n + 1))
        created = f"2026-01-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z"
        row = {column: None for column in INSERT_COLUMNS}
        row.update(
            id=image_id,
            short_id=f"s{n:09d}",
            owner="default_user",
            album_id="col_bench" if n % 4 == 0 else None,
            filename=f"{n}.jpg",
            original_name=f"photo {n}.jpg",
            content_type="image/jpeg",
            format="jpg",
            width=800 if n % 3 else 600,
            height=600 if n % 3 else 800,
            orientation="landscape" if n % 3 else "portrait",
            animated=0,
            size=210_000,
            webp_size=120_000,
            avif_size=90_000,
            content_hash=f"h{n}",
            placeholder="1QcSHQRnh493V4dIh4eXh1h4kJUI",
            is_private=n % 10 == 0,
            source="upload",
            status="ready",
            rand=(n * 2654435761) % 2147483648,
            created_at=created,
            updated_at=created,
        )
        statements.append(insert_statement(db, row))
        for tag in {f"t{n % 8}", f"t{(n // 8) % 8}"}:
            statements.append(
                db.prepare("INSERT INTO image_tags (image_id, owner, tag) VALUES (?, ?, ?)").bind(
                    image_id, "default_user", tag
                )
            )
    statements += [
        db.prepare("INSERT INTO tags (owner, name, created_at) VALUES (?, ?, ?)").bind(
            "default_user", f"t{i}", stamp
        )
        for i in range(8)
    ]
    await db.batch(statements)


# -- in process: the encoding of one page --------------------------------------------------------


async def _page_answers() -> dict[str, object]:
    """Each route's answer as JSON data, asked of the app over seeded bindings."""
    import httpx

    async with local_env() as env:
        from pixhaven.app import create_app
        from pixhaven.local.runtime.server import with_env

        await seed(env)
        transport = httpx.ASGITransport(app=with_env(create_app(), env), client=("127.0.0.1", 1))
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            return {route: (await http.get(route, headers=admin)).json() for route in ROUTES}


async def _request_times() -> dict[str, float]:
    """The median milliseconds of one request to each route, in this process."""
    import httpx

    async with local_env() as env:
        from pixhaven.app import create_app
        from pixhaven.local.runtime.server import with_env

        await seed(env)
        transport = httpx.ASGITransport(app=with_env(create_app(), env), client=("127.0.0.1", 1))
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        times = {}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for route in ROUTES:
                for _ in range(20):  # warm-up
                    await http.get(route, headers=admin)
                samples = []
                for _ in range(300):
                    started = time.perf_counter()
                    response = await http.get(route, headers=admin)
                    samples.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.text
                times[route] = statistics.median(samples)
    return times


def _request_times_of(source: Path) -> dict[str, float]:
    """`_request_times` in a fresh process running `source`'s code."""
    environment = {**os.environ, "PYTHONPATH": str(source / "src")}
    out = subprocess.run(
        [sys.executable, __file__, "--request-times"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    answer = json.loads(out.strip().splitlines()[-1])
    assert answer["code"].startswith(str(source / "src")), answer["code"]  # the right side
    return answer["times"]


def encoding_figures() -> list[Figure]:
    from fastapi.encoders import jsonable_encoder
    from fastapi.responses import JSONResponse

    from pixhaven.routers.native_json import NativeJSONResponse

    figures = []
    for route, answer in asyncio.run(_page_answers()).items():

        def before(answer=answer) -> bytes:
            return JSONResponse(jsonable_encoder(answer)).body

        def after(answer=answer) -> bytes:
            return NativeJSONResponse(answer).body

        assert before() == after(), f"{route}: the answers' bytes differ"
        old, new = [], []
        for _ in range(7):  # alternating batches; the median of each side
            old.append(min(timeit.repeat(before, number=50, repeat=3)) / 50 * 1000)
            new.append(min(timeit.repeat(after, number=50, repeat=3)) / 50 * 1000)
        figures.append(
            Figure(
                name=f"encode one {ROUTES[route]} page ({route})",
                value=statistics.median(new),
                unit="ms",
                reference_name="jsonable_encoder + JSONResponse",
                reference_value=statistics.median(old),
                target=0.55,  # 1 / TARGET
                note="same bytes",
            )
        )
    return figures


# -- over HTTP: pixhaven dev under wrk --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def reference_commit() -> str | None:
    """The commit before NativeJSONResponse came in, or None outside a git checkout."""
    added = subprocess.run(
        ["git", "-C", str(ROOT), "log", "--diff-filter=A", "--format=%H", "--"]
        + ["src/pixhaven/routers/native_json.py"],
        capture_output=True,
        text=True,
    )
    commits = added.stdout.split()
    return f"{commits[-1]}^" if added.returncode == 0 and commits else None


def _config(folder: Path, source: Path) -> Path:
    """`source`'s wrangler.toml with its paths made absolute and the rate limit out of the
    way, and ADMIN_TOKEN in .dev.vars beside it."""
    text = (source / "wrangler.toml").read_text(encoding="utf-8")
    text = text.replace('migrations_dir = "migrations"', f'migrations_dir = "{source}/migrations"')
    text = text.replace('directory = "./console"', f'directory = "{source}/console"')
    text = text.replace("simple = { limit = 100,", "simple = { limit = 1000000,")
    (folder / "wrangler.toml").write_text(text, encoding="utf-8")
    (folder / ".dev.vars").write_text(f'ADMIN_TOKEN="{ADMIN_TOKEN}"\n', encoding="utf-8")
    return folder / "wrangler.toml"


def _rate(url: str, seconds: int) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s"]
        + ["-H", f"Authorization: Bearer {ADMIN_TOKEN}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"{url}: errors under load\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def _serve_and_measure(source: Path, folder: Path) -> dict[str, float]:
    """Start `pixhaven dev` from `source`'s code on the state in `folder`, measure each route,
    stop it."""
    port = _free_port()
    command = [sys.executable, "-m", "pixhaven.local.runtime.cli", "--state-dir"]
    command += [str(folder / "state"), "--config", str(folder / "wrangler.toml")]
    command += ["dev", "--host", "127.0.0.1", "--port", str(port)]
    environment = {**os.environ, "PYTHONPATH": str(source / "src")}
    server = subprocess.Popen(
        command,
        cwd=source,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pixhaven dev from {source} did not start")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        rates = {}
        for route in ROUTES:
            _rate(base + route, 1)  # warm-up
            rates[route] = _rate(base + route, WRK_SECONDS)
        return rates
    finally:
        server.terminate()
        server.wait(timeout=15)


def request_figures() -> list[Figure]:
    if shutil.which("wrk") is None:
        print("serving_api: wrk is not installed (apt-get install wrk); HTTP figures skipped")
        return []
    reference = reference_commit()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        sides = {"now": ROOT}
        if reference is not None:
            checkout = work / "reference"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(checkout)]
                + [reference],
                check=True,
            )
            sides["before"] = checkout
        try:
            for side, source in sides.items():
                (work / side).mkdir()
                _config(work / side, source)
            _seed_state(work / "now")
            if "before" in sides:
                shutil.copytree(work / "now" / "state", work / "before" / "state")
            rates: dict[str, dict[str, list[float]]] = {
                side: {r: [] for r in ROUTES} for side in sides
            }
            times: dict[str, dict[str, list[float]]] = {
                side: {r: [] for r in ROUTES} for side in sides
            }
            for round_ in range(ROUNDS):
                order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
                for side in order:
                    for route, rate in _serve_and_measure(sides[side], work / side).items():
                        rates[side][route].append(rate)
                    for route, ms in _request_times_of(sides[side]).items():
                        times[side][route].append(ms)
        finally:
            if "before" in sides:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(sides["before"])],
                    check=False,
                )
    figures = []
    for route, dialect in ROUTES.items():
        before_ms = statistics.median(times["before"][route]) if "before" in times else None
        figures.append(
            Figure(
                name=f"one request {route} in process ({dialect})",
                value=statistics.median(times["now"][route]),
                unit="ms",
                reference_name="before (jsonable_encoder)" if before_ms is not None else "",
                reference_value=before_ms,
                target=0.55 if before_ms is not None else None,  # 1 / TARGET
                note=f"median of 300 requests, median of {ROUNDS} processes",
            )
        )
    for route, dialect in ROUTES.items():
        before = statistics.median(rates["before"][route]) if "before" in rates else None
        note = f"pixhaven dev, wrk -c{CONNECTIONS}, median of {ROUNDS}"
        if before is not None:  # each round's ratio: the two sides ran back to back
            ratios = [n / b for n, b in zip(rates["now"][route], rates["before"][route])]
            note += f"; rounds {min(ratios):.2f}-{max(ratios):.2f}x"
        figures.append(
            Figure(
                name=f"GET {route} ({dialect}, {IMAGES:,} images)",
                value=statistics.median(rates["now"][route]),
                unit="req/s",
                reference_name="before (jsonable_encoder)" if before is not None else "",
                reference_value=before,
                target=TARGET if before is not None else None,
                higher_is_better=True,
                note=note,
            )
        )
    return figures


def _seed_state(folder: Path) -> None:
    """Seed the state folder `pixhaven dev` will open, through the same local bindings."""

    async def run() -> None:
        from pixhaven.local.runtime.config import load_config
        from pixhaven.local.runtime.env import build_local_env

        env = await build_local_env(
            load_config(folder / "wrangler.toml"), folder / "state", {"ADMIN_TOKEN": ADMIN_TOKEN}
        )
        try:
            await seed(env)
        finally:
            await env.close()

    asyncio.run(run())


def bench_api_rates() -> list[Figure]:
    return encoding_figures() + request_figures()


if __name__ == "__main__":
    if sys.argv[1:] == ["--request-times"]:  # one side of the in-process comparison
        import pixhaven

        times = asyncio.run(_request_times())
        print(json.dumps({"code": pixhaven.__file__, "times": times}))
        sys.exit(0)
    from figures import print_table

    print_table(bench_api_rates())
