"""Local stand-in for a Cloudflare Queue (`env.JOBS`): producer and push consumer in-process.

Producer, as the Workers Python SDK exposes it (keyword arguments become the options object):

    await queue.send(body, delaySeconds=0, contentType="json")
    await queue.sendBatch([{"body": ..., "delaySeconds": ..., "contentType": ...}], delaySeconds=0)

Consumer: `LocalQueue(consumer=fn)` or `queue.set_consumer(fn)`, where `fn(batch)` (usually
async) is the Worker's `queue` handler. It gets a MessageBatch (`queue`, `messages`,
`ackAll()`, `retryAll(delaySeconds=)`) of Messages (`id`, `timestamp` as a naive UTC datetime,
`body`, `attempts` starting at 1, `ack()`, `retry(delaySeconds=)`).

Semantics follow developers.cloudflare.com/queues (javascript-apis, batching-retries,
dead-letter-queues):
- A batch goes out when `max_batch_size` messages are ready or the oldest ready message has
  waited `max_batch_timeout` seconds. One batch is in flight at a time (no concurrency).
- The first ack()/retry() on a message wins; a message-level call beats ackAll()/retryAll().
  A handler that returns acknowledges the rest; one that raises retries the rest.
- Retries are delayed by the call's delaySeconds, else by the consumer's `retry_delay`
  (Cloudflare's default is 0: no automatic backoff — back off with
  `msg.retry(delaySeconds=f(msg.attempts))`, as Cloudflare's docs recommend).
- A message is delivered at most `max_retries + 1` times; a retry past that moves it to
  `dead_letters` (Cloudflare deletes it, or writes it to the configured dead-letter queue).
- Bodies are structured-cloned on send and again on every delivery, so neither the producer
  nor an earlier failed attempt can change what a later attempt sees. Limits are Cloudflare's:
  128 KB per message, 100 messages and 256 KB per sendBatch, delays up to 12 hours.

Time: `clock` (seconds) schedules delays and batch timeouts; `sleep` is how the background
task waits. Passing a fake pair (sleep advances the fake clock) gives virtual time: delays
elapse instantly and in order. Everything is in memory: pending messages die with the process.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("pixhaven.queue")

MAX_MESSAGE_BYTES = 128 * 1024
MAX_BATCH_MESSAGES = 100
MAX_BATCH_BYTES = 256 * 1024
MAX_DELAY_SECONDS = 12 * 60 * 60
CONTENT_TYPES = ("json", "text", "bytes", "v8")


@dataclass
class _Envelope:
    id: str
    timestamp: datetime
    content_type: str
    stored: Any  # the cloned body; cloned again for every delivery
    ready_at: float
    attempts: int = 0  # deliveries so far


@dataclass
class DeadLetter:
    """A message that ran out of retries, with the reason of its last failure."""

    id: str
    timestamp: datetime
    body: Any
    attempts: int
    error: str | None = None


class Message:
    def __init__(self, envelope: _Envelope):
        self.id = envelope.id
        self.timestamp = envelope.timestamp
        self.body = _clone(envelope.stored, envelope.content_type)
        self.attempts = envelope.attempts
        self._envelope = envelope
        self._outcome: tuple[str, int | None] | None = None

    def ack(self) -> None:
        if self._outcome is None:
            self._outcome = ("ack", None)

    def retry(self, options: dict | None = None, *, delaySeconds: int | None = None) -> None:
        if delaySeconds is None and options:
            delaySeconds = options.get("delaySeconds")
        if self._outcome is None:
            # An explicit 0 overrides the consumer's retry_delay, as on Cloudflare.
            delay = None if delaySeconds is None else _check_delay(delaySeconds)
            self._outcome = ("retry", delay)


class MessageBatch:
    def __init__(self, queue_name: str, messages: list[Message]):
        self.queue = queue_name
        self.messages = messages

    def ackAll(self) -> None:
        for message in self.messages:
            message.ack()

    def retryAll(self, options: dict | None = None, *, delaySeconds: int | None = None) -> None:
        for message in self.messages:
            message.retry(options, delaySeconds=delaySeconds)


Consumer = Callable[[MessageBatch], Awaitable[None] | None]


class LocalQueue:
    def __init__(
        self,
        consumer: Consumer | None = None,
        *,
        name: str = "local-queue",
        max_batch_size: int = 10,
        max_batch_timeout: float = 5,
        max_retries: int = 3,
        retry_delay: int = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ):
        if not 1 <= max_batch_size <= MAX_BATCH_MESSAGES:
            raise ValueError("max_batch_size must be between 1 and 100")
        if not 0 <= max_batch_timeout <= 60:
            raise ValueError("max_batch_timeout must be between 0 and 60 seconds")
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self.name = name
        self.consumer = consumer
        self.max_batch_size = max_batch_size
        self.max_batch_timeout = max_batch_timeout
        self.max_retries = max_retries
        self.retry_delay = _check_delay(retry_delay)
        self.clock = clock
        self.sleep = sleep
        self.dead_letters: list[DeadLetter] = []
        self._pending: list[_Envelope] = []
        self._in_flight = 0
        self._task: asyncio.Task | None = None
        self._wakeup: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._flush = False  # set by drain(): deliver without waiting for batch timeout
        self._closed = False

    # -- producer ---------------------------------------------------------------------------

    async def send(self, body: Any, options: dict | None = None, **kwargs) -> None:
        options = {**(options or {}), **kwargs}
        self._enqueue([self._envelope(body, options, default_delay=0)], batch_bytes=None)

    async def sendBatch(self, messages, options: dict | None = None, **kwargs) -> None:
        options = {**(options or {}), **kwargs}
        requests = list(messages)
        if len(requests) > MAX_BATCH_MESSAGES:
            raise ValueError(f"sendBatch takes at most {MAX_BATCH_MESSAGES} messages")
        default_delay = options.get("delaySeconds") or 0
        envelopes = []
        for request in requests:
            if not isinstance(request, dict) or "body" not in request:
                raise TypeError('each sendBatch item must be a dict with a "body"')
            # Accept the options both inline (workers-types) and nested (older docs).
            item_options = {
                **(request.get("options") or {}),
                **{k: v for k, v in request.items() if k not in ("body", "options")},
            }
            envelopes.append(self._envelope(request["body"], item_options, default_delay))
        self._enqueue(envelopes, batch_bytes=MAX_BATCH_BYTES)

    # -- consumer side ----------------------------------------------------------------------

    def set_consumer(self, consumer: Consumer) -> None:
        self.consumer = consumer
        if self._pending and _loop_is_running():
            self._ensure_running()  # otherwise the next send() or drain() starts delivery

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    async def drain(self) -> None:
        """Deliver everything, delayed messages included, and wait until nothing is pending
        or in flight. Batch timeouts are skipped; delays are waited out with `sleep`."""
        if not self._pending and not self._in_flight:
            return
        if self.consumer is None or self._closed:
            raise RuntimeError(f"queue {self.name!r} has messages but no running consumer")
        self._flush = True
        try:
            while self._pending or self._in_flight:
                if self._closed:
                    raise RuntimeError(f"queue {self.name!r} was closed while draining")
                self._ensure_running()
                # _ensure_running made them (the queue is not closed)
                assert self._task is not None and self._wakeup is not None
                assert self._idle is not None
                self._idle.clear()
                self._wakeup.set()
                idle = asyncio.ensure_future(self._idle.wait())
                await asyncio.wait({idle, self._task}, return_when=asyncio.FIRST_COMPLETED)
                idle.cancel()
                if self._task.done() and (failure := self._task.exception()) is not None:
                    raise failure  # a bug in the delivery loop, not the consumer
        finally:
            self._flush = False

    async def close(self) -> None:
        """Stop the background task after the batch in flight; pending messages are kept in
        memory but no longer delivered."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            assert self._wakeup is not None  # made with the task
            self._wakeup.set()
            await task

    # -- internals ------------------------------------------------------------------------

    def _envelope(self, body: Any, options: dict, default_delay: int) -> _Envelope:
        content_type = options.get("contentType") or "json"
        if content_type not in CONTENT_TYPES:
            raise ValueError(f"unknown contentType {content_type!r}; use one of {CONTENT_TYPES}")
        delay = options.get("delaySeconds")
        delay = _check_delay(default_delay if delay is None else delay)
        stored, size = _clone_with_size(body, content_type)
        if size > MAX_MESSAGE_BYTES:
            raise ValueError(f"message body is {size} bytes; the limit is {MAX_MESSAGE_BYTES}")
        return _Envelope(
            id=uuid.uuid4().hex,
            timestamp=_utc_now(),
            content_type=content_type,
            stored=stored,
            ready_at=self.clock() + delay,
        )

    def _enqueue(self, envelopes: list[_Envelope], batch_bytes: int | None) -> None:
        if self._closed:
            raise RuntimeError(f"queue {self.name!r} is closed")
        if batch_bytes is not None:
            total = sum(_clone_with_size(e.stored, e.content_type)[1] for e in envelopes)
            if total > batch_bytes:
                raise ValueError(f"sendBatch payload is {total} bytes; the limit is {batch_bytes}")
        self._pending.extend(envelopes)
        if self.consumer is not None:
            self._ensure_running()

    def _ensure_running(self) -> None:
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            # A new event loop (a new test, a restarted server) needs its own task and events.
            self._wakeup, self._idle = asyncio.Event(), asyncio.Event()
            self._task = loop.create_task(self._run(), name=f"queue:{self.name}")
        assert self._wakeup is not None  # made with the task
        self._wakeup.set()

    async def _run(self) -> None:
        # _ensure_running makes them before it starts this task
        assert self._wakeup is not None and self._idle is not None
        while not self._closed:
            now = self.clock()
            ready = sorted(
                (e for e in self._pending if e.ready_at <= now), key=lambda e: e.ready_at
            )
            oldest_wait = now - ready[0].ready_at if ready else 0
            if ready and (
                self._flush
                or len(ready) >= self.max_batch_size
                or oldest_wait >= self.max_batch_timeout
            ):
                await self._deliver(ready[: self.max_batch_size])
                continue
            if not self._pending:
                self._idle.set()
            self._wakeup.clear()
            due = [e.ready_at for e in self._pending if e.ready_at > now]
            if ready:
                due.append(ready[0].ready_at + self.max_batch_timeout)
            if not due:
                await self._wakeup.wait()
            else:
                await self._wait(min(due) - now)

    async def _wait(self, seconds: float) -> None:
        """Sleep until `seconds` pass or someone sets the wakeup event, whichever is first."""
        assert self._wakeup is not None  # made with the task that waits here
        sleeper = asyncio.ensure_future(self.sleep(max(seconds, 0)))
        waker = asyncio.ensure_future(self._wakeup.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    async def _deliver(self, envelopes: list[_Envelope]) -> None:
        for envelope in envelopes:
            self._pending.remove(envelope)
            envelope.attempts += 1
        self._in_flight += len(envelopes)
        messages = [Message(e) for e in envelopes]
        error = None
        assert self.consumer is not None  # delivery only starts once there is a consumer
        try:
            result = self.consumer(MessageBatch(self.name, messages))
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # the handler failed: whatever it did not settle is retried
            error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "queue %s: consumer raised %s; unsettled messages will be retried",
                self.name,
                error,
                exc_info=True,
            )
        finally:
            self._in_flight -= len(envelopes)
        for message in messages:
            outcome = message._outcome or (("retry", None) if error else ("ack", None))
            if outcome[0] == "retry":
                self._retry(message._envelope, outcome[1], error)

    def _retry(self, envelope: _Envelope, delay: int | None, error: str | None) -> None:
        if envelope.attempts > self.max_retries:
            self.dead_letters.append(
                DeadLetter(
                    id=envelope.id,
                    timestamp=envelope.timestamp,
                    attempts=envelope.attempts,
                    body=_clone(envelope.stored, envelope.content_type),
                    error=error or "retried by the consumer",
                )
            )
            log.error(
                "queue %s: message %s dead-lettered after %d attempts",
                self.name,
                envelope.id,
                envelope.attempts,
            )
            return
        envelope.ready_at = self.clock() + (delay if delay is not None else self.retry_delay)
        self._pending.append(envelope)


