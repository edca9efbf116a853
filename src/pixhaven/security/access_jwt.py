"""Cloudflare Access application tokens (`Cf-Access-Jwt-Assertion`), verified in pure Python.

When an application sits behind Cloudflare Access, Access adds a signed JWT to every request
it lets through. Anyone can send that header, so it counts only once verified:

- the token is a compact JWS (`header.payload.signature`, base64url without padding) whose
  header says `alg: RS256` (nothing else: no `none`, no HMAC, no `crit` extensions) and names
  a `kid`;
- the key is the one with that `kid` in the team's JWKS,
  `https://{ACCESS_TEAM_DOMAIN}/cdn-cgi/access/certs` (`{"keys": [{"kid", "kty": "RSA",
  "alg": "RS256", "use": "sig", "n", "e"}, ...], "public_cert": ..., "public_certs": ...}`:
  Access keeps the current and the previous key there and rotates every 6 weeks). It is
  fetched through net/fetch.py (the SSRF rules, a size limit and a deadline),
  cached per isolate for `JWKS_TTL` seconds, and fetched again when a token names a `kid`
  the cache lacks — at most once per `REFETCH_MIN_SECONDS`, so made-up key ids cannot turn
  into a stream of requests to Cloudflare;
- the signature is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.2): `pow(s, e, n)` and a
  constant-time comparison with the whole expected EMSA-PKCS1-v1_5 encoding
  (`00 01 FF.. 00 DigestInfo(SHA-256) hash`), so no parsing of attacker-shaped padding;
- the claims: `aud` (a string or a list) contains `ACCESS_AUD`, `iss` is
  `https://{ACCESS_TEAM_DOMAIN}`, `exp` is required, and `exp`, `nbf` and `iat` are checked
  with `LEEWAY_SECONDS` of clock skew.

Every failure is an `AccessDenied` with a short reason; auth.py turns it into a 401. Nothing
here runs at import time; `clock` is the time source (tests replace it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Literal, overload

ALGORITHM = "RS256"
LEEWAY_SECONDS = 60
JWKS_TTL = 3600.0
REFETCH_MIN_SECONDS = 30.0
JWKS_MAX_BYTES = 64 * 1024
JWKS_TIMEOUT = 5.0
MAX_TOKEN_CHARS = 16 * 1024
MIN_MODULUS_BITS = 2048
MAX_MODULUS_BITS = 8192
# DER of DigestInfo{AlgorithmIdentifier{id-sha256, NULL}, OCTET STRING(32)} (RFC 8017 §9.2).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")

_B64URL = re.compile(r"[A-Za-z0-9_-]*")

clock = time.time  # tests replace it


class AccessDenied(Exception):
    """The Access token is not acceptable; `reason` is safe to show to the caller."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RsaPublicKey:
    n: int
    e: int

    @property
    def size(self) -> int:
        return (self.n.bit_length() + 7) // 8


@dataclass(frozen=True)
class AccessClaims:
    owner: str  # `email`, else `sub`, else `common_name` (service tokens)
    claims: dict


# -- encoding --------------------------------------------------------------------------------


def b64url_decode(text: object) -> bytes:
    """Unpadded base64url (RFC 7515 §2), strictly: other characters or padding are refused."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def b64url_int(text: object) -> int:
    raw = b64url_decode(text)
    if not raw:
        raise ValueError("empty integer")
    return int.from_bytes(raw, "big")


# -- RSASSA-PKCS1-v1_5 with SHA-256 ----------------------------------------------------------


def emsa_pkcs1_v15_sha256(message: bytes, size: int) -> bytes:
    """The EMSA-PKCS1-v1_5 encoding of SHA-256(message) in `size` bytes (RFC 8017 §9.2)."""
    digest_info = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    padding = size - len(digest_info) - 3
    if padding < 8:
        raise ValueError("RSA modulus too short")
    return b"\x00\x01" + b"\xff" * padding + b"\x00" + digest_info


def rsa_pkcs1_sha256_verify(key: RsaPublicKey, message: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5-VERIFY (RFC 8017 §8.2.2) with SHA-256."""
    size = key.size
    if len(signature) != size:
        return False
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        return False
    encoded = pow(s, key.e, key.n).to_bytes(size, "big")
    try:
        expected = emsa_pkcs1_v15_sha256(message, size)
    except ValueError:
        return False
    return hmac.compare_digest(encoded, expected)


# -- the JWKS ----------------------------------------------------------------------------------


