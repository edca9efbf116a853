"""What the Worker entry's handlers do, kept here so it is tested like everything else.

`src/entry.py` only adapts Cloudflare's calling conventions to these functions; the local
server calls the same functions from its cron loop and in-process queue.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from pixhaven.services.images.direct_uploads import purge_unfinished
from pixhaven.services.images.updates import purge_due
from pixhaven.services.jobs import kinds  # noqa: F401  (registers every job kind and handler)
from pixhaven.services.jobs.queue import dispatch_due_jobs, handle_queue_batch
from pixhaven.settings import Settings

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.bindings.queue import MessageBatch

log = logging.getLogger("pixhaven")


async def run_scheduled(env: Env, cron: str = "") -> dict:
    """Housekeeping on the cron trigger: purge expired and long-deleted images, remove
    interrupted writes, wake jobs that are due again or were abandoned, drop old
    idempotency keys and ended rate-limit windows, queue the refreshes of bindings whose ttl
    or schedule has come (services/bindings/refresh.py), and sweep a bounded part of the bucket
    for objects no row owns (last, so that a failing listing cannot hold up the rest)."""
    from pixhaven.services.bindings.refresh import sweep as sweep_bindings
    from pixhaven.services.images.reconcile import finish_interrupted_writes, sweep_orphans
    from pixhaven.services.rate_limits import purge_expired
    from pixhaven.services.rendering.idempotency import purge_idempotency_keys

    settings = Settings.from_env(env)
    grace = timedelta(seconds=settings.orphan_grace_seconds)
    purged = await purge_due(env, settings.soft_delete_retention_days)
    unfinished = await purge_unfinished(env, settings)
    interrupted = await finish_interrupted_writes(env, grace)
    dispatched = await dispatch_due_jobs(env)
    idempotency_keys = await purge_idempotency_keys(env)
    rate_windows = await purge_expired(env)
    bindings_queued = await sweep_bindings(env)
    orphans = await sweep_orphans(env, grace)
    summary = {
        "event": "scheduled",
        "cron": cron,
        "images_purged": purged,
        "unfinished_uploads_purged": unfinished,
        "interrupted_writes_removed": interrupted,
        "jobs_dispatched": dispatched,
        "idempotency_keys_purged": idempotency_keys,
        "rate_windows_purged": rate_windows,
        "binding_refreshes_queued": bindings_queued,
        "orphaned_objects_deleted": orphans,
    }
    log.info(json.dumps(summary))
    return summary


async def run_queue(env: Env, batch: MessageBatch) -> None:
    await handle_queue_batch(env, batch)
