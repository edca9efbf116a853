"""The decoded-pixel budget: how many pixels this process holds decoded at once.

Decoding is where an image costs memory: a 10000x10000 PNG of 292 KB is 400 MB as Pillow
pixels, and the encoders that follow need several times that. Everything that decodes in
this process takes a lease on one per-process budget first, and gives it back when the
pixels are gone:

- the local Images emulation (`pixhaven dev`): each decode it makes for `env.IMAGES`
  (on Cloudflare the binding decodes outside the isolate, and nothing here is involved);
- render image sources, which the renderer decodes in process on both runtimes.

The limit is the caller's (`Settings.max_decoded_pixels`, MAX_DECODED_PIXELS; 0 turns the
budget off). A request that needs more than the whole limit could never run: 413. One that
fits but finds the budget taken waits, first come first served, up to `wait` seconds
(DECODE_WAIT_SECONDS), then gets 503 with Retry-After instead of pushing the machine into
swap.

    lease = await BUDGET.acquire(pixels, limit=limit, wait=wait, what="image")
    try:
        ...decode...
        lease.shrink(smaller)   # kept a reduced copy: give the difference back early
    finally:
        lease.release()
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field

from pixhaven.errors import ApiError

RETRY_AFTER_SECONDS = 5


class DecodeTooLarge(ApiError):
    """More pixels than the whole budget: this server can never decode it at once."""

    def __init__(self, pixels: int, limit: int, what: str):
        super().__init__(
            413,
            f"Image too large to process on this server: the {what} needs {pixels} decoded "
            f"pixels at once, more than its limit of {limit} (MAX_DECODED_PIXELS)",
            code="FILE_TOO_LARGE",
            details={"decodedPixels": pixels, "maxDecodedPixels": limit},
        )
        self.pixels = pixels
        self.limit = limit


class DecodeBusy(ApiError):
    """The budget stayed taken by other work for longer than the caller waits."""

    def __init__(self, pixels: int, limit: int):
        super().__init__(
            503,
            "Server busy: too many images are being processed right now; retry shortly",
            code="BUSY",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            details={
                "decodedPixels": pixels,
                "maxDecodedPixels": limit,
                "retryAfter": RETRY_AFTER_SECONDS,
            },
        )


@dataclass(eq=False)
class _Waiter:
    pixels: int
    limit: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future = field(repr=False)
    granted: bool = False  # set under the budget's lock, before the future is resolved


class Lease:
    """Pixels held on the budget until `release()` (idempotent); `shrink()` gives part back."""

    def __init__(self, budget: PixelBudget, pixels: int):
        self._budget = budget
        self.pixels = pixels

    def shrink(self, pixels: int) -> None:
        pixels = max(0, pixels)
        if pixels < self.pixels:
            freed, self.pixels = self.pixels - pixels, pixels
            self._budget._give_back(freed)

    def release(self) -> None:
        self.shrink(0)

    async def __aenter__(self) -> Lease:
        return self

    async def __aexit__(self, *exc_info) -> None:
        self.release()


class PixelBudget:
    """Thread-safe: leases are taken on any event loop and may be given back from any
    thread; waiters are woken on their own loop. No polling: a waiter sleeps on a future
    until pixels come back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_use = 0
        self._waiters: deque[_Waiter] = deque()

    @property
    def in_use(self) -> int:
        return self._in_use

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self, pixels: int, *, limit: int, wait: float, what: str) -> Lease:
        pixels = max(0, int(pixels))
        if limit <= 0 or pixels == 0:  # no budget configured, or nothing to count
            return Lease(self, 0)
        if pixels > limit:
            raise DecodeTooLarge(pixels, limit, what)
        loop = asyncio.get_running_loop()
        with self._lock:
            if not self._waiters and self._in_use + pixels <= limit:
                self._in_use += pixels
                return Lease(self, pixels)
            if wait <= 0:
                raise DecodeBusy(pixels, limit)
            waiter = _Waiter(pixels, limit, loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter.future), wait)
        except (TimeoutError, asyncio.CancelledError) as exc:
            with self._lock:
                granted = waiter.granted
                if not granted:
                    self._waiters.remove(waiter)
                    self._grant_waiters()  # a big waiter leaving may unblock smaller ones
            if granted:  # granted just as the wait ended: hand the pixels back
                self._give_back(pixels)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise DecodeBusy(pixels, limit) from None
        return Lease(self, pixels)

    def account(self, limit: int, wait: float) -> Account:
        return Account(self, limit, wait)

    def _give_back(self, pixels: int) -> None:
        with self._lock:
            self._in_use -= pixels
            self._grant_waiters()

    def _grant_waiters(self) -> None:
        """First come, first served (a large request is not starved by smaller ones)."""
        while self._waiters:
            head = self._waiters[0]
            if self._in_use + head.pixels > head.limit:
                return
            self._waiters.popleft()
            try:
                _on_loop(head.loop, head.future)
            except RuntimeError:  # its event loop is closed: nobody is waiting any more
                continue
            head.granted = True
            self._in_use += head.pixels


class Account:
    """The leases of one piece of work (a render: every image source of its layout),
    given back together when it is done: `async with BUDGET.account(limit, wait) as pixels`."""

    def __init__(self, budget: PixelBudget, limit: int, wait: float):
        self._budget = budget
        self.limit = limit
        self.wait = wait
        self._leases: list[Lease] = []

    async def lease(self, pixels: int, what: str) -> Lease:
        held = sum(lease.pixels for lease in self._leases)
        if self.limit > 0 and held + pixels > self.limit:
            # Waiting could only end in a 503: what it waits for is this work's own pixels.
            raise DecodeTooLarge(held + pixels, self.limit, what)
        lease = await self._budget.acquire(pixels, limit=self.limit, wait=self.wait, what=what)
        self._leases.append(lease)
        return lease

    def release(self) -> None:
        for lease in self._leases:
            lease.release()
        self._leases.clear()

    async def __aenter__(self) -> Account:
        return self

    async def __aexit__(self, *exc_info) -> None:
        self.release()


def _on_loop(loop: asyncio.AbstractEventLoop, future: asyncio.Future) -> None:
    """Resolve `future` on its loop: directly scheduled from that loop's own thread (the
    only case on a Worker), through call_soon_threadsafe from any other thread."""
    try:
        current = asyncio.get_running_loop()
    except RuntimeError:
        current = None
    if current is loop:
        loop.call_soon(_resolve, future)
    else:
        loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


# The process's one budget.
BUDGET = PixelBudget()
