"""How the local R2 binding reads put/get/list options, as workerd reads them.

Metadata coercion (JS `String()` of values, None arriving as JS null), checksums,
ranges, `onlyIf` conditions and list cursors. Used by r2.py.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib

from pixhaven.local.bindings.jsvalues import epoch_ms
from pixhaven.local.bindings.r2_objects import HTTP_METADATA_FIELDS, R2Error

MAX_CUSTOM_METADATA_BYTES = 2048
CHECKSUM_ALGORITHMS = ("md5", "sha1", "sha256", "sha384", "sha512")

# workerd's option structs (r2-bucket.h) in declaration order: the fields for which JS null
# (what the SDK makes of None) is a TypeError, with the type its message names. Miniflare
# shows the rest: `onlyIf`, `range`, `httpMetadata` and the options object itself take null
# as absent, `limit` and the range numbers read it as 0, `secondsGranularity` as false.
_NULL_REFUSED = {
    "ListOptions": {
        "prefix": "string",
        "cursor": "string",
        "delimiter": "string",
        "startAfter": "string",
        "include": "Array",
    },
    "PutOptions": {
        "customMetadata": "object",
        **dict.fromkeys(CHECKSUM_ALGORITHMS, "JsBufferSource or string"),
    },
    "Conditional": {
        "etagMatches": "string",
        "etagDoesNotMatch": "string",
        "uploadedBefore": "date",
        "uploadedAfter": "date",
    },
}


def refuse_nulls(struct: str, options) -> None:
    """Raise workerd's TypeError for the first field of `struct` that is None, e.g.
    `Incorrect type for the 'cursor' field on 'ListOptions': the provided value is not of
    type 'string'.` (`list(cursor=None)` on Workers)."""
    if not isinstance(options, dict):
        return
    for field, type_name in _NULL_REFUSED[struct].items():
        if field in options and options[field] is None:
            raise TypeError(
                f"Incorrect type for the '{field}' field on '{struct}': "
                f"the provided value is not of type '{type_name}'."
            )


def js_number(value):
    """A number option as workerd reads it: null (None) is 0."""
    return 0 if value is None else value


def stored_http_metadata(metadata) -> dict:
    """httpMetadata as workerd reads it from the options object.

    Unknown fields are ignored. A field set to None is *not* "unset": the SDK sends
    JS null, which workerd turns into the string "null" for text fields and rejects
    for `cacheExpiry`; so copying `obj.httpMetadata` (all six fields, None where
    unset) into a new put() fails on Workers, and here too.
    """
    stored: dict[str, int | str] = {}
    for field in HTTP_METADATA_FIELDS:
        if field not in (metadata or {}):
            continue
        value = metadata[field]
        if field == "cacheExpiry":
            if not isinstance(value, datetime.datetime):
                raise TypeError(
                    "Incorrect type for the 'cacheExpiry' field on 'HttpMetadata': "
                    "the provided value is not of type 'date'."
                )
            stored[field] = epoch_ms(value)
        else:
            stored[field] = js_string(value)
    return stored


def js_string(value) -> str:
    """`String(value)` in JavaScript, which workerd applies to metadata values."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def stored_custom_metadata(metadata) -> dict:
    stored = {str(k): js_string(v) for k, v in (metadata or {}).items()}
    size = sum(len(k.encode()) + len(v.encode()) for k, v in stored.items())
    if size > MAX_CUSTOM_METADATA_BYTES:
        raise R2Error(
            "put: Your metadata headers exceed the maximum allowed metadata size. (10012)"
        )
    return stored


def checksums(data: bytes, options: dict) -> dict:
    """Hex digests to store: always MD5, plus any the caller asked to verify."""
    checksums = {"md5": hashlib.md5(data).hexdigest()}
    for algorithm in CHECKSUM_ALGORITHMS:
        expected = options.get(algorithm)
        if expected is None:
            continue
        actual = checksums.get(algorithm) or hashlib.new(algorithm, data).hexdigest()
        if hasattr(expected, "to_bytes"):
            expected = expected.to_bytes()
        if isinstance(expected, (bytes, bytearray)):
            expected = bytes(expected).hex()
        if str(expected).lower() != actual:
            raise R2Error(
                f"put: The {algorithm.upper()} checksum you specified did not match "
                "what we received. (10037)"
            )
        checksums[algorithm] = actual
    return checksums


def resolve_range(requested, size: int) -> tuple[int, int]:
    """(offset, length) of a get's range, validated and clamped like R2 does."""
    if requested is None:
        return 0, size
    # A field left out is absent; one set to None is JS null, which workerd reads as 0.
    offset, length, suffix = (
        js_number(requested[field]) if field in requested else None
        for field in ("offset", "length", "suffix")
    )
    if suffix is not None:
        if suffix <= 0:
            raise R2Error("get: The requested range is not satisfiable (10039)")
        offset, length = size - min(suffix, size), min(suffix, size)
    offset = 0 if offset is None else offset
    length = size - offset if length is None else length
    if offset < 0 or offset > size or length <= 0:
        raise R2Error("get: The requested range is not satisfiable (10039)")
    return offset, min(length, size - offset)


def etag_condition_matches(condition, etag: str) -> bool:
    """Whether an onlyIf etag string, read as workerd reads it, names `etag`.

    The string is one bare etag, or `*` for any. workerd refuses a quoted etag (pass
    `obj.etag`, not `obj.httpEtag`) and does not split comma-separated lists.
    """
    wanted = str(condition).strip()
    if len(wanted) >= 2 and wanted.startswith('"') and wanted.endswith('"'):
        raise TypeError(f"Conditional ETag should not be wrapped in quotes ({wanted}).")
    return wanted == "*" or wanted == etag


def condition_holds(condition: dict, metadata: dict | None) -> bool:
    """R2's onlyIf rules (RFC 7232 §6), as in Miniflare's `_testR2Conditional`."""
    matches = condition.get("etagMatches")
    does_not_match = condition.get("etagDoesNotMatch")
    after = condition.get("uploadedAfter")
    before = condition.get("uploadedBefore")
    if metadata is None:
        return matches is None and after is None

    etag = metadata["etag"]
    if_match = matches is None or etag_condition_matches(matches, etag)
    if_none_match = does_not_match is None or not etag_condition_matches(does_not_match, etag)

    def truncate(ms: int) -> int:
        return ms // 1000 * 1000 if condition.get("secondsGranularity") else ms

    uploaded = truncate(metadata["uploaded"])
    modified_since = (
        after is None
        or truncate(epoch_ms(after)) < uploaded
        or (does_not_match is not None and if_none_match)
    )
    unmodified_since = (
        before is None
        or uploaded < truncate(epoch_ms(before))
        or (matches is not None and if_match)
    )
    return if_match and if_none_match and modified_since and unmodified_since


def encode_cursor(key: str) -> str:
    return base64.b64encode(key.encode("utf-8", "surrogatepass")).decode("ascii")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.b64decode(cursor.encode("ascii"), validate=True)
        return raw.decode("utf-8", "surrogatepass")
    except (binascii.Error, UnicodeError, ValueError):
        raise R2Error("list: The specified cursor is not valid. (10029)") from None
