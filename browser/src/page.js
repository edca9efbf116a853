// One contract call rendered in a browser: given a puppeteer `Browser` (Cloudflare's, from
// the Worker; a local Chromium, from the test harness) and a request checked by
// contract.js, open a fresh incognito context, load the page under the outbound rules of
// addresses.js, and answer the screenshot, PDF or frames. Nothing here knows how the
// browser was obtained, so the test harness exercises exactly what the Worker runs.

import { urlRefusal } from "./addresses.js";
import { ContractError, FRAMES_MEDIA_TYPE, MAX_OUTPUT_BYTES, MAX_OUTPUT_PIXELS } from "./contract.js";

// An inline `html` document is served as this URL's answer by the request handler below,
// so it loads as a real navigation: the libraries injected with evaluateOnNewDocument run
// before its scripts, and `waitUntil` means what it means for a URL. `.invalid` (RFC 6761)
// can never be a real host; every other request to it is refused.
const DOCUMENT_URL = "http://document.pixhaven.invalid/";
const WAIT_UNTIL = { load: "load", domcontentloaded: "domcontentloaded", networkidle: "networkidle0" };

const timeoutError = (ms) => new ContractError(504, "RENDER_TIMEOUT", `the render took longer than its timeout of ${ms} ms`);

/**
 * Renders `request`; answers `{ body: Uint8Array, headers: {...} }` or throws a
 * ContractError. `options.fabricSource` is the text of fabric.min.js (for
 * `libraries: ["fabric"]`); `options.allowLoopbackPorts` the test harness's exception.
 */
export async function render(browser, request, options = {}) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(timeoutError(request.timeout)), request.timeout);
  });
  const opened = (async () => {
    await guardBrowser(browser, options);
    return browser.createBrowserContext
      ? browser.createBrowserContext()
      : browser.createIncognitoBrowserContext();
  })();
  let contextOpen = false;
  opened.then(() => (contextOpen = true)).catch(() => {});
  const work = opened.then((context) => renderIn(context, request, options, Date.now() + request.timeout));
  work.catch(() => {}); // after a timeout its rejection (the context closing) is expected
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
    // Closing the context ends its pages and every script still running in them. One still
    // being opened when time ran out is closed when it arrives.
    const closing = opened.then((context) => context.close()).catch(() => {});
    if (contextOpen) await closing;
  }
}

const guardedBrowsers = new WeakMap();

/**
 * The browser-wide net under the per-page interception (guardRequests): a page can open
 * windows (`window.open`, a link or form with `target="_blank"`), and a new window's
 * requests are not the opener page's, so page-level interception never sees them. DevTools'
 * Fetch domain enabled on the browser target pauses every request that no page-level
 * interception takes, whatever window or worker it comes from; the same rules apply. Once
 * per connected Browser (the Worker connects per call, the test harness once).
 */
async function guardBrowser(browser, options) {
  if (!guardedBrowsers.has(browser)) {
    const ready = (async () => {
      const session = await browser.target().createCDPSession();
      session.on("Fetch.requestPaused", ({ requestId, request }) => {
        const refused = request.url.startsWith(DOCUMENT_URL) || urlRefusal(request.url, options);
        const reply = refused
          ? session.send("Fetch.failRequest", { requestId, errorReason: "BlockedByClient" })
          : session.send("Fetch.continueRequest", { requestId });
        reply.catch(() => {});
      });
      await session.send("Fetch.enable", { patterns: [{ urlPattern: "*" }] });
    })();
    guardedBrowsers.set(browser, ready);
    ready.catch((error) => {
      // Where the browser target refuses (a browser we do not control), pages keep their own
      // interception; new windows there leave from Cloudflare's network (README.md).
      console.warn("no browser-wide request guard:", error?.message ?? error);
    });
  }
  await guardedBrowsers.get(browser).catch(() => {});
}

