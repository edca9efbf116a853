// Serves Pixhaven's Worker entry (src/entry.py) on real Pyodide in Node, the way workerd would:
// the npm `pyodide` pinned in package.json, the Worker's dependencies unpacked from wheels
// downloaded at test time (never from git), Cloudflare's real SDK (`workers-runtime-sdk`), and an
// env made of Miniflare's own D1 and R2 (from the wrangler pinned in tests/miniflare), the
// Images binding of images.mjs (Pixhaven's LocalImages, served by the test process at
// $PIXHAVEN_PYODIDE_IMAGES), a small queue, a rate limiter that always admits and the
// plain-text [vars].
//
// What workerd itself provides to Python Workers is replaced by small stand-ins written here
// (docs/BINDINGS.md, "The Worker on Pyodide"): the `_pyodide_entrypoint_helper` and
// `_cloudflare_compat_flags` modules, and the handler wrapper that makes one `Default(ctx, env)`
// per event and calls its `fetch`, `queue` or `scheduled`.
//
// Protocol: JSON lines. The harness prints {"ready": true, ...} once, then for each line read on
// stdin ({"id", "op", ...}) prints one line {"id", "ok", ..., "memory": <WASM bytes>}.
//   op "fetch":     method, url, headers [[k, v]], body (base64) -> status, headers, body (base64)
//   op "queue":     deliver every queued message to Default.queue -> delivered, acked, retried
//   op "scheduled": run Default.scheduled with `cron` -> {}
//   op "migrate":   migrations [[name, [sql, ...]], ...] applied to D1, each as one batch
//   op "d1":        sql, params -> results (rows), straight on Miniflare's D1
//   op "r2put":     key, body (base64), contentType -> stored straight into the R2 bucket
//   op "r2keys":    prefix -> keys in the bucket
//   op "send":      body -> put on the queue, as Cloudflare queues an R2 event notification
//   op "reset":     empty every table, the bucket and the queue
//   op "memory":    -> memory only
// Python's own stdout and stderr go to this process's stderr, so stdout carries only answers.

import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const WHEELS = process.env.PIXHAVEN_PYODIDE_WHEELS;
const VARS = JSON.parse(process.env.PIXHAVEN_PYODIDE_VARS || "{}");

const { loadPyodide } = await import("pyodide");
const miniflareRequire = createRequire(path.join(ROOT, "tests", "miniflare", "package.json"));
const { Miniflare } = await import(miniflareRequire.resolve("miniflare"));
const { BRIDGE_SCRIPT, FixedLengthStream, makeBindings } = await import("./bindings.mjs");
// A global of workerd's that Node lacks (interop.fixed_length_stream imports it from `js`).
globalThis.FixedLengthStream = FixedLengthStream;
const { makeImages } = await import("./images.mjs");

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

const started = Date.now();
const mf = new Miniflare({
  modules: true,
  script: BRIDGE_SCRIPT,
  compatibilityDate: "2026-04-21",
  d1Databases: { DB: "pixhaven" },
  r2Buckets: ["BUCKET"],
});
await mf.ready;
const { DB, BUCKET } = makeBindings(mf);

// workers-runtime-sdk wraps a binding (so Python arguments and results are converted) only
// when its JS class has workerd's name (`_EnvWrapper._BINDING_TYPES`): D1 and R2 come so
// named from bindings.mjs, Images from images.mjs, the queue and the rate limiter get theirs
// here.
function named(className, methods) {
  const cls = { [className]: class {} }[className];
  Object.assign(cls.prototype, methods);
  return new cls();
}

// The queue producer (env.JOBS): messages wait here until the test asks for a delivery.
const queued = [];
let messageNumber = 0;
const JOBS = named("WorkerQueue", {
  async send(body, options) {
    queued.push({ body, delaySeconds: options?.delaySeconds ?? 0 });
  },
  async sendBatch(messages) {
    for (const m of messages) queued.push({ body: m.body, delaySeconds: m.delaySeconds ?? 0 });
  },
});

// Rate limiting is not under test here: every key is admitted, as with a generous limit.
const RATE_LIMITER = named("Ratelimit", {
  async limit() {
    return { success: true };
  },
});

const env = {
  ...VARS,
  DB,
  BUCKET,
  JOBS,
  RATE_LIMITER,
  ...(process.env.PIXHAVEN_PYODIDE_IMAGES ? { IMAGES: makeImages(process.env.PIXHAVEN_PYODIDE_IMAGES) } : {}),
};

