"""Pictify's answers: the `200` of a stored render as its OpenAPI declares it
(`ANSWER`, shared by `POST /image` and `POST /templates/{uid}/render`, beside the request
`POST /image` documents, `GENERATE_BODY`), and the JSON answer of every replayable POST
(`answer`), which says when it is a replay."""

from fastapi.responses import JSONResponse

from pixhaven.models.common import errors, request_body
from pixhaven.models.pictify import IDEMPOTENCY_KEY, GenerateImageBody

GENERATE_BODY = {**request_body(GenerateImageBody), "parameters": [IDEMPOTENCY_KEY]}
ANSWER = {
    200: {
        "description": "Rendered and stored",
        "content": {
            "application/json": {
                "example": {
                    "url": "https://pixhaven.example/r2/images/landscape/…png",
                    "id": "0b6c…",
                    "createdAt": "2024-01-15T10:30:00.000Z",
                    "width": 1200,
                    "height": 630,
                    "format": "png",
                }
            }
        },
    },
    **errors(
        404,
        409,
        413,
        422,
        503,
        e404="No such template (for this owner)",
        e409="A request with this Idempotency-Key is still running",
        e413="A remote image is too large",
        e422="A refused remote image, or an Idempotency-Key reused with another request",
        e503="Fonts are not installed in the bucket",
    ),
}


def answer(status: int, body: dict, replayed: bool) -> JSONResponse:
    """`body` with `status`; a replayed answer carries `Idempotent-Replayed: true`."""
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(body, status_code=status, headers=headers)
