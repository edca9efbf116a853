// Pixhaven's companion Worker: the Cloudflare side of `env.BROWSER`. It holds the Browser
// Rendering binding (`MYBROWSER`, browser/wrangler.toml) and answers the browser contract
// (src/pixhaven/bindings/browser.py): POST /screenshot, /pdf, /frames with a JSON body.
//
// It is not public: wrangler.toml sets `workers_dev = false` and no routes, so the only way
// in is the Python Worker's service binding (`[[services]] binding = "BROWSER"`).
//
// Sessions are reused: each call connects to a browser that is open and idle (kept alive
// `BROWSER_KEEP_ALIVE_MS` after its last use), launches one only when none is free, and
// disconnects instead of closing, so a batch of renders shares warm browsers instead of
// starting one per item (launches are rate-limited per account; see README.md).

import puppeteer from "@cloudflare/puppeteer";
import fabricSource from "fabric/dist/fabric.min.js"; // a Text module (wrangler.toml [[rules]])

import { ContractError } from "./contract.js";
import { answer } from "./serve.js";

const MAX_KEEP_ALIVE_MS = 600_000; // Browser Rendering's ceiling for keep_alive

function keepAlive(env) {
  const value = Number(env.BROWSER_KEEP_ALIVE_MS || 60_000);
  return Math.min(MAX_KEEP_ALIVE_MS, Math.max(60_000, Number.isFinite(value) ? value : 60_000));
}

/** A browser session for this call: an idle open one if any, else a new one. */
async function acquire(env) {
  let sessions = [];
  try {
    sessions = await puppeteer.sessions(env.MYBROWSER);
  } catch (error) {
    console.warn("listing browser sessions failed; launching instead", error);
  }
  // Sessions without a connectionId have no Worker attached. Try them in random order so
  // concurrent calls do not all race for the same one.
  const idle = sessions.filter((session) => !session.connectionId).map((session) => session.sessionId);
  idle.sort(() => Math.random() - 0.5);
  for (const sessionId of idle) {
    try {
      return await puppeteer.connect(env.MYBROWSER, sessionId);
    } catch {
      // taken by another call in the meantime, or closed: try the next one
    }
  }
  try {
    return await puppeteer.launch(env.MYBROWSER, { keep_alive: keepAlive(env) });
  } catch (error) {
    throw new ContractError(
      503,
      "BROWSER_NOT_AVAILABLE",
      `Cloudflare Browser Rendering could not start a browser (${error?.message ?? error}); ` +
        "the account may be at its concurrent-browser or new-browser limit, retry shortly",
    );
  }
}

async function withCloudflareBrowser(env, use) {
  const browser = await acquire(env);
  try {
    return await use(browser);
  } finally {
    // disconnect, not close: the session stays open for the next call to reuse.
    await Promise.resolve()
      .then(() => browser.disconnect())
      .catch(() => {}); // already gone
  }
}

export default {
  async fetch(request, env) {
    return answer(request, (use) => withCloudflareBrowser(env, use), { fabricSource });
  },
};
