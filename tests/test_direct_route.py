"""`DirectRoute` (routers/direct_route.py), the route class of the public serving paths:
handlers get their path segments and the request without FastAPI's dependency solver,
keep their OpenAPI entry, and a handler it could not call faithfully is refused when the
route is declared."""

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi import Path as PathParam

from pixhaven.routers.direct_route import DirectRoute


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
