"""Benchmark: `/api/random` (with and without filters), list pages (first and deep cursor)
and the tag list at 1k, 100k and 1M images, through the HTTP app with the local bindings.
Target: flat — every 1M median within 1.3× of its 1k median (SPEC §5: no ORDER BY RANDOM(),
no scan that grows with the table).

The images are seeded straight into the SQLite file of a local state folder after the
migrations (executemany in one transaction, writing what the triggers would have written):
the upload pipeline is benchmarked on its own, and random answers a redirect, so no object
is needed. Seeded files are kept in the system's
temp folder, keyed by the migrations and this seeding, and reused by later runs.

Each image has two of eight tags and either orientation (a third portrait); 2% are
soft-deleted, 1% private, 20 expired (not purged yet): the queries must skip them. Five
images, the same five at every size, also have the tag `rare` (and `t3`): `tags=t3,rare`
asks for both, the common tag first, as a client may well send them.

Each database file is read through once before measuring (`_warm`), so every size starts
from the OS page cache, as a server's database does once it has run a while. Flatness is
about the work a query does, and a file left on disk for hours here is partly evicted (the
machine reclaims cold pages): the unfiltered random draw, which lands on random pages of
the 1.2 GB file, then measured disk reads and read 1.36× instead of 1.02×.

    .venv/bin/python bench/latency.py [sizes…]
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from figures import Figure
from local_env import ADMIN_TOKEN, ROOT

TARGET_RATIO = 1.3
SIZES = (1_000, 100_000, 1_000_000)
REQUESTS = 200  # per request and size
ROUNDS = 10
SEED_VERSION = "7"  # bump when the seeded data changes
OWNER = "default_user"
TAGS = [*(f"t{i}" for i in range(8)), "rare"]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _image_rows(count: int, rng: random.Random):
    for n in range(count):
        hex_id = f"{rng.getrandbits(128):032x}"
        image_id = f"{hex_id[:8]}-{hex_id[8:12]}-4{hex_id[13:16]}-a{hex_id[17:20]}-{hex_id[20:]}"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1_700_000_000 + n))  # 1 a second
        portrait = n % 3 == 0
        fate = n % 100
        yield (
            image_id,
            f"s{n:09d}",
            OWNER,
            f"{n}.jpg",
            "image/jpeg",
            "jpg",
            600 if portrait else 800,
            800 if portrait else 600,
            "portrait" if portrait else "landscape",
            1 if fate == 1 else 0,  # private
            rng.getrandbits(31),
            f"{stamp}.000Z",
            # expired: the cron purges them every 15 minutes, so a few at any size
            "2000-01-01T00:00:00.000Z" if fate == 2 and n < 2000 else None,
            f"{stamp}.500Z" if fate in (3, 4) else None,  # soft-deleted
        )


RARE = {11, 211, 411, 611, 811}  # ≡ 3 (mod 8): t3 images; public and live (n % 100 = 11)


def _tags_of(n: int) -> set[str]:
    return {f"t{n % 8}", f"t{(n // 8 + 1 + n % 7) % 8}"} | ({"rare"} if n in RARE else set())


def _seed(path: Path, count: int) -> None:
    """Fill a migrated database: images, their tags, the tag rows. The triggers and
    secondary indexes are set aside while the rows go in (row-by-row triggers took four
    fifths of the time): `_insert` writes what the triggers would have, and the indexes
    are built at the end, by sorting. tests/test_random.py checks the triggers."""
    rng = random.Random(count)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")  # 1 GB while seeding: random ids, many indexes
    db.execute("BEGIN")
    # Secondary indexes are built after the rows, by sorting, not entry by entry.
    aside = db.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('trigger', 'index')"
        " AND tbl_name IN ('images', 'image_tags', 'random_tags') AND sql IS NOT NULL"
    ).fetchall()
    for kind, name, _ in aside:
        db.execute(f"DROP {kind.upper()} {name}")
    db.executemany(
        "INSERT INTO tags (owner, name, created_at) VALUES (?, ?, '2023-01-01T00:00:00.000Z')",
        [(OWNER, tag) for tag in TAGS],
    )
    counts: Counter = Counter()
    batch: list[tuple] = []
    for row in _image_rows(count, rng):
        batch.append(row)
        if len(batch) == 10_000:
            _insert(db, batch, counts)
            batch = []
    _insert(db, batch, counts)
    db.executemany(
        "INSERT INTO image_counts (owner, dim, value, n) VALUES (?, ?, ?, ?)",
        [(OWNER, dim, value, n) for (dim, value), n in counts.items()],
    )
    for _, _, sql in aside:
        db.execute(sql)
    db.execute("COMMIT")
    db.execute("ANALYZE")  # as D1 and a long-lived `pixhaven dev` would have
    db.close()


def _insert(db: sqlite3.Connection, rows: list[tuple], counts: Counter) -> None:
    """The rows, their tag links, and what the triggers would have written for them:
    random_tags rows (migration 0016) and the image_counts counters (0006, in `counts`)."""
    db.executemany(
        "INSERT INTO images (id, short_id, owner, filename, original_name, content_type, format,"
        " width, height, orientation, is_private, rand, created_at, updated_at, expires_at,"
        " deleted_at, size, webp_size, avif_size)"
        " VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14,"
        " 1000, 800, 700)",
        rows,
    )
    links, random_tags = [], []
    for (
        image_id,
        short_id,
        _,
        _,
        _,
        fmt,
        _,
        _,
        orientation,
        private,
        rand,
        _,
        expires,
        deleted,
    ) in rows:
        tags = _tags_of(int(short_id[1:]))
        links += [(image_id, OWNER, tag) for tag in tags]
        if deleted is not None:  # every seeded image is 'ready': live = not deleted
            continue
        counts.update([("all", ""), ("orientation", orientation), ("format", fmt)])
        counts.update(("tag", tag) for tag in tags)
        if not private:
            random_tags += [(image_id, tag, orientation, rand, expires) for tag in tags]
    db.executemany("INSERT INTO image_tags (image_id, owner, tag) VALUES (?, ?, ?)", links)
    db.executemany(
        "INSERT INTO random_tags (image_id, tag, orientation, rand, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        random_tags,
    )


async def local_bindings(state: Path):
    """Pixhaven's local bindings on the state folder `state` (migrations applied)."""
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    from pixhaven.local.runtime.config import load_config
    from pixhaven.local.runtime.env import build_local_env

    config = load_config(ROOT / "wrangler.toml")
    return await build_local_env(config, state, {"ADMIN_TOKEN": ADMIN_TOKEN})


