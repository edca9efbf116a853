"""The R2 binding (`env.BUCKET`), as the Workers Python SDK exposes it (docs/BINDINGS.md, "R2").

Types only: import under `if TYPE_CHECKING:`. `pixhaven.local.bindings.r2.LocalR2` satisfies
`R2Bucket`. Options are keyword arguments; the SDK sends them as one trailing options object.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Sequence
from typing import Any, NotRequired, Protocol, TypeAlias, TypedDict, overload

from pixhaven.bindings.js import JsObject, ReadableStream

R2PutValue: TypeAlias = bytes | str | ReadableStream | None
"""What `put` stores: bytes, text, nothing, or a stream such as another object's `body`."""


class R2HTTPMetadata(TypedDict, total=False):
    """`httpMetadata` as `put` takes it. Leave a field out to leave it unset: None is sent as
    JS null, which R2 stores as the text "null" (and refuses for `cacheExpiry`). An object's
    `httpMetadata` has all six fields, None where unset, so drop the Nones before copying."""

    contentType: str
    contentLanguage: str
    contentDisposition: str
    contentEncoding: str
    cacheControl: str
    cacheExpiry: datetime.datetime


class R2Range(TypedDict, total=False):
    """A `get` range: `offset` (and `length`), or the last `suffix` bytes."""

    offset: int
    length: int
    suffix: int


class R2Conditional(TypedDict, total=False):
    """`onlyIf`: etags are bare (`obj.etag`, not the quoted `obj.httpEtag`), `*` for any."""

    etagMatches: str
    etagDoesNotMatch: str
    uploadedBefore: datetime.datetime
    uploadedAfter: datetime.datetime
    secondsGranularity: bool


class R2Checksums(Protocol):
    """Digests as array buffers, which the SDK hands over as `memoryview`s (None when not
    stored); `toJSON()` gives them as hex."""

    @property
    def md5(self) -> memoryview | None: ...

    def toJSON(self) -> dict[str, str]: ...


class R2Object(Protocol):
    """An object's metadata: what `head`, `put` and `list` answer (a wrapper with attribute
    access; `uploaded` and `httpMetadata["cacheExpiry"]` are naive UTC datetimes)."""

    @property
    def key(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def etag(self) -> str:
        """MD5 hex of the bytes."""

    @property
    def httpEtag(self) -> str:
        """`etag` in quotes, for the ETag header."""

    @property
    def uploaded(self) -> datetime.datetime: ...
    @property
    def httpMetadata(self) -> JsObject:
        """All six `R2HTTPMetadata` fields, None where unset."""

    @property
    def customMetadata(self) -> dict[str, str]: ...
    @property
    def checksums(self) -> R2Checksums: ...
    @property
    def storageClass(self) -> str: ...
    @property
    def range(self) -> JsObject | None:
        """Which bytes a body holds: `{offset, length}`, or the requested `{suffix}`."""


class R2ObjectBody(R2Object, Protocol):
    """An object with its body, read once: `arrayBuffer()`, `text()`, `json()`, or `body`
    (a stream another binding can take unread). `arrayBuffer()` is a `memoryview`, as the SDK
    converts an ArrayBuffer: `pixhaven.interop.body_bytes(obj)` gives bytes."""

    @property
    def body(self) -> ReadableStream: ...
    @property
    def bodyUsed(self) -> bool: ...
    def arrayBuffer(self) -> Awaitable[memoryview]: ...
    def text(self) -> Awaitable[str]: ...
    def json(self) -> Awaitable[Any]: ...


class R2Objects(TypedDict):
    """What `list` answers. Objects come in key order and, without `include`, carry no
    httpMetadata/customMetadata. `cursor` continues a truncated listing (absent or None
    otherwise)."""

    objects: list[R2Object]
    truncated: bool
    cursor: NotRequired[str | None]
    delimitedPrefixes: list[str]


class R2Bucket(Protocol):
    """An R2 bucket. Failures raise an exception whose text carries R2's error code, e.g.
    `(10039)` for an unsatisfiable range.

    No option takes None: the SDK sends it as JS null, which workerd refuses (`TypeError:
    Incorrect type for the 'cursor' field on 'ListOptions'`) or reads as 0 or "null". Leave
    an absent option out (`**pixhaven.interop.given(...)`)."""

    def head(self, key: str, /) -> Awaitable[R2Object | None]: ...

    @overload
    def get(self, key: str, /, *, range: R2Range = ...) -> Awaitable[R2ObjectBody | None]: ...

    @overload
    def get(
        self, key: str, /, *, range: R2Range = ..., onlyIf: R2Conditional
    ) -> Awaitable[R2ObjectBody | R2Object | None]:
        """With `onlyIf`, an object that fails the condition comes back without a body."""

    def put(
        self,
        key: str,
        value: R2PutValue,
        /,
        *,
        httpMetadata: R2HTTPMetadata = ...,
        customMetadata: dict[str, str] = ...,
        onlyIf: R2Conditional = ...,
    ) -> Awaitable[R2Object | None]:
        """The stored object, or None when `onlyIf` fails. Atomic: readers never see a torn
        object."""

    def delete(self, keys: str | Sequence[str], /) -> Awaitable[None]: ...

    def list(
        self,
        *,
        prefix: str = ...,
        limit: int = ...,
        cursor: str = ...,
        delimiter: str = ...,
        startAfter: str = ...,
        include: Sequence[str] = ...,
    ) -> Awaitable[R2Objects]: ...
