"""Upload URLs for PixelFlare's two-step upload (`POST /v1/images`, then a PUT of the bytes).

Two kinds, chosen by configuration:

- **Worker route** (always locally, and on Cloudflare without R2 S3 credentials):
  `{base}/v1/uploads/{image_id}?expires={unix}&signature={hex}`, where the signature is
  HMAC-SHA256 over `"{image_id}:{expires}"` with `UPLOAD_SIGNING_SECRET` (or, when that is
  unset, a key derived from `ADMIN_TOKEN`). The signature is the only credential of the PUT;
  it is compared in constant time. "Works once" is enforced by the row: only a pending row
  accepts bytes.
- **R2 presigned PUT** (when R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, R2_ACCOUNT_ID and
  R2_BUCKET_NAME are all set): an S3 SigV4 presigned URL for the object
  `uploads/{image_id}`, so the bytes never pass through the Worker. The image is completed
  from that object (services/images/direct_uploads.py) when R2's event notification arrives on the
  queue, or on the first `GET /v1/images/{id}`.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from pixhaven.errors import ApiError, BodyTooLarge
from pixhaven.net.sigv4 import presign_url
from pixhaven.numerals import is_ascii_digits
from pixhaven.settings import Settings

INCOMING_PREFIX = "uploads/"
DERIVATION_LABEL = b"pixhaven upload-url signing v1"


@dataclass(frozen=True)
class UploadUrl:
    url: str
    expires_at: datetime
    direct_to_r2: bool


def incoming_key(image_id: str) -> str:
    """Where an R2 presigned upload puts the raw bytes."""
    return f"{INCOMING_PREFIX}{image_id}"


def image_id_of_incoming(key: str) -> str | None:
    if not key.startswith(INCOMING_PREFIX):
        return None
    rest = key[len(INCOMING_PREFIX) :]
    return rest if rest and "/" not in rest else None


def upload_too_large(settings: Settings, size: int | None = None) -> BodyTooLarge:
    """The 413 of an image the API receives itself (CattoPic's upload, the Worker-route PUT
    of PixelFlare's `upload_url`) past `MAX_UPLOAD_BYTES`: it names the limit and, where
    `upload_url` is an R2 presigned PUT, the way to send a larger file (straight to the
    bucket, up to `DIRECT_UPLOAD_MAX_BYTES`, the bytes never held by the Worker). On Workers
    the limit is what an isolate's 128 MB can process (README, "Upload limits")."""
    limit = settings.max_upload_bytes
    message = f"File exceeds maximum size of {limit / 1048576:g}MB"
    details: dict = {}
    if size is not None:
        details["size"] = size
    if r2_direct(settings):
        direct = settings.direct_upload_max_bytes
        message += (
            f"; files up to {direct / 1048576:g}MB upload straight to storage: "
            "POST /v1/images, then PUT the file to the upload_url it answers"
        )
        details["directUploadMaxBytes"] = direct
    return BodyTooLarge(message, code="FILE_TOO_LARGE", max_bytes=limit, **details)


def r2_direct(settings: Settings) -> bool:
    return bool(
        settings.r2_access_key_id
        and settings.r2_secret_access_key
        and settings.r2_account_id
        and settings.r2_bucket_name
    )


def signing_key(settings: Settings) -> bytes:
    if settings.upload_signing_secret:
        return settings.upload_signing_secret.encode("utf-8")
    if settings.admin_token:
        return hmac.new(
            settings.admin_token.encode("utf-8"), DERIVATION_LABEL, hashlib.sha256
        ).digest()
    raise ApiError(
        503,
        "Uploads are not configured: set UPLOAD_SIGNING_SECRET or ADMIN_TOKEN",
        code="UNAVAILABLE",
    )


def signature(settings: Settings, image_id: str, expires: int) -> str:
    return hmac.new(
        signing_key(settings), f"{image_id}:{expires}".encode(), hashlib.sha256
    ).hexdigest()


def make_upload_url(settings: Settings, base: str, image_id: str, now: datetime) -> UploadUrl:
    expires_at = now + timedelta(seconds=settings.upload_url_ttl_seconds)
    if r2_direct(settings):
        url = presign_url(
            method="PUT",
            host=f"{settings.r2_account_id}.r2.cloudflarestorage.com",
            path=f"/{settings.r2_bucket_name}/{incoming_key(image_id)}",
            access_key_id=settings.r2_access_key_id,
            secret_access_key=settings.r2_secret_access_key,
            region="auto",
            expires_seconds=settings.upload_url_ttl_seconds,
            now=now,
        )
        return UploadUrl(url, expires_at, True)
    expires = int(expires_at.timestamp())
    query = urlencode({"expires": expires, "signature": signature(settings, image_id, expires)})
    return UploadUrl(f"{base}/v1/uploads/{image_id}?{query}", expires_at, False)


def check_signature(
    settings: Settings, image_id: str, expires: str | None, given: str | None, now: datetime
) -> None:
    """403 unless `signature` is ours for this image and expiry, and it has not passed."""
    forbidden = ApiError(
        403, "Invalid or expired upload URL", code="FORBIDDEN", details={"image_id": image_id}
    )
    if not expires or not given or not is_ascii_digits(expires) or len(expires) > 12:
        raise forbidden
    expected = signature(settings, image_id, int(expires))
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace")):
        raise forbidden
    if int(expires) < now.astimezone(UTC).timestamp():
        raise ApiError(
            403,
            "Upload URL has expired",
            code="FORBIDDEN",
            details={"image_id": image_id, "expired": True},
        )
