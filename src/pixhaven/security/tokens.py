"""API key material: generation, hashing and constant-time comparison.

Randomness is drawn only when a key is created, never at import time (Workers memory
snapshots forbid it).
"""

import hashlib
import hmac
import secrets

KEY_PREFIX = "pxf_"


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_key_id() -> str:
    return "key_" + secrets.token_hex(12)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def display_prefix(key: str) -> str:
    """Enough of a key to recognise it in a list, too little to guess the rest."""
    return key[: len(KEY_PREFIX) + 6]


def same_secret(given: str, expected: str) -> bool:
    """Constant-time equality for secrets of any length (compares digests)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(hash_key(given), hash_key(expected))
