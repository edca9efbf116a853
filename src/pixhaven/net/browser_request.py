"""A browser contract call (src/pixhaven/bindings/browser.py), read and checked in Python: the
fields, their ranges and defaults, and the contract's JSON errors. Used where Pixhaven itself
answers the contract without a browser of its own (net/browser_rest.py, Cloudflare's REST
API); browser/src/contract.js holds the same rules for the companion Worker.

    call = parse_call("/screenshot", body_text)    # or raises ContractError
    call.name, call.fields["width"], ...
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

CALLS = ("screenshot", "pdf", "frames")
LIBRARIES = ("fabric",)
PAPER_FORMATS = ("A4", "A3", "A5", "Letter", "Legal", "Tabloid")
WAIT_UNTIL = ("load", "domcontentloaded", "networkidle")
SCREENSHOT_TYPES = ("png", "jpeg", "webp")
DEFAULT_WIDTH, DEFAULT_HEIGHT = 1280, 720
DEFAULT_FPS, DEFAULT_FRAME_COUNT = 10, 10
DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS = 15000, 60000
MAX_OUTPUT_PIXELS = 40_000_000  # per image, device pixels (as the companion)
MAX_OUTPUT_BYTES = 50 * 1024 * 1024
MAX_PAPER_PX = 20000
MAX_HTML_CHARS = 5 * 1024 * 1024
_CSS_PX = {"px": 1.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}
_LENGTH = re.compile(r"([0-9]+(?:\.[0-9]+)?)(px|in|cm|mm)?")


class ContractError(Exception):
    """A contract error answer: HTTP status, code, message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> str:
        return json.dumps({"error": {"code": self.code, "message": self.message}})


def invalid(message: str) -> ContractError:
    return ContractError(400, "INVALID_REQUEST", message)


@dataclass
class Call:
    name: str  # "screenshot", "pdf" or "frames"
    fields: dict[str, Any]  # every field of the call, defaults filled in


