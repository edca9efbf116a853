"""Durable jobs: a row in D1 is the truth, a queue message is only a wake-up call.

`enqueue` writes the row and sends `{"job_id": ...}` to `env.JOBS`. The queue consumer
(`handle_queue_batch`) claims the row, runs the handler registered for its kind and marks it
done; a failure is recorded and retried with exponential backoff until `max_attempts`. The
cron handler (`dispatch_due_jobs`) re-sends messages for jobs whose retry time has come or
whose consumer died mid-run, so a lost message or a crash loses no work.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from pixhaven.db import jobs as table
from pixhaven.services.jobs.registry import HANDLERS, MESSAGE_HANDLERS
from pixhaven.timeutil import iso, iso_in, utcnow

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.bindings.queue import MessageBatch

log = logging.getLogger("pixhaven.jobs")
BACKOFF_BASE = timedelta(seconds=30)
STALE_AFTER = timedelta(minutes=15)


def new_job_id() -> str:
    return "job_" + secrets.token_hex(12)


def backoff(attempts: int) -> timedelta:
    return BACKOFF_BASE * (2 ** max(0, attempts - 1))


async def enqueue(
    env: Env, kind: str, payload: dict, *, owner: str | None = None, max_attempts: int = 5
) -> str:
    if kind not in HANDLERS:
        raise ValueError(f"no handler registered for job kind {kind!r}")
    job_id = new_job_id()
    await table.insert_statement(
        env.DB,
        job_id=job_id,
        kind=kind,
        payload=payload,
        owner=owner,
        max_attempts=max_attempts,
        run_after=iso(utcnow()),
    ).run()
    await env.JOBS.send({"job_id": job_id})
    return job_id


async def run_job(env: Env, job_id: str) -> str:
    """Run one job by id. Returns its resulting status ('done', 'queued', 'failed', or
    'skipped' when it was not claimable)."""
    if not await table.claim(env.DB, job_id):
        return "skipped"
    job = await table.get(env.DB, job_id)
    assert job is not None  # claimed just now
    handler = HANDLERS.get(job["kind"])
    try:
        if handler is None:
            raise LookupError(f"no handler registered for job kind {job['kind']!r}")
        await handler(env, job["payload"])
    except Exception as exc:
        attempts = int(job["attempts"])
        retry_at = iso_in(backoff(attempts)) if attempts < int(job["max_attempts"]) else None
        await table.fail(env.DB, job_id, f"{type(exc).__name__}: {exc}", retry_at=retry_at)
        log.warning(
            json.dumps(
                {
                    "event": "job_failed",
                    "job_id": job_id,
                    "kind": job["kind"],
                    "attempts": attempts,
                    "error": str(exc),
                    "retry_at": retry_at,
                }
            )
        )
        return "queued" if retry_at else "failed"
    await table.finish(env.DB, job_id)
    return "done"


async def handle_queue_batch(env: Env, batch: MessageBatch) -> None:
    """The Worker's `queue` handler. Each message is acknowledged once its job has been run
    or recorded as failed: retries are scheduled by the job row, not by redelivery."""
    for message in batch.messages:
        body = message.body or {}
        job_id = body.get("job_id") if isinstance(body, dict) else None
        if job_id:
            await run_job(env, job_id)
        else:
            for matches, handle in MESSAGE_HANDLERS:
                if matches(body):
                    await handle(env, body)
                    break
        message.ack()


async def dispatch_due_jobs(env: Env) -> int:
    """Cron: wake up jobs that are due again or were abandoned mid-run."""
    now = utcnow()
    stale_before = iso(now - STALE_AFTER)
    count = 0
    for job in await table.due(env.DB, iso(now), stale_before):
        if job["status"] == "running":
            await table.requeue_stale(env.DB, job["id"], stale_before)
        await env.JOBS.send({"job_id": job["id"]})
        count += 1
    return count
