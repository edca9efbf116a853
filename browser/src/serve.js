// The contract over HTTP: a `Request` in, a `Response` out. Shared by the Worker
// (index.js, with Cloudflare's browser) and the Node test harness (with a local Chromium),
// which differ only in `withBrowser`: how a browser is obtained for one call and released.

import { CALLS, ContractError, errorResponse, parseCall } from "./contract.js";
import { render } from "./page.js";

/**
 * `withBrowser(use)` obtains a puppeteer Browser, awaits `use(browser)` and releases it; it
 * throws a ContractError (503 BROWSER_NOT_AVAILABLE) when no browser can be had.
 * `options`: `fabricSource`, and the test harness's `allowLoopbackPorts`.
 */
export async function answer(request, withBrowser, options = {}) {
  const { pathname } = new URL(request.url);
  if (request.method !== "POST" || !CALLS.includes(pathname.replace(/^\/+/, ""))) {
    return errorResponse(new ContractError(404, "NOT_FOUND", "the browser answers POST /screenshot, /pdf and /frames"));
  }
  try {
    const call = parseCall(pathname, await request.text(), options);
    const rendered = await withBrowser((browser) => render(browser, call, options));
    return new Response(rendered.body, { status: 200, headers: rendered.headers });
  } catch (error) {
    if (!(error instanceof ContractError)) console.error("browser call failed", error);
    return errorResponse(error);
  }
}
