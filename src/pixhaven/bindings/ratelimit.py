"""The Rate Limiting binding (`env.RATE_LIMITER`), as the Workers Python SDK exposes it
(docs/BINDINGS.md, "Rate limiter").

Types only: import under `if TYPE_CHECKING:`.
`pixhaven.local.bindings.ratelimit.LocalRateLimiter` satisfies `RateLimiter`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol, TypedDict


class RateLimitOutcome(TypedDict):
    success: bool


class RateLimiter(Protocol):
    """The limit and period are configured in `[[ratelimits]]` of wrangler.toml."""

    def limit(self, *, key: str) -> Awaitable[RateLimitOutcome]:
        """Count one request for `key`; `success` is False once it is over the limit."""
