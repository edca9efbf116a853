"""Creating, listing and revoking managed API keys (HTTP `/v1/keys` and the CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pixhaven.db import api_keys as table
from pixhaven.errors import ApiError, invalid
from pixhaven.security.scopes import ALL_SCOPES
from pixhaven.security.tokens import display_prefix, hash_key, new_api_key, new_key_id
from pixhaven.timeutil import now_iso

if TYPE_CHECKING:
    from pixhaven.bindings.d1 import D1Database


def check_scopes(scopes: list[str], allowed: frozenset[str] = ALL_SCOPES) -> list[str]:
    """Deduplicate, keep order, and refuse unknown scopes or scopes the creator lacks."""
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        raise invalid(
            f"Unknown scope: {unknown[0]}",
            field="scopes",
            unknown=unknown,
            supported=sorted(ALL_SCOPES),
        )
    beyond = [s for s in scopes if s not in allowed]
    if beyond:
        raise ApiError(
            403,
            f"Cannot grant a scope you do not hold: {beyond[0]}",
            details={"field": "scopes", "not_held": beyond},
        )
    return list(dict.fromkeys(scopes))


async def create_key(
    db: D1Database,
    *,
    owner: str,
    name: str,
    scopes: list[str],
    allowed: frozenset[str] = ALL_SCOPES,
) -> dict:
    """Returns the key record *with* the plaintext key: the only time it is ever shown."""
    name = name.strip()
    if not name or len(name) > 100:
        raise invalid("Key name must be 1 to 100 characters", field="name")
    scopes = check_scopes(scopes, allowed)
    key = new_api_key()
    record: dict[str, Any] = {
        "id": new_key_id(),
        "owner": owner,
        "name": name,
        "key_prefix": display_prefix(key),
        "scopes": scopes,
        "created_at": now_iso(),
        "last_used_at": None,
        "revoked_at": None,
    }
    await table.insert(
        db,
        key_id=record["id"],
        owner=owner,
        name=name,
        key_hash=hash_key(key),
        key_prefix=record["key_prefix"],
        scopes=scopes,
        created_at=record["created_at"],
    )
    return {**record, "key": key}


async def list_keys(db: D1Database, owner: str | None) -> list[dict]:
    """The owner's keys, oldest first; `owner=None` (the admin) sees every key."""
    return await (table.list_all(db) if owner is None else table.list_for_owner(db, owner))


async def revoke_key(db: D1Database, key_id: str, owner: str | None) -> dict:
    """Revoke a key the owner holds (`owner=None`: any key) and return it as it now is;
    404 if there is no such key for them. Revoking a revoked key changes nothing."""
    if await table.get_for_owner(db, key_id, owner) is None:
        raise ApiError(404, "API key not found", details={"key_id": key_id})
    await table.revoke(db, key_id)
    revoked = await table.get_for_owner(db, key_id, owner)
    assert revoked is not None  # it was there a statement ago; keys are never deleted
    return revoked