// ctx.waitUntil: the promises are awaited before the harness answers, so a test sees the
// background work finished (workerd keeps the isolate alive for them the same way).
let pending = [];
// What workerd does with a Python awaitable handed to waitUntil (its patchWaitUntil for
// ctx.waitUntil, getPatchedWaitUntil for `cloudflare:workers`): the argument is a borrowed
// proxy that Pyodide destroys when the call returns, so an owned copy is taken at once,
// awaited, and destroyed when it settles. (The SDK's asgi adapter hands a streaming
// response's request task to `workers.wait_until` this way.)
function retained(awaitable) {
  const owned = awaitable && typeof awaitable.copy === "function" ? awaitable.copy() : awaitable;
  return (async () => {
    try {
      await owned;
    } finally {
      if (owned && typeof owned.destroy === "function") owned.destroy();
    }
  })();
}
function makeCtx() {
  return {
    waitUntil(promise) {
      pending.push(retained(promise));
    },
    passThroughOnException() {},
    props: {},
  };
}
async function settle() {
  while (pending.length) {
    const batch = pending;
    pending = [];
    await Promise.allSettled(batch);
  }
}

const pyodide = await loadPyodide({
  stdout: (line) => process.stderr.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
const loaded = Date.now();

// Wheels: pure ones and the pyemscripten builds, unpacked into site-packages (dynamic
// libraries of compiled ones are loaded by unpackArchive).
for (const name of fs.readdirSync(WHEELS).sort()) {
  if (!name.endsWith(".whl")) continue;
  await pyodide.unpackArchive(new Uint8Array(fs.readFileSync(path.join(WHEELS, name))), "wheel");
}

// Stand-ins for the modules workerd registers before user code runs.
const cloudflareWorkersModule = {
  env,
  waitUntil: (promise) => pending.push(retained(promise)),
};
pyodide.registerJsModule("_pyodide_entrypoint_helper", {
  cloudflareWorkersModule,
  cloudflareSocketsModule: {},
  // workerd wraps ctx.waitUntil so it keeps Python awaitables (`retained`); ours does already.
  patchWaitUntil(ctx) {},
  async doAnImport(name) {
    throw new Error(`module ${name} is not available in the Pyodide harness`);
  },
  patch_env_helper() {
    throw new Error("patch_env is not available in the Pyodide harness");
  },
});
pyodide.registerJsModule("_cloudflare_compat_flags", { python_workflows_implicit_dependencies: false });

// The Worker's source at /app/src and the `_cloudflare` stand-in at /app/standins. Then what
// workerd does before user code: the SDK's .pth hook (its package patches, installed through
// `_cloudflare.import_patch_manager`), the import of the entry module, the snapshot hooks.
for (const [from, to] of [
  [path.join(ROOT, "src"), "/app/src"],
  [path.join(HERE, "standins"), "/app/standins"],
]) {
  pyodide.FS.mkdirTree(to);
  pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: from }, to);
}
await pyodide.runPythonAsync(`
import sys
sys.path[0:0] = ["/app/src", "/app/standins"]
import _workers_sdk_patch_loader
`);
const heapBefore = pyodide._module.HEAP8.length;
await pyodide.runPythonAsync(`
import entry
from _cloudflare.import_patch_manager import run_before_first_request
run_before_first_request()
`);
const imported = Date.now();

// The handler wrapper: workerd makes one Default(ctx, env) per event and hands `fetch` a
// Request the SDK wraps (workers.Request), `queue` the JS batch, `scheduled` the controller.
const callHandler = await pyodide.runPythonAsync(`
import entry
from workers import Request

async def call_handler(kind, ctx, env, event):
    worker = entry.Default(ctx, env)
    if kind == "fetch":
        return await worker.fetch(Request(event))
    if kind == "queue":
        return await worker.queue(event)
    return await worker.scheduled(event)

call_handler
`);

function memory() {
  return pyodide._module.HEAP8.length;
}

function base64(bytes) {
  return Buffer.from(bytes).toString("base64");
}

// A request body as workerd hands it over from the network: a stream of chunks of at most
// 64 KiB, not one buffer (Node's `new Request(buffer)` gives the whole body as one chunk,
// which the SDK's asgi adapter and the multipart parser would then copy whole).
const NETWORK_CHUNK = 64 * 1024;
function networkStream(bytes) {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(new Uint8Array(bytes.subarray(offset, offset + NETWORK_CHUNK)));
      offset += NETWORK_CHUNK;
    },
  });
}

async function runFetch(message) {
  const init = { method: message.method, headers: message.headers || [] };
  if (message.body && !["GET", "HEAD"].includes(message.method)) {
    init.body = networkStream(Buffer.from(message.body, "base64"));
    init.duplex = "half";
  }
  const request = new Request(message.url, init);
  const response = await callHandler("fetch", makeCtx(), env, request);
  const body = new Uint8Array(await response.arrayBuffer());
  await settle();
  return {
    status: response.status,
    headers: [...response.headers.entries()],
    body: base64(body),
  };
}