def _loop_is_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _utc_now() -> datetime:
    # Naive, as the SDK converts a JS Date (the Worker runs in UTC).
    return datetime.now(UTC).replace(tzinfo=None)


def _check_delay(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DELAY_SECONDS:
        raise ValueError(f"delaySeconds must be an integer from 0 to {MAX_DELAY_SECONDS}")
    return value


def _clone_with_size(body: Any, content_type: str) -> tuple[Any, int]:
    """Structured-clone a body for its content type; return the copy and its encoded size."""
    if content_type == "text":
        if not isinstance(body, str):
            raise TypeError('contentType "text" needs a str body')
        return body, len(body.encode())
    if content_type == "bytes":
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError('contentType "bytes" needs a bytes body')
        return bytes(body), len(body)
    if content_type == "json":
        try:
            encoded = json.dumps(body, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"message body is not JSON-serializable: {exc}") from None
        return json.loads(encoded), len(encoded.encode())
    copy = _v8_clone(body)
    return copy, _approximate_size(copy)


def _v8_clone(value: Any) -> Any:
    """The part of the structured clone algorithm that has a Python counterpart."""
    if value is None or isinstance(value, (bool, int, float, str, datetime)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return [_v8_clone(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _v8_clone(item) for key, item in value.items()}
    raise TypeError(f"{type(value).__name__} cannot be structured-cloned")


def _approximate_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, list):
        return sum(_approximate_size(item) for item in value) + 2
    if isinstance(value, dict):
        return sum(len(k.encode()) + _approximate_size(v) for k, v in value.items()) + 2
    return 8


def _clone(stored: Any, content_type: str) -> Any:
    if content_type in ("text", "bytes"):
        return stored  # immutable already
    return _v8_clone(stored)
