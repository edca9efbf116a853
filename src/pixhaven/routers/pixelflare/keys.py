"""PixelFlare API keys: `GET/POST /v1/keys`, `DELETE /v1/keys/{id}`.

A key sees only its owner's keys; the admin token sees all. A key may only grant scopes
it holds itself, so `keys:write` cannot be used to escalate.
"""

from fastapi import APIRouter

from pixhaven.errors import ApiError
from pixhaven.models.common import ERROR_RESPONSES, errors
from pixhaven.models.pixelflare import ApiKey, ApiKeyList, CreatedApiKey, CreateKeyRequest
from pixhaven.routers.requests import CanReadKeys, CanWriteKeys, EnvDep
from pixhaven.services import api_keys

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
    owner = None if identity.is_admin else identity.owner
    rows = await api_keys.list_keys(env.DB, owner)
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
    created = await api_keys.create_key(
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
    owner = None if identity.is_admin else identity.owner
    return _public(await api_keys.revoke_key(env.DB, key_id, owner))
