"""The Queue binding (`env.JOBS`) and what the Worker's `queue` handler receives, as the
Workers Python SDK exposes them (docs/BINDINGS.md, "Queue").

Types only: import under `if TYPE_CHECKING:`. `pixhaven.local.bindings.queue.LocalQueue`
satisfies `Queue`; its `MessageBatch` and `Message` satisfy the consumer-side protocols.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, Literal, NotRequired, Protocol, TypeAlias, TypedDict

QueueContentType: TypeAlias = Literal["json", "text", "bytes", "v8"]


class MessageSendRequest(TypedDict):
    """One message of `sendBatch`."""

    body: Any
    contentType: NotRequired[QueueContentType]
    delaySeconds: NotRequired[int]


class Queue(Protocol):
    """A producer. Bodies are structured-cloned on send; limits are 128 KB a message and
    100 messages or 256 KB a batch, delays up to 12 hours."""

    def send(
        self, body: Any, /, *, contentType: QueueContentType = ..., delaySeconds: int = ...
    ) -> Awaitable[None]: ...

    def sendBatch(
        self, messages: Iterable[MessageSendRequest], /, *, delaySeconds: int = ...
    ) -> Awaitable[None]: ...


class QueueMessage(Protocol):
    """One delivered message. The first `ack()`/`retry()` wins over later ones and over the
    batch's `ackAll()`/`retryAll()`."""

    @property
    def id(self) -> str: ...
    @property
    def timestamp(self) -> datetime.datetime:
        """When it was sent, naive UTC."""

    @property
    def body(self) -> Any: ...
    @property
    def attempts(self) -> int:
        """Deliveries so far, this one included (starts at 1)."""

    def ack(self) -> None: ...
    def retry(self, *, delaySeconds: int = ...) -> None: ...


class MessageBatch(Protocol):
    """What the Worker's `queue(batch)` handler gets. Messages left unsettled are
    acknowledged when the handler returns and retried when it raises."""

    @property
    def queue(self) -> str: ...
    @property
    def messages(self) -> Sequence[QueueMessage]: ...
    def ackAll(self) -> None: ...
    def retryAll(self, *, delaySeconds: int = ...) -> None: ...
