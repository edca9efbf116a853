"""The Workers AI binding (`env.AI`), as the Workers Python SDK exposes it
(docs/BINDINGS.md, "Workers AI").

Types only: import under `if TYPE_CHECKING:`. The local stand-ins in
`pixhaven.local.bindings.ai` (`RestAi`, `OfflineImageModel`) satisfy `Ai`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

from pixhaven.bindings.js import JsObject


class Ai(Protocol):
    def run(self, model: str, inputs: JsObject, /) -> Awaitable[Any]:
        """Run `model` on `inputs`. What comes back depends on the model: text-to-image
        FLUX models answer `{"image": "<base64>"}` (a `JsDict`), Stable Diffusion models a
        `ReadableStream` of the image. Failures raise an exception whose text starts with
        `AiError:` and carries Workers AI's code (3007 is a timeout; the local REST client
        raises `TimeoutError`)."""
