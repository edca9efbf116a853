"""Benchmark: `/api/random` and list-page latency at 1 000 and at 100 000 images, through
the HTTP app with the local bindings. SPEC §5 target: flat — the 100k figure within 1.5x of
the 1k figure (no ORDER BY RANDOM() over the table, no large OFFSET scans).

Rows are inserted straight through the D1 binding (the upload pipeline is benchmarked on
its own); every image has two of eight tags and either orientation.
"""

import asyncio
import statistics
import sys
import time
import uuid

from local_env import ADMIN_TOKEN, local_env

TARGET_RATIO = 1.5
SIZES = (1_000, 100_000)


async def _fill(env, count: int) -> None:
    from pixhaven.db.images import INSERT_COLUMNS, insert_statement

    db = env.DB
    statements = []
    for n in range(count):
        image_id = str(uuid.UUID(int=n + 1))
        stamp = f"2026-01-01T00:{n // 60000 % 60:02d}:{n // 1000 % 60:02d}.{n % 1000:03d}Z"
        row = {column: None for column in INSERT_COLUMNS}
        row.update(
            id=image_id,
            short_id=f"s{n:09d}",
            owner="default_user",
            filename=f"{n}.jpg",
            original_name=f"{n}.jpg",
            content_type="image/jpeg",
            format="jpg",
            width=800 if n % 3 else 600,
            height=600 if n % 3 else 800,
            orientation="landscape" if n % 3 else "portrait",
            animated=0,
            size=1000,
            webp_size=800,
            avif_size=700,
            content_hash=f"h{n}",
            is_private=0,
            source="upload",
            status="ready",
            rand=(n * 2654435761) % 2147483648,
            created_at=stamp,
            updated_at=stamp,
        )
        statements.append(insert_statement(db, row))
        for tag in (f"t{n % 8}", f"t{(n // 8) % 8}"):
            statements.append(
                db.prepare(
                    "INSERT OR IGNORE INTO image_tags (image_id, owner, tag) VALUES (?, ?, ?)"
                ).bind(image_id, "default_user", tag)
            )
        if len(statements) >= 3000:
            await db.batch(statements)
            statements = []
    if statements:
        await db.batch(statements)
    await db.batch(
        [
            db.prepare(
                "INSERT OR IGNORE INTO tags (owner, name, created_at)"
                " VALUES ('default_user', ?, '2026-01-01T00:00:00.000Z')"
            ).bind(f"t{i}")
            for i in range(8)
        ]
    )


async def _measure(count: int, requests: int = 200) -> dict[str, float]:
    import httpx

    async with local_env() as env:
        from pixhaven.app import create_app
        from pixhaven.local.runtime.server import with_env

        await _fill(env, count)
        transport = httpx.ASGITransport(app=with_env(create_app(), env), client=("127.0.0.1", 1))
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        cases = {
            "random": ("/api/random", {}),
            "random tags=t3": ("/api/random?tags=t3&orientation=landscape", {}),
            "list page 1": ("/api/images?page=1&limit=12", admin),
            "list tag=t5 page 1": ("/api/images?tag=t5&limit=12", admin),
            "v1 list first page": ("/v1/images?limit=50", admin),
        }
        results = {}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for name, (path, headers) in cases.items():
                for _ in range(5):  # warm-up
                    await http.get(path, headers=headers)
                samples = []
                for _ in range(requests):
                    started = time.perf_counter()
                    response = await http.get(path, headers=headers)
                    samples.append((time.perf_counter() - started) * 1000)
                    assert response.status_code in (200, 302), (path, response.text)
                results[name] = statistics.median(samples)
    return results


def bench_latency() -> list[dict]:
    small, large = (asyncio.run(_measure(size)) for size in SIZES)
    results = []
    for name in small:
        print(
            f"{name}: {small[name]:.2f} ms at {SIZES[0]:,} images, {large[name]:.2f} ms at "
            f"{SIZES[1]:,} -> ratio {large[name] / small[name]:.2f} (target <= {TARGET_RATIO})"
        )
        results.append(
            {
                "name": f"{name} latency at {SIZES[1]:,} images (1k: "
                f"{small[name]:.2f} ms; target = it x {TARGET_RATIO})",
                "median_ms": large[name],
                "min_ms": large[name],
                "target_ms": small[name] * TARGET_RATIO,
            }
        )
    return results


if __name__ == "__main__":
    results = bench_latency()
    sys.exit(0 if all(r["median_ms"] <= r["target_ms"] for r in results) else 1)
