// The companion Worker's page logic, served from Node for the test suite
// (tests/contract/test_browser_companion.py): the same contract over HTTP on a loopback
// port, the same src/serve.js and src/page.js, with a local Chromium (puppeteer-core)
// standing where the Worker has Cloudflare's Browser Rendering.
//
//   node browser/test/harness.mjs [--port 0] [--chromium /usr/bin/chromium]
//                                 [--allow-loopback-port PORT|any ...]
//
// Prints one JSON line, {"port": N}, once it answers. --allow-loopback-port is the
// test-only exception for the suite's own servers: loopback addresses on those ports may
// be loaded ("any": on every port, as the local implementation's test-only switch does).
// Without it (the default) loopback is refused like every private address.

import { readFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";

import puppeteer from "puppeteer-core";

import { answer } from "../src/serve.js";

const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Chromium's own Local Network Access checks would block a public page's requests to
  // loopback before our rules see them. Off here, so the tests show that src/addresses.js
  // alone keeps pages away from private addresses (Cloudflare's browser is not ours to
  // configure either way).
  "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights",
];

function options(argv) {
  const parsed = { port: 0, chromium: "/usr/bin/chromium", allowLoopbackPorts: [] };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === "--port") parsed.port = Number(argv[++i]);
    else if (argv[i] === "--chromium") parsed.chromium = argv[++i];
    else if (argv[i] === "--allow-loopback-port") {
      parsed.allowLoopbackPorts.push(value === "any" ? "any" : Number(value));
      i++;
    }
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return parsed;
}

async function main() {
  const settings = options(process.argv.slice(2));
  const fabricPath = createRequire(import.meta.url).resolve("fabric/dist/fabric.min.js");
  const fabricSource = readFileSync(fabricPath, "utf8");
  const browser = await puppeteer.launch({
    executablePath: settings.chromium,
    args: CHROMIUM_ARGS,
    headless: true,
    defaultViewport: null,
  });
  const withBrowser = (use) => use(browser);
  const server = http.createServer(async (incoming, outgoing) => {
    const chunks = [];
    for await (const chunk of incoming) chunks.push(chunk);
    const request = new Request(`http://browser${incoming.url}`, {
      method: incoming.method,
      body: incoming.method === "POST" ? Buffer.concat(chunks) : undefined,
    });
    const response = await answer(request, withBrowser, {
      fabricSource,
      allowLoopbackPorts: settings.allowLoopbackPorts,
    });
    outgoing.writeHead(response.status, Object.fromEntries(response.headers));
    outgoing.end(Buffer.from(await response.arrayBuffer()));
  });
  server.listen(settings.port, "127.0.0.1", () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
  const stop = async () => {
    server.close();
    await browser.close().catch(() => {});
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // The parent closing our stdin (the test ending, even abruptly) stops us too.
  process.stdin.on("end", stop);
  process.stdin.resume();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
