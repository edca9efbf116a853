// The browser binding's wire contract (src/pixhaven/bindings/browser.py is its definition):
// the three calls, their JSON fields and ranges, and the JSON errors. `validate` turns a
// request body into a complete, checked request or throws a ContractError; nothing here
// touches a browser.

import { urlRefusal } from "./addresses.js";

export const FRAMES_MEDIA_TYPE = "application/vnd.pixhaven.frames";
export const CALLS = ["screenshot", "pdf", "frames"];
export const LIBRARIES = ["fabric"];
export const PAPER_FORMATS = ["A4", "A3", "A5", "Letter", "Legal", "Tabloid"];
const WAIT_UNTIL = ["load", "domcontentloaded", "networkidle"];
const SCREENSHOT_TYPES = ["png", "jpeg", "webp"];
const DEFAULT_WIDTH = 1280;
const DEFAULT_HEIGHT = 720;
const DEFAULT_FPS = 10;
export const MAX_FRAMES = 300;
const MAX_DURATION_MS = 30000;
export const DEFAULT_MAX_DURATION_MS = 10000;
const DEFAULT_TIMEOUT_MS = 15000;
const MAX_TIMEOUT_MS = 60000;
// Output limits (413 OUTPUT_TOO_LARGE): a Worker holds the whole answer in its 128 MB, and
// the Python Worker's upload pipeline refuses more than 100 million pixels anyway.
export const MAX_OUTPUT_PIXELS = 40_000_000; // per image, in device pixels
export const MAX_OUTPUT_BYTES = 50 * 1024 * 1024; // the whole answer
const MAX_PAPER_PX = 20000; // about 5.3 m: far past any real paper size
const CSS_PX = { px: 1, in: 96, cm: 96 / 2.54, mm: 96 / 25.4 };

export class ContractError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const invalid = (message) => new ContractError(400, "INVALID_REQUEST", message);