async function renderIn(context, request, options, deadline) {
  const remaining = () => Math.max(1, deadline - Date.now());
  const page = await context.newPage();
  page.on("dialog", (dialog) => dialog.dismiss().catch(() => {})); // alert() would block
  await page.setViewport({
    width: request.width,
    height: request.height,
    deviceScaleFactor: request.deviceScaleFactor,
  });
  const blocked = await guardRequests(page, request, options);
  if (request.libraries.includes("fabric")) {
    if (!options.fabricSource) throw new ContractError(503, "BROWSER_NOT_AVAILABLE", "fabric.js is not installed with this browser");
    await page.evaluateOnNewDocument(fabricLoader(options.fabricSource));
  }
  await load(page, request, blocked, remaining);
  if (request.call === "pdf") return pdf(page, request, remaining);
  await hideCaret(page);
  if (request.call === "frames") return frames(page, request);
  return screenshot(page, request);
}

/**
 * fabric.min.js as a script for a new document. fabric reads
 * `document.documentElement.style` while it initialises (to pick the user-select property
 * name), and a script run on a new document runs before the parser has made <html>: it gets
 * a root element for that moment, removed again before the page's own markup is parsed.
 * The source stays at the top level, where its `var fabric` makes the global.
 */
function fabricLoader(source) {
  return (
    "var __pixhavenFabricRoot = document.documentElement ? null : " +
    'document.appendChild(document.createElement("html"));\n' +
    `try {\n${source}\n} finally {\n` +
    "  if (__pixhavenFabricRoot) __pixhavenFabricRoot.remove();\n  __pixhavenFabricRoot = null;\n}\n"
  );
}

/**
 * Every request of the page, its iframes, its workers and its redirects passes
 * `urlRefusal` or is aborted before it leaves the browser.
 *
 * Request interception does not see WebSockets, and DevTools' URL blocking does not stop
 * them either (tried: `Network.setBlockedURLs` lets `ws://` through). So the page gets no
 * way to open a connection that interception would not see: `noSockets` runs in every
 * frame before the page's scripts and replaces WebSocket, WebTransport and WebRTC's peer
 * connections (UDP to any address) with constructors that refuse, and Worker and
 * SharedWorker too (a worker's own WebSocket is out of reach of both). The inline document
 * also carries a CSP whose connect-src has no ws:/wss:. Service workers are bypassed.
 * Returns the list the refused URLs are noted in.
 */
async function guardRequests(page, request, options) {
  const blocked = [];
  let documentServed = false;
  await page.setRequestInterception(true);
  page.on("request", (intercepted) => {
    const url = intercepted.url();
    if (request.html !== null && url === DOCUMENT_URL && !documentServed && intercepted.isNavigationRequest()) {
      documentServed = true;
      intercepted
        .respond({
          status: 200,
          contentType: "text/html; charset=utf-8",
          headers: { "content-security-policy": "connect-src http: https: data: blob:" },
          body: request.html,
        })
        .catch(() => {});
      return;
    }
    const why = url.startsWith(DOCUMENT_URL) ? "the inline document has no other resources" : urlRefusal(url, options);
    if (why) {
      blocked.push({ url, why });
      intercepted.abort("blockedbyclient").catch(() => {});
    } else {
      intercepted.continue().catch(() => {});
    }
  });
  await page.evaluateOnNewDocument(noSockets);
  if (page.setBypassServiceWorker) await page.setBypassServiceWorker(true);
  return blocked;
}

/** Runs in the page (see guardRequests): connections request interception cannot see. */
function noSockets() {
  const refuse = (name) =>
    function Refused() {
      throw new DOMException(`${name} is not available to rendered pages`, "SecurityError");
    };
  const names = ["WebSocket", "WebTransport", "RTCPeerConnection", "webkitRTCPeerConnection", "Worker", "SharedWorker"];
  for (const name of names) {
    if (name in window) {
      Object.defineProperty(window, name, { value: refuse(name), writable: false, configurable: false });
    }
  }
  if (window.ServiceWorkerContainer) {
    Object.defineProperty(ServiceWorkerContainer.prototype, "register", {
      value: () => Promise.reject(new DOMException("service workers are not available", "SecurityError")),
      writable: false,
      configurable: false,
    });
  }
}

