"""Pictify's rate limits on every one of its routes (a dependency of each Pictify router,
routers/pictify/__init__.py): the caller's request counted per API key (per owner for the
admin token and Access users), `X-RateLimit-*` on whatever the request is answered, and 429
past `PICTIFY_RATE_PER_MINUTE` or `PICTIFY_DAILY_LIMIT` (services/rate_limits.py).

A request without a valid key is not counted and gets no such headers: there is no key to
count it against, and the route's own scope check answers it (401).
"""

from fastapi import Request

from pixhaven.dependencies import add_response_headers
from pixhaven.errors import ApiError
from pixhaven.routers.requests import EnvDep, SettingsDep
from pixhaven.security.auth import identify
from pixhaven.services import rate_limits


async def pictify_rate_limit(request: Request, env: EnvDep, settings: SettingsDep) -> None:
    try:
        # The route's own scope check finds the caller cached on the request: one lookup.
        identity = await identify(request)
    except ApiError:
        return
    subject = f"key:{identity.key_id}" if identity.key_id else f"owner:{identity.owner}"
    state = await rate_limits.count_request(
        env, subject, settings.pictify_rate_per_minute, settings.pictify_daily_limit
    )
    if state is None:
        return
    add_response_headers(request, state.headers())
    if state.exhausted:
        raise state.refusal()