/** The contract's error answer. */
export function errorResponse(error) {
  const known = error instanceof ContractError;
  const status = known ? error.status : 500;
  const code = known ? error.code : "RENDER_FAILED";
  const message = known ? error.message : `the browser failed: ${error?.message ?? error}`;
  return new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function integer(body, name, low, high, fallback) {
  const value = body[name];
  if (value === undefined || value === null) return fallback;
  if (!Number.isInteger(value) || value < low || value > high) {
    throw invalid(`${name} must be an integer from ${low} to ${high}`);
  }
  return value;
}

function number(body, name, low, high, fallback) {
  const value = body[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < low || value > high) {
    throw invalid(`${name} must be a number from ${low} to ${high}`);
  }
  return value;
}

function flag(body, name, fallback) {
  const value = body[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") throw invalid(`${name} must be true or false`);
  return value;
}

function text(body, name, maxLength = 10000) {
  const value = body[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || !value || value.length > maxLength) {
    throw invalid(`${name} must be a non-empty string of at most ${maxLength} characters`);
  }
  return value;
}

function choice(body, name, allowed, fallback) {
  const value = body[name];
  if (value === undefined || value === null) return fallback;
  if (!allowed.includes(value)) throw invalid(`${name} must be one of ${allowed.join(", ")}`);
  return value;
}

/** A CSS length ("210mm", "8.5in", "12px") or a number of px, as px; null when absent. */
function length(value, name, max) {
  if (value === undefined || value === null) return null;
  let px;
  if (typeof value === "number" && Number.isFinite(value)) {
    px = value;
  } else {
    const match = typeof value === "string" && value.trim().match(/^(\d+(?:\.\d+)?)(px|in|cm|mm)?$/);
    if (!match) throw invalid(`${name} must be a number of px or a length such as "210mm", "8.5in"`);
    px = Number(match[1]) * CSS_PX[match[2] || "px"];
  }
  if (px < 0 || px > max) throw invalid(`${name} must be from 0 to ${max} px`);
  return px;
}

function source(body, options) {
  const html = body.html ?? null;
  const url = body.url ?? null;
  if ((html === null) === (url === null)) throw invalid("give exactly one of html or url");
  if (html !== null) {
    if (typeof html !== "string" || !html) throw invalid("html must be a non-empty string");
    if (html.length > 5 * 1024 * 1024) throw invalid("html is longer than 5 MB");
    return { html, url: null };
  }
  if (typeof url !== "string" || url.length > 4096) throw invalid("url must be a string of at most 4096 characters");
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid("url cannot be parsed");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw invalid("url must be http or https");
  if (parsed.username || parsed.password) throw invalid("url must not carry user information");
  const why = urlRefusal(parsed.href, options);
  if (why) throw new ContractError(422, "NAVIGATION_FAILED", `the URL is not allowed: ${why}`);
  return { html: null, url: parsed.href };
}

function libraries(body) {
  const value = body.libraries ?? [];
  if (!Array.isArray(value) || value.some((name) => !LIBRARIES.includes(name))) {
    throw invalid(`libraries must be a list of: ${LIBRARIES.join(", ")}`);
  }
  return [...new Set(value)];
}

function margin(body) {
  const value = body.margin ?? null;
  if (value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) throw invalid("margin must be an object {top, right, bottom, left}");
  const sides = {};
  for (const side of ["top", "right", "bottom", "left"]) {
    sides[side] = length(value[side], `margin.${side}`, MAX_PAPER_PX) ?? 0;
  }
  return sides;
}

/**
 * The checked request of one call. `options.allowLoopbackPorts` is the test harness's
 * exception for its own servers (never a field of the request).
 */
export function validate(call, body, options = {}) {
  if (!CALLS.includes(call)) throw new ContractError(404, "NOT_FOUND", `no such call: ${call}`);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid("the body must be a JSON object");
  }
  const request = {
    call,
    ...source(body, options),
    width: integer(body, "width", 1, 5000, DEFAULT_WIDTH),
    height: integer(body, "height", 1, 5000, DEFAULT_HEIGHT),
    deviceScaleFactor: number(body, "deviceScaleFactor", 1, 4, 1),
    waitUntil: choice(body, "waitUntil", WAIT_UNTIL, "load"),
    waitForSelector: text(body, "waitForSelector"),
    waitForFunction: text(body, "waitForFunction"),
    timeout: integer(body, "timeout", 1, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS),
    libraries: libraries(body),
  };
  if (call === "screenshot") {
    request.type = choice(body, "type", SCREENSHOT_TYPES, "png");
    // quality means nothing to png, a transparent background nothing to jpeg (no alpha), and
    // fullPage nothing once a selector crops: they are checked, then left out.
    const quality = integer(body, "quality", 1, 100, null);
    request.quality = request.type === "png" ? null : quality;
    request.omitBackground = flag(body, "omitBackground", false) && request.type !== "jpeg";
    request.selector = text(body, "selector");
    request.fullPage = flag(body, "fullPage", false) && !request.selector;
  } else if (call === "pdf") {
    const paperWidth = length(body.paperWidth, "paperWidth", MAX_PAPER_PX);
    const paperHeight = length(body.paperHeight, "paperHeight", MAX_PAPER_PX);
    if ((paperWidth === null) !== (paperHeight === null)) throw invalid("give both paperWidth and paperHeight, or neither");
    if (paperWidth !== null && (body.format ?? null) !== null) throw invalid("give format or paperWidth/paperHeight, not both");
    if (paperWidth !== null && (paperWidth < 1 || paperHeight < 1)) throw invalid("the paper must be at least 1 px each way");
    request.format = paperWidth === null ? choice(body, "format", PAPER_FORMATS, "A4") : null;
    request.paperWidth = paperWidth;
    request.paperHeight = paperHeight;
    request.landscape = flag(body, "landscape", false);
    request.margin = margin(body);
    request.printBackground = flag(body, "printBackground", true);
  } else {
    request.fps = integer(body, "fps", 1, 50, DEFAULT_FPS);
    // frameCount null: the page's measured animation duration (or `duration`) decides how
    // many frames (page.js); duration, maxDuration and maxFrames only mean something then,
    // and are only checked then (as the local implementation does).
    request.frameCount = integer(body, "frameCount", 1, MAX_FRAMES, null);
    request.duration = null;
    request.maxDuration = DEFAULT_MAX_DURATION_MS;
    request.maxFrames = MAX_FRAMES;
    if (request.frameCount === null) {
      request.duration = integer(body, "duration", 1, MAX_DURATION_MS, null);
      request.maxDuration = integer(body, "maxDuration", 1, MAX_DURATION_MS, DEFAULT_MAX_DURATION_MS);
      request.maxFrames = integer(body, "maxFrames", 1, MAX_FRAMES, MAX_FRAMES);
    }
    request.type = choice(body, "type", ["png"], "png");
  }
  const pixels = request.width * request.height * request.deviceScaleFactor ** 2;
  if (call !== "pdf" && pixels > MAX_OUTPUT_PIXELS) {
    throw new ContractError(413, "OUTPUT_TOO_LARGE", `${request.width}x${request.height} at scale ${request.deviceScaleFactor} is more than ${MAX_OUTPUT_PIXELS} pixels`);
  }
  return request;
}

/** Parses and checks a contract call from its path and JSON text. */
export function parseCall(pathname, bodyText, options) {
  const call = pathname.replace(/^\/+/, "");
  let body;
  try {
    body = JSON.parse(bodyText);
  } catch {
    if (!CALLS.includes(call)) throw new ContractError(404, "NOT_FOUND", `no such call: ${pathname}`);
    throw invalid("the body is not valid JSON");
  }
  return validate(call, body, options);
}