async function load(page, request, blocked, remaining) {
  let response;
  try {
    response = await page.goto(request.url ?? DOCUMENT_URL, {
      waitUntil: WAIT_UNTIL[request.waitUntil],
      timeout: remaining(),
    });
  } catch (error) {
    if (error?.name === "TimeoutError") throw timeoutError(request.timeout);
    const refused = blocked.find((entry) => !entry.url.startsWith("data:"));
    const reason = refused && /BLOCKED_BY_CLIENT/.test(String(error?.message)) ? `it led to a URL that is not allowed (${refused.why})` : String(error?.message ?? error);
    throw new ContractError(422, "NAVIGATION_FAILED", `the page could not be loaded: ${reason}`);
  }
  if (request.url !== null && response && response.status() >= 400) {
    throw new ContractError(422, "NAVIGATION_FAILED", `the page answered HTTP ${response.status()}`);
  }
  try {
    if (request.waitForSelector) {
      await page.waitForSelector(request.waitForSelector, { timeout: remaining() });
    }
    if (request.waitForFunction) {
      await page.waitForFunction(request.waitForFunction, { timeout: remaining() });
    }
  } catch (error) {
    throw pageError(error, request);
  }
}

/** A waiting or selecting error as the contract's error. */
function pageError(error, request) {
  if (error instanceof ContractError) return error;
  if (error?.name === "TimeoutError") return timeoutError(request.timeout);
  const message = String(error?.message ?? error);
  if (/is not a valid selector|SyntaxError/.test(message)) {
    return new ContractError(400, "INVALID_REQUEST", `not a valid selector or expression: ${message.split("\n")[0]}`);
  }
  return new ContractError(422, "NAVIGATION_FAILED", `the page failed: ${message.split("\n")[0]}`);
}

/**
 * A text caret blinks on a clock of its own: hidden, so an image does not depend on when it
 * was taken (as Playwright's screenshots hide it). A page whose CSP refuses the style keeps
 * its caret.
 */
async function hideCaret(page) {
  await page
    .addStyleTag({ content: "*, *::before, *::after { caret-color: transparent !important; }" })
    .catch(() => {});
}

function checkPixels(width, height, request) {
  const pixels = Math.ceil(width * request.deviceScaleFactor) * Math.ceil(height * request.deviceScaleFactor);
  if (pixels > MAX_OUTPUT_PIXELS) {
    throw new ContractError(413, "OUTPUT_TOO_LARGE", `the image would be ${pixels} pixels, more than ${MAX_OUTPUT_PIXELS}`);
  }
}

function checkBytes(size) {
  if (size > MAX_OUTPUT_BYTES) {
    throw new ContractError(413, "OUTPUT_TOO_LARGE", `the output is ${size} bytes, more than ${MAX_OUTPUT_BYTES}`);
  }
}

async function screenshot(page, request) {
  const settings = { type: request.type, omitBackground: request.omitBackground };
  if (request.quality !== null) settings.quality = request.quality;
  let image;
  try {
    if (request.selector) {
      const element = await page.$(request.selector);
      const box = element && (await element.boundingBox());
      if (!box || box.width < 1 || box.height < 1) {
        throw new ContractError(422, "SELECTOR_NOT_FOUND", `no visible element matches ${request.selector}`);
      }
      checkPixels(box.width, box.height, request);
      image = await element.screenshot(settings);
    } else {
      if (request.fullPage) {
        const [width, height] = await page.evaluate(() => {
          const root = document.documentElement;
          const body = document.body ?? root;
          return [Math.max(root.scrollWidth, body.scrollWidth), Math.max(root.scrollHeight, body.scrollHeight)];
        });
        checkPixels(width, height, request);
      }
      image = await page.screenshot({ ...settings, fullPage: request.fullPage });
    }
  } catch (error) {
    throw pageError(error, request);
  }
  checkBytes(image.length);
  return { body: new Uint8Array(image), headers: { "content-type": `image/${request.type}` } };
}

async function pdf(page, request, remaining) {
  const settings = {
    landscape: request.landscape,
    printBackground: request.printBackground,
    timeout: remaining(),
  };
  if (request.format) settings.format = request.format;
  else Object.assign(settings, { width: `${request.paperWidth}px`, height: `${request.paperHeight}px` });
  if (request.margin) {
    settings.margin = Object.fromEntries(Object.entries(request.margin).map(([side, px]) => [side, `${px}px`]));
  }
  let document;
  try {
    document = await page.pdf(settings);
  } catch (error) {
    throw pageError(error, request);
  }
  checkBytes(document.length);
  return { body: new Uint8Array(document), headers: { "content-type": "application/pdf" } };
}

