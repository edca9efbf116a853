"""Local stand-in for Cloudflare's Rate Limiting binding (`env.RATE_LIMITER`).

    outcome = await limiter.limit(key="203.0.113.7")    # or limit({"key": ...})
    outcome["success"], outcome.success                   # True while under the limit

Configured like `[[ratelimits]] simple = { limit = 100, period = 60 }`; Cloudflare accepts
only periods of 10 or 60 seconds, so this does too.

Deviation, on purpose: Cloudflare counts per location and eventually consistently, so a real
limiter can let a few extra requests through; this one is an exact sliding-window log per key
(a request counts if it happened less than `period` seconds ago). Refused requests are not
counted, so a client that keeps hammering is let back in as soon as the window slides.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from pixhaven.local.bindings.jsvalues import JsDict

if TYPE_CHECKING:
    from pixhaven.bindings.ratelimit import RateLimitOutcome

ALLOWED_PERIODS = (10, 60)
# Forget idle keys now and then so a stream of distinct keys cannot grow memory without end.
SWEEP_EVERY = 1024


class LocalRateLimiter:
    def __init__(self, limit: int, period: int, clock: Callable[[], float] = time.monotonic):
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, not {limit!r}")
        if period not in ALLOWED_PERIODS:
            raise ValueError(f"period must be 10 or 60 seconds (Cloudflare's rule), not {period!r}")
        self.max_requests = limit
        self.period = period
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._calls = 0

    async def limit(
        self, options: dict | None = None, *, key: str | None = None
    ) -> RateLimitOutcome:
        # The SDK turns limit(key=...) into the options object {key}; accept both spellings.
        if key is None and options:
            key = options.get("key")
        if not isinstance(key, str):
            raise TypeError("limit() needs a string key")
        now = self._clock()
        self._calls += 1
        if self._calls % SWEEP_EVERY == 0:
            self._sweep(now)
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.period:
            hits.popleft()
        if len(hits) >= self.max_requests:
            return _outcome(False)
        hits.append(now)
        return _outcome(True)

    def _sweep(self, now: float) -> None:
        cutoff = now - self.period
        stale = [key for key, hits in self._hits.items() if not hits or hits[-1] <= cutoff]
        for key in stale:
            del self._hits[key]


def _outcome(success: bool) -> RateLimitOutcome:
    # A JsDict is what the SDK makes of the JS object; RateLimitOutcome names its keys.
    return cast("RateLimitOutcome", JsDict(success=success))
