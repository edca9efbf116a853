"""`DirectRoute`: the route class of the public serving paths (`/r2/…`, `/cdn-cgi/image/…`,
PixelFlare's CDN paths), the most requested URLs and the ones measured against static
file servers.

Their handlers take nothing but path segments (strings), the request, `env` and the
settings. FastAPI's dependency solver still answers them generically: it builds a
dependency tree per call, validates each string, and awaits three dependency functions,
about a fifth of an object request's CPU time. A `DirectRoute` passes the same values
straight to the handler: path parameters as Starlette matched them, `env` and settings
read as `get_env` and `get_settings` read them. Everything else about the route stays
FastAPI's: its OpenAPI entry (built from the same signature), the exception handlers that
turn `ApiError` into the answer, and the app's middleware.

A handler that asks for anything else (a query model, a body, an identity, a path segment
typed other than `str`) would be called without it or with the wrong type: that is refused
when the route is declared, not at request time. The handler answers a `Response` itself.
"""

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, get_type_hints

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.routing import compile_path

from pixhaven.dependencies import env_of, settings_of

INJECTED = {
    "request": lambda request: request,
    "env": env_of,
    "settings": settings_of,
}


class DirectRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # Before APIRoute's own __init__, which builds the handler.
        path_names = set(compile_path(path)[2])
        types = get_type_hints(endpoint)
        injected: list[tuple[str, Callable[[Request], Any]]] = []
        for name in inspect.signature(endpoint).parameters:
            if name in INJECTED:
                injected.append((name, INJECTED[name]))
            elif name not in path_names or types.get(name) is not str:
                raise TypeError(
                    f"{endpoint.__name__}: a DirectRoute handler takes only path parameters"
                    f" typed str and {', '.join(INJECTED)}; {name!r} is neither"
                )
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{endpoint.__name__}: a DirectRoute handler must be async def")
        self._injected = tuple(injected)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint, injected = self.endpoint, self._injected

        async def handle(request: Request) -> Response:
            arguments = dict(request.path_params)
            for name, read in injected:
                arguments[name] = read(request)
            answer = await endpoint(**arguments)
            if not isinstance(answer, Response):
                raise TypeError(
                    f"{endpoint.__name__} answered {type(answer).__name__}, not a Response"
                )
            return answer

        return handle
