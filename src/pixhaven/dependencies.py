"""What handlers get injected: the bindings (`env`) and the settings read from it.

`env` travels in the ASGI scope: the Workers ASGI adapter puts it at `scope["env"]`, and the
local server wraps the app so that it does the same. The app never asks where it runs.
"""

from typing import TYPE_CHECKING

from fastapi import Request

from pixhaven.settings import Settings, request_settings

if TYPE_CHECKING:
    # Never imported at runtime; FastAPI does not need the dependencies' return types.
    from pixhaven.bindings.env import Env


def env_of(request: Request) -> "Env":
    try:
        return request.scope["env"]
    except KeyError:
        raise RuntimeError(
            "no env in the ASGI scope: serve the app through src/entry.py or pixhaven.local"
        ) from None


def settings_of(request: Request) -> Settings:
    return request_settings(request.scope, env_of(request))


# `async def`: FastAPI runs a plain `def` dependency in a worker thread, two thread hops on
# every request for what is a dictionary lookup (a third of an object request's CPU time).
async def get_env(request: Request) -> "Env":
    return env_of(request)


async def get_settings(request: Request) -> Settings:
    return settings_of(request)


# Where `add_response_headers` keeps its headers in the request's state, for the middleware.
RESPONSE_HEADERS = "response_headers"


def add_response_headers(request: Request, headers: dict[str, str]) -> None:
    """Headers for the answer this request gets, whichever it is: a success, an error
    raised later, FastAPI's own 404 or 500 (pixhaven.middleware adds them; a header the
    answer sets itself wins). Pictify's `X-RateLimit-*` are given this way."""
    pending = request.scope.setdefault("state", {}).setdefault(RESPONSE_HEADERS, {})
    pending.update(headers)
