"""Bearer authentication and scope checks, as FastAPI dependencies.

A caller is either the admin (the `ADMIN_TOKEN` secret; owner `DEFAULT_OWNER`, every scope,
sees every owner's keys) or a managed API key (stored as a SHA-256 hash; its owner and
scopes come from the row). Handlers receive an `Identity` and must scope every query by
`identity.owner`.
"""

from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request

from ..db import api_keys
from ..dependencies import env_of, settings_of
from ..errors import ApiError
from ..timeutil import iso, parse_iso, utcnow
from .scopes import ALL_SCOPES
from .tokens import hash_key, same_secret

# Writing last_used_at on every request would turn every read into a D1 write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Identity:
    owner: str
    scopes: frozenset[str]
    key_id: str | None = None
    is_admin: bool = False

    def has(self, scope: str) -> bool:
        return scope in self.scopes


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def unauthorized(reason: str) -> ApiError:
    return ApiError(401, "Unauthorized", details={"reason": reason},
                    headers={"WWW-Authenticate": "Bearer"})


async def identify(request: Request) -> Identity:
    """The caller behind the request's bearer token, or a 401 ApiError."""
    cached = getattr(request.state, "identity", None)
    if cached is not None:
        return cached
    token = bearer_token(request)
    if token is None:
        raise unauthorized("missing bearer token")
    settings = settings_of(request)
    if same_secret(token, settings.admin_token):
        identity = Identity(owner=settings.default_owner, scopes=ALL_SCOPES, is_admin=True)
    else:
        db = env_of(request).DB
        row = await api_keys.find_active_by_hash(db, hash_key(token))
        if row is None or not same_secret(hash_key(token), row["key_hash"]):
            raise unauthorized("unknown or revoked API key")
        identity = Identity(owner=row["owner"], scopes=frozenset(row["scopes"]), key_id=row["id"])
        now = utcnow()
        last = row["last_used_at"]
        if last is None or now - parse_iso(last) >= LAST_USED_RESOLUTION:
            await api_keys.touch(db, row["id"], iso(now))
    request.state.identity = identity
    return identity


def require(scope: str):
    """Dependency factory: the caller must be authenticated and hold `scope`."""

    async def dependency(request: Request) -> Identity:
        identity = await identify(request)
        if not identity.has(scope):
            raise ApiError(403, "Forbidden", details={"required_scope": scope})
        return identity

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


async def authenticated(request: Request) -> Identity:
    """Dependency: any valid key or the admin token, whatever its scopes."""
    return await identify(request)
