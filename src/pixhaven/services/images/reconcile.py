"""The cron's side of crash-safe writes: interrupted writes are removed, and objects that no
image row owns are swept away.

An image's objects are put before its row exists (services/images/store.py, write_image),
so a process that dies in between — `kill -9`, an isolate evicted, D1 unreachable — leaves
objects nothing points at. Two steps of `worker.run_scheduled` take care of them, both
waiting `ORPHAN_GRACE_SECONDS` (default one hour: far longer than any write takes) so that
a write still in progress is never touched:

1. `finish_interrupted_writes`: a `pending_writes` entry older than the grace period is a
   write that never committed (committing ends the entry in the same D1 batch). Each is
   first marked abandoned — from then on the write can no longer commit
   (db/pending_writes.commit_statements) — then its objects are deleted, except keys that a
   committed row or another entry of the same image still claims (two attempts at one
   two-step upload put the same keys; images sharing the objects of an identical upload
   refer to its keys), then the entry. A crash in between leaves the entry, and the next
   run repeats the step.
2. `sweep_orphans`: lists `images/`, `uploads/` and `variants/` in key order and deletes
   objects older than the grace period that no row refers to (`images/{o}/{id}.{ext}`: no
   row stores its bytes under `id`, its own or one it shares; `variants/{id}/`: no row
   `id`; `uploads/{id}`: no row still waiting for its bytes) and no journal entry names.
   This catches what the journal cannot know about: objects of writes made before the
   journal existed, variants cached while their image was being purged, objects whose last
   referring row was purged by a process that died before deleting them, an incoming
   upload whose row is gone. Keys of any other shape are left alone, and so are `renders/`
   (stored renders have no row by design: their URL is their only handle) and `fonts/`.

The sweep's work per run is bounded (`SWEEP_PAGES` listings of `SWEEP_PAGE_SIZE` keys).
Where it stopped is kept in D1 (`cron_state`, as the last key examined) and the next run
resumes after it (`startAfter`), starting over once a pass reaches the end; within a run,
pages follow R2's `cursor`. A key is kept rather than the cursor because R2 cursors are
opaque and not promised to stay valid between runs. Options are passed only when they have
a value: workerd rejects `cursor=None` (JS null).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pixhaven.db import cron_state
from pixhaven.db import images as table
from pixhaven.db import pending_writes as journal
from pixhaven.services.images.keys import stored_keys
from pixhaven.timeutil import iso, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.bindings.r2 import R2Object

log = logging.getLogger("pixhaven.images")

UNFINISHED = ("pending", "uploading")
SWEEP_STATE = "orphan_sweep"
SWEEP_PAGE_SIZE = 1000  # R2's largest listing page, and the most keys one delete takes
SWEEP_PAGES = 10
INTERRUPTED_PER_RUN = 200

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Swept prefixes, in key order, with the shape of the keys the app writes under each.
SWEPT = (
    ("images/", re.compile(rf"images/(?:landscape|portrait)/(?P<id>{_UUID})\.[a-z0-9]+")),
    ("uploads/", re.compile(rf"uploads/(?P<id>{_UUID})")),
    ("variants/", re.compile(rf"variants/(?P<id>{_UUID})/[^/]+")),
)


async def finish_interrupted_writes(
    env: Env, grace: timedelta, limit: int = INTERRUPTED_PER_RUN
) -> int:
    """Remove the objects of writes whose journal entry outlived `grace`, then the entry.
    Returns how many writes were removed."""
    db = env.DB
    removed = 0
    for entry in await journal.stale(db, iso(utcnow() - grace), limit):
        try:
            await journal.abandon(db, entry["id"], iso(utcnow()))
            claimed = await journal.keys_of_other_writes(db, entry["image_id"], entry["id"])
            # A write stores under its image's own id: rows referring to that id (the image
            # itself once completed, and any sharing its objects) claim their keys.
            for row in await table.referring(db, entry["image_id"]):
                if row["status"] not in UNFINISHED:
                    claimed |= set(stored_keys(row).values())
            keys = [key for key in entry["keys"] if key not in claimed]
            if keys:
                await env.BUCKET.delete(keys)
            await journal.delete(db, entry["id"])
        except Exception as exc:
            # Left abandoned: the next run tries again.
            log.warning(
                json.dumps(
                    {"event": "interrupted_write_left", "write_id": entry["id"], "error": str(exc)}
                )
            )
            continue
        removed += 1
        log.info(
            json.dumps(
                {
                    "event": "interrupted_write_removed",
                    "write_id": entry["id"],
                    "image_id": entry["image_id"],
                    "objects": len(keys),
                }
            )
        )
    return removed


async def sweep_orphans(
    env: Env, grace: timedelta, *, page_size: int = SWEEP_PAGE_SIZE, pages: int = SWEEP_PAGES
) -> int:
    """Delete up to `pages` listings' worth of unowned objects older than `grace`, resuming
    where the previous run stopped. Returns how many objects were deleted."""
    db = env.DB
    position = await cron_state.get(db, SWEEP_STATE) or ""
    cutoff = _naive_utc(utcnow() - grace)
    deleted = 0
    listed = 0
    for prefix, shape in SWEPT:
        if position > prefix and not position.startswith(prefix):
            continue  # this prefix was swept earlier in the pass
        options: dict[str, Any] = {"prefix": prefix, "limit": page_size}
        if position.startswith(prefix):
            options["startAfter"] = position
        while True:
            if listed == pages:
                await cron_state.put(db, SWEEP_STATE, position, iso(utcnow()))
                return deleted
            listing = await env.BUCKET.list(**options)
            listed += 1
            objects = list(listing["objects"])
            deleted += await _delete_unowned(env, objects, shape, cutoff)
            if objects:
                position = objects[-1].key
            if not listing["truncated"]:
                break
            # Only options with a value: workerd refuses a null cursor.
            options = {"prefix": prefix, "limit": page_size}
            cursor = listing.get("cursor")
            if cursor:
                options["cursor"] = cursor
            else:
                options["startAfter"] = position
    await cron_state.put(db, SWEEP_STATE, "", iso(utcnow()))  # the pass is complete
    return deleted


async def _delete_unowned(
    env: Env, objects: list[R2Object], shape: re.Pattern[str], cutoff: datetime
) -> int:
    candidates: dict[str, str] = {}  # key → image id (for images/: a storage id)
    for obj in objects:
        match = shape.fullmatch(obj.key)
        if match is not None and _naive_utc(obj.uploaded) <= cutoff:
            candidates[obj.key] = match["id"]
    if not candidates:
        return 0
    ids_json = json.dumps(sorted(set(candidates.values())))
    statuses = await table.statuses_among(env.DB, ids_json)
    stored = await table.storage_ids_among(env.DB, ids_json)
    journaled = await journal.image_ids_among(env.DB, ids_json)
    orphans = [
        key
        for key, image_id in candidates.items()
        # A journaled image is an interrupted write: finish_interrupted_writes decides.
        if image_id not in journaled and not _owned(key, statuses.get(image_id), image_id in stored)
    ]
    if orphans:
        await env.BUCKET.delete(orphans)
        log.info(
            json.dumps({"event": "orphans_deleted", "count": len(orphans), "keys": orphans[:20]})
        )
    return len(orphans)


def _owned(key: str, status: str | None, stored: bool) -> bool:
    """Whether the object `key` of image `id` is owned: `status` is the row `id`'s (None: no
    row), `stored` whether any row stores its bytes under `id`. A version (`images/`) is
    owned while some row refers to it — the image's own, or one sharing its objects;
    incoming bytes (`uploads/{id}`) belong to a row still waiting for them only; variants
    to their image's row."""
    if key.startswith("images/"):
        return stored
    if key.startswith("uploads/"):
        return status in UNFINISHED
    return status is not None


def _naive_utc(moment: datetime) -> datetime:
    """R2 gives `uploaded` as a naive UTC datetime; compare everything that way."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
