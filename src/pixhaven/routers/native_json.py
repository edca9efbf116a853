"""`NativeJSONResponse`: an answer that is already JSON-native data (dicts, lists, strings,
numbers, booleans, None), encoded as it is.

A route that returns a dict has FastAPI walk it with `jsonable_encoder` before encoding it:
for an image list page that walk (about 1,800 recursive calls) was 55% of the request, and
it converted nothing, since the routes build plain JSON values from database rows. A route
that returns this response skips the walk; FastAPI also skips `response_model` validation
for a returned Response, so the shapes are documented with `models.common.answer(...)`, and
tests/test_json_answers.py checks each such route's answer against its /openapi.json schema.

The bytes are those the walk-then-encode path sent (Starlette's JSONResponse: compact
separators, UTF-8, no NaN); only `check_circular` is off, as the data is built fresh per
request and cannot hold a cycle.
"""

import json
from typing import Any

from fastapi.responses import JSONResponse


class NativeJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(
            content,
            ensure_ascii=False,
            allow_nan=False,
            check_circular=False,
            indent=None,
            separators=(",", ":"),
        ).encode("utf-8")
