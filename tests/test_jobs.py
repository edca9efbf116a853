"""Durable jobs: rows in D1, woken by the queue, retried with backoff, re-dispatched by cron.

The handlers here are real job handlers registered for test-only kinds; the queue, D1 and
the consumer are the local runtime's, exactly as `pixhaven dev` wires them.
"""

from datetime import timedelta

import pytest

from pixhaven.services.jobs import queue as jobs
from pixhaven.services.jobs import registry
from pixhaven.timeutil import iso, parse_iso, utcnow
from pixhaven.worker import run_scheduled

calls: list[dict] = []


@registry.job_handler("test.record")
async def record(env, payload):
    calls.append(payload)


@registry.job_handler("test.fail_until")
async def fail_until(env, payload):
    calls.append(payload)
    failures = sum(1 for c in calls if c == payload)
    if failures <= payload["failures"]:
        raise RuntimeError(f"attempt {failures} fails")


@pytest.fixture(autouse=True)
def fresh_calls():
    calls.clear()


async def status_of(env, job_id):
    return await env.DB.prepare("SELECT * FROM jobs WHERE id = ?").bind(job_id).first()


async def test_enqueued_job_runs_through_the_queue(env):
    job_id = await jobs.enqueue(env, "test.record", {"n": 1})
    await env.JOBS.drain()
    assert calls == [{"n": 1}]
    row = await status_of(env, job_id)
    assert row["status"] == "done" and row["attempts"] == 1


async def test_a_job_runs_once_even_if_woken_twice(env):
    job_id = await jobs.enqueue(env, "test.record", {"n": 2})
    await env.JOBS.send({"job_id": job_id})
    await env.JOBS.drain()
    assert calls == [{"n": 2}]


async def test_failure_is_recorded_and_retried_with_backoff(env):
    job_id = await jobs.enqueue(env, "test.fail_until", {"failures": 1})
    await env.JOBS.drain()
    row = await status_of(env, job_id)
    assert row["status"] == "queued" and row["attempts"] == 1
    assert "attempt 1 fails" in row["last_error"]
    assert parse_iso(row["run_after"]) > utcnow() + timedelta(seconds=20)

    # Not due yet: cron leaves it alone.
    assert (await run_scheduled(env))["jobs_dispatched"] == 0
    # Once due, cron wakes it and it succeeds.
    await (
        env.DB.prepare("UPDATE jobs SET run_after = ? WHERE id = ?")
        .bind(iso(utcnow() - timedelta(seconds=1)), job_id)
        .run()
    )
    assert (await run_scheduled(env))["jobs_dispatched"] == 1
    await env.JOBS.drain()
    row = await status_of(env, job_id)
    assert row["status"] == "done" and row["attempts"] == 2 and row["last_error"] is None


async def test_job_fails_for_good_after_max_attempts(env):
    job_id = await jobs.enqueue(env, "test.fail_until", {"failures": 99}, max_attempts=2)
    for _ in range(2):
        await (
            env.DB.prepare("UPDATE jobs SET run_after = ? WHERE id = ?")
            .bind(iso(utcnow() - timedelta(seconds=1)), job_id)
            .run()
        )
        await run_scheduled(env)
        await env.JOBS.drain()
    row = await status_of(env, job_id)
    assert row["status"] == "failed" and row["attempts"] == 2


async def test_cron_rescues_a_job_whose_worker_died(env):
    job_id = await jobs.enqueue(env, "test.record", {"n": 3})
    # Simulate a consumer that claimed the job and crashed before finishing.
    stale = iso(utcnow() - jobs.STALE_AFTER - timedelta(minutes=1))
    await (
        env.DB.prepare("UPDATE jobs SET status = 'running', updated_at = ? WHERE id = ?")
        .bind(stale, job_id)
        .run()
    )
    await env.JOBS.drain()  # the original message finds the job running: skipped
    assert calls == []
    assert (await run_scheduled(env))["jobs_dispatched"] == 1
    await env.JOBS.drain()
    assert calls == [{"n": 3}]
    assert (await status_of(env, job_id))["status"] == "done"


async def test_unknown_kind_cannot_be_enqueued(env):
    with pytest.raises(ValueError):
        await jobs.enqueue(env, "test.nobody", {})
    assert (await env.DB.prepare("SELECT COUNT(*) AS n FROM jobs").first("n")) == 0
