"""Bearer authentication and scope checks, as FastAPI dependencies.

A caller is either the admin (the `ADMIN_TOKEN` secret; owner `DEFAULT_OWNER`, every scope,
sees every owner's keys), a managed API key (stored as a SHA-256 hash; its owner and
scopes come from the row) or, when `ACCESS_TEAM_DOMAIN` and `ACCESS_AUD` are set, a user
Cloudflare Access let through (`Cf-Access-Jwt-Assertion`, verified by access_jwt; owner the
token's email, scopes `ACCESS_SCOPES`). A bearer token, when present, always decides.
Handlers receive an `Identity` and must scope every query by `identity.owner`.

A missing or malformed `Authorization` header is a 401 everywhere. A well-formed bearer token
that is no key (unknown, revoked, not the admin token) is a 401 too, except where a dialect
documents otherwise: Craftr answers it 403 ("401 missing or invalid Authorization header,
403 invalid API key"), so its routes pass `invalid_key=forbidden_key`.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pixhaven.db import api_keys
from pixhaven.dependencies import env_of, settings_of
from pixhaven.errors import ApiError
from pixhaven.security.access_jwt import AccessDenied, verify
from pixhaven.security.scopes import ALL_SCOPES
from pixhaven.security.tokens import hash_key, same_secret
from pixhaven.timeutil import iso, parse_iso, utcnow

# Writing last_used_at on every request would turn every read into a D1 write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
log = logging.getLogger("pixhaven.auth")
ACCESS_HEADER = "cf-access-jwt-assertion"

# Only documentation: a dependency on it puts the bearer scheme into /openapi.json
# (components.securitySchemes, and `security` on the operation, which is what Swagger UI's
# "Authorize" fills in). It never refuses anything (auto_error=False); `identify` decides.
BEARER_SCHEME = HTTPBearer(
    scheme_name="bearer",
    description="The admin token (ADMIN_TOKEN) or an API key (POST /v1/keys, "
    "`pixhaven keys create`), as `Authorization: Bearer <token>`.",
    auto_error=False,
)
DocumentedBearer = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER_SCHEME)]


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
    return ApiError(
        401, "Unauthorized", details={"reason": reason}, headers={"WWW-Authenticate": "Bearer"}
    )


def forbidden_key(reason: str) -> ApiError:
    """Craftr's answer to a bearer token that is not a valid key."""
    return ApiError(403, "Forbidden", details={"reason": reason})


async def identify(
    request: Request, invalid_key: Callable[[str], ApiError] = unauthorized
) -> Identity:
    """The caller behind the request's bearer token (or, without one, its Cloudflare Access
    token when Access is configured), or a 401 ApiError (`invalid_key(reason)` for a bearer
    token that is no valid key)."""
    cached = getattr(request.state, "identity", None)
    if cached is not None:
        return cached
    token = bearer_token(request)
    settings = settings_of(request)
    if token is None:
        assertion = request.headers.get(ACCESS_HEADER, "").strip()
        if not settings.access_enabled:
            raise unauthorized("missing bearer token")
        if not assertion:
            raise unauthorized("missing bearer token or Cloudflare Access token")
        identity = await access_identity(assertion, settings)
    elif same_secret(token, settings.admin_token):
        identity = Identity(owner=settings.default_owner, scopes=ALL_SCOPES, is_admin=True)
    else:
        db = env_of(request).DB
        row = await api_keys.find_active_by_hash(db, hash_key(token))
        if row is None or not same_secret(hash_key(token), row["key_hash"]):
            raise invalid_key("unknown or revoked API key")
        identity = Identity(owner=row["owner"], scopes=frozenset(row["scopes"]), key_id=row["id"])
        now = utcnow()
        last = row["last_used_at"]
        if last is None or now - parse_iso(last) >= LAST_USED_RESOLUTION:
            await api_keys.touch(db, row["id"], iso(now))
    request.state.identity = identity
    return identity


async def access_identity(assertion: str, settings) -> Identity:
    try:
        verified = await verify(
            assertion, team_domain=settings.access_team_domain, audience=settings.access_aud
        )
    except AccessDenied as exc:
        raise unauthorized(f"Cloudflare Access token rejected: {exc.reason}") from None
    except Exception:  # a bug here must still be a 401, never a 500 or a way in
        log.exception("Cloudflare Access token verification failed")
        raise unauthorized("Cloudflare Access token rejected: it could not be verified") from None
    return Identity(owner=verified.owner, scopes=frozenset(settings.access_scopes) & ALL_SCOPES)


def require(scope: str, invalid_key: Callable[[str], ApiError] = unauthorized):
    """Dependency factory: the caller must be authenticated and hold `scope`; a bearer token
    that is no valid key is `invalid_key(reason)` (a 401 unless the dialect says otherwise)."""

    async def dependency(request: Request, _bearer: DocumentedBearer) -> Identity:
        identity = await identify(request, invalid_key)
        if not identity.has(scope):
            raise ApiError(403, "Forbidden", details={"required_scope": scope})
        return identity

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


async def authenticated(request: Request, _bearer: DocumentedBearer) -> Identity:
    """Dependency: any valid key or the admin token, whatever its scopes."""
    return await identify(request)