async function runQueue() {
  const taken = queued.splice(0, queued.length);
  const outcome = { delivered: taken.length, acked: 0, retried: 0, requeued: 0 };
  if (!taken.length) return outcome;
  const states = taken.map(() => "pending");
  const messages = taken.map((m, i) => ({
    id: `message-${++messageNumber}`,
    timestamp: new Date(),
    body: m.body,
    attempts: 1,
    ack() {
      states[i] = "acked";
    },
    retry() {
      states[i] = "retried";
    },
  }));
  const batch = {
    queue: "pixhaven-jobs",
    messages,
    ackAll() {
      states.fill("acked");
    },
    retryAll() {
      states.fill("retried");
    },
  };
  let error = null;
  try {
    await callHandler("queue", makeCtx(), env, batch);
  } catch (e) {
    error = String(e.message || e);
  }
  await settle();
  states.forEach((state, i) => {
    if (state === "acked") outcome.acked++;
    else if (state === "retried") outcome.retried++;
    // workerd acknowledges the messages of a batch whose handler returned without error.
    else if (error === null) outcome.acked++;
    if (state === "retried" || (state === "pending" && error !== null)) {
      queued.push(taken[i]);
      outcome.requeued++;
    }
  });
  if (error !== null) outcome.error = error;
  return outcome;
}

async function runScheduled(message) {
  const controller = { cron: message.cron || "0 * * * *", scheduledTime: Date.now(), noRetry() {} };
  await callHandler("scheduled", makeCtx(), env, controller);
  await settle();
  return {};
}

async function runMigrate(message) {
  const applied = [];
  for (const [name, statements] of message.migrations) {
    await DB.batch(statements.map((sql) => DB.prepare(sql)));
    applied.push(name);
  }
  return { applied };
}

// A fresh state for the next test, as the CPython suite's per-test env: every row of every
// table (migrations stay applied; foreign keys are checked at the end of the one batch),
// every object in the bucket, every queued message.
async function runReset() {
  const tables = (
    await DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' " +
        "AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
    ).all()
  ).results.map((row) => row.name);
  await DB.batch([
    DB.prepare("PRAGMA defer_foreign_keys = ON"),
    ...tables.map((name) => DB.prepare(`DELETE FROM "${name}"`)),
  ]);
  const { keys } = await runR2Keys({ prefix: "" });
  for (let i = 0; i < keys.length; i += 1000) await BUCKET.delete(keys.slice(i, i + 1000));
  queued.length = 0;
  return { tables: tables.length, objects: keys.length };
}

async function runD1(message) {
  const statement = DB.prepare(message.sql).bind(...(message.params || []));
  return { results: (await statement.all()).results };
}

async function runR2Put(message) {
  const options = message.contentType ? { httpMetadata: { contentType: message.contentType } } : {};
  await BUCKET.put(message.key, new Uint8Array(Buffer.from(message.body, "base64")), options);
  return {};
}

// A message put on the queue from outside the Worker, as Cloudflare queues an R2 event
// notification (`wrangler r2 bucket notification create`).
async function runSend(message) {
  queued.push({ body: message.body, delaySeconds: 0 });
  return {};
}

async function runR2Keys(message) {
  const keys = [];
  let cursor;
  do {
    const listing = await BUCKET.list({ prefix: message.prefix || "", ...(cursor ? { cursor } : {}) });
    for (const obj of listing.objects) keys.push(obj.key);
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor);
  return { keys };
}

const OPS = {
  fetch: runFetch,
  queue: runQueue,
  scheduled: runScheduled,
  migrate: runMigrate,
  d1: runD1,
  reset: runReset,
  r2put: runR2Put,
  r2keys: runR2Keys,
  send: runSend,
  memory: async () => ({}),
};

send({
  ready: true,
  pyodide: pyodide.version,
  timings_ms: { miniflare_and_pyodide: loaded - started, import_entry: imported - loaded },
  memory_before_entry: heapBefore,
  memory: memory(),
});

// One request at a time, in order: the tests are sequential and the answers stay aligned.
const lines = readline.createInterface({ input: process.stdin });
let chain = Promise.resolve();
lines.on("line", (line) => {
  chain = chain.then(async () => {
    const message = JSON.parse(line);
    const begun = Date.now();
    try {
      const result = await OPS[message.op](message);
      send({ id: message.id, ok: true, ...result, ms: Date.now() - begun, memory: memory() });
    } catch (e) {
      send({ id: message.id, ok: false, error: String(e && e.stack ? e.stack : e), memory: memory() });
    }
  });
});
lines.on("close", () => {
  chain.then(async () => {
    await mf.dispose();
    process.exit(0);
  });
});