def _integer(body: dict, name: str, low: int, high: int, default: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 800.0 is 800
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(f"{name} must be an integer from {low} to {high}")
    return value


def _number(body: dict, name: str, low: float, high: float, default: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise invalid(f"{name} must be a number from {low:g} to {high:g}")
    return value


def _flag(body: dict, name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(f"{name} must be true or false")
    return value


def _text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 10000:
        raise invalid(f"{name} must be a non-empty string of at most 10000 characters")
    return value


def _choice(body: dict, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(name)
    if value is None:
        return default
    if value not in allowed:
        raise invalid(f"{name} must be one of {', '.join(allowed)}")
    return str(value)


def css_px(value: object, name: str) -> float | None:
    """A CSS length ("210mm", "8.5in", "12px") or a number of px, as px; None if absent."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        px = float(value)
    else:
        match = _LENGTH.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise invalid(f'{name} must be a number of px or a length such as "210mm", "8.5in"')
        px = float(match[1]) * _CSS_PX[match[2] or "px"]
    if not 0 <= px <= MAX_PAPER_PX:
        raise invalid(f"{name} must be from 0 to {MAX_PAPER_PX} px")
    return px


def _source(body: dict) -> dict[str, str | None]:
    html, url = body.get("html"), body.get("url")
    if (html is None) == (url is None):
        raise invalid("give exactly one of html or url")
    if html is not None:
        if not isinstance(html, str) or not html or len(html) > MAX_HTML_CHARS:
            raise invalid("html must be a non-empty string of at most 5 MB")
        return {"html": html, "url": None}
    if not isinstance(url, str):
        raise invalid("url must be a string")
    from pixhaven.net.addresses import split_url
    from pixhaven.net.errors import BlockedDestination, RemoteFetchError

    try:
        split_url(url)
    except BlockedDestination as exc:
        raise ContractError(422, "NAVIGATION_FAILED", f"the URL is not allowed: {exc}") from None
    except RemoteFetchError as exc:
        raise invalid(f"url: {exc}") from None
    return {"html": None, "url": url}


def _screenshot(body: dict) -> dict[str, Any]:
    kind = _choice(body, "type", SCREENSHOT_TYPES, "png")
    # quality means nothing to png, a transparent background nothing to jpeg (no alpha), and
    # fullPage nothing once a selector crops: they are checked, then left out.
    quality = _integer(body, "quality", 1, 100, None)
    omit_background = _flag(body, "omitBackground", False)
    full_page, selector = _flag(body, "fullPage", False), _text(body, "selector")
    return {
        "type": kind,
        "quality": None if kind == "png" else quality,
        "omitBackground": omit_background and kind != "jpeg",
        "fullPage": full_page and not selector,
        "selector": selector,
    }


def _pdf(body: dict) -> dict[str, Any]:
    width = css_px(body.get("paperWidth"), "paperWidth")
    height = css_px(body.get("paperHeight"), "paperHeight")
    if (width is None) != (height is None):
        raise invalid("give both paperWidth and paperHeight, or neither")
    if width is not None and body.get("format") is not None:
        raise invalid("give format or paperWidth/paperHeight, not both")
    if width is not None and height is not None and (width < 1 or height < 1):
        raise invalid("the paper must be at least 1 px each way")
    margin = body.get("margin")
    if margin is not None:
        if not isinstance(margin, dict):
            raise invalid("margin must be an object {top, right, bottom, left}")
        margin = {
            side: css_px(margin.get(side), f"margin.{side}") or 0.0
            for side in ("top", "right", "bottom", "left")
        }
    return {
        "format": None if width is not None else _choice(body, "format", PAPER_FORMATS, "A4"),
        "paperWidth": width,
        "paperHeight": height,
        "landscape": _flag(body, "landscape", False),
        "margin": margin,
        "printBackground": _flag(body, "printBackground", True),
    }


def _frames(body: dict) -> dict[str, Any]:
    return {
        "fps": _integer(body, "fps", 1, 50, DEFAULT_FPS),
        "frameCount": _integer(body, "frameCount", 1, 300, DEFAULT_FRAME_COUNT),
        "type": _choice(body, "type", ("png",), "png"),
    }


def parse_call(path: str, body_text: str) -> Call:
    """The checked call of `path` ("/screenshot", ...) with this JSON body."""
    name = path.strip("/")
    if name not in CALLS:
        raise ContractError(404, "NOT_FOUND", "the browser answers /screenshot, /pdf and /frames")
    try:
        body = json.loads(body_text)
    except ValueError:
        raise invalid("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    libraries = body.get("libraries") or []
    if not isinstance(libraries, list) or any(item not in LIBRARIES for item in libraries):
        raise invalid(f"libraries must be a list of: {', '.join(LIBRARIES)}")
    fields: dict[str, Any] = {
        **_source(body),
        "width": _integer(body, "width", 1, 5000, DEFAULT_WIDTH),
        "height": _integer(body, "height", 1, 5000, DEFAULT_HEIGHT),
        "deviceScaleFactor": _number(body, "deviceScaleFactor", 1, 4, 1),
        "waitUntil": _choice(body, "waitUntil", WAIT_UNTIL, "load"),
        "waitForSelector": _text(body, "waitForSelector"),
        "waitForFunction": _text(body, "waitForFunction"),
        "timeout": _integer(body, "timeout", 1, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS),
        "libraries": sorted(set(libraries)),
    }
    fields.update({"screenshot": _screenshot, "pdf": _pdf, "frames": _frames}[name](body))
    pixels = fields["width"] * fields["height"] * fields["deviceScaleFactor"] ** 2
    if name != "pdf" and pixels > MAX_OUTPUT_PIXELS:
        raise ContractError(
            413, "OUTPUT_TOO_LARGE", f"the image would be more than {MAX_OUTPUT_PIXELS} pixels"
        )
    return Call(name, fields)
