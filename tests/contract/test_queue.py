"""Contract tests for the Queue binding (`env.JOBS`) and its consumer, run against the local
emulation. Most tests use virtual time: a fake clock plus a sleep that advances it, so
delays, batch timeouts and backoff elapse instantly and can be checked exactly."""

import asyncio
import copy
from datetime import datetime, timedelta, timezone

import pytest

from pixhaven.local.bindings.queue import LocalQueue


class VirtualTime:
    def __init__(self):
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


class Recorder:
    """A consumer that records every delivery and then runs `behaviour(batch)`."""

    def __init__(self, time: VirtualTime, behaviour=None):
        self.time = time
        self.behaviour = behaviour
        self.batches = []  # (virtual time, [(body, attempts, id)])

    async def __call__(self, batch):
        # Record a copy: the behaviour may mutate the bodies it was handed.
        self.batches.append(
            (self.time.now, [(copy.deepcopy(m.body), m.attempts, m.id) for m in batch.messages])
        )
        if self.behaviour is not None:
            await self.behaviour(batch)

    def deliveries(self):
        return [(at, body, attempts) for at, items in self.batches for body, attempts, _ in items]


@pytest.fixture
def vtime():
    return VirtualTime()


@pytest.fixture
async def make_queue(vtime):
    """Queues on virtual time, named "jobs", closed at the end of the test."""
    created = []

    def make(consumer=None, **settings):
        queue = LocalQueue(consumer, name="jobs", clock=vtime.clock, sleep=vtime.sleep, **settings)
        created.append(queue)
        return queue

    yield make
    for queue in created:
        await queue.close()


async def test_send_delivers_a_message_with_its_metadata(make_queue, vtime):
    seen = []

    async def consumer(batch):
        seen.append(batch)

    queue = make_queue(consumer)
    await queue.send({"job": "render", "id": 7})
    await queue.drain()
    [batch] = seen
    assert batch.queue == "jobs"
    [message] = batch.messages
    assert message.body == {"job": "render", "id": 7}
    assert message.attempts == 1
    assert isinstance(message.id, str) and len(message.id) >= 16
    assert isinstance(message.timestamp, datetime)


async def test_timestamp_is_naive_utc(make_queue):
    seen = []
    queue = make_queue(lambda batch: seen.extend(batch.messages))  # a plain function works too
    sent_at = datetime.now(timezone.utc).replace(tzinfo=None)
    await queue.send("hello")
    await queue.drain()
    assert abs(seen[0].timestamp - sent_at) < timedelta(seconds=5)


async def test_body_is_copied_at_send_time(make_queue, vtime):
    recorder = Recorder(vtime)
    queue = make_queue(recorder)
    body = {"tags": ["a"], "nested": {"n": 1}}
    await queue.send(body)
    body["tags"].append("changed")
    body["nested"]["n"] = 2
    await queue.drain()
    assert recorder.deliveries()[0][1] == {"tags": ["a"], "nested": {"n": 1}}


async def test_each_attempt_gets_a_fresh_body(make_queue, vtime):
    async def mutate_then_fail(batch):
        for message in batch.messages:
            message.body["touched"] = True
        raise RuntimeError("boom")

    recorder = Recorder(vtime, mutate_then_fail)
    queue = make_queue(recorder, max_retries=1)
    await queue.send({"n": 1})
    await queue.drain()
    assert [body for _, body, _ in recorder.deliveries()] == [{"n": 1}, {"n": 1}]


@pytest.mark.parametrize("body", [object(), {1, 2}, {"x": float("nan")}, b"raw"])
async def test_json_bodies_must_be_json_values(make_queue, body):
    queue = make_queue()
    with pytest.raises(TypeError):
        await queue.send(body)


async def test_content_types(make_queue, vtime):
    recorder = Recorder(vtime)
    queue = make_queue(recorder)
    await queue.send("plain", contentType="text")
    await queue.send(b"\x00\x01", contentType="bytes")
    await queue.send({"when": datetime(2024, 1, 15), "blob": b"x"}, contentType="v8")
    await queue.drain()
    bodies = [body for _, body, _ in recorder.deliveries()]
    assert bodies == ["plain", b"\x00\x01", {"when": datetime(2024, 1, 15), "blob": b"x"}]
    with pytest.raises(TypeError):
        await queue.send({"not": "text"}, contentType="text")
    with pytest.raises(ValueError):
        await queue.send("x", contentType="yaml")