def parse_jwks(document: object) -> dict[str, RsaPublicKey]:
    """The usable RS256 signing keys of a JWKS, by `kid`; unusable entries are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("no keys[] in the JWKS")
    keys: dict[str, RsaPublicKey] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        if entry.get("alg", ALGORITHM) != ALGORITHM or entry.get("use", "sig") != "sig":
            continue
        try:
            n, e = b64url_int(entry.get("n")), b64url_int(entry.get("e"))
        except ValueError:
            continue
        if not MIN_MODULUS_BITS <= n.bit_length() <= MAX_MODULUS_BITS:
            continue
        if e < 3 or e % 2 == 0 or e.bit_length() > 32:
            continue
        keys[kid] = RsaPublicKey(n=n, e=e)
    return keys


@dataclass
class _KeySet:
    keys: dict[str, RsaPublicKey]
    fetched_at: float


_cache: dict[str, _KeySet] = {}  # per isolate / process, by certs URL


def clear_cache() -> None:
    _cache.clear()


def certs_url(team_domain: str) -> str:
    return f"https://{team_domain}/cdn-cgi/access/certs"


async def _download(url: str) -> dict[str, RsaPublicKey]:
    from pixhaven.net import fetch as remote_fetch
    from pixhaven.net.errors import RemoteFetchError

    try:
        fetched = await remote_fetch.fetch(
            url,
            max_bytes=JWKS_MAX_BYTES,
            timeout=JWKS_TIMEOUT,
            max_redirects=0,
            accept="application/json",
        )
        keys = parse_jwks(json.loads(fetched.body))
    except (RemoteFetchError, ValueError):  # JSONDecodeError is a ValueError
        raise AccessDenied("the Access signing keys could not be fetched") from None
    if not keys:
        raise AccessDenied("the Access signing keys could not be fetched")
    return keys


async def _refresh(url: str) -> _KeySet:
    keys = await _download(url)
    entry = _cache[url] = _KeySet(keys=keys, fetched_at=clock())
    return entry


async def signing_key(team_domain: str, kid: str) -> RsaPublicKey:
    """The team's key named `kid`: from the cache, or fetched (see the module docstring)."""
    url = certs_url(team_domain)
    entry = _cache.get(url)
    if entry is None or clock() - entry.fetched_at >= JWKS_TTL:
        entry = await _refresh(url)
    key = entry.keys.get(kid)
    if key is None and clock() - entry.fetched_at >= REFETCH_MIN_SECONDS:
        entry = await _refresh(url)  # rotated since we last looked?
        key = entry.keys.get(kid)
    if key is None:
        raise AccessDenied("the token was signed with an unknown key")
    return key


# -- the token -------------------------------------------------------------------------------


def _json_object(segment: str, what: str) -> dict:
    try:
        value = json.loads(b64url_decode(segment))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise AccessDenied(f"malformed token {what}") from None
    if not isinstance(value, dict):
        raise AccessDenied(f"malformed token {what}")
    return value


@overload
def _number(claims: dict, name: str, required: Literal[True]) -> float: ...
@overload
def _number(claims: dict, name: str, required: bool = False) -> float | None: ...
def _number(claims: dict, name: str, required: bool = False) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise AccessDenied(f"the token's {name} claim is missing or not a number")
    return value


def check_claims(claims: dict, *, team_domain: str, audience: str, now: float) -> str:
    """The owner (`email`, else `sub`, else `common_name`) if the claims are acceptable,
    else AccessDenied."""
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(
        isinstance(a, str) and hmac.compare_digest(a.encode(), audience.encode()) for a in audiences
    ):
        raise AccessDenied("the token is for another audience")
    if claims.get("iss") != f"https://{team_domain}":
        raise AccessDenied("the token has another issuer")
    expires = _number(claims, "exp", required=True)
    if now > expires + LEEWAY_SECONDS:
        raise AccessDenied("the token has expired")
    not_before = _number(claims, "nbf")
    if not_before is not None and now + LEEWAY_SECONDS < not_before:
        raise AccessDenied("the token is not valid yet")
    issued = _number(claims, "iat")
    if issued is not None and now + LEEWAY_SECONDS < issued:
        raise AccessDenied("the token was issued in the future")
    # Users carry `email`; service tokens carry an empty `sub` and their client id in
    # `common_name`.
    for name in ("email", "sub", "common_name"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    raise AccessDenied("the token names no user (no email, sub or common_name)")


async def verify(token: str, *, team_domain: str, audience: str) -> AccessClaims:
    """Verify an Access token for this team and application, or raise AccessDenied."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise AccessDenied("malformed token")
    parts = token.split(".")
    if len(parts) != 3:
        raise AccessDenied("malformed token")
    header_b64, payload_b64, signature_b64 = parts
    header = _json_object(header_b64, "header")
    if header.get("alg") != ALGORITHM:
        raise AccessDenied("unsupported token algorithm (only RS256)")
    if "crit" in header:
        raise AccessDenied("unsupported critical token header")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise AccessDenied("the token names no key (kid)")
    claims = _json_object(payload_b64, "payload")
    try:
        signature = b64url_decode(signature_b64)
    except ValueError:
        raise AccessDenied("malformed token signature") from None
    key = await signing_key(team_domain, kid)
    signed = f"{header_b64}.{payload_b64}".encode("ascii")
    if not rsa_pkcs1_sha256_verify(key, signed, signature):
        raise AccessDenied("invalid token signature")
    owner = check_claims(claims, team_domain=team_domain, audience=audience, now=clock())
    return AccessClaims(owner=owner, claims=claims)
