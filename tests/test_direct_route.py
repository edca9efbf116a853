"""`DirectRoute` (routers/direct_route.py), the route class of the public serving paths:
handlers get their path segments and the request without FastAPI's dependency solver,
keep their OpenAPI entry, and a handler it could not call faithfully is refused when the
route is declared."""

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi import Path as PathParam

from pixhaven.routers.direct_route import DirectRoute, DirectRoutesFirst


def app_with(router: APIRouter) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    return app


async def test_handler_gets_its_path_segments_and_the_request():
    router = APIRouter(route_class=DirectRoute)

    @router.get("/files/{owner}/{path:path}", summary="A file")
    async def file(owner: str, path: Annotated[str, PathParam()], request: Request):
        return Response(f"{owner}|{path}|{request.method}", media_type="text/plain")

    app = app_with(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        answer = await client.get("/files/ana/a/b%20c.jpg")
        assert answer.status_code == 200
        assert answer.text == "ana|a/b c.jpg|GET"
        schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/files/{owner}/{path}"]["get"]
    assert operation["summary"] == "A file"
    assert {p["name"] for p in operation["parameters"]} == {"owner", "path"}


async def test_handler_answering_something_else_than_a_response_is_an_error():
    router = APIRouter(route_class=DirectRoute)

    @router.get("/x")
    async def x():
        return {"not": "a response"}

    transport = httpx.ASGITransport(app=app_with(router))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with pytest.raises(TypeError, match="not a Response"):
            await client.get("/x")


def test_a_query_parameter_is_refused_when_declared():
    router = APIRouter(route_class=DirectRoute)
    with pytest.raises(TypeError, match="'limit' is neither"):

        @router.get("/items")
        async def items(limit: Annotated[int, Query()] = 10):
            return Response()


def test_a_path_segment_typed_other_than_str_is_refused():
    router = APIRouter(route_class=DirectRoute)
    with pytest.raises(TypeError, match="'number' is neither"):

        @router.get("/items/{number}")
        async def item(number: int):
            return Response()


def test_a_plain_def_handler_is_refused():
    router = APIRouter(route_class=DirectRoute)
    with pytest.raises(TypeError, match="async def"):

        @router.get("/items/{name}")
        def item(name: str):
            return Response()


# -- DirectRoutesFirst: a router's DirectRoutes answered ahead of FastAPI's routing ----------


class Refused(Exception):
    pass


def app_answering_first(router: APIRouter) -> FastAPI:
    """An app whose first router is also answered ahead of FastAPI, as create_app() does
    with the public objects router; a second, ordinary route comes after it."""
    app = app_with(router)

    @app.get("/health")
    async def health():
        return {"ok": True}

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        return Response(f"refused: {exc}", status_code=403, media_type="text/plain")

    app.add_middleware(
        DirectRoutesFirst, routes=router.routes, exception_handlers=app.exception_handlers
    )
    return app


def objects_router() -> APIRouter:
    router = APIRouter(route_class=DirectRoute)

    @router.head("/objects/{key:path}")
    @router.get("/objects/{key:path}")
    async def get_object(key: str, request: Request):
        if key == "secret":
            raise Refused(key)
        if key == "broken":
            raise RuntimeError("no handler for this")
        return Response(f"{request.method} {key}", media_type="text/plain")

    return router


async def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_routes_answered_first_get_their_handler_and_the_app_keeps_the_rest():
    async with await client_of(app_answering_first(objects_router())) as client:
        answer = await client.get("/objects/a/b%20c.jpg")
        assert (answer.status_code, answer.text) == (200, "GET a/b c.jpg")
        head = await client.head("/objects/a.jpg")
        assert head.status_code == 200 and head.headers["content-type"].startswith("text/plain")
        assert (await client.get("/health")).json() == {"ok": True}
        # Matched path, wrong method: FastAPI answers it, as it would without the lane.
        assert (await client.post("/objects/a.jpg")).status_code == 405


async def test_an_error_is_answered_by_the_apps_exception_handler():
    async with await client_of(app_answering_first(objects_router())) as client:
        answer = await client.get("/objects/secret")
    assert (answer.status_code, answer.text) == (403, "refused: secret")


async def test_an_exception_no_handler_takes_goes_on_to_the_middleware_outside():
    transport = httpx.ASGITransport(app=app_answering_first(objects_router()))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with pytest.raises(RuntimeError, match="no handler for this"):
            await client.get("/objects/broken")


def test_only_direct_routes_are_answered_first():
    router = APIRouter()

    @router.get("/plain")
    async def plain():
        return {}

    app = app_with(router)
    with pytest.raises(TypeError, match="only DirectRoutes"):
        DirectRoutesFirst(app, router.routes, app.exception_handlers)
