"""Pictify `POST /image/agent-screenshot {prompt}`: an instruction model (`env.AI`, the
`AI_INSTRUCTION_MODEL` setting) reads the prompt and answers which page and which element
to capture, `{url, selector, elementDescription}`; the browser binding screenshots it (the
URL passes the binding's outbound rules like any other) and it is stored like `POST
/image`'s, with `metadata {prompt, url, elementDescription, selector, executionTime}`.

The model's answer is data, checked strictly before anything is fetched (`plan_of`): an
http(s) URL with a host and no credentials, a CSS selector of at most MAX_SELECTOR
characters (or null: the whole viewport). Without an instruction model (the setting is
empty, the model does not exist, or the local offline stand-in, which only draws images,
answers) the route is 503 AI_MODEL_NOT_AVAILABLE saying what to configure.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pixhaven.errors import ApiError
from pixhaven.services.jobs import webhooks
from pixhaven.services.rendering import browser
from pixhaven.services.rendering.html import bad, screenshot_request
from pixhaven.services.rendering.store import store_image_render

if TYPE_CHECKING:
    from pixhaven.bindings.env import Env
    from pixhaven.settings import Settings

MAX_PROMPT = 2000
MAX_URL = 2048
MAX_SELECTOR = 200
MAX_DESCRIPTION = 500
MODEL_TIMEOUT_SECONDS = 60
# Characters a selector never needs (`>` stays: it is the child combinator).
NOT_IN_SELECTORS = set("{};<\\`") | {chr(code) for code in range(32)} | {"\x7f"}
HINT = (
    "Screenshots from a prompt need an instruction (text) model: set AI_INSTRUCTION_MODEL "
    "to a Workers AI text-generation model (e.g. @cf/meta/llama-3.1-8b-instruct); locally, "
    "also set CLOUDFLARE_ACCOUNT_ID and the CLOUDFLARE_API_TOKEN secret so env.AI reaches "
    "Workers AI (the offline stand-in draws images only)."
)
INSTRUCTION = (
    "You turn a request for a screenshot of a web page into JSON. Answer with one JSON "
    'object and nothing else: {"url": "<the page\'s absolute http(s) URL>", "selector": '
    '"<a CSS selector for the element to capture, or null for the whole visible page>", '
    '"elementDescription": "<a few words naming the element>"}. Use the site\'s real '
    "address (https://, with www. where the site uses it); prefer simple selectors such "
    "as ids, tags and classes."
)


def model_unavailable(reason: str) -> ApiError:
    return ApiError(
        503, HINT, code="AI_MODEL_NOT_AVAILABLE", details={"hint": HINT, "reason": reason[:300]}
    )


def bad_answer(reason: str) -> ApiError:
    return ApiError(
        502,
        f"The instruction model's answer is not usable: {reason}",
        code="AI_BAD_ANSWER",
        details={"reason": reason},
    )


def _answer_text(result: Any) -> Any:
    """Workers AI text generation answers `{"response": text}` (or, in JSON mode, the
    object itself as `response`)."""
    if isinstance(result, str):
        return result
    response = result.get("response") if hasattr(result, "get") else None
    if response is None:
        raise bad_answer("no `response` in the model's answer")
    return response


def plan_of(answer: Any) -> dict[str, Any]:
    """The model's answer (text holding one JSON object, or the object) checked:
    `{url, selector (str or None), elementDescription}`. Anything else is AI_BAD_ANSWER."""
    if isinstance(answer, str):
        start, end = answer.find("{"), answer.rfind("}")
        if start < 0 or end < start:
            raise bad_answer("no JSON object in it")
        try:
            answer = json.loads(answer[start : end + 1])
        except ValueError:
            raise bad_answer("its JSON does not parse") from None
    if not isinstance(answer, dict):
        raise bad_answer("not a JSON object")
    url = answer.get("url")
    if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL:
        raise bad_answer(f"`url` must be a URL of at most {MAX_URL} characters")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise bad_answer("`url` must be an absolute http(s) URL")
    if parts.username is not None or parts.password is not None or any(c in url for c in " \n"):
        raise bad_answer("`url` must have no credentials or spaces")
    selector = answer.get("selector")
    if isinstance(selector, str) and not selector.strip():
        selector = None
    if selector is not None:
        if not isinstance(selector, str) or len(selector) > MAX_SELECTOR:
            raise bad_answer(f"`selector` must be a CSS selector of at most {MAX_SELECTOR} chars")
        selector = selector.strip()
        if any(character in NOT_IN_SELECTORS for character in selector):
            raise bad_answer("`selector` holds characters no CSS selector needs")
    description = answer.get("elementDescription")
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise bad_answer("`elementDescription` must be text")
    return {"url": url, "selector": selector, "elementDescription": description[:MAX_DESCRIPTION]}


async def ask_model(env: Env, model: str, prompt: str) -> dict[str, Any]:
    if not model or getattr(env, "AI", None) is None:
        raise model_unavailable("no instruction model is configured")
    inputs = {
        "messages": [
            {"role": "system", "content": INSTRUCTION},
            {"role": "user", "content": prompt},
        ],
        "max_tokens": 300,
        "temperature": 0,
    }
    try:
        result = await asyncio.wait_for(env.AI.run(model, inputs), MODEL_TIMEOUT_SECONDS)
    except TimeoutError:
        raise ApiError(
            504, "The instruction model did not answer in time", code="AI_TIMEOUT"
        ) from None
    except Exception as exc:  # the binding's errors are plain exceptions with a message
        reason = str(exc)[:500] or type(exc).__name__
        if "5007" in reason or "no such model" in reason.lower():
            raise model_unavailable(reason) from None
        raise ApiError(
            502, "The instruction model failed", code="AI_ERROR", details={"reason": reason}
        ) from None
    return plan_of(_answer_text(result))


def prompt_of(body: dict) -> str:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > MAX_PROMPT:
        raise bad("prompt", f"a description of what to capture, at most {MAX_PROMPT} characters")
    return prompt.strip()


async def render_and_store(
    env: Env, settings: Settings, owner: str, key_id: str | None, base: str, body: dict
) -> dict:
    started = time.monotonic()
    prompt = prompt_of(body)
    plan = await ask_model(env, settings.ai_instruction_model, prompt)
    fields, extension = screenshot_request({"url": plan["url"], "selector": plan["selector"]})
    _, data = await browser.screenshot(env, fields)
    detail = {"api": "pictify", "source": "agent", "format": extension, "bytes": len(data)}
    answer = await store_image_render(
        env, settings, owner, key_id, data, name=f"agent.{extension}", base=base, detail=detail
    )
    answer["format"] = extension
    answer["metadata"] = {
        "prompt": prompt,
        **plan,
        "executionTime": int((time.monotonic() - started) * 1000),
    }
    await webhooks.emit(env, owner, "render.completed", answer)
    return answer
