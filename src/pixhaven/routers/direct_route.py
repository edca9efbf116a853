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
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, get_type_hints

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from pixhaven.dependencies import env_of, settings_of

# The app's exception handlers: an exception type (or status code) to its handler.
ExceptionHandlers = Mapping[Any, Callable[..., Any]]

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


class DirectRoutesFirst:
    """ASGI middleware that matches a router's `DirectRoute`s itself and answers them
    without FastAPI's routing machinery; every other request goes on to FastAPI.

    For the app's first router (the public objects, `/r2/…`), whose routes FastAPI would
    try first anyway, so no route's precedence changes. Behind nginx with X-Accel-Redirect
    Pixhaven's whole part of a request is a check and a few headers, and FastAPI's router,
    its per-route request/response wrapper and its exception middleware were a quarter of
    that. What stays the same: the match (each route's own `matches`, root path and
    methods included; no full match falls through, so FastAPI answers a wrong method as
    before), the handler (the route's own, as `DirectRoute` builds it) and the errors (the
    app's exception handlers, looked up as Starlette does; an exception none handles goes
    on to the middleware outside, as from FastAPI).
    """

    def __init__(
        self, app: ASGIApp, routes: Sequence[BaseRoute], exception_handlers: ExceptionHandlers
    ) -> None:
        self.app = app
        self.exception_handlers = exception_handlers
        self.routes: list[tuple[DirectRoute, Callable[[Request], Awaitable[Response]]]] = []
        for route in routes:
            if not isinstance(route, DirectRoute):
                raise TypeError(f"{route!r}: only DirectRoutes are answered ahead of FastAPI")
            self.routes.append((route, route.get_route_handler()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method = scope["method"]
            for route, handler in self.routes:
                if route.methods is not None and method not in route.methods:
                    continue  # a partial match at best: FastAPI's to answer
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    await self._answer(handler, Request(scope, receive), send)
                    return
        await self.app(scope, receive, send)

    async def _answer(
        self, handler: Callable[[Request], Awaitable[Response]], request: Request, send: Send
    ) -> None:
        try:
            response = await handler(request)
        except Exception as exc:
            on_error = self._handler_for(exc)
            if on_error is None:
                raise
            response = on_error(request, exc)
            if inspect.isawaitable(response):
                response = await response
        await response(request.scope, request.receive, send)

    def _handler_for(self, exc: Exception) -> Callable[..., Any] | None:
        for kind in type(exc).__mro__:
            # Starlette gives `Exception`'s handler to its outermost middleware, outside
            # ours: such an exception goes on as it would from FastAPI.
            if kind is not Exception and kind in self.exception_handlers:
                return self.exception_handlers[kind]
        return None