async def test_batches_respect_max_batch_size(make_queue, vtime):
    recorder = Recorder(vtime)
    queue = make_queue(recorder, max_batch_size=3)
    for index in range(7):
        await queue.send(index)
    await queue.drain()
    assert [[body for body, _, _ in items] for _, items in recorder.batches] == [
        [0, 1, 2],
        [3, 4, 5],
        [6],
    ]


async def test_a_partial_batch_waits_for_the_batch_timeout(make_queue, vtime):
    recorder = Recorder(vtime)
    queue = make_queue(recorder, max_batch_size=10, max_batch_timeout=5)
    start = vtime.now
    await queue.send("a")
    await queue.send("b")
    for _ in range(50):  # let the background task run, without drain()'s flush
        if recorder.batches:
            break
        await asyncio.sleep(0)
    [(delivered_at, items)] = recorder.batches
    assert [body for body, _, _ in items] == ["a", "b"]
    assert delivered_at - start == pytest.approx(5)


async def test_a_full_batch_goes_out_without_waiting(make_queue, vtime):
    recorder = Recorder(vtime)
    queue = make_queue(recorder, max_batch_size=2, max_batch_timeout=60)
    start = vtime.now
    await queue.sendBatch([{"body": 1}, {"body": 2}])
    for _ in range(50):
        if recorder.batches:
            break
        await asyncio.sleep(0)
    assert recorder.batches[0][0] == start


async def test_returning_acknowledges_everything(make_queue, vtime):
    recorder = Recorder(vtime)
    queue = make_queue(recorder)
    await queue.sendBatch([{"body": n} for n in range(3)])
    await queue.drain()
    assert len(recorder.deliveries()) == 3
    assert queue.pending_count == 0 and queue.dead_letters == []


async def test_raising_retries_only_unacknowledged_messages(make_queue, vtime):
    async def ack_first_then_fail(batch):
        if batch.messages[0].attempts == 1:
            batch.messages[0].ack()
            raise RuntimeError("second message failed")

    recorder = Recorder(vtime, ack_first_then_fail)
    queue = make_queue(recorder)
    await queue.sendBatch([{"body": "first"}, {"body": "second"}])
    await queue.drain()
    assert [(body, attempts) for _, body, attempts in recorder.deliveries()] == [
        ("first", 1),
        ("second", 1),
        ("second", 2),
    ]


async def test_first_call_wins_and_message_calls_beat_batch_calls(make_queue, vtime):
    async def settle(batch):
        if batch.messages[0].attempts > 1:
            return
        first, second, third = batch.messages
        first.retry()
        first.ack()  # ignored: retry came first
        second.ack()
        second.retry()  # ignored
        batch.ackAll()  # applies to the third only
        third.retry()  # ignored: ackAll settled it

    recorder = Recorder(vtime, settle)
    queue = make_queue(recorder)
    await queue.sendBatch([{"body": "one"}, {"body": "two"}, {"body": "three"}])
    await queue.drain()
    assert [(body, attempts) for _, body, attempts in recorder.deliveries()] == [
        ("one", 1),
        ("two", 1),
        ("three", 1),
        ("one", 2),
    ]


async def test_retry_all_with_delay(make_queue, vtime):
    async def retry_once(batch):
        if batch.messages[0].attempts == 1:
            batch.retryAll(delaySeconds=30)

    recorder = Recorder(vtime, retry_once)
    queue = make_queue(recorder)
    await queue.sendBatch([{"body": "a"}, {"body": "b"}])
    await queue.drain()
    first_at, second_at = recorder.batches[0][0], recorder.batches[1][0]
    assert second_at - first_at == pytest.approx(30)
    assert [attempts for _, _, attempts in recorder.deliveries()] == [1, 1, 2, 2]


async def test_consumer_applied_exponential_backoff(make_queue, vtime):
    async def back_off(batch):
        for message in batch.messages:
            message.retry(delaySeconds=2**message.attempts)

    recorder = Recorder(vtime, back_off)
    queue = make_queue(recorder, max_retries=3)
    await queue.send("flaky")
    await queue.drain()
    times = [at for at, _, _ in recorder.deliveries()]
    assert [b - a for a, b in zip(times, times[1:])] == pytest.approx([2, 4, 8])
    assert [d.attempts for d in queue.dead_letters] == [4]


async def test_failures_use_the_consumer_retry_delay(make_queue, vtime):
    async def fail(batch):
        raise RuntimeError("down")

    recorder = Recorder(vtime, fail)
    queue = make_queue(recorder, max_retries=1, retry_delay=10)
    await queue.send("x")
    await queue.drain()
    times = [at for at, _, _ in recorder.deliveries()]
    assert times[1] - times[0] == pytest.approx(10)


