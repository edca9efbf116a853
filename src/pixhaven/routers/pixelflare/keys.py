"""PixelFlare API keys: `GET/POST /v1/keys`, `DELETE /v1/keys/{id}`.

A key sees only its owner's keys; the admin token sees all. A key may only grant scopes
it holds itself, so `keys:write` cannot be used to escalate.
"""

from fastapi import APIRouter

from pixhaven.db import api_keys as table
from pixhaven.errors import ApiError
from pixhaven.models.common import ERROR_RESPONSES, errors
from pixhaven.models.pixelflare import ApiKey, ApiKeyList, CreatedApiKey, CreateKeyRequest
from pixhaven.routers.requests import CanReadKeys, CanWriteKeys, EnvDep
from pixhaven.services.api_keys import create_key

router = APIRouter(prefix="/v1/keys", tags=["PixelFlare"], responses=ERROR_RESPONSES)


def _public(row: dict) -> dict:
    return {
        "id": row["id"],
        "name": row["name"],
        "owner": row["owner"],
        "prefix": row["key_prefix"],
        "scopes": row["scopes"],
        "created_at": row["created_at"],
        "last_used_at": row["last_used_at"],
        "revoked_at": row["revoked_at"],
    }


@router.get("", response_model=ApiKeyList, summary="List API keys")
async def list_keys(identity: CanReadKeys, env: EnvDep):
    db = env.DB
    rows = await (
        table.list_all(db) if identity.is_admin else table.list_for_owner(db, identity.owner)
    )
    return {"data": [_public(row) for row in rows]}


@router.post(
    "",
    status_code=201,
    response_model=CreatedApiKey,
    summary="Create an API key (the key is shown only once)",
    responses=errors(
        403,
        e403="The key lacks keys:write, grants a scope it does not hold, or names another owner",
    ),
)
async def create(body: CreateKeyRequest, identity: CanWriteKeys, env: EnvDep):
    if body.owner is not None and not identity.is_admin and body.owner != identity.owner:
        raise ApiError(
            403,
            "Only the admin token can create keys for another owner",
            details={"field": "owner"},
        )
    created = await create_key(
        env.DB,
        owner=body.owner or identity.owner,
        name=body.name,
        scopes=body.scopes,
        allowed=identity.scopes,
    )
    return {
        field: created[field] for field in ("id", "name", "key", "scopes", "owner", "created_at")
    }


@router.delete(
    "/{key_id}",
    response_model=ApiKey,
    summary="Revoke an API key",
    responses=errors(404, e404="No such key (or not the caller's)"),
)
async def revoke(key_id: str, identity: CanWriteKeys, env: EnvDep):
    db = env.DB
    owner = None if identity.is_admin else identity.owner
    row = await table.get_for_owner(db, key_id, owner)
    if row is None:
        raise ApiError(404, "API key not found", details={"key_id": key_id})
    await table.revoke(db, key_id)
    return _public(await table.get_for_owner(db, key_id, owner))