/**
 * The frames call. The page's animation duration D is measured first (longestAnimation,
 * 1000 ms without animations, at most `maxDuration`). With `frameCount` sent, frame i is at
 * `i * 1000 / fps` ms; without it the frames span `duration` (else D):
 * `min(maxFrames, max(1, round(fps * span / 1000)))` frames, frame i at `i * span / count`.
 * Frame i: every animation of the document paused at its time, then a screenshot of the
 * viewport. The clock is set, not waited for, so the same input gives the same frames.
 * Body: each frame as a 4-byte big-endian length and its PNG bytes; X-Frame-Count says how
 * many, X-Animation-Duration-Ms the span (D when frameCount was sent).
 */
async function frames(page, request) {
  const measured = await page.evaluate(longestAnimation);
  const duration = Math.min(measured > 0 ? roundHalfEven(measured) : DEFAULT_DURATION_MS, request.maxDuration);
  let count = request.frameCount;
  let span = duration;
  let step = 1000 / request.fps;
  if (count === null) {
    span = request.duration ?? duration;
    count = Math.min(request.maxFrames, Math.max(1, roundHalfEven((request.fps * span) / 1000)));
    step = span / count;
  }
  const parts = [];
  let total = 0;
  await page.evaluate(animateOnTheMainThread);
  // Pause everything once first: the first seek would otherwise also be the moment the
  // animations stop running, and frame 0 could differ by a pixel.
  await page.evaluate(seekAnimations, 0);
  for (let index = 0; index < count; index++) {
    await page.evaluate(seekAnimations, index * step);
    const frame = new Uint8Array(await page.screenshot({ type: "png" }));
    total += 4 + frame.length;
    checkBytes(total);
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, frame.length);
    parts.push(length, frame);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.length;
  }
  const headers = {
    "content-type": FRAMES_MEDIA_TYPE,
    "x-frame-count": String(count),
    "x-animation-duration-ms": String(span),
  };
  return { body, headers };
}

const DEFAULT_DURATION_MS = 1000; // a page without animations: one second of (still) frames

/**
 * Runs in the page: one iteration of the longest document animation (its delay plus one
 * iteration), in ms; what a GIF of the page loops over. Infinite or missing durations
 * count as none.
 */
function longestAnimation() {
  let longest = 0;
  for (const animation of document.getAnimations()) {
    const timing = animation.effect && animation.effect.getComputedTiming();
    if (!timing) continue;
    const once = (timing.delay || 0) + Number(timing.duration || 0);
    if (Number.isFinite(once)) longest = Math.max(longest, once);
  }
  return longest;
}

/** Python's round(): a half goes to the even neighbour, so both implementations count alike. */
function roundHalfEven(value) {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return fraction < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Runs in the page once, before the first seek: takes every animation of the document off
 * the compositor thread. Transform and opacity animations otherwise run there, and what a
 * screenshot shows after a seek then depends on timing: the compositor may still draw its
 * running copy for a frame (positions a few px off), and a layer's raster scale depends on
 * which scales it happened to be drawn at, so two runs differ by a pixel of antialiasing.
 * Locally Chromium's --disable-threaded-animation does this; on Cloudflare no flag can be
 * passed. `will-change: contents` tells Blink the subtree changes all the time, which makes
 * it keep animations (and their layers) on the main thread; it runs as a DevTools call, so
 * a page's CSP cannot refuse it, and it is set inline with !important, so the page's own
 * styles cannot override it. It is only a hint: it makes no stacking context or containing
 * block, so layout and painting order stay the page's own.
 */
function animateOnTheMainThread() {
  document.documentElement?.style.setProperty("will-change", "contents", "important");
}

/**
 * Runs in the page: pauses every document animation and seeks it to `time` ms, then lets
 * two animation frames pass, so the new style has been committed before the screenshot.
 */
function seekAnimations(time) {
  for (const animation of document.getAnimations()) {
    animation.pause();
    animation.currentTime = time;
  }
  return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
}
