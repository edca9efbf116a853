"""Contract tests for the Rate Limiting binding (`env.RATE_LIMITER`), run against the local
emulation. Time comes from a fake clock, so nothing sleeps."""

import pytest

from pixhaven.local.bindings.ratelimit import LocalRateLimiter


class FakeClock:
    def __init__(self, start: float = 5000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def limiter(clock):
    return LocalRateLimiter(limit=3, period=10, clock=clock)


async def successes(limiter, key, times):
    return [(await limiter.limit(key=key))["success"] for _ in range(times)]


async def test_allows_up_to_the_limit_then_refuses(limiter):
    assert await successes(limiter, "alice", 5) == [True, True, True, False, False]


async def test_outcome_is_a_dict_with_attribute_access(limiter):
    outcome = await limiter.limit(key="alice")
    assert outcome == {"success": True}
    assert outcome.success is True
    with pytest.raises(AttributeError):
        outcome.missing


async def test_accepts_the_options_object_form(limiter):
    # What limit(key=...) becomes on its way through the SDK.
    assert (await limiter.limit({"key": "alice"})).success is True


async def test_keys_are_counted_separately(limiter):
    assert await successes(limiter, "alice", 4) == [True, True, True, False]
    assert await successes(limiter, "bob", 1) == [True]


async def test_window_slides(limiter, clock):
    for offset in (0, 4, 8):  # three hits spread over the window
        clock.now = 5000.0 + offset
        assert (await limiter.limit(key="k")).success
    clock.now = 5009.9
    assert not (await limiter.limit(key="k")).success
    clock.now = 5010.0  # the hit at +0 is now a full period old
    assert (await limiter.limit(key="k")).success
    assert not (await limiter.limit(key="k")).success  # +4, +8, +10 still count
    clock.now = 5030.0
    assert await successes(limiter, "k", 4) == [True, True, True, False]


async def test_refused_requests_do_not_extend_the_block(limiter, clock):
    await successes(limiter, "k", 3)
    for step in range(1, 10):  # keep knocking while blocked
        clock.now = 5000.0 + step
        assert not (await limiter.limit(key="k")).success
    clock.now = 5010.0
    assert (await limiter.limit(key="k")).success


async def test_sixty_second_period(clock):
    limiter = LocalRateLimiter(limit=1, period=60, clock=clock)
    assert (await limiter.limit(key="k")).success
    clock.now += 59
    assert not (await limiter.limit(key="k")).success
    clock.now += 1
    assert (await limiter.limit(key="k")).success


@pytest.mark.parametrize("period", [0, 1, 30, 61, 10.5, "60"])
def test_only_cloudflare_periods_are_accepted(period):
    with pytest.raises(ValueError):
        LocalRateLimiter(limit=10, period=period)


@pytest.mark.parametrize("limit", [0, -1, 2.5, True])
def test_limit_must_be_a_positive_integer(limit):
    with pytest.raises(ValueError):
        LocalRateLimiter(limit=limit, period=60)


async def test_key_is_required(limiter):
    with pytest.raises(TypeError):
        await limiter.limit()
    with pytest.raises(TypeError):
        await limiter.limit(key=42)


async def test_idle_keys_are_forgotten(limiter, clock):
    for index in range(3000):
        await limiter.limit(key=f"visitor-{index}")
        clock.now += 0.1
    # Only keys seen in the last period can still be remembered (plus one sweep's lag).
    assert len(limiter._hits) < 1200
