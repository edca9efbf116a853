"""Request bodies read as the app asks for them on Workers, not all at once before it runs.

The SDK's ASGI adapter (`workers.asgi.fetch`) reads the whole request body into Python bytes
before it calls the app (`async for data in req.body`, every chunk queued). An upload then
sits in the isolate's memory twice over (the queued chunks, then the file the app reads),
and a Worker isolate has 128 MB. So the entry hands the adapter a copy of the request
without its body (`without_body`) and the app a `receive` that pulls the body from the
original JS stream one chunk at a time (`reading_body_from`): a chunk is in Python memory
only until the app's reader (multipart parser, JSON reader, size limit) has taken it.

Only the Worker entry uses this (src/entry.py); locally uvicorn already streams `receive`.
`js` exists only inside Pyodide, so it is imported when a request comes, never at import.
"""

from __future__ import annotations

from typing import Any

from pixhaven.interop import as_bytes


def without_body(request: Any) -> Any:
    """A JS `Request` with `request`'s URL, method and headers and no body: what the SDK's
    adapter gets, so it has nothing to read ahead. `request` is the SDK's `workers.Request`
    (or a JS Request)."""
    import js  # type: ignore[import-not-found]  # Pyodide only

    original = getattr(request, "js_object", request)
    return js.Request.new(original.url, method=original.method, headers=original.headers)


def body_stream(request: Any) -> Any:
    """The JS `ReadableStream` of the request's body, or None (GET, HEAD, no body)."""
    original = getattr(request, "js_object", request)
    return original.body or None


def reading_body_from(app: Any, stream: Any) -> Any:
    """`app` with a `receive` that takes the request body from the JS `stream` chunk by
    chunk (`http.request` messages, `more_body` until the stream ends). After the body, the
    adapter's own `receive` answers: it reports the disconnect when the response is done."""
    if stream is None:
        return app

    async def app_with_body(scope, receive, send):
        if scope["type"] != "http":  # the adapter's lifespan events
            return await app(scope, receive, send)
        reader = stream.getReader()
        finished = False

        async def receive_body():
            nonlocal finished
            if finished:
                return await receive()
            chunk = await reader.read()
            if chunk.done:
                finished = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": as_bytes(chunk.value), "more_body": True}

        try:
            await app(scope, receive_body, send)
        finally:
            if not finished:  # the app answered without reading it all (e.g. a 413)
                await reader.cancel()

    return app_with_body