def _cache_key() -> str:
    digest = hashlib.sha256(SEED_VERSION.encode())
    for migration in sorted((ROOT / "migrations").glob("*.sql")):
        digest.update(migration.read_bytes())
    return digest.hexdigest()[:12]


async def _seeded_state(count: int) -> Path:
    """A state folder whose d1.sqlite3 holds `count` seeded images (built once, then reused)."""
    cached = Path(tempfile.gettempdir()) / "pixhaven-bench-latency" / f"{count}-{_cache_key()}"
    if (cached / "d1.sqlite3").exists():
        return cached
    building = cached.with_name(cached.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    env = await local_bindings(building)  # applies the migrations
    await env.close()
    started = time.perf_counter()
    _seed(building / "d1.sqlite3", count)
    print(f"seeded {count:,} images in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    building.rename(cached)
    return cached


def _warm(path: Path) -> None:
    """Read `path` once, into the OS page cache (see the module docstring)."""
    with path.open("rb") as file:
        while file.read(1 << 24):
            pass


def _deep_cursor(state: Path) -> str:
    """/v1/images' cursor for the page 100 images before the end (the oldest)."""
    from pixhaven.services.images.pixelflare_resource import encode_cursor

    db = sqlite3.connect(state / "d1.sqlite3")
    created_at, image_id = db.execute(
        "SELECT created_at, id FROM images WHERE deleted_at IS NULL AND status = 'ready'"
        " ORDER BY created_at, id LIMIT 1 OFFSET 100"
    ).fetchone()
    db.close()
    return encode_cursor({"created_at": created_at, "id": image_id})


def cases(state: Path) -> dict[str, str]:
    random_filtered = "/api/random?tags=t3&orientation=landscape"
    deep = f"/v1/images?limit=50&cursor={_deep_cursor(state)}"
    return {
        "GET /api/random": "/api/random",
        "GET /api/random?tags&orientation": random_filtered,
        "GET /api/random?tags&orientation&exclude": random_filtered + "&exclude=t5",
        "GET /api/random?tags=common,rare": "/api/random?tags=t3,rare",
        "GET /api/images?limit=24 (first page)": "/api/images?page=1&limit=24",
        "GET /api/images?tag&limit=24": "/api/images?tag=t5&limit=24",
        "GET /v1/images?limit=50 (first page)": "/v1/images?limit=50",
        "GET /v1/images?limit=50&cursor (deep)": deep,
        "GET /v1/images?tag&limit=50": "/v1/images?tag=t5&limit=50",
        "GET /api/tags (with counts)": "/api/tags",
    }


async def _measure(sizes: tuple[int, ...]) -> dict[int, dict[str, float]]:
    """Median per size and request. The sizes are measured in turns, ROUNDS times a
    slice of each, so a change of load on the machine weighs on every size alike."""
    import httpx

    states = {size: await _seeded_state(size) for size in sizes}
    for state in states.values():
        _warm(state / "d1.sqlite3")
    envs = {size: await local_bindings(state) for size, state in states.items()}
    from pixhaven.app import create_app  # from ROOT/src, once local_bindings put it first
    from pixhaven.local.runtime.server import with_env

    clients = {
        size: httpx.AsyncClient(
            transport=httpx.ASGITransport(app=with_env(create_app(), env), client=("127.0.0.1", 1)),
            base_url="http://bench",
        )
        for size, env in envs.items()
    }
    paths = {size: cases(state) for size, state in states.items()}
    medians: dict[int, dict[str, float]] = {size: {} for size in sizes}
    try:
        for name in paths[sizes[0]]:
            samples: dict[int, list[float]] = {size: [] for size in sizes}
            for round_ in range(ROUNDS + 1):  # the first round warms up
                for size in sizes:
                    for _ in range(REQUESTS // ROUNDS):
                        started = time.perf_counter()
                        response = await clients[size].get(paths[size][name], headers=ADMIN)
                        elapsed = (time.perf_counter() - started) * 1000
                        assert response.status_code in (200, 302), (name, response.text)
                        if round_:
                            samples[size].append(elapsed)
            for size in sizes:
                medians[size][name] = statistics.median(samples[size])
    finally:
        for size in sizes:
            await clients[size].aclose()
            await envs[size].close()
    return medians


def bench_latency(sizes: tuple[int, ...] = SIZES) -> list[Figure]:
    """One figure per request: the median at the largest size, beside the smallest's."""
    medians = asyncio.run(_measure(sizes))
    small, middle, large = sizes[0], sizes[len(sizes) // 2], sizes[-1]
    return [
        Figure(
            name=f"{name} at {large:,} images",
            value=medians[large][name],
            unit="ms",
            reference_name=f"{small:,} images",
            reference_value=medians[small][name],
            target=TARGET_RATIO,
            note=f"{middle:,}: {medians[middle][name]:.2f} ms",
        )
        for name in medians[small]
    ]


if __name__ == "__main__":
    from figures import print_table

    chosen = tuple(int(arg) for arg in sys.argv[1:]) or SIZES
    figures = bench_latency(chosen)
    print_table(figures)
    sys.exit(0 if all(f.met for f in figures) else 1)
