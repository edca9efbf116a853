"""A do-nothing ASGI app, for bench/serving.py: it answers every request with the headers
of a real Pixhaven `X-Accel-Redirect` answer (FLOOR_HEADERS, a JSON list of name-value
pairs) and checks nothing.

Run by uvicorn as `pixhaven dev` runs it (uvloop, httptools, no access log) behind README's
nginx block, it measures the floor of any Python app behind X-Accel-Redirect on the bench's
machine: nginx's proxy hop, uvicorn and the file nginx sends, before an app does anything.
Pixhaven's own figure sits between this one and nginx alone.
"""

import json
import os

HEADERS = [
    (name.encode("latin-1"), value.encode("latin-1"))
    for name, value in json.loads(os.environ["FLOOR_HEADERS"])
]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": b""})
