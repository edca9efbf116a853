"""AWS Signature Version 4 query-string presigning (the S3 API that R2 also speaks), with
hashlib/hmac only, so it runs in the Worker.

Only what presigned object URLs need: the `host` header is the one signed header and the
payload is `UNSIGNED-PAYLOAD`, so the client may send any body and any Content-Type.
Reference: AWS S3 API, "Authenticating Requests: Using Query Parameters (AWS Signature
Version 4)"; tests/test_pixelflare_images.py checks the documented example.
"""

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"


def _encode(value: str, safe: str = "-_.~") -> str:
    return quote(value, safe=safe)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_access_key: str, datestamp: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret_access_key).encode("utf-8"), datestamp)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def presign_url(
    *,
    method: str,
    host: str,
    path: str,
    access_key_id: str,
    secret_access_key: str,
    region: str,
    expires_seconds: int,
    now: datetime,
    service: str = "s3",
) -> str:
    """A presigned `https://{host}{path}?X-Amz-…` URL valid for `expires_seconds`."""
    moment = now.astimezone(UTC) if now.tzinfo else now
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    datestamp = moment.strftime("%Y%m%d")
    scope = f"{datestamp}/{region}/{service}/aws4_request"
    canonical_uri = _encode(path, safe="/-_.~")
    query = {
        "X-Amz-Algorithm": ALGORITHM,
        "X-Amz-Credential": f"{access_key_id}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(int(expires_seconds)),
        "X-Amz-SignedHeaders": "host",
    }
    canonical_query = "&".join(
        f"{_encode(name)}={_encode(value)}" for name, value in sorted(query.items())
    )
    canonical_request = "\n".join(
        [
            method.upper(),
            canonical_uri,
            canonical_query,
            f"host:{host}\n",
            "host",
            "UNSIGNED-PAYLOAD",
        ]
    )
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
    )
    signature = hmac.new(
        signing_key(secret_access_key, datestamp, region, service),
        string_to_sign.encode("utf-8"),
        hashlib.sha256,
    ).hexdigest()
    return f"https://{host}{canonical_uri}?{canonical_query}&X-Amz-Signature={signature}"