async def test_dead_letter_after_max_retries(make_queue, vtime):
    async def always_fail(batch):
        raise ValueError("cannot process")

    recorder = Recorder(vtime, always_fail)
    queue = make_queue(recorder, max_retries=2)
    await queue.send({"job": 1})
    await queue.drain()
    # The first delivery plus max_retries retries, then it leaves the queue.
    assert [attempts for _, _, attempts in recorder.deliveries()] == [1, 2, 3]
    [dead] = queue.dead_letters
    assert dead.body == {"job": 1} and dead.attempts == 3
    assert "cannot process" in dead.error
    assert queue.pending_count == 0


async def test_zero_retries_dead_letters_at_first_failure(make_queue, vtime):
    async def retry_all(batch):
        batch.retryAll()

    recorder = Recorder(vtime, retry_all)
    queue = make_queue(recorder, max_retries=0)
    await queue.send("once")
    await queue.drain()
    assert len(recorder.deliveries()) == 1
    assert queue.dead_letters[0].error == "retried by the consumer"


async def test_delay_seconds_on_send(make_queue, vtime):
    recorder = Recorder(vtime)
    queue = make_queue(recorder, max_batch_timeout=0)
    start = vtime.now
    await queue.send("later", delaySeconds=60)
    await queue.send("now")
    await queue.drain()
    delivered = {body: at for at, body, _ in recorder.deliveries()}
    assert delivered["now"] == start
    assert delivered["later"] - start == pytest.approx(60)


async def test_send_batch_delays_default_and_per_message(make_queue, vtime):
    recorder = Recorder(vtime)
    queue = make_queue(recorder, max_batch_timeout=0)
    start = vtime.now
    await queue.sendBatch(
        [{"body": "default"}, {"body": "own", "delaySeconds": 0}], delaySeconds=20
    )
    await queue.drain()
    delivered = {body: at - start for at, body, _ in recorder.deliveries()}
    assert delivered == {"own": 0, "default": pytest.approx(20)}


@pytest.mark.parametrize("delay", [-1, 43201, 1.5, "10"])
async def test_invalid_delays_are_rejected(make_queue, delay):
    queue = make_queue()
    with pytest.raises(ValueError):
        await queue.send("x", delaySeconds=delay)


async def test_send_batch_limits(make_queue):
    queue = make_queue()
    with pytest.raises(ValueError):
        await queue.sendBatch([{"body": n} for n in range(101)])
    with pytest.raises(ValueError):
        await queue.send("x" * (128 * 1024 + 1))
    with pytest.raises(ValueError):
        await queue.sendBatch([{"body": "x" * 100_000} for _ in range(3)])
    with pytest.raises(TypeError):
        await queue.sendBatch([{"delaySeconds": 1}])
    assert queue.pending_count == 0  # a rejected batch sends nothing


async def test_consumer_set_later_receives_waiting_messages(make_queue, vtime):
    queue = make_queue()
    await queue.send("waiting")
    assert queue.pending_count == 1
    with pytest.raises(RuntimeError):
        await queue.drain()
    recorder = Recorder(vtime)
    queue.set_consumer(recorder)
    await queue.drain()
    assert recorder.deliveries()[0][1] == "waiting"


async def test_messages_sent_by_the_consumer_are_delivered_too(make_queue, vtime):
    recorder_bodies = []

    async def chain(batch):
        for message in batch.messages:
            recorder_bodies.append(message.body)
            if message.body < 3:
                await queue.send(message.body + 1)

    queue = make_queue(chain)
    await queue.send(0)
    await queue.drain()
    assert recorder_bodies == [0, 1, 2, 3]


async def test_close_stops_delivery(make_queue, vtime):
    recorder = Recorder(vtime)
    queue = make_queue(recorder)
    await queue.send("x")
    await queue.drain()
    await queue.close()
    with pytest.raises(RuntimeError):
        await queue.send("after close")


async def test_real_clock():
    bodies = []

    async def consumer(batch):
        bodies.extend(message.body for message in batch.messages)

    queue = LocalQueue(consumer, max_batch_timeout=0)
    await queue.send({"real": True})
    await queue.drain()
    await queue.close()
    assert bodies == [{"real": True}]


@pytest.mark.parametrize(
    "settings",
    [
        {"max_batch_size": 0},
        {"max_batch_size": 101},
        {"max_batch_timeout": 61},
        {"max_retries": -1},
    ],
)
def test_invalid_consumer_settings(settings):
    with pytest.raises(ValueError):
        LocalQueue(**settings)
